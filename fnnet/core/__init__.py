"""The pure training core: the state, the jitted steps and the cache that reuses them.

These sit below :mod:`fnnet.train` (``fit`` and its callbacks), :mod:`fnnet.parallel`
(the data-parallel forms of the same steps) and :mod:`fnnet.checkpoint` (which saves the
state), so that each of those imports them at the top without importing the others.
Users reach them as :mod:`fnnet.train` names: ``fnnet.train.TrainState``,
``fnnet.train.make_train_step``...
"""

from fnnet.core.cache import STEPS, StepCache, fingerprint
from fnnet.core.state import TrainState, create_train_state
from fnnet.core.step import batch_metrics, make_eval_step, make_predict, make_train_step

__all__ = [
    "STEPS",
    "StepCache",
    "TrainState",
    "batch_metrics",
    "create_train_state",
    "fingerprint",
    "make_eval_step",
    "make_predict",
    "make_train_step",
]
