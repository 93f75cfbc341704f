"""``torch.nn.modules.utils``: the helper that loads a state dict saved by a wrapped model
(``DataParallel``, ``DistributedDataParallel``, ``torch.compile``) into the plain one."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

__all__ = ["consume_prefix_in_state_dict_if_present"]


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
