"""What users write once past the beginner course, against PyTorch in the same process:
their own ``torch.optim.Optimizer`` subclass, buffers and tied weights, gradient
clipping that refuses a non-finite norm, metric-learning losses with their own
distance, the names of the backward nodes printed with a loss, and PyTorch's words
where such code goes wrong."""

from __future__ import annotations

import functools
import importlib
import warnings

import numpy as np
import pytest
from helpers import raised_by

import fnnet.torch as ft

pytestmark = pytest.mark.torch


def _momentum_sgd(T):
    """A momentum SGD written as the PyTorch tutorials teach it: state in ``self.state``,
    ``defaults``, a closure, ``@torch.no_grad()`` on ``step``."""

    class MomentumSGD(T.optim.Optimizer):
        def __init__(self, params, lr=0.1, momentum=0.9):
            super().__init__(params, dict(lr=lr, momentum=momentum))

        @T.no_grad()
        def step(self, closure=None):
            loss = None
            if closure is not None:
                with T.enable_grad():
                    loss = closure()
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if not state:
                        state["step"] = 0
                        state["buf"] = T.zeros_like(p)
                    state["step"] += 1
                    state["buf"].mul_(group["momentum"]).add_(p.grad)
                    p.add_(state["buf"], alpha=-group["lr"])
            return loss

    return MomentumSGD


def _fit_with_own_optimizer(T):
    x = T.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(6, 2))
    y = T.tensor(np.array([0, 1, 1, 0, 1, 0]))
    model = T.nn.Linear(2, 2)
    with T.no_grad():
        model.weight.copy_(T.tensor([[0.5, -0.2], [0.1, 0.3]]))
        model.bias.zero_()
    opt = _momentum_sgd(T)(model.parameters(), lr=0.2)
    sched = T.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    losses = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            def closure():
                opt.zero_grad()
                loss = T.nn.functional.cross_entropy(model(x), y)
                loss.backward()
                return loss
            losses.append(opt.step(closure).item())
            sched.step()
    return model, opt, losses, [str(w.message) for w in caught]


def test_an_optimizer_the_user_writes_trains_saves_and_loads_as_in_torch(torch):
    results = [_fit_with_own_optimizer(T) for T in (torch, ft)]
    (tm, topt, tlosses, twarn), (fm, fopt, flosses, fwarn) = results
    np.testing.assert_allclose(flosses, tlosses, rtol=1e-6)
    np.testing.assert_allclose(fm.weight.detach().numpy(), tm.weight.detach().numpy(),
                               rtol=1e-5)
    assert fwarn == twarn == []  # the scheduler saw the optimizer step first
    tsd, fsd = topt.state_dict(), fopt.state_dict()
    assert fsd["param_groups"] == tsd["param_groups"]
    assert list(fsd["state"]) == list(tsd["state"]) == [0, 1]
    assert fsd["state"][0]["step"] == tsd["state"][0]["step"] == 3
    np.testing.assert_allclose(fsd["state"][1]["buf"].numpy(), tsd["state"][1]["buf"].numpy(),
                               rtol=1e-5)
    # loading into a fresh optimizer: the saved hyperparameters and state
    fresh = _momentum_sgd(ft)(fm.parameters(), lr=5.0)
    fresh.load_state_dict(fsd)
    assert fresh.param_groups[0]["lr"] == fsd["param_groups"][0]["lr"]
    assert fresh.param_groups[0]["params"] == list(fm.parameters())
    assert fresh.state[fm.bias]["step"] == 3


def test_an_optimizer_the_user_writes_refuses_what_torch_refuses(torch):
    def base_step(T):
        T.optim.Optimizer([T.nn.Parameter(T.ones(2))], {"lr": 0.1}).step()

    def other_groups(T):
        opt = _momentum_sgd(T)([T.nn.Parameter(T.ones(2))])
        opt.load_state_dict({"state": {}, "param_groups": []})

    def other_sizes(T):
        opt = _momentum_sgd(T)([T.nn.Parameter(T.ones(2))])
        opt.load_state_dict({"state": {}, "param_groups": [{"lr": 0.1, "params": [0, 1]}]})

    for call in (base_step, other_groups, other_sizes):
        theirs, ours = raised_by(call, torch, ft)
        assert ours == theirs


