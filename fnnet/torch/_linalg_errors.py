"""PyTorch's errors for singular and indefinite matrices (``torch.linalg.LinAlgError``),
and the ``_ex`` forms (``inv_ex``, ``cholesky_ex``, ``solve_ex``, ``lu_factor_ex``) that
return LAPACK's ``info`` instead of raising.

``info`` is computed on the device as LAPACK reports it: per matrix, 0 or the 1-based
position where the factorization failed (the first zero on ``U``'s diagonal, the order
of the first leading minor that is not positive-definite). A function that raises, as
``linalg.inv`` or ``linalg.cholesky`` do, reads it on the host at the call, as PyTorch
does, so ``try: ... except torch.linalg.LinAlgError`` around the call works. Inside a
training step (compiled by the shim, with or without ``torch.compile``, whose Python
runs as written) that read ends the recorded program there: a loop calling ``inv``
every step runs its step as a few programs, each compiled in the first step and reused
after, and waits for the device once more per call. The ``_ex`` forms leave ``info``
on the device unless ``check_errors=True`` (no wait), and ``MultivariateNormal``
factors its covariance without the check (NaN where it is not positive-definite).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fnnet.torch.tensor import Tensor, _as_tensor, _op, _op_multi


class _LinAlgError(RuntimeError):  # PyTorch's class name (torch._C._LinAlgError)
    """A matrix a factorization cannot handle: singular for ``linalg.inv`` and
    ``linalg.solve``, not positive-definite for ``linalg.cholesky``.

    PyTorch equivalent: ``torch.linalg.LinAlgError`` (a ``RuntimeError``).
    """


LinAlgError = _LinAlgError


def _first_zero(diagonal: Any) -> Any:
    """``info [...]`` int32 of ``diagonal [..., n]``: the 1-based position of its first
    zero, 0 where it has none."""
    zero = diagonal == 0
    if not diagonal.shape[-1]:
        return jnp.zeros(diagonal.shape[:-1], jnp.int32)
    return jnp.where(zero.any(-1), jnp.argmax(zero, -1) + 1, 0).astype(jnp.int32)


def _lu_info(a: Any) -> Any:
    """getrf's ``info`` of each matrix of ``a [..., n, n]``."""
    lu = jax.lax.linalg.lu(a)[0]
    return _first_zero(jnp.diagonal(lu, axis1=-2, axis2=-1))


def _triangular_info(factor: Any) -> Any:
    """``info`` of a triangular ``factor [..., n, n]``: its first zero diagonal element."""
    return _first_zero(jnp.diagonal(factor, axis1=-2, axis2=-1))


def _minor_orders(a: Any) -> Any:
    """The order of the first leading minor of ``a [..., n, n]`` (its lower triangle, as
    LAPACK's potrf reads it) whose determinant is not positive, 0 if none: the step at
    which a Cholesky factorization fails."""
    n = a.shape[-1]
    lower = jnp.tril(a)
    sym = lower + jnp.swapaxes(jnp.tril(a, -1), -1, -2)
    k = jnp.arange(n)
    # minor m: the top-left (m + 1) x (m + 1) block, the identity elsewhere
    inside = (k[:, None, None] >= k[None, :, None]) & (k[:, None, None] >= k[None, None, :])
    minors = jnp.where(inside, sym[..., None, :, :], jnp.eye(n, dtype=a.dtype))
    sign, _ = jnp.linalg.slogdet(minors)
    bad = ~(sign > 0)
    return jnp.where(bad.any(-1), jnp.argmax(bad, -1) + 1, 0).astype(jnp.int32)


def _cholesky_info(a: Any) -> Any:
    """potrf's ``info`` of each matrix of ``a [..., n, n]``. JAX's factor is NaN where
    it failed; the failing order is looked for only when one has."""
    failed = jnp.isnan(jnp.linalg.cholesky(a)).any((-2, -1))
    if not a.shape[-1]:
        return jnp.zeros(a.shape[:-2], jnp.int32)
    return jax.lax.cond(failed.any(), lambda: jnp.where(failed, _minor_orders(a), 0),
                        lambda: jnp.zeros(a.shape[:-2], jnp.int32))


