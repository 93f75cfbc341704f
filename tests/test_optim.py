"""fnnet.optim against torch.optim: 50-step trajectories, state, hyperparameters, errors."""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from helpers import assert_close

from fnnet import optim

STEPS = 50
SHAPES = {"fc.weight": (4, 3), "fc.bias": (4,), "conv.weight": (2, 1, 3, 3)}


def _initial_params() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {name: rng.standard_normal(shape).astype(np.float32)
            for name, shape in SHAPES.items()}


def _gradients(steps: int = STEPS) -> dict[str, np.ndarray]:
    """A fixed sequence of random gradients ``[steps, *shape]``, different scales per step."""
    rng = np.random.default_rng(1)
    scale = rng.uniform(0.1, 3.0, (steps, 1)).astype(np.float32)
    return {name: (rng.standard_normal((steps, *shape)).astype(np.float32)
                   * scale.reshape((steps,) + (1,) * len(shape)))
            for name, shape in SHAPES.items()}


def _nest(flat: dict) -> dict:
    tree: dict = {}
    for name, value in flat.items():
        module, leaf = name.split(".")
        tree.setdefault(module, {})[leaf] = value
    return tree


def _flatten(tree: dict) -> dict:
    return {f"{module}.{leaf}": value for module, leaves in tree.items()
            for leaf, value in leaves.items()}


def torch_trajectory(torch, name, kwargs, hyper=None, scheduler=None):
    """Parameters after each of the steps PyTorch takes on the fixed gradients.

    ``hyper`` maps a hyperparameter to its value at each step, set in the param group.
    """
    params = {n: torch.nn.Parameter(torch.tensor(v)) for n, v in _initial_params().items()}
    opt = getattr(torch.optim, name)(list(params.values()), **kwargs)
    sched = scheduler(opt) if scheduler else None
    grads = _gradients()
    history = {n: [] for n in params}
    for step in range(STEPS):
        for key, values in (hyper or {}).items():
            opt.param_groups[0][key] = float(values[step])
        for n, p in params.items():
            p.grad = torch.tensor(grads[n][step])
        opt.step()
        if sched:
            sched.step()
        for n, p in params.items():
            history[n].append(p.detach().numpy().copy())
    return {n: np.stack(h) for n, h in history.items()}, opt, params


def fnnet_trajectory(opt: optax.GradientTransformation):
    """Parameters after each step of ``opt`` on the same gradients, and the final state."""
    params = _nest({n: jnp.asarray(v) for n, v in _initial_params().items()})
    grads = _gradients()
    state = opt.init(params)

    @jax.jit
    def step(params, state, g):
        updates, state = opt.update(g, state, params)
        return optax.apply_updates(params, updates), state

    history = []
    for i in range(STEPS):
        params, state = step(params, state, _nest({n: g[i] for n, g in grads.items()}))
        history.append(_flatten(params))
    return {n: np.stack([h[n] for h in history]) for n in SHAPES}, state


def assert_same_trajectory(actual, expected):
    for name in SHAPES:
        for step in range(STEPS):
            assert_close(actual[name][step], expected[name][step],
                         what=f"{name} after step {step + 1}")


CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, foreach=True, differentiable=False)),
    ("SGD", dict(lr=0.1, weight_decay=0.05)),
    ("SGD", dict(lr=0.1, maximize=True)),
    ("SGD", dict(lr=0.02, momentum=0.8, dampening=0.1, weight_decay=0.1, maximize=True)),
    ("SGD", dict(lr=0.02, momentum=0.8, nesterov=True, weight_decay=0.1, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, eps=1e-2, maximize=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.02, weight_decay=0.05, initial_accumulator_value=0.1,
                     eps=1e-3)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.9)),
    ("RMSprop", dict(lr=0.01, eps=1e-2)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("RMSprop", dict(lr=0.005, alpha=0.95, momentum=0.5, centered=True, weight_decay=0.05)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-4)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, fused=True)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01, amsgrad=True, betas=(0.5, 0.9), maximize=True)),
]


def _case_id(case):
    name, kwargs = case
    return name + "".join(f"-{k}={v}" for k, v in kwargs.items())


