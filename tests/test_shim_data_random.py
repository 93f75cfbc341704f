"""Numbers of data pipelines as user programs meet them: ``torch.tensor`` of rows read
from a file that hold text or gaps raises PyTorch's errors; compared with PyTorch."""

from __future__ import annotations

import pytest
from helpers import raised_by

import fnnet.torch as ft

pytestmark = pytest.mark.torch


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
@pytest.mark.parametrize("rows", [[[1.0, 2.0], [3.0, "n/a"]], [[1, None]], [[4, object()]]],
                         ids=["text", "none", "object"])
def test_a_tensor_of_rows_with_what_is_not_a_number_raises_pytorchs_error(torch, rows, dtype):
    # a CSV's rows with a header or a gap, made a tensor of a given dtype: numpy's
    # ValueError came through, or PyTorch's words for a tensor given no dtype
    theirs, ours = raised_by(lambda T: T.tensor(rows, dtype=getattr(T, dtype)), torch, ft)
    assert ours == theirs
