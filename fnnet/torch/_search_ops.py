"""Order statistics, binning and splitting that data-handling code reaches for:
``kthvalue``, ``mode``, ``quantile``, ``nanmedian``, ``aminmax``, ``histc``, ``histogram``,
``bucketize``/``searchsorted``, ``unique_consecutive``, ``take``, ``tensor_split``,
``dist``, ``cov``/``corrcoef``, ``logcumsumexp`` and the ``bitwise_*`` functions.

Each recorded op is a module-level ``jax.numpy`` function (the same object at every call,
so the step cache recognises it); ops that PyTorch builds from others (``take``,
``tensor_split``, ``dist``) are written with the tensor's own recorded ops.
:func:`install` attaches the methods to :class:`~fnnet.torch.tensor.Tensor` and the
functions to ``fnnet.torch``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, cast

import jax
import jax.numpy as jnp
import numpy as np

from fnnet.torch import _graph, _ops
from fnnet.torch._complex_checks import kernel_error
from fnnet.torch._dtypes import scalar_name
from fnnet.torch._shape_ops import tensor_arg
from fnnet.torch.tensor import (
    Tensor,
    _as_tensor,
    _dim,
    _op,
    _op_multi,
    host_index_outside,
    values_indices,
)

_INDEX = np.dtype(_graph.canonical_dtype(np.int64))


def _kthvalue(x: Any, k: int, dim: int, keepdim: bool) -> tuple[Any, Any]:
    order = jnp.argsort(x, axis=dim, stable=True)
    index = jax.lax.index_in_dim(order, k - 1, axis=dim, keepdims=True)
    values = jnp.take_along_axis(x, index, axis=dim)
    if not keepdim:
        values, index = jnp.squeeze(values, dim), jnp.squeeze(index, dim)
    return values, index.astype(_INDEX)


def _check_not_empty(input: Tensor, dim: int, who: str) -> None:
    """PyTorch's IndexError for a reduction along a dimension of size 0."""
    if input.dim() and input.shape[dim] == 0:
        raise IndexError(f"{who}(): Expected reduction dim {dim} to have non-zero size.")


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> Any:
    """The ``k``-th smallest value along ``dim`` (``k`` from 1) and its index.

    PyTorch equivalent: ``torch.kthvalue``.
    """
    dim = _dim(dim, input.dim(), "kthvalue")
    _check_not_empty(input, dim, "kthvalue")
    size = input.shape[dim] if input.dim() else 1
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {dim}")
    if input.dim() == 0:
        return values_indices(input * 1, _as_tensor(np.asarray(0, _INDEX)), "kthvalue")
    values, indices = _op_multi(_kthvalue, (k, dim, bool(keepdim)), input, who="kthvalue")
    return values_indices(values, indices, "kthvalue")


def _mode(x: Any, dim: int, keepdim: bool) -> tuple[Any, Any]:
    moved = jnp.moveaxis(x, dim, -1)
    counts = jnp.sum(moved[..., :, None] == moved[..., None, :], axis=-1)
    most = counts == jnp.max(counts, axis=-1, keepdims=True)
    # among the most frequent values the smallest; its last position, as PyTorch's CPU
    top = jnp.finfo(x.dtype).max if jnp.issubdtype(x.dtype, jnp.floating) else \
        jnp.iinfo(x.dtype).max if jnp.issubdtype(x.dtype, jnp.integer) else True
    values = jnp.min(jnp.where(most, moved, top), axis=-1, keepdims=True)
    positions = jnp.arange(moved.shape[-1])
    index = jnp.max(jnp.where(moved == values, positions, -1), axis=-1, keepdims=True)
    values, index = jnp.moveaxis(values, -1, dim), jnp.moveaxis(index, -1, dim)
    if not keepdim:
        values, index = jnp.squeeze(values, dim), jnp.squeeze(index, dim)
    return values, index.astype(_INDEX)


