"""The state of an optimizer a user writes: a ``torch.optim.Optimizer`` subclass whose
``step`` updates the parameters with tensor operations and keeps what it needs in
``self.state[p]``, a plain dict per parameter (PyTorch's ``defaultdict(dict)``).

``state_dict()`` and ``load_state_dict()`` follow PyTorch's rules for such state: the
parameters are named by their index over the groups, the values are saved as they are,
and loading casts floating tensors to their parameter's type (``step`` excepted).
"""

from __future__ import annotations

import copy
import functools
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from fnnet.torch import _compiler
from fnnet.torch.tensor import Tensor


def as_step(step: Callable[..., Any]) -> Callable[..., Any]:
    """Wraps a user-written ``step``: what it recorded is computed at its end, as the
    built-in optimizers' steps are (so that a loop's tape does not grow step after
    step), and a scheduler stepped before it warns, as in PyTorch."""

    @functools.wraps(step)
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = step(self, *args, **kwargs)
        self._opt_called = True
        _compiler.flush("step")
        return result

    run.__fnnet_step__ = True  # type: ignore[attr-defined]
    return run


def state_dict(state: dict[Any, dict[str, Any]],
               param_groups: list[dict[str, Any]]) -> dict[str, Any]:
    """``{"state": {index: {...}}, "param_groups": [...]}`` as PyTorch packs it."""
    index: dict[int, int] = {}
    groups = []
    for group in param_groups:
        packed = {k: v for k, v in group.items() if k != "params"}
        for p in group["params"]:
            index.setdefault(id(p), len(index))
        packed["params"] = [index[id(p)] for p in group["params"]]
        groups.append(packed)
    packed_state = {(index[id(k)] if isinstance(k, Tensor) else k): v
                    for k, v in state.items()}
    return {"state": packed_state, "param_groups": groups}


def loaded(saved: dict[str, Any], param_groups: list[dict[str, Any]]
           ) -> tuple[defaultdict[Any, dict[str, Any]], list[dict[str, Any]]]:
    """The state and the groups ``saved`` holds for these parameters (PyTorch's
    ``Optimizer.load_state_dict``): the saved hyperparameters, this optimizer's
    parameters.

    Raises:
        ValueError: PyTorch's messages for a different number or size of groups.
    """
    saved_groups = copy.deepcopy(saved["param_groups"])
    if len(param_groups) != len(saved_groups):
        raise ValueError("loaded state dict has a different number of parameter groups")
    if any(len(g["params"]) != len(s["params"])
           for g, s in zip(param_groups, saved_groups, strict=True)):
        raise ValueError("loaded state dict contains a parameter group "
                         "that doesn't match the size of optimizer's group")
    id_map = dict(zip((i for s in saved_groups for i in s["params"]),
                      (p for g in param_groups for p in g["params"]), strict=True))
    state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
    for key, value in saved["state"].items():
        if key in id_map:
            state[id_map[key]] = _cast(id_map[key], value)
        else:
            state[key] = value
    for group, new in zip(param_groups, saved_groups, strict=True):
        new["params"] = group["params"]
    return state, saved_groups


def _cast(param: Tensor, value: Any, key: Any = None) -> Any:
    """``value`` with its tensors of ``param``'s floating type (``step`` kept)."""
    if isinstance(value, Tensor):
        if key == "step" or not param.is_floating_point():
            return value
        return value.to(dtype=param.dtype)
    if isinstance(value, dict):
        return {k: _cast(param, v, k) for k, v in value.items()}
    if isinstance(value, Iterable) and not isinstance(value, str | bytes):
        return type(value)(_cast(param, v) for v in value)  # type: ignore[call-arg]
    return value
