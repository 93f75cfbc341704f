"""Saving state dicts (and nested containers of arrays) to safetensors files: no pickles.

``torch.save`` pickles, and ``torch.load`` of an untrusted file can run code. fnnet
writes the arrays as a safetensors file (a JSON header and raw bytes) and the rest of
the object (dicts, lists, numbers, strings) as JSON in its metadata, so loading never
runs code. A flat ``{name: array}`` state dict becomes a plain safetensors file whose
tensor names are the state dict's keys, readable by any safetensors tool.
"""

from __future__ import annotations

import errno
import json
import math
import os
import pathlib
from collections.abc import Mapping
from typing import Any, BinaryIO, cast

import ml_dtypes
import numpy as np

from fnnet.checkpoint.atomic_file import is_special, replacing
from fnnet.nn.host import as_saved, host_array

_LAYOUT = "fnnet.layout"  # metadata entry holding the JSON skeleton of the object
_SCALARS = (type(None), bool, int, float, str)


def _is_array(value: Any) -> bool:
    if isinstance(value, _SCALARS):
        return False
    return (isinstance(value, np.ndarray | np.generic) or hasattr(value, "__array__")
            or callable(getattr(value, "numpy", None)))


def _encode(obj: Any, path: str, tensors: dict[str, np.ndarray]) -> Any:
    """The JSON skeleton of ``obj``; its arrays go into ``tensors`` under their path."""
    if isinstance(obj, _SCALARS):
        return obj
    if _is_array(obj):
        name = path or "tensor"
        while name in tensors:  # e.g. keys "a.b" and ("a", "b") of nested dicts
            name += "_"
        where = path or "the top"
        if str(getattr(obj, "dtype", "")).startswith("key<"):  # a typed jax PRNG key
            raise TypeError(f"save_safetensors: the array at {where!r} is a PRNG key; save "
                            "its data, jax.random.key_data(key), and wrap it back with "
                            "jax.random.wrap_key_data")
        array = as_saved(obj, host_array(obj, copy=False))
        # what load_safetensors reads back: nothing is written that it would refuse
        if array.dtype not in _SAVED_DTYPES:
            raise TypeError(f"save_safetensors: the array at {where!r} has dtype "
                            f"{array.dtype}; only bool, integer, float16/32/64, "
                            "bfloat16 and float8 (e4m3fn, e5m2) arrays are saved")
        tensors[name] = array
        return {"__tensor__": name}
    if isinstance(obj, Mapping):
        items = []
        for key, value in obj.items():
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"save_safetensors: keys must be str or int, got "
                                f"{type(key).__name__} {key!r} at {path or 'the top'!r}")
            items.append([key, _encode(value, f"{path}.{key}" if path else str(key), tensors)])
        return {"__dict__": items}
    if isinstance(obj, list | tuple):
        values = [_encode(v, f"{path}.{i}" if path else str(i), tensors)
                  for i, v in enumerate(obj)]
        return values if isinstance(obj, list) else {"__tuple__": values}
    raise TypeError(f"save_safetensors: cannot save a {type(obj).__name__} at "
                    f"{path or 'the top'!r}: only arrays, dicts, lists, tuples, None, bool, "
                    "int, float and str")


_MAX_DEPTH = 100  # deeper layouts are refused (no state dict nests this far)


def _decode(skeleton: Any, tensors: Mapping[str, np.ndarray], where: str = "",
            depth: int = 0) -> Any:
    """The object a layout skeleton describes; ValueError naming where it is malformed."""
    at = where or "the top"
    if depth > _MAX_DEPTH:
        raise ValueError(f"{_LAYOUT} nests deeper than {_MAX_DEPTH} levels at {at!r}")
    if isinstance(skeleton, _SCALARS):
        return skeleton
    if isinstance(skeleton, list):
        return [_decode(v, tensors, f"{where}.{i}" if where else str(i), depth + 1)
                for i, v in enumerate(skeleton)]
    if not isinstance(skeleton, dict) or len(skeleton) != 1:
        raise ValueError(f"{_LAYOUT}: expected a value, a list or one of __tensor__, "
                         f"__tuple__, __dict__ at {at!r}, got {str(skeleton)[:80]}")
    (kind, value), = skeleton.items()
    if kind == "__tensor__":
        if not isinstance(value, str) or value not in tensors:
            raise ValueError(f"{_LAYOUT}: {at!r} names tensor {str(value)[:80]!r}, which the "
                             "file does not hold")
        return tensors[value]
    if kind == "__tuple__" and isinstance(value, list):
        return tuple(_decode(skeleton["__tuple__"], tensors, where, depth + 1))
    if kind == "__dict__" and isinstance(value, list):
        out = {}
        for item in value:
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str | int)
                    and not isinstance(item[0], bool)):
                raise ValueError(f"{_LAYOUT}: a dict entry at {at!r} must be a [key, value] "
                                 f"pair with a str or int key, got {str(item)[:80]}")
            key = item[0]
            out[key] = _decode(item[1], tensors, f"{where}.{key}" if where else str(key),
                               depth + 1)
        return out
    raise ValueError(f"{_LAYOUT}: unknown entry {kind!r} (or not a list) at {at!r}")


