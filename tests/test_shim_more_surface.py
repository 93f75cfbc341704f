"""The PyTorch names users reach for after the basics, against PyTorch: boolean masks and
``nonzero``, the recurrent cells, the KL divergence, in-place initialisers, mixed
precision's ``autocast`` and ``GradScaler``, and the backward nodes' names."""

from __future__ import annotations

import re

import numpy as np
import pytest
from helpers import raised_by

import fnnet.torch as ft

pytestmark = pytest.mark.torch

RTOL, ATOL = 1e-5, 1e-6


def close(ours, theirs, rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(np.asarray(ours.detach().numpy() if hasattr(ours, "detach")
                                          else ours, np.float64),
                               np.asarray(theirs.detach().numpy() if hasattr(theirs, "detach")
                                          else theirs, np.float64), rtol=rtol, atol=atol)


@pytest.fixture(scope="module")
def xv():
    return np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)


def _both(torch, xv, fn):
    """``fn(T, x)`` under PyTorch and fnnet.torch on the same ``x`` (requiring grad):
    its result and, when differentiable, the gradient of ``sum(result**2)``."""
    out = []
    for T in (torch, ft):
        x = T.tensor(xv, requires_grad=True)
        result = fn(T, x)
        if result.requires_grad:
            (result * result).sum().backward()
        out.append((result, x.grad))
    (theirs, their_grad), (ours, our_grad) = out
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype.is_floating_point == theirs.dtype.is_floating_point
    close(ours, theirs)
    assert (our_grad is None) == (their_grad is None)
    if their_grad is not None:
        close(our_grad, their_grad)
    return ours


# -- boolean masks and nonzero ------------------------------------------------------------


def _masked_write(T, x):
    y = x * 1
    y[y < 0] = 0
    return y


def _masked_write_values(T, x):
    y = x * 1
    mask = y > 0
    y[mask] = T.arange(int(mask.sum()), dtype=T.float32) * x[mask]
    return y


def _row_mask_write(T, x):
    y = x * 1
    y[x[:, 0] > 0] = T.tensor([1.0, 2.0, 3.0])
    return y


MASK_CASES = {
    "read": lambda T, x: x[x > 0],
    "row mask": lambda T, x: x[x[:, 0] > 0],
    "column mask": lambda T, x: x[:, x[0] > 0],
    "mask and int": lambda T, x: x[x[:, 0] > 0, 1],
    "numpy mask": lambda T, x: x[np.array([True, False, True, False])],
    "write scalar": _masked_write,
    "write values": _masked_write_values,
    "write rows": _row_mask_write,
    "masked_select": lambda T, x: T.masked_select(x, x > 0.5),
    "masked_select broadcast": lambda T, x: x.masked_select(T.tensor([True, False, True])),
    "nonzero": lambda T, x: T.nonzero(x > 0),
    "argwhere": lambda T, x: T.argwhere(x > 0),
    "where one argument": lambda T, x: T.where(x > 0)[1],
    "nonzero as_tuple": lambda T, x: (x > 0).nonzero(as_tuple=True)[0],
}


@pytest.mark.parametrize("case", MASK_CASES)
def test_boolean_masks_match_pytorch(torch, xv, case):
    _both(torch, xv, MASK_CASES[case])


def test_where_one_argument_is_a_tuple_of_int64_indices(torch):
    ours, theirs = ft.where(ft.tensor([[0, 1], [1, 1]]) > 0), \
        torch.where(torch.tensor([[0, 1], [1, 1]]) > 0)
    assert isinstance(ours, tuple) and len(ours) == len(theirs) == 2
    for o, t in zip(ours, theirs, strict=True):
        assert o.dtype == ft.int64
        np.testing.assert_array_equal(o.numpy(), t.numpy())
    with pytest.raises(TypeError, match="one argument"):
        ft.where(ft.tensor([True]), 1.0)


def test_mask_of_wrong_shape_raises_pytorchs_index_error(torch, xv):
    message = r"The shape of the mask \[2\] at index 0 does not match"
    with pytest.raises(IndexError, match=message):
        torch.tensor(xv)[torch.tensor([True, False])]
    with pytest.raises(IndexError, match=message):
        ft.tensor(xv)[ft.tensor([True, False])]


def test_a_masked_sum_compiles_one_step_whatever_the_count(torch):
    """A sum over ``x[mask]`` is computed over the whole tensor with the mask as weights,
    so masks selecting 3, 3, 2 and 1 elements reuse one compiled step."""
    from fnnet.torch import _compiler

    w = ft.nn.Parameter(ft.ones(6))
    opt = ft.optim.SGD([w], lr=0.1)
    base = np.array([1.0, -1.0, 2.0, -2.0, 3.0, -3.0], np.float32)
    _compiler.reset_compile_stats()
    for step in range(4):
        x = ft.tensor(base)
        loss = (w * x)[x > step - 1].sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    expected = 1.0 - 0.1 * sum(np.where(base > s - 1, base, 0) for s in range(4))
    np.testing.assert_allclose(w.detach().numpy(), expected, rtol=1e-6)
    assert ft.compile_stats()["compiles"] <= 2


# -- recurrent cells ----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
def test_cells_unrolled_by_hand_match_pytorch(torch, kind, batched):
    theirs = getattr(torch.nn, kind)(3, 4)
    ours = getattr(ft.nn, kind)(3, 4)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for name, p in ours.named_parameters():
        assert tuple(p.shape) == tuple(theirs.get_parameter(name).shape)
    ours.load_state_dict({k: ft.from_numpy(v.numpy()) for k, v in
                          theirs.state_dict().items()})
    xs = np.random.default_rng(1).standard_normal((3, 2, 3) if batched else (3, 3))
    results = []
    for T, cell in ((torch, theirs), (ft, ours)):
        x = T.tensor(xs.astype(np.float32), requires_grad=True)
        state, total = None, 0
        for t in range(3):
            state = cell(x[t], state)
            h = state[0] if isinstance(state, tuple) else state
            total = total + (h * h).sum()
        total.backward()
        results.append((total, x.grad, [p.grad for p in cell.parameters()]))
    (t_total, t_xgrad, t_grads), (o_total, o_xgrad, o_grads) = results
    close(o_total, t_total)
    close(o_xgrad, t_xgrad)
    for o, t in zip(o_grads, t_grads, strict=True):
        close(o, t)


def test_cells_repr_and_errors(torch):
    assert repr(ft.nn.LSTMCell(3, 4)) == repr(torch.nn.LSTMCell(3, 4))
    assert repr(ft.nn.RNNCell(3, 4, bias=False, nonlinearity="relu")) == \
        repr(torch.nn.RNNCell(3, 4, bias=False, nonlinearity="relu"))
    assert "bias_ih" not in ft.nn.GRUCell(3, 4, bias=False).state_dict()
    with pytest.raises(RuntimeError, match="inconsistent input_size: got 5 expected 3"):
        ft.nn.GRUCell(3, 4)(ft.zeros(2, 5))
    with pytest.raises(RuntimeError, match="hidden0 has inconsistent hidden_size: got 3, "
                                           "expected 4"):
        ft.nn.GRUCell(3, 4)(ft.zeros(2, 3), ft.zeros(2, 3))
    with pytest.raises(TypeError, match="must be tuple of Tensors, not Tensor"):
        ft.nn.LSTMCell(3, 4)(ft.zeros(2, 3), ft.zeros(2, 4))
    with pytest.raises(ValueError, match="nonlinearity must be 'tanh' or 'relu'"):
        ft.nn.RNNCell(3, 4, nonlinearity="gelu")


