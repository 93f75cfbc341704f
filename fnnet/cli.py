"""The ``fnnet`` command line: ``train``, ``evaluate``, ``predict`` (and the subcommands
other modules add, such as ``compare``).

Errors are one line naming the flag, with exit status 2 for bad flags, data or files
and 1 for a training run that fails (a non-finite loss); a flag that the chosen options
ignore draws a warning. ``--save`` writes the final weights as ``.safetensors`` with
PyTorch's ``state_dict`` names, which ``evaluate`` and ``predict`` read back.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pathlib
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from fnnet._image_files import PICTURE_SUFFIXES, read_images
from fnnet._usage import UsageError, check_writable, folders_held, path_argument, user_words
from fnnet._weights_files import (
    SavedWeights,
    check_image_shape,
    check_weights_path,
    load_weights,
    read_saved_weights,
    save_weights,
    shape_text,
)

if TYPE_CHECKING:
    import optax

    from fnnet.data.augment import Augmentation
    from fnnet.nn.module import Module
    from fnnet.train import TrainState

Split = tuple[np.ndarray, np.ndarray]

DESCRIPTION = "fnnet: PyTorch's training concepts on JAX, from the command line."
MODELS = ("mlp", "lenet5", "logistic", "resnet18")
OPTIMIZERS = ("sgd", "adagrad", "rmsprop", "adam", "adamw")
MOMENTUM_OPTIMIZERS = ("sgd", "rmsprop")
ON_NONFINITE = ("raise", "skip")


# ----------------------------------------------------------------------------- parsing


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``fnnet train: error: ... (see fnnet train --help)``."""

    def error(self, message: str) -> Any:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _HelpFormatter(argparse.HelpFormatter):
    """Shows each option's default once: not for None or False, nor when the help
    already says it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (not action.option_strings or action.default is None or action.default is False
                or action.default == argparse.SUPPRESS or "default" in text):
            return text
        return f"{text} (default: %(default)s)"


def _number(kind: Callable[[str], float], minimum: float,
            inclusive: bool = True) -> Callable[[str], Any]:
    """An argparse ``type`` accepting ``kind`` values ``>= minimum`` (``>`` unless
    ``inclusive``), finite."""
    words = "an integer" if kind is int else "a number"
    bound = f"{'>=' if inclusive else '>'} {minimum:g}"

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {words} {bound}, got {text!r}") \
                from None
        if not math.isfinite(value) or value < minimum or (value == minimum and not inclusive):
            raise argparse.ArgumentTypeError(f"expected {words} {bound}, got {text!r}")
        return value

    return parse


_positive_int = _number(int, 1)
_non_negative_int = _number(int, 0)
_positive_float = _number(float, 0.0, inclusive=False)
_non_negative_float = _number(float, 0.0)


def _dataset_name(text: str) -> str:
    """--dataset: fnnet's own names in any case (MNIST is mnist, not a tfds name)."""
    from fnnet.data.registry import LOCAL

    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a data set name, got {text!r}")
    return text.lower() if text.lower() in LOCAL else text


def _warn(command: str, message: str) -> None:
    print(f"fnnet {command}: warning: {message}", file=sys.stderr, flush=True)


def _checkpoint_warnings_as_lines(command: str, show: Callable[..., Any]
                                  ) -> Callable[..., Any]:
    """A ``warnings.showwarning`` that prints fnnet.checkpoint's warnings (a damaged
    checkpoint skipped on ``--resume``) as one ``warning:`` line and passes the rest to
    ``show``."""

    def showwarning(message: Warning | str, category: type[Warning], *args: Any,
                    **kwargs: Any) -> None:
        from fnnet.checkpoint import CheckpointWarning

        if issubclass(category, CheckpointWarning):
            _warn(command, " ".join(str(message).split()))
        else:
            show(message, category, *args, **kwargs)

    return showwarning


