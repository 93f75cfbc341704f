"""``torch.jit.script``/``trace``/``save``/``load`` under fnnet.torch against PyTorch's: a
new tree of modules sharing the parameters, with training flags of its own, printed,
trained, saved and loaded back as PyTorch's (the file holds the classes by name, not
TorchScript code)."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest

import fnnet.torch as ft

pytestmark = pytest.mark.torch

_HERE = sys.modules[__name__]
Net: type = object  # bound to each backend's class before its scripted model is saved


def _net_class(t):
    class Net(t.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = t.nn.Linear(3, 4)
            self.bn = t.nn.BatchNorm1d(4)
            self.head = t.nn.Sequential(t.nn.ReLU(), t.nn.Linear(4, 2))

        def forward(self, x):
            return self.head(self.bn(self.fc(x)))

    Net.__module__, Net.__qualname__ = __name__, "Net"
    return Net


def _flow(t):
    """What a deployment tutorial prints: the scripted model, its training, the traced
    one, and the model saved and loaded with torch.jit."""
    rng = np.random.default_rng(0)
    x = t.tensor(rng.standard_normal((16, 3)).astype(np.float32))
    y = t.tensor(rng.integers(0, 2, 16))
    model = _HERE.Net()
    with t.no_grad():
        for name, p in model.named_parameters():
            p.copy_(t.tensor(np.random.default_rng(len(name)).uniform(
                -0.5, 0.5, tuple(p.shape)).astype(np.float32)))
    scripted = t.jit.script(model)
    printed = [repr(scripted), str(list(scripted.state_dict())),
               str(scripted.fc.weight is model.fc.weight),
               str(isinstance(scripted, t.jit.ScriptModule)), type(scripted).__name__]
    optimizer = t.optim.SGD(scripted.parameters(), lr=0.1)
    for _ in range(3):
        loss = t.nn.functional.cross_entropy(scripted(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        printed.append(f"{loss.item():.5f}")
    scripted.eval()
    printed.append(f"{model.training} {model.head.training} {scripted.head.training}")
    traced = t.jit.trace(model.eval(), x[:2])
    printed += [repr(traced), type(traced).__name__]
    with t.no_grad():
        printed.append(str(t.allclose(traced(x), model(x))))
    buffer = io.BytesIO()
    t.jit.save(scripted, buffer)
    buffer.seek(0)
    loaded = t.jit.load(buffer)
    with t.no_grad():
        printed += [type(loaded).__name__, str(loaded.training),
                    str(t.allclose(loaded(x), scripted(x), atol=1e-6))]
    for call in (lambda: pickled(t, scripted), lambda: t.jit.save(model, io.BytesIO()),
                 lambda: t.jit.trace(model)):
        with pytest.raises(Exception) as raised:
            call()
        printed.append(f"{type(raised.value).__name__}: {raised.value}")
    return printed


def pickled(t, module):
    t.save(module, io.BytesIO())


def test_a_scripted_and_a_traced_model_train_save_and_load_as_pytorchs(torch, monkeypatch):
    results = {}
    for name, t in (("torch", torch), ("fnnet", ft)):
        monkeypatch.setattr(_HERE, "Net", _net_class(t))
        results[name] = _flow(t)
    assert results["fnnet"] == results["torch"]


def test_a_torchscript_archive_pytorch_wrote_is_refused_by_name(torch, tmp_path):
    torch.jit.script(torch.nn.Linear(2, 2)).save(tmp_path / "scripted.pt")
    with pytest.raises(NotImplementedError, match=r"scripted.pt' is a TorchScript archive, "
                                                  r"whose code fnnet.torch cannot run"):
        ft.jit.load(tmp_path / "scripted.pt")


def test_functions_are_returned_as_they_are():
    def double(x):
        return x * 2

    assert ft.jit.script(double) is double
    assert ft.jit.trace(double, ft.ones(2)) is double
