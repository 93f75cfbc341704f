"""``torch.nn.functional``'s further activations, each one recorded call of the fnnet
function of the same name (``fnnet.nn.functional.activation``)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from fnnet.nn import functional as fnf
from fnnet.torch._complex_checks import kernel_error
from fnnet.torch.tensor import Tensor, _op

#: PyTorch's CPU kernel of each activation that has none for integers and booleans
#: (a BPR loss's logsigmoid of integer scores)
_FLOAT_KERNELS = {
    "silu": "silu_cpu", "elu": "elu_cpu", "celu": "elu_cpu", "selu": "elu_cpu",
    "softplus": "softplus_cpu", "mish": "mish_cpu", "logsigmoid": "log_sigmoid_cpu",
    "hardsigmoid": "hardsigmoid_cpu", "hardswish": "hardswish_cpu",
    "hardshrink": "hardshrink_cpu", "softshrink": "softshrink_check", "glu": "glu_cpu",
    "prelu": "prelu_cpu",
}


def _check(name: str, input: Any) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    kernel = _FLOAT_KERNELS.get(name)
    if kernel is not None and not (input.is_floating_point() or input.is_complex()):
        raise kernel_error(kernel, input.dtype)


def implicit_dim(name: str, input: Tensor, stacklevel: int) -> int:
    """The dimension PyTorch's softmax family takes when called without ``dim`` (0 for
    0-, 1- and 3-D inputs, else 1), with its deprecation warning."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the "
                  f"call to include dim=X as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if input.dim() in (0, 1, 3) else 1


def _inplace(input: Tensor, result: Tensor, inplace: bool) -> Tensor:
    return input._inplace(result) if inplace else result


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.silu``."""
    _check("silu", input)
    return _inplace(input, _op(fnf.silu, (), input, who="silu"), inplace)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.elu``."""
    _check("elu", input)
    return _inplace(input, _op(fnf.elu, (float(alpha),), input, who="elu"), inplace)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.celu``."""
    _check("celu", input)
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return _inplace(input, _op(fnf.celu, (float(alpha),), input, who="celu"), inplace)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.selu``."""
    _check("selu", input)
    return _inplace(input, _op(fnf.selu, (), input, who="selu"), inplace)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.softplus``."""
    _check("softplus", input)
    return _op(fnf.softplus, (float(beta), float(threshold)), input, who="softplus")


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.mish``."""
    _check("mish", input)
    return _inplace(input, _op(fnf.mish, (), input, who="mish"), inplace)


def softsign(input: Tensor) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.softsign``."""
    _check("softsign", input)
    return _op(fnf.softsign, (), input, who="softsign")


def logsigmoid(input: Tensor) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.logsigmoid``."""
    _check("logsigmoid", input)
    return _op(fnf.logsigmoid, (), input, who="logsigmoid")


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.hardtanh``."""
    _check("hardtanh", input)
    result = _op(fnf.hardtanh, (float(min_val), float(max_val)), input, who="hardtanh")
    return _inplace(input, result, inplace)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.relu6``."""
    _check("relu6", input)
    return _inplace(input, _op(fnf.relu6, (), input, who="relu6"), inplace)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.hardsigmoid``."""
    _check("hardsigmoid", input)
    return _inplace(input, _op(fnf.hardsigmoid, (), input, who="hardsigmoid"), inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.hardswish``."""
    _check("hardswish", input)
    return _inplace(input, _op(fnf.hardswish, (), input, who="hardswish"), inplace)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype: Any = None) -> Tensor:
    """``softmax(-input)``. PyTorch equivalent: ``torch.nn.functional.softmin``."""
    _check("softmin", input)
    if dim is None:
        dim = implicit_dim("softmin", input, _stacklevel)
    return (-input).softmax(dim, dtype=dtype)


FUNCTIONS: dict[str, Callable[..., Tensor]] = {
    f.__name__: f for f in (silu, elu, celu, selu, softplus, mish, softsign, logsigmoid,
                            hardtanh, relu6, hardsigmoid, hardswish, softmin)}
