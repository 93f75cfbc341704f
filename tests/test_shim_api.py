"""fnnet.torch's API against PyTorch: tensors, errors, reprs, state dicts, optimizers,
schedulers, data loading and the compile cache."""

from __future__ import annotations

import copy
import warnings

import jax
import numpy as np
import pytest
from helpers import counting_compiles, raised_by

import fnnet.nn
import fnnet.torch as ft
from fnnet.torch import _compiler, _split
from fnnet.torch.utils.data import default_collate

pytestmark = pytest.mark.torch


@pytest.fixture(autouse=True, scope="module")
def _one_thread(torch):
    # the parity checks are about numbers; one thread is faster on a busy 2-core machine
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# -- import surface ------------------------------------------------------------------


def test_surface_as_modules_and_attributes():
    import fnnet.torch.nn as nn
    import fnnet.torch.nn.functional as F
    import fnnet.torch.optim as optim
    from fnnet.torch.utils.data import DataLoader, TensorDataset

    assert ft.nn is nn and ft.nn.functional is F and ft.optim is optim
    assert ft.utils.data.DataLoader is DataLoader and ft.utils.data.TensorDataset is \
        TensorDataset
    assert ft.nn.Linear is nn.Linear and ft.optim.SGD is optim.SGD
    assert ft.optim.lr_scheduler.StepLR is not None


@pytest.mark.parametrize("module, name, hint", [
    (ft, "sparse_csr_tensor", "jax.numpy"),
    (ft.nn, "FractionalMaxPool2d", "fnnet.nn"),
    (ft.nn.functional, "fractional_max_pool2d", "fnnet.nn.functional"),
    (ft.optim, "swap_in_optimizer_params_and_state", "optax"),
])
def test_unsupported_names_raise_not_implemented(module, name, hint):
    with pytest.raises(NotImplementedError, match=f"does not support .*{name}.*{hint}"):
        getattr(module, name)


@pytest.mark.parametrize("module, name", [
    (ft, "sparse_csr_tensor"), (ft.nn, "FractionalMaxPool2d"),
    (ft.nn.functional, "fractional_max_pool2d"),
    (ft.optim, "swap_in_optimizer_params_and_state"),
    (ft.nn.parallel, "replicate"),
])
def test_unsupported_names_are_also_attribute_errors(module, name):
    assert not hasattr(module, name)
    assert getattr(module, name, "default") == "default"


def test_unknown_module_attributes_are_attribute_errors_as_torch(torch):
    for layer in (ft.nn.Linear(2, 3), torch.nn.Linear(2, 3)):
        assert not hasattr(layer, "foo")
        assert getattr(layer, "foo", 7) == 7
        with pytest.raises(AttributeError, match="^'Linear' object has no attribute 'foo'$"):
            layer.foo  # noqa: B018
    model = ft.nn.Sequential(ft.nn.Linear(2, 3))
    assert not hasattr(model, "register_backward_hook")  # a known PyTorch feature ...
    with pytest.raises(NotImplementedError, match="does not support "
                       "Module.register_backward_hook; use register_full_backward_hook"):
        model.register_backward_hook(print)  # ... explained when used


def test_unsupported_tensor_method_and_argument():
    with pytest.raises(NotImplementedError, match="Tensor.to_mkldnn"):
        getattr(ft.ones(3), "to_mkldnn")  # noqa: B009
    assert not hasattr(ft.ones(3), "to_mkldnn")  # also an AttributeError


@pytest.mark.parametrize("size_average,reduce", [(False, None), (None, False), (True, True),
                                                 (True, None), (False, True)])
def test_deprecated_size_average_and_reduce_mean_a_reduction(torch, size_average, reduce):
    # the spatial transformer tutorial's F.nll_loss(output, target, size_average=False)
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    t = np.array([0, 2, 1, 2])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = ft.nn.functional.nll_loss(ft.tensor(x), ft.tensor(t), size_average=size_average,
                                         reduce=reduce)
        module = ft.nn.MSELoss(size_average=size_average, reduce=reduce)
        margin = ft.nn.functional.soft_margin_loss(ft.tensor(x), ft.ones(4, 3),
                                                   size_average=size_average, reduce=reduce)
    with warnings.catch_warnings(record=True) as expected:
        warnings.simplefilter("always")
        theirs = torch.nn.functional.nll_loss(torch.tensor(x), torch.tensor(t),
                                              size_average=size_average, reduce=reduce)
        their_module = torch.nn.MSELoss(size_average=size_average, reduce=reduce)
        their_margin = torch.nn.functional.soft_margin_loss(
            torch.tensor(x), torch.ones(4, 3), size_average=size_average, reduce=reduce)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    np.testing.assert_allclose(margin.numpy(), their_margin.numpy(), rtol=1e-6)
    assert module.reduction == their_module.reduction
    assert [str(w.message) for w in caught] == [str(w.message) for w in expected]
    assert ft.nn.MSELoss().reduction == "mean"  # neither given: reduction= as passed


# -- tensors ---------------------------------------------------------------------------


def test_tensor_ops_match_torch(torch):
    a = np.arange(12, dtype=np.float32).reshape(3, 4) / 7 - 0.5
    b = np.linspace(-1, 1, 4).astype(np.float32)
    results = []
    for t in (torch, ft):
        x, y = t.tensor(a), t.tensor(b)
        outs = [x + y, 2 - x, x * 3, 1 / (x + 2), x @ y, x ** 2, -x, abs(x), x > 0,
                x.sum(), x.mean(1), x.max(), x.max(dim=1)[0], x.max(dim=1)[1], x.argmax(1),
                t.softmax(x, 1), t.relu(x), t.sigmoid(x), t.tanh(x), x.view(-1, 2),
                x.reshape(4, 3), t.flatten(x.view(3, 2, 2), 1), x[1], x[:, 1:3], x[..., 0],
                x.t(), x.unsqueeze(0), t.cat([x, x], 0), t.stack([x, x], 1), x.exp(),
                t.where(x > 0, x, t.zeros(3, 4)), x.clamp(-0.2, 0.2), (x > 0).float(),
                x.std(), x.var(0), x.eq(x), x.sum(dim=0, keepdim=True), t.argmax(x)]
        results.append([o.detach().numpy() for o in outs])
    for got, ref in zip(results[1], results[0], strict=True):
        np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-6)
        assert got.shape == ref.shape


def test_tensor_metadata_and_conversions():
    x = ft.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x.shape == (2, 2) and x.size() == ft.Size([2, 2]) and x.size(1) == 2
    assert x.dim() == 2 and x.ndim == 2 and len(x) == 2 and x.numel() == 4
    assert x.dtype is ft.float32 and ft.float is ft.float32
    assert x.sum().item() == 10.0 and x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert x.long().dtype is ft.long and x.to(ft.int32).dtype is ft.int32
    assert x.to("cpu") is x and x.cpu() is x
    if ft.cuda.is_available():  # without a GPU these raise (tests/test_shim_devices.py)
        assert x.to("cuda") is x and x.cuda() is x
    assert repr(ft.Size([2, 3])) == "torch.Size([2, 3])"
    assert float(x[0, 1]) == 2.0 and int(x[1, 1]) == 4
    assert bool(x.sum() > 5)
    labels = ft.tensor([1, 2])
    assert labels.dtype is ft.int64  # int32 without jax x64: the same object
    assert (ft.int64 is ft.int32) == (not jax.config.read("jax_enable_x64"))


@pytest.mark.parametrize("values", [
    [1.0, 2.5, -3.0], [1.0, 2.0, 3.0], [[1, 2], [3, 4]], 0.5, [True, False],
    [[0.001, 123.5]], [1e-5, 1.0],
])
def test_tensor_repr_matches_torch(torch, values):
    assert repr(ft.tensor(values)) == repr(torch.tensor(values))


def test_a_shapes_slices_sums_and_repeats_are_shapes_as_torch(torch):
    for T in (torch, ft):
        shape = T.ones(1, 2, 3).shape
        made = (shape[1:], shape[::-1], shape + (4,), (4,) + shape, shape * 2, 2 * shape)
        assert [repr(s) for s in made] == [
            "torch.Size([2, 3])", "torch.Size([3, 2, 1])", "torch.Size([1, 2, 3, 4])",
            "torch.Size([4, 1, 2, 3])", "torch.Size([1, 2, 3, 1, 2, 3])",
            "torch.Size([1, 2, 3, 1, 2, 3])"]
        assert type(shape[0]) is int and shape[1:] == (2, 3)
        with pytest.raises(TypeError, match=r"can only concatenate tuple \(not list\) to "
                                            r"torch.Size"):
            shape + [4]


def test_a_0_dim_operand_promotes_by_category_only_as_torch(torch):
    # a float16 batch times a 0-dim float32 scale stays float16, as in PyTorch
    for T in (torch, ft):
        half, bf16, scale = (T.ones(2, dtype=T.float16), T.ones(2, dtype=T.bfloat16),
                             T.tensor(2.0, requires_grad=True))
        results = [half * scale, scale * half, half + scale, bf16 / scale, half - scale,
                   2 - half * scale, half ** scale, T.tensor([1, 2]) * scale,
                   T.tensor(2.0) * T.tensor(3.0, dtype=T.float16), T.ones(2) * scale,
                   T.where(half > 0, half, scale), T.maximum(half, scale),
                   half.clamp(min=scale), half.clamp(max=T.ones(2))]
        kinds = [str(r.dtype) for r in results]
        assert kinds == ["torch.float16"] * 3 + ["torch.bfloat16"] + ["torch.float16"] * 3 + \
            ["torch.float32"] * 3 + ["torch.float16"] * 3 + ["torch.float32"]
        (half * scale).sum().backward()
        assert scale.grad.dtype == T.float32 and scale.grad.item() == 2.0


def test_finfo_and_iinfo_give_pytorchs_python_numbers(torch):
    for T in (torch, ft):
        infos = [T.finfo(), T.finfo(T.float16), T.finfo(T.bfloat16), T.iinfo(T.int8),
                 T.iinfo(T.uint8)]
        assert [repr(i) for i in infos] == [repr(i) for i in (
            torch.finfo(), torch.finfo(torch.float16), torch.finfo(torch.bfloat16),
            torch.iinfo(torch.int8), torch.iinfo(torch.uint8))]
        assert [type(i.max) for i in infos] == [float] * 3 + [int] * 2
        assert infos[2].min == torch.finfo(torch.bfloat16).min and infos[0].dtype == "float32"
    for call in (lambda T: T.finfo(T.int16), lambda T: T.iinfo(T.float32),
                 lambda T: T.finfo("float32"), lambda T: T.iinfo(T.bool)):
        assert raised_by(call, torch, ft)[1] == raised_by(call, torch)[0]


