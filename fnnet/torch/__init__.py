"""fnnet.torch: PyTorch's API over fnnet, with imperative loops that compile themselves.

``import fnnet.torch as torch`` runs ordinary PyTorch training code. Operations on
tensors are recorded lazily; ``loss.backward()`` takes ``jax.vjp`` of the recorded
function of the parameters and ``optimizer.step()`` turns the whole step (forward,
backward, gradient edits, optimizer update) into one jitted pure function, cached by the
step's structure (ops, shapes, dtypes, static arguments, train/eval mode), so a loop
compiles once and then runs at the speed of fnnet's functional training step. A small
model's loop that reads its loss every step (``loss.item()``) on batches already on the
device can run as two programs dispatched together: the forward pass, which the read
waits for, and the whole step, which runs while Python records the next iteration; the
loop's iterations are timed both ways and the faster is kept, both timed again from
time to time as the machine's load changes which is faster. Every layer, loss and
optimizer calls fnnet's pure functions: the shim adds PyTorch's state and calling
conventions, never a second copy of the math.

Differences from PyTorch worth knowing:

- Values are computed when read (``item()``, ``numpy()``, printing, ``if t > 0``) or at
  ``optimizer.step()``; reading values inside the step costs an extra (cached) compile.
- ``torch.int64``/``torch.long`` is held in 32 bits and ``torch.float64`` as float32 unless
  jax's x64 mode is enabled before import (jax computes in 32 bits by default); the one
  32-bit integer type is named ``torch.int64`` (an explicit ``torch.int32`` prints so). An
  integer it cannot hold raises OverflowError where it is made, never wraps.
- Random numbers drawn outside a compiled step are PyTorch's after ``manual_seed``
  (initial weights, ``rand``/``randn``/``randperm``..., ``DataLoader`` shuffling,
  ``random_split``, ``get_rng_state()``); Dropout's masks inside a step come from a jax
  key, reproducible but not PyTorch's (see ``docs/torch_random.md``).
- Devices are JAX's: ``cuda.is_available()`` and ``torch.accelerator``
  report a GPU exactly when JAX computes on one, ``.to("cuda")`` is a no-op then (JAX
  already placed the array) and raises PyTorch's CPU-build error without one, and
  ``tensor.device`` names JAX's default device.
- ``torch.from_numpy`` copies: JAX's arrays are immutable, so a write to the numpy array
  is not seen in the tensor. ``Tensor.numpy()`` returns an array that follows the
  tensor's later in-place writes (``t.add_(1)`` shows in it, as in PyTorch); a write
  through that array is not seen in the tensor.
- A module's parameters, buffers and submodules are also its instance attributes
  (``vars(model)`` lists them; PyTorch finds them through ``_parameters``, ``_buffers``
  and ``_modules``, which here keep the attributes in step when written), and a module
  built under ``torch.device("meta")`` holds values like any other.
- ``torch.autograd.Function`` subclasses become one ``jax.custom_vjp`` each;
  ``create_graph=True`` replays the graph inside ``jax.vjp`` as one differentiable node.
- ``optimizer.step()`` frees the graph of every live tensor.
- ``linalg.inv``, ``linalg.solve`` and ``linalg.cholesky`` (``torch.inverse``,
  ``torch.cholesky``, ``cholesky_inverse``) read whether a matrix is singular at the
  call, so that ``LinAlgError`` is raised there as in PyTorch: inside a step each call
  waits for the device and ends a program (each compiled once); the ``_ex`` forms
  (``inv_ex``...) do not read unless ``check_errors=True``.
- :func:`compile_stats` tells how often the cache hit and why each compile happened.
  Compiled programs are also kept on disk (``~/.cache/fnnet/xla``; the variable
  ``FNNET_COMPILATION_CACHE`` names another folder, or ``0`` turns it off), so running a
  script again skips most of its compiling: see :mod:`fnnet.core.disk_cache`.
- ``torch.save``/``torch.load`` write and read state dicts and dicts of them with plain
  values, in PyTorch's file format (PyTorch's ``torch.load`` reads them) or as
  safetensors for a ``.safetensors`` path. A whole model, optimizer or scheduler
  (``torch.save(model)``) is pickled as PyTorch pickles it and loads only with
  ``weights_only=False`` (or its classes in ``add_safe_globals``), as in PyTorch; a model
  PyTorch pickled loads too, its layers fnnet.torch's. An optimizer keeps its own
  attributes (PyTorch's drops them), and a safe-globals load checks the globals the
  file names, not also the classes of the objects it builds
  (see :mod:`fnnet.torch.serialization`).
- ``torch.func.vmap`` calls the function once per index of the mapped dimension and
  stacks the results (PyTorch batches the operations): the same values, one recorded
  call per example. ``torch.jit.script``/``trace`` return a module tree sharing the
  parameters; ``jit.save`` writes the classes by name, not TorchScript code.
- ``nn.DataParallel`` splits the batch over the local devices inside the compiled step;
  BatchNorm uses the whole batch's statistics (as on one device).

Unsupported names raise ``NotImplementedError`` pointing to the functional API (also an
``AttributeError``, so ``hasattr(torch, name)`` is False).
"""

