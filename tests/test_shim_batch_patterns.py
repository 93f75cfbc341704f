"""Every way a training loop feeds its batches compiles once per distinct structure.

Each loop is written once as a function of the ``torch`` module and run under PyTorch
and under ``fnnet.torch`` from the same initial weights on the same data: the losses of
every step agree within 1e-5 relative, and ``compile_stats()`` counts one compile for
the step and one more for the short last batch, whether the batches are sliced from a
device tensor at moving offsets, come from a ``DataLoader``, or are built with
``torch.tensor`` / ``torch.from_numpy`` each step, and whether the loop reads
``loss.item()`` every step or never.
"""

from __future__ import annotations

import numpy as np
import pytest

import fnnet.torch as ft
from fnnet.torch import _compiler

N, FEATURES, CLASSES, BATCH, EPOCHS = 200, 12, 4, 64, 2
STEPS = EPOCHS * -(-N // BATCH)  # 3 full batches and a short one of 8 per epoch
RTOL = 1e-5
PATTERNS = ("slice", "loader", "tensor", "from_numpy")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return (rng.standard_normal((N, FEATURES)).astype(np.float32),
            rng.integers(0, CLASSES, N))


@pytest.fixture(scope="module")
def weights():
    ft.manual_seed(0)
    return {k: v.numpy().copy() for k, v in _mlp(ft).state_dict().items()}


def _mlp(t):
    return t.nn.Sequential(t.nn.Linear(FEATURES, 16), t.nn.ReLU(), t.nn.Linear(16, CLASSES))


def _batches(t, pattern, x, y):
    """The batches of one epoch, as the pattern's loop would make them."""
    if pattern == "slice":
        xs, ys = t.tensor(x), t.tensor(y)  # the whole set on the device once
        for i in range(-(-N // BATCH)):
            yield xs[i * BATCH:(i + 1) * BATCH], ys[i * BATCH:(i + 1) * BATCH]
    elif pattern == "loader":
        dataset = t.utils.data.TensorDataset(t.from_numpy(x), t.from_numpy(y))
        yield from t.utils.data.DataLoader(dataset, batch_size=BATCH)
    else:
        make = t.tensor if pattern == "tensor" else t.from_numpy
        for i in range(0, N, BATCH):
            yield make(x[i:i + BATCH]), make(y[i:i + BATCH])


def _train(t, pattern, read, data, weights):
    """Losses of every step and the compile statistics (fnnet.torch only)."""
    model = _mlp(t)
    model.load_state_dict({k: t.tensor(v) for k, v in weights.items()})
    opt = t.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    if t is ft:
        ft.reset_compile_stats()
    losses = []
    running = 0.0
    for _ in range(EPOCHS):
        for xb, yb in _batches(t, pattern, *data):
            opt.zero_grad()
            loss = t.nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            if read:
                running += loss.item()
            losses.append(loss)
    stats = ft.compile_stats() if t is ft else None
    values = [loss.item() for loss in losses]
    if read:
        assert running == pytest.approx(sum(values), rel=1e-6)
    return values, stats


@pytest.fixture(scope="module")
def torch_losses(torch, data, weights):
    return {pattern: _train(torch, pattern, False, data, weights)[0] for pattern in PATTERNS}


@pytest.mark.torch
@pytest.mark.parametrize("read", [True, False], ids=["item-every-step", "never-read"])
@pytest.mark.parametrize("pattern", PATTERNS)
def test_pattern_compiles_once_and_matches_torch(pattern, read, data, weights, torch_losses):
    losses, stats = _train(ft, pattern, read, data, weights)
    assert len(losses) == STEPS
    np.testing.assert_allclose(losses, torch_losses[pattern], rtol=RTOL)
    # one compile for the step, one for the short last batch (8 rows), then hits only
    assert stats["compiles"] == 2 and stats["hits"] == STEPS - 2, stats["log"]
    assert not stats["eager"]
    changes = " ".join(stats["log"][1]["changes"])
    assert "(64, 12) -> (8, 12)" in changes or "(64, 12)" in changes and "(8, 12)" in changes


def test_offsets_are_inputs_not_structure():
    """Moving the slice start or the index never recompiles; only the size does."""
    x = ft.tensor(np.arange(40, dtype=np.float32).reshape(20, 2))
    w = ft.ones(2, requires_grad=True)
    ft.reset_compile_stats()
    seen = []
    for start in (0, 3, 7, 12, 15):
        (x[start:start + 5] @ w).sum().backward()
        seen.append(w.grad.numpy().copy())
        w.grad = None
    for row in (0, 5, -1, 19):
        seen.append(x[row].numpy().copy())
    stats = ft.compile_stats()
    assert stats["compiles"] == 2, stats["log"]  # one backward step, one row read
    np.testing.assert_allclose(seen[1], np.arange(40).reshape(20, 2)[3:8].sum(0))
    np.testing.assert_allclose(seen[4], np.arange(40).reshape(20, 2)[15:].sum(0))
    np.testing.assert_allclose(seen[-2], [38, 39])


def test_an_element_of_vectors_of_changing_lengths_stays_0_dim(torch):
    """``x[0]`` of vectors of other lengths in turn (a dataset's label, then a count of
    classes): once cut on the host, the element kept a dimension of size 1."""
    for lengths in ((50, 2, 50), (3, 4, 5, 6)):
        for n in lengths:
            values = np.arange(n, dtype=np.float32)
            assert ft.tensor(values)[0].shape == torch.tensor(values)[0].shape == ()
            assert ft.tensor(values)[1].item() == 1.0


def test_windows_on_another_dim_compile_once(torch):
    """Sliding windows along time (``series[:, s:s + W]``, target ``series[:, s + W]``)."""
    rng = np.random.default_rng(1)
    series = np.sin(np.linspace(0, 12, 40) + rng.uniform(0, 3, (8, 1))).astype(np.float32)
    window = 6
    ft.manual_seed(0)
    init = {k: v.numpy().copy() for k, v in ft.nn.Linear(window, 1).state_dict().items()}
    results = []
    for t in (torch, ft):
        model = t.nn.Linear(window, 1)
        model.load_state_dict({k: t.tensor(v) for k, v in init.items()})
        opt = t.optim.SGD(model.parameters(), lr=0.05)
        s = t.tensor(series)
        if t is ft:
            ft.reset_compile_stats()
        losses = []
        for start in range(0, 40 - window):
            opt.zero_grad()
            pred = model(s[:, start:start + window]).squeeze(-1)
            loss = t.nn.functional.mse_loss(pred, s[:, start + window])
            loss.backward()
            opt.step()
            losses.append(loss.item())
        results.append(losses)
    np.testing.assert_allclose(results[1], results[0], rtol=RTOL, atol=1e-6)
    assert ft.compile_stats()["compiles"] == 1, ft.compile_stats()["log"]


def test_shuffled_index_batches_compile_once(torch, data, weights):
    """A permutation per epoch, sliced per batch, gathers from device tensors."""
    orders = [np.random.default_rng(seed).permutation(192) for seed in range(3)]
    results = []
    for t in (torch, ft):
        model = _mlp(t)
        model.load_state_dict({k: t.tensor(v) for k, v in weights.items()})
        opt = t.optim.SGD(model.parameters(), lr=0.1)
        xs, ys = t.tensor(data[0]), t.tensor(data[1])
        if t is ft:
            ft.reset_compile_stats()
        losses = []
        for order in orders:
            perm = t.tensor(order)
            for i in range(192 // BATCH):
                idx = perm[i * BATCH:(i + 1) * BATCH]
                opt.zero_grad()
                loss = t.nn.functional.cross_entropy(model(xs[idx]), ys[idx])
                loss.backward()
                opt.step()
                losses.append(loss.item())
        results.append(losses)
    np.testing.assert_allclose(results[1], results[0], rtol=RTOL)
    assert ft.compile_stats()["compiles"] == 1, ft.compile_stats()["log"]


def _replay_loop(t, weights, steps: int = 30, batch: int = 16):
    """The DQN tutorial's update: transitions kept as separate (1, n) tensors in a replay
    memory, a random sample joined with ``cat`` each step, the next states of the
    transitions that did not end masked in; returns the losses."""
    import random

    policy, target = _mlp(t), _mlp(t)
    for model in (policy, target):
        model.load_state_dict({k: t.tensor(v) for k, v in weights.items()})
    opt = t.optim.AdamW(policy.parameters(), lr=1e-2, amsgrad=True)
    rng, pick = np.random.default_rng(1), random.Random(2)
    memory, losses = [], []
    state = t.tensor(rng.standard_normal(FEATURES), dtype=t.float32).unsqueeze(0)
    for _ in range(steps + batch):
        with t.no_grad():  # acting: the newest state is still recorded when sampled
            action = policy(state).max(1).indices.view(1, 1)
        ended = rng.random() < 0.2
        following = None if ended else \
            t.tensor(rng.standard_normal(FEATURES), dtype=t.float32).unsqueeze(0)
        memory.append((state, action, following, t.tensor([float(rng.random())])))
        state = following if following is not None else \
            t.tensor(rng.standard_normal(FEATURES), dtype=t.float32).unsqueeze(0)
        if len(memory) < batch:
            continue
        states, actions, nexts, rewards = zip(*pick.sample(memory, batch), strict=True)
        mask = t.tensor(tuple(s is not None for s in nexts), dtype=t.bool)
        following = t.cat([s for s in nexts if s is not None])
        states, actions, rewards = t.cat(states), t.cat(actions), t.cat(rewards)
        q = policy(states).gather(1, actions)
        future = t.zeros(batch)
        with t.no_grad():
            future[mask] = target(following).max(1).values
        loss = t.nn.SmoothL1Loss()(q, (future * 0.99 + rewards).unsqueeze(1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_a_replay_memorys_batches_joined_with_cat_compile_once_per_shape(torch, weights):
    ft.reset_compile_stats()
    losses = _replay_loop(ft, weights)
    # 30 AdamW steps on losses of about 0.01: float32 rounding reaches 1.3e-5 relative
    np.testing.assert_allclose(losses, _replay_loop(torch, weights), rtol=1e-4)
    # the joined tensors are values: one program per count of next states (and the
    # acting forward), not one per step for each way the sample held them
    stats = ft.compile_stats()
    changes = [change for entry in stats["log"] for change in entry["changes"]]
    assert stats["compiles"] <= 14 and not stats["eager"], changes  # 33 with cat recorded
    assert not any("_cat" in change for change in changes), changes


def test_eval_loop_filling_a_preallocated_tensor_compiles_once(torch, data, weights):
    """``preds[i*64:(i+1)*64] = model(xb).argmax(1)`` under no_grad, batch by batch."""
    results = []
    for t in (torch, ft):
        model = _mlp(t)
        model.load_state_dict({k: t.tensor(v) for k, v in weights.items()})
        xs = t.tensor(data[0][:192])
        preds = t.zeros(192, dtype=t.long)
        if t is ft:
            ft.reset_compile_stats()
        with t.no_grad():
            for i in range(192 // BATCH):
                preds[i * BATCH:(i + 1) * BATCH] = model(xs[i * BATCH:(i + 1) * BATCH]).argmax(1)
                preds[i * BATCH].item()  # a read each batch, as a progress print would
        results.append(preds.numpy().copy())
    np.testing.assert_array_equal(results[1], results[0])
    # one structure per batch, and one for the final read of preds
    assert ft.compile_stats()["compiles"] <= 2, ft.compile_stats()["log"]


@pytest.mark.parametrize("index", [np.s_[3], np.s_[-2], np.s_[2:5], np.s_[1:9:3],
                                   np.s_[:, 4], np.s_[1:3, -1], np.s_[..., 2]], ids=repr)
def test_index_assignment_matches_torch_values_and_gradients(torch, index):
    x = np.arange(10 * 6 * 3, dtype=np.float32).reshape(10, 6, 3) / 7
    results = []
    for t in (torch, ft):
        leaf = t.tensor(x, requires_grad=True)
        v = t.tensor(np.float32(2.0), requires_grad=True)
        out = leaf * 1.0
        out[index] = v * leaf[index] ** 2
        (out * out).sum().backward()
        results.append((out.detach().numpy(), leaf.grad.numpy(), v.grad.numpy()))
    for got, want in zip(results[1], results[0], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6)


INDEXES = [
    np.s_[3], np.s_[-1], np.s_[-10], np.s_[2:5], np.s_[-4:], np.s_[-100:3], np.s_[8:100],
    np.s_[7:2], np.s_[10:], np.s_[1:9:3], np.s_[-7::2], np.s_[:, 2], np.s_[:, -2:],
    np.s_[1:3, 4], np.s_[..., 1], np.s_[None, 2:4], np.s_[2, None, 1:], np.s_[:, :, 0],
    np.s_[4, 5, 2], np.s_[1:2, ..., None, -1], np.s_[:6], np.s_[::2, 1:4:2],
]


@pytest.mark.parametrize("index", INDEXES, ids=repr)
def test_indexing_matches_torch_values_and_gradients(torch, index):
    x = np.arange(10 * 6 * 3, dtype=np.float32).reshape(10, 6, 3) / 7
    grads, values = [], []
    for t in (torch, ft):
        leaf = t.tensor(x, requires_grad=True)
        out = leaf[index]
        (out * out).sum().backward()
        values.append(out.detach().numpy())
        grads.append(leaf.grad.numpy())
    assert values[1].shape == values[0].shape
    np.testing.assert_allclose(values[1], values[0], rtol=1e-6)
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-6)


@pytest.mark.parametrize("index, error, message", [
    (np.s_[10], IndexError, "index 10 is out of bounds for dimension 0 with size 10"),
    (np.s_[:, -7], IndexError, "index -7 is out of bounds for dimension 1 with size 6"),
    (np.s_[1:5:0], ValueError, "slice step cannot be zero"),
    (np.s_[5:1:-1], ValueError, "step must be greater than zero"),
    (np.s_[1, 2, 0, 0], IndexError, "too many indices for tensor of dimension 3"),
    (0, IndexError, "invalid index of a 0-dim tensor"),  # indexes a 0-d tensor
])
def test_bad_indexes_raise_torchs_errors(torch, index, error, message):
    for t in (torch, ft):
        x = t.zeros(()) if index == 0 else t.zeros(10, 6, 3)
        with pytest.raises(error, match=message):
            x[index]


def test_slice_grad_fn_is_named_like_torchs():
    x = ft.ones(4, 3, requires_grad=True)
    assert x[1:3].grad_fn.name() == "SliceBackward0"


def test_int_bound_slices_are_pytorchs_for_every_bound(torch, recorder):
    """``x[a:b]`` with int bounds (a loop's batch, read as a window at a dynamic offset):
    PyTorch's rows for negative, clamped and empty bounds alike, on 1-d and 3-d tensors."""
    recorder.options.eager_after = 10**6  # each size compiles: no fallback to op by op
    for shape in ((9,), (9, 2, 3)):
        values = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
        ours, theirs = ft.tensor(values), torch.tensor(values)
        for start in range(-11, 12, 3):
            for stop in range(-11, 12, 4):
                got = ours[start:stop]
                assert tuple(got.shape) == tuple(theirs[start:stop].shape), (start, stop)
                np.testing.assert_array_equal(got.numpy(), theirs[start:stop].numpy())


def _fold(seed, x, y):
    """One fold of a cross-validation: a model built afresh, trained four steps."""
    ft.manual_seed(seed)
    nn = ft.nn
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.3),
                          nn.Linear(8, 2))
    rnn = nn.GRU(2, 3, batch_first=True)
    opt = ft.optim.Adam([*model.parameters(), *rnn.parameters()], lr=0.01)
    losses = []
    for i in range(4):
        opt.zero_grad()
        out, _ = rnn(model(x[i * 8:(i + 1) * 8]).unsqueeze(1))
        loss = nn.functional.cross_entropy(out[:, -1, :2], y[i * 8:(i + 1) * 8])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@pytest.mark.slow
def test_models_built_alike_share_their_compiled_step():
    """A cross-validation builds the same model for every fold: its layers' recorded
    calls have the same structure, so later folds reuse the first fold's programs, and
    each fold's losses are those it gets alone."""
    rng = np.random.default_rng(0)
    x = ft.tensor(rng.standard_normal((32, 4)).astype(np.float32))
    y = ft.tensor(rng.integers(0, 2, 32))
    alone, one_fold = [], []
    for seed in range(2):
        with _compiler.fresh():
            alone.append(_fold(seed, x, y))
            one_fold.append(ft.compile_stats()["compiles"])
    with _compiler.fresh():
        together = [_fold(seed, x, y) for seed in range(2)]
        assert ft.compile_stats()["compiles"] == one_fold[0] == one_fold[1]
    np.testing.assert_allclose(together, alone, rtol=1e-6)


def test_changing_one_modules_layer_changes_no_module_built_alike():
    first, second = ft.nn.Dropout(0.5), ft.nn.Dropout(0.5)
    x = ft.ones(1000)
    first(x), second(x)  # both record their calls with the shared layer
    first.p = 0.0
    assert ft.equal(first(x), x)
    assert 300 < int((second(x) == 0).sum()) < 700


def test_an_annealed_clip_range_compiles_once(torch):
    """PPO's ``ratio.clamp(1 - eps, 1 + eps)`` with ``eps`` annealed every step: the
    bounds are inputs of the step, so it compiles once, and its losses are PyTorch's."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 4)).astype(np.float32)
    w = rng.standard_normal((4, 1)).astype(np.float32)
    losses = {}
    for lib in (torch, ft):
        weight = lib.tensor(w, requires_grad=True)
        opt = lib.optim.SGD([weight], lr=0.1)
        inputs, seen = lib.tensor(x), []
        for i in range(6):
            eps = 0.3 * (1 - i / 6)
            opt.zero_grad()
            ratio = (inputs @ weight).exp()
            loss = -ratio.clamp(1 - eps, 1 + eps).mean()
            loss.backward()
            opt.step()
            seen.append(loss.item())
        losses[lib] = seen
    np.testing.assert_allclose(losses[ft], losses[torch], rtol=1e-5)
    with _compiler.fresh():
        weight = ft.tensor(w, requires_grad=True)
        opt = ft.optim.SGD([weight], lr=0.1)
        for i in range(6):
            opt.zero_grad()
            loss = -(ft.tensor(x) @ weight).exp().clamp(1 - 0.05 * i, 1 + 0.05 * i).mean()
            loss.backward()
            opt.step()
            loss.item()
        assert ft.compile_stats()["compiles"] == 1



def _fill_and_window_losses(lib, x, w, steps=5):
    """A loop whose ops take a value that changes every step: ``masked_fill`` with a
    batch statistic (a 0-d tensor) and with a Python float, and ``narrow`` sliding
    along the sequence (``data.narrow(0, i, bptt)``)."""
    weight = lib.tensor(w, requires_grad=True)
    opt = lib.optim.SGD([weight], lr=0.1)
    data, losses = lib.tensor(x), []
    for i in range(steps):
        opt.zero_grad()
        h = data.narrow(0, i, 4) @ weight
        h = h.masked_fill(h > 0.5, h.detach().mean()).masked_fill(h < -1, -1 - 0.1 * i)
        loss = h.pow(2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_fill_values_and_narrow_offsets_changing_every_step_compile_once(torch):
    """A masked_fill value and a narrow start are inputs of the step, not part of its
    structure: a loop changing them every step compiles once, with PyTorch's losses."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((9, 3)).astype(np.float32)
    w = rng.standard_normal((3, 2)).astype(np.float32)
    with _compiler.fresh():
        got = _fill_and_window_losses(ft, x, w)
        assert ft.compile_stats()["compiles"] == 1
    np.testing.assert_allclose(got, _fill_and_window_losses(torch, x, w), rtol=1e-5)


def test_a_masked_fill_value_tensor_gets_its_gradient(torch):
    """``masked_fill(mask, value)`` with a 0-d tensor value that requires grad: the
    value's gradient is the sum of the filled positions' gradients, as in PyTorch."""
    grads = []
    for lib in (torch, ft):
        x = lib.arange(6.0).reshape(2, 3)
        value = lib.tensor(2.0, requires_grad=True)
        (x.masked_fill(x > 2, value) * x).sum().backward()
        grads.append(float(value.grad))
    assert grads[0] == grads[1] == 12.0


def _masked_nll_losses(lib, probs, targets, lengths, w):
    """The chatbot tutorial's ``maskNLLLoss``: ``-log(gather(p, target))`` over the batch,
    ``masked_select(mask[t]).mean()`` of the sequences not yet ended at step ``t``."""
    weight = lib.tensor(w, requires_grad=True)
    opt = lib.optim.SGD([weight], lr=0.5)
    mask = lib.arange(3)[:, None] < lib.tensor(lengths)[None, :]  # [T, N]
    target, losses = lib.tensor(targets), []
    for t in range(3):
        opt.zero_grad()
        p = lib.softmax(lib.tensor(probs[t]) @ weight, dim=1)
        nll = -lib.log(lib.gather(p, 1, target[t].view(-1, 1)).squeeze(1))
        loss = nll.masked_select(mask[t]).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_masked_select_of_a_changing_count_compiles_once(torch):
    """``x.masked_select(mask).mean()`` selects as many entries as the mask holds, a
    count that changes from step to step: kept whole like ``x[mask]``, the step compiles
    once, with PyTorch's losses."""
    rng = np.random.default_rng(0)
    probs = rng.standard_normal((3, 5, 3)).astype(np.float32)
    targets = rng.integers(0, 3, (3, 5))
    lengths = [3, 2, 1, 1, 3]  # 5, 3 and 2 sequences still running at each step
    w = rng.standard_normal((3, 3)).astype(np.float32)
    with _compiler.fresh():
        got = _masked_nll_losses(ft, probs, targets, lengths, w)
        steps = [e for e in ft.compile_stats()["log"] if e["reason"] == "step"]
        assert len(steps) == 1
    np.testing.assert_allclose(got, _masked_nll_losses(torch, probs, targets, lengths, w),
                               rtol=1e-5)

def test_one_hot_names_of_changing_lengths_compile_once_per_length(torch, recorder):
    """The character-level RNN tutorial's input: a one-hot tensor ``[len, 1, letters]``
    filled letter by letter (``tensor[li][0][index] = 1``), a name of another length at
    most steps. Once the window ``tensor[li]`` has been taken of values of changing
    shapes, it is cut on the host; it stays so for a name of the last length too, so one
    length is one structure whatever lengths came before it."""
    lengths = [int(n) for n in np.random.default_rng(1).integers(3, 7, 30)]

    torch.manual_seed(0)
    start = {k: v.numpy() for k, v in torch.nn.RNNCell(4, 6).state_dict().items()}

    def run(lib):
        rnn = lib.nn.RNNCell(4, 6)
        rnn.load_state_dict({k: lib.tensor(v) for k, v in start.items()})
        losses = []
        for step, length in enumerate(lengths):
            x = lib.zeros(length, 1, 4)
            for li in range(length):
                x[li][0][(li + step) % 4] = 1
            h = lib.zeros(1, 6)
            for li in range(length):
                h = rnn(x[li], h)
            loss = h.pow(2).sum()
            rnn.zero_grad()
            loss.backward()
            losses.append(loss.item())
        return losses, rnn

    theirs, torch_rnn = run(torch)
    ours, rnn = run(ft)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    np.testing.assert_allclose(rnn.weight_hh.grad.numpy(),
                               torch_rnn.weight_hh.grad.numpy(), rtol=1e-5, atol=1e-7)
    # one per length, and the first two lengths once more: before the window churned,
    # it was recorded (their later steps cut it)
    assert ft.compile_stats()["compiles"] == len(set(lengths)) + 2, \
        [entry["changes"] for entry in ft.compile_stats()["log"]]


def _masked_lm_loop(t, start):
    """A masked language model's steps, its batches masked as BERT's collator does: 15%
    of the tokens chosen, 80% of those replaced by the mask token and half the rest by a
    random word (``inputs[rand] = words[rand]``); another count is chosen at every step."""
    ids = t.from_numpy(np.random.default_rng(0).integers(3, 20, (16, 12)))
    model = t.nn.Sequential(t.nn.Embedding(20, 8), t.nn.Linear(8, 20))
    model.load_state_dict({k: t.tensor(v) for k, v in start.items()})
    opt = t.optim.SGD(model.parameters(), lr=0.5)
    losses, compiles = [], []
    for step in range(8):
        rng = np.random.default_rng(step)
        labels, inputs = ids.clone(), ids.clone()
        chosen = t.from_numpy(rng.uniform(size=ids.shape)) < 0.15
        labels[~chosen] = -100
        replace = (t.from_numpy(rng.uniform(size=ids.shape)) < 0.8) & chosen
        inputs[replace] = 1
        rand = (t.from_numpy(rng.uniform(size=ids.shape)) < 0.5) & chosen & ~replace
        words = t.from_numpy(rng.integers(3, 20, ids.shape))
        inputs[rand] = words[rand]
        loss = t.nn.functional.cross_entropy(model(inputs).view(-1, 20), labels.view(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if t is ft:
            compiles.append(ft.compile_stats()["compiles"])
    return losses, compiles


def test_a_masked_language_models_collator_compiles_once(torch, recorder):
    """``inputs[rand] = words[rand]`` selects another number of words at each step: the
    step is still one structure (a where over the mask), not one per count."""
    torch.manual_seed(0)
    start = {k: v.numpy() for k, v in torch.nn.Sequential(
        torch.nn.Embedding(20, 8), torch.nn.Linear(8, 20)).state_dict().items()}
    theirs, _ = _masked_lm_loop(torch, start)
    ours, compiles = _masked_lm_loop(ft, start)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    # the first step compiles the collator's read of the mask and the step; none after
    assert compiles[2] == compiles[-1], [e["changes"] for e in ft.compile_stats()["log"]]


def _masked_token_loop(t, start, empty_at=3):
    """A padded token classifier: its loss and metrics taken through ``mask = y != 4``
    (the padding label), which selects another count at every step and none at step
    ``empty_at``, and a confidence-masked loss on the model's own predictions (a mask
    computed in the step); returns the losses, the metrics and the weights."""
    model = t.nn.Sequential(t.nn.Embedding(12, 6), t.nn.Linear(6, 4))
    model.load_state_dict({k: t.tensor(v) for k, v in start.items()})
    opt = t.optim.SGD(model.parameters(), lr=0.5)
    rng = np.random.default_rng(0)
    values, correct, compiles = [], 0, []
    for step in range(5):
        x = t.tensor(rng.integers(0, 12, (3, 5)))
        y = t.tensor(rng.integers(0, 5, (3, 5)) if step != empty_at else np.full((3, 5), 4))
        logits = model(x)
        mask = y != 4
        pred = logits.argmax(-1)
        sure = logits.softmax(-1).max(-1)[0] > 0.3
        F = t.nn.functional
        loss = F.cross_entropy(logits[mask], y[mask], label_smoothing=0.1) \
            + 0.5 * F.cross_entropy(logits[sure], pred[sure], reduction="sum") \
            + F.nll_loss(logits.log_softmax(-1)[mask], y[mask]) \
            + 0.1 * ((logits[mask] - 0.5) ** 2).mean() + 0.1 * logits[mask].abs().sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        hits = pred[mask] == y[mask]
        correct += hits.sum().item()
        values += [loss.item(), hits.float().mean().item(), (logits[mask] * 2).mean().item()]
        if t is ft:
            compiles.append(ft.compile_stats()["compiles"])
    return [np.array(values), np.array(correct),
            *(p.detach().numpy() for p in model.parameters())], compiles


def test_a_loss_and_metrics_through_a_mask_of_changing_count_compile_once(torch, recorder):
    """``cross_entropy(logits[mask], y[mask])``, ``(pred[mask] == y[mask]).float().mean()``
    and the like (nll_loss, a squared or absolute error's mean or sum) are reductions
    over the selected rows: computed over the whole batch with the mask as weights, a
    new count is no new structure (a compile per count before), with PyTorch's values,
    an empty mask's NaN included."""
    torch.manual_seed(0)
    start = {k: v.numpy() for k, v in torch.nn.Sequential(
        torch.nn.Embedding(12, 6), torch.nn.Linear(6, 4)).state_dict().items()}
    theirs, _ = _masked_token_loop(torch, start)
    ours, compiles = _masked_token_loop(ft, start)
    for mine, expected in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine, expected, rtol=1e-5, atol=1e-6)
    assert np.isnan(ours[0][9:12]).all()  # the step whose mask is empty
    assert compiles[1] == compiles[-1], [e["changes"] for e in ft.compile_stats()["log"]]


def _missing_values_loop(t, start):
    """A regression on targets with missing values (NaN), its losses taken over
    ``mask = ~target.isnan()`` as such code does, with another count at each step;
    returns the losses, their grad_fn names, the weights and the compile counts."""
    model = t.nn.Linear(3, 2)
    model.load_state_dict({k: t.tensor(v) for k, v in start.items()})
    opt = t.optim.SGD(model.parameters(), lr=0.1)
    rng = np.random.default_rng(1)
    F, values, names, compiles = t.nn.functional, [], [], []
    for step in range(5):
        x = t.tensor(rng.standard_normal((4, 3)).astype(np.float32))
        target = rng.standard_normal((4, 2)).astype(np.float32)
        target[rng.random((4, 2)) < 0.2 + 0.15 * step] = np.nan
        target = t.tensor(target)
        mask = ~target.isnan()
        pred = model(x)
        parts = [F.mse_loss(pred[mask], target[mask]),
                 F.l1_loss(pred[mask], target[mask], reduction="sum"),
                 F.smooth_l1_loss(pred[mask], target[mask], beta=0.5),
                 t.nn.MSELoss(reduction="sum")(pred[mask], target[mask] * 0.5)]
        loss = sum(parts)
        opt.zero_grad()
        loss.backward()
        opt.step()
        values.append([p.item() for p in parts])
        names.append([p.grad_fn.name() for p in parts])
        if t is ft:
            compiles.append(ft.compile_stats()["compiles"])
    return values, names, [p.detach().numpy() for p in model.parameters()], compiles


def test_regression_losses_over_a_mask_of_missing_values_compile_once(torch, recorder):
    """``F.mse_loss(pred[mask], target[mask])`` (and l1, smooth_l1, nn.MSELoss(sum))
    over a mask whose count changes every step: PyTorch's values, gradients and grad_fn
    names, computed over the whole batch (no compile per count)."""
    torch.manual_seed(0)
    start = {k: v.numpy() for k, v in torch.nn.Linear(3, 2).state_dict().items()}
    theirs, ours = _missing_values_loop(torch, start), _missing_values_loop(ft, start)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5, atol=1e-6)
    assert ours[1] == theirs[1]
    for mine, expected in zip(ours[2], theirs[2], strict=True):
        np.testing.assert_allclose(mine, expected, rtol=1e-5, atol=1e-6)
    assert ours[3][1] == ours[3][-1], [e["changes"] for e in ft.compile_stats()["log"]]


@pytest.mark.parametrize("write", ["none", "add_", "data", "setitem", "through_a_view",
                                   "mask_changed"])
def test_an_assignment_of_values_taken_by_the_same_mask_matches_torch(torch, write):
    """``x[mask] = y[mask]``: y's values when they were taken, wherever y or the mask
    was written in between (a write makes it the scatter it is in PyTorch)."""

    def run(t):
        mask = t.tensor([[1, 0, 1, 0], [0, 0, 0, 1], [1, 1, 0, 0]]).bool()
        y = t.tensor(np.arange(12.0).reshape(3, 4)).float()
        taken = y[mask]
        if write == "add_":
            y.add_(100)
        elif write == "data":
            y.data.add_(100)
        elif write == "setitem":
            y[0, 0] = 50
        elif write == "through_a_view":
            y[0].add_(1)
        elif write == "mask_changed":  # the same count at other places
            mask[0, 0], mask[0, 1] = False, True
        x = t.zeros(3, 4)
        x[mask] = taken
        return x.numpy(), taken.numpy(), taken.requires_grad

    ours, theirs = run(ft), run(torch)
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_array_equal(ours[1], theirs[1])
    assert ours[2] == theirs[2]


def test_gradients_through_an_assignment_taken_by_the_same_mask_match_torch(torch):
    def run(t):
        mask = t.tensor([[1, 0, 1, 0], [0, 0, 0, 1], [1, 1, 0, 0]]).bool()
        a = t.ones(3, 4, requires_grad=True)
        w = t.tensor(np.arange(12.0).reshape(3, 4)).float().requires_grad_()
        x = a * 2
        x[mask] = w[mask]
        (x * t.tensor(np.arange(12.0).reshape(3, 4)).float()).sum().backward()
        return x.detach().numpy(), a.grad.numpy(), w.grad.numpy()

    for ours, theirs in zip(run(ft), run(torch), strict=True):
        np.testing.assert_array_equal(ours, theirs)


PUT_INDEXES = {
    "mask": lambda t: t.tensor([[1, 0, 1, 0], [0, 0, 0, 1], [1, 1, 0, 0]]).bool(),
    "row_mask": lambda t: t.tensor([True, False, True]),
    "int_tensor": lambda t: t.tensor([0, 2]),
    "list": lambda t: [0, 2],
    "array": lambda t: np.array([0, 2]),
    "slice_and_ints": lambda t: (slice(None), t.tensor([0, 2])),
    "slice_and_mask": lambda t: (slice(None), t.tensor([True, False, True, False])),
    "int": lambda t: 1,
    "0_dim_int_tensor": lambda t: t.tensor(1),
    "slice": lambda t: slice(0, 2),
}


@pytest.mark.parametrize("value", ["long", "one_long", "0_dim_long"])
@pytest.mark.parametrize("index", sorted(PUT_INDEXES))
def test_index_assignment_of_another_dtype_casts_or_raises_as_torch(torch, index, value):
    """Assignment through ``index_put_`` (a tensor or list index) does not cast a tensor
    value of another dtype, with PyTorch's RuntimeError; a slice's ``copy_`` and one
    mask's ``masked_fill`` of a one-element value cast."""

    def run(t):
        x = t.zeros(3, 4)
        where = PUT_INDEXES[index](t)
        shape = tuple(x[where].shape)
        v = {"long": t.ones(shape, dtype=t.long) * 3, "one_long": t.tensor([3]),
             "0_dim_long": t.tensor(3)}[value]
        try:
            x[where] = v
        except RuntimeError as e:
            return str(e)
        return x.numpy()

    ours, theirs = run(ft), run(torch)
    if isinstance(theirs, str):
        assert ours == theirs
    else:
        np.testing.assert_array_equal(ours, theirs)
