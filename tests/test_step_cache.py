"""Compiled steps are reused: the same model, optimizer, loss and options give the same
jitted function, so repeated ``fit`` and ``evaluate`` calls compile nothing new."""

from __future__ import annotations

import contextlib
import functools

import jax
import numpy as np
import optax
import pytest

from fnnet import losses, models, nn, optim
from fnnet.train import create_train_state, evaluate, fit, make_eval_step, make_train_step
from fnnet.train.cache import STEPS, StepCache, fingerprint

BACKEND_COMPILE = "/jax/core/compile/backend_compile_duration"


@contextlib.contextmanager
def counting_compiles():
    """Counts XLA compilations (jax's own compile events) inside the block.

    A program read back from the persistent compilation cache that the suite shares
    (tests/conftest.py) counts as well: jax times the request to XLA either way, so a
    count of 0 means that the jit caches in memory served every call."""
    counts = {"compiles": 0}

    def listener(event, duration, **kwargs):
        del duration, kwargs
        if event == BACKEND_COMPILE:
            counts["compiles"] += 1

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        yield counts
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 12)).astype(np.float32)
    y = rng.integers(0, 4, 64).astype(np.int32)
    return x, y


def test_equal_structures_have_equal_keys():
    assert fingerprint(models.MLP((12, 16, 4))) == fingerprint(models.MLP((12, 16, 4)))
    assert fingerprint(models.MLP((12, 16, 4))) != fingerprint(models.MLP((12, 17, 4)))
    sgd = fingerprint(optim.SGD(lr=0.1, momentum=0.9))
    assert sgd == fingerprint(optim.SGD(lr=0.1, momentum=0.9))
    assert sgd != fingerprint(optim.SGD(lr=0.2, momentum=0.9))
    assert sgd != fingerprint(optim.SGD(lr=0.1, momentum=0.9, nesterov=True))
    assert sgd != fingerprint(optim.Adam(lr=0.1))
    assert fingerprint(optax.adam(1e-3)) == fingerprint(optax.adam(1e-3))
    assert fingerprint(optax.adam(1e-3)) != fingerprint(optax.adam(2e-3))
    assert fingerprint(0.0) != fingerprint(-0.0)
    smoothed = functools.partial(losses.cross_entropy, label_smoothing=0.1)
    assert fingerprint(smoothed) == fingerprint(
        functools.partial(losses.cross_entropy, label_smoothing=0.1))
    assert fingerprint(smoothed) != fingerprint(losses.cross_entropy)


def test_captured_arrays_are_keyed_by_value():
    def scaled(a):
        return lambda outputs, labels: losses.cross_entropy(outputs * a, labels)

    assert fingerprint(scaled(np.ones(3))) == fingerprint(scaled(np.ones(3)))
    assert fingerprint(scaled(np.ones(3))) != fingerprint(scaled(np.full(3, 2.0)))
    # Large arrays, and arrays of objects (whose bytes are addresses), by identity.
    big, objects = np.ones(10_000), np.array([object()])
    assert fingerprint(big) == fingerprint(big) != fingerprint(np.ones(10_000))
    assert fingerprint(objects) != fingerprint(objects.copy())
    # So is a structure too large to read on every lookup.
    listing = list(range(200_000))
    assert fingerprint(listing) == fingerprint(listing) != fingerprint(list(listing))


