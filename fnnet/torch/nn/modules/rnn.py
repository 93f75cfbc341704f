"""``nn.RNN``, ``nn.LSTM`` and ``nn.GRU``, computed by the fnnet layers of those names.

One call records one node: the input, the optional initial states and every weight go
in; the output and the final states come out (``fnnet.nn.functional.recurrent`` scans
over time inside the compiled step).
"""

from __future__ import annotations

import itertools
import warnings
from typing import Any, cast

import jax
import jax.numpy as jnp

import fnnet.nn as fnn
from fnnet.nn.module import nested
from fnnet.nn.rnn import RNNBase as _FnRNNBase
from fnnet.torch import _graph, _random
from fnnet.torch._mixed_dtypes import check_rnn
from fnnet.torch.nn._packed import PackedSequence, packed_positions
from fnnet.torch.nn.modules._layer import Wrapped, shared
from fnnet.torch.nn.modules._reset import UniformResettable
from fnnet.torch.tensor import Tensor, _op_multi


def apply_recurrent(*args: Any) -> tuple[Any, ...]:
    """``layer.apply`` on flat arrays: input, h0, c0 (None when absent), the weights,
    then the PRNG key when ``draw``; the last argument is ``(layer, names, train,
    draw)``."""
    *arrays, (layer, names, train, draw) = args
    x, h0, c0 = arrays[:3]
    params = dict(zip(names, arrays[3:3 + len(names)], strict=True))
    key = _random.fold(arrays[-1], draw) if draw else None
    with nested():
        (y, h), _ = layer.apply(params, {}, (x, h0, c0), train=train, key=key)
    return (y, *h) if isinstance(h, tuple) else (y, h)


def apply_packed(*args: Any) -> tuple[Any, ...]:
    """``layer.apply`` on a packed batch: as :func:`apply_recurrent`, with the packed
    ``data [sum(lengths), input]`` for the input, ``h0``/``c0`` in sorted order, and
    ``(layer, names, train, draw, sorted_lengths)`` last. The sequences of each length
    run as one batch of exactly that many steps, so a state stops at its sequence's
    end (PyTorch's packed semantics) and the output rows are packed again."""
    *arrays, (layer, names, train, draw, lengths) = args
    data, h0, c0 = arrays[:3]
    params = dict(zip(names, arrays[3:3 + len(names)], strict=True))
    steps, batch = lengths[0], len(lengths)
    positions = packed_positions(lengths)
    padded = jnp.zeros((steps * batch, data.shape[-1]), data.dtype).at[positions].set(data)
    padded = padded.reshape(steps, batch, data.shape[-1])
    outputs, finals, start = [], [], 0
    for group, (length, run) in enumerate(itertools.groupby(lengths)):
        count = len(list(run))
        part = slice(start, start + count)
        x = padded[:length, part]
        x = jnp.swapaxes(x, 0, 1) if layer.batch_first else x
        states = tuple(None if s is None else s[:, part] for s in (h0, c0))
        key = _random.fold(arrays[-1], draw) if draw else None
        key = None if key is None else jax.random.fold_in(key, group)
        with nested():
            (y, h), _ = layer.apply(params, {}, (x, *states), train=train, key=key)
        y = jnp.swapaxes(y, 0, 1) if layer.batch_first else y
        outputs.append(jnp.pad(y, ((0, steps - length), (0, 0), (0, 0))))
        finals.append(h if isinstance(h, tuple) else (h,))
        start += count
    y = jnp.concatenate(outputs, axis=1).reshape(steps * batch, -1)[positions]
    return (y, *(jnp.concatenate(parts, axis=1) for parts in zip(*finals, strict=True)))


