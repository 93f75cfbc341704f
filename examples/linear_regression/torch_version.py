"""Linear regression y = w x + b in plain PyTorch (compare with fnnet_version.py).

PyTorch concept                               -> fnnet construct (fnnet_version.py)
--------------------------------------------------------------------------------------
nn.Linear(1, 1) holding its weight and bias   -> fnnet.models.LinearRegression: init(key)
                                                 returns params {"linear": {"weight",
                                                 "bias"}}, same names and shapes
model(x)                                      -> model.apply(params, state, x)
nn.MSELoss()                                  -> fnnet.losses.mse_loss, a pure function
optimizer.zero_grad(); loss.backward()        -> jax.value_and_grad(loss_fn)(params, ...):
                                                 gradients are returned, never accumulated
torch.optim.SGD(model.parameters(), lr)       -> fnnet.optim.SGD(lr), an optax
                                                 transformation; its state is a value
optimizer.step() (updates in place)           -> optax.apply_updates: a new params tree
the loop body                                 -> one @jax.jit function of (params, batch)
"""

import time

import numpy as np
import torch
import torch.nn as nn


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
