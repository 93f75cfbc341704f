"""``SummaryWriter`` with ``torch.utils.tensorboard``'s signatures, over tensorboardX."""

from __future__ import annotations

import datetime
import io
import math
import numbers
import os
import socket
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from fnnet.torch.utils.tensorboard._projector import config_entry, sprite
from fnnet.torch.utils.tensorboard.summary import (
    _array,
    _check_dataformats,
    _check_tag,
    _scalar,
    audio,
    histogram,
    hparams,
    image,
    image_boxes,
    mesh,
    scalar,
    tensor_proto,
    video,
)
from fnnet.train.events import _new_suffix, scalars_summary, tensorboardx

#: what each unsupported method's error suggests instead
_ELSEWHERE = {
    "add_onnx_graph": "fnnet has no ONNX export",
}


def _figure_to_chw(figure: Any, close: bool) -> np.ndarray:
    """The figure drawn by matplotlib's Agg canvas: ``[3, H, W]`` uint8."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas: Any = FigureCanvasAgg(figure)  # matplotlib leaves draw() unannotated
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba(), dtype=np.uint8)
    if close:
        import matplotlib.pyplot as plt

        plt.close(figure)
    return np.moveaxis(rgba[..., :3], 2, 0).copy()


def _cpu_step_stats() -> bytes:
    """PyTorch's graph statistics, ``RunMetadata(step_stats=StepStats(dev_stats=[
    DeviceStepStats(device="/device:CPU:0")]))``, serialized: each message is field 1 of
    the one around it (tensorboardX has no RunMetadata to build it with)."""
    def field_1(payload: bytes) -> bytes:
        return bytes([1 << 3 | 2, len(payload)]) + payload  # tag: field 1, length-delimited

    return field_1(field_1(field_1(b"/device:CPU:0")))


def _encode(tag: str) -> str:
    """``tag`` as a folder name: ``%``, ``/`` and ``\\`` written ``%25``, ``%2f`` and
    ``%5c``, as PyTorch's writer names an embedding's folder."""
    for char in "%/\\":
        tag = tag.replace(char, f"%{ord(char):02x}")
    return tag


def _default_logdir(comment: str) -> str:
    """``runs/<Mon DD_HH-MM-SS>_<host><comment>``, PyTorch's default folder."""
    now = datetime.datetime.now().strftime("%b%d_%H-%M-%S")
    return os.path.join("runs", f"{now}_{socket.gethostname()}{comment}")


def _written_through(file_writer: Any) -> Any:
    """tensorboardX's ``file_writer``, its events handed to the operating system as its
    thread writes each one, where its file is a local one.

    PyTorch's writer (without TensorFlow) appends each event to the file as it is
    written, so a running TensorBoard shows a scalar at once and a killed program loses
    none; tensorboardX's buffered file would hold them until ``flush_secs`` (two
    minutes by default).
    """
    records = file_writer.event_writer._ev_writer._py_recordio_writer
    if isinstance(records._writer, io.BufferedWriter):
        write = records.write

        def write_record(data: bytes) -> None:
            write(data)
            records._writer.flush()

        records.write = write_record
        records._writer.flush()  # the file's first event, written when it was opened
    return file_writer


def _tensorboardx_writer(log_dir: str | os.PathLike[str], **options: Any) -> Any:
    """tensorboardX's ``SummaryWriter`` of ``log_dir``, writing through."""
    writer = tensorboardx().SummaryWriter(str(log_dir), **options)
    _written_through(writer._get_file_writer())
    return writer


def _check_step(global_step: Any) -> int | None:
    """The event's step: an int, or a number (a fractional epoch, ``epoch + i / n``)
    truncated to one, as PyTorch's writer stores ``int(global_step)``."""
    if global_step is None:
        return None
    value = global_step
    if hasattr(value, "__array__") and not isinstance(value, bool):
        array = np.asarray(value)
        if array.size == 1 and (np.issubdtype(array.dtype, np.integer)
                                or np.issubdtype(array.dtype, np.floating)):
            value = array.reshape(()).item()
    if isinstance(value, numbers.Real) and not isinstance(value, bool) \
            and math.isfinite(value):
        return int(value) if isinstance(value, numbers.Integral) else int(float(value))
    raise TypeError(f"global_step must be a number (an int, or a float PyTorch truncates "
                    f"to one) or None, got {global_step!r}")


def _check_walltime(walltime: Any) -> float | None:
    if walltime is None:
        return None
    if isinstance(walltime, numbers.Real) and not isinstance(walltime, bool):
        return float(walltime)
    raise TypeError(f"walltime must be seconds since the epoch (a float) or None, got "
                    f"{walltime!r}")


