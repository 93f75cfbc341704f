"""The bridge from a stateful fnnet.torch layer to the pure fnnet layer it wraps.

A wrapped layer keeps an ``fnnet.nn`` layer (``_fn``), initialises its parameters and
buffers with ``_fn.init(key)`` (PyTorch's initialisation and names), and records one
node per call that runs ``_fn.apply`` on the recorded values: the layer's arithmetic,
checks and error messages are fnnet's. In training mode a layer with state (BatchNorm)
returns its new running statistics as extra outputs, which become the buffers' values;
a layer that draws random numbers (Dropout) gets a key folded from the step's key.
"""

from __future__ import annotations

import copy
from typing import Any

import jax

import fnnet.nn as fnn
from fnnet.core.transfer import placed
from fnnet.nn.module import nested
from fnnet.torch import _graph, _random
from fnnet.torch._recorder import current
from fnnet.torch.nn.modules.module import Module
from fnnet.torch.nn.parameter import Parameter, buffer_from_array
from fnnet.torch.tensor import _FLOATS, Tensor, _op, _wrap_slot

#: ``(layer, param_names, state_names, train, draw)``: a layer call's static argument
_Spec = tuple[fnn.Module, tuple[str, ...], tuple[str, ...], bool, int]


#: configurations a recorder keeps layers for before it starts again (a sweep over ever
#: new sizes would otherwise grow its table forever)
SHARED_LIMIT = 10_000


def check_rank(input: Tensor, ranks: tuple[int, ...]) -> None:
    """Raises PyTorch's ValueError for an input whose number of dimensions a layer does
    not take ("expected 2D or 3D input (got 4D input)"); no ``ranks``: any."""
    if ranks and input.dim() not in ranks:
        raise ValueError(f"expected {' or '.join(f'{rank}D' for rank in ranks)} input "
                         f"(got {input.dim()}D input)")


#: PyTorch's error for a layer given what is not a tensor (a list, a numpy array), by
#: layer: the TypeError of the function the layer calls, as ``(function, argument,
#: position)``, or the AttributeError of the tensor method it calls first, by its name
_FUNCTION_OF = {"Linear": ("linear", "input", 1), "ReLU": ("relu", "input", 1),
                "Sigmoid": ("sigmoid", "input", 1), "Tanh": ("tanh", "input", 1),
                "GELU": ("gelu", "input", 1), "LeakyReLU": ("leaky_relu", "input", 1),
                "Dropout": ("dropout", "input", 1), "LayerNorm": ("layer_norm", "input", 1),
                "MaxPool2d": ("max_pool2d", "input", 1),
                "Embedding": ("embedding", "indices", 2)}
_METHOD_OF = {"BatchNorm1d": "dim", "BatchNorm2d": "dim", "BatchNorm3d": "dim",
              "Flatten": "flatten", "Softmax": "softmax", "LogSoftmax": "log_softmax"}


def _not_a_tensor(layer: Module, input: Any) -> Exception:
    """The exception for ``layer`` called on ``input``, which is not a tensor: PyTorch's
    words where known, else a TypeError that says how to convert it."""
    kind = type(input)
    name = kind.__qualname__ if kind.__module__ == "builtins" else \
        f"{kind.__module__}.{kind.__qualname__}"
    for cls in type(layer).__mro__:
        if not cls.__module__.startswith("fnnet.torch."):
            continue
        if cls.__name__ in _FUNCTION_OF:
            function, argument, position = _FUNCTION_OF[cls.__name__]
            return TypeError(f"{function}(): argument '{argument}' (position {position}) "
                             f"must be Tensor, not {name}")
        if cls.__name__ in _METHOD_OF:
            return AttributeError(f"'{name}' object has no attribute "
                                  f"'{_METHOD_OF[cls.__name__]}'")
    return TypeError(f"{type(layer).__name__}: input must be a Tensor, got {name}; convert "
                     "it with torch.from_numpy(x) or torch.tensor(x)")


def _configuration(layer: fnn.Module) -> tuple[Any, ...]:
    """``layer``'s type and attributes, each with its type: equal for layers built alike.

    Raises:
        TypeError: an attribute is unhashable, or ``layer`` has no ``__dict__``.
    """
    key = (type(layer), tuple((name, type(value), value)
                              for name, value in sorted(vars(layer).items())))
    hash(key)
    return key


def shared(layer: fnn.Module) -> fnn.Module:
    """The current recorder's layer for ``layer``'s configuration (its type and its
    attributes, each with its type), so that modules built alike (a model made again for
    each fold of a cross-validation, an ensemble's members) record the same structure
    and share their compiled steps. The shared layer is a copy, never a module's own, so
    that changing one module's layer (``dropout.p = 0.2``) changes no other; a layer with
    an unhashable attribute is its own."""
    try:
        key = _configuration(layer)
        layers = current().layers
        found = layers.get(key)
    except TypeError:  # an unhashable attribute, or no __dict__
        return layer
    if found is None:
        if len(layers) > SHARED_LIMIT:
            layers.clear()
        found = layers[key] = copy.copy(layer)
    return found


#: the shapes of each configuration's ``init`` (see :func:`init_shapes`)
_INIT_SHAPES: dict[tuple[Any, ...], dict[str, Any]] = {}


def init_shapes(layer: fnn.Module) -> dict[str, Any]:
    """The shapes and dtypes (``jax.ShapeDtypeStruct``) of ``layer.init``'s parameters,
    traced once per configuration and drawing nothing."""
    try:
        key: tuple[Any, ...] | None = _configuration(layer)
    except TypeError:
        key = None
    found = _INIT_SHAPES.get(key) if key is not None else None
    if found is None:
        found = jax.eval_shape(layer.init, _random.state.key)[0]
        if key is not None:
            if len(_INIT_SHAPES) > SHARED_LIMIT:
                _INIT_SHAPES.clear()
            _INIT_SHAPES[key] = found
    return found


