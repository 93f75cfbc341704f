"""``nn.ParameterList`` and ``nn.ParameterDict``: parameters registered under their
positions (``"0"``, ``"1"``...) or keys, so ``parameters()``, ``state_dict()`` and the
optimizers see them as PyTorch's do."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from fnnet.torch.nn.modules.module import Module
from fnnet.torch.nn.parameter import Parameter
from fnnet.torch.tensor import Tensor


def _entries(module: Module) -> dict[str, Parameter]:
    """The module's own parameters by name (containers never hold None)."""
    return {k: v for k, v in module._parameters.items() if v is not None}


def _as_parameter(value: Any, where: str) -> Parameter:
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):  # PyTorch wraps plain tensors
        return Parameter(value)
    raise TypeError(f"{where}: expected a Parameter or Tensor, got {type(value).__name__}")


def _entries_repr(module: Module, kind: Any) -> str:
    """PyTorch's lines for a container's parameters: ``  (name): Parameter containing:
    [kind of size AxB]``, indented by two more spaces than a submodule's (one entry
    alone then prints on the container's own line, as in PyTorch)."""
    return "\n".join(f"  ({name}): Parameter containing: [{kind(p)} of size "
                     f"{'x'.join(map(str, p.shape))}]" for name, p in _entries(module).items())


class ParameterList(Module):
    """A list of registered parameters. PyTorch equivalent: ``torch.nn.ParameterList``."""

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(_entries(self).values())

    def __getitem__(self, index: int) -> Parameter:
        return list(_entries(self).values())[index]

    def __setitem__(self, index: int, value: Any) -> None:
        name = list(self._parameters)[index]
        self.register_parameter(name, _as_parameter(value, "ParameterList"))

    def append(self, value: Any) -> ParameterList:
        self.register_parameter(str(len(self)), _as_parameter(value, "ParameterList"))
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        return _entries_repr(self, lambda p: str(p.dtype))


class ParameterDict(Module):
    """A dict of registered parameters. PyTorch equivalent: ``torch.nn.ParameterDict``."""

    def __init__(self, parameters: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None
                 ) -> None:
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[str]:
        return iter(self._parameters)

    def __contains__(self, key: object) -> bool:
        return key in self._parameters

    def __getitem__(self, key: str) -> Parameter:
        return _entries(self)[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.register_parameter(key, _as_parameter(value, "ParameterDict"))

    def keys(self) -> Any:
        return dict(self._parameters).keys()

    def values(self) -> Any:
        return _entries(self).values()

    def items(self) -> Any:
        return _entries(self).items()

    def update(self, parameters: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        pairs = parameters.items() if isinstance(parameters, Mapping) else parameters
        for key, value in pairs:
            self[key] = value

    def extra_repr(self) -> str:
        return _entries_repr(self, lambda p: str(p.type()))

