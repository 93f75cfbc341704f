"""``torch.autograd``: ``backward``, ``grad``, ``Variable``, custom ``Function``s and
``functional`` (Jacobians and Hessians).

A :class:`Function` subclass becomes one ``jax.custom_vjp`` function: its ``forward``
and ``backward`` (written with tensor operations, as in PyTorch) are recorded once per
structure on a private tape and turned into pure functions, so the compiled step calls
the user's backward exactly where jax differentiates through the forward.
"""

from __future__ import annotations

from typing import Any

from fnnet.torch._autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from fnnet.torch.autograd import forward_ad, functional, grad_mode, graph, profiler
from fnnet.torch.autograd.anomaly_mode import detect_anomaly, set_detect_anomaly
from fnnet.torch.autograd.function import Function, FunctionCtx, once_differentiable
from fnnet.torch.autograd.grad import Variable, backward, grad
from fnnet.torch.autograd.grad_mode import inference_mode
from fnnet.torch.autograd.gradcheck import gradcheck, gradgradcheck
from fnnet.torch.tensor import Unsupported as _Unsupported

__all__ = ["Function", "FunctionCtx", "Variable", "backward", "detect_anomaly",
           "enable_grad", "forward_ad", "functional", "grad", "grad_mode", "gradcheck",
           "gradgradcheck", "graph", "inference_mode", "is_grad_enabled", "no_grad",
           "once_differentiable", "profiler", "set_detect_anomaly", "set_grad_enabled",
           "variable"]


def variable(*args: Any, **kwargs: Any) -> Any:
    """PyTorch's refusal of the long-gone ``torch.autograd.variable(...)``."""
    raise RuntimeError("torch.autograd.variable(...) is deprecated, use torch.tensor(...) "
                       "instead")


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise _Unsupported(f"fnnet.torch does not support torch.autograd.{name}; use jax.grad, "
                       f"jax.vjp or jax.jacobian on fnnet's functional API")
