"""``torch.func``: functional_call, grad, vmap, vjp, jvp and the Jacobians, over fnnet.torch
code.

PyTorch's function transforms, as its tutorials use them (per-sample gradients:
``vmap(grad(loss), in_dims=(None, None, 0, 0))(params, buffers, x, y)`` with
``functional_call(model, (params, buffers), (x,))`` inside). ``grad`` differentiates
with fnnet.torch's autograd; ``vmap`` calls the function once per index of the mapped
dimension and stacks the results, which gives PyTorch's values for functions without
side effects (the same rule as PyTorch's: no data-dependent control flow on batched
values is assumed) at the cost of one recorded call per example.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from fnnet.torch.autograd import functional as _functional
from fnnet.torch.autograd.grad import grad as _autograd_grad
from fnnet.torch.tensor import Tensor, Unsupported

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp",
           "linearize", "stack_module_state", "vjp", "vmap"]


# -- pytrees of tensors -----------------------------------------------------------------
def _leaves(tree: Any) -> list[Any]:
    if isinstance(tree, Mapping):
        return [leaf for value in tree.values() for leaf in _leaves(value)]
    if isinstance(tree, (list, tuple)):
        return [leaf for value in tree for leaf in _leaves(value)]
    return [tree]


def _map(fn: Callable[[Any], Any], tree: Any) -> Any:
    if isinstance(tree, Mapping):
        mapped = {k: _map(fn, v) for k, v in tree.items()}
        return mapped if type(tree) is dict else type(tree)(mapped.items())  # type: ignore[call-arg]
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):  # a namedtuple
        return type(tree)(*(_map(fn, v) for v in tree))
    if isinstance(tree, (list, tuple)):
        return type(tree)(_map(fn, v) for v in tree)
    return fn(tree)


def _zip_map(fn: Callable[..., Any], first: Any, *rest: Any) -> Any:
    """``fn`` over the leaves of trees of one structure (the results of each call)."""
    if isinstance(first, Mapping):
        return {k: _zip_map(fn, first[k], *(r[k] for r in rest)) for k in first}
    if isinstance(first, (list, tuple)):
        items = [_zip_map(fn, *parts) for parts in zip(first, *rest, strict=True)]
        return type(first)(*items) if hasattr(first, "_fields") else type(first)(items)
    return fn(first, *rest)


def _reaches_outside(outputs: Any, inside: list[Tensor]) -> bool:
    """Whether a tensor of ``outputs`` depends on a tensor that requires grad other than
    ``inside`` (the transform's own leaves): a model's parameters the function closes
    over. PyTorch's transforms then leave their results differentiable by them (a
    Jacobian penalty, a physics-informed loss); otherwise the results are detached."""
    from fnnet.torch._autograd import region
    from fnnet.torch._recorder import current
    from fnnet.torch._tape import ref

    tp = current().tape
    own = {t._cell.ref for t in inside if t._cell.tape is tp}
    for out in _leaves(outputs):
        cell = getattr(out, "_cell", None)
        if cell is None or not out.requires_grad or cell.tape is not tp or cell.ref < 0:
            continue
        try:
            _, leaves = region(tp, ref(cell.ref, out._kind))
        except RuntimeError:  # a graph already run: nothing to differentiate
            continue
        if any(slot not in own for slot in leaves):
            return True
    return False


def _detached(tree: Any) -> Any:
    return _map(lambda t: t.detach() if isinstance(t, Tensor) else t, tree)


# -- functional_call -----------------------------------------------------------------------
_NOTHING = object()


@contextlib.contextmanager
def _swapped(module: Any, values: dict[str, Any]) -> Iterator[None]:
    """``module``'s parameters and buffers named in ``values`` replaced by them for the
    block, and put back after."""
    from fnnet.torch.nn.utils.parametrize import is_parametrized

    undo = []
    owners = dict(module.named_modules(remove_duplicate=False))
    try:
        for name, value in values.items():
            path, _, leaf = name.rpartition(".")
            owner = owners.get(path)
            if owner is None:
                continue
            if is_parametrized(owner, leaf):
                # the value of a parametrized tensor itself: the parametrization is off
                # for the call, as PyTorch's (its originals are named
                # 'parametrizations.<name>.original')
                given = owner.__dict__.setdefault("_fnnet_given", {})
                undo.append((owner, given, leaf, given.get(leaf, _NOTHING)))
                given[leaf] = value
                continue
            for table in (owner._parameters, owner._buffers):
                if leaf in table:
                    undo.append((owner, table, leaf, table[leaf]))
                    table[leaf] = value
                    object.__setattr__(owner, leaf, value)
                    break
        yield
    finally:
        for owner, table, leaf, old in reversed(undo):
            if table is owner.__dict__.get("_fnnet_given"):
                if old is _NOTHING:
                    del table[leaf]
                else:
                    table[leaf] = old
                if not table:
                    del owner.__dict__["_fnnet_given"]
                continue
            table[leaf] = old
            object.__setattr__(owner, leaf, old)


def functional_call(module: Any, parameter_and_buffer_dicts: Any, args: Any = None,
                    kwargs: dict[str, Any] | None = None, *, tie_weights: bool = True,
                    strict: bool = False) -> Any:
    """Calls ``module`` with the tensors of ``parameter_and_buffer_dicts`` (a dict, or a
    tuple of dicts, by ``state_dict`` names) in place of its own, which come back after.

    PyTorch equivalent: ``torch.func.functional_call``.
    """
    del tie_weights
    dicts = parameter_and_buffer_dicts if isinstance(parameter_and_buffer_dicts,
                                                     (list, tuple)) \
        else (parameter_and_buffer_dicts,)
    merged: dict[str, Any] = {}
    for d in dicts:
        repeated = sorted(set(merged) & set(d))
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of "
                             f"functional call is ambiguous")
        merged.update(d)
    if strict:
        known = {n for n, _ in module.named_parameters()} | \
            {n for n, _ in module.named_buffers()}
        missing, unexpected = sorted(known - set(merged)), sorted(set(merged) - known)
        if missing or unexpected:
            parts = ([f"Unexpected key(s): {', '.join(map(repr, unexpected))}."]
                     if unexpected else []) + \
                ([f"Missing key(s): {', '.join(map(repr, missing))}."] if missing else [])
            raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:"
                               f"\n\t" + "\n\t".join(parts))
    args = () if args is None else args if isinstance(args, tuple) else (args,)
    with _swapped(module, merged):
        return module(*args, **(kwargs or {}))


def _stacked_leaf(tensors: tuple[Tensor, ...], name: str) -> Tensor:
    from fnnet.torch._functions import stack

    needs = {t.requires_grad for t in tensors}
    if len(needs) > 1:
        raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
    result = stack(tensors)
    return result.detach().requires_grad_() if needs == {True} else result


def stack_module_state(models: Any) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """The parameters and buffers of same-class ``models`` stacked along a new first
    dimension (new leaves, for training an ensemble with ``vmap`` and
    :func:`functional_call`): ``{name: [len(models), *shape]}`` each.

    PyTorch equivalent: ``torch.func.stack_module_state``.
    """
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if len({m.training for m in models}) > 1:
        raise RuntimeError("stack_module_state: Expected all models to have the same "
                           "training/eval mode.")
    if len({type(m) for m in models}) > 1:
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    stacked = []
    for named in ("named_parameters", "named_buffers"):
        every = [dict(getattr(m, named)()) for m in models]
        stacked.append({k: _stacked_leaf(tuple(d[k] for d in every), k) for k in every[0]})
    return stacked[0], stacked[1]


# -- grad ---------------------------------------------------------------------------------
def _argnums(argnums: Any, count: int, who: str) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for n in nums:
        if not isinstance(n, int) or not -count <= n < count:
            raise RuntimeError(f"{who}: Got argnums={argnums}, but only {count} positional "
                               f"inputs")
    return tuple(n % count for n in nums)


def grad_and_value(func: Callable[..., Any], argnums: Any = 0, has_aux: bool = False
                   ) -> Callable[..., Any]:
    """``f -> (gradient, value)`` of a function returning a scalar tensor (and an
    auxiliary value with ``has_aux``), by the arguments ``argnums`` (tensors or dicts,
    lists and tuples of them).

    PyTorch equivalent: ``torch.func.grad_and_value``.
    """

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums(argnums, len(args), "grad_and_value(f)(*args)")
        outer = any(isinstance(leaf, Tensor) and leaf.requires_grad
                    for n in nums for leaf in _leaves(args[n]))
        # fresh leaves, unless a transform outside this one differentiates through it:
        # then the arguments themselves, the gradient a function of them
        diff = {n: args[n] if outer else _map(
            lambda t: t.detach().requires_grad_() if isinstance(t, Tensor) else t, args[n])
            for n in nums}
        called = [diff.get(i, a) for i, a in enumerate(args)]
        from fnnet.torch import enable_grad, is_grad_enabled

        grad_mode = is_grad_enabled()
        with enable_grad():
            result = func(*called, **kwargs)
        aux = None
        if has_aux:
            if not (isinstance(result, tuple) and len(result) == 2):
                raise RuntimeError("grad_and_value(f)(*args): output of function f should "
                                   "be a tuple: (output, aux) if has_aux is True")
            result, aux = result
        if not isinstance(result, Tensor) or result.dim() != 0:
            dims = result.dim() if isinstance(result, Tensor) else None
            raise RuntimeError(
                f"grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, "
                f"got tensor with {dims} dims. Maybe you wanted to use the vjp or jacrev "
                f"APIs instead?")
        leaves = [leaf for n in nums for leaf in _leaves(diff[n]) if isinstance(leaf, Tensor)]
        keep = outer or (grad_mode and _reaches_outside(result, leaves))
        found = _autograd_grad(result, leaves, create_graph=keep, allow_unused=True,
                               materialize_grads=True)
        if keep and not outer and not _reaches_outside(found, leaves):
            found, keep = _detached(list(found)), False
        grads = iter(found)
        trees = [_map(lambda t: next(grads) if isinstance(t, Tensor) else t, diff[n])
                 for n in nums]
        grad_out = trees[0] if isinstance(argnums, int) else tuple(trees)
        if not keep:  # what the function returned, off the graph, as PyTorch's
            result, aux = result.detach(), _detached(aux)
        return (grad_out, (result, aux)) if has_aux else (grad_out, result)

    return wrapper


def grad(func: Callable[..., Any], argnums: Any = 0, has_aux: bool = False
         ) -> Callable[..., Any]:
    """``f -> gradient`` of a function returning a scalar tensor (with ``has_aux``,
    ``(gradient, aux)``).

    PyTorch equivalent: ``torch.func.grad``.
    """
    both = grad_and_value(func, argnums, has_aux)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        gradient, value = both(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient

    return wrapper


def _select(tree: Any, dim: int, index: int) -> Any:
    """Entry ``index`` of dimension ``dim`` of each tensor of ``tree``."""
    return _map(lambda t: t.select(dim, index), tree)


# -- vjp and jvp --------------------------------------------------------------------------
class _Leaf:
    """A leaf of a pytree as PyTorch's structure messages print it."""

    def __repr__(self) -> str:
        return "*"


