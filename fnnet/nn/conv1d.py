"""1-D convolution."""

from __future__ import annotations

from fnnet.nn.conv import check_padding_mode, conv_params, conv_repr, pad_input
from fnnet.nn.functional.sequence import conv1d
from fnnet.nn.module import Module, check_input
from fnnet.typing import Array, Params, PRNGKey, State


def _one(value: int | tuple[int], name: str, least: int = 0) -> int:
    """``value`` (an int or a 1-tuple) as an int of at least ``least``."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        kind = "a non-negative int" if least == 0 else f"an int of at least {least}"
        raise ValueError(f"Conv1d: {name} must be {kind}, got {value!r}")
    return value


class Conv1d(Module):
    """1-D convolution over ``[N, C_in, L]`` sequences.

    Args:
        in_channels: input channels (divisible by ``groups``).
        out_channels: output channels (divisible by ``groups``).
        kernel_size: the kernel's length.
        stride: the step between windows.
        padding: an int, ``"valid"`` or ``"same"``.
        dilation: the spacing between kernel taps.
        groups: channel groups.
        bias: whether to learn an additive bias.
        padding_mode: ``"zeros"``, ``"reflect"``, ``"replicate"`` or ``"circular"``:
            how the input is padded, as in PyTorch.

    Parameters: ``weight [out, in / groups, K]``, ``bias [out]``, initialised as PyTorch.

    PyTorch equivalent: ``torch.nn.Conv1d``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 stride: int = 1, padding: int | str = 0, dilation: int = 1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros") -> None:
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels),
                            ("groups", groups)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Conv1d: {name} must be a positive int, got {value!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError("Conv1d: in_channels and out_channels must be divisible by "
                             f"groups, got {in_channels}, {out_channels} and {groups}")
        check_padding_mode("Conv1d", padding_mode)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = (_one(kernel_size, "kernel_size", 1),)
        self.stride = (_one(stride, "stride", 1),)
        self.dilation = (_one(dilation, "dilation", 1),)
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"Conv1d: padding must be an int, 'valid' or 'same', got "
                                 f"{padding!r}")
            if padding == "same" and self.stride != (1,):  # PyTorch's words
                raise ValueError("Conv1d: padding='same' is not supported for strided "
                                 "convolutions")
            self.padding: str | tuple[int] = padding
        else:
            self.padding = (_one(padding, "padding"),)
        self.groups, self.bias, self.padding_mode = groups, bias, padding_mode

    def init(self, key: PRNGKey) -> tuple[Params, State]:
        return conv_params(key, self.out_channels, self.in_channels // self.groups,
                           self.kernel_size, self.bias), {}

    # One input array: Module.apply's *args are for composites' forward.
    def apply(self, params: Params, state: State, x: Array, *, train: bool = False,  # type: ignore[override]
              key: PRNGKey | None = None) -> tuple[Array, State]:
        """``x: [N, in_channels, L] -> [N, out_channels, L_out]`` (or unbatched)."""
        del train, key
        check_input(self, x, ndim=(2, 3), dim=-2, size=self.in_channels)
        x, padding = pad_input(x, self.padding, self.kernel_size, self.dilation,
                               self.padding_mode)
        if isinstance(padding, tuple):
            padding = padding[0]
        return conv1d(x, params["weight"], params.get("bias"), self.stride[0], padding,
                      self.dilation[0], self.groups), state

    def extra_repr(self) -> str:
        return conv_repr(self)
