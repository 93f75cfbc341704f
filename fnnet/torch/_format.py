"""``repr`` of tensors in PyTorch's style: ``tensor([1.0000, 2.5000])``."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from fnnet.torch import _dtypes

if TYPE_CHECKING:
    from fnnet.torch.tensor import Tensor


@dataclasses.dataclass
class PrintOptions:
    """How tensors print (PyTorch's ``set_printoptions`` fields)."""

    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None  # None: scientific notation where the values need it


_PROFILES = {"default": PrintOptions(), "short": PrintOptions(2, 1000, 2, 80),
             "full": PrintOptions(4, sys.maxsize, 3, 80)}
#: the options in force, as PyTorch's are global to the process
OPTIONS = PrintOptions()


def set_printoptions(precision: int | None = None, threshold: float | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """Sets how tensors print: digits after the point, the element count above which
    a tensor is summarised with ``edgeitems`` at each end, the line width and
    scientific notation (None: where needed). ``profile`` (``"default"``, ``"short"``,
    ``"full"``) sets the first four at once.

    PyTorch equivalent: ``torch.set_printoptions``.
    """
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {sorted(_PROFILES)}, "
                             f"got {profile!r}")
        base = _PROFILES[profile]
        OPTIONS.precision, OPTIONS.threshold = base.precision, base.threshold
        OPTIONS.edgeitems, OPTIONS.linewidth = base.edgeitems, base.linewidth
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            setattr(OPTIONS, name, value)
    OPTIONS.sci_mode = sci_mode


def _summarized(values: np.ndarray) -> np.ndarray:
    """The values a summarized print shows (``edgeitems`` from each end of every long
    dimension), or all of them where the print is not summarized."""
    if values.size <= OPTIONS.threshold:
        return values
    edge = OPTIONS.edgeitems
    for axis, size in enumerate(values.shape):
        if size > 2 * edge:
            values = np.take(values, np.r_[0:edge, size - edge:size], axis=axis)
    return values


def _float_formatter(values: np.ndarray) -> Callable[[Any], str]:
    # As PyTorch: the mode and the column width come from the nonzero finite values
    # printed only (zeros, infs and NaNs are padded to it but never widen it).
    flat = _summarized(values).ravel()
    shown = flat[np.isfinite(flat) & (flat != 0)]
    digits = OPTIONS.precision
    int_mode, sci = True, False
    if shown.size:
        big, small = float(np.abs(shown).max()), float(np.abs(shown).min())
        int_mode = bool(np.all(shown == np.ceil(shown)))
        sci = big / small > 1e3 or big > 1e8 or small < 1e-4 \
            if OPTIONS.sci_mode is None else bool(OPTIONS.sci_mode)
    if sci:
        def fmt(v: Any) -> str:
            return f"{v:.{digits}e}"
    elif int_mode:
        def fmt(v: Any) -> str:
            return f"{v:.0f}." if np.isfinite(v) else f"{v:.0f}"
    else:
        def fmt(v: Any) -> str:
            return f"{v:.{digits}f}"
    width = max((len(fmt(v)) for v in shown), default=1)
    return lambda v: fmt(v).rjust(width)


def _formatter(values: np.ndarray) -> Callable[[Any], str]:
    """Each value as printed, padded to the width of the widest value printed."""
    if values.dtype.kind == "f":
        return _float_formatter(values)
    if values.dtype.kind == "c":
        return _complex_formatter(values)
    if values.dtype.kind == "b":  # PyTorch pads to " True" only beside a False
        width = 5 if not _summarized(values).all() else 4
        return lambda v: str(bool(v)).rjust(width)
    width = max(len(str(v)) for v in _summarized(values).ravel().tolist())
    return lambda v: str(v).rjust(width)


def _complex_formatter(values: np.ndarray) -> Callable[[Any], str]:
    """As PyTorch: the real and the imaginary parts each formatted as a float tensor of
    their own, joined by the imaginary part's sign (``1.0000-2.5000j``)."""
    real, imag = _float_formatter(values.real), _float_formatter(values.imag)

    def fmt(v: Any) -> str:
        im = imag(v.imag).lstrip() + "j"
        return real(v.real) + (im if im[0] in "+-" else "+" + im)

    return fmt


def _body(values: np.ndarray, fmt: Callable[[Any], str], width: int, indent: int,
          summarize: bool) -> str:
    """The bracketed values of ``values`` (at least 1-D), laid out as PyTorch lays them
    out: a row holds (linewidth - indent) // (width + 2) entries, the " ..." of a
    summarized row counting as one, and nested rows are indented one more column."""
    edge = OPTIONS.edgeitems
    cut = summarize and len(values) > 2 * edge
    if values.ndim == 1:
        items = [fmt(v) for v in (values[:edge] if cut else values).tolist()]
        if cut:
            items += [" ..."] + [fmt(v) for v in values[len(values) - edge:].tolist()]
        per_line = max(1, (OPTIONS.linewidth - indent) // (width + 2))
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    rows = range(edge) if cut else range(len(values))
    parts = [_body(values[i], fmt, width, indent + 1, summarize) for i in rows]
    if cut:
        parts += ["..."] + [_body(values[i], fmt, width, indent + 1, summarize)
                            for i in range(len(values) - edge, len(values))]
    return "[" + ("," + "\n" * (values.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def format_tensor(tensor: Tensor, prefix: str = "tensor(") -> str:
    """PyTorch's ``repr`` of a tensor (4 decimals, padded columns, dtype/grad suffixes)."""
    grad_fn = tensor.grad_fn  # named before the read below, which may free the graph
    array = np.asarray(tensor._value())
    suffixes = []
    dtype = _dtypes.from_np(array.dtype)
    # an empty tensor has no values to tell an int64 or bool one by, so PyTorch names
    # every dtype but the default there
    if dtype not in (_dtypes.float32, _dtypes.complex64, _dtypes.int64, _dtypes.bool_) or \
            (array.size == 0 and dtype is not _dtypes.float32):
        suffixes.append(f"dtype={dtype}")
    if array.size == 0:
        body = "[]"
        if array.ndim > 1:
            suffixes.insert(0, f"size={tuple(array.shape)}")
    else:
        body = _values_text(array, len(prefix))
    if grad_fn is not None:
        # the class's name, as PyTorch prints (CopySlices, not torch::autograd::CopySlices)
        suffixes.append(f"grad_fn=<{type(grad_fn).__name__}>")
    elif tensor.requires_grad:
        suffixes.append("requires_grad=True")
    return _with_suffixes(prefix + body, suffixes, len(prefix))


def _values_text(array: np.ndarray, indent: int) -> str:
    """The values of a nonempty ``array`` as PyTorch lays them out after a prefix of
    ``indent`` characters."""
    values = array.astype(np.float64) if array.dtype.kind == "f" or \
        _dtypes.from_np(array.dtype) is _dtypes.bfloat16 else array
    fmt = _formatter(values)
    if values.ndim == 0:
        return fmt(values.item())
    width = max(len(fmt(v)) for v in _summarized(values).ravel().tolist())
    return _body(values, fmt, width, indent, values.size > OPTIONS.threshold)


def format_sparse(tensor: Any) -> str:
    """PyTorch's ``repr`` of a sparse COO tensor: its indices and values, then its size,
    nnz, dtype (where not a default one), layout and gradient suffixes, the first on a
    line of its own."""
    indent = len("tensor(")
    parts = []
    for name, inner in (("indices", tensor._indices()), ("values", tensor._values())):
        array = np.asarray(inner.detach()._value())
        prefix = f"{name}=tensor("
        text = _values_text(array, indent + len(prefix)) if array.size else \
            f"[], size={tuple(array.shape)}"
        parts.append(prefix + text + ")")
    suffixes = [f"size={tuple(tensor.shape)}", f"nnz={tensor._nnz()}"]
    dtype = tensor.dtype
    if not any(dtype is d for d in (_dtypes.float32, _dtypes.complex64, _dtypes.int64,
                                    _dtypes.bool_)):
        suffixes.append(f"dtype={dtype}")
    suffixes.append(f"layout={tensor.layout}")
    if tensor.grad_fn is not None:
        suffixes.append(f"grad_fn=<{type(tensor.grad_fn).__name__}>")
    elif tensor.requires_grad:
        suffixes.append("requires_grad=True")
    text = "tensor(" + (",\n" + " " * indent).join(parts)
    return _with_suffixes(text, suffixes, indent, force_newline=True)


def _with_suffixes(text: str, suffixes: list[str], indent: int,
                   force_newline: bool = False) -> str:
    """``text`` closed with ``, suffix`` each, a suffix that would pass the line width
    (or the first, with ``force_newline``) starting a line of its own, indented under
    the values (as PyTorch's)."""
    parts = [text]
    line = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if force_newline or line + len(suffix) + 2 > OPTIONS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            line = indent + len(suffix)
            force_newline = False
        else:
            parts.append(", " + suffix)
            line += len(suffix) + 2
    return "".join(parts) + ")"
