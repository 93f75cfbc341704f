"""Edges of ``fit`` that users meet: a resumed run's logs equal an uninterrupted run's,
one step numbering for errors, callbacks and logs, a Checkpointer that saved nothing
exits quietly, and data-parallel steps reused across ``fit`` calls."""

from __future__ import annotations

import contextlib
import io
import json
import os
import pathlib
import subprocess
import sys

import jax
import numpy as np
import pytest

from fnnet import data, models, optim
from fnnet.train import Callback, JSONLWriter, NonFiniteLossError, fit
from fnnet.train.callbacks import INTERVAL_METRICS

BATCH = 32
STEPS_PER_EPOCH = 10  # 320 digits, batch 32
#: what differs between two runs of the same computation: wall-clock figures
CLOCK_TAGS = {*(f"step/{name}" for name in INTERVAL_METRICS), "epoch/seconds",
              "epoch/examples_per_second"}


class Interrupt(Exception):
    """Stands for a crash: raised by the data in the middle of an epoch."""


@pytest.fixture(scope="module")
def digits():
    x, y = data.load("digits", "train")
    return x[:STEPS_PER_EPOCH * BATCH], y[:STEPS_PER_EPOCH * BATCH]


def _batches(digits, crash_at=None, kill=False):
    """``epoch -> batches`` over ``digits``; raises Interrupt before the run's
    ``crash_at``-th batch (counted over every epoch), or with ``kill`` ends the process
    there at once, as SIGKILL would (no ``finally``, no callback's ``on_end``)."""
    x, y = digits
    read = 0

    def epoch_batches(epoch):
        nonlocal read
        for batch in data.batches(x, y, BATCH, seed=1, epoch=epoch, drop_last=True):
            if read == crash_at:
                if kill:
                    sys.stdout.flush()
                    os._exit(3)
                raise Interrupt
            read += 1
            yield batch

    return epoch_batches


def _run(train_data, logdir, checkpoint_dir, out=None, **kwargs):
    """``fit`` with its printed lines captured in ``out``: ``(history, lines)``, the
    lines without their wall-clock parts (``ex/s`` and the phase summary) and the run's
    epoch count (``epoch 2/3:`` -> ``epoch 2:``)."""
    out = io.StringIO() if out is None else out
    with contextlib.redirect_stdout(out):
        _, history = fit(models.MLP((64, 16, 10)), optim.SGD(lr=0.1, momentum=0.9),
                         train_data, batch_size=BATCH, seed=1, progress="epochs",
                         logdir=logdir, checkpoint_dir=checkpoint_dir, log_every=3,
                         callbacks=[JSONLWriter(logdir / "metrics.jsonl")], **kwargs)
    return history, _lines(out)


def _lines(out):
    lines = [line for line in out.getvalue().splitlines() if line.startswith("epoch ")]
    return [line.split("/", 1)[0] + ":" + line.split(":", 1)[1].rsplit(", ", 1)[0]
            for line in lines]


def _history_file(logdir):
    """history.json's scalars but the wall-clock ones, as ``{tag: [[step, value]...]}``."""
    saved = json.loads((logdir / "history.json").read_text())
    return {tag: pairs for tag, pairs in saved["scalars"].items() if tag not in CLOCK_TAGS}


def _jsonl(logdir):
    """metrics.jsonl's lines but their wall-clock entries."""
    clock = {*INTERVAL_METRICS, "seconds"}
    lines = (logdir / "metrics.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k not in clock} for line in lines]


def _tensorboard(logdir):
    """The scalars TensorBoard shows, ``{tag: [(step, value)...]}`` (its reader drops what
    an earlier file logged past a later session's start), but the wall-clock ones."""
    accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator",
        reason="the tensorboard package is in the test extra")
    events = accumulator.EventAccumulator(str(logdir), size_guidance={"scalars": 0})
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)]
            for tag in events.Tags()["scalars"] if tag not in CLOCK_TAGS}


@pytest.fixture(scope="module")
def reference(digits, tmp_path_factory):
    """An uninterrupted run of 3 epochs: ``(logdir, history, lines)``."""
    root = tmp_path_factory.mktemp("reference")
    history, lines = _run(_batches(digits), root / "logs", root / "ckpt", epochs=3,
                          every_n_steps=4)
    return root / "logs", history, lines


