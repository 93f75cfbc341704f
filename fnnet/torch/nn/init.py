"""``torch.nn.init``: in-place initialisers, drawing PyTorch's numbers from the global
generator or the ``generator`` given (see :mod:`fnnet.torch._cpu_generator`).

The deterministic ones (``zeros_``, ``ones_``, ``constant_``, ``eye_``, ``dirac_``)
and the uniform ones give PyTorch's values exactly; the normal ones up to float32's
last bits (PyTorch's vectorised logarithm and sine); ``trunc_normal_`` (PyTorch's
rejection sampling), ``orthogonal_`` (a QR of PyTorch's normal draws) and ``sparse_``
draw the same numbers and round as their arithmetic does here. Each writes into the
tensor without recording a gradient, as PyTorch's do, and returns it.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import jax.numpy as jnp
import numpy as np

from fnnet.nn.init import calculate_gain as calculate_gain  # torch.nn.init's, re-exported
from fnnet.nn.init import fans as fans  # used by the layers' reset_parameters
from fnnet.nn.init import kaiming_std as _kaiming_std
from fnnet.nn.init import orthonormalized
from fnnet.torch import _random
from fnnet.torch._autograd import no_grad
from fnnet.torch._cpu_generator import CpuGenerator
from fnnet.torch._tape import version_of
from fnnet.torch.tensor import Tensor, _wrap_value


def _fans(tensor: Tensor) -> tuple[int, int]:
    return fans(tuple(tensor.shape))


def _write(tensor: Tensor, value: Any) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init: tensor must be a Tensor, got {type(tensor).__name__}")
    array = jnp.asarray(value, tensor.dtype.np)
    if _stands_alone(tensor):
        # a model's fresh parameter: the new values replace the old ones in place, as
        # copy_ would, without a recorded copy (a compile for each shape initialised)
        cell = tensor._cell
        cell.val, cell.host = array, None
        cell.version = version_of(cell) + 1
        return tensor
    with no_grad():
        tensor.copy_(_wrap_value(array))
    return tensor


def _stands_alone(tensor: Tensor) -> bool:
    """Whether ``tensor`` holds a value of its own that nothing being recorded reads or
    shares: not a view, not written through ``.data``, not expanded, not a value of the
    tape being recorded, not an inference tensor."""
    cell = tensor._cell
    return (tensor._view is None and getattr(tensor, "_data_version", None) is None
            and not cell.overlap and cell.val is not None and cell.tape is None
            and not getattr(cell, "sourced", False) and not tensor.is_inference())


def _host(tensor: Tensor, generator: Any, who: str) -> CpuGenerator:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init: tensor must be a Tensor, got {type(tensor).__name__}")
    return _random.host_for(generator, who)


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Tensor:
    """PyTorch equivalent: ``torch.nn.init.uniform_``."""
    host = _host(tensor, generator, "uniform_")
    return _write(tensor, host.uniform(tuple(tensor.shape), tensor.dtype.np, a, b))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: Any = None) -> Tensor:
    """PyTorch equivalent: ``torch.nn.init.normal_``."""
    host = _host(tensor, generator, "normal_")
    return _write(tensor, host.normal(tuple(tensor.shape), tensor.dtype.np, mean, std))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator: Any = None) -> Tensor:
    """``N(mean, std**2)`` draws truncated to ``[a, b]`` (absolute bounds, as PyTorch's),
    by PyTorch's rejection sampling: where ``[a, b]`` holds more than 30% of the mass,
    normal draws of the whole tensor again and again for the entries outside it; else
    uniform proposals on ``[a, b]``, accepted below the density (each round a uniform
    draw of the whole tensor for the proposals and one for the acceptance).

    PyTorch equivalent: ``torch.nn.init.trunc_normal_``.
    """
    if not a < b:
        raise ValueError(f"trunc_normal_: expected a < b, got a={a}, b={b}")
    if std <= 0:
        raise ValueError(f"trunc_normal_: std must be positive, got {std}")
    host = _host(tensor, generator, "trunc_normal_")
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The "
                      "distribution of values may be incorrect.", stacklevel=2)
    shape, kind = tuple(tensor.shape), tensor.dtype.np

    def cdf(x: float) -> float:
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if cdf((b - mean) / std) - cdf((a - mean) / std) > 0.3:
        low, high = kind.type(a), kind.type(b)
        result = host.normal(shape, kind, mean, std)
        outside = (result < low) | (result > high)
        while outside.any():
            result = np.where(outside, host.normal(shape, kind, mean, std), result)
            outside = (result < low) | (result > high)
        return _write(tensor, result)
    log_peak = -0.5 * ((max(a, min(mean, b)) - mean) / std) ** 2

    def refused(candidates: np.ndarray) -> np.ndarray:
        scaled = (candidates - kind.type(mean)) / kind.type(std)
        log_density = scaled * scaled * kind.type(-0.5) - kind.type(log_peak)
        return np.asarray(np.log(host.uniform(shape, kind)) > log_density)

    result = host.uniform(shape, kind, a, b)
    pending = refused(result)
    while pending.any():
        candidates = host.uniform(shape, kind, a, b)
        result = np.where(pending, candidates, result)
        pending = np.where(pending, refused(candidates), pending)
    return _write(tensor, result)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """A (semi-)orthogonal matrix over the first dimension and the rest flattened: the Q
    of PyTorch's normal draws (``[rows, cols]``) with R's diagonal made positive
    (``fnnet.nn.init.orthonormalized``), times ``gain``.

    PyTorch equivalent: ``torch.nn.init.orthogonal_``.
    """
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    host = _host(tensor, generator, "orthogonal_")
    rows = tensor.shape[0]
    gaussian = host.normal((rows, tensor.numel() // rows), tensor.dtype.np)
    return _write(tensor, orthonormalized(jnp.asarray(gaussian), gain).reshape(tensor.shape))


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01,
            generator: Any = None) -> Tensor:
    """``N(0, std**2)`` draws with ``ceil(sparsity * rows)`` entries of each column, at
    random rows, set to zero (Martens' sparse initialisation), for a 2-D tensor: the
    rows of each column are ``torch.randperm(rows)`` of the global generator, as PyTorch
    draws them whatever ``generator`` is given.

    PyTorch equivalent: ``torch.nn.init.sparse_``.
    """
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    zeros = math.ceil(sparsity * rows)
    values = _host(tensor, generator, "sparse_").normal((rows, cols), tensor.dtype.np, 0.0, std)
    for col in range(cols):
        values[_random.state.host.permutation(rows)[:zeros], col] = 0
    return _write(tensor, values)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """PyTorch equivalent: ``torch.nn.init.constant_``."""
    return _write(tensor, np.full(tuple(tensor.shape), val, tensor.dtype.np))


def zeros_(tensor: Tensor) -> Tensor:
    """PyTorch equivalent: ``torch.nn.init.zeros_``."""
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """PyTorch equivalent: ``torch.nn.init.ones_``."""
    return constant_(tensor, 1.0)


def eye_(tensor: Tensor) -> Tensor:
    """PyTorch equivalent: ``torch.nn.init.eye_`` (2-D tensors)."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    return _write(tensor, np.eye(rows, cols, dtype=tensor.dtype.np))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """A convolution kernel ``[out, in, *kernel]`` that passes its input through: per
    group, output channel ``d`` reads input channel ``d`` at the kernel's centre.

    PyTorch equivalent: ``torch.nn.init.dirac_``.
    """
    if tensor.dim() not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    shape = tuple(tensor.shape)
    if shape[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    per_group = shape[0] // groups
    centre = tuple(size // 2 for size in shape[2:])
    value = np.zeros(shape)
    for g in range(groups):
        for d in range(min(per_group, shape[1])):
            value[(g * per_group + d, d, *centre)] = 1
    return _write(tensor, value)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """PyTorch equivalent: ``torch.nn.init.xavier_uniform_``."""
    fan_in, fan_out = _fans(tensor)
    bound = math.sqrt(3.0) * (gain * math.sqrt(2.0 / float(fan_in + fan_out)))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """PyTorch equivalent: ``torch.nn.init.xavier_normal_``."""
    fan_in, fan_out = _fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def kaiming_uniform_bound(shape: tuple[int, ...], a: float, mode: str, nonlinearity: str
                          ) -> float:
    """``kaiming_uniform_``'s bound for a weight of ``shape``, in PyTorch's arithmetic
    (``sqrt(3) * gain / sqrt(fan)``: the float32 bounds are then PyTorch's)."""
    return math.sqrt(3.0) * _kaiming_std(shape, a, mode, nonlinearity)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator: Any = None) -> Tensor:
    """PyTorch equivalent: ``torch.nn.init.kaiming_uniform_``."""
    bound = kaiming_uniform_bound(tuple(tensor.shape), a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator: Any = None) -> Tensor:
    """PyTorch equivalent: ``torch.nn.init.kaiming_normal_``."""
    std = _kaiming_std(tuple(tensor.shape), a, mode, nonlinearity)
    return normal_(tensor, 0.0, std, generator)


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight ``[out, in, *kernel]``. Private in PyTorch, but
    the custom layers of many courses copy ``Linear.reset_parameters``, which calls it.

    PyTorch equivalent: ``torch.nn.init._calculate_fan_in_and_fan_out``.
    """
    return _fans(tensor)


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    """``fan_in`` or ``fan_out`` of a weight, by ``mode``.

    PyTorch equivalent: ``torch.nn.init._calculate_correct_fan``.
    """
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of "
                         f"{['fan_in', 'fan_out']}")
    fan_in, fan_out = _fans(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _deprecated(initialiser: Any) -> Any:
    """PyTorch's deprecated name of ``initialiser`` (``normal`` for ``normal_``), which
    warns and calls it."""
    new = initialiser.__name__
    old = new[:-1]

    def deprecated_init(*args: Any, **kwargs: Any) -> Any:
        warnings.warn(f"`nn.init.{old}` is now deprecated in favor of `nn.init.{new}`.",
                      FutureWarning, stacklevel=2)
        return initialiser(*args, **kwargs)

    deprecated_init.__name__ = old
    deprecated_init.__doc__ = f"PyTorch's deprecated ``nn.init.{old}``: see ``{new}``."
    return deprecated_init


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    from fnnet.torch.tensor import Unsupported

    raise Unsupported(f"fnnet.torch does not support torch.nn.init.{name}; initialise "
                      f"with fnnet.nn.init and copy_ the values in")


def _refuse_placeholders() -> None:
    """Each initialiser raises PyTorch's ValueError for a lazy module's placeholder."""
    from fnnet.torch.nn._uninitialized import refusing_placeholders

    for name in ("uniform_", "normal_", "trunc_normal_", "orthogonal_", "sparse_", "constant_",
                 "zeros_", "ones_", "eye_", "dirac_", "xavier_uniform_", "xavier_normal_",
                 "kaiming_uniform_", "kaiming_normal_"):
        globals()[name] = refusing_placeholders(globals()[name])


_refuse_placeholders()
uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
