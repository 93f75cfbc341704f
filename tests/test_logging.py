"""fit's callbacks: what a user callback and the JSONL writer receive, and bad arguments."""

from __future__ import annotations

import json
import re

import jax.numpy as jnp
import numpy as np
import optax
import pytest

from fnnet import data, models, optim
from fnnet.train import Callback, JSONLWriter, fit
from fnnet.train.callbacks import HistoryWriter, RunInfo, TensorBoardWriter

EPOCHS = 2
BATCH = 32
STEPS_PER_EPOCH = 1438 // BATCH  # the bundled digits' training split


def schedule(count):
    """Halves the learning rate every 20 steps (an optax schedule)."""
    return 0.01 * 0.5 ** (count // 20)


class Recorder(Callback):
    """Keeps everything fit tells it."""

    def __init__(self):
        self.events = []

    def on_begin(self, run):
        self.events.append(("begin", run))

    def on_step(self, step, metrics):
        self.events.append(("step", step, dict(metrics)))

    def on_epoch(self, epoch, step, record, state):
        self.events.append(("epoch", epoch, step, dict(record), int(state.step)))

    def on_end(self, history, phases):
        self.events.append(("end", {k: list(v) for k, v in history.items()}, dict(phases)))


@pytest.fixture(scope="module")
def digits():
    (x, y), (tx, ty) = data.load("digits", "train"), data.load("digits", "test")
    return (x.reshape(len(x), -1), y), (tx.reshape(len(tx), -1), ty)


@pytest.fixture(scope="module")
def run(digits, tmp_path_factory):
    """A two-epoch fit with a Recorder and a JSONLWriter, lr from a schedule."""
    train, test = digits
    path = tmp_path_factory.mktemp("jsonl") / "metrics.jsonl"
    recorder = Recorder()
    model = models.MLP((64, 32, 10))
    state, history = fit(model, optim.SGD(lr=schedule, momentum=0.9), train,
                         eval_data=test, epochs=EPOCHS, batch_size=BATCH, progress=False,
                         log_every=10, callbacks=[recorder, JSONLWriter(path)],
                         log_lr=schedule)
    return model, recorder.events, history, path


def test_callback_sees_begin_every_step_each_epoch_and_end(run):
    model, events, history, _ = run
    kinds = [e[0] for e in events]
    assert kinds[0] == "begin" and kinds[-1] == "end"
    info = events[0][1]
    assert isinstance(info, RunInfo)
    assert (info.model, info.epochs, info.first_epoch, info.first_step, info.steps_per_epoch,
            info.batch_size, info.logdir) == (model, EPOCHS, 0, 0, STEPS_PER_EPOCH, BATCH, None)
    steps = [e for e in events if e[0] == "step"]
    assert [e[1] for e in steps] == list(range(1, EPOCHS * STEPS_PER_EPOCH + 1))
    epochs = [e for e in events if e[0] == "epoch"]
    assert [(e[1], e[2], e[4]) for e in epochs] == [
        (i, STEPS_PER_EPOCH * (i + 1), STEPS_PER_EPOCH * (i + 1)) for i in range(EPOCHS)]
    # each epoch is reported after its steps and before the next epoch's
    assert kinds.index("epoch") == 1 + STEPS_PER_EPOCH
    for name, values in history.items():
        assert [e[3][name] for e in epochs] == values
    assert events[-1][1] == history
    assert set(events[-1][2]) == {"compile", "data", "step", "host sync", "evaluation",
                                  "checkpoint", "logging"}
    assert events[-1][2]["evaluation"] > 0 and events[-1][2]["checkpoint"] == 0


def test_step_metrics_are_the_steps_own(run):
    _, events, history, _ = run
    steps = [e[2] for e in events if e[0] == "step"]
    for epoch in range(EPOCHS):
        epoch_steps = steps[epoch * STEPS_PER_EPOCH:(epoch + 1) * STEPS_PER_EPOCH]
        # the epoch's loss is the mean of its steps' losses
        assert np.mean([m["loss"] for m in epoch_steps]) == pytest.approx(
            history["loss"][epoch], rel=1e-6)
        assert np.mean([m["accuracy"] for m in epoch_steps]) == pytest.approx(
            history["accuracy"][epoch], rel=1e-6)
    # the lr of step s is the schedule at the optimizer's count s - 1
    assert [m["lr"] for m in steps] == [float(np.float32(schedule(s)))
                                        for s in range(len(steps))]
    # the interval timings come with the last step of each fetch, never with the
    # interval that compiled the step
    timed = [i + 1 for i, m in enumerate(steps) if "ms_per_step" in m]
    assert timed and all(s > 10 for s in timed)
    assert all(steps[s - 1]["ms_per_step"] > 0 and steps[s - 1]["examples_per_second"] > 0
               for s in timed)


def test_jsonl_lines_match_the_callback(run):
    _, events, _, path = run
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    expected = []
    for event in events:
        if event[0] == "step":
            expected.append({"step": event[1], **event[2]})
        elif event[0] == "epoch":
            expected.append({"epoch": event[1], "step": event[2], **event[3]})
    assert lines == expected


def test_injected_lr_is_reported(digits):
    recorder = Recorder()
    optimizer = optax.inject_hyperparams(optim.SGD)(lr=0.05)
    fit(models.MLP((64, 10)), optimizer, digits[0], epochs=1, batch_size=BATCH,
        progress=False, log_every=10, callbacks=[recorder])
    steps = [e[2] for e in recorder.events if e[0] == "step"]
    with_lr = [m["lr"] for m in steps if "lr" in m]
    # read from the optimizer state at each fetch: every 10 steps and at the epoch's end
    assert with_lr == [pytest.approx(0.05)] * len(with_lr) and len(with_lr) == 5


def test_callbacks_are_told_when_fit_stops_with_an_error(digits):
    x, y = digits[0]
    bad = x.copy()
    bad[40] = np.inf  # refused before any step: on_begin is not reached either
    recorder = Recorder()
    with pytest.raises(ValueError, match="non-finite"):
        fit(models.MLP((64, 10)), optim.SGD(lr=0.1), (bad, y), epochs=1, progress=False,
            callbacks=[recorder])
    assert recorder.events == []

    class Stop(Callback):
        def on_step(self, step, metrics):
            if step == 5:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit(models.MLP((64, 10)), optim.SGD(lr=0.1), (x, y), epochs=1, progress=False,
            log_every=1, callbacks=[Stop(), recorder])
    assert recorder.events[-1][0] == "end"  # writers close their files


def test_a_history_file_that_cannot_be_written_fails_before_any_step(digits, tmp_path):
    (tmp_path / "h.json.tmp").mkdir()  # where the writer saves before replacing the file
    recorder = Recorder()
    with pytest.raises(IsADirectoryError):
        fit(models.MLP((64, 10)), optim.SGD(lr=0.1), digits[0], epochs=1, progress=False,
            callbacks=[recorder, HistoryWriter(tmp_path / "h.json")])
    assert [event[0] for event in recorder.events if event[0] == "step"] == []


class FullDisk(Callback):
    """A writer whose last flush fails, as an event writer does on a full disk."""

    def on_end(self, history, phases):
        raise OSError(28, "No space left on device")


def test_a_callback_failing_at_the_end_neither_hides_the_runs_error_nor_skips_others(digits):
    x, y = digits[0]

    class Stop(Callback):
        def on_step(self, step, metrics):
            if step == 3:
                raise ValueError("the run's own error")

    recorder = Recorder()
    with pytest.warns(RuntimeWarning, match="No space left"), \
            pytest.raises(ValueError, match="the run's own error"):
        fit(models.MLP((64, 10)), optim.SGD(lr=0.1), (x, y), epochs=1, progress=False,
            log_every=1, callbacks=[Stop(), FullDisk(), recorder])
    assert recorder.events[-1][0] == "end"
    # After a run that finished, the callback's error is the error.
    recorder = Recorder()
    with pytest.raises(OSError, match="No space left"):
        fit(models.MLP((64, 10)), optim.SGD(lr=0.1), (x[:64], y[:64]), epochs=1,
            progress=False, callbacks=[FullDisk(), recorder])
    assert recorder.events[-1][0] == "end"


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(callbacks=[print]), TypeError, r"callbacks\[0\] must be a fnnet.train.Callback"),
    (dict(callbacks="tb"), TypeError, "callbacks must be a list"),
    (dict(logdir=3), TypeError, "logdir must be a path, got int"),
    (dict(logdir=""), ValueError, "logdir must be a path, got '' \\(use '.' for the working "),
    (dict(profile=5), ValueError, "profile needs a logdir"),
    (dict(profile=0, logdir="x"), ValueError, "profile must be a positive int"),
    (dict(progress="bar"), ValueError, "progress must be True, False or 'epochs'"),
    (dict(log_lr="0.1"), TypeError, "log_lr must be a float, a schedule"),
    (dict(callbacks=[type("EpochOnly", (Callback,), {
        "on_epoch": lambda self, epoch, record: None})()]), TypeError,
     re.escape("callbacks[0]: EpochOnly.on_epoch must take (epoch, step, record, state), as "
               "fit calls it; it is defined as on_epoch(epoch, record)")),
])
def test_bad_logging_arguments(digits, kwargs, error, message):
    with pytest.raises(error, match=message):
        fit(models.MLP((64, 10)), optim.SGD(lr=0.1), digits[0], **kwargs)


