"""Replacing a file atomically: a new file beside it, synced, then renamed over it.

A reader (or a crash) sees either the old file or the whole new one, never a part. The
new file gets the permissions ``open(path, "wb")`` would give it, as PyTorch's
``torch.save`` writes: those of the file it replaces, else the default of the process's
umask (a temporary file's own ``0600`` would hide a checkpoint from the rest of a group).
A path that is a symbolic link is written through, as ``open`` writes: the file it points
to is replaced and the link kept. A path that is no regular file (``/dev/null``, a named
pipe) is written in place, as ``open`` writes it: a rename would put a file where the
device or pipe was.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import secrets
import stat
from collections.abc import Iterator

__all__ = ["fsync_folder", "is_special", "replacing"]

_ATTEMPTS = 100  # names tried for the new file before giving up


def fsync_folder(folder: str | os.PathLike[str]) -> None:
    """Makes a rename inside ``folder`` durable (where the platform allows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def is_special(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` (through links) is there and is neither a regular file nor a
    folder: a device (``/dev/null``), a named pipe, a socket."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _create_beside(target: pathlib.Path) -> tuple[pathlib.Path, int]:
    """A new empty file in ``target``'s folder, and the mode ``open(target, "wb")``
    would leave ``target`` with, which the file has."""
    try:
        mode: int | None = stat.S_IMODE(target.stat().st_mode) if target.is_file() else None
    except OSError:
        mode = None
    for _ in range(_ATTEMPTS):
        path = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        try:  # 0o666 less the umask, as open() creates a file
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        try:
            if mode is not None:
                os.fchmod(fd, mode)
            mode = stat.S_IMODE(os.fstat(fd).st_mode)
        finally:
            os.close(fd)
        return path, mode
    raise FileExistsError(f"no free name for a temporary file beside {str(target)!r}")


@contextlib.contextmanager
def replacing(target: str | os.PathLike[str]) -> Iterator[pathlib.Path]:
    """Yields the path of a new file to write in place of ``target``; when the block
    ends without an error, the file is synced to disk and renamed over ``target``.
    Otherwise it is removed and ``target`` is left as it was. A ``target`` that is a
    device or a pipe (:func:`is_special`) is yielded itself, to be written in place.

    Raises:
        OSError: the new file cannot be made, synced or renamed (the error of the
            operating system, naming the temporary file).
    """
    real = pathlib.Path(os.path.realpath(target))  # through a symbolic link, as open()
    if is_special(real):
        yield real
        return
    tmp, mode = _create_beside(real)
    try:
        yield tmp
        os.chmod(tmp, mode)  # a writer that made the file again (safetensors') made it 0600
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, real)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_folder(real.parent)
