"""Random image augmentation: pure, batched, jittable, with explicit PRNG keys.

Each function takes a key and a batch ``x: [N, C, H, W]`` and draws independently for
every image, where torchvision draws once per call on a single image (in a
``DataLoader`` worker). Given the same key and batch the result is the same; the
functions run inside a jitted step, on the device, so augmentation adds no host work.

Example::

    augment = compose(
        functools.partial(random_crop, size=32, padding=4),
        random_horizontal_flip,
        functools.partial(random_rotation, degrees=15.0),
    )
    x = augment(key, x)        # inside the jitted train step
    x = normalize(x, (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fnnet.nn.errors import check_key
from fnnet.nn.functional.grid_sample import sample_bilinear
from fnnet.typing import Array, PRNGKey

Augmentation = Callable[[PRNGKey, Array], Array]


def _check_batch(x: Array, name: str) -> tuple[int, int, int, int]:
    shape = tuple(np.shape(x))
    if len(shape) != 4:
        raise ValueError(f"{name}: expected a 4-D batch x [N, C, H, W], got shape {shape}")
    return shape


def _pair(value: Any, name: str) -> tuple[int, int]:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        pair = (int(value), int(value))
    elif isinstance(value, Sequence) and len(value) in (1, 2):
        pair = (int(value[0]), int(value[-1]))
    else:
        raise ValueError(f"{name} must be an int or a sequence of 1 or 2 ints, got {value!r}")
    if min(pair) <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return pair


def _padding(value: Any) -> tuple[int, int, int, int]:
    """torchvision's padding: int, (left/right, top/bottom) or (left, top, right, bottom)."""
    pads: tuple[int, ...]
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        pads = (int(value),) * 4
    elif isinstance(value, Sequence) and len(value) in (1, 2, 4):
        pads = tuple(int(v) for v in value)
        pads = pads * 4 if len(pads) == 1 else pads * 2 if len(pads) == 2 else pads
    else:
        raise ValueError(f"padding must be an int or a sequence of 1, 2 or 4 ints, got "
                         f"{value!r}")
    if min(pads) < 0:
        raise ValueError(f"padding must be non-negative, got {value!r}")
    left, top, right, bottom = pads
    return left, top, right, bottom


@functools.partial(jax.jit, static_argnames=("size", "padding"))
def _random_crop(key: PRNGKey, x: Array, size: tuple[int, int],
                 padding: tuple[int, int, int, int]) -> Array:
    n, c = x.shape[:2]
    left, top, right, bottom = padding
    x = jnp.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    height, width = size
    key_i, key_j = jax.random.split(key)
    i = jax.random.randint(key_i, (n,), 0, x.shape[2] - height + 1)
    j = jax.random.randint(key_j, (n,), 0, x.shape[3] - width + 1)
    def crop(image: Array, i: Array, j: Array) -> Array:
        return jax.lax.dynamic_slice(image, (0, i, j), (c, height, width))

    out: Array = jax.vmap(crop)(x, i, j)
    return out


def random_crop(key: PRNGKey, x: Array, size: int | Sequence[int],
                padding: int | Sequence[int] = 0) -> Array:
    """Crops each image at a random place after zero-padding it.

    Args:
        key: PRNG key.
        x: ``[N, C, H, W]`` batch (any dtype).
        size: output ``(height, width)``, or one int for a square.
        padding: zeros added first: an int for all sides, ``(left/right, top/bottom)``
            or ``(left, top, right, bottom)``, as torchvision.

    Returns:
        ``[N, C, height, width]``: image ``k`` is ``padded[k, :, i:i+height, j:j+width]``
        with ``i`` and ``j`` uniform over every valid offset, drawn per image.

    Raises:
        TypeError: ``key`` is not a PRNG key.
        ValueError: ``x`` is not 4-D, bad ``size`` or ``padding``, or a crop larger than
            the padded image.

    PyTorch equivalent: ``torchvision.transforms.RandomCrop(size, padding)`` with its
    defaults ``fill=0, padding_mode="constant"``. Differences: an independent offset
    per image of the batch; no ``pad_if_needed``, ``fill`` or ``padding_mode``.
    """
    check_key(key, "random_crop")
    _, _, h, w = _check_batch(x, "random_crop")
    size, pads = _pair(size, "size"), _padding(padding)
    padded = (h + pads[1] + pads[3], w + pads[0] + pads[2])
    if size[0] > padded[0] or size[1] > padded[1]:
        raise ValueError(f"random_crop: crop size {size} is larger than the padded image "
                         f"{padded}")
    out: Array = _random_crop(key, x, size, pads)
    return out


