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
    with pytest.raises(NotImplementedError, match="proj_size"):
        ft.nn.LSTM(3, 4, proj_size=2)


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
    with pytest.raises(NotImplementedError, match="max_norm"):
        ft.nn.Embedding(10, 4, max_norm=1.0)


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
