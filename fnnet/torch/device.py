"""PyTorch's device API over JAX's devices.

fnnet.torch computes on JAX's default backend: a GPU when JAX has one, else the CPU.
``torch.cuda.is_available()`` and ``torch.accelerator`` report that backend, so
device-agnostic code (``device = "cuda" if torch.cuda.is_available() else "cpu"``)
takes the GPU exactly when JAX computes on one. Moves (``.to(device)``) are no-ops:
JAX already places every array on its default device. Apple's MPS is never available.
A device fnnet.torch cannot compute on (CUDA without a GPU in JAX, MPS, an accelerator
index without an accelerator) raises the error PyTorch's CPU build raises, wherever a
device is named: moves, factories' and modules' ``device=``, ``torch.cuda`` queries
(see :func:`check_placement`).
"""

from __future__ import annotations

import collections
import contextlib
from collections.abc import Iterator
from typing import Any

import jax

from fnnet.torch import amp as _amp
from fnnet.torch._device_sync import Event, wait_for_device
from fnnet.torch._gpus import gpus as _gpus

#: PyTorch's device types, in the order its error for an unknown one lists them
_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip",
                 "ve", "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                 "privateuseone")


class device:  # noqa: N801 - PyTorch's name
    """A device description: ``device("cuda:0")``, ``device("cuda", 0)``, ``device("cpu")``.

    PyTorch equivalent: ``torch.device``.
    """

    __slots__ = ("type", "index")
    type: str
    index: int | None

    def __init__(self, type: Any = "cpu", index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        elif isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"device(): argument 'type' must be str, not "
                            f"{builtins_name(type)}")
        if ":" in type:
            type, _, number = type.partition(":")
            if not number.isdigit() or index is not None:
                raise RuntimeError(f"Invalid device string: '{type}:{number}'")
            index = int(number)
        if type not in _DEVICE_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_DEVICE_TYPES)} device type at "
                               f"start of device string: {type}")
        if index is not None and index < 0:
            raise RuntimeError("Device index must not be negative")
        object.__setattr__(self, "type", type)
        object.__setattr__(self, "index", index)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"attribute '{name}' of 'torch.device' objects is not writable")

    def __repr__(self) -> str:
        return f"device(type='{self.type}'" + (
            f", index={self.index})" if self.index is not None else ")")

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type,
                                                                         other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self) -> tuple[Any, ...]:
        return (device, (self.type, self.index))

    def __enter__(self) -> device:
        """``with torch.device("meta"):`` makes this the default device until the block
        ends. Tensors made there hold values like any other (a meta module's are then
        replaced by ``load_state_dict(..., assign=True)``)."""
        check_placement(self)
        _entered.append(_default[0])
        _default[0] = self
        return self

    def __exit__(self, *exc_info: Any) -> None:
        _default[0] = _entered.pop()


_device = device  # for functions whose parameter is named device, as PyTorch names it


def builtins_name(value: Any) -> str:
    return type(value).__name__


def current() -> device:
    """Where fnnet.torch's tensors live: JAX's default backend."""
    return device("cuda", 0) if jax.default_backend() == "gpu" else device("cpu")


#: PyTorch's CPU build's words for CUDA, as ``torch.cuda`` raises them
_NO_CUDA = "Torch not compiled with CUDA enabled"


def _require_gpu() -> list[Any]:
    """JAX's GPUs; without one, the AssertionError of PyTorch's CPU build."""
    gpus = _gpus()
    if not gpus:
        raise AssertionError(_NO_CUDA)
    return gpus


def check_creation(dev: Any, layout: Any = None, pin_memory: Any = False) -> None:
    """The checks of a factory's ``device``, ``layout`` and ``pin_memory``
    (``torch.zeros(3, device=..., pin_memory=True)``).

    ``layout`` may be strided (the default); fnnet.torch makes sparse tensors only with
    ``torch.sparse_coo_tensor`` and ``Tensor.to_sparse()``.

    Raises:
        RuntimeError: ``pin_memory`` without a GPU in JAX (PyTorch's CPU build's words;
            with one, JAX places the arrays itself), or see :func:`check_placement`.
        NotImplementedError: a sparse ``layout`` (``torch.zeros(3, layout=torch.sparse_coo)``).
    """
    if layout is not None and str(layout) != "torch.strided":
        from fnnet.torch.tensor import Unsupported

        raise Unsupported(f"fnnet.torch does not make tensors with layout={layout} in "
                          f"factories: build a sparse COO tensor with "
                          f"torch.sparse_coo_tensor(indices, values, size) or "
                          f"dense.to_sparse()")
    if pin_memory and not _gpus():
        raise RuntimeError("pin_memory=True requires a CUDA or other accelerator backend; no "
                           "pinned memory allocator is available on this system.")
    if dev is not None:  # the usual case calls nothing more
        check_placement(dev)


