"""``torch.nn.functional`` over fnnet's pure ops and losses.

Each function records one call of the fnnet function of the same name
(``fnnet.nn.functional.*`` or ``fnnet.losses.*``); tensors are its inputs, the other
arguments its static arguments.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, cast

import jax.numpy as jnp
import numpy as np
from jax import lax

import fnnet.losses as L
from fnnet.nn import functional as fnf
from fnnet.nn.functional._utils import pair
from fnnet.nn.functional.pooling import pool_output_size
from fnnet.torch import _graph, _random
from fnnet.torch import _mixed_dtypes as mixed_dtypes
from fnnet.torch._complex_checks import kernel_error
from fnnet.torch._conv_transpose_checks import check_conv_transpose_shapes
from fnnet.torch._dtypes import scalar_name
from fnnet.torch._functions import tensor_argument
from fnnet.torch._selection import Selected as _Selected
from fnnet.torch._selection import whole_classes as _whole_classes
from fnnet.torch._selection import whole_regression as _whole_regression
from fnnet.torch._value_checks import floating_scores
from fnnet.torch.nn._activations import implicit_dim
from fnnet.torch.nn._channel_dropout import check_dropped
from fnnet.torch.nn._channel_dropout import check_p as _check_p
from fnnet.torch.nn._conv_checks import check_conv_input
from fnnet.torch.nn._embedding import _UNSIGNED, _max, check_indices, embedding  # noqa: F401
from fnnet.torch.nn._linear_checks import check_linear_operands
from fnnet.torch.nn._loss_shapes import (
    broadcast_target,
    check_binary_target,
    check_binary_weights,
    check_class_batch,
    check_class_weight,
    promote_regression,
)
from fnnet.torch.nn._pool1d import as_2d, single
from fnnet.torch.tensor import Tensor, _dim, _op, _op_multi, _scalar_or_tensor, host_value
from fnnet.torch.tensor import Unsupported as _Unsupported
from fnnet.typing import Array


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _legacy(size_average: Any, reduce: Any, reduction: str) -> str:
    """The reduction that PyTorch's deprecated ``size_average=``/``reduce=`` pair means
    (either given), with its warning; ``reduction`` where neither is given."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    legacy = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{legacy}' instead.", UserWarning, stacklevel=3)
    return legacy


def _reduction_mode(reduction: Any) -> str:
    """``reduction`` as PyTorch's losses in ATen read it: 'none', 'mean' or 'sum', and
    'elementwise_mean' as the deprecated name of 'mean' (with PyTorch's warning); anything
    else is PyTorch's ValueError."""
    if isinstance(reduction, str) and reduction in ("none", "mean", "sum"):
        return reduction
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use "
                      "reduction='mean' instead.", UserWarning, stacklevel=3)
        return "mean"
    raise ValueError(f"{reduction} is not a valid value for reduction")


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.linear``."""
    tensor_argument(input, "linear", "input", 1)
    tensor_argument(weight, "linear", "weight", 2)
    return _op(fnf.linear, (), input, weight, bias, check=check_linear_operands)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.conv2d``."""
    return _op(fnf.conv2d, (_hashable(stride), _hashable(padding), _hashable(dilation),
                            groups), input, weight, bias, check=_check_conv2d)


def _check_conv(dims: int, input: Any, weight: Any, bias: Any = None, *static: Any) -> None:
    """A functional convolution's operands (``static``: stride, padding, dilation,
    groups), as the layers check theirs."""
    mixed_dtypes.check_conv(input, weight, bias, *static)
    if len(static) >= 4:
        check_conv_input(input, weight, static[3], static[1], static[2], dims)


def _check_conv1d(input: Any, weight: Any, bias: Any = None, *static: Any) -> None:
    _check_conv(1, input, weight, bias, *static)


def _check_conv2d(input: Any, weight: Any, bias: Any = None, *static: Any) -> None:
    _check_conv(2, input, weight, bias, *static)


