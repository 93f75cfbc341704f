"""Logistic regression, digit 0 vs digit 1: the configuration shared by the three versions.

Data: the real MNIST digits 0 and 1 (from the 10,000-image test set, 8,000/2,000 split;
``--data-dir`` or ``FNNET_MNIST_DIR``), or the bundled 8x8 digits where MNIST is absent.
"""

from __future__ import annotations

import dataclasses
import functools

from fnnet.compare.data import ExampleData, mnist_example


@dataclasses.dataclass(frozen=True)
class Config:
    in_features: int = 28 * 28
    lr: float = 0.01
    batch_size: int = 64
    epochs: int = 5
    steps_per_epoch: int | None = None
    seed: int = 0
    data_dir: str | None = None

    deterministic = True

    def data(self) -> ExampleData:
        return _data(self)

    def quick(self) -> Config:
        return dataclasses.replace(self, epochs=2, steps_per_epoch=10)


@functools.lru_cache(maxsize=4)
def _data(config: Config) -> ExampleData:
    return mnist_example(config.data_dir, size=28, batch_size=config.batch_size,
                         epochs=config.epochs, seed=config.seed,
                         steps_per_epoch=config.steps_per_epoch, classes=(0, 1))


CONFIGS = {"sgd": Config()}
