"""Batch normalisation layers (optionally synchronised across devices)."""

from __future__ import annotations

from collections.abc import Hashable

import jax
import jax.numpy as jnp

from fnnet.nn import functional as F
from fnnet.nn.init import constant
from fnnet.nn.module import Module, check_input, check_train
from fnnet.typing import Array, Params, PRNGKey, State


def count_dtype() -> jnp.dtype:
    """dtype of ``num_batches_tracked``: PyTorch's int64 when ``jax_enable_x64`` is on,
    else int32 (JAX's default integer); compare it with PyTorch by value."""
    return jax.dtypes.canonicalize_dtype(jnp.int64)


class _BatchNorm(Module):
    """Shared by :class:`BatchNorm1d` and :class:`BatchNorm2d`; see their docstrings."""

    _ranks: tuple[int, ...] = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        *,
        axis_name: Hashable | None = None,
        bias: bool = True,
    ) -> None:
        name = type(self).__name__
        if not isinstance(num_features, int) or isinstance(num_features, bool) \
                or num_features < 1:
            raise ValueError(f"{name}: num_features must be a positive int, got "
                             f"{num_features!r}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{name}: momentum must be in [0, 1] or None, got {momentum!r}")
        if eps < 0:
            raise ValueError(f"{name}: eps must be >= 0, got {eps!r}")
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        self.axis_name = axis_name
        self.bias = bias

    def init(self, key: PRNGKey) -> tuple[Params, State]:
        """``weight = 1``, ``bias = 0``, ``running_mean = 0``, ``running_var = 1``,
        ``num_batches_tracked = 0``, as PyTorch; deterministic (``key`` is unused)."""
        del key
        params: Params = {}
        if self.affine:
            params["weight"] = constant((self.num_features,), 1.0)
            if self.bias:
                params["bias"] = constant((self.num_features,), 0.0)
        state: State = {}
        if self.track_running_stats:
            state = {
                "running_mean": constant((self.num_features,), 0.0),
                "running_var": constant((self.num_features,), 1.0),
                "num_batches_tracked": constant((), 0, count_dtype()),
            }
        return params, state

    # One input array: Module.apply's *args are for composites' forward.
    def apply(self, params: Params, state: State, x: Array, *, train: bool = False,  # type: ignore[override]
              key: PRNGKey | None = None) -> tuple[Array, State]:
        """``x: [N, C, *] -> same shape``; returns the updated running statistics when
        training with ``track_running_stats``."""
        del key
        check_train(self, train)
        check_input(self, x, ndim=self._ranks, dim=1, size=self.num_features)
        if not self.track_running_stats:
            y, _, _ = F.batch_norm(x, None, None, params.get("weight"), params.get("bias"),
                                   True, self.momentum, self.eps, self.axis_name)
            return y, state
        missing = [k for k in ("running_mean", "running_var", "num_batches_tracked")
                   if k not in state]
        if missing:
            raise ValueError(
                f"{self!r}: state lacks {', '.join(missing)}; pass the state returned by "
                "init (or by the previous apply)"
            )
        if not train:
            y, _, _ = F.batch_norm(x, state["running_mean"], state["running_var"],
                                   params.get("weight"), params.get("bias"), False,
                                   self.momentum, self.eps)
            return y, state
        # PyTorch counts the batch before a cumulative (momentum=None) update uses it.
        count = state["num_batches_tracked"] + 1
        y, mean, var = F.batch_norm(
            x, state["running_mean"], state["running_var"], params.get("weight"),
            params.get("bias"), True, self.momentum, self.eps, self.axis_name,
            num_batches_tracked=count)
        return y, {"running_mean": mean, "running_var": var, "num_batches_tracked": count}

    def extra_repr(self) -> str:
        s = (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
             f"affine={self.affine}, bias={self.affine and self.bias}, "
             f"track_running_stats={self.track_running_stats}")
        if self.axis_name is not None:
            s += f", axis_name={self.axis_name!r}"
        return s


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of ``[N, C]`` or ``[N, C, L]`` input over all axes but 1.

    Args:
        num_features: ``C``.
        eps: added to the variance inside the square root.
        momentum: weight of each new batch in the running statistics; None for a
            cumulative average over all batches seen.
        affine: learn a per-channel ``weight`` and ``bias``.
        track_running_stats: keep running statistics (used outside training); when
            False, batch statistics are used in both modes.
        axis_name: a mapped axis (``pmap``/``shard_map``) to average the batch
            statistics over: SyncBatchNorm (where no such axis is mapped, the
            batch's own statistics, as PyTorch's SyncBatchNorm on one process).
        bias: with ``affine``, learn the ``bias`` too (PyTorch's keyword-only ``bias``).

    Parameters: ``weight [C]`` (ones), ``bias [C]`` (zeros). State: ``running_mean [C]``
    (zeros), ``running_var [C]`` (ones), ``num_batches_tracked []`` (0; int32 unless
    ``jax_enable_x64``, where PyTorch has int64). In training the batch is normalised
    with its biased variance and ``running_var`` tracks the unbiased one.

    PyTorch equivalent: ``torch.nn.BatchNorm1d`` (``torch.nn.SyncBatchNorm`` with
    ``axis_name``).
    """

    _ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of ``[N, C, H, W]`` images over all axes but 1.

    Arguments, parameters and state as :class:`BatchNorm1d`.

    Example:
        >>> bn = BatchNorm2d(16)
        >>> params, state = bn.init(jax.random.key(0))
        >>> x = jax.random.normal(jax.random.key(1), (8, 16, 4, 4))
        >>> y, state = bn.apply(params, state, x, train=True)  # updated running stats
        >>> int(state["num_batches_tracked"])
        1

    PyTorch equivalent: ``torch.nn.BatchNorm2d`` (``torch.nn.SyncBatchNorm`` with
    ``axis_name``).
    """

    _ranks = (4,)
