"""The rows of ``torch.profiler``'s results and PyTorch's text table of them.

:class:`FunctionEvent` is one event of a recorded window, :class:`FunctionEventAvg` the
events of one name summed (a row of ``key_averages()``), and :class:`EventList` a list of
either, printed by :meth:`EventList.table` in the layout of PyTorch's
``torch.autograd.profiler_util._build_table``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

#: the name of the region ``profile.step()`` opens around each step of a schedule
#: (``ProfilerStep#3``)
PROFILER_STEP = "ProfilerStep#"


def step_name(name: str) -> str:
    """``name``, or ``ProfilerStep*`` for a step's region: PyTorch's events and rows
    name every step so (the trace keeps the numbers)."""
    return "ProfilerStep*" if name.startswith(PROFILER_STEP) else name


def _formatted(attribute: str) -> property:
    """A property giving the time ``attribute`` as the table writes it (``1.234ms``)."""
    return property(lambda self: _format_us(getattr(self, attribute)))


class _FormattedTimes:
    """PyTorch's ``*_str`` properties of an event or a row: its times as the table
    writes them, for scripts that print their own lines."""

    cpu_time_str = _formatted("cpu_time")
    device_time_str = _formatted("device_time")
    cpu_time_total_str = _formatted("cpu_time_total")
    device_time_total_str = _formatted("device_time_total")
    self_cpu_time_total_str = _formatted("self_cpu_time_total")
    self_device_time_total_str = _formatted("self_device_time_total")


@dataclasses.dataclass(frozen=True)
class Interval:
    """An event's span in microseconds from the trace's start, as PyTorch's
    ``event.time_range``."""

    start: float
    end: float

    def elapsed_us(self) -> float:
        """The span's length in microseconds."""
        return self.end - self.start


@dataclasses.dataclass(frozen=True)
class FunctionEvent(_FormattedTimes):
    """One event of a recorded window: ``start_us`` and ``duration_us`` in microseconds
    from the trace's start, ``self_us`` its duration less that of the events it holds
    (same thread), ``device`` True for an accelerator's event; ``cpu_memory_usage`` and
    ``self_cpu_memory_usage`` in bytes (a region's, under ``profile_memory=True``: see
    :mod:`fnnet.torch.profiler`). It reads as a row of one call, so that a list of events
    prints as PyTorch's ``prof.events().table()``."""

    name: str
    thread: int
    start_us: float
    duration_us: float
    self_us: float
    device: bool
    cpu_memory_usage: int = 0
    self_cpu_memory_usage: int = 0

    # fnnet.torch's values live in XLA's buffers, counted as the tensors' (CPU) bytes
    device_memory_usage = property(lambda self: 0)
    self_device_memory_usage = property(lambda self: 0)
    # an event is one call, named by its name, with no operator inputs or FLOPs
    key = property(lambda self: self.name)
    count = property(lambda self: 1)
    input_shapes = property(lambda self: "")
    flops = property(lambda self: 0)

    @property
    def cpu_time_total(self) -> float:
        return 0.0 if self.device else self.duration_us

    @property
    def self_cpu_time_total(self) -> float:
        return 0.0 if self.device else self.self_us

    @property
    def device_time_total(self) -> float:
        return self.duration_us if self.device else 0.0

    @property
    def self_device_time_total(self) -> float:
        return self.self_us if self.device else 0.0

    cpu_time = cpu_time_total
    device_time = device_time_total

    @property
    def time_range(self) -> Interval:
        """When the event ran, microseconds from the trace's start."""
        return Interval(self.start_us, self.start_us + self.duration_us)


