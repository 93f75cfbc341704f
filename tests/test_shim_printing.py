"""What a beginner's program prints, and the errors and warnings it meets, compared with
PyTorch's line by line: each snippet runs under PyTorch and fnnet.torch, and its standard
output, the exception it ends with (type and message) and the warnings it raises (category
and message) must be PyTorch's."""

from __future__ import annotations

import contextlib
import io
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import fnnet.torch as ft

pytestmark = pytest.mark.torch

SNIPPETS = {}


def snippet(function):
    SNIPPETS[function.__name__] = function
    return function


def run(function, T):
    """``(printed, (exception type, message) or None, [(warning category, message)])``
    of ``function(T)``; PyTorch's build-specific "(Triggered internally at ...)" suffix
    of a warning is left out."""
    out = io.StringIO()
    raised = None
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out):
        warnings.simplefilter("always")
        try:
            function(T)
        except Exception as error:  # noqa: BLE001 - the exception is what is compared
            raised = (type(error), str(error))
        finally:
            T.set_printoptions(profile="default")
            T.set_printoptions(sci_mode=None)
    seen = [(w.category, str(w.message).split(" (Triggered internally")[0]) for w in caught]
    return out.getvalue(), raised, seen


# -- tensors ------------------------------------------------------------------------------


@snippet
def each_dtype(T):
    for dtype in (T.float16, T.bfloat16, T.int8, T.uint8, T.int16, T.bool, T.complex64,
                  T.float32, T.int64):
        print(T.tensor([1, 0, 2], dtype=dtype))
        print(T.tensor([[1.5, -2.25], [3, 4]]).abs().to(dtype))
        print(T.tensor([0.1, 1 / 3, 2.7182818]).to(dtype))


@snippet
def zero_dimensional(T):
    for value in (3.0, 3, True, 1.23456789, -0.0, 1e-10, 1e10, float("nan"), 2 + 3j):
        print(T.tensor(value))
    print(T.tensor(5, dtype=T.uint8), T.tensor(0.5, dtype=T.float16))


@snippet
def empty(T):
    print(T.tensor([]), T.zeros(0, 3), T.zeros(0, dtype=T.long), T.empty(2, 0, 4))
    print(T.zeros(0, dtype=T.bool), T.zeros(0, requires_grad=True), T.zeros(3, 0, dtype=T.int8))


@snippet
def summarised(T):
    print(T.arange(2000))
    print(T.arange(10000.0).reshape(100, 100))
    print(T.ones(1001))
    print(T.arange(24000).reshape(2, 3, 4000))


@snippet
def magnitudes(T):
    for values in ([1e-8, 1.0], [1e9, 1.0], [123456789.0], [0.0001, 0.5], [1e-5], [1e5, 1.5],
                   [1e20, -1e-20], [1234.5, 0.001], [1e3, 1.0], [1.0, 1001.0], [9.99e-5],
                   [0.5, 1e4], [1e5, 2e5], [123456.0], [1e7], [1e8]):
        print(T.tensor(values))


@snippet
def nan_inf_and_negative_zero(T):
    nan, inf = float("nan"), float("inf")
    for values in ([nan, 1.0, inf], [nan], [-inf, 2.0], [inf, 1e-6], [nan, 1.5, 2.25],
                   [-0.0, 1.0], [-0.0], [-0.0, 1.5]):
        print(T.tensor(values))
    print(-T.zeros(3))


