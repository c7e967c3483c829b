"""The outcome of checking a claim at one parameter point."""
from __future__ import annotations

import enum
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


@dataclass(frozen=True)
class Verdict:
    """Everything needed to read, trust and reproduce one check."""

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
        """A Python snippet that re-runs this exact check in a fresh interpreter (same seed, same bits)."""
        call = self.call or f"import claimcheck; claimcheck.get_claim({self.claim_id!r})"
        if call == "?":  # registry.UNREACHABLE
            return (f"claim.check({self.params!r}, budget={self.budget!r}, seed={self.seed})  "
                    f"# claim {self.claim_id!r} is not registered: claimcheck.register(claim) makes this line self-contained")
        prefix, _, expr = call.rpartition("; ")
        return (f"{prefix + '; ' if prefix else ''}{expr}.check({self.params!r}, "
                f"budget={self.budget!r}, seed={self.seed})")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["status"] = self.status.value
        d["estimate"] = asdict(self.estimate)
        return jsonable(d)

    def __str__(self) -> str:
        return (
            f"{self.claim_id}: {self.status.value.upper()} at {self.params}\n"
            f"  prediction = {self.prediction:.6g}\n"
            f"  estimate   = {self.estimate.mean:.6g} ± {self.estimate.se:.3g} (SE, n={self.estimate.n})\n"
            f"  z          = {self.z:+.3f} (alpha = {self.alpha:g})\n"
            f"  {self.detail}\n"
            f"  reproduce: {self.reproduce()}"
        )

