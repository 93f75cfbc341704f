"""``torch.compiler`` under fnnet.torch: the switches programs and libraries call around
``torch.compile``.

fnnet.torch compiles every training step with XLA whether or not ``torch.compile`` is
called (see :func:`fnnet.torch.compile_stats`), and the Python of a program always runs as
written, so there is no graph to break: ``disable`` and ``allow_in_graph`` return the
function, and ``is_compiling`` is False, as PyTorch's is outside a traced frame.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fnnet.torch._misc_ops import compile  # noqa: A004 - PyTorch's name

__all__ = ["allow_in_graph", "assume_constant_result", "compile", "cudagraph_mark_step_begin",
           "disable", "is_compiling", "is_dynamo_compiling", "is_exporting", "reset"]


def disable(fn: Callable[..., Any] | None = None, recursive: bool = True, *,
            reason: str | None = None) -> Any:
    """``fn`` itself (a decorator with or without arguments).

    PyTorch equivalent: ``torch.compiler.disable``."""
    del recursive, reason
    return (lambda f: f) if fn is None else fn


def allow_in_graph(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` itself. PyTorch equivalent: ``torch.compiler.allow_in_graph``."""
    return fn


def assume_constant_result(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` itself. PyTorch equivalent: ``torch.compiler.assume_constant_result``."""
    return fn


def is_compiling() -> bool:
    """False: no frame is ever traced by TorchDynamo. PyTorch equivalent:
    ``torch.compiler.is_compiling``."""
    return False


def is_dynamo_compiling() -> bool:
    """False. PyTorch equivalent: ``torch.compiler.is_dynamo_compiling``."""
    return False


def is_exporting() -> bool:
    """False. PyTorch equivalent: ``torch.compiler.is_exporting``."""
    return False


def reset() -> None:
    """Nothing to clear: fnnet.torch's compiled steps are dropped with
    ``fnnet.torch.reset_compile_stats``. PyTorch equivalent: ``torch.compiler.reset``."""


def cudagraph_mark_step_begin() -> None:
    """Nothing to mark: no CUDA graphs. PyTorch equivalent:
    ``torch.compiler.cudagraph_mark_step_begin``."""


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    from fnnet.torch.tensor import Unsupported

    raise Unsupported(f"fnnet.torch does not support torch.compiler.{name}; fnnet.torch "
                      f"compiles each training step itself (see fnnet.torch.compile_stats)")
