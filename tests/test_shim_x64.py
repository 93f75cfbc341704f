"""fnnet.torch under JAX's x64 mode against PyTorch: int64 and float64 as PyTorch holds
them, float32 where PyTorch promotes integers to its default dtype, and a float64 model
trained on batches sliced from one tensor.

x64 is read when fnnet.torch is imported, so fnnet.torch runs in a process of its own
started with ``JAX_ENABLE_X64=1``; PyTorch runs here on the same inputs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytestmark = [pytest.mark.torch, pytest.mark.slow]

#: expressions of ``a`` (int64 [1, 2, 3, 4]), ``b`` (int64 twos), ``f`` (float32) and
#: ``d`` (float64); each result's dtype and values are compared
EXPRESSIONS = [
    "a / b", "1 / a", "a / 2", "a * 0.5", "a.sqrt()", "torch.exp(a)", "torch.sigmoid(a)",
    "a.log()", "torch.true_divide(a, b)", "torch.div(a, b)", "a ** 0.5", "a ** 2",
    "a.sin()", "torch.atan2(a, b)", "a.reciprocal()", "a.tanh()", "torch.where(a > 2, a, 0.5)",
    "a.clamp(max=2.5)", "a % 2.5", "a // 3", "a.sum()", "a.float().mean()", "f * a",
    "f / a", "d * a", "d / 3", "d.sqrt()", "a.double() / 3", "a.to(torch.float64).exp()",
    "a.sum(dtype=torch.float64) / 3", "d.float() * 1e-9 + 1", "d * 1e-9 + 1", "f + d",
    "torch.tensor([2 ** 40, 3])", "torch.tensor([2 ** 40]) * 3", "a * 2 ** 33",
    "torch.arange(2 ** 31, 2 ** 31 + 3)", "a[1:3] / 3", "d[a[0]:a[2]]",
    "torch.cat([a, a]).float() / 7", "torch.stack([d, d]).sum(0)",
    "torch.tensor([0.1, 0.7], dtype=torch.float64)", "torch.tensor(np.float64(0.1))",
    "torch.tensor([np.float64(0.1), 0.2])", "torch.tensor([np.float32(0.1), 0.2])",
    "torch.as_tensor([0.1], dtype=torch.float64) * 3",
    # an empty list is of the default dtype (numpy's would be float64)
    "torch.tensor([])", "torch.tensor([[], []])", "torch.as_tensor([]) + f[:0]",
    # a matrix broadcast against a batch: the rank is of the matrix's own batch
    "torch.linalg.lstsq(d[:3].diag().unsqueeze(0), d[:3].diag().expand(2, 3, 3)).rank",
    # complex128 spectra of float64 signals keep float64 parts; Python complex numbers
    # are complex64, as PyTorch's default complex dtype
    "torch.fft.rfft(d).abs()", "torch.view_as_real(torch.fft.fft(d))",
    "torch.fft.irfft(torch.fft.rfft(d), n=4)", "torch.fft.rfft(f).imag",
    "torch.stft(d, 2, 1, window=torch.hann_window(2, dtype=torch.float64), "
    "return_complex=True).abs()", "torch.tensor([0.5, 1j]).imag", "torch.tensor([1j, 2j]).real",
]

FNNET_SIDE = textwrap.dedent("""
    import json, sys
    import numpy as np
    import fnnet.torch as torch

    a = torch.tensor([1, 2, 3, 4]); b = torch.tensor([2, 2, 2, 2])
    f = torch.tensor([0.5, 1.5, 2.5, 3.5])
    d = torch.tensor([0.1, 0.2, 0.3, 1e-9], dtype=torch.float64)
    out = {}
    for text in json.loads(sys.argv[1]):
        value = eval(text)
        out[text] = [str(value.dtype), np.asarray(value.tolist(), np.float64).tolist()]
    exec(sys.argv[2])
    out["losses"] = train(torch)
    print(json.dumps(out))
""")

TRAIN = textwrap.dedent("""
    def train(torch):
        import numpy as np
        rng = np.random.default_rng(0)
        model = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 1))
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape))))
        model = model.double()
        x = torch.from_numpy(rng.standard_normal((12, 3)))
        y = torch.from_numpy(rng.standard_normal((12, 1)))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        losses = []
        for step in range(6):
            i = step % 3
            xb, yb = x[i * 4:(i + 1) * 4], y[i * 4:(i + 1) * 4]
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(model(xb), yb)
            loss.backward()
            optimizer.step()
            losses.append([str(loss.dtype), loss.item()])
        return losses
""")


@pytest.fixture(scope="module")
def fnnet_x64():
    env = dict(os.environ, JAX_ENABLE_X64="1")
    done = subprocess.run([sys.executable, "-c", FNNET_SIDE, json.dumps(EXPRESSIONS), TRAIN],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_dtype_and_value_as_pytorch(fnnet_x64, torch, text):
    a = torch.tensor([1, 2, 3, 4])
    b = torch.tensor([2, 2, 2, 2])
    f = torch.tensor([0.5, 1.5, 2.5, 3.5])
    d = torch.tensor([0.1, 0.2, 0.3, 1e-9], dtype=torch.float64)
    namespace = {"torch": torch, "np": np, "a": a, "b": b, "f": f, "d": d}
    expected = eval(text, namespace)  # noqa: S307 - the test's own expressions
    dtype, values = fnnet_x64[text]
    assert dtype == str(expected.dtype)
    # float64 results as PyTorch's to float64 rounding, float32 to float32's
    rtol = 1e-12 if expected.dtype in (torch.float64, torch.int64) else 1e-6
    np.testing.assert_allclose(values, np.asarray(expected.tolist(), np.float64), rtol=rtol)


def test_float64_model_on_sliced_batches(fnnet_x64, torch):
    namespace: dict = {}
    exec(TRAIN, namespace)  # noqa: S102 - the test's own loop
    expected = namespace["train"](torch)
    ours = fnnet_x64["losses"]
    assert [dtype for dtype, _ in ours] == [dtype for dtype, _ in expected] == \
        ["torch.float64"] * 6
    np.testing.assert_allclose([v for _, v in ours], [v for _, v in expected], rtol=1e-12)
