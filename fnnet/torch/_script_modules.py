"""The modules ``torch.jit.script`` and ``torch.jit.trace`` return under fnnet.torch.

PyTorch compiles a module to TorchScript and returns a new tree of modules that shares
the original's parameters and buffers but not its training flags, prints as
``RecursiveScriptModule(original_name=Net ...)``, and saves to a file that
``torch.jit.load`` reads back. fnnet.torch compiles every step with XLA already, so the
new tree runs the original classes' ``forward``: each node is an instance of a class made
from ``ScriptModule`` and the original class. ``save`` pickles the tree as the original
classes (``torch.save(model)``), so loading it needs those classes defined, unlike
TorchScript's files, which carry their code.
"""

from __future__ import annotations

import io
import zipfile
from collections import OrderedDict
from typing import Any

from fnnet.torch.nn.modules.module import Module


class ScriptModule(Module):
    """A module as ``torch.jit`` returns it (see the module docstring).

    PyTorch equivalent: ``torch.jit.ScriptModule``.
    """

    _kind = "RecursiveScriptModule"

    def _get_name(self) -> str:
        return self._kind

    def extra_repr(self) -> str:
        return f"original_name={self._original_class().__name__}"

    def _original_class(self) -> type:
        return next(c for c in type(self).__mro__ if not issubclass(c, ScriptModule))

    def save(self, f: Any, _extra_files: Any = None) -> None:
        """Writes the module (as its original classes) for :func:`load`.

        PyTorch equivalent: ``torch.jit.ScriptModule.save``.
        """
        from fnnet.torch.serialization import save

        del _extra_files
        save(unscripted(self), f)

    def __reduce_ex__(self, protocol: Any) -> Any:
        # PyTorch's error: a script module is saved with save(), not pickled
        original = self._original_class()
        module = original.__module__.removeprefix("fnnet.")
        name = original.__qualname__ if module == "__main__" else \
            f"{module}.{original.__qualname__}"
        raise RuntimeError(f"Tried to serialize object __torch__.{name} which does not "
                           f"have a __getstate__ method defined!")

    @property
    def original_name(self) -> str:
        """The scripted module's class name. PyTorch:
        ``torch.jit.ScriptModule.original_name``."""
        return self._original_class().__name__

    @property
    def code(self) -> str:
        # a NotImplementedError only: an AttributeError from a property would be taken
        # for a missing attribute, and Module.__getattr__'s message would hide this one
        raise NotImplementedError("fnnet.torch does not support ScriptModule.code or "
                                  ".graph: it compiles no TorchScript, so a scripted module "
                                  "runs its original class's forward (print(model) shows "
                                  "the module)")

    graph = inlined_graph = code_with_constants = code


class RecursiveScriptModule(ScriptModule):
    """What ``torch.jit.script(module)`` returns, and each of its submodules."""


class TopLevelTracedModule(ScriptModule):
    """What ``torch.jit.trace(module, inputs)`` returns; it prints under the original
    class's name, as PyTorch's."""

    _kind = ""

    def _get_name(self) -> str:
        return self._original_class().__name__


class TracedModule(TopLevelTracedModule):
    """A submodule of a traced module."""


def _node_class(original: type, kind: type, made: dict[tuple[type, type], type]) -> type:
    """The class of a node: ``kind`` first (names, ``save``), then ``original`` (its
    ``forward`` and its layer's workings)."""
    key = (original, kind)
    if key not in made:
        made[key] = type(kind.__name__, (kind, original), {"__module__": __name__})
    return made[key]


def scripted(module: Module, top: type, below: type,
             made: dict[tuple[type, type], type] | None = None) -> ScriptModule:
    """A new tree over ``module``'s parameters and buffers, its nodes of kind ``top``
    (the root) and ``below``; training flags copied, not shared."""
    made = {} if made is None else made
    cls: Any = _node_class(type(module), top, made)
    node: ScriptModule = cls.__new__(cls)
    state = dict(module.__dict__)
    children = OrderedDict((name, None if child is None else scripted(child, below, below, made))
                           for name, child in module._modules.items())
    state.update(children)
    state.update(_parameters=OrderedDict(module._parameters),
                 _buffers=OrderedDict(module._buffers), _modules=children,
                 _non_persistent=set(module._non_persistent))
    node.__dict__.update(state)
    return node


def unscripted(module: Module) -> Module:
    """The tree of ``module`` as instances of the original classes again."""
    if not isinstance(module, ScriptModule):
        return module
    cls: Any = module._original_class()
    node: Module = cls.__new__(cls)
    state = dict(module.__dict__)
    children = OrderedDict((name, None if child is None else unscripted(child))
                           for name, child in module._modules.items())
    state.update(children)
    state["_modules"] = children
    node.__dict__.update(state)
    return node


def is_torchscript_archive(data: bytes) -> bool:
    """Whether ``data`` is a TorchScript archive PyTorch wrote (its code and constants
    are records of their own), which fnnet.torch cannot run."""
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except zipfile.BadZipFile:
        return False
    return any(n.endswith("/constants.pkl") or "/code/" in n for n in names)
