"""The PyTorch names that move, stack and multiply tensors beyond the core ops: axis
moves (``movedim``, ``swapaxes``...), ``tile``/``unbind``/``unflatten``, ``diagonal``
and ``trace``, the flips and ``rot90``, the stacking helpers (``hstack``, ``atleast_2d``,
``broadcast_tensors``...) and small matrix products (``dot``, ``mv``, ``addmm``,
``tensordot``, ``kron``, ``cross``).

Each recorded op is a module-level ``jax.numpy`` function (differentiable, compiled with
the step, and the same object at every call so the step cache recognises it);
:mod:`fnnet.torch._surface_ops` installs them on :class:`~fnnet.torch.tensor.Tensor` and
``fnnet.torch``.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fnnet.nn.functional import matmul
from fnnet.nn.functional.linear import add_matrix_product
from fnnet.torch import _dtypes, _graph, _views
from fnnet.torch._mixed_dtypes import check_matmul
from fnnet.torch._more_ops import flip
from fnnet.torch.tensor import (
    Tensor,
    _as_tensor,
    _dim,
    _op,
    _op_multi,
    _scalar_or_tensor,
    _shape_args,
)


def tensor_arg(value: Any, who: str, name: str) -> Tensor:
    """``value`` as a tensor (numbers and arrays converted); a TypeError naming ``who``
    and the argument otherwise."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (int, float, np.ndarray, np.number, list, tuple)) and \
            not isinstance(value, builtins.bool):
        return _as_tensor(value)
    raise TypeError(f"{who}(): argument '{name}' must be Tensor, not {type(value).__name__}")


_tensor_arg = tensor_arg
# -- shape ------------------------------------------------------------------------------


def _tile(x: Any, reps: tuple[int, ...]) -> Any:
    return jnp.tile(x, reps)


def tile(self: Tensor, *reps: Any, dims: Any = None) -> Tensor:
    """``self`` repeated ``dims`` times along each axis (ones padded in front), given as
    several numbers or one sequence (``dims=``, PyTorch's keyword).

    PyTorch equivalent: ``torch.tile``.
    """
    return _op(_tile, (_shape_args(reps if dims is None else (dims,)),), self, who="tile")


def _unbind(x: Any, dim: int) -> tuple[Any, ...]:
    return tuple(jax.lax.index_in_dim(x, i, axis=dim, keepdims=False)
                 for i in range(x.shape[dim]))


def unbind(self: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices of ``self`` along ``dim``. PyTorch equivalent: ``torch.unbind``."""
    dim = _dim(dim, self.dim(), "unbind")
    if self.dim() == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    if self.shape[dim] == 0:
        return ()
    pieces = [t for t in _op_multi(_unbind, (dim,), self, who="unbind") if t is not None]
    return tuple(_views.link_index(t, self, _views.along(dim, i)) for i, t in enumerate(pieces))


def select(self: Tensor, dim: int, index: int) -> Tensor:
    """The slice at ``index`` along ``dim`` (that dimension removed), a view as
    ``self[..., index, ...]``. PyTorch equivalent: ``torch.select``."""
    if self.dim() == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    dim = _dim(dim, self.dim(), "select")
    size = self.shape[dim]
    if not isinstance(index, int) or not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(self.shape)} at dimension {dim}")
    return self[_views.along(dim, index)]


def _unflatten(x: Any, dim: int, sizes: tuple[int, ...]) -> Any:
    return x.reshape(x.shape[:dim] + sizes + x.shape[dim + 1:])


def unflatten(self: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """Dimension ``dim`` split into ``sizes`` (one may be -1).

    PyTorch equivalent: ``Tensor.unflatten``.
    """
    dim = _dim(dim, self.dim(), "unflatten")
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    known = math.prod(s for s in sizes if s != -1)
    if sizes.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    if sizes.count(-1) == 1:
        if known == 0 or self.shape[dim] % known:
            raise RuntimeError(f"shape '{list(sizes)}' is invalid for input of size "
                               f"{self.shape[dim]}")
        sizes = tuple(self.shape[dim] // known if s == -1 else s for s in sizes)
    elif known != self.shape[dim]:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to "
                           f"the size of dim {dim} ({self.shape[dim]}) in the input tensor")
    return _op(_unflatten, (dim, sizes), self, who="unflatten")


def _unfold(x: Any, dim: int, size: int, step: int) -> Any:
    count = (x.shape[dim] - size) // step + 1
    starts = np.arange(count)[:, None] * step + np.arange(size)[None, :]
    return jnp.moveaxis(jnp.take(x, starts, axis=dim), dim + 1, -1)


def unfold(self: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Every window of ``size`` along ``dimension``, ``step`` apart: that dimension
    becomes the window count ``(L - size) // step + 1`` and a new last dimension holds
    each window (``x: [L] -> [(L - size) // step + 1, size]``).

    PyTorch equivalent: ``Tensor.unfold``.
    """
    if self.dim() == 0:
        if dimension not in (0, -1):
            _dim(dimension, 1, "unfold")
        if size != 1 or step <= 0:
            raise RuntimeError(f"unfold of a 0-dim tensor needs size 1 and a positive "
                               f"step, got size {size} and step {step}")
        return self.reshape(1)
    dimension = _dim(dimension, self.dim(), "unfold")
    if not isinstance(size, int) or not isinstance(step, int) or size < 0:
        raise RuntimeError(f"unfold: size and step must be ints, size >= 0; got size "
                           f"{size!r} and step {step!r}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if size > self.shape[dimension]:
        raise RuntimeError(f"maximum size for tensor at dimension {dimension} is "
                           f"{self.shape[dimension]} but size is {size}")
    out = _op(_unfold, (dimension, size, step), self, who="unfold")
    return _views.link(out, self, ("unfold", dimension, size, step))  # a view, as PyTorch's


def _movedim(x: Any, source: tuple[int, ...], destination: tuple[int, ...]) -> Any:
    return jnp.moveaxis(x, source, destination)


def movedim(self: Tensor, source: Any, destination: Any) -> Tensor:
    """Dimensions ``source`` moved to ``destination``. PyTorch: ``torch.movedim``."""
    src = tuple(source) if isinstance(source, (list, tuple)) else (source,)
    dst = tuple(destination) if isinstance(destination, (list, tuple)) else (destination,)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)}"
                           f" dims) should contain the same number of dims as destination "
                           f"({list(dst)} dims)")
    ndim = self.dim()
    src = tuple(_dim(d, ndim, "movedim") for d in src)
    dst = tuple(_dim(d, ndim, "movedim") for d in dst)
    for name, dims in (("source", src), ("destination", dst)):
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(dims)})")
    return _op(_movedim, (src, dst), self, who="movedim")


