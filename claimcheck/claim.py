"""The Claim protocol: a closed form, its domain, a simulator, and a check that can fail."""
from __future__ import annotations

import dataclasses
import math
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping

import numpy as np

from claimcheck import stats
from claimcheck.budget import Budget, get_budget
from claimcheck.estimate import Estimate
from claimcheck.verdict import Status, Verdict

__all__ = ["Claim", "Mutant", "Kind", "KINDS", "claim_rng"]

Kind = Literal["exact", "asymptotic", "bound", "coverage", "qualitative"]
KINDS: tuple[str, ...] = ("exact", "asymptotic", "bound", "coverage", "qualitative")

Simulator = Callable[[dict, int, np.random.Generator], Estimate]
SizeLadder = Callable[[dict], "list[tuple[float, dict]]"]
# A qualitative check gets (claim, params, reps, rng) and returns (prediction, TestResult).
QualitativeCheck = Callable[["Claim", dict, int, np.random.Generator], "tuple[float, stats.TestResult]"]


@dataclass(frozen=True)
class Mutant:
    """A deliberately wrong predictor that the claim's own check must reject."""

    name: str
    description: str
    predict: Callable[..., float]
    params: Mapping[str, Any] | None = None  # where the mutant is checked (default: claim.default)


def _stable_hash(text: str) -> int:
    return zlib.crc32(text.encode())


def claim_rng(claim_id: str, seed: int, round_: int = 0, stream: int = 0) -> np.random.Generator:
    """The generator for one (claim, seed, round, stream): same inputs, same bits."""
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(_stable_hash(claim_id), round_, stream)))


