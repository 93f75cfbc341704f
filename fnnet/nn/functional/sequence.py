"""Embedding lookup, layer normalisation, 1-D convolution and the recurrent layers.

The recurrent layers run one ``lax.scan`` per layer and direction over time; the input
projections of all time steps are one matrix product before the scan, as in cuDNN.
Weights are laid out as PyTorch's (``weight_ih_l0 [gates * hidden, input]``, gate order
``i, f, g, o`` for the LSTM and ``r, z, n`` for the GRU).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

import jax
import jax.numpy as jnp
from jax import lax

from fnnet.nn.functional._utils import accumulation, in_dtype_of, in_float32, promoted, widened
from fnnet.nn.functional.dropout import dropout
from fnnet.typing import Array, PRNGKey


def embedding(indices: Array, weight: Array, padding_idx: int | None = None) -> Array:
    """Rows of ``weight`` picked by integer ``indices``.

    Args:
        indices: integer array of any shape ``[*]``.
        weight: ``[num_embeddings, embedding_dim]``.
        padding_idx: a row whose gradient is always zero (PyTorch's padding row).

    Returns:
        ``[*, embedding_dim]``; a row of NaN for an index outside
        ``[0, num_embeddings)`` (where PyTorch raises; :class:`fnnet.nn.Embedding`
        raises too when the indices are concrete).

    PyTorch equivalent: ``torch.nn.functional.embedding``.
    """
    if not jnp.issubdtype(jnp.asarray(indices).dtype, jnp.integer):
        raise TypeError(f"embedding: indices must be an integer array, got dtype "
                        f"{jnp.asarray(indices).dtype}")
    # PyTorch refuses a negative index, which jnp.take would wrap: sent past the end,
    # it gives a NaN row, as an index past the end does under jit.
    indices = jnp.asarray(indices)
    out = jnp.take(weight, jnp.where(indices < 0, weight.shape[0], indices), axis=0)
    if padding_idx is not None:
        keep = (indices != padding_idx)[..., None]
        out = jnp.where(keep, out, lax.stop_gradient(out))
    return out


def layer_norm(x: Array, normalized_shape: Sequence[int], weight: Array | None = None,
               bias: Array | None = None, eps: float = 1e-5) -> Array:
    """Normalises over the trailing ``normalized_shape`` axes (biased variance).

    Args:
        x: ``[*, *normalized_shape]``.
        normalized_shape: the trailing shape that is normalised.
        weight: the ``normalized_shape``-shaped scale, or None.
        bias: the ``normalized_shape``-shaped shift, or None.
        eps: added to the variance inside the square root.

    PyTorch equivalent: ``torch.nn.functional.layer_norm``.
    """
    shape = tuple(normalized_shape)
    if tuple(x.shape[x.ndim - len(shape):]) != shape:
        raise ValueError(f"layer_norm: expected input with trailing shape {list(shape)}, "
                         f"got shape {tuple(x.shape)}")
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    wide = widened(x)
    mean = jnp.mean(wide, axis=axes, keepdims=True)
    var = jnp.mean(jnp.square(wide - mean), axis=axes, keepdims=True)
    y = (wide - mean) * lax.rsqrt(var + eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return in_dtype_of(y, x)


def conv1d(x: Array, weight: Array, bias: Array | None = None, stride: int = 1,
           padding: int | str = 0, dilation: int = 1, groups: int = 1) -> Array:
    """1-D convolution (cross-correlation, as PyTorch).

    Args:
        x: ``[N, C_in, L]`` or unbatched ``[C_in, L]``.
        weight: ``[C_out, C_in / groups, K]``.
        bias: ``[C_out]`` or None.
        stride: the step between windows.
        padding: an int, ``"valid"`` or ``"same"``.
        dilation: the spacing between kernel taps.
        groups: channel groups.

    Returns:
        ``[N, C_out, L_out]``.

    PyTorch equivalent: ``torch.nn.functional.conv1d``.
    """
    unbatched = x.ndim == 2
    if unbatched:
        x = x[None]
    if padding == "valid":
        pad = [(0, 0)]
    elif padding == "same":
        total = dilation * (weight.shape[-1] - 1)
        pad = [(total // 2, total - total // 2)]
    else:
        pad = [(int(padding), int(padding))]
    x, weight = promoted(x, weight)
    dtype = x.dtype
    y = lax.conv_general_dilated(x, weight, (stride,), pad, rhs_dilation=(dilation,),
                                 dimension_numbers=("NCH", "OIH", "NCH"),
                                 feature_group_count=groups,
                                 preferred_element_type=accumulation(dtype))
    if bias is not None:
        y = y + widened(bias)[:, None]
    return (y[0] if unbatched else y).astype(dtype)


@in_float32
def leaky_relu(x: Array, negative_slope: float = 0.01) -> Array:
    """``x`` where positive, ``negative_slope * x`` elsewhere.

    PyTorch equivalent: ``torch.nn.functional.leaky_relu``.
    """
    return jnp.where(x > 0, x, x * negative_slope)


@in_float32
def gelu(x: Array, approximate: str = "none") -> Array:
    """Gaussian error linear unit: exact (erf) or ``approximate="tanh"``.

    PyTorch equivalent: ``torch.nn.functional.gelu``.
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return jax.nn.gelu(x, approximate=approximate == "tanh")


# ----------------------------------------------------------------------------------
# Recurrent layers.

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# The step ``(carry, x_proj_t) -> (carry, h_t)`` of a scan; the carry is ``h``, or
# ``(h, c)`` for the LSTM.
_Step = Callable[[Any, Array], tuple[Any, Array]]
# ``(w_ih, w_hh, b_ih, b_hh)``, and the LSTM's projection ``w_hr`` fifth where it has one
RecurrentWeights = (tuple[Array, Array, Array | None, Array | None]
                    | tuple[Array, Array, Array | None, Array | None, Array | None])


def _cell(mode: str) -> Callable[[Array, Array | float, Array | None], _Step]:
    """The step ``(carry, x_proj_t) -> (carry, h_t)`` of one recurrent layer, made from
    ``(w_hh, b_hh, w_hr)`` (``w_hr`` the LSTM's projection of ``h``, or None)."""

    def rnn(w_hh: Array, b_hh: Array | float, act: Callable[[Array], Array]) -> _Step:
        def step(h: Array, xp: Array) -> tuple[Array, Array]:
            h = act(xp + h @ w_hh.T + b_hh)
            return h, h
        return step

    def lstm(w_hh: Array, b_hh: Array | float, w_hr: Array | None) -> _Step:
        def step(carry: tuple[Array, Array], xp: Array) -> tuple[tuple[Array, Array], Array]:
            h, c = carry
            i, f, g, o = jnp.split(xp + h @ w_hh.T + b_hh, 4, axis=-1)
            c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
            h = jax.nn.sigmoid(o) * jnp.tanh(c)
            if w_hr is not None:  # LSTMP: h is projected to proj_size, c keeps hidden_size
                h = h @ w_hr.T
            return (h, c), h
        return step

    def gru(w_hh: Array, b_hh: Array | float, w_hr: Array | None) -> _Step:
        def step(h: Array, xp: Array) -> tuple[Array, Array]:
            xr, xz, xn = jnp.split(xp, 3, axis=-1)
            hr, hz, hn = jnp.split(h @ w_hh.T + b_hh, 3, axis=-1)
            r = jax.nn.sigmoid(xr + hr)
            z = jax.nn.sigmoid(xz + hz)
            n = jnp.tanh(xn + r * hn)
            h = (1.0 - z) * n + z * h
            return h, h
        return step

    if mode == "LSTM":
        return lstm
    if mode == "GRU":
        return gru
    act: Callable[[Array], Array] = jnp.tanh if mode == "RNN_TANH" else jax.nn.relu
    return lambda w_hh, b_hh, w_hr: rnn(w_hh, b_hh, act)


def _masked(step: _Step) -> Callable[[Any, tuple[Array, Array]], tuple[Any, Array]]:
    """``step`` for a scan over ``(x_proj_t, valid_t)``: where ``valid_t [N]`` is False
    the carry is kept and the output is zero."""

    def run(carry: Any, xs: tuple[Array, Array]) -> tuple[Any, Array]:
        xp, keep = xs
        new, h = step(carry, xp)
        new = jax.tree.map(lambda a, b: jnp.where(keep[:, None], a, b), new, carry)
        return new, jnp.where(keep[:, None], h, 0)
    return run


def recurrent(mode: str, x: Array, weights: Sequence[RecurrentWeights], h0: Array,
              c0: Array | None = None, *, num_layers: int = 1, bidirectional: bool = False,
              batch_first: bool = False, dropout_p: float = 0.0, train: bool = False,
              key: PRNGKey | None = None, lengths: Array | None = None
              ) -> tuple[Array, Array, Array | None]:
    """A multi-layer RNN, LSTM or GRU over a sequence.

    Args:
        mode: ``"RNN_TANH"``, ``"RNN_RELU"``, ``"LSTM"`` or ``"GRU"``.
        x: ``[T, N, input]`` (``[N, T, input]`` if ``batch_first``) or unbatched
            ``[T, input]``.
        weights: per layer and direction (layer-major), ``(w_ih, w_hh, b_ih, b_hh)``
            with ``b_*`` possibly None; an LSTM with projections (LSTMP) adds ``w_hr
            [proj, hidden]`` fifth, which maps each step's ``h`` to ``proj`` features.
        h0: ``[num_layers * directions, N, hidden]`` (``[L * D, hidden]`` unbatched;
            ``proj`` for ``hidden`` with projections).
        c0: the LSTM's initial cell state, ``[L * D, N, hidden]``.
        dropout_p: dropout on the outputs of every layer but the last, in training.
        key: PRNG key for that dropout.
        lengths: ``[N]`` integer, how many steps of each sequence are valid (a padded
            batch; None: all ``T``). Past its length a sequence's state stays as it was
            and its output is zero, so ``h_n`` is each sequence's own last state (as a
            packed sequence in PyTorch) and the reversed direction starts at its last
            valid step.

    Returns:
        ``(output [T, N, D * hidden], h_n, c_n)`` (``c_n`` None unless LSTM; ``proj``
        for ``hidden`` in ``output`` and ``h_n`` with projections), in the layout of
        ``x``.

    Raises:
        ValueError: ``x``, ``h0`` or ``c0`` of another dtype than the weights (PyTorch
            refuses it too; the scan would fail on its carry's dtype).

    PyTorch equivalent: ``torch.nn.RNN`` / ``LSTM`` / ``GRU``.
    """
    # canonical: a float64 numpy input is float32 to JAX (without x64), as the weights
    dtype = jax.dtypes.canonicalize_dtype(weights[0][0].dtype)
    for what, value in (("input", x), ("hx", h0), ("cx", c0)):
        if value is not None and jax.dtypes.canonicalize_dtype(value.dtype) != dtype:
            params = (f", or the parameters: jax.tree.map(lambda p: p.astype("
                      f"{value.dtype}), params)") if jnp.issubdtype(value.dtype,
                                                                    jnp.floating) else ""
            raise ValueError(f"{mode} {what} dtype ({value.dtype}) does not match weight "
                             f"dtype ({dtype}). Convert the {what}: {what}.astype({dtype})"
                             f"{params}")
    unbatched = x.ndim == 2
    if unbatched:
        x, h0 = x[:, None], h0[:, None]
        c0 = None if c0 is None else c0[:, None]
    elif batch_first:
        x = jnp.swapaxes(x, 0, 1)
    directions = 2 if bidirectional else 1
    make = _cell(mode)
    if lengths is not None:
        if unbatched or lengths.shape != x.shape[1:2]:
            raise ValueError(f"{mode}: lengths must have one entry per sequence, shape "
                             f"{x.shape[1:2]}, got {tuple(lengths.shape)}")
        valid = jnp.arange(x.shape[0])[:, None] < lengths[None, :]
    h_n: list[Array] = []
    c_n: list[Array] = []
    for layer in range(num_layers):
        outs: list[Array] = []
        for d in range(directions):
            index = layer * directions + d
            w_ih, w_hh, b_ih, b_hh, *projection = weights[index]
            xp = x @ w_ih.T
            if b_ih is not None:
                xp = xp + b_ih
            step = make(w_hh, 0.0 if b_hh is None else b_hh,
                        projection[0] if projection else None)
            carry: Any = (h0[index], cast(Array, c0)[index]) if mode == "LSTM" else h0[index]
            if lengths is None:
                carry, ys = lax.scan(step, carry, xp, reverse=d == 1)
            else:
                carry, ys = lax.scan(_masked(step), carry, (xp, valid), reverse=d == 1)
            outs.append(ys)
            if mode == "LSTM":
                h_n.append(carry[0])
                c_n.append(carry[1])
            else:
                h_n.append(carry)
        x = outs[0] if directions == 1 else jnp.concatenate(outs, axis=-1)
        if dropout_p > 0 and train and layer < num_layers - 1:
            x = dropout(x, dropout_p, True, key=jax.random.fold_in(cast(PRNGKey, key), layer))
    hn = jnp.stack(h_n)
    cn = jnp.stack(c_n) if mode == "LSTM" else None
    if unbatched:
        return x[:, 0], hn[:, 0], None if cn is None else cn[:, 0]
    if batch_first:
        x = jnp.swapaxes(x, 0, 1)
    return x, hn, cn
