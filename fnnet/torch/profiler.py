"""``torch.profiler`` on ``jax.profiler``: traces for TensorBoard and Perfetto, and tables.

A :class:`profile` records a ``jax.profiler`` trace while it is active (all of it, or the
steps its :func:`schedule` marks for recording). Each recorded window gives:

- the trace that TensorBoard's profile plugin opens (``<dir>/plugins/profile/<time>/
  <host>.xplane.pb``), written into the folder of a :func:`tensorboard_trace_handler`;
- its events: :meth:`profile.key_averages` sums them by name into PyTorch's table, and
  :meth:`profile.export_chrome_trace` writes them as a Chrome trace (``chrome://tracing``,
  Perfetto).

fnnet.torch records operations and runs them as compiled programs, so the events are
those of the host (the :class:`record_function` regions, the compiled programs' calls)
and of XLA's kernels, not one per PyTorch operator: a ``record_function`` region around
a forward pass covers its recording, and the forward's computation shows up in the
program that runs at the next value read or ``optimizer.step()``.

Memory (``profile(profile_memory=True)``): PyTorch counts, for each event, the bytes its
operators allocated less those freed before it ended. In fnnet.torch a tensor's memory is
its value, which exists once a program computes it, and the values a program computes
between its inputs and its outputs are XLA's to keep or fuse away, not tensors. So the
figure here is that of the tensors: a :class:`record_function` region's
``cpu_memory_usage`` is the bytes (elements times dtype size) of the tensors made inside
it that are still alive when it ends, views left out as PyTorch's share their base's
storage; ``self_cpu_memory_usage`` is that less its nested regions' figures (negative when
it drops tensors they made, as PyTorch's). A region around a Linear layer's forward shows
its output's bytes, as PyTorch's does; a region around a model's forward under
``torch.no_grad()`` shows the output's bytes, as PyTorch's, while with grad enabled
PyTorch also counts the activations autograd saves, which fnnet.torch keeps inside the
compiled step. The rows hold no operators, so a region's self figure also holds what
PyTorch gives its operators' rows (``aten::addmm``...). Compiled programs' rows, and
tensors made outside every region, count 0; an in-place update counts 0, as PyTorch's.
The bytes are those of fnnet.torch's arrays: with JAX's default of 32-bit values, a
``float64`` or ``int64`` tensor counts 4 bytes an element where PyTorch's counts 8.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import gzip
import json
import math
import os
import pathlib
import shutil
import socket
import tempfile
import threading
import time
import uuid
import warnings
import weakref
from collections.abc import Callable, Iterable
from typing import Any

import jax

from fnnet.torch._profiler_events import PROFILER_STEP, EventList, FunctionEvent, step_name
from fnnet.torch.tensor import watch_new_tensors

__all__ = ["ProfilerAction", "ProfilerActivity", "profile", "record_function", "schedule",
           "supported_activities", "tensorboard_trace_handler"]

#: the argument that marks a record_function region's trace event, so that the Chrome
#: trace files it as a ``user_annotation`` (PyTorch's category for such regions)
_REGION_ARG = "record_function"
#: what a region's "#" is written as in JAX's trace, whose annotations end their name at
#: a "#" (it opens their arguments: "name#key=value#"); the events read back have "#"
_HASH = "\uff03"


class ProfilerActivity(enum.Enum):
    """What to trace; JAX's trace holds the host and the device a program runs on, so
    every activity is accepted and the trace is the same."""

    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5


class ProfilerAction(enum.Enum):
    """What a profiler does at a step (what :func:`schedule` returns)."""

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3
    DEVICE_STOPPED = 4  # PyTorch's profiler sets it when a device stops collecting


_RECORDING = (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)
#: PyTorch's warning, once a process, for a profiler starting a second window that drops
#: the first's events
_CLEARS_EVENTS = ("Warning: Profiler clears events at the end of each cycle. Only events "
                  "from the current cycle will be reported. To keep events across cycles, "
                  "set acc_events=True.")
_WARNED: set[str] = set()
#: the options a Chrome trace's header names (as 1) where the profiler was given them
_HEADER_OPTIONS = ("with_stack", "profile_memory", "record_shapes", "with_modules",
                   "with_flops")
#: the metrics export_stacks takes, as PyTorch's
_STACK_METRICS = ("self_cpu_time_total", "self_cuda_time_total", "self_xpu_time_total",
                  "self_privateuse1_time_total")


def supported_activities() -> set[ProfilerActivity]:
    """The activities JAX's backend can trace: the CPU, and CUDA where JAX has a GPU."""
    found = {ProfilerActivity.CPU}
    if jax.default_backend() == "gpu":
        found.add(ProfilerActivity.CUDA)
    return found


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0) -> Callable[[int], ProfilerAction]:
    """The steps to record, as PyTorch's ``torch.profiler.schedule``.

    After ``skip_first`` steps, cycles of ``wait`` idle steps, ``warmup`` steps and
    ``active`` recorded steps, ``repeat`` times (0: until the profiler stops); the last
    active step of a cycle saves its trace (``RECORD_AND_SAVE``). With
    ``skip_first_wait``, the first cycle starts without its wait.

    Returns:
        ``step -> ProfilerAction``.

    Raises:
        TypeError: a count that is not an int.
        AssertionError: a negative count, or ``active`` below 1 (PyTorch's error).
    """
    counts = {"wait": wait, "warmup": warmup, "active": active, "repeat": repeat,
              "skip_first": skip_first, "skip_first_wait": skip_first_wait}
    for name, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"schedule: {name} must be an int, got {value!r}")
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError(
            f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), "
            f"warmup={warmup} (need >= 0), active={active} (need > 0), repeat={repeat} "
            f"(need >= 0), skip_first={skip_first} (need >= 0).")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results",
                      stacklevel=2)
    cycle = wait + warmup + active

    def action(step: int) -> ProfilerAction:
        if step < 0:
            raise AssertionError(f"Step must be non-negative. Got {step}.")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait:
            step += wait
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        position = step % cycle
        if position < wait:
            return ProfilerAction.NONE
        if position < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if position < cycle - 1 else \
            ProfilerAction.RECORD_AND_SAVE

    return action


