"""The distributions of ``torch.distributions`` written here, their base class and the
helpers the others (``fnnet.torch._count_distributions``, ``_continuous_bernoulli``,
``_low_rank_normal``, ``_transformed_distributions``) build on; the public module
:mod:`fnnet.torch.distributions` gathers them all."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, cast

import jax
import numpy as np

from fnnet.torch import _constraints as constraints
from fnnet.torch import _functions, _math_ops, _random, _shape_ops, _surface_ops, special
from fnnet.torch import _transforms as transforms_module
from fnnet.torch._distribution_utils import lazy_property
from fnnet.torch.nn import functional as F
from fnnet.torch.nn._activations import softplus
from fnnet.torch.tensor import (
    Size,
    Tensor,
    _as_tensor,
    _op,
    _wrap_value,
    host_value,
)


def _shape(sample_shape: Any) -> tuple[int, ...]:
    """``sample_shape`` (or an ``expand``'s batch shape) as a tuple; an int is refused
    with the TypeError of PyTorch's ``torch.Size(3)`` (``dist.sample(3)``)."""
    if isinstance(sample_shape, int):
        raise TypeError(f"'{type(sample_shape).__name__}' object is not iterable")
    try:
        shape = tuple(int(n) for n in sample_shape)
    except TypeError:
        raise TypeError(f"sample_shape must be a torch.Size or a tuple of ints, got "
                        f"{sample_shape!r}") from None
    if any(n < 0 for n in shape):
        raise ValueError(f"sample_shape must not be negative, got {shape}")
    return shape


def _tensor(value: Any) -> Tensor:
    return value if isinstance(value, Tensor) else _as_tensor(value, np.float32)


_POSITIVE = constraints.positive
REAL = constraints.real


def _host(value: Any) -> np.ndarray | None:
    """``value``'s values where the host holds them (a number, a list, a tensor made from
    one), else None."""
    if isinstance(value, Tensor):
        return host_value(value)
    return np.asarray(value, np.float32)


def _broadcast_all(*values: Any) -> list[Tensor]:
    """``values`` as tensors broadcast together (PyTorch's ``broadcast_all``); those the
    host holds stay on the host (numpy's broadcast), so that their checks read no
    device value."""
    tensors = [_tensor(v) for v in values]
    helds = [host_value(t) for t in tensors]
    arrays = [h for h in helds if h is not None]
    if len(arrays) == len(tensors) and not any(t.requires_grad for t in tensors):
        shape = tuple(np.broadcast_shapes(*(np.shape(h) for h in arrays)))
        return [t if tuple(t.shape) == shape else _as_tensor(np.broadcast_to(h, shape).copy())
                for t, h in zip(tensors, arrays, strict=True)]
    return list(_shape_ops.broadcast_tensors(*tensors))


def _described(value: Any) -> Any:
    """A parameter as PyTorch's messages print it: its shape, or its value if one."""
    tensor = _tensor(value)
    return tensor.shape if tensor.numel() > 1 else tensor


def _check(name: str, value: Any, constraint: constraints.Constraint, validate: bool | None,
           distribution: str, params: dict[str, Any], shape: tuple[int, ...] | None = None,
           described: str | None = None) -> None:
    """PyTorch's ValueError for a parameter outside ``constraint``: numbers and tensors
    whose values the host holds (made from a list or numpy) always, other tensors with
    ``validate_args=True`` (reading one computed by the step waits for the device).
    ``params`` are the distribution's parameters, described in the message as PyTorch's
    repr does (``described``: the whole distribution as the message describes it);
    ``shape``: the shape the parameter is broadcast to (PyTorch checks and prints it
    so)."""
    if validate is False or (validate is None and not Distribution._default_validate):
        return
    held = host_value(value) if isinstance(value, Tensor) else None
    if validate is None and isinstance(value, Tensor) and held is None:
        return
    tensor = _tensor(value).detach()
    if held is None:
        held = np.asarray(tensor.numpy())
    if shape is not None and tuple(tensor.shape) != tuple(shape):
        tensor, held = tensor.expand(*shape), np.broadcast_to(held, shape)
    try:
        valid = constraints.holds(constraint, held, read=bool(validate))
    except constraints.Unread:
        return  # a bound the step computes: not read
    if not valid:
        if described is None:
            described = f"{distribution}(" + ", ".join(
                f"{k}: {_described(v)}" for k, v in params.items()) + ")"
        raise ValueError(f"Expected parameter {name} (Tensor of shape {tuple(tensor.shape)}) "
                         f"of distribution {described} to satisfy the "
                         f"constraint {constraint!r}, but found invalid values:\n{tensor}")


class _ValidateArgs:
    """``Distribution._validate_args``: on an instance, whether it validates (its
    ``validate_args``, else the default); on the class, the default, a bool as PyTorch's
    (programs save it and give it back to ``set_default_validate_args``). Set on an
    instance, it is that instance's ``validate_args``."""

    def __get__(self, instance: Any, owner: Any = None) -> bool:
        if instance is None or instance._validation is None:
            return Distribution._default_validate
        return bool(instance._validation)

    def __set__(self, instance: Any, value: bool | None) -> None:
        instance._validation = value


class Distribution:
    """Base of the distributions: shapes, argument validation and the methods a subclass
    may lack.

    A program's own subclass calls ``super().__init__(batch_shape, event_shape,
    validate_args)`` and declares ``arg_constraints`` and ``support``, as with PyTorch;
    its parameters are checked against their constraints there (see :func:`_check` for
    which values are read).

    PyTorch equivalent: ``torch.distributions.Distribution``.
    """

    has_rsample = False
    has_enumerate_support = False
    batch_shape: Size = Size(())
    event_shape: Size = Size(())
    #: ``validate_args`` as given: None follows the default (set_default_validate_args)
    #: and checks only what the host holds; True also reads what the step computes
    _validation: bool | None = None
    #: set_default_validate_args: False skips the checks of arguments not given
    #: ``validate_args`` (as PyTorch's scripts turn them off for speed)
    _default_validate = True

    def __init__(self, batch_shape: Any = (), event_shape: Any = (),
                 validate_args: bool | None = None) -> None:
        self.batch_shape, self.event_shape = Size(tuple(batch_shape)), Size(tuple(event_shape))
        if validate_args is not None:
            self._validation = validate_args
        if not self._validate_args:
            return
        try:
            arg_constraints = self.arg_constraints
        except NotImplementedError:
            import warnings

            arg_constraints = {}
            warnings.warn(f"{self.__class__} does not define `arg_constraints`. Please set "
                          f"`arg_constraints = {{}}` or initialize the distribution with "
                          f"`validate_args=False` to turn off validation.", stacklevel=2)
        for param, constraint in arg_constraints.items():
            if constraints.is_dependent(constraint) or param not in self.__dict__ and \
                    isinstance(getattr(type(self), param, None), lazy_property):
                continue  # not checkable, or computed from another parameter when read
            _check(param, getattr(self, param), constraint, self._validation,
                   "", {}, described=repr(self))

    #: whether this distribution validates (PyTorch's attribute; on the class, the default)
    _validate_args = _ValidateArgs()

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Turns the checks of parameters and ``log_prob`` values off (False) or back on
        (True) for distributions made without ``validate_args``; on, they check what the
        host holds, as without this call.

        Raises:
            ValueError: ``value`` not True or False, in PyTorch's words.

        PyTorch equivalent: ``torch.distributions.Distribution.set_default_validate_args``.
        """
        if value not in [True, False]:
            raise ValueError
        Distribution._default_validate = bool(value)

    @property
    def arg_constraints(self) -> dict[str, constraints.Constraint]:
        """Each parameter's constraint (a subclass declares them)."""
        raise NotImplementedError

    @property
    def support(self) -> constraints.Constraint:
        """The constraint the values lie in (a subclass declares it)."""
        raise NotImplementedError

    def _validate_sample(self, value: Any) -> Tensor:
        """``value`` as a tensor, after PyTorch's default validation of a value given to
        ``log_prob`` or ``cdf``: a tensor, of a shape that broadcasts with the batch and
        event shapes, inside the support. Its values are read where the host holds them
        (made from a list or numpy) or with ``validate_args=True``; a value the step
        computes is not read otherwise (that would wait for the device).

        Raises:
            ValueError: PyTorch's words for each of those.
        """
        if not self._validate_args:
            return _tensor(value)
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        shape, event = tuple(value.shape), tuple(self.event_shape)
        if shape[len(shape) - len(event):] != event:
            raise ValueError(f"The right-most size of value must match event_shape: "
                             f"{Size(shape)} vs {Size(event)}.")
        expected = tuple(self.batch_shape) + event
        for i, j in zip(reversed(shape), reversed(expected), strict=False):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: "
                                 f"{Size(shape)} vs {Size(expected)}.")
        held = host_value(value)
        read = self._validation is True
        if held is None and not read:
            return value
        try:
            support = self.support
        except NotImplementedError:
            import warnings

            warnings.warn(f"{self.__class__} does not define `support` to enable sample "
                          f"validation. Please initialize the distribution with "
                          f"`validate_args=False` to turn off validation.", stacklevel=2)
            return value
        if support is None:
            return value
        if held is None:
            held = np.asarray(value.detach().numpy())
        try:
            valid = constraints.holds(support, held, read)
        except constraints.Unread:
            return value  # a bound of the support the step computes: not read
        if not valid:
            raise ValueError(f"Expected value argument ({type(value).__name__} of shape "
                             f"{shape}) to be within the support ({support!r}) of the "
                             f"distribution {self!r}, but found invalid values:\n{value}")
        return value

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Draws without gradient: ``sample_shape + batch_shape + event_shape``."""
        from fnnet.torch._autograd import no_grad

        with no_grad():
            return self.rsample(sample_shape).detach()

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no rsample: its samples are "
                                  f"not differentiable; use sample()")

    def _extended(self, sample_shape: Any) -> tuple[int, ...]:
        return _shape(sample_shape) + tuple(self.batch_shape) + tuple(self.event_shape)

    def _extended_shape(self, sample_shape: Any = ()) -> Size:
        """``sample_shape + batch_shape + event_shape``, as a program's own ``rsample``
        asks PyTorch's base for it."""
        return Size(self._extended(sample_shape))

    # PyTorch's attributes behind batch_shape and event_shape, which programs' own
    # subclasses read and set
    @property
    def _batch_shape(self) -> Size:
        return self.batch_shape

    @_batch_shape.setter
    def _batch_shape(self, value: Any) -> None:
        self.batch_shape = Size(tuple(value))

    @property
    def _event_shape(self) -> Size:
        return self.event_shape

    @_event_shape.setter
    def _event_shape(self, value: Any) -> None:
        self.event_shape = Size(tuple(value))

    def _get_checked_instance(self, cls: type, _instance: Any = None) -> Any:
        """A new, uninitialised instance of ``cls`` for a subclass's ``expand`` (or
        ``_instance``, made by a further subclass).

        Raises:
            NotImplementedError: ``cls`` has an ``__init__`` of its own but this is an
                instance of a subclass that does not override ``expand`` (PyTorch's
                words).
        """
        if _instance is None and type(self).__init__ is not cls.__init__:  # type: ignore[misc]
            raise NotImplementedError(f"Subclass {self.__class__.__name__} of {cls.__name__} "
                                      f"that defines a custom __init__ method must also "
                                      f"define a custom .expand() method.")
        return self.__new__(type(self)) if _instance is None else _instance

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    @property
    def mean(self) -> Tensor:
        raise NotImplementedError

    @property
    def variance(self) -> Tensor:
        raise NotImplementedError

    @property
    def mode(self) -> Tensor:
        raise NotImplementedError(f"{self.__class__} does not implement mode")

    def entropy(self) -> Tensor:
        raise NotImplementedError

    def cdf(self, value: Any) -> Tensor:
        raise NotImplementedError

    def icdf(self, value: Any) -> Tensor:
        raise NotImplementedError

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """Every value of a discrete distribution's support, along a new first dimension
        (over the batch shape when ``expand``, else of size 1 there)."""
        raise NotImplementedError

    def _enumerated(self, values: Tensor, expand: bool) -> Tensor:
        """``values`` (the support, ``[n, *event]``) laid out as PyTorch's
        ``enumerate_support`` lays it out."""
        n, event, batch = values.shape[0], tuple(values.shape[1:]), tuple(self.batch_shape)
        out: Tensor = values.reshape(n, *([1] * len(batch)), *event)
        return out.expand(n, *batch, *event) if expand else out

    def expand(self, batch_shape: Any, _instance: Any = None) -> Distribution:
        """This distribution over a larger batch: each parameter expanded (a view, not a
        copy) to ``batch_shape`` followed by its own event dimensions; the new instance
        is not validated again, as PyTorch's.

        Raises:
            RuntimeError: ``batch_shape`` does not extend the batch shape (the tensors'
                expand refuses it, in PyTorch's words).
            NotImplementedError: a distribution whose parameters do not rebuild it.

        PyTorch equivalent: ``Distribution.expand``.
        """
        del _instance  # PyTorch's subclasses pass their new instance through
        batch, old = _shape(batch_shape), len(self.batch_shape)
        params = {}
        for name, value in self._constructor_arguments().items():
            # numbers (a count, lims) and a relaxed draw's temperature are kept as they are
            if isinstance(value, Tensor) and name != "temperature":
                event = tuple(value.shape[old:]) if value.dim() > old else ()
                held = host_value(value)
                if held is not None and not value.requires_grad and \
                        tuple(value.shape) != (*batch, *event):
                    # expanded on the host, so that its support's check reads no device
                    # value (the shape is checked by the tensors' expand first)
                    value.expand(*batch, *event)
                    value = _as_tensor(np.broadcast_to(held, (*batch, *event)).copy())
                else:
                    value = value.expand(*batch, *event)
            params[name] = value
        new = type(self)(**params, validate_args=False)
        new._validation = self._validation
        return new

    def _constructor_arguments(self) -> dict[str, Any]:
        """The arguments that make this distribution again, read from its attributes of
        the constructor's names (of ``probs`` and ``logits``, the one given).

        Raises:
            NotImplementedError: an argument not kept, or not a tensor or number.
        """
        import inspect

        given = getattr(self, "_given", None) or \
            getattr(getattr(self, "_categorical", None), "_given", None) or "probs"
        arguments = {}
        for name, parameter in inspect.signature(type(self).__init__).parameters.items():
            if name in ("self", "validate_args") or name in ("probs", "logits") and \
                    name != given:
                continue
            value = getattr(self, name, getattr(self, f"_{name}", None))
            if value is None and parameter.default is not inspect.Parameter.empty:
                continue  # an option not kept: its default
            if value is None or isinstance(value, Distribution):
                raise NotImplementedError(
                    f"fnnet.torch does not support {type(self).__name__}.expand; make the "
                    f"distribution from expanded parameters")
            arguments[name] = value
        return arguments

    def perplexity(self) -> Tensor:
        """``exp(entropy())``. PyTorch: ``Distribution.perplexity``."""
        return self.entropy().exp()

    def sample_n(self, n: int) -> Tensor:
        """``sample((n,))``, with PyTorch's deprecation warning."""
        import warnings

        warnings.warn("`sample_n(n)` will be deprecated. Use `sample((n,))` instead.",
                      FutureWarning, stacklevel=2)
        return self.sample(Size((n,)))

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}: {v.shape if isinstance(v, Tensor) and v.numel() > 1 else v}"
                          for k, v in self._params().items())
        return f"{type(self).__name__}({parts})"

    def _params(self) -> dict[str, Any]:
        """The parameters the repr shows: for a program's own subclass, PyTorch's choice,
        those of ``arg_constraints`` the instance holds (fnnet's classes hold parameters
        PyTorch computes when read, so each names its own)."""
        if type(self).__module__.startswith("fnnet."):
            return {}
        try:
            names = list(self.arg_constraints)
        except NotImplementedError:
            return {}
        return {k: self.__dict__[k] for k in names if k in self.__dict__}


