"""What users write once past the beginner course, against PyTorch in the same process:
their own ``torch.optim.Optimizer`` subclass, buffers and tied weights, and PyTorch's
words where such code goes wrong."""

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
