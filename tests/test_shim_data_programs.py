"""torch.utils.data as user programs write it: custom samplers and batch samplers, the
loader's sampler/batch_sampler/collate_fn, datasets made of datasets (``a + b``,
ChainDataset, StackDataset, Subset of a list), IterableDatasets split among workers by
``get_worker_info()``, and PyTorch's errors for bad loader and sampler arguments; each
compared with PyTorch in the same process."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import plain as _plain
from helpers import raised_by

import fnnet.torch as ft

pytestmark = pytest.mark.torch


def _both(torch, program):
    """``program(T)`` for PyTorch and fnnet.torch, made plain."""
    return [_plain(program(T)) for T in (torch, ft)]


# -- samplers as users subclass them -----------------------------------------------------


def _bucket_batches(T):
    """A typed batch sampler of the longest sequences first, padded by the collate_fn."""
    data = T.utils.data
    lengths = [3, 1, 4, 1, 5, 2, 6]

    class Sequences(data.Dataset):
        def __len__(self):
            return len(lengths)

        def __getitem__(self, i):
            return T.arange(lengths[i]) + 1, i

    class LongestFirst(data.Sampler[list[int]]):
        def __init__(self, batch_size):
            super().__init__()
            self.batch_size = batch_size

        def __iter__(self):
            order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
            for start in range(0, len(order), self.batch_size):
                yield order[start:start + self.batch_size]

        def __len__(self):
            return math.ceil(len(lengths) / self.batch_size)

    def pad(batch):
        xs, ids = zip(*batch, strict=True)
        return T.nn.utils.rnn.pad_sequence(list(xs), batch_first=True), T.tensor(ids)

    loader = data.DataLoader(Sequences(), batch_sampler=LongestFirst(3), collate_fn=pad)
    return (len(loader), loader.batch_size, loader.drop_last, type(loader.sampler).__name__,
            list(loader))


def test_a_typed_batch_sampler_and_a_padding_collate_give_pytorchs_batches(torch):
    theirs, ours = _both(torch, _bucket_batches)
    assert ours == theirs


def test_a_sampler_of_index_lists_with_batch_size_none_passes_each_list(torch):
    def program(T):
        data = T.utils.data

        class Rows(data.Dataset):  # reads a batch at once from a list of indices
            def __len__(self):
                return 7

            def __getitem__(self, indices):
                return T.tensor(indices) * 10

        batches = data.BatchSampler(data.SequentialSampler(range(7)), 3, drop_last=False)
        loader = data.DataLoader(Rows(), sampler=batches, batch_size=None)
        return len(loader), list(loader)

    theirs, ours = _both(torch, program)
    assert ours == theirs


def test_the_loader_keeps_pytorchs_sampler_batch_sampler_and_collate_fn(torch):
    def program(T):
        data = T.utils.data
        ds = data.TensorDataset(T.arange(10))
        loader = data.DataLoader(ds, batch_size=4, drop_last=True)
        shuffled = data.DataLoader(ds, batch_size=4, shuffle=True)
        single = data.DataLoader(ds, batch_size=None)
        subset = data.DataLoader(ds, batch_size=3, sampler=data.SubsetRandomSampler([1, 5]))
        return (type(loader.sampler).__name__, type(shuffled.sampler).__name__,
                type(loader.batch_sampler).__name__, loader.batch_sampler.batch_size,
                loader.batch_sampler.drop_last, len(loader.batch_sampler),
                single.batch_sampler, loader.collate_fn.__name__, single.collate_fn.__name__,
                len(subset.sampler), len(subset), sorted(shuffled.sampler),
                list(loader.sampler))

    theirs, ours = _both(torch, program)
    assert ours == theirs


@pytest.mark.parametrize("name", ["batch_size", "sampler", "batch_sampler", "drop_last",
                                  "dataset", "persistent_workers"])
def test_setting_a_loader_option_after_construction_raises_pytorchs_error(torch, name):
    def call(T):
        loader = T.utils.data.DataLoader(T.utils.data.TensorDataset(T.ones(4)), batch_size=2)
        setattr(loader, name, None)

    (their_type, theirs), (our_type, ours) = raised_by(call, torch, ft)
    assert our_type is their_type and ours == theirs


def test_weighted_random_sampler_keeps_weights_and_raises_when_iterated(torch):
    for T in (torch, ft):
        sampler = T.utils.data.WeightedRandomSampler([0.0, 0.0, 2.0], 4)
        assert isinstance(sampler.weights, T.Tensor) and sampler.weights.tolist() == [0, 0, 2]
        assert list(sampler) == [2, 2, 2, 2]
        # per-sample weights looked up from per-class ones: a float tensor
        by_class = T.utils.data.WeightedRandomSampler(T.tensor([0.0, 1.0])[T.tensor([1, 0])], 2)
        assert list(by_class) == [0, 0]
        assert list(T.utils.data.DataLoader(range(3), sampler=sampler, batch_size=2)) \
            and len(sampler) == 4
    (their_type, theirs), (our_type, ours) = raised_by(
        lambda T: list(T.utils.data.WeightedRandomSampler([0.0, 0.0], 2)), torch, ft)
    assert our_type is their_type and ours == theirs


# -- datasets made of datasets -----------------------------------------------------------


def test_datasets_add_chain_stack_and_subset_as_pytorch(torch):
    def program(T):
        data = T.utils.data

        class Count(data.IterableDataset):
            def __init__(self, start, stop):
                self.start, self.stop = start, stop

            def __iter__(self):
                return iter(range(self.start, self.stop))

            def __len__(self):
                return self.stop - self.start

        ds = data.TensorDataset(T.arange(6) * 1.0, T.arange(6))
        joined = ds + data.Subset(ds, range(2))
        chain = Count(0, 3) + Count(10, 12)
        stacked = data.StackDataset(ds, data.Subset(ds, [5, 4, 3, 2, 1, 0]))
        named = data.StackDataset(x=range(3), y=["a", "b", "c"])
        subset = data.Subset(ds, range(1, 5))
        return (type(joined).__name__, len(joined), joined[7], joined.cumulative_sizes,
                type(chain).__name__, list(chain), len(chain),
                list(data.DataLoader(data.ChainDataset([Count(0, 3), Count(5, 6)]),
                                     batch_size=3)),
                stacked[1], len(stacked), named[2], subset.indices == range(1, 5),
                subset[[0, 2]], list(data.DataLoader(subset, batch_size=3)))

    theirs, ours = _both(torch, program)
    assert ours == theirs


DATASET_MISTAKES = {
    "ConcatDataset of nothing": lambda T: T.utils.data.ConcatDataset([]),
    "ConcatDataset of a stream": lambda T: T.utils.data.ConcatDataset(
        [T.utils.data.TensorDataset(T.ones(2)), _stream(T)]),
    "ChainDataset of a map-style dataset": lambda T: list(T.utils.data.ChainDataset(
        [_stream(T), T.utils.data.TensorDataset(T.ones(2))])),
    "StackDataset of nothing": lambda T: T.utils.data.StackDataset(),
    "StackDataset of two lengths": lambda T: T.utils.data.StackDataset(range(2), range(3)),
    "StackDataset, both kinds": lambda T: T.utils.data.StackDataset(range(2), y=range(2)),
    "len of a TensorDataset of nothing": lambda T: len(T.utils.data.TensorDataset()),
    "Dataset without __getitem__": lambda T: T.utils.data.Dataset()[0],
    "IterableDataset without __iter__": lambda T: T.utils.data.IterableDataset(),
    "Sampler given a data source": lambda T: type("S", (T.utils.data.Sampler,), {
        "__init__": lambda self, source: super(type(self), self).__init__(source)})([1]),
    "random_split, lengths of another sum": lambda T: T.utils.data.random_split(
        range(10), [5, 4]),
    "Subset overriding only __getitem__": lambda T: type("Sub", (T.utils.data.Subset,), {
        "__getitem__": lambda self, i: i})(range(3), [0]),
    "collating lists of two lengths": lambda T: T.utils.data.default_collate([[1, 2], [3]]),
    "TensorDataset of a 0-d tensor": lambda T: T.utils.data.TensorDataset(T.tensor(1.0)),
    "a sampler's index out of range": lambda T: list(T.utils.data.DataLoader(
        T.utils.data.TensorDataset(T.arange(4)), sampler=[5], batch_size=1)),
}


def _stream(T):
    class Stream(T.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(2))

    return Stream()


@pytest.mark.parametrize("name", DATASET_MISTAKES)
def test_dataset_mistakes_raise_pytorchs_errors(torch, name):
    (their_type, theirs), (our_type, ours) = raised_by(DATASET_MISTAKES[name], torch, ft)
    assert our_type is their_type and ours == theirs


# -- loader and sampler arguments --------------------------------------------------------


def _tensors(T):
    return T.utils.data.TensorDataset(T.arange(6))


LOADER_MISTAKES = {
    "batch_size=0": lambda T: T.utils.data.DataLoader(_tensors(T), batch_size=0),
    "batch_size=True": lambda T: T.utils.data.DataLoader(_tensors(T), batch_size=True),
    "batch_size=None with drop_last": lambda T: T.utils.data.DataLoader(
        _tensors(T), batch_size=None, drop_last=True),
    "sampler with shuffle": lambda T: T.utils.data.DataLoader(
        _tensors(T), sampler=[0, 1], shuffle=True),
    "batch_sampler with drop_last": lambda T: T.utils.data.DataLoader(
        _tensors(T), batch_sampler=[[0, 1]], drop_last=True),
    "negative prefetch_factor": lambda T: T.utils.data.DataLoader(
        _tensors(T), num_workers=1, prefetch_factor=-1),
    "len of a sampler without len": lambda T: len(T.utils.data.DataLoader(
        _tensors(T), sampler=iter([0, 1]))),
    "RandomSampler, replacement=1": lambda T: T.utils.data.RandomSampler(
        range(3), replacement=1),
    "BatchSampler, drop_last=None": lambda T: T.utils.data.BatchSampler(range(3), 2, None),
    "WeightedRandomSampler, 2-D weights": lambda T: T.utils.data.WeightedRandomSampler(
        [[1.0, 2.0]], 2),
    "multiprocessing_context without workers": lambda T: T.utils.data.DataLoader(
        _tensors(T), multiprocessing_context="spawn"),
    "an unknown start method": lambda T: T.utils.data.DataLoader(
        _tensors(T), num_workers=1, multiprocessing_context="thread"),
    "a timeout without workers": lambda T: iter(T.utils.data.DataLoader(_tensors(T),
                                                                        timeout=5)),
    **{f"WeightedRandomSampler, {name} weights": (
        lambda T, w=weights: list(T.utils.data.WeightedRandomSampler(w, 3)))
       for name, weights in (("negative", [1.0, -1.0]), ("NaN", [float("nan"), 1.0]),
                             ("infinite", [1.0, float("inf")]), ("no", []),
                             ("zero", [0.0, 0.0]))},
}


@pytest.mark.parametrize("name", LOADER_MISTAKES)
def test_loader_and_sampler_mistakes_raise_pytorchs_errors(torch, name):
    (their_type, theirs), (our_type, ours) = raised_by(LOADER_MISTAKES[name], torch, ft)
    assert our_type is their_type and ours == theirs


# -- IterableDataset and workers ---------------------------------------------------------


def _sharded_streams(T):
    """The documentation's two ways of splitting a stream among workers: in ``__iter__``
    and in ``worker_init_fn``, and a stream that is not split (each worker repeats it)."""
    data = T.utils.data

    class Range(data.IterableDataset):
        def __init__(self, start, end, split):
            self.start, self.end, self.split = start, end, split

        def __iter__(self):
            info = data.get_worker_info()
            lo, hi = self.start, self.end
            if info is not None and self.split:
                per = math.ceil((hi - lo) / info.num_workers)
                lo = self.start + info.id * per
                hi = min(lo + per, self.end)
            return iter(range(lo, hi))

    def split_in_init(worker_id):
        info = data.get_worker_info()
        d = info.dataset
        per = math.ceil((d.end - d.start) / info.num_workers)
        d.start, d.end = d.start + worker_id * per, min(d.start + (worker_id + 1) * per, d.end)

    whole = Range(0, 7, split=False)
    return ([list(data.DataLoader(Range(3, 17, True), batch_size=2, num_workers=k))
             for k in (0, 1, 3)],
            list(data.DataLoader(Range(0, 9, True), batch_size=None, num_workers=2)),
            list(data.DataLoader(Range(0, 9, True), batch_size=2, num_workers=2,
                                 drop_last=True)),
            list(data.DataLoader(whole, batch_size=3, num_workers=2,
                                 worker_init_fn=split_in_init)),
            (whole.start, whole.end),
            list(data.DataLoader(whole, batch_size=4, num_workers=2)),
            data.get_worker_info())


# PyTorch 2.13's results: its workers are processes forked from this one, which JAX's
# threads make unsafe in the test process, so its answers are written out here
SHARDED_BY_PYTORCH = [
    [[[3, 4], [5, 6], [7, 8], [9, 10], [11, 12], [13, 14], [15, 16]],
     [[3, 4], [5, 6], [7, 8], [9, 10], [11, 12], [13, 14], [15, 16]],
     [[3, 4], [8, 9], [13, 14], [5, 6], [10, 11], [15, 16], [7], [12]]],
    [0, 5, 1, 6, 2, 7, 3, 8, 4],
    [[0, 1], [5, 6], [2, 3], [7, 8]],
    [[0, 1, 2], [4, 5, 6], [3]],
    [0, 7],
    [[0, 1, 2, 3], [0, 1, 2, 3], [4, 5, 6], [4, 5, 6]],
    None]


def test_an_iterable_dataset_split_among_workers_comes_in_pytorchs_order():
    assert _plain(_sharded_streams(ft)) == SHARDED_BY_PYTORCH


def test_worker_info_names_the_worker_and_the_dataset_it_iterates():
    data = ft.utils.data

    class Who(data.IterableDataset):
        def __iter__(self):
            info = data.get_worker_info()
            yield {"id": info.id, "of": info.num_workers, "is self": info.dataset is self}

    # PyTorch's answer: each worker iterates its own copy, the one its info names
    assert list(data.DataLoader(Who(), batch_size=None, num_workers=2)) == [
        {"id": 0, "of": 2, "is self": True}, {"id": 1, "of": 2, "is self": True}]


def _opened_per_worker(T):
    """A map-style dataset read through a handle that worker_init_fn opens in each
    worker's copy (the HDF5 pattern), by fresh and persistent workers, two epochs each."""
    data = T.utils.data

    class Opened(data.Dataset):
        def __len__(self):
            return 7

        def __getitem__(self, i):
            info = data.get_worker_info()
            return [i, info.id, self.handle, info.seed % 1000]

    def open_handle(worker_id):
        data.get_worker_info().dataset.handle = 10 * (worker_id + 1)

    out = []
    for persistent in (False, True):
        loader = data.DataLoader(Opened(), batch_size=2, shuffle=True, num_workers=2,
                                 worker_init_fn=open_handle, persistent_workers=persistent,
                                 generator=T.Generator().manual_seed(7),
                                 collate_fn=lambda rows: rows)
        out.append([list(loader) for _ in range(2)])
    out.append(list(data.DataLoader(Opened(), batch_size=None, num_workers=2,
                                    worker_init_fn=open_handle,
                                    generator=T.Generator().manual_seed(3))))
    return out


