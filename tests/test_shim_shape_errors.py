"""Shapes that do not fit: fnnet.torch raises PyTorch's exception with PyTorch's message,
and where PyTorch only warns (a regression loss's target of another shape) it warns the
same words and computes the same broadcast values and gradients."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers import raised_by

import fnnet.torch as ft

pytestmark = pytest.mark.torch

MISFITS = {
    "linear": lambda T: T.nn.Linear(4, 2)(T.ones(3, 5)),
    "linear 1-D": lambda T: T.nn.Linear(4, 2)(T.ones(5)),
    "linear 3-D": lambda T: T.nn.Linear(4, 2)(T.ones(2, 3, 5)),
    "F.linear with the weight transposed": lambda T: T.nn.functional.linear(T.ones(2, 3),
                                                                           T.ones(3, 4)),
    "F.linear vector weight": lambda T: T.nn.functional.linear(T.ones(2, 3), T.ones(4)),
    "F.linear of a list": lambda T: T.nn.functional.linear([[1.0, 2.0, 3.0]], T.ones(4, 3)),
    "conv2d channels": lambda T: T.nn.Conv2d(3, 4, 3)(T.ones(1, 1, 8, 8)),
    "conv2d unbatched channels": lambda T: T.nn.Conv2d(3, 4, 3)(T.ones(1, 8, 8)),
    "conv2d rank": lambda T: T.nn.Conv2d(3, 4, 3)(T.ones(8, 8)),
    "conv2d groups": lambda T: T.nn.Conv2d(4, 4, 3, groups=2)(T.ones(1, 3, 8, 8)),
    "conv1d channels": lambda T: T.nn.Conv1d(3, 4, 3)(T.ones(2, 1, 8)),
    "mm": lambda T: T.mm(T.ones(2, 3), T.ones(2, 3)),
    "matmul 1-D": lambda T: T.ones(3) @ T.ones(4),
    "matmul matrix-vector": lambda T: T.ones(2, 3) @ T.ones(4),
    "matmul vector-matrix": lambda T: T.ones(3) @ T.ones(4, 2),
    "matmul batched": lambda T: T.ones(2, 5, 2, 3) @ T.ones(2, 5, 4, 2),
    "matmul batch sizes": lambda T: T.ones(5, 2, 3) @ T.ones(4, 2, 2),
    "matmul folded": lambda T: T.ones(5, 2, 3) @ T.ones(4, 2),
    "bmm": lambda T: T.bmm(T.ones(5, 2, 3), T.ones(5, 4, 2)),
    "cat sizes": lambda T: T.cat([T.ones(2, 3), T.ones(2, 4)]),
    "cat negative dim": lambda T: T.cat([T.ones(2, 3), T.ones(2, 3), T.ones(5, 4)], -1),
    "cat ranks": lambda T: T.cat([T.ones(2, 3), T.ones(3)]),
    "cat dim out of range": lambda T: T.cat([T.ones(2, 3), T.ones(2, 3)], 2),
    "cat zero-dimensional": lambda T: T.cat([T.ones(2), T.tensor(1.0)]),
    "cat recorded sizes": lambda T: T.cat([T.ones(2, 3) * 2, T.ones(2, 4) * 2]),
    "stack": lambda T: T.stack([T.ones(2, 3), T.ones(2, 3), T.ones(3)], 1),
    "mse_loss sizes": lambda T: T.nn.functional.mse_loss(T.ones(3), T.ones(4)),
    "cross_entropy batch": lambda T: T.nn.CrossEntropyLoss()(T.ones(3, 5),
                                                             T.zeros(4, dtype=T.long)),
    "nll_loss batch": lambda T: T.nn.functional.nll_loss(T.ones(3, 5), T.zeros(4, dtype=T.long)),
    "cross_entropy float labels": lambda T: T.nn.CrossEntropyLoss()(
        T.ones(2, 3), T.tensor([0.0, 1.0])),
    "cross_entropy probabilities of another shape": lambda T: T.nn.functional.cross_entropy(
        T.ones(2, 3), T.ones(2, 4) / 4),
    "nll_loss float labels": lambda T: T.nn.NLLLoss()(T.ones(2, 3), T.ones(2)),
    "nll_loss probabilities": lambda T: T.nn.NLLLoss()(T.ones(2, 3), T.ones(2, 3) / 3),
    "cross_entropy float labels of another batch": lambda T: T.nn.CrossEntropyLoss()(
        T.ones(2, 3), T.ones(3)),
    "cross_entropy label matrix": lambda T: T.nn.functional.cross_entropy(
        T.ones(2, 3), T.zeros(2, 4, dtype=T.long)),
    "cross_entropy labels as probabilities": lambda T: T.nn.functional.cross_entropy(
        T.ones(2, 3), T.zeros(2, 3, dtype=T.long)),
    "cross_entropy float labels per position": lambda T: T.nn.functional.cross_entropy(
        T.ones(2, 3, 4), T.ones(2, 4)),
    "cross_entropy 0-d label for a batch": lambda T: T.nn.functional.cross_entropy(
        T.ones(4, 3), T.tensor(1)),
    "nll_loss label matrix for one example": lambda T: T.nn.functional.nll_loss(
        T.ones(3), T.tensor([[1]])),
    "batchnorm2d unbatched": lambda T: T.nn.BatchNorm2d(4)(T.ones(4, 8, 8)),
    "batchnorm2d unbatched in eval mode": lambda T: T.nn.BatchNorm2d(4).eval()(T.ones(4, 8, 8)),
    "batchnorm1d 4-D": lambda T: T.nn.BatchNorm1d(4)(T.ones(2, 4, 3, 3)),
    "batchnorm1d 1-D": lambda T: T.nn.BatchNorm1d(4)(T.ones(4)),
    "batchnorm3d channels": lambda T: T.nn.BatchNorm3d(4)(T.ones(2, 3, 2, 2, 2)),
    "lstm 4-D": lambda T: T.nn.LSTM(4, 8)(T.ones(5, 1, 1, 4)),
    "gru 4-D": lambda T: T.nn.GRU(4, 8)(T.ones(5, 1, 1, 4)),
    "rnn 1-D": lambda T: T.nn.RNN(4, 8, nonlinearity="relu")(T.ones(4)),
    "binary_cross_entropy": lambda T: T.nn.BCELoss()(T.ones(4, 1) * 0.5, T.ones(4)),
    "binary_cross_entropy_with_logits":
        lambda T: T.nn.BCEWithLogitsLoss()(T.ones(3), T.ones(4)),
}


@pytest.mark.parametrize("name", list(MISFITS))
def test_misfit_shapes_raise_pytorchs_error(torch, name):
    pytorchs, fnnets = raised_by(MISFITS[name], torch, ft)
    assert fnnets == pytorchs


@pytest.mark.parametrize("loss", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_a_target_of_another_shape_warns_and_broadcasts_as_in_pytorch(torch, loss):
    # an [N, 1] output against an [N] target: PyTorch warns and averages the [N, N]
    # differences; the loss and the gradient must be PyTorch's
    out = np.linspace(-1.0, 2.0, 6, dtype=np.float32).reshape(6, 1)
    target = np.linspace(0.5, -0.5, 6, dtype=np.float32)
    results = []
    for T in (torch, ft):
        x = T.tensor(out, requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = getattr(T.nn.functional, loss)(x, T.tensor(target))
        value.backward()
        messages = [str(w.message) for w in caught if w.category is UserWarning]
        results.append((float(value.item()), x.grad.numpy().copy(), messages))
    (want, want_grad, want_warning), (got, got_grad, got_warning) = results
    assert got == pytest.approx(want, rel=1e-6)
    np.testing.assert_allclose(got_grad, want_grad, rtol=1e-6)
    assert got_warning == want_warning and len(want_warning) == 1
