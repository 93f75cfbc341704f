"""What ``fit`` needs to stop anywhere and resume bit for bit: the state and the position.

A checkpoint written by ``fit`` holds, beside the :class:`~fnnet.train.TrainState`, the
position in the data (``epoch`` and the number of its batches already trained on, the
order of each epoch being a pure function of ``(seed, epoch)``) and the bookkeeping of
the history: the records of the finished epochs and the running sums of the current
one. A resumed run therefore skips exactly the batches already seen, draws the same
Dropout masks (``fold_in(key, step)``) and ends with the same parameters and the same
history as a run never interrupted (but for the wall-clock entries).

The metadata is checked against its schema and against the restored state before a
run goes on from it: the step must be the run's first step plus the batches of the
finished epochs plus those of the current one, and the counts and the history must
agree with that position. A checkpoint failing this is damaged, and the newest intact
one is used instead (see :meth:`fnnet.checkpoint.Checkpointer.restore`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import Any

from fnnet.checkpoint.errors import CheckpointError
from fnnet.checkpoint.train_state import Checkpointer
from fnnet.core.state import TrainState

#: version of the metadata ``fit`` writes (2 added ``start_step``)
FORMAT = 2
_META_FIELDS = {"format", "seed", "batch_size", "steps_per_epoch", "start_step", "position"}


@dataclasses.dataclass
class Position:
    """Where a run stands: the next batch to train on and the epoch's running sums.

    Attributes:
        epoch: the current epoch (0-based); its record is not in ``history`` yet.
        batch: number of batches of ``epoch`` already trained on.
        history: ``fit``'s history of the finished epochs.
        sums: per-metric sums over the batches of ``epoch`` so far.
        seen: number of steps behind ``sums``.
        examples: number of examples behind ``sums``.
        seconds: time spent training in ``epoch`` so far (by all processes that ran it).
    """

    epoch: int = 0
    batch: int = 0
    history: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    sums: dict[str, float] = dataclasses.field(default_factory=dict)
    seen: int = 0
    examples: int = 0
    seconds: float = 0.0


def _check_count(name: str, value: Any, *, allow_none: bool) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        extra = " or None" if allow_none else ""
        raise ValueError(f"{name} must be a positive int{extra}, got {value!r}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _field(mapping: dict[str, Any], name: str, kind: str, where: str = "") -> Any:
    """``mapping[name]``, checked to be a non-negative int, a number, a mapping or a
    count (``kind``); ValueError naming the field otherwise."""
    value = mapping[name]
    checks: dict[str, Callable[[Any], bool]] = {
        "count": lambda v: _is_int(v) and v >= 0,
        "positive": lambda v: _is_int(v) and v >= 1,
        "optional positive": lambda v: v is None or (_is_int(v) and v >= 1),
        "seconds": lambda v: _is_number(v) and v >= 0,
        "dict": lambda v: isinstance(v, dict)}
    ok = checks[kind](value)
    if not ok:
        raise ValueError(f"{where}{name} is {value!r}, not a valid {kind}")
    return value


def check_meta(meta: dict[str, Any], step: int) -> Position:
    """The position in ``fit``'s checkpoint metadata, checked against its schema and
    against ``step``, the restored state's step.

    Raises:
        ValueError: another format, or a field is missing, of the wrong type, or
            inconsistent with another or with ``step`` (the checkpoint is then damaged).
    """
    if meta.get("format") != FORMAT:
        raise ValueError(f"format is {meta.get('format')!r}, not {FORMAT}")
    if set(meta) != _META_FIELDS:
        raise ValueError(f"fields {sorted(set(meta) ^ _META_FIELDS)} are missing or extra")
    for name, kind in (("seed", "count"), ("batch_size", "positive"),
                       ("steps_per_epoch", "optional positive"), ("start_step", "count"),
                       ("position", "dict")):
        _field(meta, name, kind)
    raw = meta["position"]
    fields = {f.name for f in dataclasses.fields(Position)}
    if set(raw) != fields:
        raise ValueError(f"position fields {sorted(set(raw) ^ fields)} are missing or extra")
    for name, kind in (("epoch", "count"), ("batch", "count"), ("seen", "count"),
                       ("examples", "count"), ("seconds", "seconds"), ("history", "dict"),
                       ("sums", "dict")):
        _field(raw, name, kind, "position.")
    position = Position(**raw)
    # Every finished epoch records its time; a metric may be missing from an epoch
    # that had no batches (a callable's), so the others may be shorter.
    for name, values in position.history.items():
        exact = name == "seconds"
        if not (isinstance(values, list) and all(_is_number(v) for v in values)
                and (len(values) == position.epoch if exact
                     else len(values) <= position.epoch)):
            raise ValueError(f"position.history[{name!r}] is not {'' if exact else 'up to '}"
                             f"{position.epoch} numbers (one per finished epoch), got "
                             f"{values!r}")
    if position.epoch and "seconds" not in position.history:
        raise ValueError(f"position.history has no 'seconds' for its {position.epoch} "
                         "finished epochs")
    if not all(_is_number(v) for v in position.sums.values()):
        raise ValueError(f"position.sums holds a value that is not a number: {position.sums}")
    if position.seen != position.batch:
        raise ValueError(f"position.seen={position.seen} differs from position.batch="
                         f"{position.batch} (both count the epoch's steps at a save)")
    start, per_epoch = meta["start_step"], meta["steps_per_epoch"]
    if per_epoch is None:
        if step < start + position.batch:
            raise ValueError(f"the state is at step {step}, before the run's first step "
                             f"{start} plus the epoch's {position.batch} batches")
        return position
    if position.batch > per_epoch:
        raise ValueError(f"position.batch={position.batch} exceeds the "
                         f"{per_epoch} batches of an epoch")
    expected = start + position.epoch * per_epoch + position.batch
    if step != expected:
        raise ValueError(f"it places the run at epoch {position.epoch}, batch "
                         f"{position.batch} ({per_epoch} per epoch, from step {start}), "
                         f"that is step {expected}, but the state is at step {step}")
    if position.examples != position.batch * meta["batch_size"]:
        raise ValueError(f"position.examples={position.examples} is not position.batch "
                         f"{position.batch} x batch_size {meta['batch_size']}")
    return position


class FitCheckpoints:
    """``fit``'s checkpoints: when to save, what the metadata holds, and how to resume.

    Args:
        directory: the checkpoint folder.
        every_n_steps: save after the call that completes each multiple of this many
            steps; None saves at the end of each epoch. The last step of the run is
            always saved.
        keep: number of most recent checkpoints kept (None: all).
        seed: the run's seed (a resumed run must use the same).
        batch_size: the run's batch size (likewise).
        steps_per_epoch: batches per epoch, when known (arrays), to check a resume.

    Raises:
        ValueError: a bad ``every_n_steps`` or ``keep``.
        CheckpointWriteError: the folder cannot be written (before anything is trained).
    """

    def __init__(self, directory: str | os.PathLike[str], *, every_n_steps: int | None,
                 keep: int | None, seed: int, batch_size: int,
                 steps_per_epoch: int | None) -> None:
        _check_count("every_n_steps", every_n_steps, allow_none=True)
        _check_count("keep", keep, allow_none=True)
        self.every_n_steps = every_n_steps
        self.config = {"seed": seed, "batch_size": batch_size}
        self.steps_per_epoch = steps_per_epoch
        self.checkpointer = Checkpointer(directory, keep=keep)
        self.checkpointer.check_writable()
        self.last_saved = self.checkpointer.latest_step()
        self.start_step: int | None = None

    def require_empty(self) -> None:
        """Raises a ValueError when the folder holds checkpoints (and ``resume`` is off)."""
        if self.last_saved is not None:
            raise ValueError(
                f"checkpoint_dir {str(self.checkpointer.directory)!r} already holds "
                f"checkpoints (latest at step {self.last_saved}): pass resume=True to "
                "continue that run, or use another folder")

    def _validate(self, state: TrainState, meta: dict[str, Any]) -> None:
        """Raises CheckpointError when the checkpoint belongs to another run setting,
        ValueError when its metadata is damaged."""
        step = int(state.step)
        where = f"checkpoint of step {step} in {str(self.checkpointer.directory)!r}"
        if meta.get("format") not in (FORMAT, None) or "position" not in meta:
            raise CheckpointError(f"{where} was not written by this version of "
                                  "fnnet.train.fit (its metadata has format "
                                  f"{meta.get('format')!r}, fit writes {FORMAT})")
        check_meta(meta, step)
        for name, value in self.config.items():
            if meta[name] != value:
                raise CheckpointError(f"{where} was written with {name}={meta[name]!r}; "
                                      f"resuming it needs the same, got {name}={value!r}")
        known = meta["steps_per_epoch"]
        if known is not None and self.steps_per_epoch not in (None, known):
            raise CheckpointError(f"{where} was written with {known} batches per epoch, "
                                  f"the data now gives {self.steps_per_epoch}")

    def restore(self, template: TrainState) -> tuple[TrainState, Position] | None:
        """The newest intact checkpoint's state and position, or None when there is none.

        Damaged checkpoints are skipped with a warning; those newer than the one
        restored are renamed ``<step>.damaged`` so that the run writes those steps
        afresh. With nothing to restore, the run starts at ``template``'s step.

        Raises:
            CheckpointError: the checkpoint does not match the model and optimizer, was
                not written by ``fit``, or was written with another seed, batch size or
                data set size.
            DamagedCheckpointError: every checkpoint in the folder is damaged.
        """
        if self.last_saved is None:
            self.start_step = int(template.step)
            return None
        state, meta = self.checkpointer.restore(template, validate=self._validate)
        step = int(state.step)
        for newer in self.checkpointer.all_steps():
            if newer > step:
                self.checkpointer.set_aside(newer)
        self.last_saved = step
        self.start_step = meta["start_step"]
        return state, Position(**meta["position"])

    def due(self, before: int, after: int) -> bool:
        """Whether the call that took the run from step ``before`` to ``after`` saves."""
        n = self.every_n_steps
        return n is not None and after // n > before // n

    def save(self, state: TrainState, position: Position) -> None:
        """Saves ``state`` at ``position`` unless its step is saved already."""
        step = int(state.step)
        if step == self.last_saved:
            return
        if self.start_step is None:
            raise RuntimeError("FitCheckpoints.restore must run before the first save")
        meta = {"format": FORMAT, **self.config, "steps_per_epoch": self.steps_per_epoch,
                "start_step": self.start_step, "position": dataclasses.asdict(position)}
        self.checkpointer.save(state, meta)
        self.last_saved = step

    def close(self) -> None:
        self.checkpointer.close()
