"""LeNet-5 on MNIST (32x32) in plain PyTorch, as in the 60-minute blitz (compare with
fnnet_version.py).

PyTorch concept                               -> fnnet construct (fnnet_version.py)
--------------------------------------------------------------------------------------
class Net(nn.Module): conv1, conv2, fc1-fc3   -> fnnet.models.LeNet5: the same children,
                                                 conv weights [out, in, kH, kW] (OIHW),
                                                 images [N, C, H, W] (NCHW)
F.max_pool2d(F.relu(self.conv1(x)), 2)        -> the same calls on fnnet.nn.functional
nn.CrossEntropyLoss()                         -> fnnet.losses.cross_entropy
torch.optim.SGD(lr, momentum)                 -> fnnet.optim.SGD(lr, momentum); the
                                                 momentum buffer lives in the opt_state
the training loop body                        -> fnnet.train.make_train_step(model,
                                                 optimizer, loss): one jitted pure
                                                 function (TrainState, batch) ->
                                                 (TrainState, metrics)
model.eval(); torch.no_grad(); argmax          -> fnnet.train.make_predict (jitted, eval)
"""

import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
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
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def run(config, initial_state_dict=None, batches=None):
    data = config.data()
    torch.manual_seed(config.seed)
    model = Net()
    if initial_state_dict is not None:
        model.load_state_dict({k: torch.tensor(v) for k, v in initial_state_dict.items()})
    initial = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum)

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
