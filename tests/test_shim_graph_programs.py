"""Graph networks, contrastive losses and recommenders as course and paper code writes them
in plain PyTorch (message passing with index_add_/scatter_reduce, attention softmax per
node, negative sampling): each test runs the same code under PyTorch 2.13 and
fnnet.torch and compares values, gradients and printed text."""

from __future__ import annotations

import io
import pickle
import re

import numpy as np
import pytest

import fnnet.torch as ft

pytestmark = pytest.mark.torch


def _np(t):
    return np.asarray(t.detach().numpy(), np.float64)


# -- random draws ------------------------------------------------------------------------

@pytest.mark.parametrize("args, kwargs", [
    ((), {"high": 5, "size": (6,)}),  # negative sampling: torch.randint(high=n, size=...)
    ((), {"low": 2, "high": 9, "size": (2, 3)}),
    ((7,), {"size": (4,)}),
    ((3, (5,)), {}),
], ids=["high=, size=", "low=, high=, size=", "high, size=", "high, size"])
def test_randint_reads_its_arguments_as_pytorch(torch, args, kwargs):
    torch.manual_seed(3)
    ft.manual_seed(3)
    np.testing.assert_array_equal(_np(ft.randint(*args, **kwargs)),
                                  _np(torch.randint(*args, **kwargs)))


def test_randint_without_high_raises_pytorchs_type_error(torch):
    with pytest.raises(TypeError) as theirs:
        torch.randint(size=(3,))
    with pytest.raises(TypeError, match=r"^randint\(\) missing 2 required positional"):
        ft.randint(size=(3,))
    assert str(theirs.value).startswith("randint() received an invalid combination")


# -- scatter reductions ------------------------------------------------------------------

SRC = [[0.0, 1.0], [0.0, 1.0], [0.0, 2.0], [3.0, 3.0]]


