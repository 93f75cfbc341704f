"""``torch.amp``: the mixed-precision API, accepted so that programs written for it run.

Inside an enabled :class:`autocast` region of the device the tensors live on (``"cpu"``,
or ``"cuda"`` where JAX has a GPU), the matrix products, linear layers, convolutions and
attention run in the region's lower precision and the losses in float32, as PyTorch's
autocast casts them (see ``fnnet.torch._autocast``); a region for another device, or
disabled, changes nothing.

:class:`GradScaler` is PyTorch's: it scales the loss, unscales the gradients, skips the
optimizer's step when one of them is not finite and grows or backs off its scale. As in
PyTorch, a scaler for ``"cuda"`` where JAX sees no GPU is disabled (a pass-through whose
``get_scale`` is 1.0), with PyTorch's warning.
"""

from __future__ import annotations

import contextvars
import enum
import functools
import sys
import warnings
from collections import abc
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from fnnet.torch import _dtypes
from fnnet.torch._gpus import gpus

_F = TypeVar("_F", bound=Callable[..., Any])
_DEVICE_TYPES = ("cpu", "cuda", "xpu", "mps", "hpu", "xla", "mtia", "meta", "ipu")
_DEFAULT_DTYPES = {"cpu": _dtypes.bfloat16, "cuda": _dtypes.float16}
#: the autocast regions entered in this context, innermost last
_active: contextvars.ContextVar[tuple[autocast, ...]] = contextvars.ContextVar(
    "fnnet_torch_autocast", default=())


class autocast:  # noqa: N801 - PyTorch's name
    """A region (``with``) or function (decorator) under mixed precision.

    Args:
        device_type: ``"cuda"``, ``"cpu"``... (PyTorch's device types).
        dtype: the lower precision (default float16 on ``"cuda"``, bfloat16 on
            ``"cpu"``); recorded, not applied (see the module docstring).
        enabled: False makes the region a no-op, as in PyTorch.
        cache_enabled: accepted.

    PyTorch equivalent: ``torch.autocast`` / ``torch.amp.autocast``.
    """

    def __init__(self, device_type: str, dtype: Any = None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: "
                             f"`{type(device_type)}`")
        kind = device_type.split(":")[0]
        if kind not in _DEVICE_TYPES:
            raise RuntimeError(f"autocast: device_type must be one of {_DEVICE_TYPES}, got "
                               f"{device_type!r}")
        if dtype is not None and not isinstance(dtype, _dtypes.dtype):
            raise TypeError(f"autocast: dtype must be a torch dtype, got {dtype!r}")
        self.device = kind
        self.fast_dtype = dtype if dtype is not None else _DEFAULT_DTYPES.get(
            kind, _dtypes.float16)
        self._enabled = bool(enabled)
        if self._enabled and kind == "cuda" and not gpus():
            warnings.warn("CUDA is not available or torch_xla is imported. Disabling "
                          "autocast.", UserWarning, stacklevel=2)
            self._enabled = False
        self._token: contextvars.Token[tuple[autocast, ...]] | None = None
        del cache_enabled

    def __enter__(self) -> autocast:
        self._token = _active.set((*_active.get(), self))
        _recording().autocast_regions += 1
        return self

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _active.reset(self._token)
            self._token = None
            _recording().autocast_regions -= 1

    def __call__(self, fn: _F) -> _F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with autocast(self.device, self.fast_dtype, self._enabled):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def _recording() -> Any:
    """fnnet.torch's tensor module, which counts the open regions (imported late: it
    imports the modules that import this one; ``fnnet.torch.tensor`` as an attribute is
    the function ``torch.tensor``)."""
    return sys.modules["fnnet.torch.tensor"]


def _innermost(device_type: str) -> autocast | None:
    for region in reversed(_active.get()):
        if region.device == device_type:
            return region
    return None


def is_autocast_enabled(device_type: str = "cuda") -> bool:
    """Whether the innermost autocast region of ``device_type`` is enabled. PyTorch
    equivalent: ``torch.is_autocast_enabled``."""
    region = _innermost(device_type)
    return region is not None and region._enabled


def get_autocast_dtype(device_type: str) -> Any:
    """The dtype autocast regions of ``device_type`` name. PyTorch equivalent:
    ``torch.get_autocast_dtype``."""
    region = _innermost(device_type)
    return region.fast_dtype if region is not None else _DEFAULT_DTYPES.get(
        device_type, _dtypes.float16)


def is_autocast_available(device_type: str) -> bool:
    """PyTorch equivalent: ``torch.amp.is_autocast_available``."""
    return device_type in ("cpu", "cuda")


