"""The ``fnnet`` command line: help, one-line errors and exit statuses, warnings for
ignored flags, ``--save`` with ``evaluate``/``predict``, and where the data comes from.

Most tests call :func:`fnnet.cli.main` in-process; a subprocess runs where the process
boundary matters (the console script's exit status, absl's output). One trained run is
shared by the tests that need weights.
"""

from __future__ import annotations

import contextlib
import io
import os
import pathlib
import pickle
import re
import subprocess
import sys

import numpy as np
import pytest

from fnnet import _image_files, cli, data

ROOT = pathlib.Path(__file__).resolve().parents[1]
# The flags of the shared run: MLP on the digits, one epoch; --momentum (with adam) and
# --data-dir (with digits) are there to be warned about.
TRAIN = ["train", "--epochs", "1", "--quiet", "--momentum", "0.9"]


def run(argv, capsys):
    """``(exit status, stdout, stderr lines)`` of ``fnnet ARGV`` run in-process."""
    try:
        code = cli.main(argv)
    except SystemExit as exit_:  # argparse's own exits (--help, --version, bad flags)
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err.splitlines()


def run_process(*argv, cwd, env=None):
    """``fnnet ARGV`` through the installed console script (or ``python -m fnnet.cli``)."""
    script = pathlib.Path(sys.executable).parent / "fnnet"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "fnnet.cli"]
    return subprocess.run([*command, *argv], capture_output=True, text=True, timeout=300,
                          cwd=cwd, env=os.environ if env is None else env)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The shared run: ``(weights path, history, stdout, stderr)``."""
    folder = tmp_path_factory.mktemp("trained")
    args = cli.build_parser().parse_args(
        [*TRAIN, "--data-dir", str(folder), "--out", str(folder),
         "--save", str(folder / "weights.safetensors")])
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        history = args.run(args)
    return folder / "weights.safetensors", history, out.getvalue(), err.getvalue()


# ----------------------------------------------------------------------------- help


def test_version(capsys):
    from fnnet import __version__

    code, out, _ = run(["--version"], capsys)
    assert code == 0 and out == f"fnnet {__version__}\n"


def test_help_lists_each_command_in_one_line(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = run(["--help"], capsys)
    assert code == 0
    assert "The ``fnnet`` command line" not in out and cli.DESCRIPTION in out
    for command, text in (("train", "train a model and print its test accuracy"),
                          ("evaluate", "print the test accuracy of weights saved by"),
                          ("predict", "print the class predicted for each image"),
                          ("compare", "run an example as PyTorch, fnnet and fnnet.torch")):
        assert any(line.split()[:1] == [command] and text in line
                   for line in out.splitlines()), command


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "compare"])
def test_help_shows_each_default_once(capsys, monkeypatch, command):
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = run([command, "--help"], capsys)
    assert code == 0
    assert "(default: None)" not in out and "(default: False)" not in out
    # An option's entry runs from its line to the next option's.
    entries = [" ".join(block.split()) for block in re.split(r"\n(?=  -)", out)]
    for entry in entries:
        assert entry.count("(default") <= 1, entry
    if command == "train":
        for flag, default in (("--model", "mlp"), ("--lr", "0.001"), ("--epochs", "20"),
                              ("--batch-size", "32"), ("--seed", "0"),
                              ("--optimizer", "adam"), ("--on-nonfinite", "raise")):
            entry = next(e for e in entries if e.startswith(flag + " "))
            assert entry.endswith(f"(default: {default})"), entry
        assert "(default: at the end of each epoch)" in out
    if command == "compare":
        assert "1 by default" in out


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize("argv,flag_text", [
    (["train", "--epochs", "0"], "argument --epochs: expected an integer >= 1, got '0'"),
    (["train", "--lr", "-1"], "argument --lr: expected a number > 0, got '-1'"),
    (["train", "--lr", "nan"], "argument --lr: expected a number > 0, got 'nan'"),
    (["train", "--batch-size", "ten"], "argument --batch-size: expected an integer >= 1"),
    (["train", "--model", "vgg"], "argument --model: invalid choice: 'vgg'"),
    (["train", "--dataset", ""], "argument --dataset: expected a data set name, got ''"),
    (["train", "--on-nonfinite", "ignore"], "argument --on-nonfinite: invalid choice"),
    (["train", "--resume"], "--resume needs --checkpoint-dir"),
    (["train", "--checkpoint-every", "5"], "--checkpoint-every needs --checkpoint-dir"),
    (["train", "--save", "weights.pt"], "--save weights.pt: expected a file ending in "
                                        ".safetensors"),
    (["train", "--dataset", "mnist", "--data-dir", "no/such/folder"],
     "--data-dir no/such/folder: no such folder"),
    (["train", "--batch-size", "2000"], "--batch-size 2000 is larger than the 1438 "
                                        "training examples"),
    (["train", "--devices", "99"], "--devices 99: JAX sees "),
    (["train", "--devices", "3", "--batch-size", "64"],
     "error: --batch-size 64 is not divisible by the 3 devices"),
    (["evaluate"], "the following arguments are required: --weights"),
    (["evaluate", "--weights", "missing.safetensors"], "--weights missing.safetensors: no "
                                                       "such file"),
    (["evaluate", "--weights", "."], "--weights .: expected a file ending in .safetensors"),
    (["predict", "--weights", "w.safetensors"], "the following arguments are required: "
                                                "IMAGES"),
    (["compare", "mlp_mnist", "--torch-threads", "0"], "--torch-threads must be >= 1"),
    # an empty path (an unset variable: --out "$OUT") would name the working directory
    (["train", "--out", ""], "argument --out: expected a path, got ''"),
    (["train", "--logdir", " "], "argument --logdir: expected a path, got ' '"),
    (["evaluate", "--weights", ""], "argument --weights: expected a path, got ''"),
    (["predict", "--weights", "w.safetensors", ""], "argument IMAGES: expected a path"),
    (["compare", "mlp_mnist", "--out", ""], "argument --out: expected a path, got ''"),
])
def test_bad_invocation_is_one_line_naming_the_flag(capsys, monkeypatch, tmp_path, argv,
                                                    flag_text):
    monkeypatch.chdir(tmp_path)  # relative paths, and any output folder, land there
    code, out, err = run(argv, capsys)
    assert code == 2
    assert len(err) == 1, err
    assert err[0].startswith(f"fnnet {argv[0]}: error: ") and flag_text in err[0]
    assert "Traceback" not in out


def test_dataset_names_of_fnnet_in_any_case():
    parser = cli.build_parser()
    assert parser.parse_args(["train", "--dataset", "MNIST"]).dataset == "mnist"
    assert parser.parse_args(["train", "--dataset", "Fashion_MNIST"]).dataset == "fashion_mnist"
    assert parser.parse_args(["evaluate", "--weights", "w.safetensors", "--dataset",
                              "CIFAR10"]).dataset == "cifar10"
    # Other names go to tensorflow-datasets as given.
    assert parser.parse_args(["train", "--dataset", "Kmnist"]).dataset == "Kmnist"


def test_errors_name_flags_not_python_arguments():
    cases = {
        "resume=True needs a checkpoint_dir to resume from":
            "--resume needs a --checkpoint-dir to resume from",
        "every_n_steps needs a checkpoint_dir to save in":
            "--checkpoint-every needs a --checkpoint-dir to save in",
        "the checkpoint in 'runs' is in epoch 3, beyond epochs=2":
            "the checkpoint in 'runs' is in epoch 3, beyond --epochs 2",
        "loss nan. Pass on_nonfinite='skip' to drop such steps.":
            "loss nan. Pass --on-nonfinite skip to drop such steps.",
        "checkpoint_dir 'runs' already holds checkpoints (latest at step 8): pass "
        "resume=True to continue that run":
            "--checkpoint-dir 'runs' already holds checkpoints (latest at step 8): pass "
            "--resume to continue that run",
        "'runs/8' was written with seed=3; resuming it needs the same, got seed=0":
            "'runs/8' was written with --seed 3; resuming it needs the same, got --seed 0",
        "batch_size=32 is larger than the data set (N=13)":
            "--batch-size 32 is larger than the data set (N=13)",
        "a batch_size of 0\n  (steps_per_call must divide it)":
            "a --batch-size of 0 (--steps-per-call must divide it)",
        "pass directory=..., or set FNNET_MNIST_DIR": "pass --data-dir, or set FNNET_MNIST_DIR",
        "batch size 33 is not divisible by the 2 devices it is split over":
            "--batch-size 33 is not divisible by the 2 devices it is split over",
        # Code to type elsewhere keeps its own spelling.
        "run\n    tfds build x --data_dir=DIR (or tfds.builder('x', data_dir=DIR)), or pass "
        "data_dir= (or set TFDS_DATA_DIR)":
            "run tfds build x --data_dir=DIR (or tfds.builder('x', data_dir=DIR)), or pass "
            "--data-dir (or set TFDS_DATA_DIR)",
    }
    for message, expected in cases.items():
        assert cli.user_words(ValueError(message)) == expected


def test_paths_are_checked_before_training(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    for argv, message in (
            (["--data-dir", str(tmp_path / "file")], f"--data-dir {tmp_path / 'file'}: not a "
                                                     "folder"),
            (["--save", str(tmp_path / "file" / "w.safetensors")],
             f"--save {tmp_path / 'file' / 'w.safetensors'}: cannot write in "
             f"{tmp_path / 'file'}"),
            (["--save", str(tmp_path)], f"--save {tmp_path}: expected a file ending in "
                                        ".safetensors"),
            (["--out", str(tmp_path / "file")], f"--out {tmp_path / 'file'}: not a folder"),
            (["--logdir", str(tmp_path / "file" / "logs")],
             f"--logdir {tmp_path / 'file' / 'logs'}: cannot write in {tmp_path / 'file'}"),
            (["--checkpoint-dir", str(tmp_path / "file")],
             f"--checkpoint-dir {tmp_path / 'file'}: not a folder")):
        code, out, err = run(["train", "--dataset", "mnist", *argv], capsys)
        assert (code, out, err) == (2, "", [f"fnnet train: error: {message}"])


def test_weights_that_are_a_folder_are_named_so(tmp_path, capsys):
    (tmp_path / "run.safetensors").mkdir()
    for command in (["evaluate"], ["predict", str(tmp_path / "images.npy")]):
        code, _, err = run([*command, "--weights", str(tmp_path / "run.safetensors")], capsys)
        assert (code, err) == (2, [f"fnnet {command[0]}: error: --weights "
                                   f"{tmp_path / 'run.safetensors'}: a folder, expected a file"])


def test_console_script_exit_status(tmp_path):
    usage = run_process("train", "--batch-size", "0", cwd=tmp_path)
    assert usage.returncode == 2 and usage.stdout == ""
    assert usage.stderr.splitlines() == [
        "fnnet train: error: argument --batch-size: expected an integer >= 1, got '0' "
        "(see fnnet train --help)"]
    # python -m fnnet: the same command where the scripts folder is not on PATH
    module = subprocess.run([sys.executable, "-m", "fnnet", "train", "--batch-size", "0"],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert (module.returncode, module.stdout, module.stderr) == (2, "", usage.stderr)


def test_nonfinite_loss_exits_1_and_skip_trains_on(capsys, tmp_path):
    argv = ["train", "--model", "logistic", "--optimizer", "sgd", "--lr", "1e38",
            "--epochs", "1", "--quiet", "--out", str(tmp_path)]
    code, out, err = run(argv, capsys)
    assert code == 1 and len(err) == 1, err
    assert err[0].startswith("fnnet train: error: non-finite loss or gradient at step ")
    assert err[0].endswith("Pass --on-nonfinite skip to drop such steps.")
    assert "test accuracy" not in out
    code, out, err = run([*argv, "--on-nonfinite", "skip"], capsys)
    assert code == 0 and err == [] and "test accuracy: " in out


def test_a_run_refused_for_its_checkpoint_folder_keeps_the_earlier_event_files(tmp_path,
                                                                               capsys):
    """A new run replaces the event files in its --out folder only once it begins: one
    that fit refuses (the checkpoint folder holds the earlier run, and --resume was not
    given) leaves the earlier run's curves in place."""
    argv = ["train", "--model", "logistic", "--epochs", "1", "--batch-size", "1000",
            "--quiet", "--out", str(tmp_path / "out"), "--checkpoint-dir",
            str(tmp_path / "ckpt")]
    assert run(argv, capsys)[0] == 0
    events = sorted((tmp_path / "out").glob("events.out.tfevents.*"))
    assert len(events) == 1
    code, _, err = run(argv, capsys)
    assert code == 2 and err[-1].startswith(
        f"fnnet train: error: --checkpoint-dir '{tmp_path / 'ckpt'}' already holds checkpoints")
    assert sorted((tmp_path / "out").glob("events.out.tfevents.*")) == events
    # without checkpoints, a new run replaces them
    code, _, _ = run(argv[:-2], capsys)
    replaced = sorted((tmp_path / "out").glob("events.out.tfevents.*"))
    assert code == 0 and len(replaced) == 1 and replaced != events


