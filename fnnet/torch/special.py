"""``torch.special``: the special functions under their SciPy-style names.

The names fnnet.torch already has elsewhere are the same functions (``special.expit`` is
``torch.sigmoid``, ``special.gammaln`` is ``torch.lgamma``...); the others are one
recorded ``jax.scipy.special`` call each, integers computed in float32 as PyTorch
promotes them. The orthogonal polynomials (Chebyshev's four kinds and their shifted
forms, Hermite's, Laguerre's, Legendre's) are PyTorch's recurrences and special cases, in
a loop up to the largest degree. ``torch.polygamma``/``torch.mvlgamma`` and their methods
live here too.
"""

from __future__ import annotations

import math
from typing import Any

import jax.numpy as jnp
from jax import lax
from jax.scipy import special as jss

from fnnet.torch import _dtypes
from fnnet.torch._autograd import is_grad_enabled
from fnnet.torch._math_ops import in_place
from fnnet.torch.tensor import Tensor, _op, _scalar_or_tensor
from fnnet.torch.tensor import Unsupported as _Unsupported


def _floating(x: Any) -> Any:
    """``x``, integers and booleans as float32 (PyTorch's promotion for these functions)."""
    return x if jnp.issubdtype(x.dtype, jnp.inexact) else x.astype(jnp.float32)


def _promoting(fn: Any, name: str | None = None) -> Any:
    """``fn`` of ``x`` in floating point: one module-level function per special function,
    the same object at every call (the step cache recognises it). Named ``special_<name>``
    where given, so that its grad_fn is PyTorch's (``SpecialI0EBackward0``)."""
    def op(x: Any) -> Any:
        return fn(_floating(x))

    op.__name__ = fn.__name__ if name is None else f"special_{name}"
    return op


def _unary(name: str, fn: Any) -> Any:
    def function(input: Tensor) -> Tensor:  # (out= is fnnet.torch._out's)
        if not isinstance(input, Tensor):
            raise TypeError(f"special_{name}(): argument 'input' (position 1) must be Tensor,"
                            f" not {type(input).__name__}")
        return _op(fn, (), input, who=f"special_{name}")

    function.__name__ = name
    function.__doc__ = f"PyTorch equivalent: ``torch.special.{name}``."
    return function


def special_entr(x: Any) -> Any:
    """``-x log(x)``, ``jax.scipy.special.entr`` with PyTorch's +0 at 0 (jax's -0 prints
    as ``-0.0000``); its gradient is jax's, infinite at 0 as PyTorch's."""
    x = _floating(x)
    value = jss.entr(x)
    # a subtraction, not a select: the select's other branch would take a NaN gradient
    return value - lax.stop_gradient(jnp.where(x == 0, value, 0))


entr = _unary("entr", special_entr)
i0e = _unary("i0e", _promoting(jss.i0e, "i0e"))
i1 = _unary("i1", _promoting(jss.i1, "i1"))
i1e = _unary("i1e", _promoting(jss.i1e, "i1e"))
ndtr = _unary("ndtr", _promoting(jss.ndtr, "ndtr"))
ndtri = _unary("ndtri", _promoting(jss.ndtri, "ndtri"))
log_ndtr = _unary("log_ndtr", _promoting(jss.log_ndtr, "log_ndtr"))
erfcx = _unary("erfcx", _promoting(jss.erfcx, "erfcx"))


def _not_differentiable(function: Any) -> Any:
    """``function`` of its input's values: PyTorch defines no derivative for it, so its
    result does not require grad."""
    def wrapper(input: Tensor) -> Tensor:
        result: Tensor = function(input.detach() if isinstance(input, Tensor) else input)
        return result

    wrapper.__name__, wrapper.__doc__ = function.__name__, function.__doc__
    return wrapper


modified_bessel_i0 = _not_differentiable(_unary("modified_bessel_i0", _promoting(jss.i0)))
modified_bessel_i1 = _not_differentiable(_unary("modified_bessel_i1", _promoting(jss.i1)))