@pytest.mark.parametrize("make, message", [
    (lambda: TensorBoardWriter(None), "logdir must be a path"),
    (lambda: TensorBoardWriter("x", every_n_steps=0), "every_n_steps must be a positive int"),
    (lambda: TensorBoardWriter("x", flush_secs=0), "flush_secs must be a positive number of "
                                                   "seconds, got 0"),
    (lambda: TensorBoardWriter("x", flush_secs="10"), "flush_secs must be a positive number"),
    (lambda: HistoryWriter(1.5), "path must be a path"),
    (lambda: JSONLWriter(["a"]), "path must be a path"),
    (lambda: TensorBoardWriter(""), "logdir must be a path, got ''"),
    (lambda: HistoryWriter(" "), "path must be a path, got ' '"),
    (lambda: HistoryWriter("."), "path must be a file's path, got the folder '.'"),
    (lambda: JSONLWriter("."), "path must be a file's path, got the folder '.'"),
])
def test_bad_writer_arguments(make, message):
    with pytest.raises((TypeError, ValueError), match=message):
        make()


def test_every_n_steps_thins_the_step_scalars(digits, tmp_path):
    writer = HistoryWriter(tmp_path / "h.json", every_n_steps=10)
    fit(models.MLP((64, 10)), optim.SGD(lr=0.1), digits[0], epochs=1, batch_size=BATCH,
        progress=False, callbacks=[writer])
    saved = json.loads((tmp_path / "h.json").read_text())
    assert [s for s, _ in saved["scalars"]["step/loss"]] == [10, 20, 30, 40]
    assert [s for s, _ in saved["scalars"]["epoch/loss"]] == [STEPS_PER_EPOCH]
    assert jnp.isfinite(saved["history"]["loss"][0])


