"""``fnnet run SCRIPT`` / ``python -m fnnet.torch SCRIPT``: a PyTorch script run with
nothing edited, its ``import torch`` giving fnnet.torch, printing what PyTorch prints.

The script runs in processes (the mapping is per process, and this one has PyTorch
imported): once under PyTorch, once under ``fnnet run``, beside its exit statuses.
"""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import textwrap

import pytest

from fnnet.torch import as_torch

# A training script as a user writes it: submodule imports, a helper module beside it,
# its own arguments, a DataLoader with worker processes, a spawned process, and an
# optional import it survives. Weights and data come from numpy, so that both backends
# print the same numbers.
SCRIPT = textwrap.dedent("""
    import argparse
    import multiprocessing
    import sys

    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from torch.utils.data import DataLoader, TensorDataset

    import helper  # beside the script, found as `python SCRIPT` finds it

    try:
        import torch._no_such_module
    except ImportError:
        print("optional module missing")


    def child(queue):
        import torch
        queue.put(float(torch.ones(3).sum()))


    if __name__ == "__main__":
        parser = argparse.ArgumentParser()
        parser.add_argument("--epochs", type=int, default=1)
        parser.add_argument("--end", default="normally")
        args = parser.parse_args()
        if args.end == "exit":
            sys.exit(3)
        if args.end == "raise":
            raise ValueError(f"the script's own error, in {sys.argv[0]} at {__file__}")
        rng = np.random.default_rng(0)
        x = torch.from_numpy(rng.standard_normal((32, 3)).astype(np.float32))
        y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.25
        model = nn.Linear(3, 1)
        with torch.no_grad():
            model.weight.copy_(torch.tensor([[0.1, 0.2, 0.3]]))
            model.bias.zero_()
        optimizer = torch.optim.SGD(model.parameters(), lr=helper.LR)
        loader = DataLoader(TensorDataset(x, y), batch_size=8, num_workers=2)
        for epoch in range(args.epochs):
            for xb, yb in loader:
                optimizer.zero_grad()
                loss = F.mse_loss(model(xb), yb)
                loss.backward()
                optimizer.step()
            print(f"epoch {epoch} loss {loss.item():.5f}")
        print("argv", sys.argv[1:])
        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        process = context.Process(target=child, args=(queue,))
        process.start()
        print("spawned child sums", queue.get(timeout=120))
        process.join()
""")


@pytest.fixture(scope="module")
def script(tmp_path_factory):
    folder = tmp_path_factory.mktemp("script")
    (folder / "helper.py").write_text("LR = 0.1\n")
    path = folder / "train.py"
    path.write_text(SCRIPT)
    return path


def _run(command, cwd):
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    return subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=cwd,
                          env=env)


@pytest.mark.torch
@pytest.mark.slow  # three interpreters and a DataLoader's workers for each backend
def test_an_unchanged_script_prints_what_pytorch_prints(torch, script, tmp_path):
    args = [str(script), "--epochs", "3"]
    theirs = _run([sys.executable, *args], cwd=tmp_path)
    ours = _run([sys.executable, "-m", "fnnet.torch", *args], cwd=tmp_path)
    assert theirs.returncode == 0, theirs.stderr
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == theirs.stdout
    assert "epoch 2 loss" in ours.stdout and "spawned child sums 3.0" in ours.stdout


def test_exit_statuses_and_tracebacks_are_pythons(script, tmp_path):
    fnnet = pathlib.Path(sys.executable).parent / "fnnet"
    command = [str(fnnet), "run"] if fnnet.exists() else \
        [sys.executable, "-m", "fnnet.cli", "run"]
    exited = _run([*command, str(script), "--end", "exit"], cwd=tmp_path)
    assert exited.returncode == 3, exited.stderr
    # a path relative to the working directory: sys.argv[0] as given, __file__ and the
    # traceback's file name joined to the working directory (not normalised), as Python's
    relative = os.path.relpath(script, tmp_path)
    raised = _run([*command, relative, "--end", "raise"], cwd=tmp_path)
    assert raised.returncode == 1
    lines = raised.stderr.strip().splitlines()
    joined = os.path.join(tmp_path, relative)
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[1].startswith(f'  File "{joined}", line ')  # the script's frame first
    assert lines[-1] == f"ValueError: the script's own error, in {relative} at {joined}"
    # Ctrl-C (in a script that stops at once, with an excepthook of its own): the hook
    # is given the script's traceback alone, and the process ends by SIGINT, as Python's
    (tmp_path / "stopped.py").write_text(
        "import sys, traceback\n"
        "sys.excepthook = lambda t, v, tb: print('hook:', t.__name__, "
        "traceback.extract_tb(tb)[0].filename, file=sys.stderr)\n"
        "raise KeyboardInterrupt\n")
    interrupted = _run([*command, "stopped.py"], cwd=tmp_path)
    assert interrupted.returncode == -signal.SIGINT
    assert interrupted.stderr.splitlines() == [
        f"hook: KeyboardInterrupt {tmp_path / 'stopped.py'}"]


def test_a_module_runs_with_dash_m(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    # a submodule named as the function beside it: the import loads the module, and the
    # name stays the function, as in PyTorch
    (package / "job.py").write_text(
        "import sys\nimport torch.nn\nimport torch.nn.utils.weight_norm as wn\n"
        "from torch.nn.utils.spectral_norm import SpectralNorm\n"
        "print(torch.__name__, torch.nn.Linear.__module__, type(wn).__name__, "
        "type(torch.nn.utils.weight_norm).__name__, SpectralNorm.__name__, sys.argv[1:])\n")
    done = _run([sys.executable, "-m", "fnnet.torch", "-m", "pkg.job", "a", "-b"],
                cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[:1] == ["fnnet.torch"]
    assert "function function SpectralNorm" in done.stdout
    assert done.stdout.strip().endswith("['a', '-b']")


def test_bad_arguments(capsys, tmp_path):
    missing = tmp_path / "missing.py"
    assert as_torch.main([str(missing)], prog="fnnet run") == 2
    assert capsys.readouterr().err == (
        f"fnnet run: can't open file '{missing}': [Errno 2] No such file or directory\n")
    assert as_torch.main([str(tmp_path)], prog="fnnet run") == 1  # no __main__.py in it
    assert capsys.readouterr().err == (
        f"fnnet run: can't find '__main__' module in '{tmp_path}'\n")
    assert as_torch.main(["--epochs", "3"], prog="fnnet run") == 2
    assert "unknown option '--epochs'" in capsys.readouterr().err
    assert as_torch.main(["-m"], prog="fnnet run") == 2
    assert capsys.readouterr().err == "fnnet run: error: -m expects a module name\n"
    assert as_torch.main([], prog="fnnet run") == 2
    assert capsys.readouterr().err.startswith("usage: fnnet run [-h] SCRIPT [ARGS ...]")
    assert as_torch.main(["--help"], prog="fnnet run") == 0
    assert "-m MODULE" in capsys.readouterr().out


@pytest.mark.torch
def test_install_refuses_a_process_that_imported_pytorch(torch):
    with pytest.raises(RuntimeError, match=r"torch is already imported in this process"):
        as_torch.install()
    assert not as_torch.installed()
