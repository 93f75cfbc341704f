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
        row = _np(T.cdist(X, X)[7])  # read at once, as a program prints it
        kernel_row = _np((T.exp(-0.5 * T.cdist(X, X) ** 2) + 0.1 * T.eye(20))[7])
        norms = [_np(T.linalg.vector_norm(X * 6 - X * 6, dim=1)[7]),
                 _np((X * 6 - X * 6).norm(dim=1)[3]),
                 _np(T.nn.functional.cosine_similarity(X * 6, X * 6)[5])]
        results.append([row, kernel_row] + norms)
    for theirs, ours in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


# -- windows -------------------------------------------------------------------------------

WINDOWS = ("hann_window", "hamming_window", "blackman_window", "bartlett_window")


def test_windows_as_pytorch_computes_them(torch):
    # PyTorch computes a window by steps in its own dtype (arange, scale, cosine, scale,
    # shift): float16 and bfloat16 windows are PyTorch's to the bit, float32 ones within a
    # unit of the cosine's last place, and the points where the steps cancel are PyTorch's
    # (a float32 Blackman window starts at -2.98e-08, which it prints, not float64's
    # -1.39e-17 rounded)
    for name in WINDOWS:
        for n in (1, 2, 7, 8, 64, 257):
            for periodic in (True, False):
                for dtype in ("float32", "float16", "bfloat16"):
                    theirs = getattr(torch, name)(n, periodic, dtype=getattr(torch, dtype))
                    ours = getattr(ft, name)(n, periodic, dtype=getattr(ft, dtype))
                    assert str(ours.dtype) == str(theirs.dtype)
                    theirs, ours = _np(theirs.float()), _np(ours.float())
                    exact = dtype != "float32" or name == "bartlett_window"
                    np.testing.assert_allclose(ours, theirs, rtol=0, atol=0 if exact else 6e-8)
    assert repr(ft.blackman_window(8)) == repr(torch.blackman_window(8))
    assert repr(ft.hamming_window(6, periodic=False)) == repr(
        torch.hamming_window(6, periodic=False))


@pytest.mark.parametrize("dtype", ["int64", "bool", "uint8", "complex64"])
def test_windows_refuse_other_dtypes_as_pytorch(torch, dtype):
    messages = []
    for T in (torch, ft):
        with pytest.raises(RuntimeError) as info:
            T.hann_window(4, dtype=getattr(T, dtype))
        messages.append(str(info.value))
    assert messages[1] == messages[0]


# -- special functions -------------------------------------------------------------------

def test_special_functions_print_and_name_their_nodes_as_pytorch(torch):
    # entr(0) is +0 as PyTorch's (jax's -0 printed as -0.0000); each function's grad_fn
    # is PyTorch's node (SpecialEntrBackward0, not EntrBackward0; torch.lgamma's is
    # LgammaBackward0)
    seen = []
    for T in (torch, ft):
        S = T.special
        x = T.tensor([0.0, 0.3, 1.0, -1.0], requires_grad=True)
        entropy = S.entr(x)
        entropy[:3].sum().backward()
        y = T.tensor([0.3, 0.6], requires_grad=True)
        outs = [S.entr(y), S.i0e(y), S.i1(y), S.i1e(y), S.ndtr(y), S.ndtri(y),
                S.log_ndtr(y), S.erfcx(y), S.xlog1py(y, y), S.zeta(2.0, y),
                S.zeta(T.tensor([2.0, 3.0]), y), S.gammaln(y), T.lgamma(y)]
        seen.append((repr(entropy.detach()), repr(x.grad),
                     [type(o.grad_fn).__name__ for o in outs]))
    assert seen[1] == seen[0]


# -- linear algebra: what a least-squares or GP program does next ------------------------

