"""fnnet.torch against PyTorch on the tools users wrap around training: what TensorBoard
reads from a SummaryWriter's files, the profiler's tables, torch.utils.benchmark's
timers and default_collate's errors."""

from __future__ import annotations

import importlib
import pickle
import re

import numpy as np
import pytest

import fnnet.torch as fnt


def _read_events(folder):
    """``{kind: {tag: [(step, summary of the value)]}}``: what TensorBoard's own reader
    finds in the event files of ``folder``."""
    from tensorboard.backend.event_processing import event_accumulator as ea

    acc = ea.EventAccumulator(str(folder), size_guidance={ea.SCALARS: 0, ea.HISTOGRAMS: 0,
                                                          ea.IMAGES: 0})
    acc.Reload()
    tags = acc.Tags()
    return {
        "scalars": {t: [(e.step, round(e.value, 5)) for e in acc.Scalars(t)]
                    for t in tags["scalars"]},
        "histograms": {t: [(e.step, e.histogram_value.num, round(e.histogram_value.min, 5),
                            round(e.histogram_value.max, 5),
                            len(e.histogram_value.bucket))
                           for e in acc.Histograms(t)] for t in tags["histograms"]},
        "images": {t: [(e.step, e.width, e.height) for e in acc.Images(t)]
                   for t in tags["images"]},
    }


def _log_tutorial_tags(module, folder):
    """The TensorBoard tutorial's calls, with tags holding spaces and a leading slash."""
    values = np.random.default_rng(0).uniform(-1, 1, (4, 5)).astype(np.float32)
    image = np.random.default_rng(1).uniform(0, 1, (3, 6, 10)).astype(np.float32)
    with module.utils.tensorboard.SummaryWriter(str(folder)) as writer:
        for step in range(3):
            writer.add_scalar("training loss", 1.0 / (step + 1), step)
        writer.add_scalar("/lead", 2.0, 0)
        writer.add_histogram("fc1 weight", module.from_numpy(values), 0)
        writer.add_histogram("fc1.weight.grad", module.from_numpy(values * 2), 1)
        writer.add_image("predictions vs. actuals", module.from_numpy(image), 0)
        writer.add_image("hwc image", module.from_numpy(image.transpose(1, 2, 0).copy()), 1,
                         dataformats="HWC")
        writer.add_images("a batch", module.from_numpy(np.stack([image, image])), 2)


def test_tensorboard_reads_the_tags_and_values_pytorch_writes(torch, tmp_path):
    import torch.utils.tensorboard  # noqa: F401 - loads PyTorch's writer

    _log_tutorial_tags(torch, tmp_path / "torch")
    _log_tutorial_tags(fnt, tmp_path / "fnnet")
    expected = _read_events(tmp_path / "torch")
    assert "training loss" in expected["scalars"]  # PyTorch keeps the space
    assert _read_events(tmp_path / "fnnet") == expected


@pytest.mark.parametrize("batch", [
    lambda m: [m.zeros(2), m.zeros(3)],  # sequences of different lengths, unpadded
    lambda m: [(m.ones(2, 2), 0), (m.ones(3, 2), 1)],
    lambda m: [np.zeros(4, np.float32), np.zeros(3, np.float32)],
    lambda m: [{"x": m.zeros(1)}, {"x": m.zeros(1)}, {"x": m.zeros(2)}],
])
def test_default_collate_of_unequal_samples_raises_pytorchs_error(torch, batch):
    with pytest.raises(RuntimeError) as expected:
        torch.utils.data.default_collate(batch(torch))
    with pytest.raises(RuntimeError) as got:
        fnt.utils.data.default_collate(batch(fnt))
    assert str(got.value) == str(expected.value)


def test_default_collate_of_an_unknown_type_names_it_as_pytorch(torch):
    with pytest.raises(TypeError) as expected:
        torch.utils.data.default_collate([object(), object()])
    with pytest.raises(TypeError) as got:
        fnt.utils.data.default_collate([object(), object()])
    assert str(got.value) == str(expected.value)


def _profiled(module):
    """The profiler recipe's first example: a forward inside ``record_function``."""
    from importlib import import_module

    prof_api = import_module(f"{module.__name__}.profiler")
    model = module.nn.Linear(8, 4)
    x = module.from_numpy(np.ones((2, 8), np.float32))
    with prof_api.profile(activities=[prof_api.ProfilerActivity.CPU],
                          record_shapes=True) as prof:
        with prof_api.record_function("model_inference"):
            model(x).sum().item()
    return prof


