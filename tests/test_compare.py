"""fnnet compare: the three versions of each example agree from the same weights.

Each deterministic example runs as PyTorch, fnnet and fnnet.torch from PyTorch's initial
state_dict on the same batches of real data (MNIST where present): per-epoch losses
agree within 1e-4 relative and final parameters within 1e-4. ResNet-18's comparison
(1e-3 after 20 steps, from a hand-written PyTorch model's weights) is in test_resnet.py.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import re

import numpy as np
import pytest
from conftest import SHARED_MNIST

from fnnet import cli
from fnnet.compare import Comparison, compare, example_table, summary_table, verdict
from fnnet.compare.runner import examples_dir, load_module

pytestmark = pytest.mark.torch

ROOT = pathlib.Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def data_dir():
    """The real MNIST folder, or None (the examples then use the bundled digits)."""
    path = pathlib.Path(os.environ.get("FNNET_MNIST_DIR", SHARED_MNIST))
    return str(path) if (path / "t10k-images-idx3-ubyte.gz").exists() else None


def _config(example, variant, **changes):
    return dataclasses.replace(load_module(ROOT, example, "config").CONFIGS[variant],
                               **changes)


SMALL = dict(epochs=2, steps_per_epoch=5)
CASES = [
    ("linear_regression", "sgd", dict(epochs=3)),
    ("logistic_regression", "sgd", SMALL),
    ("mlp_mnist", "adam", SMALL),
    ("mlp_mnist", "sgd", SMALL),
    ("lenet_mnist", "sgd", SMALL),
    ("lenet_mnist", "momentum", SMALL),
    ("batchnorm_dropout", "sgd_momentum", dict(SMALL, dropout=0.0, batch_size=32)),
    ("ddp_mnist", "bn", SMALL),
]


def _assert_agree(comparison, tol):
    ref = comparison.results["torch"]
    for version in ("fnnet", "shim"):
        result = comparison.results[version]
        assert len(result["losses"]) == len(ref["losses"])
        np.testing.assert_allclose(result["epoch_losses"], ref["epoch_losses"], rtol=tol,
                                   err_msg=f"{comparison.name} {version}")
        assert comparison.max_param_diff(version) <= tol, (comparison.name, version)
        assert sorted(result["params"]) == sorted(ref["params"])
    assert verdict(comparison) == "agree"


@pytest.mark.parametrize("example,variant,changes", CASES,
                         ids=[f"{e}:{v}" for e, v, _ in CASES])
def test_versions_agree_from_the_same_weights(data_dir, example, variant, changes):
    if "steps_per_epoch" in changes:
        changes = dict(changes, data_dir=data_dir)
    comparison = compare(example, variant, _config(example, variant, **changes), root=ROOT)
    _assert_agree(comparison, 1e-4)
    ref = comparison.results["torch"]
    # The run trained: the loss fell, and the versions' held-out figures are the same.
    assert ref["epoch_losses"][-1] < ref["epoch_losses"][0]
    for version in ("fnnet", "shim"):
        for key in ("accuracy", "test_loss"):
            if ref[key] is not None:
                assert comparison.results[version][key] == pytest.approx(ref[key],
                                                                         rel=1e-4, abs=1e-6)
    # The shared initial weights really were PyTorch's.
    for version in ("fnnet", "shim"):
        for name, value in ref["initial_params"].items():
            np.testing.assert_array_equal(comparison.results[version]["initial_params"][name],
                                          value)


def test_dropout_runs_are_reported_as_not_comparable_step_by_step(data_dir):
    config = _config("batchnorm_dropout", "sgd_momentum", epochs=1, steps_per_epoch=3,
                     data_dir=data_dir)
    comparison = compare("batchnorm_dropout", "sgd_momentum", config, root=ROOT)
    assert not comparison.deterministic
    assert verdict(comparison) == "dropout masks differ"
    for version in ("fnnet", "shim"):
        losses = comparison.results[version]["losses"]
        assert len(losses) == 3 and np.isfinite(losses).all()
        # The same first batch from the same weights: close, but masks of its own.
        assert losses[0] == pytest.approx(comparison.results["torch"]["losses"][0], rel=0.2)
        assert losses[0] != comparison.results["torch"]["losses"][0]


def test_tables_show_losses_accuracy_speed_and_differences():
    comparison = compare("linear_regression", "sgd", _config("linear_regression", "sgd",
                                                             epochs=2), root=ROOT)
    table = example_table(comparison)
    lines = table.splitlines()
    assert lines[0].startswith("linear_regression:sgd: 16 steps; data: synthetic line")
    assert "verdict: agree" in lines[1]
    assert lines[2].split() == ["version", "loss", "ep1", "loss", "ep2", "held-out",
                                "ms/step", "speed", "vs", "torch", "max", "|dparam|", "max",
                                "loss", "rel", "diff"]
    torch_row = next(line for line in lines if line.startswith("PyTorch"))
    expected = f"{comparison.results['torch']['epoch_losses'][1]:.6f}"
    assert expected in torch_row and "1.00x" in torch_row
    summary = summary_table([comparison, comparison])
    assert summary.count("linear_regression:sgd") == 2 and "agree" in summary
    # Without PyTorch, speeds are against fnnet, and the summary's "x PyTorch" is left out.
    del comparison.results["torch"]
    assert "speed vs fnnet" in example_table(comparison).splitlines()[2]
    row = summary_table([comparison]).splitlines()[-1].split()
    assert row[-4:-2] == ["-", "-"], row  # fnnet x, shim x


def test_cli_compare_prints_the_table_and_writes_the_png(tmp_path, capsys):
    code = cli.main(["compare", "linear_regression", "--epochs", "2",
                     "--examples-dir", str(ROOT), "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "linear_regression:sgd: 16 steps" in out and "fnnet.torch" in out
    png = tmp_path / "linear_regression.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert f"loss curves written to {png}" in out


@pytest.mark.parametrize("argv,message", [
    ([], "give one or more EXAMPLE names or --all"),
    (["nope"], "unknown example 'nope'; expected one of linear_regression, "),
    (["mlp_mnist:rmsprop"], "mlp_mnist has no configuration 'rmsprop'; expected one of "
                            "adam, sgd"),
    (["linear_regression", "--synthetic"], "linear_regression has no option --synthetic"),
    (["linear_regression", "--versions", "torch,jax"], r"--versions: unknown \['jax'\]"),
])
def test_cli_errors(capsys, argv, message):
    assert cli.main(["compare", *argv, "--examples-dir", str(ROOT)]) == 2
    assert pytest.importorskip("re").search(message, capsys.readouterr().err)


def test_cli_bad_values_and_places_are_one_line_before_any_run(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    for argv, message in (
            (["--steps-per-epoch", "0"], "argument --steps-per-epoch: expected an integer "
                                         ">= 1, got '0' (see fnnet compare --help)"),
            (["--epochs", "two"], "argument --epochs: expected an integer >= 1, got 'two' "
                                  "(see fnnet compare --help)"),
            (["--lr", "-0.1"], "argument --lr: expected a number > 0, got '-0.1' (see fnnet "
                               "compare --help)"),
            (["--batch-size", "0"], "argument --batch-size: expected an integer >= 1, got "
                                    "'0' (see fnnet compare --help)"),
            (["--out", str(tmp_path / "file")], f"--out {tmp_path / 'file'}: not a folder"),
            (["--data-dir", str(tmp_path / "none")],
             f"--data-dir {tmp_path / 'none'}: no such folder"),
            (["--data-dir", str(tmp_path / "file")],
             f"--data-dir {tmp_path / 'file'}: not a folder"),
            # a folder without MNIST must not fall back to the digits unnoticed
            (["--data-dir", str(tmp_path)], f"--data-dir {tmp_path}: no MNIST test images "
                                            "(t10k-images-idx3-ubyte or .gz) in it")):
        try:
            code = cli.main(["compare", "mlp_mnist", *argv, "--examples-dir", str(ROOT)])
        except SystemExit as exit_:  # argparse's own exit
            code = exit_.code
        captured = capsys.readouterr()
        assert (code, captured.out) == (2, "")
        assert captured.err.splitlines() == [f"fnnet compare: error: {message}"]


def test_cifar10_absent_says_where_to_put_it(monkeypatch, capsys):
    monkeypatch.delenv("FNNET_CIFAR10_DIR", raising=False)
    monkeypatch.delenv("FNNET_DATA_DIR", raising=False)
    assert cli.main(["compare", "resnet_cifar10", "--examples-dir", str(ROOT)]) == 2
    err = capsys.readouterr().err
    assert "set FNNET_CIFAR10_DIR to the folder" in err
    assert "Or pass --synthetic to run on synthetic images." in err


def test_examples_dir_is_found_and_errors_name_the_places(tmp_path):
    assert examples_dir(ROOT) == ROOT
    with pytest.raises(FileNotFoundError, match=re.escape(
            f"the fnnet examples were not found in {tmp_path} (it has no linear_regression/")):
        examples_dir(tmp_path)


def _fake(losses_by_version, params_by_version=None, deterministic=True):
    results = {}
    for version, losses in losses_by_version.items():
        params = (params_by_version or {}).get(version, {"w": np.zeros(2, np.float32)})
        results[version] = {"losses": list(losses), "epoch_losses": [float(np.mean(losses))],
                            "params": params, "ms_per_step": 1.0, "accuracy": None,
                            "test_loss": None}
    return Comparison("toy", "x", None, "toy data", results, {}, deterministic)


@pytest.mark.parametrize("fnnet_losses,fnnet_w,expected", [
    ([1.0] * 10, 0.0, "agree"),
    ([1.0] * 10, 5e-5, "agree"),
    ([1.0] * 10, 2e-4, "drift from step end (float32 rounding)"),
    ([1.0] * 7 + [1.1, 1.0, 1.0], 0.0, "drift from step 8 (float32 rounding)"),
    ([1.0, 1.0, 1.01] + [1.0] * 7, 0.0, "DIFFER"),
])
def test_verdict(fnnet_losses, fnnet_w, expected):
    comparison = _fake({"torch": [1.0] * 10, "fnnet": fnnet_losses},
                       {"torch": {"w": np.zeros(2)}, "fnnet": {"w": np.full(2, fnnet_w)}})
    assert verdict(comparison) == expected


def test_verdict_compares_parameters_as_allclose():
    """A running variance of 50 rounds in float32 fifty times as coarsely as one of 1: a
    parameter agrees when ``numpy.allclose(p, p_ref, rtol=tol, atol=tol)`` holds (the
    default tolerance here is 1e-4)."""
    ref = {"var": np.array([50.0, 0.5]), "w": np.array([0.1])}

    def with_(var, w):
        return _fake({"torch": [1.0] * 10, "fnnet": [1.0] * 10},
                     {"torch": ref, "fnnet": {"var": np.array(var), "w": np.array([w])}})

    agreeing = with_([50.0 + 5e-3, 0.5], 0.1 + 1e-4)
    assert agreeing.max_param_diff("fnnet") == pytest.approx(5e-3)
    assert agreeing.max_param_diff("fnnet", scaled=True) == pytest.approx(5e-3 / 51)
    assert verdict(agreeing) == "agree"
    assert verdict(with_([50.0 + 5.2e-3, 0.5], 0.1)) != "agree"  # allclose's bound: 5.1e-3
    assert verdict(with_([50.0, 0.5 + 1.6e-4], 0.1)) != "agree"  # bound 1.5e-4


def test_verdict_of_dropout_runs_and_mismatched_state_dicts():
    assert verdict(_fake({"torch": [1.0], "fnnet": [2.0]}, deterministic=False)) == \
        "dropout masks differ"
    comparison = _fake({"torch": [1.0], "fnnet": [1.0]},
                       {"torch": {"w": np.zeros(1)}, "fnnet": {"v": np.zeros(1)}})
    with pytest.raises(ValueError, match=r"toy:x: fnnet has state_dict entries \['v'\], "
                                         r"torch has \['w'\]"):
        comparison.max_param_diff("fnnet")


@pytest.mark.parametrize("args, kwargs, error, message", [
    (("nosuch", "sgd"), {}, ValueError, "unknown example 'nosuch'; expected one of "
     "linear_regression, "),
    (("linear_regression", "adam"), {}, ValueError,
     "linear_regression has no configuration 'adam'; expected one of sgd"),
    (("linear_regression", "sgd"), {"versions": ("fnnet", "jax")}, ValueError,
     "versions: unknown ['jax']; expected some of ['torch', 'fnnet', 'shim']"),
    (("linear_regression", "sgd"), {"versions": "fnnet"}, TypeError,
     "versions must be a tuple of names from ['torch', 'fnnet', 'shim'], got 'fnnet'"),
])
def test_compare_names_bad_arguments_before_running(args, kwargs, error, message):
    with pytest.raises(error, match="^" + re.escape(message)):
        compare(*args, **kwargs)
