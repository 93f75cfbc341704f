"""Device-agnostic code: pick the accelerator if there is one, move model and data."""

import torch
from _harness import fixed_init, normal
from torch import nn

device = (torch.accelerator.current_accelerator().type
          if torch.accelerator.is_available() else "cpu")
legacy = "cuda" if torch.cuda.is_available() else \
    "mps" if torch.backends.mps.is_available() else "cpu"
print("same choice:", device == legacy)
torch.backends.cudnn.benchmark = True
model = fixed_init(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))).to(device)
X = torch.from_numpy(normal(16, 4, seed=18)).to(device)
Y = torch.from_numpy(normal(16, 1, seed=19)).to(device=device, dtype=torch.float32)
print("param on chosen device type:", next(model.parameters()).device.type == device)
dev = torch.device(device)
print("device object:", dev.type == device)
opt = torch.optim.SGD(model.parameters(), lr=0.05)
for _ in range(10):
    loss = nn.functional.mse_loss(model(X), Y)
    opt.zero_grad()
    loss.backward()
    opt.step()
print("final loss:", loss.item())
print("on cpu:", model(X).detach().cpu().numpy().shape)