def _assert_logs_equal(logdir, history, lines, reference):
    ref_logdir, ref_history, ref_lines = reference
    assert lines == ref_lines
    assert len(lines) == 3
    clock = {"seconds", "examples_per_second"}
    assert ({k: v for k, v in history.items() if k not in clock}
            == {k: v for k, v in ref_history.items() if k not in clock})
    assert _history_file(logdir) == _history_file(ref_logdir)
    assert _jsonl(logdir) == _jsonl(ref_logdir)
    served = _tensorboard(logdir)
    assert served == _tensorboard(ref_logdir)
    steps = [step for step, _ in served["step/loss"]]
    assert steps == list(range(1, 3 * STEPS_PER_EPOCH + 1))  # each once
    assert [step for step, _ in served["epoch/loss"]] == [10, 20, 30]


def test_resume_from_an_end_of_epoch_checkpoint_reports_each_epoch_once(
        digits, reference, tmp_path):
    logdir, checkpoints = tmp_path / "logs", tmp_path / "ckpt"
    _, first = _run(_batches(digits), logdir, checkpoints, epochs=1)
    history, rest = _run(_batches(digits), logdir, checkpoints, epochs=3, resume=True,
                         every_n_steps=4)
    _assert_logs_equal(logdir, history, first + rest, reference)


def test_resume_mid_epoch_reports_that_epoch_once_and_complete(digits, reference, tmp_path):
    logdir, checkpoints = tmp_path / "logs", tmp_path / "ckpt"
    out = io.StringIO()
    with pytest.raises(Interrupt):
        # crashes at step 18 (epoch 1, batch 8): the last checkpoint is step 16, and
        # steps 17 and 18 are logged already
        _run(_batches(digits, crash_at=18), logdir, checkpoints, out, epochs=3,
             every_n_steps=4)
    history, rest = _run(_batches(digits), logdir, checkpoints, epochs=3, resume=True,
                         every_n_steps=4)
    _assert_logs_equal(logdir, history, _lines(out) + rest, reference)


_KILLED_RUN = """
import sys
sys.path.insert(0, sys.argv[1])
import test_fit_edges as t
from fnnet import data
x, y = data.load("digits", "train")
digits = x[:t.STEPS_PER_EPOCH * t.BATCH], y[:t.STEPS_PER_EPOCH * t.BATCH]
t._run(t._batches(digits, crash_at=int(sys.argv[4]), kill=True), t.pathlib.Path(sys.argv[2]),
       t.pathlib.Path(sys.argv[3]), sys.stdout, epochs=3, every_n_steps=4)
"""


@pytest.mark.parametrize("killed_at", [18, pytest.param(26, marks=pytest.mark.slow)])
def test_a_killed_runs_logs_are_kept_up_to_its_checkpoint(digits, reference, tmp_path,
                                                          killed_at):
    # Killed at step 18 (epoch 1) or 26 (epoch 2): nothing ends the writers, yet what
    # they hold up to the last checkpoint (16 or 24) is on disk and kept.
    logdir, checkpoints = tmp_path / "logs", tmp_path / "ckpt"
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    killed = subprocess.run([sys.executable, "-c", _KILLED_RUN, str(pathlib.Path(__file__).parent),
                             str(logdir), str(checkpoints), str(killed_at)],
                            capture_output=True, text=True, timeout=300, env=env)
    assert killed.returncode == 3, killed.stderr[-3000:]
    history, rest = _run(_batches(digits), logdir, checkpoints, epochs=3, resume=True,
                         every_n_steps=4)
    _assert_logs_equal(logdir, history, _lines(io.StringIO(killed.stdout)) + rest, reference)


def test_resume_at_an_epochs_last_step_saved_by_every_n_steps(digits, reference, tmp_path):
    # every_n_steps=5 saves step 10, the first epoch's last: that checkpoint must hold
    # the finished epoch, or the resumed run reports it again.
    logdir, checkpoints = tmp_path / "logs", tmp_path / "ckpt"
    out = io.StringIO()
    with pytest.raises(Interrupt):
        _run(_batches(digits, crash_at=12), logdir, checkpoints, out, epochs=3,
             every_n_steps=5)
    history, rest = _run(_batches(digits), logdir, checkpoints, epochs=3, resume=True,
                         every_n_steps=4)
    _assert_logs_equal(logdir, history, _lines(out) + rest, reference)