class _Located(Distribution):
    """A distribution whose mean and mode are its ``loc``."""

    loc: Tensor

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc


class _LocationScale(_Located):
    """A distribution on the real line of a ``loc`` and a positive ``scale``, which
    PyTorch broadcasts together."""

    has_rsample = True
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale = _broadcast_all(loc, scale)
        shape = tuple(self.loc.shape)
        params = {"loc": self.loc, "scale": self.scale}
        _check("loc", loc, REAL, validate_args, type(self).__name__, params, shape)
        _check("scale", scale, _POSITIVE, validate_args, type(self).__name__, params, shape)
        self.batch_shape = Size(shape)
        self._validate_args = validate_args

    def _params(self) -> dict[str, Any]:
        return {"loc": self.loc, "scale": self.scale}


class Normal(_LocationScale):
    """``Normal(loc, scale)``. PyTorch equivalent: ``torch.distributions.Normal``."""

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.scale.pow(2)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """``loc + scale * eps`` with ``eps ~ N(0, 1)``: differentiable in the parameters
        (the reparameterisation a VAE's encoder is trained through)."""
        eps = _functions.randn(*self._extended(sample_shape))
        return self.loc + eps * self.scale

    def log_prob(self, value: Any) -> Tensor:
        value = self._validate_sample(value)
        var = self.scale ** 2
        out: Tensor = -((value - self.loc) ** 2) / (2 * var) - self.scale.log() - \
            math.log(math.sqrt(2 * math.pi))
        return out

    def entropy(self) -> Tensor:
        out: Tensor = 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()
        return out

    def cdf(self, value: Any) -> Tensor:
        z = (self._validate_sample(value) - self.loc) * self.scale.reciprocal() / math.sqrt(2)
        out: Tensor = 0.5 * (1 + z.erf())
        return out

    def icdf(self, value: Any) -> Tensor:
        """The value below which a fraction ``value`` of the mass lies."""
        out: Tensor = self.loc + self.scale * (2 * _tensor(value) - 1).erfinv() * math.sqrt(2)
        return out


