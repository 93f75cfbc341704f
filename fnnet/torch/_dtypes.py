"""PyTorch's dtype names over numpy/jax dtypes.

JAX computes in 32 bits unless ``jax_enable_x64`` is set before fnnet.torch is imported,
so without x64 ``torch.int64``/``torch.long`` are the same object as ``torch.int32`` and
``torch.float64``/``torch.double`` the same as ``torch.float32`` (labels, indices and
``torch.tensor([1, 2])`` are then held in 32 bits). The shared integer type is named
``torch.int64`` (``x.dtype`` prints it, ``x.type()`` is ``'torch.LongTensor'``), PyTorch's
integer type of labels, indices, ``arange`` and ``argmax``; the shared float type is named
``torch.float32``, PyTorch's default. With x64 on they are distinct, as in PyTorch.
"""

from __future__ import annotations

import builtins
from typing import Any

import jax
import numpy as np


class dtype:  # noqa: N801 - PyTorch's name
    """A tensor element type. PyTorch equivalent: ``torch.dtype``."""

    def __init__(self, name: str, np_dtype: Any) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = np.issubdtype(self.np, np.floating) or name == "bfloat16"
        self.is_signed = self.np.kind in "fi" or name == "bfloat16"

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __reduce__(self) -> str:
        return self.name


#: What a ``dtype=`` argument takes: a fnnet.torch dtype (``torch.float32``), a numpy
#: dtype, scalar type or name (``np.float32``, ``"float32"``) or a Python type (``float``).
DTypeLike = dtype | np.dtype[Any] | type[Any] | str

_X64 = bool(jax.config.read("jax_enable_x64"))

float32 = dtype("float32", np.float32)
float16 = dtype("float16", np.float16)
bfloat16 = dtype("bfloat16", jax.numpy.bfloat16)
int32 = dtype("int32" if _X64 else "int64", np.int32)
int16 = dtype("int16", np.int16)
int8 = dtype("int8", np.int8)
uint8 = dtype("uint8", np.uint8)
bool_ = dtype("bool", np.bool_)
float64 = dtype("float64", np.float64) if _X64 else float32
int64 = dtype("int64", np.int64) if _X64 else int32

float = float32  # noqa: A001 - PyTorch's alias
double = float64
half = float16
int = int32  # noqa: A001
long = int64
short = int16

#: PyTorch's name of each element type in its messages and tensor types (``"Float"``,
#: ``torch.FloatTensor``), by dtype name
SCALAR_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half",
                "bfloat16": "BFloat16", "int64": "Long", "int32": "Int", "int16": "Short",
                "int8": "Char", "uint8": "Byte", "bool": "Bool"}

def scalar_name(dtype_: Any) -> str:
    """PyTorch's name of ``dtype_``'s element type in messages (``"Long"``)."""
    name: str = dtype_.name
    return SCALAR_NAMES.get(name, name)


_BY_NP = {d.np: d for d in (float32, float16, bfloat16, int32, int16, int8, uint8, bool_,
                            float64, int64)}


def from_np(np_dtype: Any) -> dtype:
    """The torch dtype of a numpy/jax dtype."""
    found = _BY_NP.get(np.dtype(np_dtype))
    if found is None:
        raise NotImplementedError(f"fnnet.torch does not support dtype {np_dtype}")
    return found


def to_np(value: Any) -> np.dtype:
    """A canonical numpy dtype from a torch dtype, a numpy dtype or a Python type."""
    if isinstance(value, dtype):
        return jax.dtypes.canonicalize_dtype(value.np)
    if value is builtins.float:
        return np.dtype(np.float32)
    if value is builtins.int:
        return jax.dtypes.canonicalize_dtype(np.int64)
    if value is builtins.bool:
        return np.dtype(np.bool_)
    return jax.dtypes.canonicalize_dtype(np.dtype(value))