def test_a_folder_another_run_is_writing_in_is_refused(tmp_path, capsys):
    """A second fnnet train given the checkpoint folder of a run still going (another
    terminal, a forgotten background job) stops before it touches a file there: it would
    remove that run's checkpoint being written, and replace its event files."""
    from fnnet._usage import folders_held

    ckpt, out = tmp_path / "ckpt", tmp_path / "out"
    argv = ["train", "--model", "logistic", "--epochs", "1", "--batch-size", "1000",
            "--quiet", "--out", str(out), "--checkpoint-dir", str(ckpt), "--resume"]
    with folders_held("train", [("--checkpoint-dir", str(ckpt))]):  # the running one
        code, _, err = run(argv, capsys)
    assert (code, err[-1]) == (2, f"fnnet train: error: --checkpoint-dir {ckpt}: another "
                                  f"fnnet train is writing in it; wait for it to end, or "
                                  f"give another folder")
    assert not list(ckpt.iterdir())
    assert not list(out.glob("events.out.tfevents.*"))


@pytest.mark.torch
def test_compare_runs_pytorch_on_one_thread_by_default(torch, tmp_path, capsys):
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        code, out, _ = run(["compare", "linear_regression", "--epochs", "1", "--versions",
                            "torch", "--examples-dir", str(ROOT / "examples"), "--out",
                            str(tmp_path)], capsys)
        assert code == 0 and "PyTorch" in out
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


