"""The data paths of the GPU jobs that need user-supplied data, run on small synthetic copies.

Full MNIST (train + test IDX), CIFAR-10 python batches and CIFAR-5m ``.npz`` parts are not on
this machine; these tests write files in the same formats (random pixels) and run the jobs
through them end to end, so the readers, the train/test handling and the job plumbing are
exercised. They say nothing about the claims (random pixels cannot be learned).
"""
from __future__ import annotations

import gzip
import math
import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from claimcheck.gpu_validation import common  # noqa: E402
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
    x_tr, y_tr, x_te, y_te = train_test(splits, 300, 200, common.generator(0, "split"))
    assert x_tr.shape[0] == 300 and x_te.shape[0] == 200
    # train rows are dark (< 128/255), test rows bright: every drawn row came from its own split
    assert float(x_tr.flatten(1).mean(1).max()) < float(x_te.flatten(1).mean(1).min())
    again = train_test(splits, 300, 200, common.generator(0, "split"))
    assert all(torch.equal(a, b) for a, b in zip((x_tr, y_tr, x_te, y_te), again))
    with pytest.raises(ValueError, match="n_train=500"):
        train_test(splits, 500, 10, common.generator(0, "split"))


def test_single_set_sources_split_into_disjoint_subsets():
    assert list(load_splits("digits")) == ["all"]
    ids = torch.arange(100, dtype=torch.float32).reshape(100, 1, 1, 1)   # row i holds the value i
    x_tr, y_tr, x_te, _ = train_test({"all": (ids, torch.arange(100))}, 60, 30, common.generator(0, "split"))
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


def test_pac_bayes_job_uses_the_train_split_of_a_full_mnist_directory(full_mnist, tmp_path):
    res = get_job("pac_bayes_mnist").run("smoke", device="cpu", out_dir=tmp_path, progress=False, figures=False,
                                         data_dir=str(full_mnist), n_prior=150, n_bound=150, n_eval=100, mc_samples=4)
    assert res["measurements"]["data"] == {"prior_and_bound": "train split", "eval": "test split"}
    assert res["verdict"]["status"] in STATUSES and 0 < res["measurements"]["bound"]


def test_double_descent_runs_on_cifar10_batches(cifar10_dir, tmp_path):
    res = get_job("deep_double_descent").run("smoke", device="cpu", out_dir=tmp_path, progress=False, figures=False,
                                             dataset="cifar10", data_dir=str(cifar10_dir), widths=(1, 2, 3),
                                             n_train=128, n_test=64, epochs=1, n_seeds=2)
    err = np.array(res["measurements"]["test_error"])
    assert err.shape == (2, 2, 3) and np.all((0 <= err) & (err <= 1))
    assert res["verdict"]["status"] in STATUSES


def test_feature_calibration_runs_on_full_mnist(full_mnist, tmp_path):
    res = get_job("feature_calibration").run("smoke", device="cpu", out_dir=tmp_path, progress=False, figures=False,
                                             dataset="mnist", data_dir=str(full_mnist), n_train=200, n_test=100)
    assert res["verdict"]["status"] in STATUSES


def _cifar5m(d, sizes, seed=2):
    rng = np.random.default_rng(seed)
    for i, n in enumerate(sizes):
        np.savez(d / f"cifar5m_part{i}.npz", X=rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8),
                 Y=rng.integers(0, 10, n))


def test_real_vs_ideal_streams_cifar5m_parts(tmp_path):
    parts = tmp_path / "cifar5m"
    parts.mkdir()
    _cifar5m(parts, [200, 200])
    kw = dict(device="cpu", progress=False, figures=False, source="cifar5m", data_dir=str(parts), n_real=64,
              n_test=64, steps=10, batch_size=16, hidden=(32,), n_evals=3, n_seeds=2)
    res = get_job("real_vs_ideal").run("smoke", out_dir=tmp_path / "run", **kw)   # needs 64 + 64 + 10 x 16 = 288
    assert res["verdict"]["status"] in STATUSES
    with pytest.raises(ValueError, match="has 400 samples, the run needs 528"):
        get_job("real_vs_ideal").run("smoke", out_dir=tmp_path / "run2", **{**kw, "steps": 25})
    with pytest.raises(FileNotFoundError, match="cifar5m"):
        get_job("real_vs_ideal").run("smoke", out_dir=tmp_path / "run3", **{**kw, "data_dir": str(tmp_path / "none")})
