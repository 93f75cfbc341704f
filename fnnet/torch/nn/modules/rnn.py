"""``nn.RNN``, ``nn.LSTM`` and ``nn.GRU``, computed by the fnnet layers of those names.

One call records one node: the input, the optional initial states and every weight go
in; the output and the final states come out (``fnnet.nn.functional.recurrent`` scans
over time inside the compiled step).
"""

from __future__ import annotations

from typing import Any

import fnnet.nn as fnn
from fnnet.nn.rnn import RNNBase as _FnRNNBase
from fnnet.torch import _graph, _random
from fnnet.torch.nn.modules._layer import Wrapped
from fnnet.torch.tensor import Tensor, _op_multi


def apply_recurrent(*args: Any) -> tuple[Any, ...]:
    """``layer.apply`` on flat arrays: input, h0, c0 (None when absent), the weights,
    then the PRNG key when ``draw``; the last argument is ``(layer, names, train,
    draw)``."""
    *arrays, (layer, names, train, draw) = args
    x, h0, c0 = arrays[:3]
    params = dict(zip(names, arrays[3:3 + len(names)], strict=True))
    key = _random.fold(arrays[-1], draw) if draw else None
    (y, h), _ = layer.apply(params, {}, (x, h0, c0), train=train, key=key)
    return (y, *h) if isinstance(h, tuple) else (y, h)


class RNNBase(Wrapped):
    """The shared shell of RNN, LSTM and GRU."""

    _fnnet: Any = None
    _fn: _FnRNNBase

    def __init__(self, *args: Any, device: Any = None, dtype: Any = None,
                 proj_size: int = 0, **kwargs: Any) -> None:
        if proj_size:
            raise NotImplementedError("fnnet.torch: nn.LSTM(proj_size=...) is not supported")
        super().__init__()
        fn = self._fnnet(*args, **kwargs)
        object.__setattr__(self, "_params", tuple(fn.param_names()))
        for name in ("input_size", "hidden_size", "num_layers", "bias", "batch_first",
                     "dropout", "bidirectional"):
            object.__setattr__(self, name, getattr(fn, name))
        self._wrap(fn)

    def flatten_parameters(self) -> None:
        """Accepted for compatibility: the weights are never fragmented here."""

    def forward(self, input: Tensor, hx: Any = None) -> Any:  # (output, h_n)
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__}: input must be a Tensor, got "
                            f"{type(input).__name__}")
        lstm = self._fn.mode == "LSTM"
        if lstm and hx is not None and not (isinstance(hx, tuple) and len(hx) == 2):
            raise TypeError("LSTM: hx must be a tuple (h_0, c_0)")
        h0, c0 = (hx if lstm else (hx, None)) if hx is not None else (None, None)
        train, d = self.training, self.__dict__
        inputs = [input, h0, c0, *(d[name] for name in self._params)]
        draw = 0
        if train and self._fn.dropout > 0:
            draw = _graph.next_draw()
            inputs.append(_graph.rng_input())
        spec = (self._fn, self._params, train, draw)
        outs = _op_multi(apply_recurrent, (spec,), *inputs, who=type(self).__name__)
        return (outs[0], (outs[1], outs[2])) if lstm else (outs[0], outs[1])


class RNN(RNNBase):
    """PyTorch equivalent: ``torch.nn.RNN``."""

    _fnnet = fnn.RNN


class LSTM(RNNBase):
    """PyTorch equivalent: ``torch.nn.LSTM``."""

    _fnnet = fnn.LSTM


class GRU(RNNBase):
    """PyTorch equivalent: ``torch.nn.GRU``."""

    _fnnet = fnn.GRU