def _always_record(step: int) -> ProfilerAction:
    del step
    return ProfilerAction.RECORD


class _TensorBoardHandler:
    """Saves each recorded window into ``dir_name`` (see :func:`tensorboard_trace_handler`)."""

    def __init__(self, dir_name: str | os.PathLike[str], worker_name: str | None,
                 use_gzip: bool) -> None:
        self.dir = pathlib.Path(dir_name)
        self.worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        self.use_gzip = use_gzip

    def keep_trace(self, run_dir: pathlib.Path) -> None:
        """Moves a window's ``jax.profiler`` trace (``run_dir/plugins/profile/<time>/``)
        into ``dir``'s, under a name no earlier window took: JAX names the folder by the
        second, so windows ending within one second would overwrite each other's."""
        profiles = self.dir / "plugins" / "profile"
        for window in sorted((run_dir / "plugins" / "profile").iterdir()):
            target, n = profiles / window.name, 0
            while True:  # made, not checked, so that two processes never share one
                try:
                    target.mkdir(parents=True)
                    break
                except FileExistsError:
                    n += 1
                    target = profiles / f"{window.name}_{n}"
            for file in window.iterdir():
                shutil.move(str(file), str(target / file.name))

    def __call__(self, prof: profile) -> None:
        suffix = ".pt.trace.json.gz" if self.use_gzip else ".pt.trace.json"
        prof.export_chrome_trace(str(self.dir / f"{self.worker}.{time.time_ns()}{suffix}"))


def tensorboard_trace_handler(dir_name: str | os.PathLike[str], worker_name: str | None = None,
                              use_gzip: bool = False,
                              use_python_export: bool = False) -> Callable[[profile], None]:
    """An ``on_trace_ready`` that saves each recorded window into ``dir_name``.

    The window's ``jax.profiler`` trace goes to ``dir_name/plugins/profile/<time>/``
    (``<time>_1``, ``<time>_2``... for later windows ending in the same second)
    (``tensorboard --logdir dir_name`` shows it in its profile tab, with the
    ``tensorboard-plugin-profile`` package), and its events to
    ``dir_name/<worker_name>.<time_ns>.pt.trace.json`` (``.gz`` with ``use_gzip``), a
    Chrome trace as PyTorch's handler writes.

    Args:
        dir_name: the folder, made if missing.
        worker_name: the files' prefix; by default ``<host>_<pid>``.
        use_gzip: compress the Chrome trace.
        use_python_export: accepted for compatibility (one way of writing here).
    """
    del use_python_export
    if not isinstance(dir_name, (str, os.PathLike)) or not str(dir_name):
        raise TypeError(f"tensorboard_trace_handler: dir_name must be a folder path, "
                        f"got {dir_name!r}")
    path = pathlib.Path(dir_name)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"tensorboard_trace_handler: dir_name {str(path)!r} exists "
                                 f"and is not a folder")
    path.mkdir(parents=True, exist_ok=True)
    return _TensorBoardHandler(path, worker_name, use_gzip)


