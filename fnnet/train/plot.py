"""A PNG of the loss and accuracy curves of a ``fit`` history."""

from __future__ import annotations

import os
import pathlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def plot_history(history: dict[str, list[float]], path: str | os.PathLike[str],
                 title: str = "fnnet training") -> pathlib.Path:
    """Writes loss (left) and accuracy (right) per epoch, training and evaluation.

    Args:
        history: the history returned by :func:`fnnet.train.fit`.
        path: where to write the PNG; parent folders are created.
        title: the figure title.

    Returns:
        The path written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    if not history.get("loss"):
        raise ValueError("plot_history: history has no 'loss' values to plot")
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    epochs = range(1, len(history["loss"]) + 1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for axis, metric in ((left, "loss"), (right, "accuracy")):
        for prefix, label in (("", "train"), ("eval_", "test")):
            values = history.get(prefix + metric)
            if values:
                axis.plot(epochs, values, marker="o", markersize=3, label=label)
        axis.set_xlabel("epoch")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_ylabel(metric)
        axis.grid(alpha=0.3)
        axis.legend()
    left.set_yscale("log")
    fig.suptitle(title)
    return save_figure(fig, path)


def save_figure(fig: Figure, path: pathlib.Path) -> pathlib.Path:
    """Writes ``fig`` as a PNG atomically (a reader never sees half a file) and closes it.

    Args:
        fig: a finished matplotlib figure.
        path: the PNG to write; its folder must exist.

    Returns:
        ``path``.
    """
    import matplotlib.pyplot as plt

    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)
    return path