# ----------------------------------------------------------------------------- a run


def test_train_warns_about_ignored_flags_and_counts_epochs(trained):
    _, history, out, err = trained
    assert err.splitlines() == [
        "fnnet train: warning: --data-dir is ignored with --dataset digits (bundled with "
        "scikit-learn)",
        "fnnet train: warning: --momentum is ignored by --optimizer adam (only sgd and "
        "rmsprop use it)"]
    assert ", 1 epoch, seed 0, on cpu:0" in out and "after 1 epoch in " in out
    assert "epochs" not in out
    assert f"test accuracy: {history['eval_accuracy'][-1]:.2%} (359 examples)" in out
    assert len(history["eval_accuracy"]) == 1


def test_evaluate_reproduces_the_runs_test_accuracy(trained, capsys):
    path, history, _, _ = trained
    args = cli.build_parser().parse_args(["evaluate", "--weights", str(path)])
    metrics = args.run(args)
    assert metrics["accuracy"] == history["eval_accuracy"][-1]
    assert metrics["loss"] == pytest.approx(history["eval_loss"][-1], rel=1e-6)
    out = capsys.readouterr().out
    assert out.startswith(f"test accuracy: {history['eval_accuracy'][-1]:.2%} (359 examples "
                          "of digits)")


def test_saved_weights_load_through_fnnet_interop(trained):
    import jax

    from fnnet import interop, models

    path, _, _, _ = trained
    weights = interop.read_state_dict(path)
    assert sorted(weights) == ["fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight",
                               "fc3.bias", "fc3.weight"]
    assert weights["fc1.weight"].shape == (128, 64)  # PyTorch's [out, in]
    params, _ = interop.from_torch_state_dict(models.MLP((64, 128, 64, 10)), path)
    np.testing.assert_array_equal(params["fc3"]["bias"], weights["fc3.bias"])
    assert jax.tree.structure(params) is not None
    # the umask's permissions, as torch.save gives (safetensors' writer made it 0600)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.torch
def test_saved_weights_load_into_pytorch_with_equal_outputs(trained, torch):
    from safetensors.torch import load_file

    from fnnet import interop, models

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(64, 128)
            self.fc2 = torch.nn.Linear(128, 64)
            self.fc3 = torch.nn.Linear(64, 10)

        def forward(self, x):
            x = torch.relu(self.fc1(x.view(-1, 64)))
            return self.fc3(torch.relu(self.fc2(x)))

    path, _, _, _ = trained
    net = Net()
    net.load_state_dict(load_file(str(path)), strict=True)
    x, _ = data.load("digits", "test")
    with torch.no_grad():
        expected = net(torch.from_numpy(x)).numpy()
    model = models.MLP((64, 128, 64, 10))
    params, state = interop.from_torch_state_dict(model, path)
    actual = np.asarray(model.apply(params, state, x, train=False)[0])
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)


