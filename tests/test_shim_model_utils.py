"""The model utilities that intermediate programs reach for (parametrizations, hooks,
pruning, fine-tuning and model surgery, averaging, inspection), written as tutorials and
blog posts write them and run under PyTorch and fnnet.torch from the same seeds:
printed values, errors, state_dict keys and weights compared."""

from __future__ import annotations

import numpy as np
import pytest

import fnnet.torch as ft

pytestmark = pytest.mark.torch


def _np(t):
    return np.asarray(t.detach().numpy(), np.float64)


def _both(torch, program):
    """``program(t)`` under PyTorch, then under fnnet.torch."""
    return program(torch), program(ft)


def _errors(calls):
    """``(type name, message)`` of what each call raises (None if nothing)."""
    out = []
    for call in calls:
        try:
            call()
        except Exception as error:  # noqa: BLE001 - compared with PyTorch's
            out.append((type(error).__name__, str(error)))
        else:
            out.append(None)
    return out


# -- parametrizations -------------------------------------------------------------------

def _spectral_gan_discriminator(t):
    """An SN-GAN discriminator's layer: registering evaluates the parametrization once
    (PyTorch's consistency check), which takes a power-iteration step; each training-mode
    forward takes another."""
    t.manual_seed(1)
    sn = t.nn.utils.parametrizations.spectral_norm(t.nn.Linear(6, 4))
    u = sn.parametrizations.weight[0]._u
    us = [u.clone()]
    x = t.randn(3, 6)
    for _ in range(2):
        out = sn(x)
        us.append(u.clone())
    sigma = t.linalg.matrix_norm(sn.weight, ord=2)  # an access outside forward: a step too
    us.append(u.clone())
    return [_np(v) for v in us], _np(out), sigma.item()


def test_spectral_norm_steps_its_power_iteration_as_pytorch(torch):
    theirs, ours = _both(torch, _spectral_gan_discriminator)
    for mine, expected in zip(ours[0], theirs[0], strict=True):
        np.testing.assert_allclose(mine, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-5, atol=1e-6)
    assert ours[2] == pytest.approx(theirs[2], rel=1e-5)


def _registering(t):
    nn, P = t.nn, t.nn.utils.parametrize

    class Symmetric(nn.Module):
        def forward(self, X):  # noqa: N803
            return X.triu() + X.triu(1).transpose(-1, -2)

    class Rows(nn.Module):
        def forward(self, X):  # noqa: N803
            return X[:2]

    class Twice(nn.Module):
        def forward(self, X):  # noqa: N803
            return X * 2

        def right_inverse(self, X):  # noqa: N803
            raise NotImplementedError  # taken for the identity

    class Widen(nn.Module):
        def forward(self, X):  # noqa: N803
            return X

        def right_inverse(self, X):  # noqa: N803
            return t.cat([X, X])

    t.manual_seed(0)
    layer = nn.Linear(3, 3)
    layer.eval()
    P.register_parametrization(layer, "weight", Symmetric())
    training = layer.parametrizations.weight[0].training  # follows the module's mode
    errors = _errors([
        lambda: P.register_parametrization(nn.Linear(3, 3), "weight", Rows()),
        lambda: P.register_parametrization(layer, "weight", Rows()),
        lambda: P.register_parametrization(layer, "weight", Widen()),
        lambda: P.register_parametrization(layer, "nope", Symmetric()),
        lambda: P.remove_parametrizations(layer, "bias"),
        lambda: setattr(layer, "weight", t.ones(3, 3)),
    ])
    twice = P.register_parametrization(nn.Linear(2, 2), "weight", Twice())
    with P.cached():
        same = layer.weight is layer.weight
    return (training, errors, list(layer.state_dict()), same, layer.weight is layer.weight,
            _np(twice.parametrizations.weight.original), _np(twice.weight))


def test_registering_a_parametrization_checks_it_as_pytorch(torch):
    theirs, ours = _both(torch, _registering)
    assert ours[:5] == theirs[:5]
    np.testing.assert_allclose(ours[5], theirs[5])
    np.testing.assert_allclose(ours[6], theirs[6])


# -- hooks --------------------------------------------------------------------------------

