"""``torch.distributed.elastic.multiprocessing``: only ``errors.record``."""

from typing import Any

from fnnet.torch.distributed._unsupported import unsupported


def __getattr__(name: str) -> Any:
    if name.startswith("_"):
        raise AttributeError(name)
    raise unsupported(f"elastic.multiprocessing.{name}")
