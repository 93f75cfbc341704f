"""Damaged and hostile files given to every file reader: each ends in its documented
exception naming the file, and none allocates more than the file justifies.

Each reader starts from a valid file it wrote (or one in the official layout) and
hypothesis mutates it: truncations, bit flips, overwritten header bytes, oversized
declared sizes and payloads longer than declared. A mutation may leave the file
readable (a flipped pixel is still a pixel); what must never happen is another
exception type, a message that does not name the file, or a peak of Python-tracked
memory (numpy's arrays and zlib's output included) more than 64 MB above the
baseline, measured with ``tracemalloc`` around each read.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import pathlib
import pickle
import subprocess
import sys
import tempfile
import textwrap
import tracemalloc
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fnnet.checkpoint import load_safetensors, save_safetensors
from fnnet.data import cifar, idx

LIMIT = 64 << 20  # bytes of peak memory above the baseline a read may take
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _idx_bytes(magic, dims, payload):
    return magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims) + payload


@pytest.fixture(scope="module")
def folder():
    with tempfile.TemporaryDirectory() as name:
        yield pathlib.Path(name)


_COUNTER = iter(range(10 ** 9))


def _write(folder, name, content):
    """A fresh file per example: the message must name this very path."""
    path = folder / f"{next(_COUNTER)}-{name}"
    path.write_bytes(content)
    return path


def _read_bounded(read, path, errors=(ValueError,)):
    """Runs ``read(path)``; returns the exception (or None) and checks the peak memory
    and that an exception is of a documented type naming the file."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        try:
            read(path)
            error = None
        except errors as err:
            error = err
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert peak < LIMIT, f"{path.name}: peak {peak / 2 ** 20:.1f} MB above the baseline"
    if error is not None:
        assert str(path) in str(error), f"the message does not name the file: {error}"
    return error


@st.composite
def mutations(draw, original: bytes, header: int):
    """``original`` truncated, bit-flipped, with header bytes overwritten, or extended."""
    kind = draw(st.sampled_from(["truncate", "flip", "header", "append", "flips"]))
    data = bytearray(original)
    if kind == "truncate":
        return bytes(data[:draw(st.integers(0, len(data) - 1))])
    if kind == "flip":
        at = draw(st.integers(0, len(data) - 1))
        data[at] ^= 1 << draw(st.integers(0, 7))
    elif kind == "flips":  # 16 bytes flipped at once anywhere
        for at in draw(st.lists(st.integers(0, len(data) - 1), min_size=16, max_size=16)):
            data[at] ^= 0xFF
    elif kind == "header":
        at = draw(st.integers(0, min(header, len(data)) - 1))
        new = draw(st.binary(min_size=1, max_size=8))
        data[at:at + len(new)] = new
    else:
        data += draw(st.binary(min_size=1, max_size=64))
    return bytes(data)


# ------------------------------------------------------------------------------ IDX


RNG = np.random.default_rng(0)
IMAGES = RNG.integers(0, 256, (20, 28, 28), dtype=np.uint8)
IDX_IMAGES = _idx_bytes(idx.IMAGE_MAGIC, (20, 28, 28), IMAGES.tobytes())
GZ_IMAGES = gzip.compress(IDX_IMAGES)


def _read_images(path):
    return idx.read_idx(path, magic=idx.IMAGE_MAGIC, what="image")


@SETTINGS
@given(content=mutations(IDX_IMAGES, 16))
def test_idx_plain_fuzz(folder, content):
    error = _read_bounded(_read_images, _write(folder, "images-idx3-ubyte", content))
    if error is None:  # readable only when the length and header still agree
        assert len(content) == len(IDX_IMAGES)


@SETTINGS
@given(content=mutations(GZ_IMAGES, 32))
def test_idx_gzip_fuzz(folder, content):
    _read_bounded(_read_images, _write(folder, "images-idx3-ubyte.gz", content))


