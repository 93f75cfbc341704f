"""fnnet.torch.utils.tensorboard.SummaryWriter: PyTorch's behaviour around the events
(folders, closing, bad input, unsupported methods). The events themselves are read back
by a TensorBoard server in test_tensorboard.py."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

import fnnet.torch as torch
from fnnet.torch.utils.tensorboard import SummaryWriter


def _event_files(folder):
    return sorted(p for p in folder.rglob("events.out.tfevents.*"))


def test_default_folder_is_pytorchs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with SummaryWriter(comment="_mlp") as writer:
        writer.add_scalar("loss", 1.0, 0)
        folder = writer.get_logdir()
    assert folder.startswith(os.path.join("runs", "")) and folder.endswith("_mlp")
    assert len(_event_files(tmp_path / folder)) == 1


def test_log_dir_stays_as_given_and_empty_is_the_default_as_pytorchs(tmp_path, monkeypatch,
                                                                     writers):
    monkeypatch.chdir(tmp_path)
    seen = []
    for make, _ in writers:
        with make(tmp_path / "run") as given, make("") as empty:
            seen.append((type(given.log_dir), type(given.get_logdir()),
                         os.path.dirname(empty.get_logdir())))
    assert seen[1] == seen[0] == (type(tmp_path), type(tmp_path), "runs")


def test_close_flushes_and_a_closed_writer_reopens(tmp_path):
    writer = SummaryWriter(tmp_path)
    writer.add_scalar("loss", torch.tensor([2.5]), 3)
    writer.close()
    writer.close()  # twice is allowed, as in PyTorch
    (events,) = _event_files(tmp_path)
    assert b"loss" in events.read_bytes()
    writer.add_scalar("loss", 1.0, 4)  # a new event file, as PyTorch's writer opens
    writer.close()
    assert len(_event_files(tmp_path)) == 2


@pytest.mark.parametrize("call, error, message", [
    (lambda w: w.add_scalar(3, 1.0), TypeError, "tag must be a non-empty str"),
    (lambda w: w.add_scalar("loss", 1.0, "3"), TypeError, "global_step must be a number"),
    (lambda w: w.add_scalar("loss", 1.0, float("nan")), TypeError,
     "global_step must be a number"),
    (lambda w: w.add_scalar("loss", 1.0, walltime="now"), TypeError, "walltime must be"),
    (lambda w: w.add_scalars("acc", [("train", 1.0)]), TypeError,
     "tag_scalar_dict must be a dict"),
    (lambda w: w.add_text("note", 5), TypeError, "text_string must be a str"),
])
def test_bad_input_names_the_argument(tmp_path, call, error, message):
    with SummaryWriter(tmp_path) as writer:
        with pytest.raises(error, match=message):
            call(writer)


def test_unsupported_methods_name_the_fnnet_way(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        with pytest.raises(NotImplementedError, match=r"SummaryWriter\.add_onnx_graph is not "
                                                       "supported by fnnet.torch: "):
            writer.add_onnx_graph(None)
    with SummaryWriter(tmp_path) as writer, pytest.raises(AttributeError, match="add_nothing"):
        writer.add_nothing()


def test_constructor_checks(tmp_path):
    with pytest.raises(TypeError, match="log_dir must be a path or None"):
        SummaryWriter(5)
    with pytest.raises(ValueError, match="flush_secs must be a number, got '10'"):
        SummaryWriter(tmp_path, flush_secs="10")
    with SummaryWriter(tmp_path / "at_once", flush_secs=0) as writer:  # PyTorch takes it
        assert writer.flush_secs == 0
        writer.add_scalar("loss", 2.0, 0)
        # in the file while the writer is open, without flush(): its writing thread
        # hands each event to the file as it takes it from the queue
        assert [e.value for e in _events_when(tmp_path / "at_once", "loss")] == [2.0]
    with pytest.raises(ValueError, match="max_queue must be an int >= 0, got -1"):
        SummaryWriter(tmp_path, max_queue=-1)
    with SummaryWriter(tmp_path, max_queue=0) as writer:  # PyTorch's unbounded queue
        writer.add_scalar("loss", 1.0, 0)
    assert [e.value for e in _events(tmp_path).Scalars("loss")] == [1.0]


def _events_when(folder, tag, timeout=30.0):
    """The scalars of ``tag`` in ``folder`` once they are there (the writer's thread
    writes them a moment after the call), read without flushing the writer."""
    deadline = time.monotonic() + timeout
    while True:
        accumulator = _events(folder)
        if tag in accumulator.Tags()["scalars"] or time.monotonic() > deadline:
            return accumulator.Scalars(tag)
        time.sleep(0.02)


def _events(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(folder), size_guidance={"images": 0, "scalars": 0,
                                                               "tensors": 0})
    accumulator.Reload()
    return accumulator


def test_fractional_steps_are_truncated_as_pytorch_stores_them(tmp_path):
    """``add_scalar(tag, loss, epoch + i / n)`` runs under PyTorch, whose writer stores
    ``int(global_step)`` (the steps below are those PyTorch 2.13 writes for the same
    calls); so do these."""
    steps = [0.25, 1.5, 2.99, np.float32(4.7), 5]
    with SummaryWriter(tmp_path) as writer:
        for step in steps:
            writer.add_scalar("loss", 1.0, step)
        writer.add_scalar("tensor_step", 1.0, torch.tensor(5.5))
        writer.add_text("note", "hello", 2.5)
        writer.add_histogram("w", np.arange(4.0), 3.7)
        writer.add_scalars("nothing", {}, 1)  # PyTorch writes nothing for it
    run = _events(tmp_path)
    assert [e.step for e in run.Scalars("loss")] == [0, 1, 2, 4, 5]
    assert [e.step for e in run.Scalars("tensor_step")] == [5]
    assert [e.step for e in run.Tensors("note/text_summary")] == [2]
    assert [e.step for e in run.Histograms("w")] == [3]
    assert not (tmp_path / "nothing_").exists() and "nothing" not in run.Tags()["scalars"]


def test_add_images_writes_one_grid_per_step(tmp_path):
    batch = torch.rand(6, 3, 8, 8)
    with SummaryWriter(tmp_path) as writer:
        writer.add_images("samples", batch, 0)
        writer.add_images("samples", (batch.permute(0, 2, 3, 1).numpy() * 255).astype(
            np.uint8), 1, dataformats="NHWC")
    images = _events(tmp_path).Images("samples")
    assert [image.step for image in images] == [0, 1]
    assert images[0].height >= 8 and images[0].width >= 8 * 3  # the batch as a grid
    assert images[0].encoded_image_string.startswith(b"\x89PNG")


def _net(nn, functional):
    """A model whose forward mixes submodules, a nested Sequential and functional ops."""

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.bn = nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4)
            self.fc = nn.Sequential(nn.Linear(4 * 6 * 6, 10), nn.ReLU(), nn.Linear(10, 3))

        def forward(self, x):
            x = functional.relu(self.bn(self.conv1(x)))
            return self.fc(x.view(x.size(0), -1)) * 2

    return Net()


def _graph_outline(folder):
    """What a graph shows whoever wrote it: the module scopes holding computations, the
    input and output nodes, and the scopes the input feeds and the output comes from."""
    graph = _events(folder).Graph()
    scope = {n.name: n.name.rsplit("/", 1)[0] for n in graph.node}
    plumbing = ("IO Node", "Parameter", "prim::GetAttr", "prim::Constant",
                "prim::ListConstruct")
    computed = {scope[n.name] for n in graph.node if n.op not in plumbing}
    io = sorted(n.name for n in graph.node if n.op == "IO Node")
    inputs = {n.name for n in graph.node if n.name.startswith("input/")}
    fed = {scope[n.name] for n in graph.node if inputs & set(n.input)}
    output = [n for n in graph.node if n.name == "output/output.1"][0]
    return computed, io, fed, {scope[name] for name in output.input}


#: the outline of _net's graph as PyTorch's SummaryWriter writes it
NET_OUTLINE = ({"Net", "Net/Conv2d[conv1]", "Net/BatchNorm2d[bn]",
                "Net/Sequential[fc]/Linear[0]", "Net/Sequential[fc]/ReLU[1]",
                "Net/Sequential[fc]/Linear[2]"},
               ["input/x.1", "output/output.1"], {"Net/Conv2d[conv1]"}, {"Net"})


def test_add_graph_groups_the_operations_by_module_as_pytorch_does(tmp_path):
    model = _net(torch.nn, torch.nn.functional)
    with SummaryWriter(tmp_path) as writer, torch.no_grad():  # traced all the same
        writer.add_graph(model, torch.randn(2, 1, 8, 8))
    assert _graph_outline(tmp_path) == NET_OUTLINE
    nodes = {n.name: n for n in _events(tmp_path).Graph().node}
    assert list(nodes["Net/Sequential[fc]/Linear[0]/Addmm"].input) == [
        "Net/Sequential[fc]/Linear[0]/bias", "Net/View", "Net/Sequential[fc]/Linear[0]/T"]
    assert nodes["Net/Conv2d[conv1]/weight"].op == "Parameter"
    # the hooks that recorded the graph are gone: the model trains as before
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())


@pytest.mark.slow  # PyTorch's tracer and its tensorboard import: about 4 s
def test_pytorchs_add_graph_has_the_same_outline(tmp_path, request):
    real = request.getfixturevalue("torch")  # PyTorch (this module's torch is the shim)
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    with TorchWriter(tmp_path) as writer:
        writer.add_graph(_net(real.nn, real.nn.functional), real.randn(2, 1, 8, 8))
    assert _graph_outline(tmp_path) == NET_OUTLINE


def _forwards(torch_module):
    """Models whose forward passes reuse the input's name in the ways that decide
    PyTorch's name for the input node; their inputs."""
    nn, functional = torch_module.nn, torch_module.nn.functional

    class Chain(nn.Module):  # x only handed to layers: the input stays "x"
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(3, 4), nn.Linear(4, 2)

        def forward(self, x):
            x = x.view(-1, 3)
            x = functional.relu(self.fc1(x))
            return functional.log_softmax(self.fc2(x), dim=1)

    class Flatten(nn.Module):  # a layer's output read as "x": the input is "x.1"
        def __init__(self):
            super().__init__()
            self.conv, self.fc = nn.Conv2d(1, 2, 3), nn.Linear(8, 2)

        def forward(self, x):
            x = functional.max_pool2d(functional.relu(self.conv(x)), 1)
            return self.fc(torch_module.flatten(x, 1)[:, :8])

    class TwoInputs(nn.Module):  # a tuple out, and y added in place
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(3, 2)

        def forward(self, x, y):
            h = self.a(x)
            y = y * 1
            y += h
            return h, y

    class Unused(TwoInputs):  # an argument the forward pass never reads has no node
        def forward(self, x, mask):
            return self.a(x)

    class Joined(TwoInputs):  # a layer's output named x in the list cat reads
        def forward(self, x, y):
            x = self.a(x)
            return torch_module.cat([x, y], 1)

    images = torch_module.ones(2, 1, 4, 4)
    return [(Chain(), torch_module.ones(2, 3)), (Flatten(), images),
            (TwoInputs(), (torch_module.ones(2, 3), torch_module.ones(2, 2))),
            (Unused(), (torch_module.ones(2, 3), torch_module.ones(2, 2))),
            (Joined(), (torch_module.ones(2, 3), torch_module.ones(2, 2))),
            (nn.Sequential(nn.Linear(3, 3), nn.ReLU()), torch_module.ones(2, 3)),
            (nn.Linear(3, 2), torch_module.ones(2, 3))]


