"""``torch.save`` / ``torch.load``: state dicts and checkpoints in PyTorch's format, and
whole objects where the caller trusts the file.

fnnet.torch writes what tutorials save (a model's ``state_dict()``, an optimizer's
``state_dict()``, and dicts of these with epochs, losses and other plain values) in
PyTorch's own format (:mod:`fnnet.torch._torch_zip`: a zip archive whose pickle names
only what a weights-only load accepts), so PyTorch's ``torch.load`` reads the file; a
path ending in ``.safetensors`` gets a safetensors file instead
(:func:`fnnet.checkpoint.save_safetensors`: the tensors, with the structure around them
as JSON in its metadata; a flat state dict is a plain safetensors file).

Files are written atomically: a temporary file beside the target, renamed into place
once complete. PyTorch's files (and these; PyTorch's format before 1.6 too) are read by
:func:`fnnet.interop.torch_file.load_torch_file`, which rebuilds tensors and plain
containers only and refuses any other object, as ``torch.load(f, weights_only=True)``
(PyTorch's default). A whole module, optimizer or other object (``torch.save(model)``)
is pickled as PyTorch pickles it, and read back only as PyTorch reads it: with
``weights_only=False``, or with its classes listed by :func:`add_safe_globals`, as
unpickling runs code the file names (:mod:`fnnet.torch._whole_objects`).
"""

from __future__ import annotations

import collections
import contextlib
import io
import os
import pickle
import pickletools
import warnings
import zipfile
from collections.abc import Iterator
from typing import Any, BinaryIO

import jax
import numpy as np

from fnnet.checkpoint import load_safetensors, save_safetensors
from fnnet.interop.torch_file import (
    DeviceName,
    Layout,
    LayoutName,
    NotWeightsOnly,
    SizeTuple,
    TrainableArray,
    UnsupportedTensor,
    UnsupportedVersion,
    check_records,
    is_legacy_torch_file,
    load_torch_file,
    trust_absent_checksums,
)
from fnnet.torch._loaded_views import shared_views
from fnnet.torch._torch_zip import NotPlainValue, torch_zip_bytes, write_atomically
from fnnet.torch._whole_objects import load_objects, object_zip_bytes

_ZIP_MAGIC = b"PK\x03\x04"
_WHOLE = object()  # load's mark for a file of whole objects
_PICKLE_PROTOCOL = b"\x80"  # the first byte of a pickle of protocol 2 or later


#: what :func:`add_safe_globals` was given (PyTorch keeps one list per process too)
_SAFE_GLOBALS: list[Any] = []


def add_safe_globals(safe_globals: list[Any]) -> None:
    """Lists classes and functions that ``torch.load`` (weights only, its default) may
    rebuild beyond tensors and plain containers: a whole model's classes
    (``add_safe_globals([Net, torch.nn.Linear])``), numpy's scalar type... Each entry is
    the object, or PyTorch's ``(object, "module.name")`` pair.

    PyTorch equivalent: ``torch.serialization.add_safe_globals``.
    """
    if not isinstance(safe_globals, (list, tuple, set, frozenset)):  # PyTorch takes any
        raise TypeError(f"add_safe_globals: safe_globals must be a list (or tuple or set) "
                        f"of classes and functions, got {type(safe_globals).__name__}")
    _SAFE_GLOBALS.extend(safe_globals)


def get_safe_globals() -> list[Any]:
    """What :func:`add_safe_globals` recorded. PyTorch: ``get_safe_globals``."""
    return list(_SAFE_GLOBALS)


def clear_safe_globals() -> None:
    """Forgets what :func:`add_safe_globals` recorded. PyTorch: ``clear_safe_globals``."""
    _SAFE_GLOBALS.clear()


@contextlib.contextmanager
def safe_globals(safe_globals: list[Any]) -> Iterator[None]:
    """:func:`add_safe_globals` for the ``with`` block. PyTorch: ``safe_globals``."""
    before = list(_SAFE_GLOBALS)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _SAFE_GLOBALS[:] = before


