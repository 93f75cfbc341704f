"""``torch.nn.functional.unfold`` / ``fold`` (im2col and col2im): one recorded call each
of fnnet's functions of those names."""

from __future__ import annotations

from typing import Any

from fnnet.nn import functional as fnf
from fnnet.torch.tensor import Tensor, _op


def _static(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0,  # noqa: A002
           stride: Any = 1) -> Tensor:
    """``[N, C, H, W] -> [N, C * kH * kW, L]``. PyTorch equivalent:
    ``torch.nn.functional.unfold``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"unfold(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    if input.dim() not in (3, 4):
        raise NotImplementedError(f"Input Error: Only 3D or 4D input Tensors are supported "
                                  f"(got {input.dim()}D)")
    return _op(fnf.unfold, tuple(_static(v) for v in (kernel_size, dilation, padding,
                                                       stride)), input, who="unfold")


def fold(input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1,  # noqa: A002
         padding: Any = 0, stride: Any = 1) -> Tensor:
    """``[N, C * kH * kW, L] -> [N, C, H, W]``, overlapping blocks summed. PyTorch
    equivalent: ``torch.nn.functional.fold``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"fold(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    if input.dim() not in (2, 3):
        raise NotImplementedError(f"Input Error: Only unbatched (2D) or batched (3D) input "
                                  f"Tensors are supported (got {input.dim()}D)")
    return _op(fnf.fold, tuple(_static(v) for v in (output_size, kernel_size, dilation,
                                                     padding, stride)), input, who="fold")
