"""``python -m fnnet.torch.distributed.run``: torchrun for fnnet.torch scripts.

Starts ``--nproc-per-node`` copies of a script on this machine with the environment
``torchrun`` gives (``MASTER_ADDR``, ``MASTER_PORT``, ``WORLD_SIZE``, ``RANK``,
``LOCAL_RANK``, ``LOCAL_WORLD_SIZE``, ``GROUP_RANK``, ...), plus fnnet's own
(``FNNET_COORDINATOR``, ``FNNET_NUM_PROCESSES``, ``FNNET_PROCESS_ID``, so functional
``fnnet.parallel`` scripts run under it too). Rank 0 serves JAX's coordinator at
``MASTER_ADDR:MASTER_PORT`` (on one machine: 127.0.0.1 and a free port). Each line a
process's standard output and error are the launcher's, as torchrun passes them on
(``init_process_group`` puts the rank in front of each line of an uncaught exception's
traceback, ``[rank1]: ...``, as PyTorch's does). When one process fails, or
``--timeout`` passes, every process of this machine is stopped and the launcher exits
with status 1, naming the rank that failed.

Several machines: run the launcher once per machine with the same ``--nnodes``,
``--master-addr`` (machine 0's address, reachable from all) and ``--master-port``, and
that machine's ``--node-rank``. There are no elastic restarts (``--max-restarts`` must
be 0) and no rendezvous server: the coordinator is rank 0's.

Example::

    python -m fnnet.torch.distributed.run --nproc-per-node 2 train.py --epochs 1
    fnnet torchrun --nproc-per-node 2 train.py --epochs 1       # the same

PyTorch equivalent: ``torchrun`` (``python -m torch.distributed.run``).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import IO, NamedTuple, TextIO

from fnnet.parallel.distributed import ENV_COORDINATOR, ENV_NUM_PROCESSES, ENV_PROCESS_ID
from fnnet.parallel.launch import _kill, free_port

PROG = "python -m fnnet.torch.distributed.run"


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") \
            from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


#: the names torchrun takes for --nproc-per-node besides a number
_NPROC_NAMES = ("auto", "cpu", "gpu")


def _nproc(text: str) -> int | str:
    if text in _NPROC_NAMES:
        return text
    if text.strip().lstrip("+-").isdigit():
        return _positive(text)
    raise argparse.ArgumentTypeError(f"expected a positive integer or one of "
                                     f"{', '.join(_NPROC_NAMES)}, got {text!r}")


def _cpu_count() -> int:
    """The CPUs this process may use (as PyTorch counts them for --nproc-per-node cpu)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _accelerators(cpu_only: bool) -> int:
    """How many local GPU/TPU devices JAX finds, 0 on CPUs alone.

    Asked of a fresh Python: the launcher itself never starts JAX, whose GPU memory
    would be taken from the processes it starts.
    """
    if cpu_only or os.environ.get("JAX_PLATFORMS", "").strip().lower() == "cpu":
        return 0
    probe = ("import jax\nd = jax.local_devices()\n"
             "print(0 if d[0].platform == 'cpu' else len(d))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=300, check=False)
    words = done.stdout.split()
    return int(words[-1]) if done.returncode == 0 and words and words[-1].isdigit() else 0


def local_world_size(value: int | str, cpu_only: bool = False) -> int:
    """``--nproc-per-node``'s number: ``value`` itself, or for ``"cpu"`` the CPU count,
    ``"gpu"`` the accelerator count and ``"auto"`` the accelerators, else the CPUs (as
    torchrun); ``cpu_only`` where the processes are to use the CPU.

    Raises:
        ValueError: ``"gpu"`` where JAX finds no accelerator.
    """
    if isinstance(value, int):
        return value
    if value == "cpu":
        return _cpu_count()
    accelerators = _accelerators(cpu_only)
    if accelerators:
        return accelerators
    if value == "gpu":
        raise ValueError("--nproc-per-node gpu: JAX finds no GPU on this machine; give a "
                         "number of processes, or cpu")
    return _cpu_count()


def _std(text: str) -> int:
    if text not in ("0", "1", "2", "3"):
        raise argparse.ArgumentTypeError(f"expected 0 (none), 1 (stdout), 2 (stderr) or 3 "
                                         f"(both), got {text!r}")
    return int(text)


def _streams(text: str) -> int | dict[int, int]:
    """torchrun's stream choice: ``3`` for every process, or ``0:3,1:1`` by local rank."""
    if ":" not in text:
        return _std(text)
    chosen = {}
    for item in text.split(","):
        rank, _, std = item.partition(":")
        if not rank.strip().isdigit():
            raise argparse.ArgumentTypeError(f"expected local_rank:stream pairs such as "
                                             f"0:3,1:1, got {text!r}")
        chosen[int(rank)] = _std(std.strip())
    return chosen


def _ranks(text: str) -> set[int]:
    try:
        ranks = {int(r) for r in text.split(",")}
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of local ranks "
                                         f"such as 0,1,2, got {text!r}") from None
    return ranks


