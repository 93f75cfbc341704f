"""Reading and writing state-dict files: PyTorch's ``.pt``/``.pth`` and ``.safetensors``.

Security: a ``.pt``/``.pth`` file is a pickle, and unpickling can run any code the file
names. Files are read with ``torch.load(weights_only=True)`` (or, without PyTorch, with
:func:`fnnet.interop.torch_file.load_torch_file`), which rebuilds tensors and plain
containers only; a file that asks for anything else is refused with a ValueError, never
loaded with ``weights_only=False``. ``.safetensors`` files hold raw arrays only and are
read without PyTorch.
"""

from __future__ import annotations

import errno
import os
import pathlib
import pickle
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from fnnet.interop.torch_file import check_records, load_torch_file
from fnnet.nn.host import host_array, torch_tensor
from fnnet.nn.tree_check import is_numeric

TORCH_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt")
SAFETENSORS_SUFFIX = ".safetensors"
# Checkpoints often wrap the weights: {"state_dict": {...}, "epoch": 3, ...}.
WRAPPER_KEYS = ("state_dict", "model_state_dict", "model")


def _import_torch(path: pathlib.Path, verb: str) -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError(f"{verb} {path} needs PyTorch (pip install torch); or convert the "
                          f"checkpoint to {SAFETENSORS_SUFFIX}, which fnnet reads without "
                          "it") from None
    return torch


def _as_path(caller: str, path: Any) -> pathlib.Path:
    """``path`` as a ``pathlib.Path``; a TypeError naming ``caller`` for anything else."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"{caller}: path must be a file path (str or os.PathLike), got "
                        f"{path!r}")
    return pathlib.Path(path)


def _check_suffix(path: pathlib.Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (*TORCH_SUFFIXES, SAFETENSORS_SUFFIX):
        known = ", ".join((*TORCH_SUFFIXES, SAFETENSORS_SUFFIX))
        raise ValueError(f"state dict file {str(path)!r}: expected a file ending in one of "
                         f"{known}, got {suffix or 'no suffix'!r}")
    return suffix


def _is_array(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype")


def _unwrap(path: pathlib.Path, obj: Any) -> Mapping[str, Any]:
    """The flat ``{name: tensor}`` mapping inside a loaded checkpoint."""
    if not isinstance(obj, Mapping):
        raise ValueError(f"{path}: expected a state dict (a mapping of names to tensors), "
                         f"got {type(obj).__name__}")
    if all(_is_array(v) for v in obj.values()):
        return obj
    for key in WRAPPER_KEYS:
        inner = obj.get(key)
        if isinstance(inner, Mapping) and inner and all(_is_array(v) for v in inner.values()):
            return inner
    others = sorted(str(k) for k, v in obj.items() if not _is_array(v))
    raise ValueError(f"{path}: expected a state dict of tensors (or one under "
                     f"{'/'.join(WRAPPER_KEYS)}), but entries {others[:5]} are not tensors")


def read_state_dict(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The state dict stored in a PyTorch or safetensors file.

    Args:
        path: a ``.pt``/``.pth``/``.bin``/``.ckpt`` file written by ``torch.save`` (the
            state dict itself or a dict holding it under ``state_dict``,
            ``model_state_dict`` or ``model``), or a ``.safetensors`` file.

    Returns:
        ``{name: tensor or array}`` in the file's order: torch tensors (on the CPU) from
        a PyTorch file (numpy arrays where PyTorch is not installed), numpy arrays from a
        safetensors file.

    Raises:
        TypeError: ``path`` is not a path.
        FileNotFoundError: no such file.
        ValueError: an unknown suffix, a file that is not weights-only (it would run
            code when unpickled: refused), a damaged file (a zip record or a tensor
            that the file does not bear out, a truncated archive, a malformed
            safetensors header), or one that holds no state dict; the message names the
            file.

    PyTorch equivalent: ``torch.load(path, weights_only=True)``.
    """
    path = _as_path("read_state_dict", path)
    suffix = _check_suffix(path)
    if not path.is_file():
        raise FileNotFoundError(f"state dict file not found: {path}")
    if suffix == SAFETENSORS_SUFFIX:
        from fnnet.checkpoint.safetensors_file import load_safetensors

        return dict(_unwrap(path, load_safetensors(path)))
    _check_archive(path)
    try:
        import torch
    except ImportError:  # fnnet's own weights-only reader
        try:
            return dict(_unwrap(path, load_torch_file(path)))
        except ValueError as err:
            raise ValueError(f"{path}: refused or not a readable PyTorch checkpoint "
                             f"({str(err).split(': ', 1)[-1]})") from None
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        lines = str(err).splitlines() or [type(err).__name__]
        reason = next((line.strip() for line in lines
                       if "GLOBAL" in line or "Unsupported" in line), lines[0])
        raise ValueError(
            f"{path}: refused to load: the file is not a weights-only checkpoint and "
            f"unpickling it could run arbitrary code ({reason}). Save the weights alone "
            "with torch.save(model.state_dict(), path), or convert them to .safetensors"
        ) from None
    except Exception as err:  # a damaged archive fails in PyTorch's zip reader or unpickler
        first = (str(err).splitlines() or [""])[0][:200]
        raise ValueError(f"{path}: not a readable PyTorch checkpoint ({type(err).__name__}: "
                         f"{first})") from None
    return dict(_unwrap(path, obj))


