"""``torch.linalg``'s factorizations and least squares (``qr``, ``svd``, ``eigh``,
``cholesky``, ``slogdet``, ``lstsq``, ``pinv``, ``matrix_rank``...) and the older
top-level forms that courses still use (``torch.svd``, ``torch.cholesky_solve``,
``torch.triangular_solve``, ``torch.logdet``).

Each is a ``jax.numpy.linalg`` / ``jax.scipy.linalg`` function recorded like every other
op (differentiable where jax differentiates it, compiled with the step). Results with
several parts are tuples with PyTorch's field names that print as its
``torch.return_types``. PyTorch equivalent: ``torch.linalg``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np

from fnnet.torch import _graph
from fnnet.torch._dtypes import scalar_name
from fnnet.torch._linalg_errors import check_factor, check_positive_definite
from fnnet.torch.tensor import Tensor, _as_tensor, _op, _op_multi

_INDEX = np.dtype(_graph.canonical_dtype(np.int64))


def _field(i: int) -> property:
    return property(lambda self: self[i])


@functools.cache
def return_type(op: str, fields: tuple[str, ...]) -> Any:
    """A tuple class with ``fields`` as attributes that prints as PyTorch's
    ``torch.return_types.<op>(field=..., ...)``."""

    def __repr__(self: tuple[Any, ...]) -> str:  # noqa: N807
        parts = ",\n".join(f"{name}={value!r}" for name, value in zip(fields, self,
                                                                        strict=True))
        return f"torch.return_types.{op}(\n{parts})"

    def __new__(cls: type, *values: Any) -> Any:  # noqa: N807
        return tuple.__new__(cls, values)

    def __reduce__(self: tuple[Any, ...]) -> Any:  # noqa: N807
        return (_rebuild, (op, fields, tuple(self)))

    namespace: dict[str, Any] = {name: _field(i) for i, name in enumerate(fields)}
    namespace.update(__repr__=__repr__, __new__=__new__, __reduce__=__reduce__,
                     _fields=fields, __slots__=())
    return type(op, (tuple,), namespace)


def _rebuild(op: str, fields: tuple[str, ...], values: tuple[Any, ...]) -> Any:
    return return_type(op, fields)(*values)


def _matrix(A: Any, who: str, square: bool = False) -> Tensor:  # noqa: N803
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.{who}(): argument 'A' must be Tensor, not "
                        f"{type(A).__name__}")
    if A.dim() < 2:
        raise RuntimeError(f"linalg.{who}: The input tensor A must have at least 2 "
                           f"dimensions.")
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.{who}: A must be batches of square matrices, but they "
                           f"are {A.shape[-2]} by {A.shape[-1]} matrices")
    check_float_matrix(A, who)
    return A


def check_float_matrix(A: Tensor, who: str) -> None:  # noqa: N803
    """PyTorch's error for a matrix of integers; fnnet.torch's for a complex one, whose
    factorizations it does not compute."""
    if A.dtype.is_complex:
        raise NotImplementedError(
            f"fnnet.torch does not support complex matrices in torch.linalg.{who} (got "
            f"{A.dtype}); use jax.numpy.linalg on the tensor's numpy() value")
    if not A.is_floating_point():
        raise RuntimeError(f"linalg.{who}: Expected a floating point or complex tensor as "
                           f"input. Got {scalar_name(A.dtype)}")


def _mT(x: Any) -> Any:  # noqa: N802
    return jnp.swapaxes(x, -1, -2)


# -- factorizations ---------------------------------------------------------------------

def _cholesky(a: Any, upper: bool, legacy: bool = False) -> Any:
    del legacy  # torch.cholesky's node: only its grad_fn name differs
    low = jnp.linalg.cholesky(a)
    return _mT(low) if upper else low


def cholesky(input: Any, *, upper: bool = False) -> Tensor:  # noqa: A002
    """``L`` with ``A = L @ L.mT`` for symmetric positive-definite ``A`` (``upper``:
    ``U = L.mT``).

    Raises:
        LinAlgError: a matrix is not positive-definite (PyTorch's words, read at the
            call: see :mod:`fnnet.torch._linalg_errors`); ``cholesky_ex`` returns
            ``info`` instead.

    PyTorch equivalent: ``torch.linalg.cholesky``.
    """
    A = _matrix(input, "cholesky", square=True)  # noqa: N806
    check_positive_definite(A, "linalg.cholesky")
    return cholesky_factor(A, upper)


def cholesky_factor(A: Tensor, upper: bool = False) -> Tensor:  # noqa: N803
    """``linalg.cholesky`` of a checked ``A``, recorded without reading whether it is
    positive-definite (NaN where it is not): what a distribution's constructor uses, so
    that it does not wait for the device."""
    return _op(_cholesky, (bool(upper),), A, who="cholesky")


def _legacy_cholesky(input: Any, upper: bool) -> Tensor:  # noqa: A002
    A = _matrix(input, "cholesky", square=True)  # noqa: N806
    check_positive_definite(A, "cholesky")
    return _op(_cholesky, (bool(upper), True), A, who="cholesky")


def _qr(a: Any, mode: str) -> tuple[Any, Any]:
    q, r = jnp.linalg.qr(a, mode="complete" if mode == "complete" else "reduced")
    return q, r


def qr(A: Any, mode: str = "reduced") -> Any:  # noqa: N803
    """``(Q, R)`` with ``A = Q @ R``, ``Q`` orthonormal columns, ``R`` upper triangular.

    PyTorch equivalent: ``torch.linalg.qr``.
    """
    A = _matrix(A, "qr")  # noqa: N806
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           f"'reduced' (default), 'r', or 'complete'")
    q, r = _op_multi(_qr, (mode,), A, who="qr")
    if mode == "r":
        q = _as_tensor(np.zeros((0,), np.float32))
    return return_type("linalg_qr", ("Q", "R"))(q, r)


def _svd(a: Any, full_matrices: bool) -> tuple[Any, Any, Any]:
    u, s, vh = jnp.linalg.svd(a, full_matrices=full_matrices)
    return u, s, vh


def _check_driver(driver: str | None) -> None:
    if driver is not None:  # PyTorch's words on the CPU, where XLA chooses its algorithm
        raise RuntimeError("torch.linalg.svd: keyword argument `driver=` is only supported "
                           "on CUDA inputs with cuSOLVER backend.")


def svd(A: Any, full_matrices: bool = True, *, driver: str | None = None) -> Any:  # noqa: N803
    """``(U, S, Vh)`` with ``A = U @ diag(S) @ Vh``, ``S`` descending.

    PyTorch equivalent: ``torch.linalg.svd``.
    """
    _check_driver(driver)
    A = _matrix(A, "svd")  # noqa: N806
    u, s, vh = _op_multi(_svd, (bool(full_matrices),), A, who="svd")
    return return_type("linalg_svd", ("U", "S", "Vh"))(u, s, vh)


def _svdvals(a: Any) -> Any:
    return jnp.linalg.svd(a, compute_uv=False)


def svdvals(A: Any, *, driver: str | None = None) -> Tensor:  # noqa: N803
    """The singular values, descending. PyTorch equivalent: ``torch.linalg.svdvals``."""
    _check_driver(driver)
    return _op(_svdvals, (), _matrix(A, "svdvals"), who="svdvals")


def _eigh(a: Any, lower: bool) -> tuple[Any, Any]:
    w, v = jnp.linalg.eigh(a, UPLO="L" if lower else "U")
    return w, v


def eigh(input: Any, UPLO: str = "L") -> Any:  # noqa: A002, N803
    """``(eigenvalues, eigenvectors)`` of symmetric ``A``, eigenvalues ascending.

    PyTorch equivalent: ``torch.linalg.eigh``.
    """
    A = _symmetric(input)  # noqa: N806
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    w, v = _op_multi(_eigh, (UPLO == "L",), A, who="eigh")
    return return_type("linalg_eigh", ("eigenvalues", "eigenvectors"))(w, v)


def _symmetric(A: Any) -> Tensor:  # noqa: N803
    """``A`` checked as PyTorch's eigh checks it, for eigvalsh too (whose errors name
    ``linalg.eigh``): an integer matrix has no kernel."""
    if isinstance(A, Tensor) and A.dim() >= 2 and not (A.is_floating_point()
                                                       or A.dtype.is_complex):
        raise NotImplementedError(f'"linalg_eigh_cpu" not implemented for '
                                  f"'{scalar_name(A.dtype)}'")
    return _matrix(A, "eigh", square=True)


def _eigvalsh(a: Any, lower: bool) -> Any:
    return jnp.linalg.eigvalsh(a, UPLO="L" if lower else "U")


def eigvalsh(input: Any, UPLO: str = "L") -> Tensor:  # noqa: A002, N803
    """The eigenvalues of symmetric ``A``, ascending. PyTorch: ``torch.linalg.eigvalsh``."""
    A = _symmetric(input)  # noqa: N806
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return _op(_eigvalsh, (UPLO == "L",), A, who="eigvalsh")


def _eig(a: Any) -> tuple[Any, Any]:
    w, v = jnp.linalg.eig(a)
    return w, v


def _general_matrix(A: Any, who: str) -> Tensor:  # noqa: N803
    """``A`` checked as PyTorch's eig checks it: its complex dtype is chosen first."""
    if isinstance(A, Tensor) and not A.is_floating_point() and not A.dtype.is_complex:
        raise RuntimeError(f"Unknown Complex ScalarType for {scalar_name(A.dtype)}")
    if isinstance(A, Tensor) and A.dtype.itemsize == 2:
        raise NotImplementedError(f'"linalg_eig_out_cpu" not implemented for '
                                  f"'{scalar_name(A.dtype)}'")
    return _matrix(A, who, square=True)


