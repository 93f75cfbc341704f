"""torch.fft, torch.stft/istft and complex tensors in fnnet.torch against real PyTorch:
values, dtypes, shapes, gradients (through ``abs`` of a spectrum, and into complex
leaves, in PyTorch's conjugate convention) and PyTorch's exact errors and warnings."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from helpers import raised_by

import fnnet.torch as ft

pytestmark = pytest.mark.torch

RS = np.random.RandomState(0)
SIGNAL = RS.randn(4, 6).astype(np.float32)
WAVES = RS.randn(2, 40).astype(np.float32)
SPECTRUM = (RS.randn(3, 5) + 1j * RS.randn(3, 5)).astype(np.complex64)


def _close(got, expected, what=""):
    """float32 parity of transforms: a bin is a sum of every sample, so its rounding error
    scales with the largest values (about eps * log2(n) * max|x|), not with the bin; a
    near-zero bin is compared to 1e-5 of the largest one."""
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.dtype == expected.dtype and got.shape == expected.shape, \
        (what, got.dtype, expected.dtype, got.shape, expected.shape)
    scale = float(np.max(np.abs(expected))) if expected.size else 1.0
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * scale, err_msg=what)


def _numpy(t):
    return t.detach().resolve_conj().numpy() if hasattr(t, "resolve_conj") else \
        t.detach().numpy()


def _forward_and_grad(T, fn, inputs):
    """``fn(T, *leaves)`` and the leaves' gradients of a weighted sum of its magnitude
    (of the output itself where it is real)."""
    leaves = [T.tensor(x, requires_grad=True) for x in inputs]
    out = fn(T, *leaves)
    real = out.abs() if out.is_complex() else out
    weights = np.linspace(0.5, 2.0, real.numel(), dtype=np.float32).reshape(real.shape)
    (real * T.tensor(weights)).sum().backward()
    return _numpy(out), [_numpy(leaf.grad) for leaf in leaves]


def _compare(fn, *inputs):
    (out_t, grads_t), (out_f, grads_f) = (_forward_and_grad(T, fn, inputs)
                                          for T in (torch, ft))
    _close(out_f, out_t, "output")
    for got, expected in zip(grads_f, grads_t, strict=True):
        _close(got, expected, "gradient")


TRANSFORMS = {
    "fft": lambda T, x: T.fft.fft(x),
    "fft n dim ortho": lambda T, x: T.fft.fft(x, n=9, dim=0, norm="ortho"),
    "ifft trimmed forward": lambda T, x: T.fft.ifft(x, n=4, norm="forward"),
    "rfft": lambda T, x: T.fft.rfft(x),
    "irfft of rfft": lambda T, x: T.fft.irfft(T.fft.rfft(x)),
    "irfft n ortho": lambda T, x: T.fft.irfft(T.fft.rfft(x), n=7, norm="ortho"),
    "hfft": lambda T, x: T.fft.hfft(T.fft.fft(x)),
    "ihfft ortho": lambda T, x: T.fft.ihfft(x, norm="ortho"),
    "fft2": lambda T, x: T.fft.fft2(x),
    "ifft2 s": lambda T, x: T.fft.ifft2(x, s=(3, 8)),
    "rfft2 forward": lambda T, x: T.fft.rfft2(x, norm="forward"),
    "irfft2": lambda T, x: T.fft.irfft2(T.fft.rfft2(x)),
    "hfft2": lambda T, x: T.fft.hfft2(T.fft.fft2(x)),
    "ihfft2": lambda T, x: T.fft.ihfft2(x),
    "fftn s": lambda T, x: T.fft.fftn(x, s=(5,)),
    "rfftn dim": lambda T, x: T.fft.rfftn(x, dim=(0,)),
    "irfftn s": lambda T, x: T.fft.irfftn(T.fft.rfftn(x), s=(4, 6)),
    "hfftn ortho": lambda T, x: T.fft.hfftn(T.fft.ifftn(x), norm="ortho"),
    "ihfftn s -1": lambda T, x: T.fft.ihfftn(x, s=(-1, 5)),
    "fftshift": lambda T, x: T.fft.fftshift(x),
    "ifftshift dim": lambda T, x: T.fft.ifftshift(T.fft.fft(x), dim=1),
    "fftshift of fft dims": lambda T, x: T.fft.fftshift(T.fft.fft(x), dim=(0,)),
    "FNet token mixing": lambda T, x: T.fft.fft(T.fft.fft(x, dim=-1), dim=-2).real,
    "frequency-domain loss": lambda T, x: (T.fft.rfft(x) - T.fft.rfft(x.flip(0))).abs().mean(),
    "fft convolution": lambda T, x: T.fft.irfft(T.fft.rfft(x, n=12) * T.fft.rfft(x.flip(1),
                                                                               n=12), n=12),
}


@pytest.mark.parametrize("name", TRANSFORMS)
def test_transform_values_dtypes_and_gradients_match_pytorch(name):
    _compare(TRANSFORMS[name], SIGNAL)


def test_complex_leaves_get_pytorchs_gradients():
    # PyTorch's gradient of a real loss w.r.t. a complex leaf is dL/dRe + i dL/dIm (the
    # conjugate of JAX's cotangent): a Fourier layer's complex weights train as in PyTorch
    def fn(T, w, x):
        spectrum = T.fft.rfft(x) * w
        return T.fft.irfft(spectrum, n=6) + T.view_as_real(w).sum() + (w.imag * 3).sum()

    _compare(fn, SPECTRUM[:, :4].copy(), SIGNAL[:3])


def test_integer_input_and_frequencies_match_pytorch():
    for T in (torch, ft):
        assert T.fft.fft(T.arange(4)).dtype == T.complex64
        assert T.fft.irfft(T.arange(4)).dtype == T.float32
    _close(ft.fft.rfft(ft.arange(6)).numpy(), torch.fft.rfft(torch.arange(6)).numpy())
    for n, d in ((5, 1.0), (8, 0.1), (7, 0.3), (0, 1.0)):
        for name in ("fftfreq", "rfftfreq"):
            expected = getattr(torch.fft, name)(n, d)
            got = getattr(ft.fft, name)(n, d)
            assert got.dtype == ft.float32
            np.testing.assert_array_equal(got.numpy(), expected.numpy(), err_msg=name)


TRANSFORM_ERRORS = {
    "norm": lambda T, x: T.fft.fft(x, norm="bogus"),
    "norm 2-D": lambda T, x: T.fft.rfft2(x, norm="bogus"),
    "n 0": lambda T, x: T.fft.fft(x, n=0),
    "n negative": lambda T, x: T.fft.rfft(x, n=-2),
    "irfft n 0": lambda T, x: T.fft.irfft(T.fft.fft(x), n=0),
    "irfft of one bin": lambda T, x: T.fft.irfft(T.fft.fft(x)[:, :1]),
    "dim": lambda T, x: T.fft.fft(x, dim=2),
    "dims": lambda T, x: T.fft.fft2(x, dim=(0, 5)),
    "repeated dims": lambda T, x: T.fft.fftn(x, dim=(0, 0)),
    "s and dim": lambda T, x: T.fft.fftn(x, s=(2, 3), dim=(0,)),
    "s too long": lambda T, x: T.fft.fftn(x, s=(2, 3, 4)),
    "rfft of complex": lambda T, x: T.fft.rfft(T.fft.fft(x)),
    "rfft2 of complex": lambda T, x: T.fft.rfft2(T.fft.fft(x)),
    "ihfft of complex": lambda T, x: T.fft.ihfft(T.fft.fft(x)),
    "list": lambda T, x: T.fft.fft([1.0, 2.0]),
    "half": lambda T, x: T.fft.fft(x.half()),
    "scalar": lambda T, x: T.fft.fft(T.tensor(1.0)),
    "empty": lambda T, x: T.fft.fft(T.ones(0)),
    "fft2 of 1-D": lambda T, x: T.fft.fft2(T.ones(3)),
    "dim a tuple": lambda T, x: T.fft.fft(x, dim=(0,)),
    "n a float": lambda T, x: T.fft.fft(x, n=2.0),
    "fftfreq n a float": lambda T, x: T.fft.fftfreq(4.0),
    "fftfreq of ints": lambda T, x: T.fft.fftfreq(4, dtype=T.long),
    "shift dim": lambda T, x: T.fft.fftshift(x, dim=3),
}


@pytest.mark.parametrize("name", TRANSFORM_ERRORS)
def test_bad_transform_arguments_raise_pytorchs_errors(name):
    fn = TRANSFORM_ERRORS[name]
    expected, got = raised_by(lambda T: fn(T, T.tensor(SIGNAL)), torch, ft)
    assert got == expected


# -- complex tensors --------------------------------------------------------------------

PARTS = {
    "real imag": lambda T, z: T.stack([z.real, z.imag, T.real(z), T.imag(z)]),
    "abs angle": lambda T, z: T.stack([z.abs(), T.abs(z), z.angle()]),
    "conj": lambda T, z: z.conj() * 2 + T.conj_physical(z),
    "view_as_real": lambda T, z: T.view_as_real(z * (1 - 2j)),
    "view_as_complex": lambda T, z: T.view_as_complex(T.view_as_real(z).flip(-1)),
    "complex polar": lambda T, z: T.complex(z.real, z.imag) + T.polar(z.abs(), z.angle()),
    "arithmetic": lambda T, z: (z * z / (z + 3)).exp().mean(0) - z.sum(),
    "matrix": lambda T, z: z @ z.mH,
    "cast": lambda T, z: z.real.to(T.complex64) + z.real.cfloat() * 1j,
    "norms": lambda T, z: T.stack([z.norm(), T.linalg.vector_norm(z, 1), z.norm(dim=0)[1]]),
    "sgn sqrt log": lambda T, z: z.sgn() + z.sqrt() * z.log() - z.exp(),
    "vdot": lambda T, z: T.vdot(z[0], z[1]) + T.dot(z[0], z[1]),
    "l1 loss": lambda T, z: T.stack([T.nn.functional.l1_loss(z[0], z[1]),
                                     T.nn.L1Loss(reduction="sum")(z[0], z[1] * 1j)]),
}


@pytest.mark.parametrize("name", PARTS)
def test_complex_parts_and_arithmetic_match_pytorch(name):
    _compare(PARTS[name], SPECTRUM)


def test_complex_dtypes_and_printing_match_pytorch():
    values = np.array([[1 + 2j, -3.5 - 1j, 0j], [1e5 + 2j, -3.5 - 1e-5j, 1j]], np.complex64)
    for T in (torch, ft):
        assert (T.cfloat, T.complex64.is_complex, T.float32.is_complex) == \
            (T.complex64, True, False)
        z = T.tensor(values)
        assert (z.dtype, z.is_complex(), z.is_floating_point(), z.type(), z.real.dtype) == \
            (T.complex64, True, False, "torch.ComplexFloatTensor", T.float32)
    for value in (values, values[0], values[0, 0], values[:, :0]):
        assert repr(ft.tensor(value)) == repr(torch.tensor(value))
    assert repr(ft.full((2,), 1 - 2j)) == repr(torch.full((2,), 1 - 2j))
    assert repr(ft.tensor([[1, 2j], [0.5, 1]])) == repr(torch.tensor([[1, 2j], [0.5, 1]]))
    assert repr(ft.fft.rfft(ft.tensor(SIGNAL))) == repr(torch.fft.rfft(torch.tensor(SIGNAL)))
    made = {T: (T.tensor(SIGNAL, requires_grad=True), T.tensor(values, requires_grad=True))
            for T in (torch, ft)}
    for fn in (lambda T, x, z: T.fft.rfft2(x), lambda T, x, z: T.fft.irfft(z),
               lambda T, x, z: T.fft.ifft(z), lambda T, x, z: T.fft.fftshift(x),
               lambda T, x, z: z.conj(), lambda T, x, z: z.real,
               lambda T, x, z: T.view_as_real(z), lambda T, x, z: T.polar(x, x),
               lambda T, x, z: T.complex(x, x), lambda T, x, z: T.view_as_complex(x[:, :2])):
        names = [fn(T, *made[T]).grad_fn.name() for T in (torch, ft)]
        assert names[1] == names[0]


def test_complex_parts_are_views_as_in_pytorch():
    # an in-place write into z.real, z.imag or view_as_real(z) changes z (through autograd
    # too), a write into view_as_complex(x) changes x, and the views' strides are PyTorch's
    def writes(T):
        made = []
        for write in (lambda z: z.real.mul_(2), lambda z: z.imag[0].fill_(7),
                      lambda z: T.view_as_real(z)[..., 1].zero_(),
                      lambda z: T.view_as_real(z).mul_(T.tensor([1.0, -1.0]))):
            z = T.tensor(SPECTRUM[:2, :3] * 1)
            write(z)
            made.append(z.numpy())
        x = T.tensor(SIGNAL[:2].reshape(2, 3, 2))
        T.view_as_complex(x).mul_(1j)
        leaf = T.tensor(SPECTRUM[:2, :3], requires_grad=True)
        y = leaf * (1 + 1j)
        y.real.mul_(2)
        (y.abs() ** 2).sum().backward()
        z = T.tensor(SPECTRUM[:2, :3])
        strides = [z.real.stride(), z.imag.storage_offset(), T.view_as_real(z).stride(),
                   z[:, 1:].imag.storage_offset(), z.t().real.stride(),
                   T.view_as_complex(x).stride()]
        return [*made, x.numpy(), leaf.grad.numpy()], strides

    (values_t, strides_t), (values_f, strides_f) = writes(torch), writes(ft)
    assert strides_f == strides_t
    for got, expected in zip(values_f, values_t, strict=True):
        _close(got, expected)


def test_seeded_complex_draws_are_pytorchs():
    # PyTorch draws a complex tensor as its real view: (real, imaginary) pairs, a normal
    # draw's parts each of std / sqrt(2)
    def draws(T):
        T.manual_seed(3)
        return [T.randn(5, dtype=T.cfloat), T.rand(2, 3, dtype=T.cfloat),
                T.randn(40, dtype=T.complex64), T.randn_like(T.zeros(3, dtype=T.cfloat)),
                T.zeros(4, dtype=T.cfloat).normal_(1.0, 2.0),
                T.zeros(3, dtype=T.cfloat).uniform_(-1.0, 1.0)]

    for got, expected in zip(draws(ft), draws(torch), strict=True):
        _close(got.numpy(), expected.numpy())


COMPLEX_ERRORS = {
    "view_as_real of real": lambda T: T.view_as_real(T.ones(2)),
    "view_as_complex last dim": lambda T: T.view_as_complex(T.ones(2, 3)),
    "view_as_complex of ints": lambda T: T.view_as_complex(T.ones(2, 2, dtype=T.long)),
    "polar of ints": lambda T: T.polar(T.ones(2), T.ones(2, dtype=T.long)),
    "complex of ints": lambda T: T.complex(T.ones(2, dtype=T.long), T.ones(2, dtype=T.long)),
    "complex shapes": lambda T: T.complex(T.ones(2), T.ones(3)),
    "imag of real": lambda T: T.ones(2).imag,
    "backward of complex": lambda T: T.fft.fft(T.ones(2, requires_grad=True)).sum().backward(),
    "requires_grad of ints": lambda T: T.ones(2, dtype=T.long).requires_grad_(),
    "matmul of float and complex": lambda T: T.ones(2, 3) @ T.ones(3, 2, dtype=T.complex64),
    "max of complex": lambda T: T.tensor([1 + 2j, 3j]).max(),
    "argmin of complex": lambda T: T.tensor([1 + 2j, 3j]).argmin(),
    "write into a leaf's real part": lambda T: T.ones(2, dtype=T.cfloat,
                                                      requires_grad=True).real.mul_(2),
    "autograd.grad of complex": lambda T: T.autograd.grad(
        T.fft.fft(T.ones(3, requires_grad=True)).sum(), T.ones(3, requires_grad=True) * 1),
}
# ops with no complex kernel in PyTorch (an order, rounding, real-only kernels)
_Z = np.array([1 + 2j, -3 + 0.5j, 0.25 - 1j])
_UNORDERED = {
    "clamp": lambda T, z: z.clamp(0, 1), "clamp_": lambda T, z: z.clamp_(min=0),
    "relu": lambda T, z: T.relu(z), "F.hardtanh": lambda T, z: T.nn.functional.hardtanh(z),
    "sort": lambda T, z: z.sort(), "argsort": lambda T, z: z.argsort(),
    "topk": lambda T, z: z.topk(2), "max(dim)": lambda T, z: z.max(0),
    "min(dim)": lambda T, z: z.min(dim=0), "maximum": lambda T, z: T.maximum(z, z),
    "min of two": lambda T, z: T.min(z, z), "lt": lambda T, z: z < z, "gt": lambda T, z: z > 1,
    "le": lambda T, z: z <= z, "ge": lambda T, z: z >= 0, "floor": lambda T, z: z.floor(),
    "ceil": lambda T, z: z.ceil(), "trunc": lambda T, z: z.trunc(),
    "round": lambda T, z: z.round(), "round(decimals)": lambda T, z: z.round(decimals=2),
    "sign": lambda T, z: z.sign(), "signbit": lambda T, z: T.signbit(z),
    "amax": lambda T, z: z.amax(), "amin": lambda T, z: z.amin(0),
    "aminmax": lambda T, z: T.aminmax(z), "cummax": lambda T, z: z.cummax(0),
    "cummin": lambda T, z: z.cummin(0), "median": lambda T, z: z.median(),
    "kthvalue": lambda T, z: z.kthvalue(1), "mode": lambda T, z: z.mode(),
    "unique": lambda T, z: T.unique(z), "histc": lambda T, z: T.histc(z),
    "fmod": lambda T, z: T.fmod(z, 2), "remainder": lambda T, z: z % 2,
    "floor_divide": lambda T, z: z // 2, "frac": lambda T, z: z.frac(),
    "erf": lambda T, z: z.erf(), "atan2": lambda T, z: T.atan2(z, z),
    "copysign": lambda T, z: T.copysign(z, z), "hypot": lambda T, z: T.hypot(z, z),
    "heaviside": lambda T, z: T.heaviside(z, z), "nansum": lambda T, z: z.nansum(),
    "nanmean": lambda T, z: z.nanmean(), "searchsorted": lambda T, z: T.searchsorted(z, z),
    "leaky_relu": lambda T, z: T.nn.functional.leaky_relu(z),
    "gelu": lambda T, z: T.nn.functional.gelu(z), "elu": lambda T, z: T.nn.functional.elu(z),
}
COMPLEX_ERRORS.update({
    f"{name} of complex": lambda T, call=call: call(T, T.tensor(_Z, dtype=T.complex64))
    for name, call in _UNORDERED.items()})
# pooling has no complex kernel either; each names the kernel PyTorch's reaches
_POOLS = [("max_pool1d", 1, {}), ("max_pool1d", 1, {"return_indices": True}),
          ("avg_pool1d", 1, {}), ("adaptive_avg_pool1d", 1, {}),
          ("adaptive_max_pool1d", 1, {}), ("max_pool2d", 2, {"return_indices": True}),
          ("avg_pool2d", 2, {}), ("adaptive_avg_pool2d", 2, {}),
          ("adaptive_max_pool2d", 2, {}), ("max_pool3d", 3, {}), ("avg_pool3d", 3, {}),
          ("adaptive_avg_pool3d", 3, {}), ("adaptive_max_pool3d", 3, {})]
COMPLEX_ERRORS.update({
    f"F.{name}{'(return_indices)' if kwargs else ''} of complex":
        lambda T, name=name, dims=dims, kwargs=kwargs: getattr(T.nn.functional, name)(
            T.ones(1, 2, *[4] * dims, dtype=T.complex64), 2, **kwargs)
    for name, dims, kwargs in _POOLS})


@pytest.mark.parametrize("name", COMPLEX_ERRORS)
def test_bad_complex_arguments_raise_pytorchs_errors(name):
    expected, got = raised_by(COMPLEX_ERRORS[name], torch, ft)
    assert got == expected


def test_complex_gradients_reach_hooks_retained_grads_and_autograd_grad_as_pytorchs():
    def gradients(T):
        x = T.tensor(SIGNAL[0], requires_grad=True)
        spectrum = T.fft.rfft(x)
        spectrum.retain_grad()
        loss = (spectrum.real * 2 + spectrum.imag * 3 + spectrum.abs()).sum()
        (of_spectrum,) = T.autograd.grad(loss, spectrum, retain_graph=True)
        hooked = []
        spectrum.register_hook(lambda g: hooked.append(g.detach().numpy().copy()))
        loss.backward(retain_graph=True)
        retained = spectrum.grad.clone()
        (of_x,) = T.autograd.grad((spectrum * (1 + 2j)).abs().pow(3).sum(), x,
                                  create_graph=True)
        (second,) = T.autograd.grad((of_x ** 2).sum(), x)
        return [retained, hooked[0], of_spectrum, of_x, second, x.grad]

    for got, expected in zip(gradients(ft), gradients(torch), strict=True):
        _close(*(value if isinstance(value, np.ndarray) else _numpy(value)
                 for value in (got, expected)))


# -- stft / istft ------------------------------------------------------------------------

STFTS = {
    "hann": lambda T, x: T.stft(x, 16, window=T.hann_window(16), return_complex=True),
    "1-D hamming normalized": lambda T, x: T.stft(
        x[0], 16, hop_length=5, win_length=12, window=T.hamming_window(12),
        return_complex=True, normalized=True),
    "not centred": lambda T, x: T.stft(x, 16, center=False, window=T.hann_window(16),
                                       return_complex=True),
    "constant pad": lambda T, x: T.stft(x, 16, pad_mode="constant", window=T.ones(16),
                                        return_complex=True),
    "replicate pad": lambda T, x: T.stft(x, 16, pad_mode="replicate", window=T.ones(16),
                                         return_complex=True),
    "circular pad": lambda T, x: T.stft(x, 16, pad_mode="circular", window=T.ones(16),
                                        return_complex=True),
    "two-sided": lambda T, x: T.stft(x, 16, onesided=False, window=T.blackman_window(16),
                                     return_complex=True),
    "method": lambda T, x: x.stft(8, window=T.kaiser_window(8), return_complex=True),
    "of complex": lambda T, x: T.stft(x * (1 + 1j), 16, window=T.hann_window(16)),
    "istft": lambda T, x: T.istft(T.stft(x, 16, window=T.hann_window(16),
                                         return_complex=True), 16, window=T.hann_window(16)),
    "istft length": lambda T, x: T.istft(
        T.stft(x, 16, hop_length=3, window=T.hann_window(16), return_complex=True), 16,
        hop_length=3, window=T.hann_window(16), length=50),
    "istft trimmed": lambda T, x: T.istft(
        T.stft(x, 16, hop_length=4, window=T.ones(16), return_complex=True), 16,
        hop_length=4, window=T.ones(16), length=30),
    "istft normalized": lambda T, x: T.istft(
        T.stft(x[0], 16, window=T.hann_window(16), return_complex=True, normalized=True),
        16, window=T.hann_window(16), normalized=True),
    "istft two-sided": lambda T, x: T.istft(
        T.stft(x, 16, window=T.hann_window(16), onesided=False, return_complex=True), 16,
        window=T.hann_window(16)),
    "istft complex": lambda T, x: T.stft(x, 16, window=T.hann_window(16), onesided=False,
                                         return_complex=True).istft(
        16, window=T.hann_window(16), return_complex=True),
}


@pytest.mark.filterwarnings("ignore:The length of signal is shorter")
@pytest.mark.parametrize("name", STFTS)
def test_stft_and_istft_match_pytorch(name):
    _compare(STFTS[name], WAVES)


def test_stft_warnings_and_real_output_match_pytorchs(monkeypatch):
    # PyTorch warns once per process, so its list holds the warnings no earlier test gave;
    # fnnet.torch's is complete once its record of warnings given is cleared
    from fnnet.torch import _stft

    monkeypatch.setattr(_stft, "_WARNED", set())
    x = WAVES[0]
    for T in (torch, ft):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(2):
                out = T.stft(T.tensor(x), 8, return_complex=False)
                T.istft(T.stft(T.tensor(x), 8, return_complex=True), 8, length=50)
        messages = [str(w.message).split(" (Triggered internally")[0] for w in caught]
        if T is torch:
            expected, expected_out = messages, out.numpy()
    assert len(messages) == len(set(messages)) == 4 and set(expected) <= set(messages), expected
    assert "window" in messages[0] and "return_complex=False" in messages[1]
    _close(out.numpy(), expected_out)


STFT_ERRORS = {
    "return_complex not given": lambda T, x: T.stft(x, 16),
    "n_fft past the padding": lambda T, x: T.stft(x, 100, return_complex=True),
    "n_fft past the signal": lambda T, x: T.stft(x, 41, center=False, return_complex=True),
    "n_fft 0": lambda T, x: T.stft(x, 0, return_complex=True),
    "hop 0": lambda T, x: T.stft(x, 8, hop_length=0, return_complex=True),
    "win_length": lambda T, x: T.stft(x[0], 8, win_length=9, return_complex=True),
    "window size": lambda T, x: T.stft(x, 8, window=T.ones(5), return_complex=True),
    "3-D": lambda T, x: T.stft(T.ones(2, 2, 16), 8, return_complex=True),
    "reflection too long": lambda T, x: T.stft(T.ones(3), 8, return_complex=True),
    "pad_mode": lambda T, x: T.stft(x, 8, pad_mode="bogus", return_complex=True),
    "onesided of complex": lambda T, x: T.stft(x.to(T.complex64), 8, onesided=True,
                                               return_complex=True),
    "integers": lambda T, x: T.stft(T.ones(16, dtype=T.long), 8, return_complex=True),
    "align_to_window centred": lambda T, x: T.stft(x, 8, align_to_window=True,
                                                   return_complex=True),
    "istft of real": lambda T, x: T.istft(x, 8),
    "istft onesided complex": lambda T, x: T.istft(
        T.stft(x, 16, window=T.hann_window(16), return_complex=True), 16,
        window=T.hann_window(16), return_complex=True),
    "istft 1-D": lambda T, x: T.istft(T.zeros(9, dtype=T.complex64), 16),
    "istft 4-D": lambda T, x: T.istft(T.zeros(1, 2, 9, 5, dtype=T.complex64), 16),
    "istft empty": lambda T, x: T.istft(T.zeros(2, 9, 0, dtype=T.complex64), 16),
    "istft frequencies": lambda T, x: T.istft(T.zeros(2, 9, 5, dtype=T.complex64), 10),
    "istft two-sided frequencies": lambda T, x: T.istft(
        T.zeros(2, 9, 5, dtype=T.complex64), 16, onesided=False),
    "istft window": lambda T, x: T.istft(T.zeros(2, 9, 5, dtype=T.complex64), 16,
                                         window=T.ones(15)),
    "istft hop": lambda T, x: T.istft(T.zeros(2, 9, 5, dtype=T.complex64), 16, hop_length=17),
    "istft win_length": lambda T, x: T.istft(T.zeros(2, 9, 5, dtype=T.complex64), 16,
                                             win_length=17),
    "istft zero overlap-add": lambda T, x: T.istft(
        T.stft(x, 16, window=T.hann_window(16), return_complex=True), 16,
        window=T.hann_window(16), center=False),
}


@pytest.mark.parametrize("name", STFT_ERRORS)
def test_bad_stft_arguments_raise_pytorchs_errors(name):
    fn = STFT_ERRORS[name]
    expected, got = raised_by(lambda T: fn(T, T.tensor(WAVES)), torch, ft)
    assert got == expected


def test_a_fourier_layer_with_complex_weights_trains_as_in_pytorch():
    # a Fourier neural operator's spectral convolution: complex weights mixing channels on
    # the lowest modes (written into a complex zeros tensor), trained by Adam, which
    # steps a complex parameter as its real view
    rs = np.random.RandomState(1)
    weights0 = (rs.rand(3, 4, 5) + 1j * rs.rand(3, 4, 5)).astype(np.complex64) / 12
    signals = rs.randn(2, 3, 16).astype(np.float32)

    def train(T):
        weights = T.nn.Parameter(T.tensor(weights0))
        optimizer = T.optim.Adam([weights], lr=0.01)
        x = T.tensor(signals)
        for _ in range(2):
            modes = T.zeros(2, 4, 9, dtype=T.cfloat)
            modes[:, :, :5] = T.einsum("bix,iox->box", T.fft.rfft(x)[:, :, :5], weights)
            loss = (T.fft.irfft(modes, n=16) ** 2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return loss.item(), weights.detach().numpy(), optimizer

    (loss_t, weights_t, adam_t), (loss_f, weights_f, adam_f) = train(torch), train(ft)
    np.testing.assert_allclose(loss_f, loss_t, rtol=1e-5)
    _close(weights_f, weights_t)
    # the state, kept as the real view, is shown and loaded as PyTorch's (complex, of the
    # parameter's shape): a PyTorch run's Adam state resumes here
    adam_f.load_state_dict(adam_t.state_dict())
    states = [adam.state_dict()["state"][0] for adam in (adam_t, adam_f)]
    assert {k: (tuple(v.shape), str(v.dtype)) for k, v in states[1].items()} == \
        {k: (tuple(v.shape), str(v.dtype)) for k, v in states[0].items()}
    for name in ("exp_avg", "exp_avg_sq"):
        _close(states[1][name].numpy(), states[0][name].numpy())
