"""What programs written for PyTorch print and compute, beyond the corpus: each test is a
pattern from course and blog code that fnnet.torch once got wrong, checked against
PyTorch 2.13 (printed text exactly, values within float32 rounding)."""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import pytest

import fnnet.torch as ft

pytestmark = pytest.mark.torch

INF, NAN = math.inf, math.nan


def _np(t):
    return np.asarray(t.detach().numpy(), np.float64)


# -- printing ---------------------------------------------------------------------------

FLOATS = [
    [-INF, 0.0, 0.0],  # no nonzero finite value: no padding at all
    [-INF, 10.0, 0.0],
    [-INF, 0.5, 0.0],
    [NAN, 1.0, 2.0],  # a NaN wider than the numbers does not widen the columns
    [NAN, INF, -INF],
    [-0.0, 1.0],
    [1.0, 10000.0],  # integers more than 1e3 apart print in scientific notation
    [100.0, 0.001],
    [0.0, 1e9],
    [1e-5, 0.0],
    [[1.5, -2.0, 3.25], [0.0, 4.0, -1.125]],
    [2.5, NAN],
]


@pytest.mark.parametrize("values", FLOATS, ids=[str(v) for v in FLOATS])
def test_float_tensors_print_as_pytorch(torch, values):
    assert repr(ft.tensor(values)) == repr(torch.tensor(values))


@pytest.mark.parametrize("options", [{"precision": 2}, {"sci_mode": True}],
                         ids=["precision", "sci_mode"])
def test_float_tensors_print_as_pytorch_under_printoptions(torch, options):
    try:
        torch.set_printoptions(**options)
        ft.set_printoptions(**options)
        for values in FLOATS:
            assert repr(ft.tensor(values)) == repr(torch.tensor(values))
    finally:
        torch.set_printoptions(profile="default")
        ft.set_printoptions(profile="default")


X = np.array([[1.5, -2.0, 3.25], [0.25, 4.0, -1.125]], np.float32)


@pytest.mark.parametrize("call", [
    lambda T, x: x.max(dim=1), lambda T, x: x.min(0), lambda T, x: T.max(x, 1),
    lambda T, x: T.sort(x, dim=1, descending=True), lambda T, x: x.topk(2),
    lambda T, x: x.median(1), lambda T, x: T.cummax(x, 0), lambda T, x: x.cummin(1),
], ids=["max", "min", "torch.max", "sort", "topk", "median", "cummax", "cummin"])
def test_values_indices_results_print_and_unpack_as_pytorch(torch, call):
    ours, theirs = call(ft, ft.tensor(X)), call(torch, torch.tensor(X))
    assert repr(ours) == repr(theirs)
    assert str(ours) == str(theirs)
    values, indices = ours
    assert values is ours.values and indices is ours.indices and len(ours) == 2
    np.testing.assert_allclose(_np(ours.values), _np(theirs.values))
    np.testing.assert_array_equal(_np(ours[1]), _np(theirs[1]))


def _containers(nn):
    return nn.ModuleList([
        nn.Linear(3, 3), nn.Linear(3, 3), nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 3),
        nn.Sequential(OrderedDict([("fc", nn.Linear(3, 2)), ("act", nn.Tanh())])),
        nn.Sequential(OrderedDict([("fc", nn.Linear(3, 2)), ("act", nn.Tanh())])),
        nn.ModuleList([nn.ReLU(), nn.ReLU()])])


def test_module_list_prints_runs_of_alike_modules_once_as_pytorch(torch):
    ours, theirs = _containers(ft.nn), _containers(torch.nn)
    assert repr(ours) == repr(theirs)
    assert repr(ft.nn.ModuleList()) == repr(torch.nn.ModuleList())
    holder = {T: T.nn.Sequential(OrderedDict(blocks=T.nn.ModuleList(
        [T.nn.Linear(2, 2) for _ in range(3)]))) for T in (ft, torch)}
    assert repr(holder[ft]) == repr(holder[torch])


EDITS = {
    "del a named child": lambda nn, s: s.__delitem__(0),
    "del a slice": lambda nn, s: s.__delitem__(slice(1, 3)),
    "insert": lambda nn, s: s.insert(1, nn.Identity()),
    "insert at the end, negative": lambda nn, s: s.insert(-1, nn.ELU()),
    "extend": lambda nn, s: s.extend([nn.ELU(), nn.GELU()]),
    "pop": lambda nn, s: s.pop(1),
    "+=": lambda nn, s: s.__iadd__(nn.Sequential(nn.ReLU())),
}


@pytest.mark.parametrize("edit", EDITS)
def test_editing_a_sequential_names_its_children_as_pytorch(torch, edit):
    # PyTorch numbers the children again after a deletion or an insertion, so the state
    # dict's keys of the edited model (a backbone with its head cut off) are its own
    # (PyTorch's insert shifts numbered children only: a named one is a KeyError there)
    keys, reprs = [], []
    for T in (torch, ft):
        layers = [T.nn.Linear(3, 4), T.nn.Tanh(), T.nn.Linear(4, 2), T.nn.Softmax(dim=1)]
        model = T.nn.Sequential(*layers) if edit.startswith("insert") else \
            T.nn.Sequential(OrderedDict(zip(("fc", "act", "out", "soft"), layers, strict=True)))
        EDITS[edit](T.nn, model)
        keys.append(list(model.state_dict()))
        reprs.append(repr(model))
    assert keys[1] == keys[0] and reprs[1] == reprs[0]


def test_editing_a_module_list_and_joining_containers_as_pytorch(torch):
    results = []
    for T in (torch, ft):
        blocks = T.nn.ModuleList([T.nn.Linear(2, 2), T.nn.ReLU(), T.nn.Linear(2, 1)])
        del blocks[0]
        popped = blocks.pop(0)
        blocks += [T.nn.Tanh()]
        joined = blocks + T.nn.ModuleList([T.nn.ReLU()])
        twice = T.nn.Sequential(T.nn.ReLU(), T.nn.Linear(1, 1)) * 2
        results.append((type(popped).__name__, repr(blocks), list(joined.state_dict()),
                        repr(twice), list(twice.state_dict())))
        with pytest.raises(IndexError, match="Index out of range: 9"):
            T.nn.Sequential(T.nn.ReLU()).insert(9, T.nn.ReLU())
    assert results[1] == results[0]


MODULES = {
    "Identity": lambda nn: nn.Identity(),
    "Sequential with Identity": lambda nn: nn.Sequential(nn.Linear(2, 2), nn.Identity()),
    "LSTM": lambda nn: nn.LSTM(3, 4, num_layers=2, batch_first=True, dropout=0.1),
    "Embedding": lambda nn: nn.Embedding(10, 3, padding_idx=0),
    "Conv2d": lambda nn: nn.Conv2d(1, 2, 3, padding=1),
    "losses": lambda nn: nn.ModuleList([nn.CrossEntropyLoss(), nn.MSELoss(reduction="sum")]),
}


@pytest.mark.parametrize("name", MODULES)
def test_modules_print_as_pytorch(torch, name):
    assert repr(MODULES[name](ft.nn)) == repr(MODULES[name](torch.nn))