# -- KL divergence ------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["batchmean", "sum", "mean", "none"])
@pytest.mark.parametrize("log_target", [False, True])
# PyTorch's own note that reduction='mean' is not the divergence (its value is still checked)
@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")
def test_kl_div_matches_pytorch(torch, reduction, log_target):
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((4, 5)).astype(np.float32)
    probs = rng.random((4, 5)).astype(np.float32) + 0.05
    probs /= probs.sum(1, keepdims=True)
    target = np.log(probs) if log_target else probs
    results = []
    for T in (torch, ft):
        x = T.tensor(logits, requires_grad=True)
        t = T.tensor(target, requires_grad=True)
        loss = T.nn.KLDivLoss(reduction=reduction, log_target=log_target)(
            T.log_softmax(x, 1), t)
        loss.sum().backward()
        results.append((loss, x.grad, t.grad))
    for ours, theirs in zip(results[1], results[0], strict=True):
        close(ours, theirs)


def test_kl_div_zero_target_and_errors(torch):
    x = np.log(np.full((2, 3), 1 / 3, np.float32))
    t = np.array([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]], np.float32)
    close(ft.nn.functional.kl_div(ft.tensor(x), ft.tensor(t), reduction="batchmean"),
          torch.nn.functional.kl_div(torch.tensor(x), torch.tensor(t), reduction="batchmean"))
    with pytest.raises(ValueError, match="^avg is not a valid value for reduction$"):
        ft.nn.functional.kl_div(ft.tensor(x), ft.tensor(t), reduction="avg")
    with pytest.raises(ValueError, match="kl_div: target must have the shape of input"):
        ft.nn.functional.kl_div(ft.tensor(x), ft.tensor(t[0]))


# -- in-place initialisers ----------------------------------------------------------------


def test_random_fills_under_no_grad_follow_their_distributions(torch):
    layer = ft.nn.Linear(100, 100)
    with ft.no_grad():
        layer.weight.normal_(0.5, 0.02)
        layer.bias.uniform_(-3.0, -1.0)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert abs(w.mean() - 0.5) < 2e-3 and abs(w.std() - 0.02) < 2e-3
    assert -3.0 <= b.min() and b.max() < -1.0 and abs(b.mean() + 2.0) < 0.2
    assert layer.weight.requires_grad and layer.weight.is_leaf
    with ft.no_grad():
        layer.bias.fill_(0.25)
        layer.weight.zero_()
    assert np.all(layer.bias.detach().numpy() == 0.25)
    assert not layer.weight.detach().numpy().any()
    assert abs(ft.empty(20000).bernoulli_(0.3).mean().item() - 0.3) < 0.02
    assert abs(ft.empty(20000).exponential_(2.0).mean().item() - 0.5) < 0.02


def test_random_fills_are_seeded_and_refuse_what_pytorch_refuses(torch):
    ft.manual_seed(3)
    first = ft.empty(5).normal_().numpy()
    ft.manual_seed(3)
    np.testing.assert_array_equal(ft.empty(5).normal_().numpy(), first)
    for T in (torch, ft):
        w = T.nn.Linear(2, 2).weight
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being "
                                               "used in an in-place operation"):
            w.normal_()
    with pytest.raises(RuntimeError, match="normal expects std >= 0.0"):
        ft.empty(3).normal_(0.0, -1.0)
    with pytest.raises(RuntimeError, match="from=2.0 > to=1.0"):
        ft.empty(3).uniform_(2.0, 1.0)
    # continuous draws into integer or boolean tensors: PyTorch's exceptions and words,
    # raised before anything is drawn; Bernoulli's 0 and 1 fit them
    for fill in (lambda T: T.zeros(3, dtype=T.int64).normal_(),
                 lambda T: T.zeros(3, dtype=T.bool).uniform_(),
                 lambda T: T.zeros(3, dtype=T.int64).log_normal_(),
                 lambda T: T.zeros(3, dtype=T.int64).exponential_(),
                 lambda T: T.zeros(3, dtype=T.int64).cauchy_()):
        theirs, ours = raised_by(fill, torch, ft)
        assert ours == theirs
    ft.manual_seed(5)
    with pytest.raises(NotImplementedError):
        ft.zeros(3, dtype=ft.int64).normal_()
    after_refusal = ft.rand(1).item()
    ft.manual_seed(5)
    assert ft.rand(1).item() == after_refusal  # the refused fill drew nothing
    for dtype in ("int64", "bool"):
        drawn = []
        for T in (torch, ft):
            T.manual_seed(2)
            drawn.append(T.zeros(8, dtype=getattr(T, dtype)).bernoulli_(0.5).tolist())
        assert drawn[1] == drawn[0]


def test_trunc_normal_stays_within_its_bounds(torch):
    w = ft.nn.Linear(100, 100).weight
    assert ft.nn.init.trunc_normal_(w, mean=0.1, std=1.0, a=-0.4, b=0.6) is w
    values = w.detach().numpy()
    assert values.min() >= -0.4 and values.max() <= 0.6
    reference = torch.nn.init.trunc_normal_(torch.empty(100, 100), mean=0.1, std=1.0,
                                            a=-0.4, b=0.6).numpy()
    assert abs(values.mean() - reference.mean()) < 0.015
    assert abs(values.std() - reference.std()) < 0.015
    with pytest.raises(ValueError, match="trunc_normal_: expected a < b"):
        ft.nn.init.trunc_normal_(w, a=1.0, b=0.0)


@pytest.mark.parametrize("name", ["linear", "conv2d", "conv_transpose1d", "sigmoid",
                                  "tanh", "relu", "selu"])
def test_gains_are_pytorchs_numbers(torch, name):
    ours, theirs = ft.nn.init.calculate_gain(name), torch.nn.init.calculate_gain(name)
    assert (type(ours), ours) == (type(theirs), theirs)  # 1, not 1.0, for the linear ones


def test_a_kaiming_mode_pytorch_lacks_is_its_error(torch):
    for T in (torch, ft):
        with pytest.raises(ValueError, match=r"^Mode fan_avg not supported, please use one "
                                             r"of \['fan_in', 'fan_out'\]$"):
            T.nn.init.kaiming_uniform_(T.empty(2, 3), mode="fan_avg")


def test_sparse_init_clears_as_many_entries_per_column_as_pytorchs(torch):
    """``nn.init.sparse_``: ``ceil(sparsity * rows)`` zeros in every column (at random
    rows), the rest ``N(0, std**2)``; PyTorch's error for a tensor that is not 2-D."""
    draws = []
    for T in (torch, ft):
        w = T.nn.Linear(30, 200).weight
        assert T.nn.init.sparse_(w, sparsity=0.35, std=2.0) is w
        values = w.detach().numpy()
        np.testing.assert_array_equal((values == 0).sum(0), np.full(30, 70))
        draws.append(values[values != 0])
        with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
            T.nn.init.sparse_(T.empty(3), 0.5)
    assert abs(draws[1].std() - draws[0].std()) < 0.1 and abs(draws[1].mean()) < 0.1


