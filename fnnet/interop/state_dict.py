"""Model weights from and to PyTorch's ``state_dict``: a rename, never a transpose."""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np

from fnnet.interop.checkpoint import read_state_dict
from fnnet.nn.host import torch_tensor
from fnnet.nn.module import Module
from fnnet.nn.state_dict import load_state_dict, state_dict
from fnnet.typing import Params, PRNGKey, State


def from_torch_state_dict(
    module: Module,
    state_dict: Mapping[str, Any] | str | os.PathLike[str],
    strict: bool = True,
    *,
    key: PRNGKey | None = None,
) -> tuple[Params, State]:
    """``(params, layer_state)`` for ``module`` from a PyTorch state dict or file.

    Args:
        module: the fnnet model (e.g. ``fnnet.models.ResNet18()``); its ``init`` gives
            the expected names and shapes.
        state_dict: ``{name: value}`` with torch tensors (read through ``.numpy()``,
            without importing torch), numpy or jax arrays; or the path of a
            ``.pt``/``.pth`` file (read with ``torch.load(weights_only=True)``) or a
            ``.safetensors`` file.
        strict: when True, names must match exactly; when False, missing entries keep
            ``module.init(key)``'s values and unexpected ones are ignored (shapes must
            match either way), e.g. to load a backbone and keep a new head.
        key: PRNG key of ``module.init`` (default ``jax.random.key(0)``).

    Returns:
        ``(params, layer_state)``: the parameter tree and the BatchNorm buffers, with
        the values copied exactly (float32 stays bitwise equal; torch's int64
        ``num_batches_tracked`` becomes JAX's default integer).

    Raises:
        StateDictError: (a KeyError and a ValueError) listing every missing key,
            unexpected key and shape mismatch, with the expected and received shapes.
        ValueError: a file that is not weights-only, or of an unknown kind.
        TypeError: a value that is not an array.

    PyTorch equivalent: ``model.load_state_dict(torch.load(path, weights_only=True),
    strict=strict)``.
    """
    if isinstance(state_dict, (str, os.PathLike)):
        state_dict = read_state_dict(state_dict)
    return load_state_dict(module, state_dict, strict, key=key)


def to_torch_state_dict(
    params: Params,
    state: State | None = None,
    module: Module | None = None,
    *,
    tensors: bool = False,
) -> OrderedDict[str, Any]:
    """The ``state_dict`` PyTorch's model of the same architecture has, from fnnet trees.

    Args:
        params: the parameter tree.
        state: the layer state (BatchNorm buffers), or None.
        module: the fnnet model; when given, the entries come in exactly PyTorch's order
            (see :func:`fnnet.nn.state_dict`).
        tensors: return torch tensors (imports torch) instead of numpy arrays; torch's
            ``load_state_dict`` needs tensors.

    Returns:
        ``OrderedDict`` of dotted names to copies of the values: float arrays unchanged
        (bitwise), integer buffers (``num_batches_tracked``) as int64, torch's dtype.

    PyTorch equivalent: ``model.state_dict()``.
    """
    out: OrderedDict[str, Any] = OrderedDict()
    for name, value in state_dict(params, state, module).items():
        array = np.array(value, copy=True)
        if np.issubdtype(array.dtype, np.signedinteger):
            array = array.astype(np.int64)
        out[name] = array
    if tensors:
        out = OrderedDict((name, torch_tensor(array)) for name, array in out.items())
    return out
