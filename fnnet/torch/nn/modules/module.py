"""``nn.Module``: PyTorch's stateful module, holding parameters as lazy tensors."""

from __future__ import annotations

import builtins
import copy
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Self, TypeVar

import jax.numpy as jnp
import numpy as np

from fnnet.core.transfer import placed
from fnnet.torch import _dtypes, _graph
from fnnet.torch._hooks import RemovableHandle
from fnnet.torch._settings import typename
from fnnet.torch._zero_grad import zero_grads
from fnnet.torch.device import check_cuda, check_placement
from fnnet.torch.device import device as _device
from fnnet.torch.nn._buffer import Buffer
from fnnet.torch.nn._uninitialized import is_lazy, shape_error
from fnnet.torch.nn.modules._backward_hooks import BackwardCall
from fnnet.torch.nn.parameter import Parameter
from fnnet.torch.tensor import Tensor, Unsupported, _as_tensor

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class _IncompatibleKeys(IncompatibleKeys):
    """What ``load_state_dict`` returns; prints as PyTorch's, ``<All keys matched
    successfully>`` when no key is missing or unexpected."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return f"_IncompatibleKeys(missing_keys={self.missing_keys!r}, " \
            f"unexpected_keys={self.unexpected_keys!r})"

    __str__ = __repr__

#: PyTorch Module features fnnet.torch does not provide, and the fnnet way instead.
_UNSUPPORTED = {
    "register_backward_hook": "use register_full_backward_hook (PyTorch deprecates this one)",
    "share_memory": "a model's arrays live in its own process, so processes cannot update "
                    "one model in place (Hogwild); train with DistributedDataParallel",
    "ipu": "JAX computes on its CPU, GPU or TPU devices (use .to(device))",
    "mtia": "JAX computes on its CPU, GPU or TPU devices (use .to(device))",
    "xpu": "JAX computes on its CPU, GPU or TPU devices (use .to(device))",
}
#: The hooks every module runs (PyTorch's ``_global_forward_hooks``...), by handle id, and
#: the options of the global forward hooks.
_global_forward_pre_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
_global_forward_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
_global_forward_hooks_with_kwargs: OrderedDict[int, bool] = OrderedDict()
_global_forward_hooks_always_called: OrderedDict[int, bool] = OrderedDict()
_global_backward_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
_global_backward_pre_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()


def _add_global(table: OrderedDict[int, Callable[..., Any]], hook: Callable[..., Any],
                *options: tuple[OrderedDict[int, bool], bool]) -> RemovableHandle:
    handle = RemovableHandle(table, *(option for option, _ in options))
    table[handle.id] = hook
    for option, on in options:
        if on:
            option[handle.id] = True
    return handle


def register_module_forward_pre_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """``hook(module, args)`` runs before every module's ``forward``, ahead of the
    module's own pre-hooks; it may return new arguments.

    PyTorch equivalent: ``torch.nn.modules.module.register_module_forward_pre_hook``.
    """
    return _add_global(_global_forward_pre_hooks, hook)


def register_module_forward_hook(hook: Callable[..., Any], *, with_kwargs: bool = False,
                                 always_call: bool = False) -> RemovableHandle:
    """``hook(module, args, output)`` (``hook(module, args, kwargs, output)`` with
    ``with_kwargs``) runs after every module's ``forward``, ahead of the module's own
    hooks; it may return a new output.

    PyTorch equivalent: ``torch.nn.modules.module.register_module_forward_hook``.
    """
    return _add_global(_global_forward_hooks, hook,
                       (_global_forward_hooks_with_kwargs, with_kwargs),
                       (_global_forward_hooks_always_called, always_call))


def register_module_full_backward_pre_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """``hook(module, grad_output)`` in each backward through any module's call, as
    :meth:`Module.register_full_backward_pre_hook` (read the gradients, not replace them).

    PyTorch equivalent: ``torch.nn.modules.module.register_module_full_backward_pre_hook``.
    """
    return _add_global(_global_backward_pre_hooks, hook)


def register_module_full_backward_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """``hook(module, grad_input, grad_output)`` in each backward through any module's
    call, as :meth:`Module.register_full_backward_hook` (read the gradients, not replace
    them).

    PyTorch equivalent: ``torch.nn.modules.module.register_module_full_backward_hook``.
    """
    return _add_global(_global_backward_hooks, hook)


_RETURNED_KEYS = ("Hooks registered with ``register_load_state_dict_post_hook`` are not "
                  "expected to return new values, if incompatible_keys need to be modified, "
                  "it should be done inplace.")


def _addindent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


def set_value(tensor: Tensor, value: Any) -> None:
    """Replaces the value in ``tensor``'s storage by a private copy of ``value`` (an
    array, copied without a compile per shape)."""
    array = placed(value)
    cell = tensor._cell
    cell.val = array
    cell.tape = None
    cell.ref = -1
    cell.aval = _graph.aval_of(array)
    cell.rg = False


def _checkpoint_array(name: str, value: Any) -> tuple[Any, str | None]:
    """The array a state-dict value holds, or PyTorch's message saying why it holds none."""
    if isinstance(value, Tensor):
        array = value._value()
    elif isinstance(value, (str, bytes, bool, type(None), Mapping, list, tuple)) or not (
            isinstance(value, (int, float)) or hasattr(value, "__array__")
            or callable(getattr(value, "numpy", None))):
        return None, (f'While copying the parameter named "{name}", expected torch.Tensor '
                      f"or Tensor-like object from checkpoint but received {type(value)}")
    else:
        dtype = getattr(value, "dtype", None)
        if isinstance(dtype, np.dtype) and dtype.kind not in "biuf" \
                and not jnp.issubdtype(dtype, jnp.floating):
            array = None
        else:
            try:
                array = _as_tensor(value)._value()
            except (TypeError, ValueError):
                array = None
    if array is None or not (array.dtype == jnp.bool_ or jnp.issubdtype(array.dtype, jnp.number)
                             ) or jnp.issubdtype(array.dtype, jnp.complexfloating):
        got = getattr(array if array is not None else value, "dtype", type(value).__name__)
        return None, (f'While copying the parameter named "{name}", expected a tensor of '
                      f"real numbers from checkpoint but received dtype {got}")
    return array, None


