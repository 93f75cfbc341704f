"""``torch.nn.utils.prune``: masks over a module's parameters, as PyTorch's pruning
tutorial applies them.

Pruning ``name`` of a module moves the parameter to ``name + "_orig"``, keeps a
``name + "_mask"`` buffer, and sets ``module.<name>`` to ``orig * mask`` before every
forward (a forward pre-hook), so the optimizer trains ``_orig`` and the pruned entries
stay zero in what the module computes. Pruning the same parameter again prunes among the
entries still kept (a :class:`PruningContainer`); :func:`remove` makes the pruning
permanent. The masks are computed eagerly (they are read once, not every step).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

from fnnet.torch import _functions
from fnnet.torch.tensor import Tensor

__all__ = ["BasePruningMethod", "CustomFromMask", "Identity", "L1Unstructured",
           "LnStructured", "PruningContainer", "RandomStructured", "RandomUnstructured",
           "custom_from_mask", "global_unstructured", "identity", "is_pruned",
           "l1_unstructured", "ln_structured", "random_structured", "random_unstructured",
           "remove"]


def _check_amount(amount: Any) -> None:
    """PyTorch's checks of ``amount`` when a method is made."""
    if not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    value = float(amount)
    if (isinstance(amount, numbers.Integral) and value < 0) or \
            (not isinstance(amount, numbers.Integral) and (value > 1.0 or value < 0.0)):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or "
                         f"a non-negative integer")


def _count(amount: Any, size: int) -> int:
    """How many of ``size`` entries ``amount`` prunes (an int as is, a fraction rounded)."""
    if isinstance(amount, numbers.Integral):
        if int(amount) > size:
            raise ValueError(f"amount={amount} should be smaller than the number of parameters "
                             f"to prune={size}")
        return int(amount)
    return round(float(amount) * size)


def _hooks(module: Any) -> dict[Any, Any]:
    """The module's forward pre-hooks: ``{handle id: hook}`` (a copy)."""
    return dict(module.__dict__.get("_forward_pre_hooks", {}))


