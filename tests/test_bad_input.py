"""Bad input to every public entry point gives a clear exception naming the argument.

Property-based (hypothesis): each test draws bad inputs of one kind for one entry
point and checks the documented exception type and message. docs/input_checks.md lists
what each entry point checks.
"""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fnnet import core, data, interop, losses, models, nn, optim, parallel
from fnnet.checkpoint import save_safetensors
from fnnet.nn import StateDictError
from fnnet.nn import functional as F
from fnnet.train import NonFiniteLossError, create_train_state, evaluate, fit, plot_history

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
FEW = settings(SETTINGS, max_examples=4)
KEY = jax.random.key(0)

bad_sizes = st.one_of(st.integers(-5, 0), st.floats(0.5, 9.5), st.text(max_size=2),
                      st.none(), st.booleans())


@pytest.fixture(scope="module")
def digits():
    x, y = data.load("digits", "train")
    return x[:256], y[:256]


# ------------------------------------------------------------------- layers


@SETTINGS
@given(st.sampled_from(["in_features", "out_features"]), bad_sizes)
def test_linear_constructor(argument, value):
    sizes = {"in_features": 4, "out_features": 3, argument: value}
    with pytest.raises(ValueError, match=f"Linear: {argument} must be a positive int, got "
                                         f"{re.escape(repr(value))}"):
        nn.Linear(**sizes)


@SETTINGS
@given(st.sampled_from(["in_channels", "out_channels"]), st.integers(-3, 0))
def test_conv_constructor(argument, value):
    sizes = {"in_channels": 1, "out_channels": 2, "kernel_size": 3, argument: value}
    with pytest.raises(ValueError, match=f"Conv2d: {argument} must be a positive int, got "
                                         f"{value}"):
        nn.Conv2d(**sizes)


LAYERS = {
    # layer, accepted ranks, channel axis size checked
    "Linear": (lambda: nn.Linear(4, 3), range(1, 9), 4),
    "Conv2d": (lambda: nn.Conv2d(2, 3, 1), (3, 4), 2),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(2), (2, 3), 2),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(2), (4,), 2),
    "MaxPool2d": (lambda: nn.MaxPool2d(1), (3, 4), None),
    "AvgPool2d": (lambda: nn.AvgPool2d(1), (3, 4), None),
}


@SETTINGS
@given(st.sampled_from(sorted(LAYERS)), st.integers(0, 6))
def test_layers_refuse_wrong_ranks(name, rank):
    make, ranks, _ = LAYERS[name]
    if rank in ranks:
        return
    layer = make()
    params, state = layer.init(KEY)
    x = jnp.ones((2,) * rank)
    with pytest.raises(ValueError, match=rf"{name}\(.*\): expected .*-D input, got shape "
                                         rf"{re.escape(str(x.shape))}"):
        layer.apply(params, state, x, train=True)


@SETTINGS
@given(st.sampled_from(["Linear", "Conv2d", "BatchNorm1d", "BatchNorm2d"]),
       st.integers(1, 7))
def test_layers_refuse_wrong_feature_sizes(name, size):
    make, ranks, expected = LAYERS[name]
    if size == expected:
        return
    layer = make()
    params, state = layer.init(KEY)
    rank = max(r for r in ranks if r <= 4)
    shape = (3, size) + (3,) * (rank - 2) if name != "Linear" else (3, size)
    with pytest.raises(ValueError, match=rf"{name}\(.*\): expected input with {expected} at "
                                         rf"axis \d, got shape {re.escape(str(shape))}"):
        layer.apply(params, state, jnp.ones(shape), train=True)


@SETTINGS
@given(st.integers(-1, 3), st.integers(1, 6))
def test_functional_linear_checks_shapes(extra, features):
    x, weight = jnp.ones((2, features)), jnp.ones((3, features + extra))
    if extra == 0:
        assert F.linear(x, weight).shape == (2, 3)
        with pytest.raises(ValueError, match=r"linear: bias must have shape \(3,\)"):
            F.linear(x, weight, jnp.ones((1,)))
        return
    with pytest.raises(ValueError, match=rf"linear: input of shape \(2, {features}\) does not "
                                         rf"match weight of shape \(3, {features + extra}\)"):
        F.linear(x, weight)


# ----------------------------------------------------- parameter trees in apply

MODELS = {"MLP": lambda: models.MLP((64, 8, 10)), "LeNet5": lambda: models.LeNet5()}
INPUTS = {"MLP": (2, 64), "LeNet5": (2, 1, 32, 32)}


