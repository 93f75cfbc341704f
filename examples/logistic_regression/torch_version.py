"""Logistic regression (digit 0 vs digit 1) in plain PyTorch (compare: fnnet_version.py).

PyTorch concept                               -> fnnet construct (fnnet_version.py)
--------------------------------------------------------------------------------------
nn.Linear(784, 1) on x.view(N, -1)            -> fnnet.models.LogisticRegression(784, 1):
                                                 params {"linear": {"weight", "bias"}}
torch.sigmoid(logits) then nn.BCELoss()       -> fnnet.losses.binary_cross_entropy_with_logits
                                                 (the same loss, computed stably from
                                                 the logits)
loss.backward()                               -> jax.value_and_grad(loss_fn)(params, ...)
torch.optim.SGD(lr) "gradient descent"        -> fnnet.optim.SGD(lr) (optax); the update
                                                 is a pure function of (grads, state)
optimizer.step()                              -> optax.apply_updates -> new params
with torch.no_grad(): accuracy                -> a jitted predict function; no gradient is
                                                 taken unless asked for
"""

import time

import numpy as np
import torch
import torch.nn as nn


class LogisticRegression(nn.Module):
    def __init__(self, in_features):
        super().__init__()
        self.linear = nn.Linear(in_features, 1)

    def forward(self, x):
        return torch.sigmoid(self.linear(x.view(x.size(0), -1)))


def run(config, initial_state_dict=None, batches=None):
    data = config.data()
    torch.manual_seed(config.seed)
    model = LogisticRegression(config.in_features)
    if initial_state_dict is not None:
        model.load_state_dict({k: torch.tensor(v) for k, v in initial_state_dict.items()})
    initial = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    criterion = nn.BCELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)

    losses, epoch_losses, times = [], [], []
    for epoch in batches if batches is not None else data.epochs:
        model.train()
        for x, y in epoch:
            start = time.perf_counter()
            x, y = torch.from_numpy(x), torch.from_numpy(y)
            optimizer.zero_grad()
            loss = criterion(model(x).squeeze(1), y.float())
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            times.append(time.perf_counter() - start)
        epoch_losses.append(float(np.mean(losses[-len(epoch):])))

    model.eval()
    with torch.no_grad():
        x, y = torch.from_numpy(data.test[0]), torch.from_numpy(data.test[1])
        probability = model(x).squeeze(1)
        test_loss = criterion(probability, y.float()).item()
        accuracy = ((probability > 0.5).long() == y).float().mean().item()
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
