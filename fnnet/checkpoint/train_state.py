"""Checkpoints of a :class:`~fnnet.train.TrainState`, written atomically with orbax.

A checkpoint is a folder ``<directory>/<step>`` holding the state's arrays (parameters,
layer state, optimizer state, step count and the raw data of the PRNG key) and a JSON
document of metadata (``fit`` keeps the data position and the history there). orbax
writes each one into ``<step>.orbax-checkpoint-tmp-*`` and renames it to ``<step>`` only
once every file is written, so a process killed mid-save leaves a temporary folder that
is never listed, never restored, and removed by the next :class:`Checkpointer` that
writes there (before its first save): the latest listed checkpoint is always complete.
"""

from __future__ import annotations

import pathlib
from collections.abc import Mapping
from typing import Any

import jax
import numpy as np

from fnnet.train.state import TrainState

_STATE = "state"
_META = "meta"
#: times a read-only Checkpointer lists the folder again when a writer removes a
#: checkpoint under it
READ_ATTEMPTS = 5


class CheckpointError(ValueError):
    """A checkpoint that cannot be restored into the given template (or is missing)."""


def _is_typed_key(key: Any) -> bool:
    return jax.dtypes.issubdtype(getattr(key, "dtype", None), jax.dtypes.prng_key)


def _to_tree(state: TrainState) -> dict[str, Any]:
    """The state as nested containers of arrays; a typed key as its raw ``uint32`` data."""
    key = jax.random.key_data(state.key) if _is_typed_key(state.key) else state.key
    return {"params": state.params, "layer_state": state.layer_state,
            "opt_state": state.opt_state, "step": state.step, "key": key}


def _check_state(state: Any, name: str) -> None:
    if not isinstance(state, TrainState):
        raise TypeError(f"{name} must be a fnnet.train.TrainState, got {type(state).__name__}")


