"""Where local data files are looked for.

A loader given no ``directory`` reads, in order:

1. ``$FNNET_<NAME>_DIR`` (``FNNET_MNIST_DIR``, ``FNNET_FASHION_MNIST_DIR``,
   ``FNNET_CIFAR10_DIR``): the folder holding that data set's files;
2. ``$FNNET_DATA_DIR/<name>`` (``$FNNET_DATA_DIR/mnist``, ...).

Inside the folder, the files may also sit where torchvision puts them
(``MNIST/raw``, ``FashionMNIST/raw``, ``cifar-10-batches-py``).
"""

from __future__ import annotations

import os
import pathlib
from typing import Any

DATA_DIR_ENV = "FNNET_DATA_DIR"
_NO_SPLIT = object()  # check_source's split for callers that take none


def check_source(caller: str, name: Any, data_dir: Any, split: Any = _NO_SPLIT) -> None:
    """Raises a TypeError naming ``caller`` and the first of a data set's ``name``,
    ``split`` (when the caller takes one) and ``data_dir`` that has the wrong type.

    ``name`` goes into environment variable and file names before any file is read, so
    it is checked first, where the message can still say what it should be.
    """
    if not isinstance(name, str):
        raise TypeError(f"{caller}: name must be a str (a dataset name), got {name!r}")
    if split is not _NO_SPLIT and not isinstance(split, str):
        raise TypeError(f"{caller}: split must be a str (e.g. 'train' or 'test'), got "
                        f"{split!r}")
    if data_dir is not None and not isinstance(data_dir, str | os.PathLike):
        raise TypeError(f"{caller}: data_dir must be a folder path (str or os.PathLike) or "
                        f"None, got {data_dir!r}")
    if data_dir is not None and os.path.isfile(os.path.expanduser(data_dir)):
        # one of the data set's files given for its folder: "not found in <the file>"
        # would hide the slip
        raise NotADirectoryError(f"{caller}: data_dir must be the folder holding the data "
                                 f"set's files, got the file {os.fspath(data_dir)!r}")


def env_var(name: str) -> str:
    """The environment variable naming the folder of data set ``name``."""
    return f"FNNET_{name.upper()}_DIR"


def default_directory(name: str) -> pathlib.Path | None:
    """The folder for data set ``name`` from the environment, or None where unset."""
    specific = os.environ.get(env_var(name))
    if specific:
        return pathlib.Path(specific).expanduser()
    base = os.environ.get(DATA_DIR_ENV)
    if base:
        return pathlib.Path(base).expanduser() / name
    return None


def how_to_point(name: str) -> str:
    """The sentence that tells a user how to give the folder of data set ``name``."""
    return (f"pass directory=..., or set {env_var(name)} to the folder, or "
            f"{DATA_DIR_ENV} to a folder containing {name}/")
