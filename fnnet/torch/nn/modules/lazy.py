"""Lazy modules (``nn.LazyLinear``, ``nn.LazyConv2d``, ``nn.LazyBatchNorm2d``...): layers
whose input size is read from their first input, as the d2l.ai book builds its models.

Until its first call a lazy module holds placeholders
(:class:`~fnnet.torch.nn.UninitializedParameter`) and prints its input size as 0. The
first call builds the module it stands for (``nn.Linear(in_features, ...)``, drawing its
weights from fnnet.torch's global key as that constructor does), moves the values into
the placeholders in place (so an optimizer built before the call trains them) and
becomes that module: ``type(net[0])`` is ``nn.Linear`` and ``print(net)`` shows the sizes.
"""

from __future__ import annotations

from typing import Any

from fnnet.torch.nn._uninitialized import UninitializedBuffer, UninitializedParameter, is_lazy
from fnnet.torch.nn.modules.batchnorm import BatchNorm1d, BatchNorm2d
from fnnet.torch.nn.modules.conv import Conv1d, Conv2d, ConvTranspose2d
from fnnet.torch.nn.modules.instancenorm import InstanceNorm1d, InstanceNorm2d
from fnnet.torch.nn.modules.linear import Linear
from fnnet.torch.nn.modules.module import Module
from fnnet.torch.nn.modules.volumetric import (
    BatchNorm3d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose3d,
    InstanceNorm3d,
)
from fnnet.torch.tensor import Tensor

#: a module's own tables, which materialisation keeps (the built module's are dropped)
_OWN = ("training", "_parameters", "_buffers", "_non_persistent", "_modules")


class LazyModuleMixin:
    """What the lazy modules share: the placeholders, the first call that fills them, and
    the module class they become. PyTorch equivalent: ``torch.nn.modules.lazy.
    LazyModuleMixin``."""

    cls_to_become: type[Module]
    #: the constructor's arguments after the input size, and its dtype
    _lazy_args: tuple[Any, ...]
    _lazy_kwargs: dict[str, Any]

    def _lazy_start(self, params: tuple[str, ...], buffers: tuple[str, ...],
                    args: tuple[Any, ...], kwargs: dict[str, Any], dtype: Any) -> None:
        Module.__init__(self)  # type: ignore[arg-type]
        object.__setattr__(self, "_lazy_args", args)
        object.__setattr__(self, "_lazy_kwargs", kwargs)
        for name in params:
            self.register_parameter(name, UninitializedParameter(dtype=dtype))  # type: ignore[attr-defined]
        for name in buffers:
            self.register_buffer(name, UninitializedBuffer(dtype=dtype))  # type: ignore[attr-defined]

    def has_uninitialized_params(self) -> bool:
        """Whether a parameter or buffer is still a placeholder."""
        d = self.__dict__
        return any(is_lazy(t) for table in ("_parameters", "_buffers")
                   for t in d[table].values())

    def _input_size(self, input: Tensor) -> int:
        raise NotImplementedError

    def initialize_parameters(self, input: Any, *args: Any, **kwargs: Any) -> None:
        """Builds the module this one stands for with the input size of ``input`` and
        takes its values into the placeholders (those a ``load_state_dict`` filled keep
        theirs). PyTorch equivalent: ``LazyModuleMixin.initialize_parameters``."""
        d = self.__dict__
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__}: input must be a Tensor, got "
                            f"{type(input).__name__}")
        kwargs = dict(self._lazy_kwargs)
        placeholders = [t for t in (*d["_parameters"].values(), *d["_buffers"].values())
                        if t is not None and t.is_floating_point()]
        if placeholders:
            kwargs["dtype"] = placeholders[0].dtype
        built = self.cls_to_become(self._input_size(input), *self._lazy_args, **kwargs)
        for table in ("_parameters", "_buffers"):
            for name, value in built.__dict__[table].items():
                mine = d[table].get(name)
                if is_lazy(mine) and value is not None:
                    mine._materialize(value._value())
        for name, value in built.__dict__.items():
            if name not in _OWN and "hooks" not in name and name not in d["_parameters"] \
                    and name not in d["_buffers"]:
                object.__setattr__(self, name, value)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if "_lazy_args" in self.__dict__:
            if self.has_uninitialized_params():
                self.initialize_parameters(*args, **kwargs)
            else:  # every value loaded: the rest of the module is built all the same
                self._become_built(*args, **kwargs)
            del self.__dict__["_lazy_args"], self.__dict__["_lazy_kwargs"]
            object.__setattr__(self, "__class__", self.cls_to_become)
        return Module.__call__(self, *args, **kwargs)  # type: ignore[arg-type]

    def _become_built(self, *args: Any, **kwargs: Any) -> None:
        self.initialize_parameters(*args, **kwargs)

    def _infer_parameters(self, module: Any, args: Any, kwargs: Any = None) -> None:
        """PyTorch's forward pre-hook, named by files PyTorch pickled a lazy module in
        (fnnet.torch's first call does its work)."""

    def _lazy_load_hook(self, *args: Any, **kwargs: Any) -> None:
        """PyTorch's load_state_dict pre-hook, named by files PyTorch pickled a lazy module
        in (fnnet.torch's load_state_dict does its work)."""

    def reset_parameters(self) -> None:
        """Nothing before the first call (the values are drawn then), as PyTorch's."""

    def _get_name(self) -> str:
        return type(self).__name__


