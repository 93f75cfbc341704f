"""What ``fit`` needs to stop anywhere and resume bit for bit: the state and the position.

A checkpoint written by ``fit`` holds, beside the :class:`~fnnet.train.TrainState`, the
position in the data (``epoch`` and the number of its batches already trained on, the
order of each epoch being a pure function of ``(seed, epoch)``) and the bookkeeping of
the history: the records of the finished epochs and the running sums of the current
one. A resumed run therefore skips exactly the batches already seen, draws the same
Dropout masks (``fold_in(key, step)``) and ends with the same parameters and the same
history as a run never interrupted (but for the wall-clock entries).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from fnnet.checkpoint.train_state import Checkpointer, CheckpointError
from fnnet.train.state import TrainState

FORMAT = 1


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
    """

    def __init__(self, directory: str | os.PathLike, *, every_n_steps: int | None,
                 keep: int | None, seed: int, batch_size: int,
                 steps_per_epoch: int | None) -> None:
        _check_count("every_n_steps", every_n_steps, allow_none=True)
        _check_count("keep", keep, allow_none=True)
        self.every_n_steps = every_n_steps
        self.config = {"seed": seed, "batch_size": batch_size}
        self.steps_per_epoch = steps_per_epoch
        self.checkpointer = Checkpointer(directory, keep=keep)
        self.last_saved = self.checkpointer.latest_step()

    def require_empty(self) -> None:
        """Raises a ValueError when the folder holds checkpoints (and ``resume`` is off)."""
        if self.last_saved is not None:
            raise ValueError(
                f"checkpoint_dir {str(self.checkpointer.directory)!r} already holds "
                f"checkpoints (latest at step {self.last_saved}): pass resume=True to "
                "continue that run, or use another folder")

    def restore(self, template: TrainState) -> tuple[TrainState, Position] | None:
        """The latest checkpoint's state and position, or None when there is none.

        Raises:
            CheckpointError: the checkpoint does not match the model and optimizer, was
                not written by ``fit``, or was written with another seed, batch size or
                data set size.
        """
        if self.last_saved is None:
            return None
        state, meta = self.checkpointer.restore(template)
        where = f"checkpoint of step {self.last_saved} in {str(self.checkpointer.directory)!r}"
        if meta.get("format") != FORMAT:
            raise CheckpointError(f"{where} was not written by fnnet.train.fit")
        for name, value in self.config.items():
            if meta[name] != value:
                raise CheckpointError(f"{where} was written with {name}={meta[name]!r}; "
                                      f"resuming it needs the same, got {name}={value!r}")
        position = Position(**meta["position"])
        known = meta.get("steps_per_epoch")
        if known is not None and self.steps_per_epoch not in (None, known):
            raise CheckpointError(f"{where} was written with {known} batches per epoch, "
                                  f"the data now gives {self.steps_per_epoch}")
        return state, position

    def due(self, before: int, after: int) -> bool:
        """Whether the call that took the run from step ``before`` to ``after`` saves."""
        n = self.every_n_steps
        return n is not None and after // n > before // n

    def save(self, state: TrainState, position: Position) -> None:
        """Saves ``state`` at ``position`` unless its step is saved already."""
        step = int(state.step)
        if step == self.last_saved:
            return
        meta = {"format": FORMAT, **self.config, "steps_per_epoch": self.steps_per_epoch,
                "position": dataclasses.asdict(position)}
        self.checkpointer.save(state, meta)
        self.last_saved = step

    def close(self) -> None:
        self.checkpointer.close()