@dataclass(frozen=True)
class Claim:
    """A checkable statement from the literature.

    ``predict(**params)`` is the closed form; ``simulate(params, reps, rng)`` the Monte
    Carlo estimate of the same quantity; ``check`` confronts them with the statistical test
    of the claim's ``kind`` (see :mod:`claimcheck.stats`). ``domain`` is a hypothesis
    strategy of valid parameter dicts, ``default`` the point ``claimcheck verify`` uses.
    """

    id: str
    title: str
    statement: str
    source: str
    kind: Kind
    predict: Callable[..., float]
    domain: Any
    default: Mapping[str, Any]
    simulate: Simulator | None = None
    reps: int = 1000
    rel_tol: float = 0.05
    # Power scale: the check must resolve rel_tol * max(|prediction|, abs_scale). Raise it for
    # claims whose prediction can be 0 (else no finite simulation could ever confirm them).
    abs_scale: float = 1e-12
    alpha: float = stats.ALPHA
    sizes: SizeLadder | None = None
    rate: float = 1.0
    rep_factors: tuple[float, ...] | None = None  # asymptotic: replicate multiplier per ladder size
    check_fn: QualitativeCheck | None = None
    verify_points: tuple[Mapping[str, Any], ...] = ()
    mutants: tuple[Mutant, ...] = ()
    notes: str = ""
    figure: str | None = None
    extra_meta: Mapping[str, Any] = field(default_factory=dict)
    module: str | None = None  # where the claim was defined (filled in from the caller); reproduce lines import it

    def __post_init__(self):
        if self.module is None:
            import sys

            object.__setattr__(self, "module", sys._getframe(2).f_globals.get("__name__"))
        if self.kind not in KINDS:
            raise ValueError(f"kind={self.kind!r}, must be one of {KINDS}")
        needs = {"exact": "simulate", "bound": "simulate", "coverage": "simulate", "asymptotic": "sizes", "qualitative": "check_fn"}
        if getattr(self, needs[self.kind]) is None:
            raise ValueError(f"claim {self.id!r} of kind {self.kind!r} needs {needs[self.kind]}")
        if self.kind == "asymptotic" and self.simulate is None:
            raise ValueError(f"claim {self.id!r} of kind 'asymptotic' needs simulate")

    # ----------------------------------------------------------------- parameters
    def resolve(self, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Default parameters updated by ``params``; unknown names are rejected."""
        params = dict(params or {})
        unknown = sorted(set(params) - set(self.default))
        if unknown:
            raise ValueError(f"unknown parameter(s) {unknown} for claim {self.id!r}; valid: {sorted(self.default)}")
        return {**self.default, **params}

    def points(self) -> tuple[dict[str, Any], ...]:
        """The parameter points ``claimcheck verify`` checks (default first)."""
        return (dict(self.default),) + tuple(self.resolve(p) for p in self.verify_points)

    # ----------------------------------------------------------------- mutation
    def mutate(self, predict: Callable[..., float], suffix: str = "mutant") -> "Claim":
        """The same claim and check with a perturbed predictor (for mutation tests)."""
        return dataclasses.replace(self, id=f"{self.id}[{suffix}]", predict=predict, mutants=())

    def mutant(self, name: str) -> tuple["Claim", dict[str, Any]]:
        """The claim with mutant ``name`` installed, and the point to check it at."""
        for m in self.mutants:
            if m.name == name:
                return self.mutate(m.predict, m.name), self.resolve(m.params)
        raise ValueError(f"mutant={name!r}, must be one of {[m.name for m in self.mutants]}")

    # ----------------------------------------------------------------- checking
    def check(self, params: Mapping[str, Any] | None = None, budget: str | Budget = "standard", seed: int = 0) -> Verdict:
        """Run the simulation and the kind's test; returns a :class:`Verdict`.

        Replicates start at ``reps * budget.scale`` and double (fresh, independent
        streams; pooled) while the result is underpowered, at most ``budget.max_doublings``
        times. The stopping rule looks only at the SE, never at the discrepancy.
        """
        p = self.resolve(params)
        b = get_budget(budget)
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed={seed!r}, must be an integer >= 0")
        seed = int(seed)
        reps = b.start_reps(self.reps)
        pooled: list[list[Estimate]] = []
        for round_ in range(b.max_doublings + 1):
            prediction, result = self._run_once(p, reps, seed, round_, pooled)
            if result.status is not Status.UNDERPOWERED:
                break
        from claimcheck.registry import reproduce_call

        return Verdict(
            claim_id=self.id,
            status=result.status,
            prediction=float(prediction),
            estimate=result.estimate,
            z=float(result.z),
            alpha=self.alpha,
            seed=seed,
            params=p,
            budget=b.name,
            detail=result.detail,
            extra=result.extra,
            call=reproduce_call(self),
        )

    def _run_once(self, p, reps, seed, round_, pooled):
        """One round. Pooled kinds add reps * 2^(round-1) fresh replicates, doubling the total;
        a qualitative check is re-run from scratch with reps * 2^round."""
        rng = claim_rng(self.id, seed, round_)
        if self.kind == "qualitative":
            return self.check_fn(self, p, reps * 2**round_, rng)
        reps = reps if round_ == 0 else reps * 2 ** (round_ - 1)
        if self.kind == "asymptotic":
            ladder = self.sizes(p)
            factors = self.rep_factors or (1.0,) * len(ladder)
            new = [self.simulate(q, max(2, math.ceil(reps * f)), claim_rng(self.id, seed, round_, k))
                   for k, ((_, q), f) in enumerate(zip(ladder, factors))]
            pooled.append(new)
            ests = [Estimate.pooled([r[k] for r in pooled]) for k in range(len(ladder))]
            limit = float(self.predict(**p))
            return limit, stats.asymptotic_test(limit, [s for s, _ in ladder], ests, rate=self.rate, alpha=self.alpha,
                                                rel_tol=self.rel_tol, abs_floor=self.abs_scale)
        est_new = self.simulate(p, reps, rng)
        pooled.append([est_new])
        prediction = float(self.predict(**p))
        if self.kind == "coverage":
            trials = sum(r[0].n for r in pooled)
            successes = sum(round(r[0].mean * r[0].n) for r in pooled)
            return prediction, stats.coverage_test(successes, trials, prediction, alpha=self.alpha, rel_tol=self.rel_tol)
        est = Estimate.pooled([r[0] for r in pooled])
        if self.kind == "bound":
            return prediction, stats.bound_test(prediction, est, alpha=self.alpha, rel_tol=self.rel_tol, abs_floor=self.abs_scale)
        return prediction, stats.exact_test(prediction, est, alpha=self.alpha, rel_tol=self.rel_tol, abs_floor=self.abs_scale)

    def __repr__(self) -> str:
        return f"Claim({self.id!r}, kind={self.kind!r}, source={self.source!r})"
