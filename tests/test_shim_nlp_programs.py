"""NLP programs as courses write them (text classifiers, pretrained embeddings, attention
called directly), run under PyTorch 2.13 and fnnet.torch from the same seed: what they
print, the errors they raise and the values they train to."""

from __future__ import annotations

import numpy as np
import pytest

import fnnet.torch as ft

pytestmark = pytest.mark.torch


def _raised(call):
    """``(type name, message)`` of what ``call()`` raises."""
    with pytest.raises(Exception) as info:
        call()
    return type(info.value).__name__, str(info.value)


# -- pretrained embeddings ---------------------------------------------------------------


def _pretrained_classifier(T):
    """A text CNN over a pretrained table (Embedding.from_pretrained, fine-tuned), its
    layers built after the table: the loss and the table's gradient."""
    T.manual_seed(0)
    table = T.randn(9, 4)
    embedding = T.nn.Embedding.from_pretrained(table, freeze=False, padding_idx=0)
    conv = T.nn.Conv1d(4, 3, 2)
    fc = T.nn.Linear(3, 2)
    x = T.randint(0, 9, (4, 5))
    h = T.relu(conv(embedding(x).permute(0, 2, 1)))
    loss = T.nn.functional.cross_entropy(fc(h.max(dim=2).values), T.tensor([0, 1, 1, 0]))
    loss.backward()
    return loss.item(), embedding.weight.grad.numpy(), repr(embedding)


def test_from_pretrained_draws_nothing_as_pytorch(torch):
    """The layers built after from_pretrained start from PyTorch's weights: the table is
    taken as given, not drawn and overwritten (which moved the global generator on)."""
    ours, theirs = _pretrained_classifier(ft), _pretrained_classifier(torch)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-4, atol=1e-7)
    assert ours[2] == theirs[2]


def test_embedding_given_weight_as_pytorch(torch):
    def run(T):
        T.manual_seed(0)
        table = T.randn(5, 3)
        frozen = T.nn.Embedding.from_pretrained(table, max_norm=1.0)
        given = T.nn.Embedding(5, 3, padding_idx=1, _weight=table)
        after = T.randn(2)
        errors = [_raised(lambda: T.nn.Embedding.from_pretrained(T.zeros(3))),
                  _raised(lambda: T.nn.Embedding(4, 3, _weight=table))]
        return (repr(frozen), frozen.weight.requires_grad, given.weight.requires_grad,
                given.weight._version, given.weight.detach().numpy(), after.numpy(), errors)

    ours, theirs = run(ft), run(torch)
    assert ours[:4] == theirs[:4] and ours[6] == theirs[6]
    np.testing.assert_array_equal(ours[4], theirs[4])  # the padding row kept, as given
    np.testing.assert_array_equal(ours[5], theirs[5])


# -- EmbeddingBag offsets (the AG_NEWS tutorial's collate) -------------------------------


@pytest.mark.parametrize("text,offsets,options", [
    ([1, 2, 3], [1, 2], {}),
    ([1, 2, 3], [0, 5], {}),
    ([1, 2, 3], [0, 2, 4], {"include_last_offset": True}),
    ([[1, 2], [3, 4]], [0, 1], {}),
], ids=["first-not-0", "past-the-end", "last-past-the-end", "2d-with-offsets"])
def test_embedding_bag_bad_offsets_as_pytorch(torch, text, offsets, options):
    def run(T):
        T.manual_seed(0)
        bag = T.nn.EmbeddingBag(10, 4, **options)
        return _raised(lambda: bag(T.tensor(text), T.tensor(offsets)))

    assert run(ft) == run(torch)


# -- attention called directly ------------------------------------------------------------


def test_attention_integer_mask_refused_as_pytorch(torch):
    def run(T):
        T.manual_seed(0)
        mha = T.nn.MultiheadAttention(8, 2)
        x = T.randn(3, 1, 8)
        return _raised(lambda: mha(x, x, x, attn_mask=T.zeros(3, 3, dtype=T.long)))

    assert run(ft) == run(torch)


