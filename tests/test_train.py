"""fnnet.train: steps, fit, evaluation, and their guards."""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import assert_close

from fnnet import data, losses, models, nn, optim
from fnnet.nn import functional as F
from fnnet.train import (
    NonFiniteLossError,
    create_train_state,
    evaluate,
    fit,
    make_eval_step,
    make_predict,
    make_train_step,
)


@pytest.fixture(scope="module")
def digits():
    return data.load("digits", "train"), data.load("digits", "test")


class DropoutNet(nn.Module):
    """Linear -> ReLU -> Dropout -> BatchNorm1d -> Linear: every kind of state and key."""

    def __init__(self):
        self.fc1 = nn.Linear(64, 32)
        self.drop = nn.Dropout(0.3)
        self.bn = nn.BatchNorm1d(32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, m, x):
        x = m.drop(F.relu(m.fc1(F.flatten(x, 1))))
        return m.fc2(m.bn(x))


def _batches(n_steps, batch=16, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((batch, 1, 8, 8)).astype(np.float32),
             rng.integers(0, 10, batch).astype(np.int32)) for _ in range(n_steps)]


def test_fit_reaches_95_percent_on_digits(digits):
    (tx, ty), (vx, vy) = digits
    model = models.MLP((64, 128, 64, 10))
    state, history = fit(model, optim.Adam(lr=1e-3), (tx, ty), eval_data=(vx, vy),
                         epochs=15, batch_size=32, progress=False)
    assert history["eval_accuracy"][-1] >= 0.95
    assert len(history["loss"]) == 15
    assert history["loss"][-1] < history["loss"][0]
    assert int(state.step) == 15 * (len(tx) // 32)
    again = evaluate(model, state, (vx, vy))
    assert again["accuracy"] == pytest.approx(history["eval_accuracy"][-1])


def test_jitted_and_plain_steps_agree(key):
    model = DropoutNet()
    opt = optim.SGD(lr=0.1, momentum=0.9)
    jitted = make_train_step(model, opt, losses.cross_entropy, donate=False)
    plain = make_train_step(model, opt, losses.cross_entropy, jit=False)
    a = b = create_train_state(model, opt, key)
    for batch in _batches(5):
        a, ma = jitted(a, batch)
        b, mb = plain(b, batch)
        assert_close(ma["loss"], mb["loss"], rtol=1e-5)
    # XLA fuses the jitted step's arithmetic unlike op-by-op execution, and BatchNorm over
    # 16 rows amplifies the float32 rounding: after 5 momentum steps a weight near 0.007
    # was seen 1.4e-6 apart (a CI run on a busy machine), so atol is 1e-5, not 1e-6
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        if jnp.issubdtype(x.dtype, jnp.floating):
            assert_close(x, y, rtol=1e-5, atol=1e-5)


def test_steps_per_call_equals_single_steps(key):
    model = DropoutNet()
    opt = optim.Adam(lr=1e-2)
    single = make_train_step(model, opt, donate=False)
    fused = make_train_step(model, opt, steps_per_call=4, donate=False)
    batches = _batches(4)
    a = b = create_train_state(model, opt, key)
    for batch in batches:
        a, _ = single(a, batch)
    stacked = tuple(np.stack([bt[i] for bt in batches]) for i in range(2))
    b, metrics = fused(b, stacked)
    assert metrics["loss"].shape == (4,)
    assert int(b.step) == 4
    for x, y in zip(jax.tree.leaves(a.params), jax.tree.leaves(b.params), strict=True):
        assert_close(x, y, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="steps_per_call=4 expects batches stacked"):
        fused(b, batches[0])


def test_dropout_and_batchnorm_state_are_threaded(key):
    model = DropoutNet()
    opt = optim.SGD(lr=0.1)
    step = make_train_step(model, opt, donate=False)
    state = create_train_state(model, opt, key)
    new, _ = step(state, _batches(1)[0])
    assert int(new.layer_state["bn"]["num_batches_tracked"]) == 1
    assert not np.allclose(new.layer_state["bn"]["running_mean"], 0.0)
    # The same state and batch give the same result (the key is in the state).
    again, _ = step(state, _batches(1)[0])
    for x, y in zip(jax.tree.leaves(new[:4]), jax.tree.leaves(again[:4]), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_eval_step_uses_running_statistics(key):
    model = DropoutNet()
    state = create_train_state(model, optim.SGD(lr=0.1), key)
    x, y = _batches(1)[0]
    metrics = make_eval_step(model)(state, (x, y))
    logits, _ = model.apply(state.params, state.layer_state, x, train=False)
    assert_close(metrics["loss"], losses.cross_entropy(logits, y))


def test_predict_takes_the_trees_or_a_train_state(key):
    model = DropoutNet()
    state = create_train_state(model, optim.SGD(lr=0.1), key)
    x, _ = _batches(1)[0]
    predict = make_predict(model)
    expected, _ = model.apply(state.params, state.layer_state, x, train=False)
    assert_close(predict(state.params, state.layer_state, x), expected)
    assert_close(predict(state, x), expected)  # as the train and eval steps take it
    with pytest.raises(TypeError, match=r"predict takes \(params, layer_state, x\) or "
                       r"\(state, x\) with a TrainState, got 2 argument\(s\) \(the first "
                       r"a dict\)"):
        predict(state.params, x)


def test_fit_is_a_function_of_the_seed(digits):
    (tx, ty), _ = digits
    runs = [fit(DropoutNet(), optim.SGD(lr=0.05), (tx[:256], ty[:256]), epochs=2,
                batch_size=32, seed=seed, progress=False)[0] for seed in (3, 3, 4)]
    same = jax.tree.leaves(runs[0].params), jax.tree.leaves(runs[1].params)
    for x, y in zip(*same, strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    assert not np.array_equal(np.asarray(runs[0].params["fc1"]["weight"]),
                              np.asarray(runs[2].params["fc1"]["weight"]))


def test_labels_out_of_range_are_refused(digits):
    (tx, ty), (vx, vy) = digits
    bad = ty.copy()
    bad[7] = 10
    model = models.MLP((64, 32, 10))
    with pytest.raises(ValueError, match=r"train_data labels: class labels must lie in "
                                         r"\[0, 10\), got 10 at index 7"):
        fit(model, optim.SGD(lr=0.1), (tx, bad), progress=False)
    state = create_train_state(model, optim.SGD(lr=0.1), jax.random.key(0))
    with pytest.raises(ValueError, match=r"eval_data labels: class labels must lie in "
                                         r"\[0, 10\), got -1 at index 4"):
        evaluate(model, state, (vx, np.where(np.arange(len(vy)) == 4, -1, vy)))


def test_nan_in_a_batch_stops_fit_at_that_step(digits):
    (tx, ty), _ = digits
    x = tx[:320].copy()
    batches = list(data.batches(x, ty[:320], 32, seed=0, epoch=0, drop_last=True))
    batches[6][0][3, 0, 2, 2] = np.nan  # the 7th step of the first epoch: step 7
    with pytest.raises(NonFiniteLossError, match="non-finite loss or gradient at step 7") as err:
        fit(models.MLP((64, 32, 10)), optim.SGD(lr=0.1), lambda epoch: batches,
            progress=False, log_every=3)
    assert err.value.step == 7
    state, history = fit(models.MLP((64, 32, 10)), optim.SGD(lr=0.1), lambda epoch: batches,
                         progress=False, on_nonfinite="skip")
    assert all(np.isfinite(leaf).all() for leaf in jax.tree.leaves(state.params))
    assert int(state.step) == 10


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"epochs": 0}, "epochs must be a positive int, got 0"),
        ({"batch_size": 5000}, r"batch_size=5000 is larger than the data set \(N=1438\)"),
        ({"on_nonfinite": "warn"}, "on_nonfinite must be one of"),
    ],
)
def test_fit_bad_arguments(digits, kwargs, message):
    (tx, ty), _ = digits
    with pytest.raises(ValueError, match=message):
        fit(models.MLP((64, 10)), optim.SGD(lr=0.1), (tx, ty), progress=False, **kwargs)