class BasePruningMethod:
    """A way of computing a parameter's mask; also the forward pre-hook that applies it.

    PyTorch equivalent: ``torch.nn.utils.prune.BasePruningMethod``.
    """

    PRUNING_TYPE = "unstructured"
    #: the pruned parameter's name, set by :meth:`apply`
    _tensor_name: str = ""

    def __call__(self, module: Any, inputs: Any) -> None:
        setattr(module, self._tensor_name, self.apply_mask(module))

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        raise NotImplementedError

    def apply_mask(self, module: Any) -> Tensor:
        """``orig * mask`` of the pruned parameter."""
        orig = getattr(module, self._tensor_name + "_orig")
        mask = getattr(module, self._tensor_name + "_mask")
        result: Tensor = mask.to(dtype=orig.dtype) * orig
        return result

    @classmethod
    def apply(cls, module: Any, name: str, *args: Any, importance_scores: Any = None,
              **kwargs: Any) -> BasePruningMethod:
        """Prunes ``module.<name>`` with a new ``cls(*args, **kwargs)`` (combined with
        an earlier pruning of it); returns the method, now the module's hook."""
        previous = None
        for key, hook in _hooks(module).items():
            if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
                previous = hook
                del module._forward_pre_hooks[key]
        method: BasePruningMethod = cls(*args, **kwargs)
        method._tensor_name = name
        if previous is not None:
            container = previous if isinstance(previous, PruningContainer) else \
                PruningContainer(previous)
            container.add_pruning_method(method)
            method = container
        orig = getattr(module, name)
        if importance_scores is not None and tuple(importance_scores.shape) != \
                tuple(orig.shape):
            raise AssertionError(f"importance_scores should have the same shape as parameter "
                                 f"{name} of {module}")
        if previous is None:
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = _functions.ones_like(orig)
        else:
            default_mask = getattr(module, name + "_mask").detach().clone()
        scores = importance_scores if importance_scores is not None else orig
        try:
            mask = method.compute_mask(scores.detach(), default_mask=default_mask)
            module.register_buffer(name + "_mask", mask)
            setattr(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            if previous is None:  # the parameter back under its name (last, as PyTorch)
                orig = module._parameters[name + "_orig"]
                delattr(module, name + "_orig")
                module.__dict__.pop(name, None)
                module.register_parameter(name, orig)
            raise
        return method

    def prune(self, t: Tensor, default_mask: Tensor | None = None,
              importance_scores: Tensor | None = None) -> Tensor:
        """``t`` with this method's mask applied."""
        scores = importance_scores if importance_scores is not None else t
        mask = self.compute_mask(scores, default_mask if default_mask is not None
                                 else _functions.ones_like(t))
        result: Tensor = t * mask.to(dtype=t.dtype)
        return result

    def remove(self, module: Any) -> None:
        """Makes the pruning permanent: ``module.<name>`` a parameter again, holding
        ``orig * mask``; ``_orig`` and ``_mask`` are dropped."""
        name = self._tensor_name
        weight = self.apply_mask(module)
        if name in module.__dict__:
            delattr(module, name)
        orig = module._parameters[name + "_orig"]
        orig.data = weight.data
        delattr(module, name + "_orig")
        delattr(module, name + "_mask")
        setattr(module, name, orig)


class PruningContainer(BasePruningMethod):
    """Successive prunings of one parameter: each new one prunes among the entries the
    earlier ones kept (``PRUNING_TYPE`` of the latest).

    PyTorch equivalent: ``torch.nn.utils.prune.PruningContainer``.
    """

    def __init__(self, *args: Any) -> None:
        self._pruning_methods: tuple[BasePruningMethod, ...] = ()
        if len(args) == 1 and not isinstance(args[0], Iterable):
            self._tensor_name = args[0]._tensor_name
            self.add_pruning_method(args[0])
        elif len(args) == 1:
            for method in args[0]:
                self.add_pruning_method(method)
        else:
            for method in args:
                self.add_pruning_method(method)

    def add_pruning_method(self, method: BasePruningMethod) -> None:
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and self._tensor_name != method._tensor_name:
            raise ValueError(f"Can only add pruning methods acting on the parameter named "
                             f"'{self._tensor_name}' to PruningContainer {self}. Found "
                             f"'{method._tensor_name}'")
        self._pruning_methods += (method,)

    def __len__(self) -> int:
        return len(self._pruning_methods)

    def __iter__(self) -> Any:
        return iter(self._pruning_methods)

    def __getitem__(self, idx: int) -> BasePruningMethod:
        return self._pruning_methods[idx]

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        method = self._pruning_methods[-1]
        kept = default_mask == 1
        if method.PRUNING_TYPE == "unstructured":
            new_mask = default_mask.clone()
            new_mask[kept] = method.compute_mask(t[kept], default_mask[kept]).to(
                dtype=new_mask.dtype)
            return new_mask
        if method.PRUNING_TYPE == "structured":
            dim = method.dim if method.dim >= 0 else t.dim() + method.dim  # type: ignore[attr-defined]
            # the slices along dim that still hold an entry are pruned among themselves
            others = tuple(d for d in range(t.dim()) if d != dim)
            alive = kept.sum(dim=others) != 0 if others else kept
            index = alive.nonzero().flatten()
            partial = method.compute_mask(t.index_select(dim, index),
                                          default_mask.index_select(dim, index))
            new_mask = default_mask.clone()
            new_mask.index_copy_(dim, index, partial.to(dtype=new_mask.dtype))
            return new_mask
        if method.PRUNING_TYPE == "global":
            return method.compute_mask(t, default_mask)
        raise ValueError(f"Unrecognized PRUNING_TYPE {method.PRUNING_TYPE}")


class Identity(BasePruningMethod):
    """Prunes nothing (a mask of ones). PyTorch: ``torch.nn.utils.prune.Identity``."""

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        return default_mask

    @classmethod
    def apply(cls, module: Any, name: str) -> BasePruningMethod:  # type: ignore[override]
        return super().apply(module, name)


class _Amount(BasePruningMethod):
    """A method pruning ``amount`` entries (an int) or a fraction of them (a float)."""

    def __init__(self, amount: Any) -> None:
        _check_amount(amount)
        self.amount = amount


class RandomUnstructured(_Amount):
    """Prunes ``amount`` entries at random (drawn from fnnet.torch's key).

    PyTorch equivalent: ``torch.nn.utils.prune.RandomUnstructured``.
    """

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        n = _count(self.amount, t.numel())
        mask = default_mask.clone()
        if n:
            drawn = _functions.rand(t.numel())
            mask.view(-1)[drawn.topk(n).indices] = 0
        return mask

    @classmethod
    def apply(cls, module: Any, name: str, amount: Any) -> BasePruningMethod:  # type: ignore[override]
        return super().apply(module, name, amount=amount)


class L1Unstructured(_Amount):
    """Prunes the ``amount`` entries of smallest magnitude.

    PyTorch equivalent: ``torch.nn.utils.prune.L1Unstructured``.
    """

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        n = _count(self.amount, t.numel())
        mask = default_mask.clone()
        if n:
            mask.view(-1)[t.abs().view(-1).topk(n, largest=False).indices] = 0
        return mask

    @classmethod
    def apply(cls, module: Any, name: str, amount: Any,  # type: ignore[override]
              importance_scores: Any = None) -> BasePruningMethod:
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


class _Structured(_Amount):
    """A method pruning whole slices along ``dim``, keeping those ``_scores`` ranks
    highest."""

    PRUNING_TYPE = "structured"
    dim: int

    def _scores(self, t: Tensor) -> Tensor:
        raise NotImplementedError

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        if t.dim() <= 1:  # PyTorch's checks, before the slices are counted
            raise ValueError(f"Structured pruning can only be applied to multidimensional "
                             f"tensors. Found tensor of shape {t.shape} with {t.dim()} dims")
        if self.dim >= t.dim():
            raise IndexError(f"Invalid index {self.dim} for tensor of size {t.shape}")
        size = int(t.shape[self.dim])
        n = _count(self.amount, size)
        if n == 0:
            return default_mask
        keep = self._scores(t).topk(size - n).indices
        mask = _functions.zeros_like(t)
        mask.index_fill_(self.dim, keep, 1)
        result: Tensor = mask * default_mask.to(dtype=mask.dtype)
        return result


class RandomStructured(_Structured):
    """Prunes ``amount`` slices along ``dim`` at random.

    PyTorch equivalent: ``torch.nn.utils.prune.RandomStructured``.
    """

    def __init__(self, amount: Any, dim: int = -1) -> None:
        super().__init__(amount)
        self.dim = dim

    def _scores(self, t: Tensor) -> Tensor:
        return _functions.rand(int(t.shape[self.dim]))

    @classmethod
    def apply(cls, module: Any, name: str, amount: Any,  # type: ignore[override]
              dim: int = -1) -> BasePruningMethod:
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(_Structured):
    """Prunes the ``amount`` slices along ``dim`` of smallest ``L_n`` norm.

    PyTorch equivalent: ``torch.nn.utils.prune.LnStructured``.
    """

    def __init__(self, amount: Any, n: Any, dim: int = -1) -> None:
        super().__init__(amount)
        self.n, self.dim = n, dim

    def _scores(self, t: Tensor) -> Tensor:
        dim = self.dim % t.dim()
        others = [d for d in range(t.dim()) if d != dim]
        return t.norm(p=self.n, dim=others)

    @classmethod
    def apply(cls, module: Any, name: str, amount: Any, n: Any,  # type: ignore[override]
              dim: int, importance_scores: Any = None) -> BasePruningMethod:
        return super().apply(module, name, amount=amount, n=n, dim=dim,
                             importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prunes where a given ``mask`` is 0. PyTorch: ``torch.nn.utils.prune.CustomFromMask``."""

    PRUNING_TYPE = "global"

    def __init__(self, mask: Tensor) -> None:
        self.mask = mask

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        if default_mask.shape != self.mask.shape:
            raise AssertionError(f"default_mask shape {default_mask.shape} must match "
                                 f"self.mask shape {self.mask.shape}")
        result: Tensor = default_mask * self.mask.to(dtype=default_mask.dtype)
        return result

    @classmethod
    def apply(cls, module: Any, name: str, mask: Tensor) -> BasePruningMethod:  # type: ignore[override]
        return super().apply(module, name, mask=mask)


def identity(module: Any, name: str) -> Any:
    """PyTorch equivalent: ``torch.nn.utils.prune.identity``."""
    Identity.apply(module, name)
    return module


def random_unstructured(module: Any, name: str, amount: Any) -> Any:
    """PyTorch equivalent: ``torch.nn.utils.prune.random_unstructured``."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module: Any, name: str, amount: Any, importance_scores: Any = None) -> Any:
    """PyTorch equivalent: ``torch.nn.utils.prune.l1_unstructured``."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module: Any, name: str, amount: Any, dim: int) -> Any:
    """PyTorch equivalent: ``torch.nn.utils.prune.random_structured``."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module: Any, name: str, amount: Any, n: Any, dim: int,
                  importance_scores: Any = None) -> Any:
    """PyTorch equivalent: ``torch.nn.utils.prune.ln_structured``."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module: Any, name: str, mask: Tensor) -> Any:
    """PyTorch equivalent: ``torch.nn.utils.prune.custom_from_mask``."""
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters: Iterable[tuple[Any, str]], pruning_method: Any,
                        importance_scores: dict[Any, Tensor] | None = None,
                        **kwargs: Any) -> None:
    """Prunes the ``(module, name)`` parameters together: ``pruning_method`` (an
    unstructured method's class, with ``kwargs``) ranks all their entries at once.

    PyTorch equivalent: ``torch.nn.utils.prune.global_unstructured``.
    """
    if not isinstance(parameters, Iterable):
        raise TypeError("global_unstructured(): parameters is not an Iterable")
    parameters = list(parameters)
    scores_by = importance_scores if importance_scores is not None else {}
    if not isinstance(scores_by, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict")
    scores = _functions.cat([scores_by.get((m, n), getattr(m, n)).detach().reshape(-1)
                             for m, n in parameters])
    default_mask = _functions.cat([
        getattr(m, n + "_mask").reshape(-1) if hasattr(m, n + "_mask")
        else _functions.ones_like(getattr(m, n)).reshape(-1) for m, n in parameters])
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError(f'Only "unstructured" PRUNING_TYPE supported for the '
                        f"`pruning_method`. Found method {pruning_method} of type "
                        f"{method.PRUNING_TYPE}")
    container = PruningContainer(method)
    final_mask = container.compute_mask(scores, default_mask)
    start = 0
    for module, name in parameters:
        param = getattr(module, name)
        count = param.numel()
        custom_from_mask(module, name, final_mask[start:start + count].view_as(param))
        start += count


def remove(module: Any, name: str) -> Any:
    """Makes the pruning of ``module.<name>`` permanent (see
    :meth:`BasePruningMethod.remove`). PyTorch equivalent: ``torch.nn.utils.prune.remove``.
    """
    for key, hook in _hooks(module).items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning "
                     f"can be removed")


def is_pruned(module: Any) -> bool:
    """Whether ``module`` or a submodule has a pruned parameter. PyTorch equivalent:
    ``torch.nn.utils.prune.is_pruned``."""
    return any(isinstance(hook, BasePruningMethod)
               for _, sub in module.named_modules() for hook in _hooks(sub).values())
