"""fnnet.torch.save / load: state dicts and checkpoints as safetensors, never pickles."""

from __future__ import annotations

import io
import pickle

import numpy as np
import pytest
import safetensors.numpy

import fnnet.torch as ft


def _model() -> ft.nn.Module:
    return ft.nn.Sequential(ft.nn.Linear(6, 8), ft.nn.BatchNorm1d(8), ft.nn.ReLU(),
                            ft.nn.Linear(8, 3))


def _data(seed: int = 0) -> tuple[ft.Tensor, ft.Tensor]:
    rng = np.random.default_rng(seed)
    return (ft.tensor(rng.normal(size=(16, 6)).astype(np.float32)),
            ft.tensor(rng.integers(0, 3, size=16)))


def _train(model, opt, steps: int) -> float:
    x, y = _data()
    loss = None
    for _ in range(steps):
        opt.zero_grad()
        loss = ft.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    return loss.item()


def _assert_same_tree(a, b) -> None:
    if isinstance(a, ft.Tensor):
        assert isinstance(b, ft.Tensor)
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert a.numpy().dtype == b.numpy().dtype
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            _assert_same_tree(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _assert_same_tree(x, y)
    else:
        assert a == b and type(a) is type(b)


def test_model_and_optimizer_state_dicts_round_trip_bitwise(tmp_path):
    model = _model()
    opt = ft.optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.99))
    _train(model, opt, 3)
    ft.save(model.state_dict(), tmp_path / "model.pt")
    ft.save(opt.state_dict(), tmp_path / "opt.pt")
    _assert_same_tree(dict(model.state_dict()), ft.load(tmp_path / "model.pt"))
    loaded = ft.load(tmp_path / "opt.pt", map_location="cpu", weights_only=True)
    _assert_same_tree(opt.state_dict(), loaded)
    assert loaded["param_groups"][0]["betas"] == (0.8, 0.99)
    assert sorted(loaded["state"]) == [0, 1, 2, 3, 4, 5]  # int keys stay ints


def test_flat_state_dict_is_a_plain_safetensors_file(tmp_path):
    model = _model()
    ft.save(model.state_dict(), tmp_path / "model.safetensors")
    arrays = safetensors.numpy.load_file(tmp_path / "model.safetensors")
    assert set(arrays) == set(model.state_dict())
    np.testing.assert_array_equal(arrays["0.weight"], model[0].weight.detach().numpy())


def _numpy_checkpoint(t):
    """A checkpoint as training scripts save it: a model, numpy's generator state, an
    array of scores and numpy scalars beside the epoch."""
    rng = np.random.RandomState(3)
    model = t.nn.Linear(2, 1)
    return {"epoch": 2, "model": model.state_dict(), "np_rng": rng.get_state(),
            "scores": np.arange(3.0), "order": np.arange(3), "best": np.float64(0.5),
            "step": np.int64(7)}


def _shown(checkpoint) -> list[str]:
    """What a resumed script sees of a checkpoint: each value's type and value."""
    rng = np.random.RandomState()
    rng.set_state(checkpoint["np_rng"])
    return [f"{key}: {type(value).__name__} {value!r}" for key, value in checkpoint.items()
            if key not in ("model", "np_rng")] + [repr(rng.rand(2)),
                                                  str(sorted(checkpoint["model"]))]


