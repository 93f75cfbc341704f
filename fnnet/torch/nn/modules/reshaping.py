"""Modules that rearrange or pad their input: Unflatten, the fixed paddings and the
pixel shuffles. Each calls the functional form of its name (fnnet's arithmetic)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fnnet.torch.nn import _thresholding as T
from fnnet.torch.nn.functional import pad
from fnnet.torch.nn.modules._layer import check_rank
from fnnet.torch.nn.modules.module import Module
from fnnet.torch.tensor import Tensor


class Unflatten(Module):
    """Dimension ``dim`` split into ``unflattened_size``.

    PyTorch equivalent: ``torch.nn.Unflatten``.
    """

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        if not isinstance(dim, int) or isinstance(dim, bool):
            raise TypeError(f"invalid argument type for dim parameter: expected int, got "
                            f"{type(dim).__name__}")
        if not isinstance(unflattened_size, (list, tuple)):
            raise TypeError(f"unflattened_size must be tuple of ints, but found type "
                            f"{type(unflattened_size).__name__}")
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, input: Tensor) -> Tensor:
        out: Tensor = input.unflatten(self.dim, self.unflattened_size)
        return out

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={tuple(self.unflattened_size)}"


class _Pad(Module):
    """A fixed padding of the last ``_dims`` dimensions (``F.pad``'s order)."""

    _dims = 1
    _mode = "constant"

    def __init__(self, padding: Any, value: float = 0.0) -> None:
        super().__init__()
        if isinstance(padding, int):
            padding = (padding,) * (2 * self._dims)
        padding = tuple(int(p) for p in padding)
        if len(padding) != 2 * self._dims:
            raise ValueError(f"{type(self).__name__}: padding must be an int or a "
                             f"{2 * self._dims}-tuple, got {padding!r}")
        self.padding = padding
        self.value = float(value)

    def forward(self, input: Tensor) -> Tensor:
        # only the circular paddings check the rank, as PyTorch's do: the others leave it
        # to F.pad, whose constant mode pads the last dimensions of any input
        if self._mode == "circular":
            check_rank(input, (self._dims + 1, self._dims + 2))
        return pad(input, self.padding, self._mode,
                   self.value if self._mode == "constant" else None)

    def extra_repr(self) -> str:
        if self._mode == "constant":
            return f"padding={self.padding}, value={self.value}"
        return f"{self.padding}"


class ConstantPad1d(_Pad):
    """PyTorch equivalent: ``torch.nn.ConstantPad1d``."""

    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding, value)


class ConstantPad2d(ConstantPad1d):
    """PyTorch equivalent: ``torch.nn.ConstantPad2d``."""

    _dims = 2


class ZeroPad1d(_Pad):
    """PyTorch equivalent: ``torch.nn.ZeroPad1d``."""

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ZeroPad1d):
    """PyTorch equivalent: ``torch.nn.ZeroPad2d``."""

    _dims = 2


class ReflectionPad1d(_Pad):
    """PyTorch equivalent: ``torch.nn.ReflectionPad1d``."""

    _mode = "reflect"

    def __init__(self, padding: Any) -> None:
        super().__init__(padding)


class ReflectionPad2d(ReflectionPad1d):
    """PyTorch equivalent: ``torch.nn.ReflectionPad2d``."""

    _dims = 2


class ReplicationPad1d(_Pad):
    """PyTorch equivalent: ``torch.nn.ReplicationPad1d``."""

    _mode = "replicate"

    def __init__(self, padding: Any) -> None:
        super().__init__(padding)


class ReplicationPad2d(ReplicationPad1d):
    """PyTorch equivalent: ``torch.nn.ReplicationPad2d``."""

    _dims = 2


class PixelShuffle(Module):
    """PyTorch equivalent: ``torch.nn.PixelShuffle``."""

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return T.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """PyTorch equivalent: ``torch.nn.PixelUnshuffle``."""

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return T.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"