@snippet
def grad_fns(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    print(x, x * 2, (x * 2).sum(), x.mean(), x[0], x.detach())
    w = T.ones(2, 3, requires_grad=True)
    for view in (w.t(), T.t(w), w.T, w.mT, w.transpose(0, 1), w.view(6), w.reshape(-1),
                 w[0:1], w.unsqueeze(0), w.permute(1, 0), w.flatten(), w.expand(2, 2, 3)):
        print(view)
    for out in (w.relu(), w.sigmoid(), w.exp(), w.tanh(), w.softmax(1), w + 1, w - 1, w / 2,
                w.sum(0), w.max(), w.abs(), w.clone(), w.pow(2), w.mean(1), -w, w.norm(),
                T.cat([w, w]), T.stack([w, w]), w.to(T.float16), w[w > 0], w.min(1)[0]):
        print(out)
    print(T.ones(1, 2, requires_grad=True) @ T.ones(2, 1))
    print(x.grad_fn, x.is_leaf, (x * 2).is_leaf, (x * 2).requires_grad)


@snippet
def layer_grad_fns(T):
    T.manual_seed(0)
    x = T.ones(1, 4)
    for out in (T.nn.Linear(4, 2)(x), T.nn.Linear(4, 2, bias=False)(x),
                T.nn.Conv2d(1, 1, 3)(T.ones(1, 1, 4, 4)), T.nn.LayerNorm(4)(x),
                T.nn.BatchNorm1d(4)(T.ones(2, 4)), T.nn.Embedding(3, 2)(T.tensor([1])),
                T.nn.MaxPool2d(2)(T.ones(1, 1, 4, 4, requires_grad=True)),
                T.nn.functional.cross_entropy(T.ones(2, 3, requires_grad=True),
                                              T.tensor([0, 1])),
                T.nn.functional.mse_loss(T.ones(2, requires_grad=True), T.zeros(2))):
        print(out.grad_fn.name())


@snippet
def devices_without_cuda(T):
    print(T.cuda.is_available(), T.cuda.device_count())
    device = T.device("cuda" if T.cuda.is_available() else "cpu")
    print(device, repr(device), T.ones(2, device=device), T.ones(2).device)
    print(T.device("cuda:0"), repr(T.device("cuda", 1)), T.device("cpu").type)


@snippet
def print_options(T):
    T.set_printoptions(precision=2)
    print(T.tensor([1.23456, 2.0]), T.tensor(3.14159))
    T.set_printoptions(precision=6)
    print(T.tensor([1 / 3]))
    T.set_printoptions(profile="default")
    T.set_printoptions(sci_mode=False)
    print(T.tensor([1e-8, 1e8]))
    T.set_printoptions(sci_mode=True)
    print(T.tensor([1.0, 2.0]), T.tensor([1, 2]), T.tensor(0.0), T.tensor([0.0, float("nan")]))
    T.set_printoptions(sci_mode=None, linewidth=20)
    print(T.arange(20.0), T.arange(20.0).reshape(2, 10), T.arange(30))
    T.set_printoptions(linewidth=200)
    print(T.arange(60.0))
    T.set_printoptions(profile="default")
    T.set_printoptions(threshold=5)
    print(T.arange(10), T.arange(6.0), T.arange(5.0))
    T.set_printoptions(threshold=5, edgeitems=1)
    print(T.arange(12).reshape(3, 4))
    T.set_printoptions(profile="full")
    print(str(T.arange(1100.0))[-60:])


@snippet
def formatting_a_loss(T):
    loss = T.tensor(0.123456)
    # the old-style formats too, as programs write them
    print(f"{loss:.4f}", f"{loss}", f"{loss!r}", "%.3f" % loss,  # noqa: UP031
          "{:.2e}".format(loss))  # noqa: UP032
    print(f"{loss:>10.2f}", f"{T.tensor(3):d}", f"{T.tensor([1.5])}", str(loss), format(loss))
    print(f"{T.tensor(2):.2f}", "%d" % T.tensor(4),  # noqa: UP031
          int(T.tensor(3.7)), float(T.tensor(2)))
    print(f"{T.tensor(True)}", bool(T.tensor([1])))
    total = T.ones(2, requires_grad=True).sum()
    print(f"{total:.2f}", f"{total.item():.3f}")


@snippet
def formatting_a_vector(T):
    print(f"{T.tensor([1.5, 2.0]):.2f}")


@snippet
def formatting_a_one_element_vector(T):
    print(f"{T.tensor([1.5]):.2f}")


@snippet
def sizes_dtypes_devices(T):
    x = T.ones(2, 3)
    print(x.size(), x.shape, repr(x.shape), x.shape[0], x.size(1), T.Size([]), T.Size([4]))
    print(x.dtype, repr(x.dtype), T.float16, x.device, repr(x.device), x.type())
    print(x.shape == (2, 3), list(x.shape), tuple(x.shape), x.numel(), x.dim(), x.ndim)
    print(x.size(-1), len(x), T.ones(3, dtype=T.long).type(), T.get_default_dtype())
    print(x.shape + (4,), x.shape[1:], T.bool, T.uint8, T.bfloat16, T.complex64, T.int8)
    print(T.half, T.long, x.is_cuda, x.layout, x.requires_grad, x.grad)


@snippet
def containers_of_tensors(T):
    t = T.tensor([1.0, 2.0])
    print(str(t) == repr(t), [t], (t, t), {"a": t}, str([T.tensor(1)]))
    print(T.tensor([T.tensor(1.0), T.tensor(2.5)]), T.tensor([T.ones(1), T.ones(1)]))
    print(t.tolist(), T.tensor(3.0).item(), T.tensor([[1, 2]]).tolist(), T.tensor([0.1]).item())
    print(T.tensor([True]).tolist(), type(T.tensor(2).item()), T.tensor([1.0]).numpy())
    print(T.tensor(0.1, dtype=T.float16).item(), T.tensor(0.1, dtype=T.bfloat16).item())


@snippet
def complex_bool_int(T):
    print(T.tensor([1 + 2j, -3.5 - 0.25j]), T.tensor([1j]), T.zeros(2, dtype=T.cfloat))
    print(T.tensor([1e-6 + 1j, 1e5j]), T.tensor([float("nan") + 1j]))
    print(T.tensor([True, True]), T.tensor([[True, False], [False, False]]))
    print(T.tensor([-1, 100, 3]), T.tensor([255], dtype=T.uint8), T.arange(5) > 2)
    print(T.tensor([-128], dtype=T.int8), T.arange(8).reshape(2, 2, 2, 1))
    print(T.arange(24.0).reshape(2, 3, 4), T.arange(6.0).reshape(1, 2, 3) * -1.5)


@snippet
def casts_to_narrow_integers(T):
    x = T.tensor([-1.0, 256.0, 1.5, 300.7, -300.0, -128.5, 127.9])
    print(x.to(T.uint8), x.to(T.int8), x.byte(), x.char(), x.to(T.int16), (x * 2).to(T.uint8))
    print(x.half().to(T.uint8), x.bfloat16().to(T.int8), T.tensor([1.5, -2.5]).long())


@snippet
def half_precision(T):
    print(T.tensor([1 / 3, 65504.0], dtype=T.float16), T.tensor([1e-7], dtype=T.float16))
    print(T.tensor([0.1, 0.2], dtype=T.bfloat16), T.ones(2, dtype=T.half, requires_grad=True))
    print(T.tensor([1, 2], dtype=T.bfloat16) * 1.1)


@snippet
def half_precision_quotients(T):
    for dtype in (T.float16, T.bfloat16):
        x = T.tensor([5.0, 1.0, 7.0, -3.3, 1000.0], dtype=dtype)
        y = T.tensor([3.0, 3.0, 2.9, 3.7, 7.0], dtype=dtype)
        print(x / 3, x / 7.3, x / y, T.div(x, y), (x / 3).float(), (x / y).float(), 1 / x)


@snippet
def reductions_beginners_print(T):
    x = T.tensor([[0.1, 0.9], [0.8, 0.2]])
    print(x.argmax(1), x.max(1), x.max(dim=1, keepdim=True), T.max(x, 1).indices)
    print(x.topk(1), x.sort(1))
    predicted, labels = T.tensor([0, 1, 1]), T.tensor([0, 1, 0])
    print((predicted == labels).sum(), (predicted == labels).sum().item() / 3)
    print((predicted == labels).float().mean(), f"{(predicted == labels).float().mean():.2%}")
    w = T.ones(2, requires_grad=True)
    with T.no_grad():
        doubled = w * 2
    print(doubled, doubled.requires_grad, w.detach().requires_grad, w.detach().numpy())


# -- modules, optimizers and schedulers ---------------------------------------------------


@snippet
def parameters(T):
    p = T.nn.Parameter(T.tensor([1.0, 2.0]))
    print(p, repr(p), p * 2, type(p).__name__, p.data, p.detach(), f"{p}")
    print(T.nn.Parameter(T.ones(2), requires_grad=False), T.nn.Parameter(T.ones(0)))


@snippet
def a_scalar_parameter_formatted(T):
    scale = T.nn.Parameter(T.tensor(1.5))
    print(f"{scale}", f"{scale.item():.2f}", f"{scale.detach():.2f}")
    print(f"{scale:.2f}")  # PyTorch formats a Parameter as an object: a TypeError


@snippet
def named_parameters_loop(T):
    T.manual_seed(0)
    model = T.nn.Sequential(T.nn.Linear(3, 2), T.nn.ReLU(), T.nn.Linear(2, 1))
    for name, p in model.named_parameters():
        print(name, p.shape, p.requires_grad, p.dtype)
        print(f"{name:20s} {str(tuple(p.shape)):>10} {p.numel()}")
    print(sum(p.numel() for p in model.parameters()), list(model.state_dict().keys()))
    print([n for n, _ in model.named_children()], [n for n, _ in model.named_modules()])
    for key, value in model.state_dict().items():
        print(key, value.size())


class _Scale:
    """A module class with a one-line extra_repr, made for either library."""

    @staticmethod
    def of(T, lines=1):
        class Scale(T.nn.Module):
            def __init__(self, s):
                super().__init__()
                self.s = s

            def extra_repr(self):
                return "\n".join(f"s={self.s}" for _ in range(lines))

        return Scale


@snippet
def model_printing(T):
    class Net(T.nn.Module):
        def __init__(self):
            super().__init__()
            nn = T.nn
            self.features = nn.Sequential(
                nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
                nn.Conv2d(8, 16, kernel_size=(3, 5), stride=2, padding_mode="reflect",
                          padding=1, bias=False),
                nn.BatchNorm2d(16), nn.Dropout(0.25), nn.Dropout2d(), nn.AdaptiveAvgPool2d(1))
            self.blocks = nn.ModuleList([nn.Linear(16, 16) for _ in range(2)])
            self.heads = nn.ModuleDict({"a": nn.Linear(16, 3),
                                        "b": nn.Sequential(nn.Flatten(), nn.Identity())})
            self.rnn = nn.LSTM(16, 32, num_layers=2, batch_first=True, dropout=0.1)
            self.gru = nn.GRU(4, 4, bidirectional=True)
            self.emb = nn.Embedding(10, 4, padding_idx=0)
            self.norm, self.act, self.sm = nn.LayerNorm(16), nn.GELU(), nn.Softmax(dim=1)
            self.bn1 = nn.BatchNorm1d(16, momentum=0.01, affine=False)
            self.loss = nn.CrossEntropyLoss(label_smoothing=0.1)
            self.up = nn.Upsample(scale_factor=2, mode="nearest")
            self.mha = nn.MultiheadAttention(16, 2)
            self.empty = nn.Sequential()
            self.params = nn.ParameterList([nn.Parameter(T.ones(2, 3))])
            self.named = nn.ParameterDict({"a": nn.Parameter(T.ones(2))})

    Scale = _Scale.of(T)
    print(Net())
    print(Scale(3), _Scale.of(T, lines=2)(1))
    print(T.nn.Sequential(Scale(1), T.nn.Sequential(Scale(2), T.nn.Sequential(T.nn.Tanh()))))
    print(T.nn.Sequential(OrderedDict([("fc", T.nn.Linear(2, 2)), ("act", T.nn.Sigmoid())])))
    print(T.nn.Module(), T.nn.ModuleList(), T.nn.ModuleDict(), T.nn.Sequential(
        *[T.nn.Linear(2, 2)] * 3))


@snippet
def layer_reprs(T):
    nn = T.nn
    for layer in (
            nn.Conv1d(2, 4, 3, dilation=2, groups=2), nn.Conv2d(3, 6, 5, padding="same"),
            nn.Conv2d(1, 1, 3, padding=(1, 2), padding_mode="circular"), nn.Conv3d(1, 2, 3),
            nn.BatchNorm2d(3, eps=1e-3, track_running_stats=False),
            nn.Dropout(p=0.5, inplace=True), nn.LSTM(3, 4, bias=False), nn.GRU(3, 4, 2),
            nn.RNN(3, 4, nonlinearity="relu"), nn.LSTMCell(3, 4), nn.GRUCell(2, 2),
            nn.Embedding(5, 3, max_norm=1.0), nn.EmbeddingBag(5, 3, mode="sum"),
            nn.MaxPool2d(3, stride=1, padding=1), nn.AvgPool2d(2, ceil_mode=True),
            nn.AdaptiveMaxPool2d(1), nn.Softmax(), nn.LogSoftmax(dim=-1), nn.ELU(),
            nn.Hardtanh(), nn.PReLU(), nn.Softplus(), nn.Threshold(0.1, 20),
            nn.GELU(approximate="tanh"), nn.GroupNorm(2, 4), nn.InstanceNorm2d(3),
            nn.LayerNorm([2, 3], elementwise_affine=False), nn.L1Loss(reduction="sum"),
            nn.NLLLoss(ignore_index=0), nn.SmoothL1Loss(beta=0.5),
            nn.KLDivLoss(reduction="batchmean"), nn.Flatten(0, -1), nn.Unflatten(1, (2, 2)),
            nn.TransformerEncoderLayer(8, 2, 16), nn.ZeroPad2d(1),
            nn.Upsample(size=4, mode="bilinear", align_corners=False), nn.PixelShuffle(2),
            nn.Bilinear(2, 3, 4), nn.Linear(3, 4, bias=False), nn.CosineSimilarity(),
            nn.ConvTranspose1d(2, 2, 3, stride=2), nn.LeakyReLU(0.2, inplace=True),
            nn.ELU(0.5, inplace=True), nn.CELU(inplace=True), nn.Hardtanh(-2, 2, True),
            nn.Threshold(0.1, 20, inplace=True), nn.Hardswish(inplace=True),
            nn.Hardsigmoid(inplace=True), nn.SiLU(inplace=True), nn.SyncBatchNorm(3)):
        print(layer)


@snippet
def a_module_added_again_keeps_its_place(T):
    heads = T.nn.ModuleDict({"cls": T.nn.Linear(2, 2), "reg": T.nn.Linear(2, 1)})
    heads.update({"cls": T.nn.Linear(2, 5)})
    heads["reg"] = T.nn.Identity()
    heads.add_module("cls", T.nn.Tanh())
    print(heads, list(heads))


@snippet
def optimizers(T):
    T.manual_seed(0)
    model = T.nn.Linear(2, 1)
    print(T.optim.SGD(model.parameters(), lr=0.1))
    print(T.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True,
                      weight_decay=1e-4))
    print(T.optim.Adam(model.parameters(), lr=1e-3), T.optim.AdamW(model.parameters()))
    print(T.optim.RMSprop(model.parameters(), lr=0.01), T.optim.Adagrad(model.parameters()))
    print(T.optim.Adam([{"params": [model.weight]}, {"params": [model.bias], "lr": 0.1}],
                       lr=1e-2))
    optimizer = T.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    print(optimizer.state_dict())
    model(T.ones(1, 2)).sum().backward()
    optimizer.step()
    state = optimizer.state_dict()
    print(state["param_groups"], list(state["state"]), list(state["state"][0]))
    print(optimizer.param_groups[0]["lr"], len(optimizer.param_groups), optimizer.defaults)


