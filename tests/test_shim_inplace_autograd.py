"""In-place ops and autograd, against PyTorch: version counters (``Tensor._version``), the
error for a value saved for backward and changed in place since, in-place ops that keep
working (``nn.ReLU(inplace=True)``, ``x += residual``, updates under ``no_grad``) and the
refusal to write an expanded tensor."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers import raised_by

import fnnet.torch as ft


def _grads(*tensors):
    return [None if not t.is_leaf or t.grad is None else t.grad.detach().numpy()
            for t in tensors]


# -- programs: each takes torch or fnnet.torch and runs a backward ----------------------
def exp_output_changed(T):
    a = T.ones(3, requires_grad=True)
    b = a.exp()
    b.add_(1)
    b.sum().backward()


def product_operand_changed(T):
    a = T.ones(3, requires_grad=True)
    x = a * 2
    y = x * x
    x.add_(1)
    y.sum().backward()


def constant_operand_changed(T):
    x, w = T.ones(3), T.ones(3, requires_grad=True)
    y = x * w
    x.add_(1)
    y.sum().backward()


def relu_output_changed(T):
    x = T.ones(3, requires_grad=True) * 2
    y = x.relu()
    y.add_(1)
    y.sum().backward()


def pow_input_changed(T):
    x = T.ones(3, requires_grad=True) * 2
    y = x.pow(2)
    x.add_(1)
    y.sum().backward()


def sigmoid_output_changed(T):
    y = (T.ones(3, requires_grad=True) * 2).sigmoid()
    y.mul_(2)
    y.sum().backward()


def softmax_output_changed(T):
    y = (T.ones(2, 3, requires_grad=True) * 2).softmax(1)
    y.mul_(2)
    y.sum().backward()


def tanh_output_changed_through_a_view(T):
    a = T.ones(2, 3, requires_grad=True)
    c = (a * 2).tanh()
    c.t().add_(1)
    c.sum().backward()


def exp_output_assigned(T):
    x = T.ones(3, requires_grad=True).exp()
    x[0] = 5
    x.sum().backward()


def exp_output_changed_twice(T):
    b = T.ones(3, 4, requires_grad=True).exp()
    b.add_(1)
    b.add_(1)
    b.sum().backward()


def exp_output_changed_through_detach(T):
    c = (T.ones(3, 4, requires_grad=True) * 2).exp()
    c.detach().add_(1)
    c.sum().backward()


def leaf_changed_under_no_grad(T):
    w = T.ones(3, 2, requires_grad=True)
    x = T.ones(4, 3, requires_grad=True)
    y = (x @ w).sum()
    with T.no_grad():
        w.add_(1)
    y.backward()


def operand_of_inplace_mul_changed(T):
    a = T.ones(3, requires_grad=True) * 1
    b = T.ones(3, requires_grad=True) * 1
    a.mul_(b)
    b.add_(1)
    a.sum().backward()


def linear_input_changed(T):
    layer = T.nn.Linear(3, 2)
    x = T.ones(4, 3)
    y = layer(x)
    x.mul_(2)
    y.sum().backward()


def sigmoid_output_changed_by_silu(T):
    x = T.ones(2, 3, requires_grad=True) * 1
    x.sin_()
    x.sigmoid_()
    T.nn.functional.silu(x, inplace=True)
    x.sum().backward()


def leaky_relu_output_changed(T):
    x = T.ones(2, 3, requires_grad=True) * 1
    T.nn.LeakyReLU(0.1, inplace=True)(x)  # in place, PyTorch's leaky_relu_ saves its result
    x.mul_(2)
    x.sum().backward()


def relu_module_output_changed(T):
    x = T.ones(2, 3, requires_grad=True) * 1
    y = T.nn.ReLU(inplace=True)(x)
    y.mul_(2)
    x.sum().backward()


def weight_updated_between_forward_and_backward(T):
    w = T.ones(2, 3, requires_grad=True)
    x = T.ones(4, 3, requires_grad=True)
    loss = (x @ w.t()).sum()  # the product saves the view w.t(), which shares w's counter
    with T.no_grad():
        w.sub_(0.1)
    loss.backward()


def saved_row_of_a_tensor_written_elsewhere(T):
    x = T.ones(3, 4, requires_grad=True) * 2
    y = x[0] * x[1]
    x[2] = 0
    y.sum().backward()


def changed_between_two_backwards(T):
    a = T.ones(3, requires_grad=True)
    y = a.exp()
    loss = y.sum()
    loss.backward(retain_graph=True)
    y.add_(1)
    loss.backward()


def changed_before_a_differentiable_grad(T):
    a = T.ones(3, requires_grad=True)
    y = a.exp()
    y.add_(1)
    T.autograd.grad(y.sum(), a, create_graph=True)


def exp_output_changed_after_a_read(T):
    b = T.ones(3, requires_grad=True).exp()
    float(b.sum())
    b.add_(1)
    b.sum().backward()


def exp_output_read_after_the_change(T):
    b = T.ones(3, requires_grad=True).exp()
    b.add_(1)
    float(b.sum())
    b.sum().backward()


@pytest.mark.parametrize("program", [
    exp_output_changed, product_operand_changed, constant_operand_changed,
    relu_output_changed, pow_input_changed, sigmoid_output_changed, softmax_output_changed,
    tanh_output_changed_through_a_view, exp_output_assigned, exp_output_changed_twice,
    exp_output_changed_through_detach, leaf_changed_under_no_grad,
    operand_of_inplace_mul_changed, linear_input_changed, sigmoid_output_changed_by_silu,
    relu_module_output_changed, leaky_relu_output_changed,
    weight_updated_between_forward_and_backward,
    saved_row_of_a_tensor_written_elsewhere, changed_between_two_backwards,
    changed_before_a_differentiable_grad, exp_output_changed_after_a_read,
    exp_output_read_after_the_change])
def test_a_saved_value_changed_in_place_raises_as_torch(torch, program):
    expected, got = raised_by(program, torch, ft)
    assert expected[0] is RuntimeError
    assert got == expected


def test_the_error_comes_again_each_step_and_records_no_backward():
    a = ft.ones(3, requires_grad=True)
    for _ in range(3):  # a cached structure the second time
        b = a.exp()
        b.add_(1)
        with pytest.raises(RuntimeError, match="output 0 of Exp, is at version 1; expected"):
            b.sum().backward()
        assert a.grad is None
    a.exp().sum().backward()  # the tape holds no failed backward
    np.testing.assert_allclose(a.grad.numpy(), np.full(3, np.e), rtol=1e-6)


# -- programs that work: in-place ops on values nothing saved, or that keep their own ---
def unsaved_operands_changed(T):
    a = T.ones(3, requires_grad=True)
    x = a * 2
    y, z, s = x * 3, x + 1, x.relu()
    x.add_(1)
    (y + z + s).sum().backward()
    return [a]


def inplace_ops_of_their_own(T):
    a = T.full((2, 3), 0.5, requires_grad=True)
    b = T.full((2, 3), 1.5, requires_grad=True)
    x = a * 1
    x.sin_()
    x.mul_(b)
    x.clamp_(0, 1)
    x.pow_(2)
    x.t().sin_()
    x[0].mul_(b[1])
    T.nn.ReLU(inplace=True)(x)
    x.sum().backward()
    return [a, b]


def residual_block(T):
    T.manual_seed(0)
    conv1, conv2 = T.nn.Conv2d(2, 2, 3, padding=1), T.nn.Conv2d(2, 2, 3, padding=1)
    bn1, bn2, relu = T.nn.BatchNorm2d(2), T.nn.BatchNorm2d(2), T.nn.ReLU(inplace=True)
    for layer in (conv1, conv2):
        with T.no_grad():
            layer.weight.copy_(T.linspace(-1, 1, layer.weight.numel()).view_as(layer.weight))
            layer.bias.fill_(0.1)
    params = [*conv1.parameters(), *conv2.parameters(), *bn1.parameters(), *bn2.parameters()]
    opt = T.optim.SGD(params, lr=0.1, momentum=0.9)
    x = T.linspace(-2, 2, 2 * 2 * 4 * 4).view(2, 2, 4, 4)
    for _ in range(3):
        opt.zero_grad()
        out = relu(bn1(conv1(x)))
        out = bn2(conv2(out))
        out += x
        out = relu(out)
        out.pow(2).mean().backward()
        opt.step()
    return params


def manual_update_under_no_grad(T):
    w = T.linspace(-1, 1, 6).view(2, 3).requires_grad_()
    x = T.linspace(0, 1, 12).view(4, 3)
    for _ in range(3):
        loss = (x @ w.t()).tanh().pow(2).sum()
        loss.backward()
        with T.no_grad():
            w -= 0.1 * w.grad
            w.grad.zero_()
    return [w]


def data_written_after_forward(T):
    a = T.ones(3, requires_grad=True)
    c = (a * 2).exp()
    c.data.add_(0)  # autograd does not see writes through .data, in PyTorch either
    c.sum().backward()
    return [a]


def written_outside_autograd(T):
    a = T.ones(3, requires_grad=True)
    c, d, e = a * 2, a * 3, a * 4
    with T.no_grad():  # new values, the same graph: the gradients stay those of a * k
        c.add_(1)
    d.detach().mul_(2)
    e.data.sub_(1)
    names = [type(t.grad_fn).__name__ for t in (c, d, e)]
    (c + d + e).sum().backward()
    assert names == ["MulBackward0"] * 3
    return [a, c, d, e]


@pytest.mark.parametrize("program", [unsaved_operands_changed, inplace_ops_of_their_own,
                                     residual_block, manual_update_under_no_grad,
                                     data_written_after_forward, written_outside_autograd])
def test_inplace_programs_match_torch(torch, program):
    _assert_match(program(torch), program(ft))


@pytest.mark.parametrize("program", [residual_block, manual_update_under_no_grad])
def test_inplace_programs_run_op_by_op_as_compiled(torch, recorder, program):
    expected = program(torch)
    recorder.options.eager_after = 0  # the fallback for loops whose structure changes
    with warnings.catch_warnings():  # its advice, given where a training step triggers it
        warnings.simplefilter("ignore", RuntimeWarning)
        got = program(ft)
        with pytest.raises(RuntimeError, match="output 0 of Exp, is at version 1"):
            exp_output_changed(ft)
    assert ft.compile_stats()["eager"]
    _assert_match(expected, got)


def _assert_match(expected, got):
    """The same values, and the same gradients of the leaves among them."""
    for e, g in zip(expected, got, strict=True):
        np.testing.assert_allclose(g.detach().numpy(), e.detach().numpy(), rtol=2e-5,
                                   atol=1e-6)
        e_grad, g_grad = _grads(e, g)
        if e_grad is not None:
            np.testing.assert_allclose(g_grad, e_grad, rtol=2e-5, atol=1e-6)


def test_the_leaf_refuses_inplace_ops_as_torch(torch):
    def program(T):
        T.ones(3, requires_grad=True).add_(1)

    expected, got = raised_by(program, torch, ft)
    assert got == expected


# -- version counters ------------------------------------------------------------------
def versions(T):
    seen = []
    x = T.ones(3)
    seen.append(x._version)
    x.add_(1)
    x[0] = 2
    x.zero_()
    x.clamp_(0, 1)
    seen.append(x._version)
    v = x[0:2]
    v.add_(1)
    seen += [x._version, v._version, x.view(3)._version]
    d = x.data
    d.add_(1)
    seen += [x._version, d._version]
    x.detach().add_(1)
    seen.append(x._version)
    x.data = T.zeros(3)
    seen += [x._version, x.clone()._version, (x + 1)._version]
    y = T.ones(2, 3)
    relu = T.nn.ReLU(inplace=True)
    relu(y)
    y += 1
    y.copy_(T.zeros(2, 3))
    seen.append(y._version)
    return seen


def optimizer_versions(T):
    p = T.nn.Parameter(T.ones(2))
    seen = [p._version]
    p.grad = T.ones(2)
    T.optim.SGD([p], lr=0.1).step()
    seen += [p._version, p.grad._version]
    T.optim.Adam([p]).step()
    seen.append(p._version)
    with T.no_grad():
        p -= 0.1 * p.grad
        p.grad.zero_()
    seen += [p._version, p.grad._version]
    return seen


@pytest.mark.parametrize("program", [versions, optimizer_versions])
def test_versions_match_torch(torch, program):
    assert program(ft) == program(torch)


# -- expanded tensors ------------------------------------------------------------------
@pytest.mark.parametrize("write", [
    lambda T, y: y.add_(1), lambda T, y: y.mul_(2), lambda T, y: y.sub_(T.ones(3, 4)),
    lambda T, y: y.copy_(T.ones(3, 4)), lambda T, y: y.clamp_(0, 1),
    lambda T, y: y.relu_(), lambda T, y: y.neg_(), lambda T, y: y.div_(2),
    lambda T, y: T.nn.ReLU(inplace=True)(y)])
def test_writing_an_expanded_tensor_raises_as_torch(torch, write):
    def program(T):
        write(T, T.ones(3, 1).expand(3, 4))

    expected, got = raised_by(program, torch, ft)
    assert got == expected


@pytest.mark.parametrize("write", [lambda y: y.fill_(2), lambda y: y.zero_(),
                                   lambda y: y.__setitem__(0, 3)])
def test_filling_an_expanded_tensor_works_as_torch(torch, write):
    for T in (torch, ft):
        y = T.ones(1, 4).expand(3, 4)
        write(y)
        assert tuple(y.shape) == (3, 4)
    for T in (torch, ft):  # no repeated element: nothing to refuse
        x = T.ones(3, 4).expand(3, 4).add_(1)
        np.testing.assert_array_equal(x.numpy(), np.full((3, 4), 2.0))


def _filled(module, value=0.1):
    """``module`` with every parameter ``value``, the same under PyTorch and fnnet.torch."""
    for p in module.parameters():
        p.data.fill_(value)
    return module


# -- what each op saves, against PyTorch: its input or its output changed in place ------
_UNARY = {
    "exp": lambda T, x: x.exp(), "log": lambda T, x: x.log(), "sqrt": lambda T, x: x.sqrt(),
    "sin": lambda T, x: x.sin(), "cos": lambda T, x: x.cos(), "tanh": lambda T, x: x.tanh(),
    "sigmoid": lambda T, x: x.sigmoid(), "relu": lambda T, x: x.relu(),
    "abs": lambda T, x: x.abs(), "square": lambda T, x: x ** 2, "neg": lambda T, x: -x,
    "softmax": lambda T, x: x.softmax(1), "log_softmax": lambda T, x: x.log_softmax(1),
    "clamp": lambda T, x: x.clamp(0.2, 0.8), "sum": lambda T, x: x.sum(1),
    "gelu": lambda T, x: T.nn.functional.gelu(x),
    "leaky_relu": lambda T, x: T.nn.functional.leaky_relu(x),
    "silu": lambda T, x: T.nn.functional.silu(x), "rpow": lambda T, x: 2 ** x,
    "elu": lambda T, x: T.nn.functional.elu(x), "selu": lambda T, x: T.nn.functional.selu(x),
    "elu_": lambda T, x: T.nn.functional.elu(x, inplace=True),
    "leaky_relu_": lambda T, x: T.nn.functional.leaky_relu(x, inplace=True),
    "hardtanh_": lambda T, x: T.nn.functional.hardtanh(x, inplace=True),
    "mse": lambda T, x: T.nn.functional.mse_loss(x, T.full((2, 3), 0.5)),
    "gather": lambda T, x: x.gather(1, T.tensor([[0, 2], [1, 1]])),
    "index_select": lambda T, x: x.index_select(1, T.tensor([0, 2])),
    "var": lambda T, x: x.var(1), "std": lambda T, x: x.std(1), "std_all": lambda T, x: x.std(),
    "layer_norm": lambda T, x: T.nn.functional.layer_norm(x, (3,)),
    "group_norm": lambda T, x: T.nn.functional.group_norm(x.view(2, 3, 1), 1),
    "batch_norm": lambda T, x: T.nn.functional.batch_norm(x, None, None, training=True),
    "cumsum": lambda T, x: x.cumsum(1), "cumprod": lambda T, x: x.cumprod(1),
    "prod": lambda T, x: x.prod(1), "logsumexp": lambda T, x: x.logsumexp(1),
    "amax": lambda T, x: x.amax(1), "amin": lambda T, x: x.amin(1),
    "max_dim": lambda T, x: x.max(1)[0], "median": lambda T, x: x.median(),
    "exp2": lambda T, x: x.exp2(), "expm1": lambda T, x: x.expm1(),
    "log2": lambda T, x: x.log2(), "log10": lambda T, x: x.log10(),
    "asin": lambda T, x: x.asin(), "atan": lambda T, x: x.atan(),
    "sinh": lambda T, x: x.sinh(), "cosh": lambda T, x: x.cosh(),
    "erfinv": lambda T, x: x.erfinv(), "logit": lambda T, x: x.logit(),
    "logsigmoid": lambda T, x: T.nn.functional.logsigmoid(x),
    "hardsigmoid": lambda T, x: T.nn.functional.hardsigmoid(x),
    "hardswish": lambda T, x: T.nn.functional.hardswish(x),
    "mish": lambda T, x: T.nn.functional.mish(x),
    "softsign": lambda T, x: T.nn.functional.softsign(x),
    "prelu": lambda T, x: T.nn.functional.prelu(x, T.full((1,), 0.25)),
    "bce": lambda T, x: T.nn.functional.binary_cross_entropy(x, T.full((2, 3), 0.5)),
    "conv1d": lambda T, x: T.nn.functional.conv1d(x.view(1, 2, 3), T.ones(1, 2, 2)),
    "conv_transpose1d":
        lambda T, x: T.nn.functional.conv_transpose1d(x.view(1, 2, 3), T.ones(2, 1, 2)),
    "cell": lambda T, x: _filled(T.nn.GRUCell(3, 2))(x),
}
_BINARY = {
    "add": lambda T, x, y: x + y, "sub": lambda T, x, y: x - y,
    "mul": lambda T, x, y: x * y, "div": lambda T, x, y: x / y,
    "matmul": lambda T, x, y: x @ y.t(), "pow": lambda T, x, y: x ** y,
    "maximum": lambda T, x, y: x.maximum(y), "minimum": lambda T, x, y: x.minimum(y),
    "atan2": lambda T, x, y: x.atan2(y), "bmm": lambda T, x, y: x[None].bmm(y.t()[None]),
    "dot": lambda T, x, y: x[0].dot(y[0]), "cdist": lambda T, x, y: T.cdist(x, y),
    "addcmul": lambda T, x, y: T.addcmul(T.ones(2, 3), x, y),
    "kl_div": lambda T, x, y: T.nn.functional.kl_div(x, y, reduction="sum"),
    "cosine_similarity": lambda T, x, y: T.nn.functional.cosine_similarity(x, y),
    "linear": lambda T, x, y: T.nn.functional.linear(x, y[:2]),
    "layer_norm": lambda T, x, y: T.nn.functional.layer_norm(x, (3,), y[0], y[1]),
    "group_norm": lambda T, x, y: T.nn.functional.group_norm(x[..., None], 1, y[0], y[1]),
    "einsum": lambda T, x, y: T.einsum("ij,kj->ik", x, y),
    "einsum_batched": lambda T, x, y: T.einsum("bi,bj->bij", x, y) * 1,
    "lerp_tensor": lambda T, x, y: T.lerp(x, y, (x * y).sigmoid()),
    "attention": lambda T, x, y: T.nn.functional.scaled_dot_product_attention(
        x[None], y[None], y[None]),
    "prelu": lambda T, x, y: T.nn.functional.prelu(x, y[0]),
}


def _upstream(T, out):
    """A gradient for ``out`` that is not constant or linear along a row: a layer norm's
    gradient of ``out.sum()`` is 0 up to rounding."""
    return (T.arange(out.numel()) ** 2 % 5 - 2.0).view(out.shape)


def _changed(T, build, which):
    """``build(x)`` of a non-leaf ``x``, then ``which`` ("input" or "output") changed in
    place before the backward; returns the leaf's gradient."""
    a = T.linspace(0.1, 0.9, 6).view(2, 3).requires_grad_()
    x = a * 1
    out = build(T, x)
    (x if which == "input" else out).mul_(1.5)
    out.backward(_upstream(T, out))
    return a.grad


