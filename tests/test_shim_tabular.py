"""Tabular data, time series and evaluation metrics as notebooks and courses write them:
means and metrics computed by hand, and the errors of the indexing, scattering and
order-statistic calls they use, each run under PyTorch 2.13 and fnnet.torch and compared
(printed values exactly where PyTorch's arithmetic is reproduced)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers import raised_by

import fnnet.torch as ft

pytestmark = pytest.mark.torch


# -- means divide as PyTorch divides -----------------------------------------------------

#: 7 hits in 30 and 182 in 200: ``k * float32(1 / n)`` is not the rounded ``k / n``
HITS = [(7, 30), (182, 200)]


@pytest.mark.parametrize("hits, n", HITS)
def test_accuracy_as_a_mean_prints_as_pytorchs(torch, hits, n):
    assert np.float32(hits) * (np.float32(1) / np.float32(n)) != np.float32(hits / n)
    labels = np.arange(n) % 3
    predicted = np.where(np.arange(n) < hits, labels, (labels + 1) % 3)
    printed = []
    for lib in (torch, ft):
        pred, y = lib.tensor(predicted), lib.tensor(labels)
        correct = (pred == y).float()
        printed.append([correct.mean().item(), torch_mean(lib, correct).item(),
                        pred.eq(y).float().view(-1, 1).mean(0).tolist(),
                        lib.nn.functional.l1_loss(correct, lib.zeros(n)).item(),
                        lib.nn.MSELoss()(correct, lib.zeros(n)).item()])
    assert printed[1] == printed[0]


def torch_mean(lib, x):
    return lib.mean(x)


@pytest.mark.slow
def test_accuracy_in_a_training_loop_prints_as_pytorchs(torch):
    """The mean of a recorded step (compiled after a few repeats) divides as PyTorch's
    (slow: it compiles a training step, about 4 s; the eager means are checked above)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((30, 4)).astype(np.float32)
    y = rng.integers(0, 3, 30)
    printed = []
    for lib in (torch, ft):
        lib.manual_seed(0)
        model = lib.nn.Linear(4, 3)
        opt = lib.optim.SGD(model.parameters(), lr=0.5)
        xs, ys = lib.tensor(x), lib.tensor(y)
        accuracies = []
        for _ in range(4):
            out = model(xs)
            loss = lib.nn.functional.cross_entropy(out, ys)
            opt.zero_grad()
            loss.backward()
            opt.step()
            accuracies.append((out.argmax(dim=1) == ys).float().mean().item())
        printed.append(accuracies)
    assert printed[1] == printed[0]


def test_mean_gradient_divides_as_pytorchs(torch):
    grads = []
    for lib in (torch, ft):
        x = lib.ones(30, 2, requires_grad=True)
        (x.mean() * 7).backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(grads[1], grads[0])


# -- the errors of what metric and preprocessing code calls ------------------------------

def _i(lib, values):
    return lib.tensor(values)


