"""Augmentation: torchvision's semantics, one independent draw per image, pure and jittable."""

from __future__ import annotations

import functools
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import assert_close

from fnnet.data import augment


def batch(key, shape=(16, 3, 8, 8)):
    """A uniform [0, 1) float32 batch; numpy draws it (jax.random compiles per shape)."""
    seed = int(jax.random.randint(key, (), 0, 2**31 - 1))
    return jnp.asarray(np.random.default_rng(seed).random(shape, np.float32))


# --------------------------------------------------------------------------- flip


def test_flip_twice_is_identity(key):
    x = batch(key)
    k = jax.random.key(1)
    once = augment.random_horizontal_flip(k, x)
    np.testing.assert_array_equal(augment.random_horizontal_flip(k, once), x)


def test_flip_per_image(key):
    x = batch(key, (64, 2, 4, 5))
    y = np.asarray(augment.random_horizontal_flip(jax.random.key(2), x))
    x = np.asarray(x)
    flipped = [bool(np.array_equal(y[i], x[i, :, :, ::-1])) for i in range(64)]
    kept = [bool(np.array_equal(y[i], x[i])) for i in range(64)]
    assert all(f != k for f, k in zip(flipped, kept, strict=True))  # one or the other
    assert 10 < sum(flipped) < 54  # independent draws, p = 0.5
    np.testing.assert_array_equal(augment.random_horizontal_flip(key, x, p=0.0), x)
    np.testing.assert_array_equal(augment.random_horizontal_flip(key, x, p=1.0),
                                  x[..., ::-1])


def test_flip_hand_case():
    # torchvision's hflip reverses the last (width) axis: [[1, 2, 3]] -> [[3, 2, 1]].
    x = jnp.array([[[[1.0, 2.0, 3.0]]]])
    np.testing.assert_array_equal(augment.random_horizontal_flip(jax.random.key(0), x, p=1.0),
                                  [[[[3.0, 2.0, 1.0]]]])


# --------------------------------------------------------------------------- crop


def find_offset(crop, padded):
    """The offsets (i, j) at which ``crop`` is a slice of ``padded``."""
    c, h, w = crop.shape
    return [(i, j) for i in range(padded.shape[1] - h + 1) for j in range(padded.shape[2] - w + 1)
            if np.array_equal(padded[:, i:i + h, j:j + w], crop)]


def test_crop_is_a_slice_of_the_zero_padded_image(key):
    x = batch(key, (200, 2, 5, 5)) + 1.0  # no zeros inside, so offsets are unique
    y = np.asarray(augment.random_crop(jax.random.key(3), x, 5, padding=1))
    assert y.shape == (200, 2, 5, 5)
    padded = np.pad(np.asarray(x), ((0, 0), (0, 0), (1, 1), (1, 1)))
    offsets = []
    for k in range(200):
        found = find_offset(y[k], padded[k])
        assert len(found) == 1
        offsets.append(found[0])
    # Every offset of torchvision's randint(0, H + 2p - h + 1) is drawn.
    assert set(offsets) == {(i, j) for i in range(3) for j in range(3)}


def test_crop_hand_case():
    # A 2x2 image of ones, padding 1, crop 2: offset (0, 0) is [[0, 0], [0, 1]].
    x = jnp.ones((64, 1, 2, 2))
    y = np.asarray(augment.random_crop(jax.random.key(0), x, 2, padding=1))
    corners = {tuple(map(tuple, y[k, 0])) for k in range(64)}
    assert ((0.0, 0.0), (0.0, 1.0)) in corners
    assert corners <= {((0.0, 0.0), (0.0, 1.0)), ((0.0, 0.0), (1.0, 1.0)),
                       ((0.0, 0.0), (1.0, 0.0)), ((0.0, 1.0), (0.0, 1.0)),
                       ((1.0, 1.0), (1.0, 1.0)), ((1.0, 0.0), (1.0, 0.0)),
                       ((0.0, 1.0), (0.0, 0.0)), ((1.0, 1.0), (0.0, 0.0)),
                       ((1.0, 0.0), (0.0, 0.0))}