def raise_for(info: Tensor, who: str, words: Callable[[int], str],
              error: type[Exception] = _LinAlgError) -> None:
    """PyTorch's error for the first nonzero ``info`` (read on the host now): ``who:
    words(info)``, with ``(Batch element b): `` before the words for a batch (``b`` its
    index in the flattened batch)."""
    values = np.asarray(info.tolist()).reshape(-1)
    failed = np.flatnonzero(values)
    if failed.size:
        b = int(failed[0])
        batch = f"(Batch element {b}): " if info.dim() else ""
        raise error(f"{who}: {batch}{words(int(values[b]))}")


def singular_words(element: int) -> str:
    return (f"The diagonal element {element} is zero, the inversion could not be "
            f"completed because the input matrix is singular.")


def indefinite_words(order: int) -> str:
    return (f"The factorization could not be completed because the input is not "
            f"positive-definite (the leading minor of order {order} is not "
            f"positive-definite).")


def solver_words(_: int) -> str:
    return "The solver failed because the input matrix is singular."


def lu_words(element: int) -> str:
    return (f"U[{element},{element}] is zero and using it on lu_solve would result in a "
            f"division by zero. If you still want to perform the factorization, consider "
            f"calling linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")


def check_invertible(A: Tensor, who: str) -> None:  # noqa: N803 - PyTorch's name
    """PyTorch's LinAlgError where a matrix of ``A`` is singular (``linalg.inv``)."""
    raise_for(_op(_lu_info, (), A, who="lu_info"), who, singular_words)


def check_solvable(A: Tensor, who: str) -> None:  # noqa: N803 - PyTorch's name
    """PyTorch's LinAlgError where a matrix of ``A`` is singular (``linalg.solve``)."""
    raise_for(_op(_lu_info, (), A, who="lu_info"), who, solver_words)


def check_positive_definite(A: Tensor, who: str) -> None:  # noqa: N803 - PyTorch's name
    """PyTorch's LinAlgError where a matrix of ``A`` is not positive-definite."""
    raise_for(_op(_cholesky_info, (), A, who="cholesky_info"), who, indefinite_words)


def check_factor(factor: Tensor, who: str) -> None:
    """PyTorch's LinAlgError where a triangular ``factor`` has a zero on its diagonal
    (``cholesky_inverse``)."""
    raise_for(_op(_triangular_info, (), factor, who="triangular_info"), who, singular_words)


def _with_info(A: Any, who: str, info: Callable[[Any], Any],  # noqa: N803
               check_errors: Any) -> tuple[Tensor, Tensor, bool]:
    """An ``_ex`` function's checked arguments: the matrices ``A``, their ``info``
    (recorded, not read) and whether to raise for it."""
    from fnnet.torch._factorizations import _matrix

    if not isinstance(check_errors, bool):
        raise TypeError(f"linalg_{who}(): argument 'check_errors' must be bool, not "
                        f"{type(check_errors).__name__}")
    A = _matrix(A, who, square=True)  # noqa: N806
    return A, _op(info, (), A, who=info.__name__.strip("_")), check_errors


def inv_ex(A: Any, *, check_errors: bool = False) -> Any:  # noqa: N803 - PyTorch's name
    """``(inverse, info)``: ``linalg.inv`` and getrf's ``info [...]`` int32 (0 where
    the matrix is invertible); ``check_errors=True`` raises as ``linalg.inv`` does.

    PyTorch equivalent: ``torch.linalg.inv_ex``.
    """
    from fnnet.torch import linalg
    from fnnet.torch._factorizations import return_type

    A, info, check = _with_info(A, "inv_ex", _lu_info, check_errors)  # noqa: N806
    if check:
        raise_for(info, "linalg.inv_ex", singular_words)
    inverse = linalg.inverse_of(A)
    return return_type("linalg_inv_ex", ("inverse", "info"))(inverse, info)


