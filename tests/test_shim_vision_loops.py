"""Vision models and training loops as courses and blog posts write them, beyond the
corpus: each test is a pattern fnnet.torch once got wrong, checked against PyTorch
(values within float32 rounding, names and errors exactly)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import raised_by

import fnnet.torch as ft

pytestmark = pytest.mark.torch

RTOL, ATOL = 1e-5, 1e-6


def _np(t):
    return np.asarray(t.detach().numpy(), np.float64)


def _close(ours, theirs, rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=rtol, atol=atol)


# -- losses on images -------------------------------------------------------------------


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_per_pixel_class_loss_with_an_ignored_label(torch, fn):
    """Segmentation targets [N, H, W] with a border of ignore_index=255: the range check
    of the labels reduced only their first axis and raised numpy's "truth value of an
    array" ValueError."""
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    mask = rng.integers(0, 3, (2, 4, 5))
    mask[:, 0, :] = 255
    ours = getattr(ft.nn.functional, fn)(ft.tensor(logits), ft.tensor(mask),
                                         ignore_index=255)
    theirs = getattr(torch.nn.functional, fn)(torch.tensor(logits), torch.tensor(mask),
                                              ignore_index=255)
    _close(ours, theirs)
    mask[0, 1, 1] = 3  # out of range and not ignored: PyTorch's IndexError
    with pytest.raises(IndexError, match=r"^Target 3 is out of bounds\.$"):
        getattr(ft.nn.functional, fn)(ft.tensor(logits), ft.tensor(mask), ignore_index=255)


def test_segmentation_targets_of_the_wrong_shape_are_refused_as_pytorch(torch):
    """A mask in the wrong layout (one-hot [N, H, W, C] floats, a target missing an
    axis, a volume's target of the wrong size) is refused with PyTorch's words: its
    shape is checked before its dtype (fnnet named the float dtype first), and volumes'
    ([N, C, D, H, W]) target sizes were not checked."""
    cases = [
        lambda T: T.nn.functional.cross_entropy(T.zeros(2, 3, 4, 4), T.zeros(2, 4, 4, 3)),
        lambda T: T.nn.functional.cross_entropy(T.zeros(2, 3, 4, 4), T.zeros(2, 4)),
        lambda T: T.nn.functional.cross_entropy(T.zeros(2, 3, 4, 4), T.zeros(2, 4, 5)),
        lambda T: T.nn.functional.cross_entropy(T.zeros(2, 3, 4), T.zeros(2, 4, 3)),
        lambda T: T.nn.functional.nll_loss(T.zeros(2, 3, 4, 4, 4), T.zeros(2, 4, 4)),
        lambda T: T.nn.functional.cross_entropy(T.zeros(2, 3, 4, 4, 4),
                                                T.zeros(2, 4, 4, 5, dtype=T.long)),
    ]
    for case in cases:
        ours, theirs = raised_by(case, ft, torch)
        assert ours == theirs


# -- schedulers -------------------------------------------------------------------------