@snippet
def schedulers(T):
    optimizer = T.optim.SGD(T.nn.Linear(2, 1).parameters(), lr=0.1)
    step = T.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    print(step.state_dict())
    for epoch in range(3):
        optimizer.step()
        step.step()
        print(epoch, step.get_last_lr(), optimizer.param_groups[0]["lr"])
    print(step.state_dict())
    print(T.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10).state_dict())
    print(T.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=2).state_dict())


@snippet
def scheduler_stepped_before_the_optimizer(T):
    optimizer = T.optim.SGD(T.nn.Linear(2, 1).parameters(), lr=0.1)
    scheduler = T.optim.lr_scheduler.StepLR(optimizer, 1)
    scheduler.step()
    optimizer.step()
    print(scheduler.get_last_lr())


@snippet
def training_loop_prints(T):
    # "%.4f" % loss converts a tensor that requires grad: PyTorch warns once per process,
    # so the warning is spent first (its words are tested in WARNED_ONCE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        float(T.ones(1, requires_grad=True) * 2)
    T.manual_seed(0)
    model = T.nn.Linear(3, 1)
    optimizer = T.optim.SGD(model.parameters(), lr=0.1)
    x, y = T.arange(12.0).reshape(4, 3) / 10, T.ones(4, 1)
    for epoch in range(3):
        optimizer.zero_grad()
        loss = T.nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        print(f"epoch {epoch}: {loss.item():.3f}", f"epoch {epoch}: {loss:.3f}", "loss", loss)
        print("epoch %d loss %.4f" % (epoch, loss),  # noqa: UP031
              "{:.4f}".format(loss.item()))  # noqa: UP032
    print(model.weight.grad, model.bias.grad.shape)
    norm = T.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    print(norm, f"{norm:.3f}")


