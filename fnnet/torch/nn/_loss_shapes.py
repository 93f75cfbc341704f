"""PyTorch's rules for a loss's target whose shape is not the input's.

``mse_loss``, ``l1_loss``, ``smooth_l1_loss`` and ``huber_loss`` warn and broadcast (a
``[N, 1]`` output against an ``[N]`` target gives an ``[N, N]`` difference, a classic
mistake PyTorch lets through with a warning); the binary cross-entropies refuse; the
class-index losses name the two batch sizes. fnnet's own losses (``fnnet.losses``)
refuse every mismatch; these functions give fnnet.torch PyTorch's behaviour before
calling them.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from fnnet.torch import _dtypes, _graph
from fnnet.torch._shape_ops import broadcast_tensors
from fnnet.torch.tensor import _FLOATS, Tensor


def broadcast_target(input: Any, target: Any) -> tuple[Any, Any]:
    """``(input, target)`` broadcast to one shape, with PyTorch's UserWarning when their
    shapes differ.

    Raises:
        RuntimeError: the shapes do not broadcast (PyTorch's message, after the warning).
    """
    if not (isinstance(input, Tensor) and isinstance(target, Tensor)) or \
            input._cell.aval[0] == target._cell.aval[0]:
        return input, target
    warnings.warn(f"Using a target size ({target.shape}) that is different to the input "
                  f"size ({input.shape}). This will likely lead to incorrect results due "
                  f"to broadcasting. Please ensure they have the same size.", UserWarning,
                  stacklevel=3)
    shapes = [input._cell.aval[0], target._cell.aval[0]]
    mismatch = _graph.broadcast_mismatch(shapes)
    if mismatch is not None:
        raise RuntimeError(mismatch)
    a, b = broadcast_tensors(input, target)
    return a, b


#: the CPU kernel PyTorch names when both operands of a regression loss are integers
_KERNELS = {"mse_loss": "mse_cpu", "smooth_l1_loss": "smooth_l1_cpu", "huber_loss": "huber_cpu"}


def promote_regression(who: str, input: Any, target: Any, reduction: str) -> tuple[Any, Any]:
    """``(input, target)`` of a regression loss with an integer or boolean operand cast to
    the other's floating type, as PyTorch promotes them (a regression on integer labels,
    ``mse_loss(pred, torch.tensor([1, 3]))``); two integer operands raise PyTorch's error.
    """
    if not (isinstance(input, Tensor) and isinstance(target, Tensor)):
        return input, target
    floats = input._cell.aval[1] in _FLOATS, target._cell.aval[1] in _FLOATS
    if all(floats):
        return input, target
    if who == "l1_loss" and np.bool_ in (input._cell.aval[1], target._cell.aval[1]) and \
            any(floats):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not "
                           "supported. If you are trying to invert a mask, use the `~` or "
                           "`logical_not()` operator instead.")
    if floats[0]:
        return input, target.to(input.dtype)
    if floats[1]:
        return input.to(target.dtype), target
    name = _dtypes.scalar_name(input.dtype)
    if who != "l1_loss":
        raise NotImplementedError(f'"{_KERNELS[who]}" not implemented for \'{name}\'')
    if input.dtype.name == "bool":
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if reduction == "mean":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be "
                           f"either a floating point or complex dtype. Got: {name}")
    return input, target  # |input - target| of integers, summed or kept, as PyTorch


def check_binary_target(who: str, input: Any, target: Any) -> None:
    """The binary cross-entropies' ValueError for a target not of the input's shape, and
    RuntimeError for integer or boolean targets (0/1 labels must be floats)."""
    if not (isinstance(input, Tensor) and isinstance(target, Tensor)):
        return
    if input._cell.aval[0] == target._cell.aval[0]:
        if target._cell.aval[1] in _FLOATS or input._cell.aval[1] not in _FLOATS:
            return
        label, output = _name(target._cell.aval[1]), _name(input._cell.aval[1])
        if who == "binary_cross_entropy_with_logits":
            raise RuntimeError(f"result type {output} can't be cast to the desired output "
                               f"type {label}")
        raise RuntimeError(f"Found dtype {label} but expected {output}")
    if who == "binary_cross_entropy_with_logits":
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    raise ValueError(f"Using a target size ({target.shape}) that is different to the input "
                     f"size ({input.shape}) is deprecated. Please ensure they have the same "
                     f"size.")


def check_binary_weights(input: Any, target: Any, weight: Any, pos_weight: Any = None,
                         logits: bool = True) -> None:
    """PyTorch's errors for a binary cross-entropy ``weight`` or ``pos_weight`` that does
    not broadcast to the input's shape: the broadcast of ``pos_weight`` with the target
    and of the input with ``weight`` (with logits), ``weight`` expanded to the input's
    shape (without), and a broadcast larger than the input."""
    if not isinstance(input, Tensor):
        return
    shape = tuple(input.shape)
    pairs = []
    if isinstance(pos_weight, Tensor) and isinstance(target, Tensor):
        pairs.append((tuple(pos_weight.shape), tuple(target.shape)))
    if isinstance(weight, Tensor):
        ours = tuple(weight.shape)
        if not logits:
            for i in range(1, min(len(ours), len(shape)) + 1):
                if ours[-i] not in (1, shape[-i]):
                    raise RuntimeError(
                        f"Attempting to broadcast a dimension of length {ours[-i]} at -{i}! "
                        f"Mismatching argument at index 1 had torch.Size({list(ours)}); but "
                        f"expected shape should be broadcastable to {list(shape)}")
        pairs.append((shape, ours))
    for pair in pairs:
        mismatch = _graph.broadcast_mismatch(pair)
        if mismatch is not None:
            raise RuntimeError(mismatch)
        broadcast = tuple(np.broadcast_shapes(shape, *pair))
        if broadcast != shape:
            raise RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast "
                               f"shape {list(broadcast)}")


def check_class_batch(input: Any, target: Any, probabilities: bool = False) -> Any:
    """The class-index losses' errors, in PyTorch's order: a target of class
    probabilities (``probabilities``, cross-entropy's: floats of the input's shape) is
    accepted; else a matrix of labels for a matrix input is a RuntimeError, batch sizes
    that differ (a 0-d target's counting as 0) a ValueError, and float labels a
    RuntimeError naming their dtype.

    Returns:
        ``target``; the ``[1]`` target of a 1-D input (one example) as the 0-d label
        PyTorch reads it as.
    """
    if not (isinstance(input, Tensor) and isinstance(target, Tensor)):
        return target
    shape, labels = input._cell.aval[0], target._cell.aval
    if probabilities and labels[0] == shape:
        if labels[1] not in _FLOATS:
            raise RuntimeError(f"Expected floating point type for target with class "
                               f"probabilities, got {_name(labels[1])}")
        return target
    if len(shape) in (1, 2) and len(labels[0]) >= 2:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    batch = labels[0][0] if labels[0] else 0
    if len(shape) >= 2 and batch != shape[0]:
        raise ValueError(f"Expected input batch_size ({shape[0]}) to match target "
                         f"batch_size ({batch}).")
    _check_target_rank(shape, labels[0])  # PyTorch checks these before the dtype
    if labels[1] in _FLOATS:
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{_name(labels[1])}")
    _check_positions(shape, labels[0])
    return target.reshape(()) if len(shape) == 1 and labels[0] == (1,) else target


def check_class_weight(input: Any, target: Any, weight: Any) -> None:
    """PyTorch's error for a class ``weight`` that is not one number per class: worded
    as ``nll_loss``'s (``[N, C]`` input), ``nll_loss2d``'s (more dimensions) or, for a
    target of class probabilities, ``cross_entropy``'s."""
    if not (isinstance(input, Tensor) and isinstance(weight, Tensor)):
        return
    shape = input._cell.aval[0]
    classes = shape[1] if len(shape) > 1 else shape[0] if shape else 1
    if tuple(weight.shape) == (classes,):
        return
    if isinstance(target, Tensor) and target._cell.aval[0] == shape:  # probabilities
        raise RuntimeError(f"cross_entropy: weight tensor should be defined either for all "
                           f"{classes} classes or no classes but got weight tensor of "
                           f"shape: {list(weight.shape)}")
    if len(shape) > 2:
        raise RuntimeError("weight tensor should be defined either for all or no classes")
    raise RuntimeError(f"weight tensor should be defined either for all {classes} classes "
                       f"or no classes but got weight tensor of shape: {list(weight.shape)}")


def _check_target_rank(shape: tuple[int, ...], labels: tuple[int, ...]) -> None:
    """A label per position, as PyTorch checks it before the labels' dtype: the size of
    an ``[N, C, d1]`` or ``[N, C, d1, ..., dk]`` (k > 2) input's target, and the rank of
    an ``[N, C, d1, d2]`` input's."""
    expected = [shape[0], *shape[2:]]
    if (len(shape) == 3 or len(shape) > 4) and list(labels) != expected:
        raise RuntimeError(f"Expected target size {expected}, got {list(labels)}")
    if len(shape) == 4 and len(labels) != 3:
        raise RuntimeError(f"only batches of spatial targets supported (3D tensors) but got "
                           f"targets of dimension: {len(labels)}")


def _check_positions(shape: tuple[int, ...], labels: tuple[int, ...]) -> None:
    """A label per position: ``[N, d1]`` for an ``[N, C, d1]`` input, ``[N, d1, d2]`` for
    ``[N, C, d1, d2]``; a 1-D input (one example) takes one label."""
    if len(shape) == 1 and len(labels) == 1 and labels[0] != 1:
        raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: "
                         f"{labels[0]}")
    expected = [shape[0], *shape[2:]]
    if len(shape) == 3 and list(labels) != expected:
        raise RuntimeError(f"Expected target size {expected}, got {list(labels)}")
    if len(shape) == 4 and len(labels) != 3:
        raise RuntimeError(f"only batches of spatial targets supported (3D tensors) but got "
                           f"targets of dimension: {len(labels)}")
    if len(shape) == 4 and list(labels) != expected:
        raise RuntimeError(f"size mismatch (got input: {list(shape)} , target: {list(labels)}")


def _name(np_dtype: Any) -> str:
    return _dtypes.SCALAR_NAMES[_dtypes.from_np(np_dtype).name]