@pytest.mark.parametrize("rank,mask,is_causal", [
    (4, (3, 4), False), (4, (2, 3), False), (3, (3, 4), False),
    (4, (3, 4), True), (4, (3, 3), True), (4, (2, 1, 3, 3), True),
], ids=["4d-wide", "4d-rows", "3d-wide", "causal-wide", "causal-fits", "causal-4d-mask"])
def test_sdpa_masks_that_do_not_fit_as_pytorch(torch, rank, mask, is_causal):
    """A mask that does not broadcast to the scores ``[..., L, S]``: PyTorch's words for
    adding it, and with ``is_causal`` its refusal of the pair (its flash kernel, which
    applies both, takes only a mask that fits)."""
    def run(T):
        T.manual_seed(0)
        q = T.randn(*(2, 2, 3, 4)[4 - rank:])
        try:
            out = T.nn.functional.scaled_dot_product_attention(
                q, q, q, attn_mask=T.zeros(*mask), is_causal=is_causal)
        except RuntimeError as error:
            return str(error)
        return out.numpy()

    ours, theirs = run(ft), run(torch)
    if isinstance(theirs, str):
        assert ours == theirs
    else:
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


# -- what printing shows: the grad_fn of attention and cells ------------------------------

GRAD_FNS = {
    "mha-output": lambda T, x: T.nn.MultiheadAttention(4, 2)(x, x, x)[0],
    "mha-weights": lambda T, x: T.nn.MultiheadAttention(4, 2)(x, x, x)[1],
    "mha-weights-per-head": lambda T, x: T.nn.MultiheadAttention(4, 2)(
        x, x, x, average_attn_weights=False)[1],
    "mha-batch-first": lambda T, x: T.nn.MultiheadAttention(4, 2, batch_first=True)(
        x, x, x)[0],
    "mha-no-weights": lambda T, x: T.nn.MultiheadAttention(4, 2)(x, x, x,
                                                                  need_weights=False)[0],
    "lstm-cell-h": lambda T, x: T.nn.LSTMCell(4, 3)(x[0])[0],
    "lstm-cell-c": lambda T, x: T.nn.LSTMCell(4, 3)(x[0])[1],
    "sdpa-3d": lambda T, x: T.nn.functional.scaled_dot_product_attention(x, x, x),
    "sdpa-2d": lambda T, x: T.nn.functional.scaled_dot_product_attention(x[0], x[0], x[0]),
    "sdpa-4d": lambda T, x: T.nn.functional.scaled_dot_product_attention(
        x[None], x[None], x[None], is_causal=True),
    "sdpa-4d-value-width": lambda T, x: T.nn.functional.scaled_dot_product_attention(
        x[None], x[None], T.cat([x, x], -1)[None]),
    "sdpa-4d-mask-with-grad": lambda T, x: T.nn.functional.scaled_dot_product_attention(
        x[None], x[None], x[None], attn_mask=T.zeros(2, 2, requires_grad=True)),
    "repeat-interleave": lambda T, x: x.repeat_interleave(2, dim=0),
    "repeat-interleave-counts": lambda T, x: x.repeat_interleave(T.tensor([1, 2, 0]), dim=0),
}


@pytest.mark.parametrize("name", list(GRAD_FNS))
def test_attention_and_cell_grad_fns_as_pytorch(torch, name):
    """The node a printed tensor names: PyTorch's for each output of MultiheadAttention
    and LSTMCell (one recorded node in fnnet.torch), and for each attention kernel."""
    def run(T):
        T.manual_seed(0)
        out = GRAD_FNS[name](T, T.randn(3, 2, 4, requires_grad=True))
        return type(out.grad_fn).__name__

    assert run(ft) == run(torch)


def test_two_outputs_of_one_node_have_grad_fns_of_their_own(torch):
    def run(T):
        T.manual_seed(0)
        x = T.randn(3, 2, 4, requires_grad=True)
        h, c = T.nn.LSTMCell(4, 3)(x[0])
        both = (h + c).grad_fn
        return (h.grad_fn == c.grad_fn, h.grad_fn == h.grad_fn,
                [type(f).__name__ for f, _ in both.next_functions])

    assert run(ft) == run(torch)


# -- recurrent layers given states of the wrong rank or size ------------------------------

