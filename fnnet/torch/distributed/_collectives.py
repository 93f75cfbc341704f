"""Collectives on tensors: each one a small program over the process mesh.

A collective reads its tensor's value (recording stops there, as PyTorch's collectives
are eager), runs a jitted ``shard_map`` program in which every process contributes its
own value (:func:`fnnet.torch._sharding.compile_per_process`) and JAX's collectives
(``psum``, ``pmax``, ``all_gather``, ``psum_scatter``) combine them, and writes the
result into the output tensor. Every process must call the same collectives in the same
order, as in PyTorch.
"""

from __future__ import annotations

import functools
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from fnnet.torch import _dtypes, _graph, _sharding
from fnnet.torch._tape import RG
from fnnet.torch.distributed import _checks
from fnnet.torch.distributed._group import NotMember, ProcessGroup, ReduceOp, default_group
from fnnet.torch.tensor import Tensor, _wrap_value
from fnnet.torch.tensor import _op as _record

AXIS = _sharding.PROCESS_AXIS
_P = ParamSpec("_P")
_R = TypeVar("_R")


_BITWISE = {ReduceOp.BAND: jnp.bitwise_and, ReduceOp.BOR: jnp.bitwise_or,
            ReduceOp.BXOR: jnp.bitwise_xor}


def _reduce(x: Any, op: ReduceOp) -> Any:
    if op is ReduceOp.SUM:
        return lax.psum(x, AXIS)
    if op is ReduceOp.AVG:
        return lax.pmean(x, AXIS)
    if op is ReduceOp.MAX:
        return lax.pmax(x, AXIS)
    if op is ReduceOp.MIN:
        return lax.pmin(x, AXIS)
    gathered = lax.all_gather(x, AXIS)
    if op in _BITWISE:
        return _BITWISE[op].reduce(gathered, axis=0)
    return jnp.prod(gathered, axis=0).astype(x.dtype)  # PRODUCT


def _programs(kind: str, op: Any) -> Callable[[Any], Any]:
    """The per-process function of one collective (``x`` is this process's value)."""
    if kind in ("all_reduce", "barrier"):  # a barrier's own program names it in errors
        return lambda x: _reduce(x, op)
    if kind == "broadcast":  # op is the source rank
        return lambda x: lax.psum(jnp.where(lax.axis_index(AXIS) == op, x,
                                            jnp.zeros_like(x)), AXIS)
    if kind == "all_gather":
        return lambda x: lax.all_gather(x, AXIS)
    if kind == "all_to_all":  # x is [world, ...]; row s of the result is rank s's row `rank`
        return lambda x: lax.all_to_all(x, AXIS, 0, 0, tiled=False)
    # reduce_scatter: x is [world, ...]; this process gets the reduction of row `rank`
    if op is ReduceOp.SUM or op is ReduceOp.AVG:
        scale = op is ReduceOp.AVG

        def scatter(x: Any) -> Any:
            out = lax.psum_scatter(x, AXIS, scatter_dimension=0, tiled=False)
            return out / lax.axis_size(AXIS) if scale else out
        return scatter
    return lambda x: _reduce(x, op)[lax.axis_index(AXIS)]


def _run(world: ProcessGroup, kind: str, op: Any, value: Any) -> Any:
    key = (kind, op)
    program = world.programs.get(key)
    if program is None:
        fn = _programs(kind, op)
        program = _sharding.compile_per_process(lambda x: [fn(x)], world.mesh, what=kind)
        world.programs[key] = program
    return program(value)[0]