# ruff: noqa: F401, E402 (re-exports, listed in __all__ below; imported after the launcher hook)

from __future__ import annotations

import builtins as _builtins
import math as _math
from typing import Any

import numpy as _np

from fnnet.core.disk_cache import use_disk_cache as _use_disk_cache
from fnnet.torch._launched import start_if_launched as _start_if_launched

_start_if_launched()  # under a launcher, before anything below computes (see _launched)
_use_disk_cache()  # a script run again loads its compiled programs (see fnnet.core.disk_cache)

from fnnet.torch import _dtypes
from fnnet.torch._autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from fnnet.torch._compiler import compile_stats, reset_compile_stats
from fnnet.torch._dtypes import (
    bfloat16,
    bool_,
    double,
    dtype,
    finfo,
    float16,
    float32,
    float64,
    half,
    iinfo,
    int8,
    int16,
    int32,
    int64,
    long,
    short,
    uint8,
)
from fnnet.torch._functions import (
    abs,
    add,
    allclose,
    arange,
    argmax,
    argmin,
    as_tensor,
    cat,
    clamp,
    clip,
    concat,
    cos,
    div,
    empty,
    eq,
    equal,
    exp,
    eye,
    flatten,
    from_numpy,
    full,
    full_like,
    ge,
    gt,
    is_tensor,
    isclose,
    le,
    linspace,
    log,
    log_softmax,
    lt,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mm,
    mul,
    ne,
    neg,
    norm,
    numel,
    ones,
    ones_like,
    permute,
    pow,
    prod,
    rand,
    randint,
    randn,
    randperm,
    relu,
    reshape,
    sigmoid,
    sin,
    softmax,
    sqrt,
    square,
    squeeze,
    stack,
    std,
    sub,
    sum,
    tanh,
    tensor,
    transpose,
    unsqueeze,
    var,
    where,
    zeros,
    zeros_like,
)
from fnnet.torch._random import Generator, default_generator, initial_seed, manual_seed
from fnnet.torch.serialization import load, save
from fnnet.torch.tensor import Size, Tensor
from fnnet.torch.tensor import Unsupported as _Unsupported

pi = _math.pi
e = _math.e
inf = _math.inf
nan = _math.nan
newaxis = None

float = _dtypes.float32  # noqa: A001 - PyTorch's name
int = _dtypes.int32  # noqa: A001
bool = _dtypes.bool_  # noqa: A001

from fnnet.torch import (  # noqa: E402
    _C,  # the bookkeeping calls of PyTorch's layers copied into a program
    _dynamo,  # torch._dynamo's settings, as programs around torch.compile set them
    _more_ops,  # noqa: E402
    as_torch,  # fnnet's own: a PyTorch script run with nothing edited
    autograd,  # noqa: E402
    compiler,
    cpu,
    distributed,
    distributions,
    func,
    jit,
    linalg,
    multiprocessing,
    nn,
    onnx,
    optim,
    profiler,
    testing,
    utils,
)
from fnnet.torch._defaults import get_default_dtype, set_default_dtype  # noqa: E402
from fnnet.torch._factorizations import det_top as det  # noqa: E402
from fnnet.torch._factorizations import inverse  # noqa: E402
from fnnet.torch._foreach import (  # noqa: E402 - PyTorch's private names, used by EMA code
    _foreach_add,
    _foreach_add_,
    _foreach_copy_,
    _foreach_div_,
    _foreach_lerp_,
    _foreach_mul,
    _foreach_mul_,
    _foreach_norm,
    _foreach_sub_,
    _foreach_zero_,
)
from fnnet.torch._typed import (  # noqa: E402
    BFloat16Tensor,
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
    empty_like,
    rand_like,
    randint_like,
    randn_like,
)
from fnnet.torch.device import (  # noqa: E402
    accelerator,
    backends,
    cuda,
    device,
    get_default_device,
    set_default_device,
    xpu,
)
from fnnet.torch.func import vmap  # noqa: E402

