"""``nn.RNN``, ``nn.LSTM`` and ``nn.GRU``, computed by the fnnet layers of those names.

One call records one node: the input, the optional initial states, a packed batch's
lengths and every weight go in; the output and the final states come out
(``fnnet.nn.functional.recurrent`` scans over time inside the compiled step).
"""

from __future__ import annotations

import warnings
from typing import Any, cast

import jax.numpy as jnp

import fnnet.nn as fnn
from fnnet.nn.module import nested
from fnnet.nn.rnn import RNNBase as _FnRNNBase
from fnnet.torch import _graph, _random
from fnnet.torch._mixed_dtypes import check_rnn
from fnnet.torch.nn._packed import PackedSequence, index_tensor
from fnnet.torch.nn.modules._layer import Wrapped, shared
from fnnet.torch.nn.modules._reset import UniformResettable
from fnnet.torch.nn.parameter import Parameter
from fnnet.torch.tensor import Tensor, _op_multi, autocasting


def apply_recurrent(*args: Any) -> tuple[Any, ...]:
    """``layer.apply`` on flat arrays: input, h0, c0, the weights, lengths (each None
    when absent), then the PRNG key when ``draw``; the last argument is ``(layer, names,
    train, draw)``. With ``lengths`` (a packed batch) the input is the time-major padded
    batch ``[T, B, input]`` of the length-sorted sequences, each run to its length."""
    *arrays, (layer, names, train, draw) = args
    x, h0, c0 = arrays[:3]
    params = dict(zip(names, arrays[3:3 + len(names)], strict=True))
    lengths = arrays[3 + len(names)]
    key = _random.fold(arrays[-1], draw) if draw else None
    swap = lengths is not None and layer.batch_first
    with nested():
        (y, h), _ = layer.apply(params, {}, (jnp.swapaxes(x, 0, 1) if swap else x, h0, c0),
                                train=train, key=key, lengths=lengths)
    y = jnp.swapaxes(y, 0, 1) if swap else y
    return (y, *h) if isinstance(h, tuple) else (y, h)


