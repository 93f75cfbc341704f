"""Whole objects in ``torch.save`` files: ``torch.save(model, f)`` and
``torch.load(f, weights_only=False)``.

PyTorch pickles a whole module (its class by name, its attributes, its tensors as
storages) and unpickles it only when the caller says the file is trusted
(``weights_only=False``, or the classes listed by ``add_safe_globals``). fnnet.torch does
the same with its own classes, in PyTorch's archive layout (``data.pkl`` and aligned
storage records), and reads PyTorch's whole modules too: each ``torch.nn`` class named by
the file is fnnet.torch's class of that name, rebuilt from the arguments PyTorch keeps as
attributes (``in_features``, ``kernel_size``...), its parameters and buffers the file's.
"""

from __future__ import annotations

import _compat_pickle
import importlib
import inspect
import io
import pickle
import pickletools
from collections import OrderedDict
from typing import Any

import numpy as np

from fnnet.interop.torch_file import (
    STORAGE_DTYPES,
    NotWeightsOnly,
    load_torch_file,
    weights_only_global,
)
from fnnet.torch._torch_zip import archive_bytes, host_array, storage_type

#: keys of a PyTorch module's ``__dict__`` that are its machinery, not its attributes
_TORCH_MODULE_KEYS = frozenset({
    "training", "_parameters", "_buffers", "_non_persistent_buffers_set", "_modules",
    "_backward_pre_hooks", "_backward_hooks", "_is_full_backward_hook", "_forward_hooks",
    "_forward_hooks_with_kwargs", "_forward_hooks_always_called", "_forward_pre_hooks",
    "_forward_pre_hooks_with_kwargs", "_state_dict_hooks", "_state_dict_pre_hooks",
    "_load_state_dict_pre_hooks", "_load_state_dict_post_hooks", "_compiled_call_impl",
})

_DOCS = "https://pytorch.org/docs/stable/generated/torch.load.html"


class UnpicklingError(NotWeightsOnly):
    """PyTorch's refusal of a global a weights-only load does not allow, under the name
    PyTorch's error has (``pickle.UnpicklingError``); also a ValueError."""


class _StorageRef:
    """A tensor's elements while pickling: written as a persistent id, the array as a
    storage record of the archive."""

    __slots__ = ("key", "numel", "type_name")

    def __init__(self, key: str, type_name: str, numel: int) -> None:
        self.key, self.type_name, self.numel = key, type_name, numel


def rebuild_tensor(storage: Any, shape: tuple[int, ...], requires_grad: bool) -> Any:
    """A tensor of fnnet.torch from a storage record (the pickle's tensor rebuilder)."""
    from fnnet.torch.tensor import _as_tensor

    values = storage.values
    if not isinstance(shape, tuple) or int(np.prod(shape)) != values.size:
        raise ValueError(f"a tensor of shape {shape!r} does not fit its storage of "
                         f"{values.size} elements")
    tensor = _as_tensor(values.reshape(shape))
    return tensor.requires_grad_() if requires_grad else tensor


def rebuild_parameter(storage: Any, shape: tuple[int, ...], requires_grad: bool) -> Any:
    """An ``nn.Parameter`` of fnnet.torch from a storage record."""
    from fnnet.torch.nn.parameter import Parameter

    return Parameter(rebuild_tensor(storage, shape, False), requires_grad=requires_grad)


def _torch_stand_in(module: str, name: str) -> Any:
    """A function of this module standing for PyTorch's global ``module.name`` in a
    pickle being written; never called. Python's pickler writes a global by name only
    where it can import it, and PyTorch is not imported here: :func:`_as_pytorch_wrote`
    puts PyTorch's name in its place."""

    def stand_in(*args: Any) -> Any:
        raise TypeError(f"{module}.{name} is PyTorch's, named in a pickle")

    stand_in.__name__ = stand_in.__qualname__ = f"_torch_{name}"
    globals()[stand_in.__name__] = stand_in  # where the pickler looks it up
    return stand_in


#: PyTorch's global name -> this module's stand-in for it
_STAND_INS = {name: _torch_stand_in(module, name)
              for module, name in (("torch._utils", "_rebuild_tensor_v2"),
                                   ("torch._utils", "_rebuild_parameter"),
                                   *(("torch", storage) for storage in STORAGE_DTYPES))}
