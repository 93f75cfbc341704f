"""Checkpoints: training states saved atomically with orbax, state dicts as safetensors.

- :class:`Checkpointer` and :func:`restore_checkpoint`: a whole
  :class:`~fnnet.train.TrainState` (parameters, layer state, optimizer state, step, PRNG
  key) plus JSON metadata, in step-numbered folders that are renamed into place only
  once complete, each with a manifest of its files' SHA-256 digests: a damaged one is
  never restored (:class:`CheckpointWarning`, then the newest intact one).
  :func:`fnnet.train.fit` uses them for ``checkpoint_dir``/``resume``.
- :func:`save_safetensors` and :func:`load_safetensors`: state dicts (or nested
  containers of arrays and plain values) in one file, loaded without unpickling.
"""

from fnnet.checkpoint.errors import (
    CheckpointError,
    CheckpointWarning,
    CheckpointWriteError,
    DamagedCheckpointError,
)
from fnnet.checkpoint.safetensors_file import load_safetensors, save_safetensors
from fnnet.checkpoint.train_state import Checkpointer, restore_checkpoint

__all__ = [
    "CheckpointError",
    "CheckpointWarning",
    "CheckpointWriteError",
    "Checkpointer",
    "DamagedCheckpointError",
    "load_safetensors",
    "restore_checkpoint",
    "save_safetensors",
]
