"""Tensor operations beyond the core set: sorting, gathering and scattering, scans,
splits, triangles and small helpers that beginner courses use.

Each is a pure ``jax.numpy`` function recorded through the tensor's op table (so it is
differentiable and compiled with the step like every other op), attached to
:class:`~fnnet.torch.tensor.Tensor` as a method and exposed as a ``torch.<name>``
function by :func:`install`.
"""

from __future__ import annotations

import math
import string
import warnings
from collections.abc import Sequence
from typing import Any, cast

import jax
import jax.numpy as jnp
import numpy as np

from fnnet.nn.functional import matmul
from fnnet.torch import _graph, _views
from fnnet.torch._caller import caller_level
from fnnet.torch._functions import type_name
from fnnet.torch._mixed_dtypes import check_matmul
from fnnet.torch.tensor import (
    Tensor,
    _as_tensor,
    _dim,
    _op,
    _op_multi,
    host_index_outside,
    values_indices,
)

_INDEX = _graph.canonical_dtype(np.int64)


# -- sorting ----------------------------------------------------------------------------


def _topk(x: Any, k: int, dim: int, largest: bool) -> tuple[Any, Any]:
    moved = jnp.moveaxis(x, dim, -1)
    values, indices = jax.lax.top_k(moved if largest else -moved, k)
    values = values if largest else -values
    return jnp.moveaxis(values, -1, dim), jnp.moveaxis(indices, -1, dim).astype(_INDEX)


def topk(self: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True
         ) -> Any:  # noqa: A002 - PyTorch's name
    """The ``k`` largest (or smallest) values along ``dim`` and their indices."""
    dim = _dim(dim, self.dim(), "topk")
    size = self.shape[dim] if self.dim() else 1
    if not isinstance(k, int) or not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    values, indices = _op_multi(_topk, (k, dim, bool(largest)), self, who="topk")
    return values_indices(values, indices, "topk")


def _argsort(x: Any, dim: int, descending: bool) -> Any:
    return jnp.argsort(x, axis=dim, stable=True, descending=descending).astype(_INDEX)


def _sort(x: Any, dim: int, descending: bool) -> tuple[Any, Any]:
    indices = _argsort(x, dim, descending)
    return jnp.take_along_axis(x, indices, axis=dim), indices


