"""Every workload of the PyTorch tutorials, timed side by side in one run.

For each workload (a training step, or inference at batch 1000) the same step is built
in each implementation and timed interleaved by :func:`harness.time_steps`, so that the
machine's load hits all alike:

- **PyTorch eager** with 2 threads (``torch.set_num_threads(2)``), and with 1 thread: on
  a loaded 2-core machine PyTorch's OpenMP barrier can stall for hundreds of ms a step
  with 2 threads, so both are shown and ratios are also given against the faster;
- **torch.compile** of the same module (inductor on the CPU), where it compiles here;
- **Flax NNX**: the equivalent ``nnx.Module`` and an ``nnx.jit`` step (``nnx.Optimizer``
  with the same optax transformation); convolutional models in Flax's own NHWC layout,
  fed NHWC batches;
- **fnnet**: ``fnnet.train.make_train_step`` (jitted, state donated) and
  ``fnnet.train.make_predict``; for training also with ``steps_per_call=8`` (8 batches
  stacked on a leading axis, one ``lax.scan`` call; time per call / 8);
- **fnnet.torch**: the very PyTorch loop, run with ``import fnnet.torch as torch``.

Every step receives its batch as host numpy arrays, as a data loader yields them
(PyTorch through ``torch.from_numpy``, zero-copy); labels are int64 for PyTorch and
int32 for JAX. A step ends when its result is ready (``block_until_ready``; PyTorch's
eager CPU ops are synchronous; the loss is read with ``.item()`` for both PyTorch loops).

Also printed: the first call's seconds (tracing and compiling, from the interleaved run),
the growth of the process's resident memory (each implementation in a fresh
subprocess: ``VmRSS`` after building the model and running a few steps minus ``VmRSS``
once the frameworks are imported and started and the batches made, and the same for the peak,
``VmHWM``; it counts parameters, optimizer state, activations, workspace, compiled code
and the allocators' caches), and each
workload's arithmetic floor: XLA's FLOP count of fnnet's step
(``compiled.cost_analysis()['flops']``, with plain XLA convolutions) divided by the rate
of a 2048x2048 float32 matrix product measured in the same run.

    python benchmarks/suite.py [--quick] [--workloads mlp_sgd,lenet] [--no-memory]
        [--no-compile] [--markdown out.md]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import pathlib
import subprocess
import sys
import time
import traceback
from collections.abc import Callable

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from harness import Timing, machine, time_steps, versions  # noqa: E402

EAGER = "PyTorch eager (2 threads)"
EAGER1 = "PyTorch eager (1 thread)"
COMPILED = "torch.compile"
NNX = "Flax NNX (nnx.jit)"
FNNET = "fnnet (jit)"
FUSED = "fnnet, 8 steps per call"
SHIM = "fnnet.torch (same loop)"
IMPLEMENTATIONS = (EAGER, EAGER1, COMPILED, NNX, FNNET, FUSED, SHIM)
FUSED_STEPS = 8


@dataclasses.dataclass(frozen=True)
class Workload:
    """One benchmark: a model, a batch and an optimizer (None: inference)."""

    name: str
    title: str
    model: str
    batch: int
    optimizer: str | None
    steps: int
    quick_steps: int
    warmup: int = 10


WORKLOADS = {w.name: w for w in (
    Workload("mlp_sgd", "MLP 784-128-64-10, batch 64, SGD(lr=0.01, momentum=0.9)",
             "mlp", 64, "sgd", 500, 100),
    Workload("mlp_adam", "MLP 784-128-64-10, batch 64, Adam(lr=1e-3)",
             "mlp", 64, "adam", 500, 100),
    Workload("lenet", "LeNet-5, 1x32x32, batch 64, SGD(lr=0.01, momentum=0.9)",
             "lenet", 64, "sgd", 200, 40),
    Workload("logreg", "Logistic regression 784->10, batch 64, SGD(lr=1e-3)",
             "logreg", 64, "sgd_plain", 500, 100),
    Workload("resnet18", "ResNet-18 (CIFAR stem), 3x32x32, batch 128, "
             "SGD(lr=0.1, momentum=0.9, weight_decay=5e-4)", "resnet18", 128, "sgd_wd", 6, 2,
             warmup=2),
    Workload("mlp_infer", "MLP inference, batch 1000", "mlp", 1000, None, 300, 60),
    Workload("lenet_infer", "LeNet-5 inference, batch 1000", "lenet", 1000, None, 100, 20),
    Workload("logreg_infer", "Logistic regression inference, batch 1000", "logreg", 1000,
             None, 300, 60),
    Workload("resnet18_infer", "ResNet-18 inference, batch 1000", "resnet18", 1000, None,
             3, 1, warmup=1),
)}

INPUT_SHAPES = {"mlp": (1, 28, 28), "logreg": (1, 28, 28), "lenet": (1, 32, 32),
                "resnet18": (3, 32, 32)}
CONVOLUTIONAL = ("lenet", "resnet18")


def host_batches(workload: Workload, count: int, seed: int = 0) -> list[dict]:
    """``count`` host batches: NCHW float32 images, int64 and int32 labels, NHWC copies."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        x = rng.standard_normal((workload.batch, *INPUT_SHAPES[workload.model]),
                                dtype=np.float32)
        y = rng.integers(0, 10, workload.batch)
        out.append({"x": x, "y64": y.astype(np.int64), "y32": y.astype(np.int32),
                    "x_nhwc": np.ascontiguousarray(x.transpose(0, 2, 3, 1))})
    return out


