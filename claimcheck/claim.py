"""The Claim protocol: a closed form, its declared domain, a simulator, and a check that can fail."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from claimcheck.budget import Budget, get_budget
from claimcheck.checks import Check
from claimcheck.estimate import Curve, Estimate
from claimcheck.io import jsonable
from claimcheck.progress import note
from claimcheck.streams import claim_rng
from claimcheck.verdict import Status, Verdict

__all__ = ["Claim", "Mutant", "BoundCheck", "claim_rng", "EVIDENCE"]

EVIDENCE = ("simulation", "measurement")
"""Where a claim's measurement comes from: a Monte Carlo simulation run by ``check``
(``claimcheck verify``), or results measured elsewhere (e.g. a GPU job's result files:
``gpu.<job>`` claims, whose ``simulate`` reads them)."""

@dataclass(frozen=True)
class Mutant:
    """A deliberately wrong predictor that the claim's own check must reject."""

    name: str
    description: str
    predict: Callable[..., float]
    params: Mapping[str, Any] | None = None  # where the mutant is checked (default: claim.default)


def _has_nan(x) -> bool:
    if x is None or callable(x):
        return False
    if isinstance(x, Mapping):
        return any(_has_nan(v) for v in x.values())
    try:
        a = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        return False
    return bool(np.isnan(a).any())


class BoundCheck:
    """``claim.check``: the claim's decision rule, and callable to run it.

    ``claim.check(params, budget=..., seed=...)`` runs the check (see :meth:`Claim.run`);
    attributes are the rule's (``claim.check.kind``, ``claim.check.decide``, ``claim.check.rel_tol``);
    ``claim.check.rule`` is the :class:`~claimcheck.checks.Check` object itself.
    """

    __slots__ = ("_claim", "rule")

    def __init__(self, claim: "Claim", rule: Check):
        self._claim = claim
        self.rule = rule

    def __call__(self, params: Mapping[str, Any] | None = None, budget: str | Budget = "standard", seed: int = 0) -> Verdict:
        return self._claim.run(params, budget=budget, seed=seed)

    def __getattr__(self, name):
        return getattr(self.rule, name)

    def __eq__(self, other):
        return self.rule == (other.rule if isinstance(other, BoundCheck) else other)

    def __hash__(self):
        return hash(self.rule)

    def __repr__(self) -> str:
        return repr(self.rule)


class _CheckField:
    """Descriptor behind the ``check`` field: stores the rule, reads back a :class:`BoundCheck`."""

    def __get__(self, obj, objtype=None):
        if obj is None:
            raise AttributeError("check")  # no default: dataclasses makes the field required
        return BoundCheck(obj, obj.__dict__["_rule"])

    def __set__(self, obj, value):
        rule = value.rule if isinstance(value, BoundCheck) else value
        if not isinstance(rule, Check):
            raise TypeError(f"check={value!r}, must be a check from claimcheck.checks "
                            "(Exact(), Asymptotic(sizes=...), Bound(), Coverage(), Monotone(), Band(...), ...)")
        obj.__dict__["_rule"] = rule