def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> Any:
    """The most frequent value along ``dim`` (the smallest of equally frequent ones) and
    the index of its last occurrence. PyTorch equivalent: ``torch.mode``."""
    dim = _dim(dim, input.dim(), "mode")
    _check_not_empty(input, dim, "mode")
    if input.dim() == 0:
        return values_indices(input * 1, _as_tensor(np.asarray(0, _INDEX)), "mode")
    values, indices = _op_multi(_mode, (dim, bool(keepdim)), input, who="mode")
    return values_indices(values, indices, "mode")


def _quantile(x: Any, q: Any, dim: int | None, keepdim: bool, method: str, nan: bool
              ) -> Any:
    """PyTorch's quantile arithmetic: ranks ``q * (n - 1)`` in the input's dtype (a row
    holding a NaN ranks last, so its quantiles are NaN; ``nan``: ``n`` counts the non-NaN
    values), rounded half to even for ``"nearest"``, the neighbours gathered from the
    sorted rows and blended by ``lerp``'s formula. The levels lead the result's shape."""
    rows = jnp.sort(x.reshape(-1) if dim is None else jnp.moveaxis(x, dim, -1), axis=-1)
    levels = jnp.atleast_1d(q)
    missing = jnp.isnan(rows)
    if nan:
        count = jnp.sum(~missing, axis=-1, keepdims=True)
        ranks = jnp.maximum(levels * (count - 1).astype(levels.dtype), 0)
    else:
        last = rows.shape[-1] - 1
        ranks = jnp.where(jnp.any(missing, axis=-1, keepdims=True),
                          jnp.asarray(last, levels.dtype), levels * last)
    ranks = jnp.broadcast_to(ranks, (*rows.shape[:-1], levels.shape[0]))
    if method == "lower":
        ranks = jnp.floor(ranks)
    elif method == "higher":
        ranks = jnp.ceil(ranks)
    elif method == "nearest":
        ranks = jnp.round(ranks)  # half to even, as torch.round
    below = ranks.astype(jnp.int32)
    values = jnp.take_along_axis(rows, below, axis=-1)
    if method in ("linear", "midpoint"):
        weights = jnp.where(ranks == below, 0.0, 0.5).astype(ranks.dtype) \
            if method == "midpoint" else ranks - below
        above = jnp.take_along_axis(rows, jnp.ceil(ranks).astype(jnp.int32), axis=-1)
        values = jnp.where(jnp.abs(weights) < 0.5, values + weights * (above - values),
                           above - (above - values) * (1 - weights))
    values = jnp.moveaxis(values, -1, 0)
    if dim is not None and keepdim:
        values = jnp.expand_dims(values, 1 + dim)
    return values if jnp.ndim(q) else values[0]


def _quantile_fn(nan: bool) -> Callable[..., Tensor]:
    name = "nanquantile" if nan else "quantile"

    def quantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
                 interpolation: str = "linear") -> Tensor:
        # PyTorch's checks name quantile() for nanquantile too
        if input.numel() == 0:
            raise RuntimeError("quantile() input tensor must be non-empty")
        if not input.is_floating_point():
            raise RuntimeError("quantile() input tensor must be either float or double "
                               "dtype")
        if isinstance(q, Tensor):
            if q.dim() > 1:
                raise RuntimeError("quantile() q must be a scalar or 1D tensor")
            if q.dtype != input.dtype:
                raise RuntimeError("quantile() q tensor must be same dtype as the input "
                                   "tensor")
        if interpolation not in ("linear", "lower", "higher", "midpoint", "nearest"):
            raise RuntimeError("quantile() interpolation must be one of linear, lower, "
                               f"higher, midpoint or nearest, but got {interpolation}")
        levels = q.detach().numpy() if isinstance(q, Tensor) else np.asarray(q, np.float32)
        if np.any((levels < 0) | (levels > 1)):
            if isinstance(q, Tensor):
                raise RuntimeError("quantile() q values must be in the range [0, 1]")
            raise RuntimeError(f"quantile() q must be in the range [0, 1] but got {q:g}")
        dim = None if dim is None else _dim(dim, input.dim(), name)
        # q a tensor: its values become a constant of the op (as PyTorch reads them too)
        q_static = float(levels) if levels.ndim == 0 else tuple(float(v) for v in levels)
        out = _op(_quantile_static, (q_static, dim, bool(keepdim), interpolation, nan),
                  input, who=name)
        if dim is None and keepdim:  # PyTorch keeps every dimension as size 1
            out = out.reshape(*out.shape, *([1] * input.dim()))
        return out

    quantile.__name__ = name
    quantile.__doc__ = (f"The ``q`` quantiles (a number or a 1-D tensor of levels in "
                        f"[0, 1]) over ``dim`` (all elements by default), interpolated as "
                        f"``interpolation``{', NaNs ignored' if nan else ''}.\n\n    "
                        f"PyTorch equivalent: ``torch.{name}``.")
    return quantile


