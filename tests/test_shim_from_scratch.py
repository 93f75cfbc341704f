"""fnnet.torch against PyTorch on what "from scratch" notebooks do op by op: seeded
``torch.Generator`` draws (bigram sampling, ``randn(..., generator=g)`` weights),
histograms of activations, and gradients of intermediate values kept with
``retain_grad`` for a manual backward pass.

fnnet.torch's random numbers are not PyTorch's (another PRNG), so the draws are compared
by the properties a notebook relies on: a generator seeded again replays its numbers,
whatever was drawn from the global seed meanwhile, and samples follow the probabilities.
"""

from __future__ import annotations

import numpy as np
import pytest

import fnnet.torch as ft

pytestmark = pytest.mark.torch

RNG = np.random.default_rng(0)
P = RNG.uniform(0.1, 1.0, (4, 6)).astype(np.float32)
P /= P.sum(1, keepdims=True)


def _draws(t):
    """What each generator-taking function draws: a callable of the generator."""
    p = t.tensor(P)
    return {
        "randn": lambda g: t.randn((3, 4), generator=g),
        "rand": lambda g: t.rand(5, generator=g),
        "randint": lambda g: t.randint(0, 27, (32,), generator=g),
        "randperm": lambda g: t.randperm(9, generator=g),
        "normal": lambda g: t.normal(0.0, 1.0, (6,), generator=g),
        "normal(tensors)": lambda g: t.normal(t.zeros(4), t.ones(4), generator=g),
        "multinomial": lambda g: t.multinomial(p[0], num_samples=8, replacement=True,
                                               generator=g),
        "multinomial(rows)": lambda g: t.multinomial(p, 3, generator=g),
        "bernoulli": lambda g: t.bernoulli(t.full((16,), 0.5), generator=g),
        "Tensor.bernoulli": lambda g: t.full((16,), 0.5).bernoulli(generator=g),
        "Tensor.normal_": lambda g: t.zeros(5).normal_(generator=g),
        "Tensor.uniform_": lambda g: t.zeros(5).uniform_(generator=g),
        "Tensor.exponential_": lambda g: t.zeros(5).exponential_(generator=g),
        "randn_like": lambda g: t.randn_like(p, generator=g),
    }


def _replays(t):
    """Per function: (a generator seeded again replays its first two draws despite global
    draws in between, its two draws differ)."""
    out = {}
    for name, draw in _draws(t).items():
        g = t.Generator().manual_seed(2147483647)
        first, second = draw(g).numpy(), (t.randn(3), draw(g).numpy())[1]
        t.manual_seed(7)
        t.rand(4)
        g = t.Generator().manual_seed(2147483647)
        again = draw(g).numpy(), draw(g).numpy()
        out[name] = (np.array_equal(first, again[0]) and np.array_equal(second, again[1]),
                     not np.array_equal(first, second))
    return out


def test_a_seeded_generator_replays_its_draws_as_pytorch(torch):
    theirs, ours = _replays(torch), _replays(ft)
    assert ours == theirs
    assert all(replayed and moved for replayed, moved in ours.values())


def test_a_generator_is_checked_as_pytorch_checks_it(torch):
    for t in (torch, ft):
        with pytest.raises(TypeError, match="multinomial\\(\\): argument 'generator' must "
                                            "be torch.Generator, not str"):
            t.multinomial(t.tensor([0.5, 0.5]), 1, generator="x")
        with pytest.raises(TypeError, match="normal_\\(\\): argument 'generator' must be "
                                            "torch.Generator, not int"):
            t.zeros(2).normal_(generator=3)


def _bigram_samples(t, steps=200, n=4000):
    """Next characters drawn one call at a time, as a name-sampling loop does, then ``n``
    per row of the probabilities in one call: the loop's draws, and the frequencies."""
    g = t.Generator().manual_seed(2147483647)
    rows = t.tensor(P)
    chain = [0]
    for _ in range(steps):
        nxt = t.multinomial(rows[chain[-1]], num_samples=1, replacement=True,
                            generator=g).item()
        chain.append(nxt % P.shape[0])
    draws = t.multinomial(rows, n, replacement=True, generator=g).numpy()
    freq = np.stack([np.bincount(row, minlength=P.shape[1]) / n for row in draws])
    return chain, freq


def test_bigram_sampling_follows_the_probabilities_as_pytorch(torch):
    sigma = np.sqrt(P * (1 - P) / 4000)
    for t in (torch, ft):
        chain, freq = _bigram_samples(t)
        assert all(isinstance(i, int) and 0 <= i < P.shape[0] for i in chain)
        assert np.all(np.abs(freq - P) < 5 * sigma), (t.__name__, freq, P)


