"""PyTorch's second names for ops the shim has (``absolute``, ``greater_equal``...), the
in-place forms they lack (``eq_``, ``cumsum_``, ``tan_``...), and a few small methods:
``multinomial``, ``fill_diagonal_``, ``get_device``, ``is_signed``, ``is_nonzero``.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from fnnet.torch._math_ops import in_place, multinomial
from fnnet.torch._surface_ops import is_nonzero
from fnnet.torch.tensor import Tensor, _as_tensor, _op

#: PyTorch's second name -> the name the shim implements
ALIASES = {"absolute": "abs", "negative": "neg", "greater": "gt", "greater_equal": "ge",
           "less": "lt", "less_equal": "le", "not_equal": "ne", "arccosh": "acosh",
           "arcsinh": "asinh", "arctanh": "atanh", "arctan2": "atan2"}
#: out-of-place methods whose in-place form (``<name>_``) PyTorch also has
IN_PLACE = ("absolute", "negative", "eq", "ne", "lt", "le", "gt", "ge", "greater",
            "greater_equal", "less", "less_equal", "not_equal", "acos", "asin", "atan",
            "arccos", "arcsin", "arctan", "arccosh", "arcsinh", "arctanh", "cosh", "sinh",
            "tan", "erf", "erfinv", "exp2", "log10", "log2", "fix", "cumsum", "cumprod",
            "logical_and", "logical_or", "logical_xor", "logical_not", "atan2", "arctan2")


def positive(input: Tensor) -> Tensor:
    """The tensor itself. PyTorch equivalent: ``torch.positive``."""
    if input.dtype.name == "bool":
        raise TypeError("The `+` operator, on a bool tensor is not supported.")
    return input


def multinomial_method(self: Tensor, num_samples: int, replacement: bool = False, *,
                       generator: Any = None) -> Tensor:
    """PyTorch equivalent: ``Tensor.multinomial`` (``torch.multinomial(self, ...)``)."""
    return multinomial(self, num_samples, replacement, generator=generator)


def _diagonal_mask(shape: tuple[int, ...], wrap: bool) -> np.ndarray:
    """Where ``fill_diagonal_`` writes: numpy's ``fill_diagonal`` positions."""
    rows, cols = shape[0], int(np.prod(shape[1:]))
    flat = np.zeros(rows * cols, bool)
    if len(shape) == 2:
        end = rows * cols if wrap else min(rows, cols) * cols
        flat[0:end:cols + 1] = True
    else:  # all dims equal: x[i, i, ..., i]
        flat[::sum(shape[0] ** k for k in range(len(shape)))] = True
    return flat.reshape(shape)


def fill_diagonal_(self: Tensor, fill_value: Any, wrap: bool = False) -> Tensor:
    """Writes ``fill_value`` on the main diagonal (a matrix's ``x[i, i]``, or ``x[i, i, ...,
    i]`` of a tensor whose dimensions are all equal); with ``wrap``, a tall matrix's
    diagonal starts again below every ``cols + 1`` rows, as numpy's ``fill_diagonal``.

    PyTorch equivalent: ``Tensor.fill_diagonal_``.
    """
    shape = tuple(self.shape)
    if len(shape) < 2:
        raise RuntimeError("dimensions must larger than 1")
    if len(shape) > 2 and len(set(shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    mask = _as_tensor(_diagonal_mask(shape, wrap))
    fill = _as_tensor(np.asarray(fill_value, self.dtype.np))
    return self._inplace(_op(_fill_diagonal, (), mask, fill, self, who="fill_diagonal_"))


def _fill_diagonal(mask: Any, fill: Any, x: Any) -> Any:
    """``fill`` where ``mask`` (the diagonal), ``x`` elsewhere: an op of its own, whose
    grad_fn is PyTorch's (a write through the diagonal's view, CopySlices)."""
    return jax.numpy.where(mask, fill, x)


def get_device(self: Tensor) -> int:
    """The index of the GPU the tensor is on, -1 on the CPU (JAX's default device).

    PyTorch equivalent: ``Tensor.get_device``.
    """
    return -1 if self.device.type == "cpu" else int(self.device.index or 0)


def is_signed(input: Tensor) -> bool:
    """Whether the dtype holds negative values. PyTorch equivalent: ``Tensor.is_signed``."""
    return bool(input.dtype.is_signed)


def install(namespace: dict[str, Any]) -> None:
    """Adds the methods to :class:`Tensor` and the functions to ``namespace``
    (``fnnet.torch``'s globals)."""
    for alias, name in ALIASES.items():
        method = getattr(Tensor, name)
        setattr(Tensor, alias, method)
        if name in namespace:
            namespace.setdefault(alias, namespace[name])
    for name in IN_PLACE:
        setattr(Tensor, name + "_", in_place(name))
    for method in (positive, fill_diagonal_, get_device, is_signed):
        setattr(Tensor, method.__name__, method)
    Tensor.multinomial = multinomial_method  # type: ignore[attr-defined]
    Tensor.is_nonzero = is_nonzero  # type: ignore[attr-defined]
    namespace.update(positive=positive, is_signed=is_signed)
