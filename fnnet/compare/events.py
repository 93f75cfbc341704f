"""The per-step losses of a comparison's versions as TensorBoard event files.

Each version (PyTorch, fnnet, fnnet.torch) is one run, a folder named after it; each
example's curve is the tag ``<example>:<variant>/loss``, so TensorBoard draws the three
versions of an example in one chart.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Sequence

from fnnet.compare.runner import VERSIONS, Comparison


def write_loss_events(comparisons: Sequence[Comparison],
                      folder: str | os.PathLike[str]) -> pathlib.Path:
    """Writes ``folder/<version>/events.out.tfevents.*`` with every step's loss (steps
    counted from 1), replacing the event files an earlier comparison left there.

    Returns:
        ``folder``, for ``tensorboard --logdir``.
    """
    from fnnet.train.events import file_writer, remove_event_files

    folder = pathlib.Path(folder)
    for version in VERSIONS:
        runs = [c for c in comparisons if version in c.results]
        if not runs:
            continue
        run_folder = folder / version
        run_folder.mkdir(parents=True, exist_ok=True)
        remove_event_files(run_folder)
        writer = file_writer(run_folder)
        try:
            for comparison in runs:
                tag = f"{comparison.name}/loss"
                for step, loss in enumerate(comparison.results[version]["losses"], start=1):
                    writer.add_scalars({tag: loss}, step)
        finally:
            writer.close()
    return folder
