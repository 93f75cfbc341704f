"""The suite's workloads on JAX's default device, fnnet against PyTorch on the same device.

Run by ``benchmarks/accelerator.sh``. Each workload (the training steps and the inference
passes of ``suite.py``) runs in a fresh process, so that the device's peak memory
(``memory_stats()["peak_bytes_in_use"]``, where the backend reports it) is that
workload's alone. Batches are put on the device before timing, for both frameworks;
a step ends when its result is ready. Also reported: the compiled step's memory from
XLA's ``memory_analysis()`` (arguments + outputs - donated + temporaries) and, where
``torch.cuda.is_available()``, PyTorch's eager step on the GPU with its
``max_memory_allocated()``.

    python benchmarks/accelerator.py [--quick] [--workloads a,b] [--markdown FILE]

Without a GPU or TPU it says so; ``--quick`` then still runs one small workload on the
CPU with a few steps, so that the script is exercised where no accelerator is.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import suite  # noqa: E402

MB = 2**20
QUICK_CPU_WORKLOADS = ("mlp_sgd",)


def _median_ms(step, count: int, warmup: int, sync) -> float:
    for i in range(warmup):
        sync(step(i))
    times = []
    for i in range(count):
        start = time.perf_counter()
        sync(step(warmup + i))
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def _compiled_mb(compiled) -> float:
    stats = compiled.memory_analysis()
    if stats is None:
        return float("nan")
    return (stats.argument_size_in_bytes + stats.output_size_in_bytes
            - stats.alias_size_in_bytes + stats.temp_size_in_bytes) / MB


def fnnet_figures(workload: suite.Workload, steps: int) -> dict:
    """fnnet's step on JAX's default device: ms/step, compiled and device peak MB."""
    import jax

    from fnnet import losses
    from fnnet.train import create_train_state, make_predict, make_train_step

    device = jax.local_devices()[0]
    batches = [{"x": jax.device_put(b["x"], device), "y": jax.device_put(b["y32"], device)}
               for b in suite.host_batches(workload, 4)]
    model = suite.fnnet_model(workload.model)
    if workload.optimizer is None:
        params, layer_state = jax.jit(model.init)(jax.random.key(0))
        predict = make_predict(model)
        compiled = predict.lower(params, layer_state, batches[0]["x"]).compile()

        def step(i):
            return predict(params, layer_state, batches[i % len(batches)]["x"])
    else:
        optimizer = suite.fnnet_optimizer(workload.optimizer)
        holder = {"state": create_train_state(model, optimizer, jax.random.key(0))}
        train_step = make_train_step(model, optimizer, losses.cross_entropy)
        first = batches[0]
        compiled = train_step.lower(holder["state"], (first["x"], first["y"])).compile()

        def step(i):
            b = batches[i % len(batches)]
            holder["state"], metrics = train_step(holder["state"], (b["x"], b["y"]))
            return metrics["loss"]

    ms = _median_ms(step, steps, min(workload.warmup, steps), jax.block_until_ready)
    stats = device.memory_stats() or {}
    peak = stats.get("peak_bytes_in_use")
    return {"ms": ms, "compiled_mb": _compiled_mb(compiled),
            "peak_mb": None if peak is None else peak / MB}


def torch_figures(workload: suite.Workload, steps: int) -> dict | None:
    """PyTorch's eager step on its GPU, or None where PyTorch sees none."""
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    device = torch.device("cuda")
    batches = [{"x": torch.from_numpy(b["x"]).to(device),
                "y": torch.from_numpy(b["y64"]).to(device)}
               for b in suite.host_batches(workload, 4)]
    model = suite.torch_model(torch, workload.model).to(device)
    torch.cuda.reset_peak_memory_stats(device)
    if workload.optimizer is None:
        model.eval()

        def step(i):
            with torch.no_grad():
                return model(batches[i % len(batches)]["x"])
    else:
        model.train()
        optimizer = suite.torch_optimizer(torch, workload.optimizer, model.parameters())
        criterion = torch.nn.CrossEntropyLoss()

        def step(i):
            b = batches[i % len(batches)]
            optimizer.zero_grad()
            loss = criterion(model(b["x"]), b["y"])
            loss.backward()
            optimizer.step()
            return loss

    ms = _median_ms(step, steps, min(workload.warmup, steps),
                    lambda _: torch.cuda.synchronize(device))
    return {"ms": ms, "peak_mb": torch.cuda.max_memory_allocated(device) / MB,
            "name": torch.cuda.get_device_name(device)}