def check_placement(dev: Any) -> None:
    """Raises PyTorch's error where ``dev`` names a device fnnet.torch cannot compute on.

    Passes None, the CPU (any index), ``"meta"`` and, when JAX has a GPU, CUDA devices
    and accelerator indices (every array lives on JAX's default device, so a move to
    them changes nothing). The errors are those of PyTorch's CPU build, so a program
    that would fail under PyTorch without CUDA fails here alike, not later.

    Args:
        dev: a ``device``, its name (``"cuda:1"``), an accelerator index, or None.

    Raises:
        AssertionError: CUDA without a GPU in JAX, or XPU.
        RuntimeError: an index without a GPU, a negative index, another of PyTorch's
            device types (MPS, HIP, XLA...), or a name that is no device type (``"gpu"``).
        TypeError: ``dev`` is no device, string or int.

    PyTorch equivalent: the checks of ``Tensor.to``, ``torch.zeros(device=...)``...
    """
    if dev is None:
        return
    parsed = device(dev)  # raises for names that are no device, negative indices
    if isinstance(dev, int) and not isinstance(dev, bool):
        if not _gpus():  # PyTorch reads a bare index as the current accelerator's
            raise RuntimeError("Cannot access accelerator device when none is available.")
    elif parsed.type == "cuda":
        _require_gpu()
    elif parsed.type == "xpu":
        raise AssertionError("Torch not compiled with XPU enabled")
    elif parsed.type not in ("cpu", "meta"):
        raise RuntimeError(f"PyTorch is not linked with support for {parsed.type} devices")


def check_cuda(dev: Any = None) -> None:
    """:func:`check_placement` of the device of ``.cuda(dev)``: ``"cuda"`` when None.

    Raises:
        RuntimeError: ``dev`` names a device that is not CUDA, as PyTorch's.
    """
    if dev is None:
        dev = "cuda"
    elif not isinstance(dev, int) and device(dev).type != "cuda":
        raise RuntimeError("Invalid device, must be cuda device")
    check_placement(dev)


_default: list[device | None] = [None]
#: the default devices that enclosing ``with device(...)`` blocks restore on leaving
_entered: list[device | None] = []


def set_default_device(device: Any) -> None:
    """Accepted for device-agnostic code: arrays are on JAX's default device anyway.

    A device fnnet.torch cannot compute on raises at once (see :func:`check_placement`),
    where PyTorch raises at the first tensor made on it.
    PyTorch equivalent: ``torch.set_default_device``.
    """
    check_placement(device)
    _default[0] = None if device is None else _device(device)  # the parameter hides the class


def get_default_device() -> device:
    """PyTorch equivalent: ``torch.get_default_device``."""
    return _default[0] if _default[0] is not None else device("cpu")


def _memory_stat(name: str) -> int:
    gpus = _gpus()
    stats = gpus[0].memory_stats() if gpus else None
    return int(stats.get(name, 0)) if stats else 0


class _Namespace(type):
    """A class standing for a PyTorch submodule: a name it lacks raises
    ``NotImplementedError`` naming it (also an ``AttributeError``, so ``hasattr`` is
    False), as ``fnnet.torch`` itself does, with the class's ``_advice``."""

    _advice = ("JAX places and frees device memory itself (jax.devices(), "
               "jax.Device.memory_stats())")

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("__") or name == "_advice":
            raise AttributeError(name)
        from fnnet.torch.tensor import Unsupported

        raise Unsupported(f"fnnet.torch does not support torch.{cls.__name__}.{name}; "
                          f"{cls._advice}")


