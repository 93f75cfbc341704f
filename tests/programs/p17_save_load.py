"""Saving and loading: a model's state_dict, an optimizer's, and resuming training."""

import os
import tempfile

import torch
from _harness import fixed_init, normal
from torch import nn

X = torch.from_numpy(normal(20, 3, seed=12))
Y = torch.from_numpy(normal(20, 2, seed=13))


def make():
    return nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2))


def train(model, opt, steps):
    for _ in range(steps):
        loss = nn.functional.mse_loss(model(X), Y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss.item()


model = fixed_init(make())
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
print("before saving:", train(model, optimizer, 5))
folder = tempfile.mkdtemp()
torch.save(model.state_dict(), os.path.join(folder, "model.pth"))
torch.save(optimizer.state_dict(), os.path.join(folder, "optim.pth"))
print("keys:", list(model.state_dict().keys()))

restored = make()
restored.load_state_dict(torch.load(os.path.join(folder, "model.pth")))
restored.eval()
with torch.no_grad():
    print("same outputs:", torch.allclose(restored(X), model(X)))
opt2 = torch.optim.Adam(restored.parameters(), lr=0.01)
opt2.load_state_dict(torch.load(os.path.join(folder, "optim.pth")))
restored.train()
print("resumed:", train(restored, opt2, 5))
print("continued:", train(model, optimizer, 5))