def eig(input: Any) -> Any:  # noqa: A002
    """``(eigenvalues, eigenvectors)`` of a general square ``A``, complex (``complex64``
    for float32), each eigenvector of unit norm, in LAPACK's order as PyTorch's; the
    eigenvalues are differentiable, the eigenvectors are not.

    PyTorch equivalent: ``torch.linalg.eig``.
    """
    A = _general_matrix(input, "eig")  # noqa: N806
    w, v = _op_multi(_eig, (), A, who="eig")
    return return_type("linalg_eig", ("eigenvalues", "eigenvectors"))(w, v)


def _eigvals(a: Any) -> Any:
    return jnp.linalg.eigvals(a)


def eigvals(input: Any) -> Tensor:  # noqa: A002
    """The complex eigenvalues of a general square ``A`` (a spectral radius is
    ``eigvals(A).abs().max()``). PyTorch equivalent: ``torch.linalg.eigvals``."""
    A = _general_matrix(input, "eigvals")  # noqa: N806
    return _op(_eigvals, (), A, who="eigvals")


def _slogdet(a: Any) -> tuple[Any, Any]:
    sign, logabs = jnp.linalg.slogdet(a)
    return sign, logabs


def slogdet(A: Any) -> Any:  # noqa: N803
    """``(sign, logabsdet)`` of the determinant. PyTorch: ``torch.linalg.slogdet``."""
    A = _matrix(A, "slogdet", square=True)  # noqa: N806
    sign, logabs = _op_multi(_slogdet, (), A, who="slogdet")
    return return_type("linalg_slogdet", ("sign", "logabsdet"))(sign, logabs)


