"""conv2d on the CPU as matrix products, with its own gradients.

The plain ``lax.conv_general_dilated`` computes the same numbers; this module exists for
speed. XLA's CPU convolution is good for wide layers' forward pass and input gradient,
but slow for few channels (LeNet's 1 and 6) and for every weight gradient (up to 4x
slower than a matrix product here). Each of the forward pass, the input gradient and the
weight gradient is therefore computed by whichever of these formulations is fastest for
its shape (:func:`choose_plan`):

- ``"xla"``: XLA's own convolution (and its transpose rules);
- ``"taps"`` (forward, one input channel per group): the sum over the ``kH * kW`` window
  taps of a shifted input times one weight, a single fused elementwise loop;
- ``"gemm"``: im2col. The window taps of the input are stacked into patches
  ``P [C/g * kH * kW, N * H_out * W_out]``, so that the forward pass is ``W @ P``, the
  weight gradient ``dY @ P^T`` and the input gradient ``W^T @ dY`` scattered back over
  the taps (col2im: a sum of zero-padded, strided placements);
- ``"tapdot"`` (weight gradient): one ``dY @ x_tap^T`` product per tap, which never holds
  all patches at once (for wide layers, whose patches would be large);
- ``"reduce"`` (weight gradient): ``dY * x_tap`` summed over the batch and the output
  pixels in one fused reduction, in ``NCHW`` order with no transposes (for layers with a
  single input channel and few output channels, whose products would be too thin).

im2col and ``tapdot`` work in ``[G, C/g, N, H, W]`` (channels first), where patches and
products need no transposes but at the two ends; ``taps`` and ``reduce`` in ``NCHW``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax

from fnnet.nn.functional._cpu import materialize
from fnnet.typing import Array

Pair = tuple[int, int]
Pads = tuple[tuple[int, int], tuple[int, int]]
Plan = tuple[str, str, str]
Shape = tuple[int, ...]
FORWARD = ("xla", "taps", "gemm")
INPUT_GRAD = ("xla", "gemm")
WEIGHT_GRAD = ("xla", "gemm", "tapdot", "reduce")

# Patches up to this size are built whole (im2col) for every part; larger ones make the
# forward pass and input gradient XLA's.
GEMM_PATCH_BYTES = 16 * 2**20
# The weight gradient of an ungrouped layer builds its patches whole up to this size
# (ResNet-18's first stage at batch 128 has 302 MB of them: its step is 7-10% faster
# than going tap by tap, at the same peak memory); past it, one product per tap. Grouped
# layers keep GEMM_PATCH_BYTES (a depthwise 3x3 layer over 64x32x32x32: 43 ms tap by
# tap, 48 ms as im2col).
WEIGHT_GRAD_PATCH_BYTES = 512 * 2**20
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

    Measured on a 2-core x86 CPU (LeNet-5, the PyTorch MNIST example's and ResNet-18's
    layers, depthwise layers): ``taps`` for the forward pass of every convolution with
    one input channel per group (no patches at all: LeNet-5's conv1 0.68 ms against
    1.3 ms as im2col and 2.8 ms as XLA's, and 15 ms against 53 ms at batch 1000),
    ``reduce`` for its weight gradient when the layer has a single input channel and
    few outputs (LeNet-5's conv1: 1.7 ms against 2.1 ms as im2col; the MNIST example's
    1->32 layer is faster as im2col), im2col (``gemm``) for 1x1 kernels and for small
    reductions with patches of at most ``GEMM_PATCH_BYTES`` (its patches then serve the
    forward pass and the weight gradient alike: XLA computes them once), XLA's
    convolution otherwise; the weight gradient by im2col up to
    ``WEIGHT_GRAD_PATCH_BYTES`` of patches, tap by tap past that, never by XLA's
    convolution.
    """
    n = x_shape[0]
    _, in_per_group, kh, kw = w_shape
    groups = x_shape[1] // in_per_group
    reduction = in_per_group * kh * kw
    patch_bytes = groups * reduction * n * out_hw[0] * out_hw[1] * itemsize
    # im2col pays while its patches are small; past that XLA's convolution is faster
    # (LeNet-5 inference at batch 1000, with 78 MB of conv1 patches, before conv1 took
    # the taps: 65 vs 83 ms)
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
    elif kh * kw == 1 or patch_bytes <= (WEIGHT_GRAD_PATCH_BYTES if groups == 1
                                         else GEMM_PATCH_BYTES):
        weight_grad = "gemm"
    else:
        weight_grad = "tapdot"
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


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4, 5, 6))
def _conv(x: Array, weight: Array, stride: Pair, pads: Pads, dilation: Pair, groups: int,
          plan: Plan) -> Array:
    return _conv_fwd(x, weight, stride, pads, dilation, groups, plan)[0]


