"""fnnet.nn layers against torch.nn: reprs, outputs, gradients, state, errors.

Each layer is written once, as a constructor call, and evaluated with ``nn`` bound to
``fnnet.nn`` and to ``torch.nn``: the constructor arguments, defaults and reprs must agree
too.
"""

from __future__ import annotations

import re
import zlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import ATOL, assert_close, to_numpy

import fnnet.nn
from fnnet.nn import functional as F

# (constructor call, input shape, train mode)
LAYERS = [
    ("nn.Linear(5, 3)", (4, 5), False),
    ("nn.Linear(6, 2, bias=False)", (2, 3, 6), False),
    ("nn.Conv2d(3, 6, 5)", (2, 3, 12, 12), False),
    ("nn.Conv2d(4, 8, (3, 2), stride=2, padding=1, dilation=(1, 2), groups=2, bias=False)",
     (2, 4, 9, 10), False),
    ("nn.Conv2d(2, 4, 4, padding='same')", (1, 2, 7, 7), False),
    ("nn.Conv2d(3, 2, 3, padding='valid')", (3, 8, 8), False),
    ("nn.MaxPool2d(2)", (2, 3, 8, 8), False),
    ("nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)", (2, 3, 9, 10), False),
    ("nn.MaxPool2d((2, 3), dilation=2)", (1, 2, 9, 10), False),
    ("nn.AvgPool2d(2)", (2, 3, 8, 8), False),
    ("nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)",
     (2, 3, 9, 10), False),
    ("nn.AdaptiveAvgPool2d((5, 3))", (2, 3, 9, 10), False),
    ("nn.AdaptiveAvgPool2d(1)", (2, 3, 7, 7), False),
    ("nn.Flatten()", (2, 3, 4, 5), False),
    ("nn.Flatten(0, 2)", (2, 3, 4, 5), False),
    ("nn.ReLU(inplace=True)", (2, 3, 4, 4), False),
    ("nn.Sigmoid()", (4, 7), False),
    ("nn.Tanh()", (4, 7), False),
    ("nn.Softmax(dim=1)", (4, 7), False),
    ("nn.LogSoftmax(dim=-1)", (2, 3, 7), False),
    ("nn.Dropout(0.3)", (4, 7), False),
    ("nn.BatchNorm1d(5)", (8, 5), False),
    ("nn.BatchNorm1d(4, momentum=0.3)", (3, 4, 6), True),
    ("nn.BatchNorm1d(4, bias=False)", (6, 4), True),
    ("nn.BatchNorm2d(3)", (4, 3, 5, 5), False),
    ("nn.BatchNorm2d(3, eps=1e-3)", (4, 3, 5, 5), True),
    ("nn.BatchNorm2d(3, momentum=None, affine=False)", (4, 3, 5, 5), True),
    ("nn.BatchNorm2d(3, track_running_stats=False)", (4, 3, 5, 5), True),
    ("nn.BatchNorm2d(3, track_running_stats=False)", (4, 3, 5, 5), False),
]


def _close(actual, expected, what=""):
    """1e-5 relative; the absolute floor scales with the array's magnitude."""
    expected = to_numpy(expected)
    scale = max(1.0, float(np.abs(expected).max())) if expected.size else 1.0
    assert_close(actual, expected, atol=ATOL * scale, what=what)


def _pair(spec, torch, seed=0):
    """The same layer in fnnet and torch, torch's values randomised, fnnet's loaded."""
    torch.manual_seed(seed)
    t_layer = eval(spec, {"nn": torch.nn})
    with torch.no_grad():
        for name, tensor in t_layer.state_dict().items():
            if tensor.is_floating_point():  # non-trivial weights and running stats
                if name.endswith("running_var"):
                    tensor.uniform_(0.5, 1.5)
                else:
                    tensor.normal_()
    layer = eval(spec, {"nn": fnnet.nn})
    params, state = fnnet.nn.load_state_dict(layer, t_layer.state_dict())
    return layer, params, state, t_layer


@pytest.mark.parametrize("spec, shape, train", LAYERS,
                         ids=[f"{s}-{'train' if t else 'eval'}" for s, _, t in LAYERS])
