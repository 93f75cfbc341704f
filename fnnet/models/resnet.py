"""ResNet-18 and ResNet-34 (the BasicBlock family) in torchvision's layout.

Parameter names, shapes and initialisation are torchvision's (``conv1.weight``,
``bn1.running_mean``, ``layer1.0.conv1.weight``, ``layer2.0.downsample.0.weight``,
``fc.bias``, ...), so a ``torchvision.models.resnet18().state_dict()`` loads with
:func:`fnnet.interop.from_torch_state_dict` (a rename, never a transpose).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import jax

from fnnet import nn
from fnnet.nn import functional as F
from fnnet.nn.init import kaiming_normal_fan_out
from fnnet.nn.module import Bound, Module
from fnnet.typing import Array, Params, PRNGKey, State

STEMS = ("imagenet", "cifar")


def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """3x3 convolution with padding 1 and no bias, as torchvision's ``conv3x3``."""
    return nn.Conv2d(in_planes, out_planes, 3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """1x1 convolution without bias, as torchvision's ``conv1x1``."""
    return nn.Conv2d(in_planes, out_planes, 1, stride=stride, bias=False)


class BasicBlock(Module):
    """Two 3x3 convolutions with BatchNorm and a residual connection.

    ``relu(bn2(conv2(relu(bn1(conv1(x))))) + identity)`` where ``identity`` is ``x``, or
    ``downsample(x)`` (a strided 1x1 convolution and a BatchNorm) when the shape changes.

    Args:
        inplanes: input channels.
        planes: output channels.
        stride: stride of ``conv1`` (2 halves the resolution).
        downsample: the ``Sequential(conv1x1, BatchNorm2d)`` projection of the shortcut,
            or None for the identity.

    PyTorch equivalent: ``torchvision.models.resnet.BasicBlock``.
    """

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Sequential | None = None) -> None:
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, m: Bound, x: Array) -> Array:
        """``x: [N, inplanes, H, W] -> [N, planes, H / stride, W / stride]``."""
        identity = m.downsample(x) if self.downsample is not None else x
        out = F.relu(m.bn1(m.conv1(x)))
        out = m.bn2(m.conv2(out))
        return F.relu(out + identity)


