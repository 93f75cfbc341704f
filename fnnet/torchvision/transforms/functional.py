"""``torchvision.transforms.functional``: the operations behind the transforms, on
PIL images and tensor images ``[..., C, H, W]``."""

from __future__ import annotations

from typing import Any

from fnnet.torch.tensor import Unsupported
from fnnet.torchvision import _unsupported
from fnnet.torchvision._images import dimensions as get_dimensions
from fnnet.torchvision._images import size as get_image_size
from fnnet.torchvision.transforms._affine import affine
from fnnet.torchvision.transforms._blur import gaussian_blur
from fnnet.torchvision.transforms._color import (
    adjust_brightness,
    adjust_contrast,
    adjust_hue,
    adjust_saturation,
    rgb_to_grayscale,
    to_grayscale,
)
from fnnet.torchvision.transforms._convert import (
    convert_image_dtype,
    normalize,
    pil_to_tensor,
    to_pil_image,
    to_tensor,
)
from fnnet.torchvision.transforms._erasing import erase
from fnnet.torchvision.transforms._geometry import (
    center_crop,
    crop,
    hflip,
    pad,
    resize,
    resized_crop,
    rotate,
    vflip,
)
from fnnet.torchvision.transforms._modes import InterpolationMode

__all__ = ["InterpolationMode", "adjust_brightness", "adjust_contrast", "adjust_hue",
           "adjust_saturation", "affine", "center_crop", "convert_image_dtype", "crop", "erase",
           "gaussian_blur", "get_dimensions", "get_image_size", "hflip", "normalize", "pad",
           "pil_to_tensor", "resize", "resized_crop", "rgb_to_grayscale", "rotate",
           "to_grayscale", "to_pil_image", "to_tensor", "vflip"]


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise Unsupported(_unsupported.message("torchvision.transforms.functional", name))
