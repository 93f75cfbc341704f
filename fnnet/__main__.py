"""``python -m fnnet``: the ``fnnet`` command, where the environment's scripts folder is
not on ``PATH``."""

import sys

from fnnet.cli import main

sys.exit(main())