def _tensor_bytes(tensor: Any) -> int:
    """A tensor's own bytes: elements times dtype size; 0 for a view (PyTorch's views
    share their base's storage)."""
    if tensor._view is not None:
        return 0
    shape, dtype = tensor._cell.aval[:2]
    return int(math.prod(shape)) * int(dtype.itemsize)


class _Region:
    """The tensors made while one :class:`record_function` region is open (weakly held),
    and the figures of the regions nested in it."""

    __slots__ = ("made", "nested")

    def __init__(self) -> None:
        self.made: list[weakref.ref[Any]] = []
        self.nested = 0


class _MemoryLog:
    """What a window of ``profile(profile_memory=True)`` learns of memory: the open
    regions (per thread) and, per region name, the ``(total, self)`` bytes of each
    closed region in the order they ended."""

    def __init__(self) -> None:
        self.local = threading.local()
        self.closed: list[tuple[str, float, int, int]] = []  # (name, start ns, total, self)
        self.lock = threading.Lock()

    def stack(self) -> list[_Region]:
        found = getattr(self.local, "stack", None)
        if found is None:
            found = self.local.stack = []
        return found

    def on_new_tensor(self, tensor: Any) -> None:
        """``fnnet.torch.tensor``'s hook: the innermost open region made ``tensor``."""
        stack = getattr(self.local, "stack", None)
        if stack:
            stack[-1].made.append(weakref.ref(tensor))

    def close(self, name: str, start_ns: float, region: _Region) -> None:
        """Figures ``region`` as it ends; its tensors pass to the region around it."""
        stack = self.stack()
        if region in stack:
            stack.remove(region)
        total = sum(_tensor_bytes(t) for ref in region.made if (t := ref()) is not None)
        with self.lock:
            self.closed.append((name, start_ns, total, total - region.nested))
        if stack:
            stack[-1].made.extend(region.made)
            stack[-1].nested += total


#: the memory log of the profiler recording with ``profile_memory=True``, if any
_memory: _MemoryLog | None = None


class record_function(contextlib.ContextDecorator):  # noqa: N801 - PyTorch's name
    """Names a region of the host's work in the trace (a ``jax.profiler.TraceAnnotation``);
    a context manager or a decorator, as in PyTorch. Under ``profile(profile_memory=True)``
    it also counts the bytes of the tensors made inside it (see the module docstring).

    Args:
        name: the region's name in the trace and in :meth:`profile.key_averages`.
        args: accepted for compatibility (shown nowhere).
    """

    def __init__(self, name: str, args: str | None = None) -> None:
        if not isinstance(name, str):
            raise TypeError(f"record_function: name must be a str, got {name!r}")
        del args
        self.name = name
        self._annotation: jax.profiler.TraceAnnotation | None = None
        self._region: tuple[_MemoryLog, _Region, float] | None = None

    def __enter__(self) -> record_function:
        log = _memory
        if log is not None:
            region = _Region()
            log.stack().append(region)
            self._region = (log, region, time.perf_counter_ns())
        self._annotation = jax.profiler.TraceAnnotation(self.name.replace("#", _HASH),
                                                        **{_REGION_ARG: 1})
        self._annotation.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        annotation, self._annotation = self._annotation, None
        if annotation is not None:
            annotation.__exit__(*exc)
        opened, self._region = self._region, None
        if opened is not None and opened[0] is _memory:
            opened[0].close(self.name, opened[2], opened[1])


def _read_trace(run_dir: pathlib.Path) -> list[dict[str, Any]]:
    """The Chrome trace events of the newest ``jax.profiler`` trace under ``run_dir``."""
    found = sorted(run_dir.glob("plugins/profile/*/*.trace.json.gz"),
                   key=lambda p: p.stat().st_mtime)
    if not found:
        raise RuntimeError(f"torch.profiler: jax.profiler wrote no trace under {run_dir}")
    with gzip.open(found[-1], "rt") as f:
        trace = json.load(f)
    events = trace.get("traceEvents", []) if isinstance(trace, dict) else trace
    # JAX's trace ends with an empty {} that is no event of the Chrome trace format
    events = [e for e in events if isinstance(e, dict) and "ph" in e]
    for e in events:
        if _HASH in str(e.get("name", "")):
            e["name"] = e["name"].replace(_HASH, "#")
    return events


def _device_pids(raw: list[dict[str, Any]]) -> set[Any]:
    """The trace's processes that are devices (``/device:GPU:0``...), not the host."""
    return {e.get("pid") for e in raw if e.get("ph") == "M"
            and e.get("name") == "process_name"
            and str(e.get("args", {}).get("name", "")).startswith("/device:")}