STATES = {
    "lstm-tensor-for-pair": lambda T, x: T.nn.LSTM(3, 4)(x, T.zeros(2, 2, 4)),
    "lstm-2d-states": lambda T, x: T.nn.LSTM(3, 4)(x, (T.zeros(2, 4), T.zeros(2, 4))),
    "lstm-mixed-ranks": lambda T, x: T.nn.LSTM(3, 4)(x, (T.zeros(1, 2, 4), T.zeros(2, 4))),
    "lstm-unbatched-3d-states": lambda T, x: T.nn.LSTM(3, 4)(
        x[:, 0], (T.zeros(1, 1, 4), T.zeros(1, 1, 4))),
    "lstm-three-states": lambda T, x: T.nn.LSTM(3, 4)(x, (T.zeros(1, 2, 4),) * 3),
    "gru-2d-state": lambda T, x: T.nn.GRU(3, 4)(x, T.zeros(2, 4)),
    "rnn-unbatched-3d-state": lambda T, x: T.nn.RNN(3, 4)(x[:, 0], T.zeros(1, 1, 4)),
    "grucell-batch": lambda T, x: T.nn.GRUCell(3, 4)(x[0], T.zeros(3, 4)),
    "grucell-hidden-size": lambda T, x: T.nn.GRUCell(3, 4)(x[0], T.zeros(2, 5)),
    "grucell-3d-state": lambda T, x: T.nn.GRUCell(3, 4)(x[0], T.zeros(1, 2, 4)),
    "rnncell-input-size": lambda T, x: T.nn.RNNCell(2, 4)(x[0]),
    "rnncell-unbatched-2d-state": lambda T, x: T.nn.RNNCell(3, 4)(x[0, 0], T.zeros(1, 4)),
    "lstmcell-c-batch": lambda T, x: T.nn.LSTMCell(3, 4)(x[0], (T.zeros(2, 4),
                                                               T.zeros(3, 4))),
    "lstmcell-3d-c": lambda T, x: T.nn.LSTMCell(3, 4)(x[0], (T.zeros(2, 4),
                                                            T.zeros(1, 2, 4))),
    "lstmcell-tensor-for-pair": lambda T, x: T.nn.LSTMCell(3, 4)(x[0], T.zeros(2, 4)),
    "lstmcell-three-states": lambda T, x: T.nn.LSTMCell(3, 4)(x[0], (T.zeros(2, 4),) * 3),
}


@pytest.mark.parametrize("name", list(STATES))
def test_recurrent_states_refused_as_pytorch(torch, name):
    def run(T):
        T.manual_seed(0)
        return _raised(lambda: STATES[name](T, T.randn(5, 2, 3)))

    assert run(ft) == run(torch)


@pytest.mark.parametrize("options", [{"ignore_index": 1, "label_smoothing": 1.5},
                                     {"ignore_index": 0}, {"ignore_index": -5}],
                         ids=["before-smoothing", "zero", "negative"])
def test_probability_targets_with_ignore_index_as_pytorch(torch, options):
    def run(T):
        loss = T.nn.CrossEntropyLoss(**options)
        try:
            return loss(T.zeros(1, 2), T.tensor([[0.2, 0.8]])).item()
        except RuntimeError as error:
            return str(error)

    assert run(ft) == pytest.approx(run(torch)) if options["ignore_index"] < 0 else \
        run(ft) == run(torch)


# -- padding, packing, lookups and masks: bad arguments ---------------------------------

BAD_SEQUENCE_ARGUMENTS = {
    "pad-lists": lambda T: T.nn.utils.rnn.pad_sequence([T.zeros(2), [1]]),
    "pack-2d-lengths": lambda T: T.nn.utils.rnn.pack_padded_sequence(
        T.zeros(2, 5, 3), [[5, 3]], batch_first=True),
    "pack-0d-lengths": lambda T: T.nn.utils.rnn.pack_padded_sequence(
        T.zeros(2, 5, 3), T.tensor(5), batch_first=True),
    "pack-ragged-lengths": lambda T: T.nn.utils.rnn.pack_padded_sequence(
        T.zeros(2, 5, 3), [[5], [3, 1]], batch_first=True),
    "embedding-1d-weight": lambda T: T.nn.functional.embedding(T.tensor([1]), T.zeros(5)),
    "masked-fill-shape": lambda T: T.zeros(2, 5, 6).masked_fill(
        T.zeros(2, 6, dtype=T.bool), 0.0),
    "masked-fill-shape-and-dtype": lambda T: T.zeros(2, 5, 6).masked_fill(
        T.zeros(2, 6, dtype=T.long), 0.0),
    "masked-fill_-shape": lambda T: T.zeros(2, 5, 6).masked_fill_(
        T.zeros(2, 6, dtype=T.bool), 0.0),
    "masked-fill_-shape-and-dtype": lambda T: T.zeros(2, 5, 6).masked_fill_(
        T.zeros(2, 6, dtype=T.long), 0.0),
}