def _structure(tree: Any) -> str:
    """PyTorch's ``treespec_pprint``: the tree with each tensor printed as ``*``."""
    return repr(_map(lambda _: _Leaf(), tree))


def _spec(tree: Any, indent: int = 0) -> str:
    """``repr`` of PyTorch's ``TreeSpec`` of ``tree`` (tuples, lists and dicts)."""
    if isinstance(tree, Mapping):
        kind, context, children = type(tree).__name__, list(tree), list(tree.values())
    elif isinstance(tree, (list, tuple)):
        kind, context, children = type(tree).__name__, None, list(tree)
    else:
        return "*"
    inner = [_spec(child, indent + 2) for child in children]
    joined = inner[0] + ("," if len(inner) > 1 else "") + ",".join(
        "\n" + " " * (indent + 2) + text for text in inner[1:]) if inner else ""
    return f"TreeSpec({kind}, {context}, [{joined}])"


def _check_primals(primals: Any) -> None:
    for leaf in _leaves(primals):
        if not isinstance(leaf, Tensor):
            raise ValueError(f"Thing passed to transform API must be Tensor, got "
                             f"{type(leaf)}")


def _split_aux(result: Any, has_aux: bool, who: str) -> tuple[Any, Any]:
    if not has_aux:
        return result, None
    if not (isinstance(result, tuple) and len(result) == 2):
        raise RuntimeError(f"{who}: output of function f should be a tuple: (output, aux) if "
                           f"has_aux is True")
    return result