def _quantile_static(x: Any, q: Any, dim: int | None, keepdim: bool, method: str,
                     nan: bool) -> Any:
    levels = jnp.asarray(q, x.dtype)
    return _quantile(x, levels, dim, keepdim and dim is not None, method, nan)


def _nanmedian_dim(x: Any, dim: int, keepdim: bool) -> tuple[Any, Any]:
    order = jnp.argsort(x, axis=dim, stable=True)  # NaNs sort last
    count = jnp.sum(~jnp.isnan(x), axis=dim, keepdims=True)
    k = jnp.maximum((count - 1) // 2, 0)
    index = jnp.take_along_axis(order, k, axis=dim)
    values = jnp.take_along_axis(x, index, axis=dim)
    if not keepdim:
        values, index = jnp.squeeze(values, dim), jnp.squeeze(index, dim)
    return values, index.astype(_INDEX)


def _nanmedian_all(x: Any) -> Any:
    return _ops.spread_over_ties(x, _nanmedian_dim(x.reshape(-1), 0, False)[0])


def nanmedian(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """The lower median of the non-NaN elements: of all, or ``(values, indices)`` along
    ``dim``. PyTorch equivalent: ``torch.nanmedian``."""
    if dim is None:
        if input.numel() == 0:  # the median of nothing is NaN, as PyTorch's
            return input.new_full((), float("nan"))
        return _op(_nanmedian_all, (), input, who="nanmedian")
    dim = _dim(dim, input.dim(), "nanmedian")
    values, indices = _op_multi(_nanmedian_dim, (dim, bool(keepdim)), input, who="nanmedian")
    return values_indices(values, indices, "nanmedian")


def msort(input: Tensor) -> Tensor:
    """The values sorted along the first dimension. PyTorch: ``torch.msort``."""
    out: Tensor = input.sort(dim=0).values
    return out


def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False) -> Any:
    """``(min, max)`` over ``dim`` (all elements by default). PyTorch: ``torch.aminmax``."""
    from fnnet.torch._factorizations import return_type

    if input.dtype.is_complex:
        raise kernel_error("aminmax_cpu", input.dtype)
    low, high = (input.amin(dim, keepdim), input.amax(dim, keepdim)) if dim is not None else \
        (input.min(), input.max())
    if dim is None and keepdim:
        low, high = low.reshape([1] * input.dim()), high.reshape([1] * input.dim())
    return return_type("aminmax", ("min", "max"))(low, high)


def _logcumsumexp(x: Any, dim: int) -> Any:
    return jax.lax.cumlogsumexp(x, axis=dim)


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """``log(cumsum(exp(x)))`` along ``dim``, computed stably.

    PyTorch equivalent: ``torch.logcumsumexp``.
    """
    dim = _dim(dim, input.dim(), "logcumsumexp")
    return _op(_logcumsumexp, (dim,), input, who="logcumsumexp")


def _cov(x: Any, correction: int, fweights: Any, aweights: Any) -> Any:
    return jnp.cov(x, ddof=correction, fweights=fweights, aweights=aweights)


def cov(input: Tensor, *, correction: int = 1, fweights: Any = None, aweights: Any = None
        ) -> Tensor:
    """The covariance matrix of the variables in ``input``'s rows (observations in the
    columns). PyTorch equivalent: ``torch.cov``."""
    if input.dim() > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got "
                           f"an input with {input.dim()} dimensions")
    weights = [w for w in (fweights, aweights) if w is not None]
    if weights:
        names = tuple(n for n, w in (("f", fweights), ("a", aweights)) if w is not None)
        return _op(_cov_weighted, (int(correction), names), input,
                   *(tensor_arg(w, "cov", "weights") for w in weights), who="cov")
    return _op(_cov, (int(correction), None, None), input, who="cov")


