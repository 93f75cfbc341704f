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


def check_binary_target(who: str, input: Any, target: Any) -> None:
    """The binary cross-entropies' ValueError for a target not of the input's shape."""
    if not (isinstance(input, Tensor) and isinstance(target, Tensor)) or \
            input._cell.aval[0] == target._cell.aval[0]:
        return
    if who == "binary_cross_entropy_with_logits":
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    raise ValueError(f"Using a target size ({target.shape}) that is different to the input "
                     f"size ({input.shape}) is deprecated. Please ensure they have the same "
                     f"size.")




def check_class_batch(input: Any, target: Any, probabilities: bool = False) -> None:
    """The class-index losses' errors, in PyTorch's order: a target of class
    probabilities (``probabilities``, cross-entropy's: floats of the input's shape) is
    accepted; else a matrix of labels for a matrix input is a RuntimeError, batch sizes
    that differ a ValueError, and float labels a RuntimeError naming their dtype."""
    if not (isinstance(input, Tensor) and isinstance(target, Tensor)):
        return
    shape, labels = input._cell.aval[0], target._cell.aval
    if probabilities and labels[0] == shape:
        if labels[1] not in _FLOATS:
            raise RuntimeError(f"Expected floating point type for target with class "
                               f"probabilities, got {_name(labels[1])}")
        return
    if len(shape) == 2 and len(labels[0]) >= 2:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if len(shape) >= 2 and labels[0] and labels[0][0] != shape[0]:
        raise ValueError(f"Expected input batch_size ({shape[0]}) to match target "
                         f"batch_size ({labels[0][0]}).")
    if labels[1] in _FLOATS:
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{_name(labels[1])}")


def _name(np_dtype: Any) -> str:
    return _dtypes.SCALAR_NAMES[_dtypes.from_np(np_dtype).name]
