"""What ``fit``'s loop hands its callbacks and its progress bar, gathered in one place.

The loop tells a :class:`Reporter` when an epoch starts, which steps' metrics it has
fetched and when an epoch ends; the reporter adds the interval's timing and the
learning rate to the step metrics, calls the callbacks, moves the bar and counts its
own time as ``logging``.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fnnet.train.callbacks import Callback, RunInfo
from fnnet.train.profile import PhaseTimer
from fnnet.train.progress import ProgressBar

StepMetrics = list[tuple[int, dict[str, float]]]
LR_NAMES = ("lr", "learning_rate")


def injected_lr(opt_state: Any) -> Any:
    """The learning rate held in an ``optax.inject_hyperparams`` state within
    ``opt_state`` (``hyperparams["lr"]`` or ``["learning_rate"]``), or None."""
    hyperparams = getattr(opt_state, "hyperparams", None)
    if isinstance(hyperparams, Mapping):
        for name in LR_NAMES:
            if name in hyperparams:
                return hyperparams[name]
    if isinstance(opt_state, Mapping):
        children = list(opt_state.values())
    elif isinstance(opt_state, tuple | list):
        children = list(opt_state)
    else:
        return None
    for child in children:
        found = injected_lr(child)
        if found is not None:
            return found
    return None


def check_log_lr(log_lr: Any) -> None:
    """Raises TypeError unless ``log_lr`` is None, a number or a schedule."""
    if log_lr is None or callable(log_lr):
        return
    if isinstance(log_lr, bool) or not isinstance(log_lr, int | float | np.floating):
        raise TypeError(f"log_lr must be a float, a schedule step -> lr or None, got "
                        f"{type(log_lr).__name__}")


class Reporter:
    """Feeds fit's callbacks and progress bar.

    Args:
        callbacks: the run's callbacks.
        bar: its progress bar.
        timer: its phase timer (the reporter's own time goes to ``logging``).
        log_lr: the learning rate to report: a float, a schedule (called with the
            optimizer's step count, which is the step number minus one), or None to
            report an injected hyperparameter when the optimizer state has one.
    """

    def __init__(self, callbacks: Sequence[Callback], bar: ProgressBar, timer: PhaseTimer,
                 log_lr: float | Callable[[Any], Any] | None) -> None:
        self.callbacks = list(callbacks)
        self.bar = bar
        self.timer = timer
        self.log_lr = log_lr
        self.read_lr = False
        self.mark = time.perf_counter()
        self.examples = 0
        self.clean = True

    @property
    def wants_steps(self) -> bool:
        """Whether any callback takes step metrics."""
        return bool(self.callbacks)

    def begin(self, run: RunInfo, state: Any) -> None:
        self.read_lr = self.log_lr is None and injected_lr(state.opt_state) is not None
        for callback in self.callbacks:
            callback.on_begin(run)

    def start_epoch(self, epoch: int) -> None:
        self.bar.start(epoch)
        self.mark = time.perf_counter()
        self.examples = 0
        self.clean = True

    def compiled(self) -> None:
        """The current interval includes a compilation: its timing is not reported."""
        self.clean = False

    def steps(self, epoch: int, fetched: StepMetrics, done: int, sums: Mapping[str, float],
              seen: int, examples: int, state: Any) -> None:
        """Reports the steps just fetched (and empties ``fetched``); ``done`` counts the
        run's finished steps and ``examples`` the epoch's examples so far."""
        now = time.perf_counter()
        if fetched and self.callbacks:
            self._add_lr(fetched, state)
            last = fetched[-1][1]
            elapsed = now - self.mark
            if self.clean and elapsed > 0:
                last["ms_per_step"] = elapsed / len(fetched) * 1e3
                last["examples_per_second"] = (examples - self.examples) / elapsed
            for callback in self.callbacks:
                for step, metrics in fetched:
                    callback.on_step(step, metrics)
        fetched.clear()
        self.bar.update(epoch, done, sums, seen)
        self.mark = self.timer.add("logging", now)
        self.examples = examples
        self.clean = True

    def _add_lr(self, fetched: StepMetrics, state: Any) -> None:
        if self.read_lr:
            fetched[-1][1]["lr"] = float(jax.device_get(injected_lr(state.opt_state)))
        elif callable(self.log_lr):
            counts = np.array([step - 1 for step, _ in fetched])
            values: Any
            try:
                values = np.broadcast_to(np.asarray(self.log_lr(jnp.asarray(counts))),
                                         counts.shape)
            except (TypeError, ValueError):  # a schedule of Python ints only
                values = [self.log_lr(int(c)) for c in counts]
            for (_, metrics), value in zip(fetched, values, strict=True):
                metrics["lr"] = float(value)
        elif self.log_lr is not None:
            for _, metrics in fetched:
                metrics["lr"] = float(self.log_lr)

    def end_epoch(self, epoch: int, step: int, record: Mapping[str, float],
                  state: Any) -> None:
        start = time.perf_counter()
        for callback in self.callbacks:
            callback.on_epoch(epoch, step, record, state)
        self.bar.end_epoch(epoch, record)
        self.timer.add("logging", start)

    def checkpoint(self, step: int) -> None:
        """Tells the callbacks that a checkpoint of ``step`` is about to be written."""
        start = time.perf_counter()
        for callback in self.callbacks:
            callback.on_checkpoint(step)
        self.timer.add("logging", start)

    def end(self, history: Mapping[str, list[float]], *, failed: bool = False) -> None:
        """Ends the run: callbacks' ``on_end``, the bar removed, the phase summary.

        Every callback is ended even if one fails. After a failed run a callback's own
        error (a full disk stops the event writer too) is a warning, so that the error
        that stopped the run is the one the user sees.
        """
        errors: list[Exception] = []
        for callback in self.callbacks:
            try:
                callback.on_end(history, dict(self.timer.seconds))
            except Exception as error:
                errors.append(error)
        self.bar.close(None if failed else self.timer.summary())
        if errors and not failed:
            raise errors[0]
        for problem in errors:
            warnings.warn(f"a callback could not finish after the run failed: {problem}",
                          RuntimeWarning, stacklevel=2)
