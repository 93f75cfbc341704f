"""``torch.utils.data.dataset``: the dataset base classes and the datasets made of
other datasets (Subset, ConcatDataset, ChainDataset, StackDataset, random_split).

``TensorDataset``, which the ``DataLoader`` batches on the device, is in
:mod:`fnnet.torch.utils.data`.
"""

from __future__ import annotations

import bisect
import itertools
import math
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import numpy as np

from fnnet.torch import _random

T_co = TypeVar("T_co", covariant=True)
T_stack = TypeVar("T_stack", tuple[Any, ...], dict[str, Any])


class Dataset(Generic[T_co]):
    """Map-style dataset: ``__getitem__`` and ``__len__``; ``a + b`` concatenates two.
    ``Dataset[int]`` subscripts, as PyTorch's generic class does.

    There is no default ``__len__``, as in PyTorch: ``len()`` of a dataset without one
    raises TypeError, which ``list(loader)`` of a stream with no length relies on.

    PyTorch equivalent: ``torch.utils.data.Dataset``.
    """

    def __getitem__(self, index: Any) -> T_co:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    if TYPE_CHECKING:  # what a subclass defines; no default at run time (see above)
        def __len__(self) -> int: ...

    def __add__(self, other: Dataset[Any]) -> ConcatDataset[Any]:
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co], Iterable[T_co]):
    """A dataset read as a stream (``__iter__``, which a subclass must define): lines of
    a file, a generator's samples. A ``DataLoader`` batches what it yields, in order;
    ``a + b`` chains two.

    PyTorch equivalent: ``torch.utils.data.IterableDataset``.
    """

    def __add__(self, other: Dataset[Any]) -> ChainDataset[Any]:  # type: ignore[override]
        return ChainDataset([self, other])


class Subset(Dataset[T_co]):
    """The samples of ``dataset`` at ``indices`` (kept as given: a range stays a range).

    Raises:
        NotImplementedError: a subclass overrides ``__getitem__`` but not
            ``__getitems__`` (PyTorch's check: the loader reads batches through the
            latter).

    PyTorch equivalent: ``torch.utils.data.Subset``.
    """

    def __init__(self, dataset: Dataset[T_co], indices: Sequence[int]) -> None:
        self.dataset, self.indices = dataset, indices
        if (type(self).__getitem__ is not Subset.__getitem__
                and type(self).__getitems__ is Subset.__getitems__):
            raise NotImplementedError(
                f"{type(self).__name__} overrides __getitem__ but not __getitems__. When "
                "subclassing Subset and overriding __getitem__, you must also override "
                "__getitems__ to ensure DataLoader works correctly with your custom "
                "logic. A simple implementation:\n\ndef __getitems__(self, indices):\n"
                "    return [self.__getitem__(idx) for idx in indices]")

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices: list[int]) -> list[Any]:
        """The samples at ``indices``, read as one batch where ``dataset`` can."""
        inner = [self.indices[i] for i in indices]
        read_batch = getattr(self.dataset, "__getitems__", None)
        if callable(read_batch):
            return list(read_batch(inner))
        return [self.dataset[i] for i in inner]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset[T_co]):
    """The samples of several datasets, one after another.

    Raises:
        AssertionError: no datasets, or an ``IterableDataset`` among them (PyTorch's).

    PyTorch equivalent: ``torch.utils.data.ConcatDataset``.
    """

    def __init__(self, datasets: Iterable[Dataset[Any]]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    @property
    def cummulative_sizes(self) -> list[int]:
        """``cumulative_sizes`` under its old, misspelt name, with PyTorch's FutureWarning."""
        warnings.warn("`cummulative_sizes` attribute is renamed to `cumulative_sizes`",
                      FutureWarning, stacklevel=2)
        return self.cumulative_sizes

    def __getitem__(self, index: int) -> Any:
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


class ChainDataset(IterableDataset[T_co]):
    """The streams of several ``IterableDataset`` s, one after another.

    Raises:
        AssertionError: when iterated or measured, a member that is not an
            ``IterableDataset`` (PyTorch's).

    PyTorch equivalent: ``torch.utils.data.ChainDataset``.
    """

    def __init__(self, datasets: Iterable[Dataset[Any]]) -> None:
        self.datasets = datasets

    def _members(self) -> Iterator[IterableDataset[Any]]:
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield d

    def __iter__(self) -> Iterator[Any]:
        for d in self._members():
            yield from d

    def __len__(self) -> int:
        return sum(len(d) for d in self._members())


class StackDataset(Dataset[T_stack]):
    """Samples made of the same index of several datasets of one length: a tuple
    (datasets given by position) or a dict (given by name).

    Raises:
        ValueError: no datasets, both kinds given, or datasets of different lengths.

    PyTorch equivalent: ``torch.utils.data.StackDataset``.
    """

    def __init__(self, *args: Dataset[Any], **kwargs: Dataset[Any]) -> None:
        if args and kwargs:
            raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via "
                             "``kwargs``) like input/output, but both types are given.")
        if not args and not kwargs:
            raise ValueError("At least one dataset should be passed")
        members = list(args or kwargs.values())
        self._length = len(members[0])
        if any(self._length != len(d) for d in members):
            raise ValueError("Size mismatch between datasets")
        self.datasets: tuple[Dataset[Any], ...] | dict[str, Dataset[Any]] = args or kwargs

    def __getitem__(self, index: Any) -> Any:
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __getitems__(self, indices: list[Any]) -> list[Any]:
        """The samples at ``indices``, read as PyTorch's loader reads them: each member
        dataset for the whole batch in turn (through its ``__getitems__`` where it has
        one), so members drawing random numbers draw in PyTorch's order.

        Raises:
            ValueError: a member's ``__getitems__`` gave another number of samples.
        """
        members = self.datasets.items() if isinstance(self.datasets, dict) else \
            enumerate(self.datasets)
        fields: list[dict[Any, Any]] = [{} for _ in indices]
        for key, dataset in members:
            read_batch = getattr(dataset, "__getitems__", None)
            if callable(read_batch):
                items = read_batch(indices)
                if len(items) != len(indices):
                    raise ValueError(f"Nested dataset's output size mismatch. Expected "
                                     f"{len(indices)}, got {len(items)}")
            else:
                items = [dataset[i] for i in indices]
            for sample, item in zip(fields, items, strict=True):
                sample[key] = item
        if isinstance(self.datasets, dict):
            return fields
        return [tuple(sample.values()) for sample in fields]

    def __len__(self) -> int:
        return self._length


