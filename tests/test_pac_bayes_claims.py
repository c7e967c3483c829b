"""PAC-Bayes claims beyond the generic catalogue tests (tests/test_catalogue.py): the required
mutants (dropping ln k, n instead of 2n - 1, a sign error in the kl inverse) are registered,
user-supplied wrong formulas are rejected, and the simulators behave as documented."""
from __future__ import annotations

import math

import numpy as np
import pytest

import claimcheck
from claimcheck import Status
from claimcheck.catalogue import pac_bayes as cat
from claimcheck.testing import assert_rejects
from sims import pac_bayes as S
from theory import pac_bayes as T

CLAIMS = [c for c in claimcheck.all_claims() if c.id.startswith("pac_bayes.")]
MUTANTS = [(c.id, m.name) for c in CLAIMS for m in c.mutants]


def test_family_is_complete():
    assert {c.id for c in CLAIMS} == {
        "pac_bayes.coverage", "pac_bayes.tuning_coverage", "pac_bayes.kl_bound_ordering", "pac_bayes.tuning_cost",
        "pac_bayes.lml_chain_rule", "pac_bayes.lml_monte_carlo", "pac_bayes.lml_clml_disagree",
    }


def test_required_mutations_are_registered():
    names = {(c, m) for c, m in MUTANTS}
    assert ("pac_bayes.tuning_coverage", "drop_log_k") in names  # dropping ln k
    assert ("pac_bayes.tuning_cost", "denominator_n") in names  # n instead of 2n - 1
    assert ("pac_bayes.kl_bound_ordering", "kl_sign_error") in names  # sign error in the kl inverse


def test_assert_rejects_a_user_supplied_wrong_tuning_cost():
    # the user-facing route: any wrong closed form for the cost is rejected by the same check
    assert_rejects("pac_bayes.tuning_cost", lambda kl, n, delta, k: np.sqrt(np.log(k) / (2 * n - 1)) + 0.0 * np.asarray(kl))


@pytest.mark.parametrize("claim_id", ["pac_bayes.tuning_coverage", "pac_bayes.lml_monte_carlo", "pac_bayes.lml_clml_disagree"])
def test_same_seed_same_verdict_bit_for_bit(claim_id):
    c = claimcheck.get_claim(claim_id)
    params = {"k": 10**4, "bound": "maurer[no_log_k]"} if claim_id == "pac_bayes.tuning_coverage" else None
    a, b = c.check(params, budget="quick", seed=11), c.check(params, budget="quick", seed=11)
    assert a.to_dict() == b.to_dict()
    assert c.check(params, budget="quick", seed=12).estimate != a.estimate


def test_not_charging_log_k_breaks_coverage_more_as_k_grows():
    # exact coverage of the uncharged kl bound decreases in k and falls far below 1 - delta
    cov = [S.tuning_coverage_exact(100, k, 0.05, T.maurer_bound, 1) for k in (1, 10**2, 10**3, 10**4, 10**5)]
    assert all(a > b for a, b in zip(cov, cov[1:]))
    assert cov[0] >= 0.95 and cov[-1] < 0.01
    charged = [S.tuning_coverage_exact(100, k, 0.05, T.maurer_bound) for k in (1, 10**3, 10**5, 10**7)]
    assert min(charged) >= 0.95


def test_unknown_bound_name_is_rejected_with_the_choices():
    with pytest.raises(ValueError, match=r"bound='pinsker', must be one of 'mcallester', 'maurer', 'catoni', 'maurer\[no_log_k\]'"):
        cat.bound_by_name("pinsker")


def test_wrong_kl_inverses_behave_as_described():
    # sign error: the kl is negative beyond q, so the "inverse" is 1; lower root: below q
    assert cat.maurer_kl_sign_error(0.1, 5.0, 1000, 0.05) == 1.0
    lower = cat.maurer_lower_root(np.array([0.3]), 5.0, 1000, 0.05)
    upper = T.maurer_bound(0.3, 5.0, 1000, 0.05)
    c = (5.0 + math.log(2 * math.sqrt(1000) / 0.05)) / 1000
    assert lower[0] < 0.3 < upper
    assert T.kl_bernoulli(0.3, lower[0]) == pytest.approx(c, abs=1e-9)


def test_underpowered_when_budget_too_small():
    import dataclasses

    claim = dataclasses.replace(claimcheck.get_claim("pac_bayes.tuning_coverage"), reps=8)
    assert claim.check(budget="quick", seed=0).status is Status.UNDERPOWERED