# ---- the PyTorch-style models and loop, written once for torch and fnnet.torch --------

def torch_model(torch, name: str):
    """The tutorial's ``nn.Module`` for ``name``, built from ``torch``'s API."""
    nn, F = torch.nn, torch.nn.functional

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, 128)
            self.fc2 = nn.Linear(128, 64)
            self.fc3 = nn.Linear(64, 10)

        def forward(self, x):
            x = x.view(-1, 784)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)

    class LogReg(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(784, 10)

        def forward(self, x):
            return self.linear(x.view(-1, 784))

    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = x.view(-1, 16 * 5 * 5)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)

    class BasicBlock(nn.Module):
        def __init__(self, inplanes, planes, stride=1):
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = None
            if stride != 1 or inplanes != planes:
                self.downsample = nn.Sequential(
                    nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return F.relu(out + identity)

    class ResNet18(nn.Module):
        """torchvision's resnet18 with the CIFAR stem (3x3 conv1, no max-pool)."""

        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            planes, layers = 64, []
            for width, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
                layers.append(nn.Sequential(BasicBlock(planes, width, stride),
                                            BasicBlock(width, width)))
                planes = width
            self.layer1, self.layer2, self.layer3, self.layer4 = layers
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(512, 10)

        def forward(self, x):
            x = F.relu(self.bn1(self.conv1(x)))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return {"mlp": MLP, "logreg": LogReg, "lenet": LeNet, "resnet18": ResNet18}[name]()


def torch_optimizer(torch, kind: str, params):
    if kind == "sgd":
        return torch.optim.SGD(params, lr=0.01, momentum=0.9)
    if kind == "sgd_plain":
        return torch.optim.SGD(params, lr=1e-3)
    if kind == "sgd_wd":
        return torch.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=5e-4)
    return torch.optim.Adam(params, lr=1e-3)


