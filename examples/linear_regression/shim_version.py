"""Linear regression y = w x + b, run by fnnet.torch.

This is torch_version.py with only the imports changed: ``import fnnet.torch as
torch`` (and ``torch.nn``, ``torch.nn.functional``). Each PyTorch call records
fnnet's pure layers, losses and optimizers, and every ``optimizer.step()`` runs
one jitted step, compiled on the first iteration.
"""

import time

import numpy as np

import fnnet.torch as torch
import fnnet.torch.nn as nn


class LinearRegression(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, x):
        return self.linear(x)


def run(config, initial_state_dict=None, batches=None):
    data = config.data()
    torch.manual_seed(config.seed)
    model = LinearRegression()
    if initial_state_dict is not None:
        model.load_state_dict({k: torch.tensor(v) for k, v in initial_state_dict.items()})
    initial = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    criterion = nn.MSELoss()
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
        x, y = data.test
        test_loss = criterion(model(torch.from_numpy(x)), torch.from_numpy(y)).item()
    return {
        "losses": losses,
        "epoch_losses": epoch_losses,
        "accuracy": None,
        "test_loss": test_loss,
        "params": {k: v.detach().numpy().copy() for k, v in model.state_dict().items()},
        "initial_params": initial,
        "ms_per_step": 1000 * float(np.median(times[1:] or times)),
    }


if __name__ == "__main__":
    import config

    from fnnet.compare.script import main

    result = main(run, config, __file__)
    print(f"learned w = {result['params']['linear.weight'].item():.4f}, "
          f"b = {result['params']['linear.bias'].item():.4f}")