@snippet
def thread_count_read_back(T):
    before = T.get_num_threads()
    T.set_num_threads(1)
    print(T.get_num_threads(), type(before).__name__)
    T.set_num_threads(before)


@snippet
def version(T):
    v = T.__version__
    print(type(v).__name__, v >= "2.0", v >= (2, 0), v < (3,), v.split(".")[0], v[:4])


@snippet
def load_state_dict_not_strict(T):
    nn = T.nn
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    other = nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 2), nn.Linear(2, 2))
    result = model.load_state_dict(other.state_dict(), strict=False)
    print(result, result.missing_keys, result.unexpected_keys)
    print(model.load_state_dict(model.state_dict()))


@snippet
def load_state_dict_of_other_sizes(T):
    T.nn.Linear(2, 3).load_state_dict(T.nn.Linear(2, 4).state_dict())


@snippet
def load_state_dict_missing_and_unexpected(T):
    nn = T.nn
    nn.Sequential(nn.Linear(2, 3)).load_state_dict(
        nn.Sequential(nn.Linear(2, 4), nn.Linear(4, 4)).state_dict())


@snippet
def data_loader_batches(T):
    from_data = T.utils.data
    dataset = from_data.TensorDataset(T.arange(6.0).reshape(3, 2), T.tensor([0, 1, 0]))
    for x, y in from_data.DataLoader(dataset, batch_size=2):
        print(x, y)
    print(len(dataset), dataset[0], len(from_data.DataLoader(dataset, batch_size=2)))
    for batch in from_data.DataLoader([{"a": 1, "b": T.ones(2)}, {"a": 2, "b": T.zeros(2)}],
                                      batch_size=2):
        print(batch)