class cuda(metaclass=_Namespace):  # noqa: N801 - PyTorch's name
    """``torch.cuda``: reports JAX's GPUs; seeding and synchronising are no-ops or waits."""

    amp = _amp.cuda  # torch.cuda.amp.autocast / GradScaler (see fnnet.torch.amp)

    @staticmethod
    def is_available() -> bool:
        return bool(_gpus())

    @staticmethod
    def device_count() -> int:
        return len(_gpus())

    @staticmethod
    def current_device() -> int:
        """0, JAX's first GPU; without one, PyTorch's CPU build's AssertionError."""
        _require_gpu()
        return 0

    @staticmethod
    def set_device(device: Any) -> None:
        """Checks the GPU index (``int``, ``"cuda:1"`` or a device). Moves are no-ops in
        fnnet.torch, so nothing else changes: each process computes on its JAX device.

        Raises:
            ValueError: a device that is not CUDA, or an index beyond ``device_count()``.
            AssertionError: JAX has no GPU, as PyTorch's CPU build.
        """
        dev = _Device(device) if not isinstance(device, int) else _Device("cuda", device)
        if dev.type != "cuda":
            raise ValueError(f"Expected a cuda device, but got: {dev}")
        gpus = _require_gpu()
        if dev.index is not None and not 0 <= dev.index < len(gpus):
            raise ValueError(f"set_device: device index {dev.index} is out of range: JAX "
                             f"sees {len(gpus)} GPU(s)")

    @staticmethod
    def get_device_name(device: Any = None) -> str:
        """The first GPU's kind; without one, PyTorch's CPU build's AssertionError."""
        del device
        return str(getattr(_require_gpu()[0], "device_kind", "GPU"))

    @staticmethod
    def manual_seed(seed: int) -> None:
        """A no-op: fnnet.torch's one global generator (``torch.manual_seed``'s) draws
        for every device, and ``torch.cuda.manual_seed`` leaves it as PyTorch's leaves
        its CPU generator."""
        del seed

    manual_seed_all = manual_seed

    @staticmethod
    def synchronize(device: Any = None) -> None:
        """Computes what has been recorded and waits until JAX's work is done (see
        ``_device_sync``); without a GPU, PyTorch's CPU build's AssertionError."""
        _require_gpu()
        wait_for_device()

    Event = Event

    @staticmethod
    def device(device: Any) -> contextlib.AbstractContextManager[None]:
        """A block run "on" a GPU: each process computes on its JAX device, so nothing
        changes; without a GPU, entering it raises PyTorch's CPU build's RuntimeError."""
        del device

        @contextlib.contextmanager
        def block() -> Iterator[None]:
            if not _gpus():
                raise RuntimeError("PyTorch was compiled without CUDA support")
            yield

        return block()

    @staticmethod
    def get_rng_state(device: Any = "cuda") -> Any:
        """The global generator's state (``torch.get_rng_state()``): it draws for every
        device; without a GPU, PyTorch's CPU build's AssertionError."""
        del device
        _require_gpu()
        from fnnet.torch._surface_ops import get_rng_state

        return get_rng_state()

    @staticmethod
    def get_rng_state_all() -> list[Any]:
        """One state per GPU (the global generator's, see ``get_rng_state``): ``[]``
        without a GPU, as PyTorch's CPU build returns, so a checkpoint that saves it
        loads anywhere."""
        return [cuda.get_rng_state() for _ in _gpus()]

    @staticmethod
    def set_rng_state(new_state: Any, device: Any = "cuda") -> None:
        """A no-op: ``torch.set_rng_state`` restores the one generator that draws for
        every device (PyTorch's CPU build also accepts the call)."""
        del new_state, device

    @staticmethod
    def set_rng_state_all(new_states: Any) -> None:
        """A no-op, as ``set_rng_state``."""
        del new_states

    @staticmethod
    def seed() -> None:
        """A no-op, as ``manual_seed``: ``torch.seed()`` seeds the one generator."""

    seed_all = seed

    @staticmethod
    def initial_seed() -> int:
        """The global generator's initial seed; without a GPU, PyTorch's CPU build's
        AssertionError."""
        _require_gpu()
        from fnnet.torch._random import initial_seed

        return initial_seed()

    @staticmethod
    def is_initialized() -> bool:
        """Whether there is a GPU to compute on (PyTorch's CPU build: False)."""
        return bool(_gpus())

    @staticmethod
    def get_device_properties(device: Any = None) -> _DeviceProperties:
        """The GPU's name, memory and compute capability as JAX reports them; without
        a GPU, PyTorch's CPU build's AssertionError."""
        gpus = _require_gpu()
        index = device if isinstance(device, int) else (
            0 if device is None else _Device(device).index or 0)
        if not 0 <= index < len(gpus):
            raise AssertionError("Invalid device id")
        return _DeviceProperties(gpus[index])

    @staticmethod
    def mem_get_info(device: Any = None) -> tuple[int, int]:
        """``(free, total)`` bytes of the first GPU from JAX's allocator; without a GPU,
        PyTorch's CPU build's AssertionError."""
        _require_gpu()
        total = _memory_stat("bytes_limit")
        return total - _memory_stat("bytes_in_use"), total

    @staticmethod
    def memory_allocated(device: Any = None) -> int:
        """Bytes in use on the first GPU by JAX's allocator; 0 without a GPU, as
        PyTorch's CPU build reports."""
        return _memory_stat("bytes_in_use")

    @staticmethod
    def max_memory_allocated(device: Any = None) -> int:
        """The peak of ``memory_allocated`` since the process started (JAX keeps no
        resettable peak); 0 without a GPU."""
        return _memory_stat("peak_bytes_in_use")

    memory_reserved = memory_allocated
    max_memory_reserved = max_memory_allocated

    @staticmethod
    def reset_peak_memory_stats(device: Any = None) -> None:
        """Accepted with a GPU, where JAX keeps no resettable peak: ``max_memory_allocated``
        stays the peak since the process started, the peak since the reset whenever use
        reached it again (as in a loop of like epochs). Without a GPU, PyTorch's CPU
        build's AttributeError."""
        if not _gpus():
            raise AttributeError("module 'torch._C' has no attribute "
                                 "'_cuda_resetPeakMemoryStats'")

    reset_max_memory_allocated = reset_peak_memory_stats

    @staticmethod
    def memory_stats(device: Any = None) -> dict[str, int]:
        """JAX's allocator statistics of the first GPU under PyTorch's names (current
        and peak bytes allocated and reserved); empty without a GPU, as PyTorch's CPU
        build's."""
        if not _gpus():
            return collections.OrderedDict()
        current, peak = _memory_stat("bytes_in_use"), _memory_stat("peak_bytes_in_use")
        return collections.OrderedDict([
            ("allocated_bytes.all.current", current), ("allocated_bytes.all.peak", peak),
            ("reserved_bytes.all.current", current), ("reserved_bytes.all.peak", peak)])

    @staticmethod
    def empty_cache() -> None:
        """JAX manages its own device memory."""

    @staticmethod
    def is_bf16_supported(including_emulation: bool = True) -> bool:
        del including_emulation  # a GPU that JAX computes on runs bfloat16 either way
        return bool(_gpus())


