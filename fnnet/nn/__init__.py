"""Layers as pure init/apply pairs, named and laid out like PyTorch's."""

from fnnet.nn import functional, init
from fnnet.nn.activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from fnnet.nn.batchnorm import BatchNorm1d, BatchNorm2d
from fnnet.nn.container import ModuleList, Sequential
from fnnet.nn.conv import Conv2d, ConvTranspose2d
from fnnet.nn.conv1d import Conv1d
from fnnet.nn.dropout import Dropout
from fnnet.nn.errors import StateDictError
from fnnet.nn.flatten import Flatten
from fnnet.nn.linear import Linear
from fnnet.nn.module import Bound, Module
from fnnet.nn.normalization import LayerNorm, RMSNorm
from fnnet.nn.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from fnnet.nn.rnn import GRU, LSTM, RNN
from fnnet.nn.sparse import Embedding
from fnnet.nn.state_dict import load_state_dict, state_dict
from fnnet.nn.volumetric import (
    AdaptiveAvgPool3d,
    AvgPool3d,
    BatchNorm3d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose3d,
    MaxPool3d,
)

__all__ = [
    "AdaptiveAvgPool2d",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Bound",
    "Conv1d",
    "Conv2d",
    "ConvTranspose2d",
    "Embedding",
    "GELU",
    "GRU",
    "LSTM",
    "LayerNorm",
    "RMSNorm",
    "AdaptiveAvgPool3d",
    "AvgPool3d",
    "BatchNorm3d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose3d",
    "MaxPool3d",
    "LeakyReLU",
    "Dropout",
    "Flatten",
    "Linear",
    "LogSoftmax",
    "MaxPool2d",
    "Module",
    "ModuleList",
    "RNN",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "StateDictError",
    "Tanh",
    "functional",
    "init",
    "load_state_dict",
    "state_dict",
]
