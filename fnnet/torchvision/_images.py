"""What an image is to the transforms: a PIL image, an fnnet.torch tensor
``[..., C, H, W]`` or (for the conversions) a numpy array ``[H, W, C]``.

Tensor images are computed on the host in numpy and wrapped back: one image is far
too small for a device dispatch per operation to pay.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

import fnnet.torch as torch
from fnnet.torch.tensor import Tensor


def is_pil(img: Any) -> bool:
    return isinstance(img, Image.Image)


def is_tensor(img: Any) -> bool:
    return isinstance(img, Tensor)


def host(tensor: Tensor) -> np.ndarray:
    """The values of ``tensor`` as a numpy array (a copy)."""
    return np.array(tensor.detach().numpy())


def wrap(array: np.ndarray) -> Tensor:
    """A tensor holding ``array``."""
    return torch.from_numpy(np.ascontiguousarray(array))


def check_image(img: Any) -> None:
    """torchvision's TypeError for an input that is neither a PIL image nor a tensor."""
    if is_pil(img):
        return
    if not is_tensor(img):
        raise TypeError(f"Unexpected type {type(img)}")
    if img.ndim < 2:
        raise TypeError("Tensor is not a torch image.")


def dimensions(img: Any) -> list[int]:
    """``[channels, height, width]``. PyTorch equivalent: ``F.get_dimensions``."""
    check_image(img)
    if is_pil(img):
        width, height = img.size
        return [len(img.getbands()), height, width]
    shape = tuple(img.shape)
    return [shape[-3] if len(shape) > 2 else 1, shape[-2], shape[-1]]


def size(img: Any) -> list[int]:
    """``[width, height]``. PyTorch equivalent: ``F.get_image_size``."""
    _, height, width = dimensions(img)
    return [width, height]


def pil_array(img: Image.Image) -> np.ndarray:
    """A PIL image's pixels ``[H, W, C]`` (``[H, W]`` for one band)."""
    return np.asarray(img)


def from_array(array: np.ndarray, like: Image.Image) -> Image.Image:
    """A PIL image of ``like``'s mode (and palette) holding ``array``."""
    array = np.ascontiguousarray(array.astype(np.asarray(like).dtype))
    if like.mode == "P":
        out = Image.frombytes("P", (array.shape[1], array.shape[0]), array.tobytes())
        out.putpalette(like.getpalette() or [])
        return out
    out = Image.fromarray(array)
    return out if out.mode == like.mode else out.convert(like.mode)
