"""Splits along a named axis (``hsplit``, ``vsplit``, ``dsplit``, ``split_with_sizes``) and
the scatters that write a tensor into one slice of a copy (``select_scatter``,
``slice_scatter``, ``diagonal_scatter``), as PyTorch's functions and methods.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from fnnet.torch._more_ops import split
from fnnet.torch._search_ops import overload_argument, tensor_split
from fnnet.torch._shape_ops import tensor_arg
from fnnet.torch.tensor import Tensor, _dim, _op


def _split_named(who: str, axis: int, least: int, self: Tensor, sections: Any
                 ) -> tuple[Tensor, ...]:
    if self.dim() < least:
        raise RuntimeError(f"torch.{who} requires a tensor with at least {least} dimension, "
                           f"but got a tensor with {self.dim()} dimensions!")
    if isinstance(sections, int) and not isinstance(sections, bool):
        size = self.shape[axis]
        if sections == 0 or size % sections:
            raise RuntimeError(f"torch.{who} attempted to split along dimension {axis}, but "
                               f"the size of the dimension {size} is not divisible by the "
                               f"split_size {sections}!")
    return tensor_split(self, sections, axis)


def hsplit(input: Tensor, sections: Any = None, *,
           indices: Any = None) -> tuple[Tensor, ...]:
    """Splits along the columns (dimension 1; 0 of a 1-D tensor).

    PyTorch equivalent: ``torch.hsplit``.
    """
    return _split_named("hsplit", 1 if input.dim() > 1 else 0, 1, input,
                        overload_argument("hsplit", sections=sections, indices=indices))


def vsplit(input: Tensor, sections: Any = None, *,
           indices: Any = None) -> tuple[Tensor, ...]:
    """Splits along the rows (dimension 0). PyTorch equivalent: ``torch.vsplit``."""
    return _split_named("vsplit", 0, 2, input,
                        overload_argument("vsplit", sections=sections, indices=indices))


def dsplit(input: Tensor, sections: Any = None, *,
           indices: Any = None) -> tuple[Tensor, ...]:
    """Splits along the depth (dimension 2). PyTorch equivalent: ``torch.dsplit``."""
    return _split_named("dsplit", 2, 3, input,
                        overload_argument("dsplit", sections=sections, indices=indices))


def split_with_sizes(input: Tensor, split_sizes: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces of the listed sizes along ``dim``. PyTorch equivalent:
    ``torch.split_with_sizes``."""
    return split(input, [int(s) for s in split_sizes], dim)


def _scatter_into(x: Any, src: Any, axis: int, where: int | tuple[Any, Any, int]) -> Any:
    """``x`` with ``src`` at index ``where`` (an int, or a slice's start, end and step)
    along ``axis``."""
    key = where if isinstance(where, int) else slice(*where)
    return x.at[(slice(None),) * axis + (key,)].set(src.astype(x.dtype))


def _check_src(who: str, src: Any, region: tuple[int, ...]) -> Tensor:
    """``src`` as a tensor of the slice's shape exactly, as PyTorch requires."""
    tensor: Tensor = tensor_arg(src, who, "src")
    if tuple(tensor.shape) != region:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src "
                           f"size = {list(tensor.shape)}, slice size = {list(region)}")
    return tensor


def select_scatter(input: Tensor, src: Any, dim: int, index: int) -> Tensor:
    """A copy of ``input`` with ``src`` as ``input.select(dim, index)``.

    PyTorch equivalent: ``torch.select_scatter``.
    """
    axis = _dim(dim, input.dim(), "select_scatter")
    size = input.shape[axis]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {axis}")
    shape = tuple(input.shape)
    src = _check_src("select_scatter", src, shape[:axis] + shape[axis + 1:])
    return _op(_scatter_into, (axis, index % size), input, src, who="select_scatter")


def slice_scatter(input: Tensor, src: Any, dim: int = 0, start: int | None = None,
                  end: int | None = None, step: int = 1) -> Tensor:
    """A copy of ``input`` with ``src`` as its slice ``start:end:step`` along ``dim``.

    PyTorch equivalent: ``torch.slice_scatter``.
    """
    axis = _dim(dim, input.dim(), "slice_scatter")
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    shape = list(input.shape)
    shape[axis] = len(range(*slice(start, end, step).indices(shape[axis])))
    src = _check_src("slice_scatter", src, tuple(shape))
    return _op(_scatter_into, (axis, (start, end, step)), input, src, who="slice_scatter")


def _diagonal_scatter(x: Any, src: Any, offset: int, dim1: int, dim2: int) -> Any:
    moved = jnp.moveaxis(x, (dim1, dim2), (-2, -1))
    rows = jnp.arange(src.shape[-1]) + max(-offset, 0)
    moved = moved.at[..., rows, rows + offset].set(src.astype(x.dtype))
    return jnp.moveaxis(moved, (-2, -1), (dim1, dim2))


def diagonal_scatter(input: Tensor, src: Any, offset: int = 0, dim1: int = 0,
                     dim2: int = 1) -> Tensor:
    """A copy of ``input`` with ``src`` as its ``offset`` diagonal in ``dim1``, ``dim2``.

    PyTorch equivalent: ``torch.diagonal_scatter``.
    """
    d1 = _dim(dim1, input.dim(), "diagonal_scatter")
    d2 = _dim(dim2, input.dim(), "diagonal_scatter")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    shape = tuple(input.shape)
    length = max(0, min(shape[d1] - max(-offset, 0), shape[d2] - max(offset, 0)))
    others = tuple(n for i, n in enumerate(shape) if i not in (d1, d2))
    src = _check_src("diagonal_scatter", src, (*others, length))
    return _op(_diagonal_scatter, (int(offset), d1, d2), input, src, who="diagonal_scatter")


def install(namespace: dict[str, Any]) -> None:
    """Adds the functions to ``namespace`` (``fnnet.torch``'s globals) and the methods to
    :class:`Tensor`."""
    for fn in (hsplit, vsplit, dsplit, split_with_sizes, select_scatter, slice_scatter,
               diagonal_scatter):
        namespace[fn.__name__] = fn
        setattr(Tensor, fn.__name__, fn)
