"""Loops from the from-scratch courses that once compiled far more than they ran: a
character-pair counting loop (a very long tape of ``N[i, j] += 1``), a value read at
every iteration of a loop that keeps its graph for a later backward, and a language
model's sampling loop under ``no_grad``. Each is written once, run on PyTorch and on
fnnet.torch, and must agree; ``compile_stats()`` shows how much was compiled."""

from __future__ import annotations

import numpy as np
import pytest

import fnnet.torch as ft
from fnnet.torch import _cache

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