def _message(message: Any, kind: Any, name: str) -> Any:
    """``message`` as tensorboardX's protobuf ``kind``: TensorBoard's and PyTorch's
    (``tensorboard.compat.proto``, ``tensorboard.plugins.hparams.api``) are the same
    message, of another class."""
    if isinstance(message, kind):
        return message
    if type(message).__name__ != kind.__name__ or not hasattr(message, "SerializeToString"):
        raise TypeError(f"{name} must be a {kind.__name__} protobuf, got "
                        f"{type(message).__name__}")
    return kind.FromString(message.SerializeToString())


class _OpenWriter:
    """What a writer of an open event file does when copied: ``copy.copy`` gives a writer
    to the same file and pickling (``torch.save``, ``copy.deepcopy``) raises, as for
    PyTorch's writers."""

    def __reduce_ex__(self, protocol: Any) -> Any:
        # PyTorch's writer holds a thread lock, which pickle refuses with a TypeError
        # (torch.save or copy.deepcopy of an object holding a writer); tensorboardX's
        # multiprocessing queue would raise a RuntimeError instead
        raise TypeError(f"cannot pickle {type(self).__name__!r} object: it writes through "
                        f"an open event file and a thread (save its log_dir instead)")

    def __copy__(self) -> Any:
        """A shallow copy writing to the same file, as ``copy.copy`` gives PyTorch's."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone


class FileWriter(_OpenWriter):
    """Writes events and ``Summary`` protobufs (``torch.utils.tensorboard.summary``'s,
    TensorBoard's or tensorboardX's) into a new event file in ``log_dir``, as
    ``SummaryWriter.file_writer`` does.

    Args:
        log_dir: the folder (created if needed).
        max_queue: events waiting for the writing thread before a call waits.
        flush_secs: seconds between syncs of the file to disk (each event is in the
            file, for TensorBoard to read, as soon as the thread writes it).
        filename_suffix: appended to the event file's name.

    PyTorch equivalent: ``torch.utils.tensorboard.FileWriter``.
    """

    def __init__(self, log_dir: str | os.PathLike[str], max_queue: int = 10,
                 flush_secs: int = 120, filename_suffix: str = "") -> None:
        if not isinstance(log_dir, str | os.PathLike):
            raise TypeError(f"log_dir must be a path, got {type(log_dir).__name__}")
        if not isinstance(filename_suffix, str):
            raise TypeError(f"filename_suffix must be a str, got "
                            f"{type(filename_suffix).__name__}")
        self._log_dir, self._suffix = str(log_dir), filename_suffix
        # as SummaryWriter's: each event is in the file at once, the sync at most 1/s
        self._options = dict(max_queue=max_queue,
                             flush_secs=flush_secs if flush_secs >= 1 else 1)
        self._closed = True
        self.reopen()

    @classmethod
    def _over(cls, writer: Any) -> FileWriter:
        """The FileWriter writing through tensorboardX's file writer ``writer``."""
        wrapper = cls.__new__(cls)
        wrapper._writer, wrapper._closed = writer, False
        wrapper._log_dir, wrapper._suffix, wrapper._options = writer.get_logdir(), "", {}
        return wrapper

    def get_logdir(self) -> str:
        """The folder of the event file."""
        return str(self._writer.get_logdir())

    def add_event(self, event: Any, step: int | None = None,
                  walltime: float | None = None) -> None:
        """Adds an ``Event`` protobuf, at ``step`` and ``walltime`` where given."""
        from tensorboardX.proto.event_pb2 import Event

        self._writer.add_event(_message(event, Event, "event"), _check_step(step),
                               _check_walltime(walltime))

    def add_summary(self, summary: Any, global_step: int | None = None,
                    walltime: float | None = None) -> None:
        """Adds a ``Summary`` protobuf as one event."""
        from tensorboardX.proto.summary_pb2 import Summary

        self._writer.add_summary(_message(summary, Summary, "summary"),
                                 _check_step(global_step), _check_walltime(walltime))

    def add_graph(self, graph_profile: Any, walltime: float | None = None) -> None:
        """Refused: fnnet.torch draws a model's graph from one call of it."""
        raise NotImplementedError("FileWriter.add_graph is not supported by fnnet.torch: "
                                  "use SummaryWriter.add_graph(model, input_to_model)")

    def add_onnx_graph(self, graph: Any, walltime: float | None = None) -> None:
        """Refused: fnnet has no ONNX export."""
        raise NotImplementedError("FileWriter.add_onnx_graph is not supported by "
                                  "fnnet.torch: fnnet has no ONNX export")

    def flush(self) -> None:
        """Writes the pending events to disk."""
        self._writer.flush()

    def close(self) -> None:
        """Writes the pending events and closes the file."""
        self._writer.close()
        self._closed = True

    def reopen(self) -> None:
        """After :meth:`close`, opens a new event file in the same folder for the next
        events, as PyTorch documents it (PyTorch 2.13's raises AttributeError)."""
        if self._closed:
            self._writer = _written_through(tensorboardx().FileWriter(
                self._log_dir, filename_suffix=_new_suffix(self._log_dir) + self._suffix,
                **self._options))
            self._closed = False


