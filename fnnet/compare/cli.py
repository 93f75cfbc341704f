"""``fnnet compare EXAMPLE`` / ``fnnet compare --all``, registered by ``fnnet.cli``."""

from __future__ import annotations

import argparse
import dataclasses
import pathlib
import sys
import time
from typing import Any

from fnnet._usage import check_writable, path_argument
from fnnet.compare.events import write_loss_events
from fnnet.compare.report import example_table, plot_losses, summary_table
from fnnet.compare.runner import (
    EXAMPLES,
    VERSIONS,
    Comparison,
    check_versions,
    compare,
    examples_dir,
    load_module,
    parse_name,
)
from fnnet.compare.script import add_config_arguments, configure

HELP = "run an example as PyTorch, fnnet and fnnet.torch from the same weights and batches"
#: ``fnnet compare --help``'s first line: a sentence, as the other commands' are
DESCRIPTION = HELP[0].upper() + HELP[1:] + "."


def add_parser(commands: argparse._SubParsersAction[Any]) -> argparse.ArgumentParser:
    """Adds the ``compare`` subcommand to ``fnnet``'s subparsers (of any parser class)."""
    p: argparse.ArgumentParser = commands.add_parser(
        "compare", help=HELP, description=DESCRIPTION,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("examples", nargs="*", metavar="EXAMPLE",
                   help=f"an example ({', '.join(EXAMPLES)}), optionally with its "
                        "configuration: mlp_mnist:sgd")
    p.add_argument("--all", action="store_true",
                   help="every example in its small configuration, one summary table")
    p.add_argument("--versions", default=",".join(VERSIONS),
                   help="which versions to run, comma-separated")
    p.add_argument("--examples-dir", default=None, type=path_argument,
                   help="the examples folder (default ./examples or the source checkout's)")
    p.add_argument("--out", default="runs/compare", type=path_argument,
                   help="folder for the loss-curve PNG")
    p.add_argument("--torch-threads", type=int, default=1, metavar="N",
                   help="PyTorch's intra-op threads (torch.set_num_threads). 1 by default: "
                        "the examples' small batches gain little from more, and PyTorch's "
                        "own default (every core) lets OpenMP's spinning threads slow it "
                        "many times over wherever the cores are shared with other jobs; give "
                        "more for the ResNet-18 example on an idle machine")
    add_config_arguments(p)
    p.set_defaults(run=run)
    return p


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> list[Comparison]:
    """Runs ``fnnet compare``; returns the comparisons."""
    if args.all == bool(args.examples):
        raise ValueError("give one or more EXAMPLE names or --all (not both)")
    versions = tuple(v.strip() for v in args.versions.split(","))
    check_versions(versions, "--versions")
    root = examples_dir(args.examples_dir)
    out = pathlib.Path(args.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {args.out}: not a folder")
    check_writable("--out", args.out, out.absolute())  # before the runs, not after
    if args.torch_threads is not None and args.torch_threads < 1:
        raise ValueError(f"--torch-threads must be >= 1, got {args.torch_threads}")
    if args.torch_threads is not None and "torch" in versions:
        import torch

        torch.set_num_threads(args.torch_threads)
    names = [n for e in (EXAMPLES if args.all else args.examples) for n in parse_name(root, e)]
    if args.all:
        args.quick = True
    start = time.perf_counter()
    comparisons: list[Comparison] = []
    skipped: list[str] = []
    for example, variant in names:
        config = load_module(root, example, "config").CONFIGS[variant]
        try:
            config = configure(config, args, example) if not args.all else \
                _configure_all(config, args, example)
            config.data()
        except FileNotFoundError as err:
            if not args.all:
                raise
            skipped.append(f"{example}:{variant} skipped: {err}")
            _log(skipped[-1])
            continue
        comparison = compare(example, variant, config, root=root, versions=versions, log=_log)
        comparisons.append(comparison)
        print(example_table(comparison) + "\n", flush=True)
    elapsed = time.perf_counter() - start
    if not comparisons:
        raise FileNotFoundError("nothing ran: " + "; ".join(skipped))
    examples = sorted({c.example for c in comparisons})
    stem = "all" if args.all else examples[0] if len(examples) == 1 else "compare"
    png = plot_losses(comparisons, out / f"{stem}.png")
    events = write_loss_events(comparisons, out / stem)
    if len(comparisons) > 1:
        print(summary_table(comparisons))
    for line in skipped:
        print(line)
    print(f"{len(comparisons)} comparison(s) in {elapsed:.0f} s; loss curves written to {png} "
          f"and, one run per version, to TensorBoard event files (tensorboard --logdir "
          f"{events})", flush=True)
    return comparisons


def _configure_all(config: Any, args: argparse.Namespace, example: str) -> Any:
    """``--all``: each example's quick configuration, with the overrides it has a field
    for (``--data-dir`` is left out: the data folders come from ``FNNET_MNIST_DIR`` and
    ``FNNET_CIFAR10_DIR``)."""
    fields = {f.name for f in dataclasses.fields(config)}
    changes: dict[str, Any] = {
        name: getattr(args, name) for name in ("epochs", "steps_per_epoch", "seed", "batch_size")
        if getattr(args, name, None) is not None and name in fields}
    if args.synthetic and "synthetic" in fields:
        changes["synthetic"] = True
    if args.data_dir is not None:
        _log(f"{example}: --data-dir is ignored with --all")
    return dataclasses.replace(config.quick(), **changes)
