"""PyTorch's checkpoint files read without PyTorch (fnnet.interop.torch_file), and
fnnet.torch.load of them: the values PyTorch saved, and damaged or code-carrying files
refused with the file named, before anything runs or is allocated for them."""

from __future__ import annotations

import collections
import io
import pickle
import zipfile

import jax.numpy as jnp
import ml_dtypes
import numpy as np
import pytest

import fnnet.torch as ft
from fnnet.interop.torch_file import (
    LEGACY_MAGIC_NUMBER,
    NotWeightsOnly,
    load_torch_file,
)
from fnnet.torch._torch_zip import archive_bytes

pytestmark = pytest.mark.torch


def _saved(torch, obj, **kwargs) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer, **kwargs)
    return buffer.getvalue()


def _as_numpy(torch, t):
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    return t.numpy()


#: torch.save's formats: its zip archive, and its format before 1.6, which
#: _use_new_zipfile_serialization=False still writes (pickle protocol 2 by default)
FORMATS = {"zip": {}, "legacy": dict(_use_new_zipfile_serialization=False),
           "legacy protocol 4": dict(_use_new_zipfile_serialization=False,
                                     pickle_protocol=4)}


@pytest.mark.parametrize("options", FORMATS.values(), ids=FORMATS.keys())
def test_every_dtype_view_and_container_as_pytorch_saved_it(torch, options):
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    tensors = {
        "float32": torch.randn(3, 4), "float64": torch.randn(2, dtype=torch.float64),
        "float16": torch.randn(5).half(), "bfloat16": torch.randn(5).bfloat16(),
        "int64": torch.tensor([-3, 2**40]), "int32": torch.tensor([7], dtype=torch.int32),
        "int16": torch.tensor([-2], dtype=torch.int16),
        "int8": torch.tensor([-1, 5], dtype=torch.int8),
        "uint8": torch.tensor([255, 1], dtype=torch.uint8),
        "bool": torch.tensor([True, False]), "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 3),
        # views share one storage: an offset, a transpose, a stride-2 slice
        "rows": base[1:3], "transposed": base.t(), "strided": base[:, ::2], "base": base,
    }
    saved = {"tensors": tensors, "epoch": 3, "loss": 0.25, "name": "run",
             "ordered": collections.OrderedDict(b=torch.ones(1), a=torch.zeros(1)),
             "pair": (1, [torch.ones(2), None]), "tags": {"x", "y"},
             "size": torch.Size([2, 3]), "dtype": torch.float16,
             "param": torch.nn.Parameter(torch.ones(2))}
    got = load_torch_file(_saved(torch, saved, **options))
    for name, t in tensors.items():
        value = got["tensors"][name]
        expected = _as_numpy(torch, t)
        assert value.dtype == expected.dtype and value.shape == expected.shape, name
        np.testing.assert_array_equal(value, expected, err_msg=name)
    assert (got["epoch"], got["loss"], got["name"], got["tags"]) == (3, 0.25, "run", {"x", "y"})
    assert list(got["ordered"]) == ["b", "a"] and isinstance(got["ordered"],
                                                             collections.OrderedDict)
    assert got["pair"][0] == 1 and got["pair"][1][1] is None
    assert got["size"] == (2, 3) and got["dtype"] == np.float16
    np.testing.assert_array_equal(got["param"], np.ones(2, np.float32))


@pytest.mark.parametrize("options", [FORMATS["zip"], FORMATS["legacy"]],
                         ids=["zip", "legacy"])
def test_fnnet_torch_loads_a_pytorch_training_checkpoint_and_resumes_alike(torch, tmp_path,
                                                                          options):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    x, y = torch.randn(16, 4), torch.randint(0, 2, (16,))
    for _ in range(3):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    path = tmp_path / "checkpoint.pth"
    torch.save({"epoch": 3, "model_state_dict": net.state_dict(),
                "optimizer_state_dict": opt.state_dict()}, path, **options)

    checkpoint = ft.load(path)
    mine = ft.nn.Sequential(ft.nn.Linear(4, 8), ft.nn.ReLU(), ft.nn.Linear(8, 2))
    mine.load_state_dict(checkpoint["model_state_dict"])
    mine_opt = ft.optim.Adam(mine.parameters(), lr=0.01)
    mine_opt.load_state_dict(checkpoint["optimizer_state_dict"])
    assert checkpoint["epoch"] == 3
    xs, ys = ft.tensor(x.numpy()), ft.tensor(y.numpy())
    for _ in range(2):  # both resume from the same state and take the same steps
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
        mine_opt.zero_grad()
        ft.nn.functional.cross_entropy(mine(xs), ys).backward()
        mine_opt.step()
    for name, value in net.state_dict().items():
        np.testing.assert_allclose(mine.state_dict()[name].numpy(), value.numpy(),
                                   rtol=1e-5, atol=1e-6, err_msg=name)


def test_a_whole_model_is_refused_weights_only_and_loads_when_trusted(torch, tmp_path):
    path = tmp_path / "whole.pt"
    torch.save(torch.nn.Sequential(torch.nn.Linear(2, 2)), path)
    with pytest.raises(pickle.UnpicklingError) as expected:
        torch.load(path)
    with pytest.raises(NotWeightsOnly) as refused:  # also an UnpicklingError
        ft.load(path)
    assert str(refused.value) == str(expected.value)
    model = ft.load(path, weights_only=False)  # the file is trusted: PyTorch's way
    assert type(model) is ft.nn.Sequential and type(model[0]) is ft.nn.Linear


class _Exploit:
    def __reduce__(self):
        return (print, ("unpickled!",))


def _archive(pickled: bytes, records: dict[str, bytes], name: str = "archive") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{name}/data.pkl", pickled)
        archive.writestr(f"{name}/byteorder", "little")
        for key, data in records.items():
            archive.writestr(f"{name}/data/{key}", data)
    return buffer.getvalue()


def test_a_pickle_carrying_code_is_refused_and_nothing_runs(capsys):
    data = _archive(pickle.dumps({"w": _Exploit()}, protocol=2), {})
    with pytest.raises(NotWeightsOnly, match="pickle names __builtin__.print"):
        load_torch_file(data)
    with pytest.raises(ValueError, match="GLOBAL print was not an allowed"):
        ft.load(io.BytesIO(data))
    assert "unpickled!" not in capsys.readouterr().out
    with ft.serialization.safe_globals([len]):  # another global listed: still refused
        with pytest.raises(ValueError, match="GLOBAL print was not an allowed"):
            ft.load(io.BytesIO(data))
    assert "unpickled!" not in capsys.readouterr().out


