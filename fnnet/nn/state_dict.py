"""Converting between fnnet's ``(params, state)`` trees and PyTorch-style state dicts.

Because fnnet names and lays out parameters exactly as PyTorch does, a PyTorch
``state_dict`` loads with a rename from dotted names to nested dicts, never a transpose::

    params, state = fnnet.nn.load_state_dict(net, torch_net.state_dict())
    torch_net.load_state_dict(
        fnnet.interop.to_torch_state_dict(params, state, net, tensors=True))
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fnnet.nn.errors import StateDictError
from fnnet.nn.host import host_array
from fnnet.nn.module import Module
from fnnet.typing import Array, Params, PRNGKey, State


def _children(tree: Any, what: str, prefix: str) -> dict[str, Any]:
    if not isinstance(tree, Mapping):
        where = f" at {prefix[:-1]!r}" if prefix else ""
        raise TypeError(f"state_dict: {what} must be nested dicts, got "
                        f"{type(tree).__name__}{where}")
    return dict(tree)


# PyTorch registers a layer's parameters and buffers in this order. JAX rebuilds dicts
# with sorted keys (after jit, tree.map, ...), so the order is restored from it.
_LEAF_ORDER = {"weight": 0, "bias": 1, "running_mean": 2, "running_var": 3,
               "num_batches_tracked": 4}


def _flatten(params: Any, state: Any, module: Module | None, prefix: str,
             path: tuple[str, ...], out: dict[str, Array],
             where: dict[str, tuple[str, tuple[str, ...]]]) -> None:
    """Fills ``out`` (name -> leaf) and ``where`` (name -> (tree, path)) recursively."""
    params = _children(params, "params", prefix)
    state = _children(state, "state", prefix)
    # PyTorch's order: a module's own parameters, then its buffers, then its children.
    for tree_name, tree in (("params", params), ("state", state)):
        leaves = [n for n, v in tree.items() if not isinstance(v, Mapping)]
        for name in leaves:
            if not hasattr(tree[name], "shape"):
                raise TypeError(
                    f"state_dict: {tree_name} must be nested dicts of arrays, got "
                    f"{type(tree[name]).__name__} at {prefix + name!r}"
                )
        for name in sorted(leaves, key=lambda n: _LEAF_ORDER.get(n, len(_LEAF_ORDER))):
            full = prefix + name
            if full in out:
                raise ValueError(f"state_dict: {full!r} is both a parameter and a state "
                                 "entry")
            out[full] = tree[name]
            where[full] = (tree_name, (*path, name))
    children = dict(module.named_children()) if module is not None else {}
    names = list(children)
    for tree in (params, state):
        names += [n for n, v in tree.items() if isinstance(v, Mapping) and n not in names]
    if module is None and all(n.isdigit() for n in names):
        names.sort(key=int)  # Sequential/ModuleList: "10" after "9", not after "1"
    for name in names:
        sub_p, sub_s = params.get(name, {}), state.get(name, {})
        if isinstance(sub_p, Mapping) and isinstance(sub_s, Mapping):
            _flatten(sub_p, sub_s, children.get(name), f"{prefix}{name}.", (*path, name),
                     out, where)


def _layout(module: Module, key: PRNGKey) -> list[tuple[str, str, tuple[str, ...], Any]]:
    """``(name, tree, path, ShapeDtypeStruct)`` of every entry ``module.init`` makes, in
    PyTorch's order; traced abstractly (nothing is drawn)."""
    layout: list[tuple[str, str, tuple[str, ...], Any]] = []

    def trace(key: PRNGKey) -> tuple[Params, State]:
        params, state = module.init(key)
        out: dict[str, Array] = {}
        where: dict[str, tuple[str, tuple[str, ...]]] = {}
        _flatten(params, state, module, "", (), out, where)
        for name, leaf in out.items():
            layout.append((name, *where[name], jax.ShapeDtypeStruct(leaf.shape, leaf.dtype)))
        return params, state

    jax.eval_shape(trace, key)
    return layout


