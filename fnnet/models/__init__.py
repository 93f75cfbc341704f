"""Models of the classic PyTorch tutorials, with PyTorch's parameter names."""

from fnnet.models.lenet import LeNet5
from fnnet.models.linear_models import LinearRegression, LogisticRegression
from fnnet.models.mlp import MLP
from fnnet.models.resnet import BasicBlock, ResNet, ResNet18, ResNet34

__all__ = ["BasicBlock", "LeNet5", "LinearRegression", "LogisticRegression", "MLP", "ResNet",
           "ResNet18", "ResNet34"]