@pytest.mark.parametrize("which", ["input", "output"])
@pytest.mark.parametrize("name", sorted(_UNARY))
def test_what_unary_ops_save_matches_torch(torch, name, which):
    _compare_change(torch, lambda T: _changed(T, _UNARY[name], which))


@pytest.mark.parametrize("which", ["input", "other", "output"])
@pytest.mark.parametrize("grads", ["both", "input", "other"])
@pytest.mark.parametrize("name", sorted(_BINARY))
def test_what_binary_ops_save_matches_torch(torch, name, grads, which):
    def program(T):
        a = T.linspace(0.1, 0.9, 6).view(2, 3).requires_grad_(grads != "other")
        b = T.linspace(1.1, 1.9, 6).view(2, 3).requires_grad_(grads != "input")
        x, y = a * 1, b * 1
        out = _BINARY[name](T, x, y)
        {"input": x, "other": y, "output": out}[which].mul_(1.5)
        out.backward(_upstream(T, out))
        return [a.grad, b.grad]

    _compare_change(torch, program)


def _compare_change(torch, program):
    """Both raise the same error, or both give the same gradients."""
    try:
        expected = program(torch)
    except RuntimeError:
        expected_error, got_error = raised_by(program, torch, ft)
        assert got_error == expected_error
        return
    got = program(ft)
    for e, g in zip(expected if isinstance(expected, list) else [expected],
                    got if isinstance(got, list) else [got], strict=True):
        assert (e is None) == (g is None)
        if e is not None:
            np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=2e-5, atol=1e-5)


