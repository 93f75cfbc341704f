"""``torch.optim.lr_scheduler``: stateful wrappers of ``fnnet.optim.schedules``.

Each scheduler evaluates the fnnet schedule (a pure function ``count -> lr``) at its
epoch counter and writes the value into ``param_group["lr"]``, which the next
``optimizer.step()`` reads without recompiling.
"""

from __future__ import annotations

import bisect
import collections
import math
import types
import warnings
from typing import Any

import jax
import numpy as np

from fnnet.optim import schedules
from fnnet.torch.optim.optimizer import Optimizer

#: counts a schedule is evaluated at op by op before it is jitted: a scheduler stepped
#: every batch then costs one dispatch a step instead of one per jnp op (milliseconds),
#: and one stepped every epoch seldom pays for a compile
JIT_AFTER = 32
#: attributes that state_dict() and pickling leave out (built again from the rest)
_UNSAVED = ("optimizer", "_schedules", "_momentum_schedules")


class _OnHost:
    """A schedule evaluated on the host in double precision, as PyTorch computes its
    rates: op by op for its first :data:`JIT_AFTER` calls, then as one jitted program
    (the same values to a few ulps: neither is PyTorch's recursion bit for bit)."""

    def __init__(self, schedule: Any) -> None:
        self.schedule = schedule
        self.calls = 0
        self.jitted: Any = None

    def __call__(self, count: Any) -> float:
        self.calls += 1
        if self.jitted is None and self.calls > JIT_AFTER:
            self.jitted = jax.jit(self.schedule)
        with jax.enable_x64(True):
            return float(np.asarray((self.jitted or self.schedule)(count)))


#: PyTorch's warning for a scheduler stepped before its optimizer (the schedule's first
#: value is skipped)
_ORDER = ("Detected call of `lr_scheduler.step()` before `optimizer.step()`. In PyTorch "
          "1.1.0 and later, you should call them in the opposite order: `optimizer.step()` "
          "before `lr_scheduler.step()`.  Failure to do this will result in PyTorch skipping "
          "the first value of the learning rate schedule. See more details at "
          "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate")


