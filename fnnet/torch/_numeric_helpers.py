"""PyTorch's numeric helpers outside the layers: the signal windows (``hann_window``,
``hamming_window``, ``blackman_window``, ``bartlett_window``, ``kaiser_window``), the
trapezoid rule (``trapezoid``/``trapz``, ``cumulative_trapezoid``), differences
(``gradient``), ``vander`` and ``unravel_index``.

The windows are constants computed on the host by PyTorch's steps, each rounded to the
dtype asked for as PyTorch's arithmetic in it rounds (half-precision windows are then
PyTorch's to the bit, float32 ones but for the last bit of a cosine); the others are
recorded ops (differentiable, compiled with the step).
"""

from __future__ import annotations

import functools
import math
from typing import Any, cast

import jax.numpy as jnp
import numpy as np

from fnnet.torch import _dtypes
from fnnet.torch._defaults import get_default_dtype
from fnnet.torch._functions import tensor, tensor_argument
from fnnet.torch.device import check_creation
from fnnet.torch.tensor import CPP_TYPE_NAMES, Tensor, _dim, _op, _op_multi


def _window(name: str, length: int, periodic: bool, dtype: Any, requires_grad: bool,
            formula: Any) -> Tensor:
    """``formula(n, N, r, c)`` at ``n = 0..N-1`` (``N = length + 1`` when periodic, the
    last point dropped), as PyTorch builds each window: ``r`` rounds an array, ``c`` a
    Python number, to ``dtype``, as each step of PyTorch's arithmetic in it does."""
    if not isinstance(length, int) or isinstance(length, bool):
        raise TypeError(f"{name}(): argument 'window_length' (position 1) must be int, not "
                        f"{type(length).__name__}")
    dtype = get_default_dtype() if dtype is None else dtype
    if dtype.is_complex:  # PyTorch's arange refuses it before the window's own check
        raise RuntimeError(f'"arange_cpu" not implemented for \'{_dtypes.scalar_name(dtype)}\'')
    if not dtype.is_floating_point:
        # PyTorch prints the TensorOptions of the request, in C++'s type names
        raise RuntimeError(
            f"{name} expects floating point dtypes, got: TensorOptions(dtype="
            f"{CPP_TYPE_NAMES.get(dtype.name, dtype.name)}, device=cpu, layout=Strided "
            f"(default), requires_grad=false (default), pinned_memory=false, "
            f"memory_format=(nullopt))")
    if length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got "
                           f"window_length={length}")
    if length <= 1:
        values = np.ones(length)
    else:
        size = length + 1 if periodic else length
        target = _dtypes.to_np(dtype)

        def r(x: Any) -> Any:
            return np.asarray(x, np.float64).astype(target).astype(np.float64)

        values = formula(r(np.arange(size)), size, r, lambda v: float(r(v)))[:length]
    return tensor(values, dtype=dtype, requires_grad=requires_grad)


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54,
                   beta: float = 0.46, *, dtype: Any = None, layout: Any = None,
                   device: Any = None, requires_grad: bool = False,
                   pin_memory: bool = False) -> Tensor:
    """``alpha - beta * cos(2 pi n / (N - 1))``. PyTorch: ``torch.hamming_window``."""
    check_creation(device, layout, pin_memory)
    return _window("hamming_window", window_length, periodic, dtype, requires_grad,
                   functools.partial(_hamming, alpha, beta))


def _hamming(alpha: float, beta: float, n: Any, size: int, r: Any, c: Any) -> Any:
    """PyTorch's steps: ``arange(N).mul_(2 pi / (N - 1)).cos_().mul_(-beta).add_(alpha)``
    (each rounded to the window's dtype: the endpoints of a float32 window are then
    PyTorch's, not float64's rounded once)."""
    angle = r(n * c(2 * math.pi / (size - 1)))
    return r(r(r(np.cos(angle)) * c(-beta)) + c(alpha))


def hann_window(window_length: int, periodic: bool = True, *, dtype: Any = None,
                layout: Any = None, device: Any = None, requires_grad: bool = False,
                pin_memory: bool = False) -> Tensor:
    """``0.5 - 0.5 cos(2 pi n / (N - 1))``. PyTorch: ``torch.hann_window``."""
    check_creation(device, layout, pin_memory)
    return _window("hann_window", window_length, periodic, dtype, requires_grad,
                   functools.partial(_hamming, 0.5, 0.5))


def blackman_window(window_length: int, periodic: bool = True, *, dtype: Any = None,
                    layout: Any = None, device: Any = None, requires_grad: bool = False,
                    pin_memory: bool = False) -> Tensor:
    """``0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))``.

    PyTorch equivalent: ``torch.blackman_window``.
    """
    check_creation(device, layout, pin_memory)
    return _window("blackman_window", window_length, periodic, dtype, requires_grad,
                   _blackman)


def _blackman(n: Any, size: int, r: Any, c: Any) -> Any:
    """PyTorch's steps, each rounded to the window's dtype: ``w = arange(N) * pi / (N - 1)``,
    then ``cos(4 w) * 0.08 - cos(2 w) * 0.5 + 0.42`` (its first point is float32's
    -2.98e-08, as PyTorch prints it)."""
    angle = r(n * c(math.pi / (size - 1)))
    fourth = r(r(np.cos(r(angle * 4))) * c(0.08))
    second = r(r(np.cos(r(angle * 2))) * c(0.5))
    return r(r(fourth - second) + c(0.42))


def bartlett_window(window_length: int, periodic: bool = True, *, dtype: Any = None,
                    layout: Any = None, device: Any = None, requires_grad: bool = False,
                    pin_memory: bool = False) -> Tensor:
    """``1 - |2 n / (N - 1) - 1|``. PyTorch equivalent: ``torch.bartlett_window``."""
    check_creation(device, layout, pin_memory)
    return _window("bartlett_window", window_length, periodic, dtype, requires_grad,
                   _bartlett)


