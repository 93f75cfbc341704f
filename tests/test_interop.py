"""fnnet.interop: PyTorch state dicts and optimizer state in and out, exactly."""

from __future__ import annotations

import os
import re
import stat

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from fnnet import losses, nn, optim
from fnnet.interop import (
    from_torch_optimizer_state,
    from_torch_state_dict,
    read_state_dict,
    save_state_dict,
    to_torch_optimizer_state,
    to_torch_state_dict,
)
from fnnet.models import LeNet5
from fnnet.nn import StateDictError
from fnnet.nn.host import host_array, torch_tensor

pytestmark = pytest.mark.torch


def _net(torch_nn):
    """A small model with every kind of entry: conv, BatchNorm buffers, linear.

    No bias before a BatchNorm: its gradient would be rounding noise, which Adam
    scales up to full-size steps.
    """
    return torch_nn.Sequential(
        torch_nn.Conv2d(1, 4, 3, bias=False), torch_nn.BatchNorm2d(4), torch_nn.ReLU(),
        torch_nn.Flatten(), torch_nn.Linear(4 * 6 * 6, 5, bias=False),
        torch_nn.BatchNorm1d(5), torch_nn.Linear(5, 3))


@pytest.fixture
def pair(torch):
    """(torch model after a few training steps, its fnnet twin)."""
    torch.manual_seed(0)
    model = _net(torch.nn)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):  # move the BatchNorm statistics away from their initial values
        opt.zero_grad()
        model(torch.randn(6, 1, 8, 8)).sum().backward()
        opt.step()
    return model, _net(nn)


def _bitwise_equal(a, b, what=""):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, what
    assert a.tobytes() == b.tobytes(), what


def test_torch_to_fnnet_to_torch_is_bitwise(torch, pair):
    model, net = pair
    original = model.state_dict()
    params, state = from_torch_state_dict(net, original)
    back = to_torch_state_dict(params, state, net)
    assert list(back) == list(original)
    for name, value in original.items():
        assert back[name].dtype == value.numpy().dtype, name  # int64 num_batches_tracked
        _bitwise_equal(back[name], value.numpy(), name)
    # Loadable by torch as it is.
    fresh = _net(torch.nn)
    fresh.load_state_dict(to_torch_state_dict(params, state, net, tensors=True))
    for name, value in fresh.state_dict().items():
        assert torch.equal(value, original[name]), name


def test_fnnet_to_torch_to_fnnet_is_bitwise(key):
    net = _net(nn)
    params, state = jax.jit(net.init)(key)
    params = jax.tree.map(lambda p: p + 0.5, params)  # away from BatchNorm's ones and zeros
    state = jax.tree.map(lambda s: s + 3, state)
    again, again_state = from_torch_state_dict(net, to_torch_state_dict(params, state, net))
    assert jax.tree.structure((again, again_state)) == jax.tree.structure((params, state))
    for a, b in zip(jax.tree.leaves((params, state)), jax.tree.leaves((again, again_state)),
                    strict=True):
        assert a.dtype == b.dtype
        _bitwise_equal(a, b)


def test_loaded_params_do_not_alias_torch_memory(torch, pair):
    model, net = pair
    params, _ = from_torch_state_dict(net, model.state_dict())
    before = np.array(params["0"]["weight"])
    with torch.no_grad():
        model[0].weight.add_(1.0)  # an optimizer step in torch changes tensors in place
    np.testing.assert_array_equal(params["0"]["weight"], before)


