"""``torch._dynamo`` under fnnet.torch: the settings and switches programs reach for
around ``torch.compile`` (``torch._dynamo.config.cache_size_limit = 64``,
``torch._dynamo.reset()``, ``torch._dynamo.mark_dynamic(x, 0)``).

fnnet.torch compiles each training step with XLA whether or not ``torch.compile`` is
called, and runs a program's Python as written (see :mod:`fnnet.torch.compiler`): the
settings are accepted and kept but change nothing, and marking a dimension dynamic does
not stop XLA compiling a program per shape (fnnet.torch warns where a training step keeps
recompiling for new shapes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fnnet.torch._misc_ops import compile  # noqa: A004 - PyTorch's name
from fnnet.torch.compiler import (
    allow_in_graph,
    assume_constant_result,
    disable,
    is_compiling,
    reset,
)
from fnnet.torch.tensor import Unsupported

__all__ = ["allow_in_graph", "assume_constant_result", "config", "disable", "is_compiling",
           "mark_dynamic", "mark_static", "maybe_mark_dynamic", "optimize", "reset"]


class _Config:
    """``torch._dynamo.config``: TorchDynamo's settings with PyTorch's defaults, kept but
    unused; a name PyTorch's config lacks raises its AttributeError."""

    suppress_errors = False
    verbose = False
    cache_size_limit = 8
    recompile_limit = 8
    accumulated_cache_size_limit = 256
    accumulated_recompile_limit = 256
    automatic_dynamic_shapes = True
    assume_static_by_default = True
    capture_scalar_outputs = False
    capture_dynamic_output_shape_ops = False
    optimize_ddp = True
    inline_inbuilt_nn_modules = True
    force_parameter_static_shapes = True
    specialize_int = False
    guard_nn_modules = False

    def __setattr__(self, name: str, value: Any) -> None:
        if not hasattr(type(self), name):
            raise AttributeError(f"torch._dynamo.config.{name} does not exist")
        object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"torch._dynamo.config.{name} does not exist")


config = _Config()


def mark_dynamic(t: Any, index: Any, *, min: int | None = None,  # noqa: A002
                 max: int | None = None) -> None:  # noqa: A002 - PyTorch's names
    """Accepted: XLA compiles a program for each shape all the same (pad or bucket a
    dimension that varies). PyTorch equivalent: ``torch._dynamo.mark_dynamic``."""
    del t, index, min, max


def maybe_mark_dynamic(t: Any, index: Any) -> None:
    """Accepted, as :func:`mark_dynamic`."""
    del t, index


def mark_static(t: Any, index: Any = None) -> None:
    """Accepted: every dimension is static to XLA."""
    del t, index


def optimize(backend: Any = "inductor", *, nopython: bool = False, guard_export_fn: Any = None,
             guard_fail_fn: Any = None, disable: bool = False, dynamic: Any = None
             ) -> Callable[[Any], Any]:
    """The older spelling of ``torch.compile``: ``optimize("inductor")(model)`` is
    ``torch.compile(model)``. PyTorch equivalent: ``torch._dynamo.optimize``."""
    del nopython, guard_export_fn, guard_fail_fn, dynamic
    if disable:
        return lambda fn: fn
    return lambda fn: compile(fn, backend=backend)


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise Unsupported(f"fnnet.torch does not support torch._dynamo.{name}; fnnet.torch "
                      f"compiles each training step itself (see fnnet.torch.compile_stats)")