@jax.jit
def _random_horizontal_flip(key: PRNGKey, x: Array, p: Any) -> Array:
    flip = jax.random.uniform(key, (x.shape[0],)) < p
    return jnp.where(flip[:, None, None, None], x[..., ::-1], x)


def random_horizontal_flip(key: PRNGKey, x: Array, p: float = 0.5) -> Array:
    """Mirrors each image left-right with probability ``p``, drawn per image.

    Args:
        key: PRNG key.
        x: ``[N, C, H, W]`` batch.
        p: probability of flipping an image.

    Returns:
        ``[N, C, H, W]``.

    Raises:
        TypeError: ``key`` is not a PRNG key.
        ValueError: ``x`` is not 4-D or ``p`` is outside ``[0, 1]``.

    PyTorch equivalent: ``torchvision.transforms.RandomHorizontalFlip(p)`` (which flips
    when ``torch.rand(1) < p``, as here). Difference: an independent draw per image.
    """
    check_key(key, "random_horizontal_flip")
    _check_batch(x, "random_horizontal_flip")
    if not isinstance(p, jax.Array) and not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    out: Array = _random_horizontal_flip(key, x, p)
    return out


def _rotate(x: Array, angles: Array) -> Array:
    """Bilinear rotation of ``x [N, C, H, W]`` by ``angles [N]`` radians, zeros outside.

    Output pixel ``(r, q)`` samples the input at ``R(angle) @ (q - cx, r - cy) + (cx, cy)``
    with ``c = ((W - 1) / 2, (H - 1) / 2)``: torchvision's inverse affine matrix,
    sampled like ``grid_sample(mode="bilinear", padding_mode="zeros",
    align_corners=False)``. With rows pointing down this turns the content
    counter-clockwise for a positive angle (the sampling is
    :func:`fnnet.nn.functional.grid_sample.sample_bilinear`).
    """
    h, w = x.shape[2:]
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    rows, cols = jnp.meshgrid(jnp.arange(h, dtype=jnp.float32) - cy,
                              jnp.arange(w, dtype=jnp.float32) - cx, indexing="ij")
    cos, sin = jnp.cos(angles)[:, None, None], jnp.sin(angles)[:, None, None]
    xs = cos * cols - sin * rows + cx  # [N, H, W] sampling positions in the input
    ys = sin * cols + cos * rows + cy
    return sample_bilinear(x, xs, ys)


@jax.jit
def _random_rotation(key: PRNGKey, x: Array, low: Any, high: Any) -> Array:
    angles = jax.random.uniform(key, (x.shape[0],), minval=low, maxval=high)
    rotated = _rotate(x.astype(jnp.float32), jnp.deg2rad(angles))
    if jnp.issubdtype(x.dtype, jnp.integer):  # torchvision rounds integer images back
        info = jnp.iinfo(x.dtype)
        return jnp.clip(jnp.round(rotated), info.min, info.max).astype(x.dtype)
    return rotated.astype(x.dtype)


def rotate(x: Array, angle: Any) -> Array:
    """Rotates every image of ``x [N, C, H, W]`` by ``angle`` degrees (scalar or ``[N]``),
    counter-clockwise, about the centre, bilinear, zeros outside.

    PyTorch equivalent: ``torchvision.transforms.functional.rotate(x, angle,
    InterpolationMode.BILINEAR)`` (see :func:`random_rotation` for the differences).
    """
    n = _check_batch(x, "rotate")[0]
    if jnp.shape(angle) not in ((), (n,)):
        raise ValueError(f"rotate: angle must be a scalar or one angle per image [{n}], "
                         f"got shape {jnp.shape(angle)}")
    angles = jnp.broadcast_to(jnp.asarray(angle, jnp.float32), (n,))
    out: Array = _random_rotation(jax.random.key(0), x, angles, angles)
    return out


