"""Monte Carlo estimates: a mean with its standard error and the number of draws."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Estimate"]


@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo estimate ``mean +- se`` from ``n`` independent replicates."""

    mean: float
    se: float
    n: int

    @classmethod
    def from_samples(cls, samples) -> "Estimate":
        """Sample mean and its standard error s / sqrt(n) (ddof = 1).

        >>> Estimate.from_samples([1.0, 2.0, 3.0])
        Estimate(mean=2, se=0.57735, n=3)
        """
        x = np.asarray(samples, dtype=float).ravel()
        if x.size < 2:
            raise ValueError(f"samples has {x.size} entries, must have >= 2 to estimate a standard error")
        if not np.isfinite(x).all():
            raise ValueError("samples contain inf or NaN; the estimator is undefined at this point")
        return cls(float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size)), int(x.size))

    @classmethod
    def pooled(cls, parts: "list[Estimate]") -> "Estimate":
        """Combine independent estimates of the same mean, weighting by replicate count."""
        n = sum(p.n for p in parts)
        mean = sum(p.mean * p.n for p in parts) / n
        var = sum((p.n / n) ** 2 * p.se**2 for p in parts)
        return cls(float(mean), float(math.sqrt(var)), n)

    def __repr__(self) -> str:
        return f"Estimate(mean={self.mean:.6g}, se={self.se:.5g}, n={self.n})"

    def __str__(self) -> str:
        return f"{self.mean:.5g} ± {self.se:.2g}"
