"""What PyTorch's complex, sparse and layout queries answer for fnnet.torch's tensors,
which are all real and dense (strided): ``conj``, ``resolve_conj``, ``resolve_neg``,
``conj_physical``, ``real`` and ``to_dense`` return the tensor itself, as PyTorch's do for
a real strided tensor; ``imag`` raises PyTorch's error; ``is_conj``, ``is_neg``,
``is_sparse``, ``is_quantized``, ``is_meta``, ``is_mps`` are False; ``layout`` is
``torch.strided``; ``H``, ``mH`` and ``adjoint`` are transposes and ``angle`` is 0 or pi;
``is_same_size`` compares shapes and ``data_ptr`` gives the address PyTorch's layout of
the tensor would have.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from fnnet.torch._memory_format import TorchConstant
from fnnet.torch._strides import _replay
from fnnet.torch.tensor import Tensor, _op


class layout(TorchConstant):  # noqa: N801 - PyTorch's name
    """A tensor's memory layout. PyTorch equivalent: ``torch.layout``."""

    __slots__ = ()


#: the one layout of fnnet.torch's tensors (the sparse ones are not supported)
strided = layout("strided")


def _same(self: Tensor) -> Tensor:
    """The tensor itself: it is real and dense, so nothing to conjugate, negate or
    densify."""
    return self


def _false(self: Tensor) -> bool:
    return False


def imag(self: Tensor) -> Tensor:
    """PyTorch's error: fnnet.torch's tensors are real. PyTorch: ``Tensor.imag``."""
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")


def to_dense(self: Tensor, dtype: Any = None, *, masked_grad: Any = None) -> Tensor:
    """The tensor itself (it is dense), cast to ``dtype`` if given.

    PyTorch equivalent: ``Tensor.to_dense``.
    """
    del masked_grad
    return self if dtype is None else self.to(dtype)


def is_same_size(self: Tensor, other: Tensor) -> bool:
    """Whether both have the same shape. PyTorch equivalent: ``Tensor.is_same_size``."""
    if not isinstance(other, Tensor):
        raise TypeError(f"is_same_size(): argument 'other' (position 1) must be Tensor, not "
                        f"{type(other).__name__}")
    return tuple(self.shape) == tuple(other.shape)


def data_ptr(self: Tensor) -> int:
    """An address of the tensor's first element: the same for tensors viewing the same
    memory at the same place (``x.view(-1)``, ``x.t()``), ``itemsize`` apart per element
    of PyTorch's offset (``x[1]``); 0 for an empty tensor. Not a pointer to memory that
    can be read (JAX's arrays are not addressable so).

    PyTorch equivalent: ``Tensor.data_ptr``.
    """
    if self.numel() == 0:
        return 0
    link = getattr(self, "_view", None)
    root = None if link is None else link.cell()
    base = id(self._cell if root is None else root) * 16  # 16-byte aligned, as allocators
    offset: int = _replay(self)[1]
    return base + offset * int(self.element_size())


def _matrix_transpose(self: Tensor, who: str, least: str) -> Tensor:
    if self.dim() < 2:
        raise RuntimeError(f"tensor.{who} is only supported on {least}. Got {self.dim()}-D "
                           f"tensor.")
    return self.transpose(-2, -1)


def H(self: Tensor) -> Tensor:  # noqa: N802 - PyTorch's name
    """The conjugate transpose of a matrix: its transpose (the values are real).

    PyTorch equivalent: ``Tensor.H``.
    """
    if self.dim() not in (0, 2):
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got "
                           f"{self.dim()}-D tensor.{_BATCHES if self.dim() > 2 else ''}")
    return self if self.dim() == 0 else self.transpose(0, 1)


_BATCHES = " For batches of matrices, consider using tensor.mH"


def mH(self: Tensor) -> Tensor:  # noqa: N802 - PyTorch's name
    """The conjugate transpose of the last two dimensions: their transpose.

    PyTorch equivalent: ``Tensor.mH``.
    """
    return _matrix_transpose(self, "mH", "matrices or batches of matrices")


def adjoint(self: Tensor) -> Tensor:
    """PyTorch equivalent: ``Tensor.adjoint`` / ``torch.adjoint`` (``mH``)."""
    return _matrix_transpose(self, "adjoint()", "matrices or batches of matrices")


def _angle(x: Any) -> Any:
    x = x if jnp.issubdtype(x.dtype, jnp.inexact) else x.astype(jnp.float32)
    # 0 for a non-negative number, pi for a negative one, NaN for NaN; constant, so its
    # gradient is 0 everywhere (NaN included), as PyTorch's for real numbers
    x = jax.lax.stop_gradient(x)
    return jnp.where(jnp.isnan(x), x, jnp.where(x < 0, jnp.pi, 0.0).astype(x.dtype))


def angle(self: Tensor) -> Tensor:
    """The argument of each (real) element. PyTorch equivalent: ``torch.angle``."""
    return _op(_angle, (), self, who="angle")


def install(namespace: dict[str, Any]) -> None:
    """Adds the methods and properties to :class:`Tensor` and the functions to
    ``namespace`` (``fnnet.torch``'s globals)."""
    for name in ("conj", "resolve_conj", "resolve_neg", "conj_physical", "conj_physical_"):
        setattr(Tensor, name, _same)
        namespace[name] = _same
    for name in ("is_conj", "is_neg"):
        setattr(Tensor, name, _false)
        namespace[name] = _false
    for name in ("is_sparse", "is_quantized", "is_meta", "is_mps", "is_sparse_csr"):
        setattr(Tensor, name, property(_false))
    Tensor.real = property(_same)  # type: ignore[attr-defined]
    Tensor.imag = property(imag)  # type: ignore[attr-defined]
    Tensor.layout = property(lambda self: strided)  # type: ignore[attr-defined]
    for fn in (to_dense, is_same_size, data_ptr, adjoint, angle):
        setattr(Tensor, fn.__name__, fn)
    Tensor.H = property(H)  # type: ignore[attr-defined]
    Tensor.mH = property(mH)  # type: ignore[attr-defined]
    namespace.update(real=_same, imag=imag, is_same_size=is_same_size, layout=layout,
                     strided=strided, adjoint=adjoint, angle=angle)
