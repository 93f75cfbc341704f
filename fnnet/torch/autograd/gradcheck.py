"""``torch.autograd.gradcheck`` and ``gradgradcheck``: a function's backward, and its
double backward, compared with central finite differences.

fnnet.torch holds float64 as float32 (JAX's default, without its x64 mode), and a
difference step of 1e-6, PyTorch's default for double inputs, is below float32's
resolution for most values. The comparison therefore takes a step of at least
:data:`FLOAT32_EPS` and tolerances of at least :data:`FLOAT32_ATOL` and
:data:`FLOAT32_RTOL`, and says so in a warning: a wrong backward (a missing factor, a
wrong sign, a swapped input) is still caught, an error smaller than those tolerances is
not.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from fnnet.torch._functions import tensor as _tensor
from fnnet.torch.autograd.functional import jacobian
from fnnet.torch.autograd.grad import grad
from fnnet.torch.tensor import Tensor

#: the smallest difference step used: about float32's resolution to the power 1/3,
#: where the central difference's truncation and rounding errors balance
FLOAT32_EPS = 1e-3
#: the smallest tolerances used in float32
FLOAT32_ATOL, FLOAT32_RTOL = 1e-3, 1e-2


class GradcheckError(RuntimeError):
    """The analytical and numerical Jacobians differ. PyTorch equivalent:
    ``torch.autograd.gradcheck.GradcheckError``."""


def _tensors(inputs: Any, who: str) -> tuple[Any, ...]:
    items = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    if not any(isinstance(x, Tensor) and x.requires_grad for x in items):
        raise ValueError(f"{who} expects at least one input tensor to require gradient, "
                         f"but none of them have requires_grad=True.")
    return items


def _as_outputs(out: Any) -> tuple[Tensor, ...]:
    items = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    return tuple(x for x in items if isinstance(x, Tensor) and x.is_floating_point())


def _numerical(func: Callable[..., Any], items: tuple[Any, ...], i: int, eps: float,
               n_outputs: int) -> list[np.ndarray]:
    """``d outputs / d items[i]`` by central differences: ``[n_in, n_out]`` per output."""
    x = items[i]
    base = x.detach().numpy().astype(np.float64)
    columns: list[list[np.ndarray]] = [[] for _ in range(n_outputs)]
    for k in range(base.size):
        values = []
        for step in (eps, -eps):
            moved = base.copy().reshape(-1)
            moved[k] += step
            args = list(items)
            # still requiring grad: the function may differentiate (gradgradcheck's does)
            args[i] = _tensor(moved.reshape(base.shape), dtype=x.dtype, requires_grad=True)
            values.append([o.detach().numpy().astype(np.float64).reshape(-1)
                           for o in _as_outputs(func(*args))])
        for o in range(n_outputs):
            columns[o].append((values[0][o] - values[1][o]) / (2 * eps))
    return [np.stack(rows) for rows in columns]


def _analytical(func: Callable[..., Any], items: tuple[Any, ...],
                diff: list[int]) -> list[list[np.ndarray]]:
    """``[output][input]`` Jacobians ``[n_in, n_out]`` from the function's backward."""
    def of_diff(*leaves: Tensor) -> tuple[Tensor, ...]:
        args = list(items)
        for i, leaf in zip(diff, leaves, strict=True):
            args[i] = leaf
        return _as_outputs(func(*args))

    blocks = jacobian(of_diff, tuple(items[i] for i in diff))
    # each block is [*output, *input]: rows of the output's elements, made [n_in, n_out]
    return [[block.detach().numpy().astype(np.float64).reshape(-1, items[j].numel()).T
             for j, block in zip(diff, per_input, strict=True)] for per_input in blocks]


def gradcheck(func: Callable[..., Any], inputs: Any, *, eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True,
              **kwargs: Any) -> bool:
    """Whether ``func``'s backward gives the Jacobian central differences give, for each
    floating output and each input that requires grad.

    Args:
        func: a function of the inputs returning a tensor or a tuple of tensors.
        inputs: a tensor or a tuple of them (and other values, passed through).
        eps, atol, rtol: the difference step and the tolerances of ``allclose`` (each at
            least its float32 floor here: see the module docstring).
        raise_exception: raise :class:`GradcheckError` on a mismatch, else return False.
        **kwargs: PyTorch's further checks (``check_undefined_grad``, ``fast_mode``...),
            accepted; the Jacobians above are what is compared.

    Returns:
        True when every Jacobian matches.

    Raises:
        GradcheckError: a Jacobian differs, with ``raise_exception``.
        ValueError: no input requires grad.

    PyTorch equivalent: ``torch.autograd.gradcheck``.
    """
    del kwargs
    items = _tensors(inputs, "gradcheck")
    diff = [i for i, x in enumerate(items) if isinstance(x, Tensor) and x.requires_grad]
    for i in diff:
        if items[i].dtype.np != np.float64:  # float32 (float64 without x64) or lower
            warnings.warn(f"Input #{i} requires gradient and is held in float32 "
                          f"(fnnet.torch's float64 without JAX's x64 mode): gradcheck "
                          f"compares with eps >= {FLOAT32_EPS}, atol >= {FLOAT32_ATOL} "
                          f"and rtol >= {FLOAT32_RTOL}.", UserWarning, stacklevel=2)
            eps, atol = max(eps, FLOAT32_EPS), max(atol, FLOAT32_ATOL)
            rtol = max(rtol, FLOAT32_RTOL)
            break
    n_outputs = len(_as_outputs(func(*items)))
    analytical = _analytical(func, items, diff)
    for position, i in enumerate(diff):
        numerical = _numerical(func, items, i, eps, n_outputs)
        for o in range(n_outputs):
            a, n = analytical[o][position], numerical[o]
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                if not raise_exception:
                    return False
                raise GradcheckError(
                    f"Jacobian mismatch for output {o} with respect to input {i},\n"
                    f"numerical:{_tensor(n.astype(np.float32))}\n"
                    f"analytical:{_tensor(a.astype(np.float32))}\n")
    return True


def gradgradcheck(func: Callable[..., Any], inputs: Any,
                  grad_outputs: Tensor | Sequence[Tensor | None] | None = None, *,
                  eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  raise_exception: bool = True, **kwargs: Any) -> bool:
    """:func:`gradcheck` of the gradient of ``func``: its double backward, with respect
    to the inputs and the output gradients (random ones, requiring grad, when
    ``grad_outputs`` is None, as PyTorch draws them).

    PyTorch equivalent: ``torch.autograd.gradgradcheck``.
    """
    del kwargs
    items = _tensors(inputs, "gradgradcheck")
    diff = [i for i, x in enumerate(items) if isinstance(x, Tensor) and x.requires_grad]
    outs = _as_outputs(func(*items))
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        cotangents: tuple[Any, ...] = tuple(
            _tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype, requires_grad=True)
            for o in outs)
    else:
        cotangents = tuple(grad_outputs) if isinstance(grad_outputs, (tuple, list)) \
            else (grad_outputs,)

    def first_derivatives(*args: Any) -> tuple[Tensor, ...]:
        given, vectors = args[:len(items)], args[len(items):]
        found = _as_outputs(func(*given))
        return tuple(grad(found, [given[i] for i in diff], vectors, create_graph=True,
                          allow_unused=True))

    return gradcheck(first_derivatives, items + cotangents, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