def _for_rank(streams: int | dict[int, int], local: int) -> int:
    return streams if isinstance(streams, int) else streams.get(local, 0)


def destinations(args: argparse.Namespace, envs: Sequence[dict[str, str]]
                 ) -> list[tuple[Shown, Shown]] | None:
    """Where each process's standard output and error go, as torchrun sends them:
    a redirected stream to ``<log dir>/<run id>_<random>/attempt_0/<local rank>/
    stdout.log`` (``stderr.log``) alone, a teed one there and to the console after
    ``[<role><local rank>]:``, the others to the console; ``--local-ranks-filter``
    keeps the other ranks off the console. Sets ``TORCHELASTIC_ERROR_FILE`` in each
    environment where there is a log folder. None: everything to the console as it is.
    """
    if not (args.redirects or args.tee or args.log_dir or args.local_ranks_filter):
        return None
    folder = None
    if args.redirects or args.tee or args.log_dir:
        base = args.log_dir or tempfile.mkdtemp(prefix="torchelastic_")
        os.makedirs(base, exist_ok=True)
        run = tempfile.mkdtemp(prefix=f"{envs[0]['TORCHELASTIC_RUN_ID']}_", dir=base)
        folder = os.path.join(run, "attempt_0")
        os.makedirs(folder)
    shown = []
    for local, env in enumerate(envs):  # (LOCAL_RANK is 0 in each with --virtual-local-rank)
        hidden = args.local_ranks_filter is not None and local not in args.local_ranks_filter
        logs = None
        if folder is not None:
            logs = os.path.join(folder, str(local))
            os.makedirs(logs)
            env["TORCHELASTIC_ERROR_FILE"] = os.path.join(logs, "error.json")
        pair = []
        for bit, console, name in ((1, sys.stdout, "stdout.log"), (2, sys.stderr,
                                                                    "stderr.log")):
            teed = bool(_for_rank(args.tee, local) & bit)
            to_file = teed or bool(_for_rank(args.redirects, local) & bit)
            pair.append(Shown(
                None if hidden or (to_file and not teed) else console,
                f"[{env['ROLE_NAME']}{local}]:".encode() if teed else b"",
                os.path.join(logs, name) if to_file and logs else None))
        shown.append((pair[0], pair[1]))
    return shown


