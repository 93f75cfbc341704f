"""Containers of layers."""

from __future__ import annotations

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
        return getattr(self, str(index % len(self)))

    def forward(self, m: Bound, x: Any) -> Any:
        for name, _ in self.named_children():
            x = m.call(name, x)
        return x