class Uniform(Distribution):
    """``Uniform(low, high)`` on ``[low, high)``. PyTorch: ``torch.distributions.Uniform``."""

    has_rsample = True

    def __init__(self, low: Any, high: Any, validate_args: bool | None = None) -> None:
        self.low, self.high = _broadcast_all(low, high)
        Distribution.__init__(self, tuple(self.low.shape), (), validate_args)

    @property
    def arg_constraints(self) -> dict[str, constraints.Constraint]:
        return {"low": constraints.less_than(self.high),
                "high": constraints.greater_than(self.low)}

    def _params(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high}

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self) -> constraints.Constraint:
        return constraints.interval(self.low, self.high)

    @property
    def mean(self) -> Tensor:
        return (self.high + self.low) / 2

    @property
    def variance(self) -> Tensor:
        return (self.high - self.low).pow(2) / 12

    @property
    def mode(self) -> Tensor:
        out: Tensor = self.high * float("nan")  # every point is one
        return out

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        u = _functions.rand(*self._extended(sample_shape))
        return self.low + u * (self.high - self.low)

    def log_prob(self, value: Any) -> Tensor:
        value = self._validate_sample(value)
        inside = (self.low <= value).float() * (value < self.high).float()
        out: Tensor = inside.log() - (self.high - self.low).log()
        return out

    def entropy(self) -> Tensor:
        return (self.high - self.low).log()

    def cdf(self, value: Any) -> Tensor:
        value = self._validate_sample(value)
        out: Tensor = ((value - self.low) / (self.high - self.low)).clamp(0, 1)
        return out

    def icdf(self, value: Any) -> Tensor:
        out: Tensor = self.low + _tensor(value) * (self.high - self.low)
        return out


def binary_logits(probs: Tensor) -> Tensor:
    """The log-odds of success probabilities, clamped a float32 eps inside (0, 1) as
    PyTorch's ``probs_to_logits(is_binary=True)``."""
    eps = float(np.finfo(np.float32).eps)
    clamped = probs.clamp(eps, 1 - eps)
    out: Tensor = clamped.log() - (1 - clamped).log()
    return out


def _probs_or_logits(probs: Any, logits: Any, who: str) -> tuple[Any, Any]:
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")
    return probs, logits


