"""nn.MultiheadAttention and the Transformer layers of fnnet.torch against PyTorch's, from
the same weights: outputs, attention weights, gradients and training steps, with the
masks PyTorch users pass."""

from __future__ import annotations

import numpy as np
import pytest

import fnnet.torch as ft

pytestmark = pytest.mark.torch

RNG = np.random.default_rng(0)


def _copy(theirs, ours):
    """Loads a PyTorch module's weights into ours."""
    ours.load_state_dict({k: ft.tensor(v.detach().numpy()) for k, v in
                          theirs.state_dict().items()})


def _t(x, t):
    return t.tensor(x)


def _close(a, b, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol)


MASKS = {
    "none": lambda t, L, S, N, H: {},
    "causal float": lambda t, L, S, N, H: {
        "attn_mask": t.tensor(np.triu(np.full((L, S), -np.inf, np.float32), 1))},
    "bool and padding": lambda t, L, S, N, H: {
        "attn_mask": t.tensor(RNG_MASK[:L, :S]),
        "key_padding_mask": t.tensor(np.arange(S)[None, :] >= np.array([S, S - 2])[:N, None])},
    "per head": lambda t, L, S, N, H: {
        "attn_mask": t.tensor(RNG_3D[:N * H, :L, :S])},
}
RNG_MASK = np.random.default_rng(3).random((8, 8)) < 0.3
np.fill_diagonal(RNG_MASK, False)  # every query keeps one key
RNG_3D = np.random.default_rng(4).standard_normal((8, 8, 8)).astype(np.float32)


@pytest.mark.parametrize("mask,batch_first,need_weights,average", [
    *((mask, False, w, a) for mask in MASKS for w, a in ((True, True), (True, False),
                                                         (False, True))),
    ("bool and padding", True, True, True), ("causal float", True, False, True)])
def test_multihead_attention_as_pytorch(torch, mask, batch_first, need_weights, average):
    L, S, N, E, H = 5, 6, 2, 8, 2
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(E, H, batch_first=batch_first)
    ours = ft.nn.MultiheadAttention(E, H, batch_first=batch_first)
    _copy(theirs, ours)
    q = RNG.standard_normal((N, L, E) if batch_first else (L, N, E)).astype(np.float32)
    kv = RNG.standard_normal((N, S, E) if batch_first else (S, N, E)).astype(np.float32)
    results = []
    for t, module in ((torch, theirs), (ft, ours)):
        query = t.tensor(q, requires_grad=True)
        key = t.tensor(kv, requires_grad=True)
        out, weights = module(query, key, key, need_weights=need_weights,
                              average_attn_weights=average, **MASKS[mask](t, L, S, N, H))
        (out.square().sum() + (0 if weights is None else weights[..., 0].sum())).backward()
        results.append((out, weights, query.grad, key.grad,
                        [p.grad for p in module.parameters()]))
    (t_out, t_w, t_qg, t_kg, t_pg), (o_out, o_w, o_qg, o_kg, o_pg) = results
    _close(o_out, t_out)
    assert (o_w is None) == (t_w is None)
    if t_w is not None:
        assert tuple(o_w.shape) == tuple(t_w.shape)
        _close(o_w, t_w)
    _close(o_qg, t_qg, rtol=1e-4, atol=1e-5)
    _close(o_kg, t_kg, rtol=1e-4, atol=1e-5)
    for mine, expected in zip(o_pg, t_pg, strict=True):
        _close(mine, expected, rtol=1e-4, atol=1e-5)


def test_unbatched_input_as_pytorch(torch):
    torch.manual_seed(0)
    theirs, ours = torch.nn.MultiheadAttention(6, 3), ft.nn.MultiheadAttention(6, 3)
    _copy(theirs, ours)
    x = RNG.standard_normal((4, 6)).astype(np.float32)
    padding = np.array([False, False, False, True])
    t_out, t_w = theirs(torch.tensor(x), torch.tensor(x), torch.tensor(x),
                        key_padding_mask=torch.tensor(padding))
    o_out, o_w = ours(ft.tensor(x), ft.tensor(x), ft.tensor(x),
                      key_padding_mask=ft.tensor(padding))
    _close(o_out, t_out)
    _close(o_w, t_w)


