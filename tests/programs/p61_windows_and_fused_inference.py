"""A forecaster over sliding windows, deployed with its BatchNorm folded away: windows
taken with Tensor.unfold (views of the series, so normalising the series in place
afterwards reaches them), a Conv1d + BatchNorm1d + Linear model trained on them, then
torch.nn.utils.fuse_conv_bn_eval for inference, checked against the unfused model.
The series comes from numpy."""

import numpy as np
import torch
from _harness import fixed_init
from torch import nn
from torch.nn.utils import fuse_conv_bn_eval

t = np.arange(80, dtype=np.float32)
series = torch.from_numpy(np.sin(0.3 * t) + 0.01 * t)
windows = series.unfold(0, 9, 3)  # [24, 9]: 8 inputs and the value to forecast
print(windows.shape, windows.stride(), windows[1, :3])
series.sub_(series.mean()).div_(series.std())  # the windows see the normalised values
print(windows[1, :3])
x, y = windows[:, :8].unsqueeze(1), windows[:, 8]


class Forecaster(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 4, 3, bias=False)  # the BatchNorm after it centres anyway
        self.bn = nn.BatchNorm1d(4)
        self.head = nn.Linear(24, 1)

    def forward(self, x):
        return self.head(torch.tanh(self.bn(self.conv(x))).flatten(1)).squeeze(-1)


model = fixed_init(Forecaster())
optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
for epoch in range(6):
    loss = nn.functional.mse_loss(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print(epoch, round(loss.item(), 5))

model.eval()
fused = nn.Sequential(fuse_conv_bn_eval(model.conv, model.bn), nn.Tanh(), nn.Flatten(),
                      model.head)
with torch.no_grad():
    plain, folded = model(x), fused(x).squeeze(-1)
print(fused[0].bias, torch.allclose(plain, folded, atol=1e-5))
print(round((plain - y).abs().mean().item(), 5), folded[:4])
