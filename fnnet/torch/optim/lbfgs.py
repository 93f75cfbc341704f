"""``torch.optim.LBFGS``: PyTorch's L-BFGS, whose ``step(closure)`` evaluates the loss
several times.

The algorithm's arithmetic is pure jitted functions on the parameters flattened into one
vector, with the curvature history in fixed-size buffers, so each compiles once whatever
the history's length; the loop around them (reading the loss, the stopping tests) is
PyTorch's, on the host, as its tests read values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from fnnet.torch.optim.optimizer import Optimizer, ParamsT, _graph_enabled
from fnnet.torch.tensor import Tensor, _as_tensor, _wrap_value

Array = jax.Array


# -- the pure core --------------------------------------------------------------------
@jax.jit
def two_loop(grad: Array, dirs: Array, steps: Array, ro: Array, count: Array,
             h_diag: Array) -> Array:
    """L-BFGS's search direction ``-H grad`` by the two-loop recursion.

    Args:
        grad: the gradient, shape ``[n]``.
        dirs: gradient differences ``y``, oldest first, shape ``[history, n]``.
        steps: parameter steps ``s``, shape ``[history, n]``.
        ro: ``1 / (y . s)`` of each pair, shape ``[history]``.
        count: how many pairs are filled (the first ``count``).
        h_diag: the initial inverse Hessian's scale.

    Returns:
        The direction, shape ``[n]``.
    """
    def newest_first(k: Array, carry: tuple[Array, Array]) -> tuple[Array, Array]:
        q, al = carry
        i = count - 1 - k
        a = jnp.dot(steps[i], q) * ro[i]
        return q + dirs[i] * -a, al.at[i].set(a)

    q, al = lax.fori_loop(0, count, newest_first, (-grad, jnp.zeros_like(ro)))

    def oldest_first(i: Array, r: Array) -> Array:
        be = jnp.dot(dirs[i], r) * ro[i]
        out: Array = r + steps[i] * (al[i] - be)
        return out

    direction: Array = lax.fori_loop(0, count, oldest_first, q * h_diag)
    return direction


@jax.jit
def curvature(grad: Array, previous: Array, direction: Array, t: Array
              ) -> tuple[Array, Array, Array, Array]:
    """``(y, s, y . s, y . y)`` of the last step: ``y`` the change of gradient, ``s`` the
    step taken (``t * direction``)."""
    y = grad - previous
    s = direction * t
    return y, s, jnp.dot(y, s), jnp.dot(y, y)


@jax.jit
def remember(dirs: Array, steps: Array, ro: Array, count: Array, y: Array, s: Array,
             ys: Array) -> tuple[Array, Array, Array, Array]:
    """The history with ``(y, s, 1 / ys)`` appended, the oldest pair dropped when full."""
    full = count == dirs.shape[0]
    dirs, steps, ro = (jnp.where(full, jnp.roll(b, -1, axis=0), b) for b in (dirs, steps, ro))
    at = jnp.where(full, dirs.shape[0] - 1, count)
    return (dirs.at[at].set(y), steps.at[at].set(s), ro.at[at].set(1.0 / ys),
            jnp.minimum(count + 1, dirs.shape[0]))


@jax.jit
def flatten(*arrays: Array) -> Array:
    """The arrays' values, raveled and concatenated."""
    return jnp.concatenate([a.reshape(-1) for a in arrays])


@jax.jit
def step_to(params: tuple[Array, ...], direction: Array, t: Array) -> tuple[Array, ...]:
    """Each parameter plus its part of ``t * direction``."""
    out, offset = [], 0
    for p in params:
        out.append(p + direction[offset:offset + p.size].reshape(p.shape) * t)
        offset += p.size
    return tuple(out)


# -- the stateful shell -----------------------------------------------------------------
def _check(*, lr: float, max_iter: int, max_eval: int | None, tolerance_grad: float,
           tolerance_change: float, history_size: int, line_search_fn: str | None) -> None:
    if not (isinstance(lr, (int, float)) and lr >= 0):
        raise ValueError(f"Invalid learning rate: {lr}")
    for name, count in (("max_iter", max_iter), ("history_size", history_size)):
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"LBFGS: {name} must be an int >= 1, got {count!r}")
    if max_eval is not None and (isinstance(max_eval, bool) or not isinstance(max_eval, int)
                                 or max_eval < 1):
        raise ValueError(f"LBFGS: max_eval must be an int >= 1 or None, got {max_eval!r}")
    for name, value in (("tolerance_grad", tolerance_grad),
                        ("tolerance_change", tolerance_change)):
        if not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"LBFGS: {name} must be a number >= 0, got {value!r}")
    if line_search_fn is not None:
        raise NotImplementedError(
            f"fnnet.torch: LBFGS(line_search_fn={line_search_fn!r}) is not supported: only "
            "PyTorch's default, a fixed step of lr (line_search_fn=None)")


