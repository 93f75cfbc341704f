"""``torch.distributions.constraint_registry``: ``biject_to`` and ``transform_to``, the
transforms from unconstrained space onto a constraint's region (keep a parameter
positive as ``transform_to(constraints.positive)(raw)``; sample a posterior in
unconstrained space through ``biject_to(d.support)``), registered per constraint class
as PyTorch's are, so a transform's gradient flows to the unconstrained value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, overload

from fnnet.torch import _constraints as constraints
from fnnet.torch import _transforms as transforms

__all__ = ["ConstraintRegistry", "biject_to", "transform_to"]

Factory = Callable[[Any], transforms.Transform]


class ConstraintRegistry:
    """Constraint classes to the factories of their transforms.

    PyTorch equivalent: ``torch.distributions.constraint_registry.ConstraintRegistry``.
    """

    def __init__(self) -> None:
        self._registry: dict[type, Factory] = {}

    @overload
    def register(self, constraint: Any, factory: None = None) -> Callable[[Factory], Factory]:
        ...

    @overload
    def register(self, constraint: Any, factory: Factory) -> Factory:
        ...

    def register(self, constraint: Any, factory: Factory | None = None) -> Any:
        """Registers ``factory(constraint) -> Transform`` for a constraint class (or the
        class of a constraint object); used as a decorator without ``factory``.

        Raises:
            TypeError: ``constraint`` is neither, in PyTorch's words.
        """
        if factory is None:
            return lambda factory: self.register(constraint, factory)
        if isinstance(constraint, constraints.Constraint):
            constraint = type(constraint)
        if not isinstance(constraint, type) or not issubclass(constraint,
                                                              constraints.Constraint):
            raise TypeError(f"Expected constraint to be either a Constraint subclass or "
                            f"instance, but got {constraint}")
        self._registry[constraint] = factory
        return factory

    def __call__(self, constraint: constraints.Constraint) -> transforms.Transform:
        """The transform onto ``constraint``'s region.

        Raises:
            NotImplementedError: none is registered for its class (PyTorch's words).
        """
        try:
            factory = self._registry[type(constraint)]
        except KeyError:
            raise NotImplementedError(f"Cannot transform {type(constraint).__name__} "
                                      f"constraints") from None
        return factory(constraint)


biject_to = ConstraintRegistry()
transform_to = ConstraintRegistry()


@biject_to.register(constraints.real)
@transform_to.register(constraints.real)
def _transform_to_real(constraint: Any) -> transforms.Transform:
    return transforms.identity_transform


@biject_to.register(constraints.independent)
def _biject_to_independent(constraint: Any) -> transforms.Transform:
    return transforms.IndependentTransform(biject_to(constraint.base_constraint),
                                           constraint.reinterpreted_batch_ndims)


@transform_to.register(constraints.independent)
def _transform_to_independent(constraint: Any) -> transforms.Transform:
    return transforms.IndependentTransform(transform_to(constraint.base_constraint),
                                           constraint.reinterpreted_batch_ndims)


@biject_to.register(constraints.positive)
@biject_to.register(constraints.nonnegative)
@transform_to.register(constraints.positive)
@transform_to.register(constraints.nonnegative)
def _transform_to_positive(constraint: Any) -> transforms.Transform:
    return transforms.ExpTransform()


@biject_to.register(constraints.greater_than)
@biject_to.register(constraints.greater_than_eq)
@transform_to.register(constraints.greater_than)
@transform_to.register(constraints.greater_than_eq)
def _transform_to_greater_than(constraint: Any) -> transforms.Transform:
    return transforms.ComposeTransform([transforms.ExpTransform(),
                                        transforms.AffineTransform(constraint.lower_bound, 1)])


@biject_to.register(constraints.less_than)
@transform_to.register(constraints.less_than)
def _transform_to_less_than(constraint: Any) -> transforms.Transform:
    return transforms.ComposeTransform([transforms.ExpTransform(),
                                        transforms.AffineTransform(constraint.upper_bound, -1)])


@biject_to.register(constraints.interval)
@biject_to.register(constraints.half_open_interval)
@transform_to.register(constraints.interval)
@transform_to.register(constraints.half_open_interval)
def _transform_to_interval(constraint: Any) -> transforms.Transform:
    # the unit interval, given as numbers, is the sigmoid alone
    lower, upper = constraint.lower_bound, constraint.upper_bound
    if isinstance(lower, int | float) and lower == 0 and \
            isinstance(upper, int | float) and upper == 1:
        return transforms.SigmoidTransform()
    return transforms.ComposeTransform([transforms.SigmoidTransform(),
                                        transforms.AffineTransform(lower, upper - lower)])


@biject_to.register(constraints.simplex)
def _biject_to_simplex(constraint: Any) -> transforms.Transform:
    return transforms.StickBreakingTransform()


@transform_to.register(constraints.simplex)
def _transform_to_simplex(constraint: Any) -> transforms.Transform:
    return transforms.SoftmaxTransform()


@transform_to.register(constraints.lower_cholesky)
def _transform_to_lower_cholesky(constraint: Any) -> transforms.Transform:
    return transforms.LowerCholeskyTransform()


@transform_to.register(constraints.positive_definite)
@transform_to.register(constraints.positive_semidefinite)
def _transform_to_positive_definite(constraint: Any) -> transforms.Transform:
    return transforms.PositiveDefiniteTransform()


@biject_to.register(constraints.corr_cholesky)
@transform_to.register(constraints.corr_cholesky)
def _transform_to_corr_cholesky(constraint: Any) -> transforms.Transform:
    return transforms.CorrCholeskyTransform()


@biject_to.register(constraints.cat)
@biject_to.register(constraints.stack)
@transform_to.register(constraints.cat)
@transform_to.register(constraints.stack)
def _transform_to_blocks(constraint: Any) -> transforms.Transform:
    name = "CatTransform" if isinstance(constraint, constraints.cat) else "StackTransform"
    raise NotImplementedError(f"fnnet.torch does not support {name} (biject_to/transform_to "
                              f"of constraints.{name[:-9].lower()}); transform each block "
                              f"with its own constraint's transform and concatenate them")
