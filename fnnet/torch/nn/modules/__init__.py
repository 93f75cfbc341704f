"""fnnet.torch's modules, each wrapping the fnnet layer or loss of the same name."""

from fnnet.torch.nn.modules.activation import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from fnnet.torch.nn.modules.container import ModuleList, Sequential
from fnnet.torch.nn.modules.conv import Conv2d
from fnnet.torch.nn.modules.linear import Identity, Linear
from fnnet.torch.nn.modules.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from fnnet.torch.nn.modules.misc import BatchNorm1d, BatchNorm2d, Dropout, Flatten
from fnnet.torch.nn.modules.module import Module
from fnnet.torch.nn.modules.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d

__all__ = [
    "AdaptiveAvgPool2d", "AvgPool2d", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d",
    "BatchNorm2d", "Conv2d", "CrossEntropyLoss", "Dropout", "Flatten", "Identity", "L1Loss",
    "Linear", "LogSoftmax", "MSELoss", "MaxPool2d", "Module", "ModuleList", "NLLLoss", "ReLU",
    "Sequential", "Sigmoid", "SmoothL1Loss", "Softmax", "Tanh",
]