# -- mixed precision ----------------------------------------------------------------------


def test_autocast_regions_and_decorator():
    assert not ft.is_autocast_enabled("cpu")
    with ft.autocast(device_type="cpu", dtype=ft.bfloat16):
        assert ft.is_autocast_enabled("cpu") and not ft.is_autocast_enabled("cuda")
        assert ft.get_autocast_dtype("cpu") is ft.bfloat16
        with ft.autocast(device_type="cpu", enabled=False):
            assert not ft.is_autocast_enabled("cpu")
        assert ft.is_autocast_enabled("cpu")
    assert not ft.is_autocast_enabled("cpu")

    with pytest.warns(FutureWarning, match=r"torch.cuda.amp.autocast\(args...\)` is "
                      "deprecated"):
        @ft.cuda.amp.autocast()
        def inside() -> bool:
            return ft.is_autocast_enabled()

    # without a GPU, PyTorch disables a CUDA region (with a warning, tested in
    # test_shim_devices)
    assert inside() == ft.cuda.is_available() and not ft.is_autocast_enabled()
    assert ft.amp.autocast is ft.autocast
    with pytest.raises(RuntimeError, match="device_type must be one of"):
        ft.autocast(device_type="tpu")


@pytest.mark.slow
def test_grad_scaler_loop_matches_pytorch(torch):
    """The loop CPU tutorials write (autocast and a scaler, both off without CUDA) gives
    PyTorch's losses and weights."""
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((16, 3)).astype(np.float32), \
        rng.standard_normal((16, 1)).astype(np.float32)
    weights = {"weight": rng.standard_normal((1, 3)).astype(np.float32),
               "bias": np.zeros(1, np.float32)}
    runs = []
    for T in (torch, ft):
        model = T.nn.Linear(3, 1)
        model.load_state_dict({k: T.from_numpy(v) for k, v in weights.items()})
        opt = T.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        use_amp = T.cuda.is_available()
        scaler = T.amp.GradScaler(enabled=use_amp)
        losses = []
        for _ in range(3):
            with T.autocast(device_type="cpu", dtype=T.bfloat16, enabled=use_amp):
                loss = T.nn.functional.mse_loss(model(T.from_numpy(x)), T.from_numpy(y))
            opt.zero_grad()
            scaler.scale(loss).backward()
            scaler.unscale_(opt)
            T.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            scaler.step(opt)
            scaler.update()
            losses.append(loss.item())
        runs.append((losses, model.weight, scaler))
    (t_losses, t_weight, t_scaler), (o_losses, o_weight, o_scaler) = runs
    np.testing.assert_allclose(o_losses, t_losses, rtol=RTOL)
    close(o_weight, t_weight)
    assert o_scaler.get_scale() == t_scaler.get_scale() == 1.0
    assert o_scaler.is_enabled() == t_scaler.is_enabled()
    assert o_scaler.state_dict() == t_scaler.state_dict() == {}
    with pytest.raises(ValueError, match="GradScaler: init_scale is out of range"):
        ft.amp.GradScaler(init_scale=0.0)


def test_cpu_grad_scaler_scales_skips_and_grows_as_pytorch(torch):
    """An enabled CPU scaler: the scaled loss, unscaled gradients, a skipped step for an
    infinite gradient (its backoff), growth after growth_interval steps, the state and
    the errors of a misordered loop."""
    runs = []
    for T in (torch, ft):
        model = T.nn.Linear(3, 1)
        model.load_state_dict({"weight": T.tensor([[0.5, -0.25, 1.0]]), "bias": T.zeros(1)})
        opt = T.optim.SGD(model.parameters(), lr=0.1)
        scaler = T.amp.GradScaler("cpu", init_scale=8.0, growth_interval=2)
        seen = [scaler.get_scale(), scaler.is_enabled()]
        for factor in (1.0, float("inf"), 1.0, 1.0, 1.0):
            opt.zero_grad()
            loss = (model(T.ones(2, 3)) * factor).pow(2).mean()
            scaled = scaler.scale(loss)
            scaled.backward()
            scaler.unscale_(opt)
            with pytest.raises(RuntimeError) as twice:
                scaler.unscale_(opt)
            stepped = scaler.step(opt)
            scaler.update()
            seen += [scaled.item(), stepped, scaler.get_scale(), str(twice.value)]
        with pytest.raises(RuntimeError) as closure:
            scaler.step(opt, closure=lambda: 0.0)
        restored = T.amp.GradScaler("cpu")
        restored.load_state_dict(scaler.state_dict())
        runs.append((seen, model.weight, scaler.state_dict(), restored.state_dict(),
                     str(closure.value)))
    (t_seen, t_weight, *t_rest), (o_seen, o_weight, *o_rest) = runs
    assert o_seen == t_seen and o_rest == t_rest
    close(o_weight, t_weight)


# -- OneCycleLR's momentum cycle ----------------------------------------------------------
# -- OneCycleLR's momentum cycle ----------------------------------------------------------


@pytest.mark.parametrize("optimizer, kwargs, three_phase", [
    ("SGD", dict(lr=0.1, momentum=0.9), False),
    pytest.param("SGD", dict(lr=0.1, nesterov=True, momentum=0.5), True,
                 marks=pytest.mark.slow),
    ("AdamW", dict(lr=0.01, betas=(0.8, 0.99)), True),
    pytest.param("Adam", dict(lr=0.01), False, marks=pytest.mark.slow),
])
def test_one_cycle_cycles_momentum_as_pytorch_and_compiles_once(torch, optimizer, kwargs,
                                                                three_phase):
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((16, 4)).astype(np.float32), \
        rng.standard_normal((16, 1)).astype(np.float32)
    weights = {"weight": rng.standard_normal((1, 4)).astype(np.float32),
               "bias": np.zeros(1, np.float32)}
    runs = []
    for T in (torch, ft):
        ft.reset_compile_stats()
        model = T.nn.Linear(4, 1)
        model.load_state_dict({k: T.from_numpy(v) for k, v in weights.items()})
        opt = getattr(T.optim, optimizer)(model.parameters(), **kwargs)
        sched = T.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=12,
                                                three_phase=three_phase,
                                                base_momentum=0.8, max_momentum=0.9)
        losses, momenta = [], []
        for step in range(12):
            loss = T.nn.functional.mse_loss(model(T.from_numpy(x)), T.from_numpy(y))
            opt.zero_grad()
            loss.backward()
            opt.step()
            if step < 11:
                sched.step()
            group = opt.param_groups[0]
            momenta.append(group["betas"] if "betas" in group else group["momentum"])
            losses.append(loss.item())
        runs.append((losses, momenta, model.weight, list(opt.state_dict()["param_groups"][0])))
    (t_losses, t_momenta, t_weight, t_keys), (o_losses, o_momenta, o_weight, o_keys) = runs
    assert o_keys == t_keys  # a saved optimizer state lists its entries in PyTorch's order
    np.testing.assert_allclose(o_losses, t_losses, rtol=RTOL)
    np.testing.assert_allclose(np.array(o_momenta, np.float64),
                               np.array(t_momenta, np.float64), rtol=1e-6)
    close(o_weight, t_weight)
    assert ft.compile_stats()["compiles"] == 1


