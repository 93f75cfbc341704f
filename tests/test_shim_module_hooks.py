"""Forward hooks and pre-hooks on fnnet.torch modules, against PyTorch's: feature
extraction, hooks that change inputs or outputs (and the gradients through them),
ordering, removal, a training loop with hooks that still compiles once, and the
state-dict hooks."""

from __future__ import annotations

import numpy as np
import pytest

import fnnet.torch as ft

pytestmark = pytest.mark.torch

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 1, 12, 12)).astype(np.float32)
Y = RNG.integers(0, 3, 4)


def _cnn(t):
    t.manual_seed(0)
    nn = t.nn
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(4 * 5 * 5, 3))
    weights = np.random.default_rng(1)
    with t.no_grad():
        for p in model.parameters():
            p.copy_(t.tensor(weights.uniform(-0.3, 0.3, tuple(p.shape)).astype(np.float32)))
    return model


def _features(t):
    """Feature extraction as the tutorials do it: a dict filled by forward hooks."""
    model = _cnn(t)
    seen = {}

    def keep(name):
        def hook(module, args, output):
            seen[name] = (type(module).__name__, tuple(args[0].shape),
                          output.detach().numpy().copy())
        return hook

    handles = [model[0].register_forward_hook(keep("conv")),
               model[2].register_forward_hook(keep("pool"))]
    out = model(t.tensor(X))
    for handle in handles:
        handle.remove()
    model(t.tensor(X))  # removed: nothing more is recorded
    return seen, out.detach().numpy()


