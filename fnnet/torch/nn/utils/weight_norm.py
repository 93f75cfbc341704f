"""``torch.nn.utils.weight_norm``: the older weight-norm API, a forward pre-hook that
recomputes ``module.<name>`` from the parameters ``<name>_g`` and ``<name>_v`` before each
call (the arithmetic is :func:`fnnet.torch.nn.utils.parametrizations.weight_norm_of`)."""

from __future__ import annotations

import warnings
from typing import Any

from fnnet.torch.nn.modules.module import Module
from fnnet.torch.nn.parameter import Parameter
from fnnet.torch.nn.utils.parametrizations import norm_except_dim, weight_norm_of


class WeightNorm:
    """The hook: ``module.<name> = v * (g / ||v||)``. PyTorch equivalent:
    ``torch.nn.utils.weight_norm.WeightNorm``."""

    def __init__(self, name: str, dim: int) -> None:
        self.name, self.dim = name, dim

    def compute_weight(self, module: Module) -> Any:
        return weight_norm_of(getattr(module, self.name + "_v"),
                              getattr(module, self.name + "_g"), self.dim)

    def __call__(self, module: Module, inputs: Any) -> None:
        object.__setattr__(module, self.name, self.compute_weight(module))


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Replaces the parameter ``module.<name>`` by ``<name>_g`` (its norm over every
    dimension but ``dim``) and ``<name>_v`` (its direction), recombined before each call.

    PyTorch equivalent: ``torch.nn.utils.weight_norm`` (deprecated there in favour of
    ``torch.nn.utils.parametrizations.weight_norm``, which fnnet.torch also provides).
    """
    warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                  "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning, stacklevel=2)
    dim = -1 if dim is None else dim
    hooks = module.__dict__.get("_fnnet_weight_norms", {})
    if name in hooks:
        raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter "
                           f"{name}")
    weight = getattr(module, name)  # PyTorch's AttributeError for a missing name
    if not isinstance(weight, Parameter):
        raise ValueError(f"weight_norm: {type(module).__name__}.{name} is not a parameter")
    fn = WeightNorm(name, dim)
    delattr(module, name)
    module.register_parameter(name + "_g", Parameter(norm_except_dim(weight, dim).detach()))
    module.register_parameter(name + "_v", Parameter(weight.detach()))
    object.__setattr__(module, name, fn.compute_weight(module))
    handle = module.register_forward_pre_hook(fn)
    object.__setattr__(module, "_fnnet_weight_norms", {**hooks, name: (handle, fn)})
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Makes ``module.<name>`` a plain parameter again, of its current value.

    PyTorch equivalent: ``torch.nn.utils.remove_weight_norm``.
    """
    hooks = dict(module.__dict__.get("_fnnet_weight_norms", {}))
    if name not in hooks:
        raise ValueError(f"weight_norm of '{name}' not found in {module}")
    handle, fn = hooks.pop(name)
    weight = fn.compute_weight(module)
    handle.remove()
    for suffix in ("_g", "_v"):
        delattr(module, name + suffix)
    module.__dict__.pop(name, None)
    module.register_parameter(name, Parameter(weight.detach()))
    object.__setattr__(module, "_fnnet_weight_norms", hooks)
    return module
