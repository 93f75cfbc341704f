"""LeNet-5 on MNIST (32x32) in fnnet, with fnnet.train's jitted step.

PyTorch concept (torch_version.py)            -> fnnet construct (here)
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

import jax
import numpy as np

from fnnet import losses, optim
from fnnet.interop import from_torch_state_dict, to_torch_state_dict
from fnnet.models import LeNet5
from fnnet.train import create_train_state, make_predict, make_train_step


def run(config, initial_state_dict=None, batches=None):
    data = config.data()
    model = LeNet5(num_classes=10)
    key = jax.random.key(config.seed)
    if initial_state_dict is None:
        params, layer_state = model.init(key)
    else:
        params, layer_state = from_torch_state_dict(model, initial_state_dict)
    initial = to_torch_state_dict(params, layer_state, model)
    optimizer = optim.SGD(lr=config.lr, momentum=config.momentum)
    state = create_train_state(model, optimizer, key, params, layer_state)
    train_step = make_train_step(model, optimizer, losses.cross_entropy)

    step_losses, epoch_losses, times = [], [], []
    for epoch in batches if batches is not None else data.epochs:
        for batch in epoch:
            start = time.perf_counter()
            state, metrics = train_step(state, batch)
            step_losses.append(float(metrics["loss"]))
            times.append(time.perf_counter() - start)
        epoch_losses.append(float(np.mean(step_losses[-len(epoch):])))

    x, y = data.test
    logits = make_predict(model)(state.params, state.layer_state, x)
    return {
        "losses": step_losses,
        "epoch_losses": epoch_losses,
        "accuracy": float(np.mean(np.argmax(logits, 1) == y)),
        "test_loss": float(losses.cross_entropy(logits, y)),
        "params": to_torch_state_dict(state.params, state.layer_state, model),
        "initial_params": initial,
        "ms_per_step": 1000 * float(np.median(times[1:] or times)),
    }


if __name__ == "__main__":
    import config

    from fnnet.compare.script import main

    main(run, config, __file__)