def _hooks_on_every_module(t):
    """torch.nn.modules.module's global hooks (activation statistics for every layer):
    they run before the module's own, see keyword arguments where asked, and stop
    when removed."""
    hooks = __import__(f"{t.__name__}.nn.modules.module", fromlist=["_"])
    t.manual_seed(0)
    net = t.nn.Sequential(t.nn.Linear(3, 4), t.nn.Tanh(), t.nn.Linear(4, 1))
    seen = []
    net[0].register_forward_pre_hook(lambda m, a: seen.append(("own pre", type(m).__name__)))
    handles = [
        hooks.register_module_forward_pre_hook(
            lambda m, a: seen.append(("pre", type(m).__name__))),
        hooks.register_module_forward_hook(
            lambda m, a, k, o: seen.append(("fwd", type(m).__name__, sorted(k),
                                            round(o.sum().item(), 4))), with_kwargs=True),
        hooks.register_module_full_backward_hook(
            lambda m, gi, go: seen.append(("bw", type(m).__name__,
                                           round(go[0].sum().item(), 4)))),
        hooks.register_module_full_backward_pre_hook(
            lambda m, go: seen.append(("bw pre", type(m).__name__))),
    ]
    x = t.randn(2, 3, requires_grad=True)
    net(x).sum().backward()
    for handle in handles:
        handle.remove()
    net(x)
    return seen, _np(x.grad)


def test_hooks_on_every_module_run_as_pytorchs(torch):
    theirs, ours = _both(torch, _hooks_on_every_module)
    assert ours[0] == theirs[0]
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-5, atol=1e-6)
    with pytest.raises(NotImplementedError, match="register_module_full_backward_hook"):
        from fnnet.torch.nn.modules.module import register_module_backward_hook  # noqa: F401



def _hooks_after_a_printed_value(t):
    """Per-layer gradient norms printed by backward hooks, in a model whose forward
    hooks print activations (reading a value mid-forward), and a tensor hook registered
    after such a read on a tensor gone before backward: every hook runs, in PyTorch's
    order (from the loss back)."""
    t.manual_seed(0)
    net = t.nn.Sequential(t.nn.Linear(3, 4), t.nn.ReLU(), t.nn.Linear(4, 2))
    log = []
    for name, layer in net.named_children():
        layer.register_forward_hook(
            lambda m, a, o, name=name: log.append(("act", name, round(o.mean().item(), 4))))
        layer.register_full_backward_hook(
            lambda m, gi, go, name=name: log.append(("grad", name,
                                                     round(go[0].norm().item(), 4))))
    x = t.randn(5, 3, requires_grad=True)

    def features():
        h = net(x)
        log.append(("mean", round(h.mean().item(), 4)))
        h.register_hook(lambda g: log.append(("h", round(g.sum().item(), 4))))
        return h.tanh()

    features().sum().backward()
    return log, _np(x.grad), _np(net[0].weight.grad)


def test_backward_hooks_run_from_the_loss_back_after_values_were_read(torch):
    theirs, ours = _both(torch, _hooks_after_a_printed_value)
    assert ours[0] == theirs[0]
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-5, atol=1e-6)



def _hooked_graph(t):
    """What printing shows of tensors that hooks watch: a hooked module's output is
    PyTorch's BackwardHookFunction node, a tensor with a gradient hook keeps its node."""
    lin = t.nn.Linear(3, 2)
    lin.register_full_backward_hook(lambda m, gi, go: None)
    x = t.randn(4, 3, requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: None)
    z = y.sum()
    return (type(lin(x).grad_fn).__name__, type(y.grad_fn).__name__,
            [type(f).__name__ for f, _ in z.grad_fn.next_functions])


def test_hooked_tensors_show_pytorchs_grad_fn(torch):
    theirs, ours = _both(torch, _hooked_graph)
    assert ours == theirs



def _functional_call_of_a_parametrized_module(t):
    t.manual_seed(0)
    net = t.nn.Sequential(t.nn.utils.parametrizations.weight_norm(t.nn.Linear(3, 2)))
    x = t.randn(4, 3)
    originals = {k: v * 2 for k, v in net.named_parameters()}
    return [_np(t.func.functional_call(net, given, (x,))) for given in (
        originals,  # through the parametrization
        {"0.weight": t.ones(2, 3)},  # the parametrized tensor itself: the parametrization off
        {})] + [_np(net[0].weight)]


def test_functional_call_of_a_parametrized_tensor_takes_the_value_as_pytorch(torch):
    theirs, ours = _both(torch, _functional_call_of_a_parametrized_module)
    for mine, expected in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine, expected, rtol=1e-5, atol=1e-6)



