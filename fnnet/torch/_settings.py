"""PyTorch's process-wide switches and small queries: deterministic algorithms, warn
always, anomaly mode, inference mode, thread counts, denormals, the deprecated
``set_default_tensor_type``, ``typename``, ``get_device``, and ``frombuffer``/``asarray``.

The switches that have nothing to change under XLA are kept and reported back as set, so a
program that sets one and reads it sees what PyTorch shows.
"""

from __future__ import annotations

import builtins
import importlib
import os
import warnings
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from fnnet.torch import _dtypes
from fnnet.torch._autograd import no_grad
from fnnet.torch._functions import tensor_argument
from fnnet.torch._typed import TYPED
from fnnet.torch.tensor import Tensor


class _Switches:
    """The settings a program reads back: deterministic algorithms (and their warn-only
    flag), warn-always, interop threads and whether inference mode is on."""

    deterministic = False
    warn_only = False
    warn_always = False
    threads = os.cpu_count() or 1
    interop_threads = os.cpu_count() or 1
    interop_set = False
    inference = False


_switches = _Switches()


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Kept and reported by :func:`are_deterministic_algorithms_enabled`; XLA's CPU
    programs are deterministic run to run (on GPUs set
    ``XLA_FLAGS=--xla_gpu_deterministic_ops=true`` before starting).

    PyTorch equivalent: ``torch.use_deterministic_algorithms``.
    """
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms(): argument 'mode' (position 1) must "
                        f"be bool, not {type(mode).__name__}")
    _switches.deterministic, _switches.warn_only = mode, bool(warn_only) and mode


def are_deterministic_algorithms_enabled() -> bool:
    """PyTorch equivalent: ``torch.are_deterministic_algorithms_enabled``."""
    return _switches.deterministic


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """PyTorch equivalent: ``torch.is_deterministic_algorithms_warn_only_enabled``."""
    return _switches.warn_only


def get_deterministic_debug_mode() -> int:
    """0 (off), 1 (warn only) or 2 (error). PyTorch equivalent:
    ``torch.get_deterministic_debug_mode``."""
    return 0 if not _switches.deterministic else 1 if _switches.warn_only else 2


def set_deterministic_debug_mode(debug_mode: int | str) -> None:
    """``"default"``/0, ``"warn"``/1 or ``"error"``/2, as
    :func:`use_deterministic_algorithms`. PyTorch equivalent:
    ``torch.set_deterministic_debug_mode``."""
    names = {"default": 0, "warn": 1, "error": 2}
    if isinstance(debug_mode, str):
        if debug_mode not in names:
            raise RuntimeError(f"invalid value of debug_mode, expected one of `default`, "
                               f"`warn`, `error`, but got {debug_mode}")
        debug_mode = names[debug_mode]
    if not isinstance(debug_mode, int) or isinstance(debug_mode, bool):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got "
                           f"{debug_mode}")
    use_deterministic_algorithms(debug_mode > 0, warn_only=debug_mode == 1)


def set_warn_always(b: bool) -> None:
    """Kept for :func:`is_warn_always_enabled`. PyTorch equivalent:
    ``torch.set_warn_always``."""
    _switches.warn_always = bool(b)


def is_warn_always_enabled() -> bool:
    """PyTorch equivalent: ``torch.is_warn_always_enabled``."""
    return _switches.warn_always


def is_anomaly_enabled() -> bool:
    """Whether anomaly mode (JAX's NaN checks, ``jax_debug_nans``) is on.

    PyTorch equivalent: ``torch.is_anomaly_enabled``.
    """
    return bool(jax.config.jax_debug_nans)  # type: ignore[attr-defined]


def nan_checks(mode: bool) -> None:
    """Turns JAX's NaN checks (anomaly mode) on or off."""
    jax.config.update("jax_debug_nans", bool(mode))


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """Anomaly detection on or off (``torch.autograd.set_detect_anomaly``'s switch).

    PyTorch equivalent: ``torch.set_anomaly_enabled``.
    """
    nan_checks(bool(enabled) and bool(check_nan))


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly mode checks for NaN (fnnet.torch's anomaly mode is the NaN check).

    PyTorch equivalent: ``torch.is_anomaly_check_nan_enabled``.
    """
    return True


class inference_mode(no_grad):  # noqa: N801 - PyTorch's name
    """``no_grad`` that :func:`is_inference_mode_enabled` reports (fnnet.torch keeps no
    autograd state to skip beyond that); ``inference_mode(False)`` turns inference mode
    off and gradient recording on inside, and
    ``@torch.inference_mode`` without parentheses decorates, as in PyTorch.

    PyTorch equivalent: ``torch.inference_mode``.
    """

    def __new__(cls, mode: Any = True) -> Any:
        if callable(mode):  # ``@torch.inference_mode`` without parentheses
            return cls()(mode)
        return object.__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)
        self._mode = not self.mode  # the grad mode inside, as PyTorch's guard sets it

    def __enter__(self) -> None:
        from fnnet.torch import _inference

        self._was_inference, _switches.inference = _switches.inference, self.mode
        self._marking = _inference.enter(self.mode)  # tensors made here are inference ones
        super().__enter__()

    def __exit__(self, *exc: Any) -> None:
        from fnnet.torch import _inference

        _switches.inference = self._was_inference
        _inference.leave(self._marking)
        super().__exit__(*exc)

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        from fnnet.torch._autograd import _in_mode

        mode = self.mode
        return _in_mode(func, lambda: inference_mode(mode))

    def clone(self) -> inference_mode:
        return inference_mode(self.mode)


def is_inference_mode_enabled() -> bool:
    """PyTorch equivalent: ``torch.is_inference_mode_enabled``."""
    return _switches.inference


def get_num_threads() -> int:
    """The count :func:`set_num_threads` set, else the CPU's cores (XLA's CPU backend
    runs its own thread pool on every core). PyTorch equivalent: ``torch.get_num_threads``."""
    return _switches.threads


def set_num_threads(int: int) -> None:  # noqa: A002 - PyTorch's name
    """Kept for :func:`get_num_threads`, so that a program reads back what it set; XLA's
    thread pool is not resized.

    PyTorch equivalent: ``torch.set_num_threads``.
    """
    if not isinstance(int, builtins.int | np.integer):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(int).__name__}")
    if int <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    _switches.threads = builtins.int(int)


def get_num_interop_threads() -> int:
    """The count :func:`set_num_interop_threads` set, else the CPU's cores (XLA runs its
    own thread pools). PyTorch equivalent: ``torch.get_num_interop_threads``."""
    return _switches.interop_threads


def set_num_interop_threads(num: int) -> None:
    """Kept for :func:`get_num_interop_threads`; once only, as in PyTorch.

    PyTorch equivalent: ``torch.set_num_interop_threads``.
    """
    if not isinstance(num, int) or isinstance(num, bool):
        raise TypeError(f"set_num_interop_threads(): argument 'num' (position 1) must be "
                        f"int, not {type(num).__name__}")
    if num <= 0:
        raise RuntimeError("Expected positive number of threads")
    if _switches.interop_set:
        raise RuntimeError("Error: cannot set number of interop threads after parallel work "
                           "has started or set_num_interop_threads called")
    _switches.interop_threads, _switches.interop_set = num, True


def set_flush_denormal(mode: bool) -> bool:
    """False: XLA, not fnnet.torch, decides how its programs treat denormal numbers, so
    the mode is not set (PyTorch's answer on a CPU without the switch).

    PyTorch equivalent: ``torch.set_flush_denormal``.
    """
    del mode
    return False


def set_default_tensor_type(t: Any) -> None:
    """The default floating dtype of ``t`` (``torch.DoubleTensor`` or its name
    ``'torch.DoubleTensor'``), with PyTorch's deprecation warning; a ``torch.cuda`` type
    also makes the GPU the default device.

    PyTorch equivalent: ``torch.set_default_tensor_type``.
    """
    from fnnet.torch import cuda, set_default_device, set_default_dtype

    warnings.warn("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please "
                  "use torch.set_default_dtype() and torch.set_default_device() as "
                  "alternatives.", UserWarning, stacklevel=2)
    on_gpu = False
    if isinstance(t, str):
        module, _, name = t.rpartition(".")
        if module not in ("torch", "torch.cuda"):
            importlib.import_module(module or t)  # PyTorch's ModuleNotFoundError
            raise TypeError(f"invalid type: '{t}'")
        if name not in TYPED:
            raise TypeError(f"invalid type: '{t}'")
        if module == "torch.cuda" and not cuda.is_available():
            raise TypeError(f"type {t} not available. Torch not compiled with CUDA enabled.")
        on_gpu, t = module == "torch.cuda", TYPED[name]
    if not isinstance(t, type) or getattr(t, "dtype", None) is None:
        raise TypeError("invalid type object: only floating-point types are supported as "
                        "the default type")
    dtype = getattr(t, "dtype")  # noqa: B009 - a typed tensor class's dtype
    if not dtype.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    set_default_dtype(dtype)
    if on_gpu:
        set_default_device("cuda")


def typename(obj: Any) -> str:
    """A tensor's type name (``'torch.FloatTensor'``), else the object's qualified name.

    PyTorch equivalent: ``torch.typename``.
    """
    if isinstance(obj, Tensor):
        return str(obj.type())
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    if module.startswith("fnnet.torch"):  # fnnet.torch's classes stand for PyTorch's
        module = module.removeprefix("fnnet.")
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


def get_device(input: Tensor) -> int:
    """The GPU index of ``input``, -1 on the CPU. PyTorch: ``torch.get_device``."""
    tensor_argument(input, "get_device", "input", 1)
    return int(input.get_device())


def frombuffer(buffer: Any, *, dtype: Any, count: int = -1, offset: int = 0,
               requires_grad: bool = False) -> Tensor:
    """A 1-D tensor of ``count`` elements of ``dtype`` read from ``buffer`` (any object
    with the buffer protocol) after ``offset`` bytes. The tensor holds a copy: JAX's
    arrays do not share memory with Python objects (PyTorch's does).

    PyTorch equivalent: ``torch.frombuffer``.
    """
    from fnnet.torch._functions import tensor

    try:
        raw = memoryview(buffer).cast("B")
    except TypeError:
        raise ValueError("object does not implement Python buffer protocol.") from None
    size = _dtypes.to_np(dtype).itemsize
    length = raw.nbytes
    if length == 0 or count == 0:
        raise ValueError(f"both buffer length ({length}) and count ({count}) must not be 0")
    if not 0 <= offset < length:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than "
                         f"buffer length ({length} bytes) minus 1")
    if count < 0:
        if (length - offset) % size:
            raise ValueError(f"buffer length ({length - offset} bytes) after offset "
                             f"({offset} bytes) must be a multiple of element size ({size})")
        count = (length - offset) // size
    elif offset + count * size > length:
        raise ValueError(f"requested buffer length ({count} * {size} bytes) after offset "
                         f"({offset} bytes) must not be greater than actual buffer length "
                         f"({length} bytes)")
    values = np.frombuffer(raw, _dtypes.to_np(dtype), count, offset).copy()
    return tensor(values, dtype=dtype, requires_grad=requires_grad)


def asarray(obj: Any, *, dtype: Any = None, device: Any = None, copy: bool | None = None,
            requires_grad: bool | None = None) -> Tensor:
    """``obj`` as a tensor: a tensor of the dtype (and device) asked for comes back itself
    unless ``copy=True`` (detached with ``requires_grad=False``; left unspecified, it
    keeps its graph, with PyTorch's warning where it has one); anything else (numbers,
    lists, numpy arrays, buffers) is converted, as ``torch.as_tensor``.

    PyTorch equivalent: ``torch.asarray``.
    """
    from fnnet.torch._functions import as_tensor

    if isinstance(obj, Tensor):
        result = obj if dtype is None else obj.to(dtype)
        if device is not None:
            result = result.to(device)
        if copy and result is obj:
            result = obj.clone()
        if copy is False and result is not obj:
            raise ValueError("can't alias tensor from given object: dtype or device differ "
                             "and copy=False")
        if requires_grad:
            return result.requires_grad_(True)
        if result.requires_grad and requires_grad is False:
            return result.detach()
        if obj.requires_grad:
            warnings.warn("torch.asarray: unspecified requires_grad now defaults to "
                          "obj.requires_grad instead of False. Pass requires_grad=False "
                          "explicitly to get the old behavior and silence this warning.",
                          UserWarning, stacklevel=2)
        return result
    if not isinstance(obj, (builtins.bytes, bytearray, memoryview)) or dtype is None:
        result = as_tensor(obj, dtype=dtype, device=device)
    else:
        result = frombuffer(obj, dtype=dtype)
    return result.requires_grad_(True) if requires_grad else result


def install(namespace: dict[str, Any]) -> None:
    """Adds the functions to ``namespace`` (``fnnet.torch``'s globals)."""
    for fn in (use_deterministic_algorithms, are_deterministic_algorithms_enabled,
               is_deterministic_algorithms_warn_only_enabled, get_deterministic_debug_mode,
               set_deterministic_debug_mode, set_warn_always, is_warn_always_enabled,
               set_anomaly_enabled, is_anomaly_check_nan_enabled, is_inference_mode_enabled,
               get_num_threads, set_num_threads, get_num_interop_threads,
               set_num_interop_threads, set_flush_denormal,
               set_default_tensor_type, typename, get_device, frombuffer, asarray):
        namespace[fn.__name__] = fn
    namespace.update(inference_mode=inference_mode, is_anomaly_enabled=is_anomaly_enabled)
