"""``torch.distributions.transforms``: the maps of ``TransformedDistribution`` (a
squashed Gaussian policy, SAC's ``TransformedDistribution(Independent(Normal(mu, std),
1), [TanhTransform(cache_size=1)])``, a log-normal, a scaled and shifted base) and those
``biject_to``/``transform_to`` return onto a constraint's region (``ComposeTransform``,
``IndependentTransform``, ``StickBreakingTransform`` and ``SoftmaxTransform`` onto the
simplex, ``LowerCholeskyTransform``, ``PositiveDefiniteTransform``,
``CorrCholeskyTransform``).

A transform maps ``x`` in its ``domain`` to ``y`` in its ``codomain`` (constraints of
:mod:`fnnet.torch._constraints`), inverts, and gives ``log|dy/dx|``; with
``cache_size=1`` it remembers its last pair, so the ``log_prob`` of a sample it made
inverts exactly (``atanh(tanh(x))`` loses ``x`` where ``tanh`` saturates).
"""

from __future__ import annotations

import functools
import math
import operator
from typing import Any

import jax.numpy as jnp

from fnnet.torch import _constraints as constraints
from fnnet.torch.tensor import Tensor

__all__ = ["AbsTransform", "AffineTransform", "ComposeTransform", "CorrCholeskyTransform",
           "ExpTransform", "IndependentTransform", "LowerCholeskyTransform",
           "PositiveDefiniteTransform", "PowerTransform", "SigmoidTransform",
           "SoftmaxTransform", "SoftplusTransform", "StickBreakingTransform",
           "TanhTransform", "Transform", "identity_transform"]


def _sign(value: Any) -> Any:
    """-1, 0 or 1 for a number; ``value.sign()`` for a tensor."""
    if isinstance(value, Tensor):
        return value.sign()
    return (value > 0) - (value < 0)


def _sum_rightmost(value: Any, dims: int) -> Any:
    return value.reshape(*value.shape[:value.dim() - dims], -1).sum(-1) if dims > 0 else value