def _devices_text(devices: int | None) -> str:
    """Where a run computes: ``cpu:0``, ``gpu:0``, ``tpu:0``, or ``4 devices (gpu:0-3)``."""
    import jax

    used = jax.devices()[:devices or 1]
    names = [f"{d.platform}:{d.id}" for d in used]
    if len(used) == 1:
        return names[0]
    return f"{len(used)} devices ({names[0]}-{used[-1].id})"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


# ----------------------------------------------------------------------------- models


def _optimizer(name: str, lr: float, momentum: float,
               weight_decay: float) -> optax.GradientTransformation:
    from fnnet import optim

    if name == "sgd":
        return optim.SGD(lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "rmsprop":
        return optim.RMSprop(lr=lr, momentum=momentum, weight_decay=weight_decay)
    factories: dict[str, Callable[..., optax.GradientTransformation]] = {
        "adagrad": optim.Adagrad, "adam": optim.Adam, "adamw": optim.AdamW}
    return factories[name](lr=lr, weight_decay=weight_decay)


def _as_model_input(images: np.ndarray, model: str) -> np.ndarray:
    """float32 images ``[N, C, H, W]``, resized for LeNet-5's 32x32 input where needed."""
    x = np.asarray(images)
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / 255.0
    if model != "lenet5":
        return x.astype(np.float32)
    height = x.shape[-1]
    if height == 28:  # MNIST: pad to 32x32, as LeNet-5 expects
        return np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2))).astype(np.float32)
    if 32 % height == 0:  # the 8x8 digits: nearest-neighbour upsampling
        factor = 32 // height
        return x.repeat(factor, axis=-2).repeat(factor, axis=-1).astype(np.float32)
    if height != 32:
        raise UsageError(f"--model lenet5 needs 28x28, 32x32 or 8x8 images, got "
                         f"{x.shape[-2]}x{x.shape[-1]}")
    return x.astype(np.float32)


def _model(name: str, input_shape: tuple[int, ...], num_classes: int) -> Module:
    """The model ``name`` for inputs ``[N, *input_shape]`` (after :func:`_as_model_input`)."""
    from fnnet import models

    features = math.prod(input_shape)
    if name == "mlp":
        return models.MLP((features, 128, 64, num_classes))
    if name == "lenet5":
        return models.LeNet5(num_classes=num_classes, in_channels=input_shape[0])
    if name == "resnet18":
        # The CIFAR stem (3x3 convolution, no max-pool) keeps small images large enough.
        return models.ResNet18(num_classes, stem="cifar", in_channels=input_shape[0])
    return models.LogisticRegression(features, num_classes)


def _augmentation(args: argparse.Namespace,
                  image_shape: tuple[int, ...]) -> Augmentation | None:
    """The ``augment(key, x)`` the augmentation flags ask for, or None."""
    from fnnet.data import augment

    steps: list[Augmentation] = []
    if args.random_crop_padding:
        steps.append(lambda key, x: augment.random_crop(key, x, image_shape[-2:],
                                                        padding=args.random_crop_padding))
    if args.horizontal_flip:
        steps.append(augment.random_horizontal_flip)
    if args.rotation:
        steps.append(lambda key, x: augment.random_rotation(key, x, args.rotation))
    return augment.compose(*steps) if steps else None


def _augmented_batches(x: np.ndarray, y: np.ndarray, augment_fn: Augmentation,
                       batch_size: int, seed: int) -> Callable[[int], Iterator[Any]]:
    """fit's ``train_data`` callable: each epoch's shuffled batches, augmented on the
    device with keys drawn from ``seed``, the epoch and the batch's index."""
    import jax

    from fnnet.data import batches

    augment_jit = jax.jit(augment_fn)
    base = jax.random.fold_in(jax.random.key(seed), 0x417)  # apart from fit's own keys

    def epoch_batches(epoch: int) -> Iterator[Any]:
        # the whole batches on every process, as fit reads its arrays
        for i, (bx, by) in enumerate(batches(x, y, batch_size, shuffle=True, seed=seed,
                                             epoch=epoch, drop_last=True, process_index=0,
                                             process_count=1)):
            key = jax.random.fold_in(jax.random.fold_in(base, epoch), i)
            yield augment_jit(key, bx), by

    return epoch_batches


