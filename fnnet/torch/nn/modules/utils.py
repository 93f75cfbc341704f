"""``torch.nn.modules.utils``: the helper that loads a state dict saved by a wrapped model
(``DataParallel``, ``DistributedDataParallel``, ``torch.compile``) into the plain one, and
the argument helpers custom layers import from here (``_pair``...)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, MutableMapping
from typing import Any

__all__ = ["consume_prefix_in_state_dict_if_present"]


def _ntuple(n: int, name: str = "parse") -> Callable[[Any], tuple[Any, ...]]:
    """A function making ``x`` an ``n``-tuple (an iterable as a tuple, anything else
    repeated), as a custom convolution's ``kernel_size = _pair(kernel_size)`` reads.

    PyTorch equivalent: ``torch.nn.modules.utils._ntuple``.
    """

    def parse(x: Any) -> tuple[Any, ...]:
        if isinstance(x, Iterable):
            return tuple(x)
        return tuple(itertools.repeat(x, n))

    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def _reverse_repeat_tuple(t: Iterable[Any], n: int) -> tuple[Any, ...]:
    """``t`` reversed, each element ``n`` times: a layer's padding as ``F.pad`` takes it.

    PyTorch equivalent: ``torch.nn.modules.utils._reverse_repeat_tuple``.
    """
    return tuple(x for x in reversed(tuple(t)) for _ in range(n))


def _list_with_default(out_size: Any, defaults: list[int]) -> Any:
    """``out_size`` with each None taken from the trailing ``defaults`` (an adaptive
    pooling's output size). PyTorch equivalent:
    ``torch.nn.modules.utils._list_with_default``."""
    if isinstance(out_size, int):
        return out_size
    if len(defaults) <= len(out_size):
        raise ValueError(f"Input dimension should be at least {len(out_size) + 1}")
    return [v if v is not None else d
            for v, d in zip(out_size, defaults[-len(out_size):], strict=False)]


def consume_prefix_in_state_dict_if_present(state_dict: MutableMapping[str, Any],
                                            prefix: str) -> None:
    """Removes ``prefix`` from the keys of ``state_dict`` that start with it, in place,
    and from the module names of its ``_metadata`` (the versions PyTorch keeps beside a
    state dict), so that ``model.load_state_dict(state_dict)`` finds them: a wrapped
    model's keys start with ``"module."`` (``DataParallel``, DDP) or ``"_orig_mod."``
    (``torch.compile``).

    Args:
        state_dict: a state dict, e.g. ``torch.load(path)``; changed in place.
        prefix: the prefix to remove, e.g. ``"module."``.

    Raises:
        TypeError: ``state_dict`` is not a mutable mapping, or ``prefix`` is not a str.

    PyTorch equivalent: ``torch.nn.modules.utils.consume_prefix_in_state_dict_if_present``.
    """
    if not isinstance(state_dict, MutableMapping):
        raise TypeError(f"consume_prefix_in_state_dict_if_present: state_dict must be a "
                        f"dict (a state dict), got {type(state_dict).__name__}")
    if not isinstance(prefix, str):
        raise TypeError(f"consume_prefix_in_state_dict_if_present: prefix must be a str "
                        f"such as 'module.', got {type(prefix).__name__}")
    for key in list(state_dict):
        if isinstance(key, str) and key.startswith(prefix):
            state_dict[key[len(prefix):]] = state_dict.pop(key)
    metadata = getattr(state_dict, "_metadata", None)
    if isinstance(metadata, MutableMapping):
        for key in list(metadata):
            # '' is the wrapper's own entry, kept; the wrapped model's is the prefix
            # without its dot ('module'), as PyTorch renames it
            if key and (key == prefix.replace(".", "") or key.startswith(prefix)):
                metadata[key[len(prefix):]] = metadata.pop(key)
