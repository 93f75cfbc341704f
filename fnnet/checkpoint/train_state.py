"""Checkpoints of a :class:`~fnnet.train.TrainState`, written atomically with orbax.

A checkpoint is a folder ``<directory>/<step>`` holding the state's arrays (parameters,
layer state, optimizer state, step count and the raw data of the PRNG key) and a JSON
document of metadata (``fit`` keeps the data position and the history there). orbax
writes each one into ``<step>.orbax-checkpoint-tmp-*`` and renames it to ``<step>`` only
once every file is written, so a process killed mid-save leaves a temporary folder that
is never listed, never restored, and removed by the next :class:`Checkpointer` that
writes there (before its first save).

Each checkpoint verifies itself: once orbax has committed it, fnnet writes a manifest of
the SHA-256 of every file in it (:mod:`fnnet.checkpoint.verify`). :meth:`Checkpointer.restore`
holds a checkpoint against its manifest, and its state and metadata against each other,
before handing it out; a damaged one is skipped with a :class:`CheckpointWarning` naming
its folder and what failed, and the newest intact one is restored instead.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import tempfile
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import jax
import numpy as np

from fnnet.checkpoint import verify
from fnnet.checkpoint.errors import (
    CheckpointError,
    CheckpointWarning,
    CheckpointWriteError,
    DamagedCheckpointError,
)
from fnnet.core.state import TrainState, check_not_donated

_STATE = "state"
_META = "meta"
#: times a read-only Checkpointer lists the folder again when a writer removes a
#: checkpoint under it
READ_ATTEMPTS = 5
#: suffix of the name a damaged checkpoint folder is moved to (never listed as a step)
DAMAGED_SUFFIX = ".damaged"
_TMP_MARK = ".orbax-checkpoint-tmp"
#: suffix of the name an old checkpoint's folder is renamed to while it is removed
_REMOVED_SUFFIX = ".removed"

__all__ = ["CheckpointError", "Checkpointer", "restore_checkpoint"]


def _is_typed_key(key: Any) -> bool:
    dtype = getattr(key, "dtype", None)
    return dtype is not None and bool(jax.numpy.issubdtype(dtype, jax.dtypes.prng_key))


def _to_tree(state: TrainState) -> dict[str, Any]:
    """The state as nested containers of arrays; a typed key as its raw ``uint32`` data."""
    key = jax.random.key_data(state.key) if _is_typed_key(state.key) else state.key
    return {"params": state.params, "layer_state": state.layer_state,
            "opt_state": state.opt_state, "step": state.step, "key": key}


def _check_state(state: Any, name: str) -> None:
    if not isinstance(state, TrainState):
        raise TypeError(f"{name} must be a fnnet.train.TrainState, got {type(state).__name__}")


def _check_step(step: Any) -> None:
    """A step to read is an int (a string or float was 'no checkpoint of step x')."""
    if isinstance(step, bool) or not isinstance(step, int | np.integer):
        raise TypeError(f"step must be an int (a checkpoint's step), got {step!r}")


class Checkpointer:
    """Saves and restores training states in ``directory``, keeping the latest ``keep``.

    Each :meth:`save` blocks until its checkpoint is committed (renamed into place) and
    its manifest written, so nothing is left in flight when the process exits. Each
    :meth:`restore` verifies what it reads (see :meth:`verify`) and never hands out a
    damaged checkpoint. Under several processes (``jax.process_count() > 1``) every
    process must call :meth:`save` and :meth:`restore` together: orbax writes the
    replicated arrays and the metadata from process 0 only, and the others wait at its
    barriers.

    Args:
        directory: the folder of the checkpoints (created when missing).
        keep: number of most recent checkpoints kept (older ones are deleted after a
            new one is complete); ``None`` keeps all.
        read_only: only read: :meth:`save` raises, and nothing in ``directory`` is
            created or removed (safe beside a run that is writing there).

    Raises:
        ValueError: ``keep`` is not a positive int or None.
        TypeError: ``directory`` is not a path.
        CheckpointWriteError: a writer cannot create ``directory``.

    Example::

        with Checkpointer("runs/ckpt", keep=3) as ckpt:
            ckpt.save(state, {"epoch": 2})
            state, meta = ckpt.restore(template_state)

    PyTorch equivalent: ``torch.save({"model": ..., "optimizer": ...}, path)`` and
    ``torch.load``, without pickles, never leaving a half-written file as latest, and
    refusing a file whose bits changed since it was written.
    """

    def __init__(self, directory: str | os.PathLike[str], *, keep: int | None = 3,
                 read_only: bool = False) -> None:
        if not isinstance(directory, (str, os.PathLike)):
            raise TypeError(f"directory must be a path, got {type(directory).__name__}")
        if keep is not None and (isinstance(keep, bool) or not isinstance(keep, int)
                                 or keep < 1):
            raise ValueError(f"keep must be a positive int or None, got {keep!r}")
        import orbax.checkpoint as ocp

        self._ocp = ocp
        self.directory = pathlib.Path(directory).expanduser().resolve()
        if self.directory.exists() and not self.directory.is_dir():
            raise ValueError(f"directory {str(self.directory)!r} exists and is not a folder")
        if not isinstance(read_only, bool):
            raise TypeError(f"read_only must be a bool, got {read_only!r}")
        self.read_only = read_only
        self.keep = keep
        if self.read_only and not self.directory.is_dir():
            raise CheckpointError(f"no checkpoint folder {str(self.directory)!r}")
        options = ocp.CheckpointManagerOptions(
            # Old checkpoints are deleted by save() once the new one's manifest is
            # written, never before: a save that fails leaves every earlier one.
            max_to_keep=None,
            create=not self.read_only,
            # A save blocks until committed: correctness (what latest_step reports is on
            # disk) over speed.
            enable_async_checkpointing=False,
            # Temporary folders left by a killed save are removed by a writer (below),
            # never restored; a reader leaves them, as they may belong to a live run.
            # orbax's own removal runs in a thread that a process exiting at once
            # interrupts with a traceback on stderr.
            cleanup_tmp_directories=False,
        )
        handlers = {_STATE: ocp.StandardCheckpointHandler(), _META: ocp.JsonCheckpointHandler()}
        for attempt in range(READ_ATTEMPTS):
            try:
                self._manager = ocp.CheckpointManager(self.directory, options=options,
                                                      item_handlers=handlers)
                break
            except FileNotFoundError:
                # A run writing here removed its oldest checkpoint (``keep``) while this
                # reader listed them: list again.
                if not self.read_only or attempt == READ_ATTEMPTS - 1:
                    raise
            except PermissionError as error:
                raise _write_error(f"cannot create or clean the checkpoint folder "
                                   f"{str(self.directory)!r}", error) from error
        try:
            self._remove_temporary()
        except OSError as error:
            raise _write_error(f"cannot clean the checkpoint folder "
                               f"{str(self.directory)!r}", error) from error

    def _remove_temporary(self, ignore_errors: bool = False) -> None:
        """A writer's process 0 removes the temporary folders of unfinished saves and
        what unfinished removals of old checkpoints left."""
        if not self.read_only and jax.process_index() == 0:
            for pattern in (f"*{_TMP_MARK}*", f"*{_REMOVED_SUFFIX}"):
                for path in self.directory.glob(pattern):
                    shutil.rmtree(path, ignore_errors=ignore_errors)

    def all_steps(self) -> list[int]:
        """The steps of the checkpoint folders, ascending (:meth:`restore` verifies them)."""
        return sorted(self._manager.all_steps())

    def latest_step(self) -> int | None:
        """The step of the latest checkpoint folder, or None when there is none."""
        step: int | None = self._manager.latest_step()
        return step

    def folder(self, step: int) -> pathlib.Path:
        """The folder of checkpoint ``step``."""
        return self.directory / str(step)

    def check_writable(self) -> None:
        """Raises CheckpointWriteError at once when ``directory`` cannot take a new file.

        Writes, syncs and removes a small probe file. Every process probes (the folder
        is shared), so that all of them raise together rather than some waiting at a
        barrier for a process 0 that stopped.
        """
        if self.read_only:
            raise ValueError(f"Checkpointer({str(self.directory)!r}) is read-only")
        try:
            fd, probe = tempfile.mkstemp(prefix=".fnnet-write-probe-", dir=self.directory)
            try:
                os.write(fd, b"fnnet")
                os.fsync(fd)
            finally:
                os.close(fd)
                os.unlink(probe)
        except OSError as error:
            raise _write_error(f"cannot write checkpoints in {str(self.directory)!r}",
                               error, name_file=False) from error

    def save(self, state: TrainState, metadata: Mapping[str, Any] | None = None) -> int:
        """Writes ``state`` (and JSON-serialisable ``metadata``) as checkpoint ``state.step``.

        The checkpoint's manifest (the SHA-256 of each file and a copy of ``metadata``)
        is written last; only then are checkpoints beyond ``keep`` deleted.

        Args:
            state: the training state; its ``step`` names the checkpoint.
            metadata: a JSON-serialisable mapping stored beside the arrays.

        Returns:
            The step saved.

        Raises:
            TypeError: ``state`` is not a TrainState, or ``metadata`` is not a
                JSON-serialisable mapping.
            ValueError: a checkpoint of that step exists already, the checkpointer
                is read-only, or a train step donated (deleted) the state's arrays (the
                state passed to it, not the one it returned).
            CheckpointWriteError: the folder is not writable, or a write failed (disk
                full, ...): raised at once, with nothing of the new checkpoint left
                and every earlier one as it was.
        """
        _check_state(state, "state")
        check_not_donated(state, "Checkpointer.save")
        if self.read_only:
            raise ValueError(f"Checkpointer({str(self.directory)!r}) is read-only")
        if metadata is not None and not isinstance(metadata, Mapping):
            raise TypeError(f"metadata must be a mapping, got {type(metadata).__name__}")
        step = int(state.step)
        if step in self._manager.all_steps():
            raise ValueError(f"a checkpoint of step {step} exists already in "
                             f"{str(self.directory)!r}")
        meta = dict(metadata or {})
        try:
            json.dumps(meta, allow_nan=True)
        except (TypeError, ValueError) as error:
            raise TypeError(f"metadata must be JSON-serialisable: {error}") from None
        self.check_writable()
        args = self._ocp.args.Composite(**{
            _STATE: self._ocp.args.StandardSave(_to_tree(state)),
            _META: self._ocp.args.JsonSave(meta),
        })
        try:
            self._manager.save(step, args=args, force=True)
            self._manager.wait_until_finished()
            if jax.process_index() == 0:
                verify.write_manifest(self.folder(step), step, meta)
        except Exception as error:
            self._discard(step)
            raise _write_error(
                f"could not write the checkpoint of step {step} in {str(self.directory)!r}",
                error, f"; nothing of it was kept, and the earlier checkpoints (steps "
                f"{self.all_steps()}) are as they were") from error
        self._sync("fnnet_checkpoint_manifest")
        if self.keep is not None and jax.process_index() == 0:
            for old in self.all_steps()[:-self.keep]:
                # renamed first: a removal cut short (Ctrl-C, a kill) leaves a folder
                # never listed, removed by the next writer, not a half-deleted step
                removed = self.directory / f"{old}{_REMOVED_SUFFIX}"
                os.rename(self.folder(old), removed)
                shutil.rmtree(removed)
            self._manager.reload()
        self._sync("fnnet_checkpoint_keep")
        return step

    def _discard(self, step: int) -> None:
        """Removes what a failed save of ``step`` left (its temporary or committed folder)."""
        if jax.process_index() == 0:
            for path in self.directory.glob(f"{step}{_TMP_MARK}*"):
                shutil.rmtree(path, ignore_errors=True)
            shutil.rmtree(self.folder(step), ignore_errors=True)
        self._manager.reload()

    def _sync(self, name: str) -> None:
        if jax.process_count() > 1:
            self._ocp.multihost.sync_global_processes(name)

    def set_aside(self, step: int) -> pathlib.Path:
        """Renames checkpoint ``step``'s folder to ``<step>.damaged`` (never listed again).

        ``fit`` does this with the damaged checkpoints newer than the one it resumes
        from, so that the resumed run can write those steps afresh; the folder is kept
        for inspection.

        Returns:
            The folder's new path.
        """
        if self.read_only:
            raise ValueError(f"Checkpointer({str(self.directory)!r}) is read-only")
        target = self.directory / f"{step}{DAMAGED_SUFFIX}"
        n = 1
        while target.exists():
            n += 1
            target = self.directory / f"{step}{DAMAGED_SUFFIX}-{n}"
        if jax.process_index() == 0:
            os.replace(self.folder(step), target)
        self._sync("fnnet_checkpoint_set_aside")
        self._manager.reload()
        return target

    def verify(self, step: int) -> dict[str, Any]:
        """Holds checkpoint ``step``'s files against its manifest.

        Checks that the manifest is there, is well formed and names the step, and that
        every file it lists is present with the size and SHA-256 digest it records, with
        no other file beside them (reading every file once).

        Returns:
            The copy of the checkpoint's metadata kept in its manifest.

        Raises:
            CheckpointError: there is no such checkpoint.
            DamagedCheckpointError: naming the folder and what failed.
        """
        _check_step(step)
        if step not in self.all_steps():
            raise CheckpointError(f"no checkpoint of step {step} in {str(self.directory)!r} "
                                  f"(steps: {self.all_steps()})")
        try:
            return verify.check_folder(self.folder(step), step)
        except DamagedCheckpointError as error:
            raise self._damaged(step, error) from None

    def _damaged(self, step: int, error: Exception) -> DamagedCheckpointError:
        folder = str(self.folder(step))
        return DamagedCheckpointError(f"checkpoint {folder!r} is damaged: {error}",
                                      {folder: str(error)})

    def restore(self, template: TrainState, step: int | None = None, *,
                validate: Callable[[TrainState, dict[str, Any]], None] | None = None,
                ) -> tuple[TrainState, dict[str, Any]]:
        """The state and metadata of the newest intact checkpoint (or of ``step``).

        Each checkpoint read is verified first (:meth:`verify`), then restored; its
        state's step must be the folder's, its metadata the manifest's copy, and
        ``validate`` must accept the pair. Without ``step``, a checkpoint failing any of
        this is skipped with a :class:`CheckpointWarning` naming its folder and what
        failed, and the next older one is tried; one that a run writing there removes
        while it is read (its ``keep``) is no damage: the folder is listed again and
        the newest then is read.

        Args:
            template: a state of the same model and optimizer (e.g. a fresh one from
                :func:`~fnnet.train.create_train_state`): it gives the tree structure,
                shapes, dtypes, placement and PRNG implementation to restore into.
            step: the checkpoint to read; None for the newest intact one.
            validate: ``validate(state, metadata)`` raises ``ValueError``,
                ``TypeError`` or ``KeyError`` when the metadata is inconsistent with
                itself or with the state, which marks the checkpoint as damaged; a
                ``CheckpointError`` it raises (another run's checkpoint) is passed on
                as it is.

        Returns:
            ``(state, metadata)``.

        Raises:
            CheckpointError: there is no (such) checkpoint, or it does not match the
                template (another model or optimizer).
            DamagedCheckpointError: the checkpoint ``step`` is damaged, or, without
                ``step``, none is intact (``damaged`` maps each folder to what failed).
        """
        _check_state(template, "template")
        if step is not None:
            _check_step(step)
        steps = self.all_steps()
        if step is None:
            if not steps:
                inside = (self.directory / verify.MANIFEST).is_file()  # a step's own folder
                hint = (f": it is the folder of one checkpoint; give the folder holding "
                        f"it, {str(self.directory.parent)!r}") if inside else ""
                raise CheckpointError(f"no checkpoint in {str(self.directory)!r}{hint}")
            candidates = steps[::-1]
        elif step not in steps:
            raise CheckpointError(f"no checkpoint of step {step} in {str(self.directory)!r} "
                                  f"(steps: {steps})")
        else:
            candidates = [step]
        damaged: dict[str, str] = {}
        vanished = 0
        while candidates:
            candidate = candidates.pop(0)
            try:
                return self._restore_verified(template, candidate, validate)
            except (DamagedCheckpointError, FileNotFoundError) as error:
                if step is None and vanished < READ_ATTEMPTS \
                        and not self.folder(candidate).is_dir():
                    # a run writing here removed it (keep=) while it was read: not
                    # damage; list again, its newer checkpoint first
                    vanished += 1
                    self._manager.reload()
                    candidates = [s for s in self.all_steps()[::-1]
                                  if str(self.folder(s)) not in damaged]
                    continue
                if not isinstance(error, DamagedCheckpointError):
                    raise
                if step is not None:
                    raise self._damaged(candidate, error) from None
                damaged[str(self.folder(candidate))] = str(error)
                warnings.warn(CheckpointWarning(
                    f"skipped the damaged checkpoint {str(self.folder(candidate))!r}: "
                    f"{error}"), stacklevel=2)
        listed = "; ".join(f"{pathlib.Path(folder).name}: {what}"
                           for folder, what in damaged.items())
        raise DamagedCheckpointError(
            f"no intact checkpoint in {str(self.directory)!r}: all {len(damaged)} "
            f"checkpoints there are damaged ({listed}). Nothing was restored, and nothing "
            "will be trained from them. To start afresh, move that folder away (or name "
            "another checkpoint folder) and run again without resuming; the damaged "
            "checkpoints are left as they are, for inspection.", damaged)

    def _restore_verified(self, template: TrainState, step: int,
                          validate: Callable[..., Any] | None
                          ) -> tuple[TrainState, dict[str, Any]]:
        """Checkpoint ``step`` restored and checked; DamagedCheckpointError saying what
        failed (without the folder) when it is damaged."""
        manifest_meta = verify.check_folder(self.folder(step), step)
        target = _to_tree(template)
        abstract = jax.tree.map(self._ocp.utils.to_shape_dtype_struct, target)
        args = self._ocp.args.Composite(**{
            _STATE: self._ocp.args.StandardRestore(abstract),
            _META: self._ocp.args.JsonRestore(),
        })
        try:
            stored = self._manager.item_metadata(step)[_STATE]
        except MemoryError:
            raise
        except Exception as error:  # noqa: BLE001 - any failure to read is damage
            raise DamagedCheckpointError(f"orbax cannot read its array metadata "
                                         f"({_first_line(error)})") from None
        _check_matches(_layout(stored), _layout(target), f"checkpoint of step {step} in "
                       f"{str(self.directory)!r}")
        try:
            restored = self._manager.restore(step, args=args)
        except MemoryError:
            raise
        except Exception as error:  # noqa: BLE001 - any failure to read is damage
            raise DamagedCheckpointError(f"orbax cannot read it ({_first_line(error)})") from None
        tree = restored[_STATE]
        # The template's own tree structure (NamedTuples, OrderedDicts) around the leaves.
        tree = jax.tree.unflatten(jax.tree.structure(target), jax.tree.leaves(tree))
        key = tree["key"]
        if _is_typed_key(template.key):
            key = jax.random.wrap_key_data(key, impl=jax.random.key_impl(template.key))
        state = TrainState(params=tree["params"], layer_state=tree["layer_state"],
                           opt_state=tree["opt_state"], step=tree["step"], key=key)
        meta = dict(restored[_META] or {})
        if int(state.step) != step:
            raise DamagedCheckpointError(f"its state is at step {int(state.step)}, its "
                                         f"folder names step {step}")
        if verify.canonical(meta) != verify.canonical(manifest_meta):
            raise DamagedCheckpointError("its metadata differs from the copy in its manifest")
        if validate is not None:
            try:
                validate(state, meta)
            except CheckpointError:
                raise
            except (ValueError, TypeError, KeyError) as error:
                raise DamagedCheckpointError(f"its metadata is inconsistent: {error}") from None
        return state, meta

    def close(self) -> None:
        """Waits for any pending work and releases the manager; a writer then removes
        what a failed save's writes still in flight left behind it."""
        self._manager.close()
        self._remove_temporary(ignore_errors=True)  # never hides the error that ends a run

    def __enter__(self) -> Checkpointer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Checkpointer({str(self.directory)!r}, steps={self.all_steps()})"


def _first_line(error: BaseException) -> str:
    """The first line of an error's message (orbax's run to dozens), at most 300 characters."""
    text = str(error).strip().splitlines()
    line = text[0] if text else type(error).__name__
    return line if len(line) <= 300 else line[:297] + "..."


def _write_error(what: str, error: BaseException, then: str = "", *,
                 name_file: bool = True) -> CheckpointWriteError:
    """A CheckpointWriteError saying ``what``, why and ``then``, with the errno of the
    operating system's error behind ``error`` (an OSError, or one tensorstore quotes)."""
    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, OSError):
        cause = cause.__cause__ or cause.__context__
    number = getattr(cause, "errno", None)
    if isinstance(cause, OSError) and cause.strerror:
        reason = cause.strerror + (f" ({cause.filename})" if cause.filename and name_file
                                   else "")
    elif match := re.search(r"os_error_code='(\d+)'", str(error)):
        # tensorstore (orbax's writer) raises a ValueError quoting the errno
        number = int(match.group(1))
        written = re.search(r'Failed writing: "([^"]+)"', str(error))
        reason = os.strerror(number) + (f" (writing {written.group(1)})" if written else "")
    else:
        reason = _first_line(error)
    result = CheckpointWriteError(f"{what}: {reason}{then}")
    result.errno = number
    return result


