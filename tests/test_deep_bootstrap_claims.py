"""Every deep_bootstrap claim: passes at its verify points and over (a sample of) its domain,
and its own check rejects every registered mutant (a check that cannot fail is a defect)."""
import pytest
from hypothesis import HealthCheck, given, settings

import claimcheck
from claimcheck import Status
from claimcheck.testing import assert_claim, assert_rejects

CLAIMS = [c for c in claimcheck.all_claims() if c.id.startswith("deep_bootstrap.")]
# figure7's default point is checked (with its CI) by test_figure7_reports_the_ratio_with_a_confidence_interval.
POINTS = [(c.id, pt) for c in CLAIMS for pt in c.points() if c.id != "deep_bootstrap.figure7"]
MUTANTS = [(c.id, m.name) for c in CLAIMS for m in c.mutants]
# Hypothesis examples per claim (the Figure-7 claim runs 2 x 1000 SGD steps per example).
EXAMPLES = {"deep_bootstrap.real_world_gd": 4, "deep_bootstrap.early_agreement": 4,
            "deep_bootstrap.ideal_world_recursion": 5, "deep_bootstrap.sgd_stability": 5}


def test_family_is_complete():
    assert {c.id for c in CLAIMS} == {
        "deep_bootstrap.sign_best_linear_risk", "deep_bootstrap.ideal_world_recursion",
        "deep_bootstrap.sgd_stability", "deep_bootstrap.real_world_gd",
        "deep_bootstrap.early_agreement", "deep_bootstrap.figure7"}


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
    mutated, point = claim.mutant(mutant)
    assert mutated.check(point, budget="quick", seed=0).status is Status.FAILED


@pytest.mark.parametrize("claim", [c for c in CLAIMS if c.id != "deep_bootstrap.figure7"], ids=lambda c: c.id)
def test_claim_holds_over_its_domain(claim):
    @settings(max_examples=EXAMPLES.get(claim.id, 8), deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(claim.domain)
    def holds(params):
        assert_claim(claim, params, budget="quick")

    holds()


def test_figure7_reports_the_ratio_with_a_confidence_interval():
    v = claimcheck.get_claim("deep_bootstrap.figure7").check(budget="quick", seed=0)
    assert v.status is Status.PASSED
    lo, hi = v.extra["ratio_ci95"]
    # the two thresholds imply E_A / E_B > 1 / 0.2 = 5; the bootstrap CI must resolve that
    assert 5 < lo < hi and v.extra["ratio"] > 5
    assert v.extra["E_A"] > 1.0 > 0.2 > v.extra["E_B"]


def test_figure7_fails_when_setting_b_has_few_samples():
    # With n = 20 in Setting B too, the sign link overfits: the bootstrap error is no longer small.
    v = claimcheck.get_claim("deep_bootstrap.figure7").check({"n_b": 20}, budget="quick", seed=0)
    assert v.status is Status.FAILED


@pytest.mark.parametrize("claim_id", ["deep_bootstrap.ideal_world_recursion", "deep_bootstrap.early_agreement"])
def test_same_seed_same_verdict_bit_for_bit(claim_id):
    c = claimcheck.get_claim(claim_id)
    a, b = c.check(budget="quick", seed=11), c.check(budget="quick", seed=11)
    assert a.to_dict() == b.to_dict()
    assert c.check(budget="quick", seed=12).estimate != a.estimate
