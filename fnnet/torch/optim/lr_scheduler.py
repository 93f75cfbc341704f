"""``torch.optim.lr_scheduler``: stateful wrappers of ``fnnet.optim.schedules``.

Each scheduler evaluates the fnnet schedule (a pure function ``count -> lr``) at its
epoch counter and writes the value into ``param_group["lr"]``, which the next
``optimizer.step()`` reads without recompiling.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fnnet.optim import schedules
from fnnet.torch.optim.optimizer import Optimizer


class LRScheduler:
    """Base of the schedulers. PyTorch equivalent: ``torch.optim.lr_scheduler.LRScheduler``."""

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
        self._schedules = [self._schedule(lr) for lr in self.base_lrs]
        self.last_epoch = last_epoch
        self.step()

    def _schedule(self, lr: float) -> Any:
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        return list(self._last_lr)

    def get_lr(self) -> list[float]:
        return [float(np.asarray(s(self.last_epoch))) for s in self._schedules]

    def step(self, epoch: int | None = None) -> None:
        self.last_epoch = self.last_epoch + 1 if epoch is None else int(epoch)
        values = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values, strict=False):
            group["lr"] = lr
        self._last_lr = values

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()
                if k not in ("optimizer", "_schedules")}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)
        self._schedules = [self._schedule(lr) for lr in self.base_lrs]


class StepLR(LRScheduler):
    """``lr * gamma ** (epoch // step_size)`` (``fnnet.optim.schedules.step_lr``).

    PyTorch equivalent: ``torch.optim.lr_scheduler.StepLR``.
    """

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

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def _schedule(self, lr: float) -> Any:
        return schedules.cosine_annealing_lr(lr, self.T_max, self.eta_min)


class MultiStepLR(LRScheduler):
    """PyTorch equivalent: ``torch.optim.lr_scheduler.MultiStepLR``."""

    def __init__(self, optimizer: Optimizer, milestones: Any, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.milestones, self.gamma = list(milestones), gamma
        super().__init__(optimizer, last_epoch)

    def _schedule(self, lr: float) -> Any:
        return schedules.multi_step_lr(lr, self.milestones, self.gamma)


class ExponentialLR(LRScheduler):
    """PyTorch equivalent: ``torch.optim.lr_scheduler.ExponentialLR``."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def _schedule(self, lr: float) -> Any:
        return schedules.exponential_lr(lr, self.gamma)
