"""``torch.nn.parallel`` / ``nn.DataParallel``: the recorded step, split over local devices.

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
- The batch must be divisible by the device count (a ValueError says so; PyTorch
  gives the last replicas smaller chunks).
- Outputs are not gathered onto ``output_device``: they stay split over the devices
  (jax moves them when they are read).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax

from fnnet.parallel.mesh import batch_sharded, check_divisible, data_mesh
from fnnet.torch import _sharding
from fnnet.torch.nn.modules.module import Module
from fnnet.torch.tensor import Tensor, Unsupported, _op, _wrap_value


def _devices(device_ids: Any) -> list[jax.Device]:
    local = jax.local_devices()
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
        ValueError: a device index out of range; at a call, a batch not divisible by
            the number of devices.
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
        if dim != 0:
            raise NotImplementedError(f"fnnet.torch: DataParallel(dim={dim}) is not "
                                      "supported; put the batch on axis 0")
        del output_device
        self.module = module
        devices = _devices(device_ids)
        self.device_ids = list(range(len(devices))) if device_ids is None else \
            list(device_ids)
        self._sharding = batch_sharded(data_mesh(devices))

    def _scatter(self, value: Any) -> Any:
        """``value`` with every tensor in it split over the devices along axis 0."""
        if isinstance(value, Tensor):
            shape = value._cell.aval[0]
            if not shape:
                raise ValueError("DataParallel: inputs must have a batch axis (axis 0), got "
                                 "a 0-d tensor")
            devices = self._sharding.mesh.size
            try:
                check_divisible(shape[0], devices, what="global batch")
            except ValueError as error:
                raise ValueError(f"DataParallel: {error}") from None
            cell = value._cell
            if cell.val is not None and value._kind == 0:
                # a concrete input (a batch from the loader): place it split right away
                value = _wrap_value(jax.device_put(cell.val, self._sharding))
            return _op(_sharding.shard_batch, (self._sharding,), value, who="DataParallel")
        if isinstance(value, (list, tuple)):
            return type(value)(self._scatter(v) for v in value)
        if isinstance(value, Mapping):
            return {k: self._scatter(v) for k, v in value.items()}
        return value

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*self._scatter(inputs), **self._scatter(kwargs))


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise Unsupported(
        f"fnnet.torch does not support torch.nn.parallel.{name}; use nn.DataParallel "
        "(all local devices) or fnnet.parallel (several processes and hosts)")
