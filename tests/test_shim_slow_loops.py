"""Loops from the from-scratch courses that once compiled far more than they ran: a
character-pair counting loop (a very long tape of ``N[i, j] += 1``), a value read at
every iteration of a loop that keeps its graph for a later backward, and a language
model's sampling loop under ``no_grad``. Each is written once, run on PyTorch and on
fnnet.torch, and must agree; ``compile_stats()`` shows how much was compiled."""

from __future__ import annotations

import numpy as np
import pytest

import fnnet.torch as ft
from fnnet.torch import _cache, _graph

pytestmark = pytest.mark.torch

TOL = {"rtol": 1e-5, "atol": 1e-5}


def _pairs(n_words: int) -> list[tuple[int, int]]:
    """The consecutive character pairs of ``n_words`` made-up words, ``0`` marking each
    word's start and end, as makemore's bigram table counts them."""
    rng = np.random.default_rng(3)
    pairs = []
    for _ in range(n_words):
        word = [0, *(int(c) for c in rng.integers(1, 27, rng.integers(3, 9))), 0]
        pairs.extend(zip(word, word[1:], strict=False))
    return pairs


def _count(t, pairs):
    counts = t.zeros((27, 27), dtype=t.int32)
    for a, b in pairs:
        counts[a, b] += 1
    return counts.numpy()


def test_a_long_counting_loop_runs_as_windows_and_compiles_no_whole_program(torch):
    pairs = _pairs(110)
    assert len(pairs) * 6 > _cache.LONG_TAPE  # a tape longer than compiling pays for
    got = _count(ft, pairs)
    np.testing.assert_array_equal(got, _count(torch, pairs))
    stats = ft.compile_stats()
    assert (stats["compiles"], stats["eager_runs"], stats["eager"]) == (0, 1, False)
    # the update of one pair repeats: a window compiled once serves most of the tape
    assert 1 <= stats["windows"]["compiles"] <= 3
    assert stats["windows"]["runs"] > 10 * stats["windows"]["compiles"]


def _read_while_kept(t, x, w, iterations: int):
    """A loop that reads a value at each iteration (``item()``) while the graph of its
    result is kept for the backward after it; then a hand-written update."""
    x, w = t.tensor(x), t.tensor(w, requires_grad=True)
    reads, losses = [], []
    for _ in range(2):
        h = x
        for _ in range(iterations):
            h = t.tanh(h @ w)
            reads.append(h.mean().item())
        loss = h.pow(2).mean()
        loss.backward()
        with t.no_grad():
            w -= 0.1 * w.grad
            w.grad = None
        losses.append(loss.item())
    return reads, losses, w.detach().numpy()


def test_reads_inside_a_loop_that_keeps_its_graph_compile_once(torch):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 6)).astype(np.float32)
    w = rng.uniform(-0.6, 0.6, (6, 6)).astype(np.float32)
    got = _read_while_kept(ft, x, w, 12)
    expected = _read_while_kept(torch, x, w, 12)
    for a, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, e, **TOL)
    # each read computes only the iteration's new nodes from the values carried with
    # the graph: the first iteration of each pass, the later ones (one structure), the
    # backward of each pass and the final read, never one program per iteration
    stats = ft.compile_stats()
    assert stats["compiles"] <= 6, [entry["nodes"] for entry in stats["log"]]
    assert stats["hits"] >= 2 * 12 - 4


def _episodes(t, weights, uniforms, lengths):
    """REINFORCE as the tutorials write it: an action read with ``item()`` at every
    step, its log-probability kept for the episode's backward, which adds to the kept
    graph without reading it."""
    policy = t.nn.Sequential(t.nn.Linear(5, 16), t.nn.ReLU(), t.nn.Linear(16, 2),
                             t.nn.Softmax(dim=1))
    policy.load_state_dict({k: t.tensor(v) for k, v in weights.items()})
    optimizer = t.optim.Adam(policy.parameters(), lr=1e-2)
    eye, draws, actions, losses = np.eye(5, dtype=np.float32), iter(uniforms), [], []
    for length in lengths:
        log_probs, position = [], 2
        for _ in range(length):
            probs = policy(t.from_numpy(eye[position]).unsqueeze(0))
            action = (probs.detach().cumsum(1)[0] < float(next(draws))).sum().clamp(max=1)
            log_probs.append(t.distributions.Categorical(probs).log_prob(action))
            position = min(4, max(0, position + (1 if action.item() else -1)))
            actions.append(position)
        returns = t.tensor([0.9 ** k for k in range(length)][::-1])
        optimizer.zero_grad()
        loss = -(t.cat(log_probs) * (returns - returns.mean())).sum()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return actions, losses, [p.detach().numpy() for p in policy.parameters()]


