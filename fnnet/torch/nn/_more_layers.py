"""``torch.nn.functional``'s ``bilinear``, ``rrelu`` (and ``rrelu_``, ``celu_``,
``selu_``), ``channel_shuffle``, the power-average pools ``lp_pool1d/2d/3d``,
``max_pool1d/2d/3d_with_indices``, ``max_unpool1d/3d``, the multi-class margin losses and
``ctc_loss``: one recorded call of fnnet's function each, or PyTorch's composition of the
shim's ops (the LP pools, as ``torch.nn.functional`` writes them). The modules are in
``modules/more_layers.py``."""

from __future__ import annotations

import math
from typing import Any

import jax
import numpy as np

from fnnet import losses as L
from fnnet.nn import functional as fnf
from fnnet.torch import _graph, _random
from fnnet.torch.nn._margin_losses import _prepare
from fnnet.torch.tensor import Tensor, _op, host_value


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None
             ) -> Tensor:
    """``y = x1^T A x2 + b``. PyTorch equivalent: ``torch.nn.functional.bilinear``."""
    if weight.dim() != 3:
        raise RuntimeError(f"bilinear(): weight must be three-dimensional, but got "
                           f"{weight.dim()}-D")
    for which, value, size in (("input1", input1, weight.shape[1]),
                               ("input2", input2, weight.shape[2])):
        if value.shape[-1] != size:
            raise RuntimeError(f"bilinear(): {which} size does not match weight size: got "
                               f"{value.shape[-1]} but expected {size}")
    if tuple(input1.shape[:-1]) != tuple(input2.shape[:-1]):
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got "
                           f"{list(input1.shape[:-1])} and {list(input2.shape[:-1])}")
    return _op(fnf.bilinear, (), input1, input2, weight, bias, who="bilinear")


def _rrelu_draw(x: jax.Array, key: jax.Array, lower: float, upper: float,
                draw: int) -> jax.Array:
    return fnf.rrelu(x, lower, upper, True, key=_random.fold(key, draw))


def _rrelu_mean(x: jax.Array, lower: float, upper: float) -> jax.Array:
    return fnf.rrelu(x, lower, upper, False)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
          training: bool = False, inplace: bool = False) -> Tensor:
    """Leaky ReLU with a random negative slope from ``U(lower, upper)`` per element when
    ``training`` (drawn from the step's key), the mean slope otherwise.

    PyTorch equivalent: ``torch.nn.functional.rrelu``.
    """
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if training:
        result = _op(_rrelu_draw, (float(lower), float(upper), _graph.next_draw()), input,
                     _graph.rng_input(), who="rrelu")
    else:
        result = _op(_rrelu_mean, (float(lower), float(upper)), input, who="rrelu")
    return input._inplace(result) if inplace else result


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
           training: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.rrelu_`` (in place)."""
    return rrelu(input, lower, upper, training, inplace=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.celu_`` (in place)."""
    from fnnet.torch.nn.functional import celu

    return input._inplace(celu(input, alpha))


def selu_(input: Tensor) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.selu_`` (in place)."""
    from fnnet.torch.nn.functional import selu

    return input._inplace(selu(input))


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """The channels of ``groups`` groups interleaved (ShuffleNet).

    PyTorch equivalent: ``torch.nn.functional.channel_shuffle``.
    """
    if input.dim() <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input "
                           f"with sizes {list(input.shape)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value "
                           f"of groups:{groups}")
    if input.shape[1] % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got "
                           f"{input.shape[1]} channels and {groups} groups.")
    return _op(fnf.channel_shuffle, (int(groups),), input, who="channel_shuffle")


def _lp_pool(pool: Any, input: Tensor, norm_type: float, kernel_size: Any, stride: Any,
             ceil_mode: bool, dims: int) -> Tensor:
    """PyTorch's composition: the average of ``x^p`` over the window, times the window's
    size, to the power ``1 / p`` (a negative average kept at 0 by ``sign * relu``)."""
    kernel = (kernel_size,) * dims if isinstance(kernel_size, int) else tuple(kernel_size)
    out: Tensor = pool(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    pooled: Tensor = (out.sign() * out.abs().relu()).mul(math.prod(kernel)).pow(1.0 / norm_type)
    return pooled


def lp_pool1d(input: Tensor, norm_type: float, kernel_size: int, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.lp_pool1d``."""
    from fnnet.torch.nn.functional import avg_pool1d

    return _lp_pool(avg_pool1d, input, norm_type, kernel_size, stride, ceil_mode, 1)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.lp_pool2d``."""
    from fnnet.torch.nn.functional import avg_pool2d

    return _lp_pool(avg_pool2d, input, norm_type, kernel_size, stride, ceil_mode, 2)


def lp_pool3d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.lp_pool3d``."""
    from fnnet.torch.nn.functional import avg_pool3d

    return _lp_pool(avg_pool3d, input, norm_type, kernel_size, stride, ceil_mode, 3)


