"""state_dict / load_state_dict: PyTorch's names and order, exact round trips, errors."""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import assert_close

import fnnet.nn
from fnnet.nn.state_dict import StateDictError


def _make(nn):
    """One model, in fnnet or torch: a BatchNorm without parameters sits between two
    layers with parameters, and there are more than ten Sequential children."""
    return nn.Sequential(
        nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2, affine=False), nn.Conv2d(2, 3, 3),
        nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.1), nn.Flatten(),
        nn.Linear(12, 8), nn.Tanh(), nn.Linear(8, 6), nn.BatchNorm1d(6), nn.Linear(6, 2),
    )


@pytest.fixture(scope="module")
def model():
    net = _make(fnnet.nn)
    params, state = jax.jit(net.init)(jax.random.key(0))  # one compile for all layers
    return net, params, state


def test_names_and_order_match_torch(model, torch):
    net, params, state = model
    expected = list(_make(torch.nn).state_dict())
    assert list(fnnet.nn.state_dict(params, state, net)) == expected
    # Trees rebuilt by JAX (jit, tree.map, ...) have sorted keys; the order comes back.
    rebuilt = jax.tree.map(lambda x: x, (params, state))
    assert list(rebuilt[0]["0"]) == ["bias", "weight"]
    assert list(fnnet.nn.state_dict(*rebuilt, net)) == expected
    # Without the module: PyTorch's order here too (no parameter-free child between).
    simple = fnnet.nn.Sequential(*[fnnet.nn.Linear(2, 2) for _ in range(11)])
    p, s = jax.eval_shape(simple.init, jax.random.key(0))
    assert list(fnnet.nn.state_dict(p, s)) == list(
        torch.nn.Sequential(*[torch.nn.Linear(2, 2) for _ in range(11)]).state_dict())