@snippet
def data_loader_of_unequal_samples(T):
    for batch in T.utils.data.DataLoader([T.ones(3), T.ones(4)], batch_size=2):
        print(batch)


# -- the errors and warnings beginners meet -----------------------------------------------


@snippet
def linear_of_unflattened_images(T):
    T.nn.Linear(785, 64)(T.ones(64, 784))


@snippet
def backward_of_a_vector(T):
    x = T.ones(2, requires_grad=True)
    (x * 2).backward()


@snippet
def backward_of_a_constant(T):
    T.ones(2).sum().backward()


@snippet
def backward_twice(T):
    x = T.ones(2, requires_grad=True)
    loss = x.exp().sum()
    loss.backward()
    loss.backward()


@snippet
def numpy_of_a_parameter(T):
    T.nn.Linear(2, 2).weight.numpy()


@snippet
def item_of_a_batch(T):
    T.ones(3).item()


@snippet
def mixed_half_and_float_matmul(T):
    T.ones(2, 2) @ T.ones(2, 2, dtype=T.float16)


@snippet
def embedding_index_past_the_table(T):
    T.nn.Embedding(10, 3)(T.tensor([1, 10]))


@snippet
def conv2d_unbatched_grayscale_batch(T):
    T.nn.Conv2d(1, 8, 3)(T.ones(16, 28, 28))