def _flat(tree, prefix=""):
    for name, value in tree.items():
        if isinstance(value, dict):
            yield from _flat(value, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", value


def _edit(tree, dotted, value):
    """A copy of ``tree`` with entry ``dotted`` replaced (or removed for None)."""
    head, _, rest = dotted.partition(".")
    out = dict(tree)
    if rest:
        out[head] = _edit(tree.get(head, {}), rest, value)
    elif value is None:
        del out[head]
    else:
        out[head] = value
    return out


@SETTINGS
@given(st.sampled_from(sorted(MODELS)), st.data())
def test_apply_names_the_wrong_entry_of_params(name, draw):
    model = MODELS[name]()
    params, state = jax.eval_shape(model.init, KEY)
    params = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), params)
    entries = dict(_flat(params))
    dotted = draw.draw(st.sampled_from(sorted(entries)), label="entry")
    kind = draw.draw(st.sampled_from(["missing", "unexpected", "shape"]), label="kind")
    if kind == "missing":
        bad, message = _edit(params, dotted, None), f'missing params entry "{dotted}"'
    elif kind == "unexpected":
        bad = _edit(params, dotted + "_extra", jnp.zeros(2))
        message = f'unexpected params entry "{dotted}_extra"'
    else:
        shape = entries[dotted].shape
        wrong = shape[:-1] + (shape[-1] + 1,) if shape else (1,)
        bad = _edit(params, dotted, jnp.zeros(wrong))
        message = (f'params entry "{dotted}" has shape {re.escape(str(wrong))}, expected '
                   f"{re.escape(str(shape))}")
    with pytest.raises(StateDictError, match=message):
        model.apply(bad, state, jnp.ones(INPUTS[name]))
    with pytest.raises(KeyError):  # a StateDictError is a KeyError and a ValueError
        jax.jit(model.apply)(bad, state, jnp.ones(INPUTS[name]))


@pytest.mark.parametrize("params, message", [
    (None, "params must be nested dicts of arrays \\(as init returns\\), got NoneType"),
    ([1, 2], "params must be nested dicts of arrays \\(as init returns\\), got list"),
    ({"fc1": {"weight": 3.0}}, "got float at 'fc1.weight'"),
])
def test_apply_refuses_params_that_are_not_trees(params, message):
    model = models.MLP((4, 2))
    with pytest.raises(TypeError, match=message):
        model.apply(params, {}, jnp.ones((1, 4)))


def test_apply_names_missing_batchnorm_state():
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    params, state = model.init(KEY)
    with pytest.raises(StateDictError, match='missing state entry "1.running_var"'):
        model.apply(params, {"1": {k: v for k, v in state["1"].items()
                                   if k != "running_var"}}, jnp.ones((2, 4)), train=True)


# ------------------------------------------------------------------- losses


@SETTINGS
@given(st.sampled_from([losses.cross_entropy, losses.nll_loss]), st.integers(2, 6),
       st.data())
def test_class_losses_refuse_labels_out_of_range(loss, classes, draw):
    n = 5
    index = draw.draw(st.integers(0, n - 1), label="index")
    value = draw.draw(st.one_of(st.integers(classes, classes + 50), st.integers(-50, -1))
                      .filter(lambda v: v != -100), label="value")
    labels = np.zeros(n, np.int32)
    labels[index] = value
    with pytest.raises(ValueError, match=rf"class labels must lie in \[0, {classes}\), got "
                                         rf"{value} at index {index}"):
        loss(jnp.zeros((n, classes)), labels)


@SETTINGS
@given(st.sampled_from([losses.cross_entropy, losses.nll_loss]), st.integers(1, 8))
def test_class_losses_refuse_mismatched_lengths(loss, n):
    if n == 4:
        return
    with pytest.raises(ValueError, match=rf"{loss.__name__}: target must have shape \(4,\)"):
        loss(jnp.zeros((4, 3)), jnp.zeros(n, jnp.int32))


ELEMENTWISE = [losses.mse_loss, losses.l1_loss, losses.smooth_l1_loss,
               losses.binary_cross_entropy, losses.binary_cross_entropy_with_logits]


@SETTINGS
@given(st.sampled_from(ELEMENTWISE), st.lists(st.integers(1, 4), min_size=1, max_size=3))
def test_elementwise_losses_refuse_other_shapes(loss, shape):
    shape = tuple(shape)
    if shape == (2, 3):
        return
    with pytest.raises(ValueError, match=rf"{loss.__name__}: target must have the shape of "
                                         rf"input \(2, 3\), got {re.escape(str(shape))}"):
        loss(jnp.full((2, 3), 0.5), jnp.full(shape, 0.5))


@SETTINGS
@given(st.sampled_from([losses.cross_entropy, losses.nll_loss, *ELEMENTWISE]),
       st.sampled_from([jnp.int32, jnp.uint8, jnp.bool_]))
def test_losses_refuse_integer_inputs(loss, dtype):
    target = jnp.zeros(2, jnp.int32) if loss in (losses.cross_entropy, losses.nll_loss) \
        else jnp.zeros((2, 3))
    x = jnp.zeros((2, 3), dtype)
    with pytest.raises(TypeError, match=rf"{loss.__name__}: input must be a floating-point "
                                        rf"array, got dtype {jnp.dtype(dtype)}"):
        loss(x, target)


@SETTINGS
@given(st.sampled_from([losses.cross_entropy, *ELEMENTWISE]), st.text(max_size=5))
def test_losses_refuse_unknown_reductions(loss, reduction):
    if reduction in ("mean", "sum", "none"):
        return
    target = jnp.zeros(2, jnp.int32) if loss is losses.cross_entropy else jnp.zeros((2, 3))
    with pytest.raises(ValueError, match=rf"{loss.__name__}: reduction must be 'mean', 'sum' "
                                         rf"or 'none', got {re.escape(repr(reduction))}"):
        loss(jnp.full((2, 3), 0.5), target, reduction=reduction)


