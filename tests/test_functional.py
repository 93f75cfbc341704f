"""fnnet.nn.functional against torch.nn.functional: outputs, gradients, errors."""

from __future__ import annotations

import re
import zlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import ATOL, assert_close, to_numpy

from fnnet.nn import functional as F


def _close(actual, expected, what=""):
    """1e-5 relative, with the absolute floor scaled to the array's magnitude (sums of
    many float32 products near zero cannot be closer than that)."""
    expected = to_numpy(expected)
    scale = max(1.0, float(np.abs(expected).max())) if expected.size else 1.0
    assert_close(actual, expected, atol=ATOL * scale, what=what)


def _torch_fn(torch, name):
    tf = torch.nn.functional
    return {
        "flatten": torch.flatten,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
    }.get(name, getattr(tf, name, None))


# (op name, input shapes (arrays differentiated), keyword arguments)
CASES = [
    ("linear", [(4, 5), (3, 5), (3,)], {}),
    ("linear", [(2, 3, 5), (4, 5)], {}),
    ("conv2d", [(2, 4, 9, 11), (6, 4, 3, 3), (6,)], {}),
    ("conv2d", [(2, 4, 9, 11), (6, 2, 3, 4), (6,)], dict(stride=2, padding=1, dilation=2,
                                                        groups=2)),
    ("conv2d", [(2, 4, 8, 7), (4, 1, 4, 2)], dict(padding="same", groups=4)),
    ("conv2d", [(2, 4, 8, 7), (6, 4, 3, 3), (6,)], dict(padding="same", dilation=2)),
    ("conv2d", [(1, 3, 7, 7), (5, 3, 2, 3)], dict(padding="valid", stride=(2, 1))),
    ("conv2d", [(3, 9, 10), (2, 3, 3, 3), (2,)], dict(padding=(2, 1), stride=(1, 3))),
    ("max_pool2d", [(2, 3, 8, 8)], dict(kernel_size=2)),
    ("max_pool2d", [(2, 3, 9, 11)], dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("max_pool2d", [(2, 3, 9, 11)], dict(kernel_size=(2, 3), stride=(2, 1), dilation=2,
                                         ceil_mode=True)),
    ("max_pool2d", [(3, 7, 6)], dict(kernel_size=3, stride=2, padding=(1, 0))),
    ("avg_pool2d", [(2, 3, 8, 8)], dict(kernel_size=2)),
    ("avg_pool2d", [(2, 3, 9, 11)], dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool2d", [(2, 3, 9, 11)], dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                         count_include_pad=False)),
    ("avg_pool2d", [(2, 3, 9, 11)], dict(kernel_size=(2, 3), stride=(2, 1), padding=1)),
    ("avg_pool2d", [(3, 7, 6)], dict(kernel_size=3, padding=1, divisor_override=5)),
    ("adaptive_avg_pool2d", [(2, 3, 8, 8)], dict(output_size=4)),
    ("adaptive_avg_pool2d", [(2, 3, 9, 11)], dict(output_size=(3, 5))),
    ("adaptive_avg_pool2d", [(2, 3, 9, 11)], dict(output_size=7)),
    ("adaptive_avg_pool2d", [(2, 3, 5, 13)], dict(output_size=(None, 4))),
    ("adaptive_avg_pool2d", [(3, 6, 6)], dict(output_size=1)),
    ("flatten", [(2, 3, 4, 5)], dict(start_dim=1)),
    ("flatten", [(2, 3, 4, 5)], dict(start_dim=0)),
    ("flatten", [(2, 3, 4, 5)], dict(start_dim=1, end_dim=2)),
    ("relu", [(4, 7)], {}),
    ("sigmoid", [(4, 7)], {}),
    ("tanh", [(2, 3, 5)], {}),
    ("softmax", [(4, 7)], dict(dim=1)),
    ("softmax", [(2, 3, 5)], dict(dim=0)),
    ("log_softmax", [(4, 7)], dict(dim=1)),
    ("log_softmax", [(2, 3, 5)], dict(dim=-2)),
]


def _case_id(case):
    name, shapes, kwargs = case
    return f"{name}-{shapes[0]}-" + ",".join(f"{k}={v}" for k, v in kwargs.items())


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
# PyTorch's own note on the reference side of padding="same" with an even kernel
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")
def test_op_matches_torch_output_and_gradients(case, torch):
    name, shapes, kwargs = case
    rng = np.random.default_rng(zlib.crc32(_case_id(case).encode()))
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    fn = getattr(F, name)

    out_shape = jax.eval_shape(lambda *a: fn(*a, **kwargs), *inputs).shape
    cotangent = rng.standard_normal(out_shape).astype(np.float32)

    @jax.jit
    def forward_backward(inputs, cotangent):
        y, vjp = jax.vjp(lambda *a: fn(*a, **kwargs), *inputs)
        return y, vjp(cotangent)

    y, grads = forward_backward(inputs, cotangent)

    tensors = [torch.tensor(a, requires_grad=True) for a in inputs]
    expected = _torch_fn(torch, name)(*tensors, **kwargs)
    expected.backward(torch.tensor(cotangent))

    _close(y, expected, what=f"{name} output")
    for index, (grad, tensor) in enumerate(zip(grads, tensors, strict=True)):
        _close(grad, tensor.grad, what=f"{name} gradient w.r.t. argument {index}")


@pytest.mark.parametrize("case", CASES[2:22:3], ids=[_case_id(c) for c in CASES[2:22:3]])
def test_op_jit_equals_eager(case):
    name, shapes, kwargs = case
    rng = np.random.default_rng(1)
    inputs = [jnp.asarray(rng.standard_normal(s), jnp.float32) for s in shapes]
    fn = getattr(F, name)
    eager = fn(*inputs, **kwargs)
    jitted = jax.jit(lambda *a: fn(*a, **kwargs))(*inputs)
    np.testing.assert_allclose(np.asarray(jitted), np.asarray(eager), rtol=1e-6, atol=1e-7)


# --------------------------------------------------------------------------- batch_norm

BN_SHAPES = [(8, 5), (6, 4, 7), (4, 3, 5, 6)]


@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training_matches_torch(shape, affine, torch):
    rng = np.random.default_rng(len(shape))
    c = shape[1]
    x = (rng.standard_normal(shape) * 3 + 2).astype(np.float32)
    w = rng.standard_normal(c).astype(np.float32) if affine else None
    b = rng.standard_normal(c).astype(np.float32) if affine else None
    mean0 = rng.standard_normal(c).astype(np.float32)
    var0 = rng.uniform(0.5, 2, c).astype(np.float32)

    args = (x, w, b) if affine else (x,)

    def f(x, w=None, b=None):
        return F.batch_norm(x, mean0, var0, w, b, training=True, momentum=0.3)

    (y, new_mean, new_var), vjp = jax.vjp(f, *args)
    cotangent = rng.standard_normal(shape).astype(np.float32)
    grads = vjp((jnp.asarray(cotangent), jnp.zeros(c), jnp.zeros(c)))

    t_args = [torch.tensor(a, requires_grad=True) for a in args]
    t_mean, t_var = torch.tensor(mean0), torch.tensor(var0)
    t_y = torch.nn.functional.batch_norm(t_args[0], t_mean, t_var,
                                         *(t_args[1:] if affine else (None, None)),
                                         training=True, momentum=0.3)
    t_y.backward(torch.tensor(cotangent))

    _close(y, t_y, "output")
    _close(new_mean, t_mean, "running_mean")
    _close(new_var, t_var, "running_var (unbiased)")
    for grad, tensor in zip(grads, t_args, strict=True):
        _close(grad, tensor.grad, "gradient")


@pytest.mark.parametrize("shape", BN_SHAPES)
def test_batch_norm_eval_uses_running_stats(shape, torch):
    rng = np.random.default_rng(7)
    c = shape[1]
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in (shape, c, c))
    mean = rng.standard_normal(c).astype(np.float32)
    var = rng.uniform(0.5, 2, c).astype(np.float32)
    y, new_mean, new_var = F.batch_norm(x, mean, var, w, b, training=False, eps=1e-3)
    expected = torch.nn.functional.batch_norm(
        *(torch.tensor(a) for a in (x, mean, var, w, b)), training=False, eps=1e-3)
    _close(y, expected)
    assert new_mean is mean and new_var is var


def test_batch_norm_is_stable_for_large_offsets():
    # E[x^2] - E[x]^2 would lose every digit of the variance here (x ~ 1e4, var ~ 1).
    x = (np.random.default_rng(0).standard_normal((64, 3)) + 1e4).astype(np.float32)
    y, _, var = F.batch_norm(x, np.zeros(3, np.float32), np.ones(3, np.float32),
                             training=True, momentum=1.0)
    exact = x.astype(np.float64)
    exact_y = (exact - exact.mean(0)) / np.sqrt(exact.var(0) + 1e-5)
    assert_close(var, exact.var(0, ddof=1), rtol=1e-5)
    # The float32 mean of values near 1e4 is only good to a few 1e-4 (PyTorch's too).
    assert_close(y, exact_y, rtol=0, atol=1e-3)


def test_batch_norm_gradients_keep_each_argument_dtype():
    # a bfloat16 input with float32 affine parameters (mixed precision)
    x = jnp.arange(4 * 3 * 25, dtype=jnp.float32).reshape(4, 3, 5, 5).astype(jnp.bfloat16)
    w, b = jnp.ones(3, jnp.float32), jnp.zeros(3, jnp.float32)

    def loss(x, w, b):
        y, _, _ = F.batch_norm(x, jnp.zeros(3), jnp.ones(3), w, b, training=True)
        return jnp.sum(jnp.square(y.astype(jnp.float32)))

    grads = jax.grad(loss, argnums=(0, 1, 2))(x, w, b)
    assert [g.dtype for g in grads] == [jnp.bfloat16, jnp.float32, jnp.float32]


@pytest.mark.filterwarnings("ignore:Mismatch dtype between input and weight")
@pytest.mark.parametrize("x_dtype, w_dtype", [("bfloat16", "bfloat16"), ("float16", "float32"),
                                              ("bfloat16", "float32")])
def test_norms_of_half_inputs_compute_in_float32_and_keep_the_input_dtype(torch, x_dtype,
                                                                          w_dtype):
    """layer_norm, group_norm, rms_norm of a float16/bfloat16 input (with half or float32
    affine parameters, PyTorch's mixed precision): PyTorch normalises in float32, rounds
    once, and returns the input's dtype."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 3)).astype(np.float32) * 3 + 1
    w, b = rng.standard_normal(3).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    wc, bc = rng.standard_normal(4).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    tx, jx = torch.tensor(x).to(getattr(torch, x_dtype)), jnp.asarray(x).astype(x_dtype)

    def both(a):
        return torch.tensor(a).to(getattr(torch, w_dtype)), jnp.asarray(a).astype(w_dtype)

    (tw, jw), (tb, jb), (twc, jwc), (tbc, jbc) = map(both, (w, b, wc, bc))
    tf = torch.nn.functional
    ours = jax.jit(lambda x, w, b, wc, bc: (  # one compile, not one per op
        F.layer_norm(x, (3,), w, b), F.group_norm(x, 2, wc, bc), F.rms_norm(x, (3,), w)))
    theirs = (tf.layer_norm(tx, (3,), tw, tb), tf.group_norm(tx, 2, twc, tbc),
              tf.rms_norm(tx, (3,), tw))
    for name, expected, actual in zip(("layer_norm", "group_norm", "rms_norm"), theirs,
                                      ours(jx, jw, jb, jwc, jbc), strict=True):
        assert str(actual.dtype) == x_dtype == str(expected.dtype).removeprefix("torch."), name
        # within one rounding of the half-precision result
        np.testing.assert_allclose(np.asarray(actual, np.float32), expected.float().numpy(),
                                   rtol=2 ** -7 if x_dtype == "bfloat16" else 2 ** -10,
                                   atol=1e-2, err_msg=name)


def test_batch_norm_cumulative_average(torch):
    """momentum=None: running stats are the plain average of the batch statistics."""
    rng = np.random.default_rng(3)
    batches = [rng.standard_normal((6, 4)).astype(np.float32) * (i + 1) for i in range(4)]
    mean, var = np.zeros(4, np.float32), np.ones(4, np.float32)
    t_mean, t_var = torch.zeros(4), torch.ones(4)
    for count, x in enumerate(batches, start=1):
        _, mean, var = F.batch_norm(x, mean, var, training=True, momentum=None,
                                    num_batches_tracked=count)
        torch.nn.functional.batch_norm(torch.tensor(x), t_mean, t_var, training=True,
                                       momentum=1.0 / count)
    _close(mean, t_mean)
    _close(var, t_var)
    _close(mean, np.mean([x.mean(0) for x in batches], axis=0))


def test_batch_norm_axis_name_equals_full_batch(torch):
    """Statistics averaged over a mapped axis equal those of the whole batch."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 6, 3, 5, 5)).astype(np.float32)  # 4 shards of 6
    w, b = rng.standard_normal(3).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    mean0, var0 = np.zeros(3, np.float32), np.ones(3, np.float32)

    def shard(x):
        return F.batch_norm(x, mean0, var0, w, b, training=True, axis_name="batch")

    y, new_mean, new_var = jax.vmap(shard, axis_name="batch")(x)
    t_mean, t_var = torch.tensor(mean0), torch.tensor(var0)
    expected = torch.nn.functional.batch_norm(torch.tensor(x.reshape(24, 3, 5, 5)), t_mean,
                                              t_var, torch.tensor(w), torch.tensor(b),
                                              training=True)
    _close(y.reshape(24, 3, 5, 5), expected)
    for i in range(4):  # every shard computes the same, global, running statistics
        _close(new_mean[i], t_mean)
        _close(new_var[i], t_var)


def test_batch_norm_axis_name_under_shard_map(torch):
    mesh_devices = np.array(jax.devices()[:4])
    if mesh_devices.size < 4:
        pytest.skip("needs 4 devices")
    from jax.sharding import Mesh
    from jax.sharding import PartitionSpec as P

    mesh = Mesh(mesh_devices, ("batch",))
    x = np.random.default_rng(5).standard_normal((16, 2, 3, 3)).astype(np.float32)
    mean0, var0 = np.zeros(2, np.float32), np.ones(2, np.float32)

    def shard(x):
        y, m, v = F.batch_norm(x, mean0, var0, training=True, axis_name="batch")
        return y, m, v

    y, m, v = jax.shard_map(shard, mesh=mesh, in_specs=P("batch"),
                            out_specs=(P("batch"), P(), P()))(x)
    t_mean, t_var = torch.tensor(mean0), torch.tensor(var0)
    expected = torch.nn.functional.batch_norm(torch.tensor(x), t_mean, t_var, training=True)
    _close(y, expected)
    _close(m, t_mean)
    _close(v, t_var)


# ----------------------------------------------------------------------------- dropout

def test_dropout_p0_and_eval_are_identity(key):
    x = jnp.arange(12.0).reshape(3, 4)
    assert F.dropout(x, 0.0, key=key) is x
    assert F.dropout(x, 0.0) is x  # no key needed when nothing is dropped
    assert F.dropout(x, 0.7, training=False) is x


def test_dropout_p1_gives_zeros(key):
    y = F.dropout(jnp.ones((5, 5)), 1.0, key=key)
    np.testing.assert_array_equal(np.asarray(y), np.zeros((5, 5)))


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_rate_and_scale(p):
    n = 200_000
    y = np.asarray(F.dropout(jnp.full((n,), 2.0), p, key=jax.random.key(42)))
    kept = y != 0
    # Binomial(n, 1-p): 5 standard deviations.
    assert abs(kept.mean() - (1 - p)) < 5 * np.sqrt(p * (1 - p) / n)
    np.testing.assert_allclose(y[kept], 2.0 / (1 - p), rtol=1e-6)


def test_dropout_same_key_same_mask_and_new_key_new_mask():
    x = jnp.ones((64, 64))
    a = F.dropout(x, 0.5, key=jax.random.key(1))
    b = F.dropout(x, 0.5, key=jax.random.key(1))
    c = F.dropout(x, 0.5, key=jax.random.key(2))
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert np.any(np.asarray(a) != np.asarray(c))


def test_dropout_jit_equals_eager():
    x = jnp.linspace(-1, 1, 100)
    k = jax.random.key(3)
    np.testing.assert_array_equal(
        np.asarray(jax.jit(lambda x, k: F.dropout(x, 0.3, key=k))(x, k)),
        np.asarray(F.dropout(x, 0.3, key=k)))


@pytest.mark.parametrize("shape", [(8, 16, 12, 12), (5, 7), ()])
def test_dropout_mask_is_jaxs_bernoulli_of_the_inputs_shape(shape):
    # The mask is drawn flat (a smaller program to compile) and must be the shaped draw.
    key, x = jax.random.key(5), jnp.ones(shape)
    keep = jax.random.bernoulli(key, 0.7, shape)
    expected = jnp.where(keep, x * (1.0 / (1.0 - 0.3)), 0.0)
    np.testing.assert_array_equal(F.dropout(x, 0.3, key=key), expected)
    np.testing.assert_array_equal(jax.jit(lambda k, v: F.dropout(v, 0.3, key=k))(key, x),
                                  expected)


def test_dropout_gradient_is_the_mask(key):
    x = jnp.ones(1000)
    y, vjp = jax.vjp(lambda x: F.dropout(x, 0.25, key=key), x)
    (grad,) = vjp(jnp.ones(1000))
    np.testing.assert_allclose(np.asarray(grad), np.asarray(y))


# ------------------------------------------------------------------------------ errors

ERRORS = [
    (lambda: F.dropout(jnp.ones(3), 0.5), ValueError,
     "dropout: training with p=0.5 needs a PRNG key; pass key="),
    (lambda: F.dropout(jnp.ones(3), 1.5), ValueError,
     "dropout probability has to be between 0 and 1, but got 1.5"),
    (lambda: F.conv2d(jnp.ones((2, 3, 8, 8)), jnp.ones((4, 2, 3, 3))), ValueError,
     "conv2d: weight of shape (4, 2, 3, 3) with groups=1 expects input with 2 channels, "
     "got input of shape (2, 3, 8, 8) (3 channels)"),
    (lambda: F.conv2d(jnp.ones((3, 8)), jnp.ones((4, 3, 3, 3))), ValueError,
     "conv2d: expected 3-D or 4-D input [N, C, H, W] (or [C, H, W]), got shape (3, 8)"),
    (lambda: F.conv2d(jnp.ones((1, 2, 8, 8)), jnp.ones((3, 1, 3, 3)), groups=2), ValueError,
     "has 3 output channels, which is not divisible by groups=2"),
    (lambda: F.conv2d(jnp.ones((1, 1, 8, 8)), jnp.ones((1, 1, 3, 3)), stride=2,
                      padding="same"), ValueError,
     "padding='same' is not supported for strided convolutions"),
    (lambda: F.conv2d(jnp.ones((1, 1, 8, 8)), jnp.ones((1, 1, 3, 3)), padding="full"),
     ValueError, "padding must be an int, a pair of ints, 'valid' or 'same', got 'full'"),
    (lambda: F.conv2d(jnp.ones((1, 1, 2, 2)), jnp.ones((1, 1, 3, 3))), ValueError,
     "is larger than the padded input"),
    (lambda: F.conv2d(jnp.ones((1, 1, 8, 8)), jnp.ones((1, 1, 3, 3)), stride=(1, 2, 3)),
     TypeError, "conv2d: stride must be an int or a pair of ints, got (1, 2, 3)"),
    (lambda: F.max_pool2d(jnp.ones((1, 1, 8, 8)), 2, padding=2), ValueError,
     "max_pool2d: pad should be at most half of effective kernel size, but got pad=2, "
     "kernel_size=2 and dilation=1"),
    (lambda: F.max_pool2d(jnp.ones((1, 1, 2, 2)), 3), ValueError,
     "max_pool2d: input of shape (1, 1, 2, 2) is too small"),
    (lambda: F.avg_pool2d(jnp.ones((8, 8)), 2), ValueError,
     "avg_pool2d: expected 3-D or 4-D input"),
    (lambda: F.adaptive_avg_pool2d(jnp.ones((1, 1, 8, 8)), (0, 2)), ValueError,
     "output_size entries must be positive ints or None, got (0, 2)"),
    (lambda: F.softmax(jnp.ones((2, 3)), 2), ValueError,
     "softmax: dim out of range (expected to be in range of [-2, 1], but got 2)"),
    (lambda: F.flatten(jnp.ones((2, 3, 4)), 2, 1), ValueError,
     "flatten: start_dim (2) cannot come after end_dim (1)"),
    (lambda: F.batch_norm(jnp.ones((1, 3)), jnp.zeros(3), jnp.ones(3), training=True),
     ValueError, "expected more than 1 value per channel when training, got input of "
                 "shape (1, 3)"),
    (lambda: F.batch_norm(jnp.ones((4, 3)), jnp.zeros(2), jnp.ones(2)), ValueError,
     "batch_norm: expected running_mean of shape (3,)"),
    (lambda: F.batch_norm(jnp.ones((4, 3)), None, None), ValueError,
     "running_mean and running_var are needed when not training"),
    (lambda: F.batch_norm(jnp.ones((4, 3)), jnp.zeros(3), jnp.ones(3), training=True,
                          momentum=None), ValueError,
     "momentum=None (cumulative average) needs num_batches_tracked="),
]


@pytest.mark.parametrize("call, error, message", ERRORS,
                         ids=[m[:40] for _, _, m in ERRORS])
def test_bad_input_raises_clear_error(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()
