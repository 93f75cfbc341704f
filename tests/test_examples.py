"""The side-by-side examples: layout, the shim versions, scripts, data fallbacks, and
ResNet-18 from a pretrained PyTorch checkpoint.

The three versions of every example are run against each other in test_compare.py (and
ResNet-18's in test_resnet.py); these tests check what those do not.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import re
import runpy
import subprocess
import sys

import numpy as np
import pytest

from fnnet.compare import EXAMPLES
from fnnet.compare import data as example_data
from fnnet.compare.runner import load_module
from fnnet.interop import save_state_dict

ROOT = pathlib.Path(__file__).resolve().parents[1] / "examples"
SHIM_IMPORTS = {
    "import torch": "import fnnet.torch as torch",
    "import torch.nn as nn": "import fnnet.torch.nn as nn",
    "import torch.nn.functional as F": "import fnnet.torch.nn.functional as F",
}


def _code(path: pathlib.Path) -> tuple[list[str], list[str]]:
    """(import lines, other non-blank lines) after the module docstring."""
    body = path.read_text().split('"""', 2)[2]
    lines = [line for line in body.splitlines() if line.strip()]
    imports = [line for line in lines if re.match(r"(import|from) \S+", line)]
    return sorted(imports), [line for line in lines if line not in imports]


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_example_has_its_files_and_a_concept_map(example):
    folder = ROOT / example
    for name in ("config.py", "torch_version.py", "fnnet_version.py", "shim_version.py"):
        assert (folder / name).is_file(), f"{example}/{name}"
    for name in ("torch_version.py", "fnnet_version.py"):
        header = (folder / name).read_text().split('"""', 2)[1]
        assert re.search(r"PyTorch concept.*-> fnnet construct", header), f"{example}/{name}"
    config = load_module(ROOT, example, "config")
    assert config.CONFIGS and all(dataclasses.is_dataclass(c) for c in config.CONFIGS.values())


@pytest.mark.parametrize("example", EXAMPLES)
def test_shim_version_is_the_torch_version_with_only_the_imports_changed(example):
    torch_imports, torch_code = _code(ROOT / example / "torch_version.py")
    shim_imports, shim_code = _code(ROOT / example / "shim_version.py")
    assert shim_code == torch_code
    assert shim_imports == sorted(SHIM_IMPORTS.get(line, line) for line in torch_imports)
    assert not any(line.startswith("import torch") for line in shim_imports)


def _script(*args, timeout=240):
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT.parent, env=env)


@pytest.mark.parametrize("version", ["torch_version", "shim_version"])
def test_versions_run_as_scripts(version):
    done = _script(f"examples/linear_regression/{version}.py", "--epochs", "3")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("linear_regression [sgd] with ")
    assert lines[1].startswith("data: synthetic line y = 2.0 x + 1.0")
    assert [line.split(":")[0] for line in lines[2:5]] == ["epoch 1", "epoch 2", "epoch 3"]
    w = float(re.search(r"learned w = ([-\d.]+)", done.stdout).group(1))
    assert 1.0 < w < 2.5


def _run_main(monkeypatch, capsys, script: str, *argv: str) -> tuple[int, str, str]:
    """``(exit status, stdout, stderr)`` of ``python examples/SCRIPT ARGV``, run as
    ``__main__`` in this process: its folder first on ``sys.path`` (its ``import config``),
    and that ``config`` forgotten after (each example has its own)."""
    path = ROOT / script
    monkeypatch.syspath_prepend(str(path.parent))
    monkeypatch.setattr(sys, "argv", [str(path), *argv])
    monkeypatch.delitem(sys.modules, "config", raising=False)
    try:
        runpy.run_path(str(path), run_name="__main__")
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    finally:
        sys.modules.pop("config", None)
    out, err = capsys.readouterr()
    return code, out, err


def test_fnnet_version_script_on_real_data_and_its_errors(monkeypatch, capsys):
    code, out, err = _run_main(monkeypatch, capsys, "mlp_mnist/fnnet_version.py", "--config",
                               "sgd", "--epochs", "1", "--steps-per-epoch", "3")
    assert code == 0, err
    assert "mlp_mnist [sgd] with fnnet:" in out
    assert "median time per step:" in out and "held-out accuracy:" in out
    code, _, err = _run_main(monkeypatch, capsys, "mlp_mnist/fnnet_version.py", "--synthetic")
    assert code == 2
    assert "mlp_mnist: error: mlp_mnist has no option --synthetic" in err