def torch_loop(torch, workload: Workload, batches, compile_model: bool = False,
               threads: int | None = None) -> Callable[[int], object]:
    """The PyTorch tutorial loop body as ``step(i)``; the same code for fnnet.torch."""
    model = torch_model(torch, workload.model)
    if compile_model:
        model = torch.compile(model)
    criterion = torch.nn.CrossEntropyLoss()

    def ensure_threads():
        if threads is not None and torch.get_num_threads() != threads:
            torch.set_num_threads(threads)

    if workload.optimizer is None:
        model.eval()

        def infer(i):
            ensure_threads()
            b = batches[i % len(batches)]
            with torch.no_grad():
                out = model(torch.from_numpy(b["x"]))
            return out.numpy()

        return infer
    optimizer = torch_optimizer(torch, workload.optimizer, model.parameters())
    model.train()

    def train(i):
        ensure_threads()
        b = batches[i % len(batches)]
        x, y = torch.from_numpy(b["x"]), torch.from_numpy(b["y64"])
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    return train


# ---- fnnet's functional step ---------------------------------------------------------

def fnnet_model(name: str):
    from fnnet import models

    return {"mlp": lambda: models.MLP((784, 128, 64, 10)),
            "logreg": lambda: models.LogisticRegression(784, 10),
            "lenet": models.LeNet5,
            "resnet18": lambda: models.ResNet18(num_classes=10, stem="cifar")}[name]()


def fnnet_optimizer(kind: str):
    from fnnet import optim

    return {"sgd": lambda: optim.SGD(lr=0.01, momentum=0.9),
            "sgd_plain": lambda: optim.SGD(lr=1e-3),
            "sgd_wd": lambda: optim.SGD(lr=0.1, momentum=0.9, weight_decay=5e-4),
            "adam": lambda: optim.Adam(lr=1e-3)}[kind]()


def fnnet_step(workload: Workload, batches, steps_per_call: int = 1
               ) -> Callable[[int], object]:
    import jax

    from fnnet import losses
    from fnnet.train import create_train_state, make_predict, make_train_step

    model = fnnet_model(workload.model)
    if workload.optimizer is None:
        params, layer_state = jax.jit(model.init)(jax.random.key(0))
        predict = make_predict(model)

        def infer(i):
            return predict(params, layer_state, batches[i % len(batches)]["x"])

        return infer
    optimizer = fnnet_optimizer(workload.optimizer)
    holder = {"state": create_train_state(model, optimizer, jax.random.key(0))}
    train_step = make_train_step(model, optimizer, losses.cross_entropy,
                                 steps_per_call=steps_per_call)
    if steps_per_call > 1:
        # What a loader yielding k batches at once gives: [k, B, ...] host arrays.
        batches = [{"x": np.stack([batches[(i + j) % len(batches)]["x"]
                                   for j in range(steps_per_call)]),
                    "y32": np.stack([batches[(i + j) % len(batches)]["y32"]
                                     for j in range(steps_per_call)])}
                   for i in range(len(batches))]

    def train(i):
        b = batches[i % len(batches)]
        holder["state"], metrics = train_step(holder["state"], (b["x"], b["y32"]))
        return metrics["loss"]

    return train


def fnnet_floor_flops(workload: Workload, batches) -> float:
    """XLA's FLOP count of fnnet's step with the plain XLA convolutions."""
    import jax

    from fnnet import losses
    from fnnet.nn.functional import kernels
    from fnnet.train import create_train_state, make_predict, make_train_step

    with kernels.use("portable"):
        model = fnnet_model(workload.model)
        b = batches[0]
        if workload.optimizer is None:
            params, layer_state = jax.eval_shape(model.init, jax.random.key(0))
            lowered = make_predict(model).lower(params, layer_state, b["x"])
        else:
            optimizer = fnnet_optimizer(workload.optimizer)
            state = jax.eval_shape(
                lambda k: create_train_state(model, optimizer, k), jax.random.key(0))
            lowered = make_train_step(model, optimizer, losses.cross_entropy).lower(
                state, (b["x"], b["y32"]))
        cost = lowered.compile().cost_analysis()
        cost = cost[0] if isinstance(cost, (list, tuple)) else cost
        return float(cost["flops"])


def matmul_gflops(size: int = 2048, repeats: int = 10) -> float:
    """Best rate of a jitted ``size x size`` float32 matrix product, GFLOP/s."""
    import jax
    import jax.numpy as jnp

    a = jnp.asarray(np.random.default_rng(0).standard_normal((size, size), np.float32))
    f = jax.jit(lambda u, v: u @ v)
    f(a, a).block_until_ready()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        f(a, a).block_until_ready()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


