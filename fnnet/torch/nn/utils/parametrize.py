"""``torch.nn.utils.parametrize``: a module's tensor computed from other tensors at
every access (``weight = g * v / ||v||``).

As in PyTorch, the module's class is swapped for a subclass (``ParametrizedLinear``)
whose attribute ``weight`` is a property evaluating ``module.parametrizations.weight``,
a :class:`ParametrizationList` holding the originals (``original``, or ``original0``,
``original1``... when ``right_inverse`` returns several) and the parametrization
modules. A layer computed by an fnnet layer reads its tensors from the instance, so the
subclass's ``forward`` places the computed tensors there for the call.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from fnnet.torch._autograd import no_grad
from fnnet.torch.nn.modules.container import ModuleDict, ModuleList
from fnnet.torch.nn.modules.module import Module
from fnnet.torch.nn.parameter import Parameter
from fnnet.torch.tensor import Tensor


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order to its originals.

    PyTorch equivalent: ``torch.nn.utils.parametrize.ParametrizationList``.
    """

    def __init__(self, modules: list[Module], original: Tensor, unsafe: bool = False
                 ) -> None:
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        # PyTorch's order: the right_inverses from the last module back (one raising
        # NotImplementedError is taken for the identity)
        with no_grad():
            new: Any = original
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    try:
                        new = module.right_inverse(new)
                    except NotImplementedError:
                        pass
        trainable = original.requires_grad
        if isinstance(new, Tensor):
            if new.dtype != original.dtype:
                raise ValueError("When `right_inverse` outputs one tensor, it may not change "
                                 f"the dtype.\noriginal.dtype: {original.dtype}\n"
                                 f"right_inverse(original).dtype: {new.dtype}")
            # the original tensor object stays (an optimizer may hold it), with new's value
            self.is_tensor, self.ntensors = True, 1
            if new is not original:
                if tuple(new.shape) != tuple(original.shape):
                    raise NotImplementedError(
                        f"fnnet.torch: a right_inverse changing the shape "
                        f"{tuple(original.shape)} -> {tuple(new.shape)} is not supported")
                with no_grad():
                    original.copy_(new)
            self._register_original("original", original, trainable)
        elif isinstance(new, (list, tuple)):
            self.is_tensor, self.ntensors = False, len(new)
            for i, tensor in enumerate(new):
                if not isinstance(tensor, Tensor):
                    raise ValueError(f"'right_inverse' must return a Tensor or a Sequence "
                                     f"of tensors (list, tuple...). Got element {i} of the "
                                     f"sequence with type {type(tensor).__name__}.")
                self._register_original(f"original{i}", tensor.detach(), trainable)
        else:
            raise ValueError(f"'right_inverse' must return a Tensor or a Sequence of tensors "
                             f"(list, tuple...). Got {type(new).__name__}")
        if not unsafe:
            # PyTorch's consistency check evaluates the parametrization once (a spectral
            # norm's power iteration takes a step in it)
            z = self()
            if not isinstance(z, Tensor):
                raise ValueError(f"A parametrization must return a tensor. Got "
                                 f"{type(z).__name__}.")
            _check_same(z, original, "unparametrized", "parametrized", "", " ")

    def _register_original(self, name: str, value: Tensor, trainable: bool) -> None:
        if isinstance(value, Parameter):
            self.register_parameter(name, value)
        elif trainable:
            self.register_parameter(name, Parameter(value.clone()))
        else:
            self.register_buffer(name, value.clone())

    def _originals(self) -> list[Tensor]:
        if self.is_tensor:
            return [self.original]
        return [getattr(self, f"original{i}") for i in range(self.ntensors)]

    def forward(self) -> Tensor:
        modules = list(self)
        x: Tensor = modules[0](*self._originals())
        for module in modules[1:]:
            x = module(x)
        return x

    def right_inverse(self, value: Tensor) -> None:
        """Sets the originals so that the parametrized tensor is ``value``."""
        with no_grad():
            for module in reversed(list(self)):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(module).__name__} does not "
                                       f"implement right_inverse.")
                value = module.right_inverse(value)
            values = [value] if self.is_tensor else list(value)
            for original, new in zip(self._originals(), values, strict=True):
                original.copy_(new)


