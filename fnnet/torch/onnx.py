"""``torch.onnx`` under fnnet.torch: an export that says what to do instead.

fnnet compiles models with XLA and has no ONNX exporter. The weights move to PyTorch
unchanged (fnnet.torch's state dicts use PyTorch's names and layouts), and PyTorch
exports from there.
"""

from __future__ import annotations

from typing import Any

__all__ = ["export", "is_in_onnx_export"]

_INSTEAD = ("fnnet has no ONNX exporter; save the weights with "
            "torch.save(model.state_dict(), path), load them into the same model under "
            "PyTorch and export there (or export the XLA program: "
            "jax.jit(fn).lower(*args).as_text())")


def is_in_onnx_export() -> bool:
    """False: no export ever runs. PyTorch: ``torch.onnx.is_in_onnx_export``."""
    return False


def export(model: Any, args: Any = (), f: Any = None, *rest: Any, **kwargs: Any) -> Any:
    """Not supported: raises NotImplementedError saying what to do instead.

    PyTorch equivalent: ``torch.onnx.export``.
    """
    raise NotImplementedError(f"torch.onnx.export is not supported by fnnet.torch: {_INSTEAD}")


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    from fnnet.torch.tensor import Unsupported

    raise Unsupported(f"fnnet.torch does not support torch.onnx.{name}: {_INSTEAD}")
