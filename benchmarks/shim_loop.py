"""The same PyTorch-style training loop on PyTorch eager and on fnnet.torch.

Runs an MLP (784-64-64-10, ReLU, batch 64, SGD momentum 0.9) and LeNet-5 (batch 64,
32x32, SGD) with the loop written once against the ``torch`` API, on real PyTorch
(eager, 2 threads) and on ``fnnet.torch``, plus fnnet's own jitted functional step
(``fnnet.train.make_train_step``) on the same model. Prints the median milliseconds per
step after warm-up and the ratios.

``--models manual`` times the hand-written update loop of PyTorch's tutorials instead
(``model.zero_grad()``, ``loss.backward()``, ``p -= lr * p.grad`` under ``no_grad``,
``loss.item()``), on the MLP (plain SGD) and on the tutorials' cubic fit of sin(x) with
four bare tensors: on fnnet.torch against the same loop with ``torch.optim.SGD`` on
fnnet.torch, and op by op (the fallback for loops whose structure changes every step)
against PyTorch eager, per step and per op (a chain of 100 small elementwise ops).

``--patterns`` times, for each model, the ways a loop feeds its batches to fnnet.torch
(sliced from one device tensor at moving offsets, a ``DataLoader`` over host arrays,
``torch.tensor`` or ``torch.from_numpy`` of a host batch each step; the batch's making is
inside the timed step, the loss read every step) against fnnet's functional step in the
same rounds, fed alike: device batches for the first two (a loader that copies ahead, as
fnnet.data's does), the numpy batch itself for the last two. Each pattern's first
iteration (recording and compiling) and compiles are reported too.

    python benchmarks/shim_loop.py [--steps 200] [--warmup 30] [--batch 64] [--rounds 10]
        [--models mlp,lenet,manual] [--patterns]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import jax
import numpy as np
from harness import settle


def mlp(torch):
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, 64)
            self.fc2 = nn.Linear(64, 64)
            self.fc3 = nn.Linear(64, 10)

        def forward(self, x):
            x = x.view(-1, 784)
            x = torch.relu(self.fc1(x))
            x = torch.relu(self.fc2(x))
            return self.fc3(x)

    return Net(), lambda params: torch.optim.SGD(params, lr=0.01, momentum=0.9)


def lenet(torch):
    nn, F = torch.nn, torch.nn.functional

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

    return LeNet(), lambda params: torch.optim.SGD(params, lr=0.001)


def torch_loop(torch, make, batches):
    """The loop, written once for both ``torch`` modules; returns ``run(steps) -> times``."""
    batches = [(torch.tensor(x), torch.tensor(y)) for x, y in batches]
    counter = [0]

    def batch():
        counter[0] += 1
        return batches[(counter[0] - 1) % len(batches)]

    return _training_loop(torch, make, batch, timed_batch=False)


def _training_loop(torch, make, batch, timed_batch):
    """``run(steps) -> times`` of the PyTorch-style loop on ``make``'s model, fed by
    ``batch()``, whose time counts in each step's when ``timed_batch``."""
    model, make_opt = make(torch)
    optimizer = make_opt(model.parameters())
    criterion = torch.nn.CrossEntropyLoss()

    def run(steps):
        times = []
        for _ in range(steps):
            if not timed_batch:
                x, y = batch()
            start = time.perf_counter()
            if timed_batch:
                x, y = batch()
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            loss.item()
            times.append(time.perf_counter() - start)
        return times

    return run


PATTERNS = ("slice", "loader", "tensor", "from_numpy")
#: patterns whose batch is a numpy array made on the host that step
HOST_PATTERNS = ("tensor", "from_numpy")


