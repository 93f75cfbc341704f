"""fnnet: PyTorch's training concepts as pure JAX functions."""

import importlib
from typing import Any

from fnnet import data, losses, nn, optim

__version__ = "0.1.0"

__all__ = ["data", "losses", "nn", "optim", "__version__"]

# Subpackages imported on first use, so that ``import fnnet`` then ``fnnet.train.fit``
# works as the docs write it without ``import fnnet`` loading orbax, flax or the shim.
_LAZY = ("checkpoint", "compare", "interop", "models", "parallel", "torch", "torchvision",
         "train")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return importlib.import_module(f"fnnet.{name}")
    raise AttributeError(f"module 'fnnet' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
