"""``torch.jit`` under fnnet.torch: the guards and decorators model code uses, and clear
errors for compiling and saving TorchScript.

fnnet.torch compiles each training step with XLA (through ``jax.jit``) without being
asked, so a module needs no scripting or tracing to run fast: call it as it is. Model
code written for TorchScript still runs: ``torch.jit.is_scripting()`` is False and the
decorators (``ignore``, ``unused``, ``export``) return what they decorate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])

__all__ = ["export", "ignore", "is_scripting", "is_tracing", "load", "save", "script",
           "trace", "unused"]

_COMPILED = ("fnnet.torch compiles every training step with XLA already: call the "
             "module as it is (torch.compile(model) is accepted too), and see the "
             "compiled programs with torch.compile_stats()")
_SAVED = ("save the weights with torch.save(model.state_dict(), path) and load them "
          "into the model's class with model.load_state_dict(torch.load(path))")


def is_scripting() -> bool:
    """False: code never runs under TorchScript here. PyTorch: ``torch.jit.is_scripting``."""
    return False


def is_tracing() -> bool:
    """False: code never runs under the TorchScript tracer. PyTorch:
    ``torch.jit.is_tracing``."""
    return False


def ignore(fn: Any = None, **kwargs: Any) -> Any:
    """Returns ``fn`` unchanged (``@torch.jit.ignore`` or ``@torch.jit.ignore(drop=...)``):
    nothing is scripted. PyTorch: ``torch.jit.ignore``."""
    del kwargs
    return fn if fn is not None else (lambda inner: inner)


def unused(fn: _F) -> _F:
    """Returns ``fn`` unchanged. PyTorch: ``torch.jit.unused``."""
    return fn


def export(fn: _F) -> _F:
    """Returns ``fn`` unchanged. PyTorch: ``torch.jit.export``."""
    return fn


def script(obj: Any, *args: Any, **kwargs: Any) -> Any:
    """Not supported: raises NotImplementedError saying what to do instead.

    PyTorch equivalent: ``torch.jit.script``.
    """
    raise NotImplementedError(f"torch.jit.script is not supported by fnnet.torch: {_COMPILED}")


def trace(func: Any, *args: Any, **kwargs: Any) -> Any:
    """Not supported: raises NotImplementedError saying what to do instead.

    PyTorch equivalent: ``torch.jit.trace``.
    """
    raise NotImplementedError(f"torch.jit.trace is not supported by fnnet.torch: {_COMPILED}")


def save(m: Any, f: Any, *args: Any, **kwargs: Any) -> None:
    """Not supported (there are no TorchScript modules): raises NotImplementedError.

    PyTorch equivalent: ``torch.jit.save``.
    """
    raise NotImplementedError(f"torch.jit.save is not supported by fnnet.torch (it writes "
                              f"no TorchScript): {_SAVED}")


def load(f: Any, *args: Any, **kwargs: Any) -> Any:
    """Not supported (fnnet.torch cannot run TorchScript): raises NotImplementedError.

    PyTorch equivalent: ``torch.jit.load``.
    """
    raise NotImplementedError(f"torch.jit.load is not supported by fnnet.torch (it runs no "
                              f"TorchScript): {_SAVED}")


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    from fnnet.torch.tensor import Unsupported

    raise Unsupported(f"fnnet.torch does not support torch.jit.{name}: {_COMPILED}")
