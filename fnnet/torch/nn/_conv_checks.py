"""PyTorch's checks of a convolution's input against its weight, shared by ``nn.Conv1d``/
``nn.Conv2d`` and ``F.conv1d``/``F.conv2d``: the input's rank, its channel count, and a
kernel wider than the padded input (a CNN with one pooling too many)."""

from __future__ import annotations

from typing import Any

from fnnet.torch.tensor import Tensor


def check_conv_input(input: Any, weight: Any, groups: Any, padding: Any, dilation: Any,  # noqa: A002
                     dims: int) -> None:
    """PyTorch's RuntimeErrors, in its order and words, for ``input`` of ``conv{dims}d``
    with ``weight [out, in / groups, *kernel]``; nothing where an argument is not of the
    kinds these checks read (fnnet's own checks follow)."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor) or \
            not isinstance(groups, int) or weight.dim() != dims + 2:
        return
    shape = list(input.shape)
    if len(shape) not in (dims + 1, dims + 2):
        raise RuntimeError(f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input "
                           f"to conv{dims}d, but got input of size: {shape}")
    batched = shape if len(shape) == dims + 2 else [1, *shape]
    kernels = list(weight.shape)
    if 0 < groups and kernels[0] < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} "
                           f"at dimension 0, but got weight of size {kernels} instead")
    if 0 < groups and kernels[0] % groups:  # PyTorch's message brackets the sizes twice
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size [{kernels}] "
                           f"instead")
    channels = weight.shape[1] * groups
    if batched[1] != channels:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, "
                           f"expected input{batched} to have {channels} channels, but got "
                           f"{batched[1]} channels instead")
    if padding == "same":  # pads each dimension by the kernel's span
        return
    pads, dilations = _each(0 if isinstance(padding, str) else padding, dims), \
        _each(dilation, dims)
    if pads is None or dilations is None:
        return
    padded = [size + 2 * pad for size, pad in zip(batched[2:], pads, strict=True)]
    spans = [d * (k - 1) + 1 for d, k in zip(dilations, weight.shape[2:], strict=True)]
    if any(span > size for span, size in zip(spans, padded, strict=True)):
        raise RuntimeError(f"Calculated padded input size per channel: "
                           f"({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, spans))}). Kernel size can't be greater "
                           f"than actual input size")


def _each(value: Any, dims: int) -> tuple[int, ...] | None:
    """``value`` per spatial dimension (an int stands for all), None if not ints."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * dims
    if len(values) == 1:
        values *= dims
    if len(values) != dims or not all(isinstance(v, int) for v in values):
        return None
    return values