class Bernoulli(Distribution):
    """``Bernoulli(probs=...)`` or ``Bernoulli(logits=...)``.

    PyTorch equivalent: ``torch.distributions.Bernoulli``.
    """

    def __init__(self, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        probs, logits = _probs_or_logits(probs, logits, "Bernoulli")
        if probs is not None:
            _check("probs", probs, constraints.unit_interval, validate_args, "Bernoulli",
                   {"probs": probs})
            self.probs = _tensor(probs)
            self.logits = binary_logits(self.probs)
        else:
            self.logits = _tensor(logits)
            self.probs = self.logits.sigmoid()
        self.batch_shape = Size(tuple(self.probs.shape))
        self._validate_args = validate_args
        self._given = "probs" if probs is not None else "logits"

    def _params(self) -> dict[str, Any]:
        # PyTorch's repr names the parameter given (the other is computed when first read)
        return {self._given: getattr(self, self._given)}

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    @property
    def mode(self) -> Tensor:
        """1 where ``probs`` is above a half, 0 below, NaN at a half."""
        probs = self.probs
        out: Tensor = (probs >= 0.5).to(probs.dtype).masked_fill(probs == 0.5, float("nan"))
        return out

    def sample(self, sample_shape: Any = ()) -> Tensor:
        from fnnet.torch._autograd import no_grad

        with no_grad():
            u = _functions.rand(*self._extended(sample_shape))
            return (u < self.probs.detach()).float()

    def log_prob(self, value: Any) -> Tensor:
        logits, value = _shape_ops.broadcast_tensors(self.logits, self._validate_sample(value))
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none")

    has_enumerate_support = True

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """``[0., 1.]`` over the batch shape. PyTorch: ``Bernoulli.enumerate_support``."""
        return self._enumerated(_functions.arange(2, dtype=self.probs.dtype), expand)

    def entropy(self) -> Tensor:
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")


class Categorical(Distribution):
    """``Categorical(probs=...)`` or ``Categorical(logits=...)`` over the last axis
    (normalised there).

    PyTorch equivalent: ``torch.distributions.Categorical``.
    """

    def __init__(self, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        probs, logits = _probs_or_logits(probs, logits, "Categorical")
        given = _tensor(probs if probs is not None else logits)
        if given.dim() < 1:
            raise ValueError("`probs` parameter must be at least one-dimensional.")
        if probs is not None:
            self.probs = given / given.sum(-1, keepdim=True)
            held = _host(probs)
            # PyTorch checks the probabilities once normalised
            _check("probs", self.probs if held is None else held / held.sum(-1, keepdims=True),
                   constraints.simplex, validate_args, "Categorical", {"probs": self.probs})
            tiny = float(np.finfo(np.float32).eps)
            self.logits = self.probs.clamp(tiny, 1 - tiny).log()
        else:
            self.logits = given - given.logsumexp(-1, keepdim=True)
            self.probs = self.logits.softmax(-1)
        self._num_events = int(given.shape[-1])
        self.batch_shape = Size(tuple(given.shape[:-1]))
        self._validate_args = validate_args
        self._given = "probs" if probs is not None else "logits"

    def _params(self) -> dict[str, Any]:
        return {self._given: getattr(self, self._given)}

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self) -> constraints.Constraint:
        return constraints.integer_interval(0, self._num_events - 1)

    @property
    def param_shape(self) -> Size:
        return Size(tuple(self.probs.shape))

    @property
    def mean(self) -> Tensor:
        return _functions.full(tuple(self.batch_shape), float("nan"))

    @property
    def variance(self) -> Tensor:
        return _functions.full(tuple(self.batch_shape), float("nan"))

    @property
    def mode(self) -> Tensor:
        return self.probs.argmax(-1)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Category indices (int64), ``sample_shape + batch_shape``."""
        shape = _shape(sample_shape)
        count = math.prod(shape) if shape else 1
        rows = self.probs.detach().reshape(-1, self._num_events)
        drawn = _math_ops.multinomial(rows, count, True)  # [rows, count]
        return drawn.T.reshape(*shape, *self.batch_shape)

    def log_prob(self, value: Any) -> Tensor:
        # value and batch shape broadcast together, as PyTorch's: a 0-d action against
        # probs [1, n] (a policy's batch of one) gives a log-probability of shape [1]
        value, logits = _shape_ops.broadcast_tensors(
            self._validate_sample(value).long().unsqueeze(-1),
                                                     self.logits)
        out: Tensor = logits.gather(-1, value[..., :1]).squeeze(-1)
        return out

    def entropy(self) -> Tensor:
        smallest = float(np.finfo(np.float32).min)
        return -(self.logits.clamp(min=smallest) * self.probs).sum(-1)

    has_enumerate_support = True

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """The categories ``0..n-1`` (int64) over the batch shape.

        PyTorch equivalent: ``Categorical.enumerate_support``.
        """
        return self._enumerated(_functions.arange(self._num_events), expand)


#: MultivariateNormal's matrix parameters, in the order PyTorch's repr lists them
_MATRICES = ("covariance_matrix", "precision_matrix", "scale_tril")


class MultivariateNormal(_Located):
    """``MultivariateNormal(loc, covariance_matrix=... | precision_matrix=... |
    scale_tril=...)``: a Gaussian over ``loc``'s last axis, held as the lower Cholesky
    factor ``L`` of its covariance (``loc: [..., k]``, the matrix ``[..., k, k]``).

    PyTorch equivalent: ``torch.distributions.MultivariateNormal``.
    """

    has_rsample = True

    def __init__(self, loc: Any, covariance_matrix: Any = None, precision_matrix: Any = None,
                 scale_tril: Any = None, validate_args: bool | None = None) -> None:
        from fnnet.torch import linalg
        from fnnet.torch._factorizations import cholesky_factor

        loc = _tensor(loc)
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = {"covariance_matrix": covariance_matrix, "precision_matrix": precision_matrix,
                 "scale_tril": scale_tril}
        given = {k: _tensor(v) for k, v in given.items() if v is not None}
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or "
                             "scale_tril may be specified.")
        (name, matrix), = given.items()
        if matrix.dim() < 2:
            # PyTorch's words: "scale_tril matrix must be...", "covariance_matrix must be..."
            raise ValueError(f"{'scale_tril matrix' if name == 'scale_tril' else name} must be "
                             f"at least two-dimensional, with optional leading batch dimensions")
        batch = tuple(np.broadcast_shapes(tuple(matrix.shape[:-2]), tuple(loc.shape[:-1])))
        self._matrices: dict[str, Tensor] = {name: matrix.expand(*batch, -1, -1)}
        self.loc: Tensor = loc.expand(*batch, -1)
        self.batch_shape, self.event_shape = Size(batch), Size(tuple(loc.shape[-1:]))
        self._validate_args = validate_args
        _check("loc", loc, constraints.real_vector, validate_args, "MultivariateNormal",
               {"loc": self.loc, name: self._matrices[name]}, tuple(self.loc.shape))
        _check(name, matrix, self.arg_constraints[name], validate_args, "MultivariateNormal",
               {"loc": self.loc, name: self._matrices[name]})
        self._unbroadcasted_scale_tril: Tensor
        if name == "scale_tril":
            self._unbroadcasted_scale_tril = matrix
        elif name == "covariance_matrix":
            self._unbroadcasted_scale_tril = cholesky_factor(matrix)
        else:  # PyTorch's route: the Cholesky factor of the flipped precision, inverted
            flipped = cholesky_factor(matrix.flip(-2, -1))
            inverse = flipped.flip(-2, -1).transpose(-2, -1)
            eye = _functions.eye(int(matrix.shape[-1]), dtype=matrix.dtype)
            self._unbroadcasted_scale_tril = linalg.solve_triangular(inverse, eye, upper=False)

    def _constructor_arguments(self) -> dict[str, Any]:
        given = next(iter(self._matrices))  # the first held is the one given
        return {"loc": self.loc, given: self._matrices[given]}

    def _params(self) -> dict[str, Any]:
        # PyTorch's repr lists the matrices given or computed so far (its lazy properties)
        return {"loc": self.loc, **{k: self._matrices[k] for k in _MATRICES
                                    if k in self._matrices}}

    def _expanded(self, name: str, matrix: Tensor) -> Tensor:
        if name not in self._matrices:
            self._matrices[name] = matrix.expand(*self.batch_shape, *matrix.shape[-2:])
        found: Tensor = self._matrices[name]
        return found

    @property
    def scale_tril(self) -> Tensor:
        return self._expanded("scale_tril", self._unbroadcasted_scale_tril)

    @property
    def covariance_matrix(self) -> Tensor:
        factor = self._unbroadcasted_scale_tril
        return self._expanded("covariance_matrix", factor @ factor.transpose(-2, -1))

    @property
    def precision_matrix(self) -> Tensor:
        from fnnet.torch import linalg

        eye = _functions.eye(int(self.event_shape[0]), dtype=self.loc.dtype)
        inverse = linalg.solve_triangular(self._unbroadcasted_scale_tril, eye, upper=False)
        return self._expanded("precision_matrix", inverse.transpose(-2, -1) @ inverse)

    @property
    def variance(self) -> Tensor:
        out: Tensor = self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(
            *self.batch_shape, *self.event_shape)
        return out

    def _half_log_det(self) -> Tensor:
        out: Tensor = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        return out

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """``loc + L @ eps`` with ``eps ~ N(0, I)``: differentiable in both parameters."""
        eps = _functions.randn(*self._extended(sample_shape))
        out: Tensor = self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)
        return out

    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector

    def log_prob(self, value: Any) -> Tensor:
        diff = self._validate_sample(value) - self.loc
        out: Tensor = -0.5 * (int(self.event_shape[0]) * math.log(2 * math.pi)
                              + _mahalanobis(self._unbroadcasted_scale_tril, diff)) \
            - self._half_log_det()
        return out

    def entropy(self) -> Tensor:
        k = int(self.event_shape[0])
        out: Tensor = 0.5 * k * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return out.expand(*self.batch_shape) if len(self.batch_shape) else out


class MixtureSameFamily(Distribution):
    """A mixture of the components along ``component_distribution``'s last batch
    dimension, weighted by ``mixture_distribution`` (a :class:`Categorical`): a Gaussian
    mixture model as ``MixtureSameFamily(Categorical(logits=w),
    Independent(Normal(mu, sigma), 1))``.

    PyTorch equivalent: ``torch.distributions.MixtureSameFamily``.
    """

    def __init__(self, mixture_distribution: Categorical,
                 component_distribution: Distribution, validate_args: bool | None = None
                 ) -> None:
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError(" The Mixture distribution needs to be an  instance of "
                             "torch.distributions.Categorical")
        if not isinstance(component_distribution, Distribution):
            raise ValueError("The Component distribution need to be an instance of "
                             "torch.distributions.Distribution")
        mixture_batch = tuple(mixture_distribution.batch_shape)
        component_batch = tuple(component_distribution.batch_shape[:-1])
        for a, b in zip(reversed(mixture_batch), reversed(component_batch), strict=False):
            if a != 1 and b != 1 and a != b:
                raise ValueError(f"`mixture_distribution.batch_shape` ({Size(mixture_batch)}) "
                                 f"is not compatible with `component_distribution."
                                 f"batch_shape`({Size(component_batch)})")
        km = int(mixture_distribution.logits.shape[-1])
        kc = int(component_distribution.batch_shape[-1])
        if km != kc:
            raise ValueError(f"`mixture_distribution component` ({km}) does not equal "
                             f"`component_distribution.batch_shape[-1]` ({kc})")
        self.mixture_distribution = mixture_distribution
        self.component_distribution = component_distribution
        self.batch_shape = Size(component_batch)
        self.event_shape = component_distribution.event_shape
        self._event_ndims = len(self.event_shape)
        self._validate_args = validate_args

    def __repr__(self) -> str:
        return (f"MixtureSameFamily(\n  {self.mixture_distribution},\n  "
                f"{self.component_distribution})")

    arg_constraints: dict[str, constraints.Constraint] = {}

    @constraints.dependent_property
    def support(self) -> constraints.Constraint:
        return constraints.MixtureSameFamilyConstraint(self.component_distribution.support)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Distribution:
        """The mixture weights expanded to ``batch_shape``, the components to it and
        their count."""
        batch = _shape(batch_shape)
        count = int(self.mixture_distribution.probs.shape[-1])
        mixture = cast(Categorical, self.mixture_distribution.expand(batch))
        return MixtureSameFamily(mixture,
                                 self.component_distribution.expand(batch + (count,)),
                                 validate_args=self._validation)

    def _pad(self, x: Tensor) -> Tensor:
        """Mixture weights ``[..., k]`` shaped to broadcast against the components'
        values ``[batch, k, *event]``."""
        pad = 0 if len(self.mixture_distribution.batch_shape) == 1 else \
            len(self.batch_shape) - len(self.mixture_distribution.batch_shape)
        shape = tuple(x.shape)
        out: Tensor = x.reshape(*shape[:-1], *([1] * pad), shape[-1],
                                *([1] * self._event_ndims))
        return out

    @property
    def mean(self) -> Tensor:
        probs = self._pad(self.mixture_distribution.probs)
        out: Tensor = (probs * self.component_distribution.mean).sum(-1 - self._event_ndims)
        return out

    @property
    def variance(self) -> Tensor:
        probs, axis = self._pad(self.mixture_distribution.probs), -1 - self._event_ndims
        component = self.component_distribution
        within = (probs * component.variance).sum(axis)
        between = (probs * (component.mean - self.mean.unsqueeze(axis)).pow(2.0)).sum(axis)
        out: Tensor = within + between
        return out

    def log_prob(self, x: Any) -> Tensor:  # x: PyTorch's name here (value elsewhere)
        x = self._validate_sample(x)
        value = _tensor(x).unsqueeze(-1 - self._event_ndims)
        log_prob = self.component_distribution.log_prob(value)  # type: ignore[attr-defined]
        weights = self.mixture_distribution.logits.log_softmax(-1)
        out: Tensor = (log_prob + weights).logsumexp(-1)
        return out

    def cdf(self, x: Any) -> Tensor:
        """The mixture weights' average of the components' cdfs at ``x``."""
        value = _tensor(x).unsqueeze(-1 - self._event_ndims)
        cdf = self.component_distribution.cdf(value)
        out: Tensor = (cdf * self._pad(self.mixture_distribution.probs)).sum(
            -1 - self._event_ndims)
        return out

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """A component drawn per sample, then a draw of that component."""
        shape = _shape(sample_shape)
        which = self.mixture_distribution.sample(shape)  # [*shape, *batch]
        draws = self.component_distribution.sample(shape)  # [*shape, *batch, k, *event]
        index = which.reshape(*which.shape, 1, *([1] * self._event_ndims)).expand(
            *which.shape, 1, *self.event_shape)
        out: Tensor = draws.gather(len(which.shape), index).squeeze(len(which.shape))
        return out


def _sum_rightmost(value: Any, dims: int) -> Any:
    return value.sum(tuple(range(-dims, 0))) if dims > 0 else value


class TransformedDistribution(Distribution):
    """``base_distribution`` pushed through ``transforms``, in order. As PyTorch's, the
    base is expanded to the shape the transforms need and its batch dimensions that a
    transform reads as one event (``AffineTransform(event_dim=1)``,
    ``StickBreakingTransform``) are made event dimensions (``Independent``); the event
    shape is the transforms' output's.

    PyTorch equivalent: ``torch.distributions.TransformedDistribution``.
    """

    def __init__(self, base_distribution: Any, transforms: Any,
                 validate_args: bool | None = None) -> None:
        if isinstance(transforms, transforms_module.Transform):
            transforms = [transforms]
        elif not isinstance(transforms, list) or \
                not all(isinstance(t, transforms_module.Transform) for t in transforms):
            raise ValueError(f"transforms must be a Transform or a list of Transforms, but "
                             f"was {transforms}")
        self.transforms = list(transforms)
        base_shape = tuple(base_distribution.batch_shape) + tuple(
            base_distribution.event_shape)
        base_event_dim = len(base_distribution.event_shape)
        transform = transforms_module.ComposeTransform(self.transforms)
        if len(base_shape) < transform.domain.event_dim:
            raise ValueError(f"base_distribution needs to have shape with size at least "
                             f"{transform.domain.event_dim}, but got {base_shape}.")
        forward_shape = tuple(transform.forward_shape(base_shape))
        expanded_base_shape = tuple(transform.inverse_shape(forward_shape))
        if base_shape != expanded_base_shape:
            base_distribution = base_distribution.expand(
                expanded_base_shape[:len(expanded_base_shape) - base_event_dim])
        reinterpreted = transform.domain.event_dim - base_event_dim
        if reinterpreted > 0:
            base_distribution = Independent(base_distribution, reinterpreted)
        self.base_dist = base_distribution
        event_dim = max(transform.codomain.event_dim, base_event_dim
                        + transform.codomain.event_dim - transform.domain.event_dim)
        cut = len(forward_shape) - event_dim
        self.batch_shape = Size(forward_shape[:cut])
        self.event_shape = Size(forward_shape[cut:])
        self.has_rsample = base_distribution.has_rsample
        self._validate_args = validate_args

    def __repr__(self) -> str:
        # PyTorch's: the parameters of a subclass's own (Weibull's scale and
        # concentration), none where they are its base's
        return Distribution.__repr__(self)

    arg_constraints: dict[str, constraints.Constraint] = {}

    @constraints.dependent_property(is_discrete=False)
    def support(self) -> constraints.Constraint:
        """The last transform's codomain (the base's support without transforms), over
        the event dimensions."""
        if not self.transforms:
            return self.base_dist.support  # type: ignore[no-any-return]
        support: constraints.Constraint = self.transforms[-1].codomain
        if len(self.event_shape) > support.event_dim:
            support = constraints.independent(support,
                                              len(self.event_shape) - support.event_dim)
        return support

    def expand(self, batch_shape: Any, _instance: Any = None) -> Distribution:
        """The base expanded (the transforms act elementwise); a subclass's own
        parameters expanded."""
        if type(self) is not TransformedDistribution:
            return Distribution.expand(self, batch_shape)
        return TransformedDistribution(self.base_dist.expand(batch_shape), self.transforms,
                                       validate_args=self._validation)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        from fnnet.torch._autograd import no_grad

        with no_grad():
            x = self.base_dist.sample(sample_shape)
            for transform in self.transforms:
                x = transform(x)
            return x  # type: ignore[no-any-return]

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """Base draws through the transforms, differentiable where the base's are."""
        x = self.base_dist.rsample(sample_shape)
        for transform in self.transforms:
            x = transform(x)
        return x  # type: ignore[no-any-return]

    def log_prob(self, value: Any) -> Tensor:
        """The base's log-density of the inverted value, less each transform's
        ``log|dy/dx|`` summed over the event dimensions."""
        event_dim = len(self.event_shape)
        log_prob: Any = 0.0
        y = self._validate_sample(value)
        for transform in reversed(self.transforms):
            x = transform.inv(y)
            event_dim += transform.domain.event_dim - transform.codomain.event_dim
            log_prob = log_prob - _sum_rightmost(transform.log_abs_det_jacobian(x, y),
                                                 event_dim - transform.domain.event_dim)
            y = x
        out: Tensor = log_prob + _sum_rightmost(self.base_dist.log_prob(y),
                                                event_dim - len(self.base_dist.event_shape))
        return out

    def _monotonized(self, probability: Tensor) -> Tensor:
        """``probability`` flipped (``1 - p``) where the transforms decrease."""
        sign: Any = 1
        for transform in self.transforms:
            sign = sign * transform.sign
        if isinstance(sign, int) and sign == 1:
            return probability
        out: Tensor = sign * (probability - 0.5) + 0.5
        return out

    def cdf(self, value: Any) -> Tensor:
        """The base's cdf of the inverted value (its complement through decreasing
        transforms)."""
        x = self._validate_sample(value)
        for transform in reversed(self.transforms):
            x = transform.inv(x)
        return self._monotonized(self.base_dist.cdf(x))

    def icdf(self, value: Any) -> Tensor:
        y = self.base_dist.icdf(self._monotonized(_tensor(value)))
        for transform in self.transforms:
            y = transform(y)
        return y  # type: ignore[no-any-return]


