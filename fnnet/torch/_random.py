"""The shim's random state, seeded by ``torch.manual_seed``: PyTorch's CPU generator
for the draws made on the host, a jax key for those inside a compiled step.

Every draw made eagerly (``torch.rand``/``randn``/``randint``/``randperm``/``normal``
and the ``*_like`` family, ``Tensor.uniform_``/``normal_``/``bernoulli_(p)``/
``random_``/``exponential_``/..., ``nn.init``, the layers' default initialisation, the
samplers and ``random_split``) comes from :class:`~fnnet.torch._cpu_generator.CpuGenerator`,
PyTorch's Mersenne Twister and its kernels' arithmetic, so a script seeded with
``torch.manual_seed(s)`` draws PyTorch's numbers, and ``get_rng_state()`` is PyTorch's
5056 bytes. Dropout (and the other layers drawing in training mode) inside a recorded
step folds a per-draw index into the tape's copy of a jax key, and the flushed step
returns the advanced key, so the key is threaded through compiled steps like any other
state: those masks are not PyTorch's, and PyTorch's generator would have moved on by
two words per dropped element, which this one does not.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import jax
import numpy as np

from fnnet.torch._cpu_generator import DEFAULT_SEED, CpuGenerator, extra_of, with_extra

if TYPE_CHECKING:
    from fnnet.torch.tensor import Tensor


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
    """Holds the global generator: PyTorch's CPU generator (``host``) and the jax key of
    the draws inside compiled steps; also the writeback target of flushed steps.

    The key is made on first use, not at import: making it starts JAX's backend, which
    ``torch.distributed.init_process_group`` (in a process ``torch.multiprocessing.spawn``
    started, say) must still be able to configure after ``import torch``.
    """

    def __init__(self, seed: int) -> None:
        self._key: jax.Array | None = None
        self.host = CpuGenerator(seed)
        self.seed(seed)

    def seed(self, seed: int) -> None:
        self.host.manual_seed(seed)
        self._key = None

    @property
    def initial_seed(self) -> int:
        return self.host.initial_seed

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
        """A fresh key for one eager jax draw; advances the global key."""
        sub: jax.Array
        self.key, sub = _split_in_two(self.key)
        return sub

    def numpy_rng(self) -> np.random.Generator:
        """A numpy generator seeded from two words of the global generator (for draws
        PyTorch makes otherwise, such as gamma samples)."""
        return np.random.default_rng(self.host.words(2))

    def get_state(self) -> bytes:
        """PyTorch's state bytes of the host generator, carrying the jax key of this moment
        in two fields PyTorch ignores, so that :meth:`set_state` of the same bytes (in this
        process or a resumed one) replays the dropout masks too."""
        raw = self.host.get_state()
        if self._key is None:  # no draw in a step yet: the key follows from the seed
            return raw
        data = np.asarray(jax.random.key_data(self._key), np.uint32).tobytes()
        return with_extra(raw, data) if len(data) == _KEY_BYTES else raw

    def set_state(self, raw: bytes) -> None:
        """Restores :meth:`get_state`'s bytes (or PyTorch's): the jax key they carry, or
        one from their seed for bytes without one."""
        self.host.set_state(raw)
        data = extra_of(raw, _KEY_BYTES)
        self._key = None if data is None else jax.random.wrap_key_data(
            jax.numpy.asarray(np.frombuffer(data, np.uint32)))


#: the bytes of a jax key's data under the default (threefry) implementation; a key of
#: another implementation is not kept in the state
_KEY_BYTES = 8


def _entropy_seed() -> int:
    """64 bits from the operating system: PyTorch seeds its default generator so in each
    process until ``manual_seed`` is called (random restarts and ensembles launched as
    separate processes start apart)."""
    return int.from_bytes(os.urandom(8), "little")


state = _State(_entropy_seed())


def _unsigned_seed(seed: int) -> int:
    """``seed`` as PyTorch keeps it: 64 bits, a negative one wrapped around (-1 is
    2**64 - 1)."""
    if not -2**63 <= seed < 2**64:
        raise ValueError("Overflow when unpacking long long")
    return seed % 2**64


def manual_seed(seed: int) -> Generator:
    """Seeds the global generator: the draws made on the host that follow are
    PyTorch's (see the module docstring). PyTorch equivalent: ``torch.manual_seed``."""
    seed = _unsigned_seed(int(seed))  # PyTorch's: a float or a string of digits will do
    from fnnet.torch import _compiler, _recorder

    if in_worker():  # the jax key of this process's steps is not the worker's to reseed
        state.host.manual_seed(seed)
        return default_generator
    if _recorder.current().tape.rng_slot >= 0:
        # The pending step already holds the old key: draws recorded after the seed
        # must start a step of their own from the new one.
        _compiler.flush("value")
    state.seed(seed)
    return default_generator


def in_worker() -> bool:
    """Whether a DataLoader worker's code is running: the global generator's host
    generator is then the worker's own (see :mod:`fnnet.torch.utils.data._workers`),
    and seeding it or setting its state leaves this process's jax key alone."""
    from fnnet.torch.utils.data._workers import get_worker_info

    return get_worker_info() is not None


def initial_seed() -> int:
    """The seed last given to :func:`manual_seed`; in a ``DataLoader`` worker's code,
    its own generator's (the worker's seed, as PyTorch's workers seed themselves, until
    the worker seeds it again). PyTorch: ``torch.initial_seed``."""
    return state.initial_seed


