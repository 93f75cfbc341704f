"""What the command-line entry points (``fnnet``, ``fnnet compare``) check of their flags
before any work starts, and the error they raise for a flag that cannot work."""

from __future__ import annotations

import argparse
import contextlib
import os
import pathlib
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence


class UsageError(ValueError):
    """A flag, or a combination of flags, that cannot work (exit status 2)."""


# Python argument names that library errors use, and the flags a CLI user typed.
_FLAG_FOR: list[tuple[str, str | Callable[[re.Match[str]], str]]] = [
    (r"\bresume=True\b", "--resume"),
    (r"\bpass (directory=\.\.\.|data_dir=)", "pass --data-dir"),
    (r"\bon_nonfinite='(\w+)'", r"--on-nonfinite \1"),
    (r"\bevery_n_steps\b", "--checkpoint-every"),
    # Bare names only: a keyword in quoted code (builder(data_dir=DIR)) or a command
    # line's own flag (--data_dir=DIR) stays as the user must type it there.
    (r"(?<![-\w])(checkpoint_dir|on_nonfinite|batch_size|steps_per_call|data_dir|"
     r"weight_decay)\b(?!=)", lambda m: "--" + m.group(1).replace("_", "-")),
    (r"\b(epochs|devices|seed|lr|momentum)=", r"--\1 "),
    (r"\b(batch_size|steps_per_call)=", lambda m: "--" + m.group(1).replace("_", "-") + " "),
    (r"^batch size (\d+) is not divisible", r"--batch-size \1 is not divisible"),
]


def user_words(error: BaseException) -> str:
    """An exception's message on one line, with flag names for Python argument names."""
    text = " ".join(str(error).split())
    for pattern, flag in _FLAG_FOR:
        text = re.sub(pattern, flag, text)
    return text or type(error).__name__


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


@contextlib.contextmanager
def folders_held(command: str, folders: Sequence[tuple[str, str]]) -> Iterator[None]:
    """Holds each ``(flag, folder)`` for this process while the block runs, making the
    folder if missing: a folder that another fnnet command holds (a run still writing
    its checkpoints or event files there) raises :class:`UsageError` naming the flag,
    before either run removes or overwrites the other's files.

    The hold is an advisory lock (``flock``) on the folder itself, which the system
    releases when the process ends, killed included; nothing is written in the folder.
    Where the system has no such locks (Windows, some network file systems) nothing is
    held.

    Args:
        command: the fnnet command holding them (``"train"``), named in the error.
        folders: ``(flag, folder)`` pairs, each folder as the user gave it.

    Raises:
        UsageError: another process holds one of the folders.
    """
    try:
        import fcntl
    except ImportError:
        yield
        return
    with contextlib.ExitStack() as stack:
        held: set[pathlib.Path] = set()
        for flag, value in folders:
            folder = pathlib.Path(value).resolve()
            if folder in held:
                continue
            try:
                folder.mkdir(parents=True, exist_ok=True)
                descriptor = os.open(folder, os.O_RDONLY)
            except OSError:  # a folder refusing files: the run's own writes name it
                continue
            stack.callback(os.close, descriptor)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UsageError(f"{flag} {value}: another fnnet {command} is writing in "
                                 f"it; wait for it to end, or give another folder") from None
            except OSError:  # a file system without locks
                continue
            held.add(folder)
        yield
