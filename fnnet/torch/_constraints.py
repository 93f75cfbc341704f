"""``torch.distributions.constraints``: the regions a distribution's parameters and
values live in (``Normal.arg_constraints["scale"]`` is ``positive``, ``Uniform(a,
b).support`` is ``interval(a, b)``), for argument validation and for
``biject_to``/``transform_to`` (:mod:`fnnet.torch._constraint_registry`).

Each constraint's test is written once, over an :class:`_Ops` of array operations:
``check(value)`` runs it with fnnet.torch's tensor operations (recorded like any other
op, a bool tensor of ``value``'s shape less ``event_dim`` dimensions, as PyTorch's), and
argument validation runs it with numpy on values the host already holds, so that a
check never waits for the device (see ``_distributions_core._check``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["Constraint", "boolean", "cat", "corr_cholesky", "dependent",
           "dependent_property", "greater_than", "greater_than_eq", "independent",
           "integer_interval", "interval", "half_open_interval", "is_dependent", "less_than",
           "lower_cholesky", "lower_triangular", "MixtureSameFamilyConstraint", "multinomial",
           "nonnegative", "nonnegative_integer", "one_hot", "positive",
           "positive_semidefinite", "positive_definite", "positive_integer", "real",
           "real_vector", "simplex", "square", "stack", "symmetric", "unit_interval"]


class Unread(Exception):
    """A bound the host does not hold (a tensor the step computes): the numpy test
    cannot run without waiting for the device."""


class _Ops:
    """The array operations a constraint's test uses: fnnet.torch's tensor operations."""

    def bound(self, value: Any) -> Any:
        return value

    def all(self, value: Any, dim: int) -> Any:
        return value.all(dim)

    def dim(self, value: Any) -> int:
        return int(value.dim())

    def reshape(self, value: Any, shape: tuple[int, ...]) -> Any:
        return value.reshape(shape)

    def unsqueeze(self, value: Any, dim: int) -> Any:
        return value.unsqueeze(dim)

    def tril(self, value: Any) -> Any:
        return value.tril()

    def diagonal(self, value: Any) -> Any:
        return value.diagonal(dim1=-2, dim2=-1)

    def isclose_transpose(self, value: Any) -> Any:
        from fnnet.torch import _functions

        return _functions.isclose(value, value.mT, atol=1e-6)

    def cholesky_ok(self, value: Any) -> Any:
        from fnnet.torch import linalg

        return linalg.cholesky_ex(value).info.eq(0)

    def eigvalsh(self, value: Any) -> Any:
        from fnnet.torch import linalg

        return linalg.eigvalsh(value)

    def row_norm(self, value: Any) -> Any:
        from fnnet.torch import linalg

        return linalg.norm(value.detach(), dim=-1)

    def eps(self, value: Any) -> float:
        return float(np.finfo(value.dtype.np).eps)

    def full(self, shape: tuple[int, ...], fill: bool) -> Any:
        from fnnet.torch import _functions
        from fnnet.torch._dtypes import bool_

        return _functions.full(shape, fill, dtype=bool_)

    def cat(self, values: list[Any], dim: int) -> Any:
        from fnnet.torch import _functions

        return _functions.cat(values, dim)

    def stack(self, values: list[Any], dim: int) -> Any:
        from fnnet.torch import _functions

        return _functions.stack(values, dim)

    def narrow(self, value: Any, dim: int, start: int, length: int) -> Any:
        return value.narrow(dim, start, length)

    def select(self, value: Any, dim: int, index: int) -> Any:
        return value.select(dim, index)


class NumpyOps(_Ops):
    """The same operations on numpy arrays, for values the host holds; ``bound`` gives a
    tensor bound's values where the host holds them (or reads them where ``read``),
    else raises :class:`Unread`."""

    def __init__(self, read: bool = False) -> None:
        self.read = read

    def bound(self, value: Any) -> Any:
        from fnnet.torch.tensor import Tensor, host_value

        if not isinstance(value, Tensor):
            return value
        held = host_value(value)
        if held is None:
            if not self.read:
                raise Unread
            held = np.asarray(value.detach().numpy())
        return held

    def all(self, value: Any, dim: int) -> Any:
        return np.all(value, axis=dim)

    def dim(self, value: Any) -> int:
        return int(np.ndim(value))

    def reshape(self, value: Any, shape: tuple[int, ...]) -> Any:
        return np.reshape(value, shape)

    def unsqueeze(self, value: Any, dim: int) -> Any:
        return np.expand_dims(value, dim)

    def tril(self, value: Any) -> Any:
        return np.tril(value)

    def diagonal(self, value: Any) -> Any:
        return np.diagonal(value, axis1=-2, axis2=-1)

    def isclose_transpose(self, value: Any) -> Any:
        return np.isclose(value, np.swapaxes(value, -1, -2), atol=1e-6)

    def cholesky_ok(self, value: Any) -> Any:
        flat = np.reshape(value, (-1, *np.shape(value)[-2:]))
        ok = np.ones(len(flat), bool)
        for i, matrix in enumerate(flat):
            try:
                np.linalg.cholesky(matrix)
            except np.linalg.LinAlgError:
                ok[i] = False
        return ok.reshape(np.shape(value)[:-2])

    def eigvalsh(self, value: Any) -> Any:
        return np.linalg.eigvalsh(value)

    def row_norm(self, value: Any) -> Any:
        return np.linalg.norm(value, axis=-1)

    def eps(self, value: Any) -> float:
        return float(np.finfo(np.asarray(value).dtype).eps)

    def full(self, shape: tuple[int, ...], fill: bool) -> Any:
        return np.full(shape, fill)

    def cat(self, values: list[Any], dim: int) -> Any:
        return np.concatenate(values, dim)

    def stack(self, values: list[Any], dim: int) -> Any:
        return np.stack(values, dim)

    def narrow(self, value: Any, dim: int, start: int, length: int) -> Any:
        return np.take(value, range(start, start + length), axis=dim)

    def select(self, value: Any, dim: int, index: int) -> Any:
        return np.take(value, index, axis=dim)


_TENSOR_OPS = _Ops()


class Constraint:
    """A region a variable is valid in.

    Attributes:
        is_discrete: whether the region is discrete.
        event_dim: how many rightmost dimensions make one event (``check`` reduces them).

    PyTorch equivalent: ``torch.distributions.constraints.Constraint``.
    """

    is_discrete = False
    event_dim = 0

    def check(self, value: Any) -> Any:
        """A bool tensor of ``sample_shape + batch_shape``: whether each event of
        ``value`` satisfies the constraint."""
        return self._test(value, _TENSOR_OPS)

    def _test(self, value: Any, ops: _Ops) -> Any:
        # a constraint of the program's own (inside independent() or cat()): its check,
        # which takes a tensor
        if type(self).check is Constraint.check:
            raise NotImplementedError
        if isinstance(ops, NumpyOps):
            from fnnet.torch import _functions

            result = self.check(_functions.as_tensor(value))
            return np.asarray(result.numpy() if hasattr(result, "numpy") else result)
        return self.check(value)

    def __repr__(self) -> str:
        return type(self).__name__[1:] + "()"


def holds(constraint: Constraint, value: np.ndarray, read: bool = False) -> bool:
    """Whether every event of ``value`` (held by the host) satisfies ``constraint``,
    tested with numpy; a constraint of the program's own (its own ``check``) is asked
    with a tensor of ``value`` (see :meth:`Constraint._test`).

    Raises:
        Unread: a bound the host does not hold (``read`` False).
    """
    return bool(np.all(constraint._test(value, NumpyOps(read))))


class _Dependent(Constraint):
    """A placeholder for a variable whose region depends on others: not checked, and
    ``is_discrete``/``event_dim`` known only where given."""

    def __init__(self, *, is_discrete: Any = NotImplemented,
                 event_dim: Any = NotImplemented) -> None:
        self._is_discrete = is_discrete
        self._event_dim = event_dim

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        if self._is_discrete is NotImplemented:
            raise NotImplementedError(".is_discrete cannot be determined statically")
        return bool(self._is_discrete)

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        if self._event_dim is NotImplemented:
            raise NotImplementedError(".event_dim cannot be determined statically")
        return int(self._event_dim)

    def __call__(self, *, is_discrete: Any = NotImplemented,
                 event_dim: Any = NotImplemented) -> _Dependent:
        """``constraints.dependent(is_discrete=True, event_dim=1)``: one with those."""
        if is_discrete is NotImplemented:
            is_discrete = self._is_discrete
        if event_dim is NotImplemented:
            event_dim = self._event_dim
        return _Dependent(is_discrete=is_discrete, event_dim=event_dim)

    def check(self, x: Any) -> Any:
        raise ValueError("Cannot determine validity of dependent constraint")


def is_dependent(constraint: Any) -> bool:
    """Whether ``constraint`` is a dependent one (not checked).

    PyTorch equivalent: ``torch.distributions.constraints.is_dependent``.
    """
    return isinstance(constraint, _Dependent)


class _DependentProperty(property, _Dependent):
    """A property that is a dependent constraint on the class (``Uniform.support``) and
    the region its function returns on an instance.

    PyTorch equivalent: ``torch.distributions.constraints.dependent_property``.
    """

    def __init__(self, fn: Callable[..., Any] | None = None, *,
                 is_discrete: Any = NotImplemented, event_dim: Any = NotImplemented) -> None:
        property.__init__(self, fn)
        self._is_discrete = is_discrete
        self._event_dim = event_dim

    def __call__(self, fn: Callable[..., Any]) -> _DependentProperty:  # type: ignore[override]
        """``@constraints.dependent_property(is_discrete=True, event_dim=1)``."""
        return _DependentProperty(fn, is_discrete=self._is_discrete,
                                  event_dim=self._event_dim)


class _IndependentConstraint(Constraint):
    """``base_constraint`` over events of ``reinterpreted_batch_ndims`` more dimensions:
    an event is valid where all its entries are."""

    def __init__(self, base_constraint: Constraint, reinterpreted_batch_ndims: int) -> None:
        if not isinstance(base_constraint, Constraint):
            raise AssertionError(f"base_constraint must be a Constraint, got "
                                 f"{type(base_constraint).__name__}")
        if not isinstance(reinterpreted_batch_ndims, int):
            raise AssertionError(f"reinterpreted_batch_ndims must be an int, got "
                                 f"{type(reinterpreted_batch_ndims).__name__}")
        if reinterpreted_batch_ndims < 0:
            raise AssertionError(f"reinterpreted_batch_ndims must be >= 0, got "
                                 f"{reinterpreted_batch_ndims}")
        self.base_constraint = base_constraint
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        return self.base_constraint.is_discrete

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        return self.base_constraint.event_dim + self.reinterpreted_batch_ndims

    def _test(self, value: Any, ops: _Ops) -> Any:
        result = self.base_constraint._test(value, ops)
        n = self.reinterpreted_batch_ndims
        if ops.dim(result) < n:
            raise ValueError(f"Expected value.dim() >= {self.base_constraint.event_dim + n} "
                             f"but got {ops.dim(value)}")
        shape = tuple(result.shape)
        return ops.all(ops.reshape(result, shape[:len(shape) - n] + (-1,)), -1)

    def __repr__(self) -> str:
        return (f"{type(self).__name__[1:]}({self.base_constraint!r}, "
                f"{self.reinterpreted_batch_ndims})")


class MixtureSameFamilyConstraint(Constraint):
    """The components' constraint of a ``MixtureSameFamily``, checked with the
    component dimension added back.

    PyTorch equivalent: ``torch.distributions.constraints.MixtureSameFamilyConstraint``.
    """

    def __init__(self, base_constraint: Constraint) -> None:
        if not isinstance(base_constraint, Constraint):
            raise AssertionError(f"base_constraint must be a Constraint, got "
                                 f"{type(base_constraint).__name__}")
        self.base_constraint = base_constraint

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        return self.base_constraint.is_discrete

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        return self.base_constraint.event_dim

    def _test(self, value: Any, ops: _Ops) -> Any:
        result = self.base_constraint._test(ops.unsqueeze(value, -1 - self.event_dim), ops)
        if ops.dim(value) < self.event_dim:
            raise ValueError(f"Expected value.dim() >= {self.event_dim} but got "
                             f"{ops.dim(value)}")
        keep = ops.dim(value) - self.event_dim
        shape = tuple(result.shape)
        return ops.all(ops.reshape(result, shape[:keep] + (-1,)), -1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_constraint!r})"


class _Boolean(Constraint):
    """The two values ``{0, 1}``."""

    is_discrete = True

    def _test(self, value: Any, ops: _Ops) -> Any:
        return (value == 0) | (value == 1)


class _OneHot(Constraint):
    """One-hot vectors."""

    is_discrete = True
    event_dim = 1

    def _test(self, value: Any, ops: _Ops) -> Any:
        return ops.all((value == 0) | (value == 1), -1) & (value.sum(-1) == 1)


class _IntegerInterval(Constraint):
    """Integers in ``[lower_bound, upper_bound]``."""

    is_discrete = True

    def __init__(self, lower_bound: Any, upper_bound: Any) -> None:
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def _test(self, value: Any, ops: _Ops) -> Any:
        return ((value % 1 == 0) & (ops.bound(self.lower_bound) <= value)
                & (value <= ops.bound(self.upper_bound)))

    def __repr__(self) -> str:
        return (f"{type(self).__name__[1:]}(lower_bound={self.lower_bound}, "
                f"upper_bound={self.upper_bound})")


class _IntegerLessThan(Constraint):
    """Integers in ``(-inf, upper_bound]``."""

    is_discrete = True

    def __init__(self, upper_bound: Any) -> None:
        self.upper_bound = upper_bound

    def _test(self, value: Any, ops: _Ops) -> Any:
        return (value % 1 == 0) & (value <= ops.bound(self.upper_bound))

    def __repr__(self) -> str:
        return f"{type(self).__name__[1:]}(upper_bound={self.upper_bound})"


class _IntegerGreaterThan(Constraint):
    """Integers in ``[lower_bound, inf)``."""

    is_discrete = True

    def __init__(self, lower_bound: Any) -> None:
        self.lower_bound = lower_bound

    def _test(self, value: Any, ops: _Ops) -> Any:
        return (value % 1 == 0) & (value >= ops.bound(self.lower_bound))

    def __repr__(self) -> str:
        return f"{type(self).__name__[1:]}(lower_bound={self.lower_bound})"


class _Real(Constraint):
    """The extended real line (anything but NaN)."""

    def _test(self, value: Any, ops: _Ops) -> Any:
        return value == value  # noqa: PLR0124  # False for NaN


class _GreaterThan(Constraint):
    """``(lower_bound, inf]``."""

    def __init__(self, lower_bound: Any) -> None:
        self.lower_bound = lower_bound

    def _test(self, value: Any, ops: _Ops) -> Any:
        return value > ops.bound(self.lower_bound)

    def __repr__(self) -> str:
        return f"{type(self).__name__[1:]}(lower_bound={self.lower_bound})"


class _GreaterThanEq(Constraint):
    """``[lower_bound, inf)``."""

    def __init__(self, lower_bound: Any) -> None:
        self.lower_bound = lower_bound

    def __repr__(self) -> str:
        return f"{type(self).__name__[1:]}(lower_bound={self.lower_bound})"

    def _test(self, value: Any, ops: _Ops) -> Any:
        return value >= ops.bound(self.lower_bound)


class _LessThan(Constraint):
    """``[-inf, upper_bound)``."""

    def __init__(self, upper_bound: Any) -> None:
        self.upper_bound = upper_bound

    def _test(self, value: Any, ops: _Ops) -> Any:
        return value < ops.bound(self.upper_bound)

    def __repr__(self) -> str:
        return f"{type(self).__name__[1:]}(upper_bound={self.upper_bound})"


class _Interval(Constraint):
    """``[lower_bound, upper_bound]``."""

    def __init__(self, lower_bound: Any, upper_bound: Any) -> None:
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def _test(self, value: Any, ops: _Ops) -> Any:
        return (ops.bound(self.lower_bound) <= value) & (value <= ops.bound(self.upper_bound))

    def __repr__(self) -> str:
        return (f"{type(self).__name__[1:]}(lower_bound={self.lower_bound}, "
                f"upper_bound={self.upper_bound})")


class _HalfOpenInterval(Constraint):
    """``[lower_bound, upper_bound)``."""

    def __init__(self, lower_bound: Any, upper_bound: Any) -> None:
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def __repr__(self) -> str:
        return (f"{type(self).__name__[1:]}(lower_bound={self.lower_bound}, "
                f"upper_bound={self.upper_bound})")

    def _test(self, value: Any, ops: _Ops) -> Any:
        return (ops.bound(self.lower_bound) <= value) & (value < ops.bound(self.upper_bound))


class _Simplex(Constraint):
    """The unit simplex of the last dimension: ``x >= 0`` and ``x.sum(-1) == 1`` (within
    1e-6)."""

    event_dim = 1

    def _test(self, value: Any, ops: _Ops) -> Any:
        return ops.all(value >= 0, -1) & (abs(value.sum(-1) - 1) < 1e-6)


class _Multinomial(Constraint):
    """Nonnegative integers summing to at most ``upper_bound`` (PyTorch's weaker test)."""

    is_discrete = True
    event_dim = 1

    def __init__(self, upper_bound: Any) -> None:
        self.upper_bound = upper_bound

    def _test(self, value: Any, ops: _Ops) -> Any:
        return ops.all(value >= 0, -1) & (value.sum(-1) <= ops.bound(self.upper_bound))


class _LowerTriangular(Constraint):
    """Lower-triangular square matrices."""

    event_dim = 2

    def _test(self, value: Any, ops: _Ops) -> Any:
        return ops.all(ops.all(ops.tril(value) == value, -1), -1)


class _LowerCholesky(Constraint):
    """Lower-triangular square matrices with a positive diagonal."""

    event_dim = 2

    def _test(self, value: Any, ops: _Ops) -> Any:
        lower = ops.all(ops.all(ops.tril(value) == value, -1), -1)
        return lower & ops.all(ops.diagonal(value) > 0, -1)


class _CorrCholesky(Constraint):
    """Lower Cholesky factors of correlation matrices: rows of unit length."""

    event_dim = 2

    def _test(self, value: Any, ops: _Ops) -> Any:
        tol = ops.eps(value) * value.shape[-1] * 10  # PyTorch's fudge factor of 10
        unit_rows = ops.all(abs(ops.row_norm(value) - 1.0) <= tol, -1)
        return _LowerCholesky()._test(value, ops) & unit_rows


class _Square(Constraint):
    """Square matrices."""

    event_dim = 2

    def _test(self, value: Any, ops: _Ops) -> Any:
        return ops.full(tuple(value.shape[:-2]), value.shape[-2] == value.shape[-1])


class _Symmetric(_Square):
    """Symmetric matrices (within 1e-6)."""

    def _test(self, value: Any, ops: _Ops) -> Any:
        square = _Square._test(self, value, ops)
        if not bool(square.all()):
            return square
        return ops.all(ops.all(ops.isclose_transpose(value), -2), -1)


class _PositiveSemidefinite(_Symmetric):
    """Symmetric matrices with no negative eigenvalue."""

    def _test(self, value: Any, ops: _Ops) -> Any:
        symmetric = _Symmetric._test(self, value, ops)
        if not bool(symmetric.all()):
            return symmetric
        return ops.all(ops.eigvalsh(value) >= 0, -1)


class _PositiveDefinite(_Symmetric):
    """Symmetric matrices with a Cholesky factor."""

    def _test(self, value: Any, ops: _Ops) -> Any:
        symmetric = _Symmetric._test(self, value, ops)
        if not bool(symmetric.all()):
            return symmetric
        return ops.cholesky_ok(value)


class _Cat(Constraint):
    """``cseq[i]`` on the ``i``-th block of ``lengths[i]`` along ``dim`` (as ``cat``)."""

    def __init__(self, cseq: Sequence[Constraint], dim: int = 0,
                 lengths: Sequence[int] | None = None) -> None:
        if not all(isinstance(c, Constraint) for c in cseq):
            raise AssertionError("All elements of cseq must be Constraint instances")
        self.cseq = list(cseq)
        self.lengths = list(lengths) if lengths is not None else [1] * len(self.cseq)
        if len(self.lengths) != len(self.cseq):
            raise AssertionError(f"lengths ({len(self.lengths)}) must match cseq "
                                 f"({len(self.cseq)})")
        self.dim = dim

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        return any(c.is_discrete for c in self.cseq)

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        return max(c.event_dim for c in self.cseq)

    def _test(self, value: Any, ops: _Ops) -> Any:
        if not -ops.dim(value) <= self.dim < ops.dim(value):
            raise AssertionError(f"dim {self.dim} out of range for value with "
                                 f"{ops.dim(value)} dimensions")
        checks, start = [], 0
        for constraint, length in zip(self.cseq, self.lengths, strict=True):
            checks.append(constraint._test(ops.narrow(value, self.dim, start, length), ops))
            start += length
        return ops.cat(checks, self.dim)


class _Stack(Constraint):
    """``cseq[i]`` on the ``i``-th slice along ``dim`` (as ``stack``)."""

    def __init__(self, cseq: Sequence[Constraint], dim: int = 0) -> None:
        if not all(isinstance(c, Constraint) for c in cseq):
            raise AssertionError("All elements of cseq must be Constraint instances")
        self.cseq, self.dim = list(cseq), dim

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        return any(c.is_discrete for c in self.cseq)

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        dim = max(c.event_dim for c in self.cseq)
        return dim + 1 if self.dim + dim < 0 else dim

    def _test(self, value: Any, ops: _Ops) -> Any:
        if not -ops.dim(value) <= self.dim < ops.dim(value):
            raise AssertionError(f"dim {self.dim} out of range for value with "
                                 f"{ops.dim(value)} dimensions")
        parts = [ops.select(value, self.dim, i) for i in range(value.shape[self.dim])]
        return ops.stack([c._test(v, ops) for v, c in zip(parts, self.cseq, strict=False)],
                         self.dim)


dependent = _Dependent()
dependent_property = _DependentProperty
independent = _IndependentConstraint
boolean = _Boolean()
one_hot = _OneHot()
nonnegative_integer = _IntegerGreaterThan(0)
positive_integer = _IntegerGreaterThan(1)
integer_interval = _IntegerInterval
real = _Real()
real_vector = independent(real, 1)
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
less_than = _LessThan
multinomial = _Multinomial
unit_interval = _Interval(0.0, 1.0)
interval = _Interval
half_open_interval = _HalfOpenInterval
simplex = _Simplex()
lower_triangular = _LowerTriangular()
lower_cholesky = _LowerCholesky()
corr_cholesky = _CorrCholesky()
square = _Square()
symmetric = _Symmetric()
positive_semidefinite = _PositiveSemidefinite()
positive_definite = _PositiveDefinite()
cat = _Cat
stack = _Stack
