"""PyTorch's dtype names over numpy/jax dtypes.

JAX computes in 32 bits unless ``jax_enable_x64`` is set before fnnet.torch is imported,
so without x64 ``torch.int64``/``torch.long`` are the same object as ``torch.int32`` and
``torch.float64``/``torch.double`` held as ``torch.float32`` (labels, indices and
``torch.tensor([1, 2])`` are then held in 32 bits). The shared integer type is named
``torch.int64`` (``x.dtype`` prints it, ``x.type()`` is ``'torch.LongTensor'``), PyTorch's
integer type of labels, indices, ``arange`` and ``argmax``; the shared float type is named
``torch.float32``, PyTorch's default; ``torch.float64`` is equal to it but another object
(:class:`Held32`), which a cast asked for returns a copy. With x64 on they are distinct, as
in PyTorch. ``torch.complex64`` (``cfloat``) is what the FFTs return; ``torch.complex128``
is held as it unless x64 is on, as ``float64`` is.
"""

from __future__ import annotations

import builtins
from typing import Any

import jax
import ml_dtypes
import numpy as np


class dtype:  # noqa: N801 - PyTorch's name
    """A tensor element type. PyTorch equivalent: ``torch.dtype``."""

    def __init__(self, name: str, np_dtype: Any) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = np.issubdtype(self.np, np.floating) or name == "bfloat16"
        self.is_signed = self.np.kind in "fic" or name == "bfloat16"
        self.is_complex = self.np.kind == "c"

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __reduce__(self) -> str:
        return self.name

    @property
    def itemsize(self) -> builtins.int:
        """Bytes per element of the type as PyTorch names it: 8 for ``torch.int64``, also
        where it is held in 32 bits. PyTorch equivalent: ``torch.dtype.itemsize``."""
        return 2 if self.name == "bfloat16" else np.dtype(self.name).itemsize


class Held32(dtype):
    """``torch.float64`` (``complex128``) without x64: held as the 32-bit type and equal
    to it (``x.dtype == torch.float64`` holds for a float32 tensor, a dict keyed by one
    finds the other, it prints as the 32-bit type), yet another object, so that a cast
    asked for it (``x.to(torch.float64)``, ``x.double()``) is known to ask for another
    dtype than the tensor's: PyTorch's result is then a copy, never the tensor itself."""

    def __init__(self, name: str, narrow: dtype) -> None:
        super().__init__(narrow.name, narrow.np)
        self.narrow = narrow
        self._attribute = name  # what pickle finds it by

    def __reduce__(self) -> str:
        return self._attribute

    @property
    def itemsize(self) -> builtins.int:
        return np.dtype(self._attribute).itemsize

    def __eq__(self, other: object) -> bool:
        return other is self or other is self.narrow or (
            type(other) is Held32 and other.narrow is self.narrow)

    def __hash__(self) -> builtins.int:
        return object.__hash__(self.narrow)


#: What a ``dtype=`` argument takes: a fnnet.torch dtype (``torch.float32``), a numpy
#: dtype, scalar type or name (``np.float32``, ``"float32"``) or a Python type (``float``).
DTypeLike = dtype | np.dtype[Any] | type[Any] | str

_X64 = bool(jax.config.read("jax_enable_x64"))
#: whether JAX's 64-bit mode was on when fnnet.torch was imported
X64 = _X64

float32 = dtype("float32", np.float32)
float16 = dtype("float16", np.float16)
bfloat16 = dtype("bfloat16", jax.numpy.bfloat16)
int32 = dtype("int32" if _X64 else "int64", np.int32)
int16 = dtype("int16", np.int16)
int8 = dtype("int8", np.int8)
uint8 = dtype("uint8", np.uint8)
bool_ = dtype("bool", np.bool_)
float64 = dtype("float64", np.float64) if _X64 else Held32("float64", float32)
int64 = dtype("int64", np.int64) if _X64 else int32
complex64 = dtype("complex64", np.complex64)
complex128 = dtype("complex128", np.complex128) if _X64 else Held32("complex128", complex64)

float = float32  # noqa: A001 - PyTorch's alias
double = float64
half = float16
int = int32  # noqa: A001
long = int64
short = int16
cfloat = complex64
cdouble = complex128

#: PyTorch's name of each element type in its messages and tensor types (``"Float"``,
#: ``torch.FloatTensor``), by dtype name
SCALAR_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half",
                "bfloat16": "BFloat16", "int64": "Long", "int32": "Int", "int16": "Short",
                "int8": "Char", "uint8": "Byte", "bool": "Bool",
                "complex64": "ComplexFloat", "complex128": "ComplexDouble"}

def scalar_name(dtype_: Any) -> str:
    """PyTorch's name of ``dtype_``'s element type in messages (``"Long"``)."""
    name: str = dtype_.name
    return SCALAR_NAMES.get(name, name)


_BY_NP = {d.np: d for d in (float32, float16, bfloat16, int32, int16, int8, uint8, bool_,
                            float64, int64, complex64, complex128) if type(d) is dtype}


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


class _Limits:
    """What :class:`finfo` and :class:`iinfo` share: equal when of the same dtype."""

    dtype: str

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.dtype == self.dtype

    def __hash__(self) -> builtins.int:
        return hash(self.dtype)


class finfo(_Limits):  # noqa: N801 - PyTorch's name
    """Machine limits of a floating dtype (float32 by default), as PyTorch gives them:
    Python numbers ``bits``, ``eps``, ``max``, ``min``, ``tiny`` (``smallest_normal``)
    and ``resolution``, and ``dtype`` the type's name.

    PyTorch equivalent: ``torch.finfo``.
    """

    def __init__(self, type: Any = None) -> None:  # noqa: A002 - PyTorch's name
        type = float32 if type is None else type
        if not isinstance(type, dtype):
            raise TypeError(f"finfo(): argument 'type' (position 1) must be torch.dtype, "
                            f"not {builtins.type(type).__name__}")
        if type.is_complex:  # a complex type's limits are its parts'
            type = float32 if type is complex64 else float64
        if not type.is_floating_point:
            raise TypeError("torch.finfo() requires a floating point input type. Use "
                            "torch.iinfo to handle 'torch.finfo'")
        info = ml_dtypes.finfo(type.np)
        self.bits = builtins.int(info.bits)
        self.eps, self.max, self.min = (builtins.float(v) for v in (info.eps, info.max,
                                                                     info.min))
        self.tiny = self.smallest_normal = builtins.float(info.smallest_normal)
        self.resolution = 10.0 ** -builtins.int(info.precision)
        self.dtype = type.name

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo(_Limits):  # noqa: N801 - PyTorch's name
    """Machine limits of an integer dtype: Python ints ``bits``, ``max`` and ``min`` (of
    the integers fnnet.torch holds: 32 bits for int64 unless jax's x64 mode is on), and
    ``dtype`` the type's name.

    PyTorch equivalent: ``torch.iinfo``.
    """

    def __init__(self, type: Any) -> None:  # noqa: A002 - PyTorch's name
        if not isinstance(type, dtype):
            raise TypeError(f"iinfo(): argument 'type' (position 1) must be torch.dtype, "
                            f"not {builtins.type(type).__name__}")
        if type is bool_:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if type.is_floating_point:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo "
                            "to handle 'torch.iinfo'")
        info = np.iinfo(type.np)
        self.bits, self.max, self.min = (builtins.int(v) for v in (info.bits, info.max,
                                                                    info.min))
        self.dtype = type.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"

