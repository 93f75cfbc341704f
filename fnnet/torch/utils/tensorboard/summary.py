"""``torch.utils.tensorboard.summary``: the ``Summary`` protobufs ``SummaryWriter`` writes,
built apart from a writer.

A script hands them to a writer's file writer itself, most often to log a run's
hyperparameters into that run's own folder (``add_hparams`` writes a sub-folder)::

    exp, ssi, sei = hparams({"lr": 0.1}, {"hparam/accuracy": 0})
    for summary in (exp, ssi, sei):
        writer.file_writer.add_summary(summary)

The protobufs are tensorboardX's, which TensorBoard reads as its own.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from fnnet.torch.utils.tensorboard._audio import audio_summary
from fnnet.torch.utils.tensorboard._hparams import check_domains, with_domains
from fnnet.train.events import scalars_summary, tensorboardx

__all__ = ["audio", "histogram", "hparams", "image", "image_boxes", "mesh", "scalar",
           "tensor_proto", "text", "video"]

#: the other functions of PyTorch's module -> the writer's method writing that summary
_WRITER_METHOD = {"histogram_raw": "add_histogram_raw", "make_histogram": "add_histogram",
                  "draw_boxes": "add_image_with_boxes", "make_image": "add_image",
                  "make_video": "add_video", "custom_scalars": "add_custom_scalars",
                  "pr_curve_raw": "add_pr_curve_raw", "pr_curve": "add_pr_curve",
                  "compute_curve": "add_pr_curve"}

#: a tensor's dtype -> the TensorProto dtype and value field PyTorch's ``tensor_proto``
#: writes it as (uint8 in ``int_val``, which TensorBoard reads: PyTorch's ``uint32_val``
#: is no field of tensorboardX's TensorProto)
_TENSOR_FIELDS = {
    "float16": ("DT_HALF", "half_val"), "bfloat16": ("DT_BFLOAT16", "half_val"),
    "float32": ("DT_FLOAT", "float_val"), "float64": ("DT_DOUBLE", "double_val"),
    "int8": ("DT_INT8", "int_val"), "uint8": ("DT_UINT8", "int_val"),
    "int16": ("DT_INT16", "int_val"), "int32": ("DT_INT32", "int_val"),
    "int64": ("DT_INT64", "int64_val"), "bool": ("DT_BOOL", "bool_val")}


def _neither_array_nor_tensor(value: Any) -> NotImplementedError:
    """PyTorch's error for a value that is no array, tensor or number (None: a
    ``param.grad`` logged before the first backward pass)."""
    return NotImplementedError(f"Got {type(value)}, but numpy array or torch tensor are "
                               f"expected.")


def _array(value: Any, name: str) -> np.ndarray:
    """``value`` (a tensor, array, list or number) as a numpy array; a bfloat16 one (which
    numpy counts as no number) as float32.

    Raises:
        NotImplementedError: None (PyTorch's error).
        TypeError: a string, or what holds no numbers.
    """
    if value is None:
        raise _neither_array_nor_tensor(value)
    if isinstance(value, str | bytes):
        raise TypeError(f"{name} must be a tensor, an array or a number, got "
                        f"{type(value).__name__}")
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be a tensor, an array or a number, got "
                        f"{type(value).__name__}") from error
    if array.dtype.name == "bfloat16":
        array = array.astype(np.float32)
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise TypeError(f"{name} must hold numbers, got an array of {array.dtype}")
    return array
def _pixels(array: np.ndarray) -> np.ndarray:
    """An image's values as uint8: floats scaled by 255 and clipped to [0, 255], as
    PyTorch's writer does (tensorboardX's cast wraps a normalized image's negative
    values around to bright pixels)."""
    if array.dtype == np.uint8:
        return array
    return (array.astype(np.float32) * 255).clip(0, 255).astype(np.uint8)


def _scalar(value: Any) -> float:
    """A Python float from a number or a one-element tensor, refused with PyTorch's
    errors: ``NotImplementedError`` for what is neither a number nor an array (None, a
    list), ``AssertionError`` for more than one element, ``ValueError`` for a string."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, np.ndarray):
        array = value
    elif np.isscalar(value):
        array = np.array([value])
    elif hasattr(value, "__array__") and hasattr(value, "shape"):  # a tensor
        array = np.asarray(value)
    else:
        raise _neither_array_nor_tensor(value)
    array = array.squeeze()
    if array.ndim != 0:
        raise AssertionError(f"Tensor should contain one element (0 dimensions). "
                             f"            Was given size: {array.size} and {array.ndim} "
                             f"dimensions.")
    return float(array)