def apply_layer(*args: Any) -> Any:
    """``layer.apply`` on flat arrays; the last argument is the static spec.

    spec = ``(layer, param_names, state_names, train, draw)``; the arrays are the input,
    then the parameters, the state, and (when ``draw``) the step's PRNG key.
    """
    *arrays, (layer, pnames, snames, train, draw) = args
    n_p, n_s = len(pnames), len(snames)
    params = {k: v for k, v in zip(pnames, arrays[1:1 + n_p], strict=False) if v is not None}
    state = dict(zip(snames, arrays[1 + n_p:1 + n_p + n_s], strict=False))
    key = _random.fold(arrays[-1], draw) if draw else None
    with nested():  # params leave out what the module set to None
        y, new_state = layer.apply(params, state, arrays[0], train=train, key=key)
    if train and snames:
        return (y, *(new_state[k] for k in snames))
    return y


def filled_in_place(module: Module, writes: int = 1) -> None:
    """Sets the version counter of ``module``'s own parameters and buffers to ``writes``:
    PyTorch's constructors fill them in place (``reset_parameters``: ``Linear(3, 2).weight
    ._version`` is 1, an ``Embedding``'s with a ``padding_idx`` 2)."""
    for tensor in (*module._parameters.values(), *module._buffers.values()):
        if tensor is not None:
            tensor._cell.version = writes


class Wrapped(Module):
    """A module computed by one fnnet layer (see the module docstring)."""

    _params: tuple[str, ...] = ()
    _state: tuple[str, ...] = ()
    # the buffers that PyTorch's forward in training mode writes with an in-place op,
    # which its version counter counts (BatchNorm's num_batches_tracked.add_(1))
    _counted: tuple[str, ...] = ()
    _random = False  # draws random numbers in training mode
    # every parameter is one PyTorch draws, and there is no state (see _initial_values)
    _draws_all = False
    _fn: fnn.Module  # the fnnet layer computing this module
    _specs: dict[tuple[bool, int], _Spec]  # by (train, draw)

    def _wrap(self, fn: fnn.Module) -> None:
        object.__setattr__(self, "_fn", fn)
        if self._params or self._state:
            params, state = self._initial_values()
            for name in self._params:
                self.register_parameter(
                    name, Parameter._from_array(params[name]) if name in params else None)
            for name in self._state:
                self.register_buffer(
                    name, buffer_from_array(state[name]) if name in state else None)
            filled_in_place(self)
        object.__setattr__(self, "_specs", {})

    def _drawn_parameters(self, params: dict[str, Any]) -> dict[str, Any]:
        """The parameters that PyTorch's ``reset_parameters`` draws, drawn as it draws them
        (from the global generator, in its order), given ``fn.init``'s ``params`` (or
        their shapes); the default draws none and keeps ``fn.init``'s values."""
        del params
        return {}

    def _initial_values(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The parameters and state a new module starts from: PyTorch's draws
        (:meth:`_drawn_parameters`) and, for the rest, the fnnet layer's ``init``; a
        module all of whose parameters PyTorch draws, with no state, takes only the
        shapes of ``init`` (its own draws would be thrown away)."""
        if self._draws_all:
            drawn = self._drawn_parameters(init_shapes(self._fn))
            return {name: placed(value) for name, value in drawn.items()}, {}
        params, state = self._fn.init(_random.state.split())
        params.update((name, placed(value))
                      for name, value in self._drawn_parameters(params).items())
        return params, state

    def _check_input(self, input: Tensor, *rest: Any) -> None:
        """Raises PyTorch's error for an input this layer cannot take (called with the
        recorded inputs the first time a structure is seen); the default checks nothing
        and leaves the wrapped layer's own checks to speak."""

    def _spec(self, train: bool, draw: int) -> _Spec:
        key = (train, draw)
        spec = self._specs.get(key)
        if spec is None:
            state = self._state if any(self._buffers.get(k) is not None
                                       for k in self._state) else ()
            spec = (shared(self._fn), self._params, state, train, draw)
            self._specs[key] = spec
        return spec

    def forward(self, input: Tensor) -> Tensor:
        if not isinstance(input, Tensor):
            raise _not_a_tensor(self, input)
        train = self.training
        d = self.__dict__
        inputs: list[object] = [input]
        for name in self._params:
            inputs.append(d[name])
        spec = self._specs.get((train, 0)) or self._spec(train, 0)
        if spec[2]:
            for name in spec[2]:
                inputs.append(d[name])
        # a layer that draws keeps its drop probability as p (fnnet's Dropout and RNNs)
        if self._random and train and getattr(self._fn, "p", 0.0) > 0:
            spec = self._spec(train, _graph.next_draw())
            inputs.append(_graph.rng_input())
        if not (train and spec[2]):
            return _op(apply_layer, (spec,), *inputs, check=self._check_input)
        first, avals, rg = _graph.record(apply_layer, (spec,), inputs, self._check_input)
        for i, name in enumerate(spec[2], start=1):
            cell = d[name]._cell
            _graph.bind(cell, first + i, avals[i], False)
            if name in self._counted:
                cell.version = getattr(cell, "version", 0) + 1
        return _wrap_slot(first, avals[0], rg and avals[0][1] in _FLOATS)

    def extra_repr(self) -> str:
        return self._fn.extra_repr()

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if "_specs" in self.__dict__ and name in self.__dict__["_fn"].__dict__ and \
                name not in self._params and name not in self._state:
            setattr(self._fn, name, value)
            self._specs.clear()
