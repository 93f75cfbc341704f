"""fnnet.losses against torch.nn.functional: values, input gradients and exact errors."""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import assert_close, counting_compiles

from fnnet import losses

REDUCTIONS = ["mean", "sum", "none"]


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _parity(torch, name, arrays, differentiable, kwargs, torch_kwargs=None, seed=0):
    """Compares ``losses.<name>`` with ``F.<name>``: value and gradients of ``arrays``.

    ``differentiable`` names the positions of ``arrays`` whose gradients are compared.
    A random cotangent weighs the output so that per-element gradients are checked too.
    """
    torch_fn = getattr(torch.nn.functional, name)
    fn = getattr(losses, name)
    tensors = [torch.tensor(a, requires_grad=i in differentiable) for i, a in
               enumerate(arrays)]
    expected = torch_fn(*tensors, **(torch_kwargs or kwargs))
    cotangent = _rng(seed + 1).standard_normal(expected.shape).astype(np.float32)
    (expected * torch.tensor(cotangent)).sum().backward()

    def weighted(*diff):
        args = list(map(jnp.asarray, arrays))
        for i, value in zip(differentiable, diff, strict=True):
            args[i] = value
        return jnp.sum(fn(*args, **kwargs) * cotangent)

    actual = fn(*map(jnp.asarray, arrays), **kwargs)
    assert_close(actual, expected, what=f"{name} value")
    grads = jax.grad(weighted, argnums=tuple(range(len(differentiable))))(
        *(jnp.asarray(arrays[i]) for i in differentiable))
    for i, g in zip(differentiable, grads, strict=True):
        assert_close(g, tensors[i].grad, what=f"{name} gradient of argument {i}")


# ---------------------------------------------------------------- cross_entropy / nll_loss

# (input shape, class axis); [C] is PyTorch's unbatched form with a 0-d target.
CLASS_SHAPES = [(7,), (8, 5), (2, 4, 3, 2)]


def _class_data(shape, seed, ignore_index=None):
    rng = _rng(seed)
    logits = (3 * rng.standard_normal(shape)).astype(np.float32)
    classes = shape[0] if len(shape) == 1 else shape[1]
    target_shape = () if len(shape) == 1 else (shape[0], *shape[2:])
    target = rng.integers(0, classes, target_shape).astype(np.int64)
    if ignore_index is not None and target.ndim:
        target.reshape(-1)[::3] = ignore_index
    weight = rng.uniform(0.2, 2.0, classes).astype(np.float32)
    return logits, target, weight


# Each option alone, then all together (their interactions are where PyTorch is subtle).
CLASS_OPTIONS = [
    dict(),
    dict(weight=True),
    dict(ignore_index=1),
    dict(label_smoothing=0.2),
    dict(weight=True, ignore_index=1, label_smoothing=0.2),
]