def _io_nodes(folder):
    graph = _events(folder).Graph()
    nodes = {n.name: n for n in graph.node}
    return (sorted(name for name, n in nodes.items() if n.op == "IO Node"),
            [nodes[source].op for source in nodes["output/output.1"].input])


#: the input and output nodes of _forwards' graphs as PyTorch's SummaryWriter writes them,
#: and the kind of node feeding the output (fnnet's differ in the operators themselves)
FORWARD_IO = [["input/x", "output/output.1"], ["input/x.1", "output/output.1"],
              ["input/x", "input/y.1", "output/output.1"], ["input/x", "output/output.1"],
              ["input/x.1", "input/y", "output/output.1"],
              ["input/input.1", "output/output.1"], ["input/input", "output/output.1"]]


def test_add_graph_names_the_inputs_as_pytorchs_tracer(tmp_path):
    for i, (model, inputs) in enumerate(_forwards(torch)):
        with SummaryWriter(tmp_path / str(i)) as writer:
            writer.add_graph(model, inputs)
    written = [_io_nodes(tmp_path / str(i)) for i in range(len(FORWARD_IO))]
    assert [io for io, _ in written] == FORWARD_IO
    assert written[2][1] == ["prim::TupleConstruct"]  # the tuple, one output


@pytest.mark.slow  # PyTorch's tracer: about a second
def test_pytorchs_tracer_names_the_inputs_so(tmp_path, request):
    real = request.getfixturevalue("torch")
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    for i, (model, inputs) in enumerate(_forwards(real)):
        with TorchWriter(tmp_path / str(i)) as writer:
            writer.add_graph(model, inputs)
    written = [_io_nodes(tmp_path / str(i)) for i in range(len(FORWARD_IO))]
    assert [io for io, _ in written] == FORWARD_IO
    assert written[2][1] == ["prim::TupleConstruct"]


