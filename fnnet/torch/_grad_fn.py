"""``tensor.grad_fn``: PyTorch's view of the recorded graph.

A :class:`GradFn` stands for the node that produced a tensor on the current tape; its
``next_functions`` are, per input, the node that produced that input (``(GradFn, 0)``),
``(AccumulateGrad, 0)`` for a leaf that requires grad, or ``(None, 0)`` for a constant,
as PyTorch lists them. Names follow PyTorch's (``AddBackward0``, ``MmBackward0``,
``MseLossBackward0``...); an op without a PyTorch counterpart is named after itself.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax.numpy as jnp

from fnnet.torch._recorder import current
from fnnet.torch._tape import RG, VAR, kind_of, slot_of

# op or layer name -> PyTorch's backward node name
_NAMES = {
    "add": "AddBackward0", "subtract": "SubBackward0", "multiply": "MulBackward0",
    "true_divide": "DivBackward0", "matmul": "MmBackward0", "_mv": "MvBackward0",
    "negative": "NegBackward0",
    "_pow_scalar": "PowBackward0", "power": "PowBackward1",
    "_float_power": "PowBackward1", "_rpow_scalar": "PowBackward2",
    "exp": "ExpBackward0", "log": "LogBackward0", "sqrt": "SqrtBackward0",
    "sin": "SinBackward0", "cos": "CosBackward0", "abs": "AbsBackward0", "_abs": "AbsBackward0",
    "_sum": "SumBackward0", "_mean": "MeanBackward0", "_reshape": "ViewBackward0",
    "_transpose": "TransposeBackward0", "_t": "TBackward0", "_permute": "PermuteBackward0",
    "_getitem": "IndexBackward0", "_setitem": "IndexPutBackward0",
    "_window": "SliceBackward0",
    # complex tensors and the FFTs (fnnet.torch._complex, fnnet.torch.fft)
    "_c2c": "FftC2CBackward0", "_r2c": "FftR2CBackward0", "_c2r": "FftC2RBackward0",
    "_conjugate": "ConjBackward0", "_real_part": "SelectBackward0",
    "_imag_part": "SelectBackward0", "_as_real": "ViewAsRealBackward0",
    "_as_complex": "ViewAsComplexBackward0", "_from_parts": "ComplexBackward0",
    "_from_polar": "PolarBackward0", "_rolled": "RollBackward0",
    "_copy": "CloneBackward0", "_astype": "ToCopyBackward0",
    "_unsqueeze": "UnsqueezeBackward0",
    "_expand": "ExpandBackward0", "_flatten": "ViewBackward0", "_max": "MaxBackward1",
    "_min": "MinBackward1", "_softmax": "SoftmaxBackward0",
    "_log_softmax": "LogSoftmaxBackward0", "_masked_fill": "MaskedFillBackward0",
    "relu": "ReluBackward0", "sigmoid": "SigmoidBackward0", "tanh": "TanhBackward0",
    "linear": "AddmmBackward0", "conv2d": "ConvolutionBackward0",
    "max_pool2d": "MaxPool2DWithIndicesBackward0", "avg_pool2d": "AvgPool2DBackward0",
    "_round_scaled": "RoundBackward1",
    "_mse": "MseLossBackward0", "_ce": "NllLossBackward0",
    "_nll": "NllLossBackward0", "_bce": "BinaryCrossEntropyBackward0",
    "_bce_logits": "BinaryCrossEntropyWithLogitsBackward0",
    "_smooth_l1": "SmoothL1LossBackward0", "_dropout": "MulBackward0",
    # torch.lgamma (special.gammaln) is jax's gammaln; PyTorch's ndtr multiplies erfc's
    "gammaln": "LgammaBackward0", "special_ndtr": "MulBackward1",
    "special_zeta_of_number": "SpecialZetaBackward1",
    "Linear": "AddmmBackward0", "Conv2d": "ConvolutionBackward0",
    "Conv1d": "ConvolutionBackward0", "ReLU": "ReluBackward0",
    "Sigmoid": "SigmoidBackward0", "Tanh": "TanhBackward0",
    "BatchNorm1d": "NativeBatchNormBackward0", "BatchNorm2d": "NativeBatchNormBackward0",
    "Dropout": "MulBackward0", "Flatten": "ViewBackward0", "MaxPool2d":
    "MaxPool2DWithIndicesBackward0", "LogSoftmax": "LogSoftmaxBackward0",
    "Softmax": "SoftmaxBackward0", "Embedding": "EmbeddingBackward0",
    "LayerNorm": "NativeLayerNormBackward0", "LeakyReLU": "LeakyReluBackward0",
    "GELU": "GeluBackward0", "RMSNorm": "MulBackward0", "_rms_norm": "MulBackward0",
    "Conv3d": "ConvolutionBackward0", "conv3d": "ConvolutionBackward0",
    "ConvTranspose1d": "ConvolutionBackward0", "conv_transpose1d": "ConvolutionBackward0",
    "ConvTranspose3d": "ConvolutionBackward0", "conv_transpose3d": "ConvolutionBackward0",
    "BatchNorm3d": "NativeBatchNormBackward0", "MaxPool3d": "MaxPool3DWithIndicesBackward0",
    "max_pool3d": "MaxPool3DWithIndicesBackward0", "AvgPool3d": "AvgPool3DBackward0",
    "avg_pool3d": "AvgPool3DBackward0", "AdaptiveAvgPool3d": "AdaptiveAvgPool3DBackward0",
    "adaptive_avg_pool3d": "AdaptiveAvgPool3DBackward0",
    "adaptive_max_pool1d": "SqueezeBackward1", "adaptive_max_pool3d":
    "AdaptiveMaxPool3DBackward0", "local_response_norm": "DivBackward0",
    "logit": "LogitBackward0", "copysign": "CopysignBackward0", "fmax": "FmaxBackward0",
    "fmin": "FminBackward0", "logaddexp2": "Logaddexp2Backward0", "ldexp": "MulBackward0",
    "i0": "I0Backward0", "heaviside": "HeavisideBackward0",
    "cosine_similarity": "SumBackward1", "pairwise_distance": "NormBackward1",
    "_norm": "LinalgVectorNormBackward0", "_vector_norm": "LinalgVectorNormBackward0",
    "_huber": "HuberLossBackward0", "_outer": "MulBackward0", "_narrow": "SliceBackward0",
    "_layer_norm": "NativeLayerNormBackward0", "_group_norm": "NativeGroupNormBackward0",
    "GroupNorm": "NativeGroupNormBackward0", "batch_norm": "NativeBatchNormBackward0",
    "arctan2": "Atan2Backward0", "arcsin": "AsinBackward0", "arctan": "AtanBackward0",
    "logsigmoid": "LogSigmoidBackward0", "_median_all": "MedianBackward0",
    "_nanmedian_all": "NanmedianBackward0",
    "softsign": "DivBackward0",
    # torch.linalg's nodes (PyTorch's torch.svd, torch.inverse, torch.det, ... are them too)
    "_svd": "LinalgSvdBackward0", "_svdvals": "LinalgSvdBackward0",
    "_eigh": "LinalgEighBackward0", "_eigvalsh": "LinalgEighBackward0",
    "_qr": "LinalgQrBackward0", "inv": "LinalgInvExBackward0", "det": "LinalgDetBackward0",
    "_slogdet": "LinalgSlogdetBackward0", "_solve": "LinalgSolveExBackward0",
    "_lstsq": "LinalgLstsqBackward0", "_pinv": "LinalgPinvBackward0",
    "_matrix_exp": "LinalgMatrixExpBackward0", "_solve_triangular":
    "LinalgSolveTriangularBackward0", "_cross": "LinalgCrossBackward0",
    "_cho_solve": "CholeskySolveBackward0", "_cho_inverse": "CholeskyInverseBackward0",
    "kron": "UnsafeViewBackward0",
    "_logdet": "WhereBackward0",  # PyTorch's logdet is slogdet's, nan where the sign is < 0
    "_put_masked": "IndexPutBackward0", "_put_where": "IndexPutBackward0",  # x[mask] = v
    "_fill_diagonal": "torch::autograd::CopySlices", "_trace": "TraceBackward0",
    # layers and functions whose PyTorch node is named for the op they end in
    "ConvTranspose2d": "ConvolutionBackward0", "conv_transpose2d": "ConvolutionBackward0",
    "_unflatten": "ViewBackward0",
    "selu": "EluBackward0", "relu6": "HardtanhBackward0", "tanhshrink": "SubBackward0",
    "prelu": "PreluKernelBackward0", "AvgPool2d": "AvgPool2DBackward0",
    "AdaptiveAvgPool2d": "AdaptiveAvgPool2DBackward0", "_tile": "RepeatBackward0",
    "_diff": "SubBackward0", "unfold": "Im2ColBackward0", "fold": "Col2ImBackward0",
    "grid_sample": "GridSampler2DBackward0", "affine_grid": "AffineGridGeneratorBackward0",
    "_grid_sample_3d": "GridSampler3DBackward0", "_instance_norm": "ViewBackward0",
    "_conv_transpose2d": "ConvolutionBackward0",
    "_soft_margin": "SoftMarginLossBackward0", "_multi_margin": "MultiMarginLossBackward0",
    "_multilabel_margin": "MultilabelMarginLossBackward0",
}


def _matrix_norm_name(static: tuple[Any, ...]) -> str:
    """PyTorch's last node of ``matrix_norm``: the vector norm for ``fro``, the amax or
    amin over the sums (1, inf) or singular values (2); the singular values' sum for
    ``nuc``; the singular-value norms with ``keepdim`` end in a permute."""
    ord, _, keepdim = static  # noqa: A001
    if ord == "fro":
        return "LinalgVectorNormBackward0"
    if ord in ("nuc", 2, -2) and keepdim:
        return "PermuteBackward0"
    if ord == "nuc":
        return "SumBackward1"
    return "AmaxBackward0" if ord > 0 else "AminBackward0"


def _matrix_power_name(static: tuple[Any, ...]) -> str:
    n = static[0]
    return {-1: "LinalgInvExBackward0", 0: "torch::autograd::CopyBackwards",
            1: "CloneBackward0"}.get(n, "MmBackward0")


def _indexing_name(items: list[tuple[str, bool]]) -> str:
    """PyTorch's node for basic indexing: that of its last step that does something
    (``x[1]``: Select, ``x[1:]``: Slice, ``x[None]``: Unsqueeze; ``x[:, :]``: Alias).
    ``items`` are ``(kind, does something)`` per index item, kinds as those names."""
    done = [kind for kind, active in items if active]
    return f"{done[-1]}Backward0" if done else "AliasBackward0"


def _window_name(static: tuple[Any, ...]) -> str:
    _, dims, post = static[0]
    items, dim = [], 0
    for part in post:
        if part is None:
            items.append(("Unsqueeze", True))
            continue
        if part == "i":
            items.append(("Select", True))
        else:  # a slice (start, stop, step), or (None,) for a dimension an Ellipsis spans
            items.append(("Slice", dim in dims or any(v is not None for v in part)))
        dim += 1
    return _indexing_name(items)


def _getitem_name(static: tuple[Any, ...]) -> str:
    spec = static[0]
    if any(kind == "t" for kind, *_ in spec):
        return "IndexBackward0"  # advanced indexing (integer or boolean tensors)
    kinds = {"i": "Select", "s": "Slice", "n": "Unsqueeze", "e": "Slice"}
    return _indexing_name([(kinds[kind], kind in "in" or (kind == "s" and any(
        v is not None for v in rest))) for kind, *rest in spec])


#: the recurrent cell's last op producing its (first) output, per mode
_CELL_NAMES = {"RNN_TANH": "TanhBackward0", "RNN_RELU": "ReluBackward0",
               "GRU": "AddBackward0", "LSTM": "MulBackward0"}


def _cell_name(static: tuple[Any, ...]) -> str:
    return _CELL_NAMES[static[0]]


#: ops recorded as one node whose outputs are nodes of their own in PyTorch's graph:
#: (static arguments, output) -> name
_OUTPUT_NAMES: dict[str, Callable[[tuple[Any, ...], int], str]] = {
    # MultiheadAttention: the output projection's result viewed back to [L, N, E]; the
    # weights viewed to [N, H, L, S], averaged over the heads unless per head
    "_attend": lambda static, output: "MeanBackward1" if output and static[0][2] else
    "ViewBackward0",
    # LSTMCell's c = f * c + i * g (its h, and the other cells' outputs, as _cell_name)
    "apply_cell": lambda static, output: "AddBackward0" if output and static[0] == "LSTM"
    else _cell_name(static),
}


def _attention_name(tp: Any, node: tuple[Any, ...]) -> str:
    """PyTorch's node for ``F.scaled_dot_product_attention``: its CPU flash kernel's for
    4-D inputs of one batch and head count and one head width, without dropout or a mask
    that requires grad; otherwise its math kernel's last op (a matrix product viewed
    back, or plain for 2-D inputs)."""
    q, k, v = (tuple(tp.avals[slot_of(r)][0]) for r in node[2][:3])
    if len(q) == 2:
        return "MmBackward0"
    mask = node[2][3]
    flash = (_op_name(node) == "_attention" and len(q) == len(k) == len(v) == 4 and
             q[:2] == k[:2] == v[:2] and q[-1] == v[-1] and
             (mask < 0 or kind_of(mask) not in (RG, VAR)))
    return "ScaledDotProductFlashAttentionForCpuBackward0" if flash else \
        "UnsafeViewBackward0"


def _reduced(unreduced: str, reduction: str) -> str:
    """PyTorch's node for a loss computed from elementwise ops: the reduction's, or
    ``unreduced`` (the last elementwise op) for ``reduction='none'``."""
    return {"mean": "MeanBackward0", "sum": "SumBackward0"}.get(reduction, unreduced)


#: the last elementwise op of a loss PyTorch composes, and where its static arguments
#: hold the reduction
_COMPOSED_LOSSES = {"_cosine_embedding": ("AddBackward0", 1), "_hinge": ("AddBackward0", 1),
                    "_multilabel_soft_margin": ("DivBackward0", 0),
                    "_l1": ("AbsBackward0", 0),
                    "_triplet": ("ClampMinBackward0", 4),
                    "_margin_ranking": ("ClampMinBackward0", 1),
                    "_triplet_distances": ("ClampMinBackward0", 1)}


def _composed_loss_name(unreduced: str, at: int, static: tuple[Any, ...]) -> str:
    return _reduced(unreduced, static[at])


def _kl_div_name(static: tuple[Any, ...]) -> str:
    reduction, log_target = static
    if reduction == "batchmean":
        return "DivBackward0"
    return _reduced("MulBackward0" if log_target else "SubBackward0", reduction)


def _nll_name(tp: Any, node: tuple[Any, ...]) -> str:
    """PyTorch's node for ``nll_loss``: ``nll_loss2d``'s for an input ``[N, C, d1, ...]``
    (flattened to 4-D and, unreduced, viewed back unless it was 4-D already)."""
    source, reduction = node[2][0], node[1][1]
    rank = len(tp.avals[slot_of(source)][0]) if source >= 0 else 2
    if rank <= 2:
        return "NllLossBackward0"
    return "ViewBackward0" if reduction == "none" and rank != 4 else "NllLoss2DBackward0"


#: the clamps' nodes, whose number tells number bounds (1) from tensor bounds (0); the
#: one-sided ``clamp_min``/``clamp_max`` count the other way
_CLAMP_NAMES = {"_clamp": ("ClampBackward1", "ClampBackward0"),
                "_clamp_min": ("ClampMinBackward0", "ClampMinBackward1"),
                "_clamp_max": ("ClampMaxBackward0", "ClampMaxBackward1")}


def _clamp_name(tp: Any, node: tuple[Any, ...], op: str) -> str:
    """PyTorch's node for a clamp: a Python number bound is a weakly typed source, a
    tensor bound is not."""
    tensor_bound = any(r >= 0 and not tp.avals[slot_of(r)][2] for r in node[2][1:])
    return _CLAMP_NAMES[op][tensor_bound]


#: F.interpolate's node per mode (the spatial rank filled in)
_UPSAMPLE_NAMES = {"nearest": "UpsampleNearest{}DBackward0",
                   "nearest-exact": "UpsampleNearestExact{}DBackward0",
                   "linear": "UpsampleLinear1DBackward0", "bilinear": "UpsampleBilinear2DBackward0",
                   "bicubic": "UpsampleBicubic2DBackward0",
                   "trilinear": "UpsampleTrilinear3DBackward0"}


def _interpolate_name(tp: Any, node: tuple[Any, ...]) -> str:
    """PyTorch's node for ``F.interpolate``: its upsampling kernel's by mode and spatial
    rank; ``area`` is an adaptive average pooling (1-D: of a 2-D view, squeezed back)."""
    source, mode = node[2][0], node[1][2]
    spatial = len(tp.avals[slot_of(source)][0]) - 2 if source >= 0 else 2
    if mode == "area":
        return "SqueezeBackward1" if spatial == 1 else f"AdaptiveAvgPool{spatial}DBackward0"
    return _UPSAMPLE_NAMES.get(mode, "InterpolateBackward0").format(spatial)


def _cross_entropy_name(tp: Any, node: tuple[Any, ...]) -> str:
    """PyTorch's node for ``cross_entropy``: class indices go through ``nll_loss``
    (plus the smoothing term when smoothed), probabilities through a sum over classes
    (divided by the batch for the mean)."""
    _, reduction, smoothing = node[1]
    target = node[2][1]
    if target >= 0 and jnp.issubdtype(tp.avals[slot_of(target)][1], jnp.floating):
        return "DivBackward1" if reduction == "mean" else "NegBackward0"
    return "AddBackward0" if smoothing else _nll_name(tp, node)


#: F.pad's backward node per mode (jnp.pad's names), the padded dimensions' count in it
_PAD_NAMES: dict[str, str] = {
    "constant": "ConstantPadNdBackward0", "reflect": "ReflectionPad{}DBackward0",
    "edge": "ReplicationPad{}DBackward0", "wrap": "torch::autograd::CopySlices"}

#: ops whose PyTorch name depends on their static arguments
_STATIC_NAMES: dict[str, Callable[[tuple[Any, ...]], str]] = {
    **{op: functools.partial(_composed_loss_name, unreduced, at)
       for op, (unreduced, at) in _COMPOSED_LOSSES.items()},
    "_kl_div": _kl_div_name, "_pieces": lambda static: "SplitBackward0",
    "_prod": lambda static: f"ProdBackward{int(static[0] is not None)}",
    # PyTorch zeroes infinite losses with a where before reducing
    "_ctc": lambda static: _reduced("WhereBackward0" if static[2] else "CtcLossBackward0",
                                    static[1]),
    "_window": _window_name, "_getitem": _getitem_name,
    # PyTorch repeats by a number with an expand and a view, by counts with index_select
    "_repeat_interleave": lambda static: "ViewBackward0" if isinstance(static[0], int)
    else "IndexSelectBackward0",
    "_cumulative": lambda static: "CummaxBackward0" if static[1] else "CumminBackward0",
    # a reduction over dims is PyTorch's overload 1, over everything its overload 0
    "_sum": lambda static: f"SumBackward{int(static[0] is not None)}",
    "_mean": lambda static: f"MeanBackward{int(static[0] is not None)}",
    "_max_dim": lambda static: "MaxBackward0", "_min_dim": lambda static: "MinBackward0",
    # squeeze(), squeeze(dim) and squeeze(dims) are PyTorch's overloads 0, 1 and 2
    "_squeeze": lambda static: "SqueezeBackward"
                               f"{(static[0] is not None) + isinstance(static[0], tuple)}",
    "_pad": lambda static: _PAD_NAMES[static[1]].format(static[3]),
    "_matrix_norm": _matrix_norm_name, "_matrix_power": _matrix_power_name,
    # unreduced, the Gaussian and Poisson losses end in their last term ("full" adds one)
    "_gaussian": lambda static: _reduced("AddBackward0" if static[0] else "MulBackward0",
                                         static[2]),
    "_poisson": lambda static: _reduced("AddBackward0" if static[1] else "SubBackward0",
                                        static[3]),
    # a write into a view (x[0] = v, x[:, 1:] += v, x[0].mul_(2)) is PyTorch's CopySlices;
    # one at advanced indices its IndexPut
    "_window_set": lambda static: "torch::autograd::CopySlices",
    "_setitem": lambda static: "IndexPutBackward0" if any(
        kind == "t" for kind, *_ in static[0]) else "torch::autograd::CopySlices",
    # scatter_(dim, index, value): PyTorch's value overload, with a reduce a node of its own
    "_scatter_value": lambda static: "ScatterBackward1" if static[1] is None else
    "torch::autograd::NotImplemented",
    # torch.cholesky (deprecated) has a node of its own, torch.linalg.cholesky the _ex one
    "_cholesky": lambda static: "CholeskyBackward0" if len(static) > 1 else
    "LinalgCholeskyExBackward0",
    # a reduction over x[mask] kept whole: the node PyTorch's computation ends in
    "_masked_reduce": lambda static: static[0]}


def _op_name(node: tuple[Any, ...]) -> str:
    op, static = node[0], node[1]
    name = getattr(op, "__name__", type(op).__name__)
    if name in ("apply_layer", "apply_recurrent") and static:
        name = type(static[0][0]).__name__  # the fnnet layer of the module's spec
    return name


class AccumulateGrad:
    """The node that accumulates into a leaf's ``.grad``. ``variable`` is the leaf."""

    __slots__ = ("variable",)

    def __init__(self, variable: Any) -> None:
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    next_functions: tuple[Any, ...] = ()

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"  # PyTorch's