def _logdet(a: Any) -> Any:
    sign, logabs = jnp.linalg.slogdet(a)
    # PyTorch: NaN for a negative determinant, -inf for a singular matrix
    return jnp.where(sign < 0, jnp.nan, jnp.where(sign == 0, -jnp.inf, logabs))


def logdet(input: Any) -> Tensor:  # noqa: A002 - PyTorch's name
    """``log(det(input))``: NaN where the determinant is negative. PyTorch: ``torch.logdet``."""
    return _op(_logdet, (), _matrix(input, "logdet", square=True), who="logdet")


# -- solves, inverses and ranks ---------------------------------------------------------

def _lstsq(a: Any, b: Any, rcond: float | None, vector: bool, full: bool
           ) -> tuple[Any, Any, Any, Any]:
    bb = b[..., None] if vector else b
    batch = jnp.broadcast_shapes(a.shape[:-2], bb.shape[:-2])  # batches broadcast
    flat_a = jnp.broadcast_to(a, (*batch, *a.shape[-2:])).reshape(-1, *a.shape[-2:])
    flat_b = jnp.broadcast_to(bb, (*batch, *bb.shape[-2:])).reshape(-1, *bb.shape[-2:])
    x, res, rank, sv = jax.vmap(lambda m, r: jnp.linalg.lstsq(m, r, rcond=rcond))(
        flat_a, flat_b)
    x = x.reshape(*batch, *x.shape[-2:])
    x = x[..., 0] if vector else x
    rank = _of_a(rank.reshape(batch), a).astype(_INDEX)
    if not full:  # PyTorch's default driver reports neither
        return x, jnp.zeros((0,), a.dtype), rank, jnp.zeros((0,), a.dtype)
    m, n = a.shape[-2:]
    res = res.reshape(*batch, -1) if m > n else jnp.zeros((0,), a.dtype)
    res = res[..., 0] if vector and m > n else res
    return x, res, rank, _of_a(sv.reshape(*batch, -1), a, trailing=1)


