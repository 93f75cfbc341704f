"""Tensor.retain_grad and Tensor.register_hook on fnnet.torch against PyTorch: gradients
of intermediate values, hooks that change a parameter's gradient in a training loop, and
Grad-CAM's hooks on a convolution's activations."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import fnnet.torch as ft

pytestmark = pytest.mark.torch

RNG = np.random.default_rng(0)
X = RNG.standard_normal((6, 4)).astype(np.float32)
W = RNG.standard_normal((4, 5)).astype(np.float32)


def _intermediates(t):
    x = t.tensor(X)
    w = t.tensor(W, requires_grad=True)
    h = x @ w
    h.retain_grad()
    a = t.tanh(h)
    a.retain_grad()
    w.retain_grad()  # a leaf keeps its gradient anyway: nothing changes
    loss = (a * a).sum()
    loss.backward(retain_graph=True)
    first = h.grad.numpy().copy()
    loss.backward()  # retained gradients accumulate, as a leaf's do
    return first, h.grad.numpy(), a.grad.numpy(), w.grad.numpy(), h.retains_grad, h.is_leaf


def test_retain_grad_keeps_intermediate_gradients_as_pytorch(torch):
    theirs, ours = _intermediates(torch), _intermediates(ft)
    for mine, expected in zip(ours[:4], theirs[:4], strict=True):
        np.testing.assert_allclose(mine, expected, rtol=1e-5, atol=1e-6)
    assert ours[4:] == theirs[4:] == (True, False)


def _retained_after_the_forward(t):
    """``retain_grad()`` and ``register_hook()`` after the ops that read the tensor were
    recorded (a course's diagnostics: the forward pass, then each layer's activations
    retained before ``loss.backward()``), with a value read in between, a second
    backward, a given cotangent and a training loop."""
    x = t.tensor(X)
    w = t.tensor(W, requires_grad=True)
    h = x @ w
    a = t.tanh(h)
    off = (w * 3).sum()  # the loss does not reach it
    loss = (a * a * 2).sum() + h.mean()
    out = [loss.item()]
    seen = []
    for value in (h, a, off):
        value.retain_grad()
    a.register_hook(lambda g: seen.append(g.sum().item()))
    loss.backward(retain_graph=True)
    out += [h.grad.numpy().copy(), a.grad.numpy().copy(), off.grad, h.retains_grad]
    loss.backward()  # retained gradients accumulate
    out += [h.grad.numpy(), a.grad.numpy(), w.grad.numpy()]
    y = t.sin(x @ w)
    y.retain_grad()
    (y * y).backward(t.full((6, 5), 0.5))
    out.append(y.grad.numpy())
    t.manual_seed(0)
    layer = t.nn.Linear(4, 3)
    opt = t.optim.SGD(layer.parameters(), lr=0.1)
    for _ in range(2):
        act = t.relu(layer(x))
        step_loss = act.pow(2).mean()
        act.retain_grad()
        opt.zero_grad()
        step_loss.backward()
        opt.step()
        out += [step_loss.item(), act.grad.numpy()]
    return out, seen


def test_retain_grad_and_hooks_after_the_forward_pass_as_pytorch(torch):
    (ours, seen), (theirs, expected) = _retained_after_the_forward(ft), \
        _retained_after_the_forward(torch)
    assert ours[3] is theirs[3] is None and ours[4] == theirs[4] is True
    del ours[3:5], theirs[3:5]
    for mine, reference in zip(ours, theirs, strict=True):  # gradients up to about 10
        np.testing.assert_allclose(mine, reference, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(seen, expected, rtol=1e-5)
    assert len(seen) == 2


def _clipped_training(t, steps=3):
    """Each parameter's gradient clamped by a hook, as some RNN tutorials do."""
    t.manual_seed(0)
    model = t.nn.Sequential(t.nn.Linear(4, 8), t.nn.Tanh(), t.nn.Linear(8, 2))
    with t.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(t.tensor(np.random.default_rng(i).uniform(-1, 1, tuple(p.shape))
                             .astype(np.float32)))
    seen = []
    for p in model.parameters():
        p.register_hook(lambda g: g.clamp(-0.05, 0.05))
    handle = model[0].weight.register_hook(lambda g: seen.append(g.abs().max().item()))
    opt = t.optim.SGD(model.parameters(), lr=0.5)
    y = t.tensor(RNG_Y)
    for step in range(steps):
        if step == steps - 1:
            handle.remove()
        opt.zero_grad()
        loss = t.nn.functional.cross_entropy(model(t.tensor(X)), y)
        loss.backward()
        opt.step()
    return [p.detach().numpy().copy() for p in model.parameters()], seen