# ---- Flax NNX ------------------------------------------------------------------------

def nnx_model(name: str):
    from flax import nnx

    rngs = nnx.Rngs(0)

    class MLP(nnx.Module):
        def __init__(self):
            self.fc1 = nnx.Linear(784, 128, rngs=rngs)
            self.fc2 = nnx.Linear(128, 64, rngs=rngs)
            self.fc3 = nnx.Linear(64, 10, rngs=rngs)

        def __call__(self, x):
            x = x.reshape(x.shape[0], -1)
            x = nnx.relu(self.fc1(x))
            x = nnx.relu(self.fc2(x))
            return self.fc3(x)

    class LogReg(nnx.Module):
        def __init__(self):
            self.linear = nnx.Linear(784, 10, rngs=rngs)

        def __call__(self, x):
            return self.linear(x.reshape(x.shape[0], -1))

    class LeNet(nnx.Module):
        def __init__(self):
            self.conv1 = nnx.Conv(1, 6, (5, 5), padding="VALID", rngs=rngs)
            self.conv2 = nnx.Conv(6, 16, (5, 5), padding="VALID", rngs=rngs)
            self.fc1 = nnx.Linear(400, 120, rngs=rngs)
            self.fc2 = nnx.Linear(120, 84, rngs=rngs)
            self.fc3 = nnx.Linear(84, 10, rngs=rngs)

        def __call__(self, x):  # NHWC
            x = nnx.max_pool(nnx.relu(self.conv1(x)), (2, 2), strides=(2, 2))
            x = nnx.max_pool(nnx.relu(self.conv2(x)), (2, 2), strides=(2, 2))
            x = x.reshape(x.shape[0], -1)
            x = nnx.relu(self.fc1(x))
            x = nnx.relu(self.fc2(x))
            return self.fc3(x)

    def bn(width):
        return nnx.BatchNorm(width, momentum=0.9, epsilon=1e-5, rngs=rngs)

    class Block(nnx.Module):
        def __init__(self, inplanes, planes, stride=1):
            self.conv1 = nnx.Conv(inplanes, planes, (3, 3), strides=stride, padding=1,
                                  use_bias=False, rngs=rngs)
            self.bn1 = bn(planes)
            self.conv2 = nnx.Conv(planes, planes, (3, 3), padding=1, use_bias=False,
                                  rngs=rngs)
            self.bn2 = bn(planes)
            self.project = stride != 1 or inplanes != planes
            if self.project:
                self.down = nnx.Conv(inplanes, planes, (1, 1), strides=stride,
                                     use_bias=False, rngs=rngs)
                self.down_bn = bn(planes)

        def __call__(self, x):
            identity = self.down_bn(self.down(x)) if self.project else x
            out = nnx.relu(self.bn1(self.conv1(x)))
            return nnx.relu(self.bn2(self.conv2(out)) + identity)

    class ResNet18(nnx.Module):
        def __init__(self):
            self.conv1 = nnx.Conv(3, 64, (3, 3), padding=1, use_bias=False, rngs=rngs)
            self.bn1 = bn(64)
            planes, blocks = 64, []
            for width, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
                blocks += [Block(planes, width, stride), Block(width, width)]
                planes = width
            self.blocks = nnx.List(blocks)
            self.fc = nnx.Linear(512, 10, rngs=rngs)

        def __call__(self, x):  # NHWC
            x = nnx.relu(self.bn1(self.conv1(x)))
            for block in self.blocks:
                x = block(x)
            return self.fc(x.mean(axis=(1, 2)))

    return {"mlp": MLP, "logreg": LogReg, "lenet": LeNet, "resnet18": ResNet18}[name]()