# -- Tensor.unfold ----------------------------------------------------------------------

SERIES = np.random.default_rng(0).standard_normal((2, 7, 3)).astype(np.float32)


@pytest.mark.parametrize("args", [(1, 3, 2), (1, 7, 1), (1, 0, 1), (-1, 2, 1), (0, 1, 1),
                                  (1, 2, 5)])
def test_unfold_windows_and_gradient_match_pytorch(torch, args):
    results = []
    for T in (ft, torch):
        x = T.tensor(SERIES, requires_grad=True)
        windows = x.unfold(*args)
        (windows * windows * T.arange(windows.shape[-1])).sum().backward()
        results.append((windows, x.grad))
    (ours, our_grad), (theirs, their_grad) = results
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(_np(ours), _np(theirs))
    np.testing.assert_allclose(_np(our_grad), _np(their_grad), rtol=1e-6)


def test_unfold_of_a_scalar_and_bad_arguments_raise_as_pytorch(torch):
    assert repr(ft.tensor(5.0).unfold(0, 1, 1)) == repr(torch.tensor(5.0).unfold(0, 1, 1))
    for args, error in [((0, 9, 1), RuntimeError), ((0, 3, 0), RuntimeError),
                        ((1, 2, 1), IndexError)]:
        with pytest.raises(error) as theirs:
            torch.arange(8.0).unfold(*args)
        with pytest.raises(error) as ours:
            ft.arange(8.0).unfold(*args)
        assert str(ours.value) == str(theirs.value)


# -- as_strided -------------------------------------------------------------------------

STRIDED = [  # (how the tensor is taken from arange(12.) viewed [3, 4], size, stride, offset)
    (lambda x: x.reshape(-1), (4, 5), (2, 1), None),  # sliding windows of a series
    (lambda x: x, (2, 3, 2), (4, 1, 0), 1),
    (lambda x: x.t(), (3, 4), (1, 3), None),
    (lambda x: x[1:], (2, 3), (1, 2), None),
    (lambda x: x[1:, 1:], (2, 2), (4, 1), 6),
    (lambda x: x, (0, 3), (1, 1), None),
]


@pytest.mark.parametrize("case", range(len(STRIDED)))
def test_as_strided_windows_and_gradient_match_pytorch(torch, case):
    taken, size, stride, offset = STRIDED[case]
    results = []
    for T in (ft, torch):
        x = T.arange(12.0).view(3, 4).requires_grad_()
        view = taken(x)
        out = T.as_strided(view, size, stride, offset)
        (out * out).sum().backward()
        results.append((out, x.grad, view.storage_offset()))
    (ours, our_grad, our_offset), (theirs, their_grad, their_offset) = results
    assert our_offset == their_offset
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(_np(ours), _np(theirs))
    np.testing.assert_array_equal(_np(our_grad), _np(their_grad))


def test_as_strided_bad_arguments_raise_as_pytorch(torch):
    for args in [((3, 4), (1,)), ((3, 4), (3, -1)), ((-1,), (1,)), ((3, 4), (3, 2)),
                 ((3,), (4,))]:
        with pytest.raises(RuntimeError) as theirs:
            torch.arange(10.0)[2:].as_strided(*args)
        with pytest.raises(RuntimeError) as ours:
            ft.arange(10.0)[2:].as_strided(*args)
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(NotImplementedError, match="outside the view"):
        ft.arange(10.0)[2:].as_strided((3,), (1,), 0)


# -- factories given 0-dim tensors ------------------------------------------------------

FACTORIES = [
    lambda T: T.linspace(T.tensor(0.5), T.tensor(2.0), 4),  # thresholds from d.min(), d.max()
    lambda T: T.linspace(0, T.tensor(3), T.tensor(4)),
    lambda T: T.logspace(T.tensor(-1.0), 1, 3),
    lambda T: T.arange(T.tensor(2.5)),
    lambda T: T.arange(1, T.tensor(7), 2),
    lambda T: T.full((2,), T.tensor(2.5)),
    lambda T: T.full((2,), T.tensor(3)),
    lambda T: T.full_like(T.zeros(2, dtype=T.int64), T.tensor(1.5)),
]


@pytest.mark.parametrize("case", range(len(FACTORIES)))
def test_factories_read_zero_dim_tensors_as_numbers(torch, case):
    ours, theirs = FACTORIES[case](ft), FACTORIES[case](torch)
    assert repr(ours) == repr(theirs)


def test_factories_refuse_tensors_of_more_dimensions_as_pytorch(torch):
    for make in (lambda T: T.linspace(0, T.ones(2), 3), lambda T: T.logspace(T.ones(2), 2, 3),
                 lambda T: T.full((2,), T.ones(2)), lambda T: T.arange(T.ones(2))):
        with pytest.raises((RuntimeError, TypeError)) as theirs:
            make(torch)
        with pytest.raises(theirs.type) as ours:
            make(ft)
        assert str(ours.value) == str(theirs.value)


def test_flip_takes_dims_as_pytorch_does(torch):
    # the method's varargs form flips a precision matrix: P.flip(-2, -1)
    for call in (lambda x: x.flip(-2, -1), lambda x: x.flip(0), lambda x: x.flip([1])):
        assert repr(call(ft.arange(6.0).view(2, 3))) == repr(call(torch.arange(6.0).view(2, 3)))
    assert repr(ft.flip(ft.arange(4.0), dims=(0,))) == repr(torch.flip(torch.arange(4.0),
                                                                        dims=(0,)))


# -- schedulers -------------------------------------------------------------------------

SCHEDULERS = {
    "StepLR": lambda L, o: L.StepLR(o, step_size=2, gamma=0.5),
    "LambdaLR": lambda L, o: L.LambdaLR(o, lambda epoch: 0.9 ** epoch),
    "CosineAnnealingLR": lambda L, o: L.CosineAnnealingLR(o, T_max=4),
    "ExponentialLR": lambda L, o: L.ExponentialLR(o, gamma=0.9),
}


@pytest.mark.parametrize("name", SCHEDULERS)
def test_scheduler_state_dict_has_pytorchs_keys_and_step_count(torch, name):
    states = []
    for T in (ft, torch):
        optimizer = T.optim.SGD(T.nn.Linear(2, 1).parameters(), lr=0.1)
        scheduler = SCHEDULERS[name](T.optim.lr_scheduler, optimizer)
        for _ in range(3):
            optimizer.step()
            scheduler.step()
        states.append(scheduler.state_dict())
    ours, theirs = states
    assert sorted(ours) == sorted(theirs)
    for key in ("_step_count", "last_epoch", "_is_initial", "_get_lr_called_within_step"):
        assert ours[key] == theirs[key], key
    np.testing.assert_allclose(ours["_last_lr"], theirs["_last_lr"])


# -- imports of unsupported names -------------------------------------------------------


@pytest.mark.parametrize("statement", [
    "from fnnet.torch.nn import FractionalMaxPool2d",
    "from fnnet.torch.nn import Linear, CrossMapLRN2d",
    "from fnnet.torch.nn.attention import flex_attention",
    "from fnnet.torch.utils.data import IterDataPipe"])