@SETTINGS
@given(st.one_of(st.floats(1.0001, 1e6), st.floats(-1e6, -1e-4), st.just(float("nan"))),
       st.integers(0, 5))
def test_binary_cross_entropy_refuses_non_probabilities(value, index):
    x = np.full(6, 0.5, np.float32)
    x[index] = value
    with pytest.raises(ValueError, match=r"binary_cross_entropy: all elements of input should "
                                         rf"be between 0 and 1, got .* at index {index}"):
        losses.binary_cross_entropy(x, np.zeros(6, np.float32))


# --------------------------------------------------------------- optimizers

HYPERPARAMETERS = [
    (optim.SGD, "lr", "Invalid learning rate"),
    (optim.SGD, "momentum", "Invalid momentum value"),
    (optim.SGD, "weight_decay", "Invalid weight_decay value"),
    (optim.Adam, "lr", "Invalid learning rate"),
    (optim.Adam, "eps", "Invalid epsilon value"),
    (optim.AdamW, "weight_decay", "Invalid weight_decay value"),
    (optim.RMSprop, "alpha", "Invalid alpha value"),
    (optim.RMSprop, "momentum", "Invalid momentum value"),
    (optim.Adagrad, "lr_decay", "Invalid lr_decay value"),
    (optim.Adagrad, "initial_accumulator_value", "Invalid initial_accumulator_value value"),
]


@SETTINGS
@given(st.sampled_from(HYPERPARAMETERS), st.floats(-1e3, -1e-6))
def test_optimizers_refuse_negative_hyperparameters(case, value):
    factory, name, message = case
    kwargs = {"lr": 0.1, name: value}
    with pytest.raises(ValueError, match=f"{message}: {re.escape(str(value))}"):
        factory(**kwargs)


@SETTINGS
@given(st.sampled_from([optim.Adam, optim.AdamW]), st.integers(0, 1),
       st.one_of(st.floats(1.0, 10.0), st.floats(-10.0, -1e-6)))
def test_adam_refuses_betas_outside_0_1(factory, index, value):
    betas = [0.9, 0.999]
    betas[index] = value
    with pytest.raises(ValueError, match=f"Invalid beta parameter at index {index}: "
                                         f"{re.escape(str(value))}"):
        factory(betas=tuple(betas))


@SETTINGS
@given(st.sampled_from([optim.SGD, optim.Adam, optim.RMSprop, optim.Adagrad]),
       st.one_of(st.text(max_size=3), st.none(), st.lists(st.floats(), max_size=2)))
def test_optimizers_refuse_non_numeric_learning_rates(factory, lr):
    with pytest.raises(TypeError, match=r"lr must be a number or a schedule"):
        factory(lr=lr)


# --------------------------------------------------------------------- data


@SETTINGS
@given(st.integers(1, 20), st.integers(1, 20))
def test_batches_refuse_mismatched_lengths(n_images, n_labels):
    if n_images == n_labels:
        return
    with pytest.raises(ValueError, match=f"images and labels must have the same length, got "
                                         f"{n_images} images and {n_labels} labels"):
        data.batches(np.zeros((n_images, 2)), np.zeros(n_labels), 2)
    with pytest.raises(ValueError, match="images and labels must have the same length"):
        data.DataLoader((np.zeros((n_images, 2)), np.zeros(n_labels)), 2)


@SETTINGS
@given(st.one_of(st.integers(-5, 0), st.floats(0.5, 4.5), st.text(max_size=1)))
def test_batches_refuse_bad_batch_sizes(batch_size):
    error = ValueError if isinstance(batch_size, int) else TypeError
    message = "batch_size must be positive" if error is ValueError else \
        "batch_size must be an int"
    with pytest.raises(error, match=message):
        data.batches(np.zeros((8, 2)), np.zeros(8), batch_size)


@SETTINGS
@given(st.one_of(st.integers(-10, -1), st.integers(5, 50)))
def test_batches_refuse_start_outside_the_epoch(start):
    with pytest.raises(ValueError, match=rf"start must be in \[0, 4\] \(steps per epoch\), "
                                         rf"got {start}"):
        data.batches(np.zeros((8, 2)), np.zeros(8), 2, start=start)


@pytest.mark.parametrize("source, error, message", [
    ([np.zeros((4, 2)), np.zeros(4)], TypeError, "got list"),
    ((np.zeros((4, 2)), np.zeros(4), 1), TypeError, "pair, got a tuple of 3"),
    (np.zeros((4, 2)), TypeError, "got ndarray"),
])
def test_data_loader_refuses_what_is_not_a_data_set(source, error, message):
    with pytest.raises(error, match=message):
        data.DataLoader(source, 2)


