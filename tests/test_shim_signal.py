"""Signal-processing and scientific programs (spectra, kernels, Gaussian processes,
special functions) that fnnet.torch once got wrong, each against real PyTorch from the
same seed."""

from __future__ import annotations

import numpy as np
import pytest

import fnnet.torch as ft

pytestmark = pytest.mark.torch


def _np(t):
    return np.asarray(t.detach().numpy(), np.float64)


# -- distances and norms of rows against themselves ----------------------------------------

@pytest.mark.optimized  # the fusion that went wrong is made by XLA's optimisations
def test_gp_kernel_of_scaled_inputs_as_pytorch(torch):
    # X = rand * 6 fed to cdist(X, X): XLA computed the squared distances once for the
    # "is it 0" test and once for the root, contracting x * 6 - x * 6 into a fused
    # multiply-add in one of them, so a row's distance to itself was the root of the
    # stand-in, 1; the kernel's diagonal was then exp(-1/2) and Cholesky refused it
    results = []
    for T in (torch, ft):
        T.manual_seed(3)
        X = T.rand(20, 1) * 6
        y = T.sin(X).squeeze()
        log_ls = T.tensor(0.0, requires_grad=True)
        row = _np(T.cdist(X, X)[7])  # read at once, as a program prints it
        K = T.exp(-0.5 * T.cdist(X, X) ** 2 / log_ls.exp() ** 2) + 0.1 * T.eye(20)
        L = T.linalg.cholesky(K)
        nll = 0.5 * y @ T.cholesky_solve(y.unsqueeze(1), L).squeeze() + L.diagonal().log().sum()
        nll.backward()
        norms = [_np(T.linalg.vector_norm(X * 6 - X * 6, dim=1)[7]),
                 _np((X * 6 - X * 6).norm(dim=1)[3]),
                 _np(T.nn.functional.cosine_similarity(X * 6, X * 6)[5])]
        results.append([row, _np(nll), _np(log_ls.grad)] + norms)
    for theirs, ours in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
