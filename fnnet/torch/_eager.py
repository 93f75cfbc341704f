"""Execution of a recorded tape for loops whose whole structure changes every step.

Compiling a whole step pays only when the step repeats. When it does not, its parts
often do: a layer's forward pass, a backward, the update of each parameter. The tape is
cut into windows at content-defined points (where the ops recorded just before a node
hash to a chosen residue, or after a backward), so that a change in one place of a step
leaves the cuts elsewhere, and the windows there, as they were. Each window is keyed by
its structure relative to its own start (ops, static arguments, which earlier output
each input is, the shapes of the values it reads from outside, which of its values are
read after it); the third time a key is seen the window is compiled, through the same
``_replay.build`` as a whole step, and every later sighting is one dispatch.

A window not compiled yet runs node by node: each node through a small jitted function
cached by ``(op, static)`` (jax caches it again by input shapes) once that key is met
again, without jit the first time, and a backward walks
its differentiable region in reverse, one cached ``jax.vjp`` program per node,
accumulating cotangents as PyTorch's autograd engine does.

A backward of a short region stays in its forward pass's window (one program computes
both); a long region (an RNN unrolled over a length that changes every step) is cut like
any run of nodes, so that its repeating parts are compiled, and its backward is a window
of its own that recomputes the region inside ``jax.vjp`` once compiled.
"""

from __future__ import annotations

import zlib
from collections import OrderedDict
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fnnet.torch._recorder import current
from fnnet.torch._tape import RG, VAR, Node, Tape
from fnnet.torch._xla_options import XLA_OPTIONS

#: compile a window the n-th time its structure is seen: a compile costs as much as
#: running a few hundred nodes one by one, so a window seen twice in a loop whose
#: structure keeps changing may never come back.
FUSE_AFTER = 3
#: windows hold at least ``CUT_MIN`` nodes (unless a backward ends them) and at most
#: ``CUT_MAX`` (unless a backward's region holds them together); in between they end
#: where the content-defined hash says.
CUT_MIN, CUT_MAX = 16, 128
#: one in ``CUT_ODDS`` positions is a content-defined cut.
CUT_ODDS = 8
#: a backward shares its forward pass's window when its region spans at most this many
#: recorded nodes (sources included).
SPAN_MAX = 2 * CUT_MAX
#: compiled windows kept (least recently used dropped first), and keys counted.
CACHE_SIZE = 512
SEEN_SIZE = 8192

#: per-node programs: they depend on nothing but their key, so every recorder shares them
_forward: dict[tuple[Any, ...], Any] = {}
_vjp: dict[tuple[Any, ...], Any] = {}
_op_hash: dict[int, int] = {}
#: per-node program keys met once, run without jit so far (see ``_jitted_later``)
_met_once: set[tuple[Any, ...]] = set()
#: cotangent accumulation as a compiled program: a jnp op outside jit costs several
#: dispatches of one
_add = jax.jit(jnp.add)


class Windows:
    """The compiled windows of one recorder, and how often each structure was seen.

    Attributes:
        compiled: window key -> its jitted program (least recently used first).
        seen: window key -> sightings, for keys not compiled yet.
        compiles: windows compiled.
        runs: windows run as one compiled program.
        node_runs: nodes run one by one, in windows not compiled yet.
    """

    def __init__(self) -> None:
        self.compiled: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self.seen: dict[tuple[Any, ...], int] = {}
        self.compiles = 0
        self.runs = 0
        self.node_runs = 0

    def stats(self) -> dict[str, int]:
        """The counters, as ``compile_stats()["windows"]`` reports them."""
        return {"compiles": self.compiles, "runs": self.runs, "node_runs": self.node_runs}


def windows() -> Windows:
    """The current recorder's :class:`Windows` (made on first use)."""
    rec = current()
    state: Windows | None = rec.windows
    if state is None:
        state = rec.windows = Windows()
    return state