@pytest.fixture(scope="module")
def fnnet_profile():
    return _profiled(fnt)


def _header(table):
    return table.splitlines()[1].split("  ")


def test_key_averages_grouped_by_input_shape_has_pytorchs_columns(torch, fnnet_profile):
    expected = _profiled(torch).key_averages(group_by_input_shape=True).table(
        sort_by="cpu_time_total", row_limit=10)
    got = fnnet_profile.key_averages(group_by_input_shape=True).table(
        sort_by="cpu_time_total", row_limit=10)
    assert [c.strip() for c in _header(got) if c.strip()] == \
        [c.strip() for c in _header(expected) if c.strip()]
    region = next(line for line in got.splitlines() if "model_inference" in line)
    assert region.split()[-1] == "[]"  # PyTorch shows a region's shapes so too
    assert [r.input_shapes for r in fnnet_profile.key_averages()][0] == ""


def test_total_average_sums_the_rows_as_pytorch(torch, fnnet_profile):
    rows = fnnet_profile.key_averages()
    total = rows.total_average()
    expected = _profiled(torch).key_averages().total_average()
    assert (type(total).__name__, total.key) == (type(expected).__name__, expected.key)
    assert total.count == sum(r.count for r in rows)
    assert total.self_cpu_time_total == pytest.approx(sum(r.self_cpu_time_total
                                                          for r in rows))
    assert total.cpu_time_total == pytest.approx(sum(r.cpu_time_total for r in rows))


def test_a_memory_sort_without_profile_memory_keeps_the_order_as_pytorch(torch,
                                                                          fnnet_profile):
    # every row's memory is 0 without profile_memory: the rows keep their order
    for prof in (_profiled(torch), fnnet_profile):
        rows = prof.key_averages()
        table = rows.table(sort_by="self_cpu_memory_usage", row_limit=10)
        assert "CPU Mem" not in table
        names = [line.split()[0] for line in table.splitlines()[3:-2]]
        assert names == [r.key.split()[0] for r in rows][:10]


def test_benchmark_timer_times_the_computation_not_its_recording():
    from fnnet.torch.utils import benchmark

    x = fnt.from_numpy(np.ones((64, 64), np.float32))
    # ``.item()`` runs the product; an assignment or a bare expression must run too, once
    # per timed run (each a flush of the recorded statement), not only be recorded
    for stmt in ("(x @ x).sum().item()", "y = x @ x", "x @ x"):
        fnt.reset_compile_stats()
        benchmark.Timer(stmt, globals={"x": x}).timeit(20)
        stats = fnt.compile_stats()
        assert stats["hits"] + stats["compiles"] >= 20 and not stats["eager"], (stmt, stats)


def _timed(module):
    from importlib import import_module

    benchmark = import_module(f"{module.__name__}.utils.benchmark")
    x = module.from_numpy(np.ones(8, np.float32))
    return benchmark, [benchmark.Timer(stmt=f"x {op} 2", globals={"x": x}, label="ops",
                                       sub_label=f"[{n}]", description=op).timeit(n)
                       for n in (10, 20) for op in "*+"]


def _layout(text):
    """``text``'s lines with numbers, units and runs of dashes and spaces made uniform."""
    text = re.sub(r"\d+(\.\d+)?", "#", text)
    text = re.sub(r"# (ns|us|ms|s)\b", "# U", text)
    return [re.sub(r"\s+", " ", re.sub(r"-+", "-", line)).strip()
            for line in text.splitlines()]


def test_benchmark_measurements_and_compare_read_as_pytorchs(torch):
    _, expected = _timed(torch)
    benchmark, got = _timed(fnt)
    for want, have in zip(expected, got, strict=True):
        assert (have.number_per_run, len(have.times), have.title, have.description) == \
            (want.number_per_run, len(want.times), want.title, want.description)
        assert have.mean > 0 and have.median > 0
        assert _layout(repr(have))[1:] == _layout(repr(want))[1:]  # past the address
    tables = []
    for module, results in ((benchmark, got), (torch.utils.benchmark, expected)):
        compare = module.Compare(results[:2])
        compare.extend_results(results[2:])
        compare.trim_significant_figures()  # the benchmark recipe's calls
        tables.append(_layout(str(compare)))
    assert tables[0] == tables[1]


