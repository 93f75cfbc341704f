"""Pure training and evaluation steps, jitted once.

PyTorch's loop body (``zero_grad``, forward, ``loss.backward()``, ``optimizer.step()``)
becomes one pure function ``train_step(state, batch) -> (state, metrics)``: gradients
come from ``jax.value_and_grad`` (nothing to zero: they are never accumulated), the
update from the optax transformation.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from typing import Any, cast

import jax
import jax.numpy as jnp
import numpy as np
import optax

from fnnet.core.cache import STEPS
from fnnet.core.collectives import mean_gradients, mean_metrics, sync_layer_state
from fnnet.core.state import TrainState, check_not_donated, check_parts, check_state
from fnnet.losses import cross_entropy
from fnnet.nn.functional.dropout import sharded_batch
from fnnet.nn.module import Module
from fnnet.nn.tree_check import check_optimizer_trees
from fnnet.optim.clip import check_max_norm, clip_by_total_norm, total_norm
from fnnet.typing import Array, ArrayLike, Batch

LossFn = Callable[[Array, Array], Array]
Metrics = dict[str, Array]
NONFINITE_MODES = ("ignore", "skip")
#: XLA options per backend. On the CPU, copy insertion's region analysis lets XLA update
#: a donated parameter in place although the backward still reads it, where by default
#: it first copies every such parameter.
BACKEND_XLA_OPTIONS: dict[str, dict[str, Any]] = {
    "cpu": {"xla_cpu_copy_insertion_use_region_analysis": True},
}


class BackendOptions(Mapping[str, Any]):
    """The options of :data:`BACKEND_XLA_OPTIONS` for JAX's default backend, looked up
    when ``jax.jit`` reads them (when the step is built), not at import, and ``extra``
    options for every backend."""

    def __init__(self, extra: Mapping[str, Any] | None = None) -> None:
        self._extra = dict(extra or {})

    def _options(self) -> dict[str, Any]:
        return {**BACKEND_XLA_OPTIONS.get(jax.default_backend(), {}), **self._extra}

    def __getitem__(self, name: str) -> Any:
        return self._options()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._options())

    def __len__(self) -> int:
        return len(self._options())


#: XLA options of the compiled training steps (fnnet.torch's too): the default
#: backend's entry of :data:`BACKEND_XLA_OPTIONS`, nothing on other backends.
XLA_OPTIONS: Any = BackendOptions()


def _default_loss() -> LossFn:
    return cross_entropy


def _array_kind(value: Any) -> str:
    """An array's shape, or the type of anything else, for a message."""
    shape = getattr(value, "shape", None)
    return f"an array of shape {tuple(shape)}" if shape is not None else type(value).__name__


def batch_metrics(loss: Array, outputs: Array, labels: ArrayLike) -> Metrics:
    """Loss, and accuracy when ``outputs`` are class scores for integer ``labels``.

    Args:
        loss: the scalar mean loss of the batch.
        outputs: model outputs, ``[N, C]`` for classification.
        labels: ``[N]`` integer class indices, or regression targets.

    Returns:
        ``{"loss", "count"}`` and ``"accuracy"`` for classification.

    Raises:
        TypeError: ``loss`` is not a scalar, or ``outputs`` or ``labels`` not an array.
        ValueError: ``labels`` has no batch axis.
    """
    # Inside a jitted step these checks run once, when the step is traced.
    if not ((isinstance(loss, int | float) and not isinstance(loss, bool))
            or getattr(loss, "shape", None) == ()):
        raise TypeError(f"batch_metrics: loss must be a scalar (the batch's mean loss), got "
                        f"{_array_kind(loss)}")
    for name, value in (("outputs", outputs), ("labels", labels)):
        if not (hasattr(value, "shape") and hasattr(value, "dtype")):
            raise TypeError(f"batch_metrics: {name} must be an array (numpy or jax), got "
                            f"{type(value).__name__}")
    if not labels.shape:
        raise ValueError("batch_metrics: labels must have a leading batch axis, got a "
                         "scalar")
    metrics = {"loss": loss, "count": jnp.asarray(labels.shape[0], jnp.float32)}
    if jnp.issubdtype(labels.dtype, jnp.integer) and outputs.ndim == labels.ndim + 1:
        correct = jnp.argmax(outputs, axis=-1) == labels
        metrics["accuracy"] = jnp.mean(correct.astype(jnp.float32))
    return metrics


#: A label PyTorch's ``cross_entropy`` skips by default; never counted as out of range.
IGNORE_INDEX = -100