def _check_same(new: Tensor, old: Tensor, old_name: str, new_name: str, the: str,
                what: str) -> None:
    """PyTorch's ValueError where a parametrization changes a tensor's dtype or shape."""
    for attr in ("dtype", "shape"):
        if getattr(new, attr) != getattr(old, attr):
            raise ValueError(
                f"Registering a parametrization may not change the {attr} of the tensor, "
                f"unless {the}`unsafe` flag is enabled.\n{old_name}{what}{attr}: "
                f"{getattr(old, attr)}\n{new_name}{what}{attr}: {getattr(new, attr)}")


def _check_appended(module: Module, name: str, parametrization: Module) -> None:
    """PyTorch's checks before a further parametrization of ``module.<name>``: it and its
    ``right_inverse`` keep the tensor's dtype and shape."""
    y = getattr(module, name)
    x = parametrization(y)
    if not isinstance(x, Tensor):
        raise ValueError(f"A parametrization must return a tensor. Got {type(x).__name__}.")
    _check_same(x, y, f"module.{name}", f"parametrization(module.{name})", "the ", ".")
    if not hasattr(parametrization, "right_inverse"):
        return
    try:
        z = parametrization.right_inverse(x)
    except NotImplementedError:
        return
    if not isinstance(z, Tensor):
        raise ValueError(f"parametrization.right_inverse must return a tensor. Got: "
                         f"{type(z).__name__}")
    for attr in ("dtype", "shape"):
        if getattr(z, attr) != getattr(y, attr):
            raise ValueError(
                f"The tensor returned by parametrization.right_inverse must have the same "
                f"{attr} as module.{name}, unless the `unsafe` flag is enabled.\n"
                f"module.{name}.{attr}: {getattr(y, attr)}\nreturned {attr}: "
                f"{getattr(z, attr)}")


#: ``cached()``'s depth and the tensors computed under it, by (module id, name)
_cache_depth = 0
_cache: dict[tuple[int, str], Tensor] = {}


def _computed(module: Module, name: str) -> Tensor:
    given = module.__dict__.get("_fnnet_given")
    if given is not None and name in given:
        # functional_call's value for the parametrized name itself: PyTorch takes it as
        # the tensor, the parametrization off for the call
        value: Tensor = given[name]
        return value
    key = (id(module), name)
    if _cache_depth and key in _cache:
        return _cache[key]
    value = module.parametrizations[name]()
    if _cache_depth:
        _cache[key] = value
    return value


def _parametrized_class(cls: type[Module]) -> type[Module]:
    def forward(self: Module, *args: Any, **kwargs: Any) -> Any:
        # fnnet's layers read their tensors from the instance: place the computed ones
        d = self.__dict__
        names = list(d["parametrizations"].keys())
        for name in names:
            d[name] = _computed(self, name)
        try:
            return cls.forward(self, *args, **kwargs)
        finally:
            for name in names:
                d.pop(name, None)

    def refuse_pickling(self: Module) -> Any:
        # PyTorch's parametrized classes refuse pickling (torch.save(model)) so
        raise RuntimeError(
            "Serialization of parametrized modules is only supported through "
            "state_dict(). See:\nhttps://pytorch.org/tutorials/beginner/"
            "saving_loading_models.html#saving-loading-a-general-checkpoint-for-"
            "inference-and-or-resuming-training")

    return type(f"Parametrized{cls.__name__}", (cls,), {
        "forward": forward, "_fnnet_unparametrized": cls, "__getstate__": refuse_pickling})


