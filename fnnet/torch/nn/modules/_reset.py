"""``reset_parameters()`` (and BatchNorm's ``reset_running_stats()``) for the modules
computed by an fnnet layer: the layer's own ``init`` (PyTorch's initialisation) is drawn
again from the global PRNG and copied into the existing parameters and buffers in place,
so optimizers and other references keep seeing the same tensors.

Courses re-initialise a model between folds or runs with
``for m in model.modules(): if hasattr(m, "reset_parameters"): m.reset_parameters()``;
without the method that loop silently kept the trained weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fnnet.torch import _random
from fnnet.torch._autograd import no_grad
from fnnet.torch.tensor import _wrap_value


class Resettable:
    """Mixin for :class:`~fnnet.torch.nn.modules._layer.Wrapped` modules."""

    _fn: Any
    _params: tuple[str, ...]
    _state: tuple[str, ...]

    def _reset(self, names: tuple[str, ...], table: Mapping[str, Any], drawn: Mapping[str, Any]
               ) -> None:
        with no_grad():
            for name in names:
                target = table.get(name)
                if target is not None and name in drawn:
                    target.copy_(_wrap_value(drawn[name]))

    def reset_parameters(self) -> None:
        """Draws the parameters (and resets the buffers) as at construction.

        PyTorch equivalent: ``reset_parameters()`` of ``nn.Linear``, ``nn.Conv2d``...
        """
        params, state = self._fn.init(_random.state.split())
        self._reset(self._params, self.__dict__["_parameters"], params)
        self._reset(self._state, self.__dict__["_buffers"], state)


class ResettableNorm(Resettable):
    """:class:`Resettable` with BatchNorm's ``reset_running_stats``."""

    def reset_running_stats(self) -> None:
        """Running mean 0, variance 1 and the batch count 0, as at construction.

        PyTorch equivalent: ``torch.nn.BatchNorm2d.reset_running_stats``.
        """
        _, state = self._fn.init(_random.state.split())
        self._reset(self._state, self.__dict__["_buffers"], state)