def _mahalanobis(scale_tril: Tensor, diff: Tensor) -> Tensor:
    """``|L^-1 diff|^2`` over the last axis (``L: [..., k, k]``, ``diff: [..., k]``,
    broadcast against each other)."""
    from fnnet.torch import linalg

    shape = tuple(np.broadcast_shapes(tuple(scale_tril.shape[:-2]), tuple(diff.shape[:-1])))
    k = int(diff.shape[-1])
    whitened = linalg.solve_triangular(scale_tril.expand(*shape, k, k),
                                       diff.expand(*shape, k).unsqueeze(-1), upper=False)
    return whitened.squeeze(-1).pow(2).sum(-1)


class Independent(Distribution):
    """``base`` with its last ``reinterpreted_batch_ndims`` batch dimensions read as one
    event: ``log_prob`` and ``entropy`` sum over them (a diagonal Gaussian over a vector,
    as a VAE's encoder or a continuous policy writes it).

    PyTorch equivalent: ``torch.distributions.Independent``.
    """

    def __init__(self, base_distribution: Distribution, reinterpreted_batch_ndims: int,
                 validate_args: bool | None = None) -> None:
        batch = tuple(base_distribution.batch_shape)
        n = reinterpreted_batch_ndims
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= len(batch):
            raise ValueError(f"Expected reinterpreted_batch_ndims <= len(base_distribution."
                             f"batch_shape), actual {n} vs {len(batch)}")
        self.base_dist, self.reinterpreted_batch_ndims = base_distribution, n
        self.has_rsample = base_distribution.has_rsample
        self.has_enumerate_support = n == 0 and base_distribution.has_enumerate_support
        self.batch_shape = Size(batch[:len(batch) - n])
        self.event_shape = Size(batch[len(batch) - n:] + tuple(base_distribution.event_shape))

    def _summed(self, value: Tensor) -> Tensor:
        n = self.reinterpreted_batch_ndims
        return value.sum(tuple(range(-n, 0))) if n else value

    def _params(self) -> dict[str, Any]:
        return {"base_distribution": self.base_dist}

    def __repr__(self) -> str:
        return f"Independent({self.base_dist}, {self.reinterpreted_batch_ndims})"

    arg_constraints: dict[str, constraints.Constraint] = {}

    @constraints.dependent_property
    def support(self) -> constraints.Constraint:
        """The base's support over the reinterpreted dimensions too."""
        result = self.base_dist.support
        if self.reinterpreted_batch_ndims:
            result = constraints.independent(result, self.reinterpreted_batch_ndims)
        return result

    def expand(self, batch_shape: Any, _instance: Any = None) -> Distribution:
        """The base expanded to ``batch_shape`` and the reinterpreted dimensions."""
        n = self.reinterpreted_batch_ndims
        base = self.base_dist.expand(
            _shape(batch_shape) + tuple(self.event_shape)[:n] if n else _shape(batch_shape))
        return Independent(base, n, validate_args=self._validation)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """The base's support; refused, as PyTorch's, over reinterpreted dimensions."""
        if self.reinterpreted_batch_ndims > 0:
            raise NotImplementedError("Enumeration over cartesian product is not implemented")
        return self.base_dist.enumerate_support(expand=expand)

    @property
    def mean(self) -> Tensor:
        return self.base_dist.mean

    @property
    def variance(self) -> Tensor:
        return self.base_dist.variance

    @property
    def stddev(self) -> Tensor:
        return self.base_dist.stddev

    @property
    def mode(self) -> Tensor:
        return self.base_dist.mode

    def sample(self, sample_shape: Any = ()) -> Tensor:
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value: Any) -> Tensor:
        return self._summed(self.base_dist.log_prob(value))  # type: ignore[attr-defined]

    def entropy(self) -> Tensor:
        return self._summed(self.base_dist.entropy())