def test_make_train_step_returns_the_same_function_for_the_same_structure():
    first = make_train_step(models.MLP((12, 16, 4)), optim.SGD(lr=0.1, momentum=0.9))
    again = make_train_step(models.MLP((12, 16, 4)), optim.SGD(lr=0.1, momentum=0.9),
                            losses.cross_entropy)  # the default, spelled out
    assert again is first
    for other in (
        make_train_step(models.MLP((12, 16, 4)), optim.SGD(lr=0.2, momentum=0.9)),
        make_train_step(models.MLP((12, 16, 4)), optim.SGD(lr=0.1, momentum=0.9),
                        losses.mse_loss),
        make_train_step(models.MLP((12, 16, 4)), optim.SGD(lr=0.1, momentum=0.9),
                        on_nonfinite="skip"),
        make_train_step(models.MLP((12, 16, 4)), optim.SGD(lr=0.1, momentum=0.9),
                        clip_grad_norm=1.0),
        make_train_step(models.MLP((12, 8, 4)), optim.SGD(lr=0.1, momentum=0.9)),
    ):
        assert other is not first
    plain = make_train_step(models.MLP((12, 16, 4)), optim.SGD(lr=0.1, momentum=0.9),
                            jit=False)
    assert plain is not make_train_step(models.MLP((12, 16, 4)),
                                        optim.SGD(lr=0.1, momentum=0.9), jit=False)
    model = models.MLP((12, 16, 4))
    assert make_eval_step(model) is make_eval_step(models.MLP((12, 16, 4)))


def test_a_model_changed_in_place_gets_a_new_step():
    model = nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 4))
    first = make_train_step(model, optim.SGD(lr=0.1))
    setattr(model, "2", nn.Linear(16, 3))  # as `model[2] = ...` does in PyTorch
    changed = make_train_step(model, optim.SGD(lr=0.1))
    assert changed is not first
    # And the old structure, asked for again, is not answered by the changed model.
    rebuilt = make_train_step(nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 4)),
                              optim.SGD(lr=0.1))
    assert rebuilt is not changed
    state = create_train_state(nn.Sequential(nn.Linear(12, 16), nn.ReLU(),
                                             nn.Linear(16, 4)), optim.SGD(lr=0.1),
                               jax.random.key(0))
    x = np.zeros((2, 12), np.float32)
    _, metrics = rebuilt(state, (x, np.zeros(2, np.int32)))
    assert np.isfinite(float(metrics["loss"]))


def test_a_second_fit_and_evaluate_compile_nothing(data):
    def run():
        return fit(models.MLP((12, 16, 4)), optim.SGD(lr=0.1, momentum=0.9), data,
                   eval_data=data, epochs=2, batch_size=16, progress=False)

    with counting_compiles() as first:
        state, history = run()
    with counting_compiles() as second:
        state_again, history_again = run()
        evaluate(models.MLP((12, 16, 4)), state_again, data)  # fit's batch size
    assert second["compiles"] == 0, f"the second fit compiled {second['compiles']} times"
    # The first fit did compile (the count is not blind), and the runs are the same run.
    assert first["compiles"] > 0
    timings = ("seconds", "examples_per_second")
    assert ({k: v for k, v in history_again.items() if k not in timings}
            == {k: v for k, v in history.items() if k not in timings})
    jax.tree.map(np.testing.assert_array_equal, state_again.params, state.params)


def test_a_different_learning_rate_compiles_its_own_step(data):
    kwargs = dict(epochs=1, batch_size=16, progress=False)
    fit(models.MLP((12, 16, 4)), optim.SGD(lr=0.05), data, **kwargs)
    with counting_compiles() as counts:
        fit(models.MLP((12, 16, 4)), optim.SGD(lr=0.07), data, **kwargs)
    assert counts["compiles"] > 0


def test_the_cache_is_bounded_and_refuses_a_bad_size():
    cache = StepCache(maxsize=2)
    built = []

    def build(n):
        built.append(n)
        return n

    for n in (1, 2, 1, 3, 1, 2):
        cache.get("x", (n,), lambda n=n: build(n))
    assert built == [1, 2, 3, 2]  # 2 was the least recently used when 3 came
    assert (cache.hits, cache.misses, len(cache)) == (2, 4, 2)
    cache.clear()
    assert (cache.hits, cache.misses, len(cache)) == (0, 0, 0)
    with pytest.raises(ValueError, match="maxsize must be a positive int, got 0"):
        StepCache(maxsize=0)


def test_the_process_cache_counts_what_fit_builds(data):
    hits = STEPS.hits
    fit(models.MLP((12, 16, 4)), optim.SGD(lr=0.1, momentum=0.9), data, epochs=1,
        batch_size=16, progress=False)
    assert STEPS.hits > hits
