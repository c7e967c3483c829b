"""Monte Carlo estimates: a mean with its standard error and the number of draws."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Estimate", "Curve"]


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


@dataclass(frozen=True)
class Curve:
    """Monte Carlo estimates along a grid (logged steps, sizes, named sub-tests, ...).

    ``x`` labels the points (numbers or names); ``mean``, ``se`` and ``n`` hold one
    :class:`Estimate` per point (tuples, so a curve is immutable and compares by value).
    ``info`` carries what the simulation wants reported beside the decision (it lands in the
    verdict's ``extra``; it is not compared). Checks that look at differences between points
    (:class:`claimcheck.checks.Monotone`) assume the points are independent simulations.
    """

    x: tuple
    mean: tuple
    se: tuple
    n: tuple
    info: "dict" = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        k = len(self.x)
        if not (len(self.mean) == len(self.se) == len(self.n) == k) or k == 0:
            raise ValueError(f"curve has {k} points but {len(self.mean)} means, {len(self.se)} SEs, {len(self.n)} counts; "
                             "must be equal and >= 1")
        means = np.asarray(self.mean, dtype=float)
        ses = np.asarray(self.se, dtype=float)
        if not (np.isfinite(means).all() and np.isfinite(ses).all() and (ses >= 0).all()):
            raise ValueError(f"curve means and SEs must be finite and SE >= 0, got mean={list(self.mean)}, se={list(self.se)}")

    @classmethod
    def from_estimates(cls, x, estimates: "list[Estimate]", info: "dict | None" = None) -> "Curve":
        """One point per :class:`Estimate`.

        >>> Curve.from_estimates([1, 2], [Estimate(1.0, 0.1, 10), Estimate(0.5, 0.1, 10)])
        Curve(x=(1, 2), mean=(1.0, 0.5), se=(0.1, 0.1), n=(10, 10))
        """
        ests = list(estimates)
        for e in ests:
            if not isinstance(e, Estimate):
                raise TypeError(f"estimates must be Estimate objects, got {type(e).__name__}")
        return cls(tuple(x), tuple(float(e.mean) for e in ests), tuple(float(e.se) for e in ests),
                   tuple(int(e.n) for e in ests), dict(info or {}))

    @classmethod
    def from_samples(cls, x, samples, info: "dict | None" = None) -> "Curve":
        """Column k of ``samples`` (replicates x points) is the sample of point ``x[k]``."""
        s = np.asarray(samples, dtype=float)
        if s.ndim != 2 or s.shape[1] != len(x):
            raise ValueError(f"samples has shape {s.shape}, must be (replicates, {len(x)})")
        return cls.from_estimates(x, [Estimate.from_samples(s[:, k]) for k in range(s.shape[1])], info)

    @classmethod
    def exact(cls, x, values, n: int = 1, info: "dict | None" = None) -> "Curve":
        """A curve known without Monte Carlo error (SE 0), e.g. an exact recursion."""
        v = [float(a) for a in np.asarray(values, dtype=float).ravel()]
        return cls(tuple(x), tuple(v), (0.0,) * len(v), (int(n),) * len(v), dict(info or {}))

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, k: int) -> Estimate:
        return Estimate(self.mean[k], self.se[k], self.n[k])

    def estimates(self) -> "list[Estimate]":
        return [self[k] for k in range(len(self))]

    def select(self, keep) -> "Curve":
        """The points where ``keep`` (booleans, one per point) is true."""
        idx = [k for k, flag in enumerate(keep) if flag]
        return Curve(tuple(self.x[k] for k in idx), tuple(self.mean[k] for k in idx), tuple(self.se[k] for k in idx),
                     tuple(self.n[k] for k in idx), dict(self.info))

    def __str__(self) -> str:
        return ", ".join(f"{x}: {m:.4g} ± {s:.2g}" for x, m, s in zip(self.x, self.mean, self.se))
