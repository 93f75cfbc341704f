"""Batching: seeded resumable epochs, drop_last, prefetching, on-device data, process shards."""

from __future__ import annotations

import re
import threading
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fnnet import data


def make_data(n=10, shape=(1, 2, 2)):
    images = np.arange(n * int(np.prod(shape)), dtype=np.float32).reshape(n, *shape)
    return images, np.arange(n, dtype=np.int32)  # label i marks example i


def epoch_labels(**kwargs):
    images, labels = make_data(kwargs.pop("n", 10))
    return [y for _, y in data.batches(images, labels, **kwargs)]


def test_every_example_once_per_epoch():
    for epoch in range(3):
        batches = epoch_labels(n=103, batch_size=8, seed=1, epoch=epoch)
        assert [len(b) for b in batches] == [8] * 12 + [7]
        np.testing.assert_array_equal(np.sort(np.concatenate(batches)), np.arange(103))


def test_images_follow_labels():
    images, labels = make_data(10)
    for x, y in data.batches(images, labels, 4, seed=3):
        np.testing.assert_array_equal(x, images[y])


def test_shuffle_is_a_function_of_seed_and_epoch():
    order = lambda **kw: np.concatenate(epoch_labels(n=50, batch_size=7, **kw))
    np.testing.assert_array_equal(order(seed=0, epoch=2), order(seed=0, epoch=2))
    assert not np.array_equal(order(seed=0, epoch=0), order(seed=0, epoch=1))
    assert not np.array_equal(order(seed=0, epoch=0), order(seed=1, epoch=0))
    np.testing.assert_array_equal(order(shuffle=False), np.arange(50))
    np.testing.assert_array_equal(order(seed=5, epoch=4),
                                  np.random.default_rng([5, 4]).permutation(50))


def test_drop_last():
    assert [len(b) for b in epoch_labels(batch_size=3, drop_last=True)] == [3, 3, 3]
    assert [len(b) for b in epoch_labels(batch_size=3, drop_last=False)] == [3, 3, 3, 1]
    assert [len(b) for b in epoch_labels(batch_size=5, drop_last=True)] == [5, 5]
    assert data.steps_per_epoch(10, 3) == 4 and data.steps_per_epoch(10, 3, drop_last=True) == 3
    # Larger than the data set without drop_last: one batch of everything.
    assert [len(b) for b in epoch_labels(batch_size=64)] == [10]


def test_resume_at_offset():
    full = epoch_labels(n=40, batch_size=6, seed=2, epoch=5)
    for start in (0, 3, 7):
        resumed = epoch_labels(n=40, batch_size=6, seed=2, epoch=5, start=start)
        assert len(resumed) == len(full) - start
        for a, b in zip(resumed, full[start:], strict=True):
            np.testing.assert_array_equal(a, b)


def test_batch_errors():
    images, labels = make_data(10)
    with pytest.raises(ValueError, match="batch_size must be positive, got 0"):
        data.batches(images, labels, 0)
    with pytest.raises(ValueError, match="batch_size must be positive, got -2"):
        data.DataLoader((images, labels), -2)
    with pytest.raises(TypeError, match="batch_size must be an int, got float"):
        data.batches(images, labels, 2.0)
    with pytest.raises(ValueError, match=re.escape(
            "batch_size=11 is larger than the data set (N=10): with drop_last=True an epoch "
            "would have no batch")):
        data.batches(images, labels, 11, drop_last=True)
    with pytest.raises(ValueError, match=re.escape(
            "batch_size=4 x process_count=3 is larger than the data set (N=10)")):
        data.batches(images, labels, 4, drop_last=True, process_index=0, process_count=3)
    with pytest.raises(ValueError, match=re.escape(
            "images and labels must have the same length, got 10 images and 9 labels")):
        data.batches(images, labels[:9], 2)
    with pytest.raises(ValueError, match=re.escape(
            "images and labels must have the same length, got 10 images and 9 labels")):
        data.DataLoader((images, labels[:9]), 2)
    with pytest.raises(ValueError, match=re.escape("the data set is empty (N=0)")):
        data.batches(images[:0], labels[:0], 2)
    with pytest.raises(ValueError, match=re.escape(
            "start must be in [0, 4] (steps per epoch), got 5")):
        data.batches(images, labels, 3, start=5)
    with pytest.raises(ValueError, match=re.escape("process_index must be in [0, 2), got 2")):
        data.batches(images, labels, 3, process_index=2, process_count=2)
    with pytest.raises(ValueError, match="prefetch must be a non-negative int, got -1"):
        data.DataLoader((images, labels), 2, prefetch=-1)


@pytest.mark.parametrize("n, batch_size, count, drop_last", [
    (100, 8, 3, False), (100, 8, 3, True), (10, 2, 4, False), (64, 16, 4, True)])
