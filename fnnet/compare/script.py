"""The command line of each example version: ``python examples/<name>/<version>.py``.

Every version file ends with ``main(run, config, __file__)``: this parses the options
shared by all examples, picks the configuration, runs it and prints what it found.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import pathlib
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

LABELS = {"torch_version": "PyTorch", "fnnet_version": "fnnet",
          "shim_version": "fnnet.torch (PyTorch code, import changed)"}


def _positive(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse ``type``: a finite ``kind`` value > 0, or one line naming what was
    expected and what was given."""
    words = "an integer >= 1" if kind is int else "a number > 0"

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not math.isfinite(value) or value <= 0:
            raise argparse.ArgumentTypeError(f"expected {words}, got {text!r}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in some messages
    return parse


# Command-line options that override a Config field of the same name (where it has one).
OVERRIDES = (
    ("--epochs", _positive(int), "number of epochs"),
    ("--steps-per-epoch", _positive(int), "batches per epoch (default: the whole epoch)"),
    ("--batch-size", _positive(int), "examples per batch"),
    ("--lr", _positive(float), "learning rate"),
    ("--seed", int, "seed of initialisation and shuffling"),
    ("--data-dir", str, "folder of the local data set files"),
    ("--pretrained", str, "a PyTorch state_dict (.pth/.pt/.safetensors) to start from"),
)


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the Config overrides (``--epochs``, ``--data-dir``, ...) and ``--synthetic``,
    ``--quick`` to ``parser``."""
    for flag, kind, text in OVERRIDES:
        parser.add_argument(flag, type=kind, default=None, help=text)
    parser.add_argument("--synthetic", action="store_true",
                        help="train on synthetic data where the real data set is absent "
                             "(examples that support it; the output says so)")
    parser.add_argument("--quick", action="store_true",
                        help="the example's small configuration (what compare --all runs)")


def configure(config: Any, args: argparse.Namespace, example: str = "") -> Any:
    """``config`` with the command-line overrides applied (``--quick`` first).

    Raises:
        ValueError: an option the example's Config has no field for.
    """
    if getattr(args, "quick", False):
        config = config.quick()
    fields = {f.name for f in dataclasses.fields(config)}
    changes = {}
    for flag, _, _ in OVERRIDES:
        name = flag[2:].replace("-", "_")
        value = getattr(args, name, None)
        if value is None:
            continue
        if name not in fields:
            raise ValueError(f"{example or type(config).__name__} has no option {flag}")
        changes[name] = value
    if getattr(args, "synthetic", False):
        if "synthetic" not in fields:
            raise ValueError(f"{example or type(config).__name__} has no option --synthetic "
                             "(its data is always available offline)")
        changes["synthetic"] = True
    return dataclasses.replace(config, **changes)


def summary(result: dict[str, Any]) -> str:
    """Lines describing one run's result (per-epoch loss, accuracy, speed)."""
    lines = [f"epoch {e + 1}: mean training loss {loss:.6f}"
             for e, loss in enumerate(result["epoch_losses"])]
    if result.get("accuracy") is not None:
        lines.append(f"held-out accuracy: {result['accuracy']:.2%}")
    if result.get("test_loss") is not None:
        lines.append(f"held-out loss: {result['test_loss']:.6f}")
    lines.append(f"median time per step: {result['ms_per_step']:.2f} ms "
                 f"({len(result['losses'])} steps)")
    return "\n".join(lines)


def main(run: Callable[..., dict[str, Any]], config: ModuleType, file: str,
         argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Runs one example version from the command line and prints its results.

    Args:
        run: the version's ``run(config, initial_state_dict=None, batches=None)``.
        config: the example's ``config`` module (``CONFIGS``: name -> Config).
        file: the version's ``__file__`` (names the example and the version).
        argv: the arguments (default ``sys.argv[1:]``).

    Returns:
        ``run``'s result.
    """
    path = pathlib.Path(file).resolve()
    example, version = path.parent.name, path.stem
    parser = argparse.ArgumentParser(prog=f"python examples/{example}/{path.name}",
                                     description=(config.__doc__ or "").split("\n")[0])
    parser.add_argument("--config", choices=sorted(config.CONFIGS),
                        default=next(iter(config.CONFIGS)), help="which configuration")
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    try:
        chosen = configure(config.CONFIGS[args.config], args, example)
        data = chosen.data()
    except (ValueError, FileNotFoundError) as err:
        print(f"{example}: error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    print(f"{example} [{args.config}] with {LABELS.get(version, version)}: {chosen}")
    print(f"data: {data.source}", flush=True)
    result = run(chosen)
    print(summary(result))
    return result