def state_dict(params: Params, state: State | None = None,
               module: Module | None = None) -> dict[str, Array]:
    """The flat ``{dotted name: array}`` dict PyTorch's ``model.state_dict()`` returns.

    Args:
        params: the parameter tree, e.g. ``{"fc1": {"weight": w, "bias": b}}``.
        state: the layer state tree (BatchNorm buffers), merged in beside the parameters.
        module: optional; when given, the entries come in exactly PyTorch's order (the
            module's declaration order, also where a child has only state). Without it,
            each layer's entries come in PyTorch's order (weight, bias, running_mean,
            running_var, num_batches_tracked) and Sequential/ModuleList children by
            index, but other children in the trees' order (sorted, after ``jax.jit``).

    Returns:
        e.g. ``{"fc1.weight": w, "fc1.bias": b, "bn.running_mean": ...}``; the arrays
        are the trees' own (no copy).

    Raises:
        TypeError: ``module`` is not an fnnet module.
        StateDictError: with ``module``, the trees lack entries it has (its parameters
            only, when ``state`` is None), hold others or of other shapes (trees of
            another model), every one named.

    PyTorch equivalent: ``torch.nn.Module.state_dict``.
    """
    if module is not None and not isinstance(module, Module):
        raise TypeError(f"state_dict: module must be an fnnet.nn.Module (it gives "
                        f"PyTorch's order), got {type(module).__name__}")
    out: dict[str, Array] = {}
    _flatten(params, {} if state is None else state, module, "", (), out, {})
    if module is None:
        return out
    layout = _layout(module, jax.random.key(0))
    order = [name for name, *_ in layout]
    rank = {name: i for i, name in enumerate(order)}
    # without a state, the parameters alone (gradients, say)
    missing = [name for name, tree, *_ in layout
               if name not in out and (state is not None or tree == "params")]
    unexpected = [name for name in out if name not in rank]
    shapes = [f'"{name}" of shape {tuple(np.shape(out[name]))}, the module\'s '
              f"{tuple(leaf.shape)}" for name, _, _, leaf in layout
              if name in out and tuple(np.shape(out[name])) != tuple(leaf.shape)]
    if missing or unexpected or shapes:
        problems = [f"{what} " + ", ".join(f'"{name}"' for name in names)
                    for what, names in (("missing", missing), ("unexpected", unexpected))
                    if names] + shapes
        raise StateDictError(f"state_dict: the trees do not fit {type(module).__name__} "
                             f"(another model's?): {'; '.join(problems)}")
    return {name: out[name] for name in sorted(out, key=rank.__getitem__)}


def _as_array(name: str, value: Any) -> Any:
    """jax arrays as they are; numpy arrays copied; torch tensors via ``.numpy()`` (no
    torch import), copied."""
    if isinstance(value, (np.generic, jax.Array, int, float)):
        return value
    if isinstance(value, np.ndarray):
        # jnp.asarray may alias an aligned numpy array's memory on the CPU (a torch
        # tensor's .numpy() view is one): writing to it later would change the params.
        return np.array(value)
    if isinstance(value, (list, tuple)):
        return np.asarray(value)
    if hasattr(value, "numpy"):
        # A copy: jnp.asarray aliases the tensor's memory on the CPU, so a later in-place
        # update in PyTorch (optimizer.step) would change the loaded params too.
        return host_array(value)
    raise TypeError(f"load_state_dict: {name!r} must be an array, got {type(value).__name__}")


def _dtype(value: Any) -> Any:
    return value.dtype if hasattr(value, "dtype") else np.asarray(value).dtype


def _castable(value: Any, target: Any) -> bool:
    """Whether ``value`` holds numbers that cast to ``target`` as torch's ``copy_``
    would: bools, integers and floats; not strings, objects or complex into reals."""
    dtype = _dtype(value)
    if dtype == np.bool_ or jnp.issubdtype(dtype, jnp.integer) \
            or jnp.issubdtype(dtype, jnp.floating):
        return True
    return jnp.issubdtype(dtype, jnp.complexfloating) and jnp.issubdtype(
        target, jnp.complexfloating)


