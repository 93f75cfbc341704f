"""fnnet.interop.to_nnx / from_nnx: Flax NNX modules that compute what fnnet's models do."""

from __future__ import annotations

import functools
import math
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from fnnet import losses, nn
from fnnet.interop import from_nnx, to_nnx
from fnnet.models import MLP, LeNet5, LinearRegression, ResNet18
from fnnet.nn.errors import StateDictError

# The bridge's promise: outputs within 1e-5 of fnnet's.
TOL = 1e-5

# name -> (model factory, input shape); ResNet-18 kept small: batch 2, small images.
MODELS = {
    "mlp": (lambda: MLP((48, 32, 16, 10)), (2, 3, 4, 4)),
    "mlp_tanh": (lambda: MLP((12, 7, 5), activation="tanh"), (2, 12)),
    "mlp_linear": (lambda: MLP((12, 7, 5), activation=None), (2, 12)),
    "lenet5": (lambda: LeNet5(num_classes=10, in_channels=3), (2, 3, 32, 32)),
    "resnet18_cifar": (lambda: ResNet18(num_classes=10, stem="cifar"), (2, 3, 16, 16)),
    "resnet18_imagenet": (lambda: ResNet18(num_classes=7), (2, 3, 32, 32)),
}


def random_trees(net: nn.Module, seed: int):
    """Parameters and BatchNorm statistics drawn with numpy in the shapes ``init`` gives
    (statistics away from init's 0 and 1, a count of 5), without compiling ``init``."""
    rng = np.random.default_rng(seed)

    def draw(path, leaf):
        name = jax.tree_util.keystr(path[-1:])
        if "num_batches_tracked" in name:
            return jnp.full(leaf.shape, 5, leaf.dtype)
        if "running_var" in name or (leaf.ndim == 1 and "weight" in name):
            return jnp.asarray(rng.uniform(0.5, 1.5, leaf.shape), leaf.dtype)
        if leaf.ndim == 1:  # biases and running means
            return jnp.asarray(0.1 * rng.standard_normal(leaf.shape), leaf.dtype)
        fan_in = int(np.prod(leaf.shape[1:]))
        return jnp.asarray(rng.standard_normal(leaf.shape) / np.sqrt(fan_in), leaf.dtype)

    return jax.tree_util.tree_map_with_path(draw, jax.eval_shape(net.init, jax.random.key(0)))


class Case:
    """A model with random trees, an input and fnnet's outputs (computed when asked)."""

    def __init__(self, name: str) -> None:
        factory, shape = MODELS[name]
        self.net = factory()
        # Drawn flat and reshaped (the same values): a rank-4 draw compiles for a second.
        self.x = jax.random.normal(jax.random.key(1), (math.prod(shape),)).reshape(shape)
        self.params, self.state = random_trees(self.net, seed=len(name))
        self._apply = jax.jit(self.net.apply, static_argnames="train")

    @functools.cached_property
    def eval_out(self):
        return self._apply(self.params, self.state, self.x, train=False)[0]

    @functools.cached_property
    def train_out_and_state(self):
        return self._apply(self.params, self.state, self.x, train=True)


@pytest.fixture(scope="module")
def cases():
    made: dict[str, Case] = {}

    def get(name: str) -> Case:
        if name not in made:
            made[name] = Case(name)
        return made[name]

    return get


def max_diff(a, b) -> float:
    return float(jnp.max(jnp.abs(jnp.asarray(a) - jnp.asarray(b))))


@nnx.jit
def call(module, x):
    return module(x)


@pytest.mark.parametrize("name", list(MODELS))
def test_eval_outputs_equal(cases, name):
    case = cases(name)
    module = to_nnx(case.net, case.params, case.state)
    assert max_diff(call(module, case.x), case.eval_out) <= TOL


@pytest.mark.parametrize("name", ["mlp", "lenet5", "resnet18_cifar"])
def test_train_mode_outputs_and_running_statistics(cases, name):
    case = cases(name)
    module = to_nnx(case.net, case.params, case.state, train=True)
    out, new_state = case.train_out_and_state
    assert max_diff(call(module, case.x), out) <= TOL
    if name != "resnet18_cifar":
        return
    # Flax's BatchNorm updated its statistics in place: the mean as fnnet's; the
    # variance with the biased batch variance where fnnet (as PyTorch) uses the
    # unbiased one, n / (n - 1) larger for n = 2 * 16 * 16 values per channel.
    bn, old, new = module.nhwc.bn1, case.state["bn1"], new_state["bn1"]
    assert max_diff(bn.mean.get_value(), new["running_mean"]) <= 1e-6
    n, m = 2 * 16 * 16, 0.1
    unbiased = (new["running_var"] - (1 - m) * old["running_var"]) / m
    expected = (1 - m) * old["running_var"] + m * unbiased * (n - 1) / n
    assert max_diff(bn.var.get_value(), expected) <= 1e-5
    assert max_diff(bn.var.get_value(), new["running_var"]) > 1e-5
    # Flax does not count batches: the count is carried, not advanced.
    assert int(bn.num_batches_tracked.get_value()) == int(old["num_batches_tracked"])