def _missing(own: dict[str, Tensor], state_dict: Mapping[str, Any],
             metadata: Mapping[str, Any]) -> list[str]:
    """The names of ``own`` that ``state_dict`` lacks. A BatchNorm counter the checkpoint
    lacks keeps its value, as PyTorch fills it for a state dict without the version-2
    metadata (``metadata``: module path -> its ``{"version": ...}``) its state_dict()
    attaches."""
    return [k for k in own if k not in state_dict and not (
        k.rpartition(".")[2] == "num_batches_tracked"
        and (metadata.get(k.rpartition(".")[0], {}).get("version") or 0) < 2)]


#: the ``state_dict`` key (after a module's prefix) of its ``get_extra_state()``
_EXTRA_STATE = "_extra_state"


def _overrides(module: Any, method: str) -> bool:
    """Whether ``module``'s class defines its own ``method`` (extra state's methods)."""
    return getattr(type(module), method) is not getattr(Module, method)


def _add_missing_extras(root: Any, missing: list[str], extras: Mapping[str, Any],
                        state_dict: Mapping[str, Any]) -> None:
    """The keys of ``extras`` that ``state_dict`` lacks added to ``missing``, each
    after its module's own missing keys and before its children's, as PyTorch lists
    them."""
    order = {name: i for i, (name, _) in enumerate(root.named_modules(remove_duplicate=False))}
    missing.extend(k for k in extras if k not in state_dict)
    missing.sort(key=lambda k: order.get(k.rpartition(".")[0], len(order)))


def _checked_values(own: dict[str, Tensor], state_dict: Mapping[str, Any], assign: bool,
                    errors: list[str]) -> dict[str, Any]:
    """The arrays of ``state_dict`` to copy into the tensors of ``own``, by name, each
    checked; PyTorch's message for each one that cannot be is added to ``errors``."""
    values = {}
    for name, target in own.items():
        if name not in state_dict:
            continue
        if is_lazy(state_dict[name]):  # a lazy module's placeholder: no value to copy
            if is_lazy(target):
                continue
            raise shape_error()
        array, problem = _checkpoint_array(name, state_dict[name])
        if not problem and not is_lazy(target) and len(target.shape) == 0 \
                and tuple(array.shape) == (1,):
            # PyTorch before 0.4 saved scalars as 1-element tensors; PyTorch's load
            # still takes one into a 0-dim parameter or buffer
            array = array[0]
        if problem:
            errors.append(problem)
        elif not is_lazy(target) and tuple(array.shape) != tuple(target.shape):
            errors.append(
                f'size mismatch for {name}: copying a param with shape '
                f'torch.Size({list(array.shape)}) from checkpoint, the shape in current '
                f'model is torch.Size({list(target.shape)}).')
        elif assign and target.requires_grad and not jnp.issubdtype(array.dtype,
                                                                    jnp.floating):
            errors.append(
                f'While copying the parameter named "{name}", whose dimensions in the '
                f'model are torch.Size({list(target.shape)}) and whose dimensions in the '
                f'checkpoint are torch.Size({list(array.shape)}), an exception occurred : '
                "('Only Tensors of floating point and complex dtype can require "
                "gradients',).")
        else:
            values[name] = array
    return values


class _Table(OrderedDict):  # type: ignore[type-arg]
    """A module's parameters, buffers or children by name. An entry written or removed
    through the table (``module._parameters["weight"] = w``, ``module._modules["fc"] =
    head``, as some programs do) is the module's attribute too, as PyTorch's attribute
    lookup through its tables makes it; the module keeps its entries as attributes so
    that reading them costs an ordinary attribute read."""

    def __init__(self, owner: Any = None) -> None:
        super().__init__()
        self.owner = owner

    @classmethod
    def of(cls, owner: Any, entries: Any) -> _Table:
        """A table of ``owner`` holding ``entries`` (a mapping), which ``owner`` already
        has as attributes."""
        table = cls(owner)
        for key, value in entries.items():
            OrderedDict.__setitem__(table, key, value)
        return table

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        if self.owner is not None:
            self.owner.__dict__[key] = value

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        if self.owner is not None:
            self.owner.__dict__.pop(key, None)

    def pop(self, key: str, *default: Any) -> Any:
        if key not in self:
            return super().pop(key, *default)
        value = super().pop(key)
        if self.owner is not None:
            self.owner.__dict__.pop(key, None)
        return value