RNG_Y = RNG.integers(0, 2, 6)


def test_leaf_hooks_change_the_gradients_a_step_takes_as_pytorch(torch):
    theirs, t_seen = _clipped_training(torch)
    ft.reset_compile_stats()
    ours, o_seen = _clipped_training(ft)
    for mine, expected in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(o_seen, t_seen, rtol=1e-5)
    assert len(o_seen) == 2  # removed before the last step
    assert all(v <= 0.05 + 1e-7 for v in o_seen)  # hooks run in registration order


def _grad_cam(t):
    """Grad-CAM: the last convolution's activations (a forward hook) and their gradient
    (a tensor hook registered in it) weight the class map."""
    t.manual_seed(0)
    model = t.nn.Sequential(t.nn.Conv2d(1, 4, 3), t.nn.ReLU(), t.nn.Conv2d(4, 6, 3),
                            t.nn.ReLU(), t.nn.AdaptiveAvgPool2d(1), t.nn.Flatten(),
                            t.nn.Linear(6, 3))
    with t.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(t.tensor(np.random.default_rng(10 + i).uniform(-0.5, 0.5, tuple(p.shape))
                             .astype(np.float32)))
    store = {}

    def forward_hook(module, args, output):
        store["activations"] = output
        output.register_hook(lambda grad: store.__setitem__("gradients", grad))

    model[2].register_forward_hook(forward_hook)
    image = t.tensor(RNG_IMAGE, requires_grad=True)
    scores = model(image)
    scores[0, scores[0].argmax()].backward()
    weights = store["gradients"].mean(dim=(2, 3), keepdim=True)
    cam = t.relu((weights * store["activations"]).sum(dim=1))
    return cam.detach().numpy(), image.grad.numpy()


RNG_IMAGE = RNG.standard_normal((1, 1, 10, 10)).astype(np.float32)


def test_grad_cam_hooks_as_pytorch(torch):
    t_cam, t_grad = _grad_cam(torch)
    o_cam, o_grad = _grad_cam(ft)
    assert o_cam.shape == (1, 6, 6) and np.any(o_cam > 0)
    np.testing.assert_allclose(o_cam, t_cam, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(o_grad, t_grad, rtol=1e-4, atol=1e-6)


def test_refusals_name_the_reason(torch):
    for t in (torch, ft):
        plain = t.ones(3)
        with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has "
                           "requires_grad=False"):
            plain.retain_grad()
        with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that "
                           "doesn't require gradient"):
            plain.register_hook(print)
    x = ft.ones(3, requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: g * 0)  # a non-leaf hook changing the gradient: refused
    with pytest.raises(NotImplementedError, match="may read its gradient but not replace"):
        y.sum().backward()


def _rebound(t):
    # Grad-CAM as tutorials write it: the hooked activation's name is rebound at once
    store = []
    w = t.tensor(W, requires_grad=True)
    x = t.tensor(X) @ w
    x.register_hook(lambda g: store.append(g.numpy().copy()))
    x = t.relu(x).sum()
    x.backward()
    return store


def test_a_hook_runs_after_its_tensor_is_gone_as_pytorch(torch):
    theirs, ours = _rebound(torch), _rebound(ft)
    assert len(ours) == len(theirs) == 1
    np.testing.assert_allclose(ours[0], theirs[0])


class _Probe:
    """A module's backward hooks' arguments, as (name, grad_input sums, grad_output sums)."""

    def __init__(self, t, model):
        self.seen = []
        for name in ("conv", "fc"):
            getattr(model, name).register_full_backward_hook(self._hook(name))
        model.fc.register_full_backward_pre_hook(
            lambda m, go: self.seen.append(("fc pre", [tuple(g.shape) for g in go])))

    def _hook(self, name):
        def hook(module, grad_input, grad_output):
            self.seen.append((name, [None if g is None else float(g.sum()) for g in grad_input],
                              [float(g.abs().sum()) for g in grad_output]))
        return hook