def test_crop_sizes_and_padding_forms(key):
    x = batch(key, (8, 3, 6, 10)) + 1.0
    y = augment.random_crop(key, x, (4, 7))
    assert y.shape == (8, 3, 4, 7)
    # (left/right, top/bottom) = (2, 0): rows are never padded, so no zero rows.
    y = np.asarray(augment.random_crop(key, x, (6, 10), padding=(2, 0)))
    assert (y != 0).any(axis=(1, 3)).all()
    y = np.asarray(augment.random_crop(key, jnp.ones((32, 1, 3, 3)), 3, padding=(0, 0, 2, 0)))
    assert (y[:, :, :, 0] == 1).all()  # padding only on the right: left column is image
    with pytest.raises(ValueError, match=re.escape(
            "random_crop: crop size (9, 9) is larger than the padded image (8, 12)")):
        augment.random_crop(key, x, 9, padding=1)
    with pytest.raises(ValueError, match=re.escape(
            "random_crop: expected a 4-D batch x [N, C, H, W], got shape (3, 6, 10)")):
        augment.random_crop(key, x[0], 4)
    with pytest.raises(ValueError, match="padding must be non-negative, got -1"):
        augment.random_crop(key, x, 4, padding=-1)
    with pytest.raises(ValueError, match="padding must be an int or a sequence of 1, 2 or 4"):
        augment.random_crop(key, x, 4, padding=(1, 2, 3))


# --------------------------------------------------------------------------- rotation


def test_rotation_by_zero_is_identity(key):
    x = batch(key)
    np.testing.assert_array_equal(augment.rotate(x, 0.0), x)
    np.testing.assert_array_equal(augment.random_rotation(key, x, 0.0), x)
    u8 = (np.asarray(x) * 255).astype(np.uint8)
    y = augment.rotate(jnp.asarray(u8), 0.0)
    assert y.dtype == jnp.uint8
    np.testing.assert_array_equal(y, u8)


@pytest.mark.parametrize("angle, k", [(90.0, 1), (-90.0, -1), (180.0, 2), (270.0, 3)])
@pytest.mark.parametrize("size", [7, 8])
def test_rotation_by_right_angles_is_rot90(key, angle, k, size):
    # Counter-clockwise as torchvision: np.rot90(k=1) turns the array counter-clockwise.
    x = np.asarray(batch(key, (4, 2, size, size)))
    y = np.asarray(augment.rotate(jnp.asarray(x), angle))
    expected = np.rot90(x, k, axes=(2, 3))
    assert_close(y[..., 1:-1, 1:-1], expected[..., 1:-1, 1:-1], atol=1e-5)


def test_rotation_hand_case():
    # A dot right of the centre of a 5x5 image; +90 degrees (counter-clockwise) moves it
    # above the centre, as torchvision.transforms.functional.rotate(img, 90) does.
    x = np.zeros((1, 1, 5, 5), np.float32)
    x[0, 0, 2, 4] = 1.0
    y = np.asarray(augment.rotate(jnp.asarray(x), 90.0))
    assert abs(y[0, 0, 0, 2] - 1.0) < 1e-5
    assert abs(y.sum() - 1.0) < 1e-5
    # 45 degrees about the centre (2, 2): output (r, q) samples the input at
    # x = cos*(q-2) - sin*(r-2) + 2, y = sin*(q-2) + cos*(r-2) + 2. For output
    # (r, q) = (1, 3): x = 2, y = 2 + sqrt(2) * ... compute by hand for a ramp image.
    ramp = np.tile(np.arange(5, dtype=np.float32), (5, 1))[None, None]  # value = column
    y = np.asarray(augment.rotate(jnp.asarray(ramp), 45.0))
    c = s = np.sqrt(0.5)
    for r, q in [(1, 3), (2, 2), (3, 1), (2, 3)]:
        col = c * (q - 2) - s * (r - 2) + 2  # bilinear on a ramp is exact: value = column
        assert abs(y[0, 0, r, q] - col) < 1e-5


def torch_rotate(torch, x, angle):
    """torchvision's rotate(x, angle, BILINEAR) sampling, through torch's own grid ops.

    torchvision builds the inverse matrix [[cos, -sin], [sin, cos]] in pixel units about
    the centre and samples with grid_sample(align_corners=False, padding_mode="zeros").
    In affine_grid's normalised units that matrix is [[cos, -sin*H/W], [sin*W/H, cos]].
    """
    n, _, h, w = x.shape
    a = np.deg2rad(np.asarray(angle, np.float64))
    cos, sin = np.cos(a), np.sin(a)
    theta = np.zeros((n, 2, 3))
    theta[:, 0, 0], theta[:, 0, 1] = cos, -sin * h / w
    theta[:, 1, 0], theta[:, 1, 1] = sin * w / h, cos
    tx = torch.from_numpy(np.array(x))
    grid = torch.nn.functional.affine_grid(torch.from_numpy(theta).float(), tx.shape,
                                           align_corners=False)
    return torch.nn.functional.grid_sample(tx, grid, mode="bilinear", padding_mode="zeros",
                                           align_corners=False).numpy()