def _cov_weighted(x: Any, *rest: Any) -> Any:
    *weights, correction, names = rest
    given = dict(zip(names, weights, strict=True))
    return jnp.cov(x, ddof=correction, fweights=given.get("f"), aweights=given.get("a"))


def _corrcoef(x: Any) -> Any:
    return jnp.corrcoef(x)


def corrcoef(input: Tensor) -> Tensor:
    """Pearson's correlation coefficients of the variables in ``input``'s rows.

    PyTorch equivalent: ``torch.corrcoef``.
    """
    if input.dim() > 2:
        raise RuntimeError(f"corrcoef(): expected input to have two or fewer dimensions but "
                           f"got an input with {input.dim()} dimensions")
    return _op(_corrcoef, (), input, who="corrcoef")


def unique_consecutive(self: Tensor, return_inverse: bool = False,
                       return_counts: bool = False, dim: int | None = None) -> Any:
    """Each run of equal consecutive values once (read on the host: the result's size
    depends on the values), with each element's run and each run's length on request.

    PyTorch equivalent: ``torch.unique_consecutive``.
    """
    from fnnet.torch.tensor import _wrap_value

    values = np.asarray(self.detach().numpy())
    if dim is None:
        values = values.reshape(-1)
        axis = 0
    else:
        axis = _dim(dim, self.dim(), "unique_consecutive")
    moved = np.moveaxis(values, axis, 0)
    n = moved.shape[0]
    if n == 0:
        starts = np.zeros((0,), bool)
    else:
        changed = np.any((moved[1:] != moved[:-1]).reshape(n - 1, -1), axis=1)
        starts = np.concatenate([[True], changed])
    out = np.moveaxis(moved[starts], 0, axis)
    result: list[Any] = [_wrap_value(out)]
    if return_inverse:
        inverse = (np.cumsum(starts) - 1).astype(_INDEX)
        result.append(_wrap_value(inverse.reshape(self.shape) if dim is None else inverse))
    if return_counts:
        bounds = np.flatnonzero(np.concatenate([starts, [True]]))
        result.append(_wrap_value(np.diff(bounds).astype(_INDEX)))
    return result[0] if len(result) == 1 else tuple(result)


def _histc(x: Any, bins: int, low: float, high: float) -> Any:
    flat = x.reshape(-1)
    if low == high:  # the data's range (widened by 1 each way where it is one value)
        lo, hi = jnp.min(flat), jnp.max(flat)
        lo, hi = jnp.where(lo == hi, lo - 1, lo), jnp.where(lo == hi, hi + 1, hi)
    else:
        lo, hi = jnp.asarray(low, x.dtype), jnp.asarray(high, x.dtype)
    inside = (flat >= lo) & (flat <= hi)
    index = jnp.floor((flat - lo) * bins / (hi - lo)).astype(jnp.int32)
    index = jnp.clip(index, 0, bins - 1)  # the top edge falls in the last bin
    return jnp.zeros(bins, x.dtype).at[index].add(inside.astype(x.dtype))


