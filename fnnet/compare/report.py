"""Tables and loss-curve plots of :class:`~fnnet.compare.runner.Comparison` results."""

from __future__ import annotations

import os
import pathlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from fnnet.compare.runner import LABELS, Comparison
from fnnet.train.plot import save_figure

# Deterministic examples must agree to this (relative loss per epoch, largest |dparam|).
AGREEMENT = 1e-4
# Runs whose first steps agree this closely and part later drift, rather than differ.
SAME_START = 5
COLOURS = {"torch": "tab:red", "fnnet": "tab:blue", "shim": "tab:green"}
STYLES = {"torch": "-", "fnnet": "--", "shim": ":"}


def held_out(result: dict[str, Any]) -> str:
    """The held-out accuracy, or the held-out loss where there is no accuracy."""
    if result.get("accuracy") is not None:
        return f"{result['accuracy']:.2%}"
    if result.get("test_loss") is not None:
        return f"loss {result['test_loss']:.4f}"
    return "-"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(c).rjust(w) if i else str(c).ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def tolerance(comparison: Comparison) -> float:
    """How close the versions must stay: the config's ``tolerance`` or 1e-4."""
    return float(getattr(comparison.config, "tolerance", AGREEMENT))


def first_divergence(comparison: Comparison, version: str) -> int | None:
    """The first step (from 1) whose loss differs from PyTorch's by more than the
    tolerance (relative), or None."""
    ours = comparison.results[version]["losses"]
    ref = comparison.results[comparison.reference]["losses"]
    tol = tolerance(comparison)
    for step, (a, b) in enumerate(zip(ours, ref, strict=True), start=1):
        if abs(a - b) > tol * max(abs(b), 1e-12):
            return step
    return None


def verdict(comparison: Comparison) -> str:
    """``"agree"``, ``"DIFFER"``, ``"drift from step k"``, or why agreement is not expected.

    A deterministic run agrees when every per-epoch loss is within the tolerance
    (relative) and every final parameter within it in ``numpy.allclose``'s sense with
    ``rtol = atol = tolerance`` (:meth:`Comparison.max_param_diff` with ``scaled=True``).
    A run whose first :data:`SAME_START` steps agree to 1e-5 but whose curves part later
    is reported as drifting from the step where they part: float32 rounding, amplified by
    training (ReLU and max-pool switching on ties, BatchNorm, large steps), in PyTorch
    against itself in float64 as much. Anything else differs.
    """
    others = [v for v in comparison.results if v != comparison.reference]
    if not others:
        return "-"
    if not comparison.deterministic:
        return "dropout masks differ"
    tol = tolerance(comparison)
    worst = max(max(comparison.max_loss_rel_diff(v), comparison.max_param_diff(v, scaled=True))
                for v in others)
    if worst <= tol:
        return "agree"
    ref = np.asarray(comparison.results[comparison.reference]["losses"][:SAME_START])
    same_start = all(np.allclose(comparison.results[v]["losses"][:SAME_START], ref,
                                 rtol=1e-5, atol=0) for v in others)
    if same_start and len(ref) == SAME_START:
        steps = [s for s in (first_divergence(comparison, v) for v in others) if s]
        return f"drift from step {min(steps) if steps else 'end'} (float32 rounding)"
    return "DIFFER"


def example_table(comparison: Comparison, max_epochs: int = 8) -> str:
    """One row per version: per-epoch losses, accuracy, speed, difference to PyTorch."""
    ref = comparison.reference
    epochs = len(comparison.results[ref]["epoch_losses"])
    shown = list(range(epochs)) if epochs <= max_epochs else \
        [*range(max_epochs // 2), *range(epochs - max_epochs // 2, epochs)]
    header = ["version", *[f"loss ep{e + 1}" for e in shown], "held-out", "ms/step",
              f"speed vs {ref}", "max |dparam|", "max loss rel diff"]
    rows = []
    for version, result in comparison.results.items():
        rows.append([
            LABELS[version],
            *[f"{result['epoch_losses'][e]:.6f}" for e in shown],
            held_out(result),
            f"{result['ms_per_step']:.2f}",
            "1.00x" if version == ref else f"{comparison.speedup(version):.2f}x",
            "-" if version == ref else f"{comparison.max_param_diff(version):.2e}",
            "-" if version == ref else f"{comparison.max_loss_rel_diff(version):.2e}",
        ])
    steps = len(comparison.results[ref]["losses"])
    title = (f"{comparison.name}: {steps} steps; data: {comparison.source}\n"
             f"same initial weights (PyTorch's state_dict) and batches; verdict: "
             f"{verdict(comparison)}")
    notes = [f"{LABELS[v]} skipped: {why}" for v, why in comparison.skipped.items()]
    return "\n".join([title, _table(header, rows), *notes])


def _per_version(c: Comparison, text: Callable[[dict[str, Any]], str]) -> str:
    """``"a/b/c"``: ``text(result)`` for PyTorch, fnnet and fnnet.torch ("-" if absent)."""
    return "/".join(text(c.results[v]) if v in c.results else "-"
                    for v in ("torch", "fnnet", "shim"))


def summary_table(comparisons: Sequence[Comparison]) -> str:
    """One row per example: final loss and accuracy of each version, speeds, agreement."""
    header = ["example", "steps", "final-epoch loss torch/fnnet/shim",
              "held-out torch/fnnet/shim", "ms/step torch/fnnet/shim", "fnnet x", "shim x",
              "max |dparam|", "verdict"]
    rows = []
    for c in comparisons:
        others = [v for v in ("fnnet", "shim") if v in c.results and v != c.reference]
        rows.append([
            c.name,
            str(len(c.results[c.reference]["losses"])),
            _per_version(c, lambda r: f"{r['epoch_losses'][-1]:.4f}"),
            _per_version(c, held_out),
            _per_version(c, lambda r: f"{r['ms_per_step']:.2f}"),
            # speeds against PyTorch only: without it, "shim x" would be against fnnet
            *[f"{c.speedup(v):.2f}" if v in others and c.reference == "torch" else "-"
              for v in ("fnnet", "shim")],
            f"{max(c.max_param_diff(v) for v in others):.1e}" if others else "-",
            verdict(c),
        ])
    return _table(header, rows)


def plot_losses(comparisons: Sequence[Comparison], path: str | os.PathLike[str]) -> pathlib.Path:
    """Writes a PNG with one panel per comparison: the per-step loss of each version.

    Returns:
        The path written.
    """
    # a figure of its own, outside pyplot: the program's backend is left as it was
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = len(comparisons)
    cols = min(n, 3)
    rows = (n + cols - 1) // cols
    fig = Figure(figsize=(5.2 * cols, 3.8 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for axis, c in zip(axes.flat, comparisons, strict=False):
        for version, result in c.results.items():
            steps = range(1, len(result["losses"]) + 1)
            axis.plot(steps, result["losses"], STYLES[version], color=COLOURS[version],
                      label=f"{LABELS[version]} ({result['ms_per_step']:.1f} ms/step)",
                      linewidth=1.6 if version == "torch" else 1.2)
        axis.set_title(f"{c.name} ({verdict(c)})", fontsize=10)
        axis.set_xlabel("step")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_ylabel("training loss")
        if min(min(r["losses"]) for r in c.results.values()) > 0:
            axis.set_yscale("log")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    for axis in list(axes.flat)[n:]:
        axis.set_visible(False)
    fig.suptitle("PyTorch vs fnnet vs fnnet.torch: same initial weights, same batches",
                 fontsize=11)
    return save_figure(fig, path)