def test_fit_rejects_mismatched_lengths(digits):
    (tx, ty), _ = digits
    with pytest.raises(ValueError, match=r"inputs and labels differ in length \(1438 != 1437\)"):
        fit(models.MLP((64, 10)), optim.SGD(lr=0.1), (tx, ty[:-1]), progress=False)


def test_wrong_input_shape_names_the_layer(key):
    model = models.LeNet5()
    # Zeros of init's shapes: the error depends on shapes only, and no draw is made.
    params, state = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype),
                                 jax.eval_shape(model.init, key))
    with pytest.raises(ValueError, match=r"fc1.*Linear\(in_features=400.*256"):
        # 28x28 input without padding: conv/pool leave 16x4x4 = 256 features.
        model.apply(params, state, jnp.zeros((2, 1, 28, 28)))


def test_plot_history_writes_a_png_and_refuses_an_empty_history(tmp_path):
    from fnnet.train.plot import plot_history

    history = {"loss": [1.0, 0.5, 0.25], "accuracy": [0.5, 0.7, 0.9],
               "eval_loss": [1.1, 0.6, 0.4], "eval_accuracy": [0.4, 0.6, 0.8]}
    path = plot_history(history, tmp_path / "runs" / "curves.png")
    assert path == tmp_path / "runs" / "curves.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
    assert sorted(p.name for p in path.parent.iterdir()) == ["curves.png"]  # no temp left
    with pytest.raises(ValueError, match="plot_history: history has no 'loss' values"):
        plot_history({"loss": []}, tmp_path / "empty.png")
    # the format the suffix names (a PNG was written under any name), or a clear refusal
    assert plot_history(history, tmp_path / "pdf" / "c.pdf").read_bytes()[:5] == b"%PDF-"
    with pytest.raises(ValueError, match=r"plot_history: path must end in one of \.png, "
                       r"\.pdf, \.svg, \.jpg, \.jpeg \(or nothing, for a PNG\), got "):
        plot_history(history, tmp_path / "bad" / "curves.gif")
    assert not (tmp_path / "bad").exists()