def _module_hooks(t):
    class Net(t.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = t.nn.Conv2d(1, 2, 3)
            self.fc = t.nn.Linear(2 * 8 * 8, 3)

        def forward(self, x):
            h = t.relu(self.conv(x))
            return self.fc(h.flatten(1)) + h.mean()  # h is used outside fc as well

    model = Net()
    with t.no_grad():
        for name, p in model.named_parameters():
            p.copy_(t.tensor(np.random.default_rng(len(name)).standard_normal(
                tuple(p.shape)).astype(np.float32) * 0.3))
    probe = _Probe(t, model)
    image = t.tensor(RNG_IMAGE)
    calls = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for target in (image, image.clone().requires_grad_(True)):
            model(target)[:, 1].sum().backward()
            calls.append(sorted(probe.seen, key=lambda c: c[0]))
            probe.seen.clear()
    texts = {str(w.message)[:60] for w in caught if "Full backward hook" in str(w.message)}
    return calls, texts


def test_module_backward_hooks_see_pytorchs_gradients(torch):
    # grad_input is the gradient through the module alone (fc's input is also used by
    # h.mean()); an input that needs no gradient is None, with PyTorch's warning
    theirs, ours = _module_hooks(torch), _module_hooks(ft)
    assert ours[1] == theirs[1] and len(ours[1]) == 1
    for t_call, o_call in zip(theirs[0], ours[0], strict=True):
        assert [c[0] for c in o_call] == [c[0] for c in t_call] == ["conv", "fc", "fc pre"]
        for t_item, o_item in zip(t_call, o_call, strict=True):
            for t_values, o_values in zip(t_item[1:], o_item[1:], strict=True):
                if t_values and t_values[0] is not None and not isinstance(t_values[0], tuple):
                    np.testing.assert_allclose(o_values, t_values, rtol=1e-5, atol=1e-6)
                else:
                    assert o_values == t_values


def test_a_module_backward_hook_may_not_replace_gradients():
    layer = ft.nn.Linear(2, 2)
    layer.register_full_backward_hook(lambda m, gi, go: (gi[0] * 0,))
    with pytest.raises(NotImplementedError, match="full backward hook that returns new"):
        layer(ft.ones(1, 2, requires_grad=True)).sum().backward()


def test_reading_a_non_leafs_grad_warns_as_pytorch(torch):
    # y.grad after backward is None for a non-leaf, with PyTorch's hint to retain_grad()
    seen = []
    for t in (torch, ft):
        x = t.ones(2, requires_grad=True)
        y = x * 2
        kept = x * 3
        kept.retain_grad()
        (y + kept).sum().backward()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            values = (y.grad, x.grad.tolist(), kept.grad.tolist())
        texts = [str(w.message) for w in caught]
        seen.append((values, len(texts), texts[0][:300] if texts else ""))
    assert seen[1] == seen[0]
    assert seen[0][0][0] is None and seen[0][1] == 1


def _optimizer_in_backward(t):
    """PyTorch's "optimizer step in backward" recipe: an optimizer per parameter, stepped
    by the parameter's post-accumulate-grad hook."""
    model = t.nn.Sequential(t.nn.Linear(4, 5), t.nn.Tanh(), t.nn.Linear(5, 2))
    with t.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(t.tensor(np.random.default_rng(20 + i).uniform(-0.5, 0.5, tuple(p.shape))
                             .astype(np.float32)))
    optimizers = {p: t.optim.Adam([p], lr=0.05) for p in model.parameters()}
    calls = []

    def step_in_backward(p):
        calls.append(tuple(p.shape))
        assert p.grad is not None
        optimizers[p].step()
        optimizers[p].zero_grad()

    handles = [p.register_post_accumulate_grad_hook(step_in_backward)
               for p in model.parameters()]
    losses = []
    for _ in range(3):
        loss = t.nn.functional.cross_entropy(model(t.tensor(X)), t.tensor(RNG_Y))
        loss.backward()
        losses.append(loss.item())
    handles[0].remove()
    model(t.tensor(X)).sum().backward()  # the first weight keeps its gradient now
    assert model[0].weight.grad is not None and model[0].bias.grad is None
    return [p.detach().numpy().copy() for p in model.parameters()], losses, calls


def test_post_accumulate_grad_hooks_step_optimizers_in_backward_as_pytorch(torch):
    theirs, t_losses, t_calls = _optimizer_in_backward(torch)
    ours, o_losses, o_calls = _optimizer_in_backward(ft)
    np.testing.assert_allclose(o_losses, t_losses, rtol=1e-5)
    for mine, expected in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine, expected, rtol=1e-5, atol=1e-6)
    assert sorted(o_calls) == sorted(t_calls) and len(o_calls) == 4 * 3 + 3
    for T in (torch, ft):
        with pytest.raises(RuntimeError, match="post accumulate grad hooks cannot be "
                           "registered on non-leaf tensors"):
            (T.ones(2, requires_grad=True) * 2).register_post_accumulate_grad_hook(print)
        with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that "
                           "doesn't require gradient"):
            T.ones(2).register_post_accumulate_grad_hook(print)


