"""fnnet.checkpoint: atomic TrainState checkpoints, resuming fit bit for bit after SIGKILL,
and safetensors files."""

from __future__ import annotations

import io
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fnnet import data, models, optim
from fnnet.checkpoint import (
    Checkpointer,
    CheckpointError,
    CheckpointWarning,
    DamagedCheckpointError,
    load_safetensors,
    restore_checkpoint,
    save_safetensors,
)
from fnnet.train import create_train_state, fit, make_train_step

TMP_SUFFIX = ".orbax-checkpoint-tmp"


def assert_trees_equal(a, b):
    """Bit-for-bit equality of two pytrees (typed PRNG keys compared by their data)."""
    a = jax.tree.map(lambda x: jax.random.key_data(x) if _is_key(x) else x, a)
    b = jax.tree.map(lambda x: jax.random.key_data(x) if _is_key(x) else x, b)
    assert jax.tree.structure(a) == jax.tree.structure(b)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        assert np.asarray(x).dtype == np.asarray(y).dtype
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def _is_key(x):
    return jax.dtypes.issubdtype(getattr(x, "dtype", None), jax.dtypes.prng_key)


@pytest.fixture(scope="module")
def digits():
    return data.load("digits", "train")


def _trained_state(steps=3, optimizer=None):
    model = models.MLP((64, 16, 10))
    optimizer = optimizer or optim.Adam(lr=1e-2)
    state = create_train_state(model, optimizer, jax.random.key(0))
    step = make_train_step(model, optimizer, donate=False)
    rng = np.random.default_rng(0)
    for _ in range(steps):
        batch = (rng.standard_normal((8, 64)).astype(np.float32),
                 rng.integers(0, 10, 8).astype(np.int32))
        state, _ = step(state, batch)
    return model, optimizer, state


# ----------------------------------------------------------------- Checkpointer


def test_save_and_restore_are_bit_exact(tmp_path):
    model, optimizer, state = _trained_state()
    template = create_train_state(model, optimizer, jax.random.key(5))
    with Checkpointer(tmp_path / "ckpt") as checkpointer:
        assert checkpointer.latest_step() is None
        assert checkpointer.save(state, {"epoch": 2, "history": {"loss": [0.5, float("nan")]}}) == 3
        restored, meta = checkpointer.restore(template)
    assert_trees_equal(restored, state)
    assert jax.random.key_impl(restored.key) == jax.random.key_impl(state.key)
    assert meta["epoch"] == 2 and np.isnan(meta["history"]["loss"][1])
    # The restored state trains on exactly as the original does.
    step = make_train_step(model, optimizer, donate=False)
    batch = (np.ones((4, 64), np.float32), np.arange(4, dtype=np.int32))
    assert_trees_equal(step(restored, batch)[0], step(state, batch)[0])


def test_injected_hyperparameters_survive(tmp_path):
    import optax

    sgd = optax.inject_hyperparams(optim.SGD, static_args=(
        "momentum", "dampening", "weight_decay", "nesterov", "maximize"))(lr=0.1, momentum=0.9)
    model, optimizer, state = _trained_state(optimizer=sgd)
    state.opt_state.hyperparams["lr"] = jnp.asarray(0.025)
    with Checkpointer(tmp_path) as checkpointer:
        checkpointer.save(state)
        restored, _ = checkpointer.restore(create_train_state(model, optimizer,
                                                              jax.random.key(1)))
    assert restored.opt_state.hyperparams["lr"] == np.float32(0.025)
    assert_trees_equal(restored, state)


def test_keep_deletes_the_oldest(tmp_path):
    _, _, state = _trained_state(steps=0)
    with Checkpointer(tmp_path, keep=2) as checkpointer:
        for step in (1, 2, 3, 4):
            checkpointer.save(state._replace(step=jnp.asarray(step, jnp.int32)))
        assert checkpointer.all_steps() == [3, 4]
        with pytest.raises(ValueError, match="a checkpoint of step 4 exists already"):
            checkpointer.save(state._replace(step=jnp.asarray(4, jnp.int32)))


