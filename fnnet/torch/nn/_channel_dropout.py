"""Channel dropout (``F.dropout1d/2d/3d``; the modules are in ``modules/dropout.py``):
whole feature maps are zeroed, the rest scaled by ``1 / (1 - p)``. The mask is fnnet's
``dropout`` of a tensor of ones shaped ``[N, C, 1, ...]`` (its arithmetic), drawn from the
step's key. Alpha dropout (``F.alpha_dropout``, ``F.feature_alpha_dropout``) is fnnet's
``alpha_dropout`` with a key drawn likewise."""

from __future__ import annotations

import warnings
from typing import Any

import jax
import jax.numpy as jnp

from fnnet.nn import functional as fnf
from fnnet.nn.functional.dropout import check_dropout_p
from fnnet.torch import _graph, _random
from fnnet.torch._dtypes import scalar_name
from fnnet.torch.tensor import Tensor, _op


def _channel_dropout(x: jax.Array, key: jax.Array, p: float, draw: int,
                     batch_dims: int) -> jax.Array:
    shape = x.shape[:batch_dims] + (1,) * (x.ndim - batch_dims)
    mask = fnf.dropout(jnp.ones(shape, x.dtype), p, True, key=_random.fold(key, draw))
    return x * mask


def check_p(p: Any) -> float:
    """``p`` as a float, else PyTorch's ValueError in its own words (fnnet's names the
    op)."""
    try:
        return check_dropout_p(p)
    except ValueError:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}") \
            from None


def check_dropped(input: Tensor, p: float) -> None:
    """PyTorch's errors for dropping elements of ``input`` with probability ``p`` in
    training (``0 < p < 1``): its mask is drawn for floating dtypes only and the kept
    values are scaled in float.

    Raises:
        RuntimeError: an integer or boolean ``input``.
        NotImplementedError: a complex ``input``.
    """
    if not 0 < p < 1 or input.is_floating_point():
        return
    if input.is_complex():
        raise NotImplementedError(f'"bernoulli_scalar_cpu_" not implemented for '
                                  f"'{scalar_name(input.dtype)}'")
    raise RuntimeError(f"result type Float can't be cast to the desired output type "
                       f"{scalar_name(input.dtype)}")


#: PyTorch's warning for ``dropout2d`` of a 3-D input, which it reads as ``[N, C, L]``
_THREE_D_AS_1D = (
    "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
    "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel "
    "dim. This behavior will change in a future release to interpret the input as one "
    "without a batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise "
    "dropout behavior, please switch to using dropout1d instead.")


def _dropout_nd(name: str, spatial: int, input: Tensor, p: float, training: bool) -> Tensor:
    """Channel dropout with PyTorch's checks and warnings: ``dropout1d`` refuses another
    rank; ``dropout2d`` and ``dropout3d`` warn and run, ``dropout2d`` masking the first
    two dimensions of any input (a 3-D one read as ``[N, C, L]``, with its own warning),
    the others reading a rank below the batched one as one sample."""
    p = check_p(p)
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    rank = input.dim()
    note = (f"Note that {name} exists to provide channel-wise dropout on inputs with "
            f"{spatial} spatial dimension{'s' if spatial > 1 else ''}, a channel dimension, "
            f"and an optional batch dimension (i.e. {spatial + 1}D or {spatial + 2}D inputs).")
    if rank not in (spatial + 1, spatial + 2):
        if spatial == 1:
            raise RuntimeError(f"{name}: Expected 2D or 3D input, but received a {rank}D "
                               f"input. {note}")
        warnings.warn(f"{name}: Received a {rank}-D input to {name}, which is deprecated and "
                      f"will result in an error in a future release. To retain the behavior "
                      f"and silence this warning, please use dropout instead. {note}",
                      UserWarning, stacklevel=3)
    if spatial == 2 and rank == 3:
        warnings.warn(_THREE_D_AS_1D, UserWarning, stacklevel=3)
    if not training or p == 0:
        return input
    # one draw per (sample, channel) of [N, C, *], per channel of an unbatched [C, *]
    batch_dims = min(rank, 2) if spatial == 2 else 2 if rank == spatial + 2 else 1
    return _op(_channel_dropout, (float(p), _graph.next_draw(), batch_dims), input,
               _graph.rng_input(), who=name)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.dropout1d`` (``[N, C, L]`` or ``[C, L]``)."""
    return _dropout_nd("dropout1d", 1, input, p, training)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.dropout2d`` (``[N, C, H, W]`` or
    ``[C, H, W]``)."""
    return _dropout_nd("dropout2d", 2, input, p, training)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.dropout3d`` (``[N, C, D, H, W]`` or
    ``[C, D, H, W]``)."""
    return _dropout_nd("dropout3d", 3, input, p, training)


def _alpha_dropout(x: jax.Array, key: jax.Array, p: float, draw: int,
                   feature: bool) -> jax.Array:
    return fnf.alpha_dropout(x, p, True, key=_random.fold(key, draw), feature=feature)


def alpha_dropout_op(input: Tensor, p: float, training: bool, feature: bool) -> Tensor:
    """One recorded call of fnnet's ``alpha_dropout`` (``p`` already checked)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{'feature_' * feature}alpha_dropout(): argument 'input' must be "
                        f"Tensor, not {type(input).__name__}")
    if feature and input.dim() < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if not training or p == 0 or input.numel() == 0:
        return input
    return _op(_alpha_dropout, (float(p), _graph.next_draw(), bool(feature)), input,
               _graph.rng_input(), who=f"{'feature_' * feature}alpha_dropout")


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Dropout keeping SELU's mean and variance (``training`` defaults to False, as in
    PyTorch). PyTorch equivalent: ``torch.nn.functional.alpha_dropout``."""
    result = alpha_dropout_op(input, check_p(p), training, False)
    return input._inplace(result) if inplace and result is not input else result


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels of ``[N, C, *]``. PyTorch equivalent:
    ``torch.nn.functional.feature_alpha_dropout``."""
    result = alpha_dropout_op(input, check_p(p), training, True)
    return input._inplace(result) if inplace and result is not input else result