class LRScheduler:
    """Base of the schedulers. PyTorch equivalent: ``torch.optim.lr_scheduler.LRScheduler``."""

    #: whether PyTorch computes the rates from the group's current one (its chainable
    #: form): where a program, an optimizer's loaded state or another scheduler on the
    #: same optimizer changed the rate, the schedule's step moves it from there
    _CHAINABLE = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError("param 'initial_lr' is not specified in param_groups when "
                               "resuming an optimizer")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self._schedules = self._host_schedules()
        self.last_epoch = last_epoch
        # PyTorch's bookkeeping, kept so that state_dict() has PyTorch's keys
        self._step_count = 0
        self._is_initial = False
        self._get_lr_called_within_step = False
        self.step()

    def _schedule(self, lr: float) -> Any:
        """The fnnet schedule (``count -> lr``) of a group starting at ``lr``; None where
        the subclass gives its rates by ``get_lr`` instead (a program's own scheduler, as
        PyTorch's protocol has it)."""
        return None

    def _build_schedules(self) -> list[Any]:
        """One schedule per parameter group, from the group's initial rate."""
        return [self._schedule(lr) for lr in self.base_lrs]

    def _host_schedules(self) -> list[Any]:
        """The schedules as :class:`_OnHost` (None where a subclass gives ``get_lr``)."""
        return [None if s is None else _OnHost(s) for s in self._build_schedules()]

    def _momentum_on_host(self, key: tuple[float, float], make: Any) -> _OnHost:
        """The momentum schedule of a group's momentum range ``key`` (``make()`` builds
        it), kept across steps (not saved: built again after a load)."""
        cache = self.__dict__.setdefault("_momentum_schedules", {})
        if key not in cache:
            cache[key] = _OnHost(make())
        on_host: _OnHost = cache[key]
        return on_host

    def get_last_lr(self) -> list[float]:
        return list(self._last_lr)

    def get_lr(self) -> list[float]:
        if any(s is None for s in self._schedules):
            raise NotImplementedError  # PyTorch's base class: a subclass defines get_lr
        # Host-side floats in double precision, as PyTorch prints them (0.01, not
        # 0.010000000707805157); the compiled step still receives the rate as float32.
        return [s(self.last_epoch) for s in self._schedules]

    def step(self, epoch: int | None = None) -> None:
        if self._step_count == 1 and not getattr(self.optimizer, "_opt_called", False):
            warnings.warn(_ORDER, UserWarning, stacklevel=2)
        chained = self._CHAINABLE and epoch is None
        # the schedule at the epoch being left (before get_lr moves a running product on)
        previous = self.get_lr() if chained and self._step_count and self.last_epoch >= 0 \
            else None
        self._step_count += 1
        self.last_epoch = self.last_epoch + 1 if epoch is None else int(epoch)
        values = self.get_lr()
        if chained:
            values = self._chained(values, previous)
        for group, lr in zip(self.optimizer.param_groups, values, strict=False):
            group["lr"] = lr
        self._last_lr = values

    def _floor(self) -> float:
        """The rate the schedule's factors scale the distance above (CosineAnnealingLR's
        ``eta_min``; 0 for the multiplicative schedules)."""
        return 0.0

    def _chained(self, values: list[float], previous: list[float] | None) -> list[float]:
        """PyTorch's recursive form of a chainable schedule: each group's current rate
        moved by the schedule's own step, ``values[i] / previous[i]`` (of the distance
        above the floor), which is the closed form ``values`` where nothing else changed
        the rate."""
        groups = self.optimizer.param_groups
        if previous is None:
            if self.last_epoch != 0:
                return values  # made to resume at last_epoch: the closed form there
            # the constructor's step scales the group's rate as it is
            return [lr if group["lr"] == base or not base else group["lr"] * (lr / base)
                    for lr, base, group in zip(values, self.base_lrs, groups, strict=False)]
        floor, out = self._floor(), []
        for lr, before, group in zip(values, previous, groups, strict=False):
            if group["lr"] == before:
                out.append(lr)
            elif before == floor:  # PyTorch adds the step where the factor is undefined
                out.append(group["lr"] + (lr - before))
            else:
                out.append(floor + (group["lr"] - floor) * ((lr - floor) / (before - floor)))
        return out

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in _UNSAVED}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)
        self._schedules = self._host_schedules()

    def __getstate__(self) -> dict[str, Any]:
        # pickled (torch.save(scheduler)) without its schedules, built again on load
        return {k: v for k, v in self.__dict__.items() if k not in _UNSAVED[1:]}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._schedules = self._host_schedules()


class _LRScheduler(LRScheduler):
    """PyTorch's older name of :class:`LRScheduler`, which custom schedulers subclass."""


class StepLR(LRScheduler):
    """``lr * gamma ** (epoch // step_size)`` (``fnnet.optim.schedules.step_lr``).

    PyTorch equivalent: ``torch.optim.lr_scheduler.StepLR``.
    """

    _CHAINABLE = True

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def _schedule(self, lr: float) -> Any:
        return schedules.step_lr(lr, self.step_size, self.gamma)


class CosineAnnealingLR(LRScheduler):
    """Cosine from ``lr`` to ``eta_min`` over ``T_max`` epochs
    (``fnnet.optim.schedules.cosine_annealing_lr``).

    PyTorch equivalent: ``torch.optim.lr_scheduler.CosineAnnealingLR``.
    """

    _CHAINABLE = True

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def _schedule(self, lr: float) -> Any:
        return schedules.cosine_annealing_lr(lr, self.T_max, self.eta_min)

    def _floor(self) -> float:
        return float(self.eta_min)


