"""The PyTorch names ordinary programs reach for after the core ops: the arithmetic
aliases (``multiply``, ``divide(rounding_mode=)``, ``remainder``...), NaN-aware
reductions and ``median``, the special functions (``lgamma``, ``digamma``, ``erfc``...),
tensor attributes (``stride``, ``nbytes``...), the in-place forms that change a tensor's
shape (``unsqueeze_``), the RNG state and matmul precision; the shape and matrix
helpers are in :mod:`fnnet.torch._shape_ops`.

Each recorded op is a module-level ``jax.numpy`` function (differentiable, compiled with
the step, and the same object at every call so the step cache recognises it);
:func:`install` attaches the methods to :class:`~fnnet.torch.tensor.Tensor` and the
functions to ``fnnet.torch``.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fnnet.nn.functional._utils import in_float32
from fnnet.optim.transforms import lerp as lerp_rounded
from fnnet.torch import _dtypes, _graph, _ops, _random, _strides
from fnnet.torch._functions import number
from fnnet.torch._graph import CONST, RG, VAR
from fnnet.torch._math_ops import in_place
from fnnet.torch._more_ops import _sign
from fnnet.torch._recorder import current as _current_recorder
from fnnet.torch._search_ops import overload_argument
from fnnet.torch._shape_ops import (
    addmm,
    atleast_1d,
    atleast_2d,
    atleast_3d,
    broadcast_tensors,
    broadcast_to,
    column_stack,
    cross,
    diagonal,
    dot,
    dstack,
    fliplr,
    flipud,
    hstack,
    kron,
    movedim,
    mv,
    ravel,
    rot90,
    select,
    sum_to_size,
    swapaxes,
    swapdims,
    take_along_dim,
    tensordot,
    tile,
    trace,
    unbind,
    unflatten,
    unfold,
    vstack,
)
from fnnet.torch._shape_ops import tensor_arg as _tensor_arg
from fnnet.torch.device import check_creation
from fnnet.torch.tensor import (
    Tensor,
    _as_tensor,
    _dim,
    _op,
    _op_multi,
    _operands,
    _scalar_or_tensor,
    check_int_division,
    values_indices,
)

_INDEX = np.dtype(_graph.canonical_dtype(np.int64))


def _dims_arg(dim: Any) -> Any:
    return tuple(dim) if isinstance(dim, (list, tuple)) else dim


def _reduced_dims(dim: Any, ndim: int, who: str) -> Any:
    """``dim`` (None, an int or a sequence) checked against ``ndim`` as PyTorch does."""
    if dim is None:
        return None
    if isinstance(dim, (list, tuple)):
        return tuple(_dim(d, ndim, who) for d in dim)
    return _dim(dim, ndim, who)


# -- arithmetic -------------------------------------------------------------------------


def _divide(x: Any, y: Any, mode: str | None) -> Any:
    if mode is None:
        return _ops.true_divide(x, y)
    if mode == "trunc":
        # integers divide exactly; floats round the true quotient toward zero
        if jnp.issubdtype(jnp.result_type(x, y), jnp.integer):
            q = jnp.floor_divide(x, y)
            return jnp.where((q < 0) & (q * y != x), q + 1, q)
        return jnp.trunc(_ops.true_divide(x, y))
    return _ops.floor_divide(x, y)


def divide(self: Tensor, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """``self / other``; ``rounding_mode`` "trunc" or "floor" rounds the quotient.

    PyTorch equivalent: ``torch.divide`` / ``torch.div``.
    """
    if rounding_mode not in (None, "trunc", "floor"):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or "
                           f"'floor' but found '{rounding_mode}'")
    if rounding_mode is not None:
        check_int_division(self, other)
    return _op(_divide, (rounding_mode,), *_operands(self, other), who="divide")


def div(self: Tensor, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """``self / other``, or rounded by ``rounding_mode`` as :func:`divide`.

    PyTorch equivalent: ``torch.div`` / ``Tensor.div``.
    """
    if rounding_mode is None:
        out: Tensor = self / other
        return out
    return divide(self, other, rounding_mode=rounding_mode)


def div_(self: Tensor, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """In-place :func:`div`. PyTorch equivalent: ``Tensor.div_``."""
    return self._arithmetic_inplace(div(self, other, rounding_mode=rounding_mode))


def multiply(self: Tensor, other: Any) -> Tensor:
    """PyTorch equivalent: ``torch.multiply`` (``mul``)."""
    out: Tensor = self * other
    return out


def subtract(self: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    """``self - alpha * other``. PyTorch equivalent: ``torch.subtract`` (``sub``)."""
    diff: Tensor = self - (other if alpha == 1 else other * alpha)
    return diff


def true_divide(self: Tensor, other: Any) -> Tensor:
    """PyTorch equivalent: ``torch.true_divide``."""
    return _op(_ops.true_divide, (), *_operands(self, other), who="true_divide")


def floor_divide(self: Tensor, other: Any) -> Tensor:
    """The quotient rounded down. PyTorch equivalent: ``torch.floor_divide``."""
    check_int_division(self, other)
    return _op(_ops.floor_divide, (), *_operands(self, other), who="floor_divide")


def remainder(self: Tensor, other: Any) -> Tensor:
    """Python's modulus (the sign of the divisor). PyTorch: ``torch.remainder``."""
    check_int_division(self, other)
    return _op(jnp.remainder, (), *_operands(self, other), who="remainder")