class UnreadableCheckpoint(ValueError, RuntimeError):
    """A file ``torch.load`` cannot read as a checkpoint: empty, truncated or otherwise
    damaged, or not a checkpoint at all. Also a RuntimeError, as PyTorch's reader raises
    for a damaged archive, so that a resume written to catch PyTorch's error catches it."""


class NotACheckpoint(UnreadableCheckpoint, pickle.UnpicklingError):
    """A file that is no ``torch.save`` file at all (an ``.npy``, a JSON file, a bare
    pickle). Also the ``pickle.UnpicklingError`` PyTorch's weights-only load raises for
    one, so that a script catching that catches this."""


class EmptyCheckpoint(UnreadableCheckpoint, EOFError):
    """An empty file or buffer given to ``torch.load``. Also the EOFError PyTorch's
    unpickler raises for one, so that a script catching that catches this."""


class PickleNotSupported(NotImplementedError, ValueError):
    """``torch.load(f, weights_only=False)`` of a bare pickle, which fnnet.torch does
    not unpickle."""


def save(obj: Any, f: str | os.PathLike[str] | BinaryIO, *args: Any, **kwargs: Any) -> None:
    """Writes a state dict, a checkpoint dict or a whole object to a path (atomically)
    or a binary file.

    Args:
        obj: ``model.state_dict()``, ``optimizer.state_dict()``, or any nesting of
            dicts (str or int keys), lists and tuples of tensors (fnnet.torch, jax or
            PyTorch) and of None, bool, int, float and str, e.g.
            ``{"epoch": 3, "model_state_dict": ..., "optimizer_state_dict": ..., "loss":
            0.25}``: these load with ``torch.load(f)``, PyTorch's too. Any other
            picklable object (a whole model, ``torch.save(model, f)``, numpy's arrays
            and scalars, ``np.random.get_state()``) is pickled as PyTorch pickles it,
            its tensors as PyTorch's, and loads with ``torch.load(f,
            weights_only=False)`` where its classes are defined.
        f: a path (written to a temporary file beside it, then renamed into place; a
            device or named pipe, ``/dev/null``, is written in place) or a binary file
            object open for writing. The file is in PyTorch's format
            (PyTorch's ``torch.load`` reads it), or a safetensors file for a path ending
            in ``.safetensors``.
        *args: PyTorch's pickling options, positionally (``pickle_module``,
            ``pickle_protocol``), accepted and ignored.
        **kwargs: the same options by name, accepted and ignored.

    Raises:
        pickle.PicklingError: ``obj`` holds what pickle cannot save (a lambda, a local
            class), as in PyTorch; nothing is written then.
        TypeError: an object for a ``.safetensors`` path that is no tensor, container
            or plain value (the message names where); nothing is written then.
        RuntimeError: the folder of the path ``f`` does not exist (PyTorch's error), or
            ``f`` is empty.
        IsADirectoryError: ``f`` names a folder.
        OSError: the file cannot be written (its message names ``f``); a file that was
            there is left as it was.

    PyTorch equivalent: ``torch.save``.
    """
    del args, kwargs
    if isinstance(f, (str, os.PathLike)):
        if not os.fspath(f):
            raise RuntimeError("torch.save: invalid file name '': give the path of the "
                               "file to write")
        if os.path.isdir(f):
            raise IsADirectoryError(f"torch.save: {os.fspath(f)!r} is a folder; give the "
                                    f"path of a file in it")
        parent = os.path.dirname(os.path.abspath(f))
        if not os.path.isdir(parent):  # PyTorch's error, before any temporary file
            raise RuntimeError(f"Parent directory {parent} does not exist.")
    safetensors = isinstance(f, (str, os.PathLike)) and \
        os.fspath(f).lower().endswith(".safetensors")
    try:
        if safetensors:
            save_safetensors(obj, f)
        else:
            try:
                data: bytes | None = torch_zip_bytes(obj)
            except NotPlainValue:  # a whole object: pickled, as PyTorch pickles it
                data = None
            write_atomically(object_zip_bytes(obj) if data is None else data, f)
    except OSError as error:  # named by its temporary file, the target is what to fix
        if error.errno is None or not isinstance(f, (str, os.PathLike)):
            raise
        raise type(error)(error.errno, f"torch.save: cannot write {os.fspath(f)!r} "
                                       f"({error.strerror})") from None
    except TypeError as error:
        message = str(error).replace("save_safetensors:", "torch.save:", 1)
        if not message.startswith("torch.save:"):  # not about obj (a text-mode file...)
            raise
        raise TypeError(f"{message}; a safetensors file holds tensors and plain values: "
                        "save state dicts (model.state_dict(), optimizer.state_dict()), "
                        "or use a path of another suffix for a whole object") from None