SCHEDULERS = {
    "ConstantLR": (lambda ls, o: ls.ConstantLR(o, factor=0.5, total_iters=3), {}),
    "MultiplicativeLR": (lambda ls, o: ls.MultiplicativeLR(o, lambda e: 0.9 - 0.01 * e), {}),
    "PolynomialLR": (lambda ls, o: ls.PolynomialLR(o, total_iters=4, power=2.0), {}),
    "CyclicLR": (lambda ls, o: ls.CyclicLR(o, 0.01, 0.1, step_size_up=2),
                 {"momentum": 0.9}),
    "CyclicLR-triangular2-down": (
        lambda ls, o: ls.CyclicLR(o, 0.01, 0.1, step_size_up=2, step_size_down=3,
                                  mode="triangular2", cycle_momentum=False), {}),
    "CyclicLR-exp_range": (
        lambda ls, o: ls.CyclicLR(o, 0.01, 0.1, step_size_up=3, mode="exp_range",
                                  gamma=0.9, cycle_momentum=False), {}),
    "CyclicLR-scale_fn": (
        lambda ls, o: ls.CyclicLR(o, 0.01, 0.1, step_size_up=2, scale_fn=lambda x: 0.5 ** x,
                                  scale_mode="iterations", max_momentum=0.95), {"momentum": 0.5}),
    "ChainedScheduler": (
        lambda ls, o: ls.ChainedScheduler([ls.ConstantLR(o, factor=0.1, total_iters=2),
                                           ls.ExponentialLR(o, gamma=0.9)]), {}),
    "ChainedScheduler-step-multiplicative": (
        lambda ls, o: ls.ChainedScheduler([ls.StepLR(o, 3, 0.5),
                                           ls.MultiplicativeLR(o, lambda e: 0.95)]), {}),
}


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_scheduler_rates_and_momentum_follow_pytorch(torch, name):
    """The schedulers a course reaches for after StepLR, which stopped at Unsupported:
    the rate (and CyclicLR's momentum) after every one of 12 steps, as PyTorch's."""
    make, extra = SCHEDULERS[name]
    seen = []
    for lib in (ft, torch):
        w = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.SGD([w], lr=0.1, **extra)
        sched = make(lib.optim.lr_scheduler, opt)
        trace = [(opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"])]
        for _ in range(12):
            w.sum().backward()
            opt.step()
            sched.step()
            trace.append((opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"]))
        seen.append((trace, sched.get_last_lr(), _np(w)))
    (ours, ours_last, ours_w), (theirs, theirs_last, theirs_w) = seen
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(ours_last, theirs_last, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(ours_w, theirs_w, rtol=1e-5)


def test_cyclic_lr_cycles_adam_beta1_without_recompiling(torch):
    """With Adam, CyclicLR cycles beta1 (its momentum) every step: the loop still
    compiles one step."""
    seen = []
    for lib in (ft, torch):
        w = lib.nn.Parameter(lib.tensor([1.0, -2.0]))
        opt = lib.optim.Adam([w], lr=0.1)
        sched = lib.optim.lr_scheduler.CyclicLR(opt, 0.001, 0.01, step_size_up=3)
        if lib is ft:
            before = ft.compile_stats()
        for _ in range(7):
            opt.zero_grad()
            (w ** 2).sum().backward()
            opt.step()
            sched.step()
        if lib is ft:
            after = ft.compile_stats()
        seen.append((opt.param_groups[0]["betas"][0], _np(w)))
    assert seen[0][0] == pytest.approx(seen[1][0], rel=1e-7)
    np.testing.assert_allclose(seen[0][1], seen[1][1], rtol=1e-5)
    assert after["compiles"] - before["compiles"] == 1, (before, after)


# -- weight averaging -------------------------------------------------------------------


def _bn_net(lib):
    net = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.ReLU(),
                            lib.nn.Linear(4, 1))
    rng = np.random.default_rng(7)
    with lib.no_grad():
        for p in net.parameters():
            p.copy_(lib.tensor(rng.uniform(-0.5, 0.5, tuple(p.shape)).astype(np.float32)))
    return net


AVERAGING = {
    "swa": lambda su: {},
    "ema-avg_fn-buffers": lambda su: {"avg_fn": su.get_ema_avg_fn(0.9), "use_buffers": True},
    "ema-multi_avg_fn": lambda su: {"multi_avg_fn": su.get_ema_multi_avg_fn(0.8)},
    "swa-multi_avg_fn": lambda su: {"multi_avg_fn": su.get_swa_multi_avg_fn()},
}


@pytest.mark.parametrize("how", list(AVERAGING))
def test_averaged_model_follows_pytorch(torch, how):
    """AveragedModel (SWA and EMA, with and without buffers) and SWALR, which stopped at
    the import of torch.optim.swa_utils: the averaged weights, n_averaged, the state_dict
    keys and the annealed rate after each of 8 steps, and an averaging loop that compiles
    its step once."""
    x = np.random.default_rng(8).standard_normal((16, 3)).astype(np.float32)
    seen = []
    for lib in (ft, torch):
        net = _bn_net(lib)
        su = lib.optim.swa_utils
        averaged = su.AveragedModel(net, **AVERAGING[how](su))
        opt = lib.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        sched = su.SWALR(opt, swa_lr=0.02, anneal_epochs=3)
        lrs = []
        for step in range(8):
            # from step 4 on: the averaging's no_grad block joins the step's program at
            # step 3, once its exit was seen followed by the step (see no_grad)
            if lib is ft and step == 4:
                compiles = ft.compile_stats()["compiles"]
            loss = net(lib.tensor(x)).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            averaged.update_parameters(net)
            sched.step()
            lrs.append(opt.param_groups[0]["lr"])
        if lib is ft:
            assert ft.compile_stats()["compiles"] == compiles
        with lib.no_grad():
            out = averaged(lib.tensor(x))
        seen.append((averaged.state_dict(), lrs, out))
    (ours, ours_lrs, ours_out), (theirs, theirs_lrs, theirs_out) = seen
    assert list(ours) == list(theirs)
    for key in theirs:
        _close(ours[key], theirs[key], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours_lrs, theirs_lrs, rtol=1e-7)
    _close(ours_out, theirs_out, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kwargs", [{"anneal_epochs": 0}, {"anneal_strategy": "linear"}],
                         ids=["no-anneal", "linear"])
def test_swalr_anneals_from_the_rate_another_scheduler_left(torch, kwargs):
    seen = []
    for lib in (ft, torch):
        w = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.SGD([w], lr=0.1)
        cosine = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
        lrs = []
        for _ in range(4):
            opt.step()
            cosine.step()
        swa = lib.optim.swa_utils.SWALR(opt, swa_lr=0.01, **kwargs)
        for _ in range(12):
            opt.step()
            swa.step()
            lrs.append(opt.param_groups[0]["lr"])
        seen.append(lrs)
    np.testing.assert_allclose(seen[0], seen[1], rtol=1e-7)


def test_update_bn_recomputes_statistics_as_pytorch(torch):
    x = np.random.default_rng(9).standard_normal((20, 3)).astype(np.float32)
    seen = []
    for lib in (ft, torch):
        net = _bn_net(lib)
        net(lib.tensor(x[:4]))  # statistics of one batch, to be replaced
        loader = lib.utils.data.DataLoader(lib.utils.data.TensorDataset(lib.tensor(x)),
                                           batch_size=6)
        net.eval()
        lib.optim.swa_utils.update_bn(loader, net)
        seen.append((dict(net[1].state_dict()), net.training, net[1].momentum))
    (ours, ours_mode, ours_m), (theirs, theirs_mode, theirs_m) = seen
    for key in theirs:
        _close(ours[key], theirs[key])
    assert (ours_mode, ours_m) == (theirs_mode, theirs_m) == (False, 0.1)


# -- torch.compile ----------------------------------------------------------------------


def test_compiled_module_is_pytorchs_optimized_module(torch):
    """``model = torch.compile(model)`` returned the model itself: state_dict keys lacked
    PyTorch's ``_orig_mod.`` prefix (a checkpoint saved from a compiled model did not
    load in PyTorch) and ``model._orig_mod`` raised AttributeError."""
    x = np.random.default_rng(3).standard_normal((4, 3)).astype(np.float32)
    seen = []
    for lib in (ft, torch):
        net = lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.Dropout(0.5))
        compiled = lib.compile(net)
        compiled.eval()
        seen.append((type(compiled).__name__, repr(compiled), list(compiled.state_dict()),
                     [n for n, _ in compiled.named_parameters()], net.training,
                     compiled._orig_mod is net, lib.compile(net[0]).out_features,
                     isinstance(compiled, lib.nn.Module)))
    assert seen[0] == seen[1]
    net = ft.nn.Linear(3, 2)  # (PyTorch's inductor is not run here: it takes seconds)
    np.testing.assert_array_equal(_np(ft.compile(net)(ft.tensor(x))), _np(net(ft.tensor(x))))
    net = ft.nn.Linear(3, 2)
    state = ft.compile(net).state_dict()
    ft.compile(ft.nn.Linear(3, 2)).load_state_dict(state)
    with pytest.raises(RuntimeError, match="_orig_mod"):
        ft.nn.Linear(3, 2).load_state_dict(state)


# -- convolutions -----------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("kwargs", [{"padding": (2, 1), "stride": 2, "groups": 2},
                                    {"padding": "same", "dilation": 2}],
                         ids=["pad21-stride2-grouped", "same-dilated"])
def test_conv2d_padding_modes_match_pytorch(torch, mode, kwargs):
    """Conv2d(padding_mode='reflect'), as CycleGAN- and pix2pix-style generators build
    it, raised NotImplementedError: outputs, repr and gradients of weight and input."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 4, 7, 6)).astype(np.float32)
    seen = []
    for lib in (ft, torch):
        conv = lib.nn.Conv2d(4, 6, 3, padding_mode=mode, **kwargs)
        with lib.no_grad():
            for p in conv.parameters():
                p.copy_(lib.tensor(np.random.default_rng(p.dim()).standard_normal(
                    tuple(p.shape)).astype(np.float32)))
        inp = lib.tensor(x, requires_grad=True)
        out = conv(inp)
        (out * out).sum().backward()
        seen.append((repr(conv), out, conv.weight.grad, inp.grad))
    assert seen[0][0] == seen[1][0]
    for ours, theirs in zip(seen[0][1:], seen[1][1:], strict=True):
        _close(ours, theirs, rtol=1e-4, atol=1e-4)


def test_channels_last_memory_format_is_accepted(torch):
    """``model.to(memory_format=torch.channels_last)`` and the same for the batch, from
    performance guides, stopped at Unsupported: the layout changes no value."""
    x = np.random.default_rng(5).standard_normal((2, 3, 5, 5)).astype(np.float32)
    seen = []
    for lib in (ft, torch):
        conv = lib.nn.Conv2d(3, 2, 3)
        with lib.no_grad():
            conv.weight.fill_(0.1)
            conv.bias.fill_(0.2)
        conv = conv.to(memory_format=lib.channels_last)
        inp = lib.tensor(x).to("cpu", memory_format=lib.channels_last, non_blocking=True)
        inp = inp.contiguous(memory_format=lib.channels_last)
        seen.append((repr(lib.channels_last), repr(lib.contiguous_format),
                     type(lib.preserve_format).__name__,
                     inp.is_contiguous(memory_format=lib.channels_last), conv(inp)))
    assert seen[0][:3] == seen[1][:3]
    assert seen[0][3] is seen[1][3] is True
    _close(seen[0][4], seen[1][4])


# -- weight norm, spectral norm, parametrize ---------------------------------------------


def _fill(lib, module, seed=0):
    with lib.no_grad():
        for p in module.parameters():
            p.copy_(lib.tensor(np.random.default_rng(seed + p.dim()).uniform(
                -0.5, 0.5, tuple(p.shape)).astype(np.float32)))
    return module


def _train(lib, module, x, steps=3, opt="Adam"):
    optimizer = getattr(lib.optim, opt)(module.parameters(), lr=0.05)
    losses = []
    for _ in range(steps):
        loss = module(lib.tensor(x)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


LAYERS = {
    "linear": (lambda lib: lib.nn.Linear(4, 3), (5, 4)),
    "conv": (lambda lib: lib.nn.Conv2d(2, 3, 3, padding=1), (2, 2, 5, 5)),
    "convT": (lambda lib: lib.nn.ConvTranspose2d(2, 3, 2, stride=2), (2, 2, 3, 3)),
}


@pytest.mark.parametrize("orthogonal_map", [None, "cayley", "householder"])
def test_orthogonal_parametrization_trains_as_pytorch(torch, orthogonal_map):
    """nn.utils.parametrizations.orthogonal (orthogonal RNN and flow code) was refused:
    the original (-I), the base buffer, the orthogonal weight, three Adam steps."""
    x = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    seen = []
    for lib in (ft, torch):
        module = lib.nn.utils.parametrizations.orthogonal(
            _fill(lib, lib.nn.Linear(4, 4)), orthogonal_map=orthogonal_map)
        names = [n for n, _ in module.named_parameters()]
        original = module.parametrizations.weight.original.detach().clone()
        losses = _train(lib, module, x)
        seen.append((names, list(module.state_dict()), original, losses,
                     module.state_dict(), module.weight.detach()))
    ours, theirs = seen
    assert ours[:2] == theirs[:2]
    _close(ours[2], theirs[2])
    np.testing.assert_allclose(ours[3], theirs[3], rtol=1e-5)
    for key in theirs[4]:
        _close(ours[4][key], theirs[4][key], rtol=1e-4, atol=1e-5)
    weight = ours[5].numpy()
    np.testing.assert_allclose(weight @ weight.T, np.eye(4), atol=1e-5)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5)])
def test_orthogonal_parametrization_of_a_non_square_weight(shape):
    # the base is completed with random columns (fnnet's draws): orthonormal columns
    # (tall) or rows (wide), whatever they are
    module = ft.nn.utils.parametrizations.orthogonal(ft.nn.Linear(shape[1], shape[0]))
    w = module.weight.detach().numpy()
    gram = w.T @ w if shape[0] > shape[1] else w @ w.T
    np.testing.assert_allclose(gram, np.eye(min(shape)), atol=1e-5)
    assert tuple(module.parametrizations.weight[0].base.shape) == (5, 5)
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices. Got a "
                                         "tensor of 1 dimensions."):
        ft.nn.utils.parametrizations.orthogonal(ft.nn.Linear(3, 3), "bias")
    with pytest.raises(ValueError, match='orthogonal_map has to be one of "matrix_exp", '
                                         '"cayley", "householder". Got: qr'):
        ft.nn.utils.parametrizations.orthogonal(ft.nn.Linear(3, 3), orthogonal_map="qr")
    with pytest.raises(NotImplementedError, match="use_trivialization=True"):
        ft.nn.utils.parametrizations.orthogonal(ft.nn.Linear(3, 4), use_trivialization=False)


@pytest.mark.parametrize("layer, dim", [("linear", 0), ("conv", None), ("convT", 1)])
def test_weight_norm_parametrization_trains_as_pytorch(torch, layer, dim):
    """nn.utils.parametrizations.weight_norm stopped at the import: the class and
    parameter names, the state_dict, three Adam steps, and remove_parametrizations."""
    make, shape = LAYERS[layer]
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    seen = []
    for lib in (ft, torch):
        module = lib.nn.utils.parametrizations.weight_norm(_fill(lib, make(lib)), dim=dim)
        names = [n for n, _ in module.named_parameters()]
        g_shape = tuple(module.parametrizations.weight.original0.shape)
        losses = _train(lib, module, x)
        state = module.state_dict()
        weight = module.weight.detach().clone()
        lib.nn.utils.parametrize.remove_parametrizations(module, "weight")
        seen.append((type(module).__name__, names, g_shape, list(state),
                     lib.nn.utils.parametrize.is_parametrized(module), losses, state, weight,
                     module.weight))
    ours, theirs = seen
    assert ours[:5] == theirs[:5]
    np.testing.assert_allclose(ours[5], theirs[5], rtol=1e-5)
    for key in theirs[6]:
        _close(ours[6][key], theirs[6][key], rtol=1e-5, atol=1e-6)
    _close(ours[7], theirs[7], rtol=1e-5, atol=1e-6)
    _close(ours[8], theirs[8], rtol=1e-5, atol=1e-6)


def test_weight_norm_parametrization_repr_and_one_compile(torch):
    seen = []
    for lib in (ft, torch):
        seen.append(repr(lib.nn.utils.parametrizations.weight_norm(lib.nn.Linear(4, 3))))
    assert seen[0] == seen[1]
    module = ft.nn.utils.parametrizations.weight_norm(ft.nn.Linear(4, 3))
    optimizer = ft.optim.SGD(module.parameters(), lr=0.1)
    x = ft.ones(2, 4)
    for step in range(5):
        if step == 2:
            compiles = ft.compile_stats()["compiles"]
        loss = module(x).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    loss.item()
    assert ft.compile_stats()["compiles"] <= compiles + 1


@pytest.mark.filterwarnings("ignore:.*torch.nn.utils.weight_norm. is deprecated")
@pytest.mark.parametrize("layer", ["linear", "conv"])
def test_old_weight_norm_hook_trains_as_pytorch(torch, layer):
    """nn.utils.weight_norm (weight_g, weight_v and a pre-hook) and remove_weight_norm."""
    make, shape = LAYERS[layer]
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    seen = []
    for lib in (ft, torch):
        module = lib.nn.utils.weight_norm(_fill(lib, make(lib), seed=3))
        names = [n for n, _ in module.named_parameters()]
        losses = _train(lib, module, x, opt="SGD")
        g = module.weight_g.detach().clone()
        lib.nn.utils.remove_weight_norm(module)
        seen.append((names, [n for n, _ in module.named_parameters()], losses, g,
                     module.weight))
    ours, theirs = seen
    assert ours[:2] == theirs[:2]
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-5)
    _close(ours[3], theirs[3], rtol=1e-5, atol=1e-6)
    _close(ours[4], theirs[4], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("layer", ["linear", "convT"])
def test_spectral_norm_parametrization_trains_as_pytorch(torch, layer):
    """parametrizations.spectral_norm: the power iteration's vectors start from PyTorch's
    (they are random draws), then three training steps and an eval-mode call agree."""
    make, shape = LAYERS[layer]
    x = np.random.default_rng(4).standard_normal(shape).astype(np.float32)
    theirs_sn = torch.nn.utils.parametrizations.spectral_norm(_fill(torch, make(torch)))
    ours_sn = ft.nn.utils.parametrizations.spectral_norm(_fill(ft, make(ft)))
    for name in ("_u", "_v"):
        with ft.no_grad():
            getattr(ours_sn.parametrizations.weight[0], name).copy_(ft.tensor(
                getattr(theirs_sn.parametrizations.weight[0], name).numpy()))
    assert list(ours_sn.state_dict()) == list(theirs_sn.state_dict())
    seen = []
    for lib, module in ((ft, ours_sn), (torch, theirs_sn)):
        losses = _train(lib, module, x, opt="SGD")
        module.eval()
        with lib.no_grad():
            out = module(lib.tensor(x))
        seen.append((losses, out, module.parametrizations.weight[0]._u))
    np.testing.assert_allclose(seen[0][0], seen[1][0], rtol=1e-5)
    _close(seen[0][1], seen[1][1], rtol=1e-4, atol=1e-5)
    _close(seen[0][2], seen[1][2], rtol=1e-4, atol=1e-5)


def test_custom_parametrization_as_in_pytorchs_tutorial(torch):
    """register_parametrization with a module of forward and right_inverse (the
    tutorial's symmetric matrices), stacked with a second one; then removed unparametrized."""

    def symmetric(lib):
        class Symmetric(lib.nn.Module):
            def forward(self, X):
                return X.triu() + X.triu(1).transpose(-1, -2)

            def right_inverse(self, A):
                return A.triu()

        return Symmetric()

    def scaled(lib):
        class Scale(lib.nn.Module):
            def forward(self, X):
                return 0.5 * X

        return Scale()

    x = np.random.default_rng(5).standard_normal((4, 3)).astype(np.float32)
    seen = []
    for lib in (ft, torch):
        layer = _fill(lib, lib.nn.Linear(3, 3))
        P = lib.nn.utils.parametrize
        P.register_parametrization(layer, "weight", symmetric(lib))
        P.register_parametrization(layer, "weight", scaled(lib))
        w = layer.weight.detach().clone()
        losses = _train(lib, layer, x, opt="SGD")
        with P.cached():
            out = layer(lib.tensor(x))
        P.remove_parametrizations(layer, "weight", leave_parametrized=False)
        seen.append((P.is_parametrized(layer), type(layer).__name__, w, losses, out,
                     layer.weight))
    ours, theirs = seen
    assert ours[:2] == theirs[:2] == (False, "Linear")
    for a, b in zip(ours[2:], theirs[2:], strict=True):
        _close(ft.tensor(np.asarray(a)) if isinstance(a, list) else a,
               torch.tensor(np.asarray(b)) if isinstance(b, list) else b, rtol=1e-5,
               atol=1e-6)


@pytest.mark.parametrize("layer", ["convT"])
def test_old_spectral_norm_hook_trains_as_pytorch(torch, layer):
    """nn.utils.spectral_norm (weight_orig, weight_u, weight_v and a pre-hook), as SN-GAN
    code calls it, from PyTorch's random vectors; then remove_spectral_norm."""
    make, shape = LAYERS[layer]
    x = np.random.default_rng(6).standard_normal(shape).astype(np.float32)
    theirs = torch.nn.utils.spectral_norm(_fill(torch, make(torch)))
    ours = ft.nn.utils.spectral_norm(_fill(ft, make(ft)))
    with ft.no_grad():
        for name in ("weight_u", "weight_v"):
            getattr(ours, name).copy_(ft.tensor(getattr(theirs, name).numpy()))
    seen = []
    for lib, module in ((ft, ours), (torch, theirs)):
        names = ([n for n, _ in module.named_parameters()],
                 [n for n, _ in module.named_buffers()])
        losses = _train(lib, module, x, opt="SGD")
        module.eval()
        with lib.no_grad():
            out = module(lib.tensor(x))
        lib.nn.utils.remove_spectral_norm(module)
        seen.append((names, [n for n, _ in module.named_parameters()], losses, out,
                     module.weight))
    assert seen[0][:2] == seen[1][:2]
    np.testing.assert_allclose(seen[0][2], seen[1][2], rtol=1e-5)
    _close(seen[0][3], seen[1][3], rtol=1e-4, atol=1e-5)
    _close(seen[0][4], seen[1][4], rtol=1e-4, atol=1e-5)


# -- resampling ---------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [{"scale_factor": 1.7}, {"size": (3, 11),
                                                            "align_corners": True}],
                         ids=["x1.7", "size-align_corners"])