def test_benchmark_names_what_it_lacks():
    from fnnet.torch.utils import benchmark

    with pytest.raises(NotImplementedError, match="Timer.collect_callgrind is not supported"):
        benchmark.Timer("pass").collect_callgrind()
    with pytest.raises(NotImplementedError, match=r"torch\.utils\.benchmark\.Fuzzer; it "
                                                  r"provides Timer"):
        benchmark.Fuzzer  # noqa: B018 - the attribute access is the test


def test_benchmark_timer_raises_pytorchs_errors(torch):
    import torch.utils.benchmark as theirs

    from fnnet.torch.utils import benchmark

    for module in (theirs, benchmark):
        with pytest.raises(ValueError, match="Currently only a `str` stmt is supported."):
            module.Timer(stmt=3)
        with pytest.raises(NameError, match="name 'x' is not defined"):
            module.Timer(stmt="x * 2").timeit(1)


def _hparams_written(module, folder):
    from tensorboard.backend.event_processing import event_accumulator as ea
    from tensorboard.plugins.hparams import plugin_data_pb2

    with module.utils.tensorboard.SummaryWriter(str(folder)) as writer:
        writer.add_hparams({"lr": 0.1, "bsize": 8, "opt": "SGD", "nesterov": False,
                            "scale": module.tensor([0.5])}, {"hparam/loss": 0.25},
                           run_name="trial")
    acc = ea.EventAccumulator(str(folder / "trial"))
    acc.Reload()
    return {tag: plugin_data_pb2.HParamsPluginData.FromString(content)
            for tag, content in acc.PluginTagToContent("hparams").items()}


def test_add_hparams_writes_what_pytorch_writes(torch, tmp_path):
    import torch.utils.tensorboard  # noqa: F401 - loads PyTorch's writer

    assert _hparams_written(fnt, tmp_path / "fnnet") == \
        _hparams_written(torch, tmp_path / "torch")


def _stream(module):
    class Numbers(module.utils.data.IterableDataset):
        """PyTorch's documented stream: no ``__len__``."""

        def __iter__(self):
            return iter(range(3, 7))

    return Numbers()


def test_a_stream_without_length_lists_and_has_no_len(torch):
    for module in (torch, fnt):
        loader = module.utils.data.DataLoader(_stream(module), batch_size=3)
        assert [b.tolist() for b in list(loader)] == [[3, 4, 5], [6]]
        assert [int(x) for x in list(module.utils.data.DataLoader(_stream(module)))] == \
            [3, 4, 5, 6]
        with pytest.raises(TypeError, match="has no len"):
            len(loader)


@pytest.mark.parametrize("batch", [
    [b"ab", b"cd"], [np.str_("a"), np.str_("b")], [("a", b"x"), ("b", b"y")],
])
def test_default_collate_keeps_strings_and_bytes_as_pytorch(torch, batch):
    assert fnt.utils.data.default_collate(batch) == torch.utils.data.default_collate(batch)


@pytest.mark.parametrize("batch", [
    [np.array(["a"]), np.array(["b"])], [np.array([object()]), np.array([object()])],
])
def test_default_collate_refuses_arrays_of_strings_as_pytorch(torch, batch):
    with pytest.raises(TypeError) as expected:
        torch.utils.data.default_collate(batch)
    with pytest.raises(TypeError) as got:
        fnt.utils.data.default_collate(batch)
    assert str(got.value) == str(expected.value)


def _pixels_written(module, folder):
    import io

    from PIL import Image
    from tensorboard.backend.event_processing import event_accumulator as ea

    normalized = np.random.default_rng(2).standard_normal((2, 3, 5, 7)).astype(np.float32)
    with module.utils.tensorboard.SummaryWriter(str(folder)) as writer:
        writer.add_image("normalized", module.from_numpy(normalized[0]), 0)
        writer.add_image("bright", module.from_numpy(normalized[1] * 300), 0)
        writer.add_images("batch", module.from_numpy(normalized.transpose(0, 2, 3, 1).copy()),
                          0, dataformats="NHWC")
        writer.add_image("uint8", module.from_numpy(
            (np.abs(normalized[0]) * 80).astype(np.uint8)), 0)
    acc = ea.EventAccumulator(str(folder), size_guidance={ea.IMAGES: 0})
    acc.Reload()
    return {tag: np.asarray(Image.open(io.BytesIO(acc.Images(tag)[0].encoded_image_string)))
            for tag in acc.Tags()["images"]}


