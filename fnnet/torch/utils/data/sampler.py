"""``torch.utils.data`` samplers: iterables of dataset indices for ``DataLoader(sampler=)``.

Random samplers draw PyTorch's numbers, in PyTorch's order, from their ``generator`` (a
:class:`fnnet.torch.Generator`) or, without one, from the global generator seeded by
``torch.manual_seed`` (``RandomSampler`` from a generator seeded by a draw of the global
one, as PyTorch's): a shuffled epoch is PyTorch's (see :mod:`fnnet.torch._cpu_generator`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence, Sized
from typing import Any, Generic, TypeVar

import numpy as np

from fnnet.torch import _random
from fnnet.torch._math_ops import multinomial
from fnnet.torch._random import Generator
from fnnet.torch.tensor import Tensor, _as_tensor

T_co = TypeVar("T_co", covariant=True)


class Sampler(Generic[T_co]):
    """Base class: ``__iter__`` yields indices (or lists of them, for a batch sampler).
    ``Sampler[int]`` subscripts, and the class takes no arguments, as PyTorch's: a
    subclass calling ``super().__init__(data_source)`` gets PyTorch's TypeError.

    PyTorch equivalent: ``torch.utils.data.Sampler``.
    """

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError


class SequentialSampler(Sampler[int]):
    """``0, 1, ..., len(data_source) - 1``. PyTorch: ``SequentialSampler``."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """A permutation of the dataset, or ``num_samples`` draws with replacement.

    PyTorch equivalent: ``torch.utils.data.RandomSampler``.
    """

    def __init__(self, data_source: Sized, replacement: bool = False,
                 num_samples: int | None = None, generator: Generator | None = None) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got "
                            f"replacement={replacement}")
        if num_samples is not None and (isinstance(num_samples, bool) or
                                        not isinstance(num_samples, int) or num_samples <= 0):
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        self.data_source, self.replacement, self.generator = data_source, replacement, generator
        self._num_samples = num_samples

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        generator = self.generator
        if generator is None:  # PyTorch's: a generator seeded by the global one, each epoch
            generator = Generator().manual_seed(_random.seed_draw(None))
        if self.replacement:  # PyTorch's draws: 32 at a time, then the remainder
            for _ in range(self.num_samples // 32):
                yield from _random.indices_below(n, 32, generator).tolist()
            yield from _random.indices_below(n, self.num_samples % 32, generator).tolist()
            return
        # PyTorch's draws: whole permutations, then one more for the remainder (drawn
        # when the last index is read, also when the remainder is 0)
        for _ in range(self.num_samples // n):
            yield from _random.randperm(n, generator).tolist()
        yield from _random.randperm(n, generator)[:self.num_samples % n].tolist()

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given indices in a random order, without replacement.

    PyTorch equivalent: ``torch.utils.data.SubsetRandomSampler``.
    """

    def __init__(self, indices: Sequence[int], generator: Generator | None = None) -> None:
        self.indices, self.generator = indices, generator

    def __iter__(self) -> Iterator[int]:
        # a generator, as PyTorch's: the permutation is drawn when the first index is read
        for i in _random.randperm(len(self.indices), self.generator).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """``num_samples`` indices drawn with probabilities proportional to ``weights``.

    Args:
        weights: ``[N]`` non-negative weights (need not sum to 1), kept as the tensor
            ``weights``.
        num_samples: how many indices to draw.
        replacement: draw with replacement (without it, at most ``N`` distinct indices).
        generator: a :class:`fnnet.torch.Generator`.

    Raises:
        ValueError: a ``num_samples`` that is not a positive int, a ``replacement`` that
            is not a bool, weights that are not 1-D (PyTorch's messages). Weights that
            ``torch.multinomial`` refuses raise its RuntimeError when iterated, as there.

    PyTorch equivalent: ``torch.utils.data.WeightedRandomSampler``.
    """

    def __init__(self, weights: Any, num_samples: int, replacement: bool = True,
                 generator: Generator | None = None) -> None:
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or \
                num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got "
                             f"replacement={replacement}")
        w = np.asarray((weights.detach() if isinstance(weights, Tensor) else
                        _as_tensor(weights, dtype=np.float64)).numpy(), np.float64)
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have "
                             f"shape {tuple(w.shape)}")
        self.weights: Tensor = _as_tensor(w)
        self.num_samples, self.replacement, self.generator = num_samples, replacement, generator

    def __iter__(self) -> Iterator[int]:
        # drawn when the first index is read, as PyTorch's; weights torch.multinomial
        # refuses raise its error then, as there
        drawn = multinomial(self.weights, self.num_samples, self.replacement,
                            generator=self.generator)
        yield from drawn.tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler[list[int]]):
    """Groups the indices of ``sampler`` into lists of ``batch_size`` (the last shorter
    unless ``drop_last``), for ``DataLoader(batch_sampler=...)``.

    PyTorch equivalent: ``torch.utils.data.BatchSampler``.
    """

    def __init__(self, sampler: Any, batch_size: int, drop_last: bool) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got "
                             f"drop_last={drop_last}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self) -> Iterator[list[int]]:
        # the sampler's items as they come (a dataset's keys need not be ints), taken as
        # PyTorch takes them: the sampler's numbers are drawn when a batch needs them
        batch: list[int] = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
