"""``torch.stft`` and ``torch.istft`` (and their ``Tensor`` methods): the short-time
Fourier transform of a signal ``[L]`` or batch of signals ``[B, L]``, and its inverse by
windowed overlap-add, each one recorded op (differentiable, compiled with the step).

The frames are ``n_fft`` samples ``hop_length`` apart of the signal padded by
``n_fft // 2`` at each end (``center=True``, with ``pad_mode``), multiplied by the
window (``win_length`` long, zero-padded to ``n_fft`` at its centre); their transforms
are the columns of the ``[B, n_fft // 2 + 1 (onesided) or n_fft, frames]`` result.
Arguments are checked in PyTorch's order with PyTorch's messages.
"""

from __future__ import annotations

import warnings
from typing import Any

import jax.numpy as jnp
import numpy as np

from fnnet.torch import _dtypes
from fnnet.torch._complex import view_as_real
from fnnet.torch._functions import ones, tensor_argument
from fnnet.torch.tensor import Tensor, _op, host_value

#: PyTorch's padding modes, as ``jnp.pad`` names them
_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
              "circular": "wrap"}
_NO_WINDOW = ("A window was not provided. A rectangular window will be applied,which is "
              "known to cause spectral leakage. Other windows such as torch.hann_window or "
              "torch.hamming_window are recommended to reduce spectral leakage.To suppress "
              "this warning and use a rectangular window, explicitly set `window=torch.ones"
              "(n_fft, device=<device>)`.")
_NO_WINDOW_INVERSE = ("A window was not provided. A rectangular window will be applied."
                      "Please provide the same window used by stft to make the inversion "
                      "lossless.To suppress this warning and use a rectangular window, "
                      "explicitly set `window=torch.ones(n_fft, device=<device>)`.")
_PADDED_TAIL = ("The length of signal is shorter than the length parameter. Result is being "
                "padded with zeros in the tail. Please check your center and hop_length "
                "settings.")
_REAL_OUTPUT = ("stft with return_complex=False is deprecated. In a future pytorch "
                "release, stft will return complex tensors for all inputs, and "
                "return_complex=False will raise an error.\nNote: you can still call "
                "torch.view_as_real on the complex output to recover the old return format.")


#: the warnings given already: PyTorch gives each once per process
_WARNED: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _WARNED:
        _WARNED.add(message)
        warnings.warn(message, UserWarning, stacklevel=3)


def _centred(window: Any, n_fft: int) -> Any:
    """The window zero-padded to ``n_fft`` at its centre, as PyTorch pads it."""
    left = (n_fft - window.shape[0]) // 2
    return jnp.pad(window, (left, n_fft - window.shape[0] - left))


def _frame_starts(count: int, hop: int, n_fft: int) -> np.ndarray:
    """The ``[frames, n_fft]`` indices of each frame's samples."""
    return hop * np.arange(count)[:, None] + np.arange(n_fft)[None, :]


def _stft(x: Any, window: Any, n_fft: int, hop: int, pad: int, pad_mode: str,
          norm: str, onesided: bool) -> Any:
    if pad:
        x = jnp.pad(x, [(0, 0)] * (x.ndim - 1) + [(pad, pad)], mode=_PAD_MODES[pad_mode])
    count = 1 + (x.shape[-1] - n_fft) // hop
    frames = x[..., _frame_starts(count, hop, n_fft)] * _centred(window, n_fft)
    spectra = (jnp.fft.rfft if onesided else jnp.fft.fft)(frames, axis=-1, norm=norm)
    return jnp.swapaxes(spectra, -1, -2)


