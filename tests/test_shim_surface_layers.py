"""The sequence and normalisation layers of fnnet.torch against PyTorch: same weights,
same input, outputs and every parameter's and the input's gradient within 1e-5."""

from __future__ import annotations

import re

import numpy as np
import pytest

import fnnet.torch as ft

pytestmark = pytest.mark.torch


@pytest.fixture(autouse=True)
def _fresh_compile_cache():
    """Each test's structures are new: without a reset, the shim's switch to op-by-op
    execution after many distinct structures would carry over into later tests."""
    yield
    ft.reset_compile_stats()

CASES = [
    ("LSTM", (5, 7), dict(num_layers=2, batch_first=True, bidirectional=True), (3, 4, 5)),
    ("LSTM", (5, 7), dict(), (4, 5)),  # unbatched [T, input]
    ("LSTM", (5, 7), dict(proj_size=3, num_layers=2), (4, 2, 5)),
    ("LSTM", (5, 7), dict(proj_size=2, bias=False), (4, 5)),
    ("GRU", (5, 6), dict(num_layers=2, bias=False, batch_first=True), (3, 4, 5)),
    ("RNN", (5, 6), dict(nonlinearity="relu", num_layers=2, bidirectional=True), (4, 2, 5)),
    ("LayerNorm", ((4, 6),), dict(eps=1e-3), (3, 4, 6)),
    ("LayerNorm", (6,), dict(elementwise_affine=False), (3, 6)),
    ("Conv1d", (4, 6, 5), dict(stride=2, dilation=2, groups=2, padding=3), (2, 4, 17)),
    ("Conv1d", (3, 4, 4), dict(padding="same", bias=False), (3, 9)),
    ("LeakyReLU", (0.2,), dict(), (3, 5)),
    ("GELU", (), dict(approximate="tanh"), (3, 5)),
]


def _close(a, b, what):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-5,
                               err_msg=what)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # PyTorch's