def test_restore_names_what_does_not_match(tmp_path):
    _, _, state = _trained_state()
    with Checkpointer(tmp_path) as checkpointer:
        checkpointer.save(state)
    wider = create_train_state(models.MLP((64, 32, 10)), optim.Adam(lr=1e-2),
                               jax.random.key(0))
    with pytest.raises(CheckpointError, match=r"params/fc1/bias is float32\[16\], the "
                                              r"template has float32\[32\]"):
        restore_checkpoint(tmp_path, wider)
    other_optimizer = create_train_state(models.MLP((64, 16, 10)), optim.SGD(lr=0.1),
                                         jax.random.key(0))
    with pytest.raises(CheckpointError, match="does not match the template state.*"
                                              "unexpected opt_state"):
        restore_checkpoint(tmp_path, other_optimizer)
    with pytest.raises(CheckpointError, match=r"no checkpoint of step 7 .*\(steps: \[3\]\)"):
        restore_checkpoint(tmp_path, state, step=7)
    for step in ("3", 3.0, True):
        with pytest.raises(TypeError, match=re.escape(
                f"step must be an int (a checkpoint's step), got {step!r}")):
            restore_checkpoint(tmp_path, state, step=step)
    with pytest.raises(CheckpointError, match="no checkpoint folder"):
        restore_checkpoint(tmp_path / "missing", state)
    with pytest.raises(TypeError, match="template must be a fnnet.train.TrainState, got dict"):
        restore_checkpoint(tmp_path, {"params": {}})


def test_a_reader_lists_again_when_a_writer_removes_a_checkpoint(tmp_path, monkeypatch):
    import orbax.checkpoint as ocp

    _, _, state = _trained_state()
    with Checkpointer(tmp_path / "ckpt") as writer:
        writer.save(state)
    real = ocp.CheckpointManager
    calls = []

    def racing(*args, **kwargs):
        calls.append(kwargs["options"].create)
        if len(calls) == 1:  # the writer's keep= removed a step while it was listed
            raise FileNotFoundError(str(tmp_path / "ckpt" / "1"))
        return real(*args, **kwargs)

    monkeypatch.setattr(ocp, "CheckpointManager", racing)
    with Checkpointer(tmp_path / "ckpt", read_only=True) as reader:
        assert reader.latest_step() == 3
    assert calls == [False, False]
    calls.clear()
    with pytest.raises(FileNotFoundError):  # a writer's own folder vanishing is an error
        Checkpointer(tmp_path / "ckpt")
    assert calls == [True]


def test_an_interrupted_save_is_never_latest(tmp_path):
    """What a save killed before its rename leaves: a temporary folder, ignored."""
    _, _, state = _trained_state()
    with Checkpointer(tmp_path) as checkpointer:
        checkpointer.save(state)
    # A half-written step 9: arrays folder, no metadata, no commit marker.
    partial = tmp_path / f"9{TMP_SUFFIX}-1700000000"
    (partial / "state").mkdir(parents=True)
    (partial / "state" / "garbage").write_bytes(b"\0" * 10)
    restored, _ = restore_checkpoint(tmp_path, state)  # a reader leaves the folder
    assert int(restored.step) == 3 and partial.exists()
    with Checkpointer(tmp_path) as checkpointer:  # a writer removes it, at the latest
        assert checkpointer.latest_step() == 3    # before its first save
        checkpointer.save(state._replace(step=jnp.asarray(9, jnp.int32)))
        assert checkpointer.all_steps() == [3, 9]
    assert not partial.exists()
    assert_trees_equal(restore_checkpoint(tmp_path, state, step=9)[0].params, state.params)


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="keep must be a positive int or None, got 0"):
        Checkpointer(tmp_path, keep=0)
    with pytest.raises(TypeError, match="directory must be a path, got int"):
        Checkpointer(3)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="exists and is not a folder"):
        Checkpointer(tmp_path / "file")
    _, _, state = _trained_state(steps=0)
    with Checkpointer(tmp_path / "ro-src") as checkpointer:
        checkpointer.save(state)
    with Checkpointer(tmp_path / "ro-src", read_only=True) as reader:
        with pytest.raises(ValueError, match="is read-only"):
            reader.save(state._replace(step=jnp.asarray(1, jnp.int32)))
        with pytest.raises(TypeError, match="metadata must be a mapping"):
            Checkpointer(tmp_path / "w").save(state, metadata=[1])