def _encoder(t, norm_first, activation, batch_first=False):
    t.manual_seed(0)
    layer = t.nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, dropout=0.0,
                                         activation=activation, batch_first=batch_first,
                                         norm_first=norm_first)
    return t.nn.TransformerEncoder(layer, 2, norm=t.nn.LayerNorm(16),
                                   enable_nested_tensor=False)


@pytest.mark.slow  # two compiled training steps of ~150 recorded nodes: 7-12 s
@pytest.mark.parametrize("norm_first,activation", [(False, "relu"), (True, "gelu")])
def test_encoder_trains_as_pytorch(torch, norm_first, activation):
    """A sequence classifier (embedding, encoder with causal and padding masks, mean
    pooling, linear head) trained three steps by both, from the same weights."""
    tokens = RNG.integers(1, 20, (7, 3))
    tokens[5:, 1] = 0
    labels = RNG.integers(0, 2, 3)
    models = {t: t.nn.ModuleDict({"encoder": _encoder(t, norm_first, activation),
                                  "embed": t.nn.Embedding(20, 16), "head": t.nn.Linear(16, 2)})
              for t in (torch, ft)}
    _copy(models[torch], models[ft])
    losses, weights = [], []
    for t, model in models.items():
        opt = t.optim.SGD(model.parameters(), lr=0.1)
        x = t.tensor(tokens)
        mask = t.nn.Transformer.generate_square_subsequent_mask(7)
        padding = (x == 0).T
        run = []
        for _ in range(3):
            opt.zero_grad()
            h = model["encoder"](model["embed"](x), mask=mask, src_key_padding_mask=padding)
            loss = t.nn.functional.cross_entropy(model["head"](h.mean(0)), t.tensor(labels))
            loss.backward()
            opt.step()
            run.append(loss.item())
        losses.append(run)
        weights.append({k: v.detach().numpy() for k, v in model.state_dict().items()})
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-4)
    for name, value in weights[0].items():
        np.testing.assert_allclose(weights[1][name], value, rtol=1e-3, atol=1e-5,
                                   err_msg=name)


def test_encoder_in_evaluation_zeroes_padded_positions_as_pytorch(torch):
    """PyTorch's fast path (evaluation, no gradients, batch-first layers, a padding mask
    alone) runs the layers on the real tokens only and pads the output with zeros."""
    x = RNG.standard_normal((3, 6, 16)).astype(np.float32)
    padding = np.arange(6)[None, :] >= np.array([6, 4, 2])[:, None]
    encoders = {t: t.nn.TransformerEncoder(
        t.nn.TransformerEncoderLayer(16, 4, 32, batch_first=True), 2) for t in (torch, ft)}
    _copy(encoders[torch], encoders[ft])
    outs = []
    for t, encoder in encoders.items():
        encoder.eval()
        with t.no_grad():
            outs.append(encoder(t.tensor(x), src_key_padding_mask=t.tensor(padding)).numpy())
    assert np.all(outs[0][padding] == 0)
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-5, atol=1e-5)


