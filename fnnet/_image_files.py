"""The image files ``fnnet predict`` reads: IDX image files, ``.npy`` arrays and pictures
(through Pillow), each checked before its data is decoded, with errors that name the file
as the user gave it."""

from __future__ import annotations

import math
import pathlib
from typing import Any

import numpy as np

from fnnet._usage import UsageError, user_words

#: file suffixes read as pictures (through Pillow)
PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
#: the most pixels a picture may declare before it is decoded (a phone photo has 12-50M)
MAX_PICTURE_PIXELS = 100_000_000


def read_images(path: str, image_shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Images ``[N, C, H, W]`` from an IDX image file (``.gz`` or not), a ``.npy`` array
    (``[H, W]``, ``[N, H, W]`` or ``[N, C, H, W]``; uint8 0..255 or float in [0, 1]), or a
    picture (one image, made ``image_shape`` where it is given: :func:`_read_picture`).

    Raises:
        UsageError: no such file, not a numpy file, an array of another rank or dtype,
            no images, or float pixels outside [0, 1] (NaN included); a picture Pillow
            cannot read or too large; an IDX file that is not an image file or is damaged.
    """
    from fnnet.data import read_idx
    from fnnet.data.idx import IMAGE_MAGIC

    file = pathlib.Path(path)
    picture = file.suffix.lower() in PICTURE_SUFFIXES
    if file.is_dir():
        raise UsageError(f"IMAGES {path}: a folder, expected "
                         + ("a picture file" if picture else "an IDX or .npy file"))
    if not file.is_file():
        raise UsageError(f"IMAGES {path}: no such file")
    if picture:
        return _read_picture(file, path, image_shape)
    if file.suffix == ".npy":
        images = _read_npy(file, path)
    else:
        try:
            images = read_idx(file, magic=IMAGE_MAGIC, what="image")
        except ValueError as err:  # its message begins with the path, as given
            raise UsageError(f"IMAGES {err}") from None
    if images.ndim == 2:
        images = images[None]
    if images.ndim == 3:
        images = images[:, None]
    if images.ndim != 4 or not (images.dtype == np.uint8
                                or np.issubdtype(images.dtype, np.floating)):
        raise UsageError(f"IMAGES {path}: expected uint8 or float images [N, H, W] or "
                         f"[N, C, H, W], got shape {list(images.shape)} {images.dtype}")
    if len(images) == 0:
        raise UsageError(f"IMAGES {path}: expected at least one image, got shape "
                         f"{list(images.shape)}")
    if images.dtype != np.uint8:
        _check_float_pixels(images, path, " (or uint8 0..255)")
    return images


def _check_float_pixels(values: np.ndarray, path: str, alternative: str = "") -> None:
    """Raises :class:`UsageError` naming ``path`` unless every value is in [0, 1]: float
    pixels are taken as they are, so 0..255 floats or NaNs would predict silently."""
    if not (np.isfinite(values).all() and values.min() >= 0 and values.max() <= 1):
        raise UsageError(f"IMAGES {path}: expected float pixels in [0, 1]{alternative}, "
                         f"got values from {values.min()} to {values.max()}")


def _read_npy(file: pathlib.Path, path: str) -> np.ndarray:
    """The array of a ``.npy`` file, its header checked against the file's size before
    any memory is allocated for the data (numpy's own reader allocates what the header
    declares first).

    Raises:
        UsageError: not a ``.npy`` file, a damaged header, an object array, or data
            shorter or longer than the header declares; the message names ``path``.
    """
    fmt = np.lib.format
    try:
        with open(file, "rb") as f:
            version = fmt.read_magic(f)
            read_header = {(1, 0): fmt.read_array_header_1_0,
                           (2, 0): fmt.read_array_header_2_0}.get(version)
            if read_header is None:
                raise ValueError(f"format version {version[0]}.{version[1]}, expected 1.0 "
                                 f"or 2.0")
            try:
                shape, _, dtype = read_header(f)
            except Exception as err:  # numpy parses the header as a Python literal, which
                # fails in many ways (SyntaxError, tokenize.TokenError, ValueError...)
                raise ValueError(f"a damaged header ({type(err).__name__}: {err})") from None
            data_start = f.tell()
    except (ValueError, OSError, EOFError) as err:
        raise UsageError(f"IMAGES {path}: not a numpy array file ({user_words(err)})") \
            from None
    if dtype.hasobject:
        raise UsageError(f"IMAGES {path}: expected uint8 or float images, got an array of "
                         f"Python objects (not loaded: it would be unpickled)")
    declared = math.prod(shape) * dtype.itemsize
    held = file.stat().st_size - data_start
    if declared != held:
        raise UsageError(f"IMAGES {path}: the header declares shape {list(shape)} of "
                         f"{dtype} ({declared:,} bytes), the file holds {held:,} bytes")
    return np.asarray(np.load(file, allow_pickle=False))


def _eight_bit(picture: Any, path: str) -> Any:
    """A gray picture of more than 8 bits (16-bit PNG or TIFF: Pillow's modes ``I;16``
    and ``I``; a float TIFF: ``F``, in [0, 1]) as an 8-bit one scaled from its range:
    Pillow's own conversion clips the values at 255, turning a 16-bit picture white and
    a float one black. Other pictures are returned as they are."""
    from PIL import Image

    if picture.mode.startswith("I;16") or picture.mode == "I":
        values = np.asarray(picture, np.float64) / 257  # 65535 -> 255
    elif picture.mode == "F":
        values = np.asarray(picture, np.float64)
        _check_float_pixels(values, path)
        values = values * 255
    else:
        return picture
    return Image.fromarray(np.clip(np.rint(values), 0, 255).astype(np.uint8), "L")


def _on_white(picture: Any) -> Any:
    """A picture with transparency drawn over white, as a viewer or a web page shows it:
    its transparent pixels hold any colour (black, where a drawing app's canvas leaves
    them), which the conversion to gray would keep, making a black drawing on a
    transparent canvas all black. Other pictures are returned as they are."""
    from PIL import Image

    if picture.mode not in ("RGBA", "LA", "PA") and "transparency" not in picture.info:
        return picture
    drawing = picture.convert("RGBA")
    white = Image.new("RGBA", drawing.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, drawing).convert("RGB")


def _read_picture(file: pathlib.Path, path: str, image_shape: tuple[int, ...] | None
                  ) -> np.ndarray:
    """One picture file (PNG, JPEG...) as uint8 images ``[1, C, H, W]``: gray for one
    channel, RGB for three, resized (antialiased) to ``image_shape`` ``(C, H, W)`` where
    it is known, as the model was trained; else gray at its own size.

    Raises:
        UsageError: not a picture Pillow reads, or one declaring more than
            :data:`MAX_PICTURE_PIXELS` pixels (checked from its header, before decoding).
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(file) as picture:
            width, height = picture.size
            if width * height > MAX_PICTURE_PIXELS:
                raise UsageError(f"IMAGES {path}: the picture declares {width}x{height} "
                                 f"pixels, more than the {MAX_PICTURE_PIXELS:,} read")
            channels = image_shape[0] if image_shape is not None else 1
            # a phone's photo is stored sideways with an EXIF orientation: as shown
            upright = ImageOps.exif_transpose(picture)
            converted = _on_white(_eight_bit(upright, path)).convert(
                "RGB" if channels == 3 else "L")
            if image_shape is not None and converted.size != (image_shape[2], image_shape[1]):
                converted = converted.resize((image_shape[2], image_shape[1]),
                                             Image.Resampling.BILINEAR)
            pixels = np.asarray(converted, np.uint8)
    except UsageError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as err:
        raise UsageError(f"IMAGES {path}: not a picture Pillow reads ({user_words(err)})"
                         ) from None
    return (pixels[None, None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)[None])