def _check_rank(module: Any, input: Tensor, dims: int) -> None:
    """PyTorch's error for an input a lazy convolution cannot read its channels from."""
    shape = tuple(input.shape)
    if len(shape) not in (dims + 1, dims + 2):
        raise RuntimeError(f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input "
                           f"to {type(module).__name__}, but got input of size: "
                           f"torch.Size({list(shape)})")


class LazyLinear(LazyModuleMixin, Linear):
    """``nn.Linear`` whose ``in_features`` is the last size of its first input.

    PyTorch equivalent: ``torch.nn.LazyLinear``.
    """

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        self._lazy_start(("weight", "bias") if bias else ("weight",), (), (out_features,),
                         {"bias": bias, "device": device}, dtype)
        if not bias:
            self.register_parameter("bias", None)
        self.in_features, self.out_features = 0, out_features

    def _input_size(self, input: Tensor) -> int:
        return int(input.shape[-1]) if input.dim() else 1

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, " \
            f"bias={self.__dict__['_parameters'].get('bias') is not None}"


class _LazyConvNd(LazyModuleMixin):
    """What the lazy convolutions share: the channel count is the input's dim 1 (dim 0 of
    an unbatched input)."""

    _dims = 2

    def _conv_start(self, out_channels: int, kernel_size: Any, bias: bool,
                    rest: dict[str, Any], dtype: Any) -> None:
        self._lazy_start(("weight", "bias") if bias else ("weight",), (),
                         (out_channels, kernel_size), {"bias": bias, **rest}, dtype)
        if not bias:
            self.register_parameter("bias", None)  # type: ignore[attr-defined]
        # the settings as the built module keeps them (pairs), for print() and reading
        groups = rest.get("groups", 1)
        kwargs = {k: v for k, v in rest.items() if k != "device"}
        probe = self.cls_to_become(groups, out_channels, kernel_size, bias=bias, **kwargs)
        for name, value in vars(probe).items():
            if name not in _OWN and not name.startswith("_") and "hooks" not in name and \
                    name not in ("weight", "bias"):
                object.__setattr__(self, name, value)
        object.__setattr__(self, "_repr", probe.extra_repr().replace(f"{groups}, ", "0, ", 1))
        self.in_channels = 0

    def _input_size(self, input: Tensor) -> int:
        _check_rank(self, input, self._dims)
        return int(input.shape[0 if input.dim() == self._dims + 1 else 1])

    def extra_repr(self) -> str:
        return str(self.__dict__["_repr"])


class _LazyConv(_LazyConvNd):
    """The lazy convolutions' constructor (PyTorch's argument order)."""

    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        self._conv_start(out_channels, kernel_size, bias, {
            "stride": stride, "padding": padding, "dilation": dilation, "groups": groups,
            "padding_mode": padding_mode, "device": device}, dtype)


class _LazyConvTranspose(_LazyConvNd):
    """The lazy transposed convolutions' constructor (PyTorch's argument order)."""

    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                 bias: bool = True, dilation: Any = 1, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None) -> None:
        self._conv_start(out_channels, kernel_size, bias, {
            "stride": stride, "padding": padding, "output_padding": output_padding,
            "groups": groups, "dilation": dilation, "padding_mode": padding_mode,
            "device": device}, dtype)


class LazyConv1d(_LazyConv, Conv1d):
    """``nn.Conv1d`` whose ``in_channels`` is read from its first input.

    PyTorch equivalent: ``torch.nn.LazyConv1d``.
    """

    cls_to_become = Conv1d
    _dims = 1


class LazyConv2d(_LazyConv, Conv2d):
    """``nn.Conv2d`` whose ``in_channels`` is read from its first input.

    PyTorch equivalent: ``torch.nn.LazyConv2d``.
    """

    cls_to_become = Conv2d


class LazyConvTranspose2d(_LazyConvTranspose, ConvTranspose2d):
    """``nn.ConvTranspose2d`` whose ``in_channels`` is read from its first input.

    PyTorch equivalent: ``torch.nn.LazyConvTranspose2d``.
    """

    cls_to_become = ConvTranspose2d


