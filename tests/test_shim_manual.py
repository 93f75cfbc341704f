"""Hand-written training loops on fnnet.torch: parameters updated in place under
``no_grad`` (or through ``.data``) instead of by an optimizer, and loops over bare
tensors that require grad. Each loop is written once, run on PyTorch and on fnnet.torch
from the same initial weights, and must agree after 200 iterations while compiling once
(twice where its first iteration records something the others do not)."""

from __future__ import annotations

import numpy as np
import pytest

import fnnet.torch as ft

pytestmark = pytest.mark.torch

STEPS = 200
TOL = {"rtol": 1e-5, "atol": 1e-5}


@pytest.fixture(autouse=True, scope="module")
def _one_thread(torch):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(20)
    x = rng.uniform(-1, 1, (64, 3)).astype(np.float32)
    y = (np.sin(2 * x[:, :1]) + x[:, 1:2] * x[:, 2:3]).astype(np.float32)
    weights = {
        "0.weight": rng.uniform(-0.5, 0.5, (16, 3)).astype(np.float32),
        "0.bias": rng.uniform(-0.5, 0.5, (16,)).astype(np.float32),
        "2.weight": rng.uniform(-0.25, 0.25, (1, 16)).astype(np.float32),
        "2.bias": np.zeros((1,), np.float32),
    }
    return x, y, weights


def _model(t, weights):
    model = t.nn.Sequential(t.nn.Linear(3, 16), t.nn.Tanh(), t.nn.Linear(16, 1))
    model.load_state_dict({k: t.tensor(v) for k, v in weights.items()})
    return model


def _numpy(module) -> dict:
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


def _update(t, params, lr: float, spelling: str) -> None:
    """One manual SGD update and gradient reset, in one of the spellings courses use."""
    if spelling == "isub":
        with t.no_grad():
            for param in params:
                param -= lr * param.grad
    elif spelling == "sub_":
        with t.no_grad():
            for param in params:
                param.sub_(lr * param.grad)
                param.grad.zero_()
    elif spelling == "data.add_":
        for param in params:
            param.data.add_(-lr * param.grad)
            param.grad = None
    elif spelling == "data -=":
        for param in params:
            param.data -= lr * param.grad
            param.grad = None
    elif spelling == "data =":
        for param in params:
            param.data = param.data - lr * param.grad.data
            param.grad = None
    elif spelling == "copy_":
        with t.no_grad():
            for param in params:
                param.copy_(param - lr * param.grad)
        for param in params:
            param.grad.data.zero_()
    elif spelling == "block per parameter":
        for param in params:
            with t.no_grad():  # each exit runs the work recorded so far
                param -= lr * param.grad
            param.grad = None


def _no_grad_loop(t, data, spelling: str):
    x, y, weights = data
    model = _model(t, weights)
    x, y = t.tensor(x), t.tensor(y)
    loss_fn = t.nn.MSELoss()
    losses = []
    for step in range(STEPS):
        loss = loss_fn(model(x), y)
        if step % 50 == 49:
            losses.append(loss.item())
        if spelling == "isub":
            model.zero_grad()
        loss.backward()
        _update(t, list(model.parameters()), 0.1, spelling)
    return _numpy(model), losses


#: compiles of each loop: its step, plus the step's first iteration where that records
#: something the others do not (a gradient zeroed in place is None before it), plus two
#: for the forward pass read before backward every 50 steps and the step that then
#: finishes from the carried graph
COMPILES = {"isub": 3, "sub_": 4, "data.add_": 2, "data -=": 2, "data =": 2, "copy_": 4,
            "block per parameter": 5}


@pytest.mark.parametrize("spelling", [
    s if s in ("isub", "data.add_", "data =") else pytest.param(s, marks=pytest.mark.slow)
    for s in COMPILES])
def test_manual_update_loop_compiles_once_and_matches_pytorch(torch, data, spelling):
    expected, expected_losses = _no_grad_loop(torch, data, spelling)
    ft.reset_compile_stats()
    params, losses = _no_grad_loop(ft, data, spelling)
    stats = ft.compile_stats()
    for name, value in expected.items():
        np.testing.assert_allclose(params[name], value, **TOL, err_msg=name)
    np.testing.assert_allclose(losses, expected_losses, **TOL)
    assert losses[-1] < 0.8 * losses[0]  # it trained
    assert stats["compiles"] <= COMPILES[spelling], stats["log"]
    # one program a step (a block per parameter too), and one more for each early read
    assert stats["compiles"] + stats["hits"] <= STEPS + 5
    assert not stats["eager"]