class SummaryWriter(_OpenWriter):
    """Writes TensorBoard event files into ``log_dir``.

    Args:
        log_dir: the run's folder (default, also for ``""``:
            ``runs/<date>_<host><comment>``).
        comment: appended to the default ``log_dir`` (ignored when it is given).
        purge_step: TensorBoard hides the events of this folder's earlier files from
            this step on (for a run restarted from a checkpoint).
        max_queue: events waiting for the writing thread before a call waits.
        flush_secs: seconds between syncs of the file to disk (each event is in the
            file, for TensorBoard to read, as soon as the thread writes it).
        filename_suffix: appended to the event file's name.

    Supported: ``add_scalar``, ``add_scalars``, ``add_tensor``, ``add_histogram``,
    ``add_histogram_raw``, ``add_image``, ``add_images``, ``add_image_with_boxes``,
    ``add_mesh``, ``add_video``, ``add_figure``, ``add_audio``, ``add_text``,
    ``add_hparams``, ``add_graph``, ``add_pr_curve``, ``add_pr_curve_raw``,
    ``add_embedding``, ``add_custom_scalars`` (and its ``_multilinechart`` and
    ``_marginchart``), ``flush``, ``close``, ``get_logdir``, ``file_writer``
    (``_get_file_writer()``), ``all_writers`` and ``with SummaryWriter() as w``.
    ``add_onnx_graph`` raises ``NotImplementedError``: fnnet has no ONNX export.

    PyTorch equivalent: ``torch.utils.tensorboard.SummaryWriter``.
    """

    def __init__(self, log_dir: str | os.PathLike[str] | None = None, comment: str = "",
                 purge_step: int | None = None, max_queue: int = 10, flush_secs: int = 120,
                 filename_suffix: str = "") -> None:
        if log_dir is not None and not isinstance(log_dir, str | os.PathLike):
            raise TypeError(f"log_dir must be a path or None, got {type(log_dir).__name__}")
        if not isinstance(comment, str):
            raise TypeError(f"comment must be a str, got {type(comment).__name__}")
        if not isinstance(filename_suffix, str):
            raise TypeError(f"filename_suffix must be a str, got "
                            f"{type(filename_suffix).__name__}")
        # max_queue=0 is PyTorch's unbounded queue
        if not isinstance(max_queue, int | np.integer) or isinstance(max_queue, bool) \
                or max_queue < 0:
            raise ValueError(f"max_queue must be an int >= 0, got {max_queue!r}")
        if not isinstance(flush_secs, int | float | np.integer) or isinstance(flush_secs, bool):
            raise ValueError(f"flush_secs must be a number, got {flush_secs!r}")
        purge_step = _check_step(purge_step)
        # as given (a Path stays one, as in PyTorch); "" or None: the default folder
        self.log_dir: str | os.PathLike[str] = log_dir or _default_logdir(comment)
        # flush_secs=0 or less ("flush at once", which PyTorch takes, its writing thread
        # then spinning): each event reaches the file as it is written anyway, so the
        # sync waits a second
        self._options: dict[str, Any] = dict(
            max_queue=int(max_queue), flush_secs=flush_secs if flush_secs >= 1 else 1)
        self._suffix = filename_suffix
        self._writer: Any = _tensorboardx_writer(
            self.log_dir, purge_step=purge_step,
            filename_suffix=self._file_suffix(self.log_dir), **self._options)
        self._runs: dict[str, Any] = {}  # add_scalars' folders -> their FileWriters
        self._embeddings: list[str] = []  # add_embedding's projector_config.pbtxt entries
        self._file_writer: FileWriter | None = None  # file_writer's wrapper of _writer's
        # PyTorch's attributes (its purge_step is spent once the first file is open)
        self.purge_step, self.max_queue, self.flush_secs = None, max_queue, flush_secs
        self.filename_suffix = filename_suffix
        self.default_bins: list[float] = self._writer.default_bins

    def get_logdir(self) -> str | os.PathLike[str]:
        """The folder the event files go to, as given (or the default ``runs/...``)."""
        return self.log_dir

    @property
    def file_writer(self) -> FileWriter | None:
        """The :class:`FileWriter` of ``log_dir``'s event file (None once closed, as
        PyTorch's; :meth:`_get_file_writer` opens a new one)."""
        if self._writer is None:
            return None
        underlying = self._writer._get_file_writer()
        if self._file_writer is None or self._file_writer._writer is not underlying:
            self._file_writer = FileWriter._over(underlying)  # one object, as PyTorch's
        return self._file_writer

    @property
    def all_writers(self) -> dict[str, FileWriter] | None:
        """Each folder's :class:`FileWriter`: ``log_dir``'s and those of the runs that
        :meth:`add_scalars` writes (None once closed, as PyTorch's)."""
        if self.file_writer is None:
            return None
        return {str(self.log_dir): self.file_writer, **self._runs}

    def _get_file_writer(self) -> FileWriter:
        """The :class:`FileWriter` of ``log_dir``, opening a new event file after
        :meth:`close`, as PyTorch's."""
        self._open()
        return self.file_writer  # type: ignore[return-value]  # open now

    def _file_suffix(self, folder: str | os.PathLike[str]) -> str:
        """The end of a new event file's name in ``folder``: tensorboardX names a file by
        the second it opened, so a second writer of that second (a writer reopened after
        ``close``, a sweep's next run) would overwrite the first's file; PyTorch's names
        hold a counter, these a sequence number (see ``fnnet.train.events``)."""
        return _new_suffix(folder) + self._suffix

    def _open(self) -> Any:
        """The tensorboardX writer; after :meth:`close`, a new one writing a new event
        file into the same folder, as PyTorch's writer reopens."""
        if self._writer is None:
            self._writer = _tensorboardx_writer(
                self.log_dir, filename_suffix=self._file_suffix(self.log_dir), **self._options)
        return self._writer

    def _write(self, summary: Any, global_step: Any, walltime: Any,
               tag: str | None = None) -> None:
        """Writes ``summary`` (a ``Summary`` protobuf) as one event, under ``tag`` as
        given: PyTorch's writer keeps a tag's spaces and leading slashes, which
        tensorboardX's summary functions turn into underscores."""
        step, walltime = _check_step(global_step), _check_walltime(walltime)
        if tag is not None:
            for value in summary.value:
                value.tag = tag
        self._open()._get_file_writer().add_summary(summary, step, walltime)

    def add_scalar(self, tag: str, scalar_value: Any, global_step: int | None = None,
                   walltime: float | None = None, new_style: bool = False,
                   double_precision: bool = False) -> None:
        """Adds one value of the curve ``tag`` at ``global_step``.

        ``new_style=True`` writes the value as a tensor (float32, or float64 with
        ``double_precision=True``) instead of a float32 ``simple_value``, as PyTorch's
        writer; TensorBoard shows either the same.

        Raises:
            NotImplementedError: ``scalar_value`` is neither a number nor a tensor.
            AssertionError: a tensor of more than one element.
            ValueError: a string.
        """
        _check_tag(tag)
        self._write(scalar(tag, scalar_value, new_style=new_style,
                           double_precision=double_precision), global_step, walltime)

    def add_tensor(self, tag: str, tensor: Any, global_step: int | None = None,
                   walltime: float | None = None) -> None:
        """Adds ``tensor`` whole, its values and shape, for TensorBoard's ``tensor``
        plugin (read back with ``EventAccumulator.Tensors(tag)``).

        PyTorch equivalent: ``SummaryWriter.add_tensor``.
        """
        _check_tag(tag)
        self._write(tensor_proto(tag, tensor), global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: Mapping[str, Any],
                    global_step: int | None = None, walltime: float | None = None) -> None:
        """Adds several curves drawn in one chart: each key of ``tag_scalar_dict`` becomes
        a run ``<log_dir>/<main_tag>_<key>`` holding the curve ``main_tag``."""
        _check_tag(main_tag, "main_tag")
        if not isinstance(tag_scalar_dict, Mapping):
            raise TypeError(f"tag_scalar_dict must be a dict of name -> value, got "
                            f"{type(tag_scalar_dict).__name__}")
        values = {_check_tag(key, "tag_scalar_dict key"): _scalar(value)
                  for key, value in tag_scalar_dict.items()}
        step, walltime = _check_step(global_step), _check_walltime(walltime)
        self._open()
        for key, value in values.items():
            # PyTorch's folder for each curve: "<log_dir>/<main_tag>_<key>", "/" -> "_"
            folder = os.path.join(self.log_dir, f"{main_tag.replace('/', '_')}_{key}")
            if folder not in self._runs:
                self._runs[folder] = FileWriter(folder, filename_suffix=self._suffix,
                                                **self._options)
            self._runs[folder].add_summary(scalars_summary({main_tag: value}), step, walltime)

    def add_histogram(self, tag: str, values: Any, global_step: int | None = None,
                      bins: str | int = "tensorflow", walltime: float | None = None,
                      max_bins: int | None = None) -> None:
        """Adds a histogram of ``values`` (any shape, flattened).

        ``bins`` is ``"tensorflow"`` (TensorBoard's own bucketing) or anything
        ``numpy.histogram`` accepts (``"auto"``, an int). NaN and inf values (a run that
        diverged) are counted in ``num`` and ``min``/``max``/``sum`` but in no bucket, as
        PyTorch's writer does.
        """
        _check_tag(tag)
        # "tensorflow": TensorBoard's exponential bucket limits
        edges = self.default_bins if isinstance(bins, str) and bins == "tensorflow" else bins
        self._write(histogram(tag, values, edges, max_bins), global_step, walltime)

    def add_image(self, tag: str, img_tensor: Any, global_step: int | None = None,
                  walltime: float | None = None, dataformats: str = "CHW") -> None:
        """Adds an image: ``img_tensor`` is ``[C, H, W]`` by default (``dataformats``
        names the axes: ``"HWC"``, ``"HW"``...), float in ``[0, 1]`` or uint8; C is 1, 3
        or 4. Floats outside ``[0, 1]`` are clipped, as PyTorch's writer clips them."""
        _check_tag(tag)
        array = _array(img_tensor, "img_tensor")
        self._write(image(tag, array, dataformats=dataformats), global_step, walltime)

    def add_images(self, tag: str, img_tensor: Any, global_step: int | None = None,
                   walltime: float | None = None, dataformats: str = "NCHW") -> None:
        """Adds a batch of images shown as one grid: ``img_tensor`` is ``[N, C, H, W]`` by
        default (``dataformats`` names the axes: ``"NHWC"``...), float in ``[0, 1]`` or
        uint8; C is 1, 3 or 4."""
        _check_tag(tag)
        array = _array(img_tensor, "img_tensor")
        dataformats = _check_dataformats(array, dataformats)
        if "N" not in dataformats:
            raise ValueError(f"dataformats={dataformats!r} names no batch axis N (a batch: "
                             f"'NCHW', 'NHWC'...)")
        if array.shape[dataformats.index("N")] == 0:
            raise ValueError("img_tensor must hold at least one image")
        self._write(image(tag, array, dataformats=dataformats), global_step, walltime)

    def add_image_with_boxes(self, tag: str, img_tensor: Any, box_tensor: Any,
                             global_step: int | None = None, walltime: float | None = None,
                             rescale: float = 1, dataformats: str = "CHW",
                             labels: list[str] | str | None = None) -> None:
        """Adds an image (as :meth:`add_image`) with ``box_tensor``'s ``[N, 4]`` boxes
        ``(xmin, ymin, xmax, ymax)`` drawn on it in red, each with its ``labels`` text
        (left out where there are not as many labels as boxes, as PyTorch's).

        PyTorch equivalent: ``SummaryWriter.add_image_with_boxes``.
        """
        _check_tag(tag)
        array = _array(img_tensor, "img_tensor")
        boxes = _array(box_tensor, "box_tensor")
        if isinstance(labels, str):
            labels = [labels]
        if labels is not None and len(labels) != len(boxes):
            labels = None
        self._write(image_boxes(tag, array, boxes, rescale=rescale, dataformats=dataformats,
                                labels=labels), global_step, walltime)

    def add_video(self, tag: str, vid_tensor: Any, global_step: int | None = None,
                  fps: float = 4, walltime: float | None = None) -> None:
        """Adds a video: ``vid_tensor [N, T, C, H, W]`` (floats in ``[0, 1]`` or uint8),
        the N clips tiled into one GIF played at ``fps``, encoded by moviepy's ``editor``
        as PyTorch's writer encodes it; without moviepy (or with moviepy 2, which has no
        ``editor``) it prints PyTorch's line and writes an empty value, as PyTorch's.

        PyTorch equivalent: ``SummaryWriter.add_video``.
        """
        _check_tag(tag)
        self._write(video(tag, vid_tensor, fps), global_step, walltime)

    def add_mesh(self, tag: str, vertices: Any, colors: Any = None, faces: Any = None,
                 config_dict: Any = None, global_step: int | None = None,
                 walltime: float | None = None) -> None:
        """Adds a mesh or point cloud for TensorBoard's MESH tab: ``vertices [B, N, 3]``,
        with ``colors [B, N, 3]`` (0-255) and triangle ``faces [B, F, 3]`` (vertex
        indices) where given, and three.js settings in ``config_dict``.

        PyTorch equivalent: ``SummaryWriter.add_mesh``.
        """
        _check_tag(tag)
        self._write(mesh(tag, vertices, colors, faces, config_dict), global_step, walltime)

    def add_pr_curve(self, tag: str, labels: Any, predictions: Any,
                     global_step: int | None = None, num_thresholds: int = 127,
                     weights: Any = None, walltime: float | None = None) -> None:
        """Adds a precision-recall curve of ``predictions`` (probabilities in ``[0, 1]``)
        against the 0/1 ``labels``, over ``num_thresholds`` thresholds (TensorBoard's PR
        curve plugin). A prediction outside ``[0, 1]`` falls in no threshold's bucket, as
        in PyTorch's writer.

        PyTorch equivalent: ``SummaryWriter.add_pr_curve``.
        """
        _check_tag(tag)
        truth = _array(labels, "labels")
        scores = _array(predictions, "predictions").astype(np.float64)
        if truth.shape != scores.shape:  # the words of numpy's histogram in PyTorch's
            raise ValueError("weights should have the same shape as a.")
        truth, scores = truth.reshape(-1), scores.reshape(-1)
        if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, int) or \
                num_thresholds < 2:
            raise ValueError(f"num_thresholds must be an int >= 2, got {num_thresholds!r}")
        weight = None if weights is None else _array(weights, "weights").reshape(-1)
        self._open().add_pr_curve(tag, truth, scores, global_step=_check_step(global_step),
                                  num_thresholds=num_thresholds, weights=weight,
                                  walltime=_check_walltime(walltime))

    def add_embedding(self, mat: Any, metadata: Any = None, label_img: Any = None,
                      global_step: int | None = None, tag: str = "default",
                      metadata_header: Any = None) -> None:
        """Adds ``mat [N, D]`` for TensorBoard's projector, with one ``metadata`` entry
        (a label, or a row of ``metadata_header`` columns) and one ``label_img [N, C, H,
        W]`` thumbnail per row: the files PyTorch's writer writes
        (``<step>/<tag>/tensors.tsv``, ``metadata.tsv``, ``sprite.png``).

        PyTorch equivalent: ``SummaryWriter.add_embedding``.
        """
        _check_tag(tag)
        vectors = _array(mat, "mat")
        if vectors.ndim >= 1 and vectors.shape[0] == 0:
            raise ValueError("mat must hold at least one row (a data point)")
        images = None if label_img is None else _array(label_img, "label_img")
        if images is not None and images.ndim != 4:
            raise ValueError(f"label_img must be [N, C, H, W], got shape {images.shape}")
        step = _check_step(global_step) or 0
        self._open()  # an event file, by which TensorBoard finds the run, as PyTorch's
        from tensorboardX import embedding
        subdir = f"{step:05d}/{_encode(tag)}"
        folder = os.path.join(self.log_dir, subdir)
        # PyTorch's checks, warning and files, in its order
        if os.path.isdir(folder):
            print("warning: Embedding dir exists, did you set global_step for "
                  "add_embedding()?")
        elif os.path.exists(folder):
            raise NotADirectoryError(f"Path: `{folder}` exists, but is a file. Cannot proceed.")
        else:
            os.makedirs(folder)
        if metadata is not None:
            if len(metadata) != vectors.shape[0]:
                raise AssertionError("#labels should equal with #data points")
            embedding.make_tsv(metadata, folder, metadata_header=metadata_header)
        if images is not None:
            if images.shape[0] != vectors.shape[0]:
                raise AssertionError("#images should equal with #data points")
            sprite(images).save(os.path.join(folder, "sprite.png"))
        if vectors.ndim != 2:
            raise AssertionError("mat should be 2D, where mat.size(0) is the number of data "
                                 "points")
        embedding.make_mat(vectors, folder)
        # the writer's embeddings, all of them: PyTorch writes the file anew each time
        self._embeddings.append(config_entry(
            tag, step, subdir, metadata is not None,
            None if images is None else (images.shape[3], images.shape[2])))
        with open(os.path.join(self.log_dir, "projector_config.pbtxt"), "w",
                  encoding="utf-8") as config:
            config.write("".join(self._embeddings))

    def add_figure(self, tag: str, figure: Any, global_step: int | None = None,
                   close: bool = True, walltime: float | None = None) -> None:
        """Adds a matplotlib figure rendered to an RGB image (a list of figures: one grid,
        as :meth:`add_images`); ``close`` closes the figures afterwards, as PyTorch's.

        PyTorch equivalent: ``SummaryWriter.add_figure``.
        """
        _check_tag(tag)
        figures = figure if isinstance(figure, list) else [figure]
        if not figures or not all(hasattr(f, "canvas") and hasattr(f, "get_size_inches")
                                  for f in figures):
            raise TypeError(f"figure must be a matplotlib Figure or a non-empty list of "
                            f"them, got {type(figure).__name__}")
        images = [_figure_to_chw(f, close) for f in figures]
        if isinstance(figure, list):
            self.add_images(tag, np.stack(images), global_step, walltime, dataformats="NCHW")
        else:
            self.add_image(tag, images[0], global_step, walltime, dataformats="CHW")

    def add_graph(self, model: Any, input_to_model: Any = None, verbose: bool = False,
                  use_strict_trace: bool = True) -> None:
        """Adds the graph of one call ``model(input_to_model)`` for TensorBoard's GRAPHS
        tab: a node per recorded operation (named after its ``grad_fn``, without
        ``Backward``), grouped by the modules that called it as PyTorch groups them
        (``Net/Linear[fc1]``), with a node per input, output and parameter.

        The model runs once, as PyTorch's tracer runs it (a BatchNorm in training mode
        updates its statistics).

        Args:
            model: a fnnet.torch ``nn.Module``.
            input_to_model: a tensor, or a tuple or list of the positional arguments.
            verbose: print the graph's nodes.
            use_strict_trace: refuse a model returning a dict, as PyTorch's tracer.

        Raises:
            RuntimeError: no ``input_to_model``, a dict returned under
                ``use_strict_trace``, or the model's own RuntimeError: printed with
                "Error occurs, No graph saved" before it is raised, as PyTorch's writer
                prints its tracer's errors (PyTorch's messages).

        PyTorch equivalent: ``SummaryWriter.add_graph``.
        """
        from fnnet.torch.nn.modules.module import Module
        from fnnet.torch.utils.tensorboard._model_graph import model_graph

        if not isinstance(model, Module):
            raise TypeError(f"model must be a fnnet.torch nn.Module, got "
                            f"{type(model).__name__}")
        inputs = tuple(input_to_model) if isinstance(input_to_model, tuple | list) \
            else (input_to_model,)
        try:
            if input_to_model is None:  # PyTorch's tracer's words for no input
                raise RuntimeError("example_kwarg_inputs should be a dict")
            graph = model_graph(model, inputs, strict=use_strict_trace)
        except RuntimeError as error:
            print(error)
            print("Error occurs, No graph saved")
            raise
        if verbose:
            for node in graph.node:
                print(f"{node.name} = {node.op}({', '.join(node.input)})")
        from tensorboardX.proto.event_pb2 import Event, TaggedRunMetadata

        writer = self._open()._get_file_writer()
        writer.add_event(Event(graph_def=graph.SerializeToString()), None, None)
        # PyTorch's writer follows the graph with its step statistics: one device, the CPU
        writer.add_event(Event(tagged_run_metadata=TaggedRunMetadata(
            tag="step1", run_metadata=_cpu_step_stats())), None, None)

    def add_hparams(self, hparam_dict: dict[str, Any], metric_dict: dict[str, Any],
                    hparam_domain_discrete: dict[str, list[Any]] | None = None,
                    run_name: str | None = None, global_step: int | None = None) -> None:
        """Adds one run to TensorBoard's HPARAMS table: its hyperparameters and the
        final metrics, written (as PyTorch does) into the sub-folder ``run_name``
        (default: the current time) with each metric also as a scalar.

        Args:
            hparam_dict: name -> value (bool, str, int, float or a one-element tensor);
                a bool is stored as 0 or 1, as PyTorch's writer stores it.
            metric_dict: name -> value (a number or a one-element tensor); use names
                that ``add_scalar`` does not also log.
            hparam_domain_discrete: name -> the values TensorBoard offers to filter
                that hyperparameter by (a list of values of its type).
            run_name: the sub-folder of ``log_dir``.
            global_step: the step of the metrics.
        """
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("hparam_dict and metric_dict should be dictionary.")
        summaries = hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        metrics = {name: _scalar(value) for name, value in metric_dict.items()}
        if run_name is not None and not isinstance(run_name, str):
            raise TypeError(f"run_name must be a str, got {type(run_name).__name__}")
        step = _check_step(global_step)
        folder = os.path.join(self.log_dir, run_name or str(time.time()))
        self._open()
        # the run's file is named without filename_suffix, as PyTorch's
        run = FileWriter(folder, **self._options)
        for summary in summaries:
            run.add_summary(summary, step)
        for name, value in metrics.items():
            run.add_summary(scalars_summary({name: value}), step)
        run.close()

    def add_histogram_raw(self, tag: str, min: float, max: float, num: int, sum: float,  # noqa: A002
                          sum_squares: float, bucket_limits: Any, bucket_counts: Any,
                          global_step: int | None = None, walltime: float | None = None
                          ) -> None:
        """Adds a histogram already counted: ``bucket_counts[i]`` values up to
        ``bucket_limits[i]``, with the values' ``min``, ``max``, count ``num``, ``sum``
        and ``sum_squares``.

        Raises:
            ValueError: as many limits as counts are not given (PyTorch's error).

        PyTorch equivalent: ``SummaryWriter.add_histogram_raw``.
        """
        _check_tag(tag)
        limits, counts = _array(bucket_limits, "bucket_limits"), _array(bucket_counts,
                                                                        "bucket_counts")
        if len(limits) != len(counts):
            raise ValueError("len(bucket_limits) != len(bucket_counts), see the document.")
        summary = tensorboardx().summary.histogram_raw(tag, min, max, num, sum, sum_squares,
                                                       limits, counts)
        self._write(summary, global_step, walltime, tag)

    def add_pr_curve_raw(self, tag: str, true_positive_counts: Any, false_positive_counts: Any,
                         true_negative_counts: Any, false_negative_counts: Any,
                         precision: Any, recall: Any, global_step: int | None = None,
                         num_thresholds: int = 127, weights: Any = None,
                         walltime: float | None = None) -> None:
        """Adds a precision-recall curve already counted: one value per threshold in
        each of the six arrays.

        PyTorch equivalent: ``SummaryWriter.add_pr_curve_raw``.
        """
        _check_tag(tag)
        arrays = [_array(a, name) for a, name in (
            (true_positive_counts, "true_positive_counts"),
            (false_positive_counts, "false_positive_counts"),
            (true_negative_counts, "true_negative_counts"),
            (false_negative_counts, "false_negative_counts"),
            (precision, "precision"), (recall, "recall"))]
        summary = tensorboardx().summary.pr_curve_raw(tag, *arrays, num_thresholds, weights)
        self._write(summary, global_step, walltime, tag)

    def add_custom_scalars(self, layout: dict[str, dict[str, list[Any]]]) -> None:
        """Lays out TensorBoard's CUSTOM SCALARS tab: ``{category: {chart: ["Multiline",
        [tags]] or ["Margin", [value, lower, upper]]}}``.

        PyTorch equivalent: ``SummaryWriter.add_custom_scalars``.
        """
        self._open().add_custom_scalars(layout)

    def add_custom_scalars_multilinechart(self, tags: list[str], category: str = "default",
                                          title: str = "untitled") -> None:
        """A CUSTOM SCALARS chart ``title`` in ``category`` drawing the curves ``tags``.

        PyTorch equivalent: ``SummaryWriter.add_custom_scalars_multilinechart``.
        """
        self._open().add_custom_scalars_multilinechart(tags, category, title)

    def add_custom_scalars_marginchart(self, tags: list[str], category: str = "default",
                                       title: str = "untitled") -> None:
        """A CUSTOM SCALARS chart ``title`` in ``category`` drawing the curve ``tags[0]``
        between ``tags[1]`` and ``tags[2]``.

        PyTorch equivalent: ``SummaryWriter.add_custom_scalars_marginchart``.
        """
        self._open().add_custom_scalars_marginchart(tags, category, title)

    def add_audio(self, tag: str, snd_tensor: Any, global_step: int | None = None,
                  sample_rate: int = 44100, walltime: float | None = None) -> None:
        """Adds a mono clip: ``snd_tensor`` holds amplitudes in ``[-1, 1]`` (``[L]`` or
        ``[1, L]``), played at ``sample_rate`` Hz in TensorBoard's AUDIO tab.

        PyTorch equivalent: ``SummaryWriter.add_audio``.
        """
        _check_tag(tag)
        samples = _array(snd_tensor, "snd_tensor")  # in its dtype, as PyTorch scales it
        self._write(audio(tag, samples, sample_rate), global_step, walltime, tag)

    def add_text(self, tag: str, text_string: str, global_step: int | None = None,
                 walltime: float | None = None) -> None:
        """Adds a text (Markdown) entry."""
        _check_tag(tag)
        if not isinstance(text_string, str):
            raise TypeError(f"text_string must be a str, got {type(text_string).__name__}")
        self._open().add_text(tag, text_string, global_step=_check_step(global_step),
                              walltime=_check_walltime(walltime))

    def flush(self) -> None:
        """Writes the pending events to disk."""
        if self._writer is not None:
            self._writer.flush()
            for writer in self._runs.values():
                writer.flush()

    def close(self) -> None:
        """Writes the pending events and closes the files (closing twice is allowed;
        logging afterwards opens new files, as in PyTorch)."""
        if self._writer is not None:
            self._writer.close()
            for writer in self._runs.values():
                writer.close()
            self._writer, self._runs = None, {}

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        if name in _ELSEWHERE:
            def unsupported(*args: Any, **kwargs: Any) -> None:
                raise NotImplementedError(f"SummaryWriter.{name} is not supported by "
                                          f"fnnet.torch: {_ELSEWHERE[name]}")

            return unsupported
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