def _histograms(t):
    h = t.tanh(t.tensor(np.random.default_rng(1).standard_normal(500).astype(np.float32) * 2,
                        requires_grad=True))
    c = t.histc(h, bins=10, min=-1, max=1)
    hist = t.histogram(h.detach(), bins=7, range=(-1.0, 1.0))
    same = t.histogram(t.tensor([2.0, 2.0]), bins=4)
    weighted = t.histogram(t.tensor([1.0, 2.0, 1.0, 2.9]), bins=t.tensor([0.0, 1.0, 2.0, 3.0]),
                           weight=t.tensor([1.0, 2.0, 4.0, 0.5]), density=True)
    data = t.histogram(h.detach(), 5)
    return [c.requires_grad, c.grad_fn is None, hist.hist.dtype == t.float32,
            type(hist).__name__, len(hist),
            *(x.numpy() for x in (c, *hist, *same, *weighted, data.hist, data.bin_edges))]


def test_histc_and_histogram_as_pytorch(torch):
    theirs, ours = _histograms(torch), _histograms(ft)
    assert ours[:5] == theirs[:5] == [False, True, True, "histogram", 2]
    for mine, expected in zip(ours[5:], theirs[5:], strict=True):
        np.testing.assert_allclose(mine, expected, rtol=1e-5, atol=1e-6)


def test_histogram_errors_as_pytorch(torch):
    for t in (torch, ft):
        with pytest.raises(RuntimeError, match="bins must be > 0, but got 0"):
            t.histogram(t.tensor([1.0]), bins=0)
        with pytest.raises(RuntimeError, match="min should not exceed max"):
            t.histogram(t.tensor([1.0]), bins=2, range=(2.0, 1.0))
        with pytest.raises(NotImplementedError, match="histogramdd"):
            t.histogram(t.tensor([1, 2]), bins=3)


@pytest.mark.parametrize("values", [[1, 2], [True, False]])
def test_histc_refuses_integers_and_booleans_as_pytorch(torch, values):
    from helpers import raised_by

    def call(t):
        return t.histc(t.tensor(values), bins=3)

    assert raised_by(call, ft) == raised_by(call, torch)


def _manual_backward(t, late):
    """A softmax cross-entropy by hand, each intermediate retained as it is computed (or,
    ``late``, all after the forward pass, as the lecture's manual-backprop exercise does
    it), against the gradients written out by hand."""
    rng = np.random.default_rng(3)
    logits_w = t.tensor(rng.standard_normal((5, 7)).astype(np.float32), requires_grad=True)
    x = t.tensor(rng.standard_normal((8, 5)).astype(np.float32))
    y = t.tensor(rng.integers(0, 7, 8))
    n = 8

    def retained(value):
        if not late:
            value.retain_grad()
        return value

    logits = retained(x @ logits_w)
    counts = retained((logits - logits.max(1, keepdim=True).values).exp())
    probs = retained(counts / counts.sum(1, keepdim=True))
    logprobs = retained(probs.log())
    loss = -logprobs[range(n), y].mean()
    if late:
        for value in (logprobs, probs, counts, logits):
            value.retain_grad()
    loss.backward()
    dlogprobs = t.zeros_like(logprobs)
    dlogprobs[range(n), y] = -1.0 / n
    dlogits = t.nn.functional.softmax(logits, 1)
    dlogits[range(n), y] -= 1
    dlogits /= n
    return [loss.item(), t.allclose(dlogprobs, logprobs.grad),
            t.allclose(dlogits, logits.grad, atol=1e-6),
            (dlogits - logits.grad).abs().max().item() < 1e-6,
            *(v.grad.numpy() for v in (logprobs, probs, counts, logits, logits_w))]


@pytest.mark.parametrize("late", [False, True], ids=["as computed", "after the forward"])
def test_retained_intermediate_gradients_match_a_manual_backward_as_pytorch(torch, late):
    theirs, ours = _manual_backward(torch, late), _manual_backward(ft, late)
    assert ours[1:4] == theirs[1:4] == [True, True, True]
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5)
    for mine, expected in zip(ours[4:], theirs[4:], strict=True):
        np.testing.assert_allclose(mine, expected, rtol=1e-4, atol=1e-6)


def _reversed_arithmetic(t):
    """``true_b - b`` and ``1 / x`` as a d2l-style notebook prints them."""
    b = t.tensor([4.1992, 3.0, 0.1], requires_grad=True)
    error, inverse, scaled = 4.2 - b, 1 / b, 3 / b
    (error + inverse + scaled).sum().backward()
    return (repr(error), repr(inverse), scaled.detach().numpy(), b.grad.numpy(),
            repr(2 - t.tensor([1, 2])), repr(1 / t.tensor([2, 4])))


def test_reversed_arithmetic_prints_and_rounds_as_pytorch(torch):
    theirs, ours = _reversed_arithmetic(torch), _reversed_arithmetic(ft)
    assert "grad_fn=<RsubBackward1>" in ours[0] and "grad_fn=<MulBackward0>" in ours[1]
    assert ours[0] == theirs[0] and ours[1] == theirs[1] and ours[4:] == theirs[4:]
    np.testing.assert_array_equal(ours[2], theirs[2])  # reciprocal, then multiply
    np.testing.assert_allclose(ours[3], theirs[3], rtol=1e-5)


