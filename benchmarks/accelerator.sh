#!/usr/bin/env bash
# The suite's workloads on a GPU or TPU, fnnet against PyTorch on the same device.
#
# Needs only the README's environment (with jax[cuda12] or jax[tpu] installed as its
# Accelerators section says); installs nothing. Writes a table (device, ms/step, device
# peak memory, the compiled step's memory, ratios to PyTorch where PyTorch sees the GPU)
# to accelerator-results.md, or to the file given with --markdown.
#
#   benchmarks/accelerator.sh            # every workload, in under 8 minutes on a GPU
#   benchmarks/accelerator.sh --quick    # fewer steps; on the CPU, one small workload
set -euo pipefail
cd "$(dirname "$0")/.."
# Memory as used, not JAX's default preallocation of most of the device; PyTorch shares it.
export XLA_PYTHON_CLIENT_PREALLOCATE=false
exec python benchmarks/accelerator.py "$@"
