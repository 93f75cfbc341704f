"""JAX's GPUs, the devices ``torch.cuda`` stands for in fnnet.torch."""

from __future__ import annotations

from typing import Any

import jax


def gpus() -> list[Any]:
    """JAX's GPU devices; empty where this JAX has no GPU backend."""
    try:
        return jax.devices("gpu")
    except RuntimeError:  # no GPU backend in this JAX
        return []
