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

Each class has PyTorch's ``arg_constraints`` and ``support``, objects of
``constraints`` (:mod:`fnnet.torch._constraints`), which the checks use; ``biject_to``
and ``transform_to`` (:mod:`fnnet.torch._constraint_registry`) give the transform onto a
constraint's region, and ``utils`` the helpers a program's own ``Distribution`` subclass
is written with.
"""

from __future__ import annotations

import types
from typing import Any

from fnnet.torch import _constraint_registry as constraint_registry_module
from fnnet.torch import _constraints as constraints_module
from fnnet.torch import _distribution_utils as utils_module
from fnnet.torch import _transforms as transforms_module
from fnnet.torch._constraint_registry import biject_to, transform_to
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
    ExpRelaxedCategorical,  # noqa: F401  # only in relaxed_categorical, as PyTorch's
    FisherSnedecor,
    HalfCauchy,
    InverseGamma,
    Kumaraswamy,
    LogitRelaxedBernoulli,  # noqa: F401  # only in relaxed_bernoulli
    Pareto,
    RelaxedBernoulli,
    RelaxedOneHotCategorical,
    Weibull,
)
from fnnet.torch._transforms import (  # PyTorch's names here too (D.TanhTransform)
    AbsTransform,
    AffineTransform,
    ComposeTransform,
    CorrCholeskyTransform,
    ExpTransform,
    IndependentTransform,
    LowerCholeskyTransform,
    PositiveDefiniteTransform,
    PowerTransform,
    SigmoidTransform,
    SoftmaxTransform,
    SoftplusTransform,
    StickBreakingTransform,
    TanhTransform,
    Transform,
    identity_transform,
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
           "AffineTransform", "ComposeTransform", "CorrCholeskyTransform", "ExpTransform",
           "IndependentTransform", "LowerCholeskyTransform", "PositiveDefiniteTransform",
           "PowerTransform", "SigmoidTransform", "SoftmaxTransform", "SoftplusTransform",
           "StickBreakingTransform", "TanhTransform", "Transform", "identity_transform",
           "biject_to", "transform_to", "constraints", "constraint_registry", "utils"]

#: ``torch.distributions.transforms`` (``from torch.distributions.transforms import
#: TanhTransform``: a ``__path__`` lets the import system ask fnnet.torch's finder for it)
transforms = transforms_module
#: ``torch.distributions.constraints`` and ``constraint_registry`` (``biject_to``)
constraints = constraints_module
constraint_registry = constraint_registry_module
#: ``torch.distributions.utils`` (``broadcast_all``, ``lazy_property``)
utils = utils_module
__path__: list[str] = []


#: PyTorch's module of each distribution (``from torch.distributions.categorical import
#: Categorical``, as CleanRL and many RL repositories write it) and the names it holds
#: that fnnet.torch provides; each is a namespace of this module's classes.
MODULES: dict[str, tuple[str, ...]] = {
    "bernoulli": ("Bernoulli",), "beta": ("Beta",), "binomial": ("Binomial",),
    "categorical": ("Categorical",), "cauchy": ("Cauchy",), "chi2": ("Chi2",),
    "continuous_bernoulli": ("ContinuousBernoulli",), "dirichlet": ("Dirichlet",),
    "distribution": ("Distribution",), "exponential": ("Exponential",),
    "fishersnedecor": ("FisherSnedecor",), "gamma": ("Gamma",), "geometric": ("Geometric",),
    "gumbel": ("Gumbel",), "half_cauchy": ("HalfCauchy",), "half_normal": ("HalfNormal",),
    "independent": ("Independent",), "inverse_gamma": ("InverseGamma",),
    "kl": ("kl_divergence", "register_kl"), "kumaraswamy": ("Kumaraswamy",),
    "laplace": ("Laplace",), "log_normal": ("LogNormal",),
    "lowrank_multivariate_normal": ("LowRankMultivariateNormal",),
    "mixture_same_family": ("MixtureSameFamily",), "multinomial": ("Multinomial",),
    "multivariate_normal": ("MultivariateNormal",),
    "negative_binomial": ("NegativeBinomial",), "normal": ("Normal",),
    "one_hot_categorical": ("OneHotCategorical", "OneHotCategoricalStraightThrough"),
    "pareto": ("Pareto",), "poisson": ("Poisson",),
    "relaxed_bernoulli": ("LogitRelaxedBernoulli", "RelaxedBernoulli"),
    "relaxed_categorical": ("ExpRelaxedCategorical", "RelaxedOneHotCategorical"),
    "studentT": ("StudentT",),
    "transformed_distribution": ("TransformedDistribution",), "uniform": ("Uniform",),
    "weibull": ("Weibull",),
}


def _unsupported(name: str) -> str:
    return (f"fnnet.torch does not support torch.distributions.{name}; write its "
            f"log-density with fnnet.torch's tensor operations, or use jax.random and "
            f"jax.scipy.stats")


def _module(child: str) -> types.ModuleType:
    """The namespace ``torch.distributions.<child>``: PyTorch's names in it that
    fnnet.torch provides, and NotImplementedError for the others (``LogitRelaxedBernoulli``
    of ``relaxed_bernoulli``)."""
    module = types.ModuleType(f"{__name__}.{child}", f"``torch.distributions.{child}``.")
    for name in MODULES[child]:
        setattr(module, name, globals()[name])
    module.__all__ = list(MODULES[child])  # type: ignore[attr-defined]

    # named so, as Unsupported tells a ``from ... import`` by its caller's name
    def __getattr__(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise Unsupported(_unsupported(f"{child}.{name}"))

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    return module


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    if name in MODULES:
        globals()[name] = _module(name)
        return globals()[name]
    raise Unsupported(_unsupported(name))
