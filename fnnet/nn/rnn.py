"""Recurrent layers: Elman RNN, LSTM and GRU (computed by ``functional.recurrent``)."""

from __future__ import annotations

import math
from typing import Any, cast

import jax
import jax.numpy as jnp

from fnnet.nn import init as initializers
from fnnet.nn.functional.dropout import check_dropout_p
from fnnet.nn.functional.sequence import GATES, RecurrentWeights, recurrent
from fnnet.nn.module import Module, check_dropout_key, check_input, check_train
from fnnet.typing import Array, Params, PRNGKey, State


class RNNBase(Module):
    """The shared description of :class:`RNN`, :class:`LSTM` and :class:`GRU`.

    Args:
        input_size: features of each time step.
        hidden_size: features of the hidden state.
        num_layers: stacked layers.
        bias: learn ``bias_ih``/``bias_hh``.
        batch_first: input and output are ``[N, T, features]`` instead of ``[T, N, ...]``.
        dropout: dropout on every layer's output but the last's, in training.
        bidirectional: run a second, reversed direction and concatenate.
        proj_size: the LSTM only: ``> 0`` projects each step's ``h`` to ``proj_size``
            features (LSTMP), so the output and ``h_n`` have ``proj_size`` features
            and ``c_n`` keeps ``hidden_size``.

    Parameters, per layer ``k`` (suffix ``_reverse`` for the second direction):
    ``weight_ih_l{k} [gates * hidden, input]``, ``weight_hh_l{k} [gates * hidden,
    hidden]``, ``bias_ih_l{k}``, ``bias_hh_l{k}``, with projections ``weight_hr_l{k}
    [proj, hidden]`` too (and ``proj`` for ``hidden`` as ``weight_hh``'s and the next
    layer's inputs), all ``U(-1/sqrt(hidden), 1/sqrt(hidden))`` as PyTorch.

    ``apply(params, state, x)``, ``apply(params, state, x, hx)`` (PyTorch's form: ``hx``
    is ``h0``, or ``(h0, c0)`` for the LSTM; ``m.lstm(x, (h0, c0))`` in a model) or
    ``apply(params, state, (x, h0[, c0]))`` returns ``((output, h_n), state)``, with
    ``h_n`` the pair ``(h_n, c_n)`` for the LSTM.
    """

    mode = "RNN_TANH"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0) -> None:
        name = type(self).__name__
        for arg, value in (("input_size", input_size), ("hidden_size", hidden_size),
                           ("num_layers", num_layers)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name}: {arg} must be a positive int, got {value!r}")
        if not isinstance(proj_size, int) or isinstance(proj_size, bool):
            raise TypeError(f"{name}: proj_size must be an int, got "
                            f"{type(proj_size).__name__}")
        # PyTorch's words
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and self.mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.proj_size = proj_size
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, \
            num_layers
        self.bias, self.batch_first = bool(bias), bool(batch_first)
        self.dropout = check_dropout_p(dropout, name)
        self.p = self.dropout  # the shim draws a key for a layer with p > 0
        self.bidirectional = bool(bidirectional)

    @property
    def directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def output_size(self) -> int:
        """Features of ``h`` (each step's output): ``proj_size`` where set, else
        ``hidden_size``."""
        return self.proj_size or self.hidden_size

    def param_names(self) -> list[str]:
        """Parameter names in PyTorch's order."""
        names: list[str] = []
        for layer in range(self.num_layers):
            for suffix in ("", "_reverse")[:self.directions]:
                kinds = ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if self.bias
                                                      else ()) \
                    + (("weight_hr",) if self.proj_size else ())
                names.extend(f"{k}_l{layer}{suffix}" for k in kinds)
        return names

    def init(self, key: PRNGKey) -> tuple[Params, State]:
        gates = GATES[self.mode] * self.hidden_size
        bound = 1.0 / math.sqrt(self.hidden_size)
        params = {}
        for i, name in enumerate(self.param_names()):
            layer = int(name.split("_l")[1].split("_")[0])
            width = self.input_size if layer == 0 else self.output_size * self.directions
            shape = {"weight_ih": (gates, width), "weight_hh": (gates, self.output_size),
                     "weight_hr": (self.proj_size, self.hidden_size)
                     }.get(name.split("_l")[0], (gates,))
            params[name] = initializers.uniform(jax.random.fold_in(key, i), shape, bound)
        return params, {}

    def _weights(self, params: Params) -> list[RecurrentWeights]:
        out: list[RecurrentWeights] = []
        for layer in range(self.num_layers):
            for suffix in ("", "_reverse")[:self.directions]:
                tag = f"_l{layer}{suffix}"
                weights = (params["weight_ih" + tag], params["weight_hh" + tag],
                           params.get("bias_ih" + tag), params.get("bias_hh" + tag))
                out.append((*weights, params["weight_hr" + tag]) if self.proj_size
                           else weights)
        return out

    # One input (an array or a tuple): Module.apply's *args are for composites' forward.
    def apply(  # type: ignore[override]
            self, params: Params, state: State, x: Array | tuple[Array, ...],
            hx: Array | tuple[Array, Array] | None = None, *,
            train: bool = False, key: PRNGKey | None = None, lengths: Array | None = None
    ) -> tuple[tuple[Array, Any], State]:
        """``x: [T, N, input]`` (``[N, T, input]`` if batch_first, or ``[T, input]``),
        with ``hx`` the initial state ``h0`` (``(h0, c0)`` for the LSTM), or all of it
        as ``(x, h0)`` (``(x, h0, c0)``) -> ``(output [T, N, D * hidden], h_n [L * D, N,
        hidden])`` (``proj_size`` for ``hidden`` in both with projections). ``lengths
        [N]`` (integers) runs a padded batch: each sequence stops at its length (``h_n``
        its own last state, zeros in ``output`` past it), as a packed sequence in
        PyTorch."""
        name = type(self).__name__
        check_train(self, train)
        inputs: tuple[Any, ...]
        if isinstance(x, tuple):
            if hx is not None:
                raise TypeError(f"{name}: pass the initial state either as hx or inside "
                                "the input tuple (x, h0[, c0]), not both")
            inputs = (tuple(x) + (None, None))[:3]
        elif self.mode == "LSTM" and hx is not None:
            if not (isinstance(hx, tuple | list) and len(hx) == 2):
                raise TypeError(f"{name}: hx must be a pair (h0, c0), got "
                                f"{type(hx).__name__}")
            inputs = (x, *hx)
        else:
            inputs = (x, hx, None)
        x, h0, c0 = cast(tuple[Array, "Array | None", "Array | None"], inputs)
        check_input(self, x, ndim=(2, 3), dim=-1, size=self.input_size)
        batch = () if x.ndim == 2 else (x.shape[0 if self.batch_first else 1],)
        shape = (self.num_layers * self.directions, *batch, self.output_size)
        lstm = self.mode == "LSTM"
        if h0 is None:
            h0 = jnp.zeros(shape, x.dtype)
        if tuple(h0.shape) != shape:  # PyTorch's words
            raise RuntimeError(f"Expected hidden{'[0]' if lstm else ''} size {shape}, got "
                               f"{list(h0.shape)}")
        if lstm:
            shape = (*shape[:-1], self.hidden_size)
            c0 = jnp.zeros(shape, x.dtype) if c0 is None else c0
            if tuple(c0.shape) != shape:
                raise RuntimeError(f"Expected hidden[1] size {shape}, got {list(c0.shape)}")
        if train and self.dropout > 0 and self.num_layers > 1:
            check_dropout_key(self, key)
        y, hn, cn = recurrent(self.mode, x, self._weights(params), h0, c0,
                              num_layers=self.num_layers, bidirectional=self.bidirectional,
                              batch_first=self.batch_first, dropout_p=self.dropout,
                              train=train, key=key, lengths=lengths)
        return (y, (hn, cn) if self.mode == "LSTM" else hn), state

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(RNNBase):
    """Elman RNN, ``h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)``.

    Args:
        nonlinearity: ``"tanh"`` or ``"relu"``; the rest as :class:`RNNBase`.

    PyTorch equivalent: ``torch.nn.RNN``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' "
                             f"or 'relu'.")
        self.nonlinearity = nonlinearity
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional)


class LSTM(RNNBase):
    """Long short-term memory (gates ``i, f, g, o``). PyTorch: ``torch.nn.LSTM``."""

    mode = "LSTM"


class GRU(RNNBase):
    """Gated recurrent unit (gates ``r, z, n``). PyTorch: ``torch.nn.GRU``."""

    mode = "GRU"
