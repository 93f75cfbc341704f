"""Element-wise math that training code reaches for beyond the core ops (rounding,
``log1p``, ``rsqrt``...), the in-place forms of the common ones (``relu_``, ``exp_``...),
``clamp`` with tensor bounds, ``Tensor.mT``/``new_tensor`` and ``torch.multinomial``.

Each recorded op is a ``jax.numpy`` function (differentiable and compiled with the step
like every other op); :func:`install` attaches the methods to
:class:`~fnnet.torch.tensor.Tensor` and the functions to ``fnnet.torch``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fnnet.nn.functional._utils import in_float32
from fnnet.torch import _dtypes, _graph, _more_ops, _random
from fnnet.torch._cpu_generator import CpuGenerator
from fnnet.torch._ops import _clamp, _clamp_max, _clamp_min, arctan2
from fnnet.torch.tensor import Tensor, _as_tensor, _op, _operands

_INDEX = np.dtype(_graph.canonical_dtype(np.int64))

def _rsqrt(x: Any) -> Any:
    # integers give floats, as PyTorch's rsqrt (and jnp.sqrt) do
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        x = x.astype(jnp.float32)
    return jax.lax.rsqrt(x)


#: the transcendental functions below, computed in float32 for float16/bfloat16 inputs
#: and rounded once, as PyTorch's kernels compute them
_EXPM1, _LOG2, _LOG10, _EXP2, _LOG1P = (in_float32(f) for f in (
    jnp.expm1, jnp.log2, jnp.log10, jnp.exp2, jnp.log1p))
_TAN, _ASIN, _ACOS, _ATAN, _SINH, _COSH, _ASINH, _ACOSH, _ATANH = (in_float32(f) for f in (
    jnp.tan, jnp.arcsin, jnp.arccos, jnp.arctan, jnp.sinh, jnp.cosh, jnp.arcsinh,
    jnp.arccosh, jnp.arctanh))
_ERF, _ERFINV = in_float32(jax.scipy.special.erf), in_float32(jax.scipy.special.erfinv)
_ATAN2 = in_float32(arctan2)

#: PyTorch's name -> the jax.numpy function computing it
UNARY: dict[str, Callable[..., Any]] = {
    "floor": jnp.floor, "ceil": jnp.ceil, "trunc": jnp.trunc, "fix": jnp.trunc,
    "log1p": _LOG1P, "expm1": _EXPM1, "log2": _LOG2, "log10": _LOG10,
    "exp2": _EXP2, "reciprocal": jnp.reciprocal, "rsqrt": _rsqrt,
    "tan": _TAN, "asin": _ASIN, "acos": _ACOS, "atan": _ATAN,
    "arcsin": _ASIN, "arccos": _ACOS, "arctan": _ATAN, "sinh": _SINH,
    "cosh": _COSH, "asinh": _ASINH, "acosh": _ACOSH, "atanh": _ATANH,
    "erf": _ERF, "erfinv": _ERFINV,
    "frac": lambda x: x - jnp.trunc(x),
}
UNARY["frac"].__name__ = "frac"
#: methods that get an in-place form ``<name>_`` (assigning the out-of-place result)
IN_PLACE = ("relu", "sigmoid", "tanh", "exp", "log", "sqrt", "abs", "sin", "cos", "square",
            "floor", "ceil", "round", "trunc", "log1p", "expm1", "reciprocal", "rsqrt",
            "frac")


def _unary_method(name: str, fn: Callable[..., Any]) -> Callable[..., Tensor]:
    def method(self: Tensor) -> Tensor:
        return _op(fn, (), self, who=name)

    method.__name__ = name
    method.__doc__ = f"PyTorch equivalent: ``Tensor.{name}``."
    return method


def in_place(name: str) -> Callable[..., Tensor]:
    """``Tensor.<name>_``: the method ``name`` whose result replaces the tensor's value;
    a result of a higher kind than the tensor's (``sqrt_`` of a Long tensor) is refused
    with PyTorch's RuntimeError, as ``add_`` refuses it."""
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return self._arithmetic_inplace(getattr(self, name)(*args, **kwargs))

    method.__name__ = name + "_"
    method.__doc__ = f"In-place ``{name}``. PyTorch equivalent: ``Tensor.{name}_``."
    return method


