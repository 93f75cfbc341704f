"""``torch.autograd.gradcheck`` and ``gradgradcheck`` as the extending-autograd docs use
them: a custom Function's backward checked against finite differences, with PyTorch's
verdicts (fnnet.torch compares in float32, with the wider floors its warning names)."""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest
from helpers import cube_function

import fnnet.torch as ft
from fnnet.torch.autograd.gradcheck import FLOAT32_ATOL, GradcheckError

pytestmark = pytest.mark.torch


def _point(T):
    values = np.array([0.3, -1.2, 0.8, 2.0])
    return T.tensor(values, dtype=T.double, requires_grad=True)


@pytest.mark.parametrize("factor, expected", [(3, True), (2, False)])
def test_a_custom_functions_backward_is_checked_as_in_pytorch(torch, factor, expected):
    verdicts = []
    for T in (torch, ft):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            verdicts.append(T.autograd.gradcheck(cube_function(T, factor), (_point(T),), eps=1e-6,
                                                 atol=1e-4, raise_exception=False))
    assert verdicts == [expected, expected]


def test_a_wrong_backward_raises_pytorchs_gradcheck_error(torch):
    errors = []
    pytorchs = importlib.import_module("torch.autograd.gradcheck").GradcheckError
    for T, error_type in ((torch, pytorchs), (ft, GradcheckError)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(error_type) as caught:
                T.autograd.gradcheck(cube_function(T, 2), (_point(T),))
        errors.append(str(caught.value).splitlines()[0])
    assert errors[1] == errors[0] == \
        "Jacobian mismatch for output 0 with respect to input 0,"
    assert issubclass(GradcheckError, RuntimeError)


def test_modules_and_several_inputs_pass(torch):
    # a layer's backward, and a function of two inputs and two outputs, one not requiring grad
    lin = ft.nn.Linear(3, 2).double()
    x = ft.tensor(np.linspace(-1, 1, 15).reshape(5, 3), dtype=ft.double, requires_grad=True)
    y = ft.tensor([0.5, -0.25, 1.0], dtype=ft.double, requires_grad=True)
    scale = ft.tensor(2.0)
    with pytest.warns(UserWarning, match=f"atol >= {FLOAT32_ATOL}"):
        assert ft.autograd.gradcheck(lin, (x,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert ft.autograd.gradcheck(lambda a, b, s: (a.tanh() @ b.unsqueeze(1) * s, b.exp()),
                                     (x, y, scale))
        # the same with a wrong derivative for the second input only
        assert not ft.autograd.gradcheck(
            lambda a, b: a.sum() + cube_function(ft, 2)(b).sum(), (x, y), raise_exception=False)


def test_second_derivatives_are_checked(torch):
    verdicts = []
    for T in (torch, ft):
        x = _point(T)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            verdicts.append(T.autograd.gradgradcheck(lambda t: (t ** 3).sum(), (x,)))
            given = T.tensor([1.0, -2.0, 0.5, 3.0], dtype=T.double, requires_grad=True)
            verdicts.append(T.autograd.gradgradcheck(lambda t: t.sin() * t, (x,), (given,)))
    assert verdicts == [True, True, True, True]


def test_no_input_requiring_grad_is_pytorchs_value_error(torch):
    messages = []
    for T in (torch, ft):
        with pytest.raises(ValueError) as caught:
            T.autograd.gradcheck(lambda t: t * 2, (T.ones(2),))
        messages.append(str(caught.value))
    assert messages[1] == messages[0]
