"""The ``fnnet`` command line: ``fnnet train`` (and the subcommands other modules add)."""

from __future__ import annotations

import argparse
import math
import pathlib
import sys
import time
from collections.abc import Sequence

import numpy as np

MODELS = ("mlp", "lenet5", "logistic")
OPTIMIZERS = ("sgd", "adagrad", "rmsprop", "adam", "adamw")


def _optimizer(name: str, lr: float, momentum: float, weight_decay: float):
    from fnnet import optim

    if name == "sgd":
        return optim.SGD(lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "rmsprop":
        return optim.RMSprop(lr=lr, momentum=momentum, weight_decay=weight_decay)
    factory = {"adagrad": optim.Adagrad, "adam": optim.Adam, "adamw": optim.AdamW}[name]
    return factory(lr=lr, weight_decay=weight_decay)


def _as_model_input(images: np.ndarray, model: str) -> np.ndarray:
    """float32 images, resized for LeNet-5's 32x32 input where needed."""
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
        raise ValueError(f"--model lenet5 needs 28x28, 32x32 or 8x8 images, got {x.shape}")
    return x.astype(np.float32)


def _model(name: str, input_shape: tuple[int, ...], num_classes: int):
    from fnnet import models

    features = math.prod(input_shape)
    if name == "mlp":
        return models.MLP((features, 128, 64, num_classes))
    if name == "lenet5":
        return models.LeNet5(num_classes=num_classes, in_channels=input_shape[0])
    return models.LogisticRegression(features, num_classes)


def train(args: argparse.Namespace) -> dict[str, list[float]]:
    """Runs ``fnnet train``: loads data, fits, evaluates, plots; returns the history."""
    from fnnet import data
    from fnnet.train import fit, plot_history

    train_x, train_y = data.load(args.dataset, "train", data_dir=args.data_dir)
    test_x, test_y = data.load(args.dataset, "test", data_dir=args.data_dir)
    train_x = _as_model_input(train_x, args.model)
    test_x = _as_model_input(test_x, args.model)
    num_classes = int(max(train_y.max(), test_y.max())) + 1
    model = _model(args.model, train_x.shape[1:], num_classes)
    optimizer = _optimizer(args.optimizer, args.lr, args.momentum, args.weight_decay)
    print(f"fnnet train: {args.model} on {args.dataset} ({len(train_x)} train, "
          f"{len(test_x)} test examples of shape {train_x.shape[1:]}), {args.optimizer} "
          f"lr={args.lr}, batch {args.batch_size}, {args.epochs} epochs, seed {args.seed}",
          flush=True)
    start = time.perf_counter()
    _, history = fit(model, optimizer, (train_x, train_y), eval_data=(test_x, test_y),
                     epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
                     steps_per_call=args.steps_per_call, progress=not args.quiet,
                     checkpoint_dir=args.checkpoint_dir, every_n_steps=args.checkpoint_every,
                     resume=args.resume, devices=args.devices)
    seconds = time.perf_counter() - start
    png = plot_history(history, pathlib.Path(args.out) / "curves.png",
                       title=f"{args.model} on {args.dataset}")
    accuracy = history["eval_accuracy"][-1]
    print(f"test accuracy: {accuracy:.2%} ({len(test_x)} examples) after {args.epochs} "
          f"epochs in {seconds:.1f} s; curves written to {png}", flush=True)
    return history


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fnnet", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("train", help="train a model and print its test accuracy",
                            formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--model", choices=MODELS, default="mlp")
    p.add_argument("--dataset", default="digits",
                   help="digits (bundled, offline), mnist, fashion_mnist, cifar10, or a "
                        "tensorflow-datasets name")
    p.add_argument("--data-dir", default=None, help="folder with local data files")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="adam")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--momentum", type=float, default=0.0, help="for sgd and rmsprop")
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps-per-call", type=int, default=1,
                   help="fuse this many steps into one compiled call")
    p.add_argument("--devices", type=int, default=None, metavar="N",
                   help="train data-parallel on N devices, each batch split over them "
                        "(on the CPU, simulate them with XLA_FLAGS="
                        "--xla_force_host_platform_device_count=N)")
    p.add_argument("--out", default="runs/train", help="folder for the curves PNG")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--checkpoint-dir", default=None,
                   help="save checkpoints (state, data position, history) in this folder")
    p.add_argument("--checkpoint-every", type=int, default=None, metavar="STEPS",
                   help="save every STEPS steps (default: at the end of each epoch)")
    p.add_argument("--resume", action="store_true",
                   help="continue from the latest checkpoint in --checkpoint-dir (start "
                        "afresh when there is none), bit for bit as if never stopped")
    p.set_defaults(run=train)
    from fnnet.compare.cli import add_parser as add_compare

    add_compare(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"fnnet {args.command}: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