def test_importing_an_unsupported_name_says_what_to_use(statement):
    # Python turns an AttributeError there into a bare "cannot import name"
    name = statement.rsplit(" ", 1)[-1]
    with pytest.raises(NotImplementedError, match=f"does not support .*{name}; ") as info:
        exec(statement, {})
    assert isinstance(info.value, ImportError)  # code falling back on ImportError still does
    assert not hasattr(ft.nn, "FractionalMaxPool2d")  # and hasattr() is still False


# -- torch.nn.utils ---------------------------------------------------------------------


def test_vector_to_parameters_inverts_parameters_to_vector(torch):
    models = [T.nn.Linear(3, 2) for T in (ft, torch)]
    for T, model in zip((ft, torch), models, strict=True):
        flat = T.nn.utils.parameters_to_vector(model.parameters())
        T.nn.utils.vector_to_parameters(T.arange(8.0) * 0.5 + 0 * flat, model.parameters())
    for (name, ours), (_, theirs) in zip(models[0].state_dict().items(),
                                         models[1].state_dict().items(), strict=True):
        np.testing.assert_array_equal(_np(ours), _np(theirs), err_msg=name)


def _fused(T, kind):
    """A layer and an eval-mode BatchNorm of set statistics, folded by
    ``nn.utils.fusion``: the fused layer's output, parameters and flags."""
    layer = {"conv": lambda: T.nn.Conv2d(2, 3, 3, bias=False),
             "transposed": lambda: T.nn.ConvTranspose2d(2, 3, 2),
             "linear": lambda: T.nn.Linear(4, 3)}[kind]()
    bn = T.nn.BatchNorm1d(3) if kind == "linear" else T.nn.BatchNorm2d(3)
    with T.no_grad():
        for i, p in enumerate([*layer.parameters(), bn.weight, bn.bias, bn.running_mean]):
            p.copy_(T.tensor(np.random.default_rng(i).uniform(-1, 1, tuple(p.shape))
                             .astype(np.float32)))
        bn.running_var.copy_(T.tensor([0.5, 2.0, 1.5]))
    layer.eval()
    bn.eval()
    x = T.tensor(np.random.default_rng(9).standard_normal(
        (2, 4) if kind == "linear" else (1, 2, 5, 5)).astype(np.float32))
    if kind == "linear":
        fused = T.nn.utils.fusion.fuse_linear_bn_eval(layer, bn)
    else:
        fused = T.nn.utils.fuse_conv_bn_eval(layer, bn, transpose=kind == "transposed")
    with T.no_grad():
        out, expected = fused(x), bn(layer(x))
    return (_np(out), _np(expected), _np(fused.weight), _np(fused.bias),
            fused.weight.requires_grad, fused.bias.requires_grad, layer.bias is None)


@pytest.mark.parametrize("kind", ["conv", "transposed", "linear"])
def test_fuse_batchnorm_into_the_layer_before_as_pytorch(torch, kind):
    mine, theirs = _fused(ft, kind), _fused(torch, kind)
    for a, b in zip(mine[:4], theirs[:4], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mine[0], mine[1], rtol=1e-5, atol=1e-5)
    assert mine[4:] == theirs[4:]
    for T in (ft, torch):
        with pytest.raises(AssertionError, match="^Fusion only for eval!$"):
            T.nn.utils.fuse_conv_bn_eval(T.nn.Conv2d(1, 2, 1), T.nn.BatchNorm2d(2))
        linear, bn = T.nn.Linear(2, 3).eval(), T.nn.BatchNorm1d(2).eval()
        with pytest.raises(AssertionError, match="linear.out_features=3 and bn.num_features=2"):
            T.nn.utils.fuse_linear_bn_eval(linear, bn)


SEQS = [np.random.default_rng(i).standard_normal((n, 3)).astype(np.float32)
        for i, n in enumerate((4, 2, 5, 2))]


@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_pack_and_unpack_sequences_match_pytorch(torch, batch_first):
    out = []
    for T in (ft, torch):
        R = T.nn.utils.rnn
        seqs = [T.tensor(s) for s in SEQS]
        padded = R.pad_sequence(seqs, batch_first=batch_first, padding_value=-1.0)
        packed = R.pack_padded_sequence(padded, T.tensor([4, 2, 5, 2]),
                                        batch_first=batch_first, enforce_sorted=False)
        unpacked, lengths = R.pad_packed_sequence(packed, batch_first=batch_first,
                                                  total_length=6)
        left = R.pad_sequence(seqs, padding_side="left")
        out.append((padded, packed.data, packed.batch_sizes, unpacked, lengths, left,
                    R.pack_sequence(seqs[2:3] + seqs[:1], enforce_sorted=True).data,
                    R.unpack_sequence(packed)[1]))
    for ours, theirs in zip(*out, strict=True):
        assert tuple(ours.shape) == tuple(theirs.shape)
        np.testing.assert_array_equal(_np(ours), _np(theirs))


def test_padding_a_batch_of_each_length_compiles_nothing(torch):
    """A collate_fn pads the sequences of each batch to its longest (pad_sequence), and a
    model makes its initial state each forward pass (torch.zeros of the batch's size) and
    picks each sequence's last step (torch.arange of the batch's size): small constants
    are made on the host, where jax compiled a fill for each new shape."""
    from helpers import counting_compiles

    rng = np.random.default_rng(0)
    batches = [[rng.integers(1, 50, n) for n in rng.integers(3, 30, 5)] for _ in range(6)]
    with counting_compiles() as compiles:
        for seqs in batches:
            padded = [T.nn.utils.rnn.pad_sequence([T.tensor(s) for s in seqs],
                                                  batch_first=True, padding_value=7)
                      for T in (ft, torch)]
            np.testing.assert_array_equal(padded[0].numpy(), padded[1].numpy())
            assert padded[0].dtype == ft.int64
            h0 = ft.zeros(2, len(seqs), 16)
            assert h0.shape == (2, len(seqs), 16) and not h0.numpy().any()
            assert ft.full((len(seqs), 3), 2.5).numpy().tolist() == [[2.5] * 3] * len(seqs)
            rows = ft.arange(len(seqs))
            assert rows.dtype == ft.int64 and rows.tolist() == list(range(len(seqs)))
            assert ft.eye(len(seqs), 3).tolist() == torch.eye(len(seqs), 3).tolist()
    assert compiles == []
    for bad in ((-1,), (2, -3), (2.5,), (True,)):  # PyTorch's checks of eye's sizes
        errors = []
        for lib in (ft, torch):
            with pytest.raises((TypeError, RuntimeError)) as caught:
                lib.eye(*bad)
            errors.append((caught.type, str(caught.value)))
        assert errors[0] == errors[1]


def test_pack_padded_sequence_refuses_unsorted_lengths_as_pytorch(torch):
    messages = []
    for T in (ft, torch):
        with pytest.raises(RuntimeError) as info:
            T.nn.utils.rnn.pack_padded_sequence(T.zeros(5, 2, 3), [2, 5])
        messages.append(str(info.value))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("lengths, enforce_sorted", [
    ([5, 0], True), ([0, 5], False), ([5, -1], True), ([5, 2, 1], True)])