@dataclass(frozen=True)
class Claim:
    """A checkable statement from the literature.

    ``predict`` is the closed form (what a mutant replaces); ``expect(predict, params)`` turns
    it into the value the check compares with (default ``predict(**params)``; e.g. a formula
    evaluated along a grid). ``simulate(params, reps, rng)`` returns the measurement the check
    decides on (an :class:`Estimate`, a :class:`Curve`, a mapping of parts for
    :class:`~claimcheck.checks.AllOf`); with ``simulate_takes_predict`` it is called as
    ``simulate(params, reps, rng, predict)`` (the formula is an input of the experiment, e.g.
    the regulariser at which a risk curve is simulated). ``check`` is the decision rule, a value
    from :mod:`claimcheck.checks`; the claim's ``kind`` is the check's.

    ``domain`` is the declared parameter domain (:class:`claimcheck.domain.Domain`): the claim
    keeps the declaration as ``param_spec`` (introspectable: ranges, constraints), ``check``
    validates parameters against it before simulating, ``claim.domain`` becomes its hypothesis
    strategy (``@given(claim.domain)``) and ``boundary_points()`` lists its edges. A plain
    hypothesis strategy is also accepted (then parameters are not validated). ``default`` is
    the point ``claimcheck verify`` uses.
    """

    id: str
    title: str
    statement: str
    source: str
    check: Check = _CheckField()
    predict: Callable[..., Any]
    domain: Any
    default: Mapping[str, Any]
    simulate: Callable | None = None
    reps: int = 1000
    simulate_takes_predict: bool = False
    expect: Callable[[Callable, dict], Any] | None = None
    verify_points: tuple[Mapping[str, Any], ...] = ()
    mutants: tuple[Mutant, ...] = ()
    evidence: str = "simulation"
    param_spec: Any = None
    notes: str = ""
    figure: str | None = None
    extra_meta: Mapping[str, Any] = field(default_factory=dict)
    module: str | None = None  # where the claim was defined (filled in from the caller); reproduce lines import it

    def __post_init__(self):
        if self.module is None:
            import sys

            object.__setattr__(self, "module", sys._getframe(2).f_globals.get("__name__"))
        if _is_spec(self.domain):  # Claim(domain=Domain(...)): keep the declaration, expose its strategy
            object.__setattr__(self, "param_spec", self.domain)
            object.__setattr__(self, "domain", self.domain.strategy())
        if self.param_spec is not None and not _is_spec(self.param_spec):
            raise TypeError(f"param_spec={self.param_spec!r}, must be a claimcheck.domain.Domain or AnyOf")
        if self.simulate is None:
            raise ValueError(f"claim {self.id!r} needs simulate")
        if self.evidence not in EVIDENCE:
            raise ValueError(f"evidence={self.evidence!r}, must be one of {EVIDENCE}")
        if self.param_spec is not None:
            bad = sorted(set(self.default) ^ set(self.param_spec.names()))
            if bad:
                raise ValueError(f"claim {self.id!r}: default parameters and domain differ in {bad}")

    # ----------------------------------------------------------------- domain
    @property
    def rule(self) -> Check:
        """The decision rule (a :class:`~claimcheck.checks.Check`); ``claim.check`` is the same rule, callable."""
        return self.__dict__["_rule"]

    @property
    def kind(self) -> str:
        """The decision rule's kind (``exact``, ``monotone``, ``exact+monotone+band``, ...)."""
        return self.rule.label

    @property
    def alpha(self) -> float:
        return self.rule.alpha

    @property
    def strategy(self):
        """A hypothesis strategy of valid parameter dicts (the whole declared domain; = ``domain``)."""
        return self.domain

    def boundary_points(self) -> list[dict[str, Any]]:
        """The declared domain's edges and corners (see :meth:`claimcheck.domain.Domain.boundary_points`)."""
        spec = self.param_spec
        return spec.boundary_points(dict(self.default)) if spec is not None else []

    def resolve(self, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Default parameters updated by ``params``; unknown names are rejected."""
        params = dict(params or {})
        unknown = sorted(set(params) - set(self.default))
        if unknown:
            raise ValueError(f"unknown parameter(s) {unknown} for claim {self.id!r}; valid: {sorted(self.default)}")
        return {**self.default, **params}

    def validate(self, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """:meth:`resolve`, then the declared domain's checks (TypeError / ValueError naming the
        parameter and its allowed range)."""
        p = self.resolve(params)
        spec = self.param_spec
        return spec.validate(p) if spec is not None else p

    def points(self) -> tuple[dict[str, Any], ...]:
        """The parameter points ``claimcheck verify`` checks (default first)."""
        return (dict(self.default),) + tuple(self.resolve(p) for p in self.verify_points)

    # ----------------------------------------------------------------- mutation
    def mutate(self, predict: Callable[..., Any], suffix: str = "mutant") -> "Claim":
        """The same claim and check with a perturbed predictor (for mutation tests)."""
        return dataclasses.replace(self, id=f"{self.id}[{suffix}]", predict=predict, mutants=())

    def mutant(self, name: str) -> tuple["Claim", dict[str, Any]]:
        """The claim with mutant ``name`` installed, and the point to check it at."""
        for m in self.mutants:
            if m.name == name:
                return self.mutate(m.predict, m.name), self.resolve(m.params)
        raise ValueError(f"mutant={name!r}, must be one of {[m.name for m in self.mutants]}")

    # ----------------------------------------------------------------- checking
    def prediction(self, params: Mapping[str, Any]):
        """What the check compares with at (validated) ``params``; a NaN is an error."""
        if self.expect is not None:
            value = self.expect(self.predict, dict(params))
        elif self.simulate_takes_predict and not self.rule.needs_prediction():
            value = None  # the formula enters through the simulation only
        else:
            value = self.predict(**params)
        if _has_nan(value):
            raise ValueError(f"claim {self.id!r}: the prediction is NaN at {dict(params)} (the formula is undefined there)")
        return value

    def run_simulation(self, params: dict, reps: int, rng: np.random.Generator):
        """``simulate`` with the claim's predictor where the experiment needs it."""
        if self.simulate_takes_predict:
            return self.simulate(params, reps, rng, self.predict)
        return self.simulate(params, reps, rng)

    def run(self, params: Mapping[str, Any] | None = None, budget: str | Budget = "standard", seed: int = 0) -> Verdict:
        """Validate ``params``, simulate, and decide with the claim's check; returns a :class:`Verdict`
        (``claim.check(params, budget, seed)`` is the same call).

        Replicates start at ``reps * budget.scale`` and double while the decision is
        underpowered, at most ``budget.max_doublings`` times (an :class:`Estimate` is pooled
        over fresh, independent streams; structured measurements are re-simulated at twice
        the replicates). The stopping rule looks only at the precision, never at the outcome.
        """
        b = get_budget(budget)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed={seed!r}, must be an integer >= 0")
        seed = int(seed)
        p = self.validate(params)
        prediction = self.prediction(p)
        reps = b.start_reps(self.reps)
        history: list = []
        for round_ in range(b.max_doublings + 1):
            note(f"round {round_ + 1}/{b.max_doublings + 1}: {reps * 2 ** round_} replicates")   # the progress bar
            m = self.rule.measure_rounds(self, p, reps, seed, round_, history)
            d = self.rule.decide(prediction, m, p)
            if d.status is not Status.UNDERPOWERED:
                break
        extra = _info(m)
        if prediction is not None and not isinstance(prediction, (int, float)) or (
                isinstance(prediction, (int, float)) and float(prediction) != d.prediction):
            extra["predicted"] = _plain(prediction)
        from claimcheck.registry import reproduce_call

        v = Verdict(
            claim_id=self.id, status=d.status, prediction=float(d.prediction), estimate=d.estimate, z=float(d.z),
            alpha=self.alpha, seed=seed, params=p, budget=b.name, detail=d.detail, extra=extra,
            kind=self.kind, statistic=d.statistic, call=reproduce_call(self),
        )
        return dataclasses.replace(v, summary=self.rule.summary(v))

    def __repr__(self) -> str:
        return f"Claim({self.id!r}, kind={self.kind!r}, source={self.source!r})"


def _is_spec(x) -> bool:
    from claimcheck.domain import AnyOf, Domain

    return isinstance(x, (Domain, AnyOf))


def _plain(x):
    if callable(x):
        return None
    try:
        return jsonable(x)
    except Exception:  # pragma: no cover
        return None


def _info(m) -> dict:
    """What a measurement reports beside the decision: a Curve's info, a mapping's ``info``."""
    if isinstance(m, Curve):
        return dict(m.info)
    if isinstance(m, Mapping):
        out = {}
        for k, v in m.items():
            if isinstance(v, Curve) and v.info:
                out.update(v.info)
        out.update(m.get("info", {}) or {})
        return out
    return {}
