"""Figure deep_bootstrap_dynamics: the plotted lines are the claims' formulas and the simulated
points agree with them (the generic data tests live in tests/test_paper_figures.py)."""
from __future__ import annotations

import numpy as np
import pytest

from claimcheck.catalogue.deep_bootstrap import GD_STEPS, model, real_world_gd, sgd_stability
from claimcheck.paper_figures import deep_bootstrap_dynamics as F
from claimcheck.theory import deep_bootstrap as T

Z_MAX = 4.0
"""Simulated points must lie within Z_MAX standard errors of the plotted theory (seed 0, default reps)."""


@pytest.fixture(scope="module")
def d():
    return F.data(0)


def test_panel_a_lines_are_the_ideal_world_recursion_below_eta_max(d):
    V, b = model(10, 1.0)
    em = float(d["a/eta_max"])
    assert em == pytest.approx(sgd_stability.predict(d=10, exponent=1.0, batch=1), rel=1e-15)
    for f, row in zip(d["a/eta_frac"], d["a/theory"]):
        if f < 1:
            np.testing.assert_allclose(row, T.ideal_world_loss(V, b, F.LINK, 1, f * em, F.A_STEPS), rtol=1e-12)


def test_panel_a_loss_decays_below_and_diverges_above_eta_max(d):
    fr, th = list(d["a/eta_frac"]), d["a/theory"]
    for f, row in zip(fr, th):
        if f < 1:
            assert row[-1] < 1e-2 * row[0]
        elif f > 1:
            assert row[-1] > 1e3 * row[0] and np.all(np.diff(row[10:]) > 0)
    at = th[fr.index(1.0)]  # marginal: neither decays nor grows
    assert 0.5 < at[-1] / at[0] < 2 and abs(at[-1] - at[-2]) < 1e-6 * at[-1]


def test_panel_a_simulation_matches_the_recursion(d):
    fr = list(d["a/eta_frac"])
    assert max(d["a/sim_eta_frac"]) <= 0.5  # the claims' trustworthy range (see the module docstring)
    for k, f in enumerate(d["a/sim_eta_frac"]):
        theory = d["a/theory"][fr.index(f), d["a/sim_t"].astype(int)]
        z = (d["a/sim_mean"][k] - theory) / d["a/sim_se"][k]
        assert np.all(np.abs(z) < Z_MAX), (f, z)


def test_panel_b_rho_crosses_one_at_the_claimed_eta_max(d):
    grid = d["b/eta_frac"]
    for name, p in F.B_MODELS:
        V, _ = model(p["d"], p["exponent"])
        em = float(d[f"b/{name}/eta_max"])
        assert em == sgd_stability.predict(**p)
        assert T.second_moment_spectral_radius(V, p["batch"], em) == pytest.approx(1.0, abs=1e-9)
        rho = d[f"b/{name}/rho"]
        assert np.all(rho[grid < 0.99] < 1) and np.all(rho[grid > 1.01] > 1)
        # the claim's mutants eta_max x 2 / x 0.5 are visibly off the threshold
        assert T.second_moment_spectral_radius(V, p["batch"], 2 * em) > 1.5
    assert float(d["b/default/naive_frac"]) > 2  # 2B/((B+1) lambda_max), the mutant without tr(VM)V


def test_panel_b_perron_direction_is_the_claims_fixed_direction_at_eta_max():
    for _, p in F.B_MODELS:
        V, _ = model(p["d"], p["exponent"])
        em = sgd_stability.predict(**p)
        C, rho = F.perron_direction(V, p["batch"], em)
        Cs = T.stable_second_moment(V, p["batch"], em)
        np.testing.assert_allclose(C, Cs / np.trace(V @ Cs), atol=1e-10)
        for f in (0.3, 1.7):
            assert F.perron_direction(V, p["batch"], f * em)[1] == pytest.approx(
                T.second_moment_spectral_radius(V, p["batch"], f * em), rel=1e-12)


def test_panel_b_one_step_ratio_matches_rho(d):
    for name, p in F.B_MODELS:
        V, _ = model(p["d"], p["exponent"])
        em = float(d[f"b/{name}/eta_max"])
        rho = np.array([T.second_moment_spectral_radius(V, p["batch"], f * em) for f in d["b/sim_eta_frac"]])
        z = (d[f"b/{name}/sim_mean"] - rho) / d[f"b/{name}/sim_se"]
        assert np.all(np.abs(z) < Z_MAX), (name, z)


def test_panel_c_limit_is_the_claims_prediction_and_the_lines_reach_it(d):
    for n, dd in F.C_SETTINGS:
        key = F._key(n, dd)
        lim = float(d[f"{key}/limit"])
        assert lim == real_world_gd.predict(n=n, d=dd, eta_frac=F.C_ETA_FRAC, log_steps=GD_STEPS)
        assert lim == pytest.approx(max(0.0, 1 - n / dd), abs=1e-12)
        assert abs(d[f"{key}/spectral"][-1] - lim) < 1e-3  # converged by t = C_T_MAX
        assert np.all(2 * d[f"{key}/spectral_se"] < 1e-3)  # the reference line is thinner than drawn
        assert d[f"{key}/ideal"][-1] < 1e-3  # the Ideal World does not plateau
    # t = inf is simulated (random) only in the overparametrised setting
    assert np.isinf(d[F._key(20, 50) + "/sim_t"][-1]) and np.all(np.isfinite(d[F._key(40, 10) + "/sim_t"]))


def test_panel_c_direct_gd_matches_the_spectral_formula_and_the_limit(d):
    for n, dd in F.C_SETTINGS:
        key = F._key(n, dd)
        st, m, se = d[f"{key}/sim_t"], d[f"{key}/sim_mean"], d[f"{key}/sim_se"]
        fin = np.isfinite(st)
        idx = np.searchsorted(d["c/t"], st[fin])
        assert np.array_equal(d["c/t"][idx], st[fin])
        ref, rse = d[f"{key}/spectral"][idx], d[f"{key}/spectral_se"][idx]
        big = ref > 1e-3  # late n > d losses are ~1e-15: heavy-tailed and invisible
        z = (m[fin] - ref) / np.hypot(se[fin], rse)
        assert np.all(np.abs(z[big]) < Z_MAX), (key, z)
        if (~fin).any():
            z_inf = (m[~fin] - float(d[f"{key}/limit"])) / se[~fin]
            assert np.all(np.abs(z_inf) < Z_MAX), (key, z_inf)
