"""``nn.LayerNorm``, computed by ``fnnet.nn.LayerNorm``."""

from __future__ import annotations

from typing import Any

import fnnet.nn as fnn
from fnnet.torch.nn.modules._layer import Wrapped


class LayerNorm(Wrapped):
    """PyTorch equivalent: ``torch.nn.LayerNorm``."""

    _params = ("weight", "bias")

    def __init__(self, normalized_shape: Any, eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        fn = fnn.LayerNorm(normalized_shape, eps, elementwise_affine, bias)
        self.normalized_shape, self.eps = fn.normalized_shape, eps
        self.elementwise_affine = elementwise_affine
        self._wrap(fn)