class UnsupportedDtype(NotImplementedError, ValueError):
    """A tensor, or a dtype saved as a value, of a dtype fnnet.torch does not have
    (``uint16``, ``complex32``, ``float8_e4m3fn``...), or a tensor of a kind it does not
    have (sparse, quantized, nested...)."""


def _to_tensors(obj: Any, where: str = "", memo: dict[int, Any] | None = None) -> Any:
    """``obj`` with fnnet.torch tensors for its arrays, and fnnet.torch dtypes and
    devices for the numpy dtypes and device names that stand for PyTorch's (a
    ``torch.float16`` or ``torch.device("cuda:0")`` saved as a value); ``where`` is its
    place in the saved object, named by :class:`UnsupportedDtype`. An array reached
    twice (a tensor saved under two names: tied weights) is one tensor, as PyTorch
    loads it."""
    memo = {} if memo is None else memo
    if isinstance(obj, DeviceName):  # a torch.device saved as a value
        from fnnet.torch.device import device

        return device(str(obj))
    if isinstance(obj, LayoutName):  # a torch.layout saved as a value
        from fnnet import torch

        layout = getattr(torch, obj.removeprefix("torch."), None)
        if layout is None:
            raise UnsupportedDtype(f"the layout {obj} at {where or 'the top'!r}; "
                                   f"fnnet.torch's tensors are dense (torch.strided)")
        return layout
    if isinstance(obj, (np.ndarray, np.dtype)):
        if id(obj) not in memo:
            base = getattr(obj, "base", None)
            if type(obj) is np.ndarray and type(base) is np.ndarray \
                    and (base.shape, base.dtype) == (obj.shape, obj.dtype):
                # a second tensor of the same storage and layout (a tied weight under
                # two names): another tensor sharing the first's values, as in PyTorch
                if id(base) not in memo:
                    memo[id(base)] = _converted_leaf(base, where)
                memo[id(obj)] = memo[id(base)].detach()
            else:
                memo[id(obj)] = _converted_leaf(obj, where)
        return memo[id(obj)]
    if isinstance(obj, dict):  # an OrderedDict (a state dict PyTorch saved) or a
        # Counter (a MultiStepLR's milestones) stays one
        items = {key: _to_tensors(value, f"{where}.{key}" if where else str(key), memo)
                 for key, value in obj.items()}
        kept = type(obj) in (collections.OrderedDict, collections.Counter)
        mapping: Any = type(obj)(items) if kept else items
        if hasattr(obj, "_metadata"):  # a PyTorch state dict's module versions
            mapping._metadata = obj._metadata
        return mapping
    if isinstance(obj, (list, tuple)):
        values = [_to_tensors(value, f"{where}.{i}" if where else str(i), memo)
                  for i, value in enumerate(obj)]
        if isinstance(obj, SizeTuple):  # a torch.Size saved as a value
            from fnnet.torch.tensor import Size

            return Size(values)
        return values if isinstance(obj, list) else tuple(values)
    return obj


