"""Custom autograd functions: a ``Function`` subclass as one ``jax.custom_vjp``.

On the first ``apply`` with a given structure (the class, the input shapes and dtypes,
the non-tensor arguments), ``forward`` runs on placeholder tensors recorded on a private
tape, and so does ``backward`` on placeholders of the saved tensors and the output
gradients; each tape becomes a pure function (``_compiler.build``). The pair is wrapped
in ``jax.custom_vjp`` and recorded as one node of the caller's tape, so the compiled
step runs the user's forward, and jax calls the user's backward when it differentiates
through it. Tensors kept on ``ctx`` (``save_for_backward`` or ``ctx.x = x``) reach
``backward`` as values of the step; other attributes (``ctx.constant = c``) as constants
of that structure.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fnnet.torch import _compiler, _graph
from fnnet.torch._graph import Tape
from fnnet.torch._recorder import current
from fnnet.torch.tensor import Tensor, _op_multi, _wrap_slot


class FunctionCtx:
    """The ``ctx`` of ``forward``/``backward``. PyTorch: ``torch.autograd.function``'s
    ``FunctionCtx``."""

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.needs_input_grad = needs_input_grad
        self.saved_tensors: tuple[Any, ...] = ()
        self._non_differentiable: tuple[Any, ...] = ()

    def save_for_backward(self, *tensors: Any) -> None:
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument "
                                f"{tensors.index(t)} is of type {type(t).__name__}")
        self.saved_tensors = tensors

    def mark_non_differentiable(self, *tensors: Any) -> None:
        self._non_differentiable = tensors

    def mark_dirty(self, *tensors: Any) -> None:
        """Accepted: in-place changes in ``forward`` are recorded like any others."""

    def set_materialize_grads(self, value: bool) -> None:
        """Accepted: output gradients always arrive as tensors (zeros when unused)."""


def _trace(avals: list[tuple[Any, ...]]) -> tuple[list[Tensor], Tape]:
    """Placeholders of ``avals`` on a fresh tape made current; returns them and the
    previous tape (restored by the caller)."""
    previous = current().tape
    _graph.new_tape()
    placeholders = []
    if avals:
        first = _graph.sources([jnp.zeros(a[0], a[1]) for a in avals], tuple(avals))
        placeholders = [_wrap_slot(first + i, a, False) for i, a in enumerate(avals)]
    return placeholders, previous


def _pure(tp: Tape, n_inputs: int, wanted: list[int]) -> Callable[..., list[Any]]:
    """``f(*input values) -> [wanted values]``, constants captured on ``tp`` baked in."""
    run = _compiler.build(tp, tuple(wanted))
    constants = list(tp.srcs[n_inputs:])
    return lambda *values: run(*values, *constants)


def _flat(out: Any) -> tuple[list[Tensor], bool]:
    if isinstance(out, Tensor):
        return [out], True
    if isinstance(out, (tuple, list)) and out and all(isinstance(o, Tensor) for o in out):
        return list(out), False
    raise TypeError("fnnet.torch: Function.forward must return a Tensor or a tuple of "
                    f"Tensors, got {type(out).__name__}")


def _unread(tp: Tape, cls: type, method: str) -> None:
    """Programs print or branch on tensors inside ``forward``/``backward``; here
    those run once on placeholders, and reading one flushes the tape (the recorder
    moved to another): say so rather than fail later on the outputs."""
    if current().tape is not tp:
        raise NotImplementedError(
            f"fnnet.torch: {cls.__name__}.{method} read a tensor's value (print, .item(), "
            f".tolist(), a Python if on a tensor); fnnet traces {method} once per input "
            f"structure on placeholder tensors, where values do not exist yet: compute "
            f"with tensor operations (torch.where for branches) and print outside the "
            f"Function")


def _slot(tp: Tape, t: Tensor) -> int:
    cell = t._cell
    if cell.tape is not tp:
        raise NotImplementedError(
            "fnnet.torch: a tensor that Function.forward returns or saves must be computed "
            "from its inputs (or created) inside forward; save other tensors' values "
            "as ctx attributes of plain numbers")
    return cell.ref


class _Compiled:
    """The custom_vjp function of one structure, with what apply needs to call it."""

    def __init__(self, cls: type[Function], spec: tuple[Any, ...], args: tuple[Any, ...]) -> None:
        tensor_pos = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        in_avals = [args[i]._cell.aval for i in tensor_pos]
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx = FunctionCtx(needs)
        recorder = current()
        previous_grad = recorder.grad_enabled
        recorder.grad_enabled = False
        try:
            placeholders, previous = _trace(in_avals)
            try:
                call_args = list(args)
                for i, p in zip(tensor_pos, placeholders, strict=True):
                    call_args[i] = p
                traced = current().tape
                out = _call_forward(cls, ctx, call_args)
                _unread(traced, cls, "forward")
                outs, single = _flat(out)
                saved = [t for t in ctx.saved_tensors if t is not None]
                # tensors kept as ctx attributes (ctx.x = x) are saved tensors too
                attrs = [k for k, v in vars(ctx).items()
                         if isinstance(v, Tensor) and k != "saved_tensors"]
                n_listed = len(saved)
                saved += [getattr(ctx, k) for k in attrs]
                fwd_tape = recorder.tape
                out_slots = [_slot(fwd_tape, t) for t in outs]
                saved_slots = [_slot(fwd_tape, t) for t in saved]
                out_avals = [t._cell.aval for t in outs]
                saved_avals = [t._cell.aval for t in saved]
                forward = _pure(fwd_tape, len(in_avals), out_slots + saved_slots)
                # backward on placeholders of the saved tensors and output gradients
                holders, _ = _trace(saved_avals + out_avals)
                bwd_tape = recorder.tape
                saved_iter = iter(holders[:n_listed])
                ctx.saved_tensors = tuple(None if t is None else next(saved_iter)
                                          for t in ctx.saved_tensors)
                for k, holder in zip(attrs, holders[n_listed:len(saved)], strict=True):
                    setattr(ctx, k, holder)
                grads = cls.backward(ctx, *holders[len(saved):])
                _unread(bwd_tape, cls, "backward")
                grads = list(grads) if isinstance(grads, (tuple, list)) else [grads]
                if len(grads) < len(args):
                    grads += [None] * (len(args) - len(grads))
                if len(grads) > len(args) and all(g is None for g in grads[len(args):]):
                    grads = grads[:len(args)]  # PyTorch ignores extra None gradients
                if len(grads) != len(args):
                    raise RuntimeError(f"function {cls.__name__}Backward returned an "
                                       f"incorrect number of gradients (expected "
                                       f"{len(args)}, got {len(grads)})")
                kept = [i for i in tensor_pos if isinstance(grads[i], Tensor)]
                grad_slots = [_slot(bwd_tape, grads[i]) for i in kept]
                backward = _pure(bwd_tape, len(holders), grad_slots)
            finally:
                recorder.tape = previous
        finally:
            recorder.grad_enabled = previous_grad
        n_out = len(outs)
        kept_index = [tensor_pos.index(i) for i in kept]

        @jax.custom_vjp
        def f(*xs: Any) -> tuple[Any, ...]:
            return tuple(forward(*xs)[:n_out])

        def f_fwd(*xs: Any) -> tuple[Any, ...]:
            values = forward(*xs)
            return tuple(values[:n_out]), (tuple(values[n_out:]), xs)

        def f_bwd(res: tuple[Any, ...], cotangents: tuple[Any, ...]) -> tuple[Any, ...]:
            saved_values, xs = res
            found = backward(*saved_values, *cotangents)
            out = [jnp.zeros_like(x) if jnp.issubdtype(x.dtype, jnp.inexact)
                   else np.zeros(x.shape, jax.dtypes.float0) for x in xs]
            for j, value in zip(kept_index, found, strict=True):
                out[j] = jnp.broadcast_to(jnp.asarray(value, xs[j].dtype), xs[j].shape)
            return tuple(out)

        f.defvjp(f_fwd, f_bwd)
        self.op = _custom_op(f, cls.__name__)
        self.tensor_pos, self.single, self.n_out = tensor_pos, single, n_out
        self.spec = spec


def _custom_op(f: Callable[..., tuple[Any, ...]], name: str) -> Callable[..., tuple[Any, ...]]:
    def op(*xs: Any) -> tuple[Any, ...]:
        return f(*xs)

    op.__name__ = "CustomFunction"
    op.grad_fn_name = f"{name}Backward"  # type: ignore[attr-defined] # as PyTorch's node
    return op


def _call_forward(cls: type[Function], ctx: FunctionCtx, args: list[Any]) -> Any:
    if _has_setup_context(cls):
        out = cls.forward(*args)
        cls.setup_context(ctx, tuple(args), out)
        return out
    return cls.forward(ctx, *args)


def _has_setup_context(cls: type[Function]) -> bool:
    return cls.setup_context is not Function.setup_context


def _key(value: Any) -> Any:
    if isinstance(value, Tensor):
        return ("T", value._cell.aval, value.requires_grad)
    try:
        hash(value)
    except TypeError:
        return ("id", id(value))
    return (type(value).__name__, value)


class Function:
    """Base of custom autograd functions: subclasses define static ``forward(ctx,
    *args)`` and ``backward(ctx, *grad_outputs)`` and are called with ``apply``.

    Example::

        class Square(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, grad_out):
                (x,) = ctx.saved_tensors
                return 2 * x * grad_out

        y = Square.apply(w)

    ``forward`` and ``backward`` are traced once for each kind of arguments (the tensors'
    shapes and dtypes, the other arguments' values), not run at every call: what they do
    besides computing (a print, a counter, a ``raise`` on a global flag) happens at the
    first call of each kind only.

    PyTorch equivalent: ``torch.autograd.Function``.
    """

    _compiled: dict[tuple[Any, ...], _Compiled]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._compiled = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        del args, kwargs
        warnings.warn(f"{type(self)} should not be instantiated. Methods on autograd "
                      f"functions are all static, so you should invoke them on the class "
                      f"itself. Instantiating an autograd function will raise an error in a "
                      f"future version of PyTorch.", DeprecationWarning, stacklevel=2)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # old code's `MyFunction()(x)`: PyTorch refuses it with these words
        raise RuntimeError("Legacy autograd function with non-static forward method is "
                           "deprecated. Please use new-style autograd function with static "
                           "forward method. (Example: "
                           "https://pytorch.org/docs/stable/autograd.html#torch.autograd."
                           "Function)")

    @staticmethod
    def forward(ctx: Any, *args: Any) -> Any:
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError("You must implement either the backward or vjp method "
                                  "for your custom autograd.Function to use it with "
                                  "backward mode AD.")

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Any) -> None:
        return None

    vjp = backward

    @classmethod
    def apply(cls, *args: Any) -> Any:
        spec = tuple(_key(a) for a in args)
        compiled = cls._compiled.get(spec)
        if compiled is None:
            compiled = _Compiled(cls, spec, args)
            cls._compiled[spec] = compiled
        inputs = [args[i] for i in compiled.tensor_pos]
        outs = _op_multi(compiled.op, (), *inputs, who=cls.__name__)
        return outs[0] if compiled.single else tuple(outs)


def once_differentiable(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Accepted: a backward here is never differentiated again."""
    return fn

