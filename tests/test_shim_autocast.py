"""``torch.autocast`` on the CPU: the ops PyTorch lowers to bfloat16 (or float16), the ones
it runs in float32, and the rest, which keep their inputs' dtypes; against real PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import fnnet.torch as ft

pytestmark = pytest.mark.torch

_RNG = np.random.default_rng(0)
X = _RNG.standard_normal((4, 6)).astype(np.float32)
W = _RNG.standard_normal((5, 6)).astype(np.float32)
B = _RNG.standard_normal(5).astype(np.float32)
IMAGE = _RNG.standard_normal((1, 2, 6, 6)).astype(np.float32)
KERNEL = _RNG.standard_normal((3, 2, 3, 3)).astype(np.float32)
LABELS = np.array([0, 4, 2, 1])

OPS = {
    "linear": lambda T, x: T.nn.functional.linear(x, T.tensor(W), T.tensor(B)),
    "matmul": lambda T, x: x @ T.tensor(W).T,
    "mm": lambda T, x: T.mm(x, T.tensor(W).T),
    "bmm": lambda T, x: T.bmm(x[None], T.tensor(W).T[None]),
    "addmm": lambda T, x: T.addmm(T.tensor(B), x, T.tensor(W).T),
    "mv (float32 on the CPU)": lambda T, x: T.mv(x, T.tensor(W)[0]),
    "conv2d": lambda T, x: T.nn.functional.conv2d(T.tensor(IMAGE), T.tensor(KERNEL)),
    "attention": lambda T, x: T.nn.functional.scaled_dot_product_attention(
        x[None], x[None], x[None]),
    "relu of a product": lambda T, x: T.relu(x @ T.tensor(W).T),
    "sum of a product": lambda T, x: (x @ T.tensor(W).T).sum(),
    "softmax of a product": lambda T, x: T.softmax(x @ T.tensor(W).T, dim=1),
    "layer_norm of a product": lambda T, x: T.nn.functional.layer_norm(
        x @ T.tensor(W).T, (5,)),
    "a product plus a float32 tensor": lambda T, x: x @ T.tensor(W).T + T.tensor(B),
    "cross_entropy of a product": lambda T, x: T.nn.functional.cross_entropy(
        x @ T.tensor(W).T, T.tensor(LABELS)),
    "mse_loss of a product": lambda T, x: T.nn.functional.mse_loss(
        x @ T.tensor(W).T, T.zeros(4, 5)),
    "exp": lambda T, x: x.exp(),
    "a float32 elementwise op": lambda T, x: x * 2 + 1,
}


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", list(OPS))
def test_autocast_gives_each_op_pytorchs_dtype_and_values(name, dtype):
    def run(T):
        with T.autocast("cpu", dtype=getattr(T, dtype)):
            out = OPS[name](T, T.tensor(X))
        return out.dtype, out.float().numpy()

    (ours_dtype, ours), (theirs_dtype, theirs) = run(ft), run(torch)
    assert str(ours_dtype) == str(theirs_dtype)
    # half precision keeps about three significant digits; sums may round otherwise
    np.testing.assert_allclose(ours, theirs, rtol=2e-2, atol=2e-2)


LAYERS = {
    "Linear": (lambda T: T.nn.Linear(64, 32), (16, 64)),
    "Conv1d": (lambda T: T.nn.Conv1d(3, 8, 3), (2, 3, 12)),
    "Conv2d": (lambda T: T.nn.Conv2d(3, 8, 3, padding=1), (2, 3, 12, 12)),
    "Conv3d": (lambda T: T.nn.Conv3d(3, 4, 2), (1, 3, 5, 5, 5)),
    "ConvTranspose2d": (lambda T: T.nn.ConvTranspose2d(3, 4, 3, stride=2), (2, 3, 6, 6)),
}


@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize("how", ["autocast", "bfloat16 model"])
def test_a_half_precision_layer_rounds_as_pytorchs_kernel(name, how):
    """Summed in float32 with the bias and rounded once to bfloat16: bit for bit, as
    PyTorch's float32 kernel on the bfloat16 values rounds it, and as PyTorch's bfloat16
    kernel gives it on CPUs where oneDNN sums in float32 (on CPUs without AVX-512
    bfloat16 its transposed convolution rounds along the way: 40% of the values differ
    there, by up to several units, so only the rule is checked)."""
    build, shape = LAYERS[name]
    inputs = np.random.default_rng(2).standard_normal(shape).astype(np.float32)

    def run(T):
        T.manual_seed(0)
        layer = build(T)
        if how == "autocast":
            with T.autocast("cpu", dtype=T.bfloat16):
                out = layer(T.tensor(inputs))
        else:
            out = layer.bfloat16()(T.tensor(inputs).bfloat16())
        assert str(out.dtype) == "torch.bfloat16"
        return out.detach().float().numpy()

    torch.manual_seed(0)
    layer = build(torch).bfloat16().float()  # the weights rounded, computed in float32
    with torch.no_grad():
        rounded_once = layer(torch.tensor(inputs).bfloat16().float()).bfloat16()
    ours, theirs = run(ft), run(torch)
    np.testing.assert_array_equal(ours, rounded_once.float().numpy())
    if np.array_equal(theirs, rounded_once.float().numpy()):  # PyTorch's kernel sums so
        np.testing.assert_array_equal(ours, theirs)


#: elementwise math of half-precision tensors that PyTorch's CPU kernels compute in
#: float32 and round once (a number multiplying a tensor keeps its float32 value)
HALF_MATH = {
    "gelu": lambda T, x: T.nn.functional.gelu(x),
    "gelu tanh": lambda T, x: T.nn.functional.gelu(x, approximate="tanh"),
    "silu": lambda T, x: T.nn.functional.silu(x),
    "softplus": lambda T, x: T.nn.functional.softplus(x),
    "mish": lambda T, x: T.nn.functional.mish(x),
    "elu": lambda T, x: T.nn.functional.elu(x),
    "selu": lambda T, x: T.nn.functional.selu(x),
    "logsigmoid": lambda T, x: T.nn.functional.logsigmoid(x),
    "hardswish": lambda T, x: T.nn.functional.hardswish(x),
    "leaky_relu": lambda T, x: T.nn.functional.leaky_relu(x, 0.01),
    "times a number": lambda T, x: x * 3.3,
    "a number times": lambda T, x: 0.1 * x,
    "a number divided": lambda T, x: 3.3 / x,
    "mul_": lambda T, x: x.clone().mul_(1 / 3),
}


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", list(HALF_MATH))
def test_half_precision_elementwise_math_rounds_as_pytorchs_kernels(name, dtype):
    # from -2 on: further down, 1 + erf(x / sqrt(2)) cancels to a few bits in float32,
    # and PyTorch's erf and XLA's differ in those (PyTorch's is -1 exactly from -5.5)
    x = np.random.default_rng(3).uniform(-2, 4, 256).astype(np.float32)

    def run(T):
        out = HALF_MATH[name](T, T.tensor(x).to(getattr(T, dtype)))
        assert str(out.dtype) == f"torch.{dtype}"
        return out.float().numpy()

    np.testing.assert_array_equal(run(ft), run(torch))


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", ["softmax", "softmax over the first dim", "attention",
                                  "sigmoid", "tanh"])
def test_half_precision_softmax_gradients_round_as_pytorchs_kernels(name, dtype):
    """PyTorch's softmax, sigmoid and tanh backward read the rounded output they saved
    (attention scores under autocast, a bfloat16 model's): differentiating through the
    float32 function rounded afterwards gave other values in about half of the
    gradient."""
    rng = np.random.default_rng(4)
    x = rng.uniform(-3, 3, (8, 16)).astype(np.float32)
    grad = rng.standard_normal((8, 16)).astype(np.float32)
    ops = {"softmax": lambda T, t: T.softmax(t, -1),
           "softmax over the first dim": lambda T, t: T.nn.functional.softmax(t, 0),
           "attention": lambda T, t: T.softmax(t @ t.t() * 0.25, -1) @ t,
           "sigmoid": lambda T, t: T.sigmoid(t), "tanh": lambda T, t: t.tanh()}

    def run(T):
        t = T.tensor(x).to(getattr(T, dtype)).requires_grad_()
        out = ops[name](T, t)
        out.backward(T.tensor(grad).to(out.dtype))
        return out.float().detach().numpy(), t.grad.float().numpy()

    for ours, theirs in zip(run(ft), run(torch), strict=True):
        np.testing.assert_array_equal(ours, theirs)


def _training(T, steps=5):
    T.manual_seed(1)
    model = T.nn.Sequential(T.nn.Linear(6, 16), T.nn.ReLU(), T.nn.Linear(16, 5))
    optimizer = T.optim.SGD(model.parameters(), lr=0.1)
    x, y = T.tensor(X), T.tensor(LABELS)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        with T.autocast("cpu", dtype=T.bfloat16):
            logits = model(x)
            loss = T.nn.functional.cross_entropy(logits, y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    dtypes = [str(logits.dtype), str(loss.dtype), str(model[0].weight.dtype),
              str(model[0].weight.grad.dtype)]
    return np.array(losses), dtypes, [p.detach().numpy() for p in model.parameters()]


@pytest.mark.slow
def test_a_training_loop_under_autocast_trains_as_pytorchs():
    ft.reset_compile_stats()
    ours = _training(ft)
    compiles = ft.compile_stats()["compiles"]
    theirs = _training(torch)
    assert ours[1] == theirs[1] == ["torch.bfloat16", "torch.float32", "torch.float32",
                                    "torch.float32"]
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-2)
    for mine, expected in zip(ours[2], theirs[2], strict=True):
        np.testing.assert_allclose(mine, expected, rtol=2e-2, atol=2e-3)
    assert compiles <= 3  # the loop's one structure (and its split forward pass)


def test_a_disabled_region_or_another_devices_casts_nothing():
    for T in (torch, ft):
        with T.autocast("cpu", dtype=T.bfloat16, enabled=False):
            assert str(OPS["linear"](T, T.tensor(X)).dtype) == "torch.float32"
        with pytest.warns(UserWarning, match="CUDA is not available"):
            region = T.autocast("cuda", dtype=T.float16)  # no GPU: disabled
        with region:
            assert str(OPS["linear"](T, T.tensor(X)).dtype) == "torch.float32"


def test_an_inner_disabled_region_runs_in_float32_as_pytorchs():
    def run(T):
        with T.autocast("cpu", dtype=T.bfloat16):
            outer = OPS["matmul"](T, T.tensor(X))
            with T.autocast("cpu", enabled=False):
                inner = OPS["matmul"](T, T.tensor(X))
            after = OPS["matmul"](T, T.tensor(X))
        return [str(t.dtype) for t in (outer, inner, after, OPS["matmul"](T, T.tensor(X)))]

    assert run(ft) == run(torch) == ["torch.bfloat16", "torch.float32", "torch.bfloat16",
                                     "torch.float32"]


@pytest.mark.parametrize("name", ["matmul", "mm", "bmm", "addmm", "baddbmm", "addmv"])
def test_half_precision_matrix_products_round_as_pytorchs_kernel(name):
    rng = np.random.default_rng(3)
    a, b = (rng.standard_normal(s).astype(np.float32) for s in ((16, 64), (64, 32)))
    products = {"matmul": lambda T, x, y: x @ y, "mm": lambda T, x, y: T.mm(x, y),
                "bmm": lambda T, x, y: T.bmm(x[None], y[None]),
                "addmm": lambda T, x, y: T.addmm(y[0], x, y, beta=0.5, alpha=2),
                "baddbmm": lambda T, x, y: T.baddbmm(y[0], x[None], y[None]),
                "addmv": lambda T, x, y: T.addmv(y[:16, 0], x, y[:, 1])}

    def run(T):
        with T.autocast("cpu", dtype=T.bfloat16):
            under = products[name](T, T.tensor(a), T.tensor(b))
        model = products[name](T, T.tensor(a).bfloat16(), T.tensor(b).bfloat16())
        return str(under.dtype), under.float().numpy(), model.float().numpy()

    (dtype, under, model), (their_dtype, their_under, their_model) = run(ft), run(torch)
    assert dtype == their_dtype
    np.testing.assert_array_equal(model, their_model)
    if dtype == "torch.bfloat16":
        np.testing.assert_array_equal(under, their_under)
    else:  # addmv: not lowered on the CPU, float32 sums in their own orders
        np.testing.assert_allclose(under, their_under, rtol=1e-6)


def test_mv_names_its_backward_as_pytorch():
    for T in (torch, ft):
        matrix = T.ones(2, 3, requires_grad=True)
        assert T.mv(matrix, T.ones(3)).grad_fn.name() == "MvBackward0"


RECURRENT = {
    "LSTM": lambda T: T.nn.LSTM(6, 4, batch_first=True),
    "GRU": lambda T: T.nn.GRU(6, 4, batch_first=True),
    "RNN": lambda T: T.nn.RNN(6, 4, nonlinearity="relu"),
    "MultiheadAttention": lambda T: T.nn.MultiheadAttention(6, 2, batch_first=True),
    "RNNCell": lambda T: T.nn.RNNCell(6, 4),
    "LSTMCell": lambda T: T.nn.LSTMCell(6, 4),
    "GRUCell": lambda T: T.nn.GRUCell(6, 4),
}


@pytest.mark.parametrize("name", list(RECURRENT))
def test_sequence_layers_under_autocast_give_pytorchs_dtypes(name):
    """The CPU's autocast runs the LSTM and RNN layers and attention in bfloat16, the GRU
    layer in float32 (around bfloat16 products inside: values to 1%)."""
    def run(T):
        T.manual_seed(0)
        layer = RECURRENT[name](T)
        x = T.tensor(X if name.endswith("Cell") else X[None])
        with T.autocast("cpu", dtype=T.bfloat16):
            out = layer(x, x, x) if name == "MultiheadAttention" else layer(x)
        out = (out,) if isinstance(out, T.Tensor) else out
        return [str(t.dtype) for t in out if isinstance(t, T.Tensor)], \
            out[0].detach().float().numpy()

    try:
        theirs_dtypes, theirs = run(torch)
    except RuntimeError as error:  # oneDNN's bfloat16 LSTM needs AVX-512 bfloat16
        if "could not create a primitive descriptor" not in str(error):
            raise
        pytest.skip(f"PyTorch cannot run a bfloat16 {name} on this CPU: {error}")
    ours_dtypes, ours = run(ft)
    assert ours_dtypes == theirs_dtypes
    np.testing.assert_allclose(ours, theirs, rtol=3e-2, atol=3e-2)


def test_a_gpu_region_follows_cudas_lists(monkeypatch):
    """Where JAX has a GPU, ``autocast("cuda")`` lowers the products to float16 and runs
    PyTorch's CUDA float32 list (softmax, sum, pow, layer_norm...) in float32; checked
    against the lists of PyTorch's documentation, as if a GPU were present."""
    from fnnet.torch import _autocast, amp

    monkeypatch.setattr(_autocast, "gpus", lambda: True)
    monkeypatch.setattr(amp, "gpus", lambda: True)
    x, w = ft.tensor(X), ft.tensor(W)
    with ft.autocast("cuda"):
        product = x @ w.T
        dtypes = {name: str(t.dtype) for name, t in {
            "matmul": product, "relu": ft.relu(product), "exp": product.exp(),
            "softmax": ft.softmax(product, 1), "sum": product.sum(), "pow": product ** 2,
            "layer_norm": ft.nn.LayerNorm(5)(product),
            "cross_entropy": ft.nn.functional.cross_entropy(product, ft.tensor(LABELS)),
            "GRU": ft.nn.GRU(6, 3)(x[None])[0]}.items()}
    half = {"matmul", "relu", "GRU"}
    assert dtypes == {name: "torch.float16" if name in half else "torch.float32"
                      for name in dtypes}


#: elementwise math of half-precision tensors, as users chain it: PyTorch computes each op
#: in float32 and rounds its result to the tensor's dtype
HALF_CHAINS = {
    "sqrt": lambda T, x: x.abs().sqrt(),
    "exp times 3": lambda T, x: x.exp() * 3,
    "log": lambda T, x: (x.abs() + 0.1).log(),
    "sigmoid": lambda T, x: T.sigmoid(x),
    "softmax": lambda T, x: T.softmax(x, dim=-1),
    "log_softmax": lambda T, x: T.nn.functional.log_softmax(x, dim=-1),
    "exp2, expm1, log2, log10, log1p": lambda T, x: T.stack([
        x.exp2(), x.expm1(), (x.abs() + 1).log2(), (x.abs() + 1).log10(), x.abs().log1p()]),
    "trigonometry": lambda T, x: T.stack([x.tan(), (x / 4).asin(), x.atan(), x.sinh(),
                                          x.cosh(), x.asinh(), (x / 4).atanh(), x.erf()]),
    "tanh then square": lambda T, x: x.tanh().square() + x.cos(),
}


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", list(HALF_CHAINS))
def test_half_precision_math_rounds_each_op_as_pytorch(torch, name, dtype):
    data = np.random.default_rng(5).uniform(-2, 2, (4, 6)).astype(np.float32)
    results = []
    for T in (torch, ft):
        x = T.tensor(data).to(getattr(T, dtype))
        out = HALF_CHAINS[name](T, x)
        assert str(out.dtype) == f"torch.{dtype}"
        results.append(out.float().numpy())
    if name == "log_softmax":  # PyTorch's vectorised kernel rounds its own way
        units = 2.0 ** (-6 if dtype == "bfloat16" else -9)  # two units of the significand
        np.testing.assert_allclose(results[1], results[0], rtol=units, atol=0)
        return
    np.testing.assert_array_equal(results[1], results[0])


@pytest.mark.parametrize("name", ["true_divide", "floor_divide", "remainder", "fmod",
                                  "atan2", "copysign", "hypot", "div", "logaddexp",
                                  "xlogy"])
def test_a_zero_dim_float_tensor_keeps_a_half_tensors_dtype_as_pytorch(torch, name):
    results = []
    for T in (torch, ft):
        x = T.tensor([0.5, -1.5, 2.5], dtype=T.float16)
        out = getattr(T, name)(x, T.tensor(0.75))
        results.append((str(out.dtype), out.float().numpy()))
    assert results[1][0] == results[0][0]
    np.testing.assert_array_equal(results[1][1], results[0][1])
