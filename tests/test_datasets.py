"""The data loaders of :mod:`sims.datasets`: real MNIST, IDX round trips, clear errors."""
from __future__ import annotations

import gzip
import pickle

import numpy as np
import pytest

from claimcheck.sims import datasets as D


def _idx_bytes(arr: np.ndarray) -> bytes:
    """The IDX encoding of ``arr`` (big-endian payload), written independently of the reader."""
    big = np.dtype(arr.dtype).newbyteorder(">")
    code = next(k for k, v in D.IDX_DTYPES.items() if v == big or v == np.dtype(arr.dtype))
    header = bytes([0, 0, code, arr.ndim]) + np.asarray(arr.shape, dtype=">u4").tobytes()
    return header + np.ascontiguousarray(arr, dtype=big).tobytes()


def _write(path, arr, gz):
    data = _idx_bytes(arr)
    if gz:
        with gzip.open(path, "wb") as fh:
            fh.write(data)
    else:
        path.write_bytes(data)


def test_real_mnist_test_set_loads_with_plausible_class_counts():
    directory = D.mnist_dir()
    if not directory.is_dir():
        pytest.skip(f"MNIST directory {directory} is absent (set CLAIMCHECK_MNIST_DIR or put t10k-* files there)")
    x, y = D.load_idx_dataset(directory, split="test")
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8
    assert y.shape == (10000,) and y.dtype == np.int64
    counts = np.bincount(y, minlength=10)
    assert counts.size == 10 and set(np.unique(y)) == set(range(10))
    assert counts.min() >= 800 and counts.max() <= 1200  # MNIST test: 892 (fives) .. 1135 (ones)
    assert 20 < x.mean() < 50 and x.max() == 255  # ink fraction of MNIST digits


@pytest.mark.parametrize("gz", [True, False], ids=["gzip", "raw"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_idx_round_trip_preserves_values_shape_and_dtype(tmp_path, gz, dtype):
    rng = np.random.default_rng(0)
    arr = (rng.standard_normal((3, 4, 5)) * 50).astype(dtype)
    p = tmp_path / "a-idx3"
    _write(p, arr, gz)
    out = D.read_idx(p)
    assert out.shape == arr.shape and out.dtype == np.dtype(dtype).newbyteorder("=")
    np.testing.assert_array_equal(out, arr)
    assert out.dtype.isnative


@pytest.mark.parametrize("gz", [True, False], ids=["gzip", "raw"])
@pytest.mark.parametrize("split", ["train", "test"])
def test_load_idx_dataset_reads_standard_names(tmp_path, gz, split):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (7, 6, 5), dtype=np.uint8)
    labels = rng.integers(0, 10, 7).astype(np.uint8)
    img_name, lab_name = D.IDX_FILES[split]
    suffix = ".gz" if gz else ""
    _write(tmp_path / (img_name + suffix), images, gz)
    _write(tmp_path / (lab_name + suffix), labels, gz)
    x, y = D.load_idx_dataset(tmp_path, split=split)
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)
    assert y.dtype == np.int64


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"\x00\x00", "shorter than the 4-byte magic"),
        (bytes([1, 0, 8, 1, 0, 0, 0, 1, 0]), "must start with 0000"),
        (bytes([0, 0, 0x42, 1, 0, 0, 0, 1, 0]), "type code 0x42"),
        (bytes([0, 0, 8, 0]), "ndim=0"),
        (bytes([0, 0, 8, 2, 0, 0, 0, 2]), "truncated IDX header"),
        (bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]), "payload has 2 bytes"),
        (bytes([0, 0, 8, 1, 0, 0, 0, 1, 1, 2]), "payload has 2 bytes"),
    ],
)
def test_corrupt_idx_file_raises_value_error(tmp_path, payload, message):
    p = tmp_path / "bad-idx"
    p.write_bytes(payload)
    with pytest.raises(ValueError, match=message):
        D.read_idx(p)


def test_truncated_gzip_raises_value_error(tmp_path):
    p = tmp_path / "bad.gz"
    p.write_bytes(gzip.compress(_idx_bytes(np.arange(100, dtype=np.uint8)))[:-12])
    with pytest.raises(ValueError, match="corrupt gzip|payload"):
        D.read_idx(p)


def test_missing_directory_names_directory_and_expected_files(tmp_path):
    empty = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError) as err:
        D.load_idx_dataset(empty, split="test")
    msg = str(err.value)
    assert str(empty) in msg and "t10k-images-idx3-ubyte" in msg and "t10k-labels-idx1-ubyte" in msg
    assert "CLAIMCHECK_MNIST_DIR" in msg and "into that directory" in msg


