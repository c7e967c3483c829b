"""Assertions for property-based tests of claims, for this project and its users.

    from hypothesis import given
    from claimcheck import get_claim
    from claimcheck.testing import assert_claim

    claim = get_claim("ridgeless.minnorm_finite")

    @given(claim.domain)
    def test_min_norm_risk(params):
        assert_claim(claim, params)
"""
from __future__ import annotations

import zlib
from typing import Any, Callable, Mapping

from claimcheck.claim import Claim
from claimcheck.registry import get_claim
from claimcheck.verdict import Status, Verdict

__all__ = ["ClaimAssertionError", "assert_claim", "assert_rejects", "params_seed"]


class ClaimAssertionError(AssertionError):
    """A claim check that did not pass; the message holds everything needed to reproduce it."""

    def __init__(self, message: str, verdict: Verdict):
        super().__init__(message)
        self.verdict = verdict


def params_seed(params: Mapping[str, Any]) -> int:
    """A deterministic seed from a parameter dict (same params -> same seed, any process;
    a function-valued parameter counts by its qualified name, not its memory address)."""
    from claimcheck.io import jsonable

    return zlib.crc32(repr(sorted((k, jsonable(v) if callable(v) else v) for k, v in params.items())).encode())


def assert_claim(
    claim: "Claim | str",
    params: Mapping[str, Any] | None = None,
    *,
    budget: str = "quick",
    seed: int | None = None,
    allow_underpowered: bool = False,
) -> Verdict:
    """Check ``claim`` at ``params``; raise :class:`ClaimAssertionError` unless it passes.

    The error message shows the prediction, the estimate with its SE, z, alpha and a line
    of code that reproduces the check (same seed, same bits). ``seed`` defaults to a hash
    of the parameters, so a hypothesis example is reproducible on its own.
    """
    claim = get_claim(claim)
    resolved = claim.resolve(params)
    verdict = claim.check(resolved, budget=budget, seed=params_seed(resolved) if seed is None else seed)
    if verdict.status is Status.FAILED:
        raise ClaimAssertionError(f"claim does not hold\n{verdict}", verdict)
    if verdict.status is Status.UNDERPOWERED and not allow_underpowered:
        raise ClaimAssertionError(f"simulation too imprecise to confirm the claim (raise the budget)\n{verdict}", verdict)
    return verdict


def assert_rejects(
    claim: "Claim | str",
    predict: Callable[..., float] | None,
    params: Mapping[str, Any] | None = None,
    *,
    budget: str = "quick",
    seed: int = 0,
) -> Verdict:
    """Mutation test: the claim's own check must *fail* when ``predict`` replaces the formula.

    ``predict=None`` keeps the claim's formula and checks it at ``params``: for coverage claims,
    whose formula is the nominal level 1 - delta while the bound under test is a parameter
    (e.g. ``assert_rejects("pac_bayes.tuning_coverage", None, {"bound": my_wrong_bound})``).
    """
    claim = get_claim(claim)
    mutated = claim if predict is None else claim.mutate(predict)
    verdict = mutated.check(params, budget=budget, seed=seed)
    if verdict.status is not Status.FAILED:
        raise ClaimAssertionError(f"the check did not reject the mutant predictor\n{verdict}", verdict)
    return verdict