def _istft(spectra: Any, window: Any, n_fft: int, hop: int, norm: str, onesided: bool,
           complex_output: bool, start: int, end: int) -> Any:
    spectra = jnp.swapaxes(spectra, -1, -2)  # [B, frames, frequencies]
    if complex_output:
        frames = jnp.fft.ifft(spectra, n_fft, axis=-1, norm=norm)
    else:
        half = spectra if onesided else spectra[..., :n_fft // 2 + 1]
        frames = jnp.fft.irfft(half, n_fft, axis=-1, norm=norm)
    window = _centred(window, n_fft)
    count = frames.shape[-2]
    full = n_fft + hop * (count - 1)
    index = _frame_starts(count, hop, n_fft).ravel()
    batch = frames.shape[:-2]
    signal = jnp.zeros((*batch, full), frames.dtype).at[..., index].add(
        (frames * window).reshape(*batch, -1))
    envelope = jnp.zeros(full, window.dtype).at[index].add(
        jnp.tile(window * window, count))
    kept = signal[..., start:end] / envelope[start:end]
    if end > full:  # a length past the last frame: zeros, as PyTorch pads
        kept = jnp.pad(kept, [(0, 0)] * len(batch) + [(0, end - full)])
    return kept


def _described(t: Any) -> str:
    return "None" if t is None else f"{t.type()}{{[{', '.join(map(str, t.shape))}]}}"


def _flag(value: Any) -> str:
    return "None" if value is None else str(int(value))


def _int_argument(who: str, name: str, value: Any, optional: bool = True) -> None:
    if (value is None and optional) or (isinstance(value, int | np.integer) and
                                        not isinstance(value, bool)):
        return
    raise TypeError(f"{who}(): argument '{name}' must be int, not {type(value).__name__}")


def _check_window(prefix: str, window: Any, win_length: int) -> None:
    """PyTorch's check of stft's window."""
    if window is not None and (window.dim() != 1 or window.shape[0] != win_length):
        raise RuntimeError(f"{prefix}expected a 1D window tensor of size equal to "
                           f"win_length={win_length}, but got window with size "
                           f"[{', '.join(map(str, window.shape))}]")


def stft(input: Tensor, n_fft: int, hop_length: int | None = None,  # noqa: A002
         win_length: int | None = None, window: Tensor | None = None, center: bool = True,
         pad_mode: str = "reflect", normalized: bool = False, onesided: bool | None = None,
         return_complex: bool | None = None, align_to_window: bool | None = None) -> Tensor:
    """The short-time Fourier transform of ``input: [L]`` or ``[B, L]``:
    ``[B, n_fft // 2 + 1, 1 + (L' - n_fft) // hop_length]`` complex, ``L'`` the padded
    length (``L + 2 * (n_fft // 2)`` when centred).

    PyTorch equivalent: ``torch.stft`` (``return_complex=True`` is the supported way;
    ``False`` gives ``view_as_real`` of it with PyTorch's deprecation warning).

    Example::

        spec = torch.stft(wave, 256, hop_length=64, window=torch.hann_window(256),
                          return_complex=True).abs()

    Raises:
        RuntimeError: as PyTorch's: ``return_complex`` not given for a real input, an
            ``n_fft`` outside ``(0, L']``, a ``hop_length`` of 0, a ``win_length`` past
            ``n_fft``, a window not ``[win_length]``, reflection padding as long as the
            signal.
    """
    tensor_argument(input, "stft", "input", 1)
    _int_argument("stft", "n_fft", n_fft, optional=False)
    _int_argument("stft", "hop_length", hop_length)
    _int_argument("stft", "win_length", win_length)
    if window is not None and not isinstance(window, Tensor):
        raise TypeError(f"stft(): argument 'window' must be Tensor, not "
                        f"{type(window).__name__}")
    complex_in = input.dtype.is_complex or (window is not None and window.dtype.is_complex)
    if return_complex is None:
        if not complex_in:
            raise RuntimeError("stft requires the return_complex parameter be given for real "
                               "inputs, and will further require that return_complex=True "
                               "in a future PyTorch release.")
        return_complex = True
    if window is None:
        _warn_once(_NO_WINDOW)
    if not return_complex:
        _warn_once(_REAL_OUTPUT)
    if align_to_window is not None and center:
        raise RuntimeError("stft align_to_window should only be set when center = false")
    if align_to_window:
        raise NotImplementedError("fnnet.torch: stft(align_to_window=True) is not "
                                  "supported; pad the window to n_fft yourself")
    hop = n_fft // 4 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    length = input.shape[-1] if input.dim() else 1
    pad = n_fft // 2 if center else 0
    if center:
        if pad_mode not in _PAD_MODES:
            raise NotImplementedError(f"Unrecognised padding mode {pad_mode}")
        if pad_mode == "reflect" and pad >= length:
            dims = list(input.shape[-2:]) or [1]
            padded = [1] * (3 - len(dims)) + dims
            raise RuntimeError(f"Argument #4: Padding size should be less than the "
                               f"corresponding input dimension, but got: padding ({pad}, "
                               f"{pad}) at dimension 2 of input [{', '.join(map(str, padded))}]")
        length += 2 * pad
    shape = ", ".join(map(str, [*input.shape[:-1], length]))
    prefix = (f"stft({input.type()}[{shape}], n_fft={n_fft}, hop_length={hop}, "
              f"win_length={win}, window={_described(window)}, normalized="
              f"{int(normalized)}, onesided={_flag(onesided)}, return_complex="
              f"{int(return_complex)}, align_to_window={_flag(align_to_window)}) : ")
    if input.dim() not in (1, 2):
        raise RuntimeError(prefix + "expected a 1D or 2D tensor")
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(prefix + "expected a tensor of floating point or complex values")
    if not 0 < n_fft <= length:
        raise RuntimeError(f"{prefix}expected 0 < n_fft < {length}, but got n_fft={n_fft}")
    if hop <= 0:
        raise RuntimeError(f"{prefix}expected hop_length > 0, but got hop_length={hop}")
    if not 0 < win <= n_fft:
        raise RuntimeError(f"{prefix}expected 0 < win_length <= n_fft, but got "
                           f"win_length={win}")
    _check_window(prefix, window, win)
    if onesided is None:
        onesided = not complex_in
    elif onesided and complex_in:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    window = ones(win, dtype=_window_dtype(input)) if window is None else window
    out = _op(_stft, (n_fft, hop, pad, pad_mode, "ortho" if normalized else "backward",
                      bool(onesided)), input, window, who="stft")
    return out if return_complex else view_as_real(out)


def _window_dtype(x: Tensor) -> Any:
    """The real dtype of a rectangular window for ``x``."""
    if x.dtype.is_complex:
        return _dtypes.float64 if x.dtype is _dtypes.complex128 and \
            _dtypes.complex128 is not _dtypes.complex64 else _dtypes.float32
    return x.dtype


def istft(input: Tensor, n_fft: int, hop_length: int | None = None,  # noqa: A002
          win_length: int | None = None, window: Tensor | None = None, center: bool = True,
          normalized: bool = False, onesided: bool | None = None, length: int | None = None,
          return_complex: bool = False) -> Tensor:
    """The signal ``[B, L]`` (or ``[L]``) whose :func:`stft` is ``input``, by overlap-add
    of the inverse transforms of its frames divided by the window's squared overlap-add
    (``length`` trims or zero-pads the end).

    PyTorch equivalent: ``torch.istft``. A window whose overlap-add has zeros (a Hann
    window and ``center=False``) is refused as PyTorch refuses it where its values are
    on the host (``torch.hann_window(...)``); a window computed in the step is not read
    back, and the samples there come out inf or NaN.

    Raises:
        RuntimeError: as PyTorch's: a real ``input``, a frequency count other than
            ``n_fft // 2 + 1`` (onesided) or ``n_fft``, a bad hop, window length or window.
    """
    tensor_argument(input, "istft", "input", 1)
    _int_argument("istft", "n_fft", n_fft, optional=False)
    for name, value in (("hop_length", hop_length), ("win_length", win_length),
                        ("length", length)):
        _int_argument("istft", name, value)
    if window is not None and not isinstance(window, Tensor):
        raise TypeError(f"istft(): argument 'window' must be Tensor, not "
                        f"{type(window).__name__}")
    if not input.dtype.is_complex:
        raise RuntimeError("istft requires a complex-valued input tensor matching the output "
                           "from stft with return_complex=True.")
    hop = n_fft // 4 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    if window is None:
        _warn_once(_NO_WINDOW_INVERSE)
    if input.dim() == 1:  # PyTorch adds a batch dim, then reads the frequency dim -3
        raise IndexError("Dimension out of range (expected to be in range of [-2, 1], but "
                         "got -3)")
    scalar = "ComplexDouble" if input.dtype is not _dtypes.complex64 else "ComplexFloat"
    prefix = (f"istft(CPU{scalar}Type[{', '.join(map(str, input.shape))}], n_fft={n_fft}, "
              f"hop_length={hop}, win_length={win}, window={_described(window)}, "
              f"center={int(center)}, normalized={int(normalized)}, onesided="
              f"{_flag(onesided)}, length={length}, return_complex={int(return_complex)})")
    if input.numel() == 0:
        raise RuntimeError(f"{prefix} : input tensor cannot be empty.")
    if input.dim() > 3:
        # PyTorch counts the dims of view_as_real(input)
        raise RuntimeError(f"{prefix} : expected a tensor with 3 or 4 dimensions, but got "
                           f"{input.dim() + 1}")
    frequencies = input.shape[-2]
    if onesided is None:
        onesided = frequencies != n_fft
    if onesided and frequencies != n_fft // 2 + 1:
        raise RuntimeError(f"{prefix} : expected the frequency dimension (3rd to the last) "
                           f"of the input tensor to match n_fft / 2 + 1 when onesided=True, "
                           f"but got {frequencies}")
    if not onesided and frequencies != n_fft:
        raise RuntimeError(f"{prefix} : expected the frequency dimension (3rd to the last) "
                           f"of the input tensor to match n_fft when onesided=False, but got "
                           f"{frequencies}")
    if not 0 < hop <= win:
        raise RuntimeError(f"{prefix} : expected 0 < hop_length <= win_length")
    if not 0 < win <= n_fft:
        raise RuntimeError(f"{prefix} : expected 0 < win_length <= n_fft")
    if window is not None and (window.dim() != 1 or window.shape[0] != win):
        raise RuntimeError(f"{prefix} : Invalid window shape. window has to be 1D and length "
                           f"of `win_length`")
    if return_complex and onesided:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    count = input.shape[-1]
    full = n_fft + hop * (count - 1)
    start = n_fft // 2 if center else 0
    end = start + length if length is not None else full - n_fft // 2 if center else full
    _check_envelope(prefix, window, win, n_fft, hop, count, start, min(end, full))
    if end > full:
        _warn_once(_PADDED_TAIL)
    window = ones(win, dtype=_window_dtype(input)) if window is None else window
    return _op(_istft, (n_fft, hop, "ortho" if normalized else "backward", bool(onesided),
                        bool(return_complex), start, end), input, window, who="istft")


def _check_envelope(prefix: str, window: Any, win: int, n_fft: int, hop: int, count: int,
                    start: int, end: int) -> None:
    """PyTorch's error for a window whose squared overlap-add has a zero among the samples
    kept (it would divide by it), where the host holds the window's values."""
    values = np.ones(win) if window is None else host_value(window)
    if values is None or end <= start:
        return
    left = (n_fft - win) // 2
    squares = np.zeros(n_fft)
    squares[left:left + win] = np.abs(values) ** 2
    envelope = np.zeros(n_fft + hop * (count - 1))
    for i in range(count):
        envelope[i * hop:i * hop + n_fft] += squares
    if np.abs(envelope[start:end]).min() < 1e-11:
        raise RuntimeError(f"{prefix} window overlap add min: 1\n[ CPUBoolType{{}} ]")


def install(namespace: dict[str, Any]) -> None:
    """Adds ``stft``/``istft`` to :class:`Tensor` and to ``namespace``."""
    Tensor.stft = stft  # type: ignore[attr-defined]
    Tensor.istft = istft  # type: ignore[attr-defined]
    namespace.update(stft=stft, istft=istft)
