"""benchmarks/accelerator.sh runs where no accelerator is: it says so and, with --quick,
still times one small workload on the CPU and writes its table."""

from __future__ import annotations

import pathlib
import subprocess

import jax
import pytest

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "accelerator.sh"


@pytest.mark.skipif(jax.default_backend() != "cpu", reason="the CPU-only path")
def test_quick_run_without_accelerator_writes_a_table(tmp_path):
    out = tmp_path / "table.md"
    done = subprocess.run(["bash", str(SCRIPT), "--quick", "--markdown", str(out)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "No accelerator found" in done.stdout
    lines = out.read_text().splitlines()
    assert lines[0].startswith("Device: cpu")
    header = next(line for line in lines if line.startswith("| workload"))
    assert "fnnet ms/step" in header and "PyTorch / fnnet time" in header
    row = next(line for line in lines if line.startswith("| MLP 784-128-64-10"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert float(cells[1]) > 0           # fnnet's ms/step
    assert float(cells[3]) > 0           # the compiled step's MB from memory_analysis


def test_unknown_workload_is_refused():
    done = subprocess.run(["bash", str(SCRIPT), "--workloads", "resnet50"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 2
    assert "--workloads: unknown ['resnet50']" in done.stderr
