"""TensorBoard event files, read back by a real TensorBoard server over its HTTP API.

One ``fnnet train`` run (with ``--profile``), one script using the shim's
``SummaryWriter`` and one ``fnnet compare`` write into one folder; a TensorBoard server
started on a free 127.0.0.1 port over it serves what the tests compare with the run's
``history.json``, with what the script wrote and with the comparison's losses. The
server is stopped in every case.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import pathlib
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import numpy as np
import pytest

from fnnet import cli

pytest.importorskip("tensorboard", reason="the tensorboard server is in the test extra "
                    "(pip install -e '.[test]')")

EPOCHS = 2
STEPS_PER_EPOCH = 44  # the bundled digits: 1,438 training images, batch 32
PROFILE_STEPS = 5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """A folder holding the runs ``train`` (fnnet train) and ``shim`` (SummaryWriter)."""
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="module")
def train_run(root):
    """``fnnet train`` on the digits with --profile, its stdout and stderr captured
    (neither a terminal)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(["train", "--epochs", str(EPOCHS), "--out", str(root / "train"),
                           "--profile", str(PROFILE_STEPS)])
    assert status == 0, err.getvalue()
    return root / "train", out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def shim_run(root):
    """What a PyTorch script writes with ``fnnet.torch.utils.tensorboard``: its
    hyperparameters logged into the run itself through ``file_writer``, and a run
    killed in the middle of writing an event (its file cut short) then resumed."""
    import fnnet.torch as torch
    from fnnet.torch.utils.tensorboard import SummaryWriter
    from fnnet.torch.utils.tensorboard.summary import hparams

    written = {"loss": [(i, 1.0 / (i + 1)) for i in range(10)]}
    with SummaryWriter(str(root / "shim")) as writer:
        for step, value in written["loss"]:
            writer.add_scalar("loss", torch.tensor(value), step)
        writer.add_scalars("accuracy", {"train": 0.75, "test": 0.5}, 3)
        writer.add_histogram("weights", torch.arange(100.0), 7)
        writer.add_image("digit", np.linspace(0, 1, 3 * 8 * 8).reshape(3, 8, 8), 2)
        writer.add_text("note", "trained *fast*", 1)
        for summary in hparams({"lr": 0.1, "optimizer": "sgd"}, {"loss": 0}):
            writer.file_writer.add_summary(summary)
        writer.add_embedding(torch.arange(12.0).reshape(4, 3), metadata=list("abcd"),
                             label_img=torch.zeros(4, 1, 2, 2), global_step=1, tag="features")
    with SummaryWriter(root / "crashed") as writer:
        for step in range(10):
            writer.add_scalar("loss", float(step), step)
    (cut,) = (root / "crashed").glob("events.out.tfevents.*")
    cut.write_bytes(cut.read_bytes()[:-7])  # the last event's record, cut short
    with SummaryWriter(root / "crashed", purge_step=9) as writer:
        for step in range(9, 12):
            writer.add_scalar("loss", step * 10.0, step)
    return written


@pytest.fixture(scope="module")
def compare_run(root):
    """``fnnet compare`` of the linear regression, fnnet and fnnet.torch versions."""
    examples = pathlib.Path(__file__).resolve().parents[1] / "examples"
    args = cli.build_parser().parse_args(
        ["compare", "linear_regression:sgd", "--epochs", "2", "--versions", "fnnet,shim",
         "--examples-dir", str(examples), "--out", str(root / "compare")])
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        (comparison,) = args.run(args)
    return comparison


STALE = 99.0  # what an interrupted run logged after its last checkpoint


@pytest.fixture(scope="module")
def resumed_run(root, tmp_path_factory):
    """A run of one epoch with a checkpoint, steps 45-60 logged by an "interrupted"
    continuation, then the run resumed from the checkpoint for a second epoch."""
    from fnnet import data, models, optim
    from fnnet.train import fit
    from fnnet.train.events import file_writer

    logdir, checkpoints = root / "resumed", tmp_path_factory.mktemp("checkpoints")
    run = dict(model=models.MLP((64, 10)), optimizer=optim.SGD(lr=0.1),
               train_data=data.load("digits", "train"), batch_size=32, progress=False,
               checkpoint_dir=checkpoints, logdir=logdir)
    fit(epochs=1, **run)
    stale = file_writer(logdir)
    for step in range(STEPS_PER_EPOCH + 1, STEPS_PER_EPOCH + 17):
        stale.add_scalars({"step/loss": STALE}, step)
    stale.close()
    _, history = fit(epochs=EPOCHS, resume=True, **run)
    return history


