"""Activation modules beyond the core set (``nn.SiLU``, ``nn.ELU``, ``nn.Softplus``,
the shrinkage functions, ``nn.GLU``, ``nn.PReLU``...): each calls the
``torch.nn.functional`` function of its name (fnnet's arithmetic)."""

from __future__ import annotations

import warnings
from typing import Any

from fnnet.torch._functions import full
from fnnet.torch.nn import _activations as A
from fnnet.torch.nn import _thresholding as T
from fnnet.torch.nn import init
from fnnet.torch.nn.modules._layer import filled_in_place
from fnnet.torch.nn.modules.module import Module
from fnnet.torch.nn.parameter import Parameter
from fnnet.torch.tensor import Tensor


class _Pointwise(Module):
    """An activation with keyword options; ``extra_repr`` lists them as PyTorch does."""

    _function: Any = None
    _shown: tuple[str, ...] = ()
    #: whether PyTorch's repr ends with ``inplace=True`` when the layer writes in place
    _shows_inplace = True

    def __init__(self, **options: Any) -> None:
        super().__init__()
        for name, value in options.items():
            setattr(self, name, value)
        self._options = tuple(options)

    def forward(self, input: Tensor) -> Tensor:
        function = type(self)._function
        return function(input, **{k: getattr(self, k) for k in self._options})  # type: ignore[no-any-return]

    def extra_repr(self) -> str:
        shown = [f"{k}={getattr(self, k)}" for k in self._shown]
        if self._shows_inplace and getattr(self, "inplace", False):
            shown.append("inplace=True")
        return ", ".join(shown)


class SiLU(_Pointwise):
    """PyTorch equivalent: ``torch.nn.SiLU``."""

    _function = staticmethod(A.silu)

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(inplace=inplace)


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
    _shows_inplace = False  # PyTorch prints it bare, inplace or not


class Hardswish(SiLU):
    """PyTorch equivalent: ``torch.nn.Hardswish``."""

    _function = staticmethod(A.hardswish)
    _shows_inplace = False  # PyTorch prints it bare, inplace or not


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
                 inplace: bool = False, min_value: float | None = None,
                 max_value: float | None = None) -> None:
        # min_value and max_value: the deprecated names, with PyTorch's warnings
        for old, new, value in (("min_value", "min_val", min_value),
                                ("max_value", "max_val", max_value)):
            if value is not None:
                warnings.warn(f"keyword argument `{old}` is deprecated and renamed to "
                              f"`{new}`", FutureWarning, stacklevel=2)
        min_val = min_val if min_value is None else min_value
        max_val = max_val if max_value is None else max_value
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


class Threshold(_Pointwise):
    """PyTorch equivalent: ``torch.nn.Threshold``."""

    _function = staticmethod(T.threshold)
    _shown = ("threshold", "value")

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__(threshold=threshold, value=value, inplace=inplace)


class Hardshrink(_Pointwise):
    """PyTorch equivalent: ``torch.nn.Hardshrink``."""

    _function = staticmethod(T.hardshrink)

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__(lambd=lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Softshrink(Hardshrink):
    """PyTorch equivalent: ``torch.nn.Softshrink``."""

    _function = staticmethod(T.softshrink)


class Tanhshrink(_Pointwise):
    """PyTorch equivalent: ``torch.nn.Tanhshrink``."""

    _function = staticmethod(T.tanhshrink)


class GLU(_Pointwise):
    """PyTorch equivalent: ``torch.nn.GLU``."""

    _function = staticmethod(T.glu)
    _shown = ("dim",)

    def __init__(self, dim: int = -1) -> None:
        super().__init__(dim=dim)


class PReLU(Module):
    """A ReLU whose negative slope is learned: one (``num_parameters=1``) or one per
    channel, starting at ``init``. PyTorch equivalent: ``torch.nn.PReLU``."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        if isinstance(num_parameters, bool) or not isinstance(num_parameters, int) or \
                num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be a positive int, got "
                             f"{num_parameters!r}")
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(full((num_parameters,), float(init)))
        filled_in_place(self)
        self._factory_kwargs(device, dtype)

    def reset_parameters(self) -> None:
        """Every slope ``init`` again. PyTorch equivalent:
        ``torch.nn.PReLU.reset_parameters``."""
        init.constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:
        return T.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class Softmax2d(Module):
    """Softmax over the channels of ``[N, C, H, W]`` or ``[C, H, W]``.

    PyTorch equivalent: ``torch.nn.Softmax2d``.
    """

    def forward(self, input: Tensor) -> Tensor:
        if input.dim() not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got "
                             f"{input.dim()}D instead")
        return input.softmax(-3)