# Which fnnet state field holds which PyTorch ``optimizer.state[p]`` entry.
STATE_FIELDS = {
    "SGD-lr=0.05-momentum=0.9": {"momentum_buffer": ("momentum", "trace")},
    "SGD-lr=0.05-momentum=0.9-dampening=0.3": {
        "momentum_buffer": ("momentum", "momentum_buffer")},
    "Adagrad-lr=0.1-initial_accumulator_value=0.5": {"sum": ("adagrad", "sum")},
    "RMSprop-lr=0.005-alpha=0.95-momentum=0.5-centered=True-weight_decay=0.05": {
        "square_avg": ("rmsprop", "nu"), "grad_avg": ("rmsprop", "mu"),
        "momentum_buffer": ("momentum", "trace")},
    "Adam-lr=0.01-weight_decay=0.1": {"exp_avg": ("adam", "mu"),
                                      "exp_avg_sq": ("adam", "nu")},
    "AdamW-lr=0.01-amsgrad=True-betas=(0.5, 0.9)-maximize=True": {
        "exp_avg": ("adam", "exp_avg"), "exp_avg_sq": ("adam", "exp_avg_sq"),
        "max_exp_avg_sq": ("adam", "max_exp_avg_sq")},
}


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_trajectory_matches_torch(torch, case):
    name, kwargs = case
    expected, torch_opt, torch_params = torch_trajectory(torch, name, kwargs)
    actual, state = fnnet_trajectory(getattr(optim, name)(**kwargs))
    assert_same_trajectory(actual, expected)
    # The state, where named above, holds what PyTorch's optimizer.state[p] holds.
    for torch_key, (piece, field) in STATE_FIELDS.get(_case_id(case), {}).items():
        ours = _flatten(getattr(state[piece], field))
        for n, p in torch_params.items():
            assert_close(ours[n], torch_opt.state[p][torch_key], what=f"{torch_key} of {n}")


def test_every_state_field_case_runs():
    assert set(STATE_FIELDS) <= {_case_id(c) for c in CASES}


# ---------------------------------------------------------------- learning rates

