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
    underpowered: not contradicted, but too imprecise to count as confirmation.
    skipped: not run, for want of an optional data set or dependency (never counted as passed)."""

    PASSED = "passed"
    FAILED = "failed"
    UNDERPOWERED = "underpowered"
    SKIPPED = "skipped"  # could not run: an optional data set or dependency is missing (the detail says which)


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
    call: str = ""  # expression (with its imports) giving the claim in a fresh interpreter; see reproduce()

    @classmethod
    def skipped(cls, claim_id: str, params: dict, budget: str, seed: int, reason: str, call: str = "") -> "Verdict":
        """The verdict of a check that could not run (missing optional data or dependency)."""
        return cls(claim_id=claim_id, status=Status.SKIPPED, prediction=float("nan"),
                   estimate=Estimate(float("nan"), float("nan"), 0), z=float("nan"), alpha=float("nan"),
                   seed=seed, params=dict(params), budget=budget, detail=f"skipped: {reason}", call=call)

    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED

    def reproduce(self) -> str:
        """A Python snippet that re-runs this exact check in a fresh interpreter (same seed, same bits);
        registered mutants included (``get_claim("id[mutant]")`` is the claim with that mutant installed)."""
        call = self.call or f"import claimcheck; claimcheck.get_claim({self.claim_id!r})"
        if call == "?":  # registry.UNREACHABLE
            return (f"claim.check({_py(self.params)}, budget={self.budget!r}, seed={self.seed})  "
                    f"# claim {self.claim_id!r} is not registered: claimcheck.register(claim) makes this line self-contained")
        prefix, _, expr = call.rpartition("; ")
        return (f"{prefix + '; ' if prefix else ''}{expr}.check({_py(self.params)}, "
                f"budget={self.budget!r}, seed={self.seed})")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Verdict":
        """The verdict back from :meth:`to_dict` (JSON) output (``reproduce`` is recomputed;
        non-finite numbers written as strings come back as floats)."""
        def num(x):
            return float(x) if isinstance(x, str) else x

        kw = {k: v for k, v in d.items() if k != "reproduce"}
        kw["status"] = Status(kw["status"])
        e = kw["estimate"]
        kw["estimate"] = Estimate(num(e["mean"]), num(e["se"]), int(e["n"]))
        for k in ("prediction", "z", "alpha"):
            kw[k] = num(kw[k])
        return cls(**kw)

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
