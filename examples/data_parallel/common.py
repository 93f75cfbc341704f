"""The model and data shared by the data-parallel MNIST examples."""

from __future__ import annotations

import numpy as np

from fnnet import data, nn
from fnnet.nn import functional as F

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


class Net(nn.Module):
    """Linear -> BatchNorm1d (synchronised over ``axis_name``) -> ReLU -> Dropout -> Linear.

    With ``axis_name`` the BatchNorm statistics are those of the whole global batch
    (PyTorch's ``SyncBatchNorm``), so the data-parallel run trains exactly as one device
    would on the whole batch.
    """

    def __init__(self, in_features: int, hidden: int = 128, num_classes: int = 10,
                 axis_name: str | None = None, p: float = 0.2) -> None:
        self.fc1 = nn.Linear(in_features, hidden)
        self.bn = nn.BatchNorm1d(hidden, axis_name=axis_name)
        self.drop = nn.Dropout(p)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, m, x):
        x = F.relu(m.bn(m.fc1(F.flatten(x, 1))))
        return m.fc2(m.drop(x))


def load_data(dataset: str, data_dir: str | None = None):
    """``((train_x, train_y), (test_x, test_y))`` as float32 ``[N, 1, H, W]`` and int32.

    ``mnist``: the official 10,000-image MNIST test set (the IDX files in ``data_dir``,
    default ``$FNNET_MNIST_DIR`` or ``$FNNET_DATA_DIR/mnist``) split into 8,000 training
    and 2,000 held-out images (seed 0), normalised as the PyTorch MNIST example does.
    ``digits``: scikit-learn's bundled 8x8 digits, split 80/20.
    """
    if dataset == "digits":
        return data.load("digits", "train"), data.load("digits", "test")
    if dataset != "mnist":
        raise ValueError(f"--dataset must be mnist or digits, got {dataset!r}")
    try:
        images, labels = data.load_mnist_idx(data_dir, split="test", dtype=np.float32)
    except FileNotFoundError as error:
        raise SystemExit(f"error: {error}\n(--dataset digits needs no files)") from None
    images = (images - MNIST_MEAN) / MNIST_STD
    return data.train_test_split(images, labels, test_fraction=0.2, seed=0)


def add_arguments(parser) -> None:
    """The command-line arguments common to the examples."""
    parser.add_argument("--dataset", choices=("mnist", "digits"), default="mnist")
    parser.add_argument("--data-dir", default=None,
                        help="folder with the MNIST IDX files (default: $FNNET_MNIST_DIR, "
                             "or $FNNET_DATA_DIR/mnist)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128,
                        help="global batch, split over every device of every process")
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=None,
                        help="stop after this many training steps (smoke tests)")
