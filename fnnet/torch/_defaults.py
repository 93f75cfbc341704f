"""``torch.get_default_dtype``/``set_default_dtype``.

fnnet.torch's floating-point default is float32, JAX's. ``set_default_dtype`` accepts
float32, and float64 where it is the same dtype (without jax's x64 mode) or where x64 is
on and every float creation is asked for explicitly; anything else raises
NotImplementedError rather than silently computing in another precision.
"""

from __future__ import annotations

from typing import Any

from fnnet.torch import _dtypes


def get_default_dtype() -> _dtypes.dtype:
    """PyTorch equivalent: ``torch.get_default_dtype``."""
    return _dtypes.float32


def set_default_dtype(d: Any) -> None:
    """PyTorch equivalent: ``torch.set_default_dtype`` (float32 only, see the module)."""
    if not isinstance(d, _dtypes.dtype) or not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, "
                        f"got {d!r}")
    if d != _dtypes.float32:  # float64 without x64 is held as float32
        raise NotImplementedError(
            f"fnnet.torch: set_default_dtype({d!r}) is not supported; tensors default to "
            f"float32 (create {d!r} tensors with dtype={d!r}, and enable jax's x64 mode "
            f"before importing fnnet.torch for float64)")
