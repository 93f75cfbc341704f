"""``fnnet.torch.Tensor``: a lazy tensor whose operations are recorded, not run.

Each operation appends a node to the current tape (see ``_graph``) and returns a tensor
holding a reference to its slot; the value is computed when it is needed (``item()``,
``numpy()``, printing, ``if t > 0:``) or at ``optimizer.step()``, by a compiled function
of the whole recorded step. Shapes and dtypes are known at once (inferred once per
structure), so ``x.shape`` and shape errors never wait for the computation.

Aliasing follows PyTorch where it matters for training code: ``detach()``, ``.data``
and ``state_dict()`` share storage (a :class:`~fnnet.torch._graph.Cell`) with the
parameter, so they see in-place updates and optimizer steps. Views with another shape
(``view``, ``reshape``, indexing) are copies.
"""

from __future__ import annotations

import builtins
import copy
import dis
import functools
import inspect
import math
import numbers
import sys
import typing
import warnings
import weakref
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, cast

import jax
import jax.numpy as jnp
import numpy as np

from fnnet.core.transfer import placed
from fnnet.nn import functional as fnf
from fnnet.torch import (
    _autograd,
    _compiler,
    _dtypes,
    _graph,
    _mixed_dtypes,
    _numpy_views,
    _strides,
    _value_checks,
    _views,
)
from fnnet.torch._graph import CONST, RG, VAR, Aval, Cell
from fnnet.torch._indexing import slice_parts, window_spec
from fnnet.torch._ops import (
    _abs,
    _all,
    _any,
    _argmax,
    _argmin,
    _astype,
    _clamp,
    _copy,
    _copy_into,
    _expand,
    _fill,
    _flatten,
    _getitem,
    _log_softmax,
    _masked_fill,
    _max,
    _max_dim,
    _mean,
    _min,
    _min_dim,
    _norm,
    _permute,
    _pow_scalar,
    _prod,
    _repeat,
    _reshape,
    _rpow_scalar,
    _setitem,
    _softmax,
    _squeeze,
    _std,
    _sum,
    _t,
    _transpose,
    _unsqueeze,
    _var,
    _window,
    _window_set,
    _zero,
    floor_divide,
    multiply,
    power,
    true_divide,
    view_check,
)
from fnnet.torch._recorder import current as _current_recorder
from fnnet.torch._tape import BORROWERS, ExpandedCell, version_of
from fnnet.torch.device import check_cuda, check_placement
from fnnet.torch.device import device as _device

_FLOATS = {np.dtype(t) for t in (np.float32, np.float64, np.float16, jnp.bfloat16)}
#: the element types whose results carry gradients: the floating ones and the complex ones
#: (``rfft(x).abs()`` backpropagates through the complex spectrum, as in PyTorch)
_DIFFERENTIABLE = _FLOATS | {np.dtype(np.complex64), np.dtype(np.complex128)}



class values_indices(tuple[Any, Any]):  # noqa: N801 - PyTorch's torch.return_types.<op>
    """The ``(values, indices)`` pair that ``max``/``min`` along a dim, ``sort``, ``topk``,
    ``median``, ``cummax`` and ``cummin`` return: a tuple with ``.values`` and ``.indices``
    that prints as PyTorch's ``torch.return_types.<op>``.

    Args:
        values: the values tensor.
        indices: the indices tensor, of the same shape.
        op: the operation's name, shown by ``repr`` (``torch.return_types.max(...)``).
    """

    values = property(lambda self: self[0], doc="The values tensor.")
    indices = property(lambda self: self[1], doc="The indices tensor.")
    _fields = ("values", "indices")
    op: str

    def __new__(cls, values: Any, indices: Any, op: str = "values_indices") -> values_indices:
        # the pair's class is named after its op, as PyTorch's (type(r).__name__ "topk")
        kind = _RETURN_TYPES.get(op, cls) if cls is values_indices else cls
        pair: values_indices = super().__new__(kind, (values, indices))
        pair.op = op
        return pair

    def __repr__(self) -> str:
        return f"torch.return_types.{self.op}(\nvalues={self[0]!r},\nindices={self[1]!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (values_indices, (self[0], self[1], self.op))


#: ``torch.return_types.<op>``: a subclass of values_indices per op that returns one
_RETURN_TYPES: dict[str, type[values_indices]] = {
    op: type(op, (values_indices,), {"__module__": "torch.return_types",
                                     "__qualname__": op})
    for op in ("max", "min", "sort", "topk", "median", "nanmedian", "mode", "kthvalue",
               "cummax", "cummin")}

_record = _graph.record
_new_cell = Cell.__new__
_new_tensor = object.__new__
_weakref = weakref.ref
_Method = TypeVar("_Method", bound=Callable[..., Any])
#: called with each new tensor while ``torch.profiler.profile(profile_memory=True)``
#: records (see ``fnnet.torch.profiler``); None otherwise
on_new_tensor: Callable[[Tensor], None] | None = None


def watch_new_tensors(hook: Callable[[Tensor], None] | None) -> None:
    """Sets :data:`on_new_tensor` (None: stop watching)."""
    global on_new_tensor
    on_new_tensor = hook


#: how many autocast regions are open (in any thread, enabled or not): while none is,
#: recording casts nothing (see ``fnnet.torch._autocast``)
autocast_regions = 0


def autocasting() -> bool:
    """Whether an autocast region is open somewhere (see :data:`autocast_regions`)."""
    return autocast_regions > 0


#: whether a tensor was ever made in inference mode: until then recording checks none for
#: the inference tensors autograd cannot save (see ``fnnet.torch._inference``)
inference_tensors_made = False


def note_inference_tensors() -> None:
    """Sets :data:`inference_tensors_made`."""
    global inference_tensors_made
    inference_tensors_made = True


def note_new_tensor(t: Tensor) -> None:
    """Reports ``t`` to :data:`on_new_tensor`, for tensors made outside this module."""
    if on_new_tensor is not None:
        on_new_tensor(t)


def note_leaf(t: Tensor) -> None:
    """Records ``t`` as the leaf that requires grad of its cell, so that another tensor
    of the cell made a leaf later (``p.detach().requires_grad_()``) gets a cell of its own
    (:func:`_leaf_elsewhere`)."""
    _LEAF_OF[t._cell] = weakref.ref(t)


def _wrap_slot(slot: int, aval: Aval, rg: bool) -> Tensor:
    """A tensor of recorded slot ``slot`` of the current tape (inlined: a hot path)."""
    tape = _current_recorder().tape
    cell = _new_cell(Cell)
    cell.val = None
    cell.owned = False
    cell.ref = slot
    cell.tape = cell.listed = tape
    cell.aval = aval
    cell.rg = rg
    tape.cells.append(_weakref(cell))
    t = _new_tensor(Tensor)
    t._cell = cell
    t._kind = RG if rg else CONST
    t.grad = t._view = t._hooks = t._data_version = None
    if on_new_tensor is not None:
        on_new_tensor(t)
    return t


def _dim(dim: int, ndim: int, who: str) -> int:
    """``dim`` as an index in ``[0, ndim)``, with PyTorch's errors for a bad one."""
    if not isinstance(dim, int | np.integer) or isinstance(dim, bool):
        raise TypeError(f"{who}(): argument 'dim' must be int, not {type(dim).__name__}")
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {dim})")
    return int(dim) % max(ndim, 1)


_SOFTMAX_CHECK, _LOG_SOFTMAX_CHECK = map(_value_checks.floating_kernel,
                                         ("softmax", "log_softmax"))
_EMPTY_MAX, _EMPTY_MIN, _EMPTY_ARGMAX, _EMPTY_ARGMIN = map(
    _value_checks.empty_reduction, ("max", "min", "argmax", "argmin"))


def _check_matmul(a: Any, b: Any) -> None:
    """PyTorch's RuntimeError for ``a @ b`` whose inner sizes (or batch sizes) differ, then
    for operands of two element types."""
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
        if isinstance(a, numbers.Number) or isinstance(b, numbers.Number):  # Python's error
            raise TypeError(f"unsupported operand type(s) for @: '{type(a).__name__}' and "
                            f"'{type(b).__name__}'")
        return
    if not (a.dim() and b.dim()):
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{a.dim()}D and {b.dim()}D")
    _check_matmul_sizes(a, b)
    _mixed_dtypes.check_matmul(a, b)


def _check_matmul_sizes(a: Tensor, b: Tensor) -> None:
    x, y = tuple(a.shape), tuple(b.shape)
    k, k2 = x[-1], y[0] if len(y) == 1 else y[-2]
    batch = math.prod(x[:-1])
    if len(y) <= 2:
        if k == k2:
            return
        if len(x) == len(y) == 1:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{k}] and src [{k2}] "
                               f"to have the same number of elements, but got {k} and {k2} "
                               f"elements respectively")
        if len(y) == 1:
            raise RuntimeError(f"size mismatch, got input ({batch}), mat ({batch}x{k}), "
                               f"vec ({k2})")
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({batch}x{k} and "
                           f"{k2}x{y[-1]})")
    mismatch = _graph.broadcast_mismatch([x[:-2], y[:-2]])
    if mismatch is not None:
        raise RuntimeError(mismatch)
    if k != k2:
        batches = math.prod(np.broadcast_shapes(x[:-2], y[:-2]))
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{batches}, {k}] but got: [{batches}, {k2}].")


def _op(op: Any, static: tuple[Any, ...], *inputs: Any, check: Any = None,
        who: Any = None) -> Tensor:
    """Records ``op(*inputs, *static)`` and returns its (lazy) result."""
    if autocast_regions:
        from fnnet.torch._autocast import cast_inputs

        inputs = cast_inputs(op, static, inputs)
    if inference_tensors_made:
        from fnnet.torch._inference import check_saved

        check_saved(op, inputs)
    first, avals, rg = _record(op, static, inputs, check, who)
    aval = avals[0]
    return _wrap_slot(first, aval, rg and aval[1] in _DIFFERENTIABLE)


def _op_multi(op: Any, static: tuple[Any, ...], *inputs: Any,
              who: Any = None) -> list[Tensor | None]:
    if autocast_regions:
        from fnnet.torch._autocast import cast_inputs

        inputs = cast_inputs(op, static, inputs)
    first, avals, rg = _graph.record(op, static, inputs, None, who)
    return [None if aval is None else
            _wrap_slot(first + i, aval, rg and aval[1] in _DIFFERENTIABLE)
            for i, aval in enumerate(avals)]


def _put_masked(x: Any, mask: Any, value: float) -> Any:
    """``x[mask] = value`` for a number: a masked fill, recorded as an op of its own so
    that its grad_fn is PyTorch's (IndexPutBackward0, not masked_fill_'s)."""
    return _masked_fill(x, mask, value)


def _put_where(mask: Any, value: Any, x: Any) -> Any:
    """``x[mask] = value`` for a tensor ``value`` broadcast over ``x``; an op of its own
    for PyTorch's grad_fn, as :func:`_put_masked`."""
    return jnp.where(mask, value, x)


def _wrap_value(value: Any, kind: int = CONST, owned: bool = False) -> Tensor:
    t = Tensor.__new__(Tensor)
    t._cell = Cell(value, owned=owned)
    t._kind = kind
    t.grad = t._view = t._hooks = t._data_version = None
    if kind == VAR:
        note_leaf(t)
    if on_new_tensor is not None:
        on_new_tensor(t)
    return t


