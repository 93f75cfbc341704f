"""Element-wise functions and dtype helpers that older and intermediate code calls:
``logit``, ``heaviside``, ``copysign``, ``fmax``/``fmin``, ``logaddexp2``, ``ldexp``,
``gcd``/``lcm``, ``isposinf``/``isneginf``/``isreal``, ``nextafter``, ``i0`` (functions,
methods and in-place methods), the in-place functions PyTorch has for the unary ops
(``torch.tan_``...), ``torch.broadcast_shapes``/``result_type``/``promote_types``/
``can_cast``, the deprecated ``torch.range``, and ``Tensor.new``/``pin_memory``/
``is_pinned``/``is_shared``.

Each recorded op is a ``jax.numpy`` function, differentiable and compiled with the step;
:func:`install` attaches the methods to :class:`~fnnet.torch.tensor.Tensor` and the
functions to ``fnnet.torch``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import jax.numpy as jnp
import numpy as np

from fnnet.nn.functional._utils import in_float32
from fnnet.torch import _dtypes
from fnnet.torch._math_ops import in_place
from fnnet.torch._surface_ops import binary
from fnnet.torch.tensor import Size, Tensor, _as_tensor, _op, _scalar_or_tensor


def _logit(x: Any, eps: float | None) -> Any:
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        x = x.astype(jnp.float32)
    if eps is not None:
        x = jnp.clip(x, eps, 1 - eps)
    return jnp.log(x / (1 - x))


def logit(self: Tensor, eps: float | None = None) -> Tensor:
    """``log(p / (1 - p))``, ``p`` clamped to ``[eps, 1 - eps]`` when ``eps`` is given.

    PyTorch equivalent: ``torch.logit``.
    """
    return _op(_logit, (None if eps is None else float(eps),), self, who="logit")


def _ldexp(x: Any, exponent: Any) -> Any:
    # PyTorch computes input * 2 ** other, in a floating type
    out = x * jnp.exp2(jnp.asarray(exponent).astype(jnp.float32))
    return out if jnp.issubdtype(x.dtype, jnp.inexact) else out.astype(jnp.float32)


def _integer_only(name: str, fn: Callable[..., Any]) -> Callable[..., Tensor]:
    """``gcd``/``lcm``: PyTorch's NotImplementedError for a floating input."""
    def method(self: Tensor, other: Any) -> Tensor:
        if self.is_floating_point() or (isinstance(other, Tensor) and
                                        other.is_floating_point()):
            kind = self.dtype if self.is_floating_point() else other.dtype
            raise NotImplementedError(f"\"{name}_cpu\" not implemented for "
                                      f"'{_dtypes.scalar_name(kind)}'")
        return _op(fn, (), self, _scalar_or_tensor(other), who=name)

    method.__name__ = name
    method.__doc__ = f"PyTorch equivalent: ``torch.{name}`` (integers only)."
    return method


def heaviside(self: Tensor, values: Any) -> Tensor:
    """0 where negative, 1 where positive, ``values`` where zero.

    PyTorch equivalent: ``torch.heaviside``.
    """
    values = _as_tensor(values)
    if values.dtype != self.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different "
                           "dtypes.")
    return _op(_heaviside, (), self, values, who="heaviside")


def _heaviside(x: Any, values: Any) -> Any:
    return jnp.heaviside(x, values).astype(x.dtype)  # integers stay integers, as PyTorch


def _unary(name: str, fn: Callable[..., Any]) -> Callable[..., Tensor]:
    def method(self: Tensor) -> Tensor:
        return _op(fn, (), self, who=name)

    method.__name__ = name
    method.__doc__ = f"PyTorch equivalent: ``torch.{name}``."
    return method


def _isreal(x: Any) -> Any:
    if jnp.iscomplexobj(x):
        return jnp.imag(x) == 0
    return jnp.ones(x.shape, bool)


def _i0(x: Any) -> Any:
    return jnp.i0(x if jnp.issubdtype(x.dtype, jnp.inexact) else x.astype(jnp.float32))


