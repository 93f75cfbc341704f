"""``fit``'s progress: a tqdm bar over the run's steps and one line per epoch.

The bar counts steps that have finished (their metrics are on the host), not steps
handed to XLA, so its rate and ETA are those of the computation. It counts from the end
of the first step, whose compilation would otherwise skew the rate. It is drawn on
stderr only when stderr is a terminal (or in a notebook); the epoch lines go to stdout
in every case.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from typing import Any

#: seconds between two redraws of the bar (tqdm's own default ``mininterval``)
REDRAW_SECONDS = 0.1
PROGRESS_MODES = (True, False, "epochs")
#: the running means the bar shows
POSTFIX = ("loss", "accuracy")


def check_progress(progress: object) -> bool | str:
    """``progress`` checked: True (bar and epoch lines), "epochs" (lines only), False."""
    if isinstance(progress, bool) or progress == "epochs":
        return progress
    raise ValueError(f"progress must be True, False or 'epochs', got {progress!r}")


def _interactive() -> bool:
    return sys.stderr.isatty() or "ipykernel" in sys.modules


class ProgressBar:
    """The bar and the epoch lines of one run.

    Args:
        mode: True: the bar (where interactive) and the epoch lines; "epochs": the lines
            only; False: nothing.
        epochs: the run's epochs.
        total: the run's steps (None when unknown).
        initial: steps already taken (a resumed run's).
    """

    def __init__(self, mode: bool | str, *, epochs: int, total: int | None,
                 initial: int = 0) -> None:
        self.lines = mode is not False
        self.enabled = mode is True and _interactive()
        self.epochs = epochs
        self.total = total
        self.initial = initial
        self.bar: Any = None
        self.compiled = False
        self.epoch = -1  # the epoch the bar's description names
        self.last = 0.0

    def start(self, epoch: int) -> None:
        """Shows the bar (``compiling`` until the first step has run)."""
        if self.enabled and self.bar is None:
            self.bar = self._new(self.initial, "compiling")
        self.last = time.perf_counter()

    def _new(self, initial: int, desc: str) -> Any:
        from tqdm.auto import tqdm

        return tqdm(total=self.total, initial=initial, desc=desc, unit="step",
                    dynamic_ncols=True, leave=False, mininterval=REDRAW_SECONDS)

    def due(self) -> bool:
        """Whether the bar would be redrawn now (fit then fetches the metrics)."""
        return self.enabled and time.perf_counter() - self.last >= REDRAW_SECONDS

    def update(self, epoch: int, done: int, sums: Mapping[str, float], seen: int) -> None:
        """Moves the bar to ``done`` finished steps, with the epoch's running means."""
        self.last = time.perf_counter()
        if not self.enabled:
            return
        desc = f"epoch {epoch + 1}/{self.epochs}"
        fresh = not self.compiled
        if fresh:
            # A new bar from here: its rate and ETA leave the compilation out.
            self.compiled = True
            self.bar.close()
            self.bar = self._new(done, desc)
        elif epoch != self.epoch:
            self.bar.set_description_str(desc, refresh=False)
        self.epoch = epoch
        if seen:
            self.bar.set_postfix({name: f"{sums[name] / seen:.4f}" for name in POSTFIX
                                  if name in sums}, refresh=fresh)
        self.bar.update(done - self.bar.n)

    def end_epoch(self, epoch: int, record: Mapping[str, float]) -> None:
        """Prints the epoch's line (above the bar)."""
        if not self.lines:
            return
        parts = [f"{name} {value:.4f}" for name, value in record.items()
                 if name not in ("seconds", "examples_per_second")]
        if "examples_per_second" in record:
            parts.append(f"{record['examples_per_second']:.0f} ex/s")
        self.write(f"epoch {epoch + 1}/{self.epochs}: " + ", ".join(parts))

    def write(self, line: str) -> None:
        """Prints a line to stdout without breaking the bar."""
        if self.bar is not None:
            self.bar.write(line, file=sys.stdout)
        else:
            print(line, flush=True)
        sys.stdout.flush()

    def close(self, summary: str | None = None) -> None:
        """Removes the bar; prints ``summary`` (the phase times) when lines are on."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if summary is not None and self.lines:
            print(summary, flush=True)