@pytest.mark.parametrize("call", [
    lambda T, x: T.nn.functional.relu(x, inplace=True),
    lambda T, x: T.nn.functional.leaky_relu(x, 0.1, inplace=True),
    lambda T, x: T.nn.ReLU(inplace=True)(x), lambda T, x: T.nn.LeakyReLU(0.1, True)(x),
    lambda T, x: T.nn.functional.dropout(x, 0.0, inplace=True)])
def test_inplace_activations_write_their_input_as_torch(torch, call):
    seen = []
    for T in (torch, ft):
        x = T.linspace(-1, 1, 6).view(2, 3)
        out = call(T, x)
        seen.append((x.numpy().copy(), out is x, x._version))
    np.testing.assert_allclose(seen[1][0], seen[0][0], rtol=1e-6)
    assert seen[1][1:] == seen[0][1:]


def _assigned(x, i):
    x[i] = 5.0
    return x


@pytest.mark.parametrize("select", [lambda x, i: x.gather(1, i.view(2, 1)),
                                    lambda x, i: x.index_select(1, i), lambda x, i: x[i],
                                    lambda x, i: x[:, i], _assigned])
def test_a_saved_index_changed_raises_as_torch(torch, select):
    def program(T):
        x = T.ones(2, 3, requires_grad=True) * 2
        index = T.tensor([0, 1])
        out = select(x, index)
        index.add_(0)
        out.sum().backward()

    expected, got = raised_by(program, torch, ft)
    assert got == expected