def _two_ints(value: Any) -> tuple[int, int] | None:
    """A 2-D pooling argument as ``(h, w)``; None where it is not one or two ints (left
    to fnnet's checks)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value, value
    if isinstance(value, (tuple, list)) and len(value) in (1, 2) and \
            all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return (value[0], value[-1])
    return None


def _check_pool_size(input: Any, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
                     ceil_mode: bool, avg: bool = False) -> None:
    """PyTorch's checks of a 2-D max (or, with ``avg``, average) pooling, in its order
    and words: the input's rank, each axis's stride and padding against the window, the
    window's arguments, the input's sizes, and an output that would be empty."""
    if not isinstance(input, Tensor):
        return
    if avg:
        if input.dim() < 3:  # PyTorch reads the channel count at dimension -3 first
            _dim(-3, input.dim(), "avg_pool2d")
    elif input.dim() not in (3, 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    kernel = _two_ints(kernel_size)
    strides = kernel if stride is None or stride == [] or stride == () else _two_ints(stride)
    pads, dilations = _two_ints(padding), _two_ints(dilation)
    if kernel is None or strides is None or pads is None or dilations is None:
        return
    shape = list(input.shape)
    h, w = shape[-2:]
    out = []
    for size, k, st, p, d in zip((h, w), kernel, strides, pads, dilations, strict=True):
        if st == 0:
            raise RuntimeError("stride should not be zero")
        if p < 0:
            raise RuntimeError(f"pad must be non-negative, but got pad: {p}")
        if p > ((k - 1) * d + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={p}, kernel_size={k} and dilation={d}")
        out.append(pool_output_size(size, k, st, p, d, ceil_mode) if k > 0 and st > 0 and
                   d > 0 else 1)
    if min(kernel) <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: "
                           f"{kernel[0]} kW: {kernel[1]}")
    if min(strides) <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {strides[0]} "
                           f"dW: {strides[1]}")
    if min(dilations) <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: "
                           f"{dilations[0]} dilationW: {dilations[1]}")
    if not (input.dim() == 3 and min(shape) > 0 or input.dim() == 4 and min(shape[1:]) > 0):
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with optional 0 dim batch "
                           f"size for input, but got:{shape}")
    if kernel[1] // 2 < pads[1] or kernel[0] // 2 < pads[0]:
        raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but "
                           f"got padW = {pads[1]}, padH = {pads[0]}, kW = {kernel[1]}, kH = "
                           f"{kernel[0]}")
    if min(out) < 1:
        c = shape[-3]
        raise RuntimeError(f"Given input size: ({c}x{h}x{w}). Calculated output size: "
                           f"({c}x{out[0]}x{out[1]}). Output size is too small")


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.max_pool2d`` (with ``return_indices``,
    ``(values, indices)`` by ``fnnet.nn.functional.max_pool2d_with_indices``)."""
    stride = None if stride is None or stride == [] else _hashable(stride)
    static = (_hashable(kernel_size), stride, _hashable(padding), _hashable(dilation),
              ceil_mode)
    if return_indices:
        _check_pool_size(input, *static)
        values, indices = _op_multi(fnf.max_pool2d_with_indices, static, input,
                                    who="max_pool2d")
        return values, indices  # type: ignore[return-value]
    return _op(fnf.max_pool2d, static, input, check=_check_pool_size)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """Zeros with ``input``'s values put back where ``max_pool2d(return_indices=True)``
    took them (``fnnet.nn.functional.max_unpool2d``).

    PyTorch equivalent: ``torch.nn.functional.max_unpool2d``.
    """
    return max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding,
                      output_size)