def _op(op: Any, who: str, tensor: Tensor) -> ReduceOp:
    """``op`` checked against the dtype of ``tensor`` (PyTorch's errors)."""
    if isinstance(op, str) and op.upper() in ReduceOp.__members__:
        op = ReduceOp[op.upper()]
    if not isinstance(op, ReduceOp):
        raise ValueError(f"{who}: op must be a torch.distributed.ReduceOp (SUM, AVG, "
                         f"PRODUCT, MAX, MIN, BAND, BOR, BXOR), got {op!r}")
    if op is ReduceOp.PREMUL_SUM:
        raise NotImplementedError(f"fnnet.torch does not support {who} with "
                                  "ReduceOp.PREMUL_SUM; multiply the tensor by the factor "
                                  "and use ReduceOp.SUM")
    dtype = tensor._cell.aval[1]
    floating = jnp.issubdtype(dtype, jnp.inexact)
    if op is ReduceOp.AVG and not floating:
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{_dtypes.scalar_name(tensor.dtype)}")
    if op in _BITWISE and floating:
        raise RuntimeError(f"Cannot use ReduceOp.{op.name} with non-integral dtype")
    return op


def _tensor(value: Any, name: str, who: str) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{who}: {name} must be a Tensor, got {type(value).__name__}")
    return value


@jax.custom_jvp
def _received(x: Any, value: Any) -> Any:
    """``value``, with the derivative of ``x``: PyTorch's collectives write into a
    tensor of the autograd graph without recording anything, so its gradient flows
    on to what computed it."""
    return value


@_received.defjvp
def _received_jvp(primals: Any, tangents: Any) -> Any:
    return _received(*primals), tangents[0]


@functools.cache
def _received_as(grad_fn_name: str) -> Callable[[Any, Any], Any]:
    """:func:`_received` under the name of the tensor's grad_fn before the collective,
    which PyTorch's tensor keeps (``grad_fn=<MulBackward0>``)."""
    def received(x: Any, value: Any) -> Any:
        return _received(x, value)

    received.grad_fn_name = grad_fn_name  # type: ignore[attr-defined]
    return received


def _write(tensor: Tensor, value: Any) -> None:
    """Puts ``value`` into ``tensor``'s storage, in place.

    A tensor computed in the autograd graph keeps its place in it (the gradient passes
    the collective as if it were the identity, as PyTorch's does), and a view's change
    reaches the tensor it was taken from; other tensors take the value as it is.
    """
    cell = tensor._cell
    if tuple(value.shape) != tuple(cell.aval[0]):
        raise RuntimeError(f"internal error: a collective's result has shape "
                           f"{tuple(value.shape)}, the tensor {tuple(cell.aval[0])}")
    value = value.astype(cell.aval[1]) if value.dtype != cell.aval[1] else value
    if tensor._kind == RG or getattr(tensor, "_view", None) is not None:
        op = _received_as(type(tensor.grad_fn).__name__) if tensor._kind == RG else _received
        tensor._inplace(_record(op, (), tensor, _wrap_value(value)))
        return
    cell.val = value
    cell.tape = None
    cell.ref = -1
    cell.aval = _graph.aval_of(cell.val)
    cell.rg = False


class Work:
    """What ``async_op=True`` returns; the collective has already completed.

    PyTorch equivalent: ``torch.distributed.Work``.
    """

    def __init__(self, outputs: Sequence[Tensor] = ()) -> None:
        self._outputs = list(outputs)

    def wait(self, timeout: Any = None) -> bool:
        del timeout
        return True

    def is_completed(self) -> bool:
        return True

    def is_success(self) -> bool:
        return True

    def exception(self) -> None:
        return None

    def synchronize(self) -> None:
        return None

    def result(self) -> list[Tensor]:
        """The collective's output tensors (PyTorch's list)."""
        return list(self._outputs)

    def get_future(self) -> Done:
        """A completed future whose value is :meth:`result`."""
        return Done(self.result())


class Done:
    """A completed ``torch.futures.Future`` of a collective: ``wait()`` and ``value()``
    give its value, ``then(callback)`` a future of ``callback(self)``."""

    def __init__(self, value: Any) -> None:
        self._value = value

    def done(self) -> bool:
        return True

    def wait(self) -> Any:
        return self._value

    def value(self) -> Any:
        return self._value

    def then(self, callback: Callable[[Done], Any]) -> Done:
        return Done(callback(self))

    def add_done_callback(self, callback: Callable[[Done], Any]) -> None:
        callback(self)