def test_bicubic_interpolation_matches_pytorch(torch, kwargs):
    """mode='bicubic' (ViT position-embedding resizing, super-resolution baselines)
    raised NotImplementedError: values and input gradients, by F.interpolate and by
    nn.Upsample."""
    x = np.random.default_rng(7).standard_normal((2, 3, 5, 7)).astype(np.float32)
    seen = []
    for lib in (ft, torch):
        inp = lib.tensor(x, requires_grad=True)
        out = lib.nn.functional.interpolate(inp, mode="bicubic", **kwargs)
        (out * out).sum().backward()
        up = lib.nn.Upsample(mode="bicubic", **kwargs)
        seen.append((out, inp.grad, up(lib.tensor(x)), repr(up)))
    for ours, theirs in zip(seen[0][:3], seen[1][:3], strict=True):
        _close(ours, theirs, rtol=1e-5, atol=1e-5)
    assert seen[0][3] == seen[1][3]


@pytest.mark.parametrize("mode, padding_mode, align_corners", [
    ("bilinear", "zeros", False), ("bilinear", "border", True),
    ("bilinear", "reflection", False), ("bilinear", "reflection", True),
    ("nearest", "zeros", True), ("nearest", "reflection", False)])
def test_affine_grid_and_grid_sample_match_pytorch(torch, mode, padding_mode, align_corners):
    """F.affine_grid / F.grid_sample (PyTorch's spatial-transformer tutorial) stopped at
    Unsupported: the grid, the samples (points inside and outside the image) and the
    gradients of theta and of the image."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 3, 5, 6)).astype(np.float32)
    theta = (np.array([[1.2, 0.1, 0.2], [-0.3, 1.5, 0.1]], np.float32)
             + 0.3 * rng.standard_normal((2, 2, 3))).astype(np.float32)
    seen = []
    for lib in (ft, torch):
        th = lib.tensor(theta, requires_grad=True)
        inp = lib.tensor(x, requires_grad=True)
        grid = lib.nn.functional.affine_grid(th, (2, 3, 4, 7), align_corners=align_corners)
        out = lib.nn.functional.grid_sample(inp, grid, mode=mode, padding_mode=padding_mode,
                                            align_corners=align_corners)
        (out * out).sum().backward()
        seen.append((grid, out, inp.grad, th.grad))
    for ours, theirs in zip(*seen, strict=True):
        _close(ours, theirs, rtol=1e-4, atol=1e-4)
    # the points outside read 0.0, never -0.0 (which prints as -0.0000)
    ours, theirs = (out.detach().numpy() for out in (seen[0][1], seen[1][1]))
    zeros = theirs == 0
    np.testing.assert_array_equal(np.signbit(ours[zeros]), np.signbit(theirs[zeros]))


def test_bicubic_volumes_and_edge_gradients_match_pytorch(torch):
    """mode='bicubic' and 3-D spatial transformers (affine_grid of a 5-D size, trilinear
    and nearest grid_sample of a volume) raised NotImplementedError; and points exactly
    on the edge pixels (the identity grid with padding_mode='border') took half of jax's
    clip gradient where PyTorch counts the edge as outside and takes none, so an STN
    with border padding moved theta elsewhere from its second step. All cases in one
    backward: samples, and the gradients of each case's input and theta."""
    rng = np.random.default_rng(11)
    vol = rng.standard_normal((2, 2, 3, 4, 5)).astype(np.float32)
    theta3 = (np.eye(3, 4, dtype=np.float32)
              + 0.3 * rng.standard_normal((2, 3, 4))).astype(np.float32)
    img = rng.standard_normal((1, 2, 4, 5)).astype(np.float32)
    theta2 = (np.eye(2, 3, dtype=np.float32)
              + 0.4 * rng.standard_normal((1, 2, 3))).astype(np.float32)
    cases = [("bicubic", "zeros", False), ("bicubic", "reflection", True),
             ("bilinear", "border", False), ("nearest", "reflection", True)]
    seen = []
    for lib in (ft, torch):
        F, outs, leaves, total = lib.nn.functional, [], [], 0
        for mode, pad, corners in cases:
            if mode == "bicubic":  # an image at points between and beyond its pixels
                inp, th = lib.tensor(img, requires_grad=True), lib.tensor(theta2,
                                                                          requires_grad=True)
                size = (1, 2, 5, 3)
            else:
                inp, th = lib.tensor(vol, requires_grad=True), lib.tensor(theta3,
                                                                          requires_grad=True)
                size = (2, 2, 4, 3, 2)
            grid = F.affine_grid(th, size, align_corners=corners)
            out = F.grid_sample(inp, grid, mode=mode, padding_mode=pad, align_corners=corners)
            total = total + (out * out).sum()
            outs += [grid, out]
            leaves += [inp, th]
            if mode == "bilinear":  # the identity: points on the edge pixels' centres
                identity = lib.tensor([[[1.0, 0, 0], [0, 1.0, 0]]], requires_grad=True)
                grid = F.affine_grid(identity, (1, 2, 4, 5), align_corners=corners)
                edge = F.grid_sample(lib.tensor(img), grid, padding_mode=pad,
                                     align_corners=corners)
                weights = lib.arange(edge.numel(), dtype=lib.float32).view(edge.shape)
                total = total + (edge * weights).sum()
                outs.append(edge)
                leaves.append(identity)
        total.backward()
        seen.append(outs + [leaf.grad for leaf in leaves])
    for ours, theirs in zip(*seen, strict=True):
        _close(ours, theirs, rtol=1e-4, atol=1e-4)