class Transform:
    """An invertible map with its log-Jacobian, from ``domain`` to ``codomain``.

    PyTorch equivalent: ``torch.distributions.transforms.Transform``.
    """

    bijective = False
    domain: constraints.Constraint
    codomain: constraints.Constraint

    def __init__(self, cache_size: int = 0) -> None:
        if cache_size not in (0, 1):
            raise ValueError("cache_size must be 0 or 1")
        self._cache_size = cache_size
        self._cached: tuple[Any, Any] | None = None
        self._inv: Transform | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_inv"] = None
        return state

    @property
    def sign(self) -> Any:
        """The sign of the Jacobian's determinant, for a bijective map of one variable
        (others have none: NotImplementedError, as PyTorch's)."""
        raise NotImplementedError

    @property
    def event_dim(self) -> int:
        if self.domain.event_dim == self.codomain.event_dim:
            return self.domain.event_dim
        raise ValueError("Please use either .domain.event_dim or .codomain.event_dim")

    def with_cache(self, cache_size: int = 1) -> Transform:
        """This transform with a cache of ``cache_size`` (0 or 1)."""
        if self._cache_size == cache_size:
            return self
        if type(self).__init__ is Transform.__init__:
            return type(self)(cache_size=cache_size)
        raise NotImplementedError(f"{type(self)}.with_cache is not implemented")

    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = object.__hash__

    def _through(self, value: Tensor, side: int, fn: Any) -> Tensor:
        """``fn(value)``, or the other side of the cached ``(x, y)`` pair where
        ``value`` is that pair's ``side`` (0 for ``x``, 1 for ``y``)."""
        if self._cached is not None and self._cached[side] is value:
            return self._cached[1 - side]  # type: ignore[no-any-return]
        out: Tensor = fn(value)
        if self._cache_size:
            self._cached = (value, out) if side == 0 else (out, value)
        return out

    def __call__(self, x: Tensor) -> Tensor:
        return self._through(x, 0, self._call)

    def _inv_call(self, y: Tensor) -> Tensor:
        return self._through(y, 1, self._inverse)

    @property
    def inv(self) -> Transform:
        """The inverse map, as a transform (``t.inv.inv is t``)."""
        if self._inv is None:
            self._inv = _InverseTransform(self)
        return self._inv

    def _call(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def _inverse(self, y: Tensor) -> Tensor:
        raise NotImplementedError

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        raise NotImplementedError

    def forward_shape(self, shape: Any) -> Any:
        return shape

    def inverse_shape(self, shape: Any) -> Any:
        return shape

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class _InverseTransform(Transform):
    """``t.inv``: ``t`` run backwards."""

    def __init__(self, transform: Transform) -> None:
        super().__init__(cache_size=transform._cache_size)
        self._inv = transform

    @property
    def _transform(self) -> Transform:
        assert self._inv is not None
        return self._inv

    @constraints.dependent_property(is_discrete=False)
    def domain(self) -> constraints.Constraint:
        return self._transform.codomain

    @constraints.dependent_property(is_discrete=False)
    def codomain(self) -> constraints.Constraint:
        return self._transform.domain

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return self._transform.bijective

    @property
    def sign(self) -> Any:
        return self._transform.sign

    @property
    def inv(self) -> Transform:
        return self._transform

    def with_cache(self, cache_size: int = 1) -> Transform:
        return self._transform.with_cache(cache_size).inv

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _InverseTransform) and self._transform == other._transform

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._transform!r})"

    def __call__(self, y: Tensor) -> Tensor:
        return self._transform._inv_call(y)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        out: Tensor = -self._transform.log_abs_det_jacobian(y, x)
        return out

    def forward_shape(self, shape: Any) -> Any:
        return self._transform.inverse_shape(shape)

    def inverse_shape(self, shape: Any) -> Any:
        return self._transform.forward_shape(shape)


class ComposeTransform(Transform):
    """``parts`` applied in order (each caches for itself).

    PyTorch equivalent: ``torch.distributions.transforms.ComposeTransform``.
    """

    def __init__(self, parts: list[Transform], cache_size: int = 0) -> None:
        if cache_size:
            parts = [part.with_cache(cache_size) for part in parts]
        super().__init__(cache_size=cache_size)
        self.parts = list(parts)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ComposeTransform) and self.parts == other.parts

    __hash__ = object.__hash__

    @constraints.dependent_property(is_discrete=False)
    def domain(self) -> constraints.Constraint:
        if not self.parts:
            return constraints.real
        domain = self.parts[0].domain
        event_dim = self.parts[-1].codomain.event_dim
        for part in reversed(self.parts):
            event_dim += part.domain.event_dim - part.codomain.event_dim
            event_dim = max(event_dim, part.domain.event_dim)
        if event_dim > domain.event_dim:
            domain = constraints.independent(domain, event_dim - domain.event_dim)
        return domain

    @constraints.dependent_property(is_discrete=False)
    def codomain(self) -> constraints.Constraint:
        if not self.parts:
            return constraints.real
        codomain = self.parts[-1].codomain
        event_dim = self.parts[0].domain.event_dim
        for part in self.parts:
            event_dim += part.codomain.event_dim - part.domain.event_dim
            event_dim = max(event_dim, part.codomain.event_dim)
        if event_dim > codomain.event_dim:
            codomain = constraints.independent(codomain, event_dim - codomain.event_dim)
        return codomain

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return all(p.bijective for p in self.parts)

    @property
    def sign(self) -> Any:
        sign: Any = 1
        for p in self.parts:
            sign = sign * p.sign
        return sign

    @property
    def inv(self) -> Transform:
        if self._inv is None:
            inv = ComposeTransform([p.inv for p in reversed(self.parts)])
            inv._inv = self
            self._inv = inv
        return self._inv

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return ComposeTransform(self.parts, cache_size=cache_size)

    def __call__(self, x: Tensor) -> Tensor:
        for part in self.parts:
            x = part(x)
        return x

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        if not self.parts:
            from fnnet.torch import _functions

            return _functions.zeros_like(x)
        xs = [x]
        for part in self.parts[:-1]:
            xs.append(part(xs[-1]))
        xs.append(y)
        terms = []
        event_dim = self.domain.event_dim
        for part, a, b in zip(self.parts, xs[:-1], xs[1:], strict=True):
            terms.append(_sum_rightmost(part.log_abs_det_jacobian(a, b),
                                        event_dim - part.domain.event_dim))
            event_dim += part.codomain.event_dim - part.domain.event_dim
        return functools.reduce(operator.add, terms)  # type: ignore[no-any-return]

    def forward_shape(self, shape: Any) -> Any:
        for part in self.parts:
            shape = part.forward_shape(shape)
        return shape

    def inverse_shape(self, shape: Any) -> Any:
        for part in reversed(self.parts):
            shape = part.inverse_shape(shape)
        return shape

    def __repr__(self) -> str:
        return (type(self).__name__ + "(\n    " + ",\n    ".join(repr(p) for p in self.parts)
                + "\n)")