def _hooks_on_layers_with_several_outputs(t):
    """Full backward hooks on layers returning tuples: attention whose weights the loss
    does not use, an LSTM's (output, (h, c)), a layer called with a non-tensor argument;
    each hook gets one entry per argument and per output, None where no gradient came."""
    t.manual_seed(0)
    log = []

    def shapes(grads):
        return [None if g is None else tuple(g.shape) for g in grads]

    def record(m, gi, go):
        log.append((type(m).__name__, shapes(gi), shapes(go)))

    class Scale(t.nn.Module):
        def forward(self, x, factor):
            return x * factor

    mha, lstm, scale = t.nn.MultiheadAttention(4, 2, batch_first=True), \
        t.nn.LSTM(4, 3, batch_first=True), Scale()
    for layer in (mha, lstm, scale):
        layer.register_full_backward_hook(record)
        layer.register_full_backward_pre_hook(lambda m, go: log.append(("pre", shapes(go))))
    q = t.randn(2, 3, 4, requires_grad=True)
    attended, _ = mha(q, q, q)
    out, (h, _) = lstm(scale(attended, 2.0))
    (out.sum() + h.sum()).backward()
    return log, _np(q.grad)


def test_backward_hooks_of_layers_with_several_outputs_as_pytorch(torch):
    theirs, ours = _both(torch, _hooks_on_layers_with_several_outputs)
    assert ours[0] == theirs[0]
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-4, atol=1e-5)



def _typed_handles(t):
    hooks = __import__(f"{t.__name__}.utils.hooks", fromlist=["_"])
    handles: list[hooks.RemovableHandle] = [
        t.nn.Linear(2, 2).register_forward_hook(lambda m, i, o: None)]
    kind = type(handles[0])
    return (isinstance(handles[0], hooks.RemovableHandle), kind.__name__,
            kind.__module__.removeprefix("fnnet."),
            hooks.unserializable_hook(lambda g: g).__torch_unserializable__)


def test_hook_handles_are_torch_utils_hooks_removable_handles(torch):
    theirs, ours = _both(torch, _typed_handles)
    assert ours == theirs


# -- weight averaging -------------------------------------------------------------------

def _ema_with_buffers(t):
    """An EMA of a model with BatchNorm through AveragedModel(use_buffers=True): the
    integer num_batches_tracked is averaged apart from the floats, as PyTorch's."""
    swa_utils = t.optim.swa_utils
    t.manual_seed(0)
    model = t.nn.Sequential(t.nn.Linear(3, 4), t.nn.BatchNorm1d(4))
    ema = swa_utils.AveragedModel(model, multi_avg_fn=swa_utils.get_ema_multi_avg_fn(0.9),
                                  use_buffers=True)
    groups = []
    seen = swa_utils.AveragedModel(
        model, use_buffers=True,
        multi_avg_fn=lambda avg, cur, n: groups.append([str(a.dtype) for a in avg]))
    x = t.randn(6, 3)
    for step in range(3):
        with t.no_grad():
            model(x * step)  # new running statistics and count
            for p in model.parameters():
                p.add_(0.5)
        ema.update_parameters(model)
        seen.update_parameters(model)
    errors = _errors([lambda: swa_utils.get_ema_multi_avg_fn(1.5),
                      lambda: swa_utils.get_ema_avg_fn(-0.1)])
    return ({k: _np(v) for k, v in ema.state_dict().items()}, sorted(map(sorted, groups)),
            errors)


def test_an_ema_over_buffers_averages_each_dtype_as_pytorch(torch):
    theirs, ours = _both(torch, _ema_with_buffers)
    assert list(ours[0]) == list(theirs[0])
    for key, value in theirs[0].items():
        np.testing.assert_allclose(ours[0][key], value, rtol=1e-5, atol=1e-6, err_msg=key)
    assert ours[1:] == theirs[1:]


# -- export and compilers ---------------------------------------------------------------

@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated")
def test_jit_load_of_a_missing_path_or_a_folder_raises_pytorchs_error(torch, tmp_path):
    for t in (torch, ft):
        for path in (tmp_path / "missing.pt", tmp_path):
            with pytest.raises(ValueError) as error:
                t.jit.load(str(path))
            assert str(error.value) == f"The provided filename {path} " + (
                "is a directory" if path == tmp_path else "does not exist")


@pytest.mark.parametrize("name", ["fx.symbolic_trace", "quantization.quantize_dynamic",
                                  "ao.quantization.quantize_dynamic", "export.export",
                                  "jit.freeze", "onnx.export"])
def test_compilers_and_exporters_work_or_name_themselves(name):
    """What a user tries after training: each works or says it is not supported and what
    to do instead (NotImplementedError), never a bare AttributeError."""
    with pytest.raises(NotImplementedError) as error:
        target = ft
        for part in name.split("."):
            target = getattr(target, part)
        target(ft.nn.Linear(2, 2), (ft.ones(1, 2),))
    assert name.split(".")[0] in str(error.value)


