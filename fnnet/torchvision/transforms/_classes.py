"""The deterministic transforms: conversions, normalisation, resizing, cropping,
padding, grayscale, and Compose/Lambda to chain them."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

from fnnet.torchvision.transforms import _color, _convert, _geometry
from fnnet.torchvision.transforms._modes import InterpolationMode, mode_of


def setup_size(size: Any, error_msg: str) -> tuple[int, int]:
    """An int or one value as ``(size, size)``; two values as they are."""
    if isinstance(size, numbers.Number):
        return int(size), int(size)  # type: ignore[call-overload]
    if isinstance(size, Sequence) and len(size) == 1:
        return size[0], size[0]
    if not isinstance(size, Sequence) or len(size) != 2:
        raise ValueError(error_msg)
    return size[0], size[1]


class Transform:
    """What the transforms share: calling one is calling its ``forward``, as
    torchvision's (``torch.nn.Module``s) do."""

    def forward(self, img: Any) -> Any:
        raise NotImplementedError

    def __call__(self, img: Any) -> Any:
        return self.forward(img)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"


class Compose:
    """Applies ``transforms`` in turn. PyTorch: ``torchvision.transforms.Compose``."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = transforms

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        lines = "".join(f"\n    {t}" for t in self.transforms)
        return f"{self.__class__.__name__}({lines}\n)"


class ToTensor:
    """PIL image or ``[H, W, C]`` array to a ``[C, H, W]`` tensor, uint8 scaled to [0, 1].

    PyTorch equivalent: ``torchvision.transforms.ToTensor``.
    """

    def __call__(self, pic: Any) -> Any:
        return _convert.to_tensor(pic)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"


class PILToTensor:
    """PIL image to a ``[C, H, W]`` tensor, values and dtype unchanged.

    PyTorch equivalent: ``torchvision.transforms.PILToTensor``.
    """

    def __call__(self, pic: Any) -> Any:
        return _convert.pil_to_tensor(pic)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"


class ConvertImageDtype(Transform):
    """Converts a tensor image to ``dtype``, rescaling values.

    PyTorch equivalent: ``torchvision.transforms.ConvertImageDtype``.
    """

    def __init__(self, dtype: Any) -> None:
        self.dtype = dtype

    def forward(self, image: Any) -> Any:
        return _convert.convert_image_dtype(image, self.dtype)


class ToPILImage:
    """A ``[C, H, W]`` tensor or ``[H, W, C]`` array to a PIL image.

    PyTorch equivalent: ``torchvision.transforms.ToPILImage``.
    """

    def __init__(self, mode: str | None = None) -> None:
        self.mode = mode

    def __call__(self, pic: Any) -> Any:
        return _convert.to_pil_image(pic, self.mode)

    def __repr__(self) -> str:
        mode = f"mode={self.mode}" if self.mode is not None else ""
        return f"{self.__class__.__name__}({mode})"


class Normalize(Transform):
    """``(x[c] - mean[c]) / std[c]`` on a float tensor image.

    PyTorch equivalent: ``torchvision.transforms.Normalize``.
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float],
                 inplace: bool = False) -> None:
        self.mean, self.std, self.inplace = mean, std, inplace

    def forward(self, tensor: Any) -> Any:
        return _convert.normalize(tensor, self.mean, self.std, self.inplace)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(mean={self.mean}, std={self.std})"


class Lambda:
    """Applies a user function. PyTorch equivalent: ``torchvision.transforms.Lambda``."""

    def __init__(self, lambd: Callable[[Any], Any]) -> None:
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got "
                            f"{type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"


class Resize(Transform):
    """Resizes to ``size``: an int matches the smaller edge (keeping the aspect ratio),
    ``(h, w)`` is the exact size.

    PyTorch equivalent: ``torchvision.transforms.Resize``.
    """

    def __init__(self, size: Any, interpolation: Any = InterpolationMode.BILINEAR,
                 max_size: int | None = None, antialias: bool | None = True) -> None:
        if not isinstance(size, (int, Sequence)) or isinstance(size, bool):
            raise TypeError(f"Size should be int or sequence. Got {type(size)}")
        if isinstance(size, Sequence) and len(size) not in (1, 2):
            raise ValueError("If size is a sequence, it should have 1 or 2 values")
        self.size, self.max_size, self.antialias = size, max_size, antialias
        self.interpolation = mode_of(interpolation)

    def forward(self, img: Any) -> Any:
        return _geometry.resize(img, self.size, self.interpolation, self.max_size,
                                self.antialias)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(size={self.size}, interpolation="
                f"{self.interpolation.value}, max_size={self.max_size}, "
                f"antialias={self.antialias})")


class CenterCrop(Transform):
    """Crops the centre, zero-padding a smaller image.

    PyTorch equivalent: ``torchvision.transforms.CenterCrop``.
    """

    def __init__(self, size: Any) -> None:
        self.size = setup_size(size, "Please provide only two dimensions (h, w) for size.")

    def forward(self, img: Any) -> Any:
        return _geometry.center_crop(img, self.size)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(size={self.size})"


class Pad(Transform):
    """Pads the borders (see :func:`~fnnet.torchvision.transforms.functional.pad`).

    PyTorch equivalent: ``torchvision.transforms.Pad``.
    """

    def __init__(self, padding: Any, fill: Any = 0, padding_mode: str = "constant") -> None:
        _geometry.padding_ltrb(padding)  # torchvision checks the arguments up front
        if not isinstance(fill, (numbers.Number, tuple, list)):
            raise TypeError("Got inappropriate fill arg")
        if padding_mode not in _geometry.PADDING_MODES:
            raise ValueError("Padding mode should be either constant, edge, reflect or "
                             "symmetric")
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def forward(self, img: Any) -> Any:
        return _geometry.pad(img, self.padding, self.fill, self.padding_mode)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(padding={self.padding}, fill={self.fill}, "
                f"padding_mode={self.padding_mode})")


class Grayscale(Transform):
    """Converts to grayscale with 1 or 3 output channels.

    PyTorch equivalent: ``torchvision.transforms.Grayscale``.
    """

    def __init__(self, num_output_channels: int = 1) -> None:
        self.num_output_channels = num_output_channels

    def forward(self, img: Any) -> Any:
        return _color.rgb_to_grayscale(img, self.num_output_channels)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(num_output_channels={self.num_output_channels})"


__all__ = ["CenterCrop", "Compose", "ConvertImageDtype", "Grayscale", "Lambda", "Normalize",
           "PILToTensor", "Pad", "Resize", "ToPILImage", "ToTensor"]
