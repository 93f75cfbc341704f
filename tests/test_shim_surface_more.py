"""The PyTorch names programs reach for after the core ops, against PyTorch 2.13: the
arithmetic aliases, NaN-aware reductions and ``median``, stacking and axis helpers, small
matrix products, special functions, ``torch.linalg``'s basics, tensor attributes and
shape-changing in-place methods."""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest

import fnnet.torch as ft

pytestmark = pytest.mark.torch

RTOL, ATOL = 1e-5, 1e-6


def _np(value):
    if hasattr(value, "detach"):
        value = value.detach()
        # PyTorch's gradient of a constant function is a ZeroTensor, read with force=True
        value = value.numpy(force=True) if type(value).__module__ == "torch" else \
            value.numpy()
    return np.asarray(value, np.float64)


def close(ours, theirs, rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=rtol, atol=atol)


def _flat(result):
    """A tensor result, or the tensors of a tuple / (values, indices) result, as a list."""
    return list(result) if isinstance(result, tuple) else [result]


def _both(torch, inputs, fn, grad=True):
    """``fn(T, *xs)`` under PyTorch and fnnet.torch on the same float32 inputs (requiring
    grad when ``grad``): results and, when differentiable, the gradients of the sum of
    squares of the float results."""
    out = []
    for T in (torch, ft):
        xs = [T.tensor(v, requires_grad=grad and v.dtype.kind == "f" and
                       not any(v is label for label in LABELS)) for v in inputs]
        result = fn(T, *xs)
        floats = [r for r in _flat(result) if r.requires_grad]
        if floats:
            sum((r.float() * r.float()).sum() for r in floats).backward()
        out.append((result, [x.grad for x in xs], bool(floats)))
    (theirs, their_grads, their_diff), (ours, our_grads, our_diff) = out
    assert isinstance(ours, tuple) == isinstance(theirs, tuple)
    assert len(_flat(ours)) == len(_flat(theirs))
    for o, t in zip(_flat(ours), _flat(theirs), strict=True):
        assert tuple(o.shape) == tuple(t.shape)
        assert o.dtype.is_floating_point == t.dtype.is_floating_point
        assert (o.dtype == ft.bool) == (t.dtype == torch.bool)
        close(o, t)
    assert our_diff == their_diff
    for o, t in zip(our_grads, their_grads, strict=True):
        assert (o is None) == (t is None)
        if t is not None:  # float32 sums: the error grows with the largest entry
            close(o, t, atol=ATOL * max(1.0, float(np.abs(_np(t)).max())))
    return ours


RNG = np.random.default_rng(0)
A = RNG.standard_normal((4, 3)).astype(np.float32)
B = RNG.standard_normal((4, 3)).astype(np.float32)
P = (np.abs(RNG.standard_normal((4, 3))) + 0.5).astype(np.float32)
V = RNG.standard_normal(3).astype(np.float32)
SQ = (RNG.standard_normal((3, 3)) + 3 * np.eye(3)).astype(np.float32)
INTS = np.array([[5, -7, 3], [-4, 8, 0]], np.int32)
NANS = np.array([[1.0, np.nan, 3.0], [np.inf, -2.0, -np.inf]], np.float32)
T3 = RNG.standard_normal((2, 3, 4)).astype(np.float32)
SIGNS = np.array([1.0, -1.0, -1.0, 1.0], np.float32)
COUNTS = np.array([[0.0, 1.0, 3.0], [2.0, 0.0, 5.0], [1.0, 1.0, 0.0], [4.0, 2.0, 1.0]],
                  np.float32)
#: targets given without requires_grad (PyTorch refuses a gradient for some)
LABELS = (SIGNS, COUNTS)

# name -> (inputs, fn(T, *tensors))
CASES = {
    "multiply": ((A, B), lambda T, a, b: T.multiply(a, b)),
    "subtract alpha": ((A, B), lambda T, a, b: T.subtract(a, b, alpha=2)),
    "divide": ((A, P), lambda T, a, p: T.divide(a, p)),
    "divide trunc": ((A, P), lambda T, a, p: T.divide(a * 4, p, rounding_mode="trunc")),
    "divide floor": ((A, P), lambda T, a, p: a.divide(p, rounding_mode="floor")),
    "int divide trunc": ((INTS,), lambda T, i: T.div(i, 2, rounding_mode="trunc")
                         if T is not ft else T.divide(i, 2, rounding_mode="trunc")),
    "int divide floor": ((INTS,), lambda T, i: T.divide(i, 3, rounding_mode="floor")),
    "true_divide": ((A, P), lambda T, a, p: a.true_divide(p)),
    "floor_divide": ((INTS,), lambda T, i: T.floor_divide(i, 3)),
    "remainder": ((A, P), lambda T, a, p: T.remainder(a * 3, p)),
    "remainder int": ((INTS,), lambda T, i: i.remainder(3)),
    "fmod": ((A, P), lambda T, a, p: T.fmod(a * 3, p)),
    "fmod int": ((INTS,), lambda T, i: i.fmod(-3)),
    "lerp": ((A, B), lambda T, a, b: T.lerp(a, b, 0.3)),
    "lerp tensor weight": ((A, B, P), lambda T, a, b, p: a.lerp(b, p)),
    "addcmul": ((A, B, P), lambda T, a, b, p: T.addcmul(a, b, p, value=0.5)),
    "addcdiv": ((A, B, P), lambda T, a, b, p: a.addcdiv(b, p, value=-2)),
    "hypot": ((A, B), lambda T, a, b: T.hypot(a, b)),
    "logaddexp": ((A, B), lambda T, a, b: a.logaddexp(b)),
    "xlogy": ((A, P), lambda T, a, p: T.xlogy(a, p)),
    "float_power": ((P,), lambda T, p: T.float_power(p, 2.5).float()),
    "nan_to_num": ((NANS,), lambda T, x: T.nan_to_num(x, nan=0.5, posinf=9.0, neginf=-1)),
    "nan_to_num default": ((NANS,), lambda T, x: (x.nan_to_num() / 1e30)),
    "nansum": ((NANS,), lambda T, x: T.nansum(T.nan_to_num(x, posinf=1, neginf=2), 1)),
    "nansum nan": ((NANS,), lambda T, x: x[:, :2].detach().nansum()),
    "nanmean": ((NANS,), lambda T, x: T.nanmean(x[:1], dim=1, keepdim=True)),
    "median all": ((A,), lambda T, a: T.median(a)),
    "median dim": ((A,), lambda T, a: a.median(0)),
    "median dim keepdim": ((A,), lambda T, a: T.median(a, dim=-1, keepdim=True)),
    "std_mean": ((A,), lambda T, a: T.std_mean(a, dim=0)),
    "var_mean": ((A,), lambda T, a: T.var_mean(a, 1, keepdim=True, correction=0)),
    "count_nonzero": ((INTS,), lambda T, i: T.count_nonzero(i, dim=0)),
    "cummax": ((A,), lambda T, a: T.cummax(a, 0)),
    "cummin": ((A,), lambda T, a: a.cummin(dim=1)),
    "cummax ties": ((INTS,), lambda T, i: T.cummax(T.tensor([[1, 3, 3, 2, 3]]), 1)),
    "erfc": ((A,), lambda T, a: T.erfc(a)),
    "lgamma": ((P,), lambda T, p: T.lgamma(p)),
    "digamma": ((P,), lambda T, p: p.digamma()),
    "sinc": ((A,), lambda T, a: T.sinc(a)),
    "signbit": ((A,), lambda T, a: T.signbit(a)),
    "sgn": ((A,), lambda T, a: T.sgn(a)),
    "rad2deg": ((A,), lambda T, a: T.rad2deg(a)),
    "deg2rad": ((A,), lambda T, a: a.deg2rad()),
    "hstack": ((A, B), lambda T, a, b: T.hstack([a, b])),
    "vstack": ((A, V), lambda T, a, v: T.vstack((a, v))),
    "dstack": ((A, B), lambda T, a, b: T.dstack([a, b])),
    "column_stack": ((A, V), lambda T, a, v: T.column_stack([a, v[:1].expand(4)])),
    "tile": ((V,), lambda T, v: T.tile(v, (2, 2))),
    "tile method": ((A,), lambda T, a: a.tile(2)),
    "unbind": ((A,), lambda T, a: T.unbind(a, 1)),
    "broadcast_to": ((V,), lambda T, v: T.broadcast_to(v, (2, 3))),
    "broadcast_tensors": ((A, V), lambda T, a, v: T.broadcast_tensors(a, v)),
    "atleast_1d": ((V,), lambda T, v: T.atleast_1d(v[0])),
    "atleast_2d": ((V,), lambda T, v: T.atleast_2d(v)),
    "atleast_3d": ((A,), lambda T, a: T.atleast_3d(a)),
    "atleast_3d many": ((A, V), lambda T, a, v: T.atleast_3d(a, v)),
    "movedim": ((T3,), lambda T, x: T.movedim(x, 0, -1)),
    "moveaxis pairs": ((T3,), lambda T, x: x.moveaxis((0, 1), (2, 0))),
    "swapaxes": ((T3,), lambda T, x: T.swapaxes(x, 0, 2)),
    "swapdims": ((T3,), lambda T, x: x.swapdims(1, 2)),
    "ravel": ((A,), lambda T, a: T.ravel(a)),
    "unflatten": ((T3,), lambda T, x: x.unflatten(2, (2, -1))),
    "torch.unflatten": ((T3,), lambda T, x: T.unflatten(x, -3, (1, 2))),
    "sum_to_size": ((T3,), lambda T, x: x.sum_to_size(3, 1)),
    "tensordot": ((T3, A), lambda T, x, a: T.tensordot(x, a.T, dims=([1, 2], [0, 1]))),
    "tensordot int": ((A, B), lambda T, a, b: T.tensordot(a, b, dims=2)),
    "kron": ((A, V), lambda T, a, v: T.kron(a, v)),
    "take_along_dim": ((A,), lambda T, a: T.take_along_dim(a, a.argsort(1), dim=1)),
    "take_along_dim flat": ((A,), lambda T, a: a.take_along_dim(T.tensor([0, 5, 11]))),
    "diagonal": ((T3,), lambda T, x: T.diagonal(x, 1, 1, 2)),
    "trace": ((SQ,), lambda T, s: T.trace(s)),
    "cross": ((A, B), lambda T, a, b: T.cross(a, b, dim=1)),
    "cross default dim": ((A, B), lambda T, a, b: T.cross(a[:3].T, b[:3].T)),
    "dot": ((V,), lambda T, v: T.dot(v, v * 2)),
    "mv": ((A, V), lambda T, a, v: a.mv(v)),
    "addmm": ((A, SQ, V), lambda T, a, s, v: T.addmm(v, a, s, beta=0.5, alpha=2)),
    "fliplr": ((A,), lambda T, a: T.fliplr(a)),
    "flipud": ((A,), lambda T, a: a.flipud()),
    "rot90": ((T3,), lambda T, x: T.rot90(x, 3, (2, 0))),
    "where method": ((A, B), lambda T, a, b: a.where(a > 0, b)),
    "maximum method": ((A, B), lambda T, a, b: a.maximum(b)),
    "minimum method": ((A, B), lambda T, a, b: a.minimum(b)),
    "isclose method": ((A,), lambda T, a: a.isclose(a + 1e-7)),
    "clone": ((A,), lambda T, a: T.clone(a) * 2),
    "t": ((A,), lambda T, a: T.t(a)),
    "all any": ((A,), lambda T, a: T.stack([T.all(a > -9, 1), T.any(a > 1, 1)])),
    "isin": ((INTS,), lambda T, i: T.isin(i, T.tensor([0, 3, 8]))),
    "isin invert": ((INTS,), lambda T, i: T.isin(i, T.tensor([0, 3]), invert=True)),
    "inverse": ((SQ,), lambda T, s: T.inverse(s)),
    "det": ((SQ,), lambda T, s: T.det(s)),
    "linalg.inv": ((SQ,), lambda T, s: T.linalg.inv(s)),
    "linalg.det": ((SQ,), lambda T, s: T.linalg.det(s)),
    "linalg.solve": ((SQ, V), lambda T, s, v: T.linalg.solve(s, v)),
    "linalg.solve matrix": ((SQ, A), lambda T, s, a: T.linalg.solve(s, a[:3])),
    "linalg.norm": ((A,), lambda T, a: T.linalg.norm(a)),
    "linalg.norm dim": ((A,), lambda T, a: T.linalg.norm(a, dim=1)),
    "linalg.norm ord": ((A,), lambda T, a: T.linalg.norm(a, ord=1)),
    "linalg.vector_norm": ((T3,), lambda T, x: T.linalg.vector_norm(x, 3, dim=(0, 2))),
    "linalg.vector_norm inf": ((A,), lambda T, a: T.linalg.vector_norm(a, float("inf"))),
    "linalg.matrix_norm": ((T3,), lambda T, x: T.linalg.matrix_norm(x)),
    "linalg.matrix_norm nuc": ((SQ,), lambda T, s: T.linalg.matrix_norm(s, "nuc")),
    "linalg.matrix_norm 1": ((T3,), lambda T, x: T.linalg.matrix_norm(x, 1, keepdim=True)),
    "linalg.matmul": ((A, V), lambda T, a, v: T.linalg.matmul(a, v)),
    "linalg.diagonal": ((T3,), lambda T, x: T.linalg.diagonal(x, offset=1)),
    "linalg.vecdot": ((A, B), lambda T, a, b: T.linalg.vecdot(a, b, dim=0)),
    "linalg.vander": ((A,), lambda T, a: T.linalg.vander(a[:, :3] / 2, N=4)),
}


