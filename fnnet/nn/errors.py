"""The exceptions of :mod:`fnnet.nn`, in a module of their own so that the modules that
raise them (``module``, ``tree_check``, ``state_dict``) import nothing from each other
to get them."""

from __future__ import annotations


class StateDictError(KeyError, ValueError):
    """Missing, unexpected or mis-shaped entries in a state dict.

    Both a KeyError (missing/unexpected names) and a ValueError (shapes), so either
    ``except`` catches it; the message lists every problem at once, as PyTorch's
    ``load_state_dict`` does.
    """

    def __str__(self) -> str:
        # KeyError would quote (repr) the message; show it as written.
        return str(self.args[0]) if self.args else ""