def _spherical_bessel_j0(x: Any) -> Any:
    """``sin(x) / x``, 1 at 0."""
    x = _floating(x)
    zero = x == 0
    safe = jnp.where(zero, 1, x)
    return jnp.where(zero, 1, jnp.sin(safe) / safe).astype(x.dtype)


_spherical_j0 = _not_differentiable(_unary("spherical_bessel_j0", _spherical_bessel_j0))


def spherical_bessel_j0(x: Tensor) -> Tensor:
    """``sin(x) / x``, 1 at 0; not differentiable, as PyTorch's (whose argument is
    named ``x``). PyTorch equivalent: ``torch.special.spherical_bessel_j0``."""
    result: Tensor = _spherical_j0(x)
    return result


def special_zeta(x: Any, q: Any) -> Any:
    dtype = jnp.promote_types(_floating(jnp.asarray(x)).dtype,
                              _floating(jnp.asarray(q)).dtype)
    return jss.zeta(jnp.asarray(x, dtype), jnp.asarray(q, dtype))


def special_zeta_of_number(x: Any, q: Any) -> Any:
    """:func:`special_zeta` where ``x`` is a Python number: PyTorch's other overload,
    whose grad_fn is ``SpecialZetaBackward1``."""
    return special_zeta(x, q)


def zeta(input: Any, other: Any) -> Tensor:
    """The Hurwitz zeta function ``sum_k (k + other) ** -input``; integers promote to
    float32. Differentiable by ``other`` only, as PyTorch's.

    PyTorch equivalent: ``torch.special.zeta``.
    """
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("special_zeta() received an invalid combination of arguments: "
                        "one of input and other must be a Tensor")
    first = input if isinstance(input, Tensor) else _scalar_or_tensor(input)
    if isinstance(first, Tensor) and first.requires_grad and is_grad_enabled():
        # PyTorch raises this at backward; fnnet.torch, which could not, at the call
        raise NotImplementedError("the derivative for 'zeta' is not implemented.")
    op = special_zeta if isinstance(input, Tensor) else special_zeta_of_number
    return _op(op, (), first, _scalar_or_tensor(other), who="special_zeta")


def xlog1py(input: Any, other: Any) -> Tensor:
    """``input * log1p(other)``, 0 where ``input`` is 0. PyTorch equivalent:
    ``torch.special.xlog1py``."""
    first = input if isinstance(input, Tensor) else _scalar_or_tensor(input)
    return _op(special_xlog1py, (), first, _scalar_or_tensor(other), who="special_xlog1py")


def special_xlog1py(x: Any, y: Any) -> Any:
    dtype = jnp.promote_types(_floating(jnp.asarray(x)).dtype,
                              _floating(jnp.asarray(y)).dtype)
    x, y = jnp.asarray(x, dtype), jnp.asarray(y, dtype)
    # 0 where x is 0 (NaN where y is), its gradients 0 there too, as PyTorch's backward
    zero = x == 0
    value = x * jnp.log1p(jnp.where(zero, 0, y))
    return jnp.where(jnp.isnan(y), jnp.nan, jnp.where(zero, 0, value)).astype(dtype)



def _incomplete_gamma(name: str, regularised: Any) -> Any:
    """``gammainc``/``gammaincc``: the regularised lower or upper incomplete gamma
    function of ``input`` (the shape ``a``) at ``other``, as PyTorch's ``igamma``/
    ``igammac``; integers promote to float32, two integer tensors are refused."""
    def op(a: Any, x: Any) -> Any:
        dtype = jnp.promote_types(_floating(jnp.asarray(a)).dtype,
                                  _floating(jnp.asarray(x)).dtype)
        return regularised(jnp.asarray(a, dtype), jnp.asarray(x, dtype))

    op.__name__ = name

    def function(input: Any, other: Any) -> Tensor:
        first = input if isinstance(input, Tensor) else _scalar_or_tensor(input)
        second = _scalar_or_tensor(other)
        kinds = [t.dtype for t in (first, second) if isinstance(t, Tensor)]
        if kinds and not any(k.is_floating_point for k in kinds) and not any(
                isinstance(t, float) for t in (first, second)):
            raise NotImplementedError(f"\"{name}_cpu\" not implemented for "
                                      f"'{_dtypes.scalar_name(kinds[0])}'")
        return _op(op, (), first, second, who=name)

    function.__name__ = name
    function.__doc__ = (f"The regularised {'lower' if name == 'igamma' else 'upper'} "
                        f"incomplete gamma function. PyTorch equivalent: "
                        f"``torch.special.{'gammainc' if name == 'igamma' else 'gammaincc'}`` "
                        f"(``torch.{name}``).")
    return function