def test_damaged_archives_are_refused_with_the_reason(torch):
    good = _saved(torch, {"w": torch.arange(4.0)})
    pickled = zipfile.ZipFile(io.BytesIO(good)).read("archive/data.pkl")
    # a storage whose record is shorter than its element count says
    with pytest.raises(ValueError, match=r"storage 0 holds 8 bytes, not 4 elements of 4"):
        load_torch_file(_archive(pickled, {"0": b"\0" * 8}))
    with pytest.raises(ValueError, match="storage 0 is missing from the archive"):
        load_torch_file(_archive(pickled, {}))
    with pytest.raises(ValueError, match="no single <name>/data.pkl"):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("notes.txt", "hello")
        load_torch_file(buffer.getvalue())
    # a record compressed, or claiming more bytes than the file has
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("archive/data.pkl", pickled)
    with pytest.raises(ValueError, match="torch.save stores records uncompressed"):
        load_torch_file(buffer.getvalue())


@pytest.mark.parametrize("version, message", [
    (b"99\n", r"is not readable: a torch\.save archive of version 99; PyTorch 2\.13 reads "
               r"versions 1 to 10 \(a file written by a newer PyTorch\?\)$"),
    (b"0\n", r"is not readable: a torch\.save archive of version 0;"),
    (b"three\n", r"is a damaged PyTorch checkpoint: the archive's version record holds "
                 r"'three', not a version number$"),
])
def test_an_archive_of_a_version_pytorch_does_not_read_is_refused_as_by_pytorch(
        torch, version, message):
    """A newer PyTorch's archive (or a damaged version record) is PyTorch's RuntimeError,
    naming the version, where it loaded as if it were of this version."""
    good = _saved(torch, {"w": torch.arange(4.0)})
    source = zipfile.ZipFile(io.BytesIO(good))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for record in source.infolist():
            data = source.read(record)
            archive.writestr(record, version if record.filename.endswith("/version") else data)
    newer = buffer.getvalue()
    with pytest.raises(RuntimeError, match=r"version"):
        torch.load(io.BytesIO(newer))
    with pytest.raises(RuntimeError, match=message) as refused:
        ft.load(io.BytesIO(newer))
    assert isinstance(refused.value, ValueError)


def _record_start(data: bytes, record: zipfile.ZipInfo) -> int:
    """Where ``record``'s bytes start in the zip archive ``data`` (after its local
    header, whose extra field PyTorch pads to align the storages)."""
    at = record.header_offset
    name, extra = (int.from_bytes(data[at + i:at + i + 2], "little") for i in (26, 28))
    return at + 30 + name + extra


def test_a_bit_flipped_in_any_record_is_named_damage_or_changes_nothing(torch):
    """PyTorch reads storages without their CRC-32: a bit flipped in a tensor's bytes
    loads as another number. fnnet.torch checks each record it reads, so the damage is
    named, or (in a record it does not read, such as .format_version) changes nothing:
    never a wrong tensor."""
    original = {"w": torch.arange(6.0).reshape(2, 3), "n": torch.tensor([7, -1])}
    values = {key: value.tolist() for key, value in original.items()}
    data = _saved(torch, original)
    refused = set()
    for record in zipfile.ZipFile(io.BytesIO(data)).infolist():
        start = _record_start(data, record)
        for at in {start, start + record.file_size - 1} if record.file_size else ():
            damaged = bytearray(data)
            damaged[at] ^= 0x10
            try:
                got = ft.load(io.BytesIO(bytes(damaged)))
            except ft.serialization.UnreadableCheckpoint as error:
                assert "is a damaged PyTorch checkpoint: a damaged torch.save archive " \
                    f"(BadZipFile: Bad CRC-32 for file '{record.filename}')" in str(error)
                refused.add(record.filename.removeprefix("archive/"))
            else:
                assert {key: value.tolist() for key, value in got.items()} == values
            if record.filename == "archive/data/0":
                assert torch.load(io.BytesIO(bytes(damaged)))["w"].tolist() != values["w"]
    assert {"data.pkl", "byteorder", "data/0", "data/1"} <= refused


def test_a_tensor_reaching_past_its_storage_is_refused(torch):
    good = _saved(torch, {"w": torch.arange(4.0)})
    pickled = zipfile.ZipFile(io.BytesIO(good)).read("archive/data.pkl")
    # the tensor's size (4,) as BININT1 4 -> 9: past the storage of 4 elements
    grown = pickled.replace(b"K\x00K\x04\x85", b"K\x00K\x09\x85", 1)
    assert grown != pickled
    with pytest.raises(ValueError, match=r"reaches element 8 of a storage of 4"):
        load_torch_file(_archive(grown, {"0": np.arange(4, dtype=np.float32).tobytes()}))


def test_every_truncation_is_refused_as_damaged(torch):
    data = _saved(torch, {"w": torch.randn(3, 3), "b": torch.zeros(3)})
    for end in range(0, len(data), 7):
        with pytest.raises(ValueError):
            load_torch_file(data[:end])


def test_pytorchs_format_before_1_6_loads_as_pytorch_loads_it(torch):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2))
    data = _saved(torch, net.state_dict(), **FORMATS["legacy"])
    expected = torch.load(io.BytesIO(data), weights_only=True)
    got = ft.load(io.BytesIO(data))
    assert isinstance(got, collections.OrderedDict) and list(got) == list(expected)
    for name, value in expected.items():
        np.testing.assert_array_equal(got[name].numpy(), value.numpy(), err_msg=name)
    mine = ft.nn.Sequential(ft.nn.Conv2d(1, 2, 3), ft.nn.BatchNorm2d(2))
    mine.load_state_dict(got)


def test_pytorchs_format_before_1_6_damaged_is_refused(torch):
    data = _saved(torch, {"w": torch.arange(4.0)}, **FORMATS["legacy"])
    start = len(data) - 8 - 16  # the file ends with the storage: its count, 4 float32
    assert data[start:start + 8] == (4).to_bytes(8, "little")
    for end in range(len(data)):
        with pytest.raises(ValueError):
            load_torch_file(data[:end])
    with pytest.raises(ValueError, match="the file: 3 bytes follow the last storage"):
        load_torch_file(data + b"abc")
    # a count that disagrees with the object's, or that outgrows the file, is refused
    # before anything is read or allocated for it
    for count in (3, 5, 2**60):
        lying = data[:start] + count.to_bytes(8, "little") + data[start + 8:]
        with pytest.raises(ValueError, match=rf"declares {count} elements of float32, the "
                                             rf"object 4, and 16 bytes are left"):
            load_torch_file(lying)
    # code named by the object pickle is refused and never runs
    evil = data.replace(b"ctorch\nFloatStorage", b"cposix\nsystem\x00\x00\x00\x00\x00\x00", 1)
    with pytest.raises(NotWeightsOnly, match="the pickle names posix.system"):
        load_torch_file(evil)
    # a global in a pickle of plain values (the header before the object) is damage, not
    # a whole object's class
    header = pickle.dumps(collections.OrderedDict(), protocol=2)
    magic, version = pickle.dumps(LEGACY_MAGIC_NUMBER, 2), pickle.dumps(1001, 2)
    assert data.startswith(magic + version)
    with pytest.raises(ValueError, match="damaged: its description of its machine, a pickle "
                                         "of plain values, names the global "
                                         "collections.OrderedDict") as refused:
        ft.load(io.BytesIO(magic + version + header + data[len(magic + version):]))
    assert not isinstance(refused.value, NotWeightsOnly)