def test_process_shards_are_disjoint_and_cover(n, batch_size, count, drop_last):
    images, labels = make_data(n)
    shards = [[y for _, y in data.batches(images, labels, batch_size, seed=4, epoch=1,
                                          drop_last=drop_last, process_index=p,
                                          process_count=count)]
              for p in range(count)]
    steps = {len(s) for s in shards}
    assert len(steps) == 1  # every process runs the same number of steps
    seen = np.concatenate([np.concatenate(s) for s in shards])
    assert len(np.unique(seen)) == len(seen)  # disjoint
    global_batch = batch_size * count
    expected = n - n % global_batch if drop_last else n
    assert len(seen) == expected  # covering (all but the dropped tail)
    # Process-local batches stacked in process order make the single-process global batch.
    single = [y for _, y in data.batches(images, labels, global_batch, seed=4, epoch=1,
                                         drop_last=drop_last, process_index=0,
                                         process_count=1)]
    for step, whole in enumerate(single):
        np.testing.assert_array_equal(np.concatenate([s[step] for s in shards]), whole)


def test_dataloader_epochs_match_batches():
    images, labels = make_data(23)
    loader = data.DataLoader((images, labels), 5, seed=7)
    assert len(loader) == 5
    for epoch in range(3):  # each iter() is the next epoch
        got = list(loader)
        expected = list(data.batches(images, labels, 5, seed=7, epoch=epoch))
        assert len(got) == len(expected)
        for (x, y), (ex, ey) in zip(got, expected, strict=True):
            assert isinstance(x, jax.Array) and isinstance(y, jax.Array)
            np.testing.assert_array_equal(x, ex)
            np.testing.assert_array_equal(y, ey)


def test_dataloader_resume_and_options():
    images, labels = make_data(23)
    loader = data.DataLoader((images, labels), 5, seed=7, epoch=2, start=3, prefetch=0,
                             drop_last=True, transform=lambda x, y: (x * 2, y))
    first = list(loader)  # epoch 2 from step 3
    expected = list(data.batches(images, labels, 5, seed=7, epoch=2, drop_last=True, start=3))
    assert len(first) == 1 and isinstance(first[0][0], np.ndarray)
    np.testing.assert_array_equal(first[0][0], expected[0][0] * 2)
    assert [len(y) for _, y in loader] == [5] * 4  # epoch 3, from its start
    assert loader.next_epoch == 4
    again = list(loader.epoch(2, start=3))
    np.testing.assert_array_equal(again[0][1], first[0][1])


def test_dataloader_places_batches_on_the_device():
    images, labels = make_data(12)
    device = jax.devices()[-1]
    x, y = next(iter(data.DataLoader((images, labels), 4, device=device)))
    assert x.devices() == {device} and y.devices() == {device}
    if len(jax.devices()) >= 4:
        mesh = jax.sharding.Mesh(np.array(jax.devices()[:4]), ("batch",))
        sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("batch"))
        x, y = next(iter(data.DataLoader((images, labels), 4, device=sharding)))
        assert x.sharding == sharding and len(x.addressable_shards) == 4


class CountingSource:
    """A random-access data set that records which indices were read."""

    def __init__(self, n):
        self.images, self.labels = make_data(n)
        self.reads = []

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        self.reads.append(np.asarray(idx))
        return self.images[idx], self.labels[idx]


def test_dataloader_reads_a_random_access_source_by_batch():
    source = CountingSource(20)
    loader = data.DataLoader(source, 6, seed=1, prefetch=2)
    iterator = iter(loader)
    x, y = next(iterator)
    # the batch in hand and two more read ahead by the prefetch thread (in its own time)
    wait_for(lambda: len(source.reads) >= 3)
    time.sleep(0.02)  # a reader running further ahead would show here
    assert len(source.reads) == 3
    np.testing.assert_array_equal(x, source.images[np.asarray(y)])
    rest = list(iterator)
    assert len(source.reads) == 4 and len(rest) == 3
    assert all(len(r) <= 6 for r in source.reads)  # never the whole data set at once


def wait_for(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)


@pytest.mark.parametrize("thread", [True, False])
def test_prefetch_depth(thread):
    pulled = []

    def produce():
        for i in range(6):
            pulled.append(i)
            yield np.full((2,), i)

    it = data.prefetch_to_device(produce(), size=2, thread=thread)
    for i in range(6):
        batch = next(it)
        assert isinstance(batch, jax.Array) and int(batch[0]) == i  # in order
        expected = min(i + 3, 6)  # batch i in hand, i+1 and i+2 read and sent ahead
        wait_for(lambda expected=expected: len(pulled) >= expected)
        time.sleep(0.02)  # a worker running ahead would show here
        assert len(pulled) == expected
    assert next(it, None) is None
    with pytest.raises(ValueError, match="size must be at least 1, got 0"):
        data.prefetch_to_device(iter([]), size=0)


@pytest.mark.parametrize("thread", [True, False])
def test_prefetched_batches_are_copies(thread):
    host = [np.full((3, 4), i, np.float32) for i in range(4)]
    on_device = list(data.prefetch_to_device(iter(host), size=2, thread=thread))
    for batch in host:
        batch += 100  # a reused host buffer must not show through
    assert [float(b[0, 0]) for b in on_device] == [0.0, 1.0, 2.0, 3.0]
    assert all(isinstance(b, jax.Array) and b.dtype == jnp.float32 for b in on_device)


