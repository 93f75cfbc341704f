"""conv2d's CPU form: matrix products and fused loops, with gradients to match.

The plain ``lax.conv_general_dilated`` (:func:`xla_conv`, the portable form) computes the
same numbers; this module exists for speed. XLA's CPU convolution is good for wide
layers' forward pass and input gradient, but slow for few channels (LeNet's 1 and 6) and
for every weight gradient. Each of the forward pass, the input gradient and the weight
gradient is therefore computed by whichever of these formulations is fastest for its
shape (:func:`choose_plan`; the measurements are in benchmarks/RESULTS.md):

- ``"xla"``: XLA's own convolution (and its transpose rules);
- ``"taps"`` (forward, one input channel per group): the sum over the ``kH * kW`` window
  taps of a shifted input times one weight, a single fused elementwise loop;
- ``"gemm"``: im2col. The window taps of the input are stacked into patches
  ``P [C/g * kH * kW, N * H_out * W_out]``, so that the forward pass is ``W @ P``, the
  weight gradient ``dY @ P^T`` and the input gradient ``W^T @ dY`` scattered back over
  the taps (col2im: a sum of zero-padded, strided placements);
- ``"reduce"`` (weight gradient): ``dY * x_tap`` summed over the batch and the output
  pixels in one fused reduction, in ``NCHW`` order with no transposes (for layers with a
  single input channel and few output channels, whose products would be too thin).

The weight gradient's patches are computed in the forward pass and held until the
backward, so they are built only while small (``SAVED_PATCH_BYTES``); larger layers take
XLA's weight gradient, which holds no more than the portable form. Recomputing them in the
backward does not help on XLA's CPU backend: its scheduler moves a computation that reads
only forward values (a ``jax.checkpoint`` recomputation included) into the forward pass,
where every layer's patches are then alive at once.

im2col works in ``[G, C/g, N, H, W]`` (channels first), where patches and products need no
transposes but at the two ends; ``taps`` and ``reduce`` in ``NCHW``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

from fnnet.nn.functional.kernels.barrier import materialize
from fnnet.typing import Array

Pair = tuple[int, int]
Pads = tuple[tuple[int, int], tuple[int, int]]
Plan = tuple[str, str, str]
Shape = tuple[int, ...]
ConvArgs = tuple[Pair, Pads, Pair, int]   # stride, pads, dilation, groups
FORWARD = ("xla", "taps", "gemm")
INPUT_GRAD = ("xla", "gemm")
WEIGHT_GRAD = ("xla", "gemm", "reduce")

# Patches up to this size are built whole (im2col) for every part; larger ones make the
# forward pass and input gradient XLA's.
GEMM_PATCH_BYTES = 16 * 2**20
# The weight gradient takes im2col, its patches saved from the forward pass for the
# backward, up to this size of patches, and XLA's weight gradient past it: the budget
# that keeps the step's memory at the portable form's.
SAVED_PATCH_BYTES = 16 * 2**20
# Up to this many products per output pixel (C/g * kH * kW) im2col beats XLA's forward
# convolution and input gradient; wider layers use XLA's.
SMALL_REDUCTION = 256
# A single-input-channel layer with at most this many weights (out * kH * kW) takes its
# weight gradient as one fused reduction (LeNet-5's conv1 has 150; the PyTorch MNIST
# example's 1->32 3x3 layer, 288, is faster as im2col).
REDUCE_OUTPUTS = 256


def choose_plan(x_shape: tuple[int, ...], w_shape: tuple[int, ...], out_hw: Pair,
                itemsize: int) -> Plan:
    """The formulation of (forward, input gradient, weight gradient) for these shapes.

    Chosen from measurements of LeNet-5's, the PyTorch MNIST example's, ResNet-18's and
    depthwise layers (benchmarks/RESULTS.md): ``taps`` for the forward pass of every
    convolution with one input channel per group (no patches at all), ``reduce`` for its
    weight gradient when the layer has a single input channel and few outputs (the MNIST
    example's 1->32 layer is faster as im2col), im2col (``gemm``) for 1x1 kernels and for small
    reductions with patches of at most ``GEMM_PATCH_BYTES`` (its patches then serve the
    forward pass and the weight gradient alike: XLA computes them once), XLA's
    convolution otherwise; the weight gradient by im2col up to ``SAVED_PATCH_BYTES`` of
    patches (held from the forward pass to the backward), by XLA's convolution past that.
    """
    n = x_shape[0]
    _, in_per_group, kh, kw = w_shape
    groups = x_shape[1] // in_per_group
    reduction = in_per_group * kh * kw
    patch_bytes = groups * reduction * n * out_hw[0] * out_hw[1] * itemsize
    # im2col pays while its patches are small; past that XLA's convolution is faster.
    small = kh * kw == 1 or (reduction <= SMALL_REDUCTION and patch_bytes <= GEMM_PATCH_BYTES)
    if in_per_group == 1 and kh * kw > 1:
        # One input channel per group: im2col would be products with a reduction of
        # only kH * kW; the taps loop is one pass over the output.
        forward = "taps"
    else:
        forward = "gemm" if small else "xla"
    input_grad = "gemm" if small else "xla"
    if groups == 1 and in_per_group == 1 and w_shape[0] * kh * kw <= REDUCE_OUTPUTS \
            and patch_bytes <= GEMM_PATCH_BYTES:
        weight_grad = "reduce"
    elif patch_bytes <= SAVED_PATCH_BYTES:
        weight_grad = "gemm"
    else:
        weight_grad = "xla"
    return forward, input_grad, weight_grad


def output_size(size: int, kernel: int, stride: int, dilation: int, pad: tuple[int, int]
                ) -> int:
    """Output length along one axis: ``(size + lo + hi - d (k - 1) - 1) // s + 1``."""
    return (size + pad[0] + pad[1] - dilation * (kernel - 1) - 1) // stride + 1


def conv2d(x: Array, weight: Array, stride: Pair, pads: Pads, dilation: Pair, groups: int,
           plan: Plan | None = None) -> Array:
    """``lax.conv_general_dilated`` in ``NCHW``/``OIHW`` with the CPU formulations.

    Args:
        x: ``[N, C, H, W]``.
        weight: ``[O, C / groups, kH, kW]``.
        stride, pads, dilation, groups: as ``lax.conv_general_dilated`` takes them
            (``pads`` explicit ``((top, bottom), (left, right))``).
        plan: (forward, input gradient, weight gradient) formulations; by default
            :func:`choose_plan`'s.

    Returns:
        ``[N, O, H_out, W_out]``, equal to the plain convolution up to float rounding.
    """
    if plan is None:
        out_h, out_w = (output_size(x.shape[2 + a], weight.shape[2 + a], stride[a],
                                    dilation[a], pads[a]) for a in range(2))
        plan = choose_plan(x.shape, weight.shape, (out_h, out_w),
                           jnp.dtype(x.dtype).itemsize)
    y: Array = _conv(x, weight, tuple(stride), tuple(map(tuple, pads)), tuple(dilation),
                     groups, tuple(plan))
    return y


@functools.partial(jax.custom_jvp, nondiff_argnums=(2, 3, 4, 5, 6))
def _conv(x: Array, weight: Array, stride: Pair, pads: Pads, dilation: Pair, groups: int,
          plan: Plan) -> Array:
    return _forward(x, weight, stride, pads, dilation, groups, plan)


def _forward(x: Array, weight: Array, stride: Pair, pads: Pads, dilation: Pair, groups: int,
             plan: Plan) -> Array:
    if plan[0] == "xla":
        return xla_conv(x, weight, stride, pads, dilation, groups)
    # Both read the input once per tap: compute it once.
    return _fused_forward(materialize(x), weight, stride, pads, dilation, groups, plan)


def _fused_forward(x: Array, weight: Array, stride: Pair, pads: Pads, dilation: Pair,
                   groups: int, plan: Plan) -> Array:
    """The ``taps`` or ``gemm`` forward pass of an input already computed once; its
    result is kept from being recomputed inside the consumers' fusions (the pooling reads
    it once per tap)."""
    forward = _taps_forward if plan[0] == "taps" else _gemm_forward
    return materialize(forward(x, weight, stride, pads, dilation, groups))


@_conv.defjvp
def _conv_jvp(stride: Pair, pads: Pads, dilation: Pair, groups: int, plan: Plan,
              primals: tuple[Array, Array], tangents: tuple[Array, Array]
              ) -> tuple[Array, Array]:
    """The tangent ``conv(dx, w) + conv(x, dw)``, each term written in the form whose
    transpose is the chosen gradient: ``gemm``'s forward transposes to the col2im input
    gradient, a product with the patches to ``dY @ P^T``, a broadcast multiply-and-sum
    over stacked taps to ``reduce``. JAX
    transposes these for reverse mode, so no custom_vjp is needed and forward mode works.
    """
    x, weight = primals
    dx, dw = tangents
    args = (stride, pads, dilation, groups)
    if plan[0] == "xla":
        y = xla_conv(x, weight, *args)
    else:
        # the weight term reads the same computed input as the forward pass, so that
        # XLA builds gemm's patches once for both
        x = materialize(x)
        y = _fused_forward(x, weight, *args, plan)
    if plan[1] == "gemm":
        dy = _gemm_forward(dx, weight, *args)
    else:
        dy = xla_conv(dx, weight, *args)
    weight_term: Callable[[Array, Array], Array] = functools.partial(
        _WEIGHT_TERMS[plan[2]], w_shape=weight.shape, args=args)
    # No barrier (materialize) on the tangent: XLA's CPU backend computes wrong gradients
    # from such conditionals transposed beside the pooling's.
    return y, dy + weight_term(x, dw)


def xla_conv(x: Array, weight: Array, stride: Pair, pads: Pads, dilation: Pair,
             groups: int, preferred: Any = None) -> Array:
    """The portable form: XLA's convolution in ``NCHW``/``OIHW`` (products summed in
    ``preferred``, or in the operands' type)."""
    out: Array = lax.conv_general_dilated(x, weight, stride, pads, rhs_dilation=dilation,
                                          dimension_numbers=("NCHW", "OIHW", "NCHW"),
                                          feature_group_count=groups,
                                          preferred_element_type=preferred)
    return out


def _channels_first(x: Array, pads: Pads, groups: int) -> Array:
    """``[N, C, H, W] -> [G, C/g, N, H + pads, W + pads]`` (zero padding)."""
    n, c, h, w = x.shape
    x = x.reshape(n, groups, c // groups, h, w)
    x = jnp.pad(x, ((0, 0), (0, 0), (0, 0), pads[0], pads[1]))
    return jnp.transpose(x, (1, 2, 0, 3, 4))


def _window_slice(x: Array, axis: int, tap: int, dilation: int, stride: int, out: int
                  ) -> Array:
    """Elements ``tap * dilation + stride * t`` (``t < out``) of ``x`` along ``axis``."""
    start = tap * dilation
    return lax.slice_in_dim(x, start, start + stride * (out - 1) + 1, stride, axis)


def _patches(xc: Array, kernel: Pair, stride: Pair, dilation: Pair, out: Pair) -> Array:
    """im2col: ``[G, Cg, N, Hp, Wp] -> [G, Cg, kH, kW, N, H_out, W_out]``.

    Built in two stacks (the kW column shifts, then the kH row shifts of those), which
    XLA copies faster than one stack of ``kH * kW`` slices.
    """
    cols = jnp.stack([_window_slice(xc, 4, j, dilation[1], stride[1], out[1])
                      for j in range(kernel[1])], axis=2)      # G Cg kW N Hp Wo
    return jnp.stack([_window_slice(cols, 4, i, dilation[0], stride[0], out[0])
                      for i in range(kernel[0])], axis=2)      # G Cg kH kW N Ho Wo


def _out_hw(x_shape: Shape, w_shape: Shape, stride: Pair, pads: Pads, dilation: Pair
            ) -> Pair:
    return (output_size(x_shape[2], w_shape[2], stride[0], dilation[0], pads[0]),
            output_size(x_shape[3], w_shape[3], stride[1], dilation[1], pads[1]))


def _taps_forward(x: Array, weight: Array,
                  stride: Pair, pads: Pads, dilation: Pair, groups: int) -> Array:
    """``y = sum over taps (i, j) of w[:, :, i, j] * x_tap(i, j)``, one fused loop."""
    o, cg, kh, kw = weight.shape
    n = x.shape[0]
    out = _out_hw(x.shape, weight.shape, stride, pads, dilation)
    xp = jnp.pad(x, ((0, 0), (0, 0), pads[0], pads[1]))
    xp = xp.reshape(n, groups, cg, 1, *xp.shape[2:])            # N G Cg 1 Hp Wp
    w = weight.reshape(groups, cg, o // groups, kh, kw) if cg == 1 else \
        jnp.swapaxes(weight.reshape(groups, o // groups, cg, kh, kw), 1, 2)
    y: Array | None = None
    for i in range(kh):
        rows = _window_slice(xp, 4, i, dilation[0], stride[0], out[0])
        for j in range(kw):
            tap = _window_slice(rows, 5, j, dilation[1], stride[1], out[1])
            # Broadcast multiply in NCHW order (no transpose); summed over Cg.
            term = jnp.sum(tap * w[None, :, :, :, i, j, None, None], axis=2)
            y = term if y is None else y + term
    assert y is not None  # a kernel has at least one tap
    return y.reshape(n, o, *out)


def _gemm_forward(x: Array, weight: Array,
                  stride: Pair, pads: Pads, dilation: Pair, groups: int) -> Array:
    """``y = W [G, O/g, Cg kH kW] @ P [G, Cg kH kW, N Ho Wo]``."""
    o, cg, kh, kw = weight.shape
    n = x.shape[0]
    out = _out_hw(x.shape, weight.shape, stride, pads, dilation)
    p = _patches(_channels_first(x, pads, groups), (kh, kw), stride, dilation, out)
    p = p.reshape(groups, cg * kh * kw, n * out[0] * out[1])
    w = weight.reshape(groups, o // groups, cg * kh * kw)
    y = lax.dot_general(w, p, (((2,), (1,)), ((0,), (0,))))   # G O/g N*Ho*Wo
    return jnp.transpose(y.reshape(o, n, *out), (1, 0, 2, 3))


def _from_rows(rows: Array, n: int, out: Pair) -> Array:
    """``[G, O/g, N * Ho * Wo] -> [N, O, Ho, Wo]`` (the products' rows back to ``NCHW``)."""
    g, og, _ = rows.shape
    return jnp.transpose(rows.reshape(g * og, n, *out), (1, 0, 2, 3))


def _gemm_weight_term(x: Array, dw: Array, w_shape: Shape, args: ConvArgs) -> Array:
    """``dW [G, O/g, Cg kH kW] @ P``; transposed: ``dW = dY @ P^T`` (``L = N Ho Wo``)."""
    stride, pads, dilation, groups = args
    o, cg, kh, kw = w_shape
    n = x.shape[0]
    out = _out_hw(x.shape, w_shape, stride, pads, dilation)
    p = _patches(_channels_first(x, pads, groups), (kh, kw), stride, dilation, out)
    p = p.reshape(groups, cg * kh * kw, n * out[0] * out[1])
    rows = lax.dot_general(dw.reshape(groups, o // groups, cg * kh * kw), p,
                           (((2,), (1,)), ((0,), (0,))))
    return _from_rows(rows, n, out)


def _reduce_weight_term(x: Array, dw: Array, w_shape: Shape, args: ConvArgs) -> Array:
    """A broadcast multiply-and-sum of ``dW`` with the stacked taps of ``x``, in ``NCHW``
    order; transposed: ``dW[o, c, i, j] = sum over n, h, w of dY * x_tap(i, j)``, one
    fused reduction with no transposes. Taps stacked in two steps, as in :func:`_patches`."""
    stride, pads, dilation, groups = args
    o, cg, kh, kw = w_shape
    n = x.shape[0]
    ho, wo = _out_hw(x.shape, w_shape, stride, pads, dilation)
    xp = jnp.pad(x, ((0, 0), (0, 0), pads[0], pads[1]))
    cols = jnp.stack([_window_slice(xp, 3, j, dilation[1], stride[1], wo)
                      for j in range(kw)], axis=2)                # N C kW Hp Wo
    p = jnp.stack([_window_slice(cols, 3, i, dilation[0], stride[0], ho)
                   for i in range(kh)], axis=2)                   # N C kH kW Ho Wo
    p = p.reshape(n, groups, 1, cg, kh * kw, ho * wo)
    d = dw.reshape(1, groups, o // groups, cg, kh * kw, 1)
    return jnp.sum(d * p, axis=(3, 4)).reshape(n, o, ho, wo)


def _xla_weight_term(x: Array, dw: Array, w_shape: Shape, args: ConvArgs) -> Array:
    """XLA's convolution of ``x`` with ``dW``; transposed by XLA's own rule."""
    del w_shape
    return xla_conv(x, dw, *args)


_WEIGHT_TERMS = {"gemm": _gemm_weight_term, "reduce": _reduce_weight_term,
                 "xla": _xla_weight_term}
