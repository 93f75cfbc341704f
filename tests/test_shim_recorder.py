"""The recorder behind fnnet.torch: its state is one object per context, and a fresh one
(each test's, ``_compiler.fresh()``) shares nothing with the one around it."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import fnnet.torch as ft
from fnnet.torch import _compiler, _recorder
from fnnet.torch._tape import CONST, NO_REF, RG, VAR, kind_of, ref, slot_of

pytestmark = pytest.mark.torch


def _step(layer: ft.nn.Module, opt: ft.optim.Optimizer, x: ft.Tensor) -> float:
    opt.zero_grad()
    loss = layer(x).pow(2).mean()
    loss.backward()
    opt.step()
    return loss.item()


def test_references_name_a_slot_and_its_use():
    for slot in (0, 1, 7, 123_456):
        for kind in (CONST, RG, VAR):
            r = ref(slot, kind)
            assert r >= 0 and (slot_of(r), kind_of(r)) == (slot, kind)
    assert NO_REF < 0


def test_each_test_records_on_a_fresh_recorder(recorder):
    assert _recorder.current() is recorder
    assert not recorder.tape.nodes and not recorder.cache
    assert ft.compile_stats()["compiles"] == 0 and recorder.grad_enabled


def test_a_fresh_recorder_has_its_own_cache_and_statistics(recorder):
    layer = ft.nn.Linear(3, 2)
    opt = ft.optim.SGD(layer.parameters(), lr=0.1)
    x = ft.ones(4, 3)
    for _ in range(3):
        _step(layer, opt, x)
    outer = ft.compile_stats()
    assert outer["compiles"] == 1 and outer["hits"] == 2, outer["log"]
    with _compiler.fresh() as inner:
        assert _recorder.current() is inner and inner is not recorder
        losses = [_step(layer, opt, x) for _ in range(2)]
        # the same structure compiles again: the cache outside is not this one's
        assert ft.compile_stats()["compiles"] == 1 and ft.compile_stats()["hits"] == 1
    assert _recorder.current() is recorder
    assert ft.compile_stats() == outer
    assert losses[1] < losses[0]  # the parameters trained inside stay trained
    _step(layer, opt, x)
    assert ft.compile_stats()["hits"] == 3  # and the outer cache still serves them


def test_values_recorded_in_a_fresh_recorder_outlive_it():
    x = ft.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    with _compiler.fresh() as inner:
        y = x * 2 + 1  # recorded, not yet computed
        assert y._cell.val is None and inner.tape.nodes
    np.testing.assert_array_equal(y.numpy(), np.arange(6).reshape(2, 3) * 2 + 1)
    np.testing.assert_array_equal((y - 1).numpy(), np.arange(6).reshape(2, 3) * 2)


def test_options_apply_to_their_recorder_only():
    w = ft.nn.Parameter(ft.tensor([1.0, 2.0]))
    opt = ft.optim.SGD([w], lr=0.1)
    with _compiler.fresh(eager_after=0):
        with pytest.warns(RuntimeWarning, match="op by op"):
            opt.zero_grad()
            (w * w).sum().backward()
            opt.step()
        assert ft.compile_stats()["eager"]
    np.testing.assert_allclose(w.detach().numpy(), [0.8, 1.6], rtol=1e-6)
    assert not ft.compile_stats()["eager"] and _recorder.current().options.eager_after == 32


def test_an_unknown_option_is_refused_before_anything_changes(recorder):
    with pytest.raises(TypeError, match="eager_afterr"):
        with _compiler.fresh(eager_afterr=3):
            pass
    assert _recorder.current() is recorder


def test_grad_mode_belongs_to_the_recorder():
    with ft.no_grad():
        with _compiler.fresh():
            assert ft.is_grad_enabled()  # a fresh recorder starts recording gradients
            with ft.no_grad():
                assert not ft.is_grad_enabled()
            assert ft.is_grad_enabled()
        assert not ft.is_grad_enabled()
    assert ft.is_grad_enabled()


def test_a_thread_records_on_the_default_recorder_and_its_tensors_are_usable():
    results = {}

    def work() -> None:
        results["recorder"] = _recorder.current()
        results["y"] = ft.ones(3) * 4

    with _compiler.fresh():
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
        # a new thread starts from an empty context: the shared default recorder
        assert results["recorder"] is not _recorder.current()
    np.testing.assert_array_equal(results["y"].numpy(), [4.0, 4.0, 4.0])


def test_a_repeated_python_scalar_reaches_the_step_as_a_device_array(recorder):
    # batch offsets repeat each epoch: converted once, the second time they are recorded;
    # a value that changes every step stays a Python number; neither changes the step
    data = ft.tensor(np.arange(24, dtype=np.float32))
    values = []
    for step in range(6):
        i = step % 3
        scale = float(step)  # new every step
        batch = data[i * 8:(i + 1) * 8] * scale
        values.append(batch.sum().item())
    expected = [float(np.arange(24)[(s % 3) * 8:(s % 3 + 1) * 8].sum() * s) for s in range(6)]
    assert values == expected
    stats = ft.compile_stats()
    assert stats["compiles"] == 1 and stats["hits"] == 5, stats["log"]
    arrays = recorder.scalars.arrays
    assert {key[1] for key in arrays if key[0] is int} == {0, 8, 16}
    assert not any(key[0] is float and key[1] > 1.0 for key in arrays)


@pytest.mark.parametrize("value, other", [(0.0, -0.0), (1, 1.0), (1, True), (2**40, 2**40)])
def test_scalars_keep_type_sign_and_range(value, other):
    from fnnet.torch._scalars import Scalars

    scalars = Scalars()
    a, b = scalars.array(value), scalars.array(other)
    if value == 2**40:  # too large for int32: left for jax to refuse, as it refuses it
        assert a == value and type(a) is int
        return
    assert a is not b and a.dtype != b.dtype or np.signbit(a) != np.signbit(b)
    assert a.weak_type == (type(value) is not bool) and float(a) == float(value)


def test_a_carried_graph_whose_tensor_died_leaves_the_next_step(recorder):
    """The name-classifying RNN of the tutorials: a module-level output kept for good
    (never backpropagated) and a function's last hidden state, alive when ``loss.item()``
    flushes and dropped when the function returns. Both graphs are carried by the flush;
    the dead one must not stay in the next step, or every step would run it again and
    the second step would compile a structure of its own."""
    ft.manual_seed(0)
    net = ft.nn.Linear(3, 3)
    kept = net(ft.ones(1, 3))  # noqa: F841  (alive, as a script's global)
    optimizer = ft.optim.SGD(net.parameters(), lr=0.1)

    def train(x):
        optimizer.zero_grad()
        hidden = net(x)
        loss = net(hidden).sum()
        hidden = net(hidden)  # the last hidden state: no backward reaches it
        loss.backward()
        optimizer.step()
        return loss.item()

    losses = [train(ft.full((1, 3), float(i))) for i in range(4)]
    # the first step (kept's graph recorded, not carried), the second (kept's graph
    # carried, the weights it reads overwritten by the first) and one for the two after
    assert ft.compile_stats()["compiles"] == 3, ft.compile_stats()["log"]
    next_tape = ft.ones(1).mul(2)._cell.tape
    # kept's graph, carried once after the weights it reads were overwritten, is freed
    # at the next flush (see _flush._retention): only what was recorded since
    assert [n.op.__name__ for n in next_tape.nodes if n.op is not None] == ["multiply"]
    assert np.isfinite(losses).all()
