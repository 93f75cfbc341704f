"""SGD and Adam optimizer state from and to ``torch.optim.Optimizer.state_dict()``.

PyTorch keeps one dict per parameter, keyed by the parameter's position in
``model.parameters()``::

    {"state": {0: {"momentum_buffer": t}, ...},                       # SGD
     "state": {0: {"step": t, "exp_avg": t, "exp_avg_sq": t}, ...},     # Adam, AdamW
     "param_groups": [{"lr": ..., ..., "params": [0, 1, ...]}]}

fnnet.optim keeps whole trees shaped like the parameters inside its optax state:
``TraceState.trace`` or ``MomentumState.momentum_buffer`` (SGD), ``ScaleByAdamState``
(``count``, ``mu``, ``nu``) or ``ScaleByAmsgradState`` (Adam). The conversion finds
these pieces wherever they sit in the state (``named_chain``, ``inject_hyperparams``)
and maps tree leaves to parameter positions in PyTorch's order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from fnnet.nn.host import host_array, torch_tensor
from fnnet.nn.module import Module
from fnnet.nn.state_dict import state_dict as flatten
from fnnet.optim.transforms import MomentumState, ScaleByAmsgradState
from fnnet.typing import Params

# torch.optim's param_group entries and defaults (PyTorch 2.x), per optimizer kind.
SGD_GROUP = {"lr": 1e-3, "momentum": 0, "dampening": 0, "weight_decay": 0, "nesterov": False,
             "maximize": False, "foreach": None, "differentiable": False, "fused": None}
ADAM_GROUP = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0,
              "amsgrad": False, "maximize": False, "foreach": None, "capturable": False,
              "differentiable": False, "fused": None, "decoupled_weight_decay": False}
PIECES = (optax.TraceState, MomentumState, optax.ScaleByAdamState, ScaleByAmsgradState)
# The per-parameter entries PyTorch keeps for each piece.
TORCH_KEYS = {
    optax.TraceState: ("momentum_buffer",),
    MomentumState: ("momentum_buffer",),
    optax.ScaleByAdamState: ("step", "exp_avg", "exp_avg_sq"),
    ScaleByAmsgradState: ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
}


def _map_pieces(tree: Any, fn: Callable[[Any], Any]) -> Any:
    """``tree`` with every SGD/Adam piece replaced by ``fn(piece)``; containers kept."""
    if isinstance(tree, PIECES):
        return fn(tree)
    if isinstance(tree, Mapping):
        # Any: the mapping's own type is rebuilt from pairs, as dict and its subclasses are.
        rebuild: Callable[..., Any] = type(tree)
        return rebuild((k, _map_pieces(v, fn)) for k, v in tree.items())
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return type(tree)(*(_map_pieces(v, fn) for v in tree))
    if isinstance(tree, (tuple, list)):
        return type(tree)(_map_pieces(v, fn) for v in tree)
    return tree


def _pieces(opt_state: Any) -> list[Any]:
    found: list[Any] = []

    def collect(piece: Any) -> Any:
        found.append(piece)
        return piece

    _map_pieces(opt_state, collect)
    return found


def _is_optax_state(tree: Any) -> bool:
    """Whether ``tree`` is an optax state (a NamedTuple) or a chain of them."""
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return True
    if isinstance(tree, Mapping):
        return all(_is_optax_state(v) for v in tree.values())
    if isinstance(tree, tuple | list):
        return all(_is_optax_state(v) for v in tree)
    return False


def _check_supported(opt_state: Any, what: str) -> None:
    """Raises NotImplementedError when ``opt_state`` keeps per-parameter arrays outside
    the SGD/Adam pieces (RMSprop's ``nu``, Adagrad's ``sum``...), which would otherwise
    be read as a momentum-free SGD state and dropped."""
    unsupported: list[str] = []
    is_state = _is_optax_state
    if not is_state(opt_state):
        raise TypeError(f"{what}: opt_state must be an optimizer state (optimizer.init("
                        f"params) or what update returned), got {type(opt_state).__name__}")

    def visit(tree: Any) -> None:
        if isinstance(tree, PIECES):
            return
        if not (isinstance(tree, tuple) and hasattr(tree, "_fields")):
            for child in (tree.values() if isinstance(tree, Mapping) else tree):
                visit(child)
            return
        for field in tree:  # states nest; other fields are the state's own data
            if is_state(field):
                visit(field)
            elif any(np.ndim(leaf) > 0 for leaf in jax.tree.leaves(field)):
                unsupported.append(type(tree).__name__)
                return

    if is_state(opt_state):
        visit(opt_state)
    if unsupported:
        raise NotImplementedError(
            f"{what}: the optimizer state {', '.join(unsupported)} has no conversion; "
            "fnnet.optim's SGD, Adam and AdamW states convert to and from PyTorch's (save "
            "the whole state with fnnet.checkpoint.Checkpointer instead)")


def _injected(opt_state: Any) -> dict[str, Any]:
    """The hyperparameters ``optax.inject_hyperparams`` keeps in ``opt_state`` (PyTorch's
    ``param_groups[0]`` entries of the same names), or {} when they are not injected."""
    if isinstance(opt_state, tuple) and hasattr(opt_state, "hyperparams") \
            and hasattr(opt_state, "inner_state"):
        return dict(opt_state.hyperparams)
    return {}


def _with_group(opt_state: Any, group: Mapping[str, Any]) -> Any:
    """``opt_state`` with its injected hyperparameters set to ``group``'s values, as
    PyTorch's ``load_state_dict`` restores the parameter group (the learning rate a
    scheduler left, say). Those an optax schedule computes each step are kept."""
    injected = _injected(opt_state)
    scheduled = set(getattr(opt_state, "hyperparams_states", {}))
    values = {}
    for name, value in injected.items():
        given = group.get(name)
        if name in scheduled or given is None or isinstance(given, bool):
            continue
        array = host_array(given)
        if array.size != 1 or array.dtype.kind not in "iuf":
            raise ValueError(f"from_torch_optimizer_state: param_groups[0][{name!r}] must "
                             f"be a number, got {given!r}")
        values[name] = jnp.asarray(array.reshape(()), dtype=jnp.asarray(value).dtype)
    return opt_state._replace(hyperparams={**injected, **values}) if values else opt_state


def _decays(opt_state: Any) -> tuple[bool, bool] | None:
    """``(L2, decoupled)``: whether fnnet.optim's chain in ``opt_state`` decays the
    weights, and how; None for a chain fnnet.optim did not build."""
    injected = _injected(opt_state)
    if injected:
        opt_state = opt_state.inner_state
    if not (isinstance(opt_state, Mapping) and set(opt_state) & {"adam", "momentum", "lr"}):
        return None
    return "weight_decay" in opt_state, "decoupled_weight_decay" in opt_state


def _check_decay(opt_state: Any, group: Mapping[str, Any]) -> None:
    """Raises a ValueError where the torch group decays the weights (``weight_decay``,
    ``decoupled_weight_decay``) and the fnnet optimizer does not, or another way: the
    run would go on with another rule (torch's AdamW state into ``fnnet.optim.Adam``)."""
    decays = _decays(opt_state)
    weight_decay = group.get("weight_decay", 0)
    if decays is None or isinstance(weight_decay, bool) or not weight_decay:
        return
    decoupled = bool(group.get("decoupled_weight_decay", False))
    if decays[decoupled]:
        return
    kind = "a decoupled (AdamW's)" if decoupled else "an L2 (added to the gradient)"
    raise ValueError(f"from_torch_optimizer_state: the torch optimizer has {kind} "
                     f"weight_decay={weight_decay} that the fnnet optimizer lacks; build it "
                     "with the same hyperparameters (e.g. fnnet.optim.AdamW(weight_decay="
                     f"{weight_decay}) for torch.optim.AdamW)")


def _kind(pieces: list[Any]) -> str:
    kinds = {"sgd" if isinstance(p, (optax.TraceState, MomentumState)) else "adam"
             for p in pieces}
    if len(pieces) > 1 or len(kinds) > 1:
        raise ValueError(f"optimizer state: expected at most one SGD momentum or Adam "
                         f"moment piece, found {[type(p).__name__ for p in pieces]}")
    return kinds.pop() if kinds else "sgd"


def _names(params: Params, module: Module | None) -> list[str]:
    """Parameter names in ``model.parameters()`` order (PyTorch's registration order)."""
    return list(flatten(params, None, module))


def _per_param_trees(piece: Any) -> dict[str, Any]:
    """The trees of ``piece`` under their PyTorch names."""
    if isinstance(piece, optax.TraceState):
        return {"momentum_buffer": piece.trace}
    if isinstance(piece, MomentumState):
        return {"momentum_buffer": piece.momentum_buffer}
    if isinstance(piece, optax.ScaleByAdamState):
        return {"exp_avg": piece.mu, "exp_avg_sq": piece.nu}
    return {"exp_avg": piece.exp_avg, "exp_avg_sq": piece.exp_avg_sq,
            "max_exp_avg_sq": piece.max_exp_avg_sq}


def _steps(piece: Any) -> int | None:
    """Updates taken so far, or None where the piece does not count them (trace)."""
    if isinstance(piece, MomentumState):
        return int(piece.count)
    if isinstance(piece, optax.ScaleByAdamState):
        return int(piece.count)
    if isinstance(piece, ScaleByAmsgradState):
        return int(piece.step)
    return None


def to_torch_optimizer_state(
    module: Module,
    params: Params,
    opt_state: Any,
    *,
    tensors: bool = False,
    **param_group: Any,
) -> dict[str, Any]:
    """``torch.optim`` SGD/Adam ``state_dict()`` from fnnet.optim's state.

    Args:
        module: the fnnet model; gives PyTorch's parameter order.
        params: the parameter tree the optimizer updates.
        opt_state: the state of ``fnnet.optim.SGD``, ``Adam`` or ``AdamW`` (also inside
            ``optax.inject_hyperparams`` or a chain).
        tensors: torch tensors (imports torch; needed by torch's ``load_state_dict``)
            instead of numpy arrays.
        **param_group: the hyperparameters for ``param_groups[0]`` (``lr``,
            ``momentum``, ``betas``, ...). Those not given are read from the state
            where ``optax.inject_hyperparams`` keeps them (the current learning rate
            included), ``decoupled_weight_decay`` from AdamW's chain; others take
            torch's defaults.

    Returns:
        ``{"state": {index: {...}}, "param_groups": [{..., "params": [0, 1, ...]}]}``.
        Before the first step the state is empty, as in PyTorch (except for SGD
        momentum kept by ``optax.trace``, which counts no steps: its buffer is given
        as it is, zeros before the first step, from which PyTorch's next step computes
        what it would have without it). Adam's ``step`` is a float32 scalar, as torch
        stores it.

    Raises:
        ValueError: the state holds no recognised SGD/Adam piece but several, or the
            trees do not match ``params``.
        TypeError: an unknown ``param_group`` entry.

    PyTorch equivalent: ``optimizer.state_dict()``.
    """
    _check_supported(opt_state, "to_torch_optimizer_state")
    pieces = _pieces(opt_state)
    kind = _kind(pieces)
    defaults = SGD_GROUP if kind == "sgd" else ADAM_GROUP
    unknown = sorted(set(param_group) - set(defaults))
    if unknown:
        raise TypeError(f"to_torch_optimizer_state: unknown {kind} param_group entries "
                        f"{unknown}; expected some of {sorted(defaults)}")
    names = _names(params, module)
    state: dict[int, dict[str, Any]] = {}
    if pieces and _steps(pieces[0]) != 0:
        piece = pieces[0]
        trees = {key: flatten(tree, None, module) for key, tree in
                 _per_param_trees(piece).items()}
        for key, flat in trees.items():
            if list(flat) != names:
                raise ValueError(f"optimizer state: {key} has entries {list(flat)}, "
                                 f"expected the parameters {names}")
        steps = _steps(piece)
        for index, name in enumerate(names):
            entry: dict[str, Any] = {}
            if steps is not None and isinstance(piece, (optax.ScaleByAdamState,
                                                        ScaleByAmsgradState)):
                entry["step"] = np.array(steps, np.float32)
            for key, flat in trees.items():
                entry[key] = np.array(flat[name], copy=True)
            state[index] = entry
    # the shortest decimal of each float32 value, so that an injected 0.9 reads 0.9
    injected = {name: float(str(np.asarray(value)[()]))
                for name, value in _injected(opt_state).items() if name in defaults}
    decays = _decays(opt_state)
    if kind == "adam" and decays is not None and decays[1]:  # AdamW's chain
        injected.setdefault("decoupled_weight_decay", True)
    group = {**defaults, **injected, **param_group, "params": list(range(len(names)))}
    if tensors:
        state = {i: {k: torch_tensor(v) for k, v in entry.items()}
                 for i, entry in state.items()}
    return {"state": state, "param_groups": [group]}


def from_torch_optimizer_state(
    module: Module,
    params: Params,
    optimizer: optax.GradientTransformation,
    torch_state: Mapping[str, Any],
) -> Any:
    """fnnet.optim's state from a ``torch.optim`` SGD/Adam ``state_dict()``.

    Args:
        module: the fnnet model; gives PyTorch's parameter order.
        params: the parameter tree (e.g. from :func:`from_torch_state_dict`).
        optimizer: the fnnet optimizer built with the same hyperparameters as the torch
            one (``fnnet.optim.SGD(lr=0.1, momentum=0.9)``); its ``init(params)`` gives
            the state's structure.
        torch_state: ``torch_optimizer.state_dict()`` (tensors or arrays), one
            parameter group.

    Returns:
        The optax state, so that the next ``optimizer.update`` continues exactly where
        PyTorch's next ``optimizer.step()`` would. Hyperparameters injected with
        ``optax.inject_hyperparams`` take ``param_groups[0]``'s values, as PyTorch's
        ``load_state_dict`` restores them (the rate a scheduler left, say); an injected
        optax schedule keeps computing its own.

    Raises:
        ValueError: several parameter groups, a parameter count that differs, an
            injected hyperparameter whose ``param_groups[0]`` entry is no number, a
            weight decay the fnnet optimizer lacks (torch's AdamW state for
            ``fnnet.optim.Adam``, or any ``weight_decay`` for an optimizer built
            without), a state
            of another optimizer kind (Adam moments for SGD...), entries missing for
            some parameters only, Adam steps that differ between parameters, shapes
            that differ (each listed with the expected and received shape), or values
            that hold no real numbers (strings, objects).
        TypeError: ``torch_state`` is not an optimizer state dict.

    PyTorch equivalent: ``optimizer.load_state_dict(state)``.
    """
    if not isinstance(torch_state, Mapping) or "state" not in torch_state \
            or "param_groups" not in torch_state:
        raise TypeError("from_torch_optimizer_state: torch_state must be the dict "
                        "optimizer.state_dict() returns, with 'state' and 'param_groups', "
                        f"got {type(torch_state).__name__}")
    groups = torch_state["param_groups"]
    if len(groups) != 1:
        raise ValueError(f"from_torch_optimizer_state: expected 1 parameter group, got "
                         f"{len(groups)}; fnnet's optimizer updates all parameters alike")
    names = _names(params, module)
    indices = list(groups[0]["params"])
    if len(indices) != len(names):
        raise ValueError(f"from_torch_optimizer_state: the torch optimizer has "
                         f"{len(indices)} parameters, the model has {len(names)}")
    template = optimizer.init(params)
    _check_supported(template, "from_torch_optimizer_state")
    _check_decay(template, groups[0])
    pieces = _pieces(template)
    kind = _kind(pieces)
    entries = [dict(torch_state["state"].get(index, {})) for index in indices]
    given = sorted({key for entry in entries for key in entry})
    if not pieces:
        if given:
            raise ValueError(f"from_torch_optimizer_state: the torch state holds {given} "
                             "but the fnnet optimizer keeps no per-parameter state")
        return _with_group(template, groups[0])
    expected = TORCH_KEYS[type(pieces[0])]
    if given and sorted(expected) != given:
        raise ValueError(f"from_torch_optimizer_state: the torch state holds {given}, the "
                         f"fnnet {kind} state ({type(pieces[0]).__name__}) needs "
                         f"{sorted(expected)}")
    empty = [name for name, entry in zip(names, entries, strict=True) if not entry]
    if given and empty:
        raise ValueError(f"from_torch_optimizer_state: no torch state for {empty} while "
                         "other parameters have some; fnnet counts steps for all at once")
    filled = _map_pieces(template, lambda piece: _filled(piece, names, entries, module))
    return _with_group(filled, groups[0])


def _filled(piece: Any, names: list[str], entries: list[dict[str, Any]],
            module: Module | None) -> Any:
    """``piece`` with its trees (and step count) taken from the torch entries."""
    trees = _per_param_trees(piece)
    if not entries[0]:  # no step taken yet: the template is the state
        return piece
    errors = []
    values: dict[str, dict[str, Any]] = {}
    for key, tree in trees.items():
        flat = flatten(tree, None, module)
        values[key] = {}
        for name, entry in zip(names, entries, strict=True):
            array = host_array(entry[key])
            if array.dtype.kind not in "biuf" and not jnp.issubdtype(array.dtype,
                                                                     jnp.floating):
                errors.append(f"{key} of {name} holds no real numbers (dtype "
                              f"{array.dtype})")
            elif array.shape != tuple(flat[name].shape):
                errors.append(f"size mismatch for {key} of {name}: copying a state with "
                              f"shape {array.shape}, the parameter has shape "
                              f"{tuple(flat[name].shape)}")
            values[key][name] = array
    counts = [host_array(entry["step"]) for entry in entries if "step" in entry]
    if any(c.size != 1 or c.dtype.kind not in "iuf" or not np.isfinite(c).all()
           for c in counts):
        errors.append("every 'step' must be one finite number")
        raise ValueError("from_torch_optimizer_state:\n\t" + "\n\t".join(errors))
    steps = sorted({int(c.reshape(())) for c in counts})
    if len(steps) > 1:
        errors.append(f"Adam steps differ between parameters ({steps}); fnnet keeps one count")
    if errors:
        raise ValueError("from_torch_optimizer_state:\n\t" + "\n\t".join(errors))

    def rebuilt(key: str) -> Any:
        def leaf(path: Any, old: Any) -> Any:
            name = ".".join(str(getattr(p, "key", getattr(p, "idx", p))) for p in path)
            return jnp.asarray(values[key][name], dtype=old.dtype)

        return jax.tree_util.tree_map_with_path(leaf, trees[key])

    if isinstance(piece, optax.TraceState):
        return optax.TraceState(trace=rebuilt("momentum_buffer"))
    if isinstance(piece, MomentumState):
        return MomentumState(momentum_buffer=rebuilt("momentum_buffer"),
                             count=jnp.ones_like(piece.count))
    count = jnp.asarray(steps[0], dtype=jnp.asarray(
        piece.count if isinstance(piece, optax.ScaleByAdamState) else piece.step).dtype)
    if isinstance(piece, optax.ScaleByAdamState):
        return optax.ScaleByAdamState(count=count, mu=rebuilt("exp_avg"),
                                      nu=rebuilt("exp_avg_sq"))
    return ScaleByAmsgradState(step=count, exp_avg=rebuilt("exp_avg"),
                               exp_avg_sq=rebuilt("exp_avg_sq"),
                               max_exp_avg_sq=rebuilt("max_exp_avg_sq"))
