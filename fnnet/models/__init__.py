"""Models of the classic PyTorch tutorials, with PyTorch's parameter names."""

from fnnet.models.lenet import LeNet5
from fnnet.models.linear_models import LinearRegression, LogisticRegression
from fnnet.models.mlp import MLP

__all__ = ["LeNet5", "LinearRegression", "LogisticRegression", "MLP"]
