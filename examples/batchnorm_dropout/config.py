"""A CNN with BatchNorm and Dropout on MNIST: the configuration shared by the versions.

Dropout draws random masks: PyTorch draws them from its generator, fnnet from explicit
JAX keys, so with ``dropout > 0`` the versions agree in distribution, not step by step.
With ``dropout=0.0`` the run is deterministic and the three agree to rounding (what the
tests check). Data: the real MNIST test set (8,000 train / 2,000 held out), or the
bundled digits where MNIST is absent.
"""

from __future__ import annotations

import dataclasses
import functools

from fnnet.compare.data import ExampleData, mnist_example


@dataclasses.dataclass(frozen=True)
class Config:
    dropout: float = 0.25
    lr: float = 0.02
    momentum: float = 0.9
    batch_size: int = 64
    epochs: int = 3
    steps_per_epoch: int | None = None
    seed: int = 0
    data_dir: str | None = None

    @property
    def deterministic(self) -> bool:
        return self.dropout == 0.0

    def data(self) -> ExampleData:
        return _data(self)

    def quick(self) -> Config:
        return dataclasses.replace(self, epochs=2, steps_per_epoch=15)


@functools.lru_cache(maxsize=4)
def _data(config: Config) -> ExampleData:
    return mnist_example(config.data_dir, size=28, batch_size=config.batch_size,
                         epochs=config.epochs, seed=config.seed,
                         steps_per_epoch=config.steps_per_epoch)


CONFIGS = {"sgd_momentum": Config()}
