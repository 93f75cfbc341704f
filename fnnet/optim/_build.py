"""Assembly of an optimizer from named optax pieces (no update math lives here)."""

from __future__ import annotations

from typing import Any

import optax


def build(*pieces: tuple[str, optax.GradientTransformation | None]
          ) -> optax.GradientTransformationExtraArgs:
    """``optax.named_chain`` of the pieces that are not None.

    The state is then a dict keyed by piece, e.g. ``opt_state["momentum"].trace``,
    rather than a tuple whose positions shift with the options. ``update`` first checks
    that the gradients, state and parameters belong together (see :func:`checked`).
    """
    kept = [(name, piece) for name, piece in pieces if piece is not None]
    # The pieces' names and kinds of state determine the layout of the chain's state.
    kind = tuple((name, piece.init.__qualname__) for name, piece in kept)
    return checked(optax.named_chain(*kept), kind)


#: torch.optim's methods a PyTorch loop calls, and what an fnnet loop does instead
_TORCH_METHODS = {
    "step": "updates, opt_state = optimizer.update(grads, opt_state, params); params = "
            "optax.apply_updates(params, updates)",
    "zero_grad": "gradients come from jax.grad, never accumulated: nothing to zero",
    "state_dict": "the optimizer state is opt_state = optimizer.init(params), a pytree "
                  "(fnnet.interop.to_torch_optimizer_state gives PyTorch's dict)",
    "load_state_dict": "fnnet.interop.from_torch_optimizer_state gives opt_state from "
                       "PyTorch's dict",
    "param_groups": "optax.inject_hyperparams(fnnet.optim.SGD)(lr=...) makes "
                    "opt_state.hyperparams['lr'] changeable",
    "add_param_group": "give groups their own optimizer with optax.multi_transform",
}


class Optimizer(optax.GradientTransformationExtraArgs):  # type: ignore[misc]
    """An optax transformation (``init``, ``update``) that names the fnnet way when a
    PyTorch loop's method is asked of it (``optimizer.step()``, ``zero_grad()``)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        hint = _TORCH_METHODS.get(name)
        if hint is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}: "
                             f"fnnet optimizers are optax transformations (PyTorch's "
                             f"optimizer.{name}); {hint}")


def checked(tx: optax.GradientTransformation, kind: Any = None
            ) -> optax.GradientTransformationExtraArgs:
    """``tx`` whose ``update`` names the first parameter whose gradient or state does not
    fit, before any JAX error (e.g. another model's gradients or another optimizer's
    state). ``kind`` (hashable) identifies the layout of ``tx``'s state among every
    optimizer built alike (see :func:`~fnnet.nn.tree_check.check_optimizer_trees`).

    The check compares tree structures and shapes, cached per parameter layout, so it
    runs once per trace inside ``jit`` and costs a flatten of the trees outside it.
    """
    from fnnet.nn.tree_check import check_optimizer_trees

    cache: dict[Any, Any] = {}

    def update(updates: Any, state: Any, params: Any = None, **extra: Any) -> Any:
        check_optimizer_trees(tx.init, updates, state, params, cache, kind=kind)
        return tx.update(updates, state, params, **extra)

    return Optimizer(tx.init, update)


def negate(maximize: bool) -> optax.GradientTransformation | None:
    """PyTorch's ``maximize``: the gradient is negated before anything else."""
    return optax.scale(-1.0) if maximize else None


def add_weight_decay(weight_decay: Any) -> optax.GradientTransformation | None:
    """``grad + weight_decay * param`` (PyTorch's ``weight_decay``), or None when 0.

    Only a Python 0 is left out: an array (``inject_hyperparams``) may change later.
    """
    if isinstance(weight_decay, (int, float)) and weight_decay == 0:
        return None
    return optax.add_decayed_weights(weight_decay)