def _of_a(values: Any, a: Any, trailing: int = 0) -> Any:
    """Values computed for every broadcast batch that depend on ``a`` alone (its ranks and
    singular values), kept for ``a``'s own batch shape, as PyTorch reports them."""
    own = a.shape[:-2]
    lead = values.ndim - trailing - len(own)
    index = (0,) * lead + tuple(slice(None) if size > 1 else slice(0, 1) for size in own)
    return values[index]


def lstsq(input: Any, b: Any, rcond: float | None = None, *,  # noqa: A002
          driver: str | None = None) -> Any:
    """The least-squares solution ``X`` of ``A @ X = B``, with ``residuals``, ``rank`` and
    ``singular_values`` (the last two filled, as PyTorch's, for the ``gelsd``/``gelss``
    drivers; the rank always).

    PyTorch equivalent: ``torch.linalg.lstsq``.
    """
    if isinstance(input, Tensor) and input.dim() < 2:  # PyTorch's checks, in its order
        raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
    B = _as_tensor(b)  # noqa: N806
    if B.dim() < 1:
        raise RuntimeError("torch.linalg.lstsq: other must have at least 1 dimension.")
    if isinstance(input, Tensor) and input.dtype != B.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same "
                           f"dtype, but got input's dtype {scalar_name(input.dtype)} and "
                           f"other's dtype {scalar_name(B.dtype)}")
    if isinstance(input, Tensor) and not (input.is_floating_point() or input.is_complex()):
        raise RuntimeError("This function doesn't handle types other than float and double")
    A = _matrix(input, "lstsq")  # noqa: N806
    if driver not in (None, "gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of "
                           "(gels, gelsy, gelsd, gelss)")
    if not 0 <= A.dim() - B.dim() <= 1:
        raise RuntimeError("torch.linalg.lstsq: input.dim() must be greater or equal to "
                           "other.dim() and (input.dim() - other.dim()) <= 1")
    vector = B.dim() == A.dim() - 1
    if B.shape[-1 if vector else -2] != A.shape[-2]:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match "
                           f"other.size({-1 if vector else -2})")
    x, res, rank, sv = _op_multi(
        _lstsq, (rcond, vector, driver in ("gelsd", "gelss")), A, B, who="lstsq")
    return return_type("linalg_lstsq", ("solution", "residuals", "rank",
                                        "singular_values"))(x, res, rank, sv)


def _pinv(a: Any, rtol: float | None, hermitian: bool) -> Any:
    return jnp.linalg.pinv(a, rtol=rtol, hermitian=hermitian)


