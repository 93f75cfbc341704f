"""fnnet.torch runs PyTorch training loops unchanged and matches PyTorch step by step.

Each loop is written once, as a function of the ``torch`` module, and run with real
PyTorch and with ``fnnet.torch`` from the same initial ``state_dict`` on the same
batches: the per-step losses and the final parameters agree within 1e-4 relative, and
the shim compiles each loop once per distinct structure.
"""

from __future__ import annotations

import numpy as np
import pytest

import fnnet.torch as ft

pytestmark = pytest.mark.torch

STEPS = 100
RTOL = 1e-4


@pytest.fixture(autouse=True, scope="module")
def _one_thread(torch):
    # the parity checks are about numbers; one thread is faster on a busy 2-core machine
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _data(shape, classes, n_batches=5, seed=0, regression=False):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_batches):
        x = rng.standard_normal(shape).astype(np.float32)
        if regression:
            y = rng.standard_normal(regression).astype(np.float32)
        else:
            y = rng.integers(0, classes, shape[0])
        out.append((x, y))
    return out


def _initial_state(torch, make_model):
    torch.manual_seed(0)
    return {k: v.detach().numpy().copy() for k, v in make_model(torch).state_dict().items()}


def _train(torch, make_model, make_opt, batches, sd, *, loss_fn="ce", steps=STEPS):
    model = make_model(torch)
    model.load_state_dict({k: torch.tensor(v) for k, v in sd.items()})
    model.train()
    opt = make_opt(torch, model)
    criterion = {"ce": torch.nn.CrossEntropyLoss(), "mse": torch.nn.MSELoss()}[loss_fn]
    losses = []
    for step in range(steps):
        x, y = batches[step % len(batches)]
        x, y = torch.tensor(x), torch.tensor(y)
        opt.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    params = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    return np.array(losses), params, model


def _compare(torch, make_model, make_opt, batches, *, loss_fn="ce", compiles=1):
    sd = _initial_state(torch, make_model)
    ref_losses, ref_params, _ = _train(torch, make_model, make_opt, batches, sd,
                                       loss_fn=loss_fn)
    ft.reset_compile_stats()
    losses, params, model = _train(ft, make_model, make_opt, batches, sd, loss_fn=loss_fn)
    np.testing.assert_allclose(losses, ref_losses, rtol=RTOL, atol=1e-6)
    assert sorted(params) == sorted(ref_params)
    for name in ref_params:
        np.testing.assert_allclose(params[name], ref_params[name], rtol=RTOL, atol=RTOL,
                                   err_msg=name)
    stats = ft.compile_stats()
    assert stats["compiles"] == compiles, stats["log"]
    assert stats["hits"] == STEPS - compiles
    return model


# -- (a) MLP without activations, x.view(-1, 784), CrossEntropyLoss, Adam -------------

def mlp_a(torch):
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, 128)
            self.fc2 = nn.Linear(128, 64)
            self.fc3 = nn.Linear(64, 10)

        def forward(self, x):
            x = x.view(-1, 784)
            return self.fc3(self.fc2(self.fc1(x)))

    return Net()


def test_a_mlp_adam(torch):
    _compare(torch, mlp_a, lambda t, m: t.optim.Adam(m.parameters(), lr=1e-3),
             _data((16, 1, 28, 28), 10))


# -- (b) MLP with torch.relu, SGD -------------------------------------------------------

def mlp_b(torch):
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, 64)
            self.fc2 = nn.Linear(64, 64)
            self.fc3 = nn.Linear(64, 10)

        def forward(self, x):
            x = x.view(-1, 784)
            x = torch.relu(self.fc1(x))
            x = torch.relu(self.fc2(x))
            return self.fc3(x)

    return Net()


def test_b_mlp_relu_sgd(torch):
    _compare(torch, mlp_b, lambda t, m: t.optim.SGD(m.parameters(), lr=0.01),
             _data((16, 1, 28, 28), 10))


# -- (c) torch.flatten(x, 1), 784-128-10, SGD ---------------------------------------------

def mlp_c(torch):
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = torch.flatten(x, 1)
            return self.fc2(torch.relu(self.fc1(x)))

    return Net()