class LazyConv3d(_LazyConv, Conv3d):
    """``nn.Conv3d`` whose ``in_channels`` is read from its first input.

    PyTorch equivalent: ``torch.nn.LazyConv3d``.
    """

    cls_to_become = Conv3d
    _dims = 3


class LazyConvTranspose1d(_LazyConvTranspose, ConvTranspose1d):
    """``nn.ConvTranspose1d`` whose ``in_channels`` is read from its first input.

    PyTorch equivalent: ``torch.nn.LazyConvTranspose1d``.
    """

    cls_to_become = ConvTranspose1d
    _dims = 1


class LazyConvTranspose3d(_LazyConvTranspose, ConvTranspose3d):
    """``nn.ConvTranspose3d`` whose ``in_channels`` is read from its first input.

    PyTorch equivalent: ``torch.nn.LazyConvTranspose3d``.
    """

    cls_to_become = ConvTranspose3d
    _dims = 3


class _LazyBatchNorm(LazyModuleMixin):
    """What the lazy BatchNorms share: the feature count is the input's dim 1."""

    _fnnet: Any = None  # the constructor's own signature is the one a whole-module load reads

    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: Any = None, dtype: Any = None,
                 *, bias: bool = True) -> None:
        self._norm_start(eps, momentum, affine, track_running_stats, device, dtype,
                         {"bias": bias})

    def _norm_start(self, eps: float, momentum: float | None, affine: bool,
                    track_running_stats: bool, device: Any, dtype: Any,
                    keywords: dict[str, Any]) -> None:
        bias = keywords.get("bias", True)
        params = ("weight", "bias") if affine and bias else ("weight",) if affine else ()
        buffers = ("running_mean", "running_var") if track_running_stats else ()
        self._lazy_start(params, buffers, (eps, momentum, affine, track_running_stats),
                         {"device": device, **keywords}, dtype)
        probe = self.cls_to_become(1, eps, momentum, affine, track_running_stats, **keywords)
        for name in ("weight", "bias"):
            if name not in params:
                self.register_parameter(name, None)  # type: ignore[attr-defined]
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            value = probe.__dict__["_buffers"].get(name)
            if name == "num_batches_tracked" and value is not None:
                self.register_buffer(name, value)  # type: ignore[attr-defined]
            elif name not in buffers:
                self.register_buffer(name, None)  # type: ignore[attr-defined]
        object.__setattr__(self, "_repr", probe.extra_repr().replace("1, ", "0, ", 1))
        self.num_features, self.eps, self.momentum = 0, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats

    def _input_size(self, input: Tensor) -> int:
        return int(input.shape[1]) if input.dim() > 1 else int(input.shape[0])

    def extra_repr(self) -> str:
        return str(self.__dict__["_repr"])


class LazyBatchNorm1d(_LazyBatchNorm, BatchNorm1d):
    """``nn.BatchNorm1d`` whose ``num_features`` is read from its first input.

    PyTorch equivalent: ``torch.nn.LazyBatchNorm1d``.
    """

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyBatchNorm, BatchNorm2d):
    """``nn.BatchNorm2d`` whose ``num_features`` is read from its first input.

    PyTorch equivalent: ``torch.nn.LazyBatchNorm2d``.
    """

    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyBatchNorm, BatchNorm3d):
    """``nn.BatchNorm3d`` whose ``num_features`` is read from its first input.

    PyTorch equivalent: ``torch.nn.LazyBatchNorm3d``.
    """

    cls_to_become = BatchNorm3d


class _LazyInstanceNorm(_LazyBatchNorm):
    """What the lazy instance norms share: PyTorch's defaults for them (affine, with
    running statistics, unlike the instance norms'); the feature count is dim 1 of the
    input, as PyTorch reads it (also of an unbatched one)."""

    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: Any = None,
                 dtype: Any = None, *, bias: bool = True) -> None:
        self._norm_start(eps, momentum, affine, track_running_stats, device, dtype,
                         {"bias": bias})


class LazyInstanceNorm1d(_LazyInstanceNorm, InstanceNorm1d):
    """``nn.InstanceNorm1d`` whose ``num_features`` is read from its first input.

    PyTorch equivalent: ``torch.nn.LazyInstanceNorm1d``.
    """

    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyInstanceNorm, InstanceNorm2d):
    """``nn.InstanceNorm2d`` whose ``num_features`` is read from its first input.

    PyTorch equivalent: ``torch.nn.LazyInstanceNorm2d``.
    """

    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyInstanceNorm, InstanceNorm3d):
    """``nn.InstanceNorm3d`` whose ``num_features`` is read from its first input.

    PyTorch equivalent: ``torch.nn.LazyInstanceNorm3d``.
    """

    cls_to_become = InstanceNorm3d
