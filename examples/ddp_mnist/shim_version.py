"""Data-parallel MNIST with fnnet.torch's DistributedDataParallel: one process per device.

This is torch_version.py with only the imports changed (``import fnnet.torch as
torch``, ``import fnnet.torch.nn as nn``). ``torch.distributed.init_process_group``
joins JAX's distributed runtime, DistributedSampler gives each process PyTorch's share
of the data, and every ``optimizer.step()`` runs one compiled step in each process whose
gradients are averaged over the processes (SyncBatchNorm: statistics of the global
batch, on CPUs too). Rank 0 alone prints, evaluates and writes the checkpoint.

    python -m fnnet.torch.distributed.run --nproc-per-node 2 shim_version.py --steps 20
    fnnet torchrun --nproc-per-node 2 shim_version.py --model bn --steps 20
    python shim_version.py --steps 20                                  # one process
"""

import argparse
import os
import time

import numpy as np

import fnnet.torch as torch
import fnnet.torch.nn as nn


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 128)
        self.fc2 = nn.Linear(128, 64)
        self.fc3 = nn.Linear(64, 10)

    def forward(self, x):
        x = x.view(x.size(0), -1)
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


class BNNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 64)
        self.bn1 = nn.BatchNorm1d(64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = x.view(x.size(0), -1)
        return self.fc2(torch.relu(self.bn1(self.fc1(x))))


def build(name, seed, weights=None):
    """The model (seeded), with ``weights`` ({name: array}) loaded when given."""
    torch.manual_seed(seed)
    model = MLP() if name == "mlp" else BNNet()
    if weights is not None:
        model.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in weights.items()})
    return model


def train_step(model, optimizer, criterion, x, y):
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    return loss


def evaluate(model, criterion, x, y):
    """``(accuracy, loss)`` of ``model`` on held-out numpy arrays."""
    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(x))
        labels = torch.from_numpy(y)
        accuracy = (logits.argmax(1) == labels).float().mean().item()
        return accuracy, criterion(logits, labels).item()


def run(config, initial_state_dict=None, batches=None):
    """fnnet compare's run: one process, the shared batches (main() is the DDP run)."""
    data = config.data()
    model = build(config.model, config.seed, initial_state_dict)
    initial = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum)
    criterion = nn.CrossEntropyLoss()
    losses, epoch_losses, times = [], [], []
    for epoch in batches if batches is not None else data.epochs:
        model.train()
        for x, y in epoch:
            start = time.perf_counter()
            loss = train_step(model, optimizer, criterion, torch.from_numpy(x),
                              torch.from_numpy(y))
            losses.append(loss.item())
            times.append(time.perf_counter() - start)
        epoch_losses.append(float(np.mean(losses[-len(epoch):])))
    accuracy, test_loss = evaluate(model, criterion, *data.test)
    return {
        "losses": losses,
        "epoch_losses": epoch_losses,
        "accuracy": accuracy,
        "test_loss": test_loss,
        "params": {k: v.detach().numpy().copy() for k, v in model.state_dict().items()},
        "initial_params": initial,
        "ms_per_step": 1000 * float(np.median(times[1:] or times)),
    }


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=("mlp", "bn"), default="mlp")
    p.add_argument("--no-sync-bn", action="store_true",
                   help="keep each process's own BatchNorm statistics (PyTorch's "
                        "SyncBatchNorm runs on GPUs only)")
    p.add_argument("--no-shuffle", action="store_true",
                   help="the data in order (shuffled orders differ between PyTorch and "
                        "fnnet.torch: another random generator)")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--steps", type=int, default=None, help="stop after this many steps")
    p.add_argument("--batch-size", type=int, default=32, help="per process")
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--init", default=None, help="initial weights (.npz of the state dict)")
    p.add_argument("--save", default=None, help="where rank 0 saves the final state dict")
    return p.parse_args(argv)


def train(args, rank=0, world=1):
    """Trains on this process's share of the data; rank 0 evaluates and saves.

    Returns:
        The trained model (unwrapped) and the number of steps.
    """
    from fnnet.compare.data import mnist_or_digits  # MNIST, or the digits where absent

    distributed = torch.distributed.is_initialized()
    (x, y), (test_x, test_y), source = mnist_or_digits(args.data_dir)
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    sampler = torch.utils.data.distributed.DistributedSampler(
        dataset, num_replicas=world, rank=rank, shuffle=not args.no_shuffle, seed=args.seed)
    loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch_size,
                                         sampler=sampler, drop_last=True)
    weights = dict(np.load(args.init)) if args.init else None
    model = build(args.model, args.seed, weights)
    if distributed:
        if args.model == "bn" and not args.no_sync_bn:
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        model = nn.parallel.DistributedDataParallel(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    if rank == 0:
        print(f"{world} process(es), {args.batch_size} per batch each; {source}")

    step = 0
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        model.train()
        for xb, yb in loader:
            loss = train_step(model, optimizer, criterion, xb, yb)
            step += 1
            if rank == 0 and step % 10 == 0:
                print(f"epoch {epoch} step {step}: loss {loss.item():.4f} (rank 0's batch)")
            if args.steps is not None and step >= args.steps:
                break

    net = model.module if distributed else model
    if rank == 0:
        accuracy, _ = evaluate(net, criterion, test_x, test_y)
        print(f"held-out accuracy {accuracy:.4f} after {step} steps")
        if args.save:
            torch.save(net.state_dict(), args.save)
            print(f"saved {args.save}")
    return net, step


def main(argv=None):
    args = parse_args(argv)
    distributed = "RANK" in os.environ  # started by torchrun
    if distributed:
        torch.distributed.init_process_group("gloo")
    rank = torch.distributed.get_rank() if distributed else 0
    world = torch.distributed.get_world_size() if distributed else 1
    train(args, rank, world)
    if distributed:
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
