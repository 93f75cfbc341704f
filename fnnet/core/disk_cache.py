"""XLA's compiled programs kept on disk, so that running a script again skips compiling.

A PyTorch user reruns a training script many times; under JAX each run compiles its
programs afresh, most of a short script's time. :func:`use_disk_cache` points JAX's
persistent compilation cache at a folder of fnnet's, unless the user has chosen a cache
of their own, so the second run of a script loads its programs instead. ``fnnet.torch``
and the ``fnnet`` command call it on import and start; ``import fnnet`` alone leaves
JAX's settings as they are.

The folder is ``$FNNET_COMPILATION_CACHE`` if set (``0``, ``off`` or ``false`` turn the
cache off), else ``$XDG_CACHE_HOME/fnnet/xla`` (``~/.cache/fnnet/xla``). JAX keys each
program by its computation, compile options, devices and jaxlib version, and evicts the
least recently used programs past :data:`MAX_BYTES`.
"""

from __future__ import annotations

import importlib.util
import os
import pathlib

import jax

#: the environment variable naming the folder, or turning the cache off
VARIABLE = "FNNET_COMPILATION_CACHE"
#: values of :data:`VARIABLE` that turn the cache off
OFF = ("0", "off", "false", "no")
#: the cache's size past which JAX evicts the least recently used programs
MAX_BYTES = 1 << 30


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
    if importlib.util.find_spec("filelock") is not None:  # JAX's eviction locks with it
        jax.config.update("jax_compilation_cache_max_size", MAX_BYTES)
    return folder