def _converted_leaf(obj: np.ndarray | np.dtype[Any], where: str) -> Any:
    """The fnnet.torch tensor of an array (a parameter, or requiring gradients, where
    it was saved so), or the fnnet.torch dtype of a numpy dtype."""
    from fnnet.torch._dtypes import from_np
    from fnnet.torch.tensor import _as_tensor

    dtype = obj if isinstance(obj, np.dtype) else obj.dtype
    try:  # int64/float64 are int32/float32 unless jax_enable_x64 is set, as
        # torch.from_numpy makes them
        converted = from_np(jax.dtypes.canonicalize_dtype(dtype))
    except NotImplementedError:
        kind = "dtype" if obj is dtype else "tensor"
        raise UnsupportedDtype(f"a {dtype} {kind} at {where or 'the top'!r}") from None
    if isinstance(obj, np.dtype):
        return converted
    try:
        tensor = _as_tensor(np.asarray(obj))
    except OverflowError as error:  # an int64 beyond 32 bits, without jax's x64 mode
        raise OverflowError(f"the tensor at {where or 'the top'!r}: "
                            f"{str(error).removeprefix('fnnet.torch: ')}") from None
    if not isinstance(obj, TrainableArray):
        return tensor
    if obj.parameter:  # torch.save(model.fc.weight): a parameter, as in PyTorch
        from fnnet.torch.nn.parameter import Parameter

        return Parameter(tensor, requires_grad=obj.requires_grad)
    return tensor.requires_grad_()