class GradFn:
    """The recorded node that produced a tensor. PyTorch: ``tensor.grad_fn``.

    ``output`` tells the outputs of a node with several apart where PyTorch's graph has a
    node for each (MultiheadAttention's output and weights, LSTMCell's h and c)."""

    __slots__ = ("_tape", "_index", "_output")

    def __init__(self, tape: Any, index: int, output: int = 0) -> None:
        self._tape, self._index, self._output = tape, index, output

    def name(self) -> str:
        if self._index < 0:
            return "Backward0"  # the graph was already run and freed
        node = self._tape.nodes[self._index]
        named = getattr(node[0], "grad_fn_name", None)  # a custom Function's own name
        if named is not None:
            return str(named)
        op = _op_name(node)
        if op in ("Linear", "linear"):
            linear = _linear_name(self._tape, node)
            if linear is not None:
                return linear
        if op == "_ce":
            return _cross_entropy_name(self._tape, node)
        if op == "_nll":
            return _nll_name(self._tape, node)
        if op in _CLAMP_NAMES:
            return _clamp_name(self._tape, node, op)
        if op == "interpolate":
            return _interpolate_name(self._tape, node)
        if op == "bilinear":  # PyTorch's bilinear ends in the bias's add, else a view
            return "AddBackward0" if node[2][3] >= 0 else "ViewBackward0"
        if op in ("_attention", "_attention_dropout"):
            return _attention_name(self._tape, node)
        per_output = _OUTPUT_NAMES.get(op)
        if per_output is not None:
            return per_output(node[1], self._output)
        special = _STATIC_NAMES.get(op)
        if special is not None:
            return special(node[1])
        return _NAMES.get(op) or op.strip("_").title().replace("_", "") + "Backward0"

    @property
    def next_functions(self) -> tuple[Any, ...]:
        tp = self._tape
        if tp is not current().tape or self._index < 0:
            return ()
        owner = tp.node_of_slot()
        node = tp.nodes[self._index]
        if _op_name(node) in ("Linear", "linear") and len(node[2]) == 3 and node[2][0] >= 0:
            return _linear_next(tp, owner, node)
        return tuple(_next(tp, owner, r) for r in node[2] if r >= 0)

    def __call__(self, *args: Any) -> Any:
        raise NotImplementedError("fnnet.torch: calling a grad_fn directly is not "
                                  "supported; use tensor.backward() or torch.autograd.grad")

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"  # PyTorch's

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, GradFn) and (self._tape, self._index, self._output) == (
            other._tape, other._index, other._output)

    def __hash__(self) -> int:
        return hash((id(self._tape), self._index, self._output))


