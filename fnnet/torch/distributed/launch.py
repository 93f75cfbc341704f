"""``python -m fnnet.torch.distributed.launch``: PyTorch's deprecated launcher.

The launcher of :mod:`fnnet.torch.distributed.run` with ``torch.distributed.launch``'s
legacy: each process gets its local rank as the script's first argument
(``--local-rank=N``) unless ``--use-env`` is given (then only ``LOCAL_RANK``, as
torchrun), and PyTorch's FutureWarning is printed. Use ``python -m
fnnet.torch.distributed.run`` (``fnnet torchrun``) in new scripts.

PyTorch equivalent: ``python -m torch.distributed.launch``.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence

from fnnet.torch.distributed import run

PROG = "python -m fnnet.torch.distributed.launch"

#: PyTorch's warning, word for word
DEPRECATED = (
    "The module torch.distributed.launch is deprecated\n"
    "and will be removed in future. Use torchrun.\n"
    "Note that --use-env is set by default in torchrun.\n"
    "If your script expects `--local-rank` argument to be set, please\n"
    "change it to read from `os.environ['LOCAL_RANK']` instead. See \n"
    "https://pytorch.org/docs/stable/distributed.html#launch-utility for \n"
    "further instructions\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Warns as PyTorch, then runs the script as :func:`run.main` with the legacy
    ``--local-rank`` argument; returns the exit status."""
    warnings.warn(DEPRECATED, FutureWarning, stacklevel=2)
    return run.main(argv, PROG, legacy=True)


if __name__ == "__main__":
    sys.exit(main())