# PyTorch 2.13's answer (its workers are processes: see above): batch i is read by worker
# i % 2 from its own copy, which its worker_init_fn call opened; the seeds are the
# generator's base seed plus the worker's id, drawn again each epoch unless persistent
OPENED_BY_PYTORCH = [
    [[[[6, 0, 10, 932], [3, 0, 10, 932]], [[5, 1, 20, 933], [0, 1, 20, 933]],
      [[1, 0, 10, 932], [4, 0, 10, 932]], [[2, 1, 20, 933]]],
     [[[0, 0, 10, 482], [5, 0, 10, 482]], [[1, 1, 20, 483], [2, 1, 20, 483]],
      [[4, 0, 10, 482], [3, 0, 10, 482]], [[6, 1, 20, 483]]]],
    [[[[6, 0, 10, 932], [3, 0, 10, 932]], [[5, 1, 20, 933], [0, 1, 20, 933]],
      [[1, 0, 10, 932], [4, 0, 10, 932]], [[2, 1, 20, 933]]],
     [[[2, 0, 10, 932], [5, 0, 10, 932]], [[3, 1, 20, 933], [0, 1, 20, 933]],
      [[4, 0, 10, 932], [1, 0, 10, 932]], [[6, 1, 20, 933]]]],
    [[0, 0, 10, 96], [1, 1, 20, 97], [2, 0, 10, 96], [3, 1, 20, 97], [4, 0, 10, 96],
     [5, 1, 20, 97], [6, 0, 10, 96]]]