def label_metrics(outputs: Array, labels: ArrayLike, axis_name: str | None = None
                  ) -> Metrics:
    """How many class labels lie outside ``[0, C)``, and one of them, for ``fit`` to name.

    Inside ``jit`` a bad label cannot raise; it would only make the loss NaN. This
    counts them instead (one comparison and one sum over the batch's labels), so that
    the host can report the real cause. Labels equal to -100 (``ignore_index``) are
    allowed.

    Args:
        outputs: ``[N, C]`` class scores.
        labels: ``[N]`` integer class labels; anything else (regression targets,
            probabilities) gives no metrics.
        axis_name: the mapped axis under ``pmap``/``shard_map``: the count is summed
            over it and the largest offending label taken.

    Returns:
        ``{"bad_labels": int32 count, "bad_label": an out-of-range label (meaningful
        when the count is positive)}``, or ``{}``.
    """
    if not (jnp.issubdtype(labels.dtype, jnp.integer) and outputs.ndim == labels.ndim + 1):
        return {}
    flat = labels.reshape(-1)
    bad = ((flat < 0) | (flat >= outputs.shape[-1])) & (flat != IGNORE_INDEX)
    count = jnp.sum(bad, dtype=jnp.int32)
    value = flat[jnp.argmax(bad)] if flat.size else jnp.zeros((), flat.dtype)
    if axis_name is not None:
        value = jax.lax.pmax(jnp.where(count > 0, value, jnp.iinfo(value.dtype).min),
                             axis_name)
        count = jax.lax.psum(count, axis_name)
    return {"bad_labels": count, "bad_label": value}


def _leaf_finite(tree: Any) -> Array:
    """``[L]`` bool: whether each leaf of ``tree`` (in ``jax.tree.leaves`` order) is finite.

    ``sum(x * 0)`` is 0 when every element is finite and NaN otherwise (``inf * 0`` is
    NaN); one float sum per leaf costs XLA's CPU backend a fraction of ``all(isfinite)``,
    whose boolean reduction it runs element by element (~30 us a step of the MLP).
    """
    leaves = [jnp.isfinite(jnp.sum(x * 0)) for x in jax.tree.leaves(tree)]
    return jnp.stack(leaves) if leaves else jnp.zeros((0,), bool)


def unpack_batch(batch: Any, what: str) -> tuple[Any, Any]:
    """``(x, y)`` from a batch, or a TypeError naming what the step was given (checked
    when the step is traced, so it costs nothing per step under jit)."""
    if not isinstance(batch, tuple | list) or len(batch) != 2:
        if isinstance(batch, tuple | list):
            kind = f"a {type(batch).__name__} of {len(batch)} items"
        elif hasattr(batch, "shape"):
            kind = f"one array of shape {tuple(batch.shape)}"
        else:
            kind = type(batch).__name__
        raise TypeError(f"{what}: batch must be a pair (x, y) of arrays, got {kind}")
    for name, value in zip(("x", "y"), batch, strict=True):
        if isinstance(value, tuple | list):
            raise TypeError(f"{what}: batch {name} must be an array (numpy or jax), got a "
                            f"Python {type(value).__name__}; convert it with np.asarray")
    return batch[0], batch[1]


def make_train_step(
    model: Module,
    optimizer: optax.GradientTransformation,
    loss_fn: LossFn | None = None,
    *,
    jit: bool = True,
    donate: bool = True,
    steps_per_call: int = 1,
    on_nonfinite: str = "ignore",
    axis_name: str | None = None,
    clip_grad_norm: float | None = None,
) -> Callable[[TrainState, Batch], tuple[TrainState, Metrics]]:
    """Builds ``train_step(state, (x, y)) -> (state, metrics)``.

    Args:
        model: the fnnet model; run with ``train=True`` and the step's Dropout key.
        optimizer: any optax transformation, e.g. ``fnnet.optim.Adam()``.
        loss_fn: ``loss_fn(outputs, labels) -> scalar``; default
            ``fnnet.losses.cross_entropy``.
        jit: compile the step (the non-jitted step computes the same numbers).
        donate: let XLA reuse the old state's buffers for the new state: the state
            passed in is deleted by the call (a later use of it raises a ValueError
            saying so); keep the one returned. ``donate=False`` keeps both.
        steps_per_call: fuse this many steps into one call with ``lax.scan``; the
            batch then carries a leading axis of that size (``x: [k, N, ...]``) and
            every metric has shape ``[k]``.
        on_nonfinite: ``"ignore"`` applies every update; ``"skip"`` leaves the state
            unchanged (but for ``step``) when the loss or a gradient is not finite.
            Either way ``metrics["finite"]`` says whether the step was finite, and
            ``metrics["grad_finite"]`` (``[L]`` bools, one per parameter in
            ``jax.tree.leaves`` order) which gradients were. For integer class labels,
            ``metrics["bad_labels"]`` counts those outside ``[0, C)`` and
            ``metrics["bad_label"]`` holds one (see :func:`label_metrics`).
            ``metrics["grad_norm"]`` is the gradients' global norm (before clipping).
        axis_name: inside ``pmap``/``shard_map``, the mapped axis the batch is split
            over (data parallelism; see :mod:`fnnet.parallel`): gradients, metrics and
            floating-point layer state are averaged over it (``count`` is summed), and
            Dropout draws the mask of the global batch from the same key on every
            device (:func:`~fnnet.nn.functional.dropout.sharded_batch`), so the step
            computes what the single-device step computes on the whole batch.
        clip_grad_norm: scale the gradients so that their total norm is at most this,
            as ``torch.nn.utils.clip_grad_norm_`` does (see
            :func:`fnnet.optim.clip_grad_norm`), before the optimizer sees them.

    Returns:
        The step function.

    PyTorch equivalent: the body of a training loop, ``optimizer.zero_grad();
    loss = criterion(model(x), y); loss.backward(); optimizer.step()``.
    """
    check_parts(model, optimizer, loss_fn, needs_optimizer=True)
    check_step_options(steps_per_call, on_nonfinite)
    if clip_grad_norm is not None:
        check_max_norm(clip_grad_norm, "clip_grad_norm")
    build = functools.partial(_train_step, model, optimizer, loss_fn or _default_loss(),
                              jit=jit, donate=donate, steps_per_call=steps_per_call,
                              on_nonfinite=on_nonfinite, axis_name=axis_name,
                              clip_grad_norm=clip_grad_norm)
    # The same structure gets the same jitted function, and so its compilations.
    return STEPS.get("train_step", (build.args, build.keywords), build) if jit else build()