class MultiStepLR(LRScheduler):
    """PyTorch equivalent: ``torch.optim.lr_scheduler.MultiStepLR``."""

    _CHAINABLE = True

    def __init__(self, optimizer: Optimizer, milestones: Any, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        # a Counter, as PyTorch keeps them: its state dict, saved, loads in PyTorch
        self.milestones, self.gamma = collections.Counter(milestones), gamma
        super().__init__(optimizer, last_epoch)

    def _schedule(self, lr: float) -> Any:
        # a milestone counted twice decays twice; a list is a state fnnet.torch saved
        # before it kept a Counter
        marks = collections.Counter(self.milestones).elements()
        return schedules.multi_step_lr(lr, list(marks), self.gamma)


class ExponentialLR(LRScheduler):
    """PyTorch equivalent: ``torch.optim.lr_scheduler.ExponentialLR``."""

    _CHAINABLE = True

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def _schedule(self, lr: float) -> Any:
        return schedules.exponential_lr(lr, self.gamma)


class LinearLR(LRScheduler):
    """A linear warm-up (or decay) of the rate's factor (``fnnet.optim.schedules
    .linear_lr``). PyTorch equivalent: ``torch.optim.lr_scheduler.LinearLR``."""

    _CHAINABLE = True

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5, last_epoch: int = -1) -> None:
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, \
            total_iters
        super().__init__(optimizer, last_epoch)

    def _schedule(self, lr: float) -> Any:
        return schedules.linear_lr(lr, self.start_factor, self.end_factor, self.total_iters)


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR (``fnnet.optim.schedules.cosine_annealing_warm_restarts``); ``step(epoch)``
    takes fractional epochs, as PyTorch's. PyTorch equivalent:
    ``torch.optim.lr_scheduler.CosineAnnealingWarmRestarts``."""

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1,  # noqa: N803
                 eta_min: float = 0.0, last_epoch: int = -1) -> None:
        self.T_0, self.T_mult, self.eta_min = T_0, T_mult, eta_min
        # PyTorch's position in the current period and the period's length: step() moves
        # on from a fractional step(epoch) by one, and its state dict loads in PyTorch
        self.T_i, self.T_cur = T_0, last_epoch
        super().__init__(optimizer, last_epoch)

    def _schedule(self, lr: float) -> Any:
        return schedules.cosine_annealing_warm_restarts(lr, self.T_0, self.T_mult,
                                                        self.eta_min)

    def step(self, epoch: Any = None) -> None:
        # as PyTorch's own step() here: no order warning, _step_count left at 0
        if epoch is None and self.last_epoch >= 0:
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur, self.T_i = self.T_cur - self.T_i, self.T_i * self.T_mult
            # the count where the schedule is at T_cur of the period of length T_i
            periods = round(math.log(self.T_i / self.T_0, self.T_mult)) \
                if self.T_mult > 1 else 0
            at = self.T_cur + self.T_0 * (self.T_mult ** periods - 1) / max(
                self.T_mult - 1, 1)
            self.last_epoch += 1
            self._write([s(float(at)) for s in self._schedules])
            return
        epoch = 0 if epoch is None else epoch
        if epoch < 0:
            raise ValueError(f"Expected non-negative epoch, but got {epoch}")
        self.T_i, self.T_cur = self.T_0, epoch
        while self.T_cur >= self.T_i:  # the period epoch falls in
            self.T_cur, self.T_i = self.T_cur - self.T_i, self.T_i * self.T_mult
        self.last_epoch = math.floor(epoch)
        self._write([s(float(epoch)) for s in self._schedules])

    def _write(self, values: list[float]) -> None:
        for group, lr in zip(self.optimizer.param_groups, values, strict=False):
            group["lr"] = lr
        self._last_lr = values


class LambdaLR(LRScheduler):
    """``initial_lr * lr_lambda(epoch)``, one function per group or one for all.

    PyTorch equivalent: ``torch.optim.lr_scheduler.LambdaLR``.
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Any, last_epoch: int = -1) -> None:
        groups = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else 0
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != groups:
                raise ValueError(f"Expected {groups} lr_lambdas, but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * groups
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * fn(self.last_epoch)
                for base, fn in zip(self.base_lrs, self.lr_lambdas, strict=True)]

    def state_dict(self) -> dict[str, Any]:
        # As PyTorch: a callable object's attributes are saved, a function as None.
        state = {k: v for k, v in super().state_dict().items() if k != "lr_lambdas"}
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) else
                               dict(fn.__dict__) for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        saved = state.pop("lr_lambdas", None) or []
        super().load_state_dict(state)
        for fn, attributes in zip(self.lr_lambdas, saved, strict=False):
            if attributes is not None:
                fn.__dict__.update(attributes)