def swapaxes(self: Tensor, axis0: int, axis1: int) -> Tensor:
    """PyTorch equivalent: ``torch.swapaxes`` (``transpose``)."""
    return self.transpose(axis0, axis1)


def swapdims(self: Tensor, dim0: int, dim1: int) -> Tensor:
    """PyTorch equivalent: ``torch.swapdims`` (``transpose``)."""
    return self.transpose(dim0, dim1)


def ravel(self: Tensor) -> Tensor:
    """``self`` as one dimension. PyTorch equivalent: ``torch.ravel``."""
    return self.reshape(-1)


def broadcast_to(self: Tensor, size: Any) -> Tensor:
    """``self`` broadcast to ``size`` (-1 keeps a size). PyTorch: ``torch.broadcast_to``."""
    return self.expand(*_shape_args((size,)))


def _sum_to(x: Any, shape: tuple[int, ...]) -> Any:
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape)
                                      if s == 1 and x.shape[lead + i] != 1)
    return jnp.sum(x, axis=axes, keepdims=True).reshape(shape)


def sum_to_size(self: Tensor, *sizes: Any, size: Any = None) -> Tensor:
    """``self`` summed down to ``size`` (several numbers or one sequence), which it must
    broadcast from.

    PyTorch equivalent: ``Tensor.sum_to_size``.
    """
    shape = _shape_args(sizes if size is None else (size,))
    ours = tuple(self.shape)
    lead = len(ours) - len(shape)
    if lead < 0 or any(s not in (1, o) for s, o in zip(shape, ours[lead:], strict=True)):
        raise RuntimeError(f"size {{{list(shape)}}} is not expandable to size "
                           f"{{{list(ours)}}}.")
    return _op(_sum_to, (shape,), self, who="sum_to_size")


def _diagonal(x: Any, offset: int, dim1: int, dim2: int) -> Any:
    return jnp.diagonal(x, offset, dim1, dim2)