def test_c_flatten_sgd(torch):
    _compare(torch, mlp_c, lambda t, m: t.optim.SGD(m.parameters(), lr=0.01),
             _data((16, 1, 28, 28), 10))


# -- (d) LinearRegression, MSELoss, SGD(0.01), then predict under no_grad ------------------

def linear_regression(torch):
    class LinearRegression(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(1, 1)

        def forward(self, x):
            return self.linear(x)

    return LinearRegression()


def test_d_linear_regression(torch):
    x = np.array([[1.0], [2.0], [3.0]], np.float32)
    batches = [(x, 2 * x)]
    model = _compare(torch, linear_regression,
                     lambda t, m: t.optim.SGD(m.parameters(), lr=0.01), batches,
                     loss_fn="mse")
    ref = linear_regression(torch)
    ref.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    with torch.no_grad():
        expected = ref(torch.tensor([[4.0]])).item()
    with ft.no_grad():
        predicted = model(ft.tensor([[4.0]]))
    assert not predicted.requires_grad
    assert predicted.item() == pytest.approx(expected, rel=1e-5)
    assert ft.compile_stats()["compiles"] == 2  # the training step, then the prediction
    assert ft.compile_stats()["log"][1]["reason"] == "value"
    with ft.no_grad():
        untrained = linear_regression(ft)
        untrained.load_state_dict({k: ft.tensor(v) for k, v in
                                   _initial_state(torch, linear_regression).items()})
        before = untrained(ft.tensor([[4.0]])).item()
    assert abs(predicted.item() - 8.0) < abs(before - 8.0)  # it is learning y = 2x


# -- (e) Conv2d(1,20,5) -> relu -> Conv2d(20,20,5), MSELoss, SGD momentum ---------------

def conv_e(torch):
    nn, F = torch.nn, torch.nn.functional

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 20, 5)
            self.conv2 = nn.Conv2d(20, 20, 5)

        def forward(self, x):
            return self.conv2(F.relu(self.conv1(x)))

    return Model()


def test_e_conv_momentum(torch):
    batches = _data((1, 1, 32, 32), 0, regression=(1, 20, 24, 24))
    _compare(torch, conv_e, lambda t, m: t.optim.SGD(m.parameters(), lr=0.01, momentum=0.9),
             batches, loss_fn="mse")


# -- (f) LeNet-5 with F.max_pool2d and x.view(-1, 16*5*5), SGD(lr=0.001) ----------------

def lenet(torch):
    nn, F = torch.nn, torch.nn.functional

    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = x.view(-1, 16 * 5 * 5)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)

    return LeNet()


def test_f_lenet(torch):
    _compare(torch, lenet, lambda t, m: t.optim.SGD(m.parameters(), lr=0.001),
             _data((4, 1, 32, 32), 10))


# -- (g) BatchNorm2d + Dropout trained in train(), evaluated in eval() -------------------

def bn_dropout(torch, p=0.0):
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(p), nn.Flatten(),
        nn.Linear(4 * 6 * 6, 10))


