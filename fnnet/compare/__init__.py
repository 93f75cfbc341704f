"""``fnnet compare``: the side-by-side examples run as PyTorch, fnnet and fnnet.torch.

Each example in ``examples/<name>/`` has three versions of one training run: plain
PyTorch (``torch_version.py``), fnnet's pure functions (``fnnet_version.py``) and the
PyTorch code with only its imports changed (``shim_version.py``). :func:`compare` runs
them from PyTorch's initial weights on the same batches; :func:`example_table`,
:func:`summary_table` and :func:`plot_losses` report per-epoch losses, accuracy,
median time per step and the largest parameter difference.

    fnnet compare mlp_mnist            # one example, its configurations
    fnnet compare --all                # every example, small, one summary table
"""

from fnnet.compare.data import ExampleData
from fnnet.compare.report import example_table, plot_losses, summary_table, verdict
from fnnet.compare.runner import EXAMPLES, Comparison, compare, examples_dir, parse_name

__all__ = [
    "EXAMPLES",
    "Comparison",
    "ExampleData",
    "compare",
    "example_table",
    "examples_dir",
    "parse_name",
    "plot_losses",
    "summary_table",
    "verdict",
]
