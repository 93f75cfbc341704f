"""``torch.save(model)`` of a whole module, optimizer or scheduler and
``torch.load(f, weights_only=False)``, as PyTorch's "save and load the model" tutorial
does: fnnet.torch pickles and unpickles them as PyTorch does, reads whole models PyTorch
pickled (its ``torch.nn`` classes become fnnet.torch's), and refuses them without
``weights_only=False`` or ``add_safe_globals`` with PyTorch's own error.

The classes a file names are found by name when it loads, as pickle finds them: each
test binds ``Net`` in this module to the backend's class before saving and loading.
"""

from __future__ import annotations

import io
import pickle
import sys

import numpy as np
import pytest

import fnnet.torch as ft
from fnnet.torch.serialization import PickleNotSupported

pytestmark = pytest.mark.torch

_HERE = sys.modules[__name__]
Net: type = object  # bound by each test to the class of the backend it runs


def _net_class(t):
    """A model with most layer kinds, weights tied, buffers and plain attributes."""

    class Net(t.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = t.nn.Conv2d(1, 4, 3, padding=1, bias=False)
            self.bn = t.nn.BatchNorm2d(4)
            self.pool = t.nn.MaxPool2d(2)
            self.emb = t.nn.Embedding(10, 4, padding_idx=0)
            self.lstm = t.nn.LSTM(4, 6, num_layers=2, batch_first=True)
            self.gru = t.nn.GRU(4, 3, bidirectional=True)
            self.heads = t.nn.ModuleList([t.nn.Linear(6, 2), t.nn.Linear(6, 3)])
            self.named = t.nn.ModuleDict({"a": t.nn.Linear(16, 6), "b": t.nn.Identity()})
            self.seq = t.nn.Sequential(t.nn.Flatten(), t.nn.ReLU(), t.nn.GELU(),
                                       t.nn.LeakyReLU(0.2), t.nn.Dropout(0.25))
            self.enc = t.nn.TransformerEncoderLayer(6, 2, dim_feedforward=8, dropout=0.0,
                                                    batch_first=True)
            self.tied = t.nn.Linear(4, 10, bias=False)
            self.tied.weight = self.emb.weight
            self.register_buffer("scale", t.tensor(2.0))
            self.register_buffer("scratch", t.zeros(2), persistent=False)
            self.hidden = 6

        def forward(self, img, tokens):
            h = self.named["a"](self.seq(self.pool(self.bn(self.conv(img)))))
            e = self.emb(tokens)
            out, _ = self.lstm(e)
            g, _ = self.gru(e.transpose(0, 1))
            z = self.enc(out)
            return (self.heads[0](z[:, -1] + h) * self.scale, self.heads[1](h),
                    self.tied(e).sum() + g.sum())

    Net.__module__, Net.__qualname__ = __name__, "Net"
    return Net


def _inputs(t):
    rng = np.random.default_rng(0)
    return (t.tensor(rng.standard_normal((2, 1, 4, 4)).astype(np.float32)),
            t.tensor([[1, 2, 3], [4, 5, 0]]))


@pytest.fixture(scope="module")
def pytorch_files(torch, tmp_path_factory):
    """A model, and a checkpoint of the model with its Adam after one step, pickled
    whole by PyTorch; the model's outputs and the optimizer's state."""
    folder = tmp_path_factory.mktemp("whole")
    torch.manual_seed(0)
    _HERE.Net = _net_class(torch)
    model = _HERE.Net().eval()
    torch.save(model, folder / "model.pth")
    with torch.no_grad():
        outputs = [o.numpy() for o in model(*_inputs(torch))]
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(*_inputs(torch))[0].sum().backward()
    optimizer.step()
    torch.save({"epoch": 2, "model": model, "optimizer": optimizer}, folder / "ckpt.pth")
    state = {k: v.numpy() for k, v in optimizer.state_dict()["state"][0].items()}
    return folder, outputs, state


def test_a_model_pytorch_pickled_loads_whole_with_weights_only_false(pytorch_files,
                                                                        monkeypatch):
    folder, outputs, _ = pytorch_files
    monkeypatch.setattr(_HERE, "Net", _net_class(ft))
    model = ft.load(folder / "model.pth", weights_only=False)
    assert type(model) is _HERE.Net and not model.training
    assert model.tied.weight is model.emb.weight and model.hidden == 6
    assert list(dict(model.named_buffers())) == ["scale", "scratch", "bn.running_mean",
                                                 "bn.running_var", "bn.num_batches_tracked"]
    assert "scratch" not in model.state_dict()
    assert isinstance(model.lstm, ft.nn.LSTM) and model.lstm.num_layers == 2
    assert isinstance(model.enc.self_attn.out_proj, ft.nn.Linear)  # PyTorch's subclass
    with ft.no_grad():
        got = model(*_inputs(ft))
    for mine, theirs in zip(got, outputs, strict=True):
        np.testing.assert_allclose(mine.numpy(), theirs, rtol=1e-5, atol=1e-5)


def test_a_checkpoint_with_pytorchs_whole_optimizer_keeps_its_state(pytorch_files,
                                                                     monkeypatch):
    folder, _, state = pytorch_files
    monkeypatch.setattr(_HERE, "Net", _net_class(ft))
    checkpoint = ft.load(folder / "ckpt.pth", weights_only=False)
    model, optimizer = checkpoint["model"], checkpoint["optimizer"]
    assert checkpoint["epoch"] == 2 and type(optimizer) is ft.optim.Adam
    assert optimizer.param_groups[0]["params"][0] is model.conv.weight
    assert optimizer.param_groups[0]["lr"] == 1e-3
    mine = optimizer.state_dict()["state"][0]
    assert sorted(mine) == sorted(state)
    for key, value in state.items():
        np.testing.assert_allclose(mine[key].numpy(), value, rtol=1e-6, err_msg=key)


def _small_cnn_class(t):
    class Net(t.nn.Module):
        def __init__(self, classes=3):
            super().__init__()
            self.features = t.nn.Sequential(t.nn.Conv2d(1, 4, 3, padding=1),
                                            t.nn.BatchNorm2d(4), t.nn.ReLU(),
                                            t.nn.MaxPool2d(2))
            self.classifier = t.nn.Sequential(t.nn.Flatten(), t.nn.Linear(16, classes))
            self.classes = classes

        def forward(self, x):
            return self.classifier(self.features(x))

    Net.__module__, Net.__qualname__ = __name__, "Net"
    return Net


def _save_resume_and_refusals(t, folder):
    """The tutorial's flow, what each backend prints: train, save the model and a
    checkpoint of model, optimizer and scheduler whole, load them, train on, and the
    refusals (weights only, a safe-globals list, a lambda, a class not defined)."""
    rng = np.random.default_rng(0)
    x = t.tensor(rng.standard_normal((24, 1, 4, 4)).astype(np.float32))
    y = t.tensor(rng.integers(0, 3, 24))
    model = _HERE.Net()
    with t.no_grad():
        for name, p in model.named_parameters():  # the same start for both backends
            p.copy_(t.tensor(np.random.default_rng(len(name)).uniform(
                -0.3, 0.3, tuple(p.shape)).astype(np.float32)))
    optimizer = t.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = t.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    printed = []

    def train(model, optimizer, scheduler, steps):
        model.train()
        for i in range(steps):
            optimizer.zero_grad()
            loss = t.nn.functional.cross_entropy(model(x[i * 8:i * 8 + 8]), y[i * 8:i * 8 + 8])
            loss.backward()
            optimizer.step()
            scheduler.step()
            printed.append(f"{loss.item():.5f} {scheduler.get_last_lr()}")

    train(model, optimizer, scheduler, 2)
    t.save(model, folder / "model.pt")
    t.save({"epoch": 2, "model": model, "optimizer": optimizer, "scheduler": scheduler},
           folder / "checkpoint.pt")
    loaded = t.load(folder / "model.pt", weights_only=False).eval()
    with t.no_grad():
        printed.append(str(t.allclose(loaded(x), model.eval()(x), atol=1e-6)))
    printed.append(f"{type(loaded).__name__} {loaded.classes} {loaded.training}")
    checkpoint = t.load(folder / "checkpoint.pt", weights_only=False)
    model2, optimizer2, scheduler2 = (checkpoint[k] for k in ("model", "optimizer",
                                                              "scheduler"))
    printed.append(f"{scheduler2.last_epoch} {scheduler2.get_last_lr()} "
                   f"{scheduler2.optimizer is optimizer2} "
                   f"{optimizer2.param_groups[0]['params'][0] is model2.features[0].weight}")
    train(model2, optimizer2, scheduler2, 1)
    train(model, optimizer, scheduler, 1)
    printed.append(str(all(t.equal(a, b) for a, b in
                           zip(model2.parameters(), model.parameters(), strict=True))))
    # PyTorch's message names its own module paths; fnnet.torch's agree for the
    # classes here (a user's, containers, Linear) and not for every layer
    for allowed in ([], [_HERE.Net], [_HERE.Net, t.nn.Sequential]):
        with t.serialization.safe_globals(allowed):
            with pytest.raises(pickle.UnpicklingError) as refused:
                t.load(folder / "model.pt")
        printed.append(f"{type(refused.value).__name__}: {refused.value}")

    class Holder:
        def __init__(self):
            self.f = lambda v: v

    with pytest.raises(AttributeError, match="Can't pickle local object") as unpicklable:
        t.save(Holder(), folder / "holder.pt")
    printed.append(str(unpicklable.value).split(" '")[0])
    return printed


def test_the_save_the_whole_model_tutorial_runs_as_under_pytorch(torch, tmp_path,
                                                                    monkeypatch):
    results = {}
    for name, t in (("torch", torch), ("fnnet", ft)):
        monkeypatch.setattr(_HERE, "Net", _small_cnn_class(t))
        (tmp_path / name).mkdir()
        results[name] = _save_resume_and_refusals(t, tmp_path / name)
    assert results["fnnet"] == results["torch"]
    assert not (tmp_path / "fnnet" / "holder.pt").exists()  # PyTorch leaves a partial file
    # a class the loading script does not define: pickle's error, as in PyTorch
    monkeypatch.delattr(_HERE, "Net")
    for name, t in (("torch", torch), ("fnnet", ft)):
        with pytest.raises(AttributeError, match="Can't get attribute 'Net' on <module"):
            t.load(tmp_path / name / "model.pt", weights_only=False)


@pytest.mark.filterwarnings("ignore:Couldn't retrieve source code")
def test_whole_objects_in_pytorchs_format_before_1_6_load_and_bare_pickles_are_refused(
        torch, tmp_path, monkeypatch):
    import argparse

    monkeypatch.setattr(_HERE, "Net", _small_cnn_class(torch))
    theirs = _HERE.Net().eval()
    args = argparse.Namespace(lr=0.1, best=np.float64(0.5))  # what old scripts kept
    torch.save({"model": theirs, "args": args, "tied": [theirs.classifier[1].weight] * 2},
               tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    x = np.linspace(-1, 1, 32, dtype=np.float32).reshape(2, 1, 4, 4)
    expected = theirs(torch.tensor(x)).detach().numpy()
    monkeypatch.setattr(_HERE, "Net", _small_cnn_class(ft))
    with pytest.raises(pickle.UnpicklingError) as refused:  # PyTorch's message
        ft.load(tmp_path / "legacy.pt")
    with pytest.raises(pickle.UnpicklingError) as pytorch_refused:
        torch.load(tmp_path / "legacy.pt")
    assert str(refused.value) == str(pytorch_refused.value)
    loaded = ft.load(tmp_path / "legacy.pt", weights_only=False)
    assert type(loaded["model"]) is _HERE.Net and loaded["args"] == args
    assert loaded["tied"][0] is loaded["tied"][1] is loaded["model"].classifier[1].weight
    np.testing.assert_allclose(loaded["model"](ft.tensor(x)).detach().numpy(), expected,
                               rtol=1e-5, atol=1e-6)
    (tmp_path / "plain.pkl").write_bytes(pickle.dumps({"w": [1.0, 2.0]}))
    with pytest.raises(PickleNotSupported, match=r"plain.pkl' is a bare pickle"):
        ft.load(tmp_path / "plain.pkl", weights_only=False)
    # the state-dict way, which PyTorch's tutorial recommends, across the two libraries
    model = _HERE.Net()
    ft.save(model.state_dict(), tmp_path / "weights.pt")
    monkeypatch.setattr(_HERE, "Net", _small_cnn_class(torch))
    theirs = _HERE.Net()
    theirs.load_state_dict(torch.load(tmp_path / "weights.pt"))
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(theirs.state_dict()[key].numpy(), value.numpy())



def _activation_class(t):
    """A model keeping PyTorch's built-in functions as attributes: ``F.gelu`` pickles
    as ``torch._C._nn.gelu``, ``torch.tanh`` as ``getattr`` of a class of ``torch._C``."""

    class Net(t.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = t.nn.Linear(3, 2)
            self.acts = [t.nn.functional.gelu, t.tanh, t.nn.functional.relu]

        def forward(self, x):
            for act in self.acts:
                x = act(x)
            return self.fc(x)

    Net.__module__, Net.__qualname__ = __name__, "Net"
    return Net


def test_a_model_holding_pytorchs_functions_loads_whole(torch, tmp_path, monkeypatch):
    monkeypatch.setattr(_HERE, "Net", _activation_class(torch))
    model = _HERE.Net()
    torch.save(model, tmp_path / "model.pt")
    x = np.linspace(-2, 2, 6, dtype=np.float32).reshape(2, 3)
    expected = model(torch.tensor(x)).detach().numpy()
    monkeypatch.setattr(_HERE, "Net", _activation_class(ft))
    mine = ft.load(tmp_path / "model.pt", weights_only=False)
    assert mine.acts == [ft.nn.functional.gelu, ft.tanh, ft.nn.functional.relu]
    np.testing.assert_allclose(mine(ft.tensor(x)).detach().numpy(), expected, rtol=1e-5)


#: positional arguments of the layers that need some
_ARGS = {
    'Linear': (3, 4), 'Bilinear': (2, 3, 4), 'LazyLinear': (4,), 'Conv1d': (2, 3, 3),
    'Conv2d': (2, 3, 3), 'Conv3d': (2, 3, 3), 'ConvTranspose1d': (2, 3, 3),
    'ConvTranspose2d': (2, 3, 3), 'ConvTranspose3d': (2, 3, 3), 'BatchNorm1d': (3,),
    'BatchNorm2d': (3,), 'BatchNorm3d': (3,), 'InstanceNorm1d': (3,),
    'InstanceNorm2d': (3,), 'InstanceNorm3d': (3,), 'LayerNorm': (5,), 'GroupNorm': (2, 4),
    'LocalResponseNorm': (3,), 'RMSNorm': (5,), 'Embedding': (10, 4),
    'EmbeddingBag': (10, 4), 'LSTM': (3, 4), 'GRU': (3, 4), 'RNN': (3, 4),
    'LSTMCell': (3, 4), 'GRUCell': (3, 4), 'RNNCell': (3, 4), 'MultiheadAttention': (6, 2),
    'TransformerEncoderLayer': (6, 2, 8), 'TransformerDecoderLayer': (6, 2, 8),
    'MaxPool1d': (2,), 'MaxPool2d': (2,), 'MaxPool3d': (2,), 'AvgPool1d': (2,),
    'AvgPool2d': (2,), 'AvgPool3d': (2,), 'AdaptiveAvgPool1d': (2,),
    'AdaptiveAvgPool2d': (2,), 'AdaptiveAvgPool3d': (2,), 'AdaptiveMaxPool1d': (2,),
    'AdaptiveMaxPool2d': (2,), 'AdaptiveMaxPool3d': (2,), 'LPPool1d': (2, 2),
    'LPPool2d': (2, 2), 'LPPool3d': (2, 2), 'FractionalMaxPool2d': (2,),
    'MaxUnpool1d': (2,), 'MaxUnpool2d': (2,), 'MaxUnpool3d': (2,), 'PixelShuffle': (2,),
    'PixelUnshuffle': (2,), 'Upsample': (None, 2), 'UpsamplingNearest2d': (None, 2),
    'UpsamplingBilinear2d': (None, 2), 'ConstantPad1d': (2, 1.5), 'ConstantPad2d': (2, 1.5),
    'ConstantPad3d': (2, 1.5), 'ZeroPad1d': (2,), 'ZeroPad2d': (2,), 'ZeroPad3d': (2,),
    'ReflectionPad1d': (2,), 'ReflectionPad2d': (2,), 'ReflectionPad3d': (2,),
    'ReplicationPad1d': (2,), 'ReplicationPad2d': (2,), 'ReplicationPad3d': (2,),
    'CircularPad1d': (2,), 'CircularPad2d': (2,), 'CircularPad3d': (2,),
    'Threshold': (0.1, 20.0), 'Unflatten': (1, (2, 3)), 'Fold': ((4, 4), 2), 'Unfold': (2,),
    'ChannelShuffle': (2,), 'PReLU': (3,), 'Softmax': (1,), 'LogSoftmax': (1,),
    'Softmin': (1,), 'GLU': (0,), 'AdaptiveLogSoftmaxWithLoss': (8, 10, [4]),
    'CrossMapLRN2d': (3,), 'Transformer': (6, 2, 1, 1, 8),
}
#: keyword arguments other than the defaults
_KWARGS = {
    'Dropout': dict(p=0.3), 'LeakyReLU': dict(negative_slope=0.3),
    'GELU': dict(approximate='tanh'), 'ELU': dict(alpha=0.5), 'CELU': dict(alpha=0.5),
    'Hardtanh': dict(min_val=-2.0, max_val=3.0), 'Softplus': dict(beta=2.0, threshold=10.0),
    'Flatten': dict(start_dim=2),
    'CrossEntropyLoss': dict(label_smoothing=0.1, ignore_index=3),
    'Conv2d': dict(stride=2, padding=1, dilation=1, groups=1, bias=False, padding_mode='reflect'),
    'LSTM': dict(num_layers=2, batch_first=True, dropout=0.1, bidirectional=True),
    'GRU': dict(bias=False), 'Embedding': dict(padding_idx=1, max_norm=2.0),
    'BatchNorm1d': dict(momentum=None, eps=0.001, affine=False),
    'MaxPool2d': dict(stride=1, padding=1, ceil_mode=True),
    'AvgPool2d': dict(count_include_pad=False, ceil_mode=True),
    'LayerNorm': dict(elementwise_affine=False), 'Hardshrink': dict(lambd=0.3),
    'Softshrink': dict(lambd=0.3), 'RReLU': dict(lower=0.2, upper=0.4),
    'SmoothL1Loss': dict(beta=0.5), 'HuberLoss': dict(delta=0.5),
    'KLDivLoss': dict(reduction='batchmean', log_target=True),
    'MultiheadAttention': dict(batch_first=True, bias=False, dropout=0.1),
    'TransformerEncoderLayer': dict(norm_first=True, activation='gelu', batch_first=True),
    'Upsample': dict(mode='bilinear', align_corners=True), 'Identity': {}, 'Sigmoid': {},
    'MSELoss': dict(reduction='sum'), 'NLLLoss': dict(ignore_index=2),
    'BCEWithLogitsLoss': {}, 'TripletMarginLoss': dict(margin=0.5, p=1.0, swap=True),
}


def _public(module):
    return {k: repr(v) for k, v in vars(module).items()
            if not k.startswith("_") and not isinstance(v, (ft.Tensor, ft.nn.Module))}


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_every_layer_is_saved_whole_and_loaded_back_the_same():
    """Each layer of fnnet.torch.nn, built with arguments other than its defaults, is
    rebuilt on load from what PyTorch's layout keeps: the same repr, attributes and state."""
    differ, built = [], 0
    for name in sorted(dir(ft.nn)):
        cls = getattr(ft.nn, name)
        if not (isinstance(cls, type) and issubclass(cls, ft.nn.Module)) or cls is ft.nn.Module:
            continue
        if name.startswith("Lazy"):  # placeholders, no values: test_shim_added_names saves them
            continue
        try:
            module = cls(*_ARGS.get(name, ()), **_KWARGS.get(name, {}))
        except (TypeError, NotImplementedError):  # wrappers of a module, unsupported options
            continue
        built += 1
        buffer = io.BytesIO()
        ft.save(module, buffer)
        buffer.seek(0)
        loaded = ft.load(buffer, weights_only=False)
        before, after = module.state_dict(), loaded.state_dict()
        if (type(loaded) is not cls or repr(loaded) != repr(module)
                or _public(loaded) != _public(module) or list(after) != list(before)
                or any(not np.array_equal(after[k].numpy(), before[k].numpy())
                       for k in before)):
            differ.append(name)
    assert built > 100 and differ == []


def test_a_damaged_whole_model_file_is_named_and_refused(tmp_path):
    model = ft.nn.Sequential(ft.nn.Linear(4, 3), ft.nn.ReLU(), ft.nn.Linear(3, 2))
    ft.save(model, tmp_path / "model.pt")
    data = (tmp_path / "model.pt").read_bytes()
    for cut in range(16, len(data), max(1, len(data) // 25)):
        (tmp_path / "cut.pt").write_bytes(data[:cut])
        with pytest.raises(ValueError, match=r"cut.pt' is a damaged PyTorch checkpoint"):
            ft.load(tmp_path / "cut.pt", weights_only=False)
    flipped = bytearray(data)
    start = data.index(b"data.pkl") + len(b"data.pkl") + 100  # inside the pickle's record
    flipped[start] ^= 0xFF
    (tmp_path / "flip.pt").write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match=r"flip.pt' is a damaged PyTorch checkpoint.*CRC"):
        ft.load(tmp_path / "flip.pt", weights_only=False)


def test_a_resume_that_catches_pytorchs_error_catches_a_damaged_checkpoint(torch, tmp_path):
    """Scripts resume with ``try: torch.load(path) except RuntimeError: start afresh``:
    a checkpoint cut short by a crash, or a zip archive that is no checkpoint, raises a
    RuntimeError in both libraries (fnnet's also a ValueError naming the file)."""
    def resume(T, path):
        try:
            return sorted(T.load(path))
        except RuntimeError:
            return "afresh"

    for T in (torch, ft):
        T.save(T.nn.Linear(3, 2).state_dict(), tmp_path / "whole.pt")
        data = (tmp_path / "whole.pt").read_bytes()
        (tmp_path / "cut.pt").write_bytes(data[:len(data) // 2])
        np.savez(tmp_path / "arrays.npz", a=np.ones(2))
        assert [resume(T, tmp_path / name) for name in ("whole.pt", "cut.pt", "arrays.npz")
                ] == [["bias", "weight"], "afresh", "afresh"]
    with pytest.raises(ValueError, match=r"cut.pt' is a damaged PyTorch checkpoint"):
        ft.load(tmp_path / "cut.pt")


@pytest.mark.parametrize("prefix", ["", "module."])
def test_a_checkpoint_without_batchnorms_counter_loads_as_in_pytorch(torch, prefix):
    """A state dict saved without ``num_batches_tracked`` (older PyTorch, or rebuilt by
    hand, as when stripping DataParallel's ``module.``): PyTorch keeps the counter and
    does not call it missing."""
    outcomes = []
    for t in (torch, ft):
        model = t.nn.Sequential(t.nn.Linear(2, 2), t.nn.BatchNorm1d(2))
        state = {prefix + k: v for k, v in model.state_dict().items()
                 if "num_batches_tracked" not in k}
        result = model.load_state_dict(state, strict=False)
        outcomes.append((sorted(result.missing_keys), sorted(result.unexpected_keys)))
    assert outcomes[0] == outcomes[1]


def _wrapped_models(t):
    """Models wrapped as scripts wrap them before torch.save(model)."""
    def mlp():
        return t.nn.Sequential(t.nn.Linear(2, 2), t.nn.ReLU())

    # PyTorch's own compile is left out: its compiler's state does not always pickle
    # in a process that has compiled before ("cannot pickle 'Device' object")
    compiled = {"compile": t.compile(mlp())} if t is ft else {}
    return {**compiled, "data_parallel": t.nn.DataParallel(mlp()),
            "averaged": t.optim.swa_utils.AveragedModel(mlp())}


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_wrapped_models_are_saved_whole_and_parametrized_ones_refused_as_in_pytorch(torch):
    """torch.compile's OptimizedModule, DataParallel and swa_utils' AveragedModel saved
    whole load back as the same wrapper with the same state dict (fnnet.torch refused
    the first and the last as damaged); a parametrized module is refused with PyTorch's
    RuntimeError."""
    seen = []
    for t in (torch, ft):
        t.manual_seed(0)
        shown = []
        for name, model in _wrapped_models(t).items():
            buffer = io.BytesIO()
            t.save(model, buffer)
            loaded = t.load(io.BytesIO(buffer.getvalue()), weights_only=False)
            shown.append((name, type(loaded).__name__, list(loaded.state_dict()),
                          all(t.equal(a, b) for a, b in zip(
                              loaded.state_dict().values(), model.state_dict().values(),
                              strict=True))))
        with pytest.raises(RuntimeError) as refused:
            t.save(t.nn.utils.parametrizations.weight_norm(t.nn.Linear(2, 2)), io.BytesIO())
        seen.append((shown, str(refused.value)))
    compiled = ("compile", "OptimizedModule", ["_orig_mod.0.weight", "_orig_mod.0.bias"],
                True)  # what PyTorch's loads as, in a process of its own
    assert seen[1] == ([compiled, *seen[0][0]], seen[0][1])
    assert all(same for *_, same in seen[0][0])


def test_a_module_saved_without_a_constructor_argument_is_refused_by_name():
    """A whole module whose saved attributes lack an argument its fnnet.torch class is
    built from is refused naming the class, the argument and the fnnet way, not as a
    damaged file."""
    model = ft.nn.Linear(2, 3)
    del model.__dict__["in_features"]
    buffer = io.BytesIO()
    ft.save(model, buffer)
    with pytest.raises(NotImplementedError, match="cannot rebuild Linear .* argument "
                       "'in_features': save the model's state_dict"):
        ft.load(io.BytesIO(buffer.getvalue()), weights_only=False)