def test_numpy_values_in_a_checkpoint_load_as_pytorchs(torch, tmp_path):
    """numpy's arrays and scalars in a checkpoint (np.random.get_state()) are pickled as
    PyTorch pickles them: a weights-only load (the default) refuses them in PyTorch's
    words, a trusted load gives numpy's values back, and each library reads the
    other's file; a safetensors file's int64 arrays load as torch.from_numpy makes them."""
    for name, t in (("torch", torch), ("fnnet", ft)):
        t.save(_numpy_checkpoint(t), tmp_path / f"{name}.pt")
    refusals = []
    for name, t in (("torch", torch), ("fnnet", ft)):
        with pytest.raises(pickle.UnpicklingError) as refused:
            t.load(tmp_path / f"{name}.pt")
        refusals.append(str(refused.value))
    assert refusals[0] == refusals[1]
    assert "numpy._core.multiarray._reconstruct" in refusals[0]
    expected = _shown(torch.load(tmp_path / "torch.pt", weights_only=False))
    for t in (torch, ft):
        for name in ("torch", "fnnet"):
            loaded = t.load(tmp_path / f"{name}.pt", weights_only=False)
            assert _shown(loaded) == expected, (t.__name__, name)
            assert all(isinstance(v, t.Tensor) for v in loaded["model"].values())
    safetensors.numpy.save_file({"bn.num_batches_tracked": np.array(7, dtype=np.int64)},
                                tmp_path / "torch.safetensors")
    count = ft.load(tmp_path / "torch.safetensors")["bn.num_batches_tracked"]
    assert count.dtype == ft.from_numpy(np.array(7)).dtype and count.item() == 7


def test_resumed_training_matches_uninterrupted_training(tmp_path):
    ft.manual_seed(0)
    model = _model()
    opt = ft.optim.Adam(model.parameters(), lr=0.01)
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    _train(model, opt, 4)
    ft.save({"epoch": 4, "model_state_dict": model.state_dict(),
             "optimizer_state_dict": opt.state_dict(), "loss": 0.5}, tmp_path / "ckpt.pt")
    uninterrupted = _train(model, opt, 5)

    resumed_model = _model()
    resumed_model.load_state_dict(initial)  # different from the checkpoint: overwritten
    resumed_opt = ft.optim.Adam(resumed_model.parameters(), lr=0.01)
    checkpoint = ft.load(tmp_path / "ckpt.pt")
    assert checkpoint["epoch"] == 4 and checkpoint["loss"] == 0.5
    resumed_model.load_state_dict(checkpoint["model_state_dict"])
    resumed_opt.load_state_dict(checkpoint["optimizer_state_dict"])
    assert _train(resumed_model, resumed_opt, 5) == uninterrupted
    for (name, a), b in zip(model.state_dict().items(), resumed_model.state_dict().values(),
                            strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)


def test_binary_file_objects_round_trip():
    buffer = io.BytesIO()
    obj = {"step": 7, "name": "run", "values": [1.5, None, True], "t": ft.arange(4.0)}
    ft.save(obj, buffer)
    buffer.seek(0)
    _assert_same_tree(obj, ft.load(buffer))


def test_a_whole_module_goes_to_a_torch_file_and_not_to_a_safetensors_one(tmp_path):
    model = _model()
    opt = ft.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match=r"torch.save: cannot save a Sequential at 'the top'.*"
                       r"a safetensors file holds tensors and plain values"):
        ft.save(model, tmp_path / "model.safetensors")
    assert not list(tmp_path.iterdir())  # nothing written, not even a temporary file
    ft.save({"model": model.state_dict(), "opt": opt, "extra": {1, 2}}, tmp_path / "ckpt.pt")
    with pytest.raises(pickle.UnpicklingError, match=r"GLOBAL torch.optim.optimizers.SGD "
                                                     r"was not an allowed global"):
        ft.load(tmp_path / "ckpt.pt")
    loaded = ft.load(tmp_path / "ckpt.pt", weights_only=False)
    assert type(loaded["opt"]) is ft.optim.SGD and loaded["extra"] == {1, 2}
    assert [p.shape for p in loaded["opt"].param_groups[0]["params"]] == \
        [p.shape for p in model.parameters()]


class _Exploit:
    def __reduce__(self):
        return (print, ("unpickled!",))


def test_a_pickle_is_refused_not_unpickled(tmp_path, capsys):
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"weight": _Exploit()}, protocol=2))
    with pytest.raises(ValueError, match=r"evil.pt' is a pickle; refused: unpickling can "
                       r"run arbitrary code"):
        ft.load(path)
    assert "unpickled!" not in capsys.readouterr().out