def test_layer_matches_torch(spec, shape, train, torch):
    layer, params, state, t_layer = _pair(spec, torch)
    assert repr(layer) == repr(t_layer)
    t_layer.train(train)
    rng = np.random.default_rng(zlib.crc32(spec.encode()))
    x = rng.standard_normal(shape).astype(np.float32)

    @jax.jit
    def forward_backward(params, x, cotangent):
        def f(params, x):
            return layer.apply(params, state, x, train=train)
        (y, new_state), vjp = jax.vjp(f, params, x)
        zeros = jax.tree.map(jnp.zeros_like, new_state)
        return y, new_state, vjp((cotangent, zeros))

    out_shape = jax.eval_shape(lambda x: layer.apply(params, state, x, train=train)[0],
                               x).shape
    cotangent = rng.standard_normal(out_shape).astype(np.float32)
    y, new_state, (param_grads, x_grad) = forward_backward(params, x, cotangent)

    t_x = torch.tensor(x, requires_grad=True)
    t_y = t_layer(t_x.clone())  # a non-leaf, so that inplace=True layers run
    t_y.backward(torch.tensor(cotangent))

    _close(y, t_y, "output")
    _close(x_grad, t_x.grad, "gradient w.r.t. the input")
    t_param_grads = {n: p.grad for n, p in t_layer.named_parameters()}
    ours = fnnet.nn.state_dict(param_grads)
    assert sorted(ours) == sorted(t_param_grads)
    for name, grad in t_param_grads.items():
        _close(ours[name], grad, f"gradient w.r.t. {name}")
    # Buffers after the step (updated running statistics in training).
    t_buffers = dict(t_layer.named_buffers())
    ours_state = fnnet.nn.state_dict({}, new_state)
    assert sorted(ours_state) == sorted(t_buffers)
    for name, buffer in t_buffers.items():
        _close(ours_state[name], buffer, name)


JIT_LAYERS = [case for case in LAYERS if case[0].startswith(
    ("nn.Conv2d(4, 8", "nn.MaxPool2d(3", "nn.AvgPool2d(3", "nn.AdaptiveAvgPool2d((5",
     "nn.LogSoftmax", "nn.BatchNorm2d(3, eps"))]


@pytest.mark.parametrize("spec, shape, train", JIT_LAYERS, ids=[s for s, _, _ in JIT_LAYERS])
def test_layer_jit_equals_eager(spec, shape, train):
    layer = eval(spec, {"nn": fnnet.nn})
    params, state = layer.init(jax.random.key(0))
    x = jnp.asarray(np.random.default_rng(0).standard_normal(shape), jnp.float32)
    eager, eager_state = layer.apply(params, state, x, train=train)
    jitted, jit_state = jax.jit(lambda p, s, x: layer.apply(p, s, x, train=train))(
        params, state, x)
    np.testing.assert_allclose(np.asarray(jitted), np.asarray(eager), rtol=1e-6, atol=1e-6)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6), jit_state,
                 eager_state)


@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("spec, shape", [("BatchNorm1d(4, momentum={m})", (6, 4)),
                                         ("BatchNorm2d(3, momentum={m})", (5, 3, 4, 4))])
def test_batchnorm_running_stats_over_several_steps(spec, shape, momentum, torch):
    spec = "nn." + spec.format(m=momentum)
    layer, params, state, t_layer = _pair(spec, torch)
    t_layer.train()
    rng = np.random.default_rng(11)
    step = jax.jit(lambda p, s, x: layer.apply(p, s, x, train=True))
    for i in range(4):
        x = (rng.standard_normal(shape) * (i + 1) + i).astype(np.float32)
        _, state = step(params, state, x)
        with torch.no_grad():
            t_layer(torch.tensor(x))
        t_state = {k: v for k, v in t_layer.state_dict().items() if "running" in k
                   or "num_batches" in k}
        ours = fnnet.nn.state_dict({}, state)
        assert int(ours["num_batches_tracked"]) == int(t_state["num_batches_tracked"]) == i + 1
        _close(ours["running_mean"], t_state["running_mean"], f"running_mean, step {i}")
        _close(ours["running_var"], t_state["running_var"], f"running_var, step {i}")
    # Evaluation then uses those statistics.
    t_layer.eval()
    x = rng.standard_normal(shape).astype(np.float32)
    y, same = layer.apply(params, state, x, train=False)
    assert same is state
    _close(y, t_layer(torch.tensor(x)).detach(), "eval output after training")


def test_sync_batchnorm_layer_averages_over_the_mapped_axis(torch):
    layer = fnnet.nn.BatchNorm2d(3, axis_name="devices")
    assert repr(layer).endswith("track_running_stats=True, axis_name='devices')")
    params, state = layer.init(jax.random.key(0))
    x = np.random.default_rng(2).standard_normal((4, 2, 3, 4, 4)).astype(np.float32)
    y, new_state = jax.vmap(lambda x: layer.apply(params, state, x, train=True),
                            in_axes=0, out_axes=(0, None), axis_name="devices")(x)
    t_layer = torch.nn.BatchNorm2d(3)
    expected = t_layer(torch.tensor(x.reshape(8, 3, 4, 4)))
    _close(y.reshape(8, 3, 4, 4), expected.detach())
    _close(new_state["running_mean"], t_layer.running_mean)
    _close(new_state["running_var"], t_layer.running_var)


def test_sync_batchnorm_outside_a_mapped_axis_is_a_batchnorm_as_in_torch(torch):
    # PyTorch's SyncBatchNorm in one process (no process group) normalises the local batch.
    layer = fnnet.nn.BatchNorm2d(3, axis_name="devices")
    params, state = layer.init(jax.random.key(0))
    x = np.random.default_rng(3).standard_normal((4, 3, 2, 2)).astype(np.float32)
    y, new_state = jax.jit(lambda x: layer.apply(params, state, x, train=True))(x)
    t_layer = torch.nn.SyncBatchNorm(3)
    _close(y, t_layer(torch.tensor(x)).detach())
    _close(new_state["running_var"], t_layer.running_var)
    with pytest.raises(ValueError, match="expected more than 1 value per channel"):
        layer.apply(params, state, x[:1, :, :1, :1], train=True)


