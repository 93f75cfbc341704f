"""``F.rms_norm``: one recorded call of fnnet's ``rms_norm``, with PyTorch's checks of
the input's trailing shape, the weight's shape and the dtype."""

from __future__ import annotations

from typing import Any

import jax

from fnnet.nn import functional as fnf
from fnnet.torch._dtypes import scalar_name
from fnnet.torch.tensor import Tensor, _op


def _rms_norm(x: jax.Array, weight: jax.Array | None, normalized_shape: tuple[int, ...],
              eps: float | None) -> jax.Array:
    return fnf.rms_norm(x, normalized_shape, weight, eps)


def check_rms_norm(input: Tensor, normalized_shape: tuple[int, ...],
                   weight: Tensor | None) -> None:
    """PyTorch's errors for an input or weight ``rms_norm`` cannot take."""
    shape = list(input.shape)
    wanted = list(normalized_shape)
    if shape[len(shape) - len(wanted):] != wanted or len(wanted) > len(shape):
        raise RuntimeError(f"Given normalized_shape={wanted}, expected input with shape "
                           f"[*{', '.join(map(str, wanted))}], but got input of size{shape}")
    if weight is not None and list(weight.shape) != wanted:
        raise RuntimeError(f"Expected weight to be of same shape as normalized_shape, but got "
                           f"weight of shape {list(weight.shape)} and normalized_shape = "
                           f"{wanted}")
    if not input.is_floating_point():
        raise NotImplementedError(f"\"rms_norm\" not implemented for "
                                  f"'{scalar_name(input.dtype)}'")


def rms_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.rms_norm``."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else \
        tuple(int(n) for n in normalized_shape)
    check_rms_norm(input, shape, weight)
    return _op(_rms_norm, (shape, None if eps is None else float(eps)), input, weight,
               who="rms_norm")

