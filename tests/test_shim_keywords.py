"""fnnet.torch takes the keyword names PyTorch's functions take.

``torch.amax(input=x, dim=1)``, ``torch.det(input=m)``, ``x.dot(tensor=v)``: a shim
function whose parameter has another name (``self``, ``A``, ``x``) raises a TypeError that a
PyTorch program never sees. Each call below runs under PyTorch and under fnnet.torch with
the same keywords and inputs, and the values must agree.
"""

from __future__ import annotations

import inspect
import re
import types
from typing import Any

import numpy as np
import pytest

import fnnet.torch as ft

P = inspect.Parameter

pytestmark = [pytest.mark.torch,
              pytest.mark.filterwarnings("ignore:torch.triangular_solve is deprecated")]

_RNG = np.random.default_rng(0)
_X = _RNG.uniform(-1, 1, (3, 4)).astype(np.float32)  # 3 x 4 floats
_M = (_RNG.uniform(-1, 1, (3, 3)) + 3 * np.eye(3)).astype(np.float32)  # invertible
_V = np.array([0.5, -1.0, 2.0], np.float32)
_INTS = np.array([[3, 1, 6, 1], [5, 2, 2, 7], [0, 4, 4, 1]])
_MASK = _X > 0


def _inputs(T: Any) -> types.SimpleNamespace:
    """The same inputs as ``T``'s tensors (``T`` is ``torch`` or ``fnnet.torch``)."""
    return types.SimpleNamespace(
        x=T.tensor(_X), m=T.tensor(_M), v=T.tensor(_V), ints=T.tensor(_INTS),
        mask=T.tensor(_MASK), cube=T.tensor(_X.reshape(2, 2, 3)),
        batch=T.tensor(np.stack([_M, _M.T])), idx=T.tensor(np.array([2, 0])),
        spd=T.tensor(_M @ _M.T), sorted=T.tensor(np.array([-0.5, 0.0, 0.5], np.float32)))


