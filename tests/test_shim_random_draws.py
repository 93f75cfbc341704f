"""PyTorch's random streams, reproduced: after ``manual_seed(s)`` (or a seeded
``Generator``), the same calls draw PyTorch's numbers under fnnet.torch, from the first
draw on, and leave the generator in PyTorch's state (``get_rng_state()`` byte for byte, but for
two dummy fields PyTorch ignores, where fnnet keeps its dropout key).

Exact where PyTorch's arithmetic is reproduced; normal draws of 16 values or more in
float32 (PyTorch's vectorised logarithm and sine) to a few units in the last place.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import raised_by

import fnnet.torch as ft
from fnnet.torch._cpu_generator import _EXTRA_AT, _MARK_AT, CpuGenerator

pytestmark = pytest.mark.torch


def _values(out):
    items = out if isinstance(out, (list, tuple)) else [out]
    return [np.asarray(t.detach().numpy()) for t in items]


def _same(theirs, ours, exact):
    for a, b in zip(theirs, ours, strict=True):
        assert a.shape == b.shape
        if exact:
            np.testing.assert_array_equal(b, a.astype(b.dtype))
        else:  # float32 normal draws: PyTorch's vectorised log/sin/cos
            np.testing.assert_allclose(b, a, rtol=2e-6, atol=2e-6)


def _state(lib):
    """The state bytes PyTorch reads: fnnet keeps its dropout key in two dummy fields
    that PyTorch writes as zeros and ignores."""
    raw = bytearray(lib.get_rng_state().numpy().tobytes())
    for at in (_EXTRA_AT, _MARK_AT):
        raw[at:at + 8] = bytes(8)
    return bytes(raw)


#: (name, draws of a library, exact): each run after manual_seed(3) on both libraries
DRAWS = [
    ("rand", lambda t: [t.rand(3, 4), t.rand(2)], True),
    ("randn_small", lambda t: [t.randn(5), t.randn(3), t.rand(2), t.randn(1)], True),
    ("randn_blocks", lambda t: [t.randn(37), t.randn(2, 16)], False),
    ("randint", lambda t: [t.randint(0, 10, (5,)), t.randint(-7, 10, (2, 3)),
                           t.randint(5, (4,))], True),
    ("randperm", lambda t: [t.randperm(50), t.randperm(1), t.randperm(3)], True),
    ("like", lambda t: [t.rand_like(t.ones(2, 2)), t.randn_like(t.ones(3)),
                        t.randint_like(t.ones(3), 5)], True),
    ("normal", lambda t: [t.normal(2.0, 3.0, size=(3,)),
                          t.normal(t.tensor([0.0, 10.0]), t.tensor([1.0, 0.5])),
                          t.normal(t.tensor([0.0, 10.0]), 0.5),
                          t.normal(1.0, t.tensor([1.0, 0.5]))], True),
    ("half_precision", lambda t: [
        t.rand(20, dtype=t.float16), t.empty(20, dtype=t.bfloat16).uniform_(-2, 3).float(),
        t.randn(37, dtype=t.float16), t.empty(40, dtype=t.bfloat16).normal_(0.5, 2).float(),
        t.randn(5, dtype=t.float16)], True),
    ("uniform_", lambda t: [t.empty(40).uniform_(-0.37, 1.91), t.empty(3).uniform_()], True),
    ("normal_", lambda t: [t.empty(3).normal_(1.5, 0.3), t.empty(20).normal_(-1, 2)], False),
    ("bernoulli", lambda t: [t.empty(30).bernoulli_(0.3), t.bernoulli(t.full((20,), 0.4)),
                             t.bernoulli(t.zeros(5), 0.7)], True),
    ("random_", lambda t: [t.empty(4).random_(), t.empty(3).random_(0, 10),
                           t.empty(3).random_(7)], True),
    ("continuous", lambda t: [t.empty(30).exponential_(1.5), t.empty(5).cauchy_(0.3, 2.0),
                              t.empty(5).geometric_(0.2), t.empty(3).log_normal_()], True),
    ("multinomial", lambda t: [
        t.multinomial(t.tensor([1.0, 2, 3, 4]), 2),
        t.multinomial(t.tensor([[1.0, 2, 3, 4], [0, 1, 1, 0]]), 1),
        t.multinomial(t.tensor([1.0, 2, 3, 4]), 6, replacement=True)], True),
    ("distributions", lambda t: [
        t.distributions.Normal(t.tensor([0.5, 1.0]), t.tensor([2.0, 0.1])).sample((3,)),
        t.distributions.Uniform(0.0, 2.0).sample((4,)),
        t.distributions.Bernoulli(t.tensor([0.3, 0.9])).sample((2,)),
        t.distributions.Categorical(t.tensor([0.2, 0.3, 0.5])).sample((5,))], True),
    ("gamma", lambda t: [
        t.distributions.Gamma(t.tensor([0.3, 2.5, 40.0]), t.tensor([1.0, 0.5, 2.0])).sample((4,))],
     True),
    ("poisson", lambda t: [
        t.distributions.Poisson(t.tensor([0.0, 0.5, 9.9, 10.0, 250.0])).sample((3,)),
        t.poisson(t.tensor([[2.0, 30.0], [1.0, 7.5]])),
        t.poisson(t.tensor([4.0]), generator=t.Generator().manual_seed(5)), t.rand(2)], True),
    ("dirichlet_beta", lambda t: [
        t.distributions.Dirichlet(t.tensor([0.5, 1.0, 2.0])).sample((3,)),
        t.distributions.Beta(t.tensor([0.7]), t.tensor([2.0])).sample((3,))], False),
    ("generator", lambda t: [t.randn(5, generator=t.Generator().manual_seed(7)),
                             t.rand(3, generator=t.Generator().manual_seed(7)),
                             t.randperm(9, generator=t.Generator().manual_seed(1)),
                             t.randint(0, 5, (4,), generator=t.Generator())], True),
    ("init_uniform", lambda t: [
        t.nn.init.uniform_(t.empty(3, 4), -0.5, 0.25),
        t.nn.init.xavier_uniform_(t.empty(5, 6), gain=2.0),
        t.nn.init.kaiming_uniform_(t.empty(4, 3, 2), a=0.1, mode="fan_out"),
        t.nn.init.kaiming_uniform_(t.empty(3, 5), generator=t.Generator().manual_seed(2))],
     True),
    ("init_normal", lambda t: [
        t.nn.init.normal_(t.empty(2, 3), 0.5, 2.0), t.nn.init.xavier_normal_(t.empty(2, 4)),
        t.nn.init.kaiming_normal_(t.empty(5, 8), nonlinearity="relu")], False),
    ("init_truncated_orthogonal_sparse", lambda t: [
        t.nn.init.trunc_normal_(t.empty(40), std=0.5, a=-0.6, b=0.6),
        t.nn.init.trunc_normal_(t.empty(30), mean=0.0, std=3.0, a=2.0, b=2.5),
        t.nn.init.orthogonal_(t.empty(3, 5)), t.nn.init.orthogonal_(t.empty(6, 2), 1.5),
        t.nn.init.sparse_(t.empty(6, 3), 0.5)], False),
]


@pytest.mark.parametrize("name,draws,exact", DRAWS, ids=[d[0] for d in DRAWS])
def test_draws_after_a_seed_are_pytorchs(torch, name, draws, exact):
    torch.manual_seed(3)
    theirs = _values(draws(torch))
    ft.manual_seed(3)
    ours = _values(draws(ft))
    _same(theirs, ours, exact)
    assert _state(ft) == _state(torch)


def _layers(t):
    t.manual_seed(0)
    return [t.nn.Linear(5, 3), t.nn.Conv2d(3, 4, 3), t.nn.Conv1d(2, 3, 2, bias=False),
            t.nn.ConvTranspose2d(3, 2, 2), t.nn.Conv3d(2, 2, 2), t.nn.ConvTranspose1d(2, 3, 2),
            t.nn.Embedding(10, 4, padding_idx=2), t.nn.BatchNorm1d(3),
            t.nn.LSTM(4, 5, num_layers=2, bidirectional=True), t.nn.GRU(3, 4), t.nn.RNN(3, 2),
            t.nn.LSTMCell(3, 4), t.nn.GRUCell(2, 3), t.nn.MultiheadAttention(8, 2),
            t.nn.TransformerEncoderLayer(8, 2, 16), t.nn.EmbeddingBag(5, 6)]


def test_layers_start_from_pytorchs_weights(torch):
    """Default initialisation: each layer's draws in PyTorch's order and arithmetic
    (the normal tables of the embeddings to float32's last bits)."""
    theirs, ours = _layers(torch), _layers(ft)
    for mine, their in zip(ours, theirs, strict=True):
        for (name, a), (my_name, b) in zip(their.state_dict().items(),
                                           mine.state_dict().items(), strict=True):
            assert my_name == name
            _same([a.numpy()], [np.asarray(b.numpy())], "Embedding" not in type(their).__name__)
    assert _state(ft) == _state(torch)
    weights = []
    for lib in (torch, ft):  # reset_parameters draws again, as at construction
        lib.manual_seed(4)
        layer = lib.nn.Linear(3, 2)
        layer.reset_parameters()
        weights.append(layer.weight.detach().numpy())
    np.testing.assert_array_equal(weights[1], weights[0])


def test_the_rng_state_is_pytorchs_bytes(torch):
    """``get_rng_state()`` is PyTorch's 5056 bytes (with a cached normal value), either
    library's state restores in the other, and a Generator's state round-trips."""
    for lib in (torch, ft):
        lib.manual_seed(11)
        lib.randn(3)  # leaves the second value of a pair cached
    state = _state(torch)
    assert _state(ft) == state and len(state) == 5056
    ft.set_rng_state(ft.tensor(np.frombuffer(state, np.uint8).copy(), dtype=ft.uint8))
    torch.set_rng_state(torch.tensor(np.frombuffer(state, np.uint8).copy()))
    np.testing.assert_array_equal(ft.randn(3).numpy(), torch.randn(3).numpy())
    gen, theirs = ft.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    ft.rand(2, generator=gen), torch.rand(2, generator=theirs)
    saved = gen.get_state()
    assert bytes(saved.numpy().tobytes()) == bytes(theirs.get_state().numpy().tobytes())
    first = ft.rand(4, generator=gen).numpy()
    gen.set_state(saved)
    np.testing.assert_array_equal(ft.rand(4, generator=gen).numpy(), first)
    assert ft.Generator().initial_seed() == torch.Generator().initial_seed()


@pytest.mark.parametrize("bad", [[1, 2], "zeros10", "float", "zeros"])
def test_a_bad_rng_state_raises_pytorchs_error(torch, bad):
    def make(lib):
        return {"zeros10": lib.zeros(10, dtype=lib.uint8), "float": lib.zeros(5056),
                "zeros": lib.zeros(5056, dtype=lib.uint8)}.get(bad, bad)

    ft.manual_seed(2)
    before = _state(ft)
    for call in (lambda lib: lib.set_rng_state(make(lib)),
                 lambda lib: lib.Generator().set_state(make(lib))):
        with pytest.raises(Exception) as theirs:
            call(torch)
        with pytest.raises(type(theirs.value)) as ours:
            call(ft)
        assert str(ours.value) == str(theirs.value)
    assert _state(ft) == before


def test_shuffling_and_splits_are_pytorchs(torch):
    """``DataLoader(shuffle=True)`` without a generator (its workers' seed, then the
    sampler's seed drawn from the global generator each epoch), ``RandomSampler`` with
    replacement, ``SubsetRandomSampler`` and ``random_split``."""
    def orders(lib):
        lib.manual_seed(8)
        data = lib.utils.data.TensorDataset(lib.arange(10))
        loader = lib.utils.data.DataLoader(data, batch_size=4, shuffle=True)
        epochs = [[b[0].tolist() for b in loader] for _ in range(2)]
        sampled = list(lib.utils.data.RandomSampler(range(7), replacement=True,
                                                    num_samples=40))
        subset = list(lib.utils.data.SubsetRandomSampler([10, 20, 30, 40]))
        parts = lib.utils.data.random_split(range(9), [0.5, 0.5])
        weighted = [list(lib.utils.data.WeightedRandomSampler([0.1, 0.5, 0.2, 0.2], size, again))
                    for size, again in ((6, True), (3, False))]
        spread = lib.utils.data.DistributedSampler(range(10), num_replicas=2, rank=1, seed=3)
        spread.set_epoch(1)
        return (epochs, sampled, subset, [list(p.indices) for p in parts], weighted,
                list(spread), lib.rand(2).tolist())

    assert orders(ft) == orders(torch)


def test_a_seeded_training_script_prints_pytorchs_losses(torch):
    """The whole loop: seed, a default-initialised MLP, a shuffled DataLoader, 3 SGD
    steps: the same losses printed."""
    def losses(lib):
        lib.manual_seed(0)
        x = lib.randn(24, 4)
        y = (x.sum(1) > 0).long()
        loader = lib.utils.data.DataLoader(lib.utils.data.TensorDataset(x, y), batch_size=8,
                                           shuffle=True)
        model = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.ReLU(), lib.nn.Linear(8, 2))
        opt = lib.optim.SGD(model.parameters(), lr=0.5)
        printed = []
        for xb, yb in loader:
            loss = lib.nn.functional.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            printed.append(f"{loss.item():.5f}")
        return printed

    assert losses(ft) == losses(torch)