def test_images_outside_0_1_are_clipped_as_pytorch(torch, tmp_path):
    import torch.utils.tensorboard  # noqa: F401 - loads PyTorch's writer

    expected = _pixels_written(torch, tmp_path / "torch")
    got = _pixels_written(fnt, tmp_path / "fnnet")
    assert sorted(got) == sorted(expected)
    for tag, pixels in expected.items():
        np.testing.assert_array_equal(got[tag], pixels, err_msg=tag)


def _projector_files(module, folder):
    from PIL import Image

    rng = np.random.default_rng(3)
    features = module.from_numpy(rng.standard_normal((6, 4)).astype(np.float32))
    thumbnails = module.from_numpy(rng.uniform(0, 1, (6, 1, 4, 4)).astype(np.float32))
    with module.utils.tensorboard.SummaryWriter(str(folder)) as writer:
        writer.add_embedding(features, metadata=[0, 1, 2, 0, 1, 2], label_img=thumbnails,
                             global_step=3, tag="digits")
        writer.add_embedding(features[:2], label_img=thumbnails[:2].repeat(1, 3, 1, 1))
    found = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.suffix == ".png":
            found[name] = np.asarray(Image.open(path)).tolist()
        elif path.suffix == ".tsv":
            found[name] = path.read_text()
    return found


def test_add_embedding_writes_pytorchs_projector_files(torch, tmp_path):
    import torch.utils.tensorboard  # noqa: F401 - loads PyTorch's writer

    expected = _projector_files(torch, tmp_path / "torch")
    assert "00003/digits/sprite.png" in expected
    assert _projector_files(fnt, tmp_path / "fnnet") == expected


