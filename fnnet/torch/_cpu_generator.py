"""PyTorch's CPU random number generator, reproduced on numpy's MT19937.

PyTorch's CPU generator is the 32-bit Mersenne Twister seeded as numpy's legacy
``RandomState(seed & 0xFFFFFFFF)``, so ``RandomState.randint(0, 2**32, dtype=uint32)``
yields its 32-bit words in order. Each distribution below turns those words into
values as PyTorch's CPU kernels do (same words, same order, same arithmetic where numpy
has it), so ``torch.manual_seed(s)`` followed by the same calls gives PyTorch's numbers:

- uniform float32: ``(w & 0xFFFFFF) * 2**-24``, scaled as ``fma(u, to - from, from)``;
  float64 from a 64-bit number (two words, the first one high) masked to 53 bits;
- normal, 16 values or more: a uniform draw of all of them (float16 and bfloat16: of
  the whole blocks), then Box-Muller over blocks of 16 (``u1 = 1 - d[j]``,
  ``u2 = d[j + 8]``), the last 16 drawn again when the size is not a multiple of 16;
  float32 arithmetic there is SIMD code of PyTorch's, equal to a few units in the last
  place (float64 exactly);
- normal, fewer than 16 values: double Box-Muller on two float64 uniforms, the sine
  value kept for the next such draw (``normal_x``/``normal_y`` of the state);
- integers in ``[low, high)``: ``low + w % (high - low)``, a 64-bit number where the range
  reaches 2**32; permutations: ``swap(r[i], r[i + w % (n - i)])``;
- bernoulli with a float ``p``, exponential, Cauchy, geometric: one float64 uniform each;
  Gamma: PyTorch's rejection sampler on those uniforms and normal draws.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

#: the seed of a generator never seeded (PyTorch's ``default_rng_seed_val``)
DEFAULT_SEED = 67280421310721

#: ``torch.randperm`` draws one 32-bit number per swap below this size (PyTorch's
#: ``std::numeric_limits<uint32_t>::max() / 20``), 64-bit ones above it
RANDPERM_32_BIT_SIZES = (2**32 - 1) // 20

#: ``get_rng_state()``'s layout: seed, left, seeded, next, 624 words as uint64, then the
#: cached double normal (``normal_x``, ``normal_y``, ``normal_rho``, ``normal_is_valid``)
#: and the cached float normal, padded to 5056 bytes
STATE_BYTES = 5056
_HEAD = struct.Struct("<QiiQ")
_NORMAL = struct.Struct("<dddi")
_WORDS_AT = _HEAD.size
_NORMAL_AT = _WORDS_AT + 624 * 8
#: ``normal_x`` and ``normal_rho`` are dummies PyTorch writes as zeros and never reads:
#: :func:`with_extra` keeps up to 8 bytes of fnnet's own there, behind a marker
_EXTRA_AT, _MARK_AT = _NORMAL_AT, _NORMAL_AT + 16
_MARK = b"fnnet\x00k1"


def with_extra(raw: bytes, extra: bytes) -> bytes:
    """``raw`` state bytes carrying ``extra`` (at most 8 bytes) in the two fields PyTorch
    ignores, so PyTorch's ``set_rng_state`` still reads the same generator."""
    if len(extra) > 8:
        raise ValueError(f"extra: expected at most 8 bytes, got {len(extra)}")
    out = bytearray(raw)
    out[_EXTRA_AT:_EXTRA_AT + 8] = extra.ljust(8, b"\x00")
    out[_MARK_AT:_MARK_AT + 8] = _MARK
    return bytes(out)


def extra_of(raw: bytes, size: int) -> bytes | None:
    """The first ``size`` bytes :func:`with_extra` kept in ``raw``; None for bytes without
    them (PyTorch's own)."""
    if len(raw) != STATE_BYTES or raw[_MARK_AT:_MARK_AT + 8] != _MARK:
        return None
    return raw[_EXTRA_AT:_EXTRA_AT + size]


