"""The compile cache: one compiled function per recorded structure, with statistics.

A structure is keyed by ``(trie state, wanted slots, donated inputs)``, never by values.
Each compile is logged with what changed from the nearest structure compiled before
(:func:`compile_stats`). If the structure keeps changing (many compiles, few hits), the
recorder falls back to running op by op after one warning (see ``_eager``), until its
structures repeat.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import jax

from fnnet.torch import _eager, _sharding
from fnnet.torch._caller import caller_level
from fnnet.torch._recorder import Recorder, current
from fnnet.torch._replay import Run, build
from fnnet.torch._split import Split, build_split
from fnnet.torch._tape import Tape
from fnnet.torch._xla_options import XLA_OPTIONS

#: a structure of more nodes than this is compiled the second time it is flushed; the
#: first time it runs as windows compiled where they repeat (see ``_eager``)
LONG_TAPE = 4096
#: ... and one of more nodes than this always runs as windows
WHOLE_LIMIT = 16_384

#: a structure of more nodes than this whose nodes are few programs met many times
#: (``REPEATS`` times on average, at the same shapes) runs as windows the first time
#: too: each node's program is compiled once and serves all its copies
REPEATS_MIN, REPEATS = 256, 8

#: the structures run op by op that a recorder remembers (to see them repeat)
SEEN_LIMIT = 4096
#: the fallback's warning is given once per recorder (its tag in ``Recorder.warned``)
EAGER_WARNING = "structure changed"
#: a training step compiled again this many times for new shapes of its inputs (batches of
#: varying length) warns once, long before the fallback (tag in ``Recorder.warned``)
SHAPES_WARNING_AT = 4
SHAPES_WARNING = "new input shapes"

#: one entry of a structure summary: ``(op, static, inputs, rg, output avals)`` of a
#: node, ``(None, aval)`` of a source
Summary = list[tuple[Any, ...]]


def compile_stats() -> dict[str, Any]:
    """How the compile cache has done so far.

    Returns:
        A dict with ``hits`` (flushes served by a cached compiled function),
        ``compiles`` (functions traced and compiled), ``entries`` (in the cache, at most
        the recorder's ``cache_size``), ``eager`` (whether flushes now run op by op),
        ``eager_runs`` and ``log``: one dict per compile with ``reason`` (``"step"``,
        ``"value"`` or ``"partial"``), ``nodes``, ``devices`` (more than 1: run
        data-parallel, see ``nn.DataParallel``), ``programs`` (2: a step split for a
        loop that reads its loss every step, see ``_split.Split``) and ``changes``, the
        differences from the nearest previously compiled structure, e.g. ``"input 0
        shape (64, 784) -> (16, 784)"``, or ``"one program: the loss is not read every
        step"`` when the same structure is compiled again unsplit. Op by op,
        ``windows`` counts the runs of nodes compiled together (see ``_eager``):
        ``compiles``, ``runs`` (as one program) and ``node_runs`` (nodes run alone).
    """
    rec = current()
    stats = rec.stats
    return {"hits": stats.hits, "compiles": stats.compiles, "eager_runs": stats.eager_runs,
            "eager": stats.eager, "log": list(stats.log), "entries": len(rec.cache),
            "windows": _eager.windows().stats()}


def reset_compile_stats() -> None:
    """Zeroes the counters and empties the cache (compiled functions are dropped)."""
    current().reset_compile_stats()


def _summary(tp: Tape) -> Summary:
    return [(node.op, node.static, node.inputs, node.rg,
             tuple(tp.avals[node.first:node.first + node.n_out]))
            if node.op is not None else (None, tp.avals[node.first]) for node in tp.nodes]


def _name(op: Any) -> str:
    return getattr(op, "__name__", type(op).__name__)


def _shape_advice(log: list[dict[str, Any]]) -> str:
    """Advice for a loop whose recompiles came mostly from inputs changing shape (batches
    of varying length): XLA compiles a program for each shape."""
    shaped = [entry["changes"][0] for entry in log if _shape_change(entry)]
    if 2 * len(shaped) <= len(log):
        return ""
    return (f". Most of the changes were shapes of the inputs ({shaped[-1]}): XLA "
            f"compiles a program for each shape, so pad or bucket the batches to a few "
            f"fixed shapes (sequences padded to a multiple of 16, say) to keep the loop "
            f"compiled")


def _shape_change(entry: dict[str, Any]) -> bool:
    """Whether a compile log entry's first difference is the shape of an input, in a
    step of as many recorded nodes as the one it is compared with (where nodes came or
    went, a model that changed between rounds, inputs are compared out of place)."""
    first = entry["changes"][0]
    return first.startswith("input ") and " shape " in first and not any(
        change.endswith(" recorded nodes") for change in entry["changes"])


def _warn_new_shapes(rec: Recorder) -> None:
    """Warns once where training steps have been compiled again ``SHAPES_WARNING_AT``
    times for new shapes of their inputs: each such compile takes seconds for a
    recurrent model, and a loop over batches of many lengths would spend its time
    compiling before the op-by-op fallback (which compiles per shape too) starts."""
    if SHAPES_WARNING in rec.warned:
        return
    steps = [entry for entry in rec.stats.log
             if entry["reason"] == "step" and entry["changes"] != ["first compile"]]
    shaped = [entry for entry in steps if _shape_change(entry)]
    if len(shaped) < SHAPES_WARNING_AT:
        return
    rec.warned.add(SHAPES_WARNING)
    warnings.warn(
        f"fnnet.torch: the training step was compiled again for new input shapes "
        f"{len(shaped)} times ({shaped[-1]['changes'][0]}): XLA compiles a program for "
        f"each shape, so a loop whose tensors change shape from step to step spends its "
        f"time compiling. Pad or bucket them to a few fixed shapes (sequences padded to a "
        f"multiple of 16, say; fnnet.torch.compile_stats() lists the compiles)",
        RuntimeWarning, stacklevel=caller_level())


def _describe(rec: Recorder, summary: Summary, tp: Tape) -> list[str]:
    """Differences between ``summary`` and the nearest previously compiled structure."""
    if not rec.history:
        return ["first compile"]

    def distance(other: Summary) -> int:
        common = sum(1 for a, b in zip(summary, other, strict=False) if a == b)
        return max(len(summary), len(other)) - common

    _, nearest = min(rec.history, key=lambda item: distance(item[1]))
    changes = []
    input_no = {}
    counter = 0
    for i, node in enumerate(tp.nodes):
        if node.op is None:
            input_no[i] = counter
            counter += 1
    for i, (a, b) in enumerate(zip(nearest, summary, strict=False)):
        if a == b:
            continue
        if a[0] is None and b[0] is None:
            changes.append(f"input {input_no.get(i, i)} shape {a[1][0]} -> {b[1][0]}"
                           if a[1][0] != b[1][0] else
                           f"input {input_no.get(i, i)} dtype {a[1][1]} -> {b[1][1]}")
        elif a[0] is not b[0] or a[1] != b[1]:
            changes.append(f"node {i}: {_describe_node(a)} -> {_describe_node(b)}")
        elif a[3] != b[3]:
            changes.append(f"node {i} ({_name(b[0])}): requires_grad {a[3]} -> {b[3]}")
        else:
            changes.append(f"node {i} ({_name(b[0])}): inputs changed")
        if len(changes) >= 5:
            break
    if len(nearest) != len(summary):
        changes.append(f"{len(nearest)} -> {len(summary)} recorded nodes")
    return changes or ["outputs changed"]


def _describe_node(entry: tuple[Any, ...]) -> str:
    if entry[0] is None:
        return f"input {entry[1][0]}"
    return f"{_name(entry[0])}{entry[1] if entry[1] else ''}"


def compiled(key: tuple[Any, ...], tp: Tape, wanted: tuple[int, ...],
             donate: tuple[int, ...], reason: str,
             split: bool = False) -> Callable[..., list[Any]]:
    """The compiled function of a structure: ``fn(*sources) -> wanted values``.

    ``split`` asks for a :class:`~fnnet.torch._split.Split` (a step whose loss is read
    every step); a structure that cannot be split gets its one program under both modes,
    compiled once.
    """
    rec = current()
    stats, cache, options = rec.stats, rec.cache, rec.options
    fn: Callable[..., list[Any]] | None = cache.get((*key, split))
    training = bool(tp.backward) or reason == "step"
    if fn is not None:
        cache.move_to_end((*key, split))
        stats.hits += 1
        rec.recent.append(False)
        if training:
            rec.new_steps = 0
        return fn
    mesh = _sharding.mesh_of(tp.nodes)
    staged = build_split(tp, wanted, donate, _jit, options.split_bytes) \
        if split and mesh is None and not stats.eager else None
    other = cache.get((*key, not split))
    if isinstance(other, Split) and not split:
        other = other.step  # the split's second program is the whole step
    if staged is None and other is not None and not isinstance(other, Split):
        cache[(*key, split)] = other  # the same single program serves both modes
        stats.hits += 1
        rec.recent.append(False)
        if training:
            rec.new_steps = 0
        return other  # type: ignore[no-any-return]
    # a step of DistributedDataParallel is always compiled: its exchange between the
    # processes happens only inside the per-process program
    per_process = mesh is not None and _sharding.is_process_mesh(mesh)
    if stats.eager and not per_process:
        stats.eager_runs += 1
        _settled(rec, key, training)
        return build(tp, wanted, eager=mesh is None)
    n_nodes = len(tp.nodes)
    if mesh is None and (n_nodes > WHOLE_LIMIT or key not in rec.long_seen and (
            n_nodes > LONG_TAPE or n_nodes > REPEATS_MIN and _repetitive(tp))):
        # a long structure runs as windows (see _eager) the first time it is seen, a very
        # long one always: compiling it whole costs far more than running it once; so
        # does one that repeats a few nodes many times (an RNN unrolled per sample)
        if len(rec.long_seen) >= options.cache_size:
            rec.long_seen.clear()
        rec.long_seen.add(key)
        stats.eager_runs += 1
        return build(tp, wanted, eager=True)
    run = build(tp, wanted)
    summary = _summary(tp)
    if other is not None:
        changes = ["two programs: the loss is read every step" if staged is not None else
                   "one program: the loss is not read every step"]
    else:
        changes = _describe(rec, summary, tp)
    stats.log.append({"reason": reason, "nodes": len(tp.nodes),
                      "devices": 1 if mesh is None else mesh.size,
                      "programs": 1 if staged is None else 2, "changes": changes})
    if training:
        _warn_new_shapes(rec)
        rec.new_steps += 1
    rec.history.append((key, summary))
    del rec.history[:-options.cache_size]
    stats.compiles += 1
    rec.recent.append(True)
    steps_changed = rec.new_steps > options.eager_after_steps
    if sum(rec.recent) > options.eager_after or steps_changed:
        # the compiled functions stay cached: a structure met again is still served
        stats.eager = True
        rec.new_steps = 0
        rec.eager_steps.clear()
        rec.eager_for_steps = steps_changed
        rec.early.clear()
        # once: a loop may settle and change again; and only where a training step
        # changed, which the advice is for (values read in an exploratory script or an
        # evaluation pass over inputs of many shapes run op by op silently)
        if EAGER_WARNING not in rec.warned and training:
            rec.warned.add(EAGER_WARNING)
            where = (f"each of the last {options.eager_after_steps + 1} training steps"
                     if steps_changed else
                     f"{sum(rec.recent)} of the last {len(rec.recent)} flushes")
            warnings.warn(
                f"fnnet.torch: the recorded computation changed structure in "
                f"{where} (see "
                f"fnnet.torch.compile_stats()); it runs op by op without jit until its "
                f"structures repeat{_shape_advice(stats.log[-len(rec.recent):])}",
                RuntimeWarning, stacklevel=4)
        if not per_process:
            return build(tp, wanted, eager=mesh is None)
    if staged is not None:
        fn = staged
    elif mesh is not None:
        fn = _sharding.compile_on_mesh(run, mesh, donate, XLA_OPTIONS)
    else:
        fn = _jit(run, donate)
    cache[(*key, split)] = fn
    if len(cache) > options.cache_size:
        cache.popitem(last=False)
    return fn


def _repetitive(tp: Tape) -> bool:
    """Whether ``tp``'s nodes are ``REPEATS`` copies or more of each distinct node on
    average: the same op, static arguments and input shapes."""
    avals = tp.avals
    distinct = {(id(node.op), node.static, tuple(avals[r >> 2] for r in node.inputs
                                                  if r >= 0))
                for node in tp.nodes if node.op is not None}
    return len(distinct) * REPEATS <= len(tp.nodes)


def _settled(rec: Recorder, key: tuple[Any, ...], training: bool) -> None:
    """Notes a flush run op by op, of structure ``key`` (a training step's if
    ``training``); compiling resumes once few of the recent flushes met a new structure
    (see ``Options.compile_again``) and at most one of the recent training steps did
    (see ``Options.eager_after_steps``): a loop whose every step is new but whose value
    reads repeat stays op by op."""
    seen = rec.eager_seen
    new = key not in seen
    if new:
        if len(seen) >= SEEN_LIMIT:
            seen.clear()
        seen.add(key)
    rec.recent.append(new)
    options = rec.options
    steps, window = rec.eager_steps, max(options.eager_after_steps, 1)
    if training:
        steps.append(new)
        del steps[:-window]
    # the steps' condition holds once a whole window of steps ran op by op, and at once
    # where none did and the fallback was not for the steps (an evaluation pass over
    # inputs of many shapes)
    steps_repeat = len(steps) == window and sum(steps) <= 1 or \
        not steps and not rec.eager_for_steps
    if len(rec.recent) == rec.recent.maxlen and sum(rec.recent) <= min(
            options.compile_again, options.eager_after // 4) and steps_repeat:
        rec.stats.eager = False
        steps.clear()


def remember_early(rec: Recorder, state: int, fn: Any) -> None:
    """Keeps ``fn`` as the step to start at the next first ``backward()`` recorded from
    trie state ``state`` (this step's, there), where it is a split that can start there
    (``Split.starts_at``); forgets any other."""
    if isinstance(fn, Split) and fn.starts_at == state:
        if rec.early.get(state) is not fn:
            if len(rec.early) >= rec.options.cache_size:
                rec.early.clear()
            rec.early[state] = fn
    else:
        rec.early.pop(state, None)


def _jit(fn: Run, donate: tuple[int, ...]) -> Run:
    jitted: Run = jax.jit(fn, donate_argnums=donate, compiler_options=XLA_OPTIONS)
    return jitted