def members_only(fn: Callable[_P, _R]) -> Callable[_P, _R | None]:
    """``fn`` doing nothing but PyTorch's warning where its ``group`` is one this
    process is not in (``GroupMember.NON_GROUP_MEMBER``, from ``new_group``)."""
    @functools.wraps(fn)
    def collective(*args: _P.args, **kwargs: _P.kwargs) -> _R | None:
        try:
            return fn(*args, **kwargs)
        except NotMember:  # raised by default_group, before anything changed
            warnings.warn(f"Running {fn.__name__} on global rank {jax.process_index()} "
                          "which does not belong to the given group.", stacklevel=2)
            return None
    return collective


def _done(async_op: bool, outputs: Sequence[Tensor] = ()) -> Work | None:
    return Work(outputs) if async_op else None


@members_only
def all_reduce(tensor: Tensor, op: Any = ReduceOp.SUM, group: Any = None,
               async_op: bool = False) -> Work | None:
    """Replaces ``tensor`` in every process by the reduction over all processes.

    Args:
        tensor: this process's value; receives the result.
        op: ``ReduceOp.SUM`` (default), ``AVG``, ``MAX``, ``MIN`` or ``PRODUCT``.
        group: None or ``group.WORLD``.
        async_op: return a :class:`Work` (already complete).

    PyTorch equivalent: ``torch.distributed.all_reduce``.
    """
    world = default_group(group, "all_reduce")
    tensor = _tensor(tensor, "tensor", "all_reduce")
    op = _op(op, "all_reduce", tensor)
    _write(tensor, _run(world, "all_reduce", op, tensor._value()))
    return _done(async_op, [tensor])


@members_only
def reduce(tensor: Tensor, dst: int, op: Any = ReduceOp.SUM, group: Any = None,
           async_op: bool = False) -> Work | None:
    """The reduction into ``tensor`` of rank ``dst`` (the others receive it too).

    PyTorch equivalent: ``torch.distributed.reduce``.
    """
    world = default_group(group, "reduce")
    _rank(dst, world, "reduce", "dst")
    return all_reduce(tensor, op, group, async_op)


def _rank(rank: Any, world: ProcessGroup, who: str, name: str) -> int:
    """The index in ``world`` of the default group's rank ``rank`` (checked)."""
    return world.group_rank(rank, who, name)


@members_only
def broadcast(tensor: Tensor, src: int, group: Any = None,
              async_op: bool = False) -> Work | None:
    """Replaces ``tensor`` in every process by rank ``src``'s.

    PyTorch equivalent: ``torch.distributed.broadcast``.
    """
    world = default_group(group, "broadcast")
    src = _rank(src, world, "broadcast", "src")
    tensor = _tensor(tensor, "tensor", "broadcast")
    _write(tensor, _run(world, "broadcast", src, tensor._value()))
    return _done(async_op, [tensor])


def _gathered(tensor: Tensor, world: ProcessGroup, who: str) -> Any:
    return _run(world, "all_gather", None, _tensor(tensor, "tensor", who)._value())


@members_only
def all_gather(tensor_list: Sequence[Tensor], tensor: Tensor, group: Any = None,
               async_op: bool = False) -> Work | None:
    """Fills ``tensor_list[r]`` with rank ``r``'s ``tensor``, in every process.

    Raises:
        ValueError: tensors of different dtypes (PyTorch's error).
        RuntimeError: ``tensor_list`` does not hold one tensor per process of
            ``tensor``'s shape (PyTorch's gloo errors).

    PyTorch equivalent: ``torch.distributed.all_gather``.
    """
    world = default_group(group, "all_gather")
    outputs = [_tensor(t, "tensor_list[i]", "all_gather") for t in tensor_list]
    _checks.same_dtypes([*outputs, _tensor(tensor, "tensor", "all_gather")])
    if len(outputs) != world.size:
        raise RuntimeError(f"ProcessGroupGloo::allgather: invalid output tensor list at "
                           f"index 0 (expected length {world.size}, got {len(outputs)})")
    _checks.same_shapes("allgather", outputs, tuple(tensor.shape))
    stacked = _gathered(tensor, world, "all_gather")
    for rank, out in enumerate(outputs):
        _write(out, stacked[rank])
    return _done(async_op, outputs)