def diagonal(self: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of the planes ``(dim1, dim2)``, moved last.

    PyTorch equivalent: ``torch.diagonal``.
    """
    d1, d2 = _dim(dim1, self.dim(), "diagonal"), _dim(dim2, self.dim(), "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    out = _op(_diagonal, (offset, d1, d2), self, who="diagonal")
    return _views.link(out, self, ("diagonal", offset, d1, d2))  # a view, as PyTorch's


def trace(self: Tensor) -> Tensor:
    """The sum of the main diagonal of a matrix. PyTorch equivalent: ``torch.trace``."""
    if self.dim() != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim "
                           f"{self.dim()}")
    if not self.is_floating_point():  # an integer sum's dtype, as sum()'s
        return diagonal(self).sum()
    return _op(_trace, (), self)


def _trace(x: Any) -> Any:
    """The diagonal's sum, one op (PyTorch's TraceBackward0)."""
    return jnp.trace(x)


def fliplr(self: Tensor) -> Tensor:
    """PyTorch equivalent: ``torch.fliplr`` (``flip(1)``)."""
    if self.dim() < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(self, 1)


def flipud(self: Tensor) -> Tensor:
    """PyTorch equivalent: ``torch.flipud`` (``flip(0)``)."""
    if self.dim() < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(self, 0)


def _rot90(x: Any, k: int, dims: tuple[int, int]) -> Any:
    return jnp.rot90(x, k, dims)


def rot90(self: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """``self`` turned ``k`` quarter turns from ``dims[0]`` to ``dims[1]``.

    PyTorch equivalent: ``torch.rot90``.
    """
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if self.dim() < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {self.dim()}")
    d = (_dim(dims[0], self.dim(), "rot90"), _dim(dims[1], self.dim(), "rot90"))
    if d[0] == d[1]:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = "
                           f"{dims[0]} and dim1 = {dims[1]}")
    return _op(_rot90, (int(k), d), self, who="rot90")


# -- matrices ---------------------------------------------------------------------------


def dot(self: Tensor, tensor: Any) -> Tensor:
    """The inner product of two vectors. PyTorch equivalent: ``torch.dot``."""
    tensor = _tensor_arg(tensor, "dot", "tensor")
    if self.dim() != 1 or tensor.dim() != 1:
        raise RuntimeError(f"1D tensors expected, but got {self.dim()}D and {tensor.dim()}D "
                           f"tensors")
    check_matmul(self, tensor)  # PyTorch's words for two element types (Long and Float)
    if self.shape[0] != tensor.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{self.shape[0]}] and "
                           f"src [{tensor.shape[0]}] to have the same number of elements, but "
                           f"got {self.shape[0]} and {tensor.shape[0]} elements respectively")
    return _op(jnp.dot, (), self, tensor, who="dot")


def _mv(a: Any, v: Any) -> Any:
    return matmul(a, v)


def mv(self: Tensor, vec: Any) -> Tensor:
    """Matrix ``[n, m]`` times vector ``[m]``. PyTorch equivalent: ``torch.mv``."""
    vec = _tensor_arg(vec, "mv", "vec")
    if self.dim() != 2 or vec.dim() != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {self.dim()}, "
                           f"{vec.dim()}")
    if self.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({self.shape[0]}), mat "
                           f"({self.shape[0]}x{self.shape[1]}), vec ({vec.shape[0]})")
    return _op(_mv, (), self, vec, who="mv")


def _addmm(x: Any, a: Any, b: Any, beta: Any, alpha: Any) -> Any:
    return add_matrix_product(x, a, b, beta, alpha)


def addmm(self: Tensor, mat1: Any, mat2: Any, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * self + alpha * (mat1 @ mat2)``. PyTorch equivalent: ``torch.addmm``."""
    mat1, mat2 = _tensor_arg(mat1, "addmm", "mat1"), _tensor_arg(mat2, "addmm", "mat2")
    if mat1.dim() != 2 or mat2.dim() != 2:
        raise RuntimeError(f"mat1 must be a matrix, got {mat1.dim()}-D tensor"
                           if mat1.dim() != 2 else
                           f"mat2 must be a matrix, got {mat2.dim()}-D tensor")
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x"
                           f"{mat1.shape[1]} and {mat2.shape[0]}x{mat2.shape[1]})")
    return _op(_addmm, (), self, mat1, mat2, _scalar_or_tensor(beta),
               _scalar_or_tensor(alpha), who="addmm")


def _tensordot(a: Any, b: Any, axes: Any) -> Any:
    return jnp.tensordot(a, b, axes)


def tensordot(a: Any, b: Any, dims: Any = 2, out: Any = None) -> Tensor:
    """Contraction of the last ``dims`` axes of ``a`` with the first of ``b`` (or the
    listed pairs). PyTorch equivalent: ``torch.tensordot``."""
    if out is not None:
        from fnnet.torch._out import check_no_grad, deliver

        check_no_grad("tensordot", (a, b), {})
        written: Tensor = deliver("tensordot", out, tensordot(a, b, dims))
        return written
    a, b = _tensor_arg(a, "tensordot", "a"), _tensor_arg(b, "tensordot", "b")
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (list, tuple)):
        if len(dims) != 2:
            raise RuntimeError("tensordot expects dims to be a pair of lists")
        first, second = ([d] if isinstance(d, int) else list(d) for d in dims)
        axes: Any = (tuple(first), tuple(second))
    elif isinstance(dims, int) and not isinstance(dims, builtins.bool):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        axes = dims
    else:
        raise TypeError(f"tensordot(): argument 'dims' must be int or a pair of lists, not "
                        f"{type(dims).__name__}")
    return _op(_tensordot, (axes,), a, b, who="tensordot")