def load(f: str | os.PathLike[str] | BinaryIO, map_location: Any = None,
         pickle_module: Any = None, *, weights_only: bool | None = None,
         mmap: bool | None = None, **pickle_load_args: Any) -> Any:
    """Reads what :func:`save` wrote, any safetensors file, or a checkpoint PyTorch's
    ``torch.save`` wrote.

    Args:
        f: a path or a binary file object open for reading.
        map_location: a device name, a ``torch.device``, a dict of device names or a
            function, as PyTorch takes it; checked, otherwise ignored (jax places
            arrays). A dict maps the storages saved from its keys only, as PyTorch's.
        pickle_module: PyTorch's unpickler module (``pickle``, ``dill``): given, the
            default of ``weights_only`` is False, as in PyTorch; otherwise not used.
        weights_only: ``None`` or ``True`` (PyTorch's default): tensors, plain values and
            containers, and the classes listed by :func:`add_safe_globals`; no code from
            the file runs. ``False``: whole objects too (``torch.save(model)``, by
            fnnet.torch or by PyTorch, whose ``torch.nn`` classes become fnnet.torch's),
            unpickled, which runs the code they name: only for files you trust.
        mmap: PyTorch's memory mapping of a file's storages: only for a path to a zip
            archive, as in PyTorch; the file is read whole either way.
        **pickle_load_args: PyTorch's unpickling options, accepted and ignored.

    As PyTorch's, the environment variable ``TORCH_FORCE_WEIGHTS_ONLY_LOAD=1`` makes
    every load weights only, and ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` those not
    given ``weights_only`` (with PyTorch's warning).

    Returns:
        The saved object with fnnet.torch tensors in place of the tensors.

    Raises:
        FileNotFoundError: no such file.
        IsADirectoryError: ``f`` names a folder.
        TypeError: ``map_location`` of another type.
        RuntimeError: ``map_location`` names no device, or a GPU where JAX has none;
            ``mmap`` with a file of PyTorch's format before 1.6; ``pickle_module`` with
            a weights-only load; both environment variables set (PyTorch's messages).
        ValueError: ``mmap`` with a file object (PyTorch's message).
        NotWeightsOnly: weights only, a file holding another object (a whole model);
            PyTorch's message, naming its first class beyond the safe globals. Also a
            ``pickle.UnpicklingError`` and a ValueError.
        AttributeError: ``weights_only=False``, and a class the file names is not
            defined (pickle's message, as PyTorch's).
        EmptyCheckpoint: an empty file or buffer (one not rewound after writing); also
            an UnreadableCheckpoint and PyTorch's EOFError.
        UnreadableCheckpoint: a damaged PyTorch checkpoint, anything else that is not a
            safetensors file (see :func:`fnnet.checkpoint.load_safetensors` for what is
            checked); the message names the file. Also a ValueError and a RuntimeError.
        NotACheckpoint: a file that is no checkpoint at all (an ``.npy`` or JSON file,
            a bare pickle: refused, never unpickled); an UnreadableCheckpoint, and the
            ``pickle.UnpicklingError`` PyTorch's weights-only load raises for one.
        OverflowError: an int64 tensor holding a value beyond 32 bits, which
            fnnet.torch holds only with jax's x64 mode; the message names the file and
            where the tensor is.
        UnsupportedDtype: a sparse, quantized, nested or meta-device tensor, or a
            tensor of a dtype fnnet.torch lacks (uint16, uint32, uint64, complex32,
            float8); the message names the file, the dtype and where the tensor is
            (also a NotImplementedError and a ValueError).
        PickleNotSupported: ``weights_only=False`` on a bare pickle (also a ValueError).

    PyTorch equivalent: ``torch.load``.
    """
    weights_only = _weights_only(weights_only, pickle_module, pickle_load_args)
    _check_map_location(map_location)
    read = getattr(f, "read", None)
    if mmap and callable(read):
        raise ValueError("f must be a file path in order to use the mmap argument")
    data, name = _read(f, "torch.load")
    if not data:
        hint = (" (a buffer that torch.save wrote to is read from where the writing "
                "stopped: call buffer.seek(0) before torch.load)") \
            if isinstance(f, io.BytesIO) else ""
        raise EmptyCheckpoint(f"torch.load: {name!r} is empty: there is nothing to "
                              f"load{hint}")
    if mmap and is_legacy_torch_file(data):
        shown = f"{f}, " if isinstance(f, str) else ""  # PyTorch's message names a str
        raise RuntimeError(f"mmap can only be used with files saved with `torch.save({shown}"
                           f"_use_new_zipfile_serialization=True), please torch.save your "
                           f"checkpoint with this option in order to use mmap.")
    if data.startswith(_ZIP_MAGIC):
        _check_torch_archive(data, name)
    if data.startswith(_ZIP_MAGIC) or is_legacy_torch_file(data):
        layouts: dict[int, Layout] = {}
        locations: set[str] = set()
        try:
            obj = load_torch_file(data, layouts=layouts, locations=locations)
        except NotWeightsOnly:
            obj = _WHOLE
        except UnsupportedTensor as error:
            raise UnsupportedDtype(f"torch.load: {name!r} holds {str(error).split(': ', 1)[-1]}"
                                   ) from None
        except UnsupportedVersion as error:
            raise UnreadableCheckpoint(f"torch.load: {name!r} is not readable: "
                                       f"{str(error).split(': ', 1)[-1]}") from None
        except ValueError as error:
            raise UnreadableCheckpoint(f"torch.load: {name!r} is a damaged PyTorch "
                                       f"checkpoint: {str(error).split(': ', 1)[-1]}"
                                       ) from None
        _check_mapped_locations(map_location, locations)
        if obj is _WHOLE:  # unpickled outside the handler: its errors are its own
            try:
                return load_objects(data, None if weights_only is False
                                    else list(_SAFE_GLOBALS))
            except NotWeightsOnly:
                raise
            except ValueError as error:
                if not str(error).startswith("the file: "):
                    raise  # an object's own error
                raise UnreadableCheckpoint(f"torch.load: {name!r} is a damaged PyTorch "
                                           f"checkpoint: {str(error).split(': ', 1)[-1]}"
                                           ) from None
        return _converted(obj, name, layouts)
    pickled = data.startswith(_PICKLE_PROTOCOL) and not _safetensors_header(data)
    if weights_only is False and pickled:
        raise PickleNotSupported(
            f"torch.load: {name!r} is a bare pickle, not a torch.save archive: "
            "fnnet.torch unpickles whole objects from torch.save's zip archives only. "
            "Save the object with torch.save(obj, path), or its weights with "
            "torch.save(model.state_dict(), path)")
    if pickled:
        raise NotACheckpoint(
            f"torch.load: {name!r} is a pickle; refused: unpickling can run arbitrary "
            "code, and torch.save writes no bare pickle (a zip archive, or PyTorch's "
            "format before 1.6). In PyTorch, save the state dict with "
            "torch.save(model.state_dict(), path)")
    if not _safetensors_header(data):
        raise NotACheckpoint(f"torch.load: {name!r} is not a checkpoint: neither a "
                             f"torch.save file (a zip archive, or PyTorch's format "
                             f"before 1.6) nor a safetensors file; {_what_it_is(data)}")
    try:
        obj = load_safetensors(io.BytesIO(data))
    except ValueError as error:
        raise UnreadableCheckpoint(f"torch.load: {name!r} is not a file written by "
                                   f"torch.save of fnnet.torch (a safetensors file): "
                                   f"{error}") from None
    return _converted(obj, name)


