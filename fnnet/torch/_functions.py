"""``torch.*`` functions: tensor creation (eager) and math (recorded)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any, SupportsIndex, TypeAlias

import jax
import jax.numpy as jnp
import numpy as np

from fnnet.core.transfer import to_device
from fnnet.torch import _compiler, _dtypes, _graph, _random
from fnnet.torch._dtypes import DTypeLike
from fnnet.torch._graph import CONST, VAR
from fnnet.torch._random import Generator
from fnnet.torch._recorder import current
from fnnet.torch._tape import check_int32, to_canonical
from fnnet.torch.device import DeviceLike, check_creation, check_placement
from fnnet.torch.tensor import (
    Tensor,
    _as_tensor,
    _dim,
    _host,
    _op,
    _operands,
    _scalar_or_tensor,
    _shape_args,
    _wrap_value,
)

#: A shape: one int per dimension, or one sequence of them (``zeros(2, 3)`` or
#: ``zeros((2, 3))``); numpy integers and ``Size`` are accepted.
ShapeLike: TypeAlias = SupportsIndex | Sequence[SupportsIndex]


def _new(value: Any, requires_grad: bool) -> Tensor:
    # a fresh leaf's array is fnnet.torch's alone, so a step that updates the leaf in
    # place (``w -= lr * w.grad``) may donate it, as it does a parameter's
    # jnp.inexact: bfloat16's numpy dtype is of kind "V", not "f"
    if requires_grad and not jnp.issubdtype(value.dtype, jnp.inexact):
        raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                           "gradients")
    return _wrap_value(value, VAR if requires_grad else CONST, owned=requires_grad)


def _float_dtype(dtype: DTypeLike | None) -> np.dtype:
    return np.dtype(np.float32) if dtype is None else _dtypes.to_np(dtype)


def tensor_argument(value: Any, who: str, name: str, position: int) -> Tensor:
    """``value``, a tensor argument of ``who``.

    Raises:
        TypeError: ``value`` is not a Tensor, in PyTorch's words ("numel(): argument
            'input' (position 1) must be Tensor, not list").
    """
    if not isinstance(value, Tensor):
        raise TypeError(f"{who}(): argument '{name}' (position {position}) must be Tensor, "
                        f"not {type_name(value)}")
    return value


def type_name(value: Any) -> str:
    """The name PyTorch's argument errors give ``value``'s type: its C type's name, which
    for NumPy's types carries the module (``numpy.ndarray``, ``numpy.float64``)."""
    kind = type(value)
    return f"numpy.{kind.__name__}" if kind.__module__ == "numpy" else kind.__name__


def tensor_sequence(values: Any, who: str) -> list[Tensor]:
    """The ``tensors`` argument of ``who`` (``cat``, ``stack``) as a list.

    Raises:
        TypeError: ``values`` is a tensor or not iterable, or holds what is not a tensor
            (a list, a number), in PyTorch's words.
    """
    if isinstance(values, Tensor) or not hasattr(values, "__iter__"):
        raise TypeError(f"{who}(): argument 'tensors' (position 1) must be tuple of Tensors, "
                        f"not {type(values).__name__}")
    listed: list[Tensor] = list(values)
    for index, value in enumerate(listed):
        if not isinstance(value, Tensor):
            raise TypeError(f"expected Tensor as element {index} in argument 0, but got "
                            f"{_c_type_name(value)}")
    return listed


#: Python's flag of a class made by a ``class`` statement (CPython's Py_TPFLAGS_HEAPTYPE)
_HEAP_TYPE = 1 << 9


def _c_type_name(value: Any) -> str:
    """A type's name as C code writes it (``tp_name``): a class made in Python by its own
    name (``Foo``), an extension type with its module (``numpy.ndarray``)."""
    kind = type(value)
    if kind.__flags__ & _HEAP_TYPE or kind.__module__ == "builtins":
        return kind.__name__
    return f"{kind.__module__}.{kind.__name__}"


def number(value: Any, who: str, name: str, position: int) -> Any:
    """A number argument of a factory (``arange``, ``linspace``, ``full``...) as PyTorch
    reads it: a 0-dim tensor gives its Python number (``torch.linspace(d.min(), d.max(),
    50)``), whose type then decides the result's dtype as a number's would.

    Raises:
        RuntimeError / TypeError: ``value`` is a tensor of more than one dimension
            (PyTorch's messages).
    """
    if not isinstance(value, Tensor):
        return value
    if value.dim():
        if who in ("linspace", "logspace"):
            raise RuntimeError(f"{who} only supports 0-dimensional start and end tensors, "
                               f"but got {name} with {value.dim()} dimension(s).")
        raise TypeError(f"{who}(): argument '{name}' (position {position}) must be Number, "
                        f"not Tensor")
    return value.item()