def _module_with_buffer(T):
    class Normalise(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("mean", T.zeros(3))
            self.register_buffer("scratch", T.ones(3), persistent=False)
            self.lin = T.nn.Linear(3, 3)

    return Normalise()


@pytest.mark.parametrize("call", [
    lambda m, T: m.register_buffer("lin", T.ones(3)),
    lambda m, T: m.register_buffer("a.b", T.ones(3)),
    lambda m, T: m.register_buffer("", T.ones(3)),
    lambda m, T: m.register_buffer(3, T.ones(3)),
    lambda m, T: m.register_parameter("mean", T.nn.Parameter(T.ones(3))),
    lambda m, T: m.register_parameter("w.b", T.nn.Parameter(T.ones(3))),
    lambda m, T: m.add_module("mean", T.nn.ReLU()),
], ids=["buffer over a module", "buffer with a dot", "empty buffer name",
        "buffer name not a string", "parameter over a buffer", "parameter with a dot",
        "module over a buffer"])
def test_registering_over_another_attribute_raises_as_torch(torch, call):
    assert raised_by(lambda T: call(_module_with_buffer(T), T), torch, ft)[1] == \
        raised_by(lambda T: call(_module_with_buffer(T), T), torch)[0]


def test_a_buffer_registered_again_persistent_returns_to_the_state_dict(torch):
    keys = []
    for T in (torch, ft):
        m = _module_with_buffer(T)
        m.register_buffer("mean", T.ones(3))  # its own name again: allowed
        m.register_buffer("scratch", T.ones(3), persistent=True)
        keys.append(list(m.state_dict()))
    assert keys[1] == keys[0]


def test_tied_weights_are_listed_twice_without_remove_duplicate(torch):
    names = []
    for T in (torch, ft):
        model = T.nn.Sequential(T.nn.Embedding(5, 3), T.nn.Linear(3, 5, bias=False))
        model[1].weight = model[0].weight
        names.append(([n for n, _ in model.named_parameters()],
                      [n for n, _ in model.named_parameters(remove_duplicate=False)],
                      sum(p.numel() for p in model.parameters())))
    assert names[1] == names[0]


def _clip(T, nan, error_if_nonfinite, norm_type=2.0):
    layer = T.nn.Linear(2, 2)
    with T.no_grad():
        layer.weight.copy_(T.tensor([[1.0, 2.0], [3.0, 4.0]]))
        layer.bias.fill_(0.5)
    layer(T.ones(1, 2)).pow(2).sum().backward()
    if nan:
        layer.weight.grad[0, 0] = float("nan")
    norm = T.nn.utils.clip_grad_norm_(layer.parameters(), 1.0, norm_type=norm_type,
                                      error_if_nonfinite=error_if_nonfinite)
    return norm.item(), layer.weight.grad.numpy()


def test_clip_grad_norm_error_if_nonfinite_as_torch(torch):
    theirs, ours = (_clip(T, False, True, 1) for T in (torch, ft))
    assert ours[0] == pytest.approx(theirs[0], rel=1e-6)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6)
    for norm_type in (2.0, 1):
        theirs, ours = raised_by(lambda T, n=norm_type: _clip(T, True, True, n), torch, ft)
        assert ours == theirs


def test_clip_grad_norm_of_an_empty_generator_warns_as_torch(torch):
    messages = []
    for T in (torch, ft):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            norm = T.nn.utils.clip_grad_norm_((p for p in []), 1.0)
        messages.append(([str(w.message) for w in caught], norm.item()))
    assert messages[1] == messages[0]


