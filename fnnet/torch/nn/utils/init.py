"""``torch.nn.utils.init``: ``skip_init``."""

from __future__ import annotations

from typing import Any


def skip_init(module_cls: Any, *args: Any, **kwargs: Any) -> Any:
    """``module_cls(*args, **kwargs)``, whose values the program overwrites: PyTorch leaves
    them uninitialised, fnnet.torch initialises them as usual (the cost is small next to a
    compile). PyTorch equivalent: ``torch.nn.utils.skip_init``."""
    import inspect

    from fnnet.torch.nn.modules.module import Module

    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    return module_cls(*args, **kwargs)