# -- element-wise math, in-place forms, clamp with tensors, multinomial -------------------

UNARY_INPUT = np.array([[0.3, 0.55, 0.9], [0.05, 0.7, 0.45]], np.float32)


@pytest.mark.parametrize("name", ["floor", "ceil", "trunc", "frac", "round", "log1p",
                                  "expm1", "log2", "log10", "exp2", "reciprocal", "rsqrt",
                                  "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh",
                                  "atanh", "erf", "erfinv"])
def test_unary_math_matches_pytorch(torch, name):
    results = []
    for T in (torch, ft):
        x = T.tensor(UNARY_INPUT * 1.9 - 0.6, requires_grad=True)
        y = getattr(T, name)(x) if name != "round" else x.round()
        (y * y).sum().backward()
        results.append((y, x.grad))
    close(results[1][0], results[0][0])
    close(results[1][1], results[0][1], rtol=1e-5, atol=1e-5)


def test_round_decimals_atan2_and_in_place_forms(torch):
    data = np.array([[-1.25, 0.5, 2.675], [3.5, -0.35, 0.015]], np.float32)
    close(ft.tensor(data).round(decimals=1), torch.tensor(data).round(decimals=1))
    # bit for bit, as printed values are compared: x * 10**d rounded, divided by 10**d
    many = (np.random.default_rng(3).standard_normal(5000) * 10).astype(np.float32)
    for decimals in (3, 2, -1):
        np.testing.assert_array_equal(ft.tensor(many).round(decimals=decimals).numpy(),
                                      torch.tensor(many).round(decimals=decimals).numpy())
    rounded = ft.tensor(data, requires_grad=True).round(decimals=2)
    assert type(rounded.grad_fn).__name__ == "RoundBackward1"
    close(ft.atan2(ft.tensor(data), ft.tensor(data[::-1].copy())),
          torch.atan2(torch.tensor(data), torch.tensor(data[::-1].copy())))
    for name in ("relu_", "exp_", "abs_", "sqrt_", "sigmoid_", "floor_", "clamp_min_"):
        args = (0.1,) if name == "clamp_min_" else ()
        ours, theirs = ft.tensor(np.abs(data) - 0.5), torch.tensor(np.abs(data) - 0.5)
        assert getattr(ours, name)(*args) is ours
        getattr(theirs, name)(*args)
        close(ours, theirs)
    leaf = ft.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        leaf.exp_()


def test_clamp_with_tensor_bounds_matches_pytorch(torch):
    data = np.array([[-1.5, 0.5, 2.0], [3.0, -0.2, 0.1]], np.float32)
    low, high = np.array([0.0, 0.6, -1.0], np.float32), np.array([[1.0], [0.05]], np.float32)
    results = []
    for T in (torch, ft):
        x = T.tensor(data, requires_grad=True)
        y = T.clamp(x, min=T.tensor(low), max=T.tensor(high))
        z = x.clamp(min=T.tensor(low)) + x.clip(max=T.tensor(high)) + x.clamp_min(0.2)
        (y.sum() + (z * z).sum()).backward()
        results.append((y, z, x.grad))
    for ours, theirs in zip(results[1], results[0], strict=True):
        close(ours, theirs)
    for T in (torch, ft):
        with pytest.raises(RuntimeError, match="At least one of 'min' or 'max' must not be "
                                               "None"):
            T.clamp(T.ones(2))


def test_mT_and_new_tensor(torch):
    x = ft.ones(2, 3, 4)
    assert tuple(x.mT.shape) == (2, 4, 3)
    with pytest.raises(RuntimeError, match="only supported on matrices"):
        _ = ft.ones(3).mT
    y = ft.zeros(2, dtype=ft.float64).new_tensor([1, 2])
    assert y.dtype == ft.float64 and y.tolist() == [1.0, 2.0]
    assert tuple(ft.zeros(2).new_empty(3, 1).shape) == (3, 1)


def test_multinomial_draws_follow_the_weights():
    ft.manual_seed(0)
    weights = ft.tensor([[0.0, 1.0, 3.0], [5.0, 0.0, 0.0]])
    draws = ft.multinomial(weights, 4000, replacement=True)
    assert tuple(draws.shape) == (2, 4000) and draws.dtype == ft.int64
    counts = np.bincount(draws[0].numpy(), minlength=3) / 4000
    assert counts[0] == 0 and abs(counts[2] - 0.75) < 0.03
    assert set(draws[1].tolist()) == {0}
    once = ft.multinomial(ft.tensor([1.0, 1.0, 1.0, 1.0]), 4)
    assert sorted(once.tolist()) == [0, 1, 2, 3]
    with pytest.raises(RuntimeError, match="cannot sample n_sample > prob_dist.size"):
        ft.multinomial(ft.tensor([1.0, 2.0]), 3)
    with pytest.raises(RuntimeError, match="element < 0"):
        ft.multinomial(ft.tensor([1.0, -2.0]), 1)


# -- further activations ------------------------------------------------------------------

ACTIVATION_INPUT = np.array([-7, -3, -2.5, -1, -0.3, 0.0, 0.4, 1, 2.9, 3.0, 6.0, 7, 25],
                            np.float32)


@pytest.mark.parametrize("name, kwargs, module, args", [
    ("silu", {}, "SiLU", ()), ("elu", {"alpha": 0.7}, "ELU", (0.7,)),
    ("celu", {"alpha": 0.5}, "CELU", (0.5,)), ("selu", {}, "SELU", ()),
    ("softplus", {"beta": 2.0, "threshold": 5.0}, "Softplus", (2.0, 5.0)),
    ("mish", {}, "Mish", ()), ("softsign", {}, "Softsign", ()),
    ("logsigmoid", {}, "LogSigmoid", ()),
    ("hardtanh", {"min_val": -2.0, "max_val": 2.5}, "Hardtanh", (-2.0, 2.5)),
    ("relu6", {}, "ReLU6", ()), ("hardsigmoid", {}, "Hardsigmoid", ()),
    ("hardswish", {}, "Hardswish", ()), ("softmin", {"dim": 0}, "Softmin", (0,)),
])
def test_activations_match_pytorch(torch, name, kwargs, module, args):
    results = []
    for T in (torch, ft):
        x = T.tensor(ACTIVATION_INPUT, requires_grad=True)
        y = getattr(T.nn.functional, name)(x, **kwargs)
        layer = getattr(T.nn, module)(*args)
        z = layer(x)
        (y * T.arange(13.0)).sum().backward()
        results.append((y, z, x.grad, repr(layer)))
    (t_y, t_z, t_grad, t_repr), (o_y, o_z, o_grad, o_repr) = results
    close(o_y, t_y)
    close(o_z, t_z)
    close(o_grad, t_grad, rtol=1e-5, atol=2e-5)
    assert o_repr == t_repr


