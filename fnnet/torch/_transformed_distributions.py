"""``torch.distributions`` that PyTorch builds by transforming another: ``Weibull``,
``Pareto``, ``HalfCauchy``, ``InverseGamma``, ``Kumaraswamy``, ``RelaxedBernoulli`` and
``RelaxedOneHotCategorical``, and ``FisherSnedecor``, a ratio of two Gamma draws
(re-exported by :mod:`fnnet.torch.distributions`).

Each is a :class:`~fnnet.torch.distributions.TransformedDistribution` of the same base
and transforms as PyTorch's, so its ``log_prob`` is the base's through the transforms
and its draws are the base's transformed: PyTorch's after ``manual_seed``, as the base's
are (``Exponential``, ``Cauchy``, ``Gamma`` and uniform draws).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from fnnet.torch import _constraints as constraints
from fnnet.torch import _functions, _shape_ops
from fnnet.torch import _transforms as transforms_module
from fnnet.torch._distributions_core import (
    _POSITIVE,
    Categorical,
    Cauchy,
    Distribution,
    Exponential,
    Gamma,
    TransformedDistribution,
    Uniform,
    _broadcast_all,
    _check,
    _host,
    _probs_or_logits,
    _tensor,
    binary_logits,
    register_kl,
)
from fnnet.torch.tensor import Size, Tensor

#: Euler's constant (the mean of a standard Gumbel), in Weibull's entropy
_EULER = 0.57721566490153286060


def _clamp_probs(probs: Tensor) -> Tensor:
    """``probs`` a float32 eps inside (0, 1), as PyTorch's ``clamp_probs``."""
    eps = float(np.finfo(np.float32).eps)
    return probs.clamp(min=eps, max=1 - eps)


def _check_positive(distribution: str, params: dict[str, Any],
                    validate_args: bool | None) -> None:
    for name, value in params.items():
        _check(name, value, _POSITIVE, validate_args, distribution, params)


class Weibull(TransformedDistribution):
    """``Weibull(scale, concentration)``: ``scale * E ** (1 / concentration)`` for a
    standard exponential ``E``.

    PyTorch equivalent: ``torch.distributions.Weibull``.
    """

    def __init__(self, scale: Any, concentration: Any,
                 validate_args: bool | None = None) -> None:
        _check_positive("Weibull", {"scale": scale, "concentration": concentration},
                        validate_args)
        self.scale, self.concentration = _broadcast_all(scale, concentration)
        self.concentration_reciprocal = self.concentration.reciprocal()
        super().__init__(Exponential(_functions.ones_like(self.scale)),
                         [transforms_module.PowerTransform(self.concentration_reciprocal),
                          transforms_module.AffineTransform(0, self.scale)])
        self._validate_args = validate_args

    def _params(self) -> dict[str, Any]:
        return {"scale": self.scale, "concentration": self.concentration}

    arg_constraints = {"scale": constraints.positive, "concentration": constraints.positive}
    support = constraints.positive

    @property
    def mean(self) -> Tensor:
        out: Tensor = self.scale * (1 + self.concentration_reciprocal).lgamma().exp()
        return out

    @property
    def mode(self) -> Tensor:
        k = self.concentration
        out: Tensor = self.scale * ((k - 1) / k).pow(k.reciprocal())
        return out

    @property
    def variance(self) -> Tensor:
        r = self.concentration_reciprocal
        out: Tensor = self.scale.pow(2) * ((1 + 2 * r).lgamma().exp()
                                           - (2 * (1 + r).lgamma()).exp())
        return out

    def entropy(self) -> Tensor:
        r = self.concentration_reciprocal
        out: Tensor = _EULER * (1 - r) + (self.scale * r).log() + 1
        return out