def _set(tree: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for segment in path[:-1]:
        tree = tree.setdefault(segment, {})
    tree[path[-1]] = value


def _common_prefix(missing: list[str], unexpected: list[str]) -> str | None:
    """The dotted prefix (``module.``) that makes ``unexpected`` exactly ``missing``, if
    there is one: a checkpoint of a wrapped model."""
    if not missing or len(missing) != len(unexpected):
        return None
    first = unexpected[0]
    for index in range(len(first)):
        if first[index] == "." and first[index + 1:] in missing:
            prefix = first[:index + 1]
            stripped = {name.removeprefix(prefix) for name in unexpected
                        if name.startswith(prefix)}
            return prefix if stripped == set(missing) else None
    return None


def load_state_dict(module: Module, state_dict: Mapping[str, Any], strict: bool = True,
                    *, key: PRNGKey | None = None) -> tuple[Params, State]:
    """``(params, state)`` for ``module`` from a flat PyTorch-style state dict.

    Args:
        module: the fnnet module whose ``init`` defines the expected names and shapes.
        state_dict: ``{dotted name: array}``; numpy or jax arrays, or anything with a
            ``.numpy()`` method (PyTorch tensors, without importing torch). Values are
            cast to the dtype ``init`` makes (e.g. torch's int64 ``num_batches_tracked``
            to int32 unless ``jax_enable_x64``).
        strict: when True every expected name must be present and no other; when
            False missing entries are taken from ``module.init(key)`` and unexpected
            ones are ignored. Shapes must match either way.
        key: the PRNG key for ``module.init`` (default ``jax.random.key(0)``).

    Returns:
        ``(params, state)`` as ``module.init`` lays them out; ``state_dict(params,
        state)`` gives the same values back.

    Raises:
        StateDictError: (a KeyError and a ValueError) listing every missing key,
            unexpected key, shape mismatch (with expected and received shapes) and
            value that holds no real numbers (strings, objects, complex).
        TypeError: ``module`` is not an fnnet module; a value is not array-like.

    PyTorch equivalent: ``model.load_state_dict(state_dict, strict)``.
    """
    if not isinstance(module, Module):
        raise TypeError(f"load_state_dict: module must be an fnnet.nn.Module (its init "
                        f"gives the names and shapes), got {type(module).__name__}")
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"load_state_dict: state_dict must be a mapping of names to "
                        f"arrays, got {type(state_dict).__name__}")
    key = jax.random.key(0) if key is None else key
    expected = _layout(module, key)
    names = {name for name, *_ in expected}
    given = {name: _as_array(name, value) for name, value in state_dict.items()}

    missing = [name for name, *_ in expected if name not in given]
    unexpected = [name for name in given if name not in names]
    errors = []
    if strict and missing:
        errors.append("Missing key(s) in state_dict: "
                      + ", ".join(f'"{name}"' for name in missing) + ".")
    if strict and unexpected:
        errors.append("Unexpected key(s) in state_dict: "
                      + ", ".join(f'"{name}"' for name in unexpected) + ".")
    for name, _, _, leaf in expected:
        if name in given and not _castable(given[name], leaf.dtype):
            errors.append(f"dtype mismatch for {name}: copying a param of dtype "
                          f"{_dtype(given[name])} from checkpoint, the model holds "
                          f"{leaf.dtype} (a real number array is needed)")
        elif name in given and tuple(np.shape(given[name])) != tuple(leaf.shape):
            errors.append(
                f"size mismatch for {name}: copying a param with shape "
                f"{tuple(np.shape(given[name]))} from checkpoint, the shape in current "
                f"model is {tuple(leaf.shape)}."
            )
    prefix = _common_prefix(missing, unexpected)
    if strict and prefix:
        errors.append(f"Every unexpected key is a missing one under the prefix {prefix!r} "
                      f"(as DataParallel, DistributedDataParallel or torch.compile save "
                      f"them): strip it, e.g. {{k.removeprefix({prefix!r}): v for k, v "
                      f"in state_dict.items()}}.")
    if errors:
        raise StateDictError(f"Error(s) in loading state_dict for {type(module).__name__}:"
                             "\n\t" + "\n\t".join(errors))

    defaults = module.init(key) if missing else ({}, {})
    params: Params = {}
    state: State = {}
    for name, tree, path, leaf in expected:
        value: Any
        if name in given:
            value = jnp.asarray(given[name], dtype=leaf.dtype)
        else:
            value = defaults[0 if tree == "params" else 1]
            for segment in path:
                value = value[segment]
        _set(params if tree == "params" else state, path, value)
    return params, state