@pytest.mark.parametrize("changed", ["input", "output"])
@pytest.mark.parametrize("shape", [(2, 3), (1, 2, 3), (2, 1, 3), (2, 2, 3)])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
def test_a_recurrent_layers_sequence_changed_raises_as_torch(torch, kind, batch_first,
                                                              shape, changed):
    def program(T):
        layer = _filled(getattr(T.nn, kind)(3, 2, batch_first=batch_first))
        x = T.linspace(0.1, 0.9, int(np.prod(shape))).view(shape).requires_grad_()
        y = x * 1
        out, _ = layer(y)
        (y if changed == "input" else out).mul_(1.5)
        out.sum().backward()
        return x.grad

    _compare_change(torch, program)


_MODULES = {
    "Linear": lambda T: T.nn.Linear(3, 2), "Conv1d": lambda T: T.nn.Conv1d(2, 1, 2),
    "ConvTranspose1d": lambda T: T.nn.ConvTranspose1d(2, 1, 2),
    "BatchNorm1d": lambda T: T.nn.BatchNorm1d(3), "LayerNorm": lambda T: T.nn.LayerNorm(3),
    "GroupNorm": lambda T: T.nn.GroupNorm(1, 3),
    "InstanceNorm1d": lambda T: T.nn.InstanceNorm1d(3, affine=True, track_running_stats=True),
    "Embedding": lambda T: T.nn.Embedding(3, 2),
    "Embedding padded": lambda T: T.nn.Embedding(3, 2, padding_idx=0),
    "EmbeddingBag padded": lambda T: T.nn.EmbeddingBag(3, 2, padding_idx=1),
    "LSTM": lambda T: T.nn.LSTM(3, 2, num_layers=2), "GRUCell": lambda T: T.nn.GRUCell(3, 2),
    "PReLU": lambda T: T.nn.PReLU(), "MultiheadAttention": lambda T: T.nn.MultiheadAttention(4, 1),
    "TransformerEncoderLayer": lambda T: T.nn.TransformerEncoderLayer(4, 1, 8),
}


