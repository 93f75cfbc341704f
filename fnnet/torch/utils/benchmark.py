"""``torch.utils.benchmark`` over fnnet.torch: ``Timer``, ``Measurement`` and ``Compare``.

fnnet.torch records operations and computes them later, in compiled programs, and JAX
dispatches those asynchronously; timing a statement that only records would time
nothing. :class:`Timer` therefore computes what each run of the statement produced
(the value of its last expression, the tensors its names hold, its modules'
parameters) and waits for the device before the run counts as done, the
``block_until_ready`` of a JAX benchmark.

    import fnnet.torch.utils.benchmark as benchmark

    timer = benchmark.Timer(stmt="model(x)", globals={"model": model, "x": x})
    print(timer.blocked_autorange(min_run_time=0.2))
"""

from __future__ import annotations

import ast
import statistics
import time
from collections.abc import Callable, Iterable
from typing import Any

import jax
import numpy as np

__all__ = ["Compare", "Measurement", "Timer"]

#: the name the value of a statement's last expression is kept under while it is timed
_VALUE = "__fnnet_benchmark_value"


def _format_time(seconds: float) -> str:
    """``seconds`` in the unit that gives 1 to 999 of it, 3 significant figures."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}" if seconds / scale >= 100 else \
                f"{seconds / scale:.2f} {unit}"
    return f"{seconds * 1e9:.2f} ns"


class Measurement:
    """The times of a :class:`Timer`: ``raw_times`` are seconds per block of
    ``number_per_run`` runs, ``times`` seconds per run.

    PyTorch equivalent: ``torch.utils.benchmark.Measurement``.
    """

    def __init__(self, number_per_run: int, raw_times: list[float], stmt: str, setup: str,
                 label: str | None, sub_label: str | None, description: str | None,
                 env: str | None, num_threads: int) -> None:
        self.number_per_run = number_per_run
        self.raw_times = list(raw_times)
        self.stmt, self.setup = stmt, setup
        self.label, self.sub_label, self.description = label, sub_label, description
        self.env, self.num_threads = env, num_threads

    @property
    def times(self) -> list[float]:
        """Seconds per run, one per block."""
        return [t / self.number_per_run for t in self.raw_times]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def iqr(self) -> float:
        """The interquartile range of ``times`` (seconds)."""
        q1, q3 = np.percentile(self.times, [25, 75])
        return float(q3 - q1)

    @property
    def has_warnings(self) -> bool:
        """Whether the spread is large against the median (over 10%), as PyTorch warns."""
        return len(self.times) >= 4 and self.iqr / self.median > 0.1

    @property
    def title(self) -> str:
        """``label: sub_label``, else the description, else the statement."""
        if self.label is not None:
            return self.label + (f": {self.sub_label}" if self.sub_label else "")
        return self.description or self.stmt

    def __repr__(self) -> str:
        lines = [f"<{type(self).__module__}.{type(self).__name__} object at "
                 f"{hex(id(self))}>"]
        if self.label is not None:
            lines.append(self.title)
        lines.append(self.description or self.stmt)
        if self.setup.strip() != "pass":
            lines.append(f"setup: {self.setup}")
        n, threads = len(self.times), f"{self.num_threads} thread" + \
            ("s" if self.num_threads > 1 else "")
        if n == 1:
            lines += [f"  {_format_time(self.median)}",
                      f"  1 measurement, {self.number_per_run} runs , {threads}"]
        else:
            lines += [f"  Median: {_format_time(self.median)}"]
            if n >= 4:
                q1, q3 = np.percentile(self.times, [25, 75])
                lines.append(f"  IQR:    {_format_time(self.iqr)} ({_format_time(q1)} to "
                             f"{_format_time(q3)})")
            lines.append(f"  {n} measurements, {self.number_per_run} runs per "
                         f"measurement, {threads}")
        return "\n".join(lines)


def _keeping_value(stmt: str) -> str:
    """``stmt`` with the value of its last expression assigned to :data:`_VALUE`, so
    that it can be computed before the run counts as done."""
    tree = ast.parse(stmt)
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body[-1]
        tree.body[-1] = ast.Assign(targets=[ast.Name(_VALUE, ast.Store())], value=last.value)
        ast.fix_missing_locations(tree)
    return ast.unparse(tree)


def _wait(value: Any, scope: dict[str, Any]) -> None:
    """Computes the pending work, then waits for the device to finish ``value``'s
    tensors, the tensors the statement's names hold (``y = x @ x``) and the parameters
    of its modules (a training step updates them)."""
    from fnnet.torch import _compiler
    from fnnet.torch.nn import Module
    from fnnet.torch.tensor import Tensor

    _compiler.maybe_flush()
    leaves = jax.tree_util.tree_leaves(value, is_leaf=lambda v: isinstance(v, Tensor))
    for held in scope.values():
        if isinstance(held, Tensor):
            leaves.append(held)
        elif isinstance(held, Module):
            leaves.extend(held.parameters())
    arrays = [_compiler.materialize(v._cell) for v in leaves if isinstance(v, Tensor)]
    jax.block_until_ready(arrays)


class Timer:
    """Times a statement of Python, as PyTorch's ``Timer``.

    Args:
        stmt: the statement to time (a ``str``).
        setup: run once before timing.
        global_setup: C++ only in PyTorch; must be empty.
        timer: the clock (default ``time.perf_counter``).
        globals: the names ``stmt`` and ``setup`` see (copied).
        label, sub_label, description, env: names kept in the :class:`Measurement`
            (``Compare`` groups by them).
        num_threads: recorded in the :class:`Measurement`; JAX chooses its own threads.
        language: ``"python"`` only.

    Raises:
        ValueError: ``stmt`` or ``setup`` is not a ``str``, or does not parse.
        NotImplementedError: ``language="cpp"`` or a ``global_setup``.

    PyTorch equivalent: ``torch.utils.benchmark.Timer``.
    """

    def __init__(self, stmt: str = "pass", setup: str = "pass", global_setup: str = "",
                 timer: Callable[[], float] = time.perf_counter,
                 globals: dict[str, Any] | None = None,  # noqa: A002 - PyTorch's name
                 label: str | None = None, sub_label: str | None = None,
                 description: str | None = None, env: str | None = None,
                 num_threads: int = 1, language: Any = "python") -> None:
        if not isinstance(stmt, str):
            raise ValueError("Currently only a `str` stmt is supported.")
        if not isinstance(setup, str):
            raise ValueError(f"setup must be a str, got {type(setup).__name__}")
        if str(getattr(language, "name", language)).lower() not in ("python", "py"):
            raise NotImplementedError(f"fnnet.torch's Timer times Python statements only "
                                      f"(language={language!r}): time C++ with PyTorch")
        if global_setup:
            raise NotImplementedError("fnnet.torch's Timer has no global_setup (C++ only in "
                                      "PyTorch): put the code in setup")
        if globals is not None and not isinstance(globals, dict):
            raise TypeError(f"globals must be a dict, got {type(globals).__name__}")
        if isinstance(num_threads, bool) or not isinstance(num_threads, int) or \
                num_threads < 1:
            raise ValueError(f"num_threads must be an int >= 1, got {num_threads!r}")
        try:
            self._stmt = compile(_keeping_value(stmt), "<timeit-stmt>", "exec")
            self._setup = compile(setup, "<timeit-setup>", "exec")
        except SyntaxError as error:
            raise ValueError(f"Timer: the statement does not parse: {error}") from None
        self._timer = timer
        self._globals = dict(globals or {})
        self._spec: dict[str, Any] = dict(stmt=stmt, setup=setup, label=label, sub_label=sub_label,
                          description=description, env=env, num_threads=num_threads)
        self._ready = False

    def _block(self, number: int) -> float:
        """Seconds to run the statement ``number`` times, each computed."""
        if not self._ready:
            exec(self._setup, self._globals)  # noqa: S102 - the user's own setup, as timeit
            self._ready = True
        scope, clock = self._globals, self._timer
        start = clock()
        for _ in range(number):
            exec(self._stmt, scope)  # noqa: S102 - the user's own statement, as timeit
            _wait(scope.pop(_VALUE, None), scope)
        return clock() - start

    def _measurement(self, number: int, raw_times: list[float]) -> Measurement:
        return Measurement(number, raw_times, **self._spec)

    def timeit(self, number: int = 1000000) -> Measurement:
        """Runs the statement ``number`` times (after warm-up runs, which compile)."""
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise ValueError(f"number must be an int >= 1, got {number!r}")
        self._block(3)
        return self._measurement(number, [self._block(number)])

    def _block_size(self) -> int:
        """Runs per block: the smallest power of 10 whose block takes 2 ms or more."""
        self._block(3)  # compiles (a run's first and second flushes may differ)
        number = 1
        while self._block(number) < 2e-3 and number < 10**6:
            number *= 10
        return number

    def blocked_autorange(self, callback: Callable[[int, float], Any] | None = None,
                          min_run_time: float = 0.2) -> Measurement:
        """Blocks of runs until ``min_run_time`` seconds of them have been timed."""
        number, times = self._block_size(), list[float]()
        while sum(times) < min_run_time or not times:
            times.append(self._block(number))
            if callback is not None:
                callback(number, times[-1])
        return self._measurement(number, times)

    def adaptive_autorange(self, threshold: float = 0.1, *, min_run_time: float = 0.01,
                           max_run_time: float = 10.0,
                           callback: Callable[[int, float], Any] | None = None
                           ) -> Measurement:
        """Blocks of runs until their IQR is within ``threshold`` of their median (after
        ``min_run_time`` seconds) or ``max_run_time`` seconds have passed."""
        number, times = self._block_size(), list[float]()
        while True:
            times.append(self._block(number))
            if callback is not None:
                callback(number, times[-1])
            total = sum(times)
            if total >= max_run_time:
                break
            if total >= min_run_time and len(times) >= 4:
                q1, median, q3 = np.percentile(times, [25, 50, 75])
                if (q3 - q1) / median <= threshold:
                    break
        return self._measurement(number, times)


    def collect_callgrind(self, *args: Any, **kwargs: Any) -> Any:
        """Not supported: raises NotImplementedError (Valgrind counts instructions of
        PyTorch's C++ kernels; XLA's programs have none of them)."""
        raise NotImplementedError("Timer.collect_callgrind is not supported by fnnet.torch: "
                                  "time the statement with blocked_autorange, or profile it "
                                  "with torch.profiler.profile")


class Compare:
    """A table of :class:`Measurement` medians: one per ``label``, a row per
    ``sub_label``, a column per ``description``.

    PyTorch equivalent: ``torch.utils.benchmark.Compare``.
    """

    def __init__(self, results: Iterable[Measurement]) -> None:
        self._results = list(results)
        for result in self._results:
            if not isinstance(result, Measurement):
                raise TypeError(f"Compare: results must be Measurements, got "
                                f"{type(result).__name__}")

    def __str__(self) -> str:
        if not self._results:
            return ""
        unit, scale = next(((u, s) for u, s in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6))
                            if min(r.median for r in self._results) >= s), ("ns", 1e-9))
        english = {"s": "seconds", "ms": "milliseconds", "us": "microseconds",
                   "ns": "nanoseconds"}[unit]
        out = []
        for label in dict.fromkeys(r.label for r in self._results):
            group = [r for r in self._results if r.label == label]
            columns = list(dict.fromkeys(r.description or "" for r in group))
            rows = list(dict.fromkeys(r.sub_label or r.stmt for r in group))
            cells = {(r.sub_label or r.stmt, r.description or ""): f"{r.median / scale:.1f}"
                     for r in group}
            table = [[""] + columns] + [[row] + [cells.get((row, c), "") for c in columns]
                                        for row in rows]
            widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
            lines = ["  |  ".join(f"{v:^{w}}" if i else f"{v:>{w}}"
                                  for i, (v, w) in enumerate(zip(line, widths, strict=True)))
                     for line in table]
            lines = ["      " + line for line in lines]
            rule = f"{group[0].num_threads} threads: "
            rule += "-" * max(len(lines[0]) - len(rule), 4)
            title = f" {label or ''} "
            out += [f"[{title:-^{len(lines[0])}}]", lines[0], rule, *lines[1:], ""]
        out.append(f"Times are in {english} ({unit}).")
        return "\n".join(out) + "\n"

    def trim_significant_figures(self) -> None:
        """Accepted: the table already shows each median to one decimal of its unit."""

    def colorize(self, rowwise: bool = False) -> None:
        """Accepted; the table is printed without terminal colours."""
        del rowwise

    def highlight_warnings(self) -> None:
        """Accepted; measurements with a wide spread are not marked."""

    def extend_results(self, results: Iterable[Measurement]) -> None:
        """Adds more measurements to the table."""
        more = list(results)
        for result in more:
            if not isinstance(result, Measurement):
                raise TypeError(f"Compare: results must be Measurements, got "
                                f"{type(result).__name__}")
        self._results += more

    def print(self) -> None:
        """Prints the table."""
        print(str(self))


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    from fnnet.torch.tensor import Unsupported

    raise Unsupported(f"fnnet.torch does not support torch.utils.benchmark.{name}; it "
                      f"provides Timer, Measurement and Compare")