def _read(f: Any, caller: str) -> tuple[bytes, str]:
    """The bytes of the file ``f`` (a path or a binary file object) and its name."""
    read = getattr(f, "read", None)
    if callable(read):
        name = getattr(f, "name", "the file")
        if isinstance(f, io.TextIOBase):
            raise TypeError(f"{caller}: {name!r} is open in text mode; open it in binary "
                            f"mode: open(path, 'rb')")
        return read(), name
    if isinstance(f, (str, os.PathLike)):
        # a missing file or a folder: Python's own OSError, as PyTorch's load gives it
        with open(f, "rb") as handle:
            return handle.read(), os.fspath(f)
    raise TypeError(f"{caller}: f must be a file path or a binary file, got "
                    f"{type(f).__name__}")


def get_unsafe_globals_in_checkpoint(f: str | os.PathLike[str] | BinaryIO) -> list[str]:
    """The classes and functions (``"module.name"``) that a ``torch.save`` file's pickle
    names and that a weights-only load refuses: beyond tensors, plain containers and
    those :func:`add_safe_globals` listed. The pickle is read, never unpickled, so a
    global pushed while unpickling is not found (as PyTorch's).

    Args:
        f: a path or a binary file object open for reading.

    Returns:
        The names, each once, in no particular order (PyTorch's are a set's).

    Raises:
        ValueError: ``f`` is no ``torch.save`` zip archive, a TorchScript archive
            (PyTorch's messages), or a damaged one (naming the file).
        FileNotFoundError, IsADirectoryError, TypeError: as :func:`load`.

    PyTorch equivalent: ``torch.serialization.get_unsafe_globals_in_checkpoint``.
    """
    from fnnet.torch._script_modules import is_torchscript_archive
    from fnnet.torch._whole_objects import python3_name, refused

    caller = "get_unsafe_globals_in_checkpoint"
    data, name = _read(f, caller)
    if not data.startswith(_ZIP_MAGIC):
        raise ValueError("Expected input to be a checkpoint returned by torch.save")
    if is_torchscript_archive(data):
        raise ValueError("Expected input to be a checkpoint returned by torch.save but got a "
                         "torchscript checkpoint")
    found = set()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        check_records(archive, len(data), repr(name))
        trust_absent_checksums(archive)
        (pickled,) = [n for n in archive.namelist()
                      if n.endswith("/data.pkl") and n.count("/") == 1]
        for opcode, arg, _ in pickletools.genops(archive.read(pickled)):
            if opcode.name == "GLOBAL":
                module, _, global_name = str(arg).partition(" ")
                if refused(module, global_name, _SAFE_GLOBALS):
                    found.add(".".join(python3_name(module, global_name)))
    except (zipfile.BadZipFile, ValueError, EOFError, OSError, KeyError,
            NotImplementedError, RuntimeError) as error:
        raise UnreadableCheckpoint(f"{caller}: {name!r} is a damaged PyTorch checkpoint "
                                   f"({type(error).__name__}: {error})") from None
    return list(found)


