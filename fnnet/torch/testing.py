"""``torch.testing``: :func:`assert_close`, which tests and exercises use to compare
tensors (shape, dtype, then values within PyTorch's default tolerances per dtype), and
:func:`make_tensor`, which makes random inputs for them.

PyTorch equivalent: ``torch.testing``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from fnnet.torch._make_tensor import make_tensor
from fnnet.torch.tensor import Tensor, Unsupported

__all__ = ["assert_allclose", "assert_close", "make_tensor"]

#: PyTorch's default (rtol, atol) per dtype
_TOLERANCES = {np.dtype(np.float16): (1e-3, 1e-5), np.dtype(np.float32): (1.3e-6, 1e-5),
               np.dtype(np.float64): (1e-7, 1e-7), np.dtype(np.complex64): (1.3e-6, 1e-5),
               np.dtype(np.complex128): (1e-7, 1e-7)}


class _Mismatch(Exception):
    """A failed comparison: the exception type and message PyTorch raises, and the path
    (keys and indices) to the failing item, which PyTorch names after the message."""

    def __init__(self, kind: type[Exception], message: str, path: tuple[Any, ...]) -> None:
        super().__init__(message)
        self.kind, self.message, self.path = kind, message, path

    def error(self, msg: str | None) -> Exception:
        if msg is not None:
            return self.kind(msg)
        where = "".join(str([item]) for item in self.path)
        return self.kind(self.message + (f"\n\nThe failure occurred for item {where}"
                                         if self.path else ""))


def _tolerances(*dtypes: np.dtype[Any]) -> tuple[float, float]:
    """The largest of the dtypes' default tolerances (integers and booleans: exact)."""
    pairs = [(1.6e-2, 1e-5) if d.name == "bfloat16" else _TOLERANCES.get(d, (0.0, 0.0))
             for d in dtypes]
    return max(r for r, _ in pairs), max(t for _, t in pairs)


def _mismatch_message(kind: str, rtol: float, atol: float, extra: str,
                      diffs: tuple[tuple[Any, str], tuple[Any, str]]) -> str:
    """PyTorch's ``_make_mismatch_msg``: "not equal" and no allowances where both
    tolerances are 0; ``diffs`` holds the absolute and relative difference and where."""
    equality = rtol == 0 and atol == 0
    lines = [f"{kind} are not {'equal' if equality else 'close'}!", "", extra]
    for (diff, at), name, tol in zip(diffs, ("absolute", "relative"), (atol, rtol),
                                     strict=True):
        head = f"Greatest {name} difference" if at else f"{name.title()} difference"
        lines.append(f"{head}: {diff}{at}" + ("" if equality else f" (up to {tol} allowed)"))
    return "\n".join(lines)


def _scalar_message(actual: Any, expected: Any, rtol: float, atol: float) -> str:
    diff = abs(actual - expected)
    rel = float("inf") if expected == 0 else diff / abs(expected)
    return _mismatch_message("Scalars", rtol, atol, f"Expected {expected} but got {actual}.",
                             ((diff, ""), (rel, "")))


