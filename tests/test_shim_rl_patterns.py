"""Reinforcement-learning code's patterns (replay memories of namedtuples, epsilon-greedy
actions, target networks, policy distributions) where fnnet.torch once differed from
PyTorch 2.13, each against real PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import fnnet.torch as ft

pytestmark = pytest.mark.torch


class _Transition:
    """A class of the user's own, as a replay memory's item."""


@pytest.mark.parametrize("stray", [np.zeros((1, 4), np.float32), None, _Transition(),
                                   np.float64(1.0), [0.0] * 4],
                         ids=["numpy array", "None", "own class", "numpy scalar", "list"])
@pytest.mark.parametrize("who", ["cat", "stack"])
def test_batch_with_a_stray_item_refused_as_pytorch(torch, stray, who):
    # torch.cat(batch.state) where one state was stored as the environment's numpy
    # array, or a terminal next_state of None slipped past the non-final mask
    messages = []
    for t in (torch, ft):
        with pytest.raises(TypeError) as info:
            getattr(t, who)([t.zeros(1, 4), stray])
        messages.append(str(info.value))
    assert messages[1] == messages[0]


@pytest.mark.parametrize(("make", "data"), [
    (lambda t: t.LongTensor((1, 0, 1)), True), (lambda t: t.FloatTensor((2, 3)), True),
    (lambda t: t.ByteTensor((True, False)), True), (lambda t: t.Tensor((2, 3)), True),
    (lambda t: t.FloatTensor(t.Size([2, 3])), False), (lambda t: t.Tensor(t.Size([2])), False),
    (lambda t: t.LongTensor(3), False), (lambda t: t.FloatTensor(()), True),
], ids=["LongTensor of a tuple", "FloatTensor of a tuple", "ByteTensor of a tuple",
        "Tensor of a tuple", "FloatTensor of a Size", "Tensor of a Size", "LongTensor size",
        "FloatTensor of ()"])
def test_legacy_constructors_read_tuples_as_data(torch, make, data):
    # LongTensor(batch.action), with the actions a tuple from zip(*transitions): the
    # values, as PyTorch reads a tuple; a torch.Size, or ints, is the shape
    theirs, ours = make(torch), make(ft)
    assert (tuple(ours.shape), str(ours.dtype)) == (tuple(theirs.shape), str(theirs.dtype))
    if data:
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