def test_actions_read_while_an_episode_keeps_its_graph_compile_once(torch):
    rng = np.random.default_rng(11)
    weights = {"0.weight": rng.uniform(-0.4, 0.4, (16, 5)), "0.bias": np.zeros(16),
               "2.weight": rng.uniform(-0.25, 0.25, (2, 16)), "2.bias": np.zeros(2)}
    weights = {k: v.astype(np.float32) for k, v in weights.items()}
    uniforms = rng.random(40)
    lengths = (9, 9, 9)
    got = _episodes(ft, weights, uniforms, lengths)
    expected = _episodes(torch, weights, uniforms, lengths)
    assert got[0] == expected[0]
    np.testing.assert_allclose(got[1], expected[1], **TOL)
    for a, e in zip(got[2], expected[2], strict=True):
        np.testing.assert_allclose(a, e, **TOL)
    # the episode's first read, then one structure for the reads after it, and the
    # step: never one program per action that replays the episode so far
    stats = ft.compile_stats()
    assert stats["compiles"] <= 5, [entry["nodes"] for entry in stats["log"]]


@pytest.mark.slow  # episodes long enough that their steps repeat the policy's nodes
def test_episodes_of_new_lengths_run_their_steps_as_windows(torch):
    """Each episode's step (its length's forward passes, the backward, Adam) is a new
    structure, made of a few node programs met many times: it runs as windows, whose
    programs serve every length, instead of compiling a program for each length."""
    rng = np.random.default_rng(13)
    weights = {"0.weight": rng.uniform(-0.4, 0.4, (16, 5)), "0.bias": np.zeros(16),
               "2.weight": rng.uniform(-0.25, 0.25, (2, 16)), "2.bias": np.zeros(2)}
    weights = {k: v.astype(np.float32) for k, v in weights.items()}
    uniforms = rng.random(60)
    lengths = (26, 30)
    got = _episodes(ft, weights, uniforms, lengths)
    stats = ft.compile_stats()
    expected = _episodes(torch, weights, uniforms, lengths)
    assert got[0] == expected[0]
    np.testing.assert_allclose(got[1], expected[1], **TOL)
    for a, e in zip(got[2], expected[2], strict=True):
        np.testing.assert_allclose(a, e, **TOL)
    # the reads' programs only; the two steps ran as windows
    assert stats["compiles"] <= 3 and stats["eager_runs"] == len(lengths), stats["log"]


@pytest.mark.slow
def test_reads_while_an_episode_keeps_its_graph_copy_no_graph(torch, monkeypatch):
    """Each read of a long episode computes only what it lacks and leaves the tape in
    place: the kept graph is carried into a new tape at the episode's first read only,
    not copied whole at every read (time in the square of the episode's length)."""
    from fnnet.torch import _flush

    carries = []
    monkeypatch.setattr(_flush, "carry", lambda *a: carries.append(1) or _graph.carry(*a))
    rng = np.random.default_rng(3)
    weights = {"0.weight": rng.uniform(-0.4, 0.4, (16, 5)), "0.bias": np.zeros(16),
               "2.weight": rng.uniform(-0.25, 0.25, (2, 16)), "2.bias": np.zeros(2)}
    weights = {k: v.astype(np.float32) for k, v in weights.items()}
    uniforms = rng.random(60)
    got = _episodes(ft, weights, uniforms, (30, 30))
    assert len(carries) <= 2 * 2, len(carries)  # one per read (60) when each read copied
    expected = _episodes(torch, weights, uniforms, (30, 30))
    assert got[0] == expected[0]
    np.testing.assert_allclose(got[1], expected[1], **TOL)
    for a, e in zip(got[2], expected[2], strict=True):
        np.testing.assert_allclose(a, e, **TOL)


