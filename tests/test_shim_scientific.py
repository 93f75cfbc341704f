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
