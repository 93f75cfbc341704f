"""``torch.get_default_dtype``/``set_default_dtype``.

fnnet.torch's floating-point default is float32, JAX's. ``set_default_dtype`` accepts
float32, and float64 without jax's x64 mode, where float64 is float32, with a warning:
the program then computes in float32 and draws float32's random numbers, not the
float64 ones PyTorch draws. Anything else raises NotImplementedError rather than
silently computing in another precision.
"""

from __future__ import annotations

import warnings
from typing import Any

from fnnet.torch import _dtypes

#: the warning ``set_default_dtype(torch.float64)`` gives without x64
FLOAT64_HELD_AS_FLOAT32 = (
    "fnnet.torch: without jax's x64 mode float64 is float32, so after "
    "set_default_dtype(torch.float64) tensors stay float32 and random draws are float32's "
    "(PyTorch draws other numbers for float64); for float64 values, enable x64 "
    "(JAX_ENABLE_X64=1) before importing fnnet.torch and create them with "
    "dtype=torch.float64")


def get_default_dtype() -> _dtypes.dtype:
    """PyTorch equivalent: ``torch.get_default_dtype``."""
    return _dtypes.float32


def set_default_dtype(d: Any) -> None:
    """PyTorch equivalent: ``torch.set_default_dtype`` (float32 only, see the module)."""
    if not isinstance(d, _dtypes.dtype) or not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, "
                        f"got {d!r}")
    if d != _dtypes.float32:
        x64 = ": jax's x64 mode is on" if _dtypes.X64 else (
            ", and enable jax's x64 mode before importing fnnet.torch for float64")
        raise NotImplementedError(
            f"fnnet.torch: set_default_dtype({d!r}) is not supported; tensors default to "
            f"float32 (create {d!r} tensors with dtype={d!r}{x64})")
    if d is not _dtypes.float32:  # float64 (or double) without x64, held as float32
        warnings.warn(FLOAT64_HELD_AS_FLOAT32, UserWarning, stacklevel=2)
