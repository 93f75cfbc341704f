"""The PyTorch surface a beginner's course meets first: devices, typed constructors,
``*_like`` and ``out=``, ``torch.autograd`` (``Variable``, ``grad``, custom
``Function``s) and ``grad_fn``, each against PyTorch."""

from __future__ import annotations

import re

import jax
import numpy as np
import pytest
from helpers import cube_function

import fnnet.torch as ft
from fnnet.torch import _dtypes

pytestmark = pytest.mark.torch


def test_device_api_follows_jax(torch):
    has_gpu = jax.default_backend() == "gpu"
    assert ft.cuda.is_available() is has_gpu
    assert ft.accelerator.is_available() is has_gpu
    assert ft.backends.mps.is_available() is False
    assert ft.backends.cudnn.is_available() is has_gpu
    ft.backends.cudnn.benchmark = True  # tutorials set it; accepted
    for spec in ("cpu", "cuda", "cuda:1", "mps"):
        assert str(ft.device(spec)) == str(torch.device(spec))
        assert repr(ft.device(spec)) == repr(torch.device(spec))
    assert ft.device("cuda", 0) == "cuda:0" and ft.device("cuda", 0).index == 0
    assert ft.device(ft.device("cpu")).type == "cpu"
    with pytest.raises(RuntimeError, match="Expected one of"):
        ft.device("gpu")
    dev = ft.device("cuda" if ft.cuda.is_available() else "cpu")
    model = ft.nn.Linear(2, 1).to(dev)
    x = ft.ones(3, 2).to(dev)
    assert tuple(model(x).shape) == (3, 1)
    assert ft.get_default_dtype() is ft.float32
    ft.set_default_dtype(ft.float32)
    with pytest.raises(NotImplementedError, match="set_default_dtype"):
        ft.set_default_dtype(ft.float16)
    if not _dtypes.X64:  # float64 is float32: accepted, but the program is told
        for double in (ft.float64, ft.double):
            with pytest.warns(UserWarning, match=r"without jax's x64 mode float64 is "
                              r"float32, so after set_default_dtype\(torch.float64\) "
                              r"tensors stay float32 and random draws are float32's"):
                ft.set_default_dtype(double)
        assert ft.get_default_dtype() is ft.float32
    if not has_gpu:  # PyTorch's CPU build's words
        with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
            ft.set_default_device("cuda")
    ft.set_default_device("cpu")
    assert ft.get_default_device() == "cpu"
    ft.set_default_device(None)


def test_cuda_queries_tutorials_print_and_set_device(torch):
    has_gpu = jax.default_backend() == "gpu"
    if not has_gpu:  # PyTorch's CPU build reports no memory in use
        assert ft.cuda.memory_allocated() == torch.cuda.memory_allocated() == 0
        assert ft.cuda.max_memory_allocated() == 0 and ft.cuda.memory_reserved() == 0
        with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
            ft.cuda.set_device(0)
    else:
        ft.cuda.set_device(0)
        ft.cuda.set_device("cuda:0")
        with pytest.raises(ValueError, match="out of range"):
            ft.cuda.set_device(ft.cuda.device_count())
    # a name fnnet.torch lacks names itself, never a bare AttributeError
    with pytest.raises(NotImplementedError, match=r"torch\.cuda\.memory_summary"):
        ft.cuda.memory_summary()
    with pytest.raises(NotImplementedError, match=r"torch\.accelerator\.memory"):
        ft.accelerator.memory()
    assert not hasattr(ft.cuda, "graphs")


@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor",
                                  "ByteTensor", "BoolTensor"])
def test_typed_constructors_have_torchs_dtypes(torch, name):
    expected = getattr(torch, name)([1, 0, 1]).dtype
    ours = getattr(ft, name)([1, 0, 1])
    if jax.config.read("jax_enable_x64") or expected not in (torch.float64, torch.int32):
        assert str(ours.dtype) == str(expected)
    else:  # without jax's x64, float64 is float32 and int32 is int64 (documented)
        assert str(ours.dtype) == {torch.float64: "torch.float32",
                                   torch.int32: "torch.int64"}[expected]
    assert isinstance(ours, getattr(ft, name))
    assert ours.tolist() == getattr(torch, name)([1, 0, 1]).tolist()
    assert tuple(getattr(ft, name)(2, 3).shape) == (2, 3)
    # no sizes: an empty tensor, as torch.Tensor() is
    assert getattr(ft, name)().shape == getattr(torch, name)().shape == (0,)
    assert ft.Tensor().shape == torch.Tensor().shape