class CpuGenerator:
    """One stream of PyTorch's CPU generator: the Mersenne Twister's words and the
    cached second value of the last double Box-Muller draw."""

    def __init__(self, seed: int = DEFAULT_SEED) -> None:
        self.manual_seed(seed)

    def manual_seed(self, seed: int) -> None:
        """Seeds as ``torch.Generator.manual_seed``: the low 32 bits seed the words."""
        self.initial_seed = int(seed)
        self._words = np.random.RandomState(self.initial_seed & 0xFFFFFFFF)
        self._normal: float | None = None
        self._fresh = True  # PyTorch's ``next`` is 0 until the first word is drawn

    # -- words ----------------------------------------------------------------------

    def words(self, n: int) -> np.ndarray:
        """The next ``n`` 32-bit words, as uint32."""
        self._fresh = self._fresh and n == 0
        return self._words.randint(0, 2**32, size=n, dtype=np.uint32)

    def words64(self, n: int) -> np.ndarray:
        """The next ``n`` 64-bit numbers (``random64``: two words, the first one high)."""
        pairs = self.words(2 * n).astype(np.uint64)
        return (pairs[0::2] << np.uint64(32)) | pairs[1::2]

    # -- distributions ------------------------------------------------------------------

    def unit(self, n: int, dtype: DTypeLike) -> np.ndarray:
        """``n`` uniform draws in ``[0, 1)``: for float64 a 64-bit number's low 53 bits
        times 2**-53, else (float16 and bfloat16 too, as PyTorch computes them in float)
        a word's low 24 bits times 2**-24, as float32; exact in either."""
        if np.dtype(dtype) == np.float64:
            return (self.words64(n) & np.uint64(2**53 - 1)).astype(np.float64) * 2.0**-53
        return (self.words(n) & np.uint32(2**24 - 1)).astype(np.float32) * np.float32(2.0**-24)

    def uniform(self, shape: Sequence[int], dtype: DTypeLike, low: float = 0.0,
                high: float = 1.0) -> np.ndarray:
        """``Tensor.uniform_(low, high)``: ``low + (high - low) * u`` rounded once, as the
        fused multiply-add of PyTorch's kernel."""
        kind = np.dtype(dtype)
        if kind.kind == "c":  # PyTorch draws a complex tensor as its real view
            return _complex_of(self.uniform((*shape, 2), _part_of(kind), low, high), kind)
        u = self.unit(math.prod(shape), kind)
        if low == 0.0 and high == 1.0:
            return u.reshape(shape).astype(kind)
        if u.dtype == np.float32:  # PyTorch's float kernel takes the range in float
            span = float(np.float32(high) - np.float32(low))
            return _fma(u, span, low).astype(kind).reshape(shape)
        return _fma(u, high - low, low).reshape(shape)

    def normal(self, shape: Sequence[int], dtype: DTypeLike, mean: float = 0.0,
               std: float = 1.0) -> np.ndarray:
        """``Tensor.normal_(mean, std)`` (see the module docstring for the two paths)."""
        kind = np.dtype(dtype)
        if kind.kind == "c":  # the real view, each part of std / sqrt(2), as PyTorch's
            parts = self.normal((*shape, 2), _part_of(kind), mean, std / math.sqrt(2))
            return _complex_of(parts, kind)
        n = math.prod(shape)
        if n < 16:
            return np.asarray([self.normal_double(mean, std) for _ in range(n)]
                              ).astype(kind).reshape(shape)
        work = np.float64 if kind == np.float64 else np.float32
        # float16 and bfloat16 draw uniforms for the whole blocks only
        drawn = n if kind in (np.float32, np.float64) else n - n % 16
        data = np.zeros(n, work)
        data[:drawn] = self.unit(drawn, work)
        _box_muller_16(data, n - n % 16, mean, std)
        if n % 16:
            tail = self.unit(16, work).astype(work)
            _box_muller_16(tail, 16, mean, std)
            data[n - 16:] = tail
        return data.astype(kind).reshape(shape)

    def normal_double(self, mean: float = 0.0, std: float = 1.0) -> float:
        """One ``at::normal_distribution<double>`` draw: two uniforms give two values,
        the second kept for the next call."""
        if self._normal is not None:
            value, self._normal = self._normal, None
            return float(_fma(np.asarray(value), std, mean))
        u1, u2 = self.unit(2, np.float64).tolist()
        radius = math.sqrt(-2.0 * math.log1p(-u2))
        theta = 2.0 * math.pi * u1
        self._normal = radius * math.sin(theta)
        return float(_fma(np.asarray(radius * math.cos(theta)), std, mean))

    def integers(self, low: int, high: int, shape: Sequence[int]) -> np.ndarray:
        """``torch.randint(low, high, shape)``: ``low + w % (high - low)`` as int64 (words
        of 64 bits where the range reaches 2**32)."""
        span = high - low
        n = math.prod(shape)
        below: np.ndarray
        if span < 2**32:
            below = self.words(n) % np.uint32(span)
        elif span <= 2**63:
            below = self.words64(n) % np.uint64(span)
        else:  # offsets beyond int64: in Python
            values = [low + w % span for w in self.words64(n).tolist()]
            return np.asarray(values, np.int64).reshape(shape)
        out: np.ndarray = below.astype(np.int64) + np.int64(low)
        return out.reshape(shape)

    def permutation(self, n: int) -> np.ndarray:
        """``torch.randperm(n)``: item ``i`` swapped with item ``i + w % (n - i)``."""
        order = list(range(n))
        if n > 1:
            if n < RANDPERM_32_BIT_SIZES:
                offsets = self.words(n - 1) % np.arange(n, 1, -1, dtype=np.uint32)
            else:
                offsets = self.words64(n - 1) % np.arange(n, 1, -1, dtype=np.uint64)
            targets = (offsets.astype(np.int64) + np.arange(n - 1)).tolist()
            for i, j in enumerate(targets):  # sequential: each swap sees the earlier ones
                order[i], order[j] = order[j], order[i]
        return np.asarray(order, np.int64)

    def bernoulli(self, p: float, shape: Sequence[int]) -> np.ndarray:
        """``Tensor.bernoulli_(p)`` for a float ``p``: one float64 uniform below ``p``."""
        return (self.unit(math.prod(shape), np.float64) < p).reshape(shape)

    def exponential(self, shape: Sequence[int], lambd: float) -> np.ndarray:
        """``Tensor.exponential_(lambd)``: ``-1 / lambd * log1p(-u)``, float64."""
        u = self.unit(math.prod(shape), np.float64).reshape(shape)
        out: np.ndarray = (-1.0 / lambd) * np.log1p(-u)
        return out

    def cauchy(self, shape: Sequence[int], median: float, sigma: float) -> np.ndarray:
        """``Tensor.cauchy_``: ``median + sigma * tan(pi * (u - 1/2))``, float64."""
        u = self.unit(math.prod(shape), np.float64).reshape(shape)
        out: np.ndarray = median + sigma * np.tan(np.pi * (u - 0.5))
        return out

    def geometric(self, shape: Sequence[int], p: float) -> np.ndarray:
        """``Tensor.geometric_``: ``ceil(log(u) / log1p(-p))``, float64."""
        u = self.unit(math.prod(shape), np.float64).reshape(shape)
        out: np.ndarray = np.ceil(np.log(u) / math.log1p(-p))
        return out

    def standard_gamma(self, concentration: np.ndarray, dtype: DTypeLike = np.float32
                       ) -> np.ndarray:
        """``torch._standard_gamma`` of a ``dtype`` tensor: one Gamma(``alpha``, 1) draw per
        element, float64, by PyTorch's ``sample_gamma`` (Marsaglia and Tsang's rejection,
        ``alpha < 1`` boosted by ``u ** (1 / alpha)``) on this generator's float64
        uniforms and normal draws (the cached-pair ones). As there, what involves
        ``alpha`` is computed in ``dtype`` (with float constants) and the rest in
        float64."""
        kind: type[np.floating[Any]] = np.float64 if np.dtype(dtype) == np.float64 else np.float32
        third = kind(np.float32(1.0) / np.float32(3.0))
        tail = float(np.float32(0.0331))
        out = []
        for alpha in np.asarray(concentration, kind).ravel():
            scale = 1.0
            if alpha < 1:
                if alpha == 0:
                    out.append(0.0)
                    continue
                scale = (1.0 - float(self.unit(1, np.float64)[0])) ** float(kind(1.0) / alpha)
                alpha = kind(alpha + kind(1.0))
            d = float(kind(alpha - third))
            c = 1.0 / math.sqrt(9.0 * d)
            while True:
                x = self.normal_double()
                y = 1.0 + c * x
                while y <= 0:
                    x = self.normal_double()
                    y = 1.0 + c * x
                v = y * y * y
                u = 1.0 - float(self.unit(1, np.float64)[0])
                xx = x * x
                if u < 1.0 - tail * xx * xx or \
                        math.log(u) < 0.5 * xx + d * (1.0 - v + math.log(v)):
                    break
            out.append(scale * d * v)
        return np.reshape(np.asarray(out, np.float64), np.shape(concentration))

    def poisson(self, rates: np.ndarray) -> np.ndarray:
        """One Poisson draw per rate (float64 counts), by PyTorch's ``sample_poisson`` on
        this generator's float64 uniforms: a product of uniforms below rate 10, Hormann's
        transformed rejection from 10 on."""
        out = []
        for rate in np.asarray(rates, np.float64).ravel():
            out.append(self._poisson(float(rate)))
        return np.reshape(np.asarray(out, np.float64), np.shape(rates))

    def _poisson(self, rate: float) -> int:
        if rate >= 10:
            slam, loglam = math.sqrt(rate), math.log(rate)
            b = 0.931 + 2.53 * slam
            a = -0.059 + 0.02483 * b
            invalpha = 1.1239 + 1.1328 / (b - 3.4)
            vr = 0.9277 - 3.6224 / (b - 2)
            while True:
                u = float(self.unit(1, np.float64)[0]) - 0.5
                v = float(self.unit(1, np.float64)[0])
                us = 0.5 - abs(u)
                k = math.floor((2 * a / us + b) * u + rate + 0.43)
                if us >= 0.07 and v <= vr:
                    return k
                if k < 0 or (us < 0.013 and v > us):
                    continue
                if (math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b)
                        <= -rate + k * loglam - math.lgamma(k + 1.0)):
                    return k
        if rate == 0:
            return 0
        limit, count, product = math.exp(-rate), 0, 1.0
        while True:
            product *= float(self.unit(1, np.float64)[0])
            if product <= limit:
                return count
            count += 1

    # -- state ------------------------------------------------------------------------

    def get_state(self) -> bytes:
        """PyTorch's 5056 bytes of ``get_rng_state()``."""
        _, keys, pos, _, _ = self._words.get_state(legacy=True)
        left, following = 625 - int(pos), (0 if self._fresh else int(pos))
        out = bytearray(STATE_BYTES)
        _HEAD.pack_into(out, 0, self.initial_seed, left, 1, following)
        out[_WORDS_AT:_NORMAL_AT] = np.asarray(keys, np.uint64).tobytes()
        cached = self._normal is not None
        _NORMAL.pack_into(out, _NORMAL_AT, 0.0, self._normal or 0.0, 0.0, int(cached))
        return bytes(out)

    def set_state(self, raw: bytes) -> None:
        """Restores :meth:`get_state`'s bytes (PyTorch's own included).

        Raises:
            RuntimeError: the bytes are not a state of PyTorch's CPU generator.
        """
        if len(raw) != STATE_BYTES:
            raise RuntimeError(f"Expected a CPUGeneratorImplState of size {STATE_BYTES} but "
                               f"found the input RNG state size to be {len(raw)}")
        seed, left, seeded, following = _HEAD.unpack_from(raw, 0)
        if not (seeded and 0 < left <= 624 and following <= 624):
            raise RuntimeError("Invalid mt19937 state")
        keys = np.frombuffer(raw, np.uint64, 624, _WORDS_AT) & np.uint64(0xFFFFFFFF)
        _, cached, _, valid = _NORMAL.unpack_from(raw, _NORMAL_AT)
        self._words.set_state(("MT19937", keys.astype(np.uint32), 625 - left, 0, 0.0))
        self.initial_seed = seed
        self._fresh = following == 0 and left == 1
        self._normal = cached if valid else None


