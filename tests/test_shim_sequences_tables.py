"""What sequence, text and tabular programs meet beyond the corpus, against PyTorch:
gradients at zero (``abs``, norms), ``div(rounding_mode=)``, the data loader's
collation and ``batch_size=None``, the sorting and searching ops, ``torch.linalg``'s
decompositions and ``torch.autograd.functional``."""

from __future__ import annotations

import numpy as np
import pytest

import fnnet.torch as ft

pytestmark = pytest.mark.torch


def _close(ours, theirs, rtol=1e-5, atol=1e-6):
    """Float32 parity of a fnnet.torch result with PyTorch's (tensors, or tuples of them)."""
    if isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs, strict=True):
            _close(o, t, rtol, atol)
        return
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    ours = ours.detach().numpy() if hasattr(ours, "detach") else np.asarray(ours)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours.astype(np.float64), theirs.astype(np.float64),
                               rtol=rtol, atol=atol)


@pytest.mark.parametrize("expr", [
    lambda m, x: m.abs(x).sum(),
    lambda m, x: x.abs().mean(),
    lambda m, x: abs(x).sum(),
    lambda m, x: m.norm(x, p=1),
    lambda m, x: m.norm(x),
    lambda m, x: x.norm(p=float("inf")),
    lambda m, x: m.linalg.vector_norm(x, ord=1),
])
def test_gradient_at_zero_is_pytorchs(torch, expr):
    """An L1 penalty on zero-initialised biases, or the norm of a zero vector: PyTorch's
    gradient is 0 there (jax's |x| has gradient 1 at 0, sqrt's is infinite)."""
    values = np.array([0.0, 0.0, 0.0], np.float32)
    grads = []
    for m in (ft, torch):
        x = m.tensor(values, requires_grad=True)
        expr(m, x).backward()
        grads.append(x.grad)
    _close(*grads)


@pytest.mark.parametrize("mode", [None, "trunc", "floor"])
def test_div_rounding_mode(torch, mode):
    """``torch.div(a, b, rounding_mode=...)`` and ``Tensor.div``/``div_`` on negative
    integers and floats (integer-division exercises, bucketing by ``// width``)."""
    for values in ([-7, -3, 3, 7], [-7.5, -0.5, 2.5, 7.0]):
        results = []
        for m in (ft, torch):
            a = m.tensor(values)
            inplace = a.float().clone()
            inplace.div_(2, rounding_mode=mode)
            results.append((m.div(a, 2, rounding_mode=mode), a.div(m.tensor(-2),
                            rounding_mode=mode), inplace))
        _close(*results)
        assert results[0][0].dtype.is_floating_point == results[1][0].dtype.is_floating_point


