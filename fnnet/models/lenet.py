"""LeNet-5, as in PyTorch's "Neural Networks" tutorial."""

from __future__ import annotations

from fnnet import nn
from fnnet.nn import functional as F
from fnnet.nn.module import Bound
from fnnet.typing import Array


class LeNet5(nn.Module):
    """Two 5x5 convolutions with max-pooling, then three fully connected layers.

    Input ``[N, in_channels, 32, 32]`` (pad 28x28 MNIST by 2); output ``[N, num_classes]``
    logits. Layers: ``conv1`` (1->6, k5), ``conv2`` (6->16, k5), ``fc1`` (400->120),
    ``fc2`` (120->84), ``fc3`` (84->num_classes), ReLU after each but the last.

    PyTorch equivalent: the ``Net`` of PyTorch's 60-minute blitz, with
    ``F.max_pool2d(F.relu(self.conv1(x)), 2)`` and ``x.view(-1, 16 * 5 * 5)``.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1) -> None:
        for name, value in (("num_classes", num_classes), ("in_channels", in_channels)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"LeNet5: {name} must be a positive int, got {value!r}")
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.conv1 = nn.Conv2d(in_channels, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, m: Bound, x: Array) -> Array:
        """``x: [N, C, 32, 32] -> [N, num_classes]``."""
        x = F.max_pool2d(F.relu(m.conv1(x)), 2)
        x = F.max_pool2d(F.relu(m.conv2(x)), 2)
        x = F.flatten(x, 1)
        x = F.relu(m.fc1(x))
        x = F.relu(m.fc2(x))
        logits: Array = m.fc3(x)
        return logits

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}"