# ----------------------------------------------------------------------------- data


def _check_data_dir(args: argparse.Namespace, command: str) -> None:
    """--data-dir: an error where it does not exist, a warning where it is ignored."""
    if args.data_dir is None:
        return
    if args.dataset == "digits":
        _warn(command, "--data-dir is ignored with --dataset digits (bundled with "
                       "scikit-learn)")
    elif not pathlib.Path(args.data_dir).exists():
        raise UsageError(f"--data-dir {args.data_dir}: no such folder")
    elif not pathlib.Path(args.data_dir).is_dir():
        raise UsageError(f"--data-dir {args.data_dir}: not a folder")


def _load(dataset: str, data_dir: str | None, command: str) -> tuple[Split, Split]:
    """``(train, test)`` of ``dataset``; says so on stderr when one split was divided."""
    from fnnet import data

    train, test, note = data.load_train_test(dataset, None if dataset == "digits"
                                             else data_dir)
    if note:
        print(f"fnnet {command}: {note}", file=sys.stderr, flush=True)
    return train, test


# ----------------------------------------------------------------------------- weights


def _saved_weights(args: argparse.Namespace, command: str) -> SavedWeights:
    return read_saved_weights(args.weights, args.model, lambda line: _warn(command, line))


def _model_from_weights(weights: SavedWeights, image_shape: tuple[int, ...],
                        source: str) -> tuple[Module, Any, Any]:
    """``(model, params, layer_state)`` for images ``[N, *image_shape]`` from ``source``
    (the flag or argument that gave them, for messages)."""
    check_image_shape(weights, image_shape, source)
    dummy = _as_model_input(np.zeros((1, *image_shape), np.float32), weights.model)
    model = _model(weights.model, dummy.shape[1:], weights.num_classes)
    params, layer_state = load_weights(model, weights, image_shape)
    return model, params, layer_state


def _eval_state(params: Any, layer_state: Any) -> TrainState:
    import jax
    import jax.numpy as jnp

    from fnnet.train import TrainState

    return TrainState(params, layer_state, (), jnp.zeros((), jnp.int32), jax.random.key(0))


# ----------------------------------------------------------------------------- commands


def _warn_ignored(args: argparse.Namespace) -> None:
    """Warns about each flag given a value that the other options leave unused (and
    --data-dir with digits, in :func:`_check_data_dir`)."""
    if args.momentum != 0.0 and args.optimizer not in MOMENTUM_OPTIMIZERS:
        _warn("train", f"--momentum is ignored by --optimizer {args.optimizer} (only "
                       f"{' and '.join(MOMENTUM_OPTIMIZERS)} use it)")


#: the file in --checkpoint-dir that records the flags a run began with
RUN_FLAGS_FILE = "fnnet_train_flags.json"
#: flags that change a run's course but not its state's shapes: a resume with other
#: values trains on, differently from the run interrupted (the others are checked by
#: fit: the model, optimizer and data set by the state's shapes, the seed and batch size)
_COURSE_FLAGS = ("lr", "momentum", "weight_decay", "random_crop_padding", "horizontal_flip",
                 "rotation")


