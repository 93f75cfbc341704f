"""Linear regression y = w x + b: the configuration shared by the three versions.

The data are the tutorial's: points on the line ``y = 2x + 1`` with Gaussian noise
(synthetic by nature: the point is to recover ``w = 2`` and ``b = 1``).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from fnnet.compare.data import ExampleData, epoch_batches


@dataclasses.dataclass(frozen=True)
class Config:
    true_w: float = 2.0
    true_b: float = 1.0
    noise: float = 0.1
    n_train: int = 256
    n_test: int = 64
    lr: float = 0.1
    batch_size: int = 32
    epochs: int = 10
    steps_per_epoch: int | None = None
    seed: int = 0

    deterministic = True  # no randomness inside a step: the versions agree step by step

    def data(self) -> ExampleData:
        return _data(self)

    def points(self) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """``((x_train, y_train), (x_test, y_test))``, each ``[n, 1]`` float32."""
        rng = np.random.default_rng(self.seed)
        n = self.n_train + self.n_test
        x = rng.uniform(-1.0, 1.0, (n, 1)).astype(np.float32)
        y = (self.true_w * x + self.true_b
             + self.noise * rng.standard_normal((n, 1))).astype(np.float32)
        return (x[:self.n_train], y[:self.n_train]), (x[self.n_train:], y[self.n_train:])

    def quick(self) -> Config:
        return dataclasses.replace(self, epochs=5)


@functools.lru_cache(maxsize=4)
def _data(config: Config) -> ExampleData:
    train, test = config.points()
    epochs = epoch_batches(*train, config.batch_size, config.epochs, config.seed,
                           config.steps_per_epoch)
    return ExampleData(epochs, test, f"synthetic line y = {config.true_w} x + "
                                     f"{config.true_b} + N(0, {config.noise}^2), "
                                     f"{config.n_train} train / {config.n_test} test points")


CONFIGS = {"sgd": Config()}