@pytest.mark.parametrize("shape", CLASS_SHAPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", CLASS_OPTIONS, ids=lambda o: "-".join(o) or "plain")
def test_cross_entropy_class_indices(torch, shape, reduction, options):
    options = dict(options)
    use_weight = options.pop("weight", False)
    ignore_index = options.setdefault("ignore_index", -100)
    logits, target, weight = _class_data(shape, len(shape), ignore_index)
    arrays = [logits, target] + ([weight] if use_weight else [])
    _parity(torch, "cross_entropy", arrays, (0,), dict(reduction=reduction, **options))


@pytest.mark.parametrize("shape", CLASS_SHAPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("use_weight, label_smoothing", [(False, 0.0), (True, 0.3)],
                         ids=["plain", "weight-smooth"])
def test_cross_entropy_probabilities(torch, shape, reduction, use_weight, label_smoothing):
    rng = _rng(7)
    logits = (2 * rng.standard_normal(shape)).astype(np.float32)
    axis = 0 if len(shape) == 1 else 1
    probs = np.asarray(jax.nn.softmax(rng.standard_normal(shape), axis=axis), np.float32)
    weight = rng.uniform(0.2, 2.0, shape[axis]).astype(np.float32)
    arrays = [logits, probs] + ([weight] if use_weight else [])
    _parity(torch, "cross_entropy", arrays, (0, 1),
            dict(reduction=reduction, label_smoothing=label_smoothing))


@pytest.mark.parametrize("shape", CLASS_SHAPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("use_weight, ignore_index", [(False, -100), (True, 2)],
                         ids=["plain", "weight-ignore2"])
def test_nll_loss(torch, shape, reduction, use_weight, ignore_index):
    logits, target, weight = _class_data(shape, 3, ignore_index)
    log_probs = np.asarray(jax.nn.log_softmax(logits, axis=0 if len(shape) == 1 else 1))
    arrays = [log_probs, target] + ([weight] if use_weight else [])
    _parity(torch, "nll_loss", arrays, (0,),
            dict(reduction=reduction, ignore_index=ignore_index))


@pytest.mark.parametrize("shape", CLASS_SHAPES[1:], ids=str)
@pytest.mark.parametrize("use_weight", [False, True])
def test_cross_entropy_ignored_targets_get_positive_zero_gradients(torch, shape, use_weight):
    # PyTorch leaves an ignored target's row of the gradient untouched (+0.0); with label
    # smoothing fnnet's had come back -0.0, which prints as -0.0000
    logits, target, weight = _class_data(shape, 4, ignore_index=255)
    options = dict(ignore_index=255, label_smoothing=0.2)
    x = torch.tensor(logits, requires_grad=True)
    torch.nn.functional.cross_entropy(x, torch.tensor(target),
                                      torch.tensor(weight) if use_weight else None,
                                      **options).backward()
    grad = jax.grad(lambda v: losses.cross_entropy(v, target, weight if use_weight else None,
                                                   **options))(jnp.asarray(logits))
    assert_close(grad, x.grad, what="gradient")
    np.testing.assert_array_equal(np.signbit(np.asarray(grad)), np.signbit(x.grad.numpy()))


def test_cross_entropy_every_target_ignored_is_nan_like_torch(torch):
    logits, _, weight = _class_data((4, 3), 0)
    target = np.full(4, -100)
    expected = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(target))
    actual = losses.cross_entropy(logits, target)
    assert np.isnan(float(expected)) and np.isnan(float(actual))
    none = losses.cross_entropy(logits, target, reduction="none")
    assert_close(none, np.zeros(4, np.float32))


def test_cross_entropy_jit_matches_eager_and_nans_on_bad_label():
    logits, target, weight = _class_data((6, 4), 1)
    loss = jax.jit(lambda x, t: losses.cross_entropy(x, t, weight, label_smoothing=0.1))
    assert_close(loss(logits, target), losses.cross_entropy(logits, target, weight,
                                                            label_smoothing=0.1))
    bad = target.copy()
    bad[2] = 4  # out of range: inside jit it cannot raise, so the loss is NaN
    assert np.isnan(float(loss(logits, bad)))
    assert np.isnan(float(jax.jit(losses.cross_entropy)(logits, bad)))


@pytest.mark.parametrize("name, form", [("cross_entropy", "indices"),
                                        ("cross_entropy", "probabilities"),
                                        ("nll_loss", "indices")])
def test_class_losses_compile_one_program_per_shape_with_op_by_op_values(name, form):
    """Called eagerly, the loss runs one compiled program (not one per operation), and
    its values and gradients are the op-by-op ones within float32 rounding."""
    rng = _rng(4)
    logits = jnp.asarray(rng.standard_normal((6, 5, 3)), jnp.float32)
    if name == "nll_loss":
        logits = jax.nn.log_softmax(logits, axis=1)
    target = jnp.asarray(rng.integers(0, 5, (6, 3))).at[0, 0].set(-100)
    if form == "probabilities":
        target = jax.nn.softmax(jnp.asarray(rng.standard_normal((6, 5, 3)), jnp.float32), 1)
    weight = jnp.asarray(rng.uniform(0.5, 2.0, 5), jnp.float32)
    loss = getattr(losses, name)
    smoothing = {"label_smoothing": 0.2} if name == "cross_entropy" else {}
    with counting_compiles() as compiles:
        loss(logits, target, weight, reduction="sum", **smoothing)
    assert len(compiles) <= 1  # op by op, 10 to 18 (none if these shapes ran before)
    for options in ({}, {"weight": weight, "reduction": "sum", **smoothing},
                    {"reduction": "none"}):
        def total(x, options=options):
            return jnp.sum(loss(x, target, **options))

        value, grad = jax.value_and_grad(total)(logits)
        with jax.disable_jit():
            op_value, op_grad = jax.value_and_grad(total)(logits)
        assert_close(value, op_value, rtol=1e-6, atol=1e-7, what=f"value {options}")
        assert_close(grad, op_grad, rtol=1e-6, atol=1e-7, what=f"gradient {options}")


def test_cross_entropy_matches_default_fit_batch(torch):
    """Large logits (a confident model) stay finite and exact through log_softmax."""
    rng = _rng(3)
    logits = (60 * rng.standard_normal((16, 10))).astype(np.float32)
    target = rng.integers(0, 10, 16)
    _parity(torch, "cross_entropy", [logits, target], (0,), {})


# ---------------------------------------------------------------- elementwise losses

SHAPES = [(5,), (2, 3, 4)]


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("use_weight", [False, True], ids=["", "weight"])
def test_mse_and_l1(torch, name, shape, reduction, use_weight):
    rng = _rng(len(shape))
    x, y = rng.standard_normal((2, *shape)).astype(np.float32)
    y.reshape(-1)[0] = x.reshape(-1)[0]  # a zero difference: PyTorch's |d| has gradient 0
    kwargs = dict(reduction=reduction)
    if use_weight:
        kwargs["weight"] = rng.uniform(0.1, 2, shape).astype(np.float32)
    torch_kwargs = dict(kwargs)
    if use_weight:
        torch_kwargs["weight"] = torch.tensor(kwargs["weight"])
    _parity(torch, name, [x, y], (0, 1), kwargs, torch_kwargs)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("beta", [1.0, 0.5, 0.0])
def test_smooth_l1_loss(torch, shape, reduction, beta):
    rng = _rng(5)
    x, y = (2 * rng.standard_normal((2, *shape))).astype(np.float32)
    y.reshape(-1)[0] = x.reshape(-1)[0]
    _parity(torch, "smooth_l1_loss", [x, y], (0, 1), dict(reduction=reduction, beta=beta))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("delta, use_weight", [(1.0, False), (0.5, True)])
def test_huber_loss(torch, reduction, delta, use_weight):
    rng = _rng(6)
    x, y = (2 * rng.standard_normal((2, 2, 3, 4))).astype(np.float32)
    y.reshape(-1)[0] = x.reshape(-1)[0]
    kwargs = dict(reduction=reduction, delta=delta)
    torch_kwargs = dict(kwargs)
    if use_weight:
        kwargs["weight"] = rng.uniform(0.1, 2, x.shape).astype(np.float32)
        torch_kwargs["weight"] = torch.tensor(kwargs["weight"])
    _parity(torch, "huber_loss", [x, y], (0, 1), kwargs, torch_kwargs)


def test_smooth_l1_gradient_is_finite_for_huge_errors():
    g = jax.grad(losses.smooth_l1_loss)(jnp.array([3e38, -3e38]), jnp.array([-3e38, 3e38]))
    assert_close(g, np.array([0.5, -0.5], np.float32))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight_shape", [None, "full", "last"])
def test_binary_cross_entropy(torch, shape, reduction, weight_shape):
    rng = _rng(11)
    x = rng.uniform(0.02, 0.98, shape).astype(np.float32)
    t = rng.uniform(0, 1, shape).astype(np.float32)
    arrays = [x, t]
    if weight_shape:
        w_shape = shape if weight_shape == "full" else shape[-1:]
        arrays.append(rng.uniform(0.1, 2, w_shape).astype(np.float32))
    _parity(torch, "binary_cross_entropy", arrays, (0, 1), dict(reduction=reduction))


def test_binary_cross_entropy_at_zero_and_one_is_finite_like_torch(torch):
    # Saturated sigmoids give exactly 0 and 1 in float32: PyTorch clamps the logs at
    # -100 and the gradient's denominator at 1e-12; autodiff would give NaN here.
    x = np.array([0.0, 1.0, 0.0, 1.0, 0.5], np.float32)
    t = np.array([0.0, 1.0, 1.0, 0.0, 1.0], np.float32)
    _parity(torch, "binary_cross_entropy", [x, t], (0,), dict(reduction="none"))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("use_weight, use_pos_weight", [(False, False), (True, False),
                                                        (False, True), (True, True)],
                         ids=["plain", "weight", "pos_weight", "both"])
def test_binary_cross_entropy_with_logits(torch, shape, reduction, use_weight,
                                          use_pos_weight):
    rng = _rng(13)
    x = (4 * rng.standard_normal(shape)).astype(np.float32)
    x.reshape(-1)[0] = 120.0  # far beyond where exp overflows in a naive formula
    t = rng.uniform(0, 1, shape).astype(np.float32)
    kwargs = dict(reduction=reduction)
    torch_kwargs = dict(reduction=reduction)
    arrays = [x, t]
    if use_weight:
        arrays.append(rng.uniform(0.1, 2, shape).astype(np.float32))
    if use_pos_weight:
        pos_weight = rng.uniform(0.5, 3, shape[-1:]).astype(np.float32)
        kwargs["pos_weight"] = pos_weight
        torch_kwargs["pos_weight"] = torch.tensor(pos_weight)
    _parity(torch, "binary_cross_entropy_with_logits", arrays, (0, 1), kwargs, torch_kwargs)


# ---------------------------------------------------------------- penalties


def _torch_mlp(torch):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3),
                               torch.nn.Linear(3, 2))


