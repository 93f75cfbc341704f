"""``torch.save`` / ``torch.load`` for state dicts and other picklable objects.

Tensors pickle as numpy arrays, so files hold no jax objects; they are fnnet.torch's
own format (pickle), not PyTorch's zip archives.
"""

from __future__ import annotations

import os
import pickle
from typing import Any, BinaryIO


def save(obj: Any, f: str | os.PathLike | BinaryIO) -> None:
    """Pickles ``obj`` (e.g. ``model.state_dict()``) to a path or binary file.

    PyTorch equivalent: ``torch.save`` (a different file format).
    """
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as handle:
            pickle.dump(obj, handle, protocol=pickle.HIGHEST_PROTOCOL)
    else:
        pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)


def load(f: str | os.PathLike | BinaryIO, map_location: Any = None,
         weights_only: bool | None = None, **kwargs: Any) -> Any:
    """Loads what :func:`save` wrote; ``map_location`` is accepted and ignored.

    Only load files you trust: unpickling can run code.

    PyTorch equivalent: ``torch.load``.
    """
    del map_location, weights_only, kwargs
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as handle:
            return pickle.load(handle)
    return pickle.load(f)
