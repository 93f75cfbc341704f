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

import numpy as np

from fnnet.torch import _dtypes
from fnnet.torch._grad_fn import _named, _op_name, written_from
from fnnet.torch._recorder import Recorder
from fnnet.torch._tape import CONST, Node, Overwritten, Tape, kind_of, slot_of, version_of

#: a saved value: its slot and its output number (-1 for a saved input, TRANSPOSED for one
#: that PyTorch saves as its transpose)
Saved = tuple[int, int]
#: "output numbers" of inputs that PyTorch's node saves as views of its own making, which
#: the error shows: ``w.t()`` (a linear layer's weight), an RNN or GRU's sequence as rows
#: ``[T * B, I]`` and an LSTM's as time-major ``[T, B, I]`` (see :func:`_sequence`)
TRANSPOSED, ROWS, TIME_MAJOR = -2, -3, -4
#: "output numbers" of PReLU's weight, which PyTorch saves viewed as ``[1, C, 1, ...]``
#: to broadcast against the input, and of einsum's operands, saved as the views its
#: ``bmm`` multiplies (see :func:`_shown`)
BROADCAST, EINSUM_LEFT, EINSUM_RIGHT = -5, -6, -7
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


def _linear(node: Node) -> Iterator[Saved]:
    """A linear layer ``x @ w.t() + b``: PyTorch's ``addmm`` saves ``x`` where the weight
    requires grad and the view ``w.t()`` where ``x`` does."""
    for slot, output in _product(node):
        yield slot, TRANSPOSED if slot == slot_of(node.inputs[1]) else output


def _self_and_result(node: Node) -> Iterator[Saved]:
    yield from _inputs(0)(node)
    yield node.first, 0


def _product_of(i: int, j: int) -> Rule:
    """The rule of a node multiplying its inputs ``i`` and ``j`` (``a * b``, ``a @ b``, a
    linear layer): each is saved where the other one requires grad (its gradient needs
    it)."""
    def rule(node: Node) -> Iterator[Saved]:
        a = node.inputs[i] if len(node.inputs) > i else -1
        b = node.inputs[j] if len(node.inputs) > j else -1
        if a >= 0 and b >= 0:
            if kind_of(b) != CONST:
                yield slot_of(a), -1
            if kind_of(a) != CONST:
                yield slot_of(b), -1
    return rule


_product = _product_of(0, 1)


def _own_inputs(node: Node) -> Iterator[Saved]:
    """Each input saved where it requires grad itself (``cosine_similarity``)."""
    for r in node.inputs:
        if r >= 0 and kind_of(r) != CONST:
            yield slot_of(r), -1


def _recurrent(node: Node) -> Iterator[Saved]:
    """An ``nn.RNN`` or ``nn.GRU`` layer (inputs: the sequence, ``h0``, ``c0``, then the
    parameters named in its spec): PyTorch's cell multiplies the sequence, keeping it,
    and each weight (as its transpose) whose other operand requires grad: every
    ``weight_hh`` (the hidden state always does) and the first layer's ``weight_ih`` only
    where the sequence does."""
    x = node.inputs[0]
    if x >= 0:
        yield slot_of(x), ROWS
    for name, r in zip(node.static[0][1], node.inputs[3:], strict=False):
        if r < 0 or not name.startswith("weight"):
            continue
        if name.startswith("weight_ih_l0") and (x < 0 or kind_of(x) == CONST):
            continue
        yield slot_of(r), TRANSPOSED


def _lstm(node: Node) -> Iterator[Saved]:
    """An ``nn.LSTM`` layer: PyTorch's fused CPU kernel keeps all its inputs (the
    sequence time-major) and its output."""
    for i, r in enumerate(node.inputs):
        if r >= 0:
            yield slot_of(r), TIME_MAJOR if i == 0 else -1
    yield node.first, 0


def _sequence(tp: Tape, node: Node, slot: int, output: int) -> tuple[int, ...] | None:
    """The shape PyTorch's recurrent layer ``node`` shows its saved sequence ``slot`` with
    (``output``: :data:`ROWS` or :data:`TIME_MAJOR`), or None where it saves a copy, which
    no write to the sequence reaches: it makes the sequence time-major and contiguous, a
    view unless a batch-first ``[B, T, I]`` has B and T above 1."""
    shape = tuple(tp.avals[slot][0])
    time_major: tuple[int, ...]
    if len(shape) == 2:  # unbatched [T, I]: a view [T, 1, I]
        time_major = (shape[0], 1, shape[1])
    elif node.static[0][0].batch_first:
        if shape[0] > 1 and shape[1] > 1:
            return None
        time_major = (shape[1], shape[0], shape[2])
    else:
        time_major = shape
    if output == ROWS:
        return (time_major[0] * time_major[1], time_major[2])
    return time_major


