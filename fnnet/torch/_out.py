"""PyTorch's ``out=`` argument: a function's result written into a tensor the caller made.

``torch.add(a, b, out=c)`` computes ``a + b`` and writes it into ``c`` (cast to ``c``'s
dtype where PyTorch allows the cast), and returns ``c``. An ``out`` of another shape is
resized as PyTorch resizes it, with PyTorch's deprecation warning where it held elements.
:func:`install` gives every function of ``torch``, ``torch.linalg`` and ``torch.special``
that takes ``out=`` in PyTorch the argument.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable
from typing import Any

from fnnet.torch import _dtypes
from fnnet.torch._elementwise_more import can_cast
from fnnet.torch.tensor import Tensor

#: the functions of ``torch`` that take ``out=`` (those whose PyTorch docstring shows it,
#: and the reductions whose overload with ``dim`` takes it)
TORCH: tuple[str, ...] = (
    "abs", "absolute", "acos", "acosh", "add", "addbmm", "addcdiv", "addcmul", "addmm",
    "addmv", "addr", "all", "amax", "amin", "aminmax", "angle", "any", "arange",
    "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "argmax",
    "argmin", "asin", "asinh", "atan", "atan2", "atanh", "baddbmm", "bernoulli",
    "bitwise_and", "bitwise_left_shift", "bitwise_not", "bitwise_or",
    "bitwise_right_shift", "bitwise_xor", "bmm", "bucketize", "cat", "ceil",
    "chain_matmul", "cholesky", "cholesky_inverse", "cholesky_solve", "clamp", "clip",
    "column_stack", "complex", "concat", "concatenate", "conj_physical", "copysign",
    "cos", "cosh", "cross", "cummax", "cummin", "cumprod", "cumsum", "deg2rad", "diag",
    "diff", "digamma", "div", "divide", "dot", "dstack", "empty", "eq", "erf", "erfc",
    "erfinv", "exp", "exp2", "expm1", "eye", "fix", "float_power", "floor",
    "floor_divide", "fmax", "fmin", "fmod", "frac", "frexp", "full", "gather", "gcd",
    "ge", "ger", "greater", "greater_equal", "gt", "heaviside", "histc", "histogram",
    "hstack", "hypot", "i0", "igamma", "igammac", "index_add", "index_copy",
    "index_reduce", "index_select", "inner", "inverse", "isneginf", "isposinf", "kron", "kthvalue",
    "lcm", "ldexp", "le", "lerp", "less", "less_equal", "lgamma", "linspace", "log",
    "log10", "log1p", "log2", "logaddexp", "logaddexp2", "logcumsumexp", "logical_and",
    "logical_not", "logical_or", "logical_xor", "logit", "logspace", "logsumexp", "lt",
    "lu_unpack", "masked_select", "matmul", "matrix_power", "max", "maximum", "mean", "min",
    "minimum", "mm", "mode", "msort", "mul", "multinomial", "multiply", "mv",
    "mvlgamma", "nan_to_num", "nanmean", "nanquantile", "narrow_copy", "ne", "neg",
    "negative", "nextafter", "nonzero", "norm", "normal", "not_equal", "ones", "outer",
    "polar", "polygamma", "pow", "prod", "quantile", "rad2deg", "rand", "randint",
    "randn", "randperm", "range", "reciprocal", "remainder", "renorm", "round",
    "row_stack", "rsqrt", "searchsorted", "sgn", "sigmoid", "sign", "signbit", "sin",
    "sinc", "sinh", "sort", "sqrt", "square", "stack", "std", "std_mean", "sub",
    "subtract", "sum", "svd", "take_along_dim", "tan", "tanh", "topk",
    "triangular_solve", "tril", "triu", "trunc", "var", "var_mean", "vdot", "vstack",
    "where", "xlogy", "zeros"
)
#: ... of ``torch.linalg``
LINALG: tuple[str, ...] = (
    "cholesky", "cholesky_ex", "cond", "cross", "det", "eig", "eigh", "eigvals",
    "eigvalsh", "inv", "inv_ex", "lu", "lu_factor", "lu_factor_ex", "lu_solve",
    "matmul", "matrix_norm", "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv",
    "qr", "slogdet", "solve", "solve_ex", "solve_triangular", "svd", "svdvals",
    "vecdot", "vector_norm"
)
#: ... of ``torch.special``
SPECIAL: tuple[str, ...] = (
    "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
    "chebyshev_polynomial_w", "digamma", "entr", "erf", "erfc",
    "erfcx", "erfinv", "exp2", "expit", "expm1", "gammainc", "gammaincc", "gammaln",
    "hermite_polynomial_h", "hermite_polynomial_he", "i0", "i0e", "i1", "i1e",
    "laguerre_polynomial_l", "legendre_polynomial_p", "log1p", "log_ndtr", "logit",
    "logsumexp", "modified_bessel_i0", "modified_bessel_i1", "multigammaln", "ndtr", "ndtri",
    "polygamma", "psi", "round", "shifted_chebyshev_polynomial_t",
    "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
    "shifted_chebyshev_polynomial_w", "sinc", "spherical_bessel_j0", "xlog1py", "xlogy", "zeta"
)


def with_out(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` that also takes PyTorch's ``out=``: the result is written into ``out`` (a
    tensor, or a tuple of them for a function returning several) and ``out`` is
    returned."""

    @functools.wraps(fn)
    def wrapper(*args: Any, out: Any = None, **kwargs: Any) -> Any:
        if out is None:
            return fn(*args, **kwargs)
        check_no_grad(fn.__name__, args, kwargs)
        return deliver(fn.__name__, out, fn(*args, **kwargs))

    return wrapper


