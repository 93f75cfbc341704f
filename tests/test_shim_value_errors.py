"""Element types and values PyTorch refuses: fnnet.torch raises PyTorch's exception with
PyTorch's message (a Long batch into a Float layer, integer means, an empty max, a pool
window larger than its input...), and where PyTorch only warns (softmax without ``dim``)
it warns the same words and computes the same values."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers import raised_by

import fnnet.torch as ft

pytestmark = pytest.mark.torch


def _long(T, *shape):
    return T.ones(*shape, dtype=T.long)


MISTAKES = {
    # a layer fed integers or another float type (PyTorch does not promote here)
    "Linear, Long input": lambda T: T.nn.Linear(2, 2)(T.tensor([[1, 2]])),
    "Linear, 1-D Long input": lambda T: T.nn.Linear(2, 2)(T.tensor([1, 2])),
    "Linear, 3-D Byte input": lambda T: T.nn.Linear(2, 2)(T.ones(1, 1, 2, dtype=T.uint8)),
    "Linear, BFloat16 input": lambda T: T.nn.Linear(2, 2)(T.ones(1, 2, dtype=T.bfloat16)),
    "Linear without bias, Long input":
        lambda T: T.nn.Linear(2, 2, bias=False)(T.tensor([[1, 2]])),
    "F.linear, Long input": lambda T: T.nn.functional.linear(T.tensor([[1, 2]]), T.ones(2, 2)),
    "F.linear, Half input and bias": lambda T: T.nn.functional.linear(
        T.ones(1, 2, dtype=T.float16), T.ones(2, 2), T.ones(2)),
    "F.linear, Long bias": lambda T: T.nn.functional.linear(T.ones(1, 2), T.ones(2, 2),
                                                            _long(T, 2)),
    "LSTMCell, Long input": lambda T: T.nn.LSTMCell(2, 2)(_long(T, 3, 2)),
    "Conv2d, Long input": lambda T: T.nn.Conv2d(1, 1, 3)(_long(T, 1, 1, 5, 5)),
    "Conv2d, unbatched Bool input":
        lambda T: T.nn.Conv2d(1, 1, 3)(T.ones(1, 5, 5, dtype=T.bool)),
    "Conv2d without bias, Long input":
        lambda T: T.nn.Conv2d(1, 1, 3, bias=False)(_long(T, 1, 1, 5, 5)),
    "Conv1d, Half input": lambda T: T.nn.Conv1d(1, 1, 3)(T.ones(1, 1, 5, dtype=T.float16)),
    "Conv2d with BFloat16 weights, Float input":
        lambda T: T.nn.Conv2d(1, 1, 3).to(T.bfloat16)(T.ones(1, 1, 5, 5)),
    "F.conv2d, Long weight": lambda T: T.nn.functional.conv2d(T.ones(1, 1, 5, 5),
                                                              _long(T, 1, 1, 3, 3)),
    "ConvTranspose2d, Long input": lambda T: T.nn.ConvTranspose2d(1, 1, 3)(_long(T, 1, 1, 5, 5)),
    "LSTM, Long input": lambda T: T.nn.LSTM(2, 2)(_long(T, 3, 1, 2)),
    "GRU batch_first, Half input":
        lambda T: T.nn.GRU(2, 2, batch_first=True)(T.ones(1, 3, 2, dtype=T.float16)),
    "RNN unbatched, Long input": lambda T: T.nn.RNN(2, 2)(_long(T, 3, 2)),
    "mm, Long second": lambda T: T.mm(T.ones(2, 2), _long(T, 2, 2)),
    "matmul, Byte first": lambda T: T.ones(2, 2, dtype=T.uint8) @ T.ones(2, 2),
    "matmul, vectors": lambda T: _long(T, 2) @ T.ones(2),
    "matmul, matrix and vector": lambda T: _long(T, 2, 2) @ T.ones(2),
    "matmul, vector and matrix": lambda T: _long(T, 2) @ T.ones(2, 2),
    "matmul, batch and matrix": lambda T: T.ones(3, 2, 2) @ _long(T, 2, 2),
    "matmul, matrix and batch": lambda T: T.ones(2, 2) @ _long(T, 3, 2, 2),
    "bmm, Long first": lambda T: T.bmm(_long(T, 1, 2, 2), T.ones(1, 2, 2)),
    # embedding indices
    "Embedding, Float indices": lambda T: T.nn.Embedding(4, 2)(T.tensor([1.0])),
    "F.embedding, Float indices": lambda T: T.nn.functional.embedding(T.tensor([1.0]),
                                                                      T.ones(4, 2)),
    "Embedding, Bool indices": lambda T: T.nn.Embedding(4, 2)(T.tensor([True])),
    "EmbeddingBag, Float indices": lambda T: T.nn.EmbeddingBag(4, 2)(T.tensor([[1.0]])),
    # reductions PyTorch defines for floating types only, or not for empty tensors
    "mean of Long": lambda T: T.tensor([1, 2]).mean(),
    "mean of Long along a dim": lambda T: T.tensor([[1, 2]]).mean(0),
    "torch.mean of Long": lambda T: T.mean(T.tensor([1, 2])),
    "mean of Bool": lambda T: T.tensor([True]).mean(),
    "std of Long": lambda T: T.tensor([1, 2]).std(),
    "var of Long": lambda T: T.var(T.tensor([1, 2])),
    "max of empty": lambda T: T.tensor([]).max(),
    "min of empty": lambda T: T.tensor([]).min(),
    "amax of empty": lambda T: T.tensor([]).amax(),
    "argmax of empty": lambda T: T.tensor([]).argmax(),
    # shapes given as values
    "expand a non-singleton dim": lambda T: T.ones(2, 3).expand(4, 3),
    "expand the last dim": lambda T: T.ones(2, 1, 3).expand(2, 5, 4),
    "expand to fewer dims": lambda T: T.ones(2, 3).expand(3),
    "randint with an int size": lambda T: T.randint(10, 3),
    # pooling windows larger than the input
    "MaxPool2d, 1x1 input": lambda T: T.nn.MaxPool2d(2)(T.ones(1, 1, 1, 1)),
    "MaxPool2d, unbatched": lambda T: T.nn.MaxPool2d(3)(T.ones(1, 2, 2)),
    "AvgPool2d, 1x1 input": lambda T: T.nn.AvgPool2d(2)(T.ones(1, 1, 1, 1)),
    "F.max_pool2d, one narrow side": lambda T: T.nn.functional.max_pool2d(T.ones(1, 3, 4, 1), 2),
    "F.max_pool2d with indices":
        lambda T: T.nn.functional.max_pool2d(T.ones(1, 3, 1, 4), 2, return_indices=True),
    # arguments
    "Dropout p": lambda T: T.nn.Dropout(p=1.5),
    "Dropout2d p": lambda T: T.nn.Dropout2d(p=-1),
    "F.dropout p": lambda T: T.nn.functional.dropout(T.ones(2), p=1.5),
    "optimizer given one tensor": lambda T: T.optim.Adam(T.ones(2, requires_grad=True), lr=0.1),
    "optimizer given a Long tensor": lambda T: T.optim.SGD(_long(T, 2), lr=0.1),
    "requires_grad on Long": lambda T: T.tensor([1, 2], requires_grad=True),
    "zeros Long requires_grad": lambda T: T.zeros(2, dtype=T.long, requires_grad=True),
    "Parameter of Long": lambda T: T.nn.Parameter(_long(T, 2)),
}


@pytest.mark.parametrize("name", list(MISTAKES))
def test_a_refused_value_raises_pytorchs_error(torch, name):
    pytorchs, fnnets = raised_by(MISTAKES[name], torch, ft)
    assert fnnets == pytorchs


def test_the_same_calls_with_matching_types_run(torch):
    # the checks look at element types only: a float batch through the same layers works,
    # and a Long matmul of two Long operands stays Long, as in PyTorch
    x = ft.ones(2, 1, 5, 5)
    assert tuple(ft.nn.Conv2d(1, 1, 3)(x).shape) == (2, 1, 3, 3)
    assert tuple(ft.nn.Linear(2, 2)(ft.ones(3, 2)).shape) == (3, 2)
    assert (ft.ones(2, 2, dtype=ft.long) @ ft.ones(2, 2, dtype=ft.long)).dtype == ft.long
    assert ft.tensor([1, 2]).float().mean().item() == 1.5
    assert ft.tensor([1, 2]).mean(dtype=ft.float32).item() == \
        torch.tensor([1, 2]).mean(dtype=torch.float32).item()
    assert ft.nn.Embedding(4, 2)(ft.tensor([1], dtype=ft.int32)).shape == (1, 2)


SOFTMAXES = {
    "F.softmax 2-D": lambda T, x: T.nn.functional.softmax(x),
    "F.log_softmax 1-D": lambda T, x: T.nn.functional.log_softmax(x[0]),
    "F.softmax 3-D": lambda T, x: T.nn.functional.softmax(x.reshape(2, 3, 2)),
    "F.softmin 4-D": lambda T, x: T.nn.functional.softmin(x.reshape(1, 2, 3, 2)),
    "nn.Softmax()": lambda T, x: T.nn.Softmax()(x),
    "nn.LogSoftmax()": lambda T, x: T.nn.LogSoftmax()(x.reshape(2, 3, 2)),
}


@pytest.mark.parametrize("name", list(SOFTMAXES))
def test_softmax_without_dim_warns_and_takes_pytorchs_dim(torch, name):
    # old tutorials call F.softmax(x) / nn.Softmax(): PyTorch warns and picks dim 0 for
    # 0-, 1- and 3-D inputs, else 1
    values = np.linspace(-2.0, 3.0, 12, dtype=np.float32).reshape(4, 3)
    results = []
    for T in (torch, ft):
        x = T.tensor(values, requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = SOFTMAXES[name](T, x)
        (out * T.arange(out.numel()).reshape(out.shape)).sum().backward()
        texts = [str(w.message) for w in caught if "Implicit dimension" in str(w.message)]
        results.append((texts, out.detach().numpy(), x.grad.numpy()))
    assert results[1][0] == results[0][0] and len(results[0][0]) == 1
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(results[1][2], results[0][2], rtol=1e-5, atol=1e-6)