def test_long_tensor_labels_work_with_nll_loss(torch):
    logits = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    expected = torch.nn.functional.nll_loss(torch.tensor(logits).log_softmax(1),
                                            torch.LongTensor([0, 2]))
    ours = ft.nn.functional.nll_loss(ft.tensor(logits).log_softmax(1), ft.LongTensor([0, 2]))
    assert abs(ours.item() - expected.item()) < 1e-6
    assert not isinstance(ft.ones(2), ft.LongTensor)
    assert ft.ones(2).type(ft.LongTensor).dtype == ft.long
    assert ft.ones(2).type("torch.IntTensor").dtype == ft.int32


def test_like_family_and_out(torch):
    x = ft.ones(2, 3, dtype=ft.float32)
    for fn in (ft.rand_like, ft.randn_like, ft.empty_like, ft.zeros_like, ft.ones_like):
        y = fn(x)
        assert tuple(y.shape) == (2, 3) and y.dtype == ft.float32
        # a loss is 0-d: grad_outputs=torch.ones_like(loss)
        assert tuple(fn(ft.tensor(1.5)).shape) == tuple(torch.ones_like(torch.tensor(1.5)).shape)
    r = ft.randint_like(x, 3, 7)
    assert r.dtype == ft.float32 and set(np.unique(r.numpy())) <= {3, 4, 5, 6}
    u = ft.rand_like(ft.zeros(1000)).numpy()
    assert 0 <= u.min() and u.max() < 1
    out = ft.empty(2, 3)
    result = ft.add(x, x, out=out)
    assert result is out and out.tolist() == [[2.0] * 3] * 2
    ft.matmul(ft.ones(2, 4), ft.ones(4, 3), out=out)
    assert out.tolist() == [[4.0] * 3] * 2
    with pytest.warns(UserWarning, match="was resized since it had shape"):
        resized = ft.add(x, x, out=ft.empty(3))
    assert tuple(resized.shape) == (2, 3)


class _TorchClamp:
    @staticmethod
    def forward(ctx, x, low):
        ctx.save_for_backward(x)
        ctx.low = low
        return x.clamp(min=low)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        grad = grad_output.clone()
        grad[x < ctx.low] = 0
        return grad, None


class _TorchCube:
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 0.5 * (5 * x ** 3 - 3 * x), x * 2

    @staticmethod
    def backward(ctx, g1, g2):
        (x,) = ctx.saved_tensors
        return g1 * 1.5 * (5 * x ** 2 - 1) + 2 * g2


@pytest.mark.parametrize("body", [_TorchClamp, _TorchCube])
def test_custom_function_matches_torch(torch, body):
    results = []
    x0 = np.linspace(-1.5, 1.5, 7).astype(np.float32)
    for lib in (torch, ft):
        fn = type("Fn", (lib.autograd.Function,), {"forward": body.forward,
                                                   "backward": body.backward})
        w = lib.tensor(x0, requires_grad=True)
        losses = []
        for _ in range(3):  # the same structure: traced once, cached
            out = fn.apply(w, -0.5) if body is _TorchClamp else fn.apply(w)
            outs = out if isinstance(out, tuple) else (out,)
            loss = sum((o * o).sum() for o in outs)
            loss.backward()
            losses.append(loss.item())
            with lib.no_grad():
                w -= 0.01 * w.grad
            w.grad.zero_()
        results.append((losses, w.detach().numpy().copy()))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-5)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-5, atol=1e-7)


