"""``torch.version``: the PyTorch release fnnet.torch follows and the build it reports.

``cuda`` names the CUDA runtime JAX computes with when JAX has a GPU, else None (as a
CPU build of PyTorch reports); ``hip`` is None (JAX on ROCm is not reported as HIP).
"""

from __future__ import annotations

import functools
import re
from typing import Any

__all__ = ["TorchVersion", "__version__", "debug", "git_version", "hip"]  # and ``cuda``

#: a release (``2.13.0``), an optional pre-release (``a0``, ``rc1``) and local label (``+cpu``)
_FORM = re.compile(r"(\d+(?:\.\d+)*)(?:(a|b|rc)(\d+))?(?:\+([\w.]+))?")
_PRE = {"a": 0, "b": 1, "rc": 2}


def _order(version: Any) -> tuple[Any, ...] | None:
    """The key a version sorts by (None where ``version`` is not one): its release
    numbers without trailing zeros (``2.0`` is ``2``), a pre-release before the release,
    and a local label after it, as PEP 440 orders them."""
    if isinstance(version, str):
        found = _FORM.fullmatch(version.strip())
        if found is None:
            return None
        release, pre, number, local = found.groups()
        numbers = [int(part) for part in release.split(".")]
    elif isinstance(version, tuple | list) and all(type(p) is int for p in version):
        numbers, pre, number, local = list(version), None, None, None
    else:
        return None
    while len(numbers) > 1 and numbers[-1] == 0:
        numbers.pop()
    stage = (3, 0) if pre is None else (_PRE[pre], int(number or 0))
    return tuple(numbers), stage, (local is not None, local or "")


class TorchVersion(str):
    """``torch.__version__``: a string that compares as a version with a string or a
    tuple (``torch.__version__ >= (2, 0)``, ``>= "2.1"``); a string that is not a version
    compares as a string.

    PyTorch equivalent: ``torch.torch_version.TorchVersion``.
    """

    def _compare(self, other: Any, method: str) -> Any:
        ours, theirs = _order(str(self)), _order(other)
        if ours is None or theirs is None:
            if isinstance(other, str):
                return getattr(str, method)(self, other)
            return NotImplemented
        return getattr(ours, method)(theirs)

    __eq__ = functools.partialmethod(_compare, method="__eq__")
    __ne__ = functools.partialmethod(_compare, method="__ne__")
    __lt__ = functools.partialmethod(_compare, method="__lt__")
    __le__ = functools.partialmethod(_compare, method="__le__")
    __gt__ = functools.partialmethod(_compare, method="__gt__")
    __ge__ = functools.partialmethod(_compare, method="__ge__")
    __hash__ = str.__hash__


#: the PyTorch release whose API and numbers fnnet.torch follows
__version__ = TorchVersion("2.13.0+fnnet")
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
