"""``torch.nn`` over fnnet: modules that record calls of fnnet's pure layers."""

# ruff: noqa: F401 (re-exports, listed in __all__ below)

from __future__ import annotations

from typing import Any

from fnnet.torch.nn import attention, functional, init, parallel, utils
from fnnet.torch.nn._buffer import Buffer
from fnnet.torch.nn._parameter_containers import ParameterDict, ParameterList
from fnnet.torch.nn._uninitialized import UninitializedBuffer, UninitializedParameter
from fnnet.torch.nn.modules import (
    CELU,
    ELU,
    GELU,
    GRU,
    LSTM,
    RNN,
    SELU,
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    BCELoss,
    BCEWithLogitsLoss,
    Container,
    Conv1d,
    Conv2d,
    ConvTranspose2d,
    CosineSimilarity,
    CrossEntropyLoss,
    Dropout,
    Dropout1d,
    Dropout2d,
    Dropout3d,
    Embedding,
    EmbeddingBag,
    Flatten,
    GroupNorm,
    GRUCell,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    HuberLoss,
    Identity,
    KLDivLoss,
    L1Loss,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSigmoid,
    LogSoftmax,
    LSTMCell,
    MaxPool1d,
    MaxPool2d,
    MaxUnpool2d,
    Mish,
    Module,
    ModuleDict,
    ModuleList,
    MSELoss,
    NLLLoss,
    NLLLoss2d,
    PairwiseDistance,
    ReLU,
    ReLU6,
    RNNBase,
    RNNCell,
    RNNCellBase,
    Sequential,
    Sigmoid,
    SiLU,
    SmoothL1Loss,
    Softmax,
    Softmin,
    Softplus,
    Softsign,
    Tanh,
    Upsample,
    UpsamplingBilinear2d,
    UpsamplingNearest2d,
)
from fnnet.torch.nn.modules.adaptive import AdaptiveLogSoftmaxWithLoss
from fnnet.torch.nn.modules.adaptive_max import AdaptiveMaxPool1d, AdaptiveMaxPool3d
from fnnet.torch.nn.modules.dropout import AlphaDropout, FeatureAlphaDropout
from fnnet.torch.nn.modules.fold import Fold, Unfold
from fnnet.torch.nn.modules.instancenorm import InstanceNorm1d, InstanceNorm2d
from fnnet.torch.nn.modules.lazy import (
    LazyBatchNorm1d,
    LazyBatchNorm2d,
    LazyBatchNorm3d,
    LazyConv1d,
    LazyConv2d,
    LazyConv3d,
    LazyConvTranspose1d,
    LazyConvTranspose2d,
    LazyConvTranspose3d,
    LazyInstanceNorm1d,
    LazyInstanceNorm2d,
    LazyInstanceNorm3d,
    LazyLinear,
)
from fnnet.torch.nn.modules.local_response import LocalResponseNorm
from fnnet.torch.nn.modules.margin_loss import (
    CosineEmbeddingLoss,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    MarginRankingLoss,
    MultiLabelSoftMarginLoss,
    PoissonNLLLoss,
    SoftMarginLoss,
    TripletMarginLoss,
    TripletMarginWithDistanceLoss,
)
from fnnet.torch.nn.modules.more_layers import (
    Bilinear,
    ChannelShuffle,
    CircularPad1d,
    CircularPad2d,
    CircularPad3d,
    CTCLoss,
    LPPool1d,
    LPPool2d,
    LPPool3d,
    MaxUnpool1d,
    MaxUnpool3d,
    MultiLabelMarginLoss,
    MultiMarginLoss,
    RReLU,
)
from fnnet.torch.nn.modules.pointwise import (
    GLU,
    Hardshrink,
    PReLU,
    Softmax2d,
    Softshrink,
    Tanhshrink,
    Threshold,
)
from fnnet.torch.nn.modules.reshaping import (
    ConstantPad1d,
    ConstantPad2d,
    PixelShuffle,
    PixelUnshuffle,
    ReflectionPad1d,
    ReflectionPad2d,
    ReplicationPad1d,
    ReplicationPad2d,
    Unflatten,
    ZeroPad1d,
    ZeroPad2d,
)
from fnnet.torch.nn.modules.rms_norm import RMSNorm
from fnnet.torch.nn.modules.sync_batchnorm import SyncBatchNorm
from fnnet.torch.nn.modules.transformer import (
    MultiheadAttention,
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from fnnet.torch.nn.modules.volumetric import (
    AdaptiveAvgPool3d,
    AvgPool3d,
    BatchNorm3d,
    ConstantPad3d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose3d,
    InstanceNorm3d,
    MaxPool3d,
    ReflectionPad3d,
    ReplicationPad3d,
    ZeroPad3d,
)
from fnnet.torch.nn.parallel import DataParallel, DistributedDataParallel
from fnnet.torch.nn.parameter import Parameter
from fnnet.torch.tensor import Unsupported as _Unsupported


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise _Unsupported(  # also an AttributeError: hasattr() is False
        f"fnnet.torch does not support torch.nn.{name}; write the layer as an fnnet.nn "
        f"Module (pure init/apply) or compose the supported layers")


# The names defined above, written out so that type checkers see them as exported
# (``torch.zeros`` under ``mypy --strict``); then the names installed at import.
__all__ = [
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "AvgPool1d", "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d",
    "CELU", "Conv1d", "CosineSimilarity", "Conv2d", "ConvTranspose2d", "CrossEntropyLoss",
    "DataParallel",
    "DistributedDataParallel",
    "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "ELU", "Embedding", "EmbeddingBag",
    "Flatten", "GELU",
    "GRU", "GRUCell", "GroupNorm",
    "Hardsigmoid", "Hardswish",
    "Hardtanh", "HuberLoss", "Identity", "KLDivLoss", "L1Loss", "LSTM", "LSTMCell", "LayerNorm",
    "RNNBase",
    "LeakyReLU", "Linear", "LogSigmoid", "LogSoftmax", "MSELoss", "MaxPool1d", "MaxPool2d",
    "MaxUnpool2d", "Mish",
    "Module",
    "PairwiseDistance", "ParameterDict", "ParameterList",
    "Container", "ModuleDict", "ModuleList", "NLLLoss", "NLLLoss2d", "Parameter", "RNN",
    "RNNCell", "RNNCellBase", "ReLU",
    "ReLU6", "SELU", "Sequential", "SiLU", "Sigmoid", "SmoothL1Loss", "Softmax", "Softmin",
    "Softplus", "Softsign", "SyncBatchNorm", "Tanh", "Upsample", "UpsamplingBilinear2d",
    "UpsamplingNearest2d", "attention", "functional", "init", "parallel", "utils",
    "ConstantPad1d", "ConstantPad2d", "GLU", "Hardshrink", "PReLU", "PixelShuffle",
    "PixelUnshuffle", "ReflectionPad1d", "ReflectionPad2d", "ReplicationPad1d",
    "ReplicationPad2d", "Softmax2d", "Softshrink", "Tanhshrink", "Threshold", "Unflatten",
    "ZeroPad1d", "ZeroPad2d",
    "CosineEmbeddingLoss", "GaussianNLLLoss", "HingeEmbeddingLoss", "MarginRankingLoss",
    "MultiLabelSoftMarginLoss", "PoissonNLLLoss", "SoftMarginLoss", "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
    "Fold", "InstanceNorm1d", "InstanceNorm2d", "Unfold",
    "MultiheadAttention", "Transformer", "TransformerDecoder", "TransformerDecoderLayer",
    "TransformerEncoder", "TransformerEncoderLayer",
    "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyConv1d", "LazyConv2d", "LazyConvTranspose2d",
    "LazyLinear", "UninitializedBuffer", "UninitializedParameter", "RMSNorm",
    "Buffer", "AdaptiveAvgPool3d", "AvgPool3d", "BatchNorm3d", "Conv3d", "ConvTranspose1d",
    "ConvTranspose3d", "MaxPool3d", "LocalResponseNorm", "LazyBatchNorm3d", "LazyConv3d",
    "LazyConvTranspose1d", "LazyConvTranspose3d", "ConstantPad3d", "InstanceNorm3d",
    "ReflectionPad3d", "ReplicationPad3d", "ZeroPad3d", "LazyInstanceNorm1d",
    "LazyInstanceNorm2d", "LazyInstanceNorm3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool3d",
    "AdaptiveLogSoftmaxWithLoss",
    "AlphaDropout", "FeatureAlphaDropout", "Bilinear", "ChannelShuffle", "CircularPad1d",
    "CircularPad2d", "CircularPad3d", "LPPool1d", "LPPool2d", "LPPool3d", "MaxUnpool1d",
    "MultiLabelMarginLoss", "MultiMarginLoss", "RReLU", "CTCLoss", "MaxUnpool3d",
]
__all__ += [name for name in dir() if not name.startswith("_") and name not in __all__]