#: ``torch.<name>(input=...)``: functions that are also Tensor methods, given the tensor by keyword.
INPUT_KEYWORD_CALLS = {
    "addbmm": lambda T, a: T.addbmm(input=a.m, batch1=a.batch, batch2=a.batch, beta=0.5),
    "addmv": lambda T, a: T.addmv(input=a.v, mat=a.m, vec=a.v, alpha=2),
    "addmv_": lambda T, a: T.addmv_(input=a.v.clone(), mat=a.m, vec=a.v),
    "addr": lambda T, a: T.addr(input=a.m, vec1=a.v, vec2=a.v),
    "adjoint": lambda T, a: T.adjoint(input=a.x),
    "amax": lambda T, a: T.amax(input=a.x, dim=1, keepdim=True),
    "amin": lambda T, a: T.amin(input=a.x, dim=0),
    "aminmax": lambda T, a: T.aminmax(input=a.x, dim=1),
    "angle": lambda T, a: T.angle(input=a.x),
    "baddbmm": lambda T, a: T.baddbmm(input=a.batch, batch1=a.batch, batch2=a.batch),
    "bitwise_and": lambda T, a: T.bitwise_and(input=a.ints, other=a.ints.T.reshape(3, 4)),
    "bitwise_left_shift": lambda T, a: T.bitwise_left_shift(input=a.ints, other=2),
    "bitwise_not": lambda T, a: T.bitwise_not(input=a.ints),
    "bitwise_or": lambda T, a: T.bitwise_or(input=a.ints, other=5),
    "bitwise_right_shift": lambda T, a: T.bitwise_right_shift(input=a.ints, other=1),
    "bitwise_xor": lambda T, a: T.bitwise_xor(input=a.ints, other=3),
    "bucketize": lambda T, a: T.bucketize(input=a.x, boundaries=a.sorted, right=True),
    "conj": lambda T, a: T.conj(input=a.x),
    "conj_physical": lambda T, a: T.conj_physical(input=a.x),
    "corrcoef": lambda T, a: T.corrcoef(input=a.x),
    "cov": lambda T, a: T.cov(input=a.x, correction=0),
    "diag_embed": lambda T, a: T.diag_embed(input=a.v, offset=1),
    "diagflat": lambda T, a: T.diagflat(input=a.v, offset=-1),
    "diagonal_scatter": lambda T, a: T.diagonal_scatter(input=a.m, src=a.v, offset=0),
    "diff": lambda T, a: T.diff(input=a.x, n=2, dim=1),
    "dist": lambda T, a: T.dist(input=a.x, other=a.x * 2, p=1),
    "dsplit": lambda T, a: T.dsplit(input=a.cube, sections=3),
    "ger": lambda T, a: T.ger(input=a.v, vec2=a.v),
    "histc": lambda T, a: T.histc(input=a.x, bins=4, min=-1, max=1),
    "hsplit": lambda T, a: T.hsplit(input=a.x, sections=2),
    "imag": lambda T, a: T.imag(input=T.complex(a.v, a.v * 2)),
    "index_add": lambda T, a: T.index_add(input=a.x, dim=0, index=a.idx, source=a.x[:2]),
    "index_copy": lambda T, a: T.index_copy(input=a.x, dim=0, index=a.idx, source=a.x[:2]),
    "index_fill": lambda T, a: T.index_fill(input=a.x, dim=1, index=a.idx, value=7.0),
    "index_put": lambda T, a: T.index_put(input=a.x, indices=(a.idx,), values=a.x[0]),
    "inner": lambda T, a: T.inner(input=a.v, other=a.v),
    "is_complex": lambda T, a: T.is_complex(input=a.x),
    "is_conj": lambda T, a: T.is_conj(input=a.x),
    "is_neg": lambda T, a: T.is_neg(input=a.x),
    "is_same_size": lambda T, a: T.is_same_size(input=a.x, other=a.m),
    "is_signed": lambda T, a: T.is_signed(input=a.ints),
    "kthvalue": lambda T, a: T.kthvalue(input=a.x, k=2, dim=1),
    "logcumsumexp": lambda T, a: T.logcumsumexp(input=a.x, dim=1),
    "logical_and": lambda T, a: T.logical_and(input=a.x, other=a.mask),
    "logical_not": lambda T, a: T.logical_not(input=a.mask),
    "logical_or": lambda T, a: T.logical_or(input=a.x, other=a.mask),
    "logical_xor": lambda T, a: T.logical_xor(input=a.x, other=a.mask),
    "masked_scatter": lambda T, a: T.masked_scatter(input=a.x, mask=a.mask, source=a.x * 3),
    "mode": lambda T, a: T.mode(input=a.ints, dim=1),
    "msort": lambda T, a: T.msort(input=a.x),
    "nanmedian": lambda T, a: T.nanmedian(input=a.x, dim=1),
    "nanquantile": lambda T, a: T.nanquantile(input=a.x, q=0.25, dim=1, keepdim=True),
    "positive": lambda T, a: T.positive(input=a.x),
    "quantile": lambda T, a: T.quantile(input=a.x, q=0.5, dim=0, interpolation="lower"),
    "real": lambda T, a: T.real(input=a.x),
    "renorm": lambda T, a: T.renorm(input=a.x, p=2, dim=0, maxnorm=1),
    "resolve_conj": lambda T, a: T.resolve_conj(input=a.x),
    "resolve_neg": lambda T, a: T.resolve_neg(input=a.x),
    "scatter_reduce": lambda T, a: T.scatter_reduce(
        input=a.x, dim=1, index=a.ints % 4, src=a.x, reduce="amax", include_self=False),
    "select_scatter": lambda T, a: T.select_scatter(input=a.x, src=a.x[1], dim=0, index=2),
    "slice_scatter": lambda T, a: T.slice_scatter(input=a.x, src=a.x[:, :2], dim=1, end=2),
    "split_with_sizes": lambda T, a: T.split_with_sizes(input=a.x, split_sizes=[1, 3], dim=1),
    "take": lambda T, a: T.take(input=a.x, index=a.idx),
    "tensor_split": lambda T, a: T.tensor_split(a.x, 2, dim=1),
    "unsafe_split_with_sizes": lambda T, a: T.unsafe_split_with_sizes(
        input=a.x, split_sizes=[2, 1]),
    "vdot": lambda T, a: T.vdot(input=a.v, other=a.v),
    "vsplit": lambda T, a: T.vsplit(input=a.x, sections=3),
    "conj_physical_": lambda T, a: T.conj_physical_(input=a.x.clone()),
}