gammainc = _incomplete_gamma("igamma", jss.gammainc)
gammaincc = _incomplete_gamma("igammac", jss.gammaincc)

def _check_int(who: str, name: str, position: int, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{who}(): argument '{name}' (position {position}) must be int, not "
                        f"{type(value).__name__}")


def _polygamma(x: Any, n: int) -> Any:
    return jss.polygamma(n, _floating(x))


def polygamma(n: int, input: Tensor) -> Tensor:
    """The ``n``-th derivative of the digamma function. PyTorch equivalent:
    ``torch.polygamma`` / ``torch.special.polygamma``."""
    _check_int("polygamma", "n", 1, n)
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return _op(_polygamma, (n,), input, who="polygamma")


def polygamma_method(self: Tensor, n: int) -> Tensor:
    """PyTorch equivalent: ``Tensor.polygamma(n)`` (``torch.polygamma(n, self)``)."""
    return polygamma(n, self)


def _mvlgamma(x: Any, p: int) -> Any:
    x = _floating(x)
    shifts = -jnp.arange(p, dtype=x.dtype) / 2
    return jnp.sum(jss.gammaln(x[..., None] + shifts), axis=-1) + \
        p * (p - 1) / 4 * math.log(math.pi)


def mvlgamma(input: Tensor, p: int) -> Tensor:
    """The log of the multivariate gamma function of dimension ``p``:
    ``sum_i lgamma(x - i / 2) + p (p - 1) / 4 log(pi)``, ``i < p``.

    PyTorch equivalent: ``torch.mvlgamma`` / ``torch.special.multigammaln``.
    """
    _check_int("mvlgamma", "p", 2, p)
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    return _op(_mvlgamma, (p,), input, who="mvlgamma")


def multigammaln(input: Tensor, p: int) -> Tensor:
    """PyTorch equivalent: ``torch.special.multigammaln`` (``torch.mvlgamma``)."""
    return mvlgamma(input, p)


def log_softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """PyTorch equivalent: ``torch.special.log_softmax`` (``dim`` required)."""
    from fnnet.torch import log_softmax as torch_log_softmax

    return torch_log_softmax(input, dim, dtype=dtype)


def softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """PyTorch equivalent: ``torch.special.softmax`` (``dim`` required)."""
    from fnnet.torch import softmax as torch_softmax

    return torch_softmax(input, dim, dtype=dtype)


#: torch.special's name -> the fnnet.torch function of the same math
SAME = {"expit": "sigmoid", "logit": "logit", "erf": "erf", "erfc": "erfc",
        "erfinv": "erfinv", "gammaln": "lgamma", "digamma": "digamma", "psi": "digamma",
        "xlogy": "xlogy", "logsumexp": "logsumexp", "sinc": "sinc", "i0": "i0",
        "log1p": "log1p", "expm1": "expm1", "exp2": "exp2", "round": "round"}


