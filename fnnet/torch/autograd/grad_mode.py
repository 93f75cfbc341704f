"""``torch.autograd.grad_mode``: the context managers that switch gradient recording
(``from torch.autograd.grad_mode import no_grad``)."""

from __future__ import annotations

from fnnet.torch._autograd import enable_grad, no_grad, set_grad_enabled
from fnnet.torch._settings import inference_mode

__all__ = ["enable_grad", "inference_mode", "no_grad", "set_grad_enabled"]
