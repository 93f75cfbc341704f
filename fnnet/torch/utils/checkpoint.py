"""``torch.utils.checkpoint``: activation checkpointing, accepted as a plain call.

PyTorch recomputes a checkpointed segment's activations in the backward pass to save
memory. fnnet.torch compiles the whole step (forward and backward) into one XLA program,
whose compiler decides what to keep and what to recompute; the call is therefore run
as it is, with the same values and gradients. To force rematerialisation in a model of
its own, wrap the function with ``jax.checkpoint`` in fnnet's functional API.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


def checkpoint(function: Callable[..., Any], *args: Any, use_reentrant: bool | None = None,
               context_fn: Any = None, determinism_check: str = "default",
               debug: bool = False, preserve_rng_state: bool = True, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)`` (see the module docstring).

    PyTorch equivalent: ``torch.utils.checkpoint.checkpoint``.
    """
    if not callable(function):
        raise TypeError(f"checkpoint: function must be callable, got "
                        f"{type(function).__name__}")
    del use_reentrant, context_fn, determinism_check, debug, preserve_rng_state
    return function(*args, **kwargs)


def checkpoint_sequential(functions: Any, segments: int, input: Any,  # noqa: A002
                          use_reentrant: bool | None = None, **kwargs: Any) -> Any:
    """``functions`` (an ``nn.Sequential`` or a list of modules) applied in order.

    PyTorch equivalent: ``torch.utils.checkpoint.checkpoint_sequential``.
    """
    from fnnet.torch.nn.modules.container import Sequential

    if isinstance(segments, bool) or not isinstance(segments, int) or segments < 1:
        raise ValueError(f"checkpoint_sequential: segments must be a positive int, got "
                         f"{segments!r}")
    modules: Iterable[Any] = functions.children() if isinstance(functions, Sequential) \
        else functions
    del use_reentrant, kwargs
    for module in modules:
        input = module(input)
    return input


__all__ = ["checkpoint", "checkpoint_sequential"]