_MLP, _SGD = models.MLP((4, 3)), optim.SGD(lr=0.1)


@pytest.mark.parametrize(
    "build, error, message",
    [
        (lambda: make_train_step(None, _SGD), TypeError,
         "model must be an fnnet.nn.Module .*got NoneType"),
        (lambda: make_train_step(_MLP, "sgd"), TypeError,
         r"optimizer must be an optax.GradientTransformation .*got str"),
        (lambda: make_train_step(_MLP, None), TypeError, "optimizer must be .*got NoneType"),
        (lambda: make_train_step(_MLP, _SGD, "mse"), TypeError,
         r"loss_fn must be a function \(outputs, labels\) -> scalar loss .*got str"),
        (lambda: make_train_step(_MLP, _SGD, steps_per_call=1.5), TypeError,
         "steps_per_call must be an int, got 1.5"),
        (lambda: make_eval_step("mlp"), TypeError, "model must be .*got str"),
        (lambda: make_train_step(models.MLP, _SGD), TypeError,
         r"model must be an fnnet.nn.Module instance, got the class MLP: create the model "
         r"first, e.g. MLP\(...\)"),
        (lambda: create_train_state(_MLP, None, jax.random.key(0)), TypeError,
         "optimizer must be .*got NoneType"),
        (lambda: create_train_state(_MLP, _SGD, 0), TypeError,
         r"create_train_state: key must be a PRNG key, e.g. jax.random.key\(0\), got int 0"),
        (lambda: evaluate(_MLP, None, (np.ones((2, 4)), np.zeros(2, int))), TypeError,
         "state must be a TrainState"),
        (lambda: fit(_MLP, _SGD, (np.ones((2, 4)), np.zeros(2, int)), batch_size=2,
                     loss_fn="mse", progress=False), TypeError, "loss_fn must be a function"),
    ],
)
def test_step_builders_name_a_bad_argument(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_a_step_names_a_state_that_is_not_one_or_was_donated():
    state = create_train_state(_MLP, _SGD, jax.random.key(0))
    batch = (jnp.ones((2, 4)), jnp.array([0, 1]))
    step = make_train_step(_MLP, _SGD)
    with pytest.raises(TypeError, match="train_step: state must be a TrainState .*got tuple"):
        step((state.params, state.layer_state), batch)
    new, _ = step(state, batch)
    donated = ("the state's params.fc1.bias was deleted: this state was passed to an earlier "
               r"train_step, .*make_train_step\(..., donate=False\)")
    with pytest.raises(ValueError, match="train_step: " + donated):
        step(state, batch)
    with pytest.raises(ValueError, match="eval_step: " + donated):
        evaluate(_MLP, state, batch)
    assert evaluate(_MLP, new, batch)["loss"] > 0  # the returned state is the live one
    kept = create_train_state(_MLP, _SGD, jax.random.key(0))
    keep_step = make_train_step(_MLP, _SGD, donate=False)
    keep_step(kept, batch)
    assert_close(keep_step(kept, batch)[0].params["fc1"]["weight"], new.params["fc1"]["weight"])


@pytest.mark.parametrize("change, error, message", [
    (lambda p: {**p, "extra": jnp.ones(2)}, nn.StateDictError,
     'create_train_state: the trees do not match the ones init returns: unexpected params '
     'entry "extra"'),
    (lambda p: {**p, "fc1": {"weight": jnp.ones((8, 5)), "bias": jnp.ones(8)}},
     nn.StateDictError, 'create_train_state: the trees do not match the ones init returns: '
     'params entry "fc1.weight" has shape (8, 5), expected (8, 4)'),
    (lambda p: [p], TypeError, "params must be nested dicts of arrays (as init returns), "
     "got list"),
])
def test_create_train_state_checks_given_params(key, change, error, message):
    # They were taken as given and failed at the first step, or trained another model.
    model = models.MLP((4, 8, 3))
    params, _ = model.init(key)
    with pytest.raises(error, match="^" + re.escape(message) + "$"):
        create_train_state(model, optim.SGD(lr=0.1), key, params=change(params))
    state = create_train_state(model, optim.SGD(lr=0.1), key, params=params)
    assert jax.tree.all(jax.tree.map(lambda a, b: bool(jnp.array_equal(a, b)), state.params,
                                     params))
    # copies: the donating step leaves the caller's trees usable (it deleted them)
    step = make_train_step(model, optim.SGD(lr=0.1))
    step(state, (jnp.ones((2, 4)), jnp.array([0, 2])))
    assert not any(leaf.is_deleted() for leaf in jax.tree.leaves(params))
