"""PyTorch names that learning material uses and fnnet.torch added: lazy modules (the
d2l.ai book), RMSNorm, 3-D layers, and small functions; each against real PyTorch."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import torch
from helpers import raised_by

import fnnet.torch as ft

pytestmark = pytest.mark.torch


def _without_addresses(message: str) -> str:
    return re.sub(r" at 0x[0-9a-f]+", "", message)


# -- lazy modules ------------------------------------------------------------------------

LAZY = {
    "LazyLinear": (lambda T: T.nn.LazyLinear(3), (2, 5)),
    "LazyLinear without bias": (lambda T: T.nn.LazyLinear(3, bias=False), (2, 4)),
    "LazyConv1d": (lambda T: T.nn.LazyConv1d(4, 3, padding=1), (2, 3, 7)),
    "LazyConv2d": (lambda T: T.nn.LazyConv2d(4, 3, stride=2), (2, 3, 6, 6)),
    "LazyConv2d groups": (lambda T: T.nn.LazyConv2d(4, 3, groups=2, bias=False), (1, 2, 5, 5)),
    "LazyConvTranspose2d": (lambda T: T.nn.LazyConvTranspose2d(4, 3, stride=2), (2, 3, 4, 4)),
    "LazyBatchNorm1d": (lambda T: T.nn.LazyBatchNorm1d(), (4, 3)),
    "LazyBatchNorm1d affine=False": (lambda T: T.nn.LazyBatchNorm1d(affine=False), (4, 3, 2)),
    "LazyBatchNorm2d": (lambda T: T.nn.LazyBatchNorm2d(momentum=0.2), (2, 3, 4, 4)),
    "LazyBatchNorm3d": (lambda T: T.nn.LazyBatchNorm3d(), (2, 3, 2, 2, 2)),
    "LazyInstanceNorm1d": (lambda T: T.nn.LazyInstanceNorm1d(), (2, 3, 4)),
    "LazyInstanceNorm2d": (lambda T: T.nn.LazyInstanceNorm2d(affine=False), (2, 3, 4, 4)),
    "LazyInstanceNorm3d": (lambda T: T.nn.LazyInstanceNorm3d(track_running_stats=False),
                           (2, 3, 2, 2, 2)),
    "LazyConv3d": (lambda T: T.nn.LazyConv3d(2, (1, 3, 3), padding=1), (1, 3, 3, 4, 4)),
    "LazyConvTranspose1d": (lambda T: T.nn.LazyConvTranspose1d(2, 3, stride=2), (2, 3, 5)),
    "LazyConvTranspose3d": (lambda T: T.nn.LazyConvTranspose3d(2, 2, bias=False),
                            (3, 2, 2, 2)),
}


@pytest.mark.parametrize("name", LAZY)
def test_lazy_module_prints_registers_and_becomes_its_module(name):
    make, shape = LAZY[name]
    ours, theirs = make(ft), make(torch)
    assert repr(ours) == repr(theirs)
    assert [(n, type(p).__name__) for n, p in ours.named_parameters()] == \
        [(n, type(p).__name__) for n, p in theirs.named_parameters()]
    assert [(k, type(v).__name__) for k, v in ours.state_dict().items()] == \
        [(k, type(v).__name__) for k, v in theirs.state_dict().items()]
    assert ours.has_uninitialized_params() == theirs.has_uninitialized_params()
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    ours(ft.from_numpy(x))
    theirs(torch.from_numpy(x))
    assert repr(ours) == repr(theirs)
    assert type(ours).__name__ == type(theirs).__name__
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert [type(p).__name__ for p in ours.parameters()] == ["Parameter"] * len(
        list(theirs.parameters()))


def test_lazy_linear_after_dry_run_computes_as_linear_with_its_weights():
    ours = ft.nn.Sequential(ft.nn.LazyLinear(4), ft.nn.ReLU(), ft.nn.LazyLinear(2))
    theirs = torch.nn.Sequential(torch.nn.LazyLinear(4), torch.nn.ReLU(),
                                 torch.nn.LazyLinear(2))
    x = np.random.default_rng(1).standard_normal((3, 5)).astype(np.float32)
    ours(ft.from_numpy(x))
    theirs(torch.from_numpy(x))
    ours.load_state_dict({k: ft.from_numpy(v.numpy()) for k, v in theirs.state_dict().items()})
    # PyTorch's weights come from its unseeded generator: an output near 0 needs atol
    np.testing.assert_allclose(ours(ft.from_numpy(x)).detach().numpy(),
                               theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    # PyTorch's default initialisation at the first call: U(-1/sqrt(5), 1/sqrt(5))
    fresh = ft.nn.LazyLinear(200)
    fresh(ft.ones(1, 5))
    w = fresh.weight.detach().numpy()
    assert np.abs(w).max() <= 1 / np.sqrt(5) and np.abs(w).max() > 0.4


def test_optimizer_built_before_the_dry_run_trains_the_materialised_parameters():
    net = ft.nn.LazyLinear(1)
    opt = ft.optim.SGD(net.parameters(), lr=0.1)
    x, y = ft.ones(4, 3), ft.zeros(4, 1)
    net(x)
    before = net.weight.detach().clone()
    ft.nn.functional.mse_loss(net(x), y).backward()
    opt.step()
    assert not ft.equal(net.weight, before)
    assert opt.param_groups[0]["params"][0] is net.weight


def test_apply_init_after_the_dry_run_and_state_dict_into_a_lazy_model():
    net = ft.nn.Sequential(ft.nn.LazyLinear(3), ft.nn.LazyLinear(2))
    net(ft.ones(1, 4))

    def init(m):
        if type(m) is ft.nn.Linear:
            ft.nn.init.constant_(m.weight, 0.5)
            ft.nn.init.zeros_(m.bias)
    net.apply(init)
    assert net(ft.ones(1, 4)).tolist() == [[3.0, 3.0]]
    clone = ft.nn.Sequential(ft.nn.LazyLinear(3), ft.nn.LazyLinear(2))
    assert repr(clone.load_state_dict(net.state_dict())) == "<All keys matched successfully>"
    assert type(clone[0]).__name__ == "LazyLinear" and tuple(clone[0].weight.shape) == (3, 4)
    assert clone(ft.ones(1, 4)).tolist() == [[3.0, 3.0]]
    assert repr(clone[0]) == "Linear(in_features=4, out_features=3, bias=True)"


PLACEHOLDER_MISTAKES = {
    "numel": lambda T: T.nn.LazyLinear(3).weight.numel(),
    "shape": lambda T: T.nn.LazyLinear(3).weight.shape,
    "add": lambda T: T.nn.LazyLinear(3).weight + 1,
    "sum": lambda T: T.nn.LazyLinear(3).weight.sum(),
    "init.normal_": lambda T: T.nn.init.normal_(T.nn.LazyLinear(3).weight),
    "apply before the dry run": lambda T: T.nn.LazyLinear(3).apply(
        lambda m: T.nn.init.xavier_uniform_(m.weight)),
    "load a placeholder into a parameter":
        lambda T: T.nn.Linear(4, 3).load_state_dict(T.nn.LazyLinear(3).state_dict()),
    "conv input of a wrong rank": lambda T: T.nn.LazyConv2d(3, 3)(T.ones(4)),
    "unknown keyword": lambda T: T.nn.LazyLinear(3, foo=1),
    "other size after the first call": lambda T: (lambda m: (m(T.ones(2, 4)),
                                                             m(T.ones(2, 5))))(
        T.nn.LazyLinear(3)),
}


@pytest.mark.parametrize("name", PLACEHOLDER_MISTAKES)
def test_placeholders_refuse_what_pytorch_refuses(name):
    (t_type, t_msg), (f_type, f_msg) = raised_by(PLACEHOLDER_MISTAKES[name], torch, ft)
    assert f_type is t_type
    if "init" not in name and "apply" not in name:  # PyTorch names the function it traced
        assert _without_addresses(f_msg) == _without_addresses(t_msg)


def test_placeholder_repr_and_names():
    assert repr(ft.nn.LazyLinear(2).weight) == repr(torch.nn.LazyLinear(2).weight)
    assert repr(ft.nn.UninitializedBuffer()) == repr(torch.nn.UninitializedBuffer())
    assert ft.nn.parameter.is_lazy(ft.nn.UninitializedParameter())
    u = ft.nn.UninitializedParameter()
    u.materialize((2, 3))
    assert type(u) is ft.nn.Parameter and tuple(u.shape) == (2, 3)


def test_a_lazy_model_saved_whole_loads_lazy_and_materialises():
    import io

    buffer = io.BytesIO()
    ft.save(ft.nn.Sequential(ft.nn.LazyLinear(3), ft.nn.LazyBatchNorm1d()), buffer)
    buffer.seek(0)
    loaded = ft.load(buffer, weights_only=False)
    assert repr(loaded[0].weight) == "<UninitializedParameter>"
    assert repr(loaded[1]) == repr(torch.nn.LazyBatchNorm1d())
    loaded(ft.ones(2, 4))
    assert repr(loaded[0]) == "Linear(in_features=4, out_features=3, bias=True)"


# -- RMSNorm and Buffer --------------------------------------------------------------------

RMS_CALLS = {
    "F.rms_norm": lambda T, x: T.nn.functional.rms_norm(x, (4,)),
    "F.rms_norm eps weight": lambda T, x: T.nn.functional.rms_norm(
        x, [4], weight=T.arange(4.0) + 1, eps=1e-2),
    "F.rms_norm two axes": lambda T, x: T.nn.functional.rms_norm(x, (3, 4)),
    "RMSNorm": lambda T, x: T.nn.RMSNorm(4)(x),
    "RMSNorm without affine": lambda T, x: T.nn.RMSNorm([3, 4], 1e-6, False)(x),
}


@pytest.mark.parametrize("name", RMS_CALLS)
def test_rms_norm_values_and_gradients_are_pytorchs(name):
    data = np.random.default_rng(2).standard_normal((2, 3, 4)).astype(np.float32)
    results = []
    for T in (torch, ft):
        x = T.tensor(data, requires_grad=True)
        y = RMS_CALLS[name](T, x)
        (y * T.arange(24.0).reshape(2, 3, 4)).sum().backward()
        results.append((y.detach().numpy(), x.grad.numpy(), type(y.grad_fn).__name__))
    (ty, tg, tname), (fy, fg, fname) = results
    np.testing.assert_allclose(fy, ty, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fg, tg, rtol=1e-4, atol=1e-5)
    assert fname == tname


def test_rms_norm_module_prints_and_saves_as_pytorchs_and_keeps_half_precision():
    for make in (lambda T: T.nn.RMSNorm(4), lambda T: T.nn.RMSNorm([2, 4], eps=1e-6,
                                                                   elementwise_affine=False)):
        assert repr(make(ft)) == repr(make(torch))
        assert list(make(ft).state_dict()) == list(make(torch).state_dict())
    half = [T.nn.functional.rms_norm(T.ones(2, 4, dtype=T.float16), (4,)) for T in (torch, ft)]
    assert half[1].dtype == ft.float16
    np.testing.assert_array_equal(half[1].numpy(), half[0].numpy())


RMS_MISTAKES = {
    "input of another trailing shape": lambda T: T.nn.functional.rms_norm(T.ones(2, 4), (3,)),
    "module input of another shape": lambda T: T.nn.RMSNorm(4)(T.ones(2, 3)),
    "weight of another shape":
        lambda T: T.nn.functional.rms_norm(T.ones(2, 4), (4,), weight=T.ones(3)),
    "integer input": lambda T: T.nn.functional.rms_norm(T.ones(2, 4, dtype=T.long), (4,)),
}


@pytest.mark.parametrize("name", RMS_MISTAKES)
def test_rms_norm_refuses_as_pytorch(name):
    theirs, ours = raised_by(RMS_MISTAKES[name], torch, ft)
    assert ours == theirs


def test_buffer_assignment_registers_as_register_buffer():
    def build(T):
        class Masked(T.nn.Module):
            def __init__(self):
                super().__init__()
                self.scale = T.nn.Buffer(T.full((2,), 2.0))
                self.offset = T.nn.Buffer(T.ones(1), persistent=False)
                self.lin = T.nn.Linear(2, 1)

            def forward(self, x):
                return self.lin(x * self.scale) + self.offset
        return Masked()

    ours, theirs = build(ft), build(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert type(ours.scale) is ft.Tensor and isinstance(ft.nn.Buffer(ft.ones(1)), ft.Tensor)
    ours.load_state_dict({k: ft.from_numpy(v.numpy()) for k, v in theirs.state_dict().items()})
    np.testing.assert_allclose(ours(ft.ones(3, 2)).detach().numpy(),
                               theirs(torch.ones(3, 2)).detach().numpy(), rtol=1e-6)
    assert raised_by(lambda T: T.nn.Buffer([1, 2]), torch, ft)[1] == \
        raised_by(lambda T: T.nn.Buffer([1, 2]), torch)[0]


# -- 3-D layers and the 1-D/3-D transposed convolutions ---------------------------------

VOLUME = (2, 3, 4, 6, 6)
SEQUENCE = (2, 3, 9)
LAYERS_3D = {
    "Conv3d": (lambda T: T.nn.Conv3d(3, 4, 3, padding=1), VOLUME),
    "Conv3d strided, no bias": (lambda T: T.nn.Conv3d(3, 4, (1, 3, 3), stride=(1, 2, 2),
                                                      bias=False), VOLUME),
    "Conv3d same, dilated": (lambda T: T.nn.Conv3d(3, 2, 3, padding="same", dilation=2),
                             VOLUME),
    "ConvTranspose3d": (lambda T: T.nn.ConvTranspose3d(3, 2, 2, stride=2), VOLUME),
    "ConvTranspose1d": (lambda T: T.nn.ConvTranspose1d(3, 2, 4, stride=2, padding=1),
                        SEQUENCE),
    "ConvTranspose1d dilated": (lambda T: T.nn.ConvTranspose1d(
        3, 4, 3, output_padding=1, stride=2, bias=False, dilation=2), SEQUENCE),
    "BatchNorm3d": (lambda T: T.nn.BatchNorm3d(3), VOLUME),
    "MaxPool3d": (lambda T: T.nn.MaxPool3d((1, 2, 2), stride=(1, 2, 2), padding=(0, 1, 1)),
                  VOLUME),
    "AvgPool3d": (lambda T: T.nn.AvgPool3d(3, 2, 1, ceil_mode=True, count_include_pad=False),
                  VOLUME),
    "AdaptiveAvgPool3d": (lambda T: T.nn.AdaptiveAvgPool3d((2, None, 3)), VOLUME),
    "AdaptiveMaxPool3d": (lambda T: T.nn.AdaptiveMaxPool3d((3, None, 4)), VOLUME),
    "AdaptiveMaxPool1d": (lambda T: T.nn.AdaptiveMaxPool1d(4), SEQUENCE),
    "InstanceNorm3d": (lambda T: T.nn.InstanceNorm3d(3, affine=True,
                                                     track_running_stats=True), VOLUME),
    "ConstantPad3d": (lambda T: T.nn.ConstantPad3d((1, 0, 2, 1, 0, 1), -1.0), VOLUME),
    "ZeroPad3d": (lambda T: T.nn.ZeroPad3d(1), VOLUME),
    "ReflectionPad3d": (lambda T: T.nn.ReflectionPad3d(1), VOLUME),
    "ReplicationPad3d": (lambda T: T.nn.ReplicationPad3d((2, 0, 1, 1, 0, 2)), VOLUME),
}


@pytest.mark.parametrize("name", LAYERS_3D)
def test_3d_layers_print_compute_and_differentiate_as_pytorchs(name):
    make, shape = LAYERS_3D[name]
    data = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    results = []
    for T in (torch, ft):
        layer = make(T)
        with T.no_grad():
            for i, p in enumerate(layer.parameters()):
                p.copy_(T.from_numpy(np.random.default_rng(i).uniform(
                    -0.3, 0.3, tuple(p.shape)).astype(np.float32)))
        x = T.tensor(data, requires_grad=True)
        y = layer(x)
        (y * y).sum().backward()
        results.append((repr(layer), y.detach().numpy(), x.grad.numpy(),
                        [p.grad.numpy() for p in layer.parameters()],
                        type(y.grad_fn).__name__, list(layer.state_dict()),
                        [b.numpy() for b in layer.buffers()]))
    theirs, ours = results
    assert ours[0] == theirs[0] and ours[5] == theirs[5]
    # F.pad's nodes are all PadBackward0 in fnnet.torch (PyTorch names one per mode)
    assert ours[4] == theirs[4] or "Pad" in name
    for got, want in zip((ours[1], ours[2], *ours[3], *ours[6]),
                         (theirs[1], theirs[2], *theirs[3], *theirs[6]), strict=True):
        np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-5)


FUNCTIONS_3D = {
    "F.conv3d": lambda T, x: T.nn.functional.conv3d(x, T.ones(2, 3, 1, 2, 2) / 4, T.ones(2),
                                                    stride=(1, 2, 2)),
    "F.max_pool3d": lambda T, x: T.nn.functional.max_pool3d(x, 2, ceil_mode=True),
    "F.avg_pool3d": lambda T, x: T.nn.functional.avg_pool3d(x, (2, 3, 3), stride=1,
                                                            padding=1),
    "F.adaptive_avg_pool3d": lambda T, x: T.nn.functional.adaptive_avg_pool3d(x, (1, 4, 5)),
    "F.conv_transpose1d": lambda T, x: T.nn.functional.conv_transpose1d(
        x.flatten(2), T.ones(3, 2, 3) / 3, stride=3, padding=1),
    "F.conv_transpose3d": lambda T, x: T.nn.functional.conv_transpose3d(
        x, T.ones(3, 1, 2, 1, 2) / 3, stride=(2, 1, 1)),
}


def test_3d_layers_are_instances_of_pytorchs_bases():
    for T in (torch, ft):
        convs = (T.nn.Conv3d(1, 1, 1), T.nn.ConvTranspose1d(1, 1, 1),
                 T.nn.ConvTranspose3d(1, 1, 1))
        assert all(isinstance(m, T.nn.modules.conv._ConvNd) for m in convs)
        assert isinstance(convs[1], T.nn.modules.conv._ConvTransposeNd)
        assert isinstance(T.nn.BatchNorm3d(2), T.nn.modules.batchnorm._BatchNorm)
        assert isinstance(T.nn.InstanceNorm3d(2), T.nn.modules.batchnorm._NormBase)


@pytest.mark.parametrize("name", FUNCTIONS_3D)
def test_3d_functions_are_pytorchs(name):
    data = np.random.default_rng(4).standard_normal(VOLUME).astype(np.float32)
    (theirs, ours) = (FUNCTIONS_3D[name](T, T.from_numpy(data)).numpy() for T in (torch, ft))
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


MISTAKES_3D = {
    "Conv3d, 3-D input": lambda T: T.nn.Conv3d(3, 4, 3)(T.ones(3, 4, 4)),
    "Conv3d, other channels": lambda T: T.nn.Conv3d(3, 4, 3)(T.ones(1, 2, 4, 4, 4)),
    "Conv3d, Long input": lambda T: T.nn.Conv3d(3, 2, 1)(T.ones(1, 3, 2, 2, 2, dtype=T.long)),
    "BatchNorm3d, 4-D input": lambda T: T.nn.BatchNorm3d(3)(T.ones(2, 3, 4, 4)),
    "F.conv3d, unknown padding": lambda T: T.nn.functional.conv3d(
        T.ones(1, 1, 2, 2, 2), T.ones(1, 1, 1, 1, 1), padding="foo"),
    "Conv3d, unknown padding": lambda T: T.nn.Conv3d(1, 1, 1, padding="foo"),
    "F.conv_transpose1d, 5-D input":
        lambda T: T.nn.functional.conv_transpose1d(T.ones(1, 3, 2, 2, 2), T.ones(3, 2, 3)),
}


@pytest.mark.parametrize("name", MISTAKES_3D)
def test_3d_layers_refuse_as_pytorch(name):
    theirs, ours = raised_by(MISTAKES_3D[name], torch, ft)
    if name == "Conv3d, unknown padding":  # PyTorch prints a set: its order varies by run
        theirs, ours = ((kind, sorted(message)) for kind, message in (theirs, ours))
    assert ours == theirs


# -- small functions and methods -------------------------------------------------------

_X = [-1.5, 0.0, 0.25, 2.0, float("inf")]
ELEMENTWISE = {
    "logit": lambda T: T.logit(T.tensor([0.25, 0.5, 1.0])),
    "logit eps method": lambda T: T.tensor([0.0, 0.5, 1.0]).logit(eps=1e-6),
    "heaviside": lambda T: T.heaviside(T.tensor([-1.0, 0.0, 2.0]), T.tensor([0.5])),
    "heaviside integers": lambda T: T.heaviside(T.tensor([-1, 0, 2]), T.tensor([7])),
    "copysign": lambda T: T.copysign(T.tensor([1.0, -2.0]), -1),
    "copysign integers": lambda T: T.tensor([1, -2]).copysign(T.tensor([-1, 1])),
    "fmax": lambda T: T.fmax(T.tensor([1.0, float("nan"), 3.0]),
                             T.tensor([float("nan"), 2.0, 1.0])),
    "fmin": lambda T: T.tensor([1.0, float("nan"), 3.0]).fmin(
        T.tensor([float("nan"), 2.0, 1.0])),
    "logaddexp2": lambda T: T.logaddexp2(T.tensor([1.0, 2.0]), T.tensor([3.0, 0.0])),
    "ldexp": lambda T: T.ldexp(T.tensor([1.0, 3.0]), T.tensor([2, 3])),
    "ldexp integers": lambda T: T.ldexp(T.tensor([1, 3]), T.tensor([2, 3])),
    "gcd": lambda T: T.gcd(T.tensor([12, -18, 0]), T.tensor([8, 12, 5])),
    "lcm": lambda T: T.tensor([4, -6, 0]).lcm(T.tensor([6, 4, 5])),
    "isposinf": lambda T: T.isposinf(T.tensor(_X)),
    "isneginf": lambda T: T.tensor(_X).neg().isneginf(),
    "isneginf integers": lambda T: T.isneginf(T.tensor([1])),
    "isreal": lambda T: T.isreal(T.tensor([1.0, 2.0])),
    "nextafter": lambda T: T.nextafter(T.tensor([1.0, 2.0]), T.tensor([2.0, 1.0])),
    "i0": lambda T: T.i0(T.tensor([0.0, 1.0, 2.5])),
    "i0 integers": lambda T: T.tensor([0, 1]).i0(),
    "torch.sinc_": lambda T: T.sinc_(T.tensor([0.0, 0.5])),
    "torch.tan_": lambda T: T.tan_(T.tensor([0.5])),
    "torch.log2_": lambda T: T.log2_(T.tensor([4.0])),
    "acosh_": lambda T: T.tensor([2.0]).acosh_(),
    "asinh_": lambda T: T.tensor([2.0]).asinh_(),
    "atanh_": lambda T: T.tensor([0.5]).atanh_(),
    "logit_": lambda T: T.tensor([0.25]).logit_(),
    "copysign_": lambda T: T.tensor([1.0]).copysign_(-1),
    "heaviside_": lambda T: T.tensor([1.0, -1.0]).heaviside_(T.tensor(0.0)),
    "gcd_": lambda T: T.tensor([4]).gcd_(T.tensor([6])),
    "ldexp_": lambda T: T.tensor([1.0]).ldexp_(T.tensor([3])),
    "i0_": lambda T: T.tensor([1.0]).i0_(),
    "torch.selu_": lambda T: (lambda a: T.selu_(a) is a and a)(T.tensor([-1.0, 2.0])),
    "torch.celu": lambda T: T.celu(T.tensor([-1.0, 2.0]), 0.5),
    "torch.threshold_": lambda T: T.threshold_(T.tensor([-1.0, 0.5, 2.0]), 0.6, -3.0),
    "torch.nan_to_num_": lambda T: T.nan_to_num_(T.tensor([float("nan"), 1.0]), 0.5),
    "torch.zero_": lambda T: T.zero_(T.ones(2)),
    "range": lambda T: T.range(0, 1, 0.25),
    "range integers": lambda T: T.range(1, 4, dtype=T.int64),
    "Tensor.new shape": lambda T: T.ones(2).new(2, 3).zero_(),  # PyTorch: memory as found
    "Tensor.new empty": lambda T: T.ones(2).new(),
    "Tensor.new data": lambda T: T.ones(2).new([1, 2]),
}


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_small_functions_give_pytorchs_values_and_dtypes(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs, ours = (ELEMENTWISE[name](T) for T in (torch, ft))
    assert str(ours.dtype) == str(theirs.dtype) and tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


DIFFERENTIABLE = {
    "logit": lambda T, g: T.logit(g * 0.5),
    "copysign": lambda T, g: T.copysign(g, -1.0),
    "fmax": lambda T, g: T.fmax(g, T.tensor([1.0, 1.0])),
    "logaddexp2": lambda T, g: T.logaddexp2(g, T.tensor([1.0, 1.0])),
    "i0": lambda T, g: T.i0(g),
    "ldexp": lambda T, g: T.ldexp(g, T.tensor([1, 2])),
    "local_response_norm": lambda T, g: T.nn.functional.local_response_norm(
        g.reshape(1, 2, 1) * T.ones(1, 2, 3), 2),
}


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_gradients_through_the_added_functions_are_pytorchs(name):
    grads = []
    for T in (torch, ft):
        g = T.tensor([0.5, 1.5], requires_grad=True)
        (grad,) = T.autograd.grad(DIFFERENTIABLE[name](T, g).sum(), g)
        grads.append(grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-5, atol=1e-7)


def test_dtype_and_shape_helpers_are_pytorchs():
    d = (torch, ft)
    for a, b in (("int32", "float16"), ("uint8", "int8"), ("bool", "int16"),
                 ("bfloat16", "float16"), ("int16", "float32")):
        assert [str(T.promote_types(getattr(T, a), getattr(T, b))) for T in d] == \
            [str(torch.promote_types(getattr(torch, a), getattr(torch, b)))] * 2
    for a, b in (("float32", "int32"), ("int32", "float32"), ("bool", "uint8"),
                 ("int16", "uint8"), ("uint8", "bool"), ("float16", "bfloat16")):
        assert ft.can_cast(getattr(ft, a), getattr(ft, b)) == \
            torch.can_cast(getattr(torch, a), getattr(torch, b))
    cases = (lambda T: (T.ones(2, dtype=T.int32), 1.0),
             lambda T: (T.ones(2), T.ones(2, dtype=T.float16)),
             lambda T: (T.tensor(1), T.ones(2, dtype=T.uint8)),
             lambda T: (T.tensor(1.5), T.ones(2, dtype=T.int16)),
             lambda T: (2, 3.0), lambda T: (T.ones(2, dtype=T.bool), 3))
    for case in cases:
        assert str(ft.result_type(*case(ft))) == str(torch.result_type(*case(torch)))
    for shapes in (((2, 1), (3,)), (2, (3, 1)), ((), (4, 1, 2), (3, 1))):
        assert tuple(ft.broadcast_shapes(*shapes)) == tuple(torch.broadcast_shapes(*shapes))
    theirs, ours = raised_by(lambda T: T.broadcast_shapes((2,), (3,)), torch, ft)
    assert ours == theirs


def test_deprecated_names_warn_as_pytorch():
    x = np.arange(16.0, dtype=np.float32).reshape(1, 1, 4, 4)
    calls = {
        "range": lambda T: T.range(1, 4),
        "upsample_nearest": lambda T: T.nn.functional.upsample_nearest(
            T.from_numpy(x), scale_factor=2),
        "upsample_bilinear": lambda T: T.nn.functional.upsample_bilinear(
            T.from_numpy(x), size=(5, 5)),
    }
    for name, call in calls.items():
        results = []
        for T in (torch, ft):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                out = call(T)
            results.append((out.numpy(), [(w.category, str(w.message)) for w in caught]))
        np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-6, err_msg=name)
        assert results[1][1] == results[0][1], name


def test_local_response_norm_and_gumbel_softmax():
    x = np.random.default_rng(5).standard_normal((2, 6, 3, 2)).astype(np.float32)
    for args in ((3,), (2, 0.1, 0.6, 2.0)):
        theirs, ours = (T.nn.functional.local_response_norm(T.from_numpy(x), *args).numpy()
                        for T in (torch, ft))
        np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    assert repr(ft.nn.LocalResponseNorm(2)) == repr(torch.nn.LocalResponseNorm(2))
    assert raised_by(lambda T: T.nn.LocalResponseNorm(2)(T.ones(2, 3)), torch, ft)[1] == \
        raised_by(lambda T: T.nn.LocalResponseNorm(2)(T.ones(2, 3)), torch)[0]
    logits = ft.zeros(4, 3, requires_grad=True)
    soft = ft.nn.functional.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.sum(-1).detach().numpy(), np.ones(4), rtol=1e-6)
    hard = ft.nn.functional.gumbel_softmax(logits, hard=True)
    assert sorted(np.unique(hard.detach().numpy())) == [0.0, 1.0]
    assert type(hard.grad_fn).__name__ == "AddBackward0"
    hard.sum().backward()
    assert logits.grad is not None


def test_memory_queries():
    assert ft.ones(2).is_pinned() is torch.ones(2).is_pinned() is False
    assert ft.ones(2).is_shared() is torch.ones(2).is_shared()
    if not ft.cuda.is_available():
        theirs, ours = raised_by(lambda T: T.ones(2).pin_memory(), torch, ft)
        assert ours == theirs


# -- process-wide switches and small queries ---------------------------------------------


def test_switches_read_back_as_pytorchs():
    for T in (torch, ft):
        T.use_deterministic_algorithms(False)
        assert (T.are_deterministic_algorithms_enabled(),
                T.is_deterministic_algorithms_warn_only_enabled(),
                T.get_deterministic_debug_mode()) == (False, False, 0)
        try:
            T.use_deterministic_algorithms(True, warn_only=True)
            assert (T.are_deterministic_algorithms_enabled(),
                    T.is_deterministic_algorithms_warn_only_enabled(),
                    T.get_deterministic_debug_mode()) == (True, True, 1)
            T.set_deterministic_debug_mode("error")
            assert (T.are_deterministic_algorithms_enabled(),
                    T.is_deterministic_algorithms_warn_only_enabled()) == (True, False)
        finally:
            T.use_deterministic_algorithms(False)
        with pytest.raises(RuntimeError, match="invalid value of debug_mode"):
            T.set_deterministic_debug_mode(3)
        assert T.is_warn_always_enabled() is False
        T.set_warn_always(True)
        assert T.is_warn_always_enabled() is True
        T.set_warn_always(False)
        assert (T.is_anomaly_enabled(), T.is_anomaly_check_nan_enabled()) == (False, True)
        T.set_anomaly_enabled(True)
        assert T.is_anomaly_enabled() is True
        T.set_anomaly_enabled(False)
        assert T.is_anomaly_enabled() is False
        assert isinstance(T.get_num_interop_threads(), int) and \
            T.get_num_interop_threads() > 0
        assert isinstance(T.set_flush_denormal(False), bool)


def test_inference_mode_is_reported_inside_only():
    for T in (torch, ft):
        assert T.autograd.inference_mode is T.inference_mode
        assert T.autograd.grad_mode.no_grad is T.no_grad
        assert T.autograd.grad_mode.inference_mode is T.inference_mode
        assert not T.is_inference_mode_enabled()
        with T.inference_mode():
            assert T.is_inference_mode_enabled() and not T.is_grad_enabled()
            with T.inference_mode(False):
                assert not T.is_inference_mode_enabled() and T.is_grad_enabled()
            assert T.is_inference_mode_enabled()
        assert not T.is_inference_mode_enabled() and T.is_grad_enabled()

        @T.inference_mode
        def bare(T=T):
            return T.is_inference_mode_enabled(), T.is_grad_enabled()

        @T.inference_mode(mode=False)
        def off(T=T):
            return T.is_inference_mode_enabled(), T.is_grad_enabled()

        assert bare() == (True, False) and off() == (False, True)
        with pytest.raises(RuntimeError, match=r"torch.autograd.variable\(...\) is deprecated, "
                           r"use torch.tensor\(...\) instead"):
            T.autograd.variable(1)


def _inference_tensors(T):
    with T.inference_mode():
        made = T.ones(3) * 2
        layer = T.nn.Linear(3, 1)
        with T.inference_mode(False):
            normal = T.ones(3)
    with T.no_grad():
        no_grad = T.ones(3)
    return made, layer, normal, no_grad


INFERENCE_MISUSES = {
    "saved by mul": lambda T, it, w: it * w,
    "saved by a Linear": lambda T, it, w: T.nn.Linear(3, 1)(it),
    "saved by matmul": lambda T, it, w: w @ it,
    "written in place": lambda T, it, w: it.add_(1),
    "made to require grad": lambda T, it, w: it.requires_grad_(),
    # a view taken outside the block is an inference tensor too
    "a view saved by a Linear": lambda T, it, w: T.nn.Linear(3, 1)(it.view(1, 3)),
    "an element saved by mul": lambda T, it, w: it[0] * w,
    "a view written in place": lambda T, it, w: it[:2].mul_(2),
}


@pytest.mark.parametrize("name", list(INFERENCE_MISUSES))
def test_an_inference_tensor_in_autograd_raises_as_pytorch(name):
    pytorchs, fnnets = raised_by(
        lambda T: INFERENCE_MISUSES[name](T, _inference_tensors(T)[0],
                                          T.ones(3, requires_grad=True)), torch, ft)
    assert fnnets == pytorchs


def test_inference_tensors_are_reported_and_work_where_pytorch_lets_them():
    seen = []
    for T in (torch, ft):
        made, layer, normal, no_grad = _inference_tensors(T)
        w = T.ones(3, requires_grad=True)
        (made + w).sum().backward()  # addition saves no input
        (made.clone() * w).sum().backward()
        layer(T.ones(3)).sum().backward()  # the layer's weight is not saved, its input is
        (made[0] + w).sum().backward()
        seen.append((made.is_inference(), layer.weight.is_inference(), normal.is_inference(),
                     no_grad.is_inference(), made.clone().is_inference(), w.grad.tolist(),
                     made.view(3, 1).is_inference(), made[1:].is_inference(),
                     (made[1:] * 1).is_inference()))
    assert seen[1] == seen[0]


def test_set_default_tensor_type_warns_and_refuses_as_pytorch():
    for T in (torch, ft):
        try:
            with pytest.warns(UserWarning, match=r"torch.set_default_tensor_type\(\) is "
                              r"deprecated as of PyTorch 2.1, please use "
                              r"torch.set_default_dtype\(\) and torch.set_default_device\(\) "
                              r"as alternatives."):
                T.set_default_tensor_type("torch.DoubleTensor")
            assert T.get_default_dtype() == T.float64 and T.tensor([1.0]).dtype == T.float64
        finally:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                T.set_default_tensor_type(T.FloatTensor)
        assert T.get_default_dtype() == T.float32
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for bad, kind, message in (
                    ("torch.LongTensor", TypeError,
                     "^only floating-point types are supported as the default type$"),
                    (T.float64, TypeError, "^invalid type object: only floating-point types"),
                    ("float", ModuleNotFoundError, "No module named 'float'")):
                with pytest.raises(kind, match=message):
                    T.set_default_tensor_type(bad)


def test_typename_get_device_and_version_as_pytorchs():
    for T in (torch, ft):
        assert T.typename(T.ones(2)) == "torch.FloatTensor"
        assert T.typename(T.ones(2, dtype=T.long)) == "torch.LongTensor"
        assert T.typename(3) == "int"
        assert T.typename(T.nn.Linear) == T.typename(T.nn.Linear(2, 2)) == \
            "torch.nn.modules.linear.Linear"
        assert T.get_device(T.ones(2)) == -1
        with pytest.raises(TypeError, match="must be Tensor, not int"):
            T.get_device(3)
        assert T.version.__version__ == T.__version__
        assert T.version.__version__.startswith("2.13.0+")
        assert T.version.debug is False and T.version.hip is None
        assert isinstance(T.version.git_version, str)
    assert ft.version.cuda is None if not ft.cuda.is_available() else \
        isinstance(ft.version.cuda, str)
    from fnnet.torch.version import __version__  # as ``from torch.version import``
    assert __version__ == ft.__version__


FROMBUFFER_MISTAKES = {
    "empty": (lambda T: T.frombuffer(bytearray(0), dtype=T.float32)),
    "not a multiple": (lambda T: T.frombuffer(bytearray(6), dtype=T.float32)),
    "offset past the end": (lambda T: T.frombuffer(bytearray(8), dtype=T.float32, offset=9)),
    "count too large": (lambda T: T.frombuffer(bytearray(8), dtype=T.float32, count=3)),
    "no buffer": (lambda T: T.frombuffer([1, 2], dtype=T.float32)),
}


@pytest.mark.parametrize("name", FROMBUFFER_MISTAKES)
def test_frombuffer_refuses_as_pytorch(name):
    assert raised_by(FROMBUFFER_MISTAKES[name], ft) == raised_by(FROMBUFFER_MISTAKES[name],
                                                                  torch)


def test_frombuffer_and_asarray_read_as_pytorch():
    raw = bytearray(np.arange(6, dtype=np.float32).tobytes())
    for args in (dict(dtype="float32"), dict(dtype="float32", count=2, offset=8),
                 dict(dtype="int16", offset=2)):
        ours = ft.frombuffer(raw, **{**args, "dtype": getattr(ft, args["dtype"])})
        theirs = torch.frombuffer(raw, **{**args, "dtype": getattr(torch, args["dtype"])})
        assert str(ours.dtype) == str(theirs.dtype)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    for T in (torch, ft):
        x = T.ones(3)
        assert T.asarray(x) is x and T.asarray(x, dtype=T.float32) is x
        assert T.asarray(x, copy=True) is not x
        assert T.asarray(x, dtype=T.int64).dtype == T.int64
        assert T.asarray([[1, 2]]).dtype == T.int64 and T.asarray([1.5]).dtype == T.float32
        assert T.asarray(np.ones(2)).dtype == T.float64 or T is ft
        assert T.asarray([1.0], requires_grad=True).requires_grad


def test_default_generator_is_the_global_generator():
    for T in (torch, ft):
        assert T.manual_seed(5) is T.default_generator
        assert isinstance(T.default_generator, T.Generator)
        assert T.default_generator.initial_seed() == T.initial_seed() == 5
        T.default_generator.manual_seed(7)
        assert T.initial_seed() == 7
        first = T.randn(3)
        T.manual_seed(7)
        np.testing.assert_array_equal(T.randn(3).numpy(), first.numpy())
        state = T.default_generator.get_state()
        drawn = T.rand(2)
        T.default_generator.set_state(state)
        np.testing.assert_array_equal(T.rand(2).numpy(), drawn.numpy())
        T.manual_seed(7)
        drawn = T.rand(2, generator=T.default_generator)
        T.manual_seed(7)
        np.testing.assert_array_equal(T.rand(2).numpy(), drawn.numpy())
        assert _without_addresses(repr(T.default_generator)) == \
            "<torch._C.Generator object>"


# -- complex, sparse and layout queries on real dense tensors ------------------------------


def test_real_dense_tensors_answer_as_pytorchs():
    for T in (torch, ft):
        x = T.ones(2, 3, requires_grad=True)
        for same in (x.conj(), x.resolve_conj(), x.resolve_neg(), x.conj_physical(), x.real,
                     x.to_dense(), T.conj(x), T.resolve_conj(x), T.resolve_neg(x), T.real(x)):
            assert same is x
        assert x.to_dense(T.float64).dtype == T.float64
        assert not any((x.is_conj(), x.is_neg(), T.is_conj(x), T.is_neg(x), x.is_sparse,
                        x.is_quantized, x.is_meta, x.is_mps, x.is_sparse_csr))
        assert x.layout is T.strided and isinstance(T.strided, T.layout)
        assert repr(T.strided) == "torch.strided"
        with pytest.raises(RuntimeError, match="^imag is not implemented for tensors with "
                           "non-complex dtypes.$"):
            x.imag  # noqa: B018
        with pytest.raises(RuntimeError, match="imag is not implemented"):
            T.imag(x)
        assert x.is_same_size(T.zeros(2, 3)) and not T.is_same_size(x, T.zeros(3, 2))
        with pytest.raises(TypeError, match=r"is_same_size\(\): argument 'other' \(position 1\) "
                           "must be Tensor, not int"):
            x.is_same_size(3)


def test_data_ptr_relates_views_as_pytorchs():
    for T in (torch, ft):
        x = T.arange(12.0).reshape(3, 4)
        base = x.data_ptr()
        assert isinstance(base, int) and base != 0
        assert x.view(-1).data_ptr() == x.t().data_ptr() == x[0].data_ptr() == base
        assert x[1].data_ptr() - base == 16 and x[:, 2].data_ptr() - base == 8
        assert x[1, 1:].data_ptr() - base == 20
        assert x.clone().data_ptr() != base and T.ones(0).data_ptr() == 0
        x.add_(1)  # in place: the same memory
        assert x.data_ptr() == base


def test_torch_compiler_switches_are_pytorchs_outside_a_traced_frame():
    """``@torch.compiler.disable`` on a logging helper and ``torch.compiler.is_compiling()``
    checks (common in library code) raised Unsupported: torch.compiler was missing."""
    import inspect

    names = ["allow_in_graph", "assume_constant_result", "cudagraph_mark_step_begin",
             "disable", "is_compiling", "is_dynamo_compiling", "is_exporting", "reset"]
    for name in names:
        ours, theirs = getattr(ft.compiler, name), getattr(torch.compiler, name)
        assert list(inspect.signature(ours).parameters) == \
            list(inspect.signature(theirs).parameters), name
    seen = []
    for T in (torch, ft):
        @T.compiler.disable
        def scaled(x):
            return x * 2

        @T.compiler.disable(recursive=False)
        def shifted(x):
            return x + 1

        seen.append((scaled(T.ones(2)).tolist(), shifted(T.ones(2)).tolist(),
                     T.compiler.is_compiling(), T.compiler.is_dynamo_compiling(),
                     T.compiler.reset(), T.compiler.allow_in_graph(len) is len))
    assert seen[1] == seen[0]


def test_torch_dynamo_settings_are_accepted_as_pytorchs():
    """``import torch._dynamo`` and ``torch._dynamo.config.cache_size_limit = 64`` beside a
    ``torch.compile`` call raised UnsupportedImport. The defaults and the refusal are
    PyTorch 2.13's (read from its ``torch._dynamo.config``, whose import alone takes
    seconds, so they are written here)."""
    import importlib

    dynamo = importlib.import_module("fnnet.torch._dynamo")
    assert ft._dynamo is dynamo
    config = dynamo.config
    assert (config.cache_size_limit, config.recompile_limit, config.suppress_errors,
            config.verbose, config.accumulated_cache_size_limit,
            config.automatic_dynamic_shapes, config.assume_static_by_default,
            config.capture_scalar_outputs, config.optimize_ddp) == \
        (8, 8, False, False, 256, True, True, False, True)
    try:
        config.cache_size_limit = 64
        config.suppress_errors = True
        assert (config.cache_size_limit, config.suppress_errors) == (64, True)
    finally:
        config.cache_size_limit, config.suppress_errors = 8, False
    with pytest.raises(AttributeError, match=r"^torch._dynamo.config.foo does not exist$"):
        config.foo = 1
    x = ft.ones(3, 4)
    assert (dynamo.mark_dynamic(x, 0), dynamo.maybe_mark_dynamic(x, 1),
            dynamo.mark_static(x, 0), dynamo.reset()) == (None, None, None, None)
    model = ft.nn.Linear(4, 2)
    compiled = dynamo.optimize("inductor")(model)
    assert type(compiled).__name__ == "OptimizedModule" and compiled._orig_mod is model
    assert dynamo.optimize(disable=True)(model) is model
    with pytest.raises(NotImplementedError, match=r"torch\._dynamo\.explain; fnnet\.torch "
                       r"compiles each training step itself"):
        getattr(dynamo, "explain")  # noqa: B009 - the lookup is what raises


def test_skip_init_builds_the_module_and_refuses_as_pytorch():
    for T in (torch, ft):
        layer = T.nn.utils.skip_init(T.nn.Linear, 3, 2, bias=False)
        assert type(layer).__name__ == "Linear" and tuple(layer.weight.shape) == (2, 3)
        assert layer.bias is None

        class NoDevice(T.nn.Module):
            pass

        for cls, message in ((int, "^Expected a Module; got <class 'int'>$"),
                             (NoDevice, "^Module must support a 'device' arg to skip "
                                        "initialization$")):
            with pytest.raises(RuntimeError, match=message):
                T.nn.utils.skip_init(cls)


# -- torch.gradient, DLPack, is_inference -------------------------------------------------

_SAMPLES = np.array([1.0, 2.0, 4.0, 7.0, 11.0, 16.0], np.float32)
_COORDINATES = np.array([0.0, 1.0, 1.5, 3.5, 4.0, 6.0], np.float32)
_GRID = (np.arange(12.0).reshape(3, 4) ** 2).astype(np.float32)
GRADIENTS = {
    "unit": lambda T: T.gradient(T.tensor(_SAMPLES)),
    "spacing": lambda T: T.gradient(T.tensor(_SAMPLES), spacing=2.0),
    "coordinates": lambda T: T.gradient(T.tensor(_SAMPLES), spacing=(T.tensor(_COORDINATES),)),
    "second order": lambda T: T.gradient(T.tensor(_SAMPLES), edge_order=2),
    "second order coordinates": lambda T: T.gradient(
        T.tensor(_SAMPLES), spacing=(T.tensor(_COORDINATES),), edge_order=2),
    "every dim": lambda T: T.gradient(T.tensor(_GRID)),
    "one dim": lambda T: T.gradient(T.tensor(_GRID), dim=1, spacing=[0.5]),
    "two dims, two spacings": lambda T: T.gradient(T.tensor(_GRID), dim=(0, 1), spacing=[1, 2]),
    "integers": lambda T: T.gradient(T.tensor([1, 2, 4])),
    "too short": lambda T: T.gradient(T.tensor([1.0, 2.0]), edge_order=2),
    "edge order 3": lambda T: T.gradient(T.tensor(_SAMPLES), edge_order=3),
    "spacings for other dims": lambda T: T.gradient(T.tensor(_SAMPLES), spacing=[1.0, 2.0]),
}


@pytest.mark.parametrize("name", list(GRADIENTS))
def test_gradient_by_differences_as_pytorch(name):
    try:
        expected = [t.numpy() for t in GRADIENTS[name](torch)]
    except RuntimeError:
        theirs, ours = raised_by(GRADIENTS[name], torch, ft)
        assert ours == theirs
        return
    ours = [t.numpy() for t in GRADIENTS[name](ft)]
    assert [o.dtype for o in ours] == [e.dtype for e in expected]
    for mine, theirs in zip(ours, expected, strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-6)


def test_gradient_of_a_gradient_flows_as_pytorch():
    def grad_of(T):
        x = T.tensor(_SAMPLES, requires_grad=True)
        (T.gradient(x * x, edge_order=2)[0] ** 2).sum().backward()
        return x.grad.numpy()
    np.testing.assert_allclose(grad_of(ft), grad_of(torch), rtol=1e-5)


def test_dlpack_exchanges_copies_with_numpy_jax_and_pytorch():
    import jax.numpy as jnp

    host = np.arange(6, dtype=np.float32).reshape(2, 3)
    mine = ft.from_dlpack(host)
    host[0, 0] = 100.0  # a copy: the tensor keeps what it was given
    np.testing.assert_array_equal(mine.numpy(), np.arange(6, dtype=np.float32).reshape(2, 3))
    assert ft.from_dlpack(torch.arange(3.0)).tolist() == [0.0, 1.0, 2.0]
    assert ft.utils.dlpack.from_dlpack(jnp.ones(2)).tolist() == [1.0, 1.0]
    capsule = ft.utils.dlpack.to_dlpack(ft.tensor([1.0, 2.0]) * 2)
    assert ft.from_dlpack(capsule).tolist() == [2.0, 4.0]
    assert torch.from_dlpack(ft.linspace(0, 1, 3)).tolist() == [0.0, 0.5, 1.0]
    np.testing.assert_array_equal(np.from_dlpack(ft.ones(2, 2)), np.ones((2, 2), np.float32))
    with pytest.raises(TypeError, match="expected an object with __dlpack__"):
        ft.from_dlpack([1, 2])
    # torch.to_dlpack is torch.utils.dlpack.to_dlpack, whose parameter is data
    assert torch.from_dlpack(ft.to_dlpack(data=ft.ones(2) * 3)).tolist() == [3.0, 3.0]
    for to_dlpack in (lambda T: T.to_dlpack([1.0]), lambda T: T.utils.dlpack.to_dlpack([1.0])):
        theirs, ours = raised_by(to_dlpack, torch, ft)
        assert ours == theirs


def test_is_inference_as_pytorch():
    for T in (torch, ft):
        with T.inference_mode():
            made = T.ones(1)
        assert T.is_inference(made) and not T.is_inference(T.ones(1))
    theirs, ours = raised_by(lambda T: T.is_inference([1.0]), torch, ft)
    assert ours == theirs


# -- storages -----------------------------------------------------------------------------


def _storages(T):
    """A course's look at the memory under a view (``a.storage()``), and tied weights'
    shared memory checked by ``untyped_storage().data_ptr()``."""
    a = T.arange(18)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        shown = [str(a.view(3, 3, 2).storage())]
    s = a.storage()
    floats = T.tensor([1.5, -2.0, 0.1])
    shown += [repr(floats.storage()), str(floats.untyped_storage()),
              str(T.tensor([True, False]).storage()),
              str(T.tensor([1, 2], dtype=T.bfloat16).storage()), str(T.zeros(0).storage())]
    emb, head = T.nn.Embedding(5, 3), T.nn.Linear(3, 5, bias=False)
    emb.weight = head.weight
    facts = [len(s), s.size(), str(s.dtype), s.element_size(), s.nbytes(), s[3], s[-1],
             s.tolist()[:4], list(s)[-2:], a[1:].storage().size(),
             a.view(3, 6).storage().data_ptr() == s.data_ptr(),
             emb.weight.untyped_storage().data_ptr() == head.weight.untyped_storage().data_ptr(),
             emb.weight.storage().data_ptr() == T.nn.Linear(3, 5).weight.storage().data_ptr(),
             floats.untyped_storage()[2], isinstance(s, T.TypedStorage),
             [str(w.message) for w in caught if "TypedStorage" in str(w.message)][:1]]
    errors = []
    for index in (18, slice(1, 3)):
        with pytest.raises((IndexError, RuntimeError)) as error:
            s[index]
        errors.append((error.type, str(error.value)))
    return shown, facts, errors


def test_storages_print_and_compare_as_pytorchs():
    assert _storages(ft) == _storages(torch)


SET_SUBMODULE = {
    "replace": ("1.0", False),
    "add": ("1.5", False),
    "add at the top": ("2", False),
    "empty target": ("", False),
    "a parameter's name": ("0.weight", False),
    "missing path": ("x.y", False),
    "strict new name": ("3", True),
}


@pytest.mark.parametrize("case", list(SET_SUBMODULE))
def test_set_submodule_as_pytorchs(case):
    """Surgery by dotted path (``model.set_submodule("layer4.1.conv2", ...)``) raised
    AttributeError: the method was missing."""
    target, strict = SET_SUBMODULE[case]
    seen = []
    for T in (torch, ft):
        model = T.nn.Sequential(T.nn.Linear(2, 2), T.nn.Sequential(T.nn.ReLU()))
        try:
            model.set_submodule(target, T.nn.Tanh(), strict=strict)
            seen.append([(name, type(m).__name__) for name, m in model.named_modules()])
        except Exception as error:  # noqa: BLE001 - the exception is what is compared
            seen.append((type(error).__name__, str(error)))
    assert seen[1] == seen[0]
    with pytest.raises(ValueError, match=r"^`module` is not an nn.Module, found <class "
                       r"'int'>$"):
        ft.nn.Sequential(ft.nn.ReLU()).set_submodule("0", 3)


def test_module_type_casts_every_member_as_pytorchs():
    """``model.type(torch.float16)`` (and a tensor type's name) raised AttributeError; it
    casts integer buffers too, unlike ``to``."""
    for dst in ("float16", "torch.HalfTensor"):
        dtypes = []
        for T in (torch, ft):
            model = T.nn.Sequential(T.nn.Linear(2, 2), T.nn.BatchNorm1d(2))
            assert model.type(getattr(T, dst) if dst == "float16" else dst) is model
            dtypes.append([str(t.dtype) for t in model.state_dict().values()])
        assert dtypes[1] == dtypes[0]
    assert (ft.nn.Module.dump_patches, ft.nn.Module.call_super_init) == \
        (torch.nn.Module.dump_patches, torch.nn.Module.call_super_init)
    for name in ("ipu", "mtia", "xpu"):
        with pytest.raises(NotImplementedError, match=rf"Module\.{name}; JAX computes on"):
            getattr(ft.nn.Linear(2, 2), name)
