"""Flattening layer."""

from __future__ import annotations

from fnnet.nn import functional as F
from fnnet.nn.module import Module
from fnnet.typing import Array, Params, PRNGKey, State


class Flatten(Module):
    """Merges axes ``start_dim`` to ``end_dim`` into one.

    Args:
        start_dim: first axis to merge (1: keep the batch axis).
        end_dim: last axis to merge.

    PyTorch equivalent: ``torch.nn.Flatten``.
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        self.start_dim = start_dim
        self.end_dim = end_dim

    # One input array: Module.apply's *args are for composites' forward.
    def apply(self, params: Params, state: State, x: Array, *, train: bool = False,  # type: ignore[override]
              key: PRNGKey | None = None) -> tuple[Array, State]:
        """``x: [N, C, H, W] -> [N, C * H * W]`` for the defaults."""
        del params, train, key
        return F.flatten(x, self.start_dim, self.end_dim), state

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
