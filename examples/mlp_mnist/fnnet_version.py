"""A multi-layer perceptron on MNIST in fnnet: pure functions, jax.grad, optax, jit.

PyTorch concept (torch_version.py)            -> fnnet construct (here)
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

import jax
import jax.numpy as jnp
import numpy as np
import optax

from fnnet import losses, optim
from fnnet.interop import from_torch_state_dict, to_torch_state_dict
from fnnet.models import MLP


def run(config, initial_state_dict=None, batches=None):
    data = config.data()
    model = MLP(config.sizes, config.activation)
    if initial_state_dict is None:
        params, layer_state = model.init(jax.random.key(config.seed))
    else:
        params, layer_state = from_torch_state_dict(model, initial_state_dict)
    initial = to_torch_state_dict(params, layer_state, model)
    if config.optimizer == "adam":
        optimizer = optim.Adam(lr=config.lr)
    else:
        optimizer = optim.SGD(lr=config.lr)
    opt_state = optimizer.init(params)

    def loss_fn(params, x, y):
        logits, _ = model.apply(params, layer_state, x)
        return losses.cross_entropy(logits, y)

    @jax.jit
    def train_step(params, opt_state, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    @jax.jit
    def evaluate(params, x, y):
        logits, _ = model.apply(params, layer_state, x)
        return losses.cross_entropy(logits, y), jnp.mean(jnp.argmax(logits, 1) == y)

    step_losses, epoch_losses, times = [], [], []
    for epoch in batches if batches is not None else data.epochs:
        for x, y in epoch:
            start = time.perf_counter()
            params, opt_state, loss = train_step(params, opt_state, x, y)
            step_losses.append(float(loss))
            times.append(time.perf_counter() - start)
        epoch_losses.append(float(np.mean(step_losses[-len(epoch):])))

    test_loss, accuracy = evaluate(params, *data.test)
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