# -- interpolate and Upsample -------------------------------------------------------------


@pytest.mark.parametrize("shape, kwargs", [
    ((1, 2, 5), dict(scale_factor=2, mode="nearest")),
    ((1, 2, 5), dict(size=7, mode="linear")),
    ((1, 2, 5), dict(size=3, mode="linear", align_corners=True)),
    ((2, 1, 3, 4), dict(scale_factor=2)),
    ((2, 1, 3, 4), dict(size=(5, 7))),
    ((2, 1, 3, 4), dict(size=(5, 7), mode="nearest-exact")),
    ((2, 1, 5, 4), dict(scale_factor=1.3, mode="nearest")),
    ((2, 1, 6, 6), dict(scale_factor=0.5, mode="nearest")),
    ((2, 1, 3, 4), dict(scale_factor=1.7, mode="bilinear")),
    ((2, 1, 3, 4), dict(scale_factor=1.7, mode="bilinear", recompute_scale_factor=True)),
    ((2, 1, 3, 4), dict(size=(2, 3), mode="bilinear")),
    ((2, 1, 3, 4), dict(size=(6, 5), mode="bilinear", align_corners=True)),
    ((1, 1, 2, 3, 4), dict(scale_factor=2, mode="trilinear")),
    ((2, 1, 11, 9), dict(size=(5, 4), mode="area")),
    ((1, 2, 9), dict(scale_factor=0.5, mode="area")),
    ((2, 1, 28, 20), dict(size=(9, 7), mode="bilinear", antialias=True)),
    ((2, 1, 28, 20), dict(scale_factor=0.3, mode="bicubic", antialias=True)),
    ((2, 1, 6, 5), dict(size=(9, 8), mode="bilinear", antialias=True)),
], ids=lambda v: str(v))
def test_interpolate_matches_pytorch(torch, shape, kwargs):
    data = np.random.default_rng(6).standard_normal(shape).astype(np.float32)
    results = []
    for T in (torch, ft):
        x = T.tensor(data, requires_grad=True)
        y = T.nn.functional.interpolate(x, **kwargs)
        (y * y).sum().backward()
        results.append((y, x.grad))
    assert tuple(results[1][0].shape) == tuple(results[0][0].shape)
    close(results[1][0], results[0][0])
    close(results[1][1], results[0][1], rtol=1e-5, atol=1e-5)


def test_upsample_modules_and_errors(torch):
    data = np.arange(12, dtype=np.float32).reshape(1, 1, 3, 4)
    for args, kwargs in (((), dict(scale_factor=2, mode="bilinear")), ((), dict(size=(3, 5))),
                         ((None, 2), {})):
        for cls in ("Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d"):
            if cls != "Upsample" and kwargs:
                continue
            theirs = getattr(torch.nn, cls)(*args, **kwargs)
            ours = getattr(ft.nn, cls)(*args, **kwargs)
            assert repr(ours) == repr(theirs)
            close(ours(ft.tensor(data)), theirs(torch.tensor(data)))
    with pytest.raises(ValueError, match="Anti-alias option is restricted to bilinear"):
        ft.nn.functional.interpolate(ft.tensor(data), scale_factor=2, antialias=True)
    for T in (torch, ft):
        with pytest.raises(ValueError, match="^either size or scale_factor should be defined$"):
            T.nn.functional.interpolate(T.tensor(data))
        with pytest.raises(ValueError, match="^only one of size or scale_factor should be "
                                             "defined$"):
            T.nn.functional.interpolate(T.tensor(data), size=(3, 5), scale_factor=2)
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        ft.nn.functional.interpolate(ft.tensor(data), scale_factor=2, align_corners=True)


# -- backward nodes' names ----------------------------------------------------------------

INDEXING = ["a[1]", "a[1:]", "a[:2]", "a[0, 1:]", "a[1:, 0]", "a[None]", "a[0, None]",
            "a[:, 0]", "a[..., 0]", "a[a > 0]", "a[[0, 1]]", "a[0, [1, 2]]", "a[:, :]",
            "a[0][1]", "a[::2]", "a[1:2, 1:3]", "a[..., 1:]"]


@pytest.mark.parametrize("expression", INDEXING)
def test_indexing_grad_fn_names_are_pytorchs(torch, expression):
    names = []
    for T in (torch, ft):
        a = T.ones(3, 4, requires_grad=True)  # noqa: F841 - read by eval
        names.append(eval(expression).grad_fn.name())
    assert names[1] == names[0]


def test_printed_losses_and_views_name_pytorchs_overloads(torch):
    """print(loss) shows its grad_fn: L1 is abs then the reduction in PyTorch, a linear
    map without a bias an mm, and squeeze's three overloads are told apart."""
    expressions = ["F.l1_loss(a, b)", "F.l1_loss(a, b, reduction='sum')",
                   "F.l1_loss(a, b, reduction='none')", "T.nn.L1Loss()(a, b)",
                   "F.linear(a, b)", "F.linear(a[0], b)", "F.linear(a[None], b)",
                   "a[None].squeeze()", "a[None].squeeze(0)", "a[None].squeeze((0,))"]
    names = []
    for T in (torch, ft):
        scope = {"T": T, "F": T.nn.functional, "a": T.ones(3, 3, requires_grad=True),
                 "b": T.ones(3, 3)}
        names.append([eval(e, scope).grad_fn.name() for e in expressions])
    assert names[1] == names[0]


@pytest.mark.parametrize("cell, kwargs", [("LSTMCell", {}), ("GRUCell", {}), ("RNNCell", {}),
                                          ("RNNCell", {"nonlinearity": "relu"})])
def test_cell_grad_fn_names_are_pytorchs(torch, cell, kwargs):
    names = []
    for T in (torch, ft):
        out = getattr(T.nn, cell)(4, 2, **kwargs)(T.ones(3, 4))
        names.append((out[0] if isinstance(out, tuple) else out).grad_fn.name())
    assert names[1] == names[0]


# -- logical ops, amax, diff, meshgrid, unique, bincount, compile --------------------------


def test_small_functions_match_pytorch(torch):
    def run(T):
        x = T.tensor([[-1.5, 0.5, 2.0], [3.0, 2.0, 0.1]], requires_grad=True)
        y = (T.amax(x, dim=1).sum() + x.amin() + x.amax(dim=(0, 1), keepdim=True).sum()
             + T.diff(x, dim=1).pow(2).sum()
             + T.diff(x, n=2, dim=1, prepend=T.zeros(2, 1)).sum())
        y.backward()
        grids = [g.tolist() for g in T.meshgrid(T.arange(2), T.arange(3), indexing="xy")]
        grids += [g.tolist() for g in T.meshgrid(T.arange(2), T.arange(3), indexing="ij")]
        logical = [T.logical_and(x > 0, x < 2).tolist(), (x > 0).logical_not().tolist(),
                   T.logical_xor(x > 0, x > 1).tolist(), T.logical_or(x > 2, x < 0).tolist()]
        values, inverse, counts = T.unique(T.tensor([3, 1, 3, 2]), return_inverse=True,
                                           return_counts=True)
        found = [values.tolist(), inverse.tolist(), counts.tolist(),
                 T.bincount(T.tensor([0, 3, 3]), minlength=5).tolist(),
                 T.bincount(T.tensor([0, 1]), weights=T.tensor([0.5, 2.0])).tolist()]
        return round(y.item(), 5), x.grad.tolist(), grids, logical, found

    ours, theirs = run(ft), run(torch)
    assert ours[0] == pytest.approx(theirs[0], rel=1e-6)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6)
    assert ours[2:] == theirs[2:]


