"""Tolerances and comparisons used by every parity test, kept in one place."""

from __future__ import annotations

import contextlib

import numpy as np

# float32 parity with PyTorch: about 1e-5 relative; atol covers values near zero.
RTOL = 1e-5
ATOL = 1e-6


def to_numpy(x):
    """A numpy array from a jax array, a torch tensor or anything array-like."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def assert_close(actual, expected, rtol: float = RTOL, atol: float = ATOL, what: str = ""):
    """Asserts ``|actual - expected| <= atol + rtol * |expected|`` elementwise."""
    a, e = to_numpy(actual), to_numpy(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=what)


def assert_tree_close(actual: dict, expected: dict, rtol: float = RTOL, atol: float = ATOL):
    """Compares two flat ``{name: array}`` dicts (e.g. state_dicts) key by key."""
    assert sorted(actual) == sorted(expected), f"keys {sorted(actual)} != {sorted(expected)}"
    for name in expected:
        assert_close(actual[name], expected[name], rtol, atol, what=name)


def raised_by(call, *modules):
    """``(type, message)`` of the exception ``call(module)`` raises for each module (PyTorch
    and fnnet.torch, say), warnings silenced; fails a test where one raises nothing."""
    import warnings

    import pytest

    raised = []
    for module in modules:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(Exception) as error:
                call(module)
        raised.append((type(error.value), str(error.value)))
    return raised


def plain(value):
    """Batches as nested lists and plain values, comparable across the two libraries."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def cube_function(T, factor=3):
    """``Cube.apply`` of a custom ``autograd.Function`` of ``T`` (PyTorch or fnnet.torch)
    computing ``x ** 3``, whose backward multiplies by ``factor * x ** 2`` (3: right)."""

    class Cube(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * factor * x ** 2

    return Cube.apply


@contextlib.contextmanager
def counting_compiles():
    """Collects jax's XLA compile events inside the block: ``with counting_compiles() as
    compiles: ...`` then ``compiles`` lists one entry per program compiled (or read back
    from the persistent compilation cache): its name, such as ``'jit(_chunk)'``."""
    import jax

    compiles = []

    def listener(event, duration, **kwargs):
        del duration
        if event == "/jax/core/compile/backend_compile_duration":
            compiles.append(str(kwargs.get("fun_name", event)))

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        yield compiles
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)
