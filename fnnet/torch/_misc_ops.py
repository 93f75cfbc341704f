"""Small functions from the corners of ``torch`` that scripts use: logical ops,
``amax``/``amin``, ``diff``, ``index_add``/``index_copy``/``index_fill``, ``meshgrid``,
``normal``/``bernoulli`` draws, ``bincount`` and ``unique`` (read on the host: their
sizes depend on values), and ``torch.compile`` (the identity: fnnet.torch compiles every
step already).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import jax.numpy as jnp
import numpy as np

from fnnet.torch import _dtypes as dtypes
from fnnet.torch import _graph, _random
from fnnet.torch._complex_checks import kernel_error
from fnnet.torch._math_ops import in_place
from fnnet.torch._recorder import current
from fnnet.torch._value_checks import empty_reduction
from fnnet.torch.device import check_creation
from fnnet.torch.nn._distance import cdist
from fnnet.torch.tensor import (
    Tensor,
    _as_tensor,
    _dim,
    _op,
    _scalar_or_tensor,
    _wrap_value,
    host_index_outside,
)

_INDEX = np.dtype(_graph.canonical_dtype(np.int64))
_F = TypeVar("_F")

#: PyTorch's name -> jax.numpy's binary or unary logical function
LOGICAL: dict[str, Callable[..., Any]] = {
    "logical_and": jnp.logical_and, "logical_or": jnp.logical_or,
    "logical_xor": jnp.logical_xor, "logical_not": jnp.logical_not,
}


def _logical(name: str, fn: Callable[..., Any]) -> Callable[..., Tensor]:
    if name == "logical_not":
        def method(input: Tensor) -> Tensor:
            return _op(fn, (), input, who=name)
    else:
        def method(input: Tensor, other: Any) -> Tensor:  # type: ignore[misc]
            return _op(fn, (), input, _scalar_or_tensor(other), who=name)
    method.__name__ = name
    method.__doc__ = f"PyTorch equivalent: ``Tensor.{name}`` (a bool tensor)."
    return method


def _dims(dim: Any) -> Any:
    return tuple(dim) if isinstance(dim, (list, tuple)) else dim


def _amax(x: Any, dim: Any, keepdim: bool) -> Any:
    return jnp.max(x, axis=dim, keepdims=keepdim)


def _amin(x: Any, dim: Any, keepdim: bool) -> Any:
    return jnp.min(x, axis=dim, keepdims=keepdim)


_EMPTY_AMAX, _EMPTY_AMIN = empty_reduction("amax"), empty_reduction("amin")


def amax(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """The maximum over ``dim`` (all dimensions by default); the gradient is shared
    evenly between tied maxima, as PyTorch's. PyTorch equivalent: ``Tensor.amax``."""
    return _op(_amax, (_dims(dim) if dim != () else None, bool(keepdim)), input, who="amax",
               check=_EMPTY_AMAX if dim == () else None)


def amin(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """PyTorch equivalent: ``Tensor.amin`` (see :func:`amax`)."""
    return _op(_amin, (_dims(dim) if dim != () else None, bool(keepdim)), input, who="amin",
               check=_EMPTY_AMIN if dim == () else None)


def _diff(x: Any, n: int, dim: int) -> Any:
    return jnp.diff(x, n=n, axis=dim)


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Any = None, append: Any = None
         ) -> Tensor:
    """``n``-th forward differences along ``dim``. PyTorch equivalent: ``torch.diff``."""
    from fnnet.torch import cat

    if isinstance(input, Tensor) and input.dim() == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    parts = [p for p in (prepend, input, append) if p is not None]
    x = cat([_as_tensor(p) for p in parts], dim=dim) if len(parts) > 1 else input
    return _op(_diff, (int(n), int(dim)), x, who="diff")