def test_grid_sample_refuses_bad_arguments_as_pytorch(torch):
    """The checks and words of PyTorch's grid_sample and affine_grid, and their warning
    when align_corners is left out."""
    cases = [
        lambda T: T.nn.functional.grid_sample(T.zeros(1, 1, 4, 4), T.zeros(2, 3, 3, 2)),
        lambda T: T.nn.functional.grid_sample(T.zeros(1, 1, 4, 4), T.zeros(1, 3, 3, 3)),
        lambda T: T.nn.functional.grid_sample(T.zeros(1, 1, 4, 4), T.zeros(1, 3, 2)),
        lambda T: T.nn.functional.grid_sample(T.zeros(1, 1, 4, 4, 4), T.zeros(1, 3, 3, 3, 3),
                                              mode="bicubic"),
        lambda T: T.nn.functional.grid_sample(T.zeros(1, 1, 0, 4), T.zeros(1, 3, 3, 2)),
        lambda T: T.nn.functional.grid_sample(T.zeros(1, 1, 4, 4),
                                              T.zeros(1, 3, 3, 2, dtype=T.bfloat16)),
        lambda T: T.nn.functional.grid_sample(T.zeros(1, 1, 4, 4), T.zeros(1, 3, 3, 2),
                                              mode="linear"),
        lambda T: T.nn.functional.affine_grid(T.zeros(2, 2, 3), (1, 1, 4, 4)),
        lambda T: T.nn.functional.affine_grid(T.zeros(2, 2, 3), T.Size([2, 1, 0, 4])),
        lambda T: T.nn.functional.affine_grid(T.zeros(2, 3, 4), T.Size([2, 1, 4, 4])),
        lambda T: T.nn.functional.affine_grid(T.zeros(2, 2, 3), [2, 1, 4, 4, 4]),
        lambda T: T.nn.functional.affine_grid(T.zeros(2, 3, 4, dtype=T.long), (2, 1, 4, 4)),
        lambda T: T.nn.functional.affine_grid(T.zeros(1, 2, 3), (1, 1, 4)),
    ]
    for case in cases:
        ours, theirs = raised_by(case, ft, torch)
        assert ours == theirs
    for lib in (ft, torch):
        with pytest.warns(UserWarning, match="^Default grid_sample and affine_grid behavior"):
            lib.nn.functional.affine_grid(lib.eye(2, 3)[None], (1, 1, 2, 2))