MISTAKES = {
    # dtypes PyTorch writes without casting
    "index_put long into float": lambda T: T.zeros(2, 2).index_put_(
        (_i(T, [0]), _i(T, [0])), _i(T, [1])),
    "index_put accumulate float into long": lambda T: T.zeros(3, 3, dtype=T.long).index_put_(
        (_i(T, [0]), _i(T, [1])), T.ones(1), accumulate=True),
    "scatter_add long into float": lambda T: T.zeros(3).scatter_add_(0, _i(T, [0]), _i(T, [1])),
    "scatter tensor src": lambda T: T.zeros(3, dtype=T.long).scatter(0, _i(T, [0]), T.ones(1)),
    "scatter_reduce": lambda T: T.zeros(3).scatter_reduce(0, _i(T, [0]), _i(T, [1]), "sum"),
    "index_add": lambda T: T.zeros(3).index_add(0, _i(T, [0]), _i(T, [1])),
    "index_copy": lambda T: T.zeros(3).index_copy(0, _i(T, [0]), _i(T, [1])),
    "masked_scatter": lambda T: T.zeros(3).masked_scatter(_i(T, [True, False, False]),
                                                          _i(T, [1])),
    "put_": lambda T: T.zeros(3).put_(_i(T, [0]), _i(T, [1])),
    # index arguments of index_add / index_copy / index_fill
    "index_add float index": lambda T: T.zeros(3).index_add(0, T.zeros(1), T.ones(1)),
    "index_add 2-D index": lambda T: T.zeros(3).index_add(0, _i(T, [[0]]), T.ones(1)),
    "index_copy float index": lambda T: T.zeros(3).index_copy(0, T.zeros(1), T.ones(1)),
    "index_copy 2-D index": lambda T: T.zeros(3).index_copy(0, _i(T, [[0]]), T.ones(1)),
    "index_fill float index": lambda T: T.zeros(3).index_fill(0, T.zeros(1), 1.0),
    "index_fill 2-D index": lambda T: T.zeros(3).index_fill(0, _i(T, [[0]]), 1.0),
    "index_fill dim": lambda T: T.zeros(3).index_fill(1, _i(T, [0]), 1.0),
    # order statistics of nothing
    "mode of an empty tensor": lambda T: T.mode(T.tensor([])),
    "mode along an empty dim": lambda T: T.zeros(2, 0).mode(1),
    "kthvalue along an empty dim": lambda T: T.zeros(2, 0).kthvalue(1, 1),
    "max along an empty dim": lambda T: T.zeros(3, 0).max(1),
    "amax along an empty dim": lambda T: T.zeros(3, 0).amax(-1),
    "argmin along an empty dim": lambda T: T.zeros(0, 3).argmin(0),
    # a kNN classifier's distances, a linear baseline's least squares
    "cdist of vectors": lambda T: T.cdist(T.ones(3), T.ones(3)),
    "cdist columns": lambda T: T.cdist(T.ones(3, 2), T.ones(3, 4)),
    "cdist of integers": lambda T: T.cdist(T.ones(3, 2, dtype=T.long), T.ones(3, 2, dtype=T.long)),
    "cdist negative p": lambda T: T.cdist(T.ones(3, 2), T.ones(3, 2), p=-1),
    "lstsq rows": lambda T: T.linalg.lstsq(T.ones(3, 2), T.ones(4, 1)),
    "lstsq rows of a vector": lambda T: T.linalg.lstsq(T.ones(3, 2), T.ones(4)),
    # missing values
    "nanmean of integers": lambda T: T.tensor([1, 2]).nanmean(),
    "masked_select shapes": lambda T: T.masked_select(T.zeros(2, 3), _i(T, [True, False])),
    "masked_fill with a vector": lambda T: T.zeros(2).masked_fill(_i(T, [True, False]),
                                                                  T.ones(1)),
    "masked_fill_ with a vector": lambda T: T.zeros(2).masked_fill_(_i(T, [True, False]),
                                                                    T.ones(2)),
    "where of integers": lambda T: T.where(_i(T, [1, 0]), T.ones(1), T.zeros(1)),
    "Tensor.where of floats": lambda T: T.ones(2).where(T.ones(2), 0.0),
    # index_put_ writes nothing JAX would drop or clamp
    "index_put_ past the end": lambda T: T.zeros(3).index_put_((_i(T, [0, 5]),), T.ones(2)),
    "index_put_ before the start": lambda T: T.zeros(3).index_put_((_i(T, [-4]),), T.ones(1)),
    "index_put_ second dim": lambda T: T.zeros(3, 2).index_put_((_i(T, [0]), _i(T, [2])),
                                                                T.ones(1)),
    "index_put_ values": lambda T: T.zeros(3).index_put_((_i(T, [0]),), T.ones(2)),
    "index_put_ rows": lambda T: T.zeros(3, 2).index_put_((_i(T, [0, 1]),), T.ones(3)),
    "index_put_ indices": lambda T: T.zeros(3, 2).index_put_((_i(T, [0, 1]), _i(T, [0, 1, 1])),
                                                             T.ones(1)),
    # reductions over a dim twice, unique along a dim that is not there
    "sum over a dim twice": lambda T: T.ones(2, 2).sum(dim=(0, -2)),
    "mean over a dim twice": lambda T: T.ones(2, 2).mean(dim=[1, 1]),
    "amax over a dim twice": lambda T: T.ones(2, 2).amax(dim=(1, 1)),
    "nansum over a dim twice": lambda T: T.ones(2, 2).nansum(dim=(1, -1)),
    "unique dim": lambda T: T.unique(_i(T, [1, 2]), dim=3),
    # losses' arguments
    "cross_entropy integer weight": lambda T: T.nn.functional.cross_entropy(
        T.zeros(2, 3), _i(T, [0, 2]), weight=_i(T, [1, 2, 3])),
    "nll_loss boolean weight": lambda T: T.nn.functional.nll_loss(
        T.zeros(2, 3), _i(T, [0, 2]), weight=_i(T, [True, False, True])),
    "huber_loss delta": lambda T: T.nn.HuberLoss(delta=-1.0)(T.zeros(2), T.ones(2)),
    "huber_loss delta type": lambda T: T.nn.functional.huber_loss(T.zeros(2), T.ones(2),
                                                                   delta="a"),
    "smooth_l1_loss beta": lambda T: T.nn.functional.smooth_l1_loss(T.zeros(2), T.ones(2),
                                                                     beta=-0.5),
    "LSTM dropout": lambda T: T.nn.LSTM(2, 3, dropout=1.5),
    "GRU dropout positional": lambda T: T.nn.GRU(2, 3, 2, True, True, -0.1),
    "cdist compute_mode": lambda T: T.cdist(T.ones(2, 3), T.ones(2, 3), compute_mode="fast"),
    "lstsq of a vector": lambda T: T.linalg.lstsq(T.ones(3), T.ones(3)),
    "lstsq of a number": lambda T: T.linalg.lstsq(T.ones(3, 2), T.tensor(1.0)),
    "lstsq dtypes": lambda T: T.linalg.lstsq(T.ones(3, 2).long(), T.ones(3, 1)),
    "lstsq of integers": lambda T: T.linalg.lstsq(T.ones(3, 2).long(), T.ones(3, 1).long()),
    "lstsq driver": lambda T: T.linalg.lstsq(T.ones(3, 2), T.ones(3, 1), driver="qr"),
    "cdist p=nan": lambda T: T.cdist(T.ones(2, 3), T.ones(2, 3), p=float("nan")),
    # numbers and arrays where a function takes a tensor
    "isnan of a number": lambda T: T.isnan(3.0),
    "isfinite of a list": lambda T: T.isfinite([1.0]),
    "sigmoid of a number": lambda T: T.sigmoid(2.0),
    "softmax of a list": lambda T: T.softmax([1.0], 0),
    "topk of an array": lambda T: T.topk(np.ones(3), 1),
    "nan_to_num's nan": lambda T: T.nan_to_num(T.ones(1), nan="a"),
    # differences and quantiles of too little
    "diff of a number": lambda T: T.diff(T.tensor(1.0)),
    "diff of negative order": lambda T: T.diff(T.ones(2), n=-1),
    "quantile of nothing": lambda T: T.quantile(T.tensor([]), 0.5),
    "quantile level": lambda T: T.nanquantile(T.ones(1), 2.0),
}


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_mistakes_raise_as_pytorch(torch, name):
    pytorchs, fnnets = raised_by(MISTAKES[name], torch, ft)
    assert fnnets == pytorchs