@pytest.mark.slow  # an encoder-decoder's compiled step: ~11 s
def test_transformer_translates_as_pytorch(torch):
    """nn.Transformer's encoder-decoder with a causal target mask and padding, forward
    and one training step, from the same weights."""
    src = RNG.standard_normal((2, 6, 16)).astype(np.float32)
    tgt = RNG.standard_normal((2, 5, 16)).astype(np.float32)
    src_padding = np.arange(6)[None, :] >= np.array([6, 5])[:, None]
    models = {t: t.nn.Transformer(16, 4, 2, 2, 32, dropout=0.0, batch_first=True)
              for t in (torch, ft)}
    _copy(models[torch], models[ft])
    results = []
    for t, model in models.items():
        # SGD: Adam's first step is lr * sign(grad) where a gradient is near zero, so
        # its rounding would decide the step's sign there
        opt = t.optim.SGD(model.parameters(), lr=0.1)
        out = model(t.tensor(src), t.tensor(tgt),
                    tgt_mask=t.nn.Transformer.generate_square_subsequent_mask(5),
                    src_key_padding_mask=t.tensor(src_padding),
                    memory_key_padding_mask=t.tensor(src_padding))
        loss = out.square().mean()
        loss.backward()
        opt.step()
        results.append((out.detach().numpy(), loss.item(),
                        model.decoder.layers[1].multihead_attn.in_proj_weight.detach().numpy()))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-4, atol=1e-5)
    assert results[1][1] == pytest.approx(results[0][1], rel=1e-5)
    np.testing.assert_allclose(results[1][2], results[0][2], rtol=1e-4, atol=1e-6)


def test_an_encoder_training_loop_compiles_once():
    encoder = _encoder(ft, False, "relu")
    opt = ft.optim.SGD(encoder.parameters(), lr=0.01)
    x = ft.tensor(RNG.standard_normal((7, 3, 16)).astype(np.float32))
    ft.reset_compile_stats()
    for _ in range(4):
        opt.zero_grad()
        loss = encoder(x).square().mean()
        loss.backward()
        opt.step()
        loss.item()
    stats = ft.compile_stats()
    assert stats["compiles"] <= 2 and not stats["eager"]


def test_bad_arguments_as_pytorch(torch):
    for t in (torch, ft):
        with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
            t.nn.MultiheadAttention(10, 3)
        attention = t.nn.MultiheadAttention(8, 2)
        x = t.ones(3, 1, 8)
        with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal"):
            attention(x, x, x, is_causal=True)
        with pytest.raises(AssertionError, match="was expecting embedding dimension of 8"):
            attention(t.ones(3, 1, 6), x, x)
        with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
            t.nn.TransformerEncoderLayer(8, 2, activation="tanh")


@pytest.mark.parametrize("add_bias_kv,add_zero_attn", [(True, False), (False, True),
                                                       (True, True)])
def test_appended_keys_and_values_as_pytorch(torch, add_bias_kv, add_zero_attn):
    """``add_bias_kv`` (a learnt key and value appended to every sample's) and
    ``add_zero_attn`` (zeros appended to every head's), under both masks: outputs,
    weights over the longer source, gradients, the state dict and its initial values."""
    rng = np.random.default_rng(3)
    q = rng.standard_normal((2, 3, 8)).astype(np.float32)
    kv = rng.standard_normal((2, 4, 8)).astype(np.float32)
    results = {}
    for t in (torch, ft):
        t.manual_seed(0)
        attention = t.nn.MultiheadAttention(8, 2, add_bias_kv=add_bias_kv,
                                            add_zero_attn=add_zero_attn, batch_first=True)
        initial = {k: v.detach().numpy().copy() for k, v in attention.state_dict().items()}
        query = t.tensor(q, requires_grad=True)
        out, weights = attention(
            query, t.tensor(kv), t.tensor(kv),
            key_padding_mask=t.tensor([[False, False, True, True], [False] * 4]),
            attn_mask=t.tensor(np.triu(np.ones((3, 4), bool), 2)))
        (out.sum() + (weights * t.arange(1.0, weights.numel() + 1).reshape(weights.shape)
                      ).sum()).backward()
        results[t] = (initial, out.detach().numpy(), weights.detach().numpy(),
                      [query.grad.numpy()] + [p.grad.numpy() for p in attention.parameters()])
    theirs, ours = results[torch], results[ft]
    assert list(ours[0]) == list(theirs[0])
    for name, value in theirs[0].items():
        np.testing.assert_allclose(ours[0][name], value, rtol=1e-6, err_msg=name)
    for mine, reference in zip(ours[1:3] + tuple(ours[3]), theirs[1:3] + tuple(theirs[3]),
                               strict=True):
        np.testing.assert_allclose(mine, reference, rtol=2e-5, atol=1e-5)


