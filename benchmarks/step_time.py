"""One training step of the MLP 784-128-64-10 at batch 64: fnnet vs PyTorch eager.

Both start from the same weights and see the same host batches (numpy arrays, as a
loader yields them; PyTorch gets them through zero-copy ``torch.from_numpy``). PyTorch
runs with 2 threads. Prints ms/step (median of steady-state steps) and the ratio.

A plain ``jax.jit`` step written by hand (``jnp`` products, optax's loss and optimizer,
state donated) runs in the same rounds as the reference a JAX user would write.
Two more rows bound what any implementation can reach here: the step's eight matrix
products alone (three forward, three weight gradients, two input gradients, at the
step's shapes), once as one jitted XLA call and once as PyTorch calls. No fnnet step
can beat PyTorch eager by more than eager's time over XLA's products-alone time, since
it runs those same products through XLA.

    python benchmarks/step_time.py [--steps 300]
"""

from __future__ import annotations

import argparse
import functools
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


def plain_jax_step(params: dict, optimizer_name: str, batches):
    """The step as a JAX user writes it without fnnet: ``jnp`` and optax, jitted."""
    import optax

    tx = (optax.sgd(0.01, momentum=0.9) if optimizer_name == "sgd"
          else optax.adam(1e-3))
    layers = [(params[n]["weight"], params[n]["bias"]) for n in ("fc1", "fc2", "fc3")]

    def loss_fn(layers, x, y):
        for i, (w, b) in enumerate(layers):
            x = x @ w.T + b
            if i < len(layers) - 1:
                x = jax.nn.relu(x)
        return optax.softmax_cross_entropy_with_integer_labels(x, y).mean()

    @functools.partial(jax.jit, donate_argnums=(0, 1))
    def train_step(layers, opt_state, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(layers, x, y)
        updates, opt_state = tx.update(grads, opt_state, layers)
        return optax.apply_updates(layers, updates), opt_state, loss

    layers = jax.tree.map(jax.numpy.array, layers)  # own copies: the step donates them
    holder = {"state": (layers, tx.init(layers))}
    jax_batches = [(x, y.astype(np.int32)) for x, y in batches]

    def step(i):
        *state, loss = train_step(*holder["state"], *jax_batches[i % len(batches)])
        holder["state"] = tuple(state)
        return loss

    return step


def _product_operands(seed: int = 1) -> list[np.ndarray]:
    """Inputs of the step's eight products: ``x``, the three weights, the activations
    and the cotangents, each a fixed random array of its shape in the step."""
    rng = np.random.default_rng(seed)
    weights = [(o, i) for i, o in zip(SIZES[:-1], SIZES[1:], strict=True)]
    shapes = [(BATCH, SIZES[0]), *weights, *[(BATCH, n) for n in SIZES[1:-1]],
              *[(BATCH, n) for n in SIZES[1:]]]
    return [rng.standard_normal(s, dtype=np.float32) for s in shapes]


def _products(mm, t, x, w1, w2, w3, h1, h2, d1, d2, d3):
    """The products of an MLP step's forward and backward (``t`` transposes)."""
    return [mm(x, t(w1)), mm(h1, t(w2)), mm(h2, t(w3)),      # forward
            mm(t(d3), h2), mm(t(d2), h1), mm(t(d1), x),      # weight gradients
            mm(d3, w3), mm(d2, w2)]                          # input gradients


def xla_products_step():
    """One jitted call computing the step's products, and nothing else."""
    operands = [jax.numpy.asarray(a) for a in _product_operands()]
    run = jax.jit(lambda *a: _products(jax.numpy.matmul, jax.numpy.transpose, *a))
    return lambda i: run(*operands)


def torch_products_step(torch):
    """The step's products as PyTorch calls (2 threads), and nothing else."""
    operands = [torch.from_numpy(a) for a in _product_operands()]
    return lambda i: _products(torch.matmul, torch.t, *operands)


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
            "plain jax.jit + optax step": (plain_jax_step(params, name, batches),
                                           jax.block_until_ready),
            "bound: the 8 products alone, XLA (jit)": (xla_products_step(),
                                                       jax.block_until_ready),
            "bound: the 8 products alone, PyTorch": (torch_products_step(torch), lambda r: r),
        }, steps=args.steps)
        label = "SGD(lr=0.01, momentum=0.9)" if name == "sgd" else "Adam(lr=1e-3)"
        eager, products = rows[0], rows[3]
        print_table(f"MLP 784-128-64-10, batch {BATCH}, {label}", rows,
                    "PyTorch eager (2 threads)",
                    [f"\nBest ratio to PyTorch eager that a step running these products "
                     f"through XLA can reach: {products.ratio_to(eager):.2f}x"])


if __name__ == "__main__":
    main()
