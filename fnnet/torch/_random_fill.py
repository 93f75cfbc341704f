"""``Tensor.normal_``, ``uniform_``, ``bernoulli_``, ``exponential_``, ``random_``,
``log_normal_``, ``cauchy_`` and ``geometric_``: in-place draws,
as ``nn.init``-style code writes them (``with torch.no_grad(): w.normal_(0, 0.02)``).

Each draws eagerly, PyTorch's numbers, from the global generator (``torch.manual_seed``)
or the ``generator`` given (see :mod:`fnnet.torch._cpu_generator`), and writes the
values with ``copy_``, so the in-place rules are PyTorch's: a leaf that requires grad
accepts the write only under ``no_grad``. Random numbers drawn inside a compiled step
belong to dropout; these are values fixed before the step, like a batch.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from fnnet.torch import _random
from fnnet.torch._dtypes import SCALAR_NAMES
from fnnet.torch._tape import to_canonical
from fnnet.torch.tensor import CPP_TYPE_NAMES, Tensor, _wrap_value

#: what PyTorch raises for a draw of a continuous distribution into a tensor of integers
#: or booleans ({} is the type's scalar name, {cpp} its C++ name)
_CONTINUOUS = {
    "normal_": (NotImplementedError, "\"normal_kernel_cpu\" not implemented for '{}'"),
    "uniform_": (NotImplementedError, "\"check_uniform_bounds\" not implemented for '{}'"),
    "log_normal_": (NotImplementedError, "\"log_normal_cpu\" not implemented for '{}'"),
    "exponential_": (RuntimeError, "Exponential distribution is a continuous probability "
                                   "distribution. dtype must be a floating point but you "
                                   "specified {}"),
    "cauchy_": (RuntimeError, "Cauchy distribution is a continuous probability "
                              "distribution. dtype must be a floating point but you "
                              "specified {cpp}"),
}


def _check_continuous(tensor: Tensor, who: str, complex_too: bool = False) -> None:
    """PyTorch's refusal of ``who``'s draws into a tensor that is not floating (complex
    too where ``complex_too``), before anything is drawn."""
    if tensor.is_floating_point() or (complex_too and tensor.dtype.is_complex):
        return
    kind, message = _CONTINUOUS[who]
    name = tensor.dtype.name
    raise kind(message.format(SCALAR_NAMES.get(name, name), cpp=CPP_TYPE_NAMES.get(name, name)))


def _fill(tensor: Tensor, values: np.ndarray) -> Tensor:
    return tensor.copy_(_wrap_value(np.asarray(values).astype(tensor.dtype.np)))


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Any = None
            ) -> Tensor:
    """Fills with ``N(mean, std**2)`` draws. PyTorch equivalent: ``Tensor.normal_``."""
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    _check_continuous(self, "normal_", complex_too=True)
    host = _random.host_for(generator, "normal_")
    return _fill(self, host.normal(tuple(self.shape), self.dtype.np, mean, std))


def uniform_(self: Tensor, from_: float = 0.0, to: float = 1.0, *, generator: Any = None
             ) -> Tensor:
    """Fills with ``U(from_, to)`` draws. PyTorch equivalent: ``Tensor.uniform_``."""
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={from_} > to={to}")
    _check_continuous(self, "uniform_", complex_too=True)
    host = _random.host_for(generator, "uniform_")
    return _fill(self, host.uniform(tuple(self.shape), self.dtype.np, from_, to))


def bernoulli_(self: Tensor, p: float = 0.5, *, generator: Any = None) -> Tensor:
    """Fills with 1 (probability ``p``) or 0. PyTorch equivalent: ``Tensor.bernoulli_``."""
    if not 0 <= float(p) <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    draw = _random.host_for(generator, "bernoulli_").bernoulli(float(p), tuple(self.shape))
    return _fill(self, draw)  # integer and boolean tensors take 0 and 1 too


def exponential_(self: Tensor, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
    """Fills with ``Exp(lambd)`` draws. PyTorch equivalent: ``Tensor.exponential_``."""
    if lambd <= 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    _check_continuous(self, "exponential_")
    draw = _random.host_for(generator, "exponential_").exponential(tuple(self.shape), lambd)
    return _fill(self, draw)


def random_(self: Tensor, from_: int = 0, to: int | None = None, *,
            generator: Any = None) -> Tensor:
    """Fills with integers drawn uniformly from ``[from_, to - 1]`` (``random_(to)`` is
    ``[0, to - 1]``; without ``to``, up to the largest integer the dtype holds exactly).

    PyTorch equivalent: ``Tensor.random_`` (its ``from`` is ``from_`` here, a keyword
    Python reserves).
    """
    if to is None and from_ != 0:
        from_, to = 0, from_
    bounded = to is not None
    if to is None:
        to = _RANDOM_TOPS.get(str(self.dtype).removeprefix("torch."), 2**63)
    if from_ >= to:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={from_} "
                           f">= to={to}")
    draw = _random.host_for(generator, "random_").integers(from_, to, tuple(self.shape))
    if not bounded and self.dtype.np == np.int32 and to > 2**31:
        # torch.int64 held in 32 bits: PyTorch's numbers (the generator stays in step
        # with PyTorch's), modulo what 32 bits hold
        draw %= 2**31
    return self.copy_(_wrap_value(to_canonical(draw, self.dtype.np)))


#: ``random_()``'s bound (exclusive) by dtype: every integer the dtype holds exactly,
#: up to its largest (PyTorch's: 2**24 included for float32)
_RANDOM_TOPS = {"float64": 2**53 + 1, "float32": 2**24 + 1, "float16": 2**11 + 1,
                "bfloat16": 2**8 + 1, "int64": 2**63, "int32": 2**31, "int16": 2**15,
                "int8": 2**7, "uint8": 2**8, "bool": 2}


def log_normal_(self: Tensor, mean: float = 1.0, std: float = 2.0, *, generator: Any = None
                ) -> Tensor:
    """Fills with ``exp(N(mean, std**2))`` draws. PyTorch equivalent:
    ``Tensor.log_normal_``."""
    if std <= 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    _check_continuous(self, "log_normal_")
    host = _random.host_for(generator, "log_normal_")
    draw = [math.exp(host.normal_double(mean, std)) for _ in range(self.numel())]
    return _fill(self, np.reshape(draw, tuple(self.shape)))


def cauchy_(self: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator: Any = None
            ) -> Tensor:
    """Fills with Cauchy draws ``median + sigma * tan(pi (U - 1/2))``. PyTorch
    equivalent: ``Tensor.cauchy_``."""
    _check_continuous(self, "cauchy_")
    if sigma <= 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    draw = _random.host_for(generator, "cauchy_").cauchy(tuple(self.shape), median, sigma)
    return _fill(self, draw)


def geometric_(self: Tensor, p: float, *, generator: Any = None) -> Tensor:
    """Fills with the number of Bernoulli(``p``) trials up to the first success (1, 2,
    ...); integer tensors too. PyTorch equivalent: ``Tensor.geometric_``."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    draw = _random.host_for(generator, "geometric_").geometric(tuple(self.shape), p)
    return self.copy_(_wrap_value(draw.astype(self.dtype.np)))


METHODS = (normal_, uniform_, bernoulli_, exponential_, random_, log_normal_, cauchy_,
           geometric_)


def install() -> None:
    """Adds the methods to :class:`Tensor`."""
    for method in METHODS:
        setattr(Tensor, method.__name__, method)