@jax.custom_jvp
def _reparameterized_gamma(concentration: jax.Array, draw: jax.Array) -> jax.Array:
    """``draw`` (a standard Gamma sample of ``concentration``) with the implicit
    reparameterisation gradient ``d draw / d concentration`` (as PyTorch's
    ``_standard_gamma`` backward)."""
    return draw


@_reparameterized_gamma.defjvp
def _reparameterized_gamma_jvp(primals: tuple[jax.Array, jax.Array],
                               tangents: tuple[jax.Array, jax.Array]
                               ) -> tuple[jax.Array, jax.Array]:
    concentration, draw = primals
    return draw, jax.lax.random_gamma_grad(concentration, draw) * tangents[0]


def _standard_gamma(concentration: Tensor, dirichlet: bool = False) -> Tensor:
    """Standard Gamma draws of ``concentration``'s shape, drawn now on the host as
    PyTorch's CPU kernel draws them (jax's Gamma sampler compiles for seconds per shape),
    differentiable in ``concentration``; ``dirichlet``: as PyTorch's Dirichlet kernel
    draws them, in float64."""
    shape = np.asarray(concentration.detach()._value())
    precision = np.float64 if dirichlet else shape.dtype
    draw = _random.state.host.standard_gamma(shape, precision).astype(np.float32)
    draw = np.maximum(draw, np.finfo(np.float32).tiny)
    return _op(_reparameterized_gamma, (), concentration, _wrap_value(draw),
               who="_standard_gamma")


class Gamma(Distribution):
    """``Gamma(concentration, rate)``: density ``rate^a x^(a-1) e^(-rate x) / Gamma(a)``.

    PyTorch equivalent: ``torch.distributions.Gamma``.
    """

    has_rsample = True

    def __init__(self, concentration: Any, rate: Any, validate_args: bool | None = None
                 ) -> None:
        self.concentration, self.rate = _broadcast_all(concentration, rate)
        params = {"concentration": self.concentration, "rate": self.rate}
        for name, value in params.items():
            _check(name, value, _POSITIVE, validate_args, type(self).__name__, params)
        self.batch_shape = Size(tuple(self.rate.shape))
        self._validate_args = validate_args

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative

    def _params(self) -> dict[str, Any]:
        return {"concentration": self.concentration, "rate": self.rate}

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.rate

    @property
    def mode(self) -> Tensor:
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self) -> Tensor:
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """Draws differentiable in both parameters (implicit reparameterisation)."""
        shape = self._extended(sample_shape)
        return _standard_gamma(self.concentration.expand(*shape)) / self.rate.expand(*shape)

    def log_prob(self, value: Any) -> Tensor:
        value = self._validate_sample(value)
        out: Tensor = (_surface_ops.xlogy(self.concentration, self.rate)
                       + _surface_ops.xlogy(self.concentration - 1, value)
                       - self.rate * value - self.concentration.lgamma())
        return out

    def entropy(self) -> Tensor:
        c = self.concentration
        out: Tensor = c - self.rate.log() + c.lgamma() + (1.0 - c) * c.digamma()
        return out

    def cdf(self, value: Any) -> Tensor:
        """The regularised lower incomplete gamma function of ``rate * value``."""
        scaled = self.rate * self._validate_sample(value)
        concentration, scaled = _shape_ops.broadcast_tensors(self.concentration, scaled)
        out: Tensor = special.gammainc(concentration, scaled)
        return out


class Dirichlet(Distribution):
    """``Dirichlet(concentration)`` over the simplex of ``concentration``'s last axis.

    PyTorch equivalent: ``torch.distributions.Dirichlet``.
    """

    has_rsample = True

    def __init__(self, concentration: Any, validate_args: bool | None = None) -> None:
        concentration = _tensor(concentration)
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        _check("concentration", concentration, self.arg_constraints["concentration"],
               validate_args, "Dirichlet", {"concentration": concentration})
        self.concentration = concentration
        self.batch_shape = Size(tuple(concentration.shape[:-1]))
        self.event_shape = Size(tuple(concentration.shape[-1:]))
        self._validate_args = validate_args

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex

    def _params(self) -> dict[str, Any]:
        return {"concentration": self.concentration}

    @property
    def mean(self) -> Tensor:
        out: Tensor = self.concentration / self.concentration.sum(-1, True)
        return out

    @property
    def mode(self) -> Tensor:
        minus_one = (self.concentration - 1).clamp(min=0.0)
        mode = minus_one / minus_one.sum(-1, True)
        # all concentrations below 1: the density peaks at the vertex of the largest
        corner = F.one_hot(mode.argmax(-1), int(mode.shape[-1])).to(mode.dtype)
        below = (self.concentration < 1).all(-1, keepdim=True)
        return _functions.where(below, corner, mode)

    @property
    def variance(self) -> Tensor:
        total = self.concentration.sum(-1, True)
        out: Tensor = self.concentration * (total - self.concentration) / (
            total.pow(2) * (total + 1))
        return out

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """Normalised Gamma draws, differentiable in ``concentration``."""
        gammas = _standard_gamma(self.concentration.expand(*self._extended(sample_shape)),
                                 dirichlet=True)
        eps = float(np.finfo(np.float32).eps)
        return (gammas / gammas.sum(-1, True)).clamp(float(np.finfo(np.float32).tiny), 1 - eps)

    def log_prob(self, value: Any) -> Tensor:
        c = self.concentration
        out: Tensor = (_surface_ops.xlogy(c - 1.0, self._validate_sample(value)).sum(-1)
                       + c.sum(-1).lgamma() - c.lgamma().sum(-1))
        return out

    def entropy(self) -> Tensor:
        c = self.concentration
        k, total = int(c.shape[-1]), c.sum(-1)
        out: Tensor = (c.lgamma().sum(-1) - total.lgamma() - (k - total) * total.digamma()
                       - ((c - 1.0) * c.digamma()).sum(-1))
        return out


class Beta(Distribution):
    """``Beta(concentration1, concentration0)`` on ``[0, 1]``: the two-category
    :class:`Dirichlet` read at its first category (as PyTorch builds it).

    PyTorch equivalent: ``torch.distributions.Beta``.
    """

    has_rsample = True

    def __init__(self, concentration1: Any, concentration0: Any,
                 validate_args: bool | None = None) -> None:
        if not isinstance(concentration1, Tensor) and not isinstance(concentration0, Tensor):
            both = _tensor([float(concentration1), float(concentration0)])
        else:
            both = _functions.stack(_shape_ops.broadcast_tensors(
                _tensor(concentration1), _tensor(concentration0)), -1)
        numbers = not isinstance(concentration1, Tensor) and \
            not isinstance(concentration0, Tensor)
        _check("concentration", both, Dirichlet.arg_constraints["concentration"],
               True if numbers and validate_args is None else validate_args,
               "Dirichlet", {"concentration": both})
        self._dirichlet = Dirichlet(both, validate_args=False)
        self.batch_shape = self._dirichlet.batch_shape
        self._validate_args = validate_args

    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval

    @property
    def concentration1(self) -> Tensor:
        out: Tensor = self._dirichlet.concentration[..., 0]
        return out

    @property
    def concentration0(self) -> Tensor:
        out: Tensor = self._dirichlet.concentration[..., 1]
        return out

    @property
    def mean(self) -> Tensor:
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self) -> Tensor:
        return self._dirichlet.mode[..., 0]

    @property
    def variance(self) -> Tensor:
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self._dirichlet.rsample(sample_shape)[..., 0]

    def log_prob(self, value: Any) -> Tensor:
        value = self._validate_sample(value)
        return self._dirichlet.log_prob(_functions.stack([value, 1.0 - value], -1))

    def entropy(self) -> Tensor:
        return self._dirichlet.entropy()


#: ``register_kl``'s functions by the pair of classes they were registered for
_KL_REGISTRY: dict[tuple[type, type], Callable[[Any, Any], Tensor]] = {}


