"""Data: sources (MNIST, CIFAR-10, digits, TFDS), batching, on-device data, augmentation.

Sources return images ``[N, C, H, W]`` (uint8 by default, float32 in [0, 1] with
``dtype=np.float32``) and int32 labels ``[N]``:

- :func:`load` (``"digits"``, ``"mnist"``, ``"fashion_mnist"``, ``"cifar10"`` or any
  TFDS name), :func:`load_train_test` (both splits, or a fixed split of the one a
  folder holds), :func:`load_mnist_idx`, :func:`load_cifar10`, :func:`load_digits`;
- :func:`from_tfds`, a random-access :class:`TfdsSource` for data larger than memory.

Local folders come from the ``directory``/``data_dir`` argument or the environment:
``FNNET_MNIST_DIR``, ``FNNET_FASHION_MNIST_DIR``, ``FNNET_CIFAR10_DIR``, or
``FNNET_DATA_DIR/<name>``. Nothing is ever downloaded.

Batching: :func:`batches` (one seeded, resumable epoch), :class:`DataLoader` (epochs,
device prefetch, per-process shards) and :class:`DeviceDataset` with :func:`gather`
(the whole set on the device, batches gathered inside the jitted step).
Augmentation: :mod:`fnnet.data.augment`.
"""

from fnnet.data import augment
from fnnet.data.augment import (
    compose,
    normalize,
    random_crop,
    random_horizontal_flip,
    random_rotation,
    rotate,
)
from fnnet.data.cifar import load_cifar10
from fnnet.data.dataset import ArrayDataset, Dataset, as_dataset, to_float
from fnnet.data.device import DeviceDataset, gather
from fnnet.data.digits import load_digits, train_test_split
from fnnet.data.idx import load_mnist_idx, read_idx
from fnnet.data.loader import DataLoader, batches, prefetch_to_device
from fnnet.data.registry import load, load_train_test
from fnnet.data.sampler import batch_indices, permutation, steps_per_epoch
from fnnet.data.tfds_source import DatasetNotPreparedError, TfdsSource, from_tfds

__all__ = [
    "ArrayDataset",
    "DataLoader",
    "Dataset",
    "DatasetNotPreparedError",
    "DeviceDataset",
    "TfdsSource",
    "as_dataset",
    "augment",
    "batch_indices",
    "batches",
    "compose",
    "from_tfds",
    "gather",
    "load",
    "load_cifar10",
    "load_digits",
    "load_mnist_idx",
    "load_train_test",
    "normalize",
    "permutation",
    "prefetch_to_device",
    "random_crop",
    "random_horizontal_flip",
    "random_rotation",
    "read_idx",
    "rotate",
    "steps_per_epoch",
    "to_float",
    "train_test_split",
]
