"""PyTorch's checkpoint files (``torch.save``'s zip archives, and its format before 1.6)
read without PyTorch.

``torch.save`` writes a zip archive: ``<name>/data.pkl``, a pickle of the saved object
whose tensors refer to storages, and ``<name>/data/<key>``, each storage's raw bytes. This
reader unpickles ``data.pkl`` with a closed list of globals, the ones a weights-only
checkpoint uses (PyTorch's tensor and parameter rebuilders, its storage types,
``OrderedDict``, ``Counter``, ``set``, ``complex``, dtypes, devices: PyTorch's own list),
and refuses any other, so reading a file never runs code from it, as ``torch.load(f,
weights_only=True)`` promises. Every size is checked against the archive before anything
is allocated for it.
"""

from __future__ import annotations

import collections
import io
import os
import pathlib
import pickle
import sys
import zipfile
from collections.abc import Callable
from typing import Any, BinaryIO, Literal, NamedTuple

import ml_dtypes
import numpy as np

__all__ = ["DeviceName", "LayoutName", "NotWeightsOnly", "SizeTuple", "TrainableArray",
           "UnsupportedTensor", "check_records", "is_legacy_torch_file", "load_torch_file",
           "trust_absent_checksums", "weights_only_global"]

#: PyTorch's storage types and the numpy dtype of their elements
STORAGE_DTYPES = {
    "FloatStorage": np.dtype(np.float32), "DoubleStorage": np.dtype(np.float64),
    "HalfStorage": np.dtype(np.float16), "BFloat16Storage": np.dtype(ml_dtypes.bfloat16),
    "LongStorage": np.dtype(np.int64), "IntStorage": np.dtype(np.int32),
    "ShortStorage": np.dtype(np.int16), "CharStorage": np.dtype(np.int8),
    "ByteStorage": np.dtype(np.uint8), "BoolStorage": np.dtype(np.bool_),
    "ComplexFloatStorage": np.dtype(np.complex64),
    "ComplexDoubleStorage": np.dtype(np.complex128),
}
#: ``torch.<dtype>`` globals (a dtype saved as a value) and their numpy dtype
TORCH_DTYPES = {
    "float32": np.float32, "float": np.float32, "float64": np.float64, "double": np.float64,
    "float16": np.float16, "half": np.float16, "bfloat16": ml_dtypes.bfloat16,
    "int64": np.int64, "long": np.int64, "int32": np.int32, "int": np.int32,
    "int16": np.int16, "short": np.int16, "int8": np.int8, "uint8": np.uint8, "bool": np.bool_,
    "complex64": np.complex64, "cfloat": np.complex64, "complex128": np.complex128,
    "cdouble": np.complex128, "uint16": np.uint16, "uint32": np.uint32,
    "uint64": np.uint64, "float8_e4m3fn": ml_dtypes.float8_e4m3fn,
    "float8_e5m2": ml_dtypes.float8_e5m2, "float8_e4m3fnuz": ml_dtypes.float8_e4m3fnuz,
    "float8_e5m2fnuz": ml_dtypes.float8_e5m2fnuz, "float8_e8m0fnu": ml_dtypes.float8_e8m0fnu,
}
#: the most bytes a view repeating its storage's elements (an expanded tensor, whose
#: strides are 0) is made into: PyTorch keeps such a view in its storage's bytes,
#: a numpy array holds each element
EXPANDED_LIMIT = 1 << 30
#: PyTorch's magic number as a pickle's LONG1 opcode: the first value of its format
#: before 1.6 (a sequence of pickles, not a zip archive), after a PROTO opcode (and a
#: FRAME opcode from pickle protocol 4 on)
LEGACY_MAGIC = b"\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19"


def is_legacy_torch_file(data: bytes) -> bool:
    """Whether ``data`` opens as a file of PyTorch's format before 1.6 (what
    ``torch.save(obj, f, _use_new_zipfile_serialization=False)`` writes)."""
    return data[:1] == b"\x80" and LEGACY_MAGIC in data[:2 + 9 + len(LEGACY_MAGIC)]


class NotWeightsOnly(pickle.UnpicklingError, ValueError):
    """The file's pickle names a global outside the weights-only list (a whole model's
    class, a numpy array, a function): reading it would run code from the file."""


class Layout(NamedTuple):
    """Where a tensor read by :func:`load_torch_file` lies in its storage, as PyTorch
    keeps it: the tensor's array, the storage's elements (1-D, one object for every
    tensor of that storage), and the tensor's offset, size and stride in elements."""

    array: np.ndarray
    storage: np.ndarray
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


