"""A normalizing flow fitted to a two-moons density by maximum likelihood, as a course on
generative models builds RealNVP: affine coupling layers with alternating binary masks
(registered buffers), a scale network bounded by ``tanh``, the log-determinant summed from
the log-scales, an invertible 1x1 linear mixing layer whose log-determinant comes from
``torch.linalg.slogdet``, the standard-normal base density, the inverse pass checked to
reconstruct its input, and samples pushed back through the inverse. The data and the base
samples come from numpy."""

import math

import numpy as np
import torch
from _harness import fixed_init
from torch import nn

rng = np.random.default_rng(72)
angle = rng.uniform(0, math.pi, 128)
upper = rng.random(128) < 0.5
moons = np.stack([np.where(upper, np.cos(angle), 1 - np.cos(angle)),
                  np.where(upper, np.sin(angle), 0.5 - np.sin(angle))], axis=1)
data = torch.from_numpy((moons + rng.normal(0, 0.08, moons.shape)).astype(np.float32))


class Coupling(nn.Module):
    def __init__(self, mask, hidden=16):
        super().__init__()
        self.register_buffer("mask", mask)
        self.net = nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, 4))

    def forward(self, x):
        s, t = self.net(x * self.mask).chunk(2, dim=1)
        s = torch.tanh(s) * (1 - self.mask)
        t = t * (1 - self.mask)
        return x * torch.exp(s) + t, s.sum(dim=1)

    def inverse(self, y):
        s, t = self.net(y * self.mask).chunk(2, dim=1)
        s = torch.tanh(s) * (1 - self.mask)
        t = t * (1 - self.mask)
        return (y - t) * torch.exp(-s)


class Mix(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.tensor([[1.0, 0.3], [-0.2, 1.0]]))

    def forward(self, x):
        return x @ self.weight.T, torch.linalg.slogdet(self.weight).logabsdet.expand(len(x))

    def inverse(self, y):
        return torch.linalg.solve(self.weight, y.T).T


class RealNVP(nn.Module):
    def __init__(self):
        super().__init__()
        a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
        self.layers = nn.ModuleList([Coupling(a), Coupling(b), Mix(), Coupling(a), Coupling(b)])

    def forward(self, x):
        log_det = torch.zeros(len(x))
        for layer in self.layers:
            x, ld = layer(x)
            log_det = log_det + ld
        return x, log_det

    def inverse(self, z):
        for layer in reversed(self.layers):
            z = layer.inverse(z)
        return z

    def log_prob(self, x):
        z, log_det = self(x)
        base = -0.5 * (z ** 2).sum(dim=1) - math.log(2 * math.pi)
        return base + log_det


flow = fixed_init(RealNVP(), seed=9)
optimizer = torch.optim.Adam(flow.parameters(), lr=5e-3)
for epoch in range(6):
    total = 0.0
    for i in range(0, 128, 32):
        loss = -flow.log_prob(data[i:i + 32]).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
    print(f"epoch {epoch}: nll {total / 4:.4f}")

with torch.no_grad():
    z, _ = flow(data[:8])
    back = flow.inverse(z)
    print("inverse error below 1e-5", (back - data[:8]).abs().max().item() < 1e-5)
    sign, logabsdet = torch.linalg.slogdet(flow.layers[2].weight)
    print("mix", sign.item(), round(logabsdet.item(), 5), round(torch.det(flow.layers[2].weight)
                                                                .abs().log().item(), 5))
    samples = flow.inverse(torch.from_numpy(rng.standard_normal((256, 2)).astype(np.float32)))
    print("sample mean", samples.mean(0), "std", samples.std(0))
print(sorted(k for k in flow.state_dict() if k.endswith("mask")))
