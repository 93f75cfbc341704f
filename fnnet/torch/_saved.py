"""PyTorch's check that the values autograd saved for backward were not changed in place.

PyTorch's backward nodes keep some of their inputs or outputs (``exp`` its output,
``mul`` each operand the other one's gradient needs, ``add`` nothing) with the version
counter of their storage at that time; ``backward()`` raises when an in-place op has
bumped it since ("one of the variables needed for gradient computation has been
modified by an inplace operation"). fnnet.torch's in-place ops record a new value and
point the tensor at it, so the recorded graph would silently differentiate the old one.

Instead, an in-place op notes on the tape the slot it overwrote
(``Tape.overwritten``), and :func:`check` compares those slots with the ones that the
nodes of a backward's region save, by the rules below (PyTorch's ``_saved_*`` fields
per node); an op without a rule saves nothing, so it never raises. Which slots a region
saves is worked out once per recorded structure; the check of a step without in-place
ops costs one test of an empty dict.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Iterator
from typing import Any

from fnnet.torch import _dtypes
from fnnet.torch._grad_fn import _named, _op_name, written_from
from fnnet.torch._recorder import Recorder
from fnnet.torch._tape import CONST, Node, Overwritten, Tape, kind_of, slot_of, version_of

#: a saved value: its slot and its output number (-1 for a saved input)
Saved = tuple[int, int]
Rule = Callable[[Node], Iterator[Saved]]

#: saved-slot sets a recorder keeps (``Recorder.saved``) are emptied past this many
CACHE_LIMIT = 4096

#: PyTorch's words after the versions
HINT = ("Hint: enable anomaly detection to find the operation that failed to compute its "
        "gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False).")


def _result(node: Node) -> Iterator[Saved]:
    yield node.first, 0


def _inputs(*positions: int) -> Rule:
    """The rule of a node saving its inputs at ``positions``."""
    def rule(node: Node) -> Iterator[Saved]:
        for i in positions:
            if i < len(node.inputs) and node.inputs[i] >= 0:
                yield slot_of(node.inputs[i]), -1
    return rule


def _self_and_result(node: Node) -> Iterator[Saved]:
    yield from _inputs(0)(node)
    yield node.first, 0


def _product(node: Node) -> Iterator[Saved]:
    """``a * b``, ``a @ b``, a linear or convolution layer: each of the first two inputs
    is saved where the other one requires grad (its gradient needs it)."""
    a, b = node.inputs[0], node.inputs[1] if len(node.inputs) > 1 else -1
    if a >= 0 and b >= 0:
        if kind_of(b) != CONST:
            yield slot_of(a), -1
        if kind_of(a) != CONST:
            yield slot_of(b), -1


def _divide(node: Node) -> Iterator[Saved]:
    """``a / b``: both gradients need ``b``, ``b``'s needs ``a``."""
    a, b = node.inputs[0], node.inputs[1]
    if b >= 0:
        yield slot_of(b), -1
        if a >= 0 and kind_of(b) != CONST:
            yield slot_of(a), -1


def _all_inputs(node: Node) -> Iterator[Saved]:
    for r in node.inputs:
        if r >= 0:
            yield slot_of(r), -1


def _power(node: Node) -> Iterator[Saved]:
    yield from _all_inputs(node)
    yield node.first, 0


#: fnnet's op (or layer) name -> what PyTorch's node for it saves
RULES: dict[str, Rule] = {
    **dict.fromkeys(("exp", "sqrt", "tanh", "sigmoid", "relu", "_softmax", "_log_softmax",
                     "rsqrt", "reciprocal", "tan", "Softmax", "LogSoftmax", "Sigmoid",
                     "Tanh", "ReLU"), _result),
    **dict.fromkeys(("log", "sin", "cos", "_abs", "_pow_scalar", "gelu", "leaky_relu",
                     "silu", "elu", "celu", "selu", "hardtanh", "relu6", "softplus", "erf",
                     "log1p", "CELU", "SELU",
                     "avg_pool2d", "max_pool2d", "GELU", "LeakyReLU", "SiLU", "ELU",
                     "AvgPool2d", "MaxPool2d", "BatchNorm1d", "BatchNorm2d",
                     "BatchNorm3d"), _inputs(0)),
    **dict.fromkeys(("multiply", "matmul", "Linear", "linear", "Conv1d", "Conv2d", "Conv3d",
                     "conv1d", "conv2d", "conv3d", "_outer"), _product),
    "true_divide": _divide,
    "_rpow_scalar": _self_and_result, "_max": _self_and_result, "_min": _self_and_result,
    "_norm": _self_and_result, "_vector_norm": _self_and_result,
    "power": _power,
    "_clamp": _all_inputs, "_mse": _all_inputs, "_smooth_l1": _all_inputs,
    "_bce_logits": _all_inputs, "_huber": _all_inputs, "_nll": _all_inputs,
    "LayerNorm": _inputs(0, 1, 2),
    "_ce": _inputs(1), "_masked_fill": _inputs(1), "Embedding": _inputs(0),
}


#: ops whose result is a view of their first input in PyTorch, sharing its version counter:
#: a saved view (``w.t()`` of ``x @ w.t()``) is changed by a write to the tensor viewed
VIEWS = frozenset(("_transpose", "_permute", "_reshape", "_flatten", "_squeeze",
                   "_unsqueeze", "_window", "_expand", "_narrow", "_diagonal"))


def _bases(tp: Tape, slot: int) -> Iterator[int]:
    """``slot`` and, while it is a view's value (see :data:`VIEWS`), the value it views."""
    yield slot
    while True:
        node = tp.nodes[_producer(tp, slot)]
        name = _op_name(node) if node.op is not None else None
        if name not in VIEWS and not (name == "_getitem" and not any(
                kind == "t" for kind, *_ in node.static[0])):  # a basic index only
            return
        if not node.inputs or node.inputs[0] < 0:
            return
        slot = slot_of(node.inputs[0])
        yield slot