def test_add_graph_bad_input(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        with pytest.raises(TypeError, match="model must be a fnnet.torch nn.Module, got str"):
            writer.add_graph("model", torch.randn(2))


def _dict_out(nn):
    """A model returning a dict, as detection and Hugging Face models do."""

    class DictOut(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2)

        def forward(self, x):
            return {"logits": self.fc(x)}

    return DictOut()


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_add_graph_refuses_a_dict_output_and_no_input_as_pytorchs(writers, capsys):
    """A model returning a dict (traced strictly, the default) and no input: PyTorch's
    RuntimeError, printed before with "Error occurs, No graph saved"; a dict returned
    is drawn with use_strict_trace=False."""
    import torch as real_torch

    seen = []
    for (make, folder), module in zip(writers, (real_torch, torch), strict=True):
        with make(str(folder / "graphs")) as writer:
            model = _dict_out(module.nn)
            for args in ((model, module.ones(1, 3)), (module.nn.ReLU(),)):
                with pytest.raises(RuntimeError) as error:
                    writer.add_graph(*args)
                seen.append((str(error.value), capsys.readouterr().out))
            writer.add_graph(model, module.ones(1, 3), use_strict_trace=False)
    assert seen[2:] == seen[:2]
    assert seen[0][1] == f"{seen[0][0]}\nError occurs, No graph saved\n"


def test_add_hparams_writes_the_run_pytorch_writes(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_hparams({"lr": 0.1, "batch_size": 32, "optimizer": "sgd", "nesterov": True},
                           {"hparam/accuracy": torch.tensor(0.75), "hparam/loss": 0.5},
                           run_name="trial_0")
    run = _events(tmp_path / "trial_0")
    assert {"_hparams_/experiment", "_hparams_/session_start_info",
            "_hparams_/session_end_info"} <= set(run.summary_metadata)
    start = run.SummaryMetadata("_hparams_/session_start_info").plugin_data.content
    assert b"batch_size" in start and b"sgd" in start
    assert run.Scalars("hparam/accuracy")[0].value == 0.75


@pytest.mark.parametrize("call, error, message", [
    (lambda w: w.add_images("x", np.zeros((3, 8, 8)), dataformats="CHW"), ValueError,
     r"dataformats='CHW' names no batch axis N"),
    (lambda w: w.add_images("x", np.zeros((0, 3, 8, 8))), ValueError, "at least one image"),
    (lambda w: w.add_hparams([("lr", 0.1)], {}), TypeError, "should be dictionary"),
])
def test_images_and_hparams_bad_input(tmp_path, call, error, message):
    with SummaryWriter(tmp_path) as writer:
        with pytest.raises(error, match=message):
            call(writer)


# ------------------------------------------- beside PyTorch's writer, in this process

@pytest.fixture(scope="module")
def writers(tmp_path_factory):
    """PyTorch's SummaryWriter class and fnnet.torch's, with a folder for each."""
    real = pytest.importorskip("torch.utils.tensorboard")
    root = tmp_path_factory.mktemp("writers")
    return [(real.SummaryWriter, root / "torch"), (SummaryWriter, root / "fnnet")]


@pytest.mark.parametrize("call", [
    lambda w, t: w.add_scalar("loss", "high"),
    lambda w, t: w.add_scalar("loss", np.ones((2, 1))),
    lambda w, t: w.add_scalar("loss", t.ones(3)),
    lambda w, t: w.add_scalar("loss", None),
    lambda w, t: w.add_scalars("acc", {"train": None}),
    lambda w, t: w.add_histogram("grad", None),  # a parameter's grad before backward()
    lambda w, t: w.add_histogram("w", t.tensor([])),
    lambda w, t: w.add_histogram("w", np.array([np.nan, np.inf])),
    lambda w, t: w.add_pr_curve("pr", t.ones(3), t.rand(4)),
    lambda w, t: w.add_pr_curve("pr", t.ones(2, 3), t.rand(6)),
    lambda w, t: w.add_image("img", None),
    lambda w, t: w.add_image("img", np.zeros((8, 8))),
    lambda w, t: w.add_image("img", np.zeros((8, 8, 3)), dataformats="HHC"),
    lambda w, t: w.add_images("img", np.zeros((3, 8, 8))),
    lambda w, t: w.add_images("img", np.zeros((2, 4, 8, 8))),  # RGBA: no grid of them
    lambda w, t: w.add_hparams({"lr": [0.1]}, {}),
    lambda w, t: w.add_hparams({"lr": 0.1}, {"acc": "high"}),
    lambda w, t: w.add_embedding(np.ones(5)),
    lambda w, t: w.add_embedding(np.ones((5, 2)), metadata=["a"]),
])
def test_bad_values_raise_pytorchs_errors(writers, call):
    import torch as real_torch

    raised = []
    for (make, folder), module in zip(writers, (real_torch, torch), strict=True):
        with make(str(folder)) as writer:
            with pytest.raises(Exception) as error:
                call(writer, module)
        raised.append((type(error.value), str(error.value)))
    assert raised[1] == raised[0]


def _events_of(folder):
    """Every summary value and graph statistics in ``folder``'s event files, as
    ``(step, tag, what it holds)``."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    from tensorboard.util import tensor_util

    found = []
    for path in sorted(folder.glob("events.out.tfevents.*")):
        for event in EventFileLoader(str(path)).Load():
            if event.HasField("tagged_run_metadata"):
                found.append((event.step, event.tagged_run_metadata.tag,
                              event.tagged_run_metadata.run_metadata))
            for value in event.summary.value:
                if value.HasField("audio"):
                    held = (value.audio.sample_rate, value.audio.length_frames,
                            value.audio.content_type, value.audio.encoded_audio_string)
                else:
                    held = (value.simple_value if value.HasField("simple_value") else
                            tensor_util.make_ndarray(value.tensor).tolist())
                found.append((event.step, value.tag, value.metadata.plugin_data.plugin_name,
                              str(value.tensor.dtype), held))
    return found


def test_scalars_new_style_curves_and_graph_statistics_are_pytorchs(writers):
    """``new_style``/``double_precision`` scalars, a PR curve with predictions outside
    [0, 1] (PyTorch's writer takes them) and one of no values, and the graph's step
    statistics."""
    import torch as real_torch

    written = []
    for (make, folder), module in zip(writers, (real_torch, torch), strict=True):
        module.manual_seed(0)
        with make(str(folder / "run")) as writer:
            writer.add_scalar("loss", 0.1 + 1e-12, 0, new_style=True, double_precision=True)
            writer.add_scalar("loss", 0.25, 1, new_style=True)
            writer.add_scalar("acc", 0.5, 2, double_precision=True)
            writer.add_pr_curve("pr", np.array([0, 1, 1, 0, 1]),
                                np.array([0.1, 1.5, -0.2, 0.4, 0.6]), 3)
            writer.add_pr_curve("empty", np.array([]), np.array([]), 4)
            writer.add_graph(module.nn.Linear(3, 2), module.ones(1, 3))
        written.append([e for e in _events_of(folder / "run") if e[1] != "__run_graph__"])
    assert written[1] == written[0]


def test_raw_histograms_raw_pr_curves_custom_scalar_layouts_and_audio_are_pytorchs(writers):
    import torch as real_torch
    from tensorboard.plugins.custom_scalar import layout_pb2

    written = []
    for (make, folder), module in zip(writers, (real_torch, torch), strict=True):
        with make(str(folder / "raw")) as writer:
            writer.add_histogram_raw("weights", min=0.0, max=10.0, num=5, sum=20.0,
                                     sum_squares=100.0, bucket_limits=[2.0, 5.0, 10.0],
                                     bucket_counts=module.tensor([1, 2, 2]), global_step=2)
            writer.add_pr_curve_raw("pr", [75, 64, 21], [150, 105, 18], [0, 45, 132],
                                    [0, 11, 54], [0.33, 0.38, 0.54], [1.0, 0.85, 0.28],
                                    global_step=3, num_thresholds=3)
            writer.add_custom_scalars({"losses": {"both": ["Multiline", ["loss/train",
                                                                          "loss/test"]]}})
            writer.add_custom_scalars_marginchart(["acc", "acc_low", "acc_high"], "metrics")
            tone = np.sin(np.linspace(0, 200, 2205)).astype(np.float32)
            writer.add_audio("tone", module.from_numpy(tone), 4, sample_rate=22050)
            writer.add_audio("loud", module.from_numpy(tone[None] * 2), 5)  # clipped
        events = _events_of(folder / "raw")
        for i, (step, tag, *rest) in enumerate(events):
            if tag == "custom_scalars__config__":  # the layout, as TensorBoard parses it
                events[i] = (step, tag, str(layout_pb2.Layout.FromString(rest[-1])))
        written.append(events)
    assert written[1] == written[0]
    with SummaryWriter(str(writers[1][1] / "bad")) as writer:
        with pytest.raises(ValueError, match=r"^len\(bucket_limits\) != len\(bucket_counts\)"):
            writer.add_histogram_raw("w", 0, 1, 2, 1, 1, [1.0], [1, 1])


def test_hparams_domains_are_pytorchs(writers):
    """``hparam_domain_discrete``: the values the HPARAMS tab filters by, as PyTorch's
    writer writes them; a domain of another type is PyTorch's TypeError."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    written, raised = [], []
    for make, folder in writers:
        with make(str(folder / "sweep")) as writer:
            writer.add_hparams({"lr": 0.1, "optimizer": "sgd", "nesterov": True, "depth": 3},
                               {"hparam/accuracy": 0.75},
                               hparam_domain_discrete={"lr": [0.1, 0.01], "depth": [2, 3],
                                                       "optimizer": ["sgd", "adam"],
                                                       "nesterov": [True, False]},
                               run_name="trial")
            with pytest.raises(TypeError) as error:
                writer.add_hparams({"lr": 0.1}, {}, hparam_domain_discrete={"lr": ["0.1"]})
            raised.append(str(error.value))
        run = EventAccumulator(str(folder / "sweep" / "trial"))
        run.Reload()
        content = run.SummaryMetadata("_hparams_/experiment").plugin_data.content
        written.append((str(plugin_data_pb2.HParamsPluginData.FromString(content)),
                        [(e.step, e.value) for e in run.Scalars("hparam/accuracy")]))
    assert written[1] == written[0] and raised[1] == raised[0]
    assert "domain_discrete" in written[0][0]


def test_summaries_through_the_file_writer_are_pytorchs(writers):
    """``torch.utils.tensorboard.summary``'s summaries handed to ``writer.file_writer``
    (the hyperparameters logged into the run's own folder), TensorBoard's own hparams
    protobufs, ``add_tensor``, ``add_hparams(global_step=...)`` and bfloat16 images."""
    import torch as real_torch
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    from tensorboard.plugins.hparams import summary_v2 as hp
    from torch.utils.tensorboard import summary as real_summary

    from fnnet.torch.utils.tensorboard import summary as shim_summary

    written = []
    for (make, folder), module, summary in zip(writers, (real_torch, torch),
                                               (real_summary, shim_summary), strict=True):
        with make(str(folder / "summaries")) as writer:
            for s in summary.hparams({"lr": 0.1, "optimizer": "sgd"}, {"hparam/acc": 0},
                                     {"optimizer": ["sgd", "adam"]}):
                writer.file_writer.add_summary(s)
            writer.file_writer.add_summary(hp.hparams_pb({"depth": 3}), 1)
            fw = writer._get_file_writer()
            fw.add_summary(summary.scalar("direct", module.tensor(2.0)), 3)
            fw.add_summary(summary.scalar("new style", 2.5, new_style=True), 4)
            fw.add_summary(summary.histogram("h", np.linspace(0, 1, 20), bins=5), 3)
            fw.add_summary(summary.text("t", "hi"), 3)
            fw.add_summary(summary.image("i", np.full((3, 4, 4), 0.5), dataformats="CHW"), 3)
            fw.add_summary(summary.tensor_proto("p", module.arange(6).reshape(2, 3)), 3)
            for dtype in ("float32", "int64", "bool"):
                writer.add_tensor(dtype, module.ones(2, dtype=getattr(module, dtype)), 5)
            writer.add_image("bf16", module.full((3, 2, 2), 0.5, dtype=module.bfloat16), 6)
            writer.add_hparams({"lr": 0.1}, {"hparam/loss": 0.5}, run_name="r", global_step=7)
            assert sorted(writer.all_writers) == [str(writer.log_dir)]
            assert writer.file_writer is writer._get_file_writer()
        assert writer.file_writer is None and writer.all_writers is None  # closed
        with make(str(folder / "half")) as writer:  # TensorBoard cannot read these back
            for dtype in ("float16", "bfloat16"):
                writer.add_tensor(dtype, module.tensor([1.5, -2.0], dtype=getattr(module, dtype)))
        written.append(_events_of(folder / "summaries") + _events_of(folder / "summaries" / "r")
                       + [(str(v.tensor), v.metadata.plugin_data.plugin_name)
                          for path in (folder / "half").glob("events.out.tfevents.*")
                          for e in EventFileLoader(str(path)).Load() for v in e.summary.value])
    assert written[1] == written[0]
    assert {e[0] for e in written[1] if e[1].startswith("_hparams_")} == {0, 1, 7}


def test_summary_functions_pytorch_has_and_fnnet_does_not_name_the_writer_method(tmp_path):
    from fnnet.torch.utils.tensorboard import summary

    with pytest.raises(NotImplementedError, match="summary.pr_curve is not supported by "
                                                  "fnnet.torch: use SummaryWriter.add_pr_curve"):
        summary.pr_curve("pr", np.ones(2), np.ones(2))
    with pytest.raises(TypeError, match="tensor must be a tensor, got ndarray"):
        summary.tensor_proto("t", np.ones(2))
    with pytest.raises(TypeError, match="summary must be a Summary protobuf, got dict"):
        SummaryWriter(tmp_path).file_writer.add_summary({"loss": 1.0})


def test_a_reopened_writer_with_a_filename_suffix_keeps_its_first_file(tmp_path):
    """Two files opened in one second with one ``filename_suffix`` (a writer reopened
    after ``close``, the next run of a sweep) are two files, as PyTorch's."""
    for run in range(2):
        writer = SummaryWriter(tmp_path, filename_suffix=".run")
        writer.add_scalar("loss", 1.0, 2 * run)
        writer.close()
        writer.add_scalar("loss", 2.0, 2 * run + 1)
        writer.close()
    files = _event_files(tmp_path)
    assert len(files) == 4 and all(f.name.endswith(".run") for f in files)
    assert [e.step for e in _events(tmp_path).Scalars("loss")] == [0, 1, 2, 3]


def test_images_with_boxes_are_pytorchs(writers):
    """``add_image_with_boxes``: the boxes drawn in red, with their labels (left out where
    there are not as many as boxes), as PyTorch's PNG."""
    import torch as real_torch

    image = np.linspace(0, 1, 3 * 40 * 50, dtype=np.float32).reshape(3, 40, 50)
    boxes = np.array([[2, 3, 20, 30], [10, 5, 45, 38]], np.float32)
    written = []
    for (make, folder), module in zip(writers, (real_torch, torch), strict=True):
        with make(str(folder / "boxes")) as writer:
            writer.add_image_with_boxes("boxes", module.tensor(image), module.tensor(boxes), 1)
            writer.add_image_with_boxes("labelled", image, boxes, 2, labels=["cat", "dog"])
            writer.add_image_with_boxes("hwc", (image.transpose(1, 2, 0) * 255).astype(np.uint8),
                                        boxes[:1], 3, dataformats="HWC", labels="one")
            writer.add_image_with_boxes("too few labels", image, boxes, 4, labels=["a"],
                                        rescale=2)
        written.append(_events_of(folder / "boxes"))
    assert written[1] == written[0]


def test_nan_values_are_written_without_tensorboardx_warning(tmp_path, caplog):
    """A diverged run's histograms: PyTorch's writer says nothing of their NaN values;
    tensorboardX's check logs a warning, kept for tensorboardX's other callers."""
    import logging

    from fnnet.train.events import tensorboardx

    with caplog.at_level(logging.WARNING), SummaryWriter(tmp_path) as writer:
        writer.add_histogram("weights", np.array([1.0, np.nan, 2.0]), 0)
        assert caplog.records == []
        tensorboardx().x2num.make_np(np.array([np.nan]))
    assert [r.getMessage() for r in caplog.records] == ["NaN or Inf found in input tensor."]


def test_embedding_files_are_pytorchs_byte_for_byte(writers):
    """The projector's files (``tensors.tsv``, ``metadata.tsv``, ``sprite.png`` and the
    whole ``projector_config.pbtxt``): thumbnails in gray, in colour and not square, a
    header row, a tag with quotes, a slash and an accent."""
    import torch as real_torch

    images = np.linspace(0, 1, 5 * 3 * 4 * 6, dtype=np.float32).reshape(5, 3, 4, 6)
    written = []
    for (make, folder), module in zip(writers, (real_torch, torch), strict=True):
        with make(str(folder / "projector")) as writer:
            vectors = module.tensor(np.arange(15.0).reshape(5, 3))
            writer.add_embedding(vectors, metadata=list("abcde"), global_step=2,
                                 label_img=module.tensor(images), tag='a "b"/é')
            writer.add_embedding(vectors, label_img=module.tensor(images[:, :1, :, :4]))
            writer.add_embedding(vectors[:2], metadata=[["a", 1], ["b", 2]],
                                 metadata_header=["name", "n"], global_step=3)
        written.append({str(p.relative_to(folder)): p.read_bytes()
                        for p in sorted((folder / "projector").rglob("*"))
                        if p.is_file() and "tfevents" not in p.name})
    assert written[1] == written[0]
    assert len(written[0]) == 8


def test_meshes_are_pytorchs_byte_for_byte(writers):
    """``add_mesh``: one value a part given (``<tag>_VERTEX``, ``_FACE``, ``_COLOR``),
    their plugin data and three.js settings, as PyTorch's writes them."""
    import torch as real_torch
    from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader

    vertices = np.array([[[1, 1, 1], [-1, -1, 1], [1, -1, -1], [-1, 1, -1]]], np.float32)
    colors = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 0, 255]]])
    faces = np.array([[[0, 2, 3], [0, 3, 1], [0, 1, 2], [1, 3, 2]]])
    written = []
    for (make, folder), module in zip(writers, (real_torch, torch), strict=True):
        with make(str(folder / "mesh")) as writer:
            writer.add_mesh("tetrahedron", module.tensor(vertices), colors=module.tensor(colors),
                            faces=module.tensor(faces), global_step=1,
                            config_dict={"camera": {"cls": "PerspectiveCamera", "fov": 75}})
            writer.add_mesh("points", module.tensor(vertices), global_step=2)
        written.append([(event.step, value.SerializeToString())
                        for path in sorted((folder / "mesh").glob("events.out.tfevents.*"))
                        for event in LegacyEventFileLoader(str(path)).Load()
                        for value in event.summary.value])
    assert written[1] == written[0] and len(written[0]) == 4


