"""``torch.utils.data._utils.worker``: what code running in a loader's worker asks
about it (the same objects as :mod:`fnnet.torch.utils.data`'s)."""

from fnnet.torch.utils.data._workers import WorkerInfo, get_worker_info

__all__ = ["WorkerInfo", "get_worker_info"]