def register_kl(type_p: type, type_q: type) -> Callable[[Callable[..., Tensor]],
                                                        Callable[..., Tensor]]:
    """A decorator that makes ``fn(p, q)`` :func:`kl_divergence`'s answer for ``p`` of
    class ``type_p`` and ``q`` of ``type_q`` (or subclasses: the most specific pair
    registered wins), before the pairs fnnet.torch computes itself.

    PyTorch equivalent: ``torch.distributions.register_kl``.
    """
    # issubclass raises PyTorch's TypeError for what is not a class
    issubclass(type_p, Distribution)
    issubclass(type_q, Distribution)

    def decorator(fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
        _KL_REGISTRY[type_p, type_q] = fn
        return fn

    return decorator


def _registered_kl(p: Any, q: Any) -> Callable[[Any, Any], Tensor] | None:
    """The registered function of the most specific pair of ``p``'s and ``q``'s
    classes (nearest in their MROs), None if none matches."""
    mro_p, mro_q = type(p).__mro__, type(q).__mro__
    matches = [(mro_p.index(tp) + mro_q.index(tq), fn)
               for (tp, tq), fn in _KL_REGISTRY.items() if tp in mro_p and tq in mro_q]
    return min(matches, key=lambda match: match[0])[1] if matches else None


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """``KL(p || q)``: what :func:`register_kl` registered for their classes, else for
    two distributions of one kind (Normal, MultivariateNormal, Uniform, Bernoulli,
    Categorical, Gamma, Beta, Dirichlet, Laplace, Exponential, Poisson, Binomial or
    Pareto).

    PyTorch equivalent: ``torch.distributions.kl_divergence``.
    """
    registered = _registered_kl(p, q)
    if registered is not None:
        return registered(p, q)
    if type(p) is not type(q):
        raise NotImplementedError(f"fnnet.torch: kl_divergence between {type(p).__name__} "
                                  f"and {type(q).__name__} is not supported")
    if isinstance(p, Independent) and isinstance(q, Independent):
        if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
            raise NotImplementedError("fnnet.torch: kl_divergence between Independent "
                                      "distributions of different event dimensions")
        return p._summed(kl_divergence(p.base_dist, q.base_dist))
    if isinstance(p, Laplace) and isinstance(q, Laplace):
        scale_ratio = p.scale / q.scale
        loc_distance = (p.loc - q.loc).abs()
        out: Tensor = (-scale_ratio.log() + loc_distance / q.scale
                       + scale_ratio * (-loc_distance / p.scale).exp() - 1)
        return out
    if isinstance(p, Exponential) and isinstance(q, Exponential):
        rate_ratio = q.rate / p.rate
        out = -rate_ratio.log() + rate_ratio - 1
        return out
    if isinstance(p, Normal) and isinstance(q, Normal):
        var_ratio = (p.scale / q.scale).pow(2)
        t1 = ((p.loc - q.loc) / q.scale).pow(2)
        return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())
    if isinstance(p, Categorical) and isinstance(q, Categorical):
        t = p.probs * (p.logits - q.logits)
        t = t.masked_fill(q.probs == 0, float("inf")).masked_fill(p.probs == 0, 0.0)
        return t.sum(-1)
    if isinstance(p, Bernoulli) and isinstance(q, Bernoulli):
        t1 = p.probs * (softplus(-q.logits) - softplus(-p.logits))
        t1 = t1.masked_fill(q.probs == 0, float("inf")).masked_fill(p.probs == 0, 0.0)
        t2 = (1 - p.probs) * (softplus(q.logits) - softplus(p.logits))
        t2 = t2.masked_fill(q.probs == 1, float("inf")).masked_fill(p.probs == 1, 0.0)
        return t1 + t2
    if isinstance(p, MultivariateNormal) and isinstance(q, MultivariateNormal):
        if p.event_shape != q.event_shape:
            # PyTorch's message, its run of spaces included
            raise ValueError("KL-divergence between two Multivariate Normals with"
                             "                          different event shapes cannot be "
                             "computed")
        from fnnet.torch import linalg

        n = int(p.event_shape[0])
        lp, lq = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
        batch = tuple(np.broadcast_shapes(tuple(lq.shape[:-2]), tuple(lp.shape[:-2])))
        solved = linalg.solve_triangular(lq.expand(*batch, n, n), lp.expand(*batch, n, n),
                                         upper=False)
        term2 = solved.pow(2).sum((-2, -1))
        return q._half_log_det() - p._half_log_det() + 0.5 * (
            term2 + _mahalanobis(lq, q.loc - p.loc) - n)
    if isinstance(p, Beta) and isinstance(q, Beta):
        return kl_divergence(p._dirichlet, q._dirichlet)
    if isinstance(p, Dirichlet) and isinstance(q, Dirichlet):
        total_p, total_q = p.concentration.sum(-1), q.concentration.sum(-1)
        t1 = total_p.lgamma() - total_q.lgamma()
        t2 = (p.concentration.lgamma() - q.concentration.lgamma()).sum(-1)
        t3 = p.concentration - q.concentration
        t4 = p.concentration.digamma() - total_p.digamma().unsqueeze(-1)
        kl: Tensor = t1 - t2 + (t3 * t4).sum(-1)
        return kl
    if isinstance(p, Gamma) and isinstance(q, Gamma):
        t1 = q.concentration * (p.rate / q.rate).log()
        t2 = q.concentration.lgamma() - p.concentration.lgamma()
        t3 = (p.concentration - q.concentration) * p.concentration.digamma()
        t4 = (q.rate - p.rate) * (p.concentration / p.rate)
        gamma_kl: Tensor = t1 + t2 + t3 + t4
        return gamma_kl
    if isinstance(p, Poisson) and isinstance(q, Poisson):
        out = p.rate * (p.rate.log() - q.rate.log()) - (p.rate - q.rate)
        return out
    if isinstance(p, Uniform) and isinstance(q, Uniform):
        result = ((q.high - q.low) / (p.high - p.low)).log()
        outside = (q.low > p.low) | (q.high < p.high)
        return result.masked_fill(outside, float("inf"))
    raise NotImplementedError(f"fnnet.torch: kl_divergence of {type(p).__name__} is not "
                              f"supported")


