"""The pure steps, under their :mod:`fnnet.train` path (they live in :mod:`fnnet.core.step`)."""

from fnnet.core.step import (
    BACKEND_XLA_OPTIONS,
    IGNORE_INDEX,
    NONFINITE_MODES,
    XLA_OPTIONS,
    LossFn,
    Metrics,
    batch_metrics,
    label_metrics,
    make_eval_step,
    make_predict,
    make_train_step,
    unpack_batch,
)

__all__ = [
    "BACKEND_XLA_OPTIONS",
    "IGNORE_INDEX",
    "NONFINITE_MODES",
    "XLA_OPTIONS",
    "LossFn",
    "Metrics",
    "batch_metrics",
    "label_metrics",
    "make_eval_step",
    "make_predict",
    "make_train_step",
    "unpack_batch",
]
