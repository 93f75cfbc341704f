"""Every JAX transform through every layer and loss, on the CPU and portable kernels.

``jax.jvp``, ``jax.jacfwd``, ``jax.jacrev``, ``jax.hessian``, ``jax.vmap`` and
``jax.checkpoint`` are applied to each layer's output as a function of its parameters and
input (and to each loss as a function of its prediction). Each result under the default
kernels (the CPU forms on this machine) is compared with the same transform under
``kernels.use("portable")`` (XLA's own ops); ``jvp`` is also checked against central
finite differences, and ``jacfwd`` (forward mode) against ``jacrev`` (reverse mode).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import assert_close

import fnnet.nn as nn
from fnnet import losses
from fnnet.nn.functional import kernels

TRANSFORMS = ("jvp", "jacfwd", "jacrev", "hessian", "vmap", "checkpoint")

# (id, layer, input shape, train)
LAYERS = [
    ("conv_taps_reduce", lambda: nn.Conv2d(1, 3, 3), (2, 1, 6, 6), False),
    ("conv_gemm", lambda: nn.Conv2d(2, 3, 3, padding=1), (2, 2, 5, 5), False),
    ("conv_depthwise", lambda: nn.Conv2d(3, 3, 3, stride=2, padding=1, groups=3),
     (2, 3, 6, 6), False),
    ("maxpool_tiled", lambda: nn.MaxPool2d(2), (2, 2, 4, 4), False),
    ("maxpool_overlap", lambda: nn.MaxPool2d(3, stride=2, padding=1), (1, 2, 5, 5), False),
    ("avgpool", lambda: nn.AvgPool2d(2), (2, 2, 4, 4), False),
    ("adaptive_avgpool", lambda: nn.AdaptiveAvgPool2d(3), (1, 2, 5, 5), False),
    ("batchnorm2d_train", lambda: nn.BatchNorm2d(2), (3, 2, 3, 3), True),
    ("batchnorm1d_train", lambda: nn.BatchNorm1d(3), (4, 3), True),
    ("batchnorm2d_eval", lambda: nn.BatchNorm2d(2), (3, 2, 3, 3), False),
    ("linear", lambda: nn.Linear(4, 3), (2, 4), False),
    ("layernorm", lambda: nn.LayerNorm(4), (2, 4), False),
    ("conv1d", lambda: nn.Conv1d(2, 3, 3, padding=1), (2, 2, 5), False),
    ("activations", lambda: nn.Sequential(nn.Tanh(), nn.GELU(), nn.Sigmoid(),
                                          nn.LeakyReLU(0.1), nn.Softmax(dim=1),
                                          nn.LogSoftmax(dim=1), nn.Flatten()),
     (2, 3, 2), False),
    ("lenet_block", lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2),
                                          nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 2)),
     (2, 1, 6, 6), True),
]

LOSSES = [
    ("cross_entropy", lambda p: losses.cross_entropy(p, jnp.array([0, 2])), (2, 3)),
    ("nll_loss", lambda p: losses.nll_loss(jax.nn.log_softmax(p), jnp.array([1, 0])),
     (2, 3)),
    ("mse_loss", lambda p: losses.mse_loss(p, jnp.ones((2, 3))), (2, 3)),
    ("smooth_l1_loss", lambda p: losses.smooth_l1_loss(p, jnp.zeros((2, 3))), (2, 3)),
    ("bce_with_logits", lambda p: losses.binary_cross_entropy_with_logits(
        p, jnp.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.5]])), (2, 3)),
]


def _layer_case(make, shape, train):
    """``(fn, theta)``: the layer's output (flattened) as a function of (params, x)."""
    layer = make()
    params, state = layer.init(jax.random.key(0))
    x = jnp.asarray(np.random.default_rng(1).standard_normal(shape), jnp.float32)

    def fn(theta):
        p, v = theta
        y, _ = layer.apply(p, state, v, train=train)
        return jnp.ravel(y)

    return fn, (params, x)