def test_autograd_grad_and_variable(torch):
    x0 = np.array([1.0, 2.0, 3.0], np.float32)
    tx, fx = torch.tensor(x0, requires_grad=True), ft.tensor(x0, requires_grad=True)
    (tg,) = torch.autograd.grad((tx ** 3).sum(), tx)
    (fg,) = ft.autograd.grad((fx ** 3).sum(), fx)
    np.testing.assert_allclose(fg.numpy(), tg.numpy())
    assert fx.grad is None  # grad returns, never accumulates
    y = ft.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        ft.autograd.grad((fx * 2).sum(), [fx, y])
    assert ft.autograd.grad((fx * 2).sum(), [fx, y], allow_unused=True)[1] is None
    v = ft.autograd.Variable(ft.ones(2), requires_grad=True)
    (v * 3).sum().backward()
    assert v.grad.tolist() == [3.0, 3.0]
    from fnnet.torch.autograd import Variable

    assert Variable is ft.autograd.Variable


def test_grad_fn_names_and_next_functions(torch):
    results = []
    for lib in (torch, ft):
        lib.manual_seed(0)
        lin = lib.nn.Linear(3, 2)
        w = lib.ones(3, 3, requires_grad=True)
        x = lib.ones(4, 3)
        loss = lib.nn.functional.mse_loss(lin(x @ w).relu(), lib.zeros(4, 2))
        fn = loss.grad_fn
        nxt = fn.next_functions
        relu = nxt[0][0]
        results.append((fn.name(), [None if f is None else type(f).__name__ for f, _ in nxt],
                        relu.name(), (x @ w).grad_fn.name(),
                        [type(f).__name__ for f, _ in (x @ w).grad_fn.next_functions
                         if f is not None]))
    assert results[1][0] == results[0][0] == "MseLossBackward0"
    assert results[1][2] == "ReluBackward0" == results[0][2]
    assert results[1][3] == results[0][3] == "MmBackward0"
    assert results[1][4] == results[0][4] == ["AccumulateGrad"]
    assert results[1][1][1] is None and results[0][1][1] is None
    # the node's class is named as PyTorch's too: type(t.grad_fn).__name__
    assert results[1][1][0] == results[0][1][0] == "ReluBackward0"
    assert ft.ones(2).grad_fn is None


def test_grad_fn_keeps_its_name_after_the_step_and_prints_as_torchs(torch):
    """``print(loss)`` after ``optimizer.step()`` and ``print(y.grad_fn)``, as tutorials
    do: the node keeps PyTorch's name once its graph has run, and a node prints as
    PyTorch's ``<Name object at 0x...>``."""
    pattern = re.compile(r"<(\w+) object at 0x[0-9a-f]+>")
    results = []
    for lib in (torch, ft):
        lib.manual_seed(0)
        model = lib.nn.Linear(3, 2)
        opt = lib.optim.SGD(model.parameters(), lr=0.1)
        out = model(lib.ones(4, 3))
        loss = lib.nn.functional.cross_entropy(out, lib.tensor([0, 1, 0, 1]))
        loss.backward()
        opt.step()
        results.append((repr(loss).split(", ")[-1], type(out.grad_fn).__name__,
                        pattern.fullmatch(repr(loss.grad_fn)).group(1),
                        pattern.fullmatch(repr((lib.ones(2, requires_grad=True) * 2).sum()
                                               .grad_fn.next_functions[0][0])).group(1)))
    assert results[1] == results[0]
    assert results[0][:2] == ("grad_fn=<NllLossBackward0>)", "AddmmBackward0")
    assert "grad_fn=<MulBackward0>" in repr(ft.ones(2, requires_grad=True) * 2)


def test_retain_graph_backward_after_reading_and_zeroing_grad(torch):
    grads = []
    for lib in (torch, ft):
        inp = lib.eye(4, 5, requires_grad=True)
        out = (inp + 1).pow(2).t()
        seen = []
        for zero in (False, False, True, False):
            if zero:
                inp.grad.zero_()
            out.backward(lib.ones_like(out), retain_graph=True)
            seen.append(inp.grad.sum().item())  # a read between backwards
        grads.append(seen)
    assert grads[1] == grads[0] == [48.0, 96.0, 48.0, 96.0]


