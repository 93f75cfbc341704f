"""``torch.nn.functional.unfold`` / ``fold`` (im2col and col2im): one recorded call each
of fnnet's functions of those names."""

from __future__ import annotations

from typing import Any

from fnnet.nn import functional as fnf
from fnnet.torch.tensor import Tensor, _op


def _static(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[-1]))


#: the geometry's names in PyTorch's checks, in the order fold and unfold check them
_CHECKS = {"kernel": ("kernel size should be greater than zero", "kernel", 1),
           "dilation": ("dilation should be greater than zero", "dilation", 1),
           "padding": ("padding should be non-negative", "pad", 0),
           "stride": ("stride should be greater than zero", "stride", 1)}


def _blocks(who: str, spatial: tuple[int, ...], geometry: dict[str, tuple[int, int]]
            ) -> tuple[int, int]:
    """The number of sliding blocks along each spatial dimension, after PyTorch's
    checks of the block geometry (each a RuntimeError in PyTorch's words)."""
    order = ("kernel", "dilation", "padding", "stride") if who == "unfold" else \
        ("kernel", "stride", "dilation", "padding")
    for name in order:
        words, label, least = _CHECKS[name]
        height, width = geometry[name]
        if height < least or width < least:
            raise RuntimeError(f"{words}, but got {label}_height: {height} {label}_width: "
                               f"{width}")
    kernel, dilation, padding, stride = (geometry[name] for name in _CHECKS)
    height, width = ((spatial[d] + 2 * padding[d] - dilation[d] * (kernel[d] - 1) - 1)
                     // stride[d] + 1 for d in range(2))
    return height, width


def _described(geometry: dict[str, tuple[int, int]], names: tuple[str, ...]) -> str:
    return ", ".join(f"{'kernel_size' if n == 'kernel' else n}={geometry[n]}" for n in names)


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0,  # noqa: A002
           stride: Any = 1) -> Tensor:
    """``[N, C, H, W] -> [N, C * kH * kW, L]``. PyTorch equivalent:
    ``torch.nn.functional.unfold``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"unfold(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    if input.dim() < 3:  # PyTorch reads a dimension the input lacks
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-input.dim()}, {input.dim() - 1}], but got {input.dim()})")
    if input.dim() > 4:
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with possibly 0 batch size "
                           f"and other non-zero dimensions for input, but got: "
                           f"{list(input.shape)}")
    geometry = {"kernel": _pair(kernel_size), "dilation": _pair(dilation),
                "padding": _pair(padding), "stride": _pair(stride)}
    spatial = tuple(input.shape[-2:])
    blocks = _blocks("unfold", spatial, geometry)
    if min(blocks) < 1:
        raise RuntimeError(f"Given input with spatial size {spatial}, "
                           f"{_described(geometry, ('kernel', 'dilation', 'padding'))}, "
                           f"calculated shape of the array of sliding blocks as {blocks}, but "
                           f"its components must be at least one.")
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
        raise RuntimeError(f"Expected 2D or 3D (batch mode) tensor for input with possibly 0 "
                           f"batch size and non-zero dimensions for input, but got: "
                           f"{list(input.shape)}")
    geometry = {"kernel": _pair(kernel_size), "dilation": _pair(dilation),
                "padding": _pair(padding), "stride": _pair(stride)}
    size = _pair(output_size)
    blocks = _blocks("fold", size, geometry)
    kernel = geometry["kernel"]
    columns, count = input.shape[-2], input.shape[-1]
    if columns % (kernel[0] * kernel[1]):
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the "
                           f"product of kernel_size, but got input.size(1)={columns} and "
                           f"kernel_size={kernel}.")
    if min(blocks) < 1 or count != blocks[0] * blocks[1]:
        raise RuntimeError(f"Given output_size={size}, {_described(geometry, tuple(_CHECKS))}, "
                           f"expected size of input's dimension 2 to match the calculated "
                           f"number of sliding blocks {blocks[0]} * {blocks[1]} = "
                           f"{blocks[0] * blocks[1]}, but got input.size(2)={count}.")
    return _op(fnf.fold, tuple(_static(v) for v in (output_size, kernel_size, dilation,
                                                     padding, stride)), input, who="fold")
