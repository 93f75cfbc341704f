"""Type aliases shared across fnnet.

A parameter tree is a nested dict whose keys are the segments of PyTorch's
``state_dict`` names: ``{"fc1": {"weight": w, "bias": b}}`` flattens to
``fc1.weight`` and ``fc1.bias``. Layer state (BatchNorm running statistics) has the
same shape and lives beside the parameters, not inside them.

Arguments that take data accept what users hold: jax arrays and numpy arrays alike
(``ArrayLike``); a ``Batch`` is an ``(inputs, labels)`` pair of either.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

Array = jax.Array
ArrayLike = jax.Array | np.ndarray
Batch = tuple[ArrayLike, ArrayLike]
PRNGKey = jax.Array
Shape = tuple[int, ...]
Params = dict[str, Any]
State = dict[str, Any]
PyTree = Any

__all__ = ["Array", "ArrayLike", "Batch", "PRNGKey", "Shape", "Params", "State", "PyTree"]
