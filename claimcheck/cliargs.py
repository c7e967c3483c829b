"""argparse value types shared by ``claimcheck`` and ``claimcheck gpu`` (one place: no import
cycle between :mod:`claimcheck.cli` and :mod:`claimcheck.gpu_validation.cli`)."""
from __future__ import annotations

import argparse

__all__ = ["positive_int", "nonneg_int"]


def positive_int(text: str) -> int:
    """argparse type for process counts: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}, must be an integer >= 1")
    return value


def nonneg_int(text: str) -> int:
    """argparse type for seeds and counts: an integer >= 0, with a clear message otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"seed={value}, must be >= 0")
    return value
