"""``torch.cpu``: the host CPU as a device, always available.

PyTorch equivalent: ``torch.cpu``.
"""

from __future__ import annotations

import jax

from fnnet.torch import amp as _amp

__all__ = ["amp", "current_device", "device_count", "is_available", "synchronize"]

amp = _amp.cpu  # torch.cpu.amp.autocast / GradScaler (see fnnet.torch.amp)


def is_available() -> bool:
    """Always True: the CPU is always there. PyTorch: ``torch.cpu.is_available``."""
    return True


def device_count() -> int:
    """1, as PyTorch counts the host. PyTorch equivalent: ``torch.cpu.device_count``."""
    return 1


def current_device() -> str:
    """``"cpu"``. PyTorch equivalent: ``torch.cpu.current_device``."""
    return "cpu"


def synchronize(device: object = None) -> None:
    """Waits for pending CPU work. PyTorch equivalent: ``torch.cpu.synchronize``."""
    del device
    jax.effects_barrier()