def test_keys_and_values_of_their_own_widths_as_pytorch(torch):
    # cross-attention over another model's features: kdim/vdim, separate projections
    L, S, N, E, H = 3, 4, 2, 8, 2
    q = RNG.standard_normal((N, L, E)).astype(np.float32)
    k = RNG.standard_normal((N, S, 6)).astype(np.float32)
    v = RNG.standard_normal((N, S, 5)).astype(np.float32)
    padding = np.arange(S)[None, :] >= np.array([S, S - 1])[:, None]
    results = []
    for t in (torch, ft):
        t.manual_seed(0)  # the same draws: PyTorch's initialisation order
        module = t.nn.MultiheadAttention(E, H, kdim=6, vdim=5, batch_first=True)
        key = t.tensor(k, requires_grad=True)
        out, weights = module(t.tensor(q), key, t.tensor(v),
                              key_padding_mask=t.tensor(padding))
        out.square().sum().backward()
        with pytest.raises(AssertionError) as mismatch:
            module(t.tensor(q), key, t.tensor(v[:, :3]))
        results.append((module.state_dict(), out, weights, key.grad,
                        [p.grad for p in module.parameters()], str(mismatch.value)))
    (t_state, *theirs, t_message), (o_state, *ours, o_message) = results
    assert list(o_state) == list(t_state) and o_message == t_message
    for key in t_state:
        _close(o_state[key], t_state[key])
    for mine, expected in zip(ours[:3] + ours[3], theirs[:3] + theirs[3], strict=True):
        _close(mine, expected, rtol=1e-4, atol=1e-5)


def test_the_functional_attention_names_missing_separate_projections():
    from fnnet.nn import functional as fnf

    x = np.ones((3, 1, 8), np.float32)
    with pytest.raises(ValueError, match="q_proj_weight, k_proj_weight and v_proj_weight are "
                                         "all required"):
        fnf.multi_head_attention(x, x, x, 2, None, None, np.eye(8, dtype=np.float32), None,
                                 q_proj_weight=np.eye(8, dtype=np.float32))


# (query, key/value, keyword arguments) as shapes: each call is wrong in one way
BAD_SHAPES = [
    ((2, 3, 8), (2, 4, 8), {"key_padding_mask": (2, 3)}),
    ((2, 3, 8), (2, 4, 8), {"key_padding_mask": (3, 4)}),
    ((2, 3, 8), (2, 4, 8), {"key_padding_mask": (4,)}),
    ((2, 3, 8), (2, 4, 8), {"attn_mask": (3, 5)}),
    ((2, 3, 8), (2, 4, 8), {"attn_mask": (2, 3, 4)}),
    ((2, 3, 8), (2, 4, 8), {"attn_mask": (1, 1, 3, 4)}),
    ((2, 3, 8), (4, 8), {}),
    ((2, 3, 8), (1, 4, 8), {}),
    ((3, 8), (4, 8), {"key_padding_mask": (2, 4)}),
    ((3, 8), (4, 8), {"attn_mask": (4, 3, 4)}),
]