def max_unpool(who: str, dims: int, input: Tensor, indices: Tensor, kernel_size: Any,
               stride: Any, padding: Any, output_size: Any) -> Tensor:
    """``max_unpool1d/2d/3d``: PyTorch's output size (default or checked), then one
    recorded call of ``fnnet.nn.functional.max_unpool2d`` over the last ``dims`` axes."""

    def per_axis(value: Any) -> tuple[int, ...]:
        return (int(value),) * dims if isinstance(value, int) else \
            tuple(int(v) for v in value)

    kernel = per_axis(kernel_size)
    step = kernel if stride is None else per_axis(stride)
    pad = per_axis(padding)
    default = [(input.shape[d - dims] - 1) * step[d] + kernel[d] - 2 * pad[d]
               for d in range(dims)]
    if output_size is None:
        size = tuple(default)
    else:
        size = tuple(int(v) for v in output_size)
        if len(size) == dims + 2:
            size = size[2:]
        if len(size) != dims:
            raise ValueError(f"output_size should be a sequence containing {dims} or "
                             f"{dims + 2} elements, but it has a length of '{len(size)}'")
        for d in range(dims):
            low, high = default[d] - step[d], default[d] + step[d]
            if not low < size[d] < high:
                raise ValueError(f'invalid output_size "{list(size)}" (dim {d} must be '
                                 f"between {low} and {high})")
    return _op(fnf.max_unpool2d, (size,), input, indices, who=who)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: Any = None) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.avg_pool2d``."""
    return _op(fnf.avg_pool2d, (_hashable(kernel_size), _hashable(stride), _hashable(padding),
                                ceil_mode, count_include_pad, divisor_override), input,
               check=_check_avg_pool_size)


def _check_avg_pool_size(input: Any, kernel_size: Any, stride: Any, padding: Any,
                         ceil_mode: bool, count_include_pad: bool = True,
                         divisor_override: Any = None) -> None:
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    _check_pool_size(input, kernel_size, stride, padding, 1, ceil_mode, avg=True)


def _check_adaptive_pool2d(who: str, input: Any, output_size: Any) -> None:
    """PyTorch's checks of ``adaptive_avg_pool2d`` / ``adaptive_max_pool2d`` (``who``),
    in its order and words: a size per axis (None keeping the input's) and the input's
    rank and sizes."""
    if not isinstance(input, Tensor):
        return
    shape = list(input.shape)
    if isinstance(output_size, int):
        sizes = [output_size, output_size]
    else:
        try:
            n = len(output_size)
        except TypeError:
            raise TypeError(f"object of type '{type(output_size).__name__}' has no "
                            f"len()") from None
        if len(shape) <= n:
            raise ValueError(f"Input dimension should be at least {n + 1}")
        sizes = [shape[i - n] if v is None else v for i, v in enumerate(output_size)]
    if who == "adaptive_avg_pool2d":
        if len(sizes) != 2:
            raise RuntimeError("adaptive_avg_pool2d: output_size must be 2")
        if min(sizes) < 0:
            raise RuntimeError(f"adaptive_avg_pool2d: elements of output_size must be greater "
                               f"than or equal to 0 but received {{{sizes[0]}, {sizes[1]}}}")
        if sizes == [1, 1]:  # PyTorch takes a mean over the last two axes, unchecked
            return
        checked = [len(shape) - 2, len(shape) - 1]
    else:
        checked = list(range(1, len(shape)))
    if len(shape) not in (3, 4):
        colon = ":" if who == "adaptive_max_pool2d" else ""
        raise RuntimeError(f"{who}(): Expected 3D or 4D tensor, but got{colon} {shape}")
    for axis in checked:
        if shape[axis] == 0:
            raise RuntimeError(f"{who}(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {shape} with dimension "
                               f"{axis} being empty")
    if len(sizes) != 2:
        raise RuntimeError(f"{who}(): internal error: output_size.size() must be 2")


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.adaptive_avg_pool2d``."""
    _check_adaptive_pool2d("adaptive_avg_pool2d", input, output_size)
    return _op(fnf.adaptive_avg_pool2d, (_hashable(output_size),), input)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.relu`` (``inplace=True`` writes
    ``input``)."""
    result = _op(fnf.relu, (), input)
    return input._inplace(result) if inplace else result


def sigmoid(input: Tensor) -> Tensor:
    return _op(fnf.sigmoid, (), input)


def tanh(input: Tensor) -> Tensor:
    return _op(fnf.tanh, (), input)


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype: Any = None) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.softmax``."""
    if dim is None:
        dim = implicit_dim("softmax", input, _stacklevel)
    return (input if dtype is None else input.to(dtype)).softmax(dim)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype: Any = None) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.log_softmax``."""
    if dim is None:
        dim = implicit_dim("log_softmax", input, _stacklevel)
    return (input if dtype is None else input.to(dtype)).log_softmax(dim)


def _dropout(x: Array, key: Array, p: float, draw: int) -> Array:
    return fnf.dropout(x, p, True, key=_random.fold(key, draw))


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """Drops with probability ``p`` when ``training``; keys come from the step's key.

    PyTorch equivalent: ``torch.nn.functional.dropout`` (note: ``training`` defaults to
    True, as in PyTorch, even inside ``model.eval()``).
    """
    _check_p(p)
    if not training or p == 0:
        return input
    check_dropped(input, p)
    result = _op(_dropout, (float(p), _graph.next_draw()), input, _graph.rng_input())
    return input._inplace(result) if inplace else result


def _verify_batch_size(size: Any) -> None:
    """PyTorch's ValueError for batch statistics of one value per channel (an input of
    ``size``)."""
    if math.prod(tuple(size)[:1] + tuple(size)[2:]) <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {size}")


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Updates ``running_mean``/``running_var`` in place when ``training``.

    PyTorch equivalent: ``torch.nn.functional.batch_norm``.
    """
    if training:
        _verify_batch_size(input.size())
    # in training mode every output is an array (None stands for an output that is None)
    y, mean, var = cast("list[Tensor]", _op_multi(fnf.batch_norm, (training, momentum, eps),
                                                  input, running_mean, running_var, weight,
                                                  bias))
    if training:
        for buffer, new in ((running_mean, mean), (running_var, var)):
            if buffer is not None:
                _graph.bind(buffer._cell, new._cell.ref, new._cell.aval, False)
    return y


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    return input.flatten(start_dim, end_dim)


# -- losses ---------------------------------------------------------------------------


def _ce(x: Array, t: Array, w: Array | None, label_smoothing: float | Array,
        ignore_index: int, reduction: str, smoothed: bool) -> Array:
    return L.cross_entropy(x, t, w, ignore_index, reduction,
                           label_smoothing if smoothed else 0.0)


def _nll(x: Array, t: Array, w: Array | None, ignore_index: int, reduction: str) -> Array:
    return L.nll_loss(x, t, w, ignore_index, reduction)


def _mse(x: Array, t: Array, reduction: str) -> Array:
    return L.mse_loss(x, t, reduction)


def _l1(x: Array, t: Array, reduction: str) -> Array:
    return L.l1_loss(x, t, reduction)


def _smooth_l1(x: Array, t: Array, beta: float | Array, reduction: str, l1: bool) -> Array:
    return L.smooth_l1_loss(x, t, reduction, 0.0 if l1 else beta)


def _bce(x: Array, t: Array, w: Array | None, reduction: str) -> Array:
    return L.binary_cross_entropy(x, t, w, reduction)


def _bce_logits(x: Array, t: Array, w: Array | None, pw: Array | None,
                reduction: str) -> Array:
    return L.binary_cross_entropy_with_logits(x, t, w, reduction, pw)