def _versions(module):
    return {name: t._version for name, t in (*module.named_parameters(),
                                              *module.named_buffers())}


@pytest.mark.parametrize("name", _MODULES)
def test_a_new_modules_versions_match_torch(torch, name):
    """PyTorch's constructors fill parameters and buffers in place (version 1)."""
    assert _versions(_MODULES[name](ft)) == _versions(_MODULES[name](torch))


@pytest.mark.parametrize("name", ["BatchNorm1d", "InstanceNorm1d"])
def test_norm_buffer_versions_after_forwards_match_torch(torch, name):
    """A training forward writes BatchNorm's ``num_batches_tracked`` in place (its
    running statistics by the kernel, uncounted) and InstanceNorm's running statistics;
    an evaluation forward and the reset methods as PyTorch's."""
    seen = []
    for T in (torch, ft):
        norm = _MODULES[name](T)
        x = T.linspace(-1, 1, 24).view(2, 3, 4)
        steps = [_versions(norm)]
        for _ in range(2):
            norm(x).sum().backward()
            steps.append(_versions(norm))
        norm.eval()
        norm(x)
        steps.append(_versions(norm))
        norm.reset_running_stats()
        steps.append(_versions(norm))
        norm.reset_parameters()
        steps.append(_versions(norm))
        seen.append(steps)
    assert seen[1] == seen[0]


