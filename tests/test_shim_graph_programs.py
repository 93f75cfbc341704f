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


# -- scatter reductions ------------------------------------------------------------------

SRC = [[0.0, 1.0], [0.0, 1.0], [0.0, 2.0], [3.0, 3.0]]


@pytest.mark.parametrize("reduce", ["amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_extremum_shares_gradient_among_ties_as_pytorch(torch, reduce,
                                                                       include_self):
    # a max-pooling readout over nodes whose features tie (as ReLU's zeros do): PyTorch
    # shares the gradient evenly among the tied elements, counting input's element
    # among them even with include_self=False
    def run(T):
        src = T.tensor(SRC, requires_grad=True)
        base = T.zeros(2, 2, requires_grad=True)
        index = T.tensor([0, 0, 0, 1])[:, None].expand(-1, 2)
        out = base.scatter_reduce(0, index, src, reduce, include_self=include_self)
        (out * T.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
        return out, src.grad, base.grad

    for ours, theirs in zip(run(ft), run(torch), strict=True):
        np.testing.assert_array_equal(_np(ours), _np(theirs))
