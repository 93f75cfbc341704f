"""Checkpoints that verify themselves: damaged ones are reported and skipped, a resumed
run goes on from the newest intact one and ends bit for bit where an uninterrupted run
ends; faults while saving leave the earlier checkpoints usable."""

from __future__ import annotations

import json
import os
import pathlib
import random
import re
import shutil
import subprocess
import sys
import textwrap
import warnings

import jax
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_checkpoint import assert_trees_equal

from fnnet import data, models, optim
from fnnet.checkpoint import (
    Checkpointer,
    CheckpointError,
    CheckpointWarning,
    CheckpointWriteError,
    DamagedCheckpointError,
    restore_checkpoint,
    verify,
)
from fnnet.checkpoint.resume import check_meta
from fnnet.train import create_train_state, fit

# 640 digits in batches of 64: 10 steps per epoch, 20 in all; saved every 4 steps.
RUN = dict(epochs=2, batch_size=64, seed=4, progress=False, log_every=5, every_n_steps=4,
           keep=None)
SAVED = [4, 8, 12, 16, 20]
DAMAGED = 12  # epoch 1, batch 2: the resumed run goes on from step 8 (epoch 0, batch 8)
_EXAMPLES = iter(range(10 ** 9))


def _model():
    return models.MLP((64, 32, 10))


def _optimizer():
    return optim.SGD(lr=0.1, momentum=0.9)


def _fit(train, directory, **kwargs):
    return fit(_model(), _optimizer(), train, checkpoint_dir=directory, **{**RUN, **kwargs})


def _without_clock(history):
    return {k: v for k, v in history.items() if k not in ("seconds", "examples_per_second")}


@pytest.fixture(scope="module")
def train():
    x, y = data.load("digits", "train")
    return x[:640], y[:640]


@pytest.fixture(scope="module")
def template():
    """A fresh state of the run's model and optimizer, to restore into."""
    return create_train_state(_model(), _optimizer(), jax.random.key(1))


@pytest.fixture(scope="module")
def uninterrupted(train, tmp_path_factory):
    """The run never interrupted: its state, history and checkpoint folder."""
    directory = tmp_path_factory.mktemp("uninterrupted") / "ckpt"
    state, history = _fit(train, directory)
    assert Checkpointer(directory, read_only=True).all_steps() == SAVED
    return state, history, directory


@pytest.fixture
def killed_after_12(uninterrupted, tmp_path):
    """A copy of the run's folder as a run killed right after saving step 12 left it."""
    directory = tmp_path / "ckpt"
    shutil.copytree(uninterrupted[2], directory)
    for step in SAVED[SAVED.index(DAMAGED) + 1:]:
        shutil.rmtree(directory / str(step))
    return directory


def _largest_array_file(folder: pathlib.Path) -> pathlib.Path:
    files = [p for p in (folder / "state").rglob("*") if p.is_file()]
    return max(files, key=lambda p: p.stat().st_size)


def _flip_bit(folder):
    path = _largest_array_file(folder)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x10
    path.write_bytes(bytes(raw))


def _flip_16_bytes(folder):
    path = _largest_array_file(folder)
    raw = bytearray(path.read_bytes())
    for i in random.Random(0).sample(range(len(raw)), 16):
        raw[i] ^= 0xFF
    path.write_bytes(bytes(raw))


def _truncate_array_file(folder):
    path = _largest_array_file(folder)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _delete_array_file(folder):
    _largest_array_file(folder).unlink()


def _truncate_meta(folder):
    path = folder / "meta" / "metadata"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _change_digit_in_meta(folder):
    """``"batch": 2`` -> ``"batch": 3``, the change that once resumed at the wrong place."""
    path = folder / "meta" / "metadata"
    text = path.read_text()
    changed = re.sub(r'"batch": (\d+)', lambda m: f'"batch": {int(m.group(1)) + 1}', text,
                     count=1)
    assert changed != text
    path.write_text(changed)


def _empty_folder(folder):
    shutil.rmtree(folder)
    folder.mkdir()


