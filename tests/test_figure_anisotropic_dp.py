"""Figure-specific checks of ``ridgeless_anisotropic`` and ``dp_generalization``: the plotted
lines are the claims' predictions, the Monte Carlo points agree with them within 4 SE at the
default reps, and the figures separate the claims from their mutants."""
from __future__ import annotations

import numpy as np
import pytest

from claimcheck.paper_figures import dp_generalization as DP
from claimcheck.paper_figures import ridgeless_anisotropic as RA

Z = 4.0


@pytest.fixture(scope="module")
def aniso():
    return RA.data(0)


@pytest.fixture(scope="module")
def dp():
    return DP.data(0)


@pytest.mark.parametrize("lam", RA.LAMBDAS)
def test_anisotropic_theory_at_the_simulated_points_is_the_claims_prediction(aniso, lam):
    pred = [RA.CLAIM.predict(n0=RA.N, p0=int(p), levels=RA.LEVELS, lam=lam, signal=RA.SIGNAL, noise=RA.NOISE) for p in RA.SIM_P]
    np.testing.assert_allclose(aniso[f"aniso_at_sim/lam={lam:g}"], pred, rtol=1e-12)
    # the line, read at the simulated gammas, is the same function (it depends on gamma only)
    line = np.interp(aniso["sim_gamma"], aniso["gamma"], aniso[f"aniso/lam={lam:g}"])
    np.testing.assert_allclose(line, pred, rtol=5e-3)


@pytest.mark.parametrize("lam", RA.LAMBDAS)
def test_anisotropic_extrapolated_points_agree_with_the_fixed_point_within_4_se(aniso, lam):
    mean, se = aniso[f"sim_mean/lam={lam:g}"], aniso[f"sim_se/lam={lam:g}"]
    z = (mean - aniso[f"aniso_at_sim/lam={lam:g}"]) / se
    assert np.all(np.abs(z) <= Z), z
    np.testing.assert_allclose(mean, 2 * aniso[f"sim_mean_2n/lam={lam:g}"] - aniso[f"sim_mean_n/lam={lam:g}"])


@pytest.mark.parametrize("lam", RA.LAMBDAS)
def test_anisotropic_points_reject_the_isotropic_formula(aniso, lam):
    """The claim's mutant (the isotropic formula at the same gamma, lam) is visibly off: at
    most simulated gammas the two formulas differ by more than 8 SE, and there every point
    is more than 4 SE from the isotropic one."""
    se = aniso[f"sim_se/lam={lam:g}"]
    apart = np.abs(aniso[f"aniso_at_sim/lam={lam:g}"] - aniso[f"iso_at_sim/lam={lam:g}"]) > 2 * Z * se
    assert apart.sum() >= 0.6 * apart.size, apart
    z = (aniso[f"sim_mean/lam={lam:g}"] - aniso[f"iso_at_sim/lam={lam:g}"]) / se
    assert np.all(np.abs(z[apart]) > Z), z


@pytest.mark.parametrize("name", list(DP.SETTINGS))
def test_dp_bound_line_is_the_claims_prediction(dp, name):
    s = DP.SETTINGS[name]
    pred = [DP.CLAIM.predict(**s, epsilon=float(e)) for e in DP.SIM_EPS]
    np.testing.assert_allclose(dp[f"bound_at_sim/{name}"], pred, rtol=1e-12)
    np.testing.assert_allclose(dp[f"bound/{name}"], np.exp(dp["eps"]) * dp[f"test/{name}"], rtol=1e-12)


@pytest.mark.parametrize("name", list(DP.SETTINGS))
def test_dp_simulated_train_agreement_matches_theory_and_lies_below_the_bound(dp, name):
    mean, se = dp[f"a/sim_mean/{name}"], dp[f"a/sim_se/{name}"]
    assert np.all(np.abs(mean - dp[f"train_at_sim/{name}"]) <= Z * se)
    assert np.all(mean - Z * se <= dp[f"bound_at_sim/{name}"])
    assert np.all(dp[f"train/{name}"] <= dp[f"bound/{name}"] + 1e-12)
    z_log = (dp[f"b/sim_mean/{name}"] - np.log(dp[f"train_at_sim/{name}"] / dp[f"test_at_sim/{name}"])) / dp[f"b/sim_se/{name}"]
    assert np.all(np.abs(z_log) <= Z)
    assert np.all(dp[f"b/sim_mean/{name}"] - Z * dp[f"b/sim_se/{name}"] <= dp["sim_eps"])


def test_dp_memorising_setting_needs_the_privacy_factor(dp):
    """Without e^eps (the mutant ``no_privacy_factor``) the bound is the test agreement, which
    the memorising learner's train agreement exceeds by far more than 4 SE for eps >= 0.25."""
    big = DP.SIM_EPS >= 0.25
    z = (dp["a/sim_mean/memorising"] - dp["test_at_sim/memorising"]) / dp["a/sim_se/memorising"]
    assert np.all(z[big] > Z), z