def test_spatial_transformer_from_the_identity_follows_pytorch(torch):
    """PyTorch's STN tutorial starts theta at the identity (fc_loc's last Linear with zero
    weight and the identity as bias), whose grid lands exactly on the pixels, where
    bilinear sampling's gradient jumps: the grid's coordinates must round as PyTorch's so
    that theta's gradient is taken on the same side (base coordinates computed inside
    the compiled step came out exact, and the first step moved theta elsewhere)."""
    x = np.random.default_rng(9).standard_normal((8, 1, 12, 12)).astype(np.float32)
    y = np.random.default_rng(10).integers(0, 3, 8)
    seen = []
    for lib in (ft, torch):
        loc = _fill(lib, lib.nn.Conv2d(1, 4, 3))
        conv, head = _fill(lib, lib.nn.Conv2d(1, 4, 3), 1), _fill(lib, lib.nn.Linear(100, 3), 2)
        fc = lib.nn.Linear(100, 6)
        with lib.no_grad():
            fc.weight.zero_()
            fc.bias.copy_(lib.tensor([1.0, 0, 0, 0, 1, 0]))
        F = lib.nn.functional
        inp = lib.tensor(x)
        theta = fc(F.relu(F.max_pool2d(loc(inp), 2)).view(-1, 100)).view(-1, 2, 3)
        grid = F.affine_grid(theta, inp.size(), align_corners=False)
        out = F.relu(F.max_pool2d(conv(F.grid_sample(inp, grid, align_corners=False)), 2))
        F.nll_loss(F.log_softmax(head(out.view(-1, 100)), dim=1), lib.tensor(y)).backward()
        seen.append((grid, fc.bias.grad))
    np.testing.assert_array_equal(_np(seen[0][0]), _np(seen[1][0]))
    _close(seen[0][1], seen[1][1], rtol=1e-4, atol=1e-5)


def test_activation_checkpointing_runs_the_segments(torch):
    """torch.utils.checkpoint (checkpoint, checkpoint_sequential) stopped at the import:
    the values and gradients are those of the plain calls, as in PyTorch."""
    import torch.utils.checkpoint  # noqa: F401 - PyTorch's is a lazily imported submodule

    x = np.random.default_rng(12).standard_normal((5, 4)).astype(np.float32)
    seen = []
    for lib in (ft, torch):
        first = _fill(lib, lib.nn.Sequential(lib.nn.Linear(4, 6), lib.nn.GELU()), 1)
        rest = _fill(lib, lib.nn.Sequential(lib.nn.Linear(6, 6), lib.nn.Tanh(),
                                            lib.nn.Linear(6, 1)), 2)
        ckpt = lib.utils.checkpoint
        h = ckpt.checkpoint(first, lib.tensor(x), use_reentrant=False)
        out = ckpt.checkpoint_sequential(rest, 2, h, use_reentrant=False)
        out.pow(2).sum().backward()
        seen.append((out, first[0].weight.grad, rest[2].weight.grad))
    for ours, theirs in zip(*seen, strict=True):
        _close(ours, theirs)
    from fnnet.torch.utils.checkpoint import checkpoint

    with pytest.raises(TypeError, match="function must be callable"):
        checkpoint(3, ft.ones(1))


# -- initialisation and gradient norms ----------------------------------------------------


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 2, 3, 3)])
def test_orthogonal_init_gives_orthogonal_rows_or_columns(shape):
    """nn.init.orthogonal_ (GAN and RL code) stopped at Unsupported. Its draws are
    fnnet's, so the check is the property PyTorch's has: W W^T = gain^2 I over the rows
    (or W^T W over the columns when there are more rows), and the tensor written in
    place."""
    w = ft.empty(*shape)
    out = ft.nn.init.orthogonal_(w, gain=2.0)
    assert out is w
    m = _np(w).reshape(shape[0], -1)
    gram = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
    np.testing.assert_allclose(gram, 4.0 * np.eye(gram.shape[0]), atol=1e-5)
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions"):
        ft.nn.init.orthogonal_(ft.empty(3))


def test_get_total_norm_and_clip_grads_with_norm_as_pytorch(torch):
    """The two halves of clip_grad_norm_ (torch.nn.utils.get_total_norm and
    clip_grads_with_norm_, PyTorch 2.6+) stopped at Unsupported."""
    seen = []
    for lib in (ft, torch):
        m = _fill(lib, lib.nn.Linear(3, 2), 4)
        m(lib.ones(4, 3) * 3).pow(2).sum().backward()
        grads = [p.grad for p in m.parameters()]
        norms = [lib.nn.utils.get_total_norm(grads, p) for p in (2.0, 3.0, float("inf"))]
        lib.nn.utils.clip_grads_with_norm_(m.parameters(), 1.0, norms[0])
        seen.append((*norms, m.weight.grad, m.bias.grad))
    for ours, theirs in zip(*seen, strict=True):
        _close(ours, theirs)


@pytest.mark.parametrize("reduction, weighted", [("mean", True), ("sum", False),
                                                 ("none", True)])
def test_multilabel_soft_margin_loss_matches_pytorch(torch, reduction, weighted):
    """Multi-label image classification's nn.MultiLabelSoftMarginLoss stopped at
    Unsupported: values and input gradients, module and functional."""
    rng = np.random.default_rng(13)
    x = (3 * rng.standard_normal((6, 4))).astype(np.float32)
    t = (rng.random((6, 4)) > 0.5).astype(np.float32)
    w = np.array([0.5, 1.0, 2.0, 1.5], np.float32)
    seen = []
    for lib in (ft, torch):
        inp = lib.tensor(x, requires_grad=True)
        weight = lib.tensor(w) if weighted else None
        loss = lib.nn.MultiLabelSoftMarginLoss(weight=weight, reduction=reduction)(
            inp, lib.tensor(t))
        loss.sum().backward()
        fn = lib.nn.functional.multilabel_soft_margin_loss(inp, lib.tensor(t), weight=weight,
                                                           reduction=reduction)
        seen.append((loss, inp.grad, fn))
    for ours, theirs in zip(*seen, strict=True):
        _close(ours, theirs)


