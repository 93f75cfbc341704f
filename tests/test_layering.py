"""fnnet's modules form layers: no module imports, at module level, a module that imports
it back, and every module can be imported on its own.

The import graph is read from the source with ``ast``: an edge for every ``import`` and
``from ... import`` executed when the module is imported (not those inside functions or
under ``TYPE_CHECKING``), plus the packages above the imported module that the importer
is not itself inside, since Python runs a package's ``__init__`` before its modules.
"""

from __future__ import annotations

import ast
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "fnnet"

# Cycles that exist today (none): listed so that a new cycle fails this test and the
# removal of a listed one makes the list shrink.
KNOWN_CYCLES: set[frozenset[str]] = set()


def _modules() -> dict[str, tuple[pathlib.Path, bool]]:
    """``{dotted name: (path, is_package)}`` for every module of fnnet."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        found[".".join(parts)] = (path, is_package)
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(name: str, path: pathlib.Path, is_package: bool, modules) -> set[str]:
    """The fnnet modules that importing ``name`` imports directly."""
    package = name if is_package else name.rpartition(".")[0]
    targets: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                for alias in node.names:
                    # ``from pkg import submodule`` imports the submodule; ``from pkg
                    # import name`` needs pkg's __init__ to have defined the name.
                    sub = f"{source}.{alias.name}"
                    targets.add(sub if sub in modules else source)
            elif isinstance(node, ast.If):
                if not _is_type_checking(node.test):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
                visit(node.orelse)
                visit(node.finalbody)
            elif isinstance(node, ast.With):
                visit(node.body)

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    own = {name.rsplit(".", i)[0] for i in range(name.count(".") + 1)}
    edges = set()
    for target in targets:
        if target not in modules:
            continue
        parts = target.split(".")
        edges.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return {m for m in edges if m in modules and m not in own}


def _cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, *where, modules) for name, where in modules.items()}


def test_the_graph_sees_fnnets_own_imports(graph):
    # The reader is not vacuous: known edges are there, function-level imports are not.
    assert "fnnet.nn.module" in graph["fnnet.nn.state_dict"]
    assert "fnnet.nn.tree_check" in graph["fnnet.nn.module"]
    assert "fnnet.core" in graph["fnnet.checkpoint.resume"]  # via fnnet.core.state
    assert len(graph) > 100


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [frozenset({"a", "b", "c"})]


def test_no_module_imports_a_module_that_imports_it_back(graph):
    cycles = set(_cycles(graph))
    new = [sorted(c) for c in cycles - KNOWN_CYCLES]
    assert not new, f"import cycles: {new}"
    assert cycles == KNOWN_CYCLES, "a known cycle is gone: remove it from KNOWN_CYCLES"


def test_the_core_imports_nothing_inside_functions_to_dodge_a_cycle():
    # fnnet.nn's module, tree checks and state dicts import each other at module level.
    for name in ("module.py", "state_dict.py", "tree_check.py"):
        tree = ast.parse((PACKAGE / "nn" / name).read_text(encoding="utf-8"))
        nested = [node.lineno for node in ast.walk(tree)
                  if isinstance(node, (ast.Import, ast.ImportFrom))
                  and node not in tree.body]
        assert not nested, f"fnnet/nn/{name}: imports inside functions at lines {nested}"


def test_fit_imports_checkpoints_and_parallel_steps_at_the_top(graph):
    # The state and the steps live in fnnet.core, below fnnet.train, fnnet.parallel and
    # fnnet.checkpoint, so fit imports the other two at module level without a cycle.
    for needed in ("fnnet.checkpoint.resume", "fnnet.parallel.fit", "fnnet.core.state"):
        assert needed in graph["fnnet.train.fit"]
    for lower in ("fnnet.core.state", "fnnet.core.step", "fnnet.core.cache"):
        assert not any(m == "fnnet.train" or m.startswith("fnnet.train.")
                       or m.startswith(("fnnet.parallel", "fnnet.checkpoint"))
                       for m in graph[lower]), (lower, graph[lower])
    for name in ("fnnet.checkpoint.train_state", "fnnet.checkpoint.resume",
                 "fnnet.parallel.sharding", "fnnet.parallel.pmap", "fnnet.parallel.fit"):
        assert "fnnet.train" not in graph[name], name
    for path in (PACKAGE / "train" / "fit.py", *(PACKAGE / "core").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nested = [node.lineno for node in ast.walk(tree)
                  if isinstance(node, (ast.Import, ast.ImportFrom)) and node not in tree.body]
        assert not nested, f"{path.name}: imports inside functions at lines {nested}"


def test_modules_read_no_private_names_of_another_module():
    # fnnet.data.registry once read idx._SOURCES; what a module shares, it makes public.
    for path in (PACKAGE / "data").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules = {alias.asname or alias.name.rpartition(".")[2]
                   for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                   and (node.module or "").startswith("fnnet") for alias in node.names}
        private = [f"{node.value.id}.{node.attr}" for node in ast.walk(tree)
                   if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                   and node.value.id in modules and node.attr.startswith("_")
                   and not node.attr.startswith("__")]
        assert not private, f"{path.name} reads {private}"


# Importing any ``fnnet.x.y`` runs ``fnnet/__init__`` first, so the parent imports fnnet
# (the state every such import starts from) and forks a child per remaining module. Names
# come sorted, a package before its modules. Importing ``fnnet.a.b.c`` alone imports its
# first ancestor that fnnet did not load, ``fnnet.a``, and stops there if ``fnnet.a.b.c``
# was loaded by it: so a module that a child's import of ``fnnet.a`` loaded imports alone
# exactly as ``fnnet.a`` did, and needs no child of its own.
_IMPORT_EACH = """
import importlib, json, os, sys, traceback
import fnnet
before = set(sys.modules)


def first_new_ancestor(name):
    parts = name.split(".")
    return next((".".join(parts[:i]) for i in range(1, len(parts) + 1)
                if ".".join(parts[:i]) not in before), None)


def import_alone(name):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        code, report = 0, {"error": "", "loaded": []}
        try:
            importlib.import_module(name)
            report["loaded"] = [m for m in sys.modules if m.startswith("fnnet.")]
        except NotImplementedError as err:
            # A stand-in for a PyTorch module fnnet does not provide says so on import.
            code = 0 if "fnnet.torch does not support" in str(err) else 1
            report["error"] = repr(err)[-2000:]
        except BaseException:
            report["error"] = traceback.format_exc(limit=3)[-2000:]
            code = 1
        try:
            os.write(write, json.dumps(report).encode())
        finally:
            os._exit(code)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    _, status = os.waitpid(pid, 0)
    return status, json.loads(b"".join(chunks) or b'{"error": "no report", "loaded": []}')


failed, covered, children = [], set(), 0
for name in sys.argv[1:]:
    if name in before or name in covered:
        continue  # imported by fnnet/__init__, or by the import that importing it runs
    status, report = import_alone(name)
    children += 1
    if status:
        failed.append(name + ": " + report["error"])
        continue
    covered.update(m for m in report["loaded"] if first_new_ancestor(m) == name)
print("\\n".join(failed))
print(f"{children} processes", file=sys.stderr)
sys.exit(1 if failed else 0)
"""


@pytest.mark.slow  # one process, then a fork per module that no earlier fork imported
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_every_module_imports_alone_in_a_fresh_process():
    names = sorted(_modules())  # fnnet.__main__ too: importing it runs no command
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    done = subprocess.run([sys.executable, "-c", _IMPORT_EACH, *names], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
