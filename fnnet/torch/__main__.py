"""``python -m fnnet.torch SCRIPT [ARGS ...]``: a PyTorch script run unchanged on
fnnet.torch (see :mod:`fnnet.torch.as_torch`)."""

import sys

from fnnet.torch.as_torch import main

if __name__ == "__main__":
    sys.exit(main())