def test_wgan_gp_gradient_penalty_with_only_inputs(torch):
    """WGAN-GP code calls autograd.grad(..., create_graph=True, retain_graph=True,
    only_inputs=True): the deprecated only_inputs raised TypeError. The penalty and the
    critic's gradients through it equal PyTorch's."""
    rng = np.random.default_rng(14)
    real = rng.standard_normal((8, 2)).astype(np.float32)
    fake = rng.standard_normal((8, 2)).astype(np.float32)
    alpha = rng.random((8, 1)).astype(np.float32)
    seen = []
    for lib in (ft, torch):
        critic = _fill(lib, lib.nn.Sequential(lib.nn.Linear(2, 6), lib.nn.Tanh(),
                                              lib.nn.Linear(6, 1)), 5)
        inter = (lib.tensor(alpha) * lib.tensor(real)
                 + (1 - lib.tensor(alpha)) * lib.tensor(fake)).requires_grad_(True)
        out = critic(inter)
        grads = lib.autograd.grad(outputs=out, inputs=inter, grad_outputs=lib.ones_like(out),
                                  create_graph=True, retain_graph=True, only_inputs=True)[0]
        penalty = ((grads.norm(2, dim=1) - 1) ** 2).mean()
        (critic(lib.tensor(fake)).mean() - out.mean() + 10 * penalty).backward()
        seen.append((penalty, critic[0].weight.grad, critic[2].weight.grad))
    for ours, theirs in zip(*seen, strict=True):
        _close(ours, theirs, rtol=1e-5, atol=1e-6)
    with pytest.raises(NotImplementedError, match="is_grads_batched"):
        x = ft.ones(2, requires_grad=True)
        ft.autograd.grad((x * x).sum(), x, is_grads_batched=True)


@pytest.mark.parametrize("kwargs", [{"momentum": 0.3, "affine": True}, {"momentum": None}],
                         ids=["momentum-0.3-affine", "momentum-None"])
def test_instance_norm_running_statistics_follow_pytorch(torch, kwargs):
    """InstanceNorm2d(track_running_stats=True) raised NotImplementedError: a training
    loop's outputs, gradients and running statistics (averaged over the samples, as
    PyTorch's), the eval-mode output by them, and one compile for the loop."""
    rng = np.random.default_rng(15)
    xs = [(2 * rng.standard_normal((4, 3, 5, 5)) + 1).astype(np.float32) for _ in range(4)]
    seen = []
    for lib in (ft, torch):
        conv = _fill(lib, lib.nn.Conv2d(3, 3, 3, padding=1), 6)
        norm = lib.nn.InstanceNorm2d(3, track_running_stats=True, **kwargs)
        model = lib.nn.Sequential(conv, norm)
        optimizer = lib.optim.SGD(model.parameters(), lr=0.1)
        losses = []
        for step, x in enumerate(xs):
            if lib is ft and step == 2:
                compiles = ft.compile_stats()["compiles"]
            loss = model(lib.tensor(x)).pow(3).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        if lib is ft:
            assert ft.compile_stats()["compiles"] == compiles
        model.eval()
        with lib.no_grad():
            out = model(lib.tensor(xs[0]))
        seen.append((losses, out, norm.running_mean, norm.running_var, repr(norm),
                     list(norm.state_dict())))
    (ol, oo, om, ov, orep, okeys), (tl, to, tm, tv, trep, tkeys) = seen
    assert (orep, okeys) == (trep, tkeys)
    np.testing.assert_allclose(ol, tl, rtol=1e-5, atol=1e-6)
    for ours, theirs in ((oo, to), (om, tm), (ov, tv)):
        _close(ours, theirs, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kwargs", [{"kernel_size": (2, 3), "stride": 2},
                                    {"kernel_size": 3, "padding": 1, "dilation": (1, 2)}],
                         ids=["k23-stride2", "k3-pad-dilated"])
def test_unfold_and_fold_match_pytorch(torch, kwargs):
    """F.unfold / F.fold and nn.Unfold / nn.Fold (patch extraction, custom convolutions)
    stopped at Unsupported: values and gradients of a fold(unfold(x)) round trip, and
    the modules' repr."""
    x = np.random.default_rng(16).standard_normal((2, 3, 6, 7)).astype(np.float32)
    seen = []
    for lib in (ft, torch):
        inp = lib.tensor(x, requires_grad=True)
        cols = lib.nn.functional.unfold(inp, **kwargs)
        back = lib.nn.Fold((6, 7), **kwargs)(cols * 2)
        (back * back).sum().backward()
        unbatched = lib.nn.functional.unfold(lib.tensor(x[0]), **kwargs)
        seen.append((cols, back, inp.grad, unbatched, repr(lib.nn.Unfold(**kwargs)),
                     repr(lib.nn.Fold((6, 7), **kwargs))))
    ours, theirs = seen
    assert ours[4:] == theirs[4:]
    for a, b in zip(ours[:4], theirs[:4], strict=True):
        _close(a, b, rtol=1e-5, atol=1e-5)


FOLD_MISTAKES = {
    "fold columns not a multiple of the kernel":
        lambda T: T.nn.Fold((5, 5), 2)(T.ones(1, 15, 16)),
    "fold of the wrong block count": lambda T: T.nn.functional.fold(T.ones(4, 3), (2, 3), 2),
    "fold with a zero stride": lambda T: T.nn.functional.fold(T.ones(1, 4, 16), (5, 5), 2,
                                                              stride=0),
    "fold of 4-D input": lambda T: T.nn.Fold((5, 5), 2)(T.ones(16, 16, 1, 1)),
    "unfold with a kernel past the input": lambda T: T.nn.functional.unfold(
        T.ones(1, 2, 3, 3), 4),
    "unfold with a negative padding": lambda T: T.nn.functional.unfold(
        T.ones(1, 2, 3, 3), 2, padding=-1),
    "unfold of 2-D input": lambda T: T.nn.functional.unfold(T.ones(2, 3), 2),
}


@pytest.mark.parametrize("name", list(FOLD_MISTAKES))
def test_fold_and_unfold_refuse_a_bad_geometry_as_pytorch(torch, name):
    theirs, ours = raised_by(FOLD_MISTAKES[name], torch, ft)
    assert ours == theirs


@pytest.mark.parametrize("kwargs", [{"kernel_size": 3, "stride": 2, "padding": 1},
                                    {"kernel_size": 2, "stride": 1, "dilation": 2},
                                    {"kernel_size": 3, "stride": 2, "ceil_mode": True}],
                         ids=["k3-s2-pad", "dilated", "ceil"])
def test_max_pool_indices_and_unpool_match_pytorch(torch, kwargs):
    """SegNet's encoder-decoder (MaxPool2d(return_indices=True), MaxUnpool2d) raised
    NotImplementedError: values, indices (the first maximum on ties), the unpooled map and
    the input's gradient through both."""
    x = np.random.default_rng(17).standard_normal((2, 3, 7, 8)).astype(np.float32)
    x[0, 0, :3, :3] = 1.5  # ties: PyTorch keeps the first in window order
    seen = []
    for lib in (ft, torch):
        inp = lib.tensor(x, requires_grad=True)
        values, indices = lib.nn.MaxPool2d(return_indices=True, **kwargs)(inp)
        unpool = lib.nn.MaxUnpool2d(kwargs["kernel_size"], kwargs.get("stride"),
                                    kwargs.get("padding", 0))
        out = unpool(values * 3, indices, output_size=inp.size()[-2:]) \
            if "dilation" not in kwargs and "ceil_mode" not in kwargs else values * 3
        (out * out).sum().backward()
        v1, i1 = lib.nn.functional.max_pool1d(lib.tensor(x[:, :, 0]), 3, 2,
                                              return_indices=True)
        seen.append((values, indices.long(), out, inp.grad, v1, i1.long(), repr(unpool)))
    ours, theirs = seen
    assert ours[-1] == theirs[-1]
    for a, b in zip(ours[:-1], theirs[:-1], strict=True):
        _close(a, b)
    with pytest.raises(ValueError, match="invalid output_size"):
        ft.nn.functional.max_unpool2d(ft.ones(1, 1, 2, 2), ft.zeros(1, 1, 2, 2).long(), 2,
                                      output_size=(9, 9))


# -- TensorBoard --------------------------------------------------------------------------


