"""``torch.fft``: discrete Fourier transforms, each one recorded ``jnp.fft`` call (compiled
with the step, differentiable), with PyTorch's argument rules and errors.

A transform of a real tensor is complex (``complex64`` from ``float32``; integers and
booleans are first taken to the default float dtype, as PyTorch's are); ``rfft``'s and
``ihfft``'s halve the last transformed dimension to ``n // 2 + 1``, and ``irfft``'s and
``hfft``'s are real of length ``n`` (``2 * (m - 1)`` by default). ``n``/``s`` pad with
zeros or trim each transformed dimension first (-1 in ``s`` keeps a size); ``norm`` is
``"backward"`` (the forward transform unscaled, the inverse divided by ``n``),
``"ortho"`` (both by ``sqrt(n)``) or ``"forward"`` (the forward one divided by ``n``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np

from fnnet.torch import _dtypes
from fnnet.torch._defaults import get_default_dtype
from fnnet.torch._functions import tensor as _tensor
from fnnet.torch._functions import tensor_argument
from fnnet.torch._out import check_no_grad, deliver
from fnnet.torch.device import check_creation
from fnnet.torch.tensor import Tensor, _dim, _op

__all__ = ["fft", "fft2", "fftfreq", "fftn", "fftshift", "hfft", "hfft2", "hfftn", "ifft",
           "ifft2", "ifftn", "ifftshift", "ihfft", "ihfft2", "ihfftn", "irfft", "irfft2",
           "irfftn", "rfft", "rfft2", "rfftfreq", "rfftn"]

_NORMS = ("backward", "ortho", "forward")
#: the normalisation that makes a forward transform the inverse's mirror (numpy's
#: ``hfft(x) == irfft(conj(x))`` with the other direction's scaling)
_SWAPPED = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


# The recorded ops: module-level functions (the step cache recognises them), every
# argument after the array static. ``s`` and ``axes`` are complete tuples.
def _c2c(x: Any, s: tuple[int, ...], axes: tuple[int, ...], norm: str, inverse: bool,
         complex_type: Any) -> Any:
    x = x.astype(complex_type)
    if not axes:
        return x
    return (jnp.fft.ifftn if inverse else jnp.fft.fftn)(x, s=s, axes=axes, norm=norm)


def _r2c(x: Any, s: tuple[int, ...], axes: tuple[int, ...], norm: str, hermitian: bool,
         real_type: Any) -> Any:
    if hermitian:  # ihfft: the conjugate of the forward transform, scaled as the inverse
        return jnp.conj(jnp.fft.rfftn(x.astype(real_type), s=s, axes=axes,
                                      norm=_SWAPPED[norm]))
    return jnp.fft.rfftn(x.astype(real_type), s=s, axes=axes, norm=norm)


def _c2r(x: Any, s: tuple[int, ...], axes: tuple[int, ...], norm: str, hermitian: bool,
         complex_type: Any) -> Any:
    x = x.astype(complex_type)
    if hermitian:  # hfft: the inverse transform of the conjugate, scaled as the forward
        return jnp.fft.irfftn(jnp.conj(x), s=s, axes=axes, norm=_SWAPPED[norm])
    return jnp.fft.irfftn(x, s=s, axes=axes, norm=norm)


def _real_type(input: Tensor) -> Any:  # noqa: A002 - PyTorch's name
    """The real dtype ``input`` is transformed in: its own float dtype, the default one
    for integers and booleans; PyTorch's CPU FFTs refuse half precision."""
    dtype = input.dtype
    if dtype.is_complex:
        return np.dtype(np.float64 if dtype.np == np.complex128 else np.float32)
    if dtype.name in ("float16", "bfloat16"):
        raise RuntimeError(f"Unsupported dtype {_dtypes.scalar_name(dtype)}")
    if not dtype.is_floating_point:
        dtype = get_default_dtype()
    return _dtypes.to_np(dtype)


def _complex_type(real: Any) -> Any:
    return np.dtype(np.complex128 if real == np.float64 else np.complex64)


def _check_common(who: str, input: Any, norm: Any) -> str:  # noqa: A002
    tensor_argument(input, f"fft_{who}", "input", 1)
    if norm is None:
        return "backward"
    if not isinstance(norm, str):
        raise TypeError(f"fft_{who}(): argument 'norm' must be str, not "
                        f"{type(norm).__name__}")
    if norm not in _NORMS:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return norm


def _size(who: str, name: str, value: Any) -> int:
    if not isinstance(value, int | np.integer) or isinstance(value, bool):
        raise TypeError(f"fft_{who}(): argument '{name}' must be int, not "
                        f"{type(value).__name__}")
    return int(value)


