"""A multi-layer perceptron on MNIST: the configurations shared by the three versions.

Two configurations, as in the two classic tutorials: ``adam`` is 784-128-64-10 without
activations (the first tutorial leaves them out) trained with Adam; ``sgd`` is
784-64-64-10 with ReLU trained with plain SGD. Data: the real MNIST test set (8,000
train / 2,000 held out; ``--data-dir`` or ``FNNET_MNIST_DIR``), or the bundled digits
where MNIST is absent.
"""

from __future__ import annotations

import dataclasses
import functools

from fnnet.compare.data import ExampleData, mnist_example


@dataclasses.dataclass(frozen=True)
class Config:
    sizes: tuple[int, ...] = (784, 128, 64, 10)
    activation: str | None = None  # None or "relu"
    optimizer: str = "adam"  # "adam" or "sgd"
    lr: float = 1e-3
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
    return mnist_example(config.data_dir, size=28, batch_size=config.batch_size,
                         epochs=config.epochs, seed=config.seed,
                         steps_per_epoch=config.steps_per_epoch)


CONFIGS = {
    "adam": Config(),
    "sgd": Config(sizes=(784, 64, 64, 10), activation="relu", optimizer="sgd", lr=0.05),
}