def _retained_chain(t, call):
    """``y = 2x`` and ``w = 3y``, both retaining their gradient (y with a hook that
    records what it sees too), then ``call(t, z, x, y, w)`` of ``z = sum(w ** 2)``."""
    x1 = t.ones(3, requires_grad=True)
    x2 = t.ones(3, requires_grad=True)
    x = x1 * 1
    y = x * 2
    y.retain_grad()
    seen = []
    y.register_hook(lambda g: seen.append(g.tolist()))
    w = y * 3
    w.retain_grad()
    off = x2 * 4  # retained where no input reaches it: PyTorch's engine never visits it
    off.retain_grad()
    z = (w * w).sum() + (off * x1).sum()
    returned = call(t, z, x, y, w, x1)
    got = [None if g is None else (g.tolist(), g.requires_grad) for g in returned or ()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kept = [None if v.grad is None else (v.grad.tolist(), v.grad.requires_grad)
                for v in (y, w, off, x1)]
    return got, kept, seen


@pytest.mark.parametrize("call", [
    lambda t, z, x, y, w, x1: t.autograd.grad(z, y),
    lambda t, z, x, y, w, x1: t.autograd.grad(z, w),
    lambda t, z, x, y, w, x1: t.autograd.grad(z, [w, x]),
    lambda t, z, x, y, w, x1: t.autograd.grad(z, y, create_graph=True),
    lambda t, z, x, y, w, x1: t.autograd.grad(z, x1),
    lambda t, z, x, y, w, x1: z.backward(inputs=[y]),
    lambda t, z, x, y, w, x1: z.backward(inputs=[x1])])
def test_autograd_grad_fills_retained_gradients_on_its_way_as_pytorch(torch, call):
    # PyTorch's engine keeps the gradient of each retained tensor whose node it runs to
    # reach the inputs (the inputs' own included) and runs their hooks
    assert _retained_chain(ft, call) == _retained_chain(torch, call)


def test_saved_tensor_hooks_leave_the_gradients_as_pytorchs(torch):
    """``torch.autograd.graph``'s contexts: ``save_on_cpu`` and value-preserving
    ``saved_tensors_hooks`` give PyTorch's gradients (fnnet.torch does not call the hooks,
    and warns about it once); ``disable_saved_tensors_hooks`` refuses hooks inside it;
    every ``grad_fn`` is a ``Node``."""
    results = {}
    for t in (torch, ft):
        x = t.tensor(X, requires_grad=True)
        with t.autograd.graph.save_on_cpu():
            loss = (x.sin() @ t.tensor(W)).tanh().sum()
        loss.backward()
        first = x.grad.numpy().copy()
        x.grad = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with t.autograd.graph.saved_tensors_hooks(lambda s: s.clone(), lambda s: s):
                loss = (x.exp() * x).sum()
        loss.backward()
        assert isinstance(loss.grad_fn, t.autograd.graph.Node)
        with t.autograd.graph.disable_saved_tensors_hooks("no hooks in this block"), \
                pytest.raises(RuntimeError, match="no hooks in this block"), \
                t.autograd.graph.saved_tensors_hooks(lambda s: s, lambda s: s):
            pass
        results[t] = (first, x.grad.numpy())
    for ours, theirs in zip(results[ft], results[torch], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
