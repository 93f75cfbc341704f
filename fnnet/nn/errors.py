"""The exceptions of :mod:`fnnet.nn`, and the check of PRNG keys, in a module of their
own so that the modules that raise them (``module``, ``tree_check``, ``state_dict``,
``functional.dropout``, and ``fnnet.core``) import nothing from each other to get them."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp


class StateDictError(KeyError, ValueError):
    """Missing, unexpected or mis-shaped entries in a state dict.

    Both a KeyError (missing/unexpected names) and a ValueError (shapes), so either
    ``except`` catches it; the message lists every problem at once, as PyTorch's
    ``load_state_dict`` does.
    """

    def __str__(self) -> str:
        # KeyError would quote (repr) the message; show it as written.
        return str(self.args[0]) if self.args else ""


def check_key(key: Any, what: str) -> None:
    """Raises a TypeError unless ``key`` is a PRNG key: a typed key
    (``jax.random.key(seed)``) or a raw ``uint32[2]`` one (``jax.random.PRNGKey``)."""
    dtype = getattr(key, "dtype", None)
    if dtype is not None and (jnp.issubdtype(dtype, jax.dtypes.prng_key)
                              or (dtype == jnp.uint32 and key.shape[-1:] == (2,))):
        return
    got = (f"an array of dtype {dtype} and shape {tuple(key.shape)}" if dtype is not None
           else f"{type(key).__name__} {key!r}")
    raise TypeError(f"{what}: key must be a PRNG key, e.g. jax.random.key(0), got {got}")