@pytest.mark.parametrize("call, error, message", [
    (lambda: data.load("digits", "validation"), ValueError, "split must be one of"),
    (lambda: data.load_mnist_idx("/nonexistent"), FileNotFoundError, "not found in"),
    (lambda: data.train_test_split(np.zeros((4, 2)), np.zeros(4), test_fraction=1.5),
     ValueError, r"test_fraction must be in \(0, 1\), got 1.5"),
    (lambda: data.train_test_split(np.zeros((4, 2)), np.zeros(4), seed=-1), ValueError,
     "^train_test_split: seed must be a non-negative int, got -1$"),
    (lambda: data.normalize(np.zeros((2, 1, 4, 4), np.uint8), 0.5, 0.5), TypeError,
     r"^normalize: x must be a floating-point batch \(pixels in \[0, 1\]: data.to_float "
     r"converts uint8 ones\), got dtype uint8$"),
    (lambda: data.rotate(jnp.zeros((2, 1, 4, 4)), jnp.zeros(3)), ValueError,
     r"^rotate: angle must be a scalar or one angle per image \[2\], got shape \(3,\)$"),
    (lambda: data.DataLoader((np.zeros((4, 2)), np.zeros(4)), 2, prefetch=-1), ValueError,
     "prefetch must be a non-negative int, got -1"),
    (lambda: data.load(None), TypeError,
     r"^load: name must be a str \(a dataset name\), got None$"),
    (lambda: data.load(-1), TypeError, "^load: name must be a str .*, got -1$"),
    (lambda: data.load("digits", 3), TypeError, "^load: split must be a str .*, got 3$"),
    (lambda: data.load("mnist", "train", 5), TypeError,
     r"^load: data_dir must be a folder path \(str or os.PathLike\) or None, got 5$"),
    (lambda: data.load_train_test(None), TypeError,
     "^load_train_test: name must be a str .*, got None$"),
    (lambda: data.load_train_test("mnist", ["/data"]), TypeError,
     "^load_train_test: data_dir must be a folder path"),
    (lambda: data.from_tfds(None), TypeError, "^from_tfds: name must be a str .*, got None$"),
    (lambda: data.from_tfds(-1), TypeError, "^from_tfds: name must be a str .*, got -1$"),
    (lambda: data.from_tfds("mnist", None), TypeError, "^from_tfds: split must be a str"),
    (lambda: data.to_float(None), TypeError,
     "^to_float: images must be a numpy or JAX array of uint8 or float pixels, got "
     "NoneType$"),
    (lambda: data.to_float("x"), TypeError, "^to_float: images must be .*, got str$"),
    (lambda: data.to_float(np.zeros(2, np.int32)), TypeError,
     "^to_float: images must be uint8 or floating point, got dtype int32$"),
    (lambda: data.gather(None, np.zeros(2, np.int32)), TypeError,
     r"^gather: data must be an \(images, labels\) pair of arrays "
     r"\(DeviceDataset.data\), got NoneType$"),
    (lambda: data.gather("x", "x"), TypeError, "^gather: data must be .*, got str$"),
    (lambda: data.gather((np.zeros((4, 2)),), 0), TypeError,
     "^gather: data must be .*, got a tuple of 1 items$"),
    (lambda: data.gather((np.zeros((4, 2)), np.zeros(4)), np.zeros(2, np.float32)),
     TypeError, "^gather: idx must be integer indices .*, got an array of dtype float32$"),
    (lambda: data.gather((np.zeros((4, 2)), np.zeros(4)), "x"), TypeError,
     "^gather: idx must be integer indices .*, got str$"),
    (lambda: data.prefetch_to_device(None), TypeError,
     r"^prefetch_to_device: batches must be an iterable of batches \(pytrees of host "
     r"arrays\), got NoneType$"),
    (lambda: data.prefetch_to_device(-1), TypeError,
     "^prefetch_to_device: batches must be .*, got int$"),
    (lambda: data.prefetch_to_device("x"), TypeError,
     "^prefetch_to_device: batches must be .*, got str$"),
    (lambda: data.prefetch_to_device([], "2"), TypeError,
     "^prefetch_to_device: size must be an int, got '2'$"),
    (lambda: data.prefetch_to_device([], 0), ValueError,
     "^prefetch_to_device: size must be at least 1, got 0$"),
])
def test_data_sources_name_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ------------------------------------------------------ other entry points


def _mesh():
    return parallel.data_mesh(1)


SCORES, LABELS = jnp.zeros((2, 3)), jnp.zeros(2, jnp.int32)


