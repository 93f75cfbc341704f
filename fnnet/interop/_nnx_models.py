"""Flax NNX versions of fnnet's models, as :func:`fnnet.interop.to_nnx` builds them.

Each class is plain Flax: ``nnx.Linear`` (kernel ``[in, out]``), ``nnx.Conv`` (kernel
``HWIO``) and ``nnx.BatchNorm`` over channels-last (NHWC) activations, with the
attribute names of fnnet's parameter trees (``conv1``, ``layer1[0].bn2``, ``fc``) so a
reader can match the two. :class:`NCHW` wraps a convolutional model so that it takes
fnnet's (and PyTorch's) ``[N, C, H, W]`` input. This module imports flax; fnnet imports
it only when a bridge function is called.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax.numpy as jnp
from flax import nnx

from fnnet.typing import Array

ACTIVATIONS: dict[str, Callable[[Array], Array]] = {
    "relu": nnx.relu,
    "sigmoid": nnx.sigmoid,
    "tanh": nnx.tanh,
}


class MLP(nnx.Module):
    """``fc1 ... fcN`` over flattened inputs; :class:`fnnet.models.MLP` in Flax.

    ``x: [N, ...] -> [N, sizes[-1]]``, flattened in the input's own order (as fnnet);
    ``layers`` are ``fc1 ...`` in order.
    """

    def __init__(self, layers: Sequence[nnx.Linear], activation: str | None) -> None:
        self.sizes = (layers[0].in_features, *(layer.out_features for layer in layers))
        self.activation = activation
        for index, layer in enumerate(layers):
            setattr(self, f"fc{index + 1}", layer)

    def __call__(self, x: Array) -> Array:
        x = x.reshape(x.shape[0], -1)
        layers = len(self.sizes) - 1
        for index in range(1, layers + 1):
            x = getattr(self, f"fc{index}")(x)
            if self.activation is not None and index < layers:
                x = ACTIVATIONS[self.activation](x)
        return x


class LeNet5(nnx.Module):
    """:class:`fnnet.models.LeNet5` in Flax, on NHWC input ``[N, 32, 32, C]``.

    The flattened features are in ``(H, W, C)`` order, so ``fc1.kernel``'s rows are
    fnnet's ``fc1.weight`` columns permuted from ``(C, H, W)`` order.
    """

    def __init__(self, conv1: nnx.Conv, conv2: nnx.Conv, fc1: nnx.Linear,
                 fc2: nnx.Linear, fc3: nnx.Linear) -> None:
        self.conv1 = conv1
        self.conv2 = conv2
        self.fc1 = fc1
        self.fc2 = fc2
        self.fc3 = fc3

    def __call__(self, x: Array) -> Array:
        x = nnx.max_pool(nnx.relu(self.conv1(x)), (2, 2), strides=(2, 2))
        x = nnx.max_pool(nnx.relu(self.conv2(x)), (2, 2), strides=(2, 2))
        x = x.reshape(x.shape[0], -1)
        x = nnx.relu(self.fc1(x))
        x = nnx.relu(self.fc2(x))
        return self.fc3(x)


class BasicBlock(nnx.Module):
    """:class:`fnnet.models.BasicBlock` in Flax (NHWC); ``downsample`` is
    ``[conv, batch_norm]`` or None."""

    def __init__(self, conv1: nnx.Conv, bn1: nnx.BatchNorm, conv2: nnx.Conv,
                 bn2: nnx.BatchNorm, downsample: list[nnx.Module] | None) -> None:
        self.conv1 = conv1
        self.bn1 = bn1
        self.conv2 = conv2
        self.bn2 = bn2
        self.downsample = nnx.List(downsample) if downsample is not None else None

    def __call__(self, x: Array) -> Array:
        identity = x
        if self.downsample is not None:
            for layer in self.downsample:
                identity = layer(identity)
        out = nnx.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return nnx.relu(out + identity)


class ResNet(nnx.Module):
    """:class:`fnnet.models.ResNet` in Flax, on NHWC input ``[N, H, W, C]``."""

    def __init__(self, conv1: nnx.Conv, bn1: nnx.BatchNorm, stem: str,
                 stages: Sequence[Sequence[BasicBlock]], fc: nnx.Linear) -> None:
        self.conv1 = conv1
        self.bn1 = bn1
        self.stem = stem
        self.layer1, self.layer2, self.layer3, self.layer4 = (
            nnx.List(list(stage)) for stage in stages)
        self.fc = fc

    def __call__(self, x: Array) -> Array:
        x = nnx.relu(self.bn1(self.conv1(x)))
        if self.stem == "imagenet":
            # PyTorch's MaxPool2d(3, 2, padding=1) pads with -inf, as Flax's max_pool.
            x = nnx.max_pool(x, (3, 3), strides=(2, 2), padding=((1, 1), (1, 1)))
        for stage in (self.layer1, self.layer2, self.layer3, self.layer4):
            for block in stage:
                x = block(x)
        return self.fc(jnp.mean(x, axis=(1, 2)))


class NCHW(nnx.Module):
    """Runs a channels-last model on channels-first input: ``[N, C, H, W]`` in.

    Attributes:
        nhwc: the wrapped model, to call on ``[N, H, W, C]`` input directly.
    """

    def __init__(self, nhwc: nnx.Module) -> None:
        self.nhwc = nhwc

    def __call__(self, x: Array) -> Array:
        out: Array = self.nhwc(jnp.transpose(x, (0, 2, 3, 1)))
        return out