def test_a_history_file_that_cannot_be_read_is_replaced_with_a_warning(digits, tmp_path):
    logdir, checkpoints = tmp_path / "logs", tmp_path / "ckpt"
    _run(_batches(digits), logdir, checkpoints, epochs=1)
    (logdir / "history.json").write_text("{not json")
    with pytest.warns(RuntimeWarning, match="history.json' could not be read to resume "
                                            "it .*; it will hold this run's scalars only"):
        _run(_batches(digits), logdir, checkpoints, epochs=2, resume=True)
    steps = [s for s, _ in _history_file(logdir)["step/loss"]]
    assert steps == list(range(STEPS_PER_EPOCH + 1, 2 * STEPS_PER_EPOCH + 1))


def test_resuming_a_finished_run_trains_and_reports_nothing(digits, tmp_path):
    logdir, checkpoints = tmp_path / "logs", tmp_path / "ckpt"
    history, lines = _run(_batches(digits), logdir, checkpoints, epochs=2)
    again, more = _run(_batches(digits), logdir, checkpoints, epochs=2, resume=True)
    assert more == [] and again == history
    with pytest.raises(ValueError, match="at the end of epoch 2, beyond epochs=1"):
        _run(_batches(digits), logdir, checkpoints, epochs=1, resume=True)


# ------------------------------------------------------------ step numbering


class Steps(Callback):
    """Records the steps the callbacks are told of."""

    def __init__(self):
        self.steps = []

    def on_step(self, step, metrics):
        self.steps.append(step)


def test_only_process_0_writes_the_logs_and_the_trace(digits, tmp_path, monkeypatch):
    """With several processes every one computes the same metrics: process 0 writes them
    (and the profile trace, whose file name is the host's) as it writes checkpoints."""
    monkeypatch.setattr(jax, "process_index", lambda *args: 1)
    seen = Steps()
    fit(models.MLP((64, 16, 10)), optim.SGD(lr=0.1), digits, epochs=1, batch_size=BATCH,
        progress=False, logdir=tmp_path / "logs", profile=2, callbacks=[seen])
    assert seen.steps == list(range(1, STEPS_PER_EPOCH + 1))  # the callbacks still run
    assert not (tmp_path / "logs").exists()


@pytest.mark.parametrize("steps_per_call", [1, 4])
def test_a_non_finite_step_has_the_number_the_callbacks_and_logs_give_it(
        digits, steps_per_call):
    x, y = digits
    batches = [(np.array(bx), by) for bx, by in
               data.batches(x, y, BATCH, seed=0, epoch=0, drop_last=True)]
    batches[6][0][3, 0, 2, 2] = np.nan  # the seventh batch: step 7
    seen = Steps()
    with pytest.raises(NonFiniteLossError, match=r"non-finite loss or gradient at step 7 "
                                                 r"\(loss nan;") as error:
        fit(models.MLP((64, 16, 10)), optim.SGD(lr=0.1), lambda epoch: batches,
            progress=False, log_every=4, steps_per_call=steps_per_call, callbacks=[seen])
    assert error.value.step == 7
    # steps 1-6 were taken and are reported, whichever fetch they came with
    assert seen.steps == [1, 2, 3, 4, 5, 6]


def test_the_cli_names_the_step_its_logs_end_before(capsys, tmp_path):
    from fnnet import cli

    status = cli.main(["train", "--lr", "1e30", "--epochs", "1", "--quiet",
                       "--out", str(tmp_path)])
    err = capsys.readouterr().err.splitlines()
    assert status == 1
    # Adam's first update (lr 1e30) leaves finite weights whose outputs overflow: step 1
    # is taken and logged, step 2 is the first non-finite one.
    assert err[-1].startswith("fnnet train: error: non-finite loss or gradient at step 2 "
                              "(loss nan;"), err
    saved = json.loads((tmp_path / "history.json").read_text())
    assert [step for step, _ in saved["scalars"]["step/loss"]] == [1]
    assert np.isfinite(saved["scalars"]["step/loss"][0][1])


# ------------------------------------------------------------ checkpointer at exit