def sort(self: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
    """Values sorted along ``dim`` and their indices (ties keep their order)."""
    dim = _dim(dim, self.dim(), "sort")
    values, indices = _op_multi(_sort, (dim, bool(descending)), self, who="sort")
    return values_indices(values, indices, "sort")


def argsort(self: Tensor, dim: int = -1, descending: bool = False, stable: bool = False
            ) -> Tensor:
    """The indices that sort ``self`` along ``dim``."""
    return _op(_argsort, (_dim(dim, self.dim(), "argsort"), bool(descending)), self,
               who="argsort")


# -- gathering and scattering -----------------------------------------------------------


def _check_index(self: Tensor, dim: int, index: Any, who: str, src: Any = None) -> Tensor:
    checked = _as_tensor(index)
    if np.dtype(checked._cell.aval[1]).kind not in "iu":
        raise RuntimeError(f"{who}(): Expected dtype int32/int64 for index")
    if isinstance(src, Tensor) and src.dtype != self.dtype:
        # scatter, scatter_add and scatter_reduce write src uncast; "scatter()" in each
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    # a 0-d tensor counts as one of shape [1], as in PyTorch (scatter_(0, tensor(3), ...)
    # on a vector is the one-hot of the FashionMNIST tutorial)
    if max(checked.dim(), 1) != max(self.dim(), 1):
        raise RuntimeError(f"Index tensor must have the same number of dimensions as "
                           f"{'input' if who == 'gather' else 'self'} tensor")
    if who == "gather":
        for d, (i, s) in enumerate(zip(checked.shape or (1,), self.shape or (1,),
                                       strict=True)):
            if d != dim and i > s:
                raise RuntimeError(f"Size does not match at dimension {d} expected index "
                                   f"{list(checked.shape)} to be no larger than self "
                                   f"{list(self.shape)} apart from dimension {dim}")
    else:
        _check_scatter_shapes(self, dim, checked, src)
    size = (self.shape or (1,))[dim]
    bad = host_index_outside(checked, size)
    if bad is not None:
        raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {size}")
    return checked


def _check_scatter_shapes(self: Tensor, dim: int, index: Tensor, src: Any) -> None:
    """PyTorch's check that ``index`` fits in ``self`` (but along ``dim``) and in a tensor
    ``src`` (in every dimension), which it reads only as far as ``index`` reaches."""
    given = isinstance(src, Tensor) and src.dim() > 0
    if given and max(index.dim(), 1) != src.dim():
        raise RuntimeError("Index tensor must have the same number of dimensions as src "
                           "tensor")
    sizes = index.shape or (1,)
    wrong = any(d != dim and i > s
                for d, (i, s) in enumerate(zip(sizes, self.shape or (1,), strict=True)))
    if given:
        wrong = wrong or any(i > s for i, s in zip(sizes, src.shape, strict=True))
    if wrong:
        raise RuntimeError(f"Expected index {list(index.shape)} to be no larger than self "
                           f"{list(self.shape)} apart from dimension {dim}" + (
                               f" and to be no larger size than src {list(src.shape)}"
                               if given else ""))


def _grid(index: Any, dim: int) -> tuple[Any, ...]:
    """Full coordinates of every element of ``index``, with ``dim``'s taken from it."""
    coords = list(jnp.indices(index.shape, sparse=True))
    coords[dim] = index
    return tuple(coords)


def _gather(x: Any, index: Any, dim: int) -> Any:
    return jnp.atleast_1d(x)[_grid(jnp.atleast_1d(index), dim)].reshape(jnp.shape(index))


def gather(self: Tensor, dim: int, index: Any, *, sparse_grad: bool = False) -> Tensor:
    """``out[i][j][k] = self[i][index[i][j][k]][k]`` for ``dim == 1`` (and likewise)."""
    dim = _dim(dim, self.dim(), "gather")
    index = _check_index(self, dim, index, "gather")
    return _op(_gather, (dim,), self, index, who="gather")


def _scatter(x: Any, index: Any, src: Any, dim: int, reduce: str | None) -> Any:
    index = jnp.atleast_1d(index)
    if jnp.ndim(src):
        src = jnp.atleast_1d(src)[tuple(slice(0, n) for n in index.shape)]
    at = jnp.atleast_1d(x).at[_grid(index, dim)]
    out = at.set(src) if reduce is None else at.add(src) if reduce == "add" else \
        at.multiply(src)
    return out.reshape(jnp.shape(x))


def _scatter_value(x: Any, index: Any, dim: int, reduce: str | None, value: Any) -> Any:
    return _scatter(x, index, value, dim, reduce)


#: PyTorch warns once a process that scatter's ``reduce`` with a tensor ``src`` is
#: deprecated; whether fnnet.torch has warned yet
_REDUCE_WARNED = [False]


def scatter(self: Tensor, dim: int, index: Any, src: Any = None, *, value: Any = None,
            reduce: str | None = None) -> Tensor:
    """A copy of ``self`` with ``src`` (a tensor or a number) written at ``index``
    along ``dim``; ``reduce="add"`` or ``"multiply"`` combines it with what is there."""
    if reduce is not None and isinstance(src, Tensor) and not _REDUCE_WARNED[0]:
        _REDUCE_WARNED[0] = True
        warnings.warn("The reduce argument of torch.scatter with Tensor src is deprecated and "
                      "will be removed in a future PyTorch release. Use torch.scatter_reduce "
                      "instead for more reduction options.", UserWarning,
                      stacklevel=caller_level())
    return _scatter_op(self, dim, index, src, value, reduce)


def _scatter_op(self: Tensor, dim: int, index: Any, src: Any, value: Any,
                reduce: str | None) -> Tensor:
    if reduce not in (None, "add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter() missing the values to write: pass src or value")
    dim = _dim(dim, self.dim(), "scatter")
    index = _check_index(self, dim, index, "scatter", src)
    if isinstance(src, int | float | bool):
        return _op(_scatter_value, (dim, reduce, src), self, index, who="scatter")
    return _op(_scatter, (dim, reduce), self, index, _as_tensor(src), who="scatter")


def scatter_add(self: Tensor, dim: int, index: Any, src: Any) -> Tensor:
    """``self`` with ``src`` added at ``index`` along ``dim`` (repeated indices add up)."""
    return _scatter_op(self, dim, index, src, None, "add")


def scatter_(self: Tensor, dim: int, index: Any, src: Any = None, *, value: Any = None,
             reduce: str | None = None) -> Tensor:
    return self._inplace(scatter(self, dim, index, src, value=value, reduce=reduce))


def scatter_add_(self: Tensor, dim: int, index: Any, src: Any) -> Tensor:
    return self._inplace(scatter_add(self, dim, index, src))


def _index_select(x: Any, index: Any, dim: int) -> Any:
    return jnp.take(x, index, axis=dim)


def index_select(self: Tensor, dim: int, index: Any) -> Tensor:
    """The slices of ``self`` along ``dim`` at the positions in the 1-D ``index``."""
    index = _as_tensor(index)
    if np.dtype(index._cell.aval[1]).kind not in "iu":
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if index.dim() > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    dim = _dim(dim, self.dim(), "index_select")
    size = (self.shape or (1,))[dim]
    bad = host_index_outside(index, size)
    if bad is not None:
        # PyTorch's CPU kernels word this two ways: the first dimension's (and any
        # negative index) one, and the gather kernel's of the inner dimensions
        if dim == 0 or bad < 0:
            raise IndexError("index out of range in self")
        raise RuntimeError(f"INDICES element is out of DATA bounds, id={bad} "
                           f"axis_dim={size}")
    return _op(_index_select, (dim,), self, index, who="index_select")


# -- scans and reductions ---------------------------------------------------------------


def _cumsum(x: Any, dim: int) -> Any:
    return jnp.cumsum(x, axis=dim)


def _cumprod(x: Any, dim: int) -> Any:
    return jnp.cumprod(x, axis=dim)


def _scan_input(self: Tensor, dtype: Any) -> Tensor:
    """What a running sum or product scans: ``self`` in ``dtype``, an integer or bool
    tensor in int64 where no dtype is asked for (as PyTorch: a uint8 count never wraps)."""
    if dtype is not None:
        return self.to(dtype)
    return self.long() if self.dtype.np.kind in "biu" else self


def cumsum(self: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running sums along ``dim``."""
    x = _scan_input(self, dtype)
    return _op(_cumsum, (_dim(dim, self.dim(), "cumsum"),), x, who="cumsum")


def cumprod(self: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running products along ``dim``."""
    x = _scan_input(self, dtype)
    return _op(_cumprod, (_dim(dim, self.dim(), "cumprod"),), x, who="cumprod")


def _logsumexp(x: Any, dims: tuple[int, ...], keepdim: bool) -> Any:
    return jax.nn.logsumexp(x, axis=dims, keepdims=keepdim)


def logsumexp(self: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(self)))`` over ``dim`` without overflow."""
    dims = tuple(dim) if isinstance(dim, Sequence) else (dim,)
    dims = tuple(_dim(d, self.dim(), "logsumexp") for d in dims)
    return _op(_logsumexp, (dims, bool(keepdim)), self, who="logsumexp")


# -- splitting --------------------------------------------------------------------------


def _pieces(x: Any, bounds: tuple[tuple[int, int], ...], dim: int) -> tuple[Any, ...]:
    return tuple(jax.lax.slice_in_dim(x, a, b, axis=dim) for a, b in bounds)


def _split_at(self: Tensor, sizes: list[int], dim: int, who: str) -> tuple[Tensor, ...]:
    starts = np.cumsum([0, *sizes])
    bounds = tuple((int(a), int(b)) for a, b in zip(starts[:-1], starts[1:], strict=True))
    # every piece is an array (None stands for an output that is None)
    pieces = cast("list[Tensor]", _op_multi(_pieces, (bounds, dim), self, who=who))
    return tuple(_views.link_index(piece, self, _views.along(dim, slice(a, b)))
                 for piece, (a, b) in zip(pieces, bounds, strict=True))


def split(self: Tensor, split_size: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces of ``split_size`` rows each along ``dim`` (the last may be shorter), or of
    the listed sizes. PyTorch equivalent: ``Tensor.split``."""
    dim = _dim(dim, self.dim(), "split")
    n = self.shape[dim]
    if isinstance(split_size, int):
        size = split_size
        if size < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got "
                               f"split_size={size}")
        if size == 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}")
        sizes = [min(size, n - start) for start in range(0, n, size)] if size else [0]
    else:
        sizes = [int(s) for s in split_size]
        if sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to "
                               f"{n} (input tensor's size at dimension {dim}), but got "
                               f"split_sizes={sizes}")
    return _split_at(self, sizes, dim, "split")


