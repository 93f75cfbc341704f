"""``torch.nn.utils.stateless``: PyTorch's older name for ``torch.func.functional_call``."""

from __future__ import annotations

import warnings
from typing import Any

from fnnet.torch import func as _func


def functional_call(module: Any, parameters_and_buffers: Any, args: Any = None,
                    kwargs: dict[str, Any] | None = None, *, tie_weights: bool = True,
                    strict: bool = False) -> Any:
    """Calls ``module`` with the tensors of ``parameters_and_buffers`` in place of its own,
    warning as PyTorch does that this name is deprecated.

    PyTorch equivalent: ``torch.nn.utils.stateless.functional_call``.
    """
    warnings.warn("`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch "
                  "2.0 and will be removed in a future version of PyTorch. Please use "
                  "`torch.func.functional_call` instead which is a drop-in replacement.",
                  FutureWarning, stacklevel=2)
    return _func.functional_call(module, parameters_and_buffers, args, kwargs,
                                 tie_weights=tie_weights, strict=strict)