# ----------------------------------------------------------------- fit resume


FIT = dict(epochs=3, batch_size=64, seed=4, progress=False, log_every=5)


def _fit(digits, **kwargs):
    x, y = digits
    return fit(models.MLP((64, 32, 10)), optim.SGD(lr=0.1, momentum=0.9), (x[:640], y[:640]),
               **{**FIT, **kwargs})


def _without_clock(history):
    return {k: v for k, v in history.items() if k not in ("seconds", "examples_per_second")}


@pytest.mark.parametrize("steps_per_call, saved", [
    (1, [4, 8, 12, 16, 20, 24, 28, 30]),  # 10 steps per epoch; the last step is saved
    (4, [4, 8, 14, 18, 20, 24, 28, 30]),  # calls of 4, 4, 1, 1 steps: saved after a call
])
def test_fit_resumes_mid_epoch_bit_for_bit(digits, tmp_path, steps_per_call, saved):
    directory = tmp_path / "ckpt"
    reference, ref_history = _fit(digits, checkpoint_dir=directory, every_n_steps=4,
                                  keep=None, steps_per_call=steps_per_call)
    if steps_per_call == 1:  # checkpointing changes nothing in the run
        assert_trees_equal(_fit(digits)[0], reference)
    assert Checkpointer(directory).all_steps() == saved
    # Go back to the third checkpoint (epoch 1, a few batches in), as if killed there.
    for step in saved[3:]:
        shutil.rmtree(directory / str(step))
    state, history = _fit(digits, checkpoint_dir=directory, every_n_steps=4,
                          steps_per_call=steps_per_call, resume=True)
    assert_trees_equal(state, reference)
    assert _without_clock(history) == _without_clock(ref_history)
    assert len(history["seconds"]) == 3


def test_fit_with_callable_data_resumes(digits, tmp_path):
    x, y = digits
    batches = list(data.batches(x[:320], y[:320], 32, seed=0, epoch=0, drop_last=True))
    run = dict(epochs=2, progress=False, checkpoint_dir=tmp_path, every_n_steps=7, keep=None)
    reference, _ = fit(models.MLP((64, 10)), optim.SGD(lr=0.1), lambda epoch: batches,
                       epochs=2, progress=False)
    fit(models.MLP((64, 10)), optim.SGD(lr=0.1), lambda epoch: batches, **run)
    for step in (14, 20):
        shutil.rmtree(tmp_path / str(step))
    state, _ = fit(models.MLP((64, 10)), optim.SGD(lr=0.1), lambda epoch: batches,
                   resume=True, **run)
    assert int(state.step) == 20
    assert_trees_equal(state, reference)


def test_fit_checkpoint_arguments(digits, tmp_path):
    _fit(digits, epochs=1, checkpoint_dir=tmp_path)  # saves at the end of the epoch
    assert Checkpointer(tmp_path).all_steps() == [10]
    with pytest.raises(ValueError, match="already holds checkpoints \\(latest at step 10\\)"):
        _fit(digits, checkpoint_dir=tmp_path)
    with pytest.raises(CheckpointError, match="written with seed=4; resuming it needs the "
                                              "same, got seed=5"):
        _fit(digits, checkpoint_dir=tmp_path, resume=True, seed=5)
    with pytest.raises(CheckpointError, match="written with batch_size=64"):
        _fit(digits, checkpoint_dir=tmp_path, resume=True, batch_size=32)
    with pytest.raises(ValueError, match="resume=True needs a checkpoint_dir"):
        _fit(digits, resume=True)
    with pytest.raises(ValueError, match="every_n_steps must be a positive int or None, "
                                         "got 0"):
        _fit(digits, checkpoint_dir=tmp_path / "b", every_n_steps=0)
    with pytest.raises(ValueError, match="keep must be a positive int or None, got -1"):
        _fit(digits, checkpoint_dir=tmp_path / "c", keep=-1)
    # A finished run resumed with more epochs trains only the new ones.
    state, history = _fit(digits, epochs=2, checkpoint_dir=tmp_path, resume=True)
    assert int(state.step) == 20 and len(history["loss"]) == 2


# ----------------------------------------------------------------- SIGKILL

