"""``torch.nn.utils.spectral_norm``: the older spectral-norm API, a forward pre-hook that
sets ``module.<name>`` to ``<name>_orig`` divided by its largest singular value, estimated
by power iteration on the buffers ``<name>_u`` and ``<name>_v`` (updated in training
mode). The arithmetic is :mod:`fnnet.torch.nn.utils.parametrizations`'."""

from __future__ import annotations

from typing import Any

from fnnet.torch._autograd import no_grad
from fnnet.torch.nn import functional as F
from fnnet.torch.nn.modules.module import Module
from fnnet.torch.nn.parameter import Parameter
from fnnet.torch.nn.utils.parametrizations import spectral_sigma, weight_as_matrix


class SpectralNorm:
    """The hook. PyTorch equivalent: ``torch.nn.utils.spectral_norm.SpectralNorm``."""

    def __init__(self, name: str, n_power_iterations: int, dim: int, eps: float) -> None:
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.name, self.n_power_iterations, self.dim, self.eps = \
            name, n_power_iterations, dim, eps

    def compute_weight(self, module: Module, do_power_iteration: bool) -> Any:
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        weight_mat = weight_as_matrix(weight, self.dim)
        if do_power_iteration:
            with no_grad():
                mat = weight_mat.detach()
                for _ in range(self.n_power_iterations):
                    # this API updates v first, then u (the parametrization: u, then v)
                    v.copy_(F.normalize(mat.T @ u, dim=0, eps=self.eps))
                    u.copy_(F.normalize(mat @ v, dim=0, eps=self.eps))
            u, v = u.clone(), v.clone()
        return weight / spectral_sigma(weight_mat, u, v)

    def __call__(self, module: Module, inputs: Any) -> None:
        object.__setattr__(module, self.name,
                           self.compute_weight(module, do_power_iteration=module.training))


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Replaces the parameter ``module.<name>`` by ``<name>_orig`` divided by its spectral
    norm before each call; ``<name>_u`` and ``<name>_v`` start as random unit vectors.

    PyTorch equivalent: ``torch.nn.utils.spectral_norm``.
    """
    hooks = module.__dict__.get("_fnnet_spectral_norms", {})
    if name in hooks:
        raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter "
                           f"{name}")
    weight = module._parameters[name]  # PyTorch's KeyError for a missing name
    if not isinstance(weight, Parameter):
        raise ValueError(f"spectral_norm: {type(module).__name__}.{name} is not a parameter")
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    fn = SpectralNorm(name, n_power_iterations, dim, eps)
    from fnnet.torch import randn

    h, w = weight_as_matrix(weight, dim).shape
    delattr(module, name)
    module.register_parameter(name + "_orig", weight)
    object.__setattr__(module, name, weight.detach())
    module.register_buffer(name + "_u", F.normalize(randn(h), dim=0, eps=eps))
    module.register_buffer(name + "_v", F.normalize(randn(w), dim=0, eps=eps))
    handle = module.register_forward_pre_hook(fn)
    object.__setattr__(module, "_fnnet_spectral_norms", {**hooks, name: (handle, fn)})
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Makes ``module.<name>`` a plain parameter again, of its current normalised value.

    PyTorch equivalent: ``torch.nn.utils.remove_spectral_norm``.
    """
    hooks = dict(module.__dict__.get("_fnnet_spectral_norms", {}))
    if name not in hooks:
        raise ValueError(f"spectral_norm of '{name}' not found in {module}")
    handle, fn = hooks.pop(name)
    weight = fn.compute_weight(module, do_power_iteration=False)
    handle.remove()
    delattr(module, name + "_orig")
    for suffix in ("_u", "_v"):
        delattr(module, name + suffix)
    module.__dict__.pop(name, None)
    module.register_parameter(name, Parameter(weight.detach()))
    object.__setattr__(module, "_fnnet_spectral_norms", hooks)
    return module