# ------------------------------------------------------------------------- Dropout

def test_dropout_layer_train_and_eval():
    layer = fnnet.nn.Dropout(0.25)
    x = jnp.ones((200, 100))
    y, _ = layer.apply({}, {}, x, train=True, key=jax.random.key(0))
    kept = np.asarray(y) != 0
    assert abs(kept.mean() - 0.75) < 5 * np.sqrt(0.25 * 0.75 / kept.size)
    np.testing.assert_allclose(np.asarray(y)[kept], 1 / 0.75, rtol=1e-6)
    again, _ = layer.apply({}, {}, x, train=True, key=jax.random.key(0))
    np.testing.assert_array_equal(np.asarray(again), np.asarray(y))
    assert layer.apply({}, {}, x)[0] is x
    assert fnnet.nn.Dropout(0.0).apply({}, {}, x, train=True)[0] is x


def test_each_dropout_in_a_model_draws_its_own_mask():
    class Net(fnnet.nn.Module):
        def __init__(self):
            self.drop = fnnet.nn.Dropout(0.5)

        def forward(self, m, x):
            return m.drop(x), m.drop(x)

    net = Net()
    (a, b), _ = net.apply({}, {}, jnp.ones(256), train=True, key=jax.random.key(3))
    (c, _), _ = net.apply({}, {}, jnp.ones(256), train=True, key=jax.random.key(3))
    assert np.any(np.asarray(a) != np.asarray(b))
    np.testing.assert_array_equal(np.asarray(a), np.asarray(c))


def test_softmax_without_dim_makes_torch_legacy_choice(torch):
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        y, _ = fnnet.nn.Softmax().apply({}, {}, x)
    with pytest.warns(UserWarning):
        expected = torch.nn.Softmax()(torch.tensor(x))
    _close(y, expected)


# ---------------------------------------------------------------------- containers

class _Net(fnnet.nn.Module):
    def __init__(self, nn):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
                                      nn.MaxPool2d(2))
        self.blocks = nn.ModuleList([nn.Linear(144, 16), nn.BatchNorm1d(16),
                                     nn.Linear(16, 10)])

    def forward(self, m, x):
        x = F.flatten(m.features(x))
        for block in m.blocks:
            x = block(x)
        return x


def _torch_net(torch):
    class TorchNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            nn = torch.nn
            self.features = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
                                          nn.MaxPool2d(2))
            self.blocks = nn.ModuleList([nn.Linear(144, 16), nn.BatchNorm1d(16),
                                         nn.Linear(16, 10)])

        def forward(self, x):
            x = torch.flatten(self.features(x), 1)
            for block in self.blocks:
                x = block(x)
            return x

    return TorchNet()


def test_model_with_sequential_and_modulelist_matches_torch(torch):
    torch.manual_seed(0)
    t_net = _torch_net(torch).train()
    net = _Net(fnnet.nn)
    layout = jax.eval_shape(net.init, jax.random.key(0))
    assert list(fnnet.nn.state_dict(*layout, net)) == list(t_net.state_dict())
    params, state = fnnet.nn.load_state_dict(net, t_net.state_dict())
    x = np.random.default_rng(0).standard_normal((6, 1, 14, 14)).astype(np.float32)
    y, new_state = jax.jit(lambda p, s, x: net.apply(p, s, x, train=True))(params, state, x)
    _close(y, t_net(torch.tensor(x)).detach())
    assert jax.tree.structure(new_state) == jax.tree.structure(state)
    ours = fnnet.nn.state_dict(params, new_state, net)
    for name, value in t_net.state_dict().items():
        _close(ours[name], value, name)


def test_modulelist_behaves_like_a_list():
    layers = fnnet.nn.ModuleList([fnnet.nn.ReLU()])
    layers.append(fnnet.nn.Tanh()).extend([fnnet.nn.Sigmoid()])
    assert len(layers) == 3
    assert isinstance(layers[-1], fnnet.nn.Sigmoid)
    assert [type(m).__name__ for m in layers] == ["ReLU", "Tanh", "Sigmoid"]
    assert repr(layers) == "ModuleList(\n  (0): ReLU()\n  (1): Tanh()\n  (2): Sigmoid()\n)"
    with pytest.raises(IndexError, match="index 3 is out of range for ModuleList of length 3"):
        layers[3]
    with pytest.raises(TypeError, match="ModuleList: entries must be fnnet.nn.Module, got int"):
        layers.append(3)



