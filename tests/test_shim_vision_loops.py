"""Vision models and training loops as courses and blog posts write them, beyond the
corpus: each test is a pattern fnnet.torch once got wrong, checked against PyTorch
(values within float32 rounding, names and errors exactly)."""

from __future__ import annotations

import numpy as np
import pytest

import fnnet.torch as ft

pytestmark = pytest.mark.torch

RTOL, ATOL = 1e-5, 1e-6


def _np(t):
    return np.asarray(t.detach().numpy(), np.float64)


def _close(ours, theirs, rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=rtol, atol=atol)


# -- losses on images -------------------------------------------------------------------


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_per_pixel_class_loss_with_an_ignored_label(torch, fn):
    """Segmentation targets [N, H, W] with a border of ignore_index=255: the range check
    of the labels reduced only their first axis and raised numpy's "truth value of an
    array" ValueError."""
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    mask = rng.integers(0, 3, (2, 4, 5))
    mask[:, 0, :] = 255
    ours = getattr(ft.nn.functional, fn)(ft.tensor(logits), ft.tensor(mask),
                                         ignore_index=255)
    theirs = getattr(torch.nn.functional, fn)(torch.tensor(logits), torch.tensor(mask),
                                              ignore_index=255)
    _close(ours, theirs)
    mask[0, 1, 1] = 3  # out of range and not ignored: PyTorch's IndexError
    with pytest.raises(IndexError, match=r"labels must lie in \[0, 3\), got 3 at index \(0, 1, 1\)"):
        getattr(ft.nn.functional, fn)(ft.tensor(logits), ft.tensor(mask), ignore_index=255)