def test_float64_is_kept_with_jax_x64(torch):
    """With jax's x64 mode on, the 64-bit types are PyTorch's (a subprocess: x64 must be
    set before jax starts)."""
    import os
    import subprocess
    import sys

    code = (
        "import numpy as np, fnnet.torch as t\n"
        "x = t.from_numpy(np.linspace(0, 1, 5)).requires_grad_()\n"
        "(x ** 2).sum().backward()\n"
        "print(t.DoubleTensor([1.5]).dtype, t.LongTensor([1]).dtype, x.dtype, x.grad.dtype,"
        " t.tensor([1.0]).dtype, t.tensor([1]).dtype)\n")
    env = dict(os.environ, JAX_ENABLE_X64="1", JAX_PLATFORMS="cpu")
    ours = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=120)
    assert ours.returncode == 0, ours.stderr[-2000:]
    x = torch.from_numpy(np.linspace(0, 1, 5))
    expected = [torch.DoubleTensor([1.5]).dtype, torch.LongTensor([1]).dtype, x.dtype,
                x.dtype, torch.tensor([1.0]).dtype, torch.tensor([1]).dtype]
    assert ours.stdout.split() == [str(d) for d in expected]


BEYOND_32_BITS = [
    ("tensor", lambda lib: lib.tensor([2 ** 40, 1])),
    ("scalar tensor", lambda lib: lib.tensor(-(2 ** 35))),
    ("from_numpy", lambda lib: lib.from_numpy(np.array([2 ** 40]))),
    ("LongTensor", lambda lib: lib.LongTensor([2 ** 33])),
    ("float to long", lambda lib: lib.tensor([3e9], dtype=lib.long)),
    ("full", lambda lib: lib.full((2,), 2 ** 35)),
    ("arange", lambda lib: lib.arange(0, 2 ** 31 + 1, 2 ** 31)),
    ("times an int", lambda lib: lib.ones(2, dtype=lib.long) * 2 ** 33),
    ("fill_", lambda lib: lib.zeros(2, dtype=lib.long).fill_(2 ** 32)),
]


@pytest.mark.skipif(jax.config.read("jax_enable_x64"), reason="64-bit integers are held")
@pytest.mark.parametrize("make", [m for _, m in BEYOND_32_BITS], ids=[n for n, _ in BEYOND_32_BITS])
def test_an_integer_beyond_32_bits_raises_where_it_would_wrap(torch, make):
    """Without jax's x64 mode torch.int64 is held in 32 bits: a value it cannot hold
    raises at the call that makes it, naming x64, rather than wrapping (to 0 for 2**40)."""
    assert make(torch).dtype == torch.int64  # PyTorch holds it
    with pytest.raises(OverflowError, match=r"does not fit torch.int64, which fnnet.torch "
                       r"holds in 32 bits .*'jax_enable_x64', True\) before importing"):
        make(ft).tolist()


def test_a_large_int_times_a_float_tensor_is_pytorchs_value(torch):
    for big in (2 ** 40, -(2 ** 33)):
        values = [(lib.ones(2) * big + lib.arange(2)).tolist() for lib in (torch, ft)]
        assert values[1] == values[0]
    # ints that fit keep the integer path
    assert (ft.tensor([3]) * (2 ** 31 - 1)).tolist() == [3 * (2 ** 31 - 1) - 2 ** 32]  # wraps
    assert ft.tensor([2 ** 31 - 1, -(2 ** 31)]).tolist() == [2 ** 31 - 1, -(2 ** 31)]