#: ops whose in-place form saves its result instead of its input (``leaky_relu_``)
RESULT_IN_PLACE = frozenset(("leaky_relu", "LeakyReLU", "elu", "ELU", "celu", "CELU",
                             "selu", "SELU"))


def _saved_by(node: Node) -> Iterator[Saved]:
    name = _op_name(node) if node.op is not None else None
    rule = RULES.get(name) if name is not None else None
    if rule is None:
        return iter(())
    if name in RESULT_IN_PLACE:  # the result counts only where the op wrote in place
        return itertools.chain(rule(node), _result(node))
    return rule(node)


def saved_slots(tp: Tape, nodes: list[int]) -> frozenset[int]:
    """The slots that the nodes ``nodes`` of ``tp`` save for backward, and those that the
    views among them view."""
    return frozenset(base for n in nodes for slot, _ in _saved_by(tp.nodes[n])
                     for base in _bases(tp, slot))


def check(tp: Tape, loss_ref: int, region: Callable[[Tape, int], tuple[list[int], Any]]
          ) -> None:
    """Raises PyTorch's RuntimeError where a node of the backward of ``loss_ref`` saved a
    value that an in-place op has overwritten since (``tp.overwritten`` non-empty).

    ``region(tp, loss_ref)`` gives the nodes the backward goes through; the slots they
    save are kept per structure.
    """
    rec = tp.recorder
    cache = rec.saved if isinstance(rec, Recorder) else {}
    key = (tp.state, loss_ref)
    saved = cache.get(key)
    if saved is None:
        if len(cache) > CACHE_LIMIT:
            cache.clear()
        saved = cache[key] = saved_slots(tp, region(tp, loss_ref)[0])
    if saved.isdisjoint(tp.overwritten):
        return
    nodes = region(tp, loss_ref)[0]
    for n in reversed(nodes):  # the order PyTorch's backward runs the nodes in
        node = tp.nodes[n]
        in_place = False
        for slot, output in _saved_by(node):
            mark = tp.overwritten.get(slot)
            if output < 0 and mark is not None and _writes(tp, n, mark[3]):
                in_place = True
                continue  # the in-place op itself (through a view, its write back too)
            if output >= 0 and not in_place and _op_name(node) in RESULT_IN_PLACE:
                continue
            for depth, base in enumerate(_bases(tp, slot)):
                mark = tp.overwritten.get(base)
                if mark is not None:
                    raise RuntimeError(_message(tp, n, slot, output, mark, depth > 0,
                                                in_place))


def _producer(tp: Tape, slot: int) -> int:
    """The index of the node of ``tp`` whose outputs hold ``slot``."""
    return bisect.bisect_right(tp.nodes, slot, key=lambda node: node.first) - 1


def _writes(tp: Tape, n: int, result: int) -> bool:
    """Whether node ``n`` is the in-place op that computed ``result`` (``x.sin_()``'s
    ``sin``, before a cast back to the tensor's dtype or the node keeping the tensor's
    graph): PyTorch's in-place op keeps what it needs of the value it overwrites."""
    if result < 0:
        return False
    at = _producer(tp, result)
    while at > n and _op_name(tp.nodes[at]) in ("_astype", "_copy_into", "_written") and \
            tp.nodes[at].inputs and tp.nodes[at].inputs[-1] >= 0:
        at = _producer(tp, slot_of(tp.nodes[at].inputs[-1]))
    return at == n


def _message(tp: Tape, n: int, slot: int, output: int, mark: Overwritten,
             viewed: bool, in_place: bool) -> str:
    """PyTorch's words for the saved value at ``slot`` of node ``n`` overwritten by
    ``mark`` (``output``: its output number in ``n``, -1 for an input; ``viewed``: the
    value is a view of the one overwritten; ``in_place``: node ``n`` wrote its result in
    place, PyTorch's second form of the node)."""
    cell, counter, version, _ = mark
    shape, kind, _ = tp.avals[slot]
    name = _dtypes.SCALAR_NAMES.get(_dtypes.from_np(kind).name)
    described = f"[torch.{name}Tensor [{', '.join(map(str, shape))}]]"
    which = ""
    if viewed:  # PyTorch's view written through its base has a grad_fn made anew
        if tp.nodes[_producer(tp, slot)].rg and kind.kind in "fc":
            which = ", which is output 0 of AsStrided,"
    elif output >= 0:  # a saved output names its own node, where it has a gradient
        if tp.nodes[n].rg and kind.kind in "fc":
            name = _named(tp, n).name()
            if in_place and name.endswith("Backward0"):  # LeakyReluBackward1, EluBackward1
                name = name[:-1] + "1"
            which = f", which is output {output} of {_short(name)},"
    elif cell.rg and cell.tape is tp and cell.ref >= 0:
        # a saved input names the node that produced the tensor's value now
        owner = tp.node_of_slot()
        at = written_from(tp, owner, owner[cell.ref])
        output = cell.ref - tp.nodes[owner[cell.ref]].first
        which = f", which is output {output} of {_short(_named(tp, at).name())},"
    return (f"one of the variables needed for gradient computation has been modified by "
            f"an inplace operation: {described}{which} is at version "
            f"{version_of(counter)}; expected version {version} instead. {HINT}")


def _short(name: str) -> str:
    """A node's name as PyTorch's message writes it (``ExpBackward0`` -> ``Exp``,
    ``PowBackward1`` -> ``Pow1``)."""
    if name.endswith("Backward0"):
        return name[:-len("Backward0")]
    return name.replace("Backward", "")