#: PyTorch's warning, once per process, for a meshgrid without ``indexing``
MESHGRID_INDEXING = ("torch.meshgrid: in an upcoming release, it will be required to pass "
                     "the indexing argument.")


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids of 1-D tensors. PyTorch equivalent: ``torch.meshgrid``
    (``indexing='ij'`` by default, as PyTorch's current default, with its warning)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    warned = current().warned
    if indexing is None and MESHGRID_INDEXING not in warned:
        warned.add(MESHGRID_INDEXING)
        warnings.warn(MESHGRID_INDEXING, UserWarning, stacklevel=2)
    mode = "ij" if indexing is None else indexing
    inputs = [_as_tensor(t) for t in tensors]
    # PyTorch's checks, in its order
    if not inputs:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    if any(t.dtype != inputs[0].dtype for t in inputs):
        raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    if mode not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but '
                           f"received: {mode}")
    shape = [t.numel() for t in inputs]
    if mode == "xy" and len(shape) >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    grids = []
    for i, t in enumerate(inputs):
        axis = (1 - i if i < 2 else i) if mode == "xy" and len(shape) >= 2 else i
        view = [1] * len(shape)
        view[axis] = -1
        grids.append(t.reshape(*view).expand(*shape))
    return tuple(grids)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, generator: Any = None,
           dtype: Any = None, device: Any = None, requires_grad: bool = False,
           layout: Any = None, pin_memory: bool = False) -> Tensor:
    """Normal draws, PyTorch's from the global generator or ``generator``: tensors
    ``mean``/``std`` (broadcast; standard draws scaled and shifted on the device, as
    PyTorch's ``normal_(0, 1).mul_(std).add_(mean)``) or numbers with ``size``.

    PyTorch equivalent: ``torch.normal``.
    """
    check_creation(device, layout, pin_memory)
    host = _random.host_for(generator, "normal")
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        mean_t, std_t = _as_tensor(mean), _as_tensor(std)
        shape = np.broadcast_shapes(tuple(mean_t.shape), tuple(std_t.shape))
        drawn = (mean_t if isinstance(mean, Tensor) else std_t).dtype
        if not (drawn.is_floating_point or drawn.is_complex):
            raise NotImplementedError(f'"normal_kernel_cpu" not implemented for '
                                      f"'{dtypes.scalar_name(drawn)}'")
        kind = drawn.np
        if not isinstance(std, Tensor):  # PyTorch: normal_(0, std).add_(mean)
            return _wrap_value(host.normal(shape, kind, 0.0, float(std))) + mean_t
        noise = _wrap_value(host.normal(shape, kind))
        return noise * std_t + mean  # type: ignore[no-any-return]
    if size is None:
        raise TypeError("normal(): with numbers for mean and std, pass size=")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    shape = tuple(size) if isinstance(size, (list, tuple)) else (int(size),)
    out = _wrap_value(host.normal(shape, np.float32 if dtype is None else dtype.np, mean, std))
    return out.requires_grad_(requires_grad) if requires_grad else out


def bernoulli(input: Any, p: float | None = None, *, generator: Any = None) -> Tensor:
    """1 with the probabilities in ``input`` (or ``p``), else 0, in ``input``'s dtype:
    PyTorch's draws (a uniform of the probabilities' precision below each, or a float64
    one below ``p``).

    PyTorch equivalent: ``torch.bernoulli``.
    """
    given = _as_tensor(input)
    if p is None and not given.is_floating_point():
        raise NotImplementedError(f'"bernoulli_tensor_cpu_p_" not implemented for '
                                  f"'{dtypes.scalar_name(given.dtype)}'")
    probs = np.asarray(given._value())
    chance = probs if p is None else np.full(probs.shape, p)
    if ((chance < 0) | (chance > 1)).any():
        raise RuntimeError("bernoulli: all probabilities must be in [0, 1]")
    host = _random.host_for(generator, "bernoulli")
    if p is not None:
        return _wrap_value(host.bernoulli(float(p), probs.shape).astype(probs.dtype))
    precision = np.float64 if probs.dtype == np.float64 else np.float32
    below = host.unit(probs.size, precision).reshape(probs.shape) < probs
    return _wrap_value(below.astype(probs.dtype))


