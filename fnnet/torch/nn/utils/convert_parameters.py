"""``torch.nn.utils.convert_parameters``: the parameters as one vector and back."""

from __future__ import annotations

from collections.abc import Iterable

from fnnet.torch.tensor import Tensor


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    from fnnet.torch._functions import cat

    vec = []
    for p in parameters:
        p.device  # noqa: B018 - PyTorch checks each one's device first (its AttributeError)
        vec.append(p.reshape(-1))
    return cat(vec)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copies consecutive slices of the 1-D ``vec`` into ``parameters`` (in place, as
    the inverse of :func:`parameters_to_vector`).

    PyTorch equivalent: ``torch.nn.utils.vector_to_parameters``.
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    from fnnet.torch.autograd import no_grad

    offset = 0
    with no_grad():
        for p in parameters:
            count = p.numel()
            p.copy_(vec[offset:offset + count].view_as(p))
            offset += count