@members_only
def all_gather_single(output_tensor: Tensor, input_tensor: Tensor, group: Any = None,
                      async_op: bool = False) -> Work | None:
    """``output_tensor`` = the processes' inputs concatenated along axis 0 (or stacked,
    ``[world, *input.shape]``, as PyTorch's NCCL takes it).

    Raises:
        RuntimeError: an output of another dtype or size (PyTorch's gloo errors).

    PyTorch equivalent: ``torch.distributed.all_gather_single``.
    """
    world = default_group(group, "all_gather_single")
    out = _tensor(output_tensor, "output_tensor", "all_gather_single")
    _checks.gathered_into(out, _tensor(input_tensor, "input_tensor", "all_gather_single"),
                          world.size)
    stacked = _gathered(input_tensor, world, "all_gather_single")
    _write(out, stacked.reshape(tuple(out.shape)))
    return _done(async_op, [out])


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor, group: Any = None,
                           async_op: bool = False) -> Work | None:
    """:func:`all_gather_single` under its former name, with PyTorch's FutureWarning.

    PyTorch equivalent: ``torch.distributed.all_gather_into_tensor``.
    """
    _renamed("all_gather_into_tensor", "all_gather_single")
    return all_gather_single(output_tensor, input_tensor, group, async_op)


def _renamed(old: str, new: str) -> None:
    """PyTorch's FutureWarning for a collective renamed in PyTorch 2.13."""
    warnings.warn(f"`torch.distributed.{old}` is deprecated. Please use "
                  f"`torch.distributed.{new}` instead.", FutureWarning, stacklevel=3)


@members_only
def reduce_scatter(output: Tensor, input_list: Sequence[Tensor], op: Any = ReduceOp.SUM,
                   group: Any = None, async_op: bool = False) -> Work | None:
    """``output`` of rank ``r`` = the reduction over processes of their ``input_list[r]``.

    PyTorch equivalent: ``torch.distributed.reduce_scatter``.
    """
    world = default_group(group, "reduce_scatter")
    out = _tensor(output, "output", "reduce_scatter")
    inputs = [_tensor(t, "input_list[i]", "reduce_scatter") for t in input_list]
    _checks.same_dtypes([out, *inputs])
    op = _op(op, "reduce_scatter", out)
    if len(inputs) != world.size:
        raise RuntimeError("invalid input tensor list size, must be world size")
    shape = tuple(out.shape)
    for t in inputs:
        if tuple(t.shape) != shape:
            raise RuntimeError(f"Check failed: outputs[0].sizes().vec() == "
                               f"inputs[0][i].sizes().vec() ({_checks.sizes(shape)[1:-1]} "
                               f"vs. {_checks.sizes(t.shape)[1:-1]}).")
    stacked = jnp.stack([t._value() for t in inputs])
    _write(out, _run(world, "reduce_scatter", op, stacked))
    return _done(async_op, [out])


@members_only
def reduce_scatter_single(output: Tensor, input: Tensor, op: Any = ReduceOp.SUM,  # noqa: A002
                          group: Any = None, async_op: bool = False) -> Work | None:
    """``input`` ``[world * n, ...]`` split in ``world`` blocks; rank ``r`` gets block ``r``
    reduced over processes. PyTorch equivalent: ``torch.distributed.reduce_scatter_single``.
    """
    world = default_group(group, "reduce_scatter_single")
    out = _tensor(output, "output", "reduce_scatter_single")
    op = _op(op, "reduce_scatter_single", out)
    whole = _tensor(input, "input", "reduce_scatter_single")
    _checks.scattered_from(out, whole, world.size)
    shape = list(out.shape)
    blocks = whole._value().reshape((world.size, *shape))
    _write(out, _run(world, "reduce_scatter", op, blocks))
    return _done(async_op, [out])


