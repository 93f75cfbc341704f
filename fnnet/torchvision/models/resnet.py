"""ResNets as fnnet.torch modules, in torchvision's structure: its state_dict names
(``conv1.weight``, ``layer1.0.bn1.running_mean``, ``layer2.0.downsample.0.weight``,
``fc.bias``), shapes and initialisation, so a torchvision checkpoint loads with
``load_state_dict``. The same architecture as :class:`fnnet.models.ResNet` (the
functional one, BasicBlock stages), whose parameter names are also torchvision's."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import fnnet.torch.nn as nn
from fnnet.torch.tensor import Tensor
from fnnet.torchvision.models import _weights
from fnnet.torchvision.models._weights import ImageClassification, Weights, WeightsEnum


def conv3x3(in_planes: int, out_planes: int, stride: int = 1, groups: int = 1,
            dilation: int = 1) -> nn.Conv2d:
    """3x3 convolution with padding, no bias."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation,
                     groups=groups, bias=False, dilation=dilation)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """1x1 convolution, no bias."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions and a shortcut. PyTorch: ``torchvision.models.resnet.BasicBlock``."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None, groups: int = 1, base_width: int = 64,
                 dilation: int = 1, norm_layer: Callable[..., nn.Module] | None = None) -> None:
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation > 1:
            raise NotImplementedError("Dilation > 1 not supported in BasicBlock")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        result: Tensor = self.relu(out + identity)
        return result


class Bottleneck(nn.Module):
    """1x1, 3x3 (strided) and 1x1 convolutions and a shortcut, 4x wider output.

    PyTorch equivalent: ``torchvision.models.resnet.Bottleneck``.
    """

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None, groups: int = 1, base_width: int = 64,
                 dilation: int = 1, norm_layer: Callable[..., nn.Module] | None = None) -> None:
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        result: Tensor = self.relu(out + identity)
        return result


class ResNet(nn.Module):
    """A ResNet: 7x7 stem, max-pool, four stages of ``block``, average pool, ``fc``.

    Args:
        block: :class:`BasicBlock` or :class:`Bottleneck`.
        layers: blocks per stage (``[2, 2, 2, 2]`` for ResNet-18).
        num_classes: outputs of ``fc``.
        zero_init_residual: start each block's last BatchNorm weight at zero.
        groups: the bottlenecks' convolution groups (ResNeXt's).
        width_per_group: the bottlenecks' width per group (wide ResNets').
        replace_stride_with_dilation: three bools, dilate stages 2-4 instead of striding.
        norm_layer: the normalisation layer (``nn.BatchNorm2d``).

    Initialisation is torchvision's: convolutions ``kaiming_normal_(mode="fan_out",
    nonlinearity="relu")``, norm weights 1 and biases 0, ``fc`` Linear's default.

    PyTorch equivalent: ``torchvision.models.ResNet``.
    """

    def __init__(self, block: type[BasicBlock | Bottleneck], layers: Sequence[int],
                 num_classes: int = 1000, zero_init_residual: bool = False, groups: int = 1,
                 width_per_group: int = 64,
                 replace_stride_with_dilation: Sequence[bool] | None = None,
                 norm_layer: Callable[..., nn.Module] | None = None) -> None:
        super().__init__()
        self._norm_layer = norm_layer or nn.BatchNorm2d
        self.inplanes, self.dilation = 64, 1
        if replace_stride_with_dilation is None:
            replace_stride_with_dilation = [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError("replace_stride_with_dilation should be None or a 3-element "
                             f"tuple, got {replace_stride_with_dilation}")
        self.groups, self.base_width = groups, width_per_group
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3,
                               bias=False)
        self.bn1 = self._norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], 2, replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, 256, layers[2], 2, replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, 512, layers[3], 2, replace_stride_with_dilation[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        # torchvision also sets BatchNorm2d and GroupNorm weights to 1 and biases to 0,
        # which is how those layers start already: only the convolutions change.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock):
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block: type[BasicBlock | Bottleneck], planes: int, blocks: int,
                    stride: int = 1, dilate: bool = False) -> nn.Sequential:
        downsample = None
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       self._norm_layer(planes * block.expansion))
        stage = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width,
                       previous_dilation, self._norm_layer)]
        self.inplanes = planes * block.expansion
        stage += [block(self.inplanes, planes, groups=self.groups, base_width=self.base_width,
                        dilation=self.dilation, norm_layer=self._norm_layer)
                  for _ in range(1, blocks)]
        return nn.Sequential(*stage)

    def forward(self, x: Tensor) -> Tensor:
        """``x: [N, 3, H, W] -> [N, num_classes]`` logits."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        logits: Tensor = self.fc(self.avgpool(x).flatten(1))
        return logits