def _layout(tree: Any) -> dict[str, tuple[tuple[int, ...], Any]]:
    """``{path: (shape, dtype)}`` of the leaves of ``tree``; a path names dict keys,
    NamedTuple fields and list indices alike (orbax stores each as a dict key)."""

    def name(entry: Any) -> str:
        for attr in ("key", "name", "idx"):
            if hasattr(entry, attr):
                return str(getattr(entry, attr))
        return str(entry)

    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    return {"/".join(name(e) for e in path): (tuple(leaf.shape), np.dtype(leaf.dtype))
            for path, leaf in leaves}


def _check_matches(stored: dict[str, Any], expected: dict[str, Any], what: str) -> None:
    """Raises CheckpointError naming the arrays that are missing, extra or mis-shaped."""
    # The parameters first: a mismatch there names the layer that differs.
    expected = dict(sorted(expected.items(), key=lambda item: not item[0].startswith("params")))
    problems = [f"missing {path}" for path in expected if path not in stored]
    problems += [f"unexpected {path}" for path in stored if path not in expected]
    problems += [
        f"{path} is {stored[path][1]}{list(stored[path][0])}, the template has "
        f"{dtype}{list(shape)}"
        for path, (shape, dtype) in expected.items()
        if path in stored and stored[path] != (shape, dtype)
    ]
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more"
                                            if len(problems) > 5 else "")
        raise CheckpointError(f"{what} does not match the template state (another model or "
                              f"optimizer?): {shown}")


def restore_checkpoint(directory: str | pathlib.Path, template: TrainState,
                       step: int | None = None) -> tuple[TrainState, dict[str, Any]]:
    """``(state, metadata)`` of the latest (or the given) checkpoint in ``directory``.

    See :meth:`Checkpointer.restore`: without ``step``, damaged checkpoints are skipped
    with a :class:`CheckpointWarning` and the newest intact one is returned. Nothing in
    ``directory`` is changed, so this is safe while a run is still writing there.

    PyTorch equivalent: ``torch.load(path)`` then ``model.load_state_dict`` and
    ``optimizer.load_state_dict``.
    """
    _check_state(template, "template")  # before the folder, which may be absent too
    with Checkpointer(directory, keep=None, read_only=True) as checkpointer:
        return checkpointer.restore(template, step)