def _mean_teacher_loop(t, data, steps: int = 60):
    """A mean teacher: the teacher's forward pass under ``no_grad`` inside the step, the
    teacher's weights an average of the student's updated under ``no_grad`` after it."""
    x, y, weights = data
    student, teacher = _model(t, weights), _model(t, weights)
    for param in teacher.parameters():
        param.requires_grad_(False)
    optimizer = t.optim.SGD(student.parameters(), lr=0.1)
    x, y = t.tensor(x), t.tensor(y)
    losses = []
    for _ in range(steps):
        with t.no_grad():
            target = teacher(x)
        output = student(x)
        loss = t.nn.functional.mse_loss(output, y) + 0.5 * t.nn.functional.mse_loss(
            output, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with t.no_grad():
            for mean, param in zip(teacher.parameters(), student.parameters(), strict=True):
                mean.mul_(0.9).add_(param.detach(), alpha=0.1)
        losses.append(loss.item())
    return _numpy(student), _numpy(teacher), losses


def test_no_grad_blocks_inside_a_step_join_its_program(torch, data):
    """The two blocks' exits run the work recorded so far only until they are seen to be
    followed by the step: then each step is one program."""
    *expected, expected_losses = _mean_teacher_loop(torch, data)
    ft.reset_compile_stats()
    *got, losses = _mean_teacher_loop(ft, data)
    for want, have in zip(expected, got, strict=True):
        for name, value in want.items():
            np.testing.assert_allclose(have[name], value, **TOL, err_msg=name)
    np.testing.assert_allclose(losses, expected_losses, **TOL)
    stats = ft.compile_stats()
    assert stats["compiles"] <= 7, stats["log"]
    assert stats["compiles"] + stats["hits"] <= 60 + 6, stats  # one program a step


def _regression_loop(t, data, threshold: float | None, steps: int = STEPS):
    """PyTorch's regression example: the loss is read before backward every iteration
    and the parameters are updated through ``.data`` (no ``no_grad``)."""
    x, y, _ = data
    fc = t.nn.Linear(3, 1)
    fc.load_state_dict({"weight": t.tensor([[0.3, -0.2, 0.1]]), "bias": t.tensor([0.05])})
    y = (x @ np.array([[0.5], [-1.0], [0.25]], np.float32) + 0.3).astype(np.float32)
    x, y = t.tensor(x), t.tensor(y)
    step = 0
    for step in range(1, steps + 1):  # noqa: B007 - the count is returned
        fc.zero_grad()
        output = t.nn.functional.smooth_l1_loss(fc(x), y)
        loss = output.item()
        output.backward()
        for param in fc.parameters():
            param.data.add_(-0.1 * param.grad)
        if threshold is not None and loss < threshold:
            break
    return _numpy(fc), step, loss


def test_data_add_loop_reading_the_loss_first_compiles_twice(torch, data):
    expected, _, expected_loss = _regression_loop(torch, data, None)
    ft.reset_compile_stats()
    params, _, loss = _regression_loop(ft, data, None)
    stats = ft.compile_stats()
    for name, value in expected.items():
        np.testing.assert_allclose(params[name], value, **TOL, err_msg=name)
    assert loss == pytest.approx(expected_loss, rel=1e-5, abs=1e-6)
    # one program per iteration (the read flushes the previous update, backward and the
    # new forward pass together); the first iteration has no previous update, and the
    # last update is read by state_dict() after the loop
    assert stats["compiles"] == 3 and stats["hits"] == STEPS - 2, stats["log"]


def test_loop_until_loss_threshold(torch, data):
    expected, expected_steps, _ = _regression_loop(torch, data, 1e-3, steps=5000)
    ft.reset_compile_stats()
    params, steps, loss = _regression_loop(ft, data, 1e-3, steps=5000)
    assert steps == expected_steps and loss < 1e-3
    for name, value in expected.items():
        np.testing.assert_allclose(params[name], value, **TOL, err_msg=name)
    assert ft.compile_stats()["compiles"] == 3, ft.compile_stats()["log"]


def _bare_loop(t, data, w0, b0):
    """The autograd chapter: bare leaf tensors, ``w.grad.data.zero_()``."""
    x, y, _ = data
    x, y = t.tensor(x), t.tensor(y)
    w = t.tensor(w0, requires_grad=True)
    b = t.tensor(b0, requires_grad=True)
    for step in range(STEPS):
        y_pred = (x @ w).tanh() * 0.5 + b
        loss = (y_pred - y).pow(2).sum()
        if step % 20 == 0:
            print(step, loss.item())
        loss.backward()
        with t.no_grad():
            w -= 1e-3 * w.grad
            b -= 1e-3 * b.grad
        w.grad.data.zero_()
        b.grad.data.zero_()
    return w.detach().numpy().copy(), b.detach().numpy().copy()


def test_bare_tensor_loop_matches_pytorch(torch, data, capsys):
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal((3, 1)).astype(np.float32)
    b0 = np.zeros((1,), np.float32)
    expected = _bare_loop(torch, data, w0, b0)
    printed = capsys.readouterr().out
    ft.reset_compile_stats()
    got = _bare_loop(ft, data, w0, b0)
    for a, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, e, **TOL)
    assert capsys.readouterr().out.split()[::2] == printed.split()[::2]
    stats = ft.compile_stats()
    # the steady step; the first iteration (read before backward, no gradient yet to
    # zero) as two programs; the read every 20 steps, two more
    assert stats["compiles"] <= 5 and not stats["eager"], stats["log"]
    assert stats["compiles"] + stats["hits"] <= STEPS + STEPS // 20 + 1


