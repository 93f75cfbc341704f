"""``torch.nn.attention``: the choice of kernel for ``scaled_dot_product_attention``.

PyTorch picks among its fused attention kernels (flash, memory-efficient, cuDNN) and
the plain math; XLA compiles fnnet.torch's attention for the device it runs on, so
:func:`sdpa_kernel` checks its arguments and selects nothing, and the values are the
same whichever backend a program asks for.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterator
from typing import Any

from fnnet.torch.tensor import Unsupported

__all__ = ["SDPBackend", "sdpa_kernel"]


class SDPBackend(enum.Enum):
    """PyTorch's attention backends. PyTorch equivalent: ``torch.nn.attention.SDPBackend``."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


@contextlib.contextmanager
def sdpa_kernel(backends: Any, set_priority: bool = False) -> Iterator[None]:
    """A region whose attention PyTorch would compute with ``backends`` (one or a list);
    fnnet.torch's attention is XLA's for the device, inside it and out.

    Raises:
        AssertionError: ``backends`` is not an ``SDPBackend`` or a list of them
            (PyTorch's check).

    PyTorch equivalent: ``torch.nn.attention.sdpa_kernel``.
    """
    del set_priority
    chosen = backends if isinstance(backends, (list, tuple)) else [backends]
    if not all(isinstance(b, SDPBackend) for b in chosen):
        raise AssertionError(f"Backend must be an instance of SDPBackend or a list of "
                             f"SDPBackend instances, got {type(backends).__name__}")
    yield


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise Unsupported(  # also an AttributeError: hasattr() is False
        f"fnnet.torch does not support torch.nn.attention.{name}; "
        f"torch.nn.functional.scaled_dot_product_attention computes attention with XLA's "
        f"kernel for the device")
