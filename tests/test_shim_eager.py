"""fnnet.torch's op-by-op fallback, for loops whose structure changes every step: the
tape runs as windows compiled once their structure repeats (see ``fnnet.torch._eager``).
Each loop is written once, run on PyTorch and on fnnet.torch from the same weights, and
must agree after its last iteration; the window counts show compiled windows reused."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from helpers import counting_compiles

import fnnet.torch as ft
from fnnet.torch import _eager

pytestmark = pytest.mark.torch

TOL = {"rtol": 1e-5, "atol": 1e-5}
HIDDEN = 8


@pytest.fixture(scope="module")
def rnn_data():
    rng = np.random.default_rng(7)
    xs = rng.uniform(-1, 1, (48, 4, 3)).astype(np.float32)
    ys = rng.uniform(-1, 1, (4, 1)).astype(np.float32)
    weights = (rng.uniform(-0.5, 0.5, (3, HIDDEN)).astype(np.float32),
               rng.uniform(-0.3, 0.3, (HIDDEN, HIDDEN)).astype(np.float32),
               rng.uniform(-0.5, 0.5, (HIDDEN, 1)).astype(np.float32))
    return xs, ys, weights


def _rnn_loop(t, rnn_data, lengths, lr: float = 0.05):
    """A tanh RNN over the first ``length`` steps of the sequence, a new length each
    iteration (truncated backpropagation through time of varying length), its three
    weights bare tensors updated by hand; the loss read every iteration."""
    xs, ys, weights = rnn_data
    xs, ys = t.tensor(xs), t.tensor(ys)
    params = [t.tensor(w, requires_grad=True) for w in weights]
    w_in, w_h, w_out = params
    losses = []
    for length in lengths:
        h = t.zeros(4, HIDDEN)
        for i in range(length):
            h = t.tanh(xs[i] @ w_in + h @ w_h)
        loss = ((h @ w_out - ys) ** 2).mean()
        loss.backward()
        with t.no_grad():
            for w in params:
                w -= lr * w.grad
                w.grad = None
        losses.append(loss.item())
    return [w.detach().numpy().copy() for w in params], losses


def _assert_same(got, expected):
    (params, losses), (expected_params, expected_losses) = got, expected
    for a, e in zip(params, expected_params, strict=True):
        np.testing.assert_allclose(a, e, **TOL)
    np.testing.assert_allclose(losses, expected_losses, **TOL)


def test_loop_changing_structure_falls_back_and_reuses_its_windows(torch, rnn_data,
                                                                  recorder):
    lengths = [1 + (5 * k) % 6 for k in range(200)]  # 6 structures, in turn
    expected = _rnn_loop(torch, rnn_data, lengths)
    recorder.options.eager_after = 1  # the fallback's trigger, reached sooner
    recorder.options.compile_again = -1  # its six structures would compile again
    with pytest.warns(RuntimeWarning, match="op by op"):
        got = _rnn_loop(ft, rnn_data, lengths)
    _assert_same(got, expected)
    stats = ft.compile_stats()
    assert stats["eager"] and stats["compiles"] == 2, stats["log"]
    windows = stats["windows"]
    # a window for each length's forward and backward, one for the update: each
    # compiled on its third sighting and run from then on
    assert windows["compiles"] <= 7, windows
    assert windows["runs"] >= 10 * windows["compiles"], windows


def test_long_region_backward_gets_a_window_of_its_own(torch, rnn_data, recorder,
                                                        monkeypatch):
    # small windows, so that an RNN of a few steps has a region longer than one window
    monkeypatch.setattr(_eager, "CUT_MIN", 4)
    monkeypatch.setattr(_eager, "CUT_MAX", 8)
    monkeypatch.setattr(_eager, "SPAN_MAX", 16)
    lengths = [9, 10, 9, 10, 9, 10, 9, 10]
    expected = _rnn_loop(torch, rnn_data, lengths)
    recorder.options.eager_after = 0
    with pytest.warns(RuntimeWarning, match="op by op"):
        got = _rnn_loop(ft, rnn_data, lengths)
    _assert_same(got, expected)
    windows = ft.compile_stats()["windows"]
    # the backward of each length is a window of its own, compiled on its third sighting
    # (the fifth and sixth steps) and run from then on
    assert _detached_windows(ft._compiler.current().windows) == 2
    assert windows["runs"] > windows["compiles"], windows


def _detached_windows(windows) -> int:
    return sum(1 for key in windows.compiled if key[-1])


def test_window_keeps_signed_zero_and_repeated_scalars_apart(torch, recorder):
    recorder.options.eager_after = 0
    values = np.array([1.0, -2.0, 3.0], np.float32)
    expected = [t.numpy() for t in _scalar_ops(torch, torch.tensor(values))]
    with warnings.catch_warnings():  # values read, no training step: no advice given
        warnings.simplefilter("error", RuntimeWarning)
        for _ in range(_eager.FUSE_AFTER + 1):  # node by node, then compiled
            got = [t.numpy() for t in _scalar_ops(ft, ft.tensor(values))]
            for a, e in zip(got, expected, strict=True):
                np.testing.assert_array_equal(a, e)
    assert ft.compile_stats()["windows"]["runs"] >= 1


def _scalar_ops(t, x):
    # 0.0 and -0.0 compare equal, 2 and 2.0 too: each must stay its own value and type
    pos, neg = 1.0 / (x * 0.0), 1.0 / (x * -0.0)
    same = x * 0.5 + 0.5 - 0.5 * x
    ints = t.arange(3) * 2 + x * 2.0
    return [pos, neg, same, ints]


@pytest.mark.filterwarnings("ignore:fnnet.torch.*op by op:RuntimeWarning")
def test_a_static_argument_annealed_every_step_compiles_nothing_op_by_op(torch, recorder):
    """A slope annealed by the loop makes each step's structure new (the fallback's
    trigger); op by op, its node ran through a jitted program compiled for each slope,
    forward and backward, a compile or two at every step for one run each."""
    recorder.options.eager_after = 0
    x = np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4)
    finals = []
    for t in (torch, ft):
        w = t.ones(4, requires_grad=True)
        opt = t.optim.SGD([w], lr=0.1)
        with counting_compiles() as compiles:
            for i in range(8):
                if i == 4:
                    compiles.clear()  # the first steps compile the ops once
                opt.zero_grad()
                t.nn.functional.leaky_relu(t.tensor(x) * w, 0.01 + 0.01 * i).sum().backward()
                opt.step()
        assert not compiles
        finals.append(w.detach().numpy())
    np.testing.assert_allclose(finals[1], finals[0], rtol=1e-6)
    assert ft.compile_stats()["eager"]


def _sampled_feedback_loop(t, rnn_data, steps):
    """A tanh RNN fed at each position either the sequence's next input or its own
    feedback, chosen by a host random draw (teacher forcing decided per token, as
    scheduled-sampling seq2seq tutorials do): the step is wired differently nearly every
    time, while reading the loss and a value each step repeats. Its weights are
    updated by SGD."""
    import random

    xs, ys, weights = rnn_data
    xs, ys = t.tensor(xs), t.tensor(ys)
    w_in, w_h, w_out = (t.nn.Parameter(t.tensor(w)) for w in weights)
    opt = t.optim.SGD([w_in, w_h, w_out], lr=0.05)
    draws = random.Random(3)
    losses = []
    for step in range(steps):
        h = t.zeros(4, HIDDEN)
        inp = xs[step]
        for i in range(4):
            h = t.tanh(inp @ w_in + h @ w_h)
            inp = xs[step + i + 1] if draws.random() < 0.5 else h @ w_in.t()
        loss = ((h @ w_out - ys) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        h.abs().max().item()  # a value read every step: its flushes repeat
    return [w.detach().numpy().copy() for w in (w_in, w_h, w_out)], losses


def test_a_step_wired_anew_every_time_falls_back_after_a_few_steps(torch, rnn_data,
                                                                   recorder):
    """Every step a new structure, each value read a structure met before: the share of
    compiling flushes stays under ``eager_after``, so the run falls back on the count of
    training steps in a row that compiled (``eager_after_steps``), and agrees."""
    recorder.options.eager_after_steps = 2
    expected = _sampled_feedback_loop(torch, rnn_data, 5)
    with pytest.warns(RuntimeWarning, match=r"changed structure in each of the last 3 "
                      r"training steps \(see fnnet.torch.compile_stats\(\)\); it runs op by "
                      r"op without jit"):
        got = _sampled_feedback_loop(ft, rnn_data, 5)
    _assert_same(got, expected)
    stats = ft.compile_stats()
    assert stats["eager"]
    assert sum(entry["reason"] == "step" for entry in stats["log"]) == 3  # the third falls back
    assert stats["eager_runs"] >= 2


def test_a_fallback_for_new_steps_compiles_again_only_once_its_steps_repeat(recorder):
    """After falling back for its steps (``eager_after_steps``), a loop whose value reads
    repeat but whose steps stay new keeps running op by op; a window of steps that repeat
    brings the compiles back (the ``_settled`` policy, without running programs)."""
    from fnnet.torch import _cache

    recorder.stats.eager, recorder.eager_for_steps = True, True
    recorder.recent.extend([False] * recorder.recent.maxlen)  # the reads: all met before
    recorder.eager_seen.add(("read",))
    for i in range(20):  # every step new, a read between steps
        _cache._settled(recorder, ("step", i), training=True)
        _cache._settled(recorder, ("read",), training=False)
        assert recorder.stats.eager, f"compiling resumed at step {i}"
    recorder.eager_seen.add(("step", "same"))
    for _ in range(recorder.options.eager_after_steps + 64):  # then the steps repeat
        _cache._settled(recorder, ("step", "same"), training=True)
        if not recorder.stats.eager:
            break
    assert not recorder.stats.eager


def test_reset_compile_stats_drops_the_windows(recorder):
    recorder.options.eager_after = 0
    x = ft.ones(3)
    with warnings.catch_warnings():  # values read, no training step: no advice given
        warnings.simplefilter("error", RuntimeWarning)
        for _ in range(4):
            ((x * 2 + 1) * 3).sum().item()
    assert ft.compile_stats()["windows"]["compiles"] == 1
    ft.reset_compile_stats()
    assert ft.compile_stats()["windows"] == {"compiles": 0, "runs": 0, "node_runs": 0}


def _backward_forms(t, form: str):
    """Three iterations of one way of calling backward; the gradients of each."""
    w = t.tensor([0.5, -1.0, 2.0], requires_grad=True)
    x = t.tensor([1.0, 2.0, 3.0])
    grads = []
    for _ in range(_eager.FUSE_AFTER + 1):  # node by node, then compiled
        y = (w * x).tanh() * 2.0
        if form == "retain_graph":
            y.sum().backward(retain_graph=True)
            (y * y).sum().backward()
        elif form == "gradient":
            y.backward(t.tensor([1.0, -0.5, 0.25]))
        else:  # a leaf is its own loss
            w.backward(t.tensor([3.0, 2.0, 1.0]))
        grads.append(w.grad.numpy().copy())
        w.grad = None
    return grads


@pytest.mark.parametrize("form", ["retain_graph", "gradient", "leaf"])
def test_backward_forms_in_windows_match_pytorch(torch, recorder, form):
    expected = _backward_forms(torch, form)
    recorder.options.eager_after = 0
    with pytest.warns(RuntimeWarning, match="op by op"):
        got = _backward_forms(ft, form)
    for a, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, e, **TOL)
    assert ft.compile_stats()["windows"]["runs"] >= 1  # the last iteration's, compiled


def _dropout_loop(steps: int = _eager.FUSE_AFTER + 1):
    """A small model with dropout trained by hand from a fixed seed: its losses."""
    ft.manual_seed(3)
    model = ft.nn.Sequential(ft.nn.Linear(4, 8), ft.nn.Dropout(0.5), ft.nn.Linear(8, 1))
    x = ft.randn(16, 4)
    y = ft.randn(16, 1)
    losses = []
    for _ in range(steps):
        loss = ((model(x) - y) ** 2).mean()
        model.zero_grad()
        loss.backward()
        with ft.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
        losses.append(loss.item())
    return np.array(losses)


@pytest.mark.slow  # two fresh recorders: the whole step compiled, then every node program
def test_op_by_op_draws_the_same_dropout_masks_as_the_compiled_step():
    with ft._compiler.fresh():
        compiled = _dropout_loop()
        assert not ft.compile_stats()["eager"]
    with ft._compiler.fresh(eager_after=0), pytest.warns(RuntimeWarning, match="op by op"):
        eager = _dropout_loop()
        assert ft.compile_stats()["windows"]["runs"] >= 1
    np.testing.assert_allclose(eager, compiled, **TOL)


def test_the_fallback_says_when_input_shapes_caused_it(recorder):
    model = ft.nn.Linear(3, 2)
    opt = ft.optim.SGD(model.parameters(), lr=0.1)
    recorder.options.eager_after = 2
    with pytest.warns(RuntimeWarning, match=r"op by op without jit until its structures "
                      r"repeat. Most of the changes were shapes of the inputs "
                      r"\(input 0 shape \(\d, 3\) -> \(\d, 3\)\): XLA "
                      r"compiles a program for each shape, so pad or bucket the batches"):
        for batch in (2, 3, 4, 5):  # a batch of another size every step
            loss = model(ft.ones(batch, 3)).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss.item()


def _steps_over_batches(sizes):
    model = ft.nn.Linear(3, 2)
    opt = ft.optim.SGD(model.parameters(), lr=0.1)
    for batch in sizes:
        loss = model(ft.ones(batch, 3)).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()  # the line the warning names
        loss.item()


def test_a_step_compiled_for_new_input_shapes_warns_early_and_once(recorder):
    """Batches of many lengths (sequences padded to each batch's longest) compile a step
    per length; the advice comes at the fourth such compile, naming the user's line, not
    after the 32 that start the op-by-op fallback."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _steps_over_batches([2, 3, 4, 5, 6, 7, 8])
    shapes = [w for w in caught if "new input shapes" in str(w.message)]
    assert len(shapes) == 1
    assert shapes[0].category is RuntimeWarning
    assert shapes[0].filename == __file__
    assert re.fullmatch(
        r"fnnet.torch: the training step was compiled again for new input shapes 4 times "
        r"\(input 0 shape \(\d, 3\) -> \(6, 3\)\): XLA compiles a program for each "
        r"shape, so a loop whose tensors change shape from step to step spends its time "
        r"compiling. Pad or bucket them to a few fixed shapes \(sequences padded to a "
        r"multiple of 16, say; fnnet.torch.compile_stats\(\) lists the compiles\)",
        str(shapes[0].message))
    assert not ft.compile_stats()["eager"]


def test_a_model_changed_between_rounds_is_not_told_of_input_shapes(recorder):
    """Iterative pruning adds a mask to a layer each round, so the step's inputs shift;
    its compiles are not the shape churn the warning is about."""
    model = ft.nn.Sequential(*[ft.nn.Linear(6, 6) for _ in range(6)])
    opt = ft.optim.SGD(model.parameters(), lr=0.1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for layer in model:
            ft.nn.utils.prune.l1_unstructured(layer, "weight", amount=0.2)
            for _ in range(2):
                loss = model(ft.ones(8, 6)).sum()
                opt.zero_grad()
                loss.backward()
                opt.step()
                loss.item()
    assert not [w for w in caught if "new input shapes" in str(w.message)]
    assert ft.compile_stats()["compiles"] >= 6


def test_a_last_short_batch_does_not_warn(recorder):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _steps_over_batches([4, 4, 4, 4, 3, 4, 4, 3])
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert ft.compile_stats()["compiles"] == 2


def _indexed_writes(t, x, index):
    return [x.index_fill(1, index, -1.0), x.index_copy(1, index, x[:, :2] * 2)]


def test_ops_op_by_op_take_values_still_on_the_host(torch, recorder):
    """The first run of a node outside jit got a tensor made from numpy as a numpy array,
    and an op writing with ``x.at[...]`` raised AttributeError (index_fill)."""
    recorder.options.eager_after = 0
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    index = np.array([1, 3])
    expected = [r.numpy() for r in _indexed_writes(torch, torch.tensor(x), torch.tensor(index))]
    got = [r.numpy() for r in _indexed_writes(ft, ft.tensor(x), ft.tensor(index))]
    assert ft.compile_stats()["eager"]
    for a, e in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a, e)
