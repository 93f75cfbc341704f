"""Pure functional ops: the one implementation of each layer's arithmetic.

PyTorch equivalent: ``torch.nn.functional``. Activations are ``NCHW``.
"""

from fnnet.nn.functional.linear import linear

__all__ = ["linear"]
