"""PyTorch's second names (``absolute``, ``greater_equal``...), the in-place forms
(``eq_``, ``cumsum_``, ``tan_``...) and the small methods ``fill_diagonal_``,
``random_``, ``multinomial``, ``get_device``, ``is_complex``, ``is_signed``, against
PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import fnnet.torch as ft
from fnnet.torch._aliases import ALIASES, IN_PLACE

pytestmark = pytest.mark.torch

VALUES = np.array([[0.2, -0.5, 0.9], [0.3, 0.1, -0.7]], np.float32)
#: an argument for the ops that take one
ARGS = {"eq": (0.3,), "ne": (0.3,), "lt": (0.3,), "le": (0.3,), "gt": (0.3,), "ge": (0.3,),
        "greater": (0.3,), "greater_equal": (0.3,), "less": (0.3,), "less_equal": (0.3,),
        "not_equal": (0.3,), "cumsum": (1,), "cumprod": (0,), "atan2": (0.5,),
        "arctan2": (0.5,), "logical_and": (0.0,), "logical_or": (0.0,), "logical_xor": (1.0,)}


def _input(T, name):
    x = np.abs(VALUES) + 0.05 if name not in ("absolute", "negative") else VALUES
    if name == "arccosh":
        x = x + 1.0
    if name.startswith("logical"):
        return T.tensor(x > 0.3)
    return T.tensor(x)


def _other(T, name):
    args = ARGS.get(name, ())
    return tuple(T.tensor(a) if name.startswith(("atan2", "arctan2", "logical")) and
                 name != "logical_not" else a for a in args)


@pytest.mark.parametrize("name", [*ALIASES, "positive"])
def test_second_names_compute_as_pytorch(torch, name):
    results = [getattr(_input(T, name), name)(*_other(T, name)) for T in (torch, ft)]
    np.testing.assert_allclose(results[1].numpy(), results[0].numpy(), rtol=1e-6)
    assert str(results[1].dtype) == str(results[0].dtype)
    if name != "positive":
        assert getattr(ft, name)(_input(ft, name), *_other(ft, name)).shape == results[1].shape


@pytest.mark.parametrize("name", IN_PLACE)
def test_in_place_forms_write_pytorchs_values_in_place(torch, name):
    results = []
    for T in (torch, ft):
        x = _input(T, name)
        out = getattr(x, name + "_")(*_other(T, name))
        assert out is x
        results.append((x.numpy(), str(x.dtype)))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-6, atol=1e-7)
    assert results[1][1] == results[0][1]


@pytest.mark.parametrize("shape, wrap", [((3, 4), False), ((7, 3), False), ((7, 3), True),
                                         ((3, 3, 3), False)])
def test_fill_diagonal_as_pytorch(torch, shape, wrap):
    filled = []
    for T in (torch, ft):
        x = T.zeros(*shape)
        assert x.fill_diagonal_(2.5, wrap=wrap) is x
        filled.append(x.numpy())
    np.testing.assert_array_equal(filled[1], filled[0])
    for T in (torch, ft):
        with pytest.raises(RuntimeError, match="all dimensions of input must be of equal"):
            T.zeros(2, 3, 3).fill_diagonal_(1)


def test_random_multinomial_and_queries(torch):
    draws = ft.zeros(2000).random_(3, 7)
    assert set(np.unique(draws.numpy())) == {3.0, 4.0, 5.0, 6.0}
    assert set(np.unique(ft.zeros(500, dtype=ft.long).random_(2).numpy())) == {0, 1}
    with pytest.raises(RuntimeError, match="'from' to be less than 'to'"):
        ft.zeros(2).random_(5, 5)
    picks = ft.tensor([0.0, 1.0, 0.0]).multinomial(4, replacement=True)
    assert picks.tolist() == [1, 1, 1, 1]
    for T in (torch, ft):
        assert T.ones(2).get_device() == -1 or ft.cuda.is_available()
        assert T.ones(2).is_complex() is False
        assert (T.ones(2, dtype=T.uint8).is_signed(), T.ones(2).is_signed()) == (False, True)
        assert T.tensor([0.5]).is_nonzero() is True


def test_an_in_place_write_of_a_value_not_on_the_tape_is_recorded():
    # the write of a value computed at once (an eager draw, a join of values) goes
    # through a recorded copy, as a recorded result's does
    from fnnet.torch.tensor import _wrap_value

    target = ft.zeros(3)
    assert target._inplace(_wrap_value(np.arange(3, dtype=np.float32))) is target
    assert target.tolist() == [0.0, 1.0, 2.0]