@SETTINGS
@given(dims=st.tuples(*[st.integers(0, 2 ** 32 - 1)] * 3), gz=st.booleans())
def test_idx_oversized_declared_dims(folder, dims, gz):
    content = _idx_bytes(idx.IMAGE_MAGIC, dims, IMAGES.tobytes())
    if gz:
        content = gzip.compress(content)
    path = _write(folder, "images-idx3-ubyte" + (".gz" if gz else ""), content)
    error = _read_bounded(_read_images, path)
    assert (error is None) == (dims[0] * dims[1] * dims[2] == IMAGES.size)


def _gzip_stream(header: bytes, zeros: int) -> bytes:
    """A gzip file of ``header`` and then ``zeros`` zero bytes, compressed piecewise."""
    pack = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [pack.compress(header)]
    chunk = bytes(1 << 20)
    for _ in range(zeros >> 20):
        parts.append(pack.compress(chunk))
    parts.append(pack.compress(bytes(zeros & ((1 << 20) - 1))))
    return b"".join(parts) + pack.flush()


@SETTINGS
@given(declared=st.integers(0, 5000), extra=st.integers(1, 3 << 20))
def test_idx_gzip_payload_longer_than_declared(folder, declared, extra):
    content = _gzip_stream(_idx_bytes(idx.LABEL_MAGIC, (declared,), b""), declared + extra)
    path = _write(folder, "labels-idx1-ubyte.gz", content)
    error = _read_bounded(lambda p: idx.read_idx(p, magic=idx.LABEL_MAGIC, what="label"),
                          path)
    assert "too long" in str(error)


@pytest.fixture(scope="module")
def bomb(folder):
    """A 0.4 MB gzip IDX file whose valid header declares 10,000 labels and whose
    payload inflates to 400 MB."""
    # 401 gzip members (a valid gzip file), each of the last 400 inflating to 1 MB.
    content = gzip.compress(_idx_bytes(idx.LABEL_MAGIC, (10_000,), b"")) \
        + gzip.compress(bytes(1 << 20), 9) * 400
    assert len(content) < 500_000
    return _write(folder, "labels-idx1-ubyte.gz", content)


def test_idx_gzip_bomb_400_mb(bomb):
    """The bomb is refused with the peak of tracked memory far below 64 MB."""
    path = bomb
    error = _read_bounded(lambda p: idx.read_idx(p, magic=idx.LABEL_MAGIC, what="label"),
                          path)
    assert "too long: the header declares 10000 = 10000 bytes of label data, the file " \
        "holds more than" in str(error)


