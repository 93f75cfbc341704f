"""Data-parallel MNIST: the configurations shared by the three versions.

``mlp`` is 784-128-64-10 with ReLU; ``bn`` is 784-64-BatchNorm-10, whose BatchNorm
becomes SyncBatchNorm when the script runs as several processes. Both train with SGD
(momentum 0.9). ``batch_size`` is the global batch: launched as N processes, each one
takes ``batch_size / N`` of it. Data: the real MNIST test set (8,000 train / 2,000 held
out; ``--data-dir`` or ``FNNET_MNIST_DIR``), or the bundled digits where MNIST is
absent.
"""

from __future__ import annotations

import dataclasses
import functools

from fnnet.compare.data import ExampleData, mnist_example


@dataclasses.dataclass(frozen=True)
class Config:
    model: str = "mlp"  # "mlp" or "bn"
    lr: float = 0.05
    momentum: float = 0.9
    batch_size: int = 64
    epochs: int = 1
    steps_per_epoch: int | None = None
    seed: int = 0
    data_dir: str | None = None

    deterministic = True

    def data(self) -> ExampleData:
        return _data(self)

    def quick(self) -> Config:
        return dataclasses.replace(self, epochs=2, steps_per_epoch=20)


@functools.lru_cache(maxsize=4)
def _data(config: Config) -> ExampleData:
    return mnist_example(config.data_dir, size=28, batch_size=config.batch_size,
                         epochs=config.epochs, seed=config.seed,
                         steps_per_epoch=config.steps_per_epoch)


CONFIGS = {"mlp": Config(), "bn": Config(model="bn")}