@pytest.mark.filterwarnings("ignore:Using torch.cross without specifying the dim")
@pytest.mark.parametrize("name", list(CASES))
def test_matches_pytorch(torch, name):
    inputs, fn = CASES[name]
    _both(torch, inputs, fn)


# -- in-place forms ---------------------------------------------------------------------

IN_PLACE = {
    "clip_": lambda T, y: y.clip_(-0.5, 0.5),
    "squeeze_": lambda T, y: (y.unsqueeze_(1), y.squeeze_(1))[1],
    "unsqueeze_": lambda T, y: y.unsqueeze_(0),
    "transpose_": lambda T, y: y.transpose_(0, 1),
    "t_": lambda T, y: y.t_(),
    "tril_": lambda T, y: y.tril_(),
    "triu_": lambda T, y: y.triu_(1),
    "sign_": lambda T, y: y.sign_(),
    "nan_to_num_": lambda T, y: y.log_().nan_to_num_(nan=0.5, neginf=-1.0),
    "remainder_": lambda T, y: y.remainder_(0.3),
    "fmod_": lambda T, y: y.fmod_(0.3),
    "lerp_": lambda T, y: y.lerp_(T.ones(4, 3), 0.25),
    "addcmul_": lambda T, y: y.addcmul_(T.full((4, 3), 2.0), T.full((4, 3), 3.0), value=2),
    "addcdiv_": lambda T, y: y.addcdiv_(T.full((4, 3), 2.0), T.full((4, 3), 3.0)),
    "floor_divide_": lambda T, y: y.detach().floor_divide_(0.5),
}


@pytest.mark.parametrize("name", list(IN_PLACE))
def test_in_place_matches_pytorch(torch, name):
    def fn(T, a):
        y = a * 1
        result = IN_PLACE[name](T, y)
        assert result is y or name == "floor_divide_"  # in place: the tensor comes back
        return result

    _both(torch, (A,), fn)


def test_in_place_on_a_leaf_requiring_grad_raises(torch):
    for T in (torch, ft):
        w = T.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            w.unsqueeze_(0)


# -- tensor attributes and casts --------------------------------------------------------


def test_attributes_and_casts_match_pytorch(torch):
    for shape in ((4, 3), (2, 3, 4), (5,), (), (2, 0, 3)):
        ours, theirs = ft.ones(shape), torch.ones(shape)
        assert ours.stride() == theirs.stride()
        if shape:
            assert ours.stride(-1) == theirs.stride(-1)
        assert ours.ndimension() == theirs.ndimension()
        assert (ours.nbytes, ours.itemsize, ours.element_size()) == \
            (theirs.nbytes, theirs.itemsize, theirs.element_size())
        assert ours.is_contiguous() and ours.is_cpu == theirs.is_cpu
    # a model summary's buffer bytes: BatchNorm's num_batches_tracked is int64 (8 bytes)
    for name in ("int64", "long", "float16", "bfloat16", "uint8", "bool", "int16"):
        ours, theirs = ft.zeros(3, dtype=getattr(ft, name)), torch.zeros(
            3, dtype=getattr(torch, name))
        assert (ours.nbytes, ours.itemsize, ours.element_size()) == \
            (theirs.nbytes, theirs.itemsize, theirs.element_size()), name
    x = np.array([1.7, -2.2, 300.0], np.float32)
    for cast, values in (("short", x[:2]), ("byte", np.abs(x[:2])), ("char", x[:2])):
        ours, theirs = getattr(ft.tensor(values), cast)(), getattr(torch.tensor(values), cast)()
        assert str(ours.dtype) == str(theirs.dtype)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    ours, theirs = ft.tensor(x).bfloat16(), torch.tensor(x).bfloat16()
    assert str(ours.dtype) == str(theirs.dtype)
    close(ours.float(), theirs.float())
    assert ft.tensor(x).retains_grad is False and torch.tensor(x).retains_grad is False
    assert ft.is_floating_point(ft.tensor(x)) and not ft.is_floating_point(ft.tensor([1]))
    assert ft.is_nonzero(ft.tensor([0.5])) and not ft.is_nonzero(ft.tensor(0))


def test_constants_and_creation_match_pytorch(torch):
    for name in ("pi", "e", "inf"):
        assert getattr(ft, name) == getattr(torch, name)
    assert math.isnan(ft.nan) and ft.newaxis is torch.newaxis is None
    close(ft.logspace(-1, 2, 7), torch.logspace(-1, 2, 7))
    close(ft.logspace(0, 3, 4, base=2), torch.logspace(0, 3, 4, base=2))
    s, t = ft.scalar_tensor(3), torch.scalar_tensor(3)
    assert (tuple(s.shape), str(s.dtype)) == (tuple(t.shape), str(t.dtype))
    assert float(s) == 3.0
    assert ft.cpu.is_available() and ft.cpu.device_count() == torch.cpu.device_count()
    x = ft.ones(2, requires_grad=True)
    assert not ft.detach(x).requires_grad


def test_rng_state_round_trips():
    ft.manual_seed(3)
    state = ft.get_rng_state()
    assert state.dtype == ft.uint8
    first = ft.rand(5).numpy()
    ft.set_rng_state(state)
    np.testing.assert_array_equal(ft.rand(5).numpy(), first)
    chosen = ft.seed()
    assert ft.initial_seed() == chosen
    with pytest.raises(TypeError, match="expected a torch.ByteTensor, but got list"):
        ft.set_rng_state([1, 2])


def test_matmul_precision_is_kept_and_restored(torch):
    assert ft.get_float32_matmul_precision() == torch.get_float32_matmul_precision()
    try:
        ft.set_float32_matmul_precision("high")
        assert ft.get_float32_matmul_precision() == "high"
    finally:
        ft.set_float32_matmul_precision("highest")
    assert ft.get_float32_matmul_precision() == "highest"
    with pytest.raises(RuntimeError, match="Invalid precision"):
        ft.set_float32_matmul_precision("low")


# -- errors where PyTorch raises --------------------------------------------------------

ERRORS = {
    "dot 2-D": (RuntimeError, "1D tensors expected", lambda T: T.dot(T.ones(2, 2), T.ones(2))),
    "mv sizes": (RuntimeError, "size mismatch", lambda T: T.mv(T.ones(2, 3), T.ones(2))),
    "addmm shapes": (RuntimeError, "cannot be multiplied",
                     lambda T: T.addmm(T.ones(2, 2), T.ones(2, 3), T.ones(2, 2))),
    "divide mode": (RuntimeError, "rounding_mode",
                    lambda T: T.divide(T.ones(2), 2, rounding_mode="round")),
    "is_nonzero many": (RuntimeError, "more than one value",
                        lambda T: T.is_nonzero(T.ones(2))),
    "is_nonzero empty": (RuntimeError, "no values", lambda T: T.is_nonzero(T.ones(0))),
    "trace 3-D": (RuntimeError, "expected a matrix", lambda T: T.trace(T.ones(2, 2, 2))),
    "diagonal same dims": (RuntimeError, "diagonal dimensions cannot be identical",
                           lambda T: T.diagonal(T.ones(2, 2), 0, 1, 1)),
    "unflatten sizes": (RuntimeError, "unflatten", lambda T: T.ones(6).unflatten(0, (4, 2))),
    "movedim count": (RuntimeError, "movedim", lambda T: T.movedim(T.ones(2, 3), (0, 1), (0,))),
    "sum_to_size": (RuntimeError, "is not expandable",
                    lambda T: T.ones(2, 3).sum_to_size(4, 3)),
    "broadcast": (RuntimeError, r"size of tensor a \(2\) must match the size of tensor b "
                  r"\(4\) at non-singleton dimension 0",
                  lambda T: T.broadcast_tensors(T.ones(2, 3), T.ones(4, 1), T.ones(5))),
    "cross size": (RuntimeError, "must have length 3",
                   lambda T: T.cross(T.ones(2, 4), T.ones(2, 4), dim=1)),
    "rot90 dims": (RuntimeError, "expected rotation dims to be different",
                   lambda T: T.rot90(T.ones(2, 2), 1, (0, 0))),
    "nanmean int": (RuntimeError, "floating point", lambda T: T.nanmean(T.tensor([1, 2]))),
    "inv non-square": (RuntimeError, "square", lambda T: T.linalg.inv(T.ones(2, 3))),
    "inv_ex check_errors": (TypeError, r"^linalg_inv_ex\(\): argument 'check_errors' must "
                            "be bool, not int$",
                            lambda T: T.linalg.inv_ex(T.eye(2), check_errors=1)),
    "fliplr 1-D": (RuntimeError, "Input must be >= 2-d", lambda T: T.fliplr(T.ones(2))),
    "median empty dim": (IndexError, "non-zero size", lambda T: T.ones(0, 2).median(0)),
    "unbind 0-D": (IndexError, "no dimensions", lambda T: T.unbind(T.tensor(1.0))),
    "vstack tensor": (TypeError, "tensors", lambda T: T.vstack(T.ones(2))),
    "dim out of range": (IndexError, "Dimension out of range",
                         lambda T: T.cummax(T.ones(2), 3)),
    "nansum dim": (IndexError, "Dimension out of range", lambda T: T.nansum(T.ones(2), 3)),
    "count_nonzero dims": (IndexError, "Dimension out of range",
                           lambda T: T.count_nonzero(T.ones(2, 2), (0, 2))),
    "dot dtypes": (RuntimeError, "expected both vectors to have same dtype",
                   lambda T: T.dot(T.ones(2), T.ones(2, dtype=T.int32))),
    "movedim repeated": (RuntimeError, r"movedim: repeated dim in `source` \(\[0, 0\]\)",
                         lambda T: T.movedim(T.ones(2, 3), (0, 0), (0, 1))),
    "hstack empty": (RuntimeError, "hstack expects a non-empty TensorList",
                     lambda T: T.hstack([])),
    "logspace steps": (RuntimeError, "number of steps must be non-negative",
                       lambda T: T.logspace(0, 1, -1)),
    "tensordot dims": (RuntimeError, "tensordot expects dims >= 0",
                       lambda T: T.tensordot(T.ones(2), T.ones(2), dims=-1)),
    "take_along_dim ndim": (RuntimeError, "same number of dimensions",
                            lambda T: T.take_along_dim(T.ones(2, 3), T.zeros(2, dtype=T.long),
                                                       dim=1)),
    "det non-square": (RuntimeError, "2 by 3 matrices", lambda T: T.linalg.det(T.ones(2, 3))),
    "solve shapes": (RuntimeError, "Incompatible shapes of A and B",
                     lambda T: T.linalg.solve(T.eye(3), T.ones(4))),
    "matrix_norm 1-D": (RuntimeError, "must have at least 2 dimensions",
                        lambda T: T.linalg.matrix_norm(T.ones(3))),
    "vector_norm int": (RuntimeError, "Expected a floating point",
                        lambda T: T.linalg.vector_norm(T.tensor([1, 2]))),
    "unflatten two -1": (RuntimeError, "only one dimension can be inferred",
                         lambda T: T.ones(6).unflatten(0, (-1, -1))),
    "stride dim": (IndexError, "Dimension out of range", lambda T: T.ones(2).stride(3)),
    "is_floating_point list": (TypeError, "must be Tensor, not list",
                               lambda T: T.is_floating_point([1.0])),
    "scalar_tensor str": (TypeError, "must be Number, not str",
                          lambda T: T.scalar_tensor("a")),
}


def _raise_alike(torch, kind, message, fn):
    """``fn(T)`` raises ``kind`` matching ``message`` under PyTorch and fnnet.torch."""
    for T in (torch, ft):
        with pytest.raises(kind, match=message):
            fn(T)


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_pytorch(torch, name):
    _raise_alike(torch, *ERRORS[name])


SINGULAR = [[1.0, 2.0], [2.0, 4.0]]
INDEFINITE = [[1.0, 2.0], [2.0, 1.0]]


