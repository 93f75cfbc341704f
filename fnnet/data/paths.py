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

DATA_DIR_ENV = "FNNET_DATA_DIR"


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
