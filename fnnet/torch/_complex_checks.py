"""PyTorch's errors for complex tensors given to ops that have no complex kernel: the ops
that need an order (``clamp``, ``relu``, ``sort``, ``max(dim)``, ``<``), rounding, and
the kernels PyTorch compiles for real types only.

JAX computes most of these on complex values (ordering them lexicographically) or
raises its own words; :func:`check` raises PyTorch's instead. It runs where a new node
with a complex input is recorded (once per structure, see ``_graph._miss``), so the
recording of known structures pays nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fnnet.torch import _dtypes
from fnnet.torch._dtypes import SCALAR_NAMES

_CLAMP = (NotImplementedError, "clamp is not supported for complex types")
_SORT = (RuntimeError, " Sort does not support complex dtypes on CPU")
_ROUNDING = "{} is not supported for complex inputs"

#: an op's function name -> PyTorch's exception and message for a complex input
_ERRORS: dict[str, tuple[type[Exception], str]] = {
    "_clamp": _CLAMP, "_clamp_min": _CLAMP, "_clamp_max": _CLAMP, "relu": _CLAMP,
    "hardtanh": _CLAMP,
    "_sort": _SORT, "_argsort": _SORT,
    "_topk": (RuntimeError, " topk does not support complex dtypes on CPU"),
    "_max_dim": (RuntimeError, "max(): does not support complex input"),
    "_min_dim": (RuntimeError, "min(): does not support complex input"),
    "maximum": (RuntimeError, "maximum not implemented for complex tensors."),
    "minimum": (RuntimeError, "minimum not implemented for complex tensors."),
    "_heaviside": (RuntimeError, "heaviside is not yet implemented for complex tensors."),
    "_nansum": (RuntimeError, "nansum on CPU does not support complex inputs"),
    "floor": (NotImplementedError, _ROUNDING.format("floor")),
    "ceil": (NotImplementedError, _ROUNDING.format("ceil")),
    "trunc": (NotImplementedError, _ROUNDING.format("trunc")),
    "_sign": (NotImplementedError, "Unlike NumPy, torch.sign is not intended to support "
                                   "complex numbers. Please use torch.sgn instead."),
    "signbit": (NotImplementedError, "signbit is not implemented for complex tensors."),
}

#: an op's function name -> the name of PyTorch's CPU kernel, which has no complex form
_KERNELS = {
    "less": "lt_cpu", "greater": "gt_cpu", "less_equal": "le_cpu",
    "greater_equal": "ge_cpu", "_amax": "max_values_cpu", "_amin": "min_values_cpu",
    "_median_all": "median_cpu", "_kthvalue": "kthvalue_cpu", "_mode": "mode_cpu",
    "fmod": "fmod_cpu", "remainder": "remainder_cpu", "floor_divide": "div_floor_cpu",
    "leaky_relu": "leaky_relu_cpu", "gelu": "GeluKernelImpl", "elu": "elu_cpu",
    "frac": "frac_cpu", "erf": "erf_vml_cpu", "arctan2": "atan2_cpu",
    "_searchsorted": "searchsorted_out_cpu", "copysign": "copysign_cpu",
    "hypot": "hypot_cpu",
    # pooling (1-D through the 2-D kernels, as PyTorch's; F.max_pool1d names its own)
    "max_pool2d": "max_pool2d", "max_pool2d_with_indices": "max_pool2d",
    "max_pool3d": "max_pool3d", "max_pool3d_with_indices": "max_pool3d",
    "avg_pool2d": "avg_pool2d", "avg_pool3d": "avg_pool3d_out_frame",
    "adaptive_avg_pool2d": "adaptive_avg_pool2d",
    "adaptive_avg_pool3d": "adaptive_avg_pool3d_cpu",
    **dict.fromkeys(("adaptive_max_pool1d", "adaptive_max_pool1d_with_indices",
                     "adaptive_max_pool2d", "adaptive_max_pool2d_with_indices"),
                    "adaptive_max_pool2d"),
    **dict.fromkeys(("adaptive_max_pool3d", "adaptive_max_pool3d_with_indices"),
                    "adaptive_max_pool3d_cpu"),
}


def kernel_error(kernel: str, dtype: Any) -> NotImplementedError:
    """PyTorch's error for a CPU kernel ``kernel`` not compiled for ``dtype``'s type (a
    torch dtype, or a numpy one)."""
    name = SCALAR_NAMES.get(dtype.name if isinstance(dtype, _dtypes.dtype) else
                            np.dtype(dtype).name, str(dtype))
    return NotImplementedError(f'"{kernel}" not implemented for \'{name}\'')


def check(op: Any, static: tuple[Any, ...], dtype: Any) -> None:
    """Raises PyTorch's error where ``op`` (with ``static``) has no kernel for a complex
    input of ``dtype`` (a torch dtype, or a numpy one)."""
    name = getattr(op, "__name__", None)
    if name is None:
        return
    if name in _ERRORS:
        kind, message = _ERRORS[name]
        raise kind(message)
    kernel = _KERNELS.get(name)
    if name == "round":  # decimals= has a kernel of its own
        kernel = "round_cpu" if static and static[0] else "round_vml_cpu"
    elif name == "_cumulative":  # (dim, largest)
        kernel = "cummax_cpu" if static[1] else "cummin_cpu"
    if kernel is not None:
        raise kernel_error(kernel, dtype)
