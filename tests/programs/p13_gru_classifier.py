"""A two-layer GRU classifying sequences by their last hidden state, with AdamW."""

import torch
from _harness import fixed_init, labels, normal
from torch import nn

X = torch.from_numpy(normal(10, 16, 5, seed=7))  # [T, N, features]
y = torch.from_numpy(labels(16, 3, seed=8))


class GRUNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(5, 10, num_layers=2)
        self.out = nn.Linear(10, 3)

    def forward(self, x):
        _, h = self.gru(x)
        return self.out(h[-1])


model = fixed_init(GRUNet())
opt = torch.optim.AdamW(model.parameters(), lr=0.01)
for step in range(20):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(X), y)
    loss.backward()
    opt.step()
    if step % 4 == 3:
        print(step, round(loss.item(), 6))
