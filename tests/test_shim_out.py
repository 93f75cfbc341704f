"""PyTorch's ``out=``: every function that takes it in PyTorch takes it in fnnet.torch,
writes the same values into the same tensor, and refuses what PyTorch refuses."""

from __future__ import annotations

import inspect
import re
import warnings

import numpy as np
import pytest

import fnnet.torch as ft
from fnnet.torch import _out

pytestmark = pytest.mark.torch

_RNG = np.random.default_rng(0)
_X = _RNG.uniform(0.1, 1, (3, 4)).astype(np.float32)
_M = (_RNG.uniform(-1, 1, (3, 3)) + 3 * np.eye(3)).astype(np.float32)


def _documents_out(fn) -> bool:
    doc = getattr(fn, "__doc__", None)
    return isinstance(doc, str) and (
        re.search(r"\bout=None", doc.strip().split("\n\n")[0]) is not None
        or re.search(r"^\s*out \(Tensor", doc, re.MULTILINE) is not None
        or re.search(r"\bout: Optional\[Tensor\]", doc.strip().split("\n\n")[0]) is not None)


@pytest.mark.parametrize("module", ["", "linalg", "special", "fft"])
def test_every_function_pytorch_gives_out_takes_it(torch, module):
    theirs = getattr(torch, module) if module else torch
    ours = getattr(ft, module) if module else ft
    # (the transforms of torch.fft take out= themselves)
    listed = {"": _out.TORCH, "linalg": _out.LINALG, "special": _out.SPECIAL}.get(module)
    lacking, unlisted = [], []
    for name in dir(theirs):
        fn = getattr(theirs, name, None)
        if name.startswith("_") or isinstance(fn, type) or not callable(fn) \
                or not _documents_out(fn) or getattr(ours, name, None) is None:
            continue
        if listed is not None and name not in listed:
            unlisted.append(name)
        try:
            parameters = inspect.signature(getattr(ours, name), follow_wrapped=False).parameters
        except (TypeError, ValueError):
            continue
        if "out" not in parameters:
            lacking.append(name)
    assert not lacking, f"take no out=: {lacking}"
    assert not unlisted, f"take out= in PyTorch, missing from fnnet.torch._out: {unlisted}"


#: ``name -> (call(T, out), make_out(T))``: the call's inputs are the same in both libraries
CALLS = {
    "add": (lambda T, o: T.add(T.tensor(_X), 2.0, out=o), lambda T: T.empty(3, 4)),
    "logical_and": (lambda T, o: T.logical_and(T.tensor(_X) > 0.5, T.tensor(_X) < 0.8, out=o),
                    lambda T: T.empty(3, 4, dtype=T.bool)),
    "logical_not into int16": (lambda T, o: T.logical_not(T.tensor([0., 1., -10.]), out=o),
                               lambda T: T.empty(3, dtype=T.int16)),
    "bool into float": (lambda T, o: T.logical_xor(T.tensor(_X) > 0.5, T.tensor(_X) > 0.3,
                                                   out=o), lambda T: T.empty(3, 4)),
    "cumsum": (lambda T, o: T.cumsum(T.tensor(_X), 1, out=o), lambda T: T.empty(3, 4)),
    "amax": (lambda T, o: T.amax(T.tensor(_X), 0, out=o), lambda T: T.empty(4)),
    "clamp": (lambda T, o: T.clamp(T.tensor(_X), 0.3, 0.6, out=o), lambda T: T.empty(3, 4)),
    "floor_divide": (lambda T, o: T.floor_divide(T.tensor(_X), 0.3, out=o),
                     lambda T: T.empty(3, 4)),
    "bmm": (lambda T, o: T.bmm(T.tensor(np.stack([_M, _M])), T.tensor(np.stack([_M, _M])),
                               out=o), lambda T: T.empty(2, 3, 3)),
    "where": (lambda T, o: T.where(T.tensor(_X) > 0.5, T.tensor(_X), T.zeros(4), out=o),
              lambda T: T.empty(3, 4)),
    "cat into empty": (lambda T, o: T.cat([T.tensor(_X), T.tensor(_X)], out=o),
                       lambda T: T.empty(0)),
    "stack": (lambda T, o: T.stack([T.tensor(_X), T.tensor(_X)], 1, out=o),
              lambda T: T.empty(3, 2, 4)),
    "sort": (lambda T, o: T.sort(T.tensor(_X), 1, out=o),
             lambda T: (T.empty(3, 4), T.empty(3, 4, dtype=T.long))),
    "topk": (lambda T, o: T.topk(T.tensor(_X), 2, out=o),
             lambda T: (T.empty(3, 2), T.empty(3, 2, dtype=T.long))),
    "aminmax": (lambda T, o: T.aminmax(T.tensor(_X), dim=1, out=o),
                lambda T: (T.empty(3), T.empty(3))),
    "max over a dim": (lambda T, o: T.max(T.tensor(_X), 1, out=o),
                       lambda T: (T.empty(3), T.empty(3, dtype=T.long))),
    "arange": (lambda T, o: T.arange(5, out=o), lambda T: T.empty(5, dtype=T.long)),
    "zeros": (lambda T, o: T.zeros(2, 3, out=o), lambda T: T.empty(2, 3)),
    "linspace": (lambda T, o: T.linspace(0, 1, 5, out=o), lambda T: T.empty(5)),
    "randn": (lambda T, o: T.randn(4, out=o), lambda T: T.empty(4)),
    "linalg.inv": (lambda T, o: T.linalg.inv(T.tensor(_M), out=o), lambda T: T.empty(3, 3)),
    "linalg.solve": (lambda T, o: T.linalg.solve(T.tensor(_M), T.tensor(_X), out=o),
                     lambda T: T.empty(3, 4)),
    "linalg.vector_norm": (lambda T, o: T.linalg.vector_norm(T.tensor(_X), dim=1, out=o),
                           lambda T: T.empty(3)),
    "special.expit": (lambda T, o: T.special.expit(T.tensor(_X), out=o),
                      lambda T: T.empty(3, 4)),
    "special.xlogy": (lambda T, o: T.special.xlogy(T.tensor(_X), T.tensor(_X), out=o),
                      lambda T: T.empty(3, 4)),
    "special.entr": (lambda T, o: T.special.entr(T.tensor(_X), out=o), lambda T: T.empty(3, 4)),
    "special.xlog1py": (lambda T, o: T.special.xlog1py(T.tensor(_X), T.tensor(_X), out=o),
                        lambda T: T.empty(3, 4)),
    "polygamma": (lambda T, o: T.polygamma(1, T.tensor(_X), out=o), lambda T: T.empty(3, 4)),
    "mvlgamma": (lambda T, o: T.mvlgamma(T.tensor(_X) + 2, 2, out=o), lambda T: T.empty(3, 4)),
    "hstack": (lambda T, o: T.hstack([T.tensor(_X), T.tensor(_X)], out=o),
               lambda T: T.empty(3, 8)),
    "tensordot": (lambda T, o: T.tensordot(T.tensor(_X), T.tensor(_X.T), 1, out=o),
                  lambda T: T.empty(3, 3)),
    "frexp": (lambda T, o: T.frexp(T.tensor(_X) * 9, out=o),
              lambda T: (T.empty(3, 4), T.empty(3, 4, dtype=T.int32))),
    "fft.rfft": (lambda T, o: T.fft.rfft(T.tensor(_X), out=o),
                 lambda T: T.empty(3, 3, dtype=T.complex64)),
    "fft.fftfreq": (lambda T, o: T.fft.fftfreq(6, out=o), lambda T: T.empty(6)),
}


