"""Layers as pure init/apply pairs, named and laid out like PyTorch's."""

from fnnet.nn import functional, init
from fnnet.nn.container import Sequential
from fnnet.nn.linear import Linear
from fnnet.nn.module import Bound, Module

__all__ = ["Bound", "Linear", "Module", "Sequential", "functional", "init"]