STATIC = {
    "SGD": ("momentum", "dampening", "weight_decay", "nesterov", "maximize"),
    "Adagrad": ("lr_decay", "weight_decay", "initial_accumulator_value", "eps", "maximize"),
    "RMSprop": ("alpha", "eps", "weight_decay", "momentum", "centered", "maximize"),
    "Adam": ("betas", "eps", "weight_decay", "amsgrad", "maximize"),
    "AdamW": ("betas", "eps", "weight_decay", "amsgrad", "maximize"),
}
INJECT_CASES = [
    ("SGD", dict(lr=0.05, momentum=0.9, weight_decay=0.01, nesterov=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
]


def injected_trajectory(opt, hyper):
    """Like :func:`fnnet_trajectory` for an injected optimizer, setting ``hyper`` each step.

    Also asserts that the step compiled once, whatever the values.
    """
    params = _nest({n: jnp.asarray(v) for n, v in _initial_params().items()})
    grads = _gradients()
    state = opt.init(params)
    traces = []

    @jax.jit
    def step(params, state, g):
        traces.append(1)  # runs only while tracing
        updates, state = opt.update(g, state, params)
        return optax.apply_updates(params, updates), state

    history = []
    for i in range(STEPS):
        for key, values in hyper.items():
            state.hyperparams[key] = jnp.asarray(values[i], jnp.float32)
        params, state = step(params, state, _nest({n: g[i] for n, g in grads.items()}))
        history.append(_flatten(params))
    assert len(traces) == 1, "changing an injected hyperparameter recompiled the step"
    return {n: np.stack([h[n] for h in history]) for n in SHAPES}


@pytest.mark.parametrize("static", [True, False], ids=["static_args", "all_injected"])
@pytest.mark.parametrize("case", INJECT_CASES, ids=_case_id)
def test_injected_lr_changes_between_steps_without_recompiling(torch, case, static):
    name, kwargs = case
    lrs = kwargs["lr"] * np.random.default_rng(2).uniform(0.1, 2.0, STEPS)
    expected, _, _ = torch_trajectory(torch, name, kwargs, hyper={"lr": lrs})
    static_args = STATIC[name] if static else ()
    opt = optax.inject_hyperparams(getattr(optim, name), static_args=static_args)(**kwargs)
    assert_same_trajectory(injected_trajectory(opt, {"lr": lrs}), expected)


@pytest.mark.parametrize("dampening", [0.0, 0.3])
def test_injected_momentum_may_change_and_pass_through_zero(torch, dampening):
    # Momentum 0 at first: PyTorch creates the buffer (buf = g) when momentum turns
    # non-zero, then leaves it untouched, not reset, while momentum is 0 again.
    momenta = np.where(np.arange(STEPS) % 20 < 7, 0.0, 0.9) * np.linspace(1, 0.5, STEPS)
    kwargs = dict(lr=0.05, momentum=float(momenta[0]), dampening=dampening)
    hyper = {"momentum": momenta}
    expected, _, _ = torch_trajectory(torch, "SGD", kwargs, hyper=hyper)
    opt = optax.inject_hyperparams(optim.SGD, static_args=("lr",))(**kwargs)
    assert_same_trajectory(injected_trajectory(opt, hyper), expected)


def test_lr_schedule_matches_torch_scheduler(torch):
    # The schedule counts optimizer steps: PyTorch's scheduler stepped after each step.
    kwargs = dict(lr=0.1, momentum=0.9)
    expected, _, _ = torch_trajectory(
        torch, "SGD", kwargs,
        scheduler=lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=7, gamma=0.5))
    actual, _ = fnnet_trajectory(optim.SGD(optim.step_lr(0.1, 7, 0.5), momentum=0.9))
    assert_same_trajectory(actual, expected)


def test_adagrad_lr_decay_composes_with_a_schedule(torch):
    expected, _, _ = torch_trajectory(
        torch, "Adagrad", dict(lr=0.1, lr_decay=0.03),
        scheduler=lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.97))
    actual, _ = fnnet_trajectory(optim.Adagrad(optim.exponential_lr(0.1, 0.97),
                                               lr_decay=0.03))
    assert_same_trajectory(actual, expected)


@pytest.mark.parametrize("name", ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "Adadelta",
                                  "Adamax", "NAdam", "RAdam", "Rprop", "ASGD"])
def test_arguments_and_defaults_are_torchs(torch, name):
    """torch.optim's arguments but ``params``, so that its keyword calls carry over
    (``foreach``, ``fused``... included)."""
    import inspect

    ours = inspect.signature(getattr(optim, name)).parameters
    theirs = inspect.signature(getattr(torch.optim, name)).parameters
    assert set(ours) == set(theirs) - {"params"}
    for arg, parameter in ours.items():
        assert parameter.default == theirs[arg].default, f"{name}({arg}=...)"


@pytest.mark.parametrize("kwargs", [dict(fused=True, foreach=True),
                                    dict(fused=True, differentiable=True)])
def test_implementation_flags_are_checked_as_torch_checks_them(torch, kwargs):
    with pytest.raises(RuntimeError) as theirs:
        torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], **kwargs)
    with pytest.raises(RuntimeError, match=f"^{re.escape(str(theirs.value))}$"):
        optim.Adam(**kwargs)
    with pytest.raises(TypeError, match="^foreach must be None or a bool, got 'yes'$"):
        optim.SGD(foreach="yes")


@pytest.mark.parametrize("name, kwargs", [("Adam", {}), ("Adam", dict(amsgrad=True)),
                                          ("AdamW", {}), ("NAdam", {})])