def _check_dataformats(array: np.ndarray, dataformats: Any) -> str:
    """``dataformats`` upper-cased, once it names each axis of ``array`` once (PyTorch's
    errors otherwise)."""
    if not isinstance(dataformats, str):
        raise TypeError(f"dataformats must be a str such as 'CHW', got {dataformats!r}")
    if len(set(dataformats)) != len(dataformats):
        raise AssertionError(f"You can not use the same dimension shorthand twice. "
                             f"            input_format: {dataformats}")
    if array.ndim != len(dataformats):
        raise AssertionError(f"size of input tensor and input format are different. "
                             f"        tensor shape: {array.shape}, input_format: "
                             f"{dataformats}")
    return dataformats.upper()


def _check_tag(tag: Any, name: str = "tag") -> str:
    if not isinstance(tag, str) or not tag:
        raise TypeError(f"{name} must be a non-empty str, got {tag!r}")
    return tag


def _tensor_scalar(tag: str, value: float, double_precision: bool) -> Any:
    """PyTorch's ``new_style`` scalar: a one-value tensor for the scalars plugin."""
    from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboardX.proto.tensor_pb2 import TensorProto

    tensor = TensorProto(double_val=[value], dtype="DT_DOUBLE") if double_precision else \
        TensorProto(float_val=[value], dtype="DT_FLOAT")
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
    return Summary(value=[Summary.Value(tag=tag, tensor=tensor, metadata=metadata)])



def _tagged(summary: Any, tag: str) -> Any:
    """``summary`` with each value under ``tag`` as given: PyTorch's summaries keep a
    tag's spaces and leading slashes, which tensorboardX's turn into underscores."""
    for value in summary.value:
        value.tag = tag
    return summary


def scalar(name: str, tensor: Any, collections: Any = None, new_style: bool = False,
           double_precision: bool = False) -> Any:
    """A ``Summary`` of one value of the curve ``name``: a float32 ``simple_value``, or
    with ``new_style=True`` a one-value tensor (float64 with ``double_precision``).

    Raises:
        NotImplementedError: ``tensor`` is neither a number nor a tensor (PyTorch's
            error).
        AssertionError: a tensor of more than one element.

    PyTorch equivalent: ``torch.utils.tensorboard.summary.scalar``.
    """
    del collections  # TensorFlow's graph collections: no graph here
    _check_tag(name, "name")
    value = _scalar(tensor)
    return _tensor_scalar(name, value, double_precision) if new_style else \
        scalars_summary({name: value})