def reduce_scatter_tensor(output: Tensor, input: Tensor, op: Any = ReduceOp.SUM,  # noqa: A002
                          group: Any = None, async_op: bool = False) -> Work | None:
    """:func:`reduce_scatter_single` under its former name, with PyTorch's FutureWarning.

    PyTorch equivalent: ``torch.distributed.reduce_scatter_tensor``.
    """
    _renamed("reduce_scatter_tensor", "reduce_scatter_single")
    return reduce_scatter_single(output, input, op, group, async_op)


@members_only
def gather(tensor: Tensor, gather_list: Sequence[Tensor] | None = None, dst: int = 0,
           group: Any = None, async_op: bool = False) -> Work | None:
    """Fills rank ``dst``'s ``gather_list[r]`` with rank ``r``'s ``tensor`` (the other
    ranks pass None). PyTorch equivalent: ``torch.distributed.gather``.

    Raises:
        ValueError: ``gather_list`` missing on rank ``dst`` or given on another, or
            tensors of different dtypes (PyTorch's errors).
        RuntimeError: rank ``dst`` without one tensor per process of ``tensor``'s
            shape, or ``dst`` out of range (PyTorch's gloo errors).
    """
    world = default_group(group, "gather")
    # PyTorch checks the list before the rank (a rank out of range is another's)
    _checks.list_given("gather_list", gather_list, dst == world.ranks[world.rank],
                       "destination")
    dst = _rank(dst, world, "gather", "dst")
    shape = tuple(_tensor(tensor, "tensor", "gather").shape)
    if world.rank == dst:
        outputs = [_tensor(t, "gather_list[i]", "gather") for t in gather_list or ()]
        _checks.same_dtypes([tensor, *outputs])
        _checks.list_size("gather", "Output", outputs, world.size)
        _checks.same_shapes("gather", outputs, shape)
    stacked = _gathered(tensor, world, "gather")
    if world.rank == dst:
        for rank, out in enumerate(outputs):
            _write(out, stacked[rank])
    return _done(async_op, outputs if world.rank == dst else [])


@members_only
def scatter(tensor: Tensor, scatter_list: Sequence[Tensor] | None = None, src: int = 0,
            group: Any = None, async_op: bool = False) -> Work | None:
    """Rank ``r``'s ``tensor`` receives rank ``src``'s ``scatter_list[r]`` (the other
    ranks pass None). PyTorch equivalent: ``torch.distributed.scatter``.

    Raises:
        ValueError: ``scatter_list`` missing on rank ``src`` or given on another, or
            tensors of different dtypes (PyTorch's errors).
        RuntimeError: rank ``src`` without one tensor per process of ``tensor``'s
            shape, or ``src`` out of range (PyTorch's gloo errors).
    """
    world = default_group(group, "scatter")
    _checks.list_given("scatter_list", scatter_list, src == world.ranks[world.rank],
                       "source")  # before the rank, as in gather
    src = _rank(src, world, "scatter", "src")
    out = _tensor(tensor, "tensor", "scatter")
    shape = tuple(out.shape)
    if world.rank == src:
        inputs = [_tensor(t, "scatter_list[i]", "scatter") for t in scatter_list or ()]
        _checks.same_dtypes([out, *inputs])
        _checks.list_size("scatter", "Input", inputs, world.size)
        _checks.same_shapes("scatter", inputs, shape)
        stacked = jnp.stack([t._value() for t in inputs])
    else:
        stacked = jnp.zeros((world.size, *shape), out._value().dtype)
    _write(out, _run(world, "broadcast", src, stacked)[world.rank])
    return _done(async_op, [out])


def _exchanged(world: ProcessGroup, rows: Any) -> Any:
    """``rows`` ``[world, ...]`` of every process: row ``s`` of the result is rank
    ``s``'s row ``rank``."""
    return _run(world, "all_to_all", None, rows)