def test_adam_steps_are_torchs_to_float32_rounding(torch, name, kwargs):
    """Each update against torch's in float64 (its bias corrections are float64 Python
    scalars): within a few float32 roundings. ``1 - 0.999**t`` computed in float32 was
    1e-5 off."""
    rng = np.random.default_rng(0)
    grads = rng.standard_normal((12, 64)).astype(np.float32)
    p = torch.zeros(64, dtype=torch.float64, requires_grad=True)
    opt = getattr(torch.optim, name)([p], lr=1.0, **kwargs)
    tx = getattr(optim, name)(lr=1.0, **kwargs)
    state = tx.init(jnp.zeros(64))
    update = jax.jit(tx.update)
    for g in grads:
        before = p.detach().numpy().copy()
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        expected = p.detach().numpy() - before
        ours, state = update(jnp.asarray(g), state, jnp.asarray(before, jnp.float32))
        np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-6 * np.abs(expected).max())


@pytest.mark.parametrize("amsgrad", [False, True])
def test_bfloat16_adam_rounds_as_torchs_kernels(torch, amsgrad):
    """bfloat16 parameters and moments: torch computes each op in float32 and rounds it
    once; fnnet rounds at the same places, so five steps agree but for rare ties
    (rounding every operation in bfloat16 left 3% of the parameters an ulp apart)."""
    rng = np.random.default_rng(0)
    p0 = (rng.standard_normal(4000) * 0.1).astype(np.float32)
    grads = (rng.standard_normal((5, 4000)) * 0.05).astype(np.float32)
    p = torch.tensor(p0).bfloat16().requires_grad_()
    opt = torch.optim.Adam([p], amsgrad=amsgrad)
    tx = optim.Adam(amsgrad=amsgrad)
    ours = jnp.asarray(p0).astype(jnp.bfloat16)
    state, update = tx.init(ours), jax.jit(tx.update)
    for g in grads:
        p.grad = torch.tensor(g).bfloat16()
        opt.step()
        updates, state = update(jnp.asarray(g).astype(jnp.bfloat16), state, ours)
        ours = optax.apply_updates(ours, updates)
    assert ours.dtype == jnp.bfloat16
    differ = np.asarray(ours, np.float32) != p.detach().float().numpy()
    assert differ.sum() <= 2, differ.sum()


def test_float64_adam_is_torchs_under_x64(torch):
    """With JAX's x64 mode, float64 parameters keep float64 arithmetic throughout."""
    grads = np.random.default_rng(0).standard_normal((3, 8))
    p = torch.zeros(8, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([p], lr=0.1)
    with jax.enable_x64(True):
        tx = optim.Adam(lr=0.1)
        ours = jnp.zeros(8, jnp.float64)
        state, update = tx.init(ours), jax.jit(tx.update)
        for g in grads:
            p.grad = torch.tensor(g)
            opt.step()
            updates, state = update(jnp.asarray(g), state, ours)
            ours = optax.apply_updates(ours, updates)
        assert ours.dtype == jnp.float64
        np.testing.assert_allclose(ours, p.detach().numpy(), rtol=1e-13, atol=1e-15)


# ---------------------------------------------------------------- bad hyperparameters

BAD = [
    ("SGD", dict(lr=-1)),
    ("SGD", dict(lr=0.1, momentum=-0.5)),
    ("SGD", dict(lr=0.1, weight_decay=-1e-4)),
    ("SGD", dict(lr=0.1, nesterov=True)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)),
    ("Adagrad", dict(lr=-0.1)),
    ("Adagrad", dict(lr_decay=-0.1)),
    ("Adagrad", dict(weight_decay=-0.1)),
    ("Adagrad", dict(initial_accumulator_value=-1.0)),
    ("Adagrad", dict(eps=-1e-10)),
    ("RMSprop", dict(lr=-0.01)),
    ("RMSprop", dict(eps=-1.0)),
    ("RMSprop", dict(momentum=-0.9)),
    ("RMSprop", dict(weight_decay=-0.1)),
    ("RMSprop", dict(alpha=-0.5)),
    ("Adam", dict(lr=-1e-3)),
    ("Adam", dict(eps=-1e-8)),
    ("Adam", dict(betas=(1.0, 0.999))),
    ("Adam", dict(betas=(0.9, -0.1))),
    ("Adam", dict(weight_decay=-0.01)),
    ("AdamW", dict(weight_decay=-0.01)),
]