@pytest.mark.parametrize("call, error, message", [
    (lambda: core.batch_metrics(None, SCORES, LABELS), TypeError,
     r"^batch_metrics: loss must be a scalar \(the batch's mean loss\), got NoneType$"),
    (lambda: core.batch_metrics(jnp.zeros(2), SCORES, LABELS), TypeError,
     r"^batch_metrics: loss must be a scalar .*, got an array of shape \(2,\)$"),
    (lambda: core.batch_metrics(jnp.zeros(()), "x", LABELS), TypeError,
     r"^batch_metrics: outputs must be an array \(numpy or jax\), got str$"),
    (lambda: core.batch_metrics(jnp.zeros(()), SCORES, -1), TypeError,
     "^batch_metrics: labels must be an array .*, got int$"),
    (lambda: core.batch_metrics(jnp.zeros(()), SCORES, jnp.zeros((), jnp.int32)), ValueError,
     "^batch_metrics: labels must have a leading batch axis, got a scalar$"),
    (lambda: plot_history(None, "curves.png"), TypeError,
     r"^plot_history: history must be a mapping of metric names to per-epoch values "
     r"\(as fit returns\), got NoneType$"),
    (lambda: plot_history("x", "curves.png"), TypeError,
     "^plot_history: history must be a mapping .*, got str$"),
    (lambda: plot_history({"loss": "x"}, "curves.png"), TypeError,
     r"^plot_history: history\['loss'\] must be a list of numbers \(one per epoch\), got "
     r"str$"),
    (lambda: plot_history({"loss": [1.0], "accuracy": ["high"]}, "curves.png"), TypeError,
     r"^plot_history: history\['accuracy'\] must be a list of numbers"),
    (lambda: plot_history({"loss": [1.0, 0.5], "eval_loss": [1.0]}, "curves.png"),
     ValueError, r"^plot_history: history\['eval_loss'\] holds 1 values, expected one per "
                 r"epoch of 'loss' \(2\)$"),
    (lambda: plot_history({"loss": [1.0]}, None), TypeError,
     r"^plot_history: path must be a file path \(str or os.PathLike\), got None$"),
    (lambda: plot_history({"loss": [1.0]}, "curves.png", title=3), TypeError,
     "^plot_history: title must be a str, got 3$"),
    (lambda: parallel.batch_sharded(None), TypeError,
     r"^batch_sharded: mesh must be a jax.sharding.Mesh \(e.g. from "
     r"fnnet.parallel.data_mesh\(\)\), got NoneType$"),
    (lambda: parallel.batch_sharded("x"), TypeError, "^batch_sharded: mesh must be .*, got str$"),
    (lambda: parallel.batch_sharded(-1), TypeError, "^batch_sharded: mesh must be .*, got int$"),
    (lambda: parallel.batch_sharded(_mesh(), leading=-1), ValueError,
     r"^batch_sharded: leading must be >= 0 \(the batch axis\), got -1$"),
    (lambda: parallel.batch_sharded(_mesh(), leading="0"), TypeError,
     "^batch_sharded: leading must be an int .*, got '0'$"),
    (lambda: parallel.replicated("x"), TypeError, "^replicated: mesh must be .*, got str$"),
    (lambda: parallel.replicated(-1), TypeError, "^replicated: mesh must be .*, got int$"),
    (lambda: parallel.put_batch((np.zeros((2, 1)), np.zeros(2)), "x"), TypeError,
     "^put_batch: mesh must be .*, got str$"),
    (lambda: parallel.put_replicated({"w": np.zeros(2)}, -1), TypeError,
     "^put_replicated: mesh must be .*, got int$"),
    (lambda: parallel.unreplicate(-1), TypeError,
     r"^unreplicate: tree must hold arrays with a leading device axis \(as replicate "
     r"returns\), got int at ''$"),
    (lambda: parallel.unreplicate("x"), TypeError, "^unreplicate: tree must hold .*, got str"),
    (lambda: parallel.unreplicate({"params": jnp.zeros((1, 2)), "step": jnp.zeros(())}),
     ValueError, "^unreplicate: tree must hold .*, got a 0-d array at 'step'$"),
    (lambda: parallel.launch_local(None), TypeError,
     "^launch_local: command must be a list of strings, got NoneType$"),
    (lambda: parallel.launch_local(-1), TypeError,
     "^launch_local: command must be a list of strings, got int$"),
    (lambda: parallel.launch_local("python train.py"), TypeError,
     r"^launch_local: command must be a list of strings, got str \(pass the program and "
     r"its arguments as a list"),
    (lambda: parallel.launch_local([]), ValueError,
     "^launch_local: command must name a program, got an empty list$"),
    (lambda: parallel.launch_local(["python", 3]), TypeError,
     r"^launch_local: command\[1\] must be a str, got 3$"),
    (lambda: parallel.launch_local(["python"], 0), ValueError,
     "^launch_local: num_processes must be at least 1, got 0$"),
    (lambda: parallel.launch_local(["python"], "2"), TypeError,
     "^launch_local: num_processes must be an int, got '2'$"),
    (lambda: parallel.launch_local(["python"], cpu_devices_per_process=0), ValueError,
     "^launch_local: cpu_devices_per_process must be at least 1, got 0$"),
    (lambda: parallel.launch_local(["python"], timeout="1"), TypeError,
     "^launch_local: timeout must be a number of seconds or None, got '1'$"),
    (lambda: parallel.launch_local(["python"], timeout=0), ValueError,
     "^launch_local: timeout must be positive, got 0$"),
    (lambda: parallel.launch_local(["python"], env=["A=1"]), TypeError,
     "^launch_local: env must be a mapping .*, got list$"),
    (lambda: interop.read_state_dict(None), TypeError,
     r"^read_state_dict: path must be a file path \(str or os.PathLike\), got None$"),
    (lambda: interop.read_state_dict(-1), TypeError,
     "^read_state_dict: path must be a file path .*, got -1$"),
    (lambda: interop.save_state_dict(None, "w.safetensors"), TypeError,
     r"^save_state_dict: state_dict must be a mapping of names to arrays \(e.g. from "
     r"to_torch_state_dict\), got NoneType$"),
    (lambda: interop.save_state_dict({}, None), TypeError,
     "^save_state_dict: path must be a file path .*, got None$"),
    (lambda: nn.LayerNorm(None), TypeError,
     r"^LayerNorm: normalized_shape must be an int or a sequence of ints \(the trailing "
     r"shape\), got None$"),
    (lambda: nn.LayerNorm("x"), TypeError, "^LayerNorm: normalized_shape must be .*, got 'x'$"),
    (lambda: nn.LayerNorm((4, True)), ValueError,
     r"^LayerNorm: normalized_shape must be positive ints, got \(4, True\)$"),
    (lambda: models.ResNet(None), TypeError,
     r"^ResNet: layers must be a sequence of 4 positive ints \(blocks per stage\), got "
     r"None$"),
    (lambda: models.ResNet(-1), TypeError, "^ResNet: layers must be a sequence .*, got -1$"),
    (lambda: models.ResNet("2222"), TypeError,
     "^ResNet: layers must be a sequence .*, got '2222'$"),
    (lambda: models.MLP(64), TypeError,
     r"^MLP: sizes must be a sequence of layer widths, e.g. \(784, 128, 10\), got int 64$"),
    (lambda: models.MLP("64,10"), TypeError, "^MLP: sizes must be a sequence .*, got str"),
    (lambda: models.MLP((True, 10)), ValueError,
     r"^MLP: sizes must be >= 2 positive ints, got \(True, 10\)$"),
    (lambda: models.LeNet5(num_classes=0), ValueError,
     "^LeNet5: num_classes must be a positive int, got 0$"),
    (lambda: losses.l1_penalty("x"), TypeError,
     "^l1_penalty: params must hold floating-point arrays, got str at ''$"),
    (lambda: losses.l2_penalty({"fc": {"weight": "x"}}), TypeError,
     "^l2_penalty: params must hold floating-point arrays, got str at 'fc.weight'$"),
    (lambda: optim.total_norm("x"), TypeError,
     "^total_norm: grads must hold arrays of numbers, got str at ''$"),
    (lambda: optim.total_norm({"fc": [jnp.ones(2), np.array(["a"])]}), TypeError,
     "^total_norm: grads must hold arrays of numbers, got ndarray at 'fc.1'$"),
])
def test_entry_points_name_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_entry_points_still_take_what_they_document():
    """The checks above let the documented inputs through, numpy and JAX alike."""
    images, labels = jnp.arange(12.0).reshape(4, 3), jnp.arange(4)
    assert data.gather((images, labels), 2)[1] == 2
    assert data.gather([images, labels], np.array([0, 3]))[1].tolist() == [0, 3]
    assert data.to_float(np.full(2, 255, np.uint8)).tolist() == [1.0, 1.0]
    half_images = jnp.full(2, 0.5, jnp.bfloat16)  # already float: returned as they are
    assert data.to_float(half_images) is half_images
    assert len(list(data.prefetch_to_device(iter([np.ones(2)]), np.int64(1)))) == 1
    metrics = core.batch_metrics(1.5, np.zeros((2, 3)), np.array([0, 0]))
    assert float(metrics["accuracy"]) == 1.0 and float(metrics["count"]) == 2.0
    assert nn.LayerNorm([2, 3]).normalized_shape == (2, 3)
    assert float(optim.total_norm({"w": jnp.full(4, 1.0, jnp.bfloat16), "n": 0.0})) == 2.0
    assert float(losses.l2_penalty({"w": jnp.ones(3, jnp.bfloat16)})) == 3.0
    replicated = {"w": jnp.zeros((1, 2)), "step": jnp.zeros((1,), jnp.int32)}
    assert parallel.unreplicate(replicated)["w"].shape == (2,)
    assert parallel.unreplicate(None) is None
    assert tuple(parallel.batch_sharded(_mesh(), leading=1).spec) == (None, "data")


