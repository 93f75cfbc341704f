"""A CNN with BatchNorm and Dropout on MNIST in fnnet: explicit state and keys.

PyTorch keeps three kinds of hidden state that fnnet passes explicitly:

PyTorch concept (torch_version.py)            -> fnnet construct (here)
--------------------------------------------------------------------------------------
model.train() / model.eval()                  -> model.apply(..., train=True) / the
                                                 default train=False, per call
BatchNorm's running_mean/running_var buffers, -> layer_state: a tree beside the params;
updated in place during forward in train mode    apply returns the new one, the step
                                                 hands it to the next step
Dropout drawing from the global generator     -> an explicit PRNG key per step:
(torch.manual_seed)                              jax.random.fold_in(key, step), so a
                                                 step is a pure function of its inputs
nn.BatchNorm2d / BatchNorm1d / Dropout(p)     -> fnnet.nn.BatchNorm2d / BatchNorm1d /
                                                 Dropout(p), same names and buffers
model.state_dict() (params + buffers)         -> fnnet.interop.to_torch_state_dict(params,
                                                 layer_state, model)

The model is written as an fnnet.nn.Module, like PyTorch's: children are declared in
``__init__``; ``forward(self, m, x)`` calls them through ``m``, the model bound to one
set of params, layer state, mode and key.
"""

import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from fnnet import losses, nn, optim
from fnnet.interop import from_torch_state_dict, to_torch_state_dict
from fnnet.nn import functional as F


class Net(nn.Module):
    def __init__(self, dropout):
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(32)
        self.fc1 = nn.Linear(32 * 7 * 7, 128, bias=False)
        self.bn3 = nn.BatchNorm1d(128)
        self.dropout = nn.Dropout(dropout)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, m, x):
        x = F.max_pool2d(F.relu(m.bn1(m.conv1(x))), 2)
        x = F.max_pool2d(F.relu(m.bn2(m.conv2(x))), 2)
        x = F.relu(m.bn3(m.fc1(F.flatten(x, 1))))
        return m.fc2(m.dropout(x))


def run(config, initial_state_dict=None, batches=None):
    data = config.data()
    model = Net(config.dropout)
    init_key, dropout_key = jax.random.split(jax.random.key(config.seed))
    if initial_state_dict is None:
        params, layer_state = model.init(init_key)
    else:
        params, layer_state = from_torch_state_dict(model, initial_state_dict)
    initial = to_torch_state_dict(params, layer_state, model)
    optimizer = optim.SGD(lr=config.lr, momentum=config.momentum)
    opt_state = optimizer.init(params)

    @jax.jit
    def train_step(params, layer_state, opt_state, x, y, key):
        def loss_fn(params):
            # train=True: batch statistics, new running statistics returned; Dropout on.
            logits, new_layer_state = model.apply(params, layer_state, x, train=True,
                                                  key=key)
            return losses.cross_entropy(logits, y), new_layer_state

        (loss, layer_state), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), layer_state, opt_state, loss

    @jax.jit
    def evaluate(params, layer_state, x, y):
        logits, _ = model.apply(params, layer_state, x)  # eval: running stats, no Dropout
        return losses.cross_entropy(logits, y), jnp.mean(jnp.argmax(logits, 1) == y)

    step_losses, epoch_losses, times = [], [], []
    step = 0
    for epoch in batches if batches is not None else data.epochs:
        for x, y in epoch:
            start = time.perf_counter()
            key = jax.random.fold_in(dropout_key, step)  # this step's Dropout masks
            params, layer_state, opt_state, loss = train_step(params, layer_state,
                                                              opt_state, x, y, key)
            step_losses.append(float(loss))
            times.append(time.perf_counter() - start)
            step += 1
        epoch_losses.append(float(np.mean(step_losses[-len(epoch):])))

    test_loss, accuracy = evaluate(params, layer_state, *data.test)
    return {
        "losses": step_losses,
        "epoch_losses": epoch_losses,
        "accuracy": float(accuracy),
        "test_loss": float(test_loss),
        "params": to_torch_state_dict(params, layer_state, model),
        "initial_params": initial,
        "ms_per_step": 1000 * float(np.median(times[1:] or times)),
    }


if __name__ == "__main__":
    import config

    from fnnet.compare.script import main

    main(run, config, __file__)
