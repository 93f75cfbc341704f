"""``torch.nn.functional``'s margin and likelihood losses: each one recorded call of the
``fnnet.losses`` function of the same name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import fnnet.losses as L
from fnnet.losses.likelihood import shares_one_dimension
from fnnet.torch import _graph
from fnnet.torch._functions import minimum
from fnnet.torch.nn._distance import pairwise_distance
from fnnet.torch.tensor import Tensor, _op, _scalar_or_tensor, host_value


def _prepare(who: str, reduction: str, size_average: Any, reduce: Any,
             *tensors: Any, invalid: str | None = None) -> str:
    """Checks the arguments; returns the reduction (the deprecated pair's, if given).

    ``invalid`` is the ending of the error that the losses PyTorch writes in Python add to
    a bad ``reduction`` (they take no 'elementwise_mean', and a non-string is the
    TypeError of that concatenation, as there)."""
    from fnnet.torch.nn.functional import _legacy, _reduction_mode

    reduction = _legacy(size_average, reduce, reduction)
    for name, value in zip(("input", "target", "third"), tensors, strict=False):
        if not isinstance(value, Tensor):
            raise TypeError(f"{who}(): argument '{name}' must be Tensor, not "
                            f"{type(value).__name__}")
    if invalid is None:
        return _reduction_mode(reduction)
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(reduction + invalid)
    return reduction


def _labels(target: Tensor, like: Tensor) -> Tensor:
    """±1 targets in ``like``'s dtype, outside the gradient (PyTorch gives them none)."""
    return target.detach().to(like.dtype)


def _margin_ranking(x1: Any, x2: Any, t: Any, margin: float, reduction: str) -> Any:
    return L.margin_ranking_loss(x1, x2, t, margin, reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average: Any = None, reduce: Any = None,
                        reduction: str = "mean") -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.margin_ranking_loss``."""
    reduction = _prepare("margin_ranking_loss", reduction, size_average, reduce,
                         input1, input2, target)
    if not input1.dim() == input2.dim() == target.dim():
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same "
                           f"dimension but got sizes: input1: {input1.shape}, input2: "
                           f"{input2.shape}, target: {target.shape} ")
    # PyTorch's order: input1 - input2, then -target times that
    gap = tuple(input1.shape), tuple(input2.shape)
    mismatch = _graph.broadcast_mismatch(gap) or _graph.broadcast_mismatch(
        (tuple(target.shape), tuple(np.broadcast_shapes(*gap))))
    if mismatch is not None:
        raise RuntimeError(mismatch)
    return _op(_margin_ranking, (float(margin), reduction), input1, input2, target,
               who="margin_ranking_loss")


def _hinge(x: Any, t: Any, margin: float, reduction: str) -> Any:
    return L.hinge_embedding_loss(x, t, margin, reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,
                         size_average: Any = None, reduce: Any = None,
                         reduction: str = "mean") -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.hinge_embedding_loss``."""
    reduction = _prepare("hinge_embedding_loss", reduction, size_average, reduce, input, target)
    return _op(_hinge, (float(margin), reduction), input, _labels(target, input),
               who="hinge_embedding_loss")


def _soft_margin(x: Any, t: Any, reduction: str) -> Any:
    return L.soft_margin_loss(x, t, reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average: Any = None,
                     reduce: Any = None, reduction: str = "mean") -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.soft_margin_loss``."""
    reduction = _prepare("soft_margin_loss", reduction, size_average, reduce, input, target)
    return _op(_soft_margin, (reduction,), input, _labels(target, input),
               who="soft_margin_loss")


def _multilabel_soft_margin(x: Any, t: Any, w: Any, reduction: str) -> Any:
    return L.multilabel_soft_margin_loss(x, t, w, reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average: Any = None, reduce: Any = None,
                                reduction: str = "mean") -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.multilabel_soft_margin_loss``
    (``fnnet.losses.multilabel_soft_margin_loss``)."""
    reduction = _prepare("multilabel_soft_margin_loss", reduction, size_average, reduce,
                         input, target, invalid=" is not valid")
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"multilabel_soft_margin_loss: target of shape {list(target.shape)}"
                         f" does not match input of shape {list(input.shape)}")
    return _op(_multilabel_soft_margin, (reduction,), input, _labels(target, input), weight,
               who="multilabel_soft_margin_loss")