def test_sampled_actions_keep_their_draws_in_the_episodes_backward():
    """Actions drawn with ``Categorical.sample()`` (the PRNG on the tape) and read each
    step: one structure for the reads, and the episode's backward sees the very actions
    read, as a batched recomputation of the same log-probabilities shows."""
    ft.manual_seed(0)
    policy = ft.nn.Sequential(ft.nn.Linear(5, 16), ft.nn.Tanh(), ft.nn.Linear(16, 3),
                              ft.nn.Softmax(dim=1))
    states = np.random.default_rng(2).standard_normal((8, 5)).astype(np.float32)
    log_probs, actions = [], []
    for state in states:
        m = ft.distributions.Categorical(policy(ft.from_numpy(state).unsqueeze(0)))
        action = m.sample()
        log_probs.append(m.log_prob(action))
        actions.append(action.item())
    loss = -ft.cat(log_probs).sum()
    loss.backward()
    grads = [p.grad.numpy().copy() for p in policy.parameters()]
    assert ft.compile_stats()["compiles"] <= 4, ft.compile_stats()["log"]
    policy.zero_grad()
    probs = policy(ft.from_numpy(states))
    again = -probs.log().gather(1, ft.tensor(actions).unsqueeze(1)).sum()
    again.backward()
    np.testing.assert_allclose(loss.item(), again.item(), rtol=1e-5)
    for mine, batched in zip(grads, (p.grad.numpy() for p in policy.parameters()),
                             strict=True):
        np.testing.assert_allclose(mine, batched, rtol=1e-4, atol=1e-6)


BLOCK = 4
EMBED = 8


def _sampler(t, weights):
    """A two-head causal self-attention language model, its heads joined with ``cat``."""
    nn, functional = t.nn, t.nn.functional

    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.query = nn.Linear(EMBED, EMBED // 2, bias=False)
            self.key = nn.Linear(EMBED, EMBED // 2, bias=False)
            self.register_buffer("tril", t.tril(t.ones(BLOCK, BLOCK)))

        def forward(self, x):
            length = x.shape[1]
            scores = self.query(x) @ self.key(x).transpose(-2, -1) * (EMBED // 2) ** -0.5
            scores = scores.masked_fill(self.tril[:length, :length] == 0, float("-inf"))
            return functional.softmax(scores, dim=-1) @ x[..., :EMBED // 2]

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(11, EMBED)
            self.position = nn.Embedding(BLOCK, EMBED)
            self.heads = nn.ModuleList([Head(), Head()])
            self.out = nn.Linear(EMBED, 11)

        def forward(self, idx):
            x = self.embed(idx) + self.position(t.arange(idx.shape[1]))
            return self.out(t.cat([head(x) for head in self.heads], dim=-1))

    model = Model()
    model.load_state_dict({k: t.tensor(v) for k, v in weights.items()})
    return model.eval()


def _generate(t, model, new_tokens: int) -> list[int]:
    idx = t.zeros((1, 1), dtype=t.long)
    with t.no_grad():
        for _ in range(new_tokens):
            logits = model(idx[:, -BLOCK:])[:, -1, :]
            probs = t.nn.functional.softmax(logits, dim=-1)
            idx = t.cat((idx, probs.argmax(dim=-1, keepdim=True)), dim=1)
    return idx[0].tolist()


def test_sampling_compiles_one_program_per_context_length(torch):
    rng = np.random.default_rng(11)
    shapes = {"embed.weight": (11, EMBED), "position.weight": (BLOCK, EMBED),
              "out.weight": (11, EMBED), "out.bias": (11,)}
    for h in range(2):
        shapes[f"heads.{h}.query.weight"] = shapes[f"heads.{h}.key.weight"] = \
            (EMBED // 2, EMBED)
    weights = {k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}
    weights.update({f"heads.{h}.tril": np.tril(np.ones((BLOCK, BLOCK), np.float32))
                    for h in range(2)})
    got = _generate(ft, _sampler(ft, weights), 10)
    assert got == _generate(torch, _sampler(torch, weights), 10)
    # the heads' outputs are joined inside the program (no flush in the middle of the
    # forward pass: each token compiled three programs), and once the context is cropped
    # to the block its window is cut on the host, so the sequence's growing length stops
    # reaching the program: one program for each context of 1, 2, 3 and 4 tokens, one
    # more for the fifth token (the window still recorded), one for the window as an
    # input, then the same program for every later token; the last is the final read
    stats = ft.compile_stats()
    assert stats["compiles"] == BLOCK + 3, [entry["changes"] for entry in stats["log"]]
    assert stats["hits"] >= 4
