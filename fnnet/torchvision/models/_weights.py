"""Pretrained weights: the ``*_Weights`` enums, their preset transforms, and loading
from torchvision's download cache (fnnet.torchvision never downloads)."""

from __future__ import annotations

import enum
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import fnnet.torch as torch
from fnnet.torchvision.transforms import functional as F
from fnnet.torchvision.transforms._modes import InterpolationMode

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class ImageClassification:
    """The evaluation transform of ImageNet weights: resize the smaller edge to
    ``resize_size``, centre-crop ``crop_size``, scale to [0, 1], normalise.

    PyTorch equivalent: ``torchvision.transforms._presets.ImageClassification``.
    """

    def __init__(self, *, crop_size: int, resize_size: int = 256,
                 mean: tuple[float, ...] = IMAGENET_MEAN, std: tuple[float, ...] = IMAGENET_STD,
                 interpolation: InterpolationMode = InterpolationMode.BILINEAR,
                 antialias: bool | None = True) -> None:
        self.crop_size, self.resize_size = [crop_size], [resize_size]
        self.mean, self.std = list(mean), list(std)
        self.interpolation, self.antialias = interpolation, antialias

    def __call__(self, img: Any) -> Any:
        img = F.resize(img, self.resize_size, self.interpolation, antialias=self.antialias)
        img = F.center_crop(img, self.crop_size)
        if not isinstance(img, torch.Tensor):
            img = F.pil_to_tensor(img)
        img = F.convert_image_dtype(img, torch.float)
        return F.normalize(img, mean=self.mean, std=self.std)

    def __repr__(self) -> str:
        lines = [f"crop_size={self.crop_size}", f"resize_size={self.resize_size}",
                 f"mean={self.mean}", f"std={self.std}",
                 f"interpolation={self.interpolation}"]
        return f"{self.__class__.__name__}(" + "".join(f"\n    {s}" for s in lines) + "\n)"


@dataclass(frozen=True)
class Weights:
    """Where one set of weights comes from and how its inputs are prepared.

    PyTorch equivalent: ``torchvision.models.Weights``.
    """

    url: str
    transforms: Callable[..., Any]
    meta: dict[str, Any] = field(default_factory=dict)


class WeightsEnum(enum.Enum):
    """The weights a model builder accepts, by name (``IMAGENET1K_V1``, ``DEFAULT``).

    PyTorch equivalent: ``torchvision.models.WeightsEnum``.
    """

    @classmethod
    def verify(cls, obj: Any) -> Any:
        """``obj`` as a member of this enum (its name as a string accepted), or None."""
        if obj is None or isinstance(obj, cls):
            return obj
        if isinstance(obj, str):
            name = obj.replace(f"{cls.__name__}.", "")
            if name not in cls.__members__:
                raise ValueError(f"Failed to find Weights {obj} in {cls.__name__}. Try one of "
                                 f"{list(cls.__members__)}")
            return cls[name]
        raise TypeError(f"Invalid Weight class provided; expected {cls.__name__} but received "
                        f"{obj.__class__.__name__}.")

    @property
    def url(self) -> str:
        return self.value.url  # type: ignore[no-any-return]

    @property
    def meta(self) -> dict[str, Any]:
        return self.value.meta  # type: ignore[no-any-return]

    @property
    def transforms(self) -> Callable[..., Any]:
        return self.value.transforms  # type: ignore[no-any-return]

    def get_state_dict(self, progress: bool = True, check_hash: bool = False) -> Any:
        """The weights, from torchvision's download cache (see :func:`cached_file`)."""
        del progress, check_hash
        return torch.load(cached_file(self), weights_only=True)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}.{self._name_}"


def cache_folder() -> str:
    """torchvision's download cache: ``$TORCH_HOME/hub/checkpoints``
    (``~/.cache/torch/hub/checkpoints`` by default)."""
    home = os.getenv("TORCH_HOME") or os.path.join(
        os.getenv("XDG_CACHE_HOME", os.path.join("~", ".cache")), "torch")
    return os.path.join(os.path.expanduser(home), "hub", "checkpoints")


def cached_file(weights: WeightsEnum) -> str:
    """The cached file of ``weights``.

    Raises:
        RuntimeError: it is not there; the message names the URL and the folder.
    """
    folder = cache_folder()
    path = os.path.join(folder, os.path.basename(weights.url))
    if not os.path.isfile(path):
        raise RuntimeError(f"{weights!r} is not in torchvision's download cache ({path}), and "
                           f"fnnet.torchvision does not download: download {weights.url} into "
                           f"{folder}, or load any copy with "
                           f"model.load_state_dict(torch.load(path)).")
    return path


def resolve(weights: Any, pretrained: Any, enum_cls: type[WeightsEnum],
            kwargs: dict[str, Any]) -> Any:
    """torchvision's handling of ``weights=`` and the deprecated ``pretrained=``; the
    weights enum member or None, and ``num_classes`` checked against 1000 for weights."""
    if pretrained is not None:
        warnings.warn("The parameter 'pretrained' is deprecated since 0.13 and may be removed "
                      "in the future, please use 'weights' instead.", UserWarning, stacklevel=3)
        default = enum_cls["IMAGENET1K_V1"] if pretrained else None
        shown = f"{enum_cls.__name__}.IMAGENET1K_V1" if pretrained else "None"
        message = (f"Arguments other than a weight enum or `None` for 'weights' are deprecated "
                   f"since 0.13 and may be removed in the future. The current behavior is "
                   f"equivalent to passing `weights={shown}`.")
        if pretrained:
            message += (f" You can also use `weights={enum_cls.__name__}.DEFAULT` to get the "
                        f"most up-to-date weights.")
        warnings.warn(message, UserWarning, stacklevel=3)
        weights = default if weights is None else weights
    weights = enum_cls.verify(weights)
    if weights is not None:
        if "num_classes" in kwargs and kwargs["num_classes"] != 1000:
            raise ValueError(f"The parameter 'num_classes' expected value 1000 but got "
                             f"{kwargs['num_classes']} instead.")
        kwargs["num_classes"] = 1000
    return weights
