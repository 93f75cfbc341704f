"""fnnet.torch.profiler: PyTorch's profiler API on jax.profiler, checked against PyTorch's
own profiler (schedules, when traces are handed over) and on real traces of a training loop."""

from __future__ import annotations

import gzip
import itertools
import json
import warnings

import numpy as np
import pytest

import fnnet.torch as ft
from fnnet.torch import _profiler_events, profiler

pytestmark = pytest.mark.torch

SCHEDULES = [dict(wait=w, warmup=u, active=a, repeat=r, skip_first=s)
             for w, u, a, r, s in itertools.product((0, 2), (0, 1), (1, 3), (0, 2), (0, 3))]


@pytest.mark.parametrize("kwargs", SCHEDULES + [dict(wait=2, warmup=1, active=2,
                                                     skip_first_wait=1)])
def test_schedule_gives_pytorchs_actions(torch, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.profiler.schedule(**kwargs)
        ours = profiler.schedule(**kwargs)
    assert [ours(i).name for i in range(40)] == [theirs(i).name for i in range(40)]


def _train(torch_module, seed=0):
    """A small loop's pieces under either backend: ``step()`` runs one training step."""
    nn = torch_module.nn
    torch_module.manual_seed(seed)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    opt = torch_module.optim.SGD(model.parameters(), lr=0.1)
    rng = np.random.default_rng(seed)
    x = torch_module.tensor(rng.standard_normal((16, 8)).astype(np.float32))
    y = torch_module.tensor(rng.integers(0, 3, 16))

    def step():
        opt.zero_grad()
        with torch_module.profiler.record_function("forward_pass"):
            loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def _ready_steps(torch_module, steps, **kwargs):
    """The step numbers at which ``on_trace_ready`` fires over ``steps`` steps (and the
    profiler's exit), and the count of ``forward_pass`` events each window saw."""
    seen = []

    def ready(prof):
        rows = {r.key: r.count for r in prof.key_averages()}
        seen.append((prof.step_num, rows.get("forward_pass", 0)))

    step = _train(torch_module)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        schedule = torch_module.profiler.schedule(**kwargs)
    with torch_module.profiler.profile(schedule=schedule, on_trace_ready=ready) as prof:
        for _ in range(steps):
            step()
            prof.step()
    return seen


@pytest.mark.parametrize("kwargs,steps", [
    (dict(wait=1, warmup=1, active=2, repeat=2), 10),
    (dict(wait=0, warmup=1, active=1), 5),
    (dict(wait=2, warmup=0, active=3, repeat=1, skip_first=1), 8),
])
def test_traces_are_handed_over_at_pytorchs_steps_with_the_windows_regions(torch, kwargs,
                                                                           steps):
    # each window holds the regions of its active steps, as PyTorch's does
    assert _ready_steps(ft, steps, **kwargs) == _ready_steps(torch, steps, **kwargs)


@pytest.fixture(scope="module")
def traced(tmp_path_factory):
    """Three steps of a fnnet.torch loop (after one to compile) under a profiler with a
    TensorBoard handler; the profiler and its folder."""
    folder = tmp_path_factory.mktemp("profile") / "run"
    step = _train(ft)
    step()
    with profiler.profile(activities=[profiler.ProfilerActivity.CPU], record_shapes=True,
                          on_trace_ready=profiler.tensorboard_trace_handler(str(folder))
                          ) as prof:
        for _ in range(3):
            step()
            prof.step()
    return prof, folder


def test_key_averages_count_the_regions_and_the_compiled_steps(traced):
    prof, _ = traced
    rows = {r.key: r for r in prof.key_averages()}
    assert rows["forward_pass"].count == 3
    # every step runs as one compiled program call, which holds its own work; JAX
    # traces such a call as two nested events of one name, counted once
    assert rows["PjitFunction(run)"].count == 3
    for r in rows.values():
        assert 0 <= r.self_cpu_time_total <= r.cpu_time_total + 1e-6
    total = sum(e.duration_us for e in prof.events() if e.name == "forward_pass")
    assert rows["forward_pass"].cpu_time_total == pytest.approx(total)


def test_a_compiled_calls_doubled_event_is_one_call_and_nested_calls_stay_apart():
    def span(name, ts, dur):
        return {"ph": "X", "pid": 1, "tid": 1, "name": name, "ts": ts, "dur": dur}

    events = profiler._function_events([
        span("PjitFunction(run)", 0.0, 100.0), span("PjitFunction(run)", 0.3, 99.5),
        span("kernel", 10.0, 50.0),
        # an event of one name inside another, for part of it: two calls
        span("loop", 200.0, 100.0), span("loop", 220.0, 30.0)])
    rows = {(e.name, e.start_us): (e.duration_us, e.self_us) for e in events}
    assert rows == {("PjitFunction(run)", 0.0): (100.0, 50.0), ("kernel", 10.0): (50.0, 50.0),
                    ("loop", 200.0): (100.0, 70.0), ("loop", 220.0): (30.0, 30.0)}


def test_table_is_pytorchs_layout_sorted_and_limited(traced):
    prof, _ = traced
    # the profiler recipe's group_by_stack_n=5: rows without stacks group by name, as in
    # PyTorch's table (no extra column)
    assert prof.key_averages(group_by_stack_n=5).table(sort_by="self_cpu_time_total") == \
        prof.key_averages().table(sort_by="self_cpu_time_total")
    rows = prof.key_averages()
    text = rows.table(sort_by="cpu_time_total", row_limit=5)
    lines = text.splitlines()
    assert lines[1].split()[:3] == ["Name", "Self", "CPU"] and "# of Calls" in lines[1]
    body = lines[3:-2]
    assert len(body) == 5
    best = max(rows, key=lambda r: r.cpu_time_total)
    assert body[0].split()[0] == best.key.split()[0]
    assert lines[-1].startswith("Self CPU time total: ")
    # PyTorch sorts by the row attribute sort_by names: an unknown one is no attribute
    with pytest.raises(AttributeError,
                       match="^'FunctionEventAvg' object has no attribute 'speed'$"):
        rows.table(sort_by="speed")


def test_tensorboard_handler_writes_the_xplane_and_a_chrome_trace(traced):
    _, folder = traced
    assert list(folder.glob("plugins/profile/*/*.xplane.pb"))
    (chrome,) = folder.glob("*.pt.trace.json")
    events = json.loads(chrome.read_text())["traceEvents"]
    assert sum(e.get("name") == "forward_pass" for e in events) == 3


def test_each_window_keeps_its_xplane_when_windows_end_in_one_second(tmp_path):
    """JAX names a trace's folder by the second: the handler gives each window a folder
    of its own, so that a short schedule's windows do not overwrite each other's."""
    x = ft.ones(4)
    with profiler.profile(schedule=profiler.schedule(wait=0, warmup=0, active=1, repeat=3),
                          on_trace_ready=profiler.tensorboard_trace_handler(tmp_path)) as prof:
        for _ in range(3):
            with profiler.record_function("work"):
                x = x * 2
                float(x[0])
            prof.step()
    assert len(list(tmp_path.glob("plugins/profile/*/*.xplane.pb"))) == 3
    assert len(list(tmp_path.glob("*.pt.trace.json"))) == 3


def test_chrome_trace_export_plain_and_gzipped(traced, tmp_path):
    prof, _ = traced
    prof.export_chrome_trace(str(tmp_path / "t.json"))
    prof.export_chrome_trace(tmp_path / "t.json.gz")
    plain = json.loads((tmp_path / "t.json").read_text())
    with gzip.open(tmp_path / "t.json.gz", "rt") as f:
        assert json.load(f)["traceEvents"] == plain["traceEvents"]
    assert any(e.get("name") == "forward_pass" for e in plain["traceEvents"])


def test_with_stack_traces_python_calls():
    step = _train(ft)
    step()
    with profiler.profile(with_stack=True) as prof:
        step()
    names = {e.name for e in prof.events()}
    assert any(name.startswith("$") for name in names)
    # the profiler's own calls ending the window (jax.profiler.stop_trace: most of the
    # window's time) are not the program's rows, nor anything inside them
    assert "$profiler.py:271 stop_trace" in profiler._own_calls()
    assert not names & profiler._own_calls()


def test_one_profiler_at_a_time_and_the_first_keeps_working():
    step = _train(ft)
    with profiler.profile() as outer:
        with pytest.raises(RuntimeError, match="already running"):
            with profiler.profile():
                pass
        step()
    assert outer.key_averages()


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="wait must be an int, got 1.5"):
        profiler.schedule(wait=1.5, warmup=1, active=1)
    with pytest.raises(TypeError, match="schedule must be callable"):
        profiler.profile(schedule=3)
    with pytest.raises(TypeError, match="record_function: name must be a str, got 3"):
        profiler.record_function(3)
    with profiler.profile() as prof:
        pass
    with pytest.raises(TypeError, match="group_by_stack_n must be an int >= 0, got -1"):
        prof.key_averages(group_by_stack_n=-1)