class LBFGS(Optimizer):
    """PyTorch equivalent: ``torch.optim.LBFGS`` (without ``line_search_fn``).

    Each ``step(closure)`` runs up to ``max_iter`` iterations, calling ``closure`` (which
    zeroes the gradients, computes the loss, calls ``backward()`` and returns the loss)
    up to ``max_eval`` times, with PyTorch's stopping tests on ``tolerance_grad`` and
    ``tolerance_change``; the last ``history_size`` steps shape the search direction.
    All parameters form one group, as PyTorch requires.
    """

    _factory = staticmethod(_check)
    _names = ("max_iter", "max_eval", "tolerance_grad", "tolerance_change", "history_size",
              "line_search_fn")

    def __init__(self, params: ParamsT, lr: float = 1, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        if max_eval is None and isinstance(max_iter, int):
            max_eval = max_iter * 5 // 4
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                                      tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change,
                                      history_size=history_size,
                                      line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params: list[Tensor] = self.param_groups[0]["params"]
        self._lbfgs: dict[str, Any] = {"func_evals": 0, "n_iter": 0}

    def add_param_group(self, group: dict[str, Any]) -> None:
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(group)

    def _flat_grad(self) -> Array:
        flat: Array = flatten(*[jnp.zeros(p.shape, p._value().dtype) if p.grad is None
                                else p.grad._value() for p in self._params])
        return flat

    def _evaluate(self, closure: Callable[[], Any]) -> tuple[Any, float, Array]:
        with _graph_enabled():
            loss = closure()
        return loss, float(loss), self._flat_grad()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Runs up to ``max_iter`` L-BFGS iterations; returns the first ``closure()``'s
        loss, as PyTorch.

        Raises:
            TypeError: no ``closure`` (L-BFGS evaluates the loss several times a step).
        """
        if not callable(closure):
            raise TypeError("LBFGS.step: closure must be a callable that computes the loss "
                            f"and its gradients and returns the loss, got {closure!r}")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history = group["history_size"]
        state = self._lbfgs
        orig_loss, loss, flat_grad = self._evaluate(closure)
        evals = 1
        state["func_evals"] += 1
        if float(jnp.max(jnp.abs(flat_grad))) <= tolerance_grad:
            return orig_loss
        dtype = flat_grad.dtype
        if state.get("dirs") is None or state["dirs"].shape != (history, flat_grad.size):
            state["dirs"] = jnp.zeros((history, flat_grad.size), dtype)
            state["steps"] = jnp.zeros((history, flat_grad.size), dtype)
            state["ro"] = jnp.zeros((history,), dtype)
            state["count"] = jnp.zeros((), jnp.int32)
        d, t = state.get("d"), state.get("t")
        h_diag, previous, prev_loss = state.get("H_diag"), state.get("prev_flat_grad"), \
            state.get("prev_loss")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -flat_grad
                state["count"] = jnp.zeros((), jnp.int32)
                h_diag = jnp.ones((), dtype)
            else:
                y, s, ys, yy = curvature(flat_grad, previous, d, t)
                if float(ys) > 1e-10:
                    state["dirs"], state["steps"], state["ro"], state["count"] = remember(
                        state["dirs"], state["steps"], state["ro"], state["count"], y, s, ys)
                    h_diag = ys / yy
                d = two_loop(flat_grad, state["dirs"], state["steps"], state["ro"],
                             state["count"], h_diag)
            previous = flat_grad
            prev_loss = loss
            # the step size in the parameters' precision, as PyTorch's tensor arithmetic
            t = jnp.asarray(lr, dtype)
            if state["n_iter"] == 1:
                inverse = 1.0 / jnp.sum(jnp.abs(flat_grad))
                if float(inverse) < 1.0:
                    t = inverse * t
            if float(jnp.dot(flat_grad, d)) > -tolerance_change:
                break
            new = step_to(tuple(p._value() for p in self._params), d, t)
            for p, value in zip(self._params, new, strict=True):
                p.data = _wrap_value(value)
            done = False
            if n_iter != max_iter:
                _, loss, flat_grad = self._evaluate(closure)
                done = float(jnp.max(jnp.abs(flat_grad))) <= tolerance_grad
                evals += 1
                state["func_evals"] += 1
            if n_iter == max_iter or evals >= max_eval or done:
                break
            if float(jnp.max(jnp.abs(d * t))) <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break
        state.update(d=d, t=t, H_diag=h_diag, prev_flat_grad=previous, prev_loss=prev_loss)
        return orig_loss

    # -- state in PyTorch's format ------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """PyTorch's layout: the state under the first parameter's index, the history as
        lists of tensors (oldest first)."""
        group = {k: v for k, v in self.param_groups[0].items() if k != "params"}
        group["params"] = list(range(len(self._params)))
        state = self._lbfgs
        entry: dict[str, Any] = {"func_evals": state["func_evals"], "n_iter": state["n_iter"]}
        if state.get("d") is not None:
            count = int(state["count"])
            entry.update(
                d=_as_tensor(state["d"]), t=float(state["t"]),
                old_dirs=[_as_tensor(state["dirs"][i]) for i in range(count)],
                old_stps=[_as_tensor(state["steps"][i]) for i in range(count)],
                ro=[_as_tensor(state["ro"][i]) for i in range(count)],
                H_diag=_as_tensor(state["H_diag"]),
                prev_flat_grad=_as_tensor(state["prev_flat_grad"]),
                prev_loss=state["prev_loss"])
        return {"state": {0: entry}, "param_groups": [group]}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Loads what :meth:`state_dict` (or PyTorch's LBFGS) saved.

        Raises:
            ValueError: not one parameter group of as many parameters, or a history
                longer than ``history_size``.
        """
        groups = state_dict.get("param_groups") if isinstance(state_dict, dict) else None
        if not isinstance(groups, list) or len(groups) != 1 or \
                len(groups[0].get("params", ())) != len(self._params):
            raise ValueError("LBFGS.load_state_dict: expected one parameter group of "
                             f"{len(self._params)} parameters, as state_dict() returns")
        entries = state_dict.get("state", {})
        entry: dict[str, Any] = next(iter(entries.values()), {}) if entries else {}
        history = int(groups[0].get("history_size", self.param_groups[0]["history_size"]))
        dirs = [np.asarray(_as_tensor(v)._value()) for v in entry.get("old_dirs", [])]
        if len(dirs) > history:
            raise ValueError(f"LBFGS.load_state_dict: {len(dirs)} history pairs, more than "
                             f"history_size {history}")
        state: dict[str, Any] = {"func_evals": int(entry.get("func_evals", 0)),
                                 "n_iter": int(entry.get("n_iter", 0))}
        if "d" in entry:
            d = _as_tensor(entry["d"])._value()
            n, dtype = d.size, d.dtype

            def stacked(values: list[np.ndarray]) -> Array:
                rows = np.zeros((history, n), dtype)
                for i, v in enumerate(values):
                    rows[i] = v.reshape(-1)
                return jnp.asarray(rows)

            steps = [np.asarray(_as_tensor(v)._value()) for v in entry["old_stps"]]
            ro = [np.asarray(_as_tensor(v)._value()) for v in entry["ro"]]
            state.update(
                d=d, t=jnp.asarray(entry["t"], dtype),
                dirs=stacked(dirs), steps=stacked(steps),
                ro=jnp.asarray(np.pad(np.asarray(ro, dtype).reshape(-1),
                                      (0, history - len(ro)))),
                count=jnp.asarray(len(dirs), jnp.int32),
                H_diag=jnp.asarray(_as_tensor(entry["H_diag"])._value()),
                prev_flat_grad=_as_tensor(entry["prev_flat_grad"])._value(),
                prev_loss=float(entry["prev_loss"]))
        for key in ("lr", "max_iter", "max_eval", "tolerance_grad", "tolerance_change",
                    "history_size"):
            if key in groups[0]:
                self.param_groups[0][key] = groups[0][key]
        self._lbfgs = state

    def _param_state(self, p: Tensor) -> dict[str, Tensor]:
        return {}