def test_same_outputs_as_torch_after_loading(torch, pair):
    model, net = pair
    params, state = from_torch_state_dict(net, model.state_dict())
    x = np.random.default_rng(0).standard_normal((4, 1, 8, 8)).astype(np.float32)
    with torch.no_grad():
        expected = model.eval()(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(net.apply(params, state, x)[0], expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("suffix", [".pth", ".pt", ".safetensors"])
def test_files_round_trip(torch, pair, tmp_path, suffix):
    model, net = pair
    path = tmp_path / f"weights{suffix}"
    if suffix == ".safetensors":
        save_state_dict(model.state_dict(), path)
    else:
        torch.save(model.state_dict(), path)
    params, state = from_torch_state_dict(net, path)
    for name, value in to_torch_state_dict(params, state, net).items():
        _bitwise_equal(value, model.state_dict()[name].numpy(), name)
    # And back out through fnnet's writer, read by torch with weights_only.
    out = save_state_dict(to_torch_state_dict(params, state, net), tmp_path / f"b{suffix}")
    reread = read_state_dict(out)
    for name, value in model.state_dict().items():
        _bitwise_equal(np.asarray(reread[name]), value.numpy(), name)


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_saved_files_have_the_umask_permissions_as_torch_saves(torch, tmp_path, suffix):
    # safetensors' own writer leaves its file 0600 (unreadable by the group)
    old = os.umask(0o022)
    try:
        torch.save({"w": torch.ones(2)}, tmp_path / "theirs.pth")
        ours = save_state_dict({"w": np.ones(2, np.float32)}, tmp_path / f"ours{suffix}")
    finally:
        os.umask(old)
    assert stat.S_IMODE(ours.stat().st_mode) == stat.S_IMODE(
        (tmp_path / "theirs.pth").stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["theirs.pth",
                                                                 f"ours{suffix}"])


def test_bfloat16_weights_and_optimizer_state_convert_bitwise(torch, pair, tmp_path):
    """A bfloat16 model (``model.to(torch.bfloat16)``) in and out of fnnet: torch's
    ``.numpy()`` and ``from_numpy`` refuse bfloat16, so it travels by its bits."""
    model, net = pair
    model = model.to(torch.bfloat16)
    opt = torch.optim.Adam(model.parameters())
    model(torch.ones(2, 1, 8, 8, dtype=torch.bfloat16)).sum().backward()
    opt.step()
    original = model.state_dict()
    torch.save(original, tmp_path / "bf16.pth")
    for source in (original, tmp_path / "bf16.pth"):  # into the float32 model, exactly
        params, state = from_torch_state_dict(net, source)
        for name, value in to_torch_state_dict(params, state, net).items():
            _bitwise_equal(value, original[name].float().numpy() if value.dtype == np.float32
                           else original[name].numpy(), name)
    # numpy casts: a jnp cast would compile once per shape
    params = jax.tree.map(lambda p: np.asarray(p).astype(jnp.bfloat16), params)
    state = jax.tree.map(lambda s: np.asarray(s).astype(jnp.bfloat16)
                         if s.dtype == np.float32 else s, state)
    back = to_torch_state_dict(params, state, net, tensors=True)
    for suffix in (".pth", ".safetensors"):  # torch tensors and ml_dtypes arrays alike
        reread = read_state_dict(save_state_dict(back, tmp_path / f"out{suffix}"))
        also = read_state_dict(save_state_dict(to_torch_state_dict(params, state, net),
                                               tmp_path / f"np{suffix}"))
        for name, value in original.items():
            for got in (back[name], reread[name], also[name]):
                got = torch_tensor(host_array(got))  # torch tensors, ml_dtypes arrays
                assert got.dtype == value.dtype and torch.equal(got, value), (suffix, name)
    opt_state = from_torch_optimizer_state(net, params, optim.Adam(), opt.state_dict())
    assert jax.tree.leaves(opt_state["adam"].mu)[0].dtype == "bfloat16"
    again = to_torch_optimizer_state(net, params, opt_state, tensors=True)
    for index, entry in opt.state_dict()["state"].items():
        for key, value in entry.items():
            assert torch.equal(again["state"][index][key], value), (index, key)


def test_checkpoint_wrapping_the_state_dict_is_unwrapped(torch, pair, tmp_path):
    model, net = pair
    torch.save({"epoch": 3, "state_dict": model.state_dict()}, tmp_path / "ckpt.pth")
    params, _ = from_torch_state_dict(net, tmp_path / "ckpt.pth")
    _bitwise_equal(params["6"]["bias"], model[6].bias.detach().numpy())


class _Evil:
    def __reduce__(self):
        return (os.getcwd, ())


def test_non_weights_only_pickle_is_refused(torch, pair, tmp_path):
    model, net = pair
    path = tmp_path / "evil.pth"
    torch.save({**model.state_dict(), "payload": _Evil()}, path)
    with pytest.raises(ValueError, match=r"evil\.pth: refused to load: the file is not a "
                                         r"weights-only checkpoint.*GLOBAL posix\.getcwd"):
        from_torch_state_dict(net, path)


def test_file_errors(tmp_path):
    net = LeNet5()
    with pytest.raises(ValueError, match=r"expected a file ending in one of \.pt, \.pth, "
                                         r"\.bin, \.ckpt, \.safetensors, got '\.npz'"):
        from_torch_state_dict(net, tmp_path / "w.npz")
    with pytest.raises(FileNotFoundError, match="state dict file not found: .*missing.pth"):
        from_torch_state_dict(net, tmp_path / "missing.pth")


def test_bad_state_dicts_list_every_problem(torch, pair):
    model, net = pair
    sd = dict(model.state_dict())
    del sd["1.running_mean"]
    sd["9.weight"] = torch.zeros(2)
    sd["4.weight"] = torch.zeros(5, 10)
    with pytest.raises(StateDictError) as info:
        from_torch_state_dict(net, sd)
    message = str(info.value)
    assert message.startswith("Error(s) in loading state_dict for Sequential:")
    assert 'Missing key(s) in state_dict: "1.running_mean".' in message
    assert 'Unexpected key(s) in state_dict: "9.weight".' in message
    assert ("size mismatch for 4.weight: copying a param with shape (5, 10) from "
            "checkpoint, the shape in current model is (5, 144).") in message
    # KeyError and ValueError both catch it.
    with pytest.raises(KeyError):
        from_torch_state_dict(net, sd)


def test_non_strict_keeps_init_values_and_ignores_extras(torch, pair, key):
    model, net = pair
    sd = {k: v for k, v in model.state_dict().items() if not k.startswith("6.")}
    sd["head.weight"] = torch.zeros(3)
    params, _ = from_torch_state_dict(net, sd, strict=False, key=key)
    fresh, _ = net.init(key)
    _bitwise_equal(params["6"]["weight"], fresh["6"]["weight"])
    _bitwise_equal(params["0"]["weight"], model[0].weight.detach().numpy())
    bad = {**sd, "0.weight": torch.zeros(1)}
    with pytest.raises(StateDictError, match=re.escape(
            "size mismatch for 0.weight: copying a param with shape (1,)")):
        from_torch_state_dict(net, bad, strict=False)


# -- optimizer state ---------------------------------------------------------------------

OPTIMIZERS = {
    "sgd_momentum": (lambda t, p: t.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=1e-3),
                     lambda: optim.SGD(lr=0.05, momentum=0.9, weight_decay=1e-3), {
                         "lr": 0.05, "momentum": 0.9, "weight_decay": 1e-3}),
    "sgd_dampening": (lambda t, p: t.optim.SGD(p, lr=0.05, momentum=0.9, dampening=0.1),
                      lambda: optim.SGD(lr=0.05, momentum=0.9, dampening=0.1), {
                          "lr": 0.05, "momentum": 0.9, "dampening": 0.1}),
    "adam": (lambda t, p: t.optim.Adam(p, lr=1e-2),
             lambda: optim.Adam(lr=1e-2), {"lr": 1e-2}),
    "adam_amsgrad": (lambda t, p: t.optim.Adam(p, lr=1e-2, amsgrad=True),
                     lambda: optim.Adam(lr=1e-2, amsgrad=True), {"lr": 1e-2, "amsgrad": True}),
}


def _batches(torch, n):
    gen = np.random.default_rng(1)
    return [(gen.standard_normal((6, 1, 8, 8)).astype(np.float32), gen.integers(0, 3, 6))
            for _ in range(n)]


def _torch_steps(torch, model, opt, batches):
    model.train()
    for x, y in batches:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(x)),
                                                 torch.from_numpy(y))
        loss.backward()
        opt.step()


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_state_round_trips_and_resumes_like_torch(torch, pair, name):
    make_torch, make_fnnet, group = OPTIMIZERS[name]
    model, net = pair
    opt = make_torch(torch, model.parameters())
    batches = _batches(torch, 5)
    _torch_steps(torch, model, opt, batches[:3])
    torch_state = opt.state_dict()

    params, layer_state = from_torch_state_dict(net, model.state_dict())
    optimizer = make_fnnet()
    opt_state = from_torch_optimizer_state(net, params, optimizer, torch_state)
    # Exact round trip back to torch's format.
    back = to_torch_optimizer_state(net, params, opt_state, **group)
    assert back["param_groups"] == torch_state["param_groups"]
    assert sorted(back["state"]) == sorted(torch_state["state"])
    for index, entry in torch_state["state"].items():
        assert sorted(back["state"][index]) == sorted(entry)
        for key, value in entry.items():
            _bitwise_equal(back["state"][index][key], value.numpy(), f"{index}.{key}")
    # torch resumes from the converted state exactly as from its own.
    twin = _net(torch.nn)
    twin.load_state_dict(to_torch_state_dict(params, layer_state, net, tensors=True))
    twin_opt = make_torch(torch, twin.parameters())
    twin_opt.load_state_dict(to_torch_optimizer_state(net, params, opt_state, tensors=True,
                                                      **group))
    _torch_steps(torch, model, opt, batches[3:])
    _torch_steps(torch, twin, twin_opt, batches[3:])
    for key, value in model.state_dict().items():
        assert torch.equal(twin.state_dict()[key], value), key

    # fnnet resumes from the converted state as torch does, to float32 rounding.
    for x, y in batches[3:]:
        def loss_fn(p, s, x=x, y=y):
            out, s = net.apply(p, s, x, train=True)
            return losses.cross_entropy(out, y.astype(np.int32)), s

        (_, layer_state), grads = jax.value_and_grad(loss_fn, has_aux=True)(params,
                                                                           layer_state)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
    ours = to_torch_state_dict(params, layer_state, net)
    for key, value in model.state_dict().items():
        np.testing.assert_allclose(ours[key], value.numpy(), rtol=1e-4, atol=1e-6,
                                   err_msg=key)