class _Budget:
    """The bytes the tensors of one file may still take: the file's size and
    :data:`EXPANDED_LIMIT` more. PyTorch's tensors are views of the storages, a numpy
    array of each holds its elements: views that overlap (an expanded tensor, many
    slices of one storage) could otherwise make a small file take any memory."""

    def __init__(self, file_size: int, layouts: dict[int, Layout] | None = None,
                 locations: set[str] | None = None) -> None:
        self.limit = self.left = file_size + EXPANDED_LIMIT
        # where each tensor of the file lies in its storage, and the devices its
        # storages were saved from, where the caller asks (load_torch_file's
        # ``layouts`` and ``locations``)
        self.layouts = layouts
        self.locations = locations

    def saved_on(self, location: Any) -> None:
        """Records a storage's location (``"cpu"``, ``"cuda:0"``) for the caller."""
        if self.locations is not None and isinstance(location, str):
            self.locations.add(location)

    def take(self, size: int, what: str) -> None:
        if size > self.left:
            raise ValueError(f"{what} takes {size} bytes, more than the {self.left} left of "
                             f"the {self.limit} that the file's tensors may take (its size "
                             f"and {EXPANDED_LIMIT} more): its tensors overlap in their "
                             f"storages; save them made .contiguous() or .clone()")
        self.left -= size


class _Storage:
    """A storage's elements (1-D numpy array), or its dtype and length alone where the
    elements follow the pickle (PyTorch's format before 1.6); ``budget`` is shared by
    the storages of one file."""

    def __init__(self, values: np.ndarray | None, dtype: np.dtype[Any] | None = None,
                 numel: int = 0, *, budget: _Budget) -> None:
        self.values = values
        self.dtype = values.dtype if values is not None else dtype
        self.numel = len(values) if values is not None else numel
        self.views: dict[tuple[Any, ...], np.ndarray] = {}
        self.budget = budget

    def view(self, offset: int, size: Any, stride: Any) -> np.ndarray:
        """The view ``(offset, size, stride)`` of the elements as a new array; a view
        asked for again (a tied weight saved under two names) is a numpy view of the
        first, so that the two share their values as PyTorch's tensors share the
        storage."""
        assert self.values is not None  # read before any view of it is made
        key = (offset, tuple(size), tuple(stride))
        first = self.views.get(key)
        if first is None:
            first = self.views[key] = _view(self.values, offset, size, stride,
                                            self.budget)
            return first
        return first.view()


class TrainableArray(np.ndarray):
    """The values of a tensor saved with ``requires_grad=True`` or as an
    ``nn.Parameter`` (``torch.save(model.fc.weight, f)``), which say so: a numpy array
    with the flags ``requires_grad`` and ``parameter``."""

    requires_grad: bool = False
    parameter: bool = False


class _PendingTensor:
    """A tensor of a storage whose elements are not read yet (PyTorch's format before
    1.6 writes them after the pickle); :func:`_resolve` makes it an array."""

    def __init__(self, storage: _Storage, offset: int, size: tuple[int, ...],
                 stride: tuple[int, ...]) -> None:
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride
        self.requires_grad = self.parameter = False
        self.dtype: np.dtype[Any] | None = None  # the dtype it is cast to, if another


def _flagged(values: Any, requires_grad: Any, parameter: bool) -> Any:
    """``values`` (an array or a :class:`_PendingTensor`) marked as a tensor requiring
    gradients or a parameter, where it is one."""
    if not (requires_grad is True or parameter):
        return values
    if not isinstance(values, np.ndarray):  # pending, or not a tensor: refused later
        if isinstance(values, _PendingTensor):
            values.requires_grad, values.parameter = requires_grad is True, parameter
        return values
    marked = values.view(TrainableArray)
    marked.requires_grad, marked.parameter = requires_grad is True, parameter
    return marked


def _rebuild_tensor(storage: Any, offset: Any, size: Any, stride: Any, *rest: Any) -> Any:
    """``torch._utils._rebuild_tensor_v2``: the view ``(offset, size, stride)`` of a
    storage, checked to lie inside it, as a new contiguous array (a
    :class:`TrainableArray` where ``rest`` starts with ``requires_grad=True``)."""
    array = _flagged(_rebuild_plain(storage, offset, size, stride), rest[:1] == (True,),
                     False)
    if type(array) is np.ndarray and storage.values is not None \
            and storage.budget.layouts is not None:
        storage.budget.layouts[id(array)] = Layout(array, storage.values, offset,
                                                   tuple(size), tuple(stride))
    return array