def _reported(writer, first, last, epoch_every=None):
    """Steps ``first..last`` told to ``writer``, a checkpoint after each."""
    for step in range(first, last + 1):
        writer.on_step(step, {"loss": 1.0 / step})
        if epoch_every and step % epoch_every == 0:
            writer.on_epoch(step // epoch_every - 1, step, {"loss": 2.0 / step}, None)
        writer.on_checkpoint(step)


def _begun(path, first_step=0, first_epoch=0):
    writer = HistoryWriter(path)
    writer.on_begin(RunInfo(None, None, 9, first_epoch, first_step, None, 1))
    return writer


def test_a_checkpoint_appends_only_the_new_values(tmp_path):
    # a checkpoint every step: each appends one line of that step's values, and the
    # snapshot is written only when the run begins (and SAVE_EVERY_SECONDS after)
    from fnnet.train.history_file import read_history

    path = tmp_path / "h.json"
    writer = _begun(path)
    _reported(writer, 1, 12, epoch_every=4)
    lines = (tmp_path / "h.json.journal").read_text().splitlines()
    payloads = [json.loads(line.split(" ", 1)[1]) for line in lines[1:]]
    assert [p["scalars"]["step/loss"] for p in payloads] == [[[s, 1.0 / s]] for s in
                                                             range(1, 13)]
    assert json.loads(path.read_text())["scalars"] == {}
    record = read_history(path)
    assert [s for s, _ in record["scalars"]["step/loss"]] == list(range(1, 13))
    assert record["history"]["loss"] == [0.5, 0.25, 2.0 / 12]
    writer.on_end(record["history"], {"step": 1.5})  # one snapshot holds it all
    assert not (tmp_path / "h.json.journal").exists()
    assert json.loads(path.read_text())["scalars"] == record["scalars"]


def _damaged(path, line, cut):
    """Line ``line`` of ``path``'s journal changed: cut short, or a digit changed."""
    journal = path.with_name(path.name + ".journal")
    lines = journal.read_text().splitlines(keepends=True)
    line %= len(lines)
    lines[line] = lines[line][:len(lines[line]) // 2] if cut else \
        lines[line].replace("0.", "9.", 1)
    journal.write_text("".join(lines[:line + 1] if cut else lines))


@pytest.mark.parametrize(("line", "cut", "resume_at", "kept"), [
    (-1, True, 11, 11),    # killed while appending step 12's line: the checkpoint was 11
    (-1, False, 11, 11),   # the last line's bytes damaged past the checkpoint
    (4, False, 12, 12),    # a line the snapshot holds already
    (-1, True, 12, None),  # a line the resumed step needs, cut short
    (11, False, 12, None),  # a line after the snapshot changed
])
def test_a_damaged_journal_is_found_when_read(tmp_path, line, cut, resume_at, kept):
    from fnnet.train.history_file import HistoryDamagedError, read_history

    path = tmp_path / "h.json"
    writer = _begun(path)
    _reported(writer, 1, 9)
    writer.save()  # a snapshot mid-run: the lines after it add to it
    _reported(writer, 10, 12)
    writer._journal.close()
    _damaged(path, line, cut)
    if kept is None:
        with pytest.raises(HistoryDamagedError, match=r"h\.json\.journal': line \d+ is "
                           r"damaged or out of order \(the record before it reaches step "
                           rf"\d+; the run resumes from step {resume_at}\)"):
            read_history(path, resume_at)
        with pytest.warns(RuntimeWarning, match="could not be read to resume it .*line"):
            resumed = _begun(path, first_step=resume_at)
        assert resumed.scalars == {}
    else:
        resumed = _begun(path, first_step=resume_at)
        assert resumed.scalars["step/loss"][0] == list(range(1, kept + 1))