def pattern_loop(torch, make, batches, pattern):
    """The loop of ``torch_loop`` fed by ``pattern``; returns ``run(steps) -> times``."""
    x_all = np.concatenate([x for x, _ in batches])
    y_all = np.concatenate([y for _, y in batches])
    size, n = len(batches[0][0]), len(batches)
    if pattern == "slice":
        x_dev, y_dev = torch.tensor(x_all), torch.tensor(y_all)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(
        torch.from_numpy(x_all), torch.from_numpy(y_all)), batch_size=size)
    state = {"i": 0, "it": iter(loader)}

    def batch():
        i = state["i"] % n
        state["i"] += 1
        if pattern == "slice":
            return x_dev[i * size:(i + 1) * size], y_dev[i * size:(i + 1) * size]
        if pattern == "loader":
            try:
                return next(state["it"])
            except StopIteration:
                state["it"] = iter(loader)
                return next(state["it"])
        convert = torch.tensor if pattern == "tensor" else torch.from_numpy
        return convert(batches[i][0]), convert(batches[i][1])

    return _training_loop(torch, make, batch, timed_batch=True)


def measure_patterns(args, torch, ft, rng) -> None:
    for name, make, shape in (("mlp", mlp, (1, 28, 28)), ("lenet", lenet, (1, 32, 32))):
        if name not in args.models.split(","):
            continue
        # an epoch of 40 batches: as many offsets as a tutorial's MNIST subset has
        batches = [(rng.standard_normal((args.batch, *shape)).astype(np.float32),
                    rng.integers(0, 10, args.batch)) for _ in range(40)]
        functional = functional_loop(name, batches)
        first = 1e3 * functional(1)[0]
        host_fed = functional_loop(name, batches, host=True)
        host_fed(1)
        print(f"{name} (batch {args.batch}): fnnet functional step first call {first:.0f} ms")
        for pattern in PATTERNS:
            # each pattern from an empty cache, as in a fresh process (after one pattern's
            # fallback to op by op, the others would run op by op too)
            ft.reset_compile_stats()
            run = pattern_loop(ft, make, batches, pattern)
            first = 1e3 * run(1)[0]
            run(args.warmup)
            stats = ft.compile_stats()
            # the functional step fed as the pattern feeds: from device memory (a device
            # tensor's slices, a loader that prefetches to the device as fnnet.data's
            # does) or with a numpy batch made on the host that step
            fed = "functional, numpy batches" if pattern in HOST_PATTERNS else "functional"
            ms = measure({pattern: run, fed: host_fed if pattern in HOST_PATTERNS
                          else functional}, args.steps, 0, args.rounds)
            print(f"  {pattern:10s} {ms[pattern]:.3f} ms/step, {fed} {ms[fed]:.3f}"
                  f": {ms[pattern] / ms[fed]:.2f}x; first iteration {first:.0f} ms; "
                  f"{stats['compiles']} compile(s) in {1 + args.warmup} steps"
                  + (", then op by op" if stats["eager"] else "") + _split_mode(ft))


def _split_mode(ft) -> str:
    """How the pattern's step ran at the end: a step whose loss is read every step runs
    as two programs or as one, whichever its last timing of both found faster."""
    from fnnet.torch import _recorder
    from fnnet.torch._split import Split

    modes = {fn.mode for fn in _recorder.current().cache.values() if isinstance(fn, Split)}
    names = {True: "two programs", False: "one program", None: "still timing both"}
    return f"; step as {', '.join(names[m] for m in sorted(modes, key=str))}" if modes else ""


def functional_loop(name, batches, host=False):
    """fnnet's own jitted step on the same model, or None if fnnet.train is missing; fed
    device batches, or with ``host`` the numpy batches themselves (copied to the device
    by the step's call, as a loop that makes a numpy batch each step feeds it)."""
    try:
        import fnnet.optim
        from fnnet.models import MLP, LeNet5
        from fnnet.train import create_train_state, make_train_step
    except ImportError:
        return None
    if name == "mlp":
        model, opt = MLP((784, 64, 64, 10)), fnnet.optim.SGD(lr=0.01, momentum=0.9)
    else:
        model, opt = LeNet5(), fnnet.optim.SGD(lr=0.001)
    holder = [create_train_state(model, opt, jax.random.key(0))]
    train_step = make_train_step(model, opt)
    if not host:
        batches = [(jax.numpy.asarray(x), jax.numpy.asarray(y)) for x, y in batches]
    counter = [0]

    def run(steps):
        times = []
        for _ in range(steps):
            batch = batches[counter[0] % len(batches)]
            counter[0] += 1
            start = time.perf_counter()
            holder[0], metrics = train_step(holder[0], batch)
            float(metrics["loss"])
            times.append(time.perf_counter() - start)
        return times

    return run