#: the tables of a module's registered members
_TABLES = ("_parameters", "_buffers", "_modules")
#: PyTorch's hook dicts, which every module has from its __init__ (a script clears them,
#: ``m._forward_hooks.clear()``, or counts them); fnnet.torch's are made on first use
_HOOK_TABLES = frozenset({
    "_backward_pre_hooks", "_backward_hooks", "_forward_hooks", "_forward_hooks_with_kwargs",
    "_forward_hooks_always_called", "_forward_pre_hooks", "_forward_pre_hooks_with_kwargs",
    "_state_dict_hooks", "_state_dict_pre_hooks", "_load_state_dict_pre_hooks",
    "_load_state_dict_post_hooks"})


class Module:
    """Base class of fnnet.torch models; subclass it exactly as ``torch.nn.Module``.

    Assigning a :class:`Parameter`, a Module or (through :meth:`register_buffer`) a
    buffer registers it, so ``parameters()``, ``state_dict()`` and ``train()`` see it;
    ``__call__`` runs ``forward``. Parameter values are initialised by fnnet's layers
    from the global PRNG (``torch.manual_seed``).

    PyTorch equivalent: ``torch.nn.Module``.
    """

    training: bool
    #: PyTorch's class attributes, for code that reads them
    dump_patches: bool = False
    call_super_init: bool = False
    T_destination = TypeVar("T_destination", bound=dict[str, Any])
    _parameters: OrderedDict[str, Parameter | None]
    _buffers: OrderedDict[str, Tensor | None]
    _non_persistent: set[str]  # buffers left out of state_dict()
    #: the layout version of the module's state, in its ``state_dict()``'s metadata
    _version: int = 1

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() takes no arguments")
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", _Table(self))
        object.__setattr__(self, "_buffers", _Table(self))
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", _Table(self))

    def __getstate__(self) -> dict[str, Any]:
        # Pickled (torch.save(model)) in PyTorch's layout, which __setstate__ reads from
        # either library: the wrapped fnnet layer and caches are built again on load.
        from fnnet.torch._whole_objects import torch_layout

        return torch_layout(self)

    def __copy__(self) -> Module:
        # copies keep fnnet.torch's own layout (no rebuilding, as pickling does)
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone

    def __deepcopy__(self, memo: dict[int, Any]) -> Module:
        clone = type(self).__new__(type(self))
        memo[id(self)] = clone
        clone.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return clone

    def __setstate__(self, state: dict[str, Any]) -> None:
        if "_non_persistent_buffers_set" in state:
            from fnnet.torch._whole_objects import module_state

            state = module_state(type(self), state)
        self.__dict__.update(state)
        for name in _TABLES:  # tables of this module, which its entries follow
            if name in state:
                self.__dict__[name] = _Table.of(self, state[name])

    # -- registration -------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        if "_parameters" not in d:
            if isinstance(value, (Parameter, Module)):
                kind = "parameters" if isinstance(value, Parameter) else "module"
                raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
            object.__setattr__(self, name, value)
            return
        if isinstance(value, Buffer):  # nn.Buffer: registered as register_buffer does
            self.register_buffer(name, value._plain(), persistent=value.persistent)
            return
        # a name kept in its own table keeps its place there (state_dict's and
        # parameters()' order, which optimizer state is indexed by), as in PyTorch
        if isinstance(value, Parameter):
            self._modules.pop(name, None)
            self._buffers.pop(name, None)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._parameters.pop(name, None)
            self._buffers.pop(name, None)
            self._modules[name] = value
        elif name in self._parameters:
            if value is not None:
                raise TypeError(f"cannot assign '{typename(value)}' as parameter '{name}' "
                                f"(torch.nn.Parameter or None expected)")
            self._parameters[name] = None
        elif name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign '{typename(value)}' as child module "
                                f"'{name}' (torch.nn.Module or None expected)")
            self._modules[name] = None
        elif name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{typename(value)}' as buffer '{name}' "
                                f"(torch.nn.Buffer, torch.Tensor or None expected)")
            self._buffers[name] = value
        object.__setattr__(self, name, value)

    def _forget(self, name: str, keep: dict[str, Any] | None = None) -> None:
        """Drops ``name`` from the tables of parameters, modules and buffers, except
        ``keep`` (where registering again keeps its place in ``state_dict``, as PyTorch)."""
        for table in (self._parameters, self._modules, self._buffers):
            if table is not keep:
                table.pop(name, None)

    def __delattr__(self, name: str) -> None:
        registered = any(name in self.__dict__[table] for table in _TABLES
                         if table in self.__dict__)
        self._forget(name)  # (which drops a registered member's attribute)
        if not registered or name in self.__dict__:
            object.__delattr__(self, name)

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: an unknown name is PyTorch's
        # AttributeError (so hasattr() is False); a PyTorch feature fnnet.torch lacks is
        # an Unsupported (a NotImplementedError that is also an AttributeError).
        if name in _HOOK_TABLES and "_parameters" in self.__dict__:
            return self._hook_table(name)
        if name in _UNSUPPORTED:
            raise Unsupported(f"fnnet.torch does not support Module.{name}; "
                              f"{_UNSUPPORTED[name]}")
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def _check_new_name(self, kind: str, name: Any, table: str) -> None:
        """PyTorch's checks of the name given to ``register_buffer`` (``kind``
        "buffer", kept in ``table`` "_buffers") or ``register_parameter``: a dot would
        make state_dict keys ambiguous, and another attribute of that name would hide it.
        """
        if table not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
        if "." in name:
            raise KeyError(f"{kind} name can't contain \".\"")
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if hasattr(self, name) and name not in self.__dict__[table]:
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        self._check_new_name("parameter", name, "_parameters")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{typename(param)}' object to parameter "
                            f"'{name}' (torch.nn.Parameter or None required)")
        self._forget(name, keep=self._parameters)
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def register_buffer(self, name: str, tensor: Tensor | None,
                        persistent: bool = True) -> None:
        """Registers a tensor saved in ``state_dict`` but not trained (e.g. running stats)."""
        self._check_new_name("buffer", name, "_buffers")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{typename(tensor)}' object to buffer "
                            f"'{name}' (torch Tensor or None required)")
        self._forget(name, keep=self._buffers)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)
        object.__setattr__(self, name, tensor)

    def add_module(self, name: str, module: Module | None) -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        # PyTorch's checks of the name: a dot would make state_dict keys ambiguous
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {type(name).__name__}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if "." in name:
            raise KeyError(f"module name can't contain \".\", got: {name}")
        if name == "":
            raise KeyError('module name can\'t be empty string ""')
        self._forget(name, keep=self._modules)  # a module added again keeps its place
        self._modules[name] = module
        object.__setattr__(self, name, module)

    register_module = add_module

    # -- traversal ------------------------------------------------------------------
    def named_modules(self, memo: set[Module] | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        memo = set() if memo is None else memo
        if self in memo and remove_duplicate:
            return
        memo.add(self)
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                               remove_duplicate)

    def modules(self, remove_duplicate: bool = True) -> Iterator[Module]:
        for _, m in self.named_modules(remove_duplicate=remove_duplicate):
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def _named(self, table: str, prefix: str, recurse: bool,
               remove_duplicate: bool = True) -> Iterator[tuple[str, Any]]:
        """The tensors of ``table`` by their state_dict names; one shared by several
        modules (tied weights) once, unless ``remove_duplicate`` is False."""
        seen = set()
        modules = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                   if recurse else [(prefix, self)])
        for mod_prefix, module in modules:
            for name, value in getattr(module, table).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        return self._named("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # -- state dict -----------------------------------------------------------------
    def state_dict(self, *args: Any, destination: Any = None, prefix: str = "",
                   keep_vars: bool = False) -> OrderedDict[str, Tensor]:
        """Parameters and persistent buffers by PyTorch's dotted names, in PyTorch's order.

        The tensors share storage with the module's (as in PyTorch), so they follow
        later training steps; copy them (``{k: v.clone() ...}``) to keep a snapshot.
        """
        out = OrderedDict() if destination is None else destination
        if destination is None:  # each module's version, which its load reads back
            out._metadata = OrderedDict()  # type: ignore[union-attr]
        hooks = self.__dict__
        for hook in list(hooks.get("_state_dict_pre_hooks", {}).values()):
            hook(self, prefix, keep_vars)
        local_metadata = {"version": type(self)._version}
        if hasattr(out, "_metadata"):
            out._metadata[prefix[:-1]] = local_metadata
        self._save_own(out, prefix, keep_vars)
        if _overrides(self, "get_extra_state"):
            out[prefix + _EXTRA_STATE] = self.get_extra_state()
        for name, child in self._modules.items():
            if child is not None:
                child.state_dict(destination=out, prefix=f"{prefix}{name}.",
                                 keep_vars=keep_vars)
        for hook in list(hooks.get("_state_dict_hooks", {}).values()):
            result = hook(self, out, prefix, local_metadata)
            if result is not None:  # a hook of _register_state_dict_hook may replace it
                out = result
        return out

    def _save_own(self, out: dict[str, Tensor], prefix: str, keep_vars: bool) -> None:
        """This module's parameters and persistent buffers into ``out``, by name."""
        for name, p in self._parameters.items():
            if p is not None:
                out[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                out[prefix + name] = b if keep_vars else b.detach()

    def get_extra_state(self) -> Any:
        """What a subclass keeps in its ``state_dict`` beside tensors (under the key
        ``_extra_state``); a subclass that has some overrides this and
        :meth:`set_extra_state`. PyTorch equivalent: ``Module.get_extra_state``."""
        raise RuntimeError("Reached a code path in Module.get_extra_state() that should "
                           "never be called.")

    def set_extra_state(self, state: Any) -> None:
        """Takes back what :meth:`get_extra_state` returned, from ``load_state_dict``.
        PyTorch equivalent: ``Module.set_extra_state``."""
        raise RuntimeError("Reached a code path in Module.set_extra_state() that should "
                           "never be called.")

    def _extra_states(self) -> dict[str, Module]:
        """The modules whose class takes extra state back (``set_extra_state``), by the
        key of that state in a ``state_dict``, in its order."""
        return {f"{name}.{_EXTRA_STATE}" if name else _EXTRA_STATE: module
                for name, module in self.named_modules(remove_duplicate=False)
                if _overrides(module, "set_extra_state")}

    def _state_tensors(self, out: dict[str, Tensor], prefix: str = "") -> dict[str, Tensor]:
        """``state_dict(keep_vars=True)`` without running the state-dict hooks."""
        self._save_own(out, prefix, True)
        for name, child in self._modules.items():
            if child is not None:
                child._state_tensors(out, f"{prefix}{name}.")
        return out

    def _load_hooked(self, state_dict: Mapping[str, Any], assign: bool
                     ) -> tuple[_IncompatibleKeys, list[str]]:
        """``load_state_dict`` where hooks are registered, as PyTorch's runs: module by
        module, parents first, each module's load pre-hooks on a copy of the entries
        under its prefix (which they may change), then its own values copied, then its
        children's loads, then its post-hooks on the keys found so far (which they may
        change in place). Returns the keys and the errors of the whole load."""
        metadata = getattr(state_dict, "_metadata", None)
        keys = _IncompatibleKeys([], [])
        errors: list[str] = []

        def load(module: Module, local: dict[str, Any], prefix: str) -> None:
            local_metadata = {} if metadata is None else metadata.get(prefix[:-1], {})
            for hook in list(module.__dict__.get("_load_state_dict_pre_hooks", {}).values()):
                # PyTorch's load gives each module strict=True, and filters at the end
                hook(module, local, prefix, local_metadata, True, keys.missing_keys,
                     keys.unexpected_keys, errors)
            own: dict[str, Tensor] = {}
            module._save_own(own, prefix, True)
            keys.missing_keys.extend(_missing(own, local, {prefix[:-1]: local_metadata}))
            extra = prefix + _EXTRA_STATE if _overrides(module, "set_extra_state") else None
            if extra is not None and extra not in local:
                keys.missing_keys.append(extra)
            for key in local:
                if key.startswith(prefix) and key != extra:
                    name, dot, _ = key[len(prefix):].partition(".")
                    if (name not in module._modules) if dot else (key not in own):
                        keys.unexpected_keys.append(key)
            module._copy_loaded(own, _checked_values(own, local, assign, errors), assign)
            if extra in local:
                module.set_extra_state(local[extra])
            for name, child in module._modules.items():
                if child is not None:
                    inner = f"{prefix}{name}."
                    load(child, {k: v for k, v in local.items() if k.startswith(inner)}, inner)
            for hook in list(module.__dict__.get("_load_state_dict_post_hooks", {}).values()):
                if hook(module, keys) is not None:
                    raise AssertionError(_RETURNED_KEYS)

        load(self, OrderedDict(state_dict), "")
        return keys, errors

    # -- state dict hooks ---------------------------------------------------------------
    def register_state_dict_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """``hook(module, prefix, keep_vars)`` runs before this module's entries are
        added to a ``state_dict``. PyTorch: ``Module.register_state_dict_pre_hook``."""
        return self._add_hook("_state_dict_pre_hooks", hook, False, False, False)

    def register_state_dict_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """``hook(module, state_dict, prefix, local_metadata)`` runs after this module's
        entries (and its children's) are in ``state_dict``, which it may change in place;
        it must return None. PyTorch: ``Module.register_state_dict_post_hook``."""
        def in_place(module: Module, state: Any, prefix: str, metadata: Any) -> None:
            if hook(module, state, prefix, metadata) is not None:
                raise RuntimeError("state_dict post-hook must return None")

        return self._add_hook("_state_dict_hooks", in_place, False, False, False)

    def _register_state_dict_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """The older post-hook, whose returned dict replaces the root's ``state_dict``."""
        return self._add_hook("_state_dict_hooks", hook, False, False, False)

    def register_load_state_dict_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` runs before ``load_state_dict`` reads this
        module's entries; it may change ``state_dict`` in place (rename keys).

        PyTorch equivalent: ``Module.register_load_state_dict_pre_hook``.
        """
        return self._add_hook("_load_state_dict_pre_hooks", hook, False, False, False)

    def _register_load_state_dict_pre_hook(self, hook: Callable[..., Any],
                                           with_module: bool = False) -> RemovableHandle:
        """The older form: ``hook`` takes the module first only ``with_module``."""
        def call(module: Module, *args: Any) -> Any:
            return hook(module, *args) if with_module else hook(*args)

        return self._add_hook("_load_state_dict_pre_hooks", call, False, False, False)

    def register_load_state_dict_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """``hook(module, incompatible_keys)`` runs after ``load_state_dict`` and may
        change ``incompatible_keys.missing_keys``/``unexpected_keys`` in place, before
        ``strict`` checks them; it must return None.

        PyTorch equivalent: ``Module.register_load_state_dict_post_hook``.
        """
        return self._add_hook("_load_state_dict_post_hooks", hook, False, False, False)

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True,
                        assign: bool = False) -> IncompatibleKeys:
        """Copies values (Tensors, numpy or jax arrays) into the parameters and buffers.

        Every value is checked (and converted) before any is copied: a failed load
        leaves every parameter and buffer as it was.

        With ``assign=True`` the loaded values replace the parameters and buffers, with
        the checkpoint's dtypes: each parameter becomes a new Parameter whose
        ``requires_grad`` is the old one's, as PyTorch's. The new tensors hold copies of
        the checkpoint's values (PyTorch's share its storage). This is the load after
        ``with torch.device("meta"): model = Net()``, whose tensors fnnet.torch makes
        with values like any other.

        Where load hooks are registered, the load runs as PyTorch's, module by module
        (parents first): a module's pre-hooks see and may change a copy of the entries
        under its prefix (with its ``_version`` in the metadata ``state_dict()``
        attached), then its values are copied, then its children load, then its
        post-hooks see the missing and unexpected keys found so far, which they may
        change before ``strict`` checks them. Such a load that fails only that check (or
        an error a hook adds) has copied the values, as PyTorch's has.

        Raises:
            TypeError: ``state_dict`` is not a mapping (PyTorch's message).
            RuntimeError: PyTorch's message listing missing/unexpected keys (when
                ``strict``), size mismatches, and values that are no tensors or hold no
                real numbers (strings, objects, complex), each by its key.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        if any(m.__dict__.get("_load_state_dict_pre_hooks") or
               m.__dict__.get("_load_state_dict_post_hooks") for m in self.modules()):
            keys, errors = self._load_hooked(state_dict, assign)
            own: dict[str, Tensor] = {}
            values: dict[str, Any] = {}
            extras: dict[str, Module] = {}  # (a hooked load has set them)
        else:
            own = self._state_tensors(OrderedDict())
            extras = self._extra_states()
            keys = _IncompatibleKeys([], [])
            errors = []
            metadata = getattr(state_dict, "_metadata", None) or {}
            keys.missing_keys.extend(_missing(own, state_dict, metadata))
            keys.unexpected_keys.extend(k for k in state_dict if k not in own and
                                        k not in extras)
            if extras:
                _add_missing_extras(self, keys.missing_keys, extras, state_dict)
            values = _checked_values(own, state_dict, assign, errors)
        missing, unexpected = keys
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: " +
                              ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: " +
                              ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:"
                               "\n\t" + "\n\t".join(errors))
        self._copy_loaded(own, values, assign)  # (a hooked load has copied its values)
        for key, module in extras.items():
            if key in state_dict:
                module.set_extra_state(state_dict[key])
        return keys

    def _copy_loaded(self, own: dict[str, Tensor], values: dict[str, Any],
                     assign: bool) -> None:
        """The checked ``values`` into the tensors of ``own`` (or, with ``assign``, as
        new ones)."""
        if assign:
            self._assign_loaded(own, values)
            return
        # Every cast before the first copy, so that nothing changes unless all succeed.
        cast = {name: jnp.asarray(array, own[name]._cell.aval[1])
                for name, array in values.items()}
        for name, array in cast.items():
            set_value(own[name], array)
            if is_lazy(own[name]):  # a lazy module's placeholder takes the loaded shape
                own[name]._materialize(own[name]._cell.val)

    def _assign_loaded(self, own: dict[str, Tensor], values: dict[str, Any]) -> None:
        """``load_state_dict(assign=True)``: each named tensor of ``own`` is replaced by a
        new one holding ``values[name]``, all made before the first is set."""
        new: dict[str, Tensor] = {}
        for name, array in values.items():
            old = own[name]
            array = jnp.array(array, copy=True)
            if isinstance(old, Parameter):
                new[name] = Parameter._from_array(array, old.requires_grad)
            else:
                new[name] = _as_tensor(array)
        for name, tensor in new.items():
            path, _, attr = name.rpartition(".")
            owner = self.get_submodule(path)
            if is_lazy(own[name]):  # a lazy module's placeholder takes the loaded shape
                own[name]._materialize(tensor._cell.val)
            elif isinstance(tensor, Parameter):
                owner._parameters[attr] = tensor
                object.__setattr__(owner, attr, tensor)
            else:
                owner._buffers[attr] = tensor
                object.__setattr__(owner, attr, tensor)

    # -- modes and gradients -----------------------------------------------------------
    def train(self, mode: bool = True) -> Self:
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> Self:
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        zero_grads(self.parameters(), set_to_none)

    def requires_grad_(self, requires_grad: bool = True) -> Self:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def apply(self, fn: Callable[[Module], object]) -> Self:
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def set_submodule(self, target: str, module: Module, strict: bool = False) -> None:
        """Puts ``module`` at the dotted path ``target`` (``"layer1.0.conv1"``), replacing
        the submodule there or, unless ``strict``, adding one.

        Raises:
            ValueError: an empty ``target``, or ``module`` is not a Module (PyTorch's
                words).
            AttributeError: a path through a missing submodule, a name that is another
                kind of attribute, or (``strict``) a new name.

        PyTorch equivalent: ``Module.set_submodule``.
        """
        if not target:
            raise ValueError("Cannot set the submodule without a target name!")
        path, _, name = target.rpartition(".")
        parent = self.get_submodule(path)
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {builtins.type(module)}")
        if name in parent._modules or hasattr(parent, name):
            if not isinstance(getattr(parent, name, None), Module):
                raise AttributeError(f"`{name}` is not an nn.Module")
        elif strict:
            raise AttributeError(f"{parent._get_name()} has no attribute `{name}`")
        setattr(parent, name, module)

    def get_submodule(self, target: str) -> Module:
        """The submodule at the dotted path ``target`` (``"layer1.0.conv1"``; ``""`` is
        this module). PyTorch equivalent: ``Module.get_submodule``."""
        module = self
        for name in target.split(".") if target else ():
            child = module._modules.get(name)
            if not isinstance(child, Module):
                raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
            module = child
        return module

    def _get_member(self, target: str, kind: str) -> Tensor:
        """The parameter (``kind`` ``"_parameters"``) or buffer at dotted path ``target``."""
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        table = getattr(module, kind)
        if name in table and table[name] is not None:
            member: Tensor = table[name]
            return member
        if not hasattr(module, name):
            raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
        raise AttributeError(f"`{name}` is not " + (
            "an nn.Parameter" if kind == "_parameters" else "a buffer"))

    def get_parameter(self, target: str) -> Tensor:
        """The parameter at the dotted path ``target`` (``"fc.weight"``).

        PyTorch equivalent: ``Module.get_parameter``."""
        return self._get_member(target, "_parameters")

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at the dotted path ``target`` (``"bn.running_mean"``).

        PyTorch equivalent: ``Module.get_buffer``."""
        return self._get_member(target, "_buffers")

    def compile(self, *args: Any, **kwargs: Any) -> None:
        """Accepted: fnnet.torch compiles every training step already (see
        ``torch.compile``). PyTorch equivalent: ``Module.compile``."""

    def to(self, *args: Any, **kwargs: Any) -> Self:
        """Casts the floating parameters and buffers to a dtype (``to(dtype)``,
        ``to(device, dtype)``, ``to(tensor)`` or keywords). The device is checked (see
        ``fnnet.torch.device.check_placement``); the arrays stay where JAX placed them.

        Raises:
            TypeError: a dtype that is not floating, as PyTorch's.

        PyTorch equivalent: ``torch.nn.Module.to``.
        """
        dtype, dev = kwargs.get("dtype"), kwargs.get("device")
        for a in args:
            if isinstance(a, _dtypes.dtype):
                dtype = a
            elif isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, (str, int, _device)) and not isinstance(a, bool):
                dev = a  # positional bools are non_blocking
        check_placement(dev)
        if dtype is not None:
            if not _dtypes.from_np(_dtypes.to_np(dtype)).is_floating_point:
                raise TypeError(f"nn.Module.to only accepts floating point or complex "
                                f"dtypes, but got desired dtype={dtype}")
            self._cast_floating(dtype)
        return self

    def _cast_floating(self, dtype: Any) -> None:
        """Casts every floating parameter and buffer, here and in submodules, in place."""
        for t in list(self.parameters()) + list(self.buffers()):
            if t.is_floating_point():
                set_value(t, t.detach().to(dtype)._value())

    def _factory_kwargs(self, device: Any, dtype: Any) -> None:
        """Applies a constructor's ``device=`` and ``dtype=``, PyTorch's factory keywords:
        checks the device (see ``fnnet.torch.device.check_placement``) and casts the
        floating parameters and buffers to ``dtype`` (integer buffers, such as
        BatchNorm's ``num_batches_tracked``, keep theirs). Called at the end of the
        constructors that take them.

        Raises:
            RuntimeError: a dtype that is not floating for a module with parameters
                (they require gradients), as PyTorch's.
        """
        check_placement(device)
        if dtype is None:
            return
        if not _dtypes.from_np(_dtypes.to_np(dtype)).is_floating_point and \
                next(self.parameters(), None) is not None:
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               "gradients")
        self._cast_floating(dtype)

    def cpu(self) -> Self:
        return self

    def to_empty(self, *, device: Any, recurse: bool = True) -> Self:
        """The module, its tensors given storage on ``device`` without initial values.

        fnnet.torch makes every tensor with values, a meta-device module's too, so this
        checks ``device`` (see ``fnnet.torch.device.check_placement``) and keeps them:
        PyTorch's leaves the values undefined, for ``load_state_dict`` or an init to set.

        PyTorch equivalent: ``torch.nn.Module.to_empty``.
        """
        del recurse
        if not isinstance(device, (str, int, _device)) or isinstance(device, bool):
            raise TypeError(f"empty_like(): argument 'device' must be torch.device, not "
                            f"{type(device).__name__}")
        check_placement(device)
        return self

    def cuda(self, device: Any = None) -> Self:
        """Checks the CUDA device (``"cuda"`` unless ``device``) as :meth:`to` does.

        PyTorch equivalent: ``torch.nn.Module.cuda``."""
        check_cuda(device)
        return self

    def float(self) -> Self:
        return self.to(_dtypes.float32)

    def double(self) -> Self:
        return self.to(_dtypes.float64)

    def half(self) -> Self:
        return self.to(_dtypes.float16)

    def bfloat16(self) -> Self:
        return self.to(_dtypes.bfloat16)

    def type(self, dst_type: Any) -> Self:
        """Casts every parameter and buffer, integer ones too, to ``dst_type`` (a dtype,
        or a tensor type such as ``torch.DoubleTensor`` or its name), as ``Tensor.type``
        casts a tensor.

        PyTorch equivalent: ``torch.nn.Module.type``.
        """
        for t in list(self.parameters()) + list(self.buffers()):
            set_value(t, t.detach().type(dst_type)._value())
        return self

    # -- forward hooks ------------------------------------------------------------------
    def register_forward_pre_hook(self, hook: Callable[..., Any], *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Calls ``hook(module, args)`` before each ``forward`` (``hook(module, args,
        kwargs)`` with ``with_kwargs``); what it returns, unless None, replaces the
        arguments (a non-tuple is the one positional argument; with ``with_kwargs``, an
        ``(args, kwargs)`` pair).

        Hooks run in Python as the step is recorded, so they see (and may change) the
        tensors of every call, as PyTorch's; the step still compiles once.

        Returns:
            A handle whose ``remove()`` drops the hook.
        """
        return self._add_hook("_forward_pre_hooks", hook, prepend, with_kwargs, False)

    def register_forward_hook(self, hook: Callable[..., Any], *, prepend: bool = False,
                              with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """Calls ``hook(module, args, output)`` after each ``forward`` (``hook(module,
        args, kwargs, output)`` with ``with_kwargs``); what it returns, unless None,
        replaces the output. With ``always_call`` it also runs when ``forward`` raised.

        Returns:
            A handle whose ``remove()`` drops the hook.
        """
        return self._add_hook("_forward_hooks", hook, prepend, with_kwargs, always_call)

    def register_full_backward_hook(self, hook: Callable[..., Any], prepend: bool = False
                                    ) -> RemovableHandle:
        """Calls ``hook(module, grad_input, grad_output)`` in each backward through a call
        of this module: the gradients of its positional tensor inputs (None where one
        needs none) and of its outputs. The hook may read them but not replace them
        (returning new gradients raises NotImplementedError; see
        :mod:`fnnet.torch.nn.modules._backward_hooks`).

        Returns:
            A handle whose ``remove()`` drops the hook.

        PyTorch equivalent: ``nn.Module.register_full_backward_hook``.
        """
        return self._add_hook("_backward_hooks", hook, prepend, False, False)

    def register_full_backward_pre_hook(self, hook: Callable[..., Any], prepend: bool = False
                                        ) -> RemovableHandle:
        """Calls ``hook(module, grad_output)`` in each backward through a call of this
        module, once its outputs' gradients are known (read-only, as
        :meth:`register_full_backward_hook`'s).

        PyTorch equivalent: ``nn.Module.register_full_backward_pre_hook``.
        """
        return self._add_hook("_backward_pre_hooks", hook, prepend, False, False)

    def _hook_table(self, table: str) -> OrderedDict[int, Any]:
        """The module's dict ``table`` (made on first use): ``{handle id: hook}`` as
        PyTorch's ``_forward_pre_hooks``..., or ``{handle id: True}`` for the option
        tables ``_forward_hooks_with_kwargs``..."""
        hooks = self.__dict__.get(table)
        if hooks is None:
            hooks = OrderedDict()
            object.__setattr__(self, table, hooks)
        return hooks

    def _add_hook(self, table: str, hook: Callable[..., Any], prepend: bool,
                  with_kwargs: bool, always_call: bool) -> RemovableHandle:
        if not callable(hook):
            raise TypeError(f"hook must be callable, got {type(hook).__name__}")
        # PyTorch's layout: the hooks by id, their options in tables of their own (a
        # pruning tutorial walks module._forward_pre_hooks.values() for the hooks)
        hooks = self._hook_table(table)
        options = [(self._hook_table(f"{table}_with_kwargs"), with_kwargs)] \
            if table.startswith("_forward") else []
        if table == "_forward_hooks":
            options.append((self._hook_table("_forward_hooks_always_called"), always_call))
        handle = RemovableHandle(hooks, *(t for t, _ in options))
        hooks[handle.id] = hook
        for option, on in options:
            if on:
                option[handle.id] = True
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def _hooks_with(self, table: str, *options: str) -> list[tuple[Any, ...]]:
        """``(hook, *whether each option table holds it)`` for the hooks of ``table``."""
        d = self.__dict__
        return [(hook, *(key in d.get(option, ()) for option in options))
                for key, hook in list(d.get(table, {}).items())]

    def _call_with_hooks(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        # the hooks on every module (register_module_forward_hook...) run first
        pre_hooks = [(hook, False) for hook in list(_global_forward_pre_hooks.values())]
        for hook, with_kwargs in pre_hooks + self._hooks_with(
                "_forward_pre_hooks", "_forward_pre_hooks_with_kwargs"):
            if with_kwargs:
                changed = hook(self, args, kwargs)
                if changed is not None:
                    if not (isinstance(changed, tuple) and len(changed) == 2):
                        raise RuntimeError("forward pre-hook must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {changed}.")
                    args, kwargs = changed
            else:
                changed = hook(self, args)
                if changed is not None:
                    args = changed if isinstance(changed, tuple) else (changed,)
        backward = [list(every.values()) + list(self.__dict__.get(table, {}).values())
                    for every, table in ((_global_backward_hooks, "_backward_hooks"),
                                         (_global_backward_pre_hooks, "_backward_pre_hooks"))]
        call = BackwardCall(self, backward[0], backward[1], args) if any(backward) else None
        if call is not None:
            args = call.inputs()
        hooks = [(hook, key in _global_forward_hooks_with_kwargs,
                  key in _global_forward_hooks_always_called)
                 for key, hook in list(_global_forward_hooks.items())]
        hooks += self._hooks_with("_forward_hooks", "_forward_hooks_with_kwargs",
                                  "_forward_hooks_always_called")
        try:
            output = self.forward(*args, **kwargs)
        except Exception:
            for hook, with_kwargs, always_call in hooks:
                if always_call:
                    try:
                        hook(self, args, kwargs, None) if with_kwargs else hook(self, args, None)
                    except Exception:  # noqa: BLE001,S110 - forward's error is the one raised
                        pass
            raise
        for hook, with_kwargs, _ in hooks:
            changed = hook(self, args, kwargs, output) if with_kwargs else \
                hook(self, args, output)
            if changed is not None:
                output = changed
        if call is not None:
            output = call.watch(output)
        return output

    # -- calling ------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  f'"forward" function')

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        d = self.__dict__
        if d.get("_forward_pre_hooks") or d.get("_forward_hooks") or \
                d.get("_backward_hooks") or d.get("_backward_pre_hooks") or \
                _global_forward_pre_hooks or _global_forward_hooks or \
                _global_backward_hooks or _global_backward_pre_hooks:
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    def extra_repr(self) -> str:
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): {_addindent(repr(m), 2)}"
                       for name, m in self._modules.items()]
        lines = extra_lines + child_lines
        main = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()))


def __getattr__(name: str) -> Any:
    if name.startswith("register_module_"):
        what = "register_module_full_backward_hook (PyTorch deprecates this one)" \
            if name == "register_module_backward_hook" else \
            "register_module_forward_pre_hook / register_module_forward_hook, or the " \
            "module's own hooks"
        raise Unsupported(f"fnnet.torch does not support torch.nn.modules.module.{name}; "
                          f"use {what}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
