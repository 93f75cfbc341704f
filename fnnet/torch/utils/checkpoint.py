"""``torch.utils.checkpoint``: activation checkpointing, accepted as a plain call.

PyTorch recomputes a checkpointed segment's activations in the backward pass to save
memory. fnnet.torch compiles the whole step (forward and backward) into one XLA program,
whose compiler decides what to keep and what to recompute; the call is therefore run
as it is, with the same values and gradients. To force rematerialisation in a model of
its own, wrap the function with ``jax.checkpoint`` in fnnet's functional API.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from fnnet.torch._autograd import no_grad
from fnnet.torch.tensor import Tensor


def checkpoint(function: Callable[..., Any], *args: Any, use_reentrant: bool | None = None,
               context_fn: Any = None, determinism_check: str = "default",
               debug: bool = False, preserve_rng_state: bool = True, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)`` (see the module docstring), with PyTorch's rules of
    the reentrant variant (the default, with a warning, when ``use_reentrant`` is not
    given): keyword arguments are refused, and when no input requires grad it warns and
    the output has no graph (the segment's parameters get no gradient, as in PyTorch).

    PyTorch equivalent: ``torch.utils.checkpoint.checkpoint``.
    """
    if not callable(function):
        raise TypeError(f"checkpoint: function must be callable, got "
                        f"{type(function).__name__}")
    del preserve_rng_state
    if determinism_check not in ("default", "none"):
        raise ValueError(f"determinism_check should be one of ['default', 'none'], but got "
                         f"{determinism_check}")
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be passed "
            "explicitly. Starting in PyTorch 2.9, calling checkpoint without use_reentrant "
            "will raise an exception. use_reentrant=False is recommended, but if you need "
            "to preserve the current default behavior, you can pass use_reentrant=True. "
            "Refer to docs for more details on the differences between the two variants.",
            UserWarning, stacklevel=2)
        use_reentrant = True
    if not use_reentrant:
        if context_fn is None:
            return function(*args, **kwargs)
        if debug:
            raise ValueError("debug=True is incompatible with non-default context_fn")
        # the forward runs in the first context; nothing is recomputed, so the second
        # (the recomputation's) is never entered
        forward_context, _ = context_fn()
        with forward_context:
            return function(*args, **kwargs)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if context_fn is not None or debug is not False:
        raise ValueError("Passing `context_fn` or `debug` is only supported when "
                         "use_reentrant=False.")
    return _reentrant(function, args)


def _reentrant(function: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """The reentrant variant's call: without an input that requires grad, nothing of it
    is recorded for autograd."""
    if any(isinstance(a, Tensor) and a.requires_grad for a in args):
        return function(*args)
    warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                  UserWarning, stacklevel=3)
    with no_grad():
        return function(*args)


def checkpoint_sequential(functions: Any, segments: int, input: Any,  # noqa: A002
                          use_reentrant: bool | None = None, **kwargs: Any) -> Any:
    """``functions`` (an ``nn.Sequential`` or a list of modules) applied in order, each
    of the first ``segments - 1`` runs of ``len(functions) // segments`` modules
    checkpointed as by :func:`checkpoint`, the rest called as it is (PyTorch's split).

    PyTorch equivalent: ``torch.utils.checkpoint.checkpoint_sequential``.
    """
    from fnnet.torch.nn.modules.container import Sequential

    if isinstance(segments, bool) or not isinstance(segments, int) or segments < 1:
        raise ValueError(f"checkpoint_sequential: segments must be a positive int, got "
                         f"{segments!r}")
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter "
            "should be passed explicitly. In version 2.9 we will raise an exception if "
            "use_reentrant is not passed. use_reentrant=False is recommended, but if you "
            "need to preserve the current default behavior, you can pass "
            "use_reentrant=True. Refer to docs for more details on the differences between "
            "the two variants.", UserWarning, stacklevel=2)
        use_reentrant = True
    kwargs.pop("preserve_rng_state", None)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    modules = list(functions.children() if isinstance(functions, Sequential) else functions)

    def run(first: int, last: int) -> Callable[[Any], Any]:
        def forward(value: Any) -> Any:
            for module in modules[first:last + 1]:
                value = module(value)
            return value

        return forward

    size = len(modules) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = _reentrant(run(start, end), (input,)) if use_reentrant else \
            run(start, end)(input)
    return run(end + 1, len(modules) - 1)(input)


__all__ = ["checkpoint", "checkpoint_sequential"]