class RNNBase(UniformResettable, Wrapped):
    """The shared shell of RNN, LSTM and GRU."""

    _fnnet: Any = None
    _fn: _FnRNNBase

    def __init__(self, *args: Any, device: Any = None, dtype: Any = None,
                 **kwargs: Any) -> None:
        if "proj_size" in kwargs and type(self) in (RNN, GRU):  # even 0, as PyTorch
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__()
        layer = self._fnnet
        if type(self) is RNNBase:  # PyTorch's RNNBase(mode, input_size, hidden_size, ...)
            if not args and "mode" not in kwargs:
                raise TypeError("RNNBase.__init__() missing 3 required positional arguments: "
                                "'mode', 'input_size', and 'hidden_size'")
            mode, *rest = args if args else (kwargs.pop("mode"),)
            args = tuple(rest)
            if mode not in _MODES:
                raise ValueError(f"Unrecognized RNN mode: {mode}")
            layer = _MODES[mode]
            if mode.startswith("RNN_"):
                kwargs["nonlinearity"] = mode[4:].lower()
        dropout = kwargs.get("dropout", args[5] if len(args) > 5 else 0.0)
        if isinstance(dropout, str):
            dropout = float(dropout)  # PyTorch's own ValueError for a word
        if isinstance(dropout, bool) or not isinstance(dropout, int | float) or \
                not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        fn = layer(*args, **kwargs)
        if fn.dropout > 0 and fn.num_layers == 1:
            warnings.warn(f"dropout option adds dropout after all but last recurrent layer, so "
                          f"non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={fn.dropout} and num_layers={fn.num_layers}", UserWarning,
                          stacklevel=3)
        object.__setattr__(self, "_params", tuple(fn.param_names()))
        for name in ("mode", "input_size", "hidden_size", "num_layers", "bias",
                     "batch_first", "dropout", "bidirectional", "proj_size"):
            object.__setattr__(self, name, getattr(fn, name))
        if isinstance(self, RNN):
            object.__setattr__(self, "nonlinearity", fn.nonlinearity)
        self._wrap(fn)
        self._factory_kwargs(device, dtype)

    @property
    def _all_weights(self) -> list[list[str]]:
        """The parameters' names by layer and direction (``weight_ih_l0``... then
        ``..._l0_reverse``), as PyTorch's ``_all_weights``."""
        groups: dict[str, list[str]] = {}
        for name in self._params:
            groups.setdefault(name[name.index("_l"):], []).append(name)
        return list(groups.values())

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters by layer and direction. PyTorch equivalent:
        ``torch.nn.RNNBase.all_weights``."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """Accepted for compatibility: the weights are never fragmented here."""

    def forward(self, input: Tensor, hx: Any = None) -> Any:  # (output, h_n)
        if type(self) is RNNBase:  # PyTorch's base class has no forward of its own
            raise NotImplementedError('Module [RNNBase] is missing the required "forward" '
                                      'function')
        if isinstance(input, tuple) and hasattr(input, "batch_sizes"):
            return self._forward_packed(input, hx)
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__}: input must be a Tensor, got "
                            f"{type(input).__name__}")
        train, d, mode = self.training, self.__dict__, self._fn.mode
        if input.dim() not in (2, 3):  # PyTorch's words, which differ by mode
            plain = mode.startswith("RNN")
            raise ValueError(f"{'RNN' if plain else mode}: Expected input to be 2D or 3D, "
                             f"got {input.dim()}D{' tensor' if plain else ''} instead")
        lstm = mode == "LSTM"
        if hx is not None:
            _check_state_ranks(hx, input.dim(), lstm)
        if not _autocast_applies():  # autocast casts the input and weights alike
            check_rnn(input, d[self._params[0]])
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")
        if lstm and hx is not None and not (isinstance(hx, tuple | list) and len(hx) == 2):
            raise RuntimeError("lstm expects two hidden states")
        h0, c0 = (hx if lstm else (hx, None)) if hx is not None else (None, None)
        inputs = [input, h0, c0, *(d[name] for name in self._params), None]
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
        lengths = packed.sorted_lengths()
        inputs = [packed.padded(), *states, *(d[name] for name in self._params),
                  index_tensor(lengths)]
        draw = 0
        if train and self._fn.dropout > 0:
            draw = _graph.next_draw()
            inputs.append(_graph.rng_input())
        spec = (shared(self._fn), self._params, train, draw)
        outs = _op_multi(apply_recurrent, (spec,), *inputs, who=type(self).__name__)
        # every output of apply_recurrent is an array (None stands for an output that is None)
        padded, *finals = cast("list[Tensor]", outs)
        if packed.unsorted_indices is not None:
            finals = [h.index_select(1, packed.unsorted_indices) for h in finals]
        output = PackedSequence.of_padded(padded, lengths, packed.sorted_indices,
                                          packed.unsorted_indices)
        return (output, (finals[0], finals[1])) if lstm else (output, finals[0])


def _check_state_ranks(hx: Any, rank: int, lstm: bool) -> None:
    """PyTorch's refusal of initial states whose rank does not match the input's (3-D
    batched, 2-D unbatched); an LSTM's ``hx`` is read as ``hx[0], hx[1]``, as PyTorch
    reads it (a tensor given for the pair included)."""
    kind = "batched 3-D" if rank == 3 else "unbatched 2-D"
    if not lstm:
        if not isinstance(hx, Tensor):  # PyTorch reads the state's dim() first
            raise AttributeError(f"'{type(hx).__name__}' object has no attribute 'dim'")
        if hx.dim() != rank:
            raise RuntimeError(f"For {kind} input, hx should also be {rank}-D but got "
                               f"{hx.dim()}-D tensor")
        return
    h, c = hx[0], hx[1]
    if h.dim() != rank or c.dim() != rank:
        raise RuntimeError(f"For {kind} input, hx and cx should also be {rank}-D but got "
                           f"({h.dim()}-D, {c.dim()}-D) tensors")


class RNN(RNNBase):
    """PyTorch equivalent: ``torch.nn.RNN``."""

    _fnnet = fnn.RNN


class LSTM(RNNBase):
    """PyTorch equivalent: ``torch.nn.LSTM``."""

    _fnnet = fnn.LSTM


class GRU(RNNBase):
    """PyTorch equivalent: ``torch.nn.GRU``."""

    _fnnet = fnn.GRU


#: the layer of each of PyTorch's RNN modes
_MODES = {"LSTM": fnn.LSTM, "GRU": fnn.GRU, "RNN_TANH": fnn.RNN, "RNN_RELU": fnn.RNN}


def _autocast_applies() -> bool:
    """Whether an autocast region of the tensors' device is open and enabled."""
    if not autocasting():
        return False
    from fnnet.torch._autocast import region_dtype  # (it imports this module)

    return region_dtype() is not None
