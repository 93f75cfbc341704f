"""PyTorch scripts run unchanged: ``import torch`` gives fnnet.torch.

``fnnet run train.py --epochs 3`` (or ``python -m fnnet.torch train.py --epochs 3``) runs
a PyTorch script as ``python train.py --epochs 3`` would, with nothing in it edited: its
``import torch``, ``import torch.nn as nn``, ``from torch.utils.data import DataLoader``
and ``import torchvision`` give fnnet.torch's and fnnet.torchvision's modules. In a
notebook or a program of your own, :func:`install` does the same for the imports that
follow it::

    import fnnet.torch.as_torch
    fnnet.torch.as_torch.install()
    import torch                      # fnnet.torch
    assert torch.nn is fnnet.torch.nn

The names map one to one (``torch.X.Y`` is ``fnnet.torch.X.Y``, the same module object).
A module fnnet.torch does not have raises ``ModuleNotFoundError`` naming it, as a
missing optional package does, so that a script's ``try: import torch._dynamo except
ImportError:`` still works.

Processes the script starts itself see the mapping where they inherit it:
``multiprocessing``'s ``fork`` children (DataLoader workers) and its ``spawn`` children
(``torch.multiprocessing.spawn``), whose command line installs it before the script is
imported again. A new interpreter the script launches (``subprocess.run([sys.executable,
...])``) imports PyTorch, unless it is started with ``python -m fnnet.torch``.
``fnnet torchrun -m fnnet.torch train.py`` runs an unchanged distributed script.
"""

from __future__ import annotations

import builtins
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import io
import os
import runpy
import sys
import types
from collections.abc import Sequence

#: the packages mapped, each to fnnet's
PACKAGES = {"torch": "fnnet.torch", "torchvision": "fnnet.torchvision"}

USAGE = """usage: {prog} [-h] SCRIPT [ARGS ...]
       {prog} [-h] -m MODULE [ARGS ...]

Run a PyTorch script unchanged on fnnet.torch: its `import torch` (and torchvision)
give fnnet.torch's modules. ARGS are the script's own (sys.argv[1:]), as with `python`.

  SCRIPT      a Python file (or a folder with a __main__.py), run as
              `python SCRIPT ARGS` runs it
  -m MODULE   a module on sys.path, run as `python -m MODULE ARGS` runs it
  -h, --help  show this help message and exit
"""


def _target(fullname: str) -> str | None:
    """fnnet's name for a module of a mapped package, else None."""
    top, dot, rest = fullname.partition(".")
    base = PACKAGES.get(top)
    return None if base is None else base + dot + rest