def _as_tree(module):
    tree: dict = {}
    for name, p in module.named_parameters():
        node = tree
        *parents, leaf = name.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = jnp.asarray(p.detach().numpy())
    return tree


_SIGNS = np.array([1, -1, -1, 1, 1, -1])


@pytest.mark.parametrize("name, arrays, differentiable", [
    ("margin_ranking_loss", lambda r: (r.standard_normal(6), r.standard_normal(6), _SIGNS),
     (0, 1)),
    ("hinge_embedding_loss", lambda r: (r.standard_normal(6), _SIGNS), (0,)),
    ("soft_margin_loss", lambda r: (r.standard_normal(6), _SIGNS), (0,)),
    ("multilabel_soft_margin_loss", lambda r: (r.standard_normal((3, 2)),
                                              (_SIGNS.reshape(3, 2) > 0).astype(int)), (0,)),
    ("cosine_embedding_loss", lambda r: (r.standard_normal((6, 3)), r.standard_normal((6, 3)),
                                         _SIGNS), (0, 1)),
], ids=lambda v: v if isinstance(v, str) else "")
def test_margin_losses_take_integer_labels_as_torch(torch, name, arrays, differentiable):
    # PyTorch's own examples pass torch.tensor([1, -1, ...]): int64 targets, promoted.
    floats = [a.astype(np.float32) if a.dtype.kind == "f" else a for a in arrays(_rng(4))]
    _parity(torch, name, floats, differentiable, {})