def tensor_proto(tag: str, tensor: Any) -> Any:
    """A ``Summary`` holding ``tensor`` whole (TensorBoard's ``tensor`` plugin), its
    values in the TensorProto field PyTorch writes for its dtype.

    Raises:
        TypeError: ``tensor`` is no fnnet.torch tensor.
        ValueError: a dtype PyTorch's writer does not write, or 2 GiB or more.

    PyTorch equivalent: ``torch.utils.tensorboard.summary.tensor_proto``.
    """
    from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboardX.proto.tensor_pb2 import TensorProto
    from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto

    from fnnet.torch.tensor import Tensor

    if not isinstance(tensor, Tensor):
        raise TypeError(f"tensor must be a tensor, got {type(tensor).__name__}")
    if tensor.numel() * tensor.element_size() >= 1 << 31:
        raise ValueError("tensor is bigger than protocol buffer's hard limit of 2GB in size")
    dtype = str(tensor.dtype).removeprefix("torch.")
    if dtype not in _TENSOR_FIELDS:
        raise ValueError(f"{tag} has unsupported tensor dtype {tensor.dtype}")
    kind, field = _TENSOR_FIELDS[dtype]
    array = np.asarray(tensor).reshape(-1)
    # PyTorch writes a half value as the bits of the same value in float32
    values = array.astype(np.float32).view(np.int32) if field == "half_val" else array
    proto = TensorProto(dtype=kind, tensor_shape=TensorShapeProto(
        dim=[TensorShapeProto.Dim(size=n) for n in tensor.shape]), **{field: values.tolist()})
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="tensor"))
    return Summary(value=[Summary.Value(tag=tag, metadata=metadata, tensor=proto)])


def histogram(name: str, values: Any, bins: Any, max_bins: int | None = None) -> Any:
    """A ``Summary`` of the histogram of ``values`` (any shape, flattened) in ``bins``
    (anything ``numpy.histogram`` accepts); NaN and inf values are counted in ``num``,
    ``min``, ``max`` and ``sum`` but in no bucket, as PyTorch's.

    Raises:
        ValueError: no values, or none of them finite.

    PyTorch equivalent: ``torch.utils.tensorboard.summary.histogram``.
    """
    array = _array(values, "values").astype(np.float64).reshape(-1)
    if array.size == 0:  # PyTorch's words, here and below
        raise ValueError("The input has no element.")
    if not np.isfinite(array).any():  # only NaN or inf: no bucket holds a value
        raise ValueError("The histogram is empty, please file a bug report.")
    return _tagged(tensorboardx().summary.histogram(name, array, bins, max_bins=max_bins),
                   name)


def image(tag: str, tensor: Any, rescale: float = 1, dataformats: str = "NCHW") -> Any:
    """A ``Summary`` of an image (or, with an ``N`` axis, a batch shown as one grid):
    ``dataformats`` names the axes; floats in ``[0, 1]`` (clipped, as PyTorch clips
    them) or uint8; C is 1, 3 or 4; ``rescale`` scales its size.

    PyTorch equivalent: ``torch.utils.tensorboard.summary.image``.
    """
    array = _array(tensor, "tensor")
    dataformats = _check_dataformats(array, dataformats)
    if "N" in dataformats and "C" in dataformats and \
            array.shape[dataformats.index("C")] not in (1, 3):  # a grid of RGB images
        raise AssertionError("Input should be a 4D numpy array with 3 channels")
    return _tagged(tensorboardx().summary.image(tag, _pixels(array), rescale=rescale,
                                                dataformats=dataformats), tag)


def image_boxes(tag: str, tensor_image: Any, tensor_boxes: Any, rescale: float = 1,
                dataformats: str = "CHW", labels: list[str] | None = None) -> Any:
    """A ``Summary`` of an image with boxes drawn on it in red, as PyTorch draws them.

    Args:
        tag: the image's tag.
        tensor_image: the image (``dataformats`` names its axes), float in ``[0, 1]``
            (clipped) or uint8.
        tensor_boxes: ``[N, 4]`` boxes, each ``(xmin, ymin, xmax, ymax)`` in pixels.
        rescale: scales the image's size.
        dataformats: its axes (``"CHW"``, ``"HWC"``...).
        labels: one text per box, written at its bottom left.

    Raises:
        ValueError: boxes that are not ``[N, 4]``.

    PyTorch equivalent: ``torch.utils.tensorboard.summary.image_boxes``.
    """
    array = _array(tensor_image, "tensor_image")
    dataformats = _check_dataformats(array, dataformats)
    boxes = _array(tensor_boxes, "tensor_boxes")
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"tensor_boxes must be [N, 4] boxes (xmin, ymin, xmax, ymax), got "
                         f"shape {boxes.shape}")
    return _tagged(tensorboardx().summary.image_boxes(
        tag, _pixels(array), boxes, rescale=rescale, dataformats=dataformats, labels=labels),
        tag)


