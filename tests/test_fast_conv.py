"""The CPU formulations of conv2d and max_pool2d give the plain XLA ops' numbers.

Outputs and both gradients are compared with ``lax.conv_general_dilated`` /
``lax.reduce_window`` (and their JAX gradients) over strides, paddings, dilations,
groups and every formulation, eagerly, under jit and under vmap.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import assert_close
from jax import lax

from fnnet.nn import functional as F
from fnnet.nn.functional import kernels
from fnnet.nn.functional.kernels import barrier
from fnnet.nn.functional.kernels import conv_cpu as _conv_cpu
from fnnet.nn.functional.kernels import pool_cpu as _pool_cpu

# (x shape, weight shape, stride, pads, dilation, groups)
CONV_CASES = [
    ((2, 1, 12, 12), (6, 1, 5, 5), (1, 1), ((0, 0), (0, 0)), (1, 1), 1),   # LeNet conv1
    ((2, 6, 9, 9), (16, 6, 5, 5), (1, 1), ((0, 0), (0, 0)), (1, 1), 1),    # LeNet conv2
    ((2, 3, 9, 10), (4, 3, 3, 2), (1, 1), ((1, 1), (0, 2)), (1, 1), 1),
    ((2, 4, 11, 9), (6, 2, 3, 3), (2, 3), ((1, 0), (2, 1)), (2, 1), 2),
    ((3, 6, 8, 8), (6, 1, 3, 3), (2, 2), ((1, 1), (1, 1)), (1, 2), 6),     # depthwise
    ((2, 8, 7, 7), (4, 8, 1, 1), (2, 2), ((0, 0), (0, 0)), (1, 1), 1),     # 1x1 downsample
    ((2, 8, 6, 6), (8, 8, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),     # ResNet 3x3
    ((1, 2, 5, 5), (3, 2, 5, 5), (1, 1), ((2, 2), (2, 2)), (1, 1), 1),     # "same"
    ((2, 4, 10, 10), (6, 2, 2, 3), (3, 1), ((0, 1), (1, 0)), (2, 3), 2),
]
# Four plans that between them run every formulation of each of the three parts.
PLANS = [("taps", "gemm", "gemm"), ("gemm", "xla", "gemm"), ("xla", "gemm", "xla"),
         ("taps", "xla", "reduce")]


def _plain(x, w, stride, pads, dilation, groups):
    return lax.conv_general_dilated(x, w, stride, pads, rhs_dilation=dilation,
                                    dimension_numbers=("NCHW", "OIHW", "NCHW"),
                                    feature_group_count=groups)


def _inputs(x_shape, w_shape, stride, pads, dilation, groups, seed=0):
    rng = np.random.default_rng(seed)
    x = jnp.asarray(rng.standard_normal(x_shape, dtype=np.float32))
    w = jnp.asarray(rng.standard_normal(w_shape, dtype=np.float32))
    y = _plain(x, w, stride, pads, dilation, groups)
    dy = jnp.asarray(rng.standard_normal(y.shape, dtype=np.float32))
    return x, w, dy


def _value_and_grads(conv, x, w, dy):
    y, vjp = jax.vjp(conv, x, w)
    return (y, *vjp(dy))


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: f"x{c[0]}w{c[1]}s{c[2]}g{c[5]}")
def test_every_formulation_matches_plain_convolution(case):
    x, w, dy = _inputs(*case)
    args = case[2:]
    expected = _value_and_grads(lambda a, b: _plain(a, b, *args), x, w, dy)
    # Forward mode too: the tangent rule whose transpose gives the gradients above.
    expected += (jax.jvp(lambda a, b: _plain(a, b, *args), (x, w), (-x, 2 * w))[1],)
    for plan in PLANS:
        def both(a, b, c, plan=plan):
            def conv(u, v):
                return _conv_cpu.conv2d(u, v, *args, plan=plan)
            return _value_and_grads(conv, a, b, c) + (jax.jvp(conv, (a, b), (-a, 2 * b))[1],)

        got = jax.jit(both)(x, w, dy)
        for name, g, e in zip(("y", "dx", "dw", "jvp"), got, expected, strict=True):
            assert_close(g, e, rtol=1e-4, atol=1e-4, what=f"{plan} {name}")


@pytest.mark.parametrize("case", CONV_CASES[:5], ids=lambda c: f"x{c[0]}w{c[1]}")
def test_default_plan_under_jit_and_vmap(case):
    x, w, dy = _inputs(*case, seed=1)
    args = case[2:]
    expected = _value_and_grads(lambda a, b: _plain(a, b, *args), x, w, dy)
    jitted = jax.jit(lambda a, b, c: _value_and_grads(
        lambda u, v: _conv_cpu.conv2d(u, v, *args), a, b, c))(x, w, dy)
    for g, e in zip(jitted, expected, strict=True):
        assert_close(g, e, rtol=1e-4, atol=1e-4)
    # vmap over a batch of weight sets (and inputs): each slice is its own convolution.
    xs, ws = jnp.stack([x, 2 * x]), jnp.stack([w, -w])
    dys = jnp.stack([dy, dy])
    mapped = jax.jit(jax.vmap(lambda a, b, c: _value_and_grads(
        lambda u, v: _conv_cpu.conv2d(u, v, *args), a, b, c)))(xs, ws, dys)
    for k in range(2):
        want = _value_and_grads(lambda a, b: _plain(a, b, *args), xs[k], ws[k], dys[k])
        for g, e in zip(mapped, want, strict=True):
            assert_close(g[k], e, rtol=1e-4, atol=1e-4)


def test_conv2d_routes_to_cpu_kernels_with_bias_and_unbatched_input(monkeypatch):
    x, w, dy = _inputs((2, 3, 8, 8), (4, 3, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    b = jnp.arange(4.0)
    calls = []
    original = _conv_cpu.conv2d
    monkeypatch.setattr(_conv_cpu, "conv2d", lambda *a, **k: calls.append(1) or original(*a, **k))

    def loss(x, w, b):
        return jnp.sum(F.conv2d(x, w, b, padding=1) * dy)

    fast = jax.grad(loss, argnums=(0, 1, 2))(x, w, b)
    assert calls, "conv2d did not take the CPU formulation on the CPU backend"
    calls.clear()
    with kernels.use("portable"):
        plain = jax.grad(loss, argnums=(0, 1, 2))(x, w, b)
    assert not calls, 'kernels.use("portable") did not turn the CPU formulation off'
    for g, e in zip(fast, plain, strict=True):
        assert_close(g, e, rtol=1e-4, atol=1e-4)
    assert_close(F.conv2d(x[0], w, b, padding=1), F.conv2d(x, w, b, padding=1)[0],
                 rtol=1e-5, atol=1e-5)


def _lowered(fn, *args, platform="cpu"):
    return jax.jit(fn).trace(*args).lower(lowering_platforms=(platform,)).as_text()


def _conv_loss(x, w):
    return jnp.sum(F.max_pool2d(F.conv2d(x, w), 2) ** 2)


@pytest.mark.parametrize("platform", ["cuda", "tpu"])
def test_program_lowered_for_another_platform_takes_the_portable_forms(platform):
    # Traced on this CPU machine, lowered for an accelerator: XLA's convolution and
    # reduce_window (and their JAX gradients), none of the CPU forms' products.
    x, w = jnp.ones((2, 1, 12, 12)), jnp.ones((6, 1, 5, 5))
    step = jax.value_and_grad(_conv_loss, argnums=(0, 1))
    text = _lowered(step, x, w, platform=platform)
    assert "stablehlo.convolution" in text and "stablehlo.reduce_window" in text
    assert "stablehlo.dot_general" not in text
    cpu = _lowered(step, x, w)
    assert "stablehlo.convolution" not in cpu and "stablehlo.dot_general" in cpu
    assert "select_and_scatter" not in cpu


def test_switch_is_part_of_the_jit_cache_key():
    x, w = jnp.ones((2, 1, 12, 12)), jnp.ones((6, 1, 5, 5))
    fn = jax.jit(_conv_loss)
    platform = fn.lower(x, w).as_text()
    with kernels.use("portable"):
        portable = fn.lower(x, w).as_text()
        np.testing.assert_allclose(fn(x, w), _conv_loss(x, w), rtol=1e-5)
    assert "stablehlo.convolution" in portable and "stablehlo.convolution" not in platform
    assert kernels.current() == "platform"
    with pytest.raises(ValueError, match="choice must be one of .* got 'xla'"):
        with kernels.use("xla"):
            pass


def test_cpu_forms_only_for_float32_and_float64():
    w = jnp.ones((6, 1, 5, 5))
    assert "stablehlo.convolution" not in _lowered(_conv_loss, jnp.ones((2, 1, 12, 12)), w)
    for dtype in (jnp.bfloat16, jnp.float16):
        text = _lowered(_conv_loss, jnp.ones((2, 1, 12, 12), dtype), w.astype(dtype))
        assert "stablehlo.convolution" in text and "stablehlo.dot_general" not in text


def test_cpu_pipeline_still_drops_optimization_barrier():
    # materialize uses a conditional because XLA's CPU pipeline removes
    # optimization_barrier; when it stops doing so, materialize can use the barrier.
    fn = jax.jit(lambda v: lax.optimization_barrier(v * 2) + 1)
    hlo = fn.lower(jnp.ones(4)).compile().as_text()
    assert "opt-barrier" not in hlo, "XLA's CPU pipeline now keeps optimization_barrier"
    kept = jax.jit(barrier.materialize).lower(jnp.ones(4)).compile().as_text()
    assert "conditional" in kept, "XLA's CPU pipeline folded materialize's conditional"


def test_plans_cover_every_formulation():
    for part, names in enumerate((_conv_cpu.FORWARD, _conv_cpu.INPUT_GRAD,
                                  _conv_cpu.WEIGHT_GRAD)):
        assert {plan[part] for plan in PLANS} == set(names)


def test_choose_plan_for_lenet_and_resnet_layers():
    assert _conv_cpu.choose_plan((64, 1, 32, 32), (6, 1, 5, 5), (28, 28), 4) == (
        "taps", "gemm", "reduce")
    # the PyTorch MNIST example's conv1 (1 -> 32, 3x3): too many weights for "reduce"
    assert _conv_cpu.choose_plan((64, 1, 28, 28), (32, 1, 3, 3), (26, 26), 4) == (
        "taps", "gemm", "gemm")
    assert _conv_cpu.choose_plan((8, 32, 16, 16), (32, 1, 3, 3), (16, 16), 4) == (
        "taps", "gemm", "gemm")
    assert _conv_cpu.choose_plan((64, 6, 14, 14), (16, 6, 5, 5), (10, 10), 4) == (
        "gemm", "gemm", "gemm")
    # ResNet-18's first stage at batch 128: 288 MB of patches would be held from the
    # forward pass to the backward, so XLA's weight gradient
    assert _conv_cpu.choose_plan((128, 64, 32, 32), (64, 64, 3, 3), (32, 32), 4) == (
        "xla", "xla", "xla")
    # its stem (13.5 MB of patches) keeps them
    assert _conv_cpu.choose_plan((128, 3, 32, 32), (64, 3, 3, 3), (32, 32), 4) == (
        "gemm", "gemm", "gemm")
    # depthwise with 75 MB of patches
    assert _conv_cpu.choose_plan((64, 32, 32, 32), (32, 1, 3, 3), (32, 32), 4) == (
        "taps", "xla", "xla")
    assert _conv_cpu.choose_plan((128, 64, 32, 32), (128, 64, 1, 1), (16, 16), 4) == (
        "gemm", "gemm", "gemm")
    # LeNet's conv1 at batch 1000 (inference): the taps need no patches; the gradients
    # would have 78 MB of them, so XLA's convolutions
    assert _conv_cpu.choose_plan((1000, 1, 32, 32), (6, 1, 5, 5), (28, 28), 4) == (
        "taps", "xla", "xla")


def test_materialize_keeps_values_nan_and_empty():
    x = jnp.array([[jnp.nan, -0.0], [jnp.inf, 1.5]])
    np.testing.assert_array_equal(np.asarray(jax.jit(barrier.materialize)(x)), np.asarray(x))
    assert barrier.materialize(jnp.zeros((0, 3))).shape == (0, 3)


# ---- max_pool2d ---------------------------------------------------------------------

def _plain_max_pool(x, k):
    return lax.reduce_window(x, -jnp.inf, lax.max, (1, 1, k, k), (1, 1, k, k), "VALID")


@pytest.mark.parametrize("shape,k", [((2, 3, 8, 8), 2), ((2, 2, 9, 7), 2), ((1, 2, 9, 9), 3),
                                     ((2, 6, 28, 28), 2)])
def test_max_pool_matches_reduce_window_with_ties(shape, k):
    rng = np.random.default_rng(0)
    # Values on a coarse grid: many windows hold their maximum twice or more.
    x = jnp.asarray(np.round(rng.standard_normal(shape) * 2) / 2, jnp.float32)
    crop = x[..., :shape[-2] // k * k, :shape[-1] // k * k]

    def fast(v):
        return _pool_cpu.max_pool2d_tiled(v, (k, k))

    def plain(v):
        return _plain_max_pool(v[..., :shape[-2] // k * k, :shape[-1] // k * k], k)

    # The tiled kernel inside compiled programs: op by op, each of its many small ops
    # compiles alone (test_functional's test_op_jit_equals_eager checks its eager use).
    y_ref, vjp_ref = jax.vjp(plain, x)
    dy = jnp.asarray(rng.standard_normal(y_ref.shape), jnp.float32)

    @jax.jit
    def value_and_grad(v, c):
        out, pull = jax.vjp(fast, v)
        return out, pull(c)[0]

    y, dx = value_and_grad(x, dy)
    np.testing.assert_array_equal(np.asarray(y), np.asarray(y_ref))
    np.testing.assert_array_equal(np.asarray(dx), np.asarray(vjp_ref(dy)[0]))
    assert crop.shape[-1] <= shape[-1]
    # vmap over an extra leading axis.
    xs = jnp.stack([x, -x])
    got = jax.jit(jax.vmap(jax.grad(lambda v: jnp.sum(fast(v) ** 2))))(xs)
    want = jax.jit(jax.grad(lambda v: jnp.sum(plain(v) ** 2)))
    for i in range(2):
        np.testing.assert_array_equal(np.asarray(got[i]), np.asarray(want(xs[i])))


def test_max_pool_gradient_goes_to_first_maximum_like_torch(torch):
    x = np.array([[[[1.0, 3.0, 2.0, 2.0], [3.0, 0.0, 2.0, 2.0],
                    [5.0, 5.0, -1.0, 7.0], [5.0, 4.0, 7.0, 7.0]]]], np.float32)
    g = jax.grad(lambda v: jnp.sum(F.max_pool2d(v, 2) * jnp.arange(1.0, 5.0).reshape(2, 2)))(
        jnp.asarray(x))
    tx = torch.tensor(x, requires_grad=True)
    (torch.nn.functional.max_pool2d(tx, 2) * torch.arange(1.0, 5.0).reshape(2, 2)).sum().backward()
    np.testing.assert_array_equal(np.asarray(g), tx.grad.numpy())


def test_lenet_gradients_with_the_cpu_kernels_equal_the_portable_forms():
    # conv, ReLU and the pooling's rules, barriers on tangents included, transposed
    # together in one program: every parameter's gradient is the portable form's
    from fnnet import losses, models

    model = models.LeNet5()
    params, state = model.init(jax.random.key(0))
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal((8, 1, 32, 32)), jnp.float32)
    y = jnp.asarray(rng.integers(0, 10, 8), jnp.int32)

    def loss(p):
        return losses.cross_entropy(model.apply(p, state, x, train=True)[0], y)

    platform = jax.jit(jax.grad(loss))(params)
    with kernels.use("portable"):
        portable = jax.jit(jax.grad(loss))(params)
    for got, want in zip(jax.tree.leaves(platform), jax.tree.leaves(portable), strict=True):
        assert_close(got, want, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("channels, kernel, norm, activation, then", [
    (1, 5, False, "tanh", "pool"), (1, 3, False, "sigmoid", "pool"),
    (1, 5, False, "relu", "pool"), (3, 3, True, "tanh", "pool"),
    (1, 5, True, "sigmoid", "pool"), (3, 3, False, "tanh", "conv"),
    (6, 5, True, "sigmoid", "pool_conv")])
def test_gradients_through_conv_activation_and_pool_equal_the_portable_forms(
        channels, kernel, norm, activation, then):
    # a barrier on the pooling's input, after a tanh or sigmoid and a conditional
    # upstream (the convolution's barrier or BatchNorm's), made XLA's CPU backend compute
    # wrong gradients (relative errors of 1-3; right op by op and with ReLU)
    rng = np.random.default_rng(channels * kernel)
    x = jnp.asarray(rng.standard_normal((4, channels, 12, 12)), jnp.float32)
    w = jnp.asarray(rng.standard_normal((3, channels, kernel, kernel)) * 0.3, jnp.float32)
    w2 = jnp.asarray(rng.standard_normal((2, 3, 3, 3)) * 0.3, jnp.float32)
    act = {"tanh": jnp.tanh, "sigmoid": jax.nn.sigmoid, "relu": jax.nn.relu}[activation]

    def f(x, w, w2):
        h = F.conv2d(x, w)
        if norm:
            h = F.batch_norm(h, jnp.zeros(3), jnp.ones(3), jnp.full(3, 1.3), jnp.full(3, 0.1),
                             training=True)[0]
        h = act(h)
        if then.startswith("pool"):
            h = F.max_pool2d(h, 2)
        if then.endswith("conv"):
            h = jnp.tanh(F.conv2d(h, w2))
        return jnp.sum(h ** 2)

    grads = jax.jit(jax.grad(f, argnums=(0, 1, 2)))
    platform = grads(x, w, w2)
    with kernels.use("portable"):
        portable = jax.jit(jax.grad(f, argnums=(0, 1, 2)))(x, w, w2)
    for got, want in zip(platform, portable, strict=True):
        assert_close(got, want, rtol=1e-4, atol=1e-5)


def test_max_pool_tangent_barrier_transposes_to_the_same_values():
    # the barrier on the pooling's tangent is linear: forward mode, reverse mode and
    # forward over reverse give the portable form's numbers
    x = jnp.asarray(np.random.default_rng(1).standard_normal((2, 3, 8, 8)), jnp.float32)

    def f(v):
        return jnp.sum(jnp.sin(F.max_pool2d(v, 2)))

    ones = jnp.ones_like(x)
    results = []
    for form in ("platform", "portable"):
        with kernels.use(form):
            results.append((jax.jvp(lambda v: F.max_pool2d(v, 2), (x,), (ones,))[1],
                            jax.grad(f)(x), jax.jvp(jax.grad(f), (x,), (ones,))[1]))
    for got, want in zip(*results, strict=True):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


def test_max_pool_nan_window_is_nan_and_takes_gradient():
    x = jnp.array([[[[1.0, jnp.nan], [3.0, 2.0]]]])
    y, vjp = jax.vjp(lambda v: F.max_pool2d(v, 2), x)
    assert jnp.isnan(y[0, 0, 0, 0])
    np.testing.assert_array_equal(np.asarray(vjp(jnp.ones_like(y))[0]),
                                  np.array([[[[0.0, 1.0], [0.0, 0.0]]]]))


def test_max_pool2d_routes_only_tiling_windows(monkeypatch):
    calls = []
    original = kernels.max_pool2d_tiled
    monkeypatch.setattr(kernels, "max_pool2d_tiled",
                        lambda *a: calls.append(a[1]) or original(*a))
    x = jnp.ones((1, 1, 6, 6))
    F.max_pool2d(x, 2)
    F.max_pool2d(x, 3, stride=3)
    assert calls == [(2, 2), (3, 3)]
    F.max_pool2d(x, 3, stride=2)
    F.max_pool2d(x, 2, padding=1)
    F.max_pool2d(x, 2, dilation=2)
    F.max_pool2d(jnp.ones((1, 1, 5, 5)), 2, ceil_mode=True)
    assert calls == [(2, 2), (3, 3)]
    # Integers tile too; the kernel layer gives them the portable form.
    y = F.max_pool2d(jnp.arange(36, dtype=jnp.int32).reshape(1, 1, 6, 6), 2)
    np.testing.assert_array_equal(np.asarray(y)[0, 0], [[7, 9, 11], [19, 21, 23], [31, 33, 35]])


def test_cpu_xla_options_only_for_the_cpu_backend(monkeypatch):
    from fnnet.train import step

    assert dict(step.XLA_OPTIONS) == step.BACKEND_XLA_OPTIONS["cpu"]
    monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
    assert dict(step.XLA_OPTIONS) == {}
    monkeypatch.setattr(jax, "default_backend", lambda: "tpu")
    assert not any(name.startswith("xla_cpu") for name in step.XLA_OPTIONS)
