"""A multi-layer perceptron on MNIST, run by fnnet.torch.

This is torch_version.py with only the imports changed: ``import fnnet.torch as
torch`` (and ``torch.nn``, ``torch.nn.functional``). Each PyTorch call records
fnnet's pure layers, losses and optimizers, and every ``optimizer.step()`` runs
one jitted step, compiled on the first iteration.
"""

import time

import numpy as np

import fnnet.torch as torch
import fnnet.torch.nn as nn


class Net(nn.Module):
    def __init__(self, sizes, activation):
        super().__init__()
        self.fc1 = nn.Linear(sizes[0], sizes[1])
        self.fc2 = nn.Linear(sizes[1], sizes[2])
        self.fc3 = nn.Linear(sizes[2], sizes[3])
        self.act = nn.ReLU() if activation == "relu" else nn.Identity()

    def forward(self, x):
        x = x.view(-1, self.fc1.in_features)
        x = self.act(self.fc1(x))
        x = self.act(self.fc2(x))
        return self.fc3(x)


def run(config, initial_state_dict=None, batches=None):
    data = config.data()
    torch.manual_seed(config.seed)
    model = Net(config.sizes, config.activation)
    if initial_state_dict is not None:
        model.load_state_dict({k: torch.tensor(v) for k, v in initial_state_dict.items()})
    initial = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    criterion = nn.CrossEntropyLoss()
    if config.optimizer == "adam":
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    else:
        optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)

    losses, epoch_losses, times = [], [], []
    for epoch in batches if batches is not None else data.epochs:
        model.train()
        for x, y in epoch:
            start = time.perf_counter()
            x, y = torch.from_numpy(x), torch.from_numpy(y)
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            times.append(time.perf_counter() - start)
        epoch_losses.append(float(np.mean(losses[-len(epoch):])))

    model.eval()
    with torch.no_grad():
        x, y = torch.from_numpy(data.test[0]), torch.from_numpy(data.test[1])
        logits = model(x)
        test_loss = criterion(logits, y).item()
        accuracy = (logits.argmax(1) == y).float().mean().item()
    return {
        "losses": losses,
        "epoch_losses": epoch_losses,
        "accuracy": accuracy,
        "test_loss": test_loss,
        "params": {k: v.detach().numpy().copy() for k, v in model.state_dict().items()},
        "initial_params": initial,
        "ms_per_step": 1000 * float(np.median(times[1:] or times)),
    }


if __name__ == "__main__":
    import config

    from fnnet.compare.script import main

    main(run, config, __file__)
