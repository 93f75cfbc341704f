"""fnnet: PyTorch's training concepts as pure JAX functions."""

from fnnet import data, nn

__version__ = "0.1.0"

__all__ = ["data", "nn", "__version__"]