def fmod(self: Tensor, other: Any) -> Tensor:
    """C's modulus (the sign of the dividend). PyTorch equivalent: ``torch.fmod``."""
    check_int_division(self, other)
    return _op(jnp.fmod, (), *_operands(self, other), who="fmod")


def binary(name: str, fn: Callable[..., Any], doc: str = "") -> Callable[..., Tensor]:
    """The function (and method) ``name`` of two tensors or a tensor and a number,
    promoted as PyTorch's arithmetic promotes them; ``fn`` computes it."""
    def method(self: Tensor, other: Any) -> Tensor:
        return _op(fn, (), *_operands(self, other), who=name)

    method.__name__ = name
    method.__doc__ = f"{doc} PyTorch equivalent: ``torch.{name}``.".lstrip()
    return method


hypot = binary("hypot", in_float32(jnp.hypot), "``sqrt(self**2 + other**2)``.")
logaddexp = binary("logaddexp", in_float32(jnp.logaddexp), "``log(exp(self) + exp(other))``.")
xlogy = binary("xlogy", _ops.xlogy, "``self * log(other)``, 0 where self is 0.")


def _float_power(x: Any, y: Any) -> Any:
    wide = _graph.canonical_dtype(np.float64)
    return _ops.power(jnp.asarray(x, wide), jnp.asarray(y, wide))


def float_power(self: Tensor, exponent: Any) -> Tensor:
    """``self ** exponent`` in double precision (float32 unless jax's x64 mode is on).

    PyTorch equivalent: ``torch.float_power``.
    """
    return _op(_float_power, (), self, _scalar_or_tensor(exponent), who="float_power")


def _lerp(x: Any, end: Any, weight: Any) -> Any:
    return lerp_rounded(x, end, weight)


def _check_lerp(x: Any, end: Any, weight: Any) -> None:
    """PyTorch's errors for ``lerp``'s element types: ``end`` and a ``weight`` tensor of
    one dimension or more in ``x``'s type (an EMA's ``ema.lerp_(p, 0.1)`` with ``p`` of
    another precision), and a floating ``x``."""
    from fnnet.torch._mixed_dtypes import C_NAMES

    for name, other in (("end", end), ("weight", weight)):
        if isinstance(other, Tensor) and (name == "end" or other.dim() > 0) and \
                other.dtype != x.dtype:
            raise RuntimeError(f"expected dtype {C_NAMES[x.dtype.name]} for `{name}` but got "
                               f"dtype {C_NAMES[other.dtype.name]}")
    if not (x.is_floating_point() or x.dtype.is_complex):
        kernel = "tensor" if isinstance(weight, Tensor) else "scalar"
        raise NotImplementedError(f'"lerp_kernel_{kernel}" not implemented for '
                                  f"'{_dtypes.scalar_name(x.dtype)}'")


