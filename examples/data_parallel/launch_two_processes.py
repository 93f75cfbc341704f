"""Runs sharded_mnist.py as 2 processes with 2 CPU devices each, on this machine.

The processes find each other through a coordinator on a free localhost port
(``jax.distributed`` via ``fnnet.parallel.initialize``), exchange gradients with gloo,
and each reads its own half of every global batch; process 0 prints. Both are stopped
if one fails, on a timeout, or on Ctrl-C.

    python launch_two_processes.py                      # MNIST ($FNNET_MNIST_DIR)
    python launch_two_processes.py -- --dataset digits --epochs 2

Arguments after ``--`` go to sharded_mnist.py. On several machines, run sharded_mnist.py
on each with ``FNNET_COORDINATOR``, ``FNNET_NUM_PROCESSES`` and ``FNNET_PROCESS_ID``.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

from fnnet.parallel import LaunchError, launch_local

SCRIPT = pathlib.Path(__file__).resolve().parent / "sharded_mnist.py"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--devices-per-process", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds")
    parser.add_argument("script_args", nargs="*", help="arguments for sharded_mnist.py")
    args = parser.parse_args(argv)
    try:
        launch_local([sys.executable, str(SCRIPT), *args.script_args], args.processes,
                     cpu_devices_per_process=args.devices_per_process, timeout=args.timeout,
                     capture=False)
    except LaunchError as error:
        print(f"launch_two_processes: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