def custom_fwd(fwd: Any = None, *, device_type: str = "cuda", cast_inputs: Any = None
               ) -> Any:
    """Accepted on an ``autograd.Function``'s forward (no casting: see the module
    docstring). PyTorch equivalent: ``torch.amp.custom_fwd``."""
    if fwd is None:
        return lambda f: f
    return fwd


def custom_bwd(bwd: Any = None, *, device_type: str = "cuda") -> Any:
    """Accepted on an ``autograd.Function``'s backward. PyTorch: ``torch.amp.custom_bwd``."""
    if bwd is None:
        return lambda f: f
    return bwd


class _Stage(enum.Enum):
    READY = 0
    UNSCALED = 1
    STEPPED = 2


class GradScaler:
    """Loss scaling against float16 underflow, and the skipping of steps whose gradients
    are not finite.

    Args:
        device: ``"cuda"`` (default) or ``"cpu"``...; a ``"cuda"`` scaler without a GPU is
            disabled, with PyTorch's warning.
        init_scale: the first scale (above 0).
        growth_factor: the scale's factor after ``growth_interval`` steps with finite
            gradients (above 1).
        backoff_factor: the scale's factor after a step skipped for gradients that are
            not finite (between 0 and 1).
        growth_interval: steps with finite gradients between growths (above 0).
        enabled: False makes every method a pass-through.

    PyTorch equivalent: ``torch.amp.GradScaler`` (``torch.cuda.amp.GradScaler``).
    """

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        if not isinstance(device, str):
            raise TypeError(f"GradScaler: device must be a str such as 'cuda', got "
                            f"{device!r}")
        for name, value, ok in (("init_scale", init_scale, init_scale > 0),
                                ("growth_factor", growth_factor, growth_factor > 1.0),
                                ("backoff_factor", backoff_factor, 0 < backoff_factor < 1),
                                ("growth_interval", growth_interval, growth_interval > 0)):
            if not ok:
                raise ValueError(f"GradScaler: {name} is out of range, got {value!r}")
        self._device = device
        self._enabled = bool(enabled)
        if self._enabled and device.split(":")[0] == "cuda":
            if not gpus():
                warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not "
                              "available.  Disabling.", UserWarning, stacklevel=2)
                self._enabled = False
        self._init_scale = float(init_scale)
        self._growth_factor, self._backoff_factor = float(growth_factor), float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._scale: float | None = None  # set by the first scale(), as PyTorch's
        self._growth_tracker = 0
        #: per optimizer (by id): its stage since the last update() and whether its
        #: gradients held a value that is not finite (a bool tensor, read by step())
        self._per_optimizer: dict[int, tuple[_Stage, Any]] = {}

    def is_enabled(self) -> bool:
        """Whether the scaler scales (False where disabled)."""
        return self._enabled

    def _started(self, who: str) -> None:
        """PyTorch's AssertionError for ``who`` before the first ``scale``."""
        if self._scale is None:
            raise AssertionError(f"Attempted {who} but _scale is None.  This may indicate "
                                 f"your script did not use scaler.scale(loss or outputs) "
                                 f"earlier in the iteration.")

    def scale(self, outputs: Any) -> Any:
        """``outputs`` times the scale: a tensor, or the tensors of a list, tuple or
        other iterable (a list or tuple keeps its type, another iterable becomes a map)."""
        if not self._enabled:
            return outputs
        if self._scale is None:
            self._scale = self._init_scale
        factor = self._scale

        def apply(value: Any) -> Any:
            from fnnet.torch.tensor import Tensor

            if isinstance(value, Tensor):
                return value * factor
            if isinstance(value, abc.Iterable):
                scaled = map(apply, value)
                return type(value)(scaled) if isinstance(value, (list, tuple)) else scaled
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")

        return apply(outputs)

    def unscale_(self, optimizer: Any) -> None:
        """Divides ``optimizer``'s gradients by the scale (in place) and notes whether one
        of them is not finite; once per optimizer between updates, before its step."""
        if not self._enabled:
            return
        stage, _ = self._per_optimizer.get(id(optimizer), (_Stage.READY, None))
        if stage is _Stage.UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since "
                               "the last update().")
        if stage is _Stage.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        self._started("unscale_")
        # PyTorch multiplies by the float32 reciprocal of the float32 scale
        inverse = float(np.float32(1.0 / np.float64(np.float32(self._scale))))
        found = None
        for group in optimizer.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                bad = param.grad.isfinite().logical_not().any()
                found = bad if found is None else found.logical_or(bad)
                param.grad.mul_(inverse)
        self._per_optimizer[id(optimizer)] = (_Stage.UNSCALED, found)

    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """``optimizer.step(*args, **kwargs)`` after unscaling its gradients (unless
        ``unscale_`` did), skipped (returning None) where one of them is not finite."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is "
                               "enabled.")
        self._started("step")
        stage, _ = self._per_optimizer.get(id(optimizer), (_Stage.READY, None))
        if stage is _Stage.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if stage is _Stage.READY:
            self.unscale_(optimizer)
        found = self._per_optimizer[id(optimizer)][1]
        if found is None:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        result = None if bool(found) else optimizer.step(*args, **kwargs)
        self._per_optimizer[id(optimizer)] = (_Stage.STEPPED, found)
        return result

    def update(self, new_scale: Any = None) -> None:
        """The next scale: ``new_scale`` where given; else the scale times
        ``backoff_factor`` if a gradient since the last update was not finite, times
        ``growth_factor`` after ``growth_interval`` finite steps in a row."""
        if not self._enabled:
            return
        self._started("update")
        if new_scale is not None:
            from fnnet.torch.tensor import Tensor

            if isinstance(new_scale, Tensor):
                if new_scale.numel() != 1:
                    raise AssertionError("new_scale should be a float or a 1-element tensor "
                                         "with requires_grad=False.")
                if new_scale.dim():  # PyTorch copies it into its 0-d scale
                    raise RuntimeError(f"output with shape [] doesn't match the broadcast "
                                       f"shape {list(new_scale.shape)}")
            self._scale = float(new_scale)
        else:
            found = [f for _, f in self._per_optimizer.values() if f is not None]
            if not found:
                raise AssertionError("No inf checks were recorded prior to update.")
            # float32 arithmetic, as PyTorch's scale tensor
            if any(bool(f) for f in found):
                self._scale = float(np.float32(self._scale) * np.float32(self._backoff_factor))
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    self._scale = float(np.float32(self._scale) *
                                        np.float32(self._growth_factor))
                    self._growth_tracker = 0
        self._per_optimizer = {}

    def get_scale(self) -> float:
        """The current scale (``init_scale`` before the first ``scale``), 1.0 where
        disabled."""
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else self._scale

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = int(new_interval)

    def state_dict(self) -> dict[str, Any]:
        """The scale and its settings (``{}`` where disabled), as PyTorch's."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restores what :meth:`state_dict` returned (nothing where disabled)."""
        if not isinstance(state_dict, dict):
            raise TypeError(f"GradScaler.load_state_dict: expected a dict, got "
                            f"{type(state_dict).__name__}")
        if not self._enabled:
            return
        if not state_dict:
            raise RuntimeError("The source state dict is empty, possibly because it was "
                               "saved from a disabled instance of GradScaler.")
        self._init_scale = float(state_dict["scale"])
        if self._scale is not None:
            self._scale = self._init_scale
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])