def _as_tensor(value: Any, dtype: Any = None) -> Tensor:
    """``value`` (a tensor, number, nested list or array) as a tensor; a value from the
    host stays there, as ``torch.tensor``'s copy does, until a step reads it.

    Raises:
        TypeError: ``value`` is not numbers (text, None, a dict): refused before it is a
            tensor, whose value no compiled step could take.
    """
    if isinstance(value, Tensor):
        return value if dtype is None else value.to(dtype)
    host = _host(value, np.float32 if dtype is None else np.float64)
    if isinstance(host, jax.Array):
        return _wrap_value(_graph.as_array(host, dtype))
    array = np.asarray(host)
    if array.dtype.kind in "USOV":
        raise TypeError(f"expected a Tensor, a number or numbers, got "
                        f"{type(value).__name__}")
    return _wrap_value(_graph.to_canonical(array, dtype))


def _host(value: Any, floats: Any = np.float32) -> Any:
    """Nested lists/tuples of tensors and numbers as a numpy array (or the value); Python
    floats are read as ``floats`` (PyTorch's default dtype, or float64 where a dtype is
    asked for, so that ``tensor([0.1], dtype=torch.float64)`` is not rounded to float32
    on the way)."""
    if isinstance(value, (list, tuple)) and any(_has_tensor(v) for v in value):
        return np.stack([_entry(v, floats) for v in value])
    if isinstance(value, Tensor):
        return np.asarray(value._value())
    if isinstance(value, np.generic):  # a numpy scalar keeps its dtype (np.float64 too)
        return np.asarray(value)
    if isinstance(value, float) or (isinstance(value, (list, tuple)) and _has_float(value)):
        # a numpy float64 among Python floats makes them float64, as in PyTorch
        try:
            return np.asarray(value, dtype=np.float64 if _has_float(value, np.float64)
                              else floats)
        except TypeError:  # a complex number among them: PyTorch's complex dtype
            return np.asarray(value, dtype=_complex_of(floats))
    if isinstance(value, complex) or (_dtypes._X64 and isinstance(value, (list, tuple)) and
                                      _has_float(value, complex)):
        return np.asarray(value, dtype=_complex_of(floats))  # complex64, as PyTorch's
    if isinstance(value, (list, tuple)) and _holds_nothing(value):
        return np.asarray(value, dtype=floats)  # ``tensor([])`` is of the default dtype
    return value


def _holds_nothing(value: Any) -> builtins.bool:
    """Whether nested lists and tuples hold no number at all (``[]``, ``[[], []]``)."""
    return all(isinstance(v, (list, tuple)) and _holds_nothing(v) for v in value)


def _entry(value: Any, floats: Any) -> np.ndarray:
    """An entry of a nested list as a numpy array: a tensor there is read as the number
    it holds (``torch.tensor([loss_a, loss_b])``), as PyTorch reads it, so it must hold
    one."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError(_NOT_ONE_ELEMENT)
        return np.asarray(value._value()).reshape(())
    return np.asarray(_host(value, floats))


def _complex_of(floats: Any) -> Any:
    """The complex dtype of Python complex numbers read with ``floats`` as the float
    dtype."""
    return np.complex64 if floats is np.float32 else np.complex128


def _has_tensor(value: Any) -> bool:
    if isinstance(value, Tensor):
        return True
    return isinstance(value, (list, tuple)) and any(_has_tensor(v) for v in value)


def _has_float(value: Any, kind: type = float) -> bool:
    if isinstance(value, kind):
        return True
    return isinstance(value, (list, tuple)) and any(_has_float(v, kind) for v in value)


def _index_spec(index: Any) -> tuple[tuple[tuple[Any, ...], ...], list[Tensor]]:
    if not isinstance(index, tuple):
        index = (index,)
    spec: list[tuple[Any, ...]] = []
    tensors: list[Tensor] = []
    for item in index:
        if isinstance(item, Tensor) and item._cell.aval[:2] == ((), np.dtype(np.bool_)):
            item = builtins.bool(item._value())  # a 0-d mask: a Python bool's dimension
        if isinstance(item, slice):
            spec.append(("s", *slice_parts(item)))
        elif item is None:
            spec.append(("n",))
        elif item is Ellipsis:
            spec.append(("e",))
        elif isinstance(item, (bool, np.bool_)):
            if not item:
                raise NotImplementedError(
                    "fnnet.torch does not support indexing with False (a dimension of "
                    "size 0); index with None and slice that dimension to 0:0 instead")
            spec.append(("n",))  # True adds a dimension of size 1, as None does
        elif isinstance(item, (int, np.integer)):
            spec.append(("i", int(item)))
        elif not isinstance(item, (Tensor, list, tuple, range, np.ndarray, jax.Array)):
            raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and long "
                             f"or byte Variables are valid indices (got "
                             f"{type(item).__name__})")
        else:
            item = item if isinstance(item, Tensor) else _as_tensor(
                np.asarray(item, np.int64) if isinstance(item, (list, tuple)) and
                _holds_nothing(item) else np.asarray(item))
            if item._cell.aval[1].kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 "tensors")
            if item._cell.aval[1] == np.bool_:
                raise NotImplementedError(
                    "fnnet.torch does not support boolean mask indexing (its result has a "
                    "data-dependent shape, which cannot be compiled); use "
                    "torch.where(mask, x, 0) or x * mask instead")
            spec.append(("t",))
            tensors.append(item)
    return tuple(spec), tensors


#: numpy's kinds by PyTorch's casting order: an in-place result may not move up it
_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "V": 2, "c": 3}
#: the integer types as PyTorch's refusals of clamp_ and cauchy_ name them (C++'s names)
CPP_TYPE_NAMES = {"int64": "long int", "int32": "int", "int16": "short int",
                  "int8": "signed char", "uint8": "unsigned char", "bool": "bool"}


def host_value(t: Tensor) -> np.ndarray | None:
    """``t``'s values where the host holds them now (a tensor made from a list or numpy, a
    loader batch's host copy), else None: a check never waits for the device."""
    value = t._cell.val
    if type(value) is np.ndarray:
        return value
    return getattr(t._cell, "host", None)


def check_int_divisor(divisor: Any) -> None:
    """PyTorch's ``RuntimeError: ZeroDivisionError`` for an integer dividend and an integer
    ``divisor`` holding a zero that the host knows: a Python int, or a tensor whose values
    the host holds (see :func:`host_value`). A zero on the device (a computed tensor, any
    divisor inside a compiled step) is not looked for, since that would wait for the
    device: the quotient or remainder is then XLA's, with no error."""
    kind = type(divisor)
    if kind is int or kind is bool:
        if not divisor:
            raise RuntimeError("ZeroDivisionError")
    elif isinstance(divisor, Tensor) and divisor._cell.aval[1].kind in "iub":
        value = host_value(divisor)
        if value is not None and not value.all():
            raise RuntimeError("ZeroDivisionError")


def check_int_division(dividend: Any, divisor: Any) -> None:
    """:func:`check_int_divisor` where ``dividend`` is an integer (a Python int or bool,
    or a tensor of integers or bools)."""
    kind = type(dividend)
    if kind is int or kind is bool or (isinstance(dividend, Tensor)
                                       and dividend._cell.aval[1].kind in "iub"):
        check_int_divisor(divisor)


def host_index_outside(index: Tensor, size: int, negative: bool = False) -> int | None:
    """The first of ``index``'s values outside ``[0, size)`` (``[-size, size)`` where
    ``negative``) where the host holds them now (see :func:`host_value`), else None: the
    gathers and scatters of JAX would clamp or drop it silently."""
    value = host_value(index)
    if value is None or not value.size:
        return None
    bad = value[(value >= size) | (value < (-size if negative else 0))]
    return int(bad.reshape(-1)[0]) if bad.size else None


def _check_index_bounds(spec: tuple[tuple[Any, ...], ...], tensors: list[Tensor],
                        shape: tuple[int, ...]) -> None:
    """PyTorch's IndexError for an integer tensor index out of its dimension's range,
    where the index's values are on the host (JAX would clamp it silently). PyTorch
    numbers the dimension among those indexed by tensors."""
    if all(host_value(t) is None for t in tensors):
        return  # recorded indices (a loop's usual case): nothing to read now
    taken = sum(len(t.shape) if t._cell.aval[1] == np.bool_ else 1
                for t in tensors) + sum(kind in "is" for kind, *_ in spec)
    dim, indexed, found = 0, 0, iter(tensors)
    for kind, *_ in spec:
        if kind == "e":
            dim += len(shape) - taken
        elif kind in "is":
            dim += 1
        elif kind == "t":
            t = next(found)
            span = len(t.shape) if t._cell.aval[1] == np.bool_ else 1
            value = None if span != 1 or t._cell.aval[1] == np.bool_ else host_value(t)
            if value is not None and value.size and dim < len(shape):
                size = shape[dim]
                bad = value[(value >= size) | (value < -size)]
                if bad.size:
                    raise IndexError(f"index {int(bad.reshape(-1)[0])} is out of bounds for "
                                     f"dimension {indexed} with size {size}")
            dim, indexed = dim + span, indexed + span


def _shape_args(args: tuple[Any, ...]) -> tuple[int, ...]:
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    out = []
    for a in args:
        if isinstance(a, Tensor):
            a = a.item()
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"shape must be ints, got {type(a).__name__}")
        out.append(int(a))
    return tuple(out)


def _warn_degrees_of_freedom(tensor: Tensor, dim: Any, correction: Any, who: str) -> None:
    """PyTorch's warning for a variance over no more values than ``correction`` (a NaN
    or infinite result)."""
    shape = tensor._cell.aval[0]
    if dim is None:
        count = math.prod(shape)
    else:
        dims = dim if isinstance(dim, (list, tuple)) else (dim,)
        if any(not isinstance(d, int) or not -len(shape) <= d < len(shape) for d in dims):
            return  # the op raises PyTorch's error for the dim
        count = math.prod(shape[d] for d in dims)
    if count - correction <= 0:
        warnings.warn(f"{who}(): degrees of freedom is <= 0. Correction should be strictly "
                      f"less than the reduction factor (input numel divided by output "
                      f"numel).", UserWarning, stacklevel=3)


def _dims(dim: Any) -> Any:
    if isinstance(dim, list):
        return tuple(dim)
    return dim


def _numpy_names(method: _Method) -> _Method:
    """Lets ``method`` take numpy's ``axis=`` and ``keepdims=`` for ``dim=`` and
    ``keepdim=``, as PyTorch's reductions and shape ops do (typed as PyTorch's own
    signature, which names ``dim`` alone)."""
    name = method.__name__

    # the tensor is not a named parameter: a function's may be passed as input=
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            for alias, own in (("axis", "dim"), ("keepdims", "keepdim")):
                if alias in kwargs:
                    if own in kwargs:
                        raise TypeError(f"{name}() received both {own}= and its alias "
                                        f"{alias}=; pass one")
                    kwargs[own] = kwargs.pop(alias)
        return method(*args, **kwargs)

    return cast(_Method, wrapper)


