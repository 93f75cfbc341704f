"""Numbers of data pipelines as user programs meet them: ``default_collate`` makes
numbers and samples of mixed dtypes into PyTorch's tensors, and ``torch.tensor`` of rows
read from a file that hold text or gaps raises PyTorch's errors; compared with PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import raised_by

import fnnet.torch as ft

pytestmark = pytest.mark.torch


def _collated_numbers(T):
    """default_collate of Python numbers of mixed kinds, numpy scalars and arrays, and
    tensors of several dtypes, as PyTorch's collate makes them."""
    collate = T.utils.data.default_collate
    made = [collate([1, 2.5]), collate([True, 2]), collate([True, False]),
            collate([np.int64(3), np.int64(4)]), collate([np.bool_(True), np.bool_(False)]),
            collate([T.zeros(2), T.ones(2, dtype=T.int64)]),
            collate([T.ones(2, dtype=T.int64), T.zeros(2, dtype=T.uint8)]),
            collate([np.zeros(2, np.float32), np.ones(2, np.int64)]),
            collate([np.zeros(2, np.uint8), np.ones(2, np.int8)])]
    return [(t.tolist(), str(t.dtype)) for t in made]


def test_default_collate_makes_numbers_and_mixed_dtypes_as_pytorch(torch):
    # a batch of tensors of two dtypes was stacked by numpy into float64, which
    # fnnet.torch refused when read; an int batch with a float stayed numpy's float64
    theirs, ours = (_collated_numbers(T) for T in (torch, ft))
    assert ours == theirs


@pytest.mark.parametrize("batch", [[1, "a"], [2.5, "b"]], ids=["int", "float"])
def test_default_collate_of_numbers_with_a_string_raises_pytorchs_error(torch, batch):
    # it made a tensor of numpy's strings, which raised NotImplementedError when read
    theirs, ours = raised_by(lambda T: T.utils.data.default_collate(batch), torch, ft)
    assert ours == theirs


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
@pytest.mark.parametrize("rows", [[[1.0, 2.0], [3.0, "n/a"]], [[1, None]], [[4, object()]]],
                         ids=["text", "none", "object"])
def test_a_tensor_of_rows_with_what_is_not_a_number_raises_pytorchs_error(torch, rows, dtype):
    # a CSV's rows with a header or a gap, made a tensor of a given dtype: numpy's
    # ValueError came through, or PyTorch's words for a tensor given no dtype
    theirs, ours = raised_by(lambda T: T.tensor(rows, dtype=getattr(T, dtype)), torch, ft)
    assert ours == theirs