def test_empty_tensor_repr_names_its_dtype_as_torch(torch):
    # no values to tell an int64 or bool tensor by: PyTorch names every non-default dtype
    for make in (lambda T: T.zeros(0, dtype=T.long), lambda T: T.zeros(2, 0, dtype=T.bool),
                 lambda T: T.zeros(0, 3), lambda T: T.bincount(T.tensor([], dtype=T.long))):
        assert repr(make(ft)) == repr(make(torch))


def test_tensor_repr_with_grad(torch):
    assert repr(ft.ones(2, requires_grad=True)) == repr(torch.ones(2, requires_grad=True))
    assert "grad_fn=<" in repr(ft.ones(2, requires_grad=True) * 2)


def test_view_error_as_torch(torch):
    x = np.zeros((16, 32, 32), np.float32)
    with pytest.raises(RuntimeError) as ref:
        torch.tensor(x).view(-1, 400)
    with pytest.raises(RuntimeError) as got:
        ft.tensor(x).view(-1, 400)
    assert str(got.value) == str(ref.value) == \
        "shape '[-1, 400]' is invalid for input of size 16384"


def test_shape_error_is_pytorchs():
    # the words a user searches for (test_shim_shape_errors compares them with PyTorch's)
    layer = ft.nn.Linear(784, 10)
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied "
                       r"\(8x100 and 784x10\)"):
        layer(ft.zeros(8, 100))
    conv = ft.nn.Conv2d(3, 8, 3)
    with pytest.raises(RuntimeError, match=r"expected input\[2, 1, 8, 8\] to have 3 channels"):
        conv(ft.zeros(2, 1, 8, 8))


@pytest.mark.parametrize("value, kind", [
    (np.ones((2, 3), np.float32), "numpy.ndarray"), ([[1.0, 2.0, 3.0]], "list"),
])
def test_layers_refuse_non_tensor_input_as_torch(torch, value, kind):
    # PyTorch's words where they name the function the layer calls (or the tensor method
    # it calls first); fnnet's own where PyTorch lists a function's overloads (Conv2d)
    for make in (lambda T: T.nn.Sequential(T.nn.Linear(3, 2), T.nn.ReLU()),
                 lambda T: T.nn.ReLU(), lambda T: T.nn.Embedding(4, 2),
                 lambda T: T.nn.BatchNorm1d(3), lambda T: T.nn.LogSoftmax(1)):
        pytorchs, fnnets = raised_by(lambda T: make(T)(value), torch, ft)  # noqa: B023
        assert fnnets == pytorchs
    with pytest.raises(TypeError, match=f"^Conv2d: input must be a Tensor, got {kind}; "
                       r"convert it with torch.from_numpy\(x\) or torch.tensor\(x\)$"):
        ft.nn.Conv2d(1, 1, 3)(value)


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss", "CrossEntropyLoss"])
@pytest.mark.parametrize("label", [7, -1])
def test_out_of_range_labels_raise_index_error_as_torch(torch, loss, label):
    x = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
    y = np.array([0, 2, label, 1])

    def run(lib):
        fn = getattr(lib.nn, loss)() if loss[0].isupper() else getattr(lib.nn.functional, loss)
        return fn(lib.tensor(x), lib.tensor(y))

    assert raised_by(run, torch, ft) == [(IndexError, f"Target {label} is out of bounds.")] * 2
    y[2] = -100  # the default ignore_index is allowed
    assert run(ft).item() == pytest.approx(run(torch).item(), rel=1e-6)


@pytest.mark.parametrize("reduction, delta", [("mean", 1.0), ("sum", 0.5), ("none", 2.0)])
def test_huber_loss_value_and_gradient_match_torch(torch, reduction, delta):
    x = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    t = np.cos(x).astype(np.float32)
    results = []
    for lib in (torch, ft):
        inp = lib.tensor(x, requires_grad=True)
        loss = lib.nn.HuberLoss(reduction=reduction, delta=delta)(inp, lib.tensor(t))
        loss.sum().backward()
        results.append((loss.detach().numpy(), inp.grad.numpy()))
    for got, ref in zip(results[1], results[0], strict=True):
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
    with pytest.raises(RuntimeError, match="does not support non-positive values for delta"):
        ft.nn.HuberLoss(delta=0)(ft.tensor(x), ft.tensor(t))  # checked at the call, as PyTorch


@pytest.mark.parametrize("max_norm, norm_type", [(0.5, 2.0), (0.5, 1.0), (0.5, float("inf")),
                                                 (100.0, 2.0), (float("inf"), 2.0)])
def test_clip_grad_norm_matches_torch(torch, max_norm, norm_type):
    x = np.linspace(-2, 2, 12, dtype=np.float32).reshape(4, 3)
    results = []
    for lib in (torch, ft):
        lib.manual_seed(0)
        layer = lib.nn.Linear(3, 2)
        with lib.no_grad():
            layer.weight.copy_(lib.tensor([[0.5, -1.0, 2.0], [0.3, 0.2, -0.1]]))
            layer.bias.copy_(lib.tensor([0.1, -0.2]))
        (layer(lib.tensor(x)) ** 2).sum().backward()
        norm = lib.nn.utils.clip_grad_norm_(layer.parameters(), max_norm, norm_type)
        results.append([float(norm), layer.weight.grad.numpy(), layer.bias.grad.numpy()])
    (want_norm, *want), (got_norm, *got) = results
    assert got_norm == pytest.approx(want_norm, rel=1e-6)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_a_max_norm_changing_every_step_compiles_once(recorder):
    """A schedule of the clipping threshold (warm-up code raises it step by step) is an
    input of the step, not part of its structure."""
    layer = ft.nn.Linear(3, 2)
    opt = ft.optim.SGD(layer.parameters(), lr=0.1)
    norms = []
    for step in range(6):
        opt.zero_grad()
        (layer(ft.ones(4, 3)) ** 2).sum().backward()
        norms.append(ft.nn.utils.clip_grad_norm_(layer.parameters(), 0.5 + 0.1 * step))
        opt.step()
        norms[-1].item()
    assert ft.compile_stats()["compiles"] == 1, ft.compile_stats()["log"]


def test_clip_grad_norm_refuses_a_bad_max_norm():
    layer = ft.nn.Linear(3, 2)
    layer(ft.ones(1, 3)).sum().backward()
    with pytest.raises(ValueError, match="clip_grad_norm_: max_norm must be a positive "
                       "finite number, got -1.0"):
        ft.nn.utils.clip_grad_norm_(layer.parameters(), -1.0)


def test_backward_errors(torch):
    with pytest.raises(RuntimeError, match="does not require grad"):
        ft.ones(3).sum().backward()
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        (ft.ones(3, requires_grad=True) * 2).backward()
    w = ft.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.add_(1)


def test_boolean_mask_indexing_reads_the_mask():
    # the result's size depends on the mask's values: read on the host, then gathered
    # (parity with PyTorch, gradients included, in test_shim_more_surface.py)
    x = ft.arange(4.0)
    assert x[x > 1].tolist() == [2.0, 3.0]


# -- autograd semantics ---------------------------------------------------------------


def test_grads_accumulate_until_zero_grad(torch):
    grads = []
    for t in (torch, ft):
        w = t.tensor([1.0, -2.0, 3.0], requires_grad=True)
        (w * w).sum().backward()
        (w ** 3).sum().backward()
        first = w.grad.detach().numpy().copy()
        w.grad = None
        (2 * w).sum().backward()
        grads.append((first, w.grad.detach().numpy().copy()))
    np.testing.assert_allclose(grads[1][0], grads[0][0])
    np.testing.assert_allclose(grads[1][1], grads[0][1])


def test_backward_with_gradient_and_detach(torch):
    out = []
    for t in (torch, ft):
        w = t.tensor([1.0, 2.0], requires_grad=True)
        y = w * 3
        z = y * y.detach()  # detach: no gradient through the second factor
        z.backward(t.tensor([1.0, 0.5]))
        out.append(w.grad.detach().numpy())
    np.testing.assert_allclose(out[1], out[0])


def test_no_grad_context_and_decorator():
    w = ft.ones(2, requires_grad=True)
    with ft.no_grad():
        assert not (w * 2).requires_grad
        assert not ft.is_grad_enabled()

    @ft.no_grad()
    def f(x):
        return x * 2

    assert not f(w).requires_grad and (w * 2).requires_grad and ft.is_grad_enabled()


def test_manual_sgd_loop_compiles_once_per_iteration_structure(torch):
    results = []
    for t in (torch, ft):
        x = t.tensor(np.linspace(-1, 1, 20, dtype=np.float32).reshape(-1, 1))
        y = 3 * x + 1
        w = t.zeros(1, 1, requires_grad=True)
        b = t.zeros(1, requires_grad=True)
        if t is ft:
            ft.reset_compile_stats()
        for _ in range(30):
            loss = ((x @ w + b - y) ** 2).mean()
            loss.backward()
            with t.no_grad():
                w -= 0.1 * w.grad
                b -= 0.1 * b.grad
                w.grad = None
                b.grad = None
        results.append((w.detach().numpy().copy(), b.detach().numpy().copy()))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-5)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-5)
    stats = ft.compile_stats()
    assert stats["compiles"] <= 2 and stats["hits"] >= 28


def test_second_backward_needs_retain_graph(torch):
    for t in (torch, ft):
        w = t.ones(2, requires_grad=True)
        loss = (w * w).sum()
        loss.backward(retain_graph=True)
        loss.backward()
        np.testing.assert_allclose(w.grad.detach().numpy(), [4.0, 4.0])
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            loss.backward()


def test_eval_without_no_grad_keeps_compiling_once():
    layer = ft.nn.Linear(4, 3)
    ft.reset_compile_stats()
    for i in range(6):
        out = layer(ft.tensor(np.full((8, 4), i, np.float32)))  # graph kept: out is live
        out.argmax(1).sum().item()
    # the live output's graph is carried into the next tape, so the structure settles
    # (after at most two new layouts) instead of growing with every batch
    assert ft.compile_stats()["compiles"] <= 3 and ft.compile_stats()["hits"] >= 3


def test_a_dropped_output_leaves_nothing_in_the_next_step():
    layer = ft.nn.Linear(4, 3)
    opt = ft.optim.SGD(layer.parameters(), lr=0.1)
    x = ft.ones(8, 4)
    out = layer(x)  # outside no_grad: reading it carries its graph into the next tape
    assert out.sum().item() != 0
    del out
    ft.reset_compile_stats()
    for _ in range(3):
        opt.zero_grad()
        layer(x).sum().backward()
        opt.step()
    stats = ft.compile_stats()
    # the dead graph neither costs a second compile nor enters the step
    assert stats["compiles"] == 1 and stats["hits"] == 2, stats["log"]