def split_function(tensor: Any, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """``Tensor.split`` of ``tensor``, with PyTorch's other argument names.

    PyTorch equivalent: ``torch.split``."""
    return split(_as_tensor(tensor), split_size_or_sections, dim)


def chunk(self: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """At most ``chunks`` pieces of ``ceil(size / chunks)`` rows along ``dim``."""
    if not isinstance(chunks, int) or chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    dim = _dim(dim, self.dim(), "chunk")
    return split(self, max(1, math.ceil(self.shape[dim] / chunks)), dim)


def _narrow(x: Any, start: Any, dim: int, length: int) -> Any:
    # the start is checked on the host, so dynamic_slice's clamping never applies
    return jax.lax.dynamic_slice_in_dim(x, start, length, axis=dim)


def narrow(self: Tensor, dim: int, start: int, length: int) -> Tensor:
    """``length`` rows from ``start`` along ``dim``."""
    dim = _dim(dim, self.dim(), "narrow")
    n = self.shape[dim]
    start = start + n if start < 0 else start
    if not 0 <= start <= n or length < 0 or start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({n}).")
    # the start is an input of the step, not part of its structure: a window sliding
    # along a sequence (``data.narrow(0, i, bptt)``) compiles once
    out = _op(_narrow, (dim, int(length)), self, int(start), who="narrow")
    return _views.link_index(out, self, _views.along(dim, slice(start, start + length)))


# -- rearranging ------------------------------------------------------------------------


def _flip(x: Any, dims: tuple[int, ...]) -> Any:
    return jnp.flip(x, axis=dims)


def flip(self: Tensor, *args: Any, dims: Any = None) -> Tensor:
    """``self`` with the order of the listed dimensions reversed: ``x.flip((0, 1))``,
    ``x.flip(0, 1)`` (the method's varargs form) or ``dims=``."""
    if dims is None:
        dims = args[0] if len(args) == 1 else args
    elif args:
        raise TypeError("flip() got multiple values for argument 'dims'")
    dims = tuple(dims) if isinstance(dims, Sequence) else (dims,)
    axes = tuple(_dim(d, self.dim(), "flip") for d in dims)
    for i, axis in enumerate(axes):
        if axis in axes[:i]:
            raise RuntimeError(f"dim {axis} appears multiple times in the list of dims")
    return _op(_flip, (axes,), self, who="flip")


def _roll(x: Any, *args: Any) -> Any:
    *shifts, dims = args
    return jnp.roll(x, shifts[0] if dims is None else jnp.stack(shifts), axis=dims)


def _ints(value: Any, name: str, position: int) -> tuple[int, ...]:
    """``roll``'s int or ints (a tensor's too) as a tuple, or PyTorch's TypeError."""
    if isinstance(value, Tensor):
        value = value.tolist()
    items = list(value) if isinstance(value, Sequence) else [value]
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, np.integer)) and \
                not hasattr(item, "__index__"):
            raise TypeError(f"roll(): argument '{name}' (position {position}) must be tuple "
                            f"of ints, not {type(value).__name__}")
    return tuple(int(item) for item in items)