@pytest.mark.parametrize("name", list(BAD_SEQUENCE_ARGUMENTS))
def test_bad_sequence_arguments_as_pytorch(torch, name):
    assert _raised(lambda: BAD_SEQUENCE_ARGUMENTS[name](ft)) == \
        _raised(lambda: BAD_SEQUENCE_ARGUMENTS[name](torch))


def test_float_lengths_pack_as_pytorch(torch):
    """PyTorch reads the lengths as int64: float lengths are truncated."""
    def run(T):
        packed = T.nn.utils.rnn.pack_padded_sequence(T.arange(10.0).view(2, 5),
                                                     T.tensor([5.7, 3.2]), batch_first=True)
        return packed.data.tolist(), packed.batch_sizes.tolist()

    assert run(ft) == run(torch)


def test_names_code_copied_from_pytorchs_transformer_imports(torch):
    """What a Transformer layer copied out of PyTorch's sources imports beside the
    public names, and torch.nn.utils.rnn.invert_permutation."""
    import importlib

    def run(T):
        transformer = importlib.import_module(f"{T.__name__}.nn.modules.transformer")
        activation = importlib.import_module(f"{T.__name__}.nn.modules.activation")
        rnn = importlib.import_module(f"{T.__name__}.nn.utils.rnn")
        clones = transformer._get_clones(T.nn.Linear(2, 2), 3)
        packed = rnn.pack_sequence([T.zeros(2), T.zeros(3), T.zeros(1)], enforce_sorted=False)
        return (activation.MultiheadAttention is T.nn.MultiheadAttention, repr(clones),
                clones[0].weight is clones[1].weight,
                transformer._get_activation_fn("gelu") is T.nn.functional.gelu,
                _raised(lambda: transformer._get_activation_fn("tanh")),
                transformer._generate_square_subsequent_mask(3).tolist(),
                [transformer._get_seq_len(T.zeros(*shape), first) for shape, first in
                 (((2, 5, 3), True), ((5, 2, 3), False), ((7, 3), True))],
                [transformer._detect_is_causal_mask(*args) for args in (
                    (transformer._generate_square_subsequent_mask(4),),
                    (transformer._generate_square_subsequent_mask(4), None, 3),
                    (T.zeros(4, 4),), (None, True), (None,),
                    (transformer._generate_square_subsequent_mask(4), False),
                    (T.triu(T.ones(4, 4, dtype=T.bool), 1),))],
                rnn.invert_permutation(T.tensor([2, 0, 3, 1])).tolist(),
                rnn.invert_permutation(packed.sorted_indices).tolist(),
                packed.unsorted_indices.tolist(), rnn.invert_permutation(None))

    assert run(ft) == run(torch)


@pytest.mark.parametrize("lookup", ["embedding", "embedding_bag"])
@pytest.mark.parametrize("padding_idx", [-1, -6, -7, 6])
def test_functional_padding_idx_counted_from_the_end_as_pytorch(torch, lookup, padding_idx):
    """F.embedding and F.embedding_bag take a negative padding_idx as an index from the
    end (its row gets no gradient), and refuse one outside the table."""
    def run(T):
        T.manual_seed(0)
        weight = T.randn(6, 3, requires_grad=True)
        x = T.tensor([0, 1, 5, 5, 2, 3])
        look = getattr(T.nn.functional, lookup)
        args = (T.tensor([0, 3]),) if lookup == "embedding_bag" else ()
        try:
            out = look(x, weight, *args, padding_idx=padding_idx)
        except (AssertionError, RuntimeError) as error:
            return type(error).__name__, str(error)
        out.pow(2).sum().backward()
        return out.detach().numpy(), weight.grad.numpy()

    ours, theirs = run(ft), run(torch)
    if isinstance(theirs[0], str):
        assert ours == theirs
    else:
        for a, b in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _copied_encoder_layer(T, source):
    """PyTorch's TransformerEncoderLayer source run with ``T`` as torch (as a program
    that copies it to customise it), in training and in evaluation."""
    import importlib
    import typing

    transformer = importlib.import_module(f"{T.__name__}.nn.modules.transformer")
    scope = {"torch": T, "F": T.nn.functional, "Tensor": T.Tensor, "Module": T.nn.Module,
             "MultiheadAttention": T.nn.MultiheadAttention, "Linear": T.nn.Linear,
             "Dropout": T.nn.Dropout, "LayerNorm": T.nn.LayerNorm,
             "_get_activation_fn": transformer._get_activation_fn,
             "_get_clones": transformer._get_clones, **vars(typing)}
    exec(source, scope)  # noqa: S102 - PyTorch's own source
    T.manual_seed(0)
    layer = scope["TransformerEncoderLayer"](8, 2, 16, dropout=0.0, batch_first=True)
    x = T.randn(2, 4, 8)
    pad = T.tensor([[False] * 4, [False, False, True, True]])
    trained = layer(x, src_key_padding_mask=pad)
    layer.eval()
    with T.no_grad():
        out = layer(x, src_key_padding_mask=pad)
    return (trained.detach().numpy(), type(trained.grad_fn).__name__, out.numpy(),
            T.backends.mha.get_fastpath_enabled())


