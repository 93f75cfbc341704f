"""``torch.testing``: :func:`assert_close`, which tests and exercises use to compare
tensors (shape, dtype, then values within PyTorch's default tolerances per dtype).

PyTorch equivalent: ``torch.testing``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from fnnet.torch.tensor import Tensor, Unsupported

__all__ = ["assert_allclose", "assert_close"]

#: PyTorch's default (rtol, atol) per dtype
_TOLERANCES = {np.dtype(np.float16): (1e-3, 1e-5), np.dtype(np.float32): (1.3e-6, 1e-5),
               np.dtype(np.float64): (1e-7, 1e-7)}


def _tolerances(dtype: np.dtype[Any]) -> tuple[float, float]:
    if dtype.name == "bfloat16":
        return 1.6e-2, 1e-5
    return _TOLERANCES.get(dtype, (0.0, 0.0))  # integers and booleans compare exactly


def _compare_tensors(actual: Tensor, expected: Tensor, rtol: float | None, atol: float | None,
                     equal_nan: bool, check_dtype: bool, where: str, msg: str | None) -> None:
    if tuple(actual.shape) != tuple(expected.shape):
        raise AssertionError(msg or f"The values for attribute 'shape' do not match: "
                             f"{actual.shape} != {expected.shape}{where}.")
    if check_dtype and actual.dtype is not expected.dtype:
        raise AssertionError(msg or f"The values for attribute 'dtype' do not match: "
                             f"{actual.dtype} != {expected.dtype}{where}.")
    a = np.asarray(actual.detach().numpy())
    e = np.asarray(expected.detach().numpy())
    default_rtol, default_atol = _tolerances(np.promote_types(a.dtype, e.dtype))
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    close = np.isclose(a64, e64, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if close.all():
        return
    if msg is not None:
        raise AssertionError(msg)
    bad = int((~close).sum())
    diff = np.abs(a64 - e64)
    diff = np.where(np.isnan(diff), np.inf, diff)
    rel = diff / np.where(e64 == 0, np.inf, np.abs(e64))
    worst, worst_rel = np.unravel_index(np.argmax(diff), a.shape), \
        np.unravel_index(np.argmax(np.where(close, -1, rel)), a.shape)
    kind = "Scalars are" if a.ndim == 0 else "Tensor-likes are"
    raise AssertionError(
        f"{kind} not close!{where}\n\nMismatched elements: {bad} / {a.size} "
        f"({100 * bad / a.size:.1f}%)\nGreatest absolute difference: "
        f"{float(diff[worst])} at index {tuple(int(i) for i in worst)} (up to {atol} "
        f"allowed)\nGreatest relative difference: {float(rel[worst_rel])} at index "
        f"{tuple(int(i) for i in worst_rel)} (up to {rtol} allowed)")


def _as_tensor(value: Any) -> Tensor:
    from fnnet.torch._functions import tensor

    return value if isinstance(value, Tensor) else tensor(value)


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True,
                 rtol: float | None = None, atol: float | None = None,
                 equal_nan: bool = False, check_device: bool = True,
                 check_dtype: bool = True, check_layout: bool = True,
                 check_stride: bool = False, msg: str | None = None, _where: str = "") -> None:
    """Raises AssertionError unless ``actual`` and ``expected`` (tensors, numbers, or
    sequences and mappings of them) have the same shapes and dtypes and
    ``|actual - expected| <= atol + rtol * |expected|`` everywhere.

    Args:
        actual: the computed value.
        expected: the reference.
        rtol, atol: tolerances; both or neither given. By default PyTorch's per dtype
            (float32: 1.3e-6 and 1e-5; integers and booleans exactly).
        equal_nan: NaNs in the same places count as equal.
        check_dtype: require equal dtypes (numbers compare as tensors of their type).
        msg: the message to raise instead of the description of the mismatch.

    Raises:
        ValueError: only one of ``rtol`` and ``atol`` is given.
        AssertionError: the values differ.

    PyTorch equivalent: ``torch.testing.assert_close``.
    """
    del allow_subclasses, check_device, check_layout, check_stride  # one device, dense
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but "
                         f"got no {'rtol' if rtol is None else 'atol'}.")
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        if set(actual) != set(expected):
            raise AssertionError(msg or f"The keys of the mappings do not match: "
                                 f"{sorted(map(str, actual))} != "
                                 f"{sorted(map(str, expected))}{_where}.")
        for key in expected:
            assert_close(actual[key], expected[key], rtol=rtol, atol=atol,
                         equal_nan=equal_nan, check_dtype=check_dtype, msg=msg,
                         _where=f"\nThe failure occurred for item [{key!r}]")
        return
    if isinstance(actual, Sequence) and isinstance(expected, Sequence) and \
            not isinstance(actual, str) and not isinstance(expected, str):
        if len(actual) != len(expected):
            raise AssertionError(msg or f"The length of the sequences mismatch: "
                                 f"{len(actual)} != {len(expected)}{_where}")
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_close(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan,
                         check_dtype=check_dtype, msg=msg,
                         _where=f"\nThe failure occurred for item [{i}]")
        return
    if isinstance(expected, (bool, int, float)) and not isinstance(actual, Tensor):
        if type(actual) is not type(expected) and check_dtype:
            raise AssertionError(msg or f"The values for attribute 'dtype' do not match: "
                                 f"{type(actual).__name__} != {type(expected).__name__}.")
        a, e = float(actual), float(expected)
        r, t = (1.3e-6, 1e-5) if isinstance(expected, float) else (0.0, 0.0)
        if rtol is not None and atol is not None:
            r, t = rtol, atol
        if not (a == e or abs(a - e) <= t + r * abs(e) or
                (equal_nan and math.isnan(a) and math.isnan(e))):
            raise AssertionError(msg or f"Scalars are not close!{_where}\n\nExpected {e} but "
                                 f"got {a}.\nAbsolute difference: {abs(a - e)} (up to {t} "
                                 f"allowed)")
        return
    if not isinstance(actual, (Tensor, np.ndarray)) or \
            not isinstance(expected, (Tensor, np.ndarray)):
        raise TypeError(f"No comparison pair was able to handle inputs of type "
                        f"{type(actual)} and {type(expected)}.")
    _compare_tensors(_as_tensor(actual), _as_tensor(expected), rtol, atol, equal_nan,
                     check_dtype, _where, msg)


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
