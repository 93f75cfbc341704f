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
from fnnet.torch.tensor import Tensor, _op, delivering


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
        # one entry per positional argument and per output, None where no gradient
        # comes (not a tensor, or not used by the loss), as PyTorch's
        self.grad_input: list[Any] = [None] * len(args)
        self.grad_output: list[Any] = []
        self.input_hooks: list[Any] = []
        self.output_hooks: list[Any] = []
        self.arrived = self.outputs_arrived = 0
        for k, (a, b) in enumerate(zip(args, self.args, strict=True)):
            if a is not b:
                b.register_hook(functools.partial(self._input, k))
                self.input_hooks.append(b._gradient_hooks())
        self.any_input = bool(self.input_hooks)

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
        self.grad_output = [None] * len(outputs)
        for k, t in enumerate(outputs):
            if isinstance(t, Tensor) and t.requires_grad:
                outputs[k] = t = _op(_backward_hook_function, (), t)
                t.register_hook(functools.partial(self._output, k))
                self.output_hooks.append(t._gradient_hooks())
        if not self.output_hooks:
            self.input_hooks = []  # nothing flows back through this call: no hook runs
        if single:
            return outputs[0]
        if hasattr(output, "_fields"):  # a namedtuple
            return type(output)(*outputs)
        return type(output)(outputs)

    @staticmethod
    def _coming(watched: list[Any]) -> int:
        """How many of the ``watched`` tensors get a gradient in the backward running:
        those the loss depends on (an output it does not use, MultiheadAttention's
        weights, gets None), or all of them where that is not known."""
        now = delivering()
        return len(watched) if now is None else sum(id(h) in now for h in watched)

    def _output(self, k: int, grad: Tensor) -> None:
        self.grad_output[k] = grad
        self.outputs_arrived += 1
        if self.outputs_arrived == self._coming(self.output_hooks):
            for hook in self.pre_hooks:
                if hook(self.module, tuple(self.grad_output)) is not None:
                    raise _replaced("pre-hook")
        self._arrive()

    def _input(self, k: int, grad: Tensor) -> None:
        self.grad_input[k] = grad
        self._arrive()

    def _arrive(self) -> None:
        self.arrived += 1
        if self.arrived < self._coming(self.input_hooks) + self._coming(self.output_hooks):
            return
        self.arrived = self.outputs_arrived = 0  # a second backward (retain_graph) again
        grad_input, grad_output = tuple(self.grad_input), tuple(self.grad_output)
        self.grad_input = [None] * len(self.grad_input)
        self.grad_output = [None] * len(self.grad_output)
        if self.hooks and not self.any_input:
            warnings.warn(_OUTPUTS_ONLY, UserWarning, stacklevel=2)
        for hook in self.hooks:
            if hook(self.module, grad_input, grad_output) is not None:
                raise _replaced("hook")


#: PyTorch's warning when no input of the call requires grad
_OUTPUTS_ONLY = ("Full backward hook is firing when gradients are computed with respect to "
                 "module outputs since no inputs require gradients. See "
                 "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                 "#torch.nn.Module.register_full_backward_hook for more details.")
