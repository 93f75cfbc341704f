"""Activation layers: thin wrappers of the ``fnnet.nn.functional`` activations."""

from __future__ import annotations

import warnings

from fnnet.nn import functional as F
from fnnet.nn.module import Module
from fnnet.typing import Array, Params, PRNGKey, State


class _Elementwise(Module):
    """A parameter-free layer applying one element-wise function."""

    def fn(self, x: Array) -> Array:
        raise NotImplementedError

    # One input array: Module.apply's *args are for composites' forward.
    def apply(self, params: Params, state: State, x: Array, *, train: bool = False,  # type: ignore[override]
              key: PRNGKey | None = None) -> tuple[Array, State]:
        """Any shape -> the same shape."""
        del params, train, key
        return self.fn(x), state


class ReLU(_Elementwise):
    """``max(x, 0)``.

    Args:
        inplace: accepted for PyTorch compatibility; fnnet never mutates, so it has no
            effect.

    PyTorch equivalent: ``torch.nn.ReLU``.
    """

    def __init__(self, inplace: bool = False) -> None:
        self.inplace = inplace

    def fn(self, x: Array) -> Array:
        return F.relu(x)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Sigmoid(_Elementwise):
    """``1 / (1 + exp(-x))``. PyTorch equivalent: ``torch.nn.Sigmoid``."""

    def fn(self, x: Array) -> Array:
        return F.sigmoid(x)


class Tanh(_Elementwise):
    """Hyperbolic tangent. PyTorch equivalent: ``torch.nn.Tanh``."""

    def fn(self, x: Array) -> Array:
        return F.tanh(x)


def _legacy_softmax_dim(name: str, ndim: int) -> int:
    # PyTorch's _get_softmax_dim: the deprecated implicit choice when dim is None.
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to "
        "include dim=X as an argument.",
        UserWarning,
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(_Elementwise):
    """Softmax along ``dim``: the entries along it are positive and sum to one.

    Args:
        dim: the normalised axis. ``None`` makes PyTorch's deprecated implicit choice
            (axis 0 for 0-, 1- and 3-D input, else 1) with its warning.

    PyTorch equivalent: ``torch.nn.Softmax``.
    """

    def __init__(self, dim: int | None = None) -> None:
        self.dim = dim

    def fn(self, x: Array) -> Array:
        dim = self.dim if self.dim is not None else _legacy_softmax_dim("softmax", x.ndim)
        return F.softmax(x, dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(_Elementwise):
    """``log(softmax(x))`` along ``dim``, computed stably.

    Args:
        dim: the normalised axis (``None``: as :class:`Softmax`).

    PyTorch equivalent: ``torch.nn.LogSoftmax``.
    """

    def __init__(self, dim: int | None = None) -> None:
        self.dim = dim

    def fn(self, x: Array) -> Array:
        dim = (self.dim if self.dim is not None
               else _legacy_softmax_dim("log_softmax", x.ndim))
        return F.log_softmax(x, dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LeakyReLU(_Elementwise):
    """``x`` where positive, ``negative_slope * x`` elsewhere.

    PyTorch equivalent: ``torch.nn.LeakyReLU``.
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        if isinstance(negative_slope, bool) or not isinstance(negative_slope, int | float):
            raise TypeError(f"LeakyReLU: negative_slope must be a number, got "
                            f"{negative_slope!r}")
        self.negative_slope, self.inplace = negative_slope, inplace

    def fn(self, x: Array) -> Array:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class GELU(_Elementwise):
    """Gaussian error linear unit. PyTorch equivalent: ``torch.nn.GELU``."""

    def __init__(self, approximate: str = "none") -> None:
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got "
                             f"{approximate!r}")
        self.approximate = approximate

    def fn(self, x: Array) -> Array:
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate='{self.approximate}'"
