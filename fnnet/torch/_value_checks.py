"""PyTorch's errors for reductions and expansions it refuses: the mean or spread of
integers, the maximum of an empty tensor, an expansion of a size other than 1.

JAX computes the first two (promoting, or returning ``-inf``) and words the third as its
own broadcasting error. Each check is given to the recorder as an op's ``check``: it runs
the first time a structure is seen, with the recorded input and the op's static
arguments, before anything is recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fnnet.torch._dtypes import scalar_name
from fnnet.torch._graph import broadcast_mismatch
from fnnet.torch._mixed_dtypes import C_NAMES


def _scalar(x: Any) -> str:
    return scalar_name(x.dtype)


def _floating(x: Any) -> bool:
    return bool(x.dtype.is_floating_point)


def _inexact(x: Any) -> bool:
    return bool(x.dtype.is_floating_point or x.dtype.is_complex)


def check_mean(x: Any, *static: Any) -> None:
    """``mean`` of an integer or boolean tensor (a ``dtype=`` argument casts first)."""
    if not _inexact(x):
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either "
                           f"a floating point or complex dtype. Got: {_scalar(x)}")


def check_moments(x: Any, *static: Any) -> None:
    """``std`` and ``var`` of an integer or boolean tensor."""
    if not _inexact(x):
        raise RuntimeError("std and var only support floating point and complex dtypes")


def floating_kernel(op: str) -> Callable[..., None]:
    """The check of ``op(x, dim)`` (softmax, log_softmax), whose CPU kernels PyTorch has
    for floating types only (``dtype=`` casts first)."""

    def check(x: Any, dim: Any, *static: Any) -> None:
        if not _floating(x):
            last = isinstance(dim, int) and dim in (-1, x.dim() - 1)
            kernel = f"{op}_lastdim_kernel_impl" if last else f"{op}_kernel_impl"
            raise NotImplementedError(f'"{kernel}" not implemented for \'{_scalar(x)}\'')

    return check


def floating_scores(x: Any, target: Any, loss: str) -> None:
    """PyTorch's refusal of ``cross_entropy``'s or ``nll_loss``'s scores ``x`` of an
    integer or boolean type: the words of the CPU kernel that first reads them
    (cross_entropy's log_softmax over the classes, before any check of the targets but
    that of class probabilities' type; nll_loss's own kernel, the 2-d one for scores of
    more than two dimensions)."""
    if _floating(x):
        return
    if loss == "nll_loss":
        kernel = "nll_loss_out_frame" if x.dim() <= 2 else "nll_loss2d_forward_out_frame"
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_scalar(x)}\'')
    if tuple(x.shape) == tuple(target.shape) and not _floating(target):
        return  # PyTorch first refuses the probabilities' type
    floating_kernel("log_softmax")(x, 0 if x.dim() == 1 else 1)


def empty_reduction(op: str) -> Callable[..., None]:
    """The check of ``op`` over all elements (no ``dim``) of a tensor with none, or of a
    complex tensor (which has no order: ``spectrum.max()`` for ``spectrum.abs().max()``)."""

    def check(x: Any, *static: Any) -> None:
        if x.dtype.is_complex:
            if op in ("argmax", "argmin"):
                raise RuntimeError(f"{op}(): does not support complex input")
            raise NotImplementedError(f'"{op}_all" not implemented for \'{_scalar(x)}\'')
        if x.numel() == 0:
            if op in ("argmax", "argmin"):
                raise IndexError(f"{op}(): Expected reduction dim to be specified for "
                                 f"input.numel() == 0.")
            raise RuntimeError(f"{op}(): Expected reduction dim to be specified for "
                               f"input.numel() == 0. Specify the reduction dim with the "
                               f"'dim' argument.")

    return check


def check_expand(x: Any, sizes: tuple[int, ...], *static: Any) -> None:
    """``x.expand(*sizes)``: new sizes lead, and an existing size must be 1, the same, or
    -1 (kept); checked from the last dimension on, as PyTorch reports the first it finds."""
    shape = tuple(x.shape)
    if len(sizes) < len(shape):
        raise RuntimeError(f"expand({x.type()}{{{list(shape)}}}, size={list(sizes)}): the "
                           f"number of sizes provided ({len(sizes)}) must be greater or equal "
                           f"to the number of dimensions in the tensor ({len(shape)})")
    lead = len(sizes) - len(shape)
    for i in reversed(range(len(sizes))):
        size = sizes[i]
        if i < lead:
            if size < 0:
                raise RuntimeError(f"The expanded size of the tensor ({size}) isn't allowed "
                                   f"in a leading, non-existing dimension {i}")
            continue
        existing = shape[i - lead]
        if size != -1 and existing != 1 and size != existing:
            raise RuntimeError(f"The expanded size of the tensor ({size}) must match the "
                               f"existing size ({existing}) at non-singleton dimension {i}.  "
                               f"Target sizes: {list(sizes)}.  Tensor sizes: {list(shape)}")


def check_repeat(x: Any, repeats: tuple[int, ...], *static: Any) -> None:
    """``x.repeat(*repeats)``: a count for every dimension (new ones may lead)."""
    if len(repeats) < x.dim():
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than "
                           "number of dimensions of tensor")


def check_mask_dtype(mask: Any) -> None:
    """PyTorch takes a boolean mask only for ``masked_fill``: an integer mask is
    refused, not read as booleans."""
    kind = getattr(mask, "dtype", None)
    if kind is not None and kind.name != "bool":
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with "
                           f"dtype {C_NAMES.get(kind.name, kind.name)}")


def check_bool_mask(x: Any, mask: Any, *static: Any) -> None:
    """``x.masked_fill(mask, value)``: PyTorch broadcasts first, naming the mask first
    (tensor a) where the two do not broadcast, then refuses a mask that is not boolean
    (``masked_fill_`` checks in the other order, and names ``x`` first)."""
    shape = getattr(mask, "shape", None)
    if shape is not None and tuple(shape) != tuple(x.shape):
        mismatch = broadcast_mismatch([tuple(shape), tuple(x.shape)])
        if mismatch is not None:
            raise RuntimeError(mismatch)
    check_mask_dtype(mask)