def test_save_safetensors_names_a_folder_target_and_leaves_nothing(tmp_path):
    (tmp_path / "weights").mkdir()
    with pytest.raises(IsADirectoryError, match=re.escape(
            f"save_safetensors: f is a folder, expected the path of a file to write: "
            f"{str(tmp_path / 'weights')!r}")):
        save_safetensors({"w": np.ones(2)}, tmp_path / "weights")
    with pytest.raises(FileNotFoundError, match=re.escape(
            f"save_safetensors: the folder of f does not exist: "
            f"{str(tmp_path / 'absent')!r}")):
        save_safetensors({"w": np.ones(2)}, tmp_path / "absent" / "w.safetensors")
    with pytest.raises(IsADirectoryError, match="save_state_dict: path is a folder"):
        (tmp_path / "w.safetensors").mkdir()
        interop.save_state_dict({"w": np.ones(2)}, tmp_path / "w.safetensors")
    with pytest.raises(TypeError, match=re.escape(
            "save_state_dict: state_dict['w'] must be an array of numbers, got ndarray of "
            "dtype <U1")):
        interop.save_state_dict({"w": np.array(["x"])}, tmp_path / "s" / "w.safetensors")
    with pytest.raises(TypeError, match="save_state_dict: state_dict keys must be str"):
        interop.save_state_dict({1: np.ones(2)}, tmp_path / "s" / "w.safetensors")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["w.safetensors", "weights"]


def test_save_safetensors_names_the_target_of_a_failed_write(tmp_path, monkeypatch):
    import errno

    import safetensors.numpy

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", args[1])

    monkeypatch.setattr(safetensors.numpy, "save_file", full_disk)
    target = tmp_path / "w.safetensors"
    with pytest.raises(OSError, match=re.escape(
            f"No space left on device: {str(target)!r}")) as info:
        save_safetensors({"w": np.ones(2)}, target)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(target)
    assert list(tmp_path.iterdir()) == []  # the temporary file is removed