def _outputs(out: Any) -> tuple[Any, ...]:
    # as in _graph._miss: a tuple or list is the node's outputs, even a list of one
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _jitted_later(cache: dict[tuple[Any, ...], Any], key: tuple[Any, ...], fn: Any) -> Any:
    """``fn`` as it is the first time ``key`` is met, jitted (and cached) from the second
    on: a node whose static argument changes every step (a slope or a margin annealed
    by the loop) would otherwise compile at every step for a single run."""
    if key in _met_once:
        jitted = cache[key] = jax.jit(fn)
        return jitted
    if len(_met_once) >= SEEN_SIZE:
        _met_once.clear()
    _met_once.add(key)
    return fn


def _forward_fn(op: Any, static: tuple[Any, ...]) -> Any:
    # keyed by the op's id (its program holds it alive): jnp's ufuncs hash in Python,
    # which costs about a microsecond a node
    key = (id(op), static)
    fn = _forward.get(key)
    if fn is None:
        return _jitted_later(_forward, key, lambda *args: _outputs(op(*_on_device(args),
                                                                      *static)))
    return fn


def _on_device(args: tuple[Any, ...]) -> list[Any]:
    """A node's inputs as JAX arrays: a value still on the host (``torch.tensor`` of a
    numpy array) is a numpy array, which an op's ``x.at[...]`` does not take; under jit
    the op sees tracers."""
    return [jnp.asarray(a) if isinstance(a, np.ndarray) else a for a in args]


def _vjp_fn(op: Any, static: tuple[Any, ...], diff: tuple[int, ...],
            given: tuple[bool, ...]) -> Any:
    """``fn(args, cotangents) -> cotangents of args[diff]``: the node's forward pass again
    inside ``jax.vjp``; outputs without a cotangent (``given``) get zeros."""
    key = (id(op), static, diff, given)
    fn = _vjp.get(key)
    if fn is None:
        def vjp(args: list[Any], cotangents: list[Any]) -> tuple[Any, ...]:
            def f(*diff_args: Any) -> tuple[Any, ...]:
                full = _on_device(tuple(args))
                for i, value in zip(diff, diff_args, strict=True):
                    full[i] = value
                return _outputs(op(*full, *static))

            outs, pullback = jax.vjp(f, *[args[i] for i in diff])
            it = iter(cotangents)
            cts = tuple(next(it) if g else _zero_cotangent(o) for o, g in zip(outs, given,
                                                                              strict=True))
            grads: tuple[Any, ...] = pullback(cts)
            return grads

        return _jitted_later(_vjp, key, vjp)
    return fn


def _zero_cotangent(value: Any) -> Any:
    if value is None:  # an output a node may leave out (see _graph._miss)
        return None
    if jnp.issubdtype(value.dtype, jnp.inexact):
        return jnp.zeros_like(value)
    return np.zeros(value.shape, jax.dtypes.float0)


class _Window:
    """A run of nodes executed together.

    Attributes:
        nodes: node indices in recording order (for a backward cut off from its forward
            pass, the region's nodes then the backward node).
        produced: the slots this window writes into ``env`` (a detached backward writes
            only the gradients; its region is recomputed inside).
        fusable: every backward in it has its whole region inside it.
    """

    __slots__ = ("nodes", "produced", "fusable", "backwards", "detached")

    def __init__(self, nodes: list[int], plan: Any, detached: bool = False) -> None:
        self.nodes = nodes
        self.detached = detached
        pnodes, backward = plan.nodes, plan.backward
        self.backwards = [n for n in nodes if n in backward]
        members = set(nodes)
        self.fusable = all(m in members for b in self.backwards for m in backward[b][0])
        outs = [nodes[-1]] if detached else nodes
        self.produced = [pnodes[n][4] + k for n in outs for k in range(pnodes[n][5])]


