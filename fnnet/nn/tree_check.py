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
from collections.abc import Mapping
from typing import Any

import jax

# module -> (repr when traced, (params, state) of ShapeDtypeStructs). The repr changes
# when a child is replaced or a size changes, which then traces init again.
_EXPECTED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _expected(module: Any, fresh: bool = False) -> tuple[Any, Any]:
    fingerprint = repr(module)
    cached = None if fresh else _EXPECTED.get(module)
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    trees = jax.eval_shape(module.init, jax.random.key(0))
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


def check_trees(module: Any, params: Any, state: Any) -> None:
    """Raises when ``params`` or ``state`` differ from what ``module.init`` makes.

    Args:
        module: the module being applied.
        params: the parameter tree passed to ``apply``.
        state: the layer state passed to ``apply``.

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
        from fnnet.nn.state_dict import StateDictError

        raise StateDictError(f"{type(module).__name__}.apply: the trees do not match the "
                             "ones init returns: " + "; ".join(problems))
