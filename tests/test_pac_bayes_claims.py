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
from claimcheck.sims import pac_bayes as S
from claimcheck.theory import pac_bayes as T

CLAIMS = [c for c in claimcheck.all_claims() if c.id.startswith("pac_bayes.")]
MUTANTS = [(c.id, m.name) for c in CLAIMS for m in c.mutants]


def test_family_is_complete():
    assert {c.id for c in CLAIMS} == {
        "pac_bayes.coverage", "pac_bayes.tuning_coverage", "pac_bayes.kl_bound_ordering", "pac_bayes.tuning_cost",
        "pac_bayes.lml_chain_rule", "pac_bayes.lml_monte_carlo", "pac_bayes.lml_clml_disagree",
        "pac_bayes.occam_coverage", "pac_bayes.gaussian_posterior_coverage",
    }


def test_required_mutations_are_registered():
    names = {(c, m) for c, m in MUTANTS}
    assert ("pac_bayes.tuning_coverage", "drop_log_k") in names  # dropping ln k
    assert ("pac_bayes.tuning_cost", "denominator_n") in names  # n instead of 2n - 1
    assert ("pac_bayes.kl_bound_ordering", "kl_sign_error") in names  # sign error in the kl inverse


def test_assert_rejects_a_user_supplied_wrong_tuning_cost():
    # the user-facing route: any wrong closed form for the cost is rejected by the same check
    assert_rejects("pac_bayes.tuning_cost", lambda kl, n, delta, k: np.sqrt(np.log(k) / (2 * n - 1)) + 0.0 * np.asarray(kl))


@pytest.mark.parametrize("claim_id", ["pac_bayes.tuning_coverage", "pac_bayes.lml_monte_carlo", "pac_bayes.lml_clml_disagree",
                                      "pac_bayes.occam_coverage", "pac_bayes.gaussian_posterior_coverage"])
def test_same_seed_same_verdict_bit_for_bit(claim_id):
    c = claimcheck.get_claim(claim_id)
    params = {  # points whose coverage is not 1, so that a different seed gives a different estimate
        "pac_bayes.tuning_coverage": {"k": 10**4, "bound": cat.WRONG_BOUNDS["maurer[no_log_k]"]},
        "pac_bayes.occam_coverage": {"bound": "catoni", "groups": 30},
        "pac_bayes.gaussian_posterior_coverage": {**cat._NOISE_POINT, "bound": cat.WRONG_BOUNDS["maurer[no_kl]"]},
    }.get(claim_id)
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


def test_kl_bound_ordering_group_evaluators_equal_the_formulas_batch_by_batch():
    # kl_bound_ordering inverts all its batches at once for its formula and both mutants: the same
    # floats as calling each formula batch by batch (and a user's formula is called batch by batch)
    batches = list(cat._random_inputs(np.random.default_rng(3), 6, 40)) + [(np.array([0.0, 1.0, 0.25]), 0.0, 1, 0.5, 1.0)]
    assert set(cat._ORDERING_GROUPS) == {cat.kl_bound_ordering.predict, *(m.predict for m in cat.kl_bound_ordering.mutants)}
    for fn, groups in cat._ORDERING_GROUPS.items():
        for batch, out in zip(batches, groups(batches), strict=True):
            ref = np.asarray(fn(*batch))
            assert np.asarray(out).shape == ref.shape and np.asarray(out).tobytes() == ref.tobytes(), fn


def test_underpowered_when_budget_too_small():
    import dataclasses

    claim = dataclasses.replace(claimcheck.get_claim("pac_bayes.tuning_coverage"), reps=8)
    assert claim.check(budget="quick", seed=0).status is Status.UNDERPOWERED