def test_add_figure_writes_the_image_pytorch_writes(tmp_path, torch):
    """SummaryWriter.add_figure (a confusion matrix or sample grid drawn with matplotlib,
    every epoch) raised NotImplementedError: the figure's pixels as PyTorch's writer
    stores them, a list of figures as one grid, and the figure closed."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    from fnnet.torch.utils.tensorboard import SummaryWriter

    def figure(seed):
        fig, ax = plt.subplots(figsize=(2, 1.5), dpi=40)
        ax.imshow(np.random.default_rng(seed).random((4, 4)))
        return fig

    pixels = {}
    for name, writer_class in (("ours", SummaryWriter), ("theirs", TorchWriter)):
        with writer_class(tmp_path / name) as writer:
            fig = figure(0)
            writer.add_figure("confusion", fig, 3)
            assert not plt.fignum_exists(fig.number)
            writer.add_figure("grid", [figure(1), figure(2)], 4)
        events = EventAccumulator(str(tmp_path / name), size_guidance={"images": 0})
        events.Reload()
        pixels[name] = [np.asarray(Image.open(io.BytesIO(events.Images(tag)[0]
                                                         .encoded_image_string)))
                        for tag in ("confusion", "grid")]
        assert [events.Images(tag)[0].step for tag in ("confusion", "grid")] == [3, 4]
    for ours, theirs in zip(pixels["ours"], pixels["theirs"], strict=True):
        np.testing.assert_array_equal(ours, theirs)
    with SummaryWriter(tmp_path / "bad") as writer, pytest.raises(TypeError, match="Figure"):
        writer.add_figure("x", np.zeros((3, 3)))


def test_add_pr_curve_writes_pytorchs_curve(tmp_path, torch):
    """SummaryWriter.add_pr_curve after an evaluation loop raised NotImplementedError:
    the plugin's tensor (true/false positives and negatives, precision, recall per
    threshold) as PyTorch's writer stores it."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util import tensor_util
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    from fnnet.torch.utils.tensorboard import SummaryWriter

    rng = np.random.default_rng(18)
    labels = rng.integers(0, 2, 50)
    scores = np.clip(labels * 0.4 + rng.random(50) * 0.6, 0, 1).astype(np.float32)
    curves = {}
    for name, writer_class, lib in (("ours", SummaryWriter, ft), ("theirs", TorchWriter,
                                                                    torch)):
        with writer_class(tmp_path / name) as writer:
            writer.add_pr_curve("pr/class_1", lib.tensor(labels), lib.tensor(scores), 2,
                                num_thresholds=11)
        events = EventAccumulator(str(tmp_path / name), size_guidance={"tensors": 0})
        events.Reload()
        (event,) = events.Tensors("pr/class_1")
        curves[name] = (event.step, tensor_util.make_ndarray(event.tensor_proto))
    assert curves["ours"][0] == curves["theirs"][0] == 2
    np.testing.assert_allclose(curves["ours"][1], curves["theirs"][1], rtol=1e-6)
    with SummaryWriter(tmp_path / "wide") as writer:  # PyTorch's writer takes any score
        writer.add_pr_curve("pr", [0, 1], [0.5, 1.5])


def test_add_embedding_writes_pytorchs_projector_files(tmp_path, torch):
    """SummaryWriter.add_embedding (PyTorch's TensorBoard tutorial projects image
    features with their labels and thumbnails) raised NotImplementedError: the vectors,
    labels and sprite written where PyTorch's writer writes them, with the same content."""
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    from fnnet.torch.utils.tensorboard import SummaryWriter

    rng = np.random.default_rng(19)
    features = rng.random((6, 4)).astype(np.float32)
    thumbs = rng.random((6, 1, 5, 5)).astype(np.float32)
    labels = ["cat", "dog", "cat", "ship", "dog", "cat"]
    written = {}
    for name, writer_class, lib in (("ours", SummaryWriter, ft), ("theirs", TorchWriter,
                                                                    torch)):
        with writer_class(tmp_path / name) as writer:
            writer.add_embedding(lib.tensor(features), metadata=labels,
                                 label_img=lib.tensor(thumbs), global_step=7, tag="feats")
        folder = tmp_path / name / "00007" / "feats"
        written[name] = {f: (folder / f).read_bytes() for f in ("tensors.tsv",
                                                                 "metadata.tsv")}
        written[name]["sprite"] = (folder / "sprite.png").exists()
        assert b"feats:00007" in (tmp_path / name / "projector_config.pbtxt").read_bytes()
    assert written["ours"] == written["theirs"]
    with SummaryWriter(tmp_path / "bad") as writer, pytest.raises(
            AssertionError, match="#labels should equal with #data points"):  # PyTorch's
        writer.add_embedding(ft.ones(3, 2), metadata=["a"])


def test_anomaly_detection_raises_at_the_nan(torch):
    """torch.autograd.set_detect_anomaly(True), a usual debugging line at the top of a
    training script, stopped at Unsupported. It is JAX's NaN checking: a backward that
    produces a NaN (sqrt's gradient at 0 times 0) raises where PyTorch's anomaly mode
    raises, naming the operation, and the with-forms restore the setting."""
    import jax

    assert not jax.config.jax_debug_nans
    # fnnet's error is a RuntimeError (as PyTorch's) and JAX's FloatingPointError
    errors = {ft: (RuntimeError, "nan"), torch: (RuntimeError, "returned nan values")}
    for lib, (error, message) in errors.items():
        x = lib.nn.Parameter(lib.tensor([0.0, 4.0]))
        try:
            lib.autograd.set_detect_anomaly(True)
            with pytest.raises(error, match=message) as raised:
                (lib.sqrt(x) * 0).sum().backward()
                x.grad.sum().item()
        finally:
            lib.autograd.set_detect_anomaly(False)
        assert lib is torch or isinstance(raised.value, FloatingPointError)
    assert not jax.config.jax_debug_nans
    with ft.autograd.detect_anomaly():
        assert jax.config.jax_debug_nans
    with ft.autograd.set_detect_anomaly(True):
        assert jax.config.jax_debug_nans
    assert not jax.config.jax_debug_nans


# -- augmentation by tensor ops ---------------------------------------------------------


def test_roll_flip_and_rot90_take_and_refuse_arguments_as_pytorch(torch):
    """Augmentations written with torch.roll / flip / rot90: roll's shifts as a tensor
    recursed without end, shifts that did not pair with dims rolled anyway (PyTorch
    refuses), a dimension listed twice in flip raised jax's TypeError, and rot90 named
    its dims after wrapping them."""
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    calls = [
        lambda T, t: T.roll(t, (1,)), lambda T, t: T.roll(t, [2]),
        lambda T, t: T.roll(t, (1, 1), (0, 0)), lambda T, t: t.roll(-1, 2),
        lambda T, t: T.roll(t, T.tensor(1), 0), lambda T, t: T.roll(t, shifts=(2, -3),
                                                                      dims=(1, 2)),
        lambda T, t: T.flip(t, (0, -1)), lambda T, t: t.flip(1, 2),
        lambda T, t: T.rot90(t, 1, [1, 2]), lambda T, t: T.rot90(t, -3, (2, 0)),
    ]
    for call in calls:
        np.testing.assert_array_equal(_np(call(ft, ft.tensor(x))),
                                      _np(call(torch, torch.tensor(x))))
    bad = [
        lambda T: T.roll(T.zeros(2, 3), 1, (0, 1)),
        lambda T: T.roll(T.zeros(2, 3), (1, 2)),
        lambda T: T.roll(T.zeros(2, 3), (), ()),
        lambda T: T.roll(T.zeros(2, 3), 1.5, 0),
        lambda T: T.roll(T.zeros(2, 3), 1, 2),
        lambda T: T.flip(T.zeros(2, 3), (0, -2)),
        lambda T: T.zeros(2, 3).flip(-1, -1),
        lambda T: T.rot90(T.zeros(2, 3), 1, (1, -1)),
    ]
    for call in bad:
        ours, theirs = raised_by(call, ft, torch)
        assert ours == theirs


