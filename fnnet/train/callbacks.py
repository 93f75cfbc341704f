"""What ``fit`` reports while it trains: callbacks, and three that write metrics to disk.

``fit(..., callbacks=[...])`` calls each callback's :meth:`Callback.on_begin` once,
:meth:`~Callback.on_step` for every training step, :meth:`~Callback.on_epoch` after each
epoch's evaluation, :meth:`~Callback.on_checkpoint` before each checkpoint it writes and
:meth:`~Callback.on_end` when the run is over. Step metrics reach
the callbacks in order, in bursts: ``fit`` fetches them from the device every
``log_every`` steps (and when its progress bar is due), so that logging never makes a
step wait.

    class PrintLoss(Callback):
        def on_step(self, step, metrics):
            if step % 100 == 0:
                print(step, metrics["loss"])

    fit(model, optimizer, data, callbacks=[PrintLoss(), JSONLWriter("metrics.jsonl")])

Writers here: :class:`TensorBoardWriter` (event files), :class:`HistoryWriter`
(``history.json``: every value TensorBoard gets, as ``[step, value]`` pairs) and
:class:`JSONLWriter` (one JSON line per step and per epoch).
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import pathlib
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import numpy as np

from fnnet.train.history_file import HistoryDamagedError, Journal, read_history

#: step metrics measured over the interval between two fetches, not per step: they come
#: with the last step of each interval
INTERVAL_METRICS = ("ms_per_step", "examples_per_second")
#: bins of the per-epoch parameter histograms
HISTOGRAM_BINS = 64
#: least seconds between two whole writes of history.json before the run's end (each
#: serialises every value so far; a checkpoint appends only the new ones to its journal)
SAVE_EVERY_SECONDS = 30.0


@dataclasses.dataclass(frozen=True)
class RunInfo:
    """What a callback is told when a run begins.

    Attributes:
        model: the model being trained.
        optimizer: its optax transformation.
        epochs: the epochs of the whole run (``fit``'s ``epochs``).
        first_epoch: the epoch this run starts in (0, or later when resumed).
        first_step: the training steps taken before this run (0 unless resumed); the
            first step reported is ``first_step + 1``.
        steps_per_epoch: training steps per epoch, or None when the data is a callable
            whose length fit does not know.
        batch_size: examples per step.
        logdir: ``fit``'s ``logdir`` (None when not given).
    """

    model: Any
    optimizer: Any
    epochs: int
    first_epoch: int
    first_step: int
    steps_per_epoch: int | None
    batch_size: int
    logdir: pathlib.Path | None = None


class Callback:
    """The interface ``fit`` calls; subclass it and override what you need.

    Steps are counted from 1: ``step`` is the number of updates taken once that step
    has run (``state.step`` after it). Epochs are counted from 0, as ``range(epochs)``.
    """

    def on_begin(self, run: RunInfo) -> None:
        """Called once, before the first step."""

    def on_step(self, step: int, metrics: Mapping[str, float]) -> None:
        """Called for every step, with its metrics as Python floats.

        ``metrics`` holds ``loss`` and (for classification) ``accuracy`` of the step's
        batch, ``lr`` when fit knows it (see ``fit``'s ``log_lr``), and, with the last
        step of each interval between two fetches, ``ms_per_step`` and
        ``examples_per_second`` over that interval.
        """

    def on_epoch(self, epoch: int, step: int, record: Mapping[str, float],
                 state: Any) -> None:
        """Called after each epoch (and its evaluation), with the epoch's entry of the
        history (``loss``, ``accuracy``, ``eval_loss``, ..., ``seconds``) and the
        training state at its end (``step`` updates taken)."""

    def on_checkpoint(self, step: int) -> None:
        """Called before ``fit`` writes a checkpoint of ``step`` (with ``checkpoint_dir``),
        once every step up to it has been reported: a writer makes what it holds
        durable, since a run resumed from that checkpoint keeps what was logged up to
        ``step`` and the process may be killed at any moment after it."""

    def on_end(self, history: Mapping[str, list[float]], phases: Mapping[str, float]) -> None:
        """Called when the run is over (also when it stops with an error), with the
        history so far and the seconds spent in each phase (see
        :class:`fnnet.train.profile.PhaseTimer`)."""


def check_callbacks(callbacks: Any) -> list[Callback]:
    """``callbacks`` as a list, each checked to be a :class:`Callback`.

    Raises:
        TypeError: not a sequence of Callback instances (naming the first that is not).
    """
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        callbacks = [callbacks]  # one, not in a list: checked as the list's first
    if not isinstance(callbacks, Sequence) or isinstance(callbacks, str | bytes):
        raise TypeError(f"callbacks must be a list of fnnet.train.Callback, got "
                        f"{type(callbacks).__name__}")
    for i, callback in enumerate(callbacks):
        if not isinstance(callback, Callback):
            raise TypeError(f"callbacks[{i}] must be a fnnet.train.Callback (subclass it and "
                            f"override on_step/on_epoch), got {type(callback).__name__}")
        _check_overrides(f"callbacks[{i}]", callback)
    return list(callbacks)


def _check_overrides(name: str, callback: Callback) -> None:
    """Raises a TypeError, before any step, for an overridden method that cannot take the
    arguments ``fit`` passes (found otherwise only when it is first called, an epoch in)."""
    for method in ("on_begin", "on_step", "on_epoch", "on_checkpoint", "on_end"):
        own = getattr(type(callback), method, None)
        if own is None or own is getattr(Callback, method):
            continue
        expected = inspect.signature(getattr(Callback, method))
        arguments = [param.name for param in expected.parameters.values()][1:]
        try:
            signature = inspect.signature(getattr(callback, method))
        except (TypeError, ValueError):  # no signature to read (a builtin): trusted
            continue
        try:
            signature.bind(*arguments)
        except TypeError:
            raise TypeError(
                f"{name}: {type(callback).__name__}.{method} must take "
                f"({', '.join(arguments)}), as fit calls it; it is defined as "
                f"{method}{signature}") from None


def check_path(value: Any, name: str, file: bool = False) -> pathlib.Path:
    """``value`` as a path once it is a non-empty one that a folder can be made for
    (with ``file``, not a folder's): a writer would fail on it only when the run
    begins or first saves.

    Raises:
        TypeError: not a str or path.
        ValueError: an empty str (an unset setting), which would name the working
            directory, whose event files a new run replaces; a folder for ``file``; a
            path through an existing file (``run.log/tb``), where no folder can be made.
    """
    if not isinstance(value, str | os.PathLike):
        raise TypeError(f"{name} must be a path, got {type(value).__name__}")
    if not os.fspath(value).strip():
        raise ValueError(f"{name} must be a path, got {os.fspath(value)!r} (use '.' for the "
                         f"working directory)")
    if file and os.path.isdir(value):
        raise ValueError(f"{name} must be a file's path, got the folder {os.fspath(value)!r}")
    path = pathlib.Path(value)
    folder = path.parent if file else path
    above = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if above is not None and not above.is_dir():
        what = "a file's path in a folder" if file else "a folder"
        raise ValueError(f"{name} must be {what}, got {os.fspath(value)!r} ({str(above)!r} "
                         "is a file)")
    return path


def parameter_names(params: Any) -> list[str]:
    """Dotted names of a parameter tree's leaves (``fc1.weight``), in leaf order."""
    paths = [path for path, _ in jax.tree_util.tree_flatten_with_path(params)[0]]
    return [".".join(str(getattr(e, "key", getattr(e, "idx", e))) for e in path)
            for path in paths]


class ScalarWriter(Callback):
    """A callback that turns fit's reports into tagged scalars, ``step/<metric>`` for
    steps and ``epoch/<metric>`` for epochs, and hands them to :meth:`write`.

    Args:
        every_n_steps: write the step metrics of every this many steps (the interval
            metrics, ``ms_per_step`` and ``examples_per_second``, whenever measured).
    """

    def __init__(self, every_n_steps: int = 1) -> None:
        if not isinstance(every_n_steps, int) or isinstance(every_n_steps, bool) \
                or every_n_steps < 1:
            raise ValueError(f"every_n_steps must be a positive int, got {every_n_steps!r}")
        self.every_n_steps = every_n_steps

    def write(self, step: int, scalars: Mapping[str, float]) -> None:
        """Writes ``{tag: value}`` at ``step``; subclasses implement it."""
        raise NotImplementedError

    def on_step(self, step: int, metrics: Mapping[str, float]) -> None:
        if step % self.every_n_steps == 0:
            chosen = metrics
        else:
            chosen = {k: v for k, v in metrics.items() if k in INTERVAL_METRICS}
        if chosen:
            self.write(step, {f"step/{name}": value for name, value in chosen.items()})

    def on_epoch(self, epoch: int, step: int, record: Mapping[str, float],
                 state: Any) -> None:
        self.write(step, {f"epoch/{name}": value for name, value in record.items()})


class TensorBoardWriter(ScalarWriter):
    """Writes fit's metrics as TensorBoard event files in ``logdir``, and a histogram of
    each parameter (``params/fc1.weight``) at the end of each epoch.

    ``tensorboard --logdir LOGDIR`` shows them (see the README's "Watching training").

    Args:
        logdir: the run's folder (created if needed); each writer adds a new event file.
        every_n_steps: see :class:`ScalarWriter`.
        histograms: write the per-epoch parameter histograms.
        flush_secs: seconds between writes to disk (the events are written in a thread
            of their own, see :class:`fnnet.train.events.EventFileThread`).

    PyTorch equivalent: ``SummaryWriter(logdir)`` and ``add_scalar`` calls in the loop.
    """

    def __init__(self, logdir: str | os.PathLike[str], *, every_n_steps: int = 1,
                 histograms: bool = True, flush_secs: float = 10.0) -> None:
        super().__init__(every_n_steps)
        from fnnet.train.events import check_flush_secs

        self.logdir = check_path(logdir, "logdir")
        if not isinstance(histograms, bool):
            raise TypeError(f"histograms must be a bool, got {histograms!r}")
        self.histograms = histograms
        self.flush_secs = check_flush_secs(flush_secs)
        self._writer: Any = None

    def on_begin(self, run: RunInfo) -> None:
        from fnnet.train.events import file_writer

        self.logdir.mkdir(parents=True, exist_ok=True)
        self._writer = file_writer(self.logdir, flush_secs=self.flush_secs)
        # TensorBoard takes each run's second session start for a restart: a resumed
        # run's makes it drop what an interrupted run logged past the checkpoint.
        self._writer.purge_from(run.first_step + 1)

    def write(self, step: int, scalars: Mapping[str, float]) -> None:
        self._writer.add_scalars(scalars, step)

    def on_epoch(self, epoch: int, step: int, record: Mapping[str, float],
                 state: Any) -> None:
        super().on_epoch(epoch, step, record, state)
        if self.histograms:
            params = jax.device_get(state.params)
            for name, value in zip(parameter_names(params), jax.tree.leaves(params),
                                   strict=True):
                self._writer.add_histogram(f"params/{name}", np.asarray(value), step,
                                           HISTOGRAM_BINS)

    def on_checkpoint(self, step: int) -> None:
        self._writer.flush()

    def on_end(self, history: Mapping[str, list[float]], phases: Mapping[str, float]) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


class HistoryWriter(ScalarWriter):
    """Keeps every scalar a :class:`TensorBoardWriter` would write and saves them as JSON.

    A resumed run (``first_step > 0``) keeps what the record holds up to its first step
    and replaces the rest, as TensorBoard drops what an interrupted run logged past the
    checkpoint it was resumed from: the file ends as an uninterrupted run's. The file
    (rewritten atomically when the run begins and ends, and after an epoch when the last
    write is :data:`SAVE_EVERY_SECONDS` old) holds::

        {"scalars": {"step/loss": [[1, 2.31], [2, 2.27], ...],
                     "epoch/eval_accuracy": [[44, 0.91], ...], ...},
         "history": {"loss": [...], "eval_accuracy": [...], ...},   # fit's history
         "phase_seconds": {"compile": 0.6, "step": 1.9, ...}}        # at the end

    Before each checkpoint only the values new since the last write are appended, to
    ``<path>.journal`` (see :mod:`fnnet.train.history_file`), so that logging stays as
    fast at the run's end as at its start; :func:`fnnet.train.history_file.read_history`
    reads a killed run's file and journal as one record.

    Args:
        path: the JSON file (its folder is created if needed).
        every_n_steps: see :class:`ScalarWriter`.
    """

    def __init__(self, path: str | os.PathLike[str], *, every_n_steps: int = 1) -> None:
        super().__init__(every_n_steps)
        self.path = check_path(path, "path", file=True)
        # tag -> (steps, values): flat lists of numbers, which the garbage collector
        # never walks (a list per value made its collections slow down the loop)
        self.scalars: dict[str, tuple[list[int], list[float]]] = {}
        self.history: dict[str, list[float]] = {}
        self.phases: dict[str, float] = {}
        self.saved = 0.0
        self.reported = 0  # the last step reported
        self._journal = Journal(self.path)

    def on_begin(self, run: RunInfo) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.scalars, self.history, self.phases = {}, {}, {}
        self.reported = run.first_step
        if run.first_step and self.path.is_file():
            self._keep_until(run.first_step, run.first_epoch)
        # a file it cannot write fails now, not at its first save after training
        self._journal.start(self.scalars, self.history, self.reported)
        self.saved = time.monotonic()

    def _keep_until(self, step: int, epochs: int) -> None:
        """Reads the record back, keeping the scalars up to ``step`` and the history of
        the first ``epochs`` epochs (a record that cannot be read is replaced, with a
        warning naming what is wrong)."""
        try:
            saved = read_history(self.path, step)
        except (OSError, HistoryDamagedError) as error:
            warnings.warn(f"{str(self.path)!r} could not be read to resume it ({error}); "
                          "it will hold this run's scalars only", RuntimeWarning, stacklevel=3)
            return
        for tag, pairs in saved["scalars"].items():
            kept = [(s, v) for s, v in pairs if s <= step]
            if kept:
                steps, values = zip(*kept, strict=True)
                self.scalars[tag] = (list(steps), list(values))
        self.history = {name: values[:epochs] for name, values in saved["history"].items()}

    def write(self, step: int, scalars: Mapping[str, float]) -> None:
        for tag, value in scalars.items():
            if tag not in self.scalars:
                self.scalars[tag] = ([], [])
            steps, values = self.scalars[tag]
            steps.append(step)
            values.append(float(value))

    def on_step(self, step: int, metrics: Mapping[str, float]) -> None:
        super().on_step(step, metrics)
        self.reported = step

    def on_epoch(self, epoch: int, step: int, record: Mapping[str, float],
                 state: Any) -> None:
        super().on_epoch(epoch, step, record, state)
        for name, value in record.items():
            self.history.setdefault(name, []).append(float(value))
        self.reported = max(self.reported, step)
        if time.monotonic() - self.saved >= SAVE_EVERY_SECONDS:
            self.save()

    def on_checkpoint(self, step: int) -> None:
        self._journal.append(self.scalars, self.history, max(self.reported, step))

    def on_end(self, history: Mapping[str, list[float]], phases: Mapping[str, float]) -> None:
        self.history = {name: [float(v) for v in values] for name, values in history.items()}
        self.phases = dict(phases)
        self._journal.finish(self.scalars, self.history, self.phases, self.reported)
        self.saved = time.monotonic()

    def save(self) -> None:
        """Writes every value to the file atomically (a killed run leaves the last
        complete one, and the journal's lines after it)."""
        self._journal.snapshot(self.scalars, self.history, self.phases, self.reported)
        self.saved = time.monotonic()


class JSONLWriter(Callback):
    """Appends one JSON object a line to ``path``: ``{"step": 12, "loss": ...}`` for each
    step and ``{"epoch": 0, "step": 44, "loss": ..., "eval_loss": ...}`` for each epoch.

    Lines are flushed after each epoch and at the end, so ``tail -f`` follows a run. A
    resumed run (``first_step > 0``) first drops the lines of later steps, which an
    interrupted run wrote past the checkpoint the run goes on from.

    Args:
        path: the file (created, or appended to; its folder is created if needed).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = check_path(path, "path", file=True)
        self._file: Any = None

    def on_begin(self, run: RunInfo) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if run.first_step and self.path.is_file():
            self._drop_after(run.first_step)
        self._file = self.path.open("a", encoding="utf-8")

    def _drop_after(self, step: int) -> None:
        """Rewrites the file (atomically) without the lines of steps after ``step``."""
        kept = []
        with self.path.open(encoding="utf-8") as lines:
            for line in lines:
                try:
                    later = json.loads(line).get("step", 0) > step
                except (ValueError, AttributeError, TypeError):
                    later = False  # not ours: kept as it is
                if not later:
                    kept.append(line if line.endswith("\n") else line + "\n")
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text("".join(kept), encoding="utf-8")
        os.replace(temporary, self.path)

    def on_step(self, step: int, metrics: Mapping[str, float]) -> None:
        self._file.write(json.dumps({"step": step, **metrics}) + "\n")

    def on_epoch(self, epoch: int, step: int, record: Mapping[str, float],
                 state: Any) -> None:
        self._file.write(json.dumps({"epoch": epoch, "step": step, **record}) + "\n")
        self._file.flush()

    def on_checkpoint(self, step: int) -> None:
        self._file.flush()

    def on_end(self, history: Mapping[str, list[float]], phases: Mapping[str, float]) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def run_writers(logdir: str | os.PathLike[str]) -> list[Callback]:
    """What ``fit(logdir=...)`` adds: a :class:`TensorBoardWriter` on ``logdir`` and a
    :class:`HistoryWriter` on ``logdir/history.json``."""
    folder = pathlib.Path(logdir)
    return [TensorBoardWriter(folder), HistoryWriter(folder / "history.json")]
