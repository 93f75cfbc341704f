"""``fit``: epochs of jitted steps over a batch iterator, with evaluation and history."""

from __future__ import annotations

import contextlib
import itertools
import os
import pathlib
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from fnnet.checkpoint.resume import FitCheckpoints, Position
from fnnet.core.state import TrainState, check_parts, check_state, create_train_state
from fnnet.core.step import LossFn, make_eval_step, make_train_step
from fnnet.data import batches
from fnnet.data.sampler import check_batch_size
from fnnet.losses import check_labels
from fnnet.nn.module import Module
from fnnet.nn.state_dict import state_dict
from fnnet.nn.tree_check import check_optimizer_trees
from fnnet.optim.clip import check_max_norm
from fnnet.parallel.fit import check_devices, data_parallel_steps
from fnnet.train.callbacks import Callback, RunInfo, check_callbacks, check_path, run_writers
from fnnet.train.profile import PhaseTimer, StepProfiler
from fnnet.train.progress import ProgressBar, check_progress
from fnnet.train.reporting import Reporter, check_log_lr
from fnnet.typing import Batch

ON_NONFINITE = ("raise", "skip", "ignore")
#: the step's metrics that are checks, not summed into the epoch's means
_CHECKS = ("count", "finite", "grad_finite", "bad_labels", "bad_label")
DataArg = tuple[Any, Any] | Callable[[int], Iterable[Batch]]


class NonFiniteLossError(FloatingPointError):
    """Training produced a non-finite loss or gradient.

    Attributes:
        step: the step's number, counted from 1 as everywhere in fnnet (the callbacks,
            TensorBoard, history.json and the messages): the ``state.step`` its update
            would have made. Steps up to ``step - 1`` were taken and reported.
        parameter: the first parameter (in PyTorch's ``state_dict`` order) whose
            gradient was not finite (None when only the loss was).
    """

    def __init__(self, message: str, step: int, parameter: str | None = None) -> None:
        super().__init__(message)
        self.step = step
        self.parameter = parameter


def _check_pair(name: str, data: Any) -> tuple[Any, Any]:
    if not (isinstance(data, tuple | list) and len(data) == 2):
        raise TypeError(
            f"{name} must be an (inputs, labels) pair of arrays or a callable "
            f"epoch -> iterable of batches, got {type(data).__name__}"
        )
    x, y = data
    shape_x, shape_y = np.shape(x), np.shape(y)
    if not shape_x or not shape_y:
        raise ValueError(f"{name}: inputs and labels must be arrays with a leading batch "
                         f"axis, got shapes {shape_x} and {shape_y}")
    if len(x) != len(y):
        raise ValueError(f"{name}: inputs and labels differ in length ({len(x)} != {len(y)})")
    if len(x) == 0:
        raise ValueError(f"{name} is empty")
    # data.load's default uint8 pixels would train on 0..255 unscaled (PyTorch's layers
    # refuse uint8 inputs too, Embedding's indices included).
    if np.dtype(getattr(x, "dtype", np.asarray(x[:1]).dtype)) == np.uint8:
        raise TypeError(f"{name}: inputs must not be uint8 (pixels 0..255 would train "
                        "unscaled); pass floats in [0, 1], e.g. from "
                        "data.load(..., dtype=np.float32)")
    _check_finite(f"{name} inputs", x)
    return x, y


def _check_finite(name: str, x: Any) -> None:
    """Refuses NaN or infinite floating-point inputs before any step runs (one pass)."""
    xp = jnp if isinstance(x, jax.Array) else np
    x = xp.asarray(x)
    if not xp.issubdtype(x.dtype, xp.floating):
        return
    bad = ~xp.isfinite(x.reshape(len(x), -1)).all(axis=1)
    if bool(bad.any()):
        index = int(xp.argmax(bad))
        value = x[index].reshape(-1)[int(xp.argmax(~xp.isfinite(x[index].reshape(-1))))]
        raise ValueError(f"{name} hold a non-finite value ({float(value)}) in example {index}")


