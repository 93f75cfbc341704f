"""LeNet-5 on MNIST padded to 32x32: the configurations shared by the three versions.

Two configurations: ``sgd`` (plain SGD) and ``momentum`` (SGD with momentum 0.9). Data:
the real MNIST test set (8,000 train / 2,000 held out; ``--data-dir`` or
``FNNET_MNIST_DIR``), or the bundled digits where MNIST is absent, zero-padded to 32x32.
"""

from __future__ import annotations

import dataclasses
import functools

from fnnet.compare.data import ExampleData, mnist_example


@dataclasses.dataclass(frozen=True)
class Config:
    lr: float = 0.05
    momentum: float = 0.0
    batch_size: int = 64
    epochs: int = 3
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
    return mnist_example(config.data_dir, size=32, batch_size=config.batch_size,
                         epochs=config.epochs, seed=config.seed,
                         steps_per_epoch=config.steps_per_epoch)


CONFIGS = {"sgd": Config(), "momentum": Config(lr=0.01, momentum=0.9)}
