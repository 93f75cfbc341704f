"""``torch.amp``: the mixed-precision API, accepted so that programs written for it run.

fnnet.torch computes in the dtypes of its tensors: :class:`autocast` records whether it
is active (``torch.is_autocast_enabled()``) but does not lower matmuls and convolutions
to float16/bfloat16, so a region under autocast computes in float32, as PyTorch's does
with ``enabled=False`` (the usual setting of device-agnostic code on a CPU). On GPUs,
XLA already runs float32 matmuls with reduced-precision passes where
``jax.default_matmul_precision`` allows; for bfloat16 training cast the model with
``model.to(torch.bfloat16)`` or use fnnet's functional API.

Gradients are therefore never float16, so :class:`GradScaler` has nothing to protect
from underflow: it is PyTorch's scaler as a device without float16 gradients (or
``enabled=False``) has it, a pass-through whose ``scale`` returns the loss,
``step`` calls ``optimizer.step()`` and ``get_scale`` is 1.0.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from fnnet.torch import _dtypes

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
        self._token: contextvars.Token[tuple[autocast, ...]] | None = None
        del cache_enabled

    def __enter__(self) -> None:
        self._token = _active.set((*_active.get(), self))

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _active.reset(self._token)
            self._token = None

    def __call__(self, fn: _F) -> _F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with autocast(self.device, self.fast_dtype, self._enabled):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


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


class GradScaler:
    """Loss scaling for float16 gradients: a pass-through here (see the module docstring).

    Args:
        device: ``"cuda"`` (default) or ``"cpu"``...
        init_scale: checked as PyTorch checks it (above 0), otherwise unused.
        growth_factor: checked (above 1), otherwise unused.
        backoff_factor: checked (between 0 and 1), otherwise unused.
        growth_interval: checked (above 0), otherwise unused.
        enabled: accepted; the scaler is a pass-through either way.

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
        self._requested = bool(enabled)

    def is_enabled(self) -> bool:
        """False: nothing is scaled (gradients are never float16 in fnnet.torch)."""
        return False

    def scale(self, outputs: Any) -> Any:
        """``outputs`` unchanged (a tensor or an iterable of them)."""
        return outputs

    def unscale_(self, optimizer: Any) -> None:
        """Nothing to unscale: the gradients were never scaled."""
        del optimizer

    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """``optimizer.step(*args, **kwargs)``: gradients are finite or not exactly as
        without the scaler, so every step is taken."""
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale: Any = None) -> None:
        """Nothing to update."""
        del new_scale

    def get_scale(self) -> float:
        return 1.0

    def get_growth_factor(self) -> float:
        return 2.0

    def get_backoff_factor(self) -> float:
        return 0.5

    def get_growth_interval(self) -> int:
        return 2000

    def state_dict(self) -> dict[str, Any]:
        """``{}``, as PyTorch's disabled scaler returns."""
        return {}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Accepts a state saved by PyTorch's scaler (its scale is not used)."""
        if not isinstance(state_dict, dict):
            raise TypeError(f"GradScaler.load_state_dict: expected a dict, got "
                            f"{type(state_dict).__name__}")


class _DeviceAmp:
    """``torch.cuda.amp`` / ``torch.cpu.amp``: the same classes with that device as the
    default."""

    def __init__(self, device_type: str) -> None:
        self._device_type = device_type
        self.custom_fwd = custom_fwd
        self.custom_bwd = custom_bwd

    def autocast(self, enabled: bool = True, dtype: Any = None,
                 cache_enabled: bool = True) -> autocast:
        return autocast(self._device_type, dtype, enabled, cache_enabled)

    def GradScaler(self, init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,  # noqa: N802
                   backoff_factor: float = 0.5, growth_interval: int = 2000,
                   enabled: bool = True) -> GradScaler:
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