#: a stand-in's GLOBAL argument as pickletools reads it -> PyTorch's, as pickle writes it
_WRITTEN_AS = {f"{__name__} _torch_{name}":
               f"{'torch' if name in STORAGE_DTYPES else 'torch._utils'}\n{name}\n".encode()
               for name in _STAND_INS}


class _HeldTensor:
    """A parameter's values while pickling, pickled as the plain tensor PyTorch's
    ``_rebuild_parameter`` takes."""

    __slots__ = ("array",)

    def __init__(self, array: np.ndarray) -> None:
        self.array = array


class _ObjectPickler(pickle.Pickler):
    """Python's pickler (protocol 2, as ``torch.save``'s), each tensor written as PyTorch
    writes it (``torch._utils._rebuild_tensor_v2`` of a storage record, a parameter by
    ``_rebuild_parameter``), so that PyTorch's ``torch.load`` reads the tensors of a file
    holding other objects too (numpy's arrays, a whole model); a tensor reached twice
    (tied weights) is pickled once."""

    def __init__(self, file: io.BytesIO) -> None:
        super().__init__(file, protocol=2)
        self.storages: list[np.ndarray] = []

    def persistent_id(self, obj: Any) -> Any:
        if type(obj) is _StorageRef:
            return ("storage", _STAND_INS[obj.type_name], obj.key, "cpu", obj.numel)
        return None

    def _tensor_reduction(self, array: np.ndarray, requires_grad: bool) -> Any:
        ref = _StorageRef(str(len(self.storages)), storage_type(array, ""), array.size)
        self.storages.append(array.reshape(-1))
        shape = tuple(int(n) for n in array.shape)
        stride = tuple(int(np.prod(shape[i + 1:])) for i in range(len(shape)))
        return _STAND_INS["_rebuild_tensor_v2"], (ref, 0, shape, stride, requires_grad,
                                                  OrderedDict())

    def reducer_override(self, obj: Any) -> Any:
        from fnnet.torch.nn._uninitialized import is_lazy
        from fnnet.torch.nn.parameter import Parameter
        from fnnet.torch.tensor import Tensor

        if type(obj) is _HeldTensor:
            return self._tensor_reduction(obj.array, False)
        if not isinstance(obj, Tensor):
            return NotImplemented
        if is_lazy(obj):  # a lazy module's placeholder: no values, as PyTorch pickles it
            return type(obj), (bool(obj.requires_grad),)
        array = host_array(obj)
        assert array is not None  # a tensor always has its values
        if isinstance(obj, Parameter):
            return _STAND_INS["_rebuild_parameter"], (
                _HeldTensor(array), bool(obj.requires_grad), OrderedDict())
        return self._tensor_reduction(array, bool(obj.requires_grad))


def _as_pytorch_wrote(pickled: bytes) -> bytes:
    """``pickled`` with each stand-in's global written as PyTorch's (a protocol 2
    pickle has no frames, so the opcodes after it need no change)."""
    pieces, done = [], 0
    for opcode, arg, pos in pickletools.genops(pickled):
        if opcode.name == "GLOBAL" and arg in _WRITTEN_AS:
            assert pos is not None
            pieces += [pickled[done:pos], b"c" + _WRITTEN_AS[arg]]
            done = pos + 1 + len(arg) + 1  # "c", "module\nname\n"
    return b"".join([*pieces, pickled[done:]])


def object_zip_bytes(obj: Any) -> bytes:
    """``obj``, any picklable object holding fnnet.torch tensors (a module, an
    optimizer), as a ``torch.save`` archive. Pickling errors are Python's, as PyTorch's
    are (a lambda: ``PicklingError``)."""
    buffer = io.BytesIO()
    pickler = _ObjectPickler(buffer)
    pickler.dump(obj)
    return archive_bytes(_as_pytorch_wrote(buffer.getvalue()), pickler.storages)


def python3_name(module: str, name: str) -> tuple[str, str]:
    """A global's module and name in Python 3, as pickle maps them: pickles of protocol
    2 name builtins by Python 2's names (``__builtin__.xrange`` is ``builtins.range``)."""
    module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


