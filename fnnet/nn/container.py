"""Containers of layers."""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any, overload

from fnnet.nn.module import Bound, Module


def check_child_name(name: Any) -> None:
    """PyTorch's checks of a child's name (``add_module``): a non-empty str without
    ``.`` that does not hide an attribute of the module's class (``forward``)."""
    if not isinstance(name, str):
        raise TypeError(f"module name should be a string. Got {type(name).__name__}")
    if "." in name:
        raise KeyError(f'module name can\'t contain ".", got: {name}')
    if name == "":
        raise KeyError('module name can\'t be empty string ""')
    if hasattr(Sequential, name):
        raise KeyError(f"attribute '{name}' already exists")


class Sequential(Module):
    """Layers applied one after another; children are named ``"0"``, ``"1"``, ..., or
    by the keys of a single ``OrderedDict`` argument, as in PyTorch.

    PyTorch equivalent: ``torch.nn.Sequential`` (same ``state_dict`` names).
    """

    def __init__(self, *layers: Module | OrderedDict[str, Module]) -> None:
        named: list[tuple[str, Any]]
        if len(layers) == 1 and isinstance(layers[0], OrderedDict):
            named = list(layers[0].items())
            what = [f"entry {name!r}" for name, _ in named]
        else:
            named = [(str(index), layer) for index, layer in enumerate(layers)]
            what = [f"argument {index}" for index in range(len(layers))]
        for (name, layer), where in zip(named, what, strict=True):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: {where} must be an fnnet.nn.Module, got "
                                f"{type(layer).__name__}")
            check_child_name(name)
        for name, layer in named:
            setattr(self, name, layer)

    def __len__(self) -> int:
        return sum(1 for _ in self.named_children())

    @overload
    def __getitem__(self, index: int) -> Module: ...

    @overload
    def __getitem__(self, index: slice) -> Sequential: ...

    def __getitem__(self, index: int | slice) -> Module:
        """The child at ``index``; a slice is a Sequential of those children under their
        names (``model[:-1]``: ``"0"``, ``"1"``..., as PyTorch's, so the sliced model's
        parameters are ``{name: params[name]}``)."""
        named = list(self.named_children())
        if isinstance(index, slice):
            return Sequential(OrderedDict(named[index]))
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"Sequential indices must be ints or slices, got "
                            f"{type(index).__name__}")
        if not -len(named) <= index < len(named):
            raise IndexError(f"index {index!r} is out of range")
        return named[index][1]

    def forward(self, m: Bound, x: Any) -> Any:
        for name, _ in self.named_children():
            x = m.call(name, x)
        return x


class ModuleList(Module):
    """A list of layers, each a child named by its position (``"0"``, ``"1"``, ...).

    It has no ``forward``: a model calls its entries through the bound view, either by
    index or by iterating::

        class Net(fnnet.nn.Module):
            def __init__(self):
                self.layers = fnnet.nn.ModuleList([Linear(4, 4) for _ in range(3)])

            def forward(self, m, x):
                for layer in m.layers:
                    x = F.relu(layer(x))
                return x

    Parameters are named ``layers.0.weight`` etc., as in PyTorch.

    PyTorch equivalent: ``torch.nn.ModuleList``.
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        if modules is not None:
            self.extend(modules)

    def append(self, module: Module) -> ModuleList:
        """Adds ``module`` at the end; returns self (as PyTorch)."""
        if not isinstance(module, Module):
            raise TypeError(
                f"ModuleList: entries must be fnnet.nn.Module, got {type(module).__name__}"
            )
        setattr(self, str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Adds each of ``modules`` at the end; returns self."""
        for module in modules:
            self.append(module)
        return self

    def __len__(self) -> int:
        return sum(1 for _ in self.named_children())

    @overload
    def __getitem__(self, index: int) -> Module: ...

    @overload
    def __getitem__(self, index: slice) -> ModuleList: ...

    def __getitem__(self, index: int | slice) -> Module:
        """The entry at ``index``; a slice is a new ModuleList of those entries, numbered
        from 0 as PyTorch's."""
        if isinstance(index, slice):
            return ModuleList(list(self)[index])
        if not isinstance(index, int) or isinstance(index, bool):
            raise TypeError(f"ModuleList indices must be ints, got {index!r}")
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range for ModuleList of length "
                             f"{len(self)}")
        child: Module = getattr(self, str(index % len(self)))
        return child

    def __iter__(self) -> Iterator[Module]:
        return (child for _, child in self.named_children())

    def __repr__(self) -> str:
        # PyTorch prints a run of entries that print alike once: "(0-2): 3 x Linear(...)"
        lines, start = [], 0
        for text, run in itertools.groupby(repr(child) for child in self):
            count = sum(1 for _ in run)
            label = f"({start})" if count == 1 else f"({start}-{start + count - 1})"
            times = "" if count == 1 else f"{count} x "
            lines.append(f"  {label}: {times}" + text.replace("\n", "\n  "))
            start += count
        return "\n".join(["ModuleList(", *lines, ")"]) if lines else "ModuleList()"