def test_a_pytorch_state_dict_file_loads_into_the_same_model(tmp_path, torch):
    path = tmp_path / "torch.pt"
    theirs = torch.nn.Linear(2, 3)
    torch.save(theirs.state_dict(), path)
    mine = ft.nn.Linear(2, 3)
    mine.load_state_dict(ft.load(path))
    for name, value in theirs.state_dict().items():
        np.testing.assert_array_equal(mine.state_dict()[name].numpy(), value.numpy())


def test_other_files_and_missing_files(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(ValueError, match="notes.txt' is not a checkpoint: .* starts with b'hello'"):
        ft.load(path)
    # Python's own errors of open(), as PyTorch's load gives them
    with pytest.raises(FileNotFoundError, match=r"^\[Errno 2\] No such file or directory: "):
        ft.load(tmp_path / "missing.pt")
    with pytest.raises(IsADirectoryError, match=r"^\[Errno 21\] Is a directory: "):
        ft.load(tmp_path)


def test_writes_are_atomic(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"  # the safetensors writer (PyTorch's: below)
    ft.save({"w": ft.ones(3)}, path)
    before = path.read_bytes()

    def failing_save_file(tensors, filename, metadata=None):
        with open(filename, "wb") as handle:
            handle.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(safetensors.numpy, "save_file", failing_save_file)
    with pytest.raises(OSError, match="disk full"):
        ft.save({"w": ft.zeros(3)}, path)
    assert path.read_bytes() == before  # the old file, whole
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]  # no temporary
    with pytest.raises(OSError, match="disk full"):
        ft.save({"w": ft.zeros(3)}, tmp_path / "new.safetensors")
    assert not (tmp_path / "new.safetensors").exists()


def _fails_halfway(monkeypatch, errno_, os):
    """The disk fills halfway through writing the new file."""
    import pathlib

    def write_bytes(self, data):
        with open(self, "wb") as handle:
            handle.write(data[:len(data) // 2])
        raise OSError(errno_.ENOSPC, os.strerror(errno_.ENOSPC))

    monkeypatch.setattr(pathlib.Path, "write_bytes", write_bytes)


def _fsync_fails(monkeypatch, errno_, os):
    """The data written cannot reach the disk (a full disk seen at fsync)."""

    def fsync(fd):
        raise OSError(errno_.ENOSPC, os.strerror(errno_.ENOSPC))

    monkeypatch.setattr(os, "fsync", fsync)


def _rename_fails(monkeypatch, errno_, os):
    def replace(src, dst):
        raise OSError(errno_.ENOSPC, os.strerror(errno_.ENOSPC), str(src))

    monkeypatch.setattr(os, "replace", replace)


@pytest.mark.parametrize("failure", [_fails_halfway, _fsync_fails, _rename_fails])
def test_a_failed_pytorch_format_write_names_the_file_and_keeps_the_old_one(
        tmp_path, monkeypatch, failure):
    import errno
    import os

    path = tmp_path / "model.pt"
    ft.save({"w": ft.ones(3)}, path)
    before = path.read_bytes()
    failure(monkeypatch, errno, os)
    with pytest.raises(OSError, match=rf"torch.save: cannot write '{path}' \(No space left "
                                      r"on device\)") as info:
        ft.save({"w": ft.zeros(3)}, path)
    assert info.value.errno == errno.ENOSPC
    monkeypatch.undo()
    assert path.read_bytes() == before  # the old file, whole
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]  # no temporary
    np.testing.assert_array_equal(ft.load(path)["w"].numpy(), np.ones(3, np.float32))


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_a_saved_file_has_the_mode_and_link_pytorchs_would_have(tmp_path, torch, suffix):
    """torch.save opens its path as open(path, "wb") does: a new file's mode is the
    umask's default (a temporary file's 0600 hid checkpoints from a group), an existing
    file keeps its mode, and a symbolic link is written through, the link kept."""
    import os
    import stat

    def mode(path):
        return stat.S_IMODE(os.lstat(path).st_mode)

    umask = os.umask(0o027)
    try:
        for lib, name in ((torch, "torch"), (ft, "fnnet")):
            new = tmp_path / f"{name}{suffix}"
            lib.save({"w": lib.ones(2)}, new)
            assert mode(new) == 0o640, name
            os.chmod(new, 0o604)
            lib.save({"w": lib.ones(2)}, new)
            assert mode(new) == 0o604, name
            link = tmp_path / f"{name}-latest{suffix}"
            link.symlink_to(new.name)
            lib.save({"w": lib.zeros(2)}, link)
            assert link.is_symlink() and mode(new) == 0o604, name
    finally:
        os.umask(umask)
    for path in (tmp_path / f"fnnet{suffix}", tmp_path / f"fnnet-latest{suffix}"):
        np.testing.assert_array_equal(ft.load(path)["w"].numpy(), np.zeros(2, np.float32))
    if suffix == ".pt":
        assert torch.load(tmp_path / "fnnet-latest.pt")["w"].tolist() == [0.0, 0.0]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{name}{latest}{suffix}" for name in ("torch", "fnnet") for latest in ("", "-latest"))


def test_save_and_load_name_a_folder_an_empty_name_and_a_text_mode_file(tmp_path):
    with pytest.raises(IsADirectoryError, match=rf"torch.save: '{tmp_path}' is a folder; "
                                                "give the path of a file in it"):
        ft.save({"w": ft.ones(1)}, tmp_path)
    with pytest.raises(RuntimeError, match="torch.save: invalid file name ''"):
        ft.save({"w": ft.ones(1)}, "")
    ft.save({"w": ft.ones(1)}, tmp_path / "w.pt")
    with open(tmp_path / "w.pt") as text, pytest.raises(
            TypeError, match=r"w.pt' is open in text mode; open it in binary mode: "
                             r"open\(path, 'rb'\)"):
        ft.load(text)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.pt"]


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_a_named_pipe_is_written_in_place_and_read_as_a_file(tmp_path, torch, suffix):
    """torch.save to a path that is no regular file (a named pipe, /dev/null) writes
    into it, as open(path, 'wb') does; renaming a new file over it replaced the pipe
    (or, for root, the device /dev/null) with a regular file."""
    import os
    import stat
    import threading

    pipe = tmp_path / f"stream{suffix}"
    os.mkfifo(pipe)
    received = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()), daemon=True)
    reader.start()
    ft.save({"w": ft.arange(3.0)}, pipe)
    reader.join(timeout=60)
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == [pipe.name]  # no temporary
    loaded = ft.load(io.BytesIO(received[0]))
    assert loaded["w"].tolist() == [0.0, 1.0, 2.0]
    if suffix == ".pt":
        assert torch.load(io.BytesIO(received[0]))["w"].tolist() == [0.0, 1.0, 2.0]
    writer = threading.Thread(target=lambda: pipe.write_bytes(received[0]), daemon=True)
    writer.start()
    assert ft.load(pipe)["w"].tolist() == [0.0, 1.0, 2.0]
    writer.join(timeout=60)