def roll(self: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """Elements shifted cyclically by ``shifts`` along ``dims`` (flattened if None).

    PyTorch equivalent: ``torch.roll``.
    """
    steps = _ints(shifts, "shifts", 2)
    axes = () if dims is None else _ints(dims, "dims", 3)
    if not steps:
        raise RuntimeError("`shifts` required")
    if not axes and len(steps) == 1:  # the flattened tensor, its shape kept
        dims = None
    elif len(steps) != len(axes):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(steps)}, "
                           f"dims:{len(axes)}")
    else:
        dims = tuple(_dim(d, self.dim(), "roll") for d in axes)
    if self.numel() == 0:
        return self.clone()
    # the shifts are inputs of the step, not part of its structure: an augmentation
    # rolling by a random amount each step compiles once
    return _op(_roll, (dims,), self, *steps, who="roll")


def _tril(x: Any, k: int) -> Any:
    return jnp.tril(x, k)


def _triu(x: Any, k: int) -> Any:
    return jnp.triu(x, k)


def _check_matrices(self: Tensor, who: str) -> None:
    """PyTorch's refusal of a triangle of fewer than two dimensions (JAX's ValueError
    otherwise)."""
    if self.dim() < 2:
        raise RuntimeError(f"{who}: input tensor must have at least 2 dimensions")