@pytest.mark.parametrize(("name", "parameter"), [
    ("Linear", "weight"), ("Conv1d", "weight"), ("ConvTranspose1d", "weight"),
    ("BatchNorm1d", "weight"), ("BatchNorm1d", "bias"), ("LayerNorm", "bias"),
    ("GroupNorm", "weight"), ("LSTM", "weight_hh_l1"), ("LSTM", "bias_ih_l0"),
    ("GRU", "weight_ih_l0"), ("GRU", "weight_hh_l0"), ("RNN", "weight_hh_l0"),
    ("PReLU", "weight")])
@pytest.mark.parametrize("train", [True, False])
def test_a_parameter_changed_between_forward_and_backward_raises_as_torch(
        torch, name, parameter, train):
    """``optimizer.step()`` (or a write under ``no_grad``) between a forward and its
    backward: PyTorch raises where the layer's node saved the parameter."""
    def program(T):
        make = _MODULES.get(name) or (lambda T: getattr(T.nn, name)(3, 2))
        layer = _filled(make(T))
        layer.train(train)
        shape = {"Conv1d": (1, 2, 3), "ConvTranspose1d": (1, 2, 3),
                 "PReLU": (2, 3, 1)}.get(name, (2, 1, 3))
        x = T.linspace(0.1, 0.9, int(np.prod(shape))).view(shape)
        out = layer(x if name not in ("BatchNorm1d", "LayerNorm", "GroupNorm")
                    else x.view(2, 3))
        out = out[0] if isinstance(out, tuple) else out
        with T.no_grad():
            getattr(layer, parameter).mul_(1.5)
        out.sum().backward()
        return [p.grad for p in layer.parameters()]

    _compare_change(torch, program)


