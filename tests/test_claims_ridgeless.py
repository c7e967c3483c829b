"""Every ridgeless claim: passes where the theorem holds, over its whole domain, and its
check rejects every registered mutant (a check that cannot fail is a defect)."""
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import claimcheck
from claimcheck import Status
from claimcheck.testing import assert_claim, assert_rejects

CLAIMS = [c for c in claimcheck.all_claims() if c.id.startswith("ridgeless.")]
POINTS = [(c.id, pt) for c in CLAIMS for pt in c.points()]
MUTANTS = [(c.id, m.name) for c in CLAIMS for m in c.mutants]
# Hypothesis examples per claim: the cheap claims get more.
EXAMPLES = {"ridgeless.anisotropic": 5, "ridgeless.optimal_lambda": 6}


def test_family_is_complete():
    ids = {c.id for c in CLAIMS}
    assert {"ridgeless.minnorm_finite", "ridgeless.minnorm_asymptotic", "ridgeless.ridge_asymptotic",
            "ridgeless.optimal_lambda", "ridgeless.optimal_ridge_monotone",
            "ridgeless.samplewise_nonmonotone", "ridgeless.anisotropic"} <= ids


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_claim_is_documented_and_has_mutants(claim):
    assert claim.title and claim.statement and claim.source
    assert len(claim.mutants) >= 1, "every claim needs at least one mutation test"


@pytest.mark.parametrize("claim_id, params", POINTS, ids=[f"{i}-{k}" for k, (i, _) in enumerate(POINTS)])
def test_claim_passes_at_its_verify_points(claim_id, params):
    assert_claim(claim_id, params, budget="quick", seed=0)


@pytest.mark.parametrize("claim_id, mutant", MUTANTS, ids=[f"{c}:{m}" for c, m in MUTANTS])
def test_check_rejects_mutant(claim_id, mutant):
    claim = claimcheck.get_claim(claim_id)
    wrong = next(m for m in claim.mutants if m.name == mutant)
    assert_rejects(claim, wrong.predict, wrong.params, budget="quick", seed=0)


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_claim_holds_over_its_domain(claim):
    @settings(max_examples=EXAMPLES.get(claim.id, 20), deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(claim.domain)
    def holds(params):
        assert_claim(claim, params, budget="quick")

    holds()


@pytest.mark.parametrize("claim_id", ["ridgeless.minnorm_finite", "ridgeless.ridge_asymptotic", "ridgeless.samplewise_nonmonotone"])
def test_same_seed_same_verdict_bit_for_bit(claim_id):
    c = claimcheck.get_claim(claim_id)
    a, b = c.check(budget="quick", seed=11), c.check(budget="quick", seed=11)
    assert a.to_dict() == b.to_dict()
    assert c.check(budget="quick", seed=12).estimate != a.estimate


def test_domain_respects_the_finite_variance_region():
    claim = claimcheck.get_claim("ridgeless.minnorm_finite")

    @settings(max_examples=200, deadline=None, derandomize=True)
    @given(claim.domain)
    def inside(params):
        assert abs(params["n"] - params["p"]) >= 4

    inside()


def test_underpowered_when_budget_too_small_for_the_stated_precision():
    import dataclasses

    claim = dataclasses.replace(claimcheck.get_claim("ridgeless.minnorm_finite"), reps=8, rel_tol=0.001)
    assert claim.check({"n": 20, "p": 10}, budget="quick", seed=0).status is Status.UNDERPOWERED
