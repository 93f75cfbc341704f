"""``torch.nn.utils.fusion``: an evaluation-mode BatchNorm folded into the convolution or
linear layer before it, so that inference runs one layer where training ran two.

The BatchNorm computes ``(y - mean) * s + beta`` with ``s = gamma / sqrt(var + eps)`` per
output channel of the layer; a layer ``y = w x + b`` followed by it is the layer with
weight ``w * s`` (scaled along its output channels) and bias ``(b - mean) * s + beta``.
"""

from __future__ import annotations

import copy
from typing import Any

from fnnet.torch import _autograd, _functions
from fnnet.torch.nn.parameter import Parameter
from fnnet.torch.tensor import Tensor

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval",
           "fuse_linear_bn_weights"]


def _check_eval(layer: Any, bn: Any) -> None:
    if layer.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("bn.running_mean and bn.running_var must not be None")


def fuse_conv_bn_weights(conv_w: Tensor, conv_b: Tensor | None, bn_rm: Tensor, bn_rv: Tensor,
                         bn_eps: float, bn_w: Tensor | None, bn_b: Tensor | None,
                         transpose: bool = False) -> tuple[Parameter, Parameter]:
    """The weight and bias of a convolution (``conv_w [out, in, *k]``, or ``[in, out, *k]``
    with ``transpose``) with the BatchNorm of those statistics and affine parameters
    folded in; a missing bias or affine parameter counts as zeros or ones. Each result
    keeps its source's dtype; the bias requires grad only where ``conv_b`` did.

    PyTorch equivalent: ``torch.nn.utils.fusion.fuse_conv_bn_weights``.
    """
    bias_dtype = conv_w.dtype if conv_b is None else conv_b.dtype
    bias = _functions.zeros_like(bn_rm) if conv_b is None else conv_b
    gamma = _functions.ones_like(bn_rm) if bn_w is None else bn_w
    beta = _functions.zeros_like(bn_rm) if bn_b is None else bn_b
    channel_dim = 1 if transpose else 0
    shape = [1] * conv_w.dim()
    shape[channel_dim] = -1
    with _autograd.no_grad():
        scale = gamma * (bn_rv + bn_eps).rsqrt()
        weight = (conv_w * scale.reshape(shape)).to(dtype=conv_w.dtype)
        shifted = ((bias - bn_rm) * scale + beta).to(dtype=bias_dtype)
    return Parameter(weight, conv_w.requires_grad), Parameter(shifted, bias.requires_grad)


def fuse_conv_bn_eval(conv: Any, bn: Any, transpose: bool = False) -> Any:
    """A copy of ``conv`` computing ``bn(conv(x))``; both must be in eval mode.

    Raises:
        AssertionError: either module is training, or ``bn`` keeps no running
            statistics (PyTorch's words).

    PyTorch equivalent: ``torch.nn.utils.fusion.fuse_conv_bn_eval``.
    """
    _check_eval(conv, bn)
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight,
        bn.bias, transpose)
    return fused


def fuse_linear_bn_weights(linear_w: Tensor, linear_b: Tensor | None, bn_rm: Tensor,
                           bn_rv: Tensor, bn_eps: float, bn_w: Tensor, bn_b: Tensor
                           ) -> tuple[Parameter, Parameter]:
    """The weight ``[out, in]`` and bias of a Linear layer with the BatchNorm of those
    statistics and affine parameters folded in (a missing bias counts as zeros).

    PyTorch equivalent: ``torch.nn.utils.fusion.fuse_linear_bn_weights``.
    """
    bias_dtype = linear_w.dtype if linear_b is None else linear_b.dtype
    bias = _functions.zeros_like(bn_rm) if linear_b is None else linear_b
    with _autograd.no_grad():
        scale = bn_w * (bn_rv + bn_eps).rsqrt()
        weight = linear_w * scale.unsqueeze(-1).to(dtype=linear_w.dtype)
        shifted = ((bias - bn_rm) * scale + bn_b).to(dtype=bias_dtype)
    return Parameter(weight, linear_w.requires_grad), Parameter(shifted, bias.requires_grad)


def fuse_linear_bn_eval(linear: Any, bn: Any) -> Any:
    """A copy of ``linear`` computing ``bn(linear(x))``; both must be in eval mode and
    ``bn`` must have ``linear.out_features`` features, or one.

    Raises:
        AssertionError: either module is training, the feature counts differ, or ``bn``
            keeps no running statistics (PyTorch's words).

    PyTorch equivalent: ``torch.nn.utils.fusion.fuse_linear_bn_eval``.
    """
    if linear.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise AssertionError(f"To fuse, linear.out_features == bn.num_features or "
                             f"bn.num_features == 1, got linear.out_features="
                             f"{linear.out_features} and bn.num_features={bn.num_features}")
    _check_eval(linear, bn)
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight,
        bn.bias)
    return fused