def install(namespace: dict[str, Any]) -> None:
    """Binds :data:`SAME` from ``namespace`` (``fnnet.torch``'s globals, complete) into this
    module, and adds ``torch.polygamma``/``torch.mvlgamma`` with their methods."""
    for name, theirs in SAME.items():
        globals()[name] = namespace[theirs]
    namespace.update(polygamma=polygamma, mvlgamma=mvlgamma, igamma=gammainc,
                     igammac=gammaincc)
    Tensor.polygamma = polygamma_method  # type: ignore[attr-defined]
    Tensor.mvlgamma = mvlgamma  # type: ignore[attr-defined]
    Tensor.igamma = gammainc  # type: ignore[attr-defined]
    Tensor.igammac = gammaincc  # type: ignore[attr-defined]
    for name in ("polygamma", "mvlgamma", "igamma", "igammac"):
        setattr(Tensor, name + "_", in_place(name))


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise _Unsupported(f"fnnet.torch does not support torch.special.{name}; use "
                       f"jax.scipy.special on fnnet's functional API")


# -- orthogonal polynomials: PyTorch's recurrences and special cases ------------------------

def _recurrence(x: Any, n: Any, first: Any, second: Any, step: Any) -> Any:
    """``P_n(x)`` elementwise (``x``, ``n`` broadcast; 0 where ``n < 0``) from ``P_0 =
    first``, ``P_1 = second`` and ``P_{k+1} = step(k, P_k, P_{k-1})`` for ``k = 1..n-1``,
    PyTorch's loop, run up to the largest ``n``."""
    def body(k: Any, carry: tuple[Any, Any]) -> tuple[Any, Any]:
        p, q = carry
        more = k < n
        return jnp.where(more, q, p), jnp.where(more, step(k.astype(x.dtype), q, p), q)

    top = jnp.max(n, initial=1)
    _, q = lax.fori_loop(1, top.astype(jnp.int32), body, (first, second))
    return jnp.where(n < 0, 0, jnp.where(n == 0, first, q)).astype(x.dtype)


def _signed_one(x: Any, n: Any, magnitude: Any) -> Any:
    """The value at ``|x| == 1``: ``magnitude`` at ``x = 1`` or for even ``n``, its
    negative otherwise."""
    return jnp.where((x > 0) | (n % 2 == 0), magnitude, -magnitude)


def chebyshev_t(x: Any, n: Any) -> Any:
    ones = jnp.ones_like(x)
    out = _recurrence(x, n, ones, x, lambda k, q, p: (x + x) * q - p)
    inside = (n > 6) & (jnp.abs(x) < 1)  # PyTorch's closed form there
    out = jnp.where(inside, jnp.cos(n.astype(x.dtype) * jnp.arccos(x)), out)
    return jnp.where((jnp.abs(x) == 1) & (n >= 0), _signed_one(x, n, ones), out)


def chebyshev_u(x: Any, n: Any) -> Any:
    ones = jnp.ones_like(x)
    out = _recurrence(x, n, ones, x + x, lambda k, q, p: (x + x) * q - p)
    angle = jnp.arccos(x)
    m = (n + 1).astype(x.dtype)
    sine = jnp.sin(angle)
    closed = jnp.where(sine != 0, jnp.sin(m * angle) / jnp.where(sine != 0, sine, 1),
                       m * jnp.cos(m * angle) / x)
    out = jnp.where((n > 8) & (jnp.abs(x) < 1), closed, out)
    return jnp.where((jnp.abs(x) == 1) & (n >= 0), _signed_one(x, n, m), out)


def chebyshev_v(x: Any, n: Any) -> Any:
    ones = jnp.ones_like(x)
    out = _recurrence(x, n, ones, x + x - 1, lambda k, q, p: (x + x) * q - p)
    odd_sum = _signed_one(-ones, n, (n + n + 1).astype(x.dtype))  # +-(2n + 1)
    angle = jnp.arccos(x)
    closed = jnp.where(jnp.sin(angle / 2) != 1,
                       jnp.cos((n + 0.5).astype(x.dtype) * angle) / jnp.cos(angle / 2), odd_sum)
    out = jnp.where((n > 8) & (jnp.abs(x) < 1), closed, out)
    return jnp.where((jnp.abs(x) == 1) & (n >= 0), jnp.where(x > 0, ones, odd_sum), out)


