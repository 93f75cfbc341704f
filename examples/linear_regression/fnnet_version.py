"""Linear regression y = w x + b in fnnet: pure functions, jax.grad, optax, jit.

PyTorch concept (torch_version.py)            -> fnnet construct (here)
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
model.load_state_dict / state_dict()          -> fnnet.interop.from_torch_state_dict /
                                                 to_torch_state_dict
"""

import time

import jax
import numpy as np
import optax

from fnnet import losses, optim
from fnnet.interop import from_torch_state_dict, to_torch_state_dict
from fnnet.models import LinearRegression


def run(config, initial_state_dict=None, batches=None):
    data = config.data()
    model = LinearRegression(1, 1)
    if initial_state_dict is None:
        params, layer_state = model.init(jax.random.key(config.seed))
    else:
        params, layer_state = from_torch_state_dict(model, initial_state_dict)
    initial = to_torch_state_dict(params, layer_state, model)
    optimizer = optim.SGD(lr=config.lr)
    opt_state = optimizer.init(params)

    def loss_fn(params, x, y):
        prediction, _ = model.apply(params, layer_state, x)
        return losses.mse_loss(prediction, y)

    @jax.jit
    def train_step(params, opt_state, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    step_losses, epoch_losses, times = [], [], []
    for epoch in batches if batches is not None else data.epochs:
        for x, y in epoch:
            start = time.perf_counter()
            params, opt_state, loss = train_step(params, opt_state, x, y)
            step_losses.append(float(loss))
            times.append(time.perf_counter() - start)
        epoch_losses.append(float(np.mean(step_losses[-len(epoch):])))

    test_loss = float(jax.jit(loss_fn)(params, *data.test))
    return {
        "losses": step_losses,
        "epoch_losses": epoch_losses,
        "accuracy": None,
        "test_loss": test_loss,
        "params": to_torch_state_dict(params, layer_state, model),
        "initial_params": initial,
        "ms_per_step": 1000 * float(np.median(times[1:] or times)),
    }


if __name__ == "__main__":
    import config

    from fnnet.compare.script import main

    result = main(run, config, __file__)
    print(f"learned w = {result['params']['linear.weight'].item():.4f}, "
          f"b = {result['params']['linear.bias'].item():.4f}")
