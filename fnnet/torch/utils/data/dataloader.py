"""``torch.utils.data.dataloader``: where older code imports the loader and its collate
functions from (``from torch.utils.data.dataloader import default_collate``); the same
objects as :mod:`fnnet.torch.utils.data`'s.
"""

from fnnet.torch.utils.data import (  # noqa: F401 (re-exports)
    DataLoader,
    default_collate,
    default_convert,
    get_worker_info,
)

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]
