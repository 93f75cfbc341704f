"""``torch.utils.hooks.RemovableHandle``: what registering a hook returns."""

from __future__ import annotations

import itertools
from collections.abc import MutableMapping
from typing import Any

_IDS = itertools.count()


class RemovableHandle:
    """Removes the hook it was returned for: ``handle.remove()``, or at the end of a
    ``with`` block. PyTorch equivalent: ``torch.utils.hooks.RemovableHandle``.

    Args:
        tables: the dicts the hook is kept in, by :attr:`id` (a hook and its options).
    """

    __module__ = "fnnet.torch.utils.hooks"  # where PyTorch's is, torch.utils.hooks

    def __init__(self, *tables: MutableMapping[int, Any]) -> None:
        self.id = next(_IDS)
        self._tables = tables

    def remove(self) -> None:
        """Drops the hook; removing it again does nothing."""
        for table in self._tables:
            table.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()
