"""``nn.UninitializedParameter`` and ``nn.UninitializedBuffer``: the placeholders a lazy
module (``nn.LazyLinear``...) holds until its first call gives them a shape.

A placeholder is registered like any parameter (``parameters()``, ``state_dict()`` and an
optimizer built before the first call list it), prints as ``<UninitializedParameter>``
and refuses, with PyTorch's errors, anything that needs its values or shape. Its first
call (or ``load_state_dict``) gives it a value in place, so every reference taken before
(an optimizer's) sees the materialised parameter.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from fnnet.torch._graph import CONST, VAR, Cell
from fnnet.torch.nn.parameter import Parameter
from fnnet.torch.tensor import Tensor, note_new_tensor

#: what a placeholder answers as PyTorch's does (its metadata, casts that keep it a
#: placeholder); every other public method raises PyTorch's ValueError
_ALLOWED = frozenset({
    "size", "copy_", "is_complex", "is_floating_point", "half", "float", "double", "char",
    "short", "int", "long", "cuda", "cpu", "to", "get_device", "materialize", "dtype",
    "device", "requires_grad", "grad", "is_leaf", "data", "grad_fn", "cls_to_become",
    "ndim", "is_cuda", "retains_grad", "type", "detach",
})
#: Python's operator methods -> the PyTorch method named in the error
_OPERATORS = {
    "__add__": "add", "__radd__": "add", "__sub__": "sub", "__mul__": "mul",
    "__rmul__": "mul", "__truediv__": "div", "__matmul__": "matmul", "__neg__": "neg",
    "__rsub__": "__rsub__", "__pow__": "pow", "__rpow__": "__rpow__",
    "__rtruediv__": "__rdiv__", "__getitem__": "__getitem__", "__setitem__": "__setitem__",
    "__len__": "__len__", "__float__": "__float__", "__int__": "__int__",
    "__bool__": "__bool__", "__iter__": "__iter__", "__abs__": "abs", "__rmatmul__": "matmul",
    "__floordiv__": "floor_divide", "__mod__": "remainder", "__lt__": "lt", "__le__": "le",
    "__gt__": "gt", "__ge__": "ge", "__array__": "__array__", "__index__": "__index__",
}


def _refuse(cls_name: str, what: str) -> ValueError:
    return ValueError(
        f"Attempted to use an uninitialized parameter in {what}. This error happens when "
        f"you are using a `LazyModule` or explicitly manipulating "
        f"`torch.nn.parameter.{cls_name}` objects. When using LazyModules Call `forward` "
        f"with a dummy batch to initialize the parameters before calling torch functions")


def shape_error() -> RuntimeError:
    """PyTorch's error for reading a placeholder's shape (or loading one into a
    parameter that has a shape)."""
    return RuntimeError(
        "Can't access the shape of an uninitialized parameter or buffer. This error "
        "usually happens in `load_state_dict` when trying to load an uninitialized "
        "parameter into an initialized one. Call `forward` to initialize the "
        "parameters before accessing their attributes.")


def _refusing_operator(name: str) -> Any:
    def operator(self: Tensor, *args: Any, **kwargs: Any) -> Any:
        raise _refuse(type(self).__name__,
                      f"<method '{_OPERATORS[name]}' of 'torch._C.TensorBase' objects>")

    operator.__name__ = name
    return operator


class _Uninitialized:
    """What both placeholders share: PyTorch's ``UninitializedTensorMixin``."""

    __slots__ = ()
    cls_to_become: type[Tensor]
    _cell: Cell

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("_") or name in _ALLOWED:
            return object.__getattribute__(self, name)
        if name == "shape":
            raise shape_error()
        if name == "share_memory_":
            raise RuntimeError(
                "Can't share memory on an uninitialized parameter or buffer. Call `forward` "
                "to initialize the parameters before calling `module.share_memory()`.")
        value = object.__getattribute__(self, name)
        if callable(value):
            raise _refuse(type(self).__name__,
                          f"<method '{name}' of 'torch._C.TensorBase' objects>")
        return value

    def detach(self) -> Any:
        """The placeholder itself (``state_dict()`` lists it as PyTorch's does)."""
        return self

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    def materialize(self, shape: Any, device: Any = None, dtype: Any = None) -> None:
        """Gives the placeholder zeros of ``shape`` (in its dtype unless ``dtype``) and
        makes it the tensor it stood for, in place.

        PyTorch equivalent: ``UninitializedParameter.materialize`` (whose values are
        uninitialised memory: zeros here).
        """
        from fnnet.torch import _dtypes

        np_dtype = self._cell.aval[1] if dtype is None else _dtypes.to_np(dtype)
        self._materialize(jnp.zeros(tuple(shape), np_dtype))

    def _materialize(self, value: Any) -> None:
        """Takes ``value`` (an array the caller hands over) as the tensor's value."""
        object.__setattr__(self, "_cell", Cell(value, owned=True))
        object.__setattr__(self, "__class__", type(self).cls_to_become)