@pytest.mark.filterwarnings("ignore:Using backward.. with create_graph=True")  # PyTorch's
def test_second_derivatives_with_create_graph(torch):
    results = []
    x0 = np.array([0.5, -1.0, 2.0], np.float32)
    for lib in (torch, ft):
        x = lib.tensor(x0, requires_grad=True)
        y = (x ** 3).sum() + (x.sin() * x).sum()
        (dy,) = lib.autograd.grad(y, x, create_graph=True)
        (d2,) = lib.autograd.grad(dy.sum(), x)
        # a gradient penalty: backward through the norm of a gradient
        w = lib.tensor(x0, requires_grad=True)
        (g,) = lib.autograd.grad((w * w * w).sum() * 2, w, create_graph=True)
        (g ** 2).sum().backward()
        # backward(create_graph=True), then a second backward of the gradient
        v = lib.tensor(x0, requires_grad=True)
        (v ** 4).sum().backward(create_graph=True)
        first = v.grad.detach().numpy().copy()
        v.grad.sum().backward()
        results.append([dy.detach().numpy(), d2.numpy(), w.grad.numpy(), first,
                        v.grad.detach().numpy()])
    for ours, theirs in zip(results[1], results[0], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5)


_CREATE_GRAPH = {
    "constant": lambda T, x, w, v: T.autograd.grad((x * 2).sum(), x, create_graph=True),
    "sum": lambda T, x, w, v: T.autograd.grad(x.sum(), x, create_graph=True),
    "linear": lambda T, x, w, v: T.autograd.grad((v @ w).sum(), w, create_graph=True),
    "mixed": lambda T, x, w, v: T.autograd.grad((x * 3).sum() + (w * w).sum(), [x, w],
                                                create_graph=True),
    "detached": lambda T, x, w, v: T.autograd.grad((x * x.detach()).sum(), x,
                                                   create_graph=True),
    "relu": lambda T, x, w, v: T.autograd.grad(x.relu().sum(), x, create_graph=True),
    "cotangent": lambda T, x, w, v: T.autograd.grad(x * 2, x, v.requires_grad_(),
                                                    create_graph=True),
    "backward": lambda T, x, w, v: ((x * 2).sum() + (w * w).sum()).backward(
        create_graph=True) or (x.grad, w.grad),
}


@pytest.mark.filterwarnings("ignore:Using backward.. with create_graph=True")  # PyTorch's
@pytest.mark.parametrize("name", list(_CREATE_GRAPH))
def test_a_gradient_requires_grad_where_pytorchs_does(torch, name):
    # PyTorch's gradient requires grad where its backward reads a value that does: a
    # constant gradient is a plain tensor even under create_graph=True
    seen = []
    for T in (torch, ft):
        x = T.tensor([0.5, -1.0, 2.0], requires_grad=True)
        w = T.tensor([1.5, 2.0, -0.5], requires_grad=True)
        v = T.tensor([3.0, 1.0, -2.0])
        seen.append([(g.requires_grad, g.grad_fn is None, g.tolist())
                     for g in _CREATE_GRAPH[name](T, x, w, v)])
    assert seen[1] == seen[0]


_PENALTIES = {
    "autograd.grad": lambda T, net, x: T.autograd.grad(net(x).sum(), x, create_graph=True)[0],
    "func.grad": lambda T, net, x: T.func.grad(lambda x: net(x).sum())(x),
}


@pytest.mark.parametrize("how", list(_PENALTIES))
@pytest.mark.parametrize("act", ["ReLU", "Tanh"])
def test_a_gradient_penalty_leaves_none_where_the_gradient_reads_no_parameter(torch, how, act):
    # the gradient of a network by its input reads every weight but not the last bias:
    # PyTorch leaves that bias's .grad None (and Adam's weight decay then skips it)
    seen = []
    for T in (torch, ft):
        T.manual_seed(0)
        net = T.nn.Sequential(T.nn.Linear(3, 4), getattr(T.nn, act)(), T.nn.Linear(4, 1))
        opt = T.optim.Adam(net.parameters(), lr=0.1, weight_decay=0.1)
        x = T.tensor(np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3),
                     requires_grad=True)
        (_PENALTIES[how](T, net, x) ** 2).sum().backward()
        grads = [None if p.grad is None else p.grad.tolist() for p in net.parameters()]
        opt.step()
        seen.append((grads, [p.tolist() for p in net.parameters()]))
    assert [g is None for g in seen[1][0]] == [g is None for g in seen[0][0]]
    for ours, theirs in zip(seen[1][0] + seen[1][1], seen[0][0] + seen[0][1], strict=True):
        if theirs is not None:
            np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)


