"""Autocast's casts: inside an enabled ``torch.autocast`` region of the tensors' device,
PyTorch runs the matrix products and convolutions in the region's lower precision
(bfloat16 on the CPU by default) and the losses (on CUDA also the reductions, softmaxes and
norms) in float32, casting their floating inputs (float64 ones excepted) first; every other
op runs in its inputs' dtypes. :func:`cast_inputs` does the same for a recorded op, chosen
by the op's function (and for a module's call, by its fnnet layer's class).

The lists are PyTorch 2.13's (``torch.amp``'s documentation, "Autocast Op Reference"),
restricted to the ops fnnet.torch provides.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

import fnnet.nn as fnn
from fnnet.nn import functional as fnf
from fnnet.torch import _dtypes, _matrix_products, _more_ops, _ops, amp
from fnnet.torch._gpus import gpus
from fnnet.torch._more_ops import _bmm
from fnnet.torch._shape_ops import _addmm
from fnnet.torch.nn import (
    _attention_norm,
    _group_norm,
    _margin_losses,
    _more_layers,
    _multi_head,
    _thresholding,
)
from fnnet.torch.nn import functional as shim_functional
from fnnet.torch.nn.modules import _layer, rnn, rnn_cell
from fnnet.torch.tensor import Tensor

#: ops run in the region's lower precision, on every device
LOWER = frozenset({
    fnf.matmul, _bmm, _addmm, _matrix_products._baddbmm, _matrix_products._addbmm,
    fnf.linear, fnf.conv1d, fnf.conv2d, fnf.conv3d,
    fnf.conv_transpose1d, fnf.conv_transpose2d, fnf.conv_transpose3d, fnf.prelu,
    _attention_norm._attention, _attention_norm._attention_dropout, _multi_head._attend,
})
#: modules (by their fnnet layer) whose call runs in the lower precision
LOWER_LAYERS = (fnn.Linear, fnn.Conv1d, fnn.Conv2d, fnn.Conv3d, fnn.ConvTranspose1d,
                fnn.ConvTranspose2d, fnn.ConvTranspose3d)
#: ops run in float32 on every device: the losses
LOSSES = frozenset({
    shim_functional._ce, shim_functional._nll, shim_functional._mse, shim_functional._l1,
    shim_functional._smooth_l1, shim_functional._bce, shim_functional._bce_logits,
    shim_functional._kl_div, _thresholding._huber, _margin_losses._margin_ranking,
    _margin_losses._hinge, _margin_losses._soft_margin, _margin_losses._cosine_embedding,
    _margin_losses._triplet, _margin_losses._poisson, _more_layers._multi_margin,
    _more_layers._multilabel_margin, _more_layers._ctc,
})
#: ops CUDA's autocast also runs in float32 (the CPU's runs them in their inputs' dtypes)
CUDA_FLOAT32 = frozenset({
    jnp.exp, jnp.log, jnp.log10, jnp.log2, jnp.log1p, jnp.expm1, _ops.power, jnp.reciprocal,
    jnp.arccos, jnp.arcsin, jnp.cosh, jnp.sinh, jnp.tan, _ops._softmax, _ops._log_softmax,
    _ops._sum, _ops._prod, _ops._pow_scalar, _ops._rpow_scalar, _more_ops._cumsum,
    _more_ops._cumprod, _more_ops._logsumexp, fnf.softplus, shim_functional._layer_norm,
    _group_norm._group_norm,
})
#: modules whose call CUDA's autocast runs in float32
CUDA_FLOAT32_LAYERS = (fnn.LayerNorm,)

_FLOAT32 = _dtypes.float32


def region_dtype() -> Any:
    """The lower precision of the innermost enabled autocast region of the device the
    tensors live on (``"cuda"`` where JAX has a GPU, else ``"cpu"``), or None."""
    device = "cuda" if gpus() else "cpu"
    for region in reversed(amp._active.get()):
        if region.device == device:
            return region.fast_dtype if region._enabled else None
    return None


def cast_inputs(op: Any, static: tuple[Any, ...], inputs: tuple[Any, ...]) -> tuple[Any, ...]:
    """``inputs`` as autocast gives them to ``op``: its floating tensors (but float64
    ones) cast to the region's lower precision or to float32, or unchanged."""
    fast = region_dtype()
    if fast is None:
        return inputs
    if op in LOWER or (op is _layer.apply_layer and isinstance(static[0][0], LOWER_LAYERS)) \
            or (op is rnn.apply_recurrent and (gpus() or static[0][0].mode != "GRU")) \
            or (op is rnn_cell.apply_cell and static[0] in ("RNN_TANH", "RNN_RELU")):
        # (on the CPU, PyTorch's GRU and its LSTM and GRU cells keep float32 around their
        # products)
        target = fast
    elif op in LOSSES or (gpus() and (op in CUDA_FLOAT32 or (
            op is _layer.apply_layer and isinstance(static[0][0], CUDA_FLOAT32_LAYERS)))):
        target = _FLOAT32
    else:
        return inputs
    return tuple(_cast(t, target) for t in inputs)


def _cast(value: Any, target: Any) -> Any:
    # dtypes compare by what JAX stores (float64 is float32 without x64): names tell
    if isinstance(value, Tensor) and value.dtype.is_floating_point and \
            str(value.dtype) not in (str(target), "torch.float64"):
        return value.to(target)
    return value
