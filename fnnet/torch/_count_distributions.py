"""``torch.distributions``' counts of successes: ``Binomial``, ``Multinomial`` and
``NegativeBinomial`` (re-exported by :mod:`fnnet.torch.distributions`).

Their densities, moments and entropies are PyTorch's. Draws: ``Multinomial``'s and
``NegativeBinomial``'s are PyTorch's after ``manual_seed`` (they are made of
``Categorical``'s, and of ``Gamma``'s and ``torch.poisson``'s, which are);
``Binomial``'s are not (PyTorch's CPU kernel uses its own BTRS rejection sampler): they
are counts of ``total_count`` uniform draws below ``probs``, of the same distribution.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from fnnet.torch import _constraints as constraints
from fnnet.torch import _functions, _shape_ops
from fnnet.torch._distributions_core import (
    Categorical,
    Distribution,
    Gamma,
    _broadcast_all,
    _check,
    _probs_or_logits,
    _shape,
    binary_logits,
    register_kl,
)
from fnnet.torch.nn import functional as F
from fnnet.torch.tensor import Size, Tensor


class _BinaryTrials(Distribution):
    """A ``total_count`` and a success probability (``probs`` or ``logits``), broadcast
    together, as Binomial and NegativeBinomial take them."""

    arg_constraints = {"total_count": constraints.nonnegative_integer,
                       "probs": constraints.unit_interval, "logits": constraints.real}

    def __init__(self, total_count: Any, probs: Any, logits: Any,
                 validate_args: bool | None) -> None:
        name = type(self).__name__
        probs, logits = _probs_or_logits(probs, logits, name)
        self._given = "probs" if probs is not None else "logits"
        count, param = _broadcast_all(total_count, probs if logits is None else logits)
        # PyTorch checks (and describes) the parameters once broadcast together
        params = {"total_count": count.to(param.dtype), self._given: param}
        _check("total_count", count, self.arg_constraints["total_count"], validate_args, name,
               params)
        if probs is not None:
            _check("probs", param, self.arg_constraints["probs"], validate_args, name, params)
            self.probs = param
            self.logits = binary_logits(self.probs)
        else:
            self.logits = param
            self.probs = self.logits.sigmoid()
        self.total_count: Tensor = params["total_count"]
        self.batch_shape = Size(tuple(self.probs.shape))
        self._validate_args = validate_args

    def _params(self) -> dict[str, Any]:
        return {"total_count": self.total_count, self._given: getattr(self, self._given)}


class Binomial(_BinaryTrials):
    """``Binomial(total_count=1, probs=None, logits=None)``: successes in
    ``total_count`` independent trials of success probability ``probs``.

    PyTorch equivalent: ``torch.distributions.Binomial`` (its draws are not PyTorch's:
    see the module's note).
    """

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self) -> constraints.Constraint:
        return constraints.integer_interval(0, self.total_count)

    def __init__(self, total_count: Any = 1, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        super().__init__(total_count, probs, logits, validate_args)

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.probs

    @property
    def mode(self) -> Tensor:
        out: Tensor = ((self.total_count + 1) * self.probs).floor().clamp(
            max=self.total_count)
        return out

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Counts (float, as PyTorch's) of ``total_count`` uniform draws below ``probs``
        (the largest count is read on the host)."""
        from fnnet.torch._autograd import no_grad

        shape = self._extended(sample_shape)
        trials = int(self.total_count.max().item()) if self.total_count.numel() else 0
        with no_grad():
            u = _functions.rand(*shape, trials)
            counted = _functions.arange(trials) < self.total_count.expand(*shape).unsqueeze(-1)
            success = u < self.probs.detach().expand(*shape).unsqueeze(-1)
            return (success & counted).sum(-1).to(self.probs.dtype)

    def log_prob(self, value: Any) -> Tensor:
        value = self._validate_sample(value)
        n, logits = self.total_count, self.logits
        # n * log(1 + e^logits), in a form finite for logits of either sign
        normaliser = n * logits.clamp(min=0) + n * (-logits.abs()).exp().log1p()
        out: Tensor = (value * logits + (n + 1).lgamma() - (value + 1).lgamma()
                       - (n - value + 1).lgamma() - normaliser)
        return out

    def _homogeneous(self, who: str) -> int:
        """The one ``total_count`` of the batch (read on the host)."""
        counts = np.asarray(self.total_count.detach().numpy())
        if counts.size and counts.min() != counts.max():
            raise NotImplementedError(f"Inhomogeneous total count not supported by `{who}`.")
        return int(counts.max()) if counts.size else 0

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """``0, 1, ..., total_count`` along a new first axis (``total_count`` the same
        for the whole batch), expanded over the batch unless ``expand=False``."""
        count = self._homogeneous("enumerate_support")
        values = _functions.arange(count + 1, dtype=self.probs.dtype)
        values = values.reshape(-1, *(1,) * len(self.batch_shape))
        return values.expand(-1, *self.batch_shape) if expand else values

    def entropy(self) -> Tensor:
        self._homogeneous("entropy")
        log_prob = self.log_prob(self.enumerate_support(False))
        out: Tensor = -(log_prob.exp() * log_prob).sum(0)
        return out


class Multinomial(Distribution):
    """``Multinomial(total_count=1, probs=None, logits=None)``: how many of
    ``total_count`` draws of a ``Categorical`` fall in each category (the last axis).

    PyTorch equivalent: ``torch.distributions.Multinomial``.
    """

    def __init__(self, total_count: int = 1, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        if not isinstance(total_count, int) or isinstance(total_count, bool):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits,
                                        validate_args=validate_args)
        self.probs, self.logits = self._categorical.probs, self._categorical.logits
        self._binomial = Binomial(total_count, self.probs)
        self.batch_shape = self._categorical.batch_shape
        self.event_shape = Size(tuple(self.probs.shape[-1:]))
        self._validate_args = validate_args

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self) -> constraints.Constraint:
        return constraints.multinomial(self.total_count)

    @property
    def mean(self) -> Tensor:
        return self.probs * self.total_count

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """``total_count`` category draws per sample (``Categorical``'s, PyTorch's after
        ``manual_seed``), counted per category."""
        from fnnet.torch._autograd import no_grad

        with no_grad():
            draws = self._categorical.sample((self.total_count, *_shape(sample_shape)))
            counts = F.one_hot(draws, int(self.probs.shape[-1])).sum(0)
            return counts.to(self.probs.dtype).expand(*self._extended(sample_shape))

    def log_prob(self, value: Any) -> Tensor:
        value = self._validate_sample(value)
        logits, value = _shape_ops.broadcast_tensors(self.logits, value)
        # 0 * log(0) is 0: a category of probability 0 that has no count
        logits = logits.masked_fill((value == 0) & (logits == float("-inf")), 0.0)
        out: Tensor = ((value.sum(-1) + 1).lgamma() - (value + 1).lgamma().sum(-1)
                       + (logits * value).sum(-1))
        return out

    def entropy(self) -> Tensor:
        n = float(self.total_count)
        support = self._binomial.enumerate_support(False)[1:]
        binomial_probs = self._binomial.log_prob(support).exp()
        weighted = (binomial_probs * (support + 1).lgamma()).sum((0, -1))
        out: Tensor = n * self._categorical.entropy() - math.lgamma(n + 1) + weighted
        return out


