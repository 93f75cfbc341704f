"""``torch.distributed.elastic``: only ``multiprocessing.errors.record``, the decorator
that torchrun's documentation puts on a script's entry point.

There are no elastic restarts, agents or rendezvous (``python -m
fnnet.torch.distributed.run`` starts a fixed set of processes): the other names raise
NotImplementedError naming them.
"""

from typing import Any

from fnnet.torch.distributed._unsupported import unsupported


def __getattr__(name: str) -> Any:
    if name.startswith("_"):
        raise AttributeError(name)
    raise unsupported(f"elastic.{name}")