def accept_numpy_names(namespace: dict[str, Any]) -> None:
    """Wraps every :class:`Tensor` method and every function of ``namespace`` whose
    signature names ``dim`` in :func:`_numpy_names`, as PyTorch's argument parser takes
    ``axis=`` for ``dim=`` everywhere (``A.cumsum(axis=0)``, ``torch.amax(x, axis=1)``).
    Called once, after every method is installed."""
    for holder, names in ((Tensor, list(vars(Tensor))), (namespace, list(namespace))):
        for name in names:
            if name.startswith("_"):
                continue
            fn = vars(Tensor)[name] if holder is Tensor else namespace[name]
            if not inspect.isfunction(fn) or hasattr(fn, "__wrapped__"):
                continue
            try:
                params = inspect.signature(fn).parameters
            except (TypeError, ValueError):
                continue
            # a function that hands its arguments to a method (``torch.cumsum``) too
            if ("dim" in params or "_method" in params) and "axis" not in params:
                if holder is Tensor:
                    setattr(Tensor, name, _numpy_names(fn))
                else:
                    namespace[name] = _numpy_names(fn)


class _GradientHooks:
    """A tensor's gradient hooks (``register_hook``) and whether it retains its gradient
    (``retain_grad``). A non-leaf's ``probe`` is the zeros leaf added to it, whose
    gradient is the tensor's; the probe's own hooks name their ``owner``."""

    __slots__ = ("hooks", "retain", "probe", "owner", "target", "post", "order")

    def __init__(self, owner: Tensor | None = None) -> None:
        self.hooks: dict[int, Callable[[Tensor], Tensor | None]] = {}
        #: a leaf's ``register_post_accumulate_grad_hook`` hooks, called with the leaf
        self.post: dict[int, Callable[[Tensor], None]] = {}
        self.retain = False
        self.probe: Tensor | None = None
        # the owner's hooks are kept by the probe, so that they run when the owner tensor
        # is gone (``x.register_hook(f); x = pool(x)``, as Grad-CAM writes it); the owner
        # itself only for its retained ``.grad``
        self.owner = None if owner is None else weakref.ref(owner)
        self.target = None if owner is None else owner._gradient_hooks()
        #: a probe's place in the recording (its owner's slot): hooks run latest first
        self.order = -1 if owner is None else owner._cell.ref

    def deliver(self, grad: Tensor) -> Tensor | None:
        """The gradient to add to this leaf's ``.grad`` after its hooks; None for a
        probe, whose gradient goes to its owner (``.grad`` if retained, and its hooks)."""
        if self.owner is None:
            for hook in list(self.hooks.values()):
                changed = hook(grad)
                if changed is not None:
                    grad = _as_tensor(changed)
            return grad
        hooks = self.target
        assert hooks is not None
        hooks.reached(self.owner(), grad)
        return None

    def reached(self, owner: Tensor | None, grad: Tensor) -> None:
        """Hands ``grad``, the gradient of the non-leaf ``owner`` (these its hooks), to
        its hooks and, where it retains it, to its ``.grad``."""
        for hook in list(self.hooks.values()):
            if hook(grad) is not None:
                raise NotImplementedError(
                    "fnnet.torch: a hook on a non-leaf tensor may read its gradient but not "
                    "replace it (the step computes every gradient in one program); change "
                    "a leaf's gradient with a hook on the leaf, or the values in forward")
        if self.retain and owner is not None:
            owner.grad = grad if owner.grad is None else owner.grad + grad


def _rsub(x: jax.Array, other: Any) -> jax.Array:
    """``other - x`` (``2 - t``), PyTorch's ``rsub``."""
    return jnp.subtract(other, x)


def _rdiv(x: jax.Array, other: Any) -> jax.Array:
    """``other / x`` (``1 / t``) as PyTorch computes it: ``x.reciprocal() * other``."""
    quotient: jax.Array = multiply(jnp.reciprocal(x), other)
    return quotient


_rsub.grad_fn_name = "RsubBackward1"  # type: ignore[attr-defined]
_rdiv.grad_fn_name = "MulBackward0"  # type: ignore[attr-defined]


#: the C++ names of element types in PyTorch's messages about assigned gradients
_CPP_NAMES = {"float32": "float", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
              "float64": "double", "int64": "long int", "int32": "int", "int16": "short int",
              "int8": "signed char", "uint8": "unsigned char", "bool": "bool"}


def _check_assigned_grad(tensor: Tensor, grad: Any) -> None:
    """PyTorch's errors for ``tensor.grad = grad`` of another type, shape or dtype."""
    if not isinstance(grad, Tensor):
        raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                        f"{type(grad).__name__}")
    shape, kind = tensor._cell.aval[:2]
    if tuple(grad._cell.aval[0]) != tuple(shape):
        raise RuntimeError(f"attempting to assign a gradient of size '{list(grad.shape)}' to a "
                           f"tensor of size '{list(tensor.shape)}'. Please ensure that the "
                           f"gradient and the tensor are the same size")
    if grad._cell.aval[1] != kind:
        raise RuntimeError(
            f"attempting to assign a gradient with dtype '{_CPP_NAMES[grad.dtype.name]}' to a "
            f"tensor with grad_dtype '{_dtypes.scalar_name(tensor.dtype)}'. The gradient must "
            f"match the tensor's grad_dtype (defaults to the tensor's dtype). You can set the "
            f"tensor's grad_dtype attribute with a specific dtype, or None to allow any dtype. "
            f"Set grad_dtype with caution. Diverging the dtypes of a tensor and its gradient "
            f"may break downstream systems that assume they match.")


def _int_scalar(index: Any) -> bool:
    """Whether ``index`` is a 0-d integer tensor (an int index to PyTorch)."""
    return isinstance(index, Tensor) and index.dim() == 0 and \
        np.dtype(index._cell.aval[1]).kind in "iu"


def _is_own_view(base: Tensor, index: Any, value: Any) -> bool:
    """Whether ``value`` is the view ``base[index]`` itself, as in ``x[i] += 1`` (Python
    assigns the view updated in place back to its place): PyTorch copies the view onto
    its own storage, which changes nothing, so nothing is recorded."""
    how = getattr(value, "_view", None) if isinstance(value, Tensor) else None
    if how is None or len(how.steps) != 1 or how.steps[0][0] != "index":
        return False
    if how.tensor() is not base or how.cell() is not base._cell:
        return False
    seen = how.steps[0][1]
    return _views.basic_index(index) and type(seen) is type(index) and seen == index


def _recorded_uses(cell: Cell) -> bool:
    """Whether a node recorded on the current tape (which a flush carries over while
    its graph may still be backpropagated) reads ``cell``'s slot."""
    if cell.tape is not _compiler.current().tape:
        return False
    slot = cell.ref
    return any(r >= 0 and r >> 2 == slot for node in reversed(cell.tape.nodes)
               if node.first > slot for r in node.inputs)


#: non-leaf tensors whose ``retain_grad()`` or ``register_hook()`` came after recorded
#: ops had read them (see :func:`_late_grads`), by id
_LATE: weakref.WeakValueDictionary[int, Tensor] = weakref.WeakValueDictionary()
#: the gradient hooks (``id`` of each tensor's :class:`_GradientHooks`) that the
#: ``backward()`` now delivering gradients hands one to: a module's backward hooks wait
#: for these alone (see :func:`delivering`)
_DELIVERING: set[int] = set()


def delivering() -> set[int] | None:
    """The ids of the gradient hooks that the ``backward()`` now running reaches, or None
    outside one (``torch.autograd.grad``...), where that is not known."""
    return _DELIVERING or None


#: those of them with hooks, held while their tape records: PyTorch keeps a hook with the
#: graph, so it runs also when the tensor is gone before backward (a module's backward
#: hooks watch its output after forward hooks that printed a value)
_LATE_HOOKED: dict[int, Tensor] = {}


def _keep_late(tensor: Tensor) -> None:
    for key, kept in list(_LATE_HOOKED.items()):
        if kept._cell.tape is not tensor._cell.tape:
            del _LATE_HOOKED[key]
    _LATE[id(tensor)] = _LATE_HOOKED[id(tensor)] = tensor


def _late_grads(root: Tensor, gradient: Tensor | None) -> list[tuple[Tensor, Tensor]]:
    """The gradients of ``root`` (with cotangent ``gradient``) with respect to the tensors
    whose ``retain_grad()`` or hooks came late (after their uses were recorded) and that
    ``root`` depends on, recorded as one node of the step; each ``(tensor, gradient)``.
    Tensors whose graph is gone (recorded on a previous step) are forgotten."""
    if not _LATE:
        _LATE_HOOKED.clear()
        return []
    tp = _graph.recording_tape()
    late = []
    for key, tensor in list(_LATE.items()):
        if tensor._cell.tape is not tp or tensor._kind != RG:
            del _LATE[key]
            _LATE_HOOKED.pop(key, None)
        else:
            late.append(tensor)
    if not late or root._kind != RG or root._cell.tape is not tp:
        return []
    from fnnet.torch.autograd.higher import grad_with_graph

    nodes, _ = _autograd.region(tp, _graph.ref(root._cell.ref, RG))
    owner, inside = tp.node_of_slot(), set(nodes)
    late = [t for t in late if owner[t._cell.ref] in inside]
    if not late:
        return []
    found = grad_with_graph(root, gradient, late)
    return [(t, g.detach()) for t, g in zip(late, found, strict=True) if g is not None]


@functools.lru_cache(maxsize=64)
def _probe_zeros(shape: tuple[int, ...], dtype: np.dtype) -> jax.Array:
    """Zeros of a probed tensor's shape, made once per shape on the device."""
    return jnp.zeros(shape, dtype)


def _add_probe(x: jax.Array, probe: jax.Array) -> jax.Array:
    return x + probe


@jax.custom_jvp
def _written(old: jax.Array, new: jax.Array) -> jax.Array:
    """``new``, with the gradient of ``old``: values written in place outside autograd
    (under ``no_grad``, through ``detach()``), which PyTorch's tensor takes while keeping
    its graph."""
    return new


@_written.defjvp
def _written_jvp(primals: tuple[jax.Array, jax.Array], tangents: tuple[jax.Array, jax.Array]
                 ) -> tuple[jax.Array, jax.Array]:
    return primals[1], tangents[0]


#: the tensor that made each cell a leaf through ``requires_grad`` (``_leaf_elsewhere``)
_LEAF_OF: weakref.WeakKeyDictionary[Cell, weakref.ref[Any]] = weakref.WeakKeyDictionary()


def _leaf_elsewhere(tensor: Any) -> bool:
    """Whether another tensor sharing ``tensor``'s cell is a leaf requiring grad already
    (made one through ``requires_grad``, or fed gradients by the recording tape)."""
    cell = tensor._cell
    known = _LEAF_OF.get(cell)
    other = known() if known is not None else None
    if other is not None and other is not tensor and other._kind == VAR and \
            other._cell is cell:
        return True
    tp = cell.tape
    owner = tp.var_owner.get(cell.ref) if tp is not None and \
        tp is _graph.recording_tape() else None
    return owner is not None and owner is not tensor and owner._cell is cell


#: PyTorch's warning for reading ``.grad`` of a non-leaf that does not retain it (its
#: build-specific "Triggered internally at ..." left out)
_NON_LEAF_GRAD = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
    "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
    "instead. See github.com/pytorch/pytorch/pull/30531 for more information.")