#: a mesh's parts, by TensorBoard's MeshPluginData.ContentType
_MESH_PARTS = {1: "VERTEX", 2: "FACE", 3: "COLOR"}


def mesh(tag: str, vertices: Any, colors: Any, faces: Any, config_dict: Any,
         display_name: str | None = None, description: str | None = None) -> Any:
    """A ``Summary`` of a mesh or point cloud for TensorBoard's MESH tab: one value a
    part given, ``<tag>_VERTEX``, ``<tag>_FACE`` and ``<tag>_COLOR``, as PyTorch's.

    Args:
        tag: the mesh's name.
        vertices: ``[B, N, 3]`` coordinates.
        colors: ``[B, N, 3]`` colours (0-255) of the vertices, or None.
        faces: ``[B, F, 3]`` vertex indices of each triangle, or None.
        config_dict: three.js classes and their settings (a camera, lights...), or None.
        display_name: the name TensorBoard shows.
        description: a Markdown description.

    Raises:
        ValueError: a part that is not ``[B, N, 3]``.

    PyTorch equivalent: ``torch.utils.tensorboard.summary.mesh``.
    """
    parts = {"vertices": vertices, "faces": faces, "colors": colors}
    arrays = {name: _array(value, name).astype(np.float32)
              for name, value in parts.items() if value is not None}
    for name, array in arrays.items():
        if array.ndim != 3 or array.shape[-1] != 3:
            raise ValueError(f"{name} must be [B, N, 3], got shape {array.shape}")
    summary = tensorboardx().summary.mesh(
        tag, arrays["vertices"], arrays.get("colors"), arrays.get("faces"),
        {} if config_dict is None else config_dict)  # PyTorch's "{}" for no settings
    from tensorboardX.proto.plugin_mesh_pb2 import MeshPluginData

    for value in summary.value:
        data = value.metadata.plugin_data
        part = MeshPluginData.FromString(data.content).content_type
        value.tag = f"{tag}_{_MESH_PARTS[part]}"
        # PyTorch's field 7, the parts present (bits 1 to 3), which tensorboardX's lacks
        components = sum(1 << p for p, name in ((1, "vertices"), (2, "faces"), (3, "colors"))
                         if name in arrays)
        data.content += bytes([7 << 3, components])
        value.metadata.display_name = display_name or ""
        value.metadata.summary_description = description or ""
    return summary


def _gif(frames: np.ndarray, fps: float) -> Any:
    """``frames [T, H, W, C]`` (uint8) as a GIF ``Summary.Image`` through moviepy's
    ``editor``, as PyTorch encodes a video; None, after PyTorch's printed line, where
    moviepy or its ``editor`` (gone from moviepy 2) cannot be imported."""
    try:
        import moviepy  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        print("add_video needs package moviepy")
        return None
    try:
        from moviepy import editor
    except ImportError:
        print("moviepy is installed, but can't import moviepy.editor.",
              "Some packages could be missing [imageio, requests]")
        return None
    import tempfile

    from tensorboardX.proto.summary_pb2 import Summary

    _, height, width, channels = frames.shape
    clip = editor.ImageSequenceClip(list(frames), fps=fps)
    with tempfile.NamedTemporaryFile(suffix=".gif") as file:
        clip.write_gif(file.name, verbose=False, logger=None)
        file.seek(0)
        encoded = file.read()
    return Summary.Image(height=height, width=width, colorspace=channels,
                         encoded_image_string=encoded)