def _rebuild_plain(storage: Any, offset: Any, size: Any, stride: Any
                   ) -> np.ndarray | _PendingTensor:
    """:func:`_rebuild_tensor` without its flags."""
    if not isinstance(storage, _Storage):
        raise ValueError(f"a tensor's storage is {type(storage).__name__}, not a storage")
    if not isinstance(offset, int) or not isinstance(size, tuple | list) \
            or not isinstance(stride, tuple | list) \
            or not all(isinstance(v, int) for v in (*size, *stride)) \
            or len(size) != len(stride):
        raise ValueError(f"a tensor's layout is malformed: offset {offset!r}, size "
                         f"{size!r}, stride {stride!r}")
    if storage.values is None:
        _view_bounds(storage.numel, offset, size, stride)
        return _PendingTensor(storage, offset, tuple(size), tuple(stride))
    return storage.view(offset, size, stride)


def _view_bounds(numel: int, offset: int, size: Any, stride: Any) -> int:
    """The element count of the view ``(offset, size, stride)``, checked to lie inside a
    storage of ``numel`` elements."""
    if offset < 0 or any(v < 0 for v in (*size, *stride)):
        raise ValueError(f"a tensor's layout is negative: offset {offset}, size "
                         f"{tuple(size)}, stride {tuple(stride)}")
    count = 1
    for n in size:  # Python's integers: numpy's int64 product can wrap around
        count *= n
    if count:
        last = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
        if last >= numel:
            raise ValueError(f"a tensor of size {tuple(size)} at offset {offset} with "
                             f"stride {tuple(stride)} reaches element {last} of a storage "
                             f"of {numel}")
    return count


def _view(values: np.ndarray, offset: int, size: Any, stride: Any, budget: _Budget
          ) -> np.ndarray:
    """The view ``(offset, size, stride)`` of a storage's ``values`` as a new contiguous
    array, checked to lie inside it and to fit the file's ``budget``."""
    count = _view_bounds(len(values), offset, size, stride)
    if count > len(values) and count * values.itemsize > EXPANDED_LIMIT:
        raise ValueError(f"a tensor of size {tuple(size)} with stride {tuple(stride)} "
                         f"repeats the {len(values)} elements of its storage (an expanded "
                         f"tensor) over {count * values.itemsize} bytes, more than the "
                         f"{EXPANDED_LIMIT} read here; save it made .contiguous(), or "
                         f"before it was expanded")
    budget.take(count * values.itemsize, f"a tensor of size {tuple(size)}")
    if count:
        view = np.lib.stride_tricks.as_strided(
            values[offset:], shape=tuple(size),
            strides=tuple(s * values.itemsize for s in stride), writeable=False)
        return np.array(view)
    return np.zeros(tuple(size), values.dtype)


def _rebuild_tensor_v3(storage: Any, offset: Any, size: Any, stride: Any,
                       requires_grad: Any, hooks: Any, dtype: Any, *rest: Any) -> Any:
    """``torch._utils._rebuild_tensor_v3``: a tensor of a dtype without a typed storage
    (uint16, uint32, uint64, float8...), whose storage is its raw bytes."""
    del requires_grad, hooks, rest
    if not isinstance(dtype, np.dtype):
        raise ValueError(f"a tensor's dtype is {dtype!r}, not a dtype")
    if not isinstance(storage, _Storage) or storage.dtype != np.dtype(np.uint8):
        raise ValueError(f"a tensor of {dtype} refers to {type(storage).__name__}, not "
                         f"an untyped storage")
    if storage.values is None:
        raise ValueError(f"a tensor of {dtype} in PyTorch's format before 1.6, which "
                         f"holds no such tensor")
    if len(storage.values) % dtype.itemsize:
        raise ValueError(f"an untyped storage of {len(storage.values)} bytes holds no "
                         f"whole number of {dtype} elements")
    return _rebuild_plain(_Storage(storage.values.view(dtype), budget=storage.budget),
                          offset, size, stride)


def _rebuild_parameter(data: Any, requires_grad: Any = False, hooks: Any = None,
                       state: Any = None) -> Any:
    """``torch._utils._rebuild_parameter``: the parameter's values, marked as a
    parameter (a state dict's parameters are plain tensors; this appears where a
    parameter itself was saved, and inside whole models and optimizers)."""
    del hooks, state
    return _flagged(data, requires_grad, True)


class _TensorType:
    """``torch.Tensor`` as a pickle names it: the type a weights-only load rebuilds a
    tensor saved with attributes of its own as."""


def _rebuild_from_type(func: Any, new_type: Any, args: Any, state: Any) -> Any:
    """``torch._tensor._rebuild_from_type_v2``: a tensor saved with attributes of its
    own (``t.note = ...``, or ``nn.Buffer``'s flags), rebuilt by ``func``; the attributes
    are not kept (a numpy array holds none)."""
    del state
    if new_type is not _TensorType or not callable(func) or not isinstance(args, tuple):
        raise ValueError(f"a tensor of type {new_type!r} rebuilt by {func!r}, which a "
                         f"weights-only checkpoint does not hold")
    return func(*args)


class DeviceName(str):
    """A ``torch.device`` saved as a value: its name (``"cuda:0"``)."""

    __slots__ = ()


