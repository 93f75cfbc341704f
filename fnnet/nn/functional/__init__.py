"""Pure functional ops: the one implementation of each layer's arithmetic.

PyTorch equivalent: ``torch.nn.functional``. Activations are ``NCHW``, convolution
weights ``OIHW``, as in PyTorch. Every op is pure and can be jitted; the layers in
``fnnet.nn`` only call these.
"""

from fnnet.nn.functional.activation import (
    celu,
    elu,
    hardsigmoid,
    hardswish,
    hardtanh,
    log_softmax,
    logsigmoid,
    mish,
    relu,
    relu6,
    rrelu,
    selu,
    sigmoid,
    silu,
    softmax,
    softplus,
    softsign,
    tanh,
)
from fnnet.nn.functional.adaptive_max import (
    adaptive_max_pool1d,
    adaptive_max_pool1d_with_indices,
    adaptive_max_pool2d,
    adaptive_max_pool2d_with_indices,
    adaptive_max_pool3d,
    adaptive_max_pool3d_with_indices,
)
from fnnet.nn.functional.attention import multi_head_attention, scaled_dot_product_attention
from fnnet.nn.functional.batchnorm import batch_norm
from fnnet.nn.functional.conv import conv2d
from fnnet.nn.functional.conv_transpose import conv_transpose2d
from fnnet.nn.functional.distance import cdist, cosine_similarity, pairwise_distance, pdist
from fnnet.nn.functional.dropout import alpha_dropout, dropout
from fnnet.nn.functional.flatten import flatten
from fnnet.nn.functional.fold import fold, unfold
from fnnet.nn.functional.grid_sample import affine_grid, grid_sample
from fnnet.nn.functional.group_norm import group_norm
from fnnet.nn.functional.linear import bilinear, linear, matmul
from fnnet.nn.functional.local_response_norm import local_response_norm
from fnnet.nn.functional.pixel_shuffle import channel_shuffle, pixel_shuffle, pixel_unshuffle
from fnnet.nn.functional.pooling import (
    adaptive_avg_pool2d,
    avg_pool2d,
    max_pool2d,
    max_pool2d_with_indices,
    max_unpool2d,
)
from fnnet.nn.functional.resize import interpolate
from fnnet.nn.functional.rms_norm import rms_norm
from fnnet.nn.functional.sequence import (
    conv1d,
    embedding,
    gelu,
    layer_norm,
    leaky_relu,
    recurrent,
)
from fnnet.nn.functional.thresholding import (
    glu,
    hardshrink,
    prelu,
    softshrink,
    tanhshrink,
    threshold,
)
from fnnet.nn.functional.volumetric import (
    adaptive_avg_pool3d,
    avg_pool3d,
    conv3d,
    conv_transpose1d,
    conv_transpose3d,
    max_pool3d,
    max_pool3d_with_indices,
)

__all__ = [
    "rms_norm",
    "adaptive_max_pool1d",
    "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d_with_indices",
    "adaptive_max_pool3d",
    "local_response_norm",
    "adaptive_avg_pool3d",
    "avg_pool3d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose3d",
    "max_pool3d",
    "max_pool3d_with_indices",
    "adaptive_avg_pool2d",
    "affine_grid",
    "adaptive_max_pool2d",
    "celu",
    "rrelu",
    "bilinear",
    "channel_shuffle",
    "elu",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "logsigmoid",
    "mish",
    "relu6",
    "selu",
    "silu",
    "softplus",
    "softsign",
    "avg_pool2d",
    "batch_norm",
    "cdist",
    "pdist",
    "conv1d",
    "conv2d",
    "conv_transpose2d",
    "cosine_similarity",
    "dropout",
    "alpha_dropout",
    "embedding",
    "flatten",
    "fold",
    "interpolate",
    "gelu",
    "group_norm",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "matmul",
    "max_pool2d",
    "max_pool2d_with_indices",
    "max_unpool2d",
    "multi_head_attention",
    "pairwise_distance",
    "recurrent",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
    "glu",
    "grid_sample",
    "hardshrink",
    "pixel_shuffle",
    "pixel_unshuffle",
    "prelu",
    "softshrink",
    "tanhshrink",
    "threshold",
    "unfold",
    "scaled_dot_product_attention",
]
