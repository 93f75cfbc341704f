"""``nn.Sequential``, ``nn.ModuleList``, ``nn.ModuleDict`` and the deprecated ``nn.Container``."""

from __future__ import annotations

import itertools
import warnings
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any

from fnnet.torch.nn.modules.module import Module, _addindent


class Container(Module):
    """PyTorch's deprecated module of named children (``Container(a=..., b=...)``), with
    its FutureWarning. PyTorch equivalent: ``torch.nn.Container``."""

    def __init__(self, **kwargs: Any) -> None:
        warnings.warn("`nn.Container` is deprecated. All of its functionality is now "
                      "implemented in `nn.Module`. Subclass that instead.", FutureWarning,
                      stacklevel=2)
        super().__init__()
        for key, value in kwargs.items():
            self.add_module(key, value)


class Sequential(Module):
    """Modules applied in order; children named ``"0"``, ``"1"``... or by an OrderedDict.

    PyTorch equivalent: ``torch.nn.Sequential``.
    """

    def __init__(self, *args: Any) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(args):
                self.add_module(str(index), module)

    def forward(self, input: Any) -> Any:
        for module in self._modules.values():
            input = module(input)
        return input

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(items[index]))
        if not -len(items) <= index < len(items):
            raise IndexError(f"index {index} is out of range")
        return items[index][1]

    def _key(self, index: int) -> str:
        keys: list[str] = list(self._modules)
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"Sequential indices must be integers, not {type(index).__name__}")
        if not -len(keys) <= index < len(keys):
            raise IndexError(f"index {index} is out of range")
        return keys[index]

    def __setitem__(self, index: int, module: Module) -> None:
        """Replaces the module at ``index`` in place (``model[-1] = nn.Linear(...)``, a
        new head), as PyTorch."""
        setattr(self, self._key(index), module)

    def __delitem__(self, index: int | slice) -> None:
        _delete(self, index)

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, sequential: Iterable[Module]) -> Sequential:
        for module in sequential:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        """Puts ``module`` before position ``index``; the children are numbered again."""
        if not isinstance(module, Module):
            raise AssertionError(f"module should be of type: {Module}")
        _insert(self, index, module)
        return self

    def pop(self, key: int | slice) -> Module:
        module: Module = self[key]
        del self[key]
        return module

    def __add__(self, other: Sequential) -> Sequential:
        if not isinstance(other, Sequential):
            raise ValueError(f"add operator supports only objects of Sequential class, but "
                             f"{type(other)} is given.")
        return Sequential(*self, *other)

    def __iadd__(self, other: Sequential) -> Sequential:
        if not isinstance(other, Sequential):
            raise ValueError(f"add operator supports only objects of Sequential class, but "
                             f"{type(other)} is given.")
        return self.extend(other)

    def __mul__(self, other: int) -> Sequential:
        if isinstance(other, bool) or not isinstance(other, int) or other <= 0:
            raise (TypeError if not isinstance(other, int) else ValueError)(
                f"Non-positive multiplication factor {other} for {type(self)}")
        return Sequential(*(list(self) * other))

    __rmul__ = __mul__


def _renumber(container: Module, modules: list[Module] | None = None) -> None:
    """Makes ``modules`` (by default the children) the children, named ``"0"``, ``"1"``...
    in order, as PyTorch names them after a deletion or an insertion (a state dict's keys
    follow)."""
    modules = list(container._modules.values()) if modules is None else modules
    for key in container._modules:  # the old names go, attributes too
        container.__dict__.pop(key, None)
    container._modules.clear()
    for i, module in enumerate(modules):
        container.add_module(str(i), module)


def _delete(container: Module, index: int | slice) -> None:
    keys = list(container._modules)
    if isinstance(index, slice):
        doomed = keys[index]
    else:
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"{type(container).__name__} indices must be integers or slices, "
                            f"not {type(index).__name__}")
        if not -len(keys) <= index < len(keys):
            raise IndexError(f"index {index} is out of range")
        doomed = [keys[index]]
    for key in doomed:
        delattr(container, key)
    _renumber(container)


def _insert(container: Module, index: int, module: Module) -> None:
    n = len(container._modules)
    if not -n <= index <= n:
        raise IndexError(f"Index out of range: {index}")
    modules = list(container._modules.values())
    modules.insert(index if index >= 0 else index + n, module)
    _renumber(container, modules)


class ModuleList(Module):
    """A list of registered modules. PyTorch equivalent: ``torch.nn.ModuleList``."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(items[index])
        return items[index]

    def __setitem__(self, index: int, module: Module) -> None:
        name = list(self._modules)[index]
        self.add_module(name, module)

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        _insert(self, index, module)

    def __delitem__(self, index: int | slice) -> None:
        _delete(self, index)

    def pop(self, key: int | slice) -> Module:
        module: Module = self[key]
        del self[key]
        return module

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def forward(self, *args: Any) -> Any:
        raise NotImplementedError("ModuleList has no forward; iterate over it")

    def __repr__(self) -> str:
        # PyTorch prints a run of modules that print alike once: "(0-2): 3 x Linear(...)"
        if not self._modules:
            return self._get_name() + "()"
        lines, start = [], 0
        for text, run in itertools.groupby(repr(m) for m in self._modules.values()):
            count = sum(1 for _ in run)
            label = f"({start}): " if count == 1 else \
                f"({start}-{start + count - 1}): {count} x "
            lines.append(_addindent(label + text, 2))
            start += count
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """An ordered dict of registered modules, keyed by their names in ``state_dict``.

    PyTorch equivalent: ``torch.nn.ModuleDict``.
    """

    def __init__(self, modules: Any = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def __getitem__(self, key: str) -> Any:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        if key not in self._modules:
            raise KeyError(key)
        delattr(self, key)

    def keys(self) -> Any:
        return self._modules.keys()

    def values(self) -> Any:
        return self._modules.values()

    def items(self) -> Any:
        return self._modules.items()

    def pop(self, key: str) -> Any:
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        for key in list(self._modules):
            del self[key]

    def update(self, modules: Any) -> None:
        """Adds ``(name, module)`` pairs from a mapping or an iterable of pairs."""
        pairs = modules.items() if hasattr(modules, "items") else modules
        for pair in pairs:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(f"ModuleDict.update: modules must be a mapping or pairs of "
                                f"(name, module), got an element {type(pair).__name__}")
            self.add_module(*pair)

    def forward(self, *args: Any) -> Any:
        raise NotImplementedError("ModuleDict has no forward; index it by name")
