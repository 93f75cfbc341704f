"""``torch.distributed.elastic.multiprocessing.errors.record``: the decorator of a
script's entry point under torchrun.

As PyTorch's, it turns on :mod:`faulthandler` (a crash prints every thread's stack),
lets the function's exceptions through, writes an exception's message and traceback
as JSON to ``TORCHELASTIC_ERROR_FILE`` where that is set, and makes ``sys.exit(0)``
inside the function a plain return.
"""

from __future__ import annotations

import faulthandler
import functools
import json
import os
import time
import traceback
import warnings
from collections.abc import Callable
from typing import Any

from fnnet.torch.distributed._unsupported import unsupported


def _write_error_file(error: BaseException) -> None:
    """PyTorch's error file (``TORCHELASTIC_ERROR_FILE``), where one is asked for."""
    path = os.environ.get("TORCHELASTIC_ERROR_FILE")
    if not path:
        return
    data = {"message": {"message": f"{type(error).__name__}: {error}",
                        "extraInfo": {"py_callstack": traceback.format_exc(),
                                      "timestamp": str(int(time.time()))}}}
    with open(path, "w") as file:
        json.dump(data, file)


def record(fn: Callable[..., Any], error_handler: Any = None) -> Callable[..., Any]:
    """``fn`` with its errors recorded (see the module docstring).

    Args:
        fn: the entry point (usually ``main``).
        error_handler: must be None (PyTorch's custom handlers are not provided).

    Returns:
        The wrapped function; it returns None where ``fn`` calls ``sys.exit(0)``.

    Raises:
        TypeError: ``fn`` is not callable.
        NotImplementedError: an ``error_handler``.

    PyTorch equivalent: ``torch.distributed.elastic.multiprocessing.errors.record``.
    """
    if not callable(fn):
        raise TypeError(f"record: fn must be callable, got {type(fn).__name__}")
    if error_handler is not None:
        raise NotImplementedError("fnnet.torch: record(error_handler=...) is not supported; "
                                  "use @record alone")

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            faulthandler.enable(all_threads=True)
        except Exception as error:  # noqa: BLE001 - PyTorch warns and goes on
            warnings.warn(f"Unable to enable fault handler. {type(error).__name__}: {error}",
                          stacklevel=2)
        try:
            return fn(*args, **kwargs)
        except SystemExit as done:
            if done.code == 0:
                return None
            raise
        except Exception as error:
            _write_error_file(error)
            raise

    return wrapper


def __getattr__(name: str) -> Any:
    if name.startswith("_"):
        raise AttributeError(name)
    raise unsupported(f"elastic.multiprocessing.errors.{name}")