def _to_overloads(args: tuple[Any, ...]) -> str:
    """PyTorch's TypeError for ``Tensor.to`` called with ``args`` it has no form for (a
    numpy dtype, say, which it does not take for a torch dtype)."""
    def name(a: Any) -> str:
        if isinstance(a, (_dtypes.dtype, _device)):
            return f"torch.{type(a).__name__}"
        kind = type(a)
        return kind.__qualname__ if kind.__module__ == "builtins" or isinstance(a, Tensor) \
            else f"{kind.__module__}.{kind.__qualname__}"

    tail = ("bool non_blocking = False, bool copy = False, *, torch.memory_format "
            "memory_format = None)")
    return (f"to() received an invalid combination of arguments - got "
            f"({', '.join(name(a) for a in args)}), but expected one of:\n"
            f" * (torch.device device = None, torch.dtype dtype = None, {tail}\n"
            f" * (torch.dtype dtype, {tail}\n * (Tensor tensor, {tail}\n")


#: PyTorch's warning for ``x.T`` of a tensor that is not a matrix
_REVERSED_T = ("The use of `x.T` on tensors of dimension other than 2 to reverse their shape "
               "is deprecated and it will throw an error in a future release. Consider "
               "`x.mT` to transpose batches of matrices or "
               "`x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a "
               "tensor.")
#: float() and int() of a tensor of another size (item() raises its own RuntimeError)
_NOT_ONE_ELEMENT = "only one element tensors can be converted to Python scalars"
#: PyTorch's warning, once per process, for ``float()`` of a tensor that requires grad,
#: in grad mode
#: PyTorch's refusal of an in-place write with grad enabled to a view taken under
#: no_grad of a tensor that requires grad
_NO_GRAD_VIEW_WRITTEN = (
    "A view was created in no_grad mode and is being modified inplace with grad mode "
    "enabled. Given that this use case is ambiguous and error-prone, it is forbidden. You can "
    "clarify your code by moving both the view and the inplace either both inside the "
    "no_grad block (if you don't want the inplace to be tracked) or both outside (if you "
    "want the inplace to be tracked).")
_SCALAR_OF_GRAPH = ("Converting a tensor with requires_grad=True to a scalar may lead to "
                    "unexpected behavior.\nConsider using tensor.detach() first.")