def _nnodes(text: str) -> int:
    low, _, high = text.partition(":")
    if high and high != low:
        raise argparse.ArgumentTypeError(f"elastic --nnodes ranges are not supported, got "
                                         f"{text!r}; give one number of machines")
    return _positive(low)


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    """The launcher's flags (torchrun's names, with ``-`` or ``_``)."""
    p = argparse.ArgumentParser(
        prog=prog, description="Start N processes of a training script, connected as one "
        "distributed run (torchrun for fnnet.torch).")
    p.add_argument("--nproc-per-node", "--nproc_per_node", type=_nproc, default=1,
                   help="processes on this machine: a number (default 1), or cpu (one per "
                        "CPU), gpu (one per GPU) or auto (gpu where there are GPUs, else "
                        "cpu)")
    p.add_argument("--nnodes", type=_nnodes, default=1,
                   help="machines in the run (default 1)")
    p.add_argument("--node-rank", "--node_rank", type=int, default=0,
                   help="this machine's index in [0, nnodes) (default 0)")
    p.add_argument("--master-addr", "--master_addr", default=None,
                   help="address of machine 0, where rank 0 serves the coordinator "
                        "(default 127.0.0.1 on one machine)")
    p.add_argument("--master-port", "--master_port", type=int, default=None,
                   help="the coordinator's port (default: a free port on one machine, "
                        "29500 on several)")
    p.add_argument("--standalone", action="store_true",
                   help="one machine, coordinator on localhost (the default)")
    p.add_argument("--max-restarts", "--max_restarts", type=int, default=0,
                   help="must be 0: failed runs are not restarted")
    p.add_argument("--rdzv-backend", "--rdzv_backend", default=None, help="ignored")
    p.add_argument("--rdzv-endpoint", "--rdzv_endpoint", default=None,
                   help="host:port, the same as --master-addr/--master-port")
    p.add_argument("--rdzv-id", "--rdzv_id", default=None,
                   help="run id (TORCHELASTIC_RUN_ID)")
    p.add_argument("--rdzv-conf", "--rdzv_conf", default=None,
                   help="ignored: there is no rendezvous server to configure")
    p.add_argument("--local-addr", "--local_addr", default=None,
                   help="ignored: the coordinator is rank 0's, at --master-addr")
    p.add_argument("--role", default="default",
                   help="the processes' role (ROLE_NAME; --tee's prefix, [<role><local "
                        "rank>]:) (default 'default')")
    p.add_argument("--start-method", "--start_method", default="spawn",
                   choices=("spawn", "fork", "forkserver"),
                   help="accepted: each process is a new Python program (as spawn)")
    p.add_argument("--monitor-interval", "--monitor_interval", type=float, default=0.05,
                   metavar="SECONDS", help="how often the processes are checked "
                   "(default 0.05)")
    p.add_argument("--run-path", "--run_path", action="store_true",
                   help="run the script by its path (what the launcher does anyway)")
    p.add_argument("--log-dir", "--log_dir", default=None,
                   help="where --redirects and --tee write each process's logs "
                        "(default: a new temporary folder)")
    p.add_argument("-r", "--redirects", type=_streams, default=0,
                   help="streams written to log files instead of the console: 0 none, 1 "
                        "stdout, 2 stderr, 3 both, or per local rank (0:1,1:2)")
    p.add_argument("-t", "--tee", type=_streams, default=0,
                   help="streams written to log files and the console, each line after "
                        "[default<local rank>]: (as --redirects)")
    p.add_argument("--local-ranks-filter", "--local_ranks_filter", type=_ranks, default=None,
                   help="show the console output of these local ranks only (0,1)")
    p.add_argument("--virtual-local-rank", "--virtual_local_rank", action="store_true",
                   help="LOCAL_RANK 0 in every process, each seeing only its own GPU "
                        "(CUDA_VISIBLE_DEVICES)")
    for flag in ("--logs-specs", "--numa-binding", "--signals-to-handle",
                 "--shutdown-timeout", "--event-log-handler", "--duplicate-stdout-filters",
                 "--duplicate-stderr-filters"):  # torchrun's, about its own agent
        p.add_argument(flag, flag.replace("-", "_").replace("__", "--"), default=None,
                       help="accepted and ignored")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="stop every process after this long (a hung run)")
    p.add_argument("--cpu-devices-per-process", type=_positive, default=None,
                   metavar="N", help="run on the CPU with N simulated devices per process")
    p.add_argument("-m", "--module", action="store_true",
                   help="the script is a module name, run as python -m")
    p.add_argument("--no-python", "--no_python", action="store_true",
                   help="run the script as a program, not with python")
    p.add_argument("script", help="the training script")
    p.add_argument("script_args", nargs=argparse.REMAINDER, help="the script's arguments")
    return p


