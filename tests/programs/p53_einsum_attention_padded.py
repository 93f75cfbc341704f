"""A small transformer encoder written by hand for variable-length sequences, as a blog
post on attention does it: a Dataset of token lists of different lengths, a
``collate_fn`` that pads them with ``nn.utils.rnn.pad_sequence(batch_first=True,
padding_value=PAD)`` and returns lengths, a key-padding mask from ``arange`` compared
with the lengths, multi-head attention written with ``torch.einsum`` (``bhqd,bhkd->bhqk``)
and ``masked_fill(~mask, float('-inf'))``, sinusoidal positions in a buffer, LayerNorm,
masked mean pooling, and a task (does the sequence hold more 7s than 3s?)."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from _harness import fixed_init
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import DataLoader, Dataset

PAD, VOCAB = 0, 12


class CountingDataset(Dataset):
    def __init__(self, n, seed):
        rng = np.random.default_rng(seed)
        self.seqs = [rng.integers(1, VOCAB, rng.integers(3, 13)) for _ in range(n)]

    def __len__(self):
        return len(self.seqs)

    def __getitem__(self, idx):
        seq = torch.tensor(self.seqs[idx], dtype=torch.long)
        label = int((seq == 7).sum() > (seq == 3).sum())
        return seq, label


def collate_fn(batch):
    seqs, labels = zip(*batch, strict=False)
    lengths = torch.tensor([len(s) for s in seqs])
    padded = pad_sequence(seqs, batch_first=True, padding_value=PAD)
    return padded, lengths, torch.tensor(labels)


class MultiHeadSelfAttention(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        assert d_model % n_heads == 0
        self.h, self.d_k = n_heads, d_model // n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model, bias=False)
        self.out = nn.Linear(d_model, d_model)

    def forward(self, x, mask):
        B, T, C = x.shape
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        q, k, v = (t.view(B, T, self.h, self.d_k).transpose(1, 2) for t in (q, k, v))
        scores = torch.einsum("bhqd,bhkd->bhqk", q, k) / math.sqrt(self.d_k)
        scores = scores.masked_fill(~mask[:, None, None, :], float("-inf"))
        attn = F.softmax(scores, dim=-1)
        ctx = torch.einsum("bhqk,bhkd->bhqd", attn, v)
        ctx = ctx.transpose(1, 2).contiguous().view(B, T, C)
        return self.out(ctx), attn


class EncoderLayer(nn.Module):
    def __init__(self, d_model, n_heads, d_ff):
        super().__init__()
        self.attn = MultiHeadSelfAttention(d_model, n_heads)
        self.ff = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Linear(d_ff, d_model))
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)

    def forward(self, x, mask):
        a, weights = self.attn(self.norm1(x), mask)
        x = x + a
        x = x + self.ff(self.norm2(x))
        return x, weights


class Classifier(nn.Module):
    def __init__(self, d_model=32, n_heads=4, n_layers=2, max_len=16):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, d_model, padding_idx=PAD)
        pe = torch.zeros(max_len, d_model)
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)
        self.layers = nn.ModuleList([EncoderLayer(d_model, n_heads, 64) for _ in range(n_layers)])
        self.head = nn.Linear(d_model, 2)

    def forward(self, tokens, lengths):
        T = tokens.size(1)
        mask = torch.arange(T)[None, :] < lengths[:, None]
        x = self.embed(tokens) * math.sqrt(self.embed.embedding_dim) + self.pe[:T]
        for layer in self.layers:
            x, weights = layer(x, mask)
        m = mask.unsqueeze(-1).float()
        pooled = (x * m).sum(1) / m.sum(1)
        return self.head(pooled), weights


train_loader = DataLoader(CountingDataset(320, seed=1), batch_size=32, collate_fn=collate_fn)
test_loader = DataLoader(CountingDataset(96, seed=2), batch_size=48, collate_fn=collate_fn)
tokens, lengths, labels = next(iter(train_loader))
print(tokens.shape, lengths[:6].tolist(), labels[:6].tolist(), tokens[0].tolist())

model = fixed_init(Classifier(), seed=12)
with torch.no_grad():
    model.embed.weight[PAD].zero_()
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
for epoch in range(4):
    model.train()
    total, n = 0.0, 0
    for tokens, lengths, labels in train_loader:
        logits, _ = model(tokens, lengths)
        loss = F.cross_entropy(logits, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.item() * labels.size(0)
        n += labels.size(0)
    model.eval()
    correct = 0
    with torch.no_grad():
        for tokens, lengths, labels in test_loader:
            logits, weights = model(tokens, lengths)
            correct += (logits.argmax(-1) == labels).sum().item()
    accuracy = correct / len(test_loader.dataset)
    print(f"epoch {epoch} train loss {total / n:.4f} test acc {accuracy:.4f}")

print("attention shape", tuple(weights.shape))
print("weights on padding", weights[0, 0, :, lengths[0]:].sum().item())
print("rows sum to one", torch.allclose(weights.sum(-1)[:, :, :lengths.min()], torch.ones(1)))
print(weights[0, 0, 0, :lengths[0]])
