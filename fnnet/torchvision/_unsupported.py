"""The message for a torchvision name that fnnet.torchvision does not provide."""

from __future__ import annotations


def message(module: str, name: str) -> str:
    """Says that ``module.name`` is missing and what to use instead.

    Each module's ``__getattr__`` raises :class:`fnnet.torch.tensor.Unsupported` with
    it (a NotImplementedError, and an ImportError under ``from ... import``), as
    fnnet.torch does for the torch names it lacks.
    """
    return (f"fnnet.torchvision does not support {module}.{name}; use fnnet.data "
            f"(load, DataLoader, augment) and fnnet.models, or write the piece with "
            f"fnnet.torch and numpy")