@pytest.mark.parametrize("name", list(MODELS))
def test_round_trip_returns_identical_trees(cases, name):
    case = cases(name)
    params, state = from_nnx(case.net, to_nnx(case.net, case.params, case.state))
    for before, after in ((case.params, params), (case.state, state)):
        assert jax.tree.structure(after) == jax.tree.structure(before)
        for a, b in zip(jax.tree.leaves(after), jax.tree.leaves(before), strict=True):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_layouts_are_flax_ones(cases):
    case = cases("lenet5")
    lenet = to_nnx(case.net, case.params, case.state).nhwc
    assert lenet.conv1.kernel.get_value().shape == (5, 5, 3, 6)  # HWIO
    np.testing.assert_array_equal(lenet.conv1.kernel.get_value(),
                                  np.transpose(case.params["conv1"]["weight"], (2, 3, 1, 0)))
    np.testing.assert_array_equal(lenet.fc2.kernel.get_value(), case.params["fc2"]["weight"].T)
    # The NHWC model runs on channels-last input directly.
    nhwc_x = jnp.transpose(case.x, (0, 2, 3, 1))
    assert max_diff(call(lenet, nhwc_x), case.eval_out) <= TOL


def test_a_step_trained_in_flax_matches_fnnet(cases):
    """One SGD step through nnx.Optimizer, read back, equals the same step in fnnet."""
    case = cases("lenet5")
    labels = jnp.array([3, 7])
    tx = optax.sgd(0.1)

    @jax.jit
    def fnnet_step(params):
        def loss(params):
            logits, _ = case.net.apply(params, case.state, case.x, train=True)
            return losses.cross_entropy(logits, labels)

        updates, _ = tx.update(jax.grad(loss)(params), tx.init(params), params)
        return optax.apply_updates(params, updates)

    expected = fnnet_step(case.params)

    module = to_nnx(case.net, case.params, case.state, train=True)
    optimizer = nnx.Optimizer(module, tx, wrt=nnx.Param)

    @nnx.jit
    def flax_step(module, optimizer, x, y):
        grads = nnx.grad(lambda m: losses.cross_entropy(m(x), y))(module)
        optimizer.update(module, grads)

    flax_step(module, optimizer, case.x, labels)
    params, _ = from_nnx(case.net, module)
    for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(expected), strict=True):
        assert max_diff(a, b) <= 1e-6
    assert max_diff(params["fc1"]["weight"], case.params["fc1"]["weight"]) > 0


def test_unsupported_model_is_a_type_error():
    net = LinearRegression(3, 1)
    params, state = net.init(jax.random.key(0))
    with pytest.raises(TypeError, match=r"to_nnx: model must be an fnnet\.models\.MLP, "
                                        r"fnnet\.models\.LeNet5 or fnnet\.models\.ResNet, "
                                        r"got LinearRegression; other models have no Flax "
                                        r"NNX form here") as error:
        to_nnx(net, params, state)
    assert isinstance(error.value, NotImplementedError)  # what fnnet does not implement


def test_a_subclass_is_refused_as_its_forward_may_differ(cases):
    class Wider(MLP):
        def forward(self, m, x):
            return 2 * super().forward(m, x)

    case = cases("mlp")
    with pytest.raises(TypeError, match=r"to_nnx: model must be .* got Wider"):
        to_nnx(Wider((48, 32, 16, 10)), case.params, case.state)


def test_numpy_trees_convert(cases):
    case = cases("lenet5")
    params, state = jax.tree.map(np.asarray, (case.params, case.state))
    module = to_nnx(case.net, params, state)
    assert max_diff(call(module, case.x), case.eval_out) <= TOL


def test_trees_that_do_not_fit_name_the_entries(cases):
    case = cases("mlp")
    params = dict(case.params, fc2={"weight": case.params["fc2"]["weight"]})
    with pytest.raises(StateDictError, match=r'to_nnx: params and state do not fit MLP: '
                                             r'missing params entry "fc2.bias"'):
        to_nnx(case.net, params, case.state)


def test_from_nnx_checks_the_module(cases):
    case = cases("mlp")
    module = to_nnx(case.net, case.params, case.state)
    with pytest.raises(TypeError, match=r"from_nnx: module must be the LeNet5 that to_nnx "
                                        r"builds for LeNet5, got MLP"):
        from_nnx(LeNet5(), module)
    with pytest.raises(StateDictError, match=r"from_nnx: the module's weights do not fit "
                                             r"MLP: .*params entry \"fc1.weight\" has shape "
                                             r"\(32, 48\), expected \(32, 40\)"):
        from_nnx(MLP((40, 32, 16, 10)), module)


def test_cumulative_batch_norm_is_refused():
    net = ResNet18(num_classes=2, stem="cifar")
    net.bn1 = nn.BatchNorm2d(64, momentum=None)
    params, state = jax.eval_shape(net.init, jax.random.key(0))
    params, state = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), (params, state))
    with pytest.raises(ValueError, match=r"to_nnx: BatchNorm2d\(64.*momentum=None.*"
                                         r"cumulative average \(momentum=None\), which "
                                         r"Flax's BatchNorm cannot express"):
        to_nnx(net, params, state)


def test_importing_fnnet_interop_does_not_import_flax():
    code = ("import sys, fnnet, fnnet.interop, fnnet.models; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'flax'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
