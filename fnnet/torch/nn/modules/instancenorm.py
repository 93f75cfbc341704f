"""Instance normalisation modules: each sample's channels normalised over their
positions, through ``F.instance_norm`` (with ``track_running_stats``, running
statistics averaged over the samples and used in eval mode, as PyTorch's)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from fnnet.nn.init import constant
from fnnet.torch import _dtypes
from fnnet.torch._autograd import no_grad
from fnnet.torch._caller import caller_level
from fnnet.torch._functions import tensor
from fnnet.torch.nn._attention_norm import instance_norm
from fnnet.torch.nn.modules._layer import check_rank, filled_in_place
from fnnet.torch.nn.modules.batchnorm import _NormBase
from fnnet.torch.nn.parameter import Parameter
from fnnet.torch.tensor import Tensor


class _InstanceNorm(_NormBase):
    _spatial = 1  # the positions' dimensions

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False,
                 device: Any = None, dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, int) or \
                num_features < 1:
            raise ValueError(f"{type(self).__name__}: num_features must be a positive int, "
                             f"got {num_features!r}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.register_parameter("weight", Parameter._from_array(
            constant((num_features,), 1.0)) if affine else None)
        self.register_parameter("bias", Parameter._from_array(
            constant((num_features,), 0.0)) if affine and bias else None)
        if track_running_stats:
            self.register_buffer("running_mean", tensor(np.zeros(num_features, np.float32)))
            self.register_buffer("running_var", tensor(np.ones(num_features, np.float32)))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=_dtypes.long))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)
        filled_in_place(self)
        self._factory_kwargs(device, dtype)

    def forward(self, input: Tensor) -> Tensor:
        batched = self._spatial + 2
        check_rank(input, (batched - 1, batched))
        feature_dim = input.dim() - batched + 1
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={feature_dim} to match "
                                 f"num_features ({self.num_features}), but got: "
                                 f"{input.shape[feature_dim]}.")
            warnings.warn(f"input's size at dim={feature_dim} does not match num_features. "
                          f"You can silence this warning by not passing in num_features, "
                          f"which is not used because affine=False", UserWarning,
                          stacklevel=caller_level())
        unbatched = input.dim() == batched - 1  # one sample without its batch dimension
        x = input.unsqueeze(0) if unbatched else input
        # PyTorch: running statistics normalise in eval mode; momentum None updates nothing
        out = instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats,
                            self.momentum if self.momentum is not None else 0.0, self.eps)
        return out.squeeze(0) if unbatched else out

    def reset_running_stats(self) -> None:
        """Running mean 0, variance 1 and the batch count 0, written in place.

        PyTorch equivalent: ``torch.nn.InstanceNorm1d.reset_running_stats``.
        """
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1.0)
                self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """The running statistics reset, the weight 1 and the bias 0, written in place.

        PyTorch equivalent: ``torch.nn.InstanceNorm1d.reset_parameters``.
        """
        self.reset_running_stats()
        if self.affine:
            with no_grad():
                self.weight.fill_(1.0)
                self.bias.zero_()

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class InstanceNorm1d(_InstanceNorm):
    """PyTorch equivalent: ``torch.nn.InstanceNorm1d`` (``[N, C, L]`` or ``[C, L]``)."""


class InstanceNorm2d(_InstanceNorm):
    """PyTorch equivalent: ``torch.nn.InstanceNorm2d`` (``[N, C, H, W]`` or ``[C, H, W]``)."""

    _spatial = 2