def _torch_name(module: str, name: str) -> str:
    """A global's name as PyTorch's refusal shows it: fnnet.torch's classes are torch's,
    and a builtin is its bare name (``frozenset``)."""
    module, name = python3_name(module, name)
    if module == "fnnet.torch" or module.startswith("fnnet.torch."):
        module = module[len("fnnet."):]
    return name if module == "builtins" else f"{module}.{name}"


def refusal(module: str, name: str) -> str:
    """PyTorch's message for a global a weights-only load refuses."""
    shown = _torch_name(module, name)
    return (
        "Weights only load failed. This file can still be loaded, to do so you have two "
        "options, \x1b[1mdo those steps only if you trust the source of the "
        "checkpoint\x1b[0m. \n\t(1) In PyTorch 2.6, we changed the default value of the "
        "`weights_only` argument in `torch.load` from `False` to `True`. Re-running "
        "`torch.load` with `weights_only` set to `False` will likely succeed, but it can "
        "result in arbitrary code execution. Do it only if you got the file from a "
        "trusted source.\n\t(2) Alternatively, to load with `weights_only=True` please "
        "check the recommended steps in the following error message.\n\tWeightsUnpickler "
        f"error: Unsupported global: GLOBAL {shown} was not an allowed global by default. "
        f"Please use `torch.serialization.add_safe_globals([{shown}])` or the "
        f"`torch.serialization.safe_globals([{shown}])` context manager to allowlist this "
        "global if you trust this class/function.\n\nCheck the documentation of "
        f"torch.load to learn more about types accepted by default with weights_only "
        f"{_DOCS}.")


def _import_global(module: str, name: str) -> Any:
    """``module.name`` imported as pickle imports it, with pickle's error for a name the
    module lacks (a class defined in the saving script but not in the loading one)."""
    module, name = python3_name(module, name)
    found: Any = importlib.import_module(module)
    owner = found
    for part in name.split("."):
        if not hasattr(found, part):
            raise AttributeError(f"Can't get attribute {name!r} on {owner!r}")
        found = getattr(found, part)
    return found


#: where PyTorch's built-in functions are pickled from, and fnnet.torch's module of them:
#: ``F.gelu`` is ``torch._C._nn.gelu``; ``torch.tanh`` is ``getattr`` of the class
#: ``torch._C._VariableFunctionsClass``, whose counterpart is fnnet.torch itself
_BUILTIN_HOMES = {"torch._C._nn": "fnnet.torch.nn.functional"}


def _fnnet_counterpart(module: str, name: str) -> Any:
    """fnnet.torch's object for PyTorch's global ``module.name`` (``torch.nn.modules.
    linear.Linear`` -> fnnet.torch's ``nn.Linear``, ``torch._C._nn.gelu`` -> fnnet.torch's
    ``nn.functional.gelu``)."""
    try:
        return _import_global("fnnet." + module, name)
    except (ImportError, AttributeError):
        pass
    builtin = _BUILTIN_HOMES.get(module)
    found: Any
    if (module, name) == ("torch._C", "_VariableFunctionsClass"):
        found = importlib.import_module("fnnet.torch")
    elif builtin is not None:
        found = getattr(importlib.import_module(builtin), name, None)
    else:  # a class moved within its package; never a function of the same name
        # elsewhere (torch.return_types.max is not torch.max)
        package = "fnnet.torch.nn" if module.startswith("torch.nn") else \
            "fnnet.torch.optim" if module.startswith("torch.optim") else "fnnet.torch"
        found = getattr(importlib.import_module(package), name, None)
        found = found if isinstance(found, type) else None
    if found is None:
        raise NotImplementedError(f"torch.load: the file holds PyTorch's {module}.{name}, "
                                  f"which fnnet.torch does not have")
    return found


def _torch_tensor(storage: Any, offset: Any, size: Any, stride: Any,
                  requires_grad: Any = False, *rest: Any) -> Any:
    """PyTorch's ``_rebuild_tensor_v2`` giving an fnnet.torch tensor."""
    from fnnet.torch.tensor import _as_tensor

    del rest
    array = weights_only_global("torch._utils", "_rebuild_tensor_v2")(
        storage, offset, size, stride)
    tensor = _as_tensor(array)
    return tensor.requires_grad_() if requires_grad else tensor