def test_loader_gives_the_same_batches_with_or_without_a_thread():
    images, labels = make_data(23)
    in_memory = data.DataLoader((images, labels), 5, seed=3)  # read in the calling thread
    threaded = data.DataLoader((images, labels), 5, seed=3, transform=lambda x, y: (x, y))
    host = data.DataLoader((images, labels), 5, seed=3, prefetch=0)
    for a, b, c in zip(in_memory.epoch(1), threaded.epoch(1), host.epoch(1), strict=True):
        for u, v, w in zip(a, b, c, strict=True):
            np.testing.assert_array_equal(np.asarray(u), w)
            np.testing.assert_array_equal(np.asarray(v), w)


def test_prefetch_raises_reader_errors_and_stops_when_abandoned():
    def failing():
        yield np.zeros(2)
        raise OSError("disk gone")

    it = data.prefetch_to_device(failing(), size=2)
    next(it)
    with pytest.raises(OSError, match="disk gone"):
        next(it)

    def readers():
        return {t for t in threading.enumerate() if t.name == "fnnet-prefetch"}

    before = readers()  # other tests' iterators may still be alive in this process
    it = data.prefetch_to_device((np.zeros(2) for _ in range(100)), size=2)
    next(it)
    (reader,) = readers() - before
    it.close()  # the caller stops early: the reading thread ends
    reader.join(timeout=10)
    assert not reader.is_alive()


def test_device_dataset_gathers_inside_jit():
    images, labels = make_data(23)
    ds = data.DeviceDataset(images, labels, 5, seed=7)
    assert len(ds) == 4
    idx = ds.epoch_indices(1)
    assert idx.shape == (4, 5) and idx.dtype == jnp.int32
    loader = data.DataLoader((images, labels), 5, seed=7, drop_last=True, prefetch=0)
    host = list(loader.epoch(1))  # the same batches as the host loader
    step = jax.jit(lambda d, i: data.gather(d, i))
    rows = ds.epoch(1)
    for row, (hx, hy) in zip(rows, host, strict=True):
        x, y = step(ds.data, row)
        np.testing.assert_array_equal(x, hx)
        np.testing.assert_array_equal(y, hy)
    resumed = ds.epoch(1, start=2)
    assert len(resumed) == 2
    np.testing.assert_array_equal(resumed[0], rows[2])
    assert ds.epoch(1, start=4) == []
    with pytest.raises(ValueError, match=re.escape(
            "start must be in [0, 4] (steps per epoch), got 5")):
        ds.epoch(0, start=5)
    with pytest.raises(ValueError, match=re.escape(
            "batch_size=24 is larger than the data set (N=23)")):
        data.DeviceDataset(images, labels, 24)


def test_device_dataset_process_shards():
    images, labels = make_data(40)
    shards = [np.asarray(data.DeviceDataset(images, labels, 4, seed=2, process_index=p,
                                            process_count=2).epoch_indices(3))
              for p in range(2)]
    assert shards[0].shape == shards[1].shape == (5, 4)
    np.testing.assert_array_equal(np.sort(np.concatenate([s.ravel() for s in shards])),
                                  np.arange(40))


_X, _Y = np.zeros((10, 1, 2, 2), np.float32), np.arange(10) % 3


@pytest.mark.parametrize("call, error, message", [
    (lambda: data.batches([[1.0, 2.0]], [0], 1), TypeError,
     "batches: images must be an array (numpy or jax) with a leading batch axis, got list; "
     "convert it with np.asarray"),
    (lambda: data.batches(_X, _Y, 3, shuffle="no"), TypeError, "shuffle must be a bool, got 'no'"),
    (lambda: data.batches(_X, _Y, 3, seed=1.5), TypeError, "seed must be an int, got 1.5"),
    (lambda: data.batches(_X, _Y, 3, epoch=-1), ValueError, "epoch must be non-negative, got -1"),
    (lambda: data.DataLoader((_X, _Y), 3, seed="0"), TypeError, "seed must be an int, got '0'"),
    (lambda: data.DataLoader((_X, _Y), 3, drop_last=1), TypeError,
     "drop_last must be a bool, got 1"),
    (lambda: data.DataLoader((_X, _Y), 3, device="gpu"), TypeError,
     "device must be a jax.Device or a Sharding (e.g. jax.devices()[0]), got 'gpu'"),
    (lambda: data.DataLoader((_X, _Y), 3, transform=np.float32(1)), TypeError,
     "transform must be a function (images, labels) -> (images, labels), got float32"),
    (lambda: next(iter(data.DataLoader((_X, _Y), 3, transform=lambda x, y: x))), TypeError,
     "transform must return an (images, labels) pair, got ndarray"),
    (lambda: data.DeviceDataset(_X, _Y, 3, shuffle=None), TypeError,
     "shuffle must be a bool, got None"),
    (lambda: data.DeviceDataset(_X, _Y, 3, device="cpu"), TypeError,
     "device must be a jax.Device or a Sharding (e.g. jax.devices()[0]), got 'cpu'"),
])
def test_bad_loader_arguments_are_named(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()