def video(tag: str, tensor: Any, fps: float = 4) -> Any:
    """A ``Summary`` of a video: ``tensor [N, T, C, H, W]`` (floats in ``[0, 1]`` or
    uint8), the N clips tiled into one (a grid of powers of 2), played at ``fps``, as a
    GIF encoded by moviepy's ``editor`` as PyTorch's; without it the value holds no
    image, after PyTorch's printed line.

    Raises:
        ValueError: ``tensor`` is not 5-dimensional.

    PyTorch equivalent: ``torch.utils.tensorboard.summary.video``.
    """
    from tensorboardX.proto.summary_pb2 import Summary
    from tensorboardX.utils import _prepare_video

    array = _array(tensor, "tensor")
    if array.ndim != 5:
        raise ValueError(f"tensor must be a video [N, T, C, H, W], got shape {array.shape}")
    frames = _prepare_video(array)
    scale = 1 if frames.dtype == np.uint8 else 255  # as PyTorch's _calc_scale_factor
    frames = (frames.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)
    return Summary(value=[Summary.Value(tag=tag, image=_gif(frames, fps))])


def audio(tag: str, tensor: Any, sample_rate: int = 44100) -> Any:
    """A ``Summary`` of a mono clip: amplitudes in ``[-1, 1]`` played at
    ``sample_rate`` Hz (see ``SummaryWriter.add_audio``).

    PyTorch equivalent: ``torch.utils.tensorboard.summary.audio``.
    """
    return audio_summary(tag, _array(tensor, "tensor"), sample_rate)


def text(tag: str, text: str) -> Any:  # noqa: A002 - PyTorch's argument name
    """A ``Summary`` of a text (Markdown) entry.

    PyTorch equivalent: ``torch.utils.tensorboard.summary.text``.
    """
    if not isinstance(text, str):
        raise TypeError(f"text_string must be a str, got {type(text).__name__}")
    return tensorboardx().summary.text(tag, text)


def hparams(hparam_dict: dict[str, Any] | None = None,
            metric_dict: dict[str, Any] | None = None,
            hparam_domain_discrete: dict[str, list[Any]] | None = None
            ) -> tuple[Any, Any, Any]:
    """The three summaries of a run in TensorBoard's HPARAMS tab: the experiment (each
    hyperparameter, with its ``hparam_domain_discrete`` values, and each metric's name),
    the session's start (the hyperparameters' values) and its end.

    Args:
        hparam_dict: name -> value (bool, str, int, float, a one-element tensor, or None
            to leave it out); a bool is stored as 0 or 1, as PyTorch's.
        metric_dict: name -> value; only the names are written here (the values are
            the curves of those names).
        hparam_domain_discrete: name -> the values TensorBoard offers to filter that
            hyperparameter by (a list of values of its type).

    Raises:
        TypeError: not dicts, or a domain not of its hyperparameter's type.
        ValueError: a value of another type (PyTorch's error).

    PyTorch equivalent: ``torch.utils.tensorboard.summary.hparams``.
    """
    if not isinstance(hparam_dict, dict):
        raise TypeError("parameter: hparam_dict should be a dictionary, nothing logged.")
    if not isinstance(metric_dict, dict):
        raise TypeError("parameter: metric_dict should be a dictionary, nothing logged.")
    domains = check_domains(hparam_domain_discrete, hparam_dict)
    values = {}
    for name, value in hparam_dict.items():
        _check_tag(name, "hparam_dict key")
        if value is not None and not isinstance(value, (bool, str, int, float)):
            if not hasattr(value, "shape"):  # PyTorch takes tensors, not lists
                raise ValueError("value should be one of int, float, str, bool, or "
                                 "torch.Tensor")
            value = _scalar(value)
        # PyTorch's writer stores a bool as the number 0 or 1 (a bool is an int)
        values[name] = float(value) if isinstance(value, bool) else value
    for name in metric_dict:
        _check_tag(name, "metric_dict key")
    experiment, start, end = tensorboardx().summary.hparams(values, metric_dict)
    return with_domains(experiment, domains), start, end


def __getattr__(name: str) -> Any:
    if name in _WRITER_METHOD:
        raise NotImplementedError(
            f"torch.utils.tensorboard.summary.{name} is not supported by fnnet.torch: "
            f"use SummaryWriter.{_WRITER_METHOD[name]}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
