"""The exceptions and the warning of :mod:`fnnet.checkpoint`."""

from __future__ import annotations


class CheckpointError(ValueError):
    """A checkpoint that cannot be restored into the given template (or is missing)."""


class DamagedCheckpointError(CheckpointError):
    """A checkpoint whose files fail verification, or a folder with no intact one.

    ``damaged`` maps each failing checkpoint folder to what failed in it.
    """

    def __init__(self, message: str, damaged: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.damaged = dict(damaged or {})


class CheckpointWriteError(OSError):
    """A checkpoint could not be written (read-only folder, disk full, ...).

    Raised at once, before any partial checkpoint is listed; the checkpoints written
    earlier are left as they were. ``errno`` is the operating system's error number when
    the cause was an ``OSError``.
    """


class CheckpointWarning(UserWarning):
    """A damaged checkpoint was skipped in favour of an older, intact one."""