def _conv_fwd(x: Array, weight: Array, stride: Pair, pads: Pads, dilation: Pair, groups: int,
              plan: Plan) -> tuple[Array, tuple[Array, Array]]:
    if plan[0] == "xla":
        y = _xla(x, weight, stride, pads, dilation, groups)
    else:
        # Both read the input once per tap: compute it once, and keep the result from
        # being recomputed inside the consumers' fusions.
        x = materialize(x)
        forward = _taps_forward if plan[0] == "taps" else _gemm_forward
        y = materialize(forward(x, weight, stride, pads, dilation, groups))
    return y, (x, weight)


def _conv_bwd(stride: Pair, pads: Pads, dilation: Pair, groups: int, plan: Plan,
              residuals: tuple[Array, Array], dy: Array) -> tuple[Array, Array]:
    x, weight = residuals
    if plan[1] != "xla" or plan[2] != "xla":
        dy = materialize(dy)
    args = (stride, pads, dilation, groups)
    if plan[1] == "xla":
        _, vjp = jax.vjp(lambda v: _xla(v, weight, *args), x)
        dx = vjp(dy)[0]
    else:
        dx = _gemm_input_grad(dy, weight, x.shape, *args)
    if plan[2] == "xla":
        _, vjp = jax.vjp(lambda v: _xla(x, v, *args), weight)
        dw = vjp(dy)[0]
    elif plan[2] == "gemm":
        dw = _gemm_weight_grad(x, dy, weight.shape, *args)
    elif plan[2] == "reduce":
        dw = _reduce_weight_grad(x, dy, weight.shape, *args)
    else:
        dw = _tapdot_weight_grad(x, dy, weight.shape, *args)
    return dx, dw


_conv.defvjp(_conv_fwd, _conv_bwd)


