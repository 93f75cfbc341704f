"""Data pipelines as user programs meet them: a sampler draws when PyTorch's draws (an
epoch left early, a sampler started before the loader's seed, the indices workers are
handed ahead), each worker has PyTorch's own torch, Python and numpy generators
(augmentations drawn in ``__getitem__`` or a stream) and raises as PyTorch's workers do,
``default_collate`` makes numbers and mixed dtypes into PyTorch's tensors, and
``torch.tensor`` of rows holding text or gaps raises PyTorch's errors; each compared
with PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import plain as _plain
from helpers import raised_by

import fnnet.torch as ft

pytestmark = pytest.mark.torch


def _left_early(T):
    """Epochs left after two batches, then whole ones, for a shuffled loader whose
    permutation does not divide into batches, samplers drawn with replacement, and
    samplers whose first index is read after a draw of the global generator."""
    data = T.utils.data
    T.manual_seed(0)
    g = T.Generator().manual_seed(7)
    loader = data.DataLoader(range(23), batch_size=4, shuffle=True, drop_last=True,
                             generator=g)
    it = iter(loader)
    halves = [next(it), next(it)]
    whole = list(loader)
    replaced = data.DataLoader(range(9), batch_size=5, generator=g, sampler=data.RandomSampler(
        range(9), replacement=True, num_samples=70, generator=g))
    it = iter(replaced)
    halves.append(next(it))
    weighted = iter(data.WeightedRandomSampler([1.0, 2.0, 3.0], 4))
    subset = iter(data.SubsetRandomSampler([5, 6, 7]))
    between = T.rand(2)  # PyTorch's samplers draw when their first index is read
    return (halves, whole, between, next(weighted), next(subset), T.randperm(6, generator=g),
            T.rand(2))


def test_an_epoch_left_early_leaves_the_generators_where_pytorchs_does(torch):
    # the loader drew its whole order at the first batch (the permutation of the
    # remainder too), and the samplers theirs when iterated: the next epochs differed
    theirs, ours = (_plain(_left_early(T)) for T in (torch, ft))
    assert ours == theirs


def _started_before_the_seed(T):
    """A user sampler whose ``__iter__`` draws at once (not a generator): PyTorch's
    loader starts it before drawing its own seed from the same generator."""
    data = T.utils.data

    class Drawn(data.Sampler):
        def __init__(self, n, generator):
            self.n, self.generator = n, generator

        def __iter__(self):
            return iter(T.randperm(self.n, generator=self.generator).tolist())

        def __len__(self):
            return self.n

    g = T.Generator().manual_seed(3)
    loader = data.DataLoader(range(6), sampler=Drawn(6, g), batch_size=4, generator=g)
    return [list(loader), list(loader), T.randperm(5, generator=g)]


def test_a_sampler_drawing_in_iter_draws_before_the_loaders_seed_as_pytorchs(torch):
    theirs, ours = (_plain(_started_before_the_seed(T)) for T in (torch, ft))
    assert ours == theirs


def _keys_of_a_mapping(T):
    """A dataset keyed by names, read in the order of a sampler of its keys."""
    table = {"cat": [1.0, 2.0], "dog": [3.0, 4.0], "emu": [5.0, 6.0]}
    loader = T.utils.data.DataLoader(table, sampler=["emu", "cat", "dog"], batch_size=2)
    batches = T.utils.data.BatchSampler(["emu", "cat", "dog"], 2, drop_last=False)
    return list(loader), list(batches)


def test_a_sampler_of_keys_reads_a_mapping_as_pytorchs(torch):
    # the batch sampler made every index an int: a sampler of a dict's keys failed
    theirs, ours = (_plain(_keys_of_a_mapping(T)) for T in (torch, ft))
    assert ours == theirs


def _read_ahead_by_workers(T):
    """A loader with workers left after one batch: PyTorch hands its workers
    ``prefetch_factor`` batches of indices each at once, so the sampler has drawn more
    than the batches read."""
    data = T.utils.data
    g = T.Generator().manual_seed(11)
    out = []
    for prefetch in (1, 2):
        loader = data.DataLoader(range(10), batch_size=3, generator=g, num_workers=2,
                                 prefetch_factor=prefetch, sampler=data.RandomSampler(
                                     range(10), replacement=True, num_samples=40,
                                     generator=g))
        it = iter(loader)
        out.append([next(it), T.randperm(5, generator=g)])
        del it
    return out


# PyTorch 2.13's answers: its workers are processes forked from this one, which JAX's
# threads make unsafe in the test process, so its answers are written out here
READ_AHEAD_BY_PYTORCH = [[[0, 7, 3], [3, 0, 2, 1, 4]], [[9, 1, 8], [2, 4, 1, 3, 0]]]


def test_workers_take_their_indices_ahead_as_pytorchs():
    assert _plain(_read_ahead_by_workers(ft)) == READ_AHEAD_BY_PYTORCH


def _augmented_by_workers(T):
    """Augmentations drawn in ``__getitem__`` from torch's, Python's and numpy's global
    generators, read by two workers (fresh each epoch, and persistent), then an
    IterableDataset drawing in its stream; this process's next numbers after each."""
    import random

    data = T.utils.data

    class Augmented(data.Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            return [i, round(T.rand(1).item(), 4), round(T.randn(2)[1].item(), 4),
                    random.randint(0, 999), int(np.random.randint(0, 999)),
                    T.initial_seed() % 1000]

    class Stream(data.IterableDataset):
        def __iter__(self):
            for i in range(3):
                yield [i, round(T.rand(1).item(), 4), int(np.random.randint(0, 999)),
                       data.get_worker_info().id]

    T.manual_seed(4)
    random.seed(4)
    np.random.seed(4)
    out = []
    for persistent in (False, True):
        loader = data.DataLoader(Augmented(), batch_size=2, shuffle=True, num_workers=2,
                                 persistent_workers=persistent, collate_fn=lambda rows: rows)
        out.append([list(loader) for _ in range(2)])
        out.append(round(T.rand(1).item(), 4))
    out.append(list(data.DataLoader(Stream(), batch_size=None, num_workers=2)))
    out.append([round(T.rand(1).item(), 4), random.randint(0, 999),
                int(np.random.randint(0, 999))])
    return out


# PyTorch 2.13's answer (its workers are processes: see above)
AUGMENTED_BY_PYTORCH = [
    [[[[0, 0.4101, 1.0341, 100, 989, 766], [3, 0.2505, -0.4756, 60, 469, 766]],
      [[1, 0.4775, -0.312, 748, 466, 767], [2, 0.5388, -0.0813, 852, 418, 767]],
      [[4, 0.1767, -1.1304, 337, 336, 766], [5, 0.954, 0.683, 82, 953, 766]]],
     [[[2, 0.5723, 0.6117, 606, 676, 912], [3, 0.4774, 0.3895, 370, 495, 912]],
      [[4, 0.937, -1.7947, 813, 920, 913], [1, 0.4583, 0.112, 239, 749, 913]],
      [[0, 0.7415, -0.9794, 563, 637, 912], [5, 0.233, 0.8409, 964, 14, 912]]]],
    0.6186,
    [[[[5, 0.7738, -0.0813, 602, 884, 386], [3, 0.1115, -0.4561, 12, 752, 386]],
      [[4, 0.1204, 2.0128, 485, 796, 387], [2, 0.4939, 2.7429, 788, 842, 387]],
      [[0, 0.3092, -0.3355, 367, 144, 386], [1, 0.1801, -2.4111, 710, 720, 386]]],
     [[[3, 0.406, 0.185, 499, 345, 386], [0, 0.8804, -0.3004, 899, 765, 386]],
      [[4, 0.9855, 0.6828, 112, 101, 387], [1, 0.6434, -1.0492, 619, 603, 387]],
      [[5, 0.1562, 1.7857, 640, 211, 386], [2, 0.6091, -1.0269, 736, 569, 386]]]],
    0.7956,
    [[0, 0.7692, 244, 0], [0, 0.2231, 826, 1], [1, 0.1034, 862, 0], [1, 0.7343, 367, 1],
     [2, 0.8671, 558, 0], [2, 0.8066, 621, 1]],
    [0.3066, 241, 122]]


def test_workers_draw_from_generators_of_their_own_seeded_as_pytorchs():
    # torch's draws in a worker came from this process's generator (moving it), and
    # numpy's generator of a worker was seeded otherwise than PyTorch's
    assert _plain(_augmented_by_workers(ft)) == AUGMENTED_BY_PYTORCH


def _collated_numbers(T):
    """default_collate of Python numbers of mixed kinds, numpy scalars and arrays, and
    tensors of several dtypes, as PyTorch's collate makes them."""
    collate = T.utils.data.default_collate
    made = [collate([1, 2.5]), collate([True, 2]), collate([True, False]),
            collate([np.int64(3), np.int64(4)]), collate([np.bool_(True), np.bool_(False)]),
            collate([T.zeros(2), T.ones(2, dtype=T.int64)]),
            collate([T.ones(2, dtype=T.int64), T.zeros(2, dtype=T.uint8)]),
            collate([np.zeros(2, np.float32), np.ones(2, np.int64)]),
            collate([np.zeros(2, np.uint8), np.ones(2, np.int8)])]
    return [(t.tolist(), str(t.dtype)) for t in made]


def test_default_collate_makes_numbers_and_mixed_dtypes_as_pytorch(torch):
    # a batch of tensors of two dtypes was stacked by numpy into float64, which
    # fnnet.torch refused when read; an int batch with a float stayed numpy's float64
    theirs, ours = (_collated_numbers(T) for T in (torch, ft))
    assert ours == theirs


@pytest.mark.parametrize("batch", [[1, "a"], [2.5, "b"]], ids=["int", "float"])
def test_default_collate_of_numbers_with_a_string_raises_pytorchs_error(torch, batch):
    # it made a tensor of numpy's strings, which raised NotImplementedError when read
    theirs, ours = raised_by(lambda T: T.utils.data.default_collate(batch), torch, ft)
    assert ours == theirs


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
@pytest.mark.parametrize("rows", [[[1.0, 2.0], [3.0, "n/a"]], [[1, None]], [[4, object()]]],
                         ids=["text", "none", "object"])
def test_a_tensor_of_rows_with_what_is_not_a_number_raises_pytorchs_error(torch, rows, dtype):
    # a CSV's rows with a header or a gap, made a tensor of a given dtype: numpy's
    # ValueError came through, or PyTorch's words for a tensor given no dtype
    theirs, ours = raised_by(lambda T: T.tensor(rows, dtype=getattr(T, dtype)), torch, ft)
    assert ours == theirs


def _raised_in_workers(T):
    """Exceptions raised in workers: by ``__getitem__`` (batch 3 is worker 1's), by a
    ``collate_fn`` looking up a missing key, by a stream, and by ``worker_init_fn``:
    each exception's type, the first two lines of its message and its last line."""
    data = T.utils.data

    class Bad(data.Dataset):
        def __len__(self):
            return 8

        def __getitem__(self, i):
            if i == 3:
                raise ValueError(f"bad sample {i}")
            return i

    class BadStream(data.IterableDataset):
        def __iter__(self):
            if data.get_worker_info().id == 1:
                raise OSError("cannot open shard 1")
            yield 0

    def first_bad(worker_id):
        if worker_id == 0:
            raise RuntimeError("no file handle")

    def described(make):
        try:
            list(make())
        except Exception as error:  # noqa: BLE001 - what each raises is compared
            lines = str(error).splitlines()
            return [type(error).__name__, *lines[:2], lines[-1]]
        return None

    return [described(lambda: data.DataLoader(Bad(), batch_size=1, num_workers=2)),
            described(lambda: data.DataLoader(Bad(), batch_size=2, num_workers=2,
                                              collate_fn=lambda rows: {}["rows"])),
            described(lambda: data.DataLoader(BadStream(), batch_size=None, num_workers=2)),
            described(lambda: data.DataLoader(range(4), num_workers=2,
                                              worker_init_fn=first_bad))]


# PyTorch 2.13's answer (its workers are processes: see above)
RAISED_BY_PYTORCH = [
    ["ValueError", "Caught ValueError in DataLoader worker process 1.",
     "Original Traceback (most recent call last):", "ValueError: bad sample 3"],
    ["KeyError", "Caught KeyError in DataLoader worker process 0.",
     "Original Traceback (most recent call last):", "KeyError: 'rows'"],
    ["OSError", "Caught OSError in DataLoader worker process 1.",
     "Original Traceback (most recent call last):", "OSError: cannot open shard 1"],
    ["RuntimeError", "Caught RuntimeError in DataLoader worker process 0.",
     "Original Traceback (most recent call last):", "RuntimeError: no file handle"]]


def test_an_exception_in_a_worker_comes_out_as_pytorchs_loader_raises_it():
    # the worker's exception came through as it was raised, without PyTorch's message
    # naming the worker and holding its traceback
    assert _raised_in_workers(ft) == RAISED_BY_PYTORCH


def _custom_collate_maps(T):
    """PyTorch's documented ways to extend default_collate: a map of one's own built on
    ``default_collate_fn_map``, and the module's map extended in place (undone after);
    and default_convert of numpy values in a namedtuple, a tuple and a deque."""
    import collections

    from_collate = __import__(f"{T.__name__}.utils.data._utils.collate",
                              fromlist=["collate"])

    class Point:
        def __init__(self, x, y):
            self.x, self.y = x, y

    def collate_points(batch, *, collate_fn_map=None):
        return T.tensor([[p.x, p.y] for p in batch])

    samples = [{"p": Point(1, 2), "w": np.float32(0.5)}, {"p": Point(3, 4), "w": np.float32(2)}]
    own = {Point: collate_points, **from_collate.default_collate_fn_map}
    made = [from_collate.collate(samples, collate_fn_map=own)]
    from_collate.default_collate_fn_map[Point] = collate_points
    try:
        made.append(T.utils.data.default_collate(samples))
    finally:
        del from_collate.default_collate_fn_map[Point]
    Pair = collections.namedtuple("Pair", "a b")
    made.append(T.utils.data.default_convert(
        [Pair(np.arange(2), 1), (np.float64(2.5), "s"),
         collections.deque([np.array([True]), np.array(["text"])])]))
    made.append(from_collate.default_collate is T.utils.data.default_collate)
    return made


def test_default_collate_extends_by_pytorchs_collate_fn_map(torch):
    # torch.utils.data._utils.collate could not be imported: code extending the map, or
    # importing default_collate from there, stopped at the import
    theirs, ours = (_plain(_custom_collate_maps(T)) for T in (torch, ft))
    assert str(ours) == str(theirs)


def _reseeded_in_workers(T, reseed=True):
    """``torch.manual_seed`` called in ``worker_init_fn`` (a recipe of its own for
    reproducible augmentations) and the generator's state kept and set again in
    ``__getitem__`` (one draw for an image and its mask): each worker's draws restart
    from its seed, and this process's generator is left alone; then a dropout mask
    drawn after the epoch."""
    data = T.utils.data

    class Drawn(data.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):  # one draw applied twice (an image and its mask)
            kept = T.get_rng_state()
            first = int(T.randint(0, 1000, (1,)))
            T.set_rng_state(kept)
            return [first, int(T.randint(0, 1000, (1,))), T.initial_seed() % 1000]

    def init(worker_id):
        if reseed:
            T.manual_seed(worker_id)

    loader = data.DataLoader(Drawn(), batch_size=1, num_workers=2, worker_init_fn=init)
    T.manual_seed(1)
    drawn = [[[t.item() for t in b] for b in loader], int(T.randint(0, 1000, (1,)))]
    T.manual_seed(1)
    dropout = T.nn.Dropout(0.5)
    pending = dropout(T.ones(64))  # a draw recorded in the step not yet run
    list(loader)
    return drawn, [pending.tolist(), dropout(T.ones(64)).tolist()]


# PyTorch 2.13's answer (its workers are processes: see above)
RESEEDED_BY_PYTORCH = [[[44, 44, 0], [845, 845, 1], [239, 239, 0], [139, 139, 1]], 124]


def test_seeding_or_setting_the_generator_in_a_worker_touches_that_worker_alone():
    # the seed (and a state set again) reached this process's jax key too: the pending
    # step's dropout key was put back after the worker, so later masks repeated
    drawn, masks = _reseeded_in_workers(ft)
    assert drawn == RESEEDED_BY_PYTORCH
    assert masks == _reseeded_in_workers(ft, reseed=False)[1]


def _generator_objects_of_a_dataset(T):
    """A dataset holding generator objects of its own (numpy's, Python's, torch's) and a
    list it appends to, read by two workers for two epochs; then the list's length in
    this process."""
    import random

    data = T.utils.data

    class Drawing(data.Dataset):
        def __init__(self):
            self.rng = np.random.default_rng(0)
            self.py_rng = random.Random(1)
            self.g = T.Generator().manual_seed(2)
            self.seen = []
            self.x = np.arange(6)

        def __len__(self):
            return 6

        def __getitem__(self, i):
            self.seen.append(i)
            return [int(self.x[i]), int(self.rng.integers(0, 100)), self.py_rng.randint(0, 99),
                    int(T.randint(0, 100, (1,), generator=self.g)), len(self.seen)]

    dataset = Drawing()
    out = [list(data.DataLoader(dataset, batch_size=None, num_workers=2)) for _ in range(2)]
    return [*out, len(dataset.seen)]


# PyTorch 2.13's answer (its workers are processes: see above): each worker starts from
# the dataset as it is in this process, and this process's dataset does not change
GENERATOR_OBJECTS_BY_PYTORCH = [
    [[0, 85, 17, 48, 1], [1, 85, 17, 48, 1], [2, 63, 72, 87, 2], [3, 63, 72, 87, 2],
     [4, 51, 97, 1, 3], [5, 51, 97, 1, 3]]] * 2 + [0]


def test_workers_have_their_own_copy_of_a_datasets_generators_and_lists():
    # the workers' copies were shallow: they drew from one generator object between them
    # and appended to this process's list
    assert _plain(_generator_objects_of_a_dataset(ft)) == GENERATOR_OBJECTS_BY_PYTORCH
