"""Training loops past the plain one, against PyTorch in the same process: gradients taken
with ``autograd.grad`` in the middle of a step (a saliency map, a gradient penalty, MAML's
inner loop through functional parameters), backward with ``inputs=``, and loops that
meet an exception halfway and go on."""

from __future__ import annotations

import collections
import signal
import warnings

import numpy as np
import pytest
from helpers import raised_by

import fnnet.torch as ft
from fnnet.torch import _cache, _interrupts

pytestmark = pytest.mark.torch

RNG = np.random.default_rng(3)
X = RNG.standard_normal((6, 3)).astype(np.float32)
W1 = RNG.uniform(-0.5, 0.5, (8, 3)).astype(np.float32)
B1 = RNG.uniform(-0.5, 0.5, 8).astype(np.float32)
W2 = RNG.uniform(-0.5, 0.5, (1, 8)).astype(np.float32)
B2 = RNG.uniform(-0.5, 0.5, 1).astype(np.float32)


def _net(T):
    net = T.nn.Sequential(T.nn.Linear(3, 8), T.nn.Tanh(), T.nn.Linear(8, 1))
    with T.no_grad():
        for p, value in zip(net.parameters(), (W1, B1, W2, B2), strict=True):
            p.copy_(T.tensor(value))
    return net


def _close(ours, theirs):
    for mine, expected in zip(ours, theirs, strict=True):
        if expected is None or isinstance(expected, (bool, str)):
            assert mine == expected
        else:
            np.testing.assert_allclose(mine, expected, rtol=2e-5, atol=1e-6)


def _saliency_in_a_step(T):
    """A step that takes the input's gradient before its own backward: the parameters'
    ``.grad`` and their hooks must see only the step's backward."""
    net = _net(T)
    seen = []
    net[0].weight.register_hook(lambda g: seen.append(float(g.abs().sum())))
    x = T.tensor(X, requires_grad=True)
    out = net(x).sum()
    (saliency,) = T.autograd.grad(out, x, retain_graph=True)
    untouched = [p.grad is None for p in net.parameters()]
    out.backward()
    return (saliency.numpy(), str(untouched), net[0].weight.grad.numpy(), x.grad.numpy(),
            np.array(seen))


def test_grad_leaves_every_other_leaf_as_torch(torch):
    _close(_saliency_in_a_step(ft), _saliency_in_a_step(torch))


def _of_recorded_values(T):
    x = T.tensor(X[0], requires_grad=True)
    y = x * 2
    z = (y * y).sum() + (x ** 3).sum()
    both = T.autograd.grad(z, [y, x], retain_graph=True)  # x reaches z through y too
    (own,) = T.autograd.grad(z, z, retain_graph=True)
    (vec,) = T.autograd.grad(y, y, T.ones(3) * 3)
    part = (x * 4).split([1, 2])
    pieces = T.autograd.grad((part[0] * part[1][0]).sum(), list(part))
    s = x.sin()
    (gs,) = T.autograd.grad((s ** 3).sum(), s, create_graph=True)
    gs.sum().backward()  # the second derivative through the non-leaf's history
    return (*(g.numpy() for g in both), own.numpy(), vec.numpy(),
            *(g.detach().numpy() for g in pieces), x.grad.numpy())


def test_grad_of_recorded_values_as_torch(torch):
    _close(_of_recorded_values(ft), _of_recorded_values(torch))


def test_grad_of_an_unused_recorded_value_names_its_index_as_torch(torch):
    def unused(T):
        x = T.ones(2, requires_grad=True)
        y = x * 2
        T.autograd.grad(x.exp().sum(), [x, y])

    theirs, ours = raised_by(unused, torch, ft)
    assert ours == theirs


def _maml(T, first_order):
    """Three outer steps of MAML on a sine task: two inner steps through
    ``torch.func.functional_call`` with differentiable (or, first-order, detached)
    gradients of the fast weights, then an outer Adam step."""
    net = _net(T)
    meta = T.optim.Adam(net.parameters(), lr=1e-2)
    xs = T.tensor(X[:, :1])
    out = []
    for it in range(3):
        meta.zero_grad()
        params = dict(net.named_parameters())
        x = T.cat([xs, xs, xs], 1) * (it + 1)
        for _ in range(2):
            loss = ((T.func.functional_call(net, params, (x,)) - T.sin(x[:, :1])) ** 2).mean()
            grads = T.autograd.grad(loss, list(params.values()),
                                    create_graph=not first_order)
            params = {k: v - 0.1 * g for (k, v), g in zip(params.items(), grads, strict=True)}
        query = (T.func.functional_call(net, params, (x + 0.1,)) ** 2).mean()
        query.backward()
        meta.step()
        out += [query.item(), net[0].weight.grad.numpy().copy(),
                net[2].bias.detach().numpy().copy()]
    return out