class Tensor:
    """A lazy n-dimensional array with PyTorch's API. PyTorch: ``torch.Tensor``."""

    # __dict__ holds a program's own attributes, as PyTorch's tensors take them
    # (``param._no_weight_decay = True``); Python creates it only when one is set
    __slots__ = ("_cell", "_kind", "_grad", "_view", "_hooks", "_data_version", "_taken_from",
                 "__weakref__", "__dict__")
    _cell: Cell
    _kind: int  # CONST, RG or VAR: how a recorded op uses this tensor
    #: set only on ``y[mask]``'s result: where it was taken from (see ``_masking``)
    _taken_from: tuple[Any, ...]
    _grad: Tensor | None
    # None but on views (x[0], x.view(...), x.t()...: see _views) and on tensors with
    # gradient hooks; the constructors set both, so that reading them never falls back
    # to __getattr__ (read with getattr(t, name, None) where a tensor may come from
    # elsewhere)
    _view: _views.Link | None
    _hooks: _GradientHooks | None
    # the version counter of a ``.data`` tensor, which PyTorch keeps apart from that of
    # the tensor it came from; None (or unset) on every other tensor, whose counter is
    # its storage's (``Cell.version``)
    _data_version: int | None
    __array_priority__ = 1000
    #: whether a deep copy has the program's own attributes: a tensor's does in PyTorch,
    #: a Parameter's does not
    _deepcopy_keeps_attributes = True

    def __init__(self, *data: Any) -> None:
        # one torch.Size is a shape, as PyTorch reads it; any other one argument is data
        if len(data) == 1 and not isinstance(data[0], (int, np.integer, Size)):
            value = _graph.as_array(_host(data[0]), np.float32)
        else:  # sizes; ``torch.Tensor()`` is empty, as PyTorch's
            value = jnp.zeros(_shape_args(data) if data else (0,), jnp.float32)
        self._cell = Cell(value)
        self._kind = CONST
        self.grad = self._view = self._hooks = self._data_version = None

    # -- values -------------------------------------------------------------------
    def _value(self) -> Any:
        _current_recorder().reads += 1
        if self._view is not None and _views.stale(self):  # its root changed in place
            _views.refresh(self)
        cell = self._cell
        return cell.val if cell.val is not None else _compiler.materialize(cell)

    def item(self) -> Any:
        if self.numel() != 1:
            raise RuntimeError(f"a Tensor with {self.numel()} elements cannot be converted "
                               f"to Scalar")
        return np.asarray(self._value()).reshape(()).item()

    def numpy(self, *, force: builtins.bool = False) -> np.ndarray:
        """The values as a numpy array, which the tensor's later in-place writes update,
        as PyTorch's shared memory does (see ``_numpy_views``; a parameter's or a view's
        array is a copy, and writes to the array are not seen by the tensor).

        PyTorch equivalent: ``Tensor.numpy``."""
        if self._kind != CONST and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        out = np.array(self._value())
        if self._view is None and not self._cell.owned:  # kept in step with in-place writes
            _numpy_views.handed_out(self._cell, out)
        return out

    def tolist(self) -> Any:
        return np.asarray(self._value()).tolist()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = np.asarray(self._value())
        return out.astype(dtype) if dtype is not None else out

    def is_inference(self) -> bool:
        """Whether this tensor was made inside ``torch.inference_mode()``.

        PyTorch equivalent: ``Tensor.is_inference``."""
        from fnnet.torch._inference import is_inference

        return is_inference(self)

    def __array_wrap__(self, array: Any, context: Any = None,
                       return_scalar: bool = False) -> Tensor:
        """A numpy ufunc's result on a tensor (``np.exp(t)``, ``np.add(t, 1)``) as a tensor,
        as PyTorch's: a scalar result too, and bools as uint8, as PyTorch's wrap gives."""
        del context, return_scalar
        array = np.asarray(array)
        if array.dtype == np.bool_:
            array = array.astype(np.uint8)
        return _wrap_value(_graph.to_canonical(array))

    def __jax_array__(self) -> Any:
        return jnp.asarray(self._value())

    def __dlpack__(self, **kwargs: Any) -> Any:
        """The DLPack capsule of this tensor's value (``np.from_dlpack(t)``,
        ``jax.numpy.from_dlpack(t)``); the consumer must not write it."""
        return jnp.asarray(self._value()).__dlpack__(**kwargs)

    def __dlpack_device__(self) -> Any:
        value: Any = jnp.asarray(self._value())
        return value.__dlpack_device__()

    def __bool__(self) -> bool:
        count = self.numel()
        if count != 1:
            raise RuntimeError(f"Boolean value of Tensor with "
                               f"{'no values' if count == 0 else 'more than one value'} "
                               f"is ambiguous")
        return bool(self.item())

    def __float__(self) -> float:
        if self.numel() != 1:
            raise ValueError(_NOT_ONE_ELEMENT)
        if self.requires_grad:  # PyTorch warns where grad mode is on (not in LBFGS's step)
            rec = _current_recorder()
            warned = rec.warned
            if rec.grad_enabled and _SCALAR_OF_GRAPH not in warned:
                warned.add(_SCALAR_OF_GRAPH)
                warnings.warn(_SCALAR_OF_GRAPH, UserWarning, stacklevel=2)
        return float(self.item())

    def __int__(self) -> int:
        if self.numel() != 1:
            raise ValueError(_NOT_ONE_ELEMENT)
        return int(self.item())

    def __index__(self) -> int:
        if self._cell.aval[1].kind not in "iub":
            raise TypeError("only integer tensors of a single element can be converted to "
                            "an index")
        return int(self.item())

    def __repr__(self) -> str:
        from fnnet.torch._format import format_tensor

        return format_tensor(self)

    #: whether a 0-d tensor formats as its number (``f"{loss:.4f}"``): not a Parameter,
    #: which PyTorch formats as an object (its repr, or a TypeError for a spec)
    _formats_as_number = True

    def __format__(self, spec: str) -> str:
        if self.dim() == 0 and self._formats_as_number:
            return format(self.item(), spec)
        return object.__format__(self, spec)  # PyTorch's TypeError for a non-empty spec

    def __hash__(self) -> int:
        return id(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> Tensor:
        if not self.is_leaf:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the "
                "deepcopy protocol at the moment.  If you were attempting to deepcopy a "
                "module, this may be because of a torch.nn.utils.weight_norm usage, see "
                "https://github.com/pytorch/pytorch/pull/103001")
        out = _wrap_value(placed(self._value()), VAR if self._kind == VAR else CONST)
        out.__class__ = type(self)
        if self.grad is not None:
            out.grad = self.grad.__deepcopy__(memo)
        if self.__dict__ and type(self)._deepcopy_keeps_attributes:
            out.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return out

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (np.asarray(self._value()), self.requires_grad))

    # -- metadata -----------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._cell.aval[0])

    def size(self, dim: int | None = None) -> Any:
        shape = self._cell.aval[0]
        if dim is None:
            return Size(shape)
        try:
            return shape[dim]
        except (IndexError, TypeError):  # PyTorch's words for them below
            pass
        if not isinstance(dim, builtins.int | np.integer):
            raise TypeError(f"size(): argument 'dim' (position 1) must be int, not "
                            f"{type(dim).__name__}")
        if not shape:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        return shape[_dim(dim, len(shape), "size")]

    def dim(self) -> int:
        return len(self._cell.aval[0])

    ndim = property(dim)

    def numel(self) -> int:
        return math.prod(self._cell.aval[0])

    nelement = numel

    def __len__(self) -> int:
        shape = self._cell.aval[0]
        if not shape:
            raise TypeError("len() of a 0-d tensor")
        return shape[0]

    @property
    def dtype(self) -> _dtypes.dtype:
        return _dtypes.from_np(self._cell.aval[1])

    @property
    def device(self) -> Any:
        from fnnet.torch.device import current

        return current()  # JAX's default device: a GPU when JAX has one

    @property
    def is_cuda(self) -> bool:
        return bool(self.device.type == "cuda")

    def is_floating_point(self) -> bool:
        return self._cell.aval[1] in _FLOATS

    @property
    def requires_grad(self) -> bool:
        # a view taken under no_grad of a tensor that requires grad (w[0], w.t()) still
        # says so in PyTorch, which derives a view's flag from its base's
        return self._kind != CONST or (self._view is not None and self._view.kind != CONST)

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if not isinstance(value, builtins.bool):
            raise RuntimeError("requires_grad must be a bool")
        if self._kind == RG and not value:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. "
                               "If you want to use a computed variable in a subgraph that "
                               "doesn't require differentiation use var_no_grad = "
                               "var.detach().")
        if self._kind != RG:
            if value and inference_tensors_made:
                from fnnet.torch._inference import check_outside

                check_outside(self, requires_grad=True)
            if value and self._cell.aval[1] not in _DIFFERENTIABLE:
                raise RuntimeError("only Tensors of floating point dtype can require "
                                   "gradients")
            if value and self._kind == CONST and (self._cell.rg or _leaf_elsewhere(self)):
                # a second leaf made from one value (x.detach().requires_grad_() twice,
                # as jacobian then hessian do): PyTorch's two leaves get gradients of
                # their own, so this one gets a cell of its own rather than sharing the
                # first one's slot and .grad. So does a leaf made of a value computed
                # with grad (an adversarial input, x = x.detach().requires_grad_()): on
                # the shared cell, it kept that value's graph alive at every flush, and
                # the tape (holding the leaf for its gradient) kept the leaf
                if self._cell.val is not None:
                    fresh = Cell(self._cell.val)
                    BORROWERS.add(fresh)  # the same array: not donated while it holds it
                else:
                    fresh = _op(_copy, (), self)._cell
                self._cell, self._view = fresh, None
            self._kind = VAR if value else CONST
            if value:
                note_leaf(self)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if not isinstance(requires_grad, builtins.bool):  # PyTorch's argument check
            kind = type(requires_grad)
            name = kind.__name__ if kind.__module__ == "builtins" else \
                f"{kind.__module__}.{kind.__name__}"
            raise TypeError(f"requires_grad_(): argument 'requires_grad' (position 1) must "
                            f"be bool, not {name}")
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        return self._kind != RG

    @property
    def grad_fn(self) -> Any:
        if self._kind != RG:
            return None
        from fnnet.torch import _grad_fn

        return _grad_fn.of(self._cell)

    @property
    def data(self) -> Tensor:
        out = self.detach()
        out._data_version = 0  # a counter of its own: autograd does not see its writes
        return out

    @data.setter
    def data(self, value: Tensor) -> None:
        value = _as_tensor(value)
        if value._cell is self._cell:
            return  # ``p.data -= x``: the in-place op already wrote this tensor's value
        source = value._cell
        if source.val is None and source.tape is _current_recorder().tape:
            # a recorded value stays recorded (a manual update per parameter would
            # otherwise run a program each); a copy of its own, as the array below
            copied = _op(_copy, (), value.detach())._cell
            cell = Cell(aval=copied.aval, owned=self._cell.owned)
            _graph.bind(cell, copied.ref, copied.aval, False)
        else:
            cell = Cell(jnp.array(value._value(), copy=True), owned=self._cell.owned)
        if hasattr(self._cell, "version"):  # PyTorch's tensor keeps its version counter
            cell.version = version_of(self._cell)
        self._cell = cell

    @property
    def _version(self) -> builtins.int:
        """How many in-place writes this tensor's storage has seen (a view counts those
        of the tensor it views). PyTorch equivalent: ``Tensor._version``."""
        own: builtins.int | None = getattr(self, "_data_version", None)
        if own is not None:
            return own
        view = getattr(self, "_view", None)
        counter = None if view is None else view.cell()
        return version_of(self._cell if counter is None else counter)

    @property
    def T(self) -> Tensor:  # noqa: N802
        if self.dim() != 2:  # PyTorch's deprecation, once per process
            warned = _current_recorder().warned
            if _REVERSED_T not in warned:
                warned.add(_REVERSED_T)
                warnings.warn(_REVERSED_T, UserWarning, stacklevel=2)
        return self.permute(*reversed(range(self.dim())))

    # -- autograd -----------------------------------------------------------------
    def backward(self, gradient: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        if inputs is not None:
            from fnnet.torch.autograd.grad import backward_into

            backward_into(self, gradient, retain_graph, create_graph, inputs)
            return
        if create_graph:
            from fnnet.torch.autograd.higher import backward_with_graph

            backward_with_graph(self, None if gradient is None else _as_tensor(gradient))
            return
        if gradient is not None:
            gradient = _as_tensor(gradient)
        late = _late_grads(self, gradient)
        grads = _autograd.record_backward(self, gradient, retain_graph)
        recorder = _current_recorder()
        previous = recorder.grad_enabled
        recorder.grad_enabled = False
        try:
            # every gradient bound before any hook runs: a hook that reads a value
            # (g.item()) computes the tape, and with it the gradients still to come
            bound = [(leaf, _wrap_slot(slot, aval, False)) for leaf, slot, aval in grads]
            # the non-leaf tensors' hooks first, in PyTorch's order: the tensor recorded
            # last first (its engine runs the ready node of the highest sequence number
            # first), so that per-layer backward hooks run from the loss back
            watched: list[tuple[int, _GradientHooks, Tensor | None, Tensor]] = [
                (t._cell.ref, t._gradient_hooks(), t, g) for t, g in late]
            leaves = []
            for leaf, new in bound:
                hooks = getattr(leaf, "_hooks", None)
                if hooks is not None and hooks.owner is not None:
                    watched.append((hooks.order, hooks, None, new))
                else:
                    leaves.append((leaf, new))
            _DELIVERING.update(id(h if t is not None else h.target) for _, h, t, _ in watched)
            try:
                for _, hooks, tensor, g in sorted(watched, key=lambda w: -w[0]):
                    if tensor is None:
                        hooks.deliver(g)
                    else:
                        hooks.reached(tensor, g)
            finally:
                _DELIVERING.clear()
            for leaf, new in leaves:
                hooks = getattr(leaf, "_hooks", None)
                if hooks is not None:
                    delivered = hooks.deliver(new)
                    if delivered is None:
                        continue
                    new = delivered
                if leaf.grad is None:
                    leaf.grad = new
                elif isinstance(leaf.grad, Tensor):
                    leaf.grad.add_(new)
                if hooks is not None:
                    for post in list(hooks.post.values()):
                        post(leaf)
        finally:
            recorder.grad_enabled = previous

    def detach(self) -> Tensor:
        if self._view is not None and _views.stale(self):  # the alias shares fresh values
            _views.refresh(self)
        out = Tensor.__new__(Tensor)
        out._cell = self._cell
        out._kind = CONST
        out.grad = out._hooks = out._data_version = None
        out._view = None if self._view is None else _views.detached(self._view, CONST)
        return out

    def detach_(self) -> Tensor:
        if self._view is not None:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using "
                "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is "
                "set as True, gradients are views of DDP buckets, and hence detach_() cannot "
                "be called on these gradients. To fix this error, please refer to the "
                "Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution.")
        if self._kind == RG:
            self._kind = CONST
        return self

    def retain_grad(self) -> None:
        """Keeps this non-leaf tensor's gradient in ``.grad`` at ``backward()`` (a leaf
        keeps its own already), also where it comes after the forward pass that used the
        tensor (``layer.out.retain_grad()`` for each layer before ``loss.backward()``).

        Raises:
            RuntimeError: the tensor does not require grad (PyTorch's error).
        """
        if self._kind == CONST:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._kind == RG:
            hooks = self._gradient_hooks()
            if hooks.probe is None and _recorded_uses(self._cell):
                # PyTorch keeps the gradient of every use, also those recorded before the
                # call (a forward pass, then retain_grad() on its activations): a probe
                # added now would see none of them, so backward() differentiates with
                # respect to the recorded value itself
                hooks.retain = True
                _LATE[id(self)] = self
                return
            self._probed().retain = True

    @property
    def grad(self) -> Tensor | None:
        """The gradient ``backward()`` accumulated: a leaf's, or a non-leaf's that
        ``retain_grad()`` keeps; reading a non-leaf's otherwise warns, as PyTorch does."""
        if self._kind == RG:
            hooks = self._hooks
            if hooks is None or not hooks.retain:
                warnings.warn(_NON_LEAF_GRAD, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            _check_assigned_grad(self, value)
        self._grad = value

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> Any:
        """Calls ``hook(grad)`` with this tensor's gradient at each ``backward()``.

        On a leaf, what the hook returns (unless None) replaces the gradient added to
        ``.grad``. On a non-leaf, the hook sees the tensor's gradient (Grad-CAM's
        activations' gradients), also where the hook came after the tensor's uses were
        recorded; it may store or print it but not change it, as the step computes
        every gradient in one program.

        Returns:
            A handle whose ``remove()`` drops the hook.
        """
        self._check_hook(hook, "register_hook")
        from fnnet.torch._hooks import RemovableHandle

        hooks = self._gradient_hooks()
        if self._kind == RG:
            if hooks.probe is None and _recorded_uses(self._cell):
                _keep_late(self)  # see retain_grad()
            else:
                hooks = self._probed()
        handle = RemovableHandle(hooks.hooks)
        hooks.hooks[handle.id] = hook
        return handle

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> Any:
        """Calls ``hook(tensor)`` after each ``backward()`` has added to this leaf's
        ``.grad`` (an optimizer step per parameter during backward, PyTorch's "optimizer
        step in backward" recipe).

        Returns:
            A handle whose ``remove()`` drops the hook.
        """
        if self._kind == RG:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        self._check_hook(hook, "register_post_accumulate_grad_hook")
        from fnnet.torch._hooks import RemovableHandle

        hooks = self._gradient_hooks()
        handle = RemovableHandle(hooks.post)
        hooks.post[handle.id] = hook
        return handle

    def _check_hook(self, hook: Any, who: str) -> None:
        """PyTorch's errors for a hook on a tensor without gradient, and a TypeError for
        a hook that is not callable."""
        if self._kind == CONST:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        if not callable(hook):
            raise TypeError(f"{who}: hook must be callable, got {type(hook).__name__}")

    def _gradient_hooks(self) -> _GradientHooks:
        hooks: _GradientHooks | None = getattr(self, "_hooks", None)
        if hooks is None:
            hooks = self._hooks = _GradientHooks()
        return hooks

    def _probed(self) -> _GradientHooks:
        """This non-leaf's hooks, a zeros leaf (the probe) added to it on first use: the
        probe's gradient, computed with the leaves', is this tensor's."""
        hooks = self._gradient_hooks()
        if hooks.probe is None:
            shape, dtype, _ = self._cell.aval
            probe = _wrap_value(_probe_zeros(shape, np.dtype(dtype)), VAR)
            probe._hooks = _GradientHooks(owner=self)
            self._cell = _op(_add_probe, (), self, probe)._cell
            hooks.probe = probe
        return hooks

    # -- conversions ----------------------------------------------------------------
    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """This tensor in another dtype: ``to(dtype)``, ``to(device, dtype)``,
        ``to(other)`` (``other``'s dtype), or keywords. The device is checked (see
        ``fnnet.torch.device.check_placement``) but the array stays where JAX placed it;
        ``non_blocking``, ``copy`` and ``memory_format`` are accepted.

        PyTorch equivalent: ``torch.Tensor.to``.
        """
        dtype = kwargs.pop("dtype", None)
        dev = kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        copy = kwargs.pop("copy", False)
        kwargs.pop("memory_format", None)  # XLA chooses layouts (fnnet.torch._memory_format)
        if kwargs:
            raise NotImplementedError(f"fnnet.torch: Tensor.to() does not support "
                                      f"{sorted(kwargs)}")
        flags = 0
        for a in args:
            if isinstance(a, _dtypes.dtype):
                dtype = a
            elif isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, (str, int, _device)) and not isinstance(a, bool):
                dev = a
            elif isinstance(a, bool):  # non_blocking, then copy
                flags += 1
                copy = copy or (a and flags == 2)
            elif not isinstance(a, float) and a is not None:  # np.float16...
                raise TypeError(_to_overloads(args))
        check_placement(dev)
        out = self if dtype is None else self._cast_to(dtype)
        return _op(_copy, (), self) if copy and out is self else out

    def cpu(self) -> Tensor:
        return self

    def cuda(self, device: Any = None, non_blocking: bool = False, **kwargs: Any) -> Tensor:
        """This tensor, once the CUDA device (``"cuda"`` unless ``device``) is checked as
        :meth:`to` checks it. PyTorch equivalent: ``torch.Tensor.cuda``."""
        check_cuda(device)
        return self

    def _cast(self, np_dtype: Any) -> Tensor:
        if self._cell.aval[1] == np_dtype:
            return self
        return _op(_astype, (np.dtype(np_dtype),), self)

    def _cast_to(self, dtype: _dtypes.dtype) -> Tensor:
        """This tensor as ``dtype``: itself where it has that dtype, as PyTorch returns
        it, else a new tensor; a copy where ``dtype`` is a 64-bit type held in 32 bits
        (``x.double()`` without JAX's 64-bit mode: PyTorch's result is a copy, never an
        alias of ``x``)."""
        out = self._cast(_dtypes.to_np(dtype))
        if out is self and type(dtype) is _dtypes.Held32:
            return _op(_copy, (), self)
        return out

    def type(self, dtype: Any = None, non_blocking: builtins.bool = False) -> Any:
        if dtype is None:
            name = _dtypes.SCALAR_NAMES.get(self.dtype.name)
            return "torch.Tensor" if name is None else f"torch.{name}Tensor"
        from fnnet.torch._typed import dtype_of

        return self.to(dtype_of(dtype))

    # the casts take PyTorch's memory_format and drop it: XLA lays arrays out itself
    def float(self, memory_format: Any = None) -> Tensor:
        return self._cast(np.dtype(np.float32))

    def double(self, memory_format: Any = None) -> Tensor:
        return self._cast_to(_dtypes.float64)

    def half(self, memory_format: Any = None) -> Tensor:
        return self._cast(np.dtype(np.float16))

    def long(self, memory_format: Any = None) -> Tensor:
        return self._cast(_dtypes.to_np(_dtypes.int64))

    def int(self, memory_format: Any = None) -> Tensor:
        out = self._cast(np.dtype(np.int32))
        # without x64 an integer tensor is torch.int64, whose int() PyTorch copies
        return _op(_copy, (), self) if out is self and not _dtypes.X64 else out

    def bool(self, memory_format: Any = None) -> Tensor:
        return self._cast(np.dtype(np.bool_))

    def type_as(self, other: Tensor) -> Tensor:
        return self._cast(other._cell.aval[1])

    def clone(self, **kwargs: Any) -> Tensor:
        return _op(_copy, (), self)

    def contiguous(self, **kwargs: Any) -> Tensor:
        return self

    # -- shape ----------------------------------------------------------------------
    def view(self, *shape: Any, size: Any = None) -> Tensor:
        if size is not None:  # PyTorch's keyword: view(size=(2, 3))
            shape = (size,)
        if len(shape) == 1 and isinstance(shape[0], _dtypes.dtype):
            raise NotImplementedError("fnnet.torch does not support view(dtype)")
        shape = _shape_args(shape)
        out = _op(_reshape, (shape,), self, check=view_check)
        if getattr(self, "_view", None) is not None and \
                _strides._view(tuple(self.shape), _strides.strides(self), tuple(out.shape)) is None:
            # a transpose or a strided slice whose memory no view of that shape spans
            raise RuntimeError("view size is not compatible with input tensor's size and "
                               "stride (at least one dimension spans across two contiguous "
                               "subspaces). Use .reshape(...) instead.")
        return _views.link_reshape(out, self)

    def reshape(self, *sizes: Any, shape: Any = None) -> Tensor:
        shape = _shape_args(sizes if shape is None else (shape,))
        # a view where PyTorch's strides allow one (an in-place op on it writes through)
        return _views.link_reshape(_op(_reshape, (shape,), self, check=view_check), self)

    def view_as(self, other: Tensor) -> Tensor:
        return self.view(*other.shape)

    reshape_as = view_as

    def flatten(self, start_dim: builtins.int = 0, end_dim: builtins.int = -1) -> Tensor:
        _dim(start_dim, self.dim(), "flatten"), _dim(end_dim, self.dim(), "flatten")
        return _views.link_reshape(_op(_flatten, (start_dim, end_dim), self, who="flatten"),
                                   self)

    @_numpy_names
    def squeeze(self, dim: builtins.int | tuple[builtins.int, ...] | None = None) -> Tensor:
        if isinstance(dim, (tuple, list)):  # PyTorch takes several dims (a list too)
            dim = tuple(_dim(d, self.dim(), "squeeze") for d in dim)
        return _views.link_reshape(_op(_squeeze, (dim,), self, who="squeeze"), self)

    @_numpy_names
    def unsqueeze(self, dim: builtins.int) -> Tensor:
        return _views.link_reshape(_op(_unsqueeze, (dim,), self, who="unsqueeze"), self)

    def permute(self, *order: Any, dims: Any = None) -> Tensor:
        dims = _shape_args(order if dims is None else (dims,))
        if len(dims) != self.dim():
            raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input "
                               f"does not match the length of the desired ordering of "
                               f"dimensions i.e. input.dim() = {self.dim()} is not equal to "
                               f"len(dims) = {len(dims)}")
        if len({_dim(d, self.dim(), "permute") for d in dims}) != len(dims):
            raise RuntimeError("permute(): duplicate dims are not allowed.")
        out = _op(_permute, (dims,), self, who="permute")
        return _views.link_permute(out, self, tuple(d % max(self.dim(), 1) for d in dims))

    def transpose(self, dim0: builtins.int, dim1: builtins.int) -> Tensor:
        _dim(dim0, self.dim(), "transpose"), _dim(dim1, self.dim(), "transpose")
        out = _op(_transpose, (dim0, dim1), self, who="transpose")
        order = list(range(self.dim()))
        if order:
            a, b = dim0 % self.dim(), dim1 % self.dim()
            order[a], order[b] = order[b], order[a]
        return _views.link_permute(out, self, tuple(order))

    def t(self) -> Tensor:
        if self.dim() > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                               f"{self.dim()}D")
        out = _op(_t, (), self, who="t")
        return _views.link_permute(out, self, tuple(reversed(range(self.dim()))))

    def expand(self, *sizes: Any, size: Any = None) -> Tensor:
        shape = _shape_args(sizes if size is None else (size,))
        out = _op(_expand, (shape,), self, check=_value_checks.check_expand, who="expand")
        before, after = self._cell.aval[0], out._cell.aval[0]
        lead = len(after) - len(before)
        if any(size > 1 and (i < lead or before[i - lead] == 1) for i, size in
               enumerate(after)):
            out._cell.__class__ = ExpandedCell  # PyTorch's repeats elements of one memory
        return _views.link_expand(out, self)

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(*other.shape)

    def repeat(self, *reps: Any, repeats: Any = None) -> Tensor:
        counts = _shape_args(reps if repeats is None else (repeats,))
        return _op(_repeat, (counts,), self, check=_value_checks.check_repeat, who="repeat")

    def __getitem__(self, index: Any) -> Tensor:
        window = window_spec(index, self._cell.aval[0])
        if window is not None:
            out = _op(_window, (window[0],), self, *window[1], who="index")
        else:
            spec, tensors = _index_spec(index)
            _check_index_bounds(spec, tensors, self._cell.aval[0])
            out = _op(_getitem, (spec,), self, *tensors, who="index")
        return _views.link_index(out, self, index) if _views.basic_index(index) else out

    def __setitem__(self, index: Any, value: Any) -> None:
        if _is_own_view(self, index, value):
            return  # ``N[i, j] += 1``: the view already wrote its new values to self
        if self._kind == VAR and _current_recorder().grad_enabled and index is not ... and \
                (_views.basic_index(index) or _int_scalar(index)):
            # PyTorch writes through the view ``self[index]`` (a 0-d integer tensor
            # indexes as an int there); ``x[...]`` and copying indices write to self
            raise RuntimeError("a view of a leaf Variable that requires grad is being used "
                               "in an in-place operation.")
        if isinstance(index, Tensor) and index._cell.aval[1] == np.bool_ and \
                tuple(index.shape) == tuple(self.shape):
            # x[mask] = v keeps x's shape, so it compiles (unlike reading x[mask])
            self._inplace(_op(_put_masked, (), self, index, builtins.float(value))
                          if isinstance(value, (int, float)) else
                          _op(_put_where, (), index, _scalar_or_tensor(value), self),
                          overlap_ok=True)
            return
        window = window_spec(index, self._cell.aval[0])
        if window is not None:  # x[i * 64:(i + 1) * 64] = v: the offsets are inputs
            self._inplace(_op(_window_set, (window[0],), self, _scalar_or_tensor(value),
                              *window[1], who="index assignment"), overlap_ok=True)
            return
        spec, tensors = _index_spec(index)
        _check_index_bounds(spec, tensors, self._cell.aval[0])
        self._inplace(_op(_setitem, (spec,), self, _scalar_or_tensor(value), *tensors,
                          who="index assignment"), overlap_ok=True)

    def __iter__(self) -> Iterator[Tensor]:
        if self.dim() == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self)))

    # -- arithmetic -------------------------------------------------------------------
    def __add__(self, other: Any) -> Tensor:
        return _op(jnp.add, (), *_operands(self, other))

    def __radd__(self, other: Any) -> Tensor:
        if isinstance(other, str):  # "loss: " + loss: Python's own TypeError, as PyTorch's
            return NotImplemented
        x, y = _operands(self, other)
        return _op(jnp.add, (), y, x)

    def __sub__(self, other: Any) -> Tensor:
        return _op(jnp.subtract, (), *_operands(self, other), check=_no_bool_subtraction)

    def __rsub__(self, other: Any) -> Tensor:
        return _op(_rsub, (), *_operands(self, other), check=_no_bool_subtraction)

    def __mul__(self, other: Any) -> Tensor:
        return _op(multiply, (), *_operands(self, other))

    def __rmul__(self, other: Any) -> Tensor:
        x, y = _operands(self, other)
        return _op(multiply, (), y, x)

    def __truediv__(self, other: Any) -> Tensor:
        return _op(true_divide, (), *_operands(self, other))

    def __rtruediv__(self, other: Any) -> Tensor:
        x, y = _operands(self, other)
        if not self.is_floating_point():  # ``1 / tensor([2])``: a float result
            return _op(true_divide, (), y, x)
        return _op(_rdiv, (), x, y)

    def __floordiv__(self, other: Any) -> Tensor:
        if self._cell.aval[1].kind in "iub":
            check_int_divisor(other)
        return _op(floor_divide, (), *_operands(self, other))

    def __rfloordiv__(self, other: Any) -> Tensor:
        check_int_division(other, self)
        x, y = _operands(self, other)
        return _op(floor_divide, (), y, x)

    def __mod__(self, other: Any) -> Tensor:
        if self._cell.aval[1].kind in "iub":
            check_int_divisor(other)
        return _op(jnp.remainder, (), *_operands(self, other))

    def __rmod__(self, other: Any) -> Tensor:
        check_int_division(other, self)
        x, y = _operands(self, other)
        return _op(jnp.remainder, (), y, x)

    def __pow__(self, other: Any) -> Tensor:
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            if isinstance(other, int) and other < 0 and self._cell.aval[1].kind in "iub":
                raise RuntimeError("Integers to negative integer powers are not allowed.")
            if isinstance(other, float) and not (2 * other).is_integer() and \
                    self._cell.aval[1] in (np.float32, np.float64):
                # an exponent that is no multiple of 1/2 is an input of the step, not part
                # of its structure: one annealed step by step (a focal loss's gamma)
                # compiles once; integers and halves stay static, for x ** 2 of negative
                # x and the exact squares and square roots PyTorch computes for them
                return _op(_pow_scalar, (), self, other)
            return _op(_pow_scalar, (other,), self)
        return _op(power, (), *_operands(self, other))

    def __rpow__(self, other: Any) -> Tensor:
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return _op(_rpow_scalar, (other,), self)
        x, y = _operands(self, other)
        return _op(power, (), y, x)

    def __matmul__(self, other: Any) -> Tensor:
        return _op(fnf.matmul, (), self, _scalar_or_tensor(other), check=_check_matmul,
                   who="matmul")

    def __rmatmul__(self, other: Any) -> Tensor:
        return _op(fnf.matmul, (), _scalar_or_tensor(other), self, check=_check_matmul,
                   who="matmul")

    def __neg__(self) -> Tensor:
        return _op(jnp.negative, (), self, check=_no_bool_negation)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _op(_abs, (), self)

    def __invert__(self) -> Tensor:
        return _op(jnp.invert, (), self)

    def __and__(self, other: Any) -> Tensor:
        return _op(jnp.bitwise_and, (), self, _scalar_or_tensor(other))

    def __or__(self, other: Any) -> Tensor:
        return _op(jnp.bitwise_or, (), self, _scalar_or_tensor(other))

    def __xor__(self, other: Any) -> Tensor:
        return _op(jnp.bitwise_xor, (), self, _scalar_or_tensor(other))

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        other = _comparand(other)
        if other is NotImplemented:
            return NotImplemented
        return _op(jnp.equal, (), self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        other = _comparand(other)
        if other is NotImplemented:
            return NotImplemented
        return _op(jnp.not_equal, (), self, other)

    def __lt__(self, other: Any) -> Tensor:
        return _op(jnp.less, (), self, _scalar_or_tensor(other))

    def __le__(self, other: Any) -> Tensor:
        return _op(jnp.less_equal, (), self, _scalar_or_tensor(other))

    def __gt__(self, other: Any) -> Tensor:
        return _op(jnp.greater, (), self, _scalar_or_tensor(other))

    def __ge__(self, other: Any) -> Tensor:
        return _op(jnp.greater_equal, (), self, _scalar_or_tensor(other))

    def add(self, other: Any, *, alpha: builtins.float = 1) -> Tensor:
        """``self + alpha * other``. PyTorch equivalent: ``Tensor.add``."""
        return self.__add__(other if alpha == 1 else other * alpha)

    def sub(self, other: Any, *, alpha: builtins.float = 1) -> Tensor:
        """``self - alpha * other``. PyTorch equivalent: ``Tensor.sub``."""
        return self.__sub__(other if alpha == 1 else other * alpha)

    mul = __mul__
    div = __truediv__
    matmul = __matmul__
    eq = __eq__
    ne = __ne__
    lt = __lt__
    le = __le__
    gt = __gt__
    ge = __ge__
    neg = __neg__
    abs = __abs__
    def pow(self, exponent: Any) -> Tensor:
        return self.__pow__(exponent)  # a subclass's own power too

    def mm(self, mat2: Tensor) -> Tensor:
        for name, t in (("self", self), ("mat2", mat2)):  # matmul would take vectors
            if isinstance(t, Tensor) and t.dim() != 2:
                raise RuntimeError(f"{name} must be a matrix")
        return self @ mat2

    # -- in place -----------------------------------------------------------------------
    def _inplace(self, result: Tensor, overlap_ok: builtins.bool = False) -> Tensor:
        """Makes ``result`` this tensor's value, as an in-place op of PyTorch writes it.

        ``overlap_ok``: the op writes an expanded tensor (``fill_``, ``zero_``, an index
        assignment), which PyTorch's elementwise in-place ops refuse.
        """
        if inference_tensors_made:
            from fnnet.torch._inference import check_outside

            check_outside(self)
        if self._kind == VAR and _current_recorder().grad_enabled:
            raise RuntimeError("a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        view = getattr(self, "_view", None)
        if view is not None and self._kind == CONST and view.kind != CONST and \
                _current_recorder().grad_enabled:
            raise RuntimeError(_NO_GRAD_VIEW_WRITTEN)
        if view is not None and view.kind == VAR and _current_recorder().grad_enabled:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in "
                               "an in-place operation.")
        if self._cell.overlap and not overlap_ok:
            raise RuntimeError("unsupported operation: more than one element of the written-to "
                               "tensor refers to a single memory location. Please clone() the "
                               "tensor before performing the operation.")
        if result._cell.ref < 0:  # a value not recorded (joined at once, drawn eagerly)
            result = _op(_copy_into, (), self, result)
        result = result._cast(self._cell.aval[1]) if result._cell.aval[1] != \
            self._cell.aval[1] else result
        if tuple(result.shape) != tuple(self.shape):
            raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the "
                               f"broadcast shape {list(result.shape)}")
        rcell = result._cell
        cell = self._cell
        rec = _current_recorder()
        tp = rec.tape
        kept = cell.rg and not rcell.rg and cell.tape is tp
        if kept:
            result = self._keep_graph(result)
            rcell = result._cell
        if self._kind == VAR:
            tp.leaf_written = True
        # PyTorch's version counter, and the slot overwritten for the check of the values
        # saved for backward (see _saved); a .data tensor's writes are its own
        own = getattr(self, "_data_version", None)
        if own is None:
            counter = cell if view is None else view.cell() or cell
            version = getattr(counter, "version", 0)
            if cell.tape is tp and cell.ref >= 0:
                tp.overwritten[cell.ref] = (
                    cell, counter, version - getattr(counter, "data_writes", 0), rcell.ref)
            if counter is cell:  # else the write back to the view's root counts it
                cell.version = version + 1
        else:  # the storage's views see it (its count), its version counter does not
            self._data_version = own + 1
            cell.version = getattr(cell, "version", 0) + 1
            cell.data_writes = getattr(cell, "data_writes", 0) + 1
        _graph.bind(cell, rcell.ref, rcell.aval, rcell.rg)
        if rcell.rg and self._kind == CONST and not kept:
            self._kind = RG
        if view is not None:  # the tensor it was taken from too
            _views.write_back(self)
        if rec.numpy_handed and cell in rec.numpy_views:
            _numpy_views.written(self)  # the arrays numpy() handed out too
        return self

    def _keep_graph(self, result: Tensor) -> Tensor:
        """``result`` (computed without autograd) on this tensor's graph: a write under
        ``no_grad`` or through a detached alias changes the values of a tensor whose
        gradient still flows to what it was computed from, as in PyTorch."""
        cell = self._cell
        first, avals = _graph.record_refs(_written, (), (cell.ref << 2 | RG,
                                                         result._cell.ref << 2 | CONST), True)
        return _wrap_slot(first, avals[0], True)

    def _arithmetic_inplace(self, result: Tensor,
                            target_names: dict[str, str] | None = None) -> Tensor:
        """``_inplace`` of an arithmetic result, which PyTorch writes only where its type
        casts to this tensor's without changing kind (a float result into a Long tensor
        raises; the in-place ops that set values, ``copy_`` or ``fill_``, cast).
        ``target_names`` names this tensor's type in the message (default: PyTorch's
        scalar names)."""
        if _KIND_RANK[result._cell.aval[1].kind] > _KIND_RANK[self._cell.aval[1].kind]:
            names = _dtypes.SCALAR_NAMES
            target = (target_names or names).get(self.dtype.name)
            raise RuntimeError(f"result type {names.get(result.dtype.name)} can't be cast to "
                               f"the desired output type {target}")
        return self._inplace(result)

    def add_(self, other: Any, alpha: builtins.float = 1) -> Tensor:
        return self._arithmetic_inplace(self + (other if alpha == 1 else other * alpha))

    def sub_(self, other: Any, alpha: builtins.float = 1) -> Tensor:
        return self._arithmetic_inplace(self - (other if alpha == 1 else other * alpha))

    def mul_(self, other: Any) -> Tensor:
        return self._arithmetic_inplace(self * other)

    def div_(self, other: Any) -> Tensor:
        return self._arithmetic_inplace(self / other)

    def pow_(self, exponent: Any) -> Tensor:
        return self._arithmetic_inplace(self ** exponent)

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        # a float bound makes an integer tensor's result float, which PyTorch refuses to
        # write back (naming the integer type as C++ does)
        return self._arithmetic_inplace(self.clamp(min, max), CPP_TYPE_NAMES)

    def neg_(self) -> Tensor:
        return self._inplace(-self)

    def zero_(self) -> Tensor:
        return self._inplace(_op(_zero, (), self), overlap_ok=True)

    def fill_(self, value: Any) -> Tensor:
        # the value is an input of the step (a loop filling with its counter compiles once)
        return self._inplace(_op(_fill, (), self, builtins.float(value) if isinstance(
            value, Tensor) else _scalar_or_tensor(value)), overlap_ok=True)

    def copy_(self, other: Any, non_blocking: builtins.bool = False) -> Tensor:
        return self._inplace(_op(_copy_into, (), self, _scalar_or_tensor(other)))

    def masked_fill_(self, mask: Tensor, value: Any) -> Tensor:
        _value_checks.check_mask_dtype(mask)
        shape = getattr(mask, "shape", None)
        if shape is not None and tuple(shape) != tuple(self.shape):
            # in place, PyTorch names this tensor first (tensor a); masked_fill the mask
            mismatch = _graph.broadcast_mismatch([tuple(self.shape), tuple(shape)])
            if mismatch is not None:
                raise RuntimeError(mismatch)
        if self._cell.overlap:
            warnings.warn("Use of masked_fill_ on expanded tensors is deprecated. Please "
                          "clone() the tensor before performing this operation. This also "
                          "applies to advanced indexing e.g. tensor[mask] = scalar",
                          UserWarning, stacklevel=2)
        return self._inplace(self.masked_fill(mask, value), overlap_ok=True)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    # -- math -----------------------------------------------------------------------
    def exp(self) -> Tensor:
        return _op(jnp.exp, (), self)

    def log(self) -> Tensor:
        return _op(jnp.log, (), self)

    def sqrt(self) -> Tensor:
        return _op(jnp.sqrt, (), self)

    def sin(self) -> Tensor:
        return _op(jnp.sin, (), self)

    def cos(self) -> Tensor:
        return _op(jnp.cos, (), self)

    def square(self) -> Tensor:
        return _op(_pow_scalar, (2,), self)

    def relu(self) -> Tensor:
        return _op(fnf.relu, (), self)

    def sigmoid(self) -> Tensor:
        return _op(fnf.sigmoid, (), self)

    def tanh(self) -> Tensor:
        return _op(fnf.tanh, (), self)

    @_numpy_names
    def softmax(self, dim: builtins.int, dtype: Any = None) -> Tensor:
        x = self if dtype is None else self.to(dtype)
        return _op(_softmax, (dim,), x, check=_SOFTMAX_CHECK, who="softmax")

    @_numpy_names
    def log_softmax(self, dim: builtins.int, dtype: Any = None) -> Tensor:
        x = self if dtype is None else self.to(dtype)
        return _op(_log_softmax, (dim,), x, check=_LOG_SOFTMAX_CHECK, who="log_softmax")

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        # the bounds are inputs of the step, not part of its structure: a bound that
        # changes every step (an annealed clip range) does not compile again
        return _op(_clamp, (), self, None if min is None else _scalar_or_tensor(min),
                   None if max is None else _scalar_or_tensor(max), who="clamp")

    clip = clamp

    def masked_fill(self, mask: Tensor, value: Any) -> Tensor:
        if isinstance(value, Tensor) and value.dim():
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, "
                               f"but got tensor with {value.dim()} dimension(s).")
        # the value is an input of the step, not part of its structure: a fill value
        # that changes every step (a batch's minimum, an annealed constant) does not
        # compile again
        if not isinstance(value, (Tensor, builtins.bool, builtins.int, builtins.float,
                                  np.number, np.bool_)):
            value = builtins.float(value)
        return _op(_masked_fill, (), self, mask, _scalar_or_tensor(value),
                   check=_value_checks.check_bool_mask)

    @_numpy_names
    def sum(self, dim: Any = None, keepdim: builtins.bool = False, dtype: Any = None) -> Tensor:
        np_dtype = None if dtype is None else _dtypes.to_np(dtype)
        if np_dtype is None and self._cell.aval[1].kind in "biu":  # as PyTorch: to int64
            np_dtype = _graph.canonical_dtype(np.int64)
        return _op(_sum, (_dims(dim), keepdim, np_dtype), self, who="sum")

    @_numpy_names
    def mean(self, dim: Any = None, keepdim: builtins.bool = False, dtype: Any = None) -> Tensor:
        x = self if dtype is None else self.to(dtype)
        return _op(_mean, (_dims(dim), keepdim), x, check=_value_checks.check_mean, who="mean")

    @_numpy_names
    def max(self, dim: Any = None, keepdim: builtins.bool = False, *,
            other: Tensor | None = None) -> Any:
        if isinstance(dim, Tensor) or other is not None:  # the overload max(other)
            return _op(jnp.maximum, (), self, dim if other is None else other)
        if dim is None:
            return _op(_max, (None, False), self, check=_EMPTY_MAX, who="max")
        values, indices = _op_multi(_max_dim, (dim, keepdim), self, who="max")
        return values_indices(values, indices, "max")

    @_numpy_names
    def min(self, dim: Any = None, keepdim: builtins.bool = False, *,
            other: Tensor | None = None) -> Any:
        if isinstance(dim, Tensor) or other is not None:  # the overload min(other)
            return _op(jnp.minimum, (), self, dim if other is None else other)
        if dim is None:
            return _op(_min, (None, False), self, check=_EMPTY_MIN, who="min")
        values, indices = _op_multi(_min_dim, (dim, keepdim), self, who="min")
        return values_indices(values, indices, "min")

    @_numpy_names
    def argmax(self, dim: builtins.int | None = None, keepdim: builtins.bool = False) -> Tensor:
        return _op(_argmax, (dim, keepdim), self, who="argmax",
                   check=_EMPTY_ARGMAX if dim is None else None)

    @_numpy_names
    def argmin(self, dim: builtins.int | None = None, keepdim: builtins.bool = False) -> Tensor:
        return _op(_argmin, (dim, keepdim), self, who="argmin",
                   check=_EMPTY_ARGMIN if dim is None else None)

    @_numpy_names
    def var(self, dim: Any = None, unbiased: builtins.bool = True, keepdim: builtins.bool = False,
            *, correction: builtins.int | None = None) -> Tensor:
        correction = (1 if unbiased else 0) if correction is None else correction
        _warn_degrees_of_freedom(self, dim, correction, "var")
        return _op(_var, (_dims(dim), correction, keepdim), self,
                   check=_value_checks.check_moments, who="var")

    @_numpy_names
    def std(self, dim: Any = None, unbiased: builtins.bool = True, keepdim: builtins.bool = False,
            *, correction: builtins.int | None = None) -> Tensor:
        correction = (1 if unbiased else 0) if correction is None else correction
        _warn_degrees_of_freedom(self, dim, correction, "std")
        return _op(_std, (_dims(dim), correction, keepdim), self,
                   check=_value_checks.check_moments, who="std")

    @_numpy_names
    def prod(self, dim: builtins.int | None = None, keepdim: builtins.bool = False,
             dtype: Any = None) -> Tensor:
        x = self if dtype is None else self.to(dtype)
        if dtype is None and self._cell.aval[1].kind in "bu":  # bool, uint8: to int64
            x = self.long()
        return _op(_prod, (dim, keepdim), x, who="prod")

    def norm(self, p: Any = 2, dim: Any = None, keepdim: builtins.bool = False,
             dtype: Any = None) -> Tensor:
        x = self if dtype is None else self.to(dtype)
        if p == "nuc":
            from fnnet.torch.linalg import matrix_norm

            return matrix_norm(x, "nuc", (-2, -1) if dim is None else dim, keepdim)
        if not x.is_floating_point():
            if not x.dtype.is_complex:
                raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex "
                                   f"tensor as input. Got {_dtypes.scalar_name(x.dtype)}")
            x = x.abs()  # a complex norm is the norm of the magnitudes
        p = 2 if p == "fro" else p  # Frobenius: the 2-norm of the elements
        return _op(_norm, (p, _dims(dim), keepdim), x, who="norm")

    @_numpy_names
    def all(self, dim: Any = None, keepdim: builtins.bool = False) -> Tensor:
        return _op(_all, (_dims(dim), keepdim), self, who="all")

    @_numpy_names
    def any(self, dim: Any = None, keepdim: builtins.bool = False) -> Tensor:
        return _op(_any, (_dims(dim), keepdim), self, who="any")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # not PyTorch's API, or a slot not set (_view)
            raise AttributeError(name)
        raise Unsupported(
            f"fnnet.torch does not support Tensor.{name}; use jax.numpy on "
            f"tensor.detach().numpy() or fnnet's functional API")


