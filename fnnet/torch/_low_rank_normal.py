"""``torch.distributions.LowRankMultivariateNormal``: a Gaussian whose covariance is a
low-rank part plus a diagonal, ``W W^T + diag(D)`` (re-exported by
:mod:`fnnet.torch.distributions`).

Densities go through the ``m x m`` capacitance matrix ``I + W^T D^-1 W`` (Woodbury's
identity and the matrix determinant lemma) rather than the ``n x n`` covariance, as
PyTorch's do; draws are PyTorch's after ``manual_seed`` (its normal draws for ``W``'s
columns, then for the diagonal).
"""

from __future__ import annotations

import math
from typing import Any

from fnnet.torch import _constraints as constraints
from fnnet.torch import _functions, _shape_ops
from fnnet.torch._distributions_core import (
    MultivariateNormal,
    _check,
    _Located,
    _mahalanobis,
    _tensor,
    kl_divergence,
    register_kl,
)
from fnnet.torch._factorizations import cholesky_factor
from fnnet.torch.tensor import Size, Tensor


def _with_unit_diagonal(matrix: Tensor) -> Tensor:
    """``matrix [..., m, m] + I``."""
    eye = _functions.eye(int(matrix.shape[-1]), dtype=matrix.dtype)
    out: Tensor = matrix + eye
    return out