def test_forward_hooks_extract_features_as_pytorch(torch):
    theirs, t_out = _features(torch)
    ours, o_out = _features(ft)
    assert list(ours) == list(theirs) == ["conv", "pool"]
    for name in theirs:
        assert ours[name][:2] == theirs[name][:2]
        np.testing.assert_allclose(ours[name][2], theirs[name][2], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(o_out, t_out, rtol=1e-5, atol=1e-6)


def _changed(t):
    """A pre-hook scaling the input, a hook adding to the output, a kwargs hook; the
    loss's gradients flow through what they changed."""
    model = _cnn(t)
    calls = []
    model[0].register_forward_pre_hook(lambda m, args: (args[0] * 0.5,))
    model[4].register_forward_hook(lambda m, args, out: out + 1.0)
    model[4].register_forward_hook(lambda m, args, out: calls.append("second"))
    model[4].register_forward_hook(lambda m, args, out: calls.append("first"), prepend=True)
    model[1].register_forward_pre_hook(lambda m, args, kwargs: ((args[0] - 0.1,), kwargs),
                                       with_kwargs=True)
    model[1].register_forward_hook(lambda m, args, kwargs, out: out * 2, with_kwargs=True)
    loss = t.nn.functional.cross_entropy(model(t.tensor(X)), t.tensor(Y))
    loss.backward()
    return loss.item(), [p.grad.numpy().copy() for p in model.parameters()], calls


def test_hooks_that_change_values_change_them_as_pytorch(torch):
    t_loss, t_grads, t_calls = _changed(torch)
    o_loss, o_grads, o_calls = _changed(ft)
    assert o_calls == t_calls == ["first", "second"]
    assert o_loss == pytest.approx(t_loss, rel=1e-5)
    for mine, expected in zip(o_grads, t_grads, strict=True):
        np.testing.assert_allclose(mine, expected, rtol=1e-4, atol=1e-6)


def test_always_call_runs_when_forward_raises_and_handles_remove_once(torch):
    for t in (torch, ft):
        layer = t.nn.Linear(3, 2)
        outputs, pre = [], []
        layer.register_forward_hook(lambda m, args, out, seen=outputs: seen.append(out),
                                    always_call=True)
        with pytest.raises(RuntimeError):
            layer(t.ones(2, 4))  # wrong width: forward raises, the hook still runs
        assert outputs == [None]
        with layer.register_forward_pre_hook(lambda m, args, seen=pre: seen.append(1)):
            layer(t.ones(1, 3))
        layer(t.ones(1, 3))
        assert pre == [1] and len(outputs) == 3


def test_a_bad_pre_hook_result_is_named_as_pytorch(torch):
    for t in (torch, ft):
        layer = t.nn.Linear(3, 2)
        layer.register_forward_pre_hook(lambda m, args, kwargs: "oops", with_kwargs=True)
        with pytest.raises(RuntimeError, match=r"forward pre-hook must return None or a tuple "
                           r"of \(new_args, new_kwargs\), but got oops"):
            layer(t.ones(1, 3))


def test_a_training_loop_with_hooks_compiles_once():
    model = _cnn(ft)
    opt = ft.optim.SGD(model.parameters(), lr=0.1)
    norms = []
    model[3].register_forward_hook(lambda m, args, out: norms.append(out.detach()))
    ft.reset_compile_stats()
    for _ in range(4):
        opt.zero_grad()
        loss = ft.nn.functional.cross_entropy(model(ft.tensor(X)), ft.tensor(Y))
        loss.backward()
        opt.step()
    stats = ft.compile_stats()
    assert stats["compiles"] <= 2 and stats["hits"] >= 2 and not stats["eager"]
    assert [tuple(n.shape) for n in norms] == [(4, 100)] * 4
    assert not np.allclose(norms[0].numpy(), norms[-1].numpy())  # each step's own values


def test_half_and_bfloat16_cast_floating_parameters(torch):
    for t in (torch, ft):
        layer = t.nn.Linear(2, 2)
        assert layer.half().weight.dtype == t.float16
        assert layer.bfloat16().bias.dtype == t.bfloat16


def test_reassigning_a_parameter_or_module_keeps_its_place(torch):
    """``layer.weight = nn.Parameter(...)`` (tied or re-initialised weights) keeps the
    state dict's order, which an optimizer's state is indexed by."""
    orders = []
    for t in (torch, ft):
        model = t.nn.Sequential(t.nn.Linear(2, 3), t.nn.ReLU(), t.nn.Linear(3, 1))
        model[0].weight = t.nn.Parameter(t.zeros(3, 2))
        model[0] = t.nn.Linear(2, 3)
        model[2].weight = t.nn.Parameter(t.ones(1, 3))
        orders.append((list(model.state_dict()),
                       [tuple(p.shape) for p in model.parameters()]))
    assert orders[1] == orders[0]
    assert orders[0][0] == ["0.weight", "0.bias", "2.weight", "2.bias"]


def _written_through_tables(t):
    """Members set and removed through a module's tables, as some programs do (a
    meta-learning step's updated weights put in ``_parameters``, a head swapped in
    ``_modules``): each is the module's attribute, which its forward reads."""
    t.manual_seed(0)
    net = t.nn.Sequential(t.nn.Linear(2, 3), t.nn.Tanh())
    x = t.ones(4, 2)
    seen = []
    for name, p in list(net[0].named_parameters()):
        grad, = t.autograd.grad(net(x).sum(), p)
        net[0]._parameters[name] = p - 0.5 * grad  # a tensor, not a Parameter
    seen.append((net(x).sum().item(), [n for n, _ in net.named_parameters()]))
    net._modules["1"] = t.nn.Linear(3, 1)
    net[0]._buffers["scale"] = t.ones(1)
    seen.append((tuple(net(x).shape), net[0].scale.tolist(), list(net.state_dict())))
    del net[0]._buffers["scale"]
    net._modules.pop("1")
    seen.append((hasattr(net[0], "scale"), len(net), [type(m).__name__ for m in net]))
    return seen


def test_members_written_through_the_tables_are_attributes_as_pytorchs(torch):
    assert _written_through_tables(ft) == _written_through_tables(torch)


def _state_dict_hooks(t):
    """What a program sees with state-dict hooks: a load pre-hook renaming an old
    checkpoint's keys in a submodule, a save post-hook dropping a buffer, a save pre-hook,
    load post-hooks clearing the missing keys, a pre-hook adding an error (the values are
    loaded, then the load raises), and hooks that return what they should not."""
    seen = []

    def rename(module, state, prefix, meta, strict, missing, unexpected, errors):
        for key in [k for k in state if k.startswith(prefix + "fc.")]:
            state[prefix + "proj." + key[len(prefix) + 3:]] = state.pop(key)

    def drop_scratch(module, state, prefix, meta):
        del state[prefix + "scratch"]

    class Renamed(t.nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = t.nn.Linear(2, 2)
            self.register_buffer("scratch", t.ones(2))
            self.register_load_state_dict_pre_hook(rename)
            self.register_state_dict_post_hook(drop_scratch)

    outer = t.nn.Sequential(Renamed())
    outer[0].register_state_dict_pre_hook(lambda m, prefix, keep: seen.append((prefix, keep)))
    old = {"0.fc.weight": t.tensor([[1.0, 2.0], [3.0, 4.0]]), "0.fc.bias": t.ones(2)}
    seen.append(repr(outer.load_state_dict(old, strict=False)))
    seen.append((outer[0].proj.weight.tolist(), list(outer.state_dict(keep_vars=True))))
    linear = t.nn.Linear(2, 2)
    linear.register_load_state_dict_post_hook(lambda m, keys: keys.missing_keys.clear())
    seen.append(repr(linear.load_state_dict({"weight": t.ones(2, 2)})))
    linear.register_load_state_dict_pre_hook(
        lambda m, state, prefix, meta, strict, missing, unexpected, errors:
        errors.append("custom problem"))
    with pytest.raises(RuntimeError) as error:
        linear.load_state_dict({"weight": t.full((2, 2), 9.0)})
    seen.append((str(error.value), linear.weight.tolist()))
    returning = t.nn.Linear(1, 1)
    returning.register_state_dict_post_hook(lambda *args: {})
    returning.register_load_state_dict_post_hook(lambda *args: 0)
    for call, kind in ((returning.state_dict, RuntimeError),
                       (lambda: returning.load_state_dict({}, strict=False), AssertionError)):
        with pytest.raises(kind) as error:
            call()
        seen.append(str(error.value))
    return seen


def test_state_dict_hooks_run_as_pytorchs(torch):
    assert _state_dict_hooks(ft) == _state_dict_hooks(torch)


def _logged_load(T, strict):
    """Every module's load pre- and post-hooks, logging what each sees, through a load
    of a state dict missing one entry and holding one extra."""
    class Block(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = T.nn.Linear(2, 2)
            self.bn = T.nn.BatchNorm1d(2)

    net = T.nn.Sequential(Block(), T.nn.Linear(2, 1), Block())
    log = []
    for name, module in net.named_modules():
        def pre(module, state, prefix, metadata, strict, missing, unexpected, errors,
                name=name):
            log.append(("pre", name, prefix, dict(metadata), strict, list(missing),
                        list(unexpected), sorted(state)))

        def post(module, keys, name=name):
            log.append(("post", name, list(keys.missing_keys), list(keys.unexpected_keys)))
            if name == "2.bn":  # a post-hook may forgive a key before strict reads it
                keys.unexpected_keys.clear()

        module.register_load_state_dict_pre_hook(pre)
        module.register_load_state_dict_post_hook(post)
    state = net.state_dict()
    del state["0.lin.bias"]
    state["0.extra"] = T.zeros(1)
    try:
        net.load_state_dict(state, strict=strict)
    except RuntimeError as error:
        log.append(str(error))
    return log, sorted(state._metadata.items())


@pytest.mark.parametrize("strict", [True, False])
def test_load_hooks_run_module_by_module_with_versions_as_pytorchs(torch, strict):
    # each module's pre-hooks before its own load (on the entries under its prefix),
    # its post-hooks after its subtree's, seeing the keys found so far; the metadata
    # holds each module class's _version (BatchNorm's 2)
    assert _logged_load(ft, strict) == _logged_load(torch, strict)


def _extra_state_loads(T):
    """A module keeping a dict beside its tensors (get_extra_state/set_extra_state):
    where its state goes in state_dict, and the keys and errors of loads with and
    without it, with and without load hooks."""
    class Tagged(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = T.nn.Linear(2, 2)
            self.tag = {"vocab": 0}

        def get_extra_state(self):
            return dict(self.tag)

        def set_extra_state(self, state):
            self.tag = state

    def net():
        return T.nn.Sequential(Tagged(), T.nn.Linear(2, 1))

    source = net()
    source[0].tag = {"vocab": 7}
    state = source.state_dict()
    partial = {k: v for k, v in state.items() if k not in ("0._extra_state", "0.lin.bias")}
    log = [list(state), state["0._extra_state"]]
    for hooked in (False, True):
        target = net()
        if hooked:
            target[1].register_load_state_dict_post_hook(lambda module, keys: None)
        log += [repr(target.load_state_dict(partial, strict=False)), target[0].tag,
                repr(target.load_state_dict(state)), target[0].tag]
        for bad in (partial, {**T.nn.Linear(2, 1).state_dict(), "_extra_state": 1}):
            try:
                (target if bad is partial else T.nn.Linear(2, 1)).load_state_dict(bad)
            except RuntimeError as error:
                log.append(str(error))
    return log


def test_extra_state_saves_and_loads_as_pytorchs(torch):
    assert _extra_state_loads(ft) == _extra_state_loads(torch)
