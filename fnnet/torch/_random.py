"""The shim's global PRNG, seeded by ``torch.manual_seed``.

One jax key drives everything random in fnnet.torch: parameter initialisation and
``torch.randn`` split it eagerly; Dropout inside a recorded step folds a per-draw index
into the tape's copy of the key, and the flushed step returns the advanced key, so the
key is threaded through compiled steps like any other state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import jax
import jax.numpy as jnp
import numpy as np


def advance(key: jax.Array) -> jax.Array:
    """The key after one flushed step (a pure op recorded at each flush that drew keys)."""
    return jax.random.fold_in(key, 0x7FFFFFFF)


def fold(key: jax.Array, draw: int) -> jax.Array:
    """The key of one draw inside a step."""
    return jax.random.fold_in(key, draw)


@jax.jit
def _split_in_two(key: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``jax.random.split(key)``'s two keys as one program (eagerly, the split and the
    indexing of each key are dispatched one by one)."""
    keys = jax.random.split(key)
    return keys[0], keys[1]


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
        sub: jax.Array
        self.key, sub = _split_in_two(self.key)
        return sub

    def numpy_rng(self) -> np.random.Generator:
        """A numpy generator seeded from the global key (e.g. for DataLoader shuffling)."""
        bits = jax.random.bits(self.split(), (2,), dtype=np.uint32)
        return np.random.default_rng(np.asarray(bits))


state = _State(0)


def _unsigned_seed(seed: int) -> int:
    """``seed`` as PyTorch keeps it: 64 bits, a negative one wrapped around (-1 is
    2**64 - 1)."""
    if not -2**63 <= seed < 2**64:
        raise ValueError("Overflow when unpacking long long")
    return seed % 2**64


def manual_seed(seed: int) -> Generator:
    """Seeds fnnet.torch's global PRNG. PyTorch equivalent: ``torch.manual_seed``.

    The random numbers differ from PyTorch's (jax's PRNG is not PyTorch's), so parity
    tests copy a ``state_dict`` instead of relying on equal seeds.
    """
    seed = _unsigned_seed(int(seed))  # PyTorch's: a float or a string of digits will do
    from fnnet.torch import _compiler, _recorder

    if _recorder.current().tape.rng_slot >= 0:
        # The pending step already holds the old key: draws recorded after the seed
        # must start a step of their own from the new one.
        _compiler.flush("value")
    state.seed(int(seed))
    return Generator.manual_seed(default_generator, int(seed))


def initial_seed() -> int:
    """The seed last given to :func:`manual_seed`, or in a ``DataLoader`` worker's code
    the worker's seed (as PyTorch's workers seed themselves). PyTorch:
    ``torch.initial_seed``."""
    from fnnet.torch.utils.data._workers import get_worker_info

    info = get_worker_info()
    return state.initial_seed if info is None else int(info.seed)


#: PyTorch's ``torch.Generator`` methods about its own state layout and CUDA graphs
_UNSUPPORTED_GENERATOR = frozenset({"clone_state", "get_offset", "set_offset",
                                    "graphsafe_get_state", "graphsafe_set_state"})


class Generator:
    """A seedable source of randomness of its own, apart from the global key: the draws
    given ``generator=g`` (``torch.randn``, ``rand``, ``randint``, ``normal``,
    ``multinomial``, ``bernoulli``, ``Tensor.normal_``...) come from ``g``'s jax key (not
    PyTorch's numbers: another PRNG), and its permutations (``torch.randperm``,
    ``random_split``, ``DataLoader(shuffle=True, generator=g)``) from its MT19937, which
    are PyTorch's (see :func:`randperm`). Seeding it again replays its draws.

    PyTorch equivalent: ``torch.Generator``.
    """

    def __init__(self, device: Any = "cpu") -> None:
        del device
        self._rng: np.random.Generator | None = None
        self._mt: np.random.RandomState | None = None
        self._seed: int | None = None
        self._key: jax.Array | None = None

    def manual_seed(self, seed: int) -> Generator:
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
        self._seed = _unsigned_seed(int(seed))
        self._rng = np.random.default_rng(self._seed)
        self._mt = None
        self._key = None
        return self

    def mt19937(self) -> np.random.RandomState:
        """PyTorch's CPU generator of the same seed: MT19937 seeded from the seed's low 32
        bits (an unseeded generator from PyTorch's default seed), as PyTorch seeds it.
        :func:`randperm` draws from it, so a shuffle from ``g`` is PyTorch's."""
        if self._mt is None:
            seed = DEFAULT_SEED if self._seed is None else self._seed
            self._mt = np.random.RandomState(seed & 0xFFFFFFFF)
        return self._mt

    def seed(self) -> int:
        """Seeds this generator from the operating system's entropy; returns the seed."""
        seed = int(np.random.SeedSequence().entropy) % (2**63)  # type: ignore[arg-type]
        self.manual_seed(seed)
        return seed

    @property
    def device(self) -> Any:
        from fnnet.torch.device import device

        return device("cpu")

    def split(self) -> jax.Array:
        """A fresh key for one eager draw; advances this generator's key (seeded from the
        global key on first use if :meth:`manual_seed` was not called)."""
        sub: jax.Array
        self._key, sub = _split_in_two(self._current_key())
        return sub

    def _current_key(self) -> jax.Array:
        if self._key is None:
            self._key = (state.split() if self._seed is None
                         else jax.random.key(self._seed % (2**32)))
        return self._key

    def get_state(self) -> Any:
        """This generator's jax key as a uint8 tensor (not PyTorch's state); the numpy
        generator that shuffles a DataLoader is not part of it."""
        from fnnet.torch.tensor import _as_tensor

        data = np.asarray(jax.random.key_data(self._current_key()))
        return _as_tensor(np.frombuffer(data.tobytes(), np.uint8).copy())

    def set_state(self, new_state: Any) -> Generator:
        """Restores a key from :meth:`get_state`: the draws that followed it repeat."""
        from fnnet.torch.tensor import Tensor

        template = np.asarray(jax.random.key_data(jax.random.key(0)))
        if not isinstance(new_state, Tensor) or str(new_state.dtype) != "torch.uint8":
            raise TypeError(f"set_state(): argument 'new_state' must be a uint8 Tensor from "
                            f"get_state(), not {getattr(new_state, 'dtype', type(new_state))}")
        raw = new_state.numpy().tobytes()
        if len(raw) != template.nbytes:
            raise RuntimeError(f"set_state(): expected a state of {template.nbytes} bytes, "
                               f"got {len(raw)}")
        words = np.frombuffer(raw, template.dtype).reshape(template.shape)
        self._key = jax.random.wrap_key_data(jnp.asarray(words))
        return self

    def __repr__(self) -> str:
        return f"<torch._C.Generator object at {id(self):#x}>"

    def __getattr__(self, name: str) -> Any:
        if name in _UNSUPPORTED_GENERATOR:
            from fnnet.torch.tensor import Unsupported

            raise Unsupported(f"fnnet.torch does not support Generator.{name}; use "
                              f"get_state()/set_state() or manual_seed() to replay draws")
        raise AttributeError(f"'Generator' object has no attribute '{name}'")


    def initial_seed(self) -> int:
        return self._seed if self._seed is not None else state.initial_seed

    def numpy(self) -> np.random.Generator:
        """The numpy generator behind this one (seeded from the global key if unseeded)."""
        if self._rng is None:
            self._rng = state.numpy_rng()
        return self._rng


