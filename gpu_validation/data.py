"""Image data for the jobs, as float tensors resident on the training device.

Thin wrappers around :mod:`sims.datasets` (IDX / CIFAR-10 readers; nothing downloads):

=========  ===========================================  ===============  ===========
name       source                                        shape (C,H,W)    samples
=========  ===========================================  ===============  ===========
digits     scikit-learn 8x8 digits (bundled)             (1, 8, 8)        1,797
mnist      IDX dir (default: claimcheck/data/mnist,      (1, 28, 28)      10,000 test
           the real MNIST *test* set; a user's full                       (+60,000
           MNIST/Fashion-MNIST dir adds the train split)                  train)
cifar10    python batches in a user directory            (3, 32, 32)      50,000 + 10,000
=========  ===========================================  ===============  ===========

Pixels are scaled to [0, 1] and standardised per channel: :func:`load_images` with the
statistics of the returned array, :func:`load_splits` with those of the training split (so a
test split is transformed exactly as the data the network was trained on).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from claimcheck.gpu_validation.run import UsageError

__all__ = ["DATASETS", "class_count", "load_images", "load_splits", "split", "train_test"]

DATASETS = ("digits", "mnist", "cifar10")


def _stats(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return x.mean(dim=(0, 2, 3), keepdim=True), x.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-6)


def _to_tensor(x: np.ndarray, y: np.ndarray, device, stats=None, standardize: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.as_tensor(x, dtype=torch.float32)
    if standardize:
        mean, std = _stats(x) if stats is None else stats
        x = (x - mean) / std
    return x.to(device), torch.as_tensor(y, dtype=torch.long).to(device)


def _raw_splits(name: str, data_dir, splits=("train", "test"), required=("test",)) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{split: (pixels in [0, 1] as float32 (N, C, H, W), labels)} for the ``splits`` present
    (a missing split in ``required`` raises FileNotFoundError saying where to put it)."""
    from claimcheck.sims import datasets

    if name not in DATASETS:
        raise ValueError(f"dataset={name!r}, must be one of {list(DATASETS)}")
    if name == "digits":   # one set, no train/test split
        x, y = datasets.load_digits()
        return {"all": ((x / 16.0).reshape(-1, 1, 8, 8).astype(np.float32), y)}
    if name == "mnist":
        directory = Path(data_dir) if data_dir else datasets.mnist_dir()
        out = {}
        for s in splits:
            try:
                x, y = datasets.load_idx_dataset(directory, s)
            except FileNotFoundError:
                if s in required:
                    raise
                continue
            out[s] = (x.astype(np.float32)[:, None] / 255.0, y)
        return out
    if data_dir is None:
        raise FileNotFoundError(
            "dataset='cifar10' needs data_dir: download https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz, "
            "extract it and pass the 'cifar-10-batches-py' folder (--data-dir DIR); nothing is downloaded at run time"
        )
    # NCHW in memory (a bare transpose of the NHWC batches would be channels_last-strided: on CPU, oneDNN's
    # channels_last conv backward corrupted the heap with torch 2.13; see gpu_validation.device.prepare_model)
    return {s: (np.ascontiguousarray(x.astype(np.float32).transpose(0, 3, 1, 2)) / 255.0, y)
            for s in splits for x, y in [datasets.load_cifar10(data_dir, s)]}


def load_splits(name: str, data_dir: "str | Path | None" = None, device="cpu", *,
                standardize: bool = True) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Every split the source has, ``{"train": (x, y), "test": (x, y)}`` (MNIST without its
    training files: only ``"test"``; digits: ``{"all": ...}``), all standardised with the
    per-channel statistics of the first split (the training split when there is one), or with
    ``standardize=False`` the pixels in [0, 1] (Nagarajan & Kolter's MNIST inputs).
    """
    raw = _raw_splits(name, data_dir)
    first = torch.as_tensor(next(iter(raw.values()))[0])
    stats = _stats(first)
    return {s: _to_tensor(x, y, device, stats, standardize) for s, (x, y) in raw.items()}


def class_count(splits: dict[str, tuple[torch.Tensor, torch.Tensor]]) -> int:
    """Number of classes of a :func:`load_splits` result: 1 + the largest label in any split."""
    return 1 + max(int(y.max()) for _, y in splits.values())


def load_images(name: str, data_dir: "str | Path | None" = None, device="cpu", split_name: str = "all"):
    """(x float32 (N, C, H, W), y int64 (N,)) on ``device``.

    ``split_name``: ``"all"`` (every split the directory has, train first), ``"train"`` or
    ``"test"``. A missing directory/file raises ``FileNotFoundError`` saying where to put
    the files.
    """
    if split_name not in ("all", "train", "test"):
        raise ValueError(f"split_name={split_name!r}, must be 'all', 'train' or 'test'")
    if name == "digits" and split_name != "all":
        raise ValueError(f"split_name={split_name!r}: dataset='digits' has no train/test split, only 'all'")
    if split_name == "all":
        raw = _raw_splits(name, data_dir)
    else:
        raw = _raw_splits(name, data_dir, splits=(split_name,), required=(split_name,))
    x = np.concatenate([v[0] for v in raw.values()])
    return _to_tensor(x, np.concatenate([v[1] for v in raw.values()]), device)


def split(n: int, sizes: tuple[int, ...], gen: torch.Generator) -> list[torch.Tensor]:
    """Disjoint random index sets of the given sizes from ``range(n)`` (seeded).

    >>> [len(i) for i in split(10, (3, 5), torch.Generator().manual_seed(0))]
    [3, 5]
    """
    if sum(sizes) > n:
        raise UsageError(f"sizes={sizes} need {sum(sizes)} samples, the dataset has only {n}")
    perm = torch.randperm(n, generator=gen)
    out, start = [], 0
    for s in sizes:
        out.append(perm[start:start + s])
        start += s
    return out


def train_test(splits: dict[str, tuple[torch.Tensor, torch.Tensor]], n_train: int, n_test: int,
               gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random training and test sets ``(x_tr, y_tr, x_te, y_te)`` of sizes ``n_train, n_test``.

    From the source's own ``"train"`` and ``"test"`` splits when :func:`load_splits` found
    both (a full MNIST or CIFAR-10 directory: test points come from the official test set, as
    in the papers), otherwise two disjoint random subsets of its one set (digits; the MNIST
    test set alone). Training rows come in random order, so ``x_tr[:n]`` is a random subset
    and the subsets of a sample-size sweep are nested.
    """
    if "train" in splits and "test" in splits:
        (x, y), (xt, yt) = splits["train"], splits["test"]
        if n_train > x.shape[0] or n_test > xt.shape[0]:
            raise UsageError(f"n_train={n_train}, n_test={n_test}: the train split has {x.shape[0]} and the test "
                             f"split {xt.shape[0]} samples")
        tr = torch.randperm(x.shape[0], generator=gen)[:n_train].to(x.device)
        te = torch.randperm(xt.shape[0], generator=gen)[:n_test].to(xt.device)
        return x[tr], y[tr], xt[te], yt[te]
    x, y = torch.cat([v[0] for v in splits.values()]), torch.cat([v[1] for v in splits.values()])
    tr, te = (i.to(x.device) for i in split(x.shape[0], (n_train, n_test), gen))
    return x[tr], y[tr], x[te], y[te]
