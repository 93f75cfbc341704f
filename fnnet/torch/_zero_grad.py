"""``zero_grad`` of modules and optimizers, as PyTorch's."""

from __future__ import annotations

from collections.abc import Iterable

from fnnet.torch.tensor import Tensor


def zero_grads(params: Iterable[Tensor], set_to_none: bool) -> None:
    """Drops each parameter's gradient, or with ``set_to_none=False`` zeroes it in place:
    the same tensor, as PyTorch keeps it (a program holding ``p.grad`` sees it zeroed and
    filled again by the next ``backward``), detached from any graph it was built in."""
    for p in params:
        grad = p.grad
        if set_to_none:
            p.grad = None
        elif grad is not None:
            if grad.grad_fn is not None:
                grad.detach_()
            else:
                grad.requires_grad_(False)
            grad.zero_()