@members_only
def all_to_all(output_tensor_list: Sequence[Tensor], input_tensor_list: Sequence[Tensor],
               group: Any = None, async_op: bool = False) -> Work | None:
    """Rank ``r``'s ``output_tensor_list[s]`` receives rank ``s``'s
    ``input_tensor_list[r]``, in every process.

    Raises:
        RuntimeError: lists without one tensor per process, or tensors of other sizes
            (PyTorch's gloo errors).
        ValueError: tensors of different dtypes (PyTorch's error).
        NotImplementedError: tensors of different shapes in one list.

    PyTorch equivalent: ``torch.distributed.all_to_all``.
    """
    world = default_group(group, "all_to_all")
    outputs = [_tensor(t, "output_tensor_list[i]", "all_to_all") for t in output_tensor_list]
    inputs = [_tensor(t, "input_tensor_list[i]", "all_to_all") for t in input_tensor_list]
    for name, tensors in (("output", outputs), ("input", inputs)):
        if len(tensors) != world.size:
            raise RuntimeError(f"ProcessGroupGloo::alltoall: {name} tensor list size "
                               f"{len(tensors)} does not match world size {world.size}")
    _checks.same_dtypes([*outputs, *inputs])
    if any(o.numel() != i.numel() for o, i in zip(outputs, inputs, strict=True)):
        raise RuntimeError("ProcessGroupGloo::alltoall: input and output tensors must have "
                           "the same size")
    if len({tuple(t.shape) for t in (*outputs, *inputs)}) > 1:
        raise NotImplementedError("fnnet.torch: all_to_all with tensors of different shapes "
                                  "is not supported; give every tensor the same shape")
    rows = _exchanged(world, jnp.stack([t._value() for t in inputs]))
    for rank, out in enumerate(outputs):
        _write(out, rows[rank])
    return _done(async_op, outputs)


def _splits(sizes: Any, total: int, world: ProcessGroup, name: str) -> list[int] | None:
    """``sizes`` checked: None (or empty) where axis 0 splits in equal blocks, else
    ``world`` sizes adding up to ``total``, as a list."""
    if sizes is None or len(sizes) == 0:
        if total % world.size:
            raise RuntimeError(f"Tensor's dim 0 does not divide equally across group size "
                               f"{world.size}")
        return None
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in sizes):
        raise TypeError(f"all_to_all_single: {name} must be a list of ints, got "
                        f"{list(sizes)!r}")
    if len(sizes) != world.size or sum(sizes) != total:
        raise RuntimeError("Split sizes doesn't match total dim 0 size")
    if min(sizes) < 0:
        raise ValueError(f"all_to_all_single: {name} must not be negative, got "
                         f"{list(sizes)!r}")
    return list(sizes)


def _exchanged_unevenly(world: ProcessGroup, whole: Any, sent: list[int],
                        expected: list[int]) -> Any:
    """``whole`` split along axis 0 in blocks of ``sent[r]`` rows for rank ``r``; returns
    the blocks received, ``expected[s]`` rows from rank ``s``, concatenated.

    The processes first exchange their split sizes, so that each pads its blocks to the
    largest block of any process (JAX's all-to-all moves blocks of one shape), and every
    process checks that each block is the size its receiver expects.

    Raises:
        RuntimeError: in every process, where a block's size is not what its receiver's
            ``output_split_sizes`` gives.
    """
    sizes = np.asarray(_run(world, "all_gather", None, jnp.asarray([sent, expected],
                                                                    jnp.int32)))
    sends, expects = sizes[:, 0], sizes[:, 1]  # sends[s, r]: rows rank s sends rank r
    wrong = np.argwhere(sends != expects.T)
    if wrong.size:
        s, r = (int(i) for i in wrong[0])
        raise RuntimeError(f"all_to_all_single: rank {world.ranks[s]} sends {sends[s, r]} "
                           f"rows to rank {world.ranks[r]}, whose output_split_sizes expect "
                           f"{expects[r, s]}; every rank's input_split_sizes[r] must be rank "
                           "r's output_split_sizes entry for it")
    rows = max(int(sends.max()), 1)
    padded = jnp.zeros((world.size, rows, *whole.shape[1:]), whole.dtype)
    start = 0
    for rank, size in enumerate(sent):
        padded = padded.at[rank, :size].set(whole[start:start + size])
        start += size
    received = _exchanged(world, padded)
    return jnp.concatenate([received[rank, :size] for rank, size in enumerate(expected)])


