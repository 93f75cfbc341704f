"""``torch.autograd.functional``: Jacobians, Hessians and their products with vectors, of
a function of tensors.

Each is built from :func:`fnnet.torch.autograd.grad`: a Jacobian is one backward pass
per output element, the cotangent a one-hot tensor (an input of the recorded graph, so
the passes share one compiled structure); a Hessian is the Jacobian of a gradient taken
with ``create_graph=True``. PyTorch equivalent: ``torch.autograd.functional``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from fnnet.torch import _functions
from fnnet.torch._autograd import enable_grad
from fnnet.torch.autograd.grad import grad
from fnnet.torch.tensor import Tensor

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]



def _differentiates(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` run with gradients on, as PyTorch's functions enable them inside: called
    under ``no_grad`` they still differentiate."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with enable_grad():
            return fn(*args, **kwargs)

    return wrapper


def _as_tuple(value: Any, arg_name: str, who: str) -> tuple[tuple[Tensor, ...], bool]:
    """``value``, a tensor or a tuple of them (a list is one value, as in PyTorch), as a
    tuple, and whether it was one; PyTorch's TypeError for anything else."""
    is_tuple = isinstance(value, tuple)
    items = value if is_tuple else (value,)
    for i, item in enumerate(items):
        if not isinstance(item, Tensor):
            where = f"value at index {i}" if is_tuple else f"given {arg_name}"
            raise TypeError(f"The {arg_name} given to {who} must be either a Tensor or a "
                            f"tuple of Tensors but the {where} has type {type(item)}.")
    return items, is_tuple


def _inputs(inputs: Any, who: str, create_graph: bool = False
            ) -> tuple[tuple[Tensor, ...], bool]:
    """Leaves requiring grad for ``inputs`` (a tensor or a tuple of them) and whether a
    tuple was given: fresh ones, or with ``create_graph`` the inputs that are leaves
    requiring grad themselves (so the result stays differentiable with respect to them)."""
    items, is_tuple = _as_tuple(inputs, "inputs", who)
    return tuple(x if create_graph and x.is_leaf and x.requires_grad else
                 x.detach().requires_grad_(True) for x in items), is_tuple


def _outputs(out: Any, who: str) -> tuple[tuple[Tensor, ...], bool]:
    return _as_tuple(out, "outputs of the user-provided function", who)


def _grads(output: Tensor, leaves: tuple[Tensor, ...], cotangent: Any,
           create_graph: bool) -> list[Tensor]:
    """``d(output . cotangent)/d(leaf)`` for each leaf, zeros where it is unused."""
    found = grad(output, leaves, grad_outputs=cotangent, retain_graph=True,
                 create_graph=create_graph, allow_unused=True)
    return [_functions.zeros_like(leaf) if g is None else g
            for leaf, g in zip(leaves, found, strict=True)]


def _jacobian_rows(output: Tensor, leaves: tuple[Tensor, ...], create_graph: bool
                   ) -> list[Tensor]:
    """The Jacobian of ``output`` by each leaf: ``[*output.shape, *leaf.shape]``."""
    n = output.numel()
    if not output.requires_grad:  # independent of the inputs
        return [_functions.zeros((*output.shape, *leaf.shape)) for leaf in leaves]
    rows: list[list[Tensor]] = [[] for _ in leaves]
    eye = np.eye(n, dtype=np.dtype(output.dtype.np))
    for i in range(n):
        cotangent = _functions.as_tensor(eye[i].reshape(tuple(output.shape)))
        for row, g in zip(rows, _grads(output, leaves, cotangent, create_graph),
                          strict=True):
            row.append(g if create_graph else g.detach())
    return [_functions.stack(row).reshape(*output.shape, *leaf.shape)
            for row, leaf in zip(rows, leaves, strict=True)]


