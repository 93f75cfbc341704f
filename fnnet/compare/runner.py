"""Running an example's three versions from the same weights on the same batches."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import pathlib
import sys
import time
from types import ModuleType
from typing import Any

import numpy as np

VERSIONS = ("torch", "fnnet", "shim")
LABELS = {"torch": "PyTorch", "fnnet": "fnnet", "shim": "fnnet.torch"}
# The examples in the order of the tutorials (compare --all runs them in this order).
EXAMPLES = ("linear_regression", "logistic_regression", "mlp_mnist", "lenet_mnist",
            "batchnorm_dropout", "resnet_cifar10", "ddp_mnist")


def examples_dir(path: str | os.PathLike[str] | None = None) -> pathlib.Path:
    """The ``examples/`` folder: ``path``, else ``./examples``, else the one beside the
    fnnet package (a source checkout).

    Raises:
        FileNotFoundError: none of them holds the examples.
    """
    candidates = ([pathlib.Path(path)] if path is not None else
                  [pathlib.Path.cwd() / "examples",
                   pathlib.Path(__file__).resolve().parents[2] / "examples"])
    for folder in candidates:
        if (folder / EXAMPLES[0] / "config.py").is_file():
            return folder
    if path is not None:  # the folder given: say what it lacks
        raise FileNotFoundError(f"the fnnet examples were not found in {path} (it has no "
                                f"{EXAMPLES[0]}/config.py)")
    raise FileNotFoundError(f"the fnnet examples were not found in "
                            f"{', '.join(str(c) for c in candidates)}; run from a source "
                            "checkout or pass --examples-dir")


def load_module(root: pathlib.Path, example: str, stem: str) -> ModuleType:
    """Imports ``root/example/stem.py`` under a unique name (the files of different
    examples share names, so they are not put on ``sys.path``)."""
    path = root / example / f"{stem}.py"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found")
    name = f"fnnet_examples.{example}.{stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path} cannot be imported as a module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def check_versions(versions: Any, name: str = "versions") -> None:
    """Raises unless ``versions`` is a tuple or list of names from :data:`VERSIONS`;
    ``name`` is what the message calls it."""
    if not isinstance(versions, tuple | list) or not all(isinstance(v, str) for v in versions):
        raise TypeError(f"{name} must be a tuple of names from {list(VERSIONS)}, got "
                        f"{versions!r}")
    unknown = [v for v in versions if v not in VERSIONS]
    if unknown or not versions:
        raise ValueError(f"{name}: unknown {unknown}; expected some of {list(VERSIONS)}")


def parse_name(root: pathlib.Path, name: str) -> list[tuple[str, str]]:
    """``"mlp_mnist"`` -> every variant of it; ``"mlp_mnist:sgd"`` -> that one.

    Raises:
        ValueError: an unknown example or variant (the message lists the known ones).
    """
    example, _, variant = name.partition(":")
    if example not in EXAMPLES:
        raise ValueError(f"unknown example {example!r}; expected one of {', '.join(EXAMPLES)}")
    configs = load_module(root, example, "config").CONFIGS
    if variant and variant not in configs:
        raise ValueError(f"{example} has no configuration {variant!r}; expected one of "
                         f"{', '.join(configs)}")
    return [(example, v) for v in ([variant] if variant else configs)]


@dataclasses.dataclass
class Comparison:
    """The results of one example's versions and how far they are apart.

    Attributes:
        example: the example folder name.
        variant: the configuration name.
        config: the configuration that ran.
        source: the description of the data.
        results: version -> the dict its ``run`` returned.
        seconds: version -> wall-clock seconds of its ``run`` (compilation included).
        deterministic: whether the versions should agree step by step (no Dropout).
        skipped: version -> why it did not run (PyTorch absent).
    """

    example: str
    variant: str
    config: Any
    source: str
    results: dict[str, dict[str, Any]]
    seconds: dict[str, float]
    deterministic: bool
    skipped: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.example}:{self.variant}"

    @property
    def reference(self) -> str:
        return "torch" if "torch" in self.results else "fnnet"

    def max_param_diff(self, version: str, scaled: bool = False) -> float:
        """Largest ``|p - p_ref|`` over every entry of the final state dicts.

        Args:
            version: the version compared with the reference.
            scaled: divide each difference by ``1 + |p_ref|``, so that ``scaled <= tol``
                is ``numpy.allclose(p, p_ref, rtol=tol, atol=tol)``: near absolute for
                small entries, relative for large ones (a float32's rounding grows with
                its magnitude, as in BatchNorm's running variances).
        """
        ours, ref = self.results[version]["params"], self.results[self.reference]["params"]
        if sorted(ours) != sorted(ref):
            raise ValueError(f"{self.name}: {version} has state_dict entries {sorted(ours)}, "
                             f"{self.reference} has {sorted(ref)}")
        worst = 0.0
        for k in ref:
            theirs = np.asarray(ref[k], np.float64)
            diff = np.abs(np.asarray(ours[k], np.float64) - theirs)
            if scaled:
                diff = diff / (1.0 + np.abs(theirs))
            worst = max(worst, float(np.max(diff, initial=0.0)))
        return worst

    def max_loss_rel_diff(self, version: str) -> float:
        """Largest relative difference of the per-epoch mean losses."""
        ours = np.asarray(self.results[version]["epoch_losses"], np.float64)
        ref = np.asarray(self.results[self.reference]["epoch_losses"], np.float64)
        return float(np.max(np.abs(ours - ref) / np.maximum(np.abs(ref), 1e-12)))

    def speedup(self, version: str) -> float:
        """PyTorch's median time per step over this version's (> 1: faster)."""
        return float(self.results[self.reference]["ms_per_step"]
                     / self.results[version]["ms_per_step"])


def _torch_available() -> str | None:
    try:
        import torch  # noqa: F401
    except ImportError:
        return "PyTorch is not installed (pip install torch)"
    return None


def compare(example: str, variant: str, config: Any | None = None, *,
            root: str | os.PathLike[str] | None = None,
            versions: tuple[str, ...] = VERSIONS, initial_state_dict: Any = None,
            log: Any = None) -> Comparison:
    """Runs the versions of one example from PyTorch's initial weights on the same batches.

    PyTorch's version runs first; its ``initial_params`` (the ``state_dict`` of the
    freshly built model) are handed to the others, with the same batches, drawn once.

    Args:
        example: the example folder name (``"mlp_mnist"``).
        variant: the configuration name in its ``config.CONFIGS``.
        config: the configuration to run (default ``CONFIGS[variant]``).
        root: the examples folder (see :func:`examples_dir`).
        versions: which versions to run.
        initial_state_dict: ``{name: array}`` weights every version starts from
            (default: those of PyTorch's freshly built model).
        log: a callable receiving progress lines (default: silent).

    Returns:
        A :class:`Comparison`.
    """
    root = examples_dir(root)
    if not isinstance(example, str) or not isinstance(variant, str):
        raise TypeError(f"compare: example and variant must be str, got "
                        f"{type(example).__name__} and {type(variant).__name__}")
    parse_name(root, f"{example}:{variant}")  # both known, else the known ones listed
    check_versions(versions)
    config_module = load_module(root, example, "config")
    config = config if config is not None else config_module.CONFIGS[variant]
    data = config.data()
    skipped = {}
    if "torch" in versions and (why := _torch_available()):
        skipped["torch"] = why
        versions = tuple(v for v in versions if v != "torch")
    order = sorted(versions, key=VERSIONS.index)
    results: dict[str, dict[str, Any]] = {}
    seconds: dict[str, float] = {}
    initial = initial_state_dict
    for version in order:
        module = load_module(root, example, f"{version}_version")
        if log:
            log(f"{example}:{variant}: running {LABELS[version]} ...")
        start = time.perf_counter()
        result = module.run(config, initial_state_dict=initial, batches=data.epochs)
        seconds[version] = time.perf_counter() - start
        if initial is None:
            initial = result["initial_params"]
        results[version] = result
    return Comparison(example, variant, config, data.source, results, seconds,
                      bool(getattr(config, "deterministic", True)), skipped)