def test_by_hand_gradient_matches_jax_grad_and_fits_the_line(monkeypatch, capsys):
    code, out, err = _run_main(monkeypatch, capsys, "linear_regression/by_hand.py")
    assert code == 0, err  # asserts the formula against jax.grad
    fitted = re.search(r"fitted y = ([\d.]+) x \+ ([\d.]+)", out)
    assert abs(float(fitted.group(1)) - 2.0) < 0.05
    assert abs(float(fitted.group(2)) - 1.0) < 0.05


def test_digits_stand_in_for_mnist_where_it_is_absent(monkeypatch, tmp_path):
    monkeypatch.delenv("FNNET_MNIST_DIR", raising=False)
    monkeypatch.delenv("FNNET_DATA_DIR", raising=False)
    monkeypatch.setattr(example_data, "_SHARED", tmp_path)
    example_data.mnist_or_digits.cache_clear()
    try:
        (x, y), (tx, ty), source = example_data.mnist_or_digits(None, 32)
    finally:
        example_data.mnist_or_digits.cache_clear()
    assert x.shape == (1438, 1, 32, 32) and tx.shape == (359, 1, 32, 32)
    assert x.dtype == np.float32 and y.dtype == np.int64
    assert "MNIST not found (pass --data-dir or set FNNET_MNIST_DIR)" in source
    # The 8x8 digit sits in the middle, upsampled 3x; the border is background.
    background = (0 - example_data.MNIST_MEAN) / example_data.MNIST_STD
    np.testing.assert_allclose(x[:, :, :4], background, rtol=1e-6)
    np.testing.assert_array_equal(x[:, :, 4:28:3], x[:, :, 5:28:3])


def test_real_mnist_split_and_binary_subset(mnist_dir):
    data = example_data.mnist_example(str(mnist_dir), size=28, batch_size=16, epochs=2,
                                      seed=0, steps_per_epoch=3, classes=(0, 1))
    assert "real MNIST" in data.source and "digits 0, 1 only" in data.source
    assert [len(e) for e in data.epochs] == [3, 3]
    assert set(np.unique(data.test[1])) == {0, 1}
    # Each epoch is its own shuffle of the same training set.
    assert not np.array_equal(data.epochs[0][0][0], data.epochs[1][0][0])


@pytest.mark.slow
@pytest.mark.torch
def test_resnet_starts_from_a_pretrained_torch_checkpoint_with_a_new_head(tmp_path):
    pytest.importorskip("torch")
    import torch

    torch_version = load_module(ROOT, "resnet_cifar10", "torch_version")
    torch.manual_seed(3)
    checkpoint = torch_version.ResNet18(num_classes=1000, stem="imagenet").state_dict()
    path = save_state_dict(checkpoint, tmp_path / "resnet18.safetensors")
    config = dataclasses.replace(
        load_module(ROOT, "resnet_cifar10", "config").CONFIGS["sgd_momentum"],
        pretrained=str(path), synthetic=True, batch_size=4, epochs=1, steps_per_epoch=2,
        n_train=8, n_test=4, lr=1e-4)
    fnnet_version = load_module(ROOT, "resnet_cifar10", "fnnet_version")
    results = [v.run(config) for v in (torch_version, fnnet_version)]
    for result in results:
        initial = result["initial_params"]
        assert initial["fc.weight"].shape == (10, 512)  # the new head
        assert initial["conv1.weight"].shape == (64, 3, 7, 7)  # the checkpoint's stem
        for name, value in checkpoint.items():
            if not name.startswith("fc."):
                np.testing.assert_array_equal(initial[name], value.numpy(), err_msg=name)
    # Same backbone, different fresh heads; once given the same head, the same first loss.
    both = fnnet_version.run(config, initial_state_dict=results[0]["initial_params"])
    assert both["losses"][0] == pytest.approx(results[0]["losses"][0], rel=1e-5)
