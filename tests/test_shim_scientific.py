"""Scientific-computing and classic-ML patterns (PCA, k-means, least squares, ODE
integrators, MCMC, Newton's method) that fnnet.torch once got wrong, each against real
PyTorch from the same seed."""

from __future__ import annotations

import numpy as np
import pytest

import fnnet.torch as ft

pytestmark = pytest.mark.torch


def _np(t):
    return np.asarray(t.detach().numpy(), np.float64)


# -- randomized low-rank factorizations ----------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda T, X: T.pca_lowrank(X, q=3),
    lambda T, X: T.pca_lowrank(X.T, center=False, niter=1),
    lambda T, X: T.svd_lowrank(X, q=2, M=X.mean(0, keepdim=True)),
    lambda T, X: T.svd_lowrank(X.T.reshape(4, 3, 10), q=3, niter=0),
], ids=["pca", "pca wide uncentered", "svd M", "svd batched wide"])
def test_lowrank_factorizations_as_pytorch(torch, call):
    # PyTorch's randomized SVD from its seeded generator: the same singular values and
    # the same approximation; the singular vectors' signs are LAPACK's choice (MKL's
    # differ from the reference LAPACK's for wide matrices), so U diag(S) V^H is compared
    results = []
    for T in (torch, ft):
        T.manual_seed(0)
        X = T.randn(20, 6) @ T.randn(6, 6)
        U, S, V = call(T, X)
        results.append((_np(S), _np(U @ T.diag_embed(S) @ V.mH), tuple(U.shape),
                        tuple(V.shape), _np(T.rand(3))))
    theirs, ours = results
    assert ours[2:4] == theirs[2:4]
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-4)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(ours[4], theirs[4])  # the generator moved as PyTorch's


@pytest.mark.parametrize("call", [
    lambda T, X: T.pca_lowrank(X, q=7), lambda T, X: T.pca_lowrank(X, q=-1),
    lambda T, X: T.pca_lowrank(X, niter=-1),
], ids=["q too large", "q negative", "niter negative"])
def test_pca_lowrank_refuses_as_pytorch(torch, call):
    messages = []
    for T in (torch, ft):
        with pytest.raises(ValueError) as info:
            call(T, T.ones(8, 6))
        messages.append(str(info.value))
    assert messages[1] == messages[0]


# -- quantiles and binning ---------------------------------------------------------------

_SAMPLE = np.random.default_rng(0).standard_normal((3, 8)).astype(np.float32)
_SAMPLE_NAN = _SAMPLE.copy()
_SAMPLE_NAN[1, 2] = np.nan


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint",
                                           "nearest"])
@pytest.mark.parametrize("where", [
    {}, {"keepdim": True}, {"dim": 1}, {"dim": 0, "keepdim": True}, {"dim": -1, "nan": 1},
    {"dim": 1, "nan": 1, "keepdim": True}, {"nan": 1}, {"scalar": 1, "dim": 1},
], ids=["all", "all keepdim", "dim", "dim keepdim", "nan dim", "nan dim keepdim", "nan all",
        "scalar q"])
def test_quantiles_as_pytorch(torch, interpolation, where):
    # ranks q * (n - 1) rounded half to even for "nearest" (the median of 8 values at
    # rank 3.5 is the 5th, as PyTorch's), lerp's blend, NaN rows, the levels leading
    # the shape; nanquantile skips the NaNs
    where = dict(where)
    name = "nanquantile" if where.pop("nan", 0) else "quantile"
    scalar = where.pop("scalar", 0)
    data = _SAMPLE_NAN if name == "nanquantile" or where.get("dim") == 0 else _SAMPLE
    results = []
    for T in (torch, ft):
        q = 0.5 if scalar else T.tensor([0.0, 0.1, 0.5, 0.75, 1.0])
        out = getattr(T, name)(T.tensor(data), q, interpolation=interpolation, **where)
        results.append(out.numpy())
    assert results[1].shape == results[0].shape
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("call", [
    lambda T, x: T.quantile(x, 1.5), lambda T, x: T.nanquantile(x, -0.25),
    lambda T, x: T.quantile(x, T.tensor([0.5, 1.5])),
    lambda T, x: T.quantile(x, 0.5, interpolation="cubic"),
    lambda T, x: T.nanquantile(x, 0.5, interpolation="cubic"),
    lambda T, x: T.quantile(x, T.tensor([[0.5]])),
    lambda T, x: T.quantile(x.long(), 0.5), lambda T, x: T.histc(x, bins=0),
    lambda T, x: x.histc(bins=3, min=2, max=1),
], ids=["q above", "nan q below", "q tensor", "interpolation", "nan interpolation",
        "q 2-d", "integer input", "histc bins", "histc range"])
