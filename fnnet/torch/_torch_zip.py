"""Writing PyTorch's ``torch.save`` format: a zip archive of a pickle and raw storages,
which PyTorch reads with ``torch.load(f, weights_only=True)`` (its default).

The pickle is written opcode by opcode rather than by Python's pickler, so it names
only the globals a weights-only load accepts (``torch._utils._rebuild_tensor_v2``,
the storage types, dtypes, ``torch.device``, ``collections.OrderedDict`` and
``Counter``, ``builtins.set``) and nothing here imports PyTorch. Each storage record
starts at a multiple of 64 bytes, as PyTorch's writer aligns them (``torch.load(f,
mmap=True)`` needs it).
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import struct
import zipfile
from collections.abc import Mapping
from typing import Any, BinaryIO, NamedTuple

import numpy as np

from fnnet.checkpoint.atomic_file import replacing
from fnnet.interop.torch_file import STORAGE_DTYPES
from fnnet.nn.host import as_saved
from fnnet.torch._dtypes import dtype as torch_dtype
from fnnet.torch.device import device as torch_device

#: numpy dtype -> the name of PyTorch's storage type holding it
_STORAGE_OF = {dtype: name for name, dtype in STORAGE_DTYPES.items()}
#: where each storage record starts (PyTorch's ``.storage_alignment``)
ALIGNMENT = 64
_PREFIX = "archive"  # the folder inside the archive, as PyTorch names a buffer's


def host_array(value: Any) -> np.ndarray | None:
    """``value`` as a C-ordered numpy array when it is a tensor or an array, else None."""
    if isinstance(value, (type(None), bool, int, float, str, bytes)):
        return None
    if isinstance(value, np.generic):  # a numpy scalar is saved as a 0-d tensor
        return np.asarray(value)
    if not (isinstance(value, np.ndarray) or hasattr(value, "__array__")
            or callable(getattr(value, "numpy", None))):
        return None
    shown = value
    if callable(getattr(value, "detach", None)):
        value = value.detach()
    if not isinstance(value, np.ndarray) and callable(getattr(value, "numpy", None)):
        value = value.numpy()
    return np.require(as_saved(shown, np.asarray(value)), requirements="C")


class _ViewOf(NamedTuple):
    """Where a view lies in the tensor it was taken from (its root): the root's values
    and storage cell, the view's offset and strides in elements."""

    root: np.ndarray
    cell: Any
    offset: int
    stride: tuple[int, ...]


def view_of(tensor: Any, array: np.ndarray) -> _ViewOf | None:
    """Where the fnnet.torch view ``tensor`` (of values ``array``) lies in its root, as
    PyTorch saves a view: in its root's storage, which is written whole (``x[:2]``
    saved alone takes ``x``'s bytes, as in PyTorch), so that views saved together load
    as views of one storage. None for a tensor that is no view, whose root is gone, or
    whose values are not where its strides say (a view fnnet.torch took where PyTorch
    copies)."""
    from fnnet.torch import _strides

    link = getattr(tensor, "_view", None)
    if link is None or not array.size:
        return None
    root, cell = link.tensor(), link.cell()
    if root is None or cell is None:
        return None
    layout, offset, copied = _strides._walk(tensor)
    values = host_array(root)
    if copied or values is None or values.dtype != array.dtype:
        return None
    flat = values.reshape(-1)
    if offset + sum((n - 1) * s for n, s in zip(array.shape, layout, strict=True)) \
            >= flat.size or any(s < 0 for s in layout):
        return None
    placed = np.lib.stride_tricks.as_strided(
        flat[offset:], shape=array.shape,
        strides=tuple(s * flat.itemsize for s in layout), writeable=False)
    if np.ascontiguousarray(placed).tobytes() != array.tobytes():
        return None
    return _ViewOf(values, cell, offset, tuple(layout))


class NotPlainValue(TypeError):
    """An object other than tensors, arrays, containers and plain values: a whole module,
    optimizer or other object, which only a pickle of objects holds."""