@functools.partial(jax.jit, static_argnames=("bins", "range", "density"))
def _histogram(values: Any, weights: Any, edges: Any, *, bins: int | None,
               range: tuple[float, float] | None, density: bool) -> Any:  # noqa: A002
    """``jnp.histogram`` as one program per input shape and bin count (eager, each of its
    few dozen primitives compiled apart)."""
    return jnp.histogram(values, cast(int, bins) if edges is None else edges, range,
                         weights=weights, density=density)


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A002
    """Counts of the elements in ``bins`` equal-width bins over ``[min, max]`` (the data's
    range where both are 0); elements outside are ignored.

    PyTorch equivalent: ``torch.histc``.
    """
    if input.dtype.is_complex:  # PyTorch's finds the range first
        raise kernel_error("aminmax_cpu", input.dtype)
    if not input.is_floating_point():
        # PyTorch's kernel refuses integers; for booleans its bin edges fail first
        kernel = "linspace" if scalar_name(input.dtype) == "Bool" else "histogram"
        raise NotImplementedError(f'"{kernel}_cpu" not implemented for '
                                  f"'{scalar_name(input.dtype)}'")
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for "
                           f"dimension 0")
    if float(min) > float(max):
        raise RuntimeError("torch.histc: max must be larger than min")
    # not differentiable: PyTorch's result carries no graph even from an input that has one
    return _op(_histc, (bins, float(min), float(max)), input, who="histc").detach()


def histogram(input: Tensor, bins: Any = 100, *, range: tuple[float, float] | None = None,  # noqa: A002
              weight: Tensor | None = None, density: bool = False) -> Any:
    """The histogram of ``input``'s elements, read now (for plotting).

    Args:
        input: a floating point tensor, any shape (flattened).
        bins: the number of equal-width bins over ``range`` (the data's range where None,
            widened by 0.5 each way where it is one value), or a 1-D tensor of
            increasing bin edges.
        range: ``(min, max)`` of the bins.
        weight: a tensor of ``input``'s shape weighting each element.
        density: divide the counts by their total times the bin width.

    Returns:
        ``(hist: [bins], bin_edges: [bins + 1])``, with ``.hist`` and ``.bin_edges``, in
        ``input``'s dtype; the last bin includes its right edge.

    PyTorch equivalent: ``torch.histogram``.
    """
    from fnnet.torch._factorizations import return_type
    from fnnet.torch.tensor import _wrap_value

    x = tensor_arg(input, "histogram", "input")
    if not x.is_floating_point():
        raise NotImplementedError(f"\"histogramdd\" not implemented for {x.dtype}: "
                                  f"histogram() takes a floating point input")
    if isinstance(bins, Tensor):
        edges: Any = np.asarray(bins._value(), x.dtype.np)
        if edges.ndim != 1 or edges.size < 2:
            raise RuntimeError(f"torch.histogram(): bins tensor should have one dimension "
                               f"and at least 2 elements, got shape {tuple(bins.shape)}")
    elif isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for "
                           f"dimension 0")
    else:
        edges = bins
    if range is not None and float(range[0]) > float(range[1]):
        raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got min "
                           f"{range[0]} max {range[1]} for dimension 0")
    values = x._value().reshape(-1)
    weights = None
    if weight is not None:
        w = tensor_arg(weight, "histogram", "weight")
        if tuple(w.shape) != tuple(x.shape):
            raise RuntimeError(f"torch.histogram(): weight should have the same shape as "
                               f"input, got {tuple(w.shape)} and {tuple(x.shape)}")
        weights = w._value().reshape(-1).astype(values.dtype)
    if range is not None:  # a list too, as PyTorch takes; static, so hashable
        range = (float(range[0]), float(range[1]))  # noqa: A001
    if isinstance(edges, int):
        hist, bin_edges = _histogram(values, weights, None, bins=edges, range=range,
                                     density=density)
    else:
        hist, bin_edges = _histogram(values, weights, edges, bins=None, range=range,
                                     density=density)
    result = return_type("histogram", ("hist", "bin_edges"))
    return result(_wrap_value(hist.astype(values.dtype)),
                  _wrap_value(bin_edges.astype(values.dtype)))


def _searchsorted(sorted_sequence: Any, values: Any, side: str, dtype: Any) -> Any:
    if sorted_sequence.ndim == 1:
        out = jnp.searchsorted(sorted_sequence, values, side=side)
    else:  # one sorted row per row of values
        lead = sorted_sequence.shape[:-1]
        rows = sorted_sequence.reshape(-1, sorted_sequence.shape[-1])
        queries = values.reshape(rows.shape[0], -1)
        out = jax.vmap(lambda r, q: jnp.searchsorted(r, q, side=side))(rows, queries)
        out = out.reshape(*lead, values.shape[-1])
    return out.astype(dtype)


