"""Devices and module dtypes as PyTorch's CPU build has them.

A device fnnet.torch cannot compute on (CUDA when JAX has no GPU, MPS, an accelerator
index without an accelerator) raises PyTorch's exception with PyTorch's words wherever
it is named: moves, factories' ``device=``, modules' ``device=``, ``torch.cuda``'s
queries. When JAX has a GPU, CUDA devices are accepted and move nothing. Modules built
with ``dtype=`` hold their floating parameters and buffers in that dtype, as PyTorch's.
"""

from __future__ import annotations

import importlib
import warnings

import jax
import numpy as np
import pytest

import fnnet.torch as ft

pytestmark = pytest.mark.torch

HAS_GPU = jax.default_backend() == "gpu"


def _outcome(make, T):
    """``make(T)``'s exception as ``(type, message)``, or None when it returns."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            make(T)
        except Exception as error:  # noqa: BLE001 - the exception is what is compared
            return type(error), str(error)
    return None


#: Named CUDA devices and accelerator indices: PyTorch's CPU build raises for each,
#: fnnet.torch too unless JAX has a GPU
CUDA = {
    "to('cuda')": lambda T: T.ones(2).to("cuda"),
    "to(device('cuda'))": lambda T: T.ones(2).to(T.device("cuda")),
    "to(device='cuda')": lambda T: T.ones(2).to(device="cuda"),
    "to('cuda:1')": lambda T: T.ones(2).to("cuda:1"),
    "to('cuda', float16)": lambda T: T.ones(2).to("cuda", T.float16),
    "to(0)": lambda T: T.ones(2).to(0),
    "cuda()": lambda T: T.ones(2).cuda(),
    "cuda(1)": lambda T: T.ones(2).cuda(1),
    "cuda('cuda:0')": lambda T: T.ones(2).cuda("cuda:0"),
    "Linear.cuda()": lambda T: T.nn.Linear(2, 2).cuda(),
    "Linear.to('cuda')": lambda T: T.nn.Linear(2, 2).to("cuda"),
    "Linear.to(0)": lambda T: T.nn.Linear(2, 2).to(0),
    "zeros": lambda T: T.zeros(2, device="cuda"),
    "zeros(device=0)": lambda T: T.zeros(2, device=0),
    "ones": lambda T: T.ones(2, device="cuda"),
    "empty": lambda T: T.empty(2, device="cuda"),
    "full": lambda T: T.full((2,), 1.0, device="cuda"),
    "tensor": lambda T: T.tensor([1.0], device="cuda"),
    "as_tensor": lambda T: T.as_tensor([1.0], device="cuda"),
    "arange": lambda T: T.arange(3, device="cuda"),
    "linspace": lambda T: T.linspace(0, 1, 3, device="cuda"),
    "logspace": lambda T: T.logspace(0, 1, 3, device="cuda"),
    "eye": lambda T: T.eye(2, device="cuda"),
    "randn": lambda T: T.randn(3, device="cuda"),
    "rand": lambda T: T.rand(3, device="cuda"),
    "randint": lambda T: T.randint(3, (2,), device="cuda"),
    "randperm": lambda T: T.randperm(3, device="cuda"),
    "normal": lambda T: T.normal(0.0, 1.0, (2,), device="cuda"),
    "scalar_tensor": lambda T: T.scalar_tensor(1.0, device="cuda"),
    "tril_indices": lambda T: T.tril_indices(3, 3, device="cuda"),
    "zeros_like": lambda T: T.zeros_like(T.ones(2), device="cuda"),
    "ones_like": lambda T: T.ones_like(T.ones(2), device="cuda"),
    "full_like": lambda T: T.full_like(T.ones(2), 3.0, device="cuda"),
    "empty_like": lambda T: T.empty_like(T.ones(2), device="cuda"),
    "rand_like": lambda T: T.rand_like(T.ones(2), device="cuda"),
    "randn_like": lambda T: T.randn_like(T.ones(2), device="cuda"),
    "randint_like": lambda T: T.randint_like(T.ones(2), 3, device="cuda"),
    "new_zeros": lambda T: T.ones(2).new_zeros(3, device="cuda"),
    "new_ones": lambda T: T.ones(2).new_ones(3, device="cuda"),
    "new_full": lambda T: T.ones(2).new_full((3,), 1.0, device="cuda"),
    "new_empty": lambda T: T.ones(2).new_empty(3, device="cuda"),
    "new_tensor": lambda T: T.ones(2).new_tensor([1.0], device="cuda"),
    "Linear(device='cuda')": lambda T: T.nn.Linear(2, 2, device="cuda"),
    "Linear(device=0)": lambda T: T.nn.Linear(2, 2, device=0),
    "Conv2d(device='cuda')": lambda T: T.nn.Conv2d(2, 2, 3, device="cuda"),
    "LSTM(device='cuda')": lambda T: T.nn.LSTM(2, 2, device="cuda"),
    "BatchNorm1d(device='cuda')": lambda T: T.nn.BatchNorm1d(2, device="cuda"),
    "Transformer(device='cuda')": lambda T: T.nn.Transformer(4, 2, 1, 1, 8, device="cuda"),
    "square mask": lambda T: T.nn.Transformer.generate_square_subsequent_mask(
        3, device="cuda"),
    "AveragedModel": lambda T: T.optim.swa_utils.AveragedModel(T.nn.Linear(2, 2),
                                                               device="cuda"),
    "cuda.current_device": lambda T: T.cuda.current_device(),
    "cuda.get_device_name": lambda T: T.cuda.get_device_name(),
    "cuda.synchronize": lambda T: T.cuda.synchronize(),
    "cuda.get_device_properties": lambda T: T.cuda.get_device_properties(0),
    "cuda.mem_get_info": lambda T: T.cuda.mem_get_info(),
    "cuda.reset_peak_memory_stats": lambda T: T.cuda.reset_peak_memory_stats(),
    "cuda.reset_max_memory_allocated": lambda T: T.cuda.reset_max_memory_allocated(),
    "cuda.Event": lambda T: T.cuda.Event(enable_timing=True),
    "cuda.device": lambda T: T.cuda.device(0).__enter__(),
    "cuda.get_rng_state": lambda T: T.cuda.get_rng_state(),
    "cuda.initial_seed": lambda T: T.cuda.initial_seed(),
}


@pytest.mark.parametrize("name", list(CUDA))
def test_cuda_raises_pytorchs_error_without_a_gpu_and_is_accepted_with_one(torch, name):
    if HAS_GPU:  # JAX computes on a GPU: CUDA is where the arrays are anyway
        assert _outcome(CUDA[name], ft) is None
        return
    want = _outcome(CUDA[name], torch)
    assert want is not None, "PyTorch's CPU build accepted it"
    assert _outcome(CUDA[name], ft) == want


def test_cuda_autocast_without_a_gpu_is_disabled_with_pytorchs_warning(torch):
    if HAS_GPU:
        pytest.skip("a GPU keeps CUDA autocast on")
    seen = []
    for lib in (torch, ft):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with lib.autocast("cuda") as region:
                inside = (type(region).__name__, lib.is_autocast_enabled("cuda"))
            with lib.autocast("cpu") as region:
                inside += (lib.is_autocast_enabled("cpu"),)
        seen.append((inside, [str(w.message) for w in caught], lib.cuda.is_initialized()))
    assert seen[1] == seen[0]
    assert seen[0][1] == ["CUDA is not available or torch_xla is imported. Disabling "
                          "autocast."]


def test_memory_queries_of_device_agnostic_code_answer_as_pytorchs_cpu_build(torch):
    # a script that logs them whatever the device: memory_stats() raised
    if HAS_GPU:
        pytest.skip("the GPU's numbers")
    for lib in (torch, ft):
        cuda = lib.cuda
        assert (cuda.memory_stats(), cuda.memory_allocated(), cuda.max_memory_allocated(),
                cuda.memory_reserved(), cuda.max_memory_reserved()) == ({}, 0, 0, 0, 0)
        assert type(cuda.memory_stats()).__name__ == "OrderedDict"
        assert cuda.empty_cache() is None


def test_device_properties_read_jaxs_gpu(monkeypatch):
    class Gpu:
        device_kind, compute_capability, core_count = "NVIDIA H100 80GB HBM3", "9.0", 132

        def memory_stats(self):
            return {"bytes_limit": 80 * 2 ** 30, "bytes_in_use": 2 ** 30}

    monkeypatch.setattr(importlib.import_module("fnnet.torch.device"), "_gpus",
                        lambda: [Gpu()])
    props = ft.cuda.get_device_properties(0)
    assert (props.name, props.major, props.minor, props.multi_processor_count,
            props.total_memory) == ("NVIDIA H100 80GB HBM3", 9, 0, 132, 80 * 2 ** 30)
    assert repr(props) == ("_CudaDeviceProperties(name='NVIDIA H100 80GB HBM3', major=9, "
                           "minor=0, total_memory=81920MB, multi_processor_count=132)")
    assert ft.cuda.mem_get_info() == (79 * 2 ** 30, 80 * 2 ** 30)
    ft.cuda.reset_peak_memory_stats()  # accepted (it raised NotImplementedError)
    assert ft.cuda.memory_stats()["allocated_bytes.all.current"] == 2 ** 30
    assert ft.cuda.is_initialized()
    with pytest.raises(AssertionError, match="Invalid device id"):
        ft.cuda.get_device_properties(1)


#: What device-probing and checkpointing code asks with PyTorch's CPU build, answered
#: alike: a resume script saves ``cuda.get_rng_state_all()``, probes ``torch.xpu``, and
#: sets the attention kernels' flags
PROBES = {
    "cuda.get_rng_state_all": lambda T: T.cuda.get_rng_state_all(),
    "cuda.set_rng_state_all": lambda T: T.cuda.set_rng_state_all([]),
    "cuda.set_rng_state": lambda T: T.cuda.set_rng_state(T.zeros(16, dtype=T.uint8)),
    "cuda.seed": lambda T: (T.cuda.seed(), T.cuda.seed_all()),
    "xpu": lambda T: (T.xpu.is_available(), T.xpu.device_count()),
    "backends.cuda.is_built": lambda T: T.backends.cuda.is_built(),
    "backends.cuda.sdp": lambda T: _sdp_flags(T),
    "backends.mkldnn.enabled": lambda T: T.backends.mkldnn.enabled,
}


def _sdp_flags(T):
    cuda = T.backends.cuda
    flags = [(cuda.flash_sdp_enabled(), cuda.mem_efficient_sdp_enabled(),
              cuda.math_sdp_enabled())]
    cuda.enable_flash_sdp(False)
    flags.append(cuda.flash_sdp_enabled())
    cuda.enable_flash_sdp(True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's FutureWarning: sdp_kernel is deprecated
        with cuda.sdp_kernel(enable_flash=False, enable_math=True,
                             enable_mem_efficient=False):
            flags.append((cuda.flash_sdp_enabled(), cuda.mem_efficient_sdp_enabled()))
    flags.append((cuda.flash_sdp_enabled(), cuda.mem_efficient_sdp_enabled()))
    return flags


@pytest.mark.parametrize("name", list(PROBES))
def test_device_probes_answer_as_pytorchs_cpu_build(torch, name):
    if HAS_GPU:
        pytest.skip("a GPU's answers")
    assert PROBES[name](ft) == PROBES[name](torch)


def test_cpu_libraries_are_not_used_and_unknown_backends_say_so():
    for library in (ft.backends.mkl, ft.backends.mkldnn, ft.backends.openmp):
        assert library.is_available() is False  # a script takes its plain path
    for ask in (lambda: ft.backends.quantized, lambda: ft.backends.cuda.cufft_plan_cache):
        with pytest.raises(NotImplementedError, match=r"torch\.backends\.(cuda\.)?"
                           r"(quantized|cufft_plan_cache); XLA chooses its own kernels"):
            ask()


def test_cuda_events_time_the_recorded_work_with_a_gpu(monkeypatch):
    """The tutorials' timing idiom on a GPU: a record computes what has been recorded
    and waits for it, so the interval holds the work between the records."""
    monkeypatch.setattr(importlib.import_module("fnnet.torch._device_sync"), "gpus",
                        lambda: [object()])
    monkeypatch.setattr(importlib.import_module("fnnet.torch.device"), "_gpus",
                        lambda: [object()])
    start, end = ft.cuda.Event(enable_timing=True), ft.cuda.Event(enable_timing=True)
    with pytest.raises(RuntimeError, match="Both events must be recorded before "
                       "calculating elapsed time."):
        start.elapsed_time(end)
    x = ft.ones(64, 64)
    start.record()
    y = (x @ x).relu().sum()
    assert ft._compiler.current().tape.nodes  # recorded, not computed yet
    end.record()
    assert not ft._compiler.current().tape.nodes  # the record computed it
    ft.cuda.synchronize()
    assert start.query() and end.elapsed_time(end) == 0.0
    assert 0.0 < start.elapsed_time(end) < 60_000.0
    assert y.item() == 64.0 * 64 * 64
    untimed = ft.cuda.Event()
    untimed.record()
    with pytest.raises(RuntimeError, match="Both events must be created with argument "
                       "'enable_timing=True'."):
        start.elapsed_time(untimed)


#: Devices no build of fnnet.torch computes on, and a misnamed one: the same error
#: with or without a GPU
NEVER = {
    "to('mps')": lambda T: T.ones(2).to("mps"),
    "Linear.to('mps')": lambda T: T.nn.Linear(2, 2).to("mps"),
    "to('hip')": lambda T: T.ones(2).to("hip"),
    "to('xpu')": lambda T: T.ones(2).to("xpu"),
    "to(-1)": lambda T: T.ones(2).to(-1),
    "cuda('cpu')": lambda T: T.ones(2).cuda("cpu"),
    "Linear.cuda('cpu')": lambda T: T.nn.Linear(2, 2).cuda("cpu"),
    "cuda.set_device('cpu')": lambda T: T.cuda.set_device("cpu"),
    "Linear(dtype=int64)": lambda T: T.nn.Linear(2, 2, dtype=T.int64),
    "Embedding(dtype=int64)": lambda T: T.nn.Embedding(2, 2, dtype=T.int64),
    "Linear.to(int64)": lambda T: T.nn.Linear(2, 2).to(T.int64),
    "Linear.to(an int64 tensor)": lambda T: T.nn.Linear(2, 2).to(T.zeros(1, dtype=T.long)),
}


@pytest.mark.parametrize("name", list(NEVER))
def test_devices_never_available_raise_pytorchs_error(torch, name):
    want = _outcome(NEVER[name], torch)
    assert want is not None
    assert _outcome(NEVER[name], ft) == want


@pytest.mark.parametrize("make", [lambda T: T.ones(2).to("gpu"),
                                  lambda T: T.zeros(2, device="gpu"),
                                  lambda T: T.nn.Linear(2, 2, device="gpu")])
def test_a_name_that_is_no_device_type_raises_pytorchs_error(torch, make):
    # fnnet.torch lists the device types it knows, PyTorch all of its own
    (want_type, want), (got_type, got) = _outcome(make, torch), _outcome(make, ft)
    assert got_type is want_type is RuntimeError
    assert got.startswith("Expected one of cpu, cuda")
    assert got.endswith(" device type at start of device string: gpu")
    assert want.endswith(" device type at start of device string: gpu")


def test_the_cpu_and_meta_are_accepted_with_every_form_of_to(torch):
    for T in (torch, ft):
        x = T.ones(2)
        assert x.to("cpu", T.float16).dtype is T.float16
        assert x.to(device="cpu", dtype=T.bfloat16).dtype is T.bfloat16
        assert x.to(T.device("cpu"), T.float16, non_blocking=True, copy=False).dtype \
            is T.float16
        assert x.to(T.float16, False, True).dtype is T.float16  # non_blocking, copy
        assert x.to(T.zeros(1, dtype=T.float16)).dtype is T.float16
        assert x.to(memory_format=T.preserve_format).dtype is T.float32
        assert x.to("cpu:1").dtype is T.float32
        assert tuple(x.to("meta").shape) == (2,)
        assert T.zeros(2, device="cpu:0").dtype is T.float32
        model = T.nn.Linear(2, 2).to("cpu", T.float16)
        assert model.weight.dtype is T.float16
        assert T.nn.Linear(2, 2).to(T.zeros(1, dtype=T.bfloat16)).bias.dtype is T.bfloat16
    assert ft.ones(2).cpu().to("cpu").dtype is ft.float32


_CONVERSIONS = {
    "double": lambda T, x: x.double(), "to float64": lambda T, x: x.to(T.float64),
    "type float64": lambda T, x: x.type(T.float64), "to dtype=": lambda T, x: x.to(
        dtype=T.double), "as_tensor": lambda T, x: T.as_tensor(x, dtype=T.float64),
    "float": lambda T, x: x.float(), "to float32": lambda T, x: x.to(T.float32),
    "type name": lambda T, x: x.type("torch.FloatTensor"), "to cpu": lambda T, x: x.to("cpu"),
    "to copy": lambda T, x: x.to(T.float32, copy=True),
    "to copy positional": lambda T, x: x.to(T.float32, False, True),
    "contiguous": lambda T, x: x.contiguous(), "clone": lambda T, x: x.clone(),
    "int of int": lambda T, x: x.long().int(),
}


@pytest.mark.parametrize("name", list(_CONVERSIONS))
def test_a_conversion_is_the_tensor_or_a_copy_as_pytorchs(torch, name):
    # PyTorch returns the tensor itself where nothing changes, else a copy that no later
    # write to either one reaches (float64 without x64 included: held as float32)
    seen = []
    for T in (torch, ft):
        x = T.tensor([1.0, 2.0]) if name != "int of int" else T.tensor([1, 2])
        base = x if name != "int of int" else x.long()
        y = _CONVERSIONS[name](T, base)
        base.add_(1)
        after_x = y.tolist()
        y.mul_(3)
        seen.append((y is base, after_x, base.tolist()))
    assert seen[1] == seen[0]


@pytest.mark.parametrize("args", [(np.float16,), (np.dtype("float16"),), ("cpu", np.int8),
                                  ([1],)])
def test_to_refuses_what_is_no_torch_dtype_as_pytorch(torch, args):
    """A numpy dtype is no torch dtype: PyTorch's TypeError, never a silent float32."""
    errors = []
    for T in (torch, ft):
        with pytest.raises(TypeError) as error:
            T.ones(2).to(*args)
        errors.append(str(error.value))
    assert errors[1] == errors[0]