def _record_run_flags(args: argparse.Namespace) -> None:
    """Writes the course-changing flags into ``--checkpoint-dir`` when a run begins
    there, and with ``--resume`` warns about each that differs from them."""
    folder = pathlib.Path(args.checkpoint_dir)
    record = folder / RUN_FLAGS_FILE
    flags = {name: getattr(args, name) for name in _COURSE_FLAGS}
    if args.resume and record.is_file():
        try:
            began = json.loads(record.read_text())
            if not isinstance(began, dict):
                raise ValueError(f"a JSON {type(began).__name__}, not an object")
        except (OSError, ValueError) as error:
            _warn("train", f"cannot read {record} ({user_words(error)}): the flags this "
                           "run began with are not compared with these")
            return
        for name, value in flags.items():
            if name in began and began[name] != value:
                flag = "--" + name.replace("_", "-")

                def given(v: Any, flag: str = flag) -> str:
                    return flag if v is True else f"no {flag}" if v is False else f"{flag} {v}"

                _warn("train", f"the run in {folder} began with {given(began[name])}; "
                               f"resuming it with {given(value)} trains on differently "
                               "from how it would have gone on")
        return
    if folder.is_dir() and any(p.name != RUN_FLAGS_FILE for p in folder.iterdir()):
        return  # another run's checkpoints: fit refuses them, or resumes without a record
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{RUN_FLAGS_FILE}.tmp"
    temporary.write_text(json.dumps(flags, indent=1))
    os.replace(temporary, record)


def _check_train_flags(args: argparse.Namespace) -> None:
    if args.resume and args.checkpoint_dir is None:
        raise UsageError("--resume needs --checkpoint-dir, the folder to resume from")
    if args.checkpoint_every is not None and args.checkpoint_dir is None:
        raise UsageError("--checkpoint-every needs --checkpoint-dir, the folder to save in")
    if args.save is not None:
        # Checked before training, so that a run is never lost for want of a place.
        save = check_weights_path("--save", args.save, must_exist=False)
        if save.is_dir():
            raise UsageError(f"--save {args.save}: a folder, expected a file path")
        check_writable("--save", args.save, save.absolute().parent)
    for flag, value in (("--out", args.out), ("--logdir", args.logdir),
                        ("--checkpoint-dir", args.checkpoint_dir)):
        if value is None:
            continue
        path = pathlib.Path(value)
        if path.exists() and not path.is_dir():
            raise UsageError(f"{flag} {value}: not a folder")
        check_writable(flag, value, path.absolute(), probe=flag != "--checkpoint-dir")
    if args.devices is not None:
        import jax

        if args.devices > jax.device_count():
            raise UsageError(
                f"--devices {args.devices}: JAX sees {_plural(jax.device_count(), 'device')} "
                f"({jax.default_backend()}); on the CPU, simulate more with XLA_FLAGS="
                f"--xla_force_host_platform_device_count={args.devices} set before starting")
    _check_data_dir(args, "train")


def _event_files_remover(logdir: pathlib.Path) -> Any:
    """A callback deleting ``logdir``'s earlier event files as the run begins, before
    fit's own writer (added after the given callbacks) opens its file: a run that fit
    refuses (a checkpoint folder holding another run) leaves the earlier run's files."""
    from fnnet.train import Callback
    from fnnet.train.events import remove_event_files

    class RemoveEventFiles(Callback):
        def on_begin(self, run: Any) -> None:
            remove_event_files(logdir)

    return RemoveEventFiles()


