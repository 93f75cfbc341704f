"""fnnet: PyTorch's training concepts as pure JAX functions."""

from fnnet import nn

__version__ = "0.1.0"

__all__ = ["nn", "__version__"]