def manual_mlp(torch, batches, optimizer: bool):
    """The MLP trained by hand (``p -= lr * p.grad``) or by ``torch.optim.SGD``."""
    model, _ = mlp(torch)
    opt = torch.optim.SGD(model.parameters(), lr=0.01) if optimizer else None
    criterion = torch.nn.CrossEntropyLoss()
    batches = [(torch.tensor(x), torch.tensor(y)) for x, y in batches]
    counter = [0]

    def run(steps):
        times = []
        for _ in range(steps):
            x, y = batches[counter[0] % len(batches)]
            counter[0] += 1
            start = time.perf_counter()
            loss = criterion(model(x), y)
            model.zero_grad()
            loss.backward()
            if opt is not None:
                opt.step()
            else:
                with torch.no_grad():
                    for param in model.parameters():
                        param -= 0.01 * param.grad
            loss.item()
            times.append(time.perf_counter() - start)
        return times

    return run


def manual_poly(torch, optimizer: bool):
    """The tutorials' fit of a cubic to sin(x) on 2000 points with four bare tensors."""
    x = torch.linspace(-math.pi, math.pi, 2000)
    y = torch.sin(x)
    coefs = [torch.tensor(v, requires_grad=True) for v in (0.1, -0.2, 0.3, -0.05)]
    opt = torch.optim.SGD(coefs, lr=1e-6) if optimizer else None

    def run(steps):
        a, b, c, d = coefs
        times = []
        for _ in range(steps):
            start = time.perf_counter()
            loss = (a + b * x + c * x ** 2 + d * x ** 3 - y).pow(2).sum()
            loss.backward()
            if opt is not None:
                opt.step()
                opt.zero_grad()
            else:
                with torch.no_grad():
                    for coef in coefs:
                        coef -= 1e-6 * coef.grad
                        coef.grad = None
            loss.item()
            times.append(time.perf_counter() - start)
        return times

    return run


def op_chain(torch):
    """100 elementwise ops on a [64, 64] tensor and one read: the cost of an op."""
    x = torch.ones(64, 64)

    def run(steps):
        times = []
        for _ in range(steps):
            start = time.perf_counter()
            y = x
            for _ in range(25):
                y = ((y * 0.5 + 1.0) - 0.25) / 1.5
            y.sum().item()
            times.append((time.perf_counter() - start) / 101)
        return times

    return run


def op_by_op(ft, run):
    """``run`` on fnnet.torch with every flush op by op, as after the fallback's warning."""
    from fnnet.torch import _recorder

    def eager_run(steps):
        stats = _recorder.current().stats
        _recorder.current().cache.clear()  # else a step compiled earlier is a cache hit
        stats.eager = True
        try:
            return run(steps)
        finally:
            stats.eager = False

    return eager_run