def test_an_archive_record_name_that_is_not_utf8_is_named_damage(torch):
    data = bytearray(_saved(torch, {"w": torch.ones(2)}))
    data[data.find(b"archive/data.pkl")] ^= 0x80  # the local header's copy of the name
    with pytest.raises(ValueError, match=r"is a damaged PyTorch checkpoint: a damaged "
                                         r"torch.save archive \(UnicodeDecodeError: "):
        ft.load(io.BytesIO(bytes(data)))


def test_an_empty_file_or_buffer_is_pytorchs_eof_error_naming_it(torch, tmp_path):
    """A crash between creating a checkpoint file and writing it leaves it empty;
    PyTorch raises EOFError for it, which resume code catches, and so does fnnet.torch
    (an UnreadableCheckpoint too), naming the file."""
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    for load in (torch.load, ft.load):
        with pytest.raises(EOFError):
            load(empty)
        with open(empty, "rb") as handle, pytest.raises(EOFError):
            load(handle)
    with pytest.raises(ft.serialization.UnreadableCheckpoint,
                       match=r"torch.load: '.*empty.pt' is empty: there is nothing to load$"):
        ft.load(str(empty), weights_only=False)
    written = io.BytesIO()
    ft.save({"w": ft.ones(1)}, written)  # not rewound: read from where the writing stopped
    with pytest.raises(EOFError, match=r"call buffer.seek\(0\) before torch.load"):
        ft.load(written)


def test_bad_arguments(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_torch_file(tmp_path / "missing.pt")
    with pytest.raises(TypeError, match="f must be a path, a binary file or bytes, got int"):
        load_torch_file(3)


def test_read_state_dict_reads_pytorch_files_without_pytorch(torch, tmp_path, monkeypatch):
    import sys

    import fnnet.interop

    net = torch.nn.Linear(3, 2)
    torch.save({"model_state_dict": net.state_dict(), "epoch": 1}, tmp_path / "c.pth")
    torch.save(torch.nn.Linear(3, 2), tmp_path / "whole.pth")
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now fails
    got = fnnet.interop.read_state_dict(tmp_path / "c.pth")
    assert list(got) == ["weight", "bias"]
    for name, value in net.state_dict().items():
        assert isinstance(got[name], np.ndarray)
        np.testing.assert_array_equal(got[name], value.detach().numpy())
    with pytest.raises(ValueError, match=r"whole.pth: refused .*pickle names "
                       r"torch.nn.modules.linear.Linear"):
        fnnet.interop.read_state_dict(tmp_path / "whole.pth")


@pytest.mark.parametrize("options", [FORMATS["zip"], FORMATS["legacy"]], ids=["zip", "legacy"])
def test_what_pytorchs_weights_only_list_allows_loads(torch, options):
    """A MultiStepLR's milestones (a Counter) and Python complex numbers, both on
    PyTorch's weights-only list, and dtypes saved as values."""
    net = torch.nn.Linear(2, 2)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[2, 3], gamma=0.5)
    saved = {"scheduler": sched.state_dict(), "c": 1 + 2j, "dtype": torch.float16,
             "dtypes": [torch.bfloat16, torch.int64], "device": torch.device("cuda", 1)}
    data = _saved(torch, saved, **options)
    expected = torch.load(io.BytesIO(data))
    got = ft.load(io.BytesIO(data))
    assert type(got["scheduler"]["milestones"]) is collections.Counter
    assert got["scheduler"]["milestones"] == expected["scheduler"]["milestones"]
    assert got["c"] == 1 + 2j
    assert got["dtype"] is ft.float16 and got["dtypes"] == [ft.bfloat16, ft.int64]
    assert got["device"] == ft.device("cuda", 1)
    mine = ft.optim.SGD(ft.nn.Linear(2, 2).parameters(), lr=0.1)
    mine_sched = ft.optim.lr_scheduler.MultiStepLR(mine, milestones=[1])
    mine_sched.load_state_dict(got["scheduler"])
    for _ in range(4):
        opt.step(), sched.step(), mine.step(), mine_sched.step()
        assert mine.param_groups[0]["lr"] == pytest.approx(opt.param_groups[0]["lr"])
    # and fnnet.torch's dtypes and devices saved as values are PyTorch's globals
    buffer = io.BytesIO()
    ft.save({"dtype": ft.bfloat16, "device": ft.device("cuda:1")}, buffer)
    assert torch.load(io.BytesIO(buffer.getvalue())) == {
        "dtype": torch.bfloat16, "device": torch.device("cuda", 1)}


@pytest.mark.parametrize("dtype, options", [
    ("uint32", FORMATS["zip"]), ("uint16", FORMATS["zip"]),
    ("float8_e4m3fn", FORMATS["zip"])])
def test_a_dtype_fnnet_torch_lacks_is_read_and_refused_by_name(torch, dtype, options):
    tensor = torch.arange(4, dtype=torch.float32).to(getattr(torch, dtype))[1:]
    data = _saved(torch, {"model": {"w": tensor}}, **options)
    # the reader without PyTorch has every element, in numpy's dtype of that name
    got = load_torch_file(data)["model"]["w"]
    assert got.dtype.name == dtype
    np.testing.assert_array_equal(got.astype(np.complex128),
                                  tensor.to(torch.complex128).numpy())
    with pytest.raises(NotImplementedError, match=rf"'the file' holds a tensor fnnet.torch "
                       rf"cannot represent: a {dtype} tensor at 'model.w'; .*convert it"):
        ft.load(io.BytesIO(data))


@pytest.mark.parametrize("options", [FORMATS["zip"], FORMATS["legacy"]], ids=["zip", "legacy"])
def test_complex_tensors_load_and_save_both_ways(torch, options):
    # a Fourier layer's complex weights: complex128 is held as complex64 without x64
    saved = {"w": torch.tensor([1 + 2j, -0.5j]), "d": torch.tensor([3 - 1j], dtype=torch.cdouble)}
    got = ft.load(io.BytesIO(_saved(torch, saved, **options)))
    assert got["w"].dtype == ft.complex64 and got["d"].dtype == ft.complex128
    for name, t in saved.items():
        np.testing.assert_array_equal(got[name].numpy(), t.numpy(), err_msg=name)
    back = torch.load(io.BytesIO(_saved(ft, got, **options)))
    assert back["w"].dtype == torch.complex64 and torch.equal(back["w"], saved["w"])