class NegativeBinomial(_BinaryTrials):
    """``NegativeBinomial(total_count, probs=None, logits=None)``: successes (of
    probability ``probs``) before ``total_count`` failures.

    PyTorch equivalent: ``torch.distributions.NegativeBinomial`` (no entropy, as there).
    """

    arg_constraints = {"total_count": constraints.greater_than_eq(0),
                       "probs": constraints.half_open_interval(0.0, 1.0),
                       "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count: Any, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        super().__init__(total_count, probs, logits, validate_args)


    @property
    def mean(self) -> Tensor:
        return self.total_count * self.logits.exp()

    @property
    def mode(self) -> Tensor:
        out: Tensor = ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)
        return out

    @property
    def variance(self) -> Tensor:
        out: Tensor = self.mean / (-self.logits).sigmoid()
        return out

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """A Poisson draw of a Gamma draw of the rate, each PyTorch's after
        ``manual_seed``."""
        from fnnet.torch import _misc_ops
        from fnnet.torch._autograd import no_grad

        with no_grad():
            rate = Gamma(self.total_count, (-self.logits).exp(),
                         validate_args=False).sample(sample_shape)
            return _misc_ops.poisson(rate)

    def log_prob(self, value: Any) -> Tensor:
        value = self._validate_sample(value)
        n = self.total_count
        unnormalised = n * F.logsigmoid(-self.logits) + value * F.logsigmoid(self.logits)
        normaliser = -(n + value).lgamma() + (1.0 + value).lgamma() + n.lgamma()
        # no successes and no failures to wait for: probability 1
        normaliser = normaliser.masked_fill(n + value == 0.0, 0.0)
        out: Tensor = unnormalised - normaliser
        return out


@register_kl(Binomial, Binomial)
def _kl_binomial(p: Binomial, q: Binomial) -> Tensor:
    counts_p, counts_q = (np.asarray(d.total_count.detach().numpy()) for d in (p, q))
    if np.any(counts_p < counts_q):
        raise NotImplementedError("KL between Binomials where q.total_count > "
                                  "p.total_count is not implemented")
    out: Tensor = p.total_count * (p.probs * (p.logits - q.logits) + (-p.probs).log1p()
                                   - (-q.probs).log1p())
    return out.masked_fill(p.total_count > q.total_count, float("inf"))
