"""Data-parallel MNIST in functional fnnet: jax.distributed, a device mesh, one jitted step.

PyTorch concept (torch_version.py)            -> fnnet construct (here)
--------------------------------------------------------------------------------------
torchrun --nproc-per-node N script.py         -> fnnet torchrun (the same flags), or
                                                 FNNET_COORDINATOR/_NUM_PROCESSES/
                                                 _PROCESS_ID set by any launcher
dist.init_process_group("gloo" / "nccl")      -> fnnet.parallel.initialize():
                                                 jax.distributed, one run of processes
DistributedSampler(dataset) + set_epoch       -> fnnet.data.batches(..., epoch=e): each
                                                 process reads its slice of every batch
DistributedDataParallel(model)                -> fnnet.parallel.make_train_step over a
                                                 data_mesh of every process's devices;
                                                 put_replicated / put_batch
gradient all-reduce in loss.backward()        -> jax.lax.pmean of the gradients inside
                                                 the compiled step
nn.SyncBatchNorm.convert_sync_batchnorm       -> nn.BatchNorm1d(axis_name="data")
if dist.get_rank() == 0: torch.save(...)      -> if parallel.is_main_process(): save

The state is replicated on a one-axis mesh of every device of every process, each global
batch is split over the mesh, and the step is fnnet's ordinary step run on each shard
(``shard_map``); gradients are averaged over all devices. The BatchNorm of ``--model
bn`` always uses the statistics of the whole global batch (SyncBatchNorm).

    fnnet torchrun --nproc-per-node 2 --cpu-devices-per-process 2 fnnet_version.py
    python fnnet_version.py --steps 20                                 # one process

``run`` is what ``fnnet compare ddp_mnist`` calls (one process, the shared batches);
``--batch-size`` is the global batch, split over the processes.
"""

import argparse
import time

import jax
import numpy as np

from fnnet import data, nn, optim, parallel
from fnnet.interop import from_torch_state_dict, to_torch_state_dict
from fnnet.models import MLP
from fnnet.nn import functional as F
from fnnet.train import create_train_state


class BNNet(nn.Module):
    """784 -> Linear 64 -> BatchNorm1d over the global batch -> ReLU -> Linear 10."""

    def __init__(self):
        self.fc1 = nn.Linear(784, 64)
        self.bn1 = nn.BatchNorm1d(64, axis_name=parallel.DATA_AXIS)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, m, x):
        return m.fc2(F.relu(m.bn1(m.fc1(F.flatten(x, 1)))))


def build(name, lr, momentum, seed, weights=None):
    """``(model, optimizer, state)``; the state starts from ``weights`` when given."""
    model = MLP((784, 128, 64, 10), "relu") if name == "mlp" else BNNet()
    optimizer = optim.SGD(lr=lr, momentum=momentum)
    state = create_train_state(model, optimizer, jax.random.key(seed))
    if weights is not None:
        params, layer_state = from_torch_state_dict(model, weights)
        state = state._replace(params=params, layer_state=layer_state,
                               opt_state=optimizer.init(params))
    return model, optimizer, state


def evaluate(model, state, mesh, x, y):
    """``(accuracy, loss)`` on held-out arrays (every process passes all of them)."""
    metrics = parallel.gather(parallel.make_eval_step(model, mesh=mesh)(
        state, (x, y) if jax.process_count() == 1 else parallel.put_batch((x, y), mesh)))
    return float(metrics["accuracy"]), float(metrics["loss"])


def run(config, initial_state_dict=None, batches=None, mesh=None):
    """fnnet compare's run: the shared global batches, split over this process's mesh."""
    data_ = config.data()
    mesh = parallel.data_mesh() if mesh is None else mesh
    model, optimizer, state = build(config.model, config.lr, config.momentum, config.seed,
                                    initial_state_dict)
    initial = to_torch_state_dict(state.params, state.layer_state, model)
    state = parallel.put_replicated(state, mesh)
    train_step = parallel.make_train_step(model, optimizer, mesh=mesh)
    losses, epoch_losses, times = [], [], []
    for epoch in batches if batches is not None else data_.epochs:
        for x, y in epoch:
            start = time.perf_counter()
            state, metrics = train_step(state, parallel.put_batch((x, y), mesh))
            losses.append(float(parallel.gather(metrics)["loss"]))
            times.append(time.perf_counter() - start)
        epoch_losses.append(float(np.mean(losses[-len(epoch):])))
    accuracy, test_loss = evaluate(model, state, mesh, *data_.test)
    state = parallel.gather(state)
    return {
        "losses": losses,
        "epoch_losses": epoch_losses,
        "accuracy": accuracy,
        "test_loss": test_loss,
        "params": to_torch_state_dict(state.params, state.layer_state, model),
        "initial_params": initial,
        "ms_per_step": 1000 * float(np.median(times[1:] or times)),
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=("mlp", "bn"), default="mlp")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--steps", type=int, default=None, help="stop after this many steps")
    p.add_argument("--batch-size", type=int, default=64, help="global, over all processes")
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--save", default=None, help="where process 0 saves the state dict (.npz)")
    args = p.parse_args(argv)
    parallel.initialize()  # reads FNNET_COORDINATOR etc.; nothing to do on one process
    from fnnet.compare.data import mnist_or_digits

    (x, y), (test_x, test_y), source = mnist_or_digits(args.data_dir)
    mesh = parallel.data_mesh()
    processes = jax.process_count()
    model, optimizer, state = build(args.model, args.lr, 0.9, args.seed)
    state = parallel.put_replicated(state, mesh)
    train_step = parallel.make_train_step(model, optimizer, mesh=mesh)
    say = print if parallel.is_main_process() else (lambda *a, **k: None)
    say(f"{mesh.size} devices on {processes} process(es), global batch {args.batch_size}; "
        f"{source}")
    step = 0
    for epoch in range(args.epochs):
        for xb, yb in data.batches(x, y, args.batch_size // processes, seed=args.seed,
                                   epoch=epoch, drop_last=True):
            state, metrics = train_step(state, parallel.put_batch((xb, yb), mesh))
            step += 1
            if step % 10 == 0:
                say(f"epoch {epoch} step {step}: loss "
                    f"{float(parallel.gather(metrics)['loss']):.4f}")
            if args.steps is not None and step >= args.steps:
                break
    accuracy, _ = evaluate(model, state, mesh, test_x, test_y)
    say(f"held-out accuracy {accuracy:.4f} after {step} steps")
    state = parallel.gather(state)  # every process takes part
    if args.save and parallel.is_main_process():
        np.savez(args.save, **to_torch_state_dict(state.params, state.layer_state, model))
        say(f"saved {args.save}")


if __name__ == "__main__":
    main()
