"""The weights files of ``fnnet train --save``, ``evaluate`` and ``predict``: a
``.safetensors`` file of PyTorch's ``state_dict`` names, whose header records the run
(model, data set, image shape, classes). Errors are :class:`UsageError` lines naming the
flag and the file."""

from __future__ import annotations

import dataclasses
import pathlib
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from fnnet._usage import UsageError, user_words

if TYPE_CHECKING:
    from fnnet.nn.module import Module

WEIGHTS_SUFFIX = ".safetensors"


def check_weights_path(flag: str, path: str, must_exist: bool) -> pathlib.Path:
    """``path`` (given by ``flag``) as a weights file's path: a ``.safetensors`` name, and
    an existing file where ``must_exist``.

    Raises:
        UsageError: another suffix, a folder, or no such file.
    """
    file = pathlib.Path(path)
    if file.suffix.lower() != WEIGHTS_SUFFIX:
        raise UsageError(f"{flag} {path}: expected a file ending in {WEIGHTS_SUFFIX}")
    if must_exist and file.is_dir():
        raise UsageError(f"{flag} {path}: a folder, expected a file")
    if must_exist and not file.is_file():
        raise UsageError(f"{flag} {path}: no such file")
    return file


def save_weights(path: pathlib.Path, model: Any, params: Any, layer_state: Any,
                 metadata: dict[str, str]) -> pathlib.Path:
    """Writes the final weights as ``.safetensors``: PyTorch's ``state_dict`` names and
    layouts, loadable by :func:`fnnet.interop.from_torch_state_dict` and by
    ``safetensors.torch.load_file`` into the matching PyTorch model.

    Args:
        path: the file to write (its folder is created).
        model: the fnnet model, which orders the entries as PyTorch does.
        params: its parameter tree.
        layer_state: its layer state (BatchNorm buffers).
        metadata: the run (``fnnet.model``, ``fnnet.dataset``, ``fnnet.image_shape``,
            ``fnnet.num_classes``), stored as strings in the file's header for
            ``fnnet evaluate`` and ``fnnet predict``.

    Returns:
        ``path``.

    PyTorch equivalent: ``safetensors.torch.save_file(model.state_dict(), path)``.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import save_file

    from fnnet.checkpoint.atomic_file import replacing
    from fnnet.interop import to_torch_state_dict

    arrays = to_torch_state_dict(params, layer_state, model)
    path.parent.mkdir(parents=True, exist_ok=True)
    # written to a temporary file renamed into place: a failure leaves no half file, and
    # the file has the umask's permissions (safetensors' own writer leaves it 0600)
    try:
        with replacing(path) as new:
            save_file(dict(arrays), str(new), metadata={"format": "pt", **metadata})
    except SafetensorError as error:  # a full disk, a folder that refuses files
        raise OSError(f"cannot write {path}: {user_words(error)}") from None
    return path


@dataclasses.dataclass(frozen=True)
class SavedWeights:
    """A weights file and the run it came from.

    Attributes:
        path: the ``.safetensors`` file.
        model: the model's name (one of :data:`MODELS`).
        dataset: the data set it was trained on.
        image_shape: ``(C, H, W)`` of the images it was trained on, or None where the
            file does not say (not written by ``fnnet train --save``).
        num_classes: the number of classes.
    """

    path: pathlib.Path
    model: str
    dataset: str
    image_shape: tuple[int, ...] | None
    num_classes: int


def read_metadata(path: pathlib.Path) -> dict[str, str]:
    """The string metadata in the header of the ``.safetensors`` file ``path``.

    Raises:
        UsageError: the file is not a readable ``.safetensors`` file.
    """
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="numpy") as f:
            return dict(f.metadata() or {})
    except Exception as err:  # safetensors raises its own SafetensorError
        raise UsageError(f"--weights {path}: not a readable .safetensors file "
                         f"({user_words(err)})") from None


def read_saved_weights(weights: str, model: str | None,
                       warn: Callable[[str], None]) -> SavedWeights:
    """The weights file given by ``--weights``, with ``--model`` (``model``) defaulting to
    the run the file records (its data set is the one the file records, or digits).

    Args:
        weights: the ``--weights`` path.
        model: the ``--model`` given, or None.
        warn: prints a warning line (a ``--model`` other than the one the file records).

    Raises:
        UsageError: no such ``.safetensors`` file, an unreadable one, or one that names no
            model and has no Linear weight to count the classes from.
    """
    path = check_weights_path("--weights", weights, must_exist=True)
    meta = read_metadata(path)
    chosen = model or meta.get("fnnet.model")
    if chosen is None:
        raise UsageError(f"--weights {path} does not say which model it holds (it was not "
                         "written by fnnet train --save): pass --model")
    if model and meta.get("fnnet.model") not in (None, model):
        warn(f"--model {model} differs from the {meta['fnnet.model']} that "
             f"{path.name} was trained as")
    dataset = meta.get("fnnet.dataset", "digits")
    if "fnnet.image_shape" in meta:
        image_shape = tuple(int(v) for v in meta["fnnet.image_shape"].split(","))
        return SavedWeights(path, chosen, dataset, image_shape,
                            int(meta["fnnet.num_classes"]))
    from fnnet.interop import read_state_dict

    # The classifier is the last Linear weight; safetensors files sort their names, so
    # the numbers in them are compared as numbers (fc10 after fc9).
    def natural(name: str) -> list[Any]:
        return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]

    arrays = read_state_dict(path)
    linear = sorted((k for k, v in arrays.items() if k.endswith(".weight") and v.ndim == 2),
                    key=natural)
    if not linear:
        raise UsageError(f"--weights {path}: no Linear weight to read the classes from")
    return SavedWeights(path, chosen, dataset, None, int(arrays[linear[-1]].shape[0]))


def check_image_shape(weights: SavedWeights, image_shape: Sequence[int], source: str) -> None:
    """Raises a UsageError where ``weights`` were trained on images of another shape than
    ``image_shape``, the images ``source`` (a flag or argument) gives."""
    if weights.image_shape is not None and tuple(image_shape) != weights.image_shape:
        raise UsageError(f"{source} has {shape_text(image_shape)} images, but --weights "
                         f"{weights.path} was trained on {shape_text(weights.image_shape)} "
                         f"images ({weights.dataset})")


def load_weights(model: Module, weights: SavedWeights,
                 image_shape: Sequence[int]) -> tuple[Any, Any]:
    """``(params, layer_state)`` of ``model`` read from ``weights``' file.

    Raises:
        UsageError: the file's names or shapes do not fit ``model`` (for images of
            ``image_shape``).
    """
    from fnnet.interop import from_torch_state_dict

    try:
        return from_torch_state_dict(model, weights.path)
    except (KeyError, ValueError) as err:
        raise UsageError(f"--weights {weights.path} does not fit --model {weights.model} on "
                         f"{shape_text(image_shape)} images: {user_words(err)}") from None


def shape_text(shape: Sequence[int]) -> str:
    """``shape`` as the messages write it (``1x28x28``)."""
    return "x".join(map(str, shape))