def test_slices_of_sequential_and_modulelist_are_named_as_torchs(torch):
    # a feature extractor (model[:-1]) and a forward over m.blocks[1:], as PyTorch writes
    def layers(nn):
        return [nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3)]

    ours, theirs = fnnet.nn.Sequential(*layers(fnnet.nn)), torch.nn.Sequential(*layers(torch.nn))
    params, _ = ours.init(jax.random.key(0))
    for index in (slice(None, -1), slice(2, None), slice(None, None, 2)):
        head = ours[index]
        assert isinstance(head, fnnet.nn.Sequential)
        assert repr(head) == repr(theirs[index])
        sub = {name: params[name] for name, _ in head.named_children() if name in params}
        assert list(fnnet.nn.state_dict(sub, {}, head)) == list(theirs[index].state_dict())
    x = np.ones((2, 4), np.float32)
    features = ours[:-1].apply({k: params[k] for k in ("0", "2")}, {}, x)[0]
    assert features.shape == (2, 5)
    blocks = fnnet.nn.ModuleList(layers(fnnet.nn))[1:4]
    assert repr(blocks) == repr(torch.nn.ModuleList(layers(torch.nn))[1:4])  # from 0

    class Net(fnnet.nn.Module):
        def __init__(self):
            self.blocks = fnnet.nn.ModuleList([fnnet.nn.Linear(4, 4) for _ in range(3)])

        def forward(self, m, x):
            x = m.blocks[0](x)
            for block in m.blocks[1:]:
                x = x + block(x)
            return x

    net = Net()
    net_params, net_state = net.init(jax.random.key(1))
    b = net_params["blocks"]
    expected = x @ b["0"]["weight"].T + b["0"]["bias"]
    for i in ("1", "2"):
        expected = expected + expected @ b[i]["weight"].T + b[i]["bias"]
    _close(net.apply(net_params, net_state, x)[0], expected, "blocks")
    with pytest.raises(TypeError, match="Sequential indices must be ints or slices, got str"):
        ours["0"]


def test_module_tree_walks_and_pytorch_habits(torch):
    # children/modules/named_modules as PyTorch's (a module shared twice listed once)
    def build(nn):
        shared = nn.Linear(2, 2)
        return nn.Sequential(shared, nn.Sequential(nn.ReLU(), shared), nn.Linear(2, 3))

    ours, theirs = build(fnnet.nn), build(torch.nn)
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [type(m).__name__ for m in ours.modules()] == [
        type(m).__name__ for m in theirs.modules()]
    assert [type(m).__name__ for m in ours.children()] == [
        type(m).__name__ for m in theirs.children()]
    assert [n for n, _ in ours.named_modules("net")][:2] == ["net", "net.0"]
    # model(x) and model.parameters(): PyTorch's habits name the fnnet way
    with pytest.raises(TypeError, match=r"^Sequential was called on its input alone, as a "
                       r"PyTorch module is; fnnet modules hold no parameters: params, "
                       r"state = model.init\(jax.random.key\(0\)\)"):
        ours(jnp.ones((1, 2)))
    assert not hasattr(ours, "parameters")  # still an AttributeError
    with pytest.raises(AttributeError, match=r"'Sequential' object has no attribute "
                       r"'state_dict': fnnet modules hold no parameters or mode \(PyTorch's "
                       r"module.state_dict\); use fnnet.nn.state_dict\(params, state, "
                       r"model\)"):
        ours.state_dict()
    with pytest.raises(AttributeError, match="^'Sequential' object has no attribute 'fc9'$"):
        _ = ours.fc9


@pytest.mark.parametrize("layer, shape, output_size", [
    ("ConvTranspose2d(3, 4, 3, stride=2, padding=1)", (2, 3, 5, 5), [10, 9]),
    ("ConvTranspose2d(3, 4, 3, stride=2, padding=1)", (3, 5, 5), [4, 10, 10]),
    ("ConvTranspose1d(3, 4, 3, stride=3)", (2, 3, 5), [2, 4, 17]),
    ("ConvTranspose3d(2, 2, 2, stride=2)", (1, 2, 2, 2, 2), [5, 4, 5]),
])
def test_transposed_convolutions_take_torchs_output_size(torch, layer, shape, output_size):
    # forward(input, output_size): the U-Net decoder's way to undo an odd-sized stride
    torch.manual_seed(0)
    theirs, ours = eval("torch.nn." + layer), eval("fnnet.nn." + layer)  # noqa: S307
    params, state = fnnet.nn.load_state_dict(ours, theirs.state_dict())
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    expected = theirs(torch.tensor(x), output_size=output_size)
    _close(ours.apply(params, state, x, output_size=output_size)[0], expected, layer)
    with pytest.raises(ValueError) as error:
        theirs(torch.tensor(x), output_size=[99] * (len(shape) - 2))
    words = str(error.value).split(" (for an input")[0]
    with pytest.raises(ValueError, match="^" + re.escape(words)):
        ours.apply(params, state, x, output_size=[99] * (len(shape) - 2))


