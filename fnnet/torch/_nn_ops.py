"""The ``torch.*`` names of ``torch.nn.functional``'s ops (``torch.conv2d``,
``torch.layer_norm``, ``torch.dropout``...), with ATen's signatures where they differ
from the functional ones: ``torch.dropout(input, p, train)`` has no defaults,
``torch.embedding(weight, indices)`` takes the table first, ``torch.batch_norm`` takes the
affine parameters before the running statistics, pooling always returns the values
(``torch.adaptive_max_pool1d`` the values and indices), and the losses take an integer
``reduction`` (0 none, 1 mean, 2 sum) that defaults to 0: PyTorch's Python binding of
these ATen functions reads the schema's default (``Mean``) as 0, so
``torch.kl_div(x, t)`` is elementwise. Each calls the ``torch.nn.functional`` function,
so the math is fnnet's once.
"""

from __future__ import annotations

from typing import Any

from fnnet.torch.nn import functional as F
from fnnet.torch.nn._channel_dropout import alpha_dropout_op
from fnnet.torch.nn.functional import _kl_div
from fnnet.torch.tensor import Tensor, _op, _scalar_or_tensor

#: PyTorch's ``at::Reduction`` values, as ATen's loss functions take them
_REDUCTIONS = ("none", "mean", "sum")

#: the torch.* names that are the functional ops themselves (``F.conv2d is torch.conv2d``
#: in PyTorch)
SAME = ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
        "conv_transpose3d", "cosine_similarity", "pairwise_distance", "pdist", "avg_pool1d",
        "adaptive_avg_pool1d", "pixel_shuffle", "pixel_unshuffle", "prelu", "hardshrink",
        "bilinear", "channel_shuffle", "rrelu_")


def _reduction(reduction: Any) -> str:
    if isinstance(reduction, bool) or not isinstance(reduction, int):
        raise TypeError(f"argument 'reduction' must be int, not {type(reduction).__name__}")
    if reduction not in (0, 1, 2):
        raise ValueError(f"reduction must be 0 (none), 1 (mean) or 2 (sum), got {reduction}")
    return _REDUCTIONS[reduction]


def _dropout_p(p: Any) -> float:
    if not 0 <= p <= 1:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")
    return float(p)


def dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """PyTorch equivalent: ``torch.dropout`` (``F.dropout`` with no defaults)."""
    return F.dropout(input, _dropout_p(p), bool(train))


def alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """PyTorch equivalent: ``torch.alpha_dropout``."""
    return alpha_dropout_op(input, _dropout_p(p), bool(train), False)


def feature_alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """PyTorch equivalent: ``torch.feature_alpha_dropout``."""
    return alpha_dropout_op(input, _dropout_p(p), bool(train), True)