def test_quantile_and_histc_refuse_as_pytorch(torch, call):
    messages = []
    for T in (torch, ft):
        with pytest.raises(RuntimeError) as info:
            call(T, T.tensor([0.5, -1.0, 2.0]))
        messages.append(str(info.value))
    assert messages[1] == messages[0]


# -- eigenvalues of general matrices ----------------------------------------------------

_GENERAL = np.random.default_rng(1).standard_normal((2, 4, 4)).astype(np.float32)


@pytest.mark.parametrize("matrix", [
    _GENERAL[0], _GENERAL, np.array([[0.0, -1.0], [1.0, 0.0]], np.float32),
    np.diag([3.0, 1.0, 2.0]).astype(np.float32),
], ids=["general", "batch", "rotation", "diagonal"])
def test_eig_as_pytorch(torch, matrix):
    # a recurrent weight's spectral radius, a linear ODE's stability: complex eigenvalues
    # in LAPACK's order with unit-norm eigenvectors; the eigenvalues' gradient
    results = []
    for T in (torch, ft):
        A = T.tensor(matrix, requires_grad=True)
        w, v = T.linalg.eig(A)
        radius = T.linalg.eigvals(A).abs().amax(-1)
        radius.sum().backward()
        out = T.empty(0, dtype=T.complex64)
        T.linalg.eigvals(A.detach(), out=out)
        results.append((w.detach().numpy(), v.detach().numpy(), radius.detach().numpy(),
                        A.grad.numpy(), out.numpy(), str(w.dtype), repr(T.linalg.eig(
                            T.tensor([[2.0, 0.0], [0.0, 3.0]])))))
    theirs, ours = results
    assert ours[5:] == theirs[5:]
    for mine, expected in zip(ours[:5], theirs[:5], strict=True):
        np.testing.assert_allclose(mine, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("call", [
    lambda T: T.linalg.eig(T.ones(2, 3)), lambda T: T.linalg.eigvals(T.ones(3)),
    lambda T: T.linalg.eigvals(T.ones(2, 2, dtype=T.long)),
    lambda T: T.linalg.eig(T.ones(2, 2, dtype=T.bool)),
], ids=["not square", "vector", "integer", "boolean"])
def test_eig_refuses_as_pytorch(torch, call):
    messages = []
    for T in (torch, ft):
        with pytest.raises(RuntimeError) as info:
            call(T)
        messages.append(str(info.value))
    assert messages[1] == messages[0]


# -- solving with an LU factorization ---------------------------------------------------

_SYSTEM = np.random.default_rng(2).standard_normal((2, 4, 4)).astype(np.float32)
_RHS = np.random.default_rng(3).standard_normal((2, 4, 3)).astype(np.float32)


@pytest.mark.parametrize("solve", [
    lambda T, LU, piv, B: T.linalg.lu_solve(LU, piv, B),
    lambda T, LU, piv, B: T.linalg.lu_solve(LU, piv, B, adjoint=True),
    lambda T, LU, piv, B: T.linalg.lu_solve(LU, piv, B.mT, left=False),
    lambda T, LU, piv, B: T.linalg.lu_solve(LU, piv, B.mT, left=False, adjoint=True),
    lambda T, LU, piv, B: T.lu_unpack(LU, piv)[0] @ T.lu_unpack(LU, piv)[1],
    lambda T, LU, piv, B: T.stack(list(T.linalg.lu(LU @ LU.mT))),
], ids=["AX=B", "A^H X=B", "XA=B", "XA^H=B", "lu_unpack", "linalg.lu"])
def test_lu_solve_and_unpack_as_pytorch(torch, solve):
    # factor once (an implicit integrator's Jacobian, a Newton step's Hessian), solve many
    results = []
    for T in (torch, ft):
        A = T.tensor(_SYSTEM, requires_grad=True)
        LU, pivots = T.linalg.lu_factor(A)
        out = solve(T, LU, pivots, T.tensor(_RHS))
        out.sum().backward()
        results.append((_np(out), _np(A.grad)))
    theirs, ours = results
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-4, atol=1e-4)


def test_lu_solve_refuses_as_pytorch(torch):
    messages = []
    for T in (torch, ft):
        LU, pivots = T.linalg.lu_factor(T.eye(3))
        with pytest.raises(RuntimeError) as info:
            T.linalg.lu_solve(LU, pivots, T.ones(2, 1))
        messages.append(str(info.value))
    assert messages[1] == messages[0]
