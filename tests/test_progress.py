"""fnnet train's progress bar: drawn on a terminal (a pseudo-terminal here), moving
within the digits' 44-step epochs with a total, a rate and an ETA; hidden by --quiet."""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import time

from fnnet import cli

EPOCHS = 2
TOTAL = EPOCHS * 44  # steps of the run: the bundled digits, batch 32


def _run_in_pty(args: list[str], timeout: float = 300) -> str:
    """Runs ``args`` with stdout and stderr on a 120-column pseudo-terminal; returns all
    it wrote."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=follower,
                               stderr=follower, close_fds=True)
    os.close(follower)
    chunks = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: the process has exited
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(leader)
    output = b"".join(chunks).decode(errors="replace")
    assert process.returncode == 0, output
    return output


def test_bar_on_a_terminal_has_a_total_and_moves_within_the_first_epoch(tmp_path):
    output = _run_in_pty([sys.executable, "-m", "fnnet.cli", "train", "--epochs",
                          str(EPOCHS), "--out", str(tmp_path)])
    # the epoch's line (the bar's description reads "epoch 1/2:" too)
    first_epoch, _, rest = output.partition("epoch 1/2: accuracy ")
    assert rest, output
    # before the first epoch's line: the bar with the run's total, and a step finished
    counts = [int(n) for n in re.findall(rf"(\d+)/{TOTAL} \[", first_epoch)]
    assert counts and max(counts) >= 1, first_epoch
    # its running loss and accuracy, and a rate and an ETA once steps have been timed
    assert re.search(r"loss=\d\.\d{4}, accuracy=\d\.\d{4}", output), output
    assert re.search(rf"\d+/{TOTAL} \[\d\d:\d\d<\d\d:\d\d, +\d+(\.\d+)?step/s", output), output
    # the epoch lines and the results are printed as without a terminal
    assert "epoch 2/2: accuracy " in rest and "test accuracy: " in rest and "time: compile " in rest


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_quiet_hides_the_bar_not_the_results(tmp_path):
    out, err = _Terminal(), _Terminal()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert cli.main(["train", "--epochs", "1", "--quiet", "--out", str(tmp_path)]) == 0
    assert err.getvalue() == ""
    assert "epoch 1/1: " in out.getvalue() and "test accuracy: " in out.getvalue()
    assert "step/s" not in out.getvalue()