def test_float64_draws_are_pytorchs(torch):
    """float64 (PyTorch's 53-bit uniforms and double Box-Muller, fused multiply-adds)
    from the generator itself: fnnet.torch holds float64 only under jax's x64 mode."""
    ours = CpuGenerator(9)
    torch.manual_seed(9)
    for theirs, mine in [
            (torch.empty(300, dtype=torch.float64).uniform_(-0.37, 1.91),
             ours.uniform((300,), np.float64, -0.37, 1.91)),
            (torch.empty(37, dtype=torch.float64).normal_(0.5, 0.1),
             ours.normal((37,), np.float64, 0.5, 0.1)),
            (torch.empty(5, dtype=torch.float64).normal_(), ours.normal((5,), np.float64)),
            (torch.empty(3, dtype=torch.float64).random_(), ours.integers(0, 2**53 + 1, (3,))),
            (torch.randint(0, 2**40, (3,)), ours.integers(0, 2**40, (3,)))]:
        np.testing.assert_array_equal(mine, theirs.numpy())
    assert ours.get_state() == _state(torch)
    assert math.isclose(ours.normal_double(), torch.randn(1, dtype=torch.float64).item())


_FRESH = ("import {0} as torch\n"
          "seed = torch.initial_seed()\n"
          "first = torch.rand(3).tolist()\n"
          "torch.manual_seed(seed)\n"
          "print(seed, first == torch.rand(3).tolist(), first)\n")


