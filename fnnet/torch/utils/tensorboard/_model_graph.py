"""The graph ``SummaryWriter.add_graph`` writes: one forward call, drawn from the tape.

PyTorch traces the model with ``torch.jit`` and writes one node per operator, grouped by
the modules that called it (``Net/Linear[fc1]/...``). fnnet.torch records every call
on its tape already: the model runs once with the inputs as leaves, each recorded node
reachable from the outputs (``grad_fn`` and its ``next_functions``) becomes a node of
the graph, placed in the innermost module whose call recorded it, and each parameter
and input an edge into the nodes that read it.
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Iterator
from typing import Any


def _tensors(value: Any) -> Iterator[Any]:
    """The tensors in ``value`` (a forward call's output or a function's arguments: a
    tensor, or nested tuples, lists and dicts of them), in order."""
    from fnnet.torch.tensor import Tensor

    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _tensors(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)


def _scopes(model: Any) -> dict[Any, str]:
    """Each submodule's scope as PyTorch names it: ``Net/Sequential[fc]/Linear[0]``."""
    scopes: dict[Any, str] = {}
    for path, module in model.named_modules():
        scope = type(model).__name__
        owner = model
        for part in path.split(".") if path else []:
            owner = owner._modules[part] if hasattr(owner, "_modules") else \
                getattr(owner, part)
            scope += f"/{type(owner).__name__}[{part}]"
        scopes.setdefault(module, scope)
    return scopes


