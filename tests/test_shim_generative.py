"""Generative-model code as courses and blog posts write it (VAEs, GANs, diffusion,
flows, style transfer), each run under PyTorch 2.13 and fnnet.torch and compared."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
from helpers import raised_by

import fnnet.torch as ft

pytestmark = pytest.mark.torch


def _np(t):
    return np.asarray(t.detach().numpy(), np.float64)


# -- style transfer: features through forward hooks ---------------------------------------

def _hooked_features(T):
    T.manual_seed(0)
    cnn = T.nn.Sequential(T.nn.Conv2d(3, 4, 3, padding=1), T.nn.ReLU(), T.nn.Conv2d(4, 4, 1))
    feats = {}
    handles = [cnn[i].register_forward_hook(
        lambda m, inp, out, i=i: feats.__setitem__(i, out)) for i in (0, 2)]
    fresh = len(cnn._forward_hooks), len(cnn[1]._forward_pre_hooks), type(cnn._backward_hooks)
    counted = len(cnn[0]._forward_hooks)
    cnn(T.ones(1, 3, 4, 4))
    handles[0].remove()
    cnn[2]._forward_hooks.clear()  # how a script drops every hook of a module
    feats.clear()
    cnn(T.ones(1, 3, 4, 4))
    return fresh, counted, sorted(feats), len(cnn[0]._forward_hooks), \
        [len(m._state_dict_hooks) + len(m._load_state_dict_pre_hooks) for m in cnn]


def test_every_module_has_pytorchs_hook_dicts(torch):
    ours, theirs = _hooked_features(ft), _hooked_features(torch)
    assert ours == theirs
    assert theirs[0] == (0, 0, OrderedDict)


# -- a decoder's transposed convolutions given the wrong input ------------------------------

CONV_TRANSPOSE_MISTAKES = {
    "channels": lambda T: T.nn.ConvTranspose2d(8, 4, 4, 2, 1)(T.ones(2, 4, 3, 3)),
    "channels, groups": lambda T: T.nn.ConvTranspose2d(8, 4, 4, 2, 1, groups=2)(
        T.ones(2, 4, 3, 3)),
    "channels, unbatched": lambda T: T.nn.ConvTranspose2d(8, 4, 3)(T.ones(4, 3, 3)),
    "rank": lambda T: T.nn.ConvTranspose2d(8, 4, 4)(T.ones(2, 8, 3, 3, 1)),
    "rank 1d": lambda T: T.nn.ConvTranspose1d(8, 4, 4)(T.ones(8, 3, 3, 3)),
    "channels 1d": lambda T: T.nn.ConvTranspose1d(8, 4, 4, 2, 1)(T.ones(2, 4, 3)),
    "channels 3d": lambda T: T.nn.ConvTranspose3d(8, 4, 2)(T.ones(1, 4, 2, 2, 2)),
    "output padding": lambda T: T.nn.ConvTranspose2d(1, 1, 3, output_padding=1)(
        T.ones(1, 1, 2, 2)),
    "output padding 1d": lambda T: T.nn.functional.conv_transpose1d(
        T.ones(1, 2, 3), T.ones(2, 1, 3), output_padding=1),
    "output padding 3d": lambda T: T.nn.functional.conv_transpose3d(
        T.ones(1, 2, 3, 3, 3), T.ones(2, 1, 3, 3, 3), output_padding=1),
    "negative output padding": lambda T: T.nn.functional.conv_transpose2d(
        T.ones(1, 2, 3, 3), T.ones(2, 1, 3, 3), output_padding=-1),
    "output too small": lambda T: T.nn.ConvTranspose2d(8, 4, 1, padding=2)(T.ones(1, 8, 3, 3)),
    "output too small 1d": lambda T: T.nn.functional.conv_transpose1d(
        T.ones(1, 2, 3), T.ones(2, 1, 1), padding=2),
    "functional channels": lambda T: T.nn.functional.conv_transpose2d(
        T.ones(2, 4, 3, 3), T.ones(8, 4, 4, 4)),
    "functional bias": lambda T: T.nn.functional.conv_transpose2d(
        T.ones(1, 2, 3, 3), T.ones(2, 1, 3, 3), T.ones(3)),
    "functional weight groups": lambda T: T.nn.functional.conv_transpose2d(
        T.ones(1, 3, 3, 3), T.ones(3, 1, 3, 3), groups=2),
    "padding mode": lambda T: T.nn.ConvTranspose2d(8, 3, 4, padding_mode="reflect"),
}


@pytest.mark.parametrize("name", list(CONV_TRANSPOSE_MISTAKES))
def test_transposed_convolution_mistakes_raise_as_pytorch(torch, name):
    mistake = CONV_TRANSPOSE_MISTAKES[name]
    assert raised_by(mistake, ft) == raised_by(mistake, torch)


def test_transposed_convolution_output_padding_is_checked_at_the_call(torch):
    """PyTorch builds the layer and prints it; only calling it raises."""
    ours, theirs = (T.nn.ConvTranspose2d(1, 1, 3, output_padding=1) for T in (ft, torch))
    assert repr(ours) == repr(theirs) and ours.output_padding == theirs.output_padding
    ok = [T.nn.ConvTranspose2d(1, 1, 3, stride=1, dilation=2, output_padding=1)
          for T in (ft, torch)]
    assert tuple(ok[0](ft.ones(1, 1, 2, 2)).shape) == tuple(ok[1](torch.ones(1, 1, 2, 2)).shape)


# -- noise and interpolation asked of the wrong element type --------------------------------

DRAW_MISTAKES = {
    "randn_like of labels": lambda T: T.randn_like(T.ones(3, dtype=T.long)),
    "rand_like of labels": lambda T: T.rand_like(T.ones(3, dtype=T.long)),
    "randn_like of a mask": lambda T: T.randn_like(T.ones(3, dtype=T.bool)),
    "randn long": lambda T: T.randn(3, dtype=T.long),
    "rand long": lambda T: T.rand(2, 2, dtype=T.int64),
    "normal of long means": lambda T: T.normal(T.zeros(3, dtype=T.long), 1.0),
    "bernoulli of long": lambda T: T.bernoulli(T.ones(3, dtype=T.long)),
    "multinomial of counts": lambda T: T.multinomial(T.ones(3, dtype=T.long), 1),
    "lerp of another precision": lambda T: T.lerp(T.zeros(2), T.ones(2, dtype=T.float16), 0.5),
    "lerp_ of another precision": lambda T: T.zeros(2, dtype=T.float16).lerp_(T.ones(2), 0.5),
    "lerp weight of another precision": lambda T: T.lerp(
        T.zeros(2), T.ones(2), T.ones(2, dtype=T.float16)),
    "lerp of long": lambda T: T.lerp(T.zeros(2, dtype=T.long), T.ones(2, dtype=T.long), 0.5),
    "lerp of long, tensor weight": lambda T: T.lerp(
        T.zeros(2, dtype=T.long), T.ones(2, dtype=T.long), T.ones(2, dtype=T.long)),
    "lerp of bool": lambda T: T.lerp(T.zeros(2, dtype=T.bool), T.ones(2, dtype=T.bool), 0.5),
    "foreach_lerp_ of another precision": lambda T: T._foreach_lerp_(
        [T.zeros(2)], [T.ones(2, dtype=T.float16)], 0.5),
}


@pytest.mark.parametrize("name", list(DRAW_MISTAKES))
def test_draws_and_lerp_of_the_wrong_type_raise_as_pytorch(torch, name):
    mistake = DRAW_MISTAKES[name]
    assert raised_by(mistake, ft) == raised_by(mistake, torch)


def test_lerp_takes_a_zero_dim_weight_of_another_precision(torch):
    """A 0-d weight tensor is a number to PyTorch's lerp, whatever its type; the dtype
    check stays off the float32 path of EMA updates."""
    def ema(T):
        ema, p = T.zeros(3), T.arange(3.0)
        ema.lerp_(p, T.tensor(0.25, dtype=T.float16))
        T._foreach_lerp_([ema], [p], 0.5)
        return ema

    np.testing.assert_allclose(_np(ema(ft)), _np(ema(torch)), rtol=1e-6)


# -- a decoder's upsampling given the wrong input or arguments -------------------------------

def _maps(T, rank):
    return T.ones(*(1, 2, 4, 4, 4)[:rank])


INTERPOLATE_MISTAKES = {
    "bilinear of 3-D": lambda T: T.nn.Upsample(scale_factor=2, mode="bilinear")(_maps(T, 3)),
    "UpsamplingBilinear2d of 3-D": lambda T: T.nn.UpsamplingBilinear2d(scale_factor=2)(
        _maps(T, 3)),
    "trilinear of 4-D": lambda T: T.nn.functional.interpolate(
        _maps(T, 4), scale_factor=2, mode="trilinear"),
    "linear of 5-D": lambda T: T.nn.functional.interpolate(
        _maps(T, 5), scale_factor=2, mode="linear"),
    "bicubic of 3-D": lambda T: T.nn.functional.interpolate(
        _maps(T, 3), scale_factor=2, mode="bicubic"),
    "nearest of 2-D": lambda T: T.nn.functional.interpolate(T.ones(2, 4), scale_factor=2),
    "unknown mode": lambda T: T.nn.Upsample(scale_factor=2, mode="cubic")(_maps(T, 4)),
    "align_corners with nearest": lambda T: T.nn.functional.interpolate(
        _maps(T, 4), scale_factor=2, align_corners=True),
    "size and scale_factor": lambda T: T.nn.Upsample(size=8, scale_factor=2)(_maps(T, 4)),
    "neither": lambda T: T.nn.functional.interpolate(_maps(T, 4)),
    "sizes of another rank": lambda T: T.nn.functional.interpolate(
        _maps(T, 4), size=(8, 8, 8)),
    "factors of another rank": lambda T: T.nn.functional.interpolate(
        _maps(T, 4), scale_factor=(2, 2, 2)),
    "size 0": lambda T: T.nn.functional.interpolate(_maps(T, 4), size=(0, 8)),
    "negative factor": lambda T: T.nn.functional.interpolate(_maps(T, 5), scale_factor=-1.0),
    "recompute with a size": lambda T: T.nn.functional.interpolate(
        _maps(T, 4), size=8, recompute_scale_factor=True),
    "antialias nearest": lambda T: T.nn.functional.interpolate(
        _maps(T, 4), scale_factor=0.5, antialias=True),
}


@pytest.mark.parametrize("name", list(INTERPOLATE_MISTAKES))
def test_upsampling_mistakes_raise_as_pytorch(torch, name):
    mistake = INTERPOLATE_MISTAKES[name]
    assert raised_by(mistake, ft) == raised_by(mistake, torch)


# -- looking at a generator's weights under no_grad ------------------------------------------

def _weights_looked_at(T):
    T.manual_seed(0)
    emb = T.nn.Embedding(4, 3)
    lin = T.nn.Linear(3, 2)
    with T.no_grad():
        rows = emb.weight[:2]
        shown = [repr(rows), repr(lin.weight.t()), repr(lin.weight.view(-1)[:3]),
                 repr(lin.bias.unsqueeze(0))]
        flags = [t.requires_grad for t in (rows, rows[0], emb.weight[1], lin.weight.T,
                                           lin.weight.reshape(6), lin.weight.flatten(),
                                           lin.weight.squeeze(), lin.weight.expand(2, 2, 3),
                                           lin.weight.narrow(0, 0, 1), lin.weight.unbind()[0],
                                           lin.weight.diagonal(), lin.weight.detach()[0],
                                           lin.weight.data[0], lin.weight * 2,
                                           lin.weight[[0, 1]], lin.weight.clone(), rows * 1)]
        leaves = [(t.is_leaf, t.grad_fn) for t in (rows, lin.weight.t())]
        rows.mul_(2)  # written through to the weight under no_grad
    written = emb.weight[0].tolist()
    try:
        rows.add_(1)
        refused = None
    except RuntimeError as error:
        refused = str(error)
    return shown, flags, leaves, written, refused


def test_views_of_weights_taken_under_no_grad_require_grad_as_pytorchs(torch):
    ours, theirs = _weights_looked_at(ft), _weights_looked_at(torch)
    assert ours[0] == theirs[0]  # printed with requires_grad=True
    assert ours[1:] == theirs[1:]


# -- a sampler's timesteps and a schedule's betas from linspace ------------------------------

LINSPACES = [(39, 0, 10), (999, 0, 50), (0, 999, 77), (1e-4, 0.02, 1000), (-1, 1, 1001),
             (0, 1, 16), (0.5, -0.5, 257), (-3.7, 11.3, 33), (0, 1, 1), (2, 2, 3)]


@pytest.mark.parametrize("args", LINSPACES, ids=str)
def test_linspace_values_are_pytorchs_to_the_bit(torch, args):
    """PyTorch's kernel counts from start for the first half and from end for the rest;
    jnp.linspace rounds otherwise, so linspace(39, 0, 10).long() took timestep 25 for
    PyTorch's 26."""
    ours, theirs = ft.linspace(*args), torch.linspace(*args)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    np.testing.assert_array_equal(ours.long().numpy(), theirs.long().numpy())


