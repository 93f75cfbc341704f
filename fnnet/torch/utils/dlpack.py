"""``torch.utils.dlpack``: tensors to and from other libraries' arrays (numpy, JAX, CuPy,
PyTorch) through the DLPack protocol.

fnnet.torch's values are immutable JAX arrays, so ``from_dlpack`` copies where PyTorch's
shares the producer's memory: a later write to the numpy array (or torch tensor) it was
given does not reach the tensor.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from fnnet.torch._functions import tensor_argument
from fnnet.torch._graph import to_canonical
from fnnet.torch.tensor import Tensor, _wrap_value

#: DLPack's device type of the host's memory
_CPU = 1


class _Capsule:
    """A bare DLPack capsule (``to_dlpack``'s result) in the protocol's object form."""

    def __init__(self, capsule: Any) -> None:
        self._capsule = capsule

    def __dlpack__(self, **kwargs: Any) -> Any:
        return self._capsule

    def __dlpack_device__(self) -> tuple[int, int]:
        return (_CPU, 0)


def from_dlpack(ext_tensor: Any) -> Tensor:
    """A tensor with a copy of the values of ``ext_tensor``: an array of another library
    (anything with ``__dlpack__``) or a capsule from ``to_dlpack``.

    PyTorch equivalent: ``torch.from_dlpack`` / ``torch.utils.dlpack.from_dlpack``.
    """
    if type(ext_tensor).__name__ == "PyCapsule":
        ext_tensor = _Capsule(ext_tensor)
    if not hasattr(ext_tensor, "__dlpack__"):
        raise TypeError(f"from_dlpack: expected an object with __dlpack__ (an array of "
                        f"numpy, JAX, CuPy or PyTorch) or a DLPack capsule, got "
                        f"{type(ext_tensor).__name__}")
    device = ext_tensor.__dlpack_device__()[0] if hasattr(ext_tensor, "__dlpack_device__") \
        else _CPU
    if device == _CPU:
        return _wrap_value(to_canonical(np.array(np.from_dlpack(ext_tensor))))
    return _wrap_value(jnp.array(jnp.from_dlpack(ext_tensor), copy=True))


def to_dlpack(data: Tensor) -> Any:
    """A DLPack capsule of ``data``'s value (which the consumer must not write).

    Raises:
        TypeError: ``data`` is not a Tensor (PyTorch's words).

    PyTorch equivalent: ``torch.utils.dlpack.to_dlpack`` (``torch.to_dlpack``).
    """
    return tensor_argument(data, "_to_dlpack", "data", 1).__dlpack__()