def test_a_flush_of_only_dead_carried_work_runs_nothing(recorder):
    layer = ft.nn.Linear(4, 3)
    out = layer(ft.ones(8, 4))
    out.sum().item()  # carries out's graph
    del out
    ft.reset_compile_stats()
    _compiler.flush()
    assert ft.compile_stats()["compiles"] == 0 and not recorder.tape.nodes


def test_loss_read_before_backward(torch):
    results = []
    for t in (torch, ft):
        layer = t.nn.Linear(3, 1)
        layer.load_state_dict({"weight": t.tensor([[0.5, -1.0, 2.0]]), "bias": t.tensor([0.1])})
        opt = t.optim.SGD(layer.parameters(), lr=0.1)
        seen = []
        for _ in range(4):
            opt.zero_grad()
            loss = (layer(t.ones(2, 3)) ** 2).mean()
            seen.append(loss.item())  # read before backward: the graph must survive
            loss.backward()
            opt.step()
        results.append((seen, layer.weight.detach().numpy().copy()))
    # the loss falls from 2.56 to 1.6e-4 as w1 + w2 + w3 + b (terms of order 1) cancel:
    # float32 rounding of the terms is ~1e-7 absolute, whatever the loss's own size
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-6)


def test_gan_style_graph_survives_another_optimizer_step(torch):
    """The generator's output keeps its graph across the discriminator's step."""
    results = []
    for t in (torch, ft):
        nn = t.nn
        gen, disc = nn.Linear(2, 3), nn.Linear(3, 1)
        gen.load_state_dict({"weight": t.tensor([[0.1, 0.2], [0.3, -0.4], [0.5, 0.6]]),
                             "bias": t.tensor([0.0, 0.1, -0.1])})
        disc.load_state_dict({"weight": t.tensor([[0.3, -0.2, 0.1]]),
                              "bias": t.tensor([0.05])})
        opt_g = t.optim.SGD(gen.parameters(), lr=0.1)
        opt_d = t.optim.SGD(disc.parameters(), lr=0.1)
        bce = nn.BCEWithLogitsLoss()
        for _ in range(3):
            fake = gen(t.ones(4, 2))
            opt_d.zero_grad()
            bce(disc(fake.detach()), t.zeros(4, 1)).backward()
            opt_d.step()
            opt_g.zero_grad()
            bce(disc(fake), t.ones(4, 1)).backward()  # through fake's graph
            opt_g.step()
        results.append([p.detach().numpy().copy() for p in (*gen.parameters(),
                                                            *disc.parameters())])
    for got, ref in zip(results[1], results[0], strict=True):
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-7)


def test_tied_weights_param_groups_and_no_zero_grad(torch):
    """A layer used twice, two parameter groups with their own lr, grads never zeroed."""
    results = []
    for t in (torch, ft):
        nn = t.nn
        shared, head = nn.Linear(3, 3), nn.Linear(3, 1)
        shared.load_state_dict({"weight": t.tensor(np.eye(3, dtype=np.float32) * 0.5),
                                "bias": t.tensor([0.1, 0.0, -0.1])})
        head.load_state_dict({"weight": t.tensor([[0.2, -0.3, 0.4]]), "bias": t.zeros(1)})
        opt = t.optim.SGD([{"params": shared.parameters()},
                           {"params": head.parameters(), "lr": 0.05}], lr=0.1, momentum=0.5)
        x = t.tensor([[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]])
        for _ in range(3):
            loss = head(t.tanh(shared(t.tanh(shared(x))))).pow(2).mean()
            loss.backward()  # no zero_grad: gradients keep accumulating, as in torch
            opt.step()
        results.append([p.detach().numpy().copy() for p in (*shared.parameters(),
                                                            *head.parameters())])
    for got, ref in zip(results[1], results[0], strict=True):
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-7)


def test_input_gradient_saliency(torch):
    grads = []
    for t in (torch, ft):
        layer = t.nn.Linear(3, 2)
        layer.load_state_dict({"weight": t.tensor([[1.0, 2.0, 3.0], [-1.0, 0.0, 1.0]]),
                               "bias": t.zeros(2)})
        x = t.tensor([[0.1, 0.2, 0.3]], requires_grad=True)
        layer(x).max().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0])


def test_graph_is_freed_by_step():
    layer = ft.nn.Linear(2, 1)
    opt = ft.optim.SGD(layer.parameters(), lr=0.1)
    out = layer(ft.ones(1, 2)).sum()
    out.backward()
    opt.step()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        out.backward()



def test_a_step_updates_parameters_in_their_own_buffers():
    # jax gives each donated input's buffer to the first output of its shape: the step
    # must list each parameter's new value before the gradients (of the same shapes),
    # or XLA copies every weight each step to keep reading it.
    net = ft.nn.Sequential(ft.nn.Linear(8, 4), ft.nn.ReLU(), ft.nn.Linear(4, 4))
    opt = ft.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    x, y = ft.randn(5, 8), ft.tensor([0, 1, 2, 3, 0])

    def step():
        opt.zero_grad()
        ft.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()

    step()
    step()  # the momentum buffers now exist and come in donated too
    params = list(net.parameters())
    before = [p.data._cell.val.unsafe_buffer_pointer() for p in params]
    momenta = [opt.state[p]["momentum_buffer"]._cell.val.unsafe_buffer_pointer()
               for p in params]
    step()
    assert [p.data._cell.val.unsafe_buffer_pointer() for p in params] == before
    assert [opt.state[p]["momentum_buffer"]._cell.val.unsafe_buffer_pointer()
            for p in params] == momenta

# -- modules and state dicts ----------------------------------------------------------


def _lenet(t):
    nn = t.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
                                          nn.BatchNorm2d(6), nn.Dropout(0.25))
            self.head = nn.ModuleList([nn.Flatten(), nn.Linear(6 * 14 * 14, 10)])
            self.register_buffer("scale", t.ones(1))

        def forward(self, x):
            x = self.features(x)
            for layer in self.head:
                x = layer(x)
            return x * self.scale

    return Net()


def test_module_repr_and_state_dict_layout_match_torch(torch):
    ref, got = _lenet(torch), _lenet(ft)
    assert repr(got) == repr(ref)
    assert list(got.state_dict()) == list(ref.state_dict())
    for (name, a), b in zip(got.state_dict().items(), ref.state_dict().values(), strict=True):
        assert tuple(a.shape) == tuple(b.shape), name
    assert [n for n, _ in got.named_parameters()] == [n for n, _ in ref.named_parameters()]
    assert [n for n, _ in got.named_buffers()] == [n for n, _ in ref.named_buffers()]
    assert len(list(got.modules())) == len(list(ref.modules()))
    assert [n for n, _ in got.named_children()] == ["features", "head"]
    got.eval()
    assert not any(m.training for m in got.modules())


def test_transformer_layers_print_as_torchs(torch):
    """A transformer model prints as PyTorch's, attention's out_proj under PyTorch's
    class name (NonDynamicallyQuantizableLinear), and is still a Linear."""
    for make in (lambda nn: nn.TransformerEncoderLayer(16, 2, 32, batch_first=True),
                 lambda nn: nn.TransformerDecoderLayer(8, 2, 16, norm_first=True),
                 lambda nn: nn.MultiheadAttention(8, 2, batch_first=True)):
        assert repr(make(ft.nn)) == repr(make(torch.nn))
    assert isinstance(ft.nn.MultiheadAttention(8, 2).out_proj, ft.nn.Linear)


def _heads(lib):
    class Heads(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.trunk = lib.nn.Linear(4, 4)
            self.heads = lib.nn.ModuleDict({"cls": lib.nn.Linear(4, 3), "reg": lib.nn.Linear(4, 1)})
            self.heads["aux"] = lib.nn.Linear(4, 2)

        def forward(self, x):
            h = lib.relu(self.trunk(x))
            return sum(head(h).sum() for head in self.heads.values())

    return Heads()


def test_module_dict_registers_and_trains_as_torch(torch):
    ref, got = _heads(torch), _heads(ft)
    got.load_state_dict({k: ft.tensor(v.numpy()) for k, v in ref.state_dict().items()})
    assert list(got.state_dict()) == list(ref.state_dict())
    assert repr(got) == repr(ref)
    assert list(got.heads) == ["cls", "reg", "aux"] and "reg" in got.heads and len(got.heads) == 3
    x = np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)
    ref(torch.tensor(x)).backward()
    got(ft.tensor(x)).backward()
    for (name, a), b in zip(got.named_parameters(), ref.parameters(), strict=True):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=name)
    popped = got.heads.pop("aux")
    assert isinstance(popped, ft.nn.Linear) and "heads.aux.weight" not in got.state_dict()
    with pytest.raises(KeyError):
        del got.heads["aux"]
    with pytest.raises(TypeError, match="pairs of"):
        ft.nn.ModuleDict([ft.nn.Linear(1, 1)])


def test_load_state_dict_errors_as_torch(torch):
    ref, got = torch.nn.Linear(3, 2), ft.nn.Linear(3, 2)
    bad = {"weight": np.zeros((2, 4), np.float32), "extra": np.zeros(1, np.float32)}
    with pytest.raises(RuntimeError) as r:
        ref.load_state_dict({k: torch.tensor(v) for k, v in bad.items()})
    with pytest.raises(RuntimeError) as g:
        got.load_state_dict(bad)
    assert str(g.value) == str(r.value)


def test_load_state_dict_returns_and_prints_as_torch(torch):
    """``print(model.load_state_dict(...))`` is a usual line of tutorials."""
    ref, got = torch.nn.Linear(3, 2), ft.nn.Linear(3, 2)
    for strict, names in ((True, ("weight", "bias")), (False, ("weight",))):
        r = ref.load_state_dict({k: ref.state_dict()[k] for k in names}, strict=strict)
        g = got.load_state_dict({k: got.state_dict()[k] for k in names}, strict=strict)
        assert (str(g), repr(g), type(g).__name__) == (str(r), repr(r), type(r).__name__)
        assert tuple(g) == tuple(r) and g.missing_keys == r.missing_keys


def _linear_norm(lib):
    return lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.BatchNorm1d(2))


