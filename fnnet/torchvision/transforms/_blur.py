"""``GaussianBlur`` and ``gaussian_blur``: a Gaussian filter with reflected borders."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from fnnet.torchvision import _images, _rng
from fnnet.torchvision.transforms._classes import Transform, setup_size
from fnnet.torchvision.transforms._convert import pil_to_tensor, to_pil_image


def _kernel1d(size: int, sigma: float) -> np.ndarray:
    """torchvision's 1-D kernel: a Gaussian sampled at ``size`` points, summing to 1."""
    x = np.linspace(-(size - 1) * 0.5, (size - 1) * 0.5, size, dtype=np.float32)
    pdf = np.exp(-0.5 * (x / np.float32(sigma)) ** 2)
    kernel: np.ndarray = pdf / pdf.sum()
    return kernel


def gaussian_blur(img: Any, kernel_size: Any, sigma: Any = None) -> Any:
    """Blurs with a ``kernel_size`` (odd; int or ``[kx, ky]``) Gaussian of standard
    deviation ``sigma`` (``[sx, sy]``; by default ``0.15 * size + 0.35``), the borders
    reflected.

    Raises:
        TypeError: a kernel_size or sigma of the wrong type.
        ValueError: an even or non-positive kernel size, a non-positive sigma.

    PyTorch equivalent: ``torchvision.transforms.functional.gaussian_blur``.
    """
    if not isinstance(kernel_size, (int, list, tuple)):
        raise TypeError(f"kernel_size should be int or a sequence of integers. Got "
                        f"{type(kernel_size)}")
    sizes = [kernel_size, kernel_size] if isinstance(kernel_size, int) else list(kernel_size)
    if len(sizes) != 2:
        raise ValueError(f"If kernel_size is a sequence its length should be 2. Got "
                         f"{len(sizes)}")
    for size in sizes:
        if size % 2 == 0 or size < 0:
            raise ValueError(f"kernel_size should have odd and positive integers. Got "
                             f"{sizes}")
    if sigma is None:
        sigmas = [size * 0.15 + 0.35 for size in sizes]
    elif isinstance(sigma, (int, float)):
        sigmas = [float(sigma), float(sigma)]
    elif isinstance(sigma, (list, tuple)) and len(sigma) in (1, 2):
        sigmas = [float(sigma[0]), float(sigma[-1])]
    else:
        raise TypeError(f"sigma should be either float or sequence of floats. Got "
                        f"{type(sigma)}")
    if any(s <= 0 for s in sigmas):
        raise ValueError(f"sigma should have positive values. Got {sigmas}")
    if _images.is_pil(img):
        return to_pil_image(gaussian_blur(pil_to_tensor(img), sizes, sigmas), mode=img.mode)
    _images.check_image(img)
    array = _images.host(img)
    out = array.astype(np.float32)
    kx, ky = sizes
    widths = [(0, 0)] * (out.ndim - 2) + [(ky // 2, ky // 2), (kx // 2, kx // 2)]
    out = np.pad(out, widths, mode="reflect")
    rows, cols = _kernel1d(ky, sigmas[1]), _kernel1d(kx, sigmas[0])
    out = sum(rows[k] * out[..., k:k + array.shape[-2], :] for k in range(ky))
    out = sum(cols[k] * out[..., k:k + array.shape[-1]] for k in range(kx))
    if array.dtype.kind in "iu":
        out = np.round(out)
    return _images.wrap(np.asarray(out).astype(array.dtype))


class GaussianBlur(Transform):
    """Blurs with a Gaussian whose sigma is drawn uniformly from ``sigma`` (min, max).

    PyTorch equivalent: ``torchvision.transforms.GaussianBlur``.
    """

    def __init__(self, kernel_size: Any, sigma: Any = (0.1, 2.0)) -> None:
        self.kernel_size = setup_size(kernel_size,
                                      "Kernel size should be a tuple/list of two integers")
        for size in self.kernel_size:
            if size <= 0 or size % 2 == 0:
                raise ValueError("Kernel size value should be an odd and positive number.")
        if isinstance(sigma, numbers.Number):
            if sigma <= 0:  # type: ignore[operator]
                raise ValueError("If sigma is a single number, it must be positive.")
            sigma = (sigma, sigma)
        elif isinstance(sigma, Sequence) and len(sigma) == 2:
            if not 0.0 < sigma[0] <= sigma[1]:
                raise ValueError("sigma values should be positive and of the form (min, max).")
        else:
            raise ValueError("sigma should be a single number or a list/tuple with length 2.")
        self.sigma = sigma

    @staticmethod
    def get_params(sigma_min: float, sigma_max: float) -> float:
        """A sigma drawn uniformly from ``[sigma_min, sigma_max]``."""
        return _rng.uniform(sigma_min, sigma_max)

    def forward(self, img: Any) -> Any:
        sigma = self.get_params(self.sigma[0], self.sigma[1])
        return gaussian_blur(img, list(self.kernel_size), [sigma, sigma])

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(kernel_size={self.kernel_size}, sigma={self.sigma})"