class _DeviceAmp:
    """``torch.cuda.amp`` / ``torch.cpu.amp``: the same classes with that device as the
    default."""

    def __init__(self, device_type: str) -> None:
        self._device_type = device_type
        self.custom_fwd = custom_fwd
        self.custom_bwd = custom_bwd

    def _deprecated(self, name: str) -> None:
        """PyTorch's FutureWarning for ``torch.<device>.amp.<name>(...)``."""
        warnings.warn(f"`torch.{self._device_type}.amp.{name}(args...)` is deprecated. "
                      f"Please use `torch.amp.{name}('{self._device_type}', args...)` "
                      f"instead.", FutureWarning, stacklevel=3)

    def autocast(self, enabled: bool = True, dtype: Any = None,
                 cache_enabled: bool = True) -> autocast:
        self._deprecated("autocast")
        return autocast(self._device_type, dtype, enabled, cache_enabled)

    def GradScaler(self, init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,  # noqa: N802
                   backoff_factor: float = 0.5, growth_interval: int = 2000,
                   enabled: bool = True) -> GradScaler:
        self._deprecated("GradScaler")
        return GradScaler(self._device_type, init_scale, growth_factor, backoff_factor,
                          growth_interval, enabled)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        from fnnet.torch.tensor import Unsupported

        raise Unsupported(f"fnnet.torch does not support torch.{self._device_type}.amp."
                          f"{name}; use torch.amp.autocast / torch.amp.GradScaler")


cuda = _DeviceAmp("cuda")
cpu = _DeviceAmp("cpu")


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    from fnnet.torch.tensor import Unsupported

    raise Unsupported(f"fnnet.torch does not support torch.amp.{name}; mixed precision in "
                      f"fnnet is the model's dtype (model.to(torch.bfloat16))")


__all__ = ["GradScaler", "autocast", "custom_bwd", "custom_fwd", "get_autocast_dtype",
           "is_autocast_available", "is_autocast_enabled"]