def _environments(args: argparse.Namespace) -> list[dict[str, str]]:
    nproc, nnodes = args.nproc_per_node, args.nnodes
    addr, port = args.master_addr, args.master_port
    if args.rdzv_endpoint:
        host, _, text = args.rdzv_endpoint.rpartition(":")
        addr, port = host or text, int(text) if host and text.isdigit() else port
    if nnodes > 1 and not addr:
        raise ValueError(f"--nnodes {nnodes} needs --master-addr, the address of the "
                         "machine with --node-rank 0")
    addr = addr or "127.0.0.1"
    if port is None or (port == 0 and nnodes == 1):  # torchrun's localhost:0: any port
        port = 29500 if nnodes > 1 else free_port()
    world = nproc * nnodes
    run_id = args.rdzv_id or uuid.uuid4().hex[:12]
    base = dict(os.environ)
    base.update(MASTER_ADDR=addr, MASTER_PORT=str(port), WORLD_SIZE=str(world),
                LOCAL_WORLD_SIZE=str(nproc), GROUP_RANK=str(args.node_rank),
                GROUP_WORLD_SIZE=str(nnodes), ROLE_NAME=args.role,
                ROLE_WORLD_SIZE=str(world), TORCHELASTIC_RUN_ID=run_id,
                TORCHELASTIC_RESTART_COUNT="0", TORCHELASTIC_MAX_RESTARTS="0",
                PYTHONUNBUFFERED="1", FNNET_LAUNCHER_PID=str(os.getpid()))
    base[ENV_COORDINATOR] = f"{addr}:{port}"
    base[ENV_NUM_PROCESSES] = str(world)
    if nproc > 1 and "OMP_NUM_THREADS" not in base:  # as torchrun: no oversubscription
        base["OMP_NUM_THREADS"] = "1"
        print(_OMP_NOTICE, file=sys.stderr, flush=True)
    if args.cpu_devices_per_process is not None:
        base["JAX_PLATFORMS"] = "cpu"
        base["XLA_FLAGS"] = (f"{base.get('XLA_FLAGS', '')} --xla_force_host_platform_"
                             f"device_count={args.cpu_devices_per_process}").strip()
    envs = []
    for local in range(nproc):
        rank = args.node_rank * nproc + local
        env = {**base, "RANK": str(rank), "LOCAL_RANK": str(local),
               "ROLE_RANK": str(rank), ENV_PROCESS_ID: str(rank)}
        if args.virtual_local_rank:  # each process sees its own GPU as device 0
            env.update(LOCAL_RANK="0", CUDA_VISIBLE_DEVICES=str(local))
        envs.append(env)
    return envs


_TRACEBACK = re.compile(rb"(\[rank\d+\]: )?Traceback \(most recent call last\):")
#: the words of a collective that failed because a peer went away (``_waiting``): such a
#: rank's failure is the consequence of another's
_PEER_LOST = b"typically caused by another rank crashing"
#: torchrun's notice on its standard error when it sets OMP_NUM_THREADS for the processes
_OMP_NOTICE = ("\n*****************************************\nSetting OMP_NUM_THREADS "
               "environment variable for each process to be 1 in default, to avoid your "
               "system being overloaded, please further tune the variable for optimal "
               "performance in your application as needed. \n"
               "*****************************************")
#: seconds the launcher waits, after a first failure, for the failing rank to end
CAUSE_GRACE_SECONDS = 10.0


class Shown(NamedTuple):
    """Where one stream of one process goes (torchrun's --redirects, --tee and
    --local-ranks-filter).

    Attributes:
        console: the launcher's stdout or stderr, or None where not shown.
        prefix: put before each line shown (``b"[default0]:"`` for a teed stream).
        log: a file the stream is also written to, or None.
    """

    console: TextIO | None
    prefix: bytes = b""
    log: str | None = None


