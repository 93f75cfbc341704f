"""The one calling convention of every fnnet layer and model.

A layer is a description (its constructor arguments, as in PyTorch) plus two pure
functions:

- ``init(key) -> (params, state)``: the parameter tree and the layer state (BatchNorm
  running statistics), nested dicts named and laid out like PyTorch's ``state_dict``.
- ``apply(params, state, x, *, train=False, key=None) -> (y, new_state)``: the forward
  pass. ``train`` switches Dropout and BatchNorm as ``module.train()`` does in PyTorch;
  ``key`` is the PRNG key Dropout draws from. Nothing is mutated: the new layer state is
  returned.

A model is a :class:`Module` whose children are attributes, declared in ``__init__``
exactly as in PyTorch, and whose ``forward(m, x)`` calls them through ``m``, a view of
the model bound to one set of parameters, state, mode and key::

    class Net(fnnet.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = fnnet.nn.Linear(784, 128)
            self.fc2 = fnnet.nn.Linear(128, 10)

        def forward(self, m, x):
            return m.fc2(fnnet.nn.functional.relu(m.fc1(x)))

    net = Net()
    params, state = net.init(jax.random.key(0))
    logits, state = net.apply(params, state, x)

``params["fc1"]["weight"]`` is then what ``net.state_dict()["fc1.weight"]`` is in
PyTorch, with the same shape ``[128, 784]``.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Iterator, Mapping
from typing import Any

import jax
import numpy as np

from fnnet.nn.errors import check_key
from fnnet.nn.tree_check import check_trees
from fnnet.typing import Array, Params, PRNGKey, State

# Whether a composite module's apply is running (in this thread): only the outermost
# apply checks the trees, as its check covers its children's subtrees.
_APPLYING: contextvars.ContextVar[bool] = contextvars.ContextVar("fnnet_applying",
                                                                 default=False)


@contextlib.contextmanager
def nested() -> Iterator[None]:
    """Applies inside this block skip the tree check, as a composite's children do: for
    callers that hand a layer part of its tree on purpose (fnnet.torch leaves out the
    entries a PyTorch module set to None, ``head.bias = None``)."""
    token = _APPLYING.set(True)
    try:
        yield
    finally:
        _APPLYING.reset(token)


class Module:
    """Base class of fnnet layers and models.

    Leaf layers override :meth:`init` and :meth:`apply`. Composite models assign child
    modules as attributes in ``__init__`` and override :meth:`forward`; the default
    :meth:`init` and :meth:`apply` then compose the children.

    PyTorch equivalent: ``torch.nn.Module`` (without the mutable state).
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # A leaf's own apply checks its trees when it is the outermost apply, as the
        # default apply does (a Linear given no bias would silently compute without one).
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("init")
        if init is not None and not getattr(init, "_checks_key", False):
            # A leaf's own init checks its key as the default init does: an int seed
            # would otherwise fail inside jax.random with JAX's words, naming no layer.
            @functools.wraps(init)
            def checked_init(self: Module, key: PRNGKey, *args: Any, **kwargs: Any) -> Any:
                check_key(key, f"{type(self).__name__}.init")
                return init(self, key, *args, **kwargs)

            checked_init._checks_key = True  # type: ignore[attr-defined]
            cls.init = checked_init  # type: ignore[method-assign]
        apply = cls.__dict__.get("apply")
        if apply is None:
            return

        @functools.wraps(apply)
        def checked_apply(self: Module, params: Params, state: State, *args: Any,
                          **kwargs: Any) -> Any:
            if not _APPLYING.get():
                check_trees(self, params, state)
                _check_train_flag(self, kwargs.get("train", False))
            return apply(self, params, state, *args, **kwargs)

        cls.apply = checked_apply  # type: ignore[method-assign]

    def init(self, key: PRNGKey) -> tuple[Params, State]:
        """Initialises the parameters and state of every child, as PyTorch does.

        Args:
            key: a PRNG key; each child gets its own key, folded in by position.

        Returns:
            ``(params, state)``, nested dicts keyed by child name. Children without
            parameters (or state) are left out, as in PyTorch's ``state_dict``.

        Raises:
            TypeError: ``key`` is not a PRNG key (an int seed: ``jax.random.key(seed)``).
        """
        check_key(key, f"{type(self).__name__}.init")
        params: Params = {}
        state: State = {}
        for index, (name, child) in enumerate(self.named_children()):
            child_params, child_state = child.init(jax.random.fold_in(key, index))
            if child_params:
                params[name] = child_params
            if child_state:
                state[name] = child_state
        return params, state

    def apply(
        self,
        params: Params,
        state: State,
        x: Any,
        *args: Any,
        train: bool = False,
        key: PRNGKey | None = None,
        **kwargs: Any,
    ) -> tuple[Any, State]:
        """Runs the forward pass; pure.

        Args:
            params: the tree returned by :meth:`init` (or loaded from PyTorch).
            state: the layer state returned by :meth:`init` or by a previous call.
            x: the input, e.g. ``[N, C, H, W]`` images or ``[N, features]``.
            *args: further positional inputs passed to :meth:`forward`.
            train: training mode (Dropout drops, BatchNorm uses batch statistics and
                updates its running statistics). PyTorch equivalent: ``model.train()``.
            key: PRNG key for Dropout; needed only when ``train`` and a Dropout with
                ``p > 0`` is reached.
            **kwargs: further keyword inputs passed to :meth:`forward`.

        Returns:
            ``(y, new_state)``.

        Raises:
            StateDictError: ``params`` or ``state`` lacks an entry that ``init`` makes,
                has one it does not, or one of another shape (checked once, by the
                outermost ``apply``; see :mod:`fnnet.nn.tree_check`).
            TypeError: ``params`` or ``state`` is not a nested dict of arrays, or
                ``key`` is not a PRNG key; ``train`` traced where a layer needs its
                value (Dropout, BatchNorm, the recurrent layers).
        """
        if not _APPLYING.get():
            check_trees(self, params, state)
            _check_train_flag(self, train)
            if key is not None:
                check_key(key, f"{type(self).__name__}.apply")
        token = _APPLYING.set(True)
        try:
            bound = Bound(self, params, state, train=train, key=key)
            y = self.forward(bound, x, *args, **kwargs)
        finally:
            _APPLYING.reset(token)
        return y, bound.new_state

    def forward(self, m: Bound, x: Any, *args: Any, **kwargs: Any) -> Any:
        """The model's computation; ``m.child(x)`` calls a child. Composites override."""
        raise NotImplementedError(f"{type(self).__name__} must define forward(self, m, x)")

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Yields ``(name, child)`` for each child module, in assignment order."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value

    def children(self) -> Iterator[Module]:
        """Yields each child module, in assignment order.

        PyTorch equivalent: ``torch.nn.Module.children``.
        """
        for _, child in self.named_children():
            yield child

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """Yields ``(dotted name, module)`` for this module (named ``prefix``) and every
        module below it, depth first, each module once, as PyTorch's.

        PyTorch equivalent: ``torch.nn.Module.named_modules``.
        """
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            below = [(f"{name}.{child_name}" if name else child_name, child)
                     for child_name, child in module.named_children()]
            stack.extend(reversed(below))

    def modules(self) -> Iterator[Module]:
        """Yields this module and every module below it (see :meth:`named_modules`).

        PyTorch equivalent: ``torch.nn.Module.modules``.
        """
        for _, module in self.named_modules():
            yield module

    def __getattr__(self, name: str) -> Any:
        # Called only for names the module lacks: PyTorch's stateful methods get a
        # pointer to their fnnet form (still an AttributeError, so hasattr stays False).
        hint = _TORCH_METHODS.get(name)
        if hint is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}: "
                             f"fnnet modules hold no parameters or mode (PyTorch's "
                             f"module.{name}); {hint}")

    def extra_repr(self) -> str:
        """The arguments shown by ``repr``, as in PyTorch."""
        return ""

    def __repr__(self) -> str:
        # PyTorch's layout: the extra_repr inline when it is all, else its lines and the
        # children's, each on a line of its own
        children = list(self.named_children())
        extra = self.extra_repr()
        if not children:
            return f"{type(self).__name__}({extra})"
        lines = extra.split("\n") if extra else []
        for name, child in children:
            lines.append(f"({name}): {repr(child)}")
        body = "\n".join(lines).replace("\n", "\n  ")
        return f"{type(self).__name__}(\n  {body}\n)"

    def __call__(self, *args: Any, **kwargs: Any) -> tuple[Any, State]:
        """Alias of :meth:`apply`.

        Raises:
            TypeError: called on the input alone, as a PyTorch module is.
        """
        if len(args) == 1 and not isinstance(args[0], Mapping):
            raise TypeError(f"{type(self).__name__} was called on its input alone, as a "
                            f"PyTorch module is; fnnet modules hold no parameters: "
                            f"params, state = model.init(jax.random.key(0)), then y, "
                            f"state = model.apply(params, state, x)")
        return self.apply(*args, **kwargs)


