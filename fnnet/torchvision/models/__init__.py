"""``torchvision.models`` for fnnet.torch: the ResNets (``resnet18`` ... ``resnet152``,
``ResNet``, ``BasicBlock``, ``Bottleneck``) as fnnet.torch modules with torchvision's
state_dict names and ``num_classes``, their ``*_Weights`` enums, and ``get_model``,
``list_models`` and ``get_weight`` by name. Pretrained weights are read from
torchvision's download cache (``~/.cache/torch/hub/checkpoints``) and never downloaded;
any other torchvision model raises NotImplementedError.
"""

from __future__ import annotations

from typing import Any

from fnnet.torch.tensor import Unsupported
from fnnet.torchvision import _unsupported
from fnnet.torchvision.models import resnet
from fnnet.torchvision.models._registry import (
    get_model,
    get_model_weights,
    get_weight,
    list_models,
)
from fnnet.torchvision.models._weights import Weights, WeightsEnum
from fnnet.torchvision.models.resnet import (
    BasicBlock,
    Bottleneck,
    ResNet,
    ResNet18_Weights,
    ResNet34_Weights,
    ResNet50_Weights,
    ResNet101_Weights,
    ResNet152_Weights,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
)

__all__ = ["BasicBlock", "Bottleneck", "ResNet", "ResNet101_Weights", "ResNet152_Weights",
           "ResNet18_Weights", "ResNet34_Weights", "ResNet50_Weights", "Weights",
           "WeightsEnum", "get_model", "get_model_weights", "get_weight", "list_models",
           "resnet", "resnet101", "resnet152", "resnet18", "resnet34", "resnet50"]


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise Unsupported(_unsupported.message("torchvision.models", name))
