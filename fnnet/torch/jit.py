"""``torch.jit`` under fnnet.torch: the guards and decorators model code uses, and
``script``/``trace``/``save``/``load`` for modules.

fnnet.torch compiles each training step with XLA (through ``jax.jit``) without being
asked, so a module needs no scripting or tracing to run fast: call it as it is. Code
written for TorchScript still runs: ``torch.jit.is_scripting()`` is False, the
decorators (``ignore``, ``unused``, ``export``) return what they decorate, and
``script``/``trace`` of a module return a :class:`ScriptModule` (a new tree sharing the
module's parameters, as PyTorch's) that ``save`` writes and ``load`` reads back. The
file holds the module's classes by name (``torch.save(model)``), not TorchScript code:
the script that loads it must define them, and TorchScript files PyTorch wrote cannot
be run.
"""

from __future__ import annotations

import io
import os
import typing
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from fnnet.torch._script_modules import (
    RecursiveScriptModule,
    ScriptModule,
    TopLevelTracedModule,
    TracedModule,
    is_torchscript_archive,
    scripted,
)
from fnnet.torch.nn.modules.module import Module

_F = TypeVar("_F", bound=Callable[..., Any])


__all__ = ["Final", "RecursiveScriptModule", "ScriptModule", "TopLevelTracedModule",
           "TracedModule", "annotate", "export", "ignore", "is_scripting", "is_tracing",
           "load", "save", "script", "trace", "trace_module", "unused"]

_COMPILED = ("fnnet.torch compiles every training step with XLA already: call the "
             "module as it is (torch.compile(model) is accepted too), and see the "
             "compiled programs with torch.compile_stats()")
_SAVED = ("save the weights with torch.save(model.state_dict(), path) and load them "
          "into the model's class with model.load_state_dict(torch.load(path))")


def _deprecated(name: str, instead: str) -> None:
    # PyTorch's warning, from the library's own frame (hidden unless asked for, as there)
    warnings.warn(f"`torch.jit.{name}` is deprecated. Please switch to {instead}.",
                  DeprecationWarning, stacklevel=1)


#: TorchScript's annotation of a constant attribute: typing's, as PyTorch's is
Final = typing.Final


def annotate(the_type: Any, the_value: Any) -> Any:
    """Returns ``the_value``: a type hint for TorchScript, which nothing reads here.
    PyTorch: ``torch.jit.annotate``."""
    del the_type
    return the_value


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
    """A module as a :class:`ScriptModule` (``RecursiveScriptModule``): a new tree that
    shares ``obj``'s parameters and buffers, with training flags of its own; a function
    or class is returned as it is (it runs as Python).

    PyTorch equivalent: ``torch.jit.script``.
    """
    del args, kwargs
    _deprecated("script", "`torch.compile` or `torch.export`")
    if isinstance(obj, ScriptModule) or not isinstance(obj, Module):
        return obj
    return scripted(obj, RecursiveScriptModule, RecursiveScriptModule)


def trace(func: Any, example_inputs: Any = None, *args: Any, **kwargs: Any) -> Any:
    """Runs ``func`` once on ``example_inputs`` (a tensor or a tuple of them), as
    PyTorch's tracer does, and returns a module as a :class:`ScriptModule`
    (``TopLevelTracedModule``) or a function as it is.

    PyTorch equivalent: ``torch.jit.trace``.
    """
    del args
    _deprecated("trace", "`torch.compile` or `torch.export`")
    inputs = kwargs.pop("example_kwarg_inputs", None)
    if example_inputs is None and not isinstance(inputs, dict):
        raise RuntimeError("example_kwarg_inputs should be a dict")
    if inputs is not None:
        func(**inputs)
    else:
        func(*(example_inputs if isinstance(example_inputs, tuple) else (example_inputs,)))
    if isinstance(func, ScriptModule) or not isinstance(func, Module):
        return func
    return scripted(func, TopLevelTracedModule, TracedModule)


def trace_module(mod: Any, inputs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
    """Runs each method ``name`` of ``mod`` once on ``inputs[name]`` (a tensor or a tuple
    of them), as PyTorch's tracer does, and returns ``mod`` as a
    ``TopLevelTracedModule``.

    PyTorch equivalent: ``torch.jit.trace_module``.
    """
    del args, kwargs
    _deprecated("trace_module", "`torch.compile` or `torch.export`")
    if not isinstance(mod, Module):
        raise AttributeError("expected torch.nn.Module as the first argument")
    if not isinstance(inputs, dict):
        raise AttributeError("expected a dictionary of (method_name, input) pairs")
    for name, example in inputs.items():
        getattr(mod, name)(*(example if isinstance(example, tuple) else (example,)))
    if isinstance(mod, ScriptModule):
        return mod
    return scripted(mod, TopLevelTracedModule, TracedModule)


def save(m: Any, f: Any, _extra_files: Any = None) -> None:
    """``m.save(f)`` for a :class:`ScriptModule`.

    PyTorch equivalent: ``torch.jit.save``.
    """
    _deprecated("save", "`torch.export`")
    if not isinstance(m, ScriptModule):  # PyTorch's error, which names its method
        method = "save" if isinstance(f, (str, os.PathLike)) else "save_to_buffer"
        raise AttributeError(f"'{type(m).__name__}' object has no attribute '{method}'")
    m.save(f, _extra_files)


def load(f: Any, map_location: Any = None, _extra_files: Any = None) -> Any:
    """The module :func:`save` wrote, as a ``RecursiveScriptModule`` (its classes must
    be defined where it loads, as for ``torch.load(f, weights_only=False)``).

    Raises:
        ValueError: a path that does not exist or is a folder.
        NotImplementedError: a TorchScript archive PyTorch wrote: fnnet.torch cannot
            run TorchScript code.

    PyTorch equivalent: ``torch.jit.load``.
    """
    from fnnet.torch.serialization import load as load_file

    del map_location, _extra_files
    _deprecated("load", "`torch.export`")
    if isinstance(f, (str, os.PathLike)):
        if not os.path.exists(f):  # PyTorch's ValueErrors, not open()'s OSError
            raise ValueError(f"The provided filename {f} does not exist")
        if os.path.isdir(f):
            raise ValueError(f"The provided filename {f} is a directory")
        with open(f, "rb") as handle:
            data = handle.read()
    else:
        data = f.read()
    if is_torchscript_archive(data):
        raise NotImplementedError(f"torch.jit.load: {getattr(f, 'name', f)!r} is a "
                                  f"TorchScript archive, whose code fnnet.torch cannot run: "
                                  f"{_SAVED}")
    return script(load_file(io.BytesIO(data), weights_only=False))


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    from fnnet.torch.tensor import Unsupported

    raise Unsupported(f"fnnet.torch does not support torch.jit.{name}: {_COMPILED}")
