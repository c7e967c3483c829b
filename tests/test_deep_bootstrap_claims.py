"""Deep-Bootstrap claims beyond the generic catalogue tests (tests/test_catalogue.py): family
completeness, the Figure-7 claim (its CI and its failure mode) and determinism."""
import pytest

import claimcheck
from claimcheck import Status

CLAIMS = [c for c in claimcheck.all_claims() if c.id.startswith("deep_bootstrap.")]
MUTANTS = [(c.id, m.name) for c in CLAIMS for m in c.mutants]


def test_family_is_complete():
    assert {c.id for c in CLAIMS} == {
        "deep_bootstrap.sign_best_linear_risk", "deep_bootstrap.ideal_world_recursion",
        "deep_bootstrap.sgd_stability", "deep_bootstrap.real_world_gd",
        "deep_bootstrap.early_agreement", "deep_bootstrap.figure7"}


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