def _batch_norm(node: Node) -> Iterator[Saved]:
    """A BatchNorm module (inputs: ``x``, its parameters, then its buffers, by the names
    in its spec): PyTorch keeps the input, the weight and the running statistics, not
    the bias."""
    spec = node.static[0]
    names = ("input", *spec[1], *spec[2])
    for name, r in zip(names, node.inputs, strict=False):
        if r >= 0 and name in ("input", "weight", "running_mean", "running_var"):
            yield slot_of(r), -1


def _divide(node: Node) -> Iterator[Saved]:
    """``a / b``: both gradients need ``b``, ``b``'s needs ``a`` (``kl_div(a, b)`` too:
    the target ``b`` always, the input ``a`` where the target requires grad)."""
    a, b = node.inputs[0], node.inputs[1]
    if b >= 0:
        yield slot_of(b), -1
        if a >= 0 and kind_of(b) != CONST:
            yield slot_of(a), -1


def _prelu(node: Node) -> Iterator[Saved]:
    """``F.prelu(x, weight)``: PyTorch's kernel keeps the input and the weight, the
    latter as a view shaped to broadcast (:data:`BROADCAST`)."""
    x, weight = node.inputs[0], node.inputs[1]
    if x >= 0:
        yield slot_of(x), -1
    if weight >= 0:
        yield slot_of(weight), BROADCAST


def _lerp(node: Node) -> Iterator[Saved]:
    """``lerp(start, end, weight)``: the weight where ``start`` or ``end`` requires grad,
    both where the weight does (a Python number weight is no tensor a user can write)."""
    start, end, weight = node.inputs[:3]
    if weight >= 0 and any(r >= 0 and kind_of(r) != CONST for r in (start, end)):
        yield slot_of(weight), -1
    if weight >= 0 and kind_of(weight) != CONST:
        yield from _inputs(0, 1)(node)


def _indices_from(first: int) -> Rule:
    """The rule of an indexing node whose index tensors are its inputs from ``first``
    on (``x[idx]``, ``x[idx] = v``): PyTorch keeps the indices, not the tensor."""
    def rule(node: Node) -> Iterator[Saved]:
        for r in node.inputs[first:]:
            if r >= 0:
                yield slot_of(r), -1
    return rule


def _einsum(node: Node) -> Iterator[Saved]:
    """``einsum`` of two operands: PyTorch contracts them with ``bmm``, which keeps each
    where the other requires grad; one operand is only summed or permuted."""
    if len(node.inputs) == 2:
        left = slot_of(node.inputs[0]) if node.inputs[0] >= 0 else -1
        for slot, _ in _product(node):
            yield slot, EINSUM_LEFT if slot == left else EINSUM_RIGHT
    elif len(node.inputs) > 2:  # contracted pairwise: each operand meets a product
        yield from _all_inputs(node)


def _attention(node: Node) -> Iterator[Saved]:
    """``scaled_dot_product_attention(q, k, v)``: PyTorch's CPU path multiplies the
    attention weights by ``v``, keeping ``v`` where ``q`` or ``k`` requires grad (``q``
    and ``k`` are scaled first: copies)."""
    q, k, v = node.inputs[:3]
    if v >= 0 and any(r >= 0 and kind_of(r) != CONST for r in (q, k)):
        yield slot_of(v), -1


def _all_inputs(node: Node) -> Iterator[Saved]:
    for r in node.inputs:
        if r >= 0:
            yield slot_of(r), -1


def _power(node: Node) -> Iterator[Saved]:
    yield from _all_inputs(node)
    yield node.first, 0