def _batch(T, matrix):
    return T.stack([T.eye(2), T.tensor(matrix)])


#: singular and indefinite matrices: PyTorch's LinAlgError (RuntimeError for lu_factor)
LINALG_FAILURES = {
    "inv": lambda T: T.linalg.inv(T.tensor(SINGULAR)),
    "inv batch": lambda T: T.linalg.inv(_batch(T, SINGULAR)),
    "inv zeros 2-D batch": lambda T: T.linalg.inv(T.zeros(2, 3, 2, 2)),
    "inverse": lambda T: T.inverse(T.tensor(SINGULAR)),
    "solve": lambda T: T.linalg.solve(T.tensor(SINGULAR), T.ones(2)),
    "solve batch": lambda T: T.linalg.solve(_batch(T, SINGULAR), T.ones(2, 2)),
    "cholesky": lambda T: T.linalg.cholesky(T.tensor(INDEFINITE)),
    "cholesky batch": lambda T: T.linalg.cholesky(_batch(T, SINGULAR)),
    "cholesky order 1": lambda T: T.linalg.cholesky(-T.eye(2)),
    "cholesky nan": lambda T: T.linalg.cholesky(T.tensor([[float("nan"), 0.0], [0.0, 1.0]])),
    "cholesky_inverse": lambda T: T.cholesky_inverse(T.tensor([[1.0, 0.0], [2.0, 0.0]])),
    "inv_ex": lambda T: T.linalg.inv_ex(T.tensor(SINGULAR), check_errors=True),
    "cholesky_ex": lambda T: T.linalg.cholesky_ex(_batch(T, INDEFINITE), check_errors=True),
    "solve_ex": lambda T: T.linalg.solve_ex(T.tensor(SINGULAR), T.ones(2), check_errors=True),
    "lu_factor": lambda T: T.linalg.lu_factor(_batch(T, SINGULAR)),
    "lu_factor_ex": lambda T: T.linalg.lu_factor_ex(T.tensor(SINGULAR), check_errors=True),
}


@pytest.mark.filterwarnings("ignore:torch.cholesky is deprecated")
@pytest.mark.parametrize("name", list(LINALG_FAILURES))
def test_singular_matrices_raise_pytorchs_linalg_error(torch, name):
    errors = []
    for T in (torch, ft):
        with pytest.raises(RuntimeError) as error:
            LINALG_FAILURES[name](T)
        errors.append((isinstance(error.value, T.linalg.LinAlgError), str(error.value)))
    assert errors[1] == errors[0]


@pytest.mark.parametrize("call, fields", [
    (lambda T, A: T.linalg.inv_ex(A), ("inverse", "info")),
    (lambda T, A: T.linalg.cholesky_ex(A, upper=True), ("L", "info")),
    (lambda T, A: T.linalg.solve_ex(A, T.ones(3, 2, 1)), ("result", "info")),
    (lambda T, A: T.linalg.lu_factor_ex(A), ("LU", "pivots", "info")),
    (lambda T, A: T.linalg.lu_factor(A[:1]), ("LU", "pivots"))])
def test_ex_forms_return_lapacks_info(torch, call, fields):
    """info is 0 for a good matrix and LAPACK's position for a bad one; the results of
    the good ones (and LU's of every one) are PyTorch's."""
    a = [[4.0, 1.0], [1.0, 3.0]]
    results = [call(T, T.stack([T.tensor(a), T.tensor(SINGULAR), T.tensor(INDEFINITE)]))
               for T in (torch, ft)]
    assert type(results[1]).__name__ == type(results[0]).__name__
    keep = slice(None) if "pivots" in fields else slice(0, 1)
    for field in fields:
        ours, theirs = getattr(results[1], field), getattr(results[0], field)
        if field == "info":
            assert ours.tolist() == theirs.tolist()
        else:
            np.testing.assert_allclose(ours.numpy()[keep], theirs.numpy()[keep], rtol=1e-6,
                                       err_msg=field)


