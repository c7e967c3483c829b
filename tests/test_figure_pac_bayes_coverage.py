"""Figure-specific checks of ``pac_bayes_coverage``: the points are the claims' own simulations,
the exact Occam lines agree with the Monte Carlo points within 4 SE, and the plotted
frequencies give the claims' verdicts (mutants rejected, theorem points not) where
``claimcheck verify`` checks them."""
from __future__ import annotations

import numpy as np
import pytest

from claimcheck import stats
from claimcheck.catalogue.pac_bayes import bound_by_name, gaussian_posterior_coverage, occam_coverage, occam_formula
from claimcheck.verdict import Status
from claimcheck.paper_figures import pac_bayes_coverage as F
from claimcheck.sims import pac_bayes as S

Z = 4.0


@pytest.fixture(scope="module")
def d():
    return F.data(0)


def _rng(k):
    return np.random.default_rng(np.random.SeedSequence([1234, k]))


@pytest.mark.parametrize("charge,groups", [(1.0, 20), (0.0, 11), (0.25, 30)])
def test_occam_points_are_the_claims_simulation_bit_for_bit(charge, groups):
    p = F.occam_params(charge, groups)
    mine = F.occam_point(p, 300, _rng(0), F._memoised(bound_by_name(p["bound"])))
    point = occam_coverage.resolve({k: v for k, v in p.items() if k != "charge"})
    claim = occam_coverage.simulate(point, 300, _rng(0), lambda bound: occam_formula(bound, charge))
    assert mine.mean() == claim.mean and mine.size == claim.n


def test_gaussian_points_are_the_claims_simulation_bit_for_bit():
    holds = F.gaussian_point(F.gauss_params("maurer", 0.1), F.GAUSS_CURVES, 200, _rng(1))
    for b in F.GAUSS_CURVES:
        est = gaussian_posterior_coverage.simulate(gaussian_posterior_coverage.resolve(F.gauss_params(b, 0.1)), 200, _rng(1),
                                                   bound_by_name)
        assert holds[b].mean() == est.mean, b


def test_exact_lines_are_sims_exact_coverage_without_the_cache(d):
    fn = bound_by_name(F.OCCAM_BASE["bound"])
    n, delta = F.OCCAM_BASE["n"], F.OCCAM_BASE["delta"]
    for c, charge in enumerate(F.OCCAM_CHARGES):
        for g in (3, 12):
            assert d["a/exact"][c, g - 1] == S.occam_index_exact(n, g, delta, fn, charge)
    assert np.all(d["a/exact"][0] >= d["a/level"])  # the theorem's coverage is above 1 - delta
    assert d["a/exact"][2, -1] < 1e-6 and d["a/exact"][1, -1] < 1e-3  # both mutants collapse by G = 30


def test_occam_points_agree_with_the_exact_coverage_within_4_se(d):
    exact = d["a/exact"][:, np.searchsorted(d["a/g_line"], d["a/g_sim"])]
    z = (d["a/sim_mean"] - exact) / d["a/sim_se"]
    assert np.all(np.abs(z) <= Z), z


def test_level_is_the_claims_prediction(d):
    assert float(d["a/level"]) == pytest.approx(1 - F.OCCAM_BASE["delta"])
    assert float(d["b/level"]) == pytest.approx(1 - F.GAUSS_BASE["delta"])


def test_checked_points_are_where_verify_checks(d):
    g20, g30 = list(F.G_SIM).index(20), list(F.G_SIM).index(30)
    expected_a = np.zeros_like(d["a/checked"])
    expected_a[0, g20] = expected_a[2, g20] = expected_a[1, g30] = True  # default, drop_code_length, quartered
    np.testing.assert_array_equal(d["a/checked"], expected_a)
    s = list(F.SIGMAS).index(0.1)
    expected_b = np.zeros_like(d["b/checked"])
    expected_b[1:, s] = True  # catoni verify point, drop_kl, drop_kl_catoni
    np.testing.assert_array_equal(d["b/checked"], expected_b)


@pytest.mark.parametrize("panel,curves", [("a", F.OCCAM_CHARGES), ("b", F.GAUSS_CURVES)])
def test_plotted_frequencies_give_the_claims_verdicts(d, panel, curves):
    """At the checked points the claims' exact binomial test on the plotted frequencies rejects
    the mutants and passes the theorem; the theorem's points are never rejected anywhere."""
    draws, level = int(d["draws"]), float(d[f"{panel}/level"])
    for c, curve in enumerate(curves):
        valid = curve == 1.0 if panel == "a" else "[" not in curve
        for j, mean in enumerate(d[f"{panel}/sim_mean"][c]):
            status = stats.coverage_test(round(mean * draws), draws, level).status
            if valid:
                assert status is not Status.FAILED, (curve, j, mean)
            elif d[f"{panel}/checked"][c, j]:
                assert status is Status.FAILED, (curve, j, mean)


def test_dropping_the_kl_breaks_coverage_only_at_small_sigma(d):
    mean = d["b/sim_mean"]
    kl = d["b/kl"]
    assert np.all(np.diff(kl) < 0)  # KL(Q||P) shrinks as sigma -> sigma0
    for c in (2, 3):  # maurer[no_kl], catoni[no_kl]
        assert mean[c, 0] < 0.5 and mean[c, -1] >= float(d["b/level"])
