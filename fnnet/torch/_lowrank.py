"""``torch.svd_lowrank`` and ``torch.pca_lowrank``: the randomized SVD of Halko,
Martinsson and Tropp (2009, Algorithm 5.1), as PyTorch computes it.

They are compositions of recorded ops (matmul, ``linalg.qr``, ``linalg.svd``), so they
are differentiable and compile with the step; the random start is ``torch.randn``'s draw
from the global generator, the one PyTorch makes, so a seeded script gets PyTorch's
factors.
"""

from __future__ import annotations

from typing import Any

from fnnet.torch import _dtypes
from fnnet.torch._factorizations import qr, svd
from fnnet.torch._functions import randn
from fnnet.torch.tensor import Tensor


def _floating(A: Tensor) -> Any:  # noqa: N803 - PyTorch's argument name
    """``A``'s dtype if floating, else float32, as PyTorch's ``get_floating_dtype``."""
    return A.dtype if A.dtype in (_dtypes.float16, _dtypes.float32, _dtypes.float64) \
        else _dtypes.float32


def _basis(A: Tensor, q: int, niter: int) -> Tensor:  # noqa: N803
    """``q`` orthonormal columns ``Q`` with ``Q Q^H A`` close to ``A``: a random
    projection refined by ``niter`` subspace iterations."""
    R = randn(A.shape[-1], q, dtype=_floating(A))  # noqa: N806 - the paper's names
    Q: Tensor = qr(A @ R).Q  # noqa: N806
    for _ in range(niter):
        Q = qr(A.mH @ Q).Q  # noqa: N806
        Q = qr(A @ Q).Q  # noqa: N806
    return Q


def _svd_lowrank(A: Tensor, q: int | None, niter: int | None,  # noqa: N803
                 M: Tensor | None) -> tuple[Tensor, Tensor, Tensor]:  # noqa: N803
    q = 6 if q is None else q
    niter = 2 if niter is None else niter
    if M is not None:
        A = A - M.broadcast_to(A.shape)  # noqa: N806
    m, n = A.shape[-2:]
    if m < n:  # the algorithm takes a tall matrix
        A = A.mH  # noqa: N806
    Q = _basis(A, q, niter)  # noqa: N806
    U, S, Vh = svd(Q.mH @ A, full_matrices=False)  # noqa: N806
    U, V = Q @ U, Vh.mH  # noqa: N806
    return (V, S, U) if m < n else (U, S, V)


def svd_lowrank(A: Tensor, q: int | None = 6, niter: int | None = 2,  # noqa: N803
                M: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:  # noqa: N803
    """``(U, S, V)`` with ``A - M ≈ U diag(S) V^H`` of rank ``q``, by a randomized SVD.

    Args:
        A: ``[*, m, n]``.
        q: a slightly overestimated rank of ``A``.
        niter: subspace iterations.
        M: subtracted from ``A`` (broadcast to its shape) before factorizing.

    Returns:
        ``U [*, m, q]``, ``S [*, q]``, ``V [*, n, q]``.

    PyTorch equivalent: ``torch.svd_lowrank``.
    """
    return _svd_lowrank(A, q, niter, M)


def pca_lowrank(A: Tensor, q: int | None = None, center: bool = True,  # noqa: N803
                niter: int = 2) -> tuple[Tensor, Tensor, Tensor]:
    """PCA of the rows of ``A`` by :func:`svd_lowrank` of ``A`` less its column means:
    ``V``'s columns are the principal directions, ``S ** 2 / (m - 1)`` the variances.

    Args:
        A: ``[*, m, n]``, ``m`` samples of ``n`` features.
        q: the rank kept, ``min(6, m, n)`` by default.
        center: subtract the column means first (else ``A`` is taken as centered).
        niter: subspace iterations.

    Returns:
        ``U [*, m, q]``, ``S [*, q]``, ``V [*, n, q]``.

    Raises:
        ValueError: ``q`` outside ``[0, min(m, n)]`` or a negative ``niter``, in PyTorch's
            words.

    PyTorch equivalent: ``torch.pca_lowrank``.
    """
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not 0 <= q <= min(m, n):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than "
                         f"min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if center:
        A = A - A.mean(dim=(-2,), keepdim=True)  # noqa: N806
    return _svd_lowrank(A, q, niter, None)


def install(namespace: dict[str, Any]) -> None:
    """Adds the functions to ``namespace`` (``fnnet.torch``'s globals)."""
    namespace["svd_lowrank"] = svd_lowrank
    namespace["pca_lowrank"] = pca_lowrank
