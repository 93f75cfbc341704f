"""Compiled programs kept on disk (``fnnet.core.disk_cache``): a script run again loads
its programs, a cache the user chose is kept, and ``FNNET_COMPILATION_CACHE=0`` turns
it off. Each case is a fresh process, as a user's runs are."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

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
print(json.dumps({"folder": jax.config.jax_compilation_cache_dir, "hits": len(hits)}))
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
    assert _run({"FNNET_COMPILATION_CACHE": "0", "XDG_CACHE_HOME": str(tmp_path)}) == \
        {"folder": None, "hits": 0}
    assert not (tmp_path / "fnnet").exists()


@pytest.mark.slow
def test_a_folder_that_cannot_be_made_leaves_the_cache_off(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert _run({"FNNET_COMPILATION_CACHE": str(blocker / "xla")})["folder"] is None