@pytest.fixture(scope="module")
def server(root, train_run, shim_run, compare_run, resumed_run):
    """A TensorBoard server over ``root``; yields ``get(path, **query) -> JSON``."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", str(root), "--host",
         "127.0.0.1", "--port", str(port), "--load_fast", "false", "--reload_interval", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def get(path: str, raw: bool = False, **query: str):
        url = f"http://127.0.0.1:{port}{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.read() if raw else json.load(response)

    try:
        deadline = time.monotonic() + 90
        while True:  # until the server answers and has loaded every run
            if process.poll() is not None:
                raise RuntimeError("tensorboard exited: " + process.stdout.read().decode())
            try:
                tags = get("/data/plugin/scalars/tags")
                if {"train", "shim", "shim/accuracy_train", "crashed",
                        "compare/linear_regression/shim", "resumed"} <= set(tags):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("tensorboard did not serve the runs within 90 s")
            time.sleep(0.1)
        yield get
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


def test_served_scalars_equal_the_runs_history(train_run, server):
    folder, _, _ = train_run
    saved = json.loads((folder / "history.json").read_text())
    scalars = saved["scalars"]
    served_tags = set(server("/data/plugin/scalars/tags")["train"])
    assert served_tags == set(scalars)
    # every step's loss and accuracy, the learning rate, the interval timings, and
    # each epoch's history
    assert {"step/loss", "step/accuracy", "step/lr", "step/ms_per_step",
            "step/examples_per_second", "epoch/loss", "epoch/eval_accuracy"} <= served_tags
    assert [s for s, _ in scalars["step/loss"]] == list(range(1, EPOCHS * STEPS_PER_EPOCH + 1))
    assert [s for s, _ in scalars["epoch/loss"]] == [STEPS_PER_EPOCH * (e + 1)
                                                     for e in range(EPOCHS)]
    for tag, pairs in scalars.items():
        served = server("/data/plugin/scalars/scalars", run="train", tag=tag)
        assert [step for _, step, _ in served] == [step for step, _ in pairs], tag
        # TensorBoard keeps float32 values
        np.testing.assert_array_equal([value for _, _, value in served],
                                      np.float32([value for _, value in pairs]), err_msg=tag)
    # history.json's per-epoch history is fit's, and the epoch curves hold it
    for name, values in saved["history"].items():
        assert [v for _, v in scalars[f"epoch/{name}"]] == values
    assert all(v == 1e-3 for _, v in scalars["step/lr"])


def test_parameter_histograms_each_epoch(server):
    tags = server("/data/plugin/histograms/tags")["train"]
    assert set(tags) == {f"params/fc{i}.{kind}" for i in (1, 2, 3)
                         for kind in ("weight", "bias")}
    served = server("/data/plugin/histograms/histograms", run="train", tag="params/fc1.weight")
    assert [step for _, step, _ in served] == [STEPS_PER_EPOCH * (e + 1) for e in range(EPOCHS)]
    buckets = served[-1][2]  # [left, right, count] each
    assert sum(count for _, _, count in buckets) == pytest.approx(64 * 128)


def test_train_output_without_a_terminal_is_the_epoch_lines(train_run):
    _, out, err = train_run
    assert err == ""  # no bar: stderr is not a terminal
    lines = out.splitlines()
    assert [line.split(":")[0] for line in lines if line.startswith("epoch")] == [
        f"epoch {e + 1}/{EPOCHS}" for e in range(EPOCHS)]
    assert "\r" not in out and "step/s" not in out
    assert any(line.startswith("time: compile ") and "host sync" in line for line in lines)


def test_profile_trace_names_the_traced_steps(train_run):
    folder, _, _ = train_run
    traces = list((folder / "plugins" / "profile").glob("*/*.trace.json.gz"))
    planes = list((folder / "plugins" / "profile").glob("*/*.xplane.pb"))
    assert len(traces) == 1 and len(planes) == 1
    assert planes[0].stat().st_size > 0
    assert b"train_step" in planes[0].read_bytes()
    events = json.loads(gzip.decompress(traces[0].read_bytes()))["traceEvents"]
    steps = [e for e in events if e.get("name") == "train_step"]
    assert len(steps) == PROFILE_STEPS
    # the compiled step ran inside the trace, once per traced step
    calls = [e for e in events if e.get("name", "").startswith("PjitFunction(")
             and e.get("ph") == "X"]
    assert len(calls) >= PROFILE_STEPS


def test_shim_summary_writer_events_served(shim_run, server):
    served = server("/data/plugin/scalars/scalars", run="shim", tag="loss")
    assert [(step, value) for _, step, value in served] == [
        (step, float(np.float32(value))) for step, value in shim_run["loss"]]
    # add_scalars: one run per key, PyTorch's folder names, the main tag as the curve
    for key, value in (("train", 0.75), ("test", 0.5)):
        points = server("/data/plugin/scalars/scalars", run=f"shim/accuracy_{key}",
                        tag="accuracy")
        assert [(step, v) for _, step, v in points] == [(3, value)]
    histogram = server("/data/plugin/histograms/histograms", run="shim", tag="weights")
    assert [step for _, step, _ in histogram] == [7]
    assert sum(count for _, _, count in histogram[0][2]) == pytest.approx(100)
    assert "digit" in server("/data/plugin/images/tags")["shim"]
    images = server("/data/plugin/images/images", run="shim", tag="digit", sample="0")
    assert [image["step"] for image in images] == [2]
    png = server("/data/plugin/images/individualImage?" + images[0]["query"], raw=True)
    from PIL import Image

    decoded = np.asarray(Image.open(io.BytesIO(png)))
    expected = np.linspace(0, 1, 3 * 8 * 8).reshape(3, 8, 8).transpose(1, 2, 0)
    np.testing.assert_allclose(decoded, expected * 255, atol=1)  # [0, 1] -> 0..255
    # PyTorch's writer, like tensorboardX, files text under "<tag>/text_summary"
    text = server("/data/plugin/text/text", run="shim", tag="note/text_summary")
    assert [entry["step"] for entry in text] == [1] and "fast" in text[0]["text"]


def test_hyperparameters_logged_into_the_run_are_served_with_its_last_loss(shim_run, server):
    statuses = ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"]
    request = json.dumps({"experimentName": "", "allowedStatuses": statuses,
                          "colParams": [], "startIndex": 0, "sliceSize": 10})
    (group,) = server("/data/plugin/hparams/session_groups", request=request)["sessionGroups"]
    assert group["name"] == "shim" and group["hparams"] == {"lr": 0.1, "optimizer": "sgd"}
    (metric,) = group["metricValues"]
    step, loss = shim_run["loss"][-1]
    assert (metric["name"]["tag"], metric["trainingStep"]) == ("loss", step)
    assert metric["value"] == pytest.approx(loss)


def test_a_run_cut_short_in_an_event_and_resumed_is_served_whole(server):
    served = server("/data/plugin/scalars/scalars", run="crashed", tag="loss")
    assert [(step, value) for _, step, value in served] == [
        (step, float(step)) for step in range(9)] + [(9, 90.0), (10, 100.0), (11, 110.0)]


def test_embedding_is_served_by_the_projector(shim_run, server):
    assert server("/data/plugin/projector/runs") == ["shim"]
    (info,) = server("/data/plugin/projector/info", run="shim")["embeddings"]
    assert (info["tensorName"], info["tensorShape"], info["sprite"]["singleImageDim"]) == (
        "features:00001", [4, 3], [2, 2])
    vectors = server("/data/plugin/projector/tensor", raw=True, run="shim",
                     name="features:00001")
    np.testing.assert_array_equal(np.frombuffer(vectors, np.float32), np.arange(12.0))
    labels = server("/data/plugin/projector/metadata", raw=True, run="shim",
                    name="features:00001")
    assert labels.decode().split() == list("abcd")


def test_compare_writes_one_run_per_version(compare_run, server):
    tag = f"{compare_run.name}/loss"
    for version in ("fnnet", "shim"):
        served = server("/data/plugin/scalars/scalars",
                        run=f"compare/linear_regression/{version}", tag=tag)
        losses = compare_run.results[version]["losses"]
        assert [step for _, step, _ in served] == list(range(1, len(losses) + 1))
        np.testing.assert_array_equal([v for _, _, v in served], np.float32(losses))


def test_resumed_run_replaces_what_the_interrupted_run_logged_later(resumed_run, server):
    served = server("/data/plugin/scalars/scalars", run="resumed", tag="step/loss")
    assert [step for _, step, _ in served] == list(range(1, EPOCHS * STEPS_PER_EPOCH + 1))
    assert STALE not in [value for _, _, value in served]
    # the first epoch's record sits at the checkpoint's step: the resumed run, which
    # starts after it, does not write it again
    epochs = server("/data/plugin/scalars/scalars", run="resumed", tag="epoch/loss")
    assert [(step, value) for _, step, value in epochs] == [
        (STEPS_PER_EPOCH * (e + 1), float(np.float32(loss)))
        for e, loss in enumerate(resumed_run["loss"])]


def test_event_files_sort_in_the_order_they_were_opened(tmp_path):
    # TensorBoard reads a folder's files in name order; files opened in one second
    # (a crashed run resumed at once) must still come in the order they were written
    from fnnet.train.events import EVENT_FILE_GLOB, file_writer

    opened = []
    for _ in range(12):  # past the 9 -> 10 of a counter that is not zero-padded
        writer = file_writer(tmp_path)
        writer.close()
        opened.append(writer.path.name)
    (tmp_path / "notes.txt").write_text("not an event file")
    assert sorted(p.name for p in tmp_path.glob(EVENT_FILE_GLOB)) == opened


def test_a_file_replacing_a_deleted_one_never_takes_its_name(tmp_path):
    # a run that deletes the folder's event files and opens its own within the same
    # second must not reuse the old name: a running TensorBoard keeps reading a file it
    # knows from the old one's length, and the new run's first events would be lost
    from fnnet.train.events import file_writer, remove_event_files

    names = set()
    for _ in range(3):
        writer = file_writer(tmp_path)
        writer.close()
        assert writer.path.name not in names
        names.add(writer.path.name)
        assert remove_event_files(tmp_path) == 1
