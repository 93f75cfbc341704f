"""A run is a function of its seed: bit-identical states for one seed, on the CPU, also
across an interruption and resume; different ones for different seeds."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from fnnet import data, nn, optim
from fnnet.nn import functional as F
from fnnet.train import fit


class Net(nn.Module):
    """Every source of randomness and state: init, Dropout, BatchNorm, the data order."""

    def __init__(self):
        self.fc1 = nn.Linear(64, 32)
        self.drop = nn.Dropout(0.25)
        self.bn = nn.BatchNorm1d(32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, m, x):
        return m.fc2(m.bn(m.drop(F.relu(m.fc1(F.flatten(x, 1))))))


@pytest.fixture(scope="module")
def digits():
    x, y = data.load("digits", "train")
    return x[:384], y[:384]


RUN = dict(epochs=2, batch_size=32, progress=False, log_every=4)


def _leaves(state):
    """Every array of a TrainState, the PRNG key as its raw data."""
    return [np.asarray(jax.random.key_data(x) if jax.dtypes.issubdtype(
        x.dtype, jax.dtypes.prng_key) else x) for x in jax.tree.leaves(state)]


def _run(digits, seed, **kwargs):
    return fit(Net(), optim.Adam(lr=1e-2), digits, seed=seed, **{**RUN, **kwargs})


def _assert_identical(a, b):
    for x, y in zip(_leaves(a), _leaves(b), strict=True):
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x, y)


def test_same_seed_same_bits_different_seed_different_run(digits):
    (a, history_a), (b, history_b), (c, history_c) = (_run(digits, s) for s in (7, 7, 8))
    _assert_identical(a, b)  # parameters, BatchNorm statistics, Adam moments, step, key
    assert history_a["loss"] == history_b["loss"]
    assert history_a["accuracy"] == history_b["accuracy"]
    for name in ("fc1", "fc2"):
        assert not np.array_equal(a.params[name]["weight"], c.params[name]["weight"])
    assert not np.array_equal(a.layer_state["bn"]["running_mean"],
                              c.layer_state["bn"]["running_mean"])
    assert history_a["loss"] != history_c["loss"]


def test_each_source_of_randomness_follows_the_seed(digits):
    """The data order and the Dropout masks change with the seed, not only the init."""
    x, y = digits
    order = [np.concatenate([b[1] for b in data.batches(x, y, 32, seed=s, epoch=0)])
             for s in (7, 7, 8)]
    np.testing.assert_array_equal(order[0], order[1])
    assert not np.array_equal(order[0], order[2])
    # Same initial parameters, different seeds: the runs still part (order, Dropout).
    start = _run(digits, 7, epochs=1)[0]
    a = fit(Net(), optim.Adam(lr=1e-2), digits, seed=7, state=start, **RUN)[0]
    b = fit(Net(), optim.Adam(lr=1e-2), digits, seed=8, state=start, **RUN)[0]
    assert not np.array_equal(a.params["fc1"]["weight"], b.params["fc1"]["weight"])


class Interrupt(Exception):
    """Stands for a crash: raised by the data in the middle of an epoch."""


def test_interrupted_and_resumed_run_is_bit_identical(digits, tmp_path):
    reference, ref_history = _run(digits, 3, epochs=3)
    x, y = digits

    def crashing_after(total):
        seen = 0

        def epoch_batches(epoch):
            nonlocal seen
            for batch in data.batches(x, y, 32, seed=3, epoch=epoch, drop_last=True):
                if seen == total:
                    raise Interrupt
                seen += 1
                yield batch

        return epoch_batches

    # 12 steps per epoch, a checkpoint every 5. Crash at step 17 (epoch 1), resume from
    # step 15; crash again at step 27 (epoch 2: the resumed run reads 3 batches it skips,
    # then trains 12), resume from step 25 and run to the end.
    run = dict(checkpoint_dir=tmp_path, every_n_steps=5, epochs=3)
    with pytest.raises(Interrupt):
        _run(crashing_after(17), 3, **run)
    with pytest.raises(Interrupt):
        _run(crashing_after(3 + 12), 3, resume=True, **run)
    state, history = _run(digits, 3, resume=True, **run)
    _assert_identical(state, reference)
    for name in ("loss", "accuracy"):
        assert history[name] == ref_history[name]