def _expanded(torch, size: tuple[int, int]) -> bytes:
    """PyTorch's file of ``torch.ones(1).expand(7, 11)``, its size changed to ``size``."""
    pickled = zipfile.ZipFile(io.BytesIO(_saved(torch, torch.ones(1).expand(7, 11)))).read(
        "archive/data.pkl")
    shape = b"(" + b"".join(b"J" + n.to_bytes(4, "little") for n in size) + b"t"
    return archive_bytes(pickled.replace(b"K\x07K\x0b\x86", shape, 1),
                         [np.ones(1, np.float32)])


def test_an_expanded_tensor_is_made_whole_within_a_limit(torch, monkeypatch):
    import fnnet.interop.torch_file as torch_file

    np.testing.assert_array_equal(ft.load(io.BytesIO(_expanded(torch, (7, 11)))).numpy(),
                                  np.ones((7, 11), np.float32))
    # PyTorch keeps the view in 4 bytes; its elements are refused before any allocation
    huge = _expanded(torch, (10**6, 10**6))
    assert torch.load(io.BytesIO(huge)).shape == (10**6, 10**6)
    with pytest.raises(ValueError, match=r"size \(1000000, 1000000\) with stride \(0, 0\) "
                       r"repeats the 1 elements of its storage \(an expanded tensor\) over "
                       r"4000000000000 bytes, more than the 1073741824"):
        ft.load(io.BytesIO(huge))
    monkeypatch.setattr(torch_file, "EXPANDED_LIMIT", 300)
    with pytest.raises(ValueError, match="over 308 bytes, more than the 300"):
        load_torch_file(_expanded(torch, (7, 11)))


@pytest.mark.parametrize("prefix", ["module.", "_orig_mod."])
def test_a_wrapped_models_state_dict_loads_once_its_prefix_is_removed(torch, prefix):
    from torch.nn.modules.utils import consume_prefix_in_state_dict_if_present

    # reached as PyTorch's scripts reach it: an attribute of the imported package
    mine = ft.nn.modules.utils.consume_prefix_in_state_dict_if_present
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    wrapped = torch.nn.DataParallel(net).state_dict() if prefix == "module." else \
        collections.OrderedDict((prefix + k, v) for k, v in net.state_dict().items())
    data = _saved(torch, wrapped)
    expected, got = torch.load(io.BytesIO(data)), ft.load(io.BytesIO(data))
    plain = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    model = ft.nn.Sequential(ft.nn.Linear(3, 2), ft.nn.BatchNorm1d(2))
    with pytest.raises(RuntimeError) as torch_error:
        plain.load_state_dict(expected)
    with pytest.raises(RuntimeError) as error:
        model.load_state_dict(got)
    assert str(error.value) == str(torch_error.value)
    consume_prefix_in_state_dict_if_present(expected, prefix)
    mine(got, prefix)
    assert list(got) == list(expected)
    assert getattr(got, "_metadata", None) == getattr(expected, "_metadata", None)
    model.load_state_dict(got)
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(model.state_dict()[name].numpy(), value.numpy())
    with pytest.raises(TypeError, match="prefix must be a str such as 'module.', got int"):
        mine(got, 1)


