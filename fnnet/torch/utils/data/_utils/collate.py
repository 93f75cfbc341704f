"""``torch.utils.data._utils.collate``: how a loader turns samples into a batch.

:func:`collate` walks a batch's structure (mappings, namedtuples, sequences) and hands
each leaf's samples to the function that ``collate_fn_map`` gives its type, as
PyTorch's; :data:`default_collate_fn_map` holds the functions :func:`default_collate`
uses (tensors, numpy arrays and scalars, Python numbers, strings), and a program may
extend it or pass its own map, as PyTorch's documentation shows::

    def collate_points(batch, *, collate_fn_map=None):
        return torch.tensor([[p.x, p.y] for p in batch])

    def my_collate(batch):
        return collate(batch, collate_fn_map={Point: collate_points,
                                              **default_collate_fn_map})

Tensors and arrays of one dtype are stacked on the host in one numpy call (a batch
reaches the device as one array); tensors of several dtypes, or any that requires
grad, go through ``torch.stack`` (its promotion, the samples' graph).
"""

from __future__ import annotations

import collections.abc
import copy
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from fnnet.torch import _dtypes, _functions, _graph
from fnnet.torch.tensor import Tensor, _wrap_value

#: numpy dtypes of text and objects, which default_collate refuses (PyTorch's pattern)
np_str_obj_array_pattern = re.compile(r"[SaUO]")

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, "
    "dicts or lists; found {}")

CollateFnMap = dict[type | tuple[type, ...], Callable[..., Any]]


def host_array(value: Any) -> np.ndarray:
    """``value`` as a numpy array in the dtype fnnet.torch holds it in."""
    array = np.asarray(value)
    return array if array.dtype == _graph.canonical_dtype(array.dtype) else \
        _graph.to_canonical(array)