#: PyTorch's ``torch.Generator`` methods about its own state layout and CUDA graphs
_UNSUPPORTED_GENERATOR = frozenset({"clone_state", "get_offset", "set_offset",
                                    "graphsafe_get_state", "graphsafe_set_state"})


def state_bytes(new_state: Any) -> bytes:
    """The bytes of a ``get_state()``/``get_rng_state()`` tensor.

    Raises:
        TypeError: ``new_state`` is not a uint8 tensor (PyTorch's words).
    """
    from fnnet.torch.tensor import Tensor

    if not isinstance(new_state, Tensor):
        raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
    if str(new_state.dtype) != "torch.uint8":
        raise TypeError("RNG state must be a torch.ByteTensor")
    return bytes(np.ascontiguousarray(new_state.numpy()).tobytes())


def state_tensor(raw: bytes) -> Tensor:
    """State bytes as PyTorch hands them out: a uint8 tensor."""
    from fnnet.torch.tensor import _as_tensor

    out: Tensor = _as_tensor(np.frombuffer(raw, np.uint8).copy())
    return out


class Generator:
    """A seedable source of randomness of its own, apart from the global generator:
    PyTorch's CPU generator (see :mod:`fnnet.torch._cpu_generator`), so the draws given
    ``generator=g`` (``torch.randn``, ``rand``, ``randint``, ``randperm``, ``normal``,
    ``multinomial``, ``bernoulli``, ``Tensor.normal_``, ``random_split``,
    ``DataLoader(shuffle=True, generator=g)``...) are PyTorch's. Seeding it again replays
    its draws; ``get_state()`` is PyTorch's 5056 bytes.

    PyTorch equivalent: ``torch.Generator``.
    """

    def __init__(self, device: Any = "cpu") -> None:
        del device
        self._cpu = CpuGenerator(DEFAULT_SEED)

    @property
    def host(self) -> CpuGenerator:
        """The draws of this generator."""
        return self._cpu

    def manual_seed(self, seed: int) -> Generator:
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
        self.host.manual_seed(_unsigned_seed(int(seed)))
        return self

    def seed(self) -> int:
        """Seeds this generator from the operating system's entropy; returns the seed."""
        seed = int(np.random.SeedSequence().entropy) % (2**63)  # type: ignore[arg-type]
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        return self.host.initial_seed

    @property
    def device(self) -> Any:
        from fnnet.torch.device import device

        return device("cpu")

    def get_state(self) -> Any:
        """PyTorch's state of this generator: 5056 bytes as a uint8 tensor."""
        return state_tensor(self.host.get_state())

    def set_state(self, new_state: Any) -> Generator:
        """Restores a state from :meth:`get_state` (PyTorch's too): the draws that
        followed it repeat."""
        self.host.set_state(state_bytes(new_state))
        return self

    def __repr__(self) -> str:
        return f"<torch._C.Generator object at {id(self):#x}>"

    def __getattr__(self, name: str) -> Any:
        if name in _UNSUPPORTED_GENERATOR:
            from fnnet.torch.tensor import Unsupported

            raise Unsupported(f"fnnet.torch does not support Generator.{name}; use "
                              f"get_state()/set_state() or manual_seed() to replay draws")
        raise AttributeError(f"'Generator' object has no attribute '{name}'")


class _DefaultGenerator(Generator):
    """``torch.default_generator``: the global generator as a :class:`Generator`.
    Seeding it is :func:`manual_seed` (which returns it, as PyTorch's does), draws given
    it are the global generator's, and its state is the global state."""

    @property
    def host(self) -> CpuGenerator:
        return state.host

    def manual_seed(self, seed: int) -> Generator:
        return manual_seed(seed)

    def get_state(self) -> Any:
        from fnnet.torch._surface_ops import get_rng_state

        return get_rng_state()

    def set_state(self, new_state: Any) -> Generator:
        from fnnet.torch._surface_ops import set_rng_state

        set_rng_state(new_state)
        return self


default_generator = _DefaultGenerator()


def host_for(generator: Any, who: str) -> CpuGenerator:
    """The generator whose draws ``who`` takes: ``generator``'s where one is given, else
    the global one.

    Raises:
        TypeError: ``generator`` is neither None nor a :class:`Generator`.
    """
    if generator is None:
        return state.host
    if not isinstance(generator, Generator):
        raise TypeError(f"{who}(): argument 'generator' must be torch.Generator, not "
                        f"{type(generator).__name__}")
    return generator.host


def randperm(n: int, generator: Generator | None) -> np.ndarray:
    """PyTorch's ``torch.randperm(n, generator=generator)`` on the CPU (int64), from the
    global generator without one: ``random_split``, the samplers and ``DataLoader(
    shuffle=True)`` order as PyTorch's."""
    return host_for(generator, "randperm").permutation(n)


def indices_below(n: int, size: int, generator: Generator | None) -> np.ndarray:
    """PyTorch's ``torch.randint(high=n, size=(size,), generator=generator)`` on the CPU
    (int64), as ``RandomSampler(replacement=True)`` draws."""
    return host_for(generator, "randint").integers(0, n, (size,))


def seed_draw(generator: Generator | None) -> int:
    """PyTorch's ``torch.empty((), dtype=torch.int64).random_(generator=generator)``:
    a 64-bit number below 2**63 (a sampler's or a loader's workers' seed)."""
    return int(host_for(generator, "random_").words64(1)[0]) % 2**63
