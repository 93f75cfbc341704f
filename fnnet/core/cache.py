"""Compiled steps reused: one jitted function per structure of model, optimizer and loss.

``jax.jit`` caches compilations per function object, and ``make_train_step`` makes a new
function each call, so without a cache every ``fit`` compiles its step afresh. :class:`StepCache`
hands out the same jitted function for the same *structure*: two ``ResNet18()`` models,
two ``SGD(lr=0.1, momentum=0.9)`` optimizers and the same options give one key, so the
second ``fit`` or ``evaluate`` in the process finds the compiled program.

A structure's key (:func:`fingerprint`) is read from the objects themselves: a module's
class and attributes, a function's code and the values it closes over (an optax
optimizer is a pair of such closures: its hyperparameters are in them), recursively.
Anything it cannot read safely (a tracer, an object without attributes) is keyed by its
identity, which can only cost a compile, never reuse a step that computes otherwise.
"""

from __future__ import annotations

import collections
import functools
import threading
import types
from collections.abc import Callable, Hashable
from typing import Any, TypeVar, cast

import jax
import numpy as np

# Arrays captured by a model or optimizer up to this many elements are keyed by value;
# larger ones by identity.
T = TypeVar("T")

_MAX_ARRAY_SIZE = 4096
_MAX_DEPTH = 64
# A structure with more parts than this (a loss closing over a dataset...) is keyed by
# identity: reading it on every lookup would cost more than it saves.
_MAX_PARTS = 100_000


class _TooLarge(Exception):
    pass


class _Identity:
    """Keys an object by identity (and keeps it alive, so its id is not reused)."""

    __slots__ = ("obj",)

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def __hash__(self) -> int:
        return id(self.obj)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Identity) and other.obj is self.obj


def fingerprint(obj: Any) -> Hashable:
    """A hashable key equal for objects that compute the same thing.

    Args:
        obj: a model, optimizer, loss function, option or any nesting of them.

    Returns:
        A hashable key; equal keys mean equal classes, code and captured values.
    """
    try:
        return _fingerprint(obj, {"parts": 0}, 0)
    except _TooLarge:
        return _Identity(obj)


def _fingerprint(obj: Any, seen: dict[Any, int], depth: int) -> Hashable:
    seen["parts"] += 1
    if seen["parts"] > _MAX_PARTS:
        raise _TooLarge
    if obj is None or isinstance(obj, (bool, int, str, bytes, complex, type(Ellipsis))):
        return (type(obj), obj)
    if isinstance(obj, float):
        return (float, obj.hex())  # tells -0.0 from 0.0; NaN equals NaN
    if isinstance(obj, (type, types.ModuleType, types.CodeType)):
        return _Identity(obj)
    if isinstance(obj, jax.core.Tracer) or depth > _MAX_DEPTH:
        return _Identity(obj)
    if isinstance(obj, (np.ndarray, np.generic, jax.Array)):
        if (obj.size > _MAX_ARRAY_SIZE or obj.dtype == object
                or (isinstance(obj, jax.Array) and not obj.is_fully_addressable)):
            return _Identity(obj)
        host = np.asarray(obj)
        return ("array", type(obj), str(obj.dtype), host.shape, host.tobytes())
    if id(obj) in seen:  # a reference cycle (a module holding its parent, ...)
        return ("cycle", seen[id(obj)])
    seen[id(obj)] = depth
    try:
        return _composite(obj, seen, depth + 1)
    finally:
        del seen[id(obj)]


def _composite(obj: Any, seen: dict[Any, int], depth: int) -> Hashable:
    def key(x: Any) -> Hashable:
        return _fingerprint(x, seen, depth)

    if isinstance(obj, (tuple, list)):
        return (type(obj), tuple(key(x) for x in obj))
    if isinstance(obj, dict):
        return (type(obj), tuple((key(k), key(v)) for k, v in obj.items()))
    if isinstance(obj, (set, frozenset)):
        return (type(obj), frozenset(key(x) for x in obj))
    if isinstance(obj, types.FunctionType):
        cells = []
        for cell in obj.__closure__ or ():
            try:
                cells.append(key(cell.cell_contents))
            except ValueError:  # a cell not yet filled
                cells.append(("empty cell",))
        return ("function", _Identity(obj.__code__), key(obj.__defaults__),
                key(obj.__kwdefaults__), tuple(cells))
    if isinstance(obj, types.MethodType):
        return ("method", key(obj.__func__), key(obj.__self__))
    if isinstance(obj, functools.partial):
        return ("partial", key(obj.func), key(obj.args), key(obj.keywords))
    attributes = getattr(obj, "__dict__", None)
    if isinstance(attributes, dict) and not isinstance(obj, types.BuiltinFunctionType):
        return ("object", type(obj), key(attributes))
    return _Identity(obj)


class StepCache:
    """A bounded map from a structure's key to the step built for it.

    On a hit the stored objects are keyed again: a model changed in place since (a
    child replaced) no longer matches its entry, which is then built afresh.

    Attributes:
        hits: lookups answered from the cache.
        misses: lookups that built a step.
    """

    def __init__(self, maxsize: int = 64) -> None:
        if not isinstance(maxsize, int) or maxsize < 1:
            raise ValueError(f"StepCache: maxsize must be a positive int, got {maxsize!r}")
        self.maxsize = maxsize
        self.hits = 0
        self.misses = 0
        self._entries: collections.OrderedDict[Hashable, tuple[Any, Any]] = (
            collections.OrderedDict())
        self._lock = threading.Lock()

    def get(self, kind: str, parts: tuple[Any, ...], build: Callable[[], T]) -> T:
        """The step of ``kind`` for ``parts``, built by ``build()`` on a miss.

        Args:
            kind: what is built (``"train_step"``...), part of the key.
            parts: the model, optimizer, loss and options the step is built from.
            build: makes the step from ``parts``.

        Returns:
            The cached or newly built step.
        """
        key = (kind, fingerprint(parts))
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and fingerprint(entry[0]) == key[1]:
                self._entries.move_to_end(key)
                self.hits += 1
                return cast(T, entry[1])
        step = build()
        with self._lock:
            self.misses += 1
            self._entries[key] = (parts, step)
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        return step

    def clear(self) -> None:
        """Forgets every step (their compilations go with them)."""
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)


#: The steps built by :func:`fnnet.train.make_train_step`, ``make_eval_step``,
#: ``make_predict`` and ``create_train_state``'s init: one cache for the process, as
#: jax's own compilation cache is, so that separate ``fit`` calls share it.
STEPS = StepCache()
