"""The optimizers added for the beginner courses (Adadelta, Adamax, NAdam, RAdam, Rprop,
ASGD, with AdamW) against ``torch.optim``: 30-step trajectories of a small regression,
through fnnet.optim directly and through fnnet.torch.optim.

Parameters agree within 1e-5 relative: torch computes the bias corrections
and step sizes as float64 Python scalars, fnnet in float32 inside the compiled step, its
bias corrections exact to float32 rounding (fnnet.optim.transforms.one_minus_power)."""

from __future__ import annotations

import importlib

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from helpers import raised_by

import fnnet.optim as fopt
import fnnet.torch as ft

pytestmark = pytest.mark.torch


@pytest.fixture(autouse=True)
def _fresh_compile_cache():
    """Each test's structures are new: without a reset, the shim's switch to op-by-op
    execution after many distinct structures would carry over into later tests."""
    yield
    ft.reset_compile_stats()

STEPS = 30
RTOL = 1e-5
CASES = [
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1, maximize=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.05)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.01, amsgrad=True)),
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.05, etas=(0.4, 1.3), step_sizes=(1e-3, 0.2), maximize=True)),
    ("ASGD", dict(lr=0.05, lambd=1e-2, alpha=0.6, t0=5, weight_decay=0.01)),
    ("ASGD", dict()),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),  # AdamW's rule
    ("Adafactor", dict()),  # the weight factored, the bias whole
    ("Adafactor", dict(lr=0.05, beta2_decay=-0.5, eps=(1e-4, 1e-2), d=1.5, weight_decay=0.1)),
    ("Adafactor", dict(maximize=True, eps=(None, 0.1))),
]

_RNG = np.random.default_rng(0)
X = _RNG.standard_normal((16, 3)).astype(np.float32)
Y = _RNG.standard_normal((16, 2)).astype(np.float32)
W0 = _RNG.standard_normal((2, 3)).astype(np.float32)
B0 = _RNG.standard_normal((2,)).astype(np.float32)


def _torch_run(torch, name, kwargs):
    w, b = torch.tensor(W0, requires_grad=True), torch.tensor(B0, requires_grad=True)
    opt = getattr(torch.optim, name)([w, b], **kwargs)
    for _ in range(STEPS):
        opt.zero_grad()
        ((torch.tensor(X) @ w.T + b - torch.tensor(Y)) ** 2).mean().backward()
        opt.step()
    return [w.detach().numpy(), b.detach().numpy()], opt.state_dict()


@pytest.mark.parametrize("name, kwargs", CASES)
def test_fnnet_optim_trajectory_matches_torch(torch, name, kwargs):
    expected, _ = _torch_run(torch, name, kwargs)
    tx = getattr(fopt, name)(**kwargs)
    params = {"weight": jnp.asarray(W0), "bias": jnp.asarray(B0)}
    state = tx.init(params)

    @jax.jit
    def step(params, state):
        grads = jax.grad(lambda p: jnp.mean((X @ p["weight"].T + p["bias"] - Y) ** 2))(params)
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    for _ in range(STEPS):
        params, state = step(params, state)
    np.testing.assert_allclose(params["weight"], expected[0], rtol=RTOL, atol=1e-6)
    np.testing.assert_allclose(params["bias"], expected[1], rtol=RTOL, atol=1e-6)


@pytest.mark.parametrize("name, kwargs", CASES[::2])
def test_shim_optimizer_matches_torch_with_closure(torch, name, kwargs):
    expected, torch_state = _torch_run(torch, name, kwargs)
    w, b = ft.tensor(W0, requires_grad=True), ft.tensor(B0, requires_grad=True)
    opt = getattr(ft.optim, name)([w, b], **kwargs)
    x, y = ft.tensor(X), ft.tensor(Y)

    def closure():
        opt.zero_grad()
        loss = ((x @ w.T + b - y) ** 2).mean()
        loss.backward()
        return loss

    for _ in range(STEPS):
        opt.step(closure)
    np.testing.assert_allclose(w.detach().numpy(), expected[0], rtol=RTOL, atol=1e-6)
    np.testing.assert_allclose(b.detach().numpy(), expected[1], rtol=RTOL, atol=1e-6)
    ours = opt.state_dict()["state"][0]
    for key, value in torch_state["state"][0].items():
        assert key in ours, key
        np.testing.assert_allclose(np.asarray(ours[key].numpy() if hasattr(ours[key], "numpy")
                                              else ours[key], np.float32),
                                   value.numpy() if hasattr(value, "numpy") else value,
                                   rtol=1e-4, atol=1e-6, err_msg=key)


@pytest.mark.parametrize("name, kwargs, message", [
    ("Adadelta", dict(rho=1.5), "Invalid rho value: 1.5"),
    ("Adamax", dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
    ("NAdam", dict(momentum_decay=-1.0), "Invalid momentum_decay value: -1.0"),
    ("RAdam", dict(lr=-1.0), "Invalid learning rate: -1.0"),
    ("Rprop", dict(etas=(1.5, 1.2)), "Invalid eta values: 1.5, 1.2"),
    ("ASGD", dict(weight_decay=-1.0), "Invalid weight_decay value: -1.0"),
    ("Adafactor", dict(beta2_decay=0.5), "beta2_decay should be <= 0 but is: 0.5"),
    ("Adafactor", dict(eps=(-1.0, 1e-3)), "epsilon1 should be >= 0 but is: -1.0"),
    ("Adafactor", dict(d=0.5), "Clipping threshold d should be >= 1 but is: 0.5"),
    ("Adafactor", dict(lr=-1.0), "Learning rate should be >= 0 but is: -1.0"),
])
def test_bad_hyperparameters_raise_torchs_message(torch, name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError, match=message):
        getattr(ft.optim, name)([ft.zeros(1, requires_grad=True)], **kwargs)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam",
                                  "Adagrad", "Adadelta", "RMSprop", "Rprop", "ASGD",
                                  "SparseAdam", "LBFGS", "Muon", "Adafactor"])
