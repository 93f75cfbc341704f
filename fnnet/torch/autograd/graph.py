"""``torch.autograd.graph``: the hooks on the tensors a backward saves, and ``Node``.

fnnet.torch's compiled step keeps what its backward needs itself (JAX's residuals), so
there is nothing for such hooks to pack: ``save_on_cpu`` (offloading saved activations
to the host) changes where memory goes, never a value, and runs as a context that does
nothing; ``saved_tensors_hooks`` runs likewise but warns once, since hooks that change
the tensors (quantising saved activations) change PyTorch's gradients and not these.
"""

from __future__ import annotations

import abc
import contextvars
import warnings
from collections.abc import Callable
from typing import Any

from fnnet.torch._grad_fn import AccumulateGrad, GradFn
from fnnet.torch._recorder import current
from fnnet.torch.tensor import Unsupported

__all__ = ["Node", "disable_saved_tensors_hooks", "save_on_cpu", "saved_tensors_hooks"]

#: the warning given, once per process, where hooks are set
HOOKS_NOT_CALLED = ("fnnet.torch: saved_tensors_hooks' pack_hook and unpack_hook are not "
                    "called: the compiled step keeps what its backward needs itself (the "
                    "gradients are PyTorch's where unpack_hook(pack_hook(t)) gives t back)")

#: the message of the innermost disable_saved_tensors_hooks, or None outside one
_disabled: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "fnnet_torch_saved_tensors_hooks_disabled", default=None)


class Node(abc.ABC):  # noqa: B024 - PyTorch's abstract class, checked with isinstance
    """The class of every ``grad_fn`` (and ``AccumulateGrad``): ``isinstance(t.grad_fn,
    torch.autograd.graph.Node)`` holds. PyTorch equivalent: ``torch.autograd.graph.Node``.
    """


Node.register(GradFn)
Node.register(AccumulateGrad)


class saved_tensors_hooks:  # noqa: N801 - PyTorch's name
    """A context whose ``pack_hook`` and ``unpack_hook`` PyTorch would call on every
    tensor a backward saves; fnnet.torch does not call them (see the module docstring).

    Raises:
        TypeError: a hook is not callable.
        RuntimeError: entered inside ``disable_saved_tensors_hooks`` (its message).

    PyTorch equivalent: ``torch.autograd.graph.saved_tensors_hooks``.
    """

    def __init__(self, pack_hook: Callable[[Any], Any],
                 unpack_hook: Callable[[Any], Any]) -> None:
        for name, hook in (("pack_hook", pack_hook), ("unpack_hook", unpack_hook)):
            if not callable(hook):
                raise TypeError(f"saved_tensors_hooks: {name} must be callable, got "
                                f"{type(hook).__name__}")
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self) -> saved_tensors_hooks:
        disabled = _disabled.get()
        if disabled is not None:
            raise RuntimeError(disabled)
        self._warn()
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def _warn(self) -> None:
        warned = current().warned
        if HOOKS_NOT_CALLED not in warned:
            warned.add(HOOKS_NOT_CALLED)
            warnings.warn(HOOKS_NOT_CALLED, UserWarning, stacklevel=3)


class save_on_cpu(saved_tensors_hooks):  # noqa: N801 - PyTorch's name
    """Keeps a backward's saved tensors on the host in PyTorch; fnnet.torch's compiled
    step keeps them itself, so this changes nothing (the values never differ).

    PyTorch equivalent: ``torch.autograd.graph.save_on_cpu``.
    """

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        super().__init__(_identity, _identity)
        self.pin_memory, self.device_type = pin_memory, device_type

    def _warn(self) -> None:
        return None


def _identity(tensor: Any) -> Any:
    return tensor


class disable_saved_tensors_hooks:  # noqa: N801 - PyTorch's name
    """A context inside which entering ``saved_tensors_hooks`` raises RuntimeError with
    ``error_message``. PyTorch equivalent:
    ``torch.autograd.graph.disable_saved_tensors_hooks``."""

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message
        self._token: contextvars.Token[str | None] | None = None

    def __enter__(self) -> None:
        self._token = _disabled.set(self.error_message)

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _disabled.reset(self._token)
            self._token = None


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise Unsupported(f"fnnet.torch does not support torch.autograd.graph.{name}; use "
                      f"jax.grad, jax.vjp or jax.jacobian on fnnet's functional API")
