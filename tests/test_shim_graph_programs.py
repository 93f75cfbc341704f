"""Graph networks, contrastive losses and recommenders as course and paper code writes them
in plain PyTorch (message passing with index_add_/scatter_reduce, attention softmax per
node, negative sampling): each test runs the same code under PyTorch 2.13 and
fnnet.torch and compares values, gradients and printed text."""

from __future__ import annotations

import numpy as np
import pytest

import fnnet.torch as ft

pytestmark = pytest.mark.torch


def _np(t):
    return np.asarray(t.detach().numpy(), np.float64)


# -- random draws ------------------------------------------------------------------------

@pytest.mark.parametrize("args, kwargs", [
    ((), {"high": 5, "size": (6,)}),  # negative sampling: torch.randint(high=n, size=...)
    ((), {"low": 2, "high": 9, "size": (2, 3)}),
    ((7,), {"size": (4,)}),
    ((3, (5,)), {}),
], ids=["high=, size=", "low=, high=, size=", "high, size=", "high, size"])
def test_randint_reads_its_arguments_as_pytorch(torch, args, kwargs):
    torch.manual_seed(3)
    ft.manual_seed(3)
    np.testing.assert_array_equal(_np(ft.randint(*args, **kwargs)),
                                  _np(torch.randint(*args, **kwargs)))


def test_randint_without_high_raises_pytorchs_type_error(torch):
    with pytest.raises(TypeError) as theirs:
        torch.randint(size=(3,))
    with pytest.raises(TypeError, match=r"^randint\(\) missing 2 required positional"):
        ft.randint(size=(3,))
    assert str(theirs.value).startswith("randint() received an invalid combination")