def test_predict_on_npy_and_idx_images(trained, tmp_path, capsys):
    from fnnet import interop, models

    path, _, _, _ = trained
    x, _ = data.load("digits", "test")
    model = models.MLP((64, 128, 64, 10))
    params, state = interop.from_torch_state_dict(model, path)
    pixels = np.round(x[:12] * 255).astype(np.uint8)  # what an IDX file holds
    expected = np.asarray(model.apply(params, state, pixels / np.float32(255),
                                      train=False)[0]).argmax(-1)
    np.save(tmp_path / "float.npy", pixels[:, 0] / np.float32(255))  # [N, H, W] floats
    write_idx(tmp_path / "images-idx3-ubyte", 2051, pixels[:, 0])
    for name in ("float.npy", "images-idx3-ubyte"):
        code, out, err = run(["predict", "--weights", str(path), str(tmp_path / name)],
                             capsys)
        assert code == 0 and err == []
        assert out.split() == [str(c) for c in expected], name


def test_predict_reads_pictures_resized_to_the_training_images(trained, tmp_path, capsys,
                                                                 monkeypatch):
    """A user's own drawings: PNG (gray or RGB) and JPEG pictures of any size are read
    through Pillow, made gray and resized to the images the weights were trained on; a
    dark drawing on a light background is named and --invert reads it as the data set's
    light-on-dark images."""
    from PIL import Image

    from fnnet import interop, models

    path, _, _, _ = trained
    x, _ = data.load("digits", "test")
    model = models.MLP((64, 128, 64, 10))
    params, state = interop.from_torch_state_dict(model, path)
    pixels = np.round(x[:6, 0] * 255).astype(np.uint8)
    big = pixels.repeat(6, axis=1).repeat(6, axis=2)  # 48x48 drawings of the 8x8 digits
    files, resized = [], []
    for i, drawing in enumerate(big):
        picture = Image.fromarray(drawing)
        name = tmp_path / f"digit{i}.{('png', 'jpg')[i % 2]}"
        (picture.convert("RGB") if i == 2 else picture).save(name)
        files.append(str(name))
        with Image.open(name) as saved:  # what the file holds, JPEG's losses included
            resized.append(np.asarray(saved.convert("L").resize((8, 8),
                                                               Image.Resampling.BILINEAR)))
    expected = np.asarray(model.apply(params, state, np.stack(resized)[:, None] / np.float32(
        255), train=False)[0]).argmax(-1)
    code, out, err = run(["predict", "--weights", str(path), *files], capsys)
    assert (code, err) == (0, [])
    assert out.split() == [str(c) for c in expected]
    on_paper = tmp_path / "on_paper.png"
    Image.fromarray(255 - big[0]).save(on_paper)
    code, out, err = run(["predict", "--weights", str(path), str(on_paper)], capsys)
    assert code == 0 and err == [
        f"fnnet predict: warning: {on_paper} is mostly light (mean "
        f"{np.mean(255 - big[0]) / 255:.2f}), but digits's images are light on a dark "
        f"background: pass --invert for a dark drawing on a light background"]
    code, out, err = run(["predict", "--weights", str(path), "--invert", str(on_paper)],
                         capsys)
    assert (code, err, out.split()) == (0, [], [str(expected[0])])
    # drawn black on a transparent canvas (its empty pixels transparent black): read as
    # it is shown, on white
    canvas = np.zeros((*big[0].shape, 4), np.uint8)
    canvas[..., 3] = big[0]
    Image.fromarray(canvas, "RGBA").save(tmp_path / "canvas.png")
    code, out, err = run(["predict", "--weights", str(path), "--invert",
                          str(tmp_path / "canvas.png")], capsys)
    assert (code, err, out.split()) == (0, [], [str(expected[0])])
    # stored sideways with the EXIF orientation "turn 90 degrees clockwise to show"
    sideways = Image.fromarray(np.rot90(big[0]).copy())
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    sideways.save(tmp_path / "photo.png", exif=exif)
    code, out, err = run(["predict", "--weights", str(path), str(tmp_path / "photo.png")],
                         capsys)
    assert (code, err, out.split()) == (0, [], [str(expected[0])])
    # a 16-bit PNG and a float TIFF of the first drawing are read as its 8-bit PNG
    Image.fromarray(big[0].astype(np.uint16) * 257).save(tmp_path / "deep.png")
    Image.fromarray(big[0] / np.float32(255)).save(tmp_path / "float.tiff")
    deep = [str(tmp_path / "deep.png"), str(tmp_path / "float.tiff")]
    code, out, err = run(["predict", "--weights", str(path), *deep], capsys)
    assert (code, err, out.split()) == (0, [], [str(expected[0])] * 2)
    Image.fromarray(big[0].astype(np.float32)).save(tmp_path / "float255.tiff")
    code, _, err = run(["predict", "--weights", str(path), str(tmp_path / "float255.tiff")],
                       capsys)
    assert (code, err) == (2, [f"fnnet predict: error: IMAGES {tmp_path / 'float255.tiff'}: "
                               f"expected float pixels in [0, 1], got values from "
                               f"{float(big[0].min())} to {float(big[0].max())}"])
    (tmp_path / "junk.png").write_bytes(b"not a picture at all")
    monkeypatch.setattr(_image_files, "MAX_PICTURE_PIXELS", 48 * 48 - 1)
    for name, message in (("junk.png", "not a picture Pillow reads"),
                          ("digit0.png", "the picture declares 48x48 pixels, more than the "
                                         "2,303 read")):
        code, _, err = run(["predict", "--weights", str(path), str(tmp_path / name)], capsys)
        assert code == 2 and err[0].startswith(
            f"fnnet predict: error: IMAGES {tmp_path / name}: {message}"), err


