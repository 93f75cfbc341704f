"""PyTorch's numeric helpers outside the layers: the signal windows (``hann_window``,
``hamming_window``, ``blackman_window``, ``bartlett_window``, ``kaiser_window``), the
trapezoid rule (``trapezoid``/``trapz``, ``cumulative_trapezoid``), ``vander`` and
``unravel_index``.

The windows are constants, computed in float64 by PyTorch's formulas and rounded once to
the dtype asked for; the others are recorded ops (differentiable, compiled with the step).
"""

from __future__ import annotations

import math
from typing import Any, cast

import jax.numpy as jnp
import numpy as np

from fnnet.torch import _dtypes
from fnnet.torch._defaults import get_default_dtype
from fnnet.torch._functions import tensor
from fnnet.torch.device import check_creation
from fnnet.torch.tensor import Tensor, _dim, _op, _op_multi


def _window(name: str, length: int, periodic: bool, dtype: Any, requires_grad: bool,
            formula: Any) -> Tensor:
    """``formula(n, N)`` at ``n = 0..N-1`` (``N = length + 1`` when periodic, the last
    point dropped), as PyTorch builds each window."""
    if not isinstance(length, int) or isinstance(length, bool):
        raise TypeError(f"{name}(): argument 'window_length' (position 1) must be int, not "
                        f"{type(length).__name__}")
    dtype = get_default_dtype() if dtype is None else dtype
    if not dtype.is_floating_point:
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dtype}")
    if length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got "
                           f"window_length={length}")
    if length <= 1:
        values = np.ones(length)
    else:
        size = length + 1 if periodic else length
        values = formula(np.arange(size, dtype=np.float64), size)[:length]
    return tensor(values, dtype=dtype, requires_grad=requires_grad)


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54,
                   beta: float = 0.46, *, dtype: Any = None, layout: Any = None,
                   device: Any = None, requires_grad: bool = False,
                   pin_memory: bool = False) -> Tensor:
    """``alpha - beta * cos(2 pi n / (N - 1))``. PyTorch: ``torch.hamming_window``."""
    check_creation(device, layout, pin_memory)
    return _window("hamming_window", window_length, periodic, dtype, requires_grad,
                   lambda n, size: alpha - beta * np.cos(2 * math.pi * n / (size - 1)))


def hann_window(window_length: int, periodic: bool = True, *, dtype: Any = None,
                layout: Any = None, device: Any = None, requires_grad: bool = False,
                pin_memory: bool = False) -> Tensor:
    """``0.5 - 0.5 cos(2 pi n / (N - 1))``. PyTorch: ``torch.hann_window``."""
    check_creation(device, layout, pin_memory)
    return _window("hann_window", window_length, periodic, dtype, requires_grad,
                   lambda n, size: 0.5 - 0.5 * np.cos(2 * math.pi * n / (size - 1)))


def blackman_window(window_length: int, periodic: bool = True, *, dtype: Any = None,
                    layout: Any = None, device: Any = None, requires_grad: bool = False,
                    pin_memory: bool = False) -> Tensor:
    """``0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))``.

    PyTorch equivalent: ``torch.blackman_window``.
    """
    check_creation(device, layout, pin_memory)
    return _window("blackman_window", window_length, periodic, dtype, requires_grad,
                   lambda n, size: 0.42 - 0.5 * np.cos(2 * math.pi * n / (size - 1))
                   + 0.08 * np.cos(4 * math.pi * n / (size - 1)))


def bartlett_window(window_length: int, periodic: bool = True, *, dtype: Any = None,
                    layout: Any = None, device: Any = None, requires_grad: bool = False,
                    pin_memory: bool = False) -> Tensor:
    """``1 - |2 n / (N - 1) - 1|``. PyTorch equivalent: ``torch.bartlett_window``."""
    check_creation(device, layout, pin_memory)
    return _window("bartlett_window", window_length, periodic, dtype, requires_grad,
                   lambda n, size: 1 - np.abs(2 * n / (size - 1) - 1))


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *,
                  dtype: Any = None, layout: Any = None, device: Any = None,
                  requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """``I0(beta sqrt(1 - (2 n / (N - 1) - 1)^2)) / I0(beta)``.

    PyTorch equivalent: ``torch.kaiser_window``.
    """
    check_creation(device, layout, pin_memory)
    return _window("kaiser_window", window_length, periodic, dtype, requires_grad,
                   lambda n, size: np.kaiser(size, beta))


