"""The whole data set on the device: each jitted step gathers its batch by index.

For data sets that fit in accelerator memory (MNIST is 47 MB as uint8) this removes
the host from the training loop: the images go over once, and a step receives only
the ``[batch]`` indices of its examples, which :func:`gather` turns into the batch
inside the compiled step.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fnnet.core.transfer import check_device
from fnnet.data.dataset import check_lengths
from fnnet.data.sampler import batch_indices, check_order, resolve_process, steps_per_epoch


def gather(data: tuple[jax.Array, jax.Array], idx: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The batch ``(images[idx], labels[idx])``; call it inside the jitted step.

    Args:
        data: ``(images [N, ...], labels [N])`` on the device (``DeviceDataset.data``).
        idx: ``[B]`` int32 indices (one row of ``DeviceDataset.epoch_indices``).

    Returns:
        ``(images [B, ...], labels [B])``.

    Raises:
        TypeError: ``data`` is not a pair of arrays, or ``idx`` not integer indices.
        IndexError: an index outside the data set, where ``idx`` is concrete (outside
            ``jit``).
    """
    # Inside a jitted step these checks run once, when the step is traced.
    if not isinstance(data, tuple | list) or len(data) != 2 or \
            not all(hasattr(part, "shape") for part in data):
        raise TypeError(f"gather: data must be an (images, labels) pair of arrays "
                        f"(DeviceDataset.data), got {_kind(data)}")
    dtype = getattr(idx, "dtype", None)
    if not (isinstance(idx, int) or (dtype is not None and jnp.issubdtype(dtype, jnp.integer))):
        raise TypeError(f"gather: idx must be integer indices (a row of "
                        f"DeviceDataset.epoch_indices), got {_kind(idx)}")
    images, labels = data
    if not isinstance(idx, jax.core.Tracer):  # called eagerly: jnp.take would fill in NaN
        values, n = np.asarray(idx), images.shape[0]
        outside = (values < -n) | (values >= n)
        if outside.any():
            raise IndexError(f"gather: idx holds {int(values[outside].flat[0])}, outside the "
                             f"data set's {n} examples")
    return jnp.take(images, idx, axis=0), jnp.take(labels, idx, axis=0)


def _kind(value: Any) -> str:
    """What ``value`` is, for a message: its type, with the length or dtype that matters."""
    if isinstance(value, tuple | list):
        return f"a {type(value).__name__} of {len(value)} items"
    dtype = getattr(value, "dtype", None)
    return f"an array of dtype {dtype}" if dtype is not None else type(value).__name__


class DeviceDataset:
    """A data set placed on the device once, batched by index inside the step.

    Epochs hold full batches only (``drop_last``): the indices of one epoch form a
    rectangular ``[steps, batch_size]`` array. The shuffle is the one the host
    :class:`~fnnet.data.DataLoader` uses, so both modes see the same batches.

    Args:
        images: ``[N, C, H, W]`` (uint8 is best: a quarter of the bytes of float32;
            convert inside the step with ``fnnet.data.to_float``).
        labels: ``[N]``.
        batch_size: examples per step and process.
        shuffle: shuffle each epoch, seeded by ``(seed, epoch)``.
        seed: the data seed.
        process_index: this process (default ``jax.process_index()``).
        process_count: number of processes (default ``jax.process_count()``); each
            process gets the indices of its own slice of every global batch.
        device: a ``jax.Device`` or ``Sharding`` for the arrays (default: the default
            device).

    Example::

        ds = DeviceDataset(images, labels, batch_size=64)

        @jax.jit
        def step(state, data, idx):
            x, y = gather(data, idx)
            ...

        for epoch in range(epochs):
            for idx in ds.epoch(epoch):
                state = step(state, ds.data, idx)

    Raises:
        ValueError: lengths differ, ``batch_size`` is not in ``[1, N]``, or ``seed`` is
            negative.
        TypeError: ``shuffle`` is not a bool, ``seed`` not an int, ``device`` not a
            device or sharding.
    """

    def __init__(self, images: Any, labels: Any, batch_size: int, *, shuffle: bool = True,
                 seed: int = 0, process_index: int | None = None,
                 process_count: int | None = None, device: Any = None) -> None:
        check_lengths(images, labels)
        check_order(shuffle=shuffle, drop_last=True, seed=seed, epoch=0)
        check_device(device)
        self.n = int(np.shape(labels)[0])
        self.process_index, self.process_count = resolve_process(process_index, process_count)
        self.steps = steps_per_epoch(self.n, batch_size, drop_last=True,
                                     process_count=self.process_count)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.device = device
        self.data = (jax.device_put(np.asarray(images), device),
                     jax.device_put(np.asarray(labels), device))

    def __len__(self) -> int:
        """Steps per epoch."""
        return self.steps

    def epoch_indices(self, epoch: int) -> jax.Array:
        """``[steps, batch_size]`` int32 indices of epoch ``epoch``, on the device.

        One transfer of ``steps * batch_size * 4`` bytes per epoch; no per-step copy.
        """
        rows = batch_indices(self.n, self.batch_size, shuffle=self.shuffle, seed=self.seed,
                             epoch=epoch, drop_last=True, process_index=self.process_index,
                             process_count=self.process_count)
        indices: jax.Array = jax.device_put(np.stack(rows).astype(np.int32), self.device)
        return indices

    def epoch(self, epoch: int, start: int = 0) -> list[jax.Array]:
        """The ``[batch_size]`` index rows of epoch ``epoch`` from step ``start`` on.

        The rows are slices of one device array (split on the device, not copied
        from the host).

        Raises:
            ValueError: ``start`` is outside ``[0, steps]``.
        """
        if not 0 <= start <= self.steps:
            raise ValueError(f"start must be in [0, {self.steps}] (steps per epoch), "
                             f"got {start}")
        indices = self.epoch_indices(epoch)
        return list(indices[start:]) if start < self.steps else []