for _name in _OPERATORS:
    setattr(_Uninitialized, _name, _refusing_operator(_name))
del _name


def _placeholder(cls: type[Tensor], requires_grad: bool, dtype: Any) -> Any:
    from fnnet.torch import _dtypes

    t = Tensor.__new__(cls)
    np_dtype = jnp.float32 if dtype is None else _dtypes.to_np(dtype)
    object.__setattr__(t, "_cell", Cell(jnp.zeros((0,), np_dtype), owned=True))
    object.__setattr__(t, "_kind", VAR if requires_grad else CONST)
    object.__setattr__(t, "_view", None)
    object.__setattr__(t, "_hooks", None)
    object.__setattr__(t, "_grad", None)
    note_new_tensor(t)
    return t


class UninitializedParameter(_Uninitialized, Parameter):
    """A parameter whose shape is not known yet (see the module docstring).

    PyTorch equivalent: ``torch.nn.UninitializedParameter``.
    """

    __slots__ = ()
    cls_to_become = Parameter

    def __new__(cls, requires_grad: bool = True, device: Any = None, dtype: Any = None
                ) -> UninitializedParameter:
        out: UninitializedParameter = _placeholder(cls, requires_grad, dtype)
        return out

    def __init__(self, requires_grad: bool = True, device: Any = None, dtype: Any = None
                 ) -> None:
        del requires_grad, device, dtype  # taken by __new__


class UninitializedBuffer(_Uninitialized, Tensor):
    """A buffer whose shape is not known yet (BatchNorm's running statistics in
    ``nn.LazyBatchNorm2d``). PyTorch equivalent: ``torch.nn.UninitializedBuffer``."""

    __slots__ = ()
    cls_to_become = Tensor

    def __new__(cls, requires_grad: bool = False, device: Any = None, dtype: Any = None,
                persistent: bool = True) -> UninitializedBuffer:
        out: UninitializedBuffer = _placeholder(cls, requires_grad, dtype)
        return out

    def __init__(self, requires_grad: bool = False, device: Any = None, dtype: Any = None,
                 persistent: bool = True) -> None:
        del requires_grad, device, dtype, persistent  # taken by __new__


# pickled (``torch.save`` of a whole lazy module) under PyTorch's path, which
# fnnet.torch.nn.parameter also answers
UninitializedParameter.__module__ = UninitializedBuffer.__module__ = "fnnet.torch.nn.parameter"


def is_lazy(value: Any) -> bool:
    """Whether ``value`` is a placeholder. PyTorch equivalent:
    ``torch.nn.parameter.is_lazy``."""
    return isinstance(value, _Uninitialized)


def refusing_placeholders(fn: Any) -> Any:
    """``fn`` (an ``nn.init`` function) raising PyTorch's ValueError when its tensor is a
    placeholder (``net.apply(init_weights)`` before the lazy net's first call)."""
    import functools

    @functools.wraps(fn)
    def wrapper(tensor: Any, *args: Any, **kwargs: Any) -> Any:
        if is_lazy(tensor):
            raise _refuse(type(tensor).__name__, f"<function {fn.__name__} at {id(fn):#x}>")
        return fn(tensor, *args, **kwargs)

    return wrapper