LINALG_REFUSALS = {
    "solve vector": lambda T, A: T.linalg.solve(A, T.ones(4)),
    "solve XA=B vector": lambda T, A: T.linalg.solve(A, T.ones(3), left=False),
    "solve XA=B": lambda T, A: T.linalg.solve(A, T.ones(3, 2), left=False),
    "solve_triangular no upper": lambda T, A: T.linalg.solve_triangular(A, T.ones(3, 1)),
    "solve_triangular shapes": lambda T, A: T.linalg.solve_triangular(
        A, T.ones(3, 2), upper=True, left=False),
    "cholesky_solve vector": lambda T, A: T.cholesky_solve(T.ones(3), A),
    "cholesky_solve sizes": lambda T, A: T.cholesky_solve(T.ones(2, 1), A),
    "cholesky_solve dtypes": lambda T, A: T.cholesky_solve(T.ones(3, 1, dtype=T.long), A),
    "norm fro dim int": lambda T, A: T.linalg.norm(A, ord="fro", dim=0),
    "norm 3 dims": lambda T, A: T.linalg.norm(A, ord=2, dim=(0, 1, 2)),
    "matrix_norm same dims": lambda T, A: T.linalg.matrix_norm(A, dim=(1, -1)),
    "matrix_norm order": lambda T, A: T.linalg.matrix_norm(T.ones(3), ord="bad"),
    "vector_norm fro": lambda T, A: T.linalg.vector_norm(A, ord="fro"),
    "vector_norm None": lambda T, A: T.linalg.vector_norm(A, ord=None),
    "inv Long": lambda T, A: T.linalg.inv(T.ones(2, 2, dtype=T.long)),
    "det Bool": lambda T, A: T.linalg.det(T.ones(2, 2, dtype=T.bool)),
    "eigvalsh vector": lambda T, A: T.linalg.eigvalsh(T.ones(3)),
    "eigvalsh Long": lambda T, A: T.linalg.eigvalsh(T.ones(2, 2, dtype=T.long)),
    "pinv vector": lambda T, A: T.linalg.pinv(T.ones(3)),
    "pinv Long": lambda T, A: T.linalg.pinv(T.ones(2, 2, dtype=T.long)),
    "matrix_power float": lambda T, A: T.linalg.matrix_power(A, 1.5),
}


def test_linalg_refusals_as_pytorch(torch):
    for name, call in LINALG_REFUSALS.items():
        caught = []
        for T in (torch, ft):
            A = T.eye(3) * 2
            with pytest.raises(Exception) as info:  # noqa: PT011 - compared below
                call(T, A)
            caught.append((type(info.value).__name__, str(info.value).split("\n")[0]))
        assert caught[1] == caught[0], name


def test_solve_from_the_right_as_pytorch(torch):
    # linalg.solve(A, B, left=False) solves X A = B (fnnet.torch refused it), batched too
    results = []
    for T in (torch, ft):
        T.manual_seed(0)
        A = T.randn(2, 3, 3) + 3 * T.eye(3)
        B = T.randn(4, 3, requires_grad=True)
        X = T.linalg.solve(A[0], B, left=False)
        (X ** 2).sum().backward()
        results.append([_np(X), _np(B.grad), _np(T.linalg.solve(A, B.detach()[:2, None],
                                                                left=False))])
    for theirs, ours in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


# -- torch.autograd.functional and convolutions: the mistakes that come next -------------

def _square(x):
    return x ** 2