CLI_RUN = ["--model", "mlp", "--dataset", "digits", "--epochs", "3", "--batch-size", "32",
           "--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9", "--seed", "3",
           "--checkpoint-every", "8", "--quiet"]


def _latest(directory):
    """The newest step in ``directory`` while a run writes it; None while there is none,
    or while orbax's listing meets a save in the middle of its commit (a path that is
    not a folder yet): the watcher looks again a millisecond later."""
    if not directory.exists():
        return None
    try:
        with Checkpointer(directory, read_only=True) as checkpointer:
            return checkpointer.latest_step()
    except (NotADirectoryError, FileNotFoundError):
        return None


def _latest_intact(directory):
    """The newest checkpoint that verifies; those above it may only lack their manifest
    (a kill between orbax's commit and the manifest's write)."""
    with Checkpointer(directory, read_only=True) as checkpointer:
        for step in reversed(checkpointer.all_steps()):
            try:
                checkpointer.verify(step)
            except DamagedCheckpointError as error:
                assert "has no fnnet_manifest.json" in str(error), str(error)
                continue
            return step
    return None


def _tmp_dirs(directory):
    return [p for p in directory.iterdir() if TMP_SUFFIX in p.name] if directory.exists() else []


def _wait_for(condition, process, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.001)
    raise AssertionError("the training subprocess neither reached the point nor ended")


def test_sigkilled_training_resumes_bit_for_bit(tmp_path):
    """Kills ``fnnet train`` three times (once mid-save), resumes, compares bit for bit."""
    from fnnet import cli

    cli.main(["train", *CLI_RUN, "--checkpoint-dir", str(tmp_path / "reference"),
              "--out", str(tmp_path / "out")])
    directory = tmp_path / "killed"
    command = [sys.executable, "-m", "fnnet.cli", "train", *CLI_RUN, "--resume",
               "--checkpoint-dir", str(directory), "--out", str(tmp_path / "out2")]
    rng = random.Random(0)
    model = models.MLP((64, 128, 64, 10))
    template = create_train_state(model, optim.SGD(lr=0.05, momentum=0.9), jax.random.key(3))
    latest_before = None
    for kill in ("random", "mid-save", "random"):
        old_tmp = set(_tmp_dirs(directory))  # left by an earlier kill, if it hit a save
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   cwd=tmp_path)
        try:
            if kill == "mid-save":
                # Right after orbax creates the temporary folder of a save of this run.
                running = _wait_for(lambda old=old_tmp: bool(set(_tmp_dirs(directory)) - old),
                                    process)
            else:
                # A random moment after this run's first checkpoint.
                running = _wait_for(lambda before=latest_before: _latest(directory)
                                    not in (None, before), process)
                time.sleep(rng.uniform(0.0, 0.4))
            assert running and process.poll() is None, "the run ended before the kill"
            process.send_signal(signal.SIGKILL)
        finally:
            process.kill()
            process.wait()
        assert process.returncode == -signal.SIGKILL
        latest = _latest(directory)
        if kill == "mid-save":
            # The half-written checkpoint is left as a temporary folder, never latest.
            unfinished = set(_tmp_dirs(directory)) - old_tmp
            assert unfinished, "the kill did not land during the save"
            assert all(int(p.name.split(".")[0]) > latest for p in unfinished)
            assert latest >= latest_before
        else:
            assert latest is not None and (latest_before is None or latest > latest_before)
        # The latest complete checkpoint restores, whole and finite.
        intact = _latest_intact(directory)
        with warnings.catch_warnings():
            warnings.simplefilter("error" if intact == latest else "ignore",
                                  CheckpointWarning)
            state, meta = restore_checkpoint(directory, template)
        assert int(state.step) == intact and meta["position"]["epoch"] <= 3
        assert all(np.isfinite(leaf).all() for leaf in jax.tree.leaves(state.params))
        # A kill between orbax's commit and the manifest leaves the latest without one:
        # the next run resumes from the intact one and writes the later steps again.
        latest_before = intact

    finished = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path,
                              timeout=120)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert not _tmp_dirs(directory)
    resumed, meta = restore_checkpoint(directory, template)
    reference, ref_meta = restore_checkpoint(tmp_path / "reference", template)
    assert int(resumed.step) == 3 * (len(data.load("digits", "train")[1]) // 32)
    assert_trees_equal(resumed, reference)
    history, ref_history = meta["position"]["history"], ref_meta["position"]["history"]
    # an epoch's last checkpoint holds the finished epoch: its record and no running sums
    assert len(history["loss"]) == 3 and meta["position"]["epoch"] == 3
    assert _without_clock(history) == _without_clock(ref_history)
    assert meta["position"]["sums"] == ref_meta["position"]["sums"] == {}


# ----------------------------------------------------------------- safetensors


def test_safetensors_round_trip(tmp_path):
    _, _, state = _trained_state()
    from fnnet.nn import state_dict

    flat = state_dict(state.params)
    path = tmp_path / "model.safetensors"
    save_safetensors(flat, path)
    loaded = load_safetensors(path)
    assert list(loaded) == list(flat)
    for name in flat:
        np.testing.assert_array_equal(loaded[name], np.asarray(flat[name]))
    # A plain safetensors file: any safetensors reader sees the state dict's names.
    from safetensors.numpy import load_file

    assert sorted(load_file(path)) == sorted(flat)

    checkpoint = {"model": flat, "epoch": 3, "optimizer": {
        "state": {0: {"step": np.float32(4), "exp_avg": np.zeros(3, np.float32)}},
        "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1],
                          "amsgrad": False, "foreach": None, "name": "x"}]}}
    save_safetensors(checkpoint, path)
    loaded = load_safetensors(path)
    assert loaded["epoch"] == 3
    assert loaded["optimizer"]["param_groups"] == checkpoint["optimizer"]["param_groups"]
    assert loaded["optimizer"]["state"][0]["step"] == np.float32(4)
    assert loaded["optimizer"]["state"][0]["step"].shape == ()
    assert sorted(os.listdir(tmp_path)) == ["model.safetensors"]  # no temporary left