def tril(self: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dimensions (the rest zeroed)."""
    _check_matrices(self, "tril")
    return _op(_tril, (int(diagonal),), self, who="tril")


def triu(self: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dimensions (the rest zeroed)."""
    _check_matrices(self, "triu")
    return _op(_triu, (int(diagonal),), self, who="triu")


def _diag(x: Any, k: int) -> Any:
    return jnp.diag(x, k)


def diag(self: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D tensor's square diagonal matrix, or a matrix's diagonal."""
    if self.dim() not in (1, 2):
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {self.dim()}D")
    return _op(_diag, (int(diagonal),), self, who="diag")


def _repeat_interleave(x: Any, repeats: int | tuple[int, ...], dim: int | None) -> Any:
    if isinstance(repeats, int):
        return jnp.repeat(x, repeats, axis=dim)
    return jnp.repeat(x, np.asarray(repeats), axis=dim, total_repeat_length=sum(repeats))


def repeat_interleave(self: Tensor, repeats: Any = None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Each element (or slice along ``dim``) repeated ``repeats`` times in place;
    ``repeats`` an int or one count per element (a tensor, read on the host: it sets the
    result's size). ``torch.repeat_interleave(counts)`` alone repeats each index."""
    del output_size  # the counts are read on the host anyway
    if repeats is None:  # torch.repeat_interleave(counts): index i, counts[i] times
        counts = self
        return repeat_interleave(_as_tensor(np.arange(counts.numel(), dtype=_INDEX)), counts)
    if isinstance(repeats, (Tensor, list, tuple, np.ndarray)):
        values = np.asarray(repeats.tolist() if isinstance(repeats, Tensor) else repeats)
        if values.ndim > 1 or not np.issubdtype(values.dtype, np.integer):
            raise RuntimeError("repeat_interleave: repeats must be 0-dim or 1-dim tensor of "
                               "integers")
        repeats = int(values) if values.ndim == 0 else tuple(int(v) for v in values)
    if isinstance(repeats, bool) or not isinstance(repeats, (int, tuple)) or \
            (isinstance(repeats, int) and repeats < 0) or \
            (isinstance(repeats, tuple) and any(r < 0 for r in repeats)):
        raise RuntimeError(f"repeat_interleave: repeats can not be negative, got {repeats!r}")
    dim = None if dim is None else _dim(dim, self.dim(), "repeat_interleave")
    if isinstance(repeats, tuple):
        size = self.numel() if dim is None else self.shape[dim]
        if len(repeats) == 1:
            repeats = repeats[0]
        elif len(repeats) != size:
            raise RuntimeError(f"repeats must have the same size as input along dim, but "
                               f"got repeats.size(0) = {len(repeats)} and input.size({dim or 0}) "
                               f"= {size}")
    return _op(_repeat_interleave, (repeats, dim), self, who="repeat_interleave")


def _outer(a: Any, b: Any) -> Any:
    return jnp.outer(a, b)


def _check_outer(self: Tensor, vec2: Tensor) -> None:
    for name, t in (("self", self), ("vec2", vec2)):  # jnp.outer would flatten them
        if t.dim() != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t.dim()}-D")


def outer(self: Tensor, vec2: Any) -> Tensor:
    """The outer product of two 1-D tensors."""
    return _op(_outer, (), self, _as_tensor(vec2), check=_check_outer, who="outer")


# -- elementwise ------------------------------------------------------------------------


def _elementwise(name: str, fn: Any, doc: str) -> Any:
    def method(self: Tensor) -> Tensor:
        return _op(fn, (), self, who=name)

    method.__name__ = name
    method.__doc__ = doc
    return method


def _sign(x: Any) -> Any:
    # PyTorch's sign of -0.0 is 0.0 (jnp.sign keeps the zero's sign, which prints "-0."),
    # and of NaN 0.0 too (jnp.sign's is NaN)
    return jnp.where((x == 0) | jnp.isnan(x), jnp.zeros_like(x), jnp.sign(x))


sign = _elementwise("sign", _sign, "-1, 0 or 1 by the sign of each element.")
isnan = _elementwise("isnan", jnp.isnan, "True where an element is NaN.")
isinf = _elementwise("isinf", jnp.isinf, "True where an element is infinite.")
isfinite = _elementwise("isfinite", jnp.isfinite, "True where an element is finite.")


# -- matrices ---------------------------------------------------------------------------


def _bmm(a: Any, b: Any) -> Any:
    return matmul(a, b)


def bmm(self: Tensor, mat2: Any) -> Tensor:
    """Batched matrix product: ``[B, n, m] @ [B, m, p] -> [B, n, p]``."""
    mat2 = _as_tensor(mat2)
    for name, operand in (("batch1", self), ("batch2", mat2)):
        if operand.dim() != 3:
            raise RuntimeError(f"{name} must be a 3D tensor")
    if self.shape[0] != mat2.shape[0] or self.shape[2] != mat2.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to "
                           f"be: [{self.shape[0]}, {self.shape[2]}] but got: "
                           f"[{mat2.shape[0]}, {mat2.shape[1]}].")
    return _op(_bmm, (), self, mat2, check=check_matmul, who="bmm")


