"""``nn.SyncBatchNorm``: BatchNorm whose statistics span every process of a DDP run.

The layer is fnnet's BatchNorm with ``axis_name`` set to the process axis of
``DistributedDataParallel``'s step: inside that step the batch mean and variance are
averaged over the processes (the statistics of the global batch, and ``running_var``
unbiased by the global count, as PyTorch's SyncBatchNorm). Anywhere else (one process,
``ddp.module`` called directly, evaluation) it is an ordinary BatchNorm.
"""

from __future__ import annotations

import copy
from typing import Any

from fnnet.nn.batchnorm import _BatchNorm as _FnnetBatchNorm
from fnnet.torch import _sharding
from fnnet.torch.nn.modules.batchnorm import _BatchNorm
from fnnet.torch.nn.modules.module import Module
from fnnet.typing import Array, Params, State


class _ProcessBatchNorm(_FnnetBatchNorm):
    """fnnet's BatchNorm for ``[N, C, *]`` of any rank, synchronised over the processes
    when traced inside a per-process step (and plain outside one)."""

    _ranks = (2, 3, 4, 5)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, axis_name=_sharding.PROCESS_AXIS, **kwargs)

    def apply(self, params: Params, state: State, x: Any, *args: Any, train: bool = False,
              key: Array | None = None, **kwargs: Any) -> tuple[Any, State]:
        layer = self if _sharding.in_process_map() else self._plain()
        return _FnnetBatchNorm.apply(layer, params, state, x, *args, train=train, key=key,
                                     **kwargs)

    def extra_repr(self) -> str:
        # printed as PyTorch's SyncBatchNorm: the process axis is the shim's own detail
        return _FnnetBatchNorm.extra_repr(self._plain())

    def _plain(self) -> _FnnetBatchNorm:
        """This layer without the process axis: an ordinary BatchNorm."""
        layer = copy.copy(self)
        layer.axis_name = None
        return layer


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation over the global batch of a ``DistributedDataParallel`` run.

    Args:
        num_features: ``C`` of inputs ``[N, C, *]``.
        eps, momentum, affine, track_running_stats: as ``BatchNorm1d``.
        process_group: None (the default group; no other exists).

    PyTorch equivalent: ``torch.nn.SyncBatchNorm``.
    """

    _fnnet = _ProcessBatchNorm

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 process_group: Any = None, device: Any = None, dtype: Any = None, *,
                 bias: bool = True) -> None:
        if process_group is not None:
            raise NotImplementedError("SyncBatchNorm: only the default process group "
                                      "(process_group=None) is supported")
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: Any = None) -> Module:
        """``module`` with every BatchNorm layer replaced by a SyncBatchNorm.

        The new layers keep the old ones' parameter and buffer tensors (an optimizer
        built before still trains them) and training mode; the module's children are
        replaced in place, and the converted module is returned.

        Raises:
            TypeError: ``module`` is not an ``nn.Module``.

        PyTorch equivalent: ``torch.nn.SyncBatchNorm.convert_sync_batchnorm``.
        """
        if not isinstance(module, Module):
            raise TypeError(f"convert_sync_batchnorm: module must be an nn.Module, got "
                            f"{type(module).__name__}")
        if process_group is not None:
            raise NotImplementedError("convert_sync_batchnorm: only the default process "
                                      "group (process_group=None) is supported")
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            sync = cls(module.num_features, module.eps, module.momentum, module.affine,
                       module.track_running_stats)
            for name in cls._params:
                if name in module._parameters:
                    sync.register_parameter(name, module._parameters[name])
            for name in cls._state:
                if name in module._buffers:
                    sync.register_buffer(name, module._buffers[name])
            sync.train(module.training)
            return sync
        for name, child in list(module._modules.items()):
            if child is not None:
                new = cls.convert_sync_batchnorm(child)
                if new is not child:
                    module._modules[name] = new  # keeps the children's order
                    object.__setattr__(module, name, new)
        return module
