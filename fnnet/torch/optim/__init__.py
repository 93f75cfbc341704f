"""``torch.optim`` over fnnet.optim (optax transformations with PyTorch's rules)."""

from __future__ import annotations

from typing import Any

from fnnet.torch.optim import lr_scheduler, swa_utils
from fnnet.torch.optim.lbfgs import LBFGS
from fnnet.torch.optim.optimizer import Optimizer
from fnnet.torch.optim.optimizers import (
    ASGD,
    SGD,
    Adadelta,
    Adafactor,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    Muon,
    NAdam,
    RAdam,
    RMSprop,
    Rprop,
    SparseAdam,
)
from fnnet.torch.tensor import Unsupported as _Unsupported


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise _Unsupported(  # also an AttributeError: hasattr() is False
        f"fnnet.torch does not support torch.optim.{name}; use an optax transformation "
        f"with fnnet's functional training step (fnnet.train)")


__all__ = ["ASGD", "LBFGS", "Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax",
           "Muon", "NAdam", "Optimizer", "RAdam", "RMSprop", "Rprop", "SGD", "SparseAdam",
           "lr_scheduler", "swa_utils"]
