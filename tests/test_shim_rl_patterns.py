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


def test_distribution_of_parameters_made_once_follows_the_optimizer(torch):
    # q = Normal(mu, sigma) made once from parameters, then fitted by maximum likelihood
    # (as a variational posterior or a state-independent policy often is): its loc and
    # scale are broadcast views of the parameters, which see every optimizer step, and
    # each iteration's backward runs through them again
    results = []
    for t in (torch, ft):
        mu, sigma = t.nn.Parameter(t.zeros(3)), t.nn.Parameter(t.ones(3))
        q = t.distributions.Normal(mu, sigma)
        c = t.nn.Parameter(t.zeros(2))
        mvn = t.distributions.MultivariateNormal(c, t.eye(2))
        opt = t.optim.SGD([mu, sigma, c], lr=0.1)
        data = t.tensor([1.0, 2.0, 3.0])
        losses = []
        for _ in range(2):  # the second backward runs through the views again
            opt.zero_grad()
            loss = -q.log_prob(data).sum() - mvn.log_prob(t.ones(2))
            loss.backward()
            opt.step()
            losses.append(loss.item())
        results.append((losses, q.loc.detach().numpy(), q.scale.detach().numpy(),
                        mvn.loc.detach().numpy()))
    theirs, ours = results
    for mine, expected in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine, expected, rtol=1e-5)


@pytest.mark.parametrize("take", [
    lambda t, x: x.expand(3, 2), lambda t, x: x.expand_as(t.zeros(2, 2)),
    lambda t, x: x.broadcast_to((1, 2)), lambda t, x: t.broadcast_tensors(x, t.zeros(3, 1))[0],
], ids=["expand", "expand_as", "broadcast_to", "broadcast_tensors"])
def test_expanded_views_see_and_make_writes_as_pytorch(torch, take):
    results = []
    for t in (torch, ft):
        x = t.zeros(2)
        view = take(t, x)
        x.add_(1)
        seen = view.numpy().copy()
        if view.shape == (1, 2):  # no element repeated: a write reaches x
            view.mul_(3)
        results.append((seen, x.numpy().copy()))
    theirs, ours = results
    for mine, expected in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(mine, expected)
