"""The tensor operations beginner programs reach for after the basics (sorting,
gathering, scattering, scans, splits, triangles, ``einsum``, ``F.one_hot``/``pad``/
``normalize``), each against PyTorch: values, and gradients through every float output."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import fnnet.torch as ft
import fnnet.torch.nn.functional as FF

pytestmark = pytest.mark.torch

RNG = np.random.default_rng(0)
A = RNG.normal(size=(4, 6)).astype(np.float32)
IDX = RNG.integers(0, 6, size=(4, 3))
PERM = np.stack([RNG.permutation(6)[:3] for _ in range(4)])  # no repeats within a row
IMAGES = RNG.normal(size=(2, 3, 4, 5)).astype(np.float32)


CASES = {
    "topk": lambda m, x: x.topk(2, dim=1),
    "topk_smallest": lambda m, x: m.topk(x, 3, dim=0, largest=False),
    "sort": lambda m, x: x.sort(dim=1, descending=True),
    "argsort": lambda m, x: m.argsort(x, dim=0),
    "gather": lambda m, x: x.gather(1, m.tensor(IDX)),
    "gather_narrow_index": lambda m, x: m.gather(x, 1, m.tensor(IDX)[:2]),
    "scatter": lambda m, x: m.zeros(4, 6).scatter(1, m.tensor(PERM), x[:, :3] * 1.0) + x,
    "scatter_value": lambda m, x: x.scatter(1, m.tensor(IDX), 0.5),
    "scatter_add": lambda m, x: m.zeros(4, 6).scatter_add(1, m.tensor(IDX), x[:, :3] * 1.0),
    # PyTorch has no derivative for it: values only
    "scatter_multiply": lambda m, x: (x.detach() + 2).scatter(1, m.tensor(IDX), 1.5,
                                                              reduce="multiply"),
    "index_select": lambda m, x: x.index_select(1, m.tensor([0, 2, 2])),
    "cumsum": lambda m, x: x.cumsum(1),
    "cumprod": lambda m, x: m.cumprod(x, dim=0),
    "logsumexp": lambda m, x: x.logsumexp(1),
    "logsumexp_dims": lambda m, x: m.logsumexp(x, dim=(0, 1), keepdim=True),
    "split": lambda m, x: x.split(4, dim=1),
    "split_sizes": lambda m, x: m.split(x, [1, 3], dim=0),
    "chunk": lambda m, x: x.chunk(4, dim=1),
    "chunk_fn": lambda m, x: m.chunk(x, 3),
    "narrow": lambda m, x: x.narrow(1, 2, 3),
    "flip": lambda m, x: m.flip(x, [0, 1]),
    "roll": lambda m, x: x.roll(2, 1),
    "roll_flat": lambda m, x: m.roll(x, 3),
    "tril": lambda m, x: x.tril(),
    "triu": lambda m, x: m.triu(x, 1),
    "diag": lambda m, x: m.diag(x),
    "diag_of_vector": lambda m, x: m.diag(x[0]),
    "repeat_interleave": lambda m, x: x.repeat_interleave(2, dim=0),
    "outer": lambda m, x: m.outer(x[0], x[1]),
    "sign": lambda m, x: x.sign(),
    "isnan_isinf": lambda m, x: ((x / 0 * 0).isnan(), (x / 0).isinf(), x.isfinite()),
    "bmm": lambda m, x: m.bmm(x.reshape(2, 2, 6), x.reshape(2, 6, 2)),
    "einsum": lambda m, x: m.einsum("ij,kj->ik", x, x),
    "einsum_list": lambda m, x: m.einsum("ij->j", [x]),
    "einsum_sublists": lambda m, x: (m.einsum(x, [0, 27], x, [2, 27], [0, 2]),
                                     m.einsum(x, [..., 1], x, [..., 1])),
    "new_tensors": lambda m, x: (x.new_zeros(2, 3), x.new_ones((2, 3)),
                                 x.new_full((2,), 7.0)),
    "one_hot": lambda m, x: m.nn.functional.one_hot(m.tensor([0, 3, 1])),
    "normalize": lambda m, x: m.nn.functional.normalize(x, dim=1),
}


def _outputs(result):
    return list(result) if isinstance(result, tuple | list) else [result]


def _weighted_sum(outputs):
    """A scalar that weighs each float output differently, so that a gradient routed to
    the wrong output is caught."""
    return sum((y * (i + 1)).sum() for i, y in enumerate(outputs)
               if y.dtype.is_floating_point)


@pytest.mark.parametrize("name", list(CASES))
def test_op_matches_torch_values_and_gradients(torch, name):
    case = CASES[name]
    ta, fa = torch.tensor(A, requires_grad=True), ft.tensor(A, requires_grad=True)
    expected, got = _outputs(case(torch, ta)), _outputs(case(ft, fa))
    assert len(got) == len(expected)
    for e, g in zip(expected, got, strict=True):
        assert tuple(g.shape) == tuple(e.shape)
        np.testing.assert_allclose(g.detach().numpy(), e.detach().numpy(), rtol=1e-5,
                                   atol=1e-6, err_msg=name)
    loss = _weighted_sum(expected)
    if isinstance(loss, int) or not loss.requires_grad:
        return  # integer or boolean results only
    loss.backward()
    _weighted_sum(got).backward()
    np.testing.assert_allclose(fa.grad.numpy(), ta.grad.numpy(), rtol=1e-5, atol=1e-6,
                               err_msg=f"{name} gradient")


@pytest.mark.parametrize("mode, pad", [("constant", (1, 2)), ("constant", (1, 2, 2, 1)),
                                       ("reflect", (1, 2, 2, 1)),
                                       ("replicate", (1, 2, 2, 1)),
                                       ("circular", (1, 2, 2, 1))])
def test_pad_matches_torch(torch, mode, pad):
    ta, fa = torch.tensor(IMAGES, requires_grad=True), ft.tensor(IMAGES, requires_grad=True)
    kwargs = {"value": 0.5} if mode == "constant" else {"mode": mode}
    expected = torch.nn.functional.pad(ta, pad, **kwargs)
    got = FF.pad(fa, pad, **kwargs)
    np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy())
    (expected * expected).sum().backward()
    (got * got).sum().backward()
    np.testing.assert_allclose(fa.grad.numpy(), ta.grad.numpy(), rtol=1e-5)


#: F.pad calls beyond the plain case: negative widths (crop), every padded-dimension
#: count of the copying modes, and each of PyTorch's refusals
_PAD_CALLS = [
    ((3, 4), ((-1, 1),)), ((3, 4), ((-1, -1, 0, -1),)), ((3, 4), ((-2, -2),)),
    ((3, 4), ((2, 1), "constant", 2.5)), ((2, 3, 4), ((1, 2, 0, 0, 1, 0),)),
    ((2, 3, 4), ((3, 3), "reflect")), ((2, 3, 4), ((2, -1), "reflect")),
    ((2, 3, 4), ((3, -1), "reflect")), ((2, 3, 4), ((-1, 2, 1, -1), "reflect")),
    ((2, 3, 4), ((2, -1, -1, 2), "replicate")), ((2, 3, 4), ((-4, 1), "replicate")),
    ((2, 3, 4), ((-1, 3), "circular")), ((2, 3, 4), ((-1, -1, 1, 1), "circular")),
    ((2, 3, 4), ((4, 1), "circular")), ((2, 3, 4), ((0, 0, -2, -1), "reflect")),
    ((1, 2, 3, 4), ((1, 1, 1, 1, 1, 1), "reflect")), ((2, 3, 4), ((1, 1), "reflect", 0.0)),
    # refused
    ((1, 2, 3, 4), ((1, 1), "reflect")), ((4,), ((1, 1), "replicate")),
    ((2, 3, 4), ((4, 4), "reflect")), ((2, 3, 4), ((5, 1), "circular")),
    ((2, 3, 4), ((-3, -2), "reflect")), ((2, 3, 4), ((-4, 0, -3, 0), "reflect")),
    ((2, 3, 4), ((-4, 0, -3, 0), "replicate")), ((1, 2, 3, 4), ((-4, 0, -3, 0, -2, 0), "reflect")),
    ((2, 3, 4), ((-5, 0, 0, 0), "replicate")), ((2, 3, 4), ((1, 1), "reflect", 2.0)),
    ((2, 3, 4), ((1, 1, 1),)), ((2, 3, 4), ((0,) * 8,)), ((2, 3, 4), ((1, 1), "zeros")),
    ((3, 4), ((-2, -3),)),
]


def _pads(lib):
    """Each of :data:`_PAD_CALLS` by ``lib``: shape, values, input gradient and backward
    node's name, or the error's type and text."""
    results = []
    for shape, args in _PAD_CALLS:
        x = lib.arange(float(np.prod(shape))).reshape(shape).cos().requires_grad_()
        try:
            y = lib.nn.functional.pad(x, *args)
        except (RuntimeError, NotImplementedError) as error:
            results.append((type(error).__name__, str(error)))
            continue
        (y * y.sin()).sum().backward()
        results.append((tuple(y.shape), y.grad_fn.name(), y.detach().numpy(), x.grad.numpy()))
    return results


def test_pad_crops_checks_and_names_its_backward_as_torch(torch):
    for (shape, args), mine, theirs in zip(_PAD_CALLS, _pads(ft), _pads(torch), strict=True):
        if isinstance(theirs[0], str):
            assert mine == theirs, (shape, args)
            continue
        assert mine[:2] == theirs[:2], (shape, args)
        np.testing.assert_allclose(mine[2], theirs[2], rtol=1e-6, err_msg=str(args))
        np.testing.assert_allclose(mine[3], theirs[3], rtol=1e-5, atol=1e-6, err_msg=str(args))


def test_float_of_a_graph_warns_once_and_a_vectors_format_spec_is_refused(torch):
    for lib in (torch, ft):
        y = lib.ones(1, requires_grad=True) * 2
        with pytest.raises(TypeError, match="unsupported format string passed to "
                                            "Tensor.__format__"):
            f"{y:.2f}"
        assert f"{y.sum():.2f}" == "2.00"
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # outside grad mode, neither warns
            with lib.no_grad():
                assert float(y) == 2.0
            w = lib.zeros(2, requires_grad=True)  # LBFGS reads the closure's loss so
            lbfgs = lib.optim.LBFGS([w], max_iter=3)

            def closure(w=w, lbfgs=lbfgs, lib=lib):
                lbfgs.zero_grad()
                loss = ((w - lib.ones(2)) ** 2).sum()
                loss.backward()
                return loss
            assert lbfgs.step(closure).item() == 2.0
    with pytest.warns(UserWarning, match=r"Converting a tensor with requires_grad=True to a "
                                         r"scalar may lead to unexpected behavior.\nConsider "
                                         r"using tensor.detach\(\) first."):
        assert float(y) == 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per process, as TORCH_WARN_ONCE
        assert float(y) == 2.0


def test_in_place_scatter_and_the_ops_inside_a_compiled_step(torch):
    x = ft.zeros(3, 4)
    x.scatter_(1, ft.tensor([[0], [1], [2]]), 1.0)
    np.testing.assert_array_equal(x.numpy(), np.eye(3, 4))
    # A training loop using them compiles once, like any other op.
    ft.manual_seed(0)
    w = ft.randn(6, 6, requires_grad=True)
    optimizer = ft.optim.SGD([w], lr=0.1)
    x = ft.tensor(A)
    for _ in range(5):
        optimizer.zero_grad()
        logits = (x @ w).cumsum(1)
        top = logits.topk(2, dim=1).values
        loss = top.logsumexp(1).mean() + logits.gather(1, ft.tensor(IDX)).pow(2).mean()
        loss.backward()
        optimizer.step()
    assert ft.compile_stats()["compiles"] <= 2


def test_scatter_with_reduce_warns_once_and_multiplies_as_pytorch(torch, monkeypatch):
    """``reduce=`` with a tensor ``src`` warns once a process that it is deprecated (with
    a number it never does), ``"multiply"`` multiplies repeated indices in turn, and
    another reduction is refused in PyTorch's words."""
    from fnnet.torch import _more_ops

    monkeypatch.setattr(_more_ops, "_REDUCE_WARNED", [False])
    results = []
    for m in (torch, ft):
        index = m.tensor([[0, 1], [2, 2], [3, 0]])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            by_value = m.full((3, 4), 2.0).scatter(1, index, 3.0, reduce="multiply")
            first = m.full((3, 4), 2.0).scatter(1, index, m.full((3, 2), 3.0),
                                                reduce="multiply")
            second = m.zeros(3, 4).scatter_(1, index, m.ones(3, 2), reduce="add")
        results.append((by_value, first, second, [str(w.message) for w in caught]))
        with pytest.raises(RuntimeError, match="reduce argument must be either add or "
                           "multiply."):
            m.zeros(3, 4).scatter(1, index, 1.0, reduce="max")
    (*theirs, their_warnings), (*ours, our_warnings) = results
    for o, t in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(o.numpy(), t.numpy())
    assert len(our_warnings) == 1 and their_warnings[0].startswith(our_warnings[0])