FUNCTIONAL_REFUSALS = {
    "vjp v size": lambda T, AF, x: AF.vjp(_square, x, T.ones(4)),
    "vjp v tuple length": lambda T, AF, x: AF.vjp(lambda a: (a, a), x, (T.ones(3),)),
    "vjp v entry size": lambda T, AF, x: AF.vjp(lambda a: (a, a), x, (T.ones(3), T.ones(2))),
    "vjp v of one": lambda T, AF, x: AF.vjp(_square, x, (T.ones(3), T.ones(3))),
    "jvp v size": lambda T, AF, x: AF.jvp(_square, x, T.ones(2)),
    "hvp v size": lambda T, AF, x: AF.hvp(lambda a: a.sum() ** 2, x, T.ones(2)),
    "hvp no v": lambda T, AF, x: AF.hvp(lambda a: a.sum() ** 2, x),
    "hvp tuple out": lambda T, AF, x: AF.hvp(lambda a: (a.sum(),), x, T.ones(3)),
    "jacobian number out": lambda T, AF, x: AF.jacobian(lambda a: 3, x),
    "jacobian list in": lambda T, AF, x: AF.jacobian(_square, [x]),
    "jacobian tuple with number": lambda T, AF, x: AF.jacobian(_square, (x, 2)),
    "jacobian strategy": lambda T, AF, x: AF.jacobian(_square, x, strategy="bad"),
    "jacobian forward unvectorized": lambda T, AF, x: AF.jacobian(
        _square, x, strategy="forward-mode"),
    "jacobian forward create_graph": lambda T, AF, x: AF.jacobian(
        _square, x, create_graph=True, strategy="forward-mode"),
    "hessian strategy": lambda T, AF, x: AF.hessian(
        lambda a: a.sum(), x, outer_jacobian_strategy="x"),
    "F.conv1d channels": lambda T, AF, x: T.nn.functional.conv1d(
        T.ones(1, 2, 10), T.ones(4, 3, 3)),
    "F.conv1d groups": lambda T, AF, x: T.nn.functional.conv1d(
        T.ones(1, 4, 10), T.ones(4, 1, 3), groups=2),
    "F.conv1d kernel": lambda T, AF, x: T.nn.functional.conv1d(
        T.ones(1, 2, 3), T.ones(4, 2, 5)),
    "F.conv1d dilated kernel": lambda T, AF, x: T.nn.functional.conv1d(
        T.ones(2, 6), T.ones(4, 2, 3), padding=1, dilation=4),
    "F.conv2d channels": lambda T, AF, x: T.nn.functional.conv2d(
        T.ones(1, 3, 8, 8), T.ones(4, 1, 3, 3)),
    "F.conv2d rank": lambda T, AF, x: T.nn.functional.conv2d(T.ones(8, 8), T.ones(4, 1, 3, 3)),
}


def test_functional_transforms_and_convolutions_refuse_as_pytorch(torch):
    import torch.autograd.functional as torch_af

    from fnnet.torch.autograd import functional as fnnet_af

    for name, call in FUNCTIONAL_REFUSALS.items():
        caught = []
        for T, AF in ((torch, torch_af), (ft, fnnet_af)):
            with pytest.raises(Exception) as info:  # noqa: PT011 - compared below
                call(T, AF, T.ones(3))
            caught.append((type(info.value).__name__, str(info.value)))
        assert caught[1] == caught[0], name


POLYNOMIALS = ("chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
               "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
               "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
               "shifted_chebyshev_polynomial_w", "hermite_polynomial_h",
               "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p")


def test_orthogonal_polynomials_as_pytorch(torch):
    # PyTorch's recurrences and special cases (|x| = 1, its closed forms for large n,
    # n < 0, Hermite's NaN past n = 128), n a tensor or a number, x a number too; a
    # closed form's float32 sine of (n + 1/2) acos(x) at n = 130 differs by 1e-4
    x = np.array([-1.0, -0.5, 0.0, 0.3, 0.75, 1.0, 1.5, -2.0], np.float32)[:, None]
    n = np.array([-1, 0, 1, 2, 3, 5, 7, 9, 12, 130])[None, :]
    ours = [getattr(ft.special, name)(ft.tensor(x), ft.tensor(n)) for name in POLYNOMIALS]
    for name, value in zip(POLYNOMIALS, ours, strict=True):  # read together: one program
        np.testing.assert_allclose(_np(value), _np(getattr(torch.special, name)(
            torch.tensor(x), torch.tensor(n))), rtol=5e-4, atol=1e-6, err_msg=name)
    np.testing.assert_allclose(_np(ft.special.legendre_polynomial_p(0.5, ft.tensor([2, 3]))),
                               [-0.125, -0.4375], rtol=1e-6)  # PyTorch's values
    assert not ft.special.legendre_polynomial_p(ft.tensor([0.5], requires_grad=True),
                                                3).requires_grad
    with pytest.raises(TypeError, match="received an invalid combination of arguments"):
        ft.special.legendre_polynomial_p(0.5, 3)