@pytest.mark.parametrize("first_order", [False, True])
def test_maml_through_functional_parameters_as_torch(torch, first_order):
    _close(_maml(ft, first_order), _maml(torch, first_order))


def _backward_of_some(T):
    """``backward(inputs=...)``: a head trained alone while the body's ``.grad`` stays,
    a recorded value's gradient kept, a leaf's hooks applied."""
    net = _net(T)
    posts = []
    net[2].weight.register_post_accumulate_grad_hook(lambda p: posts.append(p.grad.sum()))
    net[2].bias.register_hook(lambda g: g * 10)
    for _ in range(2):
        net(T.tensor(X)).pow(2).mean().backward(inputs=[net[2].weight, net[2].bias])
    x = T.ones(2, requires_grad=True)
    y = x * 2
    T.autograd.backward([(y * y).sum()], inputs=y)
    return (str(net[0].weight.grad), net[2].weight.grad.numpy(), net[2].bias.grad.numpy(),
            np.array([float(p) for p in posts]), str(x.grad), y.grad.numpy(), y.retains_grad)


def test_backward_with_inputs_as_torch(torch):
    _close(_backward_of_some(ft), _backward_of_some(torch))


@pytest.mark.parametrize("inputs", ["empty", "constant"])
def test_backward_with_bad_inputs_refuses_as_torch(torch, inputs):
    def bad(T):
        w = T.ones(2, requires_grad=True)
        (w * 3).sum().backward(inputs=[] if inputs == "empty" else [T.ones(2)])

    theirs, ours = raised_by(bad, torch, ft)
    assert ours == theirs


def _phases(T, sizes):
    """SGD on a linear model, one batch of each size in ``sizes`` (phases of changing
    and of steady shapes); the losses and final weights."""
    model = T.nn.Linear(3, 1)
    with T.no_grad():
        model.weight.copy_(T.tensor(W2[:, :3]))
        model.bias.zero_()
    opt = T.optim.SGD(model.parameters(), lr=0.05)
    data = T.tensor(np.resize(X, (16, 3)))
    losses = []
    for n in sizes:
        loss = model(data[:n]).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return np.array(losses), model.weight.detach().numpy().copy()


def test_a_loop_that_settles_after_changing_shapes_compiles_again(torch, recorder):
    """Batches of a new size at every step (an evaluation pass over sequences of many
    lengths) make the recorder fall back to op by op; the steady loop after it compiles
    again once its structure repeats, and a second burst of shapes warns no more."""
    sizes = [*range(1, 6), *[6] * 24, *range(7, 12), *[12] * 24]
    recorder.options.eager_after = 2
    recorder.recent = collections.deque(maxlen=16)  # the flushes that decide, fewer
    with pytest.warns(RuntimeWarning, match="op by op") as caught:
        ours = _phases(ft, sizes)
    assert len(caught) == 1
    _close(ours, _phases(torch, sizes))
    stats = ft.compile_stats()
    # one flush a step: 16 steps op by op, then the rest of each steady phase compiled
    assert not stats["eager"] and stats["hits"] >= 8, stats


def _sgd_steps(T, interrupt_at=None):
    """Four SGD steps; where ``interrupt_at`` is given, a SIGINT arrives as that step's
    compiled program returns (before its results are stored) and the loop goes on."""
    net = _net(T)
    opt = T.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    losses, interrupted = [], []
    for step in range(4):
        if interrupt_at is not None:
            interrupt_at.append(step == 2)
        try:
            loss = net(T.tensor(X)).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        except KeyboardInterrupt:
            interrupted.append(step)
    return [*(p.detach().numpy().copy() for p in net.parameters()), str(interrupted)]