@pytest.mark.parametrize("batch_first", [True, False])
def test_bad_shapes_raise_as_pytorch(torch, batch_first):
    def attend(t, query, key, masks):
        t.manual_seed(0)
        attention = t.nn.MultiheadAttention(8, 2, batch_first=batch_first)
        masks = {k: t.zeros(shape, dtype=t.bool) for k, shape in masks.items()}
        key = t.ones(key if batch_first or len(key) < 3 else (key[1], key[0], key[2]))
        query = t.ones(query if batch_first or len(query) < 3 else
                       (query[1], query[0], query[2]))
        try:
            attention(query, key, key, **masks)
        except Exception as e:  # noqa: BLE001 - the error is the result compared
            return type(e), str(e)
        return None

    for query, key, masks in BAD_SHAPES:
        theirs = attend(torch, query, key, masks)
        assert theirs is not None and attend(ft, query, key, masks) == theirs
    value = ft.ones(5, 2, 8)
    with pytest.raises(AssertionError, match=r"key shape torch.Size\(\[4, 2, 8\]\) does not"):
        ft.nn.MultiheadAttention(8, 2)(ft.ones(3, 2, 8), ft.ones(4, 2, 8), value)


def test_mismatched_masks_and_a_slow_encoder_warn_as_pytorch(torch):
    import warnings

    texts = []
    for t in (torch, ft):
        attention, x = t.nn.MultiheadAttention(8, 2), t.ones(3, 2, 8)
        padding, causal = t.zeros(2, 3, dtype=t.bool), \
            t.nn.Transformer.generate_square_subsequent_mask(3)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            attention(x, x, x, key_padding_mask=padding, attn_mask=causal)
            # the encoder turns its masks into float ones: its layers do not warn again
            layer = t.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, norm_first=True)
            encoder = t.nn.TransformerEncoder(layer, 1)
            encoder(x, mask=causal, src_key_padding_mask=padding)
            t.nn.TransformerEncoder(t.nn.TransformerEncoderLayer(8, 1), 1)
        texts.append([str(w.message) for w in caught
                      if str(w.message).startswith(("Support", "enable_nested"))])
    assert texts[1] == texts[0] and len(texts[0]) == 4


def _attention_pool(t):
    """An attention pooling head in the style of CLIP's image encoder: the mean of the
    positions attends over all of them through ``F.multi_head_attention_forward`` with
    separate projections given as weights."""

    class AttentionPool(t.nn.Module):
        def __init__(self, width=8, heads=2, out=3):
            super().__init__()
            self.q_proj, self.k_proj, self.v_proj = (t.nn.Linear(width, width)
                                                     for _ in range(3))
            self.c_proj = t.nn.Linear(width, out)
            self.heads = heads

        def forward(self, x):  # [N, C, H, W]
            x = x.flatten(2).permute(2, 0, 1)  # [HW, N, C]
            x = t.cat([x.mean(dim=0, keepdim=True), x], dim=0)
            pooled, _ = t.nn.functional.multi_head_attention_forward(
                query=x[:1], key=x, value=x, embed_dim_to_check=x.shape[-1],
                num_heads=self.heads, q_proj_weight=self.q_proj.weight,
                k_proj_weight=self.k_proj.weight, v_proj_weight=self.v_proj.weight,
                in_proj_weight=None,
                in_proj_bias=t.cat([self.q_proj.bias, self.k_proj.bias, self.v_proj.bias]),
                bias_k=None, bias_v=None, add_zero_attn=False, dropout_p=0.0,
                out_proj_weight=self.c_proj.weight, out_proj_bias=self.c_proj.bias,
                use_separate_proj_weight=True, training=self.training, need_weights=False)
            return pooled.squeeze(0)

    return AttentionPool()


def test_the_functional_multi_head_attention_forward_as_pytorch(torch):
    x = np.random.default_rng(4).standard_normal((2, 8, 2, 3)).astype(np.float32)
    results = {}
    for t in (torch, ft):
        t.manual_seed(0)
        pool = _attention_pool(t)
        out = pool(t.tensor(x))
        (out * t.arange(1.0, 7.0).reshape(2, 3)).sum().backward()
        results[t] = [out.detach().numpy()] + [p.grad.numpy() for p in pool.parameters()]
    for ours, theirs in zip(results[ft], results[torch], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=2e-5, atol=1e-6)
