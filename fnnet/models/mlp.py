"""Multi-layer perceptrons, as in the MNIST tutorials."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from fnnet import nn
from fnnet.nn import functional as F
from fnnet.nn.module import Bound
from fnnet.typing import Array

ACTIVATIONS = {"relu": F.relu, "sigmoid": F.sigmoid, "tanh": F.tanh}


class MLP(nn.Module):
    """Fully connected layers ``fc1 ... fcN`` over flattened inputs.

    Args:
        sizes: widths from input to output, e.g. ``(784, 128, 64, 10)``.
        activation: ``"relu"``, ``"sigmoid"``, ``"tanh"`` or None (a purely linear
            stack, as in the tutorial that leaves them out) between hidden layers.

    ``forward`` flattens everything after the batch axis first (``x.view(-1, 784)``).

    PyTorch equivalent::

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(784, 128)
                self.fc2 = nn.Linear(128, 64)
                self.fc3 = nn.Linear(64, 10)

            def forward(self, x):
                x = torch.relu(self.fc1(x.view(-1, 784)))
                x = torch.relu(self.fc2(x))
                return self.fc3(x)
    """

    def __init__(self, sizes: Sequence[int] = (784, 128, 64, 10),
                 activation: str | None = "relu") -> None:
        if isinstance(sizes, str | bytes) or not isinstance(sizes, Iterable):
            raise TypeError(f"MLP: sizes must be a sequence of layer widths, e.g. "
                            f"(784, 128, 10), got {type(sizes).__name__} {sizes!r}")
        sizes = tuple(sizes)
        if len(sizes) < 2 or any(not isinstance(s, int) or isinstance(s, bool) or s < 1
                                 for s in sizes):
            raise ValueError(f"MLP: sizes must be >= 2 positive ints, got {sizes}")
        if activation is not None and activation not in ACTIVATIONS:
            raise ValueError(
                f"MLP: activation must be one of {sorted(ACTIVATIONS)} or None, "
                f"got {activation!r}"
            )
        self.sizes = sizes
        self.activation = activation
        for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            setattr(self, f"fc{index + 1}", nn.Linear(fan_in, fan_out))

    def forward(self, m: Bound, x: Array) -> Array:
        """``x: [N, ...] with prod(...) = sizes[0] -> [N, sizes[-1]]``."""
        x = F.flatten(x, 1)
        layers = len(self.sizes) - 1
        for index in range(1, layers + 1):
            x = m.call(f"fc{index}", x)
            if self.activation is not None and index < layers:
                x = ACTIVATIONS[self.activation](x)
        return x

    def extra_repr(self) -> str:
        return f"sizes={self.sizes}, activation={self.activation!r}"
