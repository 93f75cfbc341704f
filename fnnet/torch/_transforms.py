"""``torch.distributions.transforms``, the elementwise ones, for
``TransformedDistribution``: a squashed Gaussian policy (SAC's
``TransformedDistribution(Independent(Normal(mu, std), 1), [TanhTransform(cache_size=1)])``),
a log-normal, a scaled and shifted base.

A transform maps ``x`` to ``y``, inverts, and gives ``log|dy/dx|`` elementwise; with
``cache_size=1`` it remembers its last pair, so the ``log_prob`` of a sample it made
inverts exactly (``atanh(tanh(x))`` loses ``x`` where ``tanh`` saturates).
"""

from __future__ import annotations

import math
from typing import Any

import jax.numpy as jnp

from fnnet.torch.tensor import Tensor

__all__ = ["AbsTransform", "AffineTransform", "ExpTransform", "PowerTransform",
           "SigmoidTransform", "TanhTransform", "Transform"]


def _sign(value: Any) -> Any:
    """-1, 0 or 1 for a number; ``value.sign()`` for a tensor."""
    if isinstance(value, Tensor):
        return value.sign()
    return (value > 0) - (value < 0)


class Transform:
    """An invertible elementwise map with its log-Jacobian.

    PyTorch equivalent: ``torch.distributions.transforms.Transform``.
    """

    bijective = True
    sign: int = 1

    def __init__(self, cache_size: int = 0) -> None:
        if cache_size not in (0, 1):
            raise ValueError("cache_size must be 0 or 1")
        self._cache_size = cache_size
        self._cached: tuple[Any, Any] | None = None

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
    def inv(self) -> _Inverse:
        """The inverse map, as a transform."""
        return _Inverse(self)

    def _call(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def _inverse(self, y: Tensor) -> Tensor:
        raise NotImplementedError

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class _Inverse(Transform):
    """``t.inv``: ``t`` run backwards."""

    def __init__(self, transform: Transform) -> None:
        super().__init__()
        self._transform = transform

    def __call__(self, y: Tensor) -> Tensor:
        return self._transform._inv_call(y)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        out: Tensor = -self._transform.log_abs_det_jacobian(y, x)
        return out


class TanhTransform(Transform):
    """``y = tanh(x)``. PyTorch equivalent: ``torch.distributions.transforms.TanhTransform``."""

    sign = 1

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


class SigmoidTransform(Transform):
    """``y = sigmoid(x)``. PyTorch: ``torch.distributions.transforms.SigmoidTransform``."""

    def _call(self, x: Tensor) -> Tensor:
        finfo = jnp.finfo(x.dtype.np)
        return x.sigmoid().clamp(min=float(finfo.tiny), max=1.0 - float(finfo.eps))

    def _inverse(self, y: Tensor) -> Tensor:
        finfo = jnp.finfo(y.dtype.np)
        y = y.clamp(min=float(finfo.tiny), max=1.0 - float(finfo.eps))
        out: Tensor = y.log() - (-y).log1p()
        return out

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        from fnnet.torch.nn._activations import softplus

        out: Tensor = -softplus(-x) - softplus(x)
        return out


class ExpTransform(Transform):
    """``y = exp(x)``. PyTorch equivalent: ``torch.distributions.transforms.ExpTransform``."""

    def _call(self, x: Tensor) -> Tensor:
        return x.exp()

    def _inverse(self, y: Tensor) -> Tensor:
        return y.log()

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return x


class AffineTransform(Transform):
    """``y = loc + scale * x``. PyTorch: ``torch.distributions.transforms.AffineTransform``
    (elementwise: ``event_dim=0``)."""

    def __init__(self, loc: Any, scale: Any, event_dim: int = 0, cache_size: int = 0) -> None:
        super().__init__(cache_size)
        if event_dim != 0:
            raise NotImplementedError("fnnet.torch: AffineTransform(event_dim > 0) is not "
                                      "supported; sum the elementwise log_abs_det_jacobian")
        self.loc, self.scale = loc, scale

    @property
    def sign(self) -> Any:  # type: ignore[override]
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

        scale = self.scale if isinstance(self.scale, Tensor) else _functions.tensor(
            float(self.scale))
        out: Tensor = scale.abs().log().expand(*x.shape)
        return out


class PowerTransform(Transform):
    """``y = x ** exponent`` on positive ``x``.

    PyTorch equivalent: ``torch.distributions.transforms.PowerTransform``.
    """

    def __init__(self, exponent: Any, cache_size: int = 0) -> None:
        super().__init__(cache_size)
        self.exponent = exponent

    @property
    def sign(self) -> Any:  # type: ignore[override]
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

    bijective = False

    def _call(self, x: Tensor) -> Tensor:
        return x.abs()

    def _inverse(self, y: Tensor) -> Tensor:
        return y