@pytest.mark.parametrize("name, args, kwargs, shape", CASES)
def test_layer_matches_torch(torch, name, args, kwargs, shape):
    torch.manual_seed(0)
    tm = getattr(torch.nn, name)(*args, **kwargs)
    fm = getattr(ft.nn, name)(*args, **kwargs)
    assert list(fm.state_dict()) == list(tm.state_dict())
    for key, value in tm.state_dict().items():
        assert tuple(fm.state_dict()[key].shape) == tuple(value.shape), key
    fm.load_state_dict({k: ft.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    tx, fx = torch.tensor(x, requires_grad=True), ft.tensor(x, requires_grad=True)
    ty, fy = tm(tx), fm(fx)
    if isinstance(ty, tuple):  # recurrent: (output, h_n) or (output, (h_n, c_n))
        flat_t = [ty[0], *(ty[1] if isinstance(ty[1], tuple) else (ty[1],))]
        flat_f = [fy[0], *(fy[1] if isinstance(fy[1], tuple) else (fy[1],))]
    else:
        flat_t, flat_f = [ty], [fy]
    for i, (a, b) in enumerate(zip(flat_t, flat_f, strict=True)):
        assert tuple(b.shape) == tuple(a.shape)
        _close(b.detach().numpy(), a.detach().numpy(), f"{name} output {i}")
    weights = [np.cos(np.arange(t.numel(), dtype=np.float32)).reshape(t.shape)
               for t in flat_t]
    sum((t * torch.tensor(w)).sum() for t, w in zip(flat_t, weights, strict=True)).backward()
    sum((f * ft.tensor(w)).sum() for f, w in zip(flat_f, weights, strict=True)).backward()
    _close(fx.grad.numpy(), tx.grad.numpy(), f"{name} input gradient")
    fparams = dict(fm.named_parameters())
    for key, p in tm.named_parameters():
        _close(fparams[key].grad.numpy(), p.grad.numpy(), f"{name} {key} gradient")


def test_lstm_initial_state_and_default_init(torch):
    lstm = ft.nn.LSTM(3, 4, num_layers=2)
    bound = 1 / 2.0
    for key, value in lstm.state_dict().items():
        v = value.numpy()
        assert v.min() >= -bound and v.max() <= bound, key
    h0, c0 = ft.ones(2, 5, 4), ft.zeros(2, 5, 4)
    out, (h, c) = lstm(ft.randn(6, 5, 3), (h0, c0))
    assert tuple(out.shape) == (6, 5, 4) and tuple(h.shape) == tuple(c.shape) == (2, 5, 4)
    with pytest.raises(RuntimeError, match=re.escape(  # PyTorch's words
            "Expected hidden[0] size (2, 5, 4), got [1, 5, 4]")):
        lstm(ft.randn(6, 5, 3), (ft.ones(1, 5, 4), c0))


@pytest.mark.parametrize("make", [
    lambda T: T.nn.LSTM(3, 4, proj_size=-1), lambda T: T.nn.LSTM(3, 4, proj_size=4),
    lambda T: T.nn.GRU(3, 4, proj_size=0), lambda T: T.nn.RNN(3, 4, proj_size=2),
    lambda T: T.nn.LSTM(3, 4, proj_size=2)(T.ones(6, 5, 3), (T.ones(1, 5, 2),
                                                              T.ones(1, 5, 2))),
    lambda T: T.nn.LSTM(3, 4, proj_size=2)(T.ones(6, 5, 3), (T.ones(1, 5, 4),
                                                              T.ones(1, 5, 4)))])
def test_lstm_projection_errors_and_repr_as_pytorch(torch, make):
    """LSTMP's bad sizes (the projection, the initial states' shapes) raise PyTorch's
    error; a good one prints as PyTorch's."""
    with pytest.raises(Exception) as theirs:
        make(torch)
    with pytest.raises(type(theirs.value), match=re.escape(str(theirs.value))):
        make(ft)
    assert repr(ft.nn.LSTM(3, 4, 2, proj_size=2)) == repr(torch.nn.LSTM(3, 4, 2, proj_size=2))


def test_embedding_matches_torch_with_padding(torch):
    torch.manual_seed(0)
    te = torch.nn.Embedding(10, 4, padding_idx=1)
    fe = ft.nn.Embedding(10, 4, padding_idx=1)
    assert np.all(fe.weight.detach().numpy()[1] == 0)
    fe.load_state_dict({"weight": ft.tensor(te.weight.detach().numpy())})
    idx = np.array([[1, 2, 2], [9, 1, 0]])
    ty, fy = te(torch.tensor(idx)), fe(ft.tensor(idx))
    _close(fy.detach().numpy(), ty.detach().numpy(), "embedding output")
    (ty ** 2).sum().backward()
    (fy ** 2).sum().backward()
    _close(fe.weight.grad.numpy(), te.weight.grad.numpy(), "embedding gradient")
    assert np.all(fe.weight.grad.numpy()[1] == 0)
    with pytest.raises(NotImplementedError, match="scale_grad_by_freq"):
        ft.nn.Embedding(10, 4, scale_grad_by_freq=True)


def test_embedding_max_norm_renormalises_the_rows_looked_up_as_torch(torch):
    weight = np.random.default_rng(2).standard_normal((6, 3)).astype(np.float32) * 2
    idx = np.array([[0, 2, 3], [3, 5, 0]])
    results = []
    for T in (torch, ft):
        layer = T.nn.Embedding(6, 3, padding_idx=0, max_norm=1.0)
        layer.load_state_dict({"weight": T.tensor(weight)})
        out = layer(T.tensor(idx))
        (out ** 2).sum().backward()
        table = T.tensor(weight)
        looked_up = T.nn.functional.embedding(T.tensor([1]), table, max_norm=0.5, norm_type=1.0)
        results.append((repr(layer), out, layer.weight, layer.weight.grad, looked_up, table))
    assert results[1][0] == results[0][0]
    for ours, theirs in zip(results[1][1:], results[0][1:], strict=True):
        _close(ours.detach().numpy(), theirs.detach().numpy(), "max_norm")


def test_dropout_between_layers_draws_in_training_only():
    ft.manual_seed(0)
    gru = ft.nn.GRU(3, 4, num_layers=2, dropout=0.5)
    x = ft.randn(5, 2, 3)
    gru.eval()
    a, b = gru(x)[0].detach().numpy(), gru(x)[0].detach().numpy()
    np.testing.assert_array_equal(a, b)
    gru.train()
    c = gru(x)[0].detach().numpy()
    assert not np.allclose(a, c)


# -- Bilinear, RReLU, ChannelShuffle, circular padding, LP pools, unpooling, margin losses

_RNG = np.random.default_rng(7)
_IN = {shape: _RNG.standard_normal(shape).astype(np.float32)
       for shape in ((3, 4), (3, 5), (2, 6, 3, 3), (2, 3, 8), (2, 3, 4, 5), (1, 2, 4, 4, 4))}
_POS = {shape: np.abs(x) + 0.1 for shape, x in _IN.items()}

#: name -> (module maker, inputs as (array, differentiable), eval mode)
MORE_LAYERS = {
    "Bilinear": (lambda T: T.nn.Bilinear(4, 5, 2), [(_IN[3, 4], True), (_IN[3, 5], True)]),
    "Bilinear no bias": (lambda T: T.nn.Bilinear(4, 5, 3, bias=False),
                         [(_IN[3, 4], True), (_IN[3, 5], True)]),
    "RReLU eval": (lambda T: T.nn.RReLU(0.1, 0.3).eval(), [(_IN[2, 3, 8], True)]),
    "ChannelShuffle": (lambda T: T.nn.ChannelShuffle(3), [(_IN[2, 6, 3, 3], True)]),
    "CircularPad1d": (lambda T: T.nn.CircularPad1d((2, 1)), [(_IN[2, 3, 8], True)]),
    "CircularPad2d": (lambda T: T.nn.CircularPad2d(1), [(_IN[2, 3, 4, 5], True)]),
    "CircularPad3d": (lambda T: T.nn.CircularPad3d((1, 0, 0, 2, 1, 1)),
                      [(_IN[1, 2, 4, 4, 4], True)]),
    "LPPool1d": (lambda T: T.nn.LPPool1d(2, 3, 2), [(_POS[2, 3, 8], True)]),
    "LPPool2d": (lambda T: T.nn.LPPool2d(1.5, (2, 3), ceil_mode=True),
                 [(_POS[2, 3, 4, 5], True)]),
    "LPPool3d": (lambda T: T.nn.LPPool3d(3, 2), [(_POS[1, 2, 4, 4, 4], True)]),
    "MultiMarginLoss": (lambda T: T.nn.MultiMarginLoss(),
                        [(_IN[3, 4], True), (np.array([0, 3, 1]), False)]),
    "MultiMarginLoss p=2 weight": (
        lambda T: T.nn.MultiMarginLoss(2, 0.5, T.tensor([1.0, 2.0, 0.5, 1.5]), reduction="sum"),
        [(_IN[3, 4], True), (np.array([0, 3, 1]), False)]),
    "MultiMarginLoss none 1-D": (lambda T: T.nn.MultiMarginLoss(reduction="none"),
                                 [(_IN[3, 4][0], True), (np.array(2), False)]),
    "MultiLabelMarginLoss": (lambda T: T.nn.MultiLabelMarginLoss(),
                             [(_IN[3, 4], True),
                              (np.array([[3, 0, -1, 1], [1, 2, 3, 0], [-1, 1, 1, 1]]), False)]),
    "MultiLabelMarginLoss none": (lambda T: T.nn.MultiLabelMarginLoss(reduction="none"),
                                  [(_IN[3, 4], True),
                                   (np.array([[2, 2, -1, 0], [0, -1, 3, 3], [1, 0, 3, 2]]),
                                    False)]),
}


@pytest.mark.parametrize("name", list(MORE_LAYERS))
def test_more_layers_match_pytorch(torch, name):
    make, inputs = MORE_LAYERS[name]
    results = []
    for T in (torch, ft):
        T.manual_seed(0)
        module = make(T)
        if T is ft:
            module.load_state_dict({k: ft.tensor(v.detach().numpy())
                                    for k, v in results[0][1].items()})
        xs = [T.tensor(x, requires_grad=grad) for x, grad in inputs]
        out = module(*xs)
        (out * out).sum().backward()
        results.append((repr(module), module.state_dict(), out.detach().numpy(),
                        [x.grad.numpy() for x in xs if x.requires_grad],
                        {k: p.grad.numpy() for k, p in module.named_parameters()}))
    (t_repr, _, t_out, t_grads, t_pgrads), (o_repr, _, o_out, o_grads, o_pgrads) = results
    assert o_repr == t_repr
    assert o_out.shape == t_out.shape
    _close(o_out, t_out, f"{name} output")
    for ours, theirs in zip(o_grads, t_grads, strict=True):
        _close(ours, theirs, f"{name} input gradient")
    assert o_pgrads.keys() == t_pgrads.keys()
    for key in t_pgrads:
        _close(o_pgrads[key], t_pgrads[key], f"{name} {key} gradient")


def test_bilinear_initialises_as_pytorch(torch):
    layer = ft.nn.Bilinear(9, 4, 50)
    bound = 1 / 3
    for p in (layer.weight, layer.bias):
        v = p.detach().numpy()
        assert v.min() >= -bound and v.max() <= bound and v.std() > bound / 3
    assert tuple(layer.weight.shape) == tuple(torch.nn.Bilinear(9, 4, 50).weight.shape)


def test_rrelu_training_draws_slopes_between_its_bounds(torch):
    x = -np.abs(_IN[2, 3, 4, 5]) - 0.5
    for T in (torch, ft):
        T.manual_seed(1)
        y = T.nn.RReLU(0.1, 0.3)(T.tensor(x)).numpy()
        slopes = y / x
        assert (slopes >= 0.1 - 1e-6).all() and (slopes <= 0.3 + 1e-6).all()
        assert slopes.std() > 0.03  # a slope per element
        z = T.tensor(x)
        assert T.nn.functional.rrelu_(z, 0.2, 0.2) is z  # the mean slope, in place
        np.testing.assert_allclose(z.numpy(), x * 0.2, rtol=1e-6)
        y = T.tensor(x)
        T.nn.functional.celu_(y, 2.0)
        T.nn.functional.selu_(y)
        np.testing.assert_allclose(
            y.numpy(), T.selu(T.celu(T.tensor(x), 2.0)).numpy(), rtol=1e-6)


def test_pooling_with_indices_and_unpooling_match_pytorch(torch):
    x = _IN[2, 3, 8]
    results = []
    for T in (torch, ft):
        F = T.nn.functional
        values, indices = F.max_pool1d_with_indices(T.tensor(x), 2)
        v2, i2 = F.max_pool2d_with_indices(T.tensor(_IN[2, 3, 4, 5]), 2, 1)
        unpooled = T.nn.MaxUnpool1d(2)(values, indices)
        sized = F.max_unpool1d(values, indices, 2, output_size=[9])
        volume = T.tensor(_IN[1, 2, 4, 4, 4], requires_grad=True)
        v3, i3 = F.max_pool3d(volume, 2, return_indices=True)
        unpooled3 = T.nn.MaxUnpool3d(2)(v3, i3)
        (unpooled3 * unpooled3).sum().backward()
        v3b, i3b = F.max_pool3d_with_indices(volume, (2, 3, 2), (1, 2, 2), 1, 1, True)
        results.append([a.detach().numpy() for a in (
            values, indices, v2, i2, unpooled, sized, v3, i3, unpooled3, volume.grad, v3b,
            i3b)])
    assert repr(ft.nn.MaxUnpool3d(2)) == repr(torch.nn.MaxUnpool3d(2))


@pytest.mark.parametrize("name, shape, size", [
    ("AdaptiveMaxPool1d", (2, 3, 8), 3), ("AdaptiveMaxPool2d", (2, 3, 4, 5), (3, 2)),
    ("AdaptiveMaxPool2d", (3, 4, 5), (None, 4)), ("AdaptiveMaxPool3d", (1, 2, 4, 4, 4), 3),
    ("MaxPool3d", (1, 2, 4, 4, 4), 2)])
def test_pools_return_pytorchs_indices(torch, name, shape, size):
    x = np.round(_RNG.standard_normal(shape), 1).astype(np.float32)  # ties: the first wins
    results = []
    for T in (torch, ft):
        xs = T.tensor(x, requires_grad=True)
        values, indices = getattr(T.nn, name)(size, return_indices=True)(xs)
        (values * values).sum().backward()
        results.append((values.detach().numpy(), indices.numpy(), xs.grad.numpy()))
    for ours, theirs in zip(*reversed(results), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    F = ft.nn.functional
    if name.startswith("Adaptive"):
        direct = getattr(F, f"adaptive_max_pool{name[-2]}d_with_indices")
        np.testing.assert_array_equal(direct(ft.tensor(x), size)[1].numpy(), results[0][1])
    for ours, theirs in zip(*reversed(results), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


MORE_LAYER_MISTAKES = {
    "channel_shuffle groups": lambda T: T.nn.functional.channel_shuffle(T.ones(1, 3, 2), 2),
    "channel_shuffle dims": lambda T: T.nn.functional.channel_shuffle(T.ones(3), 1),
    "rrelu bounds": lambda T: T.nn.functional.rrelu(T.ones(2), 0.5, 0.1),
    "bilinear sizes": lambda T: T.nn.functional.bilinear(T.ones(2, 3), T.ones(2, 4),
                                                         T.ones(5, 3, 3)),
    "multi_margin p": lambda T: T.nn.functional.multi_margin_loss(T.ones(2, 3),
                                                                  T.tensor([0, 1]), p=3),
    "multi_margin target": lambda T: T.nn.functional.multi_margin_loss(T.ones(2, 3),
                                                                       T.tensor([0, 5])),
    "multilabel target": lambda T: T.nn.functional.multilabel_margin_loss(
        T.ones(2, 3), T.tensor([[0, 5, -1], [1, -1, 0]])),
}


@pytest.mark.parametrize("name", list(MORE_LAYER_MISTAKES))
def test_more_layers_refuse_as_pytorch(torch, name):
    from helpers import raised_by

    assert raised_by(MORE_LAYER_MISTAKES[name], ft) == \
        raised_by(MORE_LAYER_MISTAKES[name], torch)


_CTC_T, _CTC_N, _CTC_C = 12, 3, 5
_CTC_X = _RNG.standard_normal((_CTC_T, _CTC_N, _CTC_C)).astype(np.float32)
_CTC_TARGETS = np.array([[2, 2, 3, 1], [4, 1, 0, 0], [1, 3, 2, 0]])
_CTC_INPUT_LENGTHS, _CTC_TARGET_LENGTHS = [12, 10, 3], [4, 2, 3]  # the last impossible


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("layout", ["padded", "concatenated", "unbatched"])
def test_ctc_loss_matches_pytorch(torch, reduction, zero_infinity, layout):
    results = []
    for T in (torch, ft):
        x = T.tensor(_CTC_X, requires_grad=True)
        targets, input_lengths, target_lengths = (T.tensor(_CTC_TARGETS),
                                                  T.tensor(_CTC_INPUT_LENGTHS),
                                                  T.tensor(_CTC_TARGET_LENGTHS))
        log_probs = x.log_softmax(2)
        if layout == "concatenated":  # lengths as tuples of ints, as PyTorch takes too
            targets = T.cat([row[:n] for row, n in zip(targets, _CTC_TARGET_LENGTHS,
                                                       strict=True)])
            input_lengths, target_lengths = (tuple(_CTC_INPUT_LENGTHS),
                                             tuple(_CTC_TARGET_LENGTHS))
        if layout == "unbatched":
            log_probs, targets, input_lengths, target_lengths = (
                log_probs[:, 0], targets[0], input_lengths[:1], target_lengths[:1])
        loss = T.nn.CTCLoss(blank=0, reduction=reduction, zero_infinity=zero_infinity)(
            log_probs, targets, input_lengths, target_lengths)
        grad = None
        if zero_infinity or layout == "unbatched":  # PyTorch's gradient of inf is NaN
            loss.sum().backward()
            grad = x.grad.numpy()
        results.append((loss.detach().numpy(), grad))
    (theirs, t_grad), (ours, o_grad) = results
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    if t_grad is not None:
        np.testing.assert_allclose(o_grad, t_grad, rtol=1e-4, atol=1e-6)
    assert repr(ft.nn.CTCLoss()) == repr(torch.nn.CTCLoss()) == "CTCLoss()"
    for T in (torch, ft):
        with pytest.raises(TypeError, match="ctc_loss\\(\\) received an invalid combination"):
            T.nn.functional.ctc_loss(T.tensor(_CTC_X), T.tensor(_CTC_TARGETS),
                                     T.tensor(_CTC_INPUT_LENGTHS), (4, 2, 3))


#: lengths and targets that disagree: (targets, input_lengths, target_lengths) per case;
#: without the checks a length past its tensor read clamped labels or frames
_CTC_MISTAKES = {
    "target longer than its row": (_CTC_TARGETS, [12, 10, 9], [5, 2, 3]),
    "input longer than the frames": (_CTC_TARGETS, [13, 10, 9], [4, 2, 3]),
    "negative input length": (_CTC_TARGETS, [-1, 10, 9], [4, 2, 3]),
    "negative target length": (_CTC_TARGETS, [12, 10, 9], [-1, 2, 3]),
    "too few target lengths": (_CTC_TARGETS, [12, 10, 9], [4, 2]),
    "too few input lengths": (_CTC_TARGETS, [12, 10], [4, 2, 3]),
    "too few target rows": (_CTC_TARGETS[:2], [12, 10, 9], [4, 2, 3]),
    "concatenated too short": (np.array([1, 2, 3, 4]), [12, 10, 9], [4, 2, 3]),
    "concatenated too long": (np.arange(1, 11) % 4 + 1, [12, 10, 9], [4, 2, 3]),
}


@pytest.mark.parametrize("name", list(_CTC_MISTAKES))
@pytest.mark.parametrize("as_tensors", [True, False])
def test_ctc_loss_refuses_lengths_as_pytorch(torch, name, as_tensors):
    from helpers import raised_by

    targets, input_lengths, target_lengths = _CTC_MISTAKES[name]

    def call(T):
        lengths = (T.tensor(input_lengths), T.tensor(target_lengths)) if as_tensors else \
            (tuple(input_lengths), tuple(target_lengths))
        return T.nn.functional.ctc_loss(T.tensor(_CTC_X).log_softmax(2), T.tensor(targets),
                                        *lengths)

    assert raised_by(call, ft) == raised_by(call, torch)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_loss_grad_fn_is_pytorchs(torch, reduction, zero_infinity):
    names = []
    for T in (torch, ft):
        x = T.tensor(_CTC_X, requires_grad=True)
        loss = T.nn.functional.ctc_loss(x.log_softmax(2), T.tensor(_CTC_TARGETS),
                                        T.tensor(_CTC_INPUT_LENGTHS),
                                        T.tensor(_CTC_TARGET_LENGTHS), reduction=reduction,
                                        zero_infinity=zero_infinity)
        names.append(loss.grad_fn.name())
    assert names[0] == names[1]


def _adaptive_softmax_run(T):
    """PyTorch's AdaptiveLogSoftmaxWithLoss initialised from the seed, trained four
    steps on targets in every cluster, then read every way."""
    T.manual_seed(0)
    asm = T.nn.AdaptiveLogSoftmaxWithLoss(8, 30, [5, 12, 20], div_value=2.0, head_bias=True)
    x = T.tensor(np.random.default_rng(5).standard_normal((16, 8)).astype(np.float32))
    y = T.tensor([0, 4, 5, 11, 12, 19, 20, 29, 3, 7, 13, 25, 1, 2, 6, 28])
    opt = T.optim.SGD(asm.parameters(), lr=0.5)
    losses, outputs = [], []
    for _ in range(4):
        opt.zero_grad()
        out, loss = asm(x, y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        outputs.append(out.detach().numpy())
    single = asm(x[0], y[0])
    return {"losses": np.array(losses), "outputs": np.stack(outputs),
            "log_prob": asm.log_prob(x).detach().numpy(),
            "predict": asm.predict(x).numpy(), "single": single.output.detach().numpy(),
            "single loss": single.loss.item(),
            "state": {k: v.numpy() for k, v in asm.state_dict().items()}, "repr": repr(asm)}


@pytest.mark.slow
def test_adaptive_log_softmax_trains_and_predicts_as_pytorch(torch):
    ours, theirs = _adaptive_softmax_run(ft), _adaptive_softmax_run(torch)
    assert ours.pop("repr") == theirs.pop("repr")
    ours_state, theirs_state = ours.pop("state"), theirs.pop("state")
    assert list(ours_state) == list(theirs_state)
    for name, value in theirs_state.items():
        np.testing.assert_allclose(ours_state[name], value, rtol=1e-5, atol=1e-6,
                                   err_msg=name)
    for name, value in theirs.items():
        np.testing.assert_allclose(ours[name], value, rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("call", [
    lambda T, asm: asm(T.zeros(4, 8), T.tensor([0, 1, 30, 2])),
    lambda T, asm: asm(T.zeros(4, 8), T.tensor([0, 1, -1, 2])),
    lambda T, asm: asm(T.zeros(4, 8), T.tensor([0, 1])),
    lambda T, asm: asm(T.zeros(8), T.tensor([0, 1])),
    lambda T, asm: asm(T.zeros(4, 2, 8), T.zeros(4, 2, dtype=T.long)),
    lambda T, asm: asm(T.zeros(2, 8), T.tensor(3)),
    lambda T, asm: T.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [5, 3]),
    lambda T, asm: T.nn.AdaptiveLogSoftmaxWithLoss(8, 10, []),
    lambda T, asm: T.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [5, 10]),
])
def test_adaptive_log_softmax_refuses_what_pytorch_refuses(torch, call):
    def error(T):
        with pytest.raises((RuntimeError, ValueError)) as info:
            call(T, T.nn.AdaptiveLogSoftmaxWithLoss(8, 30, [5, 12, 20], div_value=2.0))
        return type(info.value), str(info.value)
    assert error(ft) == error(torch)


def test_adaptive_log_softmax_compiles_once_whatever_the_labels():
    """PyTorch computes each cluster for its own examples (shapes set by the labels'
    values); the shim computes every cluster for the whole batch, so batches whose
    labels fall differently share one compiled step."""
    ft.manual_seed(0)
    asm = ft.nn.AdaptiveLogSoftmaxWithLoss(8, 30, [5, 12, 20], div_value=2.0)
    opt = ft.optim.SGD(asm.parameters(), lr=0.1)
    rng = np.random.default_rng(6)
    ft.reset_compile_stats()
    for step in range(6):
        labels = rng.integers(0, 30 if step % 2 else 5, 16)  # all in the shortlist, or not
        opt.zero_grad()
        _, loss = asm(ft.tensor(rng.standard_normal((16, 8)).astype(np.float32)),
                      ft.tensor(labels))
        loss.backward()
        opt.step()
        loss.item()
    assert ft.compile_stats()["compiles"] <= 2  # the step, and its split forward pass


def test_rnn_base_class_mode_and_direct_construction_as_pytorch(torch):
    """Weight-initialising code tests ``isinstance(m, nn.RNNBase)`` and reads ``m.mode``;
    ``nn.RNNBase(mode, ...)`` builds the weights of that mode, without a forward."""
    def read(T):
        T.manual_seed(0)
        layers = [T.nn.LSTM(2, 3), T.nn.GRU(2, 3), T.nn.RNN(2, 3, nonlinearity="relu"),
                  T.nn.RNNBase("LSTM", 2, 3, num_layers=2), T.nn.RNNBase("RNN_TANH", 2, 3)]
        base = layers[3]
        with pytest.raises(NotImplementedError) as missing:
            base(T.zeros(1, 1, 2))
        with pytest.raises(ValueError) as unknown:
            T.nn.RNNBase("RNN_SIGMOID", 2, 3)
        return ([(isinstance(m, T.nn.RNNBase), m.mode, repr(m)) for m in layers],
                {k: v.numpy() for k, v in base.state_dict().items()},
                str(missing.value), str(unknown.value))

    ours, theirs = read(ft), read(torch)
    assert ours[0] == theirs[0] and ours[2:] == theirs[2:]
    assert list(ours[1]) == list(theirs[1])
    for name, value in theirs[1].items():
        np.testing.assert_allclose(ours[1][name], value, rtol=1e-6, err_msg=name)


def test_deprecated_container_and_nll_loss_2d_warn_and_work_as_pytorch(torch):
    """Older programs' names: nn.Container(name=module) and nn.NLLLoss2d."""
    def run(T):
        with pytest.warns(FutureWarning) as caught:
            container = T.nn.Container(first=T.nn.Identity(), second=T.nn.Tanh())
            loss = T.nn.NLLLoss2d(ignore_index=1)
        x = T.log_softmax(T.linspace(-2, 2, 24).view(1, 3, 2, 4), 1)
        y = T.tensor([[[0, 1, 2, 0], [2, 2, 1, 0]]])
        return ([str(w.message) for w in caught], [n for n, _ in container.named_children()],
                loss(x, y).item())
    ours, theirs = run(ft), run(torch)
    assert ours[:2] == theirs[:2]
    assert ours[2] == pytest.approx(theirs[2], rel=1e-6)
