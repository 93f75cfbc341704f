"""Containers of layers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fnnet.nn.module import Bound, Module


class Sequential(Module):
    """Layers applied one after another; children are named ``"0"``, ``"1"``, ...

    PyTorch equivalent: ``torch.nn.Sequential`` (same ``state_dict`` names).
    """

    def __init__(self, *layers: Module) -> None:
        for index, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(
                    f"Sequential: argument {index} must be an fnnet.nn.Module, "
                    f"got {type(layer).__name__}"
                )
            setattr(self, str(index), layer)

    def __len__(self) -> int:
        return sum(1 for _ in self.named_children())

    def __getitem__(self, index: int) -> Module:
        child: Module = getattr(self, str(index % len(self)))
        return child

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

    def __getitem__(self, index: int) -> Module:
        if not isinstance(index, int) or isinstance(index, bool):
            raise TypeError(f"ModuleList indices must be ints, got {index!r}")
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range for ModuleList of length "
                             f"{len(self)}")
        child: Module = getattr(self, str(index % len(self)))
        return child

    def __iter__(self) -> Iterator[Module]:
        return (child for _, child in self.named_children())