def test_pack_padded_sequence_refuses_bad_lengths_as_pytorch(torch, lengths, enforce_sorted):
    from helpers import raised_by

    def call(T):
        return T.nn.utils.rnn.pack_padded_sequence(T.zeros(5, 2, 3), T.tensor(lengths),
                                                   enforce_sorted=enforce_sorted)

    assert raised_by(call, ft) == raised_by(call, torch)


def test_unpad_sequence_keeps_an_empty_sequence_as_pytorch(torch):
    pieces = []
    for T in (torch, ft):
        out = T.nn.utils.rnn.unpad_sequence(T.ones(2, 3), T.tensor([3, 0]), batch_first=True)
        pieces.append([tuple(p.shape) for p in out])
    assert pieces[0] == pieces[1] == [(3,), (0,)]


@pytest.mark.parametrize("kind,layers,bidirectional,batch_first,proj", [
    ("LSTM", 2, True, True, 0), ("GRU", 1, False, False, 0), ("LSTM", 2, True, False, 3)])
def test_recurrent_layers_on_packed_sequences_match_pytorch(torch, kind, layers,
                                                            bidirectional, batch_first, proj):
    runs = []
    for T in (ft, torch):
        layer = getattr(T.nn, kind)(3, 4, num_layers=layers, bidirectional=bidirectional,
                                    batch_first=batch_first, **({"proj_size": proj}
                                                                if proj else {}))
        with T.no_grad():
            for i, p in enumerate(layer.parameters()):
                p.copy_(T.tensor(np.random.default_rng(10 + i).uniform(
                    -0.5, 0.5, tuple(p.shape)).astype(np.float32)))
        seqs = [T.tensor(s, requires_grad=True) for s in SEQS]
        padded = T.nn.utils.rnn.pad_sequence(seqs, batch_first=batch_first)
        packed = T.nn.utils.rnn.pack_padded_sequence(padded, [4, 2, 5, 2],
                                                     batch_first=batch_first,
                                                     enforce_sorted=False)
        directions = 2 if bidirectional else 1
        h0 = T.tensor(np.random.default_rng(3).standard_normal(
            (layers * directions, 4, 4)).astype(np.float32))
        hx = (h0[..., :proj or 4], h0 * 0.5) if kind == "LSTM" else h0
        output, state = layer(packed, hx)
        h_n = state[0] if kind == "LSTM" else state
        unpacked, _ = T.nn.utils.rnn.pad_packed_sequence(output, batch_first=batch_first)
        ((unpacked * unpacked).sum() + h_n.sum()).backward()
        runs.append((output.data, unpacked, h_n, *(s.grad for s in seqs),
                     *(p.grad for p in layer.parameters())))
    for ours, theirs in zip(*runs, strict=True):
        assert tuple(ours.shape) == tuple(theirs.shape)
        np.testing.assert_allclose(_np(ours), _np(theirs), rtol=1e-5, atol=1e-6)


def _packed_gru_classifier(T, lengths_per_batch):
    """Training steps of a bidirectional two-layer GRU classifier over batches packed
    unsorted (``enforce_sorted=False``), reading each sequence's last states and the
    padded output; returns the losses and the trained weights."""
    R = T.nn.utils.rnn
    gru, head = T.nn.GRU(3, 4, num_layers=2, bidirectional=True), T.nn.Linear(8, 2)
    params = [*gru.parameters(), *head.parameters()]
    with T.no_grad():
        for i, p in enumerate(params):
            p.copy_(T.tensor(np.random.default_rng(20 + i).uniform(
                -0.5, 0.5, tuple(p.shape)).astype(np.float32)))
    opt = T.optim.SGD(params, lr=0.5)
    rng, losses = np.random.default_rng(1), []
    for lengths in lengths_per_batch:
        x = T.tensor(rng.standard_normal((6, len(lengths), 3)).astype(np.float32))
        y = T.tensor(rng.integers(0, 2, len(lengths)))
        out, h = gru(R.pack_padded_sequence(x, T.tensor(lengths), enforce_sorted=False))
        padded, _ = R.pad_packed_sequence(out, padding_value=-1.0, total_length=7)
        logits = head(T.cat([h[-2], h[-1]], 1)) + 0.1 * padded.mean(0)[:, :2]
        loss = T.nn.functional.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return [np.array(losses), *(p.detach().numpy() for p in params)]


def test_packed_gru_batches_of_other_lengths_share_one_compiled_step(torch):
    """A padded length and batch size fix the recorded step: the lengths (its packed
    ``data`` is ``[sum(lengths), *]``) do not, the layer running the padded batch
    masked by them (a step per set of lengths, each unrolled per length, before)."""
    batches = [[6, 2, 5, 1, 3], [3, 6, 6, 2, 4], [1, 1, 6, 5, 2], [4, 6, 3, 3, 5]]
    ours = _packed_gru_classifier(ft, batches)
    for mine, theirs in zip(ours, _packed_gru_classifier(torch, batches), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)
    assert ft.compile_stats()["compiles"] <= 2, ft.compile_stats()["log"]


# -- in-place ops through views ---------------------------------------------------------

VIEW_WRITES = {
    "row fill_": lambda T, w: w[0].fill_(0),
    "column add_": lambda T, w: w[:, 1].add_(1),
    "block copy_": lambda T, w: w[1:, :1].copy_(T.tensor([[7.0], [8.0]])),
    "element of a row": lambda T, w: w[0][1].fill_(9),
    "uniform_ on a row": lambda T, w: w[2].uniform_(3, 3),
    "nn.init on a row": lambda T, w: T.nn.init.constant_(w[1], 0.5),
    "view then slice": lambda T, w: w.view(-1)[:3].zero_(),
    "t() then row": lambda T, w: w.t()[0].fill_(-1),
    ".T then row": lambda T, w: w.T[1].mul_(10),
    "transpose": lambda T, w: w.transpose(0, 1).mul_(2),
    "unsqueeze then index": lambda T, w: w.unsqueeze(0)[0, 1].fill_(4),
    "narrow": lambda T, w: w.narrow(0, 1, 2).sub_(1),
    "select": lambda T, w: w.select(1, 0).fill_(4),
    "unbind": lambda T, w: w.unbind(0)[1].fill_(4),
    "chunk": lambda T, w: w.chunk(3, 0)[2].fill_(4),
    "split": lambda T, w: w.split([1, 1], dim=1)[1].clamp_(max=0.2),
    "+= on a row": lambda T, w: w[1].__iadd__(T.ones(2)),
    "index list copies": lambda T, w: w[[0, 2]].fill_(4),
    "mask copies": lambda T, w: w[w > 0.25].fill_(4),
    "diagonal": lambda T, w: w.diagonal().fill_(-1),
    "diagonal above": lambda T, w: T.diagonal(w, 1).add_(5),
    "diagonal below": lambda T, w: w.diagonal(-1).mul_(3),
    "diagonal of a transpose": lambda T, w: w.t().diagonal().zero_(),
    "reshape then row": lambda T, w: w.reshape(2, 3)[1].fill_(2),
    "flatten then slice": lambda T, w: w.flatten()[1:4].zero_(),
    "reshape of a transpose copies": lambda T, w: w.t().reshape(-1).fill_(4),
    "flatten of a strided slice copies": lambda T, w: w[::2].flatten().fill_(4),
    "a window of unfold": lambda T, w: w.view(-1).unfold(0, 2, 2)[1].fill_(4),
    "an overlapping window of unfold": lambda T, w: w.view(-1).unfold(0, 3, 1)[2].mul_(2),
    "windows with gaps": lambda T, w: w.unfold(0, 1, 2)[:, 1].add_(1),
}


