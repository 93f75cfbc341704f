"""Training: the state, pure jitted steps, and ``fit``."""

from fnnet.core.state import TrainState, create_train_state
from fnnet.core.step import batch_metrics, make_eval_step, make_predict, make_train_step
from fnnet.train.callbacks import Callback, HistoryWriter, JSONLWriter, TensorBoardWriter
from fnnet.train.fit import NonFiniteLossError, evaluate, fit
from fnnet.train.plot import plot_history

__all__ = [
    "Callback",
    "HistoryWriter",
    "JSONLWriter",
    "NonFiniteLossError",
    "TensorBoardWriter",
    "TrainState",
    "batch_metrics",
    "create_train_state",
    "evaluate",
    "fit",
    "make_eval_step",
    "make_predict",
    "make_train_step",
    "plot_history",
]