@pytest.mark.parametrize("only_weights", [False, True])
@pytest.mark.parametrize("which", ["l1", "l2"])
def test_penalties_match_torch_sums(torch, which, only_weights):
    model = _torch_mlp(torch)
    params = _as_tree(model)
    params["1"]["weight"] = params["1"]["weight"].at[0].set(0.0)  # |0| has gradient 0
    with torch.no_grad():
        model[1].weight[0] = 0.0
    term = (lambda p: p.abs().sum()) if which == "l1" else (lambda p: p.pow(2).sum())
    chosen = [p for n, p in model.named_parameters()
              if not only_weights or n.endswith("weight")]
    expected = sum(term(p) for p in chosen)
    expected.backward()
    fn = losses.l1_penalty if which == "l1" else losses.l2_penalty
    value, grads = jax.value_and_grad(lambda p: fn(p, only_weights=only_weights))(params)
    assert_close(value, expected.detach())
    for name, p in model.named_parameters():
        module, leaf = name.split(".")
        expected_grad = p.grad if p.grad is not None else torch.zeros_like(p)
        assert_close(grads[module][leaf], expected_grad, what=name)


def test_penalty_rejects_integer_leaves():
    with pytest.raises(TypeError, match=re.escape(
            "l2_penalty: params must hold floating-point arrays, got dtype int32 at "
            "'fc.weight'")):
        losses.l2_penalty({"fc": {"weight": jnp.ones(3, jnp.int32)}})


# ---------------------------------------------------------------- bad input

LOGITS = np.zeros((4, 3), np.float32)
LABELS = np.array([0, 1, 2, 1])