def pinv(input: Any, rcond: float | None = None, hermitian: bool = False, *,  # noqa: A002
         atol: float | None = None, rtol: float | None = None) -> Tensor:
    """The Moore-Penrose pseudo-inverse; ``rcond`` is the older overload's name for
    ``rtol``. PyTorch equivalent: ``torch.linalg.pinv``."""
    if isinstance(input, Tensor) and (input.dim() < 2 or not (
            input.is_floating_point() or input.dtype.is_complex)):
        raise RuntimeError(f"linalg.pinv({scalar_name(input.dtype)}{{{list(input.shape)}}}): "
                           f"expected a tensor with 2 or more dimensions of float, double, "
                           f"cfloat or cdouble types")
    A = _matrix(input, "pinv")  # noqa: N806
    if rcond is not None:
        if rtol is not None or atol is not None:
            raise TypeError("linalg_pinv() received an invalid combination of arguments - "
                            "rcond= is the older overload's, not taken with atol= or rtol=")
        rtol = rcond
    if atol is not None:
        raise NotImplementedError("fnnet.torch: linalg.pinv(atol=) is not supported; pass "
                                  "rtol= (relative to the largest singular value)")
    return _op(_pinv, (rtol, bool(hermitian)), A, who="pinv")


def _matrix_rank(a: Any, rtol: float | None, hermitian: bool) -> Any:
    s = jnp.abs(jnp.linalg.eigvalsh(a)) if hermitian else \
        jnp.linalg.svd(a, compute_uv=False)
    eps = jnp.finfo(a.dtype).eps * max(a.shape[-2:]) if rtol is None else rtol
    limit = jnp.max(s, axis=-1, keepdims=True) * eps
    return jnp.sum(s > limit, axis=-1).astype(_INDEX)


def matrix_rank(input: Any, tol: float | None = None,  # noqa: A002
                hermitian: bool = False, *, atol: float | None = None,
                rtol: float | None = None) -> Tensor:
    """How many singular values exceed ``rtol`` times the largest (by default
    ``eps * max(m, n)``); ``tol``, the older overload's absolute tolerance, is ``atol``.
    PyTorch equivalent: ``torch.linalg.matrix_rank``."""
    A = _matrix(input, "matrix_rank")  # noqa: N806
    if atol is not None or tol is not None:
        raise NotImplementedError(f"fnnet.torch: linalg.matrix_rank("
                                  f"{'atol' if tol is None else 'tol'}=) is not supported; "
                                  f"pass rtol=")
    return _op(_matrix_rank, (rtol, bool(hermitian)), A, who="matrix_rank")


def _cond(a: Any, p: Any) -> Any:
    return jnp.linalg.cond(a, p=p)


def cond(input: Any, p: Any = None) -> Tensor:  # noqa: A002
    """The condition number in the ``p`` norm (2 by default).

    PyTorch equivalent: ``torch.linalg.cond``.
    """
    return _op(_cond, (p,), _matrix(input, "cond"), who="cond")


def _matrix_power(a: Any, n: int) -> Any:
    return jnp.linalg.matrix_power(a, n)


def matrix_power(input: Any, n: int) -> Tensor:  # noqa: A002
    """``A`` multiplied by itself ``n`` times (the inverse's powers for negative ``n``).

    PyTorch equivalent: ``torch.linalg.matrix_power``.
    """
    A = _matrix(input, "matrix_power", square=True)  # noqa: N806
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"linalg_matrix_power(): argument 'n' (position 2) must be int, not "
                        f"{type(n).__name__}")
    return _op(_matrix_power, (n,), A, who="matrix_power")


def _matrix_exp(a: Any) -> Any:
    return jsl.expm(a)


def matrix_exp(input: Any) -> Tensor:  # noqa: A002
    """The matrix exponential. PyTorch equivalent: ``torch.linalg.matrix_exp``."""
    return _op(_matrix_exp, (), _matrix(input, "matrix_exp", square=True), who="matrix_exp")


def multi_dot(tensors: Sequence[Any]) -> Tensor:
    """The product of the matrices in order (the first may be a row vector, the last a
    column vector). PyTorch equivalent: ``torch.linalg.multi_dot``."""
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got "
                           f"{len(tensors)}")
    out = _as_tensor(tensors[0])
    for t in tensors[1:]:
        out = out @ _as_tensor(t)
    return out


