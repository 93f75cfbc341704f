"""2-D convolution over ``NCHW`` images with ``OIHW`` weights."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from fnnet.nn.functional import kernels
from fnnet.nn.functional._utils import accumulation, check_rank, pair, promoted, widened
from fnnet.typing import Array


def conv_padding(
    padding: str | int | tuple[int, int],
    kernel_size: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    op: str = "conv2d",
) -> tuple[tuple[int, int], tuple[int, int]]:
    """The explicit ``((top, bottom), (left, right))`` padding PyTorch applies.

    ``padding`` is an int, a pair of ints, ``"valid"`` (no padding) or ``"same"``
    (output as large as the input; stride 1 only). For ``"same"`` with an even
    effective kernel PyTorch puts the extra row/column at the bottom/right.

    Raises:
        ValueError: an unknown padding string, or ``"same"`` with a stride other than 1.
    """
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding != "same":
            raise ValueError(
                f"{op}: padding must be an int, a pair of ints, 'valid' or 'same', "
                f"got {padding!r}"
            )
        if stride != (1, 1):
            raise ValueError(
                f"{op}: padding='same' is not supported for strided convolutions "
                f"(got stride={stride})"
            )
        pads = []
        for k, d in zip(kernel_size, dilation, strict=True):
            total = d * (k - 1)
            pads.append((total // 2, total - total // 2))
        return pads[0], pads[1]
    ph, pw = pair(padding, "padding", op, minimum=0)
    return (ph, ph), (pw, pw)


def conv2d(
    x: Array,
    weight: Array,
    bias: Array | None = None,
    stride: int | tuple[int, int] = 1,
    padding: Any = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> Array:
    """2-D cross-correlation, as PyTorch's ``conv2d`` computes it.

    Args:
        x: ``[N, C_in, H, W]`` or unbatched ``[C_in, H, W]``.
        weight: ``[C_out, C_in / groups, kH, kW]`` (``OIHW``, PyTorch's layout).
        bias: ``[C_out]`` or None.
        stride: an int or ``(sH, sW)``.
        padding: an int, ``(pH, pW)`` (zeros on both sides), ``"valid"`` or ``"same"``.
        dilation: an int or ``(dH, dW)``: spacing between kernel taps.
        groups: split the channels into this many independent convolutions.

    Returns:
        ``[N, C_out, H_out, W_out]`` (``[C_out, H_out, W_out]`` for unbatched input),
        ``H_out = (H + 2 pH - dH (kH - 1) - 1) // sH + 1``.

    Raises:
        ValueError: wrong ranks, channel counts that do not match ``weight`` and
            ``groups``, or a kernel larger than the padded input.

    PyTorch equivalent: ``torch.nn.functional.conv2d``.
    """
    check_rank(x, (3, 4), "conv2d", "[N, C, H, W] (or [C, H, W])")
    check_rank(weight, (4,), "conv2d", "weight [C_out, C_in / groups, kH, kW]")
    if not isinstance(groups, int) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"conv2d: groups must be a positive int, got {groups!r}")
    out_channels, in_per_group, kh, kw = weight.shape
    channels = x.shape[-3]
    if in_per_group * groups != channels:
        raise ValueError(
            f"conv2d: weight of shape {tuple(weight.shape)} with groups={groups} expects "
            f"input with {in_per_group * groups} channels, got input of shape "
            f"{tuple(x.shape)} ({channels} channels)"
        )
    if out_channels % groups:
        raise ValueError(
            f"conv2d: weight of shape {tuple(weight.shape)} has {out_channels} output "
            f"channels, which is not divisible by groups={groups}"
        )
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise ValueError(
            f"conv2d: expected bias of shape {(out_channels,)}, got {tuple(bias.shape)}"
        )
    stride = pair(stride, "stride", "conv2d")
    dilation = pair(dilation, "dilation", "conv2d")
    pads = conv_padding(padding, (kh, kw), stride, dilation)
    for axis, k, d, (lo, hi) in zip((-2, -1), (kh, kw), dilation, pads, strict=True):
        if d * (k - 1) + 1 > x.shape[axis] + lo + hi:
            raise ValueError(
                f"conv2d: kernel {(kh, kw)} with dilation {dilation} is larger than the "
                f"padded input (input shape {tuple(x.shape)}, padding {pads})"
            )

    x, weight = promoted(x, weight)
    dtype = x.dtype
    batched = x if x.ndim == 4 else x[None]
    # XLA's convolution, or its CPU form where the program is compiled for the CPU.
    y = kernels.conv2d(batched, weight, stride, pads, dilation, groups,
                       accumulation(dtype))
    if bias is not None:
        y = y + jnp.reshape(widened(bias), (1, -1, 1, 1))
    return (y if x.ndim == 4 else y[0]).astype(dtype)