def _epoch_batches(data: DataArg, batch_size: int, *, shuffle: bool, seed: int, epoch: int,
                   drop_last: bool, start: int = 0) -> Iterable[Batch]:
    """The batches of ``epoch`` from batch ``start`` on (a callable's first ones are read
    and dropped). Every process reads the same whole batches: with several processes
    the run is the one process's run, each step computed alike by every process (or,
    with ``devices``, split over them by :mod:`fnnet.parallel.fit`)."""
    if callable(data):
        return itertools.islice(data(epoch), start, None)
    x, y = data
    return batches(x, y, batch_size, shuffle=shuffle, seed=seed, epoch=epoch,
                   drop_last=drop_last, start=start, process_index=0, process_count=1)


def _num_classes(model: Module, params: Any, layer_state: Any, x: Any) -> int | None:
    """The size of the model's last output axis, found without computing anything (on
    the whole data's shape, which a layer's error then names as the user holds it)."""
    sample = jax.ShapeDtypeStruct(np.shape(x), jnp.asarray(x[:1]).dtype)
    out = jax.eval_shape(lambda p, s, v: model.apply(p, s, v)[0], params, layer_state,
                         sample)
    return out.shape[-1] if out.ndim == 2 else None


def _check_labels(name: str, y: Any, num_classes: int | None) -> None:
    """Refuses class labels outside ``[0, num_classes)`` before any step runs."""
    if num_classes is not None and np.issubdtype(np.asarray(y).dtype, np.integer):
        check_labels(y, num_classes, name=f"{name} labels")


def _stack(batches: list[Batch]) -> Batch:
    return (np.stack([np.asarray(b[0]) for b in batches]),
            np.stack([np.asarray(b[1]) for b in batches]))


def _grouped(it: Iterable[Batch], k: int) -> Iterator[tuple[Batch, int]]:
    """Yields ``(batch, steps)``: single batches, or ``k`` stacked for one fused call.
    Batches of different shapes (a callable's short last batch) are not stacked: the
    group before such a batch runs step by step."""
    group: list[Batch] = []
    for batch in it:
        if k == 1:
            yield batch, 1
            continue
        if group and [np.shape(a) for a in batch] != [np.shape(a) for a in group[0]]:
            yield from ((b, 1) for b in group)
            group = []
        group.append(batch)
        if len(group) == k:
            yield _stack(group), k
            group = []
    for batch in group:  # a short tail runs step by step rather than compiling a new scan
        yield batch, 1


def evaluate(model: Module, state: TrainState, data: DataArg, *, batch_size: int = 1000,
             loss_fn: LossFn | None = None,
             eval_step: Callable[..., Any] | None = None) -> dict[str, float]:
    """Mean loss (and accuracy) of the model in eval mode over ``data``.

    Args:
        model: the model.
        state: the training state (its params and layer state are used).
        data: ``(inputs, labels)`` or a callable ``epoch -> batches``.
        batch_size: evaluation batch size; the last batch may be short.
        loss_fn: the loss; default cross-entropy.
        eval_step: a step from :func:`make_eval_step`, to reuse its compilation.

    Returns:
        ``{"loss": ..., "accuracy": ...}`` weighted by batch size.
    """
    check_parts(model, None, loss_fn)
    check_state(state)
    if eval_step is not None and not callable(eval_step):
        raise TypeError(f"eval_step must be a step from make_eval_step (state, batch) -> "
                        f"metrics, or None, got {type(eval_step).__name__}")
    if not callable(data):
        x, y = _check_pair("eval_data", data)
        _check_labels("eval_data", y, _num_classes(model, state.params, state.layer_state, x))
    eval_step = eval_step or make_eval_step(model, loss_fn)
    totals: dict[str, float] = {}
    count = 0.0
    batches = _epoch_batches(data, batch_size, shuffle=False, seed=0, epoch=0, drop_last=False)
    results = [eval_step(state, batch) for batch in batches]
    for index, metrics in enumerate(jax.device_get(results)):
        if int(np.sum(metrics.get("bad_labels", 0))):
            raise ValueError(f"eval_data: batch {index} holds {int(metrics['bad_labels'])} "
                             "class label(s) outside [0, number of classes), e.g. "
                             f"{int(metrics['bad_label'])}, which give no meaningful loss")
        n = float(metrics["count"])
        count += n
        for name, value in metrics.items():
            if name not in ("count", "bad_labels", "bad_label"):
                totals[name] = totals.get(name, 0.0) + float(value) * n
    return {name: total / count for name, total in totals.items()}