def test_a_composite_with_an_extra_repr_prints_in_pytorchs_layout(torch):
    """The extra_repr on a line of its own above the children, as PyTorch prints a
    module that has both (it was run into the opening parenthesis)."""
    from fnnet import models

    class MLP(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = torch.nn.Linear(4, 8), torch.nn.Linear(8, 3)

        def extra_repr(self):
            return "sizes=(4, 8, 3), activation='relu'"

    assert repr(models.MLP((4, 8, 3))) == repr(MLP())


def test_sequential_of_an_ordereddict_and_modulelist_repr_match_torch(torch):
    from collections import OrderedDict

    def build(nn):
        return nn.Sequential(OrderedDict([("fc", nn.Linear(3, 4)), ("act", nn.ReLU()),
                                          ("out", nn.Linear(4, 2))]))

    torch.manual_seed(0)
    t_seq, seq = build(torch.nn), build(fnnet.nn)
    assert list(fnnet.nn.state_dict(*seq.init(jax.random.key(0)))) == list(t_seq.state_dict())
    params, state = fnnet.nn.load_state_dict(seq, t_seq.state_dict())
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    _close(seq.apply(params, state, x)[0], t_seq(torch.tensor(x)).detach())
    assert repr(seq) == repr(t_seq)
    assert isinstance(seq[-1], fnnet.nn.Linear) and seq[-1].out_features == 2
    for name in ("a.b", "", "forward"):
        with pytest.raises(KeyError) as expected:
            torch.nn.Sequential(OrderedDict([(name, torch.nn.ReLU())]))
        with pytest.raises(KeyError, match=re.escape(str(expected.value))):
            fnnet.nn.Sequential(OrderedDict([(name, fnnet.nn.ReLU())]))
    entries = [("Linear", (2, 2)), ("Linear", (2, 2)), ("ReLU", ()), ("Linear", (2, 2))]
    assert repr(fnnet.nn.ModuleList([getattr(fnnet.nn, n)(*a) for n, a in entries])) == \
        repr(torch.nn.ModuleList([getattr(torch.nn, n)(*a) for n, a in entries]))


# -------------------------------------------------------------------------- errors

def _apply(layer, shape, **kwargs):
    """Traces init + apply abstractly (errors are raised while tracing; nothing runs)."""
    def run(x):
        params, state = layer.init(jax.random.key(0))
        return layer.apply(params, state, x, **kwargs)
    return jax.eval_shape(run, jax.ShapeDtypeStruct(shape, jnp.float32))


ERRORS = [
    (lambda: _apply(fnnet.nn.Linear(400, 120), (8, 256)), ValueError,
     "Linear(in_features=400, out_features=120, bias=True): expected input with 400 at "
     "axis 1, got shape (8, 256) (256 at axis 1)"),
    (lambda: _apply(fnnet.nn.Conv2d(3, 6, 5), (2, 1, 32, 32)), ValueError,
     "Conv2d(3, 6, kernel_size=(5, 5), stride=(1, 1)): expected input with 3 at axis 1, "
     "got shape (2, 1, 32, 32) (1 at axis 1)"),
    (lambda: _apply(fnnet.nn.Conv2d(3, 6, 5), (32, 32)), ValueError,
     "Conv2d(3, 6, kernel_size=(5, 5), stride=(1, 1)): expected 3-D or 4-D input, got "
     "shape (32, 32)"),
    (lambda: _apply(fnnet.nn.BatchNorm2d(6), (2, 4, 8, 8)), ValueError,
     "BatchNorm2d(6, eps=1e-05, momentum=0.1, affine=True, bias=True, "
     "track_running_stats=True): expected input with 6 at axis 1, got shape (2, 4, 8, 8) "
     "(4 at axis 1)"),
    (lambda: _apply(fnnet.nn.BatchNorm2d(6), (2, 6)), ValueError,
     "track_running_stats=True): expected 4-D input, got shape (2, 6)"),
    (lambda: _apply(fnnet.nn.BatchNorm1d(6), (2, 6, 3, 3)), ValueError,
     "expected 2-D or 3-D input, got shape (2, 6, 3, 3)"),
    (lambda: _apply(fnnet.nn.MaxPool2d(2), (8, 8)), ValueError,
     "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False): expected "
     "3-D or 4-D input, got shape (8, 8)"),
    (lambda: _apply(fnnet.nn.Dropout(), (3,), train=True), ValueError,
     "Dropout(p=0.5, inplace=False): training mode needs a PRNG key; pass key= to apply"),
    # An int seed where a key belongs: JAX's 'invalid PRNG key data' named no argument.
    (lambda: fnnet.nn.Sequential(fnnet.nn.Linear(3, 3)).init(0), TypeError,
     "Sequential.init: key must be a PRNG key, e.g. jax.random.key(0), got int 0"),
    (lambda: fnnet.nn.Linear(4, 3).apply(*fnnet.nn.Linear(4, 3).init(jax.random.key(0)),
                                         [[1.0, 2.0, 3.0, 4.0]]), TypeError,
     "Linear(in_features=4, out_features=3, bias=True): expected input to be an array "
     "(numpy or jax), got list; convert it with jnp.asarray"),
    # and a leaf layer's own init, a model's too
    (lambda: fnnet.nn.Linear(3, 3).init(0), TypeError,
     "Linear.init: key must be a PRNG key, e.g. jax.random.key(0), got int 0"),
    (lambda: fnnet.nn.LSTM(3, 3).init(np.uint32(3)), TypeError,
     "LSTM.init: key must be a PRNG key, e.g. jax.random.key(0), got an array of dtype "
     "uint32 and shape ()"),
    (lambda: _apply(fnnet.nn.Dropout(), (3,), train=True, key=0), TypeError,
     "dropout: key must be a PRNG key, e.g. jax.random.key(0), got int 0"),
    (lambda: _apply(fnnet.nn.Sequential(fnnet.nn.Linear(3, 3), fnnet.nn.Dropout()), (2, 3),
                    train=True, key=np.zeros(2, np.float32)), TypeError,
     "Sequential.apply: key must be a PRNG key, e.g. jax.random.key(0), got an array of "
     "dtype float32 and shape (2,)"),
    (lambda: fnnet.nn.BatchNorm1d(3).apply({}, {}, jnp.ones((4, 3)), train=True), ValueError,
     'BatchNorm1d.apply: the trees do not match the ones init returns: missing params entry '
     '"bias"; missing params entry "weight"; missing state entry "num_batches_tracked"'),
    # a leaf applied alone checks its trees as a model does (it computed without the bias)
    (lambda: fnnet.nn.Linear(4, 3).apply({"weight": jnp.ones((3, 4))}, {}, jnp.ones((2, 4))),
     ValueError, 'Linear.apply: the trees do not match the ones init returns: missing params '
     'entry "bias"'),
    (lambda: fnnet.nn.Conv2d(1, 2, 3).apply(
        {"weight": jnp.ones((2, 1, 3, 3)), "bias": jnp.ones(1)}, {}, jnp.ones((1, 1, 5, 5))),
     ValueError, 'Conv2d.apply: the trees do not match the ones init returns: params entry '
     '"bias" has shape (1,), expected (2,)'),
    (lambda: fnnet.nn.Conv2d(3, 6, 3, padding_mode="mirror"), ValueError,
     "Conv2d: padding_mode must be one of ('zeros', 'reflect', 'replicate', 'circular'), "
     "but got padding_mode='mirror'"),
    (lambda: fnnet.nn.Conv2d(3, 6, 3, groups=2), ValueError,
     "Conv2d: in_channels must be divisible by groups, got in_channels=3 and groups=2"),
    (lambda: fnnet.nn.Conv2d(3, 6, 3, stride=2, padding="same"), ValueError,
     "Conv2d: padding='same' is not supported for strided convolutions"),
    (lambda: fnnet.nn.Conv2d(3, 6, (3, 3, 3)), TypeError,
     "Conv2d: kernel_size must be an int or a pair of ints, got (3, 3, 3)"),
    (lambda: fnnet.nn.Dropout(1.5), ValueError,
     "Dropout: dropout probability has to be between 0 and 1, but got 1.5"),
    (lambda: fnnet.nn.MaxPool2d(2, return_indices=True), NotImplementedError,
     "MaxPool2d: return_indices=True is not supported"),
    (lambda: fnnet.nn.AdaptiveAvgPool2d((2, 0)), ValueError,
     "AdaptiveAvgPool2d: output_size must be a positive int or a pair of positive ints"),
    (lambda: fnnet.nn.BatchNorm2d(0), ValueError,
     "BatchNorm2d: num_features must be a positive int, got 0"),
    # PyTorch builds these and fails in the forward pass (ZeroDivisionError or XLA's
    # verifier here); padding='same' with a stride it refuses at once, as here.
    (lambda: fnnet.nn.Conv1d(2, 4, 0), ValueError,
     "Conv1d: kernel_size must be an int of at least 1, got 0"),
    (lambda: fnnet.nn.Conv1d(2, 4, 3, stride=0), ValueError,
     "Conv1d: stride must be an int of at least 1, got 0"),
    (lambda: fnnet.nn.Conv1d(2, 4, 3, padding="same", stride=2), ValueError,
     "Conv1d: padding='same' is not supported for strided convolutions"),
    (lambda: fnnet.nn.LeakyReLU("0.1"), TypeError,
     "LeakyReLU: negative_slope must be a number, got '0.1'"),
    (lambda: fnnet.nn.Embedding(3, 2, padding_idx=1.5), TypeError,
     "Embedding: padding_idx must be an int or None, got 1.5"),
]


@pytest.mark.parametrize("call, error, message", ERRORS, ids=[m[:50] for _, _, m in ERRORS])
def test_bad_input_raises_clear_error(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()


def test_errors_inside_a_model_name_the_child_path():
    net = _Net(fnnet.nn)

    def run(shape):  # traced only: the checks fire while tracing
        return jax.eval_shape(lambda x: net.apply(*net.init(jax.random.key(0)), x),
                              jax.ShapeDtypeStruct(shape, jnp.float32))

    with pytest.raises(ValueError, match=re.escape(
            "features.0: Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1)): expected input "
            "with 1 at axis 1, got shape (2, 3, 14, 14) (3 at axis 1)")):
        run((2, 3, 14, 14))
    with pytest.raises(ValueError, match=re.escape(
            "blocks.0: Linear(in_features=144, out_features=16, bias=True): expected input "
            "with 144 at axis 1, got shape (2, 256) (256 at axis 1)")):
        run((2, 1, 18, 18))


@pytest.mark.parametrize("indices", [[0, 3], [[1, -1]]])
def test_embedding_index_out_of_range_raises_as_torch(indices, torch):
    layer = fnnet.nn.Embedding(3, 2)
    params, state = layer.init(jax.random.key(0))
    with pytest.raises(IndexError, match="index out of range in self") as expected:
        torch.nn.Embedding(3, 2)(torch.tensor(indices))
    with pytest.raises(IndexError, match=re.escape(
            f"Embedding(3, 2): {expected.value}: indices must lie in [0, 3), got")):
        layer.apply(params, state, np.asarray(indices))
    # Under jit the indices cannot be read: a row of NaN, never a wrapped row.
    rows = jax.jit(lambda i: layer.apply(params, state, i)[0])(jnp.asarray(indices))
    assert np.isnan(rows[..., 1, :]).all() and not np.isnan(rows[..., 0, :]).any()


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_recurrent_layers_take_torch_hx_argument(kind, torch):
    torch.manual_seed(0)
    t_layer = getattr(torch.nn, kind)(3, 4, num_layers=2)
    layer = getattr(fnnet.nn, kind)(3, 4, num_layers=2)
    params, state = fnnet.nn.load_state_dict(layer, t_layer.state_dict())
    rng = np.random.default_rng(5)
    x, h0, c0 = (rng.standard_normal(s).astype(np.float32) for s in
                 [(5, 2, 3), (2, 2, 4), (2, 2, 4)])
    hx = (h0, c0) if kind == "LSTM" else h0
    expected = t_layer(torch.tensor(x), jax.tree.map(torch.tensor, hx))
    # PyTorch's call, layer(x, hx), and the input-tuple form give the same.
    (y, h), _ = layer.apply(params, state, x, hx)
    (y2, h2), _ = layer.apply(params, state, (x, *jax.tree.leaves(hx)))
    for ours in ((y, h), (y2, h2)):
        for a, e in zip(jax.tree.leaves(ours), jax.tree.leaves(expected), strict=True):
            _close(a, e.detach())
    # lengths: the padded batch run as PyTorch runs it packed
    packed = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), [3, 5],
                                                     enforce_sorted=False)
    out, h_t = t_layer(packed, jax.tree.map(torch.tensor, hx))
    expected = (torch.nn.utils.rnn.pad_packed_sequence(out)[0], h_t)
    ours = layer.apply(params, state, x, hx, lengths=np.array([3, 5]))[0]
    for a, e in zip(jax.tree.leaves(ours), jax.tree.leaves(expected), strict=True):
        _close(a, e.detach())
    with pytest.raises(ValueError, match=rf"^{kind}: lengths must have one entry per "
                                         r"sequence, shape \(2,\), got \(1,\)$"):
        layer.apply(params, state, x, hx, lengths=np.array([3]))
    bad = (h0[:1], c0) if kind == "LSTM" else h0[:1]
    with pytest.raises(RuntimeError) as expected_error:
        t_layer(torch.tensor(x), jax.tree.map(torch.tensor, bad))
    with pytest.raises(RuntimeError, match=f"^{re.escape(str(expected_error.value))}$"):
        layer.apply(params, state, x, bad)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_recurrent_layers_refuse_another_dtype_than_the_weights_as_torch(kind, torch):
    """PyTorch refuses a float16 input (or state) for float32 weights with a ValueError;
    fnnet's scan failed on its carry's dtype instead."""
    layer = getattr(fnnet.nn, kind)(3, 4)
    t_layer = getattr(torch.nn, kind)(3, 4)
    params, state = fnnet.nn.load_state_dict(layer, t_layer.state_dict())
    x = np.ones((5, 2, 3), np.float16)
    with pytest.raises(ValueError, match=r"RNN input dtype \(torch.float16\) does not match "
                                         r"weight dtype \(torch.float32\)"):
        t_layer(torch.tensor(x))
    with pytest.raises(ValueError, match=rf"^{kind} input dtype \(float16\) does not match "
                                         r"weight dtype \(float32\)\. Convert the input"):
        layer.apply(params, state, x)
    h0 = np.zeros((1, 2, 4), np.float16)
    with pytest.raises(ValueError, match=rf"^{kind} hx dtype \(float16\)"):
        layer.apply(params, state, x.astype(np.float32), (h0, h0) if kind == "LSTM" else h0)