def measure_manual(args, torch, ft, rng) -> None:
    batches = [(rng.standard_normal((args.batch, 1, 28, 28)).astype(np.float32),
                rng.integers(0, 10, args.batch)) for _ in range(8)]
    cases = {"mlp": lambda t, opt: manual_mlp(t, batches, opt),
             "poly": lambda t, opt: manual_poly(t, opt)}
    for name, make in cases.items():
        ft.reset_compile_stats()
        runs = {"torch eager": make(torch, False),
                "fnnet.torch manual": make(ft, False),
                "fnnet.torch optim.SGD": make(ft, True)}
        ms = measure(runs, args.steps, args.warmup, args.rounds)
        stats = ft.compile_stats()
        # op by op beside torch eager alone (a compiled loop in the same rounds would find
        # its cache emptied by each op-by-op round)
        eager = measure({"torch eager": make(torch, False),
                         "op by op": op_by_op(ft, make(ft, False))},
                        args.steps, args.warmup, args.rounds)
        print(f"manual {name}: " + ", ".join(f"{k} {v:.3f} ms/step" for k, v in ms.items())
              + f" [compiled: {stats['compiles']} compiles, {stats['hits']} cache hits]")
        print(f"  manual / optim.SGD on fnnet.torch: "
              f"{ms['fnnet.torch manual'] / ms['fnnet.torch optim.SGD']:.2f}x; op by op "
              f"{eager['op by op']:.3f} ms/step, torch eager {eager['torch eager']:.3f}: "
              f"{eager['op by op'] / eager['torch eager']:.2f}x")
    ms = measure({"torch eager": op_chain(torch), "fnnet.torch": op_chain(ft)}, args.steps,
                 args.warmup, args.rounds)
    eager = measure({"torch eager": op_chain(torch), "op by op": op_by_op(ft, op_chain(ft))},
                    args.steps, args.warmup, args.rounds)
    print("per op (100 elementwise ops on [64, 64], one read): " + ", ".join(
        f"{k} {1e3 * v:.1f} us" for k, v in ms.items())
        + f"; op by op {1e3 * eager['op by op']:.1f} us, torch eager "
        f"{1e3 * eager['torch eager']:.1f} us: "
        f"{eager['op by op'] / eager['torch eager']:.2f}x")


def measure(runs: dict, steps: int, warmup: int, rounds: int) -> dict:
    """Median ms/step of each loop; the loops alternate in rounds so that the load of a
    shared machine drifts over all of them alike, with a pause before each round (see
    ``harness.settle``)."""
    for run in runs.values():
        run(warmup)
    times = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            settle()
            times[name].extend(run(max(1, steps // rounds)))
    return {name: 1e3 * statistics.median(t) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--models", default="mlp,lenet", help="comma-separated subset")
    parser.add_argument("--patterns", action="store_true",
                        help="time the ways a loop feeds its batches (see above)")
    args = parser.parse_args()

    import torch

    import fnnet.torch as ft

    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    if args.patterns:
        measure_patterns(args, torch, ft, rng)
        return
    if "manual" in args.models.split(","):
        measure_manual(args, torch, ft, rng)
    for name, make, shape in (("mlp", mlp, (1, 28, 28)), ("lenet", lenet, (1, 32, 32))):
        if name not in args.models.split(","):
            continue
        batches = [(rng.standard_normal((args.batch, *shape)).astype(np.float32),
                    rng.integers(0, 10, args.batch)) for _ in range(8)]
        ft.reset_compile_stats()
        runs = {"torch eager": torch_loop(torch, make, batches),
                "fnnet.torch": torch_loop(ft, make, batches)}
        functional = functional_loop(name, batches)
        if functional is not None:
            runs["fnnet functional jit"] = functional
        ms = measure(runs, args.steps, args.warmup, args.rounds)
        stats = ft.compile_stats()
        print(f"{name} (batch {args.batch}): " + ", ".join(
            f"{k} {v:.3f} ms/step" for k, v in ms.items())
            + f" [fnnet.torch: {stats['compiles']} compile, {stats['hits']} cache hits]")
        speed_up = ms["torch eager"] / ms["fnnet.torch"]
        line = f"  fnnet.torch speed-up over torch eager: {speed_up:.2f}x"
        if functional is not None:
            line += (f"; fnnet.torch time / functional step time: "
                     f"{ms['fnnet.torch'] / ms['fnnet functional jit']:.2f}x")
        print(line)


if __name__ == "__main__":
    main()
