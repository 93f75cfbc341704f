"""Dropout layer."""

from __future__ import annotations

from fnnet.nn import functional as F
from fnnet.nn.functional.dropout import check_dropout_p
from fnnet.nn.module import Module, check_dropout_key, check_train
from fnnet.typing import Array, Params, PRNGKey, State


class Dropout(Module):
    """In training, zeroes each element with probability ``p`` and scales the rest by
    ``1 / (1 - p)``; outside training, the identity.

    Args:
        p: the probability of DROPPING an element (PyTorch's meaning).
        inplace: accepted for PyTorch compatibility; no effect (nothing is mutated).

    ``apply(..., train=True, key=key)`` needs a PRNG key when ``p > 0``; inside a model
    each Dropout call draws its own key from the one passed to the model's ``apply``.

    PyTorch equivalent: ``torch.nn.Dropout``.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        check_dropout_p(p, "Dropout")
        self.p = p
        self.inplace = inplace

    # One input array: Module.apply's *args are for composites' forward.
    def apply(self, params: Params, state: State, x: Array, *, train: bool = False,  # type: ignore[override]
              key: PRNGKey | None = None) -> tuple[Array, State]:
        """Any shape -> the same shape."""
        del params
        check_train(self, train)
        if train and self.p > 0:
            check_dropout_key(self, key)
        return F.dropout(x, self.p, train, key=key), state

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
