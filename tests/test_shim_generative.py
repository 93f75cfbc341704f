"""Generative-model code as courses and blog posts write it (VAEs, GANs, diffusion,
flows, style transfer), each run under PyTorch 2.13 and fnnet.torch and compared."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

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
