"""The training state, under its :mod:`fnnet.train` path (it lives in :mod:`fnnet.core.state`)."""

from fnnet.core.state import TrainState, create_train_state

__all__ = ["TrainState", "create_train_state"]