def _check_class_targets(input: Any, target: Any, ignore_index: int) -> None:
    """PyTorch's "Target 7 is out of bounds" IndexError, for class labels whose values
    are known now: concrete ones, or a loader batch's recorded labels through their host
    copy (``Cell.host``). Other recorded labels cannot be read before the step runs, and
    an out-of-range one gives NaN there, as in fnnet.losses under jit."""
    if not isinstance(target, Tensor) or not isinstance(input, Tensor):
        return
    value = target._cell.val
    if value is None:
        value = getattr(target._cell, "host", None)  # a loader batch's labels
        if value is None:
            return
    shape = input._cell.aval[0]
    unsigned = _UNSIGNED.get(target._cell.aval[1])
    if not shape or unsigned is None:
        return
    labels = np.asarray(value)
    classes = shape[1] if len(shape) > 1 else shape[0]
    # the common case in one reduction: as unsigned, negatives are out of range
    if not labels.size or _max(labels.view(unsigned), axis=None) < classes:
        return
    bad = ((labels < 0) | (labels >= classes)) & (labels != ignore_index)
    if bad.any():  # PyTorch names the first such label, by value only
        raise IndexError(f"Target {int(labels.reshape(-1)[np.argmax(bad.reshape(-1))])} "
                         "is out of bounds.")


def _class_weight_dtype(input: Tensor, target: Any, weight: Any) -> Any:
    """A class ``weight`` of integers or booleans: PyTorch's RuntimeError with class
    labels (its kernel reads the weights as the scores' type), cast to that type with
    class probabilities (which it computes as products)."""
    if not isinstance(weight, Tensor) or weight.is_floating_point() or weight.is_complex():
        return weight
    if isinstance(target, Tensor) and target.is_floating_point():
        return weight.to(input.dtype)
    raise RuntimeError(f"expected scalar type {scalar_name(input.dtype)} but found "
                       f"{scalar_name(weight.dtype)}")


def _floating_weights(input: Tensor, *weights: Any) -> list[Any]:
    """Element weights of integers or booleans in the scores' type: PyTorch's binary
    cross entropies multiply by them (``pos_weight=torch.tensor([3])``)."""
    return [w.to(input.dtype) if isinstance(w, Tensor) and isinstance(input, Tensor) and
            not (w.is_floating_point() or w.is_complex()) else w for w in weights]


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average: Any = None, ignore_index: int = -100, reduce: Any = None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.cross_entropy``."""
    reduction = _reduction_mode(_legacy(size_average, reduce, reduction))
    if reduction != "none" and isinstance(input, _Selected):  # x[mask], y[mask]
        input, target = _whole_classes(input, target, ignore_index) or (input, target)
    target = _scalar_or_tensor(target)
    floating_scores(input, target, "cross_entropy")
    target = check_class_batch(input, target, probabilities=True)
    if isinstance(target, Tensor) and target.is_floating_point() and ignore_index >= 0:
        # class probabilities: PyTorch's check before any other of the arguments
        raise RuntimeError("ignore_index is not supported for floating point target")
    check_class_weight(input, target, weight)
    weight = _class_weight_dtype(input, target, weight)
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing:g}")
    _check_class_targets(input, target, ignore_index)
    # PyTorch smooths only above 0: a negative amount is none
    smoothing = max(float(label_smoothing), 0.0)
    # the amount is an input of the step, not part of its structure: a smoothing
    # scheduled step by step compiles once (whether it smooths at all is structure)
    return _op(_ce, (ignore_index, reduction, smoothing > 0), input, target, weight,
               smoothing)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
             size_average: Any = None, ignore_index: int = -100, reduce: Any = None,
             reduction: str = "mean") -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.nll_loss``."""
    reduction = _reduction_mode(_legacy(size_average, reduce, reduction))
    if reduction != "none" and isinstance(input, _Selected):  # x[mask], y[mask]
        input, target = _whole_classes(input, target, ignore_index) or (input, target)
    target = _scalar_or_tensor(target)
    target = check_class_batch(input, target)
    floating_scores(input, target, "nll_loss")
    check_class_weight(input, target, weight)
    weight = _class_weight_dtype(input, target, weight)
    _check_class_targets(input, target, ignore_index)
    return _op(_nll, (ignore_index, reduction), input, target, weight)


def _weighted(errors: Tensor, weight: Tensor, input: Tensor, reduction: str) -> Tensor:
    """``errors * weight`` summed, or averaged over the weights' sum: the element weights
    that PyTorch's mse_loss and l1_loss take."""
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    weighted = errors * weight
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return weighted.sum()
    if reduction == "mean":
        return weighted.sum() / weight.sum()
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', "
                     f"'sum'.")


