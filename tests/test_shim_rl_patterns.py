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