def lerp(self: Tensor, end: Any, weight: Any) -> Tensor:
    """``self + weight * (end - self)``. PyTorch equivalent: ``torch.lerp``."""
    return _op(_lerp, (), self, _tensor_arg(end, "lerp", "end"), _scalar_or_tensor(weight),
               who="lerp", check=_check_lerp)


def _addcmul(x: Any, a: Any, b: Any, value: Any) -> Any:
    return x + value * a * b


def _addcdiv(x: Any, a: Any, b: Any, value: Any) -> Any:
    return x + value * a / b


def addcmul(self: Tensor, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Tensor:
    """``self + value * tensor1 * tensor2``. PyTorch equivalent: ``torch.addcmul``."""
    return _op(_addcmul, (), self, _tensor_arg(tensor1, "addcmul", "tensor1"),
               _tensor_arg(tensor2, "addcmul", "tensor2"), _scalar_or_tensor(value),
               who="addcmul")


def addcdiv(self: Tensor, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Tensor:
    """``self + value * tensor1 / tensor2``. PyTorch equivalent: ``torch.addcdiv``."""
    return _op(_addcdiv, (), self, _tensor_arg(tensor1, "addcdiv", "tensor1"),
               _tensor_arg(tensor2, "addcdiv", "tensor2"), _scalar_or_tensor(value),
               who="addcdiv")


def _nan_to_num(x: Any, nan: float, posinf: float | None, neginf: float | None) -> Any:
    return jnp.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


def nan_to_num(self: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """NaN to ``nan``, infinities to ``posinf``/``neginf`` (the dtype's largest finite
    values by default). PyTorch equivalent: ``torch.nan_to_num``."""
    for name, value in (("nan", nan), ("posinf", posinf), ("neginf", neginf)):
        if not (value is None and name != "nan" or isinstance(value, int | float)):
            raise TypeError(f"nan_to_num(): argument '{name}' must be float, not "
                            f"{type(value).__name__}")
    return _op(_nan_to_num, (nan, posinf, neginf), self, who="nan_to_num")


def _sgn(x: Any) -> Any:
    """``sign`` that takes complex values too, ``z / |z|`` (0 at 0), differentiable as
    PyTorch's (jax's ``sign`` has a zero gradient); under a name of its own, as
    PyTorch's ``sign`` refuses complex values (see ``_complex_checks``)."""
    if not jnp.iscomplexobj(x):
        return _sign(x)
    size = jnp.abs(x)
    zero = size == 0
    return jnp.where(zero, jnp.zeros_like(x), x / jnp.where(zero, 1, size))


def _digamma(x: Any) -> Any:
    """``jax.scipy.special.digamma``, with PyTorch's infinities at zero (``-inf`` at
    ``0.0``, ``inf`` at ``-0.0``) where JAX's is NaN."""
    return jnp.where(x == 0, jnp.copysign(jnp.inf, -x), jax.scipy.special.digamma(x))


UNARY: dict[str, Callable[..., Any]] = {
    "erfc": jax.scipy.special.erfc, "lgamma": jax.scipy.special.gammaln,
    "digamma": _digamma, "sinc": jnp.sinc, "signbit": jnp.signbit,
    "sgn": _sgn, "rad2deg": jnp.rad2deg, "deg2rad": jnp.deg2rad,
}


def _unary(name: str, fn: Callable[..., Any]) -> Callable[..., Tensor]:
    def method(self: Tensor) -> Tensor:
        return _op(fn, (), self, who=name)

    method.__name__ = name
    method.__doc__ = f"PyTorch equivalent: ``torch.{name}``."
    return method


# -- reductions -------------------------------------------------------------------------


def _nansum(x: Any, dim: Any, keepdim: bool) -> Any:
    return jnp.nansum(x, axis=dim, keepdims=keepdim)


def _nanmean(x: Any, dim: Any, keepdim: bool) -> Any:
    return jnp.nanmean(x, axis=dim, keepdims=keepdim)


def nansum(self: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None
           ) -> Tensor:
    """The sum treating NaN as zero. PyTorch equivalent: ``torch.nansum``."""
    x = self if dtype is None else self.to(dtype)
    return _op(_nansum, (_reduced_dims(dim, x.dim(), "nansum"), keepdim), x, who="nansum")


def nanmean(self: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None
            ) -> Tensor:
    """The mean of the non-NaN elements. PyTorch equivalent: ``torch.nanmean``."""
    if self.dtype.is_complex:
        raise RuntimeError("nansum on CPU does not support complex inputs")
    if not self.is_floating_point():
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex "
                           f"dtype but got {_dtypes.scalar_name(self.dtype)}")
    x = self if dtype is None else self.to(dtype)
    return _op(_nanmean, (_reduced_dims(dim, x.dim(), "nanmean"), keepdim), x, who="nanmean")


def _median_all(x: Any) -> Any:
    flat = jnp.sort(x.reshape(-1))
    middle = flat[(flat.shape[0] - 1) // 2]
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        return middle
    # a NaN makes it NaN; the gradient is shared by the elements equal to it
    return _ops.spread_over_ties(x, jnp.where(jnp.isnan(flat).any(), jnp.nan, middle))


def _median_dim(x: Any, dim: int, keepdim: bool) -> tuple[Any, Any]:
    order = jnp.argsort(x, axis=dim, stable=True)
    k = (x.shape[dim] - 1) // 2
    index = jax.lax.index_in_dim(order, k, axis=dim, keepdims=True)
    values = jnp.take_along_axis(x, index, axis=dim)
    if jnp.issubdtype(x.dtype, jnp.inexact):
        # a row with a NaN has the NaN for median, at the index of its first NaN
        nans = jnp.isnan(x)
        has_nan = nans.any(axis=dim, keepdims=True)
        values = jnp.where(has_nan, jnp.nan, values)
        index = jnp.where(has_nan, jnp.argmax(nans, axis=dim, keepdims=True), index)
    if not keepdim:
        values, index = jnp.squeeze(values, dim), jnp.squeeze(index, dim)
    return values, index.astype(_INDEX)


def median(self: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """The lower median: of all elements, or ``(values, indices)`` along ``dim``.

    PyTorch equivalent: ``torch.median``.
    """
    if dim is None:
        if self.numel() == 0:
            return _as_tensor(np.asarray(np.nan, np.float32))
        return _op(_median_all, (), self, who="median")
    dim = _dim(dim, self.dim(), "median")
    if self.dim() == 0:
        return values_indices(self * 1, _as_tensor(np.asarray(0, _INDEX)), "median")
    if self.shape[dim] == 0:
        raise IndexError(f"median(): Expected reduction dim {dim} to have non-zero size.")
    values, indices = _op_multi(_median_dim, (dim, bool(keepdim)), self, who="median")
    return values_indices(values, indices, "median")


def _count_nonzero(x: Any, dim: Any) -> Any:
    return jnp.count_nonzero(x, axis=dim).astype(_INDEX)


def count_nonzero(self: Tensor, dim: Any = None) -> Tensor:
    """How many elements are not zero. PyTorch equivalent: ``torch.count_nonzero``."""
    return _op(_count_nonzero, (_reduced_dims(dim, self.dim(), "count_nonzero"),), self,
               who="count_nonzero")


def _moments(fn_name: str) -> Callable[..., tuple[Tensor, Tensor]]:
    def moments(input: Any, dim: Any = None, unbiased: bool | None = None,  # noqa: A002
                keepdim: bool = False, *, correction: int | None = None
                ) -> tuple[Tensor, Tensor]:
        x = _tensor_arg(input, fn_name, "input")
        if correction is None:
            correction = 0 if unbiased is False else 1
        spread = getattr(x, fn_name.split("_")[0])(dim, keepdim=keepdim,
                                                   correction=correction)
        return spread, x.mean(_dims_arg(dim) if dim is not None else None, keepdim=keepdim)

    moments.__name__ = fn_name
    moments.__doc__ = (f"``({fn_name.split('_')[0]}, mean)`` over ``dim`` in one call. "
                       f"PyTorch equivalent: ``torch.{fn_name}``.")
    return moments


std_mean = _moments("std_mean")
var_mean = _moments("var_mean")


def _cumulative(x: Any, dim: int, largest: bool) -> tuple[Any, Any]:
    if x.ndim == 0:
        return x, jnp.zeros((), _INDEX)
    running = jax.lax.stop_gradient(
        jax.lax.cummax(x, axis=dim) if largest else jax.lax.cummin(x, axis=dim))
    shape = [1] * x.ndim
    shape[dim] = x.shape[dim]
    positions = jnp.arange(x.shape[dim], dtype=_INDEX).reshape(shape)
    # the latest position holding the running extreme, as PyTorch reports ties; a NaN is
    # the extreme from where it stands
    hit = x == running
    if jnp.issubdtype(x.dtype, jnp.inexact):
        hit = hit | jnp.isnan(x)
    indices = jax.lax.cummax(jnp.where(hit, positions, -1), axis=dim)
    # taken at the indices, so that the gradient goes where they point, as PyTorch's
    return jnp.take_along_axis(x, indices, axis=dim), indices


def cummax(self: Tensor, dim: int) -> Any:
    """Running maxima along ``dim`` and where each was reached.

    PyTorch equivalent: ``torch.cummax``.
    """
    dim = _dim(dim, self.dim(), "cummax")
    values, indices = _op_multi(_cumulative, (dim, True), self, who="cummax")
    return values_indices(values, indices, "cummax")


def cummin(self: Tensor, dim: int) -> Any:
    """Running minima along ``dim`` and where each was reached.

    PyTorch equivalent: ``torch.cummin``.
    """
    dim = _dim(dim, self.dim(), "cummin")
    values, indices = _op_multi(_cumulative, (dim, False), self, who="cummin")
    return values_indices(values, indices, "cummin")


# -- tensor attributes and casts --------------------------------------------------------


def ndimension(self: Tensor) -> int:
    """PyTorch equivalent: ``Tensor.ndimension`` (``dim()``)."""
    return self.dim()


def element_size(self: Tensor) -> int:
    """Bytes per element of the dtype the tensor reports: 8 for ``torch.int64``, also
    where it is held in 32 bits (see ``_dtypes``), as a model's size in memory counts it.
    PyTorch equivalent: ``Tensor.element_size``."""
    return self.dtype.itemsize


def _itemsize(self: Tensor) -> int:
    return element_size(self)


def _nbytes(self: Tensor) -> int:
    return element_size(self) * self.numel()


def _is_cpu(self: Tensor) -> bool:
    return bool(self.device.type == "cpu")


def _retains_grad(self: Tensor) -> bool:
    hooks = getattr(self, "_hooks", None)
    return bool(hooks is not None and hooks.retain)


def is_contiguous(self: Tensor, memory_format: Any = None) -> bool:
    """Whether PyTorch's layout of the tensor is row-major: False for a transposed or
    strided view (``x.t()``, ``x[:, ::2]``) until ``contiguous()``.

    PyTorch equivalent: ``Tensor.is_contiguous``.
    """
    del memory_format
    return _strides.is_contiguous(self)


def contiguous(self: Tensor, memory_format: Any = None) -> Tensor:
    """The tensor itself where it is contiguous, else a copy (so writes to it no longer
    reach the tensor it was a view of). PyTorch equivalent: ``Tensor.contiguous``."""
    del memory_format
    return self if _strides.is_contiguous(self) else self.clone()


def stride(self: Tensor, dim: int | None = None) -> Any:
    """The elements skipped per step along each dimension, as PyTorch lays the tensor out
    (a view's from the steps that took it; see ``_strides``).

    PyTorch equivalent: ``Tensor.stride``.
    """
    strides = _strides.strides(self)
    if dim is None:
        return strides
    return strides[_dim(dim, self.dim(), "stride")]


def _cast_method(name: str, np_dtype: Any) -> Callable[..., Tensor]:
    def method(self: Tensor, memory_format: Any = None) -> Tensor:
        del memory_format
        return self._cast(np.dtype(np_dtype))

    method.__name__ = name
    method.__doc__ = f"``self`` as {np.dtype(np_dtype).name}. PyTorch: ``Tensor.{name}``."
    return method


def where(self: Tensor, condition: Any, other: Any) -> Tensor:
    """``self`` where ``condition`` holds, else ``other``. PyTorch: ``Tensor.where``."""
    from fnnet.torch._functions import where as where_function

    return where_function(_tensor_arg(condition, "where", "condition"), self, other)


def _method_of(function_name: str) -> Callable[..., Any]:
    """``Tensor.<name>`` calling ``fnnet.torch``'s function of that name on ``self``, for
    the functions of two tensors (whose ``other`` PyTorch's method calls position 1)."""
    from fnnet.torch import _functions

    fn = getattr(_functions, function_name)

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Any:
        if args:
            _functions.tensor_argument(args[0], function_name, "other", 1)
        return fn(self, *args, **kwargs)

    method.__name__ = function_name
    method.__doc__ = f"PyTorch equivalent: ``Tensor.{function_name}``."
    return method


def shape_in_place(name: str) -> Callable[..., Tensor]:
    """``Tensor.<name>_`` for an op that may change the shape (``unsqueeze_``): the result
    replaces the tensor's value and shape, as in PyTorch."""
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        if self._kind == VAR and _current_recorder().grad_enabled:
            raise RuntimeError("a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        result = getattr(self, name)(*args, **kwargs)
        cell = result._cell
        _graph.bind(self._cell, cell.ref, cell.aval, cell.rg)
        if cell.rg and self._kind == CONST:
            self._kind = RG
        return self

    method.__name__ = name + "_"
    method.__doc__ = f"In-place ``{name}``. PyTorch equivalent: ``Tensor.{name}_``."
    return method


# -- functions that are not methods -----------------------------------------------------


def isin(elements: Any = None, test_elements: Any = None, *, assume_unique: bool = False,
         invert: bool = False, element: Any = None, test_element: Any = None) -> Tensor:
    """True where an element of ``elements`` is in ``test_elements`` (``element`` and
    ``test_element``: PyTorch's names for a number on either side).

    PyTorch equivalent: ``torch.isin``.
    """
    del assume_unique
    if element is not None or elements is None:
        elements = overload_argument("isin", elements=elements, element=element)
    if test_element is not None or test_elements is None:
        test_elements = overload_argument("isin", test_elements=test_elements,
                                          test_element=test_element)
    a = _tensor_arg(elements, "isin", "elements")
    b = _tensor_arg(test_elements, "isin", "test_elements")
    return _op(_isin, (bool(invert),), a, b, who="isin")


def _isin(a: Any, b: Any, invert: bool) -> Any:
    return jnp.isin(a, b, invert=invert)


def is_nonzero(input: Any) -> bool:  # noqa: A002 - PyTorch's name
    """Whether a one-element tensor is not zero. PyTorch equivalent: ``torch.is_nonzero``."""
    return bool(_tensor_arg(input, "is_nonzero", "input"))


def is_floating_point(input: Any) -> bool:  # noqa: A002 - PyTorch's name
    """PyTorch equivalent: ``torch.is_floating_point``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"is_floating_point(): argument 'input' (position 1) must be Tensor, "
                        f"not {type(input).__name__}")
    return input.is_floating_point()


def logspace(start: float, end: float, steps: int, base: float = 10.0, *,
             dtype: Any = None, device: Any = None, requires_grad: bool = False,
             layout: Any = None, pin_memory: bool = False) -> Tensor:
    """``base ** linspace(start, end, steps)``. PyTorch equivalent: ``torch.logspace``."""
    check_creation(device, layout, pin_memory)
    start, end = number(start, "logspace", "start", 0), number(end, "logspace", "end", 1)
    steps = number(steps, "logspace", "steps", 2)
    if not isinstance(steps, int) or isinstance(steps, builtins.bool) or steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    np_dtype = _dtypes.to_np(dtype) if dtype is not None else np.float32
    values = np.power(float(base), np.linspace(start, end, steps, dtype=np.float64))
    result = _as_tensor(values.astype(np_dtype))
    return result.requires_grad_(requires_grad) if requires_grad else result


def scalar_tensor(s: Any, *, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False, layout: Any = None, pin_memory: bool = False
                  ) -> Tensor:
    """A 0-dim tensor of ``s`` (float32 unless ``dtype``). PyTorch: ``torch.scalar_tensor``."""
    check_creation(device, layout, pin_memory)
    if not isinstance(s, (int, float, np.number)) and not isinstance(s, Tensor):
        raise TypeError(f"scalar_tensor(): argument 's' must be Number, not "
                        f"{type(s).__name__}")
    value = s.item() if isinstance(s, Tensor) else s
    np_dtype = _dtypes.to_np(dtype) if dtype is not None else np.float32
    out = _as_tensor(np.asarray(value, np_dtype))
    return out.requires_grad_(requires_grad) if requires_grad else out


def clone(input: Any, *, memory_format: Any = None) -> Tensor:  # noqa: A002
    """PyTorch equivalent: ``torch.clone``."""
    del memory_format
    return _tensor_arg(input, "clone", "input").clone()


def detach(input: Any) -> Tensor:  # noqa: A002 - PyTorch's name
    """PyTorch equivalent: ``torch.detach``."""
    return _tensor_arg(input, "detach", "input").detach()


# -- global settings --------------------------------------------------------------------

#: PyTorch's float32 matmul precision -> jax's ``jax_default_matmul_precision``
_MATMUL_PRECISION = {"highest": "float32", "high": "tensorfloat32", "medium": "bfloat16"}


def set_float32_matmul_precision(precision: str) -> None:
    """Sets jax's default matmul precision: "highest" computes in float32, "high" allows
    TF32 and "medium" bfloat16 passes where the device has them (the CPU always computes
    in float32). PyTorch equivalent: ``torch.set_float32_matmul_precision``."""
    if precision not in _MATMUL_PRECISION:
        raise RuntimeError(f"Invalid precision {precision!r}: expected one of 'highest', "
                           f"'high', 'medium'")
    jax.config.update("jax_default_matmul_precision", _MATMUL_PRECISION[precision])


def get_float32_matmul_precision() -> str:
    """The precision last set ("highest" by default, as PyTorch).

    PyTorch equivalent: ``torch.get_float32_matmul_precision``.
    """
    current = jax.config.jax_default_matmul_precision  # type: ignore[attr-defined]
    for name, value in _MATMUL_PRECISION.items():
        if current == value:
            return name
    return "highest"


def _settle_rng() -> None:
    from fnnet.torch import _compiler, _recorder

    if _recorder.current().tape.rng_slot >= 0:
        _compiler.flush("value")  # the pending step holds the key: its draws come first


def get_rng_state() -> Tensor:
    """The global generator's state: PyTorch's 5056 bytes (seed, Mersenne Twister words
    and position, cached normal draw) as a uint8 tensor.

    PyTorch equivalent: ``torch.get_rng_state``.
    """
    if _random.in_worker():  # a DataLoader worker's own generator, without the jax key
        return _random.state_tensor(_random.state.host.get_state())
    _settle_rng()
    return _random.state_tensor(_random.state.get_state())


def set_rng_state(new_state: Any) -> None:
    """Restores a state from :func:`get_rng_state` (PyTorch's too): the draws that
    followed it repeat. PyTorch: ``torch.set_rng_state``."""
    raw = _random.state_bytes(new_state)
    if _random.in_worker():  # a DataLoader worker's own generator, without the jax key
        _random.state.host.set_state(raw)
        return
    _settle_rng()
    _random.state.set_state(raw)


def seed() -> int:
    """Seeds the global generator from the operating system's entropy and returns the
    seed.

    PyTorch equivalent: ``torch.seed``.
    """
    value = int.from_bytes(os.urandom(8), "little") & (2**63 - 1)
    _random.manual_seed(value)
    return value


# -- install ----------------------------------------------------------------------------

METHODS: tuple[Callable[..., Any], ...] = (
    div, div_, divide, multiply, subtract, true_divide, floor_divide, remainder, fmod, hypot,
    logaddexp,
    xlogy, float_power, lerp, addcmul, addcdiv, nan_to_num, nansum, nanmean, median,
    count_nonzero, cummax, cummin, tile, unbind, unflatten, movedim, swapaxes, swapdims,
    ravel, broadcast_to, sum_to_size, diagonal, trace, fliplr, flipud, rot90, dot, mv, addmm,
    kron, cross, take_along_dim, ndimension, element_size, is_contiguous, contiguous, stride,
    where,
    unfold, select, _strides.as_strided, _strides.storage_offset)
#: the methods PyTorch also offers as ``torch.<name>(input, ...)``
FUNCTIONS = (
    "divide", "multiply", "subtract", "true_divide", "floor_divide", "remainder", "fmod",
    "hypot", "logaddexp", "xlogy", "float_power", "lerp", "addcmul", "addcdiv", "nan_to_num",
    "nansum", "nanmean", "median", "count_nonzero", "cummax", "cummin", "tile", "unbind",
    "movedim", "swapaxes", "swapdims", "ravel", "broadcast_to", "diagonal", "trace", "unflatten",
    "fliplr", "flipud", "rot90", "dot", "mv", "addmm", "kron", "cross", "take_along_dim",
    "t", "all", "any", "select", "as_strided", *UNARY)
IN_PLACE = ("divide", "multiply", "subtract", "true_divide", "floor_divide", "remainder",
            "fmod", "float_power", "lerp", "addcmul", "addcdiv", "nan_to_num", "hypot",
            "xlogy", "clip", "sign", "tril", "triu", *(n for n in UNARY if n != "signbit"))
SHAPE_IN_PLACE = ("squeeze", "unsqueeze", "transpose", "t", "swapaxes", "swapdims")
CASTS = {"short": np.int16, "byte": np.uint8, "char": np.int8, "bfloat16": jnp.bfloat16}
OTHER_FUNCTIONS: tuple[Callable[..., Any], ...] = (
    hstack, vstack, dstack, column_stack, atleast_1d, atleast_2d, atleast_3d,
    broadcast_tensors, tensordot, isin, is_nonzero, is_floating_point, logspace,
    scalar_tensor, clone, detach, set_float32_matmul_precision, get_float32_matmul_precision,
    get_rng_state, set_rng_state, seed, std_mean, var_mean)


def install(namespace: dict[str, Any]) -> None:
    """Adds the methods to :class:`Tensor` and the functions to ``namespace``
    (``fnnet.torch``'s globals)."""
    for name, fn in UNARY.items():
        setattr(Tensor, name, _unary(name, fn))
    for method in METHODS:
        setattr(Tensor, method.__name__, method)
    for name in ("maximum", "minimum", "isclose", "allclose", "equal"):
        setattr(Tensor, name, _method_of(name))
    for name, np_dtype in CASTS.items():
        setattr(Tensor, name, _cast_method(name, np_dtype))
    Tensor.moveaxis = Tensor.movedim  # type: ignore[attr-defined]
    Tensor.itemsize = property(_itemsize)  # type: ignore[attr-defined]
    Tensor.nbytes = property(_nbytes)  # type: ignore[attr-defined]
    Tensor.is_cpu = property(_is_cpu)  # type: ignore[attr-defined]
    Tensor.retains_grad = property(_retains_grad)  # type: ignore[attr-defined]
    for name in IN_PLACE:
        setattr(Tensor, name + "_", in_place(name))
    for name in SHAPE_IN_PLACE:
        setattr(Tensor, name + "_", shape_in_place(name))
    for name in FUNCTIONS:
        method = getattr(Tensor, name)

        def function(input: Any, *args: Any, _method: Any = method, _name: str = name,
                     **kwargs: Any) -> Any:
            return _method(_tensor_arg(input, _name, "input"), *args, **kwargs)

        function.__name__ = name
        function.__doc__ = f"PyTorch equivalent: ``torch.{name}`` (``Tensor.{name}``)."
        namespace.setdefault(name, function)
    namespace["moveaxis"] = namespace["movedim"]
    for fn in OTHER_FUNCTIONS:
        namespace[fn.__name__] = fn