def _points(n: int) -> int:
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return n


def _plan_1d(who: str, input: Tensor, n: Any, dim: Any) -> tuple[Any, tuple[int, ...]]:
    """``(n or None, (axis,))`` of a one-dimensional transform."""
    if input.dim() == 0:
        _size(who, "dim", dim)
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    axis = _dim(dim, input.dim(), f"fft_{who}")
    if n is not None:
        _points(_size(who, "n", n))
    return n, (axis,)


def _plan_nd(who: str, input: Tensor, s: Any, dim: Any) -> tuple[Any, tuple[int, ...]]:
    """``(s or None, axes)`` of a transform over several dimensions: ``dim`` None means
    the last ``len(s)`` dimensions, or all of them without ``s``."""
    if isinstance(s, int | np.integer) and not isinstance(s, bool):
        s = (s,)
    if s is not None:
        s = tuple(_size(who, "s", v) for v in _sequence(who, "s", s))
    if isinstance(dim, int | np.integer) and not isinstance(dim, bool):
        dim = (dim,)
    if dim is None:
        if s is not None and len(s) > input.dim():
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has "
                               f"{input.dim()} dimensions.")
        count = input.dim() if s is None else len(s)
        axes = tuple(range(input.dim() - count, input.dim()))
    else:
        axes = tuple(_dim(d, input.dim(), f"fft_{who}") for d in _sequence(who, "dim", dim))
        if len(set(axes)) != len(axes):
            raise RuntimeError("FFT dims must be unique")
        if s is not None and len(s) != len(axes):
            raise RuntimeError("When given, dim and shape arguments must have the same "
                               "length")
    if s is not None:
        s = tuple(input.shape[a] if v == -1 else _points(v) for v, a in zip(s, axes, strict=True))
    return s, axes


def _sequence(who: str, name: str, value: Any) -> Sequence[Any]:
    if not isinstance(value, list | tuple):
        raise TypeError(f"fft_{who}(): argument '{name}' must be tuple of ints, not "
                        f"{type(value).__name__}")
    return value


def _real_only(family: str, input: Tensor) -> None:  # noqa: A002 - PyTorch's name
    if input.dtype.is_complex:
        real = "real-valued" if family.endswith("n") else "real"
        raise RuntimeError(f"{family} expects a {real} input tensor, but got "
                           f"{_dtypes.scalar_name(input.dtype)}")


def _transform(who: str, input: Tensor, n_or_s: Any, dim: Any, norm: Any, out: Any,
               kind: str) -> Tensor:
    """``kind``: ``"fft"``/``"ifft"`` (complex to complex), ``"rfft"``/``"ihfft"`` (real to
    half-complex), ``"irfft"``/``"hfft"`` (half-complex to real); ``who`` is PyTorch's name
    of the function, ending in ``2`` or ``n`` for the transforms over several dims."""
    mode = _check_common(who, input, norm)
    if out is not None:  # PyTorch's error for inputs that require grad, the result written
        check_no_grad(f"fft_{who}", (input,), {})
        written: Tensor = deliver(f"fft_{who}", out,
                                  _transform(who, input, n_or_s, dim, norm, None, kind))
        return written
    several = who[-1] in "2n"
    if several:
        sizes, axes = _plan_nd(who, input, n_or_s, dim)
    else:
        sizes, axes = _plan_1d(who, input, n_or_s, dim)
        sizes = None if sizes is None else (sizes,)
    real = _real_type(input)
    if kind in ("fft", "ifft"):
        return _op(_c2c, (_full(input, sizes, axes), axes, mode, kind == "ifft",
                          _complex_type(real)), input, who=f"fft_{who}")
    if kind in ("rfft", "ihfft"):
        _real_only(kind + ("n" if several else ""), input)
        return _op(_r2c, (_full(input, sizes, axes), axes, mode, kind == "ihfft", real),
                   input, who=f"fft_{who}")
    # irfft/hfft: the last transformed dim's output size is n, 2 * (m - 1) by default
    full = list(_full(input, sizes, axes))
    if sizes is None and axes:
        full[-1] = _points(2 * (input.shape[axes[-1]] - 1))
    return _op(_c2r, (tuple(full), axes, mode, kind == "hfft", _complex_type(real)), input,
               who=f"fft_{who}")


def _full(input: Tensor, sizes: Any, axes: tuple[int, ...]) -> tuple[int, ...]:  # noqa: A002
    """The size of each transformed dim: ``sizes``, or the input's (at least 1)."""
    if sizes is None:
        return tuple(_points(input.shape[a]) for a in axes)
    return tuple(sizes)