def _weights_only(weights_only: bool | None, pickle_module: Any,
                  pickle_load_args: dict[str, Any]) -> bool:
    """Whether a load is weights only, decided as PyTorch decides it: by the argument,
    else False where a ``pickle_module`` is given, and by PyTorch's environment
    variables; PyTorch's errors and warnings for the combinations it refuses."""
    given = weights_only is not None
    weights_only = bool(weights_only) if given else pickle_module is None
    force = [os.getenv(f"TORCH_FORCE_{kind}WEIGHTS_ONLY_LOAD", "0").lower()
             in ("1", "y", "yes", "true") for kind in ("", "NO_")]
    if all(force):
        raise RuntimeError("Only one of `TORCH_FORCE_WEIGHTS_ONLY_LOAD` or "
                           "`TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD` should be set, but both were "
                           "set.")
    if force[0]:
        weights_only = True
    elif force[1] and not given:
        warnings.warn("Environment variable TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD detected, since "
                      "the`weights_only` argument was not explicitly passed to `torch.load`, "
                      "forcing weights_only=False.", UserWarning, stacklevel=3)
        weights_only = False
    if weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is "
                           "specified")
    if weights_only and pickle_load_args:
        warnings.warn("pickle_load_args only works if `weights_only=False`.", stacklevel=3)
    return weights_only


def _check_torch_archive(data: bytes, name: str) -> None:
    """Refuses a zip archive that is no ``torch.save`` file, naming what it is: a
    TorchScript module (``torch.jit.save``), a numpy ``.npz``... A damaged one passes,
    for the reader to name its damage."""
    from fnnet.torch._script_modules import is_torchscript_archive

    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError,
            RuntimeError, KeyError, IndexError, OverflowError):  # zipfile's refusals
        return
    if is_torchscript_archive(data):
        raise NotImplementedError(
            f"torch.load: {name!r} is a TorchScript archive (torch.jit.save), whose code "
            f"fnnet.torch cannot run (PyTorch's torch.load refuses it with weights_only="
            f"True too): save the weights with torch.save(model.state_dict(), path) and "
            f"load them into the model's class with model.load_state_dict(torch.load(path))")
    if any(n.endswith("/data.pkl") and n.count("/") == 1 for n in names):
        return
    shown = ", ".join(repr(n) for n in names[:3]) + (", ..." if len(names) > 3 else "")
    kind = "a numpy archive (numpy.savez): read it with numpy.load" \
        if names and all(n.endswith(".npy") for n in names) else \
        "no <name>/data.pkl record, which every torch.save archive has"
    raise UnreadableCheckpoint(f"torch.load: {name!r} is a zip archive but not a torch.save "
                               f"file (it holds {shown or 'nothing'}): {kind}")


def _what_it_is(data: bytes) -> str:
    """What a file that is no checkpoint seems to be, for the message refusing it."""
    head = data[:512]
    if head.startswith(b"\x1f\x8b"):
        return "it is a gzip file: decompress it first (gzip.open(path, 'rb'))"
    if head.startswith(b"version https://git-lfs"):
        return "it is a Git LFS pointer, not the file: fetch the file with git lfs pull"
    if b"<html" in head.lower() or head.lstrip().lower().startswith(b"<!doctype"):
        return "it is an HTML page (a download that failed?)"
    if sum(a != b for a, b in zip(head[:4], _ZIP_MAGIC, strict=False)) == 1:
        return f"it starts with {data[:16]!r}, a zip archive's first bytes damaged"
    return f"it starts with {data[:16]!r}"