def test_custom_function_with_tensors_kept_as_ctx_attributes(torch):
    grads = []
    for lib in (torch, ft):
        class Mul(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a, b):
                ctx.a, ctx.b = a, b
                return a * b

            @staticmethod
            def backward(ctx, g):
                return g * ctx.b, g * ctx.a

        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0, -1.0], requires_grad=True)
        (Mul.apply(a, b) ** 2).sum().backward()
        grads.append((a.grad.tolist(), b.grad.tolist()))
    assert grads[1] == grads[0]


def test_instantiated_custom_function_is_refused_as_pytorch(torch):
    """Old code's ``Identity()(x)``: PyTorch warns on instantiation and refuses the call."""
    outcomes = []
    for lib in (torch, ft):
        class Identity(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

        with pytest.warns(DeprecationWarning, match="should not be instantiated") as caught:
            instance = Identity()
        with pytest.raises(RuntimeError) as error:
            instance(lib.ones(1))
        outcomes.append((str(caught[0].message).split("'")[2], str(error.value)))
    assert outcomes[1] == outcomes[0]


@pytest.mark.parametrize("method", ["forward", "backward"])
def test_custom_function_reading_a_value_says_why_it_cannot(method):
    # a debugging print inside backward (the straight-through estimator of a paper's code)
    class Sign(ft.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            if method == "forward":
                print(x.sum().item())
            return x.sign()

        @staticmethod
        def backward(ctx, g):
            if method == "backward":
                print(g.abs().max().item())
            return g

    x = ft.tensor([0.5, -2.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match=f"Sign.{method} read a tensor's value"):
        Sign.apply(x)


def test_custom_function_in_a_loop_compiles_once():
    cube = cube_function(ft)
    x = ft.linspace(-1, 1, 50)
    w = ft.tensor(0.5, requires_grad=True)
    ft.reset_compile_stats()
    for _ in range(30):
        loss = (cube(w * x) - x).pow(2).sum()
        loss.backward()
        with ft.no_grad():
            w -= 0.01 * w.grad
            w.grad = None
    stats = ft.compile_stats()
    assert stats["compiles"] <= 2 and stats["hits"] >= 28, stats


def test_tensors_wrap_their_rows_where_pytorch_does(torch):
    """Rows of values split over lines at PyTorch's points, whatever the values' width
    (a LeNet's ten logits printed in the 60-minute blitz: eight on the first line)."""
    rng = np.random.default_rng(0)
    cases = [np.array([[-0.4302, -0.1865, 0.3368, -0.4586, -0.1611, 0.3231, -0.4765,
                        -0.1264, 0.3163, -0.4839]], np.float32)]
    for n in (7, 8, 9, 10, 17, 26):
        for scale in (1, 1000, 1e-3):
            cases.append((rng.standard_normal(n) * scale).astype(np.float32))
            cases.append((rng.standard_normal((2, 2, n)) * scale).astype(np.float32))
        cases.append(rng.integers(0, 2, (2, n)).astype(bool))
    for case in cases:
        assert repr(ft.tensor(case)) == repr(torch.tensor(case))


def _chain(node, depth=0):
    """A node and those before it (three deep), by PyTorch's names."""
    if node is None or depth > 3:
        return str(node)
    return node.name() + "(" + ", ".join(_chain(n, depth + 1)
                                         for n, _ in node.next_functions) + ")"


def test_a_linear_layers_node_and_those_before_it_are_pytorchs(torch):
    """``loss.grad_fn.next_functions[0][0].next_functions[0][0]``, as the 60-minute blitz
    walks it: PyTorch records a linear layer as ``addmm(bias, input, weight.t())`` (``mm``
    without a bias) on a batch of vectors and views the product back on other inputs."""
    for bias in (True, False):
        layers = {lib: lib.nn.Linear(3, 2, bias=bias) for lib in (torch, ft)}
        for shape, grad in (((4, 3), False), ((4, 3), True), ((5, 4, 3), False),
                            ((5, 4, 3), True), ((3,), False)):
            got = []
            for lib, layer in layers.items():
                out = layer(lib.ones(*shape, requires_grad=grad))
                got.append((type(out.grad_fn).__name__, _chain(out.grad_fn)))
            assert got[1] == got[0], (bias, shape, grad)


def test_a_summarized_print_formats_the_values_it_shows(torch):
    """A large tensor prints its corners only, in the format (fixed or scientific, and
    the column width) those values call for, whatever the values it leaves out."""
    rng = np.random.default_rng(0)
    x = rng.random((256, 784), dtype=np.float32)
    x[100, 300] = 1e-7  # not shown: it must not turn the print scientific
    y = x.copy()
    y[0, 0] = 2e-5  # shown
    for case in (x, y, x * 1e4, rng.standard_normal((3, 50, 40)).astype(np.float32)):
        assert repr(ft.tensor(case)) == repr(torch.tensor(case))


@pytest.mark.parametrize("options", [{"precision": 2}, {"sci_mode": True},
                                     {"threshold": 5, "edgeitems": 1}, {"linewidth": 40}])
def test_print_options_lay_tensors_out_as_pytorch(torch, options):
    rng = np.random.default_rng(1)
    cases = [np.float32(-0.0001), np.array([np.nan, np.inf, -np.inf, 1.5], np.float32),
             rng.standard_normal(2000).astype(np.float32), rng.integers(0, 2, (40, 40)) > 0,
             rng.standard_normal((10, 10, 20)).astype(np.float32),
             rng.standard_normal((4, 300)).astype(np.float32) * 1e5]
    try:
        torch.set_printoptions(**options)
        ft.set_printoptions(**options)
        for case in cases:
            assert repr(ft.tensor(case)) == repr(torch.tensor(case))
    finally:
        torch.set_printoptions(profile="default")
        ft.set_printoptions(profile="default")


@pytest.mark.parametrize("call", [
    lambda lib: lib.ones(2, 3).mean(-3), lambda lib: lib.ones(2, 3).softmax(2),
    lambda lib: lib.ones(2, 3).argmax(dim=5), lambda lib: lib.ones(2, 3).sum((0, 2)),
    lambda lib: lib.ones(3).max(dim=1), lambda lib: lib.ones(2, 3).std(3),
    lambda lib: lib.ones(2, 3).transpose(0, 2), lambda lib: lib.ones(2, 3).unsqueeze(4),
    lambda lib: lib.cat([lib.ones(2), lib.ones(2)], dim=1)])
def test_a_dim_out_of_range_raises_pytorchs_index_error(torch, call):
    with pytest.raises(IndexError) as theirs:
        call(torch)
    with pytest.raises(IndexError) as ours:
        call(ft)
    assert str(ours.value) == str(theirs.value)


def test_fork_rng_puts_the_random_state_back_as_pytorch(torch):
    """``torch.random.fork_rng()``: draws inside the block do not change those after it."""
    for lib in (torch, ft):
        lib.random.manual_seed(3)
        lib.rand(2)
        with lib.random.fork_rng():
            lib.rand(4)
        after = lib.rand(2)
        lib.manual_seed(3)
        lib.rand(2)
        assert lib.equal(after, lib.rand(2))
        with lib.random.fork_rng(enabled=False):
            lib.rand(1)
        assert lib.random.initial_seed() == 3


def test_set_grad_enabled_as_a_block_puts_the_mode_back_as_pytorch(torch):
    """``with torch.set_grad_enabled(phase == "train"):`` (the transfer-learning
    tutorial's loop): after the block, gradients are recorded as before it."""
    seen = {}
    for lib in (torch, ft):
        w = lib.ones(2, requires_grad=True)
        states = []
        for mode in (False, True, False):
            with lib.set_grad_enabled(mode):
                states.append(((w * 2).requires_grad, lib.is_grad_enabled()))
            states.append(((w * 2).requires_grad, lib.is_grad_enabled()))
        lib.set_grad_enabled(False)  # called as a function, it stays set
        states.append(lib.is_grad_enabled())
        lib.set_grad_enabled(True)
        seen[lib] = states
    assert seen[ft] == seen[torch]
