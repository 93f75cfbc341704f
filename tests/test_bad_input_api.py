"""Bad arguments to fnnet's own API, as a user following the docs passes them next:
each raises an exception naming the argument, what was expected and what was given,
before anything is created or written."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fnnet import data, losses, models, nn, optim, train
from fnnet.data import augment
from fnnet.optim import transforms


@pytest.mark.parametrize("call, error, message", [
    (lambda: nn.RMSNorm(0), ValueError,
     r"^RMSNorm: normalized_shape must be positive ints, got 0$"),
    (lambda: nn.RMSNorm("4"), TypeError, r"^RMSNorm: normalized_shape must be an int"),
    (lambda: nn.AdaptiveAvgPool3d(0), ValueError,
     r"^AdaptiveAvgPool3d: output_size must be a positive int or three positive ints "
     r"\(or None\), got 0$"),
    (lambda: nn.AdaptiveAvgPool3d((2, 2)), ValueError, r"^AdaptiveAvgPool3d: output_size"),
    (lambda: nn.functional.adaptive_avg_pool3d(jnp.ones((1, 1, 4, 4, 4)), (2, 0, 2)),
     ValueError, r"^adaptive_avg_pool3d: output_size must be a positive int"),
    (lambda: data.steps_per_epoch("10", 2), TypeError,
     r"^n must be an int \(the number of examples\), got str$"),
    (lambda: data.steps_per_epoch(10.0, 2), TypeError, r"^n must be an int"),
    (lambda: data.steps_per_epoch(-1, 2), ValueError, r"^n must be the number of examples"),
    (lambda: data.permutation(-1, 0, 0), ValueError,
     r"^n must be the number of examples, an int >= 0, got -1$"),
    (lambda: losses.ctc_loss(jnp.zeros((5, 2, 4)), jnp.ones((2, 3), int), jnp.array([5, 5]),
                             jnp.array([3, 3]), blank=7), ValueError,
     r"^ctc_loss: blank must be in label range \[0, 4\) \(log_probs' classes\), got 7$"),
    (lambda: losses.ctc_loss(jnp.zeros((5, 4)), jnp.ones((2, 3), int), jnp.array([5, 5]),
                             jnp.array([3, 3])), ValueError,
     r"^ctc_loss: log_probs must be \[T, N, C\], got shape \(5, 4\)$"),
    (lambda: losses.ctc_loss(jnp.zeros((5, 2, 4)), jnp.ones((2, 3), int), jnp.array([5]),
                             jnp.array([3, 3])), ValueError,
     r"^ctc_loss: input_lengths must be \[N\] with N = 2, got shape \(1,\)$"),
    (lambda: losses.ctc_loss(jnp.zeros((5, 2, 4)), jnp.ones((2, 3), int), jnp.array([5, 5]),
                             jnp.array([3, 3]), reduction="avg"), ValueError,
     r"^ctc_loss: reduction must be"),
    (lambda: losses.gaussian_nll_loss(jnp.ones(3), jnp.ones(3), jnp.array([1.0, -0.5, 1.0])),
     ValueError, r"^gaussian_nll_loss: var has negative entry/entries \(variances must be "
                 r">= 0\), got -0.5 at index 1$"),
    (lambda: losses.triplet_margin_loss(jnp.ones((2, 3)), jnp.zeros((2, 3)),
                                        jnp.ones((2, 3)), margin=0.0), ValueError,
     r"^triplet_margin_loss: margin must be greater than 0, got 0.0$"),
    (lambda: losses.triplet_margin_from_distances(jnp.ones(2), jnp.ones(2), margin=-1),
     ValueError, r"^triplet_margin_from_distances: margin must be greater than 0, got -1$"),
    (lambda: losses.triplet_margin_loss(jnp.ones((2, 3)), jnp.zeros((2, 3)),
                                        jnp.ones((2, 3)), margin="1"), TypeError,
     r"^triplet_margin_loss: margin must be a number, got str$"),
])
def test_public_functions_name_the_bad_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_the_checks_pass_what_pytorch_takes():
    """The valid neighbours of the cases above still compute."""
    x = jnp.ones((1, 1, 4, 4, 4))
    assert nn.functional.adaptive_avg_pool3d(x, (2, None, np.int64(1))).shape == (1, 1, 2, 4, 1)
    assert nn.RMSNorm((2, 3)).normalized_shape == (2, 3)
    assert data.steps_per_epoch(np.int64(10), 3) == 4
    assert np.isfinite(float(losses.gaussian_nll_loss(jnp.ones(2), jnp.ones(2), jnp.zeros(2))))
    assert float(losses.triplet_margin_loss(jnp.ones((2, 3)), jnp.ones((2, 3)),
                                            jnp.zeros((2, 3)), margin=2)) >= 0


@pytest.mark.parametrize("make", [
    lambda path: train.TensorBoardWriter(path / "tb"),
    lambda path: train.JSONLWriter(path / "metrics.jsonl"),
    lambda path: train.HistoryWriter(path / "history.json"),
])
def test_writers_refuse_a_path_through_a_file_when_made(tmp_path, make):
    """A writer's folder under an existing file fails when the writer is made, naming the
    file, not as a FileExistsError when fit begins."""
    blocker = tmp_path / "run.log"
    blocker.write_text("")
    with pytest.raises(ValueError, match=rf"must be .*\('{blocker}' is a file\)$"):
        make(blocker)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.log"]


def test_tensorboard_writer_histograms_is_a_bool(tmp_path):
    with pytest.raises(TypeError, match=r"^histograms must be a bool, got 'no'$"):
        train.TensorBoardWriter(tmp_path / "tb", histograms="no")
    assert not (tmp_path / "tb").exists()


def test_one_callback_not_in_a_list_is_checked_as_a_lists(tmp_path):
    from fnnet.train.callbacks import check_callbacks

    class Bad(train.Callback):
        def on_step(self, metrics):
            del metrics

    with pytest.raises(TypeError, match=r"^callbacks\[0\]: Bad\.on_step must take \(step, "
                                        r"metrics\), as fit calls it"):
        check_callbacks(Bad())
    writer = train.JSONLWriter(tmp_path / "m.jsonl")
    assert check_callbacks(writer) == [writer]


def test_a_data_file_given_as_data_dir_is_named(tmp_path):
    images = tmp_path / "t10k-images-idx3-ubyte.gz"
    images.write_bytes(b"")
    for call in (lambda: data.load("mnist", "test", images),
                 lambda: data.load_train_test("mnist", str(images))):
        with pytest.raises(NotADirectoryError, match=r": data_dir must be the folder holding "
                                                     r"the data set's files, got the file '"):
            call()


@pytest.mark.parametrize("call, error, message", [
    (lambda: augment.random_crop(0, jnp.ones((2, 1, 8, 8)), 4), TypeError,
     r"^random_crop: key must be a PRNG key, e.g. jax.random.key\(0\), got int 0$"),
    (lambda: augment.random_horizontal_flip(None, jnp.ones((2, 1, 8, 8))), TypeError,
     r"^random_horizontal_flip: key must be a PRNG key"),
    (lambda: augment.random_rotation(3, jnp.ones((2, 1, 8, 8)), 10), TypeError,
     r"^random_rotation: key must be a PRNG key"),
    (lambda: models.MLP((4, 3)).apply(*models.MLP((4, 3)).init(jax.random.key(0)),
                                      [[1.0] * 4]), TypeError,
     r"^flatten: x must be an array \(numpy or jax\), got list; convert it with jnp.asarray$"),
    (lambda: train.make_train_step(models.MLP((4, 3)), optim.SGD(lr=0.1),
                                   lambda outputs: outputs.sum()), TypeError,
     r"^loss_fn must take \(outputs, labels\), as the training step calls it; it is "
     r"defined as <lambda>\(outputs\)$"),
    (lambda: train.make_eval_step(models.MLP((4, 3)), lambda a, b, c: a), TypeError,
     r"^loss_fn must take \(outputs, labels\)"),
])
def test_keys_inputs_and_loss_functions_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_loss_functions_of_other_shapes_pass():
    """Defaults, partials, *args and builtins-like callables are taken as they are."""
    model, optimizer = models.MLP((4, 3)), optim.SGD(lr=0.1)
    for loss_fn in (losses.cross_entropy, functools.partial(losses.cross_entropy,
                                                            label_smoothing=0.1),
                    lambda *args: losses.cross_entropy(*args), jax.jit(losses.cross_entropy)):
        train.make_train_step(model, optimizer, loss_fn)


def test_apply_train_is_a_bool():
    """``train="eval"`` (truthy) would select training mode: refused, naming the module;
    bools, numpy and 0-d JAX bools pass."""
    model = models.MLP((4, 3))
    params, state = model.init(jax.random.key(0))
    with pytest.raises(TypeError, match=r"^MLP.apply: train must be a bool, got 'eval'$"):
        model.apply(params, state, jnp.ones((2, 4)), train="eval")
    dropout = nn.Dropout(0.5)
    with pytest.raises(TypeError, match=r"^Dropout.apply: train must be a bool, got 1$"):
        dropout.apply({}, {}, jnp.ones(3), train=1, key=jax.random.key(0))
    for train_flag in (True, np.bool_(False), jnp.asarray(True)):
        model.apply(params, state, jnp.ones((2, 4)), train=train_flag)


@pytest.mark.parametrize("call, error, message", [
    (lambda: transforms.momentum_buffer(-0.5), ValueError, r"^Invalid momentum value: -0.5$"),
    (lambda: transforms.momentum_buffer("0.9"), TypeError, r"^momentum must be a number"),
    (lambda: transforms.momentum_buffer(0.9, nesterov="yes"), TypeError,
     r"^nesterov must be a bool, got 'yes'$"),
    (lambda: transforms.scale_by_adam(b1=2.0), ValueError,
     r"^Invalid beta parameter at index 0: 2.0$"),
    (lambda: transforms.scale_by_amsgrad(b2=1.0), ValueError,
     r"^Invalid beta parameter at index 1: 1.0$"),
    (lambda: transforms.scale_by_adam(eps=-1e-8), ValueError, r"^Invalid epsilon value: -1e-08$"),
    (lambda: transforms.scale_by_adagrad(initial_accumulator_value=-1), ValueError,
     r"^Invalid initial_accumulator_value value: -1$"),
])
def test_optimizer_building_blocks_check_as_the_optimizers_do(call, error, message):
    with pytest.raises(error, match=message):
        call()
    # an injected (array) hyperparameter is still taken
    transforms.momentum_buffer(jnp.asarray(0.9))


def test_checkpoint_arguments_are_checked_before_the_folder(tmp_path):
    from fnnet import checkpoint

    with pytest.raises(TypeError, match=r"^template must be a fnnet.train.TrainState, got "
                                        r"dict$"):
        checkpoint.restore_checkpoint(tmp_path / "absent", {"params": {}})
    with pytest.raises(TypeError, match=r"^read_only must be a bool, got 'yes'$"):
        checkpoint.Checkpointer(tmp_path / "ck", read_only="yes")
    assert not (tmp_path / "ck").exists()


def test_evaluate_compose_and_optimizer_state_conversion_name_the_argument():
    from fnnet import interop

    model = models.MLP((4, 3))
    state = train.create_train_state(model, optim.SGD(lr=0.1, momentum=0.9),
                                     jax.random.key(0))
    x, y = np.ones((4, 4), np.float32), np.zeros(4, np.int32)
    with pytest.raises(TypeError, match=r"^eval_step must be a step from make_eval_step"):
        train.evaluate(model, state, (x, y), eval_step=3)
    with pytest.raises(TypeError, match=r"^compose: key must be a PRNG key"):
        augment.compose(augment.random_horizontal_flip)(0, jnp.ones((2, 1, 4, 4)))
    for bad in (None, "adam"):
        with pytest.raises(TypeError, match=r"^to_torch_optimizer_state: opt_state must be "
                                            r"an optimizer state"):
            interop.to_torch_optimizer_state(model, state.params, bad)
    assert len(interop.to_torch_optimizer_state(model, state.params,
                                                state.opt_state)["state"]) == 2


def test_gather_called_eagerly_refuses_an_index_outside_the_data():
    images, labels = np.ones((8, 4), np.float32), np.arange(8)
    with pytest.raises(IndexError, match=r"^gather: idx holds 99, outside the data set's 8 "
                                         r"examples$"):
        data.gather((images, labels), jnp.array([0, 99]))
    assert data.gather((images, labels), jnp.array([1, -1]))[1].tolist() == [1, 7]


def test_plot_history_leaves_the_programs_matplotlib_as_it_was(tmp_path):
    """No backend switch (a notebook's inline backend stayed Agg after it) and no
    legend warning for a history without accuracy."""
    import warnings

    import matplotlib

    backend = matplotlib.get_backend()
    matplotlib.use("svg")  # a program's own backend, not Agg
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            train.plot_history({"loss": [1.0, 0.5]}, tmp_path / "curves.png")
        assert matplotlib.get_backend() == "svg"
        # fnnet.compare's loss curves likewise
        from fnnet.compare import Comparison, plot_losses

        run = {"losses": [1.0, 0.5], "epoch_losses": [0.75], "ms_per_step": 1.0,
               "params": {"w": np.ones(2)}}
        plot_losses([Comparison(example="linear_regression", variant="sgd", config=None,
                                source="", results={"torch": run, "fnnet": dict(run)},
                                seconds={}, deterministic=True)], tmp_path / "losses.png")
        assert matplotlib.get_backend() == "svg"
    finally:
        matplotlib.use(backend)
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match=r"^plot_history: path must be a file's path in a "
                                         r"folder, got .*\('.*curves.png' is a file\)$"):
        train.plot_history({"loss": [1.0]}, tmp_path / "curves.png" / "again.png")


def test_save_state_dict_under_a_file_names_the_file(tmp_path):
    from fnnet import interop

    blocker = tmp_path / "run.log"
    blocker.write_text("")
    with pytest.raises(NotADirectoryError, match=rf"save_state_dict: '{blocker}' is a file, "
                                                 r"not a folder to write 'm.pt' in"):
        interop.save_state_dict({"w": np.ones(2)}, blocker / "m.pt")