class Pareto(TransformedDistribution):
    """``Pareto(scale, alpha)``: ``scale * exp(E)`` for ``E ~ Exponential(alpha)``,
    density ``alpha scale^alpha / x^(alpha + 1)`` on ``x >= scale``.

    PyTorch equivalent: ``torch.distributions.Pareto``.
    """

    def __init__(self, scale: Any, alpha: Any, validate_args: bool | None = None) -> None:
        self.scale, self.alpha = _broadcast_all(scale, alpha)
        # PyTorch's base checks alpha first, as its rate
        _check("rate", alpha, _POSITIVE, validate_args, "Exponential",
               {"rate": self.alpha})
        _check_positive("Pareto", {"alpha": alpha, "scale": scale}, validate_args)
        super().__init__(Exponential(self.alpha),
                         [transforms_module.ExpTransform(),
                          transforms_module.AffineTransform(0, self.scale)])
        self._validate_args = validate_args

    def _params(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "scale": self.scale}

    arg_constraints = {"alpha": constraints.positive, "scale": constraints.positive}

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self) -> constraints.Constraint:
        return constraints.greater_than_eq(self.scale)

    @property
    def mean(self) -> Tensor:
        a = self.alpha.clamp(min=1)  # infinite for alpha <= 1
        out: Tensor = a * self.scale / (a - 1)
        return out

    @property
    def mode(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        a = self.alpha.clamp(min=2)  # infinite for alpha <= 2
        out: Tensor = self.scale.pow(2) * a / ((a - 1).pow(2) * (a - 2))
        return out

    def entropy(self) -> Tensor:
        out: Tensor = (self.scale / self.alpha).log() + (1 + self.alpha.reciprocal())
        return out


class HalfCauchy(TransformedDistribution):
    """``HalfCauchy(scale)``: ``|X|`` for ``X ~ Cauchy(0, scale)``.

    PyTorch equivalent: ``torch.distributions.HalfCauchy``.
    """

    def __init__(self, scale: Any, validate_args: bool | None = None) -> None:
        # PyTorch's message names no parameter: they are its base's
        _check("scale", scale, _POSITIVE, validate_args, "HalfCauchy", {})
        super().__init__(Cauchy(0.0, scale, validate_args=False),
                         transforms_module.AbsTransform())
        self._validate_args = validate_args

    @property
    def scale(self) -> Tensor:
        scale: Tensor = self.base_dist.scale
        return scale

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative

    @property
    def mean(self) -> Tensor:
        return _functions.full_like(self.scale, float("inf"))

    @property
    def mode(self) -> Tensor:
        return _functions.zeros_like(self.scale)

    @property
    def variance(self) -> Tensor:
        variance: Tensor = self.base_dist.variance
        return variance

    def log_prob(self, value: Any) -> Tensor:
        """Twice the Cauchy density on ``x >= 0``; ``-inf`` below."""
        value = self._validate_sample(value)
        log_prob = self.base_dist.log_prob(value) + math.log(2)
        out: Tensor = log_prob.masked_fill(value < 0, float("-inf"))
        return out

    def cdf(self, value: Any) -> Tensor:
        out: Tensor = 2 * self.base_dist.cdf(self._validate_sample(value)) - 1
        return out

    def icdf(self, prob: Any) -> Tensor:
        out: Tensor = self.base_dist.icdf((_tensor(prob) + 1) / 2)
        return out

    def entropy(self) -> Tensor:
        out: Tensor = self.base_dist.entropy() - math.log(2)
        return out


class InverseGamma(TransformedDistribution):
    """``InverseGamma(concentration, rate)``: ``1 / X`` for ``X ~ Gamma(concentration,
    rate)``.

    PyTorch equivalent: ``torch.distributions.InverseGamma``.
    """

    def __init__(self, concentration: Any, rate: Any,
                 validate_args: bool | None = None) -> None:
        base = Gamma(concentration, rate, validate_args=validate_args)  # checks both
        super().__init__(base, transforms_module.PowerTransform(-1.0))
        self._validate_args = validate_args

    @property
    def concentration(self) -> Tensor:
        concentration: Tensor = self.base_dist.concentration
        return concentration

    @property
    def rate(self) -> Tensor:
        rate: Tensor = self.base_dist.rate
        return rate

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive

    @property
    def mean(self) -> Tensor:
        c = self.concentration
        return _functions.where(c > 1, self.rate / (c - 1), float("inf"))

    @property
    def mode(self) -> Tensor:
        out: Tensor = self.rate / (self.concentration + 1)
        return out

    @property
    def variance(self) -> Tensor:
        c = self.concentration
        spread = self.rate.pow(2) / ((c - 1).pow(2) * (c - 2))
        return _functions.where(c > 2, spread, float("inf"))

    def entropy(self) -> Tensor:
        c = self.concentration
        out: Tensor = c + self.rate.log() + c.lgamma() - (1 + c) * c.digamma()
        return out


def _kumaraswamy_moment(a: Tensor, b: Tensor, n: int) -> Tensor:
    """``E[X^n]`` of ``Kumaraswamy(a, b)``: ``b B(1 + n / a, b)``."""
    shifted = 1 + n / a
    out: Tensor = b * (shifted.lgamma() + b.lgamma() - (shifted + b).lgamma()).exp()
    return out


class Kumaraswamy(TransformedDistribution):
    """``Kumaraswamy(concentration1, concentration0)`` on ``(0, 1)``: density ``a b
    x^(a - 1) (1 - x^a)^(b - 1)``, drawn as ``(1 - U^(1 / b))^(1 / a)``.

    PyTorch equivalent: ``torch.distributions.Kumaraswamy``.
    """

    def __init__(self, concentration1: Any, concentration0: Any,
                 validate_args: bool | None = None) -> None:
        _check_positive("Kumaraswamy", {"concentration1": concentration1,
                                         "concentration0": concentration0}, validate_args)
        self.concentration1, self.concentration0 = _broadcast_all(concentration1,
                                                                  concentration0)
        base = Uniform(_functions.zeros_like(self.concentration0),
                       _functions.ones_like(self.concentration0), validate_args=False)
        super().__init__(base, [
            transforms_module.PowerTransform(self.concentration0.reciprocal()),
            transforms_module.AffineTransform(1.0, -1.0),
            transforms_module.PowerTransform(self.concentration1.reciprocal())])
        self._validate_args = validate_args

    def _params(self) -> dict[str, Any]:
        return {"concentration1": self.concentration1, "concentration0": self.concentration0}

    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval

    @property
    def mean(self) -> Tensor:
        return _kumaraswamy_moment(self.concentration1, self.concentration0, 1)

    @property
    def mode(self) -> Tensor:
        """PyTorch's expression, in log space; NaN where a concentration is below 1."""
        b, a = self.concentration0, self.concentration1
        log_mode = b.reciprocal() * (-b).log1p() - (-b * a).log1p()
        out: Tensor = log_mode.masked_fill((b < 1) | (a < 1), float("nan")).exp()
        return out

    @property
    def variance(self) -> Tensor:
        out: Tensor = _kumaraswamy_moment(self.concentration1, self.concentration0, 2) \
            - self.mean.pow(2)
        return out

    def entropy(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        harmonic = (b + 1).digamma() + _EULER
        out: Tensor = (1 - b.reciprocal()) + (1 - a.reciprocal()) * harmonic - a.log() - b.log()
        return out


class FisherSnedecor(Distribution):
    """``FisherSnedecor(df1, df2)``: the F distribution, ``(X1 / df1) / (X2 / df2)`` for
    chi-squared ``X1``, ``X2`` of ``df1`` and ``df2`` degrees of freedom.

    PyTorch equivalent: ``torch.distributions.FisherSnedecor`` (no entropy, as there).
    """

    has_rsample = True

    def __init__(self, df1: Any, df2: Any, validate_args: bool | None = None) -> None:
        self.df1, self.df2 = _broadcast_all(df1, df2)
        # PyTorch's words: its two Gamma distributions check the degrees of freedom
        for given, df in ((df1, self.df1), (df2, self.df2)):
            held = _host(given)  # the concentration, df / 2, is what PyTorch shows
            _check("concentration", given if held is None else held * 0.5,
                   _POSITIVE, validate_args, "Gamma",
                   {"concentration": df * 0.5, "rate": df})
        self.batch_shape = Size(tuple(self.df1.shape))
        self._validate_args = validate_args

    def _params(self) -> dict[str, Any]:
        return {"df1": self.df1, "df2": self.df2}

    arg_constraints = {"df1": constraints.positive, "df2": constraints.positive}
    support = constraints.positive

    def _df2_above(self, bound: float) -> Tensor:
        """``df2``, NaN where it is not above ``bound`` (a moment that does not exist)."""
        out: Tensor = self.df2.masked_fill(self.df2 <= bound, float("nan"))
        return out

    @property
    def mean(self) -> Tensor:
        df2 = self._df2_above(2)
        out: Tensor = df2 / (df2 - 2)
        return out

    @property
    def mode(self) -> Tensor:
        mode = (self.df1 - 2) / self.df1 * self.df2 / (self.df2 + 2)
        out: Tensor = mode.masked_fill(self.df1 <= 2, float("nan"))
        return out

    @property
    def variance(self) -> Tensor:
        df1, df2 = self.df1, self._df2_above(4)
        out: Tensor = 2 * df2.pow(2) * (df1 + df2 - 2) / (df1 * (df2 - 2).pow(2) * (df2 - 4))
        return out

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """A ratio of Gamma draws (PyTorch's after ``manual_seed``), kept above the
        smallest normal float."""
        tiny = float(np.finfo(np.float32).tiny)
        x1 = Gamma(self.df1 * 0.5, self.df1, validate_args=False).rsample(sample_shape)
        x2 = Gamma(self.df2 * 0.5, self.df2, validate_args=False).rsample(sample_shape)
        out: Tensor = (x1 / x2.clamp(min=tiny)).clamp(min=tiny)
        return out

    def log_prob(self, value: Any) -> Tensor:
        value = self._validate_sample(value)
        half1, half2, ratio = self.df1 * 0.5, self.df2 * 0.5, self.df1 / self.df2
        normaliser = (half1 + half2).lgamma() - half1.lgamma() - half2.lgamma()
        out: Tensor = (normaliser + half1 * ratio.log() + (half1 - 1) * value.log()
                       - (half1 + half2) * (ratio * value).log1p())
        return out


class _Tempered(Distribution):
    """A ``temperature`` with ``probs`` or ``logits``: the relaxed distributions' bases."""

    has_rsample = True
    _given: str  # "probs" or "logits", the parameter given

    def _params(self) -> dict[str, Any]:
        return {self._given: getattr(self, self._given)}


class LogitRelaxedBernoulli(_Tempered):
    """The logit of a ``RelaxedBernoulli``: ``(logistic noise + logits) / temperature``.

    PyTorch equivalent: ``torch.distributions.relaxed_bernoulli.LogitRelaxedBernoulli``.
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real

    def __init__(self, temperature: Any, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        probs, logits = _probs_or_logits(probs, logits, "LogitRelaxedBernoulli")
        self._given = "probs" if probs is not None else "logits"
        if probs is not None:
            _check("probs", probs, constraints.unit_interval, validate_args,
                   "LogitRelaxedBernoulli", {"probs": probs})
            self.probs = _tensor(probs)
            self.logits = binary_logits(self.probs)
        else:
            self.logits = _tensor(logits)
            self.probs = self.logits.sigmoid()
        self.temperature = _tensor(temperature)
        self.batch_shape = Size(tuple(self.probs.shape))
        self._validate_args = validate_args

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended(sample_shape)
        probs = _clamp_probs(self.probs.expand(*shape))
        u = _clamp_probs(_functions.rand(*shape))
        out: Tensor = (u.log() - (-u).log1p() + probs.log() - (-probs).log1p()) \
            / self.temperature
        return out

    def log_prob(self, value: Any) -> Tensor:
        logits, value = _shape_ops.broadcast_tensors(self.logits,
                                                     self._validate_sample(value))
        diff = logits - value * self.temperature
        out: Tensor = self.temperature.log() + diff - 2 * diff.exp().log1p()
        return out


class _Relaxed(TransformedDistribution):
    """A tempered base (:class:`_Tempered`) through one transform, with the base's
    ``temperature``, ``probs`` and ``logits``."""

    @property
    def temperature(self) -> Tensor:
        temperature: Tensor = self.base_dist.temperature
        return temperature

    @property
    def probs(self) -> Tensor:
        probs: Tensor = self.base_dist.probs
        return probs

    @property
    def logits(self) -> Tensor:
        logits: Tensor = self.base_dist.logits
        return logits


class RelaxedBernoulli(_Relaxed):
    """``RelaxedBernoulli(temperature, probs=None, logits=None)``: a Bernoulli relaxed
    to ``(0, 1)`` (the sigmoid of :class:`LogitRelaxedBernoulli`), with ``rsample``.

    PyTorch equivalent: ``torch.distributions.RelaxedBernoulli``.
    """

    def __init__(self, temperature: Any, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        super().__init__(LogitRelaxedBernoulli(temperature, probs, logits, validate_args),
                         transforms_module.SigmoidTransform())
        self._validate_args = validate_args

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval


class ExpRelaxedCategorical(_Tempered):
    """The log of a ``RelaxedOneHotCategorical``: Gumbel-softmax scores in log space.

    PyTorch equivalent: ``torch.distributions.relaxed_categorical.ExpRelaxedCategorical``.
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.real_vector

    def __init__(self, temperature: Any, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        self._categorical = Categorical(probs, logits, validate_args=validate_args)
        self._given = self._categorical._given
        self.probs, self.logits = self._categorical.probs, self._categorical.logits
        self.temperature = _tensor(temperature)
        self.batch_shape = self._categorical.batch_shape
        self.event_shape = Size(tuple(self.probs.shape[-1:]))
        self._validate_args = validate_args

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        u = _clamp_probs(_functions.rand(*self._extended(sample_shape)))
        gumbels = -(-u.log()).log()
        scores = (self.logits + gumbels) / self.temperature
        out: Tensor = scores - scores.logsumexp(-1, keepdim=True)
        return out

    def log_prob(self, value: Any) -> Tensor:
        value = self._validate_sample(value)
        k = int(self.probs.shape[-1])
        logits, value = _shape_ops.broadcast_tensors(self.logits, value)
        # the density's normaliser: (K - 1)! temperature^(K - 1)
        log_scale = math.lgamma(k) + (k - 1) * self.temperature.log()
        score = logits - value * self.temperature
        out: Tensor = (score - score.logsumexp(-1, keepdim=True)).sum(-1) + log_scale
        return out


class RelaxedOneHotCategorical(_Relaxed):
    """``RelaxedOneHotCategorical(temperature, probs=None, logits=None)``: the
    Gumbel-softmax (concrete) relaxation of a one-hot categorical, on the simplex.

    PyTorch equivalent: ``torch.distributions.RelaxedOneHotCategorical``.
    """

    def __init__(self, temperature: Any, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        super().__init__(ExpRelaxedCategorical(temperature, probs, logits, validate_args),
                         transforms_module.ExpTransform())
        self._validate_args = validate_args

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.simplex


@register_kl(Pareto, Pareto)
def _kl_pareto(p: Pareto, q: Pareto) -> Tensor:
    alpha_ratio = q.alpha / p.alpha
    out: Tensor = (q.alpha * (p.scale / q.scale).log() - alpha_ratio.log() + alpha_ratio - 1)
    return out.masked_fill(p.scale < q.scale, float("inf"))