# ---------------------------------------------------------------------- fit


def _fit(train_data, **kwargs):
    return fit(models.MLP((64, 10)), optim.SGD(lr=0.1), train_data,
               **{"progress": False, **kwargs})


@SETTINGS
@given(st.integers(1, 30))
def test_fit_refuses_mismatched_lengths(digits, drop):
    x, y = digits
    with pytest.raises(ValueError, match=rf"train_data: inputs and labels differ in length "
                                         rf"\({len(x)} != {len(y) - drop}\)"):
        _fit((x, y[:-drop]))
    with pytest.raises(ValueError, match="eval_data: inputs and labels differ"):
        _fit((x, y), eval_data=(x[:-drop], y))


@SETTINGS
@given(st.data())
def test_fit_refuses_labels_out_of_range(digits, draw):
    x, y = digits
    index = draw.draw(st.integers(0, len(y) - 1), label="index")
    value = draw.draw(st.one_of(st.integers(10, 1000), st.integers(-1000, -1)), label="value")
    labels = y.copy()
    labels[index] = value
    with pytest.raises(ValueError, match=rf"train_data labels: class labels must lie in "
                                         rf"\[0, 10\), got {value} at index {index}"):
        _fit((x, labels))


@SETTINGS
@given(st.data())
def test_fit_refuses_non_finite_inputs(digits, draw):
    x, y = digits
    example = draw.draw(st.integers(0, len(x) - 1), label="example")
    pixel = draw.draw(st.integers(0, 63), label="pixel")
    value = draw.draw(st.sampled_from([np.nan, np.inf, -np.inf]), label="value")
    bad = x.copy()
    bad.reshape(len(x), -1)[example, pixel] = value
    with pytest.raises(ValueError, match=rf"train_data inputs hold a non-finite value "
                                         rf"\({value}\) in example {example}"):
        _fit((bad, y))


@SETTINGS
@given(st.sampled_from(["epochs", "log_every", "steps_per_call"]),
       st.one_of(st.integers(-3, 0), st.floats(0.5, 3.5), st.booleans(), st.text(max_size=1)))
def test_fit_refuses_bad_counts(digits, argument, value):
    with pytest.raises(ValueError, match=f"{argument} must be a positive int, got "
                                         f"{re.escape(repr(value))}"):
        _fit(digits, **{argument: value})


def test_fit_takes_numpy_integers_as_counts(digits, tmp_path):
    counts = {"log_every": np.int32(5), "steps_per_call": np.int64(2),
              "batch_size": np.int64(64), "seed": np.int64(1)}
    # the checkpoints record the seed and batch size in JSON, which refuses numpy's ints
    _, history = _fit(digits, epochs=np.int64(1), checkpoint_dir=tmp_path, **counts)
    _, history = _fit(digits, epochs=np.int64(2), checkpoint_dir=tmp_path, resume=True,
                      **counts)
    assert len(history["loss"]) == 2


@SETTINGS
@given(st.one_of(st.integers(-10, -1), st.floats(0.5, 3.5), st.text(max_size=1)))
def test_fit_refuses_bad_seeds(digits, seed):
    with pytest.raises(ValueError, match=f"seed must be a non-negative int, got "
                                         f"{re.escape(repr(seed))}"):
        _fit(digits, seed=seed)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"model": None}, TypeError, "model must be an fnnet.nn.Module .*got NoneType"),
    ({"optimizer": "sgd"}, TypeError, "optimizer must be an optax.GradientTransformation.*str"),
    ({"train_data": {"x": 1}}, TypeError, "train_data must be an \\(inputs, labels\\) pair"),
    ({"train_data": (np.zeros((0, 1, 8, 8)), np.zeros(0, np.int32))}, ValueError,
     "train_data is empty"),
    ({"train_data": (np.zeros((4, 1, 8, 8), np.uint8), np.zeros(4, np.int32))}, TypeError,
     r"train_data: inputs must not be uint8 \(pixels 0..255 would train unscaled\); pass "
     r"floats in \[0, 1\], e.g. from data.load\(..., dtype=np.float32\)"),
    ({"eval_data": (jnp.zeros((4, 1, 8, 8), jnp.uint8), np.zeros(4, np.int32))}, TypeError,
     "eval_data: inputs must not be uint8"),
    ({"train_data": (np.float32(1), np.int32(1))}, ValueError,
     "train_data: inputs and labels must be arrays with a leading batch axis"),
    ({"state": {"params": {}}}, TypeError, "state must be a TrainState"),
    ({"eval_batch_size": 0, "eval_data": (np.zeros((4, 1, 8, 8), np.float32),
                                          np.zeros(4, np.int32))}, ValueError,
     "^eval_batch_size must be positive, got 0$"),
    ({"eval_batch_size": 2.5}, TypeError, "^eval_batch_size must be an int, got float$"),
    ({"on_nonfinite": "warn"}, ValueError, "on_nonfinite must be one of"),
    ({"resume": True}, ValueError, "resume=True needs a checkpoint_dir"),
    ({"every_n_steps": 5}, ValueError, "every_n_steps needs a checkpoint_dir"),
    ({"clip_grad_norm": -1.0}, ValueError,
     r"^clip_grad_norm must be a positive finite number, got -1.0$"),
    ({"clip_grad_norm": "1"}, TypeError, r"^clip_grad_norm must be a number, got '1'$"),
])
def test_fit_arguments(digits, kwargs, error, message):
    call = {"model": models.MLP((64, 10)), "optimizer": optim.SGD(lr=0.1),
            "train_data": digits, **kwargs}
    with pytest.raises(error, match=message):
        fit(call.pop("model"), call.pop("optimizer"), call.pop("train_data"),
            progress=False, **call)