def _box_muller_16(data: np.ndarray, stop: int, mean: float, std: float) -> None:
    """PyTorch's ``normal_fill_16`` over ``data[:stop]`` in place, in ``data``'s dtype:
    per block of 16 uniforms, ``u1 = 1 - d[j]`` and ``u2 = d[j + 8]`` give
    ``r cos(2 pi u2)`` at ``j`` and ``r sin(2 pi u2)`` at ``j + 8``, ``r`` being
    ``sqrt(-2 log u1)``. float64 takes the C library's ``log``, ``cos`` and ``sin`` (as
    PyTorch's scalar code), whose last bits numpy's vectorised ones do not always give."""
    blocks = data[:stop].reshape(-1, 2, 8)
    kind = data.dtype.type
    log, cos, sin = (np.log, np.cos, np.sin) if kind is np.float32 else _LIBM
    radius = np.sqrt(kind(-2.0) * log(kind(1.0) - blocks[:, 0]))
    theta = kind(2.0 * math.pi) * blocks[:, 1]
    blocks[:, 0] = _fma(radius * cos(theta), std, mean)
    blocks[:, 1] = _fma(radius * sin(theta), std, mean)


def _libm(fn: Callable[[float], float]) -> Callable[[np.ndarray], np.ndarray]:
    """``fn`` of Python's ``math`` (the C library's) over a float64 array."""
    each = np.frompyfunc(fn, 1, 1)
    return lambda values: np.asarray(each(values), np.float64)


