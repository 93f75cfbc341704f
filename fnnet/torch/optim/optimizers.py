"""SGD, Adagrad, RMSprop, the Adam family, Adadelta, Rprop, ASGD, Muon and Adafactor:
PyTorch's signatures over ``fnnet.optim``."""

from __future__ import annotations

from typing import Any

import numpy as np

import fnnet.optim as fopt
from fnnet.torch._sparse_gradients import is_sparse as is_sparse_gradient
from fnnet.torch.optim.optimizer import Optimizer, ParamsT, check_tensor_lr
from fnnet.torch.tensor import Tensor


def _unsupported(name: str, **flags: Any) -> None:
    for key, value in flags.items():
        if value:
            raise NotImplementedError(f"fnnet.torch: {name}({key}=True) is not supported")


class SGD(Optimizer):
    """PyTorch equivalent: ``torch.optim.SGD`` (update rule: ``fnnet.optim.SGD``)."""

    _factory = staticmethod(fopt.SGD)
    _names = ("momentum", "dampening", "weight_decay", "nesterov", "maximize")

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False,
                 *, maximize: bool = False, foreach: Any = None, differentiable: bool = False,
                 fused: Any = None) -> None:
        _unsupported("SGD", differentiable=differentiable)
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    def _param_state(self, p: Tensor) -> dict[str, Tensor]:
        state = super()._param_state(p)
        state.pop("step", None)  # PyTorch's SGD counts no steps
        return state

    def _check_gradient(self, p: Tensor, group: dict[str, Any]) -> None:
        # a sparse gradient takes SGD's step as the dense one would, but for weight decay,
        # whose grad.add(param) PyTorch cannot compute
        if group["weight_decay"] != 0 and is_sparse_gradient(p):
            raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) "
                               "instead.")


class Adam(Optimizer):
    """PyTorch equivalent: ``torch.optim.Adam`` (update rule: ``fnnet.optim.Adam``)."""

    _factory: Any = staticmethod(fopt.Adam)  # AdamW's has another signature
    _names: tuple[str, ...] = ("betas", "eps", "weight_decay", "amsgrad", "maximize",
                               "decoupled_weight_decay")
    _sparse_error = ("Adam does not support sparse gradients, please consider SparseAdam "
                     "instead")  # AdamW's words too

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: Any = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: Any = None,
                 decoupled_weight_decay: bool = False) -> None:
        _unsupported(type(self).__name__, differentiable=differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable,
                                      fused=fused, decoupled_weight_decay=bool(
                                          decoupled_weight_decay or type(self) is AdamW)))


class AdamW(Adam):
    """PyTorch equivalent: ``torch.optim.AdamW`` (update rule: ``fnnet.optim.AdamW``)."""

    _factory = staticmethod(fopt.AdamW)
    _names = Adam._names[:-1]  # AdamW's rule is the decoupled one

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: Any = None, capturable: bool = False,
                 differentiable: bool = False, fused: Any = None) -> None:
        # PyTorch's own signature, without Adam's decoupled_weight_decay: programs read
        # it (`"fused" in inspect.signature(torch.optim.AdamW).parameters`).
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused)


class Adagrad(Optimizer):
    """PyTorch equivalent: ``torch.optim.Adagrad`` (update rule: ``fnnet.optim.Adagrad``)."""

    _factory = staticmethod(fopt.Adagrad)
    _names = ("lr_decay", "weight_decay", "initial_accumulator_value", "eps", "maximize")

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: Any = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: Any = None) -> None:
        _unsupported("Adagrad", differentiable=differentiable)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps,
                                      weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, fused=fused))
        for group in self.param_groups:  # PyTorch's Adagrad has its state before a step
            for p in group["params"]:
                self._state[id(p)] = self._new_state(p, group)


class SparseAdam(Optimizer):
    """Adam on the rows of an ``Embedding(sparse=True)`` table that a step looked up,
    the others left as they are (their moments too); every parameter must be such a
    table's, as in PyTorch.

    PyTorch equivalent: ``torch.optim.SparseAdam`` (update rule:
    ``fnnet.optim.SparseAdam``).
    """

    _factory = staticmethod(fopt.SparseAdam)
    _names = ("betas", "eps", "maximize")

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))

    def _param_state(self, p: Tensor) -> dict[str, Tensor]:
        state: dict[str, Any] = super()._param_state(p)
        if "step" in state:  # PyTorch's SparseAdam counts in a Python int
            state["step"] = int(state["step"].item())
        return state

    def _check_gradient(self, p: Tensor, group: dict[str, Any]) -> None:
        del group
        if not is_sparse_gradient(p):
            raise RuntimeError("SparseAdam does not support dense gradients, please consider "
                               "Adam instead")


class RMSprop(Optimizer):
    """PyTorch equivalent: ``torch.optim.RMSprop`` (update rule: ``fnnet.optim.RMSprop``)."""

    _factory = staticmethod(fopt.RMSprop)
    _names = ("alpha", "eps", "weight_decay", "momentum", "centered", "maximize")

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach: Any = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _unsupported("RMSprop", differentiable=differentiable)
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps,
                                      centered=centered, weight_decay=weight_decay,
                                      capturable=capturable, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable))