@pytest.mark.slow  # a fresh process imports fnnet (and jax): 6-40 s
def test_idx_gzip_bomb_resident_memory(bomb):
    """The bomb in a fresh process: its peak resident memory (which counts what
    tracemalloc cannot see) grows by less than 64 MB while the file is refused."""
    path = bomb
    # Linux: the peak (VmHWM) is reset to the resident memory now through clear_refs,
    # so that what the imports allocated and freed does not count; elsewhere the peak
    # so far is the baseline.
    script = textwrap.dedent(f"""
        import resource
        from fnnet.data import idx

        def status(field):
            with open("/proc/self/status") as lines:
                return next(int(line.split()[1]) for line in lines
                            if line.startswith(field + ":"))

        try:
            with open("/proc/self/clear_refs", "w") as refs:
                refs.write("5")
            before, peak = status("VmRSS"), lambda: status("VmHWM")
        except OSError:
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            idx.read_idx({str(path)!r}, magic=idx.LABEL_MAGIC, what="label")
        except ValueError as error:
            assert "too long" in str(error)
        else:
            raise SystemExit("accepted")
        print(peak() - before)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=120)
    grown_kb = int(out.stdout.split()[-1])
    assert grown_kb < LIMIT // 1024, f"peak resident memory grew by {grown_kb} KB"


def test_idx_plain_huge_dims_name_the_file(folder):
    path = _write(folder, "images-idx3-ubyte",
                  _idx_bytes(idx.IMAGE_MAGIC, (2 ** 32 - 1,) * 3, b""))
    error = _read_bounded(_read_images, path)
    assert "truncated: the header declares 4294967295 x 4294967295 x 4294967295" in str(error)


# ---------------------------------------------------------------------------- CIFAR


def _cifar_batch(n: int = 4) -> bytes:
    images = np.random.default_rng(1).integers(0, 256, (n, 3072), dtype=np.uint8)
    return pickle.dumps({b"data": images, b"labels": list(range(n))}, protocol=2)


CIFAR_BATCH = _cifar_batch()


@SETTINGS
@given(content=mutations(CIFAR_BATCH, 200))
def test_cifar_batch_fuzz(folder, content):
    _read_bounded(cifar.read_batch, _write(folder, "data_batch_1", content))


@SETTINGS
@given(rows=st.integers(0, 2 ** 40), columns=st.sampled_from([3072, 2 ** 30]))
def test_cifar_batch_oversized_declared_shape(folder, rows, columns):
    """An array whose pickled shape the bytes do not fill is refused, not allocated."""
    array = np.zeros((2, 3072), np.uint8)
    reduced = list(array.__reduce__())
    state = list(reduced[2])
    state[1] = (rows, columns)
    reduced[2] = tuple(state)

    class Liar:
        def __reduce__(self):
            return tuple(reduced)

    content = pickle.dumps({b"data": Liar(), b"labels": [0, 1]}, protocol=2)
    error = _read_bounded(cifar.read_batch, _write(folder, "data_batch_1", content))
    assert (error is None) == ((rows, columns) == (2, 3072))


def test_cifar_batch_deeply_nested(folder):
    """Lists nested 100,000 deep (each appended to the one below it)."""
    content = b"\x80\x02" + b"]" * 100_000 + b"a" * 99_999 + b"."
    error = _read_bounded(cifar.read_batch, _write(folder, "data_batch_1", content))
    assert "expected a dict with b'data' and b'labels', got list" in str(error)


# ---------------------------------------------------------------------- safetensors


def _safetensors(obj) -> bytes:
    buffer = io.BytesIO()
    save_safetensors(obj, buffer)
    return buffer.getvalue()


SAFETENSORS = _safetensors({"model": {"fc.weight": np.ones((4, 3), np.float32),
                                      "fc.bias": np.zeros(4, np.float32)},
                            "epoch": 3, "history": [0.5, (1, "a")]})
ST_HEADER = 8 + int.from_bytes(SAFETENSORS[:8], "little")


@SETTINGS
@given(content=mutations(SAFETENSORS, ST_HEADER))
def test_safetensors_fuzz(folder, content):
    _read_bounded(load_safetensors, _write(folder, "state.safetensors", content))


def _with_header(header: dict, body: bytes = b"") -> bytes:
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + body


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.sampled_from(["__tensor__", "__tuple__", "__dict__",
                                                       "x"]), inner, max_size=2),
                    max_leaves=12)


@SETTINGS
@given(layout=JSON)
def test_safetensors_crafted_layout(folder, layout):
    """Any JSON in ``fnnet.layout`` loads or raises a ValueError naming the file; never
    a KeyError, TypeError or RecursionError."""
    content = _with_header({"__metadata__": {"fnnet.layout": json.dumps(layout)},
                            "t": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}},
                           bytes(4))
    _read_bounded(load_safetensors, _write(folder, "crafted.safetensors", content))


@pytest.mark.parametrize("layout", [
    '{"__tensor__": "missing"}',
    '{"__dict__": [["k"]]}',
    '{"__dict__": 5}',
    '{"__tuple__": {"a": 1}}',
    '{"__other__": 1}',
    '[' * 5000 + ']' * 5000,
    '{"__tuple__": ' * 500 + '[]' + '}' * 500,
    'not json',
])
def test_safetensors_crafted_layout_examples(folder, layout):
    content = _with_header({"__metadata__": {"fnnet.layout": layout}})
    path = _write(folder, "crafted.safetensors", content)
    error = _read_bounded(load_safetensors, path)
    assert isinstance(error, ValueError) and "fnnet.layout" in str(error)


@SETTINGS
@given(shape=st.lists(st.integers(0, 2 ** 62), min_size=1, max_size=4),
       end=st.integers(0, 2 ** 62))
def test_safetensors_oversized_shapes_and_offsets(folder, shape, end):
    content = _with_header({"t": {"dtype": "F32", "shape": shape, "data_offsets": [0, end]}},
                           bytes(16))
    error = _read_bounded(load_safetensors, _write(folder, "big.safetensors", content))
    # the tensor must fill the 16 bytes of data exactly, as the format requires
    assert (error is None) == (end == 16 == 4 * int(np.prod(shape, dtype=object)))


def test_safetensors_header_length_beyond_the_file(folder):
    path = _write(folder, "big.safetensors", (2 ** 63).to_bytes(8, "little") + b"{}")
    error = _read_bounded(load_safetensors, path)
    assert "header length 9223372036854775808 exceeds the file (10 bytes)" in str(error)


# --------------------------------------------------------- fnnet.torch.load, interop


@pytest.fixture(scope="module")
def shim_file() -> bytes:
    from fnnet import torch as ftorch

    buffer = io.BytesIO()
    ftorch.save({"state": {"w": ftorch.ones(3, 2)}, "epoch": 1}, buffer)
    return buffer.getvalue()


@SETTINGS
@given(data=st.data())
def test_shim_torch_load_fuzz(folder, shim_file, data):
    from fnnet import torch as ftorch

    content = data.draw(mutations(shim_file, 8 + int.from_bytes(shim_file[:8], "little")))
    _read_bounded(ftorch.load, _write(folder, "state.pt", content))


@pytest.fixture(scope="module")
def pth_file(torch, folder) -> bytes:
    path = folder / "original.pth"
    torch.save({"fc.weight": torch.ones(4, 3), "fc.bias": torch.zeros(4)}, path)
    return path.read_bytes()


@settings(SETTINGS, max_examples=20)
@given(data=st.data())
def test_interop_pth_fuzz(folder, pth_file, data):
    from fnnet import interop

    content = data.draw(mutations(pth_file, 64))
    _read_bounded(interop.read_state_dict, _write(folder, "state.pth", content))


def test_interop_pth_record_larger_than_the_file(folder, pth_file):
    """A zip record claiming more bytes than the file holds is refused before PyTorch
    reads it."""
    from fnnet import interop

    content = bytearray(pth_file)
    central = content.rfind(b"PK\x01\x02")  # the last record's central directory entry
    content[central + 24:central + 28] = (2 ** 31).to_bytes(4, "little")  # its size
    path = _write(folder, "state.pth", bytes(content))
    error = _read_bounded(interop.read_state_dict, path)
    assert "declares 2147483648 bytes" in str(error)


@SETTINGS
@given(content=mutations(SAFETENSORS, ST_HEADER))
def test_interop_safetensors_fuzz(folder, content):
    from fnnet import interop

    _read_bounded(interop.read_state_dict, _write(folder, "state.safetensors", content))


def test_readers_name_a_missing_file(folder):
    from fnnet import interop

    missing = folder / "absent.safetensors"
    for read in (load_safetensors, interop.read_state_dict):
        with pytest.raises(FileNotFoundError, match=os.path.basename(missing)):
            read(missing)


@pytest.mark.parametrize("dtype", [np.uint16, np.uint32, np.uint64])
def test_shim_torch_load_names_dtypes_it_lacks(folder, dtype):
    from fnnet import torch as ftorch

    path = _write(folder, "state.pt", _safetensors({"w": np.ones(3, dtype)}))
    error = _read_bounded(ftorch.load, path)
    assert "holds a tensor fnnet.torch cannot represent" in str(error)


@settings(SETTINGS, max_examples=60)
@given(data=st.data())
def test_torch_file_reader_fuzz(folder, pth_file, data):
    """fnnet's own reader of PyTorch's files, directly and through fnnet.torch.load."""
    from fnnet import torch as ftorch
    from fnnet.interop.torch_file import load_torch_file

    content = data.draw(mutations(pth_file, 64))
    _read_bounded(load_torch_file, _write(folder, "state.pth", content))
    _read_bounded(ftorch.load, _write(folder, "state.pt", content))