def _numpy_axis_names(t):
    """d2l's numpy-flavoured reductions: ``axis=`` and ``keepdims=`` for ``dim=``."""
    A = t.arange(20, dtype=t.float32).reshape(5, 4)
    return [A.cumsum(axis=0), t.cumsum(A, axis=1), A.amax(axis=0), t.amax(A, axis=1, keepdims=True),
            A.logsumexp(axis=1), A.sort(axis=0).values, A.argsort(axis=1), t.var_mean(A, axis=0)[0],
            A.topk(2, axis=1).values, A.median(axis=0).values, A.cumprod(axis=1), A.nansum(axis=0)]


def test_numpy_axis_names_everywhere_as_pytorch(torch):
    for mine, expected in zip(_numpy_axis_names(ft), _numpy_axis_names(torch), strict=True):
        np.testing.assert_allclose(mine.numpy(), expected.numpy(), rtol=1e-6)
    with pytest.raises(TypeError, match="cumsum\\(\\) received both dim= and its alias axis="):
        ft.cumsum(ft.ones(3), dim=0, axis=0)


def _numpy_functions_of_tensors(t):
    """numpy's ufuncs on a tensor give a tensor (bools as uint8); its other functions
    (``np.dot``, ``np.concatenate``, ``np.where``) give numpy values, as with PyTorch."""
    a, n = t.tensor([1.0, 4.0, 9.0]), t.tensor([1, 2])
    return [np.exp(a), np.sqrt(a), np.add(a, 1), np.maximum(a, 2.5), np.less(a, 2),
            np.isnan(a), np.add.reduce(a), np.matmul(a, a), np.negative(n), *np.modf(a / 2),
            *np.divmod(a, 2), np.float32(2) * a, np.argmax(a), np.clip(a, 2, 5),
            np.dot(a, a), np.concatenate([a, a]), np.where(a > 2, a, 0), np.sort(a),
            np.exp(a, out=np.zeros(3, np.float32))]


def test_numpy_functions_of_tensors_as_pytorch(torch):
    for mine, expected in zip(_numpy_functions_of_tensors(ft), _numpy_functions_of_tensors(torch),
                              strict=True):
        assert type(mine).__name__ == type(expected).__name__
        assert str(mine.dtype) == str(expected.dtype)
        np.testing.assert_allclose(np.asarray(mine), np.asarray(expected), rtol=1e-6)
    for reduce in (np.mean, np.sum):  # numpy passes out=, which neither accepts
        with pytest.raises(TypeError):
            reduce(torch.ones(2))
        with pytest.raises(TypeError):
            reduce(ft.ones(2))


def _generator_state(t):
    g = t.Generator().manual_seed(5)
    saved = g.get_state()
    first = t.randn(3, generator=g).numpy()
    g.set_state(saved)
    replayed = t.randn(3, generator=g).numpy()
    reseeded = g.seed()
    return (np.array_equal(first, replayed), str(saved.dtype), str(g.device),
            isinstance(reseeded, int), g.initial_seed() == reseeded)


def test_generator_state_and_seed_as_pytorch(torch):
    assert _generator_state(ft) == _generator_state(torch) == (
        True, "torch.uint8", "cpu", True, True)
    with pytest.raises(NotImplementedError, match="Generator.clone_state"):
        ft.Generator().clone_state()
    with pytest.raises(TypeError, match="RNG state must be a torch.ByteTensor"):
        ft.Generator().set_state(ft.zeros(3))


def _counts_in_place(t):
    """Bigram counts by ``N[i, j] += 1`` in a loop, and a view assigned back to its own
    place after its root changed (PyTorch: the view shares the storage, a no-op)."""
    pairs = np.random.default_rng(4).integers(0, 5, (40, 2)).tolist()
    N = t.zeros((5, 5), dtype=t.int32)
    for i, j in pairs:
        N[i, j] += 1
    N[0] += 2
    N[:, 1] *= 3
    M = t.zeros((3, 3))
    row = M[1]
    M.add_(1)
    M[1] = row
    return N.numpy().astype(np.int64), M.numpy()


def test_count_in_place_and_a_view_assigned_to_itself_as_pytorch(torch):
    (n_ours, m_ours), (n_theirs, m_theirs) = _counts_in_place(ft), _counts_in_place(torch)
    np.testing.assert_array_equal(n_ours, n_theirs)
    np.testing.assert_array_equal(m_ours, m_theirs)


def test_no_grad_on_a_generator_function_holds_at_each_resume_as_in_pytorch(torch):
    # a sampling loop written as a generator under @torch.no_grad(): its body records no
    # graph, and the caller's mode holds between the values it yields
    seen = []
    for lib in (torch, ft):
        w = lib.ones(2, requires_grad=True)

        @lib.no_grad()
        def sample(n, w=w, lib=lib):
            for i in range(n):
                yield (w * i).requires_grad, lib.is_grad_enabled()

        @lib.set_grad_enabled(False)
        def once(lib=lib):
            yield lib.is_grad_enabled()

        steps = [(item, lib.is_grad_enabled()) for item in sample(2)]
        unfinished = sample(3)
        next(unfinished)
        unfinished.close()
        seen.append((steps, list(once()), lib.is_grad_enabled(), (w * 2).requires_grad))
    assert seen[1] == seen[0] == ([((False, False), True)] * 2, [False], True, True)
