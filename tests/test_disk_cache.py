"""Compiled programs kept on disk (``fnnet.core.disk_cache``): a script run again loads
its programs, a cache the user chose is kept, and ``FNNET_COMPILATION_CACHE=0`` turns
it off. Each case is a fresh process, as a user's runs are."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from fnnet.core import disk_cache

#: a PyTorch-style loop under fnnet.torch that reports its cache folder and JAX's count
#: of programs loaded from the cache
SCRIPT = """
import json
from jax import monitoring

hits = []
monitoring.register_event_listener(
    lambda event, **kw: hits.append(1) if event == "/jax/compilation_cache/cache_hits" else None)
import jax
import fnnet.torch as torch

model = torch.nn.Linear(3, 2)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for _ in range(3):
    opt.zero_grad()
    loss = torch.nn.functional.mse_loss(model(torch.ones(4, 3)), torch.zeros(4, 2))
    loss.backward()
    opt.step()
    loss.item()
print(json.dumps({"folder": jax.config.jax_compilation_cache_dir, "hits": len(hits),
                  "size_limit": jax.config.jax_compilation_cache_max_size}))
"""


def _run(env_changes):
    env = {k: v for k, v in os.environ.items()
           if k not in ("JAX_COMPILATION_CACHE_DIR", "FNNET_COMPILATION_CACHE",
                        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS",
                        "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES")}
    env.update(env_changes)
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_a_script_run_again_loads_its_compiled_programs(tmp_path):
    folder = tmp_path / "cache"
    first = _run({"FNNET_COMPILATION_CACHE": str(folder)})
    second = _run({"FNNET_COMPILATION_CACHE": str(folder)})
    assert first["folder"] == second["folder"] == str(folder)
    assert first["hits"] == 0 and any(folder.iterdir())
    assert second["hits"] >= 3  # the PRNG key, the parameters' draws, the step
    # JAX's own size limit reads the whole folder at every program written: fnnet prunes
    # the folder itself instead (disk_cache.prune)
    assert first["size_limit"] == second["size_limit"] == -1


@pytest.mark.slow
def test_the_default_folder_is_under_the_users_cache_home(tmp_path):
    run = _run({"XDG_CACHE_HOME": str(tmp_path)})
    assert run["folder"] == str(tmp_path / "fnnet" / "xla")


@pytest.mark.slow
def test_a_cache_the_user_chose_is_kept_and_zero_turns_it_off(tmp_path):
    assert _run({"JAX_COMPILATION_CACHE_DIR": str(tmp_path / "mine"),
                 "FNNET_COMPILATION_CACHE": str(tmp_path / "ours")})["folder"] == \
        str(tmp_path / "mine")
    assert not (tmp_path / "ours").exists()
    off = _run({"FNNET_COMPILATION_CACHE": "0", "XDG_CACHE_HOME": str(tmp_path)})
    assert (off["folder"], off["hits"]) == (None, 0)
    assert not (tmp_path / "fnnet").exists()


@pytest.mark.slow
def test_a_folder_that_cannot_be_made_leaves_the_cache_off(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert _run({"FNNET_COMPILATION_CACHE": str(blocker / "xla")})["folder"] is None


def _programs(folder, ages, size=100):
    """JAX-style cache files ``p<i>-cache`` of ``size`` bytes, last used ``ages[i]``
    seconds ago."""
    folder.mkdir(exist_ok=True)
    now = time.time()
    for i, age in enumerate(ages):
        path = folder / f"p{i}-cache"
        path.write_bytes(b"x" * size)
        os.utime(path, (now - age, now - age))


def test_prune_removes_the_least_recently_used_programs_until_the_rest_fit(tmp_path):
    folder = tmp_path / "xla"
    _programs(folder, [500, 100, 400, 300, 200])
    # a program whose last use JAX's own limit wrote beside it (just now): the oldest file,
    # the most recently used program
    (folder / "p0-atime").write_bytes(b"12345678")
    (folder / "notes.txt").write_text("not JAX's")
    assert disk_cache.prune(folder, 250) == 3
    assert sorted(p.name for p in folder.iterdir()) == [
        "notes.txt", "p0-atime", "p0-cache", "p1-cache"]
    assert disk_cache.prune(folder, 250) == 0
    assert disk_cache.prune(folder, 0) == 2
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


def test_prune_refuses_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="max_bytes must be >= 0, got -1"):
        disk_cache.prune(tmp_path, -1)
    with pytest.raises(TypeError, match="max_bytes must be an int .*float 1.5"):
        disk_cache.prune(tmp_path, 1.5)
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError, match="folder must be a folder"):
        disk_cache.prune(tmp_path / "file")


def test_a_folder_is_pruned_when_the_cache_starts_at_most_once_an_hour(tmp_path, monkeypatch):
    folder = tmp_path / "xla"
    _programs(folder, [300, 200, 100])
    monkeypatch.setattr(disk_cache, "MAX_BYTES", 150)
    disk_cache._prune_when_due(folder)
    assert sorted(p.name for p in folder.iterdir()) == [disk_cache.MARKER, "p2-cache"]
    _programs(folder, [30, 20, 10])  # written since: the folder is over its size again
    disk_cache._prune_when_due(folder)
    assert len(list(folder.glob("*-cache"))) == 3
    hour_ago = time.time() - disk_cache.PRUNE_EVERY - 1
    os.utime(folder / disk_cache.MARKER, (hour_ago, hour_ago))
    disk_cache._prune_when_due(folder)
    assert sorted(p.name for p in folder.glob("*-cache")) == ["p2-cache"]