def vjp(func: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple[Any, ...]:
    """``(func(*primals), vjp_fn)``, where ``vjp_fn(cotangents)`` is the tuple of
    ``cotangents^T J`` by each primal (``cotangents`` shaped as the output); with
    ``has_aux``, ``func`` returns ``(output, aux)`` and ``aux`` comes third.

    Raises:
        ValueError: a primal is not a tensor.
        RuntimeError: ``func`` returns something other than tensors (or no
            ``(output, aux)`` pair with ``has_aux``); ``vjp_fn`` gets cotangents of
            another structure or shape than the output (PyTorch's words).

    PyTorch equivalent: ``torch.func.vjp``.
    """
    _check_primals(primals)
    outer = any(leaf.requires_grad for leaf in _leaves(primals))
    diff = primals if outer else _map(lambda t: t.detach().requires_grad_(), primals)
    from fnnet.torch import enable_grad, is_grad_enabled

    grad_mode = is_grad_enabled()
    with enable_grad():
        result, aux = _split_aux(func(*diff), has_aux, "vjp(f, *primals)")
    for leaf in _leaves(result):
        if not isinstance(leaf, Tensor):
            raise RuntimeError(f"vjp(f, *primals): expected f(*primals) to return only "
                               f"tensors, got unsupported type {type(leaf)}")
    outputs, leaves = _leaves(result), _leaves(diff)
    outer = outer or (grad_mode and _reaches_outside(result, leaves))

    def vjp_fn(cotangents: Any) -> tuple[Any, ...]:
        if _structure(cotangents) != _structure(result):
            raise RuntimeError(f"Expected pytree structure of cotangents to be the same as "
                               f"pytree structure of outputs to the function. cotangents: "
                               f"{_structure(cotangents)}, primal output: "
                               f"{_structure(result)}")
        pairs = [(out, cot) for out, cot in zip(outputs, _leaves(cotangents), strict=True)
                 if out.requires_grad]
        for i, (out, cot) in enumerate(zip(outputs, _leaves(cotangents), strict=True)):
            if tuple(cot.shape) != tuple(out.shape):
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                                   f"{cot.shape} and output[{i}] has a shape of "
                                   f"{out.shape}.")
        if pairs:
            # a transform, as in PyTorch: an outer no_grad does not reach inside it
            with enable_grad():
                grads = iter(_autograd_grad([o for o, _ in pairs], leaves,
                                            grad_outputs=[c for _, c in pairs],
                                            retain_graph=True, create_graph=outer,
                                            allow_unused=True, materialize_grads=True))
        else:
            grads = iter([leaf.detach() * 0 for leaf in leaves])
        return tuple(_map(lambda _: next(grads), primal) for primal in diff)

    output = result if outer else _detached(result)
    if has_aux:
        return output, vjp_fn, (aux if outer else _detached(aux))
    return output, vjp_fn


