"""The corpus of tutorial-style programs (``tests/programs/p*.py``) runs unchanged under
PyTorch and under fnnet.torch and agrees.

Each backend runs every program in one subprocess (``tests/programs/_run.py``); the test
compares what each program printed (numbers within the tolerance, all other text
exactly) and the final ``state_dict`` of every module it left in its globals. The
tolerance is 1e-4 relative and 1e-5 absolute unless a program declares others on lines
``# tolerance: <rtol> (<why>)`` and ``# atol: <atol> (<why>)``, plus one unit of a printed
number's last digit (values that agree within the tolerance may round to neighbouring
printed values). A program with a line ``# data: mnist`` reads the real MNIST test set
(``_harness.mnist``) and is skipped where it is absent.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

PROGRAMS = sorted((pathlib.Path(__file__).parent / "programs").glob("p*.py"))
SHARED_MNIST = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
RUNNER = pathlib.Path(__file__).parent / "programs" / "_run.py"
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
DEFAULT_RTOL = 1e-4
ATOL = 1e-5  # printed values near zero (a loss that reached 1e-7) compare absolutely

pytestmark = [pytest.mark.torch, pytest.mark.slow]


def needs_mnist(path: pathlib.Path) -> bool:
    """Whether a program reads the real MNIST test set (a line ``# data: mnist``)."""
    return re.search(r"^# data: mnist\b", path.read_text(), re.MULTILINE) is not None


def mnist_available() -> bool:
    """The test set where ``_harness.mnist`` reads it (``$FNNET_MNIST_DIR``, else
    ``shared/data/mnist`` beside the repository, as the ``mnist_dir`` fixture)."""
    folder = pathlib.Path(os.environ.get("FNNET_MNIST_DIR", SHARED_MNIST))
    return (folder / "t10k-images-idx3-ubyte.gz").exists()


def tolerance(path: pathlib.Path) -> tuple[float, float]:
    """A program's ``(rtol, atol)``: its ``# tolerance:`` and ``# atol:`` lines (each with
    its reason), else the defaults."""
    text = path.read_text()
    rtol = re.search(r"^# tolerance: ([0-9.e-]+)", text, re.MULTILINE)
    atol = re.search(r"^# atol: ([0-9.e-]+)", text, re.MULTILINE)
    return (float(rtol.group(1)) if rtol else DEFAULT_RTOL,
            float(atol.group(1)) if atol else ATOL)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, torch):
    out = {}
    base = tmp_path_factory.mktemp("programs")
    procs = {}
    programs = [p for p in PROGRAMS if mnist_available() or not needs_mnist(p)]
    for backend in ("torch", "fnnet"):
        target = str(base / f"{backend}.npz")
        # The fnnet runner compiles with the suite's JAX_DISABLE_MOST_OPTIMIZATIONS
        # (tests/conftest.py): the corpus's programs are tiny and compiling is most of
        # its time; results move by float rounding, far inside the tolerance.
        procs[backend] = (target, subprocess.Popen(
            [sys.executable, str(RUNNER), backend, target, *map(str, programs)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=base))
    try:
        for backend, (target, proc) in procs.items():
            log, _ = proc.communicate(timeout=900)
            assert proc.returncode == 0, f"{backend} runner failed:\n{log[-3000:]}"
            meta = json.loads(pathlib.Path(target + ".json").read_text())
            out[backend] = (meta, dict(np.load(target)))
    finally:  # a runner past its time (or beside one that failed) must not outlive the test
        for _, proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    return out


def test_corpus_is_large_enough():
    assert len(PROGRAMS) >= 20


def _compare_text(name: str, theirs: str, ours: str, rtol: float, atol: float = ATOL
                  ) -> None:
    t_lines, o_lines = theirs.splitlines(), ours.splitlines()
    assert len(o_lines) == len(t_lines), (
        f"{name}: {len(o_lines)} lines printed, PyTorch printed {len(t_lines)}\n--- ours\n"
        f"{ours}\n--- PyTorch\n{theirs}")
    for i, (t_line, o_line) in enumerate(zip(t_lines, o_lines, strict=True)):
        t_texts = NUMBER.findall(t_line)
        t_nums = [float(v) for v in t_texts]
        o_nums = [float(v) for v in NUMBER.findall(o_line)]
        assert NUMBER.sub("#", o_line) == NUMBER.sub("#", t_line), (
            f"{name} line {i + 1}:\n ours:    {o_line}\n PyTorch: {t_line}")
        # two values within rtol can round to neighbouring printed values (0.85955 prints
        # as 0.8595 or 0.8596): one unit of each number's last printed digit is allowed
        allowed = rtol * np.abs(t_nums) + atol + np.array([_last_digit(v) for v in t_texts])
        assert np.all(np.abs(np.subtract(o_nums, t_nums)) <= allowed), (
            f"{name} line {i + 1} differs by more than rtol={rtol:g}:\n ours:    {o_line}\n"
            f" PyTorch: {t_line}")


def _last_digit(text: str) -> float:
    """The value of one unit in the last digit of a printed number with a fraction
    (``"0.8595"``: 1e-4, ``"1.25e-03"``: 1e-5); 0 for an integer."""
    mantissa, _, exponent = text.lower().partition("e")
    if "." not in mantissa:
        return 0.0
    return 10.0 ** (int(exponent or 0) - len(mantissa.split(".")[1]))


@pytest.mark.parametrize("path", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_program_matches_pytorch(runs, path):
    if needs_mnist(path) and not mnist_available():
        pytest.skip(f"{path.stem} reads the real MNIST test set, not found in "
                    f"{os.environ.get('FNNET_MNIST_DIR', SHARED_MNIST)} (set FNNET_MNIST_DIR)")
    name, (rtol, atol) = path.stem, tolerance(path)
    (t_meta, t_arrays), (o_meta, o_arrays) = runs["torch"], runs["fnnet"]
    assert name not in t_meta["errors"], f"{name} fails under PyTorch:\n" \
        f"{t_meta['errors'].get(name)}"
    assert name not in o_meta["errors"], f"{name} fails under fnnet.torch:\n" \
        f"{o_meta['errors'].get(name)}"
    _compare_text(name, t_meta["printed"][name], o_meta["printed"][name], rtol, atol)
    t_keys = sorted(k for k in t_arrays if k.startswith(name + "/"))
    o_keys = sorted(k for k in o_arrays if k.startswith(name + "/"))
    assert o_keys == t_keys
    for key in t_keys:
        np.testing.assert_allclose(o_arrays[key].astype(np.float64),
                                   t_arrays[key].astype(np.float64), rtol=rtol, atol=atol,
                                   err_msg=key)