def _bartlett(n: Any, size: int, r: Any, c: Any) -> Any:
    """PyTorch's steps: ``w = arange(N) * (2 / (N - 1))``, its second half ``2 - w``."""
    window = r(n * c(2.0 / (size - 1)))
    half = ((size - 1) >> 1) + 1
    window[half:] = r(2 - window[half:])
    return window


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *,
                  dtype: Any = None, layout: Any = None, device: Any = None,
                  requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """``I0(beta sqrt(1 - (2 n / (N - 1) - 1)^2)) / I0(beta)``.

    PyTorch equivalent: ``torch.kaiser_window``.
    """
    check_creation(device, layout, pin_memory)
    return _window("kaiser_window", window_length, periodic, dtype, requires_grad,
                   lambda n, size, r, c: np.kaiser(size, beta))


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


def _gradient(f: Any, coordinates: Any, spacing: float | None, axis: int,
              edge_order: int) -> Any:
    """``f``'s derivative along ``axis`` by differences: central in the interior, one-sided
    of order ``edge_order`` at the two ends, at unit distance ``spacing`` or at the 1-D
    ``coordinates`` (second-order accurate where they are uneven)."""
    f = jnp.moveaxis(f, axis, -1)
    if not jnp.issubdtype(f.dtype, jnp.floating):
        f = f.astype(jnp.result_type(float))
    if coordinates is None:
        h = 1.0 if spacing is None else spacing
        inner = (f[..., 2:] - f[..., :-2]) / (2 * h)
        if edge_order == 1:
            first = (f[..., 1:2] - f[..., :1]) / h
            last = (f[..., -1:] - f[..., -2:-1]) / h
        else:
            first = (-1.5 * f[..., :1] + 2 * f[..., 1:2] - 0.5 * f[..., 2:3]) / h
            last = (0.5 * f[..., -3:-2] - 2 * f[..., -2:-1] + 1.5 * f[..., -1:]) / h
    else:
        dx = jnp.diff(coordinates.astype(f.dtype))
        d1, d2 = dx[:-1], dx[1:]
        inner = (-d2 / (d1 * (d1 + d2)) * f[..., :-2] + (d2 - d1) / (d1 * d2) * f[..., 1:-1]
                 + d1 / (d2 * (d1 + d2)) * f[..., 2:])
        if edge_order == 1:
            first = (f[..., 1:2] - f[..., :1]) / dx[0]
            last = (f[..., -1:] - f[..., -2:-1]) / dx[-1]
        else:
            a, b = dx[0], dx[1]
            first = (-(2 * a + b) / (a * (a + b)) * f[..., :1] + (a + b) / (a * b) * f[..., 1:2]
                     - a / (b * (a + b)) * f[..., 2:3])
            a, b = dx[-2], dx[-1]
            last = (b / (a * (a + b)) * f[..., -3:-2] - (a + b) / (a * b) * f[..., -2:-1]
                    + (2 * b + a) / (b * (a + b)) * f[..., -1:])
    return jnp.moveaxis(jnp.concatenate([first, inner, last], axis=-1), -1, axis)


def gradient(input: Tensor, *, spacing: Any = 1, dim: Any = None,
             edge_order: int = 1) -> tuple[Tensor, ...]:
    """The derivative of ``input`` along each of ``dim`` (all by default), estimated by
    differences as numpy's ``gradient`` does, one tensor per dimension.

    Args:
        input: the sampled function.
        spacing: the distance between samples (a number), one per dimension (a list of
            numbers), or the samples' coordinates along each dimension (a list of 1-D
            tensors).
        dim: a dimension or a list of them.
        edge_order: 1 or 2, the accuracy of the differences at the ends.

    PyTorch equivalent: ``torch.gradient``.
    """
    tensor_argument(input, "gradient", "input", 1)
    dims = list(range(input.dim())) if dim is None else \
        [_dim(dim, input.dim(), "gradient")] if isinstance(dim, int) else \
        [_dim(d, input.dim(), "gradient") for d in dim]
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    spacings = list(spacing) if isinstance(spacing, (list, tuple)) else [spacing] * len(dims)
    if len(spacings) != len(dims):
        given = f"'self.dim() = {input.dim()}', since dim argument was not given" \
            if dim is None else f"'dim = {len(dims)}'"
        raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar, or "
                           f"a list of length equal to {given}, but got a list of length "
                           f"{len(spacings)}")
    if any(input.shape[d] < edge_order + 1 for d in dims):
        raise RuntimeError("torch.gradient expected each dimension size to be at least "
                           "edge_order+1")
    out = []
    for axis, step in zip(dims, spacings, strict=True):
        if isinstance(step, Tensor):
            if step.dim() != 1 or step.shape[0] != input.shape[axis]:
                raise RuntimeError(f"torch.gradient expected each tensor to be on the same "
                                   f"device and to have one coordinate per sample along "
                                   f"dimension {axis}, got a tensor of shape "
                                   f"{tuple(step.shape)}")
            out.append(_op(_gradient, (None, axis, edge_order), input, step, who="gradient"))
        else:
            out.append(_op(_gradient, (float(step), axis, edge_order), input, None,
                           who="gradient"))
    return tuple(out)


def install(namespace: dict[str, Any]) -> None:
    """Adds the functions to ``namespace`` (``fnnet.torch``'s globals)."""
    for fn in (hamming_window, hann_window, blackman_window, bartlett_window, kaiser_window,
               trapezoid, trapz, cumulative_trapezoid, vander, unravel_index, gradient):
        namespace[fn.__name__] = fn
