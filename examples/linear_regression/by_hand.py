"""Linear regression fitted by hand: the gradient-descent formula, checked by jax.grad.

With the mean squared error over N points,

    L(w, b)  = 1/N * sum_i (w x_i + b - y_i)^2
    dL/dw    = 2/N * sum_i (w x_i + b - y_i) x_i
    dL/db    = 2/N * sum_i (w x_i + b - y_i)

and one step of gradient descent is ``w <- w - lr * dL/dw``, ``b <- b - lr * dL/db``.
``jax.grad(loss)`` computes the same two numbers from the loss alone: this script
takes each step with the hand-written formula, checks it against jax.grad, and prints
how w and b approach the true line. No nn.Module, no optimizer object: the whole of
training is two floats and a function.

PyTorch equivalent: ``w = torch.zeros((), requires_grad=True)``, ``loss.backward()``,
``with torch.no_grad(): w -= lr * w.grad; w.grad.zero_()``.

    python examples/linear_regression/by_hand.py
"""

import jax
import jax.numpy as jnp
import numpy as np


def loss(w, b, x, y):
    return jnp.mean((w * x + b - y) ** 2)


def gradient_by_hand(w, b, x, y):
    residual = w * x + b - y
    return 2 * jnp.mean(residual * x), 2 * jnp.mean(residual)


def fit(x, y, lr=0.1, epochs=200, log_every=20):
    """Full-batch gradient descent from w = b = 0; returns (w, b, losses)."""
    w, b = jnp.float32(0.0), jnp.float32(0.0)
    grad = jax.jit(jax.grad(loss, argnums=(0, 1)))
    history = []
    for epoch in range(epochs):
        dw, db = gradient_by_hand(w, b, x, y)
        auto_dw, auto_db = grad(w, b, x, y)
        np.testing.assert_allclose([dw, db], [auto_dw, auto_db], rtol=1e-5, atol=1e-6)
        w, b = w - lr * dw, b - lr * db
        history.append(float(loss(w, b, x, y)))
        if log_every and (epoch + 1) % log_every == 0:
            print(f"epoch {epoch + 1:4d}: loss {history[-1]:.5f}  w {float(w):.4f}  "
                  f"b {float(b):.4f}  (dL/dw by hand {float(dw):+.5f}, jax.grad "
                  f"{float(auto_dw):+.5f})")
    return float(w), float(b), history


if __name__ == "__main__":
    import config

    cfg = config.CONFIGS["sgd"]
    (x, y), _ = cfg.points()
    w, b, _ = fit(x[:, 0], y[:, 0], lr=cfg.lr)
    print(f"fitted y = {w:.4f} x + {b:.4f}; the data were drawn from y = {cfg.true_w} x + "
          f"{cfg.true_b} with noise {cfg.noise}")