class _DeviceProperties:
    """What ``torch.cuda.get_device_properties`` tells of a GPU, read from JAX's device:
    ``name``, ``total_memory`` (bytes JAX's allocator may use), ``major``/``minor``
    (compute capability) and ``multi_processor_count``."""

    def __init__(self, gpu: Any) -> None:
        self.name = str(getattr(gpu, "device_kind", "GPU"))
        stats = gpu.memory_stats() or {}
        self.total_memory = int(stats.get("bytes_limit", 0))
        capability = str(getattr(gpu, "compute_capability", "0.0")).split(".")
        self.major, self.minor = int(capability[0]), int(capability[-1])
        self.multi_processor_count = int(getattr(gpu, "core_count", 0))

    def __repr__(self) -> str:
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, "
                f"minor={self.minor}, total_memory={self.total_memory // 2 ** 20}MB, "
                f"multi_processor_count={self.multi_processor_count})")


_Device = device  # the class, where a parameter named ``device`` shadows it
#: What a ``device=`` argument takes (PyTorch's ``torch.types.Device``): a device, its
#: name (``"cuda:0"``), an index, or None for the default.
DeviceLike = device | str | int | None


class accelerator(metaclass=_Namespace):  # noqa: N801 - PyTorch's name
    """``torch.accelerator``: JAX's GPU when it has one."""

    @staticmethod
    def is_available() -> bool:
        return bool(_gpus())

    @staticmethod
    def current_accelerator(check_available: bool = False) -> device | None:
        return device("cuda", 0) if _gpus() else None

    @staticmethod
    def device_count() -> int:
        return len(_gpus())

    @staticmethod
    def current_device_index() -> int:
        return 0

    @staticmethod
    def synchronize(device: Any = None) -> None:
        wait_for_device()


class xpu(metaclass=_Namespace):  # noqa: N801 - PyTorch's name
    """``torch.xpu``: Intel GPUs, which JAX does not compute on here."""

    _advice = "JAX computes on its CPU, GPU or TPU devices (torch.accelerator)"

    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def device_count() -> int:
        return 0