def test_load_checks_map_location_and_mmap_as_pytorch(torch, tmp_path):
    path, legacy = tmp_path / "w.pt", tmp_path / "legacy.pt"
    torch.save({"w": torch.ones(2)}, path)
    torch.save({"w": torch.ones(2)}, legacy, **FORMATS["legacy"])
    for where in ("cpu", ft.device("cpu"), {"cuda:0": "cpu"}, lambda storage, _: storage):
        assert ft.load(path, map_location=where, mmap=True)["w"].tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="map_location must be a device name"):
        ft.load(path, map_location=5)
    with pytest.raises(RuntimeError, match="map_location 'gpu' names no device"):
        ft.load(path, map_location="gpu")
    for f, error in ((io.BytesIO(path.read_bytes()), ValueError), (legacy, RuntimeError)):
        with pytest.raises(error) as expected:
            torch.load(f, mmap=True)
        if hasattr(f, "seek"):
            f.seek(0)
        with pytest.raises(error) as got:
            ft.load(f, mmap=True)
        assert str(got.value) == str(expected.value)


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
def test_files_that_are_no_checkpoint_are_named_for_what_they_are(torch, tmp_path):
    import gzip

    script = io.BytesIO()
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), script)
    arrays = io.BytesIO()
    np.savez(arrays, w=np.ones(2))
    cases = {
        "script.pt": (script.getvalue(), NotImplementedError, "a TorchScript archive"),
        "arrays.pt": (arrays.getvalue(), ValueError,
                      r"a zip archive but not a torch.save file \(it holds 'w.npy'\): a "
                      r"numpy archive"),
        "packed.pt": (gzip.compress(_saved(torch, {})), ValueError, "it is a gzip file"),
        "pointer.pt": (b"version https://git-lfs.github.com/spec/v1\noid sha256:0\n",
                       ValueError, "a Git LFS pointer, not the file"),
        "page.pt": (b"<html><body>Not Found</body></html>", ValueError, "an HTML page"),
    }
    for name, (content, error, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(Exception):  # noqa: B017 - PyTorch refuses each too
            torch.load(tmp_path / name)
        with pytest.raises(error, match=rf"torch.load: '.*{name}' .*{message}"):
            ft.load(tmp_path / name)


def test_a_pytorch_named_tuple_is_refused_by_name(torch):
    data = _saved(torch, {"top": torch.ones(3).max(0)})
    with pytest.raises(pickle.UnpicklingError) as expected:
        torch.load(io.BytesIO(data))
    with pytest.raises(pickle.UnpicklingError) as refused:
        ft.load(io.BytesIO(data))
    assert str(refused.value) == str(expected.value)
    with pytest.raises(NotImplementedError, match="torch.return_types.max, which fnnet"):
        ft.load(io.BytesIO(data), weights_only=False)


@pytest.mark.parametrize("options", [FORMATS["zip"], FORMATS["legacy"]], ids=["zip", "legacy"])
def test_parameters_and_tensors_requiring_gradients_load_as_saved(torch, options):
    weight = torch.nn.Linear(2, 3).weight
    saved = {"w": weight, "tied": weight, "t": torch.ones(2, requires_grad=True),
             "frozen": torch.nn.Parameter(torch.ones(1), requires_grad=False),
             "state": torch.nn.Linear(2, 3).state_dict()}
    data = _saved(torch, saved, **options)
    expected, got = torch.load(io.BytesIO(data)), ft.load(io.BytesIO(data))

    def flags(loaded, nn):
        return {k: (isinstance(v, nn.Parameter), v.requires_grad) for k, v in
                [*loaded.items(), *loaded["state"].items()] if k != "state"}

    assert flags(got, ft.nn) == flags(expected, torch.nn)
    assert got["w"] is got["tied"]  # one tensor under two names, as in PyTorch
    model = ft.nn.Linear(2, 3)
    model.weight = got["w"]  # a parameter: accepted where a parameter goes
    np.testing.assert_array_equal(model.weight.detach().numpy(), weight.detach().numpy())
    # and fnnet.torch's parameters are saved as parameters
    buffer = io.BytesIO()
    ft.save({"w": model.weight, "t": ft.ones(2, requires_grad=True)}, buffer)
    mine = torch.load(io.BytesIO(buffer.getvalue()))
    assert type(mine["w"]) is torch.nn.Parameter and mine["t"].requires_grad


def test_zip_records_zipfile_refuses_are_damage_even_for_whole_objects(torch):
    data = _saved(torch, {"model": torch.nn.Linear(2, 2)})
    directory = data.index(b"PK\x01\x02")  # the first record's central directory entry
    newer = data[:directory + 6] + b"\xff\x00" + data[directory + 8:]  # needs zip 25.5
    encrypted = data[:directory + 8] + bytes([data[directory + 8] | 1]) + \
        data[directory + 9:]
    for damaged in (newer, encrypted, b"\x50\x4b\x03\x05" + data[4:]):
        for weights_only in (True, False):
            with pytest.raises(ValueError, match=r"torch.load: 'the file' is (a damaged "
                               r"PyTorch checkpoint|not a checkpoint: .*first bytes damaged)"):
                ft.load(io.BytesIO(damaged), weights_only=weights_only)


def test_a_tensor_saved_with_attributes_of_its_own_loads_its_values(torch):
    noted = torch.arange(3.0)
    noted.note = "scaled"  # PyTorch pickles it with _rebuild_from_type_v2, as nn.Buffer
    data = _saved(torch, {"noted": noted, "buffer": torch.nn.Buffer(torch.ones(2))})
    expected = torch.load(io.BytesIO(data))
    for weights_only in (True, False):
        got = ft.load(io.BytesIO(data), weights_only=weights_only)
        for name, value in expected.items():
            np.testing.assert_array_equal(got[name].numpy(), value.numpy(), err_msg=name)


def test_a_multistep_schedule_saved_by_fnnet_torch_resumes_in_pytorch(torch):
    """Its milestones are a Counter, as PyTorch keeps them (a list broke PyTorch's
    get_lr, which looks a step's count up in it); one listed twice decays twice."""
    schedules = {}
    for lib in (ft, torch):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=1.0)
        sched = lib.optim.lr_scheduler.MultiStepLR(opt, milestones=[2, 2, 4], gamma=0.5)
        for _ in range(3):
            opt.step(), sched.step()
        schedules[lib] = opt, sched
    buffer = io.BytesIO()
    ft.save(schedules[ft][1].state_dict(), buffer)
    state = torch.load(io.BytesIO(buffer.getvalue()))
    assert state["milestones"] == collections.Counter({2: 2, 4: 1})
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.25)
    resumed = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[9])
    resumed.load_state_dict(state)
    theirs, their_sched = schedules[torch]
    for _ in range(3):
        opt.step(), resumed.step(), theirs.step(), their_sched.step()
        assert opt.param_groups[0]["lr"] == theirs.param_groups[0]["lr"]


@pytest.mark.parametrize("name, kwargs", [
    ("MultiStepLR", dict(milestones=[2, 4], gamma=0.3)), ("StepLR", dict(step_size=2)),
    ("CosineAnnealingLR", dict(T_max=6)), ("LambdaLR", dict(lr_lambda=lambda e: 0.9 ** e))])
def test_a_scheduler_made_after_the_optimizer_state_is_loaded_resumes_alike(torch, name,
                                                                            kwargs):
    """PyTorch's chainable schedulers start from the loaded rate (the checkpoint's), not
    from the initial one, when made for an optimizer whose state was loaded first."""
    rates = []
    for lib in (torch, ft):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        sched = getattr(lib.optim.lr_scheduler, name)(opt, **kwargs)
        for _ in range(3):
            opt.step(), sched.step()
        resumed = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        resumed.load_state_dict(opt.state_dict())
        resumed_sched = getattr(lib.optim.lr_scheduler, name)(resumed, **kwargs)
        resumed_sched.load_state_dict(sched.state_dict())
        rates.append([resumed.param_groups[0]["lr"]])
        for _ in range(3):
            resumed.step(), resumed_sched.step()
            rates[-1].append(resumed.param_groups[0]["lr"])
    np.testing.assert_allclose(rates[1], rates[0], rtol=1e-12)


def _tied(lib):
    """A language model's embedding and output layer sharing one weight."""
    model = lib.nn.Sequential(lib.nn.Embedding(5, 3), lib.nn.Linear(3, 5))
    model[1].weight = model[0].weight
    return model


@pytest.mark.parametrize("options", list(FORMATS.values())[:2], ids=list(FORMATS)[:2])
def test_tensors_saved_sharing_a_storage_load_sharing_it_as_in_pytorch(torch, options):
    """Two tensors of one storage and layout (a tied weight's two state dict entries, a
    tensor and its detach()) load as two tensors whose values are one, in PyTorch and
    fnnet.torch; the same tensor saved twice loads as one tensor."""
    t = torch.arange(4.0)
    data = _saved(torch, {"model": _tied(torch).state_dict(), "t": t, "again": t,
                          "alias": t.detach(), "copy": t.clone()}, **options)
    for lib in (torch, ft):
        loaded = lib.load(io.BytesIO(data))
        state = loaded["model"]
        assert state["0.weight"] is not state["1.weight"]
        state["0.weight"].mul_(0)
        assert state["1.weight"].abs().sum().item() == 0, lib.__name__
        assert loaded["again"] is loaded["t"] and loaded["alias"] is not loaded["t"]
        loaded["alias"].add_(1)
        assert loaded["t"].tolist() == [1.0, 2.0, 3.0, 4.0], lib.__name__
        assert loaded["copy"].tolist() == [0.0, 1.0, 2.0, 3.0], lib.__name__
        model = _tied(lib)
        model.load_state_dict(state)
        assert model[0].weight is model[1].weight