class MultiplicativeLR(LambdaLR):
    """The rate multiplied by ``lr_lambda(epoch)`` at every step after the first: kept as
    the running product of the factors, so that it chains with other schedulers.

    PyTorch equivalent: ``torch.optim.lr_scheduler.MultiplicativeLR``.
    """

    _CHAINABLE = True

    def __init__(self, optimizer: Optimizer, lr_lambda: Any, last_epoch: int = -1) -> None:
        self._factors: list[float] = []
        self._factor_epoch = 0
        super().__init__(optimizer, lr_lambda, last_epoch)

    def get_lr(self) -> list[float]:
        if not self._factors:
            self._factors, self._factor_epoch = [1.0] * len(self.base_lrs), self.last_epoch
        while self._factor_epoch < self.last_epoch:
            self._factor_epoch += 1
            self._factors = [f * fn(self._factor_epoch)
                             for f, fn in zip(self._factors, self.lr_lambdas, strict=True)]
        return [base * f for base, f in zip(self.base_lrs, self._factors, strict=True)]


class ConstantLR(LRScheduler):
    """``lr * factor`` for ``total_iters`` epochs, then ``lr``
    (``fnnet.optim.schedules.constant_lr``).

    PyTorch equivalent: ``torch.optim.lr_scheduler.ConstantLR``.
    """

    _CHAINABLE = True

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1) -> None:
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def _schedule(self, lr: float) -> Any:
        return schedules.constant_lr(lr, self.factor, self.total_iters)


class PolynomialLR(LRScheduler):
    """A polynomial decay to 0 over ``total_iters`` epochs
    (``fnnet.optim.schedules.polynomial_lr``).

    PyTorch equivalent: ``torch.optim.lr_scheduler.PolynomialLR``.
    """

    _CHAINABLE = True

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0,
                 last_epoch: int = -1) -> None:
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def _schedule(self, lr: float) -> Any:
        return schedules.polynomial_lr(lr, self.total_iters, self.power)