class _Alias(importlib.abc.Loader):
    """Loads a mapped name as fnnet's module object itself."""

    def __init__(self, module: types.ModuleType, name: str) -> None:
        self.module = module
        self.name = name

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return self.module

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run (fnnet's module was imported under its own name) but to map the
        submodules whose names the module binds to functions (``torch.nn.utils.weight_norm``)."""
        from fnnet.torch._submodules import alias_shadowed_submodules

        alias_shadowed_submodules(self.name, module)


class Finder(importlib.abc.MetaPathFinder):
    """Finds ``torch``, ``torch.*``, ``torchvision`` and ``torchvision.*`` as fnnet's
    modules; first on ``sys.meta_path`` once :func:`install` ran."""

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: types.ModuleType | None = None
                  ) -> importlib.machinery.ModuleSpec | None:
        name = _target(fullname)
        if name is None:
            return None
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:  # a module fnnet's imports itself is missing
                raise
            raise ModuleNotFoundError(
                f"No module named {fullname!r}: fnnet.torch, which runs this program in "
                f"place of PyTorch, has no {name!r}", name=fullname) from None
        spec = importlib.machinery.ModuleSpec(fullname, _Alias(module, fullname),
                                              is_package=hasattr(module, "__path__"))
        if hasattr(module, "__path__"):
            spec.submodule_search_locations = list(module.__path__)
        return spec


def installed() -> bool:
    """Whether :func:`install` has mapped ``torch`` onto fnnet.torch in this process."""
    return any(isinstance(f, Finder) for f in sys.meta_path)


def install() -> None:
    """Maps ``import torch`` (and its submodules, and torchvision) onto fnnet's modules
    for the rest of the process. Installing twice changes nothing.

    Raises:
        RuntimeError: PyTorch (or torchvision) is already imported in this process:
            its modules and fnnet's would be mixed.
    """
    if installed():
        return
    for top, base in PACKAGES.items():
        loaded = sys.modules.get(top)
        if loaded is not None and not loaded.__name__.startswith(base):
            raise RuntimeError(
                f"{top} is already imported in this process ({loaded.__file__}): "
                f"install() must run before the first `import {top}`, or the program "
                f"would mix PyTorch's modules with fnnet.torch's")
    sys.meta_path.insert(0, Finder())
    _spawn_children_install()


def uninstall() -> None:
    """Undoes :func:`install`: ``import torch`` finds PyTorch again (modules already
    imported under ``torch`` names are forgotten; fnnet's own stay imported)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, Finder)]
    for name in [n for n in sys.modules if _target(n) is not None]:
        module = sys.modules[name]
        if module is not None and module.__name__ != name:
            del sys.modules[name]


def _spawn_children_install() -> None:
    """Makes multiprocessing's ``spawn`` children install the mapping before they import
    the script again (their first act, before any code of the parent's runs there)."""
    import multiprocessing.spawn as spawn

    if getattr(spawn.get_command_line, "_fnnet_as_torch", False):
        return
    original = spawn.get_command_line

    def get_command_line(**kwds: object) -> list[str]:
        line = original(**kwds)
        if installed() and "-c" in line:
            at = line.index("-c") + 1
            line[at] = f"import {__name__}; {__name__}.install(); {line[at]}"
        return line

    get_command_line._fnnet_as_torch = True  # type: ignore[attr-defined]
    spawn.get_command_line = get_command_line


def main(argv: Sequence[str] | None = None, prog: str = "python -m fnnet.torch") -> int:
    """Runs ``SCRIPT ARGS`` or ``-m MODULE ARGS`` with ``torch`` mapped onto fnnet.torch;
    returns the exit status (the script's ``sys.exit`` code, 1 for an uncaught exception
    with its traceback printed as Python prints it, 2 for bad arguments or a missing
    script). Interrupted (Ctrl-C), it prints the script's traceback and re-raises the
    KeyboardInterrupt, which ends the process by SIGINT as Python's does."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE.format(prog=prog), file=sys.stdout if argv else sys.stderr, end="")
        return 0 if argv else 2
    module = argv[0] == "-m"
    if module and len(argv) < 2:
        print(f"{prog}: error: -m expects a module name", file=sys.stderr)
        return 2
    if not module and argv[0].startswith("-"):
        print(f"{prog}: error: unknown option {argv[0]!r} (the options of the script "
              f"follow its name)", file=sys.stderr)
        return 2
    target, args = (argv[1], argv[2:]) if module else (argv[0], argv[1:])
    if not module and not os.path.exists(target):
        # Python's own words and status for a script it cannot open
        print(f"{prog}: can't open file {os.path.abspath(target)!r}: [Errno 2] No such "
              f"file or directory", file=sys.stderr)
        return 2
    if not module and os.path.isdir(target) and \
            not os.path.isfile(os.path.join(target, "__main__.py")):
        # a folder runs as Python runs it, by its __main__.py
        print(f"{prog}: can't find '__main__' module in {os.path.abspath(target)!r}",
              file=sys.stderr)
        return 1
    try:
        install()
    except RuntimeError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 2
    saved_argv, saved_path = sys.argv, sys.path[:]
    # sys.path[0] as Python sets it, in place of this runner's: the working directory for
    # `python -m`, the folder itself for `python FOLDER`, the script's folder for
    # `python SCRIPT`
    if module:
        first = os.getcwd()
    elif os.path.isdir(target):
        first = os.path.abspath(target)
    else:
        first = os.path.dirname(os.path.abspath(target))
    sys.path[0:1] = [first]
    sys.argv = [target, *args]
    try:
        if module:
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        elif os.path.isfile(target):
            _run_script(target)
        else:  # a folder (its __main__.py) or a zip archive
            runpy.run_path(target, run_name="__main__")
    except SystemExit as stop:
        return _exit_status(stop.code)
    except KeyboardInterrupt as error:
        # Python's way: the script's traceback, then the process ends by SIGINT (after
        # its exit handlers), so that its parent sees what `python SCRIPT` gives it
        _print_script_traceback(error)
        _exit_quietly_on(KeyboardInterrupt)
        raise
    except BaseException as error:  # noqa: BLE001 - printed as Python prints it
        _print_script_traceback(error)
        return 1
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
    return 0


def _run_script(target: str) -> None:
    """Runs the Python file ``target`` as ``python target`` runs it, as module
    ``__main__``: its ``__file__`` (and its tracebacks' file names) is the path joined to
    the working directory, not normalised, as Python sets it (so that a script that
    changes directory still finds the files beside it), and ``sys.argv[0]`` stays
    ``target`` (``runpy.run_path`` would make both the path as given)."""
    path = target if os.path.isabs(target) else os.path.join(os.getcwd(), target)
    loader = importlib.machinery.SourceFileLoader("__main__", path)
    with io.open_code(path) as file:
        code = compile(file.read(), path, "exec", dont_inherit=True)
    main = types.ModuleType("__main__")
    main.__dict__.update(__file__=path, __cached__=None, __loader__=loader,
                         __package__=None, __spec__=None, __builtins__=builtins)
    saved = sys.modules.get("__main__")
    sys.modules["__main__"] = main
    try:
        exec(code, main.__dict__)
    finally:
        if saved is not None:
            sys.modules["__main__"] = saved


def _exit_quietly_on(kind: type[BaseException]) -> None:
    """Makes the interpreter print nothing for an uncaught ``kind`` (already printed):
    an uncaught KeyboardInterrupt still ends the process by SIGINT, as Python's does."""
    previous = sys.excepthook

    def hook(exc_type: type[BaseException], value: BaseException,
             tb: types.TracebackType | None) -> None:
        if not issubclass(exc_type, kind):
            previous(exc_type, value, tb)

    sys.excepthook = hook


def _exit_status(code: object) -> int:
    """The status ``sys.exit(code)`` gives, as Python's: None 0, an int itself, anything
    else printed to stderr and 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _print_script_traceback(error: BaseException) -> None:
    """The traceback of an exception the script raised, from the script's own frames on
    (this runner's and runpy's left out)."""
    tb = error.__traceback__
    while tb is not None and (tb.tb_frame.f_code.co_filename == __file__
                              or tb.tb_frame.f_globals.get("__name__") == "runpy"):
        tb = tb.tb_next
    # sys.excepthook, as Python calls it for an uncaught exception: the interpreter's own
    # printer, or the one the script installed (rich's tracebacks...)
    sys.excepthook(type(error), error.with_traceback(tb), tb)