def _structure(value):
    """A collated batch's containers and element kinds, tensors as ``('T', shape)``."""
    if isinstance(value, dict):
        return {k: _structure(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value).__name__, [_structure(v) for v in value]
    if hasattr(value, "shape") and hasattr(value, "detach"):
        return "T", tuple(value.shape), value.detach().numpy().tolist()
    return value


def test_default_collate_keeps_pytorchs_containers(torch):
    """A Dataset of tuples with strings, dicts and numbers collates to PyTorch's
    containers: a tuple sample to a list, its strings to a tuple."""
    samples = [(np.full(2, i, np.float32), i % 3, {"idx": i, "name": f"s{i}"}, f"item{i}")
               for i in range(5)]
    batches = [next(iter(m.utils.data.DataLoader(samples, batch_size=4)))
               for m in (ft, torch)]
    assert _structure(batches[0]) == _structure(batches[1])


def test_batch_size_none_yields_samples(torch):
    """``DataLoader(ds, batch_size=None)``: each sample unbatched, numpy made tensors."""
    samples = [(np.arange(3, dtype=np.float32) + i, "a", i) for i in range(4)]
    ours, theirs = (m.utils.data.DataLoader(samples, batch_size=None) for m in (ft, torch))
    assert len(ours) == len(theirs) == 4
    assert [_structure(b) for b in ours] == [_structure(b) for b in theirs]
    sampled = [m.utils.data.DataLoader(samples, batch_size=None, sampler=[2, 0])
               for m in (ft, torch)]
    assert [_structure(b) for b in sampled[0]] == [_structure(b) for b in sampled[1]]
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        ft.utils.data.DataLoader(samples, batch_size=0)


_X = np.random.default_rng(5).standard_normal((4, 5)).astype(np.float32)
_BOUNDS = [1, 3, 5, 7, 9]

SEARCH_OPS = {
    "kthvalue": lambda m: m.kthvalue(m.tensor(_X[0]), 2),
    "kthvalue_dim": lambda m: m.tensor(_X).kthvalue(3, dim=0, keepdim=True),
    "mode": lambda m: m.mode(m.tensor([1, 2, 2, 3, 3, 3, 0])),
    "mode_ties": lambda m: m.tensor([[1, 1, 2, 2], [3, 0, 0, 3]]).mode(dim=1),
    "mode_float": lambda m: m.tensor([[0.5, 0.5, -1.0], [2.0, 1.0, 2.0]]).mode(0),
    "histc": lambda m: m.histc(m.tensor([1.0, 2.0, 1.0, 4.0, 2.5, 9.0]), bins=4, min=0, max=4),
    "histc_range": lambda m: m.tensor(_X).histc(bins=3),
    "histc_constant": lambda m: m.histc(m.ones(3), bins=4),
    "bucketize": lambda m: m.bucketize(m.tensor([3, 6, 9, 0]), m.tensor(_BOUNDS)),
    "bucketize_right": lambda m: m.bucketize(m.tensor([[3.0, 6.0], [9.0, 11.0]]),
                                             m.tensor(_BOUNDS, dtype=m.float32), right=True),
    "searchsorted": lambda m: m.searchsorted(m.tensor(_BOUNDS), m.tensor([[3, 6], [9, 0]])),
    "searchsorted_side": lambda m: m.searchsorted(m.tensor(_BOUNDS), m.tensor([3, 9]),
                                                  side="right"),
    "searchsorted_rows": lambda m: m.searchsorted(m.tensor([[1, 3, 5], [2, 4, 6]]),
                                                  m.tensor([[3, 7], [3, 0]])),
    "searchsorted_scalar": lambda m: m.searchsorted(m.tensor(_BOUNDS), 4),
    "take": lambda m: m.take(m.arange(12).view(3, 4), m.tensor([[0, 5], [11, 2]])),
    "tensor_split": lambda m: m.tensor_split(m.arange(7), 3),
    "tensor_split_indices": lambda m: m.tensor_split(m.arange(7), [1, 5, 9]),
    "tensor_split_dim": lambda m: m.arange(12).view(3, 4).tensor_split(3, dim=1),
    "dist": lambda m: (m.dist(m.tensor(_X[0]), m.tensor(_X[1])),
                       m.tensor(_X[0]).dist(m.tensor(_X[1]), p=1),
                       m.dist(m.tensor(_X[0]), m.tensor(_X[1]), p=float("inf"))),
    "bitwise": lambda m: (m.bitwise_and(m.tensor([12, 5]), m.tensor([10, 3])),
                          m.tensor([5]).bitwise_or(2), m.bitwise_xor(m.tensor([5]), 1),
                          m.bitwise_not(m.tensor([True, False])), m.bitwise_not(m.tensor([5])),
                          m.bitwise_left_shift(m.tensor([1, 3]), 2),
                          m.tensor([5, -8]) >> 1, m.tensor([5]) << m.tensor([2])),
    "repeat_interleave": lambda m: (
        m.repeat_interleave(m.tensor([1, 2]), m.tensor([2, 3])),
        m.arange(6).view(2, 3).repeat_interleave(m.tensor([1, 3]), dim=0),
        m.repeat_interleave(m.tensor([2, 0, 1])),
        m.arange(6).view(2, 3).repeat_interleave(m.tensor(2), dim=1)),
    "quantile": lambda m: (m.tensor(_X).quantile(0.3), m.quantile(m.tensor(_X), m.tensor(
        [0.25, 0.5, 0.9]), dim=1, keepdim=True), m.tensor(_X).quantile(0.5, dim=0,
                                                                    interpolation="lower")),
    "nanquantile": lambda m: m.nanquantile(m.tensor([[1.0, float("nan"), 3.0, 2.0]]), 0.5,
                                           dim=1),
    "nanmedian": lambda m: (m.tensor([1.0, float("nan"), 3.0, 2.0]).nanmedian(),
                            m.tensor([[1.0, float("nan"), 3.0], [4.0, 0.0, 5.0]]).nanmedian(1)),
    "msort_aminmax": lambda m: (m.msort(m.tensor(_X)), *m.aminmax(m.tensor(_X)),
                                *m.tensor(_X).aminmax(dim=1, keepdim=True)),
    "logcumsumexp": lambda m: m.tensor(_X).logcumsumexp(dim=1),
    "cov_corrcoef": lambda m: (m.cov(m.tensor(_X)), m.tensor(_X).cov(correction=0),
                               m.cov(m.tensor(_X), fweights=m.tensor([1, 2, 1, 3, 1]),
                                     aweights=m.tensor([0.5, 1.0, 1.0, 2.0, 1.0])),
                               m.corrcoef(m.tensor(_X))),
    "unique_consecutive": lambda m: (m.unique_consecutive(m.tensor([1, 1, 2, 2, 3, 1, 1])),
                                     *m.tensor([1, 1, 2, 2, 3, 1]).unique_consecutive(
                                         return_inverse=True, return_counts=True),
                                     m.unique_consecutive(m.tensor([[1, 2], [1, 2], [3, 4]]),
                                                          dim=0)),
    "index_put": lambda m: (m.zeros(5).index_put_((m.tensor([0, 2, 2, 4]),), m.ones(4),
                                                  accumulate=True),
                            m.zeros(3, 3).index_put((m.tensor([0, 2]), m.tensor([1, 1])),
                                                    m.tensor([5.0, 6.0])),
                            m.zeros(2, 2).index_put((m.tensor([[True, False], [False, True]]),),
                                                    m.tensor(3.0))),
    "masked_scatter": lambda m: m.tensor(_X).masked_scatter(m.tensor(_X) > 0.5,
                                                            m.arange(20.0).view(4, 5)),
    "scatter_reduce": lambda m: tuple(
        m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]).scatter_reduce(
            1, m.tensor([[0, 0, 2], [1, 1, 1]]), m.tensor([[7.0, -1.0, 2.0], [3.0, 9.0, 0.5]]),
            reduce, include_self=include)
        for reduce in ("sum", "prod", "mean", "amax", "amin") for include in (True, False)),
    "index_builders": lambda m: (m.cartesian_prod(m.tensor([1, 2]), m.tensor([3, 4, 5])),
                                 m.combinations(m.tensor([1, 2, 3, 4]), r=3),
                                 m.combinations(m.tensor([1.0, 2.0]), with_replacement=True),
                                 m.tril_indices(3, 4, 1), m.triu_indices(4, 3, -1),
                                 m.block_diag(m.ones(2, 2), m.tensor([3.0, 4.0]), m.tensor(5.0))),
    "norms": lambda m: (m.tensor(_X).norm(p="fro"), m.tensor(_X).norm(p="fro", dim=1),
                        m.tensor(_X).norm(p="nuc"), m.norm(m.tensor([0.0, 2.0, -1.0]), p=0),
                        m.tensor(_X).norm(p=float("-inf"), dim=0),
                        m.norm(m.tensor(_X), p=3, dim=1, keepdim=True)),
}


