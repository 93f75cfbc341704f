"""``torch.nn.utils.memory_format``: converting convolution weights to a memory format.

fnnet.torch accepts memory formats and ignores them (XLA lays out every array itself), so
a conversion returns the module as it is.
"""

from __future__ import annotations

from typing import Any

from fnnet.torch.nn.modules.module import Module


def _unchanged(who: str, module: Any) -> Module:
    if not isinstance(module, Module):
        raise TypeError(f"{who}: module must be a torch.nn.Module, got "
                        f"{type(module).__name__}")
    return module


def convert_conv2d_weight_memory_format(module: Module, memory_format: Any) -> Module:
    """``module``, whose Conv2d and ConvTranspose2d weights PyTorch would store in
    ``memory_format``. PyTorch equivalent:
    ``torch.nn.utils.convert_conv2d_weight_memory_format``."""
    del memory_format  # the layout is XLA's choice
    return _unchanged("convert_conv2d_weight_memory_format", module)


def convert_conv3d_weight_memory_format(module: Module, memory_format: Any) -> Module:
    """``module``, whose Conv3d and ConvTranspose3d weights PyTorch would store in
    ``memory_format``. PyTorch equivalent:
    ``torch.nn.utils.convert_conv3d_weight_memory_format``."""
    del memory_format  # the layout is XLA's choice
    return _unchanged("convert_conv3d_weight_memory_format", module)