def test_output_read_by_a_pipe_closed_early_ends_quietly(trained, tmp_path):
    """``fnnet predict ... | head -1``: once the reader is gone the command ends as a
    Unix tool does, with no error line and the shell's status for SIGPIPE."""
    path, _, _, _ = trained
    np.save(tmp_path / "images.npy", np.zeros((4, 8, 8), np.uint8))
    script = pathlib.Path(sys.executable).parent / "fnnet"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "fnnet"]
    process = subprocess.Popen([*command, "predict", "--weights", str(path),
                                str(tmp_path / "images.npy")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    process.stdout.close()  # the reader is gone before the first line
    err = process.stderr.read()
    assert (process.wait(timeout=300), err) == (141, "")


def test_predict_names_images_of_the_wrong_size(trained, tmp_path, capsys, monkeypatch):
    path, _, _, _ = trained
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "big.npy", np.zeros((2, 28, 28), np.uint8))
    code, _, err = run(["predict", "--weights", str(path), str(tmp_path / "big.npy")], capsys)
    assert code == 2 and len(err) == 1
    assert f"IMAGES {tmp_path / 'big.npy'} has 1x28x28 images, but --weights" in err[0]
    assert "was trained on 1x8x8 images (digits)" in err[0]
    np.save(tmp_path / "small.npy", np.zeros((2, 8, 8), np.uint8))
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object))
    np.save(tmp_path / "none.npy", np.zeros((0, 8, 8), np.float32))
    np.save(tmp_path / "bytes.npy", np.full((2, 8, 8), 255.0, np.float32))
    np.save(tmp_path / "nan.npy", np.full((2, 8, 8), np.nan, np.float32))
    for files, message in (
            (["none.npy"], "IMAGES none.npy: expected at least one image, got shape "
                           "[0, 1, 8, 8]"),
            (["bytes.npy"], "IMAGES bytes.npy: expected float pixels in [0, 1] (or uint8 "
                            "0..255), got values from 255.0 to 255.0"),
            (["nan.npy"], "IMAGES nan.npy: expected float pixels in [0, 1]"),
            (["small.npy", "big.npy"], "IMAGES: the files hold images of different shapes "
                                       "(small.npy: 1x8x8, big.npy: 1x28x28)"),
            (["objects.npy"], "IMAGES objects.npy: expected uint8 or float images, got an "
                              "array of Python objects (not loaded: it would be unpickled)"),
            (["missing.npy"], "IMAGES missing.npy: no such file")):
        code, _, err = run(["predict", "--weights", str(path), *files], capsys)
        assert code == 2 and len(err) == 1, err
        assert err[0].startswith(f"fnnet predict: error: {message}"), err