def _sublist_equation(args: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
    """``einsum(a, [0, 1], b, [1, 2], [0, 2])`` as ``("Ab,bc->Ac"-style equation, (a, b))``:
    each operand followed by its dimensions as integers in [0, 52) or ``...``, then
    optionally the output's."""
    letters = string.ascii_uppercase + string.ascii_lowercase

    def subscripts(dims: Any) -> str:
        out = []
        for d in dims:
            if d is Ellipsis:
                out.append("...")
            elif isinstance(d, int) and 0 <= d < len(letters):
                out.append(letters[d])
            else:
                raise ValueError("einsum(): subscript in subscript list is not within the "
                                 "valid range [0, 52)")
        return "".join(out)

    operands, lists = args[0::2], args[1::2]
    if len(args) % 2:  # the output's subscripts come last
        operands, lists = args[0:-1:2], args[1:-1:2]
    equation = ",".join(subscripts(dims) for dims in lists)
    if len(args) % 2:
        equation += "->" + subscripts(args[-1])
    return equation, operands


def einsum(equation: Any, *operands: Any) -> Tensor:
    """PyTorch equivalent: ``torch.einsum`` (operands as arguments or one list, or the
    sublist form ``einsum(a, [0, 1], b, [1, 2], [0, 2])``)."""
    if isinstance(equation, Tensor) and operands:
        equation, operands = _sublist_equation((equation, *operands))
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): argument 'equation' must be str, not "
                        f"{type(equation).__name__}")
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    tensors = [_as_tensor(t) for t in operands]
    return _op(_einsum_positional, (equation, len(tensors)), *tensors, who="einsum",
               check=_check_einsum)


def _check_einsum(*args: Any) -> None:
    """PyTorch's errors for operands that do not fit the equation: their count,
    their ranks, and sizes of one subscript (or of the ellipsis's dimensions, aligned
    from the right) that do not broadcast; checked once per recorded structure."""
    *operands, equation, _ = args
    terms = equation.replace(" ", "").split("->")[0].split(",")
    if len(operands) < len(terms):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the "
                           "equation")
    if len(operands) > len(terms):  # PyTorch's path-finding step words this one
        raise ValueError(f"Number of einsum subscripts, {len(terms)}, must be equal to the "
                         f"number of operands, {len(operands)}.")
    sizes: dict[str, int] = {}
    ellipsis: list[int] = []  # the ellipsis's sizes so far, right-aligned
    for i, (term, operand) in enumerate(zip(terms, operands, strict=True)):
        shape = tuple(operand.shape)
        before, dots, after = term.partition("...")
        if not dots and len(term) != len(shape):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                               f"({len(term)}) does not match the number of dimensions "
                               f"({len(shape)}) for operand {i} and no ellipsis was given")
        if dots and len(before) + len(after) > len(shape):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                               f"({len(before) + len(after)}) is more than the number of "
                               f"dimensions ({len(shape)}) for operand {i}")
        covered = shape[len(before):len(shape) - len(after)] if dots else ()
        labelled = zip(before + after, shape[:len(before)] + shape[len(shape) - len(after):],
                       strict=True)
        mine: dict[str, int] = {}
        for label, size in labelled:
            if label in mine and mine[label] != size:
                raise RuntimeError(f"einsum(): subscript {label} is repeated for operand {i} "
                                   f"but the sizes don't match, {size} != {mine[label]}")
            mine[label] = size
            seen = sizes.get(label)
            if seen is not None and 1 not in (seen, size) and seen != size:
                raise RuntimeError(f"einsum(): subscript {label} has size {size} for operand "
                                   f"{i} which does not broadcast with previously seen size "
                                   f"{seen}")
            if seen is None or seen == 1:
                sizes[label] = size
        for k in range(1, len(covered) + 1):
            size = covered[-k]
            if k > len(ellipsis):
                ellipsis.insert(0, size)
            elif 1 not in (ellipsis[-k], size) and ellipsis[-k] != size:
                raise RuntimeError(f"einsum(): dimension {len(covered) - k} covered by "
                                   f"ellipsis in operand {i}has size {size} which does not "
                                   f"broadcast with previously seen ellipsis with size "
                                   f"{ellipsis[-k]} for the respective dimension")
            elif ellipsis[-k] == 1:
                ellipsis[-k] = size