def mse_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.mse_loss``."""
    reduction = _legacy(size_average, reduce, reduction)
    if weight is not None:  # broadcast here, so that a size warning names the caller
        wide, target = broadcast_target(input, _scalar_or_tensor(target))
        return _weighted(mse_loss(wide, target, reduction="none"), weight, input, reduction)
    reduction = _reduction_mode(reduction)
    selected = _whole_regression(input, target, reduction,
                                 ("MseLossBackward0", "MseLossBackward0"),
                                 lambda a, b: mse_loss(a, b, reduction="none"))
    if selected is not None:  # x[mask], y[mask]: no count in the step
        return selected
    input, target = broadcast_target(input, _scalar_or_tensor(target))
    input, target = promote_regression("mse_loss", input, target, reduction)
    return _op(_mse, (reduction,), input, target)


def l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.l1_loss``."""
    reduction = _legacy(size_average, reduce, reduction)
    if weight is not None:  # broadcast here, so that a size warning names the caller
        wide, target = broadcast_target(input, _scalar_or_tensor(target))
        return _weighted(l1_loss(wide, target, reduction="none"), weight, input, reduction)
    reduction = _reduction_mode(reduction)
    selected = _whole_regression(input, target, reduction, ("SumBackward0", "MeanBackward0"),
                                 lambda a, b: l1_loss(a, b, reduction="none"))
    if selected is not None:  # x[mask], y[mask]: no count in the step
        return selected
    input, target = broadcast_target(input, _scalar_or_tensor(target))
    if reduction in ("none", "sum", "mean") and any(
            isinstance(t, Tensor) and t.is_complex() for t in (input, target)):
        # PyTorch composes it of a difference, abs and the reduction: a real loss
        distance = (input - target).abs()
        return distance if reduction == "none" else getattr(distance, reduction)()
    input, target = promote_regression("l1_loss", input, target, reduction)
    return _op(_l1, (reduction,), input, target)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: Any = None,
                   reduce: Any = None, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.smooth_l1_loss``."""
    reduction = _reduction_mode(_legacy(size_average, reduce, reduction))
    selected = _whole_regression(input, target, reduction,
                                 ("SmoothL1LossBackward0", "SmoothL1LossBackward0"),
                                 lambda a, b: smooth_l1_loss(a, b, reduction="none",
                                                             beta=beta))
    if selected is not None:  # x[mask], y[mask]: no count in the step
        return selected
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    input, target = broadcast_target(input, _scalar_or_tensor(target))
    input, target = promote_regression("smooth_l1_loss", input, target, reduction)
    # beta is an input of the step, not part of its structure (one scheduled step by
    # step compiles once); beta 0, PyTorch's l1_loss, is structure
    return _op(_smooth_l1, (reduction, beta == 0), input, target, float(beta))


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average: Any = None, reduce: Any = None,
                         reduction: str = "mean") -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.binary_cross_entropy``."""
    reduction = _reduction_mode(_legacy(size_average, reduce, reduction))
    target = _scalar_or_tensor(target)
    check_binary_target("binary_cross_entropy", input, target)
    check_binary_weights(input, target, weight, logits=False)
    weight, = _floating_weights(input, weight)
    # PyTorch's range checks, where the values are known now (not inside a step)
    for name, tensor in (("input", input), ("target", target)):
        value = tensor._cell.val if isinstance(tensor, Tensor) else None
        if value is not None and not bool(jnp.all((value >= 0) & (value <= 1))):
            raise RuntimeError(f"all elements of {name} should be between 0 and 1")
    return _op(_bce, (reduction,), input, target, weight)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, size_average: Any = None,
                                     reduce: Any = None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.binary_cross_entropy_with_logits``."""
    reduction = _reduction_mode(_legacy(size_average, reduce, reduction))
    target = _scalar_or_tensor(target)
    check_binary_target("binary_cross_entropy_with_logits", input, target)
    check_binary_weights(input, target, weight, pos_weight)
    weight, pos_weight = _floating_weights(input, weight, pos_weight)
    return _op(_bce_logits, (reduction,), input, target, weight, pos_weight)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.leaky_relu`` (``inplace=True`` writes
    ``input``)."""
    result = _op(fnf.leaky_relu, (float(negative_slope),), input)
    return input._inplace(result) if inplace else result


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.gelu``."""
    return _op(fnf.gelu, (approximate,), input)


def layer_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.layer_norm``."""
    _check_normalized_shape(input, normalized_shape)
    return _op(_layer_norm, (tuple(normalized_shape), float(eps)), input, weight, bias)


def _check_normalized_shape(input: Tensor, normalized_shape: Any) -> None:
    """PyTorch's RuntimeError for an input whose last dimensions are not
    ``normalized_shape``."""
    shape, norm = tuple(input.shape), tuple(normalized_shape)
    if len(shape) < len(norm) or shape[len(shape) - len(norm):] != norm:
        raise RuntimeError(f"Given normalized_shape={list(norm)}, expected input with shape "
                           f"[*, {', '.join(map(str, norm))}], but got input of size"
                           f"{list(shape)}")


def _layer_norm(x: Array, weight: Array | None, bias: Array | None,
                normalized_shape: tuple[int, ...], eps: float) -> Array:
    return fnf.layer_norm(x, normalized_shape, weight, bias, eps)




