"""The outcome of checking a claim at one parameter point."""
from __future__ import annotations

import enum
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from claimcheck.estimate import Estimate
from claimcheck.io import jsonable

__all__ = ["Status", "Verdict"]


class Status(str, enum.Enum):
    """passed: consistent with the claim and powered to detect the stated deviation.
    failed: the simulation contradicts the prediction at the claim's alpha.
    underpowered: not contradicted, but too imprecise to count as confirmation."""

    PASSED = "passed"
    FAILED = "failed"
    UNDERPOWERED = "underpowered"


def _py(obj) -> str:
    """Python source for a parameter value: like repr, with non-finite floats spelled
    ``float('inf')`` so the reproduce line evaluates (a callable shows as its qualified name)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return f"float({str(obj)!r})"
    if isinstance(obj, dict):
        return "{" + ", ".join(f"{k!r}: {_py(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, tuple):
        return "(" + ", ".join(_py(v) for v in obj) + ("," if len(obj) == 1 else "") + ")"
    if isinstance(obj, list):
        return "[" + ", ".join(_py(v) for v in obj) + "]"
    if callable(obj) and hasattr(obj, "__qualname__"):
        return f"{obj.__module__}.{obj.__qualname__}"
    return repr(obj)


@dataclass(frozen=True)
class Verdict:
    """Everything needed to read, trust and reproduce one check.

    ``prediction``, ``estimate`` and ``z`` are the reported point (for a curve, its worst point).
    ``kind`` names the decision rule (a class of :mod:`claimcheck.checks`: ``exact``, ``asymptotic``,
    ``bound``, ``coverage``, ``monotone``, ``band``, ``ci_threshold``, ``two_sample``,
    ``deterministic``; ``a+b`` for several rules on parts of one measurement), ``statistic`` its
    kind-specific numbers (documented in each check class's ``STATISTIC``; for ``a+b`` kinds,
    ``{"parts": {name: {"kind", "status", "detail", "statistic"}}}``), ``summary`` the check's
    one-line description of them. ``extra`` holds what the simulation reported beside the
    decision (and ``predicted``: the formula's raw output where it is not the compared value).
    """

    claim_id: str
    status: Status
    prediction: float
    estimate: Estimate
    z: float
    alpha: float
    seed: int
    params: dict[str, Any]
    budget: str
    detail: str
    extra: dict[str, Any] = field(default_factory=dict)
    kind: str = ""
    statistic: dict[str, Any] = field(default_factory=dict)
    summary: str = ""

    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED

    def reproduce(self) -> str:
        """A Python snippet that re-runs this exact check (claims and registered mutants alike:
        ``get_claim("id[mutant]")`` is the claim with that mutant installed)."""
        return (
            f"claimcheck.get_claim({self.claim_id!r}).check({_py(self.params)}, "
            f"budget={self.budget!r}, seed={self.seed})"
        )

    def to_dict(self) -> dict[str, Any]:
        """Strict-JSON-ready dict: every field, ``status`` as its value, plus ``reproduce``."""
        d = asdict(self)
        d["status"] = self.status.value
        d["estimate"] = asdict(self.estimate)
        d["reproduce"] = self.reproduce()
        return jsonable(d)

    def __str__(self) -> str:
        kind = f" [{self.kind}]" if self.kind else ""
        summary = f"\n  statistic  = {self.summary}" if self.summary else ""
        return (
            f"{self.claim_id}: {self.status.value.upper()}{kind} at {self.params}\n"
            f"  prediction = {self.prediction:.6g}\n"
            f"  estimate   = {self.estimate.mean:.6g} ± {self.estimate.se:.3g} (SE, n={self.estimate.n})\n"
            f"  z          = {self.z:+.3f} (alpha = {self.alpha:g}){summary}\n"
            f"  {self.detail}\n"
            f"  reproduce: {self.reproduce()}"
        )