def test_round_trip_is_exact(model):
    net, params, state = model
    flat = fnnet.nn.state_dict(params, state, net)
    loaded_params, loaded_state = fnnet.nn.load_state_dict(net, flat)
    assert jax.tree.structure((loaded_params, loaded_state)) == jax.tree.structure(
        (params, state))
    for a, b in zip(jax.tree.leaves((params, state)),
                    jax.tree.leaves((loaded_params, loaded_state)), strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # Through numpy (as a checkpoint file would store it) too.
    as_numpy = {k: np.asarray(v) for k, v in flat.items()}
    again = fnnet.nn.state_dict(*fnnet.nn.load_state_dict(net, as_numpy), net)
    for name, value in as_numpy.items():
        np.testing.assert_array_equal(np.asarray(again[name]), value, name)


def test_loads_torch_tensors_and_computes_what_torch_computes(model, torch):
    net = model[0]
    torch.manual_seed(0)
    t_net = _make(torch.nn)
    with torch.no_grad():  # non-trivial buffers, so eval mode really uses them
        for name, tensor in t_net.state_dict().items():
            if "running_var" in name:
                tensor.uniform_(0.5, 2.0)
            elif "running_mean" in name:
                tensor.normal_()
            elif "num_batches" in name:
                tensor.fill_(7)
    params, state = fnnet.nn.load_state_dict(net, t_net.state_dict())  # torch tensors
    assert int(state["1"]["num_batches_tracked"]) == 7
    x = np.random.default_rng(0).standard_normal((4, 1, 8, 8)).astype(np.float32)
    y, _ = net.apply(params, state, x)
    assert_close(y, t_net.eval()(torch.tensor(x)))
    # And back: torch loads fnnet's state_dict (strict) and agrees.
    t_copy = _make(torch.nn)
    t_copy.load_state_dict(
        {k: torch.from_numpy(np.array(v)) for k, v in
         fnnet.nn.state_dict(params, state, net).items()})
    assert_close(t_copy.eval()(torch.tensor(x)), y)


def test_every_problem_is_listed(model):
    net, params, state = model
    flat = dict(fnnet.nn.state_dict(params, state, net))
    del flat["0.weight"], flat["3.running_var"]
    flat["8.weight"] = np.zeros((8, 10), np.float32)
    flat["12.bias"] = np.zeros((3,), np.float32)
    flat["fc9.weight"] = np.zeros(2)
    flat["13.bias"] = np.zeros(2)
    message = (
        "Error(s) in loading state_dict for Sequential:\n"
        '\tMissing key(s) in state_dict: "0.weight", "3.running_var".\n'
        '\tUnexpected key(s) in state_dict: "fc9.weight", "13.bias".\n'
        "\tsize mismatch for 8.weight: copying a param with shape (8, 10) from checkpoint, "
        "the shape in current model is (8, 12).\n"
        "\tsize mismatch for 12.bias: copying a param with shape (3,) from checkpoint, "
        "the shape in current model is (2,)."
    )
    with pytest.raises(StateDictError) as info:
        fnnet.nn.load_state_dict(net, flat)
    assert str(info.value) == message
    # Catchable as either KeyError (names) or ValueError (shapes).
    assert isinstance(info.value, KeyError) and isinstance(info.value, ValueError)


def test_non_strict_fills_missing_from_init_but_still_checks_shapes(model):
    net, params, state = model
    flat = dict(fnnet.nn.state_dict(params, state, net))
    kept = {k: jnp.zeros_like(v) for k, v in flat.items() if not k.startswith("8.")}
    kept["unused.weight"] = np.ones(3)
    loaded = fnnet.nn.state_dict(*fnnet.nn.load_state_dict(net, kept, strict=False), net)
    assert list(loaded) == list(flat)
    for name, value in flat.items():
        expected = value if name.startswith("8.") else np.zeros_like(value)
        np.testing.assert_array_equal(np.asarray(loaded[name]), np.asarray(expected), name)
    kept["10.weight"] = np.zeros((6, 9), np.float32)
    with pytest.raises(ValueError, match=re.escape(
            "Error(s) in loading state_dict for Sequential:\n\tsize mismatch for 10.weight: "
            "copying a param with shape (6, 9) from checkpoint, the shape in current model "
            "is (6, 8).")):
        fnnet.nn.load_state_dict(net, kept, strict=False)


def test_values_are_cast_to_the_layer_dtypes():
    layer = fnnet.nn.BatchNorm1d(2)
    params, state = fnnet.nn.load_state_dict(layer, {
        "weight": np.array([1.5, 2.0]), "bias": [0.0, 1.0],  # float64, and a list
        "running_mean": np.zeros(2), "running_var": np.ones(2, np.float16),
        "num_batches_tracked": np.array(12, np.int64)})
    assert params["weight"].dtype == jnp.float32 and params["bias"].dtype == jnp.float32
    assert state["running_var"].dtype == jnp.float32
    assert state["num_batches_tracked"].dtype == layer.init(jax.random.key(0))[1][
        "num_batches_tracked"].dtype
    assert int(state["num_batches_tracked"]) == 12


def test_bad_arguments_raise_clear_errors():
    layer = fnnet.nn.Linear(2, 1)
    with pytest.raises(TypeError, match="load_state_dict: state_dict must be a mapping of "
                                        "names to arrays, got list"):
        fnnet.nn.load_state_dict(layer, [np.zeros((1, 2))])
    with pytest.raises(TypeError, match=r"load_state_dict: module must be an fnnet.nn.Module "
                                        r"\(its init gives the names and shapes\), got str"):
        fnnet.nn.load_state_dict("fc", {"weight": np.zeros((1, 2))})
    with pytest.raises(TypeError, match="load_state_dict: 'weight' must be an array, got "
                                        "object"):
        fnnet.nn.load_state_dict(layer, {"weight": object(), "bias": np.zeros(1)})
    with pytest.raises(TypeError, match="state_dict: params must be nested dicts of arrays, "
                                        "got list at 'fc1'"):
        fnnet.nn.state_dict({"fc1": [1, 2]})
    with pytest.raises(ValueError, match="state_dict: 'w' is both a parameter and a state "
                                         "entry"):
        fnnet.nn.state_dict({"w": jnp.zeros(1)}, {"w": jnp.zeros(1)})


def test_a_module_that_does_not_fit_the_trees_is_named(model):
    net, params, state = model
    # PyTorch's state_dict cannot disagree with its module; here the trees may belong to
    # another model, and the module only orders them.
    other = fnnet.nn.Sequential(fnnet.nn.Conv2d(1, 4, 3))
    with pytest.raises(StateDictError, match=re.escape(
            'state_dict: the trees do not fit Sequential (another model\'s?): unexpected '
            '"10.weight", ') + '.*' + re.escape(
            '; "0.weight" of shape (2, 1, 3, 3), the module\'s (4, 1, 3, 3); "0.bias" of '
            "shape (2,), the module's (4,)")):
        fnnet.nn.state_dict(params, state, other)
    with pytest.raises(StateDictError, match='missing "1.running_mean", "1.running_var"'):
        fnnet.nn.state_dict(params, {}, net)
    # Without a state, the parameters alone (gradients) are named in the module's order.
    assert list(fnnet.nn.state_dict(params, None, net)) == [
        name for name in fnnet.nn.state_dict(params, state, net) if "running" not in name
        and "num_batches" not in name]
    with pytest.raises(TypeError, match="state_dict: module must be an fnnet.nn.Module "
                                        r"\(it gives PyTorch's order\), got str"):
        fnnet.nn.state_dict(params, state, "net")


def test_loaded_trees_do_not_share_memory_with_the_given_arrays(torch):
    # A PyTorch state dict taken as numpy views (``.numpy()``) shares the tensors'
    # memory; PyTorch training on in place must not change the loaded params.
    layer = fnnet.nn.BatchNorm1d(3)
    t_layer = torch.nn.BatchNorm1d(3)
    views = {name: tensor.numpy() for name, tensor in t_layer.state_dict().items()}
    params, state = fnnet.nn.load_state_dict(layer, views)
    with torch.no_grad():
        t_layer.weight.add_(1.0)
    t_layer.train()(torch.ones(4, 3) * torch.arange(4.0)[:, None])  # running stats in place
    np.testing.assert_array_equal(np.asarray(params["weight"]), np.ones(3))
    np.testing.assert_array_equal(np.asarray(state["running_mean"]), np.zeros(3))


def test_a_wrapped_models_prefix_is_named(torch):
    # A DataParallel (or DDP, torch.compile) checkpoint: every name under "module."
    layer = fnnet.nn.Sequential(fnnet.nn.Linear(2, 3), fnnet.nn.Linear(3, 1))
    wrapped = torch.nn.DataParallel(torch.nn.Sequential(torch.nn.Linear(2, 3),
                                                        torch.nn.Linear(3, 1)))
    with pytest.raises(StateDictError, match=re.escape(
            "Every unexpected key is a missing one under the prefix 'module.' (as "
            "DataParallel, DistributedDataParallel or torch.compile save them): strip it, "
            "e.g. {k.removeprefix('module.'): v for k, v in state_dict.items()}.")):
        fnnet.nn.load_state_dict(layer, wrapped.state_dict())
    params, _ = fnnet.nn.load_state_dict(layer, {k.removeprefix("module."): v for k, v
                                                 in wrapped.state_dict().items()})
    with pytest.raises(StateDictError) as other:  # another model: no such line
        fnnet.nn.load_state_dict(layer, {"module.0.weight": np.zeros((3, 2))})
    assert "prefix" not in str(other.value)