@pytest.mark.slow
def test_a_fresh_process_is_seeded_from_the_os_as_pytorchs(torch):
    # a process that never calls manual_seed draws from a 64-bit seed of the OS's,
    # another in each process, and replays those draws once seeded with it
    import subprocess
    import sys

    seen = {}
    for module in ("torch", "fnnet.torch"):
        runs = [subprocess.run([sys.executable, "-c", _FRESH.format(module)], check=True,
                               capture_output=True, text=True).stdout.split(" ", 2)
                for _ in range(2)]
        seen[module] = [(0 <= int(seed) < 2**64, replayed) for seed, replayed, _ in runs]
        assert runs[0][0] != runs[1][0] and runs[0][2] != runs[1][2]
    assert seen["fnnet.torch"] == seen["torch"] == [(True, "True")] * 2


def test_initialising_a_models_parameters_compiles_nothing_and_counts_versions(torch):
    """Model constructors initialise every weight (``nn.init.kaiming_normal_`` per conv):
    each write replaces a fresh parameter's value as PyTorch's in-place write does, with
    its version count, and a weight a recorded graph saved still fails its backward."""
    def build(T):
        T.manual_seed(3)
        model = T.nn.Sequential(T.nn.Conv2d(1, 4, 3), T.nn.Conv2d(4, 8, 3), T.nn.Flatten(),
                                T.nn.Linear(8, 5), T.nn.Linear(5, 2))
        for m in model.modules():
            if isinstance(m, T.nn.Conv2d):
                T.nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, T.nn.Linear):
                T.nn.init.xavier_uniform_(m.weight)
                T.nn.init.zeros_(m.bias)
        return model

    ft.reset_compile_stats()
    ours = build(ft)
    assert ft.compile_stats()["compiles"] == 0
    theirs = build(torch)
    for (name, mine), (_, expected) in zip(ours.state_dict().items(),
                                           theirs.state_dict().items(), strict=True):
        np.testing.assert_allclose(mine.numpy(), expected.numpy(), rtol=1e-6, atol=1e-7,
                                   err_msg=name)
        assert mine._version == expected._version, name

    def saved_then_initialised(T):
        weight = T.nn.Parameter(T.ones(3))
        loss = (weight * weight).sum()
        T.nn.init.constant_(weight, 2.0)
        loss.backward()
    theirs_error, ours_error = raised_by(saved_then_initialised, torch, ft)
    assert ours_error == theirs_error