def jvp(func: Callable[..., Any], primals: Any, tangents: Any, *, strict: bool = False,
        has_aux: bool = False) -> tuple[Any, ...]:
    """``(func(*primals), J @ tangents)``: the output and its derivative along
    ``tangents`` (a tuple of one tensor per primal); with ``has_aux``, ``func`` returns
    ``(output, aux)`` and ``aux`` comes third.

    Raises:
        RuntimeError: ``primals`` is not a tuple, or ``tangents`` is not one of the same
            structure and shapes (PyTorch's words).

    PyTorch equivalent: ``torch.func.jvp``.
    """
    del strict
    if not isinstance(primals, tuple):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals to be a tuple. E.g. "
                           "it should be valid to call f(*primals).")
    if _spec(primals) != _spec(tangents):
        raise RuntimeError(f"jvp(f, primals, tangents): Expected primals and tangents to have "
                           f"the same python structure. For example, if primals is a tuple of "
                           f"3 tensors, tangents also must be. Got primals with structure "
                           f"{_spec(primals)} and tangents with structure {_spec(tangents)}")
    _check_primals(primals)
    for primal, tangent in zip(_leaves(primals), _leaves(tangents), strict=True):
        if tuple(primal.shape) != tuple(tangent.shape):
            raise RuntimeError(f"Trying to set a forward gradient that has a different size "
                               f"than that of the original Tensor, this is not supported. "
                               f"Tensor is of size {list(primal.shape)} while the given "
                               f"forward gradient is of size {list(tangent.shape)}.")
    aux: list[Any] = []

    def output_only(*args: Any) -> Any:
        result, extra = _split_aux(func(*args), has_aux, "jvp(f, primals, tangents)")
        aux.append(extra)
        return result

    full, _, outer, grad_mode = _differentiable(primals, tuple(range(len(primals))))
    from fnnet.torch import enable_grad

    with enable_grad():  # a transform: an outer no_grad does not reach inside it
        output, derivative = _functional.jvp(output_only, tuple(full), tangents,
                                             create_graph=grad_mode)
    keep = grad_mode and (outer or _reaches_outside(derivative, full))
    if not keep:
        output, derivative = _detached(output), _detached(derivative)
    if has_aux:
        return output, derivative, aux[0] if keep else _detached(aux[0])
    return output, derivative



