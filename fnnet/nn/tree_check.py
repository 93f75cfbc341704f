"""Checks that the trees handed to ``apply`` are the ones ``init`` makes.

A parameter tree with a missing entry, an extra one or a wrong shape would otherwise
fail deep inside a layer (``KeyError: 'weight'``), or, worse, run: a ``[1]`` bias
broadcasts silently. :func:`check_trees` compares the names and shapes of ``params``
and ``state`` with those of ``init`` (traced abstractly with ``jax.eval_shape``, once
per module and cached) and names every difference at once. It looks at shapes only,
never at values or dtypes (parameters cast to bfloat16 are fine), so it costs nothing
inside ``jit`` beyond the first trace.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import jax
import numpy as np

from fnnet.nn.errors import StateDictError

# module -> (repr when traced, (params, state) of ShapeDtypeStructs). The repr changes
# when a child is replaced or a size changes, which then traces init again.
_EXPECTED: weakref.WeakKeyDictionary[Any, tuple[str, tuple[Any, Any]]] = \
    weakref.WeakKeyDictionary()


def _expected(module: Any, fresh: bool = False) -> tuple[Any, Any]:
    fingerprint = repr(module)
    cached = None if fresh else _EXPECTED.get(module)
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    trees: tuple[Any, Any] = jax.eval_shape(module.init, jax.random.key(0))
    try:
        _EXPECTED[module] = (fingerprint, trees)
    except TypeError:  # a module that cannot be weakly referenced: no cache
        pass
    return trees


def _shapes(tree: Any, what: str, prefix: str, out: dict[str, tuple[int, ...]]) -> None:
    """Fills ``out`` with ``{dotted name: shape}`` of the leaves of a nested dict."""
    if not isinstance(tree, Mapping):
        where = f" at {prefix[:-1]!r}" if prefix else ""
        raise TypeError(f"{what} must be nested dicts of arrays (as init returns), got "
                        f"{type(tree).__name__}{where}")
    for name, value in tree.items():
        if isinstance(value, Mapping):
            _shapes(value, what, f"{prefix}{name}.", out)
        elif hasattr(value, "shape"):
            out[f"{prefix}{name}"] = tuple(value.shape)
        else:
            raise TypeError(f"{what} must be nested dicts of arrays (as init returns), got "
                            f"{type(value).__name__} at {prefix + str(name)!r}")


def _differences(given: Any, expected: Any, what: str) -> list[str]:
    have: dict[str, tuple[int, ...]] = {}
    want: dict[str, tuple[int, ...]] = {}
    _shapes(given, what, "", have)
    _shapes(expected, what, "", want)
    problems = [f'missing {what} entry "{name}"' for name in want if name not in have]
    problems += [f'unexpected {what} entry "{name}"' for name in have if name not in want]
    problems += [f'{what} entry "{name}" has shape {have[name]}, expected {want[name]}'
                 for name in want if name in have and have[name] != want[name]]
    return problems


def check_trees(module: Any, params: Any, state: Any, what: str | None = None) -> None:
    """Raises when ``params`` or ``state`` differ from what ``module.init`` makes.

    Args:
        module: the module being applied.
        params: the parameter tree passed to ``apply``.
        state: the layer state passed to ``apply``.
        what: the call, for messages (default ``<Model>.apply``).

    Raises:
        TypeError: ``params`` or ``state`` is not a nested dict of arrays.
        StateDictError: (a KeyError and a ValueError) listing every missing entry,
            unexpected entry and shape mismatch by its dotted ``state_dict`` name.
    """
    _shapes(params, "params", "", {})
    _shapes(state, "state", "", {})
    expected = _expected(module)
    problems = (_differences(params, expected[0], "params")
                + _differences(state, expected[1], "state"))
    if problems:
        # The module may have changed without its repr changing: trace init afresh
        # before blaming the trees.
        expected = _expected(module, fresh=True)
        problems = (_differences(params, expected[0], "params")
                    + _differences(state, expected[1], "state"))
    if problems:
        what = what or f"{type(module).__name__}.apply"
        raise StateDictError(f"{what}: the trees do not match the ones init returns: "
                             + "; ".join(problems))


# -- optimizer trees -------------------------------------------------------------------

# (optimizer kind, parameter layout, state layout) triples found to belong together. A
# pair found valid for one optimizer holds for any other of the same kind (built from
# the same pieces): fnnet.torch builds a new optimizer for every trace, and would
# otherwise trace ``init`` again each time. Without the kind, an SGD state once checked
# against an SGD passed for an Adam's too.
_VERIFIED: dict[tuple[Any, Any, Any], None] = {}
# (optimizer kind, parameter layout) -> the state layout its init makes
_LAYOUTS: dict[tuple[Any, Any], Any] = {}
_VERIFIED_SIZE = 4096


def dotted(path: tuple[Any, ...]) -> str:
    """``fc1.weight`` for a tree path (dict keys, sequence indices, NamedTuple fields)."""
    parts = [getattr(k, "key", getattr(k, "idx", getattr(k, "name", k))) for k in path]
    return ".".join(str(p) for p in parts)


def is_numeric(leaf: Any) -> bool:
    """Whether ``leaf`` is a number or an array of numbers (bool, integer, float, complex),
    as opposed to a str, an object array or any other value JAX cannot compute with."""
    if isinstance(leaf, bool | int | float | complex):
        return True
    dtype = getattr(leaf, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.kind in "biufc":  # numpy's own kinds, fast
        return True
    # bfloat16 and the float8 types are numbers to JAX, of numpy's kind "V".
    return dtype is not None and bool(jax.numpy.issubdtype(dtype, jax.numpy.number)
                                      or jax.numpy.issubdtype(dtype, jax.numpy.bool_))


def first_leaf(tree: Any, test: Callable[[Any], bool]) -> tuple[str, Any] | None:
    """The dotted name (``fc1.weight``; ``''`` for a tree that is one leaf) and the value
    of the first leaf of ``tree`` that passes ``test``, or None where none does."""
    for path, leaf in jax.tree_util.tree_leaves_with_path(tree):
        if test(leaf):
            return dotted(path), leaf
    return None


def _signature(tree: Any) -> tuple[Any, tuple[Any, ...]]:
    """``(treedef, ((shape, dtype), ...))`` of a tree of arrays: its cache key."""
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    return treedef, tuple((x.shape, x.dtype) if hasattr(x, "dtype") else
                          (jax.numpy.shape(x), jax.numpy.result_type(x)) for x in leaves)


def _fits(given: tuple[Any, tuple[Any, ...]], want: tuple[Any, tuple[Any, ...]]) -> bool:
    """Whether a signature fits another: equal, or equal up to floating-point widths."""
    if given == want:
        return True
    return given[0] == want[0] and all(
        tuple(g[0]) == tuple(w[0]) and jax.numpy.issubdtype(g[1], jax.numpy.inexact)
        == jax.numpy.issubdtype(w[1], jax.numpy.inexact)
        for g, w in zip(given[1], want[1], strict=True))


def _leaf_problem(given: Any, want: Any, strict_dtype: bool) -> str | None:
    shape, want_shape = tuple(jax.numpy.shape(given)), tuple(want.shape)
    if shape != want_shape:
        return f"has shape {shape}, expected {want_shape}"
    dtype, want_dtype = jax.numpy.result_type(given), jax.numpy.dtype(want.dtype)
    inexact = jax.numpy.issubdtype(want_dtype, jax.numpy.inexact)
    if (strict_dtype and dtype != want_dtype) or (
            inexact != jax.numpy.issubdtype(dtype, jax.numpy.inexact)):
        return f"has dtype {dtype}, expected {want_dtype}"
    return None


def _first_difference(given: Any, expected: Any, strict_dtype: bool) -> str | None:
    """The first leaf (by path) where ``given`` differs from ``expected``, described."""
    have = dict((dotted(p), x) for p, x in jax.tree_util.tree_flatten_with_path(given)[0])
    want = dict((dotted(p), x) for p, x in jax.tree_util.tree_flatten_with_path(expected)[0])
    for name, leaf in want.items():
        if name not in have:
            return f'has no entry "{name}"' if name else "is not an array"
        problem = _leaf_problem(have[name], leaf, strict_dtype)
        if problem:
            return f'entry "{name}" {problem}' if name else problem
    extra = [name for name in have if name not in want]
    if extra:
        return f'has an unexpected entry "{extra[0]}"'
    # object: jaxlib's PyTreeDef has no type information for mypy to compare with.
    given_def: object = jax.tree_util.tree_structure(given)
    expected_def: object = jax.tree_util.tree_structure(expected)
    if given_def != expected_def:
        return f"is a {given_def}, expected {expected_def}"
    return None


def check_optimizer_trees(init: Any, grads: Any, opt_state: Any, params: Any,
                          cache: dict[Any, Any], what: str = "optimizer.update",
                          kind: Hashable | None = None) -> None:
    """Raises when an optimizer's gradients, state and parameters do not belong together.

    ``grads`` must have the structure and shapes of ``params`` (floating point where the
    parameters are), and ``opt_state`` those of ``init(params)`` (traced abstractly and
    cached in ``cache`` by the parameters' structure, shapes and dtypes; a layout pair
    once found valid is remembered). On the happy path this costs one flatten of each
    tree and a dict lookup: inside ``jit`` it runs at trace time only.

    Args:
        init: the optimizer's ``init``.
        grads: the gradient tree handed to ``update``.
        opt_state: the optimizer state handed to ``update``.
        params: the parameter tree, or None (then ``grads`` gives the shapes).
        cache: a dict the caller keeps per optimizer.
        what: the call, for messages.
        kind: what determines the layout ``init`` makes (the optimizer's pieces), for
            a check shared by every optimizer of that kind; None: this optimizer only.

    Raises:
        ValueError: naming the first parameter (or state entry) that differs, what it
            is and what was expected.
    """
    reference = grads if params is None else params
    key = _signature(reference)
    if params is not None and not _fits(_signature(grads), key):
        problem = _first_difference(grads, _abstract(params), strict_dtype=False)
        raise ValueError(f"{what}: the gradients do not match the parameters: the "
                         f"gradient {problem}. Were they computed for another model?")
    state_key = _signature(opt_state)
    verified = (kind, key, state_key)
    if verified in (_VERIFIED if kind is not None else cache):
        return
    # the layout init makes, kept with the kind where there is one: an optimizer's own
    # dict is part of what keys its compiled steps (fnnet.core.cache), and filling it
    # would make a used optimizer differ from a fresh one built alike
    layouts, layout_key = (cache, key) if kind is None else (_LAYOUTS, (kind, key))
    expected = layouts.get(layout_key)
    if expected is None:
        if kind is not None and len(_LAYOUTS) >= _VERIFIED_SIZE:
            _LAYOUTS.clear()
        expected = layouts[layout_key] = jax.eval_shape(init, _abstract(reference))
    if not _fits(state_key, _signature(expected)):
        problem = _first_difference(opt_state, expected, strict_dtype=False)
        raise ValueError(f"{what}: the optimizer state does not match the parameters: the "
                         f"state {problem} (what optimizer.init(params) makes). Was it "
                         "made for another model or optimizer?")
    if kind is None:
        cache[verified] = None
        return
    if len(_VERIFIED) >= _VERIFIED_SIZE:
        _VERIFIED.clear()
    _VERIFIED[verified] = None


def _abstract(tree: Any) -> Any:
    return jax.tree.map(
        lambda x: jax.ShapeDtypeStruct(jax.numpy.shape(x), jax.numpy.result_type(x)), tree)