def _device(name: Any, index: Any = None) -> DeviceName:
    return DeviceName(name if index is None else f"{name}:{index}")


class SizeTuple(tuple[int, ...]):
    """A ``torch.Size`` saved as a value (a tensor's shape): a tuple that says so."""


class LayoutName(str):
    """A ``torch.layout`` saved as a value: its name (``"torch.strided"``)."""

    __slots__ = ()


def _layout(name: Any) -> LayoutName:
    """``torch.serialization._get_layout``: a layout by its name."""
    if not isinstance(name, str) or not name.startswith("torch."):
        raise ValueError(f"a layout named {name!r}, not torch.<layout>")
    return LayoutName(name)


class UnsupportedTensor(NotImplementedError, ValueError):
    """A tensor that PyTorch's weights-only load rebuilds but a dense numpy array does
    not hold (sparse, quantized, nested, on the meta device, a tensor subclass)."""


def _unsupported(kind: str, advice: str) -> Callable[..., Any]:
    """A rebuilder of PyTorch's weights-only list that refuses its ``kind`` of tensor
    by name (the file is intact: it is not damage, nor code)."""

    def rebuild(*args: Any) -> Any:
        del args
        raise UnsupportedTensor(f"a {kind} tensor, which a numpy array cannot hold: in "
                                f"PyTorch, {advice} and save it again")

    return rebuild


def _rebuild_device_tensor(data: Any, dtype: Any, device: Any, requires_grad: Any) -> Any:
    """``torch._utils._rebuild_device_tensor_from_cpu_tensor`` (or ``_from_numpy``): a
    tensor of a device without storages of its own (an XLA or TPU tensor), saved as its
    CPU values: those values in ``dtype``."""
    del device
    if isinstance(data, _PendingTensor) and isinstance(dtype, np.dtype):
        data.dtype = dtype  # cast once its storage is read
        return _flagged(data, requires_grad, False)
    if not isinstance(data, np.ndarray) or not isinstance(dtype, np.dtype):
        raise ValueError(f"a device tensor of {type(data).__name__} values and dtype "
                         f"{dtype!r}, not an array and a dtype")
    return _flagged(data.astype(dtype, copy=False), requires_grad, False)


def _torch_global(name: str) -> Any:
    if name in STORAGE_DTYPES:
        return ("storage type", STORAGE_DTYPES[name])
    if name in TORCH_DTYPES:
        return np.dtype(TORCH_DTYPES[name])
    if name == "Size":
        return SizeTuple
    if name == "Tensor":
        return _TensorType
    if name == "device":
        return _device
    return None


_GLOBALS: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,  # PyTorch's before 1.0
    ("torch._utils", "_rebuild_device_tensor_from_cpu_tensor"): _rebuild_device_tensor,
    ("torch._utils", "_rebuild_device_tensor_from_numpy"): _rebuild_device_tensor,
    ("torch._utils", "_rebuild_sparse_tensor"): _unsupported("sparse", "make it .to_dense()"),
    ("torch._utils", "_rebuild_qtensor"): _unsupported("quantized", "make it .dequantize()"),
    ("torch._utils", "_rebuild_nested_tensor"): _unsupported(
        "nested", "make it .to_padded_tensor(0.0)"),
    ("torch._utils", "_rebuild_meta_tensor_no_storage"): _unsupported(
        "meta-device (values-less)", "give it values (.to_empty(device='cpu'))"),
    ("torch._utils", "_rebuild_wrapper_subclass"): _unsupported(
        "subclass (DTensor...)", "make it a plain tensor (DTensor: .full_tensor())"),
    ("torch.serialization", "_get_layout"): _layout,
    ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
    ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("collections", "Counter"): collections.Counter,
    ("torch.storage", "UntypedStorage"): ("storage type", np.dtype(np.uint8)),
    ("builtins", "set"): set, ("__builtin__", "set"): set,
    ("builtins", "complex"): complex, ("__builtin__", "complex"): complex,
    ("builtins", "bytearray"): bytearray, ("__builtin__", "bytearray"): bytearray,
    ("_codecs", "encode"): lambda text, encoding="latin1": text.encode(encoding),
}


def weights_only_global(module: str, name: str) -> Any:
    """What a weights-only load makes of the global ``module.name`` (PyTorch's tensor
    rebuilders give numpy arrays, a storage type gives ``("storage type", dtype)``), or
    None for a global outside that list."""
    found = _GLOBALS.get((module, name))
    if found is None and module == "torch":
        found = _torch_global(name)
    return found