def kron(self: Tensor, other: Any) -> Tensor:
    """The Kronecker product. PyTorch equivalent: ``torch.kron``."""
    return _op(jnp.kron, (), self, _tensor_arg(other, "kron", "other"), who="kron")


def _cross(a: Any, b: Any, dim: int) -> Any:
    return jnp.cross(a, b, axis=dim)


def cross(self: Tensor, other: Any, dim: int | None = None) -> Tensor:
    """The 3-vector cross product along ``dim`` (the first of size 3 by default).

    PyTorch equivalent: ``torch.cross``.
    """
    other = _tensor_arg(other, "cross", "other")
    if self.dim() != other.dim():
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    if dim is None:
        sizes = [i for i, s in enumerate(jnp.broadcast_shapes(self.shape, other.shape))
                 if s == 3]
        if not sizes:
            raise RuntimeError("no dimension of size 3 in input")
        dim = sizes[0]
    d = _dim(dim, self.dim(), "cross")
    if self.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{self.shape[d]} and {other.shape[d]}")
    return _op(_cross, (d,), self, other, who="cross")


def _take_along(x: Any, index: Any, dim: int | None) -> Any:
    if dim is None:
        return jnp.take_along_axis(x.reshape(-1), index.reshape(-1), axis=0)
    return jnp.take_along_axis(x, index, axis=dim)


def take_along_dim(self: Tensor, indices: Any, dim: int | None = None) -> Tensor:
    """Elements picked by ``indices`` along ``dim`` (of the flattened tensor without).

    PyTorch equivalent: ``torch.take_along_dim``.
    """
    indices = _tensor_arg(indices, "take_along_dim", "indices")
    if indices.is_floating_point() or indices.dtype == _dtypes.bool_:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but "
                           f"got {_dtypes.scalar_name(indices.dtype)}")
    if dim is not None:
        dim = _dim(dim, self.dim(), "take_along_dim")
        if self.dim() != indices.dim():
            raise RuntimeError(f"torch.take_along_dim(): input and indices should have the "
                               f"same number of dimensions, but got {self.dim()} dimensions "
                               f"for input, and {indices.dim()} dimensions for indices")
    return _op(_take_along, (dim,), self, indices, who="take_along_dim")



# -- stacking ---------------------------------------------------------------------------


def _stack_like(name: str, fn: Callable[..., Any]) -> Callable[..., Tensor]:
    def op(*xs: Any) -> Any:
        return fn(xs)

    op.__name__ = "_" + name

    def function(tensors: Any) -> Tensor:  # (out= is fnnet.torch._out's)
        if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
            raise TypeError(f"{name}(): argument 'tensors' must be tuple of Tensors, not "
                            f"{type(tensors).__name__}")
        if not tensors:
            raise RuntimeError(f"{name} expects a non-empty TensorList")
        return _op(op, (), *(_tensor_arg(t, name, "tensors") for t in tensors), who=name)

    function.__name__ = name
    function.__doc__ = f"PyTorch equivalent: ``torch.{name}`` (numpy's ``{name}``)."
    return function


hstack = _stack_like("hstack", jnp.hstack)
vstack = _stack_like("vstack", jnp.vstack)
dstack = _stack_like("dstack", jnp.dstack)
column_stack = _stack_like("column_stack", jnp.column_stack)


def _atleast(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def op(x: Any) -> Any:
        return fn(x)

    op.__name__ = "_" + name

    def function(*tensors: Any) -> Any:
        many = len(tensors) != 1 or isinstance(tensors[0], (list, tuple))
        items = tensors[0] if len(tensors) == 1 and many else tensors
        out = tuple(_op(op, (), _tensor_arg(t, name, "tensors"), who=name) for t in items)
        return out if many else out[0]

    function.__name__ = name
    function.__doc__ = f"PyTorch equivalent: ``torch.{name}``."
    return function


atleast_1d = _atleast("atleast_1d", jnp.atleast_1d)
atleast_2d = _atleast("atleast_2d", jnp.atleast_2d)
atleast_3d = _atleast("atleast_3d", jnp.atleast_3d)


def _broadcast_all(*xs: Any) -> tuple[Any, ...]:
    return tuple(jnp.broadcast_arrays(*xs))


def broadcast_tensors(*tensors: Any) -> tuple[Tensor, ...]:
    """The tensors broadcast to one shape. PyTorch equivalent: ``torch.broadcast_tensors``."""
    items = [_tensor_arg(t, "broadcast_tensors", "tensors") for t in tensors]
    mismatch = _graph.broadcast_mismatch([tuple(t.shape) for t in items])
    if mismatch is not None:
        raise RuntimeError(mismatch)
    outs = _op_multi(_broadcast_all, (), *items, who="broadcast_tensors")
    # each is a view of its tensor, as PyTorch's expanded views
    return tuple(_views.link_expand(out, item) for out, item in zip(outs, items, strict=True)
                 if out is not None)