def linearize(func: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[..., Any]]:
    """``(func(*primals), jvp_fn)``, where ``jvp_fn(*tangents)`` is ``func``'s derivative
    at ``primals`` along ``tangents`` (one tensor per primal), as :func:`jvp` computes it.

    PyTorch equivalent: ``torch.func.linearize``.
    """
    output, _ = jvp(func, primals, tuple(_map(lambda t: t.detach() * 0, primals)))

    def jvp_fn(*tangents: Any) -> Any:
        return jvp(func, primals, tangents)[1]

    return output, jvp_fn

# -- vmap ---------------------------------------------------------------------------------
def _name(func: Any) -> str:
    return getattr(func, "__name__", type(func).__name__)


def vmap(func: Callable[..., Any], in_dims: Any = 0, out_dims: Any = 0,
         randomness: str = "error", *, chunk_size: int | None = None) -> Callable[..., Any]:
    """``func`` mapped over dimension ``in_dims`` of its arguments (an int or None for
    each argument, or a tuple of them), the results stacked along ``out_dims``.

    PyTorch equivalent: ``torch.func.vmap``.
    """
    del randomness, chunk_size

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        head = f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>)"
        if isinstance(in_dims, int):
            dims: tuple[Any, ...] = (in_dims,) * len(args)
        elif isinstance(in_dims, tuple):
            if len(in_dims) != len(args):
                raise ValueError(f"{head}: in_dims is not compatible with the structure of "
                                 f"`inputs`. in_dims has {len(in_dims)} entries but inputs "
                                 f"has {len(args)}.")
            dims = in_dims
        else:
            raise ValueError(f"{head}: expected `in_dims` to be int or a (potentially nested) "
                             f"tuple matching the structure of inputs, got: "
                             f"{type(in_dims)}.")
        sizes = []
        for arg, dim in zip(args, dims, strict=True):
            if dim is None:
                continue
            for leaf in _leaves(arg):
                if not isinstance(leaf, Tensor):
                    raise ValueError(f"{head}: Got in_dim={dim} for an input but the input "
                                     f"is of type {type(leaf)}. We cannot vmap over "
                                     f"non-Tensor arguments, please use None as the "
                                     f"respective in_dim")
                sizes.append(leaf.size(dim))
        if not sizes:
            raise ValueError(f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): at "
                             f"least one input must be batched (in_dims is not None for "
                             f"some Tensor)")
        if len(set(sizes)) > 1:
            raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped "
                             f"dimension, got sizes {sizes} for the mapped dimension")
        results = [func(*[arg if dim is None else _select(arg, dim, i)
                          for arg, dim in zip(args, dims, strict=True)], **kwargs)
                   for i in range(sizes[0])]
        from fnnet.torch import stack

        def stacked(*parts: Any) -> Any:
            if not isinstance(parts[0], Tensor):
                raise ValueError(f"vmap({_name(func)}, ...): `{_name(func)}` must only "
                                 f"return Tensors, got type {type(parts[0])}. Did you mean "
                                 f"to set out_dims= to None for output?")
            return stack(list(parts), dim=out_dims)

        return _zip_map(stacked, *results)

    return wrapper