DAMAGE = {
    "one flipped bit in the largest array file": (_flip_bit, "does not match its SHA-256"),
    "16 flipped bytes": (_flip_16_bytes, "does not match its SHA-256"),
    "a truncated array file": (_truncate_array_file, r"bytes, its manifest says \d+ "
                                                     r"\(truncated"),
    "a deleted array file": (_delete_array_file, r"file state/.* is missing"),
    "a truncated meta": (_truncate_meta, r"file meta/metadata is \d+ bytes"),
    "one changed digit in meta": (_change_digit_in_meta, "file meta/metadata .*SHA-256"),
    "an empty checkpoint folder": (_empty_folder, "the folder is empty"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_resume_skips_a_damaged_checkpoint_and_ends_bit_for_bit(
        train, uninterrupted, killed_after_12, damage):
    reference, ref_history, ref_directory = uninterrupted
    directory = killed_after_12
    corrupt, what = DAMAGE[damage]
    corrupt(directory / str(DAMAGED))
    folder = re.escape(repr(str(directory / str(DAMAGED))))
    with pytest.warns(CheckpointWarning,
                      match=f"skipped the damaged checkpoint {folder}: .*{what}"):
        state, history = _fit(train, directory, resume=True)
    assert_trees_equal(state, reference)
    assert _without_clock(history) == _without_clock(ref_history)
    # The damaged folder is kept aside; the steps after step 8 were written afresh.
    assert (directory / f"{DAMAGED}.damaged").is_dir()
    with Checkpointer(directory, read_only=True) as checkpointer:
        assert checkpointer.all_steps() == SAVED
        for step in SAVED:
            checkpointer.verify(step)
    assert_trees_equal(restore_checkpoint(directory, reference)[0], reference)


def test_every_checkpoint_damaged_is_an_error_and_nothing_trains(train, killed_after_12):
    directory = killed_after_12
    _flip_bit(directory / "4")
    _truncate_meta(directory / "8")
    _empty_folder(directory / "12")
    before = sorted(str(p.relative_to(directory)) for p in directory.rglob("*"))
    with pytest.warns(CheckpointWarning), \
            pytest.raises(DamagedCheckpointError) as raised:
        _fit(train, directory, resume=True)
    message = str(raised.value)
    assert f"no intact checkpoint in {str(directory)!r}: all 3 checkpoints" in message
    assert "12: the folder is empty; 8: file meta/metadata" in message
    assert "4: file state/" in message and "To start afresh, move that folder" in message
    assert "\n" not in message
    assert sorted(raised.value.damaged) == sorted(str(directory / s) for s in ("4", "8", "12"))
    after = sorted(str(p.relative_to(directory)) for p in directory.rglob("*"))
    assert after == before  # nothing renamed, nothing written


def test_meta_inconsistent_with_the_state_is_damage(train, uninterrupted, killed_after_12):
    """A meta edited with its manifest digests updated too: the schema and the step
    count still catch it."""
    reference, _, _ = uninterrupted
    folder = killed_after_12 / str(DAMAGED)
    meta_file = folder / "meta" / "metadata"
    meta = json.loads(meta_file.read_text())
    meta["position"].update(batch=3, seen=3, examples=3 * 64)  # consistent but for the step
    meta_file.write_text(json.dumps(meta))
    manifest = json.loads((folder / verify.MANIFEST).read_text())
    manifest["files"]["meta/metadata"] = {"size": meta_file.stat().st_size,
                                          "sha256": verify._digest(meta_file)}
    manifest["meta"] = json.loads(meta_file.read_text())
    (folder / verify.MANIFEST).write_text(json.dumps(manifest))
    with Checkpointer(killed_after_12, read_only=True) as checkpointer:
        checkpointer.verify(DAMAGED)  # its files are as the manifest says
    with pytest.warns(CheckpointWarning, match=r"metadata is inconsistent: it places the run "
                                               r"at epoch 1, batch 3 \(10 per epoch, from "
                                               r"step 0\), that is step 13, but the state "
                                               r"is at step 12"):
        state, _ = _fit(train, killed_after_12, resume=True)
    assert_trees_equal(state, reference)


@pytest.mark.parametrize("edit, message", [
    (lambda m: m.pop("start_step"), r"fields \['start_step'\] are missing or extra"),
    (lambda m: m.update(seed=-1), "seed is -1, not a valid count"),
    (lambda m: m["position"].update(batch="2"), "position.batch is '2', not a valid count"),
    (lambda m: m["position"].update(seen=3), "position.seen=3 differs from position.batch=2"),
    (lambda m: m["position"]["history"].update(seconds=[]),
     r"position.history\['seconds'\] is not 1 numbers"),
    (lambda m: m["position"]["history"].update(loss=[1.0, 2.0]),
     r"position.history\['loss'\] is not up to 1 numbers"),
    (lambda m: m["position"]["history"].pop("seconds"), "has no 'seconds' for its 1"),
    (lambda m: m["position"].update(batch=11, seen=11), "position.batch=11 exceeds the 10"),
    (lambda m: m["position"].update(examples=100), "position.examples=100 is not"),
    (lambda m: m.update(format=1), "format is 1, not 2"),
])
def test_check_meta_names_the_field(uninterrupted, edit, message):
    _, _, directory = uninterrupted
    meta = json.loads((directory / str(DAMAGED) / "meta" / "metadata").read_text())
    assert check_meta(meta, DAMAGED).batch == 2
    edit(meta)
    with pytest.raises(ValueError, match=message):
        check_meta(meta, DAMAGED)


def test_checkpointer_verifies_and_falls_back(template, killed_after_12):
    directory = killed_after_12
    _flip_bit(directory / str(DAMAGED))
    folder = str(directory / str(DAMAGED))
    with Checkpointer(directory, read_only=True) as checkpointer:
        with pytest.raises(DamagedCheckpointError,
                           match=f"checkpoint {re.escape(repr(folder))} is damaged: file "
                                 "state/.* does not match its SHA-256 digest"):
            checkpointer.verify(DAMAGED)
        with pytest.raises(DamagedCheckpointError, match="is damaged"):
            checkpointer.restore(template, step=DAMAGED)  # a named step never falls back
        checkpointer.verify(8)
    with pytest.warns(CheckpointWarning, match=re.escape(folder)):
        state, meta = restore_checkpoint(directory, template)
    assert int(state.step) == 8 and meta["position"]["batch"] == 8
    assert (directory / str(DAMAGED)).is_dir()  # a reader renames nothing


def test_a_checkpoint_without_manifest_is_damaged(killed_after_12):
    (killed_after_12 / str(DAMAGED) / verify.MANIFEST).unlink()
    with Checkpointer(killed_after_12, read_only=True) as checkpointer:
        with pytest.raises(DamagedCheckpointError, match="has no fnnet_manifest.json"):
            checkpointer.verify(DAMAGED)
    manifest = killed_after_12 / "8" / verify.MANIFEST
    manifest.write_text(manifest.read_text()[:-10])
    with Checkpointer(killed_after_12, read_only=True) as checkpointer:
        with pytest.raises(DamagedCheckpointError, match="fnnet_manifest.json is not valid "
                                                         "JSON"):
            checkpointer.verify(8)
    (killed_after_12 / "4" / "stray").write_bytes(b"x")
    with Checkpointer(killed_after_12, read_only=True) as checkpointer:
        with pytest.raises(DamagedCheckpointError, match="unexpected file stray"):
            checkpointer.verify(4)
        with pytest.raises(CheckpointError, match=r"no checkpoint of step 5 .*\(steps: "
                                                  r"\[4, 8, 12\]\)"):
            checkpointer.verify(5)


def test_a_renamed_checkpoint_folder_is_damaged(template, killed_after_12):
    os.rename(killed_after_12 / "4", killed_after_12 / "5")
    with Checkpointer(killed_after_12, read_only=True) as checkpointer:
        with pytest.raises(DamagedCheckpointError, match="fnnet_manifest.json is for step 4, "
                                                         "the folder for step 5"):
            checkpointer.verify(5)



def test_restoring_from_one_checkpoints_own_folder_names_the_folder_to_give(template,
                                                                            tmp_path):
    with Checkpointer(tmp_path / "ckpt") as checkpointer:
        checkpointer.save(template)
    with pytest.raises(CheckpointError, match=r"no checkpoint in '.*ckpt/0': it is the "
                       r"folder of one checkpoint; give the folder holding it, '.*ckpt'"):
        restore_checkpoint(tmp_path / "ckpt" / "0", template)

def test_the_cli_resumes_past_a_damaged_checkpoint_and_refuses_when_none_is_intact(
        tmp_path, capsys):
    from fnnet import cli

    run = ["train", "--model", "logistic", "--epochs", "1", "--batch-size", "64",
           "--optimizer", "sgd", "--lr", "0.1", "--seed", "1", "--checkpoint-every", "10",
           "--quiet", "--out", str(tmp_path / "out")]
    uninterrupted = tmp_path / "uninterrupted"
    assert cli.main([*run, "--checkpoint-dir", str(uninterrupted)]) == 0
    steps = Checkpointer(uninterrupted, read_only=True).all_steps()
    assert steps == [10, 20, 22]  # 1438 digits: 22 batches of 64
    model = models.LogisticRegression(64, 10)
    template = create_train_state(model, optim.SGD(lr=0.1), jax.random.key(0))
    reference, _ = restore_checkpoint(uninterrupted, template)

    damaged = tmp_path / "damaged"
    shutil.copytree(uninterrupted, damaged)
    _flip_bit(damaged / "22")
    capsys.readouterr()
    assert cli.main([*run, "--checkpoint-dir", str(damaged), "--resume"]) == 0
    warned = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert warned == [f"fnnet train: warning: skipped the damaged checkpoint "
                      f"{str(damaged / '22')!r}: file {warned[0].split(' file ')[1]}"]
    assert warned[0].endswith("does not match its SHA-256 digest (changed bits)")
    assert_trees_equal(restore_checkpoint(damaged, template)[0], reference)

    for step in (10, 20):
        _truncate_meta(damaged / str(step))
    _delete_array_file(damaged / "22")
    before = sorted(str(p) for p in damaged.rglob("*"))
    (tmp_path / "out" / "curves.png").unlink()
    capsys.readouterr()
    status = cli.main([*run, "--epochs", "2", "--checkpoint-dir", str(damaged), "--resume"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert [line.split(": ")[1] for line in err[:-1]] == ["warning"] * 3
    assert err[-1].startswith(f"fnnet train: error: no intact checkpoint in {str(damaged)!r}")
    assert "To start afresh" in err[-1]
    assert sorted(str(p) for p in damaged.rglob("*")) == before
    assert not (tmp_path / "out" / "curves.png").exists()  # nothing trained


# ----------------------------------------------------------------- faults while saving


_DISK_FULL = textwrap.dedent("""
    import json, resource, signal, sys
    from fnnet import data, models, optim
    from fnnet.checkpoint import CheckpointWriteError
    from fnnet.train import fit

    # Files may not grow beyond 4 KiB: the next array file written fails with EFBIG,
    # as a write onto a full disk fails with ENOSPC (reading is not limited).
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))
    x, y = data.load("digits", "train")
    try:
        fit(models.MLP((64, 32, 10)), optim.SGD(lr=0.1, momentum=0.9), (x[:640], y[:640]),
            **json.loads(sys.argv[1]), checkpoint_dir=sys.argv[2], resume=True)
    except CheckpointWriteError as error:
        print(json.dumps({"message": str(error), "errno": error.errno}))
""")


def test_a_disk_filling_during_a_save_is_an_error_at_once(killed_after_12, uninterrupted):
    """A real write failure inside orbax's writer (a file size limit), in a subprocess
    that resumes the run killed after step 12 and fails to save step 16."""
    import errno

    directory = killed_after_12
    result = subprocess.run([sys.executable, "-c", _DISK_FULL, json.dumps(RUN),
                             str(directory)], capture_output=True, text=True, timeout=300,
                            cwd=pathlib.Path(__file__).parent.parent)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["errno"] == errno.EFBIG
    assert report["message"].startswith(f"could not write the checkpoint of step 16 in "
                                        f"{str(directory)!r}: File too large (writing ")
    assert report["message"].endswith("nothing of it was kept, and the earlier checkpoints "
                                      "(steps [4, 8, 12]) are as they were")
    # Nothing of step 16 is left, and the earlier checkpoints restore.
    assert sorted(os.listdir(directory)) == ["12", "4", "8"]
    reference = uninterrupted[0]
    state, meta = restore_checkpoint(directory, reference)
    assert int(state.step) == 12 and meta["position"]["batch"] == 2


def test_an_old_checkpoints_removal_cut_short_leaves_no_half_checkpoint(template, tmp_path,
                                                                       monkeypatch):
    """Ctrl-C while a save removes the checkpoints beyond ``keep``: no step's folder is
    left half deleted (listed, then failing verification); the next writer removes what
    is left."""
    from fnnet.checkpoint import train_state

    directory = tmp_path / "ckpt"
    rmtree = shutil.rmtree

    def interrupted(path, *args, **kwargs):  # one file gone, then Ctrl-C
        next(p for p in pathlib.Path(path).rglob("*") if p.is_file()).unlink()
        raise KeyboardInterrupt

    checkpointer = Checkpointer(directory, keep=1)
    checkpointer.save(template._replace(step=template.step + 1))
    monkeypatch.setattr(train_state.shutil, "rmtree", interrupted)
    with pytest.raises(KeyboardInterrupt):
        checkpointer.save(template._replace(step=template.step + 2))
    monkeypatch.setattr(train_state.shutil, "rmtree", rmtree)
    assert sorted(os.listdir(directory)) == ["1.removed", "2"]
    assert Checkpointer(directory, read_only=True).all_steps() == [2]
    checkpointer.close()  # a writer: the rest of step 1 goes
    assert sorted(os.listdir(directory)) == ["2"]


def test_metadata_that_is_not_json_is_refused_before_writing(template, tmp_path):
    with Checkpointer(tmp_path / "ckpt") as checkpointer:
        with pytest.raises(TypeError, match="metadata must be JSON-serialisable: Object of "
                                            "type set is not JSON serializable"):
            checkpointer.save(template, {"tags": {1, 2}})
        assert checkpointer.all_steps() == []
    assert os.listdir(tmp_path / "ckpt") == []


def test_a_failed_manifest_write_leaves_nothing(uninterrupted, tmp_path, monkeypatch):
    import errno

    reference, _, _ = uninterrupted

    def disk_full(*args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "fnnet_manifest.json")

    directory = tmp_path / "ckpt"
    with Checkpointer(directory) as checkpointer:
        checkpointer.save(reference._replace(step=reference.step - 1))
        monkeypatch.setattr(verify, "write_manifest", disk_full)
        with pytest.raises(CheckpointWriteError, match=r"step 20 .*: No space left on device "
                                                       r"\(fnnet_manifest.json\); nothing of "
                                                       r"it was kept.*\(steps \[19\]\)") as raised:
            checkpointer.save(reference)
        assert raised.value.errno == errno.ENOSPC
        assert checkpointer.all_steps() == [19]
    assert sorted(os.listdir(directory)) == ["19"]


def test_a_read_only_checkpoint_folder_is_an_error_before_training(
        uninterrupted, tmp_path, monkeypatch, capsys):
    """``fnnet train --resume`` into a folder it cannot write stops at once (exit 1),
    trains nothing, and leaves the checkpoints there as they were."""
    import errno
    import tempfile

    from fnnet import cli

    directory = tmp_path / "ckpt"
    shutil.copytree(uninterrupted[2], directory)
    paths = [directory, *directory.rglob("*")]
    for path in paths:
        os.chmod(path, 0o555 if path.is_dir() else 0o444)
    if os.geteuid() == 0:
        # Permissions do not stop root: the folder's file system refuses instead, as a
        # read-only mount would.
        mkstemp = tempfile.mkstemp

        def read_only(*args, dir=None, **kwargs):
            if dir is not None and pathlib.Path(dir) == directory:
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(dir))
            return mkstemp(*args, dir=dir, **kwargs)

        monkeypatch.setattr(tempfile, "mkstemp", read_only)
        reason = "Read-only file system"
    else:
        reason = "Permission denied"
    before = {str(p): p.stat().st_mtime_ns for p in paths}
    try:
        capsys.readouterr()
        status = cli.main(["train", "--model", "mlp", "--epochs", "3", "--quiet",
                           "--checkpoint-dir", str(directory), "--resume",
                           "--out", str(tmp_path / "out")])
        err = capsys.readouterr().err
        assert status == 1, err
        assert err.strip().splitlines()[-1] == (
            f"fnnet train: error: cannot write checkpoints in {str(directory)!r}: {reason}")
        now = [directory, *directory.rglob("*")]
        assert {str(p): p.stat().st_mtime_ns for p in now} == before
        assert not (tmp_path / "out" / "curves.png").exists()  # nothing trained
    finally:
        for path in paths:
            os.chmod(path, 0o755 if path.is_dir() else 0o644)


# ----------------------------------------------------------------- fuzzing


_MUTATIONS = ("flip bit", "flip bytes", "truncate", "extend", "zero", "delete",
              "huge declared size", "huge manifest")


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=st.sampled_from(_MUTATIONS), which=st.integers(0, 10 ** 6),
       where=st.integers(0, 10 ** 9), count=st.integers(1, 64))
def test_fuzzed_checkpoint_files_are_never_restored(uninterrupted, template, tmp_path,
                                                    mutation, which, where, count):
    """Any file of checkpoint 12 (its manifest included) mutated: restore either reports
    it damaged and returns checkpoint 8, or (a change that means nothing, such as a
    float written with another digit that parses to the same number) returns exactly
    what was saved; its peak of Python-tracked memory stays under 64 MB."""
    import tracemalloc

    source = uninterrupted[2]
    directory = tmp_path / f"fuzz-{next(_EXAMPLES)}"
    directory.mkdir()
    for step in (8, DAMAGED):
        shutil.copytree(source / str(step), directory / str(step))
    folder = directory / str(DAMAGED)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    path = files[which % len(files)]
    raw = bytearray(path.read_bytes())
    rng = random.Random(where)
    if mutation == "flip bit":
        raw[where % len(raw)] ^= 1 << (where % 8)
    elif mutation == "flip bytes":
        for i in rng.sample(range(len(raw)), min(count, len(raw))):
            raw[i] ^= rng.randrange(1, 256)
    elif mutation == "truncate":
        raw = raw[: where % len(raw)]
    elif mutation == "extend":
        raw += rng.randbytes(count)
    elif mutation == "zero":
        raw = bytearray(len(raw))
    if mutation == "delete":
        path.unlink()
    elif mutation == "huge declared size":
        manifest = json.loads((folder / verify.MANIFEST).read_text())
        entry = manifest["files"][sorted(manifest["files"])[which % len(manifest["files"])]]
        entry["size"] = 1 << (40 + count % 20)
        (folder / verify.MANIFEST).write_text(json.dumps(manifest))
    elif mutation == "huge manifest":  # a sparse file: no disk, and never read
        os.truncate(folder / verify.MANIFEST, verify.MAX_MANIFEST_BYTES + 1 + where)
    else:
        path.write_bytes(bytes(raw))
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", CheckpointWarning)
            state, meta = restore_checkpoint(directory, template)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20, f"peak {peak / 2 ** 20:.1f} MB above the baseline"
    if caught:
        assert len(caught) == 1
        assert f"skipped the damaged checkpoint {str(folder)!r}: " in str(caught[0].message)
        assert int(state.step) == 8
    else:  # nothing that matters changed
        expected, expected_meta = restore_checkpoint(source, template, step=DAMAGED)
        assert_trees_equal(state, expected)
        assert verify.canonical(meta) == verify.canonical(expected_meta)