def test_fnnet_torch_writes_a_tied_weight_once_and_int64_as_int64(torch):
    """What fnnet.torch saves, PyTorch reads with the dtype fnnet.torch showed (int64
    labels and BatchNorm counts, held in 32 bits without jax's x64 mode) and a tied
    weight stored once, its two entries sharing it."""
    model = _tied(ft)
    norm = ft.nn.BatchNorm1d(3)
    norm(ft.randn(4, 3))
    labels = ft.tensor([0, 2, 1])
    buffer = io.BytesIO()
    ft.save({"model": model.state_dict(), "norm": norm.state_dict(), "labels": labels,
             "jax_int32": jnp.arange(2, dtype=jnp.int32)}, buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        assert sum("/data/" in n for n in archive.namelist()) == 9  # 10 tensors, 1 tied
    loaded = torch.load(io.BytesIO(buffer.getvalue()))
    assert labels.dtype == ft.int64 and loaded["labels"].dtype == torch.int64
    assert loaded["norm"]["num_batches_tracked"].dtype == torch.int64
    assert loaded["norm"]["num_batches_tracked"].item() == 1
    assert loaded["jax_int32"].dtype == torch.int32  # a jax array keeps its dtype
    logits = torch.zeros(3, 3)
    assert torch.nn.functional.cross_entropy(logits, loaded["labels"]).item() > 0
    state = loaded["model"]
    assert state["0.weight"].data_ptr() == state["1.weight"].data_ptr()
    mine = ft.load(io.BytesIO(buffer.getvalue()))
    assert mine["labels"].dtype == ft.int64 and mine["labels"].tolist() == [0, 2, 1]


def test_an_int64_beyond_32_bits_is_refused_naming_the_file_and_the_tensor(torch, tmp_path):
    import jax

    if jax.config.jax_enable_x64:
        pytest.skip("x64 mode holds 64-bit integers")
    path = tmp_path / "ids.pt"
    torch.save({"ids": {"big": torch.tensor([1, 2**40])}, "small": torch.tensor([3])}, path)
    assert torch.load(path)["ids"]["big"].tolist() == [1, 2**40]
    with pytest.raises(OverflowError, match=rf"^torch.load: '{path}': the tensor at "
                                            r"'ids.big': the value 1099511627776 does not "
                                            r"fit torch.int64"):
        ft.load(path)


def test_pickle_module_and_the_environment_decide_weights_only_as_in_pytorch(
        torch, tmp_path, monkeypatch):
    """A pickle_module makes a load trust the file unless weights_only=True is given
    (then PyTorch's error); TORCH_FORCE_WEIGHTS_ONLY_LOAD and
    TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD decide as PyTorch's, with its warning and error."""
    import warnings

    path = tmp_path / "whole.pt"
    torch.save(torch.nn.Sequential(torch.nn.Linear(2, 2)), path)

    def outcome(lib, **kwargs):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = type(lib.load(path, **kwargs)).__name__
            except (RuntimeError, pickle.UnpicklingError) as error:
                result = (type(error).__name__, str(error).split(".")[0])
        return result, [str(w.message) for w in caught if w.category is UserWarning]

    cases = [({"pickle_module": pickle}, {}), ({"weights_only": True, "pickle_module": pickle}, {}),
             ({}, {"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"}),
             ({"weights_only": True}, {"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "true"}),
             ({"weights_only": False}, {"TORCH_FORCE_WEIGHTS_ONLY_LOAD": "1"}),
             ({}, {"TORCH_FORCE_WEIGHTS_ONLY_LOAD": "1", "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"})]
    for kwargs, environment in cases:
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        expected = outcome(torch, **kwargs)
        assert outcome(ft, **kwargs) == expected, (kwargs, environment)
        for name in environment:
            monkeypatch.delenv(name)


@pytest.mark.parametrize("obj", [{"w": 1.0}, "module"])
def test_two_archives_in_one_file_are_refused_never_read_as_the_last(torch, obj):
    """torch.save twice into one file: PyTorch's load reads the first object, zipfile
    would read the last archive; fnnet.torch names the file as not one archive."""
    buffer = io.BytesIO()
    for value in (1.0, 0.0):
        torch.save(torch.nn.Linear(1, 1) if obj == "module" else {"w": torch.tensor(value)},
                   buffer)
    if obj != "module":
        buffer.seek(0)
        assert torch.load(buffer)["w"].item() == 1.0
    buffer.seek(0)
    with pytest.raises(ValueError, match=r"is a damaged PyTorch checkpoint: \d+ bytes precede "
                                         r"the zip archive whose directory ends the file"):
        ft.load(buffer, weights_only=False)


_Pair = collections.namedtuple("_Pair", "a b")


def test_get_unsafe_globals_in_checkpoint_names_what_pytorch_names(torch, tmp_path):
    """The globals a weights-only load refuses, read without unpickling: none in state
    dicts, a whole model's classes, numpy's and a namedtuple's, less those listed by
    safe_globals (a tuple of them, as PyTorch takes); a file of PyTorch's format before
    1.6 and a TorchScript archive are refused with PyTorch's words."""
    model = torch.nn.Sequential(torch.nn.Linear(2, 2))
    saved = {"state": (model.state_dict(), torch.optim.SGD(model.parameters()).state_dict()),
             "whole": model, "other": {"a": np.arange(2), "pair": _Pair(1, 2)}}
    for key, obj in saved.items():
        torch.save(obj, tmp_path / f"{key}.pt")
        expected = sorted(torch.serialization.get_unsafe_globals_in_checkpoint(
            tmp_path / f"{key}.pt"))
        with open(tmp_path / f"{key}.pt", "rb") as handle:
            assert sorted(ft.serialization.get_unsafe_globals_in_checkpoint(handle)) == \
                expected, key
        assert (expected == []) == (key == "state")
        with torch.serialization.safe_globals((_Pair, torch.nn.Sequential)), \
                ft.serialization.safe_globals((_Pair, ft.nn.Sequential)):
            assert sorted(ft.serialization.get_unsafe_globals_in_checkpoint(
                tmp_path / f"{key}.pt")) == sorted(
                torch.serialization.get_unsafe_globals_in_checkpoint(tmp_path / f"{key}.pt"))
    torch.save({"a": 1}, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    torch.jit.save(torch.jit.script(torch.nn.Linear(1, 1)), tmp_path / "script.pt")
    for key in ("legacy", "script"):
        with pytest.raises(ValueError) as expected:
            torch.serialization.get_unsafe_globals_in_checkpoint(tmp_path / f"{key}.pt")
        with pytest.raises(ValueError) as refused:
            ft.serialization.get_unsafe_globals_in_checkpoint(tmp_path / f"{key}.pt")
        assert str(refused.value) == str(expected.value)
    with pytest.raises(TypeError, match="safe_globals must be a list .* got str"):
        ft.serialization.add_safe_globals("_Pair")


def test_a_map_location_naming_a_missing_gpu_is_refused_as_pytorch_refuses_it(
        torch, monkeypatch):
    # a dict maps only the storages saved from its keys: PyTorch's DDP tutorial loads
    # with {"cuda:0": f"cuda:{rank}"}, which fnnet.torch refused on a machine without
    # GPUs for a checkpoint saved from the CPU
    if ft.cuda.is_available() or torch.cuda.is_available():
        pytest.skip("a GPU is there to map to")
    files = {"cpu": _saved(torch, {"w": torch.ones(2)}),
             "cpu, legacy": _saved(torch, {"w": torch.ones(2)}, **FORMATS["legacy"])}
    with monkeypatch.context() as patch:  # as a GPU run saves: storages of cuda:0
        patch.setattr(torch.serialization, "location_tag", lambda storage: "cuda:0")
        files["cuda:0"] = _saved(torch, {"w": torch.ones(2)})
        files["cuda:0, legacy"] = _saved(torch, {"w": torch.ones(2)}, **FORMATS["legacy"])
    for saved, data in files.items():
        for map_location, refused in (
                ("cuda", True), ("cuda:0", True), ({"cpu": "cuda:1"}, "cpu" in saved),
                ("cpu", False), ({"cuda:0": "cpu"}, False),
                ({"cuda:0": "cuda:1"}, "cuda" in saved)):
            outcomes = []
            for lib in (torch, ft):
                try:
                    outcomes.append(lib.load(io.BytesIO(data), map_location=map_location)
                                    ["w"].tolist())
                except RuntimeError as error:
                    outcomes.append(str(error))
            assert isinstance(outcomes[1], str) == refused, (saved, map_location)
            if "cuda" in saved and map_location == {"cpu": "cuda:1"}:
                continue  # storages left on cuda:0: fnnet.torch loads them, as without
                # map_location, where PyTorch refuses
            assert outcomes[0] == outcomes[1], (saved, map_location)
    with pytest.raises(RuntimeError, match="on a CUDA device but torch.cuda.is_available"):
        ft.load(io.BytesIO(data), map_location=ft.device("cuda"))


def test_a_frozenset_or_range_is_refused_weights_only_as_pytorch_refuses_it(torch):
    """PyTorch's weights-only list has set but not frozenset or range: both are refused
    with PyTorch's words (their Python 2 names in the pickle shown as PyTorch shows
    them), named by get_unsafe_globals_in_checkpoint, and load once listed as safe;
    fnnet.torch writes a frozenset as PyTorch does, for a trusting load."""
    buffers = {}
    for lib in (torch, ft):
        buffers[lib] = io.BytesIO()
        lib.save({"frozen": frozenset({1, 2}), "span": range(3), "set": {4}}, buffers[lib])
    for buffer in buffers.values():
        refusals, names = [], []
        for lib in (torch, ft):
            buffer.seek(0)
            with pytest.raises(pickle.UnpicklingError) as refused:
                lib.load(buffer)
            refusals.append(str(refused.value))
            buffer.seek(0)
            names.append(sorted(lib.serialization.get_unsafe_globals_in_checkpoint(buffer)))
            buffer.seek(0)
            with lib.serialization.safe_globals([frozenset, range]):
                assert lib.load(buffer) == {"frozen": frozenset({1, 2}), "span": range(3),
                                            "set": {4}}
        assert refusals[0] == refusals[1]
        assert "GLOBAL frozenset was not an allowed global" in refusals[0]
        assert names[0] == names[1] == ["builtins.frozenset", "builtins.range"]


@pytest.mark.parametrize("options", list(FORMATS.values())[:2], ids=list(FORMATS)[:2])
def test_overlapping_views_are_made_whole_within_a_limit_for_the_file(
        torch, monkeypatch, options):
    """PyTorch loads views of one storage as views; fnnet.torch copies each, so many
    overlapping slices of a small file could take any memory: what they take together
    is held to the file's size and EXPANDED_LIMIT more, and refused before it is taken."""
    import fnnet.interop.torch_file as torch_file

    base = torch.arange(1000.0)
    few = _saved(torch, [base, base[1:], base[::2]], **options)
    assert [t.tolist() for t in ft.load(io.BytesIO(few))] == \
        [t.tolist() for t in torch.load(io.BytesIO(few))]
    many = _saved(torch, [base[i:] for i in range(300)], **options)
    assert len(torch.load(io.BytesIO(many))) == 300
    monkeypatch.setattr(torch_file, "EXPANDED_LIMIT", 10_000)
    with pytest.raises(ValueError, match=r"a tensor of size \(\d+,\) takes \d+ bytes, more "
                                         r"than the \d+ left of the \d+ that the file's "
                                         r"tensors may take \(its size and 10000 more\)"):
        ft.load(io.BytesIO(many))
    assert len(ft.load(io.BytesIO(few))) == 3


class _Rebuilt:
    """An object pickled as the call of one of PyTorch's tensor rebuilders, as PyTorch
    pickles tensors it saves that way (a device tensor, PyTorch's oldest rebuilder)."""

    def __init__(self, rebuild, *args):
        self.rebuild, self.args = rebuild, args

    def __reduce__(self):
        return self.rebuild, self.args


@pytest.mark.parametrize("options", list(FORMATS.values())[:2], ids=list(FORMATS)[:2])
def test_every_tensor_kind_of_pytorchs_weights_only_list_loads_or_is_named(torch, options):
    """What PyTorch's weights-only load rebuilds, fnnet.torch rebuilds (a layout saved
    as a value, a device tensor saved as its CPU values, PyTorch's oldest rebuilder) or
    refuses by its kind (sparse, meta, nested) with what to do; never as damage or as
    code."""
    from fnnet.torch.serialization import UnsupportedDtype

    values = torch.arange(6.0)
    loadable = {
        "layout": torch.strided,
        "coo": torch.sparse_coo,
        "device": _Rebuilt(torch._utils._rebuild_device_tensor_from_cpu_tensor, values,
                           torch.float16, "cpu", False),
        "oldest": _Rebuilt(torch._utils._rebuild_tensor, torch.arange(6.0).storage(), 2,
                           (2, 2), (1, 2)),
    }
    data = _saved(torch, loadable, **options)
    expected, loaded = torch.load(io.BytesIO(data)), ft.load(io.BytesIO(data))
    assert loaded["layout"] is ft.strided and expected["layout"] is torch.strided
    assert loaded["coo"] is ft.sparse_coo and expected["coo"] is torch.sparse_coo
    for key in ("device", "oldest"):
        assert str(loaded[key].dtype) == str(expected[key].dtype), key
        if key == "oldest" or not options:  # PyTorch's older format casts the CPU
            # values before it reads them: zeros
            assert loaded[key].tolist() == expected[key].tolist(), key
    assert loaded["device"].tolist() == values.tolist()
    refused = {"sparse": (torch.eye(2).to_sparse(), r"a sparse tensor, .* \.to_dense\(\)"),
               "meta": (torch.empty(2, device="meta"), r"a meta-device \(values-less\) tensor"),
               "nested": (torch.nested.nested_tensor([torch.ones(1), torch.ones(2)]),
                          r"a nested tensor, .* \.to_padded_tensor\(0\.0\)"),
               "csr": (torch.sparse_csr, r"the layout torch\.sparse_csr at 'csr'; fnnet"),
               "storage": (torch.ones(2).storage(), r"a storage saved as a value \(tensor")}
    for key, (value, message) in refused.items():
        data = _saved(torch, {key: value}, **options)
        if key != "nested" or not options:  # PyTorch's own older format fails it
            assert type(torch.load(io.BytesIO(data))[key]) is type(value)
        with pytest.raises(UnsupportedDtype, match=rf"^torch.load: 'the file' holds "
                                                   rf"{message}"):
            ft.load(io.BytesIO(data))


def test_a_torch_size_saved_as_a_value_loads_as_a_size_both_ways(torch):
    for saver, loader in ((torch, ft), (ft, torch), (ft, ft)):
        buffer = io.BytesIO()
        saver.save({"shape": saver.ones(2, 3).shape, "empty": saver.Size([]), "pair": (2, 3)},
                   buffer)
        buffer.seek(0)
        loaded = loader.load(buffer)
        assert isinstance(loaded["shape"], loader.Size) and loaded["shape"] == (2, 3)
        assert isinstance(loaded["empty"], loader.Size) and loaded["empty"] == ()
        assert type(loaded["pair"]) is tuple


def test_a_file_pytorch_wrote_without_checksums_loads_and_one_zeroed_checksum_is_damage(
        torch):
    """torch.serialization.set_crc32_options(False) makes PyTorch write every CRC-32 as
    0, and read such files: fnnet.torch reads them too (it refused them as damaged);
    in a file with checksums, a record whose checksum alone was zeroed is still damage."""
    torch.serialization.set_crc32_options(False)
    try:
        unchecked = _saved(torch, {"w": torch.arange(3.0)})
    finally:
        torch.serialization.set_crc32_options(True)
    assert all(r.CRC == 0 for r in zipfile.ZipFile(io.BytesIO(unchecked)).infolist())
    for load in (torch.load, ft.load):
        assert load(io.BytesIO(unchecked))["w"].tolist() == [0.0, 1.0, 2.0]
    assert ft.serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(unchecked)) == []
    checked = bytearray(_saved(torch, {"w": torch.arange(3.0)}))
    record = zipfile.ZipFile(io.BytesIO(bytes(checked))).getinfo("archive/data/0")
    crc = record.CRC.to_bytes(4, "little")
    checked[record.header_offset + 14:record.header_offset + 18] = bytes(4)  # local
    central = bytes(checked).rfind(crc)
    checked[central:central + 4] = bytes(4)  # and the central directory's copy
    with pytest.raises(ValueError, match="Bad CRC-32 for file 'archive/data/0'"):
        ft.load(io.BytesIO(bytes(checked)))


def test_a_state_dicts_module_versions_travel_with_it_as_pytorchs(torch):
    # state_dict() attaches each module's _version (BatchNorm's 2), which a save keeps
    # and a load (in either library) reads back
    seen = []
    for T in (torch, ft):
        model = T.nn.Sequential(T.nn.Linear(2, 2), T.nn.BatchNorm1d(2))
        buffer = io.BytesIO()
        T.save({"model": model.state_dict()}, buffer)
        for load in (torch.load, ft.load):
            buffer.seek(0)
            seen.append(dict(load(buffer)["model"]._metadata))
    assert seen == [{"": {"version": 1}, "0": {"version": 1}, "1": {"version": 2}}] * 4


def test_a_file_that_is_no_checkpoint_raises_what_pytorch_raises(torch, tmp_path):
    """An .npy file, a JSON file or a bare pickle given to torch.load: fnnet.torch's
    error names the file and is of the type PyTorch raises (pickle.UnpicklingError
    loading weights only, RuntimeError otherwise), so a resume that catches PyTorch's
    error catches it."""
    np.save(tmp_path / "arrays.npy", np.ones(2))
    (tmp_path / "config.json").write_text('{"lr": 0.1}')
    (tmp_path / "bare.pkl").write_bytes(pickle.dumps({"a": 1}, protocol=2))
    for name in ("arrays.npy", "config.json", "bare.pkl"):
        for weights_only in (True, False):
            with pytest.raises(Exception) as expected:  # noqa: B017 - its type is compared
                torch.load(tmp_path / name, weights_only=weights_only)
            with pytest.raises(type(expected.value), match=f"torch.load: '.*{name}'"):
                ft.load(tmp_path / name, weights_only=weights_only)


def _views_of_one_storage(lib):
    base = lib.arange(12.0)
    grid = base.view(3, 4)
    return {"base": base, "piece": base[2:8], "grid": grid, "t": grid.t(),
            "columns": grid[:, 1:3], "every_third": base[::3], "again": base[2:8],
            "one": base[5], "windows": base.unfold(0, 4, 2)}


def _seen_after_writes(loaded):
    """What each loaded tensor holds after writes through three of them, with its
    strides, storage offset and contiguity."""
    loaded["base"][3] = 100.0
    loaded["columns"][0, 0] = -7.0
    loaded["windows"][4, 3] = 55.0
    return {k: (v.tolist(), v.stride(), v.storage_offset(), v.is_contiguous())
            for k, v in loaded.items()}


def test_views_saved_together_load_as_views_of_one_storage_both_ways(torch):
    """A tensor saved with its views (a slice, a reshape, a transpose, columns, a step,
    a window, an element) is one storage in the file, and loads as views of it: a
    write through one is seen in all, with PyTorch's strides and offsets, whichever
    library wrote the file and whichever reads it; a view saved alone writes its root's
    storage whole, as PyTorch's does."""
    files = {}
    for name, lib in (("torch", torch), ("fnnet", ft)):
        buffer = io.BytesIO()
        lib.save(_views_of_one_storage(lib), buffer)
        files[name] = buffer.getvalue()
        with zipfile.ZipFile(buffer) as archive:
            assert sum("/data/" in n for n in archive.namelist()) == 1, name
    expected = _seen_after_writes(torch.load(io.BytesIO(files["torch"])))
    for saver in files:
        for lib in (torch, ft):
            got = _seen_after_writes(lib.load(io.BytesIO(files[saver])))
            assert got == expected, (saver, lib.__name__)
    root = ft.arange(100.0)
    buffer = io.BytesIO()
    ft.save(root[:2], buffer)
    loaded = torch.load(io.BytesIO(buffer.getvalue()))
    assert loaded.tolist() == [0.0, 1.0] and loaded.untyped_storage().size() == 400
