"""``torch.optim.Optimizer`` over fnnet's optax optimizers.

``step()`` records one node that applies ``fnnet.optim.<Name>`` to each parameter that
has a gradient, then flushes the tape: forward, backward, gradient edits and update run
as one compiled function, cached by structure. Every hyperparameter but ``lr`` is
static; ``lr`` is an input of that function (the optimizer is built inside it with a
traced ``lr``, as ``optax.inject_hyperparams`` would), so ``param_group["lr"] = ...``
(or a scheduler) takes effect at the next step without recompiling; changing another
hyperparameter recompiles, and one changed again (a weight decay or momentum schedule)
becomes an input as ``lr`` is.

State is kept per parameter (as PyTorch does) as the leaves of the optax state; it is
created at a parameter's first step, and ``state_dict()`` renames it to PyTorch's
layout (``momentum_buffer``, ``step``/``exp_avg``/``exp_avg_sq``...). PyTorch's
per-parameter ``step`` is counted on the host where the optax state keeps no count of
its own (Adagrad, RMSprop): a count in the compiled step would cost an input and an
output per parameter for a number that only ``state_dict()`` reads.
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from fnnet import optim as fopt
from fnnet.core.transfer import constant_outputs, to_device
from fnnet.torch import _compiler, _graph
from fnnet.torch._dtypes import _X64
from fnnet.torch._graph import WRITEBACK
from fnnet.torch._hooks import RemovableHandle
from fnnet.torch._recorder import current
from fnnet.torch._sparse_gradients import is_sparse as is_sparse_gradient
from fnnet.torch._zero_grad import zero_grads
from fnnet.torch.optim import _python_state
from fnnet.torch.tensor import Tensor, _wrap_value

#: What an optimizer takes: tensors, or parameter groups (dicts with a "params" entry).
#: PyTorch equivalent: ``torch.optim.optimizer.ParamsT``.
ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]

_Loss = TypeVar("_Loss")
#: A step's static description of one parameter group: its static hyperparameters as
#: sorted items, the state treedef of each parameter with a gradient, the traced names.
_Group = tuple[tuple[tuple[str, Any], ...], tuple[jax.tree_util.PyTreeDef, ...],
               tuple[str, ...]]
#: ``(number of parameters, the fnnet.optim factory, the groups)``: _update's static spec
_Spec = tuple[int, Callable[..., Any], tuple[_Group, ...]]

# optax state fields -> PyTorch state names, per named piece of fnnet's optimizers.
_TORCH_NAMES = {
    "momentum": {"trace": "momentum_buffer", "momentum_buffer": "momentum_buffer"},
    "adam": {"mu": "exp_avg", "nu": "exp_avg_sq", "exp_avg": "exp_avg",
             "exp_avg_sq": "exp_avg_sq", "max_exp_avg_sq": "max_exp_avg_sq"},
    "adagrad": {"sum": "sum"},
    "rmsprop": {"nu": "square_avg", "mu": "grad_avg"},
    "adadelta": {"square_avg": "square_avg", "acc_delta": "acc_delta"},
    "adamax": {"exp_avg": "exp_avg", "exp_inf": "exp_inf"},
    "nadam": {"exp_avg": "exp_avg", "exp_avg_sq": "exp_avg_sq", "mu_product": "mu_product"},
    "radam": {"exp_avg": "exp_avg", "exp_avg_sq": "exp_avg_sq"},
    "rprop": {"prev": "prev", "step_size": "step_size"},
    "asgd": {"eta": "eta", "mu": "mu", "ax": "ax"},
    "sparse_adam": {"exp_avg": "exp_avg", "exp_avg_sq": "exp_avg_sq"},
    "muon": {"momentum_buffer": "momentum_buffer"},
    "adafactor": {"row_var": "row_var", "col_var": "col_var", "variance": "variance"},
}
_COUNTS = {"count", "step"}


def _leaf_name(path: tuple[Any, ...]) -> str | None:
    """PyTorch's name for a leaf of a fnnet optimizer's state (None: not saved)."""
    names = [str(getattr(k, "name", getattr(k, "key", None))) for k in path]
    if names[-1] in _COUNTS:
        return "step"
    if len(names) >= 2:
        return _TORCH_NAMES.get(names[0], {}).get(names[-1])
    return None


#: the parameter dtypes whose update PyTorch computes in float32 ("opmath") from a
#: learning rate rounded to the parameter's dtype (SGD's add_ alpha; Adam's addcdiv_
#: value is not rounded, as fnnet.optim.Adam already computes)
_HALF = frozenset((jnp.dtype(jnp.bfloat16), jnp.dtype(jnp.float16)))


def _real_view(x: jax.Array) -> jax.Array:
    """A complex parameter or gradient as real ``[..., 2]`` (real and imaginary parts):
    PyTorch's optimizers step a complex parameter as its ``view_as_real``, so that Adam's
    squared gradient is per part, not the complex square; a real one unchanged."""
    return jnp.stack([x.real, x.imag], axis=-1) if jnp.iscomplexobj(x) else x


def _real_aval(shape: tuple[int, ...], dtype: Any) -> jax.ShapeDtypeStruct:
    """The shape and dtype the optimizer state of a parameter is kept in (its real view's
    for a complex one)."""
    if jnp.issubdtype(dtype, jnp.complexfloating):
        return jax.ShapeDtypeStruct((*shape, 2), jnp.finfo(dtype).dtype)
    return jax.ShapeDtypeStruct(shape, dtype)


def _update(*args: Any) -> list[jax.Array]:
    """The recorded optimizer step (pure): new parameters, then new state leaves."""
    *arrays, spec = args
    n, factory, groups = spec
    params, grads = arrays[:n], arrays[n:2 * n]
    rest = arrays[2 * n:]
    new_params: list[jax.Array] = []
    new_leaves: list[jax.Array] = []
    i = 0      # parameter index
    offset = 0  # into rest
    inputs = iter(rest[len(rest) - sum(1 + len(traced) for _, _, traced in groups):])
    for static, treedefs, traced in groups:
        # lr (and any traced hyperparameter) is an input of the step, not state: it
        # changes without recompiling
        lr = next(inputs)
        dynamic = {name: _hyperparameter(next(inputs)) for name in traced}
        tx = factory(lr=lr, **dict(static), **dynamic)
        tx_half = None
        for treedef in treedefs:
            count = treedef.num_leaves
            state = jax.tree_util.tree_unflatten(treedef, rest[offset:offset + count])
            offset += count
            step = tx
            if params[i].dtype in _HALF and factory is fopt.SGD:
                # PyTorch's param.add_(d, alpha=-lr) on a half-precision parameter rounds
                # alpha to its dtype, then computes p + alpha * d in float32 and rounds
                # once; the Python float's lr would keep optax's product in half
                # precision, rounded before the addition
                tx_half = tx_half or factory(lr=lax.convert_element_type(
                    lr.astype(params[i].dtype), jnp.float32), **dict(static), **dynamic)
                step = tx_half
            param, grad = _real_view(params[i]), _real_view(grads[i])
            try:
                updates, state = step.update(grad, state, param)
            except ValueError as error:  # a gradient of another shape: name the parameter
                raise ValueError(f"optimizer.step: parameter {i} of those with gradients "
                                 f"(shape {tuple(params[i].shape)}): {error}") from None
            new = optax.apply_updates(param, updates)
            new_params.append(lax.complex(new[..., 0], new[..., 1])
                              if jnp.iscomplexobj(params[i]) else new)
            new_leaves.extend(jax.tree_util.tree_leaves(state))
            i += 1
    return [*new_params, *new_leaves]


_compiler.NOT_RETAINABLE.add(_update)


def _is_scalar_setting(value: Any) -> bool:
    """A number, or a tuple or list of numbers (betas), not a flag."""
    values = value if isinstance(value, (tuple, list)) else (value,)
    return bool(values) and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                for v in values)


def _hyperparameter(array: Any) -> Any:
    """A traced hyperparameter as the optimizer takes it: a scalar, or a tuple (betas)."""
    return tuple(array) if array.ndim else array


def _state_array(value: Any, complex_too: bool = False) -> np.ndarray | None:
    """A saved state value as a numpy array of real numbers, or None; with
    ``complex_too``, a complex one (a complex parameter's) as its real view ``[..., 2]``,
    the layout its state is kept in."""
    if isinstance(value, Tensor):
        value = value._value()
    elif callable(getattr(value, "detach", None)):  # a PyTorch tensor
        value = value.detach().cpu().numpy()
    if isinstance(value, str | bytes | Mapping) or value is None:
        return None
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        return None
    if complex_too and array.dtype.kind == "c":
        return np.stack([array.real, array.imag], axis=-1)
    if array.dtype.kind not in "biuf" and not jnp.issubdtype(array.dtype, jnp.floating):
        return None
    return array


class _RequiredParameter:
    """The default of a hyperparameter every group must give (``lr=required``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


#: PyTorch equivalent: ``torch.optim.optimizer.required``.
required = _RequiredParameter()


@dataclasses.dataclass(slots=True)
class _ParamState:
    """One parameter's optimizer state: the optax state's leaves and structure."""

    treedef: jax.tree_util.PyTreeDef
    leaves: Sequence[jax.Array]
    avals: tuple[_graph.Aval, ...]
    steps: int  # steps taken: PyTorch's ``step`` where the optax state counts none
    #: the cells of the tensors ``state``/``state_dict()`` handed out, one per leaf, given
    #: each step's new leaves: they alias the state as PyTorch's do (the old leaves are
    #: donated to the step), made at the first read
    cells: list[_graph.Cell] | None = None


class _State(defaultdict[Any, dict[str, Any]]):
    """``optimizer.state`` of a built-in optimizer: a defaultdict as PyTorch's, whose
    ``del state[p]``, ``pop`` and ``clear`` drop the optimizer's own state of the
    parameters (their next step starts afresh, as PyTorch's)."""

    def __init__(self, default_factory: Callable[[], dict[str, Any]] | None = None,
                 entries: Mapping[Any, dict[str, Any]] | None = None,
                 owner: Optimizer | None = None) -> None:
        super().__init__(default_factory, entries or {})
        self._owner = owner

    def _drop(self, p: Any) -> None:
        if self._owner is not None:
            self._owner._state.pop(id(p), None)

    def __delitem__(self, p: Any) -> None:
        super().__delitem__(p)
        self._drop(p)

    def pop(self, p: Any, *default: Any) -> Any:
        value = super().pop(p, *default)
        self._drop(p)
        return value

    def clear(self) -> None:
        for p in list(self):
            self._drop(p)
        super().clear()


#: the tables of the state-dict hooks (register_state_dict_pre_hook and the others)
_STATE_DICT_HOOKS = ("_optimizer_state_dict_pre_hooks", "_optimizer_state_dict_post_hooks",
                     "_optimizer_load_state_dict_pre_hooks",
                     "_optimizer_load_state_dict_post_hooks")
#: what ``Optimizer.__init__`` builds from the groups (and its caches): the rest of an
#: optimizer's attributes are pickled with its groups and state
_REBUILT = frozenset({"defaults", "param_groups", "_state", "_lr_arrays", "_pending",
                      "_plans", "_statics", "_python_state", "_changes",
                      "_optimizer_step_pre_hooks", "_optimizer_step_post_hooks",
                      "_in_hooked_step", *_STATE_DICT_HOOKS})




#: the step hooks of every optimizer (register_optimizer_step_pre_hook / _post_hook)
_global_optimizer_pre_hooks: dict[int, Callable[..., Any]] = {}
_global_optimizer_post_hooks: dict[int, Callable[..., Any]] = {}


def register_optimizer_step_pre_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Calls ``hook(optimizer, args, kwargs)`` before the step of every optimizer, ahead of
    each optimizer's own pre-hooks; it may return new ``(args, kwargs)``.

    PyTorch equivalent: ``torch.optim.optimizer.register_optimizer_step_pre_hook``.
    """
    return _add_hook(_global_optimizer_pre_hooks, hook)


def register_optimizer_step_post_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Calls ``hook(optimizer, args, kwargs)`` after the step of every optimizer, after
    each optimizer's own post-hooks.

    PyTorch equivalent: ``torch.optim.optimizer.register_optimizer_step_post_hook``.
    """
    return _add_hook(_global_optimizer_post_hooks, hook)


def _add_hook(hooks: dict[int, Callable[..., Any]], hook: Callable[..., Any],
              prepend: bool = False) -> RemovableHandle:
    if not callable(hook):
        raise TypeError(f"hook must be callable, got {type(hook).__name__}")
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:  # first to run: the same dict (the handle holds it), reordered
        items = list(hooks.items())
        hooks.clear()
        hooks.update([items[-1], *items[:-1]])
    return handle


def with_state_dict_hooks(state_dict: Callable[..., Any]) -> Callable[..., Any]:
    """``state_dict`` run between the state-dict pre-hooks (``hook(optimizer)``) and
    post-hooks (``hook(optimizer, state_dict)``, whose result, unless None, replaces
    the state dict), as PyTorch's ``Optimizer.state_dict`` runs them."""

    @functools.wraps(state_dict)
    def run(self: Any) -> Any:
        for hook in list(self.__dict__.get("_optimizer_state_dict_pre_hooks", {}).values()):
            hook(self)
        result = state_dict(self)
        for hook in list(self.__dict__.get("_optimizer_state_dict_post_hooks",
                                           {}).values()):
            changed = hook(self, result)
            result = result if changed is None else changed
        return result

    return run


def with_load_hooks(load: Callable[..., Any]) -> Callable[..., Any]:
    """``load_state_dict`` given a shallow copy of the state dict that the load pre-hooks
    (``hook(optimizer, state_dict)``, whose result, unless None, replaces it) see first,
    then the post-hooks (``hook(optimizer)``), as PyTorch's ``load_state_dict`` runs
    them."""

    @functools.wraps(load)
    def run(self: Any, state_dict: Any) -> None:
        pre = self.__dict__.get("_optimizer_load_state_dict_pre_hooks", {})
        if pre and isinstance(state_dict, Mapping):
            state_dict = dict(state_dict)
            for hook in list(pre.values()):
                changed = hook(self, state_dict)
                state_dict = state_dict if changed is None else changed
        load(self, state_dict)
        for hook in list(self.__dict__.get("_optimizer_load_state_dict_post_hooks",
                                           {}).values()):
            hook(self)

    return run


def _hooked(step: Callable[..., Any]) -> Callable[..., Any]:
    """``step`` run between the step pre- and post-hooks (every optimizer's, then this
    one's; after it this one's, then every optimizer's), as PyTorch wraps every
    optimizer's ``step``: each hook is called ``hook(optimizer, args, kwargs)`` with
    ``args`` starting with the optimizer, and a pre-hook may return new
    ``(args, kwargs)``. A step that calls its base class's runs them once."""

    @functools.wraps(step)
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        state = self.__dict__
        pre, post = state.get("_optimizer_step_pre_hooks"), \
            state.get("_optimizer_step_post_hooks")
        if state.get("_in_hooked_step") or not (
                pre or post or _global_optimizer_pre_hooks or _global_optimizer_post_hooks):
            return step(self, *args, **kwargs)
        every = (self, *args)
        for hook in [*_global_optimizer_pre_hooks.values(), *(pre or {}).values()]:
            result = hook(self, every, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"{step} must return None or a tuple of (new_args, "
                                       f"new_kwargs), but got {result}.")
                every, kwargs = result
        state["_in_hooked_step"] = True
        try:
            out = step(*every, **kwargs)
        finally:
            state["_in_hooked_step"] = False
        for hook in [*(post or {}).values(), *_global_optimizer_post_hooks.values()]:
            hook(self, every, kwargs)
        return out

    run.__fnnet_hooked__ = True  # type: ignore[attr-defined]
    return run


def check_tensor_lr(lr: Any) -> None:
    """PyTorch's check, in each optimizer's constructor, of a learning rate given as a
    tensor.

    Raises:
        ValueError: ``lr`` is a tensor of more than one element.
    """
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")



def _number(value: Any) -> Any:
    """A hyperparameter given as a one-element tensor (``lr=torch.tensor(0.01)``, as
    PyTorch takes it) as the Python number it holds, also inside a tuple (``betas``):
    the step reads numbers, and a scheduler writes numbers back."""
    if isinstance(value, Tensor) and value.numel() == 1:
        return value.item()
    if isinstance(value, tuple) and any(isinstance(v, Tensor) for v in value):
        return tuple(_number(v) for v in value)
    return value

class Optimizer:
    """Base of fnnet.torch's optimizers. PyTorch equivalent: ``torch.optim.Optimizer``.

    Subclasses set ``_factory`` (the fnnet.optim function) and ``_names`` (its
    hyperparameters other than ``lr``, as PyTorch names them). A subclass without a
    ``_factory`` is an optimizer the user writes, as in PyTorch: its ``step`` updates
    the parameters with tensor operations and keeps what it needs in ``self.state[p]``
    (see :mod:`fnnet.torch.optim._python_state`).
    """

    _factory: Any = None
    _names: tuple[str, ...] = ()
    #: PyTorch's RuntimeError for a gradient that is sparse there (see
    #: :meth:`_check_gradient`); None: "<class name> does not support sparse gradients"
    _sparse_error: str | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if cls._factory is None and step is not None and not hasattr(step, "__fnnet_step__"):
            step = cls.step = _python_state.as_step(step)  # type: ignore[method-assign]
        if step is not None and not hasattr(step, "__fnnet_hooked__"):
            cls.step = _hooked(step)  # type: ignore[method-assign]

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        if self._factory is not None:
            check_tensor_lr(defaults.get("lr"))
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable "
                            "of Tensors or dicts, but got " + params.type())
        if not isinstance(params, Iterable):  # a model given for model.parameters()
            raise TypeError(f"'{type(params).__name__}' object is not iterable")
        self.defaults = {k: _number(v) for k, v in defaults.items()}
        self.param_groups: list[dict[str, Any]] = []
        self._state: dict[int, _ParamState] = {}  # by id(param)
        # group index -> (lr and traced values, the same as float32 arrays)
        self._lr_arrays: dict[int, tuple[tuple[Any, ...], tuple[Any, ...]]] = {}
        self._pending: list[_ParamState] | None = None
        self._plans: dict[Any, tuple[tuple[_graph.Aval, ...], _Spec]] = {}
        # id(group) -> (static values, _static's sorted items)
        self._statics: dict[int, tuple[tuple[Any, ...], tuple[tuple[str, Any], ...]]] = {}
        #: hyperparameters besides lr that are inputs of the compiled step (a scheduler
        #: that changes them every step asks for this: see trace_hyperparameter)
        self._traced: tuple[str, ...] = ()
        #: how many times the loop changed each static hyperparameter (_trace_scheduled)
        self._changes: dict[str, int] = {}
        #: ``self.state`` of an optimizer the user writes (see the class docstring)
        self._python_state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        #: the step hooks by handle id (register_step_pre_hook, register_step_post_hook)
        self._optimizer_step_pre_hooks: dict[int, Callable[..., Any]] = {}
        self._optimizer_step_post_hooks: dict[int, Callable[..., Any]] = {}
        groups: list[Any] = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)
        # Check the hyperparameters now, with fnnet's messages.
        for group in self.param_groups if self._factory is not None else ():
            type(self)._factory(lr=group["lr"], **self._static(group))

    def __getstate__(self) -> dict[str, Any]:
        # Pickled (torch.save(optimizer)) in PyTorch's layout: defaults, the groups with
        # their parameters and the state by parameter, and the other attributes.
        attributes = {k: v for k, v in self.__dict__.items() if k not in _REBUILT}
        return {**attributes, "defaults": self.defaults, "state": dict(self.state),
                "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        # fnnet.torch's or PyTorch's layout: built again, then its state loaded
        from fnnet.torch._whole_objects import optimizer_from_torch

        self.__dict__.update(optimizer_from_torch(type(self), state).__dict__)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]  # PyTorch's KeyError('params') without one
        if isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered "
                            "collections, but the ordering of tensors in sets will change "
                            "between runs. Please use a list instead.")
        if not isinstance(params, Tensor | Iterable):
            raise TypeError("params argument given to the optimizer should be an iterable "
                            "of Tensors or dicts, but got " + type(params).__name__)
        listed = [params] if isinstance(params, Tensor) else list(params)
        for p in listed:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params "
                                f"is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        ids = {id(p) for p in listed}
        if len(ids) != len(listed):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; "
                          "in future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          UserWarning, stacklevel=3)
        if any(id(p) in ids for other in self.param_groups for p in other["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        for key, value in self.defaults.items():
            if value is required and key not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {key}")
        param_group["params"] = listed
        for key, value in param_group.items():
            if key != "params":
                param_group[key] = _number(value)
        for key, value in self.defaults.items():
            param_group.setdefault(key, value)
        self.param_groups.append(param_group)

    def _static(self, group: dict[str, Any],
                traced: tuple[str, ...] | None = None) -> dict[str, Any]:
        traced = self._traced if traced is None else traced
        return {k: (tuple(group[k]) if isinstance(group[k], list) else group[k])
                for k in self._names if k not in traced}

    def trace_hyperparameter(self, name: str) -> None:
        """Makes ``param_group[name]`` an input of the compiled step, as ``lr`` is, so
        that changing it every step (``OneCycleLR``'s momentum or ``betas``) does not
        recompile. The optimizer's state then never depends on its value (a momentum
        buffer is kept even at momentum 0, as with ``optax.inject_hyperparams``)."""
        if name not in self._names:
            raise ValueError(f"{type(self).__name__} has no hyperparameter {name!r} "
                             f"(it has {', '.join(self._names)})")
        if name not in self._traced:
            self._traced = (*self._traced, name)
            self._statics.clear()

    # -- gradients and steps ------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drops (or zeroes) every gradient. PyTorch: ``optimizer.zero_grad()``."""
        zero_grads((p for group in self.param_groups for p in group["params"]), set_to_none)

    def _check_gradient(self, p: Tensor, group: dict[str, Any]) -> None:
        """Raises PyTorch's RuntimeError where ``p``'s gradient is sparse in PyTorch (an
        ``Embedding(sparse=True)`` table's) and the optimizer does not take one; checked
        at ``p``'s first step, before its state is made."""
        del group
        if is_sparse_gradient(p):
            raise RuntimeError(self._sparse_error or
                               f"{type(self).__name__} does not support sparse gradients")

    def _transform(self, group: dict[str, Any], traced: tuple[str, ...]) -> Any:
        """The group's optax transformation with ``traced`` hyperparameters as arrays."""
        arrays = {name: _hyperparameter(jnp.asarray(group[name], jnp.float32))
                  for name in traced}
        return type(self)._factory(lr=float(group["lr"]), **self._static(group, traced),
                                   **arrays)

    def _new_state(self, p: Tensor, group: dict[str, Any]) -> _ParamState:
        tx = self._transform(group, self._traced)
        kept = _real_aval(*p._cell.aval[:2])
        state = constant_outputs(tx.init, kept)
        if state is None:
            state = tx.init(jnp.zeros(kept.shape, kept.dtype))
        leaves, treedef = jax.tree_util.tree_flatten(state)
        return _ParamState(treedef, leaves, tuple(_graph.aval_of(v) for v in leaves), 0)

    def _trace_scheduled(self) -> None:
        """Makes a hyperparameter that the loop changes (a weight decay or momentum
        schedule written into ``param_groups``) an input of the compiled step, as
        :meth:`trace_hyperparameter` does: at its second change (each new value would
        compile the step again), or at its first where the state's layout changes with
        it (a momentum or weight decay turned on: the pieces of state it adds). The
        parameters' state moves over by PyTorch's names; where a value would be lost,
        the hyperparameter stays static."""
        for group in self.param_groups:
            cached = self._statics.get(id(group))
            names = [k for k in self._names if k not in self._traced]
            if cached is None or len(cached[0]) != len(names):
                continue
            for name, old in zip(names, cached[0], strict=True):
                if group[name] != old and _is_scalar_setting(group[name]):
                    self._changes[name] = self._changes.get(name, 0) + 1
                    if self._changes[name] == 2 or not self._keeps_layout(group):
                        self._retrace(name)
                        return

    def _keeps_layout(self, group: dict[str, Any]) -> bool:
        """Whether the group's state has the layout its settings now give."""
        tx = self._transform(group, self._traced)
        for p in group["params"]:
            entry = self._state.get(id(p))
            if entry is not None:
                layout = jax.eval_shape(tx.init, _real_aval(*p._cell.aval[:2]))
                return bool(jax.tree_util.tree_structure(layout) == entry.treedef)
        return True

    def _retrace(self, name: str) -> None:
        """Traces ``name`` with every parameter's state carried over (see
        :meth:`_trace_scheduled`), or changes nothing."""
        previous = self._traced
        self.trace_hyperparameter(name)
        moved: dict[int, _ParamState] = {}
        for group in self.param_groups:
            for index, p in enumerate(group["params"]):
                entry = self._state.get(id(p))
                if entry is None:
                    continue
                fresh = self._new_state(p, group)
                carried: _ParamState | None = entry
                if fresh.treedef != entry.treedef:
                    carried = self._carried(p, group, index, entry, fresh)
                if carried is None:
                    self._traced = previous
                    self._statics.clear()
                    return
                moved[id(p)] = carried
        self._state.update(moved)

    def _carried(self, p: Tensor, group: dict[str, Any], index: int, entry: _ParamState,
                 fresh: _ParamState) -> _ParamState | None:
        """``entry``'s values in the layout of ``fresh`` by PyTorch's names (a piece the
        old layout lacked starts fresh, as PyTorch creates a buffer at its first use), or
        None where a value has no name to go by."""
        placeholder = jax.tree_util.tree_unflatten(entry.treedef,
                                                   list(range(len(entry.leaves))))
        names = [_leaf_name(path)
                 for path, _ in jax.tree_util.tree_flatten_with_path(placeholder)[0]]
        if None in names:
            return None
        if set(names) <= {"step"}:
            return dataclasses.replace(fresh, steps=entry.steps)
        return self._loaded_entry(p, group, index, self._param_state(p), [])

    def _inputs(self, index: int, group: dict[str, Any], wide: bool = False
                ) -> tuple[Any, ...]:
        """Group ``index``'s lr and traced hyperparameters as float32 arrays (float64
        where ``wide``: a group of float64 parameters under x64, which PyTorch updates
        with the double it was given): numpy arrays for values new this step, device
        arrays once they repeat (a device array costs the step's call less than a host
        array, which it copies at every call, but making one costs more than a call's
        copy)."""
        values = (group["lr"], *(group[name] for name in self._traced), wide)
        cached = self._lr_arrays.get(index)
        if cached is not None and cached[0] == values:
            arrays = cached[1]
            if type(arrays[0]) is np.ndarray:
                arrays = tuple(jnp.asarray(a) for a in arrays)
                self._lr_arrays[index] = (values, arrays)
            return arrays
        dtype = np.float64 if wide else np.float32
        arrays = tuple(np.asarray(v, dtype) for v in values[:-1])
        self._lr_arrays[index] = (values, arrays)
        return arrays

    def register_step_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Calls ``hook(optimizer, args, kwargs)`` before every ``step``; it may return
        new ``(args, kwargs)`` for the step (``args`` start with the optimizer).

        Returns:
            A handle whose ``remove()`` drops the hook.

        PyTorch equivalent: ``Optimizer.register_step_pre_hook``.
        """
        return self._add_step_hook("_optimizer_step_pre_hooks", hook)

    def register_step_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Calls ``hook(optimizer, args, kwargs)`` after every ``step``.

        Returns:
            A handle whose ``remove()`` drops the hook.

        PyTorch equivalent: ``Optimizer.register_step_post_hook``.
        """
        return self._add_step_hook("_optimizer_step_post_hooks", hook)

    def _add_step_hook(self, table: str, hook: Callable[..., Any],
                       prepend: bool = False) -> RemovableHandle:
        return _add_hook(self.__dict__.setdefault(table, {}), hook, prepend)

    def register_state_dict_pre_hook(self, hook: Callable[..., Any],
                                     prepend: bool = False) -> RemovableHandle:
        """Calls ``hook(optimizer)`` before each ``state_dict()`` (first with
        ``prepend``). PyTorch equivalent: ``Optimizer.register_state_dict_pre_hook``."""
        return self._add_step_hook("_optimizer_state_dict_pre_hooks", hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable[..., Any],
                                      prepend: bool = False) -> RemovableHandle:
        """Calls ``hook(optimizer, state_dict)`` after each ``state_dict()``; what it
        returns, unless None, is the state dict returned. PyTorch equivalent:
        ``Optimizer.register_state_dict_post_hook``."""
        return self._add_step_hook("_optimizer_state_dict_post_hooks", hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable[..., Any],
                                          prepend: bool = False) -> RemovableHandle:
        """Calls ``hook(optimizer, state_dict)`` (a shallow copy) before each
        ``load_state_dict``; what it returns, unless None, is loaded instead. PyTorch
        equivalent: ``Optimizer.register_load_state_dict_pre_hook``."""
        return self._add_step_hook("_optimizer_load_state_dict_pre_hooks", hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable[..., Any],
                                           prepend: bool = False) -> RemovableHandle:
        """Calls ``hook(optimizer)`` after each ``load_state_dict``. PyTorch equivalent:
        ``Optimizer.register_load_state_dict_post_hook``."""
        return self._add_step_hook("_optimizer_load_state_dict_post_hooks", hook, prepend)

    @_hooked
    def step(self, closure: Callable[[], _Loss] | None = None) -> _Loss | None:
        """Applies the update to every parameter with a gradient, and runs the step.

        Args:
            closure: called first (with gradients recorded, as in PyTorch) to compute
                the loss and its gradients again; optimizers that call it several times
                (LBFGS) are not supported.

        Returns:
            What ``closure`` returned, or None without one.

        PyTorch equivalent: ``optimizer.step()``.
        """
        if self._factory is None:  # a subclass the user writes defines its own step
            raise NotImplementedError
        loss = None
        if closure is not None:
            with _graph_enabled():
                loss = closure()
        self._opt_called = True  # a scheduler stepped before this warns, as in PyTorch
        self._take_state_writes()
        if self._statics:
            self._trace_scheduled()
        tp = _graph.recording_tape()
        params: list[Tensor] = []
        grads: list[Tensor] = []
        leaves: list[jax.Array] = []
        group_list: list[_Group] = []
        pending: list[_ParamState] = []
        lrs: list[np.ndarray] = []
        for index, group in enumerate(self.param_groups):
            treedefs = []
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                entry = self._state.get(id(p))
                if entry is None:
                    self._check_gradient(p, group)
                    entry = self._state[id(p)] = self._new_state(p, group)
                treedefs.append(entry.treedef)
                params.append(p)
                grads.append(g)
                leaves.extend(entry.leaves)
                pending.append(entry)
            if treedefs:
                group_list.append((self._static_items(group), tuple(treedefs), self._traced))
                lrs.extend(self._inputs(index, group, _X64 and all(
                    p._cell.aval[1] == np.float64 for p in params[-len(treedefs):])))
        if not params:
            _compiler.flush("step")
            return loss
        n = len(params)
        groups = tuple(group_list)
        # which parameters step is part of the plan: a layer frozen (requires_grad_(False))
        # leaves a group's other parameters, whose state has other shapes. Under x64 the
        # hyperparameters' dtypes (float64 for float64 groups) are too
        plan_key: Any = (groups, tuple(map(id, params)))
        if _X64:
            plan_key = (plan_key, tuple(a.dtype for a in lrs))
        plan = self._plans.get(plan_key)
        if plan is None:
            leaf_avals = tuple(a for entry in pending for a in entry.avals)
            input_avals = tuple((a.shape, np.dtype(a.dtype), False) for a in lrs)
            plan = (leaf_avals + input_avals, (n, type(self)._factory, groups))
            self._plans[plan_key] = plan
        avals, spec = plan
        first_src = _graph.sources([*leaves, *lrs], avals)
        end = len(tp.src_owner) - len(lrs)
        tp.src_owner[end - len(leaves):end] = [WRITEBACK] * len(leaves)
        ins = []
        for t in params:
            cell = t._cell
            ins.append((cell.ref if cell.tape is tp else _graph.cell_source(tp, cell)) * 4)
        for t in grads:
            cell = t._cell
            ins.append((cell.ref if cell.tape is tp else _graph.cell_source(tp, cell)) * 4)
        ins.extend(range(first_src * 4, (first_src + len(avals)) * 4, 4))
        first, out_avals = _graph.record_refs(_update, (spec,), tuple(ins))
        for i, p in enumerate(params):
            _graph.bind(p._cell, first + i, out_avals[i], False)
            p._cell.version = getattr(p._cell, "version", 0) + 1  # PyTorch's step writes p
        self._pending = pending
        tp.writebacks.append((self, first + n, len(leaves)))
        _compiler.flush("step")
        return loss

    def _static_items(self, group: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
        values = tuple(group[k] for k in self._names if k not in self._traced)
        cached = self._statics.get(id(group))
        if cached is not None and cached[0] == values:
            return cached[1]
        items = tuple(sorted(self._static(group).items()))
        self._statics[id(group)] = (values, items)
        return items

    def write(self, values: Sequence[jax.Array]) -> None:
        """Receives the new state leaves of the last step (writeback of a flush)."""
        offset = 0
        for entry in self._pending or ():
            count = len(entry.leaves)
            entry.leaves = values[offset:offset + count]
            if entry.cells is not None:
                for cell, value in zip(entry.cells, entry.leaves, strict=True):
                    cell.val = value
            entry.steps += 1
            offset += count
        self._pending = None

    # -- state ----------------------------------------------------------------------
    def _param_state(self, p: Tensor) -> dict[str, Tensor]:
        entry = self._state.get(id(p))
        if entry is None:
            return {}
        leaves = entry.leaves
        if entry.cells is None:
            entry.cells = [_graph.Cell(leaf) for leaf in leaves]
        placeholder = jax.tree_util.tree_unflatten(entry.treedef, list(range(len(leaves))))
        out: dict[str, Tensor] = {"step": _wrap_value(jnp.asarray(entry.steps, jnp.float32))}
        for path, index in jax.tree_util.tree_flatten_with_path(placeholder)[0]:
            name = _leaf_name(path)
            if name == "step":
                out["step"] = _wrap_value(jnp.asarray(leaves[index], jnp.float32))
            elif name is not None and p.dtype.is_complex:  # kept as the real view
                pairs = leaves[index]
                out[name] = _wrap_value(lax.complex(pairs[..., 0], pairs[..., 1]))
            elif name is not None:
                out[name] = alias = _wrap_value(leaves[index])
                alias._cell = entry.cells[index]
        return out

    @property
    def state(self) -> dict[Any, dict[str, Any]]:
        """Per-parameter state by PyTorch's names; an optimizer the user writes keeps its
        own, which it reads and writes.

        The tensors are the state's own, as PyTorch's: an in-place write
        (``state[p]["exp_avg"].zero_()``) is what the next step reads. Deleting a
        parameter's entry (``del optimizer.state[p]``, ``clear()``) starts its state
        afresh at the next step, as PyTorch's; a new entry or a tensor assigned into one
        is not read back (load a state dict instead).

        PyTorch equivalent: ``optimizer.state``.
        """
        if self._factory is None:
            return self._python_state
        # a defaultdict as PyTorch's: a parameter not stepped yet, or stepped by an
        # optimizer that keeps nothing for it (SGD without momentum), reads as {}
        return _State(dict, {p: state for group in self.param_groups
                             for p in group["params"] if id(p) in self._state
                             and (state := self._param_state(p))}, owner=self)

    @state.setter
    def state(self, value: dict[Any, dict[str, Any]]) -> None:
        if self._factory is not None:
            if not value:  # optimizer.state = defaultdict(dict): every state afresh
                self._state.clear()
                return
            raise AttributeError(f"{type(self).__name__}.state is computed from the "
                                 "optimizer's own state: change it with load_state_dict")
        self._python_state = value  # type: ignore[assignment]

    def _take_state_writes(self) -> None:
        """Makes the values that in-place writes gave the tensors ``state`` handed out
        the state the step reads (computing them first where they are only recorded)."""
        written = [entry for entry in self._state.values() if entry.cells is not None and
                   any(cell.val is not leaf
                       for cell, leaf in zip(entry.cells, entry.leaves, strict=True))]
        if not written:
            return
        if any(cell.val is None for entry in written for cell in entry.cells or ()):
            _compiler.flush("value")
        for entry in written:
            entry.leaves = [jnp.asarray(cell.val) for cell in entry.cells or ()]

    @with_state_dict_hooks
    def state_dict(self) -> dict[str, Any]:
        """``{"state": {index: {...}}, "param_groups": [...]}`` in PyTorch's format."""
        if self._factory is None:
            return _python_state.state_dict(self._python_state, self.param_groups)
        state: dict[int, dict[str, Tensor]] = {}
        groups: list[dict[str, Any]] = []
        index = 0
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                entry = self._param_state(p)
                if entry:
                    state[index] = entry
                ids.append(index)
                index += 1
            groups.append({**{k: v for k, v in group.items() if k != "params"},
                           "params": ids})
        return {"state": state, "param_groups": groups}

    @with_load_hooks
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Loads a state dict saved by PyTorch or fnnet.torch (same format).

        Everything is checked before anything changes: after a failed load the
        hyperparameters and the state are those from before. As in PyTorch, the
        loaded state replaces the old one whole (a parameter without an entry starts
        afresh).

        Raises:
            TypeError: ``state_dict`` is not the dict ``state_dict()`` returns.
            ValueError: PyTorch's messages for a different number or size of parameter
                groups; hyperparameters this optimizer refuses; a per-parameter entry
                of another optimizer (keys this one does not keep, or lacking some it
                needs), of another shape than its parameter, or holding no real
                numbers; each named by its index in ``state``.
        """
        if not isinstance(state_dict, Mapping) or not {"state", "param_groups"} <= set(
                state_dict):
            got = sorted(map(str, state_dict)) if isinstance(state_dict, Mapping) \
                else type(state_dict).__name__
            raise TypeError("optimizer.load_state_dict: expected the dict "
                            "optimizer.state_dict() returns, with 'state' and "
                            f"'param_groups', got {got}")
        saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(saved_groups, list | tuple) or not all(
                isinstance(g, Mapping) and isinstance(g.get("params"), list | tuple)
                for g in saved_groups) or not isinstance(saved_state, Mapping):
            raise TypeError("optimizer.load_state_dict: 'param_groups' must be a list of "
                            "dicts each with a 'params' list, and 'state' a dict")
        if self._factory is None:
            state, groups = _python_state.loaded(state_dict, self.param_groups)
            for group, new in zip(self.param_groups, groups, strict=True):
                group.clear()  # the same dicts: schedulers hold them
                group.update(new)
            self._python_state = state
            return
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        merged_groups: list[dict[str, Any]] = []
        params: list[tuple[Tensor, dict[str, Any], Any]] = []
        for g, (group, saved) in enumerate(zip(self.param_groups, saved_groups, strict=True)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't "
                                 "match the size of optimizer's group")
            merged = {**group, **{k: v for k, v in saved.items() if k != "params"}}
            try:  # the hyperparameters, with fnnet's (PyTorch's) messages
                type(self)._factory(lr=merged["lr"], **self._static(merged))
            except (TypeError, ValueError, KeyError) as err:
                raise ValueError(f"loaded state dict: param_groups[{g}] does not fit "
                                 f"{type(self).__name__}: {err}") from None
            merged_groups.append(merged)
            params.extend((p, merged, i)
                          for p, i in zip(group["params"], saved["params"], strict=True))
        errors: list[str] = []
        new_state: dict[int, _ParamState] = {}
        for p, group, index in params:
            entry = saved_state.get(index, saved_state.get(str(index)))
            if not entry:
                continue
            loaded = self._loaded_entry(p, group, index, entry, errors)
            if loaded is not None:
                new_state[id(p)] = loaded
        if errors:
            raise ValueError(f"loaded state dict does not fit this {type(self).__name__} "
                             "(nothing was loaded):\n\t" + "\n\t".join(errors))
        for group, merged in zip(self.param_groups, merged_groups, strict=True):
            group.update(merged)  # the same dicts: schedulers hold them
        self._state = new_state

    def _loaded_entry(self, p: Tensor, group: dict[str, Any], index: Any, entry: Any,
                      errors: list[str]) -> _ParamState | None:
        """The internal state of ``p`` from its saved entry; problems go to ``errors``."""
        where = f"state[{index}] (a parameter of shape {tuple(p.shape)})"
        if not isinstance(entry, Mapping):
            errors.append(f"{where}: expected a dict, got {type(entry).__name__}")
            return None
        # PyTorch's SGD keeps no count: a saved buffer means past the first step.
        entry = {"step": 1, **entry}
        fresh = self._new_state(p, group)
        placeholder = jax.tree_util.tree_unflatten(fresh.treedef,
                                                   list(range(len(fresh.leaves))))
        slots: dict[str, list[int]] = {}
        for path, i in jax.tree_util.tree_flatten_with_path(placeholder)[0]:
            name = _leaf_name(path)
            if name is not None:
                slots.setdefault(name, []).append(i)
        unknown = sorted(str(k) for k, v in entry.items()
                         if k not in slots and k != "step" and v is not None)
        if unknown:
            errors.append(f"{where}: holds {unknown}, which {type(self).__name__} with these "
                          f"settings does not keep (it keeps {sorted(slots | {'step': 0})}): "
                          "the state of another optimizer?")
            return None
        needed = sorted(n for n in slots if n != "step" and entry.get(n) is None)
        if needed and len(needed) < len([n for n in slots if n != "step"]):
            errors.append(f"{where}: lacks {needed}")
            return None
        leaves = list(fresh.leaves)
        for name, positions in slots.items():
            value = entry.get(name)
            if value is None:
                continue
            array = _state_array(value, complex_too=bool(p.dtype.is_complex))
            if array is None:
                errors.append(f"{where}: '{name}' holds no real numbers "
                              f"({getattr(value, 'dtype', type(value).__name__)})")
                continue
            for i in positions:
                shape = tuple(leaves[i].shape)
                if array.shape != shape and not (name == "step" and array.size == 1):
                    errors.append(f"{where}: '{name}' has shape {array.shape}, expected "
                                  f"{shape}: the state of another model?")
                    break
                # a copy: jax may keep pointing at a host array's memory (a live
                # torch tensor's), which its owner may still write
                leaves[i] = to_device(np.asarray(array.reshape(shape), leaves[i].dtype))
        step = entry["step"]
        array = _state_array(step)
        if array is None or array.size != 1 or not np.isfinite(array).all() \
                or array.reshape(()) < 0:
            errors.append(f"{where}: 'step' must be one non-negative number, got {step!r}")
            return None
        return _ParamState(fresh.treedef, leaves, fresh.avals, int(array.reshape(())))

    def __repr__(self) -> str:
        # PyTorch's layout: each group opens with a newline, so groups are a blank line apart
        text = f"{type(self).__name__} ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"


class _graph_enabled:  # noqa: N801
    def __enter__(self) -> None:
        recorder = current()
        self._previous = recorder.grad_enabled
        recorder.grad_enabled = True

    def __exit__(self, *exc: Any) -> None:
        current().grad_enabled = self._previous