def test_map_style_workers_read_their_batches_from_their_own_copy_as_pytorchs():
    # worker_init_fn was not called for a map-style dataset and get_worker_info() was
    # None in __getitem__: a dataset opening its file per worker failed
    assert _plain(_opened_per_worker(ft)) == OPENED_BY_PYTORCH


def _seeded_per_worker(T):
    """A dataset drawing Python's and numpy's random numbers, read by workers seeded with
    PyTorch's reproducibility recipe (fresh and persistent workers) and without it; then
    this process's own next numbers."""
    import random

    data = T.utils.data

    class Noisy(data.Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            return [i, random.randint(0, 999), int(np.random.randint(0, 999))]

    def seed_worker(worker_id):
        worker_seed = T.initial_seed() % 2**32
        np.random.seed(worker_seed)
        random.seed(worker_seed)

    random.seed(1)
    np.random.seed(1)
    out = []
    for init, persistent in ((seed_worker, False), (seed_worker, True), (None, False)):
        loader = data.DataLoader(Noisy(), batch_size=2, shuffle=True, num_workers=2,
                                 worker_init_fn=init, persistent_workers=persistent,
                                 generator=T.Generator().manual_seed(5),
                                 collate_fn=lambda rows: rows)
        epochs = [list(loader) for _ in range(2)]
        if init is None:  # PyTorch seeds numpy in its workers in its own way
            epochs = [[[row[:2] for row in batch] for batch in e] for e in epochs]
        out.append(epochs)
    return [*out, [random.randint(0, 999), int(np.random.randint(0, 999))]]


# PyTorch 2.13's answer (its workers are processes: see above)
SEEDED_BY_PYTORCH = [
    [[[[1, 883, 493], [0, 509, 660]], [[4, 873, 878], [2, 478, 367]],
      [[3, 319, 379], [5, 950, 802]]],
     [[[0, 136, 217], [4, 222, 337]], [[5, 536, 552], [3, 807, 877]],
      [[2, 53, 349], [1, 782, 448]]]],
    [[[[1, 883, 493], [0, 509, 660]], [[4, 873, 878], [2, 478, 367]],
      [[3, 319, 379], [5, 950, 802]]],
     [[[5, 288, 876], [3, 218, 150]], [[4, 567, 148], [1, 538, 938]],
      [[0, 632, 742], [2, 635, 268]]]],
    [[[[1, 996], [0, 680]], [[4, 752], [2, 768]], [[3, 101], [5, 638]]],
     [[[0, 617], [4, 851]], [[5, 402], [3, 490]], [[2, 969], [1, 131]]]],
    [137, 37]]


def test_workers_random_numbers_are_their_own_and_seeded_as_pytorchs():
    # the workers drew from this process's numbers, torch.initial_seed() in them was this
    # process's seed: the recipe reseeded this process's numpy alike each epoch, so every
    # epoch's augmentations repeated
    assert _plain(_seeded_per_worker(ft)) == SEEDED_BY_PYTORCH


def test_default_convert_and_collate_of_numpy_values_as_pytorch(torch):
    def program(T):
        data = T.utils.data
        return (data.default_convert(np.int64(3)), data.default_convert(np.ones(2, np.int64)),
                data.default_collate([{"a": (np.int64(1), "x")}, {"a": (np.int64(2), "y")}]))

    theirs, ours = _both(torch, program)
    assert ours == theirs


# -- torch.distributed without a process group --------------------------------------------


def _sampler_of_epoch(epoch):
    def call(T):
        sampler = T.utils.data.distributed.DistributedSampler(range(4), 2, 0)
        sampler.set_epoch(epoch)  # kept as given, refused when the order is drawn
        return list(sampler)
    return call


NO_GROUP_MISTAKES = {
    "get_rank": lambda T: T.distributed.get_rank(),
    "get_world_size": lambda T: T.distributed.get_world_size(),
    "all_reduce": lambda T: T.distributed.all_reduce(T.ones(1)),
    "barrier": lambda T: T.distributed.barrier(),
    "destroy_process_group": lambda T: T.distributed.destroy_process_group(),
    "DistributedDataParallel": lambda T: T.nn.parallel.DistributedDataParallel(
        T.nn.Linear(2, 2)),
    "DistributedSampler": lambda T: T.utils.data.distributed.DistributedSampler(range(4)),
    "DistributedSampler, num_replicas=0": lambda T:
        T.utils.data.distributed.DistributedSampler(range(4), num_replicas=0, rank=0),
    "DistributedSampler, epoch 1.5": _sampler_of_epoch(1.5),
}


@pytest.mark.parametrize("name", NO_GROUP_MISTAKES)
def test_distributed_calls_without_a_group_raise_pytorchs_errors(torch, name):
    assert not torch.distributed.is_initialized() and not ft.distributed.is_initialized()
    (their_type, theirs), (our_type, ours) = raised_by(NO_GROUP_MISTAKES[name], torch, ft)
    assert our_type is their_type and ours == theirs


# -- imports from PyTorch's submodules, and the loader's iterator ------------------------


@pytest.fixture
def as_torch():
    """fnnet.torch in ``sys.modules`` under another top-level name (``torch`` is PyTorch in
    this process), as a program's ``import torch`` finds it; removed afterwards."""
    import sys

    alias = "fnnet_as_torch"
    sys.modules[alias] = ft
    yield alias
    for name in [n for n in sys.modules if n == alias or n.startswith(alias + ".")]:
        del sys.modules[name]


@pytest.mark.parametrize("path, names", [
    ("utils.data.dataset", ["IterableDataset", "Dataset", "Subset", "ChainDataset"]),
    ("utils.data.sampler", ["Sampler", "SubsetRandomSampler", "BatchSampler"]),
    ("utils.data.dataloader", ["DataLoader", "default_collate", "get_worker_info"]),
    ("utils.data.distributed", ["DistributedSampler"])])
def test_pytorchs_data_submodules_import_the_same_objects(torch, as_torch, path, names):
    import importlib

    ours = importlib.import_module(f"{as_torch}.{path}")
    theirs = importlib.import_module(f"torch.{path}")
    for name in names:  # not second copies, whose classes the loader would not know
        assert getattr(ours, name) is getattr(ft.utils.data, name, None) or \
            getattr(ours, name) is getattr(ft.utils.data.distributed, name)
        assert hasattr(theirs, name)
    assert ours.__spec__.name == ours.__name__ and ours.__name__.startswith("fnnet.torch.")


def test_the_loaders_iterator_has_the_loaders_length(torch):
    def program(T):
        loader = T.utils.data.DataLoader(T.utils.data.TensorDataset(T.arange(5)), batch_size=2)
        batches = iter(loader)
        first = next(batches)
        return len(batches), first, [b for b in batches], iter(batches) is batches

    theirs, ours = _both(torch, program)
    assert ours == theirs


def test_initializing_the_default_group_twice_raises_pytorchs_error(torch):
    import socket

    with socket.socket() as s:  # a free port for PyTorch's store (one process)
        s.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{s.getsockname()[1]}"

    def call(T):
        T.distributed.init_process_group("gloo", init_method=address, rank=0, world_size=1)
        try:
            assert T.distributed.get_world_size() == 1
            T.distributed.init_process_group("gloo", init_method=address, rank=0,
                                             world_size=1)
        finally:
            T.distributed.destroy_process_group()

    (their_type, theirs), (our_type, ours) = raised_by(call, torch, ft)
    assert our_type is their_type and ours == theirs


def test_default_collate_keeps_mapping_types_and_the_samples_graph(torch):
    import collections

    def program(T):
        collate = T.utils.data.default_collate
        ordered = collate([collections.OrderedDict(b=1, a=2)] * 2)
        counts = collate([collections.defaultdict(int, a=1), collections.defaultdict(int, a=3)])
        stacked = collate([T.ones(2, requires_grad=True), T.zeros(2)])
        return (type(ordered).__name__, list(ordered), type(counts).__name__, counts["zz"],
                dict(counts), stacked.requires_grad, stacked.grad_fn is not None)

    theirs, ours = _both(torch, program)
    assert ours == theirs


def test_object_collectives_of_a_one_process_group_as_pytorch(torch):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{s.getsockname()[1]}"

    def program(T):
        dist = T.distributed
        dist.init_process_group("gloo", init_method=address, rank=0, world_size=1)
        try:
            gathered, received, scattered = [None], [None], [None]
            dist.all_gather_object(gathered, {"loss": 0.5, "ids": [1, 2]})
            settings = ["run", {"lr": 0.1}]
            dist.broadcast_object_list(settings, src=0)
            dist.gather_object(("rank", 0), received, dst=0)
            dist.scatter_object_list(scattered, [{"shard": 0}], src=0)
            return gathered, settings, received, scattered
        finally:
            dist.destroy_process_group()

    theirs, ours = _both(torch, program)
    assert ours == theirs


# -- permutations from a seeded generator ------------------------------------------------


def test_permutations_from_a_generator_are_pytorchs(torch):
    """random_split, DataLoader shuffling over epochs (after the iterator's base-seed
    draw), SubsetRandomSampler, RandomSampler's remainder draw, an unseeded Generator's
    default seed, a 64-bit seed and DistributedSampler's epochs."""
    def program(T):
        data = T.utils.data
        ds = data.TensorDataset(T.arange(23))
        shuffled = data.DataLoader(ds, batch_size=5, shuffle=True,
                                   generator=T.Generator().manual_seed(0))
        parts = data.random_split(ds, [0.6, 0.3, 0.1], generator=T.Generator().manual_seed(42))
        sampler = data.distributed.DistributedSampler(ds, num_replicas=2, rank=1, seed=7)
        epochs = []
        for epoch in range(2):
            sampler.set_epoch(epoch)
            epochs.append(list(sampler))
        return ([list(shuffled) for _ in range(3)], [p.indices for p in parts], epochs,
                list(data.SubsetRandomSampler(range(10, 20),
                                              generator=T.Generator().manual_seed(3))),
                list(data.RandomSampler(range(7), num_samples=10,
                                        generator=T.Generator().manual_seed(1))),
                list(data.RandomSampler(range(9), replacement=True, num_samples=40,
                                        generator=T.Generator().manual_seed(4))),
                T.randperm(9, generator=T.Generator()),
                T.randperm(9, generator=T.Generator().manual_seed(2**40 + 3)))

    theirs, ours = _both(torch, program)
    assert ours == theirs


def test_persistent_workers_draw_the_base_seed_once_as_pytorch():
    data = ft.utils.data
    loader = data.DataLoader(data.TensorDataset(ft.arange(11)), batch_size=6, shuffle=True,
                             num_workers=2, persistent_workers=True,
                             generator=ft.Generator().manual_seed(9))
    # PyTorch 2.13's batches (its workers are processes forked from this one: see above)
    assert [[b[0].tolist() for b in loader] for _ in range(2)] == [
        [[10, 8, 7, 3, 2, 9], [5, 1, 4, 6, 0]], [[3, 0, 9, 6, 1, 5], [10, 8, 4, 2, 7]]]


def test_pin_memory_without_an_accelerator_warns_as_pytorch(torch):
    import warnings

    assert not torch.accelerator.is_available() and not ft.accelerator.is_available()
    said = []
    for T in (torch, ft):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            iter(T.utils.data.DataLoader(range(4), batch_size=2, pin_memory=True))
        said.append([(w.category, str(w.message)) for w in caught])
    assert said[1] == said[0] and len(said[0]) == 1


def test_more_workers_than_cpus_warn_as_pytorch(torch):
    import os
    import warnings

    workers = len(os.sched_getaffinity(0)) + 1 if hasattr(os, "sched_getaffinity") else \
        (os.cpu_count() or 1) + 1
    said = []
    for T in (torch, ft):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loader = T.utils.data.DataLoader(range(4), num_workers=workers,
                                             multiprocessing_context="spawn")
        said.append([(w.category, str(w.message)) for w in caught])
        assert type(loader.multiprocessing_context).__name__ == "SpawnContext"
    assert said[1] == said[0] and len(said[0]) == 1


def _stream_longer_than_reported(T):
    """A stream yielding more than its ``__len__`` reports, read after ``len(loader)``
    was asked, batched and not; and ConcatDataset's old attribute name."""
    import warnings

    data = T.utils.data

    class Sized(data.IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 5

        def __repr__(self):
            return "Sized()"

    out = []
    for batch_size in (2, None):
        loader = data.DataLoader(Sized(), batch_size=batch_size)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out.append([len(loader), list(loader)])
            iter(data.DataLoader(Sized()))  # len() never asked: no warning
        out.append([(w.category.__name__, str(w.message)) for w in caught])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out.append(data.ConcatDataset([[1, 2], [3]]).cummulative_sizes)
    out.append([(w.category.__name__, str(w.message)) for w in caught])
    return out


def test_a_stream_longer_than_its_reported_length_warns_as_pytorchs(torch):
    # no warning was given (PyTorch compares the batches fetched with the stream's
    # length), and ConcatDataset.cummulative_sizes raised AttributeError
    theirs, ours = _both(torch, _stream_longer_than_reported)
    assert ours == theirs


@pytest.mark.parametrize("shapes", [[(2, 3), (2, 4)], [(2, 3), (2, 3, 1)], [(2,), (3, 2)],
                                    [(2, 1), (3, 4)], [(2,), ()], [(), (2,)]],
                         ids=["trailing", "rank", "scalar-rows", "no-broadcast", "0-d",
                              "0-d-first"])
def test_pad_sequence_refuses_sequences_that_do_not_fit_as_pytorch(torch, shapes):
    # a collate_fn padding features of different widths got torch.stack's words, not
    # those of PyTorch's copy into the padded batch
    theirs, ours = raised_by(lambda T: T.nn.utils.rnn.pad_sequence(
        [T.ones(s) for s in shapes], batch_first=True), torch, ft)
    assert ours == theirs


def test_pad_sequence_broadcasts_and_casts_to_the_first_sequence_as_pytorch(torch):
    # the output took each sequence as it came (a [L, 1] sequence beside [L, 3] ones
    # raised, a float one beside a long one made the batch float)
    def program(T):
        pad = T.nn.utils.rnn.pad_sequence
        return (pad([T.ones(2, 3), T.arange(2.0).reshape(2, 1)], padding_value=7),
                pad([T.ones(2, dtype=T.int64), T.tensor([1.7])], batch_first=True),
                T.nn.utils.rnn.pad_sequence([T.ones(1)], padding_side="left"),
                raised_by(lambda M: M.nn.utils.rnn.pad_sequence([M.ones(1)],
                                                                padding_side="top"), T)[0])

    theirs, ours = _both(torch, program)
    assert ours == theirs


def test_data_classes_subscript_and_subclass_as_pytorchs(torch):
    # DataLoader, StackDataset, ChainDataset and DistributedSampler were not generic, so
    # an annotation such as `loader: DataLoader[tuple[Tensor, Tensor]]` evaluated at
    # run time raised TypeError; and DistributedSampler was no Sampler
    names = ["DataLoader", "Dataset", "IterableDataset", "TensorDataset", "StackDataset",
             "ConcatDataset", "ChainDataset", "Subset", "Sampler", "SequentialSampler",
             "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler",
             "DistributedSampler"]

    def program(T):
        data = T.utils.data
        subscripted = []
        for name in names:
            try:
                getattr(data, name)[int]
                subscripted.append(True)
            except TypeError:
                subscripted.append(False)
        sampler = data.DistributedSampler(range(4), num_replicas=2, rank=0)
        return subscripted, isinstance(sampler, data.Sampler)

    theirs, ours = _both(torch, program)
    assert ours == theirs


def test_a_stack_of_augmenting_datasets_draws_in_pytorchs_order(torch):
    # StackDataset read each sample's members in turn; PyTorch's loader reads each
    # member for the whole batch (its __getitems__), so random draws came in another order
    def program(T):
        data = T.utils.data

        class Noisy(data.Dataset):
            def __init__(self, scale):
                self.scale = scale

            def __len__(self):
                return 5

            def __getitem__(self, i):
                return int(float(T.rand(1)) * 1000 * self.scale)

        class Batched(Noisy):
            def __getitems__(self, indices):
                return [i * 10 for i in indices]

        T.manual_seed(0)
        by_name = data.StackDataset(a=Noisy(1), b=Noisy(100), c=Batched(1))
        by_place = data.StackDataset(Noisy(1), Batched(1), Noisy(100))
        return (list(data.DataLoader(by_name, batch_size=2)),
                list(data.DataLoader(by_place, batch_size=3)), by_name[1])

    theirs, ours = _both(torch, program)
    assert ours == theirs


def test_a_loader_whose_workers_are_turned_off_reads_in_this_process():
    data = ft.utils.data

    class Who(data.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            info = data.get_worker_info()
            return -1 if info is None else info.id

    loader = data.DataLoader(Who(), batch_size=1, num_workers=2)
    first = [b.item() for b in loader]
    loader.num_workers = 0
    # PyTorch 2.13's answer: the second epoch has no workers (the last ones were kept)
    assert (first, [b.item() for b in loader]) == ([0, 1, 0, 1], [-1, -1, -1, -1])