class Composed:
    """A node PyTorch records inside one of fnnet's layers (``TBackward0``, the
    ``addmm`` of a linear layer over a sequence), named by its class."""

    __slots__ = ("next_functions",)

    def __init__(self, *next_functions: tuple[Any, int]) -> None:
        self.next_functions = next_functions

    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"


_COMPOSED: dict[str, type[Composed]] = {}


def _composed(name: str, *next_functions: tuple[Any, int]) -> tuple[Composed, int]:
    """A ``next_functions`` entry: a :class:`Composed` node of class ``name``."""
    kind = _COMPOSED.get(name)
    if kind is None:
        kind = _COMPOSED[name] = type(name, (Composed,), {"__slots__": ()})
    return kind(*next_functions), 0


def _next(tp: Any, owner: list[int], r: int) -> tuple[Any, int]:
    """PyTorch's ``next_functions`` entry for input reference ``r``."""
    slot, kind = slot_of(r), kind_of(r)
    if kind == RG and tp.nodes[owner[slot]][0] is not None:
        return _named(tp, *_producer_output(tp, owner, slot)), 0
    if kind == VAR:
        return AccumulateGrad(tp.var_owner.get(slot)), 0
    return None, 0


def _linear_name(tp: Any, node: tuple[Any, ...]) -> str | None:
    """PyTorch's node for a linear layer's call ``node``: ``addmm(bias, input,
    weight.t())`` (``mm`` without a bias) on a batch of vectors, that product's view
    back to the input's other dimensions on any other input; None if it is no such call."""
    if len(node[2]) != 3 or node[2][0] < 0:
        return None
    bias = node[2][2] >= 0
    ndim = len(tp.avals[slot_of(node[2][0])][0])
    if ndim == 2:
        return "AddmmBackward0" if bias else "MmBackward0"
    return "ViewBackward0" if bias else "UnsafeViewBackward0" if ndim > 2 else \
        "SqueezeBackward4"