#: fnnet's op (or layer) name -> what PyTorch's node for it saves (found by changing each
#: input and the output of PyTorch's op in place and running its backward)
RULES: dict[str, Rule] = {
    **dict.fromkeys(("exp", "sqrt", "tanh", "sigmoid", "relu", "_softmax", "_log_softmax",
                     "rsqrt", "reciprocal", "tan", "Softmax", "LogSoftmax", "Sigmoid",
                     "Tanh", "ReLU", "exp2", "expm1"), _result),
    **dict.fromkeys(("log", "sin", "cos", "_abs", "_pow_scalar", "gelu", "leaky_relu",
                     "silu", "elu", "celu", "selu", "hardtanh", "relu6", "softplus", "erf",
                     "log1p", "CELU", "SELU", "log2", "log10", "arcsin", "arctan", "sinh",
                     "cosh", "erfinv", "_logit", "logsigmoid", "hardsigmoid", "hardswish",
                     "mish", "softsign", "_var", "apply_cell",
                     "avg_pool2d", "max_pool2d", "GELU", "LeakyReLU", "SiLU", "ELU",
                     "AvgPool2d", "MaxPool2d"), _inputs(0)),
    **dict.fromkeys(("multiply", "matmul", "_mv", "_outer", "_bmm", "dot"), _product),
    "_kl_div": _divide,
    "Linear": _linear, "linear": _linear,
    **dict.fromkeys(("Conv1d", "Conv2d", "Conv3d", "conv1d", "conv2d", "conv3d",
                     "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
                     "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "_gather",
                     "_group_norm", "GroupNorm"), _inputs(0, 1)),
    **dict.fromkeys(("BatchNorm1d", "BatchNorm2d", "BatchNorm3d"), _batch_norm),
    **dict.fromkeys(("_rpow_scalar", "_max", "_min", "_norm", "_vector_norm", "_std",
                     "_cumprod", "_prod", "_logsumexp", "_amax", "_amin", "_median_all"),
                    _self_and_result),
    "true_divide": _divide,
    "power": _power, "cdist": _power,
    **dict.fromkeys(("_clamp", "_clamp_min", "_clamp_max", "_mse", "_smooth_l1",
                     "_bce_logits", "_huber", "_nll", "_bce", "maximum", "minimum", "arctan2"),
                    _all_inputs),
    "LayerNorm": _inputs(0, 1, 2), "_layer_norm": _inputs(0, 1, 2),
    "batch_norm": _inputs(0, 1, 2, 3),
    "_ce": _inputs(1), "_masked_fill": _inputs(1), "Embedding": _inputs(0),
    "_put_masked": _inputs(1), "_put_where": _inputs(0),  # x[mask] = v saves the mask
    "_index_select": _inputs(1), "_addcmul": _product_of(1, 2),
    "cosine_similarity": _own_inputs, "RNN": _recurrent, "GRU": _recurrent, "LSTM": _lstm,
    "prelu": _prelu, "PReLU": _prelu, "_lerp": _lerp, "_getitem": _indices_from(1),
    "_setitem": _indices_from(2), "_index_put": _indices_from(2),
    "_einsum_positional": _einsum, "_attention": _attention,
}