@snippet
def conv2d_unbatched_image(T):
    print(T.nn.Conv2d(3, 8, 3)(T.ones(3, 8, 8)).shape)


@snippet
def optimizer_of_no_parameters(T):
    T.optim.Adam(T.nn.Module().parameters())


@snippet
def grad_of_a_non_leaf(T):
    x = T.ones(2, requires_grad=True)
    y = x * 2
    y.sum().backward()
    print(y.grad, x.grad)


@snippet
def mse_of_a_column_and_a_vector(T):
    print(T.nn.MSELoss()(T.ones(4, 1), T.zeros(4)))


@snippet
def channel_dropout_of_other_ranks(T):
    print(T.nn.functional.dropout2d(T.ones(4, 6), 0.0).shape, T.nn.Dropout2d()(T.ones(2, 3)).shape)
    print(T.nn.Dropout2d(0.0)(T.ones(2, 3, 4)).shape, T.nn.functional.dropout3d(T.ones(2, 3), 0.0))
    T.nn.functional.dropout1d(T.ones(2), 0.5)


@snippet
def text_plus_a_loss(T):
    loss = T.tensor(0.25)
    print("loss: " + str(loss), "loss: " + f"{loss:.2f}")
    print("loss: " + loss)


@snippet
def comparisons_with_none_and_text(T):
    mask = T.tensor([1.0, 2.0])
    print(mask == None, mask != None, mask == "a", mask != "a", T.tensor(1.0) == None)  # noqa: E711


