"""``torch.save(model)`` of a whole module and ``torch.load(f, weights_only=False)``:
fnnet.torch refuses both with a NotImplementedError that says how to save the state dict,
since PyTorch pickles the object and unpickling runs whatever code the file names; the
state-dict way it points to works, also from a file PyTorch wrote."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import fnnet.torch as ft
from fnnet.torch.serialization import PickleNotSupported, WholeObjectNotSupported

pytestmark = pytest.mark.torch


def _net(t):
    class Net(t.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = t.nn.Linear(4, 8)
            self.fc2 = t.nn.Linear(8, 2)

        def forward(self, x):
            return self.fc2(t.relu(self.fc1(x)))

    return Net()


def _sequential(t):
    return t.nn.Sequential(t.nn.Linear(4, 8), t.nn.ReLU(), t.nn.Linear(8, 2))


def test_saving_a_whole_module_says_how_to_save_its_state_dict(tmp_path):
    model = _net(ft)
    with pytest.raises(NotImplementedError, match=r"cannot save a Net \(an nn.Module\) at the "
                       r"top: saving a whole module is not supported.*save "
                       r"model.state_dict\(\) and restore it with model = Net\(...\); "
                       r"model.load_state_dict\(torch.load\(f\)\)") as caught:
        ft.save(model, tmp_path / "model.pt")
    assert isinstance(caught.value, (WholeObjectNotSupported, TypeError))
    with pytest.raises(NotImplementedError, match=r"at 'model'"):
        ft.save({"epoch": 3, "model": model}, tmp_path / "ckpt.pt")
    assert not list(tmp_path.iterdir())  # nothing written
    # the way the message names
    ft.save(model.state_dict(), tmp_path / "model.pt")
    again = _net(ft)
    again.load_state_dict(ft.load(tmp_path / "model.pt", weights_only=False))
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(again.state_dict()[name].numpy(), value.numpy())


def test_loading_a_whole_pytorch_model_with_weights_only_false_is_refused(torch, tmp_path):
    model = _sequential(torch)
    torch.save(model, tmp_path / "whole.pt")  # PyTorch pickles the Sequential object
    with pytest.raises(NotImplementedError, match=r"names torch.nn.modules.container.Sequential"
                       r".*A whole model saved by torch.save\(model\) is not supported.*"
                       r"torch.save\(model.state_dict\(\), path\)"):
        ft.load(tmp_path / "whole.pt", weights_only=False)
    with pytest.raises(ValueError, match="Sequential"):  # the default, weights only
        ft.load(tmp_path / "whole.pt")
    (tmp_path / "plain.pkl").write_bytes(pickle.dumps({"w": [1.0, 2.0]}))
    with pytest.raises(PickleNotSupported):
        ft.load(tmp_path / "plain.pkl", weights_only=False)
    # the way the message names: PyTorch saves the state dict, fnnet.torch loads it
    torch.save(model.state_dict(), tmp_path / "weights.pt")
    mine = _sequential(ft)
    mine.load_state_dict(ft.load(tmp_path / "weights.pt"))
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(mine(ft.tensor(x)).detach().numpy(),
                               model(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
