"""``nn.LocalResponseNorm`` (AlexNet's normalisation across channels)."""

from __future__ import annotations

from fnnet.torch.nn._more_functional import local_response_norm
from fnnet.torch.nn.modules.module import Module
from fnnet.torch.tensor import Tensor


class LocalResponseNorm(Module):
    """Normalises each value by its ``size`` neighbouring channels (see
    :func:`fnnet.nn.functional.local_response_norm`).

    PyTorch equivalent: ``torch.nn.LocalResponseNorm``.
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75,
                 k: float = 1.0) -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
