"""fnnet models to Flax NNX modules and back.

:func:`to_nnx` builds the Flax NNX module that computes what an fnnet model computes,
with the weights converted to Flax's layouts: a Linear ``weight [out, in]`` becomes an
``nnx.Linear`` ``kernel [in, out]``, a Conv2d ``weight [O, I, H, W]`` an ``nnx.Conv``
``kernel [H, W, I, O]``, and BatchNorm's ``weight``/``bias``/``running_mean``/
``running_var`` an ``nnx.BatchNorm``'s ``scale``/``bias``/``mean``/``var``. Convolutional
models run channels-last (NHWC, Flax's layout) inside an :class:`NCHW` wrapper that
takes fnnet's ``[N, C, H, W]`` input. :func:`from_nnx` reads the weights back into
fnnet's trees, bit for bit::

    net = fnnet.models.LeNet5()
    params, state = net.init(jax.random.key(0))
    module = fnnet.interop.to_nnx(net, params, state)   # eval mode
    logits = module(x)                                  # x: [N, 1, 32, 32]
    params, state = fnnet.interop.from_nnx(net, module)

Supported models: :class:`fnnet.models.MLP`, :class:`fnnet.models.LeNet5` and
:class:`fnnet.models.ResNet` (``ResNet18``, ``ResNet34``). flax is imported only when
one of these functions is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import jax.numpy as jnp

from fnnet import nn
from fnnet.models import MLP, LeNet5, ResNet
from fnnet.nn.batchnorm import count_dtype
from fnnet.nn.errors import StateDictError
from fnnet.nn.tree_check import check_trees
from fnnet.typing import Array, Params, State

if TYPE_CHECKING:
    from flax import nnx

SUPPORTED = "fnnet.models.MLP, fnnet.models.LeNet5 or fnnet.models.ResNet"


def to_nnx(model: nn.Module, params: Params, state: State, *,
           train: bool = False) -> nnx.Module:
    """The Flax NNX module equivalent to ``model`` with ``params`` and ``state``.

    Args:
        model: an :class:`fnnet.models.MLP`, :class:`fnnet.models.LeNet5` or
            :class:`fnnet.models.ResNet` (``ResNet18(...)``).
        params: ``model``'s parameter tree (from ``init``, training or PyTorch).
        state: ``model``'s layer state (BatchNorm running statistics; ``{}`` for models
            without BatchNorm).
        train: build the module in training mode (BatchNorm normalises with the
            batch's statistics and updates its running ones); the default is eval
            mode, as fnnet's ``apply``. Switch later with ``module.train()`` and
            ``module.eval()``.

    Returns:
        An ``nnx.Module``. The MLP takes ``[N, ...]`` like fnnet's; LeNet-5 and ResNet
        return an :class:`NCHW` wrapper taking ``[N, C, H, W]`` whose ``nhwc``
        attribute is the channels-last model itself. Its outputs equal
        ``model.apply(params, state, x, train=train)[0]`` to float32 rounding.

    Raises:
        TypeError: ``model`` is not one of the supported models (an
            ``UnsupportedModelError``, also a ``NotImplementedError``).
        StateDictError: ``params`` or ``state`` does not fit ``model``.
        ValueError: a BatchNorm with ``momentum=None`` (a cumulative average, which
            Flax's BatchNorm cannot express) or without running statistics.

    Flax's BatchNorm updates ``var`` with the biased batch variance where PyTorch and
    fnnet use the unbiased one (larger by ``n / (n - 1)`` for ``n`` values per
    channel), so running variances drift apart slightly when training continues in
    Flax. ``num_batches_tracked`` is kept on each BatchNorm as a ``BatchStat`` that
    Flax does not advance.
    """
    from flax import nnx

    from fnnet.interop import _nnx_models as flax_models

    _check_model(model, "to_nnx")
    _check_fit(model, params, state, "to_nnx: params and state")
    rngs = nnx.Rngs(0)
    module: nnx.Module
    if isinstance(model, MLP):
        module = flax_models.MLP(
            [_linear(getattr(model, f"fc{index}"), params[f"fc{index}"], rngs)
             for index in range(1, len(model.sizes))], model.activation)
    elif isinstance(model, LeNet5):
        fc1 = dict(params["fc1"], weight=_hwc_columns(params["fc1"]["weight"], (16, 5, 5)))
        module = flax_models.NCHW(flax_models.LeNet5(
            _conv(model.conv1, params["conv1"], rngs), _conv(model.conv2, params["conv2"], rngs),
            _linear(model.fc1, fc1, rngs), _linear(model.fc2, params["fc2"], rngs),
            _linear(model.fc3, params["fc3"], rngs)))
    else:
        assert isinstance(model, ResNet)
        module = flax_models.NCHW(_resnet_to_nnx(model, params, state, rngs))
    # Flax's Module.train and Module.eval carry no annotations.
    if train:
        module.train()  # type: ignore[no-untyped-call]
    else:
        module.eval()  # type: ignore[no-untyped-call]
    return module


def from_nnx(model: nn.Module, module: nnx.Module) -> tuple[Params, State]:
    """``(params, state)`` for ``model`` from a module built by :func:`to_nnx`.

    Args:
        model: the fnnet model the module was built from (or one of the same
            architecture).
        module: the ``nnx.Module`` that :func:`to_nnx` returned, possibly trained in
            Flax since; for LeNet-5 and ResNet also its channels-last ``module.nhwc``.

    Returns:
        ``(params, state)`` in fnnet's names and PyTorch's layouts; a round trip
        through :func:`to_nnx` returns arrays equal bit for bit.

    Raises:
        TypeError: ``model`` is not supported, or ``module`` is not the Flax version
            of it.
        StateDictError: the module's weights do not fit ``model`` (e.g. other sizes).
    """
    from fnnet.interop import _nnx_models as flax_models

    _check_model(model, "from_nnx")
    inner = module.nhwc if isinstance(module, flax_models.NCHW) else module
    expected = {MLP: flax_models.MLP, LeNet5: flax_models.LeNet5,
                ResNet: flax_models.ResNet}[type(model)]
    if not isinstance(inner, expected):
        raise TypeError(f"from_nnx: module must be the {expected.__name__} that to_nnx "
                        f"builds for {type(model).__name__}, got {type(module).__name__}")
    params: Params = {}
    state: State = {}
    if isinstance(inner, flax_models.MLP):
        for index in range(1, len(inner.sizes)):
            name = f"fc{index}"
            params[name] = _get_linear(getattr(inner, name))
    elif isinstance(inner, flax_models.LeNet5):
        params["conv1"] = _get_conv(inner.conv1)
        params["conv2"] = _get_conv(inner.conv2)
        params["fc1"] = _get_linear(inner.fc1)
        params["fc1"]["weight"] = _chw_columns(params["fc1"]["weight"], (16, 5, 5))
        params["fc2"] = _get_linear(inner.fc2)
        params["fc3"] = _get_linear(inner.fc3)
    else:
        assert isinstance(inner, flax_models.ResNet)
        params, state = _resnet_from_nnx(inner)
    _check_fit(model, params, state, "from_nnx: the module's weights")
    return params, state


class UnsupportedModelError(NotImplementedError, TypeError):
    """A model ``to_nnx``/``from_nnx`` has no Flax form for: not implemented, and (as it
    was first) a TypeError."""


def _check_model(model: Any, caller: str) -> None:
    # Exact types: a subclass may compute something else in its own forward.
    if type(model) not in (MLP, LeNet5, ResNet):
        raise UnsupportedModelError(
            f"{caller}: model must be an {SUPPORTED}, got {type(model).__name__}; other "
            "models have no Flax NNX form here (fnnet.nn.state_dict gives their weights "
            "under PyTorch's names, to copy into a Flax module of one's own)")


def _check_fit(model: nn.Module, params: Params, state: State, what: str) -> None:
    """``check_trees``, its message naming the bridge function instead of ``apply``."""
    try:
        check_trees(model, params, state)
    except StateDictError as err:
        problems = str(err.args[0]).split(": ", 2)[-1]
        raise StateDictError(f"{what} do not fit {type(model).__name__}: "
                             f"{problems}") from None


def _resnet_to_nnx(model: ResNet, params: Params, state: State, rngs: nnx.Rngs) -> Any:
    from fnnet.interop import _nnx_models as flax_models

    def block(fn_block: Any, p: Params, s: State) -> flax_models.BasicBlock:
        downsample = None
        if fn_block.downsample is not None:
            downsample = [_conv(fn_block.downsample[0], p["downsample"]["0"], rngs),
                          _bn(fn_block.downsample[1], p["downsample"].get("1", {}),
                              s["downsample"]["1"], rngs)]
        return flax_models.BasicBlock(
            _conv(fn_block.conv1, p["conv1"], rngs),
            _bn(fn_block.bn1, p.get("bn1", {}), s["bn1"], rngs),
            _conv(fn_block.conv2, p["conv2"], rngs),
            _bn(fn_block.bn2, p.get("bn2", {}), s["bn2"], rngs),
            downsample)

    stages = []
    for name in ("layer1", "layer2", "layer3", "layer4"):
        stage = getattr(model, name)
        stages.append([block(child, params[name][index], state[name][index])
                       for index, child in stage.named_children()])
    return flax_models.ResNet(
        _conv(model.conv1, params["conv1"], rngs),
        _bn(model.bn1, params.get("bn1", {}), state["bn1"], rngs),
        model.stem, stages, _linear(model.fc, params["fc"], rngs))


def _resnet_from_nnx(resnet: Any) -> tuple[Params, State]:
    params: Params = {"conv1": _get_conv(resnet.conv1)}
    state: State = {}
    _put_bn(resnet.bn1, "bn1", params, state)
    for name in ("layer1", "layer2", "layer3", "layer4"):
        stage_params: Params = {}
        stage_state: State = {}
        for index, block in enumerate(getattr(resnet, name)):
            p: Params = {"conv1": _get_conv(block.conv1), "conv2": _get_conv(block.conv2)}
            s: State = {}
            _put_bn(block.bn1, "bn1", p, s)
            _put_bn(block.bn2, "bn2", p, s)
            if block.downsample is not None:
                conv, bn = block.downsample
                dp: Params = {"0": _get_conv(conv)}
                ds: State = {}
                _put_bn(bn, "1", dp, ds)
                p["downsample"] = dp
                s["downsample"] = ds
            stage_params[str(index)] = p
            stage_state[str(index)] = s
        params[name] = stage_params
        state[name] = stage_state
    params["fc"] = _get_linear(resnet.fc)
    return params, state


# ---- one layer each way --------------------------------------------------------------

def _given(value: Array) -> Any:
    """A Flax initializer that returns ``value`` (after checking the shape Flax asks
    for), so a layer is built with fnnet's weights and nothing is drawn."""
    def init(key: Any, shape: tuple[int, ...], dtype: Any = None) -> Array:
        del key, dtype
        if tuple(shape) != tuple(value.shape):
            raise ValueError(f"to_nnx: Flax expects a weight of shape {tuple(shape)}, "
                             f"the converted one has {tuple(value.shape)}")
        return jnp.asarray(value)
    return init


def _linear(layer: nn.Linear, params: Params, rngs: nnx.Rngs) -> nnx.Linear:
    from flax import nnx

    weight = params["weight"]
    bias = params.get("bias")
    return nnx.Linear(layer.in_features, layer.out_features, use_bias=bias is not None,
                      kernel_init=_given(jnp.transpose(weight)),
                      bias_init=_given(bias) if bias is not None else nnx.initializers.zeros,
                      param_dtype=weight.dtype, rngs=rngs)


def _get_linear(linear: nnx.Linear) -> Params:
    out: Params = {"weight": jnp.transpose(linear.kernel.get_value())}
    if linear.bias is not None:
        out["bias"] = linear.bias.get_value()
    return out


def _conv(layer: nn.Conv2d, params: Params, rngs: nnx.Rngs) -> nnx.Conv:
    from flax import nnx

    if layer.padding_mode != "zeros":
        raise ValueError(f"to_nnx: {layer!r} pads with {layer.padding_mode!r}; Flax's "
                         "Conv pads with zeros only")
    padding: Any = (layer.padding.upper() if isinstance(layer.padding, str)
                    else tuple((p, p) for p in layer.padding))
    weight = params["weight"]
    bias = params.get("bias")
    return nnx.Conv(layer.in_channels, layer.out_channels, layer.kernel_size,
                    strides=layer.stride, padding=padding, kernel_dilation=layer.dilation,
                    feature_group_count=layer.groups, use_bias=bias is not None,
                    kernel_init=_given(jnp.transpose(weight, (2, 3, 1, 0))),  # OIHW -> HWIO
                    bias_init=_given(bias) if bias is not None else nnx.initializers.zeros,
                    param_dtype=weight.dtype, rngs=rngs)


def _get_conv(conv: nnx.Conv) -> Params:
    # HWIO -> OIHW
    out: Params = {"weight": jnp.transpose(conv.kernel.get_value(), (3, 2, 0, 1))}
    if conv.bias is not None:
        out["bias"] = conv.bias.get_value()
    return out


def _bn(layer: Any, params: Params, state: State, rngs: nnx.Rngs) -> nnx.BatchNorm:
    from flax import nnx

    if layer.momentum is None:
        raise ValueError(f"to_nnx: {layer!r} keeps a cumulative average "
                         "(momentum=None), which Flax's BatchNorm cannot express")
    if not layer.track_running_stats or (layer.affine and not layer.bias):
        raise ValueError(f"to_nnx: {layer!r} has no Flax equivalent (Flax's BatchNorm "
                         "needs running statistics and both or neither of scale and bias)")
    # Flax's momentum is the weight of the running value, PyTorch's that of the batch;
    # the two-pass variance is the one fnnet computes.
    scale_init = _given(params["weight"]) if layer.affine else nnx.initializers.ones
    bias_init = _given(params["bias"]) if layer.affine else nnx.initializers.zeros
    bn = nnx.BatchNorm(layer.num_features, momentum=1.0 - layer.momentum, epsilon=layer.eps,
                       use_scale=layer.affine, use_bias=layer.affine, scale_init=scale_init,
                       bias_init=bias_init, use_fast_variance=False, use_running_average=True,
                       rngs=rngs)
    bn.mean.set_value(jnp.asarray(state["running_mean"]))
    bn.var.set_value(jnp.asarray(state["running_var"]))
    # Flax does not count batches; the count rides along, an extra BatchStat on Flax's
    # BatchNorm, so from_nnx returns it.
    bn.num_batches_tracked = nnx.BatchStat(  # type: ignore[attr-defined]
        jnp.asarray(state["num_batches_tracked"]))
    return bn


def _put_bn(bn: nnx.BatchNorm, name: str, params: Params, state: State) -> None:
    if bn.scale is not None and bn.bias is not None:
        params[name] = {"weight": bn.scale.get_value(), "bias": bn.bias.get_value()}
    count = getattr(bn, "num_batches_tracked", None)
    state[name] = {
        "running_mean": bn.mean.get_value(),
        "running_var": bn.var.get_value(),
        "num_batches_tracked": (count.get_value() if count is not None
                                else jnp.zeros((), count_dtype())),
    }


def _hwc_columns(weight: Array, chw: tuple[int, int, int]) -> Array:
    """Reorders a ``[out, C*H*W]`` weight's columns from ``(C, H, W)`` flattening to
    ``(H, W, C)``, the order of flattened NHWC activations."""
    c, h, w = chw
    return weight.reshape(-1, c, h, w).transpose(0, 2, 3, 1).reshape(-1, c * h * w)


def _chw_columns(weight: Array, chw: tuple[int, int, int]) -> Array:
    """The inverse of :func:`_hwc_columns`."""
    c, h, w = chw
    return weight.reshape(-1, h, w, c).transpose(0, 3, 1, 2).reshape(-1, c * h * w)
