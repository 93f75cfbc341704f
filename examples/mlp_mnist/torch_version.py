"""A multi-layer perceptron on MNIST in plain PyTorch (compare with fnnet_version.py).

PyTorch concept                               -> fnnet construct (fnnet_version.py)
--------------------------------------------------------------------------------------
class Net(nn.Module) with fc1, fc2, fc3       -> fnnet.models.MLP(sizes, activation): the
                                                 same children, params["fc1"]["weight"]
                                                 is state_dict()["fc1.weight"], [out, in]
x.view(-1, 784)                               -> the MLP flattens with
                                                 fnnet.nn.functional.flatten(x, 1)
nn.CrossEntropyLoss()                         -> fnnet.losses.cross_entropy
torch.optim.Adam / torch.optim.SGD            -> fnnet.optim.Adam / SGD: optax
                                                 transformations with torch's exact rules
optimizer.state (exp_avg, exp_avg_sq ...)     -> opt_state, a value passed in and out
zero_grad / backward / step                   -> jax.value_and_grad + optimizer.update +
                                                 optax.apply_updates in one @jax.jit step
model.eval(); torch.no_grad()                 -> model.apply(params, state, x) (eval is
                                                 the default; no gradient unless taken)
"""

import time

import numpy as np
import torch
import torch.nn as nn


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
