"""``torch.nn.functional``'s thresholding activations, the gated linear unit, PReLU, the
pixel shuffles, the in-place activations (``relu_``...) and ``huber_loss``: each one
recorded call of the fnnet function of the same name."""

from __future__ import annotations

from typing import Any

import fnnet.losses as L
from fnnet.nn import functional as fnf
from fnnet.torch.nn._activations import _check, elu, hardtanh
from fnnet.torch.nn._loss_shapes import broadcast_target, promote_regression
from fnnet.torch.tensor import Tensor, _op


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False
              ) -> Tensor:
    """``input`` where above ``threshold``, else ``value``.

    PyTorch equivalent: ``torch.nn.functional.threshold``.
    """
    _check("threshold", input)
    result = _op(fnf.threshold, (float(threshold), float(value)), input, who="threshold")
    return input._inplace(result) if inplace else result


_threshold = threshold  # reachable inside threshold_, whose argument has the same name


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place :func:`threshold`. PyTorch: ``torch.nn.functional.threshold_``."""
    return _threshold(input, threshold, value, inplace=True)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.hardshrink``."""
    _check("hardshrink", input)
    return _op(fnf.hardshrink, (float(lambd),), input, who="hardshrink")


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.softshrink``."""
    _check("softshrink", input)
    if lambd < 0:
        raise RuntimeError(f"lambda must be in range [0, 3.40282e+38] for input dtype Float, "
                           f"but found {lambd:g}")
    return _op(fnf.softshrink, (float(lambd),), input, who="softshrink")


def tanhshrink(input: Tensor) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.tanhshrink``."""
    _check("tanhshrink", input)
    return _op(fnf.tanhshrink, (), input, who="tanhshrink")


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.glu``."""
    _check("glu", input)
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    if not isinstance(dim, int):
        raise TypeError(f"glu(): argument 'dim' must be int, not {type(dim).__name__}")
    axis = dim % input.dim() if -input.dim() <= dim < input.dim() else dim
    if 0 <= axis < input.dim() and input.shape[axis] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {axis} is size "
                           f"{input.shape[axis]}")
    return _op(fnf.glu, (dim,), input, who="glu")


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.prelu`` (``weight``: ``[C]`` or ``[1]``)."""
    _check("prelu", input)
    if not isinstance(weight, Tensor):
        raise TypeError(f"prelu(): argument 'weight' must be Tensor, not "
                        f"{type(weight).__name__}")
    channels = input.shape[1] if input.dim() >= 2 else 1
    if weight.numel() != 1 and weight.numel() != channels:
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                           f"parameter numbers = {weight.numel()} and channel size = "
                           f"{channels}.")
    return _op(fnf.prelu, (), input, weight, who="prelu")


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """``[N, C*r*r, H, W] -> [N, C, H*r, W*r]``.

    PyTorch equivalent: ``torch.nn.functional.pixel_shuffle``.
    """
    _check("pixel_shuffle", input)
    r = int(upscale_factor)
    if input.dim() < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.dim()} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    if input.shape[-3] % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)="
                           f"{input.shape[-3]} is not divisible by {r * r}")
    return _op(fnf.pixel_shuffle, (r,), input, who="pixel_shuffle")


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """``[N, C, H*r, W*r] -> [N, C*r*r, H, W]``.

    PyTorch equivalent: ``torch.nn.functional.pixel_unshuffle``.
    """
    _check("pixel_unshuffle", input)
    r = int(downscale_factor)
    if input.dim() < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, "
                           f"but got input with {input.dim()} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got "
                           f"{r}")
    if input.shape[-2] % r or input.shape[-1] % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by "
                           f"downscale_factor, but input.size(-2)={input.shape[-2]} is not "
                           f"divisible by {r}" if input.shape[-2] % r else
                           f"pixel_unshuffle expects width to be divisible by "
                           f"downscale_factor, but input.size(-1)={input.shape[-1]} is not "
                           f"divisible by {r}")
    return _op(fnf.pixel_unshuffle, (r,), input, who="pixel_unshuffle")


def relu_(input: Tensor) -> Tensor:
    """In-place ReLU. PyTorch equivalent: ``torch.nn.functional.relu_``."""
    _check("relu_", input)
    return input._inplace(input.relu())


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place leaky ReLU. PyTorch equivalent: ``torch.nn.functional.leaky_relu_``."""
    _check("leaky_relu_", input)
    return input._inplace(_op(fnf.leaky_relu, (float(negative_slope),), input,
                              who="leaky_relu"))


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place ELU. PyTorch equivalent: ``torch.nn.functional.elu_``."""
    return elu(input, alpha, inplace=True)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place hardtanh. PyTorch equivalent: ``torch.nn.functional.hardtanh_``."""
    return hardtanh(input, min_val, max_val, inplace=True)


def _huber(x: Any, t: Any, delta: Any, reduction: str) -> Any:
    return L.huber_loss(x, t, reduction, delta)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.huber_loss`` (``nn.HuberLoss``)."""
    _check("huber_loss", input)
    if weight is not None:
        raise NotImplementedError("fnnet.torch: huber_loss(weight=...) is not supported; "
                                  "multiply the reduction='none' losses by the weights")
    if isinstance(delta, bool) or not isinstance(delta, (int, float)):
        raise TypeError(f"huber_loss(): argument 'delta' (position 4) must be float, not "
                        f"{type(delta).__name__}")
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    from fnnet.torch.nn.functional import _reduction_mode

    reduction = _reduction_mode(reduction)
    input, target = broadcast_target(input, target)
    input, target = promote_regression("huber_loss", input, target, reduction)
    # delta is an input of the step, not part of its structure: one scheduled step by
    # step compiles once
    return _op(_huber, (reduction,), input, target, float(delta), who="huber_loss")


FUNCTIONS = (threshold, threshold_, hardshrink, softshrink, tanhshrink, glu, prelu,
             pixel_shuffle, pixel_unshuffle, relu_, leaky_relu_, elu_, hardtanh_, huber_loss)