@dataclasses.dataclass(repr=False)
class FunctionEventAvg(_FormattedTimes):
    """The events of one name, summed (microseconds), as PyTorch's ``key_averages`` rows.

    ``input_shapes`` is ``[]`` in the rows of ``key_averages(group_by_input_shape=True)``
    (the events are regions and compiled programs, which record no operator inputs, as
    PyTorch shows a ``record_function`` region) and ``""`` otherwise, as PyTorch's.
    """

    key: str
    count: int = 0
    cpu_time_total: float = 0.0
    self_cpu_time_total: float = 0.0
    device_time_total: float = 0.0
    self_device_time_total: float = 0.0
    input_shapes: Any = ""
    cpu_memory_usage: int = 0
    self_cpu_memory_usage: int = 0

    @property
    def cpu_time(self) -> float:
        """Mean CPU microseconds per call."""
        return self.cpu_time_total / max(self.count, 1)

    @property
    def device_time(self) -> float:
        """Mean device microseconds per call."""
        return self.device_time_total / max(self.count, 1)

    # the rows are regions and compiled programs, whose FLOPs the trace does not count
    flops = property(lambda self: 0)
    # the device columns under the names older PyTorch code reads
    cuda_time_total = property(lambda self: self.device_time_total)
    self_cuda_time_total = property(lambda self: self.self_device_time_total)
    cuda_time = property(lambda self: self.device_time)
    device_memory_usage = property(lambda self: 0)
    self_device_memory_usage = property(lambda self: 0)
    cuda_memory_usage = property(lambda self: 0)
    self_cuda_memory_usage = property(lambda self: 0)

    def __repr__(self) -> str:
        """PyTorch's line for a row (its device columns named ``cuda`` without a GPU)."""
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total_str} "
                f"cpu_time={self.cpu_time_str}  self_cuda_time="
                f"{self.self_device_time_total_str} cuda_time={self.device_time_str} "
                f"input_shapes={self.input_shapes} cpu_memory_usage={self.cpu_memory_usage} "
                f"cuda_memory_usage={self.device_memory_usage}>")

    def add(self, event: FunctionEvent | FunctionEventAvg) -> None:
        """Counts ``event`` (or a row of them) into this row."""
        self.count += event.count
        self.cpu_memory_usage += event.cpu_memory_usage
        self.self_cpu_memory_usage += event.self_cpu_memory_usage
        self.cpu_time_total += event.cpu_time_total
        self.self_cpu_time_total += event.self_cpu_time_total
        self.device_time_total += event.device_time_total
        self.self_device_time_total += event.self_device_time_total


#: ``table(time_unit=...)``: microseconds per unit
TIME_UNITS = {"s": 1e6, "ms": 1e3, "us": 1.0}


def _format_us(us: float, unit: str | None = None) -> str:
    if unit is not None:
        return f"{us / TIME_UNITS[unit]:.3f}{unit}"
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _format_share(us: float, total_us: float) -> str:
    """A time as a percentage of ``total_us``, ``NaN`` when that is 0, as PyTorch's."""
    return f"{us * 100.0 / total_us:.2f}%" if total_us else "NaN"


def _format_bytes(nbytes: int) -> str:
    """Bytes as PyTorch's table writes them: ``B``, then ``KB``, ``MB``, ``GB`` (powers of
    1024) with two decimals."""
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if abs(nbytes) >= size:
            return f"{nbytes / size:.2f} {unit}"
    return f"{nbytes} B"


def _sort_attribute(sort_by: str) -> str:
    """The row attribute ``table(sort_by=...)`` sorts by: PyTorch's device-neutral name
    for a ``cuda``/``xpu`` key."""
    for device in ("cuda", "xpu", "privateuse1"):
        sort_by = sort_by.replace(device, "device")
    return sort_by


