"""A PNG of the loss and accuracy curves of a ``fit`` history."""

from __future__ import annotations

import os
import pathlib
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# The entries of a history that are drawn: training and evaluation loss and accuracy.
PLOTTED = ("loss", "accuracy", "eval_loss", "eval_accuracy")


def plot_history(history: Mapping[str, list[float]], path: str | os.PathLike[str],
                 title: str = "fnnet training") -> pathlib.Path:
    """Writes loss (left) and accuracy (right) per epoch, training and evaluation.

    Args:
        history: the history returned by :func:`fnnet.train.fit`.
        path: where to write the picture: a PNG, or the format its suffix names
            (``.pdf``, ``.svg``, ``.jpg``); parent folders are created.
        title: the figure title.

    Returns:
        The path written.

    Raises:
        TypeError: ``history`` is not a mapping, one of its plotted entries not a list of
            numbers, ``path`` not a path or ``title`` not a str.
        ValueError: ``history`` has no ``loss`` values, or a plotted entry's length
            differs from that of ``loss``; ``path`` has another suffix.
    """
    _check_history(history)
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"plot_history: path must be a file path (str or os.PathLike), got "
                        f"{path!r}")
    suffix = pathlib.Path(path).suffix.lower()
    if suffix and suffix not in FORMATS:
        raise ValueError(f"plot_history: path must end in one of {', '.join(FORMATS)} (or "
                         f"nothing, for a PNG), got {str(path)!r}")
    if not isinstance(title, str):
        raise TypeError(f"plot_history: title must be a str, got {title!r}")
    from fnnet.train.callbacks import check_path

    check_path(path, "plot_history: path", file=True)  # not under a file, not a folder
    # A figure of its own, outside pyplot: the program's matplotlib backend (a
    # notebook's inline one) and its open figures are left as they were.
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    epochs = range(1, len(history["loss"]) + 1)
    fig = Figure(figsize=(10, 4))
    left, right = fig.subplots(1, 2)
    for axis, metric in ((left, "loss"), (right, "accuracy")):
        for prefix, label in (("", "train"), ("eval_", "test")):
            values = history.get(prefix + metric)
            if values:
                axis.plot(epochs, values, marker="o", markersize=3, label=label)
        axis.set_xlabel("epoch")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_ylabel(metric)
        axis.grid(alpha=0.3)
        if axis.lines:  # a history without accuracy (a regression) leaves one empty
            axis.legend()
    left.set_yscale("log")
    fig.suptitle(title)
    return save_figure(fig, path)


def _check_history(history: Any) -> None:
    """Raises unless ``history`` maps ``loss`` (and any other plotted metric) to equally
    long lists of numbers, one per epoch."""
    if not isinstance(history, Mapping):
        raise TypeError(f"plot_history: history must be a mapping of metric names to "
                        f"per-epoch values (as fit returns), got {type(history).__name__}")
    loss = history.get("loss")
    if loss is None or (isinstance(loss, list | tuple) and not loss):
        raise ValueError("plot_history: history has no 'loss' values to plot")
    for key in PLOTTED:  # 'loss' first: its length is known to be valid after it
        values = history.get(key)
        if values is None:
            continue
        try:
            numbers = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            numbers = None
        if not isinstance(values, list | tuple) or numbers is None or numbers.ndim != 1:
            raise TypeError(f"plot_history: history[{key!r}] must be a list of numbers (one "
                            f"per epoch), got {type(values).__name__}")
        if values and len(values) != len(loss):
            raise ValueError(f"plot_history: history[{key!r}] holds {len(values)} values, "
                             f"expected one per epoch of 'loss' ({len(loss)})")


#: the picture formats :func:`plot_history` writes, by suffix
FORMATS = (".png", ".pdf", ".svg", ".jpg", ".jpeg")


def save_figure(fig: Figure, path: pathlib.Path) -> pathlib.Path:
    """Writes ``fig`` atomically (a reader never sees half a file) and closes it: in the
    format ``path``'s suffix names (:data:`FORMATS`), a PNG without one.

    Args:
        fig: a finished matplotlib figure.
        path: the picture to write; its folder must exist.

    Returns:
        ``path``.
    """
    fig.tight_layout()
    suffix = path.suffix.lower() if path.suffix.lower() in FORMATS else ".png"
    tmp = path.with_suffix(".tmp" + suffix)
    # the format named, not read from the temporary name (a PNG written as curves.pdf)
    fig.savefig(tmp, dpi=100, format=suffix[1:].replace("jpg", "jpeg"))
    if "matplotlib.pyplot" in sys.modules:  # a pyplot figure (fnnet compare's) is closed
        sys.modules["matplotlib.pyplot"].close(fig)
    os.replace(tmp, path)
    return path