def test_transformer_layer_copied_from_pytorchs_source_as_pytorch(torch):
    """The copy calls F._canonical_mask, F._none_or_dtype and
    torch.backends.mha.get_fastpath_enabled(); fnnet.torch has no fused path, so the
    copy takes its plain path, which computes what PyTorch's fused one does."""
    import inspect
    import textwrap

    source = textwrap.dedent(inspect.getsource(
        torch.nn.modules.transformer.TransformerEncoderLayer))
    ours, theirs = _copied_encoder_layer(ft, source), _copied_encoder_layer(torch, source)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-4, atol=1e-5)
    assert ours[1] == theirs[1]
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-4, atol=1e-5)
    assert ours[3] is False  # PyTorch's reads True: its fused path exists


def _copied_encoder(T, source):
    """PyTorch's TransformerEncoder source run with ``T`` as torch: its ``__init__``
    logs its use through ``torch._C._log_api_usage_once``."""
    import importlib
    import typing
    import warnings

    transformer = importlib.import_module(f"{T.__name__}.nn.modules.transformer")
    scope = {"torch": T, "F": T.nn.functional, "Tensor": T.Tensor, "Module": T.nn.Module,
             "warnings": warnings, "_get_clones": transformer._get_clones,
             "_detect_is_causal_mask": transformer._detect_is_causal_mask,
             "_get_seq_len": transformer._get_seq_len, **vars(typing)}
    exec(source, scope)  # noqa: S102 - PyTorch's own source
    T.manual_seed(0)
    layer = T.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    encoder = scope["TransformerEncoder"](layer, 2, enable_nested_tensor=False)
    x = T.randn(2, 4, 8)
    pad = T.tensor([[False] * 4, [False, False, True, True]])
    trained = encoder(x, src_key_padding_mask=pad)
    trained.sum().backward()
    encoder.eval()
    with T.no_grad():
        out = encoder(x, src_key_padding_mask=pad)
    return [trained.detach().numpy(), out.numpy(),
            encoder.layers[0].linear1.weight.grad.numpy()]


def test_transformer_encoder_copied_from_pytorchs_source_as_pytorch(torch):
    import inspect
    import textwrap

    source = textwrap.dedent(inspect.getsource(torch.nn.modules.transformer.TransformerEncoder))
    for ours, theirs in zip(_copied_encoder(ft, source), _copied_encoder(torch, source),
                            strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
    with pytest.raises(NotImplementedError, match=r"torch\._C\._jit_pass_lint"):
        ft._C._jit_pass_lint  # noqa: B018 - the attribute's access is the test


def test_functional_canonical_mask_as_pytorch(torch):
    def run(T):
        F = T.nn.functional
        mask = T.tensor([[False, True], [False, False]])
        with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask"):
            float_mask = F._canonical_mask(mask, "key_padding_mask", T.float32, "attn_mask",
                                           T.float32)
        return (float_mask.tolist(), float_mask.dtype == T.float32,
                F._canonical_mask(None, "m", None, "", T.float32),
                F._none_or_dtype(mask) == T.bool, F._none_or_dtype(None),
                _raised(lambda: F._none_or_dtype([1])),
                _raised(lambda: F._canonical_mask(T.zeros(2, dtype=T.long), "src_mask", None,
                                                  "", T.float32)))

    assert run(ft) == run(torch)