class Unsupported(NotImplementedError, AttributeError):
    """A PyTorch name fnnet.torch does not provide (also an AttributeError for hasattr).

    Raised by a module's ``__getattr__`` for ``from fnnet.torch.nn import Name``, it is
    an :class:`UnsupportedImport` instead: Python turns an AttributeError there into a
    bare "cannot import name" ImportError, which would lose the message saying what to
    use.
    """

    def __new__(cls, *args: Any) -> Any:
        if cls is Unsupported and _importing_from(sys._getframe(1)):
            return UnsupportedImport(*args)
        return super().__new__(cls, *args)


class UnsupportedImport(NotImplementedError, ImportError):
    """A PyTorch name fnnet.torch does not provide, asked for by ``from ... import``
    (also an ImportError, for code that falls back when an import fails)."""


_IMPORT_FROM = dis.opmap["IMPORT_FROM"]


def _importing_from(frame: Any) -> builtins.bool:
    """Whether ``frame`` is a module's ``__getattr__`` called by a ``from ... import``."""
    caller = frame.f_back if frame.f_code.co_name == "__getattr__" else None
    return caller is not None and 0 <= caller.f_lasti < len(caller.f_code.co_code) and \
        caller.f_code.co_code[caller.f_lasti] == _IMPORT_FROM


