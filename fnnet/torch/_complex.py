"""Complex tensors (``torch.complex64``, what the FFTs return): their parts ``real`` and
``imag``, ``angle``, ``conj``, ``view_as_real``/``view_as_complex`` and the constructors
``torch.complex``/``torch.polar``; each is a recorded op, so a loss through the parts of
a spectrum backpropagates.

``real``, ``imag``, ``view_as_real`` and ``view_as_complex`` are views, as PyTorch's: an
in-place write into ``z.real`` or ``view_as_real(z)`` changes ``z`` (see ``_views``), and
their strides are PyTorch's. ``conj`` conjugates at once (``is_conj()`` stays False). For
a real tensor ``real`` and ``conj`` are the tensor itself and ``angle`` is 0 or pi, as
PyTorch's are.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from fnnet.torch import _dtypes, _views
from fnnet.torch.tensor import Tensor, _op

_REAL_PARTS = ("float16", "float32", "float64")


def _complex(x: Tensor) -> bool:
    return bool(x.dtype.is_complex)


def _same(input: Tensor) -> Tensor:
    return input


def _real_part(x: Any) -> Any:
    return jnp.real(x)


def _imag_part(x: Any) -> Any:
    return jnp.imag(x)


def _conjugate(x: Any) -> Any:
    return jnp.conj(x)


def real(input: Tensor) -> Tensor:
    """The real part, a view (the tensor itself when it is real). PyTorch: ``torch.real``."""
    if not _complex(input):
        return input
    return _views.link(_op(_real_part, (), input, who="real"), input, ("part", "real"))


def imag(input: Tensor) -> Tensor:
    """The imaginary part of a complex tensor. PyTorch equivalent: ``torch.imag``.

    Raises:
        RuntimeError: ``input`` is real (PyTorch's words).
    """
    if not _complex(input):
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return _views.link(_op(_imag_part, (), input, who="imag"), input, ("part", "imag"))


def conj(input: Tensor) -> Tensor:
    """The complex conjugate (the tensor itself when it is real).

    PyTorch equivalent: ``torch.conj`` / ``torch.conj_physical``.
    """
    return _op(_conjugate, (), input, who="conj") if _complex(input) else input


def _angle(x: Any) -> Any:
    if jnp.iscomplexobj(x):
        return jnp.angle(x)
    x = x if jnp.issubdtype(x.dtype, jnp.inexact) else x.astype(jnp.float32)
    # 0 for a non-negative number, pi for a negative one, NaN for NaN; constant, so its
    # gradient is 0 everywhere (NaN included), as PyTorch's for real numbers
    x = jax.lax.stop_gradient(x)
    return jnp.where(jnp.isnan(x), x, jnp.where(x < 0, jnp.pi, 0.0).astype(x.dtype))


def angle(input: Tensor) -> Tensor:
    """The argument of each element, in ``(-pi, pi]``. PyTorch equivalent: ``torch.angle``."""
    return _op(_angle, (), input, who="angle")


def is_complex(input: Tensor) -> bool:
    """Whether the dtype is complex. PyTorch equivalent: ``torch.is_complex``."""
    return _complex(input)


def _as_real(x: Any) -> Any:
    return jnp.stack([jnp.real(x), jnp.imag(x)], axis=-1)


def view_as_real(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
    """``[..., 2]``: the real and imaginary parts of a complex tensor along a new last
    dimension (a copy, where PyTorch's is a view). PyTorch: ``torch.view_as_real``.

    Raises:
        RuntimeError: ``input`` is real (PyTorch's words).
    """
    _tensor_argument("view_as_real", "input", input)
    if not _complex(input):
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return _views.link(_op(_as_real, (), input, who="view_as_real"), input, ("as_real",))


def _as_complex(x: Any) -> Any:
    return jax.lax.complex(x[..., 0], x[..., 1])


def view_as_complex(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
    """A complex tensor from ``input: [..., 2]`` holding real and imaginary parts (a copy,
    where PyTorch's is a view). PyTorch equivalent: ``torch.view_as_complex``.

    Raises:
        RuntimeError: ``input`` is not float16/32/64 or its last dimension is not 2.
    """
    _tensor_argument("view_as_complex", "input", input)
    if input.dtype.name not in _REAL_PARTS:
        raise RuntimeError(f"view_as_complex is only supported for half, float and double "
                           f"tensors, but got a tensor of scalar type: "
                           f"{_dtypes.scalar_name(input.dtype)}")
    if input.dim() == 0 or input.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if input.dtype.name == "float16":
        raise NotImplementedError("fnnet.torch has no complex32 (chalf) dtype: "
                                  "view_as_complex takes float32 or float64 parts")
    return _views.link(_op(_as_complex, (), input, who="view_as_complex"), input,
                       ("as_complex",))


def take(tensor: Tensor, step: tuple[Any, ...]) -> Tensor:
    """``tensor``'s view after a complex-to-real step (see ``_views``)."""
    if step[0] == "part":
        return real(tensor) if step[1] == "real" else imag(tensor)
    return view_as_real(tensor) if step[0] == "as_real" else view_as_complex(tensor)


def put(tensor: Tensor, step: tuple[Any, ...], value: Tensor) -> Tensor:
    """``tensor`` with its view after a complex-to-real step replaced by ``value``."""
    if step[0] == "part":
        parts = (value, imag(tensor)) if step[1] == "real" else (real(tensor), value)
        return _op(_from_parts, (), *parts, who="complex")
    if step[0] == "as_real":
        return _op(_as_complex, (), value, who="view_as_complex")
    return _op(_as_real, (), value, who="view_as_real")


def _parts_check(a: Tensor, b: Tensor) -> None:
    """PyTorch's checks of ``torch.complex``'s and ``torch.polar``'s two real arguments."""
    if a.dtype.name not in _REAL_PARTS or b.dtype.name not in _REAL_PARTS:
        raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got "
                           f"{_dtypes.scalar_name(a.dtype)} and {_dtypes.scalar_name(b.dtype)}")
    if a.dtype != b.dtype:
        raise RuntimeError(f"Expected object of scalar type {_dtypes.scalar_name(a.dtype)} but "
                           f"got scalar type {_dtypes.scalar_name(b.dtype)} for second argument")
    if a.dtype.name == "float16":
        raise NotImplementedError("fnnet.torch has no complex32 (chalf) dtype: give float32 "
                                  "or float64 parts")


def _from_parts(re: Any, im: Any) -> Any:
    re, im = jnp.broadcast_arrays(re, im)
    return jax.lax.complex(re, im)


def _from_polar(r: Any, theta: Any) -> Any:
    return _from_parts(r * jnp.cos(theta), r * jnp.sin(theta))


def complex(real: Tensor, imag: Tensor, *, out: Any = None) -> Tensor:  # noqa: A001
    """``real + i imag`` (broadcast). PyTorch equivalent: ``torch.complex``.

    Raises:
        RuntimeError: the parts are not float tensors of one dtype (PyTorch's words).
    """
    return _of_two_parts("complex", _from_parts, ("real", real), ("imag", imag), out)


def polar(abs: Tensor, angle: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    """``abs * (cos(angle) + i sin(angle))`` (broadcast). PyTorch: ``torch.polar``.

    Raises:
        RuntimeError: the arguments are not float tensors of one dtype (PyTorch's words).
    """
    return _of_two_parts("polar", _from_polar, ("abs", abs), ("angle", angle), out)


def _of_two_parts(who: str, op: Any, first: tuple[str, Any], second: tuple[str, Any],
                  out: Any) -> Tensor:
    """``op`` of two real tensors (named arguments), after PyTorch's checks of them."""
    _no_out(who, out)
    for name, value in (first, second):
        _tensor_argument(who, name, value)
    _parts_check(first[1], second[1])
    return _op(op, (), first[1], second[1], who=who)


def _tensor_argument(who: str, name: str, value: Any) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{who}(): argument '{name}' must be Tensor, not "
                        f"{type(value).__name__}")


def _no_out(who: str, out: Any) -> None:
    if out is not None:
        raise NotImplementedError(f"fnnet.torch: torch.{who}(out=...) is not supported; use "
                                  f"the result")


def cfloat(self: Tensor, memory_format: Any = None) -> Tensor:
    """``self.to(torch.complex64)``. PyTorch equivalent: ``Tensor.cfloat``."""
    del memory_format
    return self.to(_dtypes.complex64)


def cdouble(self: Tensor, memory_format: Any = None) -> Tensor:
    """``self.to(torch.complex128)`` (complex64 unless JAX's x64 mode is on).

    PyTorch equivalent: ``Tensor.cdouble``.
    """
    del memory_format
    return self.to(_dtypes.complex128)


def install(namespace: dict[str, Any]) -> None:
    """Adds the methods and properties to :class:`Tensor` and the functions to
    ``namespace`` (``fnnet.torch``'s globals)."""
    Tensor.real = property(real)  # type: ignore[attr-defined]
    Tensor.imag = property(imag)  # type: ignore[attr-defined]
    for name in ("conj", "conj_physical", "resolve_conj"):
        setattr(Tensor, name, conj if name != "resolve_conj" else _same)
        namespace[name] = conj if name != "resolve_conj" else _same
    for fn in (angle, is_complex, cfloat, cdouble):
        setattr(Tensor, fn.__name__, fn)
    namespace.update(real=real, imag=imag, angle=angle, is_complex=is_complex,
                     view_as_real=view_as_real, view_as_complex=view_as_complex,
                     complex=complex, polar=polar, complex64=_dtypes.complex64,
                     complex128=_dtypes.complex128, cfloat=_dtypes.cfloat,
                     cdouble=_dtypes.cdouble)