def test_draws_and_compile():
    ft.manual_seed(1)
    assert tuple(ft.normal(ft.zeros(2, 3), 1.0).shape) == (2, 3)
    draws = ft.normal(2.0, 3.0, size=(20000,)).numpy()
    assert abs(draws.mean() - 2.0) < 0.1 and abs(draws.std() - 3.0) < 0.1
    assert ft.bernoulli(ft.full((3,), 1.0)).tolist() == [1.0, 1.0, 1.0]
    assert abs(ft.bernoulli(ft.full((20000,), 0.25)).mean().item() - 0.25) < 0.02
    model = ft.nn.Linear(2, 1)
    assert ft.compile(model)._orig_mod is model

    @ft.compile(mode="reduce-overhead")
    def double(a):
        return a * 2

    assert double(ft.ones(1)).tolist() == [2.0]
    with pytest.raises(RuntimeError, match="bincount only supports 1-d non-negative"):
        ft.bincount(ft.tensor([-1, 2]))


# -- ConvTranspose2d ----------------------------------------------------------------------


@pytest.mark.parametrize("args, kwargs, shape", [
    ((3, 2, 4), dict(stride=2, padding=1), (2, 3, 5, 5)),
    ((4, 6, 3), dict(stride=2, padding=1, output_padding=1, groups=2), (1, 4, 4, 4)),
    ((2, 3, (3, 2)), dict(stride=(1, 2), dilation=2, bias=False), (2, 2, 5, 6)),
    ((2, 2, 4), dict(stride=2), (2, 5, 5)),
])
def test_conv_transpose2d_matches_pytorch(torch, args, kwargs, shape):
    theirs, ours = torch.nn.ConvTranspose2d(*args, **kwargs), \
        ft.nn.ConvTranspose2d(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    ours.load_state_dict({k: ft.from_numpy(v.numpy()) for k, v in
                          theirs.state_dict().items()})
    data = np.random.default_rng(7).standard_normal(shape).astype(np.float32)
    results = []
    for T, layer in ((torch, theirs), (ft, ours)):
        x = T.tensor(data, requires_grad=True)
        y = layer(x)
        functional = T.nn.functional.conv_transpose2d(
            x, layer.weight, layer.bias, **{k: v for k, v in kwargs.items() if k != "bias"})
        (y * y).sum().backward()
        results.append((y, functional, x.grad, layer.weight.grad))
    for o, t in zip(results[1], results[0], strict=True):
        close(o, t, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_conv_transpose_output_size_picks_the_output_padding_as_pytorch(torch, dims):
    name = f"ConvTranspose{dims}d"
    theirs = getattr(torch.nn, name)(4, 2, 3, stride=2, padding=1)
    ours = getattr(ft.nn, name)(4, 2, 3, stride=2, padding=1)
    ours.load_state_dict({k: ft.from_numpy(v.numpy()) for k, v in theirs.state_dict().items()})
    data = np.random.default_rng(3).standard_normal((1, 4, *[5] * dims)).astype(np.float32)
    for size in ([9] * dims, (1, 2, 10, *[9] * (dims - 1))):
        close(ours(ft.tensor(data), output_size=size),
              theirs(torch.tensor(data), output_size=size), rtol=1e-5, atol=1e-5)
    unbatched = [9] * (dims - 1) + [10]
    assert ours(ft.tensor(data[0]), output_size=unbatched).shape == (2, *unbatched)
    for size in ([11] * dims, [10] * (dims + 1), (1, 2, *[12] * dims)):
        errors = []
        for T, layer in ((torch, theirs), (ft, ours)):
            with pytest.raises(ValueError) as caught:
                layer(T.tensor(data), output_size=T.Size(size))
            errors.append(str(caught.value))
        assert errors[1] == errors[0]


#: convolutions built with arguments PyTorch refuses (ValueErrors in its words)
CONV_ARGUMENT_MISTAKES = {
    "same with a stride": lambda nn: nn.Conv1d(1, 8, 3, padding="same", stride=2),
    "same with a stride in one dimension": lambda nn: nn.Conv2d(1, 8, 3, padding="same",
                                                                stride=(1, 2)),
    "in_channels by groups": lambda nn: nn.Conv2d(3, 8, 3, groups=2),
    "out_channels by groups": lambda nn: nn.Conv1d(4, 6, 3, groups=4),
    "groups zero": lambda nn: nn.Conv2d(2, 4, 3, groups=0),
    "padding string": lambda nn: nn.Conv1d(2, 4, 3, padding="full"),
    "padding_mode": lambda nn: nn.Conv2d(2, 4, 3, padding_mode="mirror"),
}


def _sets_in_order(text: str) -> str:
    """``text`` with each printed set of strings in sorted order: a set literal of constants
    is a frozenset stored in each module's bytecode in the order of the process that
    compiled it, so PyTorch's and fnnet's print their sets in different orders."""
    return re.sub(r"\{('[^']*'(?:, '[^']*')*)\}",
                  lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}", text)


@pytest.mark.parametrize("name", list(CONV_ARGUMENT_MISTAKES))
def test_conv_arguments_refused_as_pytorch(torch, name):
    from helpers import raised_by

    def call(T):
        return CONV_ARGUMENT_MISTAKES[name](T.nn)

    ours, theirs = raised_by(call, ft), raised_by(call, torch)
    assert [(kind, _sets_in_order(text)) for kind, text in ours] == \
        [(kind, _sets_in_order(text)) for kind, text in theirs]


def test_conv_transpose2d_init_and_errors():
    weight = ft.nn.ConvTranspose2d(16, 8, 4).weight.detach().numpy()
    assert weight.shape == (16, 8, 4, 4)
    assert np.abs(weight).max() <= 1 / np.sqrt(8 * 16)  # PyTorch's bound: fan-in 8 * 4 * 4
    late = ft.nn.ConvTranspose2d(2, 2, 3, stride=1, output_padding=1)  # PyTorch: at the call
    with pytest.raises(RuntimeError, match="output padding must be smaller than either stride"):
        late(ft.ones(1, 2, 3, 3))
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        ft.nn.ConvTranspose2d(4, 3, 3, groups=2)


def test_generator_graph_survives_a_read_and_the_discriminators_step(torch):
    """The DCGAN loop: D's loss on fake.detach(), a value read (D(G(z)).mean().item()),
    D's step, then G's loss through D(fake): fake's graph must outlive the read's flush
    although the carried graph also reads fake as a constant."""
    rng = np.random.default_rng(8)
    weights = {name: rng.standard_normal(shape).astype(np.float32) for name, shape in
               (("g.weight", (3, 2)), ("g.bias", (3,)), ("d.weight", (1, 3)),
                ("d.bias", (1,)))}
    noise = rng.standard_normal((4, 2)).astype(np.float32)
    results = []
    for T in (torch, ft):
        G, D = T.nn.Linear(2, 3), T.nn.Linear(3, 1)
        G.load_state_dict({k[2:]: T.from_numpy(v) for k, v in weights.items() if k[0] == "g"})
        D.load_state_dict({k[2:]: T.from_numpy(v) for k, v in weights.items() if k[0] == "d"})
        opt_d = T.optim.SGD(D.parameters(), lr=0.1)
        fake = G(T.from_numpy(noise))
        out = D(fake.detach())
        out.sum().backward()
        read = out.mean().item()
        opt_d.step()
        D(fake).pow(2).sum().backward()
        results.append((read, G.weight.grad, D.weight))
    assert results[1][0] == pytest.approx(results[0][0], rel=1e-6)
    close(results[1][1], results[0][1])
    close(results[1][2], results[0][2])


# -- similarities and distances -----------------------------------------------------------

DISTANCES = {
    "cosine_similarity": lambda T, x, y: T.nn.functional.cosine_similarity(x, y[:1]),
    "cosine_similarity dim 0": lambda T, x, y: T.nn.functional.cosine_similarity(
        x[:3], y, dim=0),
    "pairwise_distance": lambda T, x, y: T.nn.functional.pairwise_distance(x[:3], y),
    "pairwise_distance p=1": lambda T, x, y: T.nn.functional.pairwise_distance(
        x[:3], y, p=1.0, keepdim=True),
    "cdist": lambda T, x, y: T.cdist(x, y),
    "cdist p=1": lambda T, x, y: T.cdist(x, y, p=1.0),
    "cdist with itself": lambda T, x, y: T.cdist(x, x) + 0 * y.sum(),
    "modules": lambda T, x, y: T.nn.CosineSimilarity(dim=1)(x[:3], y) +
    T.nn.PairwiseDistance()(x[:3], y),
}


@pytest.mark.parametrize("case", DISTANCES)
def test_distances_match_pytorch(torch, case):
    rng = np.random.default_rng(9)
    a, b = rng.standard_normal((4, 5)).astype(np.float32), \
        rng.standard_normal((3, 5)).astype(np.float32)
    a[1] = 0.0  # a zero vector: the eps clamps and the zero distance's gradient
    results = []
    for T in (torch, ft):
        x, y = T.tensor(a, requires_grad=True), T.tensor(b, requires_grad=True)
        out = DISTANCES[case](T, x, y)
        (out * out).sum().backward()
        results.append((out, x.grad, y.grad))
    for ours, theirs in zip(results[1], results[0], strict=True):
        close(ours, theirs, rtol=1e-5, atol=1e-5)


# -- LinearLR and CosineAnnealingWarmRestarts ---------------------------------------------


@pytest.mark.parametrize("cls, kwargs, fractional", [
    ("LinearLR", dict(start_factor=0.1, total_iters=4), False),
    ("LinearLR", dict(start_factor=1.0, end_factor=0.2, total_iters=3), False),
    ("CosineAnnealingWarmRestarts", dict(T_0=3), False),
    ("CosineAnnealingWarmRestarts", dict(T_0=2, T_mult=2, eta_min=0.01), False),
    ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=3), True),
])
def test_warmup_and_restart_schedules_match_pytorch(torch, cls, kwargs, fractional):
    sequences = []
    for T in (torch, ft):
        opt = T.optim.SGD([T.zeros(1, requires_grad=True)], lr=0.5)
        scheduler = getattr(T.optim.lr_scheduler, cls)(opt, **kwargs)
        sequence = []
        for i in range(20):
            if i:
                opt.step()  # before the scheduler's step, as PyTorch expects
            if fractional:
                scheduler.step(i * 0.7)  # SGDR's fractional epochs
            elif i:
                scheduler.step()
            sequence.append(opt.param_groups[0]["lr"])
        sequences.append(sequence)
    np.testing.assert_allclose(sequences[1], sequences[0], rtol=1e-12, atol=1e-12)