def _category(kind: np.dtype[Any]) -> int:
    """PyTorch's promotion category of an element type: bool, integer, then floating."""
    return 0 if kind == np.bool_ else 2 if kind in _FLOATS else 1


def _is_bool(value: Any) -> builtins.bool:
    return value._cell.aval[1] == np.bool_ if isinstance(value, Tensor) else \
        isinstance(value, builtins.bool)


def _no_bool_subtraction(x: Any, y: Any) -> None:
    """PyTorch refuses ``-`` of bool operands (checked once per structure)."""
    if _is_bool(x) and _is_bool(y):
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if _is_bool(x) or _is_bool(y):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not "
                           "supported. If you are trying to invert a mask, use the `~` or "
                           "`logical_not()` operator instead.")


def _no_bool_negation(x: Any) -> None:
    if _is_bool(x):
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or "
                           "`logical_not()` operator instead.")


def _operands(self: Tensor, other: Any) -> tuple[Any, Any]:
    """``(self, other)`` for an arithmetic op, ``other`` a tensor where it is an array.

    A 0-dim tensor beside a tensor with dimensions takes part in PyTorch's promotion
    only through its category (as a Python number does), so one of the other's
    category takes the other's dtype: a float16 tensor times ``tensor(0.5)`` stays
    float16, where JAX would give float32.
    """
    other = _scalar_or_tensor(other)
    if not isinstance(other, Tensor):
        return self, other
    mine, theirs = self._cell.aval, other._cell.aval
    if mine[1] == theirs[1] or (not mine[0]) == (not theirs[0]) or \
            _category(mine[1]) != _category(theirs[1]):
        return self, other
    if mine[0]:
        return self, other.to(self.dtype)
    return self.to(other.dtype), other