#: PyTorch's name -> the method computing it
METHODS: dict[str, Callable[..., Tensor]] = {
    "logit": logit, "heaviside": heaviside,
    "copysign": binary("copysign", jnp.copysign), "fmax": binary("fmax", jnp.fmax),
    "fmin": binary("fmin", jnp.fmin),
    "logaddexp2": binary("logaddexp2", in_float32(jnp.logaddexp2)),
    "ldexp": binary("ldexp", _ldexp), "nextafter": binary("nextafter", jnp.nextafter),
    "gcd": _integer_only("gcd", jnp.gcd), "lcm": _integer_only("lcm", jnp.lcm),
    "isposinf": _unary("isposinf", jnp.isposinf), "isneginf": _unary("isneginf", jnp.isneginf),
    "isreal": _unary("isreal", _isreal), "i0": _unary("i0", _i0),
}
#: methods PyTorch also has in place (``x.logit_()``)
IN_PLACE_METHODS = ("logit", "heaviside", "copysign", "ldexp", "nextafter", "gcd", "lcm",
                    "i0", "acosh", "asinh", "atanh")
#: in-place forms PyTorch has as ``torch.<name>_`` functions too
IN_PLACE_FUNCTIONS = ("tan", "acosh", "asinh", "atanh", "log2", "log10", "sinc", "sinh",
                      "cosh", "acos", "asin", "atan", "arccos", "arccosh", "arcsin",
                      "arcsinh", "arctan", "arctanh", "erf", "erfc", "exp2", "fix", "neg",
                      "negative", "deg2rad", "rad2deg", "i0", "gcd", "lcm", "ldexp", "logit",
                      "clamp", "clamp_min", "clamp_max", "clip", "xlogy", "detach", "fill",
                      "zero", "nan_to_num", "index_put")
#: activations PyTorch also has as ``torch.<name>`` and ``torch.<name>_``
ACTIVATIONS = ("selu", "celu", "threshold")


# -- dtypes and shapes ----------------------------------------------------------------

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "V": 2}  # bfloat16 is numpy kind "V"


def _category(dtype: _dtypes.dtype) -> int:
    return 2 if dtype.is_floating_point else _CATEGORY.get(np.dtype(dtype.np).kind, 1)


def promote_types(type1: _dtypes.dtype, type2: _dtypes.dtype) -> _dtypes.dtype:
    """The smallest dtype both cast to safely. PyTorch equivalent: ``torch.promote_types``."""
    return _dtypes.from_np(jnp.promote_types(type1.np, type2.np))


def _scalar_dtype(value: Any) -> _dtypes.dtype:
    if isinstance(value, bool):
        return _dtypes.bool_
    if isinstance(value, int):
        return _dtypes.int64
    from fnnet.torch._defaults import get_default_dtype

    return get_default_dtype()


def result_type(tensor: Any, other: Any) -> _dtypes.dtype:
    """The dtype an arithmetic op of the two gives: dimensioned tensors first, then 0-d
    tensors and Python numbers only where their category (bool, integer, floating) is
    higher. PyTorch equivalent: ``torch.result_type``."""
    groups: list[list[_dtypes.dtype]] = [[], [], []]
    for value in (tensor, other):
        if isinstance(value, Tensor):
            groups[0 if value.dim() else 1].append(value.dtype)
        else:
            groups[2].append(_scalar_dtype(value))
    result: _dtypes.dtype | None = None
    for group in groups:
        if not group:
            continue
        found = group[0] if len(group) == 1 else promote_types(group[0], group[1])
        if result is None:
            result = found
        elif _category(found) > _category(result):
            result = promote_types(result, found) if group is not groups[2] or \
                not found.is_floating_point else _scalar_dtype(1.0) if \
                _category(result) < 2 else result
    assert result is not None
    return result


def can_cast(from_: _dtypes.dtype, to: _dtypes.dtype) -> bool:
    """Whether PyTorch's casting rules allow ``from_`` to ``to`` (no floating to integer,
    nothing but bool to bool). PyTorch equivalent: ``torch.can_cast``."""
    if _category(from_) > _category(to):
        return False
    return not (to == _dtypes.bool_ and from_ != _dtypes.bool_)


def broadcast_shapes(*shapes: Any) -> Size:
    """The shape tensors of ``shapes`` broadcast to. PyTorch equivalent:
    ``torch.broadcast_shapes``."""
    as_tuples = [(s,) if isinstance(s, int) else tuple(s) for s in shapes]
    result: list[int] = []
    for index, shape in enumerate(as_tuples):
        if len(shape) > len(result):
            result = [1] * (len(shape) - len(result)) + result
        for axis in range(-1, -len(shape) - 1, -1):
            size, have = shape[axis], result[axis]
            if size != have and size != 1 and have != 1:
                raise RuntimeError(f"Attempting to broadcast a dimension of length {size} at "
                                   f"{axis}! Mismatching argument at index {index} had "
                                   f"{shape}; but expected shape should be broadcastable to "
                                   f"{result}")
            if have == 1:
                result[axis] = size
    return Size(result)


