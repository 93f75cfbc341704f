"""``torch.nn.parallel``: ``DataParallel`` (local devices) and ``DistributedDataParallel``.

DistributedDataParallel (one process per device, several processes) is described at
:class:`DistributedDataParallel`; the rest of this docstring is about DataParallel.

Wrapping a model in :class:`DataParallel` marks its inputs' batch axis as split over a
one-axis mesh (``fnnet.parallel.data_mesh``) of the local devices. The step that
``optimizer.step()`` compiles then runs as :func:`fnnet.parallel.data_parallel` runs a
pure single-device step: parameters, optimizer state and every other input are
replicated, the batch is sharded, and XLA's partitioner turns means over the batch into
all-reduces. ``n`` steps with a global batch ``B`` give the parameters of ``n``
single-device steps with batch ``B`` (up to float rounding).

Differences from PyTorch's ``DataParallel`` (which copies the module to each GPU and
runs the replicas in threads):

- BatchNorm normalises with the statistics of the whole batch and updates the running
  statistics from them, exactly as a single device does (PyTorch's replicas use their
  own shard's statistics, and only the first replica's running statistics are kept).
- Dropout draws the mask of the whole batch, so masks do not depend on the device count.
- A batch that does not split evenly over the devices (a loader's last batch) runs
  whole on every device, with the result a split batch would give (PyTorch gives the
  last replicas smaller chunks).
- Outputs are not gathered onto ``output_device``: they stay split over the devices
  (jax moves them when they are read).

With a single CPU device (PyTorch without GPUs) the wrapper calls the module as it is,
and ``device_ids`` is ``[]``, as PyTorch's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any, cast

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

from fnnet.parallel.mesh import batch_sharded, data_mesh
from fnnet.torch import _sharding
from fnnet.torch._tape import CONST, RG, VAR, kind_of, slot_of
from fnnet.torch.nn.modules.module import Module
from fnnet.torch.tensor import Tensor, Unsupported, _op, _op_multi, _wrap_value


def _devices(device_ids: Any) -> list[jax.Device]:
    local: list[jax.Device] = jax.local_devices()
    if device_ids is None:
        return local
    if isinstance(device_ids, (str, int)) or not hasattr(device_ids, "__iter__"):
        raise TypeError(f"DataParallel: device_ids must be None or a list of device "
                        f"indices, got {type(device_ids).__name__} {device_ids!r}")
    devices = []
    for index in device_ids:
        if isinstance(index, str) and ":" in index:  # "cuda:1"
            index = index.rsplit(":", 1)[1]
        try:
            number = int(index)
        except (TypeError, ValueError):
            raise TypeError(f"DataParallel: device_ids must be device indices, got "
                            f"{index!r}") from None
        if not 0 <= number < len(local):
            raise ValueError(f"DataParallel: device index {number} is out of range: there "
                             f"are {len(local)} local devices")
        devices.append(local[number])
    if not devices:
        raise ValueError("DataParallel: device_ids must name at least one device, got an "
                         "empty list")
    return devices


class DataParallel(Module):
    """Runs ``module`` with each input's batch (axis 0) split over the local devices.

    Args:
        module: the model; it stays available as ``self.module``, and the state dict's
            keys carry the prefix ``module.`` as in PyTorch.
        device_ids: indices of the local devices to use (``jax.local_devices()``
            order); default all of them.
        output_device: accepted and ignored (outputs stay on the devices).
        dim: the batch axis; only 0 is supported.

    Raises:
        TypeError: ``module`` is not an ``nn.Module``, or bad ``device_ids``.
        ValueError: a device index out of range; at a call, an input without a batch
            axis.
        NotImplementedError: ``dim`` other than 0.

    Example::

        model = nn.DataParallel(Net())          # 8 devices: a batch of 64 is 8 x 8
        loss = criterion(model(x), y)
        loss.backward(); optimizer.step()       # one step compiled over all devices

    PyTorch equivalent: ``torch.nn.DataParallel`` (see the module docstring for the
    differences; BatchNorm uses the whole batch's statistics).
    """

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None,
                 dim: int = 0) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel: module must be an nn.Module, got "
                            f"{type(module).__name__}")
        local = jax.local_devices()
        if len(local) == 1 and local[0].platform == "cpu":
            # PyTorch without GPUs: the wrapper calls the module as it is, and ignores
            # device_ids, output_device and dim
            self.module = module
            self.device_ids: list[Any] = []
            self._sharding: NamedSharding | None = None
            return
        if dim != 0:
            raise NotImplementedError(f"fnnet.torch: DataParallel(dim={dim}) is not "
                                      "supported; put the batch on axis 0")
        del output_device
        self.module = module
        devices = _devices(device_ids)
        self.device_ids = list(range(len(devices))) if device_ids is None else \
            list(device_ids)
        self._sharding = batch_sharded(data_mesh(devices))
        self._replicated = NamedSharding(self._sharding.mesh, PartitionSpec())

    def _scatter(self, value: Any) -> Any:
        """``value`` with every tensor in it split over the devices along axis 0."""
        sharding = self._sharding
        assert sharding is not None  # called with several devices only
        if isinstance(value, Tensor):
            aval = value._cell.aval
            assert aval is not None  # a tensor's cell always knows its shape
            shape = aval[0]
            if not shape:
                raise ValueError("DataParallel: inputs must have a batch axis (axis 0), got "
                                 "a 0-d tensor")
            if shape[0] % sharding.mesh.size:
                # an uneven batch (a loader's last): every device computes all of it,
                # with the same result as a split batch (PyTorch's replicas get chunks)
                sharding = self._replicated
            cell = value._cell
            if cell.val is not None and value._kind == 0:
                # a concrete input (a batch from the loader): place it split right away
                value = _wrap_value(jax.device_put(cell.val, sharding))
            return _op(_sharding.shard_batch, (sharding,), value, who="DataParallel")
        if isinstance(value, (list, tuple)):
            return type(value)(self._scatter(v) for v in value)
        if isinstance(value, Mapping):
            return {k: self._scatter(v) for k, v in value.items()}
        return value

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        if self._sharding is None:
            return self.module(*inputs, **kwargs)
        return self.module(*self._scatter(inputs), **self._scatter(kwargs))


class DistributedDataParallel(Module):
    """Trains ``module`` in every process of a distributed run, averaging gradients.

    Each process runs the script on its own batch (from a ``DistributedSampler``), as
    with PyTorch. The step that ``optimizer.step()`` compiles is every process's own
    step mapped over one device per process (``shard_map`` over
    ``fnnet.torch._sharding.process_mesh``): the parameters' gradients are averaged
    over the processes inside it (one all-reduce of a flat buffer of every gradient
    where PyTorch all-reduces buckets), so the processes apply the same update and
    stay equal. At construction rank 0's
    parameters and buffers are copied to every process, and with ``broadcast_buffers``
    rank 0's buffers again at each training forward pass, as PyTorch does. BatchNorm
    layers normalise with their own process's batch statistics, unless converted with
    ``nn.SyncBatchNorm.convert_sync_batchnorm`` (statistics of the global batch). Values
    read in a process (``loss.item()``, outputs) are that process's. Only the buffers'
    copy and SyncBatchNorm exchange anything in the forward pass: as in PyTorch, one
    rank alone may evaluate through the wrapper only where the model has no buffers
    (else through ``model.module``), the others would never join the copy.

    Args:
        module: the model; available as ``self.module``, and the state dict's keys
            carry the prefix ``module.`` as in PyTorch.
        device_ids: accepted (None or one local device, e.g. ``[local_rank]``): each
            process computes on its first local device (the launcher gives each
            process its own GPU).
        find_unused_parameters: as PyTorch's: a parameter that a process's outputs
            do not depend on adds zeros to the average there, and one that no
            process's loss reached keeps ``.grad`` None (the optimizer leaves it
            alone). A process leaving parameters unused reads the count of processes
            that used them after its backward pass (a wait for the step's exchange).
            False: the forward pass after a step in which this process left
            parameters unused raises PyTorch's RuntimeError naming their indices
            (the others stop when that process ends, as with PyTorch).
        output_device, bucket_cap_mb, check_reduction, gradient_as_bucket_view,
            static_graph: accepted and ignored (there are no buckets).
        broadcast_buffers: copy rank 0's buffers (BatchNorm's running statistics) to
            every process at the start of a forward pass that follows a synchronised
            training forward pass (and at the first), inside the step's program, as
            PyTorch does: each process then updates them with its own batch, and
            the first evaluation forward pass after training (``eval()`` under
            ``no_grad``) evaluates with rank 0's. False: each process keeps its own
            after the copy at construction.
        process_group: None (the default group; groups of ``new_group`` are refused).
        dim: the batch axis; only 0.

    Raises:
        ValueError: ``init_process_group`` was not called, or ``device_ids`` names
            more than one device (PyTorch's errors).
        RuntimeError: ``module`` has no parameter that requires a gradient (PyTorch's);
            at a forward pass, see ``find_unused_parameters``.
        TypeError: ``module`` is not an ``nn.Module``, or bad ``device_ids``.
        NotImplementedError: ``dim`` other than 0, or another process group.

    Every process must run the same number of steps. Their forward passes may differ (a
    branch taken on this process's data): whichever parameters each one used, the
    gradients' exchange is the same buffer in every process. With one process the
    wrapper calls ``module``, and finds unused parameters as above (PyTorch's reducer
    runs with one process too).

    Example::

        dist.init_process_group("gloo")
        model = nn.parallel.DistributedDataParallel(Net())
        loss = criterion(model(x), y)           # this process's batch
        loss.backward(); optimizer.step()       # gradients averaged over processes

    PyTorch equivalent: ``torch.nn.parallel.DistributedDataParallel``.
    """

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None,
                 dim: int = 0, broadcast_buffers: bool = True, process_group: Any = None,
                 bucket_cap_mb: Any = None, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False,
                 static_graph: bool = False, **kwargs: Any) -> None:
        super().__init__()
        from fnnet.torch.distributed._group import default_group

        del output_device, bucket_cap_mb, check_reduction, gradient_as_bucket_view
        del static_graph, kwargs
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be an nn.Module, got "
                            f"{type(module).__name__}")
        if dim != 0:
            raise NotImplementedError(f"fnnet.torch: DistributedDataParallel(dim={dim}) is "
                                      "not supported; put the batch on axis 0")
        group = default_group(process_group, "DistributedDataParallel")
        if group.within is not None:
            raise NotImplementedError("fnnet.torch: DistributedDataParallel over a group of "
                                      "new_group is not supported; use the default group "
                                      "(process_group=None)")
        if not any(p.requires_grad for p in module.parameters()):
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't "
                               "have any parameter that requires a gradient.")
        if device_ids is not None:
            if hasattr(device_ids, "__len__") and len(device_ids) > 1:  # PyTorch's check
                raise ValueError("device_ids can only be None or contain a single element.")
            _devices(device_ids)  # checks them
        self.module = module
        self.device_ids = None if device_ids is None else list(device_ids)
        self.broadcast_buffers = bool(broadcast_buffers)
        self.find_unused_parameters = bool(find_unused_parameters)
        self.require_backward_grad_sync = True
        object.__setattr__(self, "_mesh", group.mesh if group.size > 1 else None)
        object.__setattr__(self, "_accumulated", False)
        object.__setattr__(self, "_rank", group.rank)
        # the parameters PyTorch's reducer tracks (those requiring grad at construction),
        # whose indices its error names
        object.__setattr__(self, "_params", [p for p in module.parameters() if
                                             p.requires_grad])
        # find_unused_parameters: the counter of processes reaching each parameter, and
        # the parameters this process left unused in the step being recorded
        object.__setattr__(self, "_counter", None)
        object.__setattr__(self, "_dropped", [])
        # without find_unused_parameters: the hook awaiting the backward pass of a
        # forward pass that left parameters unused, then those parameters
        object.__setattr__(self, "_awaiting", None)
        object.__setattr__(self, "_unreduced", ())
        object.__setattr__(self, "_searched", {})
        # PyTorch's require_forward_param_sync: the next forward copies rank 0's buffers
        object.__setattr__(self, "_buffers_due", True)
        if self._mesh is not None:
            self._copy_from_rank0()

    def _copy_from_rank0(self) -> None:
        """Every parameter and buffer set to rank 0's (one program for all of them)."""
        tensors: list[Tensor] = [t for _, t in self.module.named_parameters()]
        tensors += [t for _, t in self.module.named_buffers() if t is not None]
        if not tensors:
            return
        mesh = self._mesh
        copied = _sharding.compile_per_process(
            lambda *xs: [_sharding.from_first(x, mesh) for x in xs], mesh,
            what="DistributedDataParallel's copy of rank 0's parameters")(
                *(t._value() for t in tensors))
        for tensor, value in zip(tensors, copied, strict=True):
            cell = tensor._cell
            cell.val, cell.tape, cell.ref = value, None, -1

    def join(self, divide_by_initial_world_size: bool = True, enable: bool = True,
             throw_on_early_termination: bool = False) -> Any:
        """Not provided: every process must run the same steps.

        Raises:
            NotImplementedError: always.
        """
        del divide_by_initial_world_size, enable, throw_on_early_termination
        raise NotImplementedError(
            "fnnet.torch does not support DistributedDataParallel.join (uneven inputs); "
            "give every rank the same number of batches, e.g. with "
            "DistributedSampler(drop_last=True) and a DataLoader with drop_last=True")

    def register_comm_hook(self, state: Any, hook: Any) -> None:
        """Not provided: the gradients' mean is part of the compiled step.

        Raises:
            NotImplementedError: always.
        """
        del state, hook
        raise NotImplementedError(
            "fnnet.torch does not support DistributedDataParallel.register_comm_hook; the "
            "gradients are averaged inside the compiled step (for another reduction, "
            "all_reduce the .grad tensors yourself under no_sync())")

    def _set_static_graph(self) -> None:
        """Accepted, as ``static_graph=True`` is: there are no buckets to plan."""

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Within it, backward passes keep each process's own gradients (accumulation);
        the first synchronised backward after it averages the accumulated sum.

        PyTorch equivalent: ``DistributedDataParallel.no_sync``.
        """
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def _mark(self, value: Any) -> Any:
        """``value`` with every tensor in it recorded through ``per_process``."""
        if isinstance(value, Tensor):
            return _op(_sharding.per_process, (self._mesh,), value)
        if isinstance(value, (list, tuple)):
            return type(value)(self._mark(v) for v in value)
        if isinstance(value, Mapping):
            return {k: self._mark(v) for k, v in value.items()}
        return value

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        from fnnet.torch import _recorder

        grads = _recorder.current().grad_enabled
        if grads and self._unreduced:
            raise RuntimeError(_unreduced_error(self._unreduced, self._rank))
        if grads and self._awaiting is not None:  # no backward pass followed the last
            self._awaiting.remove()
            object.__setattr__(self, "_awaiting", None)
        mesh = self._mesh
        if mesh is None:
            output = self.module(*inputs, **kwargs)
            if grads and self.require_backward_grad_sync and not self.find_unused_parameters:
                # PyTorch's reducer runs with one process too: the same error
                self._watch(self._params, self._params, output, False)
            return output
        copy = self.broadcast_buffers and self._buffers_due and \
            any(b is not None for _, b in self.module.named_buffers())
        if not (grads or self.module.training or copy):
            # evaluation with no buffers to copy exchanges nothing: this process's own
            # program, which one rank may run alone (``if rank == 0: evaluate(model)``)
            return self.module(*inputs, **kwargs)
        inputs, kwargs = self._mark(inputs), self._mark(kwargs)
        if self.broadcast_buffers and self._buffers_due:
            for _, buffer in self.module.named_buffers():
                if buffer is not None:
                    buffer._inplace(_op(_sharding.from_first, (mesh,), buffer))
        object.__setattr__(self, "_buffers_due", grads and self.require_backward_grad_sync)
        if not (grads and self.require_backward_grad_sync):
            object.__setattr__(self, "_accumulated", self._accumulated or grads)
            return self.module(*inputs, **kwargs)
        accumulated = self._accumulated
        object.__setattr__(self, "_accumulated", False)
        owners: dict[int, list[tuple[Module, str]]] = {}
        params: dict[int, Tensor] = {}
        for owner in self.module.modules():
            for name, p in owner._parameters.items():
                if p is not None and p.requires_grad:
                    params.setdefault(id(p), p)
                    owners.setdefault(id(p), []).append((owner, name))
        # one op for every parameter: its backward averages all gradients at once
        mask = tuple(bool(accumulated and p.grad is not None) for p in params.values())
        sums = [cast(Tensor, p.grad).detach()
                for p, m in zip(params.values(), mask, strict=True) if m]
        counter = self._counter_of(len(params)) \
            if self.find_unused_parameters and params else None
        counted = () if counter is None else (counter,)
        synced = cast(list[Tensor], _op_multi(
            _sharding.grad_sync, (mask, bool(counted), mesh), *params.values(), *sums,
            *counted)) if params else []
        swapped = []
        try:
            for key, q in zip(params, synced, strict=True):
                for owner, name in owners[key]:
                    swapped.append((owner, name, params[key]))
                    object.__setattr__(owner, name, q)
            output = self.module(*inputs, **kwargs)
        finally:
            for owner, name, original in swapped:
                object.__setattr__(owner, name, original)
        self._watch(list(params.values()), synced, output, bool(counted))
        return output

    def _watch(self, params: list[Tensor], stand_ins: list[Tensor], output: Any,
               counted: bool) -> None:
        """Notes the ``params`` whose ``stand_ins`` (the tensors the forward pass read in
        their place) ``output`` does not depend on: with ``counted``
        (``find_unused_parameters``) to drop their gradients if no process used them,
        else to raise PyTorch's error at the forward pass after a backward pass through
        this one (a forward pass alone, evaluation in grad mode, is no error)."""
        unused = self._unused(stand_ins, output, consecutive=stand_ins is not params)
        object.__setattr__(self, "_dropped", [(i, params[i], params[i].grad is None)
                                               for i in unused] if counted else [])
        if not unused or counted:
            return
        left = set(unused)
        used = next((p for i, p in enumerate(params) if i not in left), None)
        if used is None:
            return  # nothing to backpropagate into

        def backward_ran(_: Tensor) -> None:
            self._awaiting.remove()
            object.__setattr__(self, "_awaiting", None)
            object.__setattr__(self, "_unreduced", unused)

        object.__setattr__(self, "_awaiting",
                           used.register_post_accumulate_grad_hook(backward_ran))

    def _counter_of(self, n: int) -> Tensor:
        """The zeros leaf whose gradient counts, for each of the ``n`` parameters, the
        processes whose loss reached it (``find_unused_parameters``); its ``.grad`` is
        cleared for the step being recorded."""
        counter: Tensor | None = self._counter
        if counter is None or counter.shape[0] != n:
            counter = _wrap_value(jnp.zeros((n,), jnp.float32), VAR)
            counter.register_post_accumulate_grad_hook(self._drop_unused)
            object.__setattr__(self, "_counter", counter)
        counter.grad = None
        return counter

    def _drop_unused(self, counter: Tensor) -> None:
        """After a backward pass: the gradient of each parameter that no process's loss
        reached is None again (PyTorch's ``find_unused_parameters=True``), so that the
        optimizer leaves it alone. Reads the counts only where this process's forward
        pass left parameters unused."""
        dropped: list[tuple[int, Tensor, bool]] = self._dropped
        if not dropped:
            return
        object.__setattr__(self, "_dropped", [])
        counts = np.asarray(cast(Tensor, counter.grad)._value())
        for index, p, was_none in dropped:
            if was_none and counts[index] == 0:
                p.grad = None

    def _unused(self, stand_ins: list[Tensor], output: Any,
                consecutive: bool) -> tuple[int, ...]:
        """Indices of ``stand_ins`` (the tensors the forward pass read for the
        parameters; ``consecutive``: the outputs of one node) that ``output`` does not
        depend on through differentiable ops, as PyTorch's search from the outputs;
        worked out once per recorded structure."""
        results = [t for t in _tensors(output) if t._kind == RG]
        tp = results[0]._cell.tape if results else None
        if tp is None or not stand_ins:
            return ()  # nothing recorded to search (or computed already)
        outs = tuple(t._cell.ref for t in results if t._cell.tape is tp)
        slots: Any = (stand_ins[0]._cell.ref if stand_ins[0]._cell.tape is tp else -1) \
            if consecutive else tuple(t._cell.ref if t._cell.tape is tp else -1
                                      for t in stand_ins)
        key = (tp.state, outs, slots)
        found: tuple[int, ...] | None = self._searched.get(key)
        if found is None:
            found = _unreached(tp, [t._cell.ref if t._cell.tape is tp else -1
                                    for t in stand_ins], outs)
            if len(self._searched) >= _SEARCHED_LIMIT:
                self._searched.clear()
            self._searched[key] = found
        return found


#: recorded structures whose unused parameters a DistributedDataParallel remembers
_SEARCHED_LIMIT = 256


def _tensors(value: Any) -> Iterator[Tensor]:
    """The tensors in ``value`` (a tensor, or lists, tuples and dicts of them)."""
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _tensors(v)
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _tensors(v)


def _unreached(tp: Any, params: list[int], outs: tuple[int, ...]) -> tuple[int, ...]:
    """Indices into ``params`` (slots of ``tp``, -1 for one not on it) of those that no
    slot of ``outs`` depends on through the differentiable inputs of the nodes recorded
    after them."""
    owner = tp.node_of_slot()
    index = {slot: i for i, slot in enumerate(params) if slot >= 0}
    if not index:
        return tuple(range(len(params)))
    after = min(owner[slot] for slot in index)
    reached: set[int] = set()
    seen: set[int] = set()
    stack = []
    for slot in outs:
        if slot in index:
            reached.add(index[slot])
        elif owner[slot] > after:
            stack.append(owner[slot])
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        for r in tp.nodes[n].inputs:
            if r < 0:
                continue
            kind = kind_of(r)
            if kind == CONST:
                continue
            slot = slot_of(r)
            if slot in index:
                reached.add(index[slot])
            elif kind == RG and owner[slot] > after:
                stack.append(owner[slot])
    return tuple(i for i in range(len(params)) if i not in reached)


def _unreduced_error(unused: tuple[int, ...], rank: int) -> str:
    """PyTorch's words (2.13, gloo) at the forward pass after a step in which this
    process's loss left the parameters ``unused`` (indices into ``parameters()``)
    unused without ``find_unused_parameters=True``."""
    return ("Expected to have finished reduction in the prior iteration before starting a "
            "new one. This error indicates that your module has parameters that were not "
            "used in producing loss. You can enable unused parameter detection by passing "
            "the keyword argument `find_unused_parameters=True` to "
            "`torch.nn.parallel.DistributedDataParallel`, and by \nmaking sure all "
            "`forward` function outputs participate in calculating loss. \nIf you already "
            "have done the above, then the distributed data parallel module wasn't able to "
            "locate the output tensors in the return value of your module's `forward` "
            "function. Please include the loss function and the structure of the return "
            "value of `forward` of your module when reporting this issue (e.g. list, dict, "
            "iterable).\nParameter indices which did not receive grad for rank "
            f"{rank}: {' '.join(map(str, unused))}\n In addition, you can set the "
            "environment variable TORCH_DISTRIBUTED_DEBUG to either INFO or DETAIL to print "
            "out information about which particular parameters did not receive gradient on "
            "this rank as part of this error")


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise Unsupported(
        f"fnnet.torch does not support torch.nn.parallel.{name}; use nn.DataParallel "
        "(all local devices), nn.parallel.DistributedDataParallel (several processes) or "
        "fnnet.parallel")
