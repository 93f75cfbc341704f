"""PyTorch's checkpoint files (``torch.save``'s zip archives) read without PyTorch.

``torch.save`` writes a zip archive: ``<name>/data.pkl``, a pickle of the saved object
whose tensors refer to storages, and ``<name>/data/<key>``, each storage's raw bytes. This
reader unpickles ``data.pkl`` with a closed list of globals, the ones a weights-only
checkpoint uses (PyTorch's tensor and parameter rebuilders, its storage types,
``OrderedDict``, ``set``, dtypes, devices), and refuses any other, so reading a file never
runs code from it, as ``torch.load(f, weights_only=True)`` promises. Every size is checked
against the archive before anything is allocated for it.
"""

from __future__ import annotations

import collections
import io
import os
import pathlib
import pickle
import sys
import zipfile
from typing import Any, BinaryIO

import ml_dtypes
import numpy as np

__all__ = ["NotWeightsOnly", "check_records", "load_torch_file"]

#: PyTorch's storage types and the numpy dtype of their elements
STORAGE_DTYPES = {
    "FloatStorage": np.dtype(np.float32), "DoubleStorage": np.dtype(np.float64),
    "HalfStorage": np.dtype(np.float16), "BFloat16Storage": np.dtype(ml_dtypes.bfloat16),
    "LongStorage": np.dtype(np.int64), "IntStorage": np.dtype(np.int32),
    "ShortStorage": np.dtype(np.int16), "CharStorage": np.dtype(np.int8),
    "ByteStorage": np.dtype(np.uint8), "BoolStorage": np.dtype(np.bool_),
}
#: ``torch.<dtype>`` globals (a dtype saved as a value) and their numpy dtype
TORCH_DTYPES = {
    "float32": np.float32, "float": np.float32, "float64": np.float64, "double": np.float64,
    "float16": np.float16, "half": np.float16, "bfloat16": ml_dtypes.bfloat16,
    "int64": np.int64, "long": np.int64, "int32": np.int32, "int": np.int32,
    "int16": np.int16, "short": np.int16, "int8": np.int8, "uint8": np.uint8, "bool": np.bool_,
}
#: the first bytes of PyTorch's format before 1.6 (a pickle, not a zip archive)
LEGACY_MAGIC = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19"


class NotWeightsOnly(pickle.UnpicklingError, ValueError):
    """The file's pickle names a global outside the weights-only list (a whole model's
    class, a numpy array, a function): reading it would run code from the file."""