def test_handler_refuses_a_file_for_its_folder(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(NotADirectoryError, match="exists and is not a folder"):
        profiler.tensorboard_trace_handler(str(target))


def test_record_function_is_a_decorator_too():
    @profiler.record_function("decorated")
    def work():
        return ft.ones(3).sum().item()

    with profiler.profile() as prof:
        assert work() == 3.0
        assert work() == 3.0
    assert {r.key: r.count for r in prof.key_averages()}["decorated"] == 2


def test_the_older_autograd_profiler_api(torch):
    """``torch.autograd.profiler.profile`` as older courses use it, beside PyTorch's."""
    for t in (torch, ft):
        step = _train(t)
        with t.autograd.profiler.profile() as prof:
            with t.autograd.profiler.record_function("forward_pass_outer"):
                step()
        rows = {r.key: r.count for r in prof.key_averages()}
        assert rows["forward_pass_outer"] == 1 and rows["forward_pass"] == 1
        assert "Self CPU time total" in prof.key_averages().table(sort_by="self_cpu_time_total")
        assert prof.self_cpu_time_total > 0
        with t.autograd.profiler.profile(enabled=False) as idle:
            step()
        assert idle is None  # a disabled profiler's __enter__ gives None


def _memory_profiled(torch_module, profile_memory=True):
    """Regions around a Linear layer's forward, a model's forward under no_grad (with a
    nested region whose large tensor the outer region drops), a view and an in-place
    update, profiled under either backend."""
    nn = torch_module.nn
    prof_api = torch_module.profiler
    torch_module.manual_seed(0)
    linear = nn.Linear(8, 16)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    x = torch_module.tensor(np.ones((16, 8), np.float32))
    with prof_api.profile(activities=[prof_api.ProfilerActivity.CPU],
                          profile_memory=profile_memory, record_shapes=True) as prof:
        with prof_api.record_function("linear"):
            out = linear(x)
        with torch_module.no_grad():
            with prof_api.record_function("outer"):
                with prof_api.record_function("inner"):
                    logits = model(x)
                    scratch = torch_module.zeros(100, 100)
                del scratch
        with prof_api.record_function("make_layer"):
            layer = nn.Linear(8, 16)
        with prof_api.record_function("view_and_inplace"):
            view = x.t()
            out.detach().add_(1)
    del out, logits, layer, view
    return prof


REGIONS = ("linear", "outer", "inner", "make_layer", "view_and_inplace")


@pytest.fixture(scope="module")
def memory_profiled():
    return _memory_profiled(ft)


@pytest.fixture(scope="module")
def torch_memory_profiled(torch):
    return _memory_profiled(torch)


def test_region_memory_is_pytorchs_for_the_tensors_it_keeps(torch_memory_profiled,
                                                            memory_profiled):
    """The bytes each region leaves allocated: a Linear's output (16 x 16 float32),
    a no_grad forward's logits, a layer's parameters, nothing for a view or an
    in-place update; the outer region's self figure is negative, as it frees the
    10,000 floats its nested region made."""
    expected = {r.key: r for r in torch_memory_profiled.key_averages()}
    got = {r.key: r for r in memory_profiled.key_averages()}
    for name in REGIONS:
        assert got[name].cpu_memory_usage == expected[name].cpu_memory_usage, name
    assert got["linear"].cpu_memory_usage == 16 * 16 * 4
    assert got["outer"].self_cpu_memory_usage == expected["outer"].self_cpu_memory_usage \
        == 3 * 16 * 4 - (100 * 100 * 4 + 3 * 16 * 4)
    # PyTorch puts an operator's allocation on its aten:: row; fnnet.torch's rows hold
    # no operators, so the region's self figure holds it
    assert got["inner"].self_cpu_memory_usage == got["inner"].cpu_memory_usage
    events = [e for e in memory_profiled.events() if e.name == "linear"]
    assert [e.cpu_memory_usage for e in events] == [16 * 16 * 4]
    total = memory_profiled.key_averages().total_average()
    assert total.cpu_memory_usage == sum(got[name].cpu_memory_usage for name in REGIONS)
    assert all(r.device_memory_usage == 0 == r.cuda_memory_usage for r in got.values())


def test_memory_table_has_pytorchs_columns_units_and_order(torch_memory_profiled,
                                                           memory_profiled):
    from torch.autograd.profiler_util import _format_memory

    expected = torch_memory_profiled.key_averages().table(
        sort_by="self_cpu_memory_usage", row_limit=10)
    rows = memory_profiled.key_averages()
    for sort_by in ("self_cpu_memory_usage", "cpu_memory_usage"):
        text = rows.table(sort_by=sort_by, row_limit=4)
        lines = text.splitlines()
        assert [c.strip() for c in lines[1].split("  ") if c.strip()] == \
            [c.strip() for c in expected.splitlines()[1].split("  ") if c.strip()]
        ranked = sorted(rows, key=lambda r: getattr(r, sort_by), reverse=True)[:4]
        assert [line.split()[0] for line in lines[3:-2]] == [r.key for r in ranked]
        # the Mem cells as PyTorch formats bytes (B, KB, MB, GB)
        first = lines[3].split("  ")
        cells = [c.strip() for c in first if c.strip()]
        assert cells[-3:-1] == [_format_memory(ranked[0].cpu_memory_usage),
                                _format_memory(ranked[0].self_cpu_memory_usage)]
    assert lines[3].split()[0] == "inner"  # 40,192 bytes: 39.25 KB
    for nbytes in (0, 5, -1024, 1023, 40192, -40000, 3 << 20, 5 << 30):
        assert _profiler_events._format_bytes(nbytes) == _format_memory(nbytes)


def test_without_profile_memory_the_memory_is_zero_and_sorts_as_pytorch(torch):
    for module in (torch, ft):
        rows = _memory_profiled(module, profile_memory=False).key_averages()
        assert all(r.cpu_memory_usage == 0 == r.self_cpu_memory_usage for r in rows)
        for sort_by in ("self_cpu_memory_usage", "cuda_memory_usage",
                        "self_device_memory_usage"):
            text = rows.table(sort_by=sort_by, row_limit=-1)
            assert "CPU Mem" not in text
            # all rows tie: they keep their order (long names cut, as PyTorch cuts them)
            assert [line.split()[0][:40] for line in text.splitlines()[3:-2]] == \
                [r.key.split()[0][:40] for r in rows]


def test_the_older_api_profiles_memory_too(torch):
    for t in (torch, ft):
        x = t.tensor(np.ones((4, 8), np.float32))
        with t.autograd.profiler.profile(profile_memory=True) as prof:
            with t.autograd.profiler.record_function("scaled"):
                y = x * 2
        assert {r.key: r.cpu_memory_usage for r in prof.key_averages()}["scaled"] == 128
        assert "Self CPU Mem" in prof.table(sort_by="cpu_memory_usage")
        del y


def test_memory_timeline_names_itself(torch):
    """``export_memory_timeline`` warns of its deprecation and refuses a profiler made
    without ``record_shapes``, ``profile_memory`` and ``with_stack`` as PyTorch's; with
    them, it is refused naming the fnnet way."""
    refusals = []
    for module in (torch, ft):
        for options in ({"profile_memory": True}, {"with_stack": True, "record_shapes": True}):
            with module.profiler.profile(**options) as prof:
                pass
            with pytest.warns(FutureWarning, match="`export_memory_timeline` is deprecated"), \
                    pytest.raises(ValueError) as refused:
                prof.export_memory_timeline("memory.html")
            refusals.append(str(refused.value))
    assert refusals[2:] == refusals[:2]
    with profiler.profile(profile_memory=True, with_stack=True, record_shapes=True) as prof:
        pass
    with pytest.warns(FutureWarning), \
            pytest.raises(NotImplementedError, match="export_memory_timeline"):
        prof.export_memory_timeline("memory.html")


# ------------------------------------------------ PyTorch's behaviour as users meet it

def _rows(torch_module, profile_memory):
    """The same three rows as PyTorch's ``FunctionEventAvg`` and as fnnet.torch's (a long
    name among them), in an ``EventList`` of either."""
    figures = [("model_inference", 1, 2289.0, 1312.0, 288, -256),
               ("PjitFunction(matmul)", 4, 899.1, 63.9, 0, 0),
               ("a_region_with_a_name_longer_than_the_name_column_allows_" * 2, 3, 10.0,
                10.0, 40192, 40192)]
    rows = []
    for key, count, total, own, memory, own_memory in figures:
        if torch_module is None:
            rows.append(_profiler_events.FunctionEventAvg(
                key, count, total, own, cpu_memory_usage=memory,
                self_cpu_memory_usage=own_memory))
            continue
        row = torch_module.autograd.profiler_util.FunctionEventAvg()
        row.key, row.count, row.cpu_time_total, row.self_cpu_time_total = key, count, total, own
        row.cpu_memory_usage, row.self_cpu_memory_usage = memory, own_memory
        row.input_shapes, row.use_device, row.node_id = "", None, -1
        rows.append(row)
    if torch_module is None:
        return _profiler_events.EventList(rows, profile_memory=profile_memory)
    return torch_module.autograd.profiler_util.EventList(rows, profile_memory=profile_memory)


@pytest.mark.parametrize("profile_memory", [False, True])
@pytest.mark.parametrize("options", [
    dict(sort_by="cpu_time_total", row_limit=10),
    dict(sort_by="self_cpu_memory_usage", row_limit=2, header="after warmup"),
    dict(sort_by="count", row_limit=-1, time_unit="ms", max_name_column_width=30),
    dict(sort_by="flops", row_limit=5),  # with_flops: the rows count none, all tie
    dict(),
])
def test_table_is_pytorchs_text(torch, profile_memory, options):
    """Column widths, trailing spacing, long names cut, the header's rules: the text of
    PyTorch's table for the same rows."""
    import torch.autograd.profiler_util  # noqa: F401 - loads PyTorch's rows

    assert _rows(None, profile_memory).table(**options) == \
        _rows(torch, profile_memory).table(**options)


def test_rows_formatted_times_and_repr_are_pytorchs(torch):
    """What scripts print of the rows themselves: ``row.cpu_time_total_str`` and the
    other ``*_str`` times, ``repr(row)``, and an event's ``time_range``."""
    import torch.autograd.profiler_util  # noqa: F401 - loads PyTorch's rows

    names = ["cpu_time_str", "device_time_str", "cpu_time_total_str", "device_time_total_str",
             "self_cpu_time_total_str", "self_device_time_total_str"]
    for ours, theirs in zip(_rows(None, True), _rows(torch, True), strict=True):
        assert [getattr(ours, n) for n in names] == [getattr(theirs, n) for n in names]
        assert repr(ours) == repr(theirs)
    event = _profiler_events.FunctionEvent("step", 1, start_us=5.0, duration_us=1500.0,
                                           self_us=1500.0, device=False)
    theirs = torch.autograd.profiler_util.FunctionEvent(
        id=0, name="step", thread=1, start_us=5.0, end_us=1505.0)
    assert (event.time_range.start, event.time_range.end, event.time_range.elapsed_us(),
            event.cpu_time_total_str) == (theirs.time_range.start, theirs.time_range.end,
                                          theirs.time_range.elapsed_us(),
                                          theirs.cpu_time_total_str)


def test_profilers_keep_their_options_as_pytorchs(torch):
    names = ["record_shapes", "with_flops", "with_modules", "with_stack", "profile_memory"]
    kept = []
    for module in (torch, ft):
        made = (module.profiler.profile(record_shapes=True, with_flops=True),
                module.autograd.profiler.profile(record_shapes=True, with_modules=True))
        kept.append([[getattr(p, n) for n in names] for p in made])
    assert kept[1] == kept[0]


def test_windows_accumulate_with_acc_events_and_warn_as_pytorchs(torch, monkeypatch):
    """Each window's rows (and the last), with and without ``acc_events``, and PyTorch's
    warnings: CUDA asked for without a GPU, and (once a process) a second window
    dropping the first's events."""
    import torch.profiler.profiler as torch_profiler

    seen = []
    for module in (torch, ft):
        monkeypatch.setattr(torch_profiler, "_WARNINGS_SHOWN", set())
        monkeypatch.setattr(profiler, "_WARNED", set())
        activities = [module.profiler.ProfilerActivity.CPU,
                      module.profiler.ProfilerActivity.CUDA]
        for acc_events in (False, True):
            counts: list[list[int]] = []

            def ready(p, counts=counts):
                counts.append([r.count for r in p.key_averages() if r.key == "region"])

            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                with module.profiler.profile(
                        activities=activities, acc_events=acc_events, on_trace_ready=ready,
                        schedule=module.profiler.schedule(wait=0, warmup=1, active=1,
                                                          repeat=2)) as prof:
                    for _ in range(5):
                        with module.profiler.record_function("region"):
                            float((module.ones(2) * 2).sum())
                        prof.step()
            seen.append((counts, [str(w.message) for w in caught
                                  if "acc_events" in str(w.message) or "CUDA" in str(w.message)]))
    assert seen[2:] == seen[:2]
    assert [counts for counts, _ in seen[:2]] == [[[1], [1]], [[1], [2]]]


def test_an_empty_table_is_empty_as_pytorchs(torch):
    assert _profiler_events.EventList().table() == \
        torch.autograd.profiler_util.EventList([]).table() == ""


def _misuse(torch_module):
    """What each misuse of the profiler raises: ``{call: (type name, message)}``."""
    prof_api = torch_module.profiler
    found = {}

    def attempt(name, call):
        try:
            call()
        except Exception as error:  # noqa: BLE001 - the outcome is compared
            found[name] = (type(error).__name__, str(error))
        else:
            found[name] = None

    never = prof_api.profile()
    for name in ("key_averages", "events", "stop"):
        attempt(name, getattr(never, name))
    attempt("export_chrome_trace", lambda: never.export_chrome_trace("never.json"))
    attempt("step_before_start", prof_api.profile().step)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        attempt("negative_wait", lambda: prof_api.schedule(wait=-1, warmup=1, active=1))
        attempt("no_active", lambda: prof_api.schedule(wait=0, warmup=1, active=0))
        attempt("negative_step", lambda: prof_api.schedule(wait=0, warmup=1, active=1)(-1))
        attempt("string_activity", lambda: prof_api.profile(activities=["cpu"]))
        attempt("no_activity", lambda: prof_api.profile(activities=[]))
        if not ft.cuda.is_available():  # PyTorch's here is a CPU build
            attempt("cuda_only", prof_api.profile(
                activities=[prof_api.ProfilerActivity.CUDA]).start)
        # a schedule that never reaches its warmup gives no results; a warmup, empty ones
        with prof_api.profile(schedule=prof_api.schedule(wait=5, warmup=1, active=1)) as idle:
            idle.step()
        attempt("never_warmed_up", idle.key_averages)
        with prof_api.profile(schedule=prof_api.schedule(wait=1, warmup=1, active=1)) as warm:
            warm.step()
        attempt("warmup_only", lambda: len(warm.key_averages()) and None)
    return found


def test_misuse_raises_pytorchs_errors(torch, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _misuse(ft) == _misuse(torch)


def _started_twice(torch_module):
    """The regions kept, and the warnings given, when ``start()`` is called again before
    ``stop()``: PyTorch starts afresh, dropping the window so far."""
    prof_api = torch_module.profiler
    prof = prof_api.profile()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prof.start()
        with prof_api.record_function("before"):
            torch_module.ones(2).add(1).tolist()
        prof.start()
        with prof_api.record_function("after"):
            torch_module.ones(2).mul(2).tolist()
        prof.stop()
    kept = sorted({e.key for e in prof.key_averages()} & {"before", "after"})
    return kept, [str(w.message) for w in caught if "clears events" in str(w.message)]


def test_start_twice_starts_afresh_as_pytorchs(torch, monkeypatch):
    import torch.profiler.profiler as torch_profiler

    # both warn once a process
    monkeypatch.setattr(torch_profiler, "_WARNINGS_SHOWN", set())
    monkeypatch.setattr(profiler, "_WARNED", set())
    ours = _started_twice(ft)
    assert ours == _started_twice(torch)
    assert ours[0] == ["after"]
    with profiler.profile() as again:  # nothing was left running
        ft.ones(1).tolist()
    assert again.key_averages() is not None


def _stepped(torch_module, folder):
    """Five steps under ``schedule(wait=1, warmup=1, active=2, repeat=1)`` with a
    TensorBoard handler: the rows, the events' names, and the trace file's
    ``user_annotation`` events by name."""
    step = _train(torch_module)
    prof_api = torch_module.profiler
    with prof_api.profile(schedule=prof_api.schedule(wait=1, warmup=1, active=2, repeat=1),
                          on_trace_ready=prof_api.tensorboard_trace_handler(
                              str(folder), worker_name="worker0")) as prof:
        for _ in range(5):
            with prof_api.record_function("epoch#1"):  # a "#" in a region's name
                step()
            prof.step()
    (trace,) = folder.glob("worker0.*.pt.trace.json")
    events = json.loads(trace.read_text())["traceEvents"]
    regions = sorted(e["name"] for e in events if e.get("cat") == "user_annotation"
                     and not e["name"].startswith("Optimizer."))
    rows = {r.key: r.count for r in prof.key_averages()}
    return ({key: rows[key] for key in ("ProfilerStep*", "epoch#1", "forward_pass")},
            sorted({e.name for e in prof.events() if e.name.startswith("ProfilerStep")}),
            regions)


def test_schedule_steps_are_regions_in_the_rows_and_the_trace_as_pytorchs(torch, tmp_path):
    expected = _stepped(torch, tmp_path / "torch")
    assert expected[0] == {"ProfilerStep*": 2, "epoch#1": 2, "forward_pass": 2}
    assert _stepped(ft, tmp_path / "fnnet") == expected


def test_chrome_trace_has_the_categories_tensorboards_pytorch_plugin_reads(traced, tmp_path):
    """TensorBoard's PyTorch profiler plugin files each complete event by its ``cat``
    (``category.lower()``: an event without one stops it reading the trace)."""
    prof, _ = traced
    prof.export_chrome_trace(str(tmp_path / "trace.json"))
    trace = json.loads((tmp_path / "trace.json").read_text())
    assert trace["schemaVersion"] == 1 and trace["deviceProperties"] == []
    spans = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert {e["cat"] for e in spans} <= {"user_annotation", "cpu_op", "kernel",
                                         "python_function"}
    assert all(isinstance(e["args"], dict) and "name" in e for e in spans)
    assert {e["cat"] for e in spans if e["name"] == "forward_pass"} == {"user_annotation"}
    assert {e["cat"] for e in spans if e["name"].startswith("PjitFunction")} == {"cpu_op"}


def test_the_older_api_prints_its_events_and_is_not_reentrant(torch):
    for t in (torch, ft):
        api = t.autograd.profiler
        prof = api.profile()
        assert str(prof) == "<unfinished torch.autograd.profile>"
        with prof:
            with api.record_function("scaled"):
                (t.ones(4) * 2).sum().item()
        assert "scaled" in str(prof) and "Self CPU time total" in str(prof)
        assert [e.key for e in prof.function_events].count("scaled") == 1
        assert prof.total_average().key == "Total"
        assert prof.export_chrome_trace("/dev/null") is None
        with pytest.raises(RuntimeError, match="^Profiler context manager is not reentrant$"):
            prof.__enter__()


def _metadata_and_ids(torch_module, folder):
    """A profiler's metadata in its trace file, its trace ids, the warning of
    ``use_cuda`` and ``export_stacks`` without ``with_stack``."""
    prof_api = torch_module.profiler
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prof_api.profile(use_cuda=False)
    prof = prof_api.profile(custom_trace_id_callback=lambda: "run-7")
    before = prof.get_trace_id()
    with prof:
        prof.add_metadata("model", "mlp")
        prof.add_metadata_json("config", '{"lr": 0.1, "layers": [8, 3]}')
        torch_module.ones(3).sum().item()
    prof.export_chrome_trace(str(folder / "trace.json"))
    trace = json.loads((folder / "trace.json").read_text())
    with pytest.raises(AssertionError) as stacks:
        prof.export_stacks(str(folder / "stacks.txt"))
    return ([(w.category, str(w.message)) for w in caught if w.category is FutureWarning],
            before, prof.get_trace_id(), trace["model"], trace["config"], trace["trace_id"],
            str(stacks.value))


def test_export_stacks_of_cpu_time_and_of_no_device_time_are_empty_as_pytorchs(
        torch, tmp_path):
    """``export_stacks`` of the CPU time (events carry no stacks on the CPU, Python calls
    being events of their own) and the profiler recipe's ``"self_cuda_time_total"`` on
    a CPU: an empty file, as PyTorch's; an unknown metric is PyTorch's ValueError."""
    outcomes = []
    for module in (torch, ft):
        with module.profiler.profile(with_stack=True) as prof:
            module.ones(3).sum().item()
        written = []
        for metric in ("self_cuda_time_total", "self_cpu_time_total"):
            (tmp_path / "stacks.txt").write_text("left over")
            prof.export_stacks(str(tmp_path / "stacks.txt"), metric)
            written.append((tmp_path / "stacks.txt").read_text())
        with pytest.raises(ValueError) as error:
            prof.export_stacks(str(tmp_path / "other.txt"), "cpu_time")
        outcomes.append((written, str(error.value)))
    assert outcomes[1] == outcomes[0] == (["", ""], outcomes[0][1])


def test_chrome_trace_header_has_pytorchs_fields(torch, tmp_path):
    """The trace's top-level fields, as tools reading PyTorch's traces look them up; the
    base time puts the events at their wall-clock time."""
    import time

    headers = []
    for module in (torch, ft):
        for options in (False, True):  # the header names those set
            before = time.time_ns()
            with module.profiler.profile(record_shapes=options, with_stack=options,
                                         profile_memory=options, with_flops=options,
                                         with_modules=options) as prof:
                module.ones(3).sum().item()
            prof.export_chrome_trace(str(tmp_path / "trace.json"))
            trace = json.loads((tmp_path / "trace.json").read_text())
            headers.append(sorted(trace))
    assert headers[2:] == headers[:2]
    first = min(e["ts"] for e in trace["traceEvents"] if e.get("ph") == "X")
    assert 0 <= trace["baseTimeNanoseconds"] + first * 1000 - before < 60e9


def test_metadata_trace_ids_and_deprecations_as_pytorchs(torch, tmp_path):
    (tmp_path / "torch").mkdir()
    (tmp_path / "fnnet").mkdir()
    expected = _metadata_and_ids(torch, tmp_path / "torch")
    assert expected[1:6] == (None, "run-7", "mlp", {"lr": 0.1, "layers": [8, 3]}, "run-7")
    assert _metadata_and_ids(ft, tmp_path / "fnnet") == expected


def _older_api_warnings(torch_module):
    """The warnings of the older profiler's device options, and what a 0/1 ``enabled``
    flag gives."""
    api = torch_module.autograd.profiler
    found = []
    for options in (dict(use_cuda=True), dict(use_device="cuda"), dict(use_device="tpu"),
                    dict(use_cuda=True, enabled=False)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            api.profile(**options)
        found.append([(w.category, str(w.message), w.filename) for w in caught])
    with api.profile(enabled=0) as idle:
        pass
    return found, idle


def test_the_older_api_warns_about_devices_as_pytorchs(torch):
    if ft.cuda.is_available() != torch.cuda.is_available():
        pytest.skip("one backend has a GPU")
    expected = _older_api_warnings(torch)
    assert expected[0][0][0][0] is FutureWarning and expected[0][0][0][2] == __file__
    assert _older_api_warnings(ft) == expected


def test_prof_profiler_shows_the_events_through_the_older_api_as_pytorchs(torch):
    """``prof.profiler`` is None before the profiler starts, then the older API's view
    of the window's events (function_events, key_averages, total_average,
    self_cpu_time_total, table), as PyTorch's."""
    seen = []
    for module in (torch, ft):
        prof = module.profiler.profile()
        before = prof.profiler
        with prof:
            with module.profiler.record_function("region"):
                (module.ones(3) * 2).sum()
        inner = prof.profiler
        seen.append((before, "region" in [e.name for e in inner.function_events],
                     "region" in [e.key for e in inner.key_averages()],
                     inner.total_average().key, inner.self_cpu_time_total > 0,
                     "region" in inner.table(sort_by="cpu_time_total")))
    assert seen[1] == seen[0] == (None, True, True, "Total", True, True)