def _xla(x: Array, weight: Array, stride: Pair, pads: Pads, dilation: Pair, groups: int) -> Array:
    return lax.conv_general_dilated(x, weight, stride, pads, rhs_dilation=dilation,
                                    dimension_numbers=("NCHW", "OIHW", "NCHW"),
                                    feature_group_count=groups)


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
    XLA copies about twice as fast as one stack of ``kH * kW`` slices.
    """
    cols = jnp.stack([_window_slice(xc, 4, j, dilation[1], stride[1], out[1])
                      for j in range(kernel[1])], axis=2)      # G Cg kW N Hp Wo
    return jnp.stack([_window_slice(cols, 4, i, dilation[0], stride[0], out[0])
                      for i in range(kernel[0])], axis=2)      # G Cg kH kW N Ho Wo


def _out_hw(x_shape: Shape, w_shape: Shape, stride: Pair, pads: Pads, dilation: Pair
            ) -> Pair:
    return (output_size(x_shape[2], w_shape[2], stride[0], dilation[0], pads[0]),
            output_size(x_shape[3], w_shape[3], stride[1], dilation[1], pads[1]))


def _cotangent_rows(dy: Array, groups: int) -> Array:
    """``dY [N, O, Ho, Wo] -> [G, O/g, N * Ho * Wo]``."""
    n, o, ho, wo = dy.shape
    dy = dy.reshape(n, groups, o // groups, ho * wo)
    return jnp.transpose(dy, (1, 2, 0, 3)).reshape(groups, o // groups, n * ho * wo)


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


def _gemm_weight_grad(x: Array, dy: Array, w_shape: Shape,
                      stride: Pair, pads: Pads, dilation: Pair, groups: int) -> Array:
    """``dW = dY [G, O/g, L] @ P^T [G, L, Cg kH kW]`` with ``L = N Ho Wo``."""
    o, cg, kh, kw = w_shape
    n, _, ho, wo = dy.shape
    p = _patches(_channels_first(x, pads, groups), (kh, kw), stride, dilation, (ho, wo))
    p = p.reshape(groups, cg * kh * kw, n * ho * wo)
    dw = lax.dot_general(_cotangent_rows(dy, groups), p, (((2,), (2,)), ((0,), (0,))))
    return dw.reshape(o, cg, kh, kw)


def _tapdot_weight_grad(x: Array, dy: Array, w_shape: Shape,
                        stride: Pair, pads: Pads, dilation: Pair, groups: int) -> Array:
    """``dW[:, :, i, j] = dY [G, O/g, L] @ x_tap(i, j)^T``, one product per tap."""
    o, cg, kh, kw = w_shape
    n, _, ho, wo = dy.shape
    xc = _channels_first(x, pads, groups)
    rows = _cotangent_rows(dy, groups)
    taps = []
    for i in range(kh):
        strip = _window_slice(xc, 3, i, dilation[0], stride[0], ho)
        for j in range(kw):
            tap = _window_slice(strip, 4, j, dilation[1], stride[1], wo)
            tap = tap.reshape(groups, cg, n * ho * wo)
            taps.append(lax.dot_general(rows, tap, (((2,), (2,)), ((0,), (0,)))))
    return jnp.stack(taps, axis=-1).reshape(o, cg, kh, kw)


def _reduce_weight_grad(x: Array, dy: Array, w_shape: Shape,
                        stride: Pair, pads: Pads, dilation: Pair, groups: int) -> Array:
    """``dW[o, c, i, j] = sum over n, h, w of dY[n, o, h, w] * x_tap(i, j)[n, c, h, w]``
    as one fused multiply-and-reduce, in ``NCHW`` order (no transposes); the taps are
    stacked in two steps, as :func:`_patches` does."""
    o, cg, kh, kw = w_shape
    n, _, ho, wo = dy.shape
    xp = jnp.pad(x, ((0, 0), (0, 0), pads[0], pads[1]))
    cols = jnp.stack([_window_slice(xp, 3, j, dilation[1], stride[1], wo)
                      for j in range(kw)], axis=2)                # N C kW Hp Wo
    p = jnp.stack([_window_slice(cols, 3, i, dilation[0], stride[0], ho)
                   for i in range(kh)], axis=2)                   # N C kH kW Ho Wo
    p = p.reshape(n, groups, 1, cg, kh * kw, ho * wo)
    d = dy.reshape(n, groups, o // groups, 1, 1, ho * wo)
    return jnp.sum(d * p, axis=(0, 5)).reshape(o, cg, kh, kw)


def _gemm_input_grad(dy: Array, weight: Array, x_shape: Shape,
                     stride: Pair, pads: Pads, dilation: Pair, groups: int) -> Array:
    """``dP = W^T @ dY``, then col2im: each tap's rows placed back where it read them.

    col2im runs in two passes, the transpose of :func:`_patches`'s two stacks: the kW
    column taps of each row tap summed into full-width rows, then the kH row taps into
    the image. XLA runs these two loops of kW and kH terms about 1.5x faster than one
    loop of kH * kW terms (LeNet-5's conv2 input gradient alone: 1.1 vs 1.7 ms; in the
    whole LeNet-5 step, where XLA runs it beside the weight gradients, the difference
    is within the noise).
    """
    o, cg, kh, kw = weight.shape
    n, c, h, w = x_shape
    _, _, ho, wo = dy.shape
    wm = weight.reshape(groups, o // groups, cg * kh * kw)
    dp = lax.dot_general(wm, _cotangent_rows(dy, groups), (((1,), (1,)), ((0,), (0,))))
    dp = dp.reshape(groups, cg, kh, kw, n, ho, wo)
    zero = jnp.zeros((), dy.dtype)
    keep = ((0, 0, 0),) * 4
    rows: Array | None = None                                    # G Cg kH N Ho W
    for j in range(kw):
        # Tap j of output column t read input column t * stride + j * dilation - pad_left.
        left = j * dilation[1] - pads[1][0]
        right = w - left - (wo - 1) * stride[1] - 1
        placed = lax.pad(dp[:, :, :, j], zero, keep + ((0, 0, 0), (left, right, stride[1] - 1)))
        rows = placed if rows is None else rows + placed
    assert rows is not None  # a kernel has at least one tap
    dx: Array | None = None                                      # G Cg N H W
    for i in range(kh):
        # Tap i of output row t read input row t * stride + i * dilation - pad_top.
        top = i * dilation[0] - pads[0][0]
        bottom = h - top - (ho - 1) * stride[0] - 1
        placed = lax.pad(rows[:, :, i], zero, keep[:3] + ((top, bottom, stride[0] - 1), (0, 0, 0)))
        dx = placed if dx is None else dx + placed
    assert dx is not None
    return jnp.transpose(dx, (2, 0, 1, 3, 4)).reshape(n, c, h, w)