def _cosine_embedding(x1: Any, x2: Any, t: Any, margin: float, reduction: str) -> Any:
    return L.cosine_embedding_loss(x1, x2, t, margin, reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor,
                          margin: float = 0, size_average: Any = None, reduce: Any = None,
                          reduction: str = "mean") -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.cosine_embedding_loss``."""
    reduction = _prepare("cosine_embedding_loss", reduction, size_average, reduce,
                         input1, input2, target)
    # PyTorch's checks, in its order: the target's dims, the inputs' dims, then the
    # inputs' shapes against each other and the target's against their batch
    if target.dim() not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if not input1.dim() == input2.dim() == target.dim() + 1:
        raise RuntimeError(f"{target.dim()}D target tensor expects {target.dim() + 1}D input "
                           f"tensors, but found inputs with sizes {list(input1.shape)} and "
                           f"{list(input2.shape)}.")
    shapes = (tuple(input1.shape), tuple(input2.shape))
    mismatch = _graph.broadcast_mismatch(shapes) or _graph.broadcast_mismatch(
        (tuple(target.shape), tuple(np.broadcast_shapes(*shapes))[:-1]))
    if mismatch is not None:
        raise RuntimeError(mismatch)
    return _op(_cosine_embedding, (float(margin), reduction), input1, input2,
               _labels(target, input1), who="cosine_embedding_loss")


def _triplet(a: Any, p: Any, n: Any, margin: float, norm: float, eps: float, swap: bool,
             reduction: str) -> Any:
    return L.triplet_margin_loss(a, p, n, margin, norm, eps, swap, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor,
                        margin: float = 1.0, p: float = 2, eps: float = 1e-6,
                        swap: bool = False, size_average: Any = None, reduce: Any = None,
                        reduction: str = "mean") -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.triplet_margin_loss``."""
    reduction = _prepare("triplet_margin_loss", reduction, size_average, reduce,
                         anchor, positive, negative)
    if not anchor.dim() == positive.dim() == negative.dim():
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have "
                           f"the same number of dimensions, but got: anchor {anchor.dim()}D,"
                           f" positive {positive.dim()}D, and negative {negative.dim()}D "
                           f"inputs")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    return _op(_triplet, (float(margin), float(p), float(eps), bool(swap), reduction),
               anchor, positive, negative, who="triplet_margin_loss")


def _triplet_distances(d_pos: Any, d_neg: Any, margin: float, reduction: str) -> Any:
    return L.triplet_margin_from_distances(d_pos, d_neg, margin, reduction)


def triplet_margin_with_distance_loss(
        anchor: Tensor, positive: Tensor, negative: Tensor, *,
        distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
        margin: float = 1.0, swap: bool = False, reduction: str = "mean") -> Tensor:
    """The triplet loss of distances from ``distance_function`` (the Euclidean
    ``pairwise_distance`` by default), which runs on the tensors as the user wrote it.

    PyTorch equivalent: ``torch.nn.functional.triplet_margin_with_distance_loss``.
    """
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have "
                           f"the same number of dimensions, but got: anchor {anchor.ndim}D, "
                           f"positive {positive.ndim}D, and negative {negative.ndim}D inputs")
    if distance_function is None:
        distance_function = pairwise_distance
    d_pos = distance_function(anchor, positive)
    d_neg = distance_function(anchor, negative)
    if swap:
        d_neg = minimum(d_neg, distance_function(positive, negative))
    return _op(_triplet_distances, (float(margin), reduction), d_pos, d_neg,
               who="triplet_margin_with_distance_loss")


def _gaussian(x: Any, t: Any, v: Any, full: bool, eps: float, reduction: str) -> Any:
    return L.gaussian_nll_loss(x, t, v, full, eps, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Any, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.gaussian_nll_loss``. A negative variance
    raises PyTorch's ValueError where the host holds it (a number, a tensor made from data);
    one computed by the step is clamped to ``eps`` like a small one, since refusing it
    would wait for the device in the middle of the step."""
    reduction = _prepare("gaussian_nll_loss", reduction, None, None, input, target,
                         invalid=" is not valid")
    held = host_value(var) if isinstance(var, Tensor) else var
    if held is not None and np.any(np.asarray(held) < 0):
        raise ValueError("var has negative entry/entries")
    var = _scalar_or_tensor(var)
    if not isinstance(var, Tensor):
        from fnnet.torch._functions import full as filled

        var = filled(tuple(input.shape), float(var), dtype=input.dtype)
    shape, vshape = tuple(input.shape), tuple(var.shape)
    if vshape != shape and shape[:-1] != vshape and not shares_one_dimension(shape, vshape):
        raise ValueError("var is of incorrect size")
    return _op(_gaussian, (bool(full), float(eps), reduction), input, target, var,
               who="gaussian_nll_loss")


def _poisson(x: Any, t: Any, log_input: bool, full: bool, eps: float,
             reduction: str) -> Any:
    return L.poisson_nll_loss(x, t, log_input, full, eps, reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True,
                     full: bool = False, size_average: Any = None, eps: float = 1e-8,
                     reduce: Any = None, reduction: str = "mean") -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.poisson_nll_loss``."""
    reduction = _prepare("poisson_nll_loss", reduction, size_average, reduce, input, target,
                         invalid=" is not a valid value for reduction")
    return _op(_poisson, (bool(log_input), bool(full), float(eps), reduction), input,
               target, who="poisson_nll_loss")
