"""Modules around ``torch.nn.functional``'s further functions: the thresholding
activations, GLU, PReLU (a learned slope), Softmax2d, Unflatten, the fixed paddings and
the pixel shuffles. Each calls the functional form of its name (fnnet's arithmetic)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fnnet.torch._functions import full
from fnnet.torch.nn import _thresholding as T
from fnnet.torch.nn.functional import pad
from fnnet.torch.nn.modules.module import Module
from fnnet.torch.nn.modules.pointwise import _Pointwise
from fnnet.torch.nn.parameter import Parameter
from fnnet.torch.tensor import Tensor


class Threshold(_Pointwise):
    """PyTorch equivalent: ``torch.nn.Threshold``."""

    _function = staticmethod(T.threshold)
    _shown = ("threshold", "value")

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__(threshold=threshold, value=value, inplace=inplace)


class Hardshrink(_Pointwise):
    """PyTorch equivalent: ``torch.nn.Hardshrink``."""

    _function = staticmethod(T.hardshrink)

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__(lambd=lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Softshrink(Hardshrink):
    """PyTorch equivalent: ``torch.nn.Softshrink``."""

    _function = staticmethod(T.softshrink)


class Tanhshrink(_Pointwise):
    """PyTorch equivalent: ``torch.nn.Tanhshrink``."""

    _function = staticmethod(T.tanhshrink)


class GLU(_Pointwise):
    """PyTorch equivalent: ``torch.nn.GLU``."""

    _function = staticmethod(T.glu)
    _shown = ("dim",)

    def __init__(self, dim: int = -1) -> None:
        super().__init__(dim=dim)


class PReLU(Module):
    """A ReLU whose negative slope is learned: one (``num_parameters=1``) or one per
    channel, starting at ``init``. PyTorch equivalent: ``torch.nn.PReLU``."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        if isinstance(num_parameters, bool) or not isinstance(num_parameters, int) or \
                num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be a positive int, got "
                             f"{num_parameters!r}")
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(full((num_parameters,), float(init), dtype=dtype))

    def forward(self, input: Tensor) -> Tensor:
        return T.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class Softmax2d(Module):
    """Softmax over the channels of ``[N, C, H, W]`` or ``[C, H, W]``.

    PyTorch equivalent: ``torch.nn.Softmax2d``.
    """

    def forward(self, input: Tensor) -> Tensor:
        if input.dim() not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got "
                             f"{input.dim()}D instead")
        return input.softmax(-3)


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
        if input.dim() not in (self._dims + 1, self._dims + 2):
            raise ValueError(f"{type(self).__name__}: expected {self._dims + 1}D or "
                             f"{self._dims + 2}D input, got {input.dim()}D")
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