#: PyTorch's warning for ``torch.tensor(a_tensor)``, word for word
COPY_CONSTRUCT_WARNING = (
    "To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() "
    "or sourceTensor.detach().clone().requires_grad_(True), rather than "
    "torch.tensor(sourceTensor).")


#: PyTorch's warning for ``torch.tensor([array, array])``, word for word
ARRAYS_IN_A_LIST_WARNING = (
    "Creating a tensor from a list of numpy.ndarrays is extremely slow. Please consider "
    "converting the list to a single numpy.ndarray with numpy.array() before converting to "
    "a tensor.")


def _holds_arrays(data: Any) -> bool:
    """Whether nested lists or tuples hold a numpy array: at their top level, or along
    their first entries (a row of arrays); a scan that costs little beside the copy."""
    while isinstance(data, list | tuple) and data:
        if any(isinstance(item, np.ndarray) for item in data):
            return True
        data = data[0]
    return False


def tensor(data: Any, dtype: DTypeLike | None = None, device: DeviceLike = None,
           requires_grad: bool = False, *, pin_memory: bool = False) -> Tensor:
    """A tensor copied from data (nested lists, numbers, numpy arrays, tensors).

    Python floats give float32, Python ints int64 (int32 without jax x64). The copy
    stays on the host (a leaf that requires grad goes to the device): a compiled step
    that reads it copies it to the device as part of its call, and a tensor read by a
    second step becomes a device array (see ``_graph.cell_source``). A tensor given as
    ``data`` is copied without its graph, with PyTorch's ``UserWarning``.

    PyTorch equivalent: ``torch.tensor``.
    """
    check_creation(device, pin_memory=pin_memory)
    if isinstance(data, Tensor):
        warnings.warn(COPY_CONSTRUCT_WARNING, UserWarning, stacklevel=2)
    elif _holds_arrays(data):
        warned = current().warned
        if ARRAYS_IN_A_LIST_WARNING not in warned:  # once per process, as PyTorch's
            warned.add(ARRAYS_IN_A_LIST_WARNING)
            warnings.warn(ARRAYS_IN_A_LIST_WARNING, UserWarning, stacklevel=2)
    try:
        host = np.asarray(_host(data, np.float32 if dtype is None else np.float64))
    except ValueError as error:
        ragged = _ragged(data)
        if ragged is None:
            _refuse_data(data, dtype)  # a string numpy could not read as the dtype
            raise
        raise ValueError(ragged) from error
    if host.dtype.kind in "USO" or (host.dtype.kind == "f" and isinstance(data, (list, tuple))
                                    and np.isnan(host).any()):  # None reads as NaN
        _refuse_data(data, dtype)
    copy = to_canonical(host, None if dtype is None else _dtypes.to_np(dtype))
    if requires_grad:
        return _new(to_device(copy), requires_grad)
    return _wrap_value(copy)


def _refuse_data(data: Any, dtype: DTypeLike | None = None) -> None:
    """PyTorch's error for data holding what is not a number (text labels, None); with
    a ``dtype``, the words of PyTorch's conversion of each item to it."""
    first = data
    while isinstance(first, (list, tuple)) and first:
        first = first[0]
    if isinstance(first, str) and first is not data:  # PyTorch reads a string as a sequence
        raise ValueError("too many dimensions 'str'")
    leaves = [data]
    while leaves:
        leaf = leaves.pop(0)
        if isinstance(leaf, (list, tuple)):
            leaves[:0] = leaf
        elif isinstance(leaf, (int, float, complex, np.generic, np.ndarray, Tensor)):
            continue
        elif dtype is not None and leaf is not data:  # a string alone: refused below
            name = type(leaf).__name__
            if jnp.issubdtype(_dtypes.to_np(dtype), jnp.inexact):
                raise TypeError(f"must be real number, not {name}")
            raise TypeError(f"'{name}' object cannot be interpreted as an integer")
        elif isinstance(leaf, (str, bytes)):
            raise TypeError(f"new(): invalid data type '{type(leaf).__name__}'")
        else:
            raise RuntimeError(f"Could not infer dtype of {type(leaf).__name__}")


def _ragged(data: Any, dim: int = 0) -> str | None:
    """PyTorch's message for nested sequences of unequal lengths, else None."""
    if not isinstance(data, (list, tuple)) or not data:
        return None
    if not all(isinstance(item, (list, tuple)) for item in data):
        return None
    length = len(data[0])
    for item in data:
        if len(item) != length:
            return f"expected sequence of length {length} at dim {dim + 1} (got {len(item)})"
    for item in data:
        found = _ragged(item, dim + 1)
        if found is not None:
            return found
    return None


