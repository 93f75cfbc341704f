"""``nn.RMSNorm``, computed by ``fnnet.nn.RMSNorm``."""

from __future__ import annotations

from typing import Any

import fnnet.nn as fnn
from fnnet.torch.nn._rms_norm import check_rms_norm
from fnnet.torch.nn.modules._layer import Wrapped
from fnnet.torch.nn.modules._reset import Resettable
from fnnet.torch.tensor import Tensor


class RMSNorm(Resettable, Wrapped):
    """``x / sqrt(mean(x**2) + eps) * weight`` over the trailing ``normalized_shape``
    (``eps`` None: the input dtype's epsilon). PyTorch equivalent: ``torch.nn.RMSNorm``."""

    _params = ("weight",)

    def __init__(self, normalized_shape: Any, eps: float | None = None,
                 elementwise_affine: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        fn = fnn.RMSNorm(normalized_shape, eps, elementwise_affine)
        self.normalized_shape, self.eps = fn.normalized_shape, eps
        self.elementwise_affine = elementwise_affine
        self._wrap(fn)
        self._factory_kwargs(device, dtype)

    def forward(self, x: Tensor) -> Tensor:  # PyTorch's RMSNorm names its input x
        return super().forward(x)

    def _check_input(self, input: Tensor, *rest: Any) -> None:
        check_rms_norm(input, self.normalized_shape, rest[0] if rest else None)
