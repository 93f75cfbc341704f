"""fnnet.torch.optim.LBFGS against PyTorch's: the same losses step by step, the same
parameters and the same bookkeeping, from the same start."""

from __future__ import annotations

import numpy as np
import pytest

import fnnet.torch as ft

pytestmark = pytest.mark.torch

RNG = np.random.default_rng(0)
X = RNG.uniform(-2, 2, (64, 1)).astype(np.float32)
Y = (np.sin(2 * X) + 0.1 * RNG.standard_normal((64, 1))).astype(np.float32)


def _curve_fit(torch, steps, **options):
    """A small tanh network fitted to a noisy sine by full-batch L-BFGS, as in the
    curve-fitting tutorials; the losses ``step`` returned, the parameters, the state."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(1, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    weights = [np.asarray(RNG_WEIGHTS[i], np.float32) for i in range(4)]
    with torch.no_grad():
        for p, w in zip(net.parameters(), weights, strict=True):
            p.copy_(torch.tensor(w))
    opt = torch.optim.LBFGS(net.parameters(), **options)
    x, y = torch.tensor(X), torch.tensor(Y)

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(net(x), y)
        loss.backward()
        return loss

    losses = [opt.step(closure).item() for _ in range(steps)]
    params = [p.detach().numpy().copy() for p in net.parameters()]
    return losses, params, opt


_W = np.random.default_rng(1)
RNG_WEIGHTS = [_W.uniform(-1, 1, (16, 1)), _W.uniform(-1, 1, (16,)),
               _W.uniform(-0.25, 0.25, (1, 16)), _W.uniform(-0.25, 0.25, (1,))]


@pytest.mark.parametrize("options", [
    {},  # PyTorch's defaults: lr 1, 20 iterations a step, a history of 100
    {"lr": 0.5, "max_iter": 7, "history_size": 3},  # the history full, its oldest dropped
    {"max_iter": 4, "max_eval": 3},
    # as physics-informed networks are fitted: a strong Wolfe line search (its growing,
    # narrowing and max_eval paths). Not every start agrees this way: where the cubic
    # step's discriminant cancels, a loss differing in its last bit (a sum in another
    # order) can choose the other branch, and the two runs part.
    {"line_search_fn": "strong_wolfe", "history_size": 50, "tolerance_change": 1e-12},
    {"line_search_fn": "strong_wolfe", "max_iter": 5, "history_size": 2},
    {"line_search_fn": "strong_wolfe", "max_iter": 8, "max_eval": 10},
])
def test_fits_as_pytorchs_lbfgs(torch, options):
    # Two steps (up to 40 iterations): L-BFGS carries rounding differences (its dot
    # products summed in another order) along the loss's flat directions, so parameters
    # drift apart at ~1e-3 after 40-60 iterations while the losses still agree to 1e-5.
    theirs = _curve_fit(torch, 2, **options)
    ours = _curve_fit(ft, 2, **options)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=2e-4)
    for mine, expected in zip(ours[1], theirs[1], strict=True):
        np.testing.assert_allclose(mine, expected, rtol=2e-3, atol=2e-4)
    t_state = theirs[2].state_dict()["state"][0]
    o_state = ours[2].state_dict()["state"][0]
    assert (o_state["func_evals"], o_state["n_iter"]) == (t_state["func_evals"],
                                                          t_state["n_iter"])
    assert len(o_state["old_dirs"]) == len(t_state["old_dirs"])
    assert ours[0][-1] < ours[0][0]


def test_optimizes_an_input_image_as_style_transfer_does(torch):
    """The parameter is the input itself (``optim.LBFGS([input_img])``), the loss a
    fixed convolution's features against a target's."""
    image = RNG.uniform(0, 1, (1, 3, 12, 12)).astype(np.float32)
    target = RNG.uniform(0, 1, (1, 3, 12, 12)).astype(np.float32)
    kernel = RNG.standard_normal((4, 3, 3, 3)).astype(np.float32)

    def run(t):
        img = t.tensor(image).requires_grad_(True)
        weight = t.tensor(kernel)
        goal = t.nn.functional.conv2d(t.tensor(target), weight)
        opt = t.optim.LBFGS([img])
        losses = []
        for _ in range(3):
            def closure():
                with t.no_grad():
                    img.clamp_(0, 1)
                opt.zero_grad()
                loss = t.nn.functional.mse_loss(t.nn.functional.conv2d(img, weight), goal)
                loss.backward()
                return loss
            losses.append(opt.step(closure).item())
        return losses, img.detach().numpy()

    t_losses, t_img = run(torch)
    o_losses, o_img = run(ft)
    # the loss falls from 5.2 to ~3e-3: its last values agree to 1e-5 absolute (2e-6 of
    # the first), their rounding differences relative to themselves being larger
    np.testing.assert_allclose(o_losses, t_losses, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(o_img, t_img, rtol=1e-3, atol=1e-4)


def test_state_dict_round_trip_resumes_the_same_way():
    _, _, opt = _curve_fit(ft, 2, max_iter=5, history_size=4)
    saved = opt.state_dict()
    params = [p for group in opt.param_groups for p in group["params"]]
    values = [p.detach().numpy().copy() for p in params]
    x, y = ft.tensor(X), ft.tensor(Y)
    net_calls = []

    def make_closure(o, ps):
        def closure():
            o.zero_grad()
            h = ft.tanh(x @ ps[0].T + ps[1])
            loss = ft.nn.functional.mse_loss(h @ ps[2].T + ps[3], y)
            loss.backward()
            net_calls.append(1)
            return loss
        return closure

    first = float(opt.step(make_closure(opt, params)))
    after = [p.detach().numpy().copy() for p in params]
    fresh = [ft.tensor(v).requires_grad_(True) for v in values]
    again = ft.optim.LBFGS(fresh, max_iter=5, history_size=4)
    again.load_state_dict(saved)
    assert float(again.step(make_closure(again, fresh))) == pytest.approx(first, rel=1e-6)
    for mine, expected in zip(fresh, after, strict=True):
        np.testing.assert_allclose(mine.detach().numpy(), expected, rtol=1e-5, atol=1e-6)


def test_bad_use_is_refused_with_pytorchs_reasons():
    w = ft.zeros(3, requires_grad=True)
    opt = ft.optim.LBFGS([w])
    with pytest.raises(TypeError, match="LBFGS.step: closure must be a callable"):
        opt.step()
    with pytest.raises(ValueError, match="line_search_fn must be None or 'strong_wolfe', got "
                       "'armijo'"):
        ft.optim.LBFGS([w], line_search_fn="armijo")
    with pytest.raises(ValueError, match="per-parameter options"):
        ft.optim.LBFGS([{"params": [w]}, {"params": [ft.zeros(2, requires_grad=True)]}])
    with pytest.raises(ValueError, match="max_iter must be an int >= 1, got 0"):
        ft.optim.LBFGS([w], max_iter=0)
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        ft.optim.LBFGS([w], lr=-1)


def test_state_reads_as_pytorchs_before_and_after_a_step(torch):
    # PINN scripts print L-BFGS's iterations as optimizer.state[optimizer._params[0]]
    # ["n_iter"]; before the first step PyTorch's state and state_dict hold nothing
    results = []
    for t in (torch, ft):
        x = t.tensor([1.0, -2.0], requires_grad=True)
        opt = t.optim.LBFGS([x], max_iter=4)
        before = (dict(opt.state), opt.state_dict()["state"], dict(opt.state[opt._params[0]]))

        def closure(x=x, opt=opt):
            opt.zero_grad()
            loss = (x ** 2).sum() + x.prod()
            loss.backward()
            return loss

        opt.step(closure)
        entry = opt.state[opt._params[0]]
        results.append((before, len(opt.state), entry["func_evals"], entry["n_iter"],
                        sorted(opt.state_dict()["state"])))
    assert results[1] == results[0]


def test_a_line_search_spends_only_the_evaluations_a_step_has_left(torch):
    # PyTorch's strong Wolfe search gets max_eval less the evaluations already made this
    # step: with max_iter=1 (max_eval 1) none are left, so the step does not move, and
    # with max_iter=3 the search is cut short; the state keeps the first loop's
    # coefficients as "al" (None past the pairs filled)
    for options in ({"max_iter": 1}, {"max_iter": 3}):
        theirs = _curve_fit(torch, 3, line_search_fn="strong_wolfe", **options)
        ours = _curve_fit(ft, 3, line_search_fn="strong_wolfe", **options)
        np.testing.assert_allclose(ours[0], theirs[0], rtol=2e-4)
        for mine, expected in zip(ours[1], theirs[1], strict=True):
            np.testing.assert_allclose(mine, expected, rtol=2e-3, atol=2e-4)
        t_state = theirs[2].state_dict()["state"][0]
        o_state = ours[2].state_dict()["state"][0]
        assert sorted(o_state) == sorted(t_state)
        assert (o_state["func_evals"], o_state["n_iter"]) == (t_state["func_evals"],
                                                              t_state["n_iter"])
        assert [a is None for a in o_state["al"]] == [a is None for a in t_state["al"]]
        np.testing.assert_allclose([float(a) for a in o_state["al"] if a is not None],
                                   [float(a) for a in t_state["al"] if a is not None],
                                   rtol=1e-2, atol=1e-4)