def test_optimizer_state_before_any_step_is_empty(torch, pair):
    model, net = pair
    params, _ = from_torch_state_dict(net, model.state_dict())
    optimizer = optim.Adam(lr=1e-2)
    opt_state = from_torch_optimizer_state(
        net, params, optimizer, torch.optim.Adam(model.parameters(), lr=1e-2).state_dict())
    assert int(opt_state["adam"].count) == 0
    converted = to_torch_optimizer_state(net, params, optimizer.init(params), lr=1e-2)
    assert converted["state"] == {}
    assert converted["param_groups"] == torch.optim.Adam(model.parameters(),
                                                         lr=1e-2).state_dict()["param_groups"]


def test_optimizer_state_errors(torch, pair):
    model, net = pair
    params, _ = from_torch_state_dict(net, model.state_dict())
    adam = torch.optim.Adam(model.parameters())
    _torch_steps(torch, model, adam, _batches(torch, 1))
    with pytest.raises(ValueError, match=re.escape(
            "the torch state holds ['exp_avg', 'exp_avg_sq', 'step'], the fnnet sgd state "
            "(TraceState) needs ['momentum_buffer']")):
        from_torch_optimizer_state(net, params, optim.SGD(lr=0.1, momentum=0.9),
                                   adam.state_dict())
    state = adam.state_dict()
    state["state"][0]["exp_avg"] = torch.zeros(7)
    with pytest.raises(ValueError, match=re.escape(
            "size mismatch for exp_avg of 0.weight: copying a state with shape (7,), the "
            "parameter has shape (4, 1, 3, 3)")):
        from_torch_optimizer_state(net, params, optim.Adam(), state)
    state = adam.state_dict()
    state["param_groups"][0]["params"] = [0, 1]
    with pytest.raises(ValueError, match="the torch optimizer has 2 parameters, the model "
                                         "has 8"):
        from_torch_optimizer_state(net, params, optim.Adam(), state)
    with pytest.raises(TypeError, match=r"unknown adam param_group entries \['momentum'\]"):
        to_torch_optimizer_state(net, params, optim.Adam().init(params), momentum=0.9)
    with pytest.raises(TypeError, match="torch_state must be the dict optimizer.state_dict"):
        from_torch_optimizer_state(net, params, optim.Adam(), {"exp_avg": 1})
    # Optimizers without a conversion say so, rather than read as a momentum-free SGD.
    rmsprop = torch.optim.RMSprop(model.parameters())
    _torch_steps(torch, model, rmsprop, _batches(torch, 1))
    unsupported = ("the optimizer state ScaleByRmsState has no conversion; fnnet.optim's "
                   "SGD, Adam and AdamW states convert")
    with pytest.raises(NotImplementedError, match=re.escape(
            "from_torch_optimizer_state: " + unsupported)):
        from_torch_optimizer_state(net, params, optim.RMSprop(), rmsprop.state_dict())
    with pytest.raises(NotImplementedError, match=re.escape(
            "to_torch_optimizer_state: " + unsupported)):
        to_torch_optimizer_state(net, params, optim.RMSprop().init(params))



