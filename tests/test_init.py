"""Initial parameters and state: PyTorch's names, shapes, dtypes and distributions."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fnnet.nn
from fnnet.nn import init as initializers

stats = pytest.importorskip("scipy.stats", reason="scipy is needed for the KS tests")

# KS tests run on fixed keys, so they are deterministic; this threshold only says how
# unlikely a correct sampler must have been to fail.
P_MIN = 1e-4

SPECS = [
    "nn.Linear(400, 120)",
    "nn.Linear(7, 3, bias=False)",
    "nn.Conv2d(1, 6, 5)",
    "nn.Conv2d(16, 32, (3, 2), groups=4, bias=False)",
    "nn.BatchNorm1d(10)",
    "nn.BatchNorm2d(6, affine=False)",
    "nn.BatchNorm2d(6, track_running_stats=False)",
    "nn.BatchNorm1d(3, bias=False)",
    "nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), "
    "nn.Linear(4, 2))",
    "nn.ModuleList([nn.Linear(2, 3), nn.Dropout(), nn.BatchNorm1d(3)])",
]


@pytest.mark.parametrize("spec", SPECS)
def test_init_matches_torch_state_dict_layout(spec, torch):
    expected = eval(spec, {"nn": torch.nn}).state_dict()
    layer = eval(spec, {"nn": fnnet.nn})
    # Shapes and dtypes without drawing (random draws compile per shape; kept for the
    # distribution tests below).
    ours = fnnet.nn.state_dict(*jax.eval_shape(layer.init, jax.random.key(0)), layer)
    assert list(ours) == list(expected)  # same names, in PyTorch's order
    for name, tensor in expected.items():
        assert ours[name].shape == tuple(tensor.shape), name
        # torch's int64 num_batches_tracked is JAX's default integer (int32 unless x64).
        dtype = jax.dtypes.canonicalize_dtype(str(tensor.dtype).removeprefix("torch."))
        assert ours[name].dtype == dtype, name
    if spec.startswith("nn.BatchNorm"):  # deterministic: the same values too
        values = fnnet.nn.state_dict(*layer.init(jax.random.key(0)))
        for name, tensor in expected.items():
            np.testing.assert_array_equal(np.asarray(values[name]), tensor.numpy(), name)


@pytest.mark.parametrize("spec, fan_in", [("Linear(400, 120)", 400),
                                          ("Conv2d(16, 32, (3, 2), groups=4)", 4 * 3 * 2)])
def test_weights_and_biases_follow_torch_distribution(spec, fan_in, torch):
    """PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias."""
    layer = eval("nn." + spec, {"nn": fnnet.nn})
    params, _ = layer.init(jax.random.key(1))
    torch.manual_seed(1)
    t_layer = eval("nn." + spec, {"nn": torch.nn})
    bound = 1 / math.sqrt(fan_in)
    uniform = stats.uniform(loc=-bound, scale=2 * bound)
    for name in ("weight", "bias"):
        values = np.asarray(params[name]).ravel()
        theirs = getattr(t_layer, name).detach().numpy().ravel()
        assert np.all(np.abs(values) <= bound), name
        assert stats.kstest(values, uniform.cdf).pvalue > P_MIN, name
        assert stats.ks_2samp(values, theirs).pvalue > P_MIN, name
        # Mean 0 and variance bound^2 / 3, within 5 standard errors.
        n = values.size
        assert abs(values.mean()) < 5 * bound / math.sqrt(3 * n), name
        assert abs(values.var() / (bound**2 / 3) - 1) < 5 * math.sqrt(0.8 / n), name


def test_kaiming_normal_fan_out_matches_torch(torch):
    shape = (64, 16, 3, 3)
    ours = np.asarray(initializers.kaiming_normal_fan_out(jax.random.key(2), shape)).ravel()
    theirs = torch.empty(shape)
    torch.nn.init.kaiming_normal_(theirs, mode="fan_out", nonlinearity="relu")
    std = math.sqrt(2.0 / (64 * 9))
    assert stats.kstest(ours, stats.norm(scale=std).cdf).pvalue > P_MIN
    assert stats.ks_2samp(ours, theirs.numpy().ravel()).pvalue > P_MIN


@pytest.mark.parametrize("a", [0.0, math.sqrt(5.0), 1.0])
def test_kaiming_uniform_bound_matches_torch(a, torch):
    shape = (50, 30, 2, 2)
    ours = np.asarray(initializers.kaiming_uniform(jax.random.key(3), shape, a=a))
    theirs = torch.nn.init.kaiming_uniform_(torch.empty(shape), a=a).numpy()
    bound = math.sqrt(2.0 / (1 + a * a)) * math.sqrt(3.0 / 120)
    assert np.abs(ours).max() <= bound and np.abs(theirs).max() <= bound
    # The extremes of 6000 uniform samples come within 0.5% of the bound.
    assert np.abs(ours).max() > 0.995 * bound
    assert stats.ks_2samp(ours.ravel(), theirs.ravel()).pvalue > P_MIN


@pytest.mark.parametrize("name, kwargs", [
    ("xavier_uniform", {"gain": 1.5}), ("xavier_normal", {}),
    ("kaiming_normal", {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_normal", {"a": 0.2})])
def test_custom_initialisers_follow_torchs(name, kwargs, torch):
    # PyTorch's fans of a conv weight [out, in, kH, kW] (jax's glorot reads other axes)
    shape = (40, 12, 3, 3)
    ours = np.asarray(getattr(initializers, name)(jax.random.key(4), shape, **kwargs))
    theirs = getattr(torch.nn.init, name + "_")(torch.empty(shape), **kwargs).numpy()
    assert ours.shape == shape and ours.dtype == np.float32
    assert stats.ks_2samp(ours.ravel(), theirs.ravel()).pvalue > P_MIN
    assert abs(ours.std() / theirs.std() - 1) < 0.05


def test_gains_and_fans_are_torchs(torch):
    for nonlinearity, param in (("relu", None), ("leaky_relu", 0.2), ("leaky_relu", None),
                                ("tanh", None), ("selu", None), ("conv2d", None)):
        ours = initializers.calculate_gain(nonlinearity, param)
        theirs = torch.nn.init.calculate_gain(nonlinearity, param)
        assert ours == theirs and type(ours) is type(theirs)
    weight = torch.empty(8, 3, 5, 2)
    assert initializers.fans((8, 3, 5, 2)) == torch.nn.init._calculate_fan_in_and_fan_out(
        weight)
    with pytest.raises(ValueError, match="^Unsupported nonlinearity gelu$"):
        initializers.calculate_gain("gelu")
    with pytest.raises(ValueError, match="^Mode fan_avg not supported"):
        initializers.kaiming_normal(jax.random.key(0), (3, 3), mode="fan_avg")


def test_init_is_deterministic_and_children_get_their_own_keys():
    net = fnnet.nn.Sequential(fnnet.nn.Linear(8, 8), fnnet.nn.Linear(8, 8))
    a, _ = net.init(jax.random.key(0))
    b, _ = net.init(jax.random.key(0))
    c, _ = net.init(jax.random.key(1))
    jax.tree.map(np.testing.assert_array_equal, a, b)
    assert not np.array_equal(a["0"]["weight"], c["0"]["weight"])
    assert not np.array_equal(a["0"]["weight"], a["1"]["weight"])
    assert not np.array_equal(a["0"]["bias"], a["1"]["bias"])


def test_init_works_under_jit():
    layer = fnnet.nn.Linear(400, 120)  # the shapes drawn above: eager is cached
    eager = layer.init(jax.random.key(4))
    jitted = jax.jit(layer.init)(jax.random.key(4))
    jax.tree.map(np.testing.assert_array_equal, eager, jitted)


@pytest.mark.parametrize("partitionable", [True, False], ids=["partitionable", "classic"])
@pytest.mark.parametrize("shape", [(64, 3, 3, 3), (10, 512), (7,), (0, 4), (300, 257)])
def test_flat_draws_are_the_draws_of_the_weights_shape(shape, partitionable):
    """The initialisers draw a flat vector and reshape it (outside jit, in chunks of
    ``CHUNK`` values, (300, 257) spanning two): the values are bit for bit those of a draw
    of the weight's shape, under both of JAX's threefry bit layouts."""
    key, std, bound = jax.random.key(11), 0.7, 0.3
    with jax.threefry_partitionable(partitionable):
        expected = {
            "uniform": jax.random.uniform(key, shape, minval=-bound, maxval=bound),
            "normal": std * jax.random.normal(key, shape),
            "normal, std 1": jax.random.normal(key, shape),
            "normal, mean": 0.25 + std * jax.random.normal(key, shape),
        }
        ours = {
            "uniform": initializers.uniform(key, shape, bound),
            "normal": initializers.normal(key, shape, std),
            "normal, std 1": initializers.normal(key, shape),
            "normal, mean": initializers.normal(key, shape, std, mean=0.25),
        }
        if len(shape) >= 2 and math.prod(shape):
            fan_out = shape[0] * math.prod(shape[2:])
            expected["kaiming_normal_fan_out"] = (math.sqrt(2.0 / fan_out)
                                                  * jax.random.normal(key, shape))
            ours["kaiming_normal_fan_out"] = initializers.kaiming_normal_fan_out(key, shape)
            gain_bound = math.sqrt(2.0 / 6.0) * math.sqrt(3.0 / initializers.fan_in(shape))
            expected["kaiming_uniform"] = jax.random.uniform(key, shape, minval=-gain_bound,
                                                             maxval=gain_bound)
            ours["kaiming_uniform"] = initializers.kaiming_uniform(key, shape)
    for name, value in ours.items():
        assert value.shape == shape and value.dtype == jnp.float32, name
        assert np.asarray(value).tobytes() == np.asarray(expected[name]).tobytes(), name


def test_draws_of_one_size_class_compile_one_program_with_the_same_values():
    """Outside jit a draw of n values takes the first n of a draw of the next power of
    two: five weight sizes between 8193 and 16384 compile the threefry draw once (not
    five times) and keep the values of a draw of their own shape (as every initialiser
    does in test_flat_draws_are_the_draws_of_the_weights_shape); traced keys and other
    PRNGs draw exactly n."""
    key = jax.random.key(12)
    shapes = [(8193,), (100, 90), (16, 32, 5, 5), (3, 4097), (128, 128)]
    draws = []

    def listener(event, duration, **kwargs):
        del duration
        if event == "/jax/core/compile/backend_compile_duration":
            draws.append(str(kwargs.get("fun_name")))

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        ours = [initializers.uniform_between(key, s, -0.5, 2.0, jnp.bfloat16) for s in shapes]
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)
    assert sum("_uniform" in name for name in draws) <= 1, draws  # one per shape unrounded
    assert [(o.shape, o.dtype) for o in ours] == [(s, jnp.bfloat16) for s in shapes]
    want = jax.random.uniform(key, shapes[2], jnp.bfloat16, minval=-0.5, maxval=2.0)
    np.testing.assert_array_equal(np.asarray(ours[2], np.float32), np.asarray(want, np.float32))
    np.testing.assert_array_equal(initializers.bernoulli(key, 0.25, shapes[1]),
                                  jax.random.bernoulli(key, 0.25, shapes[1]))
    # Under jit (the key traced) and with rbg keys the draw is of the weight's size.
    program = str(jax.make_jaxpr(lambda k: initializers.normal(k, (100, 90), 0.3))(key))
    assert "9000" in program and "16384" not in program
    assert initializers._drawn(key, 9000) == 16384
    rbg = jax.random.key(12, impl="rbg")
    assert initializers._drawn(rbg, 9000) == 9000
    np.testing.assert_array_equal(initializers.uniform(rbg, (3, 5), 0.1),
                                  jax.random.uniform(rbg, (3, 5), minval=-0.1, maxval=0.1))
    assert initializers._drawn(key, initializers.MAX_ROUNDED_DRAW + 1) == \
        initializers.MAX_ROUNDED_DRAW + 1


def test_fan_in_and_bias_edge_cases():
    assert initializers.fan_in((6, 3, 5, 5)) == 75
    with pytest.raises(ValueError, match=r"fan_in: expected a weight of rank >= 2, got "
                                         r"shape \(5,\)"):
        initializers.fan_in((5,))
    # PyTorch leaves the bias bound at 0 when fan_in is 0.
    np.testing.assert_array_equal(
        np.asarray(initializers.bias_uniform(jax.random.key(0), 3, 0)), np.zeros(3))
    assert initializers.uniform(jax.random.key(0), (2,), 1.0, jnp.float16).dtype == jnp.float16


def test_norm_layers_init_compiles_nothing():
    """The ones and zeros of the norm layers are filled on the host: a model's BatchNorm
    widths (a ResNet has one per stage) add no XLA program to its first init."""
    from helpers import counting_compiles

    layers = [fnnet.nn.BatchNorm1d(37), fnnet.nn.BatchNorm2d(41, bias=False),
              fnnet.nn.BatchNorm3d(43), fnnet.nn.LayerNorm((5, 47)), fnnet.nn.RMSNorm(53)]
    key = jax.random.key(0)  # making a key compiles programs of its own
    with counting_compiles() as compiles:
        trees = [layer.init(key) for layer in layers]
    assert compiles == []
    assert trees[1][0]["weight"].shape == (41,) and "bias" not in trees[1][0]
    assert trees[2][1]["running_var"].tolist() == [1.0] * 43


def test_a_models_first_init_compiles_one_program_per_kind_of_draw():
    """Outside jit every uniform or normal draw is made in chunks by one program per
    kind and dtype, whatever the weights' sizes and shapes: weights of shapes drawn
    nowhere else compile nothing of their own."""
    from helpers import counting_compiles

    net = fnnet.nn.Sequential(
        fnnet.nn.Conv2d(5, 13, 3), fnnet.nn.BatchNorm2d(13), fnnet.nn.Conv2d(13, 17, 5),
        fnnet.nn.Flatten(), fnnet.nn.Linear(17 * 9, 11), fnnet.nn.Linear(11, 3))
    key = jax.random.key(8)
    # once per process: making keys, folding and splitting them, the uniform draw
    fnnet.nn.Sequential(fnnet.nn.Linear(2, 2)).init(key)
    with counting_compiles() as compiles:
        params, _ = net.init(key)
    assert compiles == []
    assert params["2"]["weight"].shape == (17, 13, 5, 5)