def nnx_step(workload: Workload, batches) -> Callable[[int], object]:
    import optax
    from flax import nnx

    model = nnx_model(workload.model)
    key = "x_nhwc" if workload.model in CONVOLUTIONAL else "x"
    if workload.optimizer is None:
        model.eval()
        forward = nnx.jit(lambda m, x: m(x))

        def infer(i):
            return forward(model, batches[i % len(batches)][key])

        return infer
    tx = {"sgd": lambda: optax.sgd(0.01, momentum=0.9),
          "sgd_plain": lambda: optax.sgd(1e-3),
          "sgd_wd": lambda: optax.chain(optax.add_decayed_weights(5e-4),
                                        optax.sgd(0.1, momentum=0.9)),
          "adam": lambda: optax.adam(1e-3)}[workload.optimizer]()
    optimizer = nnx.Optimizer(model, tx, wrt=nnx.Param)
    model.train()

    @nnx.jit
    def train_step(model, optimizer, x, y):
        def loss_fn(model):
            logits = model(x)
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

        loss, grads = nnx.value_and_grad(loss_fn)(model)
        optimizer.update(model, grads)
        return loss

    def train(i):
        b = batches[i % len(batches)]
        return train_step(model, optimizer, b[key], b["y32"])

    return train


# ---- building and timing -------------------------------------------------------------

def build(impl: str, workload: Workload, batches) -> tuple[Callable, Callable]:
    """``(step, sync)`` of one implementation of one workload."""
    import jax

    if impl in (EAGER, EAGER1, COMPILED):
        import torch

        torch.manual_seed(0)
        threads = 1 if impl == EAGER1 else 2
        torch.set_num_threads(threads)
        step = torch_loop(torch, workload, batches, compile_model=impl == COMPILED,
                          threads=threads)
        return step, lambda r: r
    if impl == NNX:
        return nnx_step(workload, batches), jax.block_until_ready
    if impl == FNNET:
        return fnnet_step(workload, batches), jax.block_until_ready
    if impl == FUSED:
        if workload.optimizer is None:
            raise ValueError("inference has no steps to fuse")
        return fnnet_step(workload, batches, FUSED_STEPS), jax.block_until_ready
    if impl == SHIM:
        import fnnet.torch as ftorch

        ftorch.manual_seed(0)
        return torch_loop(ftorch, workload, batches), jax.block_until_ready
    raise ValueError(f"unknown implementation {impl!r}")


def short_error(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}".replace("\n", " ").replace("|", "/")
    return text[:160]


def run_workload(workload: Workload, impls: list[str], quick: bool
                 ) -> tuple[list[Timing], dict[str, str]]:
    """Interleaved timings of ``impls`` on ``workload``; failures as ``name -> error``."""
    batches = host_batches(workload, 4 if workload.model == "resnet18" else 8)
    cases, failed, first = {}, {}, {}
    for impl in impls:
        try:
            step, sync = build(impl, workload, batches)
            # The first call (tracing, compiling) here, so that a failure is reported
            # and not raised inside the timing loop.
            with hidden_shim() if impl == COMPILED else contextlib.nullcontext():
                start = time.perf_counter()
                sync(step(0))
                first[impl] = time.perf_counter() - start
            cases[impl] = (step, sync)
        except Exception as error:  # noqa: BLE001 - any failure is reported as n/a
            failed[impl] = short_error(error)
            if os.environ.get("SUITE_DEBUG"):
                traceback.print_exc()
    steps = workload.quick_steps if quick else workload.steps
    warmup = min(workload.warmup, 3) if quick else workload.warmup
    timings = time_steps(cases, warmup=warmup, steps=steps,
                         rounds=min(5, steps)) if cases else []
    out = []
    for t in timings:
        k = FUSED_STEPS if t.name == FUSED else 1  # one call runs k steps
        out.append(dataclasses.replace(t, median_ms=t.median_ms / k, p10_ms=t.p10_ms / k,
                                       p90_ms=t.p90_ms / k, first_call_s=first[t.name]))
    return out, failed


