"""Activation modules beyond the core set (``nn.SiLU``, ``nn.ELU``, ``nn.Softplus``...):
each calls the ``torch.nn.functional`` function of its name (fnnet's arithmetic)."""

from __future__ import annotations

from typing import Any

from fnnet.torch.nn import _activations as A
from fnnet.torch.nn.modules.module import Module
from fnnet.torch.tensor import Tensor


class _Pointwise(Module):
    """An activation with keyword options; ``extra_repr`` lists them as PyTorch does."""

    _function: Any = None
    _shown: tuple[str, ...] = ()

    def __init__(self, **options: Any) -> None:
        super().__init__()
        for name, value in options.items():
            setattr(self, name, value)
        self._options = tuple(options)

    def forward(self, input: Tensor) -> Tensor:
        function = type(self)._function
        return function(input, **{k: getattr(self, k) for k in self._options})  # type: ignore[no-any-return]

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={getattr(self, k)}" for k in self._shown)


class SiLU(_Pointwise):
    """PyTorch equivalent: ``torch.nn.SiLU``."""

    _function = staticmethod(A.silu)

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(inplace=inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Mish(SiLU):
    """PyTorch equivalent: ``torch.nn.Mish``."""

    _function = staticmethod(A.mish)


class SELU(SiLU):
    """PyTorch equivalent: ``torch.nn.SELU``."""

    _function = staticmethod(A.selu)


class ReLU6(SiLU):
    """PyTorch equivalent: ``torch.nn.ReLU6``."""

    _function = staticmethod(A.relu6)


class Hardsigmoid(SiLU):
    """PyTorch equivalent: ``torch.nn.Hardsigmoid``."""

    _function = staticmethod(A.hardsigmoid)


class Hardswish(SiLU):
    """PyTorch equivalent: ``torch.nn.Hardswish``."""

    _function = staticmethod(A.hardswish)


class ELU(_Pointwise):
    """PyTorch equivalent: ``torch.nn.ELU``."""

    _function = staticmethod(A.elu)
    _shown = ("alpha",)

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__(alpha=alpha, inplace=inplace)


class CELU(ELU):
    """PyTorch equivalent: ``torch.nn.CELU``."""

    _function = staticmethod(A.celu)


class Softplus(_Pointwise):
    """PyTorch equivalent: ``torch.nn.Softplus``."""

    _function = staticmethod(A.softplus)
    _shown = ("beta", "threshold")

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__(beta=beta, threshold=threshold)


class Hardtanh(_Pointwise):
    """PyTorch equivalent: ``torch.nn.Hardtanh``."""

    _function = staticmethod(A.hardtanh)
    _shown = ("min_val", "max_val")

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0,
                 inplace: bool = False) -> None:
        super().__init__(min_val=min_val, max_val=max_val, inplace=inplace)


class Softsign(_Pointwise):
    """PyTorch equivalent: ``torch.nn.Softsign``."""

    _function = staticmethod(A.softsign)


class LogSigmoid(_Pointwise):
    """PyTorch equivalent: ``torch.nn.LogSigmoid``."""

    _function = staticmethod(A.logsigmoid)


class Softmin(_Pointwise):
    """PyTorch equivalent: ``torch.nn.Softmin``."""

    _function = staticmethod(A.softmin)
    _shown = ("dim",)

    def __init__(self, dim: int | None = None) -> None:
        super().__init__(dim=dim)


__all__ = ["CELU", "ELU", "SELU", "Hardsigmoid", "Hardswish", "Hardtanh", "LogSigmoid",
           "Mish", "ReLU6", "SiLU", "Softmin", "Softplus", "Softsign"]