#: calls with PyTorch's names for parameters the shim named otherwise (``A``, ``a``/``b``,
#: ``tensor``, ``other``...).
RENAMED_CALLS = {
    "det": lambda T, a: T.det(input=a.m),
    "inverse": lambda T, a: T.inverse(input=a.m),
    "logdet": lambda T, a: T.logdet(input=a.spd),
    "slogdet": lambda T, a: T.slogdet(input=a.m),
    "matrix_exp": lambda T, a: T.matrix_exp(input=a.m * 0.1),
    "matrix_power": lambda T, a: T.matrix_power(input=a.m, n=3),
    "cholesky_inverse": lambda T, a: T.cholesky_inverse(input=T.linalg.cholesky(a.spd)),
    "cholesky_solve": lambda T, a: T.cholesky_solve(
        input=a.m, input2=T.linalg.cholesky(a.spd), upper=False),
    "triangular_solve": lambda T, a: T.triangular_solve(input=a.m, A=a.m.triu(), upper=True),
    "allclose": lambda T, a: T.allclose(input=a.x, other=a.x + 1e-3, atol=1e-2),
    "isclose": lambda T, a: T.isclose(input=a.x, other=a.x * 1.1, rtol=0.05),
    "Tensor.isclose": lambda T, a: a.x.isclose(other=a.x * 1.1, rtol=0.05),
    "numel": lambda T, a: T.numel(input=a.x),
    "one_hot": lambda T, a: T.nn.functional.one_hot(input=a.idx, num_classes=4),
    "result_type": lambda T, a: str(T.result_type(tensor=a.ints, other=a.x)),
    "unsafe_split": lambda T, a: T.unsafe_split(input=a.x, split_size=3, dim=1),
    "dot": lambda T, a: T.dot(input=a.v, tensor=a.v),
    "Tensor.dot": lambda T, a: a.v.dot(tensor=a.v),
    "Tensor.pow_": lambda T, a: a.x.clone().pow_(exponent=2),
    "Tensor.copy_": lambda T, a: a.x.clone().copy_(other=a.x * 3, non_blocking=False),
    "Tensor.map_": lambda T, a: a.v.clone().map_(other=a.v * 2, callable=lambda p, q: p - q),
    "Tensor.float": lambda T, a: a.ints.float(memory_format=T.preserve_format),
    "Tensor.long": lambda T, a: a.x.long(memory_format=T.contiguous_format),
    "Tensor.float of x[mask]": lambda T, a: a.x[a.mask].float(memory_format=None).sum(),
    "Tensor.type": lambda T, a: a.ints.type(dtype=T.float32, non_blocking=False),
    "Tensor.numpy": lambda T, a: (a.x * T.ones(1, requires_grad=True)).numpy(force=True),
    # torch.linalg's bindings name the matrix input (A in its documentation)
    "linalg.cholesky": lambda T, a: T.linalg.cholesky(input=a.spd, upper=True),
    "linalg.eigh": lambda T, a: T.linalg.eigh(input=a.spd).eigenvalues,
    "linalg.eigvalsh": lambda T, a: T.linalg.eigvalsh(input=a.spd, UPLO="U"),
    "linalg.lstsq": lambda T, a: T.linalg.lstsq(input=a.m, b=a.x[:, :2]).solution,
    "linalg.cond": lambda T, a: T.linalg.cond(input=a.m),
    "linalg.matrix_norm": lambda T, a: T.linalg.matrix_norm(input=a.m, ord=1),
    "linalg.norm": lambda T, a: T.linalg.norm(input=a.x, dim=1),
    "linalg.matrix_power": lambda T, a: T.linalg.matrix_power(input=a.m, n=2),
    "linalg.matrix_exp": lambda T, a: T.linalg.matrix_exp(input=a.m * 0.1),
    "linalg.solve_triangular": lambda T, a: T.linalg.solve_triangular(
        input=a.m.triu(), B=a.x[:, :2], upper=True),
    "linalg.matrix_rank": lambda T, a: T.linalg.matrix_rank(input=a.m, hermitian=False),
    "linalg.vector_norm(input=)": lambda T, a: T.linalg.vector_norm(input=a.x, ord=1),
    "linalg.pinv(rcond)": lambda T, a: T.linalg.pinv(a.m, 1e-5),
    "linalg.pinv(input=, rcond=)": lambda T, a: T.linalg.pinv(input=a.m, rcond=1e-5,
                                                               hermitian=False),
}


#: one parameter under the names of PyTorch's several overloads, or a shape given as one
#: keyword where the method also takes several numbers.
OVERLOAD_CALLS = {
    "hsplit(indices=)": lambda T, a: T.hsplit(input=a.x, indices=[1, 3]),
    "vsplit(indices=)": lambda T, a: a.x.vsplit(indices=[2]),
    "dsplit(indices=)": lambda T, a: T.dsplit(a.cube, indices=(1,)),
    "tensor_split(sections=)": lambda T, a: T.tensor_split(input=a.x, sections=3, dim=1),
    "tensor_split(indices=)": lambda T, a: a.x.tensor_split(indices=[1], dim=0),
    "tensor_split(tensor_indices_or_sections=)": lambda T, a: T.tensor_split(
        a.x, tensor_indices_or_sections=T.tensor([1, 2]), dim=1),
    "max(other=)": lambda T, a: T.max(input=a.x, other=a.x.flip(0)),
    "min(other=)": lambda T, a: a.x.min(other=a.x * 0),
    "max(dim=)": lambda T, a: T.max(input=a.x, dim=1, keepdim=True),
    "tile(dims=)": lambda T, a: T.tile(input=a.x, dims=(2, 1)),
    "Tensor.tile(dims=)": lambda T, a: a.v.tile(dims=[3]),
    "Tensor.sum_to_size(size=)": lambda T, a: a.x.sum_to_size(size=(1, 4)),
    "isin(test_element=)": lambda T, a: T.isin(elements=a.ints, test_element=4),
    "isin(element=)": lambda T, a: T.isin(element=4, test_elements=a.ints),
    "randint_like(high=)": lambda T, a: str(T.randint_like(a.ints, high=3).dtype),
    "randint_like(low=, high=)": lambda T, a: T.randint_like(a.x, low=2, high=3),
}


