"""``torch.distributions``: the distributions a VAE or a policy-gradient loop draws from.

``Normal``, ``MultivariateNormal``, ``LowRankMultivariateNormal``
(:mod:`fnnet.torch._low_rank_normal`), ``Uniform``, ``Bernoulli``, ``Categorical``,
``Gamma``, ``Beta``, ``Dirichlet`` (mixup's mixing weights), ``MixtureSameFamily`` (a
Gaussian mixture), ``TransformedDistribution`` (a tanh-squashed policy), ``Laplace``,
``Exponential``, ``Poisson``, ``LogNormal``, ``StudentT``, the counts ``Binomial``,
``Multinomial`` and ``NegativeBinomial`` (:mod:`fnnet.torch._count_distributions`),
``ContinuousBernoulli`` (:mod:`fnnet.torch._continuous_bernoulli`) and
``Weibull``, ``Pareto``, ``HalfCauchy``, ``InverseGamma``, ``Kumaraswamy``,
``FisherSnedecor``, ``RelaxedBernoulli`` and ``RelaxedOneHotCategorical``
(:mod:`fnnet.torch._transformed_distributions`), with
PyTorch's parameters, properties and methods (``sample``, ``rsample`` where PyTorch has
it, ``log_prob``, ``entropy``), and ``kl_divergence`` between two of a kind. ``log_prob``
checks its value
as PyTorch's default validation does (see :meth:`Distribution._validate_sample`). They
are written with fnnet.torch's tensor operations, so a loss built from them is recorded
into the step and differentiated with it; samples drawn on the host are PyTorch's after
``manual_seed`` (see docs/torch_random.md), those drawn inside a recorded step come from
fnnet.torch's key. A parameter given as a Python number, or as a tensor whose values
the host holds (made from a list or numpy), is checked at once, as PyTorch checks it; a
tensor computed by the step is not read to be checked (that would wait for the device at
every step) unless ``validate_args=True``.
"""

from __future__ import annotations

from typing import Any

from fnnet.torch import _transforms as transforms_module
from fnnet.torch._continuous_bernoulli import ContinuousBernoulli
from fnnet.torch._count_distributions import Binomial, Multinomial, NegativeBinomial
from fnnet.torch._distributions_core import (
    Bernoulli,
    Beta,
    Categorical,
    Cauchy,
    Chi2,
    Dirichlet,
    Distribution,
    Exponential,
    Gamma,
    Geometric,
    Gumbel,
    HalfNormal,
    Independent,
    Laplace,
    LogNormal,
    MixtureSameFamily,
    MultivariateNormal,
    Normal,
    OneHotCategorical,
    OneHotCategoricalStraightThrough,
    Poisson,
    StudentT,
    TransformedDistribution,
    Uniform,
    kl_divergence,
    register_kl,
)
from fnnet.torch._low_rank_normal import LowRankMultivariateNormal
from fnnet.torch._transformed_distributions import (
    FisherSnedecor,
    HalfCauchy,
    InverseGamma,
    Kumaraswamy,
    Pareto,
    RelaxedBernoulli,
    RelaxedOneHotCategorical,
    Weibull,
)
from fnnet.torch._transforms import (  # PyTorch's names here too (D.TanhTransform)
    AbsTransform,
    AffineTransform,
    ExpTransform,
    PowerTransform,
    SigmoidTransform,
    TanhTransform,
    Transform,
)
from fnnet.torch.tensor import Unsupported

__all__ = ["Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "Chi2",
           "ContinuousBernoulli", "Dirichlet",
           "Distribution", "Exponential", "FisherSnedecor", "Gamma", "Geometric", "Gumbel",
           "HalfCauchy", "HalfNormal", "Independent", "InverseGamma", "Kumaraswamy",
           "Laplace", "LogNormal", "LowRankMultivariateNormal", "MixtureSameFamily",
           "Multinomial", "MultivariateNormal",
           "NegativeBinomial", "Normal", "OneHotCategorical",
           "OneHotCategoricalStraightThrough", "Pareto", "Poisson", "RelaxedBernoulli",
           "RelaxedOneHotCategorical", "StudentT", "TransformedDistribution", "Uniform",
           "Weibull", "kl_divergence", "register_kl", "transforms", "AbsTransform",
           "AffineTransform", "ExpTransform", "PowerTransform", "SigmoidTransform",
           "TanhTransform", "Transform"]

#: ``torch.distributions.transforms`` (``from torch.distributions.transforms import
#: TanhTransform``: a ``__path__`` lets the import system ask fnnet.torch's finder for it)
transforms = transforms_module
__path__: list[str] = []


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise Unsupported(f"fnnet.torch does not support torch.distributions.{name}; write its "
                      f"log-density with fnnet.torch's tensor operations, or use "
                      f"jax.random and jax.scipy.stats")
