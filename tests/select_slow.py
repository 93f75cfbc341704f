"""Keeps the edit-test loop (``pytest -m "not slow"``) within its time: reads the
``--durations=0`` report of a run of the loop and adds its longest tests to
``tests/slow_by_time.txt`` (which ``tests/conftest.py`` marks slow) until the rest fits.

    python -m pytest -n 2 -m "not slow" -p no:cacheprovider --durations=0 > loop.log
    python tests/select_slow.py loop.log [--budget 100] [--workers 2]

``--budget`` is the loop's wall time aimed at, in seconds, with ``--workers`` workers;
the tests kept sum to at most that many seconds per worker, less the time a worker
spends beyond its share of the reported durations (:data:`STARTUP`). Tests already in
the file stay in it; entries naming a test the suite no longer collects are dropped.
The full suite (``pytest -n 2``) runs every test either way.
"""

from __future__ import annotations

import argparse
import collections
import pathlib
import re
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
LISTING = HERE / "slow_by_time.txt"
#: seconds a worker's wall time exceeds its share of the tests' reported durations: its
#: start, importing the test modules and collecting, the tests under 5 ms that the report
#: leaves out, and waiting for the last file of the other worker (measured on 2 cores)
STARTUP = 30.0
HEADER = """\
# Tests outside the edit-test loop (pytest -m "not slow") for their time alone: the longest
# of the loop when it was last measured. Written by tests/select_slow.py from a
# --durations=0 report; tests/conftest.py marks each line's test slow. The full suite
# runs them all.
"""
# a parametrised test's id may hold spaces (an expected message)
DURATION = re.compile(r"^([0-9.]+)s (?:call|setup|teardown) +(tests/\S+?\.py::.+)$",
                      re.MULTILINE)


def entry(node_id: str) -> str:
    """``tests/test_x.py::test_y[a-b]`` -> ``test_x::test_y[a-b]``, as the listing names it."""
    path, _, name = node_id.partition("::")
    return f"{pathlib.PurePath(path).stem}::{name}"


def read_listing() -> list[str]:
    if not LISTING.exists():
        return []
    return [line.strip() for line in LISTING.read_text().splitlines()
            if line.strip() and not line.startswith("#")]


def collected() -> set[str]:
    """Every test the suite collects, as listing entries."""
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                          "-p", "no:cacheprovider", str(HERE)], capture_output=True,
                         text=True, check=True, cwd=HERE.parent).stdout
    return {entry(line) for line in out.splitlines() if "::" in line}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=pathlib.Path,
                        help="the output of the edit-test loop run with --durations=0")
    parser.add_argument("--budget", type=float, default=100.0,
                        help="the loop's wall time aimed at, seconds (default 100)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if args.budget <= STARTUP or args.workers < 1:
        parser.error(f"--budget must exceed {STARTUP} s and --workers be at least 1")
    seconds: dict[str, float] = collections.defaultdict(float)
    for value, node_id in DURATION.findall(args.report.read_text()):
        seconds[entry(node_id)] += float(value)
    if not seconds:
        sys.exit(f"{args.report}: no --durations=0 lines found")
    listed = read_listing()
    known = collected()
    kept = [name for name in listed if name in known]
    allowed = args.workers * (args.budget - STARTUP)
    total = sum(t for name, t in seconds.items() if name not in kept)
    added = []
    for name, t in sorted(seconds.items(), key=lambda kv: -kv[1]):
        if total <= allowed:
            break
        if name in kept or name not in known:
            continue
        added.append(name)
        total -= t
    LISTING.write_text(HEADER + "".join(f"{name}\n" for name in sorted(kept + added)))
    print(f"{len(added)} tests added, {len(listed) - len(kept)} dropped; the loop's tests "
          f"now sum to {total:.0f} s ({total / args.workers + STARTUP:.0f} s a worker "
          f"with its start)")


if __name__ == "__main__":
    main()
