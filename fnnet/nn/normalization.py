"""Layer normalisation."""

from __future__ import annotations

import jax.numpy as jnp

from fnnet.nn.functional.sequence import layer_norm
from fnnet.nn.module import Module
from fnnet.typing import Array, Params, PRNGKey, State


class LayerNorm(Module):
    """Normalises each sample over its trailing ``normalized_shape`` axes.

    Args:
        normalized_shape: an int or the trailing shape.
        eps: added to the variance.
        elementwise_affine: learn ``weight`` (ones) and ``bias`` (zeros).
        bias: learn the bias (when affine).

    PyTorch equivalent: ``torch.nn.LayerNorm``.
    """

    def __init__(self, normalized_shape: int | tuple[int, ...], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True) -> None:
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else \
            tuple(normalized_shape)
        if not shape or any(not isinstance(s, int) or s < 1 for s in shape):
            raise ValueError(f"LayerNorm: normalized_shape must be positive ints, got "
                             f"{normalized_shape!r}")
        self.normalized_shape = shape
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self.bias = bias

    def init(self, key: PRNGKey) -> tuple[Params, State]:
        del key
        if not self.elementwise_affine:
            return {}, {}
        params = {"weight": jnp.ones(self.normalized_shape, jnp.float32)}
        if self.bias:
            params["bias"] = jnp.zeros(self.normalized_shape, jnp.float32)
        return params, {}

    # One input array: Module.apply's *args are for composites' forward.
    def apply(self, params: Params, state: State, x: Array, *, train: bool = False,  # type: ignore[override]
              key: PRNGKey | None = None) -> tuple[Array, State]:
        """``x: [*, *normalized_shape]`` -> the same shape."""
        del train, key
        return layer_norm(x, self.normalized_shape, params.get("weight"),
                          params.get("bias"), self.eps), state

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}"
                f", bias={bool(self.bias and self.elementwise_affine)}")