def test_a_storage_of_a_zip64_record_is_aligned_as_pytorch_needs_for_mmap(
        tmp_path, torch, monkeypatch):
    """A storage near 4 GiB gets a zip64 field in its record's header; its data must
    still start at a multiple of 64 bytes (PyTorch's mmap=True load needs it). Shown
    with zipfile's zip64 threshold lowered, so that small storages take that path."""
    import zipfile

    from fnnet.torch import _torch_zip

    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 1000)
    path = tmp_path / "big.pt"
    ft.save({"small": ft.arange(3.0), "big": ft.arange(300.0)}, path)
    monkeypatch.undo()
    data = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        for record in archive.infolist():
            extra_length = int.from_bytes(data[record.header_offset + 28:
                                               record.header_offset + 30], "little")
            start = record.header_offset + 30 + len(record.filename) + extra_length
            if "/data/" in record.filename:
                assert start % _torch_zip.ALIGNMENT == 0, record.filename
                assert data[start:start + record.file_size] == archive.read(record)
    loaded = torch.load(path, mmap=True)
    assert loaded["big"].tolist() == list(map(float, range(300)))
    assert ft.load(path)["small"].tolist() == [0.0, 1.0, 2.0]


def _train_with_checkpoints(t, folder, epochs, resume):
    """A training script that writes, each epoch, the checkpoint courses write (model,
    optimizer, scheduler, GradScaler, epoch, best loss, and torch's, numpy's and
    Python's generator states), and starts from the last one when ``resume``: the
    losses it prints and the final weights."""
    import random

    random.seed(0)
    np.random.seed(0)
    t.manual_seed(0)
    x, y = t.randn(32, 5), t.randint(0, 3, (32,))
    # no bias before the BatchNorm: its gradient is zero but for rounding, which Adam
    # would scale up to steps of the learning rate
    model = t.nn.Sequential(t.nn.Linear(5, 8, bias=False), t.nn.BatchNorm1d(8),
                            t.nn.ReLU(), t.nn.Linear(8, 3))
    opt = t.optim.AdamW(model.parameters(), lr=0.02)
    sched = t.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
    scaler = t.amp.GradScaler("cpu", enabled=False)
    start, best, printed = 0, float("inf"), []
    if resume:
        ckpt = t.load(folder / "last.pt", weights_only=False)
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        scaler.load_state_dict(ckpt["scaler"])
        start, best = ckpt["epoch"] + 1, ckpt["best"]
        t.set_rng_state(ckpt["torch_rng"])
        np.random.set_state(ckpt["np_rng"])
        random.setstate(ckpt["py_rng"])
    for epoch in range(start, epochs):
        order = t.randperm(32)
        total = 0.0
        for i in range(0, 32, 16):
            idx = order[i:i + 16]
            noise = 0.01 * float(np.random.rand()) + 0.01 * random.random()
            loss = t.nn.functional.cross_entropy(model(x[idx] + noise), y[idx])
            opt.zero_grad()
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            total += loss.item()
        sched.step()
        best = min(best, total)
        printed.append(f"{epoch} {total:.5f} {sched.get_last_lr()[0]:.5f}")
        t.save({"epoch": epoch, "model": model.state_dict(), "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(), "scaler": scaler.state_dict(), "best": best,
                "torch_rng": t.get_rng_state(), "np_rng": np.random.get_state(),
                "py_rng": random.getstate()}, folder / "last.pt")
    return printed, [p.detach().numpy().copy() for p in model.parameters()]