def embedding(weight: Tensor, indices: Tensor, padding_idx: int = -1,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.embedding`` (the table first; a negative
    ``padding_idx`` is none)."""
    return F.embedding(indices, weight, None if padding_idx < 0 else int(padding_idx),
                       scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def layer_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5,
               cudnn_enable: bool = True) -> Tensor:
    """PyTorch equivalent: ``torch.layer_norm``."""
    del cudnn_enable
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5,
               cudnn_enabled: bool = True) -> Tensor:
    """PyTorch equivalent: ``torch.group_norm``."""
    del cudnn_enabled
    return F.group_norm(input, num_groups, weight, bias, eps)


def batch_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None,
               running_mean: Tensor | None, running_var: Tensor | None, training: bool,
               momentum: float, eps: float, cudnn_enabled: bool) -> Tensor:
    """PyTorch equivalent: ``torch.batch_norm`` (updates the running statistics in place
    when ``training``)."""
    del cudnn_enabled
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum,
                        eps)


def instance_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None,
                  running_mean: Tensor | None, running_var: Tensor | None,
                  use_input_stats: bool, momentum: float, eps: float,
                  cudnn_enabled: bool) -> Tensor:
    """PyTorch equivalent: ``torch.instance_norm``."""
    del cudnn_enabled
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                           momentum, eps)


def _stride(stride: Any) -> Any:
    """ATen's empty stride (the default) is the kernel size, F's None."""
    return None if stride is None or (isinstance(stride, (list, tuple)) and not stride) \
        else stride


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.max_pool1d``."""
    return F.max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.max_pool2d``."""
    return F.max_pool2d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.max_pool3d``."""
    return F.max_pool3d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def adaptive_max_pool1d(input: Tensor, output_size: Any) -> tuple[Tensor, Tensor]:
    """PyTorch equivalent: ``torch.adaptive_max_pool1d``: ``(values, indices)``."""
    return F.adaptive_max_pool1d(input, output_size, True)  # type: ignore[return-value]


def kl_div(input: Tensor, target: Tensor, reduction: int = 0, *,
           log_target: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.kl_div`` (``reduction=1`` is the mean over every
    element, without ``F.kl_div``'s warning)."""
    return _op(_kl_div, (_reduction(reduction), bool(log_target)), input,
               _scalar_or_tensor(target), who="kl_div")


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None,
                                     pos_weight: Tensor | None = None,
                                     reduction: int = 0) -> Tensor:
    """PyTorch equivalent: ``torch.binary_cross_entropy_with_logits``."""
    return F.binary_cross_entropy_with_logits(input, target, weight,
                                              reduction=_reduction(reduction),
                                              pos_weight=pos_weight)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,
                         reduction: int = 0) -> Tensor:
    """PyTorch equivalent: ``torch.hinge_embedding_loss``."""
    return F.hinge_embedding_loss(input, target, margin, reduction=_reduction(reduction))


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        reduction: int = 0) -> Tensor:
    """PyTorch equivalent: ``torch.margin_ranking_loss``."""
    return F.margin_ranking_loss(input1, input2, target, margin,
                                 reduction=_reduction(reduction))


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor,
                        margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                        swap: bool = False, reduction: int = 0) -> Tensor:
    """PyTorch equivalent: ``torch.triplet_margin_loss``."""
    return F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                 reduction=_reduction(reduction))


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor,
                          margin: float = 0.0, reduction: int = 0) -> Tensor:
    """PyTorch equivalent: ``torch.cosine_embedding_loss``."""
    return F.cosine_embedding_loss(input1, input2, target, margin,
                                   reduction=_reduction(reduction))


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool, full: bool, eps: float,
                     reduction: int) -> Tensor:
    """PyTorch equivalent: ``torch.poisson_nll_loss`` (every argument required)."""
    return F.poisson_nll_loss(input, target, log_input, full, eps=eps,
                              reduction=_reduction(reduction))


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Any, target_lengths: Any,
             blank: int = 0, reduction: int = 0, zero_infinity: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.ctc_loss``."""
    return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
                      _reduction(reduction), zero_infinity)


def rms_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """PyTorch equivalent: ``torch.rms_norm``."""
    return F.rms_norm(input, normalized_shape, weight, eps)


def constant_pad_nd(input: Tensor, pad: Any, value: Any = 0) -> Tensor:
    """PyTorch equivalent: ``torch.constant_pad_nd`` (``F.pad`` with a constant)."""
    return F.pad(input, pad, "constant", value)


def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:
    """PyTorch equivalent: ``torch.masked_fill`` (``input.masked_fill(mask, value)``)."""
    return input.masked_fill(mask, value)


def rsub(input: Tensor, other: Any, alpha: Any = 1) -> Tensor:
    """``other - alpha * input``. PyTorch equivalent: ``torch.rsub``."""
    scaled = input if alpha == 1 else input * alpha
    return other - scaled if isinstance(other, Tensor) else scaled.__rsub__(other)


def install(namespace: dict[str, Any]) -> None:
    """Adds the functions to ``namespace`` (``fnnet.torch``'s globals) and the methods
    PyTorch's tensors have (``Tensor.prelu``, ``Tensor.hardshrink``)."""
    for name in SAME:
        namespace[name] = getattr(F, name)
    for fn in (dropout, alpha_dropout, feature_alpha_dropout, embedding, layer_norm,
               group_norm, batch_norm, instance_norm, max_pool1d, max_pool2d, max_pool3d,
               adaptive_max_pool1d, kl_div, binary_cross_entropy_with_logits,
               hinge_embedding_loss, margin_ranking_loss, triplet_margin_loss,
               cosine_embedding_loss, poisson_nll_loss, ctc_loss, rms_norm, constant_pad_nd,
               masked_fill, rsub):
        namespace[fn.__name__] = fn
    namespace.update(rrelu=F.rrelu, native_channel_shuffle=F.channel_shuffle)
    namespace["concatenate"] = namespace["cat"]
    namespace["row_stack"] = namespace["vstack"]
    Tensor.prelu = F.prelu  # type: ignore[attr-defined]
    Tensor.hardshrink = F.hardshrink  # type: ignore[attr-defined]