class _ResolverError(Exception):
    """An error of the caller's ``find_class`` (see :func:`load_torch_file`), carried
    past the wrapping of unpickling errors as damage."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class _PlainUnpickler(pickle.Unpickler):
    """Plain values only (numbers, strings, containers): every global is refused."""

    def find_class(self, module: str, name: str) -> Any:
        raise NotWeightsOnly(f"the pickle names {module}.{name}, which a "
                             f"weights-only checkpoint does not hold; refused")


class _WeightsUnpickler(_PlainUnpickler):
    """The weights-only globals of :data:`_GLOBALS` and ``torch``'s dtypes, storage
    types, ``Size`` and ``device``; or what ``resolve`` makes of each global, where the
    caller gives it (see :func:`load_torch_file`)."""

    def __init__(self, file: BinaryIO, resolve: Callable[[str, str], Any] | None = None
                 ) -> None:
        super().__init__(file)
        self._resolve = resolve

    def find_class(self, module: str, name: str) -> Any:
        if self._resolve is not None:
            try:
                return self._resolve(module, name)
            except Exception as error:  # noqa: BLE001 - the caller's own error, as it is
                raise _ResolverError(error) from None
        found = weights_only_global(module, name)
        if found is None:
            return super().find_class(module, name)
        return found


class _Unpickler(_WeightsUnpickler):
    """``data.pkl`` of a ``torch.save`` archive, its storages read from the archive."""

    def __init__(self, data: bytes, archive: zipfile.ZipFile, prefix: str,
                 byteorder: str, resolve: Callable[[str, str], Any] | None = None, *,
                 budget: _Budget) -> None:
        super().__init__(io.BytesIO(data), resolve)
        self._archive, self._prefix, self._byteorder = archive, prefix, byteorder
        self._storages: dict[str, _Storage] = {}
        self._budget = budget

    def persistent_load(self, pid: Any) -> _Storage:
        # the storage type is PyTorch's global, or its name where fnnet.torch wrote a
        # whole object (its pickler names no torch global)
        if isinstance(pid, tuple) and len(pid) == 5 and isinstance(pid[1], str) \
                and pid[1] in STORAGE_DTYPES:
            pid = (pid[0], ("storage type", STORAGE_DTYPES[pid[1]]), *pid[2:])
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], tuple) and pid[1][:1] == ("storage type",)):
            raise ValueError(f"an unknown storage reference {pid!r}")
        _, (_, dtype), key, location, numel = pid
        self._budget.saved_on(location)
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
        # read-only over the record's bytes: each tensor is a copy of its view (_view),
        # so the storage is not copied whole once more
        values = values.byteswap() if self._byteorder != sys.byteorder else values
        storage = self._storages[key] = _Storage(values, budget=self._budget)
        return storage


class _LegacyUnpickler(_WeightsUnpickler):
    """The object pickle of PyTorch's format before 1.6, whose storages' elements follow
    it in the file: each storage is recorded here (dtype, length) to be read after, or
    is one of ``storages``, read already."""

    def __init__(self, stream: BinaryIO, resolve: Callable[[str, str], Any] | None = None,
                 storages: dict[str, _Storage] | None = None, *, budget: _Budget) -> None:
        super().__init__(stream, resolve)
        self.storages: dict[str, _Storage] = {} if storages is None else storages
        self.budget = budget

    def persistent_load(self, pid: Any) -> Any:
        if isinstance(pid, tuple) and len(pid) == 4 and pid[0] == "module" \
                and self._resolve is not None:  # a whole module's class, with its source
            return pid[1]
        # ("storage", storage type, key, location, numel, view): the view of an old
        # storage within another went away with PyTorch 0.4's tensors; none is written now
        if not (isinstance(pid, tuple) and len(pid) == 6 and pid[0] == "storage"
                and isinstance(pid[1], tuple) and pid[1][:1] == ("storage type",)
                and isinstance(pid[3], str) and isinstance(pid[4], int) and pid[4] >= 0):
            raise ValueError(f"an unknown storage reference {pid!r}")
        if pid[5] is not None:
            raise ValueError(f"storage {pid[2]!r} is a view of another storage, which "
                             f"PyTorch's files have not held since version 0.4; load it "
                             f"with PyTorch and save it again")
        _, (_, dtype), key, location, numel, _ = pid
        self.budget.saved_on(location)
        key = str(key)
        storage = self.storages.setdefault(key, _Storage(None, dtype, numel,
                                                         budget=self.budget))
        if (storage.dtype, storage.numel) != (dtype, numel):
            raise ValueError(f"storage {key} is declared twice, as {storage.numel} "
                             f"{storage.dtype} and {numel} {dtype}")
        return storage


_BARE_STORAGE = ("a storage saved as a value (tensor.untyped_storage() or .storage()), "
                 "which fnnet.torch does not have: in PyTorch, save the tensor itself")


def _refuse_storages(obj: Any) -> Any:
    """``obj``, refused where it holds a storage saved as a value, not in a tensor."""
    if isinstance(obj, _Storage):
        raise UnsupportedTensor(_BARE_STORAGE)
    if isinstance(obj, dict):
        for value in obj.values():
            _refuse_storages(value)
    elif isinstance(obj, (list, tuple, set)):
        for value in obj:
            _refuse_storages(value)
    return obj


def _resolve(obj: Any, memo: dict[int, Any] | None = None) -> Any:
    """``obj`` with an array for each :class:`_PendingTensor`, its storage now read; a
    tensor reached twice (saved under two names) is one array."""
    memo = {} if memo is None else memo
    if isinstance(obj, _Storage):
        raise UnsupportedTensor(_BARE_STORAGE)
    if isinstance(obj, _PendingTensor):
        assert obj.storage.values is not None  # every storage is read before this
        if id(obj) not in memo:
            values = obj.storage.view(obj.offset, obj.size, obj.stride)
            if obj.dtype is not None:
                values = values.astype(obj.dtype, copy=False)
            memo[id(obj)] = _flagged(values, obj.requires_grad, obj.parameter)
        return memo[id(obj)]
    if isinstance(obj, dict):
        for key, value in obj.items():
            obj[key] = _resolve(value, memo)
        return obj
    if isinstance(obj, list):
        obj[:] = [_resolve(value, memo) for value in obj]
        return obj
    if isinstance(obj, tuple):
        return type(obj)(_resolve(value, memo) for value in obj) if type(obj) is tuple \
            else obj
    return obj


#: the first three pickles of PyTorch's format before 1.6: its magic number, its
#: protocol version, and a description of the machine that wrote it
LEGACY_MAGIC_NUMBER, LEGACY_PROTOCOL_VERSION = 0x1950A86A20F9469CFC6C, 1001


class _Placeholder:
    """Every global of a whole-object pickle while its storages are found (nothing the
    file names is imported or run): it takes any arguments, items and state."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        del args, kwargs

    def __call__(self, *args: Any, **kwargs: Any) -> _Placeholder:
        return _Placeholder()

    def __setstate__(self, state: Any) -> None:
        del state

    def __setitem__(self, key: Any, value: Any) -> None:
        del key, value

    def append(self, value: Any) -> None:
        del value

    def extend(self, values: Any) -> None:
        del values