class _Storage:
    """A storage's elements (1-D numpy array)."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = values


def _rebuild_tensor(storage: Any, offset: Any, size: Any, stride: Any, *rest: Any
                    ) -> np.ndarray:
    """``torch._utils._rebuild_tensor_v2``: the view ``(offset, size, stride)`` of a
    storage, checked to lie inside it, as a new contiguous array."""
    if not isinstance(storage, _Storage):
        raise ValueError(f"a tensor's storage is {type(storage).__name__}, not a storage")
    if not isinstance(offset, int) or not all(isinstance(v, int) for v in (*size, *stride)) \
            or len(size) != len(stride):
        raise ValueError(f"a tensor's layout is malformed: offset {offset!r}, size "
                         f"{size!r}, stride {stride!r}")
    values = storage.values
    if offset < 0 or any(v < 0 for v in (*size, *stride)):
        raise ValueError(f"a tensor's layout is negative: offset {offset}, size "
                         f"{tuple(size)}, stride {tuple(stride)}")
    count = int(np.prod(size, dtype=np.int64))
    if count:
        last = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
        if last >= len(values):
            raise ValueError(f"a tensor of size {tuple(size)} at offset {offset} with "
                             f"stride {tuple(stride)} reaches element {last} of a storage "
                             f"of {len(values)}")
        view = np.lib.stride_tricks.as_strided(
            values[offset:], shape=tuple(size),
            strides=tuple(s * values.itemsize for s in stride), writeable=False)
        return np.array(view)
    return np.zeros(tuple(size), values.dtype)


def _rebuild_parameter(data: Any, requires_grad: Any = False, hooks: Any = None,
                       state: Any = None) -> Any:
    """``torch._utils._rebuild_parameter``: the parameter's values (a state dict's
    parameters are plain tensors; this appears inside whole models and optimizers)."""
    del requires_grad, hooks, state
    return data


def _device(name: Any, index: Any = None) -> str:
    return str(name) if index is None else f"{name}:{index}"


def _torch_global(name: str) -> Any:
    if name in STORAGE_DTYPES:
        return ("storage type", STORAGE_DTYPES[name])
    if name in TORCH_DTYPES:
        return np.dtype(TORCH_DTYPES[name])
    if name == "Size":
        return tuple
    if name == "device":
        return _device
    return None


_GLOBALS: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("builtins", "set"): set, ("__builtin__", "set"): set,
    ("builtins", "frozenset"): frozenset, ("__builtin__", "frozenset"): frozenset,
    ("builtins", "bytearray"): bytearray, ("__builtin__", "bytearray"): bytearray,
    ("_codecs", "encode"): lambda text, encoding="latin1": text.encode(encoding),
}


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes, archive: zipfile.ZipFile, prefix: str,
                 byteorder: str) -> None:
        super().__init__(io.BytesIO(data))
        self._archive, self._prefix, self._byteorder = archive, prefix, byteorder
        self._storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str) -> Any:
        found = _GLOBALS.get((module, name))
        if found is None and module == "torch":
            found = _torch_global(name)
        if found is None:
            raise NotWeightsOnly(f"the pickle names {module}.{name}, which a "
                                 f"weights-only checkpoint does not hold; refused")
        return found

    def persistent_load(self, pid: Any) -> _Storage:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], tuple) and pid[1][:1] == ("storage type",)):
            raise ValueError(f"an unknown storage reference {pid!r}")
        _, (_, dtype), key, _, numel = pid
        key = str(key)
        if key in self._storages:
            return self._storages[key]
        record = f"{self._prefix}data/{key}"
        try:
            info = self._archive.getinfo(record)
        except KeyError:
            raise ValueError(f"storage {key} is missing from the archive") from None
        if not isinstance(numel, int) or numel < 0 or info.file_size != numel * dtype.itemsize:
            raise ValueError(f"storage {key} holds {info.file_size} bytes, not {numel!r} "
                             f"elements of {dtype.itemsize} bytes")
        values = np.frombuffer(self._archive.read(record), dtype)
        values = values.byteswap() if self._byteorder != sys.byteorder else values.copy()
        storage = self._storages[key] = _Storage(values)
        return storage


def check_records(archive: zipfile.ZipFile, size: int, name: str) -> None:
    """Refuses records that claim more bytes than the file holds, or are compressed
    (``torch.save`` stores them as they are), before any is read."""
    records = archive.infolist()
    for record in records:
        if record.compress_type != zipfile.ZIP_STORED or record.file_size > size \
                or record.compress_size != record.file_size:
            raise ValueError(f"{name}: record {record.filename!r} declares {record.file_size} "
                             f"bytes (compression {record.compress_type}) in a {size}-byte "
                             f"file; torch.save stores records uncompressed")
    if sum(r.file_size for r in records) > size:
        raise ValueError(f"{name}: the records declare {sum(r.file_size for r in records)} "
                         f"bytes, more than the file's {size}")


def load_torch_file(f: str | os.PathLike[str] | BinaryIO | bytes) -> Any:
    """The object a ``torch.save`` file holds, with numpy arrays for its tensors.

    Args:
        f: a path, a binary file open for reading, or the file's bytes.

    Returns:
        The saved object (dicts, ``OrderedDict``, lists, tuples, numbers, strings...)
        with each tensor a numpy array of its dtype (``bfloat16`` from ``ml_dtypes``).

    Raises:
        FileNotFoundError: no such file.
        NotWeightsOnly: the pickle names a global a weights-only checkpoint does not
            hold (a whole model saved by ``torch.save(model)``); also a ValueError.
        ValueError: a damaged file (not a zip archive, a truncated or oversized record, a
            missing storage, a tensor outside its storage), PyTorch's format before 1.6,
            or an unknown storage type; the message names the file.
    """
    if isinstance(f, bytes):
        data, name = f, "the file"
    elif isinstance(f, (str, os.PathLike)):
        path = pathlib.Path(f)
        if not path.is_file():
            raise FileNotFoundError(f"no such file {str(path)!r}")
        data, name = path.read_bytes(), repr(str(path))
    elif callable(getattr(f, "read", None)):
        data, name = f.read(), repr(getattr(f, "name", "the file"))
    else:
        raise TypeError(f"load_torch_file: f must be a path, a binary file or bytes, got "
                        f"{type(f).__name__}")
    if data.startswith(LEGACY_MAGIC):
        raise ValueError(f"{name} is in PyTorch's format from before 1.6 (not a zip "
                         f"archive); load it with PyTorch and save it again")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        check_records(archive, len(data), name)
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl")
                   and n.count("/") == 1]
        if len(pickles) != 1:
            raise ValueError(f"{name}: no single <name>/data.pkl record: not a torch.save "
                             f"archive")
        prefix = pickles[0][:-len("data.pkl")]
        byteorder = "little"
        if f"{prefix}byteorder" in archive.namelist():
            byteorder = archive.read(f"{prefix}byteorder").decode("ascii", "replace").strip()
            if byteorder not in ("little", "big"):
                raise ValueError(f"{name}: an unknown byte order {byteorder!r}")
        unpickler = _Unpickler(archive.read(pickles[0]), archive, prefix, byteorder)
        return unpickler.load()
    except NotWeightsOnly as error:
        raise NotWeightsOnly(f"{name}: {error}") from None
    except (zipfile.BadZipFile, EOFError, pickle.UnpicklingError, OSError, TypeError,
            KeyError, IndexError, AttributeError, OverflowError, MemoryError,
            RuntimeError, NotImplementedError) as error:
        # zipfile's own refusals (encrypted or newer-version records) are RuntimeError
        # and NotImplementedError; a corrupted pickle can give most of the others
        raise ValueError(f"{name}: a damaged torch.save archive "
                         f"({type(error).__name__}: {error})") from None
    except ValueError as error:
        message = str(error)
        raise ValueError(message if message.startswith(name) else
                         f"{name}: {message}") from None