#: the factories' layout=, pin_memory= and memory_format= (strided is the one layout;
#: memory layouts are XLA's): values compared where they are defined, shapes elsewhere.
FACTORY_CALLS = {
    "zeros": lambda T, a: T.zeros(2, 3, layout=T.strided, pin_memory=False),
    "ones": lambda T, a: T.ones(size=(2,), layout=T.strided),
    "empty": lambda T, a: T.empty(2, memory_format=T.contiguous_format).shape,
    "full": lambda T, a: T.full((2,), 3.0, layout=T.strided, pin_memory=False),
    "tensor": lambda T, a: T.tensor([1, 2], pin_memory=False),
    "arange": lambda T, a: T.arange(5, layout=T.strided, pin_memory=False),
    "eye": lambda T, a: T.eye(2, layout=T.strided),
    "linspace": lambda T, a: T.linspace(0, 1, 3, pin_memory=False),
    "logspace": lambda T, a: T.logspace(0, 1, 3, layout=T.strided),
    "scalar_tensor": lambda T, a: T.scalar_tensor(2.0, layout=T.strided),
    "rand": lambda T, a: T.rand(2, layout=T.strided, pin_memory=False).shape,
    "randn": lambda T, a: T.randn(2, 2, layout=T.strided).shape,
    "randint": lambda T, a: T.randint(5, (3,), layout=T.strided).shape,
    "randperm": lambda T, a: T.randperm(4, pin_memory=False).shape,
    "normal": lambda T, a: T.normal(0.0, 1.0, size=(2,), layout=T.strided).shape,
    "tril_indices": lambda T, a: T.tril_indices(3, 3, pin_memory=False),
    "hann_window": lambda T, a: T.hann_window(4, pin_memory=False),
    "zeros_like": lambda T, a: T.zeros_like(a.x, memory_format=T.preserve_format),
    "ones_like": lambda T, a: T.ones_like(a.x, layout=T.strided, pin_memory=False),
    "full_like": lambda T, a: T.full_like(a.x, 2.0, memory_format=T.preserve_format),
    "empty_like": lambda T, a: T.empty_like(a.x, memory_format=T.preserve_format).shape,
    "rand_like": lambda T, a: T.rand_like(a.x, memory_format=T.preserve_format).shape,
    "randn_like": lambda T, a: T.randn_like(a.x, memory_format=T.preserve_format).shape,
    "randint_like": lambda T, a: T.randint_like(a.x, 5, memory_format=T.preserve_format
                                                ).shape,
    "Tensor.new_zeros": lambda T, a: a.x.new_zeros(2, layout=T.strided, pin_memory=False),
    "Tensor.new_ones": lambda T, a: a.x.new_ones((2,), layout=T.strided),
    "Tensor.new_full": lambda T, a: a.x.new_full((2,), 5.0, pin_memory=False),
    "Tensor.new_empty": lambda T, a: a.x.new_empty(2, layout=T.strided).shape,
    "fft.fftfreq": lambda T, a: T.fft.fftfreq(4, pin_memory=False),
    "fft.rfftfreq": lambda T, a: T.fft.rfftfreq(4, layout=T.strided, pin_memory=False),
}


def _values(out: Any) -> Any:
    """``out`` as numpy arrays and plain values (tuples, named tuples and lists of
    tensors element by element)."""
    if hasattr(out, "numel") and not hasattr(out, "numpy"):  # a torch.Size
        return tuple(out)
    if isinstance(out, (tuple, list)):
        return [_values(item) for item in out]
    if hasattr(out, "numpy"):
        return out.detach().numpy() if hasattr(out, "detach") else out.numpy()
    return out


def _assert_same(got: Any, expected: Any, what: str) -> None:
    if isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected), what
        for g, e in zip(got, expected, strict=True):
            _assert_same(g, e, what)
    elif isinstance(expected, np.ndarray):
        # the keywords are under test, not the last digits (matrix_exp's algorithms differ)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5, err_msg=what)
    else:
        assert got == expected, what