def poisson(input: Any, generator: Any = None) -> Tensor:
    """A count drawn from the Poisson distribution of each rate in ``input``, in its
    dtype: PyTorch's draws (its CPU sampler on the same generator).

    PyTorch equivalent: ``torch.poisson``.
    """
    from fnnet.torch._functions import tensor_argument

    rates = tensor_argument(input, "poisson", "input", 1)
    if not rates.is_floating_point():
        raise NotImplementedError(f'"poisson_cpu" not implemented for '
                                  f"'{dtypes.scalar_name(rates.dtype)}'")
    values = np.asarray(rates.detach()._value())
    if not (values >= 0).all():  # NaN rates too
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    counts = _random.host_for(generator, "poisson").poisson(values)
    return _wrap_value(counts.astype(values.dtype))


def bincount(input: Any, weights: Any = None, minlength: int = 0) -> Tensor:
    """Occurrences of each value of the non-negative int tensor ``input`` (read now: the
    length depends on the values). PyTorch equivalent: ``torch.bincount``."""
    tensor = _as_tensor(input)
    if tensor.dtype.is_floating_point or tensor.dtype == dtypes.bool_:
        raise NotImplementedError(
            f'"bincount_cpu" not implemented for \'{dtypes.scalar_name(tensor.dtype)}\'')
    values = np.asarray(tensor._value())
    if values.ndim != 1 or (values.size and values.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    w = None if weights is None else np.asarray(_as_tensor(weights)._value())
    if w is not None and w.shape != values.shape:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    counts = np.bincount(values, weights=w, minlength=minlength)
    # counts of weights are floating (PyTorch's double for integer weights), but those of
    # an empty input int64 whatever the weights, as PyTorch's
    kind = _INDEX if w is None or not values.size else \
        w.dtype if w.dtype.kind == "f" else np.float32
    return _as_tensor(counts.astype(kind))


def unique(input: Any, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: int | None = None) -> Any:
    """The distinct values of ``input`` (sorted), optionally with the inverse indices and
    counts; read now (the size depends on the values). PyTorch: ``torch.unique``."""
    input = _as_tensor(input)
    if input.dtype.is_complex:
        raise kernel_error("unique", input.dtype)
    if dim is not None:
        dim = _dim(dim, input.dim(), "unique")
    values = np.asarray(input._value())
    # each NaN is a value of its own, as in PyTorch
    out = np.unique(values, return_inverse=True, return_counts=True, axis=dim,
                    equal_nan=False)
    result = [_as_tensor(out[0])]
    if return_inverse:
        inverse = out[1].reshape(values.shape if dim is None else (-1,))
        result.append(_as_tensor(inverse.astype(_INDEX)))
    if return_counts:
        result.append(_as_tensor(out[2].astype(_INDEX)))
    return result[0] if len(result) == 1 else tuple(result)


def _along(dim: int, index: Any, ndim: int) -> tuple[Any, ...]:
    return (slice(None),) * dim + (index,) + (slice(None),) * (ndim - dim - 1)


def _index_add(x: Any, index: Any, source: Any, dim: int, alpha: Any) -> Any:
    return x.at[_along(dim, index, x.ndim)].add(source * alpha)


def _index_copy(x: Any, index: Any, source: Any, dim: int) -> Any:
    return x.at[_along(dim, index, x.ndim)].set(source)


def _index_fill(x: Any, index: Any, value: Any, dim: int) -> Any:
    return x.at[_along(dim, index, x.ndim)].set(value)


def _index_args(self: Tensor, who: str, dim: int, index: Any, source: Any = None
                ) -> tuple[int, Tensor]:
    """``dim`` wrapped and ``index`` as a tensor, after PyTorch's checks of ``who`` (its
    CPU kernel's words for each): the dimension, the index's dtype and rank, ``source``'s
    dtype (which PyTorch does not cast) and the index's range."""
    index = _as_tensor(index)
    limit = max(self.dim(), 1)
    if not -limit <= dim < limit:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-limit}, "
                         f"{limit - 1}], but got {dim})")
    dim %= limit
    dtype = dtypes.scalar_name(index.dtype)
    if index._cell.aval[1].kind not in "iu":
        if who == "index_add":
            raise RuntimeError(f"index_add_(): Expected dtype int32/int64 for index but "
                               f"got: {dtype}")
        if who == "index_copy":
            raise RuntimeError(f"index_copy_(): Expected a long tensor for index, but got "
                               f"{dtype}")
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    if index.dim() > 1:
        if who == "index_add":
            raise IndexError(f"index_add_(): Index is supposed to be a vector, but got dim: "
                             f"{index.dim()} with type: {dtype} and size: "
                             f"{list(index.shape)}")
        if who == "index_copy":
            raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got "
                             f"{index.dim()})")
        raise RuntimeError("Index has to be a vector/scalar")
    if isinstance(source, Tensor) and source.dtype != self.dtype:
        ours, theirs = dtypes.scalar_name(self.dtype), dtypes.scalar_name(source.dtype)
        if who == "index_add":
            raise RuntimeError(f"index_add_(): self ({ours}) and source ({theirs}) must have "
                               f"the same scalar type")
        raise RuntimeError(f"index_copy_(): self and source expected to have the same "
                           f"dtype, but got (self) {ours} and (source) {theirs}")
    if isinstance(source, Tensor) and who == "index_add":
        _check_add_shapes(self, dim, index, source)
    elif isinstance(source, Tensor):
        _check_copy_shapes(self, dim, index, source)
    _check_range(self, who, dim, index)
    return dim, index