def cholesky_ex(input: Any, *, upper: bool = False,  # noqa: A002 - PyTorch's name
                check_errors: bool = False) -> Any:
    """``(L, info)``: ``linalg.cholesky`` and potrf's ``info [...]`` int32 (0, or the
    order of the first leading minor that is not positive-definite). Where ``info`` is
    not 0, ``L`` is NaN (PyTorch's holds the part it factored).

    PyTorch equivalent: ``torch.linalg.cholesky_ex``.
    """
    from fnnet.torch._factorizations import cholesky_factor, return_type

    A, info, check = _with_info(input, "cholesky_ex", _cholesky_info,  # noqa: N806
                                check_errors)
    if check:
        raise_for(info, "linalg.cholesky_ex", indefinite_words)
    factor = cholesky_factor(A, upper)
    return return_type("linalg_cholesky_ex", ("L", "info"))(factor, info)


def solve_ex(A: Any, B: Any, *, left: bool = True,  # noqa: N803 - PyTorch's names
             check_errors: bool = False) -> Any:
    """``(result, info)``: ``linalg.solve`` and getrf's ``info`` of ``A``.

    PyTorch equivalent: ``torch.linalg.solve_ex``.
    """
    from fnnet.torch import linalg
    from fnnet.torch._factorizations import return_type

    A, info, check = _with_info(A, "solve_ex", _lu_info, check_errors)  # noqa: N806
    result = linalg.solution_of(A, B, left, lambda a: raise_for(
        info, "torch.linalg.solve_ex", solver_words) if check else None)
    return return_type("linalg_solve_ex", ("result", "info"))(result, info)


def _lu_factor(a: Any) -> tuple[Any, Any, Any]:
    lu, pivots, _ = jax.lax.linalg.lu(a)
    diagonal = jnp.diagonal(lu, axis1=-2, axis2=-1)
    return lu, (pivots + 1).astype(jnp.int32), _first_zero(diagonal)


def _lu_parts(A: Any, pivot: bool, who: str) -> list[Any]:  # noqa: N803 - PyTorch's name
    from fnnet.torch._factorizations import _matrix

    A = _matrix(A, who, square=True)  # noqa: N806
    if not pivot:
        raise NotImplementedError(f"fnnet.torch: linalg.{who}(pivot=False) is not "
                                  f"supported; the factorization always pivots")
    return _op_multi(_lu_factor, (), A, who=who)


def lu_factor(A: Any, *, pivot: bool = True) -> Any:  # noqa: N803 - PyTorch's name
    """``(LU, pivots)``: ``A = P L U`` packed as LAPACK's getrf (``L`` unit lower below
    the diagonal, ``U`` on and above it; ``pivots [..., n]`` int32, 1-based row swaps).

    Raises:
        RuntimeError: PyTorch's words, where a matrix is singular (``U`` has a zero on
            its diagonal); ``lu_factor_ex`` returns its ``info`` instead.

    PyTorch equivalent: ``torch.linalg.lu_factor``.
    """
    from fnnet.torch._factorizations import return_type

    lu, pivots, info = _lu_parts(A, pivot, "lu_factor")
    raise_for(_as_tensor(info), "torch.linalg.lu_factor", lu_words, RuntimeError)
    return return_type("linalg_lu_factor", ("LU", "pivots"))(lu, pivots)


def lu_factor_ex(A: Any, *, pivot: bool = True,  # noqa: N803 - PyTorch's name
                 check_errors: bool = False) -> Any:
    """``(LU, pivots, info)``: :func:`lu_factor` with getrf's ``info``.

    PyTorch equivalent: ``torch.linalg.lu_factor_ex``.
    """
    from fnnet.torch._factorizations import return_type

    if not isinstance(check_errors, bool):
        raise TypeError(f"linalg_lu_factor_ex(): argument 'check_errors' must be bool, not "
                        f"{type(check_errors).__name__}")
    lu, pivots, info = _lu_parts(A, pivot, "lu_factor_ex")
    if check_errors:
        raise_for(_as_tensor(info), "torch.linalg.lu_factor_ex", lu_words, RuntimeError)
    return return_type("linalg_lu_factor_ex", ("LU", "pivots", "info"))(lu, pivots, info)
