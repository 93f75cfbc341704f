"""fnnet: PyTorch's training concepts as pure JAX functions."""

from fnnet import data, losses, nn, optim

__version__ = "0.1.0"

__all__ = ["data", "losses", "nn", "optim", "__version__"]