def _check_call(torch: Any, name: str, call: Any) -> None:
    expected = _values(call(torch, _inputs(torch)))
    got = _values(call(ft, _inputs(ft)))
    _assert_same(got, expected, name)


@pytest.mark.parametrize("name", sorted(INPUT_KEYWORD_CALLS))
def test_functions_take_their_tensor_as_input(torch, name):
    _check_call(torch, name, INPUT_KEYWORD_CALLS[name])


@pytest.mark.parametrize("name", sorted(RENAMED_CALLS))
def test_renamed_parameters_take_pytorchs_names(torch, name):
    _check_call(torch, name, RENAMED_CALLS[name])


def test_set_default_device_takes_device_keyword(torch):
    for T in (torch, ft):
        T.set_default_device(device="cpu")
        assert T.get_default_device().type == "cpu"
        T.set_default_device(device=None)


@pytest.mark.parametrize("name", sorted(OVERLOAD_CALLS))
def test_overloads_take_each_overloads_names(torch, name):
    _check_call(torch, name, OVERLOAD_CALLS[name])


def test_svd_driver_is_cudas_only(torch):
    for T in (torch, ft):
        for svd in (T.linalg.svd, T.linalg.svdvals):
            with pytest.raises(RuntimeError, match="keyword argument `driver=` is only "
                                                   "supported on CUDA inputs"):
                svd(T.tensor(_M), driver="gesvd")


@pytest.mark.parametrize("call", [lambda x: x.hsplit(), lambda x: x.hsplit(2, indices=[1])])
def test_overloaded_argument_given_twice_or_not_at_all_is_a_type_error(torch, call):
    expected = "hsplit() received an invalid combination of arguments"
    for T in (torch, ft):
        with pytest.raises(TypeError, match=re.escape(expected)):
            call(T.ones(4, 4))


@pytest.mark.parametrize("name", sorted(FACTORY_CALLS))
def test_factories_take_layout_pin_memory_and_memory_format(torch, name):
    _check_call(torch, name, FACTORY_CALLS[name])


@pytest.mark.parametrize("make", [lambda T: T.zeros(2, pin_memory=True),
                                  lambda T: T.tensor([1.0], pin_memory=True)])
def test_pin_memory_without_an_accelerator_is_pytorchs_error(torch, make):
    if ft.cuda.is_available() or torch.cuda.is_available():
        pytest.skip("pinned memory is allowed with an accelerator")
    for T in (torch, ft):
        with pytest.raises(RuntimeError, match="pin_memory=True requires a CUDA or other "
                                               "accelerator backend"):
            make(T)


#: constructors' keywords: the parameters' names, the repr and the output agree
MODULE_CALLS = {
    "InstanceNorm1d(bias=False)": lambda T: T.nn.InstanceNorm1d(3, affine=True, bias=False),
    "LazyInstanceNorm1d(bias=False)": lambda T: T.nn.LazyInstanceNorm1d(bias=False),
    "SyncBatchNorm(bias=False)": lambda T: T.nn.SyncBatchNorm(3, bias=False).eval(),
    "Hardtanh(min_value=, max_value=)": lambda T: T.nn.Hardtanh(min_value=-0.5, max_value=0.5),
}


@pytest.mark.parametrize("name", sorted(MODULE_CALLS))
@pytest.mark.filterwarnings("ignore:keyword argument `m")  # Hardtanh's deprecated names
def test_module_constructors_take_pytorchs_keywords(torch, name):
    x = _RNG.uniform(-1, 1, (2, 3, 4)).astype(np.float32)
    outputs, names, reprs = [], [], []
    for T in (torch, ft):
        module = MODULE_CALLS[name](T)
        outputs.append(module(T.tensor(x)).detach().numpy())
        names.append([n for n, _ in module.named_parameters()])
        reprs.append(repr(module))
    assert names[1] == names[0]
    if not name.startswith("SyncBatchNorm"):  # fnnet's repr names its process axis too
        assert reprs[1] == reprs[0]
    np.testing.assert_allclose(outputs[1], outputs[0], rtol=1e-5, atol=1e-5)


def test_module_and_optimizer_methods_take_pytorchs_keywords(torch):
    results = []
    for T in (torch, ft):
        T.manual_seed(0)
        shared = T.nn.Linear(2, 2)
        model = T.nn.Sequential(shared, shared, T.nn.RMSNorm(2))
        out = model[2].forward(x=T.tensor(_X[:, :2]))
        results.append((len(list(model.modules(remove_duplicate=False))),
                        out.detach().numpy()))
    assert results[1][0] == results[0][0]
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-5, atol=1e-6)
    # PyTorch's optimizers are not built here: the first one imports its compiler (seconds)
    optimizer = ft.optim.SGD(ft.nn.Linear(2, 2).parameters(), lr=0.1)
    optimizer.add_param_group(param_group={"params": ft.nn.Linear(2, 1).parameters(),
                                           "lr": 0.5})
    assert [g["lr"] for g in optimizer.param_groups] == [0.1, 0.5]


