"""Saving state dicts (and nested containers of arrays) to safetensors files: no pickles.

``torch.save`` pickles, and ``torch.load`` of an untrusted file can run code. fnnet
writes the arrays as a safetensors file (a JSON header and raw bytes) and the rest of
the object (dicts, lists, numbers, strings) as JSON in its metadata, so loading never
runs code. A flat ``{name: array}`` state dict becomes a plain safetensors file whose
tensor names are the state dict's keys, readable by any safetensors tool.
"""

from __future__ import annotations

import json
import os
import pathlib
import tempfile
from collections.abc import Mapping
from typing import Any

import numpy as np

_LAYOUT = "fnnet.layout"  # metadata entry holding the JSON skeleton of the object
_SCALARS = (type(None), bool, int, float, str)


def _is_array(value: Any) -> bool:
    return (isinstance(value, np.ndarray | np.generic) or hasattr(value, "__array__")) \
        and not isinstance(value, _SCALARS)


def _host_array(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # a PyTorch tensor, without importing torch
        value = value.detach().cpu()
    # np.require keeps 0-d arrays 0-d (np.ascontiguousarray would make them 1-d).
    return np.require(np.asarray(value), requirements="C")


def _encode(obj: Any, path: str, tensors: dict[str, np.ndarray]) -> Any:
    """The JSON skeleton of ``obj``; its arrays go into ``tensors`` under their path."""
    if isinstance(obj, _SCALARS):
        return obj
    if _is_array(obj):
        name = path or "tensor"
        while name in tensors:  # e.g. keys "a.b" and ("a", "b") of nested dicts
            name += "_"
        tensors[name] = _host_array(obj)
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


def _decode(skeleton: Any, tensors: Mapping[str, np.ndarray]) -> Any:
    if isinstance(skeleton, list):
        return [_decode(v, tensors) for v in skeleton]
    if isinstance(skeleton, dict):
        if "__tensor__" in skeleton:
            return tensors[skeleton["__tensor__"]]
        if "__tuple__" in skeleton:
            return tuple(_decode(v, tensors) for v in skeleton["__tuple__"])
        return {key: _decode(value, tensors) for key, value in skeleton["__dict__"]}
    return skeleton


def save_safetensors(obj: Any, path: str | os.PathLike) -> None:
    """Writes ``obj`` to ``path`` as a safetensors file, atomically.

    Args:
        obj: a flat state dict ``{name: array}`` or any nesting of dicts (str or int
            keys), lists and tuples of arrays (numpy, JAX, or tensors with
            ``.detach().cpu()``) and of None, bool, int, float and str.
        path: the file to write; it is written beside as a temporary file and renamed
            into place, so a killed process never leaves a half-written ``path``.

    Raises:
        TypeError: ``obj`` holds something else (the message names where).

    PyTorch equivalent: ``torch.save(obj, path)`` for state dicts and checkpoints.
    """
    from safetensors.numpy import save_file

    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"save_safetensors: path must be a file path, got {type(path).__name__}")
    tensors: dict[str, np.ndarray] = {}
    skeleton = _encode(obj, "", tensors)
    target = pathlib.Path(path)
    handle, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                   dir=target.parent if str(target.parent) else ".")
    os.close(handle)
    try:
        save_file(tensors, tmp, metadata={_LAYOUT: json.dumps(skeleton)})
        os.replace(tmp, target)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise


def load_safetensors(path: str | os.PathLike) -> Any:
    """Reads what :func:`save_safetensors` wrote (or any safetensors file) from ``path``.

    Args:
        path: a safetensors file.

    Returns:
        The saved object with numpy arrays in place of the arrays; a safetensors file
        written elsewhere loads as a flat ``{name: array}`` dict.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not a safetensors file.

    PyTorch equivalent: ``torch.load(path, weights_only=True)``.
    """
    from safetensors import SafetensorError, safe_open

    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"load_safetensors: path must be a file path, got {type(path).__name__}")
    if not pathlib.Path(path).is_file():
        raise FileNotFoundError(f"load_safetensors: no such file {os.fspath(path)!r}")
    try:
        with safe_open(os.fspath(path), framework="np") as file:
            tensors = {name: file.get_tensor(name) for name in file.keys()}  # noqa: SIM118
            metadata = file.metadata() or {}
    except SafetensorError as error:
        raise ValueError(f"load_safetensors: {os.fspath(path)!r} is not a safetensors file "
                         f"({error})") from error
    if _LAYOUT not in metadata:
        return tensors
    return _decode(json.loads(metadata[_LAYOUT]), tensors)