#: the identity map, as PyTorch's (an empty composition)
identity_transform = ComposeTransform([])


class IndependentTransform(Transform):
    """``base_transform`` with ``reinterpreted_batch_ndims`` more rightmost dimensions
    read as one event: ``log_abs_det_jacobian`` sums them.

    PyTorch equivalent: ``torch.distributions.transforms.IndependentTransform``.
    """

    def __init__(self, base_transform: Transform, reinterpreted_batch_ndims: int,
                 cache_size: int = 0) -> None:
        super().__init__(cache_size=cache_size)
        self.base_transform = base_transform.with_cache(cache_size)
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return IndependentTransform(self.base_transform, self.reinterpreted_batch_ndims,
                                    cache_size=cache_size)

    @constraints.dependent_property(is_discrete=False)
    def domain(self) -> constraints.Constraint:
        return constraints.independent(self.base_transform.domain,
                                       self.reinterpreted_batch_ndims)

    @constraints.dependent_property(is_discrete=False)
    def codomain(self) -> constraints.Constraint:
        return constraints.independent(self.base_transform.codomain,
                                       self.reinterpreted_batch_ndims)

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return self.base_transform.bijective

    @property
    def sign(self) -> Any:
        return self.base_transform.sign

    def _call(self, x: Tensor) -> Tensor:
        if x.dim() < self.domain.event_dim:
            raise ValueError("Too few dimensions on input")
        return self.base_transform(x)

    def _inverse(self, y: Tensor) -> Tensor:
        if y.dim() < self.codomain.event_dim:
            raise ValueError("Too few dimensions on input")
        return self.base_transform.inv(y)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        out: Tensor = _sum_rightmost(self.base_transform.log_abs_det_jacobian(x, y),
                                     self.reinterpreted_batch_ndims)
        return out

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.base_transform!r}, "
                f"{self.reinterpreted_batch_ndims})")

    def forward_shape(self, shape: Any) -> Any:
        return self.base_transform.forward_shape(shape)

    def inverse_shape(self, shape: Any) -> Any:
        return self.base_transform.inverse_shape(shape)


class TanhTransform(Transform):
    """``y = tanh(x)``. PyTorch equivalent: ``torch.distributions.transforms.TanhTransform``."""

    domain = constraints.real
    codomain = constraints.interval(-1.0, 1.0)
    bijective = True
    sign = 1

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TanhTransform)

    __hash__ = object.__hash__

    def _call(self, x: Tensor) -> Tensor:
        return x.tanh()

    def _inverse(self, y: Tensor) -> Tensor:
        # not clamped, as PyTorch's: cache_size=1 is the way to invert its own samples
        out: Tensor = y.atanh()
        return out

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        from fnnet.torch.nn._activations import softplus

        # log(1 - tanh(x)^2), in the form that stays finite where tanh saturates
        out: Tensor = 2.0 * (math.log(2.0) - x - softplus(-2.0 * x))
        return out