def test_schedule_arguments_are_checked():
    opt = ft.optim.SGD([ft.zeros(1, requires_grad=True)], lr=0.5)
    with pytest.raises(ValueError, match="Starting multiplicative factor expected"):
        ft.optim.lr_scheduler.LinearLR(opt, start_factor=0.0)
    with pytest.raises(ValueError, match="Expected integer T_mult >= 1"):
        ft.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0)


@pytest.mark.parametrize("second, kwargs", [("CosineAnnealingLR", dict(T_max=10, eta_min=1e-3)),
                                            ("ExponentialLR", dict(gamma=0.8)),
                                            ("StepLR", dict(step_size=3, gamma=0.5))])
def test_sequential_warmup_then_decay_matches_pytorch(torch, second, kwargs):
    sequences = []
    for T in (torch, ft):
        opt = T.optim.SGD([T.zeros(1, requires_grad=True)], lr=0.5)
        warmup = T.optim.lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=4)
        decay = getattr(T.optim.lr_scheduler, second)(opt, **kwargs)
        scheduler = T.optim.lr_scheduler.SequentialLR(opt, schedulers=[warmup, decay],
                                                      milestones=[4])
        sequence = [opt.param_groups[0]["lr"]]
        for _ in range(15):
            opt.step()
            scheduler.step()
            sequence.append(opt.param_groups[0]["lr"])
        sequences.append(sequence + scheduler.get_last_lr())
    np.testing.assert_allclose(sequences[1], sequences[0], rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="one more than the number of milestone points"):
        ft.optim.lr_scheduler.SequentialLR(opt, schedulers=[warmup, decay], milestones=[])


# -- 1-D pooling --------------------------------------------------------------------------


@pytest.mark.parametrize("name, args, kwargs", [
    ("max_pool1d", (3,), dict(stride=2, padding=1)),
    ("max_pool1d", (2,), dict(ceil_mode=True)),
    ("max_pool1d", (3,), dict(dilation=2)),
    ("avg_pool1d", (3,), dict(stride=2, padding=1, count_include_pad=False)),
    ("adaptive_avg_pool1d", (4,), {}),
])
def test_pool1d_matches_pytorch(torch, name, args, kwargs):
    data = np.random.default_rng(10).standard_normal((2, 3, 11)).astype(np.float32)
    results = []
    for T in (torch, ft):
        x = T.tensor(data, requires_grad=True)
        y = getattr(T.nn.functional, name)(x, *args, **kwargs)
        (y * y).sum().backward()
        results.append((y, x.grad))
    for ours, theirs in zip(results[1], results[0], strict=True):
        close(ours, theirs)


@pytest.mark.parametrize("module, args", [("MaxPool1d", (2,)), ("AvgPool1d", (3, 2)),
                                          ("AdaptiveAvgPool1d", (5,))])
def test_pool1d_modules_match_pytorch(torch, module, args):
    data = np.random.default_rng(11).standard_normal((3, 11)).astype(np.float32)
    theirs, ours = getattr(torch.nn, module)(*args), getattr(ft.nn, module)(*args)
    assert repr(ours) == repr(theirs)
    close(ours(ft.tensor(data)), theirs(torch.tensor(data)))