def deliver(name: str, out: Any, result: Any) -> Any:
    """``result`` written into ``out`` (see :func:`with_out`) and ``out`` returned; the
    ``result`` itself where ``out`` is None. For a function that takes ``out`` itself."""
    if out is not None:
        if isinstance(result, tuple):
            if not isinstance(out, (tuple, list)) or len(out) != len(result):
                raise TypeError(f"{name}(): argument 'out' must be tuple of {len(result)} "
                                f"Tensors, not {type(out).__name__}")
            for target, value in zip(out, result, strict=True):
                _check_out(name, target, value)
            for target, value in zip(out, result, strict=True):
                _write(target, value)
            # a named result (values, indices) names the tensors it was written into
            return type(result)(*out) if hasattr(result, "_fields") else out
        _check_out(name, out, result)
        return _write(out, result)
    return result


def install(namespace: dict[str, Any], linalg: Any, special: Any) -> None:
    """Gives ``out=`` to the functions of :data:`TORCH` in ``namespace`` (fnnet.torch's
    globals) and of :data:`LINALG` and :data:`SPECIAL` in those modules that do not
    take it yet."""
    for names, get, put in (
            (TORCH, namespace.get, namespace.__setitem__),
            (LINALG, lambda n: getattr(linalg, n, None), lambda n, f: setattr(linalg, n, f)),
            (SPECIAL, lambda n: getattr(special, n, None),
             lambda n, f: setattr(special, n, f))):
        for name in names:
            fn = get(name)
            if fn is not None and not _takes_out(fn):
                put(name, with_out(fn))


def _takes_out(fn: Callable[..., Any]) -> bool:
    try:
        return "out" in inspect.signature(fn, follow_wrapped=False).parameters
    except (TypeError, ValueError):
        return False


def check_no_grad(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """PyTorch's error for an ``out=`` call whose tensor arguments require grad (under
    grad mode): the result written into ``out`` would have no gradient."""
    from fnnet.torch._autograd import is_grad_enabled

    if not is_grad_enabled():
        return
    for arg in (*args, *kwargs.values()):
        items = arg if isinstance(arg, (tuple, list)) else (arg,)
        if any(isinstance(item, Tensor) and item.requires_grad for item in items):
            raise RuntimeError(f"{name}(): functions with out=... arguments don't support "
                               f"automatic differentiation, but one of the arguments "
                               f"requires grad.")


def _check_out(name: str, out: Any, result: Tensor) -> None:
    """Raises PyTorch's errors for an ``out`` that cannot take ``result``, before any of
    a function's outputs is written."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not "
                        f"{type(out).__name__}")
    if out.requires_grad:
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support "
                           f"automatic differentiation, but one of the arguments requires "
                           f"grad.")
    if not can_cast(result.dtype, out.dtype):
        raise RuntimeError(f"result type {_dtypes.scalar_name(result.dtype)} can't be cast "
                           f"to the desired output type {_dtypes.scalar_name(out.dtype)}")
    if tuple(out.shape) != tuple(result.shape) and out._view is not None:
        raise RuntimeError(f"{name}(): out= is a view of shape {list(out.shape)} but the "
                           f"result has shape {list(result.shape)}; fnnet.torch resizes "
                           f"only a tensor that is not a view")


def _write(out: Tensor, result: Tensor) -> Tensor:
    """Writes ``result`` into ``out`` (resized first where its shape differs)."""
    if tuple(out.shape) != tuple(result.shape):
        if out.numel() != 0:
            warnings.warn(
                f"An output with one or more elements was resized since it had shape "
                f"{list(out.shape)}, which does not match the required output shape "
                f"{list(result.shape)}. This behavior is deprecated, and in a future "
                f"PyTorch release outputs will not be resized unless they have zero "
                f"elements. You can explicitly reuse an out tensor t by resizing it, "
                f"inplace, to zero elements with t.resize_(0).", UserWarning, stacklevel=3)
        out.data = result.detach().to(out.dtype)
        return out
    out.copy_(result.detach())
    return out