def random_split(dataset: Dataset[Any], lengths: Sequence[int | float],
                 generator: _random.Generator | None = None) -> list[Subset[Any]]:
    """Splits ``dataset`` into non-overlapping random :class:`Subset` s.

    Args:
        dataset: the dataset to split.
        lengths: the size of each split, or fractions summing to 1 (the items left over by
            flooring go one each to the first splits, as in PyTorch).
        generator: a :class:`fnnet.torch.Generator` for the permutation (default: the
            global generator seeded by ``torch.manual_seed``); either way the split is
            PyTorch's.

    Returns:
        One :class:`Subset` per length.

    Raises:
        ValueError: a fraction outside [0, 1], or lengths that do not add up to
            ``len(dataset)`` (PyTorch's messages).
        TypeError: a length that is neither an int nor one of fractions summing to 1.

    PyTorch equivalent: ``torch.utils.data.random_split``.
    """
    n = len(dataset)
    given = list(lengths)
    if math.isclose(sum(given), 1) and sum(given) <= 1:
        for i, frac in enumerate(given):
            if not 0 <= frac <= 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
        sizes = [int(math.floor(n * frac)) for frac in given]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, count in enumerate(sizes):
            if count == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an "
                              f"empty dataset.", stacklevel=2)
    else:
        if sum(given) != n:  # PyTorch's check comes first: fractions of another sum too
            raise ValueError("Sum of input lengths does not equal the length of the input "
                             "dataset!")
        sizes = []
        for i, size in enumerate(given):
            if not isinstance(size, (int, np.integer)):
                raise TypeError(f"random_split: lengths must be ints or fractions summing to "
                                f"1, got {size!r} at index {i}")
            sizes.append(int(size))
    order = _random.randperm(n, generator).tolist()
    bounds = list(itertools.accumulate(sizes))
    return [Subset(dataset, order[stop - size:stop])
            for size, stop in zip(sizes, bounds, strict=True)]
