"""``torch.autograd`` anomaly detection as JAX's NaN checking (``jax_debug_nans``).

PyTorch's anomaly mode raises when a backward function returns NaN, naming the forward
operation. Under it, fnnet.torch turns on ``jax_debug_nans``: a compiled step whose
output holds a NaN is run again op by op, and the first operation producing a NaN
(forward or backward) raises a ``FloatingPointError`` that is also a ``RuntimeError``
(as PyTorch's error), naming it ("invalid value (nan) encountered in log"). Steps run
slower while it is on, as PyTorch's do.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

from fnnet.torch._settings import is_anomaly_enabled
from fnnet.torch._settings import nan_checks as _set


class set_detect_anomaly:  # noqa: N801 - PyTorch's name
    """Turns anomaly detection on or off now; as a ``with`` block, restores the previous
    setting on exit.

    Args:
        mode: on or off.
        check_nan: False leaves NaN checking off (PyTorch's mode then only records
            tracebacks, which fnnet.torch's errors carry anyway).

    PyTorch equivalent: ``torch.autograd.set_detect_anomaly``.
    """

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self._previous = is_anomaly_enabled()
        _set(bool(mode) and bool(check_nan))

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        _set(self._previous)


class detect_anomaly:  # noqa: N801 - PyTorch's name
    """Anomaly detection for a ``with`` block or a decorated function.

    PyTorch equivalent: ``torch.autograd.detect_anomaly``.
    """

    def __init__(self, check_nan: bool = True) -> None:
        self._check_nan = bool(check_nan)
        self._previous = False
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the "
                      "runtime and should only be enabled for debugging.", UserWarning,
                      stacklevel=2)

    def __enter__(self) -> None:
        self._previous = is_anomaly_enabled()
        _set(self._check_nan)

    def __exit__(self, *exc: object) -> None:
        _set(self._previous)

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with detect_anomaly(self._check_nan):
                return fn(*args, **kwargs)

        return wrapper


__all__ = ["detect_anomaly", "is_anomaly_enabled", "set_detect_anomaly"]
