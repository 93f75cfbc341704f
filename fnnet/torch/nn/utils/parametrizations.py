"""``torch.nn.utils.parametrizations``: weight normalisation, spectral normalisation and
orthogonality as parametrizations (:mod:`fnnet.torch.nn.utils.parametrize`).

Weight norm (Salimans & Kingma, 2016) writes a weight as ``g * v / ||v||``, the norm over
every dimension but ``dim``; spectral norm (Miyato et al., 2018) divides it by its
largest singular value, estimated by power iteration on the vectors ``_u`` and ``_v``
(buffers updated in training mode, as PyTorch's).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fnnet.torch._autograd import no_grad
from fnnet.torch.nn import functional as F
from fnnet.torch.nn.modules.module import Module
from fnnet.torch.nn.utils.parametrize import register_parametrization
from fnnet.torch.tensor import Tensor


def norm_except_dim(v: Tensor, dim: int | None) -> Tensor:
    """The 2-norm of ``v`` over every dimension but ``dim`` (all of them when ``dim`` is
    None or -1), kept as size-1 dimensions: ``g``'s shape.

    PyTorch equivalent: ``torch.norm_except_dim(v, 2, dim)``.
    """
    if dim is None or dim == -1:
        return (v * v).sum().sqrt()
    dim = dim % v.dim()
    others = [d for d in range(v.dim()) if d != dim]
    return (v * v).sum(others, keepdim=True).sqrt() if others else v.abs()


def weight_norm_of(v: Tensor, g: Tensor, dim: int | None) -> Tensor:
    """``v * (g / ||v||)``, the norm by :func:`norm_except_dim`: the one computation of
    both weight-norm APIs. PyTorch equivalent: ``torch._weight_norm``."""
    return v * (g / norm_except_dim(v, dim))


class _WeightNorm(Module):
    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return weight_norm_of(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return norm_except_dim(weight, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparametrizes ``module.<name>`` as ``g * v / ||v||``: the originals
    ``parametrizations.<name>.original0`` (``g``) and ``original1`` (``v``).

    PyTorch equivalent: ``torch.nn.utils.parametrizations.weight_norm``.
    """
    return register_parametrization(module, name, _WeightNorm(dim), unsafe=True)


def weight_as_matrix(weight: Tensor, dim: int) -> Tensor:
    """``weight`` as a matrix whose rows run along ``dim`` (spectral norm's view)."""
    if dim != 0:
        weight = weight.permute(dim, *(d for d in range(weight.dim()) if d != dim))
    return weight.flatten(1)


def spectral_sigma(weight_mat: Tensor, u: Tensor, v: Tensor) -> Tensor:
    """The power iteration's estimate of the largest singular value, ``u . (W v)``."""
    return (u * (weight_mat @ v)).sum()


class _SpectralNorm(Module):
    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.dim()
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.shape
            from fnnet.torch import randn

            self.register_buffer("_u", F.normalize(randn(h), dim=0, eps=self.eps))
            self.register_buffer("_v", F.normalize(randn(w), dim=0, eps=self.eps))
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        return weight_as_matrix(weight, self.dim)

    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        with no_grad():
            weight_mat = weight_mat.detach()
            for _ in range(n_power_iterations):
                self._u.copy_(F.normalize(weight_mat @ self._v, dim=0, eps=self.eps))
                self._v.copy_(F.normalize(weight_mat.T @ self._u, dim=0, eps=self.eps))

    def forward(self, weight: Tensor) -> Tensor:
        if weight.dim() == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        return weight / spectral_sigma(weight_mat, self._u.clone(), self._v.clone())

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Divides ``module.<name>`` by its largest singular value (power iteration, its
    vectors in ``parametrizations.<name>.0._u`` / ``._v``).

    PyTorch equivalent: ``torch.nn.utils.parametrizations.spectral_norm``.
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    return register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))


ORTHOGONAL_MAPS = ("matrix_exp", "cayley", "householder")


def _householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """The first ``k`` columns of ``H_1 ... H_k``, ``H_i = I - tau_i v_i v_i^T`` where
    ``v_i`` is column ``i`` of ``A [n, k]`` below the diagonal with a 1 on it.

    PyTorch equivalent: ``torch.linalg.householder_product`` (real, 2-D).
    """
    from fnnet.torch import eye

    n, k = A.shape
    V = A.tril(-1) + eye(n, k, dtype=A.dtype)  # noqa: N806
    Q = eye(n, dtype=A.dtype)  # noqa: N806
    for i in range(k - 1, -1, -1):  # H_i applied to the product of the later ones
        v = V[:, i:i + 1]
        Q = Q - tau[i] * (v @ (v.T @ Q))  # noqa: N806
    return Q[:, :k]


def _make_orthogonal(A: Tensor) -> Tensor:
    """Q of ``A = QR`` with R's diagonal made positive (PyTorch's ``geqrf`` then
    ``householder_product``, columns times the signs of R's diagonal)."""
    from fnnet.torch import linalg

    Q, R = linalg.qr(A)  # noqa: N806
    out: Tensor = Q * R.diagonal().sign().unsqueeze(0)
    return out