def test_triplet_margin_with_distance_loss_as_torch(torch):
    rng = np.random.default_rng(0)
    a, p, n = (rng.standard_normal((4, 3)).astype(np.float32) for _ in range(3))
    results = []
    for T in (torch, ft):
        F = T.nn.functional
        anchor = T.tensor(a, requires_grad=True)
        cosine = T.nn.TripletMarginWithDistanceLoss(
            distance_function=lambda x, y, F=F: 1 - F.cosine_similarity(x, y), margin=0.5)
        euclid = T.nn.TripletMarginWithDistanceLoss(swap=True, reduction="none")
        loss = cosine(anchor, T.tensor(p), T.tensor(n))
        loss.backward()
        results.append((loss.item(), anchor.grad.numpy(),
                        euclid(anchor, T.tensor(p), T.tensor(n)).detach().numpy(),
                        F.triplet_margin_with_distance_loss(anchor, T.tensor(p), T.tensor(n),
                                                            reduction="sum").item(),
                        loss.grad_fn.name()))
    (tl, tg, tn, ts, tname), (fl, fg, fn, fs, fname) = results
    assert fl == pytest.approx(tl, rel=1e-5) and fs == pytest.approx(ts, rel=1e-5)
    np.testing.assert_allclose(fg, tg, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(fn, tn, rtol=1e-5)
    assert fname == tname


@pytest.mark.parametrize("call", [
    lambda T: T.nn.TripletMarginWithDistanceLoss(margin=0),
    lambda T: T.nn.functional.triplet_margin_with_distance_loss(
        T.ones(2, 3), T.ones(2, 3), T.ones(3), margin=1.0),
    lambda T: T.nn.functional.triplet_margin_with_distance_loss(
        T.ones(2, 3), T.ones(2, 3), T.ones(2, 3), margin=-1.0),
    lambda T: T.nn.functional.triplet_margin_with_distance_loss(
        T.ones(2, 3), T.ones(2, 3), T.ones(2, 3), reduction="avg"),
], ids=["module margin", "dimensions", "functional margin", "reduction"])
def test_triplet_margin_with_distance_loss_refuses_as_torch(torch, call):
    theirs, ours = raised_by(call, torch, ft)
    assert ours == theirs


def test_dirac_init_as_torch(torch):
    values = [(T.nn.init.dirac_(T.empty(2, 3, 3)).numpy(),
               T.nn.init.dirac_(T.empty(4, 2, 3, 3), groups=2).numpy()) for T in (torch, ft)]
    for theirs, ours in zip(*values, strict=True):
        np.testing.assert_array_equal(ours, theirs)
    theirs, ours = raised_by(lambda T: T.nn.init.dirac_(T.empty(3, 2, 3), groups=2), torch, ft)
    assert ours == theirs


def test_grad_of_an_unused_input_names_its_index_as_torch(torch):
    def unused(T):
        u, v = T.ones(1, requires_grad=True), T.ones(1, requires_grad=True)
        T.autograd.grad((u * 2).sum(), [u, v])

    theirs, ours = raised_by(unused, torch, ft)
    assert ours == theirs


def test_kl_div_mean_warns_as_torch(torch):
    messages = []
    for T in (torch, ft):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            T.nn.KLDivLoss()(T.zeros(2, 3), T.ones(2, 3) / 3)
            T.nn.functional.kl_div(T.zeros(2, 3), T.ones(2, 3) / 3, reduction="batchmean")
        messages.append([str(w.message) for w in caught])
    assert messages[1] == messages[0] and len(messages[0]) == 1


#: losses and ops whose printed ``grad_fn`` names PyTorch's last recorded node
GRAD_FNS = {
    "cosine_similarity": lambda T, a, b: T.nn.functional.cosine_similarity(a, b),
    "norm along a dim": lambda T, a, b: a.norm(dim=1),
    "linalg.vector_norm": lambda T, a, b: T.linalg.vector_norm(a),
    "pairwise_distance": lambda T, a, b: T.nn.functional.pairwise_distance(a, b),
    "cosine_embedding none": lambda T, a, b: T.nn.functional.cosine_embedding_loss(
        a, b, T.tensor([1.0, -1.0, 1.0]), reduction="none"),
    "cosine_embedding mean": lambda T, a, b: T.nn.CosineEmbeddingLoss()(
        a, b, T.tensor([1.0, -1.0, 1.0])),
    "triplet none": lambda T, a, b: T.nn.functional.triplet_margin_loss(
        a, b, a * 2, reduction="none"),
    "triplet sum": lambda T, a, b: T.nn.TripletMarginLoss(reduction="sum")(a, b, a * 2),
    "margin ranking": lambda T, a, b: T.nn.functional.margin_ranking_loss(
        a[:, 0], b[:, 0], T.tensor([1.0, -1.0, 1.0]), reduction="none"),
    "hinge embedding": lambda T, a, b: T.nn.functional.hinge_embedding_loss(
        a, T.ones(3, 4), reduction="none"),
    "kl_div batchmean": lambda T, a, b: T.nn.functional.kl_div(
        a.log_softmax(1), b.softmax(1), reduction="batchmean"),
    "kl_div none": lambda T, a, b: T.nn.functional.kl_div(a, b, reduction="none"),
    "kl_div log_target sum": lambda T, a, b: T.nn.functional.kl_div(
        a, b, reduction="sum", log_target=True),
    "HuberLoss": lambda T, a, b: T.nn.HuberLoss(delta=0.5)(a, b),
    "cross_entropy smoothed": lambda T, a, b: T.nn.functional.cross_entropy(
        a, T.tensor([0, 1, 2]), label_smoothing=0.1),
    "cross_entropy of probabilities": lambda T, a, b: T.nn.functional.cross_entropy(
        a, b.softmax(1).detach()),
    "cross_entropy of probabilities, none": lambda T, a, b: T.nn.functional.cross_entropy(
        a, b.softmax(1).detach(), reduction="none"),
    # over [N, C, L] or [N, C, H, W] PyTorch's nll_loss goes through nll_loss2d
    "cross_entropy over a sequence": lambda T, a, b: T.nn.functional.cross_entropy(
        a.reshape(1, 3, 4), T.tensor([[0, 1, 2, 0]])),
    "cross_entropy over a sequence, none": lambda T, a, b: T.nn.functional.cross_entropy(
        a.reshape(1, 3, 4), T.tensor([[0, 1, 2, 0]]), reduction="none"),
    "cross_entropy over an image, none": lambda T, a, b: T.nn.functional.cross_entropy(
        a.reshape(1, 3, 2, 2), T.tensor([[[0, 1], [2, 0]]]), reduction="none"),
    "nll_loss over an image": lambda T, a, b: T.nn.functional.nll_loss(
        a.reshape(1, 3, 2, 2), T.tensor([[[0, 1], [2, 0]]]), reduction="sum"),
    "nll_loss": lambda T, a, b: T.nn.functional.nll_loss(a, T.tensor([0, 1, 2])),
    "prod": lambda T, a, b: a.prod(),
    "prod along a dim": lambda T, a, b: a.prod(1),
    "outer": lambda T, a, b: T.outer(a[0], b[0]),
    "chunk": lambda T, a, b: a.chunk(2, 1)[0],
    "narrow": lambda T, a, b: a.narrow(1, 0, 2),
    # torch.linalg's nodes, and the older names that reach them
    "linalg.svd": lambda T, a, b: T.linalg.svd(a)[1],
    "svd": lambda T, a, b: T.svd(a)[0],
    "svdvals": lambda T, a, b: T.linalg.svdvals(a),
    "eigh": lambda T, a, b: T.linalg.eigh(_spd(T, a))[1],
    "eigvalsh": lambda T, a, b: T.linalg.eigvalsh(_spd(T, a)),
    "qr": lambda T, a, b: T.linalg.qr(a)[0],
    "linalg.cholesky": lambda T, a, b: T.linalg.cholesky(_spd(T, a)),
    "cholesky (deprecated)": lambda T, a, b: T.cholesky(_spd(T, a), upper=True),
    "cholesky_solve": lambda T, a, b: T.cholesky_solve(b[:, :1], T.linalg.cholesky(_spd(T, a))),
    "cholesky_inverse": lambda T, a, b: T.cholesky_inverse(T.linalg.cholesky(_spd(T, a))),
    "inverse": lambda T, a, b: T.inverse(a[:, :3]),
    "det": lambda T, a, b: T.det(a[:, :3]),
    "slogdet": lambda T, a, b: T.linalg.slogdet(a[:, :3])[1],
    "logdet": lambda T, a, b: T.logdet(_spd(T, a)),
    "solve": lambda T, a, b: T.linalg.solve(a[:, :3], b[:, :1]),
    "lstsq": lambda T, a, b: T.linalg.lstsq(a[:, :3], b).solution,
    "pinv": lambda T, a, b: T.linalg.pinv(a),
    "matrix_exp": lambda T, a, b: T.linalg.matrix_exp(a[:, :3]),
    "solve_triangular": lambda T, a, b: T.linalg.solve_triangular(a[:, :3].triu(), b,
                                                                  upper=True),
    "linalg.cross": lambda T, a, b: T.linalg.cross(a[:, :3], b[:, :3]),
    "kron": lambda T, a, b: T.kron(a, b),
    **{f"matrix_norm {order}{', keepdim' * keep}": functools.partial(
        lambda T, a, b, order, keep: T.linalg.matrix_norm(a, ord=order, keepdim=keep),
        order=order, keep=keep)
       for order in ("fro", "nuc", 2, -2, 1, -1, float("inf")) for keep in (False, True)},
    **{f"matrix_power {n}": functools.partial(
        lambda T, a, b, n: T.linalg.matrix_power(a[:, :3], n), n=n) for n in (-1, 0, 1, 3)},
    "circular pad": lambda T, a, b: T.nn.functional.pad(a[None], (1, 1), mode="circular"),
    # writes into a clone: through a view (CopySlices), at advanced indices (IndexPut)
    "x[0] = v": lambda T, a, b: _written(a, lambda x: x.__setitem__(0, b[0])),
    "x[:, 0] += 1": lambda T, a, b: _written(a, lambda x: x[:, 0].add_(1)),
    "x[..., -1] = 0": lambda T, a, b: _written(a, lambda x: x.__setitem__((..., -1), 0.0)),
    "x[:, :2].copy_(v)": lambda T, a, b: _written(a, lambda x: x[:, :2].copy_(b[:, 2:])),
    "x[index] = 0": lambda T, a, b: _written(a, lambda x: x.__setitem__(T.tensor([0, 2]), 0.0)),
    "x[mask] = 0": lambda T, a, b: _written(a, lambda x: x.__setitem__(b > 0, 0.0)),
    "x[mask] = v": lambda T, a, b: _written(a, lambda x: x.__setitem__(b > 0, b.sum())),
    "fill_diagonal_": lambda T, a, b: _written(a, lambda x: x.fill_diagonal_(0.0)),
    # layers and functions named for the op PyTorch's computation ends in
    **{f"interpolate {mode} {rank}-D": functools.partial(
        lambda T, a, b, mode, rank: T.nn.functional.interpolate(
            a[:2, :2].reshape(1, 1, 2, 2, 1).expand(1, 1, 2, 2, 2) if rank == 3 else
            a[:2, :2].reshape(1, 1, 2, 2) if rank == 2 else a[:1, :2].reshape(1, 1, 2),
            scale_factor=2, mode=mode), mode=mode, rank=rank)
       for mode, ranks in (("nearest", (1, 2, 3)), ("nearest-exact", (2,)), ("linear", (1,)),
                           ("bilinear", (2,)), ("bicubic", (2,)), ("trilinear", (3,)),
                           ("area", (1, 2))) for rank in ranks},
    "ConvTranspose2d": lambda T, a, b: T.nn.ConvTranspose2d(1, 1, 2)(a[None, None]),
    "Unflatten": lambda T, a, b: T.nn.Unflatten(1, (2, 2))(a),
    "selu": lambda T, a, b: T.nn.functional.selu(a),
    "relu6": lambda T, a, b: T.nn.functional.relu6(a),
    "tanhshrink": lambda T, a, b: T.nn.functional.tanhshrink(a),
    "PReLU": lambda T, a, b: T.nn.PReLU()(a),
    "AvgPool2d": lambda T, a, b: T.nn.AvgPool2d(2)(a[None]),
    "AdaptiveAvgPool2d": lambda T, a, b: T.nn.AdaptiveAvgPool2d(2)(a[None]),
    "tile": lambda T, a, b: a.tile(2, 1),
    "diff": lambda T, a, b: a.diff(),
    "F.unfold": lambda T, a, b: T.nn.functional.unfold(a[None, None], 2),
    "F.fold": lambda T, a, b: T.nn.functional.fold(a.T[None], (2, 4), 2),
    "grid_sample": lambda T, a, b: T.nn.functional.grid_sample(
        a[None, None], b[None, :2, :, None].expand(1, 2, 4, 2), align_corners=False),
    "affine_grid": lambda T, a, b: T.nn.functional.affine_grid(
        a[None, :2, :3], (1, 1, 2, 2), align_corners=False),
    "Bilinear": lambda T, a, b: T.nn.Bilinear(4, 4, 2)(a, b),
    "Bilinear without bias": lambda T, a, b: T.nn.Bilinear(4, 4, 2, bias=False)(a, b),
    **{f"{name} {reduction}{', full' * full}": functools.partial(
        lambda T, a, b, name, reduction, full: (
            T.nn.functional.gaussian_nll_loss(a, b, b.abs() + 1, full=full,
                                              reduction=reduction)
            if name == "gaussian_nll" else T.nn.functional.poisson_nll_loss(
                a, b.abs(), full=full, reduction=reduction)),
        name=name, reduction=reduction, full=full)
       for name in ("gaussian_nll", "poisson_nll") for reduction in ("none", "mean", "sum")
       for full in (False, True)},
    "multilabel_soft_margin none": lambda T, a, b: T.nn.functional.multilabel_soft_margin_loss(
        a, (b > 0).float(), reduction="none"),
    "soft_margin": lambda T, a, b: T.nn.functional.soft_margin_loss(a, b.sign().detach()),
    "multi_margin": lambda T, a, b: T.nn.functional.multi_margin_loss(a, T.tensor([0, 1, 2])),
    "trace": lambda T, a, b: a[:, :3].trace(),
    "scatter_ of a value": lambda T, a, b: _written(
        a, lambda x: x.scatter_(1, T.tensor([[0], [1], [2]]), 0.0)),
}


def _written(a, write):
    """A clone of ``a`` after ``write`` changed it in place."""
    x = a.clone()
    write(x)
    return x


def _spd(T, a):
    """A symmetric positive-definite 3x3 matrix made from ``a`` (differentiably)."""
    return a[:, :3] @ a[:, :3].mT + T.eye(3)


@pytest.mark.parametrize("name", list(GRAD_FNS))
def test_grad_fn_names_as_torch(torch, name):
    rng = np.random.default_rng(1)
    a, b = (rng.standard_normal((3, 4)).astype(np.float32) for _ in range(2))
    names = []
    for T in (torch, ft):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = GRAD_FNS[name](T, T.tensor(a, requires_grad=True),
                                 T.tensor(b, requires_grad=True))
        # the node's name, and its class's name (what printing the tensor shows)
        names.append((out.grad_fn.name(), type(out.grad_fn).__name__))
    assert names[1] == names[0]


def _linear_with_grad(T):
    layer = T.nn.Linear(2, 2)
    layer(T.ones(1, 2)).sum().backward()
    return layer


def _checkpointed(T, **kwargs):
    layer = T.nn.Linear(2, 2)
    return layer, T.utils.checkpoint.checkpoint(layer, T.ones(1, 2), **kwargs)


#: single calls intermediate code makes, whose errors PyTorch words its own way
MISTAKES = {
    "module assigned before Module.__init__": lambda T: type(
        "Early", (T.nn.Module,), {"__init__": lambda self: setattr(self, "fc", T.nn.ReLU())})(),
    "parameter assigned before Module.__init__": lambda T: type(
        "Early", (T.nn.Module,),
        {"__init__": lambda self: setattr(self, "w", T.nn.Parameter(T.ones(1)))})(),
    "class weight of another length": lambda T: T.nn.functional.cross_entropy(
        T.ones(4, 3), T.zeros(4, dtype=T.long), weight=T.ones(4)),
    "class weight of a matrix, nll_loss": lambda T: T.nn.functional.nll_loss(
        T.ones(2, 3), T.tensor([0, 1]), weight=T.ones(1, 3)),
    "class weight with probabilities": lambda T: T.nn.functional.cross_entropy(
        T.ones(2, 3), T.ones(2, 3) / 3, weight=T.ones(4)),
    "class weight of a sequence": lambda T: T.nn.CrossEntropyLoss(weight=T.ones(4))(
        T.ones(2, 3, 5), T.zeros(2, 5, dtype=T.long)),
    "label smoothing above 1": lambda T: T.nn.functional.cross_entropy(
        T.ones(4, 3), T.zeros(4, dtype=T.long), label_smoothing=1.5),
    "BCE of a probability above 1": lambda T: T.nn.functional.binary_cross_entropy(
        T.tensor([1.5]), T.tensor([1.0])),
    "BCE of a target above 1": lambda T: T.nn.functional.binary_cross_entropy(
        T.tensor([0.5]), T.tensor([2.0])),
    "cosine embedding, a target per another batch": lambda T: T.nn.CosineEmbeddingLoss()(
        T.ones(2, 3), T.ones(2, 3), T.ones(3)),
    "cosine embedding, inputs of other widths": lambda T: T.nn.functional.cosine_embedding_loss(
        T.ones(2, 3), T.ones(2, 4), T.ones(2)),
    "cosine embedding, 1-D target for vectors": lambda T: T.nn.functional.cosine_embedding_loss(
        T.ones(3), T.ones(3), T.ones(2)),
    "cosine embedding, 2-D target": lambda T: T.nn.functional.cosine_embedding_loss(
        T.ones(2, 3), T.ones(2, 3), T.ones(2, 1)),
    "topk larger than the dim": lambda T: T.ones(3).topk(5),
    "bincount of floats": lambda T: T.tensor([1.0, 2.0]).bincount(),
    "bincount of bools": lambda T: T.bincount(T.tensor([True])),
    "bincount, weights of another length": lambda T: T.tensor([1, 2]).bincount(
        weights=T.ones(3)),
    "bincount, negative minlength": lambda T: T.tensor([1, 2]).bincount(minlength=-1),
    "norm of integers": lambda T: T.nn.functional.normalize(T.tensor([[1, 2]])),
    "vector_norm of integers": lambda T: T.linalg.vector_norm(T.tensor([1, 2])),
    "set_grad_enabled of a string": lambda T: T.set_grad_enabled("yes"),
    "set_grad_enabled of an int": lambda T: T.set_grad_enabled(1),
    "deepcopy of a non-leaf": lambda T: __import__("copy").deepcopy(
        T.ones(2, requires_grad=True) * 2),
    "seed beyond 64 bits": lambda T: T.manual_seed(2 ** 64),
    "generator seeded with a float": lambda T: T.Generator().manual_seed(1.5),
    "SWALR with an unknown annealing": lambda T: T.optim.swa_utils.SWALR(
        T.optim.SGD(T.nn.Linear(2, 2).parameters(), lr=0.1), swa_lr=0.05,
        anneal_strategy="bogus"),
    "tied weight of another width": lambda T: (
        lambda e, d: (setattr(d, "weight", e.weight), d(T.ones(1, 4))))(
            T.nn.Embedding(5, 3), T.nn.Linear(4, 5)),
    "device of another backend": lambda T: T.nn.Linear(2, 2).to("tpu"),
    "a move to an XLA device": lambda T: T.ones(1).to("xla"),
    "backward twice": lambda T: (lambda y: (y.backward(), y.backward()))(
        (T.ones(2, requires_grad=True) ** 2).sum()),
    "checkpoint with keywords, reentrant": lambda T: T.utils.checkpoint.checkpoint(
        lambda x, scale: x * scale, T.ones(1, requires_grad=True), scale=2.0,
        use_reentrant=True),
}


@pytest.mark.parametrize("name", list(MISTAKES))
def test_intermediate_mistakes_raise_as_torch(torch, name):
    theirs, ours = raised_by(MISTAKES[name], torch, ft)
    assert ours == theirs


def test_seeds_torch_accepts_are_accepted(torch):
    for seed in (-1, 1.5, "3", True, 2 ** 63):
        assert ft.manual_seed(seed).initial_seed() == torch.manual_seed(seed).initial_seed()
        assert ft.initial_seed() == torch.initial_seed()
    ft.manual_seed(0)
    torch.manual_seed(0)


def test_bare_grad_mode_decorators_as_torch(torch):
    results = []
    for T in (torch, ft):
        @T.no_grad
        def frozen(x):
            return x * 2

        @T.inference_mode
        def predicted(x):
            return x * 2

        @T.enable_grad
        def tracked(x):
            return x * 2

        x = T.ones(1, requires_grad=True)
        with T.no_grad():
            inside = tracked(x).requires_grad
        results.append((frozen(x).requires_grad, predicted(x).requires_grad, inside,
                        T.is_grad_enabled()))
    assert results[1] == results[0] == (False, False, True, True)


def test_bincount_of_integer_weights_is_floating_as_torch(torch):
    counts = [T.tensor([0, 2, 2]).bincount(weights=T.tensor([1, 2, 3])) for T in (torch, ft)]
    assert counts[1].tolist() == counts[0].tolist() == [1.0, 0.0, 5.0]
    assert counts[1].is_floating_point()


def test_negative_label_smoothing_is_none_as_torch(torch):
    logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]], np.float32)
    losses = [T.nn.CrossEntropyLoss(label_smoothing=-0.2)(T.tensor(logits), T.tensor([0, 2]))
              .item() for T in (torch, ft)]
    assert losses[1] == pytest.approx(losses[0], rel=1e-6)


