"""The data paths of the GPU jobs that need user-supplied data, run on small synthetic copies.

Full MNIST (train + test IDX), CIFAR-10 python batches and CIFAR-5m ``.npz`` parts are not on
this machine; these tests write files in the same formats (random pixels) and check the readers
and the train/test handling; ``tests/test_gpu_configs.py`` runs the ``full`` configurations of the
jobs through such copies. They say nothing about the claims (random pixels cannot be learned).
"""
from __future__ import annotations

import gzip
import math
import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from claimcheck.gpu_validation.run import generator  # noqa: E402
from claimcheck.gpu_validation.data import load_images, load_splits, train_test  # noqa: E402
from claimcheck.gpu_validation import get_job  # noqa: E402
from claimcheck.sims import datasets as D  # noqa: E402

STATUSES = {"passed", "failed", "underpowered"}


def _idx(path, arr):
    code = {np.dtype(np.uint8): 0x08}[arr.dtype]
    header = bytes([0, 0, code, arr.ndim]) + np.asarray(arr.shape, dtype=">u4").tobytes()
    with gzip.open(path, "wb") as fh:
        fh.write(header + arr.tobytes())


@pytest.fixture(scope="module")
def full_mnist(tmp_path_factory):
    """A full-MNIST-style directory: train pixels in [0, 127], test pixels in [128, 255]."""
    d = tmp_path_factory.mktemp("mnist-full")
    rng = np.random.default_rng(0)
    for stem, n, lo in (("train", 400, 0), ("t10k", 250, 128)):
        _idx(d / f"{stem}-images-idx3-ubyte.gz", rng.integers(lo, lo + 128, (n, 28, 28), dtype=np.uint8))
        _idx(d / f"{stem}-labels-idx1-ubyte.gz", (np.arange(n) % 10).astype(np.uint8))
    return d


@pytest.fixture(scope="module")
def cifar10_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cifar-10-batches-py")
    rng = np.random.default_rng(1)
    for name, n in [(b, 40) for b in D.CIFAR10_TRAIN_BATCHES] + [(D.CIFAR10_TEST_BATCH, 100)]:
        with open(d / name, "wb") as fh:
            pickle.dump({b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                         b"labels": (np.arange(n) % 10).tolist()}, fh)
    return d


def test_cifar10_tensors_are_nchw_contiguous(cifar10_dir):
    """A bare transpose of the NHWC batches would give channels_last strides (heap corruption in
    CPU oneDNN conv backward, torch 2.13): the loader returns NCHW-contiguous tensors."""
    x, _ = load_splits("cifar10", cifar10_dir)["train"]
    assert x.shape == (200, 3, 32, 32) and x.is_contiguous()


def test_full_mnist_splits_are_standardised_with_training_statistics(full_mnist):
    splits = load_splits("mnist", full_mnist)
    assert list(splits) == ["train", "test"]
    (x, y), (xt, yt) = splits["train"], splits["test"]
    assert x.shape == (400, 1, 28, 28) and xt.shape == (250, 1, 28, 28) and y.dtype == torch.long
    assert abs(float(x.mean())) < 1e-5 and math.isclose(float(x.std()), 1.0, rel_tol=1e-4)
    raw = D.load_idx_dataset(full_mnist, "test")[0].astype(np.float32) / 255.0
    raw_train = D.load_idx_dataset(full_mnist, "train")[0].astype(np.float32) / 255.0
    want = (raw - raw_train.mean()) / raw_train.std(ddof=1)
    assert np.allclose(xt[:, 0].numpy(), want, atol=1e-4)      # the test split is *not* re-standardised
    assert float(xt.mean()) > 1.0                               # ... so its brighter pixels show
    assert load_images("mnist", full_mnist, split_name="train")[0].shape[0] == 400
    assert load_images("mnist", full_mnist)[0].shape[0] == 650  # "all": train then test


def test_train_test_draws_from_the_official_splits_when_both_exist(full_mnist):
    splits = load_splits("mnist", full_mnist)
    x_tr, y_tr, x_te, y_te = train_test(splits, 300, 200, generator(0, "split"))
    assert x_tr.shape[0] == 300 and x_te.shape[0] == 200
    # train rows are dark (< 128/255), test rows bright: every drawn row came from its own split
    assert float(x_tr.flatten(1).mean(1).max()) < float(x_te.flatten(1).mean(1).min())
    again = train_test(splits, 300, 200, generator(0, "split"))
    assert all(torch.equal(a, b) for a, b in zip((x_tr, y_tr, x_te, y_te), again))
    with pytest.raises(ValueError, match="n_train=500"):
        train_test(splits, 500, 10, generator(0, "split"))