def save_safetensors(obj: Any, f: str | os.PathLike[str] | BinaryIO) -> None:
    """Writes ``obj`` as a safetensors file to a path (atomically) or a binary file.

    Args:
        obj: a flat state dict ``{name: array}`` or any nesting of dicts (str or int
            keys), lists and tuples of arrays (numpy, JAX, or tensors with ``.numpy()``)
            and of None, bool, int, float and str.
        f: a path, written beside as a temporary file and renamed into place (so a
            killed process never leaves a half-written file there), or a binary file
            object open for writing.

    Raises:
        TypeError: ``obj`` holds something else (the message names where), or ``f`` is
            neither a path nor a writable binary file.
        IsADirectoryError: ``f`` is a folder (nothing is written).
        FileNotFoundError: ``f``'s folder does not exist (nothing is written).
        OSError: the write failed (e.g. the disk is full); the error names ``f``, not
            the temporary file, which is removed.

    PyTorch equivalent: ``torch.save(obj, f)`` for state dicts and checkpoints.
    """
    from safetensors.numpy import save, save_file

    # Any object with a write() method is a file, as torch.save accepts; the rest are paths.
    write = getattr(f, "write", None)
    writable = callable(write)
    if not writable and not isinstance(f, (str, os.PathLike)):
        raise TypeError(f"save_safetensors: f must be a file path or a binary file, got "
                        f"{type(f).__name__}")
    tensors: dict[str, np.ndarray] = {}
    metadata = {_LAYOUT: json.dumps(_encode(obj, "", tensors))}
    if callable(write):
        write(save(tensors, metadata=metadata))
        return
    if is_special(cast("str | os.PathLike[str]", f)):  # /dev/null, a named pipe: written
        # in place, where safetensors' own writer would put a new file over it
        with open(cast("str | os.PathLike[str]", f), "wb") as out:
            out.write(save(tensors, metadata=metadata))
        return
    target = pathlib.Path(cast("str | os.PathLike[str]", f))
    # Checked before the temporary file exists, which errors would otherwise name.
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, "save_safetensors: f is a folder, expected "
                                "the path of a file to write", str(target))
    if not target.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, "save_safetensors: the folder of f does not "
                                "exist", str(target.parent))
    try:
        with replacing(target) as tmp:
            save_file(tensors, tmp, metadata=metadata)
    except OSError as error:
        if error.errno is None:
            raise
        # The OS names the temporary file; the target is what the caller can fix.
        raise type(error)(error.errno, error.strerror, str(target)) from error


_DTYPES = {"BOOL": np.bool_, "U8": np.uint8, "I8": np.int8, "U16": np.uint16,
           "I16": np.int16, "U32": np.uint32, "I32": np.int32, "U64": np.uint64,
           "I64": np.int64, "F16": np.float16, "BF16": ml_dtypes.bfloat16,
           "F32": np.float32, "F64": np.float64,
           # float8 checkpoints (torch.float8_e4m3fn, float8_e5m2), in safetensors' names
           "F8_E4M3": ml_dtypes.float8_e4m3fn, "F8_E5M2": ml_dtypes.float8_e5m2}