def npy_header(shape, dtype="|u1"):
    """The header ``numpy.save`` writes for an array of ``shape`` and ``dtype``."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def test_predict_checks_an_npy_header_before_reading(trained, tmp_path, capsys,
                                                     monkeypatch):
    path, _, _, _ = trained
    monkeypatch.chdir(tmp_path)
    # A header declaring 800 GB over 100 bytes: numpy's reader would try to allocate it.
    (tmp_path / "huge.npy").write_bytes(npy_header((100_000, 100_000, 10), "<f8")
                                        + bytes(100))
    np.save(tmp_path / "whole.npy", np.zeros((3, 8, 8), np.uint8))
    whole = (tmp_path / "whole.npy").read_bytes()
    (tmp_path / "cut.npy").write_bytes(whole[:-10])
    (tmp_path / "long.npy").write_bytes(whole + bytes(10))
    (tmp_path / "mangled.npy").write_bytes(whole.replace(b"(3, 8, 8)", b"(3, 8, 8 "))
    (tmp_path / "empty.npy").write_bytes(b"")
    (tmp_path / "folder.npy").mkdir()
    write_idx(tmp_path / "labels-idx1-ubyte", 2049, np.zeros(3))
    write_idx(tmp_path / "cut-idx3-ubyte", 2051, np.zeros((3, 8, 8)))
    (tmp_path / "cut-idx3-ubyte").write_bytes((tmp_path / "cut-idx3-ubyte").read_bytes()[:-9])
    for name, message in (
            ("labels-idx1-ubyte", "not an IDX image file: magic number 2049, expected 2051"),
            ("cut-idx3-ubyte", "truncated: the header declares 3 x 8 x 8 = 192 bytes of "
                               "image data, the file holds 183"),
            ("huge.npy", "the header declares shape [100000, 100000, 10] of float64 "
                         "(800,000,000,000 bytes), the file holds 100 bytes"),
            ("cut.npy", "the header declares shape [3, 8, 8] of uint8 (192 bytes), the "
                        "file holds 182 bytes"),
            ("long.npy", "the header declares shape [3, 8, 8] of uint8 (192 bytes), the "
                         "file holds 202 bytes"),
            ("mangled.npy", "not a numpy array file (a damaged header (TokenError: "),
            ("empty.npy", "not a numpy array file (EOF: reading magic string"),
            ("folder.npy", "a folder, expected an IDX or .npy file")):
        code, out, err = run(["predict", "--weights", str(path), name], capsys)
        assert (code, out, len(err)) == (2, "", 1), err
        assert err[0].startswith(f"fnnet predict: error: IMAGES {name}: {message}"), err


def test_an_output_folder_that_refuses_files_is_named_before_training(tmp_path, capsys,
                                                                      monkeypatch):
    # Permission bits say nothing for root or on a read-only mount: the check makes a
    # folder there, which /proc refuses to anyone.
    if not pathlib.Path("/proc/self").is_dir():
        pytest.skip("needs /proc, a folder that refuses new files")
    monkeypatch.chdir(tmp_path)
    for flag, value, where in (("--save", "/proc/w.safetensors", "/proc"),
                               ("--out", "/proc/run", "/proc"),
                               ("--logdir", "/proc/self/logs", "/proc/self"),
                               ("--checkpoint-dir", "/proc/ck", "/proc")):
        code, out, err = run(["train", flag, value], capsys)
        assert (code, out) == (2, "")
        assert len(err) == 1 and err[0].startswith(
            f"fnnet train: error: {flag} {value}: cannot write in {where} ("), err
    assert not list(tmp_path.iterdir())  # nothing trained, nothing written


def test_the_weights_are_saved_before_the_curves_are_plotted(tmp_path, capsys, monkeypatch):
    """A run whose curves cannot be written (a disk that filled up during training)
    still leaves the trained weights --save asked for."""
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("fnnet.train.plot_history", full_disk)
    weights = tmp_path / "w.safetensors"
    code, _, err = run(["train", "--model", "logistic", "--epochs", "1", "--batch-size",
                        "1000", "--quiet", "--out", str(tmp_path), "--save", str(weights)],
                       capsys)
    assert (code, err) == (1, ["fnnet train: error: [Errno 28] No space left on device"])
    assert weights.is_file()


def test_a_failed_weights_write_is_one_line_naming_save(trained, tmp_path, capsys,
                                                       monkeypatch):
    """A disk filling up while --save writes is one line and exit status 1."""
    from safetensors import SafetensorError

    def full_disk(*args, **kwargs):
        raise SafetensorError("Error while serializing: I/O error: No space left on device")

    monkeypatch.setattr("safetensors.numpy.save_file", full_disk)
    save = tmp_path / "w.safetensors"
    code, _, err = run([*TRAIN, "--out", str(tmp_path), "--save", str(save)], capsys)
    assert code == 1 and not save.exists()
    assert err[-1] == (f"fnnet train: error: --save {save}: cannot write {save}: Error while "
                       f"serializing: I/O error: No space left on device")


def test_profile_longer_than_the_run_is_warned_before_training(tmp_path, capsys,
                                                                monkeypatch):
    def stopped(*args, **kwargs):  # Ctrl-C as training begins: the warning came first
        raise KeyboardInterrupt

    monkeypatch.setattr("fnnet.train.fit", stopped)
    code, _, err = run(["train", "--model", "logistic", "--epochs", "2", "--batch-size",
                        "1000", "--quiet", "--profile", "5", "--out", str(tmp_path)], capsys)
    assert code == 130
    assert err == ["fnnet train: warning: --profile 5 is more than the run's 2 steps: the "
                   "trace holds them all, compilation included",
                   "fnnet train: interrupted; without --checkpoint-dir nothing was kept to "
                   "resume from (--checkpoint-dir DIR --resume saves the run's state and "
                   "continues it)"]


def test_an_interrupted_run_names_its_latest_checkpoint(tmp_path, capsys, monkeypatch):
    """Ctrl-C exits with status 130 and says whether the work so far is kept: the
    checkpoint --resume would continue from, or that there is none yet."""
    ckpt = tmp_path / "ckpt"
    argv = ["train", "--model", "logistic", "--epochs", "1", "--batch-size", "1000",
            "--quiet", "--out", str(tmp_path / "out"), "--checkpoint-dir", str(ckpt)]
    import fnnet.train

    trained = fnnet.train.fit

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("fnnet.train.fit", interrupted)
    code, _, err = run(argv[:-2], capsys)
    assert (code, err[-1]) == (130, "fnnet train: interrupted; without --checkpoint-dir "
                                    "nothing was kept to resume from (--checkpoint-dir DIR "
                                    "--resume saves the run's state and continues it)")
    code, _, err = run(argv, capsys)
    assert (code, err[-1]) == (130, f"fnnet train: interrupted; no checkpoint was written "
                                    f"in {ckpt}")
    monkeypatch.setattr("fnnet.train.fit", trained)
    assert run(argv, capsys)[0] == 0  # one step, checkpointed at the epoch's end
    monkeypatch.setattr("fnnet.train.fit", interrupted)
    code, _, err = run([*argv[:3], "--epochs", "3", *argv[5:], "--resume"], capsys)
    assert (code, err[-1]) == (130, f"fnnet train: interrupted; the latest checkpoint in "
                                    f"{ckpt} is of step 1: the same command with --resume "
                                    "continues from it")


def test_resuming_with_another_learning_rate_or_augmentation_is_warned(tmp_path, capsys):
    """Seed, batch size, model and optimizer must match to resume (fit checks them); the
    learning rate and augmentation may change, but the run then differs from the one
    interrupted, which --resume promises to continue bit for bit: a warning says so."""
    ckpt = tmp_path / "ckpt"

    def begin(*flags):
        args = cli.build_parser().parse_args(
            ["train", "--checkpoint-dir", str(ckpt), *flags])
        cli._record_run_flags(args)  # what train does before fit
        (ckpt / "44").mkdir(exist_ok=True)  # the checkpoints fit then writes
        return capsys.readouterr().err.splitlines()

    assert begin("--lr", "0.01") == []
    assert begin("--lr", "0.01", "--resume") == []
    began = f"fnnet train: warning: the run in {ckpt} began with"
    assert begin("--lr", "0.1", "--horizontal-flip", "--resume") == [
        f"{began} --lr 0.01; resuming it with --lr 0.1 trains on differently from how it "
        "would have gone on",
        f"{began} no --horizontal-flip; resuming it with --horizontal-flip trains on "
        "differently from how it would have gone on"]
    # a new run in the folder (which fit refuses for its checkpoints) keeps the record
    assert begin("--lr", "0.5") == []
    assert '"lr": 0.01' in (ckpt / cli.RUN_FLAGS_FILE).read_text()
    # a damaged record is named, not silently taken for flags that all agree
    (ckpt / cli.RUN_FLAGS_FILE).write_text('{"lr": 0.0')
    (warning,) = begin("--lr", "0.1", "--resume")
    assert warning.startswith(f"fnnet train: warning: cannot read {ckpt / cli.RUN_FLAGS_FILE} (")
    assert warning.endswith("): the flags this run began with are not compared with these")


def test_evaluate_on_another_dataset_names_the_one_trained_on(trained, tmp_path, capsys):
    path, _, _, _ = trained
    write_idx(tmp_path / "t10k-images-idx3-ubyte", 2051, np.zeros((5, 28, 28), np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", 2049, np.arange(5, dtype=np.uint8))
    code, _, err = run(["evaluate", "--weights", str(path), "--dataset", "mnist",
                        "--data-dir", str(tmp_path)], capsys)
    assert code == 2
    assert err[-1] == (f"fnnet evaluate: error: --dataset mnist has 1x28x28 images, but "
                       f"--weights {path} was trained on 1x8x8 images (digits)")


def test_evaluate_names_a_model_that_does_not_fit(trained, capsys):
    path, _, _, _ = trained
    code, _, err = run(["evaluate", "--weights", str(path), "--model", "lenet5"], capsys)
    assert code == 2
    assert err[0] == ("fnnet evaluate: warning: --model lenet5 differs from the mlp that "
                      "weights.safetensors was trained as")
    assert len(err) == 2 and err[1].startswith(f"fnnet evaluate: error: --weights {path} "
                                               "does not fit --model lenet5 on 1x8x8 images")


def test_evaluate_weights_saved_elsewhere_needs_the_model(trained, tmp_path, capsys):
    """A state dict written without fnnet train's metadata (e.g. from PyTorch)."""
    from fnnet import interop

    path, history, _, _ = trained
    plain = interop.save_state_dict(interop.read_state_dict(path),
                                    tmp_path / "plain.safetensors")
    code, _, err = run(["evaluate", "--weights", str(plain)], capsys)
    assert code == 2 and err == [
        f"fnnet evaluate: error: --weights {plain} does not say which model it holds (it "
        "was not written by fnnet train --save): pass --model"]
    code, out, err = run(["evaluate", "--weights", str(plain), "--model", "mlp"], capsys)
    assert code == 0 and err == []
    assert out.startswith(f"test accuracy: {history['eval_accuracy'][-1]:.2%} (359 examples "
                          "of digits)")