def check_step_options(steps_per_call: int, on_nonfinite: str) -> None:
    """Raises TypeError for a ``steps_per_call`` that is not an int, ValueError for one
    below 1 or an unknown ``on_nonfinite``."""
    if isinstance(steps_per_call, bool) or not isinstance(steps_per_call, int | np.integer):
        raise TypeError(f"steps_per_call must be an int, got {steps_per_call!r}")
    if steps_per_call < 1:
        raise ValueError(f"steps_per_call must be >= 1, got {steps_per_call}")
    if on_nonfinite not in NONFINITE_MODES:
        raise ValueError(f"on_nonfinite must be one of {NONFINITE_MODES}, got {on_nonfinite!r}")


def _train_step(model: Module, optimizer: optax.GradientTransformation, loss_fn: LossFn, *,
                jit: bool, donate: bool, steps_per_call: int, on_nonfinite: str,
                axis_name: str | None, clip_grad_norm: float | None
                ) -> Callable[[TrainState, Batch], tuple[TrainState, Metrics]]:
    """:func:`make_train_step`'s step, built from checked arguments."""
    clipper = None if clip_grad_norm is None else clip_by_total_norm(clip_grad_norm)

    def loss_with_aux(params: Any, layer_state: Any, x: Array, y: Array, key: Array
                      ) -> tuple[Array, tuple[Array, Any]]:
        outputs, new_layer_state = model.apply(params, layer_state, x, train=True, key=key)
        return loss_fn(outputs, y), (outputs, new_layer_state)

    grad_fn = jax.value_and_grad(loss_with_aux, has_aux=True)
    tree_cache: dict[Any, Any] = {}

    def one_step(state: TrainState, batch: Batch) -> tuple[TrainState, Metrics]:
        check_state(state, "train_step")
        x, y = unpack_batch(batch, "train_step")
        key = jax.random.fold_in(state.key, state.step)
        with sharded_batch(axis_name):
            (loss, (outputs, layer_state)), grads = grad_fn(
                state.params, state.layer_state, x, y, key
            )
        metrics = batch_metrics(loss, outputs, y)
        if axis_name is not None:
            grads = mean_gradients(grads, loss, axis_name)
            metrics = mean_metrics(metrics, axis_name)
            layer_state = sync_layer_state(layer_state, axis_name, loss)
        metrics.update(label_metrics(outputs, y, axis_name))
        # Clipped after averaging over devices, as PyTorch DDP users clip.
        clipped = grads if clipper is None else clipper.update(grads, optax.EmptyState())[0]
        # Names a state made for other parameters before optax fails on it (at trace
        # time under jit: the cache holds the expected layout).
        check_optimizer_trees(optimizer.init, clipped, state.opt_state, state.params,
                              tree_cache, what="train_step")
        updates, opt_state = optimizer.update(clipped, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        grad_finite = _leaf_finite(grads)
        finite = jnp.isfinite(metrics["loss"]) & jnp.all(grad_finite)
        metrics["finite"] = finite
        metrics["grad_finite"] = grad_finite
        metrics["grad_norm"] = total_norm(grads)  # what clip_grad_norm_ returns in PyTorch
        new = TrainState(params, layer_state, opt_state, state.step + 1, state.key)
        if on_nonfinite == "skip":
            keep = state._replace(step=new.step)
            new = jax.tree.map(lambda a, b: jnp.where(finite, a, b), new, keep)
        return new, metrics

    step: Callable[[TrainState, Batch], tuple[TrainState, Metrics]]
    if steps_per_call == 1:
        step = one_step
    else:

        def step(state: TrainState, batches: Batch) -> tuple[TrainState, Metrics]:
            lead = {x.shape[0] for x in jax.tree.leaves(batches)}
            if lead != {steps_per_call}:
                raise ValueError(
                    f"train_step with steps_per_call={steps_per_call} expects batches "
                    f"stacked on a leading axis of that size, got leading sizes {sorted(lead)}"
                )
            return jax.lax.scan(one_step, state, batches)

    if jit:
        step = JittedStep(jax.jit(step, donate_argnums=(0,) if donate else (),
                                  compiler_options=XLA_OPTIONS), "train_step")
    return step


class JittedStep:
    """A jitted step whose call names a state that an earlier train step donated
    (rather than XLA's "Buffer has been deleted or donated"); its other attributes
    (``lower``, ``trace``) are the jitted function's."""

    def __init__(self, jitted: Callable[..., Any], what: str) -> None:
        self._jitted = jitted
        self._what = what

    def __call__(self, state: TrainState, batch: Batch) -> Any:
        try:
            return self._jitted(state, batch)
        except (ValueError, RuntimeError) as error:
            check_not_donated(state, self._what, error)
            raise

    def __getattr__(self, name: str) -> Any:
        if name in ("_jitted", "_what"):  # not yet set (a copy being built)
            raise AttributeError(name)
        return getattr(self._jitted, name)


def make_eval_step(
    model: Module,
    loss_fn: LossFn | None = None,
    *,
    jit: bool = True,
    axis_name: str | None = None,
) -> Callable[[TrainState, Batch], Metrics]:
    """Builds ``eval_step(state, (x, y)) -> metrics`` in eval mode (no Dropout, running
    BatchNorm statistics), with no gradient taken; class labels out of range are counted
    as in :func:`make_train_step`.

    PyTorch equivalent: ``model.eval()`` and a loop under ``torch.no_grad()``.
    """
    check_parts(model, None, loss_fn)
    build = functools.partial(_eval_step, model, loss_fn or _default_loss(), axis_name)
    return STEPS.get("eval_step", build.args, build) if jit else build(jit=False)


def _eval_step(model: Module, loss_fn: LossFn, axis_name: str | None, jit: bool = True
               ) -> Callable[[TrainState, Batch], Metrics]:
    """:func:`make_eval_step`'s step, built from checked arguments."""

    def step(state: TrainState, batch: Batch) -> Metrics:
        check_state(state, "eval_step")
        x, y = unpack_batch(batch, "eval_step")
        outputs, _ = model.apply(state.params, state.layer_state, x, train=False)
        # Traced jax Arrays under jit, the default; the unjitted step passes y on as given.
        metrics = batch_metrics(loss_fn(outputs, cast(Array, y)), outputs, y)
        if axis_name is not None:
            metrics = mean_metrics(metrics, axis_name)
        metrics.update(label_metrics(outputs, y, axis_name))
        return metrics

    return JittedStep(jax.jit(step), "eval_step") if jit else step


def make_predict(model: Module, *, jit: bool = True) -> Callable[..., Array]:
    """Builds ``predict(params, layer_state, x) -> outputs`` in eval mode; it also takes
    ``predict(state, x)`` with a :class:`TrainState`, as the train and eval steps do.

    PyTorch equivalent: ``model.eval()`` and ``model(x)`` under ``torch.no_grad()``.
    """
    check_parts(model)
    run = _make_predict(model, jit)

    def predict(*args: Any) -> Array:
        if len(args) == 2 and isinstance(args[0], TrainState):
            return run(args[0].params, args[0].layer_state, args[1])
        if len(args) != 3:
            raise TypeError(f"predict takes (params, layer_state, x) or (state, x) with a "
                            f"TrainState, got {len(args)} argument(s)"
                            + (f" (the first a {type(args[0]).__name__})" if args else ""))
        return run(*args)

    return predict


def _make_predict(model: Module, jit: bool) -> Callable[..., Array]:
    """:func:`make_predict`'s function of ``(params, layer_state, x)``, jitted once per
    model."""

    def build(model: Module, jit: bool = True) -> Callable[..., Array]:
        def predict(params: Any, layer_state: Any, x: Any) -> Array:
            return model.apply(params, layer_state, x, train=False)[0]  # type: ignore[no-any-return]

        return jax.jit(predict) if jit else predict

    return STEPS.get("predict", (model,), lambda: build(model)) if jit else build(model, False)
