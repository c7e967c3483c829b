"""Image data for the jobs, as float tensors resident on the training device.

Thin wrappers around :mod:`sims.datasets` (IDX / CIFAR-10 readers; nothing downloads):

=========  ===========================================  ===============  ===========
name       source                                        shape (C,H,W)    samples
=========  ===========================================  ===============  ===========
digits     scikit-learn 8x8 digits (bundled)             (1, 8, 8)        1,797
mnist      IDX directory (default: ../shared/data/mnist,  (1, 28, 28)      10,000 test
           the real MNIST *test* set; a user's full                       (+60,000
           MNIST/Fashion-MNIST dir adds the train split)                  train)
cifar10    python batches in a user directory            (3, 32, 32)      50,000 + 10,000
=========  ===========================================  ===============  ===========

Pixels are scaled to [0, 1] and standardised per channel with the statistics of the
returned array (so the same code works for every source).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

__all__ = ["DATASETS", "load_images", "split"]

DATASETS = ("digits", "mnist", "cifar10")


def _to_tensor(x: np.ndarray, y: np.ndarray, device) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.as_tensor(x, dtype=torch.float32)
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    std = x.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-6)
    return ((x - mean) / std).to(device), torch.as_tensor(y, dtype=torch.long).to(device)


def load_images(name: str, data_dir: "str | Path | None" = None, device="cpu", split_name: str = "all"):
    """(x float32 (N, C, H, W), y int64 (N,)) on ``device``.

    ``split_name``: ``"all"`` (every split the directory has, train first), ``"train"`` or
    ``"test"``. A missing directory/file raises ``FileNotFoundError`` saying where to put
    the files.
    """
    from sims import datasets

    if name not in DATASETS:
        raise ValueError(f"dataset={name!r}, must be one of {list(DATASETS)}")
    if name == "digits":
        x, y = datasets.load_digits()
        return _to_tensor((x / 16.0).reshape(-1, 1, 8, 8), y, device)
    if name == "mnist":
        directory = Path(data_dir) if data_dir else datasets.mnist_dir()
        parts = []
        for s in (("train", "test") if split_name == "all" else (split_name,)):
            try:
                parts.append(datasets.load_idx_dataset(directory, s))
            except FileNotFoundError:
                if split_name != "all" or s == "test":
                    raise
        x = np.concatenate([p[0] for p in parts]).astype(np.float32)[:, None] / 255.0
        return _to_tensor(x, np.concatenate([p[1] for p in parts]), device)
    if data_dir is None:
        raise FileNotFoundError(
            "dataset='cifar10' needs data_dir: download https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz, "
            "extract it and pass the 'cifar-10-batches-py' folder (--data-dir DIR); nothing is downloaded at run time"
        )
    parts = [datasets.load_cifar10(data_dir, s) for s in (("train", "test") if split_name == "all" else (split_name,))]
    x = np.concatenate([p[0] for p in parts]).astype(np.float32).transpose(0, 3, 1, 2) / 255.0
    return _to_tensor(x, np.concatenate([p[1] for p in parts]), device)


def split(n: int, sizes: tuple[int, ...], gen: torch.Generator) -> list[torch.Tensor]:
    """Disjoint random index sets of the given sizes from ``range(n)`` (seeded).

    >>> [len(i) for i in split(10, (3, 5), torch.Generator().manual_seed(0))]
    [3, 5]
    """
    if sum(sizes) > n:
        raise ValueError(f"sizes={sizes} need {sum(sizes)} samples, the dataset has only {n}")
    perm = torch.randperm(n, generator=gen)
    out, start = [], 0
    for s in sizes:
        out.append(perm[start:start + s])
        start += s
    return out