class _Mps:
    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def is_built() -> bool:
        return False


class _Cudnn:
    """Flags tutorials set for reproducibility or speed; XLA chooses its own kernels."""

    benchmark = False
    deterministic = False
    enabled = True
    allow_tf32 = True

    @staticmethod
    def is_available() -> bool:
        return bool(_gpus())

    @staticmethod
    def version() -> int | None:
        return None


_KERNELS = "XLA chooses its own kernels"


class _CudaBackend(metaclass=_Namespace):
    """``torch.backends.cuda``: flags of PyTorch's CUDA kernels, accepted and kept;
    XLA chooses its own kernels (attention included)."""

    _advice = _KERNELS

    class matmul:  # noqa: N801
        allow_tf32 = False
        allow_fp16_reduced_precision_reduction = True
        allow_bf16_reduced_precision_reduction = True

    _sdp = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}

    @staticmethod
    def is_built() -> bool:
        """Whether JAX computes on a GPU (PyTorch: whether it was built with CUDA)."""
        return bool(_gpus())

    @staticmethod
    def flash_sdp_enabled() -> bool:
        return _CudaBackend._sdp["flash"]

    @staticmethod
    def mem_efficient_sdp_enabled() -> bool:
        return _CudaBackend._sdp["mem_efficient"]

    @staticmethod
    def math_sdp_enabled() -> bool:
        return _CudaBackend._sdp["math"]

    @staticmethod
    def cudnn_sdp_enabled() -> bool:
        return _CudaBackend._sdp["cudnn"]

    @staticmethod
    def enable_flash_sdp(enabled: bool) -> None:
        _CudaBackend._sdp["flash"] = bool(enabled)

    @staticmethod
    def enable_mem_efficient_sdp(enabled: bool) -> None:
        _CudaBackend._sdp["mem_efficient"] = bool(enabled)

    @staticmethod
    def enable_math_sdp(enabled: bool) -> None:
        _CudaBackend._sdp["math"] = bool(enabled)

    @staticmethod
    def enable_cudnn_sdp(enabled: bool) -> None:
        _CudaBackend._sdp["cudnn"] = bool(enabled)

    @staticmethod
    @contextlib.contextmanager
    def sdp_kernel(enable_flash: bool = True, enable_math: bool = True,
                   enable_mem_efficient: bool = True, enable_cudnn: bool = True
                   ) -> Iterator[None]:
        """Sets the attention flags for the block (PyTorch's deprecated context; the
        same attention is computed either way)."""
        saved = dict(_CudaBackend._sdp)
        _CudaBackend._sdp.update(flash=bool(enable_flash), math=bool(enable_math),
                                 mem_efficient=bool(enable_mem_efficient),
                                 cudnn=bool(enable_cudnn))
        try:
            yield
        finally:
            _CudaBackend._sdp.update(saved)


_CudaBackend.__name__ = "backends.cuda"  # in the names it refuses


class _CpuLibrary:
    """``torch.backends.mkl`` / ``mkldnn`` / ``openmp``: libraries PyTorch's CPU kernels
    use. fnnet computes with XLA's kernels, so none is available (a script then takes
    its plain path); ``enabled`` is kept."""

    enabled = True

    @staticmethod
    def is_available() -> bool:
        return False


class _Mha:
    """``torch.backends.mha``: the switch of PyTorch's fused inference path for
    MultiheadAttention and the Transformer layers. fnnet.torch has no such path (XLA
    fuses the one computation), so it reads as off whatever is set: a Transformer layer
    copied out of PyTorch's sources then takes its plain path, which computes the same."""

    @staticmethod
    def get_fastpath_enabled() -> bool:
        return False

    @staticmethod
    def set_fastpath_enabled(value: bool) -> None:
        del value  # accepted: there is no fused path to switch


class backends(metaclass=_Namespace):  # noqa: N801 - PyTorch's name
    """``torch.backends``: ``mps`` (never available), ``cudnn`` and ``cuda`` flags,
    ``mha``'s fast path (none), and the CPU libraries ``mkl``, ``mkldnn`` and ``openmp``
    (not used)."""

    _advice = _KERNELS
    mps = _Mps
    mha = _Mha
    cudnn = _Cudnn
    cuda = _CudaBackend
    mkl = type("mkl", (_CpuLibrary,), {})
    mkldnn = type("mkldnn", (_CpuLibrary,), {})
    openmp = type("openmp", (_CpuLibrary,), {})
