"""``reset_parameters()`` (and BatchNorm's ``reset_running_stats()``) for the modules
computed by an fnnet layer, and PyTorch's default initialisation of those that draw.

The parameters PyTorch draws (Linear's and the convolutions' ``kaiming_uniform_`` and
bias, the recurrent layers' uniform weights) are drawn from the global generator in
PyTorch's order (:meth:`Wrapped._drawn_parameters`), so a model built after
``torch.manual_seed(s)`` starts from PyTorch's weights; the rest come from the fnnet
layer's own ``init``. ``reset_parameters`` draws again and copies into the existing
parameters and buffers in place, so optimizers and other references keep seeing the
same tensors.

Courses re-initialise a model between folds or runs with
``for m in model.modules(): if hasattr(m, "reset_parameters"): m.reset_parameters()``;
without the method that loop silently kept the trained weights.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from fnnet.torch import _random
from fnnet.torch._autograd import no_grad
from fnnet.torch.nn import init
from fnnet.torch.tensor import _wrap_value


class Resettable:
    """Mixin for :class:`~fnnet.torch.nn.modules._layer.Wrapped` modules."""

    _fn: Any
    _params: tuple[str, ...]
    _state: tuple[str, ...]
    _initial_values: Any  # Wrapped's

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
        params, state = self._initial_values()
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


class FanInResettable(Resettable):
    """:class:`Resettable` drawing as ``nn.Linear`` and the convolutions: the weight
    ``kaiming_uniform_(a=sqrt(5))``, then the bias ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``.
    """

    _draws_all = True

    def _drawn_parameters(self, params: dict[str, Any]) -> dict[str, Any]:
        weight = params["weight"]
        host = _random.state.host
        if math.prod(weight.shape):
            bound = init.kaiming_uniform_bound(weight.shape, math.sqrt(5.0), "fan_in",
                                               "leaky_relu")
            drawn = {"weight": host.uniform(weight.shape, weight.dtype, -bound, bound)}
        else:  # PyTorch's initialisers leave an empty tensor as it is
            drawn = {"weight": np.zeros(weight.shape, weight.dtype)}
        bias = params.get("bias")
        if bias is not None:
            fan_in = init.fans(weight.shape)[0]
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            drawn["bias"] = host.uniform(bias.shape, bias.dtype, -bound, bound)
        return drawn


class UniformResettable(Resettable):
    """:class:`Resettable` drawing as the recurrent layers: every parameter, in order,
    ``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``."""

    hidden_size: int
    _draws_all = True

    def _drawn_parameters(self, params: dict[str, Any]) -> dict[str, Any]:
        return recurrent_parameters(params, self._params, self.hidden_size)


def recurrent_parameters(params: Mapping[str, Any], names: tuple[str, ...], hidden_size: int
                         ) -> dict[str, Any]:
    """The recurrent layers' and cells' ``reset_parameters``: each of ``names`` present in
    ``params``, in order, drawn ``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))`` from the
    global generator."""
    bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0
    host = _random.state.host
    return {name: host.uniform(params[name].shape, params[name].dtype, -bound, bound)
            for name in names if params.get(name) is not None}
