"""``torch.optim.swa_utils``: weight averaging (SWA, EMA) of a model being trained.

:class:`AveragedModel` keeps a copy of the model whose parameters are a running average
of the trained model's, updated in place under ``no_grad`` after each optimizer step (a
recorded update like any other, flushed with the next step). :class:`SWALR` anneals the
rate to a constant SWA rate (as PyTorch computes it); :func:`update_bn`
recomputes BatchNorm statistics for the averaged weights.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Iterable
from typing import Any

from fnnet.optim import schedules
from fnnet.torch import _dtypes
from fnnet.torch._autograd import no_grad
from fnnet.torch._functions import tensor
from fnnet.torch.device import check_placement
from fnnet.torch.nn.modules.module import Module
from fnnet.torch.optim.lr_scheduler import LRScheduler, _per_group, _warn_outside_step
from fnnet.torch.optim.optimizer import Optimizer
from fnnet.torch.tensor import Tensor

AvgFn = Callable[[Tensor, Tensor, Tensor], Tensor]
MultiAvgFn = Callable[[list[Tensor], list[Tensor], Tensor], None]


def _check_decay(decay: float) -> None:
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in "
                         f"[0,1] range.")


def get_ema_avg_fn(decay: float = 0.999) -> AvgFn:
    """``decay * averaged + (1 - decay) * current``, one tensor at a time.

    PyTorch equivalent: ``torch.optim.swa_utils.get_ema_avg_fn``.
    """
    _check_decay(decay)

    def ema_update(ema_param: Tensor, current_param: Tensor, num_averaged: Any) -> Tensor:
        del num_averaged
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn() -> AvgFn:
    """The running mean: ``averaged + (current - averaged) / (num_averaged + 1)``.

    PyTorch equivalent: ``torch.optim.swa_utils.get_swa_avg_fn``.
    """

    def swa_update(averaged_param: Tensor, current_param: Tensor, num_averaged: Any
                   ) -> Tensor:
        averaged: Tensor = averaged_param + (current_param - averaged_param) / (
            num_averaged + 1)
        return averaged

    return swa_update


def get_ema_multi_avg_fn(decay: float = 0.999) -> MultiAvgFn:
    """The EMA over lists of tensors of one dtype, in place: ``averaged.lerp_(current,
    1 - decay)``; integer tensors (a BatchNorm's ``num_batches_tracked``, with
    ``use_buffers=True``) get ``decay * averaged + (1 - decay) * current`` truncated, as
    PyTorch's.

    PyTorch equivalent: ``torch.optim.swa_utils.get_ema_multi_avg_fn``.
    """
    _check_decay(decay)

    def ema_update(ema_params: list[Tensor], current_params: list[Tensor],
                   num_averaged: Any) -> None:
        del num_averaged
        floating = ema_params[0].is_floating_point() or ema_params[0].is_complex()
        for ema, current in zip(ema_params, current_params, strict=True):
            if floating:
                ema.lerp_(current, 1 - decay)
            else:
                ema.copy_(ema * decay + current * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn() -> MultiAvgFn:
    """The running mean over lists of tensors, in place: ``averaged.lerp_(current,
    1 / (num_averaged + 1))``.

    PyTorch equivalent: ``torch.optim.swa_utils.get_swa_multi_avg_fn``.
    """

    def swa_update(averaged_params: list[Tensor], current_params: list[Tensor],
                   num_averaged: Any) -> None:
        weight = 1 / (float(num_averaged) + 1)
        for averaged, current in zip(averaged_params, current_params, strict=True):
            averaged.lerp_(current, weight)

    return swa_update


class AveragedModel(Module):
    """A copy of ``model`` whose parameters average ``model``'s over the calls to
    :meth:`update_parameters`: equally (SWA, the default), or as ``avg_fn`` /
    ``multi_avg_fn`` say (an EMA with :func:`get_ema_multi_avg_fn`).

    Args:
        model: the module being trained; deep-copied.
        device: checked as ``model.to(device)`` checks it (fnnet.torch places tensors
            itself).
        avg_fn: ``(averaged, current, num_averaged) -> new averaged``, per tensor.
        multi_avg_fn: ``(averaged_list, current_list, num_averaged)`` updating in place.
        use_buffers: average the buffers too (BatchNorm statistics); otherwise they are
            copied from ``model`` at each update.

    PyTorch equivalent: ``torch.optim.swa_utils.AveragedModel``.
    """

    def __init__(self, model: Module, device: Any = None, avg_fn: AvgFn | None = None,
                 multi_avg_fn: MultiAvgFn | None = None, use_buffers: bool = False) -> None:
        if not isinstance(model, Module):
            raise TypeError(f"AveragedModel: model must be an nn.Module, got "
                            f"{type(model).__name__}")
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        check_placement(device)
        self.module = copy.deepcopy(model)
        self.register_buffer("n_averaged", tensor(0, dtype=_dtypes.long))
        self.avg_fn, self.multi_avg_fn, self.use_buffers = avg_fn, multi_avg_fn, use_buffers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def _tracked(self, model: Module) -> list[Tensor]:
        if self.use_buffers:
            return list(itertools.chain(model.parameters(), model.buffers()))
        return list(model.parameters())

    def update_parameters(self, model: Module) -> None:
        """Folds ``model``'s current parameters into the average (the first call copies
        them). PyTorch equivalent: ``AveragedModel.update_parameters``."""
        averaged = [p.detach() for p in self._tracked(self.module)]
        current = [p.detach() for p in self._tracked(model)]
        if len(averaged) != len(current):
            raise ValueError(f"AveragedModel.update_parameters: the model has "
                             f"{len(current)} tensors to average, the averaged copy "
                             f"{len(averaged)}")
        count = int(self.n_averaged.item())
        with no_grad():
            if count == 0:
                for avg, cur in zip(averaged, current, strict=True):
                    avg.copy_(cur)
            elif self.multi_avg_fn is not None:
                # PyTorch calls it once per dtype (floats apart from integer buffers)
                groups: dict[Any, tuple[list[Tensor], list[Tensor]]] = {}
                for avg, cur in zip(averaged, current, strict=True):
                    group = groups.setdefault(avg.dtype, ([], []))
                    group[0].append(avg)
                    group[1].append(cur)
                for avg_group, cur_group in groups.values():
                    self.multi_avg_fn(avg_group, cur_group, self.n_averaged)
            else:
                fn = self.avg_fn if self.avg_fn is not None else get_swa_avg_fn()
                for avg, cur in zip(averaged, current, strict=True):
                    avg.copy_(fn(avg, cur, self.n_averaged))
            if not self.use_buffers:
                for own, theirs in zip(self.module.buffers(), model.buffers(), strict=False):
                    own.copy_(theirs.detach())
            self.n_averaged.add_(1)


def update_bn(loader: Iterable[Any], model: Module, device: Any = None) -> None:
    """Recomputes the BatchNorm running statistics of ``model`` as the plain average
    over one pass of ``loader`` (momentum ``None``), in training mode, then restores the
    modules' momenta and the model's mode.

    PyTorch equivalent: ``torch.optim.swa_utils.update_bn``.
    """
    momenta = {module: module.momentum for module in model.modules()
               if getattr(module, "running_mean", None) is not None
               and hasattr(module, "reset_running_stats")}
    if not momenta:
        return
    check_placement(device)  # PyTorch moves the batches there: none without BatchNorm
    for module in momenta:
        module.reset_running_stats()
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    with no_grad():
        for batch in loader:
            if isinstance(batch, (list, tuple)):
                batch = batch[0]
            model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneals each group's rate from its current value to ``swa_lr`` over
    ``anneal_epochs`` steps (cosine or linear), then holds it, with PyTorch's recursive
    arithmetic (``fnnet.optim.schedules.swa_lr`` is its closed form).

    PyTorch equivalent: ``torch.optim.swa_utils.SWALR``.
    """

    def __init__(self, optimizer: Optimizer, swa_lr: Any, anneal_epochs: int = 10,
                 anneal_strategy: str = "cos", last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        schedules.check_annealing(anneal_epochs, anneal_strategy)  # before any change
        rates = _per_group("swa_lr", swa_lr, len(optimizer.param_groups))
        for group, lr in zip(optimizer.param_groups, rates, strict=True):
            group["swa_lr"] = lr
        self._anneal_strategy = anneal_strategy
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    def _anneal(self, t: float) -> float:
        return t if self._anneal_strategy == "linear" else (1 - math.cos(math.pi * t)) / 2

    def get_lr(self) -> list[float]:
        _warn_outside_step(self)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        # the rate the annealing started from, recovered from the current one
        before = self._anneal(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        starts = [group["swa_lr"] if before == 1 else
                  (group["lr"] - before * group["swa_lr"]) / (1 - before)
                  for group in self.optimizer.param_groups]
        alpha = self._anneal(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [group["swa_lr"] * alpha + lr * (1 - alpha)
                for group, lr in zip(self.optimizer.param_groups, starts, strict=True)]


__all__ = ["SWALR", "AveragedModel", "get_ema_avg_fn", "get_ema_multi_avg_fn",
           "get_swa_avg_fn", "get_swa_multi_avg_fn", "update_bn"]