def _compare_tensors(actual: Tensor, expected: Tensor, rtol: float | None, atol: float | None,
                     equal_nan: bool, check_dtype: bool, path: tuple[Any, ...]) -> None:
    if tuple(actual.shape) != tuple(expected.shape):
        raise _Mismatch(AssertionError, f"The values for attribute 'shape' do not match: "
                        f"{actual.shape} != {expected.shape}.", path)
    if check_dtype and actual.dtype is not expected.dtype:
        raise _Mismatch(AssertionError, f"The values for attribute 'dtype' do not match: "
                        f"{actual.dtype} != {expected.dtype}.", path)
    a = np.asarray(actual.detach().numpy())
    e = np.asarray(expected.detach().numpy())
    default_rtol, default_atol = _tolerances(a.dtype, e.dtype)
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    # compared in the dtype both promote to, as PyTorch's _promote_for_comparison
    # (an integer with a float: that float; integers and booleans subtract as int64)
    floating = [d for d in (a.dtype, e.dtype) if d.kind in "fc" or d.name == "bfloat16"]
    common = (np.promote_types(a.dtype, e.dtype) if len(floating) == 2 else
              floating[0] if floating else np.dtype(np.int64))
    a, e = a.astype(common), e.astype(common)
    # complex numbers compare by the modulus of their difference, as PyTorch's isclose
    wide = np.complex128 if common.kind == "c" else np.float64
    close = np.isclose(a.astype(wide), e.astype(wide), rtol=rtol, atol=atol,
                       equal_nan=equal_nan)
    if close.all():
        return
    if a.ndim == 0:
        raise _Mismatch(AssertionError, _scalar_message(a.item(), e.item(), rtol, atol), path)
    bad = int((~close).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = np.where(close, 0, np.abs(a - e))
        # an integer difference is divided in PyTorch's default float dtype, a complex
        # one in its parts' dtype
        scale = np.float32 if not floating else np.abs(np.zeros(0, common)).dtype
        rel = np.where(close, 0, diff.astype(scale) / np.abs(e).astype(scale))
    worst, worst_rel = (np.unravel_index(int(np.argmax(d.ravel())), a.shape)
                        for d in (diff, rel))
    raise _Mismatch(AssertionError, _mismatch_message(
        "Tensor-likes", rtol, atol,
        f"Mismatched elements: {bad} / {a.size} ({100 * bad / a.size:.1f}%)",
        ((diff[worst].item(), f" at index {tuple(int(i) for i in worst)}"),
         (rel[worst_rel].item(), f" at index {tuple(int(i) for i in worst_rel)}"))), path)


def _compare_numbers(actual: Any, expected: Any, rtol: float | None, atol: float | None,
                     equal_nan: bool, check_dtype: bool, path: tuple[Any, ...]) -> None:
    """PyTorch's BooleanPair and NumberPair: Python numbers compare as float64 (floats)
    or int64 (ints) values."""
    if isinstance(actual, bool) and isinstance(expected, bool):
        if actual is not expected:
            raise _Mismatch(AssertionError, f"Booleans mismatch: {actual} is not {expected}",
                            path)
        return
    if check_dtype and type(actual) is not type(expected):
        raise _Mismatch(AssertionError, f"The (d)types do not match: {type(actual)} != "
                        f"{type(expected)}.", path)
    if rtol is None or atol is None:
        rtol, atol = _tolerances(*(np.dtype(np.float64 if isinstance(v, float) else np.int64)
                                   for v in (actual, expected)))
    if actual == expected or (equal_nan and math.isnan(actual) and math.isnan(expected)):
        return
    if math.isfinite(abs(actual - expected)) and \
            abs(actual - expected) <= atol + rtol * abs(expected):
        return
    raise _Mismatch(AssertionError, _scalar_message(actual, expected, rtol, atol), path)


def _torch_type(value: Any) -> str:
    """``type(value)`` as PyTorch's messages print it: a tensor is ``torch.Tensor``."""
    return "<class 'torch.Tensor'>" if isinstance(value, Tensor) else str(type(value))


def _compare(actual: Any, expected: Any, rtol: float | None, atol: float | None,
             equal_nan: bool, check_dtype: bool, path: tuple[Any, ...]) -> None:
    """PyTorch's ``originate_pairs`` and pair comparisons, raising :class:`_Mismatch`."""
    if isinstance(actual, Sequence) and isinstance(expected, Sequence) and \
            not isinstance(actual, str) and not isinstance(expected, str):
        if len(actual) != len(expected):
            raise _Mismatch(AssertionError, f"The length of the sequences mismatch: "
                            f"{len(actual)} != {len(expected)}", path)
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            _compare(a, e, rtol, atol, equal_nan, check_dtype, (*path, i))
        return
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        if set(actual) != set(expected):
            raise _Mismatch(AssertionError, f"The keys of the mappings do not match:\n"
                            f"Missing keys in the actual mapping: "
                            f"{sorted(set(expected) - set(actual))}\nAdditional keys in the "
                            f"actual mapping: {sorted(set(actual) - set(expected))}", path)
        try:  # PyTorch compares in sorted key order where the keys sort
            keys = sorted(actual)
        except TypeError:
            keys = list(actual)
        for key in keys:
            _compare(actual[key], expected[key], rtol, atol, equal_nan, check_dtype,
                     (*path, key))
        return
    if isinstance(actual, (bool, int, float)) and isinstance(expected, (bool, int, float)):
        _compare_numbers(actual, expected, rtol, atol, equal_nan, check_dtype, path)
        return
    if not isinstance(actual, (Tensor, np.ndarray)) or \
            not isinstance(expected, (Tensor, np.ndarray)):
        raise _Mismatch(TypeError, f"No comparison pair was able to handle inputs of type "
                        f"{_torch_type(actual)} and {_torch_type(expected)}.", path)
    _compare_tensors(_as_tensor(actual), _as_tensor(expected), rtol, atol, equal_nan,
                     check_dtype, path)


def _as_tensor(value: Any) -> Tensor:
    from fnnet.torch._functions import tensor

    return value if isinstance(value, Tensor) else tensor(value)


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True,
                 rtol: float | None = None, atol: float | None = None,
                 equal_nan: bool = False, check_device: bool = True,
                 check_dtype: bool = True, check_layout: bool = True,
                 check_stride: bool = False, msg: str | None = None) -> None:
    """Raises AssertionError unless ``actual`` and ``expected`` (tensors, numbers, or
    sequences and mappings of them) have the same shapes and dtypes and
    ``|actual - expected| <= atol + rtol * |expected|`` everywhere.

    Args:
        actual: the computed value.
        expected: the reference.
        rtol, atol: tolerances; both or neither given. By default PyTorch's per dtype
            (float32: 1.3e-6 and 1e-5; integers and booleans exactly).
        equal_nan: NaNs in the same places count as equal.
        check_dtype: require equal dtypes (and equal types of Python numbers).
        msg: the message to raise instead of the description of the mismatch.

    Raises:
        ValueError: only one of ``rtol`` and ``atol`` is given.
        TypeError: a pair of inputs is of types that do not compare (a tensor and a
            number, for one).
        AssertionError: the values differ, with PyTorch's description of the mismatch
            and of the item (``[key][index]``) where it is.

    PyTorch equivalent: ``torch.testing.assert_close``.
    """
    del allow_subclasses, check_device, check_layout, check_stride  # one device, dense
    if (rtol is None) != (atol is None):
        raise ValueError(msg or f"Both 'rtol' and 'atol' must be either specified or "
                         f"omitted, but got no {'rtol' if rtol is None else 'atol'}.")
    try:
        _compare(actual, expected, rtol, atol, equal_nan, check_dtype, ())
    except _Mismatch as mismatch:
        raise mismatch.error(msg) from None


def assert_allclose(actual: Any, expected: Any, rtol: float | None = None,
                    atol: float | None = None, equal_nan: bool = True,
                    msg: str = "") -> None:
    """The deprecated form: values only, NaNs equal. PyTorch: ``torch.testing.assert_allclose``."""
    expected = expected if isinstance(expected, Tensor) else _as_tensor(expected)
    assert_close(_as_tensor(actual), expected, rtol=rtol, atol=atol, equal_nan=equal_nan,
                 check_dtype=False, msg=msg or None)


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise Unsupported(f"fnnet.torch does not support torch.testing.{name}; compare "
                      f"tensor.numpy() with numpy.testing")
