"""PyTorch's RuntimeErrors for a transposed convolution's shapes (``conv_transpose1d``,
``2d``, ``3d`` and the ``ConvTranspose`` modules), in PyTorch's order and words: the
input's rank, the weight against ``groups``, the input's channels and the bias's size
against the weight, then the output padding and the output size (the CPU kernel's
checks, which word a 1-D convolution as the 2-D one it runs)."""

from __future__ import annotations

from typing import Any

_AXES = ("depth", "height", "width")


def _each(value: Any, dims: int) -> tuple[int, ...]:
    """``value`` (an int for every spatial dimension, or one per dimension) as a tuple."""
    if isinstance(value, (tuple, list)):
        return tuple(int(v) for v in value) if len(value) != 1 else (int(value[0]),) * dims
    return (int(value),) * dims


def check_conv_transpose_shapes(input: Any, weight: Any, bias: Any, stride: Any,
                                padding: Any, output_padding: Any, groups: Any,
                                dilation: Any) -> None:
    """Raises PyTorch's RuntimeError where ``input [N, C_in, *spatial]`` (or unbatched)
    and ``weight [C_in, C_out / groups, *kernel]`` cannot make a transposed convolution
    with these settings; checks nothing where they are not tensors (a later check
    words that)."""
    from fnnet.torch.tensor import Tensor

    if not isinstance(input, Tensor) or not isinstance(weight, Tensor) or weight.dim() < 3:
        return
    dims = weight.dim() - 2
    shape = list(input.shape)
    if len(shape) not in (dims + 1, dims + 2):
        raise RuntimeError(f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input "
                           f"to conv_transpose{dims}d, but got input of size: {shape}")
    batched = shape if len(shape) == dims + 2 else [1, *shape]
    try:
        strides, pads, out_pads, dilations = (_each(v, dims) for v in (
            stride, padding, output_padding, dilation))
        groups = int(groups)
    except (TypeError, ValueError):
        return  # not numbers: the layer's own checks word it
    if any(p < 0 for p in pads):
        raise RuntimeError("negative padding is not supported")
    if any(p < 0 for p in out_pads):
        raise RuntimeError("negative output_padding is not supported")
    if any(s <= 0 for s in strides) or any(d <= 0 for d in dilations) or groups <= 0:
        return  # worded by the dtype and options check that follows
    sizes = list(weight.shape)
    if sizes[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size [{sizes}] "
                           f"instead")
    if batched[1] != sizes[0]:
        raise RuntimeError(f"Given transposed=1, weight of size {sizes}, expected "
                           f"input{batched} to have {sizes[0]} channels, but got "
                           f"{batched[1]} channels instead")
    if isinstance(bias, Tensor) and (bias.dim() != 1 or bias.shape[0] != sizes[1] * groups):
        raise RuntimeError(f"Given transposed=1, weight of size {sizes}, expected bias to be "
                           f"1-dimensional with {sizes[1] * groups} elements, but got bias "
                           f"of size {list(bias.shape)} instead")
    # the CPU kernel runs a 1-D convolution as a 2-D one of height 1 and words it so
    shown = 2 if dims == 1 else dims

    def lifted(values: tuple[int, ...], fill: int) -> tuple[int, ...]:
        return (fill, *values) if dims == 1 else values

    if any(o >= max(s, d) for o, s, d in zip(out_pads, strides, dilations, strict=True)):
        axes = _AXES[-shown:]
        words = [f"{kind}_{axis}: {value}" for kind, values in (
            ("output_padding", lifted(out_pads, 0)), ("stride", lifted(strides, 1)),
            ("dilation", lifted(dilations, 1))) for axis, value in zip(axes, values,
                                                                      strict=True)]
        raise RuntimeError("output padding must be smaller than either stride or dilation, "
                           f"but got {' '.join(words)}")
    spatial = batched[2:]
    out = [(size - 1) * s - 2 * p + d * (k - 1) + o + 1 for size, s, p, d, k, o in zip(
        spatial, strides, pads, dilations, sizes[2:], out_pads, strict=True)]
    if min(out) < 1:
        given = " x ".join(map(str, lifted(tuple(spatial), 1)))
        made = " x ".join(map(str, lifted(tuple(out), 1)))
        raise RuntimeError(f"Given input size per channel: ({given}). Calculated output size "
                           f"per channel: ({made}). Output size is too small")
