"""The kernel layer: each op's portable XLA form and, where faster, a CPU form.

``conv2d`` and ``max_pool2d_tiled`` compute the same numbers on every platform. Their
CPU forms (:mod:`~fnnet.nn.functional.kernels.conv_cpu`,
:mod:`~fnnet.nn.functional.kernels.pool_cpu`) write the arithmetic as matrix products and
fused elementwise loops, which XLA's CPU backend runs several times faster than its own
convolution gradients and ``select_and_scatter``. The choice is made with
``lax.platform_dependent``: the compiled program takes the CPU form where it is compiled
for the CPU and the portable form anywhere else (GPU, TPU), whatever the default backend
was when it was traced. Both forms support every JAX transform (``jvp``, ``grad``,
``vmap``, ``checkpoint``, higher orders): the CPU forms are ``custom_jvp`` with linear
tangent rules, which JAX transposes for reverse mode.

:func:`use` is the switch: ``with kernels.use("portable"):`` traces the portable forms
everywhere (to compare, or to test on the CPU the code a GPU runs). It is a JAX user
context, part of ``jax.jit``'s cache key, so a function jitted under one choice is
retraced under the other.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from fnnet.nn.functional.kernels import barrier, conv_cpu, pool_cpu
from fnnet.typing import Array

Pair = tuple[int, int]
Pads = tuple[tuple[int, int], tuple[int, int]]

#: The choices :func:`use` accepts.
CHOICES = ("platform", "portable")
#: Dtypes the CPU forms handle; others (bfloat16, integers) take the portable form.
CPU_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

_choice = jax.make_user_context(default_value="platform")
T = TypeVar("T")


@contextmanager
def use(choice: str) -> Iterator[None]:
    """Traces the kernels chosen by ``choice`` inside the ``with`` block.

    Args:
        choice: ``"platform"`` (the default: the CPU forms where the program is compiled
            for the CPU, the portable forms elsewhere) or ``"portable"`` (XLA's own ops
            on every platform).

    Raises:
        ValueError: ``choice`` is not one of :data:`CHOICES`.

    Example::

        with fnnet.nn.functional.kernels.use("portable"):
            y = jax.jit(model_apply)(params, x)   # traced with XLA's convolution
    """
    if choice not in CHOICES:
        raise ValueError(f"kernels.use: choice must be one of {CHOICES}, got {choice!r}")
    with _choice(choice):
        yield


def current() -> str:
    """The choice in effect: ``"platform"`` or ``"portable"``."""
    value: str = _choice.value
    return value


def _cpu_form_applies(*arrays: Array) -> bool:
    return current() == "platform" and all(
        np.dtype(a.dtype) in CPU_DTYPES for a in arrays)


def conv2d(x: Array, weight: Array, stride: Pair, pads: Pads, dilation: Pair,
           groups: int, preferred: Any = None) -> Array:
    """``lax.conv_general_dilated`` in ``NCHW``/``OIHW``, in the platform's form.

    Args:
        x: ``[N, C, H, W]``.
        weight: ``[O, C / groups, kH, kW]``.
        stride, pads, dilation, groups: as ``lax.conv_general_dilated`` takes them
            (``pads`` explicit ``((top, bottom), (left, right))``).
        preferred: the type products are summed in (``preferred_element_type``), or
            None for the operands' own.

    Returns:
        ``[N, O, H_out, W_out]``.
    """
    stride = (int(stride[0]), int(stride[1]))
    dilation = (int(dilation[0]), int(dilation[1]))
    pads = ((int(pads[0][0]), int(pads[0][1])), (int(pads[1][0]), int(pads[1][1])))

    def portable(a: Array, b: Array) -> Array:
        return conv_cpu.xla_conv(a, b, stride, pads, dilation, groups, preferred)

    if preferred is not None or not _cpu_form_applies(x, weight):
        return portable(x, weight)

    def cpu(a: Array, b: Array) -> Array:
        return conv_cpu.conv2d(a, b, stride, pads, dilation, groups)

    out: Array = lax.platform_dependent(x, weight, cpu=cpu, default=portable)
    return out


def max_pool2d_tiled(x: Array, kernel: Pair) -> Array:
    """Max over ``kernel``-sized tiles of the last two axes of ``x [..., H, W]``.

    Rows and columns past the last whole tile are dropped (PyTorch's floor mode). The
    gradient goes to the first maximum of each window in row-major order, as PyTorch's.
    """
    kernel = (int(kernel[0]), int(kernel[1]))
    if not (_cpu_form_applies(x) and jnp.issubdtype(x.dtype, jnp.floating)):
        return pool_cpu.xla_max_pool(x, kernel)
    out: Array = lax.platform_dependent(
        x, cpu=lambda a: pool_cpu.max_pool2d_tiled(a, kernel),
        default=lambda a: pool_cpu.xla_max_pool(a, kernel))
    return out


def held_for_backward(fn: Callable[..., T], *operands: Array) -> T:
    """``fn(*operands)``, whose backward pass holds only ``operands``.

    For the part of a layer's derivative that is cheap to recompute (BatchNorm's
    normalised input): on the CPU it runs in a conditional of its own
    (:func:`~fnnet.nn.functional.kernels.barrier.deferred`), which XLA's CPU scheduler
    cannot move into the forward pass; elsewhere, and under ``use("portable")``, it is
    ``fn(*operands)``. ``operands[0]`` must be a primal value, not a tangent.
    """
    if current() != "platform":
        return fn(*operands)
    out: T = lax.platform_dependent(
        *operands, cpu=functools.partial(barrier.deferred, fn), default=fn)
    return out


tiles_input = pool_cpu.tiles_input

__all__ = ["CHOICES", "conv2d", "current", "held_for_backward", "max_pool2d_tiled",
           "tiles_input", "use"]
