"""``add_embedding``'s files for TensorBoard's projector, as PyTorch's writer writes them:
the sprite of the thumbnails and the ``projector_config.pbtxt`` entry of each embedding
(protobuf's text format, which the projector parses)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: the characters protobuf's text format writes escaped in a string
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"', "'": "\\'", "\\": "\\\\"}


def _text_string(value: str) -> str:
    """``value`` quoted as protobuf's text format writes a string (as PyTorch's
    projector config holds it): quotes, backslashes and control characters escaped,
    the rest as it is (UTF-8)."""
    out = []
    for char in value:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 32 or ord(char) == 127:
            out.append(f"\\{ord(char):03o}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def config_entry(tag: str, step: int, subdir: str, metadata: bool,
                 image_size: tuple[int, int] | None) -> str:
    """One ``embeddings { ... }`` entry of ``projector_config.pbtxt``, its fields in
    the order protobuf writes them (their numbers).

    Args:
        tag: the embedding's tag.
        step: its step.
        subdir: its folder under the log folder (``00003/default``).
        metadata: whether it has a ``metadata.tsv``.
        image_size: the thumbnails' ``(width, height)``, where it has a sprite.
    """
    lines = [f"  tensor_name: {_text_string(f'{tag}:{step:05d}')}"]
    if metadata:
        lines.append(f"  metadata_path: {_text_string(subdir + '/metadata.tsv')}")
    if image_size is not None:
        lines += ["  sprite {", f"    image_path: {_text_string(subdir + '/sprite.png')}",
                  *(f"    single_image_dim: {n}" for n in image_size), "  }"]
    lines.append(f"  tensor_path: {_text_string(subdir + '/tensors.tsv')}")
    return "embeddings {\n" + "\n".join(lines) + "\n}\n"


def sprite(images: np.ndarray) -> Any:
    """The projector's sprite of ``images [N, C, H, W]`` (C 1 or 3, floats in ``[0,
    1]``): a PIL image ``ceil(sqrt(N))`` thumbnails wide, as high as wide, thumbnails
    row-major, black below the last row, as PyTorch's writer draws it.

    Raises:
        AssertionError: C is neither 1 nor 3 (PyTorch's error).
    """
    from PIL import Image

    if images.shape[1] == 1:
        images = np.repeat(images, 3, axis=1)
    if images.ndim != 4 or images.shape[1] != 3:
        raise AssertionError("Input should be a 4D numpy array with 3 channels")
    n, _, height, width = images.shape
    per_row = math.ceil(n ** 0.5)
    side = per_row * width
    canvas = np.zeros((side, side, 3), np.float64)
    for i, thumbnail in enumerate(images):
        row, column = divmod(i, per_row)
        canvas[row * height:(row + 1) * height, column * width:(column + 1) * width] = \
            np.moveaxis(thumbnail, 0, 2)
    return Image.fromarray(np.uint8((canvas * 255).clip(0, 255)))