@pytest.mark.skipif(HAS_GPU, reason="JAX has a GPU: CUDA is accepted")
def test_a_refused_device_changes_nothing():
    model = ft.nn.Linear(2, 2)
    with pytest.raises(AssertionError):
        model.to("cuda", ft.float16)  # the device is checked before the cast
    assert model.weight.dtype is ft.float32
    ft.manual_seed(0)
    with pytest.raises(AssertionError):
        ft.randn(3, device="cuda")  # before the draw
    after_refusal = ft.randn(3).numpy()
    ft.manual_seed(0)
    np.testing.assert_array_equal(after_refusal, ft.randn(3).numpy())
    with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled$"):
        ft.set_default_device("cuda")  # PyTorch raises at the first tensor made there
    with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled$"):
        ft.cuda.set_device(0)
    with pytest.raises(RuntimeError, match="^PyTorch is not linked with support for mps"):
        ft.set_default_device("mps")
    with pytest.raises(RuntimeError, match="^Cannot access accelerator device when none"):
        ft.set_default_device(0)
    assert ft.get_default_device() == "cpu"


#: Modules built with dtype=, as PyTorch's factory keywords
MODULES = {
    "Linear": lambda T, d: T.nn.Linear(3, 2, dtype=d),
    "Conv2d": lambda T, d: T.nn.Conv2d(2, 3, 3, dtype=d),
    "Conv1d": lambda T, d: T.nn.Conv1d(2, 3, 3, dtype=d),
    "ConvTranspose2d": lambda T, d: T.nn.ConvTranspose2d(2, 3, 3, dtype=d),
    "LSTM": lambda T, d: T.nn.LSTM(3, 4, num_layers=2, dtype=d),
    "GRU": lambda T, d: T.nn.GRU(3, 4, dtype=d),
    "LSTMCell": lambda T, d: T.nn.LSTMCell(3, 4, dtype=d),
    "RNNCell": lambda T, d: T.nn.RNNCell(3, 4, nonlinearity="relu", dtype=d),
    "BatchNorm1d": lambda T, d: T.nn.BatchNorm1d(3, dtype=d),  # num_batches_tracked: int
    "SyncBatchNorm": lambda T, d: T.nn.SyncBatchNorm(3, dtype=d),
    "LayerNorm": lambda T, d: T.nn.LayerNorm(3, dtype=d),
    "GroupNorm": lambda T, d: T.nn.GroupNorm(1, 3, dtype=d),
    "InstanceNorm1d": lambda T, d: T.nn.InstanceNorm1d(3, affine=True,
                                                       track_running_stats=True, dtype=d),
    "Embedding": lambda T, d: T.nn.Embedding(5, 3, dtype=d),
    "EmbeddingBag": lambda T, d: T.nn.EmbeddingBag(5, 3, dtype=d),
    "PReLU": lambda T, d: T.nn.PReLU(dtype=d),
    "MultiheadAttention": lambda T, d: T.nn.MultiheadAttention(4, 2, dtype=d),
    "TransformerEncoderLayer": lambda T, d: T.nn.TransformerEncoderLayer(4, 2, 8, dtype=d),
    "TransformerDecoderLayer": lambda T, d: T.nn.TransformerDecoderLayer(4, 2, 8, dtype=d),
    # the dtype reaches the layers the Transformer builds, not a custom encoder
    "Transformer": lambda T, d: T.nn.Transformer(
        4, 2, 1, 1, 8, custom_encoder=T.nn.Linear(2, 2), dtype=d),
}


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", list(MODULES))
def test_module_dtype_gives_pytorchs_state_dict_dtypes(torch, name, dtype):
    dtypes = []
    for T in (torch, ft):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = MODULES[name](T, getattr(T, dtype))
        dtypes.append({k: str(v.dtype) for k, v in module.state_dict().items()})
    assert dtypes[1] == dtypes[0]
    assert dtype in str(dtypes[0])


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_a_low_precision_linear_trains_as_pytorchs(torch, dtype):
    results = []
    for T in (torch, ft):
        d = getattr(T, dtype)
        model = T.nn.Linear(3, 2, dtype=d)
        with T.no_grad():
            model.weight.copy_(T.tensor([[0.5, -1.0, 2.0], [1.0, 1.0, 1.0]]))
            model.bias.copy_(T.tensor([0.25, -0.5]))
        opt = T.optim.SGD(model.parameters(), lr=0.1)
        x = T.tensor([[1.0, 2.0, 3.0], [0.5, 0.25, -1.0]], dtype=d)
        out = model(x)
        loss = out.float().pow(2).mean()
        opt.zero_grad()
        loss.backward()
        grad_dtypes = [str(p.grad.dtype) for p in model.parameters()]
        opt.step()
        results.append((str(out.dtype), grad_dtypes, str(model.weight.dtype),
                        float(loss.item()), model.weight.detach().float().numpy().copy()))
    (*want, want_weight), (*got, got_weight) = results
    assert got[:3] == want[:3] and want[0] == f"torch.{dtype}"
    assert got[3] == pytest.approx(want[3], rel=1e-2)
    np.testing.assert_allclose(got_weight, want_weight, rtol=2e-2, atol=2e-2)
