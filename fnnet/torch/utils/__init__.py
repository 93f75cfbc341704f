"""``torch.utils`` over fnnet: the data loading API (and ``tensorboard``, imported on
use)."""

import importlib
from typing import Any

from fnnet.torch.utils import data

__all__ = ["data"]


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    if name in ("tensorboard", "checkpoint", "benchmark", "dlpack", "hooks"):  # on first use
        return importlib.import_module(f"{__name__}.{name}")
    from fnnet.torch.tensor import Unsupported

    raise Unsupported(  # also an AttributeError: hasattr() is False
        f"fnnet.torch does not support torch.utils.{name}; fnnet.torch provides "
        f"torch.utils.data, torch.utils.tensorboard, torch.utils.checkpoint, "
        f"torch.utils.benchmark, torch.utils.dlpack and torch.utils.hooks")