def test_optimizer_state_weight_decay_must_be_the_same_rule(torch, pair):
    """torch's AdamW state (decoupled decay) loaded for fnnet.optim.Adam would resume
    with L2 decay, SGD's weight_decay for an SGD built without it with none: refused.
    AdamW's state goes back to torch as AdamW's group."""
    model, net = pair
    params, _ = from_torch_state_dict(net, model.state_dict())
    adamw = torch.optim.AdamW(model.parameters(), weight_decay=0.05)
    _torch_steps(torch, model, adamw, _batches(torch, 1))
    with pytest.raises(ValueError, match=re.escape(
            "the torch optimizer has a decoupled (AdamW's) weight_decay=0.05 that the fnnet "
            "optimizer lacks")):
        from_torch_optimizer_state(net, params, optim.Adam(weight_decay=0.05),
                                   adamw.state_dict())
    opt_state = from_torch_optimizer_state(net, params, optim.AdamW(weight_decay=0.05),
                                           adamw.state_dict())
    group = to_torch_optimizer_state(net, params, opt_state, weight_decay=0.05)
    assert group["param_groups"] == adamw.state_dict()["param_groups"]
    sgd = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    _torch_steps(torch, model, sgd, _batches(torch, 1))
    with pytest.raises(ValueError, match=re.escape(
            "has an L2 (added to the gradient) weight_decay=0.001 that the fnnet optimizer "
            "lacks")):
        from_torch_optimizer_state(net, params, optim.SGD(lr=0.1, momentum=0.9),
                                   sgd.state_dict())