def _torch_parameter(data: Any, requires_grad: Any = True, hooks: Any = None,
                     state: Any = None) -> Any:
    """PyTorch's ``_rebuild_parameter`` (and ``_with_state``) giving an
    fnnet.torch ``nn.Parameter``."""
    from fnnet.torch.nn.parameter import Parameter

    del hooks
    param = Parameter(data.detach(), requires_grad=bool(requires_grad))
    for key, value in (state or {}).items():
        setattr(param, key, value)
    return param


def _torch_from_type(func: Any, new_type: Any, args: Any, state: Any) -> Any:
    """PyTorch's ``_rebuild_from_type_v2`` (a tensor saved with attributes of its own, or
    ``nn.Buffer``'s flags) giving the fnnet.torch tensor ``func`` rebuilds; fnnet.torch's
    tensors hold no attributes of their own, so these are not kept."""
    del new_type, state
    return func(*args)


_TORCH_REBUILDERS = {"_rebuild_tensor_v2": _torch_tensor,
                     "_rebuild_parameter": _torch_parameter,
                     "_rebuild_parameter_with_state": _torch_parameter}
#: fnnet.torch's own rebuilders, which a weights-only load accepts as PyTorch's
_OWN_REBUILDERS = frozenset({(__name__, "rebuild_tensor"), (__name__, "rebuild_parameter")})


def _global_name(value: Any) -> str:
    """The ``module.qualname`` of an entry of ``add_safe_globals``."""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], str):
        return value[1]  # PyTorch's (global, "module.name") form
    return f"{getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', value)}"


def refused(module: str, name: str, allowed: list[Any]) -> bool:
    """Whether a weights-only load refuses the global ``module.name``, beyond the
    weights-only ones and the entries ``allowed`` of ``add_safe_globals`` (a class
    listed by its fnnet.torch object stands for PyTorch's of that name)."""
    if weights_only_global(module, name) is not None or (module, name) in _OWN_REBUILDERS:
        return False
    names = {_global_name(entry) for entry in allowed}
    module, name = python3_name(module, name)
    if f"{module}.{name}" in names or f"fnnet.{module}.{name}" in names:
        return False
    if module.split(".")[0] != "torch":
        return True
    try:
        counterpart = _fnnet_counterpart(module, name)
    except NotImplementedError:  # refused as PyTorch refuses it
        return True
    return not any(entry is counterpart or (isinstance(entry, tuple) and entry
                                            and entry[0] is counterpart)
                   for entry in allowed)


def _resolver(allowed: list[Any] | None) -> Any:
    """``find_class`` for a pickle of whole objects. ``allowed``: None to resolve every
    global (``weights_only=False``), else the entries of ``add_safe_globals``: a global
    beyond the weights-only ones and these is refused with PyTorch's message, before
    its module is imported."""

    def find_class(module: str, name: str) -> Any:
        if module == "torch._utils" and name in _TORCH_REBUILDERS:
            return _TORCH_REBUILDERS[name]
        if (module, name) == ("torch._tensor", "_rebuild_from_type_v2"):
            return _torch_from_type
        plain = weights_only_global(module, name)
        if isinstance(plain, tuple):
            return plain  # a storage type
        torch_name = module.split(".")[0] == "torch"
        if plain is not None and not torch_name:
            return plain  # OrderedDict, set...
        if allowed is not None and refused(module, name, allowed):
            raise UnpicklingError(refusal(module, name))
        return _fnnet_counterpart(module, name) if torch_name \
            else _import_global(module, name)

    return find_class


def load_objects(data: bytes, allowed: list[Any] | None) -> Any:
    """The object of a ``torch.save`` archive holding whole objects, fnnet.torch's or
    PyTorch's. ``allowed`` as for :func:`_resolver`.

    Raises:
        UnpicklingError: a global outside ``allowed`` (PyTorch's message).
        AttributeError: a class the file names is not defined where it is looked up
            (pickle's message: define or import it before loading).
    """
    return load_torch_file(data, find_class=_resolver(allowed))


#: what an fnnet.torch module keeps besides PyTorch's layout: its wrapped fnnet layer,
#: that layer's parameter names and its compiled forms, DataParallel's shardings over
#: jax's devices, all built again on load
_REBUILT = frozenset({"_fn", "_params", "_specs", "_non_persistent", "_sharding",
                      "_replicated"})