def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.conv1d``."""
    return _op(fnf.conv1d, (_single(stride), _single(padding), _single(dilation), groups),
               input, weight, bias, check=_check_conv1d)


def _single(value: Any) -> Any:
    """``v`` of a one-element ``(v,)`` or ``[v]`` (conv1d's sizes), else the value."""
    return value[0] if isinstance(value, (tuple, list)) else value


def _one_hot(x: Array, num_classes: int) -> Array:
    return (x[..., None] == np.arange(num_classes)).astype(_graph.canonical_dtype(np.int64))


def one_hot(input: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices ``[*]`` as one-hot rows ``[*, num_classes]`` (int64); with
    ``num_classes=-1`` the largest index plus one (a read of the values).

    PyTorch equivalent: ``torch.nn.functional.one_hot``.
    """
    if np.dtype(input._cell.aval[1]).kind not in "iu":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    # a class out of range would give a row of zeros
    labels = host_value(input)
    if labels is not None and not labels.size:
        labels = None
    if labels is not None and labels.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        num_classes = int(input.max().item()) + 1
    if not isinstance(num_classes, int) or num_classes < 1:
        raise RuntimeError(f"one_hot: num_classes must be a positive int or -1, got "
                           f"{num_classes!r}")
    if labels is not None and labels.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return _op(_one_hot, (num_classes,), input, who="one_hot")


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
              "circular": "wrap"}


def _pad_index(size: int, left: int, right: int, mode: str) -> np.ndarray:
    """The input index of each output position along one dimension, for the padding
    modes that copy input values, where a negative width crops."""
    if mode == "wrap":  # PyTorch crops first, then wraps around what is left
        start, kept = max(-left, 0), size + min(left, 0) + min(right, 0)
        return start + (np.arange(kept + max(left, 0) + max(right, 0)) - max(left, 0)) % kept
    j = np.arange(size + left + right) - left
    if mode == "edge":
        return np.clip(j, 0, size - 1)
    return np.where(j < 0, -j, np.where(j > size - 1, 2 * (size - 1) - j, j))  # reflect


def _pad(x: Array, widths: tuple[tuple[int, int], ...], mode: str, value: float,
         dims: int) -> Array:
    del dims  # it names the backward node only
    if mode == "constant":  # lax.pad crops where a width is negative, as PyTorch does
        return lax.pad(x, jnp.asarray(value, x.dtype), [(lo, hi, 0) for lo, hi in widths])
    if min(min(w) for w in widths) >= 0:
        return jnp.pad(x, widths, mode=mode)
    for axis, (lo, hi) in enumerate(widths):
        if lo or hi:
            x = jnp.take(x, _pad_index(x.shape[axis], lo, hi, mode), axis=axis)
    return x


def _check_copying_pad(shape: tuple[int, ...], pad: tuple[int, ...], mode: str) -> None:
    """PyTorch's checks of reflect, replicate and circular padding."""
    dims = len(pad) // 2
    if len(shape) not in (dims + 1, dims + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {len(shape)}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    outputs = []  # (letter, input size, output size), outermost padded dimension first
    for i in reversed(range(dims)):
        axis = len(shape) - 1 - i
        size, left, right = shape[axis], pad[2 * i], pad[2 * i + 1]
        outputs.append(("WHD"[i], size, size + left + right))
        if mode == "circular":
            kept = size + min(left, 0) + min(right, 0)
            if left > kept or right > kept:
                raise RuntimeError("Padding value causes wrapping around more than once.")
        elif mode == "reflect" and (left >= size or right >= size):
            raise RuntimeError(f"Argument #4: Padding size should be less than the "
                               f"corresponding input dimension, but got: padding ({left}, "
                               f"{right}) at dimension {axis} of input {list(shape)}")
    if mode != "circular" and all(out < 1 for *_, out in outputs):
        sizes = " ".join(f"{letter}: {size}" for letter, size, _ in outputs)
        if dims > 1:  # PyTorch's own spacing, which differs by mode and dimensions
            sizes = sizes.replace(" W:", ", W:") + (" " if (dims, mode) == (2, "replicate")
                                                    else "")
        outs = " ".join(f"{letter}: {out}" for letter, _, out in outputs)
        raise RuntimeError(f"input ({sizes}) is too small. Calculated output {outs}")
    if any(out < 0 for *_, out in outputs):
        out_shape = list(shape[:len(shape) - dims]) + [out for *_, out in outputs]
        negative = min(out for *_, out in outputs)
        raise RuntimeError(f"Trying to create tensor with negative dimension {negative}: "
                           f"{out_shape}")


def pad(input: Tensor, pad: Any, mode: str = "constant", value: float | None = None
        ) -> Tensor:
    """Pads the last ``len(pad) // 2`` dimensions: ``pad`` is ``(left, right, top,
    bottom, ...)``, the last dimension first, as in PyTorch; a negative width crops.

    PyTorch equivalent: ``torch.nn.functional.pad``.
    """
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.dim():
        raise RuntimeError(f"Padding length should be less than or equal to two times the "
                           f"input dimension but got padding length {len(pad)} and input of "
                           f"dimension {input.dim()}")
    shape = tuple(input.shape)
    widths = [(0, 0)] * input.dim()
    for i in range(len(pad) // 2):
        widths[input.dim() - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    if mode == "constant":
        if any(size + lo + hi < 0 for size, (lo, hi) in zip(shape, widths, strict=True)):
            raise RuntimeError("narrow(): length must be non-negative.")
    else:
        if value is not None and value != 0:
            raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument")
        _check_copying_pad(shape, pad, mode)
    return _op(_pad, (tuple(widths), _PAD_MODES[mode], 0.0 if value is None else value,
                      len(pad) // 2), input, who="pad")


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """``input / max(||input||_p, eps)`` along ``dim``.

    PyTorch equivalent: ``torch.nn.functional.normalize``.
    """
    return input / input.norm(p, dim, keepdim=True).clamp(min=eps)


def _kl_div(x: Any, t: Any, reduction: str, log_target: bool) -> Any:
    return L.kl_div(x, t, reduction, log_target)


def kl_div(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.kl_div`` (``fnnet.losses.kl_div``):
    ``input`` holds log-probabilities, ``target`` probabilities (log-probabilities with
    ``log_target``); ``reduction='batchmean'`` is the divergence per sample."""
    if size_average is None and reduce is None and reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and "
                      "the support size.'batchmean' divides only by the batch size, and "
                      "aligns with the KL div math definition.'mean' will be changed to "
                      "behave the same as 'batchmean' in the next major release.",
                      UserWarning, stacklevel=2)
    reduction = _legacy(size_average, reduce, reduction)
    if reduction != "batchmean":
        reduction = _reduction_mode(reduction)
    return _op(_kl_div, (reduction, log_target), input, _scalar_or_tensor(target),
               who="kl_div")


from fnnet.torch.nn._activations import (  # noqa: E402, F401 - re-exported
    celu,
    elu,
    hardsigmoid,
    hardswish,
    hardtanh,
    logsigmoid,
    mish,
    relu6,
    selu,
    silu,
    softmin,
    softplus,
    softsign,
)
from fnnet.torch.nn._adaptive_max import (  # noqa: E402, F401 - re-exported
    adaptive_max_pool1d,
    adaptive_max_pool1d_with_indices,
    adaptive_max_pool2d_with_indices,
    adaptive_max_pool3d,
    adaptive_max_pool3d_with_indices,
)
from fnnet.torch.nn._attention_norm import (  # noqa: E402, F401 - re-exported
    instance_norm,
    scaled_dot_product_attention,
)
from fnnet.torch.nn._channel_dropout import (  # noqa: E402, F401 - re-exported
    alpha_dropout,
    dropout1d,
    dropout2d,
    dropout3d,
    feature_alpha_dropout,
)
from fnnet.torch.nn._distance import (  # noqa: E402, F401 - re-exported
    cosine_similarity,
    pairwise_distance,
    pdist,
)
from fnnet.torch.nn._embedding_bag import embedding_bag  # noqa: E402, F401 - re-exported
from fnnet.torch.nn._fold import fold, unfold  # noqa: E402, F401 - re-exported
from fnnet.torch.nn._grid_sample import (  # noqa: E402, F401 - re-exported
    affine_grid,
    grid_sample,
)
from fnnet.torch.nn._group_norm import group_norm  # noqa: E402, F401 - re-exported
from fnnet.torch.nn._margin_losses import (  # noqa: E402, F401 - re-exported
    cosine_embedding_loss,
    gaussian_nll_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    multilabel_soft_margin_loss,
    poisson_nll_loss,
    soft_margin_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from fnnet.torch.nn._more_functional import (  # noqa: E402, F401 - re-exported
    gumbel_softmax,
    local_response_norm,
    upsample_bilinear,
    upsample_nearest,
)
from fnnet.torch.nn._more_layers import (  # noqa: E402, F401 - re-exported
    bilinear,
    celu_,
    channel_shuffle,
    ctc_loss,
    lp_pool1d,
    lp_pool2d,
    lp_pool3d,
    max_pool1d_with_indices,
    max_pool2d_with_indices,
    max_pool3d_with_indices,
    max_unpool1d,
    max_unpool3d,
    multi_margin_loss,
    multilabel_margin_loss,
    rrelu,
    rrelu_,
    selu_,
)
from fnnet.torch.nn._more_layers import channel_shuffle as native_channel_shuffle  # noqa: E402, F401, I001
from fnnet.torch.nn._multi_head import canonical_mask as _canonical_mask  # noqa: E402, F401
from fnnet.torch.nn._multi_head import (  # noqa: E402, F401 - re-exported
    multi_head_attention_forward,
)
from fnnet.torch.nn._multi_head import none_or_dtype as _none_or_dtype  # noqa: E402, F401
from fnnet.torch.nn._resize import interpolate, upsample  # noqa: E402, F401 - re-exported
from fnnet.torch.nn._rms_norm import rms_norm  # noqa: E402, F401 - re-exported
from fnnet.torch.nn._thresholding import (  # noqa: E402, F401 - re-exported
    elu_,
    glu,
    hardshrink,
    hardtanh_,
    huber_loss,
    leaky_relu_,
    pixel_shuffle,
    pixel_unshuffle,
    prelu,
    relu_,
    softshrink,
    tanhshrink,
    threshold,
    threshold_,
)
from fnnet.torch.nn._volumetric import (  # noqa: E402, F401 - re-exported
    adaptive_avg_pool3d,
    avg_pool3d,
    conv3d,
    conv_transpose1d,
    conv_transpose3d,
    max_pool3d,
)


def _check_max_pool1d(input: Tensor, k: int, s: int, p: int, d: int, ceil_mode: bool
                      ) -> None:
    """PyTorch's checks of ``max_pool1d`` (without indices, a kernel of its own), in its
    order and words."""
    shape = list(input.shape)
    if not (input.dim() == 2 and min(shape) > 0 or input.dim() == 3 and min(shape[1:]) > 0):
        raise RuntimeError(f"max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 "
                           f"dim batch size for input, but got:{shape}")
    for ok, message in (
            (k > 0, f"kernel_size must be greater than zero, but got {k}"),
            (s > 0, f"stride must be greater than zero, but got {s}"),
            (p >= 0, f"padding must be non-negative, but got {p}"),
            (p <= k // 2, f"padding should be at most half of kernel size, but got "
                          f"padding={p} and kernel_size={k}"),
            (d > 0, f"dilation must be greater than zero, but got {d}")):
        if not ok:
            raise RuntimeError(f"max_pool1d() {message}")
    length = pool_output_size(shape[-1], k, s, p, d, ceil_mode)
    if length <= 0:
        raise RuntimeError(f"max_pool1d() Invalid computed output size: {length}")


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.max_pool1d``."""
    if not return_indices and isinstance(input, Tensor) and input.is_complex():
        raise kernel_error("max_pool1d_impl", input.dtype)  # a kernel of its own in PyTorch
    k = single(kernel_size, "kernel_size")
    s = k if stride is None or stride == [] else single(stride, "stride")
    if not return_indices and isinstance(input, Tensor):
        _check_max_pool1d(input, k, s, single(padding, "padding"),
                          single(dilation, "dilation"), ceil_mode)
    out = max_pool2d(as_2d(input, "max_pool1d"), (1, k), (1, s),
                       (0, single(padding, "padding")), (1, single(dilation, "dilation")),
                       ceil_mode, return_indices)
    if return_indices:  # a plane of one row: the flat indices are the positions
        values, indices = out
        return values.squeeze(-2), indices.squeeze(-2)  # type: ignore[return-value]
    return out.squeeze(-2)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.avg_pool1d``."""
    if isinstance(input, Tensor) and input.dim() not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional "
                           f"tensor for argument #1 'self' (while checking arguments for "
                           f"avg_pool1d)")
    k = single(kernel_size, "kernel_size")
    s = k if stride is None or stride == [] else single(stride, "stride")
    out = avg_pool2d(as_2d(input, "avg_pool1d"), (1, k), (1, s),
                       (0, single(padding, "padding")), ceil_mode, count_include_pad)
    return out.squeeze(-2)


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.adaptive_avg_pool1d``."""
    if isinstance(input, Tensor) and input.dim() not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional "
                           f"tensor for argument #1 'self' (while checking arguments for "
                           f"adaptive_avg_pool1d)")
    size = single(output_size, "output_size")
    return adaptive_avg_pool2d(as_2d(input, "adaptive_avg_pool1d"), (1, size)).squeeze(-2)


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False
                        ) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.adaptive_max_pool2d`` (with
    ``return_indices``, ``(values, indices)``)."""
    _check_adaptive_pool2d("adaptive_max_pool2d", input, output_size)
    size = tuple(output_size) if isinstance(output_size, (list, tuple)) else output_size
    if return_indices:
        values, indices = _op_multi(fnf.adaptive_max_pool2d_with_indices, (size,), input,
                                    who="adaptive_max_pool2d")
        return values, indices  # type: ignore[return-value]
    return _op(fnf.adaptive_max_pool2d, (size,), input, who="adaptive_max_pool2d")


def _conv_transpose2d(x: Any, weight: Any, bias: Any, stride: Any, padding: Any,
                      output_padding: Any, groups: int, dilation: Any) -> Any:
    return fnf.conv_transpose2d(x, weight, bias, stride, padding, output_padding, groups,
                                dilation)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                     groups: int = 1, dilation: Any = 1) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.conv_transpose2d``
    (``fnnet.nn.functional.conv_transpose2d``)."""
    try:
        args = tuple(pair(v, name, "conv_transpose2d", minimum=0) for v, name in (
            (stride, "stride"), (padding, "padding"), (output_padding, "output_padding")))
    except ValueError:  # a negative padding: PyTorch's RuntimeError where it has one
        check_conv_transpose_shapes(input, weight, bias, stride, padding, output_padding,
                                    groups, dilation)
        raise
    return _op(_conv_transpose2d, (*args, int(groups), pair(dilation, "dilation",
                                                             "conv_transpose2d")),
               input, weight, bias, check=mixed_dtypes.check_conv_transpose,
               who="conv_transpose2d")


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise _Unsupported(  # also an AttributeError: hasattr() is False
        f"fnnet.torch does not support torch.nn.functional.{name}; use "
        f"fnnet.nn.functional / fnnet.losses (pure jax functions) instead")
