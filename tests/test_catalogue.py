"""Every registered claim, whatever its family: documented, passes at its verify points and
over (a sample of) its hypothesis domain, and its own check rejects every registered mutant.

A new claim is covered here the moment its catalogue module registers it; family test files
hold only what is specific to a family.
"""
import pytest
from hypothesis import HealthCheck, given, settings

import claimcheck
from claimcheck import paper_figures
from claimcheck import Status
from claimcheck.testing import assert_claim

CLAIMS = claimcheck.all_claims()

# Hypothesis examples per claim in the domain sweep: a family default, fewer for costly claims.
FAMILY_EXAMPLES = {"ridgeless": 20, "deep_bootstrap": 8, "pac_bayes": 6, "distributional": 6, "uniform_convergence": 4}
EXAMPLES = {
    "ridgeless.anisotropic": 5, "ridgeless.optimal_lambda": 6,
    "deep_bootstrap.real_world_gd": 4, "deep_bootstrap.early_agreement": 4,
    "deep_bootstrap.ideal_world_recursion": 5, "deep_bootstrap.sgd_stability": 5,
    "pac_bayes.lml_clml_disagree": 2, "pac_bayes.lml_monte_carlo": 4, "pac_bayes.lml_chain_rule": 3,
    "pac_bayes.kl_bound_ordering": 2, "pac_bayes.tuning_cost": 2,
    "distributional.feature_calibration": 2, "distributional.regularised_contrast": 2,
    "distributional.nn_calibration_real": 2, "distributional.nn_dg_gap": 3,
    "uniform_convergence.vacuous_bound": 2, "uniform_convergence.norm_bound_grows": 2,
}
# Claims whose default point and domain are exercised by their family's own tests instead.
OWN_TESTS = {"deep_bootstrap.figure7": "2 x 1000 SGD steps per example; see tests/test_deep_bootstrap_claims.py"}

POINTS = [(c.id, pt) for c in CLAIMS if c.id not in OWN_TESTS for pt in c.points()]
MUTANTS = [(c.id, m.name) for c in CLAIMS for m in c.mutants]


def _family(claim_id: str) -> str:
    return claim_id.split(".", 1)[0]


def test_every_family_is_registered():
    assert {_family(c.id) for c in CLAIMS} == set(FAMILY_EXAMPLES)


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_claim_is_documented_and_has_mutants(claim):
    assert claim.title and claim.statement and claim.source
    assert len(claim.mutants) >= 1, "every claim needs at least one mutation test"
    assert claim.figure in paper_figures.FIGURES, f"{claim.id} names no known figure (figure={claim.figure!r})"
    assert claim.id in paper_figures.FIGURES[claim.figure].CLAIMS, f"{claim.figure} does not list {claim.id}"


def test_every_family_has_a_figure():
    illustrated = {_family(c) for name in paper_figures.FIGURES for c in paper_figures.FIGURES[name].CLAIMS}
    assert illustrated == set(FAMILY_EXAMPLES)


@pytest.mark.parametrize("claim_id, params", POINTS, ids=[f"{i}-{k}" for k, (i, _) in enumerate(POINTS)])
def test_claim_passes_at_its_verify_points(claim_id, params):
    assert_claim(claim_id, params, budget="quick", seed=0)


@pytest.mark.parametrize("claim_id, mutant", MUTANTS, ids=[f"{c}:{m}" for c, m in MUTANTS])
def test_check_rejects_mutant(claim_id, mutant):
    mutated, point = claimcheck.get_claim(claim_id).mutant(mutant)
    verdict = mutated.check(point, budget="quick", seed=0)
    assert verdict.status is Status.FAILED, f"mutant survived:\n{verdict}"


@pytest.mark.parametrize("claim", [c for c in CLAIMS if c.id not in OWN_TESTS], ids=lambda c: c.id)
def test_claim_holds_over_its_domain(claim):
    examples = EXAMPLES.get(claim.id, FAMILY_EXAMPLES[_family(claim.id)])

    @settings(max_examples=examples, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(claim.domain)
    def holds(params):
        assert_claim(claim, params, budget="quick")

    holds()