def torch_layout(module: Any) -> dict[str, Any]:
    """The ``__dict__`` PyTorch would pickle for ``module``: its tables, its
    non-persistent buffers' names and its own attributes."""
    state: dict[str, Any] = {
        "training": module.training, "_parameters": OrderedDict(module._parameters),
        "_buffers": OrderedDict(module._buffers),
        "_non_persistent_buffers_set": set(module._non_persistent),
        "_modules": OrderedDict(module._modules)}
    held = {*module._parameters, *module._buffers, *module._modules}
    for key, value in module.__dict__.items():
        if key not in state and key not in held and key not in _REBUILT \
                and key not in _TORCH_MODULE_KEYS:
            state[key] = value
    return state


def module_state(cls: type, state: dict[str, Any]) -> dict[str, Any]:
    """The ``__dict__`` of an fnnet.torch module of class ``cls`` from the ``__dict__``
    PyTorch pickled for it: fnnet.torch's class nearest ``cls`` is built again from the
    constructor arguments PyTorch keeps as attributes, then given the file's parameters,
    buffers, submodules and the attributes a user's class set."""
    from fnnet.torch.nn.modules.module import Module
    from fnnet.torch.random import fork_rng

    params = OrderedDict(state.get("_parameters") or {})
    buffers = OrderedDict(state.get("_buffers") or {})
    modules = OrderedDict(state.get("_modules") or {})
    extras = {k: v for k, v in state.items() if k not in _TORCH_MODULE_KEYS}
    base = next(c for c in cls.__mro__ if c.__module__.startswith("fnnet.torch"))
    derive = _DERIVED_ARGUMENTS.get(base.__name__)
    known = extras if derive is None else {**derive(modules), **extras}  # arguments
    if base.__name__ in _ATTRIBUTE_ARGUMENTS:  # an attribute that is not the argument
        known = {**known, **_ATTRIBUTE_ARGUMENTS[base.__name__](extras)}
    # PyTorch keeps in the submodules only, for the constructor alone
    kwargs = {} if base is Module else _constructor_arguments(base, known, params, modules)
    with fork_rng():  # the new module's own initial values are not drawn for the file
        fresh = base(**kwargs)
    own = dict(fresh.__dict__)
    for table, loaded in (("_parameters", params), ("_buffers", buffers),
                          ("_modules", modules)):
        for key in own[table]:
            own.pop(key, None)
        own[table] = loaded
        own.update(loaded)
    own["_non_persistent"] = set(state.get("_non_persistent_buffers_set") or ())
    own["training"] = bool(state.get("training", True))
    builtin = cls.__module__.startswith("fnnet.torch")
    for key, value in extras.items():
        if key not in own and not (builtin and key.startswith("_")):
            own[key] = value
    return own


def _layer_arguments(modules: dict[str, Any]) -> dict[str, Any]:
    """A transformer layer's arguments, read from its submodules."""
    linear, attention = modules["linear1"], modules["self_attn"]
    return {"d_model": linear.in_features, "nhead": attention.num_heads,
            "dim_feedforward": linear.out_features, "dropout": modules["dropout"].p,
            "layer_norm_eps": modules["norm1"].eps, "batch_first": attention.batch_first,
            "bias": linear.bias is not None}


def _transformer_arguments(encoder: Any, decoder: Any) -> dict[str, Any]:
    """A transformer's arguments, read from its first encoder layer (its own
    constructor would initialise a custom encoder's weights again)."""
    layer = encoder.layers[0]
    return {**_layer_arguments(layer._modules), "activation": layer.activation,
            "norm_first": layer.norm_first, "num_encoder_layers": len(encoder.layers),
            "num_decoder_layers": len(decoder.layers)}


def _stack_arguments(kind: str) -> Any:
    """A transformer encoder's or decoder's arguments, read from its layers."""
    return lambda modules: {f"{kind}_layer": modules["layers"][0],
                            "num_layers": len(modules["layers"]), "norm": modules.get("norm")}


_DERIVED_ARGUMENTS = {
    "TransformerEncoderLayer": _layer_arguments, "TransformerDecoderLayer": _layer_arguments,
    "TransformerEncoder": _stack_arguments("encoder"),
    "TransformerDecoder": _stack_arguments("decoder"),
    "Transformer": lambda modules: _transformer_arguments(modules["encoder"],
                                                          modules["decoder"]),
    # torch.compile's wrapper keeps the model it wraps as _orig_mod, AveragedModel its
    # copy as module
    "OptimizedModule": lambda modules: {"mod": modules["_orig_mod"]},
    "AveragedModel": lambda modules: {"model": modules["module"]},
}


