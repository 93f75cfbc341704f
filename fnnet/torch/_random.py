"""The shim's global PRNG, seeded by ``torch.manual_seed``.

One jax key drives everything random in fnnet.torch: parameter initialisation and
``torch.randn`` split it eagerly; Dropout inside a recorded step folds a per-draw index
into the tape's copy of the key, and the flushed step returns the advanced key, so the
key is threaded through compiled steps like any other state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import numpy as np


def advance(key: jax.Array) -> jax.Array:
    """The key after one flushed step (a pure op recorded at each flush that drew keys)."""
    return jax.random.fold_in(key, 0x7FFFFFFF)


def fold(key: jax.Array, draw: int) -> jax.Array:
    """The key of one draw inside a step."""
    return jax.random.fold_in(key, draw)


class _State:
    """Holds the global key; also the writeback target of flushed steps.

    The key is made on first use, not at import: making it starts JAX's backend, which
    ``torch.distributed.init_process_group`` (in a process ``torch.multiprocessing.spawn``
    started, say) must still be able to configure after ``import torch``.
    """

    def __init__(self, seed: int) -> None:
        self._key: jax.Array | None = None
        self.seed(seed)

    def seed(self, seed: int) -> None:
        self.initial_seed = int(seed)
        self._key = None

    @property
    def key(self) -> jax.Array:
        if self._key is None:
            self._key = jax.random.key(self.initial_seed % (2**32))
        return self._key

    @key.setter
    def key(self, value: jax.Array) -> None:
        self._key = value

    @property
    def aval(self) -> tuple[tuple[int, ...], Any, bool]:
        return ((), self.key.dtype, False)

    def write(self, values: Sequence[jax.Array]) -> None:
        (self.key,) = values

    def split(self) -> jax.Array:
        """A fresh key for one eager draw; advances the global key."""
        keys = jax.random.split(self.key)
        self.key, sub = keys[0], keys[1]
        return sub

    def numpy_rng(self) -> np.random.Generator:
        """A numpy generator seeded from the global key (e.g. for DataLoader shuffling)."""
        bits = jax.random.bits(self.split(), (2,), dtype=np.uint32)
        return np.random.default_rng(np.asarray(bits))


state = _State(0)


def manual_seed(seed: int) -> Generator:
    """Seeds fnnet.torch's global PRNG. PyTorch equivalent: ``torch.manual_seed``.

    The random numbers differ from PyTorch's (jax's PRNG is not PyTorch's), so parity
    tests copy a ``state_dict`` instead of relying on equal seeds.
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
    from fnnet.torch import _compiler, _recorder

    if _recorder.current().tape.rng_slot >= 0:
        # The pending step already holds the old key: draws recorded after the seed
        # must start a step of their own from the new one.
        _compiler.flush("value")
    state.seed(int(seed))
    return Generator().manual_seed(int(seed))


def initial_seed() -> int:
    """The seed last given to :func:`manual_seed`. PyTorch: ``torch.initial_seed``."""
    return state.initial_seed


class Generator:
    """A seedable source of randomness of its own, apart from the global key: the draws
    given ``generator=g`` (``torch.randn``, ``rand``, ``randint``, ``normal``,
    ``multinomial``, ``bernoulli``, ``Tensor.normal_``...) come from ``g``'s jax key, and
    ``DataLoader(shuffle=True, generator=g)`` from its numpy generator. Seeding it again
    replays its draws (not PyTorch's numbers: another PRNG).

    PyTorch equivalent: ``torch.Generator``.
    """

    def __init__(self, device: Any = "cpu") -> None:
        del device
        self._rng: np.random.Generator | None = None
        self._seed: int | None = None
        self._key: jax.Array | None = None

    def manual_seed(self, seed: int) -> Generator:
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
        self._seed = int(seed)
        self._rng = np.random.default_rng(self._seed)
        self._key = None
        return self

    def split(self) -> jax.Array:
        """A fresh key for one eager draw; advances this generator's key (seeded from the
        global key on first use if :meth:`manual_seed` was not called)."""
        if self._key is None:
            self._key = (state.split() if self._seed is None
                         else jax.random.key(self._seed % (2**32)))
        keys = jax.random.split(self._key)
        self._key, sub = keys[0], keys[1]
        return sub

    def initial_seed(self) -> int:
        return self._seed if self._seed is not None else state.initial_seed

    def numpy(self) -> np.random.Generator:
        """The numpy generator behind this one (seeded from the global key if unseeded)."""
        if self._rng is None:
            self._rng = state.numpy_rng()
        return self._rng


def key_for(generator: Any, who: str) -> jax.Array:
    """A fresh key for one eager draw of ``who``: from ``generator`` where one is given,
    else from the global key.

    Raises:
        TypeError: ``generator`` is neither None nor a :class:`Generator`.
    """
    if generator is None:
        return state.split()
    if not isinstance(generator, Generator):
        raise TypeError(f"{who}(): argument 'generator' must be torch.Generator, not "
                        f"{type(generator).__name__}")
    return generator.split()