class Adadelta(Optimizer):
    """PyTorch equivalent: ``torch.optim.Adadelta`` (rule: ``fnnet.optim.Adadelta``)."""

    _factory = staticmethod(fopt.Adadelta)
    _names = ("rho", "eps", "weight_decay", "maximize")

    def __init__(self, params: ParamsT, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: Any = None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False) -> None:
        _unsupported("Adadelta", differentiable=differentiable)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, capturable=capturable,
                                      foreach=foreach, differentiable=differentiable))


class Adamax(Optimizer):
    """PyTorch equivalent: ``torch.optim.Adamax`` (rule: ``fnnet.optim.Adamax``)."""

    _factory = staticmethod(fopt.Adamax)
    _names = ("betas", "eps", "weight_decay", "maximize")

    def __init__(self, params: ParamsT, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, foreach: Any = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        _unsupported("Adamax", differentiable=differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))


class NAdam(Optimizer):
    """PyTorch equivalent: ``torch.optim.NAdam`` (rule: ``fnnet.optim.NAdam``)."""

    _factory = staticmethod(fopt.NAdam)
    _names = ("betas", "eps", "weight_decay", "momentum_decay", "decoupled_weight_decay",
              "maximize")

    def __init__(self, params: ParamsT, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: Any = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _unsupported("NAdam", differentiable=differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable))


class RAdam(Optimizer):
    """PyTorch equivalent: ``torch.optim.RAdam`` (rule: ``fnnet.optim.RAdam``)."""

    _factory = staticmethod(fopt.RAdam)
    _names = ("betas", "eps", "weight_decay", "decoupled_weight_decay", "maximize")

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0,
                 decoupled_weight_decay: bool = False, *, foreach: Any = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _unsupported("RAdam", differentiable=differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, maximize=maximize,
                                      foreach=foreach, capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      differentiable=differentiable))


class Rprop(Optimizer):
    """PyTorch equivalent: ``torch.optim.Rprop`` (rule: ``fnnet.optim.Rprop``)."""

    _factory = staticmethod(fopt.Rprop)
    _names = ("etas", "step_sizes", "maximize")

    def __init__(self, params: ParamsT, lr: float = 1e-2,
                 etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: Any = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _unsupported("Rprop", differentiable=differentiable)
        check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        super().__init__(params, dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes),
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, capturable=capturable))


class ASGD(Optimizer):
    """PyTorch equivalent: ``torch.optim.ASGD`` (rule: ``fnnet.optim.ASGD``)."""

    _factory = staticmethod(fopt.ASGD)
    _names = ("lambd", "alpha", "t0", "weight_decay", "maximize")

    def __init__(self, params: ParamsT, lr: float = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0,
                 foreach: Any = None, maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        _unsupported("ASGD", differentiable=differentiable)
        check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))


class Muon(Optimizer):
    """PyTorch equivalent: ``torch.optim.Muon`` (rule: ``fnnet.optim.Muon``). For matrix
    parameters only: give biases and embeddings another optimizer, as in PyTorch."""

    _factory = staticmethod(fopt.Muon)
    _names = ("weight_decay", "momentum", "nesterov", "ns_coefficients", "eps", "ns_steps",
              "adjust_lr_fn")

    def __init__(self, params: ParamsT, lr: float = 1e-3, weight_decay: float = 0.1,
                 momentum: float = 0.95, nesterov: bool = True,
                 ns_coefficients: tuple[float, float, float] = fopt.muon.NS_COEFFICIENTS,
                 eps: float = fopt.muon.EPS, ns_steps: int = fopt.muon.NS_STEPS,
                 adjust_lr_fn: str | None = None) -> None:
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum,
                                      nesterov=nesterov, ns_coefficients=tuple(ns_coefficients),
                                      eps=eps, ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn))
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(f"Muon only supports 2D parameters whereas we found a "
                                     f"parameter with size: {p.size()}")

    def _param_state(self, p: Tensor) -> dict[str, Tensor]:
        state = super()._param_state(p)
        state.pop("step", None)  # PyTorch's Muon counts no steps
        return state


class Adafactor(Optimizer):
    """PyTorch equivalent: ``torch.optim.Adafactor`` (rule: ``fnnet.optim.Adafactor``)."""

    _factory = staticmethod(fopt.Adafactor)
    _names = ("beta2_decay", "eps", "d", "weight_decay", "maximize")

    def __init__(self, params: ParamsT, lr: float = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0,
                 weight_decay: float = 0.0, *, foreach: bool | None = None,
                 maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=tuple(eps), d=d,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize))

    def _param_state(self, p: Tensor) -> dict[str, Tensor]:
        state = super()._param_state(p)
        for name in _ADAFACTOR_UNUSED[p.ndim > 1]:  # PyTorch keeps only what p uses
            state.pop(name, None)
        return state

    def _loaded_entry(self, p: Tensor, group: dict[str, Any], index: Any, entry: Any,
                      errors: list[str]) -> Any:
        if isinstance(entry, dict) and entry:
            # the state p does not use, as fnnet.optim keeps it: empty
            entry = {**{name: np.zeros(fopt.adafactor.UNUSED, np.float32)
                        for name in _ADAFACTOR_UNUSED[p.ndim > 1]}, **entry}
        return super()._loaded_entry(p, group, index, entry, errors)


#: the state names an Adafactor parameter does not keep, by whether it is factored
_ADAFACTOR_UNUSED = {False: ("row_var", "col_var"), True: ("variance",)}