def test_torchscript_guards_run_and_its_compilers_say_what_to_do(tmp_path):
    import fnnet.torch.jit as jit  # as ``import torch.jit``

    class Block(fnt.nn.Module):
        """Model code written for TorchScript, as torchvision's."""

        def __init__(self):
            super().__init__()
            self.fc = fnt.nn.Linear(2, 2)

        @fnt.jit.ignore
        def describe(self):
            return "block"

        def forward(self, x):
            if not fnt.jit.is_scripting() and not fnt.jit.is_tracing():
                x = x * 2
            return self.fc(x)

    model = Block()
    assert model(fnt.ones(1, 2)).shape == (1, 2) and model.describe() == "block"
    assert jit.is_scripting() is False and fnt.onnx.is_in_onnx_export() is False
    with pytest.raises(NotImplementedError, match=r"^torch.onnx.export is not supported by "
                                                  r"fnnet\.torch.*state_dict"):
        fnt.onnx.export(model, fnt.ones(1, 2), tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_save_into_a_missing_folder_raises_pytorchs_error(torch, tmp_path):
    target = tmp_path / "checkpoints" / "model.pt"
    with pytest.raises(RuntimeError) as expected:
        torch.save({"w": torch.ones(1)}, target)
    with pytest.raises(RuntimeError) as got:
        fnt.save({"w": fnt.ones(1)}, target)
    assert str(got.value) == str(expected.value)
    assert not (tmp_path / "checkpoints").exists()


def test_load_names_a_folder_an_empty_file_and_an_unrewound_buffer(tmp_path):
    import io

    with pytest.raises(IsADirectoryError, match=r"\[Errno 21\] Is a directory: "):
        fnt.load(tmp_path)  # Python's own error, as PyTorch's
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty\.pt' is empty"):
        fnt.load(tmp_path / "empty.pt")
    buffer = io.BytesIO()
    fnt.save({"w": fnt.ones(2)}, buffer)
    with pytest.raises(ValueError, match=r"is empty.*buffer\.seek\(0\)"):
        fnt.load(buffer)
    buffer.seek(0)
    assert fnt.load(buffer)["w"].tolist() == [1.0, 1.0]


def test_chrome_trace_holds_only_well_formed_events(fnnet_profile, tmp_path):
    import json

    path = fnnet_profile.export_chrome_trace(str(tmp_path / "trace.json"))
    events = json.loads((tmp_path / "trace.json").read_text())["traceEvents"]
    assert path == str(tmp_path / "trace.json") and events
    assert all(isinstance(e.get("ph"), str) for e in events)
    spans = [e for e in events if e["ph"] == "X"]
    assert all({"name", "ts", "dur", "pid", "tid"} <= set(e) for e in spans)
    assert any(e["name"] == "model_inference" for e in spans)


def test_dataloader_takes_pytorchs_options_and_refuses_a_misspelt_one(torch):
    def options(module):
        return dict(batch_size=2, shuffle=False, num_workers=2, pin_memory=True,
                    persistent_workers=True, prefetch_factor=4, timeout=30,
                    worker_init_fn=lambda worker_id: None, multiprocessing_context=None,
                    pin_memory_device="", in_order=True,
                    generator=module.Generator().manual_seed(0), drop_last=False)

    data = np.arange(5, dtype=np.float32)
    for module in (torch, fnt):
        loader = module.utils.data.DataLoader(module.from_numpy(data), **options(module))
        assert (loader.num_workers, loader.pin_memory, loader.prefetch_factor,
                loader.persistent_workers, loader.timeout) == (2, True, 4, True, 30)
        assert len(loader) == 3
        with pytest.raises(TypeError, match="unexpected keyword argument 'shufle'"):
            module.utils.data.DataLoader(module.from_numpy(data), shufle=True)
    batches = fnt.utils.data.DataLoader(fnt.from_numpy(data), **options(fnt))
    assert [b.tolist() for b in batches] == [[0.0, 1.0], [2.0, 3.0], [4.0]]


def test_table_takes_pytorchs_options_and_refuses_a_misspelt_one(torch, fnnet_profile):
    rows = fnnet_profile.key_averages(group_by_overload_name=True)
    table = rows.table(sort_by="self_cpu_time_total", row_limit=3, max_src_column_width=40,
                       max_name_column_width=30, max_shapes_column_width=40,
                       header="step", top_level_events_only=True, time_unit="ms")
    lines = table.splitlines()
    # PyTorch's header and top-level note, each under a rule of "="
    assert lines[:4] == ["=" * len(lines[0]), "step", "=" * len(lines[0]),
                         "This report only display top-level ops statistics"]
    assert lines[-1].startswith("Self CPU time total: ")
    assert lines[-1].endswith("ms") and len(lines) == 4 + 3 + min(3, len(rows)) + 2
    with pytest.raises(TypeError, match="unexpected keyword argument 'row_limt'"):
        rows.table(sort_by="cpu_time_total", row_limt=10)
    with pytest.raises(TypeError, match="unexpected keyword argument 'row_limt'"):
        _profiled(torch).key_averages().table(sort_by="cpu_time_total", row_limt=10)
    with pytest.raises(ValueError, match="time_unit must be one of"):
        rows.table(time_unit="minutes")


def _logged_across_close(module, folder):
    from tensorboard.backend.event_processing import event_accumulator as ea

    writer = module.utils.tensorboard.SummaryWriter(str(folder))
    for epoch in range(3):  # scripts that close the writer at the end of every epoch
        writer.add_scalar("loss", 1.0 / (epoch + 1), epoch)
        writer.add_scalars("curves", {"train": float(epoch)}, epoch)
        writer.close()
    found = {}
    for run in ("", "curves_train"):
        acc = ea.EventAccumulator(str(folder / run))
        acc.Reload()
        found[run] = {tag: sorted((e.step, e.value) for e in acc.Scalars(tag))
                      for tag in acc.Tags()["scalars"]}
    return found


def test_a_closed_writer_logs_on_as_pytorchs(torch, tmp_path):
    import torch.utils.tensorboard  # noqa: F401 - loads PyTorch's writer

    expected = _logged_across_close(torch, tmp_path / "torch")
    assert len(expected[""]["loss"]) == 3
    assert _logged_across_close(fnt, tmp_path / "fnnet") == expected


def test_two_writers_of_one_folder_keep_both_files(tmp_path):
    from tensorboard.backend.event_processing import event_accumulator as ea

    first = fnt.utils.tensorboard.SummaryWriter(str(tmp_path))
    second = fnt.utils.tensorboard.SummaryWriter(str(tmp_path))  # the same second
    first.add_scalar("train", 1.0, 0)
    second.add_scalar("eval", 2.0, 0)
    first.close()
    second.close()
    assert len(list(tmp_path.glob("events.out.tfevents.*"))) == 2
    acc = ea.EventAccumulator(str(tmp_path))
    acc.Reload()
    assert sorted(acc.Tags()["scalars"]) == ["eval", "train"]


@pytest.mark.parametrize("lengths", [[0.7, 0.2, 0.1], [0.5, 0.5], [0.8, 0.2], [0.1, 0.9],
                                     [0.0, 1.0], [3, 7]])
def test_random_split_sizes_are_pytorchs(torch, lengths):
    import warnings

    with warnings.catch_warnings(record=True) as warned_torch:
        warnings.simplefilter("always")
        expected = [len(s) for s in torch.utils.data.random_split(
            range(10), lengths, generator=torch.Generator().manual_seed(42))]
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        got = fnt.utils.data.random_split(range(10), lengths,
                                          generator=fnt.Generator().manual_seed(42))
    assert [str(w.message) for w in warned] == [str(w.message) for w in warned_torch]
    assert [len(s) for s in got] == expected
    assert sorted(i for s in got for i in s.indices) == list(range(10))


@pytest.mark.parametrize("lengths", [[0.5, 0.6], [3, 4], [-0.1, 1.1]])
def test_random_split_refuses_lengths_as_pytorch(torch, lengths):
    with pytest.raises(ValueError) as expected:
        torch.utils.data.random_split(range(10), lengths)
    with pytest.raises(ValueError) as got:
        fnt.utils.data.random_split(range(10), lengths)
    assert str(got.value).startswith(str(expected.value))


def test_weighted_sampler_refuses_a_replacement_that_is_not_a_bool(torch):
    with pytest.raises(ValueError) as expected:
        torch.utils.data.WeightedRandomSampler([1.0, 2.0], 2, replacement=1)
    with pytest.raises(ValueError) as got:
        fnt.utils.data.WeightedRandomSampler([1.0, 2.0], 2, replacement=1)
    assert str(got.value) == str(expected.value)


@pytest.fixture(scope="module")
def numpy_checkpoint(tmp_path_factory, torch):
    """A checkpoint PyTorch wrote with a numpy best score in it (a common mistake)."""
    path = tmp_path_factory.mktemp("numpy") / "checkpoint.pt"
    torch.save({"best_acc": np.float64(0.9), "w": torch.ones(2)}, path)
    return path


def _load_listing_what_is_refused(module, path):
    """Loads ``path`` weights only, adding each global the load refuses to the safe
    globals (as PyTorch's message advises) until it loads: the names, and the object."""
    allowed, names = [], []
    for _ in range(6):
        try:
            with module.serialization.safe_globals(allowed):
                return names, module.load(path)
        except pickle.UnpicklingError as refused:
            name = re.search(r"GLOBAL (\S+) was not an allowed|but got <class '([^']+)'>",
                             str(refused)).group(1, 2)
            name = name[0] or name[1]
            owner, attribute = name.rsplit(".", 1)
            allowed.append(getattr(importlib.import_module(owner), attribute))
            names.append(name)
    raise AssertionError(f"still refused after {names}")


def test_a_numpy_value_in_a_checkpoint_loads_once_its_globals_are_listed(
        torch, numpy_checkpoint):
    with pytest.raises(pickle.UnpicklingError) as expected:
        torch.load(numpy_checkpoint)
    with pytest.raises(pickle.UnpicklingError) as refused:
        fnt.load(numpy_checkpoint)
    assert str(refused.value) == str(expected.value)  # PyTorch's message, word for word
    assert isinstance(refused.value, ValueError)
    theirs, mine = (_load_listing_what_is_refused(m, numpy_checkpoint) for m in (torch, fnt))
    # numpy's scalar, then its dtype; PyTorch then asks for the dtype's class, which it
    # checks when the dtype is built (fnnet.torch checks the globals a pickle names)
    assert mine[0] == theirs[0][:2] == ["numpy._core.multiarray.scalar", "numpy.dtype"]
    assert mine[1]["best_acc"] == theirs[1]["best_acc"] == 0.9
    np.testing.assert_array_equal(mine[1]["w"].numpy(), theirs[1]["w"].numpy())
    scalar = np._core.multiarray.scalar
    with fnt.serialization.safe_globals([scalar]):
        assert fnt.serialization.get_safe_globals() == [scalar]
    assert fnt.serialization.get_safe_globals() == []
    fnt.serialization.add_safe_globals([scalar])
    fnt.serialization.clear_safe_globals()
    assert fnt.serialization.get_safe_globals() == []
    with pytest.raises(TypeError, match="safe_globals must be a list"):
        fnt.serialization.add_safe_globals(scalar)
    with pytest.raises(NotImplementedError, match=r"torch\.serialization\.register_package; "
                                                  r"it provides save, load"):
        fnt.serialization.register_package  # noqa: B018 - the attribute access is the test


def _diverged_histograms(module, folder):
    from tensorboard.backend.event_processing import event_accumulator as ea

    with module.utils.tensorboard.SummaryWriter(str(folder)) as writer:
        for tag, values in (("nan", [1.0, float("nan"), 2.0]), ("inf", [1.0, float("inf")]),
                            ("-inf", [-float("inf"), 0.5, 0.25])):
            writer.add_histogram(tag, module.tensor(values), 0)
    acc = ea.EventAccumulator(str(folder), {ea.HISTOGRAMS: 0})
    acc.Reload()
    return {tag: str(acc.Histograms(tag)[0].histogram_value)
            for tag in acc.Tags()["histograms"]}


def test_histograms_of_a_diverged_run_are_written_as_pytorchs(torch, tmp_path):
    import torch.utils.tensorboard  # noqa: F401 - loads PyTorch's writer

    assert _diverged_histograms(fnt, tmp_path / "fnnet") == \
        _diverged_histograms(torch, tmp_path / "torch")


def _trained(module):
    """A model and SGD with momentum after one step, from the same numbers in either
    library (Adam would scale the first bias's ~0 gradient, which BatchNorm cancels,
    into a step of float noise)."""
    model = module.nn.Sequential(module.nn.Linear(3, 4), module.nn.BatchNorm1d(4),
                                 module.nn.Linear(4, 2))
    with module.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(module.from_numpy(np.random.default_rng(i).uniform(
                -1, 1, tuple(p.shape)).astype(np.float32)))
    optimizer = module.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = module.from_numpy(np.random.default_rng(9).standard_normal((5, 3)).astype(np.float32))
    model(x).pow(2).mean().backward()
    optimizer.step()
    return model, optimizer


def test_pytorch_loads_what_the_shim_saves(torch, tmp_path):
    import io

    model, optimizer = _trained(fnt)
    checkpoint = {"epoch": 3, "model_state_dict": model.state_dict(),
                  "optimizer_state_dict": optimizer.state_dict(), "loss": 0.25,
                  "history": [1.5, None, True, "sgd", (2, 3)], "best": fnt.tensor(0.5),
                  "view": fnt.arange(6.0).reshape(2, 3).t(), "half": fnt.ones(2).half()}
    fnt.save(checkpoint, tmp_path / "checkpoint.pt")
    buffer = io.BytesIO()
    fnt.save(model.state_dict(), buffer)
    buffer.seek(0)
    got = torch.load(tmp_path / "checkpoint.pt")  # weights_only=True, PyTorch's default
    assert torch.load(tmp_path / "checkpoint.pt", mmap=True)["loss"] == 0.25  # aligned
    from_buffer = torch.load(buffer)
    reference, reference_optimizer = _trained(torch)
    reference_optimizer.load_state_dict(got["optimizer_state_dict"])
    for state in (got["model_state_dict"], from_buffer):
        restored = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4),
                                       torch.nn.Linear(4, 2))
        restored.load_state_dict(state)
        for key, value in reference.state_dict().items():
            np.testing.assert_allclose(restored.state_dict()[key].numpy(), value.numpy(),
                                       rtol=1e-5, atol=1e-6, err_msg=key)
    assert (got["epoch"], got["loss"], got["history"]) == \
        (3, 0.25, [1.5, None, True, "sgd", (2, 3)])
    assert got["best"].item() == 0.5 and got["half"].dtype == torch.float16
    assert got["view"].tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]
    back = fnt.load(tmp_path / "checkpoint.pt")  # and the shim reads its own file
    assert back["view"].tolist() == got["view"].tolist() and back["history"][4] == (2, 3)


