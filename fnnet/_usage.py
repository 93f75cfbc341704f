"""What the command-line entry points (``fnnet``, ``fnnet compare``) check of their flags
before any work starts, and the error they raise for a flag that cannot work."""

from __future__ import annotations

import argparse
import os
import pathlib
import tempfile


class UsageError(ValueError):
    """A flag, or a combination of flags, that cannot work (exit status 2)."""


def path_argument(text: str) -> str:
    """An argparse ``type`` for a file or folder flag: refuses an empty path (an unset
    shell variable, ``--out "$OUT"``), which would name the working directory, whose
    event files a new run replaces.

    Raises:
        argparse.ArgumentTypeError: ``text`` is empty or only spaces.
    """
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a path, got {text!r}")
    return text


def check_writable(flag: str, value: str, folder: pathlib.Path, probe: bool = True) -> None:
    """Raises :class:`UsageError` unless files can be made in ``folder``, or in its
    nearest existing parent where it does not exist yet, naming ``flag``.

    A folder is made and removed there: permission bits alone say nothing for root, nor
    for read-only or virtual file systems (``/proc``). With ``probe`` False an existing
    ``folder`` is left untouched (a checkpoint folder, which its own writer probes) and
    only its permission bits are checked.
    """
    existing = next((f for f in (folder, *folder.parents) if f.exists()), None)
    if existing is None:
        return
    if not existing.is_dir() or (existing == folder and not probe
                                 and not os.access(folder, os.W_OK)):
        raise UsageError(f"{flag} {value}: cannot write in {existing}")
    if existing == folder and not probe:
        return
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".fnnet-probe-", dir=existing))
    except OSError as error:
        raise UsageError(f"{flag} {value}: cannot write in {existing} "
                         f"({error.strerror or error})") from None