_SCORES = [[0.5, -1.0, 2.0], [0.0, 1.5, -0.5]]

ALLOWED = {
    "a number into scatter": lambda T: T.zeros(3).scatter(0, _i(T, [1]), 2),
    "a one-element value at a mask": lambda T: T.zeros(3).index_put_(
        (_i(T, [True, False, True]),), _i(T, [4])),
    "index_put_ from the end": lambda T: T.zeros(3).index_put_((_i(T, [-1]),), T.ones(1)),
    "index_put_ broadcast indices": lambda T: T.zeros(3, 2).index_put_(
        (_i(T, [0, 1]), _i(T, [[0], [1]])), T.ones(2, 2)),
    "a confusion matrix": lambda T: T.zeros(3, 3, dtype=T.long).index_put_(
        (_i(T, [0, 1, 1]), _i(T, [0, 2, 2])), T.tensor(1), accumulate=True),
    "mode along a non-empty dim of an empty tensor": lambda T: T.zeros(0, 2).mode(1).values,
    "cdist broadcast over batches": lambda T: T.cdist(T.ones(1, 3, 2), T.zeros(4, 2, 2)),
    "cdist p=0": lambda T: T.cdist(_i(T, [[0.0, 0.0], [1.0, 1.0]]), _i(T, [[1.0, 0.0]]), p=0),
    "pdist p=0": lambda T: T.pdist(_i(T, [[0.0, 0.0], [1.0, 1.0], [1.0, 0.0]]), p=0),
    "a uint8 condition": lambda T: T.where(_i(T, [1, 0]).to(T.uint8), 1.0, 2.0),
    "an integer pos_weight": lambda T: T.nn.BCEWithLogitsLoss(pos_weight=_i(T, [3]))(
        _i(T, [0.5, -1.0]), _i(T, [1.0, 0.0])),
    "integer element weights": lambda T: T.nn.functional.binary_cross_entropy(
        _i(T, [0.25, 0.5]), _i(T, [1.0, 0.0]), weight=_i(T, [1, 2])),
    "integer weights with class probabilities": lambda T: T.nn.functional.cross_entropy(
        _i(T, _SCORES), _i(T, _SCORES).softmax(1), weight=_i(T, [1, 2, 3])),
    "HuberLoss made with any delta": lambda T: T.nn.HuberLoss(delta=-1.0).delta,
    "nanmedian of nothing": lambda T: T.nanmedian(T.tensor([])),
}


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_what_pytorch_allows_still_runs(torch, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs, ours = ALLOWED[name](torch), ALLOWED[name](ft)
    if not hasattr(theirs, "dtype"):
        assert ours == theirs
        return
    np.testing.assert_allclose(np.asarray(ours.tolist()), np.asarray(theirs.tolist()),
                               rtol=1e-6, equal_nan=True)
    assert str(ours.dtype) == str(theirs.dtype)