@pytest.mark.parametrize("reduce", ["amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_extremum_shares_gradient_among_ties_as_pytorch(torch, reduce,
                                                                       include_self):
    # a max-pooling readout over nodes whose features tie (as ReLU's zeros do): PyTorch
    # shares the gradient evenly among the tied elements, counting input's element
    # among them even with include_self=False
    def run(T):
        src = T.tensor(SRC, requires_grad=True)
        base = T.zeros(2, 2, requires_grad=True)
        index = T.tensor([0, 0, 0, 1])[:, None].expand(-1, 2)
        out = base.scatter_reduce(0, index, src, reduce, include_self=include_self)
        (out * T.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
        return out, src.grad, base.grad

    for ours, theirs in zip(run(ft), run(torch), strict=True):
        np.testing.assert_array_equal(_np(ours), _np(theirs))


@pytest.mark.parametrize("reduce", ["max", "min"])
def test_scatter_reduce_takes_max_and_min_as_pytorch(torch, reduce):
    def run(T):
        index = T.tensor([[0, 1, 0]])
        return T.zeros(2, 3).scatter_reduce(0, index, T.tensor([[5.0, -2.0, 3.0]]), reduce)

    np.testing.assert_array_equal(_np(run(ft)), _np(run(torch)))


DST = [0, 1, 1, 3, 2]


@pytest.mark.parametrize("call", [
    # message passing with a message batch that does not fit the edges or the nodes
    lambda T: T.zeros(4, 3).index_add_(0, T.tensor(DST), T.ones(4, 3)),
    lambda T: T.zeros(4, 3).index_add_(0, T.tensor(DST), T.ones(5, 2)),
    lambda T: T.zeros(4, 3).index_add_(0, T.tensor(DST), T.ones(5, 3, 1)),
    lambda T: T.zeros(4, 3).index_add_(1, T.tensor([0, 1]), T.ones(4)),
    lambda T: T.zeros(4).index_add_(0, T.tensor([0, 1]), T.tensor(1.0)),
    lambda T: T.zeros(4).index_add_(0, T.tensor(1), T.tensor(1.0)),
    lambda T: T.zeros(4, 3).index_copy_(0, T.tensor([0, 2]), T.ones(3, 3)),
    lambda T: T.zeros(4, 3, 2).index_copy_(1, T.tensor([0, 2]), T.ones(4, 2, 3)),
    lambda T: T.zeros(4, 3).index_copy_(0, T.tensor([0, 2]), T.ones(2, 3, 1)),
    lambda T: T.zeros(4).index_copy_(0, T.tensor([0, 2]), T.tensor(1.0)),
    lambda T: T.zeros(4, 3).scatter_add_(0, T.zeros(5, 3, dtype=T.long), T.ones(5, 2)),
    lambda T: T.zeros(4, 3).scatter_add_(0, T.zeros(5, 4, dtype=T.long), T.ones(5, 4)),
    lambda T: T.zeros(4, 3).scatter_add_(0, T.zeros(2, 3, dtype=T.long), T.ones(2, 3, 1)),
    lambda T: T.zeros(4, 3).scatter_(0, T.zeros(5, 4, dtype=T.long), 1.0),
    lambda T: T.zeros(4, 3).scatter_reduce_(0, T.zeros(5, 3, dtype=T.long), T.ones(4, 3),
                                            "amax"),
    lambda T: T.nn.functional.margin_ranking_loss(T.ones(3), T.ones(3), T.ones(2)),
    lambda T: T.nn.MarginRankingLoss()(T.ones(3), T.ones(2), T.ones(3)),
], ids=["index_add count", "index_add slice", "index_add rank", "index_add dim",
        "index_add 0-d source", "index_add 0-d both", "index_copy count",
        "index_copy slice", "index_copy rank", "index_copy 0-d source", "scatter_add src",
        "scatter_add self", "scatter_add src rank", "scatter_ value", "scatter_reduce_ src",
        "margin_ranking target", "margin_ranking inputs"])
def test_message_passing_shape_errors_are_pytorchs(torch, call):
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(type(theirs.value), match=f"^{re.escape(str(theirs.value))}$"):
        call(ft)


@pytest.mark.parametrize("call", [
    lambda T: T.nn.functional.logsigmoid(T.tensor([1, 2])),  # BPR on integer scores
    lambda T: T.nn.functional.softplus(T.tensor([1, 2])),
    lambda T: T.nn.functional.elu(T.tensor([True, False])),
    lambda T: T.multinomial(T.ones(3), 0),
    lambda T: T.nn.functional.embedding_bag(T.tensor([[0, 1]]), T.ones(4, 2), mode="foo"),
], ids=["logsigmoid", "softplus", "elu of bools", "multinomial of none",
        "embedding_bag mode"])
def test_recommender_mistakes_raise_pytorchs_errors(torch, call):
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(type(theirs.value), match=f"^{re.escape(str(theirs.value))}$"):
        call(ft)


def test_embedding_bag_checks_its_mode_when_called_as_pytorch(torch):
    # the module is made (drawing its weights) and refuses the mode at the first call
    for T in (ft, torch):
        T.manual_seed(0)
        bag = T.nn.EmbeddingBag(4, 2, mode="foo")
        with pytest.raises(ValueError, match="^mode has to be one of sum, mean or max$"):
            bag(T.tensor([[0, 1]]))
    np.testing.assert_array_equal(_np(ft.rand(2)), _np(torch.rand(2)))


# -- sparse COO adjacency ----------------------------------------------------------------

EDGES = [[0, 1, 1, 0, 2], [2, 0, 2, 2, 1]]  # (0, 2) twice: uncoalesced


def _adjacency(T):
    return T.sparse_coo_tensor(T.tensor(EDGES), T.tensor([3.0, 4.0, 5.0, 1.0, 2.0]), (3, 3))


@pytest.mark.parametrize("show", [
    lambda T, a: a,
    lambda T, a: a.coalesce(),
    lambda T, a: (a.coalesce().indices(), a.coalesce().values(), a._nnz(),
                  a.coalesce()._nnz(), a.is_coalesced(), a.coalesce().is_coalesced()),
    lambda T, a: (a._indices(), a._values(), a.is_sparse, a.layout, a.sparse_dim(),
                  a.dense_dim(), a.shape),
    lambda T, a: a.t(),
    lambda T, a: a.to_dense(),
    lambda T, a: a.to_dense().to_sparse(),
    lambda T, a: T.tensor([[0.0, 1.0], [0.0, 0.0]]).to_sparse(),
    lambda T, a: a.to_dense().to_sparse(1),
    lambda T, a: (a * 2, -a, a / 4),
    lambda T, a: ((a + a.t()).to_dense(), a + a, a.coalesce() + a.t().coalesce()),
    lambda T, a: T.sparse.sum(a, dim=1),
    lambda T, a: (T.sparse.sum(a), T.sparse.sum(a, (0, 1))),
    lambda T, a: (a.sum(), a.sum(1), T.sum(a, 0), a.sum((0, 1))),
    lambda T, a: T.sparse_coo_tensor(T.tensor(EDGES), T.ones(5, 2)),
    lambda T, a: T.sparse.sum(T.sparse_coo_tensor(T.tensor(EDGES), T.ones(5, 2)), dim=(0, 2)),
    lambda T, a: T.sparse_coo_tensor(T.zeros(2, 0, dtype=T.long), T.zeros(0), (2, 2)),
    lambda T, a: T.sparse_coo_tensor(T.tensor(EDGES), T.tensor([1, 2, 3, 4, 5])),
    lambda T, a: T.sparse.FloatTensor(T.tensor(EDGES), T.ones(5), T.Size([3, 3])),
    lambda T, a: (T.sparse.mm(a, T.ones(3, 2)), T.spmm(a, T.ones(3, 2)), a @ T.ones(3, 2),
                  T.mm(a, T.ones(3, 2))),
    lambda T, a: T.sparse.mm(a, a.t()),
    lambda T, a: T.sparse.addmm(T.ones(3, 2), a, T.ones(3, 2), beta=0.5, alpha=2.0),
    lambda T, a: (a.to("cpu") is a, a.float() is a, a.to_sparse() is a,
                  a.detach().is_sparse, a.clone().is_sparse, T.ones(2).is_sparse),
], ids=["repr", "coalesce", "indices", "_indices", "t", "to_dense", "to_sparse",
        "to_sparse 1 entry", "to_sparse(1)", "scaled", "sum of two", "sparse.sum dim",
        "sparse.sum all", "Tensor.sum", "dense dims", "sparse.sum dense dim", "empty", "int values",
        "legacy FloatTensor", "products", "sparse product", "addmm", "kept as sparse"])
def test_sparse_adjacency_computes_and_prints_as_pytorch(torch, show):
    ours, theirs = show(ft, _adjacency(ft)), show(torch, _adjacency(torch))
    assert repr(ours) == repr(theirs)
    assert str(ours) == str(theirs)


def test_sparse_gcn_gradients_flow_through_the_values_as_pytorch(torch):
    # Kipf's normalisation D^-1/2 (A + I) D^-1/2 built from an edge list, and learnable
    # edge weights whose gradient comes through the sparse values
    def run(T):
        T.manual_seed(0)
        src, dst = T.tensor([0, 1, 2, 3, 0]), T.tensor([1, 2, 3, 4, 2])
        n = 5
        index = T.stack([T.cat([src, dst, T.arange(n)]), T.cat([dst, src, T.arange(n)])])
        adj = T.sparse_coo_tensor(index, T.ones(index.size(1)), (n, n)).coalesce()
        d = T.sparse.sum(adj, dim=1).to_dense().pow(-0.5)
        row, col = adj.indices()
        weight = T.nn.Parameter(T.ones(adj._nnz()))
        layer = T.nn.Linear(3, 2)
        x, y = T.randn(n, 3), T.tensor([0, 1, 0, 1, 1])
        a = T.sparse_coo_tensor(adj.indices(), d[row] * adj.values() * d[col] *
                                T.sigmoid(weight), adj.shape)
        loss = T.nn.functional.cross_entropy(T.sparse.mm(a, layer(x)), y)
        loss.backward()
        return loss, weight.grad, layer.weight.grad

    for ours, theirs in zip(run(ft), run(torch), strict=True):
        np.testing.assert_allclose(_np(ours), _np(theirs), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("call", [
    lambda T: T.sparse_coo_tensor(T.tensor(EDGES), T.ones(4), (3, 3)),
    lambda T: T.sparse_coo_tensor(T.tensor(EDGES), T.ones(5), (3,)),
    lambda T: T.sparse_coo_tensor(T.tensor(EDGES), T.ones(5, 2), (3, 3, 3)),
    lambda T: _adjacency(T).indices(),
    lambda T: _adjacency(T).values(),
    lambda T: T.sparse.mm(_adjacency(T), T.ones(2, 2)),
    lambda T: _adjacency(T).numpy(),
    lambda T: T.ones(2, 2).coalesce(),
    lambda T: T.ones(2, 2).indices(),
    lambda T: T.ones(2, 2).values(),
    lambda T: T.ones(2, 2)._nnz(),
], ids=["nnz", "size", "dense size", "indices", "values", "mm shapes", "numpy",
        "dense coalesce", "dense indices", "dense values", "dense _nnz"])
def test_sparse_errors_are_pytorchs(torch, call):
    with pytest.raises(Exception) as theirs:
        call(torch)
    # the dispatcher's error goes on to list PyTorch's backends
    first_line = str(theirs.value).split("\n")[0].split(" This could be")[0]
    with pytest.raises(type(theirs.value), match=f"^{re.escape(first_line)}"):
        call(ft)


@pytest.mark.parametrize("call", [
    lambda: ft.zeros(2, 2, layout=ft.sparse_coo),
    lambda: ft.ones(2, 2).to_sparse_csr(),
    lambda: ft.ones(2, 2).to_sparse(layout=ft.sparse_coo).to_sparse_csc(),
    lambda: ft.sparse.softmax,
    lambda: ft.sparse_csr_tensor,
    lambda: ft.sparse_coo_tensor(ft.tensor(EDGES), ft.ones(5), requires_grad=True),
], ids=["factory layout", "to_sparse_csr", "to_sparse_csc", "sparse.softmax", "csr tensor",
        "requires_grad"])
def test_unsupported_sparse_forms_say_what_to_use(call):
    with pytest.raises(NotImplementedError, match="sparse|COO|values"):
        call()


def test_a_sparse_tensor_pickles_whole_and_torch_save_says_what_to_save():
    adjacency = _adjacency(ft)
    back = pickle.loads(pickle.dumps(adjacency))
    assert back.is_sparse and repr(back) == repr(adjacency)
    with pytest.raises(NotImplementedError, match=r"'adj'.*\.to_dense\(\)"):
        ft.save({"adj": adjacency}, io.BytesIO())