def train(args: argparse.Namespace) -> dict[str, list[float]]:
    """Runs ``fnnet train``: loads data, fits, evaluates, plots; returns the history."""
    _check_train_flags(args)
    _warn_ignored(args)
    (train_x, train_y), (test_x, test_y) = _load(args.dataset, args.data_dir, "train")
    from fnnet.train import fit, plot_history

    image_shape = train_x.shape[1:]
    train_x = _as_model_input(train_x, args.model)
    test_x = _as_model_input(test_x, args.model)
    num_classes = int(max(train_y.max(), test_y.max())) + 1
    model = _model(args.model, train_x.shape[1:], num_classes)
    optimizer = _optimizer(args.optimizer, args.lr, args.momentum, args.weight_decay)
    augment_fn = _augmentation(args, train_x.shape[1:])
    if len(train_x) < args.batch_size:  # the last short batch is dropped: none would run
        raise UsageError(f"--batch-size {args.batch_size} is larger than the "
                         f"{len(train_x)} training examples")
    total_steps = args.epochs * (len(train_x) // args.batch_size)
    if args.profile is not None and args.profile > total_steps:
        _warn("train", f"--profile {args.profile} is more than the run's "
                       f"{_plural(total_steps, 'step')}: the trace holds them all, "
                       "compilation included")
    train_data = ((train_x, train_y) if augment_fn is None else
                  _augmented_batches(train_x, train_y, augment_fn, args.batch_size, args.seed))
    print(f"fnnet train: {args.model} on {args.dataset} ({len(train_x)} train, "
          f"{len(test_x)} test examples of shape {train_x.shape[1:]}), {args.optimizer} "
          f"lr={args.lr}, batch {args.batch_size}, {_plural(args.epochs, 'epoch')}, "
          f"seed {args.seed}, on {_devices_text(args.devices)}", flush=True)
    logdir = pathlib.Path(args.out if args.logdir is None else args.logdir)
    # another run still writing in one of these folders would lose its files to this one
    written = [("--out", args.out), ("--logdir", str(logdir)),
               ("--checkpoint-dir", args.checkpoint_dir)]
    with folders_held("train", [(flag, value) for flag, value in written if value]):
        if args.checkpoint_dir is not None:
            _record_run_flags(args)
        # the folder shows this run alone, as curves.png does
        callbacks = [] if args.resume else [_event_files_remover(logdir)]
        start = time.perf_counter()
        state, history = fit(model, optimizer, train_data, eval_data=(test_x, test_y),
                             epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
                             steps_per_call=args.steps_per_call,
                             progress="epochs" if args.quiet else True,
                             logdir=logdir, profile=args.profile, log_lr=args.lr,
                             on_nonfinite=args.on_nonfinite,
                             checkpoint_dir=args.checkpoint_dir,
                             every_n_steps=args.checkpoint_every,
                             resume=args.resume, devices=args.devices, callbacks=callbacks)
        seconds = time.perf_counter() - start
        weights = None
        if args.save is not None:  # first: the trained weights outlive a failure to plot
            metadata = {"fnnet.model": args.model, "fnnet.dataset": args.dataset,
                        "fnnet.image_shape": ",".join(map(str, image_shape)),
                        "fnnet.num_classes": str(num_classes)}
            try:
                weights = save_weights(pathlib.Path(args.save), model, state.params,
                                       state.layer_state, metadata)
            except OSError as error:
                raise OSError(f"--save {args.save}: {user_words(error)}") from None
        png = plot_history(history, pathlib.Path(args.out) / "curves.png",
                           title=f"{args.model} on {args.dataset}")
        accuracy = history["eval_accuracy"][-1]
        print(f"test accuracy: {accuracy:.2%} ({len(test_x)} examples) after "
              f"{_plural(args.epochs, 'epoch')} in {seconds:.1f} s; curves written to {png}",
              flush=True)
        print(f"metrics written to {logdir / 'history.json'} and TensorBoard event files "
              f"(tensorboard --logdir {logdir})", flush=True)
        if weights is not None:
            print(f"weights written to {weights}", flush=True)
    return history


def evaluate(args: argparse.Namespace) -> dict[str, float]:
    """Runs ``fnnet evaluate``: the test accuracy of saved weights; returns the metrics."""
    weights = _saved_weights(args, "evaluate")
    args.dataset = args.dataset or weights.dataset  # the weights' is the default
    _check_data_dir(args, "evaluate")
    _, (test_x, test_y) = _load(args.dataset, args.data_dir, "evaluate")
    model, params, layer_state = _model_from_weights(weights, test_x.shape[1:],
                                                     f"--dataset {args.dataset}")
    from fnnet.train import evaluate as evaluate_model

    metrics = evaluate_model(model, _eval_state(params, layer_state),
                             (_as_model_input(test_x, weights.model), test_y),
                             batch_size=args.batch_size)
    print(f"test accuracy: {metrics['accuracy']:.2%} ({len(test_y)} examples of "
          f"{args.dataset}), loss {metrics['loss']:.4f}; {weights.model} weights from "
          f"{weights.path}", flush=True)
    return metrics


#: data sets whose images are light shapes on a dark background
LIGHT_ON_DARK = ("digits", "mnist", "fashion_mnist")


def _inverted(images: np.ndarray) -> np.ndarray:
    return 255 - images if images.dtype == np.uint8 else 1 - images


def _check_background(args: argparse.Namespace, weights: SavedWeights,
                      parts: list[np.ndarray]) -> None:
    """Warns where a picture given to a model of light-on-dark images (MNIST's) is
    mostly light: a digit drawn dark on white predicts nonsense unless inverted."""
    if args.invert or weights.dataset not in LIGHT_ON_DARK:
        return
    for name, images in zip(args.images, parts, strict=True):
        if pathlib.Path(name).suffix.lower() not in PICTURE_SUFFIXES:
            continue
        light = float(np.mean(images)) / (255 if images.dtype == np.uint8 else 1)
        if light > 0.5:
            _warn("predict", f"{name} is mostly light (mean {light:.2f}), but "
                             f"{weights.dataset}'s images are light on a dark background: "
                             f"pass --invert for a dark drawing on a light background")


def predict(args: argparse.Namespace) -> np.ndarray:
    """Runs ``fnnet predict``: prints the predicted class of each image, one per line."""
    weights = _saved_weights(args, "predict")
    parts = [read_images(p, weights.image_shape) for p in args.images]
    _check_background(args, weights, parts)
    if args.invert:
        parts = [_inverted(p) for p in parts]
    shapes = {p.shape[1:] for p in parts}
    if len(shapes) > 1:
        raise UsageError("IMAGES: the files hold images of different shapes ("
                         + ", ".join(f"{name}: {shape_text(p.shape[1:])}"
                                     for name, p in zip(args.images, parts, strict=True))
                         + "); predict them one file at a time")
    images = np.concatenate(parts)
    model, params, layer_state = _model_from_weights(weights, images.shape[1:],
                                                     f"IMAGES {' '.join(args.images)}")
    from fnnet.train import make_predict

    run = make_predict(model)
    x = _as_model_input(images, weights.model)
    classes = np.concatenate([
        np.asarray(run(params, layer_state, x[i:i + args.batch_size])).argmax(-1)
        for i in range(0, len(x), args.batch_size)])
    print("\n".join(str(int(c)) for c in classes), flush=True)
    return classes


# ----------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    from fnnet import __version__

    parser = _Parser(prog="fnnet", description=DESCRIPTION, formatter_class=_HelpFormatter)
    parser.add_argument("--version", action="version", version=f"fnnet {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, title="commands",
                                     metavar="COMMAND", parser_class=_Parser)
    p = commands.add_parser("train", help="train a model and print its test accuracy",
                            description="Train a model and print its test accuracy.",
                            formatter_class=_HelpFormatter)
    p.add_argument("--model", choices=MODELS, default="mlp", help="the model")
    p.add_argument("--dataset", default="digits", type=_dataset_name,
                   help="digits (bundled, offline), mnist, fashion_mnist, cifar10, or a "
                        "tensorflow-datasets name")
    p.add_argument("--data-dir", default=None, type=path_argument,
                   help="folder with the data set's files (IDX files for mnist, "
                        "cifar-10-batches-py/ for cifar10) or a prepared tfds data "
                        "directory; a folder with only MNIST's test files is split 8,000 "
                        "train / 2,000 test")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="adam", help="the optimizer")
    p.add_argument("--lr", type=_positive_float, default=1e-3, help="learning rate")
    p.add_argument("--momentum", type=_non_negative_float, default=0.0,
                   help="momentum of sgd and rmsprop")
    p.add_argument("--weight-decay", type=_non_negative_float, default=0.0,
                   help="L2 penalty (decoupled for adamw)")
    p.add_argument("--epochs", type=_positive_int, default=20, help="passes over the data")
    p.add_argument("--batch-size", type=_positive_int, default=32, help="examples per step")
    p.add_argument("--seed", type=_non_negative_int, default=0,
                   help="seeds initialisation, shuffling and augmentation")
    p.add_argument("--steps-per-call", type=_positive_int, default=1,
                   help="fuse this many steps into one compiled call")
    p.add_argument("--on-nonfinite", choices=ON_NONFINITE, default="raise",
                   help="on a non-finite loss or gradient: stop with an error (exit status "
                        "1), or skip that step's update and go on")
    p.add_argument("--random-crop-padding", type=_non_negative_int, default=0, metavar="PX",
                   help="augment: crop each image back to its size at a random place after "
                        "padding it with PX zeros (0: no crop; 4 for CIFAR-10)")
    p.add_argument("--horizontal-flip", action="store_true",
                   help="augment: flip each image left-right with probability 0.5")
    p.add_argument("--rotation", type=_non_negative_float, default=0.0, metavar="DEGREES",
                   help="augment: rotate each image by a random angle in "
                        "[-DEGREES, DEGREES] (0: none)")
    p.add_argument("--devices", type=_positive_int, default=None, metavar="N",
                   help="train data-parallel on N devices, each batch split over them "
                        "(on the CPU, simulate them with XLA_FLAGS="
                        "--xla_force_host_platform_device_count=N)")
    p.add_argument("--out", default="runs/train", type=path_argument,
                   help="folder for the curves PNG")
    p.add_argument("--save", default=None, type=path_argument, metavar="PATH",
                   help="write the final weights to PATH (.safetensors, PyTorch's "
                        "state_dict names), for fnnet evaluate/predict or PyTorch")
    p.add_argument("--quiet", action="store_true",
                   help="no progress bar (the epoch lines and results are still printed)")
    p.add_argument("--logdir", default=None, type=path_argument, metavar="DIR",
                   help="folder for TensorBoard event files and history.json (default: "
                        "the --out folder); earlier event files there are replaced unless "
                        "--resume")
    p.add_argument("--profile", type=_positive_int, default=None, metavar="STEPS",
                   help="trace STEPS steady-state steps with jax.profiler into the logdir "
                        "(TensorBoard's profile plugin or Perfetto open it)")
    p.add_argument("--checkpoint-dir", default=None, type=path_argument,
                   help="save checkpoints (state, data position, history) in this folder")
    p.add_argument("--checkpoint-every", type=_positive_int, default=None, metavar="STEPS",
                   help="save every STEPS steps (default: at the end of each epoch)")
    p.add_argument("--resume", action="store_true",
                   help="continue from the latest checkpoint in --checkpoint-dir (start "
                        "afresh when there is none), bit for bit as if never stopped")
    p.set_defaults(run=train)

    for name, helptext, run in (
            ("evaluate", "print the test accuracy of weights saved by fnnet train --save",
             evaluate),
            ("predict", "print the class predicted for each image of IDX, .npy or picture "
                        "files", predict)):
        q = commands.add_parser(name, help=helptext, description=helptext[0].upper() +
                                helptext[1:] + ".", formatter_class=_HelpFormatter)
        if name == "predict":
            q.add_argument("images", nargs="+", metavar="IMAGES", type=path_argument,
                           help="IDX image files (e.g. t10k-images-idx3-ubyte.gz), .npy "
                                "arrays [N, H, W] or [N, C, H, W] (uint8, or float in "
                                "[0, 1]), or pictures (PNG, JPEG...: one image each, "
                                "resized to the images the weights were trained on)")
            q.add_argument("--invert", action="store_true",
                           help="invert the pixels (255 - x): a dark drawing on a light "
                                "background for a model of MNIST's light-on-dark digits")
        q.add_argument("--weights", required=True, type=path_argument, metavar="PATH",
                       help="a .safetensors file written by fnnet train --save")
        q.add_argument("--model", choices=MODELS, default=None,
                       help="the model (default: the one the weights were trained as)")
        if name == "evaluate":
            q.add_argument("--dataset", default=None, type=_dataset_name,
                           help="the data set to test on (default: the one the weights "
                                "were trained on)")
            q.add_argument("--data-dir", default=None, type=path_argument,
                           help="folder with the data set's files, as for fnnet train")
        q.add_argument("--batch-size", type=_positive_int, default=1000,
                       help="images per compiled call")
        q.set_defaults(run=run)

    from fnnet.compare.cli import add_parser as add_compare

    add_compare(commands).formatter_class = _HelpFormatter
    # parsed by fnnet.torch.as_torch and fnnet.torch.distributed.run themselves (see
    # main): listed here for --help
    commands.add_parser("run", add_help=False,
                        help="run a PyTorch script unchanged on fnnet.torch: its "
                             "`import torch` gives fnnet.torch (see fnnet run --help)")
    commands.add_parser("torchrun", add_help=False,
                        help="start N processes of a training script as one distributed "
                             "run (torchrun's flags; see fnnet torchrun --help)")
    return parser


