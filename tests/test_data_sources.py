"""Data sources: IDX (MNIST), CIFAR-10 python batches, scikit-learn digits, TFDS, load()."""

from __future__ import annotations

import gzip
import pickle
import re

import numpy as np
import pytest

from fnnet import data
from fnnet.data import cifar

ENV_VARS = ("FNNET_DATA_DIR", "FNNET_MNIST_DIR", "FNNET_FASHION_MNIST_DIR", "FNNET_CIFAR10_DIR")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """No test sees the user's data folders."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


# --------------------------------------------------------------------------- IDX (MNIST)


def write_idx(path, magic, dims, payload, *, gz=None):
    """Writes an IDX file: big-endian magic, one uint32 per dim, then ``payload`` bytes."""
    raw = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims) + payload
    gz = path.name.endswith(".gz") if gz is None else gz
    if gz:
        with gzip.open(path, "wb") as f:
            f.write(raw)
    else:
        path.write_bytes(raw)
    return path


def write_mnist(folder, split="test", n=5, *, gz=True, seed=0):
    """Writes a valid ``n``-example IDX pair; returns the images and labels written."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    prefix = "t10k" if split == "test" else "train"
    write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", 2051, (n, 28, 28),
              images.tobytes())
    write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", 2049, (n,), labels.tobytes())
    return images, labels


def test_real_mnist_test_set(mnist_dir):
    images, labels = data.load_mnist_idx(mnist_dir, split="test")
    assert images.shape == (10000, 1, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.int32
    hist = np.bincount(labels, minlength=10)
    assert hist.sum() == 10000 and len(hist) == 10 and hist.min() > 800
    assert labels[0] == 7
    assert images.max() == 255 and images.min() == 0


def test_real_mnist_float32(mnist_dir):
    images, _ = data.load_mnist_idx(mnist_dir, split="test", dtype=np.float32)
    raw, _ = data.load_mnist_idx(mnist_dir, split="test")
    assert images.dtype == np.float32 and images.shape == (10000, 1, 28, 28)
    np.testing.assert_array_equal(images, raw.astype(np.float32) / 255.0)


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("split", ["train", "test"])
def test_idx_round_trip(tmp_path, gz, split):
    images, labels = write_mnist(tmp_path, split, n=7, gz=gz)
    x, y = data.load_mnist_idx(tmp_path, split=split)
    np.testing.assert_array_equal(x, images[:, None])
    np.testing.assert_array_equal(y, labels.astype(np.int32))


def test_idx_layouts_and_environment(tmp_path, monkeypatch):
    images, _ = write_mnist(tmp_path / "tv" / "FashionMNIST" / "raw", n=3)
    x, _ = data.load_mnist_idx(tmp_path / "tv", kind="fashion_mnist")  # torchvision layout
    np.testing.assert_array_equal(x[:, 0], images)

    images, _ = write_mnist(tmp_path / "base" / "mnist", n=4, seed=1)
    monkeypatch.setenv("FNNET_DATA_DIR", str(tmp_path / "base"))
    np.testing.assert_array_equal(data.load_mnist_idx()[0][:, 0], images)

    images, _ = write_mnist(tmp_path / "own", n=2, seed=2)
    monkeypatch.setenv("FNNET_MNIST_DIR", str(tmp_path / "own"))  # wins over FNNET_DATA_DIR
    np.testing.assert_array_equal(data.load_mnist_idx()[0][:, 0], images)


def test_idx_bad_magic(tmp_path):
    write_mnist(tmp_path)
    path = write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", 2049, (5, 28, 28), bytes(3920))
    with pytest.raises(ValueError, match=re.escape(
            f"{path}: not an IDX image file: magic number 2049, expected 2051")):
        data.load_mnist_idx(tmp_path)


def test_idx_truncated_data(tmp_path):
    write_mnist(tmp_path)
    path = write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", 2051, (5, 28, 28), bytes(1000))
    with pytest.raises(ValueError, match=re.escape(
            f"{path}: truncated: the header declares 5 x 28 x 28 = 3920 bytes of image data, "
            "the file holds 1000")):
        data.load_mnist_idx(tmp_path)


def test_idx_too_long(tmp_path):
    write_mnist(tmp_path)
    path = write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", 2049, (5,), bytes(6))
    with pytest.raises(ValueError, match=re.escape(
            f"{path}: too long: the header declares 5 = 5 bytes of label data, "
            "the file holds 6")):
        data.load_mnist_idx(tmp_path)


def test_idx_truncated_header(tmp_path):
    write_mnist(tmp_path)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    with gzip.open(path, "wb") as f:
        f.write((2051).to_bytes(4, "big") + (5).to_bytes(4, "big"))
    with pytest.raises(ValueError, match=re.escape(
            f"{path}: truncated: 8 bytes, the header alone needs 16")):
        data.load_mnist_idx(tmp_path)


def test_idx_corrupt_gzip(tmp_path):
    write_mnist(tmp_path)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:100])  # a download cut short
    with pytest.raises(ValueError, match=re.escape(f"{path}: corrupt or truncated gzip file")):
        data.load_mnist_idx(tmp_path)


