"""Models and weights by name: ``get_model``, ``list_models``, ``get_model_weights``,
``get_weight`` (torchvision's registration API, over the builders provided here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fnnet.torch.tensor import Unsupported
from fnnet.torchvision import _unsupported
from fnnet.torchvision.models import resnet
from fnnet.torchvision.models._weights import WeightsEnum

_BUILDERS: dict[str, tuple[Callable[..., Any], type[WeightsEnum]]] = {
    "resnet18": (resnet.resnet18, resnet.ResNet18_Weights),
    "resnet34": (resnet.resnet34, resnet.ResNet34_Weights),
    "resnet50": (resnet.resnet50, resnet.ResNet50_Weights),
    "resnet101": (resnet.resnet101, resnet.ResNet101_Weights),
    "resnet152": (resnet.resnet152, resnet.ResNet152_Weights),
}


def _entry(name: str) -> tuple[Callable[..., Any], type[WeightsEnum]]:
    key = name.lower()
    if key not in _BUILDERS:
        raise Unsupported(_unsupported.message("torchvision.models", name))
    return _BUILDERS[key]


def list_models(module: Any = None, include: Any = None, exclude: Any = None) -> list[str]:
    """The names of the models provided (filters accepted, ignored but for
    ``include``/``exclude`` as exact names). PyTorch: ``torchvision.models.list_models``."""
    del module
    names = sorted(_BUILDERS)
    if include is not None:
        wanted = {include} if isinstance(include, str) else set(include)
        names = [n for n in names if n in wanted]
    if exclude is not None:
        unwanted = {exclude} if isinstance(exclude, str) else set(exclude)
        names = [n for n in names if n not in unwanted]
    return names


def get_model(name: str, **config: Any) -> Any:
    """The model ``name`` built with ``config`` (``weights=...``, ``num_classes=...``).

    Raises:
        NotImplementedError: a model fnnet.torchvision does not provide.

    PyTorch equivalent: ``torchvision.models.get_model``.
    """
    return _entry(name)[0](**config)


def get_model_weights(name: Any) -> type[WeightsEnum]:
    """The weights enum of model ``name`` (or of its builder function).

    PyTorch equivalent: ``torchvision.models.get_model_weights``.
    """
    return _entry(name if isinstance(name, str) else name.__name__)[1]


def get_weight(name: str) -> WeightsEnum:
    """The weights named ``"ResNet50_Weights.IMAGENET1K_V2"``.

    Raises:
        ValueError: not of the form ``<enum>.<member>``, or an unknown member.
        NotImplementedError: an enum of a model not provided here.

    PyTorch equivalent: ``torchvision.models.get_weight``.
    """
    try:
        enum_name, member = name.split(".")
    except ValueError:
        raise ValueError(f"Invalid weight name provided: '{name}'.") from None
    for _, weights in _BUILDERS.values():
        if weights.__name__ == enum_name:
            return weights.verify(member)  # type: ignore[no-any-return]
    raise Unsupported(_unsupported.message("torchvision.models", enum_name))