def test_safetensors_bad_input(tmp_path):
    with pytest.raises(TypeError, match=r"cannot save a set at 'model.extra'"):
        save_safetensors({"model": {"extra": {1, 2}}}, tmp_path / "a")
    with pytest.raises(TypeError, match="keys must be str or int, got float 1.5"):
        save_safetensors({1.5: np.zeros(2)}, tmp_path / "a")
    # Only what load_safetensors reads back is written (complex64 was, then refused).
    for value, what in [(np.ones(2, np.complex64), "has dtype complex64"),
                        (np.array(["x"]), "has dtype <U1"),
                        (jax.random.key(0), r"is a PRNG key; save its data, "
                                            r"jax.random.key_data\(key\)")]:
        with pytest.raises(TypeError, match=f"save_safetensors: the array at 'a.b' {what}"):
            save_safetensors({"a": {"b": value}}, tmp_path / "a")
    assert not list(tmp_path.iterdir())
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_safetensors(tmp_path / "missing")
    (tmp_path / "pickle.pt").write_bytes(b"\x80\x04\x95garbage")
    with pytest.raises(ValueError, match="is not a safetensors file"):
        load_safetensors(tmp_path / "pickle.pt")


def test_safetensors_file_objects_and_bad_paths(tmp_path):
    buffer = io.BytesIO()
    save_safetensors({"fc.weight": np.eye(2, dtype=np.float32), "epoch": 2}, buffer)
    buffer.seek(0)
    loaded = load_safetensors(buffer)
    assert loaded["epoch"] == 2 and np.array_equal(loaded["fc.weight"], np.eye(2))
    with pytest.raises(TypeError, match="f must be a file path or a binary file, got int"):
        save_safetensors({}, 3)
    with pytest.raises(TypeError, match="f must be a file path or a binary file, got "
                                        "NoneType"):
        load_safetensors(None)


