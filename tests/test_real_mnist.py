"""LeNet-5 trained with ``fit`` on real MNIST digits read by ``load_mnist_idx``.

Only the official 10,000-image MNIST test set is available offline, so the run trains
on 8,000 of those images and measures accuracy on the other 2,000 (a fixed split):
the held-out figure is not the standard MNIST test accuracy.
"""

from __future__ import annotations

import time

import numpy as np
import optax
import pytest

from fnnet import data
from fnnet.models import LeNet5
from fnnet.train import fit

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


@pytest.mark.slow
def test_lenet5_reaches_97_percent_on_held_out_real_mnist(mnist_dir):
    images, labels = data.load_mnist_idx(mnist_dir, split="test", dtype=np.float32)
    images = np.pad(images, ((0, 0), (0, 0), (2, 2), (2, 2)))  # 28x28 -> LeNet's 32x32
    images = (images - MNIST_MEAN) / MNIST_STD
    train, held_out = data.train_test_split(images, labels, test_fraction=0.2, seed=0)
    assert len(train[0]) == 8000 and len(held_out[0]) == 2000

    epochs, batch_size = 8, 64
    # Cosine decay settles the last epochs (held-out accuracy 97.5-98.2% over seeds 0-2;
    # a constant 1e-3 wanders around 97%).
    schedule = optax.cosine_decay_schedule(2e-3, epochs * (len(train[0]) // batch_size))
    start = time.perf_counter()
    _, history = fit(LeNet5(), optax.adam(schedule), train, eval_data=held_out,
                     epochs=epochs, batch_size=batch_size, seed=0, progress=False)
    elapsed = time.perf_counter() - start

    accuracy = history["eval_accuracy"][-1]
    assert accuracy >= 0.97, f"held-out accuracy {accuracy:.4f} after {history}"
    assert history["loss"][-1] < history["loss"][0]
    assert elapsed < 120, f"training took {elapsed:.0f} s"