@_differentiates
def jacobian(func: Callable[..., Any], inputs: Any, create_graph: bool = False,
             strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode") -> Any:
    """The Jacobian of ``func`` at ``inputs``: for an output of shape ``O`` and an input
    of shape ``I``, a tensor ``[*O, *I]``; tuples of them where ``func`` returns a tuple
    (outer) or ``inputs`` is one (inner).

    Args:
        func: a function of tensors returning a tensor or a tuple of tensors.
        inputs: a tensor or a tuple of tensors.
        create_graph: keep the result differentiable.
        strict, vectorize, strategy: PyTorch's options; the values computed are the same
            (``strict``'s check for outputs independent of an input is not made).

    PyTorch equivalent: ``torch.autograd.functional.jacobian``.
    """
    if strategy not in ("reverse-mode", "forward-mode"):
        raise AssertionError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
            'function has more outputs than inputs, "forward-mode" tends to be more '
            'performant. Otherwise, prefer to use "reverse-mode".')
    if strategy == "forward-mode":  # PyTorch's limits of its forward-mode Jacobian
        if create_graph:
            raise NotImplementedError(
                'torch.autograd.functional.jacobian: `create_graph=True` and `strategy='
                '"forward-mode"` are not supported together (yet). Please either set '
                '`create_graph=False` or `strategy="reverse-mode"`.')
        if strict:
            raise RuntimeError(
                'torch.autograd.functional.jacobian: `strict=True` and `strategy='
                '"forward-mode"` are not supported together (yet). Please either set '
                '`strict=False` or `strategy="reverse-mode"`.')
        _as_tuple(inputs, "inputs", "jacobian")
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or "
                                      "forward-over-reverse Hessian isonly implemented for "
                                      "`vectorize=True`.")
    leaves, inputs_tuple = _inputs(inputs, "jacobian", create_graph)
    outs, outputs_tuple = _outputs(func(*leaves), "jacobian")
    per_output = [_jacobian_rows(out, leaves, create_graph) for out in outs]
    shaped = [tuple(rows) if inputs_tuple else rows[0] for rows in per_output]
    return tuple(shaped) if outputs_tuple else shaped[0]


def _scalar_output(func: Callable[..., Any], leaves: tuple[Tensor, ...], who: str) -> Tensor:
    outs, is_tuple = _outputs(func(*leaves), who)
    if is_tuple:
        raise RuntimeError(f"The function given to {who} should return a single Tensor")
    out = outs[0]
    if out.numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {who} should "
                           f"contain a single element")
    return out.reshape(())


@_differentiates
def hessian(func: Callable[..., Any], inputs: Any, create_graph: bool = False,
            strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of a scalar ``func``: ``[*I, *I]`` per input, a tuple of tuples
    (input by input) where ``inputs`` is a tuple.

    PyTorch equivalent: ``torch.autograd.functional.hessian``.
    """
    leaves, inputs_tuple = _inputs(inputs, "hessian", create_graph)
    if outer_jacobian_strategy not in ("reverse-mode", "forward-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    if outer_jacobian_strategy == "forward-mode":  # PyTorch's outer jacobian's checks
        jacobian(lambda *x: x[0], inputs, create_graph, strict, vectorize, "forward-mode")
    out = _scalar_output(func, leaves, "hessian")
    firsts = _grads(out, leaves, None, True)
    blocks = [_jacobian_rows(g, leaves, create_graph) for g in firsts]
    return tuple(tuple(row) for row in blocks) if inputs_tuple else blocks[0][0]


def _vectors(v: Any, like: tuple[Tensor, ...], like_tuple: bool, who: str
             ) -> tuple[Tensor, ...]:
    """``v`` checked against ``like`` (the outputs or the inputs it multiplies) as
    PyTorch's ``_validate_v`` checks it, in its words."""
    items, _ = _as_tuple(v, "v", who)
    if len(items) != len(like):
        if like_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(like)} but "
                               f"got {len(items)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for index, (item, ref) in enumerate(zip(items, like, strict=True)):
        if tuple(item.shape) != tuple(ref.shape):
            entry = f"Entry {index} in " if like_tuple else ""
            raise RuntimeError(f"{entry}v has invalid size: should be {ref.size()} but got "
                               f"{item.size()}.")
    return items


