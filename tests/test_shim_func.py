"""``torch.func`` (functional_call, grad, grad_and_value, vmap, jacrev, hessian, vjp,
jvp) under fnnet.torch against PyTorch's: the per-sample-gradients tutorial's
computation, the transforms' values and errors, penalties on derivatives that train a
model's parameters, and leaves made with ``detach().requires_grad_()`` from a module's
parameters (the fast weights of meta-learning), which get gradients of their own."""

from __future__ import annotations

import numpy as np
import pytest

import fnnet.torch as ft

pytestmark = pytest.mark.torch


def _cnn(t):
    class SmallCNN(t.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = t.nn.Conv2d(1, 3, 3)
            self.fc = t.nn.Linear(3 * 4 * 4, 5)

        def forward(self, x):
            return self.fc(t.flatten(t.relu(self.conv(x)), 1))

    model = SmallCNN()
    with t.no_grad():
        for name, p in model.named_parameters():
            p.copy_(t.tensor(np.random.default_rng(len(name)).uniform(
                -0.3, 0.3, tuple(p.shape)).astype(np.float32)))
    return model


def _per_sample_gradients(t):
    from importlib import import_module

    func = import_module(f"{t.__name__}.func")
    model = _cnn(t)
    rng = np.random.default_rng(0)
    data = t.tensor(rng.standard_normal((6, 1, 6, 6)).astype(np.float32))
    targets = t.tensor(rng.integers(0, 5, 6))
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def compute_loss(params, buffers, sample, target):
        out = func.functional_call(model, (params, buffers), (sample.unsqueeze(0),))
        return t.nn.functional.cross_entropy(out, target.unsqueeze(0))

    per_sample = func.vmap(func.grad(compute_loss), in_dims=(None, None, 0, 0))(
        params, buffers, data, targets)
    model.zero_grad()  # the model's own parameters are untouched and still train
    t.nn.functional.cross_entropy(model(data[:1]), targets[:1]).backward()
    return ({k: v.numpy() for k, v in per_sample.items()},
            {k: p.grad.numpy() for k, p in model.named_parameters()})


def test_per_sample_gradients_as_the_tutorial_computes_them(torch):
    (mine, mine_first), (theirs, theirs_first) = (_per_sample_gradients(t)
                                                  for t in (ft, torch))
    assert {k: v.shape for k, v in mine.items()} == {k: v.shape for k, v in theirs.items()}
    for key, value in theirs.items():
        np.testing.assert_allclose(mine[key], value, rtol=1e-4, atol=1e-6, err_msg=key)
        np.testing.assert_allclose(mine_first[key], theirs_first[key], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(mine[key][0], mine_first[key], rtol=1e-4, atol=1e-6)


def _transforms(t):
    from importlib import import_module

    func = import_module(f"{t.__name__}.func")
    x = t.arange(6.0).reshape(2, 3)
    out = [func.grad_and_value(lambda v: (v ** 3).sum())(t.arange(3.0)),
           func.grad(lambda a, b: (a * b).sum(), argnums=(0, 1))(t.ones(2), t.arange(2.0)),
           func.grad(lambda v: ((v ** 2).sum(), v.mean()), has_aux=True)(t.ones(2)),
           func.grad(func.grad(lambda v: v ** 3))(t.tensor(2.0)),
           func.jacrev(lambda v: v ** 2)(t.arange(3.0)),
           func.hessian(lambda v: (v ** 3).sum())(t.arange(3.0)),
           func.vmap(lambda v: v.sum(), in_dims=1)(x),
           func.vmap(lambda v: {"a": v * 2, "b": (v, v.sum())})(x),
           func.vmap(lambda v: v * 2, out_dims=1)(x),
           func.vmap(t.dot)(t.ones(3, 2), x.reshape(3, 2)),
           t.vmap(lambda v, w: v * w, in_dims=(0, None))(x, t.tensor(2.0)),
           func.jvp(lambda a, b: (a * b, a.sum()), (x, x), (t.ones(2, 3), x)),
           func.jvp(lambda v: (v ** 3, v.sum()), (x,), (x,), has_aux=True)]
    y, pullback = func.vjp(lambda a, b: (a * b, a.sum()), x, x + 1)
    out += [y, pullback((t.ones(2, 3), t.tensor(2.0)))]
    y, pullback, aux = func.vjp(lambda v: (v.sin(), {"n": v.norm()}), x, has_aux=True)
    out += [y, pullback(x), aux]
    return str(out).replace("tensor", "T")


def _penalties(t):
    """Penalties on a model's input derivatives (a Jacobian norm, a physics-informed
    residual from grad, a directional derivative, a Hessian trace by a scale)
    backpropagated into the parameters the functions close over, as training code
    writes them with torch.func; and the transforms' results off the graph where
    nothing outside them requires grad."""
    from importlib import import_module

    func = import_module(f"{t.__name__}.func")
    model = t.nn.Sequential(t.nn.Linear(3, 4), t.nn.Tanh(), t.nn.Linear(4, 2))
    with t.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(t.linspace(-0.5, 0.5, p.numel()).reshape(p.shape) * (i + 1))
    x = t.tensor([[0.3, -0.2, 0.5], [0.1, 0.4, -0.3]])
    jacobian = func.jacrev(model)(x[0])
    slope = func.grad(lambda v: model(v).sum())(x[1])
    scale = t.tensor(2.0, requires_grad=True)
    curvature = func.hessian(lambda v: (scale * v ** 3).sum())(x[1])
    _, tangent = func.jvp(model, (x[0],), (t.ones(3),))
    penalty = jacobian.square().sum() + slope.sum() + curvature.diagonal().sum() + \
        tangent.sum()
    penalty.backward()
    flags = [jacobian.requires_grad, func.jacrev(lambda v: v * 3)(x[0]).requires_grad,
             func.grad(lambda v: (v ** 2).sum())(x[0]).requires_grad]
    # the last bias is in no derivative: PyTorch leaves its grad None, fnnet's zeros
    grads = [t.zeros_like(p) if p.grad is None else p.grad
             for p in [*model.parameters(), scale]]
    return [penalty.item(), flags] + [g.numpy().round(5).tolist() for g in grads]


def test_derivative_penalties_train_the_parameters_as_pytorch(torch):
    mine, theirs = _penalties(ft), _penalties(torch)
    assert mine[1] == theirs[1]
    np.testing.assert_allclose(mine[0], theirs[0], rtol=1e-5)
    for a, b in zip(mine[2:], theirs[2:], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("call", [
    lambda t, f: f.jvp(t.sin, t.ones(3), (t.ones(3),)),
    lambda t, f: f.jvp(t.sin, (t.ones(3),), t.ones(3)),
    lambda t, f: f.jvp(t.sin, (t.ones(3),), (t.ones(3), t.ones(3))),
    lambda t, f: f.jvp(t.sin, (t.ones(3),), (t.ones(2),)),
    lambda t, f: f.vjp(t.sin, t.ones(3))[1](t.ones(2)),
    lambda t, f: f.vjp(lambda a: (a, a), t.ones(3))[1](t.ones(3)),
    lambda t, f: f.vjp(lambda a: a, t.ones(3), has_aux=True),
    lambda t, f: f.vjp(lambda a: 3, t.ones(3)),
    lambda t, f: f.vjp(t.sin, 3.0),
])
def test_vjp_and_jvp_misuse_raises_pytorchs_errors(torch, call):
    from importlib import import_module

    with pytest.raises(Exception) as expected:
        call(torch, import_module("torch.func"))
    with pytest.raises(type(expected.value)) as got:
        call(ft, ft.func)
    assert str(got.value) == str(expected.value)


def test_the_transforms_give_pytorchs_values(torch):
    assert _transforms(ft) == _transforms(torch)


@pytest.mark.parametrize("call", [
    lambda t, f: f.grad(lambda x: x * 2)(t.ones(2)),
    lambda t, f: f.grad(lambda x: (x.sum(), 1), has_aux=False)(t.ones(2)),
    lambda t, f: f.vmap(lambda x, y: x + y)(t.ones(2), t.ones(3)),
    lambda t, f: f.vmap(lambda x: x, in_dims=None)(t.ones(2)),
    lambda t, f: f.vmap(lambda x: x.sum())(5),
    lambda t, f: f.functional_call(t.nn.Linear(2, 1), ({"bias": t.ones(1)},
                                                         {"bias": t.ones(1)}), t.ones(1, 2)),
])
def test_misuse_raises_pytorchs_errors(torch, call):
    from importlib import import_module

    with pytest.raises(Exception) as expected:
        call(torch, import_module("torch.func"))
    with pytest.raises(type(expected.value)) as got:
        call(ft, ft.func)
    assert str(got.value).split(":")[0] == str(expected.value).split(":")[0]


def test_fast_weights_made_from_parameters_are_leaves_of_their_own(torch):
    results = []
    for t in (torch, ft):
        model = t.nn.Linear(3, 2)
        x = t.ones(1, 3)
        fast = model.weight.detach().requires_grad_()  # MAML's fast weights
        first = t.autograd.grad((x @ fast.t()).sum() * 2, fast)[0]
        second = t.autograd.grad(model(x).sum(), model.weight)[0]
        both = t.autograd.grad((x @ fast.t()).sum() + model(x).sum() * 3,
                               [fast, model.weight])
        results.append([first.numpy(), second.numpy(), *(g.numpy() for g in both)])
    for theirs, mine in zip(*results, strict=True):
        np.testing.assert_array_equal(mine, theirs)


def _stepped_linear(t, x, **sgd):
    """``Linear(3, 2)`` with the weight ``x[:2]`` and a zero bias, and SGD over it."""
    model = t.nn.Linear(3, 2)
    with t.no_grad():
        model.weight.copy_(t.tensor(x[:2]))
        model.bias.zero_()
    return model, t.optim.SGD(model.parameters(), **sgd)


def test_per_sample_gradients_step_the_parameters_they_were_detached_from(torch):
    # DP-SGD: grad's leaves are the parameters' own arrays, which the optimizer's step
    # replaces; the step must still run, as PyTorch's does
    x = np.random.default_rng(3).standard_normal((4, 3)).astype(np.float32)
    results = []
    for t in (torch, ft):
        model, optimizer = _stepped_linear(t, x, lr=0.5, momentum=0.9)

        def loss(params, sample, model=model, t=t):
            return t.func.functional_call(model, params, (sample,)).pow(2).sum()

        for _ in range(3):
            params = {k: v.detach() for k, v in model.named_parameters()}
            grads = t.func.vmap(t.func.grad(loss), in_dims=(None, 0))(params, t.tensor(x))
            for name, p in model.named_parameters():
                p.grad = grads[name].clamp(-1, 1).mean(0)
            optimizer.step()
        results.append([p.detach().numpy() for p in model.parameters()])
    for mine, theirs in zip(results[1], results[0], strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)


def test_a_leaf_made_from_a_parameter_outlives_the_steps_that_replace_it(torch):
    # the leaf holds the parameter's array: a step that donated it deleted the leaf's value
    x = np.random.default_rng(4).standard_normal((4, 3)).astype(np.float32)
    results = []
    for t in (torch, ft):
        model, optimizer = _stepped_linear(t, x, lr=0.1)
        fast = model.weight.detach().requires_grad_()
        for _ in range(2):
            optimizer.zero_grad()
            model(t.tensor(x)).pow(2).sum().backward()
            optimizer.step()
        assert np.isfinite(fast.sum().item())  # readable (PyTorch's shares the storage)
        results.append(model.weight.detach().numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-5, atol=1e-6)


def test_stack_module_state_trains_an_ensemble_as_pytorch(torch):
    # the model-ensembling tutorial: stacked leaves, vmap over them, one backward
    weights = [np.random.default_rng(k).standard_normal((2, 3)).astype(np.float32)
               for k in range(3)]
    x = np.random.default_rng(9).standard_normal((4, 3)).astype(np.float32)
    results = []
    for t in (torch, ft):
        models = []
        for w in weights:
            m = t.nn.Sequential(t.nn.Linear(3, 2), t.nn.BatchNorm1d(2)).eval()
            m.load_state_dict({**m.state_dict(), "0.weight": t.tensor(w),
                               "0.bias": t.tensor(w[:, 0])})
            models.append(m)
        params, buffers = t.func.stack_module_state(models)
        def call(p, b, xb, t=t, model=models[0]):
            return t.func.functional_call(model, (p, b), (xb,))

        out = t.func.vmap(call, in_dims=(0, 0, None))(params, buffers, t.tensor(x))
        out.pow(2).sum().backward()
        results.append((out, params["0.weight"].grad, sorted(params), sorted(buffers),
                        params["0.weight"].is_leaf, buffers["1.running_mean"].requires_grad))
        with pytest.raises(RuntimeError) as mixed:
            t.func.stack_module_state([models[0], models[1].train()])
        results.append(str(mixed.value))
    (theirs, their_message), (ours, our_message) = results[:2], results[2:]
    assert ours[2:] == theirs[2:] and our_message == their_message
    for mine, expected in zip(ours[:2], theirs[:2], strict=True):
        np.testing.assert_allclose(mine.detach().numpy(), expected.detach().numpy(),
                                   rtol=1e-5, atol=1e-6)


def test_the_older_stateless_functional_call_warns_and_calls_as_pytorch(torch):
    def call(t):
        layer = t.nn.Linear(4, 3)
        with pytest.warns(FutureWarning, match=r"stateless\.functional_call` is deprecated"):
            out = t.nn.utils.stateless.functional_call(
                layer, {"weight": t.arange(12.0).view(3, 4), "bias": t.ones(3)},
                (t.linspace(-1, 1, 8).view(2, 4),))
        return out.detach().numpy(), layer.weight.shape
    (mine, mine_shape), (theirs, theirs_shape) = call(ft), call(torch)
    np.testing.assert_allclose(mine, theirs, rtol=1e-6)
    assert mine_shape == theirs_shape


#: the transforms and torch.autograd.functional called under an outer no_grad, which
#: reaches neither (PyTorch's: transforms ignore it, the functional API enables grad)
UNDER_NO_GRAD = {
    "func.jvp": lambda T, x: T.func.jvp(lambda v: v * T.tensor([1.0, 2.0, 3.0]),
                                        (x[0],), (T.tensor(1.0),))[1],
    "func.vjp": lambda T, x: T.func.vjp(lambda v: (v.sin(), v.cos()), x)[1](
        (T.ones(3), T.ones(3)))[0],
    "func.jacrev": lambda T, x: T.func.jacrev(lambda v: v.sin() * v)(x),
    "func.hessian": lambda T, x: T.func.hessian(lambda v: (v.sin() * v).sum())(x),
    "functional.jacobian": lambda T, x: T.autograd.functional.jacobian(
        lambda v: v.sin() * v, x),
    "functional.hessian": lambda T, x: T.autograd.functional.hessian(
        lambda v: (v.sin() * v).sum(), x),
    "functional.vjp": lambda T, x: T.autograd.functional.vjp(
        lambda v: v.sin() * v, x, T.ones(3))[1],
    "functional.jvp": lambda T, x: T.autograd.functional.jvp(
        lambda v: v.sin() * v, x, T.ones(3))[1],
    "functional.hvp": lambda T, x: T.autograd.functional.hvp(
        lambda v: (v.sin() * v).sum(), x, T.ones(3))[1],
    "functional.vhp": lambda T, x: T.autograd.functional.vhp(
        lambda v: (v.sin() * v).sum(), x, T.ones(3))[1],
}


@pytest.mark.parametrize("name", list(UNDER_NO_GRAD))
def test_derivatives_under_no_grad_are_pytorchs(torch, name):
    values = []
    for T in (torch, ft):
        x = T.tensor([0.3, -1.2, 2.0])
        with T.no_grad():
            out = UNDER_NO_GRAD[name](T, x)
        assert not out.requires_grad
        values.append(out.detach().numpy())
    np.testing.assert_allclose(values[1], values[0], rtol=1e-5, atol=1e-6)


def test_linearize_gives_pytorchs_output_and_derivatives(torch):
    results = []
    for T in (torch, ft):
        a, b = T.tensor([0.5, -1.0, 2.0]), T.tensor([1.5, 0.25, -3.0])
        output, jvp_fn = T.func.linearize(lambda x, y: (x.sin() * y, x + y), a, b)
        first = jvp_fn(T.ones(3), T.zeros(3))
        second = jvp_fn(T.zeros(3), T.tensor([1.0, 2.0, 3.0]))
        results.append([t.numpy() for t in (*output, *first, *second)])
    for ours, theirs in zip(results[1], results[0], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


def test_a_transform_fnnet_lacks_is_refused_by_name():
    with pytest.raises(NotImplementedError, match="torch.func.functionalize"):
        ft.func.functionalize(lambda x: x)
    assert not hasattr(ft.func, "rearrange")


def _tree(value):
    """Nested dicts, lists and tuples of tensors as the same structure of numpy arrays."""
    if isinstance(value, dict):
        return {k: _tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_tree(v) for v in value)
    return value.detach().numpy()


def _assert_trees_close(mine, theirs):
    assert type(mine) is type(theirs)
    if isinstance(theirs, dict):
        assert list(mine) == list(theirs)
        for k in theirs:
            _assert_trees_close(mine[k], theirs[k])
    elif isinstance(theirs, (list, tuple)):
        assert len(mine) == len(theirs)
        for a, b in zip(mine, theirs, strict=True):
            _assert_trees_close(a, b)
    else:
        assert mine.shape == theirs.shape
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)


def _jacobians_of_parameters(t):
    """The neural tangent kernel tutorial's Jacobians by a dict of parameters from
    ``named_parameters`` through ``functional_call``, with the other ways torch.func
    nests them: several argnums, tuple and dict outputs, ``has_aux``, Hessians by a
    dict and of a vector output."""
    from importlib import import_module

    func = import_module(f"{t.__name__}.func")
    rng = np.random.default_rng(3)
    model = t.nn.Sequential(t.nn.Linear(3, 4), t.nn.Tanh(), t.nn.Linear(4, 2))
    with t.no_grad():
        for p in model.parameters():
            p.copy_(t.tensor(rng.uniform(-0.5, 0.5, tuple(p.shape)).astype(np.float32)))
    params = {k: v.detach() for k, v in model.named_parameters()}
    x = t.tensor(rng.standard_normal((5, 3)).astype(np.float32))

    def f(params, x):
        return func.functional_call(model, params, (x,))

    def energy(params, x):
        return f(params, x).pow(2).sum()

    return [
        func.jacrev(f)(params, x),
        func.jacfwd(f)(params, x),
        func.jacrev(f, argnums=(0, 1))(params, x),
        func.jacrev(lambda p, x: (f(p, x), {"total": [f(p, x).sum()]}))(params, x),
        func.jacrev(lambda p, x: (f(p, x).sum(), {"n": x.sum()}), has_aux=True)(params, x),
        func.hessian(energy)({"0.bias": params["0.bias"], "2.weight": params["2.weight"]},
                             x),
        func.hessian(energy, argnums=(0, 1))({"2.bias": params["2.bias"]}, x[:2]),
        func.hessian(lambda v: v.pow(3) * v.sum())(x[0]),
    ]


def test_jacobians_and_hessians_by_dicts_of_parameters(torch):
    theirs = _jacobians_of_parameters(torch)
    mine = _jacobians_of_parameters(ft)
    for a, b in zip(mine, theirs, strict=True):
        _assert_trees_close(_tree(a), _tree(b))


@pytest.mark.parametrize("call", [
    lambda func, t: func.jacrev(lambda p: 3)({"a": t.ones(2)}),
    lambda func, t: func.jacrev(lambda p: p["a"], has_aux=True)({"a": t.ones(2)}),
    lambda func, t: func.jacrev(lambda p: p["a"])({"a": 3}),
    lambda func, t: func.jacrev(lambda p: p.sum())(t.ones(2, dtype=t.long)),
], ids=["int output", "has_aux without aux", "int argument", "integer tensor"])
def test_jacobian_errors_as_pytorchs(torch, call):
    _assert_same_error(torch, "func", call)


def _assert_same_error(torch, submodule, call):
    """``call(submodule of the library, the library)`` raises the same exception, with
    the same words, under PyTorch and fnnet.torch."""
    from importlib import import_module

    errors = []
    for t in (torch, ft):
        with pytest.raises(Exception) as caught:
            call(import_module(f"{t.__name__}.{submodule}"), t)
        errors.append((type(caught.value), str(caught.value)))
    assert errors[1] == errors[0]


# -- torch.autograd.forward_ad --------------------------------------------------------------

def _forward_mode(t):
    """PyTorch's forward-mode AD tutorial: a function of a dual tensor, a module whose
    parameters are swapped for duals, a dual of a parameter that still trains, and what
    is read outside the level."""
    from importlib import import_module

    fwad = import_module(f"{t.__name__}.autograd.forward_ad")
    rng = np.random.default_rng(5)
    primal = t.tensor(rng.standard_normal((4, 4)).astype(np.float32))
    tangent = t.tensor(rng.standard_normal((4, 4)).astype(np.float32))
    other = t.tensor(rng.standard_normal((4, 4)).astype(np.float32))
    model = t.nn.Linear(4, 3)
    with t.no_grad():
        model.weight.copy_(t.tensor(rng.uniform(-0.5, 0.5, (3, 4)).astype(np.float32)))
        model.bias.zero_()
    params = dict(model.named_parameters())
    directions = {name: t.ones_like(p) * 0.5 for name, p in params.items()}
    weight = t.tensor(rng.standard_normal(3).astype(np.float32), requires_grad=True)
    seen = []
    with fwad.dual_level() as level:
        dual = fwad.make_dual(primal, tangent)
        out = dual ** 2 + other.sin() * dual
        unpacked = fwad.unpack_dual(out)
        seen += [level, type(unpacked).__name__, unpacked.primal, unpacked.tangent,
                 fwad.unpack_dual(dual).tangent, fwad.unpack_dual(other).tangent,
                 fwad.unpack_dual(dual).primal.requires_grad]
        for name, p in params.items():
            delattr(model, name)
            setattr(model, name, fwad.make_dual(p, directions[name]))
        seen.append(fwad.unpack_dual(model(primal)).tangent)
        weighted = fwad.make_dual(weight, t.ones(3))
        energy = (weighted * weighted).sum()
        seen.append(fwad.unpack_dual(energy).tangent)
        energy.backward()
        seen.append(weight.grad)
    seen.append(fwad.unpack_dual(out).tangent)  # the level is closed
    return [s.detach().numpy() if isinstance(s, t.Tensor) else s for s in seen]


def test_forward_mode_ad_as_the_tutorial_uses_it(torch):
    for mine, theirs in zip(_forward_mode(ft), _forward_mode(torch), strict=True):
        if isinstance(theirs, np.ndarray):
            np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)
        else:
            assert mine == theirs


@pytest.mark.parametrize("misuse", [
    lambda fwad, t: fwad.make_dual(t.ones(3), t.ones(3)),
    lambda fwad, t: fwad.exit_dual_level(),
    lambda fwad, t: _within(fwad, lambda: fwad.make_dual(t.ones(3), t.ones(4))),
    lambda fwad, t: _within(fwad, lambda: fwad.make_dual(t.ones(3, dtype=t.long),
                                                         t.ones(3, dtype=t.long))),
    lambda fwad, t: _within(fwad, lambda: _within(fwad, lambda: None)),
], ids=["no level", "exit without a level", "shapes differ", "integer primal", "nested"])
def test_forward_mode_ad_misuse_raises_as_pytorchs(torch, misuse):
    _assert_same_error(torch, "autograd.forward_ad", misuse)


def _within(fwad, body):
    with fwad.dual_level():
        return body()