@pytest.mark.slow  # trains five short runs in each library
def test_a_checkpoint_with_every_generator_state_resumes_as_in_pytorch(torch, tmp_path):
    """Interrupted after two epochs and resumed from the checkpoint each epoch writes,
    the script prints the losses of the run that was not interrupted, and of PyTorch's,
    whichever library wrote the checkpoint."""
    runs = {}
    for name, t in (("torch", torch), ("fnnet", ft)):
        (tmp_path / name).mkdir()
        runs[name] = _train_with_checkpoints(t, tmp_path / name, 4, resume=False)
        _train_with_checkpoints(t, tmp_path / name, 2, resume=False)
        (tmp_path / name / "interrupted.pt").write_bytes(
            (tmp_path / name / "last.pt").read_bytes())
    for saver, t in (("torch", ft), ("fnnet", torch), ("fnnet", ft)):
        (tmp_path / saver / "last.pt").write_bytes(
            (tmp_path / saver / "interrupted.pt").read_bytes())
        printed, weights = _train_with_checkpoints(t, tmp_path / saver, 4, resume=True)
        assert printed == runs["torch"][0][2:], (saver, t.__name__)
        for got, expected in zip(weights, runs["torch"][1], strict=True):
            np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
    assert runs["fnnet"][0] == runs["torch"][0]
