"""PyTorch's learning-rate schedulers as optax schedules ``count -> lr``.

A PyTorch scheduler mutates the optimizer each time ``scheduler.step()`` is called; an
optax schedule is a pure function of a count. Each function here returns the schedule
whose value at count ``k`` is the learning rate PyTorch's scheduler sets after ``k``
calls to ``scheduler.step()``:

    torch:  sched = StepLR(opt, step_size=30, gamma=0.1)      # lr = 0.1 initially
    fnnet:  sched = step_lr(0.1, step_size=30, gamma=0.1)     # sched(k) = lr after k steps

**The count is whatever the caller steps.** Passed as ``lr`` to an optimizer
(``fnnet.optim.SGD(lr=sched)``), the schedule is evaluated at the number of optimizer
steps taken, i.e. it behaves as a scheduler stepped after every batch. To step it once
per epoch, as PyTorch examples usually do, wrap it: ``per_epoch(sched, steps_per_epoch)``.

Values are computed in float32 from closed forms chosen to stay accurate to about 1e-7
relative (PyTorch's recursive updates are in float64).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from fnnet.optim._validate import check_nonnegative, check_number


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _power(base: float, exponent: Any) -> Any:
    """``base ** exponent`` for a count-valued exponent, as ``lax.pow`` computes it
    whether the count is concrete or traced: ``jnp.power`` compiles a program for each
    concrete integer exponent (a scheduler evaluated on the host each step compiled at
    each step) and rounds differently from its traced form."""
    exponent = jnp.asarray(exponent)
    dtype = jnp.result_type(float)
    if not jnp.issubdtype(exponent.dtype, jnp.integer):
        exponent = exponent.astype(dtype)
    return lax.pow(jnp.asarray(base, dtype), exponent)


def _check_lr(name: str, value: Any) -> None:
    check_number(name, value)
    check_nonnegative(value, f"Invalid {name}")


def step_lr(lr: float, step_size: int | float, gamma: float = 0.1) -> optax.Schedule:
    """``lr * gamma ** (k // step_size)``: decay by ``gamma`` every ``step_size`` counts.

    Args:
        lr: the initial learning rate (PyTorch takes it from the optimizer).
        step_size: period of the decay: a positive int, or a float of an int's value
            (``StepLR(opt, 1.0, ...)``, as PyTorch's tutorials write it).
        gamma: multiplicative factor.

    Returns:
        An optax schedule ``count -> lr``.

    PyTorch equivalent: ``torch.optim.lr_scheduler.StepLR(optimizer, step_size, gamma)``.
    """
    _check_lr("lr", lr)
    if isinstance(step_size, float) and step_size.is_integer():
        step_size = int(step_size)
    step_size = _positive_int("step_size", step_size)
    check_number("gamma", gamma)

    def schedule(count: Any) -> Any:
        return lr * _power(gamma, jnp.asarray(count) // step_size)

    return schedule


def multi_step_lr(lr: float, milestones: Iterable[int], gamma: float = 0.1) -> optax.Schedule:
    """``lr * gamma ** (number of milestones <= k)``.

    Args:
        lr: the initial learning rate.
        milestones: counts at which to decay; a milestone listed twice decays twice, as
            in PyTorch.
        gamma: multiplicative factor.

    Returns:
        An optax schedule ``count -> lr``.

    PyTorch equivalent: ``torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones,
    gamma)``.
    """
    _check_lr("lr", lr)
    check_number("gamma", gamma)
    if isinstance(milestones, (str, bytes)) or not isinstance(milestones, Iterable):
        raise TypeError(f"milestones must be a list of ints, got {milestones!r}")
    marks = list(milestones)
    if not all(isinstance(m, (int, np.integer)) and not isinstance(m, bool) for m in marks):
        raise TypeError(f"milestones must be a list of ints, got {marks!r}")
    points = jnp.asarray(sorted(marks), jnp.int32)

    def schedule(count: Any) -> Any:
        passed = jnp.sum(jnp.asarray(count)[..., None] >= points, axis=-1)
        return lr * _power(gamma, passed)

    return schedule


def exponential_lr(lr: float, gamma: float) -> optax.Schedule:
    """``lr * gamma ** k``.

    Args:
        lr: the initial learning rate.
        gamma: multiplicative factor per count.

    Returns:
        An optax schedule ``count -> lr``.

    PyTorch equivalent: ``torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma)``.
    """
    _check_lr("lr", lr)
    check_number("gamma", gamma)

    def schedule(count: Any) -> Any:
        return lr * _power(gamma, count)

    return schedule


def _cos_half(remaining: Any, span: Any) -> Any:
    """``(1 + cos(pi * (1 - remaining / span))) / 2`` without float32 cancellation.

    The identity ``(1 + cos(pi * x)) / 2 = sin(pi * (1 - x) / 2) ** 2`` keeps full
    relative precision where the value nears 0, which ``1 + cos`` loses in float32.
    """
    return jnp.square(jnp.sin(0.5 * jnp.pi * remaining / span))


def cosine_annealing_lr(lr: float, T_max: int, eta_min: float = 0.0) -> optax.Schedule:
    """``eta_min + (lr - eta_min) * (1 + cos(pi * k / T_max)) / 2``.

    The closed form PyTorch documents; it matches PyTorch's recursive values, which
    keep following the cosine after ``T_max`` (back up to ``lr`` at ``2 * T_max``).

    Args:
        lr: the initial (maximum) learning rate.
        T_max: half period, in counts.
        eta_min: the minimum learning rate.

    Returns:
        An optax schedule ``count -> lr``.

    PyTorch equivalent: ``torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max,
    eta_min)``.
    """
    _check_lr("lr", lr)
    T_max = _positive_int("T_max", T_max)
    _check_lr("eta_min", eta_min)

    def schedule(count: Any) -> Any:
        # The cosine has period 2 * T_max; T_max - phase lies in [-T_max, T_max].
        phase = jnp.asarray(count) % (2 * T_max)
        return eta_min + (lr - eta_min) * _cos_half(T_max - phase, T_max)

    return schedule


def one_cycle_lr(max_lr: float, total_steps: int, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False) -> optax.Schedule:
    """The 1cycle policy: warm up from ``max_lr / div_factor`` to ``max_lr``, then anneal.

    Phases as PyTorch's: up to ``max_lr`` until count ``pct_start * total_steps - 1``,
    then down to ``max_lr / div_factor / final_div_factor`` at ``total_steps - 1``
    (with ``three_phase``, first back to the initial rate at ``2 * pct_start *
    total_steps - 2``). Beyond ``total_steps``, where PyTorch raises, the value at
    ``total_steps`` is held. Only the learning rate is scheduled: PyTorch's
    ``cycle_momentum`` has no counterpart here.

    Args:
        max_lr: the peak learning rate.
        total_steps: the length of the cycle, in counts.
        pct_start: fraction of the cycle spent increasing the rate.
        anneal_strategy: ``'cos'`` or ``'linear'``.
        div_factor: ``initial_lr = max_lr / div_factor``.
        final_div_factor: ``min_lr = initial_lr / final_div_factor``.
        three_phase: use PyTorch's three-phase variant.

    Returns:
        An optax schedule ``count -> lr``.

    Raises:
        ValueError: PyTorch's checks, e.g. ``Expected float between 0 and 1 pct_start,
            but got 1.5``.

    PyTorch equivalent: ``torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr,
    total_steps, pct_start, anneal_strategy, cycle_momentum=False, div_factor=...,
    final_div_factor=..., three_phase=...)``.
    """
    _check_lr("max_lr", max_lr)
    if isinstance(total_steps, bool) or not isinstance(total_steps, (int, np.integer)) \
            or total_steps <= 0:
        raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
    check_number("pct_start", pct_start)
    if not 0 <= pct_start <= 1:
        raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
    if anneal_strategy not in ("cos", "linear"):
        raise ValueError("anneal_strategy must be one of 'cos' or 'linear', instead got "
                         f"{anneal_strategy}")
    check_number("div_factor", div_factor)
    check_number("final_div_factor", final_div_factor)
    initial_lr = max_lr / div_factor
    min_lr = initial_lr / final_div_factor
    # (end_step, start_lr, end_lr), PyTorch's phases; end steps are floats there too.
    if three_phase:
        phases = [(float(pct_start * total_steps) - 1, initial_lr, max_lr),
                  (float(2 * pct_start * total_steps) - 2, max_lr, initial_lr),
                  (total_steps - 1.0, initial_lr, min_lr)]
    else:
        phases = [(float(pct_start * total_steps) - 1, initial_lr, max_lr),
                  (total_steps - 1.0, max_lr, min_lr)]

    def anneal(start_lr: float, end_lr: float, step: Any, start: float, end: float) -> Any:
        span = end - start if end != start else 1.0  # PyTorch divides by zero here
        if anneal_strategy == "cos":
            return end_lr + (start_lr - end_lr) * _cos_half(end - step, span)
        # PyTorch's (end_lr - start_lr) * pct + start_lr, written from the phase's end
        # so that float32 keeps relative precision near a tiny end_lr.
        return end_lr + (start_lr - end_lr) * ((end - step) / span)

    def schedule(count: Any) -> Any:
        step = jnp.minimum(jnp.asarray(count), total_steps).astype(jnp.result_type(float))
        starts = [0.0] + [end for end, _, _ in phases[:-1]]
        value = anneal(phases[-1][1], phases[-1][2], step, starts[-1], phases[-1][0])
        for (end, start_lr, end_lr), start in reversed(list(zip(phases[:-1], starts[:-1],
                                                                 strict=True))):
            # PyTorch tests step <= end_step in float64; for an integer step that is
            # step <= floor(end_step), exact whatever float32 makes of end_step.
            value = jnp.where(step <= math.floor(end),
                              anneal(start_lr, end_lr, step, start, end), value)
        return value

    return schedule


def per_epoch(schedule: optax.Schedule, steps_per_epoch: int) -> optax.Schedule:
    """``schedule`` advanced once per epoch of ``steps_per_epoch`` optimizer steps.

    Pass the result as an optimizer's ``lr`` to mirror PyTorch's usual loop, where
    ``scheduler.step()`` is called once at the end of each epoch.

    Args:
        schedule: a schedule counting epochs.
        steps_per_epoch: optimizer steps (batches) per epoch.

    Returns:
        A schedule counting optimizer steps.
    """
    steps_per_epoch = _positive_int("steps_per_epoch", steps_per_epoch)
    if not callable(schedule):
        raise TypeError(f"schedule must be a callable count -> lr, got {schedule!r}")

    def stepped(count: Any) -> Any:
        return schedule(jnp.asarray(count) // steps_per_epoch)

    return stepped


def linear_lr(lr: float, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
              total_iters: int = 5) -> optax.Schedule:
    """``lr`` times a factor moving linearly from ``start_factor`` to ``end_factor`` over
    ``total_iters`` counts, then held (a warm-up when ``start_factor < 1``).

    Args:
        lr: the initial learning rate.
        start_factor: the factor at count 0, in ``(0, 1]``.
        end_factor: the factor from ``total_iters`` on, in ``[0, 1]``.
        total_iters: counts to reach ``end_factor``.

    Returns:
        An optax schedule ``count -> lr``.

    PyTorch equivalent: ``torch.optim.lr_scheduler.LinearLR`` (its closed form).
    """
    _check_lr("lr", lr)
    check_number("start_factor", start_factor)
    check_number("end_factor", end_factor)
    if not 0 < start_factor <= 1:
        raise ValueError("Starting multiplicative factor expected to be greater than 0 and "
                         "less or equal to 1.")
    if not 0 <= end_factor <= 1:
        raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
    total_iters = _positive_int("total_iters", total_iters)

    def schedule(count: Any) -> Any:
        progress = jnp.minimum(jnp.asarray(count), total_iters) / total_iters
        return lr * (start_factor + (end_factor - start_factor) * progress)

    return schedule


def cosine_annealing_warm_restarts(lr: float, T_0: int, T_mult: int = 1,  # noqa: N803
                                   eta_min: float = 0.0) -> optax.Schedule:
    """Cosine annealing from ``lr`` to ``eta_min`` over ``T_0`` counts, restarted at
    ``lr``, each period ``T_mult`` times the previous (SGDR).

    Args:
        lr: the rate at each restart.
        T_0: the first period, in counts.
        T_mult: the growth of each period (an int >= 1).
        eta_min: the lowest rate.

    Returns:
        An optax schedule ``count -> lr`` (counts may be fractional epochs).

    PyTorch equivalent: ``torch.optim.lr_scheduler.CosineAnnealingWarmRestarts``.
    """
    _check_lr("lr", lr)
    if not isinstance(T_0, int) or isinstance(T_0, bool) or T_0 <= 0:
        raise ValueError(f"Expected positive integer T_0, but got {T_0}")
    if not isinstance(T_mult, int) or isinstance(T_mult, bool) or T_mult < 1:
        raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
    check_number("eta_min", eta_min)

    def start(n: Any) -> Any:  # the count at which period n begins
        return T_0 * (T_mult ** n - 1) / (T_mult - 1)

    def schedule(count: Any) -> Any:
        epoch = jnp.asarray(count, jnp.result_type(float))
        t_cur: Any
        t_i: Any
        if T_mult == 1:
            t_cur, t_i = jnp.mod(epoch, T_0), float(T_0)
        else:
            n = jnp.floor(jnp.log(epoch / T_0 * (T_mult - 1) + 1) / math.log(T_mult))
            # the logarithm's rounding can land a count at a period's edge in the
            # neighbouring period: correct with the exact starts
            n = jnp.where(epoch >= start(n + 1), n + 1, n)
            n = jnp.where(epoch < start(n), n - 1, n)
            t_cur, t_i = epoch - start(n), T_0 * T_mult ** n
        return eta_min + (lr - eta_min) * (1 + jnp.cos(jnp.pi * t_cur / t_i)) / 2

    return schedule


def constant_lr(lr: float, factor: float = 1.0 / 3, total_iters: int = 5) -> optax.Schedule:
    """``lr * factor`` for the first ``total_iters`` counts, then ``lr``.

    Args:
        lr: the initial learning rate.
        factor: the factor before ``total_iters``, in ``[0, 1]``.
        total_iters: counts under the factor.

    Returns:
        An optax schedule ``count -> lr``.

    PyTorch equivalent: ``torch.optim.lr_scheduler.ConstantLR`` (its closed form).
    """
    _check_lr("lr", lr)
    check_number("factor", factor)
    if not 0 <= factor <= 1:
        raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
    check_number("total_iters", total_iters)

    def schedule(count: Any) -> Any:
        return jnp.where(jnp.asarray(count) < total_iters, lr * factor, lr)

    return schedule


def polynomial_lr(lr: float, total_iters: int = 5, power: float = 1.0) -> optax.Schedule:
    """``lr * (1 - min(k, total_iters) / total_iters) ** power``: a polynomial decay to 0.

    Args:
        lr: the initial learning rate.
        total_iters: counts to reach 0.
        power: the polynomial's power.

    Returns:
        An optax schedule ``count -> lr``.

    PyTorch equivalent: ``torch.optim.lr_scheduler.PolynomialLR`` (its closed form).
    """
    _check_lr("lr", lr)
    total_iters = _positive_int("total_iters", total_iters)
    check_number("power", power)

    def schedule(count: Any) -> Any:
        done = jnp.minimum(jnp.asarray(count), total_iters) / total_iters
        return lr * (1.0 - done) ** power

    return schedule


def cyclic_lr(base_lr: float, max_lr: float, step_size_up: int = 2000,
              step_size_down: int | None = None, mode: str = "triangular",
              gamma: float = 1.0, scale_fn: Any = None,
              scale_mode: str = "cycle") -> optax.Schedule:
    """A rate cycling between ``base_lr`` and ``max_lr``: up over ``step_size_up`` counts,
    down over ``step_size_down``, the cycle's height scaled by ``mode`` or ``scale_fn``
    (Smith, "Cyclical Learning Rates for Training Neural Networks", 2017).

    Args:
        base_lr: the lowest rate (each cycle's start).
        max_lr: the highest rate of the first cycle.
        step_size_up: counts from ``base_lr`` up to the peak.
        step_size_down: counts from the peak down (``step_size_up`` when None).
        mode: ``"triangular"`` (constant height), ``"triangular2"`` (halved each cycle)
            or ``"exp_range"`` (``gamma ** count``); unused when ``scale_fn`` is given.
        gamma: the base of ``"exp_range"``.
        scale_fn: a function of the cycle (``scale_mode="cycle"``) or of the count
            (``"iterations"``) scaling the height, instead of ``mode``.
        scale_mode: what ``scale_fn`` receives.

    Returns:
        An optax schedule ``count -> lr``. With ``base_lr`` and ``max_lr`` swapped it is
        the momentum's inverse cycle.

    PyTorch equivalent: ``torch.optim.lr_scheduler.CyclicLR``.
    """
    check_number("base_lr", base_lr)
    check_number("max_lr", max_lr)
    up = float(step_size_up)
    down = float(step_size_down) if step_size_down is not None else up
    if up <= 0 or down < 0:
        raise ValueError(f"cyclic_lr: step_size_up must be > 0 and step_size_down >= 0, "
                         f"got {step_size_up!r} and {step_size_down!r}")
    if scale_fn is None:
        if mode not in ("triangular", "triangular2", "exp_range"):
            raise ValueError("mode is invalid and scale_fn is None")
        scale_fn = {"triangular": lambda x: 1.0,
                    "triangular2": lambda x: 1 / (2.0 ** (x - 1)),
                    "exp_range": lambda x: _power(gamma, x)}[mode]
        scale_mode = "iterations" if mode == "exp_range" else "cycle"
    elif scale_mode not in ("cycle", "iterations"):
        raise ValueError(f"scale_mode must be 'cycle' or 'iterations', got {scale_mode!r}")
    total, ratio = up + down, up / (up + down)

    def schedule(count: Any) -> Any:
        count = jnp.asarray(count)
        cycle = jnp.floor(1 + count / total)
        x = 1.0 + count / total - cycle
        factor = jnp.where(x <= ratio, x / ratio, (x - 1) / (ratio - 1))
        scale = scale_fn(cycle if scale_mode == "cycle" else count)
        return base_lr + (max_lr - base_lr) * factor * scale

    return schedule


def check_annealing(anneal_epochs: Any, anneal_strategy: Any) -> None:
    """PyTorch's ValueErrors for :func:`swa_lr`'s (and ``SWALR``'s) annealing options."""
    if anneal_strategy not in ("cos", "linear"):
        raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got "
                         f"{anneal_strategy}")
    if isinstance(anneal_epochs, bool) or not isinstance(anneal_epochs, int) or \
            anneal_epochs < 0:
        raise ValueError(f"anneal_epochs must be equal or greater than 0, got "
                         f"{anneal_epochs}")


def swa_lr(lr: float, swa_lr: float, anneal_epochs: int = 10,
           anneal_strategy: str = "cos") -> optax.Schedule:
    """From ``lr`` to ``swa_lr`` over ``anneal_epochs`` counts (cosine or linear), then
    ``swa_lr``: the rate of stochastic weight averaging's last phase.

    Args:
        lr: the rate when the annealing starts.
        swa_lr: the constant rate it reaches.
        anneal_epochs: counts of the annealing (0: ``swa_lr`` from count 1 on).
        anneal_strategy: ``"cos"`` or ``"linear"``.

    Returns:
        An optax schedule ``count -> lr``.

    PyTorch equivalent: ``torch.optim.swa_utils.SWALR`` (its closed form).
    """
    _check_lr("lr", lr)
    _check_lr("swa_lr", swa_lr)
    check_annealing(anneal_epochs, anneal_strategy)

    def schedule(count: Any) -> Any:
        count = jnp.asarray(count)
        if anneal_epochs == 0:
            count = jnp.maximum(count, 1)
        t = jnp.clip(count / max(1, anneal_epochs), 0.0, 1.0)
        alpha = (1 - jnp.cos(jnp.pi * t)) / 2 if anneal_strategy == "cos" else t
        return swa_lr * alpha + lr * (1 - alpha)

    return schedule


__all__ = [
    "constant_lr",
    "cosine_annealing_lr",
    "cyclic_lr",
    "cosine_annealing_warm_restarts",
    "linear_lr",
    "exponential_lr",
    "multi_step_lr",
    "one_cycle_lr",
    "per_epoch",
    "polynomial_lr",
    "step_lr",
    "swa_lr",
]