def test_a_loop_calling_inv_compiles_its_programs_once(torch):
    """inv and cholesky read whether the matrix is singular at the call: the step runs
    in pieces, each compiled in the first step and reused after."""
    w = ft.nn.Parameter(ft.tensor(SQ) * 0.1)
    opt = ft.optim.SGD([w], lr=0.01)
    compiles = []
    for _ in range(4):
        a = ft.eye(3) * 2 + w @ w.T
        loss = (ft.linalg.inv(a) + ft.linalg.cholesky(a)).pow(2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        compiles.append(ft.compile_stats()["compiles"])
    assert compiles[1] == compiles[-1]


BROADCAST_MISMATCHES = {
    "add": lambda T: T.ones(2, 3) + T.ones(4),
    "mul 3-D": lambda T: T.ones(3, 1) * T.ones(2, 4, 5),
    "add_": lambda T: T.ones(3).add_(T.ones(4)),
    "maximum": lambda T: T.maximum(T.ones(3), T.ones(4)),
    "atan2": lambda T: T.atan2(T.ones(3), T.ones(4)),
    "hypot": lambda T: T.hypot(T.ones(3), T.ones(4)),
    "fmod": lambda T: T.fmod(T.ones(3), T.ones(4)),
    "logaddexp": lambda T: T.logaddexp(T.ones(3), T.ones(4)),
    "lerp": lambda T: T.ones(5).lerp(T.ones(4), 0.5),
    "addcmul": lambda T: T.addcmul(T.ones(3), T.ones(4), T.ones(3)),
    "where": lambda T: T.where(T.ones(3) > 0, T.ones(4), T.ones(3)),
    "broadcast_tensors": lambda T: T.broadcast_tensors(T.ones(3), T.ones(4)),
}


@pytest.mark.parametrize("name", list(BROADCAST_MISMATCHES))
def test_shapes_that_do_not_broadcast_raise_pytorchs_runtime_error(torch, name):
    messages = []
    for T in (torch, ft):
        with pytest.raises(RuntimeError) as error:
            BROADCAST_MISMATCHES[name](T)
        messages.append(str(error.value))
    assert messages[1] == messages[0]


def test_inside_a_compiled_training_step(torch):
    """New ops recorded in a step: the compiled step's parameters match PyTorch's."""
    results = []
    for T in (torch, ft):
        w = T.nn.Parameter(T.tensor(SQ))
        opt = T.optim.SGD([w], lr=0.05)
        for _ in range(3):
            opt.zero_grad()
            y = T.addmm(T.tensor(V), T.tensor(A), w)
            loss = T.logaddexp(y, T.hypot(y, T.tensor(B))).nanmean() + T.trace(w).abs()
            loss = loss + T.linalg.vector_norm(T.lerp(w, T.tensor(SQ) * 2, 0.5))
            loss.backward()
            opt.step()
        results.append(w.detach().numpy())
    close(results[1], results[0], rtol=1e-4, atol=1e-5)


# -- torch.nn.functional and torch.nn -----------------------------------------------------

IMG = RNG.standard_normal((2, 8, 4, 6)).astype(np.float32)
SEQ = RNG.standard_normal((2, 3, 5)).astype(np.float32)

FUNCTIONAL = {
    "threshold": ((A,), lambda T, a: T.nn.functional.threshold(a, 0.2, -1.0)),
    "hardshrink": ((A,), lambda T, a: T.nn.functional.hardshrink(a, 0.4)),
    "softshrink": ((A,), lambda T, a: T.nn.functional.softshrink(a)),
    "tanhshrink": ((A,), lambda T, a: T.nn.functional.tanhshrink(a)),
    "glu": ((IMG,), lambda T, x: T.nn.functional.glu(x, 1)),
    "glu last": ((IMG,), lambda T, x: T.nn.functional.glu(x)),
    "prelu": ((IMG, V), lambda T, x, v: T.nn.functional.prelu(x, T.cat([v, v, v[:2]]))),
    "prelu shared": ((A, V), lambda T, a, v: T.nn.functional.prelu(a, v[:1])),
    "pixel_shuffle": ((IMG,), lambda T, x: T.nn.functional.pixel_shuffle(x, 2)),
    "pixel_unshuffle": ((IMG,), lambda T, x: T.nn.functional.pixel_unshuffle(x, 2)),
    "huber_loss": ((A, B), lambda T, a, b: T.nn.functional.huber_loss(a, b, delta=0.5)),
    "huber_loss none": ((A, B), lambda T, a, b: T.nn.functional.huber_loss(
        a, b, reduction="none", delta=2.0)),
    "relu_": ((A,), lambda T, a: T.nn.functional.relu_(a * 1)),
    "leaky_relu_": ((A,), lambda T, a: T.nn.functional.leaky_relu_(a * 1, 0.2)),
    "elu_": ((A,), lambda T, a: T.nn.functional.elu_(a * 1, 0.5)),
    "hardtanh_": ((A,), lambda T, a: T.nn.functional.hardtanh_(a * 1, -0.5, 0.5)),
    "threshold_": ((A,), lambda T, a: T.nn.functional.threshold_(a * 1, 0.0, 3.0)),
}


@pytest.mark.parametrize("name", list(FUNCTIONAL))
def test_functional_matches_pytorch(torch, name):
    inputs, fn = FUNCTIONAL[name]
    _both(torch, inputs, fn)


MODULES = {
    "Threshold": ((A,), lambda nn: nn.Threshold(0.1, 20.0)),
    "Hardshrink": ((A,), lambda nn: nn.Hardshrink(0.3)),
    "Softshrink": ((A,), lambda nn: nn.Softshrink()),
    "Tanhshrink": ((A,), lambda nn: nn.Tanhshrink()),
    "GLU": ((IMG,), lambda nn: nn.GLU(dim=1)),
    "Softmax2d": ((IMG,), lambda nn: nn.Softmax2d()),
    "Unflatten": ((IMG,), lambda nn: nn.Unflatten(1, (2, 4))),
    "ZeroPad2d": ((IMG,), lambda nn: nn.ZeroPad2d((1, 2, 0, 3))),
    "ConstantPad1d": ((SEQ,), lambda nn: nn.ConstantPad1d(2, 3.5)),
    "ConstantPad2d": ((IMG,), lambda nn: nn.ConstantPad2d((1, 0, 2, 1), -1.0)),
    "ReflectionPad1d": ((SEQ,), lambda nn: nn.ReflectionPad1d((2, 1))),
    "ReflectionPad2d": ((IMG,), lambda nn: nn.ReflectionPad2d(2)),
    "ReplicationPad1d": ((SEQ,), lambda nn: nn.ReplicationPad1d(3)),
    "ReplicationPad2d": ((IMG,), lambda nn: nn.ReplicationPad2d((0, 1, 2, 3))),
    # PyTorch's constant paddings pad the last dimensions of an input of any rank
    "ConstantPad1d 4-D": ((IMG,), lambda nn: nn.ConstantPad1d((1, 2), -2.0)),
    "ZeroPad1d 1-D": ((V,), lambda nn: nn.ZeroPad1d(2)),
    "ZeroPad2d 2-D": ((A,), lambda nn: nn.ZeroPad2d((1, 0, 0, 2))),
    "PixelShuffle": ((IMG,), lambda nn: nn.PixelShuffle(2)),
    "PixelUnshuffle": ((IMG,), lambda nn: nn.PixelUnshuffle(2)),
    "PReLU": ((IMG,), lambda nn: nn.PReLU()),
    "PReLU channels": ((IMG,), lambda nn: nn.PReLU(8, init=0.1)),
}


@pytest.mark.parametrize("name", list(MODULES))
def test_modules_match_pytorch(torch, name):
    inputs, make = MODULES[name]
    ours_module, theirs_module = make(ft.nn), make(torch.nn)
    assert repr(ours_module) == repr(theirs_module)
    _both(torch, inputs, lambda T, x: (ours_module if T is ft else theirs_module)(x))


def test_prelu_parameter_trains_like_pytorch(torch):
    weights, start = [], {}
    for T in (torch, ft):
        model = T.nn.Sequential(T.nn.Conv2d(8, 4, 3), T.nn.PReLU(4, init=0.2))
        if T is ft:
            model.load_state_dict({k: ft.tensor(v) for k, v in start.items()})
        else:
            start = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
        assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight"]
        opt = T.optim.SGD(model.parameters(), lr=0.1)
        for _ in range(3):
            opt.zero_grad()
            T.nn.functional.huber_loss(model(T.tensor(IMG)), T.zeros(2, 4, 2, 4)).backward()
            opt.step()
        weights.append(model.state_dict()["1.weight"].detach().numpy())
    close(weights[1], weights[0])


NN_ERRORS = {
    "glu odd": (RuntimeError, "Halving dimension must be even",
                lambda T: T.nn.functional.glu(T.ones(2, 3))),
    "prelu channels": (RuntimeError, "Mismatch of parameter numbers",
                       lambda T: T.nn.functional.prelu(T.ones(2, 3), T.ones(2))),
    "pixel_shuffle channels": (RuntimeError, "divisible by the square of upscale_factor",
                               lambda T: T.nn.functional.pixel_shuffle(T.ones(1, 3, 2, 2), 2)),
    "pixel_unshuffle height": (RuntimeError, "height to be divisible",
                               lambda T: T.nn.functional.pixel_unshuffle(T.ones(1, 1, 3, 4),
                                                                         2)),
    "softshrink lambda": (RuntimeError, r"lambda must be in range \[0, .* but found -1",
                          lambda T: T.nn.functional.softshrink(T.ones(2), -1.0)),
    "huber delta": (RuntimeError, "non-positive values for delta",
                    lambda T: T.nn.functional.huber_loss(T.ones(2), T.ones(2), delta=0.0)),
}


@pytest.mark.parametrize("name", list(NN_ERRORS))
def test_nn_errors_match_pytorch(torch, name):
    kind, message, fn = NN_ERRORS[name]
    for T in (torch, ft):
        with pytest.raises(kind, match=message):
            fn(T)


#: padding modules given an input of a rank they refuse
PAD_RANK_MISTAKES = {
    "ReflectionPad1d 4-D": lambda T: T.nn.ReflectionPad1d(1)(T.ones(2, 2, 3, 3)),
    "ReplicationPad2d 2-D": lambda T: T.nn.ReplicationPad2d(1)(T.ones(3, 3)),
    "ZeroPad2d 1-D": lambda T: T.nn.ZeroPad2d(1)(T.ones(3)),
    "CircularPad1d 4-D": lambda T: T.nn.CircularPad1d(1)(T.ones(2, 2, 3, 3)),
    "CircularPad2d 2-D": lambda T: T.nn.CircularPad2d(1)(T.ones(3, 3)),
}


@pytest.mark.parametrize("name", list(PAD_RANK_MISTAKES))
def test_padding_modules_refuse_ranks_as_pytorch(torch, name):
    from helpers import raised_by

    assert raised_by(PAD_RANK_MISTAKES[name], ft) == raised_by(PAD_RANK_MISTAKES[name], torch)



LOSSES = {
    "margin_ranking": ((A, B, SIGNS), lambda F, a, b, s: F.margin_ranking_loss(
        a[:, 0], b[:, 0], s, margin=0.3)),
    "hinge_embedding": ((A, SIGNS), lambda F, a, s: F.hinge_embedding_loss(
        a, s[:, None].expand(4, 3), margin=0.5, reduction="sum")),
    "soft_margin": ((A, SIGNS), lambda F, a, s: F.soft_margin_loss(a[:, 1], s)),
    "cosine_embedding": ((A, B, SIGNS), lambda F, a, b, s: F.cosine_embedding_loss(
        a, b, s, margin=0.1, reduction="none")),
    "cosine_embedding 1-D": ((A, B, SIGNS), lambda F, a, b, s: F.cosine_embedding_loss(
        a[0], b[0], s[0])),
    "triplet": ((A, B, P), lambda F, a, b, p: F.triplet_margin_loss(a, b, p)),
    "triplet swap p1": ((A, B, P), lambda F, a, b, p: F.triplet_margin_loss(
        a, b, p, margin=2.0, p=1, swap=True, reduction="sum")),
    "gaussian_nll": ((A, B, P), lambda F, a, b, p: F.gaussian_nll_loss(a, b, p)),
    "gaussian_nll shared var": ((A, B, P), lambda F, a, b, p: F.gaussian_nll_loss(
        a, b, p[:, 0], full=True, reduction="none")),
    "gaussian_nll clamped": ((A, B, P), lambda F, a, b, p: F.gaussian_nll_loss(
        a, b, p[:, :1] * 0.01, eps=0.1, reduction="sum")),
    # one variance per column, shared by the rows: var [1, C] for input [N, C]
    "gaussian_nll var shared along rows": ((A, B, P), lambda F, a, b, p: F.gaussian_nll_loss(
        a, b, p[:1], reduction="none")),
    "poisson_nll": ((A, COUNTS), lambda F, a, c: F.poisson_nll_loss(a, c)),
    "poisson_nll rates full": ((P, COUNTS), lambda F, p, c: F.poisson_nll_loss(
        p, c, log_input=False, full=True, reduction="none")),
}


@pytest.mark.parametrize("name", list(LOSSES))
def test_losses_match_pytorch(torch, name):
    inputs, fn = LOSSES[name]
    _both(torch, inputs, lambda T, *xs: fn(T.nn.functional, *xs))


LOSS_MODULES = {
    "MarginRankingLoss": ((A, B, SIGNS), lambda nn: nn.MarginRankingLoss(0.2),
                          lambda a, b, s: (a[:, 0], b[:, 0], s)),
    "HingeEmbeddingLoss": ((A, SIGNS), lambda nn: nn.HingeEmbeddingLoss(reduction="sum"),
                           lambda a, s: (a[:, 0], s)),
    "SoftMarginLoss": ((A, SIGNS), lambda nn: nn.SoftMarginLoss(), lambda a, s: (a[:, 2], s)),
    "CosineEmbeddingLoss": ((A, B, SIGNS), lambda nn: nn.CosineEmbeddingLoss(0.2),
                            lambda a, b, s: (a, b, s)),
    "TripletMarginLoss": ((A, B, P), lambda nn: nn.TripletMarginLoss(margin=0.5, p=3),
                          lambda a, b, p: (a, b, p)),
    "GaussianNLLLoss": ((A, B, P), lambda nn: nn.GaussianNLLLoss(full=True),
                        lambda a, b, p: (a, b, p)),
    "PoissonNLLLoss": ((A, COUNTS), lambda nn: nn.PoissonNLLLoss(reduction="sum"),
                       lambda a, c: (a, c)),
}


@pytest.mark.parametrize("name", list(LOSS_MODULES))
def test_loss_modules_match_pytorch(torch, name):
    inputs, make, args = LOSS_MODULES[name]
    modules = {ft: make(ft.nn), torch: make(torch.nn)}
    _both(torch, inputs, lambda T, *xs: modules[T](*args(*xs)))


LOSS_ERRORS = {
    "reduction": (ValueError, "is not a valid value for reduction",
                  lambda F: F.soft_margin_loss(F_ones(F, 2), F_ones(F, 2), reduction="avg")),
    "triplet margin": (ValueError, "margin must be greater than 0",
                       lambda F: F.triplet_margin_loss(F_ones(F, 2), F_ones(F, 2),
                                                       F_ones(F, 2), margin=0.0)),
    "gaussian var size": (ValueError, "var is of incorrect size",
                          lambda F: F.gaussian_nll_loss(F_ones(F, 2, 3), F_ones(F, 2, 3),
                                                        F_ones(F, 3, 2))),
    "gaussian var size two shared": (ValueError, "var is of incorrect size",
                                     lambda F: F.gaussian_nll_loss(
                                         F_ones(F, 2, 3, 4), F_ones(F, 2, 3, 4),
                                         F_ones(F, 2, 1, 1))),
    "gaussian negative var": (ValueError, "var has negative entry/entries",
                              lambda F: F.gaussian_nll_loss(F_ones(F, 1, 3), F_ones(F, 1, 3),
                                                            F_tensor(F, [[1.0, -1.0, 1.0]]))),
    "gaussian negative float var": (ValueError, "var has negative entry/entries",
                                    lambda F: F.gaussian_nll_loss(
                                        F_ones(F, 2, 3), F_ones(F, 2, 3), -0.5)),
}


def F_ones(F, *shape):  # noqa: N802 - a ones tensor of the library F belongs to
    return (ft if F is ft.nn.functional else pytest.importorskip("torch")).ones(*shape)


def F_tensor(F, values):  # noqa: N802 - a tensor of the library F belongs to, from data
    return (ft if F is ft.nn.functional else pytest.importorskip("torch")).tensor(values)


@pytest.mark.parametrize("name", list(LOSS_ERRORS))
def test_loss_errors_match_pytorch(torch, name):
    kind, message, fn = LOSS_ERRORS[name]
    for F in (torch.nn.functional, ft.nn.functional):
        with pytest.raises(kind, match=message):
            fn(F)


def _loss_arguments(T, name):
    """Small valid arguments of the loss ``name`` (``torch.nn.functional``'s) in library T."""
    x, y = T.full((2, 3), 0.5), T.full((2, 3), 0.25)
    labels, signs = T.tensor([0, 2]), T.tensor([1.0, -1.0])
    special = {
        "cross_entropy": (x, labels), "nll_loss": (x, labels), "multi_margin_loss": (x, labels),
        "multilabel_margin_loss": (x, T.tensor([[0, -1, 0], [2, 1, -1]])),
        "cosine_embedding_loss": (x, y, signs), "margin_ranking_loss": (x[:, 0], y[:, 0], signs),
        "triplet_margin_loss": (x, y, y), "triplet_margin_with_distance_loss": (x, y, y),
        "gaussian_nll_loss": (x, y, T.ones(2, 3)),
        "ctc_loss": (T.full((4, 2, 3), -1.0986), T.tensor([[1, 2], [2, 1]]), (4, 4), (2, 2)),
    }
    return special.get(name, (x, y))


REDUCED_LOSSES = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cosine_embedding_loss",
    "cross_entropy", "ctc_loss", "gaussian_nll_loss", "hinge_embedding_loss", "huber_loss",
    "kl_div", "l1_loss", "margin_ranking_loss", "mse_loss", "multi_margin_loss",
    "multilabel_margin_loss", "multilabel_soft_margin_loss", "nll_loss", "poisson_nll_loss",
    "smooth_l1_loss", "soft_margin_loss", "triplet_margin_loss",
    "triplet_margin_with_distance_loss"]


