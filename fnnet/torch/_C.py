"""The entries of PyTorch's C extension that Python code calls for bookkeeping only:
PyTorch's own layers copied into a program (``torch._C._log_api_usage_once(...)`` in
``TransformerEncoder.__init__``) and older model code asking whether it is being traced.
Every other name raises NotImplementedError naming itself.
"""

from __future__ import annotations

from typing import Any

from fnnet.torch.tensor import Unsupported


def _log_api_usage_once(event: str) -> None:
    """Does nothing: PyTorch logs the first use of an API for its telemetry.

    Raises:
        TypeError: ``event`` is not a string, as PyTorch's binding.
    """
    if not isinstance(event, str):
        raise TypeError(f"_log_api_usage_once(): incompatible function arguments. The "
                        f"following argument types are supported:\n    1. (arg0: str) -> "
                        f"None\n\nInvoked with: {event!r}")


def _get_tracing_state() -> None:
    """None: nothing is traced by ``torch.jit.trace`` here (fnnet.torch's ``trace`` runs
    the module as it is)."""
    return None


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise Unsupported(f"fnnet.torch does not support torch._C.{name}; use jax.numpy / "
                      f"fnnet's functional API (fnnet.nn.functional, fnnet.losses, "
                      f"fnnet.optim)")
