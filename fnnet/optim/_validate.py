"""Hyperparameter checks shared by the optimizers, with PyTorch's messages.

Under ``optax.inject_hyperparams`` a hyperparameter arrives as a jax array, traced
inside ``jit``: such a value cannot be checked, and is accepted as it is.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

Number = (int, float, np.number)


def _concrete(value: Any) -> float | None:
    """``value`` as a float, or None when it is traced or a schedule."""
    if callable(value) or isinstance(value, jax.core.Tracer):
        return None
    return float(value)


def check_number(name: str, value: Any, *, schedule_ok: bool = False) -> None:
    """Raises a TypeError unless ``value`` is a number (or an array, or a schedule)."""
    if schedule_ok and callable(value):
        return
    if isinstance(value, bool) or not (
            isinstance(value, Number) or (isinstance(value, (jax.Array, np.ndarray))
                                          and np.ndim(value) == 0)):
        what = "a number or a schedule (a callable of the step count)" if schedule_ok \
            else "a number"
        raise TypeError(f"{name} must be {what}, got {value!r}")


def check_nonnegative(value: Any, message: str) -> None:
    """Raises ``ValueError(f"{message}: {value}")`` for a negative concrete value."""
    number = _concrete(value)
    if number is not None and not number >= 0.0:
        raise ValueError(f"{message}: {value}")


def check_below_one(value: Any, message: str) -> None:
    """Raises ``ValueError(f"{message}: {value}")`` unless ``0 <= value < 1``."""
    number = _concrete(value)
    if number is not None and not 0.0 <= number < 1.0:
        raise ValueError(f"{message}: {value}")


def check_lr(lr: Any) -> None:
    """PyTorch's learning-rate check; a schedule is accepted as it is."""
    check_number("lr", lr, schedule_ok=True)
    check_nonnegative(lr, "Invalid learning rate")


def static(name: str, value: Any) -> float:
    """``value`` as a Python float, for a hyperparameter that shapes the optimizer state.

    Raises:
        TypeError: ``value`` is traced (``inject_hyperparams`` made it dynamic).
    """
    check_number(name, value)
    number = _concrete(value)
    if number is None:
        raise TypeError(
            f"{name} decides the optimizer's state structure and cannot be traced; "
            f"pass it in optax.inject_hyperparams(..., static_args=({name!r}, ...))"
        )
    return number


def check_flag(name: str, value: Any) -> bool:
    """Raises a TypeError unless ``value`` is a bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {value!r}")
    return bool(value)
