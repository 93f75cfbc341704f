"""Training-loop patterns of course and repository code, against PyTorch in the same
process: gradients zeroed in place, optimizer and scheduler use past the plain step."""

from __future__ import annotations

import pytest

import fnnet.torch as ft

pytestmark = pytest.mark.torch


def _zeroed_in_place(T):
    """A program that keeps ``p.grad`` (to log it, or to accumulate by hand) across
    ``zero_grad(set_to_none=False)``: PyTorch zeroes the same tensor, and the next
    ``backward`` fills it again; a gradient built with ``create_graph`` is detached."""
    w = T.nn.Parameter(T.tensor([1.0, 2.0]))
    net = T.nn.Linear(2, 1)
    opt = T.optim.SGD([w], lr=0.1)
    (w ** 3).sum().backward(create_graph=True)
    net(w.detach()).sum().backward()
    kept, kept_net = w.grad, net.weight.grad
    opt.zero_grad(set_to_none=False)
    net.zero_grad(set_to_none=False)
    seen = [w.grad is kept, net.weight.grad is kept_net, kept.requires_grad,
            kept.grad_fn is None, kept.tolist(), kept_net.tolist()]
    (w ** 2).sum().backward()
    net(w.detach()).sum().backward()
    return seen + [w.grad is kept, kept.tolist(), net.weight.grad is kept_net]


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_zero_grad_without_none_zeroes_the_same_tensor_as_torch(torch):
    assert _zeroed_in_place(ft) == _zeroed_in_place(torch)