def _einsum_positional(*args: Any) -> Any:
    *operands, equation, _ = args
    return jnp.einsum(equation, *operands)


# -- new tensors like this one ----------------------------------------------------------


def _new(self: Tensor, fill: Any, size: tuple[Any, ...], dtype: Any, device: Any,
         layout: Any, pin_memory: bool) -> Tensor:
    from fnnet.torch._functions import full

    shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], Sequence) else size
    return full(shape, fill, dtype=self.dtype if dtype is None else dtype, device=device,
                layout=layout, pin_memory=pin_memory)


def new_zeros(self: Tensor, *sizes: Any, size: Any = None, dtype: Any = None,
              device: Any = None, requires_grad: bool = False, layout: Any = None,
              pin_memory: bool = False) -> Tensor:
    """Zeros of ``size`` with this tensor's dtype."""
    return _new(self, 0, sizes if size is None else (size,), dtype, device, layout,
                pin_memory).requires_grad_(requires_grad)


def new_ones(self: Tensor, *sizes: Any, size: Any = None, dtype: Any = None,
             device: Any = None, requires_grad: bool = False, layout: Any = None,
             pin_memory: bool = False) -> Tensor:
    """Ones of ``size`` with this tensor's dtype."""
    return _new(self, 1, sizes if size is None else (size,), dtype, device, layout,
                pin_memory).requires_grad_(requires_grad)


def new_full(self: Tensor, size: Any, fill_value: Any, *, dtype: Any = None,
             device: Any = None, requires_grad: bool = False, layout: Any = None,
             pin_memory: bool = False) -> Tensor:
    """``fill_value`` in a tensor of ``size`` with this tensor's dtype."""
    return _new(self, fill_value, (size,), dtype, device, layout, pin_memory
                ).requires_grad_(requires_grad)


METHODS = (topk, sort, argsort, gather, scatter, scatter_add, scatter_, scatter_add_,
           index_select, cumsum, cumprod, logsumexp, split, chunk, narrow, flip, roll,
           tril, triu, diag, repeat_interleave, outer, sign, isnan, isinf, isfinite, bmm,
           new_zeros, new_ones, new_full)
# The ones PyTorch also offers as torch.<name>(tensor, ...)
FUNCTIONS = ("topk", "sort", "argsort", "gather", "scatter", "scatter_add", "index_select",
             "cumsum", "cumprod", "logsumexp", "chunk", "narrow", "flip", "roll",
             "tril", "triu", "diag", "repeat_interleave", "outer", "sign", "isnan", "isinf",
             "isfinite", "bmm")


def install(namespace: dict[str, Any]) -> None:
    """Adds the methods to :class:`Tensor` and the functions to ``namespace``
    (``fnnet.torch``'s globals)."""
    for method in METHODS:
        setattr(Tensor, method.__name__, method)
    for name in FUNCTIONS:
        method = getattr(Tensor, name)

        def function(input: Any, *args: Any, _method: Any = method, _name: str = name,
                     **kwargs: Any) -> Any:
            if not isinstance(input, Tensor):  # PyTorch's functions take no numbers or lists
                raise TypeError(f"{_name}(): argument 'input' (position 1) must be Tensor, "
                                f"not {type_name(input)}")
            return _method(input, *args, **kwargs)

        function.__name__ = name
        function.__doc__ = f"PyTorch equivalent: ``torch.{name}`` (same as ``Tensor.{name}``)."
        namespace[name] = function
    namespace["einsum"] = einsum
    namespace["split"] = split_function
    split_function.__name__ = "split"