def max_pool1d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None,
                            padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
                            return_indices: bool = True) -> tuple[Tensor, Tensor]:
    """PyTorch equivalent: ``torch.nn.functional.max_pool1d_with_indices``."""
    from fnnet.torch.nn.functional import max_pool1d

    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode,
                      True)  # type: ignore[return-value]


def max_pool2d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None,
                            padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
                            return_indices: bool = True) -> tuple[Tensor, Tensor]:
    """PyTorch equivalent: ``torch.nn.functional.max_pool2d_with_indices``."""
    from fnnet.torch.nn.functional import max_pool2d

    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode,
                      True)  # type: ignore[return-value]


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.max_unpool1d``."""
    from fnnet.torch.nn.functional import max_unpool

    return max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding,
                      output_size)


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.max_unpool3d``."""
    from fnnet.torch.nn.functional import max_unpool

    return max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding,
                      output_size)


def max_pool3d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None,
                            padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
                            return_indices: bool = True) -> tuple[Tensor, Tensor]:
    """PyTorch equivalent: ``torch.nn.functional.max_pool3d_with_indices``."""
    from fnnet.torch.nn.functional import max_pool3d

    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode,
                      True)  # type: ignore[return-value]


def _multi_margin(x: Any, t: Any, w: Any, p: int, margin: float, reduction: str) -> Any:
    return L.multi_margin_loss(x, t, p, margin, w, reduction)


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average: Any = None,
                      reduce: Any = None, reduction: str = "mean") -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.multi_margin_loss``."""
    reduction = _prepare("multi_margin_loss", reduction, size_average, reduce, input, target)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if input.dim() not in (1, 2) or (input.dim() == 2 and target.dim() != 1) or \
            (input.dim() == 1 and target.dim() > 1):
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch "
                           f"size, but got: {list(input.shape)}")
    _check_range(target, input.shape[-1], "target out of range")
    return _op(_multi_margin, (int(p), float(margin), reduction), input, target.detach(),
               weight, who="multi_margin_loss")


def _multilabel_margin(x: Any, t: Any, reduction: str) -> Any:
    return L.multilabel_margin_loss(x, t, reduction)


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average: Any = None,
                           reduce: Any = None, reduction: str = "mean") -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.multilabel_margin_loss``."""
    reduction = _prepare("multilabel_margin_loss", reduction, size_average, reduce, input,
                         target)
    if tuple(input.shape) != tuple(target.shape):
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of "
                           f"size: {list(input.shape)}")
    _check_range(target, input.shape[-1], "argument #2 'target' is out of range", -1)
    return _op(_multilabel_margin, (reduction,), input, target.detach(),
               who="multilabel_margin_loss")


def _check_range(target: Tensor, classes: int, message: str, low: int = 0) -> None:
    """PyTorch's error for a class index outside ``[low, classes)``, where the values
    are on the host now (a recorded target is checked by nothing, as under jit)."""
    from fnnet.torch.tensor import host_value

    value = host_value(target)
    if value is not None and value.size and (value.min() < low or value.max() >= classes):
        raise RuntimeError(message)


def _ctc(log_probs: Any, targets: Any, input_lengths: Any, target_lengths: Any, blank: int,
         reduction: str, zero_infinity: bool) -> Any:
    return L.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, reduction,
                      zero_infinity)


def _lengths(value: Any, who: str) -> Tensor:
    """A length argument (a tensor, or a tuple or list of ints) as an integer tensor."""
    from fnnet.torch._functions import tensor

    if isinstance(value, Tensor):
        return value.long()
    if isinstance(value, (int, list, tuple)):
        return tensor(value).long()
    raise TypeError(f"ctc_loss(): argument '{who}' must be Tensor or tuple of ints, not "
                    f"{type(value).__name__}")


def _host_lengths(value: Any) -> np.ndarray | None:
    """A length argument's values where the host holds them (see ``host_value``)."""
    if isinstance(value, Tensor):
        held = host_value(value)
        return None if held is None else np.asarray(held).reshape(-1)
    return np.asarray(value).reshape(-1)


