"""A character-level transformer written as a "GPT from scratch" lecture builds it: an
attention head with a ``tril`` buffer and ``masked_fill(..., float('-inf'))``, heads in a
``ModuleList`` joined with ``torch.cat``, LayerNorm, Dropout, position embeddings from
``torch.arange(T)``, ``get_batch`` stacking slices, ``estimate_loss`` under
``@torch.no_grad()`` between ``model.eval()`` and ``model.train()``, AdamW, a check
against ``F.scaled_dot_product_attention(is_causal=True)``, and greedy generation that
crops the context and concatenates each token. Batches come from numpy offsets."""

import numpy as np
import torch
import torch.nn as nn
from _harness import fixed_init
from torch.nn import functional as F

# tolerance: 1e-3 (AdamW's update divides by sqrt(v) + eps, 12 steps of float32 rounding)

text = "to be or not to be, that is the question: whether tis nobler in the mind. " * 4
chars = sorted(set(text))
vocab_size = len(chars)
stoi = {ch: i for i, ch in enumerate(chars)}
itos = {i: ch for i, ch in enumerate(chars)}
encode = lambda s: [stoi[c] for c in s]  # noqa: E731 - as the lecture writes it
decode = lambda l: "".join([itos[i] for i in l])  # noqa: E731, E741
data = torch.tensor(encode(text), dtype=torch.long)
n = int(0.9 * len(data))
train_data, val_data = data[:n], data[n:]
print(vocab_size, tuple(data.shape), data[:8].tolist())

batch_size, block_size, n_embd, n_head, n_layer, dropout = 4, 8, 16, 2, 1, 0.0
offsets = np.random.default_rng(5)


def get_batch(split):
    source = train_data if split == "train" else val_data
    ix = torch.tensor(offsets.integers(0, len(source) - block_size, (batch_size,)))
    x = torch.stack([source[i:i + block_size] for i in ix])
    y = torch.stack([source[i + 1:i + block_size + 1] for i in ix])
    return x, y


class Head(nn.Module):
    def __init__(self, head_size):
        super().__init__()
        self.key = nn.Linear(n_embd, head_size, bias=False)
        self.query = nn.Linear(n_embd, head_size, bias=False)
        self.value = nn.Linear(n_embd, head_size, bias=False)
        self.register_buffer("tril", torch.tril(torch.ones(block_size, block_size)))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        B, T, C = x.shape
        k, q, v = self.key(x), self.query(x), self.value(x)
        wei = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5
        wei = wei.masked_fill(self.tril[:T, :T] == 0, float("-inf"))
        wei = F.softmax(wei, dim=-1)
        wei = self.dropout(wei)
        return wei @ v


class MultiHeadAttention(nn.Module):
    def __init__(self, num_heads, head_size):
        super().__init__()
        self.heads = nn.ModuleList([Head(head_size) for _ in range(num_heads)])
        self.proj = nn.Linear(head_size * num_heads, n_embd)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        out = torch.cat([h(x) for h in self.heads], dim=-1)
        return self.dropout(self.proj(out))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.sa = MultiHeadAttention(n_head, n_embd // n_head)
        self.ffwd = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.ReLU(),
                                  nn.Linear(4 * n_embd, n_embd), nn.Dropout(dropout))
        self.ln1 = nn.LayerNorm(n_embd)
        self.ln2 = nn.LayerNorm(n_embd)

    def forward(self, x):
        x = x + self.sa(self.ln1(x))
        return x + self.ffwd(self.ln2(x))


class GPTLanguageModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.token_embedding_table = nn.Embedding(vocab_size, n_embd)
        self.position_embedding_table = nn.Embedding(block_size, n_embd)
        self.blocks = nn.Sequential(*[Block() for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab_size)

    def forward(self, idx, targets=None):
        B, T = idx.shape
        tok_emb = self.token_embedding_table(idx)
        pos_emb = self.position_embedding_table(torch.arange(T))
        x = self.ln_f(self.blocks(tok_emb + pos_emb))
        logits = self.lm_head(x)
        if targets is None:
            return logits, None
        B, T, C = logits.shape
        loss = F.cross_entropy(logits.view(B * T, C), targets.view(B * T))
        return logits, loss

    def generate(self, idx, max_new_tokens):
        for _ in range(max_new_tokens):
            idx_cond = idx[:, -block_size:]
            logits, _ = self(idx_cond)
            probs = F.softmax(logits[:, -1, :], dim=-1)
            idx_next = torch.argmax(probs, dim=-1, keepdim=True)
            idx = torch.cat((idx, idx_next), dim=1)
        return idx


model = fixed_init(GPTLanguageModel())
print(sum(p.numel() for p in model.parameters()), "parameters")
print(sorted(k for k in model.state_dict() if k.endswith("tril")))


@torch.no_grad()
def estimate_loss():
    out = {}
    model.eval()
    for split in ["train", "val"]:
        losses = torch.zeros(2)
        for k in range(2):
            X, Y = get_batch(split)
            _, loss = model(X, Y)
            losses[k] = loss.item()
        out[split] = losses.mean()
    model.train()
    return out


optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
for it in range(12):
    if it % 6 == 0 or it == 11:
        losses = estimate_loss()
        print(f"step {it}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}")
    xb, yb = get_batch("train")
    _, loss = model(xb, yb)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
print("last loss", loss.item())

head = model.blocks[0].sa.heads[0]
with torch.no_grad():
    x = model.token_embedding_table(xb)
    k, q, v = head.key(x), head.query(x), head.value(x)
    flash = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    print("sdpa matches the head", torch.allclose(flash, head(x), atol=1e-5))

context = torch.tensor([encode("to be")], dtype=torch.long)
print(repr(decode(model.generate(context, max_new_tokens=3)[0].tolist())))
