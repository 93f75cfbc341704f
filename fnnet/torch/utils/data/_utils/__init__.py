"""``torch.utils.data._utils``: the loader's helpers that programs import by this path,
the collate functions (:mod:`.collate`) and the workers' information (:mod:`.worker`).
"""

from typing import Any

from fnnet.torch.utils.data._utils import collate, worker

__all__ = ["collate", "worker"]


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    from fnnet.torch.tensor import Unsupported

    raise Unsupported(  # also an AttributeError: hasattr() is False
        f"fnnet.torch does not support torch.utils.data._utils.{name}: the loader makes "
        f"its batches in this process; its collate functions are in "
        f"torch.utils.data._utils.collate")
