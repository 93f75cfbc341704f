"""Two processes x 2 CPU devices on localhost (jax.distributed, gloo) train like one process
with 4 devices, ``fit`` on them is the one-process run, and a state that differs across
processes is refused at start.

The processes are started by ``fnnet.parallel.launch_local``: a free port, a timeout,
and every process killed when one fails. Run as a script, this file is the worker of
the mismatch test.
"""

from __future__ import annotations

import argparse
import importlib.util
import pathlib
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "data_parallel" / "sharded_mnist.py"
TIMEOUT = 240  # seconds for a whole launch; a run takes about 15 s

# Each test starts two processes (JAX and the example imported in each): the slow tier.
pytestmark = pytest.mark.slow


def _load_example():
    spec = importlib.util.spec_from_file_location("sharded_mnist", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _launch(args):
    from fnnet.parallel import LaunchError, launch_local

    try:
        return launch_local([sys.executable, *map(str, args)], 2, cpu_devices_per_process=2,
                            timeout=TIMEOUT)
    except LaunchError as error:
        outputs = "\n".join(f"--- process {i}:\n{r.stdout[-3000:]}"
                            for i, r in enumerate(error.results))
        pytest.fail(f"{error}\n{outputs}")


def test_two_processes_train_like_one_process_with_four_devices(tmp_path):
    import jax

    from fnnet import parallel
    from fnnet.nn.state_dict import state_dict

    if jax.device_count() < 4:
        pytest.skip("needs 4 devices for the single-process reference")
    saved = tmp_path / "params.npz"
    flags = ["--dataset", "digits", "--epochs", "1", "--steps", "6", "--batch-size", "32"]
    results = _launch([EXAMPLE, *flags, "--save", saved])
    assert "4 devices on 2 process(es)" in results[0].stdout
    assert "held-out accuracy" in results[0].stdout
    assert "held-out accuracy" not in results[1].stdout  # only process 0 logs

    example = _load_example()
    args = argparse.Namespace(dataset="digits", data_dir=None, epochs=1, steps=6,
                              batch_size=32, lr=0.05, seed=0)
    state, _ = example.train_and_evaluate(args, mesh=parallel.data_mesh(4))
    assert int(parallel.gather(state.step)) == 6
    expected = state_dict(parallel.gather(state.params))
    with np.load(saved) as got:
        assert sorted(got.files) == sorted(expected)
        for name in expected:
            np.testing.assert_allclose(got[name], expected[name], rtol=1e-5, atol=1e-6,
                                       err_msg=name)


def test_a_state_that_differs_across_processes_is_refused_at_start():
    results = _launch([__file__, "mismatch"])
    for process, result in enumerate(results):
        assert f"process {process}: structure refused" in result.stdout, result.stdout
        assert f"process {process}: values refused" in result.stdout, result.stdout
        assert "the values of state.params['fc']['bias'] on process 1 differ" in result.stdout


def _fit_run(devices, seed=0, logdir=None):
    """``fit`` of a small MLP on digits: one epoch, two steps a call, an odd-sized
    evaluation, its logs in ``logdir``; ``(history, params as a flat state dict)``."""
    from fnnet import data, models, optim
    from fnnet.nn.state_dict import state_dict
    from fnnet.parallel import gather
    from fnnet.train import fit

    x, y = data.load("digits", "train", dtype=np.float32)
    state, history = fit(models.MLP((64, 16, 10)), optim.SGD(lr=0.1, momentum=0.9), (x, y),
                         eval_data=(x[:101], y[:101]), eval_batch_size=8, epochs=1,
                         batch_size=32, steps_per_call=2, seed=seed, devices=devices,
                         progress=False, logdir=logdir)
    return history, state_dict(gather(state.params))


def test_fit_on_two_processes_is_the_one_process_run(tmp_path):
    # Every process reads the whole batches: without devices each computes the run
    # alike; with every device of both, each step is split over the four.
    expected_history, expected = _fit_run(None)
    for mode in ("alike", "devices"):
        results = _launch([__file__, "fit", mode, tmp_path / mode])
        for process in range(2):
            history = np.load(tmp_path / f"{mode}{process}.history.npy", allow_pickle=True)
            assert history.item()["eval_loss"] == pytest.approx(
                expected_history["eval_loss"], rel=1e-5), (mode, process, results)
            with np.load(tmp_path / f"{mode}{process}.npz") as got:
                for name in expected:
                    np.testing.assert_allclose(got[name], expected[name], rtol=1e-5,
                                               atol=1e-6, err_msg=f"{mode} {name}")
        # the run's logs are process 0's: one event file, not one per process
        assert len(list((tmp_path / f"{mode}logs").glob("events.out.tfevents.*"))) == 1


def _fit_worker(mode: str, prefix: str) -> int:
    from fnnet import parallel

    parallel.initialize()
    import jax

    history, params = _fit_run(None if mode == "alike" else jax.device_count(),
                               logdir=f"{prefix}logs")
    me = jax.process_index()
    np.savez(f"{prefix}{me}.npz", **params)
    np.save(f"{prefix}{me}.history.npy", np.array(history, dtype=object))
    return 0


def _mismatch_worker() -> int:
    """Each process builds a state; process 1's differs, first in layout, then in value."""
    from fnnet import parallel

    parallel.initialize()
    import jax

    from fnnet import nn, optim
    from fnnet.train import create_train_state

    me = jax.process_index()
    model = nn.Linear(3, 2)
    optimizer = optim.SGD(lr=0.1)
    state = create_train_state(model, optimizer, jax.random.key(0))
    wider = create_train_state(nn.Linear(3, 2 + me), optimizer, jax.random.key(0))
    try:
        parallel.put_replicated(wider)
    except ValueError as error:
        print(f"process {me}: structure refused: {error}", flush=True)
    shifted = dict(state.params, bias=state.params["bias"] + me)
    try:
        parallel.put_replicated(state._replace(params={"fc": shifted}))
    except ValueError as error:
        print(f"process {me}: values refused: {error}", flush=True)
    parallel.put_replicated(state)  # the same everywhere: accepted
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["mismatch"]:
        sys.exit(_mismatch_worker())
    if sys.argv[1:2] == ["fit"]:
        sys.exit(_fit_worker(*sys.argv[2:4]))
    sys.exit(f"usage: {sys.argv[0]} mismatch")


def test_simulated_devices_keep_the_users_other_xla_flags():
    """``cpu_devices_per_process`` adds its device count after the environment's own
    ``XLA_FLAGS`` (a dump folder, a determinism flag) instead of replacing them."""
    from fnnet.parallel import launch_local

    show = "import os; print(os.environ['XLA_FLAGS'])"
    results = launch_local([sys.executable, "-c", show], 2, cpu_devices_per_process=3,
                           timeout=TIMEOUT, env={"XLA_FLAGS": "--xla_dump_to=xla_dumps"})
    for result in results:
        assert result.stdout.strip() == (
            "--xla_dump_to=xla_dumps --xla_force_host_platform_device_count=3")


def test_a_failed_process_is_quoted_in_the_error():
    from fnnet.parallel import LaunchError, launch_local

    fail = ("import os, sys, time; rank = os.environ['FNNET_PROCESS_ID']; print('rank', rank)"
            "\nif rank == '1': sys.exit('rank 1: bad data')\ntime.sleep(60)")
    with pytest.raises(LaunchError) as error:
        launch_local([sys.executable, "-c", fail], 2, timeout=TIMEOUT)
    assert str(error.value) == ("process 1 exited with code 1; the others were stopped; the "
                                "last lines process 1 printed:\nrank 1\nrank 1: bad data")