#: class -> the constructor arguments read from attributes PyTorch keeps otherwise
_ATTRIBUTE_ARGUMENTS = {
    # AdaptiveLogSoftmaxWithLoss keeps its cutoffs with n_classes appended
    "AdaptiveLogSoftmaxWithLoss": lambda extras: {"cutoffs": list(extras["cutoffs"])[:-1]},
}


def _constructor_arguments(base: type, extras: dict[str, Any], params: dict[str, Any],
                           modules: dict[str, Any]) -> dict[str, Any]:
    """The arguments of ``base(...)`` that PyTorch's pickled attributes hold (a layer's
    ``bias`` flag is whether it has a bias parameter)."""
    kwargs: dict[str, Any] = {}
    # a layer that hands its arguments to the fnnet layer it wraps has that one's
    signature = inspect.signature(getattr(base, "_fnnet", None) or base)
    for name, arg in signature.parameters.items():
        if name in ("self", "device", "dtype") or arg.kind in (
                arg.VAR_POSITIONAL, arg.VAR_KEYWORD):
            continue
        if name in extras:
            # one at its default is left to the constructor: GRU refuses any proj_size
            # (even 0, as PyTorch's), which the fnnet layer it wraps takes
            if arg.default is arg.empty or not _is_default(extras[name], arg.default):
                kwargs[name] = extras[name]
        elif name in modules:  # a wrapper's module (DataParallel's, compile's)
            kwargs[name] = modules[name]
        elif name == "bias" and "bias" in params:
            kwargs[name] = params["bias"] is not None
        elif arg.default is arg.empty:
            raise NotImplementedError(
                f"torch.load: fnnet.torch cannot rebuild {base.__name__} from the "
                f"attributes saved with it, which lack its argument {name!r}: save the "
                f"model's state_dict() instead and load it into a model the script builds")
    return kwargs


def _is_default(value: Any, default: Any) -> bool:
    """Whether ``value`` is ``default`` (equal, of the same type: ``False`` is not ``0``)."""
    try:
        return type(value) is type(default) and bool(value == default)
    except Exception:  # noqa: BLE001 - an array or a module compares its own way
        return False


def _rebuild_optimizer(cls: Any, groups: list[dict[str, Any]], defaults: dict[str, Any],
                      attributes: dict[str, Any], state_dict: dict[str, Any]) -> Any:
    """An optimizer of class ``cls`` over ``groups`` (their parameters the objects
    themselves), with ``attributes`` set and ``state_dict`` loaded."""
    from fnnet.torch.optim.optimizer import Optimizer

    groups = [dict(group) for group in groups]
    try:  # the class's own set-up (LBFGS keeps its parameters apart)
        optimizer = cls(groups)
    except TypeError:  # a class whose constructor needs more than its groups
        optimizer = cls.__new__(cls)
        Optimizer.__init__(optimizer, groups, defaults)
    optimizer.defaults = dict(defaults)
    optimizer.__dict__.update(attributes)
    optimizer.load_state_dict(state_dict)
    return optimizer


def optimizer_from_torch(cls: type, state: dict[str, Any]) -> Any:
    """An fnnet.torch optimizer from what PyTorch (or fnnet.torch) pickled for one: its
    ``defaults``, ``param_groups`` and ``state`` by parameter, and other attributes."""
    groups, per_param = state["param_groups"], state.get("state") or {}
    index = {id(p): i for i, p in enumerate(p for group in groups for p in group["params"])}
    state_dict = {
        "state": {index[id(p)]: dict(entry) for p, entry in per_param.items()
                  if id(p) in index},
        "param_groups": [{**{k: v for k, v in group.items() if k != "params"},
                          "params": [index[id(p)] for p in group["params"]]}
                         for group in groups]}
    attributes = {k: v for k, v in state.items()
                  if k not in ("defaults", "state", "param_groups")}
    return _rebuild_optimizer(cls, groups, state.get("defaults") or {}, attributes, state_dict)