def _clipped_sigmoid(x: Tensor) -> Tensor:
    finfo = jnp.finfo(x.dtype.np)
    out: Tensor = x.sigmoid().clamp(min=float(finfo.tiny), max=1.0 - float(finfo.eps))
    return out


class SigmoidTransform(Transform):
    """``y = sigmoid(x)``. PyTorch: ``torch.distributions.transforms.SigmoidTransform``."""

    domain = constraints.real
    codomain = constraints.unit_interval
    bijective = True
    sign = 1

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SigmoidTransform)

    __hash__ = object.__hash__

    def _call(self, x: Tensor) -> Tensor:
        return _clipped_sigmoid(x)

    def _inverse(self, y: Tensor) -> Tensor:
        finfo = jnp.finfo(y.dtype.np)
        y = y.clamp(min=float(finfo.tiny), max=1.0 - float(finfo.eps))
        out: Tensor = y.log() - (-y).log1p()
        return out

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        from fnnet.torch.nn._activations import softplus

        out: Tensor = -softplus(-x) - softplus(x)
        return out


class SoftplusTransform(Transform):
    """``y = log(1 + exp(x))``.

    PyTorch equivalent: ``torch.distributions.transforms.SoftplusTransform``.
    """

    domain = constraints.real
    codomain = constraints.positive
    bijective = True
    sign = 1

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SoftplusTransform)

    __hash__ = object.__hash__

    def _call(self, x: Tensor) -> Tensor:
        from fnnet.torch.nn._activations import softplus

        return softplus(x)

    def _inverse(self, y: Tensor) -> Tensor:
        out: Tensor = (-y).expm1().neg().log() + y
        return out

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        from fnnet.torch.nn._activations import softplus

        out: Tensor = -softplus(-x)
        return out


class ExpTransform(Transform):
    """``y = exp(x)``. PyTorch equivalent: ``torch.distributions.transforms.ExpTransform``."""

    domain = constraints.real
    codomain = constraints.positive
    bijective = True
    sign = 1

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ExpTransform)

    __hash__ = object.__hash__

    def _call(self, x: Tensor) -> Tensor:
        return x.exp()

    def _inverse(self, y: Tensor) -> Tensor:
        return y.log()

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return x


class AffineTransform(Transform):
    """``y = loc + scale * x``, over events of ``event_dim`` dimensions.

    PyTorch equivalent: ``torch.distributions.transforms.AffineTransform``.
    """

    bijective = True

    def __init__(self, loc: Any, scale: Any, event_dim: int = 0, cache_size: int = 0) -> None:
        super().__init__(cache_size)
        self.loc, self.scale = loc, scale
        self._event_dim = event_dim

    @property
    def event_dim(self) -> int:
        return self._event_dim

    @constraints.dependent_property(is_discrete=False)
    def domain(self) -> constraints.Constraint:
        if self.event_dim == 0:
            return constraints.real
        return constraints.independent(constraints.real, self.event_dim)

    @constraints.dependent_property(is_discrete=False)
    def codomain(self) -> constraints.Constraint:
        if self.event_dim == 0:
            return constraints.real
        return constraints.independent(constraints.real, self.event_dim)

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return AffineTransform(self.loc, self.scale, self.event_dim, cache_size=cache_size)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AffineTransform):
            return False
        for mine, theirs in ((self.loc, other.loc), (self.scale, other.scale)):
            if isinstance(mine, Tensor) or isinstance(theirs, Tensor):
                if not bool((mine == theirs).all()):
                    return False
            elif mine != theirs:
                return False
        return True

    __hash__ = object.__hash__

    @property
    def sign(self) -> Any:
        """The sign of ``scale``: whether the map increases."""
        return _sign(self.scale)

    def _call(self, x: Tensor) -> Tensor:
        out: Tensor = self.loc + self.scale * x
        return out

    def _inverse(self, y: Tensor) -> Tensor:
        out: Tensor = (y - self.loc) / self.scale
        return out

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        from fnnet.torch import _functions

        shape = tuple(x.shape)
        if isinstance(self.scale, Tensor):
            result = self.scale.abs().log()
        else:
            result = _functions.full_like(x, math.log(abs(self.scale)))
        if self.event_dim:
            result = result.reshape(*result.shape[:result.dim() - self.event_dim], -1).sum(-1)
            shape = shape[:len(shape) - self.event_dim]
        out: Tensor = result.expand(*shape)
        return out

    def forward_shape(self, shape: Any) -> Any:
        import numpy as np

        return tuple(np.broadcast_shapes(tuple(shape), tuple(getattr(self.loc, "shape", ())),
                                         tuple(getattr(self.scale, "shape", ()))))

    inverse_shape = forward_shape