@pytest.mark.parametrize("name, shape, mode, kwargs", [
    ("Conv1d", (2, 4, 11), "circular", dict(padding="same", dilation=2, groups=2)),
    ("Conv1d", (4, 11), "reflect", dict(padding=2, stride=2)),
    ("Conv3d", (1, 4, 5, 6, 7), "replicate", dict(padding=(0, 1, 2))),
])
def test_conv1d_and_conv3d_padding_modes_and_repr_match_torch(torch, name, shape, mode,
                                                              kwargs):
    """Conv1d and Conv3d in PyTorch's other padding modes (Conv2d's already), and their
    repr with dilation and groups (Conv1d's left them out)."""
    t_layer = getattr(torch.nn, name)(4, 6, 3, padding_mode=mode, **kwargs)
    layer = getattr(fnnet.nn, name)(4, 6, 3, padding_mode=mode, **kwargs)
    assert repr(layer) == repr(t_layer)
    params, state = fnnet.nn.load_state_dict(layer, t_layer.state_dict())
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    _close(layer.apply(params, state, x)[0], t_layer(torch.tensor(x)).detach())
    assert repr(fnnet.nn.Conv1d(3, 6, 3, padding="valid")) == repr(
        torch.nn.Conv1d(3, 6, 3, padding="valid"))


