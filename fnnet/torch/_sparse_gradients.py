"""The tables whose gradient PyTorch makes sparse (``Embedding(sparse=True)``,
``F.embedding(..., sparse=True)`` and the EmbeddingBag forms).

fnnet.torch keeps every gradient dense (the rows not looked up hold zeros, so ``grad``
prints and adds as PyTorch's ``grad.to_dense()``); the optimizers read this registry to
act as PyTorch's do on a sparse gradient: SparseAdam updates the looked-up rows only
and requires such a gradient, Adam and the others refuse one (PyTorch's RuntimeErrors).
"""

from __future__ import annotations

import weakref
from typing import Any

_TABLES: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()


def mark(weight: Any) -> None:
    """Notes that ``weight``'s gradient is sparse in PyTorch."""
    _TABLES[id(weight)] = weight


def is_sparse(weight: Any) -> bool:
    """Whether PyTorch would give ``weight`` a sparse gradient."""
    return _TABLES.get(id(weight)) is weight