@pytest.mark.parametrize("name", sorted(SEARCH_OPS))
def test_search_ops_match_pytorch(torch, name):
    """Order statistics, binning and splitting, printed as PyTorch prints them (the
    named results' ``torch.return_types``), values and indices equal."""
    ours, theirs = SEARCH_OPS[name](ft), SEARCH_OPS[name](torch)
    _close(ours, theirs)
    if isinstance(theirs, tuple) and hasattr(theirs, "indices"):
        assert repr(ours).split("(")[0] == repr(theirs).split("(")[0]
        assert ours.indices.tolist() == theirs.indices.tolist()


def test_kthvalue_and_mode_gradients(torch):
    """The picked elements get the gradient, as in PyTorch."""
    grads = []
    for m in (ft, torch):
        x = m.tensor(_X, requires_grad=True)
        (x.kthvalue(2, dim=1).values.sum() * 2 + x.mode(0).values.sum()).backward()
        grads.append(x.grad)
    _close(*grads)


_A = (np.random.default_rng(7).standard_normal((4, 4)) + 4 * np.eye(4)).astype(np.float32)
_SPD = (_A @ _A.T).astype(np.float32)
_TALL = np.random.default_rng(8).standard_normal((6, 3)).astype(np.float32)
_RHS = np.random.default_rng(9).standard_normal((6, 2)).astype(np.float32)
_LOWER = np.tril(_A).astype(np.float32)

LINALG = {
    "cholesky": lambda m: (m.linalg.cholesky(m.tensor(_SPD)),
                           m.linalg.cholesky(m.tensor(_SPD), upper=True),
                           m.cholesky(m.tensor(_SPD))),
    "qr": lambda m: m.linalg.qr(m.tensor(_TALL)),
    "qr_complete": lambda m: m.linalg.qr(m.tensor(_TALL), mode="complete"),
    "svd_values": lambda m: (m.linalg.svdvals(m.tensor(_TALL)),
                             m.linalg.svd(m.tensor(_TALL), full_matrices=False).S),
    "eigh": lambda m: m.linalg.eigh(m.tensor(_SPD)).eigenvalues,
    "eigvalsh": lambda m: m.linalg.eigvalsh(m.tensor(_SPD), UPLO="U"),
    "slogdet": lambda m: m.linalg.slogdet(m.tensor(_A)),
    "logdet": lambda m: (m.logdet(m.tensor(_SPD)), m.logdet(-m.eye(3)),
                         m.tensor(_SPD).logdet()),
    "lstsq": lambda m: m.linalg.lstsq(m.tensor(_TALL), m.tensor(_RHS)),
    "lstsq_gelsd": lambda m: m.linalg.lstsq(m.tensor(_TALL), m.tensor(_RHS), driver="gelsd"),
    "pinv": lambda m: (m.linalg.pinv(m.tensor(_TALL)), m.pinverse(m.tensor(_TALL))),
    "matrix_rank": lambda m: (m.linalg.matrix_rank(m.tensor(_A)),
                              m.linalg.matrix_rank(m.ones(3, 3)),
                              m.linalg.matrix_rank(m.tensor(_SPD), hermitian=True)),
    "cond": lambda m: m.linalg.cond(m.tensor(_A)),
    "matrix_power": lambda m: (m.linalg.matrix_power(m.tensor(_A), 3),
                               m.tensor(_A).matrix_power(-1), m.matrix_power(m.tensor(_A), 0)),
    "matrix_exp": lambda m: (m.matrix_exp(m.tensor(_A) / 4), m.linalg.matrix_exp(m.zeros(2, 2))),
    "multi_dot": lambda m: m.linalg.multi_dot([m.tensor(_A), m.tensor(_A), m.tensor(_A[0])]),
    "solve_triangular": lambda m: (
        m.linalg.solve_triangular(m.tensor(_LOWER), m.tensor(_RHS[:4]), upper=False),
        m.linalg.solve_triangular(m.tensor(_LOWER.T), m.tensor(_RHS[:4]), upper=True,
                                  unitriangular=True),
        m.linalg.solve_triangular(m.tensor(_LOWER), m.tensor(_RHS[:4].T), upper=False,
                                  left=False),
        # a batch of matrices against one right-hand side: the batch broadcasts
        m.linalg.solve_triangular(m.tensor(np.stack([_LOWER, 2 * _LOWER])),
                                  m.tensor(_RHS[:4]), upper=False)),
    "cholesky_solve": lambda m: m.cholesky_solve(m.tensor(_RHS[:4]),
                                                 m.linalg.cholesky(m.tensor(_SPD))),
    "cholesky_inverse": lambda m: (
        m.cholesky_inverse(m.linalg.cholesky(m.tensor(_SPD))),
        m.linalg.cholesky(m.tensor(np.stack([_SPD, 2 * _SPD])), upper=True).cholesky_inverse(
            upper=True)),
    "triangular_solve": lambda m: m.triangular_solve(m.tensor(_RHS[:4]), m.tensor(_LOWER),
                                                     upper=False),
    "svd_top": lambda m: m.svd(m.tensor(_SPD)).S,
    "det_inverse_methods": lambda m: (m.tensor(_A).det(), m.tensor(_A).inverse()),
    "cross": lambda m: m.linalg.cross(m.tensor([[1.0, 2.0, 3.0]]), m.tensor([[4.0, 5.0, 6.0]])),
}


