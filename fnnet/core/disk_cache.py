"""XLA's compiled programs kept on disk, so that running a script again skips compiling.

A PyTorch user reruns a training script many times; under JAX each run compiles its
programs afresh, most of a short script's time. :func:`use_disk_cache` points JAX's
persistent compilation cache at a folder of fnnet's, unless the user has chosen a cache
of their own, so the second run of a script loads its programs instead. ``fnnet.torch``
and the ``fnnet`` command call it on import and start; ``import fnnet`` alone leaves
JAX's settings as they are.

The folder is ``$FNNET_COMPILATION_CACHE`` if set (``0``, ``off`` or ``false`` turn the
cache off), else ``$XDG_CACHE_HOME/fnnet/xla`` (``~/.cache/fnnet/xla``). JAX keys each
program by its computation, compile options, devices and jaxlib version. The folder is kept
near :data:`MAX_BYTES` by :func:`prune`, which a process runs when it turns the cache on
(at most once every :data:`PRUNE_EVERY` seconds across processes): JAX's own size limit
(``jax_compilation_cache_max_size``) reads every entry of the folder each time it writes a
program, a cost that grows with the folder (about a second a program at 3,500 entries).
"""

from __future__ import annotations

import os
import pathlib
import time

import jax

#: the environment variable naming the folder, or turning the cache off
VARIABLE = "FNNET_COMPILATION_CACHE"
#: values of :data:`VARIABLE` that turn the cache off
OFF = ("0", "off", "false", "no")
#: the folder's size past which :func:`prune` removes the least recently used programs
MAX_BYTES = 1 << 30
#: seconds between two prunes of one folder; the folder may outgrow :data:`MAX_BYTES`
#: between them by what the processes of that time compiled
PRUNE_EVERY = 3600.0
#: the file in the folder whose modification time is the last prune's
MARKER = ".fnnet-pruned"
#: the suffixes of JAX's files for one program: the program, and its last use where JAX's
#: own size limit was on
_SUFFIXES = ("-cache", "-atime")


def default_folder() -> pathlib.Path:
    """``$XDG_CACHE_HOME/fnnet/xla``, or ``~/.cache/fnnet/xla``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "fnnet" / "xla"


def use_disk_cache() -> pathlib.Path | None:
    """Points JAX's persistent compilation cache at fnnet's folder (see the module
    docstring), caching every program however fast it compiled.

    Nothing changes where the user chose a cache (``JAX_COMPILATION_CACHE_DIR`` or
    ``jax.config``), where :data:`VARIABLE` turns it off, or where the folder cannot be
    made (a read-only home): the cache only saves time. JAX decides at its first compile
    whether a process uses a cache, so a call after that first compile changes nothing.

    Returns:
        The folder in use, or None where this call set none.
    """
    if getattr(jax.config, "jax_compilation_cache_dir", None):  # the user chose one
        return None
    chosen = os.environ.get(VARIABLE)
    if chosen is not None and chosen.strip().lower() in (*OFF, ""):
        return None
    folder = pathlib.Path(chosen).expanduser() if chosen else default_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    if not os.access(folder, os.W_OK):
        return None
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    _prune_when_due(folder)
    return folder


def _prune_when_due(folder: pathlib.Path) -> None:
    """:func:`prune` unless a process pruned ``folder`` less than :data:`PRUNE_EVERY`
    seconds ago; a folder that cannot be read or written is left as it is."""
    marker = folder / MARKER
    try:
        if time.time() - marker.stat().st_mtime < PRUNE_EVERY:
            return
    except FileNotFoundError:
        pass
    except OSError:
        return
    try:
        marker.touch()
        prune(folder, MAX_BYTES)
    except OSError:
        pass


def prune(folder: str | os.PathLike[str], max_bytes: int = MAX_BYTES) -> int:
    """Removes the least recently used programs of a cache folder until the programs left
    take at most ``max_bytes``.

    A program's last use is the latest of its file's access and modification times (and of
    the ``-atime`` file JAX kept beside it while its own size limit was on). Files that are
    not JAX's programs are left alone; a program another process removed meanwhile is
    skipped.

    Args:
        folder: a folder of JAX's persistent compilation cache.
        max_bytes: the most the programs left may take, in bytes (``>= 0``).

    Returns:
        The number of programs removed.

    Raises:
        TypeError: ``max_bytes`` is not an int.
        ValueError: ``max_bytes`` is negative.
        NotADirectoryError: ``folder`` is not a folder.
    """
    if not isinstance(max_bytes, int) or isinstance(max_bytes, bool):
        raise TypeError(f"prune: max_bytes must be an int (bytes), got "
                        f"{type(max_bytes).__name__} {max_bytes!r}")
    if max_bytes < 0:
        raise ValueError(f"prune: max_bytes must be >= 0, got {max_bytes}")
    folder = pathlib.Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"prune: folder must be a folder, got {str(folder)!r}")
    programs: dict[str, list[float]] = {}  # key -> [last use, bytes]
    with os.scandir(folder) as entries:
        for entry in entries:
            suffix = next((s for s in _SUFFIXES if entry.name.endswith(s)), None)
            if suffix is None or not entry.is_file(follow_symlinks=False):
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            program = programs.setdefault(entry.name[:-len(suffix)], [0.0, 0])
            program[0] = max(program[0], info.st_atime, info.st_mtime)
            program[1] += info.st_size
    total = sum(size for _, size in programs.values())
    removed = 0
    for key, (_, size) in sorted(programs.items(), key=lambda item: item[1][0]):
        if total <= max_bytes:
            break
        for suffix in _SUFFIXES:
            try:
                os.remove(folder / f"{key}{suffix}")
            except FileNotFoundError:
                pass
        total -= size
        removed += 1
    return removed
