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
    message = r"labels must lie in \[0, 3\), got 3 at index \(0, 1, 1\)"
    with pytest.raises(IndexError, match=message):
        getattr(ft.nn.functional, fn)(ft.tensor(logits), ft.tensor(mask), ignore_index=255)


# -- schedulers -------------------------------------------------------------------------

SCHEDULERS = {
    "ConstantLR": (lambda ls, o: ls.ConstantLR(o, factor=0.5, total_iters=3), {}),
    "MultiplicativeLR": (lambda ls, o: ls.MultiplicativeLR(o, lambda e: 0.9 - 0.01 * e), {}),
    "PolynomialLR": (lambda ls, o: ls.PolynomialLR(o, total_iters=4, power=2.0), {}),
    "CyclicLR": (lambda ls, o: ls.CyclicLR(o, 0.01, 0.1, step_size_up=2),
                 {"momentum": 0.9}),
    "CyclicLR-triangular2-down": (
        lambda ls, o: ls.CyclicLR(o, 0.01, 0.1, step_size_up=2, step_size_down=3,
                                  mode="triangular2", cycle_momentum=False), {}),
    "CyclicLR-exp_range": (
        lambda ls, o: ls.CyclicLR(o, 0.01, 0.1, step_size_up=3, mode="exp_range",
                                  gamma=0.9, cycle_momentum=False), {}),
    "CyclicLR-scale_fn": (
        lambda ls, o: ls.CyclicLR(o, 0.01, 0.1, step_size_up=2, scale_fn=lambda x: 0.5 ** x,
                                  scale_mode="iterations", max_momentum=0.95), {"momentum": 0.5}),
    "ChainedScheduler": (
        lambda ls, o: ls.ChainedScheduler([ls.ConstantLR(o, factor=0.1, total_iters=2),
                                           ls.ExponentialLR(o, gamma=0.9)]), {}),
    "ChainedScheduler-step-multiplicative": (
        lambda ls, o: ls.ChainedScheduler([ls.StepLR(o, 3, 0.5),
                                           ls.MultiplicativeLR(o, lambda e: 0.95)]), {}),
}


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_scheduler_rates_and_momentum_follow_pytorch(torch, name):
    """The schedulers a course reaches for after StepLR, which stopped at Unsupported:
    the rate (and CyclicLR's momentum) after every one of 12 steps, as PyTorch's."""
    make, extra = SCHEDULERS[name]
    seen = []
    for lib in (ft, torch):
        w = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.SGD([w], lr=0.1, **extra)
        sched = make(lib.optim.lr_scheduler, opt)
        trace = [(opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"])]
        for _ in range(12):
            w.sum().backward()
            opt.step()
            sched.step()
            trace.append((opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"]))
        seen.append((trace, sched.get_last_lr(), _np(w)))
    (ours, ours_last, ours_w), (theirs, theirs_last, theirs_w) = seen
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(ours_last, theirs_last, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(ours_w, theirs_w, rtol=1e-5)


def test_cyclic_lr_cycles_adam_beta1_without_recompiling(torch):
    """With Adam, CyclicLR cycles beta1 (its momentum) every step: the loop still
    compiles one step."""
    seen = []
    for lib in (ft, torch):
        w = lib.nn.Parameter(lib.tensor([1.0, -2.0]))
        opt = lib.optim.Adam([w], lr=0.1)
        sched = lib.optim.lr_scheduler.CyclicLR(opt, 0.001, 0.01, step_size_up=3)
        if lib is ft:
            before = ft.compile_stats()
        for _ in range(7):
            opt.zero_grad()
            (w ** 2).sum().backward()
            opt.step()
            sched.step()
        if lib is ft:
            after = ft.compile_stats()
        seen.append((opt.param_groups[0]["betas"][0], _np(w)))
    assert seen[0][0] == pytest.approx(seen[1][0], rel=1e-7)
    np.testing.assert_allclose(seen[0][1], seen[1][1], rtol=1e-5)
    assert after["compiles"] - before["compiles"] == 1, (before, after)