def test_occam_bound_is_valid_exactly_and_its_mutants_break_it_more_as_the_class_grows():
    # exact coverage: the Occam bound (charge 1) stays >= 1 - delta however many hypotheses are
    # searched; dropping or quartering the code length falls towards 0 as 2^groups grows
    for fn in T.BOUNDS.values():
        assert min(S.occam_index_exact(100, g, 0.05, fn) for g in (1, 5, 10, 20, 30, 40)) >= 0.95
    dropped = [S.occam_index_exact(100, g, 0.05, T.maurer_bound, charge=0.0) for g in (5, 10, 15, 20)]
    assert all(a > b for a, b in zip(dropped, dropped[1:])) and dropped[-1] < 0.01


def test_unregistered_mutants_only_loosen_the_bound_so_coverage_cannot_reject_them():
    # documented in the claims' notes: bits used as nats (KL = L instead of L ln 2) and n instead of
    # 2n - 1 in McAllester make every bound larger, so coverage can only rise
    q, kl = np.linspace(0, 1, 11), 7.0
    for fn in T.BOUNDS.values():
        assert np.all(np.asarray(fn(q, kl / math.log(2), 100, 0.05)) >= np.asarray(fn(q, kl, 100, 0.05)))
    assert np.all(q + np.sqrt((kl + math.log(100 / 0.05) + 2) / 100) >= T.mcallester_bound(q, kl, 100, 0.05))
    assert S.occam_index_exact(100, 20, 0.05, T.maurer_bound, charge=1 / math.log(2)) >= S.occam_index_exact(100, 20, 0.05, T.maurer_bound)


def test_gaussian_posterior_bound_is_informative_at_the_default_point():
    # the claim is not vacuous: at the default point the kl-inverse bound is far below 1/2 yet covers
    c = claimcheck.get_claim("pac_bayes.gaussian_posterior_coverage")
    p = c.default
    d = S.gaussian_posterior_draws(p["n"], p["d"], p["snr"], p["scale"], p["sigma"], p["sigma0"], 500, np.random.default_rng(0))
    b = np.asarray(T.maurer_bound(d.emp_risk, d.kl, p["n"], p["delta"]))
    assert np.mean(b) < 0.15 and np.mean(d.true_risk <= b) >= 0.95


def test_unknown_learner_is_rejected():
    with pytest.raises(ValueError, match=r"learner='svm', must be one of \['elias_gamma'\].*learner='svm', must be one of \['quantized'\]"):
        claimcheck.get_claim("pac_bayes.occam_coverage").check({"learner": "svm"}, budget="quick")


# ----------------------------------------------------------------------------- your own bound

def _forgot_log_k(emp_risk, kl, n, delta, k=1):
    """kl-inverse bound that never pays for tuning over k priors (a user's wrong bound)."""
    from claimcheck.theory.pac_bayes import maurer_bound

    return maurer_bound(emp_risk, kl, n, delta)


def _looser_maurer(emp_risk, kl, n, delta, k=1):
    """A valid but looser bound: kl-inverse + 0.01, capped at 1."""
    import numpy as np

    from claimcheck.theory.pac_bayes import maurer_bound

    return np.minimum(1.0, maurer_bound(emp_risk, kl, n, delta, k) + 0.01)


def test_a_users_bound_function_is_checked_by_the_coverage_claims():
    from claimcheck.testing import assert_claim, assert_rejects

    bad = assert_rejects("pac_bayes.tuning_coverage", None, {"bound": _forgot_log_k, "k": 10**4})
    assert bad.estimate.mean < 0.5
    good = assert_claim("pac_bayes.tuning_coverage", {"bound": _looser_maurer, "k": 10**4})
    assert good.status is Status.PASSED
    assert_claim("pac_bayes.coverage", {"bound": _looser_maurer})


def test_function_valued_parameters_give_stable_seeds_and_json():
    from claimcheck.io import jsonable
    from claimcheck.testing import params_seed

    p = {"n": 100, "bound": _forgot_log_k}
    assert params_seed(p) == params_seed(dict(p)) == params_seed({"bound": _forgot_log_k, "n": 100})
    assert params_seed(p) != params_seed({**p, "bound": _looser_maurer})
    assert jsonable(p)["bound"].endswith("test_pac_bayes_claims._forgot_log_k")