def test_bare_randn_leaves_compile_once_and_stay_donated():
    ft.manual_seed(0)
    x = ft.randn(32, 4)
    y = x.sum(1, keepdim=True) * 0.5
    print(y.mean().item())  # runs the data's preparation
    w = ft.randn(4, 1, requires_grad=True)
    b = ft.zeros(1, requires_grad=True)
    ft.reset_compile_stats()
    old = None
    for step in range(50):
        loss = ((x @ w + b - y) ** 2).mean()
        loss.backward()
        with ft.no_grad():
            w -= 0.1 * w.grad
            b -= 0.1 * b.grad
            w.grad = None
            b.grad = None
        if step == 40:
            old = w._cell.val
            assert old is not None  # leaving no_grad ran the step
    stats = ft.compile_stats()
    assert stats["compiles"] == 1 and stats["hits"] == 49, stats["log"]
    assert old.is_deleted()  # the next step wrote the new weight into its buffer
    assert loss.item() < 1e-2


@pytest.fixture
def op_by_op(recorder):
    """Every flush runs op by op (the fallback for loops whose structure keeps changing)."""
    recorder.options.eager_after = 0
    with pytest.warns(RuntimeWarning, match="op by op"):
        yield
    assert ft.compile_stats()["eager"]


@pytest.mark.parametrize("spelling", ["isub", "data.add_"])
def test_op_by_op_fallback_matches_pytorch(torch, data, spelling, op_by_op):
    expected, expected_losses = _no_grad_loop(torch, data, spelling)
    params, losses = _no_grad_loop(ft, data, spelling)
    for name, value in expected.items():
        np.testing.assert_allclose(params[name], value, **TOL, err_msg=name)
    np.testing.assert_allclose(losses, expected_losses, **TOL)


def test_op_by_op_fallback_of_a_loop_reading_its_loss_first(torch, data, op_by_op):
    expected, expected_steps, _ = _regression_loop(torch, data, 1e-3, steps=5000)
    params, steps, loss = _regression_loop(ft, data, 1e-3, steps=5000)
    assert steps == expected_steps and loss < 1e-3
    for name, value in expected.items():
        np.testing.assert_allclose(params[name], value, **TOL, err_msg=name)


def test_updates_without_backward_still_run(recorder):
    w = ft.zeros(3, requires_grad=True)
    (w * 2).sum().backward()
    with ft.no_grad():
        w -= w.grad  # the step's flush
    for _ in range(1000):
        with ft.no_grad():
            w += 1.0  # no backward follows: the work waits at most DEFER_NODES nodes
        assert len(recorder.tape.nodes) <= ft._autograd.DEFER_NODES
    with ft.no_grad():
        w += 1.0
    assert not recorder.tape.nodes  # after a flush without backward, each exit runs
    np.testing.assert_array_equal(w.detach().numpy(), [999.0, 999.0, 999.0])
