"""``python -m fnnet``: the ``fnnet`` command, where the environment's scripts folder is
not on ``PATH``."""

import sys

from fnnet.cli import main

if __name__ == "__main__":  # importing the module (a docs or package walker) runs nothing
    sys.exit(main())