def test_videos_without_moviepy_are_pytorchs(writers, monkeypatch, capsys):
    """``add_video`` where moviepy cannot be imported: PyTorch's printed line and its
    value without an image (a script that logs videos runs on, as under PyTorch)."""
    import sys

    import torch as real_torch
    from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader

    monkeypatch.setitem(sys.modules, "moviepy", None)  # `import moviepy` fails
    clips = np.linspace(0, 1, 3 * 2 * 3 * 4 * 4, dtype=np.float32).reshape(3, 2, 3, 4, 4)
    written = []
    for (make, folder), module in zip(writers, (real_torch, torch), strict=True):
        with make(str(folder / "video")) as writer:
            writer.add_video("clips", module.tensor(clips), 3, fps=8)
        written.append(([(event.step, value.SerializeToString())
                         for path in sorted((folder / "video").glob("events.out.tfevents.*"))
                         for event in LegacyEventFileLoader(str(path)).Load()
                         for value in event.summary.value], capsys.readouterr().out))
    assert written[1] == written[0] == ([(3, written[0][0][0][1])],
                                        "add_video needs package moviepy\n")


def test_a_file_writer_reopened_after_close_writes_a_new_file(tmp_path):
    """``FileWriter.reopen()`` as PyTorch documents it (PyTorch 2.13's raises
    AttributeError): the events after it go to a new file of the folder."""
    from fnnet.torch.utils.tensorboard import FileWriter
    from fnnet.torch.utils.tensorboard.summary import scalar

    writer = FileWriter(tmp_path, filename_suffix=".run")
    writer.add_summary(scalar("loss", 1.0), 0)
    writer.close()
    writer.reopen()
    writer.add_summary(scalar("loss", 2.0), 1)
    writer.close()
    assert len(_event_files(tmp_path)) == 2
    assert [(e.step, e.value) for e in _events(tmp_path).Scalars("loss")] == [(0, 1.0), (1, 2.0)]