def _weights_or_placeholder(module: str, name: str) -> Any:
    """A weights-only global (a tensor is checked against its storage), and
    :class:`_Placeholder` for any other."""
    found = weights_only_global(module, name)
    return _Placeholder if found is None else found


def _plain(stream: BinaryIO, name: str, what: str) -> Any:
    """The next pickle of ``stream``, one of plain values; a global in it is damage (a
    whole object's globals are in the object's pickle alone)."""
    unpickler = _PlainUnpickler(stream)

    def refuse(module: str, global_name: str) -> Any:
        raise ValueError(f"{name}: damaged: its {what}, a pickle of plain values, names "
                         f"the global {module}.{global_name}")

    unpickler.find_class = refuse  # type: ignore[method-assign, assignment]
    return unpickler.load()


def _load_legacy(data: bytes, name: str,
                 find_class: Callable[[str, str], Any] | None = None,
                 locations: set[str] | None = None) -> Any:
    """The object of a file in PyTorch's format before 1.6 (``torch.save(...,
    _use_new_zipfile_serialization=False)``): pickles of the magic number, the protocol
    version and the writer's byte order, the object (tensors referring to storages by
    key), the list of storage keys, then each storage as an 8-byte element count and
    its elements. Every count is checked against the bytes left before any is read.

    With ``find_class`` (whole objects), the object pickle is read twice: first with
    placeholders for its globals, to find its storages, then, the storages read, with
    ``find_class``, so that each object is rebuilt with its tensors' values."""
    stream = io.BytesIO(data)
    magic, protocol = _plain(stream, name, "magic number"), _plain(stream, name, "version")
    if magic != LEGACY_MAGIC_NUMBER or protocol != LEGACY_PROTOCOL_VERSION:
        raise ValueError(f"{name}: not a torch.save file (magic number {magic!r}, protocol "
                         f"{protocol!r})")
    info = _plain(stream, name, "description of its machine")
    little = info.get("little_endian", True) if isinstance(info, dict) else True
    byteorder: Literal["little", "big"] = "little" if little else "big"
    start = stream.tell()
    unpickler = _LegacyUnpickler(stream,
                                 None if find_class is None else _weights_or_placeholder,
                                 budget=_Budget(len(data), locations=locations))
    obj = unpickler.load()
    keys = _plain(stream, name, "list of storages")
    storages = unpickler.storages
    if not isinstance(keys, list) or sorted(map(str, keys)) != sorted(storages):
        raise ValueError(f"{name}: the storage list {keys!r} does not match the "
                         f"{len(storages)} storages the object refers to")
    for key in map(str, keys):
        storage = storages[key]
        assert storage.dtype is not None  # a storage of this format is made with its dtype
        header = stream.read(8)
        if len(header) != 8:
            raise ValueError(f"{name}: truncated: storage {key} ends the file before its "
                             f"element count")
        numel = int.from_bytes(header, byteorder)
        size = numel * storage.dtype.itemsize
        left = len(data) - stream.tell()
        if numel != storage.numel or size > left:
            raise ValueError(f"{name}: storage {key} declares {numel} elements of "
                             f"{storage.dtype}, the object {storage.numel}, and {left} "
                             f"bytes are left in the file")
        dtype = storage.dtype.newbyteorder("<" if little else ">")
        storage.values = np.frombuffer(stream.read(size), dtype).astype(storage.dtype)
    if stream.tell() != len(data):
        raise ValueError(f"{name}: {len(data) - stream.tell()} bytes follow the last "
                         f"storage")
    if find_class is None:
        return _resolve(obj)
    stream.seek(start)  # the same pickle, read whole already: errors are the objects'
    try:
        return _LegacyUnpickler(stream, find_class, storages,
                                budget=unpickler.budget).load()
    except _ResolverError:
        raise
    except Exception as error:  # noqa: BLE001 - an object's own error, as it is
        raise _ResolverError(error) from None


