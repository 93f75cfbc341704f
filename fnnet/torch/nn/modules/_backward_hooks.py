"""A module's full backward hooks (``register_full_backward_hook``,
``register_full_backward_pre_hook``), built on tensor hooks.

A call of a module with such hooks passes each input that requires grad through a copy,
so that the copy's gradient is the gradient through this module alone (an input also
used elsewhere, a residual connection, gets more), and watches the outputs' gradients.
Once the gradients of one backward have arrived, the pre-hooks get
``(module, grad_output)`` and the hooks ``(module, grad_input, grad_output)``, with None
for an input that needs no gradient. The step computes every gradient in one program,
so a hook may read them (Grad-CAM, gradient statistics) but not replace them: a hook
that returns new gradients raises.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from fnnet.torch._recorder import current
from fnnet.torch.tensor import Tensor, _op


def _backward_hook_function(x: jax.Array) -> jax.Array:
    """A hooked module's output: a copy, as PyTorch's ``BackwardHookFunction`` makes."""
    return jnp.array(x, copy=True)


_backward_hook_function.grad_fn_name = "BackwardHookFunctionBackward"  # type: ignore[attr-defined]


def _replaced(kind: str) -> NotImplementedError:
    return NotImplementedError(
        f"fnnet.torch: a full backward {kind} that returns new gradients is not supported: "
        "the step computes every gradient in one program; change the gradients with "
        "Tensor.register_hook on a leaf, or in the loss")


class BackwardCall:
    """The gradients of one module call's inputs and outputs, handed to its hooks.

    Made before the call's ``forward`` (:meth:`inputs` gives the arguments to call it
    with), then shown its output (:meth:`watch`).

    Args:
        module: the module called.
        hooks: its ``register_full_backward_hook`` hooks.
        pre_hooks: its ``register_full_backward_pre_hook`` hooks.
        args: the call's positional arguments.
    """

    def __init__(self, module: Any, hooks: list[Callable[..., Any]],
                 pre_hooks: list[Callable[..., Any]], args: tuple[Any, ...]) -> None:
        self.module, self.hooks, self.pre_hooks = module, hooks, pre_hooks
        enabled = current().grad_enabled
        # a copy of each input that requires grad: its gradient is this module's alone;
        # its hook is registered before forward records the copy's uses
        self.args = tuple(a.clone() if enabled and isinstance(a, Tensor) and a.requires_grad
                          else a for a in args)
        watched = [a is not b for a, b in zip(args, self.args, strict=True)]
        self.grad_input: list[Any] = [None] * sum(isinstance(a, Tensor) for a in args)
        self.grad_output: list[Any] = []
        self.outputs = 0
        self.expected = self.arrived = self.outputs_arrived = 0
        k = 0
        for a, copied in zip(self.args, watched, strict=True):
            if not isinstance(a, Tensor):
                continue
            if copied:
                a.register_hook(functools.partial(self._input, k))
                self.expected += 1
            k += 1
        self.any_input = self.expected > 0

    def inputs(self) -> tuple[Any, ...]:
        """The arguments to call ``forward`` with."""
        return self.args

    def watch(self, output: Any) -> Any:
        """Registers the hooks on copies of ``output``'s tensors that require grad.

        Returns:
            ``output`` with those copies: as PyTorch's, the call returns new tensors, so
            that a module returning its child's output (``Sequential``) hears its own
            gradient after the child's hooks have run.
        """
        single = not isinstance(output, (tuple, list))
        outputs = [output] if single else list(output)
        self.grad_output = [None] * sum(isinstance(t, Tensor) for t in outputs)
        k = 0
        for i, t in enumerate(outputs):
            if not isinstance(t, Tensor):
                continue
            if t.requires_grad:
                outputs[i] = t = _op(_backward_hook_function, (), t)
                t.register_hook(functools.partial(self._output, k))
                self.outputs += 1
            k += 1
        if not self.outputs:
            self.expected = 0  # nothing flows back through this call: no hook runs
        self.expected += self.outputs
        if single:
            return outputs[0]
        if hasattr(output, "_fields"):  # a namedtuple
            return type(output)(*outputs)
        return type(output)(outputs)

    def _output(self, k: int, grad: Tensor) -> None:
        self.grad_output[k] = grad
        self.outputs_arrived += 1
        if self.outputs_arrived == self.outputs:
            for hook in self.pre_hooks:
                if hook(self.module, tuple(self.grad_output)) is not None:
                    raise _replaced("pre-hook")
        self._arrive()

    def _input(self, k: int, grad: Tensor) -> None:
        self.grad_input[k] = grad
        self._arrive()

    def _arrive(self) -> None:
        self.arrived += 1
        if self.arrived < self.expected:
            return
        self.arrived = self.outputs_arrived = 0  # a second backward (retain_graph) again
        if self.hooks and not self.any_input:
            warnings.warn(_OUTPUTS_ONLY, UserWarning, stacklevel=2)
        for hook in self.hooks:
            if hook(self.module, tuple(self.grad_input), tuple(self.grad_output)) is not None:
                raise _replaced("hook")


#: PyTorch's warning when no input of the call requires grad
_OUTPUTS_ONLY = ("Full backward hook is firing when gradients are computed with respect to "
                 "module outputs since no inputs require gradients. See "
                 "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                 "#torch.nn.Module.register_full_backward_hook for more details.")