@members_only
def all_to_all_single(output: Tensor, input: Tensor,  # noqa: A002 - PyTorch's name
                      output_split_sizes: Sequence[int] | None = None,
                      input_split_sizes: Sequence[int] | None = None, group: Any = None,
                      async_op: bool = False) -> Work | None:
    """``input`` ``[world * n, ...]`` split in ``world`` blocks along axis 0: block ``r``
    goes to rank ``r``, and ``output``'s block ``s`` is rank ``s``'s block ``rank``.

    With split sizes, block ``r`` of ``input`` has ``input_split_sizes[r]`` rows and
    block ``s`` of ``output`` ``output_split_sizes[s]``. Where one rank gives split
    sizes, every rank must give them (a list of equal sizes, or one that is not):
    they are then exchanged first, in one more collective.

    Raises:
        RuntimeError: axis 0 not divisible by the world size, splits that do not add up
            to it, an output of another size (PyTorch's errors), or a block whose size
            its receiver does not expect.
        TypeError: split sizes that are not ints.

    PyTorch equivalent: ``torch.distributed.all_to_all_single``.
    """
    world = default_group(group, "all_to_all_single")
    out = _tensor(output, "output", "all_to_all_single")
    whole = _tensor(input, "input", "all_to_all_single")
    _checks.same_dtypes([out, whole])
    uneven = bool(input_split_sizes) or bool(output_split_sizes)
    if not whole.shape or not out.shape or (
            tuple(out.shape[1:]) != tuple(whole.shape[1:]) if uneven
            else out.numel() != whole.numel()):
        raise RuntimeError("all_to_all_single: output must have the size of input, with "
                           f"an axis 0; got output {list(out.shape)}, input "
                           f"{list(whole.shape)}")
    sent = _splits(input_split_sizes, whole.shape[0], world, "input_split_sizes")
    expected = _splits(output_split_sizes, out.shape[0], world, "output_split_sizes")
    if uneven:
        _write(out, _exchanged_unevenly(
            world, whole._value(), sent or [whole.shape[0] // world.size] * world.size,
            expected or [out.shape[0] // world.size] * world.size))
        return _done(async_op, [out])
    rows = whole._value().reshape((world.size, -1, *whole.shape[1:]))
    _write(out, _exchanged(world, rows).reshape(tuple(out.shape)))
    return _done(async_op, [out])


@members_only
def barrier(group: Any = None, async_op: bool = False, device_ids: Any = None) -> Work | None:
    """Returns once every process has reached it. PyTorch: ``torch.distributed.barrier``."""
    del device_ids
    world = default_group(group, "barrier")
    _run(world, "barrier", ReduceOp.SUM, jnp.zeros((), jnp.int32)).block_until_ready()
    return _done(async_op)


def connect_quietly(world: ProcessGroup) -> None:
    """Connects the processes' CPU collectives now, with a barrier run while this
    process's standard output is discarded.

    JAX's gloo prints a line to standard output as it connects the processes ("[Gloo]
    Rank 0 is connected to 1 peer ranks. ..."), which PyTorch's gloo does not: a
    script's output would differ from PyTorch's. The later collectives over the same
    processes reuse the connection. Nothing is done for one process or on GPUs.
    """
    if world.size < 2 or world.mesh.devices.flat[0].platform != "cpu":
        return
    sys.stdout.flush()
    kept = os.dup(1)
    discard = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(discard, 1)
        barrier(world)
    finally:
        os.dup2(kept, 1)
        os.close(kept)
        os.close(discard)