def searchsorted(sorted_sequence: Any, input: Any, *, out_int32: bool = False,  # noqa: A002
                 right: bool = False, side: str | None = None, sorter: Any = None
                 ) -> Tensor:
    """The indices at which ``input``'s values would be inserted into the last dimension
    of ``sorted_sequence`` to keep it sorted (``right``/``side="right"``: after equal
    values). PyTorch equivalent: ``torch.searchsorted``.
    """
    seq = tensor_arg(sorted_sequence, "searchsorted", "sorted_sequence")
    scalar = not isinstance(input, Tensor) and np.ndim(input) == 0
    values = _as_tensor(np.asarray([input]) if scalar else input)
    if side not in (None, "left", "right"):
        raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but "
                           f"got {side}")
    if side == "left" and right:
        raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, "
                           "got side of left while right was True")
    if sorter is not None:
        seq = seq.gather(-1, _as_tensor(sorter))
    if seq.dim() > 1 and tuple(seq.shape[:-1]) != tuple(values.shape[:-1]):
        raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension "
                           f"or the first N-1 dimensions of boundaries tensor and input "
                           f"value tensor must match, but we got boundaries tensor "
                           f"{list(seq.shape)} and input value tensor {list(values.shape)}")
    dtype = np.dtype(np.int32) if out_int32 else _INDEX
    out = _op(_searchsorted, ("right" if right or side == "right" else "left", dtype),
              seq, values, who="searchsorted")
    return out[0] if scalar else out


def bucketize(input: Any, boundaries: Any, *, out_int32: bool = False, right: bool = False
              ) -> Tensor:
    """The bucket of each value among the sorted 1-D ``boundaries``: ``i`` with
    ``boundaries[i-1] < x <= boundaries[i]`` (``right``: ``<= x <``).

    PyTorch equivalent: ``torch.bucketize``.
    """
    bounds = tensor_arg(boundaries, "bucketize", "boundaries")
    if bounds.dim() != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim("
                           f"{bounds.dim()})")
    return searchsorted(bounds, input, out_int32=out_int32, right=right)


def take(input: Tensor, index: Any) -> Tensor:
    """The elements at ``index`` of the flattened tensor. PyTorch: ``torch.take``."""
    index = tensor_arg(index, "take", "index")
    bad = host_index_outside(index, input.numel(), negative=True)
    if bad is not None:
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of "
                         f"{input.numel()} elements.")
    out: Tensor = input.reshape(-1)[index]
    return out


def overload_argument(who: str, **given: Any) -> Any:
    """The one of ``given`` that is not None: the argument that PyTorch's overloads of
    ``who`` name differently (``hsplit(x, sections=2)``, ``hsplit(x, indices=[1])``)."""
    passed = [name for name, value in given.items() if value is not None]
    if len(passed) != 1:
        raise TypeError(f"{who}() received an invalid combination of arguments - expected "
                        f"one of {', '.join(given)}, got "
                        f"{' and '.join(passed) if passed else 'none of them'}")
    return given[passed[0]]


def tensor_split(input: Tensor, sections: Any = None, dim: int = 0, *,
                 indices: Any = None, tensor_indices_or_sections: Any = None
                 ) -> tuple[Tensor, ...]:
    """Splits along ``dim`` into ``n`` nearly equal parts (the first ``size % n`` one
    longer) or at the given indices: ``sections``, ``indices`` and
    ``tensor_indices_or_sections`` are PyTorch's three overloads' names, each taking the
    others' values too. PyTorch equivalent: ``torch.tensor_split``."""
    sections = overload_argument("tensor_split", sections=sections, indices=indices,
                                 tensor_indices_or_sections=tensor_indices_or_sections)
    dim = _dim(dim, input.dim(), "tensor_split")
    size = input.shape[dim]
    if isinstance(sections, Tensor):
        sections = sections.tolist()
    if isinstance(sections, int) and not isinstance(sections, bool):
        if sections < 1:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        base, extra = divmod(size, sections)
        bounds = [i * base + min(i, extra) for i in range(sections + 1)]
    elif isinstance(sections, Sequence):
        bounds = [0, *(int(i) for i in sections), size]
    else:
        raise TypeError(f"tensor_split(): argument 'indices_or_sections' must be int or a "
                        f"sequence of ints, not {type(sections).__name__}")
    lead = (slice(None),) * dim
    return tuple(input[(*lead, slice(min(max(a, 0), size), min(max(b, a, 0), size)))]
                 for a, b in zip(bounds[:-1], bounds[1:], strict=True))