#: ops whose result is a view of their first input in PyTorch, sharing its version counter:
#: a saved view (``w.t()`` of ``x @ w.t()``) is changed by a write to the tensor viewed
VIEWS = frozenset(("_transpose", "_t", "_permute", "_reshape", "_flatten", "_squeeze",
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


#: the element types PyTorch's message names as ``torch.<Name>Tensor``
_LEGACY = frozenset(("Float", "Double", "Half", "Long", "Int", "Short", "Char", "Byte"))


def _masks(tp: Tape, saved: Iterator[Saved]) -> Iterator[Saved]:
    """``saved`` with the index arrays read from a boolean mask replaced by what PyTorch's
    indexing by the mask keeps, once: the mask (and ``masked_select``'s input; see
    ``_masking``)."""
    seen = set()
    for slot, output in saved:
        n = _producer(tp, slot)
        node = tp.nodes[n]
        if node.op is None or _op_name(node) != "_mask_positions":
            yield slot, output
        elif n not in seen:
            seen.add(n)
            yield from ((slot_of(r), -1) for r in node.inputs[:node.static[0]])


def _saved_by(tp: Tape, node: Node) -> Iterator[Saved]:
    name = _op_name(node) if node.op is not None else None
    rule = RULES.get(name) if name is not None else None
    if rule is None:
        return iter(())
    if name in ("_getitem", "_setitem", "_index_put"):
        return _masks(tp, rule(node))
    if name in RESULT_IN_PLACE:  # the result counts only where the op wrote in place
        return itertools.chain(rule(node), _result(node))
    if name in ("RNN", "GRU", "LSTM"):
        return ((slot, output) for slot, output in rule(node)
                if output not in (ROWS, TIME_MAJOR) or _sequence(tp, node, slot, output))
    return rule(node)


def saved_slots(tp: Tape, nodes: list[int]) -> frozenset[int]:
    """The slots that the nodes ``nodes`` of ``tp`` save for backward, and those that the
    views among them view."""
    return frozenset(base for n in nodes for slot, _ in _saved_by(tp, tp.nodes[n])
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
        for slot, output in _saved_by(tp, node):
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
    if output == TRANSPOSED:
        shape, viewed = shape[::-1], True
    elif output in (ROWS, TIME_MAJOR):
        # a view, but for a batched LSTM's sequence-first input
        viewed = output == ROWS or len(shape) == 2 or tp.nodes[n].static[0][0].batch_first
        shape = _sequence(tp, tp.nodes[n], slot, output) or shape
    elif output in (BROADCAST, EINSUM_LEFT, EINSUM_RIGHT):
        shape, viewed = _shown(tp, tp.nodes[n], output), True
    elif output == 0 and _op_name(tp.nodes[n]) == "LSTM":  # its kernel's output, time-major
        if len(shape) == 2:
            shape = (shape[0], 1, shape[1])
        elif tp.nodes[n].static[0][0].batch_first:
            shape = (shape[1], shape[0], shape[2])
    dtype = _dtypes.from_np(kind)
    differentiable = dtype.is_floating_point or dtype.is_complex  # bfloat16's kind is "V"
    name = _dtypes.SCALAR_NAMES.get(dtype.name)
    # PyTorch's legacy tensor types; the others show their dispatch key's name
    kind_name = f"torch.{name}Tensor" if name in _LEGACY else f"CPU{name}Type"
    described = f"[{kind_name} [{', '.join(map(str, shape))}]]"
    which = ""
    if viewed:  # PyTorch's view written through its base has a grad_fn made anew
        if (tp.nodes[_producer(tp, slot)].rg or output < -1 and any(
                r >= 0 and slot_of(r) == slot and kind_of(r) != CONST
                for r in tp.nodes[n].inputs)) and differentiable:
            which = ", which is output 0 of AsStrided,"
    elif output >= 0:  # a saved output names its own node, where it has a gradient
        if tp.nodes[n].rg and differentiable:
            name = "MkldnnRnnLayerBackward0" if _op_name(tp.nodes[n]) == "LSTM" else \
                _named(tp, n).name()
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


def _shown(tp: Tape, node: Node, output: int) -> tuple[int, ...]:
    """The shape of the view PyTorch saves for ``node``'s weight (:data:`BROADCAST`) or
    einsum operand (:data:`EINSUM_LEFT`, :data:`EINSUM_RIGHT`)."""
    if output == BROADCAST:
        shape = tuple(tp.avals[slot_of(node.inputs[0])][0])
        size = int(np.prod(tp.avals[slot_of(node.inputs[1])][0]))
        return (1, size, *[1] * (len(shape) - 2)) if len(shape) >= 2 else (size,)
    left, right = (tuple(tp.avals[slot_of(r)][0]) for r in node.inputs[:2])
    equation = node.static[0].replace(" ", "")
    terms, _, out = equation.partition("->")
    a, b = terms.split(",")
    if "." in equation or not _ or len(a) != len(left) or len(b) != len(right):
        return left if output == EINSUM_LEFT else right  # a form whose views are not known
    sizes = {**dict(zip(a, left, strict=True)), **dict(zip(b, right, strict=True))}
    mine, other = (a, b) if output == EINSUM_LEFT else (b, a)
    summed = [c for c in mine if c in other and c not in out]
    if not summed:  # no contraction: a product broadcast in the output's layout
        return tuple(sizes[c] if c in mine else 1 for c in out)
    batch = [c for c in mine if c in other and c in out]
    free = [c for c in mine if c not in other and c in out]
    dims = (batch, free, summed) if output == EINSUM_LEFT else (batch, summed, free)
    return tuple(int(np.prod([sizes[c] for c in group])) for group in dims)


def _short(name: str) -> str:
    """A node's name as PyTorch's message writes it (``ExpBackward0`` -> ``Exp``,
    ``PowBackward1`` -> ``Pow1``)."""
    if name.endswith("Backward0"):
        return name[:-len("Backward0")]
    return name.replace("Backward", "")