def one(name: str, steps: int) -> dict:
    """Both frameworks on one workload, in this process."""
    workload = suite.WORKLOADS[name]
    return {"workload": name, "fnnet": fnnet_figures(workload, steps),
            "torch": torch_figures(workload, steps)}


def _mb(value: float | None) -> str:
    return "n/a" if value is None or value != value else f"{value:.1f}"


def table(device: str, rows: list[dict], failed: dict[str, str]) -> list[str]:
    lines = [f"Device: {device}", "",
             "| workload | fnnet ms/step | fnnet device peak MB | fnnet compiled step MB "
             "| PyTorch ms/step | PyTorch peak MB | PyTorch / fnnet time |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        f, t = row["fnnet"], row["torch"]
        if t:
            torch_cells = f"{t['ms']:.3f} | {_mb(t['peak_mb'])} | {t['ms'] / f['ms']:.2f}x"
        else:
            torch_cells = "n/a | n/a | n/a (PyTorch sees no GPU)"
        lines.append(f"| {suite.WORKLOADS[row['workload']].title} | {f['ms']:.3f} "
                     f"| {_mb(f['peak_mb'])} | {_mb(f['compiled_mb'])} | {torch_cells} |")
    for name, error in failed.items():
        lines.append(f"| {suite.WORKLOADS[name].title} | failed: {error} | | | | | |")
    lines += ["", "PyTorch / fnnet time above 1 means fnnet is faster."]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="few steps; on the CPU, one small workload")
    parser.add_argument("--workloads", default=",".join(suite.WORKLOADS))
    parser.add_argument("--markdown", default="accelerator-results.md",
                        help="where to write the table")
    parser.add_argument("--timeout", type=float, default=240.0,
                        help="seconds allowed to each workload's process")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.steps)))
        return

    import jax

    names = [n.strip() for n in args.workloads.split(",") if n.strip()]
    unknown = [n for n in names if n not in suite.WORKLOADS]
    if unknown:
        parser.error(f"--workloads: unknown {unknown}; choose from {list(suite.WORKLOADS)}")
    device = jax.local_devices()[0]
    if jax.default_backend() == "cpu":
        print("No accelerator found: JAX's default backend is the CPU "
              "(install jax[cuda12] or jax[tpu] as the README's Accelerators section says).")
        if not args.quick:
            return
        names = [n for n in names if n in QUICK_CPU_WORKLOADS] or list(QUICK_CPU_WORKLOADS)
    described = f"{device.platform} {device.device_kind}, jax {jax.__version__}"
    print(f"Running {len(names)} workloads on {described}", flush=True)
    rows, failed = [], {}
    for name in names:
        workload = suite.WORKLOADS[name]
        steps = workload.quick_steps if args.quick else workload.steps
        if args.quick and jax.default_backend() == "cpu":
            # Only exercising the script: in this process, to spare a start-up.
            rows.append(one(name, 5))
            continue
        command = [sys.executable, __file__, "--one", name, "--steps", str(steps)]
        try:
            done = subprocess.run(command, capture_output=True, text=True,
                                  timeout=args.timeout, check=False)
        except subprocess.TimeoutExpired:
            failed[name] = f"over {args.timeout:.0f} s"
            continue
        if done.returncode != 0:
            failed[name] = (done.stderr.strip().splitlines() or ["no output"])[-1][:200]
            continue
        row = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(f"  {name}: fnnet {row['fnnet']['ms']:.3f} ms/step", flush=True)
    if rows and rows[0]["torch"]:
        described += f"; PyTorch on {rows[0]['torch']['name']}"
    lines = table(described, rows, failed)
    print("\n".join(lines))
    pathlib.Path(args.markdown).write_text("\n".join(lines) + "\n")
    print(f"written to {args.markdown}")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    main()