def _check_ctc_arguments(log_probs: Tensor, targets: Tensor, input_lengths: Tensor,
                         target_lengths: Tensor, inputs_held: np.ndarray | None,
                         targets_held: np.ndarray | None) -> None:
    """PyTorch's checks of ``ctc_loss``'s sizes and, where the host holds them, its
    lengths: a target or input length past its tensor would otherwise read clamped
    labels or frames and give a finite, wrong loss."""
    where = " (while checking arguments for ctc_loss_allocate_outputs)"
    batch = log_probs.shape[1]
    for name, lengths in (("input_lengths", input_lengths), ("target_lengths", target_lengths)):
        if lengths.numel() != batch:
            raise RuntimeError(f"{name} must be of size batch_size")

    def size_error(size: int, dim: int, at_least: bool) -> RuntimeError:
        return RuntimeError(f"Expected tensor to have size {'at least ' if at_least else ''}"
                            f"{size} at dimension {dim}, but got size {targets.shape[dim]} "
                            f"for argument #2 'targets'{where}")

    def value_error(name: str, bound: str, limit: int, value: int) -> RuntimeError:
        return RuntimeError(f"Expected {name} to have value {bound} {limit}, but got value "
                            f"{value}{where}")

    if targets_held is not None:
        for n in targets_held.tolist():
            if n < 0:
                raise value_error("target_lengths", "at least", 0, n)
        if targets.dim() == 1 and targets.shape[0] != int(targets_held.sum()):
            raise size_error(int(targets_held.sum()), 0, False)
    if targets.dim() == 2 and targets.shape[0] != batch:
        raise size_error(batch, 0, False)
    if targets_held is not None and targets.dim() == 2:
        longest = int(targets_held.max(initial=0))
        if targets.shape[1] < longest:
            raise size_error(longest, 1, True)
    if inputs_held is not None:
        for n in inputs_held.tolist():
            if n < 0:
                raise value_error("input_lengths", "at least", 0, n)
            if n > log_probs.shape[0]:
                raise value_error("input_lengths", "at most", log_probs.shape[0], n)


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Any, target_lengths: Any,
             blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """The CTC loss of ``log_probs [T, N, C]`` (or ``[T, C]``) for ``targets``, padded
    ``[N, S]`` or concatenated ``[sum(target_lengths)]`` (whose lengths are read to split
    them).

    PyTorch equivalent: ``torch.nn.functional.ctc_loss``.
    """
    from fnnet.torch.nn.functional import _reduction_mode

    reduction = _reduction_mode(reduction)
    if isinstance(input_lengths, Tensor) != isinstance(target_lengths, Tensor):
        raise TypeError("ctc_loss() received an invalid combination of arguments: "
                        "input_lengths and target_lengths must be both tensors or both "
                        "tuples of ints")
    unbatched = log_probs.dim() == 2
    if unbatched:
        log_probs, targets = log_probs.unsqueeze(1), targets.reshape(1, -1)
    inputs_held, targets_held = _host_lengths(input_lengths), _host_lengths(target_lengths)
    input_lengths = _lengths(input_lengths, "input_lengths").reshape(-1)
    target_lengths = _lengths(target_lengths, "target_lengths").reshape(-1)
    if not 0 <= blank < log_probs.shape[-1]:
        raise RuntimeError("blank must be in label range")
    if targets.dim() == 1 and targets_held is None:  # the lengths split the targets
        targets_held = np.asarray(target_lengths.tolist())
    _check_ctc_arguments(log_probs, targets, input_lengths, target_lengths, inputs_held,
                         targets_held)
    if targets.dim() == 1:  # concatenated: each sequence's labels gathered into a row
        assert targets_held is not None  # read from target_lengths above
        lengths = [int(n) for n in targets_held.tolist()]
        starts = np.cumsum([0, *lengths[:-1]])
        width = max(lengths, default=0) or 1
        index = np.minimum(starts[:, None] + np.arange(width)[None, :],
                           max(targets.shape[0] - 1, 0))
        targets = targets[index] if targets.shape[0] else targets.new_zeros(len(lengths),
                                                                              width)
    loss = _op(_ctc, (int(blank), reduction, bool(zero_infinity)), log_probs,
               targets.detach(), input_lengths, target_lengths, who="ctc_loss")
    return loss.squeeze(0) if unbatched and reduction == "none" else loss