def test_single_set_sources_split_into_disjoint_subsets():
    assert list(load_splits("digits")) == ["all"]
    ids = torch.arange(100, dtype=torch.float32).reshape(100, 1, 1, 1)   # row i holds the value i
    x_tr, y_tr, x_te, _ = train_test({"all": (ids, torch.arange(100))}, 60, 30, generator(0, "split"))
    tr, te = set(x_tr.flatten().tolist()), set(x_te.flatten().tolist())
    assert len(tr) == 60 and len(te) == 30 and not tr & te
    assert torch.equal(x_tr.flatten().long(), y_tr)                     # rows keep their labels


def test_bad_split_names_and_missing_training_files(tmp_path):
    with pytest.raises(ValueError, match="split_name='valid'"):
        load_images("mnist", split_name="valid")
    with pytest.raises(ValueError, match="digits"):
        load_images("digits", split_name="train")
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        load_images("mnist", split_name="train")   # the project's copy is the test set only


def _cifar5m(d, sizes, seed=2):
    rng = np.random.default_rng(seed)
    for i, n in enumerate(sizes):
        np.savez(d / f"cifar5m_part{i}.npz", X=rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8),
                 Y=rng.integers(0, 10, n))


def test_real_vs_ideal_cifar5m_needs_enough_parts(tmp_path):
    """(The run on CIFAR-5m parts: tests/test_gpu_configs.py, the full profile.)"""
    parts = tmp_path / "cifar5m"
    parts.mkdir()
    _cifar5m(parts, [200, 200])
    kw = dict(device="cpu", progress=False, figures=False, source="cifar5m", data_dir=str(parts), n_real=64,
              n_test=64, steps=25, batch_size=16, hidden=(32,), n_evals=3, n_seeds=1)
    with pytest.raises(ValueError, match="has 400 samples, the run needs 528"):
        get_job("real_vs_ideal").run("smoke", out_dir=tmp_path / "run2", **kw)
    with pytest.raises(FileNotFoundError, match="cifar5m"):
        get_job("real_vs_ideal").run("smoke", out_dir=tmp_path / "run3", **{**kw, "data_dir": str(tmp_path / "none")})


def test_cifar5m_stays_uint8_on_the_device_and_is_converted_per_batch(tmp_path):
    """A float32 copy of 5M CIFAR-5m images would be ~61 GB: the pool stays uint8 (NHWC, as stored)
    and each batch becomes float in [-1, 1] (the reference's normalisation): channels_last in memory on
    CUDA (the NHWC permute), NCHW-contiguous on CPU (see gpu_validation.device.CHANNELS_LAST_DEVICES)."""
    from claimcheck.gpu_validation import real_vs_ideal
    from claimcheck.gpu_validation.driver import Context
    from claimcheck.gpu_validation.run import Run

    parts = tmp_path / "c5m"
    parts.mkdir()
    _cifar5m(parts, [300])
    cfg = real_vs_ideal.Config(source="cifar5m", data_dir=str(parts), n_real=64, n_test=32, steps=4, batch_size=16,
                               model="resnet18k", width_k=2)
    ctx = Context(Run("t", "smoke", cfg, seed=0, device=torch.device("cpu"), out_dir=None, progress=False), cfg, (0,))
    d = real_vs_ideal.data(ctx, 0)
    assert d["real"][0].dtype == torch.uint8 and d["real"][0].shape == (64, 32, 32, 3)
    x, y = d["ideal"](2)
    assert x.dtype == torch.float32 and x.shape == (16, 3, 32, 32) and y.shape == (16,)
    assert x.is_contiguous()                                              # CPU: NCHW
    assert real_vs_ideal.cifar5m_batch(d["real"][0][:4]).is_contiguous(memory_format=torch.channels_last)
    assert -1.0 <= float(x.min()) < -0.9 and 0.9 < float(x.max()) <= 1.0
    raw = np.load(parts / "cifar5m_part0.npz")["X"][64 + 32 + 32: 64 + 32 + 48]
    assert np.allclose(x.permute(0, 2, 3, 1).numpy(), raw / 127.5 - 1.0, atol=1e-6)