@pytest.mark.parametrize("args", [(0, 10, 4), (0, 999, 7), (5, -5, 6), (0, 255, 9)], ids=str)
def test_integer_linspace_truncates_as_pytorchs(torch, args):
    assert ft.linspace(*args, dtype=ft.long).tolist() == \
        torch.linspace(*args, dtype=torch.long).tolist()


# -- what comes after training: sampling the prior, clipping, batched products ---------------

def _fresh_linear(T):
    return T.nn.Linear(2, 2).parameters()


FOLLOW_UP_MISTAKES = {
    "sample(int)": lambda T: T.distributions.Normal(0.0, 1.0).sample(3),
    "rsample(int)": lambda T: T.distributions.Normal(T.zeros(2), 1.0).rsample(2),
    "Categorical.sample(int)": lambda T: T.distributions.Categorical(
        logits=T.zeros(3)).sample(4),
    "Independent.sample(int)": lambda T: T.distributions.Independent(
        T.distributions.Normal(T.zeros(2), 1.0), 1).sample(2),
    "expand(int)": lambda T: T.distributions.Normal(0.0, 1.0).expand(3),
    "covariance of one dimension": lambda T: T.distributions.MultivariateNormal(
        T.zeros(2), covariance_matrix=T.ones(2)),
    "precision of one dimension": lambda T: T.distributions.MultivariateNormal(
        T.zeros(2), precision_matrix=T.ones(2)),
    "scale_tril of one dimension": lambda T: T.distributions.MultivariateNormal(
        T.zeros(2), scale_tril=T.ones(2)),
    "clip norm_type='fro'": lambda T: T.nn.utils.clip_grad_norm_(
        _fresh_linear(T), 1.0, norm_type="fro"),
    "clip max_norm=None": lambda T: T.nn.utils.clip_grad_norm_(_fresh_linear(T), None),
    "clip_grad_value_ of text": lambda T: T.nn.utils.clip_grad_value_(_fresh_linear(T), "a"),
    "bmm of matrices": lambda T: T.bmm(T.ones(2, 3), T.ones(3, 2)),
    "bmm of a matrix": lambda T: T.bmm(T.ones(2, 2, 3), T.ones(3, 2)),
}


@pytest.mark.parametrize("name", list(FOLLOW_UP_MISTAKES))
def test_follow_up_mistakes_raise_as_pytorch(torch, name):
    mistake = FOLLOW_UP_MISTAKES[name]
    assert raised_by(mistake, ft) == raised_by(mistake, torch)


def test_clip_grad_norm_reads_norm_type_text_as_pytorch(torch):
    """'inf' is a float's text, so PyTorch takes it."""
    norms = []
    for T in (ft, torch):
        T.manual_seed(0)
        layer = T.nn.Linear(3, 2)
        layer(T.ones(4, 3)).sum().backward()
        norms.append(float(T.nn.utils.clip_grad_norm_(layer.parameters(), "0.5", "inf")))
    assert norms[0] == pytest.approx(norms[1], rel=1e-6)