def chebyshev_w(x: Any, n: Any) -> Any:
    ones = jnp.ones_like(x)
    out = _recurrence(x, n, ones, x + x + 1, lambda k, q, p: (x + x) * q - p)
    at_one = jnp.where(x > 0, (n + n + 1).astype(x.dtype), _signed_one(-ones, n, ones))
    angle = jnp.arccos(x)
    closed = jnp.where(jnp.cos(angle / 2) != 1,
                       jnp.sin((n + 0.5).astype(x.dtype) * angle) / jnp.sin(angle / 2), at_one)
    out = jnp.where((n > 8) & (jnp.abs(x) < 1), closed, out)
    return jnp.where((jnp.abs(x) == 1) & (n >= 0), at_one, out)


def _shifted(x: Any, n: Any, second: Any, at_one: Any, at_zero: Any, closed: Any,
             closed_from: int) -> Any:
    """A shifted Chebyshev polynomial, PyTorch's: its own values at 1 and 0, ``closed``
    (of ``acos(2x - 1)``) past degree ``closed_from`` inside the interval, else the
    recurrence in ``y = 2x - 1``."""
    y = x + x - 1
    out = _recurrence(x, n, jnp.ones_like(x), second(y), lambda k, q, p: (y + y) * q - p)
    out = jnp.where((n > closed_from) & (jnp.abs(y) < 1), closed(jnp.arccos(y), y), out)
    out = jnp.where((x == 0) & (n >= 0), at_zero, out)
    return jnp.where((x == 1) & (n >= 0), at_one, out)


def shifted_chebyshev_t(x: Any, n: Any) -> Any:
    ones = jnp.ones_like(x)
    return _shifted(x, n, lambda y: y, ones, _signed_one(-ones, n, ones),
                    lambda a, y: jnp.cos(n.astype(x.dtype) * a), 6)


def shifted_chebyshev_u(x: Any, n: Any) -> Any:
    m = (n + 1).astype(x.dtype)

    def closed(a: Any, y: Any) -> Any:
        return jnp.where(jnp.sin(a) != 0, jnp.sin(m * a) / jnp.sin(a), m * jnp.cos(m * a) / y)

    return _shifted(x, n, lambda y: y + y, m * jnp.ones_like(x),
                    _signed_one(-jnp.ones_like(x), n, m), closed, 6)


def shifted_chebyshev_v(x: Any, n: Any) -> Any:
    ones = jnp.ones_like(x)
    odd_sum = _signed_one(-ones, n, (n + n + 1).astype(x.dtype))

    def closed(a: Any, y: Any) -> Any:
        return jnp.where(jnp.sin(a / 2) != 1,
                         jnp.cos((n + 0.5).astype(x.dtype) * a) / jnp.cos(a / 2), odd_sum)

    return _shifted(x, n, lambda y: y + y - 1, ones, odd_sum, closed, 6)


def shifted_chebyshev_w(x: Any, n: Any) -> Any:
    ones = jnp.ones_like(x)
    alternating = _signed_one(-ones, n, ones)

    def closed(a: Any, y: Any) -> Any:
        return jnp.where(jnp.cos(a / 2) != 1,
                         jnp.sin((n + 0.5).astype(x.dtype) * a) / jnp.sin(a / 2), alternating)

    return _shifted(x, n, lambda y: y + y + 1, (n + n + 1).astype(x.dtype), alternating,
                    closed, 4)


def hermite_h(x: Any, n: Any) -> Any:
    out = _recurrence(x, n, jnp.ones_like(x), x + x, lambda k, q, p: (x + x) * q - (k + k) * p)
    limit = 512 if x.dtype == jnp.float64 else 128  # PyTorch's: NaN past it
    return jnp.where(n > limit, jnp.nan, out)


def hermite_he(x: Any, n: Any) -> Any:
    out = _recurrence(x, n, jnp.ones_like(x), x, lambda k, q, p: x * q - k * p)
    limit = 512 if x.dtype == jnp.float64 else 128
    return jnp.where(n > limit, jnp.nan, out)