def check_records(archive: zipfile.ZipFile, size: int, name: str) -> None:
    """Refuses records that claim more bytes than the file holds, are compressed
    (``torch.save`` stores them as they are), that zipfile would refuse to read
    (encrypted, of a newer zip version), or that follow other bytes (two archives in one
    file: zipfile would read the last), before any is read."""
    records = archive.infolist()
    for record in records:
        # flag bits 0, 5 and 6: encrypted, patched, strongly encrypted
        if record.flag_bits & 0x61 or record.extract_version > zipfile.MAX_EXTRACT_VERSION:
            raise ValueError(f"{name}: record {record.filename!r} is encrypted or needs zip "
                             f"version {record.extract_version / 10}; torch.save writes "
                             f"neither")
        if record.compress_type != zipfile.ZIP_STORED or record.file_size > size \
                or record.compress_size != record.file_size:
            raise ValueError(f"{name}: record {record.filename!r} declares {record.file_size} "
                             f"bytes (compression {record.compress_type}) in a {size}-byte "
                             f"file; torch.save stores records uncompressed")
    before = min((r.header_offset for r in records), default=0)
    if before:  # zipfile reads an archive after other bytes (its offsets moved)
        raise ValueError(f"{name}: {before} bytes precede the zip archive whose directory "
                         f"ends the file (another torch.save archive written before it "
                         f"into the same file?); a torch.save file is one archive from "
                         f"its first byte")
    if sum(r.file_size for r in records) > size:
        raise ValueError(f"{name}: the records declare {sum(r.file_size for r in records)} "
                         f"bytes, more than the file's {size}")


#: the newest archive version PyTorch 2.13 reads (its kMaxSupportedFileFormatVersion)
NEWEST_VERSION = 10


class UnsupportedVersion(ValueError):
    """A ``torch.save`` archive of a version PyTorch 2.13 does not read (a newer
    PyTorch's file)."""


def check_version(archive: zipfile.ZipFile, prefix: str, name: str) -> None:
    """Refuses an archive whose ``version`` record is not a version PyTorch reads (a
    file of a newer PyTorch, or a damaged record), as PyTorch's reader refuses it."""
    record = f"{prefix}version"
    if record not in archive.namelist():
        return  # PyTorch requires the record; its absence alone hides nothing from us
    text = archive.read(record).decode("ascii", "replace").strip()
    if not text.isdigit():
        raise ValueError(f"{name}: the archive's version record holds {text[:20]!r}, not a "
                         f"version number")
    if not 1 <= int(text) <= NEWEST_VERSION:
        raise UnsupportedVersion(f"{name}: a torch.save archive of version {int(text)}; "
                                 f"PyTorch 2.13 reads versions 1 to {NEWEST_VERSION} (a "
                                 f"file written by a newer PyTorch?)")


def trust_absent_checksums(archive: zipfile.ZipFile) -> None:
    """Reads ``archive``'s records unchecked where it holds no checksums at all (every
    record's CRC-32 is 0): PyTorch writes none after
    ``torch.serialization.set_crc32_options(False)``, and reads such files. One record
    whose checksum alone is 0 is still checked (and refused as damaged)."""
    records = [r for r in archive.infolist() if r.file_size]
    if records and all(r.CRC == 0 for r in records):
        for record in records:
            record.CRC = None  # type: ignore[assignment]  # zipfile's mark: no check