def test_random_roll_augmentation_trains_as_pytorch_and_compiles_once(torch):
    """torch.roll by a random amount each step (a translation augmentation) trains as
    PyTorch's, and its shifts are inputs of the step: they were part of its structure,
    and every new shift compiled the step again."""
    x = np.random.default_rng(12).standard_normal((4, 2, 6, 6)).astype(np.float32)
    y = np.array([0, 1, 2, 1])
    shifts = [(1, -2), (0, 3), (-3, 1), (2, 2), (5, -1)]
    finals = []
    for lib in (torch, ft):
        lib.manual_seed(0)
        net = lib.nn.Sequential(lib.nn.Conv2d(2, 3, 3), lib.nn.Flatten(),
                                lib.nn.Linear(48, 3))
        opt = lib.optim.SGD(net.parameters(), lr=0.1)
        inp = lib.tensor(x)
        if lib is ft:
            ft.reset_compile_stats()
        losses = []
        for dy, dx in shifts:
            rolled = lib.roll(inp, shifts=(dy, dx), dims=(2, 3)).roll(dx, 3)
            loss = lib.nn.functional.cross_entropy(net(rolled), lib.tensor(y))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        finals.append((losses, [_np(p) for p in net.parameters()]))
    np.testing.assert_allclose(finals[1][0], finals[0][0], rtol=1e-5)
    for ours, theirs in zip(finals[1][1], finals[0][1], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)
    assert ft.compile_stats()["compiles"] == 1, ft.compile_stats()["log"]


def test_pooling_and_normalisation_refuse_bad_arguments_as_pytorch(torch):
    """The mistakes users make with pooling and group/instance norm raise PyTorch's
    exception types and words: fnnet's ValueErrors (max_pool2d's padding, stride 0, a
    2-D input), numpy's reshape TypeError for a GroupNorm or affine InstanceNorm given
    the wrong channel count, and an empty channel axis that pooled without a word."""
    cases = [
        lambda T: T.nn.functional.max_pool2d(T.zeros(1, 2, 4, 4), 3, padding=2),
        lambda T: T.nn.functional.max_pool2d(T.zeros(1, 2, 4, 4), 0),
        lambda T: T.nn.functional.max_pool2d(T.zeros(1, 2, 4, 4), 2, padding=-1),
        lambda T: T.nn.functional.max_pool2d(T.zeros(1, 2, 4, 4), 2, dilation=0),
        lambda T: T.nn.functional.max_pool2d(T.zeros(1, 2, 8, 8), 2, dilation=3, padding=2),
        lambda T: T.nn.functional.max_pool2d(T.zeros(1, 0, 4, 4), 2),
        lambda T: T.nn.functional.max_pool2d(T.zeros(1, 2, 4, 4), 2, stride=(1, 0),
                                             return_indices=True),
        lambda T: T.nn.MaxPool2d(2)(T.zeros(4, 4)),
        lambda T: T.nn.functional.avg_pool2d(T.zeros(1, 2, 4, 4), 2, stride=-1),
        lambda T: T.nn.functional.avg_pool2d(T.zeros(1, 2, 4, 4), 2, divisor_override=0),
        lambda T: T.nn.AvgPool2d(2)(T.zeros(4, 4)),
        lambda T: T.nn.functional.avg_pool2d(T.zeros(1, 1, 2, 4, 4), 2),
        lambda T: T.nn.functional.max_pool1d(T.zeros(2, 3, 4), 3, padding=2),
        lambda T: T.nn.functional.max_pool1d(T.zeros(4), 2),
        lambda T: T.nn.functional.avg_pool1d(T.zeros(4), 2),
        lambda T: T.nn.GroupNorm(2, 6)(T.zeros(2, 4, 3)),
        lambda T: T.nn.functional.group_norm(T.zeros(2, 5, 3), 2),
        lambda T: T.nn.functional.group_norm(T.zeros(6), 2),
        lambda T: T.nn.functional.group_norm(T.zeros(2, 6), 2, bias=T.ones(3)),
        lambda T: T.nn.functional.group_norm(T.zeros(1, 2, 1), 2),
        lambda T: T.nn.InstanceNorm2d(3, affine=True)(T.zeros(2, 4, 5, 5)),
        lambda T: T.nn.InstanceNorm2d(3)(T.zeros(1, 3, 1, 1)),
    ]
    for case in cases:
        ours, theirs = raised_by(case, ft, torch)
        assert ours == theirs
    for lib in (ft, torch):  # without a weight the count is not used: a warning
        with pytest.warns(UserWarning, match=r"^input's size at dim=1 does not match"):
            lib.nn.InstanceNorm2d(3)(lib.zeros(2, 4, 5, 5))


def test_adaptive_pooling_and_meshgrid_refuse_bad_arguments_as_pytorch(torch):
    """Adaptive pooling's and meshgrid's refusals in PyTorch's types and words (fnnet's
    ValueErrors before; an empty spatial axis average-pooled to zeros, and meshgrid
    mixed dtypes or took no tensors, without a word)."""
    cases = [
        lambda T: T.nn.AdaptiveAvgPool2d((2, 2))(T.zeros(3)),
        lambda T: T.nn.functional.adaptive_avg_pool2d(T.zeros(2, 3), 2),
        lambda T: T.nn.functional.adaptive_max_pool2d(T.zeros(2, 3), 2),
        lambda T: T.nn.functional.adaptive_avg_pool2d(T.zeros(1, 2, 3, 4, 5), 2),
        lambda T: T.nn.functional.adaptive_avg_pool1d(T.zeros(1, 2, 3, 4), 2),
        lambda T: T.nn.functional.adaptive_avg_pool2d(T.zeros(1, 2, 0, 4), 2),
        lambda T: T.nn.functional.adaptive_max_pool2d(T.zeros(1, 0, 3, 3), 2),
        lambda T: T.nn.functional.adaptive_max_pool2d(T.zeros(1, 2, 0, 4), 2,
                                                      return_indices=True),
        lambda T: T.nn.functional.adaptive_avg_pool2d(T.zeros(1, 2, 5, 4), (2, 2, 2)),
        lambda T: T.nn.functional.adaptive_avg_pool2d(T.zeros(1, 2, 5, 4), (None, -2)),
        lambda T: T.nn.functional.adaptive_avg_pool2d(T.zeros(1, 2, 5, 4), 1.5),
        # anchor grids
        lambda T: T.meshgrid(T.arange(3), T.arange(2.0), indexing="ij"),
        lambda T: T.meshgrid(T.arange(3), indexing="xz"),
        lambda T: T.meshgrid([], indexing="ij"),
    ]
    for case in cases:
        ours, theirs = raised_by(case, ft, torch)
        assert ours == theirs


def test_vision_ops_grad_fn_names_are_pytorchs(torch):
    """grad_fn of a volume's grid_sample, an instance norm and a functional transposed
    convolution named fnnet's ops (GridSampler2DBackward0, NativeGroupNormBackward0,
    ConvTranspose2DBackward0) instead of PyTorch's nodes."""
    x = np.random.default_rng(13).standard_normal((1, 4, 6, 6)).astype(np.float32)
    w = np.random.default_rng(14).standard_normal((4, 2, 2, 2)).astype(np.float32)
    names = []
    for lib in (ft, torch):
        F, inp = lib.nn.functional, lib.tensor(x, requires_grad=True)
        theta = lib.eye(3, 4).unsqueeze(0).requires_grad_()
        grid = F.affine_grid(theta, (1, 4, 1, 6, 6), align_corners=False)
        outs = [grid, F.grid_sample(inp.unsqueeze(2), grid, align_corners=False),
                F.instance_norm(inp), lib.nn.InstanceNorm2d(4, affine=True)(inp),
                lib.nn.InstanceNorm1d(4)(inp[0, :, 0]), F.conv_transpose2d(inp, lib.tensor(w)),
                lib.nn.GroupNorm(2, 4)(inp)]
        names.append([type(out.grad_fn).__name__ for out in outs])
    assert names[0] == names[1]


def test_grouped_conv_weight_refused_as_pytorch(torch):
    """A depthwise/grouped F.conv2d whose weight's output channels are fewer than, or not
    divisible by, the groups is refused with PyTorch's words (fnnet named the input's
    channel count instead)."""
    cases = [
        lambda T: T.nn.functional.conv2d(T.zeros(1, 4, 5, 5), T.zeros(2, 1, 3, 3), groups=3),
        lambda T: T.nn.functional.conv2d(T.zeros(1, 4, 5, 5), T.zeros(4, 1, 3, 3), groups=3),
        lambda T: T.nn.functional.conv1d(T.zeros(1, 4, 5), T.zeros(4, 1, 3), groups=3),
    ]
    for case in cases:
        ours, theirs = raised_by(case, ft, torch)
        assert ours == theirs