class CyclicLR(LRScheduler):
    """The rate cycling between ``base_lr`` and ``max_lr``, stepped once per batch
    (``fnnet.optim.schedules.cyclic_lr``); with ``cycle_momentum`` the momentum (SGD) or
    ``beta1`` runs the inverse cycle between ``max_momentum`` and ``base_momentum``, an
    input of the compiled step as the rate is.

    PyTorch equivalent: ``torch.optim.lr_scheduler.CyclicLR``.
    """

    def __init__(self, optimizer: Optimizer, base_lr: Any, max_lr: Any,
                 step_size_up: int = 2000, step_size_down: int | None = None,
                 mode: str = "triangular", gamma: float = 1.0, scale_fn: Any = None,
                 scale_mode: str = "cycle", cycle_momentum: bool = True,
                 base_momentum: Any = 0.8, max_momentum: Any = 0.9,
                 last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        groups = optimizer.param_groups
        base_lrs = _per_group("base_lr", base_lr, len(groups))
        if last_epoch == -1:
            for group, lr in zip(groups, base_lrs, strict=True):
                group["lr"] = lr
        self.max_lrs = _per_group("max_lr", max_lr, len(groups))
        self._args = (step_size_up, step_size_down, mode, gamma, scale_fn, scale_mode)
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            if not all("momentum" in g or "betas" in g for g in groups):
                raise ValueError("optimizer must support momentum or beta1 with "
                                 "`cycle_momentum` option enabled")
            self.use_beta1 = "betas" in groups[0]
            self.base_momentums = _per_group("base_momentum", base_momentum, len(groups))
            self.max_momentums = _per_group("max_momentum", max_momentum, len(groups))
            if last_epoch == -1:
                for group, top in zip(groups, self.max_momentums, strict=True):
                    self._set_momentum(group, top)
            optimizer.trace_hyperparameter("betas" if self.use_beta1 else "momentum")
        self._cyclic_base_lrs = base_lrs
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def state_dict(self) -> dict[str, Any]:
        # scale_fn may be a lambda, which cannot be pickled (PyTorch drops it too)
        return {k: v for k, v in super().state_dict().items() if k != "_args"}

    def _build_schedules(self) -> list[Any]:
        return [schedules.cyclic_lr(low, high, *self._args)
                for low, high in zip(self._cyclic_base_lrs, self.max_lrs, strict=True)]

    def _set_momentum(self, group: dict[str, Any], value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def step(self, epoch: int | None = None) -> None:
        super().step(epoch)
        if self.cycle_momentum:
            for group, low, high in zip(self.optimizer.param_groups, self.base_momentums,
                                        self.max_momentums, strict=True):
                schedule = self._momentum_on_host(
                    (low, high), lambda low=low, high=high: schedules.cyclic_lr(
                        high, low, *self._args))
                self._set_momentum(group, schedule(self.last_epoch))


class ChainedScheduler:
    """Several schedulers stepped together, in order, each moving the rate the one before
    it left (their factors multiply for the multiplicative schedulers).

    PyTorch equivalent: ``torch.optim.lr_scheduler.ChainedScheduler``.
    """

    def __init__(self, schedulers: Any, optimizer: Optimizer | None = None) -> None:
        schedulers = list(schedulers)
        if len(schedulers) < 1:
            raise ValueError("ChainedScheduler expects at least one scheduler to be "
                             "chained, but got no scheduler.")
        optimizer = optimizer or schedulers[0].optimizer
        for index, scheduler in enumerate(schedulers):
            if not isinstance(scheduler, LRScheduler):
                raise TypeError(f"ChainedScheduler: scheduler at index {index} is a "
                                f"{type(scheduler).__name__}, which cannot be chained")
            if scheduler.optimizer is not optimizer:
                raise ValueError(f"ChainedScheduler expects all schedulers to belong to the "
                                 f"same optimizer, but got scheduler "
                                 f"{type(scheduler).__name__} at index {index} has "
                                 f"{scheduler.optimizer}, which is different from "
                                 f"{type(optimizer).__name__}.")
        self.optimizer = optimizer
        self._schedulers = schedulers
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def step(self) -> None:
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        return {"_last_lr": self._last_lr,
                "_schedulers": [s.state_dict() for s in self._schedulers]}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._last_lr = state_dict["_last_lr"]
        for scheduler, state in zip(self._schedulers, state_dict["_schedulers"], strict=True):
            scheduler.load_state_dict(state)


class OneCycleLR(LRScheduler):
    """The 1cycle policy, stepped once per batch (``fnnet.optim.schedules.one_cycle_lr``).

    With ``cycle_momentum=True`` (PyTorch's default) the momentum (SGD) or ``beta1``
    (Adam's ``betas``) runs the inverse cycle, from ``max_momentum`` down to
    ``base_momentum`` and back: the same 1cycle schedule over those two values. The
    momentum becomes an input of the compiled step, as the rate is, so the loop still
    compiles once. Stepped ``total_steps`` times, PyTorch extrapolates the last phase
    once; fnnet holds the final rate.

    PyTorch equivalent: ``torch.optim.lr_scheduler.OneCycleLR``.
    """

    def __init__(self, optimizer: Optimizer, max_lr: Any, total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None,
                 pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum: Any = 0.85,
                 max_momentum: Any = 0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("You must define either total_steps OR (epochs AND "
                                 "steps_per_epoch)")
            total_steps = epochs * steps_per_epoch
        groups = optimizer.param_groups
        max_lrs = list(max_lr) if isinstance(max_lr, (list, tuple)) else [max_lr] * len(groups)
        if len(max_lrs) != len(groups):
            raise ValueError(f"expected {len(groups)} values for max_lr, got {len(max_lrs)}")
        self.total_steps = total_steps
        self._args = (pct_start, anneal_strategy, div_factor, final_div_factor, three_phase)
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            if not all("momentum" in g or "betas" in g for g in groups):
                raise ValueError("optimizer must support momentum or beta1 with "
                                 "`cycle_momentum` option enabled")
            self.use_beta1 = "betas" in groups[0]
            bases = _per_group("base_momentum", base_momentum, len(groups))
            tops = _per_group("max_momentum", max_momentum, len(groups))
            for base, top in zip(bases, tops, strict=True):
                if last_epoch == -1 and not 0 < base <= top:
                    raise ValueError(f"OneCycleLR: expected 0 < base_momentum <= "
                                     f"max_momentum, got {base} and {top}")
        if last_epoch == -1:  # the groups' new entries in PyTorch's order
            for group, top in zip(groups, max_lrs, strict=True):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
            if self.cycle_momentum:
                for group, base, top in zip(groups, bases, tops, strict=True):
                    group["max_momentum"], group["base_momentum"] = top, base
                    self._set_momentum(group, top)
        if self.cycle_momentum:
            # the momentum changes every step: an input of the compiled step, as lr is
            optimizer.trace_hyperparameter("betas" if self.use_beta1 else "momentum")
        super().__init__(optimizer, last_epoch)

    def _schedule(self, lr: float) -> Any:
        return schedules.one_cycle_lr(lr * self._args[2], self.total_steps, *self._args)

    def _momentum_schedule(self, group: dict[str, Any]) -> Any:
        # The momentum's cycle is the rate's shape from max_momentum to base_momentum and
        # back: one_cycle_lr with peak base_momentum, start (peak / div_factor) at
        # max_momentum and end (start / final_div_factor) at max_momentum again.
        pct_start, strategy, _, _, three_phase = self._args
        base, top = group["base_momentum"], group["max_momentum"]
        return schedules.one_cycle_lr(base, self.total_steps, pct_start, strategy,
                                      base / top, 1.0, three_phase)

    def _set_momentum(self, group: dict[str, Any], value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def get_lr(self) -> list[float]:
        if self.last_epoch > self.total_steps:
            raise ValueError(f"Tried to step {self.last_epoch} times. The specified number "
                             f"of total steps is {self.total_steps}")
        return super().get_lr()

    def step(self, epoch: int | None = None) -> None:
        super().step(epoch)
        if self.cycle_momentum:
            for group in self.optimizer.param_groups:
                schedule = self._momentum_on_host(
                    (group["base_momentum"], group["max_momentum"]),
                    lambda group=group: self._momentum_schedule(group))
                self._set_momentum(group, schedule(self.last_epoch))


def _per_group(name: str, value: Any, count: int) -> list[float]:
    values = list(value) if isinstance(value, (list, tuple)) else [value] * count
    if len(values) != count:
        raise ValueError(f"expected {count} values for {name}, got {len(values)}")
    return [float(v) for v in values]


class SequentialLR:
    """Runs ``schedulers`` one after another, switching at each of ``milestones`` (a warm-up
    then a decay). Each scheduler keeps its own counter; at a milestone the next one
    starts from its epoch 0, as PyTorch's does.

    PyTorch equivalent: ``torch.optim.lr_scheduler.SequentialLR``.
    """

    def __init__(self, optimizer: Optimizer, schedulers: list[LRScheduler],
                 milestones: list[int], last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        if len(schedulers) < 1:
            raise ValueError("SequentialLR expects at least one scheduler, but got no "
                             "scheduler.")
        for index, scheduler in enumerate(schedulers):
            if getattr(scheduler, "optimizer", None) is not optimizer:
                raise ValueError(f"SequentialLR expects all schedulers to belong to the same "
                                 f"optimizer, but got scheduler at index {index} with a "
                                 f"different optimizer")
            if not isinstance(scheduler, LRScheduler):
                raise TypeError(f"SequentialLR: scheduler at index {index} is a "
                                f"{type(scheduler).__name__}, which cannot be sequenced")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"Sequential Schedulers expects number of schedulers provided to "
                             f"be one more than the number of milestone points, but got "
                             f"number of schedulers {len(schedulers)} and the number of "
                             f"milestones to be equal to {len(milestones)}")
        self.optimizer = optimizer
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        # undo the first step each scheduler took when it was built, then take the first
        # scheduler's again: the rates start where the first one starts
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for scheduler in self._schedulers:
            scheduler.last_epoch -= 1
        # the first scheduler's step is again its constructor's (no order warning)
        self._schedulers[0]._step_count = 0
        self._schedulers[0].step()
        self._last_lr = self._schedulers[0].get_last_lr()

    def step(self) -> None:
        self.last_epoch += 1
        index = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            scheduler.step(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def get_last_lr(self) -> list[float]:
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        return {"last_epoch": self.last_epoch, "_milestones": self._milestones,
                "_last_lr": self._last_lr,
                "_schedulers": [s.state_dict() for s in self._schedulers]}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        saved = state_dict["_schedulers"]
        self.last_epoch, self._last_lr = state_dict["last_epoch"], state_dict["_last_lr"]
        self._milestones = list(state_dict["_milestones"])
        for scheduler, state in zip(self._schedulers, saved, strict=True):
            scheduler.load_state_dict(state)


class ReduceLROnPlateau:
    """Multiplies the learning rate by ``factor`` when a metric stops improving.

    Host-side bookkeeping only: the new rate reaches the next compiled step as an input.

    PyTorch equivalent: ``torch.optim.lr_scheduler.ReduceLROnPlateau``.
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: Any = 0, eps: float = 1e-8) -> None:
        if factor >= 1.0:
            raise ValueError("Factor should be < 1.0.")
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        groups = optimizer.param_groups
        if isinstance(min_lr, (list, tuple)) and len(min_lr) != len(groups):
            raise ValueError(f"expected {len(groups)} min_lrs, got {len(min_lr)}")
        if mode not in ("min", "max"):
            raise ValueError(f"mode {mode} is unknown!")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold mode {threshold_mode} is unknown!")
        # set in PyTorch's order, so that state_dict() lists PyTorch's keys in its order
        self.factor = factor
        self.optimizer = optimizer
        self.default_min_lr = None if isinstance(min_lr, (list, tuple)) else min_lr
        self.min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else \
            [min_lr] * len(groups)
        self.patience, self.cooldown, self.eps = patience, cooldown, eps
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in groups]
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def _better(self, a: float, best: float) -> bool:
        if self.mode == "min":
            edge = best * (1 - self.threshold) if self.threshold_mode == "rel" else \
                best - self.threshold
            return a < edge
        edge = best * (self.threshold + 1) if self.threshold_mode == "rel" else \
            best + self.threshold
        return a > edge

    def step(self, metrics: Any, epoch: int | None = None) -> None:
        current = float(metrics)
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self._better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, low in zip(self.optimizer.param_groups, self.min_lrs, strict=True):
                new = max(group["lr"] * self.factor, low)
                if group["lr"] - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    from fnnet.torch.tensor import Unsupported

    raise Unsupported(  # also an AttributeError: hasattr() is False
        f"fnnet.torch does not support torch.optim.lr_scheduler.{name}; write the schedule "
        f"as a function of the step (fnnet.optim.schedules) and set param_group['lr']")
