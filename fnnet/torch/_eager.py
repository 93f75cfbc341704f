"""Op-by-op execution of a recorded tape, for loops whose structure changes every step.

Compiling a whole step pays only when the step repeats. When it does not, each recorded
node runs alone through a small jitted function cached by ``(op, static)`` (jax caches
it again by input shapes), so a node costs one dispatch of an already compiled program,
as an op does in PyTorch's eager mode. A backward walks its differentiable region in
reverse, one cached ``jax.vjp`` program per node, accumulating cotangents as PyTorch's
autograd engine does; the forward values come from the forward pass already run, so
nothing is traced again.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fnnet.torch._graph import RG, VAR

_forward: dict[tuple, Any] = {}
_vjp: dict[tuple, Any] = {}
#: cotangent accumulation as a compiled program: a jnp op outside jit costs several
#: dispatches of one
_add = jax.jit(jnp.add)


def _outputs(out: Any) -> tuple:
    # as in _graph._miss: a tuple or list is the node's outputs, even a list of one
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _forward_fn(op: Any, static: tuple) -> Any:
    key = (op, static)
    fn = _forward.get(key)
    if fn is None:
        fn = _forward[key] = jax.jit(lambda *args: _outputs(op(*args, *static)))
    return fn


def _vjp_fn(op: Any, static: tuple, diff: tuple[int, ...], given: tuple[bool, ...]) -> Any:
    """``fn(args, cotangents) -> cotangents of args[diff]``: the node's forward pass again
    inside ``jax.vjp``; outputs without a cotangent (``given``) get zeros."""
    key = (op, static, diff, given)
    fn = _vjp.get(key)
    if fn is None:
        def vjp(args: list, cotangents: list) -> tuple:
            def f(*diff_args: Any) -> tuple:
                full = list(args)
                for i, value in zip(diff, diff_args, strict=True):
                    full[i] = value
                return _outputs(op(*full, *static))

            outs, pullback = jax.vjp(f, *[args[i] for i in diff])
            it = iter(cotangents)
            cts = tuple(next(it) if g else _zero_cotangent(o) for o, g in zip(outs, given,
                                                                              strict=True))
            return pullback(cts)

        fn = _vjp[key] = jax.jit(vjp)
    return fn


def _zero_cotangent(value: Any) -> Any:
    if value is None:  # an output a node may leave out (see _graph._miss)
        return None
    if jnp.issubdtype(value.dtype, jnp.inexact):
        return jnp.zeros_like(value)
    return np.zeros(value.shape, jax.dtypes.float0)


def execute(plan: Any, env: list) -> None:
    """Computes the needed nodes of ``plan`` (a ``_compiler._Plan``) into ``env``."""
    nodes = plan.nodes
    backward = plan.backward
    for n in plan.order:
        node = nodes[n]
        op = node[0]
        if op is None:
            continue
        if n in backward:
            _backward(plan, n, env)
            continue
        args = [None if r < 0 else env[r >> 2] for r in node[2]]
        first = node[4]
        env[first:first + node[5]] = _forward_fn(op, node[1])(*args)


def _backward(plan: Any, n: int, env: list) -> None:
    """Backward node ``n``: its region's nodes in reverse, each through its cached vjp."""
    nodes = plan.nodes
    region, var_slots, _ = plan.backward[n]
    loss_ref, grad_ref = nodes[n][2]
    loss = env[loss_ref >> 2]
    # the seed as a host array: it reaches the device as an argument of the first vjp
    seed = np.ones(loss.shape, loss.dtype) if grad_ref < 0 else jnp.asarray(
        env[grad_ref >> 2], loss.dtype)
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
        env[first + i] = leaf[s] if s in leaf else jnp.zeros_like(env[s])
