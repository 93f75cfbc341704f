"""Manifests that let a checkpoint verify itself: the SHA-256 digest of every file in it.

Once orbax has committed a checkpoint folder ``<step>``, :func:`write_manifest` writes
``<step>/fnnet_manifest.json`` last, atomically (a temporary file, ``fsync``, rename):
the step, a copy of the metadata, and the size and SHA-256 digest of every other file in
the folder. :func:`check_folder` holds a folder against its manifest: the manifest must
be there, parse and name the folder's step, and every file it lists must be present with
its size and digest, with no other file beside them. A flipped bit, a truncated,
deleted or added file, an edited metadata document and a save that died before its
manifest all fail it.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import re
from typing import Any

from fnnet.checkpoint.atomic_file import replacing
from fnnet.checkpoint.errors import DamagedCheckpointError

MANIFEST = "fnnet_manifest.json"
FORMAT = 1
#: a manifest larger than this is refused unread (it lists a few dozen files and the
#: metadata, whose history grows by a few numbers per epoch)
MAX_MANIFEST_BYTES = 16 << 20
_CHUNK = 1 << 20
_HEX64 = re.compile(r"[0-9a-f]{64}")
#: problems named in one message; the rest are counted
_SHOWN = 3


def _digest(path: pathlib.Path) -> str:
    """The SHA-256 of a file, read in 1 MiB pieces."""
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


def _files(folder: pathlib.Path) -> list[str]:
    """The files under ``folder`` but the manifest, as sorted POSIX paths relative to it."""
    found = []
    for root, _, names in os.walk(folder):
        for name in names:
            relative = (pathlib.Path(root) / name).relative_to(folder).as_posix()
            if relative != MANIFEST:
                found.append(relative)
    return sorted(found)


def canonical(meta: Any) -> str:
    """``meta`` as one canonical JSON text, to compare two copies (NaN equal to NaN)."""
    return json.dumps(meta, sort_keys=True, allow_nan=True)


def write_manifest(folder: pathlib.Path, step: int, meta: dict[str, Any]) -> None:
    """Writes ``folder``'s manifest: the digests of its files and a copy of ``meta``.

    Raises:
        OSError: the manifest could not be written (the folder is then incomplete).
    """
    files = {}
    for relative in _files(folder):
        path = folder / relative
        files[relative] = {"size": path.stat().st_size, "sha256": _digest(path)}
    text = json.dumps({"format": FORMAT, "step": step, "meta": meta, "files": files},
                      sort_keys=True, allow_nan=True)
    with replacing(folder / MANIFEST) as temporary:
        temporary.write_text(text, encoding="utf-8")


def _damaged(problems: list[str]) -> DamagedCheckpointError:
    shown = "; ".join(problems[:_SHOWN])
    if len(problems) > _SHOWN:
        shown += f"; and {len(problems) - _SHOWN} more"
    return DamagedCheckpointError(shown)


def _read_manifest(folder: pathlib.Path, step: int) -> dict[str, Any]:
    """The folder's manifest, checked against its schema; raises DamagedCheckpointError."""
    if not folder.is_dir():
        raise DamagedCheckpointError("it is not a folder")
    path = folder / MANIFEST
    if not path.is_file():
        if not any(folder.iterdir()):
            raise DamagedCheckpointError("the folder is empty")
        raise DamagedCheckpointError(f"it has no {MANIFEST} (its save did not finish, "
                                     "the file was deleted, or an fnnet that did not "
                                     "write manifests wrote it)")
    size = path.stat().st_size
    if size > MAX_MANIFEST_BYTES:
        raise DamagedCheckpointError(f"{MANIFEST} is {size} bytes, more than the "
                                     f"{MAX_MANIFEST_BYTES} a manifest may have")
    try:
        manifest = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DamagedCheckpointError(f"{MANIFEST} is not valid JSON ({error})") from None
    if not isinstance(manifest, dict) or set(manifest) != {"format", "step", "meta", "files"}:
        raise DamagedCheckpointError(f"{MANIFEST} does not have the fields format, step, "
                                     "meta and files")
    if manifest["format"] != FORMAT:
        raise DamagedCheckpointError(f"{MANIFEST} has format {manifest['format']!r}, "
                                     f"this fnnet reads {FORMAT}")
    if manifest["step"] != step or isinstance(manifest["step"], bool):
        raise DamagedCheckpointError(f"{MANIFEST} is for step {manifest['step']!r}, the "
                                     f"folder for step {step}")
    if not isinstance(manifest["meta"], dict):
        raise DamagedCheckpointError(f"{MANIFEST}'s meta is not a JSON object")
    files = manifest["files"]
    if not isinstance(files, dict) or not files:
        raise DamagedCheckpointError(f"{MANIFEST} lists no files")
    for name, entry in files.items():
        parts = pathlib.PurePosixPath(name).parts
        if (not parts or name.startswith("/") or ".." in parts or not isinstance(entry, dict)
                or set(entry) != {"size", "sha256"}
                or not isinstance(entry["size"], int) or isinstance(entry["size"], bool)
                or entry["size"] < 0 or not isinstance(entry["sha256"], str)
                or not _HEX64.fullmatch(entry["sha256"])):
            raise DamagedCheckpointError(f"{MANIFEST} has a malformed entry for {name!r}")
    return manifest


def check_folder(folder: pathlib.Path, step: int) -> dict[str, Any]:
    """Holds checkpoint folder ``folder`` (of ``step``) against its manifest.

    Args:
        folder: the checkpoint's folder, ``<directory>/<step>``.
        step: the step its name gives.

    Returns:
        The copy of the checkpoint's metadata kept in the manifest.

    Raises:
        DamagedCheckpointError: saying what failed (the folder is named by the caller).
    """
    manifest = _read_manifest(folder, step)
    files = manifest["files"]
    present = _files(folder)
    problems = [f"file {name} is missing" for name in files if name not in present]
    problems += [f"unexpected file {name}" for name in present if name not in files]
    sizes = {name: (folder / name).stat().st_size for name in files if name in present}
    problems += [f"file {name} is {size} bytes, its manifest says {files[name]['size']} "
                 "(truncated or extended)" for name, size in sizes.items()
                 if size != files[name]["size"]]
    if problems:  # digests only of files of the right size
        raise _damaged(problems)
    problems = [f"file {name} ({files[name]['size']} bytes) does not match its SHA-256 "
                "digest (changed bits)" for name in files
                if _digest(folder / name) != files[name]["sha256"]]
    if problems:
        raise _damaged(problems)
    meta: dict[str, Any] = manifest["meta"]
    return meta