def _comparand(value: Any) -> Any:
    """``value`` as ``==`` and ``!=`` take it; NotImplemented for None or text, which
    Python then compares by identity (``mask == None`` is False), as PyTorch's."""
    kind = type(value)
    if kind is float or kind is int or kind is bool or isinstance(value, Tensor):
        return value
    if value is None or isinstance(value, str):
        return NotImplemented
    return _scalar_or_tensor(value)


def _scalar_or_tensor(value: Any) -> Any:
    kind = type(value)
    if kind is float or kind is int or kind is bool or isinstance(value, Tensor):
        return value
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    return _as_tensor(value)


def _rebuild(array: np.ndarray, requires_grad: bool) -> Tensor:
    return _wrap_value(_graph.as_array(array), VAR if requires_grad else CONST)


class Size(tuple[int, ...]):
    """A tensor shape. PyTorch equivalent: ``torch.Size``."""

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"

    def numel(self) -> int:
        return math.prod(self)

    # slices, sums and repeats of a shape are shapes, as PyTorch's (``x.shape[1:]``)
    @typing.overload
    def __getitem__(self, index: typing.SupportsIndex) -> int: ...

    @typing.overload
    def __getitem__(self, index: slice) -> Size: ...

    def __getitem__(self, index: typing.SupportsIndex | slice) -> int | Size:
        if isinstance(index, slice):
            return Size(tuple.__getitem__(self, index))
        return tuple.__getitem__(self, index)

    def __add__(self, other: Any) -> Size:
        if not isinstance(other, tuple):
            raise TypeError(f"can only concatenate tuple (not {type(other).__name__}) to "
                            f"torch.Size")
        return Size(tuple.__add__(self, other))

    def __radd__(self, other: Any) -> Size:
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(other, self))

    def __mul__(self, count: typing.SupportsIndex) -> Size:
        return Size(tuple.__mul__(self, count))

    __rmul__ = __mul__


_ = jax