def _trapezoid(y: Any, x: Any, dx: Any, dim: int, cumulative: bool) -> Any:
    y = jnp.moveaxis(y, dim, -1)
    if not jnp.issubdtype(y.dtype, jnp.floating):
        y = y.astype(jnp.result_type(float))
    widths = dx if x is None else jnp.diff(x if x.ndim == 1 else jnp.moveaxis(x, dim, -1))
    areas = (y[..., 1:] + y[..., :-1]) * widths / 2
    if cumulative:
        return jnp.moveaxis(jnp.cumsum(areas, axis=-1), -1, dim)
    return jnp.sum(areas, axis=-1)


def _integrate(who: str, y: Tensor, x: Any, dx: Any, dim: int, cumulative: bool) -> Tensor:
    if not isinstance(y, Tensor):
        raise TypeError(f"{who}(): argument 'y' (position 1) must be Tensor, not "
                        f"{type(y).__name__}")
    if x is not None and dx is not None:
        raise TypeError(f"{who}() received an invalid combination of arguments: both x and "
                        f"dx given")
    axis = _dim(dim, y.dim(), who)
    if x is None:
        return _op(_trapezoid, (float(1 if dx is None else dx), axis, cumulative), y, None,
                   who=who)
    if x.dim() == 1 and x.shape[0] != y.shape[axis]:
        raise RuntimeError(f"{who}: There must be one `x` value for each sample point")
    return _op(_trapezoid, (None, axis, cumulative), y, x, who=who)


def trapezoid(y: Tensor, x: Tensor | None = None, *, dx: Any = None, dim: int = -1
              ) -> Tensor:
    """The trapezoid rule's integral of ``y`` along ``dim``, at sample points ``x`` or
    spaced ``dx`` (default 1). PyTorch equivalent: ``torch.trapezoid``."""
    return _integrate("trapezoid", y, x, dx, dim, False)


def trapz(y: Tensor, x: Tensor | None = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """PyTorch equivalent: ``torch.trapz`` (``torch.trapezoid``'s older name)."""
    return _integrate("trapz", y, x, dx, dim, False)


def cumulative_trapezoid(y: Tensor, x: Tensor | None = None, *, dx: Any = None,
                         dim: int = -1) -> Tensor:
    """The running trapezoid-rule integral of ``y`` along ``dim`` (one fewer point).

    PyTorch equivalent: ``torch.cumulative_trapezoid``.
    """
    return _integrate("cumulative_trapezoid", y, x, dx, dim, True)


def _vander(x: Any, n: int, increasing: bool) -> Any:
    return jnp.vander(x, n, increasing=increasing)


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:  # noqa: N803
    """The matrix of powers of the 1-D ``x``: ``N`` columns, highest power first unless
    ``increasing``. PyTorch equivalent: ``torch.vander``."""
    if x.dim() != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else int(N)
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    source = x if x.dtype.is_floating_point else x.long()
    return _op(_vander, (n, bool(increasing)), source, who="vander")


def _unravel(flat: Any, shape: tuple[int, ...]) -> tuple[Any, ...]:
    strides = [math.prod(shape[i + 1:]) for i in range(len(shape))]
    return tuple((flat // stride) % size for stride, size in zip(strides, shape, strict=True))


def unravel_index(indices: Tensor, shape: Any) -> tuple[Tensor, ...]:
    """The coordinates in ``shape`` of each flat index, one tensor per dimension (a
    negative index counts from the end; one past it wraps, as PyTorch's arithmetic).

    PyTorch equivalent: ``torch.unravel_index``.
    """
    if not isinstance(indices, Tensor):
        raise TypeError(f"expected 'indices' to be a tensor, but got {type(indices)}")
    if indices.dtype.is_floating_point or indices.dtype == _dtypes.bool_:
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    shape = (shape,) if isinstance(shape, int) else tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    return tuple(cast(Tensor, t) for t in
                 _op_multi(_unravel, (shape,), indices.long(), who="unravel_index"))


def install(namespace: dict[str, Any]) -> None:
    """Adds the functions to ``namespace`` (``fnnet.torch``'s globals)."""
    for fn in (hamming_window, hann_window, blackman_window, bartlett_window, kaiser_window,
               trapezoid, trapz, cumulative_trapezoid, vander, unravel_index):
        namespace[fn.__name__] = fn