def deprecated_range(start: float = 0, end: float | None = None, step: float = 1, *,
                     dtype: Any = None, device: Any = None, requires_grad: bool = False,
                     layout: Any = None, pin_memory: bool = False) -> Tensor:
    """``start, start + step, ...`` up to and including ``end``, in the default float dtype
    unless ``dtype``; deprecated, with PyTorch's warning. PyTorch equivalent:
    ``torch.range``."""
    from fnnet.torch._defaults import get_default_dtype
    from fnnet.torch._functions import tensor

    warnings.warn("torch.range is deprecated and will be removed in a future release "
                  "because its behavior is inconsistent with Python's range builtin. "
                  "Instead, use torch.arange, which produces values in [start, end).",
                  UserWarning, stacklevel=2)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    count = math.floor((end - start) / step) + 1
    if count < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    values = start + step * np.arange(max(count, 0), dtype=np.float64)
    del layout
    return tensor(values, dtype=get_default_dtype() if dtype is None else dtype,
                  device=device, requires_grad=requires_grad, pin_memory=pin_memory)


# -- Tensor.new and memory -----------------------------------------------------------

def new(self: Tensor, *args: Any) -> Tensor:
    """A tensor of ``self``'s dtype: ``new()`` empty, ``new(2, 3)`` of that shape (zeros:
    fnnet.torch has no uninitialised memory), ``new([1, 2])`` of that data.

    PyTorch equivalent: ``Tensor.new`` (legacy).
    """
    from fnnet.torch._functions import tensor, zeros

    if not args:
        return tensor([], dtype=self.dtype)
    if len(args) == 1 and not isinstance(args[0], int):
        if isinstance(args[0], Tensor) and args[0].dtype != self.dtype:
            raise TypeError(f"expected {self.dtype} (got {args[0].dtype})")
        return tensor(args[0], dtype=self.dtype)
    return zeros(*args, dtype=self.dtype)


def pin_memory(self: Tensor, device: Any = None) -> Tensor:
    """The tensor itself where JAX computes on a GPU (it places arrays itself); PyTorch's
    error without one. PyTorch equivalent: ``Tensor.pin_memory``."""
    from fnnet.torch.device import cuda

    if not cuda.is_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")
    return self


def is_pinned(self: Tensor, device: Any = None) -> bool:
    """False: fnnet.torch keeps no page-locked host copies. PyTorch equivalent:
    ``Tensor.is_pinned``."""
    return False


def is_shared(self: Tensor) -> bool:
    """False: a tensor's storage is never in shared memory (``share_memory_`` is
    unsupported). PyTorch equivalent: ``Tensor.is_shared``."""
    return False


def _in_place_activation(activation: Callable[..., Tensor]) -> Callable[..., Tensor]:
    def apply(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return input._inplace(activation(input, *args, **kwargs))

    return apply


def _function(method: Callable[..., Any], name: str) -> Callable[..., Any]:
    def function(input: Any, *args: Any, **kwargs: Any) -> Any:
        return method(_as_tensor(input), *args, **kwargs)

    function.__name__ = name
    function.__doc__ = f"PyTorch equivalent: ``torch.{name}`` (``Tensor.{name}``)."
    return function


def install(namespace: dict[str, Any]) -> None:
    """Adds the methods to :class:`Tensor` and the functions to ``namespace``
    (``fnnet.torch``'s globals); names the shim has already are left as they are."""
    for name, method in METHODS.items():
        if name not in vars(Tensor):
            setattr(Tensor, name, method)
        namespace.setdefault(name, _function(getattr(Tensor, name), name))
    for name in IN_PLACE_METHODS:
        if name + "_" not in vars(Tensor):
            setattr(Tensor, name + "_", in_place(name))
    for name in IN_PLACE_FUNCTIONS:
        if hasattr(Tensor, name + "_"):
            namespace.setdefault(name + "_", _function(getattr(Tensor, name + "_"),
                                                       name + "_"))
    from fnnet.torch.nn import functional as F

    for name in ACTIVATIONS:
        activation = getattr(F, name)
        namespace.setdefault(name, _function(activation, name))
        namespace.setdefault(name + "_", _function(_in_place_activation(activation),
                                                   name + "_"))
    methods: tuple[Callable[..., Any], ...] = (new, pin_memory, is_pinned, is_shared)
    for method in methods:
        if method.__name__ not in vars(Tensor):
            setattr(Tensor, method.__name__, method)
    namespace.update(broadcast_shapes=broadcast_shapes, result_type=result_type,
                     promote_types=promote_types, can_cast=can_cast, range=deprecated_range)
