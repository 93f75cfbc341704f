"""``torch.nn.utils.parametrizations``: weight normalisation and spectral normalisation
as parametrizations (:mod:`fnnet.torch.nn.utils.parametrize`).

Weight norm (Salimans & Kingma, 2016) writes a weight as ``g * v / ||v||``, the norm over
every dimension but ``dim``; spectral norm (Miyato et al., 2018) divides it by its
largest singular value, estimated by power iteration on the vectors ``_u`` and ``_v``
(buffers updated in training mode, as PyTorch's).
"""

from __future__ import annotations

from typing import Any

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


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    from fnnet.torch.tensor import Unsupported

    raise Unsupported(  # also an AttributeError: hasattr() is False
        f"fnnet.torch does not support torch.nn.utils.parametrizations.{name}; write it as "
        f"a module with forward (and right_inverse) and register it with "
        f"torch.nn.utils.parametrize.register_parametrization")


__all__ = ["spectral_norm", "weight_norm"]