def fit(
    model: Module,
    optimizer: optax.GradientTransformation,
    train_data: DataArg,
    *,
    eval_data: DataArg | None = None,
    loss_fn: LossFn | None = None,
    epochs: int = 1,
    batch_size: int = 64,
    seed: int = 0,
    state: TrainState | None = None,
    steps_per_call: int = 1,
    on_nonfinite: str = "raise",
    log_every: int = 50,
    progress: bool | str = True,
    eval_batch_size: int = 1000,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    every_n_steps: int | None = None,
    keep: int | None = 3,
    resume: bool = False,
    clip_grad_norm: float | None = None,
    devices: int | None = None,
    callbacks: list[Callback] | None = None,
    logdir: str | os.PathLike[str] | None = None,
    profile: int | None = None,
    log_lr: float | Callable[[Any], Any] | None = None,
) -> tuple[TrainState, dict[str, list[float]]]:
    """Trains ``model`` for ``epochs`` and evaluates after each.

    Args:
        model: an fnnet model.
        optimizer: any optax transformation (``fnnet.optim.SGD(...)``, ``optax.adam``...).
        train_data: ``(inputs, labels)`` arrays (shuffled each epoch with ``seed``, last
            short batch dropped) or a callable ``epoch -> iterable of (x, y) batches``.
        eval_data: data evaluated after each epoch, like ``train_data``.
        loss_fn: ``loss_fn(outputs, labels) -> scalar``; default cross-entropy.
        epochs: number of passes over ``train_data``.
        batch_size: examples per step.
        seed: seeds initialisation, shuffling and Dropout; the run is a function of it.
        state: a state to continue from instead of a fresh one (left as it is: fit
            trains on a copy).
        steps_per_call: steps fused into one compiled call with ``lax.scan``.
        on_nonfinite: ``"raise"`` stops with :class:`NonFiniteLossError` naming the first
            step whose loss or gradients were not finite and the first parameter whose
            gradient was not (its update is not applied);
            ``"skip"`` drops such updates and goes on; ``"ignore"`` applies them.
        log_every: most steps between two fetches of the step metrics from the device
            (for the non-finite checks and the callbacks); the progress bar also
            fetches them when it is due for a redraw (10 times a second).
        progress: True: a progress bar over the run's steps (on stderr, where it is a
            terminal or a notebook) with the epoch's running loss and accuracy, a line
            per epoch, and at the end a line of the time spent in each phase (see
            :class:`fnnet.train.profile.PhaseTimer`); ``"epochs"``: the lines only;
            False: nothing printed.
        eval_batch_size: batch size of evaluation.
        checkpoint_dir: a folder to save checkpoints in (see :mod:`fnnet.checkpoint`):
            the state, the position in the data and the history so far, each written
            atomically, so a killed run never leaves a broken latest checkpoint.
        every_n_steps: save after each multiple of this many steps; None saves at the
            end of each epoch. The run's last step is always saved. A save at an
            epoch's last step is made once the epoch is evaluated and reported, and
            holds the finished epoch.
        keep: number of most recent checkpoints kept (None: all).
        resume: continue from the latest checkpoint in ``checkpoint_dir`` (or start
            afresh when there is none yet), skipping the batches already trained on:
            the parameters and the history at the end are those of a run never
            interrupted (bit for bit on the same machine), but for the wall-clock
            entries, which count only the time spent in the processes that trained.
            So are the logs: each epoch is printed and reported once, and the writers
            of ``logdir`` drop what an interrupted run logged past the checkpoint.
            Resuming a finished run trains nothing and returns its state and history.
            The checkpoint's state replaces ``state``.
        clip_grad_norm: clip the gradients to this total norm before each update,
            exactly as ``torch.nn.utils.clip_grad_norm_`` (see
            :func:`fnnet.optim.clip_grad_norm`).
        devices: train data-parallel on the first ``devices`` devices (see
            :mod:`fnnet.parallel`): each batch is split over them, and the run computes
            what it computes on one device (to float rounding), but for BatchNorm
            layers made without ``axis_name="data"``, which normalise each device's
            shard (PyTorch's DDP without SyncBatchNorm). ``batch_size`` must be
            divisible by it. The returned state is replicated on those devices. With
            several processes (:func:`fnnet.parallel.initialize`) every process calls
            fit alike with the whole data: without ``devices`` each computes the
            one-process run; ``devices`` must then be ``jax.device_count()``, every
            device of every process, each process placing its rows of each batch.
        callbacks: :class:`fnnet.train.Callback` objects told of every step's metrics
            and of every epoch (see :mod:`fnnet.train.callbacks`).
        logdir: a folder to write TensorBoard event files (every step's loss and
            accuracy, the learning rate, step time and throughput, each epoch's
            history and parameter histograms) and ``history.json`` in (adds
            :func:`~fnnet.train.callbacks.run_writers`' two callbacks; with several
            processes, on process 0 only).
        profile: trace this many steady-state steps with ``jax.profiler`` into
            ``logdir`` (see :class:`fnnet.train.profile.StepProfiler`; with several
            processes, process 0's); needs ``logdir``.
        log_lr: the learning rate reported to the callbacks as ``lr``: the float or
            the schedule given to the optimizer (an optax transformation does not let
            fit read it back). None reports the ``lr`` of an ``optax.inject_hyperparams``
            state when there is one.

    Returns:
        ``(state, history)``; ``history`` maps ``loss``, ``accuracy``, ``grad_norm``
        (training, epoch means), ``eval_loss``, ``eval_accuracy``, ``seconds`` and
        ``examples_per_second`` to lists with one value per epoch (a resumed run's
        history covers every epoch, those before the interruption included).

    Raises:
        ValueError: bad arguments, mismatched lengths or labels out of range; a
            ``checkpoint_dir`` holding checkpoints without ``resume``; ``resume``
            without ``checkpoint_dir``.
        CheckpointError: (a ValueError) the newest intact checkpoint belongs to another
            model, optimizer, seed or batch size; ``DamagedCheckpointError`` (one) when
            no checkpoint in the folder is intact (damaged ones are skipped with a
            warning, see :mod:`fnnet.checkpoint`).
        CheckpointWriteError: (an OSError) the checkpoint folder cannot be written, or
            a save failed (disk full); earlier checkpoints are left as they were.
        NonFiniteLossError: with ``on_nonfinite="raise"``.
    """
    if on_nonfinite not in ON_NONFINITE:
        raise ValueError(f"on_nonfinite must be one of {ON_NONFINITE}, got {on_nonfinite!r}")
    for name, value in (("epochs", epochs), ("log_every", log_every),
                        ("steps_per_call", steps_per_call)):
        # numpy integers pass, as they do for seed and batch_size
        if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    epochs, log_every, steps_per_call = int(epochs), int(log_every), int(steps_per_call)
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    seed = int(seed)  # a numpy integer is not JSON: the checkpoints' metadata records it
    if isinstance(batch_size, np.integer):
        batch_size = int(batch_size)
    # checked here, not first by evaluate after an epoch of training (as "batch_size")
    if isinstance(eval_batch_size, bool) or not isinstance(eval_batch_size, int | np.integer):
        raise TypeError(f"eval_batch_size must be an int, got "
                        f"{type(eval_batch_size).__name__}")
    if eval_batch_size < 1:
        raise ValueError(f"eval_batch_size must be positive, got {eval_batch_size}")
    progress = check_progress(progress)
    callbacks = check_callbacks(callbacks)
    check_log_lr(log_lr)
    if logdir is not None:
        check_path(logdir, "logdir")
    if profile is not None:
        if not isinstance(profile, int) or isinstance(profile, bool) or profile < 1:
            raise ValueError(f"profile must be a positive int (steps to trace), got "
                             f"{profile!r}")
        if logdir is None:
            raise ValueError("profile needs a logdir to write the trace in")
    check_parts(model, optimizer, loss_fn, needs_optimizer=True)
    if state is not None:
        check_state(state)
        # A state made with another optimizer or model fails here, naming the entry.
        check_optimizer_trees(optimizer.init, state.params, state.opt_state, state.params,
                              {}, what="fit")
    if not isinstance(resume, bool):
        raise TypeError(f"resume must be a bool, got {resume!r}")
    if resume and checkpoint_dir is None:
        raise ValueError("resume=True needs a checkpoint_dir to resume from")
    if every_n_steps is not None and checkpoint_dir is None:
        raise ValueError("every_n_steps needs a checkpoint_dir to save in")
    if clip_grad_norm is not None:
        check_max_norm(clip_grad_norm, "clip_grad_norm")
    if devices is not None:
        check_devices(devices, batch_size)
    # Every check on the data before anything is compiled; the shapes of the model's
    # trees come from an abstract init.
    param_shapes, layer_shapes = (jax.eval_shape(model.init, jax.random.key(0)) if state is None
                                  else (state.params, state.layer_state))
    for name, pair in (("train_data", train_data), ("eval_data", eval_data)):
        if pair is not None and not callable(pair):
            x, y = _check_pair(name, pair)
            if name == "train_data":
                check_batch_size(batch_size, len(x), drop_last=True)
            _check_labels(name, y, _num_classes(model, param_shapes, layer_shapes, x))
    checkpoints = None
    position = None
    if checkpoint_dir is not None:
        checkpoints = FitCheckpoints(
            checkpoint_dir, every_n_steps=every_n_steps, keep=keep, seed=seed,
            batch_size=batch_size,
            steps_per_epoch=None if callable(train_data) else len(train_data[0]) // batch_size)
        if not resume:
            checkpoints.require_empty()
    if state is None:
        state = create_train_state(model, optimizer, jax.random.key(seed))
    else:
        # The steps donate their input buffers: train on a copy, so that the caller's
        # state stays usable (as a PyTorch model passed to a loop would).
        state = jax.tree.map(jnp.copy, state)
    if checkpoints is not None:  # without resume the folder is empty: nothing restored
        restored = checkpoints.restore(state)
        if restored is not None:
            state, position = restored
            # A checkpoint at an epoch's end holds the next epoch at batch 0; one of a
            # finished run (position.epoch == epochs) leaves nothing to train.
            if position.epoch > epochs or (position.epoch == epochs and position.batch):
                where = (f"in epoch {position.epoch + 1}" if position.batch
                         else f"at the end of epoch {position.epoch}")
                raise ValueError(f"the checkpoint in {str(checkpoint_dir)!r} is {where}, "
                                 f"beyond epochs={epochs}")

    guard = "ignore" if on_nonfinite == "ignore" else "skip"
    build, eval_step = make_train_step, None
    if devices is not None:
        state, build, eval_step = data_parallel_steps(model, loss_fn, state, devices)
    train_step = build(model, optimizer, loss_fn, on_nonfinite=guard,
                       clip_grad_norm=clip_grad_norm)
    fused_step = (build(model, optimizer, loss_fn, steps_per_call=steps_per_call,
                        on_nonfinite=guard, clip_grad_norm=clip_grad_norm)
                  if steps_per_call > 1 else train_step)
    params = state.params  # their tree structure names the gradients in errors
    eval_step = eval_step or make_eval_step(model, loss_fn)
    if position is None:
        position = Position(0, 0, {}, {}, 0, 0, 0.0)
    history = position.history
    host_step = int(state.step)
    steps_per_epoch = None if callable(train_data) else len(train_data[0]) // batch_size
    total_steps = (None if steps_per_epoch is None else
                   host_step + (epochs - position.epoch) * steps_per_epoch - position.batch)
    timer = PhaseTimer()
    bar = ProgressBar(progress, epochs=epochs, total=total_steps, initial=host_step)
    # process 0 writes the run's logs and trace, as it writes its checkpoints: the
    # metrics are every process's alike, one run's folder would hold a copy of each, and
    # processes of one host would write their traces to one file name (None: not here)
    logs_here = logdir if jax.process_index() == 0 else None
    if logs_here is not None:
        callbacks += run_writers(logs_here)
    reporter = Reporter(callbacks, bar, timer, log_lr)
    profiler = (StepProfiler(logs_here, profile, host_step, total_steps)
                if profile is not None and logs_here is not None else None)
    reporter.begin(RunInfo(model, optimizer, epochs, position.epoch, host_step,
                           steps_per_epoch, batch_size,
                           None if logdir is None else pathlib.Path(logdir)), state)
    fetched: list[tuple[int, dict[str, float]]] | None = [] if reporter.wants_steps else None
    compiled: set[int] = set()  # the steps_per_call values whose step has compiled
    failed = True
    try:
        for epoch in range(position.epoch, epochs):
            start = time.perf_counter()
            pending: list[tuple[int, Any, int]] = []  # (first step, metrics, steps)
            # A resumed epoch carries on from its checkpoint; any other starts from zero.
            resumed = epoch == position.epoch
            sums = position.sums if resumed else {}
            seen = position.seen if resumed else 0
            examples = position.examples if resumed else 0
            before = position.seconds if resumed else 0.0
            done = position.batch if resumed else 0
            reporter.start_epoch(epoch)
            batches = _epoch_batches(train_data, batch_size, shuffle=True, seed=seed,
                                     epoch=epoch, drop_last=True, start=done)
            groups = _grouped(batches, steps_per_call)
            upcoming: tuple[Any, int] | None = None  # a call read ahead of its turn
            saved_end = False  # whether the epoch's last call was due a save
            while True:
                mark = time.perf_counter()
                batch, steps = next(groups, (None, 0)) if upcoming is None else upcoming
                upcoming = None
                timer.add("data", mark)
                if batch is None:
                    break
                context = (profiler.before(host_step, state) if profiler is not None
                           else contextlib.nullcontext())
                mark = time.perf_counter()
                with context:
                    if steps == 1:
                        state, metrics = train_step(state, batch)
                    else:
                        state, metrics = fused_step(state, batch)
                if steps in compiled:
                    timer.add("step", mark)
                else:  # the first call of this step traced and compiled it
                    compiled.add(steps)
                    timer.add("compile", mark)
                    reporter.compiled()
                if profiler is not None:
                    profiler.after(steps, state)
                pending.append((host_step, metrics, steps))
                host_step += steps
                # labels are [N] for one step, [k, N] for k fused steps
                examples += int(np.prod(np.shape(batch[1])[: 2 if steps > 1 else 1]))
                done += steps
                if sum(p[2] for p in pending) >= log_every or bar.due():
                    mark = time.perf_counter()
                    seen += _drain(pending, sums, on_nonfinite, model, params, fetched)
                    timer.add("host sync", mark)
                    reporter.steps(epoch, fetched or [], host_step, sums, seen, examples, state)
                if checkpoints is not None and checkpoints.due(host_step - steps, host_step):
                    # A save due at the epoch's last call waits for the epoch's end, to
                    # hold the finished epoch: the next call is read to know.
                    mark = time.perf_counter()
                    upcoming = next(groups, (None, 0))
                    timer.add("data", mark)
                    if upcoming[0] is None:
                        saved_end = True
                        continue
                    mark = time.perf_counter()
                    # never save a bad step, nor one the callbacks have not been told of
                    seen += _drain(pending, sums, on_nonfinite, model, params, fetched)
                    timer.add("host sync", mark)
                    reporter.steps(epoch, fetched or [], host_step, sums, seen, examples, state)
                    reporter.checkpoint(host_step)
                    mark = time.perf_counter()
                    checkpoints.save(state, Position(epoch, done, history, sums, seen,
                                                      examples,
                                                      before + time.perf_counter() - start))
                    timer.add("checkpoint", mark)
            mark = time.perf_counter()
            seen += _drain(pending, sums, on_nonfinite, model, params, fetched)
            timer.add("host sync", mark)
            reporter.steps(epoch, fetched or [], host_step, sums, seen, examples, state)
            elapsed = before + time.perf_counter() - start
            record = {name: total / seen for name, total in sums.items() if name != "finite"}
            record["seconds"] = elapsed
            record["examples_per_second"] = examples / elapsed
            if eval_data is not None:
                mark = time.perf_counter()
                results = evaluate(model, state, eval_data, batch_size=eval_batch_size,
                                   eval_step=eval_step)
                timer.add("evaluation", mark)
                record.update({f"eval_{name}": value for name, value in results.items()})
            for name, number in record.items():
                history.setdefault(name, []).append(float(number))
            reporter.end_epoch(epoch, host_step, record, state)
            if checkpoints is not None and (every_n_steps is None or saved_end
                                            or epoch == epochs - 1):
                # Saved once the epoch is reported: a run resumed from here starts the
                # next epoch and reports nothing twice.
                reporter.checkpoint(host_step)
                mark = time.perf_counter()
                checkpoints.save(state, Position(epoch + 1, 0, history, {}, 0, 0, 0.0))
                timer.add("checkpoint", mark)
        failed = False
    except NonFiniteLossError:
        if fetched:  # the steps taken before the bad one, fetched with it
            reporter.steps(epoch, fetched, host_step, sums, seen, examples, state)
        raise
    finally:
        try:
            if profiler is not None:
                profiler.stop(state)
            reporter.end(history, failed=failed)
        finally:
            if checkpoints is not None:  # closed however the run ends
                checkpoints.close()
    return state, history


def _drain(pending: list[tuple[int, Any, int]], sums: dict[str, float], on_nonfinite: str,
           model: Module, params: Any,
           fetched_steps: list[tuple[int, dict[str, float]]] | None = None) -> int:
    """Fetches pending metrics (one transfer), checks finiteness, adds them up; with
    ``fetched_steps``, appends ``(step, {name: float})`` for each step (counted from 1)."""
    fetched = jax.device_get([m for _, m, _ in pending])
    steps = 0
    for (first, _, k), metrics in zip(pending, fetched, strict=True):
        _raise_for_bad_labels(first, metrics)
        finite = np.atleast_1d(metrics["finite"])
        if on_nonfinite == "raise" and not finite.all():
            index = int(np.argmin(finite))
            bad = first + index + 1  # counted from 1
            if fetched_steps is not None:  # the steps before it in this call were taken
                fetched_steps.extend(
                    (first + i + 1, {name: float(np.atleast_1d(value)[i])
                                     for name, value in metrics.items()
                                     if name not in _CHECKS})
                    for i in range(index))
            grad_finite = np.asarray(metrics["grad_finite"]).reshape(len(finite), -1)[index]
            parameter, where = _bad_gradients(model, params, grad_finite)
            raise NonFiniteLossError(
                f"non-finite loss or gradient at step {bad} (loss "
                f"{float(np.atleast_1d(metrics['loss'])[index])}; {where}); the update "
                "was not applied. Pass on_nonfinite='skip' to drop such steps.", bad,
                parameter)
        per_step: list[dict[str, float]] = [{} for _ in range(k)]
        for name, value in metrics.items():
            if name not in _CHECKS:
                sums[name] = sums.get(name, 0.0) + float(np.sum(value))
                if fetched_steps is None:
                    continue
                if k == 1 and np.ndim(value) == 0:
                    per_step[0][name] = float(value)
                elif k > 1 and np.ndim(value) == 1:
                    for i, v in enumerate(value.tolist()):
                        per_step[i][name] = v
        if fetched_steps is not None:
            fetched_steps.extend((first + i + 1, m) for i, m in enumerate(per_step))
        steps += k
    pending.clear()
    return steps


def _raise_for_bad_labels(first: int, metrics: dict[str, Any]) -> None:
    """Raises for a batch whose class labels the step found out of range (which would
    otherwise surface as a non-finite loss); ``first + 1`` is the batch's step."""
    counts = np.atleast_1d(metrics.get("bad_labels", 0))
    if counts.any():
        index = int(np.argmax(counts > 0))
        label = int(np.atleast_1d(metrics["bad_label"])[index])
        raise ValueError(
            f"train_data: the batch of step {first + index + 1} holds {int(counts[index])} "
            f"class label(s) outside [0, number of classes), e.g. {label}, which give no "
            "meaningful loss. Check the labels the data yields.")


def _bad_gradients(model: Module, params: Any, grad_finite: np.ndarray) -> tuple[str | None, str]:
    """The first parameter (in PyTorch's ``state_dict`` order) whose gradient is not
    finite, and a phrase saying so; ``grad_finite`` is in ``jax.tree.leaves`` order."""
    paths = [path for path, _ in jax.tree_util.tree_flatten_with_path(params)[0]]
    names = [".".join(str(getattr(e, "key", getattr(e, "idx", e))) for e in path)
             for path in paths]
    bad = [name for name, ok in zip(names, grad_finite, strict=True) if not ok]
    if not bad:
        return None, "every gradient finite"
    try:
        order = {name: i for i, name in enumerate(state_dict(params, module=model))}
    except (TypeError, ValueError):  # a tree state_dict cannot read: keep the tree order
        order = {}
    first = min(bad, key=lambda name: order.get(name, len(order) + names.index(name)))
    return first, (f"first non-finite gradient: {first}, {len(bad)} of {len(names)} "
                   "parameters' gradients non-finite")

