"""What PyTorch's conjugation, sparse and layout queries answer for fnnet.torch's tensors,
which are all dense (strided) and hold conjugates computed at once: ``resolve_neg`` and
``to_dense`` return the tensor itself, as PyTorch's do for a strided tensor; ``is_conj``,
``is_neg``, ``is_sparse``, ``is_quantized``, ``is_meta``, ``is_mps`` are False; ``layout``
is ``torch.strided``; ``H``, ``mH`` and ``adjoint`` are conjugate transposes;
``is_same_size`` compares shapes and ``data_ptr`` gives the address PyTorch's layout of
the tensor would have. The complex parts and ``conj`` live in ``_complex``.
"""

from __future__ import annotations

from typing import Any

from fnnet.torch._complex import conj
from fnnet.torch._functions import tensor_argument
from fnnet.torch._math_ops import in_place
from fnnet.torch._memory_format import TorchConstant
from fnnet.torch._strides import _replay
from fnnet.torch.tensor import Tensor


class layout(TorchConstant):  # noqa: N801 - PyTorch's name
    """A tensor's memory layout. PyTorch equivalent: ``torch.layout``."""

    __slots__ = ()


#: the layout of dense tensors (sparse COO tensors are ``_sparse_coo``'s)
strided = layout("strided")


def _same(input: Tensor) -> Tensor:
    """The tensor itself: it is real and dense, so nothing to conjugate, negate or
    densify."""
    return input


def _false(input: Tensor) -> bool:
    return False


def to_dense(self: Tensor, dtype: Any = None, *, masked_grad: Any = None) -> Tensor:
    """The tensor itself (it is dense), cast to ``dtype`` if given.

    PyTorch equivalent: ``Tensor.to_dense``.
    """
    del masked_grad
    return self if dtype is None else self.to(dtype)


def is_same_size(input: Tensor, other: Tensor) -> bool:
    """Whether both have the same shape. PyTorch equivalent: ``Tensor.is_same_size``."""
    tensor_argument(other, "is_same_size", "other", 1)
    return tuple(input.shape) == tuple(other.shape)


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
    return conj(self.transpose(-2, -1))


def H(self: Tensor) -> Tensor:  # noqa: N802 - PyTorch's name
    """The conjugate transpose of a matrix (its transpose when it is real).

    PyTorch equivalent: ``Tensor.H``.
    """
    if self.dim() not in (0, 2):
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got "
                           f"{self.dim()}-D tensor.{_BATCHES if self.dim() > 2 else ''}")
    return conj(self if self.dim() == 0 else self.transpose(0, 1))


_BATCHES = " For batches of matrices, consider using tensor.mH"


def mH(self: Tensor) -> Tensor:  # noqa: N802 - PyTorch's name
    """The conjugate transpose of the last two dimensions.

    PyTorch equivalent: ``Tensor.mH``.
    """
    return _matrix_transpose(self, "mH", "matrices or batches of matrices")


def adjoint(input: Tensor) -> Tensor:
    """PyTorch equivalent: ``Tensor.adjoint`` / ``torch.adjoint`` (``mH``)."""
    return _matrix_transpose(input, "adjoint()", "matrices or batches of matrices")


def conj_physical_(input: Tensor) -> Tensor:
    """PyTorch equivalent: ``torch.conj_physical_`` (``Tensor.conj_physical_``)."""
    out: Tensor = input.conj_physical_()
    return out


def install(namespace: dict[str, Any]) -> None:
    """Adds the methods and properties to :class:`Tensor` and the functions to
    ``namespace`` (``fnnet.torch``'s globals)."""
    Tensor.resolve_neg = _same  # type: ignore[attr-defined]
    namespace["resolve_neg"] = _same
    Tensor.conj_physical_ = in_place("conj_physical")  # type: ignore[attr-defined]
    for name in ("is_conj", "is_neg"):
        setattr(Tensor, name, _false)
        namespace[name] = _false
    for name in ("is_sparse", "is_quantized", "is_meta", "is_mps", "is_sparse_csr"):
        setattr(Tensor, name, property(_false))
    Tensor.layout = property(lambda self: strided)  # type: ignore[attr-defined]
    for fn in (to_dense, is_same_size, data_ptr, adjoint):
        setattr(Tensor, fn.__name__, fn)
    Tensor.H = property(H)  # type: ignore[attr-defined]
    Tensor.mH = property(mH)  # type: ignore[attr-defined]
    namespace.update(is_same_size=is_same_size, layout=layout, strided=strided,
                     adjoint=adjoint, conj_physical_=conj_physical_)