def _argument_names(model: Any, count: int) -> list[str]:
    """The names of ``forward``'s first ``count`` positional parameters, which PyTorch's
    graph gives its input nodes (``input/x.1``); ``input`` past them (``*args``)."""
    try:
        parameters = inspect.signature(model.forward).parameters.values()
    except (TypeError, ValueError):
        parameters = []  # type: ignore[assignment]
    named = [p.name for p in parameters if p.kind in (
        inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    return (named + ["input"] * count)[:count]


#: torch.nn.functional's functions that are PyTorch operators themselves (the others are
#: Python functions calling operators on their own arguments, ``input``...)
_FUNCTIONAL_OPERATORS = frozenset({
    "adaptive_avg_pool1d", "avg_pool1d", "avg_pool2d", "avg_pool3d", "bilinear",
    "channel_shuffle", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
    "conv_transpose3d", "cosine_similarity", "gelu", "hardshrink", "linear", "logsigmoid",
    "one_hot", "pairwise_distance", "pdist", "pixel_shuffle", "pixel_unshuffle", "prelu",
    "scaled_dot_product_attention", "softplus", "softshrink"})


class _NameWatch:
    """Which input names PyTorch's tracer also gives another value, which makes it name
    the input ``<name>.1``.

    The tracer names a value, at the first operator that reads it, after the local
    variable holding it in the Python frame that calls the operator: after
    ``x = self.fc(x)``, ``x.view(...)`` names the layer's output ``x`` (the input becomes
    ``x.1``), while ``self.fc2(x)`` hands it to a layer, whose operators name it after
    their own argument (``input``), as do torch.nn.functional's Python functions. This
    watches the forward call for the same: calls from the user's code into fnnet.torch
    (``sys.setprofile``) and the arguments of fnnet.torch's own modules.
    """

    def __init__(self, model: Any, names: list[str], leaves: tuple[Any, ...]) -> None:
        from fnnet.torch.nn import functional

        self.model, self.names, self.functional = model, set(names), functional
        # the values the tracer would have named, kept alive so that their ids stay theirs
        self.named: dict[int, Any] = {id(leaf): leaf for leaf in leaves}
        self.taken: set[str] = set()
        self.read: set[int] = set()  # the ids of the values handed to fnnet.torch

    def _name(self, value: Any, name: str | None) -> None:
        """The tracer names ``value`` ``name`` (None: it finds no variable holding it)."""
        from fnnet.torch.tensor import Tensor

        if isinstance(value, Tensor):
            self.read.add(id(value))
        if name is None or not isinstance(value, Tensor) or id(value) in self.named:
            return
        self.named[id(value)] = value
        if name in self.names:
            self.taken.add(name)

    def module_call(self, module: Any, args: Any) -> None:
        """A forward pre-hook: one of fnnet.torch's modules names its arguments after
        its ``forward``'s parameters, as PyTorch's operators inside it do."""
        if type(module).__module__.startswith("fnnet.torch."):
            for name, value in zip(_argument_names(module, len(args)), args, strict=True):
                self._name(value, name)

    def __call__(self, frame: Any, event: str, arg: Any) -> None:
        """The profile function: a call into fnnet.torch from the user's code."""
        caller = frame.f_back
        if event != "call" or caller is None or \
                caller.f_globals.get("__name__", "").startswith("fnnet.") or \
                not frame.f_globals.get("__name__", "").startswith("fnnet.torch.") or \
                frame.f_code.co_name == "__call__":
            return
        name = frame.f_code.co_name
        function = getattr(self.functional, name, None)
        if getattr(function, "__code__", None) is frame.f_code and \
                name not in _FUNCTIONAL_OPERATORS:
            for parameter, value in list(frame.f_locals.items()):  # named by them
                self._name(value, parameter)
            return
        held = {id(v): name for name, v in reversed(list(caller.f_locals.items()))}
        for value in _tensors(list(frame.f_locals.values())):  # *args, a list to cat...
            self._name(value, held.get(id(value)))


def _shape_attr(shape: tuple[int, ...]) -> Any:
    from tensorboardX.proto.attr_value_pb2 import AttrValue
    from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto

    dims = [TensorShapeProto.Dim(size=int(n)) for n in shape]
    return AttrValue(list=AttrValue.ListValue(shape=[TensorShapeProto(dim=dims)]))


#: PyTorch's tracer's refusal of a dict returned by the model, traced strictly
_DICT_OUTPUT = (
    "Encountering a dict at the output of the tracer might cause the trace to be "
    "incorrect, this is only valid if the container structure does not change based on "
    "the module's inputs. Consider using a constant container instead (e.g. for `list`, "
    "use a `tuple` instead. for `dict`, use a `NamedTuple` instead). If you absolutely "
    "need this and know the side effects, pass strict=False to trace() to allow this "
    "behavior.")


def model_graph(model: Any, inputs: tuple[Any, ...], strict: bool = True) -> Any:
    """The ``GraphDef`` of ``model(*inputs)``, as PyTorch's writer makes it.

    Args:
        model: a fnnet.torch ``nn.Module``.
        inputs: its positional arguments (tensors; others are passed as they are).
        strict: refuse a dict returned by the model, as PyTorch's strict tracer does.

    Raises:
        RuntimeError: ``strict`` and the model returned a dict (PyTorch's message).

    Returns:
        The graph: an ``IO Node`` per input read (``input/<forward's argument>``, with
        ``.1`` where PyTorch's tracer names another value so: see :class:`_NameWatch`)
        and one for the output (``output/output.1``, fed by a ``prim::TupleConstruct``
        node where ``model`` returns several tensors), a ``Parameter`` node per
        parameter read, and a node per recorded operation (named after PyTorch's
        ``grad_fn`` without ``Backward``), each inside its module's scope.
    """
    from tensorboardX.proto.attr_value_pb2 import AttrValue
    from tensorboardX.proto.graph_pb2 import GraphDef
    from tensorboardX.proto.node_def_pb2 import NodeDef
    from tensorboardX.proto.versions_pb2 import VersionDef

    from fnnet.torch._autograd import enable_grad
    from fnnet.torch._grad_fn import AccumulateGrad, GradFn
    from fnnet.torch._recorder import current
    from fnnet.torch.tensor import Tensor

    scopes = _scopes(model)
    calls: list[tuple[str, Any, int, int]] = []  # (scope, tape, first node, end)
    started: list[tuple[Any, int]] = []

    def before(module: Any, args: Any) -> None:
        tape = current().tape
        started.append((tape, len(tape.nodes)))

    def after(module: Any, args: Any, output: Any) -> None:
        tape, first = started.pop()
        now = current().tape  # a fresh tape begun during the call holds it from its start
        calls.append((scopes[module], now, first if now is tape else 0, len(now.nodes)))

    # the inputs as leaves, so that the edges from them are recorded
    leaves = tuple(x.detach().requires_grad_() if isinstance(x, Tensor)
                   and x.is_floating_point() else x for x in inputs)
    input_names = _argument_names(model, len(leaves))
    watch = _NameWatch(model, input_names, leaves)
    handles = [handle for module in scopes for handle in (
        module.register_forward_pre_hook(before), module.register_forward_pre_hook(
            watch.module_call), module.register_forward_hook(after))]
    profiling = sys.getprofile()
    try:
        sys.setprofile(watch)
        with enable_grad():  # recorded as a graph even where the caller is in no_grad
            result = model(*leaves)
    finally:
        sys.setprofile(profiling)
        for handle in handles:
            handle.remove()
    if strict and isinstance(result, dict):
        raise RuntimeError(_DICT_OUTPUT)

    def scope_of(fn: GradFn) -> str:
        """The innermost module call that recorded ``fn`` (the last begun of those
        holding it)."""
        holding = [(first, scope) for scope, tape, first, end in calls
                   if tape is fn._tape and first <= fn._index < end]
        return max(holding)[1] if holding else type(model).__name__

    params = {id(p): name for name, p in model.named_parameters()}
    owners = {name: scopes[module] for module, name in
              ((m, n) for n, m in model.named_modules())}
    names: dict[Any, str] = {}  # a grad_fn (or a leaf's id) -> its node's name
    nodes: list[Any] = []
    taken: set[str] = set()

    def add(name: str, op: str, inputs: list[str], shape: tuple[int, ...] | None = None
            ) -> str:
        unique, count = name, 1
        while unique in taken:
            unique, count = f"{name}.{count}", count + 1
        taken.add(unique)
        attr = {"attr": AttrValue(s=b"")}
        if shape is not None:
            attr["_output_shapes"] = _shape_attr(shape)
        nodes.append(NodeDef(name=unique, op=op, input=inputs, attr=attr))
        return unique

    for name, leaf in zip(input_names, leaves, strict=True):
        if isinstance(leaf, Tensor):  # an integer input (token ids) has no edges out
            suffix = ".1" if name in watch.taken else ""
            names[id(leaf)] = add(f"input/{name}{suffix}", "IO Node", [], tuple(leaf.shape))

    def node_of(fn: Any, scope: str) -> str | None:
        """The node of ``fn`` (made on first sight), or None for a constant."""
        if fn is None:
            return None
        if isinstance(fn, AccumulateGrad):
            leaf = fn.variable
            if id(leaf) not in names:
                param = params.get(id(leaf), "parameter")
                owner, _, attribute = param.rpartition(".")
                where = owners.get(owner, type(model).__name__)
                names[id(leaf)] = add(f"{where}/{attribute}", "Parameter", [],
                                      tuple(leaf.shape))
            return names[id(leaf)]
        key = fn if isinstance(fn, GradFn) else id(fn)
        if key not in names:
            if isinstance(fn, GradFn):
                scope = scope_of(fn)
            op = re.sub(r"Backward\d*$", "", fn.name()) or fn.name()
            sources = [node_of(n, scope) for n, _ in fn.next_functions]
            names[key] = add(f"{scope}/{op}", op, [s for s in sources if s is not None])
        return names[key]

    sources = [node_of(output.grad_fn, type(model).__name__) if output.grad_fn is not None
               else names.get(id(output)) for output in _tensors(result)]
    if isinstance(result, Tensor):
        add("output/output.1", "IO Node", [s for s in sources if s], tuple(result.shape))
    else:  # one output, a container built from the tensors, as PyTorch's tracer draws it
        kind = "Dict" if isinstance(result, dict) else "List" if isinstance(result, list) \
            else "Tuple"
        built = add(f"{type(model).__name__}/{kind}Construct", f"prim::{kind}Construct",
                    [s for s in sources if s])
        add("output/output.1", "IO Node", [built])
    # an input the forward pass never reads is left out, as PyTorch's tracer leaves it
    unread = {names[id(leaf)] for leaf in leaves
              if isinstance(leaf, Tensor) and id(leaf) not in watch.read} - \
        {source for node in nodes for source in node.input}
    return GraphDef(node=[n for n in nodes if n.name not in unread],
                    versions=VersionDef(producer=22))
