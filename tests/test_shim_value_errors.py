"""Element types and values PyTorch refuses: fnnet.torch raises PyTorch's exception with
PyTorch's message (a Long batch into a Float layer, integer means, an empty max, a pool
window larger than its input...), and where PyTorch only warns (softmax without ``dim``)
it warns the same words and computes the same values."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from helpers import raised_by

import fnnet.torch as ft

pytestmark = pytest.mark.torch


def _long(T, *shape):
    return T.ones(*shape, dtype=T.long)


def _floor_divided_in_place(tensor, divisor):
    tensor //= divisor
    return tensor


MISTAKES = {
    # dropout in training draws its mask for floating dtypes only
    "F.dropout, Long input": lambda T: T.nn.functional.dropout(_long(T, 4), 0.5, True),
    "Dropout, Bool input": lambda T: T.nn.Dropout(0.2)(T.ones(4, dtype=T.bool)),
    "F.dropout, complex input": lambda T: T.nn.functional.dropout(
        T.ones(4, dtype=T.complex64), 0.5),
    "pack_padded_sequence, no lengths": lambda T: T.nn.utils.rnn.pack_padded_sequence(
        T.zeros(3, 2, 4), None),
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
    "expand, two dims wrong (the last reported)": lambda T: T.ones(2, 3).expand(4, 2),
    "expand, a mismatch behind a leading -1": lambda T: T.ones(2, 3).expand(-1, 4, 2),
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
    # indexing: JAX would clamp an index out of range, PyTorch raises
    "index out of range": lambda T: T.ones(3)[T.tensor([0, 5])],
    "index out of range, second dim": lambda T: T.ones(2, 3, 4)[T.tensor([0]), :, T.tensor([9])],
    "index out of range after a slice": lambda T: T.ones(2, 3)[:, T.tensor([-4])],
    "index assignment out of range": lambda T: T.zeros(3).__setitem__(T.tensor([3]), 1.0),
    "float index": lambda T: T.ones(3)[T.tensor([0.0])],
    # in place: a result of a higher kind is not written back
    "add_ a float to a Long tensor": lambda T: T.tensor([3]).add_(0.5),
    "mul_ a Long tensor by a Float one": lambda T: T.tensor([3]).mul_(T.tensor([0.5])),
    "div_ a Long tensor": lambda T: T.tensor([3]).div_(2),
    "add_ to a Bool tensor": lambda T: T.tensor([True]).add_(1),
    "in place on a view of a leaf": lambda T: T.ones(3, requires_grad=True)[:2].add_(1),
    "Long to a negative power": lambda T: T.tensor([2]) ** -1,
    # losses
    "mse_loss of two Long tensors": lambda T: T.nn.functional.mse_loss(_long(T, 2), _long(T, 2)),
    "huber_loss of two Bool tensors": lambda T: T.nn.functional.huber_loss(
        T.tensor([True]), T.tensor([False])),
    "l1_loss of two Long tensors": lambda T: T.nn.functional.l1_loss(_long(T, 2), _long(T, 2)),
    "l1_loss with Bool labels": lambda T: T.nn.functional.l1_loss(T.ones(2), T.tensor([True])),
    "BCELoss with Long labels": lambda T: T.nn.BCELoss()(T.ones(2) * 0.5, T.tensor([1, 0])),
    "BCEWithLogitsLoss with Long labels":
        lambda T: T.nn.BCEWithLogitsLoss()(T.ones(2), T.tensor([1, 0])),
    "cross_entropy, labels per position of another size": lambda T: T.nn.functional.cross_entropy(
        T.ones(2, 3, 4), _long(T, 2, 3)),
    "cross_entropy, 2-D labels for a 4-D input": lambda T: T.nn.functional.cross_entropy(
        T.ones(2, 3, 4, 5), _long(T, 2, 4)),
    "cross_entropy, spatial labels of another size": lambda T: T.nn.functional.cross_entropy(
        T.ones(2, 3, 4, 5), _long(T, 2, 4, 6)),
    "cross_entropy, 1-D input with 2 labels":
        lambda T: T.nn.functional.cross_entropy(T.ones(3), _long(T, 2) * 0),
    "softmax of Long": lambda T: T.tensor([1, 2]).softmax(0),
    "log_softmax of Long along the first of two dims":
        lambda T: T.tensor([[1, 2]]).log_softmax(0),
    # a language model's logits built as integers (a count table, not yet .float())
    "cross_entropy of Long scores": lambda T: T.nn.functional.cross_entropy(
        _long(T, 4, 5), T.zeros(4, dtype=T.long)),
    "cross_entropy of Bool scores per position": lambda T: T.nn.functional.cross_entropy(
        T.ones(2, 5, 3, dtype=T.bool), T.zeros(2, 3, dtype=T.long)),
    "cross_entropy of Long scores, targets of another batch": lambda T:
        T.nn.functional.cross_entropy(_long(T, 4, 5), T.zeros(3, dtype=T.long)),
    "cross_entropy of Long scores and Long probabilities": lambda T:
        T.nn.functional.cross_entropy(_long(T, 4, 5), _long(T, 4, 5)),
    "nll_loss of Long scores": lambda T: T.nn.functional.nll_loss(
        _long(T, 4, 5), T.zeros(4, dtype=T.long)),
    "nll_loss of Long scores per position": lambda T: T.nn.functional.nll_loss(
        _long(T, 2, 5, 3), T.zeros(2, 3, dtype=T.long)),
    # attention heads whose query and key widths differ
    "sdpa, 4-D, key of another width": lambda T: T.nn.functional.scaled_dot_product_attention(
        T.ones(1, 2, 4, 8), T.ones(1, 2, 4, 6), T.ones(1, 2, 4, 8)),
    "sdpa, 3-D, key of another width": lambda T: T.nn.functional.scaled_dot_product_attention(
        T.ones(2, 4, 8), T.ones(2, 4, 6), T.ones(2, 4, 8)),
    "sdpa, 2-D, key of another width": lambda T: T.nn.functional.scaled_dot_product_attention(
        T.ones(4, 8), T.ones(4, 6), T.ones(4, 8)),
    # a causal mask's triangle of a vector
    "tril of a vector": lambda T: T.tril(T.ones(3)),
    "triu_ of a scalar": lambda T: T.tensor(1.0).triu_(),
    # data
    "TensorDataset of two lengths": lambda T: T.utils.data.TensorDataset(T.ones(2), T.ones(3)),
    "tensor from ragged lists": lambda T: T.tensor([[1, 2], [3]]),
    "TensorDataset index out of range": lambda T: T.utils.data.TensorDataset(T.ones(4))[9],
    # values PyTorch checks that JAX would turn into empty or zero results
    "one_hot of a negative class": lambda T: T.nn.functional.one_hot(T.tensor([-1]), 3),
    "one_hot of a class past num_classes":
        lambda T: T.nn.functional.one_hot(T.tensor([5]), 3),
    "arange against its step's sign": lambda T: T.arange(0, 5, -1),
    "randperm of a negative count": lambda T: T.randperm(-1),
    "normal with a negative std": lambda T: T.normal(0.0, -1.0, size=(2,)),
    "permute with a repeated dim": lambda T: T.ones(2, 3).permute(0, 0),
    "flatten past the last dim": lambda T: T.ones(2, 3).flatten(3),
    "cat of nothing": lambda T: T.cat([]),
    # modules and optimizers
    "add_module with a dot": lambda T: T.nn.Module().add_module("a.b", T.nn.ReLU()),
    "a tensor assigned as a parameter":
        lambda T: setattr(T.nn.Linear(2, 2), "weight", T.ones(2, 2)),
    "a parameter in two groups": lambda T: (lambda w: T.optim.SGD(
        [{"params": [w]}, {"params": [w]}], lr=0.1))(T.nn.Parameter(T.ones(2))),
    # an index past its dimension (JAX would clamp or drop it without a word)
    "gather past the dim": lambda T: T.ones(3, 4).gather(1, T.tensor([[4]])),
    "gather at a negative index": lambda T: T.ones(3, 4).gather(1, T.tensor([[-1]])),
    "scatter_add_ past the dim": lambda T: T.zeros(3).scatter_add_(0, T.tensor([3]),
                                                                  T.ones(1)),
    "scatter of a value past the dim": lambda T: T.zeros(3, 4).scatter(0, T.tensor([[3]]), 1.0),
    "scatter_reduce past the dim": lambda T: T.zeros(3).scatter_reduce(
        0, T.tensor([3]), T.ones(1), "sum"),
    "index_select past dim 0": lambda T: T.ones(3, 4).index_select(0, T.tensor([3])),
    "index_select at a negative index": lambda T: T.ones(3).index_select(0, T.tensor([-1])),
    "index_select past dim 1": lambda T: T.ones(2, 3).index_select(1, T.tensor([3])),
    "index_select of a float index": lambda T: T.ones(3).index_select(0, T.tensor([1.0])),
    "index_add_ of a vector past its end": lambda T: T.zeros(3).index_add_(
        0, T.tensor([3]), T.ones(1)),
    "index_add past dim 1": lambda T: T.zeros(2, 3).index_add(1, T.tensor([-1]),
                                                             T.ones(2, 1)),
    "index_copy past the dim": lambda T: T.zeros(3).index_copy(0, T.tensor([5]), T.ones(1)),
    "index_fill past the dim": lambda T: T.zeros(3).index_fill(0, T.tensor([-4]), 1.0),
    "take past the end": lambda T: T.take(T.ones(3, 4), T.tensor([-13])),
    "GroupNorm of groups not dividing the channels": lambda T: T.nn.GroupNorm(3, 4),
    # a layer given features of another size
    "LSTM of another input size": lambda T: T.nn.LSTM(3, 4)(T.ones(2, 5)),
    "GRU of another input size": lambda T: T.nn.GRU(3, 4, batch_first=True)(T.ones(2, 1, 5)),
    "LayerNorm of another shape": lambda T: T.nn.LayerNorm([2, 4])(T.ones(3, 4)),
    "F.layer_norm of another shape": lambda T: T.nn.functional.layer_norm(T.ones(2, 3), (4,)),
    "BatchNorm2d of other channels": lambda T: T.nn.BatchNorm2d(3)(T.ones(2, 4, 2, 2)),
    "BatchNorm1d without statistics, other channels": lambda T: T.nn.BatchNorm1d(
        3, track_running_stats=False)(T.ones(4, 5)),
    # shapes and sizes
    "zeros of a negative size": lambda T: T.zeros(-1),
    "ones of a negative size": lambda T: T.ones(2, -1),
    "randn of a negative size": lambda T: T.randn(3, -1),
    "full of a negative size": lambda T: T.full((-1,), 1.0),
    "randint of an empty range": lambda T: T.randint(2, 2, (3,)),
    "randint of a negative high": lambda T: T.randint(-1, (3,)),
    "split of size 0": lambda T: T.ones(5).split(0),
    "permute of too few dims": lambda T: T.ones(2, 3).permute(0),
    "one_hot of a negative class without num_classes": lambda T: T.nn.functional.one_hot(
        T.tensor([-1])),
    "BatchNorm1d of one sample in training": lambda T: T.nn.BatchNorm1d(4)(T.ones(1, 4)),
    "BatchNorm2d of one pixel in training": lambda T: T.nn.BatchNorm2d(4)(T.ones(1, 4, 1, 1)),
    "batch statistics of one value": lambda T: T.nn.functional.batch_norm(
        T.ones(1, 4), None, None, training=True),
    # views and in-place writes
    "a gradient of another size assigned": lambda T: setattr(
        T.nn.Parameter(T.ones(2)), "grad", T.ones(3)),
    "a gradient of another dtype assigned": lambda T: setattr(
        T.nn.Parameter(T.ones(2)), "grad", T.ones(2, dtype=T.float16)),
    "a list assigned as a gradient": lambda T: setattr(
        T.nn.Parameter(T.ones(2)), "grad", [1.0, 2.0]),
    "view of a transpose": lambda T: T.ones(2, 3).t().view(6),
    "view of a column slice": lambda T: T.ones(2, 3)[:, :2].view(4),
    "an element of a leaf written": lambda T: T.ones(3, requires_grad=True).__setitem__(0, 5),
    "a slice of a leaf written": lambda T: T.ones(3, requires_grad=True).__setitem__(
        (slice(1, None),), 5),
    "a leaf written at a list of indices": lambda T: T.ones(
        3, requires_grad=True).__setitem__([0], 5),
    # masks are inverted with ~, not with -
    "two masks subtracted": lambda T: T.tensor([True, False]) - T.tensor([False, False]),
    "a mask minus True": lambda T: T.tensor([True]) - True,
    "one minus a mask": lambda T: 1 - T.tensor([True, False]),
    "a Long tensor minus a mask": lambda T: T.tensor([3]).sub(T.tensor([True])),
    "a mask subtracted in place": lambda T: T.tensor([True]).sub_(T.tensor([True])),
    "a mask negated": lambda T: -T.tensor([True, False]),
    "a mask negated by neg()": lambda T: T.tensor([True]).neg(),
    # integer division by a zero the host holds
    "Long // 0": lambda T: T.tensor([1, 2]) // 0,
    "Long % 0": lambda T: T.tensor([4]) % 0,
    "Long // a Long zero": lambda T: T.tensor([4]) // T.tensor([0]),
    "Long % a zero among others": lambda T: T.tensor([4, 5]) % T.tensor([1, 0]),
    "int // a Long zero": lambda T: 5 // T.tensor([0]),
    "int % a Long zero": lambda T: 5 % T.tensor([0]),
    "Byte // False": lambda T: T.ones(2, dtype=T.uint8) // T.tensor([False]),
    "div floor by 0": lambda T: T.div(T.tensor([4]), 0, rounding_mode="floor"),
    "div trunc by 0": lambda T: T.tensor([4]).div(0, rounding_mode="trunc"),
    "div_ floor by 0": lambda T: T.tensor([4]).div_(0, rounding_mode="floor"),
    "floor_divide by 0": lambda T: T.floor_divide(T.tensor([4]), 0),
    "remainder by 0": lambda T: T.remainder(T.tensor([4]), T.tensor([0])),
    "fmod by 0": lambda T: T.tensor([4]).fmod(0),
    "Long //= 0": lambda T: _floor_divided_in_place(T.tensor([4]), 0),
    # shapes a beginner gets wrong
    "mm of vectors": lambda T: T.mm(T.ones(3), T.ones(3)),
    "mm by a vector": lambda T: T.ones(2, 3).mm(T.ones(3)),
    "squeeze past the last dim": lambda T: T.ones(2, 3).squeeze(3),
    "squeeze dims, one past the last": lambda T: T.ones(2, 1).squeeze((1, -3)),
    "repeat with fewer counts than dims": lambda T: T.ones(2, 3).repeat(2),
    "Linear of a 0-d tensor": lambda T: T.nn.Linear(1, 1)(T.tensor(1.0)),
    "outer of a matrix": lambda T: T.ones(2, 2).outer(T.ones(2)),
    "outer with a 0-d": lambda T: T.outer(T.ones(2), T.tensor(1.0)),
    "detach_ of a slice": lambda T: T.ones(3, requires_grad=True)[:2].detach_(),
    "detach_ of a view": lambda T: T.ones(3).view(1, 3).detach_(),
    "0-d @ vector": lambda T: T.tensor(2.0) @ T.ones(2),
    "matmul of two 0-d": lambda T: T.matmul(T.tensor(1.0), T.tensor(2.0)),
    "vector @ int": lambda T: T.ones(2) @ 3,
    "float @ vector": lambda T: 2.0 @ T.ones(2),
    "Conv2d kernel wider than the input": lambda T: T.nn.Conv2d(1, 1, (2, 5))(T.ones(1, 1, 3, 4)),
    "Conv2d dilated kernel past the padding": lambda T: T.nn.Conv2d(1, 1, 3, padding=1,
                                                                    dilation=3)(T.ones(1, 3, 3)),
    "Conv1d kernel wider than the input": lambda T: T.nn.Conv1d(2, 1, 5)(T.ones(2, 3)),
    # masks and data of the wrong kind, which fnnet.torch used to read anyway
    "masked_fill with a Long mask": lambda T: T.ones(3).masked_fill(T.tensor([1, 0, 1]), 0.0),
    "masked_fill_ with a Byte mask": lambda T: T.ones(3).masked_fill_(
        T.tensor([1, 0, 1], dtype=T.uint8), 0.0),
    "tensor of text labels": lambda T: T.tensor(["cat", "dog"]),
    "tensor of a number and text": lambda T: T.tensor([1, "a"]),
    "tensor with None": lambda T: T.tensor([None, 1]),
    "tensor of floats with a missing value": lambda T: T.tensor([[1.5, 2.0], [None, 3.0]]),
    "einsum of a subscript's sizes that do not broadcast": lambda T: T.einsum(
        "bij,bjk->bik", T.ones(2, 3, 4), T.ones(3, 4, 5)),
    "einsum of an operand of another rank": lambda T: T.einsum("ij->i", T.ones(2, 3, 4)),
    "einsum of a repeated subscript's sizes": lambda T: T.einsum("ii->i", T.ones(2, 3)),
    "einsum of ellipsis sizes": lambda T: T.einsum("...ij,...jk", T.ones(2, 3, 4),
                                                   T.ones(5, 4, 2)),
    "einsum of too few operands": lambda T: T.einsum("ij,jk", T.ones(2, 3)),
    "einsum of too many operands": lambda T: T.einsum("ij,jk->ik", *[T.ones(2, 2)] * 3),
    "linspace of negative steps": lambda T: T.linspace(0, 1, -1),
    "kthvalue of k past the dimension": lambda T: T.ones(3, 4).kthvalue(5, dim=-1),
    "conv2d of stride 0": lambda T: T.nn.functional.conv2d(T.ones(1, 1, 4, 4),
                                                          T.ones(1, 1, 2, 2), stride=(1, 0)),
    "conv1d of dilation 0": lambda T: T.nn.functional.conv1d(T.ones(1, 1, 4), T.ones(1, 1, 2),
                                                            dilation=0),
    "conv3d of negative padding": lambda T: T.nn.functional.conv3d(
        T.ones(1, 1, 4, 4, 4), T.ones(1, 1, 2, 2, 2), padding=-1),
    "conv2d of 0 groups": lambda T: T.nn.functional.conv2d(T.ones(1, 1, 4, 4),
                                                          T.ones(1, 1, 2, 2), groups=0),
    "autograd.grad of an output that requires no grad": lambda T: T.autograd.grad(
        [(T.ones(2, requires_grad=True) * 2).sum(), T.ones(2).sum()], T.ones(2)),
    # a module's attributes given the wrong kind of value (named by torch.typename)
    "a tensor assigned to a child module's name": lambda T: setattr(
        _with_parts(T), "layer", T.ones(1)),
    "a tensor assigned to a parameter's name": lambda T: setattr(
        _with_parts(T), "scale", T.ones(1)),
    "a number assigned to a buffer's name": lambda T: setattr(_with_parts(T), "count", 3),
    "a tensor registered as a parameter": lambda T: _with_parts(T).register_parameter(
        "extra", T.ones(1, dtype=T.int64)),
    "a list registered as a buffer": lambda T: _with_parts(T).register_buffer("extra", [1]),
    # a list where a function takes a tensor
    "numel of a list": lambda T: T.numel([1, 2]),
    "zeros_like of a list": lambda T: T.zeros_like([1.0]),
    "ones_like of a number": lambda T: T.ones_like(3),
    "full_like of a list": lambda T: T.full_like([1.0], 2),
    "allclose of lists": lambda T: T.allclose([1.0], [1.0]),
    "allclose of a tensor and a list": lambda T: T.allclose(T.ones(1), [1.0]),
    "isclose of a list": lambda T: T.isclose([1.0], T.ones(1)),
    # a number where the comparison functions of two tensors take a tensor
    "isclose of a float": lambda T: T.isclose(T.ones(2), 0.5),
    "Tensor.isclose of a float": lambda T: T.ones(2).isclose(0.5),
    "allclose of a float": lambda T: T.allclose(T.ones(2), 1.0),
    "Tensor.allclose of None": lambda T: T.ones(2).allclose(None),
    "equal of a float": lambda T: T.equal(0.5, T.ones(2)),
    "Tensor.equal of a float": lambda T: T.ones(2).equal(1.0),
    "maximum of a float": lambda T: T.maximum(T.ones(2), 0.5),
    "Tensor.minimum of a float": lambda T: T.ones(2).minimum(0.5),
    # isclose's other checks: one dtype, tolerances that are non-negative floats
    "isclose of Float and Long": lambda T: T.isclose(T.ones(2), T.ones(2, dtype=T.long)),
    "allclose of Long and Float": lambda T: T.allclose(T.ones(2, dtype=T.long), T.ones(2)),
    "isclose of a negative rtol": lambda T: T.isclose(T.ones(2), T.ones(2), rtol=-1),
    "allclose of a negative atol": lambda T: T.allclose(T.ones(2), T.ones(2), atol=-0.5),
    "isclose of a NaN rtol": lambda T: T.isclose(T.ones(2), T.ones(2), rtol=math.nan),
    "isclose of a string atol": lambda T: T.isclose(T.ones(2), T.ones(2), atol="0.1"),
    "allclose of an int equal_nan": lambda T: T.allclose(T.ones(2), T.ones(2), equal_nan=1),
    "inner of a tensor and a list": lambda T: T.inner(T.ones(2), [1.0, 2.0]),
    "map_ over a list": lambda T: T.ones(2).map_([1.0, 2.0], lambda a, b: a),
    # a batch read as one number, a tensor given where a sequence of them is taken
    "float of a batch of losses": lambda T: float(T.ones(3)),
    "int of a matrix": lambda T: int(T.ones(2, 2)),
    "if on an empty tensor": lambda T: bool(T.ones(0)),
    "tensor of a list of vectors": lambda T: T.tensor([T.ones(2), T.ones(2)]),
    "cat of one tensor": lambda T: T.cat(T.ones(2, 3)),
    "cat of two tensors given apart": lambda T: T.cat(T.ones(2, 3), T.ones(2, 3)),
    "cat of a tensor and a list": lambda T: T.cat([T.ones(2), [1.0]]),
    "stack of a tensor": lambda T: T.stack(T.ones(2, 3)),
    "stack of a tensor and a number": lambda T: T.stack([T.ones(2), 1.0]),
    "optimizer given the model": lambda T: T.optim.SGD(T.nn.Linear(1, 1), lr=0.1),
    "gather of a float index": lambda T: T.ones(2, 3).gather(1, T.tensor([[0.0]])),
    "scatter_add of a float index": lambda T: T.ones(2, 3).scatter_add(
        1, T.tensor([[0.0]]), T.ones(1, 1)),
    "take_along_dim of float indices": lambda T: T.take_along_dim(
        T.ones(2, 3), T.tensor([[0.0]]), 1),
    "GRU given a tuple state": lambda T: T.nn.GRU(4, 8)(T.ones(5, 2, 4),
                                                        (T.zeros(1, 2, 8),)),
    "size of a dim past the last": lambda T: T.ones(2, 3).size(2),
    "size of a dim of a 0-d tensor": lambda T: T.tensor(1.0).size(0),
    "size of a float dim": lambda T: T.ones(2, 3).size(1.0),
    "an index into a 0-d tensor": lambda T: T.tensor(1.0)[0],
    "set_num_threads of 0": lambda T: T.set_num_threads(0),
    "set_num_threads of a float": lambda T: T.set_num_threads(1.5),
    "exp of a float": lambda T: T.exp(1.0),
    "sqrt of an int": lambda T: T.sqrt(2),
    "sum of a list": lambda T: T.sum([1.0, 2.0]),
    "argmax of a list": lambda T: T.argmax([1, 3, 2]),
    "add of a list and a tensor": lambda T: T.add([1.0, 2.0], T.ones(2)),
    # an in-place op whose result is of a higher kind than the tensor it writes
    "sqrt_ of a Long tensor": lambda T: T.tensor([4, 9]).sqrt_(),
    "sigmoid_ of a Long tensor": lambda T: T.tensor([1]).sigmoid_(),
    "atan2_ of a Long tensor": lambda T: T.tensor([1]).atan2_(T.tensor([2])),
    "clamp_ of a Long tensor to a float": lambda T: T.tensor([1, 5]).clamp_(max=2.5),
    "clamp_ of a Byte tensor to a float": lambda T: T.tensor([1], dtype=T.uint8).clamp_(0.5),
    # an assigned value that does not broadcast to the region it is written to
    "assigned rows of the wrong width":
        lambda T: T.zeros(3, 2).__setitem__(slice(None), T.tensor([7.0, 8.0, 9.0])),
    "assigned window of the wrong length":
        lambda T: T.zeros(3, 2).__setitem__(slice(0, 2), T.ones(3, 2)),
    "assigned value of too many dims":
        lambda T: T.zeros(3, 2).__setitem__(slice(None), T.ones(2, 3, 2)),
    "assigned to rows chosen by a tensor":
        lambda T: T.zeros(3, 2).__setitem__(T.tensor([0, 2]), T.ones(3)),
}


def _with_parts(T):
    """A module with a child module, a parameter and a buffer."""
    module = T.nn.Module()
    module.layer = T.nn.Linear(1, 1)
    module.scale = T.nn.Parameter(T.ones(1))
    module.register_buffer("count", T.zeros(()))
    return module


FITTING_CONVOLUTIONS = {  # the same kernels where PyTorch runs them
    "same padding": lambda T: T.nn.Conv2d(1, 1, 5, padding="same")(T.ones(1, 1, 3, 3)),
    "padding that makes room": lambda T: T.nn.Conv2d(1, 1, 5, padding=1)(T.ones(1, 1, 3, 3)),
    "replicate padding": lambda T: T.nn.Conv2d(1, 1, 3, padding=1,
                                               padding_mode="replicate")(T.ones(1, 1, 1, 1)),
}


WARNINGS = {
    "scheduler stepped before its optimizer": lambda T: T.optim.lr_scheduler.StepLR(
        T.optim.SGD([T.nn.Parameter(T.ones(2))], lr=0.1), 1).step(),
    "a parameter listed twice": lambda T: (lambda w: T.optim.SGD([w, w], lr=0.1))(
        T.nn.Parameter(T.ones(2))),
    "LSTM dropout with one layer": lambda T: T.nn.LSTM(2, 2, num_layers=1, dropout=0.5),
    "std of one value": lambda T: T.tensor([1.0]).std(),
    "var over a dimension of size 1": lambda T: T.var(T.ones(3, 1), dim=1),
    # PyTorch's deprecated names, which still work
    "nn.init.normal": lambda T: T.nn.init.normal(T.empty(2, 3)),
    "nn.init.xavier_uniform": lambda T: T.nn.init.xavier_uniform(T.empty(2, 3)),
    "nn.utils.clip_grad_norm": lambda T: T.nn.utils.clip_grad_norm(
        [T.nn.Parameter(T.ones(2))], 1.0),
    "nn.utils.weight_norm": lambda T: T.nn.utils.weight_norm(T.nn.Linear(2, 2)),
    "F.upsample": lambda T: T.nn.functional.upsample(T.ones(1, 1, 2, 2), scale_factor=2),
}


@pytest.mark.parametrize("name", list(WARNINGS))
def test_a_slip_pytorch_warns_about_warns_the_same_words(torch, name):
    texts = []
    for T in (torch, ft):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            WARNINGS[name](T)
        # PyTorch's C++ warnings end with where its build raised them: left out
        texts.append([(w.category, str(w.message).split(" (Triggered internally")[0])
                      for w in caught if w.category in (UserWarning, FutureWarning)])
    assert texts[1] == texts[0] and len(texts[0]) == 1


@pytest.mark.parametrize("name", list(MISTAKES))
def test_a_refused_value_raises_pytorchs_error(torch, name):
    pytorchs, fnnets = raised_by(MISTAKES[name], torch, ft)
    assert fnnets == pytorchs


@pytest.mark.parametrize("name", list(FITTING_CONVOLUTIONS))
def test_a_kernel_that_fits_its_padded_input_runs(torch, name):
    shapes = [tuple(FITTING_CONVOLUTIONS[name](T).shape) for T in (torch, ft)]
    assert shapes[1] == shapes[0]


def test_division_by_zero_with_a_float_operand_or_by_a_nonzero_runs_as_pytorch(torch):
    calls = [lambda T: T.tensor([4]) // 0.0, lambda T: T.tensor([4.0, -1.0]) % 0,
             lambda T: T.tensor([4]) / 0, lambda T: T.tensor([4]) // T.tensor([0.0]),
             lambda T: T.div(T.tensor([4]), 0), lambda T: 7 % T.tensor([3, -2]),
             lambda T: 7 // T.tensor([3, -2]), lambda T: T.tensor([7, -7]) % T.tensor([2])]
    for call in calls:
        expected = call(torch)
        got = call(ft)
        assert str(got.dtype) == str(expected.dtype)
        np.testing.assert_array_equal(got.numpy(), expected.numpy())


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
    # dropout of integers where nothing is drawn: out of training, p of 0 or 1
    for p, training in ((0.5, False), (0.0, True), (1.0, True)):
        assert ft.nn.functional.dropout(ft.ones(3, dtype=ft.long), p, training).tolist() == \
            torch.nn.functional.dropout(torch.ones(3, dtype=torch.long), p, training).tolist()


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


# (huber_loss computes with integer labels too, but PyTorch's backward then fails; l1_loss
# refuses boolean labels, in MISTAKES)
REGRESSIONS = [("mse_loss", "Long"), ("l1_loss", "Long"), ("smooth_l1_loss", "Long"),
               ("mse_loss", "Bool"), ("smooth_l1_loss", "Bool")]


@pytest.mark.parametrize(("loss", "labels"), REGRESSIONS)
def test_a_regression_on_integer_labels_promotes_them_as_pytorch(torch, loss, labels):
    # nn.MSELoss()(pred, torch.tensor([1, 3])): PyTorch casts the labels to the
    # prediction's type; the loss and its gradient are PyTorch's
    pred = np.array([0.5, 2.0, -1.0], dtype=np.float32)
    values = [1, 3, 0] if labels == "Long" else [True, False, True]
    results = []
    for T in (torch, ft):
        x = T.tensor(pred, requires_grad=True)
        out = getattr(T.nn.functional, loss)(x, T.tensor(values))
        out.backward()
        results.append((str(out.dtype), out.item(), x.grad.numpy()))
    huber = [T.nn.functional.huber_loss(T.tensor(pred), T.tensor([1, 3, 0])).item()
             for T in (torch, ft)]
    assert huber[1] == pytest.approx(huber[0], rel=1e-6)
    assert results[1][0] == results[0][0] == "torch.float32"
    assert results[1][1] == pytest.approx(results[0][1], rel=1e-6)
    np.testing.assert_allclose(results[1][2], results[0][2], rtol=1e-6)


@pytest.mark.parametrize("name", ["sigmoid", "rsqrt", "exp", "sqrt", "tanh"])
def test_float_functions_of_integers_give_floats_as_pytorch(torch, name):
    results = []
    for T in (torch, ft):
        out = getattr(T, name)(T.tensor([1, 2, 4]))
        results.append((str(out.dtype), out.numpy()))
    assert results[1][0] == results[0][0]
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-6)
    assert str(ft.nn.Sigmoid()(ft.tensor([0, 1])).dtype) == "torch.float32"


@pytest.mark.parametrize("name", ["relu6", "hardtanh", "relu"])
def test_clipping_activations_of_integers_stay_integers_as_pytorch(torch, name):
    results = []
    for T in (torch, ft):
        out = getattr(T.nn.functional, name)(T.tensor([-3, 0, 2, 9]))
        results.append((str(out.dtype), out.tolist()))
    assert results[1] == results[0]


def test_in_range_indices_and_same_kind_in_place_ops_still_run(torch):
    # the checks refuse only what PyTorch refuses
    for T in (torch, ft):
        x = T.arange(12.0).reshape(3, 4)
        assert x[T.tensor([2, -3])].tolist() == x[[2, 0]].tolist()
        assert x[:, T.tensor([3, -4])].shape == (3, 2)
        y = T.tensor([3])
        y.add_(2)
        y.div_(2, rounding_mode="floor")
        assert y.tolist() == [2]
        z = T.ones(2, dtype=T.float16)
        z.add_(T.ones(2))
        assert str(z.dtype) == "torch.float16"
        w = T.tensor([3])
        w.fill_(2.7)
        assert w.tolist() == [2]
        v = T.arange(6.0).reshape(2, 3)
        assert [tuple(u.shape) for u in (v.t().view(3, 2), v[:, 1:2].view(2),
                                         v.t()[0].view(1, 2), v[::2].view(3))] == \
            [(3, 2), (2,), (1, 2), (3,)]
        with T.no_grad():
            leaf = T.ones(3, requires_grad=True)
            leaf[0] = 5
        assert leaf.tolist() == [5, 1, 1]


def test_a_sequential_scheduler_warns_only_when_stepped_before_its_optimizer(torch):
    # building SequentialLR steps its first scheduler again: as its constructor's step
    texts = []
    for T in (torch, ft):
        opt = T.optim.SGD([T.nn.Parameter(T.ones(2))], lr=0.1)
        lr_scheduler = T.optim.lr_scheduler
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sched = lr_scheduler.SequentialLR(opt, [lr_scheduler.LinearLR(opt, 0.1),
                                                    lr_scheduler.StepLR(opt, 2)], [3])
            built = len(caught)
            sched.step()
        texts.append((built, [str(w.message)[:40] for w in caught]))
    assert texts[1] == texts[0] and texts[0][0] == 0 and len(texts[0][1]) == 1


def test_a_scheduler_stepped_after_its_optimizer_does_not_warn():
    opt = ft.optim.SGD([ft.nn.Parameter(ft.ones(2))], lr=0.1)
    sched = ft.optim.lr_scheduler.StepLR(opt, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
        sched.step()
        sched.step()