def _solve_triangular(a: Any, b: Any, upper: bool, left: bool, unit: bool) -> Any:
    # the batch dimensions broadcast, as PyTorch's (jax's solver reads an unbatched b
    # against a batched a otherwise)
    batch = jnp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = jnp.broadcast_to(a, batch + a.shape[-2:])
    b = jnp.broadcast_to(b, batch + b.shape[-2:])
    if left:
        return jsl.solve_triangular(a, b, lower=not upper, unit_diagonal=unit)
    # X A = B  <=>  A.mT X.mT = B.mT
    return _mT(jsl.solve_triangular(_mT(a), _mT(b), lower=upper, unit_diagonal=unit))


def solve_triangular(input: Any, B: Any, *, upper: Any = None, left: bool = True,  # noqa: A002, N803
                     unitriangular: bool = False) -> Tensor:
    """``X`` with ``A @ X = B`` (``left=False``: ``X @ A = B``) for triangular ``A``;
    ``upper`` is required, as in PyTorch.

    PyTorch equivalent: ``torch.linalg.solve_triangular``.
    """
    if upper is None:
        raise TypeError('linalg_solve_triangular() missing 1 required positional arguments: '
                        '"upper"')
    A = _matrix(input, "solve_triangular", square=True)  # noqa: N806
    B = _matrix(_as_tensor(B), "solve_triangular")  # noqa: N806
    if B.shape[-2 if left else -1] != A.shape[-1]:
        raise RuntimeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the "
                           f"equation {'AX = B' if left else 'XA = B'} ({A.shape[-2]}x"
                           f"{A.shape[-1]} and {B.shape[-2]}x{B.shape[-1]})")
    return _op(_solve_triangular, (bool(upper), bool(left), bool(unitriangular)), A, B,
               who="solve_triangular")


# -- the top-level forms ----------------------------------------------------------------

def svd_top(input: Any, some: bool = True, compute_uv: bool = True) -> Any:  # noqa: A002
    """``(U, S, V)`` (``V``, not ``Vh``). PyTorch equivalent: ``torch.svd``."""
    u, s, vh = svd(input, full_matrices=not some)
    v = vh.mT
    if not compute_uv:
        u, v = u * 0, v * 0  # PyTorch returns zero-filled U and V
    return return_type("svd", ("U", "S", "V"))(u, s, v)


def _cho_solve(b: Any, factor: Any, upper: bool) -> Any:
    return jsl.cho_solve((factor, not upper), b)


def cholesky_solve(input: Any, input2: Any, upper: bool = False) -> Tensor:  # noqa: A002
    """``X`` with ``A @ X = input`` given ``A``'s Cholesky factor ``input2``.

    PyTorch equivalent: ``torch.cholesky_solve`` (its names).
    """
    b = _as_tensor(input)
    if not isinstance(input2, Tensor):
        raise TypeError(f"cholesky_solve(): argument 'input2' (position 2) must be Tensor, "
                        f"not {type(input2).__name__}")
    # PyTorch's checks, in its order and words (a vector b is refused, not solved)
    for name, x in (("b", b), ("u", input2)):
        if x.dim() < 2:
            raise RuntimeError(f"{name} should have at least 2 dimensions, but has {x.dim()} "
                               f"dimensions instead")
    if b.dtype != input2.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{scalar_name(b.dtype)} and A of type "
                           f"{scalar_name(input2.dtype)} instead.")
    n = input2.shape[-1]
    if input2.shape[-2] != n:
        raise RuntimeError(f"A must be batches of square matrices, but they are "
                           f"{input2.shape[-2]} by {n} matrices")
    if b.shape[-2] != n:
        raise RuntimeError(f"Incompatible matrix sizes for cholesky_solve: each A matrix is "
                           f"{n} by {n} but each b matrix is {b.shape[-2]} by {b.shape[-1]}")
    factor = _matrix(input2, "cholesky_solve", square=True)
    return _op(_cho_solve, (bool(upper),), b, factor, who="cholesky_solve")


def check_square(A: Tensor, who: str) -> None:  # noqa: N803
    """PyTorch's errors for ``A`` that is not a batch of square matrices ``[..., n, n]``;
    ``who`` names the function in them (``linalg.det``)."""
    if A.dim() < 2:
        raise RuntimeError(f"{who}: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{who}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")