def _stream(source: IO[bytes], to: Shown, lock: threading.Lock,
            raised: dict[str, float], rank: str, lost: set[str], drained: set[str]) -> None:
    """Copies ``source`` line by line where ``to`` says; records in ``raised[rank]``
    when the process first printed a Python traceback, in ``lost`` a rank that printed
    a collective's lost-peer error, and in ``drained`` a rank whose stream ended."""
    out = getattr(to.console, "buffer", None)
    log = open(to.log, "ab") if to.log else None  # noqa: SIM115 - closed below
    try:
        for line in iter(source.readline, b""):
            with lock:
                if rank not in raised and _TRACEBACK.match(line):
                    raised[rank] = time.monotonic()
                if _PEER_LOST in line:
                    lost.add(rank)
                if log is not None:
                    log.write(line)
                    log.flush()
                if out is not None:
                    out.write(to.prefix + line)
                    out.flush()
                elif to.console is not None:
                    to.console.write((to.prefix + line).decode(errors="replace"))
                    to.console.flush()
    finally:
        with lock:
            drained.add(rank)
        if log is not None:
            log.close()
        source.close()


def _describe(code: int) -> str:
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _first_failure(ended: dict[str, tuple[int, float]], raised: dict[str, float],
                   lock: threading.Lock, lost: set[str] | None = None,
                   drained: set[str] | None = None) -> str:
    """Names the rank that failed first, once a rank has ended with a nonzero status.

    A rank fails when it prints a traceback or ends badly, whichever comes first; a rank
    whose collective reported its peer gone (``lost``) is a cause only where no other
    rank failed. The first to fail is waited for (up to :data:`CAUSE_GRACE_SECONDS`) so
    that its own exit status is the one reported, and its output read to the end
    (``drained``), where its lost-peer error may still be.
    """
    lost = set() if lost is None else lost
    def first() -> str:
        killed = {rank: when for rank, (code, when) in ended.items() if code < 0}
        if killed:  # a signal is always a cause, never a peer's consequence
            return min(killed, key=killed.__getitem__)
        failed = {rank: when for rank, (code, when) in ended.items() if code != 0}
        for rank, when in raised.items():
            if ended.get(rank, (1, 0.0))[0] != 0:  # a traceback it printed and survived
                failed[rank] = min(when, failed.get(rank, when))
        causes = {rank: when for rank, when in failed.items() if rank not in lost}
        return min(causes or failed, key=(causes or failed).__getitem__)

    give_up = time.monotonic() + CAUSE_GRACE_SECONDS
    while True:
        with lock:
            rank = first()
            if rank in ended and (drained is None or rank in drained):
                return f"rank {rank} failed ({_describe(ended[rank][0])})"
        if time.monotonic() > give_up:
            return f"rank {rank} failed (it raised the error printed above)"
        time.sleep(0.05)


