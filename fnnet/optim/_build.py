"""Assembly of an optimizer from named optax pieces (no update math lives here)."""

from __future__ import annotations

from typing import Any

import optax


def build(*pieces: tuple[str, optax.GradientTransformation | None]
          ) -> optax.GradientTransformationExtraArgs:
    """``optax.named_chain`` of the pieces that are not None.

    The state is then a dict keyed by piece, e.g. ``opt_state["momentum"].trace``,
    rather than a tuple whose positions shift with the options.
    """
    return optax.named_chain(*[(name, piece) for name, piece in pieces if piece is not None])


def negate(maximize: bool) -> optax.GradientTransformation | None:
    """PyTorch's ``maximize``: the gradient is negated before anything else."""
    return optax.scale(-1.0) if maximize else None


def add_weight_decay(weight_decay: Any) -> optax.GradientTransformation | None:
    """``grad + weight_decay * param`` (PyTorch's ``weight_decay``), or None when 0.

    Only a Python 0 is left out: an array (``inject_hyperparams``) may change later.
    """
    if isinstance(weight_decay, (int, float)) and weight_decay == 0:
        return None
    return optax.add_decayed_weights(weight_decay)