@pytest.mark.parametrize("call, error, message", [
    (lambda: ft.tensor(A).topk(9), RuntimeError, "selected index k out of range"),
    (lambda: ft.tensor(A).gather(1, ft.tensor([[0.5]])), RuntimeError,
     "Expected dtype int32/int64 for index"),
    (lambda: ft.tensor(A).gather(1, ft.tensor([0])), RuntimeError,
     "same number of dimensions"),
    (lambda: ft.tensor(A).split([1, 1]), RuntimeError, "sum exactly to 4"),
    (lambda: ft.bmm(ft.tensor(A), ft.tensor(A)), RuntimeError, "must be a 3D tensor"),
    (lambda: ft.tensor(A).narrow(1, 4, 3), RuntimeError, "exceeds dimension size"),
    (lambda: ft.tensor(A).cumsum(2), IndexError, "Dimension out of range"),
    (lambda: ft.einsum(3, ft.tensor(A)), TypeError, "argument 'equation' must be str"),
    (lambda: ft.einsum(ft.tensor(A), [0, 52]), ValueError,
     r"^einsum\(\): subscript in subscript list is not within the valid range \[0, 52\)$"),
    (lambda: FF.one_hot(ft.tensor(A)), RuntimeError, "index tensor"),
    (lambda: FF.pad(ft.tensor(A), (1,)), RuntimeError, "divisible by 2"),
])
def test_bad_arguments_raise_torchs_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_small_globals_tutorials_use(torch):
    assert ft.__version__.startswith(torch.__version__.split("+")[0])
    assert ft.get_num_threads() >= 1
    assert ft.finfo(ft.float32).eps == torch.finfo(torch.float32).eps
    assert ft.iinfo(ft.int32).max == torch.iinfo(torch.int32).max
    ft.use_deterministic_algorithms(True)
    assert ft.are_deterministic_algorithms_enabled()
    ft.use_deterministic_algorithms(False)
    with ft.inference_mode():
        y = ft.tensor(A, requires_grad=True) * 2
    assert not y.requires_grad

    @ft.inference_mode()
    def double(v):
        return v * 2

    assert not double(ft.tensor(A, requires_grad=True)).requires_grad


