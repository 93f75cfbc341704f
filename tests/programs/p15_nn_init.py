"""nn.init: deterministic initialisers exactly, random ones within their bounds."""

import math

import torch
from _harness import normal
from torch import nn

layer = nn.Linear(6, 6)
nn.init.eye_(layer.weight)
nn.init.constant_(layer.bias, 0.1)
x = torch.from_numpy(normal(3, 6, seed=9))
print("identity layer:", torch.allclose(layer(x), x + 0.1))
nn.init.zeros_(layer.bias)
nn.init.ones_(layer.weight)
print(layer(x).sum().item())
big = nn.Linear(100, 50)
nn.init.xavier_uniform_(big.weight)
print("xavier bound:", big.weight.abs().max().item() <= math.sqrt(6 / 150))
nn.init.kaiming_normal_(big.weight, mode="fan_out", nonlinearity="relu")
print("kaiming std ~", round(big.weight.std().item() / math.sqrt(2 / 50), 1))
nn.init.uniform_(big.bias, -0.5, 0.5)
print("uniform in range:", big.bias.min().item() >= -0.5, big.bias.max().item() < 0.5)
print("gain:", nn.init.calculate_gain("tanh"), nn.init.calculate_gain("leaky_relu", 0.2))
del big  # random values: PyTorch's and fnnet's PRNGs differ


def init_weights(m):
    if isinstance(m, nn.Linear):
        nn.init.constant_(m.weight, 0.01)
        nn.init.zeros_(m.bias)


net = nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 2))
net.apply(init_weights)
print(net(x))