# -- Jacobians ------------------------------------------------------------------------------
def _differentiable(args: Any, nums: tuple[int, ...]
                    ) -> tuple[list[Any], list[Tensor], bool, bool]:
    """The arguments with the tensors of those at ``nums`` (tensors or dicts, lists and
    tuples of them) as the transform's own leaves (themselves where they require grad
    already), those leaves in order, whether they did, and the grad mode outside."""
    from fnnet.torch import is_grad_enabled

    full = list(args)
    for n in nums:
        for leaf in _leaves(args[n]):
            if not isinstance(leaf, Tensor):
                raise ValueError(f"Thing passed to transform API must be Tensor, got "
                                 f"{type(leaf)}")
    outer = any(leaf.requires_grad for n in nums for leaf in _leaves(args[n]))
    for n in nums:
        full[n] = _map(lambda t: t if t.is_leaf and t.requires_grad
                       else t.detach().requires_grad_(), args[n])
    leaves = [leaf for n in nums for leaf in _leaves(full[n])]
    return full, leaves, outer, is_grad_enabled()


def _tensor_outputs(out: Any, who: str) -> None:
    for leaf in _leaves(out):
        if not isinstance(leaf, Tensor):
            raise RuntimeError(f"{who}: expected f(*primals) to return only tensors, got "
                               f"unsupported type {type(leaf)}")


def _jacobian_tree(outs: Any, full: list[Any], nums: tuple[int, ...], argnums: Any,
                   leaves: list[Tensor], keep: bool) -> Any:
    """The Jacobian of each tensor of ``outs`` by the arguments ``nums``: ``outs``'s
    structure with each tensor replaced by the arguments' (one argument's where
    ``argnums`` is an int, a tuple of them otherwise), each of their tensors replaced by
    ``[*output.shape, *leaf.shape]``."""

    def by_arguments(out: Tensor) -> Any:
        rows = iter(_functional._jacobian_rows(out, tuple(leaves), keep))
        trees = [_map(lambda _: next(rows), full[n]) for n in nums]
        return trees[0] if isinstance(argnums, int) else tuple(trees)

    return _map(by_arguments, outs)