def test_bad_split_and_inconsistent_files_raise_value_error(tmp_path):
    with pytest.raises(ValueError, match="split='val'"):
        D.load_idx_dataset(tmp_path, split="val")
    _write(tmp_path / "t10k-images-idx3-ubyte", np.zeros((3, 2, 2), np.uint8), False)
    _write(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(4, np.uint8), False)
    with pytest.raises(ValueError, match="3 images but 4 labels"):
        D.load_idx_dataset(tmp_path)


def test_mnist_dir_honours_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("CLAIMCHECK_MNIST_DIR", str(tmp_path))
    assert D.mnist_dir() == tmp_path
    monkeypatch.delenv("CLAIMCHECK_MNIST_DIR")
    from claimcheck.data import MNIST_DIR

    assert D.mnist_dir() == MNIST_DIR   # the copy shipped as package data
    assert sorted(p.name for p in MNIST_DIR.glob("t10k-*")) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def test_digits_shape_range_and_labels():
    x, y = D.load_digits()
    assert x.shape == (1797, 64) and x.dtype == np.float64
    assert x.min() == 0.0 and x.max() == 16.0
    assert y.dtype == np.int64 and set(np.unique(y)) == set(range(10))


def test_digits_equal_scikit_learns_own_loader():
    from sklearn.datasets import load_digits as sk_digits  # the independent reference: scikit-learn's loader

    x, y = D.load_digits()
    d = sk_digits()
    assert np.array_equal(x, d.data) and np.array_equal(y, d.target)


def test_mnist1d_same_seed_same_arrays_and_global_state_untouched():
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    a = D.make_mnist1d(seed=3, num_samples=200)
    assert np.array_equal(np.random.get_state()[1], before)
    b = D.make_mnist1d(seed=3, num_samples=200)
    c = D.make_mnist1d(seed=4, num_samples=200)
    for k in ("x", "y", "x_test", "y_test"):
        assert np.array_equal(a[k], b[k])
    assert not np.array_equal(a["x"], c["x"])
    assert a["x"].shape == (160, 40) and a["x_test"].shape == (40, 40)
    assert a["y"].dtype == np.int64 and set(np.unique(np.r_[a["y"], a["y_test"]])) == set(range(10))


def test_mnist1d_overrides_and_bad_arguments():
    d = D.make_mnist1d(seed=0, num_samples=100, train_split=0.5, final_seq_length=30)
    assert d["x"].shape == (50, 30)
    with pytest.raises(ValueError, match="unknown mnist1d argument"):
        D.make_mnist1d(seed=0, num_samples=100, url="x")
    with pytest.raises(ValueError, match="seed=-1"):
        D.make_mnist1d(seed=-1)
    with pytest.raises(ValueError, match="num_samples=5"):
        D.make_mnist1d(num_samples=5)


def _cifar_batch(path, n, rng):
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    labels = rng.integers(0, 10, n).tolist()
    with open(path, "wb") as fh:
        pickle.dump({b"data": data, b"labels": labels, b"batch_label": b"synthetic"}, fh)
    return data, labels


def test_cifar10_reads_python_batches_in_hwc_layout(tmp_path):
    rng = np.random.default_rng(2)
    parts = [_cifar_batch(tmp_path / b, 3, rng) for b in D.CIFAR10_TRAIN_BATCHES]
    test_data, test_labels = _cifar_batch(tmp_path / D.CIFAR10_TEST_BATCH, 4, rng)
    x, y = D.load_cifar10(tmp_path, "train")
    assert x.shape == (15, 32, 32, 3) and x.dtype == np.uint8 and y.dtype == np.int64
    np.testing.assert_array_equal(y, np.concatenate([p[1] for p in parts]))
    # pixel (row 1, col 2) of image 0: red at 32+2, green at 1024+34, blue at 2048+34
    d0 = parts[0][0][0]
    assert tuple(x[0, 1, 2]) == (d0[34], d0[1024 + 34], d0[2048 + 34])
    xt, yt = D.load_cifar10(tmp_path, "test")
    assert xt.shape == (4, 32, 32, 3)
    np.testing.assert_array_equal(yt, test_labels)


def test_cifar10_missing_and_corrupt_files(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        D.load_cifar10(tmp_path, "test")
    assert "test_batch" in str(err.value) and "cifar-10-python.tar.gz" in str(err.value) and str(tmp_path) in str(err.value)
    with pytest.raises(ValueError, match="split='valid'"):
        D.load_cifar10(tmp_path, "valid")
    (tmp_path / "test_batch").write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="not a CIFAR-10 python batch"):
        D.load_cifar10(tmp_path, "test")
    with open(tmp_path / "test_batch", "wb") as fh:
        pickle.dump({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, fh)
    with pytest.raises(ValueError, match="must be uint8"):
        D.load_cifar10(tmp_path, "test")