class EventList(list[Any]):
    """Events (``prof.events()``) or their rows (``prof.key_averages()``), with PyTorch's
    ``table``; rows grouped by input shape add PyTorch's ``Input Shapes`` column, and a
    profile with ``profile_memory=True`` its ``CPU Mem`` and ``Self CPU Mem`` columns."""

    def __init__(self, rows: Iterable[Any] = (), profile_memory: bool = False) -> None:
        super().__init__(rows)
        self.profile_memory = profile_memory

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        """The events summed by name, in order of first appearance; each schedule step's
        region (``ProfilerStep#3``) counts into one row ``ProfilerStep*``, as PyTorch's.

        ``group_by_input_shape=True`` adds PyTorch's ``Input Shapes`` column, ``[]`` in
        every row: the events are ``record_function`` regions and compiled programs,
        not operators, and hold no input shapes (as PyTorch shows a region).
        ``group_by_stack_n`` groups by name all the same: the events carry no Python
        stacks (``profile(with_stack=True)``'s trace holds them, for TensorBoard's
        profile tab), and PyTorch groups events without stacks by name.

        Raises:
            TypeError: ``group_by_stack_n`` is not an int >= 0.
        """
        del group_by_overload_name  # the rows are regions and programs: no overloads
        if not isinstance(group_by_stack_n, int) or isinstance(group_by_stack_n, bool) \
                or group_by_stack_n < 0:
            raise TypeError(f"key_averages: group_by_stack_n must be an int >= 0, got "
                            f"{group_by_stack_n!r}")
        rows: dict[str, FunctionEventAvg] = {}
        for event in self:
            key = step_name(event.key)
            row = rows.setdefault(key, FunctionEventAvg(key))
            row.add(event)
            if group_by_input_shape:
                row.input_shapes = []
        return EventList(rows.values(), profile_memory=self.profile_memory)

    def total_average(self) -> FunctionEventAvg:
        """Every row summed into one named ``Total``, as PyTorch's."""
        total = FunctionEventAvg("Total")
        for row in self:
            total.add(row)
        return total

    @property
    def self_cpu_time_total(self) -> float:
        """Microseconds of host time, each event's own."""
        return float(sum(row.self_cpu_time_total for row in self))

    def table(self, sort_by: str | None = None, row_limit: int = 100,
              max_src_column_width: int = 75, max_name_column_width: int = 55,
              max_shapes_column_width: int = 80, header: str | None = None,
              top_level_events_only: bool = False, time_unit: str | None = None) -> str:
        """The rows as PyTorch's text table (``""`` when there are none), sorted by the
        row attribute ``sort_by`` names (descending, rows that tie in their order; a
        ``cuda`` key sorts by the ``device`` one; None: the rows' order), at most
        ``row_limit`` rows (all with a negative limit).

        ``time_unit`` (``"s"``, ``"ms"`` or ``"us"``) writes every time in that unit. The
        memory keys sort a profile without ``profile_memory`` too (every row 0), as
        PyTorch's.

        Raises:
            AttributeError: an unknown ``sort_by`` (PyTorch's error: no such attribute).
            ValueError: an unknown ``time_unit``.
        """
        del max_src_column_width  # the rows hold no source locations
        if time_unit is not None and time_unit not in TIME_UNITS:
            raise ValueError(f"table: time_unit must be one of {sorted(TIME_UNITS)} or None, "
                             f"got {time_unit!r}")
        if not self:
            return ""
        rows = list(self)
        if sort_by is not None:
            attribute = _sort_attribute(sort_by)
            rows.sort(key=lambda r: getattr(r, attribute), reverse=True)
        device = any(r.self_device_time_total > 0 for r in rows)
        self_cpu = sum(r.self_cpu_time_total for r in rows)
        self_device = sum(r.self_device_time_total for r in rows)
        shapes = any(isinstance(r.input_shapes, list) for r in rows)

        width = min(max(len(r.key) for r in rows) + 4, max_name_column_width)
        headers = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total",
                   "CPU time avg"]
        if device:
            headers += ["Self CUDA", "Self CUDA %", "CUDA total", "CUDA time avg"]
        if self.profile_memory:
            headers += ["CPU Mem", "Self CPU Mem"]
        headers.append("# of Calls")
        widths = [width] + [12] * (len(headers) - 1)
        if shapes:
            headers.append("Input Shapes")
            widths.append(min(max(len(str(r.input_shapes)) for r in rows) + 4,
                              max_shapes_column_width))

        def line(cells: list[Any]) -> str:
            # PyTorch's row format: right-aligned cells, each followed by two spaces
            return "".join(f"{cell:>{w}}  " for cell, w in zip(cells, widths, strict=True))

        rule = "".join("-" * w + "  " for w in widths)
        lines = []
        if header is not None:
            lines += ["=" * (len(rule) - 2), header]
        if top_level_events_only:  # the rows are regions and programs: all top level
            lines += ["=" * (len(rule) - 2), "This report only display top-level ops statistics"]
        lines += [rule, line(headers), rule]
        limit = len(rows) if row_limit is None or row_limit < 0 else row_limit
        for r in rows[:limit]:
            name = r.key
            if len(name) >= max_name_column_width - 3:
                name = name[:max_name_column_width - 3] + "..."
            cells = [name, _format_share(r.self_cpu_time_total, self_cpu),
                     _format_us(r.self_cpu_time_total, time_unit),
                     _format_share(r.cpu_time_total, self_cpu),
                     _format_us(r.cpu_time_total, time_unit),
                     _format_us(r.cpu_time, time_unit)]
            if device:
                cells += [_format_us(r.self_device_time_total, time_unit),
                          _format_share(r.self_device_time_total, self_device),
                          _format_us(r.device_time_total, time_unit),
                          _format_us(r.device_time, time_unit)]
            if self.profile_memory:
                cells += [_format_bytes(r.cpu_memory_usage),
                          _format_bytes(r.self_cpu_memory_usage)]
            cells.append(r.count)
            if shapes:
                cells.append(str(r.input_shapes)[:widths[-1]])
            lines.append(line(cells))
        lines += [rule, f"Self CPU time total: {_format_us(self_cpu, time_unit)}"]
        if device:
            lines.append(f"Self CUDA time total: {_format_us(self_device, time_unit)}")
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.table()
