"""The code blocks of README.md and docs/*.md, run as a reader runs them: each file's
Python blocks in order in one namespace (a session), checked against what the text says
they print; each command line of a shell block parsed by the command it names, so that a
documented flag cannot drift from the command's.

Left out: blocks that continue the reader's own program (docs/checkpoints.md's, whose
``model``, ``opt`` and data are the reader's), installation lines, and the launches of
several processes (their flags are parsed all the same)."""

from __future__ import annotations

import contextlib
import io
import pathlib
import re
import shlex

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)

#: Python blocks that are fragments of the reader's own program: (file, first line)
FRAGMENTS = {("checkpoints.md", "state, history = fnnet.train.fit(model, opt, (x, y), epochs=20, "
                                "seed=0,")}


def _blocks(path, language):
    return [body for lang, body in FENCE.findall(path.read_text()) if lang == language]


def _session(path, tmp_path, monkeypatch):
    """Runs ``path``'s Python blocks in order in one namespace, in ``tmp_path``; returns
    what each printed."""
    monkeypatch.chdir(tmp_path)
    scope: dict[str, object] = {"__name__": "__main__"}
    printed = []
    for block in _blocks(path, "python"):
        if (path.name, block.splitlines()[0].strip()) in FRAGMENTS:
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(block, f"{path.name} block", "exec"), scope)  # noqa: S102
        printed.append(out.getvalue())
    return printed, scope


def test_every_python_block_is_run_or_named_a_fragment():
    names = {(p.name, b.splitlines()[0].strip()) for p in DOCS for b in _blocks(p, "python")}
    assert FRAGMENTS <= names  # a fragment renamed away cannot hide a block
    assert {p.name for p in DOCS if _blocks(p, "python")} == {"README.md", "checkpoints.md",
                                                              "flax.md"}


@pytest.mark.slow  # trains twice for 10 epochs
def test_readme_python_blocks_run_and_print_what_the_text_says(tmp_path, monkeypatch):
    printed = _session(ROOT / "README.md", tmp_path, monkeypatch)[0]
    assert len(printed) == 4, "README has another Python block: check what it prints here"
    loop, fit, shim, devices = printed
    # the functional loop: one line per epoch, "epoch loss accuracy"
    lines = [line.split() for line in loop.splitlines()]
    assert [int(line[0]) for line in lines] == list(range(10))
    assert all(0 <= float(line[2]) <= 1 for line in lines)
    assert "epoch 10/10" in fit  # fit's epoch lines
    # the shim loop's compile_stats(): hits, compiles and what changed at each compile
    stats = eval(shim)  # noqa: S307 - the dict it printed
    assert stats["compiles"] >= 1 and stats["hits"] >= 1 and stats["log"][0]["changes"]
    backend, _ = devices.splitlines()
    assert backend.split()[0] in ("cpu", "gpu", "tpu")


@pytest.mark.slow
def test_flax_guide_runs_and_agrees_to_float_precision(tmp_path, monkeypatch):
    pytest.importorskip("flax")
    (printed,) = _session(ROOT / "docs" / "flax.md", tmp_path, monkeypatch)[0]
    values = [float(v) for v in printed.split()]
    first, losses, last = values[0], values[1:-1], values[-1]
    assert first < 1e-5 and last < 1e-5  # "~1e-7"
    assert len(losses) == 3 and losses[-1] < losses[0]


def _command_lines(path):
    """The commands of ``path``'s shell blocks, continuation lines joined, comments and
    synopses (``[--flag]``) left out."""
    for block in _blocks(path, "sh"):
        for line in block.replace("\\\n", " ").splitlines():
            # a shell variable stands for a number here ($NODE: this machine's rank)
            words = shlex.split(re.sub(r"\$\w+", "0", line), comments=True)
            if words and not any(w.startswith("[") for w in words):
                yield words


def _parse(words):
    """Parses a documented command with the parser of the command it names; None for a
    command that is not fnnet's (pip, tensorboard, PyTorch's torchrun)."""
    from fnnet.cli import build_parser
    from fnnet.torch.distributed import run

    if words[:2] == ["fnnet", "torchrun"]:
        return run.build_parser().parse_args(words[2:])
    if words[:1] == ["fnnet"]:
        return build_parser().parse_args(words[1:])
    if words[:3] == ["python", "-m", "fnnet.torch.distributed.run"]:
        return run.build_parser().parse_args(words[3:])
    return None


@pytest.mark.parametrize("path", [p for p in DOCS if _blocks(p, "sh")], ids=lambda p: p.name)
def test_documented_command_lines_parse(path):
    parsed = [(words, _parse(words)) for words in _command_lines(path)]
    assert any(args is not None for _, args in parsed)
    for words, args in parsed:
        if words[:2] == ["fnnet", "train"]:
            assert args.command == "train", words


def test_every_subpackage_the_docs_name_is_reached_from_import_fnnet():
    # The docs write ``fnnet.train.fit(...)`` and ``fnnet.checkpoint.save_safetensors``
    # after a plain ``import fnnet``: each subpackage they name is an attribute of the
    # package, imported on first use (module __getattr__; a test process has most of
    # them imported already, so the hook is called directly).
    import importlib

    import fnnet

    named = {m for p in DOCS for m in re.findall(r"\bfnnet\.(\w+)\.", p.read_text())}
    assert {"train", "checkpoint", "interop", "parallel", "models"} <= named
    for name in named:
        module = importlib.import_module(f"fnnet.{name}")
        reached = getattr(fnnet, name) if name in fnnet.__all__ else fnnet.__getattr__(name)
        assert reached is module, name
    with pytest.raises(AttributeError, match="module 'fnnet' has no attribute 'trian'"):
        fnnet.__getattr__("trian")


#: docstring examples too slow for the suite (ResNet-18's init and eager apply)
SLOW_EXAMPLES = {"fnnet.models.resnet.ResNet"}


def _docstring_examples():
    """``(module name, path)`` of every fnnet module whose docstrings hold an example."""
    package = ROOT / "fnnet"
    for path in sorted(package.rglob("*.py")):
        if ">>> " in path.read_text():
            parts = path.relative_to(ROOT).with_suffix("").parts
            yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


@pytest.mark.parametrize("module", [name for name, _ in _docstring_examples()])
def test_docstring_examples_run_as_written(module):
    # The API reference shows these to users: each runs with jax, jnp, np and optax
    # imported, as a reader's session has them, and prints what it says.
    import doctest
    import importlib

    import jax
    import jax.numpy as jnp
    import numpy as np
    import optax

    imported = importlib.import_module(module)
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS)
    tests = [t for t in finder.find(imported, module) if t.examples]
    assert tests
    for test in tests:
        if test.name in SLOW_EXAMPLES:
            continue
        test.globs.update(jax=jax, jnp=jnp, np=np, optax=optax)
        out = io.StringIO()
        result = runner.run(test, out=out.write)
        assert result.failed == 0, out.getvalue()