def test_an_interrupt_as_a_step_returns_leaves_the_model_whole(torch, monkeypatch):
    """Ctrl-C landing right after a step that donated the parameters' buffers ran: the
    step's results are stored before the KeyboardInterrupt is raised (the parameters
    read deleted buffers otherwise), and the loop goes on from them."""
    arm: list[bool] = []
    compiled = _cache.compiled

    def interrupting(*args, **kwargs):
        fn = compiled(*args, **kwargs)

        def run(*sources):
            out = fn(*sources)
            if arm and arm[-1] and args[3]:  # a program that donates
                arm[-1] = False
                signal.raise_signal(signal.SIGINT)
            return out

        return run

    monkeypatch.setattr(_cache, "compiled", interrupting)
    # Python's own handler, which a test runner's worker may have replaced
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    monkeypatch.setattr(_interrupts.DEFERRED, "tried", False)
    monkeypatch.setattr(_interrupts.DEFERRED, "previous", None)
    try:
        ours = _sgd_steps(ft, arm)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert ours[-1] == "[2]"
    _close(ours[:-1], _sgd_steps(torch)[:-1])


def _logged_norms(T, steps=12):
    """A loop keeping the weights' norm of every step in a list, its graph alive (not
    part of the loss), as a logging callback may; then a backward through an old one."""
    net = _net(T)
    opt = T.optim.SGD(net.parameters(), lr=0.1)
    norms = []
    for _ in range(steps):
        loss = net(T.tensor(X)).pow(2).mean()
        norms.append(sum(p.pow(2).sum() for p in net.parameters()))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return T.stack(norms).detach().numpy(), net[0].weight.detach().numpy().copy(), norms


def test_graphs_kept_over_the_steps_compile_no_step_again(torch, recorder):
    """Each norm's graph reads weights an optimizer step has since overwritten: no
    backward can use it (PyTorch's finds them modified in place), and carrying all of
    them into every step made each step a new structure (a compile per step)."""
    *ours, norms = _logged_norms(ft)
    _close(ours, _logged_norms(torch)[:2])
    assert ft.compile_stats()["compiles"] <= 4, ft.compile_stats()["log"]
    # left on the tape: the last norm's graph (its weights overwritten once) and the
    # stack that read them all, not the twelve norms' graphs (13 nodes each)
    assert sum(node.op is not None for node in recorder.tape.nodes) <= 16
    theirs, mine = raised_by(lambda T: norms[0].backward() if T is ft else
                             _logged_norms(T, 2)[2][0].backward(), torch, ft)
    assert mine[0] is theirs[0] is RuntimeError


def test_values_read_at_many_shapes_fall_back_without_a_warning(recorder):
    """An exploratory script (or an evaluation pass) reading values of many shapes runs
    op by op without the fallback's advice, which is for a training loop."""
    recorder.options.eager_after = 2
    x = ft.tensor(np.resize(X, (12, 3)))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        means = [x[:n].mean().item() for n in range(1, 9)]
    np.testing.assert_allclose(means, [np.resize(X, (12, 3))[:n].mean() for n in range(1, 9)],
                               rtol=1e-6)
    assert ft.compile_stats()["eager"]


def _adversarial(T, steps=5):
    """Adversarial training: a three-step attack on the input through autograd.grad,
    the attacked input made a leaf again each time (``x.detach().requires_grad_()``),
    then a training step on it without zero_grad between the two."""
    net = _net(T)
    opt = T.optim.SGD(net.parameters(), lr=0.05)
    data, out = T.tensor(np.resize(X, (12, 3))), []
    for step in range(steps):
        x = data[step:step + 6]
        opt.zero_grad()
        x_adv = x.clone().detach().requires_grad_(True)
        for _ in range(3):
            (g,) = T.autograd.grad(net(x_adv).pow(2).mean(), x_adv)
            x_adv = (x_adv + 0.05 * g.sign()).clamp(x - 0.1, x + 0.1).detach()
            x_adv.requires_grad_(True)
        loss = net(x_adv).pow(2).mean()
        loss.backward()
        opt.step()
        out += [loss.item(), net[0].weight.grad.numpy().copy()]
    return out


def test_adversarial_training_as_torch_compiles_its_step_once(torch, recorder):
    """Each attacked input, a leaf made of a value computed with grad, kept its attack's
    graph in every later step (a compile per step, the tape growing)."""
    _close(_adversarial(ft), _adversarial(torch))
    assert ft.compile_stats()["compiles"] <= 6, ft.compile_stats()["log"]


