"""Logistic regression (digit 0 vs digit 1) in fnnet: pure functions, jax.grad, optax, jit.

PyTorch concept (torch_version.py)            -> fnnet construct (here)
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

import jax
import jax.numpy as jnp
import numpy as np
import optax

from fnnet import losses, optim
from fnnet.interop import from_torch_state_dict, to_torch_state_dict
from fnnet.models import LogisticRegression


def run(config, initial_state_dict=None, batches=None):
    data = config.data()
    model = LogisticRegression(config.in_features, 1)
    if initial_state_dict is None:
        params, layer_state = model.init(jax.random.key(config.seed))
    else:
        params, layer_state = from_torch_state_dict(model, initial_state_dict)
    initial = to_torch_state_dict(params, layer_state, model)
    optimizer = optim.SGD(lr=config.lr)
    opt_state = optimizer.init(params)

    def loss_fn(params, x, y):
        logits, _ = model.apply(params, layer_state, x)
        return losses.binary_cross_entropy_with_logits(logits[:, 0], y.astype(jnp.float32))

    @jax.jit
    def train_step(params, opt_state, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    @jax.jit
    def evaluate(params, x, y):
        logits, _ = model.apply(params, layer_state, x)
        accuracy = jnp.mean((logits[:, 0] > 0) == (y == 1))  # sigmoid(z) > 0.5 iff z > 0
        return loss_fn(params, x, y), accuracy

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
