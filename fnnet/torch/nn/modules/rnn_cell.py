"""``nn.RNNCell``, ``nn.LSTMCell`` and ``nn.GRUCell``: one time step, for loops written by
hand.

A cell is one step of the recurrent layer of the same kind, so it runs fnnet's
``functional.recurrent`` over a sequence of length one (one layer, one direction): the
gate arithmetic is the layers'. Parameters are PyTorch's (``weight_ih [gates * hidden,
input]``, ``weight_hh``, ``bias_ih``, ``bias_hh``), initialised ``U(-1/sqrt(hidden),
1/sqrt(hidden))`` as the layers are.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp

import fnnet.nn as fnn
from fnnet.nn.functional.sequence import recurrent
from fnnet.torch import _random
from fnnet.torch._mixed_dtypes import check_linear
from fnnet.torch.nn import init
from fnnet.torch.nn.modules._layer import filled_in_place
from fnnet.torch.nn.modules._reset import recurrent_parameters
from fnnet.torch.nn.modules.module import Module
from fnnet.torch.nn.parameter import Parameter
from fnnet.torch.tensor import Tensor, _op_multi

_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def apply_cell(x: jax.Array, h: jax.Array | None, c: jax.Array | None, w_ih: jax.Array,
               w_hh: jax.Array, b_ih: jax.Array | None, b_hh: jax.Array | None,
               mode: str) -> tuple[jax.Array, ...]:
    """One step: ``x [N, input]`` (or ``[input]``), ``h``/``c [N, hidden]`` (zeros when
    None) -> ``(h',)``, or ``(h', c')`` for the LSTM."""
    shape = (*x.shape[:-1], w_hh.shape[1])
    h = jnp.zeros(shape, x.dtype) if h is None else h
    if mode == "LSTM":
        c = jnp.zeros(shape, x.dtype) if c is None else c
    _, hn, cn = recurrent(mode, x[None], [(w_ih, w_hh, b_ih, b_hh)], h[None],
                          None if c is None else c[None])
    return (hn[0],) if cn is None else (hn[0], cn[0])


class RNNCellBase(Module):
    """The shared shell of the three cells."""

    mode = "RNN_TANH"
    _layer: Any = fnn.RNN

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: Any = None, dtype: Any = None, **layer_kwargs: Any) -> None:
        super().__init__()
        name = type(self).__name__
        for arg, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name}: {arg} must be a positive int, got {value!r}")
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bool(bias)
        # the layer of one step draws the same initialisation as nn.RNN/LSTM/GRU
        layer = self._layer(input_size, hidden_size, bias=bool(bias), **layer_kwargs)
        params, _ = layer.init(_random.state.split())
        drawn = recurrent_parameters(params, tuple(k + "_l0" for k in _NAMES), hidden_size)
        params.update((name, jnp.asarray(value)) for name, value in drawn.items())
        for kind in _NAMES:
            value = params.get(kind + "_l0")
            self.register_parameter(kind, None if value is None else
                                    Parameter._from_array(value))
        filled_in_place(self)
        self._factory_kwargs(device, dtype)

    def reset_parameters(self) -> None:
        """Every parameter drawn again, in order, ``U(-1/sqrt(hidden_size),
        1/sqrt(hidden_size))`` from the global generator, as at construction.

        PyTorch equivalent: ``torch.nn.LSTMCell.reset_parameters`` (and the others').
        """
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def _check(self, input: Any, hx: Any) -> None:
        """PyTorch's checks in its order and words: the ranks (the cell's forward), then
        the sizes against the weights (its C++ cell, on the unbatched input and states
        with a batch dimension added)."""
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D "
                             f"instead")
        states = hx if isinstance(hx, tuple) else (hx,)
        for index, h in enumerate(states):
            if h is not None and h.dim() not in (1, 2):
                what = f"hx[{index}]" if isinstance(hx, tuple) else "hidden"
                raise ValueError(f"{name}: Expected {what} to be 1D or 2D, got {h.dim()}D "
                                 f"instead")
        batched = input.dim() == 2
        size = tuple(input.shape) if batched else (1, *input.shape)
        if size[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {size[1]} expected "
                               f"{self.input_size}")
        for label, h in enumerate(states):
            if h is None:
                continue
            shape = tuple(h.shape) if batched else (1, *h.shape)
            if shape[0] != size[0]:
                raise RuntimeError(f"Input batch size {size[0]} doesn't match hidden{label} "
                                   f"batch size {shape[0]}")
            if len(shape) > 1 and shape[1] != self.hidden_size:
                raise RuntimeError(f"hidden{label} has inconsistent hidden_size: got "
                                   f"{shape[1]}, expected {self.hidden_size}")
            if len(shape) != 2:
                raise RuntimeError(f"{name}: hidden state has shape {tuple(h.shape)}, "
                                   f"expected {(*input.shape[:-1], self.hidden_size)}")
        check_linear(input, self.weight_ih, self.bias_ih)

    def _step(self, input: Tensor, h: Tensor | None, c: Tensor | None
              ) -> list[Tensor | None]:
        d = self.__dict__
        weights = [d["_parameters"][k] for k in _NAMES]
        return _op_multi(apply_cell, (self.mode,), input, h, c, *weights,
                         who=type(self).__name__)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity=relu"
        return s


class RNNCell(RNNCellBase):
    """``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or relu). PyTorch equivalent:
    ``torch.nn.RNNCell``; ``cell(x [N, input], h [N, hidden] | None) -> h'``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device: Any = None, dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got "
                             f"{nonlinearity!r}")
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(input_size, hidden_size, bias, device, dtype,
                         nonlinearity=nonlinearity)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        self._check(input, hx)
        (h,) = self._step(input, hx, None)
        assert h is not None
        return h


class LSTMCell(RNNCellBase):
    """One LSTM step (gates ``i, f, g, o``). PyTorch equivalent: ``torch.nn.LSTMCell``;
    ``cell(x [N, input], (h, c) | None) -> (h', c')``, each ``[N, hidden]``."""

    mode = "LSTM"
    _layer = fnn.LSTM

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
                ) -> tuple[Tensor, Tensor]:
        if hx is not None and not isinstance(hx, (tuple, list)):
            raise TypeError(f"lstm_cell(): argument 'hx' (position 2) must be tuple of "
                            f"Tensors, not {type(hx).__name__}")
        if hx is not None and len(hx) != 2:
            raise RuntimeError("lstm_cell expects two hidden states")
        h0, c0 = (None, None) if hx is None else tuple(hx)
        self._check(input, (h0, c0))
        h, c = self._step(input, h0, c0)
        assert h is not None and c is not None
        return h, c


class GRUCell(RNNCellBase):
    """One GRU step (gates ``r, z, n``). PyTorch equivalent: ``torch.nn.GRUCell``;
    ``cell(x [N, input], h [N, hidden] | None) -> h'``."""

    mode = "GRU"
    _layer = fnn.GRU

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        self._check(input, hx)
        (h,) = self._step(input, hx, None)
        assert h is not None
        return h


__all__ = ["GRUCell", "LSTMCell", "RNNCell", "RNNCellBase"]