def test_assigned_value_drops_leading_size_one_dims_as_pytorch(torch):
    # the seq2seq tutorial's attentions[di] = attn_weights.data, weights [1, L] into a row
    def fill(m):
        a = m.zeros(3, 4, requires_grad=False)
        a[1] = m.ones(1, 4)                                  # a window
        a[m.tensor([0, 2])] = m.full((1, 1, 2, 4), 2.0)       # gathered rows
        a[:, 0] = m.arange(3.0).view(1, 3)                    # a column
        a[1:, 1:3] = m.ones(1, 1, 2, 2) * 7                   # a block
        return a

    np.testing.assert_array_equal(fill(ft).numpy(), fill(torch).numpy())
    for m in (ft, torch):  # only size-1 dims may go
        with pytest.raises(RuntimeError, match=r"the number of sizes provided \(1\) must be "
                           r"greater or equal to the number of dimensions in the tensor \(2\)"):
            m.zeros(3, 4)[1] = m.ones(2, 4)


_ZERO_D_INDEX = [
    lambda t: t.zeros(10).scatter_(0, t.tensor(3), value=1),  # the one-hot of a tutorial
    lambda t: t.zeros(10).scatter(0, t.tensor(3), t.tensor(5.0)),
    lambda t: t.zeros(4).scatter_(0, t.tensor(1), t.tensor([9.0])),
    lambda t: t.zeros(10).scatter_add(0, t.tensor(2), t.tensor(4.0)),
    lambda t: t.arange(5.0).gather(0, t.tensor(3)),
    lambda t: t.tensor(7.0).gather(0, t.tensor([0])),
    lambda t: t.zeros(()).scatter_(0, t.tensor([0]), 1.0),
    lambda t: t.zeros(2, 3).scatter_(0, t.tensor([1, 0]), 1.0),
    lambda t: t.zeros(2, 3).gather(0, t.tensor([1, 0])),
]


@pytest.mark.parametrize("call", _ZERO_D_INDEX)
def test_scatter_and_gather_take_a_0_d_tensor_as_one_of_one_element(torch, call):
    try:
        expected = call(torch)
    except RuntimeError as error:
        with pytest.raises(RuntimeError, match=f"^{error}$"):
            call(ft)
        return
    got = call(ft)
    assert tuple(got.shape) == tuple(expected.shape)
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