class _DefaultGenerator(Generator):
    """``torch.default_generator``: the global PRNG as a :class:`Generator`. Seeding it is
    :func:`manual_seed` (which returns it, as PyTorch's does), draws given it come from
    the global key, and its state is the global key's; its permutations come from the
    MT19937 of the last seed, as a generator of that seed's."""

    def manual_seed(self, seed: int) -> Generator:
        return manual_seed(seed)

    def split(self) -> jax.Array:
        return state.split()

    def _current_key(self) -> jax.Array:
        return state.key

    def set_state(self, new_state: Any) -> Generator:
        super().set_state(new_state)
        state.key, self._key = cast(jax.Array, self._key), None  # set_state wrote it
        return self

    def initial_seed(self) -> int:
        return state.initial_seed


default_generator = _DefaultGenerator()


#: the seed of a ``torch.Generator()`` never seeded (PyTorch's ``default_rng_seed_val``)
DEFAULT_SEED = 67280421310721

#: ``torch.randperm`` draws one 32-bit number per swap below this size (PyTorch's
#: ``std::numeric_limits<uint32_t>::max() / 20``), 64-bit ones above it
RANDPERM_32_BIT_SIZES = (2**32 - 1) // 20


def randperm(n: int, generator: Generator | None) -> np.ndarray:
    """A random permutation of ``range(n)``, int64.

    From a ``generator`` (below :data:`RANDPERM_32_BIT_SIZES` items) it is PyTorch's:
    ``torch.randperm`` on the CPU swaps item ``i`` with item ``i + r % (n - i)``, ``r``
    the next 32-bit number of the generator's MT19937, which
    :meth:`Generator.mt19937` reproduces; so ``random_split``, ``DataLoader(shuffle=True,
    generator=g)`` and ``DistributedSampler`` order as PyTorch. Without one it is
    numpy's permutation from the global PRNG (PyTorch's global generator has drawn the
    model's initial weights, which fnnet.torch draws otherwise).
    """
    if generator is None or n >= RANDPERM_32_BIT_SIZES:
        rng = generator.numpy() if generator is not None else state.numpy_rng()
        return rng.permutation(n)
    order = list(range(n))
    if n > 1:
        draws = generator.mt19937().randint(0, 2**32, size=n - 1, dtype=np.uint32)
        offsets = (draws.astype(np.int64) % np.arange(n, 1, -1)).tolist()
        for i, offset in enumerate(offsets):
            order[i], order[i + offset] = order[i + offset], order[i]
    return np.asarray(order, np.int64)


def indices_below(n: int, size: int, generator: Generator | None) -> np.ndarray:
    """``size`` integers drawn uniformly from ``[0, n)``, int64.

    From a ``generator`` (``n`` below 2**32) they are PyTorch's
    ``torch.randint(high=n, size=(size,), generator=g)`` on the CPU: the next 32-bit
    numbers of the generator's MT19937 modulo ``n`` (``RandomSampler(replacement=True,
    generator=g)`` draws so). Without one, numpy's from the global PRNG.
    """
    if generator is None or n >= 2**32:
        rng = generator.numpy() if generator is not None else state.numpy_rng()
        return rng.integers(0, n, size=size, dtype=np.int64)
    draws = generator.mt19937().randint(0, 2**32, size=size, dtype=np.uint32)
    return draws.astype(np.int64) % n


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
