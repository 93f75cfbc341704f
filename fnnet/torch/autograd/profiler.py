"""``torch.autograd.profiler``: the profiler's older API, on :mod:`fnnet.torch.profiler`.

Older courses profile with ``with torch.autograd.profiler.profile() as prof:`` and print
``prof.key_averages().table(sort_by="self_cpu_time_total")``; this is the same
``jax.profiler`` trace as :class:`fnnet.torch.profiler.profile`, recorded from the start
of the ``with`` block to its end.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

from fnnet.torch import profiler as _profiler
from fnnet.torch._profiler_events import EventList
from fnnet.torch.profiler import record_function

__all__ = ["EventList", "profile", "record_function"]


def _warn_about_device(use_cuda: bool, use_device: str | None) -> None:
    """PyTorch's warnings for the device a profile is asked to trace: ``use_cuda`` is
    deprecated, and CUDA profiling is turned off where there is no GPU (JAX's trace
    holds the host and the device either way)."""
    from fnnet.torch.device import cuda

    if use_cuda:
        warnings.warn("The attribute `use_cuda` will be deprecated soon, please use "
                      "``use_device = 'cuda'`` instead.", FutureWarning, stacklevel=3)
        use_device = "cuda"
    if use_device is None:
        return
    if use_device not in ("cuda", "xpu", "mtia", "hpu"):
        warnings.warn(f"The {use_device} is not a valid device option.", stacklevel=3)
    elif use_device == "cuda" and not cuda.is_available():
        warnings.warn("CUDA is not available, disabling CUDA profiling", stacklevel=3)


class profile(_profiler.profile):  # noqa: N801 - PyTorch's name
    """Traces the ``with`` block (nothing when ``enabled`` is False).

    Args:
        enabled: whether to trace at all.
        with_stack: also trace Python function calls.
        profile_memory: count the bytes of the tensors each ``record_function`` region
            makes (see :mod:`fnnet.torch.profiler`).

    PyTorch's other arguments (``use_cuda``, ``record_shapes``...)
    are accepted and change nothing: JAX's one trace holds the host and the device.

    PyTorch equivalent: ``torch.autograd.profiler.profile``.
    """

    def __init__(self, enabled: bool = True, *, use_cuda: bool = False,
                 use_device: str | None = None, record_shapes: bool = False,
                 with_flops: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_modules: bool = False,
                 use_kineto: bool = False, use_cpu: bool = True,
                 experimental_config: Any = None, acc_events: bool = False,
                 custom_trace_id_callback: Any = None) -> None:
        del use_kineto, use_cpu, experimental_config, acc_events
        self.enabled = bool(enabled)  # PyTorch takes any truth value (a 0/1 flag)
        if self.enabled:
            _warn_about_device(use_cuda, use_device)
        super().__init__(with_stack=with_stack, profile_memory=profile_memory,
                         record_shapes=record_shapes, with_flops=with_flops,
                         with_modules=with_modules,
                         custom_trace_id_callback=custom_trace_id_callback)
        self._entered = False

    # the older API gives (empty) results before and without a trace, as PyTorch's
    def _check_initialized(self, doing: str) -> None:
        del doing

    def __enter__(self) -> profile | None:  # type: ignore[override]
        """Starts tracing; a disabled profiler traces nothing and gives None, as
        PyTorch's (``with profile(enabled=False) as prof`` binds None).

        Raises:
            RuntimeError: the profiler is entered again (PyTorch's error).
        """
        if not self.enabled:
            return None
        if self._entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        self._entered = True
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.enabled:
            self.stop()

    @property
    def function_events(self) -> EventList:
        """The events of the ``with`` block, in order of their start."""
        return self.events()

    def table(self, sort_by: str | None = None, row_limit: int = 100, **kwargs: Any) -> str:
        """``key_averages().table(...)``."""
        return self.key_averages().table(sort_by=sort_by, row_limit=row_limit, **kwargs)

    def total_average(self) -> Any:
        """Every event summed into one row named ``Total``, as PyTorch's."""
        return self.events().total_average()

    @property
    def self_cpu_time_total(self) -> float:
        """Microseconds of host time in the trace, each event's own."""
        return self.events().self_cpu_time_total

    def export_chrome_trace(self, path: str | os.PathLike[str],  # type: ignore[override]
                            use_python_export: bool = False) -> None:
        """Writes the trace as a Chrome trace (see
        :meth:`fnnet.torch.profiler.profile.export_chrome_trace`); returns None, as
        PyTorch's older API."""
        super().export_chrome_trace(path, use_python_export)

    def __str__(self) -> str:
        """The table of the events, one row each, as PyTorch's."""
        if not self._entered:
            return "<unfinished torch.autograd.profile>"
        return str(self.events())

    __repr__ = __str__


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    from fnnet.torch.tensor import Unsupported

    raise Unsupported(f"fnnet.torch does not support torch.autograd.profiler.{name}; "
                      f"profile with torch.profiler.profile and record_function "
                      f"(a jax.profiler trace)")
