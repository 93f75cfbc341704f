"""Where a warning of fnnet.torch points: the user's line that led to it."""

from __future__ import annotations

import os
import sys
import types

_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def caller_level() -> int:
    """``warnings.warn``'s stacklevel naming the first caller outside fnnet.torch, for a
    warning reached through call paths of different depths (a method, a function and an
    in-place form; a flush from ``optimizer.step()`` or from ``loss.item()``)."""
    frame: types.FrameType | None = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level