def _add_property(module: Module, name: str) -> None:
    def getter(self: Module) -> Tensor:
        return _computed(self, name)

    def setter(self: Module, value: Tensor) -> None:
        self.parametrizations[name].right_inverse(value)

    setattr(type(module), name, property(getter, setter))


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` (or its ``tensor_name``) has a parametrization.

    PyTorch equivalent: ``torch.nn.utils.parametrize.is_parametrized``.
    """
    parametrizations = module.__dict__.get("parametrizations")
    if not isinstance(parametrizations, ModuleDict):
        return False
    return len(parametrizations) > 0 if tensor_name is None else \
        tensor_name in parametrizations


def register_parametrization(module: Module, tensor_name: str, parametrization: Module,
                             *, unsafe: bool = False) -> Module:
    """Makes ``module.<tensor_name>`` the output of ``parametrization`` applied to the
    tensor's original value (or to what its ``right_inverse`` returns).

    Returns:
        ``module`` (its class swapped for ``Parametrized<Class>`` the first time).

    PyTorch equivalent: ``torch.nn.utils.parametrize.register_parametrization``.
    """
    if not isinstance(module, Module):
        raise TypeError(f"register_parametrization: module must be an nn.Module, got "
                        f"{type(module).__name__}")
    parametrization.train(module.training)  # (PyTorch's AttributeError for a function)
    if is_parametrized(module, tensor_name):
        plist = module.parametrizations[tensor_name]
        if not unsafe:
            _check_appended(module, tensor_name, parametrization)
        plist.append(parametrization)
        plist.unsafe |= unsafe
        return module
    if tensor_name not in module._parameters and tensor_name not in module._buffers:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a "
                         f"parametrized element with name '{tensor_name}'")
    original = getattr(module, tensor_name)
    if original is None:
        raise ValueError(f"register_parametrization: {tensor_name} of {type(module).__name__}"
                         f" is None")
    plist = ParametrizationList([parametrization], original, unsafe=unsafe)
    delattr(module, tensor_name)
    if not is_parametrized(module):
        object.__setattr__(module, "__class__", _parametrized_class(type(module)))
        module.parametrizations = ModuleDict()
    module.parametrizations[tensor_name] = plist
    _add_property(module, tensor_name)
    return module


def remove_parametrizations(module: Module, tensor_name: str,
                            leave_parametrized: bool = True) -> Module:
    """Makes ``module.<tensor_name>`` a plain parameter again: its current parametrized
    value (``leave_parametrized``) or its original.

    PyTorch equivalent: ``torch.nn.utils.parametrize.remove_parametrizations``.
    """
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    plist = module.parametrizations[tensor_name]
    if leave_parametrized:
        with no_grad():
            value = plist()
        tensor = Parameter(value.detach(), requires_grad=plist._originals()[0].requires_grad)
    else:
        if not plist.is_tensor:
            raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a "
                             "tensor that is parametrized in terms of a sequence of tensors.")
        tensor = plist.original
    delattr(type(module), tensor_name)
    del module.parametrizations[tensor_name]
    if isinstance(tensor, Parameter):
        module.register_parameter(tensor_name, tensor)
    else:
        module.register_buffer(tensor_name, tensor)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        object.__setattr__(module, "__class__",
                           type(module).__dict__["_fnnet_unparametrized"])
    return module


@contextlib.contextmanager
def cached() -> Iterator[None]:
    """Within the block, each parametrized tensor is computed at its first use and that
    tensor is returned by every later access (``module.weight is module.weight``), as
    PyTorch's.

    PyTorch equivalent: ``torch.nn.utils.parametrize.cached``.
    """
    global _cache_depth
    _cache_depth += 1
    try:
        yield
    finally:
        _cache_depth -= 1
        if not _cache_depth:
            _cache.clear()


__all__ = ["ParametrizationList", "cached", "is_parametrized", "register_parametrization",
           "remove_parametrizations"]