def _jacobian(func: Callable[..., Any], argnums: Any, has_aux: bool, who: str
              ) -> Callable[..., Any]:
    def wrapper(*args: Any) -> Any:
        nums = _argnums(argnums, len(args), who)
        full, leaves, outer, grad_mode = _differentiable(args, nums)
        from fnnet.torch import enable_grad

        with enable_grad():
            outs, aux = _split_aux(func(*full), has_aux, "vjp(f, *primals)")
            _tensor_outputs(outs, "vjp(f, *primals)")
            keep = grad_mode and (outer or _reaches_outside(outs, leaves))
            jac = _jacobian_tree(outs, full, nums, argnums, leaves, keep)
        if keep and not outer and not _reaches_outside(jac, leaves):
            jac, keep = _detached(jac), False
        if not has_aux:
            return jac
        return jac, (aux if keep else _detached(aux))

    return wrapper


def jacrev(func: Callable[..., Any], argnums: Any = 0, *, has_aux: bool = False,
           chunk_size: int | None = None) -> Callable[..., Any]:
    """The Jacobian of ``func`` by its arguments ``argnums`` (tensors or dicts, lists and
    tuples of them: a model's parameters from ``named_parameters``), for outputs that
    are tensors or dicts, lists and tuples of them: each output tensor ``[*O]`` by each
    argument tensor ``[*I]`` is ``[*O, *I]``, nested as the outputs, then as the
    arguments. Differentiable by the tensors requiring grad it depends on (the arguments,
    or a model's parameters the function uses), as PyTorch's. With ``has_aux``, ``func``
    returns ``(output, aux)`` and the result is ``(jacobian, aux)``.

    PyTorch equivalent: ``torch.func.jacrev``.
    """
    del chunk_size
    return _jacobian(func, argnums, has_aux, "jacrev(func)(*args)")


def jacfwd(func: Callable[..., Any], argnums: Any = 0, has_aux: bool = False, *,
           randomness: str = "error") -> Callable[..., Any]:
    """The Jacobian of ``func`` by its arguments ``argnums`` (the same values and
    structure as :func:`jacrev`).

    PyTorch equivalent: ``torch.func.jacfwd``.
    """
    del randomness
    return _jacobian(func, argnums, has_aux, "jacfwd(func)(*args)")


def hessian(func: Callable[..., Any], argnums: Any = 0) -> Callable[..., Any]:
    """The Hessian of ``func`` by its arguments ``argnums``: the Jacobian of its Jacobian
    (``jacfwd(jacrev(func))``), so an output ``[*O]`` by arguments ``[*I]`` and
    ``[*J]`` gives ``[*O, *I, *J]``, nested as :func:`jacrev`'s twice (a dict of
    parameters gives a dict of dicts); differentiable as :func:`jacrev`'s result is.

    PyTorch equivalent: ``torch.func.hessian``.
    """
    who = "hessian(func)(*args)"

    def wrapper(*args: Any) -> Any:
        nums = _argnums(argnums, len(args), who)
        full, leaves, outer, grad_mode = _differentiable(args, nums)
        from fnnet.torch import enable_grad

        with enable_grad():
            outs = func(*full)
            _tensor_outputs(outs, "vjp(f, *primals)")
            first = _jacobian_tree(outs, full, nums, argnums, leaves, True)
            keep = grad_mode and (outer or _reaches_outside(first, leaves))
            second = _jacobian_tree(first, full, nums, argnums, leaves, keep)
        if keep and not outer and not _reaches_outside(second, leaves):
            keep = False
        return second if keep else _detached(second)

    return wrapper


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise Unsupported(  # also an AttributeError: hasattr() is False
        f"fnnet.torch does not support torch.func.{name}; use jax's transforms (jax.grad, "
        f"jax.vmap, jax.jvp) on fnnet's functional API")
