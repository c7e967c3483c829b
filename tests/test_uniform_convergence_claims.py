"""Every uniform_convergence claim: passes where the theorem holds (verify points and a
sample of its domain), and its own check rejects every registered mutant."""
import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings

import claimcheck
from claimcheck import Status
from claimcheck.testing import assert_claim, assert_rejects

CLAIMS = [c for c in claimcheck.all_claims() if c.id.startswith("uniform_convergence.")]
POINTS = [(c.id, pt) for c in CLAIMS for pt in c.points()]
MUTANTS = [(c.id, m.name) for c in CLAIMS for m in c.mutants]
# Hypothesis examples per claim (the qualitative grid claims cost most).
EXAMPLES = {"uniform_convergence.vacuous_bound": 2, "uniform_convergence.norm_bound_grows": 2}


def test_family_is_complete():
    assert {c.id for c in CLAIMS} == {
        "uniform_convergence.test_error", "uniform_convergence.sprime_error", "uniform_convergence.train_error",
        "uniform_convergence.weight_norm", "uniform_convergence.vacuous_bound", "uniform_convergence.norm_bound_grows"}


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_claim_is_documented_and_has_mutants(claim):
    assert claim.title and claim.statement and claim.source and claim.figure == "uniform_convergence"
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
    @settings(max_examples=EXAMPLES.get(claim.id, 4), deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(claim.domain)
    def holds(params):
        assert_claim(claim, params, budget="quick")

    holds()


def test_same_seed_same_verdict_bit_for_bit():
    c = claimcheck.get_claim("uniform_convergence.sprime_error")
    a, b = c.check(budget="quick", seed=5), c.check(budget="quick", seed=5)
    assert a.to_dict() == b.to_dict()
    assert c.check(budget="quick", seed=6).estimate != a.estimate


def test_vacuous_claim_reports_bound_near_one_and_gap_near_zero():
    v = claimcheck.get_claim("uniform_convergence.vacuous_bound").check(budget="quick", seed=0)
    assert v.status is Status.PASSED
    ucb, gap = v.extra["uc_lower_bound"], v.extra["generalization_gap"]
    assert ucb[-1] > 0.95 and gap[-1] < 0.01   # the bound is vacuous, the true gap is tiny
    assert all(a > b for a, b in zip(v.extra["test"], v.extra["test"][1:]))


def test_vacuous_claim_fails_where_the_signal_outgrows_the_noise():
    # n ||u||^2 > s^2 at n = 128: the S' error collapses and the claim's S' >= 0.95 part must fail
    c = claimcheck.get_claim("uniform_convergence.vacuous_bound")
    v = c.check({"signal": 4 / 128}, budget="quick", seed=0)
    assert v.status is Status.FAILED and "S' error" in v.detail


def test_underpowered_when_budget_too_small_for_the_stated_precision():
    claim = dataclasses.replace(claimcheck.get_claim("uniform_convergence.test_error"), reps=8, rel_tol=0.001)
    assert claim.check(budget="quick", seed=0).status is Status.UNDERPOWERED