#: PyTorch's stateful Module methods and where their work is done in fnnet
_TORCH_METHODS = {
    "parameters": "params, state = model.init(key) returns them as a tree",
    "named_parameters": "fnnet.nn.state_dict(params, state, model) names them",
    "state_dict": "use fnnet.nn.state_dict(params, state, model)",
    "load_state_dict": "use params, state = fnnet.nn.load_state_dict(model, state_dict)",
    "train": "pass train=True (and key=) to model.apply",
    "eval": "pass train=False to model.apply (the default)",
    "zero_grad": "gradients are returned by jax.grad, never accumulated",
    "to": "place arrays with jax.device_put(params, device)",
    "cuda": "place arrays with jax.device_put(params, device)",
    "cpu": "place arrays with jax.device_put(params, device)",
    "requires_grad_": "jax.grad differentiates the arguments it is given",
    "register_buffer": "override init to return the buffer in the state tree",
    "register_parameter": "override init to add the parameter to the params tree",
}


class Bound:
    """A module bound to its parameters, state, mode and key during one forward pass.

    ``m.name(x)`` runs the child ``name`` on its own subtrees, hands it its own Dropout
    key (the pass key folded with a running call count, so a Dropout used twice draws
    twice) and records the child's new state. ``m.params`` and ``m.state`` give the
    module's own trees, for models that use a parameter directly.
    """

    def __init__(
        self,
        module: Module,
        params: Params,
        state: State,
        *,
        train: bool,
        key: PRNGKey | None,
    ) -> None:
        self.module = module
        self.params = params
        self.state = state
        self.train = train
        self.key = key
        self.new_state: State = dict(state)
        self._calls = 0
        # Set on views of containers (see ``view``): dotted prefix of the children's
        # names in error messages, and where to record the children's new state.
        self._path = ""
        self._parent: tuple[Bound, str] | None = None
        self._views: dict[str, Bound] = {}

    def next_key(self) -> PRNGKey | None:
        """A fresh key for one stochastic call, or None when the pass has no key."""
        if self.key is None:
            return None
        self._calls += 1
        return jax.random.fold_in(self.key, self._calls)

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Runs child ``name`` (see the class docstring) and returns its output."""
        child = getattr(self.module, name)
        if not isinstance(child, Module):
            raise TypeError(f"{type(self.module).__name__}.{name} is not a Module")
        try:
            y, child_state = child.apply(
                self.params.get(name, {}),
                self.new_state.get(name, {}),
                *args,
                train=self.train,
                key=self.next_key(),
                **kwargs,
            )
        except (ValueError, TypeError) as err:
            _prefix_error(err, self._path + name)
            raise
        if child_state:
            self.new_state[name] = child_state
            self._record()
        return y

    def view(self, name: str) -> Bound:
        """The child ``name`` bound to its own subtrees, for containers without a
        ``forward`` (``ModuleList``): ``m.layers[0](x)``, ``for f in m.layers: ...``."""
        if name not in self._views:
            child = getattr(self.module, name)
            view = Bound(child, self.params.get(name, {}), self.new_state.get(name, {}),
                         train=self.train, key=self.next_key())
            view._path = f"{self._path}{name}."
            view._parent = (self, name)
            self._views[name] = view
        return self._views[name]

    def _record(self) -> None:
        """Copies a view's new state into its parent's, up to the bound model."""
        if self._parent is not None:
            parent, name = self._parent
            parent.new_state[name] = self.new_state
            parent._record()

    def _member(self, name: str) -> Any:
        child = getattr(self.module, name)
        if isinstance(child, Module):
            if _is_container(child):
                return self.view(name)
            return lambda *args, **kwargs: self.call(name, *args, **kwargs)
        return child

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("_path", "_parent", "_views"):
            raise AttributeError(name)
        return self._member(name)

    def __getitem__(self, index: int | str | slice) -> Any:
        names = [name for name, _ in self.module.named_children()]
        if isinstance(index, int) and not isinstance(index, bool):
            if not -len(names) <= index < len(names):
                raise IndexError(
                    f"index {index} is out of range for {type(self.module).__name__} "
                    f"with {len(names)} children"
                )
            return self._member(names[index])
        if isinstance(index, str):
            return self._member(index)
        if isinstance(index, slice):  # ``for layer in m.layers[1:]``, as in PyTorch
            return [self._member(name) for name in names[index]]
        raise TypeError(f"children are indexed by int, slice or name, got {index!r}")

    def __iter__(self) -> Iterator[Any]:
        for name, _ in self.module.named_children():
            yield self._member(name)

    def __len__(self) -> int:
        return sum(1 for _ in self.module.named_children())


def _is_container(module: Module) -> bool:
    """True for modules with no computation of their own (``ModuleList``)."""
    cls = type(module)
    return cls.forward is Module.forward and cls.apply is Module.apply


def _prefix_error(err: BaseException, path: str) -> None:
    """Prefixes the message of ``err`` with the dotted child path, in place.

    Errors raised inside nested children get the full path (``features.0: Conv2d...``),
    each enclosing :meth:`Bound.call` adding its segment.
    """
    message = getattr(err, "_fnnet_message", None)
    if message is None:
        if len(err.args) != 1 or not isinstance(err.args[0], str):
            return
        message = err.args[0]
    inner = getattr(err, "_fnnet_path", "")
    full = f"{path}.{inner}" if inner else path
    err._fnnet_message = message  # type: ignore[attr-defined]
    err._fnnet_path = full  # type: ignore[attr-defined]
    err.args = (f"{full}: {message}",)


def _check_train_flag(module: Any, train: Any) -> None:
    """Raises a TypeError naming ``module`` unless ``train`` is a bool (or traced: see
    :func:`check_train`); a str such as ``"eval"`` would otherwise select training."""
    if not isinstance(train, bool | np.bool_ | jax.core.Tracer) and not (
            isinstance(train, jax.Array) and train.shape == () and train.dtype == bool):
        raise TypeError(f"{type(module).__name__}.apply: train must be a bool, got "
                        f"{train!r}")


def check_train(layer: Any, train: Any) -> None:
    """Raises a TypeError naming ``layer`` when ``train`` is traced (``jax.jit(model.apply)``
    without marking it static): it picks which computation is traced, so it must be
    known while tracing, as flax's ``deterministic`` flags must."""
    if isinstance(train, jax.core.Tracer):
        raise TypeError(
            f"{layer!r}: train must be a Python bool, got a traced {train.aval}: under "
            "jax.jit mark it static, e.g. jax.jit(model.apply, static_argnames='train')")