def test_checkpoint_warns_and_the_reentrant_form_drops_the_graph_as_torch(torch):
    seen = []
    for T in (torch, ft):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            layer, out = _checkpointed(T)  # use_reentrant not given: reentrant, warned
            _, kept = _checkpointed(T, use_reentrant=False)
            seq = T.nn.Sequential(T.nn.Linear(2, 2), T.nn.Linear(2, 2), T.nn.Linear(2, 1))
            last = T.utils.checkpoint.checkpoint_sequential(seq, 2, T.ones(1, 2))
            last.sum().backward()
        seen.append(([str(w.message) for w in caught], out.requires_grad, kept.requires_grad,
                     seq[0].weight.grad is None, seq[2].weight.grad is None))
    assert seen[1] == seen[0]
    assert seen[0][1:] == (False, True, True, False)


def test_one_cycle_rates_and_momentum_are_double_precision_as_torch(torch):
    seen = []
    for T in (torch, ft):
        opt = T.optim.SGD([T.nn.Parameter(T.ones(1))], lr=0.1, momentum=0.9)
        sched = T.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=8)
        rates = []
        for _ in range(6):
            opt.step()
            sched.step()
            rates.append((sched.get_last_lr()[0], opt.param_groups[0]["momentum"]))
        seen.append(rates)
    np.testing.assert_allclose(seen[1], seen[0], rtol=1e-13)