def test_augmented_batches_are_seeded_and_change_the_images():
    args = cli.build_parser().parse_args(["train", "--random-crop-padding", "2",
                                          "--horizontal-flip", "--rotation", "10"])
    x = np.random.default_rng(0).uniform(size=(8, 1, 8, 8)).astype(np.float32)
    y = np.arange(8, dtype=np.int32)
    augment = cli._augmentation(args, x.shape[1:])
    first = list(cli._augmented_batches(x, y, augment, 4, seed=0)(0))
    again = list(cli._augmented_batches(x, y, augment, 4, seed=0)(0))
    other = list(cli._augmented_batches(x, y, augment, 4, seed=0)(1))
    assert len(first) == 2 and first[0][0].shape == (4, 1, 8, 8)
    for (a, la), (b, lb) in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(la, lb)
    plain = dict(zip(y.tolist(), x, strict=True))
    assert not np.allclose(np.asarray(first[0][0]), np.stack([plain[i] for i in first[0][1]]))
    assert not np.array_equal(np.asarray(first[0][0]), np.asarray(other[0][0]))
    assert cli._augmentation(cli.build_parser().parse_args(["train"]), x.shape[1:]) is None


# ----------------------------------------------------------------------------- data routing


def test_folder_with_only_mnists_test_files_trains_on_its_split(mnist_dir, tmp_path, capfd):
    save = tmp_path / "mnist.safetensors"
    code = cli.main(["train", "--dataset", "mnist", "--data-dir", str(mnist_dir), "--epochs",
                     "1", "--batch-size", "128", "--quiet", "--out", str(tmp_path),
                     "--save", str(save)])
    out, err = capfd.readouterr()
    assert code == 0
    assert err.splitlines() == [
        f"fnnet train: {mnist_dir} holds only the test files of mnist (no training files), "
        "so its 10,000 images are split: 8,000 to train on and 2,000 held out to test on "
        "(a fixed 80%/20% split, seed 0, as fnnet compare uses)"]
    assert "mnist (8000 train, 2000 test examples of shape (1, 28, 28))" in out
    trained_line = next(line for line in out.splitlines() if line.startswith("test accuracy"))
    # The very split fnnet compare trains on.
    from fnnet.compare.data import mnist_or_digits

    (_, compare_train_y), (_, compare_test_y), _ = mnist_or_digits(str(mnist_dir))
    (_, train_y), (_, test_y), _ = data.load_train_test("mnist", mnist_dir)
    np.testing.assert_array_equal(train_y, compare_train_y)
    np.testing.assert_array_equal(test_y, compare_test_y)
    # evaluate reads the same 2,000 held-out images.
    assert cli.main(["evaluate", "--weights", str(save), "--data-dir", str(mnist_dir)]) == 0
    out, _ = capfd.readouterr()
    accuracy = trained_line.split()[2]
    assert out.startswith(f"test accuracy: {accuracy} (2000 examples of mnist)")