class PowerTransform(Transform):
    """``y = x ** exponent`` on positive ``x``.

    PyTorch equivalent: ``torch.distributions.transforms.PowerTransform``.
    """

    domain = constraints.positive
    codomain = constraints.positive
    bijective = True

    def __init__(self, exponent: Any, cache_size: int = 0) -> None:
        super().__init__(cache_size)
        self.exponent = exponent

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return PowerTransform(self.exponent, cache_size=cache_size)

    @property
    def sign(self) -> Any:
        """The sign of ``exponent``: whether the map increases."""
        return _sign(self.exponent)

    def _call(self, x: Tensor) -> Tensor:
        return x.pow(self.exponent)

    def _inverse(self, y: Tensor) -> Tensor:
        return y.pow(1 / self.exponent)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        out: Tensor = (self.exponent * y / x).abs().log()
        return out


class AbsTransform(Transform):
    """``y = |x|``, inverted as ``y`` itself (not bijective: no log-Jacobian).

    PyTorch equivalent: ``torch.distributions.transforms.AbsTransform``.
    """

    domain = constraints.real
    codomain = constraints.positive

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AbsTransform)

    __hash__ = object.__hash__

    def _call(self, x: Tensor) -> Tensor:
        return x.abs()

    def _inverse(self, y: Tensor) -> Tensor:
        return y


class SoftmaxTransform(Transform):
    """``y = exp(x)`` normalised over the last dimension, onto the simplex (not
    bijective; its inverse is ``log``).

    PyTorch equivalent: ``torch.distributions.transforms.SoftmaxTransform``.
    """

    domain = constraints.real_vector
    codomain = constraints.simplex

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SoftmaxTransform)

    __hash__ = object.__hash__

    def _call(self, x: Tensor) -> Tensor:
        probs = (x - x.max(-1, True)[0]).exp()
        out: Tensor = probs / probs.sum(-1, True)
        return out

    def _inverse(self, y: Tensor) -> Tensor:
        return y.log()