def test_recurrent_dropout_in_training_needs_a_key():
    """A 2-layer LSTM with dropout in training mode says it needs a key, as Dropout does
    (JAX failed on the key's type)."""
    layer = fnnet.nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    # zeros of init's shapes: the check comes before any computation
    params, state = jax.tree.map(lambda s: np.zeros(s.shape, s.dtype),
                                 jax.eval_shape(layer.init, jax.random.key(0)))
    with pytest.raises(ValueError, match=re.escape(
            "LSTM(3, 4, num_layers=2, dropout=0.5): training mode needs a PRNG key; pass "
            "key= to apply")):
        layer.apply(params, state, np.ones((5, 2, 3), np.float32), train=True)


@pytest.mark.parametrize("spec, shape", [
    ("nn.Conv1d(2, 3, 3)", (2, 2, 7)),
    ("nn.Conv2d(2, 3, 3, padding=1)", (2, 2, 6, 6)),
    ("nn.Conv3d(2, 3, 2)", (1, 2, 4, 4, 4)),
    ("nn.ConvTranspose2d(2, 3, 2, stride=2)", (2, 2, 3, 3)),
    ("nn.ConvTranspose1d(2, 3, 2)", (2, 2, 5)),
])
@pytest.mark.parametrize("narrow", ["input", "weights"])
def test_convolutions_promote_mixed_dtypes_as_linear_does(spec, shape, narrow):
    """A bfloat16 batch through float32 weights (or the reverse) computes in float32, as
    Linear's matmul does; XLA's convolution refused the pair with a TypeError."""
    layer = eval(spec, {"nn": fnnet.nn})
    params, state = layer.init(jax.random.key(0))
    x = jax.random.normal(jax.random.key(1), shape).astype(jnp.bfloat16)
    if narrow == "weights":
        params = jax.tree.map(lambda a: a.astype(jnp.bfloat16), params)
        x = x.astype(jnp.float32)
    wide = jax.tree.map(lambda a: a.astype(jnp.float32), params)
    y, _ = layer.apply(params, state, x)
    expected, _ = layer.apply(wide, state, x.astype(jnp.float32))
    assert y.dtype == jnp.float32
    np.testing.assert_array_equal(np.asarray(y), np.asarray(expected))


