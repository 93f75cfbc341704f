"""Shared test set-up: simulated CPU devices, fresh PRNG keys, PyTorch on 1 thread."""

from __future__ import annotations

import os

# Multi-device tests run on simulated CPU devices; this must happen before JAX starts.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")
# PyTorch (and the processes tests start) on one thread, as the torch fixture sets it.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import itertools  # noqa: E402
import pathlib  # noqa: E402

import jax  # noqa: E402
import pytest  # noqa: E402

_SEEDS = itertools.count()

SHARED_MNIST = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


@pytest.fixture
def key():
    """A fresh PRNG key for each test (deterministic across runs)."""
    return jax.random.key(next(_SEEDS))


@pytest.fixture(scope="session")
def torch():
    """PyTorch on the CPU, 1 thread; skips the test where PyTorch is not installed.

    One thread: the suite runs a worker per core (``pytest -n 2``), and a second thread
    per worker only contends with the other worker (PyTorch's ResNet-18 steps run
    several times slower so).
    """
    torch = pytest.importorskip("torch", reason="PyTorch is needed for parity tests "
                                "(pip install torch==2.13.0)")
    torch.set_num_threads(1)
    return torch


#: Test modules of layer arithmetic that run twice: with the kernels of this platform
#: (the CPU forms here) and with the portable forms a GPU or TPU compiles.
KERNEL_MODULES = {"test_functional", "test_nn"}


def pytest_generate_tests(metafunc):
    if metafunc.module.__name__ in KERNEL_MODULES:
        metafunc.parametrize("kernels", ["platform", "portable"], indirect=True)


@pytest.fixture(autouse=True)
def kernels(request):
    """The kernel choice a test traces under: ``"platform"``, or ``"portable"`` for the
    second run of the modules in :data:`KERNEL_MODULES`."""
    from fnnet.nn.functional import kernels as layer

    choice = getattr(request, "param", "platform")
    with layer.use(choice):
        yield choice


@pytest.fixture(autouse=True)
def recorder(request):
    """A fresh fnnet.torch recorder (tape, compile cache, statistics) for each test of
    the shim (``test_shim_*``, ``test_torch_*``); set its options through
    ``recorder.options`` (``recorder.options.eager_after = 3``). None elsewhere."""
    if not request.module.__name__.rpartition(".")[2].startswith(("test_shim", "test_torch")):
        yield None
        return
    from fnnet.torch import _compiler

    with _compiler.fresh() as fresh:
        yield fresh


@pytest.fixture(scope="session")
def mnist_dir():
    """The real MNIST test set (IDX files), or a skip naming where it is expected."""
    path = pathlib.Path(os.environ.get("FNNET_MNIST_DIR", SHARED_MNIST))
    if not (path / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"real MNIST test set not found in {path} (set FNNET_MNIST_DIR)")
    return path
