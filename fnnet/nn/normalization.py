"""Layer normalisation and RMS normalisation."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fnnet.nn.functional.rms_norm import rms_norm
from fnnet.nn.functional.sequence import layer_norm
from fnnet.nn.init import constant
from fnnet.nn.module import Module
from fnnet.typing import Array, Params, PRNGKey, State


def _normalized_shape(who: str, normalized_shape: Any) -> tuple[int, ...]:
    """``normalized_shape`` (an int or the trailing shape) as a tuple of positive ints;
    errors name the layer ``who``."""
    if isinstance(normalized_shape, int):
        shape: tuple[Any, ...] = (normalized_shape,)
    elif isinstance(normalized_shape, Iterable) and \
            not isinstance(normalized_shape, str | bytes):
        shape = tuple(normalized_shape)
    else:
        raise TypeError(f"{who}: normalized_shape must be an int or a sequence of "
                        f"ints (the trailing shape), got {normalized_shape!r}")
    if not shape or any(isinstance(s, bool) or not isinstance(s, int) or s < 1
                        for s in shape):
        raise ValueError(f"{who}: normalized_shape must be positive ints, got "
                         f"{normalized_shape!r}")
    return shape


class LayerNorm(Module):
    """Normalises each sample over its trailing ``normalized_shape`` axes.

    Args:
        normalized_shape: an int or the trailing shape.
        eps: added to the variance.
        elementwise_affine: learn ``weight`` (ones) and ``bias`` (zeros).
        bias: learn the bias (when affine).

    Raises:
        TypeError: ``normalized_shape`` is neither an int nor a sequence of ints.
        ValueError: ``normalized_shape`` is empty or holds a size below 1 (or not an
            int).

    PyTorch equivalent: ``torch.nn.LayerNorm``.
    """

    def __init__(self, normalized_shape: int | tuple[int, ...], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True) -> None:
        self.normalized_shape = _normalized_shape("LayerNorm", normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self.bias = bias

    def init(self, key: PRNGKey) -> tuple[Params, State]:
        del key
        if not self.elementwise_affine:
            return {}, {}
        params = {"weight": constant(self.normalized_shape, 1.0)}
        if self.bias:
            params["bias"] = constant(self.normalized_shape, 0.0)
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


class RMSNorm(Module):
    """Divides each sample by its root mean square over the trailing
    ``normalized_shape`` axes (see :func:`fnnet.nn.functional.rms_norm`).

    Args:
        normalized_shape: an int or the trailing shape.
        eps: added to the mean square; None: the input dtype's machine epsilon.
        elementwise_affine: learn ``weight`` (ones).

    Raises:
        TypeError, ValueError: ``normalized_shape`` as :class:`LayerNorm`'s.

    PyTorch equivalent: ``torch.nn.RMSNorm``.
    """

    def __init__(self, normalized_shape: int | tuple[int, ...], eps: float | None = None,
                 elementwise_affine: bool = True) -> None:
        self.normalized_shape = _normalized_shape("RMSNorm", normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine

    def init(self, key: PRNGKey) -> tuple[Params, State]:
        del key
        if not self.elementwise_affine:
            return {}, {}
        return {"weight": constant(self.normalized_shape, 1.0)}, {}

    def apply(self, params: Params, state: State, x: Array, *, train: bool = False,  # type: ignore[override]
              key: PRNGKey | None = None) -> tuple[Array, State]:
        """``x: [*, *normalized_shape]`` -> the same shape."""
        del train, key
        return rms_norm(x, self.normalized_shape, params.get("weight"), self.eps), state

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