_OPEN_AND_EXIT = """
import sys
from fnnet.checkpoint import Checkpointer
folder = sys.argv[1]
if sys.argv[2] == "close":
    Checkpointer(folder).close()
elif sys.argv[2] == "with":
    with Checkpointer(folder) as checkpointer:
        checkpointer.latest_step()
elif sys.argv[2] == "save":
    import jax
    from fnnet import models, optim
    from fnnet.train import create_train_state
    with Checkpointer(folder) as checkpointer:
        checkpointer.save(create_train_state(models.MLP((4, 2)), optim.SGD(lr=0.1),
                                             jax.random.key(0)))
else:  # left open: the process exits with it
    Checkpointer(folder)
"""


@pytest.mark.parametrize("how", ["close", *(pytest.param(how, marks=pytest.mark.slow)
                                            for how in ("with", "open", "save"))])
def test_a_checkpointer_exits_silently(tmp_path, how):
    # A temporary folder of a killed save: the writer removes it before it returns.
    (tmp_path / "ckpt" / "4.orbax-checkpoint-tmp-1700000000").mkdir(parents=True)
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    done = subprocess.run([sys.executable, "-c", _OPEN_AND_EXIT, str(tmp_path / "ckpt"),
                           how], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0
    assert done.stderr == "" and done.stdout == ""
    left = sorted(p.name for p in (tmp_path / "ckpt").iterdir())
    assert left == (["0"] if how == "save" else [])


# ------------------------------------------------------------ data-parallel steps reused


def _count_compiles():
    from test_step_cache import counting_compiles

    return counting_compiles()


@pytest.mark.skipif(len(jax.devices()) < 8, reason="needs 8 (simulated) devices: "
                    "XLA_FLAGS=--xla_force_host_platform_device_count=8 (tests/conftest.py)")
def test_repeated_data_parallel_fit_compiles_once(digits):
    x, y = digits
    eval_data = (x[:100], y[:100])

    def run(devices):
        return fit(models.MLP((64, 16, 10)), optim.SGD(lr=0.1, momentum=0.9), (x, y),
                   eval_data=eval_data, batch_size=BATCH, devices=devices, epochs=1,
                   progress=False, steps_per_call=2)

    first, _ = run(8)
    with _count_compiles() as counts:
        again, _ = run(8)
    assert counts["compiles"] == 0
    for a, b in zip(jax.tree.leaves(first.params), jax.tree.leaves(again.params),
                    strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # Another mesh (other devices, so other shardings) is another step.
    with _count_compiles() as counts:
        run(4)
    assert counts["compiles"] > 0


@pytest.mark.parametrize("which", ["train_data", "eval_data"])
def test_inputs_of_the_wrong_width_are_named_by_the_data_shape(which):
    # The check ran the model on a one-example sample and named its shape, (1, 5).
    x = np.zeros((12, 16), np.float32)
    y = np.zeros(12, np.int32)
    bad = (np.zeros((10, 5), np.float32), np.zeros(10, np.int32))
    args = dict(train_data=bad) if which == "train_data" else dict(
        train_data=(x, y), eval_data=bad)
    with pytest.raises(ValueError, match=r"^fc1: Linear\(in_features=16, out_features=8, "
                       r"bias=True\): expected input with 16 at axis 1, got shape \(10, 5\)"):
        fit(models.MLP((16, 8, 4)), optim.SGD(lr=0.1), args.pop("train_data"),
            batch_size=4, progress=False, **args)


def test_steps_per_call_takes_a_callables_short_last_batch():
    # np.stack of a 16-row and a 12-row batch raised numpy's "all input arrays must have
    # the same shape"; the group before the short batch now runs step by step.
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(60, 16)).astype(np.float32), rng.integers(0, 4, 60)
    runs = [fit(models.MLP((16, 8, 4)), optim.SGD(lr=0.1),
                lambda epoch: data.batches(x, y, 16, seed=0, epoch=epoch), epochs=2,
                steps_per_call=k, progress=False) for k in (1, 2, 3)]
    for state, history in runs[1:]:
        np.testing.assert_allclose(history["loss"], runs[0][1]["loss"], rtol=1e-6)
        for a, b in zip(jax.tree.leaves(state.params), jax.tree.leaves(runs[0][0].params),
                        strict=True):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-7)
