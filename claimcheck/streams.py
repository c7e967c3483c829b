"""Random streams of a check: one generator per (claim, seed, round, stream), same inputs same bits."""
from __future__ import annotations

import zlib

import numpy as np

__all__ = ["claim_rng", "stable_hash"]


def stable_hash(text: str) -> int:
    """A hash of ``text`` that is the same in every process (CRC-32; Python's ``hash`` is salted)."""
    return zlib.crc32(text.encode())


def claim_rng(claim_id: str, seed: int, round_: int = 0, stream: int = 0) -> np.random.Generator:
    """The generator for one (claim, seed, round, stream): same inputs, same bits."""
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(stable_hash(claim_id), round_, stream)))
