"""One training step of the MLP 784-128-64-10 at batch 64: fnnet vs PyTorch eager.

Both start from the same weights and see the same host batches (numpy arrays, as a
loader yields them; PyTorch gets them through zero-copy ``torch.from_numpy``). PyTorch
runs with 2 threads. Prints ms/step (median of steady-state steps) and the ratio.

    python benchmarks/step_time.py [--steps 300]
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import jax
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from harness import machine, print_table, time_steps, versions  # noqa: E402

import fnnet  # noqa: E402
from fnnet import losses, models, optim  # noqa: E402
from fnnet.train import create_train_state, make_train_step  # noqa: E402

SIZES = (784, 128, 64, 10)
BATCH = 64


def host_batches(count: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((BATCH, 784), dtype=np.float32),
             rng.integers(0, 10, BATCH).astype(np.int64)) for _ in range(count)]


def torch_step(torch, params: dict, optimizer_name: str, batches):
    torch.set_num_threads(2)
    net = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(),
                              torch.nn.Linear(128, 64), torch.nn.ReLU(),
                              torch.nn.Linear(64, 10))
    names = {"0": "fc1", "2": "fc2", "4": "fc3"}
    net.load_state_dict({f"{i}.{w}": torch.from_numpy(np.asarray(params[n][w]).copy())
                         for i, n in names.items() for w in ("weight", "bias")})
    opt = (torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
           if optimizer_name == "sgd" else torch.optim.Adam(net.parameters(), lr=1e-3))
    criterion = torch.nn.CrossEntropyLoss()
    tensors = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in batches]

    def step(i):
        x, y = tensors[i % len(tensors)]
        opt.zero_grad()
        loss = criterion(net(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def fnnet_step(optimizer_name: str, batches, key):
    model = models.MLP(SIZES)
    opt = (optim.SGD(lr=0.01, momentum=0.9) if optimizer_name == "sgd"
           else optim.Adam(lr=1e-3))
    state = create_train_state(model, opt, key)
    train_step = make_train_step(model, opt, losses.cross_entropy)
    jax_batches = [(x, y.astype(np.int32)) for x, y in batches]
    holder = {"state": state}

    def step(i):
        holder["state"], metrics = train_step(holder["state"], jax_batches[i % len(batches)])
        return metrics["loss"]

    return state.params, step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    import torch

    print(f"fnnet {fnnet.__version__}; {versions()}; {machine()}")
    batches = host_batches(32)
    for name in ("sgd", "adam"):
        params, fn_step = fnnet_step(name, batches, jax.random.key(0))
        params = jax.device_get(params)
        pt_step = torch_step(torch, params, name, batches)
        rows = time_steps({
            "PyTorch eager (2 threads)": (pt_step, lambda r: r),
            "fnnet make_train_step (jit)": (fn_step, jax.block_until_ready),
        }, steps=args.steps)
        label = "SGD(lr=0.01, momentum=0.9)" if name == "sgd" else "Adam(lr=1e-3)"
        print_table(f"MLP 784-128-64-10, batch {BATCH}, {label}", rows,
                    "PyTorch eager (2 threads)")


if __name__ == "__main__":
    main()