def test_reduce_lr_on_plateau_state_dict_as_torch(torch):
    saved = []
    for T in (torch, ft):
        opt = T.optim.SGD([T.nn.Parameter(T.ones(1))], lr=0.1)
        sched = T.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", patience=0)
        for metric in (1.0, 0.5, 0.4):
            sched.step(metric)
        saved.append(sched.state_dict())
    assert list(saved[1].items()) == list(saved[0].items())


def test_foreach_ema_updates_as_torch(torch):
    values = []
    for T in (torch, ft):
        ema = [T.ones(2), T.full((3,), 2.0)]
        model = [T.zeros(2), T.full((3,), 4.0)]
        T._foreach_lerp_(ema, model, 0.25)
        T._foreach_mul_(ema, 0.5)
        T._foreach_add_(ema, model, alpha=0.1)
        T._foreach_sub_(ema, [T.ones(2), T.ones(3)])
        T._foreach_div_(ema, [2.0, 4.0])
        scaled = T._foreach_mul(ema, 3.0)
        norms = T._foreach_norm(ema)
        T._foreach_copy_(model, ema)
        T._foreach_zero_(ema)
        values.append([t.tolist() for t in (*scaled, *norms, *model, *ema)] +
                      [type(scaled).__name__])
    np.testing.assert_allclose(np.concatenate([np.ravel(v) for v in values[1][:-1]]),
                               np.concatenate([np.ravel(v) for v in values[0][:-1]]),
                               rtol=1e-6)
    assert values[1][-1] == values[0][-1]
    theirs, ours = raised_by(lambda T: T._foreach_add_([T.ones(2), T.ones(3)], [T.ones(2)]),
                             torch, ft)
    assert ours == theirs