@pytest.mark.parametrize("case", BAD, ids=_case_id)
def test_bad_hyperparameters_raise_torchs_error(torch, case):
    name, kwargs = case
    with pytest.raises(ValueError) as theirs:
        getattr(torch.optim, name)([torch.nn.Parameter(torch.zeros(1))], **kwargs)
    with pytest.raises(ValueError, match=f"^{re.escape(str(theirs.value))}$"):
        getattr(optim, name)(**kwargs)


@pytest.mark.parametrize("call, message", [
    (lambda: optim.SGD(lr="0.1"),
     "lr must be a number or a schedule (a callable of the step count), got '0.1'"),
    (lambda: optim.Adam(betas=0.9), "betas must be a pair of floats (beta1, beta2), got 0.9"),
    (lambda: optim.RMSprop(centered=1), "centered must be a bool, got 1"),
    (lambda: optim.SGD(momentum=None), "momentum must be a number, got None"),
])
def test_bad_hyperparameter_types_raise(call, message):
    with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
        call()


@pytest.mark.parametrize("name", [n for n in optim.__all__ if n[0].isupper()])
def test_parameters_given_first_as_pytorch_does_are_named(name):
    # torch.optim.Adam(model.parameters()): here the first positional argument is lr
    params = {"fc": {"weight": jnp.ones((2, 3))}}
    for given, kind in ((params, "dict"), (list(jax.tree.leaves(params)), "list")):
        with pytest.raises(TypeError, match=f"^lr must be a number or a schedule \\(a "
                           f"callable of the step count\\), got {kind}: fnnet's optimizers "
                           f"are made without the parameters"):
            getattr(optim, name)(given)


def test_pytorch_loop_methods_name_the_fnnet_way():
    # optimizer.step() / zero_grad(): an AttributeError (hasattr stays False) saying what
    # an fnnet loop does; the optimizer is still an optax transformation in every way
    opt = optim.Adam(lr=1e-2)
    assert isinstance(opt, optax.GradientTransformationExtraArgs) and not hasattr(opt, "step")
    with pytest.raises(AttributeError, match=r"^'Optimizer' object has no attribute 'step': "
                       r"fnnet optimizers are optax transformations \(PyTorch's "
                       r"optimizer.step\); updates, opt_state = optimizer.update\(grads, "
                       r"opt_state, params\); params = optax.apply_updates"):
        opt.step()
    with pytest.raises(AttributeError, match="zero_grad.*nothing to zero$"):
        opt.zero_grad()
    with pytest.raises(AttributeError, match="^'Optimizer' object has no attribute 'foo'$"):
        _ = opt.foo
    params = {"w": jnp.ones(2)}
    chained = optax.chain(optim.clip_by_total_norm(1.0), opt)
    chained.update(params, chained.init(params), params)


def test_injected_hyperparameters_are_checked_when_concrete():
    opt = optax.inject_hyperparams(optim.SGD)(lr=-0.1, momentum=0.9)
    with pytest.raises(ValueError, match="^Invalid learning rate: -0.1$"):
        opt.init({"w": jnp.ones(3)})


def test_schedule_lr_is_not_validated_but_used():
    opt = optim.Adam(lr=optax.linear_schedule(0.0, 1.0, 10))
    params = {"w": jnp.ones(2)}
    updates, _ = opt.update({"w": jnp.ones(2)}, opt.init(params), params)
    assert_close(updates["w"], np.zeros(2, np.float32))  # the schedule's first lr is 0


# ---------------------------------------------------------------- docs/optimizers.md


def _final_params(opt, steps: int = 12):
    """One leaf after ``steps`` updates on gradients of shrinking, varying size."""
    rng = np.random.default_rng(3)
    grads = rng.standard_normal((steps, 6)).astype(np.float32) * np.geomspace(
        4.0, 0.05, steps, dtype=np.float32)[:, None]
    params = {"w": jnp.asarray(rng.standard_normal(6), jnp.float32)}
    state = opt.init(params)
    step = jax.jit(opt.update)
    for g in grads:
        updates, state = step({"w": jnp.asarray(g)}, state, params)
        params = optax.apply_updates(params, updates)
    return np.asarray(params["w"])