def _is_orthogonal(Q: Tensor) -> bool:  # noqa: N803
    from fnnet.torch import allclose, eye

    n, k = Q.shape
    eps = 10.0 * n * float(np.finfo(Q.numpy().dtype).eps)
    return bool(allclose(Q.T @ Q, eye(k, dtype=Q.dtype), atol=eps))


class _Orthogonal(Module):
    """An orthogonal matrix from an unconstrained one: the exponential or the Cayley
    transform of its skew-symmetric part, or a product of Householder reflections; with
    the trivialization, times the orthogonal ``base`` fixed at registration."""

    def __init__(self, weight: Tensor, orthogonal_map: str,
                 use_trivialization: bool = True) -> None:
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        self.use_trivialization = use_trivialization
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:  # noqa: N803
        from fnnet.torch import cat, eye, linalg, zeros
        from fnnet.torch._factorizations import matrix_exp

        n, k = X.shape
        transposed = n < k
        if transposed:  # a wide matrix: its transpose, tall
            X, n, k = X.T, k, n  # noqa: N806
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            X = X.tril()  # noqa: N806
            if n != k:
                X = cat([X, zeros(n, n - k, dtype=X.dtype)], dim=-1)  # noqa: N806
            A = X - X.T  # noqa: N806
            if self.orthogonal_map == "matrix_exp":
                Q = matrix_exp(A)  # noqa: N806
            else:
                Id = eye(n, dtype=A.dtype)  # noqa: N806
                Q = linalg.solve(Id - 0.5 * A, Id + 0.5 * A)  # noqa: N806
            Q = Q[:, :k] if n != k else Q  # noqa: N806
        else:
            A = X.tril(-1)  # noqa: N806
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            # the diagonal's signs (as ints, as PyTorch's) flip columns
            Q = _householder_product(A, tau) * X.diagonal().int().unsqueeze(-2)  # noqa: N806
        if self.use_trivialization:
            Q = self.base @ Q  # noqa: N806
        out: Tensor = Q.T if transposed else Q
        return out

    def right_inverse(self, Q: Tensor) -> Tensor:  # noqa: N803
        from fnnet.torch import cat, eye, randn

        if tuple(Q.shape) != tuple(self.shape):
            raise ValueError(f"Expected a matrix or batch of matrices of shape "
                             f"{self.shape}. Got a tensor of shape {Q.shape}.")
        if not self.use_trivialization:
            if self.orthogonal_map != "householder":
                raise NotImplementedError(
                    "It is not possible to assign to the matrix exponential or the Cayley "
                    "parametrizations when use_trivialization=False.")
            raise _no_householder_inverse()
        shape = tuple(Q.shape)
        with no_grad():
            Q = Q.detach()  # noqa: N806
            n, k = Q.shape
            if n < k:
                Q, n, k = Q.T, k, n  # noqa: N806
            if n == k:
                Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)  # noqa: N806
            else:  # completed to a square orthogonal matrix by random columns
                Q = _make_orthogonal(cat([Q, randn(n, n - k, dtype=Q.dtype)], dim=-1))  # noqa: N806
            self.base = Q
            # -I: the Householder map's diagonal signs make householder(-I) the identity
            return -eye(*shape, dtype=Q.dtype)


def _no_householder_inverse() -> NotImplementedError:
    return NotImplementedError(
        "fnnet.torch: orthogonal(use_trivialization=False) with the householder map is not "
        "supported (it needs torch.geqrf); use the default use_trivialization=True")


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None,
               *, use_trivialization: bool = True) -> Module:
    """Constrains ``module.<name>`` (a matrix) to be orthogonal (orthonormal rows or
    columns): the weight is computed from ``parametrizations.<name>.original`` by
    ``orthogonal_map`` (``"matrix_exp"`` by default for square weights, else
    ``"householder"``), times the orthogonal ``base`` buffer set from the weight at
    registration (``use_trivialization``). A non-square weight's ``base`` is completed
    with random columns, which fnnet's PRNG draws.

    PyTorch equivalent: ``torch.nn.utils.parametrizations.orthogonal`` (real 2-D
    weights).

    Raises:
        ValueError: no such tensor, fewer than 2 dimensions, or an unknown map.
        NotImplementedError: a batch of matrices.
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.dim() < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of "
                         f"{weight.dim()} dimensions.")
    if weight.dim() > 2:
        raise NotImplementedError("fnnet.torch: parametrizations.orthogonal supports 2-D "
                                  "weights, not batches of matrices")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] else \
            "householder"
    if orthogonal_map not in ORTHOGONAL_MAPS:
        raise ValueError(f'orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder". Got: {orthogonal_map}')
    if not use_trivialization and orthogonal_map == "householder":
        # refused here: registering takes right_inverse's NotImplementedError for the
        # identity, as PyTorch does, which would leave a weight other than PyTorch's
        raise _no_householder_inverse()
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    return register_parametrization(module, name, orth, unsafe=True)


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    from fnnet.torch.tensor import Unsupported

    raise Unsupported(  # also an AttributeError: hasattr() is False
        f"fnnet.torch does not support torch.nn.utils.parametrizations.{name}; write it as "
        f"a module with forward (and right_inverse) and register it with "
        f"torch.nn.utils.parametrize.register_parametrization")


__all__ = ["orthogonal", "spectral_norm", "weight_norm"]
