"""Training-loop patterns of course and repository code, against PyTorch in the same
process: gradients zeroed in place, optimizer and scheduler use past the plain step."""

from __future__ import annotations

import numpy as np
import pytest

import fnnet.torch as ft

pytestmark = pytest.mark.torch


def _zeroed_in_place(T):
    """A program that keeps ``p.grad`` (to log it, or to accumulate by hand) across
    ``zero_grad(set_to_none=False)``: PyTorch zeroes the same tensor, and the next
    ``backward`` fills it again; a gradient built with ``create_graph`` is detached."""
    w = T.nn.Parameter(T.tensor([1.0, 2.0]))
    net = T.nn.Linear(2, 1)
    opt = T.optim.SGD([w], lr=0.1)
    (w ** 3).sum().backward(create_graph=True)
    net(w.detach()).sum().backward()
    kept, kept_net = w.grad, net.weight.grad
    opt.zero_grad(set_to_none=False)
    net.zero_grad(set_to_none=False)
    seen = [w.grad is kept, net.weight.grad is kept_net, kept.requires_grad,
            kept.grad_fn is None, kept.tolist(), kept_net.tolist()]
    (w ** 2).sum().backward()
    net(w.detach()).sum().backward()
    return seen + [w.grad is kept, kept.tolist(), net.weight.grad is kept_net]


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_zero_grad_without_none_zeroes_the_same_tensor_as_torch(torch):
    assert _zeroed_in_place(ft) == _zeroed_in_place(torch)


def _state_edited_by_hand(T):
    """Adam's moments reset by hand after an unfreeze (``exp_avg.zero_()``), scaled
    (``exp_avg_sq.mul_``), one parameter's state deleted and later every state cleared:
    PyTorch's state is those tensors, so the next steps read the edits."""
    T.manual_seed(0)
    x, y = T.randn(8, 4), T.randn(8, 2)
    net = T.nn.Sequential(T.nn.Linear(4, 6), T.nn.Tanh(), T.nn.Linear(6, 2))
    opt = T.optim.AdamW(net.parameters(), lr=0.01, weight_decay=0.1)
    seen = []

    def step():
        opt.zero_grad()
        loss = T.nn.functional.mse_loss(net(x), y)
        loss.backward()
        opt.step()
        seen.append(round(loss.item(), 5))
        seen.append([float(opt.state[p]["step"]) for p in net.parameters()])

    step()
    step()
    opt.state[net[2].weight]["exp_avg"].zero_()
    opt.state[net[2].weight]["exp_avg_sq"].mul_(0.5)
    del opt.state[net[0].weight]
    step()
    step()
    opt.state.clear()
    step()
    opt.state = type(opt.state)(dict)
    step()
    return seen, [p.detach().numpy() for p in net.parameters()]


def test_optimizer_state_edited_in_place_or_deleted_steps_as_torch(torch):
    ours, theirs = _state_edited_by_hand(ft), _state_edited_by_hand(torch)
    assert ours[0] == theirs[0]
    for mine, expected in zip(ours[1], theirs[1], strict=True):
        np.testing.assert_allclose(mine, expected, rtol=1e-5, atol=1e-6)


def _focal_loss_with_an_annealed_gamma(T, compiles):
    """A focal loss whose exponent ``gamma`` is annealed step by step, and powers of
    values at 0 and below 0."""
    T.manual_seed(0)
    x, y = T.randn(8, 3), T.randint(0, 3, (8,))
    net = T.nn.Linear(3, 3)
    opt = T.optim.SGD(net.parameters(), lr=0.1)
    losses = []
    for step in range(8):
        gamma = 1.3 + 0.07 * step  # no multiple of 1/2
        p = T.softmax(net(x), 1)[T.arange(8), y]
        loss = (-(1 - p) ** gamma * p.log()).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    compiles.append(getattr(T, "compile_stats", lambda: {"compiles": 0})()["compiles"])
    z = T.tensor([0.0, -2.0, 1.5, 3.0], requires_grad=True)
    (z ** 0.3).nansum().backward()
    return losses, (z ** 0.3).detach().numpy(), z.grad.numpy(), (z ** 2.0).detach().numpy()


def test_a_power_annealed_step_by_step_compiles_once_as_torch(torch):
    compiles = []
    ours = _focal_loss_with_an_annealed_gamma(ft, compiles)
    theirs = _focal_loss_with_an_annealed_gamma(torch, [])
    for mine, expected in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine, expected, rtol=1e-5, atol=1e-6)
    # the step compiled once (split in two for the loss read each step), not per gamma
    assert compiles[0] <= 3, compiles