_RESUME = """
import sys
import fnnet.torch as torch

def build():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Dropout(0.5),
                                torch.nn.Linear(16, 1))
    return model, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

def train(model, opt, x, y, steps):
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses

model, opt = build()
x, y = torch.randn(8, 4), torch.randn(8, 1)
if sys.argv[1] == "save":
    train(model, opt, x, y, 3)
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(),
                "rng": torch.get_rng_state()}, sys.argv[2])
    print(train(model, opt, x, y, 3))
else:
    saved = torch.load(sys.argv[2])
    model.load_state_dict(saved["model"])
    opt.load_state_dict(saved["opt"])
    torch.set_rng_state(saved["rng"])
    print(train(model, opt, x, y, 3))
"""


@pytest.mark.slow
def test_a_resumed_process_replays_the_dropout_masks(tmp_path):
    """A checkpoint's ``get_rng_state()`` carries the key of the dropout masks, so a run
    resumed in a new process continues as the uninterrupted one, loss for loss."""
    import subprocess
    import sys

    script, path = tmp_path / "resume.py", str(tmp_path / "ckpt.pt")
    script.write_text(_RESUME)
    runs = [subprocess.run([sys.executable, str(script), mode, path], capture_output=True,
                           text=True, timeout=120, check=True).stdout
            for mode in ("save", "load")]
    assert runs[0] == runs[1] and runs[0].startswith("[")


def test_pytorch_reads_a_state_carrying_the_dropout_key(torch):
    """After a step drew dropout masks, the state's bytes still restore PyTorch's own
    generator (the key sits in two fields PyTorch writes as zeros and never reads), and
    restoring them in fnnet brings the masks back."""
    ft.manual_seed(4)
    layer = ft.nn.Dropout(0.5)
    x = ft.ones(64)
    layer(x).sum().item()
    ft.rand(3)
    saved = ft.get_rng_state()
    masks = layer(x).numpy(), ft.randn(5).numpy()
    torch.set_rng_state(torch.tensor(saved.numpy()))
    ft.manual_seed(9)  # another key, as in a fresh process
    ft.set_rng_state(saved)
    np.testing.assert_array_equal(layer(x).numpy(), masks[0])
    np.testing.assert_array_equal(ft.randn(5).numpy(), masks[1])
    np.testing.assert_array_equal(torch.randn(5).numpy(), masks[1])
