"""PyTorch's ``*_copy`` functions (``torch.diagonal_copy``, ``torch.view_copy``...: the
view ops' results as tensors of their own, as exported and functionalized programs call
them), ``narrow_copy``, ``alias_copy``, the ``unsafe_*`` splits (PyTorch's forms without
the autograd view checks: here the splits themselves) and ``torch.fill``."""

from __future__ import annotations

from typing import Any

from fnnet.torch._functions import tensor_argument
from fnnet.torch.tensor import Tensor

#: ``torch.<view>_copy`` -> the view method whose result it copies
VIEW_COPIES = {"diagonal_copy": "diagonal", "expand_copy": "expand",
               "permute_copy": "permute", "t_copy": "t", "transpose_copy": "transpose",
               "unsqueeze_copy": "unsqueeze", "view_copy": "view", "select_copy": "select",
               "squeeze_copy": "squeeze", "unbind_copy": "unbind", "split_copy": "split",
               "split_with_sizes_copy": "split_with_sizes", "detach_copy": "detach",
               "unfold_copy": "unfold", "as_strided_copy": "as_strided",
               "narrow_copy": "narrow"}


def _copying(name: str, view: str) -> Any:
    def function(input: Tensor, *args: Any, **kwargs: Any) -> Any:
        tensor_argument(input, name, "input", 1)
        if view == "expand" and kwargs.pop("implicit", False):
            raise NotImplementedError("fnnet.torch: expand_copy(implicit=True) is not "
                                      "supported")
        if view in ("expand", "view", "permute") and len(args) == 1 and \
                isinstance(args[0], (list, tuple)):
            args = tuple(args[0])
        result = getattr(input, view)(*args, **kwargs)
        if isinstance(result, tuple):
            return [piece.clone() for piece in result]  # PyTorch returns a list
        return result.clone()

    function.__name__ = name
    function.__doc__ = f"``input.{view}(...)`` as a copy. PyTorch equivalent: ``torch.{name}``."
    return function


def slice_copy(input: Tensor, dim: int = 0, start: int | None = None, end: int | None = None,
               step: int = 1) -> Tensor:
    """``input[..., start:end:step, ...]`` along ``dim``, as a copy. PyTorch equivalent:
    ``torch.slice_copy``."""
    index = (slice(None),) * (dim % max(input.dim(), 1)) + (slice(start, end, step),)
    result: Tensor = input[index].clone()
    return result


def alias_copy(input: Tensor) -> Tensor:
    """A copy of ``input``. PyTorch equivalent: ``torch.alias_copy``."""
    return input.clone()


def fill(input: Tensor, value: Any) -> Tensor:
    """A tensor like ``input`` holding ``value`` (cast to its dtype). PyTorch equivalent:
    ``torch.fill``."""
    return input.clone().fill_(value)


def unsafe_split(input: Tensor, split_size: Any, dim: int = 0) -> Any:
    """PyTorch equivalent: ``torch.unsafe_split``, ``torch.split`` under ATen's names
    (``torch.split`` names its arguments ``tensor`` and ``split_size_or_sections``)."""
    return input.split(split_size, dim)


def install(namespace: dict[str, Any]) -> None:
    """Adds the functions to ``namespace`` (``fnnet.torch``'s globals) and
    ``Tensor.narrow_copy`` and the ``unsafe_*`` methods to :class:`Tensor`."""
    for name, view in VIEW_COPIES.items():
        namespace[name] = _copying(name, view)
    namespace.update(slice_copy=slice_copy, alias_copy=alias_copy, fill=fill,
                     unsafe_chunk=namespace["chunk"], unsafe_split=unsafe_split,
                     unsafe_split_with_sizes=namespace["split_with_sizes"])
    Tensor.narrow_copy = namespace["narrow_copy"]  # type: ignore[attr-defined]
    Tensor.unsafe_chunk = Tensor.chunk  # type: ignore[attr-defined]
    Tensor.unsafe_split = Tensor.split  # type: ignore[attr-defined]
    Tensor.unsafe_split_with_sizes = Tensor.split_with_sizes  # type: ignore[attr-defined]
