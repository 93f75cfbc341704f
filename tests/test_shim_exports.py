"""fnnet.torch's namespaces export their names to type checkers as well as at runtime.

Under ``mypy --strict`` a module exports only the names listed in a literal ``__all__``
(``torch.zeros`` is otherwise "not explicitly exported"), so the shim's namespaces
write theirs out; ``fnnet.torch`` and ``fnnet.torch.nn`` append the names installed at
import time.
"""

from __future__ import annotations

import ast
import importlib
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
MODULES = ["fnnet.torch", "fnnet.torch.nn", "fnnet.torch.distributed"]


def _source(module: str) -> ast.Module:
    path = ROOT / module.replace(".", "/") / "__init__.py"
    return ast.parse(path.read_text())


def _bound_at_top_level(tree: ast.Module) -> set[str]:
    """Public names the module binds by import, def, class or assignment."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            names.update(a.asname or a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return {n for n in names if not n.startswith("_")} - {"annotations", "Any", "importlib"}


def _literal_all(tree: ast.Module) -> list[str]:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return list(ast.literal_eval(node.value))
    raise AssertionError("no literal __all__ assignment")


@pytest.mark.parametrize("module", MODULES)
def test_every_name_defined_in_the_source_is_listed_literally(module):
    tree = _source(module)
    listed = _literal_all(tree)
    missing = sorted(_bound_at_top_level(tree) - set(listed))
    assert not missing, (f"{module}: add {missing} to the literal __all__ (type checkers see "
                         "only the names written there)")
    assert len(listed) == len(set(listed))


@pytest.mark.parametrize("module", MODULES[:2])
def test_runtime_all_holds_every_public_name_once(module):
    mod = importlib.import_module(module)
    public = {name for name in dir(mod) if not name.startswith("_")}
    assert set(mod.__all__) == public
    assert len(mod.__all__) == len(public)
    for name in ("topk", "nonzero", "where"):  # installed at import by the op modules
        if module == "fnnet.torch":
            assert name in mod.__all__


@pytest.mark.parametrize("module", [*MODULES, "fnnet.torch.utils.data"])
def test_every_listed_name_exists(module):
    mod = importlib.import_module(module)
    listed = _literal_all(_source(module))
    assert [name for name in listed if not hasattr(mod, name)] == []
    assert set(listed) <= set(mod.__all__)


def test_utils_data_lists_pytorchs_names():
    data = importlib.import_module("fnnet.torch.utils.data")
    assert {"DataLoader", "Dataset", "TensorDataset", "Subset", "random_split",
            "RandomSampler", "SequentialSampler", "DistributedSampler"} <= set(data.__all__)
    assert "np" not in data.__all__



#: torch.nn.utils's submodules, each with names programs import from it
UTILS_MODULES = {
    "clip_grad": ["clip_grad_norm_", "clip_grad_value_"],
    "convert_parameters": ["parameters_to_vector", "vector_to_parameters"],
    "fusion": ["fuse_conv_bn_eval", "fuse_linear_bn_weights"],
    "init": ["skip_init"],
    "memory_format": ["convert_conv2d_weight_memory_format"],
    "parametrizations": ["orthogonal", "weight_norm", "spectral_norm"],
    "parametrize": ["register_parametrization", "cached"],
    "prune": ["l1_unstructured", "BasePruningMethod"],
    "rnn": ["pad_sequence", "PackedSequence"],
    "spectral_norm": ["SpectralNorm", "spectral_norm", "remove_spectral_norm"],
    "stateless": ["functional_call"],
    "weight_norm": ["WeightNorm", "weight_norm", "remove_weight_norm"],
}


@pytest.mark.parametrize("name", list(UTILS_MODULES))
def test_nn_utils_submodules_import_as_pytorchs(torch, name):
    # `import torch.nn.utils.weight_norm` loads the module, while the attribute
    # `torch.nn.utils.weight_norm` stays the function, in both
    modules = [importlib.import_module(f"{t}.nn.utils.{name}") for t in ("fnnet.torch", "torch")]
    for module in modules:
        assert [key for key in UTILS_MODULES[name] if not hasattr(module, key)] == []
    kinds = [type(getattr(importlib.import_module(f"{t}.nn.utils"), name)).__name__
             for t in ("fnnet.torch", "torch")]
    assert kinds[0] == kinds[1]
