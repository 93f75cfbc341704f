"""A character-level MLP language model written from scratch, as a "build it yourself"
course does it in a notebook: a vocabulary from a word list, contexts of 3 characters,
an embedding table indexed by the batch (``C[X]``), weights as plain tensors with
``requires_grad`` set in a loop, a hand-written BatchNorm with running statistics updated
under ``no_grad``, manual SGD on ``p.data`` with a learning-rate decay, an evaluation
function decorated with ``@torch.no_grad()``, and greedy sampling that appends to a
context list. Weights and minibatches come from numpy (the PRNGs differ)."""

import random

import numpy as np
import torch
import torch.nn.functional as F
from _harness import normal

syllables = ["ka", "ri", "mo", "le", "na", "to", "sa", "vi", "el", "an", "ju", "ph"]
rand = random.Random(3)
words = ["".join(rand.choice(syllables) for _ in range(rand.randint(1, 3))) for _ in range(60)]
chars = sorted(set("".join(words)))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi["."] = 0
itos = {i: s for s, i in stoi.items()}
vocab_size = len(itos)
block_size = 3
print("vocabulary", vocab_size, "".join(chars))


def build_dataset(words):
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + ".":
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    X = torch.tensor(X)
    Y = torch.tensor(Y)
    print(tuple(X.shape), tuple(Y.shape))
    return X, Y


rand.shuffle(words)
n1 = int(0.8 * len(words))
Xtr, Ytr = build_dataset(words[:n1])
Xdev, Ydev = build_dataset(words[n1:])

n_embd, n_hidden = 8, 48
C = torch.from_numpy(normal(vocab_size, n_embd, seed=1))
fan_in = n_embd * block_size
W1 = torch.from_numpy(normal(fan_in, n_hidden, seed=2)) * (5 / 3) / fan_in**0.5
W2 = torch.from_numpy(normal(n_hidden, vocab_size, seed=3)) * 0.1
b2 = torch.zeros(vocab_size)
bngain = torch.ones((1, n_hidden))
bnbias = torch.zeros((1, n_hidden))
bnmean_running = torch.zeros((1, n_hidden))
bnstd_running = torch.ones((1, n_hidden))
parameters = [C, W1, W2, b2, bngain, bnbias]
print("parameters", sum(p.nelement() for p in parameters))
for p in parameters:
    p.requires_grad = True

batches = np.random.default_rng(4).integers(0, Xtr.shape[0], (40, 32))
lossi = []
for i in range(40):
    ix = torch.tensor(batches[i])
    Xb, Yb = Xtr[ix], Ytr[ix]
    emb = C[Xb]
    embcat = emb.view(emb.shape[0], -1)
    hpreact = embcat @ W1
    bnmeani = hpreact.mean(0, keepdim=True)
    bnstdi = hpreact.std(0, keepdim=True)
    hpreact = bngain * (hpreact - bnmeani) / bnstdi + bnbias
    with torch.no_grad():
        bnmean_running = 0.9 * bnmean_running + 0.1 * bnmeani
        bnstd_running = 0.9 * bnstd_running + 0.1 * bnstdi
    h = torch.tanh(hpreact)
    logits = h @ W2 + b2
    loss = F.cross_entropy(logits, Yb)
    for p in parameters:
        p.grad = None
    loss.backward()
    lr = 0.2 if i < 30 else 0.02
    for p in parameters:
        p.data += -lr * p.grad
    lossi.append(loss.log10().item())
    if i % 10 == 0:
        saturated = (h.abs() > 0.97).float().mean().item()
        print(f"{i:4d}/40: loss {loss.item():.5f} saturated {saturated:.4f}")
print("mean log10 loss", sum(lossi) / len(lossi))
print("running mean", bnmean_running[0, :3])
print("W1 grad std", W1.grad.std().item(), "C rows", (C.grad.abs().sum(1) > 0).sum().item())


@torch.no_grad()
def split_loss(split):
    x, y = {"train": (Xtr, Ytr), "val": (Xdev, Ydev)}[split]
    emb = C[x]
    hpreact = emb.view(emb.shape[0], -1) @ W1
    hpreact = bngain * (hpreact - bnmean_running) / bnstd_running + bnbias
    logits = torch.tanh(hpreact) @ W2 + b2
    loss = F.cross_entropy(logits, y)
    print(split, loss.item(), loss.requires_grad)


split_loss("train")
split_loss("val")

for start in range(3):
    out = []
    context = [0] * (block_size - 1) + [start + 1]
    while True:
        emb = C[torch.tensor([context])]
        hpreact = emb.view(1, -1) @ W1
        hpreact = bngain * (hpreact - bnmean_running) / bnstd_running + bnbias
        logits = torch.tanh(hpreact) @ W2 + b2
        probs = F.softmax(logits, dim=1)
        ix = torch.argmax(probs, dim=1).item()
        context = context[1:] + [ix]
        out.append(ix)
        if ix == 0 or len(out) >= 8:
            break
    print(itos[start + 1] + "".join(itos[i] for i in out), round(probs.max().item(), 5))
