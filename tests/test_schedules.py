"""fnnet.optim.schedules against torch.optim.lr_scheduler's values, count by count."""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import assert_close

from fnnet.optim import schedules


def torch_lrs(torch, lr, make_scheduler, steps):
    """The learning rate PyTorch's scheduler sets after 0, 1, ..., ``steps`` steps."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=lr, momentum=0.9)
    scheduler = make_scheduler(opt)
    values = [opt.param_groups[0]["lr"]]
    for _ in range(steps):
        opt.step()
        scheduler.step()
        values.append(opt.param_groups[0]["lr"])
    return np.asarray(values)


def ours(schedule, steps):
    # One padded length for every case, so that eager ops compile once for all of them.
    assert steps < 256
    return np.asarray(schedule(jnp.arange(256)))[:steps + 1]


CASES = [
    ("StepLR", dict(step_size=7, gamma=0.5), lambda lr, k: schedules.step_lr(lr, **k), 100),
    ("StepLR", dict(step_size=1, gamma=0.9), lambda lr, k: schedules.step_lr(lr, **k), 100),
    # PyTorch's language-model tutorial writes StepLR(optimizer, 1.0, gamma=0.95)
    ("StepLR", dict(step_size=3.0, gamma=0.95), lambda lr, k: schedules.step_lr(lr, **k), 50),
    ("MultiStepLR", dict(milestones=[30, 10, 60, 60], gamma=0.3),
     lambda lr, k: schedules.multi_step_lr(lr, **k), 100),
    ("MultiStepLR", dict(milestones=[], gamma=0.3),
     lambda lr, k: schedules.multi_step_lr(lr, **k), 20),
    ("ExponentialLR", dict(gamma=0.95), lambda lr, k: schedules.exponential_lr(lr, **k), 200),
    ("ExponentialLR", dict(gamma=1.02), lambda lr, k: schedules.exponential_lr(lr, **k), 100),
    # the closed forms of the schedules fnnet.torch's schedulers compute PyTorch's way
    ("LinearLR", dict(start_factor=0.1, end_factor=1.0, total_iters=7),
     lambda lr, k: schedules.linear_lr(lr, **k), 30),
    ("ConstantLR", dict(factor=0.3, total_iters=5), lambda lr, k: schedules.constant_lr(lr, **k),
     20),
    ("PolynomialLR", dict(total_iters=20, power=2.0),
     lambda lr, k: schedules.polynomial_lr(lr, **k), 30),
    ("CosineAnnealingWarmRestarts", dict(T_0=5, T_mult=2, eta_min=1e-3),
     lambda lr, k: schedules.cosine_annealing_warm_restarts(lr, **k), 40),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=4, mode="exp_range", gamma=0.97),
     lambda lr, k: schedules.cyclic_lr(**k), 40),
]


@pytest.mark.parametrize("name, kwargs, make, steps", CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_decay_schedules_match_torch(torch, name, kwargs, make, steps):
    cls = getattr(torch.optim.lr_scheduler, name)
    expected = torch_lrs(torch, 0.1, lambda o: cls(o, **kwargs), steps)
    assert_close(ours(make(0.1, kwargs), steps), expected.astype(np.float32), atol=0)


@pytest.mark.parametrize("T_max, eta_min, lr", [(10, 0.0, 0.1), (7, 1e-3, 1.0), (1, 0.0, 0.5),
                                                (50, 0.01, 0.2)])
def test_cosine_annealing_matches_torch_recursion_for_three_periods(torch, T_max, eta_min,
                                                                    lr):
    steps = 3 * T_max
    expected = torch_lrs(torch, lr, lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(
        o, T_max=T_max, eta_min=eta_min), steps)
    actual = ours(schedules.cosine_annealing_lr(lr, T_max, eta_min), steps)
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-6)
    assert_close(actual, expected.astype(np.float32), atol=1e-9)


@pytest.mark.parametrize("kwargs", [
    dict(max_lr=0.1, total_steps=100),
    dict(max_lr=1.0, total_steps=37, pct_start=0.25, anneal_strategy="linear"),
    dict(max_lr=0.3, total_steps=100, pct_start=0.29, div_factor=10.0, final_div_factor=100.0),
    dict(max_lr=0.1, total_steps=60, three_phase=True),
    dict(max_lr=0.05, total_steps=41, pct_start=0.4, three_phase=True,
         anneal_strategy="linear"),
], ids=str)
def test_one_cycle_matches_torch(torch, kwargs):
    steps = kwargs["total_steps"]
    expected = torch_lrs(torch, 0.5, lambda o: torch.optim.lr_scheduler.OneCycleLR(
        o, **kwargs), steps)
    schedule = schedules.one_cycle_lr(**kwargs)
    # Relative precision holds down to the tiny final rate (max_lr / 25 / 1e4).
    assert_close(ours(schedule, steps), expected.astype(np.float32), atol=0)
    # Past total_steps, where PyTorch raises, the final value is held.
    assert_close(schedule(steps + 5), schedule(steps), atol=0)


def test_schedules_take_optax_counts_under_jit():
    schedule = schedules.cosine_annealing_lr(0.1, 10)
    jitted = jax.jit(schedule)
    for count in (0, 3, 10, 25):
        assert_close(jitted(jnp.asarray(count, jnp.int32)), schedule(count))


def test_per_epoch_advances_once_per_epoch():
    base = schedules.step_lr(0.1, step_size=2, gamma=0.5)
    stepped = schedules.per_epoch(base, steps_per_epoch=3)
    counts = jnp.arange(20)
    assert_close(stepped(counts), base(counts // 3), atol=0)
    assert float(stepped(5)) == pytest.approx(0.1) and float(stepped(6)) == pytest.approx(0.05)


@pytest.mark.parametrize("kwargs", [
    dict(max_lr=0.1, total_steps=0),
    dict(max_lr=0.1, total_steps=10, pct_start=1.5),
    dict(max_lr=0.1, total_steps=10, anneal_strategy="exp"),
], ids=str)
def test_one_cycle_bad_arguments_raise_torchs_error(torch, kwargs):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError) as theirs:
        torch.optim.lr_scheduler.OneCycleLR(opt, **kwargs)
    with pytest.raises(ValueError, match=f"^{re.escape(str(theirs.value))}$"):
        schedules.one_cycle_lr(**kwargs)


@pytest.mark.parametrize("call, error, message", [
    (lambda: schedules.step_lr(0.1, step_size=0), ValueError,
     "step_size must be a positive int, got 0"),
    (lambda: schedules.step_lr(0.1, step_size=2.5), ValueError,
     "step_size must be a positive int, got 2.5"),
    (lambda: schedules.cosine_annealing_lr(0.1, T_max=2.5), ValueError,
     "T_max must be a positive int, got 2.5"),
    (lambda: schedules.multi_step_lr(0.1, milestones=[10, 2.5]), TypeError,
     "milestones must be a list of ints, got [10, 2.5]"),
    (lambda: schedules.exponential_lr(-0.1, gamma=0.9), ValueError, "Invalid lr: -0.1"),
    (lambda: schedules.exponential_lr(0.1, gamma="0.9"), TypeError,
     "gamma must be a number, got '0.9'"),
    (lambda: schedules.per_epoch(0.1, steps_per_epoch=10), TypeError,
     "schedule must be a callable count -> lr, got 0.1"),
])
def test_bad_arguments_raise(call, error, message):
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        call()
