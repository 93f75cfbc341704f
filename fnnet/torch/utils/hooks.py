"""``torch.utils.hooks``: the handle that registering a hook returns, for code that
names its type (``handles: list[torch.utils.hooks.RemovableHandle]``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fnnet.torch._hooks import RemovableHandle

_F = TypeVar("_F", bound=Callable[..., Any])

__all__ = ["RemovableHandle", "unserializable_hook"]


def unserializable_hook(f: _F) -> _F:
    """Marks ``f`` as a hook not to be saved with its tensor, as PyTorch's decorator does
    (nothing saves hooks here). PyTorch: ``torch.utils.hooks.unserializable_hook``."""
    f.__torch_unserializable__ = True  # type: ignore[attr-defined]
    return f