_more_ops.install(globals())
from fnnet.torch import _masking  # noqa: E402

_masking.install(globals())
from fnnet.torch import _random_fill  # noqa: E402

_random_fill.install()
from fnnet.torch import _math_ops  # noqa: E402

_math_ops.install(globals())
from fnnet.torch import _misc_ops  # noqa: E402

_misc_ops.install(globals())
from fnnet.torch import _surface_ops  # noqa: E402

_surface_ops.install(globals())
from fnnet.torch import _search_ops  # noqa: E402

_search_ops.install(globals())
from fnnet.torch import _factorizations  # noqa: E402

_factorizations.install(globals())
from fnnet.torch import _scatter_ops  # noqa: E402

_scatter_ops.install(globals())
from fnnet.torch import _nn_ops  # noqa: E402

_nn_ops.install(globals())  # torch.conv2d, torch.layer_norm...: the functional ops
from fnnet.torch import _matrix_products  # noqa: E402

_matrix_products.install(globals())  # baddbmm, addmv, addr, inner, diag_embed...
from fnnet.torch import _settings  # noqa: E402

_settings.install(globals())  # deterministic algorithms, inference mode, typename...
from fnnet.torch import _dense_real  # noqa: E402

_dense_real.install(globals())  # layout, data_ptr, H... of dense tensors
from fnnet.torch import _sparse_coo  # noqa: E402

_sparse_coo.install(globals())  # sparse_coo_tensor, Tensor.to_sparse, spmm
from fnnet.torch import (
    _storage,  # noqa: E402
    sparse,  # noqa: E402
)

_storage.install(globals())  # Tensor.storage(), untyped_storage(): read-only snapshots
from fnnet.torch import _complex  # noqa: E402

_complex.install(globals())  # real, imag, conj, view_as_real, polar...: complex tensors
from fnnet.torch import _stft  # noqa: E402

_stft.install(globals())  # stft, istft and their methods
from fnnet.torch import _numeric_helpers  # noqa: E402

_numeric_helpers.install(globals())  # signal windows, trapezoid, vander, unravel_index
from fnnet.torch import _lowrank  # noqa: E402

_lowrank.install(globals())  # svd_lowrank, pca_lowrank
from fnnet.torch import _lu  # noqa: E402

_lu.install(globals())  # lu_unpack
from fnnet.torch import _slices  # noqa: E402

_slices.install(globals())  # hsplit, vsplit, dsplit, split_with_sizes, *_scatter
from fnnet.torch import _renorm_frexp  # noqa: E402

_renorm_frexp.install(globals())
from fnnet.torch import _copies  # noqa: E402

_copies.install(globals())  # diagonal_copy, view_copy...: the view ops' copies; fill
from fnnet.torch import _python_maps  # noqa: E402

_python_maps.install()  # Tensor.apply_, Tensor.map_
from fnnet.torch import _aliases  # noqa: E402

_aliases.install(globals())  # second names of the ops installed above
from fnnet.torch import _elementwise_more  # noqa: E402

_elementwise_more.install(globals())  # logit, fmax, gcd..., in-place functions, dtype helpers
from fnnet.torch import special  # noqa: E402

special.install(globals())  # torch.special's second names; torch.polygamma, mvlgamma
from fnnet.torch import fft  # noqa: E402
from fnnet.torch.tensor import accept_numpy_names as _accept_numpy_names  # noqa: E402

_accept_numpy_names(globals())  # axis=/keepdims= wherever dim=/keepdim= (after every install)
from fnnet.torch import _out  # noqa: E402
from fnnet.torch._out import with_out  # noqa: E402

_out.install(globals(), linalg, special)  # out= wherever PyTorch takes it
from fnnet.torch import _submodules  # noqa: E402

_submodules.install()  # import torch.backends.cudnn; torch.hub says what to use
from fnnet.torch import amp, random, version  # noqa: E402
from fnnet.torch._format import set_printoptions  # noqa: E402
from fnnet.torch._memory_format import (  # noqa: E402
    channels_last,
    channels_last_3d,
    contiguous_format,
    memory_format,
    preserve_format,
)
from fnnet.torch.amp import (  # noqa: E402
    GradScaler,
    autocast,
    get_autocast_dtype,
    is_autocast_enabled,
)
from fnnet.torch.version import __version__  # noqa: E402