class _Pickle:
    """Builds the ``data.pkl`` of an object, collecting its arrays as storages."""

    def __init__(self) -> None:
        self.out = bytearray(b"\x80\x02")  # PROTO 2
        self.storages: list[np.ndarray] = []
        # the storage key of each fnnet.torch tensor storage written (by id of its cell),
        # with the array written: aliases of one tensor (a tied weight under two names
        # in a state dict) share one storage, as in PyTorch's files
        self._shared: dict[int, tuple[int, np.ndarray]] = {}

    def _global(self, module: str, name: str) -> None:
        self.out += b"c" + f"{module}\n{name}\n".encode()

    def _int(self, value: int) -> None:
        if 0 <= value < 1 << 8:
            self.out += b"K" + struct.pack("<B", value)
        elif 0 <= value < 1 << 16:
            self.out += b"M" + struct.pack("<H", value)
        elif -(1 << 31) <= value < 1 << 31:
            self.out += b"J" + struct.pack("<i", value)
        else:
            encoded = pickle.encode_long(value)
            self.out += b"\x8a" + struct.pack("<B", len(encoded)) + encoded

    def _str(self, value: str) -> None:
        data = value.encode("utf-8", "surrogatepass")
        self.out += b"X" + struct.pack("<I", len(data)) + data

    def _tuple(self, items: tuple[Any, ...], where: str) -> None:
        self.out += b"("
        for i, item in enumerate(items):
            self.value(item, f"{where}.{i}" if where else str(i))
        self.out += b"t"

    def _ordered_dict(self) -> None:
        self._global("collections", "OrderedDict")
        self.out += b")R"  # OrderedDict()

    def _tensor(self, array: np.ndarray, where: str, requires_grad: bool = False,
                cell: Any = None, view: _ViewOf | None = None) -> None:
        """A tensor of ``array``'s values; ``view``: where it lies in the storage of
        the tensor it is a view of, written as that tensor's storage."""
        storage = storage_type(array, where)
        held, cell = (array, cell) if view is None else (view.root, view.cell)
        key, written = self._shared.get(id(cell), (len(self.storages), None))
        if written is None or written.shape != held.shape or written.dtype != held.dtype:
            key = len(self.storages)
            self.storages.append(held)
            if cell is not None:
                self._shared[id(cell)] = (key, held)
        self._global("torch._utils", "_rebuild_tensor_v2")
        self.out += b"("
        # the storage, as a persistent id: ("storage", type, key, location, numel)
        self.out += b"("
        self._str("storage")
        self._global("torch", storage)
        self._str(str(key))
        self._str("cpu")
        self._int(held.size)
        self.out += b"tQ"
        self._int(0 if view is None else view.offset)  # the offset into the storage
        stride = list(view.stride) if view is not None else \
            [s // array.itemsize for s in array.strides] if array.size else \
            [int(np.prod(array.shape[i + 1:])) for i in range(array.ndim)]
        self._tuple(tuple(int(n) for n in array.shape), where)
        self._tuple(tuple(stride), where)
        self.out += b"\x88" if requires_grad else b"\x89"
        self._ordered_dict()  # backward hooks
        self.out += b"tR"

    def _parameter(self, array: np.ndarray, where: str, requires_grad: bool,
                   cell: Any) -> None:
        """An ``nn.Parameter``, as PyTorch pickles one: its values rebuilt as a parameter."""
        self._global("torch._utils", "_rebuild_parameter")
        self.out += b"("
        self._tensor(array, where, False, cell)
        self.out += b"\x88" if requires_grad else b"\x89"
        self._ordered_dict()  # backward hooks
        self.out += b"tR"

    def value(self, obj: Any, where: str = "") -> None:
        """Appends ``obj``; TypeError naming ``where`` for an object it cannot hold."""
        if obj is None:
            self.out += b"N"
        elif isinstance(obj, bool):
            self.out += b"\x88" if obj else b"\x89"
        elif isinstance(obj, int):
            self._int(obj)
        elif isinstance(obj, float):
            self.out += b"G" + struct.pack(">d", obj)
        elif isinstance(obj, str):
            self._str(obj)
        elif isinstance(obj, torch_dtype):  # a dtype saved as a value: PyTorch's global
            self._global("torch", obj.name)
        elif isinstance(obj, torch_device):  # torch.device(type, index), as PyTorch's
            self._global("torch", "device")
            self._tuple((obj.type,) if obj.index is None else (obj.type, obj.index), where)
            self.out += b"R"
        elif isinstance(obj, Mapping):
            if isinstance(obj, collections.OrderedDict):
                self._ordered_dict()
            elif isinstance(obj, collections.Counter):  # a MultiStepLR's milestones
                self._global("collections", "Counter")
                self.out += b")R"  # Counter()
            else:
                self.out += b"}"
            if obj:
                self.out += b"("
                for key, item in obj.items():
                    self.value(key, where)
                    self.value(item, f"{where}.{key}" if where else str(key))
                self.out += b"u"
            metadata = getattr(obj, "_metadata", None)
            if metadata is not None:  # a state dict's module versions, kept as PyTorch's
                self.value({"_metadata": metadata}, where)
                self.out += b"b"  # BUILD: set as the dict's attribute
        elif isinstance(obj, list):
            self.out += b"]"
            if obj:
                self.out += b"("
                for i, item in enumerate(obj):
                    self.value(item, f"{where}.{i}" if where else str(i))
                self.out += b"e"
        elif type(obj).__name__ == "Size" and isinstance(obj, tuple):  # torch.Size(...)
            self._global("torch", "Size")
            self._tuple(obj, where)
            self.out += b"\x85R"  # TUPLE1 REDUCE: Size((2, 3))
        elif isinstance(obj, tuple):
            self._tuple(obj, where)
        elif type(obj) is set:  # a frozenset is no weights-only value in PyTorch
            self._global("builtins", "set")
            self.out += b"("
            self.value(sorted(obj, key=repr), where)
            self.out += b"tR"
        elif getattr(obj, "is_sparse", False) is True:
            from fnnet.torch.tensor import Unsupported

            raise Unsupported(f"torch.save: fnnet.torch does not save a sparse tensor (at "
                              f"{where or 'the top'!r}): save its .to_dense(), or its "
                              f".coalesce().indices() and .values()")
        else:
            # a numpy array or scalar is pickled as numpy pickles it, as PyTorch's
            # torch.save does (np.random.get_state() in a checkpoint): it loads back as
            # numpy's, where the load trusts the file
            array = None if isinstance(obj, (np.ndarray, np.generic)) else host_array(obj)
            if array is None:
                raise NotPlainValue(f"torch.save: cannot save a {type(obj).__name__} at "
                                f"{where or 'the top'!r}: only tensors, arrays, dicts, "
                                f"lists, tuples, sets, None, bool, int, float and str")
            from fnnet.torch.nn.parameter import Parameter

            requires_grad = getattr(obj, "requires_grad", False) is True
            cell = getattr(obj, "_cell", None)  # an fnnet.torch tensor's storage
            if isinstance(obj, Parameter):  # torch.save(model.fc.weight)
                self._parameter(array, where, requires_grad, cell)
            else:
                self._tensor(array, where, requires_grad, cell, view_of(obj, array))


def _record(archive: zipfile.ZipFile, buffer: io.BytesIO, name: str, data: bytes) -> None:
    """Adds ``name`` (stored, not compressed) with its data at a multiple of
    :data:`ALIGNMENT`, padded by an extra field as PyTorch's writer pads."""
    info = zipfile.ZipInfo(f"{_PREFIX}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    start = buffer.tell() + 30 + len(info.filename.encode()) + 4  # after the header
    if len(data) * 1.05 > zipfile.ZIP64_LIMIT:  # zipfile's test: a storage near 4 GiB
        start += 20  # gets a zip64 field after the extra field, before the data
    pad = -start % ALIGNMENT
    info.extra = struct.pack("<HH", 0x4246, pad) + b"Z" * pad  # "FB", PyTorch's id
    archive.writestr(info, data)


def torch_zip_bytes(obj: Any) -> bytes:
    """``obj`` in PyTorch's ``torch.save`` format.

    Raises:
        TypeError: ``obj`` holds an object other than tensors, arrays, containers and
            plain values (the message names where), or an array of a dtype PyTorch lacks.
    """
    pickled = _Pickle()
    pickled.value(obj)
    pickled.out += b"."  # STOP
    return archive_bytes(bytes(pickled.out), pickled.storages)


def archive_bytes(pickled: bytes, storages: list[np.ndarray]) -> bytes:
    """The archive of a ``data.pkl`` whose storage keys ``"0"``, ``"1"``... are the
    arrays ``storages``, each written little-endian at an aligned offset."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        _record(archive, buffer, "data.pkl", pickled)
        _record(archive, buffer, ".format_version", b"1")
        _record(archive, buffer, ".storage_alignment", str(ALIGNMENT).encode())
        _record(archive, buffer, "byteorder", b"little")
        for key, array in enumerate(storages):
            little = array.astype(array.dtype.newbyteorder("<"), copy=False)
            _record(archive, buffer, f"data/{key}", little.tobytes())
        _record(archive, buffer, "version", b"3\n")
    return buffer.getvalue()


def storage_type(array: np.ndarray, where: str) -> str:
    """The name of PyTorch's storage type for ``array``'s elements; TypeError naming
    ``where`` for a dtype PyTorch's format lacks."""
    storage = _STORAGE_OF.get(array.dtype)
    if storage is None:
        raise TypeError(f"torch.save: cannot save an array of {array.dtype} at "
                        f"{where or 'the top'!r}: PyTorch's format has no such tensor")
    return storage


def write_atomically(data: bytes, f: str | os.PathLike[str] | BinaryIO) -> None:
    """Writes ``data`` to a binary file object, or to a path through a new file beside
    it, synced and renamed into place once complete (:func:`~fnnet.checkpoint.
    atomic_file.replacing`)."""
    if not isinstance(f, (str, os.PathLike)):
        f.write(data)
        return
    with replacing(f) as tmp:
        tmp.write_bytes(data)
