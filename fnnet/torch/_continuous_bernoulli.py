"""``torch.distributions.ContinuousBernoulli`` (Loaiza-Ganem and Cunningham, 2019): the
density ``C(p) p^x (1 - p)^(1 - x)`` on ``[0, 1]``, a VAE's likelihood for pixels in
``[0, 1]`` (re-exported by :mod:`fnnet.torch.distributions`).

Near ``p = 1/2`` the closed forms divide by ``2p - 1``; inside ``lims`` (PyTorch's
``(0.499, 0.501)``) the normaliser and moments are PyTorch's Taylor expansions instead,
and the cdf and icdf the uniform's. Draws are the icdf of uniform draws, PyTorch's after
``manual_seed``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from fnnet.torch import _constraints as constraints
from fnnet.torch import _functions, _shape_ops
from fnnet.torch._distributions_core import (
    Distribution,
    _probs_or_logits,
    _tensor,
    binary_logits,
)
from fnnet.torch.nn import functional as F
from fnnet.torch.tensor import Size, Tensor


def _clamped(probs: Tensor) -> Tensor:
    eps = float(np.finfo(np.float32).eps)
    return probs.clamp(min=eps, max=1 - eps)


class ContinuousBernoulli(Distribution):
    """``ContinuousBernoulli(probs=None, logits=None, lims=(0.499, 0.501))``.

    PyTorch equivalent: ``torch.distributions.ContinuousBernoulli``.
    """

    has_rsample = True

    def __init__(self, probs: Any = None, logits: Any = None,
                 lims: tuple[float, float] = (0.499, 0.501),
                 validate_args: bool | None = None) -> None:
        probs, logits = _probs_or_logits(probs, logits, "ContinuousBernoulli")
        given = probs if probs is not None else logits
        scalar = isinstance(given, int | float) and not isinstance(given, bool)
        if probs is not None:
            self.probs = _tensor(probs)
            # PyTorch checks probs (before clamping them) only when validate_args is given
            if validate_args is not None:
                values = np.asarray(self.probs.detach().numpy())
                if not np.all((values >= 0) & (values <= 1)):
                    raise ValueError("The parameter probs has invalid values")
            self.probs = _clamped(self.probs)
            self.logits = binary_logits(self.probs)
        else:
            self.logits = _tensor(logits)
            self.probs = _clamped(self.logits.sigmoid())
        self._given = "probs" if probs is not None else "logits"
        self.batch_shape = Size(()) if scalar else Size(tuple(self.probs.shape))
        self._lims = lims
        self._validate_args = validate_args

    def _params(self) -> dict[str, Any]:
        return {self._given: getattr(self, self._given)}

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval

    def _stable(self) -> Tensor:
        """Where ``probs`` is outside ``lims``: the closed forms hold."""
        out: Tensor = (self.probs <= self._lims[0]) | (self.probs > self._lims[1])
        return out

    def _cut_probs(self) -> Tensor:
        """``probs``, moved to ``lims[0]`` inside ``lims`` (whose closed forms are not
        used there, but must stay finite for their gradients)."""
        return _functions.where(self._stable(), self.probs, self._lims[0])

    def _log_norm(self) -> Tensor:
        """``log C(p)``: ``log(|log((1 - p) / p)| / |1 - 2p|)``."""
        p = self._cut_probs()
        below, above = p <= 0.5, p >= 0.5
        p_below = _functions.where(below, p, 0.0)
        p_above = _functions.where(above, p, 1.0)
        closed = ((-p).log1p() - p.log()).abs().log() - _functions.where(
            below, (-2.0 * p_below).log1p(), (2.0 * p_above - 1.0).log())
        x = (self.probs - 0.5).pow(2)
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return _functions.where(self._stable(), closed, taylor)

    @property
    def mean(self) -> Tensor:
        p = self._cut_probs()
        closed = p / (2.0 * p - 1.0) + 1.0 / ((-p).log1p() - p.log())
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x.pow(2)) * x
        return _functions.where(self._stable(), closed, taylor)

    @property
    def variance(self) -> Tensor:
        p = self._cut_probs()
        closed = p * (p - 1.0) / (1.0 - 2.0 * p).pow(2) \
            + 1.0 / ((-p).log1p() - p.log()).pow(2)
        x = (self.probs - 0.5).pow(2)
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return _functions.where(self._stable(), closed, taylor)

    @property
    def param_shape(self) -> Size:
        return Size(tuple(getattr(self, self._given).shape))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """The icdf of uniform draws: differentiable in ``probs``."""
        return self.icdf(_functions.rand(*self._extended(sample_shape)))

    def log_prob(self, value: Any) -> Tensor:
        value = self._validate_sample(value)
        logits, value = _shape_ops.broadcast_tensors(self.logits, value)
        out: Tensor = -F.binary_cross_entropy_with_logits(logits, value, reduction="none") \
            + self._log_norm()
        return out

    def cdf(self, value: Any) -> Tensor:
        value = self._validate_sample(value)
        p = self._cut_probs()
        closed = (p.pow(value) * (1.0 - p).pow(1.0 - value) + p - 1.0) / (2.0 * p - 1.0)
        inside = _functions.where(self._stable(), closed, value)
        return _functions.where(value <= 0.0, 0.0, _functions.where(value >= 1.0, 1.0,
                                                                      inside))

    def icdf(self, value: Any) -> Tensor:
        value = _tensor(value)
        p = self._cut_probs()
        closed = ((-p + value * (2.0 * p - 1.0)).log1p() - (-p).log1p()) \
            / (p.log() - (-p).log1p())
        return _functions.where(self._stable(), closed, value)

    def entropy(self) -> Tensor:
        log_q, log_p = (-self.probs).log1p(), self.probs.log()
        out: Tensor = self.mean * (log_q - log_p) - self._log_norm() - log_q
        return out