def _same(a, b) -> bool:
    return np.allclose(_final_params(a), _final_params(b), rtol=1e-5, atol=1e-6)


def test_documented_optax_differences():
    """Every claim marked ✓ in docs/optimizers.md, checked against the installed optax."""
    import inspect

    def default(fn, arg):
        return inspect.signature(fn).parameters[arg].default

    empty = inspect.Parameter.empty
    # Every optimizer: optax requires the rate and checks nothing.
    for fn in (optax.sgd, optax.adagrad, optax.rmsprop, optax.adam, optax.adamw):
        assert default(fn, "learning_rate") is empty
    optax.sgd(-1.0)
    # SGD: trace from zero is PyTorch's momentum; optax has no dampening.
    assert _same(optax.sgd(0.05, 0.9), optim.SGD(0.05, 0.9))
    assert "dampening" not in inspect.signature(optax.sgd).parameters
    # Adagrad: other defaults, eps inside the root.
    assert (default(optax.adagrad, "initial_accumulator_value"),
            default(optax.adagrad, "eps")) == (0.1, 1e-7)
    assert not _same(optax.adagrad(0.1, 0.0, eps=0.5), optim.Adagrad(0.1, eps=0.5))
    # RMSprop: decay 0.9, eps inside the root by default, zero initial scale, centring
    # exact, momentum taken after the rate.
    assert (default(optax.rmsprop, "decay"), default(optax.rmsprop, "eps_in_sqrt"),
            default(optax.rmsprop, "initial_scale")) == (0.9, True, 0.0)
    assert not _same(optax.rmsprop(0.01, 0.99, eps=0.5), optim.RMSprop(0.01, eps=0.5))
    assert _same(optax.rmsprop(0.01, 0.99, eps=0.5, eps_in_sqrt=False, centered=True),
                 optim.RMSprop(0.01, eps=0.5, centered=True))
    assert _same(optax.rmsprop(0.01, 0.99, eps_in_sqrt=False, momentum=0.9),
                 optim.RMSprop(0.01, momentum=0.9))
    decaying = optax.exponential_decay(0.01, 1, 0.7)
    assert not _same(optax.rmsprop(decaying, 0.99, eps_in_sqrt=False, momentum=0.9),
                     optim.RMSprop(decaying, momentum=0.9))
    # Adam: exact with eps_root = 0 (the default); AMSGrad differs either way.
    assert default(optax.adam, "eps_root") == 0.0
    assert _same(optax.adam(0.01), optim.Adam(0.01))
    for corrected in (True, False):
        assert not _same(optax.amsgrad(0.01, bias_correction_nu=corrected),
                         optim.Adam(0.01, amsgrad=True))
    # AdamW: default 1e-4; the decay is scaled by the (scheduled) rate, as in PyTorch.
    assert default(optax.adamw, "weight_decay") == 1e-4
    assert not _same(optax.adamw(0.01), optim.AdamW(0.01))
    assert _same(optax.adamw(decaying, weight_decay=0.1), optim.AdamW(decaying, weight_decay=0.1))


def test_documented_schedule_differences():
    counts = jnp.arange(101)

    def values(schedule):
        return jax.jit(jax.vmap(schedule))(counts)

    assert_close(values(optax.exponential_decay(0.1, 7, 0.5, staircase=True)),
                 values(optim.step_lr(0.1, 7, 0.5)))
    # A dict holds milestone 10 once, so optax decays once where PyTorch decays twice.
    assert_close(values(optax.piecewise_constant_schedule(0.1, {10: 0.5}))[20],
                 2 * values(optim.multi_step_lr(0.1, [10, 10], 0.5))[20])
    assert float(values(optax.cosine_decay_schedule(0.1, 10))[15]) == 0.0
    assert_close(values(optim.cosine_annealing_lr(0.1, 10))[15], 0.05)
    peaks = [int(np.argmax(values(s)[:100])) for s in (
        optax.cosine_onecycle_schedule(100, 0.1), optim.one_cycle_lr(0.1, 100))]
    assert peaks == [30, 29]
