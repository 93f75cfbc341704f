"""PyTorch's errors for operands of different element types where PyTorch does not
promote: matrix products, linear and convolution layers, recurrent layers, embeddings.

JAX would promote a ``Long`` input against a ``Float`` weight and compute; PyTorch raises,
and a program run under both must fail at the same line with the same words. Each check
takes the operands as recorded (tensors, or ``None`` for a missing bias) and raises
before anything is recorded.
"""

from __future__ import annotations

from typing import Any

from fnnet.torch._conv_transpose_checks import check_conv_transpose_shapes
from fnnet.torch._dtypes import dtype, scalar_name

#: the C++ type names PyTorch's kernels print ("long int != float"), by dtype name
C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
           "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int",
           "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
           "bool": "bool", "complex64": "c10::complex<float>",
           "complex128": "c10::complex<double>"}


def _is_tensor(t: Any) -> bool:
    # by its dtype, so that the tensor module can use these checks
    return isinstance(getattr(t, "dtype", None), dtype)


def _name(t: Any) -> str:
    return str(t.dtype.name)


def _scalar(t: Any) -> str:
    return scalar_name(t.dtype)


def _c(t: Any) -> str:
    return C_NAMES.get(_name(t), _name(t))


def _same(*tensors: Any) -> bool:
    return len({_name(t) for t in tensors if _is_tensor(t)}) <= 1


def _m1_m2(a: Any, b: Any) -> RuntimeError:
    return RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_c(a)} != "
                        f"{_c(b)}")


def check_matmul(a: Any, b: Any, *static: Any) -> None:
    """``a @ b`` (``matmul``, ``mm``, ``bmm``, ``mv``, ``dot``) of two element types: the
    error of the kernel PyTorch dispatches to for these ranks."""
    if not (_is_tensor(a) and _is_tensor(b)) or _same(a, b):
        return
    ra, rb = a.dim(), b.dim()
    if ra == 1 and rb == 1:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{_scalar(a)} and {_scalar(b)}")
    if rb == 1:
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got "
                           f"{_scalar(b)}, {_scalar(a)}, and {_scalar(b)}")
    if rb >= 3:
        raise RuntimeError(f"expected scalar type {_scalar(a)} but found {_scalar(b)}")
    raise _m1_m2(a, b)


def check_linear(input: Any, weight: Any, bias: Any = None, *static: Any) -> None:
    """``linear(input, weight, bias)``: with a bias PyTorch computes ``addmm`` (its
    ``mat1``/``mat2`` message), without one a matrix product."""
    if _same(input, weight, bias):
        return
    if not _is_tensor(bias):
        raise _m1_m2(input, weight)
    if not _same(input, weight):
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_scalar(input)} "
                           f"and {_scalar(weight)}")
    raise RuntimeError(f"self and mat2 must have the same dtype, but got {_scalar(bias)} "
                       f"and {_scalar(weight)}")


def check_conv(input: Any, weight: Any, bias: Any = None, *static: Any) -> None:
    """A convolution's input, weight and bias: the bias is compared first."""
    if _is_tensor(bias) and not _same(input, bias):
        raise RuntimeError(f"Input type ({_c(input)}) and bias type ({_c(bias)}) should be "
                           f"the same")
    if not _same(input, weight):
        raise RuntimeError(f"expected scalar type {_scalar(input)} but found {_scalar(weight)}")
    if len(static) >= 4 and _is_tensor(weight):
        _check_conv_options(weight.dim() - 2, *static[:4])


def _check_conv_options(dims: int, stride: Any, padding: Any, dilation: Any,
                        groups: Any) -> None:
    """PyTorch's RuntimeErrors for a convolution's stride, padding, dilation and groups
    out of their ranges (``dims`` spatial dimensions; an int stands for all of them)."""
    def each(value: Any) -> tuple[Any, ...]:
        return tuple(value) if isinstance(value, (tuple, list)) else (value,) * dims

    if any(s <= 0 for s in each(stride)):
        raise RuntimeError("non-positive stride is not supported")
    if not isinstance(padding, str) and any(p < 0 for p in each(padding)):
        raise RuntimeError("negative padding is not supported")
    if any(d <= 0 for d in each(dilation)):  # conv1d runs as a 2-D convolution there
        shown = [1, *each(dilation)] if dims == 1 else list(each(dilation))
        raise RuntimeError(f"dilation should be greater than zero, but got {shown}")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")


def check_conv_transpose(input: Any, weight: Any, bias: Any = None, *static: Any) -> None:
    """A transposed convolution's operands: their shapes where the settings are given
    (``static``: stride, padding, output_padding, groups, dilation; PyTorch checks them
    before the element types), then the element types, the weight's first."""
    if len(static) >= 5:
        check_conv_transpose_shapes(input, weight, bias, *static[:5])
    check_conv(input, weight)
    check_conv(input, weight, bias)


def check_rnn(input: Any, weight: Any) -> None:
    """A recurrent layer's input against its first weight (PyTorch's ValueError)."""
    if not _same(input, weight):
        raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype "
                         f"({weight.dtype}). Convert input: input.to({weight.dtype}), or "
                         f"convert model: model.to({input.dtype})")


def check_index_dtype(indices: Any, op: str) -> None:
    """``embedding``/``embedding_bag`` indices must be ``Long`` or ``Int``."""
    if not _is_tensor(indices) or _name(indices) in ("int64", "int32"):
        return
    got = "CPUBoolType" if _name(indices) == "bool" else indices.type()
    raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                       f"following scalar types: Long, Int; but got {got} instead (while "
                       f"checking arguments for {op})")