def test_a_safetensors_path_still_gets_a_safetensors_file(tmp_path):
    import safetensors.numpy

    model, _ = _trained(fnt)
    fnt.save(model.state_dict(), tmp_path / "model.safetensors")
    arrays = safetensors.numpy.load_file(tmp_path / "model.safetensors")
    assert sorted(arrays) == sorted(model.state_dict())


def test_a_failed_save_leaves_the_old_file_whole(tmp_path, monkeypatch):
    from fnnet.torch import _torch_zip

    path = tmp_path / "model.pt"
    fnt.save({"w": fnt.ones(3)}, path)
    before = path.read_bytes()

    def failing_replace(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(_torch_zip.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        fnt.save({"w": fnt.zeros(3)}, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]  # no temporary left
    monkeypatch.undo()
    with pytest.raises(AttributeError, match="Can't pickle local object"):  # as PyTorch
        fnt.save({"f": lambda: 0}, tmp_path / "other.pt")
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]


def test_load_keeps_a_state_dicts_type_and_save_keeps_a_files_own_error(torch, tmp_path):
    model, _ = _trained(fnt)
    fnt.save(model.state_dict(), tmp_path / "model.pt")
    expected = type(torch.load(tmp_path / "model.pt"))
    assert type(fnt.load(tmp_path / "model.pt")) is expected  # OrderedDict, as PyTorch's
    with open(tmp_path / "text.pt", "w") as text, pytest.raises(TypeError) as error:
        fnt.save(model.state_dict(), text)  # a file opened without "b"
    assert str(error.value) == "write() argument must be str, not bytes"


def test_pruning_tutorial_steps_as_pytorch(torch):
    """torch.nn.utils.prune: the _orig/_mask names and their state_dict order, a second
    pruning among the kept entries, global pruning, the hooks a tutorial walks, the
    gradients through the masks, remove() and the errors."""
    rng = np.random.default_rng(3)
    weights = {k: rng.standard_normal(shape).astype(np.float32) for k, shape in
               (("0.weight", (4, 3, 3, 3)), ("0.bias", (4,)), ("2.weight", (2, 36)),
                ("2.bias", (2,)))}
    x = rng.standard_normal((2, 3, 5, 5)).astype(np.float32)
    runs = []
    for T in (torch, fnt):
        prune = importlib.import_module(f"{T.__name__}.nn.utils.prune")
        net = T.nn.Sequential(T.nn.Conv2d(3, 4, 3), T.nn.Flatten(), T.nn.Linear(36, 2))
        net.load_state_dict({k: T.tensor(v) for k, v in weights.items()})
        prune.l1_unstructured(net[0], "weight", amount=0.3)
        prune.l1_unstructured(net[0], "bias", amount=1)
        prune.ln_structured(net[0], "weight", amount=1, n=2, dim=0)
        prune.global_unstructured([(net[0], "weight"), (net[2], "weight")],
                                  pruning_method=prune.L1Unstructured, amount=20)
        hooks = [type(h).__name__ for h in net[0]._forward_pre_hooks.values()]
        net(T.tensor(x)).pow(2).sum().backward()
        keys = list(net.state_dict())
        masks = [net[0].weight_mask.numpy().copy(), net[2].weight_mask.numpy().copy()]
        grad = net[0].weight_orig.grad.numpy().copy()
        pruned = prune.is_pruned(net)
        prune.remove(net[0], "weight")
        errors = []
        for call, args in ((prune.remove, (net[0], "weight")),
                           (prune.l1_unstructured, (net[2], "bias", 1.5)),
                           (prune.l1_unstructured, (net[2], "bias", 5))):
            with pytest.raises(ValueError) as caught:
                call(*args)
            errors.append(str(caught.value))
        runs.append((hooks, keys, masks, grad, pruned, list(net.state_dict()),
                     net[0].weight.detach().numpy(), errors,
                     [hasattr(net[0], "weight_orig"), hasattr(net[2], "bias_orig")]))
    (t_hooks, t_keys, t_masks, t_grad, t_pruned, t_after, t_weight, t_errors, _), ours = runs
    assert ours[0] == t_hooks and ours[1] == t_keys and ours[4] == t_pruned
    assert ours[5] == t_after and ours[7] == t_errors and ours[8] == runs[0][8]
    for mine, expected in zip(ours[2], t_masks, strict=True):
        np.testing.assert_array_equal(mine, expected)
    np.testing.assert_allclose(ours[3], t_grad, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours[6], t_weight, rtol=1e-6)