def laguerre_l(x: Any, n: Any) -> Any:
    ones = jnp.ones_like(x)
    out = _recurrence(x, n, ones, 1 - x,
                      lambda k, q, p: (((k + k) + (1 - x)) * q - k * p) / (k + 1))
    return jnp.where((x == 0) & (n >= 0), ones, out)


def legendre_p(x: Any, n: Any) -> Any:
    ones = jnp.ones_like(x)
    out = _recurrence(x, n, ones, x, lambda k, q, p: ((k + k + 1) * x * q - k * p) / (k + 1))
    return jnp.where((jnp.abs(x) == 1) & (n >= 0), _signed_one(x, n, ones), out)


def _polynomial_operands(x: Any, n: Any) -> tuple[Any, Any]:
    """``x`` in floating point and ``n`` as integers (a float ``n`` truncated, -1 where it
    is not finite), broadcast, as PyTorch's kernels read them."""
    dtype = jnp.promote_types(_floating(jnp.asarray(x)).dtype,
                              _floating(jnp.asarray(n)).dtype)
    x, n = jnp.broadcast_arrays(jnp.asarray(x, dtype), jnp.asarray(n))
    if jnp.issubdtype(n.dtype, jnp.floating):
        n = jnp.where(jnp.isfinite(n), jnp.trunc(jnp.where(jnp.isfinite(n), n, 0)), -1)
    return x, n.astype(jnp.int32)


def _polynomial(name: str, formula: Any) -> Any:
    def op(x: Any, n: Any) -> Any:
        return formula(*_polynomial_operands(x, n))

    op.__name__ = f"special_{name}"

    def function(x: Any, n: Any) -> Tensor:  # (out= is fnnet.torch._out's)
        if not isinstance(x, Tensor) and not isinstance(n, Tensor):
            raise TypeError(
                f"special_{name}() received an invalid combination of arguments - got "
                f"({type(x).__name__}, {type(n).__name__}), but expected one of:\n"
                f" * (Tensor x, Tensor n, *, Tensor out = None)\n"
                f" * (Number x, Tensor n, *, Tensor out = None)\n"
                f" * (Tensor x, Number n, *, Tensor out = None)\n")
        operands = [(v.detach() if isinstance(v, Tensor) else _scalar_or_tensor(v))
                    for v in (x, n)]
        return _op(op, (), *operands, who=f"special_{name}")

    function.__name__ = name
    function.__doc__ = (f"PyTorch's ``torch.special.{name}`` of ``x`` and ``n``, by its "
                        f"recurrence; not differentiable, as PyTorch's.")
    return function


chebyshev_polynomial_t = _polynomial("chebyshev_polynomial_t", chebyshev_t)
chebyshev_polynomial_u = _polynomial("chebyshev_polynomial_u", chebyshev_u)
chebyshev_polynomial_v = _polynomial("chebyshev_polynomial_v", chebyshev_v)
chebyshev_polynomial_w = _polynomial("chebyshev_polynomial_w", chebyshev_w)
shifted_chebyshev_polynomial_t = _polynomial("shifted_chebyshev_polynomial_t",
                                             shifted_chebyshev_t)
shifted_chebyshev_polynomial_u = _polynomial("shifted_chebyshev_polynomial_u",
                                             shifted_chebyshev_u)
shifted_chebyshev_polynomial_v = _polynomial("shifted_chebyshev_polynomial_v",
                                             shifted_chebyshev_v)
shifted_chebyshev_polynomial_w = _polynomial("shifted_chebyshev_polynomial_w",
                                             shifted_chebyshev_w)
hermite_polynomial_h = _polynomial("hermite_polynomial_h", hermite_h)
hermite_polynomial_he = _polynomial("hermite_polynomial_he", hermite_he)
laguerre_polynomial_l = _polynomial("laguerre_polynomial_l", laguerre_l)
legendre_polynomial_p = _polynomial("legendre_polynomial_p", legendre_p)