def test_events_reach_the_file_as_they_are_written_as_pytorchs(writers):
    """Without flush() or close(), a scalar and an ``add_scalars`` run's value are in
    their files (for a TensorBoard watching the run) as soon as the writer's thread has
    written them: PyTorch's writer appends each event to its file, where
    tensorboardX's kept them in memory until ``flush_secs`` had passed."""
    import time

    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    def summaries(folder):
        return sum(1 for path in _event_files(folder)
                   for event in EventFileLoader(str(path)).Load() if event.HasField("summary"))

    seen = []
    for make, folder in writers:
        writer = make(str(folder / "live"), flush_secs=600)
        writer.add_scalar("loss", 1.0, 0)
        writer.add_scalars("acc", {"train": 0.5}, 0)
        deadline = time.monotonic() + 30
        while summaries(folder / "live") < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        seen.append((summaries(folder / "live"), summaries(folder / "live" / "acc_train")))
        writer.close()
    assert seen[1] == seen[0] == (2, 1)


def test_a_writer_is_copied_shallowly_and_refuses_pickling_as_pytorchs(writers):
    """copy.copy gives a writer of the same file; torch.save or copy.deepcopy of an
    object holding one is a TypeError (PyTorch's writer holds a thread lock)."""
    import copy
    import io

    import torch as real_torch

    seen = []
    for (make, folder), module in zip(writers, (real_torch, torch), strict=True):
        with make(str(folder / "copied")) as writer:
            copied = copy.copy(writer)
            outcome = [type(copied).__name__, copied.get_logdir() == writer.get_logdir()]
            with pytest.raises(Exception) as deep:
                copy.deepcopy({"writer": writer})
            with pytest.raises(Exception) as saved:
                module.save({"writer": writer}, io.BytesIO())
            outcome += [type(deep.value).__name__, type(saved.value).__name__]
        seen.append(outcome)
    assert seen[1] == seen[0] == ["SummaryWriter", True, "TypeError", "TypeError"]