# the distributions of one parameter family more: Laplace, Exponential, Poisson,
# LogNormal and StudentT

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
    ``arg_constraints["rate"]``."""

    arg_constraints = {"rate": constraints.positive}

    def __init__(self, rate: Any, validate_args: bool | None = None) -> None:
        _check("rate", rate, self.arg_constraints["rate"], validate_args,
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
    support = constraints.nonnegative

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
        """Standard exponential draws (``Tensor.exponential_``'s, PyTorch's) over
        ``rate``: differentiable in ``rate``."""
        draws = _functions.empty(*self._extended(sample_shape)).exponential_()
        out: Tensor = draws / self.rate
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

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

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
        """Counts (float, as PyTorch's), drawn now from the global generator as
        PyTorch's CPU sampler draws them (the rates are read)."""
        shape = self._extended(sample_shape)
        rate = np.broadcast_to(np.asarray(self.rate.detach().numpy(), np.float64), shape)
        return _wrap_value(_random.state.host.poisson(rate).astype(np.float32))

    def log_prob(self, value: Any) -> Tensor:
        value, rate = _shape_ops.broadcast_tensors(self._validate_sample(value), self.rate)
        out: Tensor = value.xlogy(rate) - rate - (value + 1).lgamma()
        return out


class LogNormal(TransformedDistribution):
    """``LogNormal(loc, scale)``: ``exp`` of a ``Normal(loc, scale)``.

    PyTorch equivalent: ``torch.distributions.LogNormal``.
    """

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        super().__init__(Normal(loc, scale, validate_args=validate_args),
                         transforms_module.ExpTransform(),
                         validate_args=validate_args)
        self._validate_args = validate_args

    def __repr__(self) -> str:
        return "LogNormal()"

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.positive

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
        _check("df", df, _POSITIVE, validate_args, "Chi2", {})
        self.df, self.loc, self.scale = _broadcast_all(df, loc, scale)
        _check("scale", scale, _POSITIVE, validate_args, "StudentT",
               {"df": self.df, "loc": self.loc, "scale": self.scale}, tuple(self.df.shape))
        self.batch_shape = Size(tuple(self.df.shape))
        self._validate_args = validate_args

    def _params(self) -> dict[str, Any]:
        return {"df": self.df, "loc": self.loc, "scale": self.scale}

    arg_constraints = {"df": constraints.positive, "loc": constraints.real,
                       "scale": constraints.positive}
    support = constraints.real

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



_EULER_GAMMA = 0.57721566490153286060


class Cauchy(_LocationScale):
    """``Cauchy(loc, scale)``: density ``1 / (pi scale (1 + ((x - loc) / scale)^2))``.

    PyTorch equivalent: ``torch.distributions.Cauchy``.
    """

    @property
    def mean(self) -> Tensor:
        out: Tensor = self.loc * float("nan")  # undefined
        return out

    @property
    def variance(self) -> Tensor:
        out: Tensor = _functions.full_like(self.loc, float("inf"))
        return out

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """``loc + scale * eps``, ``eps`` standard Cauchy draws (``Tensor.cauchy_``'s)."""
        eps = _functions.empty(*self._extended(sample_shape)).cauchy_()
        out: Tensor = self.loc + eps * self.scale
        return out

    def log_prob(self, value: Any) -> Tensor:
        z = (self._validate_sample(value) - self.loc) / self.scale
        out: Tensor = -math.log(math.pi) - self.scale.log() - z.pow(2).log1p()
        return out

    def cdf(self, value: Any) -> Tensor:
        out: Tensor = ((self._validate_sample(value) - self.loc) / self.scale).atan() / \
            math.pi + 0.5
        return out

    def icdf(self, value: Any) -> Tensor:
        out: Tensor = (math.pi * (_tensor(value) - 0.5)).tan() * self.scale + self.loc
        return out

    def entropy(self) -> Tensor:
        out: Tensor = math.log(4 * math.pi) + self.scale.log()
        return out


class Gumbel(_LocationScale):
    """``Gumbel(loc, scale)``: density ``exp(-(z + exp(-z))) / scale``, ``z = (x - loc) /
    scale``.

    PyTorch equivalent: ``torch.distributions.Gumbel``.
    """

    @property
    def mean(self) -> Tensor:
        return self.loc + self.scale * _EULER_GAMMA

    @property
    def stddev(self) -> Tensor:
        out: Tensor = (math.pi / math.sqrt(6)) * self.scale
        return out

    @property
    def variance(self) -> Tensor:
        return self.stddev.pow(2)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """``loc - scale * log(-log(u))``, ``u`` uniform on ``(tiny, 1 - eps)`` (PyTorch's
        draws and transforms)."""
        finfo = np.finfo(np.float32)
        u = Uniform(float(finfo.tiny), float(1 - finfo.eps), validate_args=False).rsample(
            self._extended(sample_shape))
        out: Tensor = self.loc - self.scale * (-u.log()).log()
        return out

    def log_prob(self, value: Any) -> Tensor:
        y = (self.loc - self._validate_sample(value)) / self.scale
        out: Tensor = (y - y.exp()) - self.scale.log()
        return out

    def cdf(self, value: Any) -> Tensor:
        out: Tensor = ((self.loc - self._validate_sample(value)) / self.scale).exp().neg().exp()
        return out

    def icdf(self, value: Any) -> Tensor:
        out: Tensor = self.loc - self.scale * (-_tensor(value).log()).log()
        return out

    def entropy(self) -> Tensor:
        out: Tensor = self.scale.log() + (1 + _EULER_GAMMA)
        return out


class HalfNormal(Distribution):
    """``HalfNormal(scale)``: the absolute value of ``Normal(0, scale)``.

    PyTorch equivalent: ``torch.distributions.HalfNormal``.
    """

    has_rsample = True

    def __init__(self, scale: Any, validate_args: bool | None = None) -> None:
        self.base_dist = Normal(0.0, scale, validate_args=validate_args)
        self.scale = self.base_dist.scale
        self.batch_shape = self.base_dist.batch_shape
        self._validate_args = validate_args

    def _params(self) -> dict[str, Any]:
        return {}  # PyTorch's repr: its scale is a property, so not shown

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative

    @property
    def mean(self) -> Tensor:
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def mode(self) -> Tensor:
        return _functions.zeros_like(self.scale)

    @property
    def variance(self) -> Tensor:
        return self.scale.pow(2) * (1 - 2 / math.pi)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self.base_dist.rsample(sample_shape).abs()

    def log_prob(self, value: Any) -> Tensor:
        value = self._validate_sample(value)
        density = self.base_dist.log_prob(value) + math.log(2)
        out: Tensor = _functions.where(value >= 0, density, float("-inf"))
        return out

    def cdf(self, value: Any) -> Tensor:
        out: Tensor = 2 * self.base_dist.cdf(self._validate_sample(value)) - 1
        return out

    def icdf(self, prob: Any) -> Tensor:
        return self.base_dist.icdf((_tensor(prob) + 1) / 2)

    def entropy(self) -> Tensor:
        out: Tensor = self.base_dist.entropy() - math.log(2)
        return out


class Chi2(Gamma):
    """``Chi2(df)``: ``Gamma(df / 2, 1 / 2)``. PyTorch equivalent:
    ``torch.distributions.Chi2``."""

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df: Any, validate_args: bool | None = None) -> None:
        # PyTorch's repr of a Chi2 names no parameter (df is computed from its Gamma's)
        _check("df", df, _POSITIVE, validate_args, "Chi2", {})
        df = _tensor(df)
        super().__init__(0.5 * df, _functions.full_like(df, 0.5), validate_args)

    def _params(self) -> dict[str, Any]:
        return {}  # PyTorch's repr: its df is a property, so not shown

    @property
    def df(self) -> Tensor:
        return self.concentration * 2


def _check_geometric_positive(probs: Any, validate: bool | None) -> None:
    """PyTorch's further check of Geometric's ``probs``: none may be 0 (its message lists
    the ones that are)."""
    if validate is False or (validate is None and not Distribution._default_validate):
        return
    held = _host(probs)
    if held is None:
        if not validate:
            return
        held = np.asarray(_tensor(probs).detach().numpy())
    if not np.all(held > 0):
        tensor = _tensor(probs)
        shape = tuple(tensor.shape)
        raise ValueError(f"Expected parameter probs (Tensor of shape {shape}) of distribution "
                         f"Geometric(probs: {_described(tensor)}) to be positive but found "
                         f"invalid values:\n{_tensor(held[~(held > 0)])}")


class Geometric(Distribution):
    """``Geometric(probs=...)`` or ``(logits=...)``: the number of failures before the
    first success.

    PyTorch equivalent: ``torch.distributions.Geometric``.
    """

    def __init__(self, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        probs, logits = _probs_or_logits(probs, logits, "Geometric")
        if probs is not None:
            _check("probs", probs, constraints.unit_interval, validate_args, "Geometric",
                   {"probs": probs})
            _check_geometric_positive(probs, validate_args)
            self.probs = _tensor(probs)
            self.logits = self.probs.log() - (-self.probs).log1p()
        else:
            self.logits = _tensor(logits)
            self.probs = self.logits.sigmoid()
        self.batch_shape = Size(tuple(self.probs.shape))
        self._validate_args = validate_args

    def _params(self) -> dict[str, Any]:
        return {"probs": self.probs}

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    @property
    def mean(self) -> Tensor:
        out: Tensor = 1.0 / self.probs - 1.0
        return out

    @property
    def mode(self) -> Tensor:
        return _functions.zeros_like(self.probs)

    @property
    def variance(self) -> Tensor:
        out: Tensor = (1.0 / self.probs - 1.0) / self.probs
        return out

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """``floor(log(u) / log(1 - probs))``, ``u`` uniform on ``(tiny, 1)`` (PyTorch's)."""
        from fnnet.torch._autograd import no_grad

        tiny = float(np.finfo(np.float32).tiny)
        with no_grad():
            u = _functions.empty(*self._extended(sample_shape)).uniform_(tiny, 1)
            out: Tensor = (u.log() / (-self.probs).log1p()).floor()
        return out

    def log_prob(self, value: Any) -> Tensor:
        value = self._validate_sample(value)
        value, probs = _shape_ops.broadcast_tensors(value, self.probs)
        # a certain success at once has probability 1 (0 * log(0) taken as 0)
        probs = probs.masked_fill((probs == 1) & (value == 0), 0.0)
        out: Tensor = value * (-probs).log1p() + self.probs.log()
        return out

    def entropy(self) -> Tensor:
        out: Tensor = F.binary_cross_entropy_with_logits(
            self.logits, self.probs, reduction="none") / self.probs
        return out


class OneHotCategorical(Distribution):
    """``OneHotCategorical(probs=...)`` or ``(logits=...)``: :class:`Categorical` with its
    values as one-hot vectors.

    PyTorch equivalent: ``torch.distributions.OneHotCategorical``.
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.one_hot

    def __init__(self, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        self._categorical = Categorical(probs, logits, validate_args)
        self.probs, self.logits = self._categorical.probs, self._categorical.logits
        self.batch_shape = self._categorical.batch_shape
        self.event_shape = Size((int(self.probs.shape[-1]),))
        self._validate_args = validate_args

    @property
    def param_shape(self) -> Size:
        return self._categorical.param_shape

    has_enumerate_support = True

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """The ``n`` one-hot vectors over the batch shape.

        PyTorch equivalent: ``OneHotCategorical.enumerate_support``.
        """
        n = int(self.probs.shape[-1])
        return self._enumerated(_functions.eye(n, dtype=self.probs.dtype), expand)

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        return F.one_hot(self.probs.argmax(-1), int(self.probs.shape[-1])).to(self.probs.dtype)

    @property
    def variance(self) -> Tensor:
        out: Tensor = self.probs * (1 - self.probs)
        return out

    def sample(self, sample_shape: Any = ()) -> Tensor:
        index = self._categorical.sample(sample_shape)
        return F.one_hot(index, int(self.probs.shape[-1])).to(self.probs.dtype)

    def log_prob(self, value: Any) -> Tensor:
        value = self._validate_sample(value)
        return self._categorical.log_prob(value.max(-1)[1])

    def entropy(self) -> Tensor:
        return self._categorical.entropy()

class OneHotCategoricalStraightThrough(OneHotCategorical):
    """:class:`OneHotCategorical` whose ``rsample`` passes gradients straight through:
    the one-hot draw forward, the gradient of ``probs`` backward.

    PyTorch equivalent: ``torch.distributions.OneHotCategoricalStraightThrough``.
    """

    has_rsample = True

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        out: Tensor = self.sample(sample_shape) + (self.probs - self.probs.detach())
        return out