def _cho_inverse(factor: Any, upper: bool) -> Any:
    eye = jnp.broadcast_to(jnp.eye(factor.shape[-1], dtype=factor.dtype), factor.shape)
    return jsl.cho_solve((factor, not upper), eye)


def cholesky_inverse(input: Any, upper: bool = False) -> Tensor:  # noqa: A002
    """``A``'s inverse given its Cholesky factor ``input`` (``L``, ``A = L @ L.mT``; ``upper``:
    ``A = U.mT @ U``), ``[..., n, n]``: a Gaussian process's precision matrix.

    PyTorch equivalent: ``torch.cholesky_inverse``.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"cholesky_inverse(): argument 'input' (position 1) must be Tensor, "
                        f"not {type(input).__name__}")
    check_square(input, "cholesky_inverse")
    if not input.is_floating_point():
        raise NotImplementedError(f'"cholesky_inverse_out_cpu" not implemented for '
                                  f"'{scalar_name(input.dtype)}'")
    check_factor(input, "cholesky_inverse")
    return _op(_cho_inverse, (bool(upper),), input, who="cholesky_inverse")


def triangular_solve(input: Any, A: Any, upper: bool = True,  # noqa: A002, N803
                     transpose: bool = False, unitriangular: bool = False) -> Any:
    """``(solution, cloned_coefficient)`` of ``A @ X = input`` for triangular ``A``.

    PyTorch equivalent: ``torch.triangular_solve`` (deprecated there for
    ``torch.linalg.solve_triangular``).
    """
    A = _matrix(A, "triangular_solve", square=True)  # noqa: N806
    coefficient = A.mT if transpose else A
    x = solve_triangular(coefficient, input, upper=upper != bool(transpose),
                         unitriangular=unitriangular)
    return return_type("triangular_solve", ("solution", "cloned_coefficient"))(x, A.clone())


def qr_top(input: Any, some: bool = True) -> Any:  # noqa: A002
    """``(Q, R)``. PyTorch equivalent: ``torch.qr``."""
    q, r = qr(input, "reduced" if some else "complete")
    return return_type("qr", ("Q", "R"))(q, r)


def slogdet_top(input: Any) -> Any:  # noqa: A002
    """``(sign, logabsdet)``. PyTorch equivalent: ``torch.slogdet``."""
    sign, logabs = slogdet(input)
    return return_type("slogdet", ("sign", "logabsdet"))(sign, logabs)


def cholesky_top(input: Any, upper: bool = False) -> Tensor:  # noqa: A002
    """PyTorch equivalent: ``torch.cholesky`` (``upper`` positional)."""
    return _legacy_cholesky(input, upper)


def det_top(input: Any) -> Tensor:  # noqa: A002
    """PyTorch equivalent: ``torch.det``."""
    from fnnet.torch import linalg

    return linalg.det(input)


def inverse(input: Any) -> Tensor:  # noqa: A002
    """PyTorch equivalent: ``torch.inverse``."""
    from fnnet.torch import linalg

    return linalg.inv(input)


def pinverse(input: Any, rcond: float = 1e-15) -> Tensor:  # noqa: A002
    """PyTorch equivalent: ``torch.pinverse``."""
    return pinv(input, rtol=rcond)


#: names on ``torch`` and methods of Tensor -> their function
TOP_LEVEL: dict[str, Callable[..., Any]] = {
    "svd": svd_top, "qr": qr_top, "slogdet": slogdet_top, "logdet": logdet,
    "cholesky": cholesky_top, "cholesky_solve": cholesky_solve,
    "cholesky_inverse": cholesky_inverse,
    "triangular_solve": triangular_solve, "matrix_exp": matrix_exp,
    "matrix_power": matrix_power, "pinverse": pinverse, "det": det_top,
    "inverse": inverse,
}


def install(namespace: dict[str, Any]) -> None:
    """Adds the top-level functions to ``namespace`` (``fnnet.torch``'s globals) and the
    methods to :class:`Tensor` (``A.svd()``, ``A.det()``, ``A.inverse()``...)."""
    for name, fn in TOP_LEVEL.items():
        namespace[name] = fn
        setattr(Tensor, name, fn)
