"""Data shipped with claimcheck (package data; nothing is downloaded at run time).

* ``mnist/``: the real MNIST test set (10,000 images, IDX format) with its attribution and
  licence (``mnist/README.md``); read it with :func:`claimcheck.sims.datasets.mnist_dir`.
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["DATA_DIR", "MNIST_DIR"]

DATA_DIR = Path(__file__).resolve().parent
MNIST_DIR = DATA_DIR / "mnist"
"""The shipped MNIST test set (``t10k-*-ubyte.gz``)."""
