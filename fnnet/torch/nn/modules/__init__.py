"""fnnet.torch's modules, each wrapping the fnnet layer or loss of the same name."""

# torch.nn.modules.utils is reached as an attribute once torch is imported, as PyTorch's
from fnnet.torch.nn.modules import utils  # noqa: F401
from fnnet.torch.nn.modules.activation import (
    GELU,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from fnnet.torch.nn.modules.batchnorm import BatchNorm1d, BatchNorm2d
from fnnet.torch.nn.modules.container import Container, ModuleDict, ModuleList, Sequential
from fnnet.torch.nn.modules.conv import Conv1d, Conv2d, ConvTranspose2d
from fnnet.torch.nn.modules.distance import CosineSimilarity, PairwiseDistance
from fnnet.torch.nn.modules.dropout import (
    AlphaDropout,
    Dropout1d,
    Dropout2d,
    Dropout3d,
    FeatureAlphaDropout,
)
from fnnet.torch.nn.modules.fold import Fold, Unfold
from fnnet.torch.nn.modules.instancenorm import InstanceNorm1d, InstanceNorm2d
from fnnet.torch.nn.modules.linear import Identity, Linear
from fnnet.torch.nn.modules.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    NLLLoss2d,
    SmoothL1Loss,
)
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
from fnnet.torch.nn.modules.misc import Dropout, Flatten
from fnnet.torch.nn.modules.module import Module
from fnnet.torch.nn.modules.normalization import GroupNorm, LayerNorm
from fnnet.torch.nn.modules.pointwise import (
    CELU,
    ELU,
    GLU,
    SELU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LogSigmoid,
    Mish,
    PReLU,
    ReLU6,
    SiLU,
    Softmax2d,
    Softmin,
    Softplus,
    Softshrink,
    Softsign,
    Tanhshrink,
    Threshold,
)
from fnnet.torch.nn.modules.pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
    MaxUnpool2d,
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
from fnnet.torch.nn.modules.rnn import GRU, LSTM, RNN, RNNBase
from fnnet.torch.nn.modules.rnn_cell import GRUCell, LSTMCell, RNNCell, RNNCellBase
from fnnet.torch.nn.modules.sparse import Embedding, EmbeddingBag
from fnnet.torch.nn.modules.upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

__all__ = [
    "CELU", "ELU", "SELU", "Hardsigmoid", "Hardswish", "Hardtanh", "LogSigmoid", "Mish",
    "ReLU6", "SiLU", "Softmin", "Softplus", "Softsign", "Upsample", "UpsamplingBilinear2d",
    "UpsamplingNearest2d", "AdaptiveAvgPool1d", "AdaptiveMaxPool2d", "AvgPool1d", "MaxPool1d",
    "CosineSimilarity", "PairwiseDistance", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
    "FeatureAlphaDropout", "GroupNorm",
    "AdaptiveAvgPool2d", "AvgPool2d", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d",
    "BatchNorm2d", "Conv1d", "Conv2d", "ConvTranspose2d", "CrossEntropyLoss", "Dropout",
    "Embedding", "EmbeddingBag", "Flatten",
    "GELU", "GRU", "GRUCell", "HuberLoss", "Identity", "KLDivLoss", "L1Loss", "LSTM",
    "LSTMCell", "LayerNorm", "LeakyReLU", "Linear",
    "LogSoftmax", "MSELoss", "MaxPool2d", "MaxUnpool2d",
    "Container", "Module", "ModuleDict", "ModuleList", "NLLLoss", "NLLLoss2d",
    "RNN", "RNNBase", "RNNCell", "RNNCellBase", "ReLU", "Sequential", "Sigmoid", "SmoothL1Loss",
    "Softmax", "Tanh",
    "ConstantPad1d", "ConstantPad2d", "GLU", "Hardshrink", "PReLU", "PixelShuffle",
    "PixelUnshuffle", "ReflectionPad1d", "ReflectionPad2d", "ReplicationPad1d",
    "ReplicationPad2d", "Softmax2d", "Softshrink", "Tanhshrink", "Threshold", "Unflatten",
    "ZeroPad1d", "ZeroPad2d",
    "CosineEmbeddingLoss", "GaussianNLLLoss", "HingeEmbeddingLoss", "MarginRankingLoss",
    "MultiLabelSoftMarginLoss", "PoissonNLLLoss", "SoftMarginLoss", "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
    "Fold", "InstanceNorm1d", "InstanceNorm2d", "Unfold",
]