# -- activation checkpointing -----------------------------------------------------------

def _checkpoint_options(t):
    import contextlib

    from_ckpt = __import__(f"{t.__name__}.utils.checkpoint", fromlist=["_"])
    seq = t.nn.Sequential(t.nn.Linear(3, 3), t.nn.Tanh())
    x = t.ones(2, 3, requires_grad=True)
    entered = []

    @contextlib.contextmanager
    def forward_context():
        entered.append("forward")
        yield

    def contexts():
        return forward_context(), contextlib.nullcontext()

    out = from_ckpt.checkpoint(seq, x, use_reentrant=False, context_fn=contexts)
    errors = _errors([
        lambda: from_ckpt.checkpoint(seq, x, use_reentrant=False, determinism_check="all"),
        lambda: from_ckpt.checkpoint(seq, x, use_reentrant=False, context_fn=contexts,
                                     debug=True),
    ])
    return entered, errors, tuple(out.shape)


def test_checkpoint_options_as_pytorchs(torch):
    theirs, ours = _both(torch, _checkpoint_options)
    assert ours == theirs


# -- what a user gets wrong -------------------------------------------------------------

def _wrong_arguments(t):
    nn, utils = t.nn, t.nn.utils
    prune = __import__(f"{t.__name__}.nn.utils.prune", fromlist=["_"])
    lin = nn.Linear(3, 2)
    return _errors([
        lambda: utils.weight_norm(nn.Linear(3, 2), name="nope"),
        lambda: utils.spectral_norm(nn.Linear(3, 2), name="nope"),
        lambda: utils.parametrize.register_parametrization(lin, "weight", lambda x: x),
        lambda: prune.ln_structured(nn.Linear(3, 2), "weight", amount=0.5, n=1, dim=5),
        lambda: prune.ln_structured(nn.Linear(3, 2), "bias", amount=1, n=1, dim=0),
        lambda: prune.custom_from_mask(nn.Linear(3, 2), "weight", mask=t.ones(3, 3)),
        lambda: utils.parameters_to_vector([[1.0]]),
        lambda: lin.requires_grad_(0),
        lambda: lin.weight.requires_grad_(None),
        lambda: setattr(t.ones(2), "requires_grad", 1),
    ])


@pytest.mark.filterwarnings("ignore:`torch.nn.utils.weight_norm` is deprecated")
def test_wrong_arguments_to_the_utilities_raise_pytorchs_errors(torch):
    theirs, ours = _both(torch, _wrong_arguments)
    assert ours == theirs


def _custom_layer_helpers(t):
    """The argument helpers custom layers import from torch.nn.modules.utils."""
    utils = __import__(f"{t.__name__}.nn.modules.utils", fromlist=["_"])
    return (utils._pair(3), utils._single([2]), utils._triple((1, 2, 3)),
            utils._quadruple(0), utils._ntuple(5, "five")(1), utils._pair.__name__,
            utils._reverse_repeat_tuple((1, 2), 2), utils._list_with_default([None, 4],
                                                                             [1, 8, 9, 9]),
            _errors([lambda: utils._list_with_default([1, 2], [3])]))


def test_custom_layer_helpers_as_pytorchs(torch):
    theirs, ours = _both(torch, _custom_layer_helpers)
    assert ours == theirs


@pytest.mark.filterwarnings("ignore:`torch.jit")
def test_scripted_modules_answer_what_users_read_from_them(torch):
    """After torch.jit.script / trace: original_name, trace_module, annotate and Final
    as PyTorch's; .code and .graph name themselves in a NotImplementedError (an
    AttributeError from the property was reported as a missing attribute)."""
    runs = []
    for t in (torch, ft):
        model = t.nn.Sequential(t.nn.Linear(2, 2), t.nn.ReLU()).eval()
        x = t.ones(1, 2)
        traced = t.jit.trace_module(model, {"forward": x})
        runs.append((t.jit.script(model).original_name, type(traced).__name__,
                     traced(x).shape, t.jit.annotate(int, 3), t.jit.Final,
                     _errors([lambda t=t, m=model, x=x: t.jit.trace_module(m, [x])])))
    assert runs[1] == runs[0]
    scripted = ft.jit.script(ft.nn.Linear(2, 2))
    for name in ("code", "graph"):
        with pytest.raises(NotImplementedError, match="ScriptModule.code or .graph"):
            getattr(scripted, name)