@pytest.mark.parametrize("name", VIEW_WRITES)
def test_in_place_op_on_a_view_changes_its_base_as_pytorch(torch, name):
    results = []
    for T in (ft, torch):
        weight = T.nn.Parameter(T.arange(6.0).view(3, 2) / 10)
        with T.no_grad():
            VIEW_WRITES[name](T, weight)
        alias = T.arange(6.0).view(3, 2) / 10
        VIEW_WRITES[name](T, alias.detach())  # through a detached alias too
        results.append((weight, alias))
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(_np(ours), _np(theirs), rtol=1e-6)


def test_in_place_op_through_a_view_of_a_view_whose_root_is_gone(torch):
    """``x = arange(12).view(3, 4)`` holds a view of a tensor no one holds: an in-place
    op on ``x[0]`` or ``x.diagonal()`` changes ``x`` (it changed only the lost root)."""
    results = []
    for T in (ft, torch):
        x = T.arange(12.0).reshape(3, 4)
        x[0].fill_(-1)
        x.diagonal(1).add_(10)
        y = T.arange(8.0).view(2, 4)[:, :2].reshape(4)  # its base [:, :2] is gone too
        y.add_(1)
        d = T.arange(9.0).reshape(3, 3).t().diagonal()
        results.append((x, y, x.t().stride(), d.stride(), d.storage_offset()))
    (x, y, *layout), (tx, ty, *their_layout) = results
    np.testing.assert_array_equal(_np(x), _np(tx))
    np.testing.assert_array_equal(_np(y), _np(ty))
    assert layout == their_layout


def test_a_view_shows_its_roots_later_in_place_writes_as_pytorch(torch):
    """A view taken before its root is written in place reads the new values, as
    PyTorch's view of shared memory does: a row of a weight kept for logging across an
    optimizer step, the halves of a buffer filled afterwards, a row of a state assigned
    to, and a view of a view; used in an op, printed or read."""
    results = []
    for T in (ft, torch):
        lin = T.nn.Linear(3, 2)
        with T.no_grad():
            lin.weight.copy_(T.arange(6.0).view(2, 3))
        row, flat = lin.weight[0], lin.weight.view(-1)
        optimizer = T.optim.SGD(lin.parameters(), lr=0.1)
        lin(T.ones(1, 3)).sum().backward()
        optimizer.step()
        buffer = T.zeros(4, 2)
        halves = buffer.chunk(2)
        corner = halves[1][1:, 1:]
        buffer.add_(1)
        buffer[3, 1] = 7.0
        state = T.zeros(3, 2)
        first = state[0]
        state[0] = T.tensor([5.0, 6.0])
        series = T.arange(8.0)
        windows = series.unfold(0, 3, 2)  # sliding windows, then the series normalised
        series.sub_(3.5)
        results.append([row.detach() * 1, flat.detach().tolist(), halves[0] + 0,
                        halves[1].sum().item(), corner + 0, first * 2, repr(state[1]),
                        windows + 0])
    for ours, theirs in zip(*results, strict=True):
        if isinstance(theirs, str):
            assert ours == theirs
        else:
            np.testing.assert_allclose(_np(ours) if hasattr(ours, "detach") else ours,
                                       _np(theirs) if hasattr(theirs, "detach") else theirs,
                                       rtol=1e-6)


_DATA_WRITES = {
    "mul_": lambda p: p.data.mul_(0.5),
    "copy_": lambda p: p.data.copy_(p.data * 3),
    "add_ of a .data kept": lambda p: p.data.add_(1),
    "assigned (the views keep the old storage)": lambda p: setattr(p, "data", p.data * 4),
    "assigned, then mul_": lambda p: (setattr(p, "data", p.data * 4), p.data.mul_(2)),
}


@pytest.mark.parametrize("name", _DATA_WRITES)
def test_views_show_writes_through_data_as_pytorch(torch, name):
    """A view of a parameter taken before a write through ``.data`` reads the new values
    (PyTorch's ``.data`` shares the storage), read, used in an op or viewed again; the
    versions stay as PyTorch's, which ``.data`` writes do not count; ``p.data = new``
    gives ``p`` new storage, which the older views do not see."""
    results = []
    for T in (ft, torch):
        p = T.nn.Parameter(T.arange(6.0).view(2, 3))
        row, flat, turned = p[0], p.view(-1)[1:4], p.t()
        _DATA_WRITES[name](p)
        results.append([row.tolist(), (flat * 1).tolist(), turned[0].detach().tolist(),
                        p.tolist(), row._version, p._version, turned._version])
    assert results[0] == results[1]


INT_AND_LIST_INDEXES = {
    "int, slice, list": (0, slice(None), [1, 2]),
    "list, int, list": ([0, 1], 0, [1, 2]),
    "int, list, slice": (1, [0, 2], slice(1, 3)),
    "slice, int, 2-D": (slice(None), 1, [[0], [3]]),
    "int, ellipsis, list": (0, Ellipsis, [1, 2]),
    "None, int, slice, list": (None, 0, slice(None), [1, 2]),
    "list, slice, int": ([1], slice(None), 0),
}


@pytest.mark.parametrize("name", INT_AND_LIST_INDEXES)
def test_int_beside_list_indexes_as_pytorch(torch, name):
    """PyTorch takes an int index's dimension away before list indexes apply:
    ``x[0, :, [1, 2]]`` of ``[2, 3, 4]`` is ``[3, 2]`` (numpy's rules give ``[2, 3]``);
    reading, assigning and the gradient agree."""
    index = INT_AND_LIST_INDEXES[name]
    results = []
    for T in (ft, torch):
        x = T.arange(24.0).reshape(2, 3, 4).requires_grad_()
        picked = x[index]
        weights = T.arange(float(picked.numel())).view(picked.shape)
        (picked * weights).sum().backward()
        y = T.zeros(2, 3, 4)
        y[index] = weights + 1
        results.append((picked, x.grad, y))
    for ours, theirs in zip(*results, strict=True):
        assert tuple(ours.shape) == tuple(theirs.shape)
        np.testing.assert_array_equal(_np(ours), _np(theirs))


def test_in_place_op_on_a_view_of_a_padding_row_and_gradients(torch):
    """The tutorials' ``embedding.weight.data[pad].zero_()``, and gradients through an
    in-place op on a view of a non-leaf."""
    runs = []
    for T in (ft, torch):
        emb = T.nn.Embedding(4, 3)
        emb.weight.data[0].zero_()
        x = T.tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3),
                     requires_grad=True)
        h = x * 2
        h[:, 1].mul_(3)
        h[0].add_(h[1])
        (h * h).sum().backward()
        runs.append((emb.weight[0], h, x.grad))
    for ours, theirs in zip(*runs, strict=True):
        np.testing.assert_allclose(_np(ours), _np(theirs), rtol=1e-6)