def test_safetensors_every_dtype_and_files_written_by_torch(tmp_path, torch):
    import ml_dtypes

    arrays = {name: np.arange(6).reshape(2, 3).astype(dtype) for name, dtype in [
        ("bf16", ml_dtypes.bfloat16), ("f16", np.float16), ("f32", np.float32),
        ("f64", np.float64), ("i8", np.int8), ("i32", np.int32), ("i64", np.int64),
        ("u8", np.uint8), ("bool", np.bool_), ("f8e4m3", ml_dtypes.float8_e4m3fn),
        ("f8e5m2", ml_dtypes.float8_e5m2)]}
    arrays["empty"] = np.zeros((0, 4), np.float32)
    save_safetensors(arrays, tmp_path / "all.safetensors")
    loaded = load_safetensors(tmp_path / "all.safetensors")
    for name, array in arrays.items():
        assert loaded[name].dtype == array.dtype and loaded[name].shape == array.shape
        np.testing.assert_array_equal(loaded[name], array)
    from safetensors.torch import save_file

    weights = torch.randn(3, 2)
    tensors = {"w": weights.to(torch.bfloat16), "f8": weights.to(torch.float8_e4m3fn),
               "f8e5": weights.to(torch.float8_e5m2)}  # fp8 checkpoints, safetensors' F8_*
    save_file(tensors, tmp_path / "torch.safetensors")
    loaded = load_safetensors(tmp_path / "torch.safetensors")
    for name, tensor in tensors.items():
        np.testing.assert_array_equal(loaded[name].astype(np.float32), tensor.float().numpy())
    from safetensors.torch import load_file  # and torch reads fnnet's float8 back

    for name in ("f8e4m3", "f8e5m2"):
        back = load_file(tmp_path / "all.safetensors")[name]
        np.testing.assert_array_equal(back.float().numpy(), arrays[name].astype(np.float32))


def test_safetensors_truncated_file(tmp_path):
    path = tmp_path / "model.safetensors"
    save_safetensors({"w": np.ones((4, 4), np.float32)}, path)
    data = path.read_bytes()
    path.write_bytes(data[:-8])
    with pytest.raises(ValueError, match=r"tensor 'w': offsets 0\.\.64 do not hold"):
        load_safetensors(path)
    path.write_bytes(data[:20])
    with pytest.raises(ValueError, match="header length .* exceeds the file"):
        load_safetensors(path)


def _safetensors_bytes(header: dict, data: bytes) -> bytes:
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + data


@pytest.mark.parametrize("offsets, size, message", [
    ([[0, 8], [4, 12]], 12, r"tensor 'b': its data starts at byte 4, not at 8 where the "
                            r"tensor before it ends"),
    ([[8, 16], [16, 24]], 24, r"tensor 'a': its data starts at byte 8, not at 0 where the "
                              r"data starts"),
    ([[0, 8], [8, 16]], 20, r"the tensors hold 16 of the file's 20 bytes of data"),
])
def test_safetensors_whose_tensors_overlap_or_leave_gaps_are_refused(offsets, size, message):
    """A header whose offsets let one tensor read another's bytes (or skip some) is
    damage, as the format and the safetensors library have it: never a wrong tensor."""
    from safetensors import SafetensorError
    from safetensors.numpy import load

    header = {name: {"dtype": "F32", "shape": [2], "data_offsets": where}
              for name, where in zip("ab", offsets, strict=True)}
    data = _safetensors_bytes(header, bytes(range(size)))
    with pytest.raises(SafetensorError):
        load(data)
    with pytest.raises(ValueError, match=message):
        load_safetensors(io.BytesIO(data))


def test_a_checkpoint_removed_while_it_is_read_gives_way_to_the_newer_one(
        tmp_path, monkeypatch):
    """A reader (an evaluation process) restores while a run with keep=1 saves its next
    checkpoint and removes the one being read: the reader lists again and restores the
    newer one, without calling the removed one damaged."""
    from fnnet.checkpoint import verify

    model, optimizer, state = _trained_state()
    template = create_train_state(model, optimizer, jax.random.key(5))
    writer = Checkpointer(tmp_path / "ckpt", keep=1)
    writer.save(state)
    later = state._replace(step=state.step + 1)
    real = verify.check_folder
    calls = []

    def racing(folder, step):
        calls.append(step)
        if len(calls) == 1:  # the run saves its next step and removes this one
            writer.save(later)
        return real(folder, step)

    monkeypatch.setattr(verify, "check_folder", racing)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CheckpointWarning)
        restored, _ = restore_checkpoint(tmp_path / "ckpt", template)
    assert calls == [int(state.step), int(later.step)]
    assert int(restored.step) == int(later.step)
    writer.close()