def dist(input: Tensor, other: Any, p: float = 2) -> Tensor:
    """The ``p``-norm of ``self - other``. PyTorch equivalent: ``torch.dist``."""
    from fnnet.torch.linalg import vector_norm

    return vector_norm(input - tensor_arg(other, "dist", "other"), ord=p)


#: PyTorch's name -> the jax.numpy function
BITWISE: dict[str, Callable[..., Any]] = {
    "bitwise_and": jnp.bitwise_and, "bitwise_or": jnp.bitwise_or,
    "bitwise_xor": jnp.bitwise_xor, "bitwise_left_shift": jnp.left_shift,
    "bitwise_right_shift": jnp.right_shift,
}


def _bitwise(name: str, fn: Callable[..., Any]) -> Callable[..., Tensor]:
    def method(input: Tensor, other: Any) -> Tensor:
        if not isinstance(other, Tensor):
            number = np.asarray(other)
            # an integer number promotes a bool tensor to integers, as in PyTorch, and
            # takes an integer tensor's type (wrapping around, as PyTorch's cast)
            kind = number.dtype if input.dtype.np == np.bool_ or number.dtype.kind not in \
                "iub" else np.dtype(input.dtype.np)
            other = _as_tensor(number.astype(kind))
        if input.is_floating_point() or other.is_floating_point():
            raise NotImplementedError(f"\"{name}_cpu\" not implemented for 'Float'")
        return _op(fn, (), input, other, who=name)

    method.__name__ = name
    method.__doc__ = f"PyTorch equivalent: ``torch.{name}``."
    return method


def _bitwise_not(x: Any) -> Any:
    return jnp.logical_not(x) if x.dtype == jnp.bool_ else jnp.invert(x)


def bitwise_not(input: Tensor) -> Tensor:
    """``~x``: each bit flipped (``not`` for booleans). PyTorch: ``torch.bitwise_not``."""
    if input.is_floating_point():
        raise RuntimeError("\"bitwise_not_cpu\" not implemented for 'Float'")
    return _op(_bitwise_not, (), input, who="bitwise_not")


def install(namespace: dict[str, Any]) -> None:
    """Adds the methods to :class:`Tensor` and the functions to ``namespace``
    (``fnnet.torch``'s globals)."""
    from fnnet.torch._math_ops import in_place

    methods = [kthvalue, mode, histc, histogram, take, tensor_split, dist, bitwise_not,
               _quantile_fn(False), _quantile_fn(True), nanmedian, msort, aminmax,
               logcumsumexp, cov, corrcoef, unique_consecutive,
               *(_bitwise(name, fn) for name, fn in BITWISE.items())]
    for method in methods:
        setattr(Tensor, method.__name__, method)
        namespace[method.__name__] = method
    for name in ("bitwise_not", *BITWISE):
        setattr(Tensor, name + "_", in_place(name))
    # the shift operators (``&``, ``|``, ``^`` and ``~`` are Tensor's own)
    for dunder, name in (("__lshift__", "bitwise_left_shift"),
                         ("__rshift__", "bitwise_right_shift"),
                         ("__ilshift__", "bitwise_left_shift_"),
                         ("__irshift__", "bitwise_right_shift_")):
        setattr(Tensor, dunder, getattr(Tensor, name))
    namespace.update(searchsorted=searchsorted, bucketize=bucketize)