def _python_event_name(function: Any) -> str:
    """The name ``jax.profiler``'s Python tracer gives a call of ``function``."""
    code = function.__code__
    return f"${os.path.basename(code.co_filename)}:{code.co_firstlineno} {code.co_name}"


def _own_calls() -> frozenset[str]:
    """The Python tracer's names for the calls that end a recorded window (and what the
    trace records inside them is the profiler's own work, not the program's)."""
    return frozenset(_python_event_name(f) for f in (
        profile.step, profile.stop, profile.__exit__, profile._end,
        jax.profiler.stop_trace))


def _repeated(event: dict[str, Any], enclosing: dict[str, Any] | None) -> bool:
    """Whether ``event`` repeats the event holding it: JAX traces each call of a
    compiled function as two nested events of one name, the inner one spanning nearly
    all of the outer one, which would count the call twice (a region or a Python call
    nested in one of its name is a call of its own)."""
    name = str(event.get("name", ""))
    if enclosing is None or enclosing.get("name") != name or name.startswith("$") \
            or _REGION_ARG in event.get("args", {}):
        return False
    outer = float(enclosing["dur"])
    slack = 2.0 + 0.01 * outer  # microseconds between the two starts, and the two ends
    start_gap = float(event["ts"]) - float(enclosing["ts"])
    end_gap = outer - start_gap - float(event["dur"])
    return start_gap <= slack and end_gap <= slack


def _function_events(raw: list[dict[str, Any]]) -> list[FunctionEvent]:
    """The complete ('X') events, with their self times: an event's duration less that
    of the events it holds on its thread. A compiled call's repeated event (see
    :func:`_repeated`) is left out, and with ``with_stack=True`` so are the profiler's
    own calls ending the window (see :func:`_own_calls`) with what they hold: the
    events holding them count that time as their children's, not their own."""
    device_pids = _device_pids(raw)
    own_calls = _own_calls()
    threads: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    for e in raw:
        # "$..." events are the Python tracer's function calls (with_stack=True)
        if e.get("ph") == "X" and "dur" in e and "ts" in e:
            threads.setdefault((e.get("pid"), e.get("tid")), []).append(e)
    events: list[FunctionEvent] = []
    for (pid, tid), traced in threads.items():
        traced.sort(key=lambda e: (float(e["ts"]), -float(e["dur"])))
        spans: list[dict[str, Any]] = []
        held: list[float] = []
        open_spans: list[tuple[int, float]] = []  # (index, end) of the enclosing events
        own_end = -math.inf  # the end of the profiler's own call in progress
        for e in traced:
            start, duration = float(e["ts"]), float(e["dur"])
            end = start + duration - 1e-3
            if end < own_end:
                continue
            while open_spans and open_spans[-1][1] < end:
                open_spans.pop()
            enclosing = spans[open_spans[-1][0]] if open_spans else None
            if _repeated(e, enclosing):
                continue
            if open_spans:
                held[open_spans[-1][0]] += duration
            if e.get("name") in own_calls:
                own_end = start + duration
                continue
            open_spans.append((len(spans), start + duration))
            spans.append(e)
            held.append(0.0)
        for i, e in enumerate(spans):
            duration = float(e["dur"])
            events.append(FunctionEvent(step_name(str(e.get("name"))), int(tid or 0),
                                        float(e["ts"]), duration,
                                        max(duration - held[i], 0.0), pid in device_pids))
    events.sort(key=lambda e: e.start_us)
    return events


def _with_memory(events: list[FunctionEvent], log: _MemoryLog) -> list[FunctionEvent]:
    """``events`` with the bytes of each closed region of ``log``: the k-th region of a
    name, by start, is the k-th host event of that name in the trace."""
    figures: dict[str, list[tuple[int, int]]] = {}
    for name, _, total, own in sorted(log.closed, key=lambda c: c[1]):
        figures.setdefault(step_name(name), []).append((total, own))
    taken: dict[str, int] = {}
    out = []
    for event in events:  # sorted by start
        found = figures.get(event.name)
        k = taken.get(event.name, 0)
        if found and not event.device and k < len(found):
            taken[event.name] = k + 1
            event = dataclasses.replace(event, cpu_memory_usage=found[k][0],
                                        self_cpu_memory_usage=found[k][1])
        out.append(event)
    return out