class Checkpointer:
    """Saves and restores training states in ``directory``, keeping the latest ``keep``.

    Each :meth:`save` blocks until its checkpoint is committed (renamed into place), so
    a checkpoint that :meth:`latest_step` reports is complete, and nothing is left in
    flight when the process exits. Under several processes (``jax.process_count() >
    1``) every process must call :meth:`save` and :meth:`restore` together: orbax
    writes the replicated arrays and the metadata from process 0 only, and the others
    wait at its barriers.

    Args:
        directory: the folder of the checkpoints (created when missing).
        keep: number of most recent checkpoints kept (older ones are deleted after a
            new one is committed); ``None`` keeps all.
        read_only: only read: :meth:`save` raises, and nothing in ``directory`` is
            created or removed (safe beside a run that is writing there).

    Raises:
        ValueError: ``keep`` is not a positive int or None.
        TypeError: ``directory`` is not a path.

    Example::

        with Checkpointer("runs/ckpt", keep=3) as ckpt:
            ckpt.save(state, {"epoch": 2})
            state, meta = ckpt.restore(template_state)

    PyTorch equivalent: ``torch.save({"model": ..., "optimizer": ...}, path)`` and
    ``torch.load``, without pickles and never leaving a half-written file as latest.
    """

    def __init__(self, directory: str | pathlib.Path, *, keep: int | None = 3,
                 read_only: bool = False) -> None:
        if not isinstance(directory, (str, pathlib.PurePath)):
            raise TypeError(f"directory must be a path, got {type(directory).__name__}")
        if keep is not None and (isinstance(keep, bool) or not isinstance(keep, int)
                                 or keep < 1):
            raise ValueError(f"keep must be a positive int or None, got {keep!r}")
        import orbax.checkpoint as ocp

        self._ocp = ocp
        self.directory = pathlib.Path(directory).expanduser().resolve()
        if self.directory.exists() and not self.directory.is_dir():
            raise ValueError(f"directory {str(self.directory)!r} exists and is not a folder")
        self.read_only = bool(read_only)
        if self.read_only and not self.directory.is_dir():
            raise CheckpointError(f"no checkpoint folder {str(self.directory)!r}")
        options = ocp.CheckpointManagerOptions(
            max_to_keep=keep,
            create=not self.read_only,
            # A save blocks until committed: correctness (what latest_step reports is on
            # disk) over speed.
            enable_async_checkpointing=False,
            # Temporary folders left by a killed save are removed by a writer, never
            # restored; a reader leaves them, as they may belong to a live run.
            cleanup_tmp_directories=not self.read_only,
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

    def all_steps(self) -> list[int]:
        """The steps of the complete checkpoints, ascending."""
        return sorted(self._manager.all_steps())

    def latest_step(self) -> int | None:
        """The step of the latest complete checkpoint, or None when there is none."""
        return self._manager.latest_step()

    def save(self, state: TrainState, metadata: Mapping[str, Any] | None = None) -> int:
        """Writes ``state`` (and JSON-serialisable ``metadata``) as checkpoint ``state.step``.

        Args:
            state: the training state; its ``step`` names the checkpoint.
            metadata: a JSON-serialisable mapping stored beside the arrays.

        Returns:
            The step saved.

        Raises:
            TypeError: ``state`` is not a TrainState, or ``metadata`` is not a mapping.
            ValueError: a checkpoint of that step exists already, or the checkpointer
                is read-only.
        """
        _check_state(state, "state")
        if self.read_only:
            raise ValueError(f"Checkpointer({str(self.directory)!r}) is read-only")
        if metadata is not None and not isinstance(metadata, Mapping):
            raise TypeError(f"metadata must be a mapping, got {type(metadata).__name__}")
        step = int(state.step)
        if step in self._manager.all_steps():
            raise ValueError(f"a checkpoint of step {step} exists already in "
                             f"{str(self.directory)!r}")
        args = self._ocp.args.Composite(**{
            _STATE: self._ocp.args.StandardSave(_to_tree(state)),
            _META: self._ocp.args.JsonSave(dict(metadata or {})),
        })
        self._manager.save(step, args=args, force=True)
        self._manager.wait_until_finished()
        return step

    def restore(self, template: TrainState,
                step: int | None = None) -> tuple[TrainState, dict[str, Any]]:
        """The state and metadata of checkpoint ``step`` (default: the latest).

        Args:
            template: a state of the same model and optimizer (e.g. a fresh one from
                :func:`~fnnet.train.create_train_state`): it gives the tree structure,
                shapes, dtypes, placement and PRNG implementation to restore into.
            step: the checkpoint to read; None for the latest.

        Returns:
            ``(state, metadata)``.

        Raises:
            CheckpointError: there is no such checkpoint, or it does not match the
                template (another model or optimizer).
        """
        _check_state(template, "template")
        steps = self.all_steps()
        if step is None:
            if not steps:
                raise CheckpointError(f"no checkpoint in {str(self.directory)!r}")
            step = steps[-1]
        elif step not in steps:
            raise CheckpointError(f"no checkpoint of step {step} in {str(self.directory)!r} "
                                  f"(steps: {steps})")
        target = _to_tree(template)
        abstract = jax.tree.map(self._ocp.utils.to_shape_dtype_struct, target)
        args = self._ocp.args.Composite(**{
            _STATE: self._ocp.args.StandardRestore(abstract),
            _META: self._ocp.args.JsonRestore(),
        })
        stored = self._manager.item_metadata(step)[_STATE]
        _check_matches(_layout(stored), _layout(target), f"checkpoint of step {step} in "
                       f"{str(self.directory)!r}")
        restored = self._manager.restore(step, args=args)
        tree = restored[_STATE]
        # The template's own tree structure (NamedTuples, OrderedDicts) around the leaves.
        tree = jax.tree.unflatten(jax.tree.structure(target), jax.tree.leaves(tree))
        key = tree["key"]
        if _is_typed_key(template.key):
            key = jax.random.wrap_key_data(key, impl=jax.random.key_impl(template.key))
        state = TrainState(params=tree["params"], layer_state=tree["layer_state"],
                           opt_state=tree["opt_state"], step=tree["step"], key=key)
        return state, dict(restored[_META] or {})

    def close(self) -> None:
        """Waits for any pending work and releases the manager."""
        self._manager.close()

    def __enter__(self) -> Checkpointer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Checkpointer({str(self.directory)!r}, steps={self.all_steps()})"


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


def _check_matches(stored: dict, expected: dict, what: str) -> None:
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

    See :meth:`Checkpointer.restore`; nothing in ``directory`` is changed, so this is
    safe while a run is still writing there.

    PyTorch equivalent: ``torch.load(path)`` then ``model.load_state_dict`` and
    ``optimizer.load_state_dict``.
    """
    with Checkpointer(directory, keep=None, read_only=True) as checkpointer:
        return checkpointer.restore(template, step)