def _check_add_shapes(self: Tensor, dim: int, index: Tensor, source: Tensor) -> None:
    """PyTorch's checks that ``source`` has one slice per index and ``self``'s other
    sizes (a message batch of the wrong length in ``index_add_(0, dst, msgs)``)."""
    if dim and dim >= source.dim():
        raise RuntimeError(f"index_add_(): Indexing dim {dim} is out of bounds of the source "
                           f"tensor with dim {source.dim()}")
    count = index.numel()
    if source.dim() == 0 and count != 1:  # PyTorch's message reads source.size(0)
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    if source.dim() and count != source.shape[dim]:
        raise RuntimeError(f"index_add_(): Number of indices ({count}) should be equal to "
                           f"source.size(dim): ({source.shape[dim]}), for dim: {dim}")
    mine, theirs = list(self.shape), list(source.shape)
    if mine and theirs:
        del mine[dim], theirs[dim]
    if mine != theirs:
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the "
                           f"specified dimension. Got self.shape = {list(self.shape)} "
                           f"source.shape = {list(source.shape)}")


def _check_copy_shapes(self: Tensor, dim: int, index: Tensor, source: Tensor) -> None:
    """PyTorch's checks of ``index_copy_``'s ``source`` against ``self`` and ``index``."""
    count = index.numel()
    if source.dim() == 0 and count != 1:
        raise IndexError(f"index_copy_(): When source is scalar, index should have one "
                         f"element (got {count})")
    if source.dim() != self.dim() and source.dim() and self.dim():
        raise IndexError(f"index_copy_(): When source and destination are not scalars, their "
                         f"dimensionality must match. Source dimensionality ({source.dim()}), "
                         f"destination dimensionality ({self.dim()})")
    mine, theirs = list(self.shape), list(source.shape)
    if mine:
        del mine[dim]
    if theirs:
        del theirs[dim]
    if mine != theirs:
        raise RuntimeError(f"index_copy_(): Source/destination tensor must have same slice "
                           f"shapes. Destination slice shape: {' '.join(map(str, mine))} at "
                           f"dimension {dim} and source slice shape: "
                           f"{' '.join(map(str, theirs))} at dimension 0.")
    if source.dim() and count != source.shape[dim]:
        raise IndexError(f"index_copy_(): Number of indices ({count}) should be equal to "
                         f"source.size(dim) ({source.shape[dim]})")


def _check_range(self: Tensor, who: str, dim: int, index: Tensor) -> None:
    """PyTorch's error for an index (on the host) outside ``self``'s ``dim``, worded as
    its CPU kernel of ``who`` words it."""
    size = (self.shape or (1,))[dim]
    bad = host_index_outside(index, size, negative=who == "index_fill")
    if bad is None:
        return
    if who == "index_add" and self.dim() <= 1:
        raise IndexError("index out of range in self")
    message = f"index {bad} is out of bounds for dimension {dim} with size {size}"
    if who == "index_add":
        raise RuntimeError(message)
    raise IndexError(f"index_copy_(): {message}" if who == "index_copy" else message)