def _required(T):
    """``from torch.optim.optimizer import required``, of PyTorch or fnnet.torch."""
    return importlib.import_module(f"{T.__name__}.optim.optimizer").required


def _with_required_lr(T):
    required = _required(T)

    class Plain(T.optim.Optimizer):
        def __init__(self, params, lr=required):
            super().__init__(params, {"lr": lr})

    return Plain


#: optimizer construction and weighted binary losses, mistaken as users mistake them
SETUP_MISTAKES = {
    "a group without params": lambda T: T.optim.SGD([{"lr": 0.1}], lr=0.1),
    "a group that is no dict": lambda T: T.optim.SGD(T.nn.Linear(2, 2).parameters(),
                                                     lr=0.1).add_param_group([1]),
    "a group of a set": lambda T: (lambda m: T.optim.SGD([m.weight], lr=0.1).add_param_group(
        {"params": {m.bias}}))(T.nn.Linear(2, 2)),
    "a required lr not given": lambda T: _with_required_lr(T)(T.nn.Linear(2, 2).parameters()),
    "pos_weight of another width": lambda T: T.nn.BCEWithLogitsLoss(pos_weight=T.ones(2))(
        T.zeros(2, 3), T.ones(2, 3)),
    "weight of another width, logits": lambda T: T.nn.functional.binary_cross_entropy_with_logits(
        T.zeros(2, 3), T.ones(2, 3), weight=T.ones(2)),
    "weight broadcasting beyond the input": lambda T: T.nn.BCEWithLogitsLoss(
        weight=T.ones(4, 1, 1))(T.zeros(2, 3), T.ones(2, 3)),
    "weight of another width, BCE": lambda T: T.nn.BCELoss(weight=T.ones(3, 1))(
        T.full((2, 3), 0.5), T.ones(2, 3)),
}