def launch(command: Sequence[str] | Callable[[dict[str, str]], Sequence[str]],
           envs: Sequence[dict[str, str]],
           timeout: float | None = None, prog: str = PROG, interval: float = 0.05,
           shown: Sequence[tuple[Shown, Shown]] | None = None) -> int:
    """Runs ``command`` (or ``command(env)``) once per environment; returns 0, or 1
    after stopping them all
    (130 where the launcher was interrupted, as a shell reports a process ended by
    SIGINT); ``prog`` names the launcher in its messages, the processes are checked
    every ``interval`` seconds, and ``shown`` says where each process's standard output
    and error go (default: the launcher's, as they are).

    Every process runs in its own session, so stopping it stops what it started. The
    failure reported is the first in time, where a rank fails when it prints a Python
    traceback or ends with a nonzero status: a rank whose peer died often fails a moment
    later in its collective, and the cause is the peer, even when the peer's own exit
    (JAX's shutdown) takes longer than the other's error.
    """
    lock = threading.Lock()
    procs: list[subprocess.Popen[bytes]] = []
    threads = []
    ranks = [env["RANK"] for env in envs]
    ended: dict[str, tuple[int, float]] = {}  # rank: (exit code, when it ended)
    raised: dict[str, float] = {}  # rank: when it printed a traceback
    lost: set[str] = set()  # ranks whose collective reported a lost peer
    drained: set[str] = set()  # ranks whose standard error ended
    deadline = None if timeout is None else time.monotonic() + timeout
    failure = None

    def watch(proc: subprocess.Popen[bytes], rank: str) -> None:
        code = proc.wait()
        with lock:
            ended[rank] = (code, time.monotonic())

    # Ctrl-C and SIGTERM set an event the loop reads, rather than raising wherever the
    # main thread happens to be (inside a lock it then never releases, or a thread start).
    stopping = threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            if signal.getsignal(signum) is not signal.SIG_IGN:  # nohup's choice kept
                previous[signum] = signal.signal(signum, lambda *_: stopping.set())
    try:
        plain = (Shown(sys.stdout), Shown(sys.stderr))
        for i, (env, rank) in enumerate(zip(envs, ranks, strict=True)):
            if stopping.is_set():
                break
            argv = command(env) if callable(command) else command
            proc = subprocess.Popen(list(argv), env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, start_new_session=True)
            procs.append(proc)
            out, err = plain if shown is None else shown[i]
            for target, args in ((_stream, (proc.stdout, out, lock, raised, rank, lost,
                                             set())),
                                 (_stream, (proc.stderr, err, lock, raised, rank, lost,
                                             drained)),
                                 (watch, (proc, rank))):
                thread = threading.Thread(target=target, args=args, daemon=True)
                thread.start()
                threads.append(thread)
        while failure is None:
            with lock:
                done = dict(ended)
            if stopping.is_set():
                failure = "interrupted"
            elif any(code != 0 for code, _ in done.values()):
                failure = _first_failure(ended, raised, lock, lost, drained)
            elif len(done) == len(procs):
                break
            elif deadline is not None and time.monotonic() > deadline:
                running = [r for r in ranks if r not in done]
                failure = (f"timed out after {timeout:g} s with rank(s) {', '.join(running)} "
                           "still running")
            else:
                stopping.wait(interval)
    finally:
        running = [r for r, p in zip(ranks, procs, strict=False) if p.poll() is None]
        for proc in procs:
            _kill(proc)
        for thread in threads:
            thread.join(timeout=5)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if failure is None:
        return 0
    stopped = f"; stopped rank(s) {', '.join(running)}" if running else ""
    print(f"{prog}: {failure}{stopped}", file=sys.stderr, flush=True)
    return 130 if failure == "interrupted" else 1


def main(argv: Sequence[str] | None = None, prog: str = PROG,
         legacy: bool = False) -> int:
    """Parses the flags and runs the script; returns the exit status. ``legacy``: the
    flags and arguments of ``torch.distributed.launch`` (see
    :mod:`fnnet.torch.distributed.launch`)."""
    parser = build_parser(prog)
    if legacy:
        parser.add_argument("--use-env", "--use_env", action="store_true",
                            help="pass the local rank in LOCAL_RANK alone, not as the "
                                 "script's --local-rank argument")
    args = parser.parse_args(argv)
    if legacy and args.no_python and not args.use_env:
        parser.error("When using the '--no-python' flag, you must also set the "
                     "'--use-env' flag.")
    if args.max_restarts != 0:
        parser.error("--max-restarts must be 0: fnnet does not restart failed runs")
    if not 0 <= args.node_rank < args.nnodes:
        parser.error(f"--node-rank must be in [0, {args.nnodes}), got {args.node_rank}")
    if not args.monitor_interval > 0:
        parser.error(f"--monitor-interval must be positive, got {args.monitor_interval}")
    try:
        args.nproc_per_node = local_world_size(
            args.nproc_per_node, cpu_only=args.cpu_devices_per_process is not None)
        envs = _environments(args)
    except ValueError as error:
        parser.error(str(error))
    if args.no_python:
        start = [args.script]
    elif args.module:
        start = [sys.executable, "-u", "-m", args.script]
    else:
        start = [sys.executable, "-u", args.script]

    def command(env: dict[str, str]) -> list[str]:
        # torch.distributed.launch passes the local rank as an argument, before the rest
        rank = [f"--local-rank={env['LOCAL_RANK']}"] if legacy and not args.use_env else []
        return [*start, *rank, *args.script_args]

    return launch(command, envs, args.timeout, prog, args.monitor_interval,
                  destinations(args, envs))


if __name__ == "__main__":
    sys.exit(main())
