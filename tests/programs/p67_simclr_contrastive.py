"""Self-supervised contrastive learning in the SimCLR manner: two augmented views of each
signal made with tensor operations only (a random crop as ``torch.roll`` by a shift, a
gain, additive noise and a flip picked by ``torch.where``), an encoder with a projection
head, the NT-Xent loss built from a normalised similarity matrix whose diagonal is masked
with ``fill_diagonal_``, a temperature and ``F.cross_entropy`` over the positives, then a
linear probe trained on the frozen encoder's features. Signals come from numpy."""

import numpy as np
import torch
import torch.nn.functional as F
from _harness import fixed_init
from torch import nn

rng = np.random.default_rng(67)
n, length = 32, 24
classes = np.arange(n) % 2
t = np.linspace(0, 1, length)
freq = np.where(classes == 0, 2.0, 5.0)[:, None]
signals = torch.from_numpy(np.sin(2 * np.pi * freq * t + rng.uniform(0, 6, (n, 1)))
                           .astype(np.float32))
targets = torch.from_numpy(classes.astype(np.int64))
aug_rng = np.random.default_rng(0)


def augment(x):
    shift = int(aug_rng.integers(-4, 5))
    gain = torch.from_numpy(aug_rng.uniform(0.7, 1.3, (len(x), 1)).astype(np.float32))
    noise = torch.from_numpy(aug_rng.normal(0, 0.1, x.shape).astype(np.float32))
    flip = torch.from_numpy(aug_rng.random((len(x), 1)) < 0.5)
    x = torch.roll(x, shifts=shift, dims=1) * gain + noise
    return torch.where(flip, x.flip(1), x)


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv1d(1, 8, 5, padding=2), nn.ReLU(),
                                      nn.Conv1d(8, 8, 5, padding=2), nn.ReLU(),
                                      nn.AdaptiveAvgPool1d(1), nn.Flatten())
        self.projection = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 8))

    def forward(self, x):
        h = self.features(x.unsqueeze(1))
        return h, self.projection(h)


def nt_xent(z1, z2, temperature=0.5):
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    sim = z @ z.T / temperature
    sim.fill_diagonal_(float("-inf"))
    b = z1.shape[0]
    positives = torch.cat([torch.arange(b, 2 * b), torch.arange(0, b)])
    return F.cross_entropy(sim, positives)


encoder = fixed_init(Encoder(), seed=7)
optimizer = torch.optim.Adam(encoder.parameters(), lr=3e-3, weight_decay=1e-4)
for epoch in range(6):
    total = 0.0
    for i in range(0, n, 16):
        batch = signals[i:i + 16]
        _, z1 = encoder(augment(batch))
        _, z2 = encoder(augment(batch))
        loss = nt_xent(z1, z2)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
    print(f"epoch {epoch}: nt-xent {total / 2:.4f}")

encoder.requires_grad_(False)
with torch.no_grad():
    features, _ = encoder(signals)
features = (features - features.mean(0)) / (features.std(0) + 1e-6)
probe = fixed_init(nn.Linear(8, 2), seed=8)
probe_opt = torch.optim.LBFGS(probe.parameters(), lr=0.5, max_iter=20)


def closure():
    probe_opt.zero_grad()
    loss = F.cross_entropy(probe(features), targets)
    loss.backward()
    return loss


for step in range(2):
    loss = probe_opt.step(closure)
    print(f"probe {step}: {loss.item():.4f}")
accuracy = (probe(features).argmax(1) == targets).float().mean()
print("linear probe accuracy", accuracy.item(), encoder.features[0].weight.requires_grad)