def test_load_state_dict_assign_replaces_tensors_as_torch(torch):
    """``assign=True`` takes the checkpoint's tensors and dtypes; the parameters stay
    Parameters with the old ``requires_grad``; a meta-device module loads this way."""
    source = _linear_norm(torch)
    halves = {k: v.half() if v.is_floating_point() else v
              for k, v in source.state_dict().items()}
    x = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    for lib, sd in ((torch, halves), (ft, {k: ft.tensor(v.numpy()) for k, v in halves.items()})):
        model = _linear_norm(lib)
        model[0].bias.requires_grad_(False)
        assert str(model.load_state_dict(sd, assign=True)) == "<All keys matched successfully>"
        seen = [(k, str(v.dtype), type(v).__name__, v.requires_grad)
                for k, v in model.state_dict(keep_vars=True).items()]
        if lib is torch:
            expected = seen
        else:
            assert seen == expected
            np.testing.assert_array_equal(model[0].weight.detach().numpy(),
                                          halves["0.weight"].numpy())
        with lib.device("meta"):
            assert str(lib.get_default_device()) == "meta"
            empty = _linear_norm(lib)
        assert str(lib.get_default_device()) == "cpu"
        empty.load_state_dict({k: lib.tensor(v.numpy()) for k, v in source.state_dict().items()},
                              assign=True)
        out = empty(lib.tensor(x)).detach().numpy()
        if lib is torch:
            want = out
        else:
            np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-6)
        filled = empty.to_empty(device="cpu")
        assert filled is empty
        assert [p.shape for p in filled.parameters()] == [p.shape for p in source.parameters()]
    assert raised_by(lambda T: T.nn.Linear(2, 2).to_empty(), torch, ft)[1][0] is TypeError
    pytorchs, fnnets = raised_by(lambda T: T.nn.Linear(2, 2).to_empty(device=0.5), torch, ft)
    assert fnnets == pytorchs
    bad = {"weight": np.ones((2, 3), np.int64), "bias": np.zeros(2, np.float32)}
    with pytest.raises(RuntimeError) as r:
        torch.nn.Linear(3, 2).load_state_dict({k: torch.tensor(v) for k, v in bad.items()},
                                              assign=True)
    model = ft.nn.Linear(3, 2)
    weight = model.weight
    with pytest.raises(RuntimeError) as g:
        model.load_state_dict(bad, assign=True)
    assert str(g.value) == str(r.value) and model.weight is weight


def test_state_dict_after_training_equals_the_fnnet_tree():
    ft.manual_seed(1)
    model = ft.nn.Sequential(ft.nn.Linear(4, 8), ft.nn.BatchNorm1d(8), ft.nn.ReLU(),
                             ft.nn.Linear(8, 3))
    opt = ft.optim.Adam(model.parameters(), lr=0.01)
    x, y = ft.randn(16, 4), ft.randint(0, 3, (16,))
    for _ in range(5):
        opt.zero_grad()
        ft.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    shim = {k: v.numpy() for k, v in model.state_dict().items()}
    pure = fnnet.nn.Sequential(fnnet.nn.Linear(4, 8), fnnet.nn.BatchNorm1d(8),
                               fnnet.nn.ReLU(), fnnet.nn.Linear(8, 3))
    params, state = fnnet.nn.load_state_dict(pure, shim)
    tree = fnnet.nn.state_dict(params, state)
    assert list(tree) == list(shim)
    for name in shim:
        np.testing.assert_array_equal(np.asarray(tree[name]), shim[name])
    assert shim["1.num_batches_tracked"] == 5
    # and the shim computes what the pure model computes
    model.eval()
    with ft.no_grad():
        got = model(x).numpy()
    want, _ = pure.apply(params, state, np.asarray(x.numpy()))
    np.testing.assert_allclose(got, np.asarray(want), rtol=1e-6, atol=1e-6)