def test_in_place_op_on_a_view_of_a_leaf_that_requires_grad_is_refused(torch):
    for T in (ft, torch):
        weight = T.nn.Parameter(T.ones(2, 2))
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            weight[0].fill_(0)


# -- import statements for submodules ---------------------------------------------------


def test_namespaces_import_as_submodules():
    import importlib

    cudnn = importlib.import_module("fnnet.torch.backends.cudnn")
    assert cudnn is ft.backends.cudnn
    amp = importlib.import_module("fnnet.torch.cuda.amp")
    assert amp.GradScaler is not None and amp.autocast is not None
    assert importlib.import_module("fnnet.torch.cuda") is ft.cuda
    assert ft.utils.tensorboard.SummaryWriter is not None  # imported on first use


@pytest.mark.parametrize("statement", [
    "import fnnet.torch.hub as hub", "from fnnet.torch.fx import symbolic_trace",
    "import fnnet.torch.utils.cpp_extension", "import fnnet.torch.utils.model_zoo",
    "from fnnet.torch.optim.sparse_adam import SparseAdam", "import fnnet.torch.export"])
def test_importing_an_unsupported_submodule_says_what_to_use(statement):
    name = statement.split()[1].replace("fnnet.", "")
    with pytest.raises(NotImplementedError, match=f"does not support {name}; ") as info:
        exec(statement, {})
    assert isinstance(info.value, ImportError)


def test_unknown_submodules_still_fail_as_python_says():
    with pytest.raises(ModuleNotFoundError):
        exec("import fnnet.torch.nn.modules.nothing_here", {})


# -- re-initialising a model ------------------------------------------------------------


def _reset_all(model):
    # the courses' loop between folds
    for layer in model.modules():
        if hasattr(layer, "reset_parameters"):
            layer.reset_parameters()


def _model(T):
    return T.nn.Sequential(T.nn.Conv1d(2, 3, 2), T.nn.BatchNorm1d(3), T.nn.Flatten(),
                           T.nn.Linear(9, 4), T.nn.LayerNorm(4))


def test_reset_parameters_redraws_every_layer_in_place_as_pytorch(torch):
    x = np.random.default_rng(0).standard_normal((5, 2, 4)).astype(np.float32)
    for T in (ft, torch):
        model = _model(T)
        params = list(model.parameters())
        optimizer = T.optim.SGD(params, lr=1.0)
        for _ in range(2):
            loss = (model(T.tensor(x)) ** 2).sum() + sum((p * 3).sum() for p in params)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        _reset_all(model)
        assert all(a is b for a, b in zip(params, model.parameters(), strict=True))
        conv, norm, linear, layer_norm = model[0], model[1], model[3], model[4]
        assert float(conv.weight.detach().abs().max()) <= 1 / math.sqrt(4)  # PyTorch's bounds
        assert float(linear.weight.detach().abs().max()) <= 1 / math.sqrt(9)
        np.testing.assert_array_equal(_np(norm.weight), np.ones(3))
        np.testing.assert_array_equal(_np(norm.running_var), np.ones(3))
        assert int(norm.num_batches_tracked) == 0
        np.testing.assert_array_equal(_np(layer_norm.bias), np.zeros(4))
    for name in ("Linear", "Conv2d", "Embedding", "LSTM", "GRU", "LayerNorm", "BatchNorm2d"):
        assert hasattr(getattr(ft.nn, name), "reset_parameters") == \
            hasattr(getattr(torch.nn, name), "reset_parameters"), name


def test_reset_running_stats_and_embedding_padding_row(torch):
    for T in (ft, torch):
        norm = T.nn.BatchNorm1d(2)
        norm(T.tensor([[1.0, 5.0], [3.0, 9.0]]))
        norm.reset_running_stats()
        np.testing.assert_array_equal(_np(norm.running_mean), np.zeros(2))
        assert int(norm.num_batches_tracked) == 0
        embedding = T.nn.Embedding(4, 3, padding_idx=1)
        with T.no_grad():
            embedding.weight.fill_(5.0)
        embedding.reset_parameters()
        np.testing.assert_array_equal(_np(embedding.weight[1]), np.zeros(3))


RESETTABLE = {
    "GroupNorm": lambda T: T.nn.GroupNorm(2, 4),
    "PReLU": lambda T: T.nn.PReLU(3, 0.1),
    "RNNCell": lambda T: T.nn.RNNCell(2, 3),
    "LSTMCell": lambda T: T.nn.LSTMCell(3, 4),
    "GRUCell": lambda T: T.nn.GRUCell(3, 2, bias=False),
    "EmbeddingBag": lambda T: T.nn.EmbeddingBag(5, 3, padding_idx=1),
}