@pytest.mark.filterwarnings("ignore:torch.(cholesky|triangular_solve) is deprecated")
@pytest.mark.parametrize("name", sorted(LINALG))
def test_linalg_matches_pytorch(torch, name):
    ours, theirs = LINALG[name](ft), LINALG[name](torch)
    _close(ours, theirs, rtol=1e-4, atol=1e-5)
    if isinstance(theirs, tuple) and hasattr(theirs, "_fields") or \
            type(theirs).__module__ == "torch.return_types":
        assert repr(ours).split("=")[0] == repr(theirs).split("=")[0]


def test_svd_reconstructs_and_least_squares_trains(torch):
    """``U diag(S) Vh`` gives back the matrix, and gradient descent on the squared error
    reaches ``lstsq``'s solution (a course's closed form against SGD)."""
    u, s, vh = ft.linalg.svd(ft.tensor(_TALL), full_matrices=False)
    _close(u @ ft.diag(s) @ vh, _TALL, rtol=1e-4, atol=1e-5)
    x, y = ft.tensor(_TALL), ft.tensor(_RHS[:, :1])
    w = ft.zeros(3, 1, requires_grad=True)
    opt = ft.optim.SGD([w], lr=0.1)
    for _ in range(300):
        loss = ((x @ w - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    _close(w, torch.linalg.lstsq(torch.tensor(_TALL), torch.tensor(_RHS[:, :1])).solution,
           rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("expr", [
    lambda m, a: m.linalg.slogdet(a).logabsdet,
    lambda m, a: m.linalg.lstsq(a, m.ones(4, 1)).solution.sum(),
    lambda m, a: m.linalg.cholesky(a @ a.mT).sum(),
    lambda m, a: m.linalg.pinv(a).sum(),
    lambda m, a: m.linalg.eigvalsh(a + a.mT).max(),
    lambda m, a: (m.cholesky_inverse(m.linalg.cholesky(a @ a.mT)) * m.arange(16.0).view(4, 4)
                  ).sum(),
])
def test_linalg_gradients_match_pytorch(torch, expr):
    grads = []
    for m in (ft, torch):
        a = m.tensor(_A, requires_grad=True)
        expr(m, a).backward()
        grads.append(a.grad)
    _close(*grads, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("bad, kind", [
    (lambda m: m.ones(3), RuntimeError), (lambda m: m.ones(2, 3), RuntimeError),
    (lambda m: m.ones(2, 2, dtype=m.long), NotImplementedError), (lambda m: [[1.0]], TypeError),
])
def test_cholesky_inverse_refuses_what_pytorchs_refuses(torch, bad, kind):
    messages = []
    for m in (torch, ft):
        with pytest.raises(kind) as caught:
            m.cholesky_inverse(bad(m))
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


def test_unsupported_linalg_names_say_so():
    with pytest.raises(NotImplementedError, match="torch.linalg.householder_product"):
        ft.linalg.householder_product(ft.eye(2), ft.ones(1))
    assert not hasattr(ft.linalg, "ldl_factor")


def test_testing_assert_close_matches_pytorch(torch):
    """``torch.testing.assert_close`` passes and fails where PyTorch's does, with its
    exception type and whole message: "equal" for exact dtypes, differences computed in
    the compared dtype, NaN differences, the failing item's path after the message."""
    nan = float("nan")
    cases = [
        lambda m: (m.tensor([1.0, 2.0]), m.tensor([1.0, 2.0 + 1e-6])),
        lambda m: (m.tensor([1.0, 2.0]), m.tensor([1.1, 2.0])),
        lambda m: (m.ones(2), m.ones(3)),
        lambda m: ([m.ones(1), {"a": m.zeros(2)}], [m.ones(1), {"a": m.zeros(2)}]),
        lambda m: ({"a": m.zeros(2), "b": m.ones(1)}, {"a": m.ones(2), "b": m.zeros(1)}),
        lambda m: ([{"w": m.ones(2)}], [{"w": m.ones(3)}]),
        lambda m: ([m.ones(1), (m.tensor([1]), m.tensor([2]))],
                   [m.ones(1), (m.tensor([1]), m.tensor([3]))]),
        lambda m: (m.tensor([[1, 2], [5, 3]]), m.tensor([[1, 3], [2, 3]])),
        lambda m: (m.tensor([True, False]), m.tensor([True, True])),
        lambda m: (m.tensor([nan, 1.0]), m.tensor([nan, 1.0])),
        lambda m: (m.tensor([1.0, nan]), m.tensor([1.5, 1.0])),
        lambda m: (m.tensor(1.0), m.tensor(2.0)),
        lambda m: ({"a": 1}, {"b": 1}),
        lambda m: ([1, 2], [1, 2, 3]),
        lambda m: (1.0, 1.0 + 1e-9),
        lambda m: (1.0, 1.1),
        lambda m: (1, 2),
        lambda m: (True, False),
        lambda m: (2.5, 2),
        lambda m: (m.tensor([1.0]), 1.0),
        # complex numbers compare by the modulus of their difference
        lambda m: (m.arange(-2, 2).to(m.complex64), m.arange(-2, 2).to(m.complex64) + 1e-7j),
        lambda m: (m.arange(-2, 2).to(m.complex64), m.arange(-2, 2).to(m.complex64) + 0.01j),
        lambda m: (m.arange(1, 5).to(m.complex64), m.arange(1, 5).to(m.complex64) * 1.001),
    ]
    with_options = [
        (lambda m: (m.tensor([1, 2]), m.tensor([1.0, 2.5])), {"check_dtype": False}),
        (lambda m: (m.tensor([1.0, 2.0]), m.tensor([1.0, 2.5])), {"rtol": 0, "atol": 0}),
        (lambda m: ({"a": m.ones(1)}, {"a": m.zeros(1)}), {"msg": "mine"}),
    ]
    for make, kwargs in [(make, {}) for make in cases] + with_options:
        outcomes = []
        for m in (torch, ft):
            try:
                m.testing.assert_close(*make(m), **kwargs)
                outcomes.append(None)
            except (AssertionError, TypeError) as e:
                outcomes.append((type(e), str(e)))
        assert outcomes[1] == outcomes[0]
    ft.testing.assert_close(ft.tensor([1.0, float("nan")]), ft.tensor([1.0, float("nan")]),
                            equal_nan=True)
    ft.testing.assert_close(ft.tensor([1.0]), ft.tensor([1.05]), rtol=0.1, atol=0.0)
    with pytest.raises(ValueError, match="Both 'rtol' and 'atol'"):
        ft.testing.assert_close(ft.ones(1), ft.ones(1), rtol=0.1)


def test_bool_tensors_print_as_pytorchs(torch):
    """``True`` is padded to ``False``'s width only where a False is shown."""
    for make in (lambda m: m.tensor([True, True]), lambda m: m.tensor([[True], [False]]),
                 lambda m: m.ones(2, 2).bool(), lambda m: m.tensor(False),
                 lambda m: m.tensor([1.0, -1.0]) > 0):
        assert repr(make(ft)) == repr(make(torch))


def test_load_reads_every_header_length(tmp_path):
    """A safetensors header of 128, 384... bytes starts the file with 0x80, a pickle's
    first byte: ``torch.load`` refused such files as pickles (``torch.save`` of a
    tensor, or of a state dict whose names happened to have that length)."""
    weights = np.arange(3, dtype=np.float32)
    for n in range(1, 140):  # names of every length until the header is 128 bytes long
        path = tmp_path / "t.safetensors"  # torch.save's safetensors writer
        ft.save({"w" * n: weights, "step": n}, path)
        if path.read_bytes()[0] == 0x80:
            break
    assert path.read_bytes()[0] == 0x80
    loaded = ft.load(path, map_location="cpu")
    assert loaded["step"] == n and loaded["w" * n].tolist() == [0.0, 1.0, 2.0]
    ft.save(ft.arange(5.0), tmp_path / "bare.pt")
    assert ft.load(tmp_path / "bare.pt").tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    (tmp_path / "pickle.pt").write_bytes(b"\x80\x04\x95" + bytes(20))
    with pytest.raises(ValueError, match="is a pickle; refused"):
        ft.load(tmp_path / "pickle.pt")


def test_printing_after_backward_keeps_grad_fn(torch):
    """``print(loss)`` after ``loss.backward()`` shows the loss's node, as PyTorch's
    (the read that printing does used to free the graph before naming it)."""
    printed = []
    for m in (ft, torch):
        x = m.ones(2, requires_grad=True)
        loss = m.nn.functional.mse_loss(x * 3, m.zeros(2))
        loss.backward()
        total = (x * x).sum()
        printed.append((repr(loss), repr(total)))
    assert printed[0] == printed[1]


def test_custom_function_extra_none_gradients_and_name(torch):
    """A Function whose optional argument was not passed may return a None gradient for
    it (PyTorch drops extra Nones), and its node is named ``<Class>Backward``."""
    results = []
    for m in (ft, torch):
        class Scale(m.autograd.Function):
            @staticmethod
            def forward(ctx, x, w, b=None):
                ctx.save_for_backward(x, w)
                return x * w if b is None else x * w + b

            @staticmethod
            def backward(ctx, grad):
                x, w = ctx.saved_tensors
                needs = ctx.needs_input_grad
                return (grad * w if needs[0] else None), (grad * x if needs[1] else None), None

        x = m.tensor([1.0, 2.0], requires_grad=True)
        w = m.tensor([3.0, -1.0])
        out = Scale.apply(x, w)
        out.sum().backward()
        results.append((x.grad, type(out.grad_fn).__name__, repr(out)))
    _close(results[0][0], results[1][0])
    assert results[0][1:] == results[1][1:]


def _f(m):
    return lambda v: m.stack([v[0] ** 2 * v[1], m.sin(v[1]) + v[0], v.sum() * 0 + 1.0])


def _g(m):
    return lambda v: (v ** 3).sum() + v[0] * v[1]


_V = np.array([1.0, 2.0], np.float32)

FUNCTIONAL = {
    "jacobian": lambda m: m.autograd.functional.jacobian(_f(m), m.tensor(_V)),
    "jacobian_tuple": lambda m: m.autograd.functional.jacobian(
        lambda a, b: (a * b, (a @ b).exp()), (m.tensor(_V), m.tensor([3.0, 4.0]))),
    "jacobian_matrix": lambda m: m.autograd.functional.jacobian(
        lambda w: m.tanh(m.tensor(_X[:2, :3]) @ w), m.tensor(_X[:3, :2])),
    "hessian": lambda m: m.autograd.functional.hessian(_g(m), m.tensor(_V)),
    "hessian_tuple": lambda m: m.autograd.functional.hessian(
        lambda a, b: (a * b.exp()).sum(), (m.tensor(_V), m.tensor([0.5, -1.0]))),
    "vjp": lambda m: m.autograd.functional.vjp(_f(m), m.tensor(_V), m.tensor([1.0, 2.0, 3.0])),
    "jvp": lambda m: m.autograd.functional.jvp(_f(m), m.tensor(_V), m.tensor([1.0, -1.0])),
    "hvp": lambda m: m.autograd.functional.hvp(_g(m), m.tensor(_V), m.tensor([1.0, 0.5])),
    "vhp": lambda m: m.autograd.functional.vhp(_g(m), m.tensor(_V), m.tensor([1.0, 0.5])),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONAL))
def test_autograd_functional_matches_pytorch(torch, name):
    """``torch.autograd.functional``: Jacobians and Hessians of tensors and of tuples,
    and the products with vectors, as PyTorch computes them."""
    _close(FUNCTIONAL[name](ft), FUNCTIONAL[name](torch), rtol=1e-5, atol=1e-5)


def test_jvp_of_a_scalar_function_as_pytorch(torch):
    # the output is 0-d: its zero total was built as zeros() with no shape
    results = [m.autograd.functional.jvp(lambda a: a.exp().sum(), m.tensor([1.0, 2.0, 3.0]),
                                         m.tensor([1.0, 0.0, -1.0])) for m in (ft, torch)]
    _close(*results)


def test_leaves_detached_from_one_value_get_gradients_of_their_own(torch):
    """``x.detach().requires_grad_()`` twice makes two leaves, each with its own
    ``.grad``, as jacobian then hessian of one point make them (Newton's method): the
    second shared the first's and its Hessian came out zero."""
    def run(m):
        x = m.tensor([-1.2, 1.0])
        a, b = x.detach().requires_grad_(), x.detach().requires_grad_()
        (a * 2).sum().backward()
        (b ** 2).sum().backward()
        v = m.tensor([1.0, 3.0], requires_grad=True)
        c = v.detach().requires_grad_()
        (v * 3).sum().backward()
        (c * 5).sum().backward()
        rosenbrock = lambda p: (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2  # noqa: E731
        g = m.autograd.functional.jacobian(rosenbrock, x)
        h = m.autograd.functional.hessian(rosenbrock, x)
        return a.grad, b.grad, v.grad, c.grad, g, h

    _close(run(ft), run(torch), rtol=1e-5)


def test_jacobian_with_create_graph_is_differentiable(torch):
    grads = []
    for m in (ft, torch):
        v = m.tensor(_V, requires_grad=True)
        jac = m.autograd.functional.jacobian(_g(m), v, create_graph=True)
        (jac ** 2).sum().backward()
        grads.append(v.grad)
    _close(*grads)


_TABLE = np.random.default_rng(11).standard_normal((6, 3)).astype(np.float32)

BAGS = {
    "mean_offsets": dict(input=[1, 2, 4, 5, 4, 3, 2], offsets=[0, 3, 3, 5]),
    "sum_offsets": dict(input=[1, 2, 4, 5, 4, 3, 2], offsets=[0, 3, 5], mode="sum"),
    "sum_weights": dict(input=[1, 2, 3, 4], offsets=[0, 3], mode="sum",
                        per_sample_weights=[1.0, 2.0, 0.5, -1.0]),
    "last_offset": dict(input=[1, 2, 4, 5, 4], offsets=[0, 2, 5], include_last_offset=True),
    "padding": dict(input=[0, 2, 0, 5, 0], offsets=[0, 2, 4], padding_idx=0),
    "rows_mean": dict(input=[[0, 1], [2, 4], [5, 5]]),
    "rows_max": dict(input=[[0, 1], [2, 4], [5, 5]], mode="max"),
    "rows_max_padding": dict(input=[[0, 1], [2, 0], [0, 0]], mode="max", padding_idx=0),
    "max_offsets": dict(input=[1, 2, 4, 5, 4, 3, 2], offsets=[0, 3, 3, 5], mode="max"),
    "max_offsets_padding": dict(input=[0, 2, 0, 5, 0], offsets=[0, 2, 4], mode="max",
                                padding_idx=0),
    "max_last_offset": dict(input=[1, 2, 4, 5, 4], offsets=[0, 2, 5], mode="max",
                            include_last_offset=True),
}


@pytest.mark.parametrize("name", sorted(BAGS))
def test_embedding_bag_matches_pytorch(torch, name):
    """``nn.EmbeddingBag`` (the text-classification tutorial's layer) and
    ``F.embedding_bag``: values and the table's gradient."""
    spec = dict(BAGS[name])
    results = []
    for m in (ft, torch):
        kwargs = {k: m.tensor(v) if k in ("input", "offsets", "per_sample_weights") else v
                  for k, v in spec.items()}
        bag = m.nn.EmbeddingBag(6, 3, mode=kwargs.pop("mode", "mean"),
                                include_last_offset=kwargs.pop("include_last_offset", False),
                                padding_idx=kwargs.pop("padding_idx", None))
        with m.no_grad():
            bag.weight.copy_(m.tensor(_TABLE))
        out = bag(kwargs.pop("input"), kwargs.pop("offsets", None), **kwargs)
        (out * m.arange(out.numel()).view(out.shape)).sum().backward()
        results.append((out, bag.weight.grad))
    _close(*results)


def test_embedding_bag_functional_and_errors(torch):
    weight = ft.tensor(_TABLE)
    out = ft.nn.functional.embedding_bag(ft.tensor([1, 2, 3]), weight, ft.tensor([0, 1]),
                                         mode="sum")
    expected = torch.nn.functional.embedding_bag(torch.tensor([1, 2, 3]),
                                                 torch.tensor(_TABLE), torch.tensor([0, 1]),
                                                 mode="sum")
    _close(out, expected)
    with pytest.raises(ValueError, match="offsets has to be None"):
        ft.nn.EmbeddingBag(6, 3)(ft.tensor([[1, 2]]), ft.tensor([0]))
    with pytest.raises(NotImplementedError, match="per_sample_weights"):
        ft.nn.EmbeddingBag(6, 3)(ft.tensor([1, 2]), ft.tensor([0]), ft.tensor([1.0, 2.0]))
    with pytest.raises(NotImplementedError, match="max_norm"):
        ft.nn.EmbeddingBag(6, 3, max_norm=1.0)


PRINTED = {
    "wrapped_grad_fn": lambda m: -m.tensor([0.3919, 0.5210, 0.6197, 0.4465, 0.6502, 0.2360],
                                           requires_grad=True),
    "wrapped_requires_grad": lambda m: m.tensor([0.3919, 0.5210, 0.6197, 0.4465, 0.6502,
                                                 0.2360, 0.1], requires_grad=True),
    "wrapped_dtype": lambda m: m.tensor([0.3919, 0.5210, 0.6197, 0.4465, 0.6502, 0.2360,
                                         0.5, 0.25, 0.125, 2.0], dtype=m.float16),
    "long_rows": lambda m: m.arange(30.0, requires_grad=True) * 1.5,
    "summarised": lambda m: (m.arange(2000), m.arange(3000.0).view(1000, 3),
                             m.arange(2000).view(2, 1000)),
    "empty": lambda m: (m.zeros(2, 0), m.zeros(0, requires_grad=True)),
    "reduction_nodes": lambda m: [type(f(m.ones(3, 4, requires_grad=True)).grad_fn).__name__
                                  for f in (lambda x: x.sum(), lambda x: x.sum(0),
                                            lambda x: x.mean(), lambda x: x.mean((0, 1)),
                                            lambda x: x.max(0).values,
                                            lambda x: x.min(1)[0])],
}


@pytest.mark.parametrize("name", sorted(PRINTED))
def test_printed_as_pytorch(torch, name):
    """Suffixes (``grad_fn=``, ``dtype=``...) that would pass 80 columns start a line of
    their own, elided rows read ``,  ...,``, and reductions over dims are PyTorch's
    overload-1 nodes (``SumBackward1``)."""
    assert repr(PRINTED[name](ft)) == repr(PRINTED[name](torch))


def test_scatter_reduce_and_masked_scatter_gradients(torch):
    grads = []
    for m in (ft, torch):
        x = m.tensor(_X, requires_grad=True)
        src = m.tensor(_X[:2] * 2, requires_grad=True)
        index = m.tensor([[0, 1, 1, 3, 3], [2, 2, 0, 0, 1]])
        out = x.scatter_reduce(0, index, src, "sum") * 3
        out = out.masked_scatter(m.tensor(_X) > 1.0, src * src)
        out.sum().backward()
        grads.append((x.grad, src.grad))
    _close(*grads)


@pytest.mark.parametrize("options", [dict(persistent_workers=True), dict(prefetch_factor=2),
                                     dict(num_workers=-1), dict(timeout=-1)])
def test_loader_worker_options_fail_as_pytorchs(torch, options):
    """Options that need worker processes raise PyTorch's ValueError without them."""
    with pytest.raises(ValueError) as theirs:
        torch.utils.data.DataLoader([1, 2], **options)
    with pytest.raises(ValueError) as ours:
        ft.utils.data.DataLoader([1, 2], **options)
    assert str(ours.value) == str(theirs.value)
    ft.utils.data.DataLoader([1, 2], num_workers=2, persistent_workers=True, prefetch_factor=2,
                             pin_memory=True)  # accepted with workers asked for


_BLOCK = np.arange(24).reshape(2, 3, 4)

VIEWS = {
    "t": lambda x: x[0].t(), "transpose": lambda x: x.transpose(0, 2),
    "permute": lambda x: x.permute(2, 0, 1), "row": lambda x: x[1], "column": lambda x: x[:, 1],
    "step": lambda x: x[:, :, ::2], "ellipsis": lambda x: x[..., 1],
    "none": lambda x: x[:, None, 1], "view": lambda x: x.view(6, 4),
    "unsqueeze": lambda x: x.unsqueeze(1), "narrow": lambda x: x.narrow(2, 1, 2),
    "chunk": lambda x: x.chunk(2, dim=2)[1], "unbind": lambda x: x.unbind(1)[2],
    "t_slice": lambda x: x[0].t()[1:], "t_t": lambda x: x[0].t().t(),
    "size_one": lambda x: x[:1, :1].transpose(0, 1),
    "contiguous": lambda x: x.transpose(1, 2).contiguous(),
    "diagonal": lambda x: x.diagonal(1, 0, 2), "reshape": lambda x: x[1].reshape(2, 6),
    "reshape_copy": lambda x: x[0].t().reshape(12), "flatten": lambda x: x[:, 1:].flatten(1),
    "unfold": lambda x: x.unfold(2, 2, 1), "unfold_t": lambda x: x.transpose(1, 2).unfold(1, 2, 2),
}


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_views_have_pytorchs_strides(torch, name):
    """``stride()`` and ``is_contiguous()`` of views as PyTorch lays them out (they were
    always row-major: ``x.t().is_contiguous()`` was True)."""
    ours, theirs = VIEWS[name](ft.tensor(_BLOCK)), VIEWS[name](torch.tensor(_BLOCK))
    assert (ours.stride(), ours.is_contiguous()) == (theirs.stride(), theirs.is_contiguous())


def test_contiguous_copies_a_non_contiguous_view(torch):
    """``x.t().contiguous()`` is a copy in PyTorch: writing to it leaves ``x`` alone,
    while writing to ``x.t()`` itself changes ``x``."""
    results = []
    for m in (ft, torch):
        y = m.zeros(2, 3)
        copy = y.t().contiguous()
        copy[0, 0] = 5.0
        view = y.t()
        view[1, 0] = 7.0
        same = y[0].contiguous()
        same[2] = 3.0
        results.append(y)
    _close(*results)


_MADE = {
    "float": lambda T: T.testing.make_tensor(3, 4, dtype=T.float32, device="cpu"),
    "long": lambda T: T.testing.make_tensor((2, 3), dtype=T.int64, device="cpu"),
    "bool": lambda T: T.testing.make_tensor([5], dtype=T.bool, device="cpu"),
    "uint8": lambda T: T.testing.make_tensor(2, 2, dtype=T.uint8, device="cpu"),
    "exclude_zero": lambda T: T.testing.make_tensor(8, dtype=T.int64, device="cpu", low=-2,
                                                    high=3, exclude_zero=True),
    "bounds": lambda T: T.testing.make_tensor(3, 3, dtype=T.float32, device="cpu", high=-5),
    "noncontiguous": lambda T: T.testing.make_tensor(2, 3, dtype=T.float32, device="cpu",
                                                     noncontiguous=True, requires_grad=True),
    "complex": lambda T: T.testing.make_tensor(3, dtype=T.complex64, device="cpu"),
    "half": lambda T: T.testing.make_tensor(3, dtype=T.float16, device="cpu"),
    "clamped": lambda T: T.testing.make_tensor(3, dtype=T.uint8, device="cpu", low=-5, high=4),
    "rounded up": lambda T: T.testing.make_tensor(4, dtype=T.int64, device="cpu", low=2.5,
                                                  high=4.2),
    "widest": lambda T: T.testing.make_tensor(3, dtype=T.float32, device="cpu", low=-1e39),
    "channels_last": lambda T: T.testing.make_tensor(2, 1, 2, 2, dtype=T.float32,
                                                     device="cpu",
                                                     memory_format=T.channels_last),
    # bad input: PyTorch's errors
    "ints requiring grad": lambda T: T.testing.make_tensor(3, dtype=T.int64, device="cpu",
                                                           requires_grad=True),
    "low above high": lambda T: T.testing.make_tensor(3, dtype=T.float32, device="cpu",
                                                      low=2, high=1),
    "nan": lambda T: T.testing.make_tensor(3, dtype=T.float32, device="cpu",
                                           low=float("nan")),
    "outside the dtype": lambda T: T.testing.make_tensor(3, dtype=T.uint8, device="cpu",
                                                         low=-5, high=-1),
    "not a dtype": lambda T: T.testing.make_tensor(3, dtype="float32", device="cpu"),
    "no device": lambda T: T.testing.make_tensor(3, dtype=T.float32),
}


@pytest.mark.parametrize("name", list(_MADE))
def test_make_tensor_draws_pytorchs_values(torch, name):
    # after manual_seed, the values PyTorch's make_tensor draws, or PyTorch's error
    seen = []
    for T in (torch, ft):
        T.manual_seed(0)
        try:
            t = _MADE[name](T)
        except (TypeError, ValueError) as error:
            seen.append((type(error), str(error)))
            continue
        seen.append((str(t.dtype), tuple(t.shape), t.requires_grad, t.is_contiguous(),
                     t.is_contiguous(memory_format=T.channels_last) if t.dim() == 4 else None,
                     t.tolist()))
    assert seen[1] == seen[0]