class LowRankMultivariateNormal(_Located):
    """``LowRankMultivariateNormal(loc, cov_factor, cov_diag)``: mean ``loc [..., n]``,
    covariance ``cov_factor @ cov_factor.mT + diag(cov_diag)`` with ``cov_factor [...,
    n, m]`` and ``cov_diag [..., n]`` positive.

    PyTorch equivalent: ``torch.distributions.LowRankMultivariateNormal``.
    """

    has_rsample = True

    def __init__(self, loc: Any, cov_factor: Any, cov_diag: Any,
                 validate_args: bool | None = None) -> None:
        loc, cov_factor, cov_diag = _tensor(loc), _tensor(cov_factor), _tensor(cov_diag)
        # PyTorch's checks and words
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        n = int(loc.shape[-1])
        if cov_factor.dim() < 2:
            raise ValueError("cov_factor must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        if int(cov_factor.shape[-2]) != n:
            raise ValueError(f"cov_factor must be a batch of matrices with shape {n} x m")
        if tuple(cov_diag.shape[-1:]) != (n,):
            raise ValueError(f"cov_diag must be a batch of vectors with shape {Size((n,))}")
        try:
            loc_, self.cov_factor, diag_ = _shape_ops.broadcast_tensors(
                loc.unsqueeze(-1), cov_factor, cov_diag.unsqueeze(-1))
        except RuntimeError as error:
            raise ValueError(f"Incompatible batch shapes: loc {loc.shape}, cov_factor "
                             f"{cov_factor.shape}, cov_diag {cov_diag.shape}") from error
        self.loc, self.cov_diag = loc_[..., 0], diag_[..., 0]
        _check("cov_diag", cov_diag, self.arg_constraints["cov_diag"], validate_args,
               "LowRankMultivariateNormal", {"loc": self.loc, "cov_factor": self.cov_factor,
                                             "cov_diag": self.cov_diag})
        self.batch_shape = Size(tuple(self.loc.shape[:-1]))
        self.event_shape = Size((n,))
        self._validate_args = validate_args
        self._factor, self._diag = cov_factor, cov_diag
        # the Cholesky factor of I + W^T D^-1 W (m x m)
        scaled = cov_factor.transpose(-2, -1) / cov_diag.unsqueeze(-2)
        self._capacitance_tril = cholesky_factor(_with_unit_diagonal(scaled @ cov_factor))

    def _params(self) -> dict[str, Any]:
        return {"loc": self.loc, "cov_factor": self.cov_factor, "cov_diag": self.cov_diag}

    arg_constraints = {"loc": constraints.real_vector,
                       "cov_factor": constraints.independent(constraints.real, 2),
                       "cov_diag": constraints.independent(constraints.positive, 1)}
    support = constraints.real_vector

    def _extended_event(self) -> tuple[int, ...]:
        return (*self.batch_shape, *self.event_shape)

    @property
    def variance(self) -> Tensor:
        out: Tensor = (self._factor.pow(2).sum(-1) + self._diag).expand(
            *self._extended_event())
        return out

    @property
    def covariance_matrix(self) -> Tensor:
        factor = self._factor
        out: Tensor = factor @ factor.transpose(-2, -1) + self._diag.diag_embed()
        return out.expand(*self._extended_event(), int(self.event_shape[0]))

    @property
    def precision_matrix(self) -> Tensor:
        """``D^-1 - D^-1 W C^-1 W^T D^-1`` (Woodbury), ``C`` the capacitance."""
        from fnnet.torch import linalg

        scaled = self._factor.transpose(-2, -1) / self._diag.unsqueeze(-2)
        eye = _functions.eye(int(self._capacitance_tril.shape[-1]), dtype=scaled.dtype)
        inverse = linalg.solve_triangular(self._capacitance_tril, eye, upper=False)
        projected = inverse @ scaled
        out: Tensor = (self._diag.reciprocal()).diag_embed() \
            - projected.transpose(-2, -1) @ projected
        return out.expand(*self._extended_event(), int(self.event_shape[0]))

    @property
    def scale_tril(self) -> Tensor:
        """``sqrt(D) chol(I + D^-1/2 W W^T D^-1/2)``: the Cholesky factor of the
        covariance."""
        root = self._diag.sqrt().unsqueeze(-1)
        whitened = self._factor / root
        inner = _with_unit_diagonal(whitened @ whitened.transpose(-2, -1))
        out: Tensor = root * cholesky_factor(inner)
        return out.expand(*self._extended_event(), int(self.event_shape[0]))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """``loc + W eps_W + sqrt(D) eps_D`` for standard normal ``eps_W [m]`` and
        ``eps_D [n]``, drawn in that order as PyTorch's."""
        shape = self._extended(sample_shape)
        eps_w = _functions.randn(*shape[:-1], int(self.cov_factor.shape[-1]))
        eps_d = _functions.randn(*shape)
        out: Tensor = (self.loc + (self._factor @ eps_w.unsqueeze(-1)).squeeze(-1)
                       + self._diag.sqrt() * eps_d)
        return out

    def _log_det(self) -> Tensor:
        """``log det(W W^T + D)`` by the matrix determinant lemma."""
        out: Tensor = (2 * self._capacitance_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
                       + self._diag.log().sum(-1))
        return out

    def log_prob(self, value: Any) -> Tensor:
        diff = self._validate_sample(value) - self.loc
        scaled = self._factor.transpose(-2, -1) / self._diag.unsqueeze(-2)
        projected = (scaled @ diff.unsqueeze(-1)).squeeze(-1)
        mahalanobis = (diff.pow(2) / self._diag).sum(-1) \
            - _mahalanobis(self._capacitance_tril, projected)
        out: Tensor = -0.5 * (int(self.event_shape[0]) * math.log(2 * math.pi)
                              + self._log_det() + mahalanobis)
        return out

    def entropy(self) -> Tensor:
        k = int(self.event_shape[0])
        out: Tensor = 0.5 * (k * (1.0 + math.log(2 * math.pi)) + self._log_det())
        return out.expand(*self.batch_shape) if len(self.batch_shape) else out


def _full(p: Any) -> MultivariateNormal:
    """``p`` as a MultivariateNormal of its covariance matrix."""
    if isinstance(p, MultivariateNormal):
        return p
    return MultivariateNormal(p.loc, covariance_matrix=p.covariance_matrix, validate_args=False)


@register_kl(LowRankMultivariateNormal, LowRankMultivariateNormal)
@register_kl(LowRankMultivariateNormal, MultivariateNormal)
@register_kl(MultivariateNormal, LowRankMultivariateNormal)
def _kl_low_rank(p: Any, q: Any) -> Tensor:
    """KL between Gaussians of which one or both are low-rank plus diagonal, from their
    covariance matrices (PyTorch's pairs; it uses the Woodbury identity, the same value
    to rounding)."""
    if p.event_shape != q.event_shape:  # PyTorch's words, its source's indent included
        raise ValueError("KL-divergence between two (Low Rank) Multivariate Normals with\
                          different event shapes cannot be computed")
    return kl_divergence(_full(p), _full(q))