def _loss_case(loss, shape):
    pred = jnp.asarray(np.random.default_rng(2).standard_normal(shape), jnp.float32)
    return (lambda theta: jnp.reshape(loss(theta), (1,))), pred


CASES = [pytest.param(_layer_case, (m, s, t), id=i) for i, m, s, t in LAYERS] + [
    pytest.param(_loss_case, (f, s), id=i) for i, f, s in LOSSES]


def _direction(theta, seed=3):
    leaves, tree = jax.tree_util.tree_flatten(theta)
    rng = np.random.default_rng(seed)
    return jax.tree_util.tree_unflatten(
        tree, [jnp.asarray(rng.standard_normal(a.shape), a.dtype) for a in leaves])


def _apply(transform, fn, theta):
    """The transform's result as a tree of arrays."""
    def scalar(t):
        return jnp.sum(jnp.sin(fn(t)))

    if transform == "jvp":
        return jax.jvp(fn, (theta,), (_direction(theta),))
    if transform == "jacfwd":
        return jax.jacfwd(fn)(theta)
    if transform == "jacrev":
        return jax.jacrev(fn)(theta)
    if transform == "hessian":
        # With respect to the input alone: a parameter tree's Hessian is just bigger.
        params, x = theta if isinstance(theta, tuple) else ((), theta)
        return jax.hessian(lambda v: scalar((params, v) if params != () else v))(x)
    if transform == "vmap":
        stacked = jax.tree_util.tree_map(lambda a, b: jnp.stack([a, b]), theta,
                                         _direction(theta))
        return jax.vmap(jax.grad(scalar))(stacked)
    assert transform == "checkpoint"
    return jax.grad(jax.checkpoint(scalar))(theta)


# Cases whose output has kinks (ReLU, max) near which a finite difference jumps.
NONSMOOTH = {"maxpool_tiled", "maxpool_overlap", "lenet_block"}


@pytest.fixture(scope="module")
def results():
    """Every transform of each case under both kernel choices, computed once per case:
    two compiled programs per case (one jit per transform would take minutes)."""
    cache: dict = {}

    def get(case_id, build, spec):
        if case_id not in cache:
            cache[case_id] = _compute(build, spec)
        return cache[case_id]

    return get


def _compute(build, spec):
    fn, theta = build(*spec)

    def everything(t):
        return {name: _apply(name, fn, t) for name in TRANSFORMS}

    got = jax.jit(everything)(theta)
    with kernels.use("portable"):
        want = jax.jit(everything)(theta)
    return fn, theta, got, want


@pytest.mark.parametrize("transform", TRANSFORMS)
@pytest.mark.parametrize("build,spec", CASES)
def test_transform_matches_portable_kernels(request, results, build, spec, transform):
    case_id = request.node.callspec.id.split("-")[0]
    fn, theta, everything, portable = results(case_id, build, spec)
    got, want = everything[transform], portable[transform]
    for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want),
                    strict=True):
        assert_close(g, w, rtol=2e-4, atol=2e-4, what=f"{transform}: CPU vs portable forms")
    if transform == "jvp" and case_id not in NONSMOOTH:
        # Forward mode against central differences (float32: a loose tolerance), both
        # evaluations in one program (op by op, each of the layer's ops compiles alone).
        eps = 1e-3

        @jax.jit
        def central(theta, t):
            def at(sign):
                return fn(jax.tree_util.tree_map(lambda a, b: a + sign * eps * b, theta, t))

            return (at(1.0) - at(-1.0)) / (2 * eps)

        assert_close(got[1], central(theta, _direction(theta)), rtol=2e-2, atol=2e-2,
                     what="jvp vs finite differences")
    if transform == "jacfwd":
        # Forward mode (the CPU forms' tangent rules) against reverse mode (their
        # transposes).
        reverse = everything["jacrev"]
        for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(reverse),
                        strict=True):
            assert_close(g, w, rtol=2e-4, atol=2e-4, what="jacfwd vs jacrev")
