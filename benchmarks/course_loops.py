"""Loops from the from-scratch courses, timed on PyTorch or on fnnet.torch.

``python benchmarks/course_loops.py torch`` and ``python benchmarks/course_loops.py fnnet``
run the same three loops (one framework per process, PyTorch on one thread) and print
each one's wall time, first run included, with fnnet.torch's compile counts:

- ``bigram``: makemore's counting loop, ``N[ix1, ix2] += 1`` over the character pairs of
  made-up words, then the normalised table;
- ``reads``: a ``tanh(h @ W)`` chain that reads ``h.mean().item()`` at every iteration
  while its graph is kept for the ``backward()`` after it, then a hand-written update;
- ``generate``: a small character GPT's sampling loop under ``no_grad``
  (``idx[:, -block_size:]``, softmax, ``multinomial``, ``cat``);
- ``episodes``: REINFORCE as the policy-gradient example writes it, episodes of 50, 100
  and 200 actions, each drawn by ``Categorical(probs).sample()`` and read with
  ``action.item()`` while its log-probability is kept for the episode's ``backward()``;
- ``crf``: the BiLSTM-CRF tutorial's forward algorithm, a log-sum-exp per tag and
  position whose maximum is found by ``argmax(...).item()``, over a 20-word sentence,
  backpropagated and stepped 10 times.

See benchmarks/RESULTS.md (shim_loop.py, "Loops from the from-scratch courses").
"""

from __future__ import annotations

import argparse
import os
import random
import time
from typing import Any


def bigram(t: Any, n_words: int) -> tuple[int, float]:
    rng = random.Random(0)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = ["".join(rng.choice(letters) for _ in range(rng.randint(3, 8)))
             for _ in range(n_words)]
    stoi = {s: i + 1 for i, s in enumerate(letters)}
    stoi["."] = 0
    counts = t.zeros((27, 27), dtype=t.int32)
    for w in words:
        chs = [".", *w, "."]
        for ch1, ch2 in zip(chs, chs[1:], strict=False):
            counts[stoi[ch1], stoi[ch2]] += 1
    probs = (counts + 1).float()
    probs /= probs.sum(1, keepdim=True)
    return int(counts.sum().item()), float(probs[0, 1].item())


def reads(t: Any, iterations: int) -> float:
    t.manual_seed(0)
    w = t.randn(32, 32, requires_grad=True)
    x = t.randn(16, 32)
    loss = None
    for _ in range(3):
        h = x
        for _ in range(iterations):
            h = t.tanh(h @ w)
            h.mean().item()
        loss = h.pow(2).mean()
        loss.backward()
        with t.no_grad():
            w -= 0.01 * w.grad
            w.grad.zero_()
    return float(loss.item())


def episodes(t: Any, length: int, count: int = 3) -> str:
    """The loss of the last episode, and the seconds of the first episode (where
    fnnet.torch compiles the episode's step) and of each later one."""
    t.manual_seed(0)
    nn = t.nn
    policy = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 2), nn.Softmax(dim=-1))
    optimizer = t.optim.Adam(policy.parameters(), lr=1e-2)
    state = [0.1, -0.2, 0.05, 0.0]
    loss, times = None, []
    for _ in range(count):
        start = time.perf_counter()
        log_probs = []
        for _ in range(length):
            dist = t.distributions.Categorical(policy(t.tensor([state])))
            action = dist.sample()
            log_probs.append(dist.log_prob(action))
            state = [0.9 * v + (0.1 if action.item() else -0.1) for v in state]
        returns = t.linspace(1.0, 0.0, length)
        loss = -(t.cat(log_probs) * returns).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
    return (f"loss {loss.item():.4f}; first episode {times[0]:.2f} s, then "
            f"{sum(times[1:]) / (count - 1):.3f} s each")


def crf(t: Any, words: int = 20, tags: int = 5, steps: int = 10) -> float:
    t.manual_seed(0)
    feats_layer = t.nn.Linear(8, tags)
    transitions = t.nn.Parameter(t.randn(tags, tags))
    optimizer = t.optim.SGD([*feats_layer.parameters(), transitions], lr=0.01)
    sentence = t.randn(words, 8)

    def log_sum_exp(vec: Any) -> Any:
        best = vec[0, int(t.max(vec, 1)[1].item())]
        return best + t.log(t.sum(t.exp(vec - best.view(1, -1).expand(1, vec.size(1)))))

    loss = None
    for _ in range(steps):
        forward = t.full((1, tags), -10000.0)
        forward[0][0] = 0.0
        for feat in feats_layer(sentence):
            alphas = [log_sum_exp(forward + transitions[tag].view(1, -1)
                                  + feat[tag].view(1, -1).expand(1, tags)).view(1)
                      for tag in range(tags)]
            forward = t.cat(alphas).view(1, -1)
        loss = log_sum_exp(forward)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return float(loss.item())


