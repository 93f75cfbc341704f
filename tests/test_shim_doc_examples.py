"""Calls as PyTorch's own docstring examples write them, printed the same under PyTorch
and fnnet.torch: NaN medians, signed zeros of floor division, complex ``isreal``,
broadcast batches and masks, ``asarray``'s graph."""

from __future__ import annotations

import warnings

import pytest

import fnnet.torch as ft

pytestmark = pytest.mark.torch

NAN = float("nan")

#: ``name -> call(T)``; the value's repr must be PyTorch's
CALLS = {
    "median of all with a NaN": lambda T: T.tensor([1, NAN, 3, 2]).median(),
    "median without the NaN": lambda T: T.tensor([1, NAN, 3, 2]).nanmedian(),
    "median along a dim with NaNs": lambda T: T.tensor(
        [[NAN, 1.0, NAN], [1.0, 2.0, 3.0], [3.0, NAN, 1.0]]).median(1),
    "median of integers": lambda T: T.tensor([[4, 1, 3, 2]]).median(1),
    "floor division's zero takes the quotient's sign": lambda T: T.div(
        T.tensor([[-0.4605, 0.5], [0.1, -0.3]]), T.tensor([-0.8113, 0.7]),
        rounding_mode="floor"),
    "floor_divide and //": lambda T: (
        T.floor_divide(T.tensor([-0.4605, 0.1]), -0.8113), T.tensor([-0.4605]) // -0.8113,
        -0.4605 // T.tensor([-0.8113, 0.2])),
    "isreal of complex": lambda T: T.isreal(T.complex(T.tensor([1.0, 1.0, 2.0]),
                                                      T.tensor([0.0, 1.0, -0.0]))),
    "masked_scatter broadcasts the tensor to the mask": lambda T: T.tensor(
        [0, 0, 0, 0, 0]).masked_scatter(
        T.tensor([[0, 0, 0, 1, 1], [1, 1, 0, 1, 1]], dtype=T.bool),
        T.tensor([[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]])),
    "asarray detaches when told": lambda T: T.asarray(
        T.tensor([1.0, 2.0], requires_grad=True) + 2, requires_grad=False),
}


@pytest.mark.parametrize("case", list(CALLS))
def test_prints_what_pytorch_prints(torch, case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert repr(CALLS[case](ft)) == repr(CALLS[case](torch))


def test_asarray_of_a_graph_keeps_it_with_pytorchs_warning(torch):
    texts = []
    for T in (torch, ft):
        with pytest.warns(UserWarning) as caught:
            kept = T.asarray(T.tensor([1.0], requires_grad=True) * 2)
        assert kept.requires_grad and type(kept.grad_fn).__name__ == "MulBackward0"
        texts.append(str(caught[0].message).split(" (Triggered")[0])
    assert texts[1] == texts[0]


@pytest.mark.parametrize("name", ["cholesky", "inv", "det", "solve", "qr", "svdvals"])
def test_complex_matrices_are_refused_by_name(name):
    m = ft.complex(ft.eye(2) * 2, ft.zeros(2, 2))
    with pytest.raises(NotImplementedError, match=f"complex matrices in torch.linalg.{name}"):
        getattr(ft.linalg, name)(*((m, m) if name == "solve" else (m,)))


def test_sdpa_kernel_regions_compute_pytorchs_attention(torch):
    import numpy as np

    data = np.random.default_rng(0).standard_normal((1, 2, 4, 8)).astype(np.float32)
    results = []
    for T in (torch, ft):
        from_attention = __import__(f"{T.__name__}.nn.attention", fromlist=["sdpa_kernel"])
        backend, kernel = from_attention.SDPBackend, from_attention.sdpa_kernel
        q = T.tensor(data)
        with kernel(backend.MATH):
            plain = T.nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True)
        with kernel([backend.FLASH_ATTENTION, backend.MATH], set_priority=True):
            fused = T.nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True)
        with pytest.raises(AssertionError) as caught:
            with kernel("flash"):
                pass
        results.append((plain.numpy(), fused.numpy(), str(backend.MATH), str(caught.value)))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-5, atol=1e-6)
    assert results[1][2:] == results[0][2:]


def test_lstsq_reports_rank_and_singular_values_of_a_broadcast_matrix(torch):
    import numpy as np

    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((1, 3, 3)), rng.standard_normal((2, 3, 3))
    results = []
    for T in (torch, ft):
        fit = T.linalg.lstsq(T.tensor(a, dtype=T.float32), T.tensor(b, dtype=T.float32),
                             driver="gelsd")
        with pytest.raises(RuntimeError) as caught:
            T.linalg.lstsq(T.ones(3, 2), T.ones(2, 3, 4))
        results.append((fit.solution.numpy(), fit.rank.numpy(), fit.singular_values.numpy(),
                        str(caught.value)))
    for ours, theirs in zip(results[1][:3], results[0][:3], strict=True):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
    assert results[1][3] == results[0][3]


def test_an_empty_list_makes_a_tensor_of_the_default_dtype(torch):
    for data in ([], [[]], (), [[], []]):
        ours, theirs = ft.tensor(data), torch.tensor(data)
        assert (str(ours.dtype), tuple(ours.shape)) == (str(theirs.dtype), tuple(theirs.shape))


@pytest.mark.parametrize("call", [
    lambda T: T.bitwise_and(T.tensor([True, False]), 2),
    lambda T: T.bitwise_or(T.tensor([True, False]), True),
    lambda T: T.bitwise_xor(T.tensor([3, 5], dtype=T.uint8), 300),
    lambda T: T.bitwise_left_shift(T.tensor([3, 5], dtype=T.uint8), 2),
    lambda T: T.bitwise_and(T.tensor([1, 6]), 2.5),
    lambda T: T.bitwise_and(T.tensor([1, 6]), T.tensor(2.0)),
], ids=["bool and int", "bool or bool", "uint8 xor a wide int", "uint8 shift",
        "int and float", "int and float tensor"])
def test_bitwise_functions_promote_numbers_as_pytorch(torch, call):
    def outcome(T):
        try:
            out = call(T)
        except Exception as error:  # noqa: BLE001 - its type and words are compared
            return type(error).__name__, str(error)
        return str(out.dtype), out.tolist()

    assert outcome(ft) == outcome(torch)


@pytest.mark.parametrize("call", [
    lambda T: T.special.gammainc(T.tensor([0.5, 2.0, 5.0]), T.tensor([1.0, 2.0, 3.0])),
    lambda T: T.special.gammaincc(T.tensor([0.5, 2.0, 5.0]), T.tensor([1.0, 2.0, 3.0])),
    lambda T: T.igamma(T.tensor([1, 2]), T.tensor([1.5, 0.5])),
    lambda T: T.tensor([2.0, 3.0]).igammac(T.tensor([1.0, 4.0])),
    lambda T: T.special.gammainc(T.tensor([1, 2]), T.tensor([1, 2])),
], ids=["gammainc", "gammaincc", "igamma of integer shapes", "igammac method",
        "two integer tensors"])
def test_incomplete_gamma_functions_as_pytorch(torch, call):
    def outcome(T):
        try:
            out = call(T)
        except NotImplementedError as error:
            return "NotImplementedError", str(error)
        return str(out.dtype), [round(v, 5) for v in out.tolist()]

    assert outcome(ft) == outcome(torch)