def _check_archive(path: pathlib.Path) -> None:
    """Checks a ``torch.save`` zip archive's directory against the file's size.

    ``torch.save`` stores its records uncompressed, so no record can be longer than the
    file: one that claims to be, or that is compressed, is refused before PyTorch
    allocates anything for it. A file that is no zip archive (PyTorch's legacy format)
    is left to ``torch.load``.
    """
    try:
        if not zipfile.is_zipfile(path):
            return
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as err:
        raise ValueError(f"{path}: a damaged zip archive ({err})") from None
    with archive:
        check_records(archive, path.stat().st_size, str(path))


def save_state_dict(state_dict: Mapping[str, Any],
                    path: str | os.PathLike[str]) -> pathlib.Path:
    """Writes a flat state dict (numpy/jax arrays or torch tensors) to a file.

    Args:
        state_dict: ``{name: array}``, e.g. from :func:`fnnet.interop.to_torch_state_dict`.
        path: ``.safetensors`` (no PyTorch needed) or ``.pt``/``.pth`` (``torch.save``
            of CPU tensors, loadable with ``torch.load(weights_only=True)``).

    Returns:
        The path written.

    Raises:
        TypeError: ``state_dict`` is not a mapping of str names to arrays of numbers,
            or ``path`` not a path.
        ValueError: ``path`` has an unknown suffix.
        IsADirectoryError: ``path`` is a folder.
        NotADirectoryError: ``path`` lies under a file (``run.log/model.pt``).

    PyTorch equivalent: ``torch.save(model.state_dict(), path)``.
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"save_state_dict: state_dict must be a mapping of names to arrays "
                        f"(e.g. from to_torch_state_dict), got {type(state_dict).__name__}")
    path = _as_path("save_state_dict", path)
    suffix = _check_suffix(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "save_state_dict: path is a folder, expected "
                                "the path of a file to write", str(path))
    above = next((p for p in path.parents if p.exists()), None)
    if above is not None and not above.is_dir():  # mkdir's bare FileExistsError otherwise
        raise NotADirectoryError(errno.ENOTDIR, f"save_state_dict: {str(above)!r} is a "
                                 f"file, not a folder to write {path.name!r} in", str(path))
    arrays = OrderedDict()
    for name, value in state_dict.items():
        if not isinstance(name, str):
            raise TypeError(f"save_state_dict: state_dict keys must be str (parameter "
                            f"names), got {type(name).__name__} {name!r}")
        arrays[name] = host_array(value)  # a C-ordered copy; keeps 0-d arrays 0-d
        if not is_numeric(arrays[name]):
            raise TypeError(f"save_state_dict: state_dict[{name!r}] must be an array of "
                            f"numbers, got {type(value).__name__} of dtype "
                            f"{arrays[name].dtype}")
    from fnnet.checkpoint.atomic_file import replacing

    path.parent.mkdir(parents=True, exist_ok=True)
    # replacing(): the umask's permissions, as torch.save's (safetensors' own writer
    # leaves its file 0600), and no half-written file after a failure
    if suffix == SAFETENSORS_SUFFIX:
        from safetensors.numpy import save_file

        with replacing(path) as new:
            save_file(dict(arrays), str(new))
    else:
        torch = _import_torch(path, "writing")
        with replacing(path) as new:
            torch.save(OrderedDict((k, torch_tensor(v)) for k, v in arrays.items()), new)
    return path
