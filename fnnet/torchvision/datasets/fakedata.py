"""``FakeData``: random images and labels, for trying a pipeline without files."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from fnnet.torch._cpu_generator import CpuGenerator
from fnnet.torchvision.datasets._vision import VisionDataset


class FakeData(VisionDataset):
    """``size`` random PIL images of ``image_size`` ``(C, H, W)`` with random labels in
    ``0..num_classes-1``; item ``i`` is torchvision's, the same on every read: drawn
    from PyTorch's generator seeded with ``i + random_offset`` (the global generator is
    left as it was, as there).

    PyTorch equivalent: ``torchvision.datasets.FakeData``.
    """

    def __init__(self, size: int = 1000, image_size: tuple[int, int, int] = (3, 224, 224),
                 num_classes: int = 10, transform: Any = None, target_transform: Any = None,
                 random_offset: int = 0) -> None:
        super().__init__(None, transform=transform, target_transform=target_transform)
        self.size, self.num_classes = size, num_classes
        self.image_size, self.random_offset = image_size, random_offset

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        if index >= len(self):
            raise IndexError(f"{self.__class__.__name__} index out of range")
        # torchvision's draws: torch.randn(*image_size), then torch.randint(0,
        # num_classes, (1,)), after torch.manual_seed(index + random_offset)
        rng = CpuGenerator(index + self.random_offset)
        values = rng.normal(self.image_size, np.float32)
        target = int(rng.integers(0, self.num_classes, (1,))[0])
        # as torchvision's to_pil_image of a float image: times 255, wrapped into a byte
        pixels = ((values * 255).astype(np.int64) % 256).astype(np.uint8).transpose(1, 2, 0)
        image = Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
        return self._transformed(image, target)

    def __len__(self) -> int:
        return self.size