def test_a_learning_rate_tensor_of_several_elements_is_pytorchs_error(torch, name):
    def build(T):
        getattr(T.optim, name)([T.zeros(2, 2, requires_grad=True)], lr=T.tensor([0.1, 0.2]))
    theirs, ours = raised_by(build, torch, ft)
    assert ours == theirs == (ValueError, "Tensor lr must be 1-element")


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW"])
def test_a_learning_rate_tensor_of_one_element_trains_as_pytorchs(torch, name):
    """``lr=torch.tensor(0.01)`` (and ``betas`` of tensors), as PyTorch 2 takes them."""
    weights = {}
    for T in (torch, ft):
        T.manual_seed(0)
        model = T.nn.Linear(3, 2)
        extra = {} if name == "SGD" else {"betas": (T.tensor(0.8), T.tensor(0.95))}
        optimizer = getattr(T.optim, name)(model.parameters(), lr=T.tensor(0.05), **extra)
        x = T.arange(12.0).reshape(4, 3) / 10
        for _ in range(3):
            optimizer.zero_grad()
            model(x).pow(2).mean().backward()
            optimizer.step()
        weights[T] = [p.detach().numpy() for p in model.parameters()]
    for ours, theirs in zip(weights[ft], weights[torch], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-7)


SCHEDULERS = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[2, 5], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=6, eta_min=0.01)),
    ("LambdaLR", dict(lr_lambda=lambda epoch: 0.95 ** epoch / (1 + epoch))),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=12, cycle_momentum=False)),
    ("OneCycleLR", dict(max_lr=0.5, epochs=3, steps_per_epoch=4, anneal_strategy="linear",
                        three_phase=True, cycle_momentum=False)),
]


@pytest.mark.parametrize("name, kwargs", [("StepLR", dict(step_size=2, gamma=0.1)),
                                          ("MultiStepLR", dict(milestones=[1, 3]))])
def test_scheduler_rates_print_as_torchs_doubles(torch, name, kwargs):
    """Scripts print get_last_lr() and param_groups[0]['lr']: 0.010000000000000002 as in
    PyTorch, not float32's 0.010000000707805157."""
    printed = []
    for lib in (torch, ft):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        sched = getattr(lib.optim.lr_scheduler, name)(opt, **kwargs)
        for _ in range(4):
            opt.step()
            sched.step()
        printed.append((repr(sched.get_last_lr()), repr(opt.param_groups[0]["lr"])))
    assert printed[1] == printed[0]


@pytest.mark.parametrize("name, kwargs", SCHEDULERS)
def test_scheduler_learning_rates_match_torch(torch, name, kwargs):
    sequences = []
    for lib in (torch, ft):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        sched = getattr(lib.optim.lr_scheduler, name)(opt, **kwargs)
        lrs = [opt.param_groups[0]["lr"]]
        for _ in range(11):
            opt.step()
            sched.step()
            lrs.append(opt.param_groups[0]["lr"])
        assert sched.get_last_lr() == [lrs[-1]]
        sequences.append(lrs)
    assert sequences[1] == sequences[0]  # PyTorch's floats, digit for digit


#: every scheduler of torch.optim.lr_scheduler, as scripts build them (momentum cycled
#: where the scheduler cycles it by default)
EVERY_SCHEDULER = {
    "StepLR": lambda S, o: S.StepLR(o, 3, 0.7),
    "MultiStepLR": lambda S, o: S.MultiStepLR(o, [4, 9, 9, 13], 0.3),
    "ExponentialLR": lambda S, o: S.ExponentialLR(o, 0.93),
    "CosineAnnealingLR": lambda S, o: S.CosineAnnealingLR(o, 11, 1e-4),
    "CosineAnnealingWarmRestarts": lambda S, o: S.CosineAnnealingWarmRestarts(o, 5, 2, 1e-5),
    "LambdaLR": lambda S, o: S.LambdaLR(o, lambda e: 0.95 ** e),
    "MultiplicativeLR": lambda S, o: S.MultiplicativeLR(o, lambda e: 0.97),
    "OneCycleLR": lambda S, o: S.OneCycleLR(o, 0.3, total_steps=30),
    "OneCycleLR linear three-phase": lambda S, o: S.OneCycleLR(
        o, 0.3, total_steps=30, anneal_strategy="linear", three_phase=True),
    "CyclicLR": lambda S, o: S.CyclicLR(o, 0.01, 0.1, step_size_up=4),
    "CyclicLR exp_range": lambda S, o: S.CyclicLR(o, 0.01, 0.1, step_size_up=4,
                                                  mode="exp_range", gamma=0.97),
    "PolynomialLR": lambda S, o: S.PolynomialLR(o, 20, 2.0),
    "LinearLR": lambda S, o: S.LinearLR(o, 0.1, 1.0, 7),
    "ConstantLR": lambda S, o: S.ConstantLR(o, 0.3, 5),
    "SequentialLR": lambda S, o: S.SequentialLR(
        o, [S.LinearLR(o, 0.01, 1.0, 5), S.CosineAnnealingLR(o, 20)], [5]),
    "ChainedScheduler": lambda S, o: S.ChainedScheduler([S.ExponentialLR(o, 0.9),
                                                         S.StepLR(o, 4, 0.5)]),
    "ReduceLROnPlateau": lambda S, o: S.ReduceLROnPlateau(o, patience=1, factor=0.37),
}