def _scheduled(T, compiles, net, x, loss_of):
    """Six SGD steps of ``net`` on ``x`` whose loss ``loss_of(F, out, step)`` takes a value
    scheduled step by step; the losses read each step, the final weights, and the
    compiles (fnnet.torch's) appended to ``compiles``."""
    opt = T.optim.SGD(net.parameters(), lr=0.1)
    losses = []
    for step in range(6):
        loss = loss_of(T.nn.functional, net(x), step)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    compiles.append(getattr(T, "compile_stats", lambda: {"compiles": 0})()["compiles"])
    return losses, [p.detach().numpy() for p in net.parameters()]


def _assert_scheduled_as_torch(torch, make, most_compiles):
    compiles = []
    ours, theirs = make(ft, compiles), make(torch, [])
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5)
    for mine, expected in zip(ours[1], theirs[1], strict=True):
        np.testing.assert_allclose(mine, expected, rtol=1e-5, atol=1e-6)
    assert compiles[0] <= most_compiles, compiles


def _smoothing_scheduled(T, compiles):
    """Label smoothing raised step by step (a curriculum), against class indices (one
    ignored) and class probabilities."""
    T.manual_seed(0)
    x, y = T.randn(8, 4), T.randint(0, 4, (8,))
    y[3] = -100
    soft = T.softmax(T.randn(8, 4), 1)
    return _scheduled(T, compiles, T.nn.Linear(4, 4), x, lambda F, out, step: (
        F.cross_entropy(out, y, label_smoothing=0.03 * step)
        + F.cross_entropy(out, soft, label_smoothing=0.05 * step)))


def test_label_smoothing_scheduled_step_by_step_compiles_once_as_torch(torch):
    # unsmoothed at step 0, then one step for every amount (not one per amount)
    _assert_scheduled_as_torch(torch, _smoothing_scheduled, 3)


def _thresholds_scheduled(T, compiles):
    """smooth_l1_loss's beta and huber_loss's delta shrunk step by step (beta reaching
    0, PyTorch's l1_loss, at the end)."""
    T.manual_seed(0)
    x, y = T.randn(8, 3), T.randn(8, 2)
    return _scheduled(T, compiles, T.nn.Linear(3, 2), x, lambda F, out, step: (
        F.smooth_l1_loss(out, y, beta=max(0.0, 1.0 - 0.23 * step))
        + F.huber_loss(out, y, delta=1.0 / (step + 1.3))))


def test_loss_thresholds_scheduled_step_by_step_compile_once_as_torch(torch):
    # beta 1.0 first, then one step for every threshold, and the l1 loss at beta 0
    _assert_scheduled_as_torch(torch, _thresholds_scheduled, 4)



def _bfloat16_leaves(T):
    """Leaves made in bfloat16 with requires_grad=True (by the factories, as a
    low-precision fine-tuning script makes its adapters), stepped by SGD on exactly
    representable values."""
    w = T.zeros(3, dtype=T.bfloat16, requires_grad=True)
    v = T.tensor([1.0, -2.0], dtype=T.bfloat16, requires_grad=True)
    opt = T.optim.SGD([w, v], lr=0.5)
    ((w * T.tensor([1.0, 2.0, -4.0], dtype=T.bfloat16)).sum() + v.sum()).backward()
    opt.step()
    return [(str(t.dtype), t.requires_grad, t.detach().float().tolist()) for t in (w, v)]


def test_bfloat16_leaves_made_with_requires_grad_step_as_torch(torch):
    assert _bfloat16_leaves(ft) == _bfloat16_leaves(torch)


def _bfloat16_kinds(T):
    """bfloat16 tensors where a check reads whether a dtype is floating (numpy's kind of
    bfloat16 is "V"): a wide Python int beside one, and the error naming a saved value
    written in place."""
    wide = (T.ones(2, dtype=T.bfloat16) * 2**40).float().tolist()
    x = T.ones(3, dtype=T.bfloat16, requires_grad=True)
    y = x * 2
    z = y.sin()
    y.add_(1)
    with pytest.raises(RuntimeError) as caught:
        z.sum().backward()
    return wide, str(caught.value)


def test_bfloat16_is_floating_wherever_a_dtype_is_asked_as_torch(torch):
    assert _bfloat16_kinds(ft) == _bfloat16_kinds(torch)