def test_other_modules_take_pytorchs_keywords(torch):
    """torch.distributions, torch.cuda and torch.from_dlpack under PyTorch's keywords."""
    got = []
    for T in (torch, ft):
        D = T.distributions
        mixture = D.MixtureSameFamily(D.Categorical(logits=T.tensor([0.3, -0.2])),
                                      D.Normal(T.tensor([0.0, 1.0]), T.tensor([1.0, 0.5])))
        points = T.tensor(_V)
        got.append([mixture.log_prob(x=points).numpy(), mixture.cdf(x=points).numpy(),
                    T.from_dlpack(_V, device="cpu", copy=True).numpy(),
                    # the same answer where neither has a GPU
                    T.cuda.is_bf16_supported(including_emulation=True) and
                    ft.cuda.is_available() and torch.cuda.is_available()])
    for ours, theirs in zip(got[1], got[0], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("loss", ["mse_loss", "l1_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses_take_element_weights(torch, loss, reduction):
    """PyTorch 2.13's ``weight=`` of mse_loss and l1_loss: values and gradients."""
    results = []
    for T in (torch, ft):
        x = T.tensor(_X, requires_grad=True)
        out = getattr(T.nn.functional, loss)(input=x, target=T.tensor(_X * 0.5 + 0.1),
                                             reduction=reduction, weight=T.tensor(_X + 2))
        out.sum().backward()
        results.append((out.detach().numpy(), x.grad.numpy()))
    for ours, theirs in zip(results[1], results[0], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("loss", ["mse_loss", "l1_loss"])
def test_element_weights_with_a_broadcast_target_warn_at_the_call_as_pytorch(torch, loss):
    """A ``[N, 1]`` input against an ``[N]`` target: PyTorch's size warning names the
    caller's line, and the weighted errors broadcast as PyTorch's do."""
    results = []
    for T in (torch, ft):
        x = T.tensor(_X[:, :1], requires_grad=True)
        with pytest.warns(UserWarning, match="Using a target size") as caught:
            out = getattr(T.nn.functional, loss)(x, T.tensor(_X[:, 1]), reduction="sum",
                                                 weight=T.tensor(_X[:, 2:3] + 2))
        out.backward()
        assert [w.filename for w in caught] == [__file__]
        results.append((out.item(), x.grad.numpy()))
    assert results[1][0] == pytest.approx(results[0][0], rel=1e-5)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-5, atol=1e-6)


def test_element_weights_of_another_shape_are_pytorchs_error(torch):
    for T in (torch, ft):
        with pytest.raises(ValueError, match="Weights and input must have the same size."):
            T.nn.functional.mse_loss(T.tensor(_X), T.tensor(_X), weight=T.tensor(_V))


def test_compile_takes_pytorchs_keywords():
    # PyTorch's torch.compile(model, ...) returns an OptimizedModule too (not called here:
    # importing its compiler takes seconds)
    compiled = ft.compile(ft.nn.Linear(2, 2), name="step", recompile_limit=4,
                          isolate_recompiles=False, shapes_spec=None)
    assert type(compiled).__name__ == "OptimizedModule"


# -- the guard: every signature against PyTorch's ------------------------------------

#: PyTorch's keyword names that fnnet.torch does not take, on purpose, by function
ALLOWED_MISSING = {
    # out_dtype: CUDA's lower-precision outputs (PyTorch's CPU build refuses them too)
    **{name: {"out_dtype"} for name in ("torch.mm", "torch.bmm", "torch.addmm",
                                        "torch.baddbmm", "Tensor.mm", "Tensor.bmm",
                                        "Tensor.addmm", "Tensor.baddbmm")},
    # a number as the first operand is named self in ATen's scalar overloads
    # (torch.pow(self=2, exponent=x)); fnnet.torch takes it by position
    **{f"torch.{name}": {"self"} for name in (
        "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
        "bitwise_right_shift", "bucketize", "float_power", "pow", "remainder", "xlogy",
        "searchsorted", "where")},
    "special.xlog1py": {"self"}, "special.zeta": {"self"},
    # PyTorch's CPU build has a placeholder Event class taking anything
    "cuda.Event": {"obj"},
    # a storage is the read-only snapshot Tensor.storage() makes, never built by hand
    "torch.TypedStorage": {"device", "dtype", "wrap_storage"},
    "torch.result_type": {"scalar", "scalar1", "scalar2"},
    # TorchScript's overloads in ATen's registry, which Python's torch.<name> refuses too
    "torch.tensor": {"t"}, "torch.as_tensor": {"t"}, "torch.eq": {"a", "b"},
    "torch.ne": {"a", "b"}, "torch.sort": {"reverse"}, "Tensor.sort": {"reverse"},
    "Tensor.expand": {"implicit"},
    "Tensor.copy_": {"src"},  # ATen's name; Python's Tensor.copy_ names it other
    # from is a Python keyword: PyTorch's own from_ is the name a program can write
    "Tensor.random_": {"from"}, "Tensor.uniform_": {"from"},
    # view(dtype) reinterprets memory, which fnnet.torch does not support at all
    "Tensor.view": {"dtype"},
    # fnnet.torch draws RReLU's slopes from jax keys, not from a torch.Generator
    "torch.rrelu": {"generator"}, "torch.rrelu_": {"generator"}, "F.rrelu_": {"generator"},
    "F.elu_": {"scale", "input_scale"},  # ATen's internal SELU constants
    # ATen's size-only overload (an empty sparse tensor) has TensorOptions' layout, which
    # Python's torch.sparse_coo_tensor refuses too
    "torch.sparse_coo_tensor": {"layout"},
    # deprecated aliases
    "autograd.backward": {"grad_variables"},
}

#: functions whose positional order is PyTorch's only up to a point, on purpose
ALLOWED_ORDER = {
    "torch.norm",  # PyTorch's positional out= (before dtype) is not taken
    "torch.rrelu",  # F.rrelu's signature (inplace where ATen's has generator)
    "nn.RNNCellBase",  # PyTorch's internal gate count
    "autograd.backward",  # the deprecated grad_variables
    "Tensor.uniform_", "Tensor.random_",  # from_ for PyTorch's from (see above)
    "linalg.vector_norm",  # x, the documented name, first; input= is taken too
    "cuda.Event",  # PyTorch's CPU build has a placeholder class taking anything
}


def _aten_overloads(name: str, method: bool) -> list[list[tuple[str, bool, bool]]]:
    """``[(name, keyword_only, optional), ...]`` of each Python-visible overload of ``aten::name``:
    out= forms and Dimname forms left out, the tensor ``self`` named ``input`` as the
    Python binding names it (and left out of a method's)."""
    import torch

    overloads = []
    for schema in torch._C._jit_get_schemas_for_operator(f"aten::{name}"):
        args = schema.arguments
        if not args or "Dimname" in str(schema) or any(
                a.kwarg_only and a.alias_info is not None and a.alias_info.is_write
                for a in args):
            continue
        tensor_first = args[0].name == "self" and "Tensor" in str(args[0].type)
        if (method and not tensor_first) or not any(
                "Tensor" in str(a.type) or a.kwarg_only for a in args):
            continue
        overloads.append([("input" if a.name == "self" and "Tensor" in str(a.type) else
                           a.name, a.kwarg_only, a.has_default_value())
                          for a in args[1 if method else 0:]])
    return overloads


def _signature(fn: Any) -> inspect.Signature | None:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


def _theirs(fn: Any, name: str, method: bool, prefix: str = ""
            ) -> list[list[tuple[str, bool, bool]]]:
    if not isinstance(fn, type) and (inspect.isfunction(fn) or hasattr(fn, "__wrapped__")):
        sig = _signature(fn)
        if sig is None:
            return []
        params = [(p.name, p.kind == P.KEYWORD_ONLY, p.default is not P.empty)
                  for p in sig.parameters.values()
                  if p.kind not in (P.VAR_POSITIONAL, P.VAR_KEYWORD)]
        return [params[1:] if method and params and params[0][0] == "self" else params]
    return _aten_overloads(prefix + name, method)


def _mismatch(theirs: list[list[tuple[str, bool, bool]]], ours: inspect.Signature,
              method: bool) -> tuple[set[str], bool]:
    """PyTorch's keyword names that ``ours`` lacks or requires where PyTorch has a
    default, and whether no overload's positional order agrees with ours; ``ours`` with
    ``**kwargs`` is not judged (a function that forwards to the method, checked as the
    method)."""
    params = list(ours.parameters.values())
    if method and params and params[0].name == "self":
        params = params[1:]
    if any(p.kind == P.VAR_KEYWORD for p in params):
        return set(), False
    named = {p.name for p in params if p.kind != P.POSITIONAL_ONLY}
    missing = {n for overload in theirs for n, *_ in overload
               if not n.startswith("_")} - named - {"out"}  # PyTorch's private options
    required = {p.name for p in params if p.default is P.empty and p.kind not in (
        P.VAR_POSITIONAL, P.VAR_KEYWORD)}
    optional = {n for overload in theirs for n, _, has_default in overload if has_default}
    optional -= {n for overload in theirs for n, _, has_default in overload if not has_default}
    missing |= {f"{n} (its default)" for n in optional & required}
    positional = [p.name for p in params if p.kind in (P.POSITIONAL_ONLY,
                                                         P.POSITIONAL_OR_KEYWORD)]
    if any(p.kind == P.VAR_POSITIONAL for p in params):
        return missing, False
    agrees = any(names[:len(positional)] == positional[:len(names)] for names in (
        [n for n, keyword_only, _ in overload if not keyword_only] for overload in theirs))
    return missing, not agrees


def _surfaces(torch: Any) -> list[tuple[str, Any, Any, bool, str]]:
    """(title, PyTorch's module, fnnet.torch's, methods?, ATen's prefix of its names)"""
    return [("torch", torch, ft, False, ""),
            ("F", torch.nn.functional, ft.nn.functional, False, ""),
            ("Tensor", torch.Tensor, ft.ones(1), True, ""),
            ("linalg", torch.linalg, ft.linalg, False, "linalg_"),
            ("fft", torch.fft, ft.fft, False, "fft_"),
            ("special", torch.special, ft.special, False, "special_"),
            ("nn", torch.nn, ft.nn, False, ""), ("optim", torch.optim, ft.optim, False, ""),
            ("lr_scheduler", torch.optim.lr_scheduler, ft.optim.lr_scheduler, False, ""),
            ("data", torch.utils.data, ft.utils.data, False, ""),
            ("init", torch.nn.init, ft.nn.init, False, ""),
            ("autograd", torch.autograd, ft.autograd, False, ""),
            ("nn.utils", torch.nn.utils, ft.nn.utils, False, ""),
            ("rnn", torch.nn.utils.rnn, ft.nn.utils.rnn, False, ""),
            ("amp", torch.amp, ft.amp, False, ""),
            ("distributions", torch.distributions, ft.distributions, False, ""),
            ("func", torch.func, ft.func, False, ""),
            ("cuda", torch.cuda, ft.cuda, False, ""),
            ("testing", torch.testing, ft.testing, False, ""),
            ("swa_utils", torch.optim.swa_utils, ft.optim.swa_utils, False, "")]


def _methods(their_cls: type, our_cls: type) -> Any:
    """``(name, PyTorch's overloads, fnnet.torch's signature)`` of the Python methods of
    a class (its constructor aside): private ones, static and class methods left out."""
    for name in dir(their_cls):
        their_fn = inspect.getattr_static(their_cls, name, None)
        if name.startswith("_") or not inspect.isfunction(their_fn):
            continue
        try:
            our_fn = inspect.getattr_static(our_cls, name)
        except AttributeError:
            continue
        ours = _signature(our_fn) if inspect.isfunction(our_fn) else None
        if ours is not None and ours.parameters:  # the instance, under any name
            ours = ours.replace(parameters=list(ours.parameters.values())[1:])
            yield name, _theirs(their_fn, name, True), ours


def test_every_signature_takes_pytorchs_keywords(torch):
    """Each function, method, constructor and class method fnnet.torch has takes every
    keyword PyTorch's takes (by ATen's schemas for built-in functions, by ``inspect`` for
    Python ones), in the positional order of one of PyTorch's overloads, but for
    ``ALLOWED_MISSING`` and ``ALLOWED_ORDER``."""
    missing_found, order_found = {}, []
    for title, theirs, ours, method, prefix in _surfaces(torch):
        for name in dir(theirs):
            their_fn = getattr(theirs, name, None)
            if name.startswith("_") or not callable(their_fn):
                continue
            try:
                our_fn = getattr(ours, name)
            except (AttributeError, NotImplementedError):
                continue
            if isinstance(their_fn, type) != isinstance(our_fn, type):
                continue
            if isinstance(their_fn, type):
                checks = [(name, _theirs(their_fn.__init__, name, True),
                           _signature(our_fn.__init__), True)]
                checks += [(f"{name}.{method_name}", theirs_, ours_, False)
                           for method_name, theirs_, ours_ in _methods(their_fn, our_fn)]
            else:
                checks = [(name, _theirs(their_fn, name, method, prefix),
                           _signature(our_fn), method)]
            for key, their_sig, our_sig, bound in checks:
                if not their_sig or our_sig is None:
                    continue
                missing, order = _mismatch(their_sig, our_sig, bound)
                key = f"{title}.{key}"
                missing -= ALLOWED_MISSING.get(key, set())
                if missing:
                    missing_found[key] = sorted(missing)
                if order and key not in ALLOWED_ORDER:
                    order_found.append(key)
    assert not missing_found, f"PyTorch's keywords that fnnet.torch refuses: {missing_found}"
    assert not order_found, f"positional orders unlike PyTorch's: {order_found}"
