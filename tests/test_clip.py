"""fnnet.optim.clip_grad_norm against torch.nn.utils.clip_grad_norm_, and in fit."""

from __future__ import annotations

import math

import jax
import numpy as np
import optax
import pytest
from helpers import assert_close

from fnnet import data, models, optim
from fnnet.train import create_train_state, fit, make_train_step

SHAPES = [(30, 20), (20,), (7, 3, 3, 3)]


@pytest.mark.parametrize("scale, max_norm, norm_type", [
    (1.0, 0.5, 2.0),       # clipped hard
    (0.01, 0.02, 2.0),     # clipped, small norm: where optax's missing 1e-6 shows
    (0.01, 0.5, 2.0),      # below the threshold: untouched
    (1.0, 0.5, math.inf),
    (1.0, 0.3, 1.0),
    (1.0, 0.5, 0),          # the count of nonzero elements, as vector_norm's ord=0
    (1.0, 0.5, -math.inf),  # the smallest absolute value
])
def test_clip_grad_norm_matches_torch(torch, scale, max_norm, norm_type):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(s).astype(np.float32) * scale for s in SHAPES]
    params = [torch.nn.Parameter(torch.zeros(g.shape)) for g in grads]
    for p, g in zip(params, grads, strict=True):
        p.grad = torch.from_numpy(g.copy())
    expected_norm = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type)
    clipped, norm = optim.clip_grad_norm({str(i): g for i, g in enumerate(grads)},
                                         max_norm, norm_type)
    assert_close(norm, expected_norm.numpy(), what="total norm")
    for i, p in enumerate(params):
        assert_close(clipped[str(i)], p.grad.numpy(), what=f"grad {i}")


def test_optax_clip_differs_from_torch_and_ours_does_not(torch):
    """Why fnnet has its own: optax divides by the norm, torch adds 1e-6 to it."""
    rng = np.random.default_rng(1)
    grads = {"w": rng.standard_normal((40,)).astype(np.float32) * 0.003}
    torch_grad = torch.nn.Parameter(torch.zeros(40))
    torch_grad.grad = torch.from_numpy(grads["w"].copy())
    torch.nn.utils.clip_grad_norm_([torch_grad], 0.01)
    ours = optim.clip_by_total_norm(0.01).update(grads, optax.EmptyState())[0]["w"]
    theirs = optax.clip_by_global_norm(0.01).update(grads, optax.EmptyState())[0]["w"]
    assert_close(ours, torch_grad.grad.numpy(), rtol=1e-6)
    relative = np.max(np.abs(np.asarray(theirs) / torch_grad.grad.numpy() - 1))
    assert relative > 1e-5  # 1e-6 / norm(=0.019) ~ 5e-5


def test_fit_clips_as_the_chained_transformation_does():
    x, y = data.load("digits", "train")
    batches = list(data.batches(x[:256], y[:256], 32, seed=0, epoch=0, drop_last=True))
    model = models.MLP((64, 16, 10))
    state, _ = fit(model, optim.SGD(lr=0.5), lambda epoch: batches, clip_grad_norm=0.1,
                   progress=False)
    chained = optax.chain(optim.clip_by_total_norm(0.1), optim.SGD(lr=0.5))
    manual = create_train_state(model, chained, jax.random.key(0))
    step = make_train_step(model, chained)
    for batch in batches:
        manual, metrics = step(manual, batch)
    for a, b in zip(jax.tree.leaves(state.params), jax.tree.leaves(manual.params), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    unclipped, _ = fit(model, optim.SGD(lr=0.5), lambda epoch: batches, progress=False)
    assert not np.array_equal(unclipped.params["fc1"]["weight"], state.params["fc1"]["weight"])


@pytest.mark.parametrize("max_norm, error, message", [
    (0.0, ValueError, "max_norm must be a positive finite number, got 0.0"),
    (float("inf"), ValueError, "max_norm must be a positive finite number, got inf"),
    ("1", TypeError, "max_norm must be a number, got '1'"),
    (True, TypeError, "max_norm must be a number, got True"),
])
def test_bad_max_norm(max_norm, error, message):
    with pytest.raises(error, match=message):
        optim.clip_grad_norm({"w": np.ones(2, np.float32)}, max_norm)
    # make_train_step names its own argument
    with pytest.raises(error, match="^" + message.replace("max_norm", "clip_grad_norm")):
        make_train_step(models.MLP((4, 2)), optim.SGD(lr=0.1), clip_grad_norm=max_norm)


def test_bad_norm_type():
    with pytest.raises(ValueError, match="norm_type must be a number of the p-norm"):
        optim.clip_grad_norm({"w": np.ones(2, np.float32)}, 1.0, norm_type=math.nan)