# -- GroupNorm ----------------------------------------------------------------------------


@pytest.mark.parametrize("groups, kwargs", [(3, {}), (1, {}), (6, dict(affine=False)),
                                            (2, dict(bias=False))])
def test_group_norm_matches_pytorch(torch, groups, kwargs):
    data = np.random.default_rng(12).standard_normal((2, 6, 3, 4)).astype(np.float32) * 3 + 1
    theirs, ours = torch.nn.GroupNorm(groups, 6, **kwargs), ft.nn.GroupNorm(groups, 6, **kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.linspace(-1.0, 2.0, 6))
    ours.load_state_dict({k: ft.from_numpy(v.numpy()) for k, v in theirs.state_dict().items()})
    results = []
    for T, layer in ((torch, theirs), (ft, ours)):
        x = T.tensor(data, requires_grad=True)
        y = layer(x)
        (y * y * T.arange(4.0)).sum().backward()
        results.append((y, x.grad, *[p.grad for p in layer.parameters()]))
    for o, t in zip(results[1], results[0], strict=True):
        close(o, t, rtol=1e-5, atol=5e-5)
    close(ft.nn.functional.group_norm(ft.tensor(data), 2),
          torch.nn.functional.group_norm(torch.tensor(data), 2))


# -- channel dropout ----------------------------------------------------------------------


@pytest.mark.parametrize("module, shape, batch_dims", [("Dropout1d", (8, 16, 5), 2),
                                                       ("Dropout2d", (8, 16, 3, 3), 2),
                                                       # read as [N, C, L], with a warning
                                                       ("Dropout2d", (16, 3, 3), 2),
                                                       ("Dropout3d", (4, 16, 2, 2, 2), 2)])
def test_channel_dropout_zeroes_whole_channels(torch, module, shape, batch_dims):
    ft.manual_seed(2)
    layer = getattr(ft.nn, module)(p=0.25)
    assert repr(layer) == repr(getattr(torch.nn, module)(p=0.25))
    x = ft.ones(*shape, requires_grad=True)
    y = layer(x)
    y.sum().backward()
    values = y.detach().numpy().reshape(*shape[:batch_dims], -1)
    per_channel = values.reshape(-1, values.shape[-1])
    # every channel is all zeros or all 1 / (1 - p), and the gradient is the same mask
    assert set(np.unique(per_channel.min(1))) <= {0.0, np.float32(1 / 0.75)}
    np.testing.assert_array_equal(per_channel.min(1), per_channel.max(1))
    assert 0.05 < (per_channel[:, 0] == 0).mean() < 0.5
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())
    layer.eval()
    assert layer(x) is x
    with pytest.raises(RuntimeError, match="Expected 2D or 3D input, but received a 4D"):
        ft.nn.functional.dropout1d(ft.ones(2, 3, 4, 5), 0.5)


def test_index_add_copy_fill_match_pytorch(torch):
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    source = np.random.default_rng(13).standard_normal((3, 3)).astype(np.float32)
    results = []
    for T in (torch, ft):
        x, s = T.tensor(data, requires_grad=True), T.tensor(source, requires_grad=True)
        added = x.index_add(1, T.tensor([0, 2, 0]), s, alpha=2.0)
        copied = x.index_copy(1, T.tensor([3, 1, 0]), s)
        filled = x.index_fill(0, T.tensor([1]), -1.0)
        ((added * added).sum() + (copied * copied).sum() + (filled * filled).sum()).backward()
        in_place = [T.zeros(3).index_add_(0, T.tensor([0, 0, 2]), T.ones(3)),
                    T.zeros(2, 2).index_fill_(1, T.tensor([0]), 5.0)]
        results.append((added, copied, filled, x.grad, s.grad, *in_place))
    for ours, theirs in zip(results[1], results[0], strict=True):
        close(ours, theirs)


# -- set_printoptions ---------------------------------------------------------------------


def test_set_printoptions_prints_as_pytorch(torch):
    def lines(T):
        out = []
        try:
            T.set_printoptions(precision=2)
            out += [repr(T.tensor([1.23456, 2.5])), repr(T.tensor([1e-5, 1.0]))]
            T.set_printoptions(sci_mode=False)
            out += [repr(T.tensor([1e-5, 1.0])), repr(T.tensor([123.456, 0.5]))]
            T.set_printoptions(sci_mode=True)
            out.append(repr(T.tensor([1.5, 2.25])))
            T.set_printoptions(profile="short")
            out.append(repr(T.linspace(0, 1, 7)))
            T.set_printoptions(profile="default")
            out.append(repr(T.tensor([[1.5, -2.25], [3.0, 4.125]])))
        finally:
            T.set_printoptions(profile="default")
        return out

    assert lines(ft) == lines(torch)
    with pytest.raises(ValueError, match="profile must be one of"):
        ft.set_printoptions(profile="long")


# -- ParameterList and ParameterDict ------------------------------------------------------


def test_parameter_containers_register_as_pytorch(torch):
    def run(T):
        class Model(T.nn.Module):
            def __init__(self):
                super().__init__()
                self.ws = T.nn.ParameterList([T.nn.Parameter(T.ones(2, 2) * (i + 1) / 4)
                                              for i in range(3)])
                self.pd = T.nn.ParameterDict({"scale": T.nn.Parameter(T.ones(2)),
                                              "shift": T.nn.Parameter(T.zeros(2))})

            def forward(self, x):
                for w in self.ws:
                    x = x @ w
                return x * self.pd["scale"] + self.pd["shift"]

        model = Model()
        out = model(T.ones(1, 2))
        out.sum().backward()
        T.optim.SGD(model.parameters(), lr=0.1).step()
        model.ws.append(T.zeros(1))
        model.lone = T.nn.ParameterDict({"only": T.nn.Parameter(T.ones(1))})
        model.head = T.nn.Linear(2, 2)
        model.head.bias = None  # prints bias=False
        return (sorted(model.state_dict()), len(list(model.parameters())), len(model.ws),
                type(model.ws[3]).__name__, str(model.pd.keys()), repr(model), out.tolist(),
                model.ws[1].detach().tolist(), model.pd["shift"].detach().tolist())

    ours, theirs = run(ft), run(torch)
    assert ours[:6] == theirs[:6]
    for o, t in zip(ours[6:], theirs[6:], strict=True):
        np.testing.assert_allclose(o, t, rtol=1e-6)


@pytest.mark.parametrize("size", [1, 3, (2, 4), (None, 2)], ids=str)
def test_adaptive_max_pool2d_matches_pytorch(torch, size):
    data = np.random.default_rng(14).standard_normal((2, 3, 7, 5)).astype(np.float32)
    results = []
    for T in (torch, ft):
        x = T.tensor(data, requires_grad=True)
        y = T.nn.functional.adaptive_max_pool2d(x, size)
        z = T.nn.AdaptiveMaxPool2d(size)(x)
        ((y * y).sum() + z.sum()).backward()
        results.append((y, z, x.grad))
    for ours, theirs in zip(results[1], results[0], strict=True):
        close(ours, theirs)
    assert repr(ft.nn.AdaptiveMaxPool2d(size)) == repr(torch.nn.AdaptiveMaxPool2d(size))