def _stable_hash(op: Any) -> int:
    """A hash of ``op`` that is the same in every process (the cuts, and so the windows
    compiled, do not depend on where objects happen to live)."""
    name = f"{getattr(op, '__module__', '')}.{getattr(op, '__qualname__', type(op).__name__)}"
    return zlib.crc32(name.encode())


def _windows_of(plan: Any) -> list[_Window]:
    """Cuts the needed nodes of ``plan`` into windows (see the module docstring)."""
    nodes, backward = plan.nodes, plan.backward
    seq = [n for n in plan.order if nodes[n][0] is not None]
    # a backward of a short region stays with it: no cut between the region's first node
    # and it (a long one is cut as any run of nodes: see the module docstring)
    span_end: dict[int, int] = {}
    for b in backward:
        region = backward[b][0]
        start = region[0] if region else b
        if b - start <= SPAN_MAX and span_end.get(start, -1) < b:
            span_end[start] = b
    windows: list[_Window] = []
    current: list[int] = []
    hold = -1
    previous = 0
    for n in seq:
        current.append(n)
        end = span_end.get(n)
        if end is not None and end > hold:
            hold = end
        op = nodes[n][0]
        here = _op_hash.get(id(op))
        if here is None:
            if len(_op_hash) > SEEN_SIZE:
                _op_hash.clear()
            here = _op_hash[id(op)] = _stable_hash(op)
        mixed = ((previous * 31 + here) * 2654435761) >> 16
        previous = here
        size = len(current)
        if n in backward or size >= CUT_MIN and n >= hold and (
                size >= CUT_MAX or mixed % CUT_ODDS == 0):
            windows.append(_Window(current, plan))
            current = []
    if current:
        windows.append(_Window(current, plan))
    out: list[_Window] = []
    for window in windows:
        if window.fusable:
            out.append(window)
            continue
        # a backward whose region began in an earlier window: its own window after the
        # forward nodes of this one (which stays fusable)
        rest = [n for n in window.nodes if n not in window.backwards]
        if rest:
            out.append(_Window(rest, plan))
        for b in window.backwards:
            out.append(_Window([*backward[b][0], b], plan, detached=True))
    return out


def _structure(plan: Any, window: _Window, outs: list[int],
               known: dict[int, Any]) -> tuple[tuple[Any, ...], list[int], tuple[int, ...]]:
    """``(key, outside slots read, argument of each)`` of ``window``: its nodes relative
    to its start. Outside slots holding the same source value (``known``: the sources'
    values), such as a Python scalar used many times, share one argument: each argument
    of a compiled call costs about as much as a small op."""
    nodes, avals = plan.nodes, plan.avals
    # slot -> its index among the window's own outputs, or -1 - its index among the
    # slots read from outside (a slot is one or the other: outputs come after inputs)
    index: dict[int, int] = {}
    ext: list[int] = []
    descs: list[tuple[Any, ...]] = []
    position = {n: i for i, n in enumerate(window.nodes)} if window.backwards else None
    count = 0
    for n in window.nodes:
        op, static, ins, rg, first, n_out = nodes[n]
        rel: list[int | None] = []
        for r in ins:
            if r < 0:
                rel.append(None)
                continue
            s = r >> 2
            i = index.get(s)
            if i is None:
                i = index[s] = -1 - len(ext)
                ext.append(s)
            rel.append(i * 4 + (r & 3))
        if position is not None and n in plan.backward:
            region, var_slots, _ = plan.backward[n]
            leaves = []
            for s in var_slots:
                i = index.get(s)
                if i is None:
                    i = index[s] = -1 - len(ext)
                    ext.append(s)
                leaves.append(i)
            descs.append((id(op), static, tuple(rel), rg,
                          tuple(position[m] for m in region), tuple(leaves)))
        else:
            descs.append((id(op), static, tuple(rel), rg))
        for k in range(n_out):
            index[first + k] = count + k
        count += n_out
    alias = []
    seen: dict[int, int] = {}
    for k, s in enumerate(ext):
        value = known.get(s, known)
        if value is known:
            alias.append(k)
            continue
        j = seen.setdefault(id(value), k)
        alias.append(j)
    key = (tuple(descs), tuple(avals[s] for s in ext), tuple(alias),
           tuple(index[s] for s in outs), window.detached)
    return key, ext, tuple(alias)