def test_optimizer_state_inside_inject_hyperparams(torch, pair):
    model, net = pair
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    _torch_steps(torch, model, opt, _batches(torch, 2))
    params, _ = from_torch_state_dict(net, model.state_dict())
    optimizer = optax.inject_hyperparams(optim.SGD)(lr=0.05, momentum=0.9)
    opt_state = from_torch_optimizer_state(net, params, optimizer, opt.state_dict())
    buffers = opt_state.inner_state["momentum"]
    assert int(buffers.count) == 1  # injected momentum keeps PyTorch's full rule and a count
    _bitwise_equal(buffers.momentum_buffer["0"]["weight"],
                   opt.state[model[0].weight]["momentum_buffer"].numpy())
    back = to_torch_optimizer_state(net, params, opt_state, lr=0.05, momentum=0.9)
    for index, entry in opt.state_dict()["state"].items():
        _bitwise_equal(back["state"][index]["momentum_buffer"], entry["momentum_buffer"].numpy())


def test_injected_hyperparameters_follow_torchs_param_group(torch, pair):
    """A torch run whose StepLR has decayed the rate resumes in fnnet at that rate (an
    injected lr takes the group's, as torch's load_state_dict restores it), and the
    converted state carries it back."""
    model, net = pair
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    batches = _batches(torch, 3)
    for batch in batches[:2]:
        _torch_steps(torch, model, opt, [batch])
        scheduler.step()
    params, layer_state = from_torch_state_dict(net, model.state_dict())
    optimizer = optax.inject_hyperparams(optim.SGD)(lr=0.1, momentum=0.9)
    opt_state = from_torch_optimizer_state(net, params, optimizer, opt.state_dict())
    assert float(opt_state.hyperparams["lr"]) == np.float32(0.025)
    group = to_torch_optimizer_state(net, params, opt_state)["param_groups"][0]
    assert (group["lr"], group["momentum"]) == (0.025, 0.9)
    # The next step from torch's own gradients: fnnet's at the decayed rate is torch's.
    _torch_steps(torch, model, opt, [batches[2]])
    grads, _ = from_torch_state_dict(net, {**model.state_dict(), **{
        name: p.grad for name, p in model.named_parameters()}})
    updates, _ = jax.jit(optimizer.update)(grads, opt_state, params)
    ours = to_torch_state_dict(optax.apply_updates(params, updates), None, net)
    for key, value in model.named_parameters():
        np.testing.assert_allclose(ours[key], value.detach().numpy(), rtol=1e-6, atol=1e-7,
                                   err_msg=key)


@pytest.mark.parametrize("name", [
    "float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8",
    "bool", "complex64", "uint16", "uint32", "uint64", "float8_e4m3fn", "float8_e5m2",
    "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu"])
def test_every_torch_dtype_travels_to_numpy_and_back_bit_for_bit(torch, name):
    """host_array and torch_tensor carry a tensor of each of PyTorch's dtypes, those
    numpy lacks (bfloat16, the float8 kinds) by their bits."""
    dtype = getattr(torch, name)
    tensor = torch.tensor([0.0, 1.0, 2.0, 4.0]).to(dtype)
    array = host_array(tensor)
    assert array.dtype.name == name
    back = torch_tensor(array)
    assert back.dtype == dtype
    bits = torch.uint8 if tensor.element_size() == 1 and name != "bool" else None
    assert torch.equal(back.view(bits) if bits else back, tensor.view(bits) if bits else tensor)