def round(self: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001 - PyTorch's name
    """Rounds half to even, to ``decimals`` places. PyTorch: ``Tensor.round``."""
    if not isinstance(decimals, int) or isinstance(decimals, bool):
        raise TypeError(f"round(): argument 'decimals' must be int, not "
                        f"{type(decimals).__name__}")
    if decimals == 0 or not self.is_floating_point():
        return _op(jnp.round, (decimals,), self, who="round")
    # 10**|decimals| is an input of the step, not a constant, so that XLA divides by it
    # (a constant divisor becomes a multiplication by its reciprocal, a last bit away
    # from PyTorch's x * 10**d rounded, divided by 10**d)
    return _op(_round_scaled, (decimals > 0,), self, float(10 ** abs(decimals)),
               who="round")


def _round_scaled(x: Any, scale: Any, up: bool) -> Any:
    scale = jnp.asarray(scale, x.dtype)
    return jnp.round(x * scale) / scale if up else jnp.round(x / scale) * scale


def atan2(self: Tensor, other: Any) -> Tensor:
    """The angle of ``(other, self)``. PyTorch equivalent: ``torch.atan2``."""
    return _op(_ATAN2, (), *_operands(self, other), who="atan2")


def clamp_with_tensors(previous: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """``Tensor.clamp`` that also takes tensor bounds (``x.clamp(min=lower)``),
    broadcast as in PyTorch, through the one recorded ``_clamp`` as number bounds;
    ``previous`` lends its docstring."""

    def clamp(self: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        if min is None and max is None:
            raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
        return _clamped(_clamp, self, min, max)

    clamp.__doc__ = previous.__doc__
    return clamp


def _clamped(op: Callable[..., Any], x: Tensor, *bounds: Any) -> Tensor:
    """``op(x, *bounds)`` (``_clamp``, ``_clamp_min``, ``_clamp_max``), a tensor bound
    promoting as an arithmetic operand does."""
    given = []
    for bound in bounds:
        if bound is not None:
            x, bound = _operands(x, bound)
        given.append(bound)
    return _op(op, (), x, *given, who="clamp")


def clamp_min(self: Tensor, min: Any) -> Tensor:  # noqa: A002 - PyTorch's name
    """PyTorch equivalent: ``Tensor.clamp_min``."""
    return _clamped(_clamp_min, self, min)


def clamp_max(self: Tensor, max: Any) -> Tensor:  # noqa: A002 - PyTorch's name
    """PyTorch equivalent: ``Tensor.clamp_max``."""
    return _clamped(_clamp_max, self, max)


def _mT(self: Tensor) -> Tensor:  # noqa: N802 - PyTorch's name
    if self.dim() < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. "
                           f"Got {self.dim()}-D tensor.")
    return self.transpose(-2, -1)


def new_tensor(self: Tensor, data: Any, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    """A new tensor of ``data`` with ``self``'s dtype unless ``dtype`` is given.

    PyTorch equivalent: ``Tensor.new_tensor``.
    """
    from fnnet.torch._functions import tensor as make

    out = make(data, dtype=self.dtype if dtype is None else dtype, device=device)
    return out.requires_grad_(requires_grad) if requires_grad else out


def new_empty(self: Tensor, *sizes: Any, size: Any = None, dtype: Any = None,
              device: Any = None, requires_grad: bool = False, layout: Any = None,
              pin_memory: bool = False) -> Tensor:
    """A tensor of ``size`` (zeros: fnnet.torch has no uninitialised memory).

    PyTorch equivalent: ``Tensor.new_empty``.
    """
    return _more_ops.new_zeros(self, *sizes, size=size, dtype=dtype, device=device,
                               requires_grad=requires_grad, layout=layout,
                               pin_memory=pin_memory)


def multinomial(input: Any, num_samples: int, replacement: bool = False, *,
                generator: Any = None, out: Any = None) -> Tensor:
    """Draws ``num_samples`` category indices per row of the (unnormalised) weights
    ``input`` (``[C]`` or ``[N, C]``), as int64: PyTorch's draws from the global generator
    or ``generator`` (see :func:`_drawn_categories`).

    PyTorch equivalent: ``torch.multinomial``.
    """
    if out is not None:
        raise NotImplementedError("fnnet.torch: multinomial(out=...) is not supported; use "
                                  "the result")
    probabilities = _as_tensor(input)
    if not probabilities.is_floating_point():
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{_dtypes.scalar_name(probabilities.dtype)}")
    given = np.asarray(probabilities._value())
    weights = given.astype(np.float64)
    if weights.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > weights.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    bad = np.flatnonzero(~(weights >= 0) | ~np.isfinite(weights))
    if bad.size and replacement and num_samples > 1:
        # PyTorch's kernel for several draws with replacement checks entry by entry
        if not weights.flat[bad[0]] >= 0:  # NaN too
            raise RuntimeError("invalid multinomial distribution (encountering probability "
                               "entry < 0)")
        raise RuntimeError("invalid multinomial distribution (encountering probability "
                           "entry = infinity or NaN)")
    if bad.size:
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    rows = weights.reshape(-1, weights.shape[-1]) if weights.size else \
        np.zeros((1, 0), weights.dtype)
    if (rows.sum(-1) <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    host = _random.host_for(generator, "multinomial")
    kind = np.float64 if given.dtype == np.float64 else np.float32
    draws = _drawn_categories(host, rows.astype(kind), num_samples, replacement)
    result = np.asarray(draws, _INDEX).reshape(*weights.shape[:-1], num_samples)
    return _as_tensor(result)


def _drawn_categories(host: CpuGenerator, rows: np.ndarray, num_samples: int,
                      replacement: bool) -> np.ndarray:
    """``num_samples`` category indices per row of the weights ``rows: [N, C]``, as
    PyTorch's CPU kernel draws them: without replacement (or one sample), the top
    ``weights / q`` for ``q ~ Exp(1)`` drawn per weight; with, per sample a float64
    uniform searched in the row's cumulative weights normalised to end at 1."""
    if not replacement or num_samples == 1:
        ratio: np.ndarray = rows / host.exponential(rows.shape, 1.0).astype(rows.dtype)
        if num_samples == 1:
            best: np.ndarray = np.argmax(ratio, axis=-1)
            return best[:, None]
        return np.argsort(-ratio, axis=-1, kind="stable")[:, :num_samples]
    cumulative = np.cumsum(rows, axis=-1, dtype=rows.dtype)
    cumulative /= cumulative[:, -1:]
    uniforms = host.unit(rows.shape[0] * num_samples, np.float64).reshape(-1, num_samples)
    found: np.ndarray = np.stack([np.searchsorted(c, u, side="left")
                                  for c, u in zip(cumulative, uniforms, strict=True)])
    return found


def install(namespace: dict[str, Any]) -> None:
    """Adds the methods to :class:`Tensor` and the functions to ``namespace``
    (``fnnet.torch``'s globals)."""
    for name, fn in UNARY.items():
        setattr(Tensor, name, _unary_method(name, fn))
    for method in (round, atan2, clamp_min, clamp_max, new_tensor, new_empty):
        setattr(Tensor, method.__name__, method)
    Tensor.clamp = clamp_with_tensors(Tensor.clamp)  # type: ignore[method-assign]
    Tensor.clip = Tensor.clamp
    Tensor.mT = property(_mT)  # type: ignore[attr-defined]
    for name in IN_PLACE:
        setattr(Tensor, name + "_", in_place(name))
    Tensor.clamp_min_ = in_place("clamp_min")  # type: ignore[attr-defined]
    Tensor.clamp_max_ = in_place("clamp_max")  # type: ignore[attr-defined]
    for name in (*UNARY, "round", "atan2", "clamp_min", "clamp_max",
                 *(n + "_" for n in IN_PLACE)):
        method = getattr(Tensor, name)

        def function(input: Any, *args: Any, _method: Any = method, **kwargs: Any) -> Any:
            return _method(_as_tensor(input), *args, **kwargs)

        function.__name__ = name
        function.__doc__ = f"PyTorch equivalent: ``torch.{name}`` (``Tensor.{name}``)."
        namespace.setdefault(name, function)
    namespace["multinomial"] = multinomial
    namespace["arctan2"] = namespace["atan2"]