def _chrome_events(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The trace's events in PyTorch's Chrome trace form: each complete ('X') event with
    PyTorch's category (``cat``) and an ``args`` dict (see
    :meth:`profile.export_chrome_trace`)."""
    device_pids = _device_pids(raw)
    out = []
    for event in raw:
        if event.get("ph") == "X":
            event = dict(event)
            args = dict(event.get("args", {}))
            if args.pop(_REGION_ARG, None) is not None:
                event["cat"] = "user_annotation"
            elif str(event.get("name", "")).startswith("$"):
                event["cat"] = "python_function"
            else:
                event["cat"] = "kernel" if event.get("pid") in device_pids else "cpu_op"
            event["args"] = args
        out.append(event)
    return out


class profile:  # noqa: N801 - PyTorch's name
    """Traces the work between ``start()`` and ``stop()`` (a ``with`` block) with
    ``jax.profiler``, in the windows ``schedule`` marks (every step without one).

    Args:
        activities: :class:`ProfilerActivity` values (all give JAX's one trace).
        schedule: ``step -> ProfilerAction`` (see :func:`schedule`); ``step()`` advances it,
            and each step is a region ``ProfilerStep#<n>`` (the rows' ``ProfilerStep*``),
            as in PyTorch.
        on_trace_ready: called with this profiler after each recorded window (see
            :func:`tensorboard_trace_handler`).
        with_stack: also trace Python function calls (``jax.profiler``'s Python tracer).
        profile_memory: count the bytes of the tensors each :class:`record_function`
            region makes (its rows' ``cpu_memory_usage`` and ``self_cpu_memory_usage``,
            the table's ``CPU Mem`` and ``Self CPU Mem``: see the module docstring).
        acc_events: keep the events of every recorded window for :meth:`events` and
            :meth:`key_averages` (the Chrome trace is the last window's), not only the
            last one's.

    PyTorch's other arguments (``record_shapes``, ``with_flops``, ``with_modules``,
    ``experimental_config``, ``use_cuda``...) are accepted and change nothing: JAX's
    trace has no per-operator shapes or FLOPs. Only one profiler runs at a time (JAX's
    rule): starting a second raises ``RuntimeError``. Results asked of a profiler whose
    schedule never reached a warmup or recorded step raise PyTorch's ``AssertionError``.

    Example::

        with profile(profile_memory=True) as prof:
            with record_function("forward"):
                out = model(x)
        print(prof.key_averages().table(sort_by="self_cpu_memory_usage", row_limit=10))
    """

    def __init__(self, *, activities: Iterable[ProfilerActivity] | None = None,
                 schedule: Callable[[int], ProfilerAction] | None = None,
                 on_trace_ready: Callable[..., Any] | None = None, record_shapes: bool = False,
                 profile_memory: bool = False, with_stack: bool = False,
                 with_flops: bool = False, with_modules: bool = False,
                 experimental_config: Any = None, execution_trace_observer: Any = None,
                 acc_events: bool = False, use_cuda: bool | None = None,
                 custom_trace_id_callback: Callable[[], str] | None = None,
                 post_processing_timeout_s: float | None = None) -> None:
        del experimental_config, execution_trace_observer
        if use_cuda is not None:
            warnings.warn("`use_cuda` is deprecated, use `activities` argument instead",
                          FutureWarning, stacklevel=2)
        del post_processing_timeout_s
        if activities is not None:
            # PyTorch keeps the ProfilerActivity values and refuses a list without one
            activities = [a for a in activities if isinstance(a, ProfilerActivity)]
            if not activities:
                raise AssertionError("No valid profiler activities found")
        if schedule is not None and not callable(schedule):
            raise TypeError(f"profile: schedule must be callable (torch.profiler.schedule), "
                            f"got {schedule!r}")
        if on_trace_ready is not None and not callable(on_trace_ready):
            raise TypeError(f"profile: on_trace_ready must be callable, got {on_trace_ready!r}")
        self.activities = activities
        self.schedule = schedule or _always_record
        # with a schedule, each step is a region "ProfilerStep#<n>" in the trace
        self.record_steps = schedule is not None
        self._step_region: record_function | None = None
        self.on_trace_ready = on_trace_ready
        self.with_stack = with_stack
        # kept as PyTorch keeps them; the trace is the same either way
        self.record_shapes, self.with_flops, self.with_modules = \
            record_shapes, with_flops, with_modules
        self.profile_memory = bool(profile_memory)
        # keep the events of every recorded window, not only the last one's
        self.acc_events = bool(acc_events)
        self._prepared = False  # a window has been prepared (warmup or recording) before
        self._memory: _MemoryLog | None = None
        self.step_num = 0
        self.current_action = ProfilerAction.NONE
        self._run_dir: pathlib.Path | None = None  # where the active window's trace goes
        self._events: list[FunctionEvent] = []
        self._raw: list[dict[str, Any]] = []
        self._started = False
        self._initialized = False  # the schedule has reached a warmup or recorded step
        self.custom_trace_id_callback = custom_trace_id_callback
        self._trace_id: str | None = None
        self._metadata: dict[str, Any] = {}  # add_metadata's, written into the traces
        self._started_ns = 0

    @property
    def profiler(self) -> _WindowEvents | None:
        """The events of the recorded window through the older API's names
        (``prof.profiler.function_events``, ``total_average()``,
        ``self_cpu_time_total``), as PyTorch's ``torch.autograd.profiler`` object
        there; None before the schedule reaches a warmup or recorded step."""
        return _WindowEvents(self) if self._initialized else None

    def _check_initialized(self, doing: str) -> None:
        """PyTorch's error for results asked of a profiler that never warmed up."""
        if not self._initialized:
            raise AssertionError(f"Profiler must be initialized before {doing}")

    def _take_action(self, previous: ProfilerAction) -> None:
        """Notes whether the current action (warmup or recording) initializes the
        profiler, as PyTorch prepares its trace then: with PyTorch's warning where CUDA
        is asked for and there is none (JAX's trace holds whatever device runs)."""
        if self.current_action is ProfilerAction.NONE:
            return
        self._initialized = True
        if previous not in (ProfilerAction.NONE, ProfilerAction.RECORD_AND_SAVE):
            return  # the window in progress goes on
        # PyTorch makes a new profiler for each window, but the first with acc_events
        fresh = not (self._prepared and self.acc_events)
        if self._prepared and not self.acc_events and _CLEARS_EVENTS not in _WARNED:
            _WARNED.add(_CLEARS_EVENTS)  # once a process, as PyTorch's
            warnings.warn(_CLEARS_EVENTS, stacklevel=3)
        self._prepared = True
        if fresh and ProfilerActivity.CUDA in (self.activities or ()):
            from fnnet.torch.device import cuda

            if not cuda.is_available():
                warnings.warn("CUDA is not available, disabling CUDA profiling", stacklevel=3)
                if set(self.activities or ()) == {ProfilerActivity.CUDA}:
                    # PyTorch's profiler is left with nothing to record
                    raise AssertionError("No activities specified for the profiler")

    def _open_step(self) -> None:
        if self.record_steps:
            self._step_region = record_function(f"{PROFILER_STEP}{self.step_num}")
            self._step_region.__enter__()

    def _close_step(self) -> None:
        region, self._step_region = self._step_region, None
        if region is not None:
            region.__exit__(None, None, None)

    # -- the window state machine ---------------------------------------------------
    def start(self) -> None:
        """Starts profiling at step 0 (``__enter__`` calls it). Started again before
        :meth:`stop`, it starts afresh as PyTorch's does: the window being recorded is
        dropped (not handed to ``on_trace_ready``) and the schedule begins at step 0."""
        if self._started:
            self._close_step()
            if self._run_dir is not None:
                self._drop_window()
        self._started = True
        self.step_num = 0
        self.current_action = self.schedule(0)
        try:
            self._take_action(ProfilerAction.NONE)
        except AssertionError:
            self._started = False
            raise
        if self.current_action in _RECORDING:
            self._begin()
        self._open_step()

    def stop(self) -> None:
        """Ends profiling; a window still recording is saved (``__exit__`` calls it).

        Raises:
            AssertionError: a profiler never started whose schedule records now
                (PyTorch's error).
        """
        if not self._started:
            if self.schedule(self.step_num) in _RECORDING:
                self._check_initialized("stopping trace")
            return
        self._started = False
        self._close_step()
        if self._run_dir is not None:
            self._end()

    def step(self) -> None:
        """Marks the end of a training step: the schedule's next action takes effect."""
        if not self._started:
            return
        self._close_step()
        previous = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        self._take_action(previous)
        recording = self._run_dir is not None
        if recording and (previous is ProfilerAction.RECORD_AND_SAVE
                          or self.current_action not in _RECORDING):
            self._end()
            recording = False
        if not recording and self.current_action in _RECORDING:
            self._begin()
        self._open_step()

    def __enter__(self) -> profile:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _begin(self) -> None:
        make_id = self.custom_trace_id_callback
        self._trace_id = make_id() if make_id is not None else uuid.uuid4().hex.upper()
        # a TensorBoard handler's folder gets the trace once the window ends (keep_trace)
        self._run_dir = pathlib.Path(tempfile.mkdtemp(prefix="fnnet-profile-"))
        options = jax.profiler.ProfileOptions()
        options.python_tracer_level = 1 if self.with_stack else 0
        self._started_ns = time.time_ns()  # the window's wall-clock start
        try:
            jax.profiler.start_trace(str(self._run_dir), profiler_options=options)
        except RuntimeError as error:
            self._discard()
            self._started = False
            raise RuntimeError(f"profile: another profiler (torch.profiler.profile or "
                               f"jax.profiler) is already running: {error}") from error
        if self.profile_memory:
            self._watch(_MemoryLog())

    def _watch(self, log: _MemoryLog | None) -> None:
        """Makes ``log`` the one that record_function regions and new tensors report to
        (None: none)."""
        global _memory
        self._memory = _memory = log
        watch_new_tensors(None if log is None else log.on_new_tensor)

    def _end(self) -> None:
        log = self._memory
        if log is not None:
            self._watch(None)
        # the window's work includes what is still running on the device
        jax.block_until_ready(jax.live_arrays())
        jax.profiler.stop_trace()
        try:
            assert self._run_dir is not None
            self._raw = _read_trace(self._run_dir)
            events = _function_events(self._raw)
            if log is not None:
                events = _with_memory(events, log)
            events.sort(key=lambda e: e.start_us)  # each window's times start at its own 0
            self._events = self._events + events if self.acc_events else events
            if isinstance(self.on_trace_ready, _TensorBoardHandler):
                self.on_trace_ready.keep_trace(self._run_dir)
        finally:
            self._discard()
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def _drop_window(self) -> None:
        """Stops the window being recorded without keeping its events."""
        log = self._memory
        if log is not None:
            self._watch(None)
        try:
            jax.profiler.stop_trace()
        finally:
            self._discard()

    def _discard(self) -> None:
        if self._run_dir is not None:
            shutil.rmtree(self._run_dir, ignore_errors=True)
        self._run_dir = None

    # -- results ----------------------------------------------------------------------
    def events(self) -> EventList:
        """The last recorded window's events (with ``acc_events=True``, every window's,
        window after window), in order of their start.

        Raises:
            AssertionError: the profiler never warmed up (PyTorch's error).
        """
        self._check_initialized("accessing events")
        return EventList(self._events, profile_memory=self.profile_memory)

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        """The last recorded window's events summed by name, in order of appearance (see
        :meth:`EventList.key_averages`).

        Raises:
            AssertionError: the profiler never warmed up (PyTorch's error).
        """
        self._check_initialized("getting key averages")
        return self.events().key_averages(group_by_input_shape, group_by_stack_n,
                                          group_by_overload_name)

    def export_chrome_trace(self, path: str | os.PathLike[str],
                            use_python_export: bool = False) -> str:
        """Writes the last recorded window as a Chrome trace (JSON, gzipped when ``path``
        ends in ``.gz``) and returns ``path`` (``use_python_export`` changes nothing).

        Each complete event carries the category PyTorch's trace gives it, which
        TensorBoard's PyTorch profiler plugin requires: ``user_annotation`` for a
        :class:`record_function` region (and a schedule's ``ProfilerStep#<n>``),
        ``python_function`` for a call traced by ``with_stack=True``, ``kernel`` for a
        device's event and ``cpu_op`` for the host's other work (the compiled programs'
        calls).

        Raises:
            AssertionError: the profiler never warmed up (PyTorch's error).
        """
        del use_python_export
        self._check_initialized("exporting chrome trace")
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"export_chrome_trace: path must be a file path, got {path!r}")
        target = pathlib.Path(path)
        # PyTorch's header: the host, the options set, and the wall-clock time (ns)
        # of the events' time 0, here the window's start less its first event's time
        first_us = min((e["ts"] for e in self._raw if "ts" in e), default=0)
        trace = {"schemaVersion": 1, "deviceProperties": [], **self._metadata,
                 "trace_id": self._trace_id,
                 **{option: 1 for option in _HEADER_OPTIONS if getattr(self, option)},
                 "host_name": socket.gethostname(),
                 "baseTimeNanoseconds": self._started_ns - int(first_us * 1000),
                 "traceName": str(path), "displayTimeUnit": "ms",
                 "traceEvents": _chrome_events(self._raw)}
        body = json.dumps(trace).encode()
        target.write_bytes(gzip.compress(body) if target.suffix == ".gz" else body)
        return str(path)

    def add_metadata(self, key: str, value: str) -> None:
        """Adds ``key: value`` (a string) to the traces this profiler writes."""
        self._metadata[key] = str(value)

    def add_metadata_json(self, key: str, value: str) -> None:
        """Adds ``key`` with the JSON ``value`` to the traces this profiler writes.

        Raises:
            ValueError: ``value`` is not JSON.
        """
        self._metadata[key] = json.loads(value)

    def get_trace_id(self) -> str | None:
        """The id of the last recorded window's trace (None before any); a new one each
        window, from ``custom_trace_id_callback`` when given, as PyTorch's."""
        return self._trace_id

    def set_custom_trace_id_callback(self, callback: Callable[[], str]) -> None:
        """Makes ``callback()`` give the id of each window from the next one on."""
        self.custom_trace_id_callback = callback

    def export_memory_timeline(self, path: str, device: str | None = None) -> None:
        """Not supported: PyTorch's timeline sorts every allocation by its role
        (parameters, gradients, activations...), which XLA's buffers do not say.

        Raises:
            ValueError: the profiler was made without ``record_shapes=True``,
                ``profile_memory=True`` and ``with_stack=True`` (PyTorch's error, after
                its deprecation warning).
            NotImplementedError: otherwise, naming the fnnet way.
        """
        del path, device
        warnings.warn("`export_memory_timeline` is deprecated and will be removed in a "
                      "future version. Please use "
                      "`torch.cuda.memory._record_memory_history` and "
                      "`torch.cuda.memory._export_memory_snapshot` instead.",
                      FutureWarning, stacklevel=2)
        missing = [f"{name}=True" for name in ("record_shapes", "profile_memory",
                                                "with_stack") if not getattr(self, name)]
        if missing:
            raise ValueError(f"{', '.join(missing)} required for memory profiling.")
        raise NotImplementedError(
            "fnnet.torch does not support profile.export_memory_timeline: XLA's buffers "
            "are not tensors with roles; use profile(profile_memory=True) for the "
            "regions' bytes, and jax.profiler.save_device_memory_profile('memory.prof') "
            "(pprof) for the device's live buffers")

    def export_stacks(self, path: str, metric: str = "self_cpu_time_total") -> None:
        """Writes the events' stacks with their ``metric`` times, as flame graph tools
        read them: PyTorch's events carry no stacks on the CPU (``with_stack=True``
        records Python calls as events of their own, in the table and the trace), so
        its file is empty there, and so is this one; so is a device metric's of a run
        with no device time (the profiler recipe's ``"self_cuda_time_total"`` on a CPU).

        Raises:
            AssertionError: without ``with_stack=True`` (PyTorch's error).
            ValueError: an unknown ``metric`` (PyTorch's error).
            NotImplementedError: the stacks of a device's time, which JAX's trace does
                not attribute to Python stacks.
        """
        self._check_initialized("exporting stacks")
        if not self.with_stack:
            raise AssertionError("export_stacks() requires with_stack=True")
        if metric not in _STACK_METRICS:
            raise ValueError("metric should be one of: " + str(list(_STACK_METRICS)))
        if metric != "self_cpu_time_total" and any(
                e.self_device_time_total > 0 for e in self._events):
            raise NotImplementedError(
                "fnnet.torch does not support profile.export_stacks of a device's time: "
                "JAX's trace does not attribute it to Python stacks; use "
                "profile(with_stack=True) and open the trace in TensorBoard's profile tab "
                "or Perfetto")
        with open(path, "w"):
            pass  # no event carries a stack: no line, as in PyTorch's file


class _WindowEvents:
    """``prof.profiler``: a profiler's events as the older API's object shows them."""

    def __init__(self, owner: profile) -> None:
        self._owner = owner

    @property
    def function_events(self) -> EventList:
        """The window's events, in order of their start."""
        return self._owner.events()

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        """The owner's :meth:`profile.key_averages`."""
        return self._owner.key_averages(group_by_input_shape, group_by_stack_n,
                                        group_by_overload_name)

    def total_average(self) -> Any:
        """Every event summed into one row named ``Total``, as PyTorch's."""
        return self._owner.events().total_average()

    @property
    def self_cpu_time_total(self) -> float:
        """Microseconds of host time in the window, each event's own."""
        return self._owner.events().self_cpu_time_total

    def table(self, sort_by: str | None = None, row_limit: int = 100, **kwargs: Any) -> str:
        """``key_averages().table(...)``."""
        return self.key_averages().table(sort_by=sort_by, row_limit=row_limit, **kwargs)

    def export_chrome_trace(self, path: str | os.PathLike[str]) -> None:
        """The owner's :meth:`profile.export_chrome_trace`."""
        self._owner.export_chrome_trace(path)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        from fnnet.torch.tensor import Unsupported

        raise Unsupported(f"fnnet.torch does not support prof.profiler.{name}: its "
                          f"events are function_events, key_averages(), total_average() "
                          f"and self_cpu_time_total, and prof itself has the rest")


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    from fnnet.torch.tensor import Unsupported

    raise Unsupported(f"fnnet.torch does not support torch.profiler.{name}; profile with "
                      f"torch.profiler.profile and record_function (a jax.profiler trace)")