@contextlib.contextmanager
def hidden_shim():
    """Hides fnnet.torch from ``sys.modules`` while torch.compile compiles.

    Inductor pickles its graphs, and pickle finds the module of an object such as
    ``torch.contiguous_format`` by asking every module in ``sys.modules`` for that dotted
    name, ``fnnet`` included (``fnnet.torch.contiguous_format``); fnnet.torch answers
    unknown names with NotImplementedError instead of AttributeError, which pickle does
    not expect.
    """
    import fnnet

    hidden = {name: module for name, module in sys.modules.items()
              if name == "fnnet.torch" or name.startswith("fnnet.torch.")}
    shim = fnnet.__dict__.pop("torch", None)
    for name in hidden:
        del sys.modules[name]
    try:
        yield
    finally:
        sys.modules.update(hidden)
        if shim is not None:
            fnnet.torch = shim


def probe(workload_name: str, impl: str) -> dict:
    """In a fresh process: first-call seconds and peak-RSS growth over a few steps."""
    workload = WORKLOADS[workload_name]
    batches = host_batches(workload, 4 if workload.model == "resnet18" else 8)
    import jax
    import torch

    if impl == SHIM:
        import fnnet.torch  # noqa: F401
    if impl == NNX:
        import flax.nnx  # noqa: F401
    # Start both runtimes (JAX's CPU client, PyTorch's thread pool) before the baseline,
    # so that the growth is the workload's, not the frameworks' fixed cost.
    jax.numpy.zeros(8).block_until_ready()
    torch.ones(8).sum().item()
    before = memory_mb()
    step, sync = build(impl, workload, batches)
    start = time.perf_counter()
    sync(step(0))
    first = time.perf_counter() - start
    for i in range(1, 3 if workload.model == "resnet18" else 10):
        sync(step(i))
    after = memory_mb()
    return {"first_call_s": first, "rss_growth_mb": after["VmRSS"] - before["VmRSS"],
            "peak_growth_mb": after["VmHWM"] - before["VmHWM"]}


def memory_mb() -> dict[str, float]:
    """The process's resident memory now (``VmRSS``) and at its peak (``VmHWM``), MB."""
    values = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    return values


def probe_in_subprocess(workload: Workload, impl: str, timeout: float) -> dict | str:
    cmd = [sys.executable, __file__, "--probe", workload.name, impl]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"timeout after {timeout:.0f} s"
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return short_error(RuntimeError(done.stderr.strip().splitlines()[-1]
                                    if done.stderr.strip() else "no output"))


def table(workload: Workload, timings: list[Timing], failed: dict[str, str],
          memory: dict[str, dict | str], flops: float | None, rate: float) -> list[str]:
    lines = [f"\n### {workload.title}\n"]
    if flops:
        lines.append(f"Arithmetic floor: {flops / 1e6:,.1f} MFLOP per step (XLA's count) "
                     f"at {rate:.0f} GFLOP/s (2048^2 matmul, this run) = "
                     f"{flops / rate / 1e6:.3f} ms.\n")
    by_name = {t.name: t for t in timings}
    base = by_name.get(EAGER)
    eager = [by_name[n] for n in (EAGER, EAGER1) if n in by_name]
    best = min(eager, key=lambda t: t.median_ms) if eager else None
    lines.append("| implementation | ms/step (median) | p10-p90 | vs PyTorch eager "
                 "| vs best PyTorch eager | first call (s) | RSS growth (peak growth), MB |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|")
    for impl in IMPLEMENTATIONS:
        mem = memory.get(impl)
        mem_text = (f"{mem['rss_growth_mb']:.0f} ({mem['peak_growth_mb']:.0f})"
                    if isinstance(mem, dict) else "-")
        if impl in by_name:
            t = by_name[impl]
            ratio = f"{t.ratio_to(base):.2f}x" if base else "-"
            ratio_best = f"{t.ratio_to(best):.2f}x" if best else "-"
            lines.append(f"| {impl} | {t.median_ms:.3f} | {t.p10_ms:.3f}-{t.p90_ms:.3f} | "
                         f"{ratio} | {ratio_best} | {t.first_call_s:.2f} | {mem_text} |")
        elif impl in failed:
            lines.append(f"| {impl} | n/a | | | | | {failed[impl]} |")
    return lines