def _two_tasks(T):
    """Two heads on one body, each task's optimizer stepped in turn: the second loss is
    backpropagated after the first optimizer overwrote the body, as PyTorch allows where
    its backward saved none of the body's weights."""
    body, head1, head2 = _net(T)[0], T.nn.Linear(8, 1), T.nn.Linear(8, 1)
    with T.no_grad():
        for head, value in ((head1, W2), (head2, -W2)):
            head.weight.copy_(T.tensor(value))
            head.bias.zero_()
    opt1 = T.optim.SGD([*body.parameters(), *head1.parameters()], lr=0.1)
    opt2 = T.optim.SGD(head2.parameters(), lr=0.1)
    out = []
    for _ in range(3):
        z = T.relu(body(T.tensor(X)))
        loss1, loss2 = head1(z).pow(2).mean(), head2(z).pow(2).mean()
        opt1.zero_grad()
        loss1.backward(retain_graph=True)
        opt1.step()
        opt2.zero_grad()
        loss2.backward()
        opt2.step()
        out += [loss2.item(), head2.weight.detach().numpy().copy(), body.weight.grad.numpy()]
    return out


def test_a_second_task_backpropagated_after_the_first_steps_as_torch(torch):
    _close(_two_tasks(ft), _two_tasks(torch))


def _freezing_layers(T):
    """Adam over both layers, one layer frozen at a time (``requires_grad_(False)``, the
    optimizer left as it is) and unfrozen again: the steps update the others."""
    net = _net(T)
    opt = T.optim.Adam(net.parameters(), lr=0.05)
    out = []
    for step in range(6):
        net[0].requires_grad_(step not in (1, 2))
        net[2].requires_grad_(step not in (3, 4))
        opt.zero_grad()
        loss = net(T.tensor(X)).pow(2).mean()
        loss.backward()
        opt.step()
        out.append(loss.item())
    return [np.array(out), *(p.detach().numpy().copy() for p in net.parameters())]


def test_freezing_a_layer_midway_steps_the_others_as_torch(torch):
    """The step of another set of parameters with gradients reused the plan of an
    earlier set of as many, whose optimizer state had other shapes (a ValueError)."""
    _close(_freezing_layers(ft), _freezing_layers(torch))


def _episodes(T, lengths):
    """REINFORCE's update: one ``Categorical`` log-probability kept per action of an
    episode (the actions fixed), all backpropagated at the episode's end."""
    net = _net(T)
    head = T.nn.Linear(1, 2)
    with T.no_grad():
        head.weight.copy_(T.tensor([[0.5], [-0.5]]))
        head.bias.zero_()
    opt = T.optim.Adam([*net.parameters(), *head.parameters()], lr=0.05)
    out = []
    for length in lengths:
        log_probs = []
        for t in range(length):
            probs = T.softmax(head(net(T.tensor(X[t % 6:t % 6 + 1]))), dim=-1)
            m = T.distributions.Categorical(probs)
            action = int(probs[0, 0].item() < 0.5)
            log_probs.append(m.log_prob(T.tensor([action])))
        returns = T.linspace(1.0, 0.0, length)
        loss = -(T.cat(log_probs) * returns).sum() + T.stack(log_probs, 1).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        out += [loss.item(), net[0].weight.grad.numpy().copy()]
        opt.step()
    return [*out, *(p.detach().numpy().copy() for p in net.parameters())]


def test_an_episodes_repeated_log_probabilities_are_one_vmapped_body(torch, monkeypatch):
    """Each action's log-probability is the same computation of other inputs: the
    episode's backward traces it once, vmapped over the actions, and joins them
    (``cat``, ``stack``) from the stacked values, so that its program (compiled once
    per episode length) does not grow with the length."""
    from fnnet.torch import _repeats

    copies = []
    run = _repeats.run

    def counting(body, *args):
        copies.append(len(body.nodes))
        return run(body, *args)

    monkeypatch.setattr(_repeats, "run", counting)
    lengths = [5, 9, 5]
    _close(_episodes(ft, lengths), _episodes(torch, lengths))
    assert copies == [5, 9], copies  # the third episode runs the first one's program