def index_add(input: Tensor, dim: int, index: Any, source: Any, *, alpha: Any = 1) -> Tensor:
    """``input`` with ``alpha * source`` added at ``index`` along ``dim`` (repeated indices
    add up). PyTorch equivalent: ``Tensor.index_add``."""
    source = _as_tensor(source)
    dim, index = _index_args(input, "index_add", dim, index, source)
    return _op(_index_add, (dim, alpha), input, index, source, who="index_add")


def index_copy(input: Tensor, dim: int, index: Any, source: Any) -> Tensor:
    """``input`` with the slices at ``index`` along ``dim`` replaced by ``source``.
    PyTorch equivalent: ``Tensor.index_copy``."""
    source = _as_tensor(source)
    dim, index = _index_args(input, "index_copy", dim, index, source)
    return _op(_index_copy, (dim,), input, index, source, who="index_copy")


def index_fill(input: Tensor, dim: int, index: Any, value: Any) -> Tensor:
    """``input`` with the slices at ``index`` along ``dim`` set to ``value``.
    PyTorch equivalent: ``Tensor.index_fill``."""
    dim, index = _index_args(input, "index_fill", dim, index)
    return _op(_index_fill, (dim,), input, index, _scalar_or_tensor(value), who="index_fill")


def compile(model: _F | None = None, *, fullgraph: bool = False, dynamic: Any = None,  # noqa: A001
            backend: Any = "inductor", mode: Any = None, options: Any = None,
            name: str | None = None, disable: bool = False, recompile_limit: int | None = None,
            isolate_recompiles: bool = False, shapes_spec: Any = None) -> Any:
    """Returns ``model`` unchanged, a module wrapped as PyTorch's ``OptimizedModule``
    (its ``_orig_mod``, with PyTorch's ``state_dict`` keys): fnnet.torch already
    compiles each training step into one XLA program (see
    :func:`fnnet.torch.compile_stats`). Usable as ``torch.compile(model)`` and as a
    decorator, with or without arguments.

    PyTorch equivalent: ``torch.compile``.
    """
    if model is None:
        return lambda fn: fn
    from fnnet.torch.nn.modules.module import Module
    from fnnet.torch.nn.modules.optimized import OptimizedModule

    if isinstance(model, Module):
        return OptimizedModule(model)
    return model


def install(namespace: dict[str, Any]) -> None:
    """Adds the methods to :class:`Tensor` and the functions to ``namespace``
    (``fnnet.torch``'s globals)."""
    for name, fn in LOGICAL.items():
        method = _logical(name, fn)
        setattr(Tensor, name, method)
        namespace[name] = method
    for method in (amax, amin, diff, index_add, index_copy, index_fill):
        setattr(Tensor, method.__name__, method)
        namespace[method.__name__] = method
    for name in ("index_add", "index_copy", "index_fill"):
        setattr(Tensor, name + "_", in_place(name))

    def bincount_method(self: Tensor, weights: Any = None, minlength: int = 0) -> Tensor:
        return bincount(self, weights, minlength)

    def unique_method(self: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
                      return_counts: bool = False, dim: int | None = None) -> Any:
        return unique(self, sorted, return_inverse, return_counts, dim)

    def bernoulli_method(self: Tensor, p: float | None = None, *, generator: Any = None
                         ) -> Tensor:
        return bernoulli(self, p, generator=generator)

    for name, method in (("bincount", bincount_method), ("unique", unique_method),
                         ("bernoulli", bernoulli_method)):
        method.__name__ = name
        method.__doc__ = f"PyTorch equivalent: ``Tensor.{name}``."
        setattr(Tensor, name, method)
    namespace.update(meshgrid=meshgrid, normal=normal, bernoulli=bernoulli, poisson=poisson,
                     bincount=bincount, unique=unique, compile=compile, cdist=cdist)
