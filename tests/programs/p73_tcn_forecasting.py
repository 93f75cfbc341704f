"""Sequence forecasting with a temporal convolutional network, as the TCN paper's code and
the courses after it build one: causal ``nn.Conv1d`` layers padded by ``(k - 1) * dilation``
on both sides and chomped on the right so no output sees the future, dilations doubling
per block, ``weight_norm`` on every convolution, residual connections with a 1x1
convolution where the channel count changes, and a one-step-ahead forecast of a noisy
two-tone signal, checked for causality by perturbing a later input. The signal comes from
numpy."""

import numpy as np
import torch
import torch.nn.functional as F
from _harness import fixed_init
from torch import nn
from torch.nn.utils import weight_norm


class Chomp1d(nn.Module):
    def __init__(self, size):
        super().__init__()
        self.size = size

    def forward(self, x):
        return x[:, :, :-self.size].contiguous()


class TemporalBlock(nn.Module):
    def __init__(self, cin, cout, kernel_size, dilation):
        super().__init__()
        padding = (kernel_size - 1) * dilation
        self.net = nn.Sequential(
            weight_norm(nn.Conv1d(cin, cout, kernel_size, padding=padding, dilation=dilation)),
            Chomp1d(padding), nn.ReLU(),
            weight_norm(nn.Conv1d(cout, cout, kernel_size, padding=padding, dilation=dilation)),
            Chomp1d(padding), nn.ReLU())
        self.downsample = nn.Conv1d(cin, cout, 1) if cin != cout else None

    def forward(self, x):
        res = x if self.downsample is None else self.downsample(x)
        return F.relu(self.net(x) + res)


class TCN(nn.Module):
    def __init__(self, channels=(6, 6, 6), kernel_size=3):
        super().__init__()
        blocks, cin = [], 1
        for i, cout in enumerate(channels):
            blocks.append(TemporalBlock(cin, cout, kernel_size, dilation=2 ** i))
            cin = cout
        self.network = nn.Sequential(*blocks)
        self.head = nn.Linear(cin, 1)

    def forward(self, x):
        return self.head(self.network(x).transpose(1, 2)).squeeze(-1)


rng = np.random.default_rng(73)
t = np.arange(400)
series = (np.sin(2 * np.pi * t / 25) + 0.5 * np.sin(2 * np.pi * t / 7)
          + rng.normal(0, 0.1, t.shape)).astype(np.float32)
windows = np.stack([series[i:i + 33] for i in range(0, 360, 6)])
inputs = torch.from_numpy(windows[:, None, :-1])
targets = torch.from_numpy(windows[:, 1:])
train_x, train_y, test_x, test_y = inputs[:48], targets[:48], inputs[48:], targets[48:]

model = fixed_init(TCN(), seed=10)
print("receptive field", 1 + 2 * (3 - 1) * (1 + 2 + 4),
      sorted(k for k in model.state_dict() if k.startswith("network.0.net.0")))
optimizer = torch.optim.Adam(model.parameters(), lr=4e-3)
for epoch in range(6):
    model.train()
    perm = torch.from_numpy(np.random.default_rng(epoch).permutation(48))
    total = 0.0
    for i in range(0, 48, 16):
        idx = perm[i:i + 16]
        loss = F.mse_loss(model(train_x[idx]), train_y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
    model.eval()
    with torch.no_grad():
        test_loss = F.mse_loss(model(test_x), test_y)
    print(f"epoch {epoch}: train {total / 3:.5f} test {test_loss.item():.5f}")

with torch.no_grad():
    probe = test_x[:1].clone()
    before = model(probe)
    probe[0, 0, 20] += 1.0
    after = model(probe)
    changed = (after - before).abs() > 1e-6
print("outputs before step 20 unchanged", not changed[0, :20].any().item(),
      "first changed", changed[0].nonzero()[0].item())
