"""``nn.Bilinear``, ``nn.RReLU``, ``nn.ChannelShuffle``, ``nn.CircularPad1d/2d/3d``,
``nn.LPPool1d/2d/3d``, ``nn.MaxUnpool1d/3d``, ``nn.MultiMarginLoss``,
``nn.MultiLabelMarginLoss`` and ``nn.CTCLoss``: each calls the ``torch.nn.functional``
function of its name (see ``nn/_more_layers.py``)."""

from __future__ import annotations

import math
from typing import Any

from fnnet.torch._functions import empty
from fnnet.torch.nn import _more_layers as M
from fnnet.torch.nn import init
from fnnet.torch.nn.modules.loss import _Loss, _WeightedLoss
from fnnet.torch.nn.modules.module import Module
from fnnet.torch.nn.modules.pooling import _MaxUnpoolNd
from fnnet.torch.nn.modules.reshaping import _Pad
from fnnet.torch.nn.parameter import Parameter
from fnnet.torch.tensor import Tensor


class Bilinear(Module):
    """``y = x1^T A x2 + b``, ``A`` and ``b`` drawn from ``U(-1/sqrt(in1), 1/sqrt(in1))``.

    PyTorch equivalent: ``torch.nn.Bilinear``.
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.in1_features, self.in2_features = in1_features, in2_features
        self.out_features = out_features
        self.weight = Parameter(empty(out_features, in1_features, in2_features))
        if bias:
            self.bias = Parameter(empty(out_features))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        self._factory_kwargs(device, dtype)

    def reset_parameters(self) -> None:
        """PyTorch equivalent: ``torch.nn.Bilinear.reset_parameters``."""
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return M.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class RReLU(Module):
    """PyTorch equivalent: ``torch.nn.RReLU`` (random slopes in training, their mean in
    eval)."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
                 inplace: bool = False) -> None:
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input: Tensor) -> Tensor:
        return M.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}{', inplace=True' * self.inplace}"


class ChannelShuffle(Module):
    """PyTorch equivalent: ``torch.nn.ChannelShuffle``."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input: Tensor) -> Tensor:
        return M.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"


class CircularPad1d(_Pad):
    """PyTorch equivalent: ``torch.nn.CircularPad1d``."""

    _mode = "circular"

    def __init__(self, padding: Any) -> None:
        super().__init__(padding)


class CircularPad2d(CircularPad1d):
    """PyTorch equivalent: ``torch.nn.CircularPad2d``."""

    _dims = 2


class CircularPad3d(CircularPad1d):
    """PyTorch equivalent: ``torch.nn.CircularPad3d``."""

    _dims = 3


class _LPPoolNd(Module):
    _function: Any = None

    def __init__(self, norm_type: float, kernel_size: Any, stride: Any = None,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type, self.kernel_size = norm_type, kernel_size
        self.stride, self.ceil_mode = stride, ceil_mode

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._function(input, float(self.norm_type), self.kernel_size,  # type: ignore[no-any-return]
                                    self.stride, self.ceil_mode)

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    """PyTorch equivalent: ``torch.nn.LPPool1d``."""

    _function = staticmethod(M.lp_pool1d)


class LPPool2d(_LPPoolNd):
    """PyTorch equivalent: ``torch.nn.LPPool2d``."""

    _function = staticmethod(M.lp_pool2d)


class LPPool3d(_LPPoolNd):
    """PyTorch equivalent: ``torch.nn.LPPool3d``."""

    _function = staticmethod(M.lp_pool3d)


class MaxUnpool1d(_MaxUnpoolNd):
    """PyTorch equivalent: ``torch.nn.MaxUnpool1d``."""

    _function = staticmethod(M.max_unpool1d)


class MaxUnpool3d(_MaxUnpoolNd):
    """PyTorch equivalent: ``torch.nn.MaxUnpool3d``."""

    _dims = 3
    _function = staticmethod(M.max_unpool3d)


class MultiMarginLoss(_WeightedLoss):
    """PyTorch equivalent: ``torch.nn.MultiMarginLoss``."""

    def __init__(self, p: int = 1, margin: float = 1.0, weight: Tensor | None = None,
                 size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError("only p == 1 and p == 2 supported")
        if weight is not None and weight.dim() != 1:
            raise ValueError(f"MultiMarginLoss: expected weight to be None or 1D tensor, got "
                             f"{weight.dim()}D instead")
        self.p, self.margin = p, margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return M.multi_margin_loss(input, target, self.p, self.margin, self.weight,
                                   reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """PyTorch equivalent: ``torch.nn.MultiLabelMarginLoss``."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return M.multilabel_margin_loss(input, target, reduction=self.reduction)


class CTCLoss(_Loss):
    """PyTorch equivalent: ``torch.nn.CTCLoss``."""

    def __init__(self, blank: int = 0, reduction: str = "mean",
                 zero_infinity: bool = False) -> None:
        super().__init__(reduction=reduction)
        self.blank, self.zero_infinity = blank, zero_infinity

    def forward(self, log_probs: Tensor, targets: Tensor, input_lengths: Any,
                target_lengths: Any) -> Tensor:
        return M.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank,
                          self.reduction, self.zero_infinity)