@pytest.mark.parametrize("name", list(EVERY_SCHEDULER))
def test_every_scheduler_writes_torchs_floats_digit_for_digit(torch, name):
    """A training log prints get_last_lr() or param_groups[0]['lr'] every epoch: each
    scheduler's rates (and momenta) are PyTorch's floats exactly, 0.0343 and not
    0.03429999999999999, and the state it saves has PyTorch's keys."""
    runs = []
    for lib in (torch, ft):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
        sched = EVERY_SCHEDULER[name](lib.optim.lr_scheduler, opt)
        printed = [repr(sched.get_last_lr())]
        for epoch in range(29):
            opt.step()
            sched.step(1.0 + epoch % 3) if name == "ReduceLROnPlateau" else sched.step()
            group = opt.param_groups[0]
            printed.append((repr(group["lr"]), repr(group["momentum"]),
                            repr(sched.get_last_lr())))
        runs.append((printed, sorted(sched.state_dict())))
    assert runs[1] == runs[0]


def test_get_lr_called_by_a_program_warns_and_moves_on_as_torchs(torch):
    """PyTorch's get_lr() is the next recursive step, not the last rate: a script that
    prints it sees another value and a warning naming get_last_lr()."""
    seen = []
    for lib in (torch, ft):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        sched = lib.optim.lr_scheduler.StepLR(opt, 2, 0.5)
        values = []
        for _ in range(4):
            opt.step()
            sched.step()
            with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
                values.append((sched.get_lr(), sched.get_last_lr()))
        with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step\\(\\)`"):
            sched.step(7)
        values.append(sched.get_last_lr())
        seen.append(values)
    assert seen[1] == seen[0]


def _warm_up_by_hand(lib, opt, epoch):
    if epoch < 2:  # a warm-up written into the groups, as scripts do
        for group in opt.param_groups:
            group["lr"] = 0.1 * (epoch + 1) / 3


#: programs whose rates change outside the scheduler being stepped: PyTorch's chainable
#: schedulers move the group's current rate, not the initial one's schedule
RATES_CHANGED_ELSEWHERE = {
    "cosine after a warm-up by hand": (
        lambda S, opt: [S.CosineAnnealingLR(opt, T_max=4, eta_min=0.01)], _warm_up_by_hand),
    "step after a warm-up by hand": (
        lambda S, opt: [S.StepLR(opt, 2, gamma=0.5)], _warm_up_by_hand),
    "two schedulers stepped in turn": (
        lambda S, opt: [S.LinearLR(opt, start_factor=0.5, total_iters=3),
                        S.ExponentialLR(opt, gamma=0.9)], None),
    "ChainedScheduler": (
        lambda S, opt: [S.ChainedScheduler([S.ConstantLR(opt, factor=0.2, total_iters=2),
                                            S.PolynomialLR(opt, total_iters=5, power=2.0)])],
        None),
    "a second scheduler on a stepped optimizer": (
        lambda S, opt: [S.MultiStepLR(opt, milestones=[1, 2], gamma=0.5),
                        S.CosineAnnealingLR(opt, T_max=3)][1:], None),
}


@pytest.mark.parametrize("name", list(RATES_CHANGED_ELSEWHERE))
def test_chainable_schedulers_move_the_current_rate_as_torchs(torch, name):
    make, by_hand = RATES_CHANGED_ELSEWHERE[name]
    sequences = []
    for lib in (torch, ft):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        if name.startswith("a second"):
            first = lib.optim.lr_scheduler.StepLR(opt, 1, gamma=0.5)
            for _ in range(3):
                opt.step()
                first.step()
        schedulers = make(lib.optim.lr_scheduler, opt)
        lrs = [opt.param_groups[0]["lr"]]
        for epoch in range(9):
            if by_hand is not None:
                by_hand(lib, opt, epoch)
            opt.step()
            for scheduler in schedulers:
                scheduler.step()
            lrs.append(opt.param_groups[0]["lr"])
        sequences.append(lrs)
    assert sequences[1] == sequences[0]


@pytest.mark.parametrize("T_mult", [1, 2])
def test_warm_restarts_step_on_from_fractional_epochs_as_torchs(torch, T_mult):
    """PyTorch's documented use, step(epoch + i / iters) each batch, then step() on from
    there; the state (T_cur, T_i) loads in PyTorch and steps on alike."""
    runs = []
    for lib in (torch, ft):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        sched = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=T_mult,
                                                                   eta_min=0.001)
        lrs = []
        for epoch in range(3):
            for i in range(3):
                opt.step()
                sched.step(epoch + i / 3)
                lrs.append(opt.param_groups[0]["lr"])
        for _ in range(4):
            opt.step()
            sched.step()
            lrs.append(opt.param_groups[0]["lr"])
        runs.append((lrs, sched))
    (theirs, their_sched), (ours, our_sched) = runs
    assert ours == theirs
    our_state, their_state = our_sched.state_dict(), their_sched.state_dict()
    assert sorted(our_state) == sorted(their_state)
    assert (our_state["T_cur"], our_state["T_i"]) == pytest.approx(
        (their_state["T_cur"], their_state["T_i"]))
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    resumed = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=T_mult,
                                                                   eta_min=0.001)
    resumed.load_state_dict(our_state)
    for scheduler in (resumed, their_sched):
        scheduler.optimizer.step()
        scheduler.step()
    assert resumed.get_last_lr() == pytest.approx(their_sched.get_last_lr())


def test_lambda_lr_state_dict_round_trips_with_torch(torch):
    """A LambdaLR state saved by PyTorch (lr_lambdas: [None]) resumes in fnnet and back."""
    def make(lib):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        return opt, lib.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 0.5 ** epoch)

    (topt, tsched), (fopt, fsched) = make(torch), make(ft)
    for _ in range(3):
        topt.step()
        tsched.step()
    public = {k for k in make(torch)[1].state_dict() if not k.startswith("_")}
    assert {k for k in fsched.state_dict() if not k.startswith("_")} == public
    fsched.load_state_dict(tsched.state_dict())
    fopt.param_groups[0]["lr"] = topt.param_groups[0]["lr"]
    fopt.step()
    fsched.step()
    topt.step()
    tsched.step()
    assert fsched.get_last_lr() == tsched.get_last_lr()
    make(torch)[1].load_state_dict(fsched.state_dict())


def test_reduce_lr_on_plateau_matches_torch(torch):
    losses = [1.0, 0.9, 0.95, 0.91, 0.92, 0.89999, 0.93, 0.94, 0.5, 0.6, 0.7, 0.8, 0.9]
    seqs = []
    for lib in (torch, ft):
        opt = lib.optim.Adam([lib.zeros(1, requires_grad=True)], lr=0.1)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1,
                                                         cooldown=1, min_lr=0.01)
        seq = []
        for loss in losses:
            sched.step(loss)
            seq.append(opt.param_groups[0]["lr"])
        seqs.append(seq)
    assert seqs[1] == seqs[0]


def test_one_cycle_momentum_needs_an_optimizer_with_momentum(torch):
    message = "optimizer must support momentum or beta1 with `cycle_momentum` option enabled"
    for lib in (torch, ft):
        opt = lib.optim.Adagrad([lib.zeros(1, requires_grad=True)], lr=0.1)
        with pytest.raises(ValueError, match=message):
            lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)


def test_an_optimizers_state_dict_aliases_its_state_as_pytorchs(torch):
    """A state_dict kept across steps (``best = optimizer.state_dict()``) holds the state
    as it is now, as PyTorch's tensors shared with the optimizer do (its arrays were donated
    to the next step); Adagrad has its state from construction."""
    seen = []
    for lib in (torch, ft):
        w = lib.tensor(W0, requires_grad=True)
        adagrad = lib.optim.Adagrad([w], initial_accumulator_value=0.5)
        fresh = {k: v.tolist() for k, v in adagrad.state_dict()["state"][0].items()}
        adam = lib.optim.Adam([w], lr=0.1)
        kept = []
        for _ in range(3):
            adam.zero_grad()
            ((lib.tensor(X) @ w.T - lib.tensor(Y)) ** 2).mean().backward()
            adam.step()
            kept = kept or [adam.state_dict()]
        current = adam.state_dict()["state"][0]["exp_avg"].numpy()
        np.testing.assert_array_equal(kept[0]["state"][0]["exp_avg"].numpy(), current)
        adam.load_state_dict(kept[0])
        seen.append((fresh, current))
    assert seen[1][0] == seen[0][0]
    np.testing.assert_allclose(seen[1][1], seen[0][1], rtol=RTOL, atol=1e-6)


def test_adams_decoupled_weight_decay_is_adamws_group(torch):
    groups = []
    for lib in (torch, ft):
        adam = lib.optim.Adam([lib.zeros(2, requires_grad=True)], decoupled_weight_decay=True)
        adamw = lib.optim.AdamW([lib.zeros(2, requires_grad=True)])
        groups.append((sorted(k for k in adam.param_groups[0] if k != "params"),
                       adam.param_groups[0]["decoupled_weight_decay"],
                       adamw.param_groups[0]["decoupled_weight_decay"]))
        with pytest.raises(TypeError, match="unexpected keyword argument "
                                            "'decoupled_weight_decay'"):
            lib.optim.AdamW([lib.zeros(1, requires_grad=True)], decoupled_weight_decay=False)
    assert groups[1] == groups[0]


def test_optimizer_signatures_are_pytorchs(torch):
    """Programs read them: nanoGPT-style code asks `"fused" in
    inspect.signature(torch.optim.AdamW).parameters` before passing fused=True."""
    import inspect

    def parameters(cls):
        return [(p.name, p.kind, p.default)
                for p in inspect.signature(cls).parameters.values()]

    names = [n for n in dir(torch.optim) if isinstance(getattr(torch.optim, n), type)
             and issubclass(getattr(torch.optim, n), torch.optim.Optimizer)
             and n != "Optimizer" and hasattr(ft.optim, n)]
    assert "AdamW" in names and len(names) >= 12
    for name in names:
        assert parameters(getattr(ft.optim, name)) == parameters(getattr(torch.optim, name)), name


@pytest.mark.parametrize("name,kwargs", [
    ("SGD", {"lr": 0.1}), ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("Adam", {}), ("Adam", {"betas": [0.5, 0.9], "weight_decay": 1e-4}), ("AdamW", {}),
    ("Adagrad", {}), ("RMSprop", {"momentum": 0.5}), ("Adamax", {}), ("NAdam", {}),
    ("RAdam", {}), ("Adadelta", {}), ("LBFGS", {"history_size": 5})])
def test_an_optimizer_prints_and_groups_as_pytorch(torch, name, kwargs):
    """``print(optimizer)`` and ``param_groups`` (PyTorch's keys, order and default
    values: ``weight_decay: 0``, ``foreach: None``...), as tutorials print them."""
    theirs = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs)
    ours = getattr(ft.optim, name)([ft.zeros(2, requires_grad=True)], **kwargs)
    assert repr(ours) == repr(theirs)
    if name != "LBFGS":  # groups a blank line apart (no-weight-decay groups, say)
        theirs.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "lr": 0.5})
        ours.add_param_group({"params": [ft.zeros(1, requires_grad=True)], "lr": 0.5})
        assert repr(ours) == repr(theirs)
    assert [k for k in ours.param_groups[0]] == [k for k in theirs.param_groups[0]]
    # the state of a parameter not stepped yet reads as {} (PyTorch's defaultdict;
    # PyTorch's Adagrad fills its sums when built)
    assert name == "Adagrad" or ours.state[ours.param_groups[0]["params"][0]] == {} == \
        theirs.state[theirs.param_groups[0]["params"][0]]
    if name == "SGD":  # after a step, only a momentum gives a parameter state
        kept = []
        for lib in (torch, ft):
            w = lib.zeros(2, requires_grad=True)
            opt = lib.optim.SGD([w], **kwargs)
            w.grad = lib.ones(2)
            opt.step()
            kept.append([sorted(state) for state in opt.state.values()])
        assert kept[1] == kept[0]


def test_a_programs_own_scheduler_subclass_steps_as_pytorch(torch):
    """Warm-up then cosine, written as a subclass that defines get_lr (also under the
    older name _LRScheduler); the base class alone raises NotImplementedError."""
    runs = []
    for lib in (torch, ft):
        sched_mod = lib.optim.lr_scheduler

        for base in (sched_mod.LRScheduler, sched_mod._LRScheduler):
            class WarmupCosine(base):
                def __init__(self, optimizer, warmup, total, last_epoch=-1):
                    self.warmup, self.total = warmup, total
                    super().__init__(optimizer, last_epoch)

                def get_lr(self):
                    e = self.last_epoch
                    if e < self.warmup:
                        return [b * (e + 1) / self.warmup for b in self.base_lrs]
                    t = (e - self.warmup) / max(1, self.total - self.warmup)
                    return [b * 0.5 * (1 + np.cos(np.pi * t)) for b in self.base_lrs]

            opt = lib.optim.SGD([lib.zeros(2, requires_grad=True)], lr=0.1)
            sched = WarmupCosine(opt, 3, 10)
            lrs = []
            for _ in range(8):
                opt.step()
                sched.step()
                lrs.append(float(opt.param_groups[0]["lr"]))
            runs.append((lrs, sched.get_last_lr(), sorted(sched.state_dict())))
        with pytest.raises(NotImplementedError):
            sched_mod.LRScheduler(lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1))
    assert runs[2:] == runs[:2]


def _hooked_steps(lib, kind):
    """What the step hooks of a ``kind`` optimizer saw, and the losses and weights."""
    calls, results = [], []
    w = lib.tensor([1.0, -2.0], requires_grad=True)
    opt = kind([w], lr=0.1)

    def pre(o, args, kwargs):
        calls.append(("pre", o is opt, len(args), args[0] is opt, sorted(kwargs)))
        return (args[0],), {"closure": lambda: (w * w).sum()}

    first = opt.register_step_pre_hook(pre)
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append(
        ("post", len(args), sorted(kwargs))))
    for _ in range(2):
        opt.zero_grad()
        (w * w).sum().backward()
        loss = opt.step()
        results.append((round(loss.item(), 5), w.detach().numpy().round(5).tolist()))
    first.remove()
    opt.step()
    opt.register_step_pre_hook(lambda o, args, kwargs: "not a pair")
    with pytest.raises(RuntimeError) as bad:
        opt.step()
    return calls, results, str(bad.value).split(" must return")[-1]


def _descent(lib):
    """A gradient-descent optimizer as a program writes it."""

    class Descent(lib.optim.Optimizer):
        def __init__(self, params, lr):
            super().__init__(params, {"lr": lr})

        @lib.no_grad()
        def step(self, closure=None):
            with lib.enable_grad():
                loss = closure() if closure is not None else None
            for group in self.param_groups:
                for p in group["params"]:
                    p.add_(p.grad, alpha=-group["lr"])
            return loss

    return Descent


def test_step_hooks_run_around_every_step_as_pytorchs(torch):
    """register_step_pre_hook / register_step_post_hook on a library optimizer and on one
    the program writes, a pre-hook replacing the step's arguments, removal by handle, and
    a bad return."""
    runs = [[_hooked_steps(lib, kind) for kind in (lib.optim.Adam, _descent(lib))]
            for lib in (torch, ft)]
    assert runs[1] == runs[0]


def test_every_optimizers_step_hooks_run_outside_its_own_as_pytorchs(torch):
    order = []
    for lib in (torch, ft):
        hooks = importlib.import_module(f"{lib.__name__}.optim.optimizer")
        opt = lib.optim.SGD([lib.ones(2, requires_grad=True)], lr=0.1)
        opt.register_step_pre_hook(lambda o, a, k: order.append("own pre"))
        opt.register_step_post_hook(lambda o, a, k: order.append("own post"))
        handles = [hooks.register_optimizer_step_pre_hook(lambda o, a, k: order.append("pre")),
                   hooks.register_optimizer_step_post_hook(lambda o, a, k: order.append("post"))]
        try:
            opt.step()
        finally:
            for handle in handles:
                handle.remove()
        opt.step()
    assert order[:len(order) // 2] == order[len(order) // 2:] == [
        "pre", "own pre", "own post", "post", "own pre", "own post"]


@pytest.mark.parametrize(("name", "options"), [
    ("SGD", {"lr": 0.1}), ("SGD", {"lr": 0.03, "maximize": True}), ("Adam", {"lr": 0.01})])
def test_bfloat16_steps_round_as_torch(torch, name, options):
    """A bfloat16 parameter's step rounds as PyTorch's: SGD's ``param.add_(d,
    alpha=-lr)`` rounds alpha to bfloat16, adds in float32 and rounds once; Adam's
    ``addcdiv_`` adds the float32 step and rounds once. Bit for bit, over steps."""
    start = np.linspace(-1, 1, 512, dtype=np.float32).reshape(16, 32)
    seen = []
    for T in (torch, ft):
        w = T.nn.Parameter(T.tensor(start).to(T.bfloat16))
        optimizer = getattr(T.optim, name)([w], **options)
        steps = []
        for k in range(3):
            w.grad = T.tensor(np.sin(start * np.float32(3 + k))).to(T.bfloat16)
            optimizer.step()
            steps.append(w.detach().float().numpy().copy())
        seen.append(steps)
    for expected, got in zip(*seen, strict=True):
        np.testing.assert_array_equal(got, expected)


def _sparse_tables_trained(t):
    """An Embedding(sparse=True) with a padding row and a functional table looked up
    with sparse=True, trained by SparseAdam, each step looking up other rows, and a dense
    head by SGD."""
    emb = t.nn.Embedding(8, 3, padding_idx=0, sparse=True)
    table = t.zeros(8, 3, requires_grad=True)
    head = t.nn.Linear(3, 1)
    tables = [emb.weight, table]
    with t.no_grad():
        for i, p in enumerate([*tables, *head.parameters()]):
            p.copy_(t.tensor(np.random.default_rng(i).uniform(-1, 1, tuple(p.shape))
                             .astype(np.float32)))
        emb.weight[0] = 0
    sparse = t.optim.SparseAdam(tables, lr=0.05, betas=(0.8, 0.9))
    dense = t.optim.SGD(head.parameters(), lr=0.1, momentum=0.9)
    for rows in ([1, 2, 0], [2, 3, 3], [5, 1, 0], [6, 6, 6]):
        x = t.tensor(rows)
        loss = (head(emb(x) + t.nn.functional.embedding(x, table, sparse=True)) ** 2).mean()
        sparse.zero_grad()
        dense.zero_grad()
        loss.backward()
        sparse.step()
        dense.step()
    state = sparse.state_dict()["state"][1]
    return ([p.detach().numpy() for p in tables], state["step"],
            state["exp_avg_sq"].numpy(), repr(emb))


def test_sparse_embeddings_train_with_sparse_adam_as_pytorch(torch):
    """Only the rows a step looked up move (and their moments), as PyTorch's SparseAdam
    on its sparse gradients; the state counts steps in an int."""
    (theirs, their_step, their_moment, their_repr), (mine, my_step, my_moment, my_repr) = (
        _sparse_tables_trained(t) for t in (torch, ft))
    for a, b in zip(mine, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(my_moment, their_moment, rtol=1e-5)
    assert (my_step, type(my_step), my_repr) == (their_step, int, their_repr)


@pytest.mark.parametrize("name, kwargs, sparse", [
    ("Adam", {}, True), ("AdamW", {}, True), ("RMSprop", {}, True), ("NAdam", {}, True),
    ("SGD", {"weight_decay": 0.1}, True), ("SparseAdam", {}, False),
])
def test_a_gradient_of_the_wrong_layout_raises_as_pytorch(torch, name, kwargs, sparse):
    messages = []
    for t in (torch, ft):
        table = t.nn.Embedding(4, 2, sparse=sparse)
        optimizer = getattr(t.optim, name)(table.parameters(), lr=0.1, **kwargs)
        table(t.tensor([1])).sum().backward()
        with pytest.raises(RuntimeError) as error:
            optimizer.step()
        messages.append(str(error.value))
    assert messages[1] == messages[0]


MUON_CASES = [dict(), dict(lr=0.05, nesterov=False, weight_decay=0.0),
              dict(momentum=0.3, ns_steps=3, adjust_lr_fn="match_rms_adamw")]


def _muon_model(T):
    """Muon's hidden matrices (no bias) and an output layer for AdamW, PyTorch's pairing."""
    model = T.nn.Sequential(T.nn.Linear(6, 12, bias=False), T.nn.Tanh(),
                            T.nn.Linear(12, 8, bias=False), T.nn.Tanh(), T.nn.Linear(8, 2))
    rng = np.random.default_rng(1)
    with T.no_grad():
        for p in model.parameters():
            p.copy_(T.tensor(rng.uniform(-0.5, 0.5, tuple(p.shape)).astype(np.float32)))
    return model


def _muon_run(T, kwargs, steps=8):
    model = _muon_model(T)
    hidden = [p for p in model.parameters() if p.ndim == 2][:2]
    rest = [p for p in model.parameters() if all(p is not h for h in hidden)]
    muon, adamw = T.optim.Muon(hidden, **kwargs), T.optim.AdamW(rest, lr=0.01)
    rng = np.random.default_rng(2)
    x = T.tensor(rng.standard_normal((10, 6)).astype(np.float32))
    y = T.tensor(rng.standard_normal((10, 2)).astype(np.float32))
    losses = []
    for _ in range(steps):
        muon.zero_grad()
        adamw.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        muon.step()
        adamw.step()
        losses.append(loss.item())
    return losses, [p.detach().numpy() for p in model.parameters()], muon.state_dict()


@pytest.mark.slow
@pytest.mark.parametrize("kwargs", MUON_CASES)
def test_muon_with_adamw_trains_as_pytorch(torch, kwargs):
    """Muon's Newton-Schulz iteration runs in bfloat16 in both, each product summed in
    float32 and rounded once; where the two orders of summation round an element of the
    update to neighbouring bfloat16 values (a few elements in a hundred steps here), its
    parameter moves by one bfloat16 unit (0.4%) of the step, ``lr`` at most: the
    parameters agree within 2% of ``lr``, the losses to 1e-5."""
    theirs, ours = _muon_run(torch, kwargs), _muon_run(ft, kwargs)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5)
    for mine, expected in zip(ours[1], theirs[1], strict=True):
        np.testing.assert_allclose(mine, expected, rtol=1e-5,
                                   atol=0.02 * kwargs.get("lr", 1e-3))
    assert ours[2]["param_groups"] == theirs[2]["param_groups"]
    for index, state in theirs[2]["state"].items():
        assert sorted(ours[2]["state"][index]) == sorted(state) == ["momentum_buffer"]
        np.testing.assert_allclose(ours[2]["state"][index]["momentum_buffer"].numpy(),
                                   state["momentum_buffer"].numpy(), rtol=1e-5, atol=1e-7)


def test_fnnet_optim_muon_steps_as_torchs():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    start = {"a": rng.standard_normal((5, 9)).astype(np.float32),
             "b": rng.standard_normal((9, 4)).astype(np.float32)}
    grads = [{k: rng.standard_normal(v.shape).astype(np.float32) for k, v in start.items()}
             for _ in range(5)]
    theirs = {k: torch.nn.Parameter(torch.tensor(v)) for k, v in start.items()}
    opt = torch.optim.Muon(list(theirs.values()), lr=0.02)
    tx = fopt.Muon(lr=0.02)
    params = {k: jnp.asarray(v) for k, v in start.items()}
    state = tx.init(params)
    update = jax.jit(tx.update)
    for g in grads:
        for k, p in theirs.items():
            p.grad = torch.tensor(g[k])
        opt.step()
        updates, state = update({k: jnp.asarray(v) for k, v in g.items()}, state, params)
        params = optax.apply_updates(params, updates)
    for k, p in theirs.items():
        np.testing.assert_allclose(params[k], p.detach().numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(state["muon"].momentum_buffer[k],
                                   opt.state[p]["momentum_buffer"].numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("build", [
    lambda T: T.optim.Muon([T.zeros(3, requires_grad=True)]),
    lambda T: T.optim.Muon([T.zeros(2, 2, requires_grad=True)], lr=-0.1),
    lambda T: T.optim.Muon([T.zeros(2, 2, requires_grad=True)], momentum=-0.5),
    lambda T: T.optim.Muon([T.zeros(2, 2, requires_grad=True)], weight_decay=-1),
    lambda T: T.optim.Muon([T.zeros(2, 2, requires_grad=True)], adjust_lr_fn="spectral"),
])
def test_muon_refuses_what_pytorchs_refuses(torch, build):
    theirs, ours = raised_by(build, torch, ft)
    assert ours == theirs and theirs[0] is ValueError


@pytest.mark.parametrize("kwargs, message", [
    (dict(eps="x"), "eps must be a number, got 'x'"),
    (dict(ns_coefficients=3), "ns_coefficients must be a tuple of 3 numbers, got 3"),
    (dict(ns_coefficients=("a", 1, 2)), r"ns_coefficients\[0\] must be a number, got 'a'"),
    (dict(ns_steps=2.5), "ns_steps must be a non-negative int, got 2.5"),
])
def test_fnnet_optim_muon_names_a_setting_of_the_wrong_type(kwargs, message):
    with pytest.raises(TypeError, match=f"^{message}$"):
        fopt.Muon(**kwargs)


def test_fnnet_optim_muon_names_a_parameter_that_is_not_a_matrix():
    with pytest.raises(ValueError, match=r"found a parameter with size: \(3,\) \(at \['b'\]\)"):
        fopt.Muon().init({"w": jnp.zeros((2, 3)), "b": jnp.zeros(3)})


def test_state_loaded_from_a_live_pytorch_optimizer_is_a_copy(torch):
    """The shim's state must not follow a PyTorch optimizer that keeps stepping (jax may
    read a host array's memory in place; its values would change under the shim)."""
    weight = torch.nn.Parameter(torch.ones(3, 2))
    theirs = torch.optim.SGD([weight], lr=0.1, momentum=0.9)
    weight.grad = torch.ones(3, 2)
    theirs.step()
    mine = ft.nn.Parameter(ft.ones(3, 2))
    ours = ft.optim.SGD([mine], lr=0.1, momentum=0.9)
    ours.load_state_dict(theirs.state_dict())
    with torch.no_grad():
        theirs.state[weight]["momentum_buffer"].add_(100.0)
    np.testing.assert_array_equal(ours.state[mine]["momentum_buffer"].numpy(),
                                  np.ones((3, 2), np.float32))


def test_adafactor_resumes_from_pytorchs_state_dict(torch):
    """A checkpoint keeps a matrix's row_var and col_var and a vector's variance only;
    the shim's loads it and steps on as PyTorch's does."""
    def build(T):
        w, b = T.tensor(W0, requires_grad=True), T.tensor(B0, requires_grad=True)
        return w, b, T.optim.Adafactor([w, b], lr=0.05, weight_decay=0.01)

    def steps(T, w, b, opt, n):
        for _ in range(n):
            opt.zero_grad()
            ((T.tensor(X) @ w.T + b - T.tensor(Y)) ** 2).mean().backward()
            opt.step()

    w, b, theirs = build(torch)
    steps(torch, w, b, theirs, 3)
    saved = theirs.state_dict()
    assert sorted(saved["state"][0]) == ["col_var", "row_var", "step"]
    assert sorted(saved["state"][1]) == ["step", "variance"]
    mine_w, mine_b, ours = build(ft)
    with ft.no_grad():
        mine_w.copy_(ft.tensor(w.detach().numpy()))
        mine_b.copy_(ft.tensor(b.detach().numpy()))
    ours.load_state_dict(saved)
    steps(torch, w, b, theirs, 2)
    steps(ft, mine_w, mine_b, ours, 2)
    np.testing.assert_allclose(mine_w.detach().numpy(), w.detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(mine_b.detach().numpy(), b.detach().numpy(), rtol=1e-5)
    assert {k: sorted(v) for k, v in ours.state_dict()["state"].items()} == \
        {k: sorted(v) for k, v in theirs.state_dict()["state"].items()}


def _state_dict_hooks(T, name):
    """The optimizer's state-dict hooks as a checkpointing library registers them: a pre
    hook (one prepended), a post hook adding a key, a load pre hook removing it, a load
    post hook; the log of calls and the keys each saw."""
    p = T.nn.Parameter(T.ones(2))
    opt = T.optim.LBFGS([p]) if name == "LBFGS" else getattr(T.optim, name)([p], lr=0.1)
    log = []
    first = opt.register_state_dict_pre_hook(lambda o: log.append("pre"))
    opt.register_state_dict_pre_hook(lambda o: log.append("pre, prepended"), prepend=True)
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    opt.register_load_state_dict_pre_hook(
        lambda o, sd: log.append(("load pre", sorted(sd))) or
        {k: v for k, v in sd.items() if k != "extra"})
    opt.register_load_state_dict_post_hook(lambda o: log.append("load post"))
    saved = opt.state_dict()
    log.append(sorted(saved))
    first.remove()
    opt.state_dict()
    opt.load_state_dict(saved)
    log.append(sorted(saved))  # the load's pre hook saw a copy
    return log


@pytest.mark.parametrize("name", ["SGD", "Adam", "LBFGS"])
def test_optimizer_state_dict_hooks_run_as_pytorchs(torch, name):
    """A checkpointing library's hooks on the optimizer's state dict raised
    AttributeError."""
    assert _state_dict_hooks(ft, name) == _state_dict_hooks(torch, name)


def test_reduce_lr_on_plateau_is_an_lr_scheduler_as_pytorchs(torch):
    """Training frameworks tell a metric-driven scheduler by isinstance(LRScheduler) and
    read ``in_cooldown``."""
    seen = []
    for T in (torch, ft):
        schedulers = T.optim.lr_scheduler
        opt = T.optim.SGD([T.nn.Parameter(T.ones(1))], lr=1.0)
        plateau = schedulers.ReduceLROnPlateau(opt, patience=0, cooldown=2)
        cooling = []
        for metric in (1.0, 2.0, 2.0, 2.0, 2.0):
            plateau.step(metric)
            cooling.append((plateau.in_cooldown, plateau.get_last_lr()))
        seen.append((isinstance(plateau, schedulers.LRScheduler), cooling))
    assert seen[1] == seen[0]