def test_g_batchnorm_dropout_train_eval(torch):
    batches = _data((8, 1, 8, 8), 10)
    model = _compare(torch, bn_dropout,
                     lambda t, m: t.optim.SGD(m.parameters(), lr=0.05, momentum=0.9),
                     batches)
    ref = bn_dropout(torch)
    ref.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    assert "1.running_mean" in model.state_dict()
    ref.eval()
    model.eval()
    x = batches[0][0]
    with torch.no_grad():
        expected = ref(torch.tensor(x)).numpy()
    with ft.no_grad():
        got = model(ft.tensor(x)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    # eval() switches BatchNorm to its running statistics: the output differs from train()
    model.train()
    with ft.no_grad():
        train_out = model(ft.tensor(x)).numpy()
    assert not np.allclose(train_out, got, atol=1e-3)


def test_g_dropout_rate_and_eval():
    ft.manual_seed(0)
    drop = ft.nn.Dropout(p=0.3)
    x = ft.ones(200, 100)
    y = drop(x).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.02
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    # a fresh mask each call (the step key advances)
    assert not np.array_equal(kept, drop(x).numpy() != 0)
    drop.eval()
    np.testing.assert_array_equal(drop(x).numpy(), x.numpy())


def test_g_dropout_gives_back_its_input_where_it_drops_nothing(torch):
    # PyTorch's dropout returns the input tensor itself in eval mode and with p=0
    for lib in (torch, ft):
        x = lib.ones(3, requires_grad=True)
        assert lib.nn.Dropout(0.5).eval()(x) is x
        assert lib.nn.Dropout(0.0)(x) is x
        assert lib.nn.Dropout(0.5)(x) is not x


# -- (h) gradient accumulation over two backward calls, then clip_grad_norm_ -----------

def _accumulate_loop(torch, sd, batches, steps=STEPS):
    model = mlp_b(torch)
    model.load_state_dict({k: torch.tensor(v) for k, v in sd.items()})
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    criterion = torch.nn.CrossEntropyLoss()
    losses, norms = [], []
    for step in range(steps):
        opt.zero_grad()
        total = 0.0
        for x, y in (batches[step % len(batches)], batches[(step + 1) % len(batches)]):
            loss = criterion(model(torch.tensor(x)), torch.tensor(y)) / 2
            loss.backward()
            total = total + loss.detach()
        norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)))
        opt.step()
        losses.append(float(total))
    return np.array(losses), np.array(norms), {
        k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def test_h_accumulation_and_clipping(torch):
    batches = _data((16, 1, 28, 28), 10)
    sd = _initial_state(torch, mlp_b)
    ref = _accumulate_loop(torch, sd, batches)
    ft.reset_compile_stats()
    got = _accumulate_loop(ft, sd, batches)
    np.testing.assert_allclose(got[0], ref[0], rtol=RTOL, atol=1e-6)
    np.testing.assert_allclose(got[1], ref[1], rtol=RTOL, atol=1e-6)
    assert (ref[1] > 0.5).any()  # clipping was active
    for name in ref[2]:
        np.testing.assert_allclose(got[2][name], ref[2][name], rtol=RTOL, atol=1e-5)


def test_h_grad_readable_and_editable_before_step(torch):
    sd = _initial_state(torch, mlp_c)
    x, y = _data((16, 1, 28, 28), 10)[0]
    results = []
    for t in (torch, ft):
        model = mlp_c(t)
        model.load_state_dict({k: t.tensor(v) for k, v in sd.items()})
        opt = t.optim.SGD(model.parameters(), lr=0.1)
        loss = t.nn.functional.cross_entropy(model(t.tensor(x)), t.tensor(y))
        loss.backward()
        grad = model.fc1.weight.grad.detach().numpy().copy()
        model.fc2.bias.grad = model.fc2.bias.grad * 0  # edits between backward and step
        opt.step()
        results.append((grad, model.fc2.bias.detach().numpy().copy(),
                        model.fc1.weight.detach().numpy().copy()))
    for got, ref in zip(results[1], results[0], strict=True):
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(results[1][1], sd["fc2.bias"])  # zeroed grad: no update


# -- (i) DataLoader with a short last batch, same index order --------------------------

def _loader_loop(torch, sd, x, y, order, epochs=5):
    data = torch.utils.data
    loader = data.DataLoader(data.TensorDataset(torch.tensor(x), torch.tensor(y)),
                             batch_size=16, sampler=order)
    model = mlp_c(torch)
    model.load_state_dict({k: torch.tensor(v) for k, v in sd.items()})
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    criterion = torch.nn.CrossEntropyLoss()
    losses = []
    for _ in range(epochs):
        for xb, yb in loader:
            opt.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return np.array(losses), len(loader)


def test_i_dataloader_parity(torch):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((300, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 300)
    order = torch.randperm(300, generator=torch.Generator().manual_seed(0)).tolist()
    sd = _initial_state(torch, mlp_c)
    ref, n_ref = _loader_loop(torch, sd, x, y, order)
    ft.reset_compile_stats()
    got, n_got = _loader_loop(ft, sd, x, y, order)
    assert n_got == n_ref == 19  # 18 full batches and one of 12
    assert len(got) == STEPS - 5 == len(ref)
    np.testing.assert_allclose(got, ref, rtol=RTOL)
    stats = ft.compile_stats()
    assert stats["compiles"] == 2  # batches of 16 and the last batch of 12
    assert "input" in " ".join(stats["log"][1]["changes"])