def _resume_hint(args: argparse.Namespace) -> str:
    """For an interrupted ``fnnet train``: what was kept (the latest checkpoint in
    ``--checkpoint-dir``, or nothing), so that its user knows whether the work since the
    run began is lost."""
    folder = getattr(args, "checkpoint_dir", None)
    if args.command != "train":
        return ""
    if folder is None:
        return ("; without --checkpoint-dir nothing was kept to resume from (--checkpoint-dir "
                "DIR --resume saves the run's state and continues it)")
    from fnnet.checkpoint import Checkpointer

    try:
        with Checkpointer(folder, read_only=True) as checkpoints:
            step = checkpoints.latest_step()
    except (OSError, ValueError):  # no folder yet, or one that cannot be read
        step = None
    if step is None:
        return f"; no checkpoint was written in {folder}"
    return (f"; the latest checkpoint in {folder} is of step {step}: the same command "
            f"with --resume continues from it")


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit status (0, 1 for a failed training run,
    2 for bad flags, data or files, 130 when interrupted, 141 when the output's reader
    closed the pipe)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["torchrun"]:  # the script's own flags follow: no parsing here
        from fnnet.torch.distributed.run import main as torchrun

        return torchrun(argv[1:], prog="fnnet torchrun")
    if argv[:1] == ["run"]:  # likewise: a PyTorch script and its own flags
        from fnnet.torch.as_torch import main as run_unchanged

        return run_unchanged(argv[1:], prog="fnnet run")
    args = build_parser().parse_args(argv)
    prog = f"fnnet {args.command}"
    from fnnet.core.disk_cache import use_disk_cache

    use_disk_cache()  # a second run loads its compiled programs instead of compiling
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _checkpoint_warnings_as_lines(args.command,
                                                                 warnings.showwarning)
            args.run(args)
    except BrokenPipeError:  # the reader of the output is gone (fnnet predict ... | head)
        # as a Unix tool ends: quietly, with a shell's status for SIGPIPE; the output
        # still buffered goes nowhere instead of raising again at the exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except FloatingPointError as error:  # fit's NonFiniteLossError
        print(f"{prog}: error: {user_words(error)}", file=sys.stderr)
        return 1
    except (ValueError, FileNotFoundError, KeyError) as error:
        print(f"{prog}: error: {user_words(error)}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"{prog}: error: {user_words(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted{_resume_hint(args)}", file=sys.stderr)
        return 130  # as a shell reports a process ended by SIGINT
    return 0


if __name__ == "__main__":
    sys.exit(main())
