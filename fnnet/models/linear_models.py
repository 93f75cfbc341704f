"""Linear and logistic regression, the first models of every tutorial."""

from __future__ import annotations

from fnnet import nn
from fnnet.nn import functional as F
from fnnet.nn.module import Bound
from fnnet.typing import Array


class LinearRegression(nn.Module):
    """``y = x w^T + b`` with one ``Linear`` named ``linear``.

    PyTorch equivalent: ``class LinearRegression(nn.Module)`` with
    ``self.linear = nn.Linear(1, 1)``; train it with ``fnnet.losses.mse_loss``.
    """

    def __init__(self, in_features: int = 1, out_features: int = 1) -> None:
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, m: Bound, x: Array) -> Array:
        """``x: [N, in_features] -> [N, out_features]``."""
        y: Array = m.linear(x)
        return y


class LogisticRegression(nn.Module):
    """A ``Linear`` layer over flattened inputs, returning logits.

    With ``num_classes=1`` the output ``[N, 1]`` is the logit of the positive class
    (train with ``binary_cross_entropy_with_logits``; ``sigmoid`` gives probabilities).
    With more classes it is multinomial (softmax) regression, trained with
    ``cross_entropy``.

    PyTorch equivalent: ``torch.sigmoid(self.linear(x))`` with ``nn.BCELoss`` (fnnet
    keeps the sigmoid inside the loss, which is the numerically stable form).
    """

    def __init__(self, in_features: int, num_classes: int = 1) -> None:
        self.linear = nn.Linear(in_features, num_classes)

    def forward(self, m: Bound, x: Array) -> Array:
        """``x: [N, ...] -> [N, num_classes]`` logits."""
        logits: Array = m.linear(F.flatten(x, 1))
        return logits
