"""``torch.random``: the global random state's functions, and :func:`fork_rng`.

The state is PyTorch's CPU generator's (see :mod:`fnnet.torch._random`): the draws
after ``manual_seed`` and ``get_rng_state()``'s bytes are PyTorch's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from fnnet.torch._random import initial_seed, manual_seed
from fnnet.torch._surface_ops import get_rng_state, seed, set_rng_state

__all__ = ["fork_rng", "get_rng_state", "initial_seed", "manual_seed", "seed",
           "set_rng_state"]


@contextlib.contextmanager
def fork_rng(devices: Any = None, enabled: bool = True, _caller: str = "fork_rng",
             _devices_kw: str = "devices", device_type: str = "cuda") -> Iterator[None]:
    """Runs the block with the global random state saved, and puts it back after: the
    draws inside do not change those that follow. ``devices`` and ``device_type`` are
    accepted (one generator serves every device); ``enabled=False`` saves nothing.

    PyTorch equivalent: ``torch.random.fork_rng``.
    """
    del devices, _caller, _devices_kw, device_type
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