def _arrays(value):
    if isinstance(value, (tuple, list)):
        return [_arrays(v) for v in value]
    return value.numpy(), str(value.dtype)


@pytest.mark.parametrize("case", list(CALLS))
def test_out_holds_pytorchs_result_and_is_returned(torch, case):
    call, make = CALLS[case]
    results = []
    for T in (torch, ft):
        T.manual_seed(0)
        out = make(T)
        returned = call(T, out)
        if isinstance(out, tuple):
            assert all(r is o for r, o in zip(returned, out, strict=True))
            assert type(returned).__name__ == type(call(T, make(T))).__name__
        else:
            assert returned is out
        results.append(_arrays(out))
    expected, got = results
    for (e, e_dtype), (g, g_dtype) in (zip(expected, got, strict=True)
                                       if isinstance(expected, list) else [(expected, got)]):
        # (without jax's x64 mode int32 and int64 are one type, named torch.int64)
        assert g_dtype == e_dtype or {g_dtype, e_dtype} == {"torch.int32", "torch.int64"}
        np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-6)


def _raised(T, call):
    with pytest.raises(Exception) as info:
        call(T)
    return type(info.value).__name__, str(info.value)


@pytest.mark.parametrize("call", [
    lambda T: T.add(T.ones(2), 1.0, out=T.empty(2, dtype=T.long)),
    lambda T: T.mul(T.ones(2, requires_grad=True), 2, out=T.empty(2)),
    lambda T: T.exp(T.ones(2), out=T.zeros(2, requires_grad=True)),
    lambda T: T.add(T.ones(2), 1.0, out=[1.0, 2.0]),
    lambda T: T.eq(T.ones(2), 1.0, out=T.empty(2, dtype=T.long)) and
    T.lt(T.ones(2), 1.0, out=T.empty(2, dtype=T.bool)) and T.sum(T.ones(2), out=T.empty(())) and
    T.exp(T.ones(2), out=T.empty(2, dtype=T.int32)),
], ids=["float into long", "input requires grad", "out requires grad", "out not a tensor",
        "float result into int"])
def test_refused_out_raises_pytorchs_error(torch, call):
    expected = _raised(torch, call)
    got = _raised(ft, call)
    assert got[0] == expected[0]
    if expected[0] == "RuntimeError":
        assert got[1] == expected[1]


def test_an_out_of_another_shape_is_resized_with_pytorchs_warning(torch):
    messages = []
    for T in (torch, ft):
        out = T.empty(1)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            T.add(T.ones(2), 1.0, out=out)
            T.mul(T.ones(2), 3.0, out=T.empty(0))  # an empty out is resized silently
        assert out.tolist() == [2.0, 2.0]
        messages.append([str(w.message).split(" (Triggered")[0] for w in caught
                         if w.category is UserWarning])
    assert messages[1] == messages[0] and len(messages[0]) == 1
    # no grad mode: an input that requires grad may be written out
    with ft.no_grad():
        out = ft.empty(2)
        ft.mul(ft.ones(2, requires_grad=True), 2.0, out=out)
        assert out.tolist() == [2.0, 2.0] and not out.requires_grad