def summary(results: dict[str, list[Timing]]) -> list[str]:
    lines = ["\n### Summary: speed relative to PyTorch eager (2 threads / best of 1 and 2 "
             "threads), higher is faster\n",
             "| workload | " + " | ".join(IMPLEMENTATIONS[2:]) + " |",
             "|---|" + "---:|" * len(IMPLEMENTATIONS[2:])]
    for name, timings in results.items():
        by_name = {t.name: t for t in timings}
        eager = [by_name[n] for n in (EAGER, EAGER1) if n in by_name]
        if EAGER not in by_name:
            continue
        best = min(eager, key=lambda t: t.median_ms)
        cells = []
        for impl in IMPLEMENTATIONS[2:]:
            t = by_name.get(impl)
            cells.append(f"{t.ratio_to(by_name[EAGER]):.2f}x / {t.ratio_to(best):.2f}x"
                         if t else "n/a")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps")
    parser.add_argument("--workloads", default=",".join(WORKLOADS),
                        help="comma-separated subset of " + ",".join(WORKLOADS))
    parser.add_argument("--no-memory", action="store_true",
                        help="skip the per-implementation subprocess memory probes")
    parser.add_argument("--no-compile", action="store_true", help="skip torch.compile")
    parser.add_argument("--compile-workloads", default="mlp_sgd,mlp_adam,lenet,logreg,"
                        "mlp_infer,lenet_infer,logreg_infer",
                        help="workloads on which to try torch.compile (slow to compile)")
    parser.add_argument("--probe-timeout", type=float, default=600.0)
    parser.add_argument("--markdown", help="also write the tables to this file")
    parser.add_argument("--probe", nargs=2, metavar=("WORKLOAD", "IMPL"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(probe(*args.probe)))
        return

    import fnnet

    names = [n.strip() for n in args.workloads.split(",") if n.strip()]
    unknown = sorted(set(names) - set(WORKLOADS))
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {sorted(WORKLOADS)}")
    compile_on = set() if args.no_compile else set(args.compile_workloads.split(","))
    rate = matmul_gflops()
    lines = [f"fnnet {fnnet.__version__}; {versions()}; {machine()}; "
             f"load average {', '.join(f'{v:.1f}' for v in os.getloadavg())}; "
             f"2048^2 float32 matmul: {rate:.0f} GFLOP/s"
             + ("; --quick" if args.quick else "")]
    print(lines[0], flush=True)
    results = {}
    for name in names:
        workload = WORKLOADS[name]
        impls = [i for i in IMPLEMENTATIONS if (i != COMPILED or name in compile_on)
                 and (i != FUSED or (workload.optimizer and workload.model != "resnet18"))]
        started = time.perf_counter()
        timings, failed = run_workload(workload, impls, args.quick)
        memory = {}
        if not args.no_memory:
            for impl in [t.name for t in timings]:
                memory[impl] = probe_in_subprocess(workload, impl, args.probe_timeout)
        try:
            flops = fnnet_floor_flops(workload, host_batches(workload, 1))
        except Exception as error:  # noqa: BLE001
            print(f"(no FLOP count for {name}: {short_error(error)})")
            flops = None
        block = table(workload, timings, failed, memory, flops, rate)
        block.append(f"\n({time.perf_counter() - started:.0f} s for this workload)")
        print("\n".join(block), flush=True)
        lines += block
        results[name] = timings
    block = summary(results)
    print("\n".join(block))
    lines += block
    if args.markdown:
        pathlib.Path(args.markdown).write_text("\n".join(lines) + "\n")

if __name__ == "__main__":
    main()
