"""``torch.optim.LBFGS``: PyTorch's L-BFGS, whose ``step(closure)`` evaluates the loss
several times.

The algorithm's arithmetic is pure jitted functions on the parameters flattened into one
vector, with the curvature history in fixed-size buffers, so each compiles once whatever
the history's length; the loop around them (reading the loss, the stopping tests) is
PyTorch's, on the host, as its tests read values.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from fnnet.torch.optim.optimizer import (
    Optimizer,
    ParamsT,
    _graph_enabled,
    with_load_hooks,
    with_state_dict_hooks,
)
from fnnet.torch.tensor import Tensor, _as_tensor, _wrap_value

Array = jax.Array


# -- the pure core --------------------------------------------------------------------
@jax.jit
def two_loop(grad: Array, dirs: Array, steps: Array, ro: Array, count: Array,
             h_diag: Array) -> tuple[Array, Array]:
    """L-BFGS's search direction ``-H grad`` by the two-loop recursion.

    Args:
        grad: the gradient, shape ``[n]``.
        dirs: gradient differences ``y``, oldest first, shape ``[history, n]``.
        steps: parameter steps ``s``, shape ``[history, n]``.
        ro: ``1 / (y . s)`` of each pair, shape ``[history]``.
        count: how many pairs are filled (the first ``count``).
        h_diag: the initial inverse Hessian's scale.

    Returns:
        The direction, shape ``[n]``, and the coefficients ``s . q / (y . s)`` of the
        first loop, shape ``[history]`` (PyTorch keeps them as the state's ``al``).
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
    return direction, al


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
    # rolled only once full: a select of both would copy the whole history every time
    dirs, steps, ro = lax.cond(full, lambda b: tuple(jnp.roll(x, -1, axis=0) for x in b),
                               lambda b: b, (dirs, steps, ro))
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


# -- the strong Wolfe line search (host scalars, device gradients) --------------------
def cubic_minimum(x1: float, f1: float, g1: float, x2: float, f2: float, g2: float,
                  bounds: tuple[float, float] | None = None) -> float:
    """The minimiser of the cubic through ``(x1, f1)`` and ``(x2, f2)`` with slopes ``g1``
    and ``g2``, kept within ``bounds`` (by default the two points); their midpoint where
    the cubic has no minimum.

    The slopes are float32, as PyTorch's (dot products of float32 gradients), and the
    terms built on them are computed in float32 as PyTorch's tensor arithmetic computes
    them: near a minimum the discriminant cancels, and its sign decides the step.
    """
    low, high = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    a, b = np.float32(g1), np.float32(g2)
    d1 = (a + b) - np.float32(3 * (f1 - f2) / (x1 - x2))
    square = d1 * d1 - a * b
    if square < 0:
        return (low + high) / 2
    d2 = np.sqrt(square)
    if x1 <= x2:
        at = np.float32(x2) - np.float32(x2 - x1) * ((b + d2 - d1) / (b - a + 2 * d2))
    else:
        at = np.float32(x1) - np.float32(x1 - x2) * ((a + d2 - d1) / (a - b + 2 * d2))
    return min(max(float(at), low), high)


def strong_wolfe(evaluate: Callable[[float], tuple[float, Array]], direction: Array, t: float,
                 loss: float, grad: Array, slope: float, tolerance_change: float,
                 c1: float = 1e-4, c2: float = 0.9, max_evals: int = 25
                 ) -> tuple[float, Array, float, int]:
    """A step along ``direction`` meeting the strong Wolfe conditions, as PyTorch's
    ``line_search_fn="strong_wolfe"`` finds it: steps grow (by cubic interpolation, up
    to tenfold) until an interval brackets one, which is then narrowed.

    Args:
        evaluate: ``step -> (loss, flat gradient)`` at the parameters plus
            ``step * direction``.
        direction: the search direction, shape ``[n]``.
        t: the first step to try.
        loss, grad, slope: the loss, gradient and ``grad . direction`` at step 0.
        tolerance_change: the narrowest interval worth narrowing further (times the
            direction's largest entry).
        c1, c2: the sufficient-decrease and curvature constants.
        max_evals: evaluations allowed.

    Returns:
        ``(loss, gradient, step, evaluations)`` at the step taken.
    """
    scale = float(jnp.max(jnp.abs(direction)))
    # the slopes are float32 values (as PyTorch's), the tests on them in float32
    slope = float(np.float32(slope))

    def armijo_fails(f_new: float, t: float) -> bool:
        return bool(np.float32(f_new) > np.float32(loss)
                    + np.float32(c1 * t) * np.float32(slope))

    def curved_enough(s_new: float) -> bool:
        return bool(abs(np.float32(s_new)) <= np.float32(-c2) * np.float32(slope))

    def slope_at(g: Array) -> float:
        return float(np.float32(jnp.dot(g, direction)))

    f_new, g_new = evaluate(t)
    evals = 1
    s_new = slope_at(g_new)
    t_prev, f_prev, g_prev, s_prev = 0.0, loss, grad, slope
    done = False
    bracket: list[float] = []
    values: list[float] = []
    grads: list[Array] = []
    slopes: list[float] = []
    tries = 0
    while tries < max_evals:
        if armijo_fails(f_new, t) or (tries > 1 and f_new >= f_prev):
            bracket, values, grads, slopes = [t_prev, t], [f_prev, f_new], [g_prev, g_new], \
                [s_prev, s_new]
            break
        if curved_enough(s_new):
            bracket, values, grads, done = [t], [f_new], [g_new], True
            break
        if s_new >= 0:
            bracket, values, grads, slopes = [t_prev, t], [f_prev, f_new], [g_prev, g_new], \
                [s_prev, s_new]
            break
        previous = t
        t = cubic_minimum(t_prev, f_prev, s_prev, t, f_new, s_new,
                          bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, s_prev = previous, f_new, g_new, s_new
        f_new, g_new = evaluate(t)
        evals += 1
        s_new = slope_at(g_new)
        tries += 1
    if tries == max_evals:
        bracket, values, grads = [0.0, t], [loss, f_new], [grad, g_new]
    stalled = False
    low, high = (0, 1) if values[0] <= values[-1] else (1, 0)
    while not done and tries < max_evals:
        if abs(bracket[1] - bracket[0]) * scale < tolerance_change:
            break
        t = cubic_minimum(bracket[0], values[0], slopes[0], bracket[1], values[1], slopes[1])
        # a step too near an end of the interval moves a tenth of it inside
        top, bottom = max(bracket), min(bracket)
        margin = 0.1 * (top - bottom)
        if min(top - t, t - bottom) < margin:
            if stalled or t >= top or t <= bottom:
                t = top - margin if abs(t - top) < abs(t - bottom) else bottom + margin
                stalled = False
            else:
                stalled = True
        else:
            stalled = False
        f_new, g_new = evaluate(t)
        evals += 1
        s_new = slope_at(g_new)
        tries += 1
        if armijo_fails(f_new, t) or f_new >= values[low]:
            bracket[high], values[high], grads[high], slopes[high] = t, f_new, g_new, s_new
            low, high = (0, 1) if values[0] <= values[1] else (1, 0)
        else:
            if curved_enough(s_new):
                done = True
            elif s_new * (bracket[high] - bracket[low]) >= 0:
                bracket[high], values[high] = bracket[low], values[low]
                grads[high], slopes[high] = grads[low], slopes[low]
            bracket[low], values[low], grads[low], slopes[low] = t, f_new, g_new, s_new
    return values[low], grads[low], bracket[low], evals


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
    if line_search_fn not in (None, "strong_wolfe"):
        raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got "
                         f"{line_search_fn!r}")


class LBFGS(Optimizer):
    """PyTorch equivalent: ``torch.optim.LBFGS``.

    Each ``step(closure)`` runs up to ``max_iter`` iterations, calling ``closure`` (which
    zeroes the gradients, computes the loss, calls ``backward()`` and returns the loss)
    up to ``max_eval`` times, with PyTorch's stopping tests on ``tolerance_grad`` and
    ``tolerance_change``; the last ``history_size`` steps shape the search direction.
    Each iteration steps by ``lr`` along it, or, with ``line_search_fn="strong_wolfe"``,
    by the step :func:`strong_wolfe` finds. All parameters form one group, as PyTorch
    requires.
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

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    def _flat_grad(self) -> Array:
        flat: Array = flatten(*[jnp.zeros(p.shape, p._value().dtype) if p.grad is None
                                else p.grad._value() for p in self._params])
        return flat

    def _set(self, values: tuple[Array, ...]) -> None:
        for p, value in zip(self._params, values, strict=True):
            p.data = _wrap_value(value)

    def _evaluate(self, closure: Callable[[], Any]) -> tuple[Any, float, Array]:
        with _graph_enabled():
            loss = closure()
        # read outside grad mode, as PyTorch's step (no_grad) reads it: no warning
        return loss, float(loss.detach() if isinstance(loss, Tensor) else loss), self._flat_grad()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Runs up to ``max_iter`` L-BFGS iterations; returns the first ``closure()``'s
        loss, as PyTorch.

        Raises:
            TypeError: no ``closure`` (L-BFGS evaluates the loss several times a step).
        """
        if not callable(closure):
            raise TypeError("LBFGS.step: closure must be a callable that computes the loss "
                            f"and its gradients and returns the loss, got {closure!r}")
        self._opt_called = True
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
                d, state["al"] = two_loop(flat_grad, state["dirs"], state["steps"],
                                          state["ro"], state["count"], h_diag)
            previous = flat_grad
            prev_loss = loss
            # the step size in the parameters' precision, as PyTorch's tensor arithmetic
            t = jnp.asarray(lr, dtype)
            if state["n_iter"] == 1:
                inverse = 1.0 / jnp.sum(jnp.abs(flat_grad))
                if float(inverse) < 1.0:
                    t = inverse * t
            slope = float(jnp.dot(flat_grad, d))
            if slope > -tolerance_change:
                break
            start = tuple(p._value() for p in self._params)
            done = False
            if group["line_search_fn"] == "strong_wolfe":
                def evaluate(step: float, d: Array = d, start: tuple[Array, ...] = start
                             ) -> tuple[float, Array]:
                    self._set(step_to(start, d, jnp.asarray(step, dtype)))
                    _, value, gradient = self._evaluate(closure)
                    self._set(start)
                    return value, gradient

                # the search may spend only the evaluations this step has left, as
                # PyTorch's max_ls (none left: the step stays where it is)
                loss, flat_grad, step, searched = strong_wolfe(
                    evaluate, d, float(t), loss, flat_grad, slope, tolerance_change,
                    max_evals=max_eval - evals)
                t = jnp.asarray(step, dtype)
                self._set(step_to(start, d, t))
                done = float(jnp.max(jnp.abs(flat_grad))) <= tolerance_grad
                evals += searched
                state["func_evals"] += searched
            else:
                self._set(step_to(start, d, t))
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
    @with_state_dict_hooks
    def state_dict(self) -> dict[str, Any]:
        """PyTorch's layout: the state under the first parameter's index, the history as
        lists of tensors (oldest first)."""
        group = {k: v for k, v in self.param_groups[0].items() if k != "params"}
        group["params"] = list(range(len(self._params)))
        entry = self._entry()
        return {"state": {0: entry} if entry else {}, "param_groups": [group]}

    @property
    def state(self) -> dict[Any, dict[str, Any]]:
        """PyTorch's ``optimizer.state``: after the first ``step``, the one entry under
        the first parameter (``optimizer.state[optimizer._params[0]]["n_iter"]``, as
        PINN scripts print the iterations run); a read-only copy."""
        entry = self._entry()
        return defaultdict(dict, {self._params[0]: entry} if entry else {})

    @state.setter
    def state(self, value: dict[Any, dict[str, Any]]) -> None:
        raise AttributeError("LBFGS.state is computed from the optimizer's own state: "
                             "change it with load_state_dict")

    def _entry(self) -> dict[str, Any]:
        """The state in PyTorch's names, or ``{}`` before the first ``step``."""
        state = self._lbfgs
        if not state["func_evals"] and not state["n_iter"]:
            return {}
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
        if state.get("al") is not None:
            # PyTorch's list of the history's length, None past the pairs it has filled
            entry["al"] = [_as_tensor(state["al"][i]) if i < count else None
                           for i in range(len(state["al"]))]
        return entry

    @with_load_hooks
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
            if entry.get("al") is not None:
                state["al"] = jnp.asarray([0.0 if v is None else
                                           float(_as_tensor(v)._value())
                                           for v in entry["al"]], dtype)
        for key in ("lr", "max_iter", "max_eval", "tolerance_grad", "tolerance_change",
                    "history_size"):
            if key in groups[0]:
                self.param_groups[0][key] = groups[0][key]
        self._lbfgs = state

    def _param_state(self, p: Tensor) -> dict[str, Tensor]:
        return {}