def _check_map_location(map_location: Any) -> None:
    """Refuses a ``map_location`` PyTorch would refuse: another type, a device name
    (alone or in a dict) that names no device, or one that maps the tensors to a GPU
    where there is none (PyTorch's message; for a dict, once the file's locations are
    known: :func:`_check_mapped_locations`)."""
    from fnnet.torch.device import device

    if isinstance(map_location, device):
        map_location = str(map_location)
    if map_location is None or callable(map_location):
        return
    if isinstance(map_location, dict):
        names = [n for pair in map_location.items() for n in pair if not isinstance(n, device)]
    elif isinstance(map_location, str):
        names = [map_location]
    else:
        raise TypeError(f"torch.load: map_location must be a device name ('cpu'), a "
                        f"torch.device, a dict of device names or a function, got "
                        f"{type(map_location).__name__}")
    for name in names:
        try:
            device(name)
        except (TypeError, RuntimeError) as error:
            raise type(error)(f"torch.load: map_location {map_location!r} names no device: "
                              f"{error}") from None
    if not isinstance(map_location, dict):
        _check_cuda_target(map_location)


def _check_cuda_target(target: Any) -> None:
    """PyTorch's error for tensors mapped to a GPU where JAX has none."""
    from fnnet.torch.device import cuda, device

    if device(target).type == "cuda" and not cuda.is_available():
        raise RuntimeError("Attempting to deserialize object on a CUDA device but "
                           "torch.cuda.is_available() is False. If you are running on a "
                           "CPU-only machine, please use torch.load with map_location="
                           "torch.device('cpu') to map your storages to the CPU.")


def _check_mapped_locations(map_location: Any, locations: set[str]) -> None:
    """A dict ``map_location`` maps only the storages saved from its keys, as PyTorch's:
    ``{"cuda:0": "cuda:1"}`` (PyTorch's DDP tutorial) loads tensors saved from the CPU
    on a machine without GPUs, and refuses those saved from ``cuda:0``."""
    if isinstance(map_location, dict):
        for location in sorted(locations):
            for source, target in map_location.items():
                if isinstance(source, str) and source == location:  # a string lookup
                    _check_cuda_target(target)


def _safetensors_header(data: bytes) -> bool:
    """Whether ``data`` opens as a safetensors file: an 8-byte little-endian header
    length that fits the file, then the JSON header's ``{``. (A header of 128, 384...
    bytes makes the first byte 0x80, a pickle's first byte too.)"""
    size = int.from_bytes(data[:8], "little")
    return len(data) >= 9 and size <= len(data) - 8 and data[8:9] == b"{"


def _converted(obj: Any, name: str, layouts: dict[int, Layout] | None = None) -> Any:
    """``obj`` with fnnet.torch tensors for its arrays; those ``layouts`` says are views
    of one storage saved whole share its values, as PyTorch loads them."""
    try:
        memo = shared_views(obj, layouts or {}, lambda array: _converted_leaf(array, ""))
    except (OverflowError, UnsupportedDtype):  # raised below, naming where the tensor is
        memo = {}
    try:
        return _to_tensors(obj, memo=memo)
    except OverflowError as error:
        raise OverflowError(f"torch.load: {name!r}: {error}") from None
    except UnsupportedDtype as error:
        if str(error).startswith("the layout"):
            raise UnsupportedDtype(f"torch.load: {name!r} holds {error}") from None
        raise UnsupportedDtype(
            f"torch.load: {name!r} holds a tensor fnnet.torch cannot represent: {error}; "
            f"fnnet.torch's dtypes are float32, float16, bfloat16, float64, int64, int32, "
            f"int16, int8, uint8, bool, complex64 and complex128: in PyTorch, convert it "
            f"(.to(torch.float32)) and save it again") from None


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    from fnnet.torch.tensor import Unsupported

    raise Unsupported(  # also an AttributeError: hasattr() is False
        f"fnnet.torch does not support torch.serialization.{name}; it provides save, "
        f"load, the safe-globals functions (add_safe_globals, safe_globals, "
        f"get_safe_globals, clear_safe_globals) and get_unsafe_globals_in_checkpoint")