def test_save_and_load_round_trip(tmp_path):
    model = ft.nn.Sequential(ft.nn.Linear(3, 4), ft.nn.BatchNorm1d(4))
    opt = ft.optim.Adam(model.parameters())
    model(ft.randn(5, 3)).sum().backward()
    opt.step()
    ft.save({"model": model.state_dict(), "opt": opt.state_dict()}, tmp_path / "ckpt.pt")
    loaded = ft.load(tmp_path / "ckpt.pt")
    other = ft.nn.Sequential(ft.nn.Linear(3, 4), ft.nn.BatchNorm1d(4))
    other.load_state_dict(loaded["model"])
    for (name, a), b in zip(model.state_dict().items(), other.state_dict().values(),
                            strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    assert set(loaded["opt"]["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}


def test_state_dict_shares_storage_like_torch():
    layer = ft.nn.Linear(2, 2)
    sd = layer.state_dict()
    snapshot = {k: v.clone() for k, v in sd.items()}
    with ft.no_grad():
        layer.weight.add_(1.0)
    np.testing.assert_allclose(sd["weight"].numpy(), snapshot["weight"].numpy() + 1.0)


# -- optimizers -------------------------------------------------------------------------


@pytest.mark.parametrize("name, kwargs, keys", [
    ("SGD", dict(lr=0.1, momentum=0.9), ["momentum_buffer"]),
    ("Adam", dict(lr=0.01), ["step", "exp_avg", "exp_avg_sq"]),
    ("AdamW", dict(lr=0.01), ["step", "exp_avg", "exp_avg_sq"]),
    ("Adagrad", dict(lr=0.1), ["step", "sum"]),
    ("RMSprop", dict(lr=0.01, momentum=0.5), ["step", "square_avg", "momentum_buffer"]),
])
def test_optimizer_state_dict_format_and_values(torch, name, kwargs, keys):
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((3, 2)).astype(np.float32)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    dicts, weights = [], []
    for t in (torch, ft):
        w = t.nn.Parameter(t.tensor(w0))
        opt = getattr(t.optim, name)([w], **kwargs)
        for _ in range(3):
            opt.zero_grad()
            (t.tensor(x) @ w).tanh().sum().backward()
            opt.step()
        dicts.append(opt.state_dict())
        weights.append(w.detach().numpy().copy())
    ref, got = dicts
    np.testing.assert_allclose(weights[1], weights[0], rtol=1e-5, atol=1e-6)
    assert list(got["state"]) == [0] and got["param_groups"][0]["params"] == [0]
    for key in keys:
        assert key in ref["state"][0]
        np.testing.assert_allclose(np.asarray(got["state"][0][key]),
                                   ref["state"][0][key].numpy(), rtol=1e-5, atol=1e-7,
                                   err_msg=key)
    assert got["param_groups"][0]["lr"] == ref["param_groups"][0]["lr"]


def test_sgd_without_momentum_state_as_torch(torch):
    states = []
    for t in (torch, ft):
        w = t.nn.Parameter(t.ones(2))
        opt = t.optim.SGD([w], lr=0.1)
        (w * w).sum().backward()
        opt.step()
        states.append(opt.state_dict()["state"])
    assert states[1] == states[0] == {}  # no momentum: no state at all


def test_sgd_dampened_momentum_resumes_from_torch_state(torch):
    w_ref = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    opt = torch.optim.SGD([w_ref], lr=0.1, momentum=0.9, dampening=0.5)
    for step in range(4):
        if step == 2:
            saved = copy.deepcopy(opt.state_dict())
            w_mid = w_ref.detach().numpy().copy()
        opt.zero_grad()
        (w_ref ** 2).sum().backward()
        opt.step()
    w = ft.nn.Parameter(ft.tensor(w_mid))
    opt2 = ft.optim.SGD([w], lr=0.1, momentum=0.9, dampening=0.5)
    opt2.load_state_dict(saved)
    for _ in range(2):
        opt2.zero_grad()
        (w ** 2).sum().backward()
        opt2.step()
    np.testing.assert_allclose(w.detach().numpy(), w_ref.detach().numpy(), rtol=1e-6)


def test_manual_seed_makes_init_and_sampling_reproducible():
    def draw():
        ft.manual_seed(42)
        return (ft.nn.Linear(3, 2).weight.detach().numpy(), ft.randn(4).numpy(),
                ft.rand(2).numpy())

    first, second = draw(), draw()
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    ft.manual_seed(43)
    assert not np.array_equal(ft.nn.Linear(3, 2).weight.detach().numpy(), first[0])


def test_reseeding_repeats_dropout_masks_recorded_in_one_step():
    dropout, x = ft.nn.Dropout(0.5), ft.ones(8, 16)
    ft.manual_seed(3)
    first = dropout(x)
    second_draw = dropout(x)
    ft.manual_seed(3)  # nothing read in between: both draws are still being recorded
    again = dropout(x)
    assert ft.equal(first, again)
    assert not ft.equal(first, second_draw)


def test_optimizer_load_state_dict_from_torch_continues_identically(torch):
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal((4,)).astype(np.float32)
    w = torch.nn.Parameter(torch.tensor(w0))
    opt = torch.optim.Adam([w], lr=0.05)
    for _ in range(3):
        opt.zero_grad()
        (w ** 2).sum().backward()
        opt.step()
    w_mid = w.detach().numpy().copy()
    state = copy.deepcopy(opt.state_dict())  # torch returns live tensors
    for _ in range(3):
        opt.zero_grad()
        (w ** 2).sum().backward()
        opt.step()
    v = ft.nn.Parameter(ft.tensor(w_mid))
    opt2 = ft.optim.Adam([v], lr=0.05)
    opt2.load_state_dict(state)
    for _ in range(3):
        opt2.zero_grad()
        (v ** 2).sum().backward()
        opt2.step()
    np.testing.assert_allclose(v.detach().numpy(), w.detach().numpy(), rtol=1e-5, atol=1e-5)


def test_lr_change_takes_effect_without_recompiling(torch):
    finals = []
    for t in (torch, ft):
        w = t.nn.Parameter(t.tensor([1.0, -1.0]))
        opt = t.optim.SGD([w], lr=0.1, momentum=0.9)
        if t is ft:
            ft.reset_compile_stats()
        for step in range(6):
            if step == 3:
                opt.param_groups[0]["lr"] = 0.01
            opt.zero_grad()
            (w ** 2).sum().backward()
            opt.step()
        finals.append(w.detach().numpy().copy())
    np.testing.assert_allclose(finals[1], finals[0], rtol=1e-6)
    assert ft.compile_stats()["compiles"] == 1 and ft.compile_stats()["hits"] == 5


@pytest.mark.parametrize("make", [
    lambda s, o: s.StepLR(o, step_size=2, gamma=0.5),
    lambda s, o: s.CosineAnnealingLR(o, T_max=4, eta_min=0.01),
])
def test_schedulers_match_torch_without_recompiling(torch, make):
    lrs, finals = [], []
    for t in (torch, ft):
        w = t.nn.Parameter(t.tensor([1.0, 2.0]))
        opt = t.optim.SGD([w], lr=0.1)
        sched = make(t.optim.lr_scheduler, opt)
        if t is ft:
            ft.reset_compile_stats()
        seen = []
        for _ in range(7):
            opt.zero_grad()
            (w ** 2).sum().backward()
            opt.step()
            sched.step()
            seen.append(sched.get_last_lr()[0])
        lrs.append(seen)
        finals.append(w.detach().numpy().copy())
    np.testing.assert_allclose(lrs[1], lrs[0], rtol=1e-6)
    np.testing.assert_allclose(finals[1], finals[0], rtol=1e-5)
    assert ft.compile_stats()["compiles"] == 1


@pytest.mark.parametrize("make", [
    lambda s, o: s.ExponentialLR(o, gamma=0.9),
    lambda s, o: s.StepLR(o, step_size=2, gamma=0.7),
    lambda s, o: s.MultiStepLR(o, milestones=[4, 6, 8, 10], gamma=0.5),
    lambda s, o: s.CyclicLR(o, 0.01, 0.1, step_size_up=2, mode="exp_range", gamma=0.9),
], ids=["exponential", "step", "multistep", "cyclic-exp_range"])
def test_scheduler_powers_compile_nothing_per_step(torch, make):
    """A scheduler stepped every batch computes its rate on the host: a power of gamma
    by the count compiled an XLA program for each new exponent (ExponentialLR: every
    step, 0.1 s each)."""
    rates = []
    for t in (torch, ft):
        opt = t.optim.SGD([t.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
        sched = make(t.optim.lr_scheduler, opt)
        seen = []
        with counting_compiles() as compiles:
            for step in range(12):
                if step == 2:
                    compiles.clear()  # the first steps compile the ops once
                opt.step()
                sched.step()
                seen.append(sched.get_last_lr()[0])
        assert not compiles
        rates.append(seen)
    np.testing.assert_allclose(rates[1], rates[0], rtol=1e-12)


@pytest.mark.parametrize("make", [
    lambda s, o: s.OneCycleLR(o, max_lr=0.5, total_steps=100),
    lambda s, o: s.CyclicLR(o, 0.01, 0.1, step_size_up=7),
    lambda s, o: s.CosineAnnealingLR(o, T_max=30, eta_min=0.001),
], ids=["onecycle", "cyclic", "cosine"])
def test_a_scheduler_stepped_every_batch_gives_torchs_rates_and_momenta_exactly(torch, make):
    """Stepped every batch, the rate and the momentum are PyTorch's floats digit for
    digit (computed on the host with PyTorch's arithmetic, no program per step)."""
    seen = []
    for t in (torch, ft):
        opt = t.optim.SGD([t.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
        sched = make(t.optim.lr_scheduler, opt)
        values = []
        for _ in range(40):
            opt.step()
            sched.step()
            values.append((opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"],
                           sched.get_last_lr()))
        seen.append(values)
    assert seen[1] == seen[0]


def test_changing_momentum_recompiles_with_a_reason():
    w = ft.nn.Parameter(ft.tensor([1.0]))
    opt = ft.optim.SGD([w], lr=0.1, momentum=0.5)
    ft.reset_compile_stats()
    for step in range(4):
        if step == 2:
            opt.param_groups[0]["momentum"] = 0.9
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
    stats = ft.compile_stats()
    assert stats["compiles"] == 2 and stats["hits"] == 2
    assert "momentum" in " ".join(stats["log"][1]["changes"])


@pytest.mark.parametrize("name, key, schedule", [
    ("AdamW", "weight_decay", lambda i: 0.04 + 0.02 * i),  # DINO's weight decay schedule
    ("SGD", "momentum", lambda i: 0.8 + 0.01 * i),  # a detector's momentum warm-up
    ("Adam", "betas", lambda i: (0.95 - 0.01 * i, 0.999)),
], ids=["weight_decay", "momentum", "betas"])
def test_a_hyperparameter_scheduled_by_hand_compiles_twice(torch, name, key, schedule):
    """A hyperparameter written into param_groups at every step becomes an input of the
    step at its second change, its state carried over: each new value compiled the step
    again, until the loop fell back to running op by op."""
    finals = []
    for t in (torch, ft):
        w = t.nn.Parameter(t.tensor([1.0, -2.0, 0.5]))
        opt = getattr(t.optim, name)([w], lr=0.05)
        if t is ft:
            ft.reset_compile_stats()
        for i in range(10):
            opt.param_groups[0][key] = schedule(i)
            opt.zero_grad()
            (w ** 2).sum().backward()
            opt.step()
        finals.append(w.detach().numpy().copy())
    # atol: Adam's steps take the third weight near 0 (float32 rounding, as unscheduled)
    np.testing.assert_allclose(finals[1], finals[0], rtol=1e-5, atol=1e-5)
    assert ft.compile_stats()["compiles"] <= 3, ft.compile_stats()["log"]


@pytest.mark.parametrize("name, key", [("SGD", "momentum"), ("SGD", "weight_decay"),
                                       ("Adam", "weight_decay")])
def test_a_hyperparameter_turned_on_mid_training_matches_torch(torch, name, key):
    """A momentum or weight decay set from 0 after some steps adds a piece of state
    (PyTorch makes its buffer at its first use): the step raised KeyError(key)."""
    finals = []
    for t in (torch, ft):
        w = t.nn.Parameter(t.tensor([1.0, -2.0, 0.5]))
        opt = getattr(t.optim, name)([w], lr=0.1)
        for i in range(5):
            if i == 2:
                opt.param_groups[0][key] = 0.5
            opt.zero_grad()
            (w ** 2).sum().backward()
            opt.step()
        finals.append(w.detach().numpy().copy())
    np.testing.assert_allclose(finals[1], finals[0], rtol=1e-5, atol=1e-5)


# -- compile cache ---------------------------------------------------------------------


def test_compile_stats_describe_shape_changes():
    layer = ft.nn.Linear(784, 10)
    opt = ft.optim.SGD(layer.parameters(), lr=0.1)
    ft.reset_compile_stats()
    for n in (64, 64, 16, 64):
        opt.zero_grad()
        layer(ft.zeros(n, 784)).sum().backward()
        opt.step()
    stats = ft.compile_stats()
    assert stats["compiles"] == 2 and stats["hits"] == 2
    assert "input 0 shape (64, 784) -> (16, 784)" in stats["log"][1]["changes"]


def _split_loop(read_every: int, steps: int = 6, host: bool = False) -> tuple[list, dict]:
    """An MLP loop with BatchNorm, Dropout, two backward calls and clipping per step;
    ``host``: the batches stay host arrays, as a DataLoader's over a custom dataset do."""
    ft.manual_seed(0)
    model = ft.nn.Sequential(ft.nn.Linear(6, 8), ft.nn.BatchNorm1d(8), ft.nn.ReLU(),
                             ft.nn.Dropout(0.25), ft.nn.Linear(8, 3))
    opt = ft.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    rng = np.random.default_rng(0)
    xs, ys = rng.standard_normal((steps * 8, 6)).astype(np.float32), rng.integers(0, 3, steps * 8)
    # on the device: a TensorDataset's batches, which DataLoader copies ahead
    loader = ft.utils.data.DataLoader(ft.utils.data.TensorDataset(ft.tensor(xs), ft.tensor(ys)),
                                      batch_size=8)
    ft.reset_compile_stats()
    losses = []
    for step, (x, y) in enumerate(loader):
        if host:
            x, y = default_collate(list(zip(xs[step * 8:step * 8 + 8], ys[step * 8:step * 8 + 8],
                                            strict=True)))
        opt.zero_grad()
        for half in (slice(0, 4), slice(4, 8)):
            loss = ft.nn.functional.cross_entropy(model(x[half]), y[half])
            loss.backward()
        ft.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        opt.step()
        losses.append(loss)
        if (step + 1) % read_every == 0:
            loss.item()
    return [loss.item() for loss in losses], {
        k: v.numpy() for k, v in model.state_dict().items()}


def test_a_loop_that_reads_its_loss_runs_each_step_as_two_programs(recorder, monkeypatch):
    monkeypatch.setattr(_split, "DEFER_CALLS", 0)  # two programs from the first step on
    losses, state = _split_loop(read_every=1)
    stats = ft.compile_stats()
    assert stats["compiles"] == 1 and stats["log"][0]["programs"] == 2, stats["log"]
    # the same steps as one program give the same numbers
    recorder.options.split = False
    one_losses, one_state = _split_loop(read_every=1)
    assert ft.compile_stats()["log"][0]["programs"] == 1
    np.testing.assert_allclose(losses, one_losses, rtol=1e-5)
    for name, value in state.items():
        np.testing.assert_allclose(value, one_state[name], rtol=1e-5, atol=1e-6,
                                   err_msg=name)


def test_a_loop_that_does_not_read_its_loss_every_step_runs_one_program():
    _split_loop(read_every=3, steps=9)
    stats = ft.compile_stats()
    # the first step is split (most loops read their loss); the next, unread since,
    # runs the split's whole step, compiled with it (BatchNorm's statistics, which both
    # programs replace, are not donated); both then serve as the reads come
    assert stats["compiles"] == 1 and stats["hits"] == 8, stats["log"]
    assert [entry["programs"] for entry in stats["log"]] == [2]


@pytest.mark.parametrize("forward_cost", [0.0, 0.02], ids=["cheap", "dear"])
def test_a_split_keeps_the_way_its_loop_runs_faster(forward_cost):
    # A fake of asynchronous dispatch: each program returns at once, its values ready
    # some milliseconds later, and the loop waits for the first (its loss). Split, the
    # loss comes from the forward program, 1 ms after its call; whole, from the step,
    # 4 ms after. A cheap forward makes the split faster; a dear one (computed in the
    # caller's time, as on a CPU shared with Python) makes it slower.
    import time

    from fnnet.torch._split import Split, trial_length

    def ready_in(seconds, value):
        return (time.perf_counter() + seconds, value)

    def forward(a):
        time.sleep(forward_cost)
        return [ready_in(0.001, a + 1)]

    def step(a, b):
        return [ready_in(0.004, a + 1), ready_in(0.004, a + b)]

    split = Split(forward, step, (0,), early=(0,), n_wanted=2)
    calls = 0
    trial = trial_length()
    while split.mode is None and calls < 2 * trial:
        (ready, loss), (_, total) = split(1, 2)
        time.sleep(max(0.0, ready - time.perf_counter()))  # loss.item()
        assert (loss, total) == (2, 3)
        calls += 1
    assert calls <= trial
    assert split.mode is (forward_cost == 0.0)
    assert [value for _, value in split(5, 1)] == [6, 6]


def test_a_split_times_both_ways_again_when_the_load_changes(monkeypatch):
    # the fake of the test above: the forward pass turns dear after the split chose two
    # programs (another process took the core the step ran on), and the split goes back
    # to one program at its next trial; the interval then doubles while one way keeps winning
    import time

    from fnnet.torch import _split

    monkeypatch.setattr(_split, "RETRIAL_AFTER", 4)
    cost = [0.0]

    def ready_in(seconds, value):
        return (time.perf_counter() + seconds, value)

    def forward(a):
        time.sleep(cost[0])
        return [ready_in(0.001, a + 1)]

    def step(a, b):
        return [ready_in(0.004, a + 1), ready_in(0.004, a + b)]

    split = _split.Split(forward, step, (0,), early=(0,), n_wanted=2)

    def run_until(done, limit):
        for _ in range(limit):
            if done():
                return
            (ready, _), _ = split(1, 2)
            time.sleep(max(0.0, ready - time.perf_counter()))
        assert done(), f"no decision in {limit} calls: mode {split.mode}"

    timed = _split.trial_length() - _split.DEFER_CALLS - _split.WARMUP_CALLS
    run_until(lambda: split.mode is True, _split.trial_length())
    cost[0] = 0.006
    run_until(lambda: split.mode is None, 6)  # the next trial starts after 4 calls
    run_until(lambda: split.mode is False, timed)
    assert split._retrial_after == 4  # the other way won: the interval starts again
    run_until(lambda: split.mode is None, 6)
    run_until(lambda: split.mode is not None, timed)
    assert split.mode is False and split._retrial_after == 8


@pytest.mark.parametrize("python_ms, faster", [(1.0, "one program"), (9.0, "two programs")])
def test_a_split_times_each_way_without_the_others_leftover_work(monkeypatch,
                                                                        python_ms, faster):
    # A device that runs one program at a time, in call order, on a clock of its own:
    # forward 3 ms, step 8 ms, and the loop's Python between calls. Split, an iteration
    # takes forward + step (11 ms) while Python is shorter than the step, forward +
    # Python (12 ms) with 9 ms of Python; one program takes step + Python (9 ms, 17 ms).
    # Right after a switch, a split call finds the device idle (4 ms) and a whole call
    # finds the split's last step still queued (16 ms): timed there too, the split
    # looked faster with 1 ms of Python, where it is slower.
    from fnnet.torch import _split

    clock = {"now": 0.0, "free": 0.0}
    monkeypatch.setattr(_split.time, "perf_counter", lambda: clock["now"])

    def run(cost, value):
        clock["free"] = max(clock["now"], clock["free"]) + cost
        return [(clock["free"], value)]

    split = _split.Split(lambda a: run(0.003, a + 1), lambda a, b: run(0.008, a + b) * 2,
                         (0,), early=(0,), n_wanted=2)
    for _ in range(200):
        if split.mode is not None:
            break
        (ready, _), _ = split(1, 2)
        clock["now"] = max(clock["now"], ready) + python_ms / 1000  # loss.item(), Python
    assert {True: "two programs", False: "one program"}[split.mode] == faster


def test_a_short_loop_with_batchnorm_compiles_its_whole_step_alone(recorder):
    # BatchNorm's statistics, replaced by both programs, are not donated, so the whole
    # step runs alone for the split's first calls: two steps never compile the forward
    # program; host batches copied to the device once give the same numbers
    host, _ = _split_loop(read_every=1, steps=2, host=True)
    assert [entry["programs"] for entry in ft.compile_stats()["log"]] == [2]
    (fn,) = recorder.cache.values()
    assert fn.mode is None and fn._calls == 2  # still running its first calls alone
    device, _ = _split_loop(read_every=1, steps=2)
    np.testing.assert_allclose(host, device, rtol=1e-6)


def test_a_split_on_host_batches_copies_them_once_and_agrees(recorder):
    # the split can run its whole step alone, so host batches are copied to the device
    # once before the two programs when it runs split
    def losses() -> list[float]:
        ft.manual_seed(0)
        model = ft.nn.Sequential(ft.nn.Linear(6, 8), ft.nn.ReLU(), ft.nn.Linear(8, 3))
        opt = ft.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        rng = np.random.default_rng(1)
        out = []
        for _ in range(_split.trial_length() + 2):
            x, y = rng.standard_normal((8, 6)).astype(np.float32), rng.integers(0, 3, 8)
            x, y = default_collate(list(zip(x, y, strict=True)))
            opt.zero_grad()
            loss = ft.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            out.append(loss.item())
        return out

    split = losses()
    assert [entry["programs"] for entry in ft.compile_stats()["log"]] == [2]
    (fn,) = recorder.cache.values()
    assert fn.mode is not None  # timed both ways, then kept one
    recorder.options.split = False
    ft.reset_compile_stats()
    np.testing.assert_allclose(split, losses(), rtol=1e-6)
    assert [entry["programs"] for entry in ft.compile_stats()["log"]] == [1]


def _read_loop(steps: int, read: str = "after step") -> tuple[list[float], list[list[int]]]:
    """An MLP loop reading its loss every step (``read``: "after step", "before step" or
    "never"), forced to two programs once compiled; returns the losses and, per step,
    the count of forward-program runs after ``backward()`` and after ``step()``."""
    from fnnet.torch._split import Split

    ft.manual_seed(0)
    model = ft.nn.Sequential(ft.nn.Linear(6, 8), ft.nn.ReLU(), ft.nn.Linear(8, 3))
    opt = ft.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(2)
    xs = ft.tensor(rng.standard_normal((8 * steps, 6)).astype(np.float32))
    ys = ft.tensor(rng.integers(0, 3, 8 * steps))
    runs = [0]
    losses, counts = [], []
    for i in range(steps):
        opt.zero_grad()
        loss = ft.nn.functional.cross_entropy(model(xs[8 * i:8 * i + 8]), ys[8 * i:8 * i + 8])
        before = runs[0]
        loss.backward()
        after_backward = runs[0] - before
        if read == "before step":
            losses.append(loss.item())
        opt.step()
        counts.append([after_backward, runs[0] - before])
        if read == "after step":
            losses.append(loss.item())
        for fn in ft._compiler.current().cache.values():
            if isinstance(fn, Split) and not hasattr(fn.forward, "counted"):
                fn.mode, fn._retrial_after = True, 10 ** 9  # two programs from now on
                forward = fn.forward

                def counted(*args, forward=forward):
                    runs[0] += 1
                    return forward(*args)

                counted.counted = True
                fn.forward = counted
    return losses, counts


def test_a_split_step_starts_its_loss_at_backward_and_agrees(recorder):
    losses, counts = _read_loop(steps=6)
    # from the second step, the forward program runs once, inside backward(): the loss
    # is computed while Python records the rest of the step
    assert counts[1:] == [[1, 1]] * 5, counts
    recorder.options.split = False
    ft.reset_compile_stats()
    one, _ = _read_loop(steps=6)
    np.testing.assert_allclose(losses, one, rtol=1e-6)


def test_a_loop_reading_its_loss_before_the_step_starts_nothing_at_backward(recorder):
    # the loss is read before step(): that flush computes it, and a forward program
    # started by backward() would be wasted work
    losses, counts = _read_loop(steps=5, read="before step")
    assert all(c == [0, 0] for c in counts), counts
    recorder.options.split = False
    ft.reset_compile_stats()
    np.testing.assert_allclose(losses, _read_loop(steps=5, read="before step")[0], rtol=1e-6)


def test_a_loop_that_stops_reading_its_loss_stops_starting_it_at_backward():
    # the first step is split (most loops read); once a step flushes unread, as one
    # program, the next backward() starts nothing
    _, counts = _read_loop(steps=5, read="never")
    assert counts[2:] == [[0, 0]] * 3, counts


def test_a_split_whose_forward_reads_past_backward_runs_it_at_the_step():
    # _split_loop's wanted loss is the second backward's: its forward program reads
    # what comes after the first backward(), so it runs with the step, as before
    losses, _ = _split_loop(read_every=1, steps=4)
    assert not _compiler.current().early
    assert np.isfinite(losses).all()


def _accumulating_loop(steps: int = 8) -> tuple[list[float], dict]:
    """An MLP with Dropout whose step accumulates two half-batch backward passes, one
    with a ``gradient`` argument, and clips before Adam; reads its loss every step, and
    runs a split step as two programs from the second step on."""
    from fnnet.torch._split import Split

    ft.manual_seed(0)
    model = ft.nn.Sequential(ft.nn.Linear(6, 16), ft.nn.Tanh(), ft.nn.Dropout(0.2),
                             ft.nn.Linear(16, 3))
    opt = ft.optim.Adam(model.parameters(), lr=0.01)
    rng = np.random.default_rng(3)
    xs = ft.tensor(rng.standard_normal((8 * steps, 6)).astype(np.float32))
    ys = ft.tensor(rng.integers(0, 3, 8 * steps))
    losses = []
    for i in range(steps):
        opt.zero_grad()
        x, y = xs[8 * i:8 * i + 8], ys[8 * i:8 * i + 8]
        first = ft.nn.functional.cross_entropy(model(x[:4]), y[:4])
        first.backward(ft.tensor(0.5))
        loss = ft.nn.functional.cross_entropy(model(x[4:]), y[4:], reduction="sum") / 8
        loss.backward()
        ft.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
        for fn in ft._compiler.current().cache.values():
            if isinstance(fn, Split):
                fn.mode, fn._retrial_after = True, 10 ** 9
    return losses, {k: v.numpy() for k, v in model.state_dict().items()}


def test_a_split_step_with_dropout_and_two_backward_passes_agrees_with_one_program(
        recorder):
    losses, state = _accumulating_loop()
    assert [entry["programs"] for entry in ft.compile_stats()["log"]] == [2]
    with _compiler.fresh(split=False):
        one_losses, one_state = _accumulating_loop()
        assert [entry["programs"] for entry in ft.compile_stats()["log"]] == [1]
    np.testing.assert_allclose(losses, one_losses, rtol=1e-6)
    for name, value in state.items():
        np.testing.assert_allclose(value, one_state[name], rtol=1e-6, atol=1e-7, err_msg=name)


def test_a_large_step_is_not_split(recorder):
    recorder.options.split_bytes = 1000
    _split_loop(read_every=1, steps=2)
    assert [entry["programs"] for entry in ft.compile_stats()["log"]] == [1]


def test_changing_structure_falls_back_to_eager_with_one_warning(recorder):
    recorder.options.eager_after = 3
    w = ft.nn.Parameter(ft.tensor([1.0, 2.0]))
    opt = ft.optim.SGD([w], lr=0.1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in range(1, 9):
            opt.zero_grad()
            (w ** n).sum().backward()  # a new structure each step
            opt.step()
    messages = [str(c.message) for c in caught if "op by op" in str(c.message)]
    assert len(messages) == 1
    stats = ft.compile_stats()
    assert stats["eager"] and stats["compiles"] == 4 and stats["eager_runs"] == 4
    ref = np.array([1.0, 2.0], np.float32)
    for n in range(1, 9):
        ref = ref - 0.1 * n * ref ** (n - 1)
    np.testing.assert_allclose(w.detach().numpy(), ref, rtol=1e-5)


def test_eval_loop_under_no_grad_compiles_once():
    layer = ft.nn.Linear(4, 3)
    ft.reset_compile_stats()
    correct = 0
    with ft.no_grad():
        for i in range(5):
            x = ft.tensor(np.full((8, 4), i, np.float32))
            _, predicted = ft.max(layer(x), 1)
            correct += (predicted == 0).sum().item()
    assert 0 <= correct <= 40
    assert ft.compile_stats()["compiles"] == 1 and ft.compile_stats()["hits"] == 4


# -- data ------------------------------------------------------------------------------


def test_dataloader_batches_shuffle_and_drop_last():
    from fnnet.torch.utils.data import DataLoader, TensorDataset

    x = ft.arange(10).float().view(10, 1)
    y = ft.arange(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True,
                        generator=ft.Generator().manual_seed(0))
    assert len(loader) == 3
    batches = list(loader)
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    seen = np.concatenate([b[1].numpy() for b in batches])
    assert sorted(seen.tolist()) == list(range(10)) and seen.tolist() != list(range(10))
    np.testing.assert_array_equal(batches[0][0].numpy()[:, 0], batches[0][1].numpy())
    again = [b[1].numpy() for b in DataLoader(TensorDataset(x, y), batch_size=4,
                                               shuffle=True,
                                               generator=ft.Generator().manual_seed(0))]
    np.testing.assert_array_equal(np.concatenate(again), seen)
    dropped = DataLoader(TensorDataset(x, y), batch_size=4, drop_last=True)
    assert len(dropped) == 2 and [len(b[1]) for b in dropped] == [4, 4]


def test_dataloader_stopped_early_and_iterated_again_gives_every_batch_in_order():
    # a TensorDataset's batches are read and copied ahead of the one in use
    from fnnet.torch.utils.data import DataLoader, TensorDataset

    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    loader = DataLoader(TensorDataset(ft.from_numpy(x), ft.arange(20)), batch_size=3)
    first = next(iter(loader))
    np.testing.assert_array_equal(first[0].numpy(), x[:3])
    for _ in range(2):
        batches = list(loader)
        assert [len(b[1]) for b in batches] == [3] * 6 + [2]
        np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in batches]), x)
        np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in batches]),
                                      np.arange(20))
    for i, (xb, yb) in enumerate(loader):  # each batch used in a step as it comes
        rows = slice(3 * i, 3 * i + 3)
        expected = x[rows].sum() - np.arange(20)[rows].sum()
        assert float((xb.sum() - yb.float().sum()).item()) == float(expected)


@pytest.mark.parametrize("order", ["in order", "shuffled", "sampler"])
def test_dataloader_batches_on_the_device_equal_the_host_batches(order, monkeypatch):
    # a TensorDataset within DEVICE_DATASET_BYTES is batched from one device copy; a
    # larger one on the host: the same batches, in the same order, either way
    import fnnet.torch.utils.data as data

    x = np.random.default_rng(0).standard_normal((23, 3, 2)).astype(np.float32)
    y = np.arange(23)

    def epochs(limit):
        monkeypatch.setattr(data, "DEVICE_DATASET_BYTES", limit)
        dataset = data.TensorDataset(ft.from_numpy(x), ft.from_numpy(y))
        options = {"shuffle": True, "generator": ft.Generator().manual_seed(3)} \
            if order == "shuffled" else {"sampler": [22, -1, 0, 5, 5, 7, 1]} \
            if order == "sampler" else {}
        loader = data.DataLoader(dataset, batch_size=5, **options)
        got = [[(xb.numpy(), yb.numpy()) for xb, yb in loader] for _ in range(2)]
        return got, dataset._device

    on_device, copy = epochs(1 << 30)
    on_host, none = epochs(0)
    assert copy is not None and none is None
    assert all(isinstance(t, ft.Tensor) and isinstance(t._cell.val, jax.Array) for t in copy)
    for device_epoch, host_epoch in zip(on_device, on_host, strict=True):
        assert len(device_epoch) == len(host_epoch)
        for (dx, dy), (hx, hy) in zip(device_epoch, host_epoch, strict=True):
            assert dx.dtype == hx.dtype and dy.dtype == hy.dtype
            np.testing.assert_array_equal(dx, hx)
            np.testing.assert_array_equal(dy, hy)
    if order == "in order":
        np.testing.assert_array_equal(np.concatenate([b[0] for b in on_device[0]]), x)
    if order == "sampler":
        np.testing.assert_array_equal(np.concatenate([b[1] for b in on_device[0]]),
                                      y[[22, -1, 0, 5, 5, 7, 1]])


def test_a_loader_batch_with_a_label_out_of_range_raises_index_error(torch):
    from fnnet.torch.utils.data import DataLoader, TensorDataset

    loader = DataLoader(TensorDataset(ft.zeros(6, 3), ft.tensor([0, 1, 2, 5, 1, 0])),
                        batch_size=3)
    batches = iter(loader)
    x, y = next(batches)
    assert ft.nn.functional.cross_entropy(x, y).item() == pytest.approx(np.log(3.0))
    x, y = next(batches)
    with pytest.raises(IndexError, match="^Target 5 is out of bounds.$"):
        ft.nn.functional.cross_entropy(x, y)


def test_loader_labels_changed_in_place_are_checked_as_changed(torch):
    # labels 1..3 shifted to 0..2 in place: the check reads the new values, not the
    # loader's host copy of the old ones
    x = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    y = np.array([1, 2, 3, 3, 2, 1])
    results = []
    for T in (torch, ft):
        loader = T.utils.data.DataLoader(T.utils.data.TensorDataset(T.tensor(x),
                                                                    T.tensor(y)), batch_size=6)
        xb, yb = next(iter(loader))
        yb.sub_(1)
        results.append(T.nn.functional.cross_entropy(xb, yb).item())
    assert results[1] == pytest.approx(results[0], rel=1e-6)


def test_dataloader_on_the_device_copies_the_dataset_once_and_refuses_a_bad_index():
    from fnnet.torch.utils.data import DataLoader, TensorDataset

    dataset = TensorDataset(ft.zeros(6, 2), ft.arange(6))
    list(DataLoader(dataset, batch_size=4))
    copy = dataset._device
    list(DataLoader(dataset, batch_size=2, shuffle=True))
    assert dataset._device is copy
    with pytest.raises(IndexError, match="index 6 is out of bounds for dimension 0 with size 6"):
        list(DataLoader(dataset, batch_size=2, sampler=[0, 6]))


@pytest.mark.parametrize("rows", [3, 4096], ids=["small", "large"])
@pytest.mark.parametrize("make", ["tensor", "from_numpy"])
def test_a_tensor_made_from_numpy_does_not_see_later_writes_to_it(make, rows):
    # the value is copied when the tensor is made (as torch.tensor copies; torch.from_numpy
    # shares memory, which immutable jax arrays cannot)
    array = np.ones((rows, 8), np.float32)
    t = getattr(ft, make)(array)
    array[:] = 5.0
    assert float(t.sum().item()) == rows * 8
    array[:] = 7.0
    assert float(t.sum().item()) == rows * 8


@pytest.mark.parametrize("make", ["tensor", "from_numpy"])
def test_a_tensor_read_by_several_steps_goes_to_the_device_once(make):
    # a batch made each step reaches the device inside its step's call; a dataset sliced
    # into batches becomes a device array at its second step instead of being copied
    # again at every call
    data = getattr(ft, make)(np.arange(64, dtype=np.float32).reshape(16, 4))
    assert isinstance(data._cell.val, np.ndarray)
    sums = []
    for step in range(4):
        sums.append(data[step * 4:(step + 1) * 4].sum().item())
        assert isinstance(data._cell.val, np.ndarray) == (step == 0)
    assert sums == [float(np.arange(64)[16 * s:16 * (s + 1)].sum()) for s in range(4)]
    assert ft.compile_stats()["compiles"] == 1


def test_dataloader_default_collate_of_a_custom_dataset(torch):
    class Squares(ft.utils.data.Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return ft.tensor([float(i)]), i * i

    xb, yb = next(iter(ft.utils.data.DataLoader(Squares(), batch_size=3)))
    np.testing.assert_array_equal(xb.numpy(), [[0.0], [1.0], [2.0]])
    np.testing.assert_array_equal(yb.numpy(), [0, 1, 4])
    assert tuple(xb.shape) == (3, 1)


@pytest.mark.parametrize("lengths, sizes", [([7, 3], [7, 3]), ([0.5, 0.3, 0.2], [5, 3, 2]),
                                            ([0.34, 0.33, 0.33], [4, 3, 3])])
def test_random_split_sizes_as_torch(torch, lengths, sizes):
    ref = torch.utils.data.random_split(torch.utils.data.TensorDataset(torch.arange(10)),
                                        lengths)
    got = ft.utils.data.random_split(ft.utils.data.TensorDataset(ft.arange(10)), lengths,
                                     generator=ft.Generator().manual_seed(1))
    assert [len(s) for s in got] == [len(s) for s in ref] == sizes
    assert all(isinstance(s, ft.utils.data.Subset) for s in got)
    assert sorted(i for s in got for i in s.indices) == list(range(10))
    again = ft.utils.data.random_split(ft.utils.data.TensorDataset(ft.arange(10)), lengths,
                                       generator=ft.Generator().manual_seed(1))
    assert [s.indices for s in again] == [s.indices for s in got]


def test_random_split_refuses_lengths_that_do_not_add_up(torch):
    for lib in (torch, ft):
        with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
            lib.utils.data.random_split(lib.utils.data.TensorDataset(lib.arange(10)), [6, 3])
        with pytest.raises(ValueError, match="Fraction at index 0 is not between 0 and 1"):
            lib.utils.data.random_split(range(10), [1.5, -0.5])


def test_random_split_refuses_lengths_that_are_not_ints(torch):
    for lib in (torch, ft):  # PyTorch fails in randperm; fnnet.torch names the length
        with pytest.raises(TypeError):
            lib.utils.data.random_split(range(10), [5.0, 5.0])
    with pytest.raises(TypeError, match=r"lengths must be ints .* got 5\.5 at index 0"):
        ft.utils.data.random_split(range(10), [5.5, 4.5])
    assert [len(s) for s in ft.utils.data.random_split(range(10), [np.int64(7), 3])] == [7, 3]


def test_concat_dataset_and_samplers_as_torch(torch):
    def collect(lib, make_sampler):
        data = lib.utils.data
        base = data.TensorDataset(lib.arange(12).float().view(6, 2), lib.arange(6))
        cat = data.ConcatDataset([data.Subset(base, [0, 2, 4]), data.Subset(base, [1, 3])])
        loader = data.DataLoader(cat, batch_size=2, sampler=make_sampler(data, cat))
        return len(cat), cat.cumulative_sizes, cat[-1][1].item(), len(loader), \
            sorted(i for _, yb in loader for i in yb.tolist())

    for make in (lambda d, c: d.SequentialSampler(c),
                 lambda d, c: d.RandomSampler(c),
                 lambda d, c: d.SubsetRandomSampler([0, 1, 4]),
                 lambda d, c: d.WeightedRandomSampler([0, 0, 0, 1, 0], 3)):
        assert collect(ft, make) == collect(torch, make)
    drawn = list(ft.utils.data.RandomSampler(range(4), replacement=True, num_samples=9))
    assert len(drawn) == 9 and set(drawn) <= {0, 1, 2, 3}
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        ft.utils.data.WeightedRandomSampler([1.0, 2.0], num_samples=0)


# -- keyword spellings PyTorch accepts besides its own ---------------------------------

SPELLINGS = {
    "sum(axis, keepdims)": lambda t, x: x.sum(axis=1, keepdims=True),
    "torch.sum(axis)": lambda t, x: t.sum(x, axis=0),
    "mean(axis, keepdims)": lambda t, x: x.mean(axis=0, keepdims=True),
    "torch.mean(axis)": lambda t, x: t.mean(x, axis=1),
    "max(axis).values": lambda t, x: x.max(axis=1, keepdims=True).values,
    "min(axis).indices": lambda t, x: t.min(x, axis=0).indices,
    "argmax(axis, keepdims)": lambda t, x: x.argmax(axis=1, keepdims=True),
    "argmin(axis)": lambda t, x: t.argmin(x, axis=0),
    "std(axis, keepdims)": lambda t, x: x.std(axis=0, keepdims=True),
    "var(axis)": lambda t, x: x.var(axis=1),
    "prod(axis, keepdims)": lambda t, x: x.prod(axis=0, keepdims=True),
    "all(axis, keepdims)": lambda t, x: (x > 0).all(axis=1, keepdims=True),
    "any(dim, keepdim)": lambda t, x: (x > 0).any(dim=0, keepdim=True),
    "softmax(axis)": lambda t, x: x.softmax(axis=1),
    "torch.log_softmax(axis)": lambda t, x: t.log_softmax(x, axis=0),
    "softmax(dim, dtype)": lambda t, x: x.softmax(1, dtype=t.float32),
    "prod(dtype)": lambda t, x: x.prod(dtype=t.float32),
    "norm(dim, keepdim, dtype)": lambda t, x: x.norm(dim=1, keepdim=True, dtype=t.float32),
    "squeeze(axis)": lambda t, x: x[:1].squeeze(axis=0),
    "unsqueeze(axis)": lambda t, x: t.unsqueeze(x, axis=1),
    "cat(axis)": lambda t, x: t.cat([x, x], axis=1),
    "stack(axis)": lambda t, x: t.stack([x, x], axis=1),
    "zeros(size)": lambda t, x: t.zeros(size=(2, 3)),
    "ones(size=list, dtype)": lambda t, x: t.ones(size=[2], dtype=t.int32),
    "empty(size).shape": lambda t, x: t.empty(size=(2, 1)) * 0,
    "full(size, fill_value)": lambda t, x: t.full(size=(2,), fill_value=1.5),
    "randn(size).shape": lambda t, x: t.randn(size=(3, 2)) * 0,
    "rand(size, dtype).shape": lambda t, x: t.rand(size=(4,), dtype=t.float32) * 0,
}


@pytest.mark.parametrize("spelling", list(SPELLINGS))
def test_keyword_spellings_pytorch_accepts(torch, spelling):
    data = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], np.float32)
    expected = SPELLINGS[spelling](torch, torch.tensor(data))
    got = SPELLINGS[spelling](ft, ft.tensor(data))
    assert tuple(got.shape) == tuple(expected.shape)
    # without jax's x64 mode int32 and int64 are one type, named int64
    assert str(got.dtype) == str(expected.dtype).replace("int32", "int64")
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("call, message", [
    (lambda: ft.ones(2, 3).sum(dim=0, axis=1), r"sum\(\) received both dim= and its alias"),
    (lambda: ft.ones(2).mean(keepdim=True, keepdims=True), "both keepdim= and its alias"),
    (lambda: ft.cat([ft.ones(2)], dim=0, axis=0), r"cat\(\) received both dim="),
    (lambda: ft.zeros(2, size=(2,)), r"zeros\(\) received the shape both positionally"),
    (lambda: ft.randn(), r"randn\(\) missing its shape"),
])
def test_keyword_spellings_given_twice_are_refused(call, message):
    with pytest.raises(TypeError, match=message):
        call()


def test_a_loss_summed_without_item_does_not_grow_the_step(torch):
    # ``running_loss += loss`` keeps each loss's graph in PyTorch, whose backward freed it:
    # only the sum's value is carried, so the step keeps one structure
    def run(t):
        t.manual_seed(0)
        w = t.nn.Parameter(t.tensor([1.0, -2.0, 0.5]))
        opt = t.optim.SGD([w], lr=0.05)
        running = 0
        for i in range(40):
            opt.zero_grad()
            loss = ((w * (i % 4 + 1)) ** 2).sum()
            loss.backward()
            opt.step()
            running += loss
        assert running.requires_grad
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            running.backward()
        return running.item(), w.detach().numpy()

    (expected, w_expected), (got, w_got) = run(torch), run(ft)
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    np.testing.assert_allclose(w_got, w_expected, rtol=1e-5)
    assert ft.compile_stats()["compiles"] <= 4, ft.compile_stats()["log"]


def test_members_by_dotted_path_as_torch(torch):
    """``get_submodule`` / ``get_parameter`` / ``get_buffer``, and their errors."""
    results = []
    for lib in (torch, ft):
        nn = lib.nn
        model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.BatchNorm1d(3)))
        seen = [type(model.get_submodule("1.0")).__name__, model.get_submodule("") is model,
                tuple(model.get_parameter("0.weight").shape),
                tuple(model.get_buffer("1.0.running_mean").shape)]
        for method, target in (("get_submodule", "5"), ("get_parameter", "0.nope"),
                               ("get_parameter", "1.0.running_mean"),
                               ("get_buffer", "0.weight"), ("get_submodule", "0.x")):
            with pytest.raises(AttributeError) as error:
                getattr(model, method)(target)
            seen.append(str(error.value))
        assert model.compile() is None
        results.append(seen)
    assert results[1] == results[0]


