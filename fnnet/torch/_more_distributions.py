"""``torch.distributions``' Laplace, Exponential, Poisson, LogNormal and StudentT, with
PyTorch's parameters, checks, moments and methods (``sample``, ``rsample``, ``log_prob``,
``entropy``, ``cdf`` and ``icdf`` where PyTorch has them), written with fnnet.torch's
tensor operations as :mod:`fnnet.torch.distributions` is."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from fnnet.torch import _functions, _random, _shape_ops
from fnnet.torch.distributions import (
    _NONNEGATIVE,
    _POSITIVE,
    REAL,
    Distribution,
    Gamma,
    Normal,
    Support,
    TransformedDistribution,
    _check,
    _Located,
    _LocationScale,
    _tensor,
)
from fnnet.torch.tensor import Size, Tensor, _wrap_value

#: the float32 eps PyTorch draws its uniforms above (a log of 0 is never taken)
_EPS = float(np.finfo(np.float32).eps)


class Laplace(_LocationScale):
    """``Laplace(loc, scale)``: density ``exp(-|x - loc| / scale) / (2 scale)``.

    PyTorch equivalent: ``torch.distributions.Laplace``.
    """

    @property
    def variance(self) -> Tensor:
        return 2 * self.scale.pow(2)

    @property
    def stddev(self) -> Tensor:
        return math.sqrt(2) * self.scale

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """``loc - scale * sign(u) * log(1 - |u|)``, ``u`` uniform on ``(-1, 1)``:
        differentiable in both parameters."""
        u = _functions.rand(*self._extended(sample_shape)) * (2 - _EPS) - (1 - _EPS)
        out: Tensor = self.loc - self.scale * u.sign() * (-u.abs()).log1p()
        return out

    def log_prob(self, value: Any) -> Tensor:
        value = self._validate_sample(value)
        out: Tensor = -(2 * self.scale).log() - (value - self.loc).abs() / self.scale
        return out

    def cdf(self, value: Any) -> Tensor:
        diff = self._validate_sample(value) - self.loc
        out: Tensor = 0.5 - 0.5 * diff.sign() * (-diff.abs() / self.scale).expm1()
        return out

    def icdf(self, value: Any) -> Tensor:
        term = _tensor(value) - 0.5
        out: Tensor = self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()
        return out

    def entropy(self) -> Tensor:
        out: Tensor = 1 + (2 * self.scale).log()
        return out


class _Rated(Distribution):
    """A distribution of one ``rate`` parameter, checked against
    ``_rate_constraint`` (PyTorch's words) by ``_rate_test``."""

    _rate_constraint = _POSITIVE

    @staticmethod
    def _rate_test(rate: Any) -> Any:
        return rate > 0

    def __init__(self, rate: Any, validate_args: bool | None = None) -> None:
        _check("rate", rate, self._rate_test, self._rate_constraint, validate_args,
               type(self).__name__, {"rate": rate})
        self.rate = _tensor(rate)
        self.batch_shape = Size(tuple(self.rate.shape))
        self._validate_args = validate_args

    def _params(self) -> dict[str, Any]:
        return {"rate": self.rate}


class Exponential(_Rated):
    """``Exponential(rate)``: density ``rate * exp(-rate x)`` on ``x >= 0``.

    PyTorch equivalent: ``torch.distributions.Exponential``.
    """

    has_rsample = True

    def _support(self) -> Support:
        return _NONNEGATIVE, lambda v: v >= 0

    @property
    def mean(self) -> Tensor:
        out: Tensor = self.rate.reciprocal()
        return out

    @property
    def mode(self) -> Tensor:
        return _functions.zeros_like(self.rate)

    @property
    def stddev(self) -> Tensor:
        return self.mean

    @property
    def variance(self) -> Tensor:
        return self.rate.pow(-2)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """``-log(u) / rate``: differentiable in ``rate``."""
        u = _functions.rand(*self._extended(sample_shape)).clamp(min=_EPS)
        out: Tensor = -u.log() / self.rate
        return out

    def log_prob(self, value: Any) -> Tensor:
        value = self._validate_sample(value)
        out: Tensor = self.rate.log() - self.rate * value
        return out

    def cdf(self, value: Any) -> Tensor:
        out: Tensor = 1 - (-self.rate * self._validate_sample(value)).exp()
        return out

    def icdf(self, value: Any) -> Tensor:
        out: Tensor = -(-_tensor(value)).log1p() / self.rate
        return out

    def entropy(self) -> Tensor:
        out: Tensor = 1.0 - self.rate.log()
        return out


class Poisson(_Rated):
    """``Poisson(rate)``: counts ``k`` with probability ``rate^k e^-rate / k!``.

    PyTorch equivalent: ``torch.distributions.Poisson`` (no rsample, entropy or cdf,
    as there).
    """

    _rate_constraint = _NONNEGATIVE

    @staticmethod
    def _rate_test(rate: Any) -> Any:
        return rate >= 0

    def _support(self) -> Support:
        return "IntegerGreaterThan(lower_bound=0)", lambda v: (v % 1 == 0) & (v >= 0)

    @property
    def mean(self) -> Tensor:
        return self.rate

    @property
    def mode(self) -> Tensor:
        out: Tensor = self.rate.floor()
        return out

    @property
    def variance(self) -> Tensor:
        return self.rate

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Counts (float, as PyTorch's), drawn now by a numpy generator seeded from
        fnnet.torch's key (the rates are read)."""
        shape = self._extended(sample_shape)
        rate = np.broadcast_to(np.asarray(self.rate.detach().numpy(), np.float64), shape)
        return _wrap_value(_random.state.numpy_rng().poisson(rate).astype(np.float32))

    def log_prob(self, value: Any) -> Tensor:
        value, rate = _shape_ops.broadcast_tensors(self._validate_sample(value), self.rate)
        out: Tensor = value.xlogy(rate) - rate - (value + 1).lgamma()
        return out


class LogNormal(TransformedDistribution):
    """``LogNormal(loc, scale)``: ``exp`` of a ``Normal(loc, scale)``.

    PyTorch equivalent: ``torch.distributions.LogNormal``.
    """

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        from fnnet.torch._transforms import ExpTransform

        super().__init__(Normal(loc, scale, validate_args=validate_args), ExpTransform(),
                         validate_args=validate_args)
        self._validate_args = validate_args

    def __repr__(self) -> str:
        return "LogNormal()"

    def _support(self) -> Support:
        return _POSITIVE, lambda v: v > 0

    @property
    def loc(self) -> Tensor:
        loc: Tensor = self.base_dist.loc
        return loc

    @property
    def scale(self) -> Tensor:
        scale: Tensor = self.base_dist.scale
        return scale

    @property
    def mean(self) -> Tensor:
        return (self.loc + self.scale.pow(2) / 2).exp()

    @property
    def mode(self) -> Tensor:
        return (self.loc - self.scale.pow(2)).exp()

    @property
    def variance(self) -> Tensor:
        square = self.scale.pow(2)
        out: Tensor = square.expm1() * (2 * self.loc + square).exp()
        return out

    def log_prob(self, value: Any) -> Tensor:
        return super().log_prob(self._validate_sample(value))

    def cdf(self, value: Any) -> Tensor:
        out: Tensor = self.base_dist.cdf(self._validate_sample(value).log())
        return out

    def icdf(self, value: Any) -> Tensor:
        out: Tensor = self.base_dist.icdf(value).exp()
        return out

    def entropy(self) -> Tensor:
        out: Tensor = self.base_dist.entropy() + self.loc
        return out


class StudentT(_Located):
    """``StudentT(df, loc=0, scale=1)``: Student's t with ``df`` degrees of freedom.

    PyTorch equivalent: ``torch.distributions.StudentT`` (no cdf, as there).
    """

    has_rsample = True

    def __init__(self, df: Any, loc: Any = 0.0, scale: Any = 1.0,
                 validate_args: bool | None = None) -> None:
        # PyTorch checks df first, in the chi-squared distribution it draws from
        _check("df", df, lambda v: v > 0, _POSITIVE, validate_args, "Chi2", {})
        _check("scale", scale, lambda v: v > 0, _POSITIVE, validate_args, "StudentT",
               {"df": df, "loc": loc, "scale": scale})
        self.df, self.loc, self.scale = _shape_ops.broadcast_tensors(
            _tensor(df), _tensor(loc), _tensor(scale))
        self.batch_shape = Size(tuple(self.df.shape))
        self._validate_args = validate_args

    def _params(self) -> dict[str, Any]:
        return {"df": self.df, "loc": self.loc, "scale": self.scale}

    def _support(self) -> Support:
        return REAL

    @property
    def mean(self) -> Tensor:
        return _functions.where(self.df > 1, self.loc, float("nan"))

    @property
    def variance(self) -> Tensor:
        df, square = self.df, self.scale.pow(2)
        finite = square * df / (df - 2).clamp(min=_EPS)
        # infinite for 1 < df <= 2, undefined for df <= 1
        return _functions.where(df > 2, finite,
                                _functions.where(df > 1, float("inf"), float("nan")))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """``loc + scale * x / sqrt(z / df)``, ``x`` standard normal and ``z`` a
        chi-squared draw of ``df`` degrees: differentiable in all three parameters."""
        shape = self._extended(sample_shape)
        x = _functions.randn(*shape)
        z = Gamma(0.5 * self.df, 0.5, validate_args=False).rsample(sample_shape)
        out: Tensor = self.loc + self.scale * x * (z / self.df).rsqrt()
        return out

    def log_prob(self, value: Any) -> Tensor:
        y = (self._validate_sample(value) - self.loc) / self.scale
        df = self.df
        norm = (self.scale.log() + 0.5 * df.log() + 0.5 * math.log(math.pi)
                + (0.5 * df).lgamma() - (0.5 * (df + 1.0)).lgamma())
        out: Tensor = -0.5 * (df + 1.0) * (y.pow(2) / df).log1p() - norm
        return out

    def entropy(self) -> Tensor:
        df = self.df
        log_beta = (0.5 * df).lgamma() + math.lgamma(0.5) - (0.5 * (df + 1)).lgamma()
        out: Tensor = (self.scale.log() + 0.5 * (df + 1)
                       * ((0.5 * (df + 1)).digamma() - (0.5 * df).digamma())
                       + 0.5 * df.log() + log_beta)
        return out
