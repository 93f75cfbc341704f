"""Fine-tuning a small decoder the way recent LLM code does: grouped-query attention
through ``F.scaled_dot_product_attention(..., enable_gqa=True)``, a fused projection cut
with ``split(split_size=[...])``, marks on parameters (``p._no_weight_decay = True``) that
``configure_optimizers`` reads with getattr beside the ``inspect.signature`` check for
AdamW's ``fused``, LoRA adapters on the frozen base (``requires_grad_(False)``), the
adapter's state by name, its merge into the base weight in place under ``no_grad``, and
the model's size from ``dtype.itemsize``. Tokens come from numpy."""

import inspect

import numpy as np
import torch
import torch.nn.functional as F
from _harness import fixed_init
from torch import nn

vocab, dim, heads, kv_heads = 16, 16, 4, 2
head_dim = dim // heads


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = nn.RMSNorm(dim)
        self.qkv = nn.Linear(dim, dim + 2 * kv_heads * head_dim, bias=False)
        self.out = nn.Linear(dim, dim, bias=False)

    def forward(self, x):
        b, t, _ = x.shape
        q, k, v = self.qkv(self.norm(x)).split(
            split_size=[dim, kv_heads * head_dim, kv_heads * head_dim], dim=-1)
        q = q.view(b, t, heads, head_dim).transpose(1, 2)
        k, v = (z.view(b, t, kv_heads, head_dim).transpose(1, 2) for z in (k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
        return x + self.out(y.transpose(1, 2).reshape(b, t, dim))


class LoRA(nn.Module):
    def __init__(self, base, rank=2, alpha=4.0):
        super().__init__()
        self.base, self.scale = base, alpha / rank
        self.lora_a = nn.Parameter(torch.linspace(-0.2, 0.2, rank * base.in_features)
                                   .view(rank, base.in_features))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank))

    def forward(self, x):
        return self.base(x) + x @ self.lora_a.T @ self.lora_b.T * self.scale


model = fixed_init(nn.Sequential(nn.Embedding(vocab, dim), Block(), Block(), nn.Linear(dim, vocab)))
for name, p in model.named_parameters():
    if p.dim() < 2 or name.startswith("0."):
        p._no_weight_decay = True
print([n for n, p in model.named_parameters() if getattr(p, "_no_weight_decay", False)])
size = sum(p.numel() * p.dtype.itemsize for p in model.parameters())
print(f"{size / 1024:.2f} KiB", "fused" in inspect.signature(torch.optim.AdamW).parameters)

tokens = torch.from_numpy(np.random.default_rng(3).integers(0, vocab, (4, 9)))
inputs, targets = tokens[:, :-1], tokens[:, 1:]


def loss_of(m):
    return F.cross_entropy(m(inputs).reshape(-1, vocab), targets.reshape(-1))


def configure_optimizers(m, lr):
    params = [p for p in m.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if not getattr(p, "_no_weight_decay", False)],
               "weight_decay": 0.1},
              {"params": [p for p in params if getattr(p, "_no_weight_decay", False)],
               "weight_decay": 0.0}]
    print([len(g["params"]) for g in groups])
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.95))


optimizer = configure_optimizers(model, 1e-2)
for step in range(3):  # pretraining
    loss = loss_of(model)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print("pretrain", step, round(loss.item(), 4))

model.requires_grad_(False)
for block in (model[1], model[2]):
    block.qkv = LoRA(block.qkv)
optimizer = configure_optimizers(model, 2e-2)
for step in range(3):  # fine-tuning the adapters only
    loss = loss_of(model)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print("finetune", step, round(loss.item(), 4), model[1].qkv.base.weight.requires_grad)

adapter = {k: v for k, v in model.state_dict().items() if "lora_" in k}
print(sorted(adapter), [tuple(v.shape) for v in adapter.values()])
with torch.no_grad():
    before = loss_of(model)
    for block in (model[1], model[2]):
        lora = block.qkv
        lora.base.weight += lora.lora_b @ lora.lora_a * lora.scale
        block.qkv = lora.base
    print(round(before.item(), 4), round(loss_of(model).item(), 4))
