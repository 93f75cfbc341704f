"""``import`` statements for PyTorch's submodules under fnnet.torch.

Some of fnnet.torch's namespaces are objects, not files (``torch.cuda``,
``torch.backends.cudnn``, ``torch.cuda.amp``), so ``import torch.backends.cudnn as
cudnn`` found nothing to import; and a submodule fnnet.torch does not provide
(``import torch.jit``, ``from torch.hub import load_state_dict_from_url``) failed with a
bare ModuleNotFoundError. :class:`SubmoduleFinder`, asked after Python's
own finders, imports the first kind as the object itself and raises the second kind's
NotImplementedError (one that is also an ImportError) naming the fnnet way. It answers
only for a parent that belongs to fnnet.torch, under whatever name it was imported
(``torch`` when a program's ``import torch`` is fnnet.torch).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import types
from typing import Any

_HOME = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _belongs_to_fnnet_torch(value: Any) -> bool:
    name: Any
    if isinstance(value, types.ModuleType):  # also a second copy under another name
        where = getattr(value, "__file__", None)
        if isinstance(where, str) and os.path.abspath(where).startswith(_HOME):
            return True
        name = value.__name__
    else:
        name = getattr(value, "__module__", None)
    return isinstance(name, str) and (name == "fnnet.torch" or name.startswith("fnnet.torch."))


class _ObjectLoader(importlib.abc.Loader):
    """Loads a namespace object of fnnet.torch as the module of that name."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Any:
        return self.value

    def exec_module(self, module: Any) -> None:
        del module  # the object is ready as it is


def alias_shadowed_submodules(alias: str, module: types.ModuleType) -> None:
    """Registers ``<alias>.<child>`` for each loaded submodule of ``module`` whose name
    ``module`` binds to something else, as ``torch.nn.utils.weight_norm`` is the function
    beside the module ``torch.nn.utils.weight_norm``: ``import <alias>.<child>`` then
    finds the submodule, and Python does not rebind the name on ``module`` to it."""
    prefix = module.__name__ + "."
    for name, submodule in list(sys.modules.items()):
        child = name[len(prefix):]
        if name.startswith(prefix) and "." not in child and submodule is not None and \
                getattr(module, child, submodule) is not submodule:
            sys.modules.setdefault(f"{alias}.{child}", submodule)


class _ModuleLoader(_ObjectLoader):
    """Loads a module of fnnet.torch under another name, keeping its own ``__spec__``
    (which the import machinery replaces by the new name's)."""

    def exec_module(self, module: Any) -> None:
        module.__spec__ = self.spec
        alias_shadowed_submodules(self.alias, module)

    def __init__(self, value: types.ModuleType, alias: str) -> None:
        super().__init__(value)
        self.spec = value.__spec__
        self.alias = alias


class SubmoduleFinder(importlib.abc.MetaPathFinder):
    """Finds ``<fnnet.torch module>.<name>`` that no file provides (see the module)."""

    def find_spec(self, fullname: str, path: Any, target: Any = None
                  ) -> importlib.machinery.ModuleSpec | None:
        parent_name, _, child = fullname.rpartition(".")
        parent = sys.modules.get(parent_name) if parent_name else None
        if parent is None or not _belongs_to_fnnet_torch(parent):
            return None
        try:
            value = getattr(parent, child)
        except NotImplementedError as error:
            from fnnet.torch.tensor import UnsupportedImport

            raise UnsupportedImport(*error.args) from None
        except AttributeError:
            return None
        if isinstance(value, (types.FunctionType, types.BuiltinFunctionType)) or \
                not _belongs_to_fnnet_torch(value):
            return None  # a function or a value: not something to import as a module
        return importlib.util.spec_from_loader(fullname, _ObjectLoader(value),
                                               is_package=True)


class AliasFinder(importlib.abc.MetaPathFinder):
    """Finds ``torch.<path>.<name>`` as the module ``fnnet.torch.<path>.<name>`` itself
    when ``torch.<path>`` is fnnet.torch's module under the name ``torch``.

    Python's own finders would load the file a second time under the new name, with
    classes of its own: an ``IterableDataset`` imported from ``torch.utils.data.dataset``
    would not be the one ``DataLoader`` checks for.
    """

    def find_spec(self, fullname: str, path: Any, target: Any = None
                  ) -> importlib.machinery.ModuleSpec | None:
        parent_name, _, child = fullname.rpartition(".")
        parent = sys.modules.get(parent_name) if parent_name else None
        if parent is None or not isinstance(parent, types.ModuleType) or \
                parent.__name__ == parent_name or not _belongs_to_fnnet_torch(parent):
            return None
        real = f"{parent.__name__}.{child}"
        if real not in sys.modules and importlib.util.find_spec(real) is None:
            return None
        module = importlib.import_module(real)
        return importlib.util.spec_from_loader(fullname, _ModuleLoader(module, fullname),
                                               is_package=hasattr(module, "__path__"))


def install() -> None:
    """Adds :class:`AliasFinder` before Python's finders and :class:`SubmoduleFinder`
    after them (once)."""
    if not any(isinstance(finder, AliasFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, AliasFinder())
    if not any(isinstance(finder, SubmoduleFinder) for finder in sys.meta_path):
        sys.meta_path.append(SubmoduleFinder())