@snippet
def softmax_without_dim(T):
    print(T.nn.functional.softmax(T.ones(2, 3)), T.nn.Softmax()(T.ones(2, 3)))


@snippet
def cross_entropy_of_one_example(T):
    print(T.nn.functional.cross_entropy(T.ones(3), T.tensor([1])))
    print(T.nn.functional.nll_loss(T.ones(3), T.tensor([1]), reduction="none"))


@snippet
def lstm_state_as_a_list(T):
    T.manual_seed(0)
    output, (h, c) = T.nn.LSTM(4, 8)(T.ones(5, 2, 4), [T.zeros(1, 2, 8), T.zeros(1, 2, 8)])
    print(output.shape, h.shape, c.shape)


# (after the snippets, which it is parametrised over)
@pytest.mark.parametrize("name", list(SNIPPETS))
def test_a_snippet_prints_raises_and_warns_as_in_pytorch(torch, name):
    pytorchs, fnnets = (run(SNIPPETS[name], T) for T in (torch, ft))
    assert fnnets[0] == pytorchs[0]
    assert fnnets[1:] == pytorchs[1:]


#: calls PyTorch warns for once per process, so that its warning cannot be caught again in
#: a test: each call twice, and its warning in PyTorch's words
WARNED_ONCE = {
    "meshgrid without indexing": (
        lambda: ft.meshgrid(ft.arange(2), ft.arange(3)),
        "torch.meshgrid: in an upcoming release, it will be required to pass the indexing "
        "argument."),
    "x.T of a tensor not a matrix": (
        lambda: (ft.ones(2, 3).T, ft.ones(2, 3, 4).T, ft.ones(3).T),
        "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
        "deprecated and it will throw an error in a future release. Consider `x.mT` to "
        "transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to "
        "reverse the dimensions of a tensor."),
    "float of a tensor that requires grad": (
        lambda: ("%.4f" % (ft.ones(1, requires_grad=True) * 2), float(ft.ones(1) * 2)),
        "Converting a tensor with requires_grad=True to a scalar may lead to unexpected "
        "behavior.\nConsider using tensor.detach() first."),
    "a tensor of a list of arrays": (
        lambda: ft.tensor([np.ones(2, np.float32), np.zeros(2, np.float32)]),
        "Creating a tensor from a list of numpy.ndarrays is extremely slow. Please consider "
        "converting the list to a single numpy.ndarray with numpy.array() before converting "
        "to a tensor."),
}


@pytest.mark.parametrize("name", list(WARNED_ONCE))
def test_a_call_warns_once_in_pytorchs_words(name):
    from fnnet.torch._recorder import current

    call, message = WARNED_ONCE[name]
    current().warned.discard(message)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
        call()
    assert [(w.category, str(w.message)) for w in caught] == [(UserWarning, message)]


def test_the_same_calls_without_the_warned_use_do_not_warn():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ft.meshgrid(ft.arange(2), ft.arange(3), indexing="xy"), ft.ones(2, 3).T
        ft.tensor([[1.0, 2.0], [3.0, 4.0]]), ft.tensor([np.float32(1.0)])
    assert not caught


def test_text_given_as_an_operand_leaves_later_steps_working():
    # the text was made a tensor before the op failed, and every later step then failed
    # to compile with it among its inputs
    loss = ft.tensor(0.25)
    for bad in (lambda: loss * "2", lambda: loss + None, lambda: "loss: " + loss):
        with pytest.raises(TypeError):
            bad()
    assert ft.stack([loss, loss * 2]).tolist() == [0.25, 0.5]