def _compile(plan: Any, window: _Window, ext: list[int], alias: tuple[int, ...],
             outs: list[int]) -> Any:
    """The window as one jitted program ``fn(*values of its arguments) -> values of
    outs``, built as a tape of its own and compiled as a whole step is (``alias``: the
    argument of each outside slot, see :func:`_structure`)."""
    from fnnet.torch import _replay

    nodes, avals = plan.nodes, plan.avals
    mini = Tape()
    slot_map: dict[int, int] = {}
    for k, s in enumerate(ext):
        if alias[k] != k:
            continue
        slot = len(mini.avals)
        mini.nodes.append(Node(None, slot, (), False, slot, 1))
        mini.avals.append(avals[s])
        mini.srcs.append(None)
        mini.src_slots.append(slot)
        slot_map[s] = slot
    for k, s in enumerate(ext):
        slot_map[s] = slot_map[ext[alias[k]]]
    node_map: dict[int, int] = {}
    for n in window.nodes:
        op, static, ins, rg, first, n_out = nodes[n]
        refs = tuple(-1 if r < 0 else slot_map[r >> 2] * 4 + (r & 3) for r in ins)
        new_first = len(mini.avals)
        node_map[n] = len(mini.nodes)
        mini.nodes.append(Node(op, static, refs, rg, new_first, n_out))
        mini.avals.extend(avals[first:first + n_out])
        for k in range(n_out):
            slot_map[first + k] = new_first + k
        if n in plan.backward:
            region, var_slots, region_slots = plan.backward[n]
            mini.backward[node_map[n]] = (
                [node_map[m] for m in region], [slot_map[s] for s in var_slots],
                tuple(slot_map[s] for s in region_slots))
    run = _replay.build(mini, tuple(slot_map[s] for s in outs))
    return jax.jit(run, compiler_options=XLA_OPTIONS)


def execute(plan: Any, env: list[Any]) -> None:
    """Computes the needed nodes of ``plan`` (a ``_replay.Plan``) into ``env``."""
    scalars = current().scalars
    for s in plan.src_slots:
        kind = type(env[s])
        if kind is float or kind is int:
            env[s] = scalars.array(env[s])
    state = windows()
    cache, seen_counts = state.compiled, state.seen
    known = {s: env[s] for s in plan.src_slots}
    cuts = _windows_of(plan)
    # from the last window back: which values each reads decides what earlier ones return
    later = set(plan.wanted)
    runs: list[Any] = []
    for window in reversed(cuts):
        fn = None
        if window.fusable:
            outs = [s for s in window.produced if s in later]
            if not outs:  # read only by a backward that recomputes it in its own window
                continue
            key, ext, alias = _structure(plan, window, outs, known)
            # the same window with an argument per outside slot: it serves every way
            # of sharing them, for windows whose scalars' values differ each time (a
            # loop of ``N[i, j] += 1``)
            distinct = tuple(range(len(ext)))
            plain = None if alias == distinct else (*key[:2], distinct, *key[3:])
            fn = cache.get(key)
            if fn is None and plain is not None:
                fn = cache.get(plain)
                if fn is not None:
                    key, alias = plain, distinct
            if fn is not None:
                cache.move_to_end(key)
            else:
                if len(seen_counts) > SEEN_SIZE:
                    seen_counts.clear()
                seen = seen_counts[key] = seen_counts.get(key, 0) + 1
                if plain is not None and seen < FUSE_AFTER:
                    seen = seen_counts[plain] = seen_counts.get(plain, 0) + 1
                    key, alias = plain, distinct
                if seen >= FUSE_AFTER:
                    seen_counts.pop(key, None)
                    fn = cache[key] = _compile(plan, window, ext, alias, outs)
                    state.compiles += 1
                    if len(cache) > CACHE_SIZE:
                        cache.popitem(last=False)
        if fn is not None:
            later.update(ext)
            runs.append((window, fn, [s for k, s in enumerate(ext) if alias[k] == k], outs))
        else:
            later.update(_reads(plan, window))
            runs.append((window, None, None, None))
    for window, fn, args, outs in reversed(runs):
        if fn is None:
            state.node_runs += _by_node(plan, window, env)
            continue
        state.runs += 1
        for s, value in zip(outs, fn(*[env[s] for s in args]), strict=True):
            env[s] = value