@pytest.mark.parametrize("name", list(RESETTABLE))
def test_reset_parameters_of_the_other_layers_draws_pytorchs_values(torch, name):
    """These layers lacked reset_parameters, so the courses' loop between folds (which
    asks hasattr first) silently kept their trained values."""
    values = []
    for T in (torch, ft):
        T.manual_seed(0)
        layer = RESETTABLE[name](T)
        with T.no_grad():
            for p in layer.parameters():
                p.add_(1.0)  # "trained"
        T.manual_seed(1)
        _reset_all(T.nn.Sequential(layer))
        values.append([_np(p) for p in layer.parameters()])
    assert len(values[1]) == len(values[0])
    for ours, theirs in zip(*values, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


def test_recurrent_layers_list_their_weights_as_pytorchs(torch):
    for T in (torch, ft):
        rnn = T.nn.RNN(3, 4, num_layers=2, bidirectional=True, nonlinearity="relu")
        lstm = T.nn.LSTM(3, 4, proj_size=2)
        T_shapes = [[tuple(w.shape) for w in ws] for ws in rnn.all_weights]
        assert rnn.nonlinearity == "relu"
        assert rnn.all_weights[1][0] is rnn.weight_ih_l0_reverse
        if T is torch:
            expected = (T_shapes, rnn._all_weights, lstm._all_weights)
    assert (T_shapes, rnn._all_weights, lstm._all_weights) == expected


def test_convolutions_say_whether_they_are_transposed_as_pytorchs(torch):
    """``conv.transposed`` and ``conv.output_padding`` (read by conv-BatchNorm fusion
    code) raised AttributeError on the plain convolutions."""
    seen = []
    for T in (torch, ft):
        layers = (T.nn.Conv1d(1, 1, 2), T.nn.Conv2d(1, 1, 2), T.nn.Conv3d(1, 1, 2),
                  T.nn.ConvTranspose2d(1, 1, 3, 2, output_padding=1),
                  T.nn.ConvTranspose1d(1, 1, 2), T.nn.LazyConv2d(1, 2))
        seen.append([(layer.transposed, layer.output_padding) for layer in layers])
    assert seen[1] == seen[0]


def test_fan_helpers_that_custom_layers_call(torch):
    weight = np.zeros((3, 4, 2, 2), np.float32)
    for fn, args in [("_calculate_fan_in_and_fan_out", ()), ("_calculate_correct_fan",
                                                              ("fan_out",))]:
        assert getattr(ft.nn.init, fn)(ft.tensor(weight), *args) == \
            getattr(torch.nn.init, fn)(torch.tensor(weight), *args)


# -- DataLoader(batch_sampler=) ---------------------------------------------------------


def test_batch_sampler_batches_as_pytorch(torch):
    x = np.arange(14, dtype=np.float32).reshape(7, 2)
    runs = []
    for T in (ft, torch):
        D = T.utils.data
        dataset = D.TensorDataset(T.tensor(x), T.tensor(np.arange(7)))
        batches = D.BatchSampler(D.SequentialSampler(dataset), batch_size=3, drop_last=False)
        loader = D.DataLoader(dataset, batch_sampler=batches)
        dropped = D.BatchSampler(range(7), 2, drop_last=True)
        runs.append((list(batches), len(loader), [(b[0].tolist(), b[1].tolist()) for b in loader],
                     list(dropped), len(dropped), loader.batch_size))
        with pytest.raises(ValueError, match="mutually exclusive"):
            D.DataLoader(dataset, batch_sampler=batches, shuffle=True)
    assert runs[0] == runs[1]


def test_an_embedding_index_out_of_range_is_pytorchs_index_error(torch):
    """Token ids past the vocabulary (an off-by-one in a tokenizer) raise as in PyTorch
    where the ids are on the host: made from a list or numpy, as a batch is each step."""
    for T in (torch, ft):
        table = T.nn.Embedding(5, 3)
        for ids in ([1, 5], [-1, 0], [[0, 7]]):
            with pytest.raises(IndexError, match="index out of range in self"):
                table(T.tensor(ids))
            with pytest.raises(IndexError, match="index out of range in self"):
                T.nn.functional.embedding(T.tensor(ids), table.weight)
        assert tuple(table(T.tensor([0, 4])).shape) == (2, 3)


class _Stream:
    """An IterableDataset over a generated stream, as streaming tutorials write one."""

    def __init__(self, base, n):
        class Numbers(base):
            def __init__(self):
                super().__init__()

            def __iter__(self):
                for i in range(n):
                    yield np.float32([i, i * 0.5]), i % 3

            def __len__(self):
                return n

        self.dataset = Numbers()


@pytest.mark.parametrize("batch_size,drop_last", [(4, False), (4, True), (None, False)])
def test_an_iterable_dataset_is_batched_as_pytorch(torch, batch_size, drop_last):
    results = []
    for T in (torch, ft):
        data = T.utils.data
        dataset = _Stream(data.IterableDataset, 10).dataset
        loader = data.DataLoader(dataset, batch_size=batch_size, drop_last=drop_last)
        batches = [(np.asarray(x), np.asarray(y)) for x, y in loader]
        results.append((batches, len(loader) if batch_size else None,
                        data.get_worker_info()))
    (t_batches, t_len, t_info), (o_batches, o_len, o_info) = results
    assert o_len == t_len and o_info is t_info is None
    assert len(o_batches) == len(t_batches)
    for (ox, oy), (tx, ty) in zip(o_batches, t_batches, strict=True):
        np.testing.assert_array_equal(ox, tx)
        np.testing.assert_array_equal(oy, ty)
    for T in (torch, ft):
        with pytest.raises(ValueError, match="DataLoader with IterableDataset: expected "
                           "unspecified shuffle option, but got shuffle=True"):
            T.utils.data.DataLoader(_Stream(T.utils.data.IterableDataset, 4).dataset,
                                    shuffle=True)


def test_a_programs_own_attributes_on_a_parameter_are_kept_as_pytorchs(torch):
    """Mamba and timm mark parameters (``bias._no_reinit = True``,
    ``p._no_weight_decay = True``) and read the marks later with getattr. A deep copy of
    a tensor keeps its attributes (copied), of a Parameter (an EMA model) does not; a
    clone or detach does not either."""
    import copy

    seen = []
    for lib in (torch, ft):
        layer = lib.nn.Linear(2, 2)
        layer.bias._no_reinit = True
        layer.weight.tags = {"decay": [False]}
        x = lib.ones(3)
        x.label = ["x"]
        twin, x2 = copy.deepcopy((layer, x))
        x2.label.append("copy")
        seen.append((layer.bias._no_reinit, layer.weight.tags, x.label, x2.label,
                     hasattr(twin.bias, "_no_reinit"), getattr(layer.weight, "_no_reinit", 0),
                     hasattr(layer.bias.detach(), "_no_reinit"),
                     hasattr(layer.bias.clone(), "_no_reinit"),
                     [n for n, p in layer.named_parameters()
                      if getattr(p, "_no_reinit", False)]))
    assert seen[1] == seen[0]


def test_split_takes_pytorchs_keyword_names(torch):
    """Mamba's ``x_dbl.split(split_size=[...], dim=-1)``: Tensor.split names its size
    ``split_size``, torch.split ``split_size_or_sections``."""
    import inspect

    seen = []
    for lib in (torch, ft):
        x = lib.arange(12.0).reshape(2, 6)
        pieces = (*x.split(split_size=[1, 2, 3], dim=-1), *x.split(split_size=4, dim=1),
                  *lib.split(x, split_size_or_sections=1, dim=0))
        seen.append(([p.tolist() for p in pieces],
                     list(inspect.signature(lib.Tensor.split).parameters)))
    assert seen[1] == seen[0]
    assert list(inspect.signature(ft.split).parameters) == ["tensor", "split_size_or_sections",
                                                            "dim"]


def test_dtype_itemsize_is_pytorchs(torch):
    """``x.dtype.itemsize`` (bytes-per-parameter reports) was missing."""
    names = ["float32", "float64", "float16", "bfloat16", "int64", "int16", "int8", "uint8",
             "bool", "complex64", "complex128", "long", "double", "half"]
    sizes = [[getattr(lib, n).itemsize for n in names] for lib in (torch, ft)]
    assert sizes[1] == sizes[0]
    assert [lib.ones(3, dtype=lib.bfloat16).dtype.itemsize for lib in (torch, ft)] == [2, 2]


INPUT_KEYWORD_CALLS = {
    "sum": lambda T, x, i: T.sum(input=x, dim=0),
    "softmax": lambda T, x, i: T.softmax(input=x, dim=1),
    "topk": lambda T, x, i: T.topk(input=x, k=2).values,
    "gather": lambda T, x, i: T.gather(input=x, dim=1, index=i),
    "clamp": lambda T, x, i: T.clamp(input=x, min=0.0),
    "matmul": lambda T, x, i: T.matmul(input=x, other=x.T),
    "flatten": lambda T, x, i: T.flatten(input=x, start_dim=0),
    "transpose": lambda T, x, i: T.transpose(input=x, dim0=0, dim1=1),
    "cumsum": lambda T, x, i: T.cumsum(input=x, dim=0),
    "zeros_like": lambda T, x, i: T.zeros_like(input=x),
    "maximum": lambda T, x, i: T.maximum(input=x, other=x * 0),
    "repeat_interleave": lambda T, x, i: T.repeat_interleave(input=x, repeats=2, dim=1),
    # the methods' own keywords for what they also take as several numbers
    "reshape(shape=)": lambda T, x, i: T.reshape(input=x, shape=(4, 3)),
    "view(size=)": lambda T, x, i: x.view(size=(2, 6)),
    "permute(dims=)": lambda T, x, i: x.permute(dims=(1, 0)),
    "expand(size=)": lambda T, x, i: x[:1].expand(size=(2, 4)),
    "repeat(repeats=)": lambda T, x, i: x.repeat(repeats=(1, 2)),
    "new_zeros(size=)": lambda T, x, i: x.new_zeros(size=(2,)) + x.new_ones(size=(2,)),
    "pow(exponent=)": lambda T, x, i: x.pow(exponent=2),
    "mm(mat2=)": lambda T, x, i: x.mm(mat2=x.T),
}


def test_functions_take_their_tensor_as_input_keyword(torch):
    """``torch.sum(input=x, dim=0)``: PyTorch names the tensor ``input``; the shim's
    functions named it ``x`` or ``self`` and raised TypeError."""
    x = np.arange(12, dtype=np.float32).reshape(3, 4) - 5
    i = np.array([[0, 3], [1, 1], [2, 0]])
    for name, call in INPUT_KEYWORD_CALLS.items():
        got, expected = (call(T, T.tensor(x), T.tensor(i)).numpy() for T in (ft, torch))
        np.testing.assert_array_equal(got, expected, err_msg=name)


def test_numpy_of_a_tensor_shows_its_later_in_place_writes_as_pytorch(torch):
    """The tutorials' bridge with NumPy: ``n = t.numpy()`` and then ``t.add_(1)`` shows
    in ``n``, as do writes through views of ``t``, ``t += x`` in a loop, and writes after
    a second ``numpy()``; a parameter's array is a copy (documented: its value is the
    compiled step's)."""
    printed = []
    for T in (torch, ft):
        out = []
        t = T.ones(5)
        n = t.numpy()
        t.add_(1)
        out.append(n.tolist())
        t[1] = 5
        t[2:4].mul_(3)
        out.append(n.tolist())
        second = t.numpy()
        t.zero_()
        out += [n.tolist(), second.tolist()]
        total = T.zeros(3)
        seen = total.numpy()
        for i in range(4):
            total += T.ones(3) * i
        out.append(seen.tolist())
        flags = T.tensor([True, False])
        bits = flags.numpy()
        flags.logical_not_()
        out.append(bits.tolist())
        printed.append(out)
    assert printed[1] == printed[0]


# -- indices as PyTorch 2.13 reads them --------------------------------------------------

INDICES = {
    # a list holding tensors, lists, slices, ... or None is a tuple of indices
    "list of 0-d tensors": lambda T, x: x[[T.tensor(0), T.tensor(2)]],
    "list of lists": lambda T, x: x[[[0, 1], [2, 3]]],
    "list of a slice and an int": lambda T, x: x[[slice(None), 1]],
    "list of None and an int": lambda T, x: x[[None, 0]],
    "list of ranges": lambda T, x: x[[range(2), range(2)]],
    "list of a bool and an int": lambda T, x: x[[True, 1]],  # no sequence: one index
    "list of 40 lists": lambda T, x: x[[[0]] * 40],  # 32 or more: one index
    "uint8 mask": lambda T, x: x[T.tensor([1, 0, 1, 0], dtype=T.uint8)],
    "empty list": lambda T, x: x[[]],
    "list of an empty list": lambda T, x: x[[[]]],
    "True": lambda T, x: x[True],
    "int and True": lambda T, x: x[1, True],
    "0-d True tensor": lambda T, x: x[T.tensor(True)],
    # False is a new dimension of size 0; several booleans make one dimension
    "False": lambda T, x: x[False],
    "0-d False tensor": lambda T, x: x[T.tensor(False)],
    "int and False": lambda T, x: x[1, False],
    "ellipsis and False": lambda T, x: x[..., False, None],
    "True and True": lambda T, x: x[True, True],
    "True, None and False apart": lambda T, x: x[True, None, False],
    "True, slice and True apart": lambda T, x: x[1, True, :, True],
    "a float": lambda T, x: x[1.0],
    "the tutorial's negative log-likelihood": lambda T, x: -T.log_softmax(x, -1)[
        range(4), T.tensor([1, 0, 5, 2])].mean(),
}


def _index_outcome(T, name):
    import warnings

    x = T.arange(24.0).reshape(4, 6)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = INDICES[name](T, x)
            outcome = (tuple(result.shape), result.numpy().tolist())
        except Exception as error:  # noqa: BLE001 - the exception is what is compared
            outcome = (type(error).__name__, str(error))
    # PyTorch's C++ warnings end with where they were raised
    return outcome, [str(w.message).split(" (Triggered internally")[0] for w in caught]


@pytest.mark.parametrize("name", list(INDICES))
def test_indices_are_read_as_pytorch_reads_them(torch, name):
    """A list of tensors indexed as one tensor (``x[[i, j]]`` with 0-d tensors gave rows,
    not an element), a uint8 mask read as integer indices, ``x[[]]`` and ``x[True]``
    raising: each silently differed from PyTorch or failed."""
    assert _index_outcome(ft, name) == _index_outcome(torch, name)


def test_a_list_of_tensors_as_an_assignments_index_is_a_tuple(torch):
    results = []
    for T in (torch, ft):
        x = T.arange(24.0).reshape(4, 6)
        x[[T.tensor(0), T.tensor(2)]] = -1.0
        x[True] = x[True] * 2
        x[False] = 5.0  # selects nothing
        x[..., False] = x[..., False] + 1
        x[0, True, True] = 7.0
        results.append(x.numpy())
    np.testing.assert_array_equal(results[1], results[0])


# -- language-model programs -----------------------------------------------------------


class _Words:
    """A map-style dataset of encoded words padded to one length, as makemore's
    ``CharDataset`` (its samples are made by ``__getitem__``)."""

    def __init__(self, T):
        self.T = T

    def __len__(self):
        return 7

    def __getitem__(self, idx):
        x = self.T.zeros(5, dtype=self.T.long)
        x[1:1 + idx % 4] = self.T.arange(1, 1 + idx % 4)
        return x, x.roll(-1)


def _endless_batches(T):
    """minGPT's trainer and makemore's InfiniteDataLoader: a RandomSampler drawing 1e10
    indices with replacement, read a few batches at a time across two iterators."""
    T.manual_seed(3407)
    dataset = _Words(T)
    sampler = T.utils.data.RandomSampler(dataset, replacement=True, num_samples=int(1e10))
    loader = T.utils.data.DataLoader(dataset, sampler=sampler, batch_size=3, num_workers=0)
    seen = [len(loader)]
    for _ in range(2):
        batches = iter(loader)
        for _ in range(2):
            x, y = next(batches)
            seen.append((x.tolist(), y.tolist()))
    seen.append(T.rand(2).tolist())  # the global generator stays in step
    return seen


def test_an_endless_random_sampler_reads_batches_as_pytorch(torch):
    assert _endless_batches(ft) == _endless_batches(torch)