@pytest.mark.parametrize("make_key", [jax.random.key, jax.random.PRNGKey],
                         ids=["typed", "raw uint32[2]"])
def test_dropout_takes_both_kinds_of_key_alike(make_key):
    x = jnp.ones((4, 8))
    y, _ = fnnet.nn.Dropout(0.5).apply({}, {}, x, train=True, key=make_key(3))
    expected = F.dropout(x, 0.5, key=jax.random.key(3))
    np.testing.assert_array_equal(np.asarray(y), np.asarray(expected))


@pytest.mark.parametrize("spec, shape", [("nn.Dropout(0.2)", (2, 3)),
                                         ("nn.BatchNorm1d(3)", (2, 3)),
                                         ("nn.LSTM(3, 4)", (5, 2, 3))])
def test_a_traced_train_flag_is_named_with_the_fix(spec, shape):
    # jax.jit(model.apply) traces train=True too; JAX's TracerBoolConversionError then
    # came from inside the layer.
    layer = eval(spec, {"nn": fnnet.nn})
    params, state = layer.init(jax.random.key(0))
    x = jnp.ones(shape)
    message = (f"{layer!r}: train must be a Python bool, got a traced bool[]: under "
               "jax.jit mark it static, e.g. jax.jit(model.apply, static_argnames='train')")
    with pytest.raises(TypeError, match="^" + re.escape(message)):
        jax.jit(layer.apply)(params, state, x, train=True, key=jax.random.key(1))
    static = jax.jit(layer.apply, static_argnames="train")
    y, _ = static(params, state, x, train=True, key=jax.random.key(1))
    expected, _ = layer.apply(params, state, x, train=True, key=jax.random.key(1))
    np.testing.assert_allclose(np.asarray(jax.tree.leaves(y)[0]),
                               np.asarray(jax.tree.leaves(expected)[0]), rtol=1e-6)
