"""What users write once past the beginner course, against PyTorch in the same process:
their own ``torch.optim.Optimizer`` subclass, buffers and tied weights, gradient
clipping that refuses a non-finite norm, metric-learning losses with their own
distance, the names of the backward nodes printed with a loss, and PyTorch's words
where such code goes wrong."""

from __future__ import annotations

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
    "prod": lambda T, a, b: a.prod(),
    "prod along a dim": lambda T, a, b: a.prod(1),
    "outer": lambda T, a, b: T.outer(a[0], b[0]),
    "chunk": lambda T, a, b: a.chunk(2, 1)[0],
    "narrow": lambda T, a, b: a.narrow(1, 0, 2),
}


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
        names.append(out.grad_fn.name())
    assert names[1] == names[0]