def test_idx_count_mismatch_and_bad_values(tmp_path):
    write_mnist(tmp_path, n=5)
    labels = write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", 2049, (4,), bytes(4))
    images = tmp_path / "t10k-images-idx3-ubyte.gz"
    with pytest.raises(ValueError, match=re.escape(
            f"{labels}: 4 labels, but {images} holds 5 images")):
        data.load_mnist_idx(tmp_path)
    write_idx(labels, 2049, (5,), bytes([1, 2, 3, 10, 0]))
    with pytest.raises(ValueError, match=re.escape(f"{labels}: labels must be in 0..9, found 10")):
        data.load_mnist_idx(tmp_path)
    write_idx(images, 2051, (5, 32, 32), bytes(5 * 32 * 32))
    write_idx(labels, 2049, (5,), bytes(5))
    with pytest.raises(ValueError, match=re.escape(
            f"{images}: expected 28 x 28 images, the header declares 32 x 32")):
        data.load_mnist_idx(tmp_path)


def test_idx_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match=re.escape(
            f"mnist test files not found in {tmp_path}: expected t10k-images-idx3-ubyte.gz "
            "and t10k-labels-idx1-ubyte.gz (or the same names without .gz). Download "
            "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz from https://")):
        data.load_mnist_idx(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(b"")  # labels still missing
    with pytest.raises(FileNotFoundError, match=re.escape(
            f"mnist test files not found in {tmp_path}: {tmp_path / 't10k-images-idx3-ubyte.gz'}"
            " is there, but not t10k-labels-idx1-ubyte.gz (or the same name without .gz) "
            "beside it. Download")):
        data.load_mnist_idx(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte.gz").unlink()  # torchvision's layout, images missing
    (tmp_path / "MNIST" / "raw").mkdir(parents=True)
    (tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match=re.escape(
            f"{tmp_path / 'MNIST' / 'raw' / 't10k-labels-idx1-ubyte'} is there, but not "
            "t10k-images-idx3-ubyte.gz")):
        data.load_mnist_idx(tmp_path)
    with pytest.raises(FileNotFoundError, match=re.escape(
            "no folder given for fashion_mnist: pass directory=..., or set "
            "FNNET_FASHION_MNIST_DIR to the folder, or FNNET_DATA_DIR to a folder containing "
            "fashion_mnist/")):
        data.load_mnist_idx(kind="fashion_mnist")


def test_idx_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match=re.escape(
            "split must be one of ['test', 'train'], got 'val'")):
        data.load_mnist_idx(tmp_path, split="val")
    with pytest.raises(ValueError, match=re.escape(
            "kind must be one of ['fashion_mnist', 'mnist'], got 'kmnist'")):
        data.load_mnist_idx(tmp_path, kind="kmnist")
    write_mnist(tmp_path)
    with pytest.raises(ValueError, match=re.escape(
            "dtype must be np.uint8 (pixels 0..255) or np.float32 (scaled to [0, 1]), got "
            "float16")):
        data.load_mnist_idx(tmp_path, dtype=np.float16)
    # None (which numpy reads as float64) and a name numpy does not know: the same error,
    # naming what was given, before any file is read (load, load_cifar10 alike)
    for call, given in ((lambda: data.load("mnist", "test", tmp_path, dtype=None), "None"),
                        (lambda: data.load("digits", dtype="uint9"), "'uint9'"),
                        (lambda: data.load_cifar10(tmp_path / "none", dtype=float), "float")):
        with pytest.raises(ValueError, match=re.escape(f"scaled to [0, 1]), got {given}")):
            call()


# --------------------------------------------------------------------------- CIFAR-10


class Python2Pickler(pickle._Pickler):
    """Writes bytes as Python 2 ``str`` (BINSTRING opcodes), as the official batches do."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_py2_str(self, obj):
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + len(obj).to_bytes(4, "little") + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str


def write_cifar_batch(path, images, labels, *, python2=True):
    """Writes one batch in the official layout: dict of b'data' [n, 3072], b'labels'."""
    batch = {b"batch_label": b"testing batch 1 of 1",
             b"labels": [int(v) for v in labels],
             b"data": images.reshape(len(images), -1),
             b"filenames": [f"img_{i}.png".encode() for i in range(len(images))]}
    with open(path, "wb") as f:
        if python2:
            Python2Pickler(f, protocol=2).dump(batch)
        else:
            pickle.dump(batch, f, protocol=4)


def write_cifar(folder, n=4, seed=0, python2=True):
    rng = np.random.default_rng(seed)
    sub = folder / "cifar-10-batches-py"
    sub.mkdir(parents=True, exist_ok=True)
    out = {}
    for name in (*cifar.TRAIN_FILES, *cifar.TEST_FILES):
        images = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
        labels = rng.integers(0, 10, n)
        write_cifar_batch(sub / name, images, labels, python2=python2)
        out[name] = images, labels
    return out


def test_python2_writer_matches_official_opcodes(tmp_path):
    import pickletools

    write_cifar_batch(tmp_path / "b", np.zeros((1, 3, 32, 32), np.uint8), [3])
    ops = [op.name for op, _, _ in pickletools.genops((tmp_path / "b").read_bytes())]
    assert "SHORT_BINSTRING" in ops and "BINSTRING" in ops and "BINBYTES" not in ops


@pytest.mark.parametrize("python2", [True, False])
def test_cifar10_round_trip(tmp_path, python2):
    written = write_cifar(tmp_path, python2=python2)
    x, y = data.load_cifar10(tmp_path, "test")
    images, labels = written["test_batch"]
    assert x.shape == (4, 3, 32, 32) and x.dtype == np.uint8 and y.dtype == np.int32
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)
    x, y = data.load_cifar10(tmp_path / "cifar-10-batches-py", "train", dtype=np.float32)
    assert x.shape == (20, 3, 32, 32) and x.dtype == np.float32
    expected = np.concatenate([written[n][0] for n in cifar.TRAIN_FILES])
    np.testing.assert_array_equal(x, expected / np.float32(255))


def test_cifar10_channel_layout(tmp_path):
    """Row k of b'data' holds the red plane, then green, then blue, each row-major."""
    sub = tmp_path / "cifar-10-batches-py"
    sub.mkdir()
    row = np.zeros(3072, np.uint8)
    row[0], row[1024 + 32 * 2 + 5], row[2048 + 32 * 31 + 31] = 10, 20, 30
    with open(sub / "test_batch", "wb") as f:
        Python2Pickler(f, protocol=2).dump({b"data": row[None], b"labels": [1]})
    x, _ = data.load_cifar10(tmp_path, "test")
    assert x[0, 0, 0, 0] == 10 and x[0, 1, 2, 5] == 20 and x[0, 2, 31, 31] == 30
    assert x.sum() == 60


def test_cifar10_refuses_code(tmp_path):
    """A batch that names any other global is refused, and its code never runs."""
    marker = tmp_path / "ran"

    class Exploit:
        def __reduce__(self):
            return (exec, (f"open({str(marker)!r}, 'w').close()",))

    sub = tmp_path / "cifar-10-batches-py"
    sub.mkdir()
    with open(sub / "test_batch", "wb") as f:
        pickle.dump({b"data": Exploit(), b"labels": []}, f, protocol=4)
    with pytest.raises(ValueError, match=re.escape(
            "not a readable CIFAR-10 batch (global builtins.exec is not allowed in a "
            "CIFAR-10 batch)")):
        data.load_cifar10(tmp_path, "test")
    assert not marker.exists()


def test_cifar10_bad_batches(tmp_path):
    sub = tmp_path / "cifar-10-batches-py"
    sub.mkdir()
    path = sub / "test_batch"
    write_cifar_batch(path, np.zeros((2, 3, 16, 16), np.uint8), [0, 1])
    with pytest.raises(ValueError, match=re.escape(
            f"{path}: b'data' must be a [n, 3072] uint8 array, got (2, 768) uint8")):
        data.load_cifar10(tmp_path, "test")
    write_cifar_batch(path, np.zeros((2, 3, 32, 32), np.uint8), [0])
    with pytest.raises(ValueError, match=re.escape(
            f"{path}: b'labels' must hold 2 ints, got shape (1,) int64")):
        data.load_cifar10(tmp_path, "test")
    write_cifar_batch(path, np.zeros((2, 3, 32, 32), np.uint8), [0, 10])
    with pytest.raises(ValueError, match=re.escape(f"{path}: labels must be in 0..9, found 0..10")):
        data.load_cifar10(tmp_path, "test")
    with open(path, "wb") as f:
        pickle.dump([1, 2], f)
    with pytest.raises(ValueError, match=re.escape(
            f"{path}: expected a dict with b'data' and b'labels', got list")):
        data.load_cifar10(tmp_path, "test")
    path.write_bytes(b"\x80\x02}q")  # cut short
    with pytest.raises(ValueError, match=re.escape(f"{path}: not a readable CIFAR-10 batch")):
        data.load_cifar10(tmp_path, "test")


def test_cifar10_missing(tmp_path):
    write_cifar(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "data_batch_3").unlink()
    folder = tmp_path / "cifar-10-batches-py"
    with pytest.raises(FileNotFoundError, match=re.escape(
            f"CIFAR-10 train batches not found: expected data_batch_3 in {folder}. Download "
            f"and extract {cifar.URL}; it creates cifar-10-batches-py/.")):
        data.load_cifar10(tmp_path, "train")
    with pytest.raises(FileNotFoundError, match=re.escape(
            f"CIFAR-10 test batches not found: expected test_batch in "
            f"{tmp_path / 'empty' / 'cifar-10-batches-py'}")):
        data.load_cifar10(tmp_path / "empty", "test")
    with pytest.raises(ValueError, match=re.escape(
            "split must be one of ['test', 'train'], got 'valid'")):
        data.load_cifar10(tmp_path, "valid")


# --------------------------------------------------------------------------- digits


def test_load_digits():
    images, labels = data.load_digits()
    assert images.shape == (1797, 1, 8, 8) and images.dtype == np.float32
    assert labels.shape == (1797,) and labels.dtype == np.int32
    assert images.min() == 0.0 and images.max() == 1.0
    assert set(np.unique(labels)) == set(range(10))
    from sklearn.datasets import load_digits as sklearn_digits

    np.testing.assert_array_equal(images[:, 0] * 16, sklearn_digits().images)


@pytest.mark.parametrize("content, message", [
    (None, "cannot be read"),
    (b"not gzip at all", "is not scikit-learn's digits file"),
    ("1,2,3\n", "got 3 columns in 1 rows"),
    (",".join(["17"] * 64 + ["1"]) + "\n", "counts in 0..16"),
    (",".join(["1"] * 64 + ["10"]) + "\n", "a label in 0..9"),
    (b"\0" * (2 << 20), "expected at most 1048576"),
])
def test_load_digits_names_a_damaged_file(tmp_path, monkeypatch, content, message):
    from fnnet.data import digits

    path = tmp_path / "digits.csv.gz"
    if isinstance(content, str):
        path.write_bytes(gzip.compress(content.encode()))
    elif content is not None:
        path.write_bytes(content)
    monkeypatch.setattr(digits, "digits_file", lambda: path)
    with pytest.raises(ValueError, match=f"load_digits: .*{re.escape(message)}") as info:
        data.load_digits()
    assert str(path) in str(info.value)


def test_load_digits_without_scikit_learn_says_what_to_install(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "sklearn" else real(name, *a))
    with pytest.raises(ModuleNotFoundError, match="pip install scikit-learn"):
        data.load_digits()


def test_train_test_split():
    ids = np.arange(1797)
    (train_x, train_y), (test_x, test_y) = data.train_test_split(ids, ids * 2, 0.2, seed=3)
    assert len(test_x) == 359 and len(train_x) == 1438
    np.testing.assert_array_equal(np.sort(np.concatenate([train_x, test_x])), ids)
    np.testing.assert_array_equal(train_y, train_x * 2)  # pairs stay together
    again = data.train_test_split(ids, ids * 2, 0.2, seed=3)
    np.testing.assert_array_equal(again[1][0], test_x)
    other = data.train_test_split(ids, ids * 2, 0.2, seed=4)
    assert not np.array_equal(other[1][0], test_x)
    with pytest.raises(ValueError, match=re.escape("test_fraction must be in (0, 1), got 1.0")):
        data.train_test_split(ids, ids, 1.0)
    with pytest.raises(ValueError, match="images and labels must have the same length, got "
                       "1797 images and 3 labels"):
        data.train_test_split(ids, ids[:3])
    with pytest.raises(ValueError, match=re.escape(
            "test_fraction=0.1 of N=3 examples leaves 3 to train on and 0 to test on")):
        data.train_test_split(ids[:3], ids[:3], 0.1)


# --------------------------------------------------------------------------- TFDS


@pytest.fixture
def mock_tfds():
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=6):
        yield tfds


@pytest.mark.parametrize("name, shape", [("mnist", (1, 28, 28)), ("cifar10", (3, 32, 32)),
                                         ("fashion_mnist", (1, 28, 28))])
def test_from_tfds_mock(mock_tfds, name, shape):
    source = data.from_tfds(name, "train")
    assert len(source) == 6
    x, y = source[np.arange(4)]
    assert x.shape == (4, *shape) and x.dtype == np.uint8
    assert y.shape == (4,) and y.dtype == np.int32
    image, label = source[-1]
    assert image.shape == shape and 0 <= int(label) < 10
    images, labels = source.arrays(chunk=4)
    assert images.shape == (6, *shape) and labels.shape == (6,)
    np.testing.assert_array_equal(images[:4], x)
    floats = data.from_tfds(name, "test", dtype=np.float32)[0:2][0]
    assert floats.dtype == np.float32 and 0.0 <= floats.min() and floats.max() <= 1.0


class ListSource:
    """A stand-in for a TFDS data source: a list of feature dicts read by index."""

    def __init__(self, records):
        self.records = records

    def __len__(self):
        return len(self.records)

    def __getitem__(self, i):
        return self.records[i]


def test_tfds_source_converts_hwc_to_chw():
    hwc = np.arange(2 * 4 * 3 * 2, dtype=np.uint8).reshape(2, 4, 3, 2)  # 2 images 4x3x2
    source = data.TfdsSource(ListSource([{"image": im, "label": np.int64(i + 3)}
                                         for i, im in enumerate(hwc)]),
                             name="fake", split="train")
    x, y = source[[1, 0]]
    np.testing.assert_array_equal(x, hwc[[1, 0]].transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(y, [4, 3])
    assert y.dtype == np.int32
    with pytest.raises(IndexError, match="index 2 out of range for 2 examples"):
        source[2]
    bad = data.TfdsSource(ListSource([{"img": hwc[0], "label": 0}]), name="fake",
                          split="train")
    with pytest.raises(ValueError, match=re.escape(
            "tfds dataset 'fake' has features ['img', 'label']; pass image_key= and "
            "label_key= (got 'image' and 'label')")):
        bad[[0]]


def test_from_tfds_unknown_name():
    pytest.importorskip("tensorflow_datasets")
    with pytest.raises(ValueError, match=re.escape(
            "unknown tfds dataset 'mnistt'; close matches: mnist")):
        data.from_tfds("mnistt")


def test_from_tfds_not_prepared_never_downloads(tmp_path, monkeypatch):
    tfds = pytest.importorskip("tensorflow_datasets")

    def no_download(*args, **kwargs):
        raise AssertionError("from_tfds must not download")

    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", no_download)
    with pytest.raises(data.DatasetNotPreparedError) as info:
        data.from_tfds("mnist", "train", data_dir=tmp_path)
    assert isinstance(info.value, FileNotFoundError)
    message = str(info.value)
    assert message.startswith(f"tfds dataset 'mnist' (version 3.0.1) is not prepared in "
                              f"{tmp_path}: no dataset files under {tmp_path}/mnist/3.0.1.")
    assert "tfds build mnist --file_format=array_record --data_dir=DIR" in message
    assert f"then copy DIR/mnist/ to {tmp_path}/mnist/" in message
    assert not list(tmp_path.iterdir())  # nothing written, nothing fetched


# --------------------------------------------------------------------------- load()


def test_load_digits_splits():
    train_x, train_y = data.load("digits", "train")
    test_x, test_y = data.load("digits", "test")
    assert train_x.shape == (1438, 1, 8, 8) and test_x.shape == (359, 1, 8, 8)
    assert len(data.load("digits", "all")[0]) == 1797
    with pytest.raises(ValueError, match=re.escape(
            "split must be one of ['all', 'test', 'train'] for digits, got 'val'")):
        data.load("digits", "val")


def test_load_prefers_local_files(tmp_path, mock_tfds):
    images, labels = write_mnist(tmp_path / "m", "train", n=3)
    x, y = data.load("mnist", "train", data_dir=tmp_path / "m")
    np.testing.assert_array_equal(x[:, 0], images)
    written = write_cifar(tmp_path / "c", n=2)
    x, y = data.load("cifar10", "test", data_dir=tmp_path / "c", dtype=np.float32)
    np.testing.assert_array_equal(x * 255, written["test_batch"][0].astype(np.float32))
    # No local files: TFDS (mocked here: 6 random examples).
    x, y = data.load("fashion_mnist", "test", data_dir=tmp_path / "none")
    assert x.shape == (6, 1, 28, 28) and y.dtype == np.int32


def test_load_without_files_or_tfds_data(tmp_path):
    pytest.importorskip("tensorflow_datasets")
    with pytest.raises(data.DatasetNotPreparedError, match="tfds dataset 'cifar10'"):
        data.load("cifar10", "train", data_dir=tmp_path)
    with pytest.raises(ValueError, match="unknown tfds dataset 'cifar_10'; close matches: "
                       "cifar10"):
        data.load("cifar_10", "train", data_dir=tmp_path)
