"""``torch.version``: the PyTorch release fnnet.torch follows and the build it reports.

``cuda`` names the CUDA runtime JAX computes with when JAX has a GPU, else None (as a
CPU build of PyTorch reports); ``hip`` is None (JAX on ROCm is not reported as HIP).
"""

from __future__ import annotations

from typing import Any

__all__ = ["__version__", "debug", "git_version", "hip"]  # and ``cuda``, found when read

__version__ = "2.13.0+fnnet"  # the PyTorch release whose API and numbers fnnet.torch follows
debug = False
git_version = "fnnet"  # not a PyTorch commit: no PyTorch build is involved
hip = None


def _cuda() -> str | None:
    """``"major.minor"`` of the CUDA runtime of JAX's GPU backend, None without a GPU."""
    from fnnet.torch.device import cuda as _cuda_module

    if not _cuda_module.is_available():
        return None
    try:
        from jax._src.lib import cuda_versions  # present with JAX's CUDA plugin

        number = int(cuda_versions.cuda_runtime_get_version())  # type: ignore[union-attr]
    except (ImportError, AttributeError, TypeError, ValueError):
        return "unknown"
    return f"{number // 1000}.{number % 1000 // 10}"


def __getattr__(name: str) -> Any:
    if name == "cuda":  # asked when read: finding JAX's backends is not free
        return _cuda()
    raise AttributeError(f"module 'torch.version' has no attribute '{name}'")