def test_a_weight_changed_after_earlier_backwards_raises_as_torch(torch):
    """A weight changed under ``no_grad`` between a forward and its backward, after
    backwards that raised and ran: PyTorch's error for the saved weight (the graph is
    not freed first by the flush that a leaf written since would trigger)."""
    def program(T):
        for changed in ("input", "weight_ih_l0", "weight_hh_l0"):
            batch_first = changed == "weight_hh_l0"  # a structure of its own
            layer = T.nn.GRU(3, 2, batch_first=batch_first)
            x = T.linspace(0.1, 0.9, 6).view((1, 2, 3) if batch_first else (2, 1, 3))
            if changed == "input":
                x = x.requires_grad_() * 1
            out, _ = layer(x)
            with T.no_grad():
                (x if changed == "input" else getattr(layer, changed)).mul_(1.5)
            try:
                out.sum().backward()
            except RuntimeError:
                if changed != "weight_hh_l0":
                    continue
                raise

    expected, got = raised_by(program, torch, ft)
    assert got == expected


# -- boolean masks: PyTorch's indexing backward keeps the mask, not the values taken ------
def _mask_program(index, write, backward_through=True, grad=True):
    def program(T):
        w = T.arange(6.0).view(2, 3).requires_grad_(grad)
        x = w * 2
        whole = T.tensor([[True, False, True], [False, True, True]])
        row = T.tensor([True, False, True])
        y = index(T, x, whole, row)
        if write == "mask":
            whole[0, 1] = True
            row[1] = True
        elif write == "mask twice":
            whole.fill_(False)
            row.logical_not_()
            whole.logical_not_()
        elif write == "values":
            x.mul_(3)
        elif write == "mask under no_grad":
            with T.no_grad():
                whole.fill_(False)
                row.fill_(False)
        if not grad:
            return [y]
        ((y * y).sum() if backward_through else (x * 2).sum()).backward()
        return [w.grad, y.detach()]
    return program


