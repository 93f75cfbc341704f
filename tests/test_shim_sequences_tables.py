"""What sequence, text and tabular programs meet beyond the corpus, against PyTorch:
gradients at zero (``abs``, norms), ``div(rounding_mode=)``, the data loader's
collation and ``batch_size=None``, the sorting and searching ops, ``torch.linalg``'s
decompositions and ``torch.autograd.functional``."""

from __future__ import annotations

import numpy as np
import pytest

import fnnet.torch as ft

pytestmark = pytest.mark.torch


def _close(ours, theirs, rtol=1e-5, atol=1e-6):
    """Float32 parity of a fnnet.torch result with PyTorch's (tensors, or tuples of them)."""
    if isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs, strict=True):
            _close(o, t, rtol, atol)
        return
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    ours = ours.detach().numpy() if hasattr(ours, "detach") else np.asarray(ours)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours.astype(np.float64), theirs.astype(np.float64),
                               rtol=rtol, atol=atol)


@pytest.mark.parametrize("expr", [
    lambda m, x: m.abs(x).sum(),
    lambda m, x: x.abs().mean(),
    lambda m, x: abs(x).sum(),
    lambda m, x: m.norm(x, p=1),
    lambda m, x: m.norm(x),
    lambda m, x: x.norm(p=float("inf")),
    lambda m, x: m.linalg.vector_norm(x, ord=1),
])
def test_gradient_at_zero_is_pytorchs(torch, expr):
    """An L1 penalty on zero-initialised biases, or the norm of a zero vector: PyTorch's
    gradient is 0 there (jax's |x| has gradient 1 at 0, sqrt's is infinite)."""
    values = np.array([0.0, 0.0, 0.0], np.float32)
    grads = []
    for m in (ft, torch):
        x = m.tensor(values, requires_grad=True)
        expr(m, x).backward()
        grads.append(x.grad)
    _close(*grads)