def default_convert(data: Any) -> Any:
    """Turns numpy arrays and scalars into tensors inside mappings, namedtuples and
    sequences, without batching (what a loader with ``batch_size=None`` does to each
    sample); arrays of text or objects, and everything else, are left as they are.

    PyTorch equivalent: ``torch.utils.data.default_convert``.
    """
    kind = type(data)
    if isinstance(data, Tensor):
        return data
    if kind.__module__ == "numpy" and kind.__name__ not in ("str_", "string_"):
        if isinstance(data, np.ndarray) and np_str_obj_array_pattern.search(data.dtype.str):
            return data
        if isinstance(data, (np.ndarray, np.generic)) and data.dtype.kind in "biuf":
            return _wrap_value(host_array(data))
        return _functions.as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuilt_mapping(data, {k: default_convert(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # a namedtuple
        return kind(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuilt_sequence(data, [default_convert(d) for d in data])
    return data


def collate(batch: Sequence[Any], *, collate_fn_map: CollateFnMap | None = None) -> Any:
    """Collates ``batch``, a list of samples of one structure: the function
    ``collate_fn_map`` gives the first sample's type (its exact type, else the first
    key it is an instance of), or else mappings key by key, namedtuples and sequences
    field by field (a tuple's fields as a list).

    Raises:
        RuntimeError: sequences of different lengths (PyTorch's words).
        TypeError: a type no function of the map takes and that is no collection.

    PyTorch equivalent: ``torch.utils.data._utils.collate.collate``.
    """
    elem = batch[0]
    kind = type(elem)
    if collate_fn_map is not None:
        if kind in collate_fn_map:
            return collate_fn_map[kind](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        return _rebuilt_mapping(elem, {key: collate([d[key] for d in batch],
                                                    collate_fn_map=collate_fn_map)
                                       for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple
        return kind(*(collate(samples, collate_fn_map=collate_fn_map)
                      for samples in zip(*batch, strict=False)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if not all(len(e) == size for e in batch[1:]):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [collate(samples, collate_fn_map=collate_fn_map)
                  for samples in zip(*batch, strict=False)]
        return fields if isinstance(elem, tuple) else _rebuilt_sequence(elem, fields)
    raise TypeError(default_collate_err_msg_format.format(kind))


def _rebuilt_mapping(like: Any, items: dict[Any, Any]) -> Any:
    """``items`` in the mapping type of ``like`` (a copy of it updated, where it is
    mutable, keeping an OrderedDict's or a defaultdict's own properties), or a dict
    where that type cannot be made so."""
    try:
        if isinstance(like, collections.abc.MutableMapping):
            clone = copy.copy(like)
            clone.update(items)
            return clone
        return type(like)(items)
    except TypeError:
        return items


def _rebuilt_sequence(like: Any, items: list[Any]) -> Any:
    """``items`` in the sequence type of ``like``, as :func:`_rebuilt_mapping` (a list
    where that type cannot be made so, a range say)."""
    try:
        if isinstance(like, collections.abc.MutableSequence):
            clone = copy.copy(like)
            for i, item in enumerate(items):
                clone[i] = item
            return clone
        return type(like)(items)
    except TypeError:
        return items


def collate_tensor_fn(batch: Sequence[Any], *,
                      collate_fn_map: CollateFnMap | None = None) -> Any:
    """Tensors stacked on a new first dimension (``torch.stack``'s errors and dtype)."""
    del collate_fn_map
    if any(isinstance(t, Tensor) and t.requires_grad for t in batch) or \
            _mixed_dtypes(batch):
        # the samples' graph, and the promoted dtype of samples of several dtypes,
        # as torch.stack's
        return _functions.stack(list(batch))
    return _wrap_value(_stacked(batch))


def collate_numpy_array_fn(batch: Sequence[Any], *,
                           collate_fn_map: CollateFnMap | None = None) -> Any:
    """numpy arrays stacked into a tensor, as tensors of them would be.

    Raises:
        TypeError: arrays of text or objects (PyTorch's words).
    """
    elem = batch[0]
    if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    if _mixed_dtypes(batch):  # PyTorch makes each a tensor and stacks them
        return collate([_functions.as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)
    return _wrap_value(host_array(_stacked(batch)))


def collate_numpy_scalar_fn(batch: Sequence[Any], *,
                            collate_fn_map: CollateFnMap | None = None) -> Any:
    """numpy scalars as ``torch.as_tensor(batch)``."""
    del collate_fn_map
    return _functions.as_tensor(list(batch))


def collate_float_fn(batch: Sequence[Any], *,
                     collate_fn_map: CollateFnMap | None = None) -> Any:
    """Python floats as ``torch.tensor(batch, dtype=torch.float64)``."""
    del collate_fn_map
    return _functions.tensor(list(batch), dtype=_dtypes.float64)


def collate_int_fn(batch: Sequence[Any], *,
                   collate_fn_map: CollateFnMap | None = None) -> Any:
    """Python ints and bools as ``torch.tensor(batch)`` (a batch mixing in a float is
    float32, one with a string raises its TypeError)."""
    del collate_fn_map
    return _functions.tensor(list(batch))


def collate_str_fn(batch: Sequence[Any], *,
                   collate_fn_map: CollateFnMap | None = None) -> Any:
    """Strings and bytes as they are: the batch itself."""
    del collate_fn_map
    return batch


#: the functions :func:`default_collate` gives each type, in PyTorch's order
default_collate_fn_map: CollateFnMap = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch: Sequence[Any]) -> Any:
    """Stacks samples: tensors, arrays and numbers into tensors with a new first
    dimension, mappings key by key, namedtuples and sequences field by field (a tuple
    of fields as a list), strings as they come. :func:`collate` with
    :data:`default_collate_fn_map`.

    PyTorch equivalent: ``torch.utils.data.default_collate``.
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)


def _mixed_dtypes(batch: Sequence[Any]) -> bool:
    """Whether the samples (tensors or numpy arrays) are of more than one dtype."""
    return any(getattr(b, "dtype", None) != batch[0].dtype for b in batch[1:])


def _stacked(batch: Sequence[Any]) -> np.ndarray:
    """The samples stacked on a new first axis; samples of different shapes raise
    PyTorch's RuntimeError (a loader whose sequences need a padding ``collate_fn``)."""
    arrays = [np.asarray(b) for b in batch]
    for i, array in enumerate(arrays[1:], 1):
        if array.shape != arrays[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(arrays[0].shape)} at entry 0 and {list(array.shape)} "
                               f"at entry {i}")
    return np.stack(arrays)