def fft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *,
        out: Any = None) -> Tensor:
    """The discrete Fourier transform along ``dim``. PyTorch equivalent: ``torch.fft.fft``.

    Example: ``torch.fft.fft(torch.tensor([1., 0., 0., 0.]))`` is four ``1+0j``.
    """
    return _transform("fft", input, n, dim, norm, out, "fft")


def ifft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *,
         out: Any = None) -> Tensor:
    """The inverse of :func:`fft`. PyTorch equivalent: ``torch.fft.ifft``."""
    return _transform("ifft", input, n, dim, norm, out, "ifft")


def rfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *,
         out: Any = None) -> Tensor:
    """The transform of a real signal along ``dim``: its ``n // 2 + 1`` non-negative
    frequencies. PyTorch equivalent: ``torch.fft.rfft``.

    Raises:
        RuntimeError: ``input`` is complex, ``n < 1`` or ``norm`` is unknown.
    """
    return _transform("rfft", input, n, dim, norm, out, "rfft")


def irfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *,
          out: Any = None) -> Tensor:
    """The real signal of length ``n`` (``2 * (m - 1)`` by default) whose :func:`rfft`
    is ``input``. PyTorch equivalent: ``torch.fft.irfft``."""
    return _transform("irfft", input, n, dim, norm, out, "irfft")


def hfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *,
         out: Any = None) -> Tensor:
    """The (real) transform of a Hermitian-symmetric signal given by its first half.

    PyTorch equivalent: ``torch.fft.hfft``.
    """
    return _transform("hfft", input, n, dim, norm, out, "hfft")


def ihfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *,
          out: Any = None) -> Tensor:
    """The inverse of :func:`hfft`: half of the inverse transform of a real signal.

    PyTorch equivalent: ``torch.fft.ihfft``.
    """
    return _transform("ihfft", input, n, dim, norm, out, "ihfft")


_LAST_TWO = (-2, -1)


def fft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = _LAST_TWO,
         norm: str | None = None, *, out: Any = None) -> Tensor:
    """:func:`fftn` over two dims. PyTorch equivalent: ``torch.fft.fft2``."""
    return _transform("fft2", input, s, dim, norm, out, "fft")


def ifft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = _LAST_TWO,
          norm: str | None = None, *, out: Any = None) -> Tensor:
    """:func:`ifftn` over two dims. PyTorch equivalent: ``torch.fft.ifft2``."""
    return _transform("ifft2", input, s, dim, norm, out, "ifft")


def rfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = _LAST_TWO,
          norm: str | None = None, *, out: Any = None) -> Tensor:
    """:func:`rfftn` over two dims. PyTorch equivalent: ``torch.fft.rfft2``."""
    return _transform("rfft2", input, s, dim, norm, out, "rfft")


def irfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = _LAST_TWO,
           norm: str | None = None, *, out: Any = None) -> Tensor:
    """:func:`irfftn` over two dims. PyTorch equivalent: ``torch.fft.irfft2``."""
    return _transform("irfft2", input, s, dim, norm, out, "irfft")


def hfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = _LAST_TWO,
          norm: str | None = None, *, out: Any = None) -> Tensor:
    """:func:`hfftn` over two dims. PyTorch equivalent: ``torch.fft.hfft2``."""
    return _transform("hfft2", input, s, dim, norm, out, "hfft")


def ihfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = _LAST_TWO,
           norm: str | None = None, *, out: Any = None) -> Tensor:
    """:func:`ihfftn` over two dims. PyTorch equivalent: ``torch.fft.ihfft2``."""
    return _transform("ihfft2", input, s, dim, norm, out, "ihfft")


def fftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
         norm: str | None = None, *, out: Any = None) -> Tensor:
    """The transform over ``dim`` (every dim, or the last ``len(s)``, by default).

    PyTorch equivalent: ``torch.fft.fftn``.
    """
    return _transform("fftn", input, s, dim, norm, out, "fft")


def ifftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
          norm: str | None = None, *, out: Any = None) -> Tensor:
    """The inverse of :func:`fftn`. PyTorch equivalent: ``torch.fft.ifftn``."""
    return _transform("ifftn", input, s, dim, norm, out, "ifft")


def rfftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
          norm: str | None = None, *, out: Any = None) -> Tensor:
    """:func:`fftn` of a real tensor, the last dim halved. PyTorch: ``torch.fft.rfftn``."""
    return _transform("rfftn", input, s, dim, norm, out, "rfft")


def irfftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
           norm: str | None = None, *, out: Any = None) -> Tensor:
    """The inverse of :func:`rfftn`. PyTorch equivalent: ``torch.fft.irfftn``."""
    return _transform("irfftn", input, s, dim, norm, out, "irfft")


def hfftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
          norm: str | None = None, *, out: Any = None) -> Tensor:
    """:func:`hfft` over several dims (the last one halved in ``input``).

    PyTorch equivalent: ``torch.fft.hfftn``.
    """
    return _transform("hfftn", input, s, dim, norm, out, "hfft")


def ihfftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
           norm: str | None = None, *, out: Any = None) -> Tensor:
    """The inverse of :func:`hfftn`. PyTorch equivalent: ``torch.fft.ihfftn``."""
    return _transform("ihfftn", input, s, dim, norm, out, "ihfft")


def _frequencies(who: str, n: Any, d: float, dtype: Any, requires_grad: bool) -> Tensor:
    if not isinstance(n, int | np.integer) or isinstance(n, bool):
        raise TypeError(f"fft_{who}(): argument 'n' (position 1) must be int, not "
                        f"{type(n).__name__}")
    count = (n + 1) // 2 if who == "fftfreq" else n // 2 + 1
    dtype = get_default_dtype() if dtype is None else dtype
    if not (dtype.is_floating_point or dtype.is_complex):
        raise RuntimeError(f"{who} requires a floating point or complex dtype")
    # as PyTorch: the integer frequencies in the dtype, times 1 / (n d) rounded to it
    ks = np.concatenate([np.arange(count), np.arange(count - n, 0)]) if who == "fftfreq" \
        else np.arange(count)
    kind = _dtypes.to_np(dtype)
    scale = kind.type(1.0 / (n * d)) if n * d != 0 else kind.type(math.inf)
    with np.errstate(invalid="ignore"):
        values = ks.astype(kind) * scale
    return _tensor(values, dtype=dtype, requires_grad=requires_grad)


def fftfreq(n: int, d: float = 1.0, *, out: Any = None, dtype: Any = None,
            layout: Any = None, device: Any = None, requires_grad: bool = False,
            pin_memory: bool = False) -> Tensor:
    """The frequencies of :func:`fft`'s ``n`` outputs for samples ``d`` apart:
    ``[0, 1, ..., (n - 1) // 2, -(n // 2), ..., -1] / (n d)``.

    PyTorch equivalent: ``torch.fft.fftfreq``.
    """
    check_creation(device, layout, pin_memory)
    frequencies: Tensor = deliver("fft_fftfreq", out,
                                  _frequencies("fftfreq", n, d, dtype, requires_grad))
    return frequencies


def rfftfreq(n: int, d: float = 1.0, *, out: Any = None, dtype: Any = None,
             layout: Any = None, device: Any = None, requires_grad: bool = False,
             pin_memory: bool = False) -> Tensor:
    """The frequencies of :func:`rfft`'s ``n // 2 + 1`` outputs: ``[0, ..., n // 2] /
    (n d)``. PyTorch equivalent: ``torch.fft.rfftfreq``."""
    check_creation(device, layout, pin_memory)
    frequencies: Tensor = deliver("fft_rfftfreq", out,
                                  _frequencies("rfftfreq", n, d, dtype, requires_grad))
    return frequencies


def _rolled(x: Any, shifts: tuple[int, ...], axes: tuple[int, ...]) -> Any:
    return jnp.roll(x, shifts, axes) if axes else x


def _shift(who: str, input: Tensor, dim: Any, inverse: bool) -> Tensor:
    tensor_argument(input, f"fft_{who}", "input", 1)
    if dim is None:
        axes: tuple[int, ...] = tuple(range(input.dim()))
    else:
        dims = (dim,) if isinstance(dim, int | np.integer) else _sequence(who, "dim", dim)
        axes = tuple(_dim(int(d) if isinstance(d, np.integer) else d, input.dim(),
                          f"fft_{who}") for d in dims)
    shifts = tuple(-(input.shape[a] // 2) if inverse else input.shape[a] // 2 for a in axes)
    return _op(_rolled, (shifts, axes), input, who=f"fft_{who}")


def fftshift(input: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """Rolls the zero frequency to the centre of each of ``dim`` (every dim by default).

    PyTorch equivalent: ``torch.fft.fftshift``.
    """
    return _shift("fftshift", input, dim, inverse=False)


def ifftshift(input: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """The inverse of :func:`fftshift`. PyTorch equivalent: ``torch.fft.ifftshift``."""
    return _shift("ifftshift", input, dim, inverse=True)