class StickBreakingTransform(Transform):
    """The simplex of one more dimension, by stick breaking (an iterated sigmoid): a
    bijection, as a Dirichlet's unconstrained coordinates.

    PyTorch equivalent: ``torch.distributions.transforms.StickBreakingTransform``.
    """

    domain = constraints.real_vector
    codomain = constraints.simplex
    bijective = True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StickBreakingTransform)

    __hash__ = object.__hash__

    def _call(self, x: Tensor) -> Tensor:
        from fnnet.torch.nn import functional as F

        offset = x.shape[-1] + 1 - x.new_ones(x.shape[-1]).cumsum(-1)
        z = _clipped_sigmoid(x - offset.log())
        z_cumprod = (1 - z).cumprod(-1)
        out: Tensor = F.pad(z, [0, 1], value=1) * F.pad(z_cumprod, [1, 0], value=1)
        return out

    def _inverse(self, y: Tensor) -> Tensor:
        y_crop = y[..., :-1]
        offset = y.shape[-1] - y.new_ones(y_crop.shape[-1]).cumsum(-1)
        # clamped so that the remaining stick stays positive where y[-1] ~ 0
        sf = (1 - y_crop.cumsum(-1)).clamp(min=float(jnp.finfo(y.dtype.np).tiny))
        out: Tensor = y_crop.log() - sf.log() + offset.log()
        return out

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        from fnnet.torch.nn import functional as F

        offset = x.shape[-1] + 1 - x.new_ones(x.shape[-1]).cumsum(-1)
        x = x - offset.log()
        out: Tensor = (-x + F.logsigmoid(x) + y[..., :-1].log()).sum(-1)
        return out

    def forward_shape(self, shape: Any) -> Any:
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return (*shape[:-1], shape[-1] + 1)

    def inverse_shape(self, shape: Any) -> Any:
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return (*shape[:-1], shape[-1] - 1)


class LowerCholeskyTransform(Transform):
    """Square matrices to lower-triangular ones of positive diagonal (the strictly lower
    part kept, the diagonal exponentiated).

    PyTorch equivalent: ``torch.distributions.transforms.LowerCholeskyTransform``.
    """

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.lower_cholesky

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LowerCholeskyTransform)

    __hash__ = object.__hash__

    def _call(self, x: Tensor) -> Tensor:
        out: Tensor = x.tril(-1) + x.diagonal(dim1=-2, dim2=-1).exp().diag_embed()
        return out

    def _inverse(self, y: Tensor) -> Tensor:
        out: Tensor = y.tril(-1) + y.diagonal(dim1=-2, dim2=-1).log().diag_embed()
        return out


class PositiveDefiniteTransform(Transform):
    """Square matrices to positive-definite ones: ``L @ L.mT`` of their
    :class:`LowerCholeskyTransform`.

    PyTorch equivalent: ``torch.distributions.transforms.PositiveDefiniteTransform``.
    """

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.positive_definite

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PositiveDefiniteTransform)

    __hash__ = object.__hash__

    def _call(self, x: Tensor) -> Tensor:
        lower = LowerCholeskyTransform()(x)
        out: Tensor = lower @ lower.mT
        return out

    def _inverse(self, y: Tensor) -> Tensor:
        from fnnet.torch import linalg

        return LowerCholeskyTransform().inv(linalg.cholesky(y))


def _vec_to_tril(vec: Tensor, diag: int) -> Tensor:
    """The vector ``[..., n]`` laid row by row into the lower triangle (below diagonal
    ``diag``) of a square matrix, zeros elsewhere (PyTorch's ``vec_to_tril_matrix``)."""
    import numpy as np

    from fnnet.torch import _functions

    n = int(vec.shape[-1])
    size = (-(1 + 2 * diag) + math.sqrt((1 + 2 * diag) ** 2 + 8 * n
                                        + 4 * abs(diag) * (diag + 1))) / 2
    if round(size) - size > float(jnp.finfo(vec.dtype.np).eps):
        raise ValueError(f"The size of last dimension is {n} which cannot be expressed as "
                         f"the lower triangular part of a square D x D matrix.")
    d = round(size)
    rows, cols = np.tril_indices(d, diag)
    # a constant 0/1 matrix places each entry: differentiable, one matmul
    placement = np.zeros((n, d * d), np.float32)
    placement[np.arange(n), rows * d + cols] = 1
    out: Tensor = (vec @ _functions.tensor(placement, dtype=vec.dtype)).reshape(
        *vec.shape[:-1], d, d)
    return out


def _tril_to_vec(matrix: Tensor, diag: int) -> Tensor:
    """The lower triangle (below diagonal ``diag``) of ``matrix``, row by row
    (PyTorch's ``tril_matrix_to_vec``)."""
    import numpy as np

    from fnnet.torch import _functions

    size = int(matrix.shape[-1])
    rows, cols = np.tril_indices(size, diag)
    flat = matrix.reshape(*matrix.shape[:-2], size * size)
    out: Tensor = flat[..., _functions.tensor(rows * size + cols)]
    return out