def _copy_and_alias(lib):
    """torch.tensor(a_tensor) and torch.as_tensor in the same steps for either library:
    the warnings raised, then what each result shares with its source."""
    source = lib.ones(3, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        copied = lib.tensor(source)
        same = lib.as_tensor(source)
        converted = lib.as_tensor(source, dtype=lib.float16)
        from_list = lib.as_tensor([1.5, 2.5])
    (converted.float() * 2).sum().backward()
    base = lib.zeros(2)
    lib.as_tensor(base).add_(1)
    copied.detach().add_(5)  # a copy: the source is unchanged
    return {
        "warnings": [(w.category.__name__, str(w.message)) for w in caught],
        "copied requires grad": copied.requires_grad,
        "same object": same is source,
        "converted": (str(converted.dtype), converted.requires_grad),
        "from list": (str(from_list.dtype), from_list.tolist()),
        "grad through the conversion": source.grad.tolist(),
        "source": source.tolist(),
        "written through the alias": base.tolist(),
    }


def test_tensor_of_a_tensor_warns_and_as_tensor_shares_as_torch(torch):
    assert _copy_and_alias(ft) == _copy_and_alias(torch)


def test_new_layers_of_new_shapes_their_copies_and_loads_compile_nothing(torch):
    # the drawn parameters, deep copies and loaded state dicts reach the device without
    # a copy program per shape; the draws are PyTorch's
    ft.manual_seed(1)
    ft.nn.Linear(2, 3)  # the generator's key, made once

    def layers() -> list:
        return [ft.nn.Linear(13, 17), ft.nn.Conv2d(3, 5, 3), ft.nn.Embedding(19, 6)]

    with counting_compiles() as compiles:
        ft.manual_seed(0)
        drawn = layers()
        copies = copy.deepcopy(drawn)
        loaded = layers()  # other draws, replaced by the loads
        for layer, source in zip(loaded, copies, strict=True):
            layer.load_state_dict(source.state_dict())
    assert not compiles, compiles
    drawn[0].weight.data.zero_()  # the copy and the load keep their own values
    mine = loaded
    torch.manual_seed(0)
    theirs = [torch.nn.Linear(13, 17), torch.nn.Conv2d(3, 5, 3), torch.nn.Embedding(19, 6)]
    for a, b in zip(mine, theirs, strict=True):
        for name, value in b.state_dict().items():
            # (a normal draw's float32 rounding can differ in the last bit)
            np.testing.assert_allclose(a.state_dict()[name].numpy(), value.numpy(),
                                       rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", ["Adam", "NAdam", "Rprop", "ASGD", "Adadelta"])
def test_an_optimizers_new_state_compiles_nothing_and_is_its_init(name):
    # its zeros (and Rprop's step sizes, NAdam's product) are made on the host
    model = ft.nn.Linear(23, 29)
    opt = getattr(ft.optim, name)(model.parameters(), lr=0.03)
    group = opt.param_groups[0]
    with counting_compiles() as compiles:
        state = opt._new_state(model.weight, group)
    assert not compiles, compiles
    eager = opt._transform(group, opt._traced).init(jax.numpy.zeros((29, 23)))
    expected, treedef = jax.tree_util.tree_flatten(eager)
    assert state.treedef == treedef
    for mine, theirs in zip(state.leaves, expected, strict=True):
        assert jax.typeof(mine) == jax.typeof(theirs)
        np.testing.assert_array_equal(mine, theirs)
