"""``torch.memory_format`` and its values: accepted and ignored, since XLA chooses the
layout of every array itself (``model.to(memory_format=torch.channels_last)``, a usual
line of vision training scripts, changes nothing in the numbers)."""

from __future__ import annotations


class TorchConstant:
    """A named value of ``torch`` (``torch.channels_last``, ``torch.strided``): printed
    and pickled as that name."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return f"torch.{self._name}"

    def __reduce__(self) -> str:
        return self._name  # pickled as the module-level value of that name


class memory_format(TorchConstant):  # noqa: N801 - PyTorch's name
    """A tensor memory layout's name. PyTorch equivalent: ``torch.memory_format``."""

    __slots__ = ()


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")