_SAVED_DTYPES = {np.dtype(t) for t in _DTYPES.values()}


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _read(data: bytes) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The tensors and ``__metadata__`` of a safetensors file (8-byte header length,
    a JSON header, raw little-endian bytes); bfloat16 included, which the
    ``safetensors.numpy`` reader lacks. Every declared shape and offset is checked
    against the file before a tensor is copied. Raises ValueError on anything malformed."""
    if len(data) < 8:
        raise ValueError(f"{len(data)} bytes, shorter than the 8-byte header length")
    size = int.from_bytes(data[:8], "little")
    if size > len(data) - 8:
        raise ValueError(f"header length {size} exceeds the file ({len(data)} bytes)")
    header = json.loads(data[8:8 + size])
    if not isinstance(header, dict):
        raise ValueError("the header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise ValueError("__metadata__ must map strings to strings")
    body = memoryview(data)[8 + size:]
    declared = []
    for name, info in header.items():
        if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= set(info):
            raise ValueError(f"tensor {name!r}: expected dtype, shape and data_offsets, got "
                             f"{str(info)[:80]}")
        if not isinstance(info["dtype"], str) or info["dtype"] not in _DTYPES:
            raise ValueError(f"tensor {name!r}: unknown dtype {str(info['dtype'])[:20]!r}; "
                             f"expected one of {sorted(_DTYPES)}")
        shape, offsets = info["shape"], info["data_offsets"]
        if not isinstance(shape, list) or not all(_is_count(d) for d in shape):
            raise ValueError(f"tensor {name!r}: shape must be a list of non-negative ints, "
                             f"got {str(shape)[:80]}")
        if not (isinstance(offsets, list) and len(offsets) == 2
                and all(_is_count(o) for o in offsets)):
            raise ValueError(f"tensor {name!r}: data_offsets must be two non-negative ints, "
                             f"got {str(offsets)[:80]}")
        dtype = np.dtype(_DTYPES[info["dtype"]])
        start, end = offsets
        count = math.prod(shape)
        if not start <= end <= len(body) or end - start != count * dtype.itemsize:
            raise ValueError(f"tensor {name!r}: offsets {start}..{end} do not hold "
                             f"{shape} {info['dtype']} within the file's {len(body)} "
                             "bytes of data")
        declared.append((start, end, name, dtype, shape, count))
    # As the format requires (and the safetensors library checks): the tensors' bytes
    # follow one another and fill the data, so no tensor reads another's bytes.
    covered = 0
    for start, end, name, *_ in sorted(declared):
        if start != covered:
            where = "the tensor before it ends" if covered else "the data starts"
            raise ValueError(f"tensor {name!r}: its data starts at byte {start}, not at "
                             f"{covered} where {where}")
        covered = end
    if covered != len(body):
        raise ValueError(f"the tensors hold {covered} of the file's {len(body)} bytes of "
                         "data")
    tensors = {}
    for start, end, name, dtype, shape, count in declared:
        flat = np.frombuffer(body[start:end], dtype.newbyteorder("<"), count)
        tensors[name] = flat.astype(dtype).reshape(shape)  # a copy, native order
    return tensors, metadata


def load_safetensors(f: str | os.PathLike[str] | BinaryIO) -> Any:
    """Reads what :func:`save_safetensors` wrote (or any safetensors file); no unpickling.

    Args:
        f: a path or a binary file object open for reading.

    Returns:
        The saved object with numpy arrays in place of the arrays; a safetensors file
        written elsewhere loads as a flat ``{name: array}`` dict.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the data is not a safetensors file: a header length, shape, dtype or
            offset that the file does not bear out, or a malformed ``fnnet.layout``
            entry; the message names the file. Nothing is allocated beyond the file's
            own size.
        TypeError: ``f`` is neither a path nor a readable binary file.

    PyTorch equivalent: ``torch.load(f, weights_only=True)``.
    """
    read = getattr(f, "read", None)
    if callable(read):
        data, name = read(), getattr(f, "name", "the file")
    elif isinstance(f, (str, os.PathLike)):
        if not pathlib.Path(f).is_file():
            raise FileNotFoundError(f"load_safetensors: no such file {os.fspath(f)!r}")
        data, name = pathlib.Path(f).read_bytes(), os.fspath(f)
    else:
        raise TypeError(f"load_safetensors: f must be a file path or a binary file, got "
                        f"{type(f).__name__}")
    try:
        tensors, metadata = _read(data)
    except Exception as error:  # malformed: a short file, a header that is no JSON, ...
        raise ValueError(f"load_safetensors: {name!r} is not a safetensors file "
                         f"({type(error).__name__}: {error})") from None
    if _LAYOUT not in metadata:
        return tensors
    try:
        return _decode(json.loads(metadata[_LAYOUT]), tensors)
    except (ValueError, RecursionError) as error:  # JSONDecodeError is a ValueError
        raise ValueError(f"load_safetensors: {name!r} has a malformed {_LAYOUT} entry "
                         f"({type(error).__name__}: {error})") from None