def _linear_next(tp: Any, owner: list[int], node: tuple[Any, ...]) -> tuple[Any, ...]:
    """``next_functions`` of a linear layer's call, as PyTorch's nodes list them."""
    x, w, b = node[2]
    inputs = [_next(tp, owner, x)]
    ndim = len(tp.avals[slot_of(x)][0])
    if ndim != 2 and inputs[0][0] is not None:  # the input reshaped to a matrix
        inputs = [_composed("ViewBackward0" if ndim > 2 else "UnsqueezeBackward0",
                            inputs[0])]
    product = ([] if b < 0 else [_next(tp, owner, b)]) + inputs + [
        _composed("TBackward0", _next(tp, owner, w))]
    if ndim == 2:
        return tuple(product)
    return (_composed("AddmmBackward0" if b >= 0 else "MmBackward0", *product),)


_CLASSES: dict[str, type[GradFn]] = {}


def _named(tape: Any, index: int, output: int = 0) -> GradFn:
    """A :class:`GradFn` of the class named as PyTorch's node (``SumBackward0``), so that
    ``type(t.grad_fn).__name__`` reads as there (``CopySlices`` for the node whose
    ``name()`` is ``torch::autograd::CopySlices``)."""
    node = GradFn(tape, index, output)
    name = node.name()
    kind = _CLASSES.get(name)
    if kind is None:
        kind = _CLASSES[name] = type(name.rpartition("::")[2], (GradFn,), {"__slots__": ()})
    node.__class__ = kind
    return node


