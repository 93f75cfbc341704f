"""Gradients where the math has a tie or an edge (clamp at its bounds, max over equal
values, ``0 ** 0``, a hinge at zero...), which PyTorch's backward formulas settle one
way and JAX's derivatives another (half to each of two equal maxima, NaN at ``0 ** 0``);
and what becomes of a step whose backward JAX cannot compute.

Each case runs the same code under PyTorch and fnnet.torch and compares values, every
input's gradient and the result's ``grad_fn`` name.
"""

from __future__ import annotations

import contextlib

import jax
import numpy as np
import pytest
from helpers import raised_by

import fnnet.torch as ft
from fnnet.torch.tensor import _op

pytestmark = pytest.mark.torch

NAN, INF = float("nan"), float("inf")

#: name -> (function of the torch module and the input tensors, the inputs' values)
CASES = {
    "clamp at both bounds": (lambda t, x: x.clamp(0.0, 1.0), [[0.0, 1.0, 0.5, -1.0, NAN]]),
    "clamp with min above max": (lambda t, x: x.clamp(2.0, 1.0), [[0.0, 1.5, 3.0]]),
    "clamp with tensor bounds": (lambda t, x, lo, hi: t.clamp(x, lo, hi),
                                 [[0.0, 1.0, 0.5, -1.0, 2.0, NAN], [0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
                                  [1.0, 1.0, 0.0, 1.0, 1.0, 1.0]]),
    "clamp with equal tensor bounds": (lambda t, x, lo, hi: t.clamp(x, lo, hi),
                                       [[0.0, 1.0, 3.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]),
    "clamp_min at its bound": (lambda t, x: x.clamp_min(0.0), [[0.0, 1.0, -1.0]]),
    "clamp_max by a tensor": (lambda t, x, hi: x.clamp_max(hi), [[0.0, 1.0, 2.0], [1.0, 1.0, 1.0]]),
    "clip of a copy in place": (lambda t, x: (x * 1).clip_(0.0, 1.0), [[0.0, 1.0, 2.0]]),
    "max along a dim with ties": (lambda t, x: x.max(dim=0).values, [[[1.0, 2.0], [1.0, 2.0]]]),
    "min along a dim with a NaN": (lambda t, x: x.min(dim=1, keepdim=True).values,
                                   [[[1.0, NAN], [3.0, 3.0]]]),
    "max of all with ties": (lambda t, x: x.max(), [[1.0, 3.0, 3.0]]),
    "max of all with NaNs": (lambda t, x: x.max(), [[1.0, NAN, 3.0, NAN]]),
    "median of all with ties": (lambda t, x: x.median(), [[1.0, 2.0, 2.0, 3.0]]),
    "nanmedian of all with ties": (lambda t, x: x.nanmedian(), [[2.0, NAN, 2.0, 1.0]]),
    "cummax with ties": (lambda t, x: t.cummax(x, 0).values, [[1.0, 3.0, 2.0, 3.0]]),
    "cummin with NaNs": (lambda t, x: t.cummin(x, 0).values, [[1.0, NAN, 2.0, NAN, 0.0]]),
    "power of tensors at 0 ** 0": (lambda t, x, y: x ** y,
                                   [[0.0, 0.0, 2.0, -1.0, 2.0], [0.0, 2.0, 0.0, 0.5, 3.0]]),
    "power by zero": (lambda t, x: x ** 0.0, [[0.0, 2.0]]),
    "float_power at 0 ** 0": (lambda t, x, y: t.float_power(x, y), [[0.0, 2.0], [0.0, 0.0]]),
    "atan2 at the origin": (lambda t, y, x: t.atan2(y, x), [[0.0, 1.0], [0.0, 0.0]]),
    "xlogy at zeros": (lambda t, x, y: t.xlogy(x, y),
                       [[0.0, 0.0, 2.0, 0.0], [0.0, -1.0, 3.0, 2.0]]),
    "margin ranking at the hinge": (
        lambda t, a, b: t.nn.functional.margin_ranking_loss(a, b, t.tensor([1.0, -1.0])),
        [[1.0, 2.0], [1.0, 2.0]]),
    "hinge embedding at the margin": (
        lambda t, x: t.nn.functional.hinge_embedding_loss(x, t.tensor([-1.0, -1.0, 1.0])),
        [[1.0, 0.5, 2.0]]),
    "multi-margin at the hinge": (
        lambda t, x: t.nn.functional.multi_margin_loss(x, t.tensor([0])), [[[1.0, 0.0, 0.5]]]),
    "multilabel margin at the hinge": (
        lambda t, x: t.nn.functional.multilabel_margin_loss(x, t.tensor([[0, -1, 0]])),
        [[[1.0, 0.0, 0.5]]]),
    "adaptive max pooling with ties": (
        lambda t, x: t.nn.functional.adaptive_max_pool2d(x, 2),
        [[[[[1.0, 4.0, 4.0], [4.0, 2.0, 4.0], [0.0, 4.0, 1.0]]]]]),
    "scatter_reduce's product over repeated indices and a zero": (
        lambda t, x, src: x.scatter_reduce(0, t.tensor([0, 0, 2, 0]), src, "prod"),
        [[2.0, 3.0, 4.0], [1.5, 0.0, 2.0, -1.0]]),
    "scatter_reduce's product without self": (
        lambda t, x, src: x.scatter_reduce(1, t.tensor([[1, 1], [0, 1]]), src, "prod",
                                           include_self=False),
        [[[2.0, 3.0], [4.0, 5.0]], [[1.5, 2.0], [-1.0, 3.0]]]),
    "index_reduce's product": (
        lambda t, x, src: x.index_reduce(0, t.tensor([0, 0, 2]), src, "prod"),
        [[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [[2.0, 3.0], [4.0, 0.0], [6.0, 7.0]]]),
    "index_reduce's mean without self": (
        lambda t, x, src: x.index_reduce(1, t.tensor([1, 1, 0]), src, "mean",
                                         include_self=False),
        [[[1.0, 2.0], [3.0, 4.0]], [[2.0, 3.0, 4.0], [5.0, 6.0, 7.0]]]),
    "put, accumulating at a repeated index": (
        lambda t, x, src: x.put(t.tensor([0, -1, 0]), src, accumulate=True),
        [[[1.0, 2.0], [3.0, 4.0]], [1.0, 2.0, 3.0]]),
    "adaptive max pooling over 1-D ties": (
        lambda t, x: t.nn.functional.adaptive_max_pool1d(x, 1), [[[[3.0, 1.0, 3.0]]]]),
}


def _run(t, case):
    fn, values = CASES[case]
    inputs = [t.tensor(v, requires_grad=True) for v in values]
    out = fn(t, *inputs)
    # distinct weights per element, so that a gradient sent to the wrong one shows
    (out * t.arange(1.0, out.numel() + 1).reshape(out.shape)).sum().backward()
    return (out.detach().numpy(), [x.grad.numpy() for x in inputs],
            type(out.grad_fn).__name__)


@pytest.mark.parametrize("case", list(CASES))
def test_gradients_at_ties_and_edges_match_pytorchs(torch, case):
    theirs, ours = _run(torch, case), _run(ft, case)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6)
    for i, (g_ours, g_theirs) in enumerate(zip(ours[1], theirs[1], strict=True)):
        np.testing.assert_allclose(g_ours, g_theirs, rtol=1e-6, err_msg=f"input {i}")
    assert ours[2] == theirs[2]


def _index_ops(t, x):
    """In-place and indexed writes into small constants (``torch.zeros(3)``), which
    fnnet.torch keeps on the host until a step reads them."""
    index = t.tensor([0, 0])
    return [t.zeros(3).index_put((index,), x, accumulate=True),
            t.zeros(2).scatter_reduce(0, t.tensor([0, 1]), x, "mean"),
            t.zeros(3).index_add(0, index, x),
            t.zeros(3).index_copy(0, t.tensor([0, 2]), x),
            t.zeros(3).index_put_((t.tensor([0, 1]),), x)]


@pytest.mark.filterwarnings("ignore:fnnet.torch. the recorded computation changed")
def test_writes_into_host_constants_differentiate_op_by_op(torch, recorder):
    recorder.options.eager_after = 0  # every flush runs op by op
    results = {}
    for t in (torch, ft):
        x = t.tensor([1.0, 2.0], requires_grad=True)
        outs = _index_ops(t, x)
        sum(o.sum() * k for k, o in enumerate(outs, 1)).backward()
        results[t] = ([o.detach().numpy() for o in outs], x.grad.numpy())
    assert recorder.stats.eager
    for ours, theirs in zip(results[ft][0], results[torch][0], strict=True):
        np.testing.assert_allclose(ours, theirs)
    np.testing.assert_allclose(results[ft][1], results[torch][1])


def _host_sine(x):
    return jax.pure_callback(np.sin, jax.ShapeDtypeStruct(x.shape, x.dtype), x)


def _unsupported_gradient(x):
    """A recorded op JAX cannot differentiate (a host callback), standing for a gradient
    JAX does not implement: the step fails when it is compiled."""
    return _op(_host_sine, (), x)


@pytest.mark.parametrize("failure", ["unsupported gradient", "NaN under detect_anomaly"])
def test_a_failed_step_leaves_the_model_and_later_steps_alone(torch, failure):
    """A step that fails, as it compiles (a gradient JAX does not implement, run by
    fnnet.torch alone) or as it runs (a NaN gradient under
    anomaly detection, an error in both, fnnet.torch's at ``optimizer.step()`` where the
    step runs, PyTorch's at ``backward()``), raises; the parameters and the optimizer's
    state stay as they were before it, an input's gradient is None again, and the next
    steps train as PyTorch's do."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 3)).astype(np.float32)
    weights = {}
    for t in (torch, ft):
        t.manual_seed(0)
        model = t.nn.Linear(3, 2)
        optimizer = t.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        batch = t.tensor(x)
        shift = t.tensor([3.0, 4.0], requires_grad=True)

        def step(bad: bool, t=t, model=model, optimizer=optimizer, batch=batch, shift=shift):
            optimizer.zero_grad()
            out = model(batch)
            loss = out.pow(2).mean()
            if bad and failure == "unsupported gradient":
                loss = loss + _unsupported_gradient(out[:3, 0]).sum()
            if bad and failure == "NaN under detect_anomaly":
                with t.autograd.detect_anomaly():
                    loss = loss + ((shift - 3).sqrt() / (shift - 3)).sum()
                    loss.backward()
                    optimizer.step()
            else:
                loss.backward()
                optimizer.step()
            return loss.item()

        step(False)
        if t is ft or failure != "unsupported gradient":
            before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
            with pytest.raises((ValueError, RuntimeError), match="JVP|nan"), \
                    pytest.warns(UserWarning, match="Anomaly Detection") \
                    if failure != "unsupported gradient" else contextlib.nullcontext():
                step(True)
            for name, value in model.state_dict().items():
                np.testing.assert_array_equal(value.numpy(), before[name], err_msg=name)
            assert shift.grad is None
        losses = [step(False) for _ in range(3)]
        weights[t] = (losses, {k: v.detach().numpy() for k, v in model.state_dict().items()})
    np.testing.assert_allclose(weights[ft][0], weights[torch][0], rtol=1e-5)
    for name, value in weights[torch][1].items():
        np.testing.assert_allclose(weights[ft][1][name], value, rtol=1e-5, atol=1e-6)


def test_a_tensor_of_a_failed_step_names_the_failure_when_read():
    x = ft.tensor([0.0, 3.0, 2.0], requires_grad=True)
    y = _unsupported_gradient(x)
    y.sum().backward()
    with pytest.raises(ValueError, match="Pure callbacks do not support JVP"):
        x.grad.numpy()
    assert x.grad is None  # as before the failed backward
    with pytest.raises(RuntimeError, match="never computed: the step that computes it "
                                           "failed \\(ValueError: Pure callbacks"):
        y.detach().numpy()
    z = ft.tensor([1.0, 2.0], requires_grad=True)  # later work is unaffected
    (z * 2).sum().backward()
    np.testing.assert_array_equal(z.grad.numpy(), [2.0, 2.0])


#: name -> function of the torch module, giving a tensor or a tuple of tensors
VALUES = {
    "sign of NaN and zeros": lambda t: t.sign(t.tensor([NAN, -0.0, 0.0, -2.0] * 5)),
    "digamma at the zeros": lambda t: t.digamma(t.tensor([0.0, -0.0, -1.0, -2.5, 1.0])),
    "unique keeps each NaN": lambda t: t.tensor([1.0, NAN, 1.0, NAN]).unique(
        return_inverse=True, return_counts=True),
}


@pytest.mark.parametrize("case", list(VALUES))
def test_values_at_edges_match_pytorchs(torch, case):
    theirs, ours = VALUES[case](torch), VALUES[case](ft)
    theirs, ours = (theirs,) if not isinstance(theirs, tuple) else theirs, \
        (ours,) if not isinstance(ours, tuple) else ours
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine.numpy(), reference.numpy(), rtol=1e-6)


@pytest.mark.parametrize("call", [
    lambda t: t.zeros(3, 3).put(t.tensor([9]), t.tensor([1.0])),
    lambda t: t.zeros(3, 3).put(t.tensor([-10]), t.tensor([1.0])),
    lambda t: t.zeros(3, 3).put(t.tensor([0, 1]), t.tensor([1.0])),
    lambda t: t.zeros(3, 3).put(t.tensor([0.0]), t.tensor([1.0])),
    lambda t: t.ones(3, 2).index_reduce(0, t.tensor([0]), t.ones(1, 2), "sum"),
    lambda t: t.ones(3, 2).index_reduce(0, t.tensor([0, 1]), t.ones(1, 2), "prod"),
], ids=["past the end", "before the start", "sizes", "float index", "reduce", "count"])
def test_put_and_index_reduce_refuse_what_pytorch_refuses(torch, call):
    theirs, ours = raised_by(call, torch, ft)
    assert ours == theirs
