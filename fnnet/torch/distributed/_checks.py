"""PyTorch's errors for the collectives' tensors, raised before anything is exchanged.

The types and words are those of PyTorch's gloo backend (``RuntimeError:
ProcessGroupGloo::allgather: invalid tensor size at index 0 (expected (4), got (3))``)
and of ``torch.distributed``'s own checks (``ValueError`` for tensors of different
dtypes, or a list given on the wrong rank), in PyTorch's order: dtypes first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

#: C++ names of the dtypes, as gloo's messages print them
_CPP_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
              "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int",
              "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
              "bool": "bool"}


def sizes(shape: Sequence[int]) -> str:
    """``shape`` as PyTorch prints sizes: ``(2, 3)``, ``(4)``, ``()``."""
    return f"({', '.join(str(n) for n in shape)})"


def _cpp(dtype: Any) -> str:
    name = str(dtype).removeprefix("torch.")
    return _CPP_NAMES.get(name, name)


def _options(dtype: Any) -> str:
    return (f"TensorOptions(dtype={_cpp(dtype)}, device=cpu, layout=Strided, "
            "requires_grad=false (default), pinned_memory=false (default), "
            "memory_format=(nullopt))")


def same_dtypes(tensors: Sequence[Any]) -> None:
    """PyTorch's check that ``tensors`` (in its order) share one dtype.

    Raises:
        ValueError: PyTorch's words (``Invalid usage of tensors with different dtypes``).
    """
    first = tensors[0].dtype if tensors else None
    for t in tensors[1:]:
        if t.dtype != first:
            raise ValueError(f"Invalid usage of tensors with different dtypesFound {first} "
                             f"and  {t.dtype}")


def same_shapes(op: str, tensors: Sequence[Any], shape: Sequence[int]) -> None:
    """Gloo's check that each of ``tensors`` has ``shape``.

    Raises:
        RuntimeError: ``ProcessGroupGloo::{op}: invalid tensor size at index ...``.
    """
    for i, t in enumerate(tensors):
        if tuple(t.shape) != tuple(shape):
            raise RuntimeError(f"ProcessGroupGloo::{op}: invalid tensor size at index {i} "
                               f"(expected {sizes(shape)}, got {sizes(t.shape)})")


def list_given(name: str, given: Sequence[Any] | None, here: bool, where: str) -> None:
    """PyTorch's check of ``gather_list``/``scatter_list``: given (not empty) on the rank
    ``where`` names (``here``), None or empty on the others.

    Raises:
        ValueError: PyTorch's words.
    """
    if here and not given:
        raise ValueError(f"Argument ``{name}`` must be specified on {where} rank.")
    if not here and given:
        raise ValueError(f"Argument ``{name}`` must NOT be specified on non-{where} ranks.")


def list_size(op: str, what: str, given: Sequence[Any], size: int) -> None:
    """Gloo's check of gather's and scatter's lists: one tensor per process.

    Raises:
        RuntimeError: ``ProcessGroupGloo::gather: Incorrect output list size 1. ...``.
    """
    if len(given) != size:
        raise RuntimeError(f"ProcessGroupGloo::{op}: Incorrect {what.lower()} list size "
                           f"{len(given)}. {what} list size should be {size}, same as size "
                           "of the process group.")


def gathered_into(output: Any, input: Any, size: int) -> None:  # noqa: A002 - PyTorch's
    """Gloo's checks of ``all_gather_single``: ``output`` split along axis 0 in
    ``size`` chunks (as ``torch.chunk``) of ``input``'s shape and dtype; a stacked
    ``[size, *input.shape]`` output, which PyTorch's NCCL takes, is taken too.

    Raises:
        RuntimeError: gloo's words for the first chunk of another dtype or shape.
    """
    if output.dtype != input.dtype:
        raise RuntimeError(f"ProcessGroupGloo::allgather: invalid tensor type at index 0 "
                           f"(expected {_options(input.dtype)}, got "
                           f"{_options(output.dtype)})")
    shape, out = tuple(input.shape), tuple(output.shape)
    if out == (size, *shape):
        return
    if not out:
        raise RuntimeError(f"ProcessGroupGloo::allgather: invalid tensor size at index 0 "
                           f"(expected {sizes(shape)}, got {sizes(out)})")
    step = max(1, math.ceil(out[0] / size))
    chunks = [(min(step, out[0] - start), *out[1:]) for start in range(0, out[0], step)]
    for i, chunk in enumerate(chunks):
        if chunk != shape:
            raise RuntimeError(f"ProcessGroupGloo::allgather: invalid tensor size at index "
                               f"{i} (expected {sizes(shape)}, got {sizes(chunk)})")
    if len(chunks) != size:
        raise RuntimeError(f"ProcessGroupGloo::allgather: invalid output tensor list at "
                           f"index 0 (expected length {size}, got {len(chunks)})")


def scattered_from(output: Any, input: Any, size: int) -> None:  # noqa: A002 - PyTorch's
    """Gloo's checks of ``reduce_scatter_single``: the same dtype, and ``input``'s axis 0
    ``size`` times ``output``'s.

    Raises:
        RuntimeError: gloo's failed check, in its words.
    """
    if output.dtype != input.dtype:
        raise RuntimeError(f"Check failed: outputTensors[i].dtype() == "
                           f"inputTensors[i].dtype() ({_cpp(output.dtype)} vs. "
                           f"{_cpp(input.dtype)}).")
    out, whole = tuple(output.shape), tuple(input.shape)
    if not out or not whole or out[0] * size != whole[0]:
        raise RuntimeError(f"Check failed: outputShape[0] * worldSize == inputShape[0] "
                           f"({out[0] * size if out else 0} vs. "
                           f"{whole[0] if whole else 0}).")
    if out[1:] != whole[1:]:
        raise RuntimeError(f"Check failed: outputShape[1:] == inputShape[1:] "
                           f"({sizes(out[1:])} vs. {sizes(whole[1:])}).")
