"""PyTorch's optimizers and learning-rate schedulers as optax transformations.

Each optimizer returns an ``optax.GradientTransformation`` whose updates, applied with
``optax.apply_updates``, follow ``torch.optim``'s update rule and defaults exactly (see
``docs/optimizers.md`` for where optax's own versions differ). Any optax transformation
is accepted wherever fnnet takes an optimizer.

    opt = fnnet.optim.SGD(lr=0.1, momentum=0.9, weight_decay=5e-4)
    opt_state = opt.init(params)
    updates, opt_state = opt.update(grads, opt_state, params)
    params = optax.apply_updates(params, updates)

To change the learning rate between steps without recompiling (as PyTorch's
``param_group["lr"] = ...``), inject it::

    opt = optax.inject_hyperparams(fnnet.optim.SGD, static_args=("momentum",
        "dampening", "weight_decay", "nesterov", "maximize"))(lr=0.1, momentum=0.9)
    opt_state.hyperparams["lr"] = 0.01

Numeric hyperparameters left out of ``static_args`` are injected too and may change
between steps as well (the state then keeps, e.g., a momentum buffer even while the
momentum is 0, so that its structure never depends on a value).
"""

from fnnet.optim import adafactor, muon, schedules, transforms
from fnnet.optim.adadelta import Adadelta
from fnnet.optim.adafactor import Adafactor
from fnnet.optim.adagrad import Adagrad
from fnnet.optim.adam import Adam, AdamW
from fnnet.optim.adamax import Adamax
from fnnet.optim.asgd import ASGD
from fnnet.optim.clip import clip_by_total_norm, clip_grad_norm, total_norm
from fnnet.optim.muon import Muon
from fnnet.optim.nadam import NAdam
from fnnet.optim.radam import RAdam
from fnnet.optim.rmsprop import RMSprop
from fnnet.optim.rprop import Rprop
from fnnet.optim.schedules import (
    cosine_annealing_lr,
    exponential_lr,
    multi_step_lr,
    one_cycle_lr,
    per_epoch,
    step_lr,
)
from fnnet.optim.sgd import SGD
from fnnet.optim.sparse_adam import SparseAdam

__all__ = [
    "ASGD",
    "SGD",
    "Adadelta",
    "Adafactor",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Muon",
    "NAdam",
    "RAdam",
    "RMSprop",
    "Rprop",
    "SparseAdam",
    "adafactor",
    "clip_by_total_norm",
    "clip_grad_norm",
    "cosine_annealing_lr",
    "exponential_lr",
    "multi_step_lr",
    "muon",
    "one_cycle_lr",
    "per_epoch",
    "schedules",
    "step_lr",
    "total_norm",
    "transforms",
]