def from_dlpack(ext_tensor: Any, *, device: Any = None, copy: Any = None) -> Tensor:
    """A tensor with a copy of another library's array (anything with ``__dlpack__``);
    ``copy`` is accepted as given, since the values are copied either way.

    PyTorch equivalent: ``torch.from_dlpack`` (which shares the memory instead)."""
    from fnnet.torch.device import check_placement
    from fnnet.torch.utils.dlpack import from_dlpack as _from_dlpack

    del copy
    check_placement(device)
    return _from_dlpack(ext_tensor)


def to_dlpack(data: Tensor) -> Any:
    """A DLPack capsule of ``data``'s value, which the consumer must not write.

    PyTorch equivalent: ``torch.to_dlpack``."""
    from fnnet.torch.utils.dlpack import to_dlpack as _to_dlpack

    return _to_dlpack(data)


def is_inference(input: Tensor) -> _builtins.bool:
    """Whether ``input`` was made inside ``torch.inference_mode()``.

    PyTorch equivalent: ``torch.is_inference``."""
    from fnnet.torch._functions import tensor_argument

    return tensor_argument(input, "is_inference", "input", 1).is_inference()


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise _Unsupported(  # also an AttributeError: hasattr() is False
        f"fnnet.torch does not support torch.{name}; use jax.numpy / fnnet's functional "
        f"API (fnnet.nn.functional, fnnet.losses, fnnet.optim)")


# The names defined above, written out so that type checkers see them as exported
# (``torch.zeros`` under ``mypy --strict``); then the names installed at import.
__all__ = [
    "BFloat16Tensor", "BoolTensor", "ByteTensor", "CharTensor", "DoubleTensor", "FloatTensor",
    "Generator", "GradScaler", "HalfTensor", "IntTensor", "LongTensor", "ShortTensor", "Size",
    "Tensor", "abs", "accelerator", "add", "allclose", "amp", "arange", "argmax", "argmin",
    "random", "as_torch",
    "as_tensor", "autocast", "autograd", "backends", "bfloat16", "bool", "bool_", "cat", "clamp",
    "channels_last", "channels_last_3d", "contiguous_format", "memory_format", "preserve_format",
    "clip", "compile_stats", "compiler", "concat", "cos", "cpu", "cuda", "det", "device",
    "distributed",
    "distributions", "div", "double", "inverse", "linalg", "jit", "onnx", "func", "vmap",
    "dtype", "e", "empty", "empty_like", "enable_grad", "eq", "equal", "exp", "eye", "fft", "finfo",
    "flatten", "inf", "nan", "newaxis", "pi",
    "float", "float16", "float32", "float64", "from_dlpack", "from_numpy", "full", "full_like",
    "ge",
    "get_autocast_dtype", "get_default_device", "get_default_dtype", "get_num_threads", "gt",
    "half", "iinfo", "inference_mode", "initial_seed", "int", "int16", "int32", "int64", "int8",
    "is_autocast_enabled", "is_grad_enabled", "is_inference", "is_tensor", "isclose", "le",
    "linspace", "load",
    "log", "log_softmax", "long", "lt", "manual_seed", "matmul", "max", "maximum", "mean", "min",
    "minimum", "mm", "mul", "multiprocessing", "ne", "neg", "nn", "no_grad", "norm", "numel",
    "ones", "ones_like",
    "optim", "permute", "pow", "prod", "profiler", "rand", "rand_like", "randint",
    "randint_like", "randn", "randn_like", "randperm", "relu", "reset_compile_stats", "reshape",
    "save",
    "set_default_device", "set_default_dtype", "set_grad_enabled", "set_num_threads",
    "set_printoptions", "short",
    "sigmoid", "sin", "softmax", "sqrt", "square", "squeeze", "stack", "std", "sub", "sum", "tanh",
    "tensor", "testing", "to_dlpack", "transpose", "uint8", "unsqueeze",
    "use_deterministic_algorithms",
    "utils", "var", "version", "default_generator", "special", "sparse",
    "where", "with_out", "xpu", "zeros", "zeros_like",
]
__all__ += [name for name in dir() if not name.startswith("_") and name not in __all__]