_DOWNLOADS = "https://download.pytorch.org/models/"


def _imagenet(url: str, resize_size: int = 256) -> Weights:
    return Weights(url=_DOWNLOADS + url,
                   transforms=functools.partial(ImageClassification, crop_size=224,
                                                resize_size=resize_size),
                   meta={"num_classes": 1000})


class ResNet18_Weights(WeightsEnum):  # noqa: N801 - torchvision's name
    IMAGENET1K_V1 = _imagenet("resnet18-f37072fd.pth")
    DEFAULT = IMAGENET1K_V1


class ResNet34_Weights(WeightsEnum):  # noqa: N801
    IMAGENET1K_V1 = _imagenet("resnet34-b627a593.pth")
    DEFAULT = IMAGENET1K_V1


class ResNet50_Weights(WeightsEnum):  # noqa: N801
    IMAGENET1K_V1 = _imagenet("resnet50-0676ba61.pth")
    IMAGENET1K_V2 = _imagenet("resnet50-11ad3fa6.pth", resize_size=232)
    DEFAULT = IMAGENET1K_V2


class ResNet101_Weights(WeightsEnum):  # noqa: N801
    IMAGENET1K_V1 = _imagenet("resnet101-63fe2227.pth")
    IMAGENET1K_V2 = _imagenet("resnet101-cd907fc2.pth", resize_size=232)
    DEFAULT = IMAGENET1K_V2


class ResNet152_Weights(WeightsEnum):  # noqa: N801
    IMAGENET1K_V1 = _imagenet("resnet152-394f9c45.pth")
    IMAGENET1K_V2 = _imagenet("resnet152-f82ba261.pth", resize_size=232)
    DEFAULT = IMAGENET1K_V2


def _resnet(block: type[BasicBlock | Bottleneck], layers: list[int], weights: Any,
            enum_cls: type[WeightsEnum], kwargs: dict[str, Any]) -> ResNet:
    weights = _weights.resolve(weights, kwargs.pop("pretrained", None), enum_cls, kwargs)
    state = weights.get_state_dict() if weights is not None else None  # before building
    model = ResNet(block, layers, **kwargs)
    if state is not None:
        model.load_state_dict(state)
    return model


def resnet18(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> ResNet:
    """ResNet-18 (BasicBlock, ``[2, 2, 2, 2]``). ``weights`` (or the deprecated
    ``pretrained=True``) reads torchvision's cached ImageNet weights, never downloading.

    PyTorch equivalent: ``torchvision.models.resnet18``.
    """
    del progress
    return _resnet(BasicBlock, [2, 2, 2, 2], weights, ResNet18_Weights, kwargs)


def resnet34(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> ResNet:
    """ResNet-34 (BasicBlock, ``[3, 4, 6, 3]``). See :func:`resnet18`.

    PyTorch equivalent: ``torchvision.models.resnet34``.
    """
    del progress
    return _resnet(BasicBlock, [3, 4, 6, 3], weights, ResNet34_Weights, kwargs)


def resnet50(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> ResNet:
    """ResNet-50 (Bottleneck, ``[3, 4, 6, 3]``). See :func:`resnet18`.

    PyTorch equivalent: ``torchvision.models.resnet50``.
    """
    del progress
    return _resnet(Bottleneck, [3, 4, 6, 3], weights, ResNet50_Weights, kwargs)


def resnet101(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> ResNet:
    """ResNet-101 (Bottleneck, ``[3, 4, 23, 3]``). See :func:`resnet18`.

    PyTorch equivalent: ``torchvision.models.resnet101``.
    """
    del progress
    return _resnet(Bottleneck, [3, 4, 23, 3], weights, ResNet101_Weights, kwargs)


def resnet152(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> ResNet:
    """ResNet-152 (Bottleneck, ``[3, 8, 36, 3]``). See :func:`resnet18`.

    PyTorch equivalent: ``torchvision.models.resnet152``.
    """
    del progress
    return _resnet(Bottleneck, [3, 8, 36, 3], weights, ResNet152_Weights, kwargs)
