"""Hyperparameter checks shared by the optimizers, with PyTorch's messages.

Under ``optax.inject_hyperparams`` a hyperparameter arrives as a jax array, traced
inside ``jit``: such a value is checked when it is concrete (at ``init``, or outside
``jit``) and accepted as it is otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
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
    if schedule_ok and (isinstance(value, (Mapping, list, tuple, Iterator)) or (
            isinstance(value, (jax.Array, np.ndarray)) and np.ndim(value) > 0)):
        # PyTorch's habit, SGD(model.parameters(), ...): the first positional is lr here
        raise TypeError(f"{name} must be a number or a schedule (a callable of the step "
                        f"count), got {type(value).__name__}: fnnet's optimizers are made "
                        f"without the parameters (not as torch.optim.SGD(model."
                        f"parameters(), ...)); pass lr=... and call "
                        f"optimizer.init(params)")
    if isinstance(value, bool) or not (
            isinstance(value, Number) or (isinstance(value, (jax.Array, np.ndarray))
                                          and np.ndim(value) == 0)):
        what = "a number or a schedule (a callable of the step count)" if schedule_ok \
            else "a number"
        raise TypeError(f"{name} must be {what}, got {value!r}")


def _show(value: Any) -> Any:
    """``value`` as PyTorch would print it: a number as given, an array in its dtype."""
    if isinstance(value, (int, float)):
        return value
    array = np.asarray(value)
    return str(array.dtype.type(array.item()))  # str: format() would print it as float64


def check_nonnegative(value: Any, message: str) -> None:
    """Raises ``ValueError(f"{message}: {value}")`` for a negative concrete value."""
    number = _concrete(value)
    if number is not None and not number >= 0.0:
        raise ValueError(f"{message}: {_show(value)}")


def check_positive(value: Any, message: str) -> None:
    """Raises ``ValueError(f"{message}: {value}")`` for a concrete value that is not
    above 0."""
    number = _concrete(value)
    if number is not None and not number > 0.0:
        raise ValueError(f"{message}: {_show(value)}")


def check_below_one(value: Any, message: str) -> None:
    """Raises ``ValueError(f"{message}: {value}")`` unless ``0 <= value < 1``."""
    number = _concrete(value)
    if number is not None and not 0.0 <= number < 1.0:
        raise ValueError(f"{message}: {_show(value)}")


def check_lr(lr: Any) -> None:
    """PyTorch's learning-rate check; a schedule is accepted as it is."""
    check_number("lr", lr, schedule_ok=True)
    check_nonnegative(lr, "Invalid learning rate")


def is_python_number(value: Any) -> bool:
    """Whether ``value`` is a plain number, fixed for the optimizer's life.

    An array (what ``inject_hyperparams`` passes for a hyperparameter it does not treat
    as static) may change between steps, so the optimizer's state structure must not
    depend on its value: a momentum buffer is then kept even while momentum is 0.
    """
    return isinstance(value, Number) and not isinstance(value, bool)


def concrete(value: Any) -> float | None:
    """``value`` as a float, or None when it is traced (inside ``jit``) or a schedule."""
    return _concrete(value)


def check_flag(name: str, value: Any) -> bool:
    """Raises a TypeError unless ``value`` is a bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {value!r}")
    return bool(value)


def check_implementation_flags(**flags: Any) -> None:
    """Checks ``torch.optim``'s implementation choices as PyTorch's constructors do.

    ``foreach``, ``fused``, ``capturable`` and ``differentiable`` choose how PyTorch
    runs one update (a loop or multi-tensor kernels, CUDA graphs, autograd through the
    step), never what it computes. fnnet's update is one compiled computation that
    ``jax.grad`` differentiates either way, so each is accepted and has no effect.

    Raises:
        TypeError: a flag that is neither None nor a bool.
        RuntimeError: PyTorch's refusals: ``fused`` with ``foreach`` or
            ``differentiable``.
    """
    for name, value in flags.items():
        if value is not None and not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{name} must be None or a bool, got {value!r}")
    if flags.get("fused") and flags.get("foreach"):
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
    if flags.get("fused") and flags.get("differentiable"):
        raise RuntimeError("`fused` does not support `differentiable`")
