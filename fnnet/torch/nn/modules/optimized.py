"""The module ``torch.compile(model)`` returns."""

from __future__ import annotations

from typing import Any

from fnnet.torch.nn.modules.module import Module


class OptimizedModule(Module):
    """``model`` under ``torch.compile``: a module holding it as ``_orig_mod``, so that
    ``state_dict`` keys, ``named_parameters`` and the printed model read as PyTorch's
    (``_orig_mod.fc.weight``) and ``compiled._orig_mod`` is the model. Calls run
    ``model`` itself (fnnet.torch compiles every step anyway); attributes the wrapper
    lacks are the model's (``compiled.fc``).

    PyTorch equivalent: ``torch._dynamo.eval_frame.OptimizedModule``.
    """

    def __init__(self, mod: Module) -> None:
        if not isinstance(mod, Module):
            raise TypeError(f"OptimizedModule: expected an nn.Module, got "
                            f"{type(mod).__name__}")
        super().__init__()
        self._orig_mod = mod
        self.training = mod.training

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self._orig_mod(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        inner = self.__dict__.get("_orig_mod")
        if inner is None or name.startswith("__"):
            return super().__getattr__(name)
        return getattr(inner, name)