class ResNet(Module):
    """A ResNet of :class:`BasicBlock` stages, as ``torchvision.models.ResNet``.

    Args:
        layers: blocks per stage, e.g. ``(2, 2, 2, 2)`` for ResNet-18.
        num_classes: outputs of the final ``fc`` layer.
        stem: ``"imagenet"`` (torchvision's 7x7 stride-2 ``conv1`` and 3x3 stride-2
            max-pool, for 224x224 images) or ``"cifar"`` (a 3x3 stride-1 ``conv1`` and no
            max-pool, the usual change for 32x32 images; the parameter names stay the
            same, only ``conv1.weight`` is ``[64, in_channels, 3, 3]``).
        in_channels: channels of the input images.
        zero_init_residual: start every block's ``bn2.weight`` at zero, as
            torchvision's argument of that name.

    Initialisation is torchvision's: convolutions ``kaiming_normal_(mode="fan_out",
    nonlinearity="relu")``, BatchNorm weight 1 and bias 0, ``fc`` PyTorch's Linear
    default.

    Raises:
        TypeError: ``layers`` is not a sequence.
        ValueError: ``layers`` is not 4 positive ints, or ``stem`` or ``num_classes``
            is invalid.

    Example:
        >>> net = ResNet18(num_classes=10, stem="cifar")
        >>> params, state = net.init(jax.random.key(0))
        >>> x = jnp.zeros((8, 3, 32, 32))
        >>> logits, state = net.apply(params, state, x, train=True)  # [8, 10]

    PyTorch equivalent: ``torchvision.models.ResNet(BasicBlock, layers, num_classes)``
    (with ``stem="cifar"``: ``model.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)`` and
    ``model.maxpool = nn.Identity()``).
    """

    def __init__(self, layers: Sequence[int], num_classes: int = 1000, *,
                 stem: str = "imagenet", in_channels: int = 3,
                 zero_init_residual: bool = False) -> None:
        if not isinstance(layers, Iterable) or isinstance(layers, str | bytes):
            raise TypeError(f"ResNet: layers must be a sequence of 4 positive ints (blocks "
                            f"per stage), got {layers!r}")
        layers = tuple(layers)
        if len(layers) != 4 or any(not isinstance(n, int) or n < 1 for n in layers):
            raise ValueError(f"ResNet: layers must be 4 positive ints (blocks per stage), "
                             f"got {layers}")
        if stem not in STEMS:
            raise ValueError(f"ResNet: stem must be one of {STEMS}, got {stem!r}")
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"ResNet: num_classes must be a positive int, got "
                             f"{num_classes!r}")
        self.layers = layers
        self.num_classes = num_classes
        self.stem = stem
        self.zero_init_residual = zero_init_residual
        self.inplanes = 64
        if stem == "imagenet":
            self.conv1 = nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False)
        else:
            self.conv1 = conv3x3(in_channels, 64)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        if stem == "imagenet":
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(64, layers[0])
        self.layer2 = self._make_layer(128, layers[1], stride=2)
        self.layer3 = self._make_layer(256, layers[2], stride=2)
        self.layer4 = self._make_layer(512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * BasicBlock.expansion, num_classes)

    def _make_layer(self, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * BasicBlock.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes, stride),
                                       nn.BatchNorm2d(planes))
        stage = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * BasicBlock.expansion
        stage += [BasicBlock(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*stage)

    def init(self, key: PRNGKey) -> tuple[Params, State]:
        """torchvision's initialisation (see the class docstring)."""
        params, state = _init_children(self, key)
        if self.zero_init_residual:
            for stage in ("layer1", "layer2", "layer3", "layer4"):
                for block in params[stage].values():
                    block["bn2"]["weight"] = block["bn2"]["weight"] * 0
        return params, state

    def forward(self, m: Bound, x: Array) -> Array:
        """``x: [N, in_channels, H, W] -> [N, num_classes]`` logits."""
        x = m.relu(m.bn1(m.conv1(x)))
        if self.stem == "imagenet":
            x = m.maxpool(x)
        x = m.layer4(m.layer3(m.layer2(m.layer1(x))))
        x = F.flatten(m.avgpool(x), 1)
        logits: Array = m.fc(x)
        return logits

    def extra_repr(self) -> str:
        return f"layers={self.layers}, num_classes={self.num_classes}, stem={self.stem!r}"


def _init_children(module: Module, key: PRNGKey) -> tuple[Params, State]:
    """``Module.init`` with every Conv2d weight drawn He-normal (fan-out) instead of
    PyTorch's default, as torchvision's ResNet re-initialises them (its convolutions
    have no bias)."""
    params: Params = {}
    state: State = {}
    for index, (name, child) in enumerate(module.named_children()):
        child_key = jax.random.fold_in(key, index)
        if isinstance(child, nn.Conv2d):
            shape = (child.out_channels, child.in_channels // child.groups,
                     *child.kernel_size)
            child_params: Params = {"weight": kaiming_normal_fan_out(child_key, shape)}
            child_state: State = {}
        elif isinstance(child, (BasicBlock, nn.Sequential)):
            child_params, child_state = _init_children(child, child_key)
        else:
            child_params, child_state = child.init(child_key)
        if child_params:
            params[name] = child_params
        if child_state:
            state[name] = child_state
    return params, state


def ResNet18(num_classes: int = 1000, *, stem: str = "imagenet", in_channels: int = 3,
             zero_init_residual: bool = False) -> ResNet:
    """ResNet-18: BasicBlock stages of ``(2, 2, 2, 2)`` blocks (11.7M parameters with
    1000 classes). See :class:`ResNet` for the arguments.

    PyTorch equivalent: ``torchvision.models.resnet18(num_classes=num_classes)``.
    """
    return ResNet((2, 2, 2, 2), num_classes, stem=stem, in_channels=in_channels,
                  zero_init_residual=zero_init_residual)


def ResNet34(num_classes: int = 1000, *, stem: str = "imagenet", in_channels: int = 3,
             zero_init_residual: bool = False) -> ResNet:
    """ResNet-34: BasicBlock stages of ``(3, 4, 6, 3)`` blocks. See :class:`ResNet`.

    PyTorch equivalent: ``torchvision.models.resnet34(num_classes=num_classes)``.
    """
    return ResNet((3, 4, 6, 3), num_classes, stem=stem, in_channels=in_channels,
                  zero_init_residual=zero_init_residual)