def _packed(items: list[Tensor], is_tuple: bool, create_graph: bool) -> Any:
    items = [t if create_graph else t.detach() for t in items]
    return tuple(items) if is_tuple else items[0]


@_differentiates
def vjp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(inputs), v^T J)``: the vector-Jacobian product (``v`` may be omitted for a
    single-element output). PyTorch equivalent: ``torch.autograd.functional.vjp``."""
    del strict
    leaves, inputs_tuple = _inputs(inputs, "vjp", create_graph)
    outs, outputs_tuple = _outputs(func(*leaves), "vjp")
    if v is None:
        if len(outs) != 1 or outs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function "
                               "returns a single Tensor with a single element.")
        vs: tuple[Any, ...] = (None,)
    else:
        vs = _vectors(v, outs, outputs_tuple, "vjp")
    total = [_functions.zeros_like(leaf) for leaf in leaves]
    for out, vec in zip(outs, vs, strict=True):
        if out.requires_grad:
            total = [t + g for t, g in zip(total, _grads(out, leaves, vec, create_graph),
                                           strict=True)]
    return _packed(list(outs), outputs_tuple, create_graph), \
        _packed(total, inputs_tuple, create_graph)


@_differentiates
def jvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(inputs), J v)``: the Jacobian-vector product (from the Jacobian).

    PyTorch equivalent: ``torch.autograd.functional.jvp``.
    """
    del strict
    leaves, inputs_tuple = _inputs(inputs, "jvp", create_graph)
    vs = _vectors_or_one(v, leaves, inputs_tuple, "jvp")
    outs, outputs_tuple = _outputs(func(*leaves), "jvp")
    products = []
    for out in outs:
        total = _functions.zeros(tuple(out.shape), dtype=out.dtype)
        for jac, vec in zip(_jacobian_rows(out, leaves, create_graph), vs, strict=True):
            dims = list(range(out.dim(), jac.dim()))
            total = total + (jac * vec).sum(dim=dims) if dims else total + jac * vec
        products.append(total)
    return _packed(list(outs), outputs_tuple, create_graph), \
        _packed(products, outputs_tuple, create_graph)


def _vectors_or_one(v: Any, leaves: tuple[Tensor, ...], inputs_tuple: bool,
                    who: str) -> tuple[Tensor, ...]:
    """``v`` checked against the inputs (see ``_vectors``), or, where it is None, a one
    for an input that is a single one-element tensor, as PyTorch allows."""
    if v is None:
        if len(leaves) != 1 or leaves[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the "
                               "user-provided function is a single Tensor with a single "
                               "element.")
        return (_functions.ones_like(leaves[0]),)
    return _vectors(v, leaves, inputs_tuple, who)


def _hessian_vector(func: Callable[..., Any], inputs: Any, v: Any, create_graph: bool,
                    who: str) -> tuple[Any, Any]:
    leaves, inputs_tuple = _inputs(inputs, who, create_graph)
    vs = _vectors_or_one(v, leaves, inputs_tuple, who)
    out = _scalar_output(func, leaves, who)
    firsts = _grads(out, leaves, None, True)
    inner = _functions.zeros(())
    for g, vec in zip(firsts, vs, strict=True):
        inner = inner + (g * vec).sum()
    products = _grads(inner, leaves, None, create_graph) if inner.requires_grad else \
        [_functions.zeros_like(leaf) for leaf in leaves]
    return (out if create_graph else out.detach()), \
        _packed(products, inputs_tuple, create_graph)


@_differentiates
def hvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(inputs), H v)`` for a scalar ``func``. PyTorch equivalent:
    ``torch.autograd.functional.hvp``."""
    del strict
    return _hessian_vector(func, inputs, v, create_graph, "hvp")


@_differentiates
def vhp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(inputs), v^T H)`` for a scalar ``func`` (``H`` is symmetric: as ``hvp``).

    PyTorch equivalent: ``torch.autograd.functional.vhp``.
    """
    del strict
    return _hessian_vector(func, inputs, v, create_graph, "vhp")