def _keep_shared(layouts: dict[int, Layout]) -> None:
    """Drops from ``layouts`` each tensor alone in its storage, so that the storage's
    elements are not held beyond the load."""
    count = collections.Counter(id(layout.storage) for layout in layouts.values())
    for key in [k for k, layout in layouts.items() if count[id(layout.storage)] < 2]:
        del layouts[key]


def load_torch_file(f: str | os.PathLike[str] | BinaryIO | bytes, *,
                    find_class: Callable[[str, str], Any] | None = None,
                    layouts: dict[int, Layout] | None = None,
                    locations: set[str] | None = None) -> Any:
    """The object a ``torch.save`` file holds, with numpy arrays for its tensors: a zip
    archive (PyTorch 1.6 on) or PyTorch's earlier format, which
    ``_use_new_zipfile_serialization=False`` still writes.

    Args:
        f: a path, a binary file open for reading, or the file's bytes.
        find_class: what each global of the file's pickle resolves to, in place of
            the weights-only list (:func:`weights_only_global` gives that list's
            answer), for a caller that rebuilds whole objects. Its exceptions reach the
            caller unchanged.
        layouts: filled, where given, with the :class:`Layout` of each plain tensor
            (not a parameter, not requiring gradients) of a zip archive that shares its
            storage with another, by the ``id`` of its array: which tensors are views
            of one storage.
        locations: filled, where given, with the devices the file's storages were
            saved from (``"cpu"``, ``"cuda:0"``), for ``map_location``.

    Returns:
        The saved object (dicts, ``OrderedDict``, lists, tuples, numbers, strings...)
        with each tensor a numpy array of its dtype (``bfloat16`` from ``ml_dtypes``).

    Raises:
        FileNotFoundError: no such file.
        NotWeightsOnly: the pickle names a global a weights-only checkpoint does not
            hold (a whole model saved by ``torch.save(model)``); also a ValueError.
        UnsupportedTensor: a sparse, quantized, nested, meta-device or subclass tensor,
            which PyTorch's weights-only list holds but a numpy array does not; the
            message names the file (also a NotImplementedError and a ValueError).
        ValueError: a damaged file (not a zip archive, a truncated or oversized record, a
            missing storage, a tensor outside its storage, a count that does not
            match its storage), or an unknown storage type; the message names the file.
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
    unpickling = False  # whether an error can be a whole object's own
    try:
        if is_legacy_torch_file(data):
            return _load_legacy(data, name, find_class, locations)
        archive = zipfile.ZipFile(io.BytesIO(data))
        check_records(archive, len(data), name)
        trust_absent_checksums(archive)
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl")
                   and n.count("/") == 1]
        if len(pickles) != 1:
            raise ValueError(f"{name}: no single <name>/data.pkl record: not a torch.save "
                             f"archive")
        prefix = pickles[0][:-len("data.pkl")]
        check_version(archive, prefix, name)
        byteorder = "little"
        if f"{prefix}byteorder" in archive.namelist():
            byteorder = archive.read(f"{prefix}byteorder").decode("ascii", "replace").strip()
            if byteorder not in ("little", "big"):
                raise ValueError(f"{name}: an unknown byte order {byteorder!r}")
        unpickler = _Unpickler(archive.read(pickles[0]), archive, prefix, byteorder,
                               find_class, budget=_Budget(len(data), layouts, locations))
        unpickling = True
        obj = unpickler.load()
        if layouts:
            _keep_shared(layouts)
        return obj if find_class is not None else _refuse_storages(obj)
    except _ResolverError as error:
        raise error.error from None
    except UnsupportedTensor as error:
        raise UnsupportedTensor(f"{name}: {error}") from None
    except NotWeightsOnly as error:
        raise NotWeightsOnly(f"{name}: {error}") from None
    except UnsupportedVersion:
        raise  # names the file already
    except (zipfile.BadZipFile, EOFError, pickle.UnpicklingError, OSError, TypeError,
            KeyError, IndexError, AttributeError, OverflowError, MemoryError,
            RuntimeError, NotImplementedError, UnicodeDecodeError) as error:
        # zipfile's own refusals (encrypted or newer-version records) are RuntimeError
        # and NotImplementedError; a corrupted pickle can give most of the others, a
        # name in it or in the archive that is not UTF-8 a UnicodeDecodeError
        if unpickling and find_class is not None and not isinstance(
                error, (zipfile.BadZipFile, EOFError, pickle.UnpicklingError,
                        UnicodeDecodeError)):
            raise  # raised while a whole object rebuilt itself: the object's own error
        raise ValueError(f"{name}: a damaged torch.save archive "
                         f"({type(error).__name__}: {error})") from None
    except ValueError as error:
        message = str(error)
        raise ValueError(message if message.startswith(name) else
                         f"{name}: {message}") from None
