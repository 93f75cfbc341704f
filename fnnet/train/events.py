"""TensorBoard event files, written with tensorboardX.

tensorboardX is the writer: it needs only numpy and protobuf (no TensorFlow, no
``tensorboard`` server package), so it is a core dependency and ``fnnet train`` writes
event files on a plain install. :mod:`fnnet.train.callbacks`, the shim's
``SummaryWriter`` and ``fnnet compare`` all write through it.
"""

from __future__ import annotations

import os
import pathlib
import sys
from collections.abc import Mapping
from types import ModuleType

#: the names of the files TensorBoard reads in a run folder
EVENT_FILE_GLOB = "events.out.tfevents.*"


def tensorboardx() -> ModuleType:
    """The ``tensorboardX`` module, imported without PyTorch.

    tensorboardX imports ``torch`` (when it is installed) only to accept its tensors,
    which fnnet never passes; that import takes seconds, so unless the program has
    already imported PyTorch, it is hidden while tensorboardX loads.
    """
    if "tensorboardX" in sys.modules or "torch" in sys.modules:
        import tensorboardX

        return tensorboardX
    sys.modules["torch"] = None  # makes `import torch` raise ImportError
    try:
        import tensorboardX
    finally:
        del sys.modules["torch"]
    return tensorboardX


def file_writer(logdir: str | os.PathLike, *, flush_secs: float = 10.0) -> object:
    """A tensorboardX ``FileWriter`` appending a new event file to ``logdir``."""
    return tensorboardx().FileWriter(str(logdir), flush_secs=flush_secs)


def scalars_summary(scalars: Mapping[str, float]) -> object:
    """One ``Summary`` protobuf holding every ``tag: value`` (one event for all)."""
    tensorboardx()
    from tensorboardX.proto.summary_pb2 import Summary

    return Summary(value=[Summary.Value(tag=tag, simple_value=float(value))
                          for tag, value in scalars.items()])


def remove_event_files(folder: str | os.PathLike) -> int:
    """Deletes the event files directly in ``folder`` (not in subfolders), so that a new
    run written there is not mixed with an earlier one; returns how many it deleted."""
    path = pathlib.Path(folder)
    if not path.is_dir():
        return 0
    removed = 0
    for file in path.glob(EVENT_FILE_GLOB):
        if file.is_file():
            file.unlink()
            removed += 1
    return removed
