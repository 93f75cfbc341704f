"""A vision transformer in miniature as courses build one from the paper: patches cut with
``F.unfold`` (checked against the equivalent strided ``nn.Conv2d`` embedding), a learned
class token and position embeddings, ``nn.TransformerEncoder`` of pre-norm
``nn.TransformerEncoderLayer(batch_first=True, norm_first=True)`` blocks run through
``torch.utils.checkpoint`` to save memory, the class token's output classified, attention
weights read from an ``nn.MultiheadAttention`` with ``need_weights=True``, and AdamW with
a cosine schedule. Images of oriented bars come from numpy."""
# atol: 1e-4 (the key projection's bias has a zero gradient in exact arithmetic, softmax
# ignoring a shift shared by all keys: AdamW normalises rounding noise into steps)

import numpy as np
import torch
import torch.nn.functional as F
from _harness import fixed_init
from torch import nn
from torch.utils.checkpoint import checkpoint

rng = np.random.default_rng(77)
n, size, patch = 48, 8, 4
labels = np.arange(n) % 2
images = rng.normal(0, 0.3, (n, 1, size, size)).astype(np.float32)
images[labels == 0, 0, :, 3:5] += 1.0  # vertical bars
images[labels == 1, 0, 3:5, :] += 1.0  # horizontal bars
x_all = torch.from_numpy(images)
y_all = torch.from_numpy(labels.astype(np.int64))


class ViT(nn.Module):
    def __init__(self, dim=16, depth=2, heads=2, classes=2):
        super().__init__()
        self.embed = nn.Linear(patch * patch, dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.zeros(1, (size // patch) ** 2 + 1, dim))
        layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=32, dropout=0.0,
                                           activation="gelu", batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def patches(self, x):
        return F.unfold(x, kernel_size=patch, stride=patch).transpose(1, 2)

    def forward(self, x):
        tokens = self.embed(self.patches(x))
        tokens = torch.cat([self.cls_token.expand(len(x), -1, -1), tokens], dim=1) + self.pos
        for block in self.encoder.layers:
            tokens = checkpoint(block, tokens, use_reentrant=False)
        return self.head(self.norm(tokens[:, 0]))


model = fixed_init(ViT(), seed=13)
conv = nn.Conv2d(1, 16, patch, stride=patch)
with torch.no_grad():
    conv.weight.copy_(model.embed.weight.view(16, 1, patch, patch))
    conv.bias.copy_(model.embed.bias)
    by_conv = conv(x_all[:2]).flatten(2).transpose(1, 2)
    by_unfold = model.embed(model.patches(x_all[:2]))
print("unfold matches conv", torch.allclose(by_conv, by_unfold, atol=1e-5),
      tuple(model.patches(x_all).shape))

optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.05)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=12)
for epoch in range(4):
    model.train()
    total = 0.0
    for i in range(0, 36, 12):
        loss = F.cross_entropy(model(x_all[i:i + 12]), y_all[i:i + 12])
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        total += loss.item()
    model.eval()
    with torch.no_grad():
        acc = (model(x_all[36:]).argmax(1) == y_all[36:]).float().mean().item()
    print(f"epoch {epoch}: loss {total / 3:.4f} acc {acc:.3f} lr {scheduler.get_last_lr()[0]:.5f}")

attention = model.encoder.layers[0].self_attn
with torch.no_grad():
    tokens = model.embed(model.patches(x_all[:2]))
    tokens = torch.cat([model.cls_token.expand(2, -1, -1), tokens], dim=1) + model.pos
    normed = model.encoder.layers[0].norm1(tokens)
    out, weights = attention(normed, normed, normed, need_weights=True,
                             average_attn_weights=True)
print(tuple(out.shape), weights[0, 0], weights.sum(-1)[0])