def of(cell: Any) -> GradFn:
    """The grad_fn of a differentiable tensor's cell. Once a flush has computed its
    value the node keeps its name (``print(loss)`` after ``optimizer.step()`` shows
    ``grad_fn=<NllLossBackward0>``, as PyTorch's) but lists no ``next_functions``; a
    cell with no recorded node gets a nameless one."""
    tp = cell.tape
    if tp is None or cell.ref < 0:
        return _named(tp, -1)
    owner = tp.node_of_slot()
    if cell.ref >= len(owner) or tp.nodes[owner[cell.ref]].op is None:
        return _named(tp, -1)
    return _named(tp, *_producer_output(tp, owner, cell.ref))


def _producer_output(tp: Any, owner: list[int], slot: int) -> tuple[int, int]:
    """The node whose graph node produced ``slot`` (see :func:`written_from`) and which
    of that node's outputs ``slot`` is."""
    index = written_from(tp, owner, owner[slot])
    return index, slot - tp.nodes[index].first if index == owner[slot] else 0


def written_from(tp: Any, owner: list[int], index: int) -> int:
    """The node whose graph node ``index`` continues: past the nodes that give a tensor
    values written in place without autograd (its grad_fn stays, as PyTorch's), and the
    probes that a gradient hook adds (PyTorch's hooks add no node)."""
    node = tp.nodes[index]
    while _op_name(node) in ("_written", "_add_probe") and \
            tp.nodes[owner[slot_of(node.inputs[0])]].op:
        index = owner[slot_of(node.inputs[0])]
        node = tp.nodes[index]
    return index