@pytest.mark.parametrize("call, error, message", [
    (lambda: losses.cross_entropy(LOGITS, np.array([0, 1, 3, 1])), ValueError,
     "target: class labels must lie in [0, 3), got 3 at index 2"),
    (lambda: losses.cross_entropy(LOGITS, np.array([0, -1, 2, 1])), ValueError,
     "target: class labels must lie in [0, 3), got -1 at index 1"),
    (lambda: losses.nll_loss(LOGITS, np.array([0, 1, 9, 1])), ValueError,
     "target: class labels must lie in [0, 3), got 9 at index 2"),
    (lambda: losses.cross_entropy(LOGITS, LABELS[:3]), ValueError,
     "cross_entropy: target must have shape (4,) for input of shape (4, 3) (class "
     "indices: input's shape without the class axis) or input's shape (class "
     "probabilities), got (3,)"),
    (lambda: losses.nll_loss(np.zeros((4, 3, 2), np.float32), LABELS), ValueError,
     "nll_loss: target must have shape (4, 2) for input of shape (4, 3, 2) (class "
     "indices: input's shape without the class axis), got (4,)"),
    (lambda: losses.cross_entropy(LOGITS, LABELS.astype(np.float32)), TypeError,
     "cross_entropy: target of class indices must be an integer array, got dtype float32"),
    (lambda: losses.cross_entropy(LOGITS, np.zeros((4, 3), np.int32)), TypeError,
     "cross_entropy: target of input's shape (4, 3) holds class probabilities and must be "
     "floating-point, got dtype int32 (class indices have input's shape without the class "
     "axis 1)"),
    (lambda: losses.cross_entropy(LOGITS.astype(np.int32), LABELS), TypeError,
     "cross_entropy: input must be a floating-point array, got dtype int32"),
    (lambda: losses.cross_entropy(np.float32(1.0), np.int32(0)), ValueError,
     "cross_entropy: input must have a class axis ([C], [N, C] or [N, C, d1, ...]), "
     "got shape ()"),
    (lambda: losses.cross_entropy(LOGITS, LABELS, reduction="avg"), ValueError,
     "cross_entropy: reduction must be 'mean', 'sum' or 'none', got 'avg'"),
    (lambda: losses.cross_entropy(LOGITS, LABELS, label_smoothing=1.5), ValueError,
     "cross_entropy: label_smoothing must be between 0.0 and 1.0, got 1.5"),
    (lambda: losses.cross_entropy(LOGITS, LABELS, weight=np.ones(4, np.float32)),
     ValueError, "cross_entropy: weight must be of shape (3,), got shape (4,)"),
    (lambda: losses.cross_entropy(LOGITS, LOGITS, ignore_index=0), ValueError,
     "cross_entropy: ignore_index is not supported for class-probability targets, "
     "got ignore_index=0"),
    (lambda: losses.cross_entropy("logits", LABELS), TypeError,
     "cross_entropy: input must be an array, got str"),
    (lambda: losses.mse_loss(np.zeros((4, 1), np.float32), np.zeros(4, np.float32)),
     ValueError, "mse_loss: target must have the shape of input (4, 1), got (4,)"),
    (lambda: losses.l1_loss(np.zeros(4, np.float32), np.zeros(4, np.float32),
                            reduction=None), ValueError,
     "l1_loss: reduction must be 'mean', 'sum' or 'none', got None"),
    (lambda: losses.mse_loss(np.zeros(4, np.float32), np.zeros(4, np.int32)), TypeError,
     "mse_loss: target must be a floating-point array, got dtype int32"),
    (lambda: losses.smooth_l1_loss(np.zeros(4, np.float32), np.zeros(4, np.float32),
                                   beta=-1.0), ValueError,
     "smooth_l1_loss: beta must be >= 0, got -1.0"),
    (lambda: losses.huber_loss(np.zeros(4, np.float32), np.zeros(4, np.float32), delta=0.0),
     ValueError, "huber_loss: delta must be > 0, got 0.0"),
    (lambda: losses.binary_cross_entropy(np.zeros((4, 2), np.float32),
                                         np.zeros((4, 2), np.float32),
                                         weight=np.ones(3, np.float32)), ValueError,
     "binary_cross_entropy: weight must be broadcastable to (4, 2), got shape (3,)"),
    (lambda: losses.binary_cross_entropy_with_logits(
        np.zeros((4, 2), np.float32), np.zeros((4, 2), np.float32),
        pos_weight=np.ones(4, np.float32)), ValueError,
     "binary_cross_entropy_with_logits: pos_weight must be broadcastable to (4, 2), "
     "got shape (4,)"),
    (lambda: losses.binary_cross_entropy(np.zeros(4, np.float32), np.zeros(5, np.float32)),
     ValueError, "binary_cross_entropy: target must have the shape of input (4,), got (5,)"),
    (lambda: losses.check_labels(np.array([[0, 1], [5, 0]]), 3, name="train_data"),
     ValueError, "train_data: class labels must lie in [0, 3), got 5 at index (1, 0)"),
    (lambda: losses.check_labels(np.array([0.0, 1.0]), 3), TypeError,
     "target: class labels must be integers, got dtype float64"),
])
def test_bad_input_raises_exact_error(call, error, message):
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        call()


def test_shape_errors_raise_at_trace_time_under_jit():
    with pytest.raises(ValueError, match=r"^cross_entropy: target must have shape \(4,\)"):
        jax.jit(losses.cross_entropy)(LOGITS, LABELS[:3])


def test_check_labels_accepts_ignore_index():
    losses.check_labels(np.array([0, -100, 2]), 3, ignore_index=-100)
    with pytest.raises(ValueError, match=r"got -100 at index 1$"):
        losses.check_labels(np.array([0, -100, 2]), 3)