@pytest.mark.parametrize("shape", [(6, 3, 9, 9), (6, 2, 7, 12)])
def test_rotation_matches_torch_grid_sample(torch, key, shape):
    x = np.asarray(batch(key, shape))
    angles = np.array([0.0, 13.0, -37.5, 90.0, 151.0, -170.0], np.float32)
    y = augment.rotate(jnp.asarray(x), jnp.asarray(angles))
    assert_close(y, torch_rotate(torch, x, angles), atol=1e-5)


def test_random_rotation_draws_per_image_in_range(torch, key):
    x = np.asarray(batch(key, (32, 1, 9, 9)))
    k = jax.random.key(5)
    y = augment.random_rotation(k, jnp.asarray(x), 30.0)
    angles = jax.random.uniform(k, (32,), minval=-30.0, maxval=30.0)  # the documented draw
    assert float(jnp.min(angles)) >= -30 and float(jnp.max(angles)) <= 30
    assert len(np.unique(np.asarray(angles))) == 32
    assert_close(y, torch_rotate(torch, x, np.asarray(angles)), atol=1e-5)
    fixed = augment.random_rotation(k, jnp.asarray(x), (20.0, 20.0))
    assert_close(fixed, augment.rotate(jnp.asarray(x), 20.0))
    with pytest.raises(ValueError, match="degrees must be non-negative when a single number"):
        augment.random_rotation(k, jnp.asarray(x), -5.0)
    with pytest.raises(ValueError, match=re.escape(
            "degrees must be a number or a (min, max) pair with min <= max, got (10, 5)")):
        augment.random_rotation(k, jnp.asarray(x), (10, 5))


# --------------------------------------------------------------------------- keys, jit


AUGMENTATIONS = {
    "crop": functools.partial(augment.random_crop, size=8, padding=2),
    "flip": augment.random_horizontal_flip,
    "rotation": functools.partial(augment.random_rotation, degrees=25.0),
}


@pytest.mark.parametrize("name", sorted(AUGMENTATIONS))
def test_same_key_same_batch_different_key_different_batch(key, name):
    fn = AUGMENTATIONS[name]
    x = batch(key, (32, 3, 8, 8))
    a, b = fn(jax.random.key(10), x), fn(jax.random.key(10), x)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, fn(jax.random.key(11), x))
    assert_close(jax.jit(fn)(jax.random.key(10), x), a)


def test_normalize(key):
    x = batch(key, (4, 3, 5, 5))
    mean, std = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
    expected = (np.asarray(x) - np.array(mean)[:, None, None]) / np.array(std)[:, None, None]
    assert_close(augment.normalize(x, mean, std), expected.astype(np.float32))
    assert_close(augment.normalize(x, 0.5, 0.25), (np.asarray(x) - 0.5) / 0.25)
    with pytest.raises(ValueError, match=re.escape(
            "normalize: mean must have 1 or C=3 values, got 2")):
        augment.normalize(x, (0.5, 0.5), std)
    with pytest.raises(ValueError, match=re.escape("normalize: std must be non-zero, got")):
        augment.normalize(x, mean, (1.0, 0.0, 1.0))


def test_compose_splits_the_key(key):
    x = batch(key, (8, 3, 8, 8))
    fns = [AUGMENTATIONS[n] for n in ("crop", "flip", "rotation")]
    k = jax.random.key(3)
    manual = x
    for sub, fn in zip(jax.random.split(k, 3), fns, strict=True):
        manual = fn(sub, manual)
    pipeline = augment.compose(*fns)
    np.testing.assert_array_equal(pipeline(k, x), manual)
    assert_close(jax.jit(pipeline)(k, x), manual)
    with pytest.raises(TypeError, match="compose: argument 1 is not callable: 3"):
        augment.compose(augment.random_horizontal_flip, 3)
