"""Padded sequences and a masked loss: boolean masks select the real tokens (x[mask]),
masked writes clean the padding (x[mask] = 0), torch.where with one argument and
nonzero find positions, and the gradient flows only through the selected entries."""

import numpy as np
import torch
from _harness import fixed_init, normal
from torch import nn

lengths = torch.tensor([5, 3, 6, 2])
N, T, F = 4, 6, 3
x = torch.from_numpy(normal(N, T, F, seed=29))
target = torch.from_numpy(normal(N, T, seed=30))
mask = torch.arange(T)[None, :] < lengths[:, None]  # [N, T] True on real tokens
print(mask)
print("real tokens", mask.sum().item(), "padding", (~mask).sum().item())

x[~mask] = 0.0  # clean the padding
print("padding is zero:", bool((x[~mask] == 0).all()))
rows, cols = torch.where(~mask)
print("padding positions", list(zip(rows.tolist(), cols.tolist(), strict=True)))
print("first padded step per sequence", torch.nonzero(~mask[:, -1]).flatten().tolist())

model = fixed_init(nn.Sequential(nn.Linear(F, 8), nn.Tanh(), nn.Linear(8, 1)), seed=29)
opt = torch.optim.SGD(model.parameters(), lr=0.2)
for step in range(20):
    pred = model(x).squeeze(-1)  # [N, T]
    loss = ((pred[mask] - target[mask]) ** 2).mean()  # only the real tokens count
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 5 == 0:
        print(f"step {step} masked mse {loss.item():.6f}")

# the gradient of a masked read reaches only the selected entries
w = torch.from_numpy(np.arange(12, dtype=np.float32).reshape(3, 4)).requires_grad_()
selected = w[w % 3 == 0]
print("selected", selected)
(selected * selected).sum().backward()
print(w.grad)
big = torch.masked_select(w.detach(), w.detach() > 8)
print("masked_select", big, big.shape)
clipped = w.detach().clone()
clipped[clipped > 6] = torch.tensor([-1.0, -2.0, -3.0, -4.0, -5.0])
print(clipped)
clipped[:, torch.tensor([True, False, True, False])] = 0.5
print(clipped)