def gpt(t: Any, block_size: int) -> Any:
    nn, functional = t.nn, t.nn.functional
    vocab, n_embd, n_head, n_layer = 65, 64, 4, 2

    class Head(nn.Module):
        def __init__(self, size: int) -> None:
            super().__init__()
            self.key = nn.Linear(n_embd, size, bias=False)
            self.query = nn.Linear(n_embd, size, bias=False)
            self.value = nn.Linear(n_embd, size, bias=False)
            self.register_buffer("tril", t.tril(t.ones(block_size, block_size)))

        def forward(self, x: Any) -> Any:
            length = x.shape[1]
            k, q = self.key(x), self.query(x)
            scores = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5
            scores = scores.masked_fill(self.tril[:length, :length] == 0, float("-inf"))
            return functional.softmax(scores, dim=-1) @ self.value(x)

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.heads = nn.ModuleList([Head(n_embd // n_head) for _ in range(n_head)])
            self.proj = nn.Linear(n_embd, n_embd)
            self.ffwd = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.ReLU(),
                                      nn.Linear(4 * n_embd, n_embd))
            self.ln1, self.ln2 = nn.LayerNorm(n_embd), nn.LayerNorm(n_embd)

        def forward(self, x: Any) -> Any:
            h = self.ln1(x)
            x = x + self.proj(t.cat([head(h) for head in self.heads], dim=-1))
            return x + self.ffwd(self.ln2(x))

    class GPT(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tok = nn.Embedding(vocab, n_embd)
            self.pos = nn.Embedding(block_size, n_embd)
            self.blocks = nn.Sequential(*[Block() for _ in range(n_layer)])
            self.ln_f = nn.LayerNorm(n_embd)
            self.lm_head = nn.Linear(n_embd, vocab)

        def forward(self, idx: Any) -> Any:
            x = self.tok(idx) + self.pos(t.arange(idx.shape[1]))
            return self.lm_head(self.ln_f(self.blocks(x)))

        def generate(self, idx: Any, new_tokens: int) -> Any:
            for _ in range(new_tokens):
                logits = self(idx[:, -block_size:])[:, -1, :]
                probs = functional.softmax(logits, dim=-1)
                idx = t.cat((idx, t.multinomial(probs, num_samples=1)), dim=1)
            return idx

    t.manual_seed(0)
    return GPT().eval()


def generate(t: Any, block_size: int, new_tokens: int) -> int:
    model = gpt(t, block_size)
    with t.no_grad():
        out = model.generate(t.zeros((1, 1), dtype=t.long), new_tokens)
    return len(out[0].tolist())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("framework", choices=["torch", "fnnet"])
    parser.add_argument("--loops", default="bigram,reads,generate,episodes,crf",
                        help="comma-separated subset")
    parser.add_argument("--words", type=int, default=500)
    args = parser.parse_args()
    if args.framework == "torch":
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        import torch as t

        t.set_num_threads(1)
    else:
        import fnnet.torch as t  # type: ignore[no-redef]
    runs = {"bigram": lambda: bigram(t, args.words), "reads": lambda: reads(t, 40),
            "generate (block 64, 40 tokens)": lambda: generate(t, 64, 40),
            "generate (block 16, 100 tokens)": lambda: generate(t, 16, 100),
            "episodes (50 actions)": lambda: episodes(t, 50),
            "episodes (100 actions)": lambda: episodes(t, 100),
            "episodes (200 actions)": lambda: episodes(t, 200),
            "crf": lambda: crf(t)}
    wanted = args.loops.split(",")
    for name, run in runs.items():
        if name.split(" ")[0] not in wanted:
            continue
        if args.framework == "fnnet":
            t.reset_compile_stats()
        start = time.perf_counter()
        result = run()
        line = f"{name}: {time.perf_counter() - start:.2f} s ({result})"
        if args.framework == "fnnet":
            stats = t.compile_stats()
            line += (f" [{stats['compiles']} compiles, {stats['hits']} hits"
                     f"{', then op by op' if stats['eager'] else ''}; windows "
                     f"{stats['windows']['compiles']} compiled, {stats['windows']['runs']} runs]")
        print(line, flush=True)


if __name__ == "__main__":
    main()