_MASKED = {
    "whole": lambda T, x, whole, row: x[whole],
    "rows": lambda T, x, whole, row: x[:, row],
    "masked_select": lambda T, x, whole, row: T.masked_select(x, row),
    "index_put": lambda T, x, whole, row: x.clone().index_put_((whole,), T.tensor(1.0)),
    "assigned": lambda T, x, whole, row: _assigned(x, row),
}


def _assigned(x, row):
    z = x.clone()
    z[:, row] = 0.5
    return z


@pytest.mark.parametrize("write", ["mask", "mask twice", "values", "mask under no_grad"])
@pytest.mark.parametrize("how", list(_MASKED))
def test_a_mask_written_before_the_backward_raises_as_torch(torch, how, write):
    _compare_change(torch, _mask_program(_MASKED[how], write))


@pytest.mark.parametrize("how", ["whole", "masked_select"])
@pytest.mark.parametrize(("through", "grad"), [(False, True), (True, False)])
def test_a_mask_written_after_indexing_without_its_backward_is_as_torch(
        torch, how, through, grad):
    # no backward through the indexing, or no gradient at all: the values taken are a
    # copy, kept whatever the mask or the tensor becomes
    expected = _mask_program(_MASKED[how], "mask", through, grad)(torch)
    got = _mask_program(_MASKED[how], "mask", through, grad)(ft)
    for e, g in zip(expected, got, strict=True):
        np.testing.assert_array_equal(g.numpy(), e.detach().numpy())


def _detached_views(T):
    """A detached view shares its root's memory both ways (rows of a weight watched
    across optimizer steps, writes through ``x[1:].detach()``)."""
    T.manual_seed(0)
    model = T.nn.Linear(3, 2)
    opt = T.optim.SGD(model.parameters(), lr=0.5)
    row, col = model.weight[0].detach(), model.weight.detach()[:, 1]
    for _ in range(2):
        opt.zero_grad()
        model(T.ones(4, 3)).pow(2).sum().backward()
        opt.step()
    w = T.randn(2, 3, requires_grad=True)
    w[1].detach().fill_(0.25)  # no leaf error: the write skips autograd
    (w * 2).sum().backward()
    x = T.arange(12.0).reshape(3, 4)
    x[1:].detach().mul_(10)
    flat = x.view(-1).detach()[:3]
    x.zero_()
    return [row, col, w, w.grad, flat, T.tensor(float(w.requires_grad))]


def test_detached_views_share_their_roots_memory_as_torch(torch):
    ours, theirs = _detached_views(ft), _detached_views(torch)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6)