@pytest.mark.parametrize("name", list(SETUP_MISTAKES))
def test_setup_mistakes_raise_as_torch(torch, name):
    theirs, ours = raised_by(SETUP_MISTAKES[name], torch, ft)
    assert ours == theirs


def test_a_required_lr_given_per_group_is_taken(torch):
    model = ft.nn.Linear(2, 2)
    opt = _with_required_lr(ft)([{"params": [model.weight], "lr": 0.5}])
    assert opt.param_groups[0]["lr"] == 0.5
    assert repr(_required(ft)) == repr(_required(torch))


def test_values_and_indices_are_named_by_their_op_as_torch(torch):
    names = []
    for T in (torch, ft):
        x = T.tensor([[3.0, 1.0], [0.0, 5.0]])
        names.append([type(r).__name__ for r in (x.max(dim=1), x.min(1), x.sort(), x.topk(1),
                                                 x.median(1), x.kthvalue(1, 1))])
    assert names[1] == names[0]


def test_detect_anomaly_warns_as_torch(torch):
    messages = []
    for T in (torch, ft):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with T.autograd.detect_anomaly():
                pass
        messages.append([str(w.message) for w in caught])
    assert messages[1] == messages[0] and messages[0]


def test_add_and_sub_take_alpha_as_torch(torch):
    values = []
    for T in (torch, ft):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = T.tensor([0.5, -1.0])
        out = [x.add(y, alpha=2), x.sub(y, alpha=0.5), T.add(x, y, alpha=-1), T.sub(x, 3),
               x.add(1)]
        values.append(([t.tolist() for t in out], out[0].grad_fn.name()))
    assert values[1] == values[0]


def test_normalisation_and_convolution_layers_are_found_by_torchs_base_classes(torch):
    found = []
    for T in (torch, ft):
        model = T.nn.Sequential(T.nn.Conv2d(1, 2, 3), T.nn.BatchNorm2d(2),
                                T.nn.InstanceNorm2d(2), T.nn.BatchNorm1d(2), T.nn.Linear(2, 2))
        batchnorm = importlib.import_module(f"{T.__name__}.nn.modules.batchnorm")
        conv = importlib.import_module(f"{T.__name__}.nn.modules.conv")
        found.append(([isinstance(m, batchnorm._BatchNorm) for m in model],
                      [isinstance(m, batchnorm._NormBase) for m in model],
                      issubclass(T.nn.SyncBatchNorm, batchnorm._BatchNorm),  # its subclass
                      [isinstance(m, conv._ConvNd) for m in model],
                      isinstance(T.nn.ConvTranspose2d(1, 1, 2), conv._ConvTransposeNd),
                      isinstance(T.nn.Conv1d(1, 1, 2), conv._ConvNd)))
    assert found[1] == found[0]