class CorrCholeskyTransform(Transform):
    """Unconstrained vectors of length ``D (D - 1) / 2`` to Cholesky factors of ``D x D``
    correlation matrices (lower triangular, positive diagonal, rows of unit length),
    by a signed stick breaking of each row of ``tanh(x)``.

    PyTorch equivalent: ``torch.distributions.transforms.CorrCholeskyTransform``.
    """

    domain = constraints.real_vector
    codomain = constraints.corr_cholesky
    bijective = True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CorrCholeskyTransform)

    __hash__ = object.__hash__

    def _call(self, x: Tensor) -> Tensor:
        from fnnet.torch import _functions
        from fnnet.torch.nn import functional as F

        x = x.tanh()
        eps = float(jnp.finfo(x.dtype.np).eps)
        x = x.clamp(min=-1 + eps, max=1 - eps)
        r = _vec_to_tril(x, diag=-1)
        # y = sign(r) * sqrt(z * prod(1 - z)) = r * sqrt(prod(1 - z)), z = r ** 2
        z1m_cumprod_sqrt = (1 - r.pow(2)).sqrt().cumprod(-1)
        r = r + _functions.eye(int(r.shape[-1]), dtype=r.dtype)
        out: Tensor = r * F.pad(z1m_cumprod_sqrt[..., :-1], [1, 0], value=1)
        return out

    def _inverse(self, y: Tensor) -> Tensor:
        from fnnet.torch.nn import functional as F

        y_cumsum = 1 - (y * y).cumsum(-1)
        y_cumsum_shifted = F.pad(y_cumsum[..., :-1], [1, 0], value=1)
        t = _tril_to_vec(y, diag=-1) / _tril_to_vec(y_cumsum_shifted, diag=-1).sqrt()
        out: Tensor = (t.log1p() - t.neg().log1p()) / 2
        return out

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor, intermediates: Any = None
                             ) -> Tensor:
        from fnnet.torch.nn._activations import softplus

        del intermediates  # PyTorch's too takes and ignores them
        # of x and the flattened lower triangle of y (their dimensions differ)
        y1m_cumsum = 1 - (y * y).cumsum(-1)
        stick_breaking_logdet = 0.5 * _tril_to_vec(y1m_cumsum, diag=-2).log().sum(-1)
        tanh_logdet = -2 * (x + softplus(-2 * x) - math.log(2.0)).sum(-1)
        out: Tensor = stick_breaking_logdet + tanh_logdet
        return out

    def forward_shape(self, shape: Any) -> Any:
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        n = shape[-1]
        d = round((0.25 + 2 * n) ** 0.5 + 0.5)
        if d * (d - 1) // 2 != n:
            raise ValueError("Input is not a flattened lower-diagonal number")
        return (*shape[:-1], d, d)

    def inverse_shape(self, shape: Any) -> Any:
        if len(shape) < 2:
            raise ValueError("Too few dimensions on input")
        if shape[-2] != shape[-1]:
            raise ValueError("Input is not square")
        d = shape[-1]
        return (*shape[:-2], d * (d - 1) // 2)


#: PyTorch's transforms fnnet.torch does not provide
_UNSUPPORTED = ("CatTransform", "StackTransform", "ReshapeTransform",
                "CumulativeDistributionTransform")


def __getattr__(name: str) -> Any:
    # named so, as Unsupported tells a ``from ... import`` by its caller's name
    if name in _UNSUPPORTED:
        from fnnet.torch.tensor import Unsupported

        raise Unsupported(f"fnnet.torch does not support torch.distributions.transforms."
                          f"{name}; compose the transforms fnnet.torch provides, or write "
                          f"the map with its tensor operations")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