class RNNBase(UniformResettable, Wrapped):
    """The shared shell of RNN, LSTM and GRU."""

    _fnnet: Any = None
    _fn: _FnRNNBase

    def __init__(self, *args: Any, device: Any = None, dtype: Any = None,
                 proj_size: int = 0, **kwargs: Any) -> None:
        if proj_size:
            raise NotImplementedError("fnnet.torch: nn.LSTM(proj_size=...) is not supported")
        super().__init__()
        fn = self._fnnet(*args, **kwargs)
        if fn.dropout > 0 and fn.num_layers == 1:
            warnings.warn(f"dropout option adds dropout after all but last recurrent layer, so "
                          f"non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={fn.dropout} and num_layers={fn.num_layers}", UserWarning,
                          stacklevel=3)
        object.__setattr__(self, "_params", tuple(fn.param_names()))
        for name in ("input_size", "hidden_size", "num_layers", "bias", "batch_first",
                     "dropout", "bidirectional"):
            object.__setattr__(self, name, getattr(fn, name))
        self._wrap(fn)
        self._factory_kwargs(device, dtype)

    def flatten_parameters(self) -> None:
        """Accepted for compatibility: the weights are never fragmented here."""

    def forward(self, input: Tensor, hx: Any = None) -> Any:  # (output, h_n)
        if isinstance(input, tuple) and hasattr(input, "batch_sizes"):
            return self._forward_packed(input, hx)
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__}: input must be a Tensor, got "
                            f"{type(input).__name__}")
        train, d = self.training, self.__dict__
        check_rnn(input, d[self._params[0]])
        if input.dim() in (2, 3) and input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")
        lstm = self._fn.mode == "LSTM"
        if lstm and hx is not None and not (isinstance(hx, tuple) and len(hx) == 2):
            raise TypeError("LSTM: hx must be a tuple (h_0, c_0)")
        h0, c0 = (hx if lstm else (hx, None)) if hx is not None else (None, None)
        inputs = [input, h0, c0, *(d[name] for name in self._params)]
        draw = 0
        if train and self._fn.dropout > 0:
            draw = _graph.next_draw()
            inputs.append(_graph.rng_input())
        spec = (shared(self._fn), self._params, train, draw)
        outs = _op_multi(apply_recurrent, (spec,), *inputs, who=type(self).__name__)
        return (outs[0], (outs[1], outs[2])) if lstm else (outs[0], outs[1])

    def _forward_packed(self, packed: PackedSequence, hx: Any) -> Any:
        """``forward`` on a :class:`PackedSequence`: the output packed alike, the final
        states (each sequence's own last step) in the original batch order."""
        lstm = self._fn.mode == "LSTM"
        if lstm and hx is not None and not (isinstance(hx, tuple) and len(hx) == 2):
            raise TypeError("LSTM: hx must be a tuple (h_0, c_0)")
        states = list(hx if lstm else (hx, None)) if hx is not None else [None, None]
        if packed.sorted_indices is not None:  # states come in the batch's order
            states = [None if s is None else s.index_select(1, packed.sorted_indices)
                      for s in states]
        train, d = self.training, self.__dict__
        inputs = [packed.data, *states, *(d[name] for name in self._params)]
        draw = 0
        if train and self._fn.dropout > 0:
            draw = _graph.next_draw()
            inputs.append(_graph.rng_input())
        spec = (shared(self._fn), self._params, train, draw,
                tuple(packed.sorted_lengths()))
        outs = _op_multi(apply_packed, (spec,), *inputs, who=type(self).__name__)
        # every output of apply_packed is an array (None stands for an output that is None)
        data, *finals = cast("list[Tensor]", outs)
        if packed.unsorted_indices is not None:
            finals = [h.index_select(1, packed.unsorted_indices) for h in finals]
        output = type(packed)(data, packed.batch_sizes, packed.sorted_indices,
                              packed.unsorted_indices)
        return (output, (finals[0], finals[1])) if lstm else (output, finals[0])


class RNN(RNNBase):
    """PyTorch equivalent: ``torch.nn.RNN``."""

    _fnnet = fnn.RNN


class LSTM(RNNBase):
    """PyTorch equivalent: ``torch.nn.LSTM``."""

    _fnnet = fnn.LSTM


class GRU(RNNBase):
    """PyTorch equivalent: ``torch.nn.GRU``."""

    _fnnet = fnn.GRU