def test_fit_refuses_a_logdir_in_a_file(digits, tmp_path):
    (tmp_path / "file").write_text("")
    for logdir in (tmp_path / "file", tmp_path / "file" / "sub"):
        with pytest.raises(ValueError, match=re.escape(
                f"logdir must be a folder, got {str(logdir)!r} ({str(tmp_path / 'file')!r} "
                "is a file)")):
            _fit(digits, logdir=logdir)


def test_evaluate_arguments(digits):
    model = models.MLP((64, 10))
    state = create_train_state(model, optim.SGD(lr=0.1), KEY)
    x, y = digits
    with pytest.raises(TypeError, match="state must be a TrainState"):
        evaluate(model, state.params, (x, y))
    with pytest.raises(ValueError, match=r"eval_data labels: class labels must lie in "
                                         r"\[0, 10\), got 12 at index 3"):
        evaluate(model, state, (x, np.where(np.arange(len(y)) == 3, 12, y)))


# ------------------------------------------------- a NaN in a batch, caught at its step


class Frozen(nn.Module):
    """A frozen first layer (no gradient reaches it): a NaN input spoils fc2 first."""

    def __init__(self):
        self.fc1 = nn.Linear(64, 16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, m, x):
        return m.fc2(jax.lax.stop_gradient(F.relu(m.fc1(F.flatten(x, 1)))))


@FEW
@given(st.integers(0, 15), st.sampled_from([1, 4]), st.sampled_from(["mlp", "frozen"]))
def test_nan_in_a_batch_names_the_step_and_the_parameter(digits, step, steps_per_call, model):
    x, y = digits
    batches = [(np.array(bx), by) for bx, by in
               data.batches(x, y, 32, seed=0, epoch=0, drop_last=True)]  # 8 per epoch
    epoch, index = divmod(step, 8)
    spoiled = [list(batches) for _ in range(2)]
    spoiled[epoch][index] = (batches[index][0].copy(), batches[index][1])
    spoiled[epoch][index][0][5, 0, 3, 3] = np.nan
    net = models.MLP((64, 16, 10)) if model == "mlp" else Frozen()
    first = "fc1.weight" if model == "mlp" else "fc2.weight"
    # steps are counted from 1: the batch of index ``step`` is step ``step + 1``
    with pytest.raises(NonFiniteLossError, match=rf"at step {step + 1} \(loss nan; first "
                                                 rf"non-finite gradient: {first}, ") as error:
        fit(net, optim.SGD(lr=0.1), lambda e: spoiled[e], epochs=2, log_every=5,
            steps_per_call=steps_per_call, progress=False)
    assert error.value.step == step + 1 and error.value.parameter == first


# -------------------------------------------------------------------- shim


@SETTINGS
@given(st.integers(1, 9))
def test_shim_layers_name_the_expected_size(features):
    shim = pytest.importorskip("fnnet.torch")
    if features == 4:
        return
    layer = shim.nn.Linear(4, 3)
    with pytest.raises(RuntimeError, match=rf"^mat1 and mat2 shapes cannot be multiplied "
                                           rf"\(2x{features} and 4x3\)$"):
        layer(shim.ones(2, features))


def test_shim_losses_and_optimizers():
    shim = pytest.importorskip("fnnet.torch")
    with pytest.raises(RuntimeError, match="^expected target dtype to be Long or Byte, but "
                                           "got Float$"):  # PyTorch's words
        shim.nn.functional.cross_entropy(shim.zeros(2, 3), shim.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        shim.optim.SGD(shim.nn.Linear(2, 2).parameters(), lr=-1)


@pytest.mark.parametrize("batch, message", [
    ("x_alone", "batch must be a pair \\(x, y\\) of arrays, got one array of shape \\(16, 64\\)"),
    ("triple", "batch must be a pair \\(x, y\\) of arrays, got a tuple of 3 items"),
    ("lists", "batch x must be an array \\(numpy or jax\\), got a Python list"),
])
def test_train_and_eval_steps_name_a_batch_that_is_not_a_pair_of_arrays(digits, batch,
                                                                         message):
    from fnnet.train import make_eval_step, make_train_step

    x, y = digits
    x = x.reshape(len(x), -1).astype(np.float32)[:16] / 16
    y = y[:16]
    given_batch = {"x_alone": x, "triple": (x, y, y), "lists": (x.tolist(), y.tolist())}[batch]
    model, optimizer = models.MLP((64, 10)), optim.SGD(lr=0.1)
    state = create_train_state(model, optimizer, KEY)
    with pytest.raises(TypeError, match="train_step: " + message):
        make_train_step(model, optimizer)(state, given_batch)
    with pytest.raises(TypeError, match="eval_step: " + message):
        make_eval_step(model)(state, given_batch)