def _outcome(T, name, reduction):
    """The loss's value, or its exception's type and words, with the warnings raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = getattr(T.nn.functional, name)(*_loss_arguments(T, name),
                                                    reduction=reduction)
        except Exception as error:  # noqa: BLE001 - the exception is what is compared
            result = (type(error).__name__, str(error))
        else:
            result = round(float(result), 5)
    return result, sorted({str(w.message) for w in caught if "reduction" in str(w.message)})


@pytest.mark.parametrize("name", REDUCED_LOSSES)
def test_bad_reductions_fail_in_pytorchs_words(torch, name):
    # the losses PyTorch writes in Python word it differently, and a non-string there is
    # the TypeError of adding it to a string; 'elementwise_mean' is a deprecated 'mean'
    for reduction in ("avg", None, 3, "elementwise_mean"):
        ours = _outcome(ft, name, reduction)
        assert ours == _outcome(torch, name, reduction), reduction
        assert reduction != "avg" or ours[0][0] == "ValueError"


# -- instance normalisation and attention -------------------------------------------------

Q = RNG.standard_normal((2, 3, 4, 8)).astype(np.float32)
K = RNG.standard_normal((2, 3, 6, 8)).astype(np.float32)
VALUES = RNG.standard_normal((2, 3, 6, 5)).astype(np.float32)
BOOL_MASK = RNG.random((4, 6)) > 0.3
BOOL_MASK[:, 0] = True  # every query keeps one key (an all-masked row is NaN in both)
FLOAT_MASK = RNG.standard_normal((1, 3, 4, 6)).astype(np.float32)

# Normalised values have a fixed sum of squares, so the gradient checked (of that sum)
# would be rounding noise: the cases multiply the result by the input first.
NORM_AND_ATTENTION = {
    "instance_norm": ((IMG,), lambda T, x: T.nn.functional.instance_norm(x) * x),
    "instance_norm affine": ((SEQ, V), lambda T, x, v: T.nn.functional.instance_norm(
        x, weight=v, bias=v * 2, eps=1e-3) * x),
    "InstanceNorm1d": ((SEQ,), lambda T, x: T.nn.InstanceNorm1d(3)(x) * x),
    "InstanceNorm1d unbatched": ((SEQ,), lambda T, x: T.nn.InstanceNorm1d(3)(x[0]) * x[0]),
    "InstanceNorm2d affine": ((IMG,), lambda T, x: T.nn.InstanceNorm2d(8, affine=True)(x) * x),
    "sdpa": ((Q, K, VALUES), lambda T, q, k, v: T.nn.functional.scaled_dot_product_attention(
        q, k, v)),
    "sdpa causal scale": ((Q, K, VALUES), lambda T, q, k, v:
                          T.nn.functional.scaled_dot_product_attention(
                              q, k, v, is_causal=True, scale=0.5)),
    "sdpa bool mask": ((Q, K, VALUES), lambda T, q, k, v:
                       T.nn.functional.scaled_dot_product_attention(
                           q, k, v, attn_mask=T.tensor(BOOL_MASK))),
    "sdpa float mask": ((Q, K, VALUES, FLOAT_MASK), lambda T, q, k, v, m:
                        T.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m)),
    "sdpa 3-D": ((Q, K, VALUES), lambda T, q, k, v:
                 T.nn.functional.scaled_dot_product_attention(q[0], k[0], v[0])),
    "sdpa dropout all": ((Q, K, VALUES), lambda T, q, k, v:
                         T.nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=1.0)),
    # grouped-query attention: 6 query heads share 3 key heads and 1 value head
    "sdpa gqa": ((Q, K, VALUES), lambda T, q, k, v:
                 T.nn.functional.scaled_dot_product_attention(
                     T.cat([q, q * 0.5], 1), k, v[:, :1], enable_gqa=True, is_causal=True)),
    # PyTorch's CPU kernel for 4-D inputs of one head width applies both masks
    "sdpa causal and a mask": ((Q, K, K), lambda T, q, k, v:
                               T.nn.functional.scaled_dot_product_attention(
                                   q, k, v, attn_mask=T.tensor(BOOL_MASK), is_causal=True)),
}


def test_attention_dropout_draws_from_the_seeded_key(torch):
    q, k, v = (ft.tensor(x) for x in (Q, K, VALUES))
    attend = ft.nn.functional.scaled_dot_product_attention
    ft.manual_seed(5)
    first = attend(q, k, v, dropout_p=0.5).numpy()
    ft.manual_seed(5)
    np.testing.assert_array_equal(attend(q, k, v, dropout_p=0.5).numpy(), first)
    assert not np.allclose(first, attend(q, k, v).numpy())
    for T in (torch, ft):
        with pytest.raises(RuntimeError, match="dropout probability has to be between 0 and 1"):
            T.nn.functional.scaled_dot_product_attention(
                T.tensor(Q), T.tensor(K), T.tensor(VALUES), dropout_p=1.5)


def test_attention_refuses_what_pytorch_refuses(torch):
    for T in (torch, ft):
        attend = T.nn.functional.scaled_dot_product_attention
        q = T.ones(1, 6, 2, 4)
        # 4-D inputs take a mask of at least 2 dimensions; 3-D ones broadcast a vector
        with pytest.raises(IndexError, match=r"^Dimension out of range \(expected to be in "
                                             r"range of \[-1, 0\], but got -2\)$"):
            attend(q, q, q, attn_mask=T.ones(2, dtype=T.bool))
        with pytest.raises(IndexError, match="^Dimension specified as -2 but tensor has no "
                                             "dimensions$"):
            attend(q, q, q, attn_mask=T.tensor(0.0))
        assert attend(q[0], q[0], q[0], attn_mask=T.zeros(2)).shape == (6, 2, 4)
        with pytest.raises(RuntimeError, match="^Number of heads in key and value must "
                                               "divide the number of heads in $"):
            attend(q, T.ones(1, 4, 3, 4), T.ones(1, 4, 3, 4), enable_gqa=True)
        with pytest.raises(IndexError, match=r"^Dimension out of range \(expected to be in "
                                             r"range of \[-2, 1\], but got -3\)$"):
            attend(q, T.ones(3, 4), T.ones(3, 4), enable_gqa=True)


@pytest.mark.parametrize("name", list(NORM_AND_ATTENTION))
def test_norm_and_attention_match_pytorch(torch, name):
    inputs, fn = NORM_AND_ATTENTION[name]
    _both(torch, inputs, fn)


def test_instance_norm_modules_match_pytorch(torch):
    for name in ("InstanceNorm1d", "InstanceNorm2d"):
        for affine in (False, True):
            ours, theirs = getattr(ft.nn, name)(4, affine=affine), \
                getattr(torch.nn, name)(4, affine=affine)
            assert repr(ours) == repr(theirs)
            assert list(ours.state_dict()) == list(theirs.state_dict())
    for T in (torch, ft):
        with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
            T.nn.InstanceNorm1d(3)(T.ones(1, 3, 2, 2))
        with pytest.raises(ValueError, match="Expected more than 1 spatial element"):
            T.nn.functional.instance_norm(T.ones(2, 3, 1))
        for shape in ((1, 2, 4), (1, 1, 2, 4)):  # the other kernel: 3-D, or dropout
            with pytest.raises(RuntimeError, match="attn_mask should not be set when is_causal"):
                T.nn.functional.scaled_dot_product_attention(
                    T.ones(shape), T.ones(shape), T.ones(shape),
                    attn_mask=T.ones(2, 2, dtype=T.bool), is_causal=True,
                    dropout_p=0.5 * (len(shape) == 4))


# -- the pure functions underneath ----------------------------------------------------------


def test_pure_losses_and_layers_jit_and_check_their_arguments():
    """The fnnet.losses / fnnet.nn.functional functions the shim calls: the same values
    under jit, and a ValueError naming the loss for a bad reduction."""
    import jax

    import fnnet.losses as L
    from fnnet.nn import functional as fnf

    a, b, p, s = (jax.numpy.asarray(v) for v in (A, B, P, SIGNS))
    calls = {
        L.margin_ranking_loss: (a[:, 0], b[:, 0], s),
        L.hinge_embedding_loss: (a[:, 0], s),
        L.soft_margin_loss: (a[:, 0], s),
        L.cosine_embedding_loss: (a, b, s),
        L.triplet_margin_loss: (a, b, p),
        L.gaussian_nll_loss: (a, b, p),
        L.poisson_nll_loss: (a, p),
    }
    for loss, args in calls.items():
        close(jax.jit(loss)(*args), loss(*args))
        with pytest.raises(ValueError, match=loss.__name__):
            loss(*args, reduction="avg")
    image = jax.numpy.asarray(IMG)
    close(jax.jit(fnf.pixel_shuffle, static_argnums=1)(image, 2), fnf.pixel_shuffle(image, 2))
    close(fnf.pixel_unshuffle(fnf.pixel_shuffle(image, 2), 2), image)
    close(jax.jit(fnf.glu, static_argnums=1)(image, 1), fnf.glu(image, 1))
    with pytest.raises(ValueError, match="glu: Halving dimension must be even"):
        fnf.glu(a, -1)
    with pytest.raises(ValueError, match="prelu: Mismatch of parameter numbers"):
        fnf.prelu(image, jax.numpy.ones(3))


# -- torch.* names of the functional ops, with ATen's signatures ------------------------

SIG = RNG.standard_normal((2, 3, 8)).astype(np.float32)
K1 = RNG.standard_normal((4, 3, 3)).astype(np.float32)
IMG2 = RNG.standard_normal((2, 3, 5, 5)).astype(np.float32)
K2 = RNG.standard_normal((4, 3, 3, 3)).astype(np.float32)
VOL = RNG.standard_normal((1, 2, 4, 4, 4)).astype(np.float32)
K3 = RNG.standard_normal((2, 2, 2, 2, 2)).astype(np.float32)
BINARY = (COUNTS > 1).astype(np.float32)
LABELS += (BINARY,)

TORCH_NN_NAMES = {
    "conv1d": ((SIG, K1), lambda T, x, k: T.conv1d(x, k, None, 2, 1)),
    "conv2d": ((IMG2, K2, V), lambda T, x, k, v: T.conv2d(x, k, v[:1].expand(4), padding=1)),
    "conv3d": ((VOL, K3), lambda T, x, k: T.conv3d(x, k, stride=2)),
    "conv_transpose1d": ((SIG, K1), lambda T, x, k: T.conv_transpose1d(
        x, k.transpose(0, 1), None, 2, 1, 1)),
    "conv_transpose2d": ((IMG2, K2), lambda T, x, k: T.conv_transpose2d(
        x, k.transpose(0, 1), stride=2)),
    "conv_transpose3d": ((VOL, K3), lambda T, x, k: T.conv_transpose3d(x, k, padding=1)),
    "cosine_similarity": ((A, B), lambda T, a, b: T.cosine_similarity(a, b, 0)),
    "pairwise_distance": ((A, B), lambda T, a, b: T.pairwise_distance(a, b, 1.0, 1e-6, True)),
    "pdist": ((A,), lambda T, a: T.pdist(a)),
    "pdist repeated row": ((A,), lambda T, a: T.pdist(T.cat([a, a[:1]]))),
    "pdist p=3": ((A,), lambda T, a: T.nn.functional.pdist(a, 3)),
    "pdist inf": ((A,), lambda T, a: T.pdist(a, float("inf"))),
    "embedding padding_idx": ((A,), lambda T, w: T.embedding(w, T.tensor([[0, 2], [3, 2]]), 2)),
    "embedding": ((A,), lambda T, w: T.embedding(w, T.tensor([1, 1, 0]))),
    "layer_norm": ((T3, V), lambda T, x, v: T.layer_norm(x, (4,), v.repeat(2)[:4], None, 1e-3,
                                                         False)),
    "group_norm": ((IMG2, V), lambda T, x, v: T.group_norm(x, 3, v, v * 2)),
    "batch_norm training": ((IMG2, V), lambda T, x, v: (lambda mean, var: (T.batch_norm(
        x, v, None, mean, var, True, 0.2, 1e-5, False), mean, var))(T.zeros(3), T.ones(3))),
    "batch_norm eval": ((IMG2, V), lambda T, x, v: T.batch_norm(
        x, None, v, T.full((3,), 0.5), T.full((3,), 2.0), False, 0.1, 1e-5, True)),
    "instance_norm": ((IMG2, V), lambda T, x, v: T.instance_norm(
        x, v, v, None, None, True, 0.1, 1e-5, False)),
    "max_pool1d": ((SIG,), lambda T, x: T.max_pool1d(x, 3, [], 1)),
    "max_pool2d": ((IMG2,), lambda T, x: T.max_pool2d(x, 2, 2, 0, 1, True)),
    "max_pool3d": ((VOL,), lambda T, x: T.max_pool3d(x, (2, 2, 2))),
    "avg_pool1d": ((SIG,), lambda T, x: T.avg_pool1d(x, 3, 2, 1, False, False)),
    "adaptive_avg_pool1d": ((SIG,), lambda T, x: T.adaptive_avg_pool1d(x, 3)),
    "adaptive_max_pool1d": ((SIG,), lambda T, x: T.adaptive_max_pool1d(x, 3)),
    "F.adaptive_max_pool1d indices": ((SIG,), lambda T, x: T.nn.functional.adaptive_max_pool1d(
        x[0], 5, return_indices=True)),
    "pixel_shuffle": ((IMG2,), lambda T, x: T.pixel_shuffle(x[:, :2].repeat(1, 2, 1, 1), 2)),
    "pixel_unshuffle": ((T3,), lambda T, x: T.pixel_unshuffle(x[None, :, :2], 2)),
    "prelu": ((A,), lambda T, a: T.prelu(a, T.tensor([0.25]))),
    "Tensor.prelu": ((A, V), lambda T, a, v: a.prelu(v)),
    "hardshrink": ((A,), lambda T, a: T.hardshrink(a)),
    "Tensor.hardshrink": ((A,), lambda T, a: a.hardshrink(0.3)),
    "kl_div": ((A, B), lambda T, a, b: T.kl_div(a.log_softmax(1), b.softmax(1))),
    "kl_div mean": ((A, B), lambda T, a, b: T.kl_div(a.log_softmax(1), b.softmax(1), 1)),
    "kl_div none log_target": ((A, B), lambda T, a, b: T.kl_div(a, b, 0, log_target=True)),
    "kl_div sum": ((A, B), lambda T, a, b: T.kl_div(a.log_softmax(1), b.softmax(1), 2)),
    "binary_cross_entropy_with_logits": ((A, BINARY, V), lambda T, a, t, v: (
        T.binary_cross_entropy_with_logits(a, t, v.detach().abs(), T.tensor([0.5, 2.0, 1.0]),
                                           2))),
    "binary_cross_entropy_with_logits none": ((A, BINARY), lambda T, a, t: (
        T.binary_cross_entropy_with_logits(a, t))),
    "hinge_embedding_loss": ((A, SIGNS), lambda T, a, s: T.hinge_embedding_loss(a[:, 0], s)),
    "hinge_embedding_loss mean": ((A, SIGNS), lambda T, a, s: T.hinge_embedding_loss(
        a[:, 0], s, 0.5, 1)),
    "margin_ranking_loss": ((A, B, SIGNS), lambda T, a, b, s: T.margin_ranking_loss(
        a[:, 0], b[:, 0], s, 0.1, 0)),
    "triplet_margin_loss": ((A, B, P), lambda T, a, b, p: T.triplet_margin_loss(
        a, b, p, 1.0, 1.0, 1e-6, True, 2)),
    "cosine_embedding_loss": ((A, B, SIGNS), lambda T, a, b, s: T.cosine_embedding_loss(
        a, b, s, 0.2)),
    "cosine_embedding_loss mean": ((A, B, SIGNS), lambda T, a, b, s: T.cosine_embedding_loss(
        a, b, s, 0.2, 1)),
    "poisson_nll_loss": ((A, COUNTS), lambda T, a, c: T.poisson_nll_loss(
        a, c, True, True, 1e-8, 1)),
    "ctc_loss": ((T3, INTS), lambda T, x, i: T.ctc_loss(
        x.transpose(0, 1).log_softmax(2), i.abs()[:, :2] % 3 + 1, T.tensor([3, 3]),
        T.tensor([2, 1]))),
    "ctc_loss mean": ((T3, INTS), lambda T, x, i: T.ctc_loss(
        x.transpose(0, 1).log_softmax(2), i.abs()[:, :2] % 3 + 1, (3, 2), (1, 2), 0, 1)),
    "rms_norm": ((A, V), lambda T, a, v: T.rms_norm(a, (3,), v, 1e-6)),
    "rms_norm default eps": ((T3,), lambda T, x: T.rms_norm(x, [3, 4])),
    "constant_pad_nd": ((A,), lambda T, a: T.constant_pad_nd(a, (1, 2), 0.5)),
    "constant_pad_nd 2 dims": ((A,), lambda T, a: T.constant_pad_nd(a, [1, 1, 0, 2])),
    "masked_fill": ((A,), lambda T, a: T.masked_fill(a, a > 0, 2.0)),
    "concatenate": ((A, B), lambda T, a, b: T.concatenate([a, b], 1)),
    "concatenate axis": ((A, B), lambda T, a, b: T.concatenate((a, b), axis=-1)),
    "row_stack": ((A, V), lambda T, a, v: T.row_stack([a, v])),
    "rsub": ((A, B), lambda T, a, b: T.rsub(a, b, alpha=2)),
    "rsub scalar": ((A,), lambda T, a: T.rsub(a, 3.0)),
    "rsub int": ((INTS,), lambda T, i: T.rsub(i, 2.5)),
}


def test_torch_names_of_functional_ops_are_the_functional_ones(torch):
    import inspect

    from fnnet.torch import _nn_ops

    for name in _nn_ops.SAME:  # fnnet.torch's may take axis= for dim= around F's
        assert getattr(torch, name) is getattr(torch.nn.functional, name), name
        assert inspect.unwrap(getattr(ft, name)) is getattr(ft.nn.functional, name), name


TORCH_NN_ERRORS = {
    "dropout p": (RuntimeError, r"dropout probability has to be between 0 and 1, but got 1.5",
                  lambda T: T.dropout(T.ones(3), 1.5, True)),
    "dropout train missing": (TypeError, "train", lambda T: T.dropout(T.ones(3), 0.5)),
    "F.alpha_dropout p": (ValueError, "dropout probability has to be between 0 and 1",
                          lambda T: T.nn.functional.alpha_dropout(T.ones(3), -0.1)),
    "feature_alpha_dropout 1-D": (
        RuntimeError, "Feature dropout requires at least 2 dimensions in the input",
        lambda T: T.feature_alpha_dropout(T.ones(3), 0.5, True)),
    "pdist 3-D": (RuntimeError, "pdist only supports 2D tensors, got: 3D",
                  lambda T: T.pdist(T.ones(2, 3, 4))),
    "pdist p": (RuntimeError, "pdist only supports non-negative p values",
                lambda T: T.pdist(T.ones(2, 3), -1)),
    "kl_div reduction str": (TypeError, "reduction", lambda T: T.kl_div(
        T.ones(3), T.ones(3), "mean")),
    "embedding index": (IndexError, "index out of range in self",
                        lambda T: T.embedding(T.ones(3, 2), T.tensor([0, 5]))),
}


@pytest.mark.parametrize("feature", [False, True])
def test_alpha_dropout_keeps_selu_moments_and_draws_per_channel(torch, feature):
    x = RNG.standard_normal((64, 32, 40)).astype(np.float32)
    alpha = 1.7580993408473766
    for T in (torch, ft):
        T.manual_seed(0)
        fn = T.feature_alpha_dropout if feature else T.alpha_dropout
        y = fn(T.tensor(x), 0.2, True).numpy()
        assert y.dtype == np.float32 and y.shape == x.shape
        a = 1 / np.sqrt((alpha ** 2 * 0.2 + 1) * 0.8)
        kept = np.isclose(y, a * x + alpha * a * 0.2, atol=1e-5)
        dropped = np.isclose(y, -alpha * a + alpha * a * 0.2, atol=1e-5)
        assert (kept | dropped).all()
        assert abs(dropped.mean() - 0.2) < 0.02
        assert abs(y.mean()) < 0.05 and abs(y.std() - 1) < 0.05  # SELU's fixed point kept
        if feature:  # whole channels
            assert (dropped.all(-1) | kept.all(-1)).all()
        np.testing.assert_array_equal(fn(T.tensor(x), 0.2, False).numpy(), x)
        np.testing.assert_array_equal(fn(T.tensor(x), 1.0, True).numpy(), np.zeros_like(x))
        np.testing.assert_array_equal(T.dropout(T.tensor(x), 0.0, True).numpy(), x)
        dropped = T.dropout(T.tensor(x), 0.25, True).numpy()
        np.testing.assert_allclose(dropped[dropped != 0], x[dropped != 0] / 0.75, rtol=1e-6)


def test_alpha_dropout_modules_match_pytorch(torch):
    for name in ("AlphaDropout", "FeatureAlphaDropout"):
        ours, theirs = getattr(ft.nn, name)(0.3), getattr(torch.nn, name)(0.3)
        assert repr(ours) == repr(theirs)
        x = np.ones((2, 3, 4), np.float32)
        ours.eval()
        np.testing.assert_array_equal(ours(ft.tensor(x)).numpy(), x)
        ours.train()
        assert not np.array_equal(ours(ft.tensor(x)).numpy(), x)
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            getattr(ft.nn, name)(2)
    # F.alpha_dropout's training defaults to False, as PyTorch's
    np.testing.assert_array_equal(ft.nn.functional.alpha_dropout(ft.ones(3)).numpy(), 1)


# -- fused and second-name matrix products ----------------------------------------------

BAT = RNG.standard_normal((3, 2, 4)).astype(np.float32)
BAT2 = RNG.standard_normal((3, 4, 3)).astype(np.float32)

MATRIX_PRODUCTS = {
    "baddbmm": ((T3[:, :2, :3], BAT, BAT2), lambda T, x, b1, b2: T.baddbmm(
        x[:1], b1, b2, beta=0.5, alpha=2)),
    "baddbmm method": ((BAT, BAT2), lambda T, b1, b2: T.ones(3, 2, 3).baddbmm(b1, b2)),
    "addbmm": ((A, BAT, BAT2), lambda T, a, b1, b2: T.addbmm(a[:2], b1, b2, alpha=0.5)),
    "addbmm method": ((V, BAT, BAT2), lambda T, v, b1, b2: v.addbmm(b1, b2, beta=2)),
    "addmv": ((V, A), lambda T, v, a: T.addmv(a[:, 0], a, v, beta=0.5, alpha=-1)),
    "addmv broadcast": ((V, A), lambda T, v, a: v[:1].addmv(a.T, a[:, 1])),
    "addr": ((A, V, B), lambda T, a, v, b: T.addr(a, b[:, 0], v, beta=2)),
    "addr int": ((INTS,), lambda T, i: T.addr(i, T.tensor([1, 2]), T.tensor([3, 4, 5]),
                                              alpha=2)),
    "addmm beta 0 ignores nan": ((NANS, A, SQ), lambda T, n, a, s: T.addmm(
        n[:, :3], a[:2], s, beta=0)),
    "baddbmm beta 0 ignores nan": ((NANS, BAT, BAT2), lambda T, n, b1, b2: T.baddbmm(
        n[None, :, :3], b1, b2, beta=0)),
    "inner": ((A, B), lambda T, a, b: T.inner(a, b)),
    "inner 3-D": ((T3, V), lambda T, x, v: x.inner(T.cat([v, v[:1]]))),
    "inner scalar": ((V,), lambda T, v: T.inner(T.tensor(2.0), v)),
    "ger": ((V, B), lambda T, v, b: T.ger(v, b[:, 0])),
    "vdot": ((V, B), lambda T, v, b: v.vdot(b[0])),
    "chain_matmul": ((A, SQ), lambda T, a, s: T.chain_matmul(a, s, s.T, a.T)),
    "chain_matmul one": ((A,), lambda T, a: T.chain_matmul(a)),
    "diag_embed": ((A,), lambda T, a: T.diag_embed(a)),
    "diag_embed offset dims": ((T3,), lambda T, x: x.diag_embed(-1, 0, 2)),
    "diag_embed positive offset": ((A,), lambda T, a: T.diag_embed(a, 2, -1, 1)),
    "diagflat": ((A,), lambda T, a: T.diagflat(a, 1)),
    "diagflat method": ((V,), lambda T, v: v.diagflat(-2)),
    "addmm_": ((A, SQ), lambda T, a, s: (a * 1).addmm_(a, s, alpha=2)),
    "baddbmm_": ((BAT, BAT2), lambda T, b1, b2: T.ones(3, 2, 3).baddbmm_(b1, b2, beta=3)),
    "addbmm_": ((BAT, BAT2), lambda T, b1, b2: T.zeros(2, 3).addbmm_(b1, b2)),
    "addmv_ method": ((V, A), lambda T, v, a: (a[:, 0] * 1).addmv_(a, v)),
    "torch.addmv_": ((V, A), lambda T, v, a: T.addmv_(a[:, 0] * 1, a, v, alpha=2)),
    "addr_": ((V, A), lambda T, v, a: (a * 1).addr_(a[:, 0], v)),
}


MATRIX_PRODUCT_ERRORS = {
    "addbmm batches": (RuntimeError, "batch1 and batch2 must have same number of batches, "
                       "got 3 and 2",
                       lambda T: T.addbmm(T.ones(2, 2), T.ones(3, 2, 3), T.ones(2, 3, 2))),
    "baddbmm 2-D": (RuntimeError, "batch1 must be a 3D tensor",
                    lambda T: T.baddbmm(T.ones(3, 2), T.ones(3, 3), T.ones(3, 3, 2))),
    "baddbmm sizes": (RuntimeError, r"Expected size for first two dimensions of batch2 tensor "
                      r"to be: \[3, 3\] but got: \[3, 2\]\.",
                      lambda T: T.baddbmm(T.ones(3, 2, 2), T.ones(3, 2, 3), T.ones(3, 2, 2))),
    "baddbmm self grows": (RuntimeError, "The expanded size of the tensor",
                           lambda T: T.baddbmm(T.ones(2, 2, 2), T.ones(3, 2, 3),
                                               T.ones(3, 3, 2))),
    "addbmm sizes": (RuntimeError, r"Incompatible matrix sizes for bmm \(2x3 and 2x2\)",
                     lambda T: T.addbmm(T.ones(2, 2), T.ones(3, 2, 3), T.ones(3, 2, 2))),
    "addmv sizes": (RuntimeError, r"size mismatch, got input \(2\), mat \(2x3\), vec \(2\)",
                    lambda T: T.addmv(T.ones(2), T.ones(2, 3), T.ones(2))),
    "addmv dims": (RuntimeError, "vector \\+ matrix @ vector expected, got 1, 1, 1",
                   lambda T: T.addmv(T.ones(2), T.ones(3), T.ones(3))),
    "addr dims": (RuntimeError, "addr: Expected 1-D argument vec2, but got 2-D",
                  lambda T: T.addr(T.ones(2, 3), T.ones(2), T.ones(3, 1))),
    "inner sizes": (RuntimeError, r"inner\(\) the last dimension must match on both input "
                    r"tensors but got shapes \[2, 3\] and \[4\]",
                    lambda T: T.inner(T.ones(2, 3), T.ones(4))),
    "inner float": (TypeError, "must be Tensor, not float", lambda T: T.inner(T.ones(2), 2.0)),
    "ger dims": (RuntimeError, "outer: Expected 1-D argument self, but got 2-D",
                 lambda T: T.ger(T.ones(2, 2), T.ones(3))),
    "vdot dims": (RuntimeError, "1D tensors expected, but got 2D and 1D tensors",
                  lambda T: T.vdot(T.ones(2, 2), T.ones(2))),
    "chain_matmul none": (RuntimeError, r"chain_matmul\(\): Expected one or more matrices",
                          lambda T: T.chain_matmul()),
    "chain_matmul sizes": (RuntimeError, r"multi_dot\(\): tensors 0 and 1 with shapes "
                           r"\[2, 3\] and \[2, 3\] cannot be multiplied",
                           lambda T: T.chain_matmul(T.ones(2, 3), T.ones(2, 3))),
    "diag_embed same dims": (RuntimeError, "diagonal dimensions cannot be identical 1, 1",
                             lambda T: T.diag_embed(T.ones(2, 3), 0, 1, 1)),
    "diag_embed dim range": (IndexError, r"expected to be in range of \[-3, 2\], but got 5",
                             lambda T: T.diag_embed(T.ones(2, 3), 0, 1, 5)),
}


def test_chain_matmul_warns_once_as_pytorch():
    from fnnet.torch import _matrix_products

    _matrix_products._warn_chain_matmul.cache_clear()  # PyTorch warns once per process
    with pytest.warns(UserWarning, match="torch.chain_matmul is deprecated and will be "
                      "removed in a future PyTorch release. Use torch.linalg.multi_dot"):
        ft.chain_matmul(ft.ones(2, 2), ft.ones(2, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ft.chain_matmul(ft.ones(2, 2), ft.ones(2, 2))


# -- signal windows, the trapezoid rule, vander, unravel_index, torch.special ------------

XS = np.array([0.0, 0.5, 1.0, 2.5], np.float32)
PROB = np.array([0.1, 0.25, 0.5, 0.9], np.float32)

NUMERIC_HELPERS = {
    "trapezoid": ((A,), lambda T, a: T.trapezoid(a)),
    "trapezoid x": ((A, XS), lambda T, a, x: T.trapezoid(a, x[:3])),
    "trapezoid dx dim": ((A,), lambda T, a: T.trapezoid(a, dx=0.5, dim=0)),
    "trapezoid x same shape": ((A, B), lambda T, a, b: T.trapezoid(a, b.cumsum(1), dim=1)),
    "trapezoid int": ((INTS,), lambda T, i: T.trapezoid(i)),
    "trapz": ((A, XS), lambda T, a, x: T.trapz(a.T, x[:3], dim=0)),
    "trapz dx": ((A,), lambda T, a: T.trapz(a, dx=2)),
    "cumulative_trapezoid": ((A,), lambda T, a: T.cumulative_trapezoid(a, dim=0)),
    "cumulative_trapezoid x": ((A, XS), lambda T, a, x: T.cumulative_trapezoid(a, x[1:])),
    "cumulative_trapezoid int": ((INTS,), lambda T, i: T.cumulative_trapezoid(i, dx=2)),
    # PyTorch's vander writes in place what its backward needs: values only
    "vander": ((V,), lambda T, v: T.vander(v.detach())),
    "vander N increasing": ((V,), lambda T, v: T.vander(v.detach(), 4, True)),
    "vander int": ((INTS,), lambda T, i: T.vander(i[0], 2)),
    "unravel_index": ((INTS,), lambda T, i: T.unravel_index(T.tensor([5, 7, -1, 13]), (3, 4))),
    "unravel_index 0-d": ((INTS,), lambda T, i: T.unravel_index(T.tensor(9), T.Size([2, 5]))),
    "special.expit": ((A,), lambda T, a: T.special.expit(a)),
    "special.logit": ((PROB,), lambda T, p: T.special.logit(p)),
    "special.erf erfc erfinv": ((PROB,), lambda T, p: (T.special.erf(p), T.special.erfc(p),
                                                      T.special.erfinv(p))),
    "special.gammaln digamma psi": ((P,), lambda T, p: (T.special.gammaln(p),
                                                        T.special.digamma(p),
                                                        T.special.psi(p))),
    "special.polygamma": ((P,), lambda T, p: T.special.polygamma(2, p)),
    "polygamma": ((P,), lambda T, p: T.polygamma(1, p)),
    "polygamma method": ((P,), lambda T, p: p.polygamma(3)),
    "polygamma 0": ((P,), lambda T, p: T.polygamma(0, p)),
    "polygamma_": ((P,), lambda T, p: (p * 1).polygamma_(1)),
    "special.multigammaln": ((P,), lambda T, p: T.special.multigammaln(p + 2, 3)),
    "mvlgamma": ((P,), lambda T, p: T.mvlgamma(p + 1, 2)),
    "mvlgamma method int": ((INTS,), lambda T, i: (i.abs() + 2).mvlgamma(2)),
    "mvlgamma_": ((P,), lambda T, p: (p + 1).mvlgamma_(1)),
    "special.xlogy": ((A, P), lambda T, a, p: T.special.xlogy(a, p)),
    "special.xlog1py": ((A, P), lambda T, a, p: T.special.xlog1py(a, p)),
    "special.xlog1py zero": ((P,), lambda T, p: T.special.xlog1py(p * 0, p - 2)),
    "special.xlog1py nan": ((NANS,), lambda T, n: T.special.xlog1py(n * 0, n)),
    "special.log_softmax softmax": ((A,), lambda T, a: (T.special.log_softmax(a, 1),
                                                        T.special.softmax(a, 0))),
    "special.logsumexp": ((A,), lambda T, a: T.special.logsumexp(a, 1, keepdim=True)),
    "special.sinc": ((A,), lambda T, a: T.special.sinc(a)),
    "special.entr": ((A,), lambda T, a: T.special.entr(a.abs() + 0.1)),
    "special.entr int": ((INTS,), lambda T, i: T.special.entr(i)),
    "special.i0 i0e": ((A,), lambda T, a: (T.special.i0(a), T.special.i0e(a))),
    "special.i1 i1e": ((A,), lambda T, a: (T.special.i1(a), T.special.i1e(a))),
    "special.ndtr": ((A,), lambda T, a: T.special.ndtr(a)),
    "special.ndtri": ((PROB,), lambda T, p: T.special.ndtri(p)),
    "special.log_ndtr": ((A,), lambda T, a: T.special.log_ndtr(a)),
    "special.log1p expm1 exp2": ((P,), lambda T, p: (T.special.log1p(p), T.special.expm1(p),
                                                     T.special.exp2(p))),
    "special.round": ((A,), lambda T, a: T.special.round(a * 10, decimals=1)),
    "special.erfcx": ((A,), lambda T, a: T.special.erfcx(a)),
    "special.zeta": ((P, XS), lambda T, p, x: (T.special.zeta(p[:, 0].detach() + 1, x + 0.5),
                                                T.special.zeta(p[:, 0].detach() + 1, 2.0))),
    "special.modified_bessel_i0 i1": ((A,), lambda T, a: (T.special.modified_bessel_i0(a),
                                                          T.special.modified_bessel_i1(a))),
    "special.spherical_bessel_j0": ((XS,), lambda T, x: T.special.spherical_bessel_j0(x - 1)),
}


@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "blackman_window",
                                  "bartlett_window", "kaiser_window"])
def test_signal_windows_match_pytorch(torch, name):
    extra = {"hamming_window": (True, 0.5, 0.3), "kaiser_window": (False, 5.0)}.get(name, ())
    for length in (0, 1, 2, 7, 16):
        for args in ((), (False,), extra):
            ours = getattr(ft, name)(length, *args)
            theirs = getattr(torch, name)(length, *args)
            assert ours.dtype == ft.float32 and tuple(ours.shape) == tuple(theirs.shape)
            close(ours, theirs)
    ours = getattr(ft, name)(5, dtype=ft.float16, requires_grad=True)
    assert ours.dtype == ft.float16 and ours.requires_grad and ours.is_leaf
    for T in (torch, ft):
        with pytest.raises(RuntimeError, match=f"{name} expects floating point dtypes"):
            getattr(T, name)(4, dtype=T.long)
        with pytest.raises(RuntimeError, match=f"{name} requires non-negative window_length, "
                           "got window_length=-1"):
            getattr(T, name)(-1)


NUMERIC_HELPER_ERRORS = {
    "trapezoid x count": (RuntimeError, "trapezoid: There must be one `x` value for each "
                          "sample point", lambda T: T.trapezoid(T.ones(3), T.ones(2))),
    "vander 2-D": (RuntimeError, "x must be a one-dimensional tensor.",
                   lambda T: T.vander(T.ones(2, 2))),
    "unravel_index float": (TypeError, "expected 'indices' to be integer dtype, but got "
                            "torch.float32", lambda T: T.unravel_index(T.tensor([1.0]), (3,))),
    "unravel_index negative shape": (ValueError, r"'shape' cannot have negative values, but "
                                     r"got \(3, -4\)",
                                     lambda T: T.unravel_index(T.tensor([1]), (3, -4))),
    "polygamma negative": (RuntimeError, r"polygamma\(n, x\) does not support negative n.",
                           lambda T: T.polygamma(-1, T.ones(2))),
    "mvlgamma p": (RuntimeError, "p has to be greater than or equal to 1",
                   lambda T: T.mvlgamma(T.ones(2), 0)),
}




# -- named splits, slice scatters, renorm, frexp ------------------------------------------

SLICES = {
    "hsplit": ((T3,), lambda T, x: T.hsplit(x, 3)),
    "hsplit indices": ((T3,), lambda T, x: x.hsplit([1, 2])),
    "hsplit 1-D": ((V,), lambda T, v: T.hsplit(v, 3)),
    "vsplit": ((A,), lambda T, a: T.vsplit(a, 2)),
    "vsplit indices": ((A,), lambda T, a: a.vsplit([3])),
    "dsplit": ((T3,), lambda T, x: T.dsplit(x, [1, 3])),
    "dsplit sections": ((T3,), lambda T, x: x.dsplit(2)),
    "split_with_sizes": ((T3,), lambda T, x: T.split_with_sizes(x, [1, 2], 1)),
    "split_with_sizes method": ((A,), lambda T, a: a.split_with_sizes([3, 1])),
    "select_scatter": ((A, V), lambda T, a, v: T.select_scatter(a, v, 0, -1)),
    "select_scatter method": ((T3, A), lambda T, x, a: x.select_scatter(a.T[:2], 1, 2)),
    "slice_scatter": ((A, B), lambda T, a, b: T.slice_scatter(a, b[:2], 0, 1, None, 2)),
    "slice_scatter default": ((A, B), lambda T, a, b: a.slice_scatter(b)),
    "slice_scatter dim": ((T3, A), lambda T, x, a: T.slice_scatter(
        x, a[:2, :2].unsqueeze(1).expand(2, 3, 2), dim=2, start=-2)),
    "diagonal_scatter": ((SQ, V), lambda T, s, v: T.diagonal_scatter(s, v)),
    "diagonal_scatter offset": ((A, V), lambda T, a, v: a.diagonal_scatter(v[:2], -2)),
    "diagonal_scatter dims": ((T3, A), lambda T, x, a: T.diagonal_scatter(
        x, a[:3, :1], 1, 2, 0)),
    "renorm": ((A,), lambda T, a: T.renorm(a, 2, 0, 1.0)),
    "renorm p1 dim1": ((A,), lambda T, a: a.renorm(1, 1, 2.0)),
    "renorm inf": ((T3,), lambda T, x: T.renorm(x, float("inf"), 2, 0.5)),
    "renorm_": ((A,), lambda T, a: (a * 1).renorm_(3, 0, 0.8)),
    "frexp": ((A,), lambda T, a: T.frexp(a * 10)),
    "frexp method": ((NANS,), lambda T, n: T.nan_to_num(n, posinf=0, neginf=0).frexp()),
}


@pytest.mark.parametrize("name", list(SLICES))
def test_slices_renorm_and_frexp_match_pytorch(torch, name):
    inputs, fn = SLICES[name]
    ours = _both(torch, inputs, fn)
    if name.startswith("frexp"):  # PyTorch's named pair
        theirs = fn(torch, *(torch.tensor(v) for v in inputs))
        assert repr(ours).split("\n")[0] == repr(theirs).split("\n")[0]
        assert repr(ours).split("\n")[1].startswith("mantissa=tensor(")
        np.testing.assert_array_equal(ours.exponent.numpy(), theirs.exponent.numpy())
        close(ours.mantissa, theirs[0])


SLICE_ERRORS = {
    "hsplit divisible": (RuntimeError, "torch.hsplit attempted to split along dimension 1, "
                         "but the size of the dimension 3 is not divisible by the split_size 2!",
                         lambda T: T.hsplit(T.ones(2, 3, 4), 2)),
    "vsplit dims": (RuntimeError, "torch.vsplit requires a tensor with at least 2 dimension, "
                    "but got a tensor with 1 dimensions!", lambda T: T.vsplit(T.ones(3), 1)),
    "dsplit dims": (RuntimeError, "torch.dsplit requires a tensor with at least 3 dimension",
                    lambda T: T.dsplit(T.ones(2, 2), 1)),
    "hsplit 0-d": (RuntimeError, "torch.hsplit requires a tensor with at least 1 dimension",
                   lambda T: T.hsplit(T.tensor(1.0), 1)),
    "split_with_sizes sum": (RuntimeError, r"split_with_sizes expects split_sizes to sum "
                             r"exactly to 3 \(input tensor's size at dimension 1\), but got "
                             r"split_sizes=\[1, 1\]",
                             lambda T: T.ones(2, 3).split_with_sizes([1, 1], 1)),
    "select_scatter size": (RuntimeError, r"expected src to have a size equal to the slice of "
                            r"self. src size = \[2\], slice size = \[3\]",
                            lambda T: T.select_scatter(T.ones(2, 3), T.ones(2), 0, 0)),
    "select_scatter index": (IndexError, r"select\(\): index 5 out of range for tensor of "
                             r"size \[2, 3\] at dimension 0",
                             lambda T: T.select_scatter(T.ones(2, 3), T.ones(3), 0, 5)),
    "slice_scatter size": (RuntimeError, r"src size = \[3, 3\], slice size = \[2, 3\]",
                           lambda T: T.slice_scatter(T.ones(4, 3), T.ones(3, 3), 0, 0, 2)),
    "diagonal_scatter size": (RuntimeError, r"src size = \[2\], slice size = \[3\]",
                              lambda T: T.diagonal_scatter(T.ones(3, 3), T.ones(2))),
    "renorm maxnorm": (RuntimeError, "renorm: expected maxnorm to be >= 0 but got -1",
                       lambda T: T.renorm(T.ones(2, 3), 2, 0, -1)),
    "renorm p": (RuntimeError, "renorm: non-positive-norm not supported",
                 lambda T: T.renorm(T.ones(2, 3), -1, 0, 1)),
    "frexp int": (RuntimeError, r"torch.frexp\(\) only supports floating-point dtypes",
                  lambda T: T.frexp(T.tensor([1, 2]))),
}




# -- more in-place random fills, Python callables per element -----------------------------


def test_log_normal_cauchy_and_geometric_fills_draw_pytorchs_distributions(torch):
    n = 20000
    for T in (torch, ft):
        T.manual_seed(3)
        logs = T.empty(n).log_normal_(0.5, 0.4).numpy()
        assert logs.dtype == np.float32 and (logs > 0).all()
        assert abs(np.log(logs).mean() - 0.5) < 0.02 and abs(np.log(logs).std() - 0.4) < 0.02
        cauchy = T.empty(n).cauchy_(1.0, 2.0).numpy()
        assert abs(np.median(cauchy) - 1.0) < 0.1
        assert abs(np.percentile(cauchy, 75) - 3.0) < 0.15  # median + sigma
        counts = T.empty(n, dtype=T.long).geometric_(0.25).numpy()
        assert counts.min() >= 1 and abs(counts.mean() - 4.0) < 0.1
        assert T.empty(3, 2).geometric_(0.5).dtype == T.float32
    ft.manual_seed(4)
    first = ft.empty(5).cauchy_().numpy()
    ft.manual_seed(4)
    np.testing.assert_array_equal(ft.empty(5).cauchy_().numpy(), first)
    g = ft.Generator().manual_seed(1)
    assert ft.empty(4).log_normal_(generator=g).shape == (4,)


FILL_ERRORS = {
    "log_normal_ std": (RuntimeError, "log_normal_ expects std > 0.0, but found std=-1",
                        lambda T: T.ones(3).log_normal_(1, -1)),
    "geometric_ p": (RuntimeError, r"geometric_ expects p to be in \(0, 1\), but got p=1",
                     lambda T: T.ones(3).geometric_(1)),
    "cauchy_ sigma": (RuntimeError, "cauchy_ expects sigma > 0.0, but found sigma=0",
                      lambda T: T.ones(3).cauchy_(0, 0)),
    "cauchy_ long": (RuntimeError, "Cauchy distribution is a continuous probability "
                     "distribution. dtype must be a floating point",
                     lambda T: T.ones(3, dtype=T.long).cauchy_()),
    "apply_ requires grad": (RuntimeError, r"Can't call apply_\(\) on Variable that requires "
                             r"grad. Use var.detach\(\).apply_\(\) instead.",
                             lambda T: T.ones(2, requires_grad=True).apply_(abs)),
    "map_ broadcast": (RuntimeError, "The expanded size of the tensor",
                       lambda T: T.ones(2).map_(T.ones(3), max)),
}


def test_apply_and_map_call_python_per_element_as_pytorch(torch):
    results = []
    for T in (torch, ft):
        x = T.tensor(A)
        same = x.apply_(lambda v: v * 10 + 1)
        assert same is x
        x.map_(T.tensor(V), lambda a, b: a - 2 * b)
        ints = T.tensor(INTS.tolist()).apply_(lambda v: v // 2 + 0.7)  # cast to the dtype
        results.append((x.numpy(), ints.numpy(), str(ints.dtype)))
    (theirs, t_ints, t_dtype), (ours, o_ints, o_dtype) = results
    close(ours, theirs)
    np.testing.assert_array_equal(o_ints, t_ints)
    assert o_dtype == t_dtype


VIEW_COPIES = {
    "diagonal_copy": ((T3,), lambda T, x: T.diagonal_copy(x, 1, 1, 2)),
    "expand_copy": ((V,), lambda T, v: T.expand_copy(v, [2, 3])),
    "permute_copy": ((T3,), lambda T, x: T.permute_copy(x, (2, 0, 1))),
    "t_copy transpose_copy": ((A,), lambda T, a: (T.t_copy(a), T.transpose_copy(a, 0, 1))),
    "unsqueeze_copy squeeze_copy": ((A,), lambda T, a: T.squeeze_copy(
        T.unsqueeze_copy(a, 1) * 2)),
    "view_copy": ((T3,), lambda T, x: T.view_copy(x, [4, 6])),
    "select_copy slice_copy": ((T3,), lambda T, x: (T.select_copy(x, 1, -1),
                                                    T.slice_copy(x, 2, 1, None, 2))),
    "unbind_copy split_copy": ((A,), lambda T, a: tuple(T.unbind_copy(a, 1)) + tuple(
        T.split_copy(a, 3)) + tuple(T.split_with_sizes_copy(a, [1, 3]))),
    "narrow_copy": ((A,), lambda T, a: (T.narrow_copy(a, 0, 1, 2), a.narrow_copy(1, 0, 2))),
    # PyTorch has no derivative for detach_copy: its input is left without grad
    "alias_copy detach_copy": ((A,), lambda T, a: (T.alias_copy(a),
                                                   T.detach_copy(a.detach()))),
    "unsafe_split unsafe_chunk": ((A,), lambda T, a: tuple(a.unsafe_split(3)) + tuple(
        T.unsafe_chunk(a, 2, 1)) + tuple(T.unsafe_split_with_sizes(a, [1, 3]))),
    "fill": ((A,), lambda T, a: T.fill(a, 2.5) * a),
    "fill int": ((INTS,), lambda T, i: T.fill(i, 2.7)),
    "H mH adjoint": ((A, T3), lambda T, a, x: (a.H, x.mH, x.adjoint(), T.adjoint(a))),
    "angle": ((NANS,), lambda T, n: T.angle(n)),
    "angle int": ((INTS,), lambda T, i: i.angle()),
}
VIEW_COPY_ERRORS = {
    "H 3-D": (RuntimeError, r"tensor.H is only supported on matrices \(2-D tensors\). Got "
              r"3-D tensor. For batches of matrices, consider using tensor.mH",
              lambda T: T.ones(2, 3, 4).H),
    "mH 1-D": (RuntimeError, "tensor.mH is only supported on matrices or batches of "
               "matrices. Got 1-D tensor.", lambda T: T.ones(3).mH),
    "adjoint 1-D": (RuntimeError, r"tensor.adjoint\(\) is only supported on matrices or "
                    r"batches of matrices. Got 1-D tensor.", lambda T: T.ones(3).adjoint()),
}

#: the names added above: the torch.* names of the functional ops, the matrix products,
#: the numeric helpers, torch.special and the view copies
ADDED_NAMES = {**TORCH_NN_NAMES, **MATRIX_PRODUCTS, **NUMERIC_HELPERS, **VIEW_COPIES}
assert len(ADDED_NAMES) == len(TORCH_NN_NAMES) + len(MATRIX_PRODUCTS) + \
    len(NUMERIC_HELPERS) + len(VIEW_COPIES)


@pytest.mark.filterwarnings("ignore:torch.chain_matmul is deprecated")
@pytest.mark.parametrize("name", list(ADDED_NAMES))
def test_added_names_match_pytorch(torch, name):
    inputs, fn = ADDED_NAMES[name]
    _both(torch, inputs, fn)


#: the errors of the names added above, each as PyTorch raises it
ADDED_NAME_ERRORS = {**TORCH_NN_ERRORS, **MATRIX_PRODUCT_ERRORS, **NUMERIC_HELPER_ERRORS,
                     **SLICE_ERRORS, **FILL_ERRORS, **VIEW_COPY_ERRORS}


@pytest.mark.filterwarnings("ignore:torch.chain_matmul is deprecated")
@pytest.mark.parametrize("name", list(ADDED_NAME_ERRORS))
def test_added_names_raise_pytorchs_errors(torch, name):
    _raise_alike(torch, *ADDED_NAME_ERRORS[name])


# -- dtypes and edge values PyTorch prints ------------------------------------------------

#: each result printed: the values, their dtype (uint8 sums and scans are int64) and the
#: sign of a zero (``sign(-0.0)`` is ``0.``)
PRINTED_ALIKE = {
    "sum of uint8": lambda T: T.tensor([200, 100], dtype=T.uint8).sum(0),
    "cumsum of uint8": lambda T: T.tensor([200, 100], dtype=T.uint8).cumsum(0),
    "cumprod of bool": lambda T: T.cumprod(T.tensor([True, True, False]), dim=0),
    "prod of uint8": lambda T: T.tensor([200, 100], dtype=T.uint8).prod(),
    "cumsum of int8": lambda T: T.tensor([100, 100], dtype=T.int8).cumsum(0),
    "cumsum with dtype": lambda T: T.tensor([200, 100], dtype=T.uint8).cumsum(
        0, dtype=T.float32),
    "sign of zeros": lambda T: (T.sign(T.tensor([-0.0, 0.0, -2.0])),
                                T.tensor([-0.0, 3.0]).sgn()),
    "isclose equal_nan": lambda T: T.isclose(T.tensor([1.0, math.nan, math.inf, 2.0]),
                                             T.tensor([1.0, math.nan, math.inf, 2.1]),
                                             equal_nan=True),
    "isclose infinities": lambda T: T.tensor([math.inf, -math.inf, math.nan]).isclose(
        T.tensor([math.inf, math.inf, math.nan])),
    "isclose of bools and of integers": lambda T: (
        T.isclose(T.tensor([True, False]), T.tensor([True, True]), atol=1.5),
        T.isclose(T.tensor([1, 5]), T.tensor([2, 2]), atol=1),
        T.allclose(T.tensor([1, 2]), T.tensor([1, 2]), rtol=0, atol=0)),
    "squeeze dims": lambda T: (T.zeros(1, 2, 1, 3).squeeze((0, 2)).shape,
                               T.zeros(1, 2, 1).squeeze([-1, 1]).shape,
                               T.squeeze(T.zeros(1, 2, 1), (0, 2)).shape),
}


@pytest.mark.parametrize("name", list(PRINTED_ALIKE))
def test_results_print_as_pytorchs(torch, name):
    assert repr(PRINTED_ALIKE[name](ft)) == repr(PRINTED_ALIKE[name](torch))


EDGE_ERRORS = {
    "squeeze dims out of range": (IndexError, re.escape(
        "Dimension out of range (expected to be in range of [-2, 1], but got 5)"),
        lambda T: T.zeros(1, 2).squeeze((0, 5))),
    "dot of Long and Float": (RuntimeError, "dot : expected both vectors to have same "
                              "dtype, but found Long and Float",
                              lambda T: T.dot(T.tensor([1, 2]), T.tensor([1.0, 2.0]))),
}


@pytest.mark.parametrize("name", list(EDGE_ERRORS))
def test_edge_errors_match_pytorch(torch, name):
    _raise_alike(torch, *EDGE_ERRORS[name])


@pytest.mark.optimized
@pytest.mark.parametrize("weight", [0.3, 0.9, -0.7, "tensor"])
def test_lerp_rounds_as_pytorchs_kernel(torch, weight):
    """PyTorch's lerp starts from ``end`` once ``|weight| >= 0.5`` (an EMA's
    ``ema.lerp_(p, 0.9)``), with a fused multiply-add as XLA's optimised CPU programs
    compute it: bit for bit, not within a tolerance."""
    rng = np.random.default_rng(4)
    start, end = (rng.standard_normal(2000).astype(np.float32) for _ in range(2))
    weights = rng.uniform(-1, 1, 2000).astype(np.float32)

    def run(T):
        w = T.tensor(weights) if weight == "tensor" else weight
        return T.lerp(T.tensor(start), T.tensor(end), w).numpy()

    np.testing.assert_array_equal(run(ft), run(torch))
