"""Runs corpus programs under one backend and writes what they printed and their final
weights. ``python _run.py torch|fnnet OUT.npz program.py ...``.

Under ``fnnet`` the module ``torch`` (and its submodules) is fnnet.torch, and
``torchvision`` is fnnet.torchvision, put in ``sys.modules`` before any program runs: a
program's ``import torch`` is unchanged.
Each program runs in this one process (``runpy``) with its own globals (and under
``fnnet``, its own recorder, as in a process of its own); its stdout is captured and
every ``nn.Module`` left in its globals contributes its ``state_dict``.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import pathlib
import runpy
import sys
import traceback

import numpy as np

SUBMODULES = ("nn", "nn.functional", "nn.init", "optim", "optim.lr_scheduler", "utils",
              "utils.data", "autograd")
#: torchvision's modules, which are fnnet.torchvision's under ``fnnet`` (PyTorch's backend
#: has no torchvision here, so the corpus holds no program that imports it)
TORCHVISION_SUBMODULES = ("datasets", "transforms", "transforms.functional", "models",
                          "utils")


def use_fnnet() -> None:
    import fnnet.torch

    sys.modules["torch"] = fnnet.torch
    for name in SUBMODULES:
        sys.modules[f"torch.{name}"] = importlib.import_module(f"fnnet.torch.{name}")
    sys.modules["torchvision"] = importlib.import_module("fnnet.torchvision")
    for name in TORCHVISION_SUBMODULES:
        sys.modules[f"torchvision.{name}"] = importlib.import_module(
            f"fnnet.torchvision.{name}")


def _own_recorder(backend: str) -> contextlib.AbstractContextManager[object]:
    """A fresh fnnet.torch recorder for one program: the structures compiled, and the
    count of recent compiles that decides the fallback to op by op, are its own."""
    if backend != "fnnet":
        return contextlib.nullcontext()
    from fnnet.torch import _compiler

    return _compiler.fresh()


def main() -> None:
    backend, out, *programs = sys.argv[1:]
    if backend == "fnnet":
        use_fnnet()
    else:
        import torch

        torch.set_num_threads(1)
    import torch

    sys.path.insert(0, str(pathlib.Path(__file__).parent))
    printed, arrays, errors = {}, {}, {}
    for path in programs:
        name = pathlib.Path(path).stem
        buffer = io.StringIO()
        cwd = os.getcwd()
        with _own_recorder(backend):
            try:
                with contextlib.redirect_stdout(buffer):
                    scope = runpy.run_path(path, run_name="__main__")
            except BaseException:  # noqa: BLE001 - reported per program
                errors[name] = traceback.format_exc()
                scope = {}
            finally:
                os.chdir(cwd)
            printed[name] = buffer.getvalue()
            for var, value in scope.items():
                if isinstance(value, torch.nn.Module):
                    for key, tensor in value.state_dict().items():
                        arrays[f"{name}/{var}.{key}"] = np.asarray(tensor.detach().numpy())
    np.savez(out, **arrays)
    pathlib.Path(out + ".json").write_text(json.dumps({"printed": printed,
                                                        "errors": errors}))


if __name__ == "__main__":
    main()