def check_dropout_key(layer: Any, key: PRNGKey | None) -> None:
    """Raises a ValueError naming ``layer`` when it drops in training mode without a
    PRNG key (JAX would fail later on the key's type)."""
    if key is None:
        raise ValueError(
            f"{layer!r}: training mode needs a PRNG key; pass key= to apply, e.g. "
            "model.apply(params, state, x, train=True, key=jax.random.key(0))")


def check_input(layer: Any, x: Array, *, ndim: tuple[int, ...], dim: int | None = None,
                size: int | None = None, what: str = "input") -> None:
    """Raises a ValueError naming ``layer`` when ``x`` has the wrong rank or size, a
    TypeError when it is not an array (a list).

    Args:
        layer: the layer (its ``repr`` is quoted) or a name.
        x: the input array.
        ndim: the accepted ranks.
        dim: the axis whose size is checked against ``size``.
        size: the expected size of axis ``dim``.
        what: what ``x`` is, for the message.
    """
    name = layer if isinstance(layer, str) else repr(layer).split("\n")[0]
    if not hasattr(x, "shape") and not isinstance(x, (int, float, complex)):
        # a list of rows would otherwise be reported as shape (), as a scalar
        raise TypeError(f"{name}: expected {what} to be an array (numpy or jax), got "
                        f"{type(x).__name__}; convert it with jnp.asarray")
    shape = tuple(getattr(x, "shape", ()))
    if len(shape) not in ndim:
        ranks = " or ".join(f"{n}-D" for n in ndim)
        raise ValueError(f"{name}: expected {ranks} {what}, got shape {shape}")
    if dim is not None and size is not None and shape[dim] != size:
        axis = dim % len(shape)
        raise ValueError(
            f"{name}: expected {what} with {size} at axis {axis}, got shape {shape} "
            f"({shape[dim]} at axis {axis})"
        )