_LIBM = (_libm(math.log), _libm(math.cos), _libm(math.sin))


def _part_of(kind: np.dtype[Any]) -> np.dtype[Any]:
    """The real dtype of a complex one's parts."""
    return np.dtype(np.float64 if kind == np.complex128 else np.float32)


def _complex_of(parts: np.ndarray, kind: np.dtype[Any]) -> np.ndarray:
    """``[..., 2]`` real and imaginary parts as complex numbers of ``kind``."""
    return (parts[..., 0] + 1j * parts[..., 1]).astype(kind)


def _fma(x: np.ndarray, scale: float, shift: float) -> np.ndarray:
    """``x * scale + shift`` rounded once to ``x``'s dtype, as the fused multiply-add
    that PyTorch's kernels compile to (``scale`` and ``shift`` first in that dtype, as
    its kernels take them). A float32 product is exact in float64; a float64 one is
    carried exactly as a sum of two doubles (Dekker's product, Knuth's sum)."""
    if scale == 1.0 and shift == 0.0:
        return x
    kind = x.dtype.type
    if kind is not np.float64:
        return (x.astype(np.float64) * np.float64(kind(scale))
                + np.float64(kind(shift))).astype(x.dtype)
    product = x * scale
    x_high, x_low = _halves(x)
    s_high, s_low = _halves(np.asarray(scale, np.float64))
    product_error = (((x_high * s_high - product) + x_high * s_low + x_low * s_high)
                     + x_low * s_low)
    total = product + shift
    back = total - product
    sum_error = (product - (total - back)) + (shift - back)
    out: np.ndarray = total + (product_error + sum_error)
    return out


def _halves(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Veltkamp's split of float64 ``x`` into two halves of 26 bits whose products are
    exact."""
    scaled = 134217729.0 * x
    high = scaled - (scaled - x)
    return high, x - high
