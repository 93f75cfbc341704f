"""Fully connected layers."""

from __future__ import annotations

import jax

from fnnet.nn import functional as F
from fnnet.nn import init as initializers
from fnnet.nn.module import Module, check_input
from fnnet.typing import Array, Params, PRNGKey, State


class Linear(Module):
    """``y = x W^T + b``.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: whether to learn an additive bias.

    Parameters: ``weight [out_features, in_features]``, ``bias [out_features]``,
    initialised as PyTorch does.

    PyTorch equivalent: ``torch.nn.Linear``.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Linear: {name} must be a positive int, got {value!r}")
        if not isinstance(bias, bool):
            raise TypeError(f"Linear: bias must be a bool, got {bias!r}")
        self.in_features = in_features
        self.out_features = out_features
        self.bias = bias

    def init(self, key: PRNGKey) -> tuple[Params, State]:
        w_key, b_key = jax.random.split(key)
        shape = (self.out_features, self.in_features)
        params = {"weight": initializers.kaiming_uniform(w_key, shape)}
        if self.bias:
            params["bias"] = initializers.bias_uniform(b_key, self.out_features,
                                                       self.in_features)
        return params, {}

    # One input array: Module.apply's *args are for composites' forward.
    def apply(self, params: Params, state: State, x: Array, *, train: bool = False,  # type: ignore[override]
              key: PRNGKey | None = None) -> tuple[Array, State]:
        """``x: [..., in_features] -> [..., out_features]``."""
        del train, key
        check_input(self, x, ndim=tuple(range(1, 9)), dim=-1, size=self.in_features)
        return F.linear(x, params["weight"], params.get("bias")), state

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias}")