def test_a_missing_data_dir_is_an_error(tmp_path, capfd):
    folder = tmp_path / "mnist"
    assert cli.main(["train", "--dataset", "mnist", "--data-dir", str(folder)]) == 2
    out, err = capfd.readouterr()
    assert out == "" and err == f"fnnet train: error: --data-dir {folder}: no such folder\n"


@pytest.mark.parametrize("case", ["empty", "not given"])
def test_missing_mnist_lists_the_files_without_absl_output(tmp_path, case):
    folder = tmp_path / "mnist"
    if case == "empty":
        folder.mkdir()
    flags = [] if case == "not given" else ["--data-dir", str(folder)]
    # No folder from the environment, and tfds's default folder (~) empty.
    env = {k: v for k, v in os.environ.items()
           if k not in ("FNNET_MNIST_DIR", "FNNET_DATA_DIR", "TFDS_DATA_DIR")}
    result = run_process("train", "--dataset", "mnist", *flags, cwd=tmp_path,
                         env={**env, "HOME": str(tmp_path)})
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert "absl" not in result.stderr and "WARNING" not in result.stderr
    where = (f"mnist files not found in {folder}:" if case == "empty" else
             "mnist: no folder given (pass --data-dir, or set FNNET_MNIST_DIR to the folder")
    assert lines[0].startswith(f"fnnet train: error: {where}")
    assert ("expected train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
            "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz. Download them from "
            "https://ossci-datasets.s3.amazonaws.com/mnist/") in lines[0]


def write_idx(path: pathlib.Path, magic: int, array: np.ndarray) -> None:
    """An uncompressed IDX file: magic number, one size per dimension, uint8 data."""
    sizes = b"".join(int(v).to_bytes(4, "big") for v in array.shape)
    path.write_bytes(magic.to_bytes(4, "big") + sizes + array.astype(np.uint8).tobytes())


def test_a_folder_missing_one_split_names_only_that_splits_files(tmp_path):
    rng = np.random.default_rng(0)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", 2051, rng.integers(0, 256, (5, 28, 28)))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", 2049, rng.integers(0, 10, 5))
    with pytest.raises(data.DatasetNotPreparedError) as info:
        data.load("mnist", "train", tmp_path)
    message = str(info.value)
    assert message.startswith(f"mnist files not found in {tmp_path}: expected "
                              "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz. ")
    (train_x, _), (test_x, _), note = data.load_train_test("mnist", tmp_path)
    assert (len(train_x), len(test_x)) == (4, 1) and "holds only the test files" in note


def test_a_folder_with_only_cifar10s_test_batch_is_split(tmp_path):
    write_synthetic_cifar10(tmp_path, n=10)
    for name in [f"data_batch_{i}" for i in range(1, 6)]:
        (tmp_path / "cifar-10-batches-py" / name).unlink()
    (train_x, train_y), (test_x, _), note = data.load_train_test("cifar10", tmp_path)
    assert train_x.shape == (8, 3, 32, 32) and test_x.shape == (2, 3, 32, 32)
    assert note.startswith(f"{tmp_path} holds only the test files of cifar10 (no training "
                           "files), so its 10 images are split: 8 to train on and 2 held out")
    with pytest.raises(FileNotFoundError, match="CIFAR-10 train batches not found: expected "
                                                "data_batch_1, data_batch_2"):
        data.load("cifar10", "train", tmp_path)
    # Some training batches but not all: not a test-only folder, an incomplete one.
    write_synthetic_cifar10(tmp_path / "partial", n=2)
    for name in [f"data_batch_{i}" for i in range(2, 6)]:
        (tmp_path / "partial" / "cifar-10-batches-py" / name).unlink()
    with pytest.raises(FileNotFoundError, match="CIFAR-10 train batches not found: expected "
                                                "data_batch_2, data_batch_3, data_batch_4, "
                                                "data_batch_5 in"):
        data.load_train_test("cifar10", tmp_path / "partial")


# ----------------------------------------------------------------------------- ResNet-18


def write_synthetic_cifar10(folder: pathlib.Path, n: int, seed: int = 0) -> None:
    """A small CIFAR-10 in the official python-batch format: five training batches and a
    test batch of ``n`` images each, ``{b"data": [n, 3072] uint8, b"labels": [n]}``."""
    rng = np.random.default_rng(seed)
    batches = folder / "cifar-10-batches-py"
    batches.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"batch_label": name.encode(),
                 b"labels": [int(v) for v in rng.integers(0, 10, n)],
                 b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                 b"filenames": [f"{name}_{i}.png".encode() for i in range(n)]}
        with open(batches / name, "wb") as f:
            pickle.dump(batch, f, protocol=2)


@pytest.mark.slow
def test_resnet18_on_cifar10_with_augmentation(tmp_path, capsys):
    write_synthetic_cifar10(tmp_path / "cifar", n=8)
    save = tmp_path / "resnet18.safetensors"
    args = cli.build_parser().parse_args([
        "train", "--model", "resnet18", "--dataset", "cifar10", "--data-dir",
        str(tmp_path / "cifar"), "--epochs", "1", "--batch-size", "8", "--quiet",
        "--random-crop-padding", "4", "--horizontal-flip", "--rotation", "15",
        "--out", str(tmp_path), "--save", str(save)])
    history = args.run(args)
    out = capsys.readouterr().out
    assert "resnet18 on cifar10 (40 train, 8 test examples of shape (3, 32, 32))" in out
    assert len(history["loss"]) == 1 and np.isfinite(history["loss"][0])
    metrics = cli.evaluate(cli.build_parser().parse_args(
        ["evaluate", "--weights", str(save), "--data-dir", str(tmp_path / "cifar")]))
    assert metrics["accuracy"] == history["eval_accuracy"][-1]
