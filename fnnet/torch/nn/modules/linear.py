"""``nn.Linear``, computed by ``fnnet.nn.Linear``."""

from __future__ import annotations

from typing import Any

import fnnet.nn as fnn
from fnnet.torch.nn._linear_checks import check_linear_operands
from fnnet.torch.nn.modules._layer import Wrapped
from fnnet.torch.nn.modules._reset import FanInResettable
from fnnet.torch.tensor import Tensor


class Linear(FanInResettable, Wrapped):
    """``y = x W^T + b``. PyTorch equivalent: ``torch.nn.Linear``."""

    _params = ("weight", "bias")

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self._wrap(fnn.Linear(in_features, out_features, bias))
        self._factory_kwargs(device, dtype)

    def extra_repr(self) -> str:
        # the bias as it is now (``layer.bias = None`` prints bias=False, as PyTorch)
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")

    def _check_input(self, input: Tensor, *rest: Any) -> None:
        check_linear_operands(input, *rest)


class NonDynamicallyQuantizableLinear(Linear):
    """The ``out_proj`` of ``nn.MultiheadAttention``: a ``Linear`` under PyTorch's name
    for it, so that a transformer prints, saves and loads as PyTorch's."""



class Identity(Wrapped):
    """Returns its input. PyTorch equivalent: ``torch.nn.Identity``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Any) -> Any:
        return input

    def extra_repr(self) -> str:
        return ""  # no fnnet layer to describe: print(nn.Identity()) is "Identity()"
