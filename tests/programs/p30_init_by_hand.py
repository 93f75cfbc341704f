"""Initialisation by hand, as model code in the wild writes it: model.apply(init_fn)
with Tensor.normal_/zero_/fill_ under no_grad, nn.init.trunc_normal_ for embeddings,
and checks of the statistics (the random values themselves differ between PRNGs)."""

import math

import torch
from _harness import fixed_init, labels
from torch import nn


class TinyTransformerish(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(50, 16)
        self.norm = nn.LayerNorm(16)
        self.mlp = nn.Sequential(nn.Linear(16, 64), nn.GELU(), nn.Linear(64, 16))
        self.head = nn.Linear(16, 3)

    def forward(self, idx):
        h = self.embed(idx)
        h = h + self.mlp(self.norm(h))
        return self.head(h.mean(dim=1))


def init_weights(module):
    if isinstance(module, nn.Linear):
        with torch.no_grad():
            module.weight.normal_(mean=0.0, std=0.02)
            if module.bias is not None:
                module.bias.zero_()
    elif isinstance(module, nn.Embedding):
        nn.init.trunc_normal_(module.weight, std=0.02, a=-0.04, b=0.04)
    elif isinstance(module, nn.LayerNorm):
        with torch.no_grad():
            module.weight.fill_(1.0)
            module.bias.fill_(0.0)


model = TinyTransformerish()
model.apply(init_weights)
w = model.mlp[0].weight
print("linear std ~ 0.02:", abs(w.std().item() - 0.02) < 0.002)
print("linear mean ~ 0:", abs(w.mean().item()) < 0.002)
print("biases zero:", all(m.bias.abs().sum().item() == 0 for m in model.modules()
                          if isinstance(m, nn.Linear)))
e = model.embed.weight
print("embedding within [-0.04, 0.04]:", e.min().item() >= -0.04, e.max().item() <= 0.04)
print("still leaves that require grad:", all(p.is_leaf and p.requires_grad
                                             for p in model.parameters()))
with torch.no_grad():
    model.head.weight.uniform_(-1 / math.sqrt(16), 1 / math.sqrt(16))
print("uniform bound:", model.head.weight.abs().max().item() <= 0.25)
try:
    model.head.weight.normal_()
except RuntimeError as error:
    print("outside no_grad:", error)

# the same model from fixed values trains identically under both backends
fixed_init(model, seed=30)
model.apply(lambda m: m.bias.data.fill_(0.01) if isinstance(m, nn.Linear) else None)
idx = torch.from_numpy(labels(24 * 5, 50, seed=31).reshape(24, 5))
y = torch.from_numpy(labels(24, 3, seed=32))
opt = torch.optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.01)
for _ in range(8):
    loss = nn.functional.cross_entropy(model(idx), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
print(f"loss after 8 steps {loss.item():.5f}")
noise = torch.empty(1000).normal_(0, 1)
print("noise moments:", round(noise.mean().item(), 0) == 0, round(noise.std().item(), 0))
del noise