def _reads(plan: Any, window: _Window) -> list[int]:
    """The slots ``window`` reads from ``env`` when run node by node."""
    nodes = plan.nodes
    reads = [r >> 2 for n in window.nodes for r in nodes[n][2] if r >= 0]
    for b in window.backwards:
        region, var_slots, _ = plan.backward[b]
        reads.extend(var_slots)
        reads.extend(r >> 2 for m in region for r in nodes[m][2] if r >= 0)
        reads.extend(nodes[m][4] + k for m in region for k in range(nodes[m][5]))
    return reads


def _by_node(plan: Any, window: _Window, env: list[Any]) -> int:
    """Runs ``window`` one node at a time; returns how many nodes ran."""
    nodes = plan.nodes
    todo = window.nodes[-1:] if window.detached else window.nodes
    for n in todo:
        if n in plan.backward:
            _backward(plan, n, env)
            continue
        op, static, ins, _, first, n_out = nodes[n]
        args = [None if r < 0 else env[r >> 2] for r in ins]
        env[first:first + n_out] = _forward_fn(op, static)(*args)
    return len(todo)


def conjugate(value: Any) -> Any:
    """A complex gradient in PyTorch's convention from JAX's, and back: PyTorch's is the
    conjugate of JAX's cotangent (a real one is the same in both)."""
    return jnp.conj(value) if jnp.iscomplexobj(value) else value


def _backward(plan: Any, n: int, env: list[Any]) -> None:
    """Backward node ``n``: its region's nodes in reverse, each through its cached vjp."""
    nodes = plan.nodes
    region, var_slots, _ = plan.backward[n]
    loss_ref, grad_ref = nodes[n][2]
    loss = env[loss_ref >> 2]
    # the seed as a host array: it reaches the device as an argument of the first vjp
    seed = np.ones(loss.shape, loss.dtype) if grad_ref < 0 else conjugate(jnp.asarray(
        env[grad_ref >> 2], loss.dtype))
    local = {nodes[m][4] + k for m in region for k in range(nodes[m][5])}
    cotangent: dict[int, Any] = {loss_ref >> 2: seed}
    leaf: dict[int, Any] = {}
    if loss_ref & 3 == VAR:
        leaf[loss_ref >> 2] = seed
    for m in reversed(region):
        op, static, ins, _, first, n_out = nodes[m]
        cts = [cotangent.pop(first + k, None) for k in range(n_out)]
        if all(c is None for c in cts):
            continue
        diff = tuple(i for i, r in enumerate(ins) if r >= 0 and (
            r & 3 == VAR or (r & 3 == RG and r >> 2 in local)))
        if not diff:
            continue
        args = [None if r < 0 else env[r >> 2] for r in ins]
        given = tuple(c is not None for c in cts)
        grads = _vjp_fn(op, static, diff, given)(args, [c for c in cts if c is not None])
        for i, g in zip(diff, grads, strict=True):
            r = ins[i]
            into = leaf if r & 3 == VAR else cotangent
            s = r >> 2
            into[s] = g if s not in into else _add(into[s], g)
    first = nodes[n][4]
    for i, s in enumerate(var_slots):
        env[first + i] = conjugate(leaf[s]) if s in leaf else jnp.zeros_like(env[s])
