"""Python scalars handed to compiled calls as device arrays, converted once.

jax converts a Python scalar argument of a jitted call again at every call, which costs
about what dispatching an argument does; a device array of the same (weak) type costs
only its own dispatch and keeps the call's signature. A loop's scalars mostly repeat
(the offsets of its batches each epoch, a learning rate written by hand), so the
recorder converts a value the second time it is recorded, and leaves values that
change every step (a counter) as they are, since converting costs more than one call's
conversion.
"""

from __future__ import annotations

import math
from typing import Any

import jax.numpy as jnp

#: values remembered; both tables are emptied when one grows past it
SIZE = 8192


class Scalars:
    """The device arrays of a recorder's repeated Python scalars (ints and floats)."""

    def __init__(self) -> None:
        self.arrays: dict[tuple[Any, ...], Any] = {}
        self.seen: set[tuple[Any, ...]] = set()

    def array(self, value: int | float) -> Any:
        """``value`` as a device array of the same weak type (or ``value`` itself where
        it does not fit, which the jitted call will then refuse with jax's message)."""
        key = _key(value)
        array = self.arrays.get(key)
        if array is None:
            try:
                array = jnp.asarray(value)
            except OverflowError:
                return value
            if len(self.arrays) > SIZE:
                self.arrays.clear()
            self.arrays[key] = array
        return array

    def recorded(self, value: int | float) -> Any:
        """``value`` as a source of a recorded step: its device array from the second
        time it is recorded, the Python value before."""
        key = _key(value)
        array = self.arrays.get(key)
        if array is not None:
            return array
        if key in self.seen:
            return self.array(value)
        if len(self.seen) > SIZE:
            self.seen.clear()
        self.seen.add(key)
        return value


def _key(value: int | float) -> tuple[Any, ...]:
    # the type keeps 1, 1.0 and True apart; the sign keeps 0.0 and -0.0 apart
    return (type(value), value, math.copysign(1.0, value) if value == 0 else 0)