def random_rotation(key: PRNGKey, x: Array, degrees: float | Sequence[float]) -> Array:
    """Rotates each image by an angle drawn uniformly from ``[-degrees, degrees]``.

    Positive angles turn the image counter-clockwise about its centre
    ``((W - 1) / 2, (H - 1) / 2)``; pixels are sampled bilinearly and the corners
    brought in from outside are zero.

    Args:
        key: PRNG key.
        x: ``[N, C, H, W]`` batch; integer images are rounded back to their dtype.
        degrees: ``d`` for ``[-d, d]``, or a ``(min, max)`` pair.

    Returns:
        ``[N, C, H, W]``, same dtype.

    Raises:
        TypeError: ``key`` is not a PRNG key.
        ValueError: ``x`` is not 4-D, a negative single ``degrees`` or ``min > max``.

    PyTorch equivalent: ``torchvision.transforms.RandomRotation(degrees,
    interpolation=InterpolationMode.BILINEAR)``. Differences: one angle per image
    drawn independently; torchvision's default interpolation is NEAREST; no
    ``expand``, ``center`` or ``fill``; and at the rim of the rotated image, where
    some of the four neighbours lie outside, torchvision's tensor path multiplies the
    sample once more by the in-bounds weight (it blends with ``fill`` through a
    sampled mask), so those rim pixels are darker there. Inside the image the
    results agree.
    """
    check_key(key, "random_rotation")
    _check_batch(x, "random_rotation")
    if isinstance(degrees, Sequence):
        if len(degrees) != 2 or degrees[0] > degrees[1]:
            raise ValueError(f"degrees must be a number or a (min, max) pair with "
                             f"min <= max, got {degrees!r}")
        low, high = float(degrees[0]), float(degrees[1])
    else:
        if degrees < 0:
            raise ValueError(f"degrees must be non-negative when a single number, got "
                             f"{degrees}")
        low, high = -float(degrees), float(degrees)
    out: Array = _random_rotation(key, x, low, high)
    return out


def normalize(x: Array, mean: float | Sequence[float], std: float | Sequence[float]) -> Array:
    """``(x - mean[c]) / std[c]`` for each channel ``c``.

    Args:
        x: ``[N, C, H, W]`` float batch.
        mean: one value per channel (or one for all).
        std: one value per channel (or one for all), non-zero.

    Returns:
        ``[N, C, H, W]``.

    Raises:
        ValueError: ``x`` is not 4-D, ``mean``/``std`` lengths differ from ``C``, or a
            zero ``std``.
        TypeError: ``x`` is not floating point (uint8 pixels: ``data.to_float`` first).

    PyTorch equivalent: ``torchvision.transforms.Normalize(mean, std)`` (applied to the
    whole batch; no ``inplace``).
    """
    channels = _check_batch(x, "normalize")[1]
    if not jnp.issubdtype(jnp.result_type(x), jnp.floating):  # torchvision refuses them too
        raise TypeError(f"normalize: x must be a floating-point batch (pixels in [0, 1]: "
                        f"data.to_float converts uint8 ones), got dtype {jnp.result_type(x)}")
    stats = []
    for name, value in (("mean", mean), ("std", std)):
        arr = np.asarray(value, np.float32).reshape(-1)
        if arr.size not in (1, channels):
            raise ValueError(f"normalize: {name} must have 1 or C={channels} values, got "
                             f"{arr.size}")
        stats.append(arr)
    if np.any(stats[1] == 0):
        raise ValueError(f"normalize: std must be non-zero, got {list(stats[1])}")
    mean_, std_ = (jnp.asarray(s).reshape(-1, 1, 1) for s in stats)
    return (x - mean_) / std_


def compose(*fns: Augmentation) -> Augmentation:
    """Chains augmentations ``fn(key, x) -> x``, giving each its own split of the key.

    Args:
        *fns: augmentations taking ``(key, x)``; bind their other arguments with
            ``functools.partial``.

    Returns:
        ``augment(key, x)`` applying ``fns`` in order.

    Raises:
        TypeError: an argument is not callable.

    PyTorch equivalent: ``torchvision.transforms.Compose`` (the global RNG replaced by
    an explicit key).
    """
    for index, fn in enumerate(fns):
        if not callable(fn):
            raise TypeError(f"compose: argument {index} is not callable: {fn!r}")

    def augment(key: PRNGKey, x: Array) -> Array:
        check_key(key, "compose")
        keys = jax.random.split(key, max(len(fns), 1))
        for k, fn in zip(keys, fns, strict=False):
            x = fn(k, x)
        return x

    return augment


__all__ = ["random_crop", "random_horizontal_flip", "random_rotation", "rotate", "normalize",
           "compose", "Augmentation"]

