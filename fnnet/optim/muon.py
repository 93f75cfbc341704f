"""Muon, as ``torch.optim.Muon`` computes it."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from fnnet.nn.functional.linear import add_matrix_product, matmul
from fnnet.optim._build import add_weight_decay, build
from fnnet.optim._validate import check_flag, check_nonnegative, check_number
from fnnet.optim.transforms import lerp

#: PyTorch's defaults: the quintic's coefficients, its steps and the norm's floor
NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)
NS_STEPS = 5
EPS = 1e-7
#: PyTorch's names for the learning-rate adjustment by shape (None is "original")
ADJUST_LR_FNS = (None, "original", "match_rms_adamw")


class MuonState(NamedTuple):
    """State of :func:`scale_by_muon`, named as PyTorch's ``optimizer.state[p]``.

    Attributes:
        momentum_buffer: the gradients' moving average.
    """

    momentum_buffer: optax.Updates


def orthogonalize(update: jax.Array, ns_coefficients: tuple[float, float, float] = NS_COEFFICIENTS,
                  ns_steps: int = NS_STEPS, eps: float = EPS) -> jax.Array:
    """The Newton-Schulz quintic that Muon applies to a 2-D update, in bfloat16.

    The matrix, put wide side first and scaled to a Frobenius norm of at most 1, is
    iterated ``ns_steps`` times as ``x = a x + (b G + c G G) x`` with ``G = x x^T``:
    its singular values move towards 1. Each product is accumulated in float32 and
    rounded to bfloat16 once with the term added to it, as PyTorch's ``addmm`` on
    bfloat16 matrices does.

    Args:
        update: ``[m, n]`` float array.
        ns_coefficients: ``(a, b, c)``.
        ns_steps: iterations.
        eps: floor of the norm that the matrix is divided by.

    Returns:
        ``[m, n]`` bfloat16 array.
    """
    a, b, c = ns_coefficients
    bf16, f32 = jnp.bfloat16, jnp.float32
    x = update.astype(bf16)
    tall = x.shape[0] > x.shape[1]
    if tall:
        x = x.T
    norm = jnp.sqrt(jnp.sum(jnp.square(x.astype(f32)))).astype(bf16)
    x = (x.astype(f32) / jnp.maximum(norm, jnp.asarray(eps, bf16)).astype(f32)).astype(bf16)
    for _ in range(ns_steps):  # PyTorch's addmm steps, each rounded once to bfloat16
        gram = matmul(x, x.T)
        polynomial = add_matrix_product(gram, gram, gram, beta=b, alpha=c)
        x = add_matrix_product(x, polynomial, x, beta=a)
    return x.T if tall else x


def lr_ratio(shape: tuple[int, ...], adjust_lr_fn: str | None) -> float:
    """How Muon scales the learning rate of a ``shape`` matrix: ``sqrt(max(1, A/B))``
    ("original", the default) or ``0.2 sqrt(max(A, B))`` ("match_rms_adamw", an
    update of AdamW's size).

    Args:
        shape: the matrix's ``(A, B)`` (rows, columns).
        adjust_lr_fn: None or "original", or "match_rms_adamw".

    Returns:
        The factor the learning rate is multiplied by.
    """
    rows, columns = shape[:2]
    if adjust_lr_fn == "match_rms_adamw":
        return 0.2 * math.sqrt(max(rows, columns))
    return math.sqrt(max(1, rows / columns))


def scale_by_muon(momentum: Any = 0.95, nesterov: bool = True,
                  ns_coefficients: tuple[float, float, float] = NS_COEFFICIENTS,
                  eps: float = EPS, ns_steps: int = NS_STEPS,
                  adjust_lr_fn: str | None = None) -> optax.GradientTransformation:
    """Muon's direction, before the learning rate: the momentum's (or Nesterov's)
    average of the gradients, orthogonalized (:func:`orthogonalize`) and scaled by
    :func:`lr_ratio`.

    Args:
        momentum, nesterov, ns_coefficients, eps, ns_steps, adjust_lr_fn: as
            :func:`Muon`'s (unchecked here).

    Returns:
        An ``optax.GradientTransformation`` whose state is a :class:`MuonState`.

    Raises:
        ValueError: at ``init``, a parameter that is not a matrix.
        RuntimeError: at ``init``, a complex parameter.
    """

    def init_fn(params: optax.Params) -> MuonState:
        for path, leaf in jax.tree_util.tree_leaves_with_path(params):
            if jnp.ndim(leaf) != 2:
                raise ValueError(f"Muon only supports 2D parameters whereas we found a "
                                 f"parameter with size: {tuple(jnp.shape(leaf))} (at "
                                 f"{jax.tree_util.keystr(path)}); optimize the others "
                                 f"with another optimizer, e.g. AdamW")
            if jnp.iscomplexobj(leaf):
                raise RuntimeError("Muon does not support complex parameters")
        return MuonState(optax.tree.zeros_like(params))

    def update_fn(updates: optax.Updates, state: MuonState,
                  params: optax.Params | None = None) -> tuple[Any, MuonState]:
        del params
        buffer = jax.tree.map(lambda m, g: lerp(m, g, 1 - momentum),
                              state.momentum_buffer, updates)
        mixed = jax.tree.map(lambda g, m: lerp(g, m, momentum), updates, buffer) \
            if nesterov else buffer

        def direction(u: jax.Array) -> jax.Array:
            ratio = lr_ratio(u.shape, adjust_lr_fn)
            return ratio * orthogonalize(u, ns_coefficients, ns_steps, eps).astype(u.dtype)

        return jax.tree.map(direction, mixed), MuonState(buffer)

    return optax.GradientTransformation(init_fn, update_fn)


def Muon(lr: float | optax.Schedule = 1e-3, weight_decay: Any = 0.1, momentum: Any = 0.95,
         nesterov: bool = True,
         ns_coefficients: tuple[float, float, float] = NS_COEFFICIENTS, eps: float = EPS,
         ns_steps: int = NS_STEPS, adjust_lr_fn: str | None = None
         ) -> optax.GradientTransformationExtraArgs:
    """Muon exactly as ``torch.optim.Muon`` updates a matrix parameter.

    At each step, with ``g`` the gradient::

        buf = momentum * buf + (1 - momentum) * g
        u = momentum * buf + (1 - momentum) * g          (nesterov; else u = buf)
        param = param * (1 - lr * weight_decay) - lr * ratio * orthogonalize(u)

    with :func:`orthogonalize` in bfloat16 and ``ratio`` from :func:`lr_ratio`. Muon is
    for the weight matrices of hidden layers: give biases, embeddings and the output
    layer another optimizer (``optax.multi_transform`` with AdamW, as PyTorch users
    keep two optimizers).

    Args:
        lr: learning rate, a float or an optax schedule.
        weight_decay: decoupled weight decay, scaled by ``lr`` (PyTorch's default 0.1).
        momentum: the buffer's decay.
        nesterov: orthogonalize Nesterov's look-ahead instead of the buffer.
        ns_coefficients: the quintic's ``(a, b, c)``.
        eps: floor of the norm that the update is divided by.
        ns_steps: Newton-Schulz iterations (fewer than 100).
        adjust_lr_fn: None or "original" (``sqrt(max(1, rows / columns))``), or
            "match_rms_adamw" (``0.2 sqrt(max(rows, columns))``).

    Returns:
        An ``optax.GradientTransformation``; ``opt_state["muon"].momentum_buffer``.

    Raises:
        ValueError: PyTorch's checks (a negative lr, momentum or weight decay, an
            unknown ``adjust_lr_fn``, 100 or more steps, not three coefficients);
            at ``init``, a parameter that is not a matrix.
        TypeError: a setting of the wrong type (``eps`` or a coefficient that is not a
            number, ``ns_steps`` that is not an int).

    PyTorch equivalent: ``torch.optim.Muon``.
    """
    check_number("lr", lr, schedule_ok=True)
    check_nonnegative(lr, "Learning rate should be >= 0 but is")
    check_number("momentum", momentum)
    check_nonnegative(momentum, "momentum should be >= 0 but is")
    check_number("weight_decay", weight_decay)
    check_nonnegative(weight_decay, "weight decay should be >= 0 but is")
    check_number("eps", eps)
    if adjust_lr_fn not in ADJUST_LR_FNS:
        raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
    check_ns(ns_coefficients, ns_steps)
    a, b, c = ns_coefficients
    return build(
        ("muon", scale_by_muon(momentum, check_flag("nesterov", nesterov), (a, b, c), eps,
                               ns_steps, adjust_lr_fn)),
        ("decoupled_weight_decay", add_weight_decay(weight_decay)),
        ("lr", optax.scale_by_learning_rate(lr)),
    )


def check_ns(ns_coefficients: Any, ns_steps: Any) -> None:
    """PyTorch's checks of the Newton-Schulz iteration's settings, and that they are
    numbers.

    Raises:
        TypeError: ``ns_steps`` is not a non-negative int, ``ns_coefficients`` not a
            tuple or list of numbers.
        ValueError: 100 or more steps, or not three coefficients (PyTorch's words).
    """
    if not isinstance(ns_steps, int) or isinstance(ns_steps, bool) or ns_steps < 0:
        raise TypeError(f"ns_steps must be a non-negative int, got {ns_steps!r}")
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if not isinstance(ns_coefficients, (tuple, list)):
        raise TypeError(f"ns_coefficients must be a tuple of 3 numbers, got "
                        f"{ns_coefficients!r}")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    for i, value in enumerate(ns_coefficients):
        check_number(f"ns_coefficients[{i}]", value)