def as_tensor(data: Any, dtype: DTypeLike | None = None, device: DeviceLike = None) -> Tensor:
    """``data`` as a tensor: a tensor of the asked dtype is returned itself (a write to
    one is seen in the other), a tensor of another dtype converted as ``data.to(dtype)``
    (in the graph), anything else copied as :func:`tensor` copies it.

    PyTorch equivalent: ``torch.as_tensor``.
    """
    check_placement(device)
    if isinstance(data, Tensor):
        if dtype is None or (_dtypes.to_np(dtype) == data.dtype.np
                             and type(dtype) is not _dtypes.Held32):
            return data
        return data.to(dtype)  # float64 held as float32: a copy (see _dtypes.Held32)
    return tensor(data, dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor from a numpy array (copied, on the host as :func:`tensor`'s copy;
    float64 becomes float32 without x64).

    PyTorch equivalent: ``torch.from_numpy`` (which shares memory; jax arrays are
    immutable, so writes to ``array`` afterwards are not seen).
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    if array.dtype == object:
        raise TypeError("can't convert np.ndarray of type numpy.object_: only numeric and "
                        "bool arrays become tensors")
    return _wrap_value(to_canonical(array))


def _size(name: str, shape: tuple[Any, ...], size: Any) -> tuple[Any, ...]:
    """The shape given positionally (``zeros(2, 3)``, ``zeros((2, 3))``) or as ``size=``."""
    if size is None:
        if not shape:
            raise TypeError(f"{name}() missing its shape: pass it as {name}(2, 3), "
                            f"{name}((2, 3)) or {name}(size=(2, 3))")
        return _nonnegative(name, shape)
    if shape:
        raise TypeError(f"{name}() received the shape both positionally {shape} and as "
                        f"size={size!r}; pass one")
    return _nonnegative(name, (size,))


def _nonnegative(name: str, size: tuple[Any, ...]) -> tuple[Any, ...]:
    """``size`` after PyTorch's RuntimeError for a negative dimension."""
    dims = _shape_args(size)
    bad = next((d for d in dims if d < 0), None)
    if bad is not None:
        raise RuntimeError("zeros: Dimension size must be non-negative." if name == "zeros" else
                           f"Trying to create tensor with negative dimension {bad}: "
                           f"{list(dims)}")
    return size


#: values of at most this many elements that fnnet.torch makes on the host (constants,
#: joins of values): jax would compile a program for each new shape, where numpy fills or
#: joins them at once; a step that reads one copies it as part of its call
HOST_VALUE_ELEMENTS = 1 << 16


def _creation(fill: Callable[[tuple[int, ...], np.dtype], jax.Array], size: tuple[Any, ...],
              dtype: Any, requires_grad: bool,
              host_fill: Callable[[tuple[int, ...], np.dtype], np.ndarray] | None = None
              ) -> Tensor:
    """A new tensor of ``fill(shape, dtype)``; a small one that does not require grad is
    made by ``host_fill`` (numpy's form, where given) on the host instead: an RNN's
    initial state made in each forward pass, the padding of each sequence of a batch."""
    shape = _shape_args(size)
    np_dtype = _float_dtype(dtype)
    if host_fill is not None and not requires_grad and math.prod(shape) <= HOST_VALUE_ELEMENTS:
        return _wrap_value(host_fill(shape, np_dtype))
    return _new(fill(shape, np_dtype), requires_grad)


def zeros(*shape: ShapeLike, size: ShapeLike | None = None, dtype: DTypeLike | None = None,
          device: DeviceLike = None, requires_grad: bool = False, layout: Any = None,
          pin_memory: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.zeros``."""
    check_creation(device, layout, pin_memory)
    return _creation(jnp.zeros, _size("zeros", shape, size), dtype, requires_grad, np.zeros)


def ones(*shape: ShapeLike, size: ShapeLike | None = None, dtype: DTypeLike | None = None,
         device: DeviceLike = None, requires_grad: bool = False, layout: Any = None,
         pin_memory: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.ones``."""
    check_creation(device, layout, pin_memory)
    return _creation(jnp.ones, _size("ones", shape, size), dtype, requires_grad, np.ones)


def empty(*shape: ShapeLike, size: ShapeLike | None = None, dtype: DTypeLike | None = None,
          device: DeviceLike = None, requires_grad: bool = False, layout: Any = None,
          pin_memory: bool = False, memory_format: Any = None) -> Tensor:
    """PyTorch equivalent: ``torch.empty`` (zero-filled here; ``memory_format`` ignored,
    as XLA lays arrays out itself)."""
    check_creation(device, layout, pin_memory)
    return _creation(jnp.zeros, _size("empty", shape, size), dtype, requires_grad, np.zeros)


def full(size: ShapeLike, fill_value: Any, dtype: DTypeLike | None = None,
         device: DeviceLike = None, requires_grad: bool = False, *, layout: Any = None,
         pin_memory: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.full``."""
    check_creation(device, layout, pin_memory)
    fill_value = number(fill_value, "full", "fill_value", 2)
    if dtype is None:
        dtype = _dtypes.float32 if isinstance(fill_value, float) else (
            _dtypes.complex64 if isinstance(fill_value, complex) else
            _dtypes.bool_ if isinstance(fill_value, bool) else _dtypes.int64)
    if _graph.canonical_dtype(_dtypes.to_np(dtype)) == np.int32:
        check_int32(fill_value)
    return _creation(lambda s, d: jnp.full(s, fill_value, d), _nonnegative("full", (size,)),
                     dtype, requires_grad, lambda s, d: np.full(s, fill_value, d))


def zeros_like(input: Tensor, dtype: DTypeLike | None = None, *, memory_format: Any = None,
               **kwargs: Any) -> Tensor:
    """PyTorch equivalent: ``torch.zeros_like`` (``memory_format`` ignored: XLA lays
    arrays out itself)."""
    del memory_format
    tensor_argument(input, "zeros_like", "input", 1)
    return zeros(tuple(input.shape), dtype=dtype or input.dtype, **kwargs)


def ones_like(input: Tensor, dtype: DTypeLike | None = None, *, memory_format: Any = None,
              **kwargs: Any) -> Tensor:
    """PyTorch equivalent: ``torch.ones_like``."""
    del memory_format
    tensor_argument(input, "ones_like", "input", 1)
    return ones(tuple(input.shape), dtype=dtype or input.dtype, **kwargs)


def full_like(input: Tensor, fill_value: Any, dtype: DTypeLike | None = None, *,
              memory_format: Any = None, **kwargs: Any) -> Tensor:
    """PyTorch equivalent: ``torch.full_like``."""
    del memory_format
    tensor_argument(input, "full_like", "input", 1)
    return full(tuple(input.shape), fill_value, dtype=dtype or input.dtype, **kwargs)


def _continuous_draw(dtype: DTypeLike | None, kernel: str) -> None:
    """PyTorch's NotImplementedError for normal or uniform draws (``randn``, ``rand``,
    their ``_like`` forms) into integers or booleans, naming its CPU ``kernel``."""
    if dtype is None:
        return
    given = dtype if isinstance(dtype, _dtypes.dtype) else _dtypes.from_np(_float_dtype(dtype))
    if not (given.is_floating_point or given.is_complex):
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{_dtypes.scalar_name(given)}'")


def randn(*shape: ShapeLike, size: ShapeLike | None = None, generator: Generator | None = None,
          dtype: DTypeLike | None = None, device: DeviceLike = None,
          requires_grad: bool = False, layout: Any = None, pin_memory: bool = False) -> Tensor:
    """Standard normal samples, PyTorch's from the global generator or ``generator``
    (see :mod:`fnnet.torch._cpu_generator`). PyTorch: ``torch.randn``."""
    check_creation(device, layout, pin_memory)
    dims = _size("randn", shape, size)
    _continuous_draw(dtype, "normal_kernel_cpu")
    host = _random.host_for(generator, "randn")
    return _creation(lambda s, d: jnp.asarray(host.normal(s, d)), dims, dtype, requires_grad,
                     host.normal)


def rand(*shape: ShapeLike, size: ShapeLike | None = None, generator: Generator | None = None,
         dtype: DTypeLike | None = None, device: DeviceLike = None,
         requires_grad: bool = False, layout: Any = None, pin_memory: bool = False) -> Tensor:
    """Uniform ``[0, 1)`` samples, PyTorch's from the global generator or ``generator``.
    PyTorch: ``torch.rand``."""
    check_creation(device, layout, pin_memory)
    dims = _size("rand", shape, size)
    _continuous_draw(dtype, "check_uniform_bounds")
    host = _random.host_for(generator, "rand")
    return _creation(lambda s, d: jnp.asarray(host.uniform(s, d)), dims, dtype, requires_grad,
                     host.uniform)


def randint(low: int | None = None, high: int | tuple[int, ...] | list[int] | None = None,
            size: ShapeLike | None = None, *, generator: Generator | None = None,
            dtype: DTypeLike | None = None, device: DeviceLike = None, layout: Any = None,
            pin_memory: bool = False) -> Tensor:
    """Integers drawn uniformly from ``[low, high)``, PyTorch's from the global generator
    or ``generator``. PyTorch equivalent: ``torch.randint(low=0, high, size)``."""
    check_creation(device, layout, pin_memory)
    if low is None:  # randint(high=10, size=(3,)): low defaults to 0 as in PyTorch
        if high is None or isinstance(high, (tuple, list)) or size is None:
            raise TypeError("randint() missing 2 required positional argument: \"high\", "
                            "\"size\"")
        low = 0
    if size is None and high is not None and not isinstance(high, (tuple, list)):
        # randint(10, 3): PyTorch reads randint(high, size) and refuses the int size
        raise TypeError(f"randint(): argument 'size' (position 2) must be tuple of ints, "
                        f"not {type(high).__name__}")
    if high is None or isinstance(high, (tuple, list)):  # randint(high, size)
        low, top, size = 0, low, high if size is None else size
    else:
        top = high
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"randint(): argument 'size' (position 3) must be tuple of ints, "
                        f"not {type(size).__name__}")
    if low >= top:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={top}")
    shape = _shape_args(_nonnegative("randint", (size,)))
    host = _random.host_for(generator, "randint")
    np_dtype = _dtypes.to_np(dtype or _dtypes.int64)
    return _wrap_value(host.integers(low, top, shape).astype(np_dtype))


def randperm(n: int, *, generator: Generator | None = None, dtype: DTypeLike | None = None,
             device: DeviceLike = None, layout: Any = None, pin_memory: bool = False
             ) -> Tensor:
    """PyTorch's permutation, from the global generator or ``generator``. PyTorch
    equivalent: ``torch.randperm``."""
    check_creation(device, layout, pin_memory)
    if isinstance(n, int) and n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    return _wrap_value(to_canonical(_random.randperm(n, generator)))


def arange(start: float, end: float | None = None, step: float = 1, *,
           dtype: DTypeLike | None = None, device: DeviceLike = None,
           requires_grad: bool = False, layout: Any = None, pin_memory: bool = False
           ) -> Tensor:
    """PyTorch equivalent: ``torch.arange`` (ints give int64/int32, floats float32)."""
    check_creation(device, layout, pin_memory)
    if end is None:
        start, end = 0, start
    start, end, step = (number(v, "arange", name, i) for i, (name, v) in enumerate(
        (("start", start), ("end", end), ("step", step))))
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, end, step))
        dtype = _dtypes.float32 if is_float else _dtypes.int64
    np_dtype = _dtypes.to_np(dtype)
    count = math.ceil((end - start) / step)
    if np_dtype == np.int32:
        check_int32(start, start + (count - 1) * step)
    if not requires_grad and count <= HOST_VALUE_ELEMENTS and (
            np_dtype.kind == "f" or all(isinstance(v, int) for v in (start, end, step))):
        # on the host, as small constants are (``torch.arange(x.shape[0])`` in a forward)
        return _wrap_value(np.arange(start, end, step).astype(np_dtype))
    return _new(jnp.arange(start, end, step, dtype=np_dtype), requires_grad)


def linspace(start: float, end: float, steps: int, *, dtype: DTypeLike | None = None,
             device: DeviceLike = None, requires_grad: bool = False, layout: Any = None,
             pin_memory: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.linspace``."""
    check_creation(device, layout, pin_memory)
    start, end = number(start, "linspace", "start", 0), number(end, "linspace", "end", 1)
    steps = number(steps, "linspace", "steps", 2)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    np_dtype = _float_dtype(dtype)
    values = _linspace_values(start, end, steps, np_dtype)
    if values is None:
        return _new(jnp.linspace(start, end, steps, dtype=np_dtype), requires_grad)
    return _creation(lambda s, d: jnp.asarray(values), (steps,), np_dtype, requires_grad,
                     lambda s, d: values)


def _linspace_values(start: Any, end: Any, steps: int, np_dtype: np.dtype
                     ) -> np.ndarray | None:
    """PyTorch's CPU ``linspace`` values for float32, float64 and integer results (None
    for the other types): ``step = (end - start) / (steps - 1)`` in the result's precision
    (double for integers), then ``start + step * i`` for the first half of the points and
    ``end - step * (steps - 1 - i)`` for the rest, each rounded once (PyTorch's kernel
    fuses the multiply-add), integers truncated. A sampler's
    ``torch.linspace(T - 1, 0, 10).long()`` then picks PyTorch's timesteps: 26, not 25."""
    kind = np.dtype(np_dtype)
    if kind not in (np.dtype(np.float32), np.dtype(np.float64)) and kind.kind not in "iu":
        return None
    if steps <= 1:
        return np.full(steps, start).astype(kind)
    wide = kind if kind.kind == "f" else np.dtype(np.float64)
    low, high = wide.type(start), wide.type(end)
    step = np.float64(wide.type((high - low) / wide.type(steps - 1)))
    at = np.arange(steps)
    exact = np.where(at < steps // 2, np.float64(low) + step * at,
                     np.float64(high) - step * (steps - 1 - at))
    return exact.astype(kind) if kind.kind == "f" else np.trunc(exact).astype(kind)


def eye(n: int, m: int | None = None, *, dtype: DTypeLike | None = None,
        device: DeviceLike = None, requires_grad: bool = False, layout: Any = None,
        pin_memory: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.eye``."""
    check_creation(device, layout, pin_memory)
    for position, (name, size) in enumerate((("n", n), ("m", m))):
        if size is None:
            continue
        if not isinstance(size, (int, np.integer)) or isinstance(size, bool):
            raise TypeError(f"eye(): argument '{name}' (position {position + 1}) must be int, "
                            f"not {type(size).__name__}")
        if size < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {size}")
    return _creation(lambda s, d: jnp.eye(s[0], s[1], dtype=d), (n, n if m is None else m),
                     dtype, requires_grad, lambda s, d: np.eye(s[0], s[1], dtype=d))


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    """PyTorch equivalent: ``torch.numel``."""
    return tensor_argument(input, "numel", "input", 1).numel()


# -- recorded math ------------------------------------------------------------------


def _cat(*args: Any) -> jax.Array:
    *xs, dim = args
    return jnp.concatenate(xs, axis=dim)


def _stack(*args: Any) -> jax.Array:
    *xs, dim = args
    return jnp.stack(xs, axis=dim)


def _where(cond: jax.Array, x: jax.Array, y: jax.Array) -> jax.Array:
    return jnp.where(cond, x, y)


def _axis(name: str, dim: Any, axis: Any) -> Any:
    if axis is None:
        return dim
    if dim is not None:
        raise TypeError(f"{name}() received both dim= and its alias axis=; pass one")
    return axis


def _check_cat(*args: Any) -> None:
    """PyTorch's RuntimeError for tensors ``cat`` cannot join (the last argument is dim)."""
    *tensors, dim = args
    for number, t in enumerate(tensors):
        if not t.shape:
            raise RuntimeError(f"zero-dimensional tensor (at position {number}) cannot be "
                               f"concatenated")
    first = tuple(tensors[0].shape)
    for number, t in enumerate(tensors[1:], start=1):
        shape = tuple(t.shape)
        if len(shape) != len(first):
            raise RuntimeError(f"Tensors must have same number of dimensions: got "
                               f"{len(first)} and {len(shape)}")
        axis = _dim(dim, len(first), "cat")
        for d, (want, got) in enumerate(zip(first, shape, strict=True)):
            if d != axis and want != got:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {axis}. "
                                   f"Expected size {want} but got size {got} for tensor "
                                   f"number {number} in the list.")


def _check_stack(*args: Any) -> None:
    """PyTorch's RuntimeError for tensors of different shapes (the last argument is dim)."""
    first = list(args[0].shape)
    for entry, t in enumerate(args[1:-1], start=1):
        if list(t.shape) != first:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {first} "
                               f"at entry 0 and {list(t.shape)} at entry {entry}")


#: joined on the host where the backend is the CPU (see ``_join_values``)


def _join_values(name: str, on_host: Callable[..., Any], on_device: Callable[..., Any],
                 tensors: list[Tensor], dim: int, check: Callable[..., None]) -> Tensor | None:
    """``cat`` or ``stack`` (``name``; ``on_host``/``on_device`` its numpy and jax forms)
    of tensors that are all values already, none requiring grad, of one dtype, done at
    once and returned as one value; else None.

    A replay buffer's or a list's tensors joined each step (``torch.cat(batch.state)``)
    would otherwise each be an input of the step, so that the step's program changed
    with how many were joined and which of them were the same tensor, and compiled
    again nearly every step.
    """
    if len(tensors) < 2:
        return None
    dtype, ndim = tensors[0]._cell.aval[1], len(tensors[0]._cell.aval[0])
    if ndim == 0:  # cat refuses scalars: the recorded path raises PyTorch's error
        return None
    for t in tensors:
        cell = t._cell
        if t._kind != CONST or cell.rg or cell.aval[1] != dtype or len(cell.aval[0]) != ndim:
            return None
    if any(t._cell.val is None for t in tensors):
        if all(t._cell.val is None for t in tensors):
            return None  # all recorded (attention heads under no_grad): one more node
        # one still recorded (the newest transition's state): computed now, if no
        # graph a later backward needs is pending
        _compiler.maybe_flush()
        if any(t._cell.val is None for t in tensors):
            return None
    check(*tensors, dim)
    values = [t._cell.val for t in tensors]
    axis = _dim(dim, ndim + (name == "stack"), name)
    small = np.sum([v.size for v in values]) <= HOST_VALUE_ELEMENTS
    if all(type(v) is np.ndarray for v in values) or (jax.default_backend() == "cpu" and small):
        # small values on the CPU: jax would compile a concatenate for each new shape (a
        # sampled sequence one token longer each step)
        return _wrap_value(on_host([np.asarray(v) for v in values], axis=axis))
    return _wrap_value(on_device(values, axis=axis))


def cat(tensors: Any, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """PyTorch equivalent: ``torch.cat`` (``axis=`` is ``dim=``, default 0)."""
    tensors = tensor_sequence(tensors, "cat")
    dim = _axis("cat", dim, axis) or 0
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")  # PyTorch's type
    joined = _join_values("cat", np.concatenate, jnp.concatenate, tensors, dim, _check_cat)
    if joined is not None:
        return joined
    return _op(_cat, (dim,), *tensors, check=_check_cat, who="cat")


concat = cat


def stack(tensors: Any, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """PyTorch equivalent: ``torch.stack`` (``axis=`` is ``dim=``, default 0)."""
    tensors = tensor_sequence(tensors, "stack")
    dim = _axis("stack", dim, axis) or 0
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    joined = _join_values("stack", np.stack, jnp.stack, tensors, dim, _check_stack)
    if joined is not None:
        return joined
    return _op(_stack, (dim,), *tensors, check=_check_stack, who="stack")


def where(condition: Tensor, x: Any, y: Any) -> Tensor:
    """PyTorch equivalent: ``torch.where(condition, x, y)`` (a 0-dim ``x`` or ``y``
    promotes as an arithmetic operand does)."""
    if isinstance(condition, Tensor) and condition.dtype.np not in (np.bool_, np.uint8):
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a "
                           f"tensor with dtype {_dtypes.scalar_name(condition.dtype)}")
    if isinstance(x, Tensor):
        return _op(_where, (), condition, *_operands(x, y))
    return _op(_where, (), condition, _scalar_or_tensor(x), _scalar_or_tensor(y))


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """PyTorch equivalent: ``torch.flatten`` (``start_dim`` defaults to 0)."""
    return tensor_argument(input, "flatten", "input", 1).flatten(start_dim, end_dim)


def relu(input: Tensor) -> Tensor:
    return tensor_argument(input, "relu", "input", 1).relu()


def sigmoid(input: Tensor) -> Tensor:
    return tensor_argument(input, "sigmoid", "input", 1).sigmoid()


def tanh(input: Tensor) -> Tensor:
    return tensor_argument(input, "tanh", "input", 1).tanh()


def softmax(input: Tensor, dim: int | None = None, dtype: DTypeLike | None = None, *,
            axis: int | None = None) -> Tensor:
    """PyTorch equivalent: ``torch.softmax`` (``axis=`` is ``dim=``)."""
    return tensor_argument(input, "softmax", "input", 1).softmax(
        _axis("softmax", dim, axis), dtype=dtype)


def log_softmax(input: Tensor, dim: int | None = None, dtype: DTypeLike | None = None, *,
                axis: int | None = None) -> Tensor:
    """PyTorch equivalent: ``torch.log_softmax`` (``axis=`` is ``dim=``)."""
    return tensor_argument(input, "log_softmax", "input", 1).log_softmax(
        _axis("log_softmax", dim, axis), dtype=dtype)


#: the functions among :func:`_method`'s whose first operand PyTorch takes as a number too
#: (``torch.add(1.0, x)``); the others refuse anything but a tensor (``torch.exp(1.0)``)
_NUMBER_FIRST = frozenset(("add", "sub", "mul", "div", "pow"))


def _method(name: str) -> Callable[..., Any]:
    numbers_first = name in _NUMBER_FIRST

    def function(input: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(input, Tensor):
            if not (numbers_first and isinstance(input, int | float | complex)):
                tensor_argument(input, name, "input", 1)
            input = _as_tensor(input)
        return getattr(input, name)(*args, **kwargs)

    function.__name__ = name
    function.__doc__ = f"PyTorch equivalent: ``torch.{name}`` (same as ``Tensor.{name}``)."
    return function


argmax = _method("argmax")
argmin = _method("argmin")
max = _method("max")  # noqa: A001
min = _method("min")  # noqa: A001
sum = _method("sum")  # noqa: A001
mean = _method("mean")
std = _method("std")
var = _method("var")
prod = _method("prod")
exp = _method("exp")
log = _method("log")
sqrt = _method("sqrt")
abs = _method("abs")  # noqa: A001
sin = _method("sin")
cos = _method("cos")
square = _method("square")
clamp = _method("clamp")
clip = clamp
matmul = _method("matmul")
mm = _method("mm")
squeeze = _method("squeeze")
unsqueeze = _method("unsqueeze")
transpose = _method("transpose")
permute = _method("permute")
reshape = _method("reshape")
eq = _method("eq")
ne = _method("ne")
lt = _method("lt")
gt = _method("gt")
le = _method("le")
ge = _method("ge")
pow = _method("pow")  # noqa: A001
norm = _method("norm")
add = _method("add")
sub = _method("sub")
mul = _method("mul")
div = _method("div")
neg = _method("neg")


def _two_tensors(who: str, input: Any, other: Any) -> None:
    """PyTorch's TypeError unless ``input`` and ``other`` are tensors (no numbers)."""
    tensor_argument(input, who, "input", 1)
    tensor_argument(other, who, "other", 2)


def maximum(input: Tensor, other: Tensor) -> Tensor:
    """PyTorch equivalent: ``torch.maximum`` (two tensors; ``clamp`` takes a number)."""
    _two_tensors("maximum", input, other)
    return _op(jnp.maximum, (), *_operands(input, other))


def minimum(input: Tensor, other: Tensor) -> Tensor:
    """PyTorch equivalent: ``torch.minimum`` (two tensors; ``clamp`` takes a number)."""
    _two_tensors("minimum", input, other)
    return _op(jnp.minimum, (), *_operands(input, other))


def equal(input: Tensor, other: Tensor) -> bool:
    """Whether two tensors have the same shape and values. PyTorch equivalent:
    ``torch.equal``."""
    _two_tensors("equal", input, other)
    return tuple(input.shape) == tuple(other.shape) and bool((input == other).all())


def _type_name(value: Any) -> str:
    """A type's name as PyTorch's argument errors write it (``numpy.bool``, ``str``)."""
    kind = type(value)
    return kind.__name__ if kind.__module__ == "builtins" else \
        f"{kind.__module__}.{kind.__name__}"


def _close_arguments(who: str, input: Any, other: Any, rtol: Any, atol: Any,
                     equal_nan: Any) -> tuple[float, float]:
    """``(rtol, atol)`` as floats, after PyTorch's checks of ``isclose``'s arguments.

    Raises:
        TypeError: a non-tensor ``input`` or ``other``, a tolerance that is not a number,
            or a ``equal_nan`` that is not a bool (PyTorch's words).
        RuntimeError: the dtypes differ, or a tolerance is negative (or NaN).
    """
    _two_tensors(who, input, other)
    tolerances = []
    for name, value in (("rtol", rtol), ("atol", atol)):
        if isinstance(value, Tensor) and value.dim() == 0:
            value = value.item()
        if not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"{who}(): argument '{name}' must be float, not "
                            f"{_type_name(value)}")
        tolerances.append(float(value))
    if not isinstance(equal_nan, bool):
        raise TypeError(f"{who}(): argument 'equal_nan' must be bool, not "
                        f"{_type_name(equal_nan)}")
    if input.dtype != other.dtype:
        raise RuntimeError(f"{_dtypes.scalar_name(input.dtype)} did not match "
                           f"{_dtypes.scalar_name(other.dtype)}")
    for name, value in zip(("rtol", "atol"), tolerances, strict=True):
        if not value >= 0:
            raise RuntimeError(f"{name} must be greater than or equal to zero, but got "
                               f"{value:g}")
    return tolerances[0], tolerances[1]


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-5, atol: float = 1e-8,
             equal_nan: bool = False) -> bool:
    """Whether every element of ``input`` is close to ``other``'s (see :func:`isclose`).

    PyTorch equivalent: ``torch.allclose``.
    """
    rtol, atol = _close_arguments("allclose", input, other, rtol, atol, equal_nan)
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-5, atol: float = 1e-8,
            equal_nan: bool = False) -> Tensor:
    """Elementwise ``|input - other| <= atol + rtol * |other|`` (equal values, infinities
    included, are close; NaNs only with ``equal_nan``). ``input`` and ``other`` are tensors
    of one dtype, as PyTorch requires.

    PyTorch equivalent: ``torch.isclose``.
    """
    rtol, atol = _close_arguments("isclose", input, other, rtol, atol, equal_nan)
    if input.dtype == _dtypes.bool_:  # PyTorch subtracts bools as its default float dtype
        input, other = input.float(), other.float()
    error = (input - other).abs()  # as PyTorch: equal values (infinities too), or a finite error
    close: Tensor = (input == other) | (error.isfinite() & (error <= atol + rtol * other.abs()))
    return close | (input.isnan() & other.isnan()) if equal_nan else close
