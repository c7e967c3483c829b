"""Properties of the ridge / ridgeless closed forms in :mod:`theory.ridgeless`.

Each test is named after the property it asserts. Exact identities are compared at
floating-point tolerances; the one Monte Carlo comparison (anisotropic deterministic
equivalent) uses a seeded generator and a tolerance of 5 standard errors plus a stated
O(1/n) allowance for the finite-size error of the deterministic equivalent.

Domain of the hypothesis strategies: gamma in [1e-6, 1e6]; lam in [0, 1e6] (subnormals
included); signal and noise 0 or in [1e-6, 1e6]. Edge examples go to 1e12. Outside the
domain: gamma or lam beyond ~1e150 (intermediate squares overflow) and signal-to-noise
ratios beyond ~1e300 (lambda* = sigma^2 gamma / r^2 over- or underflows).
"""
from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from scipy import integrate, optimize

from claimcheck.theory import ridgeless as rl

# ---------------------------------------------------------------------------------------
# Parameter domains (one place; the strategies below are built from these constants).
GAMMA_MIN, GAMMA_MAX = 1e-6, 1e6
LAM_MAX = 1e6
SCALE_MAX = 1e6  # signal r^2 and noise sigma^2
N_MAX = 10**9

gammas = st.one_of(st.just(1.0), st.floats(GAMMA_MIN, GAMMA_MAX))
lams = st.floats(0.0, LAM_MAX)
# m'(-lam) ~ lam^{-2} (gamma > 1) genuinely exceeds the float range below lam ~ 1e-154
mp_lams = st.one_of(st.just(0.0), st.floats(1e-100, LAM_MAX))
scales = st.one_of(st.just(0.0), st.floats(1e-6, SCALE_MAX))
positive_scales = st.floats(1e-6, SCALE_MAX)
ints = st.integers(1, N_MAX)


def _nonsingular_gammas(margin: float = 0.1):
    """gamma in [1e-3, 1e3] with |gamma - 1| >= margin (away from the interpolation peak)."""
    return st.one_of(st.floats(1e-3, 1.0 - margin), st.floats(1.0 + margin, 1e3))


# ---------------------------------------------------------------------------------------
# Bad input: every public function names the parameter, its value and the allowed range.

GOOD = {
    "n": 50,
    "p": 20,
    "signal": 1.0,
    "noise": 1.0,
    "gamma": 0.5,
    "lam": 0.1,
    "z": -0.1,
    "spectrum": [1.0, 2.0, 3.0],
    "alpha": 1.0,
    "n_values": [10, 30],
}
SIGNATURES = {
    rl.min_norm_risk_finite: ("n", "p", "signal", "noise"),
    rl.min_norm_risk_asymptotic: ("gamma", "signal", "noise"),
    rl.samplewise_risk: ("n_values", "p", "signal", "noise"),
    rl.mp_stieltjes: ("z", "gamma"),
    rl.mp_stieltjes_derivative: ("z", "gamma"),
    rl.ridge_risk_asymptotic: ("gamma", "lam", "signal", "noise"),
    rl.optimal_ridge_lambda: ("gamma", "signal", "noise"),
    rl.optimal_ridge_risk_asymptotic: ("gamma", "signal", "noise"),
    rl.effective_regularization: ("n", "spectrum", "lam"),
    rl.ridge_risk_anisotropic: ("n", "spectrum", "lam", "signal", "noise"),
    rl.powerlaw_spectrum: ("p", "alpha"),
}
NAN, INF = float("nan"), float("inf")
# (bad value, exception, exact message prefix)
_INT_BAD = lambda name: [  # noqa: E731
    (0, ValueError, f"{name}=0, must be >= 1"),
    (-3, ValueError, f"{name}=-3, must be >= 1"),
    (2.5, TypeError, f"{name}=2.5, must be an integer"),
    ("7", TypeError, f"{name}='7', must be an integer"),
]
_NONNEG_BAD = lambda name: [  # noqa: E731
    (-1.0, ValueError, f"{name}=-1.0, must be >= 0"),
    (NAN, ValueError, f"{name}=nan, must be a real number >= 0"),
    (INF, ValueError, f"{name}=inf, must be finite"),
]
BAD = {
    "n": _INT_BAD("n"),
    "p": _INT_BAD("p"),
    "signal": _NONNEG_BAD("signal"),
    "noise": _NONNEG_BAD("noise"),
    "lam": _NONNEG_BAD("lam"),
    "alpha": _NONNEG_BAD("alpha"),
    "gamma": [
        (0.0, ValueError, "gamma=0.0, must be > 0"),
        (-0.5, ValueError, "gamma=-0.5, must be > 0"),
        (NAN, ValueError, "gamma=nan, must be a real number > 0"),
        (INF, ValueError, "gamma=inf, must be finite"),
        ([0.5, -2.0], ValueError, "gamma=-2.0, must be > 0"),  # first offending entry of an array
    ],
    "z": [
        (0.5, ValueError, "z=0.5, must be <= 0"),
        (NAN, ValueError, "z=nan, must be a real number <= 0"),
        (-INF, ValueError, "z=-inf, must be finite"),
    ],
    "spectrum": [
        ([1.0, -1.0], ValueError, "spectrum=-1.0, must be > 0"),  # not PSD
        ([1.0, 0.0], ValueError, "spectrum=0.0, must be > 0"),  # singular Sigma
        ([1.0, NAN], ValueError, "spectrum=nan, must be a real number > 0"),
        ([], ValueError, r"spectrum has shape (0,), must be a 1-d array with >= 1 entries"),
        ([[1.0, 2.0]], ValueError, r"spectrum has shape (1, 2), must be a 1-d array with >= 1 entries"),
    ],
    "n_values": [
        ([10, 0], ValueError, "n_values has an entry 0, must have every entry >= 1"),
        ([10, 2.5], TypeError, "n_values has an entry 2.5, must hold integers only"),
    ],
}
BAD_CASES = [
    pytest.param(f, name, value, exc, msg, id=f"{f.__name__}-{name}={value!r}")
    for f, names in SIGNATURES.items()
    for name in names
    for value, exc, msg in BAD[name]
]


@pytest.mark.parametrize("func,name,value,exc,msg", BAD_CASES)
def test_bad_input_raises_naming_parameter_value_and_range(func, name, value, exc, msg):
    kwargs = {k: GOOD[k] for k in SIGNATURES[func]}
    func(**kwargs)  # the good point itself is accepted
    kwargs[name] = value
    with pytest.raises(exc, match="^" + re.escape(msg)):
        func(**kwargs)


def test_bad_beta_sq_raises_naming_parameter():
    with pytest.raises(ValueError, match=re.escape("beta_sq=-1.0, must be >= 0")):
        rl.ridge_risk_anisotropic(10, [1.0, 2.0], 0.1, 1.0, 1.0, beta_sq=[1.0, -1.0])
    with pytest.raises(ValueError, match=re.escape("beta_sq has shape (3,), must match spectrum shape (2,)")):
        rl.ridge_risk_anisotropic(10, [1.0, 2.0], 0.1, 1.0, 1.0, beta_sq=[1.0, 1.0, 1.0])


# ---------------------------------------------------------------------------------------
# Singular points: inf exactly where the theorem says, never NaN.


@given(n=st.integers(2, N_MAX), offset=st.sampled_from([-1, 0, 1]), signal=scales, noise=positive_scales)
@example(n=2, offset=-1, signal=0.0, noise=1e-6)
@example(n=N_MAX, offset=1, signal=SCALE_MAX, noise=SCALE_MAX)
def test_min_norm_risk_finite_is_infinite_within_one_of_interpolation_threshold(n, offset, signal, noise):
    assert rl.min_norm_risk_finite(n, n + offset, signal, noise) == math.inf


@given(n=st.integers(2, N_MAX), offset=st.sampled_from([-1, 0, 1]), signal=scales)
@example(n=2, offset=-1, signal=1.0)
def test_min_norm_risk_finite_without_noise_is_the_finite_bias(n, offset, signal):
    p = n + offset
    risk = rl.min_norm_risk_finite(n, p, signal, 0.0)
    assert math.isfinite(risk)
    assert risk == pytest.approx(signal * max(0.0, 1.0 - n / p), rel=1e-15, abs=0.0)


@given(n=ints, p=ints, signal=scales, noise=scales)
@example(n=1, p=1, signal=0.0, noise=0.0)
@example(n=1, p=2, signal=1.0, noise=1.0)
@example(n=3, p=1, signal=1.0, noise=1.0)
@example(n=10**12, p=10**12 + 2, signal=1e12, noise=1e12)
def test_min_norm_risk_finite_is_never_nan_and_nonnegative(n, p, signal, noise):
    risk = rl.min_norm_risk_finite(n, p, signal, noise)
    assert not math.isnan(risk)
    assert risk >= 0.0
    if abs(n - p) >= 2 or noise == 0.0:
        assert math.isfinite(risk)


@given(signal=scales, noise=positive_scales)
@example(signal=0.0, noise=1e-6)
def test_min_norm_risk_asymptotic_is_infinite_at_gamma_one_with_noise(signal, noise):
    assert rl.min_norm_risk_asymptotic(1.0, signal, noise) == math.inf
    # and only there: just off the peak the risk is large but finite
    for g in (1.0 - 1e-9, 1.0 + 1e-9):
        assert 1e8 * noise < rl.min_norm_risk_asymptotic(g, signal, noise) < math.inf


@given(gamma=gammas, signal=scales, noise=scales)
@example(gamma=1.0, signal=1.0, noise=0.0)
@example(gamma=GAMMA_MIN, signal=0.0, noise=SCALE_MAX)
@example(gamma=5e-324, signal=1.0, noise=1.0)  # subnormal: 1/gamma overflows internally
@example(gamma=1e12, signal=1e12, noise=1e12)
def test_asymptotic_formulas_are_never_nan(gamma, signal, noise):
    mn = rl.min_norm_risk_asymptotic(gamma, signal, noise)
    opt = rl.optimal_ridge_risk_asymptotic(gamma, signal, noise)
    assert not math.isnan(mn) and mn >= 0.0
    assert not math.isnan(opt) and opt >= 0.0
    assert math.isfinite(opt)  # optimal ridge has no interpolation peak
    if noise == 0.0 or gamma != 1.0:
        assert math.isfinite(mn)


@given(gamma=gammas, lam=lams, signal=scales, noise=scales)
@example(gamma=1.0, lam=0.0, signal=1.0, noise=1.0)
@example(gamma=1.0, lam=5e-324, signal=1.0, noise=1.0)  # variance ~ sigma^2 / (2 sqrt(lam))
@example(gamma=2.0, lam=1e-200, signal=1.0, noise=1.0)  # m and lam m' carry the atom's 1/lam
@example(gamma=1e12, lam=1e12, signal=1e12, noise=1e12)
@example(gamma=GAMMA_MIN, lam=LAM_MAX, signal=0.0, noise=0.0)
def test_ridge_risk_asymptotic_is_never_nan(gamma, lam, signal, noise):
    risk = rl.ridge_risk_asymptotic(gamma, lam, signal, noise)
    assert not math.isnan(risk) and risk >= 0.0
    if lam > 0.0 or gamma != 1.0 or noise == 0.0:
        assert math.isfinite(risk)


@given(gamma=gammas, lam=mp_lams)
@example(gamma=1.0, lam=0.0)
@example(gamma=1.0, lam=1e-100)
@example(gamma=1e12, lam=1e12)
def test_mp_stieltjes_and_derivative_are_never_nan_and_positive(gamma, lam):
    m = rl.mp_stieltjes(-lam, gamma)
    dm = rl.mp_stieltjes_derivative(-lam, gamma)
    assert not (math.isnan(m) or math.isnan(dm))
    assert m > 0.0 and dm > 0.0
    if lam > 0.0 or gamma < 1.0:
        assert math.isfinite(m) and math.isfinite(dm)


@pytest.mark.parametrize("gamma", [1.0, 1.5, 4.0])
@pytest.mark.parametrize("z", [0.0, -0.0])
def test_mp_stieltjes_at_zero_is_plus_infinity_when_gamma_at_least_one(gamma, z):
    # gamma > 1: atom of mass 1 - 1/gamma at s = 0; gamma = 1: density ~ s^{-1/2} at 0.
    assert rl.mp_stieltjes(z, gamma) == math.inf
    assert rl.mp_stieltjes_derivative(z, gamma) == math.inf


@given(gamma=st.floats(GAMMA_MIN, 1.0, exclude_max=True))
@example(gamma=0.5)
@example(gamma=1.0 - 1e-12)
def test_mp_stieltjes_at_zero_is_inverse_moments_when_gamma_below_one(gamma):
    # E[1/s] = 1/(1-gamma) and E[1/s^2] = 1/(1-gamma)^3 for the MP law with ratio gamma < 1.
    assert rl.mp_stieltjes(0.0, gamma) == pytest.approx(1.0 / (1.0 - gamma), rel=1e-12)
    assert rl.mp_stieltjes_derivative(0.0, gamma) == pytest.approx((1.0 - gamma) ** -3, rel=1e-10)


# ---------------------------------------------------------------------------------------
# Finite n -> asymptotics.


@given(
    num=st.integers(1, 60),
    den=st.integers(1, 20),
    signal=st.floats(0.0, 10.0),  # signal-to-noise <= 100 keeps the rounding of the
    noise=st.floats(0.1, 10.0),  # discrepancy (a difference of O(r^2) numbers) below 1e-5
)
@example(num=1, den=2, signal=1.0, noise=1.0)  # gamma = 1/2
@example(num=21, den=20, signal=1.0, noise=1.0)  # gamma = 1.05, close to the peak
@example(num=60, den=1, signal=10.0, noise=0.1)  # gamma = 60
def test_finite_min_norm_risk_approaches_asymptotic_at_rate_one_over_n(num, den, signal, noise):
    assume(num != den)
    gamma = num / den
    sizes = [4 * den * 2**j for j in range(6)]  # |p - n| >= 4 at the smallest size
    limit = rl.min_norm_risk_asymptotic(gamma, signal, noise)
    scaled = np.array([n * (rl.min_norm_risk_finite(n, num * n // den, signal, noise) - limit) for n in sizes])
    # n * discrepancy is positive, bounded (decreasing) and converges ...
    assert np.all(scaled > 0.0)
    assert np.all(np.diff(scaled) < 0.0)
    # ... geometrically with ratio <= 1/2 per doubling of n: the O(1/n) rate, with a
    # next-order correction. (An O(n^-1/2) rate would give n*discrepancy growing like sqrt(n).)
    steps = -np.diff(scaled)
    ratios = steps[1:] / steps[:-1]
    assert np.all(ratios <= 0.5 + 1e-4), ratios
    assert ratios[-1] >= 0.4, ratios


@given(gamma=_nonsingular_gammas(), signal=st.floats(0.0, 100.0), noise=st.floats(0.0, 100.0))
@example(gamma=0.9, signal=1.0, noise=1.0)
@example(gamma=1.1, signal=0.0, noise=1.0)
@example(gamma=0.5, signal=1.0, noise=0.0)  # limit 0: pure ridge bias r^2 lam^2 m'
@example(gamma=1e3, signal=100.0, noise=100.0)
def test_ridge_risk_tends_to_min_norm_risk_as_lam_to_zero(gamma, signal, noise):
    limit = rl.min_norm_risk_asymptotic(gamma, signal, noise)
    lam_grid = 10.0 ** -np.arange(2, 7)
    risks = rl.ridge_risk_asymptotic(gamma, lam_grid, signal, noise)
    err = np.abs(risks - limit)
    atol = 1e-9 * (signal + noise)
    # The error is O(lam) (linear convergence, slope <= ~10 / |1 - gamma|^2 relative) until
    # the lam -> 0 cancellation in m - lam m' (relative ~ eps * gamma / lam) takes over.
    assert err[-1] <= 1e-3 * limit + atol, (limit, risks)
    assert err[-1] <= err[0] + atol


@given(signal=st.floats(0.0, 100.0), noise=st.floats(0.01, 100.0))
@example(signal=1.0, noise=1.0)
@example(signal=100.0, noise=0.01)
def test_ridge_risk_at_gamma_one_diverges_as_lam_to_zero(signal, noise):
    risks = rl.ridge_risk_asymptotic(1.0, np.array([1e-6, 1e-8, 1e-10, 1e-12]), signal, noise)
    assert np.all(np.diff(risks) > 0.0)
    # variance ~ sigma^2 / sqrt(lam) near the peak: x100 smaller lam -> ~x10 larger risk
    assert risks[-1] / risks[-2] == pytest.approx(10.0, rel=0.01)


# ---------------------------------------------------------------------------------------
# Optimal ridge.


@given(gamma=st.floats(0.01, 100.0), signal=st.floats(0.01, 100.0), noise=st.floats(0.01, 100.0))
@example(gamma=1.0, signal=1.0, noise=1.0)
@example(gamma=0.01, signal=100.0, noise=0.01)  # lam* = 1e-6
@example(gamma=100.0, signal=0.01, noise=100.0)  # lam* = 1e6
def test_ridge_risk_is_minimised_at_optimal_ridge_lambda(gamma, signal, noise):
    lam_star = rl.optimal_ridge_lambda(gamma, signal, noise)

    def risk_of_log_lam(t):
        return rl.ridge_risk_asymptotic(gamma, math.exp(t), signal, noise)

    # search over lam in [1e-8, 1e8] without using lam*
    res = optimize.minimize_scalar(
        risk_of_log_lam, bounds=(math.log(1e-8), math.log(1e8)), method="bounded", options={"xatol": 1e-9}
    )
    assert math.exp(res.x) == pytest.approx(lam_star, rel=1e-4)
    r_star = rl.ridge_risk_asymptotic(gamma, lam_star, signal, noise)
    assert r_star <= res.fun * (1.0 + 1e-12)
    assert rl.optimal_ridge_risk_asymptotic(gamma, signal, noise) == pytest.approx(r_star, rel=1e-10)


@given(gamma=gammas, lam=lams, signal=scales, noise=scales)
@example(gamma=1.0, lam=0.0, signal=1.0, noise=1.0)
@example(gamma=2.0, lam=0.0, signal=1.0, noise=0.0)  # lam* = 0 without noise
@example(gamma=2.0, lam=LAM_MAX, signal=0.0, noise=1.0)  # lam* = inf without signal
def test_optimal_ridge_risk_lower_bounds_every_ridge_and_min_norm_risk(gamma, lam, signal, noise):
    r_opt = rl.optimal_ridge_risk_asymptotic(gamma, signal, noise)
    slack = 1e-9 * (r_opt + 1e-12 * (signal + noise))
    assert r_opt <= rl.ridge_risk_asymptotic(gamma, lam, signal, noise) + slack
    assert r_opt <= rl.min_norm_risk_asymptotic(gamma, signal, noise) + slack


@given(
    g1=st.floats(GAMMA_MIN, GAMMA_MAX), g2=st.floats(GAMMA_MIN, GAMMA_MAX),
    signal=positive_scales, noise=positive_scales,
)
@example(g1=1.0 - 1e-6, g2=1.0 + 1e-6, signal=1.0, noise=1.0)
@example(g1=0.5, g2=2.0, signal=1.0, noise=0.0)
def test_optimal_ridge_risk_is_increasing_in_gamma(g1, g2, signal, noise):
    lo, hi = sorted((g1, g2))
    r_lo, r_hi = rl.optimal_ridge_risk_asymptotic(np.array([lo, hi]), signal, noise)
    assert r_lo <= r_hi * (1.0 + 1e-12)


@pytest.mark.parametrize("signal,noise", [(1.0, 1.0), (10.0, 0.1), (0.1, 10.0)])
def test_optimal_ridge_risk_has_no_double_descent_peak(signal, noise):
    grid = np.geomspace(1e-3, 1e3, 601)  # passes through gamma = 1
    r_opt = rl.optimal_ridge_risk_asymptotic(grid, signal, noise)
    assert np.all(np.diff(r_opt) > 0.0)
    # while the min-norm risk on the same grid is not monotone (the peak the tuning removes)
    r_mn = rl.min_norm_risk_asymptotic(grid, signal, noise)
    assert np.any(np.diff(r_mn) < 0.0) and np.any(np.diff(r_mn) > 0.0)


# ---------------------------------------------------------------------------------------
# Anisotropic deterministic equivalent.


@given(
    n=st.integers(1, 300), p=st.integers(1, 600), lam=st.floats(0.0, 100.0),
    signal=st.floats(0.0, 100.0), noise=st.floats(0.0, 100.0),
)
@example(n=200, p=400, lam=0.0, signal=1.0, noise=1.0)
@example(n=100, p=100, lam=0.0, signal=1.0, noise=1.0)  # inf on both sides
@example(n=100, p=101, lam=0.0, signal=1.0, noise=1.0)
@example(n=100, p=99, lam=0.0, signal=1.0, noise=1.0)
@example(n=100, p=100, lam=1e-9, signal=1.0, noise=1.0)
@example(n=1, p=1, lam=100.0, signal=100.0, noise=0.0)
def test_ridge_risk_anisotropic_with_identity_spectrum_equals_isotropic(n, p, lam, signal, noise):
    aniso = rl.ridge_risk_anisotropic(n, np.ones(p), lam, signal, noise)
    iso = rl.ridge_risk_asymptotic(p / n, lam, signal, noise)
    if math.isinf(iso):
        assert aniso == math.inf
    else:
        # brentq solves for kappa to 1e-15 absolute: harmless for the risk at its own scale
        assert aniso == pytest.approx(iso, rel=1e-7, abs=1e-12 * (signal + noise))


def _dense_ridge_risk_samples(n, spectrum, lam, signal, noise, reps, rng):
    """Rao-Blackwellised Monte Carlo of the ridge excess risk for x ~ N(0, diag(spectrum)).

    Per replicate X = Z diag(sqrt(s)); averaged analytically over the noise and over a
    uniformly random direction of beta (E beta beta^T = r^2/p I):
        bias     = r^2/p lam^2 tr(Sigma (Sigma_hat + lam)^{-2})
        variance = sigma^2/n tr(Sigma (Sigma_hat + lam)^{-1} Sigma_hat (Sigma_hat + lam)^{-1})
    evaluated in the eigenbasis (mu_i, v_i) of Sigma_hat = X^T X / n, with
    (V^T Sigma V)_ii = sum_j s_j v_ji^2 (null directions have mu = 0: bias weight 1).
    """
    p = spectrum.size
    root = np.sqrt(spectrum)
    out = np.empty(reps)
    for r in range(reps):
        X = rng.standard_normal((n, p)) * root
        mu, V = np.linalg.eigh(X.T @ X / n)
        sig_diag = (V * V).T @ spectrum
        bias = signal / p * np.sum(sig_diag * lam**2 / (mu + lam) ** 2)
        var = noise / n * np.sum(sig_diag * mu / (mu + lam) ** 2)
        out[r] = bias + var
    return out


@pytest.mark.parametrize(
    "n,p,alpha,lam,seed",
    [
        (100, 200, 1.0, 0.05, 20240601),  # overparametrised, power-law spectrum
        (200, 100, 1.5, 0.01, 20240602),  # underparametrised, steeper spectrum
    ],
)
def test_ridge_risk_anisotropic_matches_monte_carlo_for_powerlaw_spectrum(n, p, alpha, lam, seed):
    signal, noise, reps = 1.0, 0.5, 100
    s = rl.powerlaw_spectrum(p, alpha)
    samples = _dense_ridge_risk_samples(n, s, lam, signal, noise, reps, np.random.default_rng(seed))
    mean, se = samples.mean(), samples.std(ddof=1) / math.sqrt(reps)
    pred = rl.ridge_risk_anisotropic(n, s, lam, signal, noise)
    # The deterministic equivalent is exact only as n -> inf; its relative error is O(1/n)
    # (measured: n * relative error ~ 0.3-1.0 for these spectra at n = 37..600, always
    # positive), so we allow 2/n of the prediction on top of 5 standard errors.
    allowance = 2.0 / n * pred
    tol = 5.0 * se + allowance
    detail = f"prediction {pred:.6g}, estimate {mean:.6g} +- {se:.2g} (z = {(mean - pred) / se:.2f}), seed {seed}"
    assert abs(mean - pred) <= tol, detail
    # teeth: the check resolves a 5% error of the formula ...
    assert tol < 0.05 * pred, detail
    # ... and rejects the isotropic formula at the same gamma (the spectrum matters)
    assert abs(mean - rl.ridge_risk_asymptotic(p / n, lam, signal, noise)) > tol, detail


@given(n=st.integers(1, 200), p=st.integers(1, 400), alpha=st.floats(0.0, 3.0), lam=st.floats(0.0, 10.0))
@example(n=10, p=40, alpha=0.0, lam=0.0)
@example(n=40, p=40, alpha=2.0, lam=0.0)
def test_effective_regularization_solves_its_fixed_point_equation(n, p, alpha, lam):
    s = rl.powerlaw_spectrum(p, alpha)
    kappa = rl.effective_regularization(n, s, lam)
    df1 = np.sum(s / (s + kappa))
    assert kappa >= 0.0
    assert lam == pytest.approx(kappa * (1.0 - df1 / n), abs=1e-10 * (1.0 + lam + kappa))
    if lam == 0.0 and p > n:
        assert kappa > 0.0 and df1 == pytest.approx(n, rel=1e-10)


# ---------------------------------------------------------------------------------------
# Marchenko-Pastur Stieltjes transform.


def _mp_integral(lam: float, gamma: float, power: int = 1) -> float:
    """int dmu(s) / (s + lam)^power for the MP law of X^T X / n (ratio gamma, unit variance).

    Continuous part: density sqrt((b - s)(s - a)) / (2 pi gamma s) on [a, b],
    a, b = (1 -+ sqrt(gamma))^2; plus an atom of mass 1 - 1/gamma at s = 0 when gamma > 1.
    The square-root edges are handled by quad's algebraic weight.
    """
    a, b = (1 - math.sqrt(gamma)) ** 2, (1 + math.sqrt(gamma)) ** 2
    if gamma == 1.0:  # a = 0: sqrt(s (4 - s)) / s = s^{-1/2} (4 - s)^{1/2}
        val, _ = integrate.quad(
            lambda s: 1.0 / (2 * math.pi * gamma * (s + lam) ** power), a, b, weight="alg", wvar=(-0.5, 0.5)
        )
    else:
        val, _ = integrate.quad(
            lambda s: 1.0 / (2 * math.pi * gamma * s * (s + lam) ** power), a, b, weight="alg", wvar=(0.5, 0.5)
        )
    atom = max(0.0, 1.0 - 1.0 / gamma) / lam**power
    return val + atom


@pytest.mark.parametrize("gamma", [0.25, 0.5, 1.0, 2.0, 4.0])
@pytest.mark.parametrize("lam", [0.01, 0.3, 1.0, 10.0])
def test_mp_stieltjes_equals_integral_of_marchenko_pastur_density(gamma, lam):
    assert rl.mp_stieltjes(-lam, gamma) == pytest.approx(_mp_integral(lam, gamma, 1), rel=1e-9)
    assert rl.mp_stieltjes_derivative(-lam, gamma) == pytest.approx(_mp_integral(lam, gamma, 2), rel=1e-9)


@pytest.mark.parametrize("gamma", [0.5, 2.0])
def test_mp_density_integrates_to_one(gamma):
    # sanity of the reference density used above: total mass 1 including the atom
    a, b = (1 - math.sqrt(gamma)) ** 2, (1 + math.sqrt(gamma)) ** 2
    mass, _ = integrate.quad(lambda s: 1.0 / (2 * math.pi * gamma * s), a, b, weight="alg", wvar=(0.5, 0.5))
    assert mass + max(0.0, 1.0 - 1.0 / gamma) == pytest.approx(1.0, rel=1e-10)


@given(gamma=gammas, lam1=st.floats(1e-6, LAM_MAX), lam2=st.floats(1e-6, LAM_MAX))
@example(gamma=1.0, lam1=1e-6, lam2=2e-6)
@example(gamma=GAMMA_MAX, lam1=1.0, lam2=LAM_MAX)
@example(gamma=1e12, lam1=1e-6, lam2=1e12)
def test_mp_stieltjes_is_positive_and_decreasing_in_lam(gamma, lam1, lam2):
    assume(lam1 != lam2)
    lo, hi = sorted((lam1, lam2))
    m_lo, m_hi = rl.mp_stieltjes(np.array([-lo, -hi]), gamma)
    assert m_lo > 0.0 and m_hi > 0.0
    assert m_lo > m_hi
    # bounds from the support: m(-lam) <= 1/lam (all mass at s >= 0) and >= 1/(lam + b)
    b = (1 + math.sqrt(gamma)) ** 2
    for lam, m in ((lo, m_lo), (hi, m_hi)):
        assert 1.0 / (lam + b) * (1 - 1e-12) <= m <= 1.0 / lam * (1 + 1e-12)


@given(gamma=gammas, lam=st.floats(1e-6, LAM_MAX))
@example(gamma=1.0, lam=1e-6)
@example(gamma=1.0 + 1e-3, lam=1e-3)  # b = 1 - gamma + lam = 0: switch between the two roots
def test_mp_stieltjes_solves_the_marchenko_pastur_quadratic(gamma, lam):
    m = rl.mp_stieltjes(-lam, gamma)
    z = -lam
    terms = np.array([gamma * z * m * m, -(1 - gamma - z) * m, 1.0])
    assert abs(terms.sum()) <= 1e-12 * np.abs(terms).sum()


@given(gamma=st.floats(1e-3, 1e3), lam=st.floats(1e-3, 1e3))
@example(gamma=1.0, lam=1e-3)
def test_mp_stieltjes_derivative_matches_finite_difference(gamma, lam):
    h = 1e-5 * lam
    fd = (rl.mp_stieltjes(-(lam - h), gamma) - rl.mp_stieltjes(-(lam + h), gamma)) / (2 * h)
    # m'(z) = d m / dz, and z = -lam: central difference error O(h^2) ~ 1e-10 relative
    assert rl.mp_stieltjes_derivative(-lam, gamma) == pytest.approx(fd, rel=1e-6)


# ---------------------------------------------------------------------------------------
# Sample-wise double descent.


@given(p=st.integers(6, 400), snr=st.floats(0.0, 1.0), noise=st.floats(1e-3, 1e3))
@example(p=6, snr=1.0, noise=1.0)
@example(p=400, snr=0.0, noise=1e-3)
def test_samplewise_risk_peaks_at_n_equal_p(p, snr, noise):
    signal = snr * noise  # signal <= noise: the variance peak dominates the bias (proof in the body)
    ns = np.arange(1, 3 * p + 1)
    risk = rl.samplewise_risk(ns, p, signal, noise)
    assert np.all(np.isinf(risk[np.abs(ns - p) <= 1]))
    finite = np.isfinite(risk)
    # n <= p-3: risk <= sigma^2 (1 + (p-3)/2) < sigma^2 p = risk(p+2); n >= p+3: <= sigma^2 p/2.
    assert ns[finite][np.argmax(risk[finite])] in (p - 2, p + 2)
    # more data hurts: going from n = p - 3 to n = p + 2 samples increases the risk
    assert risk[p + 2 - 1] > risk[p - 3 - 1]
    # away from the peak more data helps: decreasing for n >= p + 2
    assert np.all(np.diff(risk[ns >= p + 2]) < 0.0)


def test_samplewise_risk_matches_min_norm_risk_finite_elementwise():
    ns = [5, 19, 20, 21, 40]
    expected = [rl.min_norm_risk_finite(n, 20, 1.0, 0.25) for n in ns]
    np.testing.assert_array_equal(rl.samplewise_risk(ns, 20, 1.0, 0.25), expected)


# ---------------------------------------------------------------------------------------
# Array inputs work elementwise.


@given(
    gs=st.lists(gammas, min_size=1, max_size=6),
    ls=st.lists(mp_lams, min_size=1, max_size=6),
    signal=scales,
    noise=scales,
)
@example(gs=[0.5, 1.0, 2.0], ls=[0.0, 0.0, 1.0], signal=1.0, noise=1.0)
def test_array_inputs_are_evaluated_elementwise(gs, ls, signal, noise):
    k = min(len(gs), len(ls))
    g = np.array(gs[:k])
    la = np.array(ls[:k])
    scalar_cases = {
        "min_norm_risk_asymptotic": (rl.min_norm_risk_asymptotic(g, signal, noise),
                                     [rl.min_norm_risk_asymptotic(x, signal, noise) for x in g]),
        "ridge_risk_asymptotic": (rl.ridge_risk_asymptotic(g, la, signal, noise),
                                  [rl.ridge_risk_asymptotic(x, y, signal, noise) for x, y in zip(g, la)]),
        "optimal_ridge_lambda": (rl.optimal_ridge_lambda(g, signal, noise),
                                 [rl.optimal_ridge_lambda(x, signal, noise) for x in g]),
        "optimal_ridge_risk_asymptotic": (rl.optimal_ridge_risk_asymptotic(g, signal, noise),
                                          [rl.optimal_ridge_risk_asymptotic(x, signal, noise) for x in g]),
        "mp_stieltjes": (rl.mp_stieltjes(-la, g), [rl.mp_stieltjes(-y, x) for x, y in zip(g, la)]),
        "mp_stieltjes_derivative": (rl.mp_stieltjes_derivative(-la, g),
                                    [rl.mp_stieltjes_derivative(-y, x) for x, y in zip(g, la)]),
    }
    for name, (vec, loop) in scalar_cases.items():
        assert isinstance(vec, np.ndarray) and vec.shape == (k,), name
        np.testing.assert_allclose(vec, loop, rtol=1e-14, atol=0, err_msg=name)


def test_array_inputs_keep_their_shape_and_broadcast():
    g = np.array([[0.5, 2.0], [1.0, 4.0]])
    out = rl.ridge_risk_asymptotic(g, 0.0, 1.0, 1.0)
    assert out.shape == (2, 2)
    np.testing.assert_array_equal(out, rl.min_norm_risk_asymptotic(g, 1.0, 1.0))
    lam = np.array([0.1, 1.0, 10.0])[:, None]
    grid = rl.ridge_risk_asymptotic(np.array([0.5, 2.0]), lam, 1.0, 1.0)
    assert grid.shape == (3, 2)
    assert grid[1, 1] == rl.ridge_risk_asymptotic(2.0, 1.0, 1.0, 1.0)
    assert isinstance(rl.ridge_risk_asymptotic(0.5, 0.1, 1.0, 1.0), float)


# ---------------------------------------------------------------------------------------
# Power-law spectrum helper.


@given(p=st.integers(1, 2000), alpha=st.floats(0.0, 5.0))
@example(p=1, alpha=0.0)
def test_powerlaw_spectrum_has_trace_p_and_decays_with_exponent_alpha(p, alpha):
    s = rl.powerlaw_spectrum(p, alpha)
    assert s.shape == (p,) and np.all(s > 0)
    assert s.sum() == pytest.approx(p, rel=1e-12)
    if p >= 2:
        assert s[1] / s[0] == pytest.approx(2.0**-alpha, rel=1e-12)


def test_booleans_are_not_accepted_as_integers():
    with pytest.raises(TypeError, match="n=True, must be an integer"):
        rl.min_norm_risk_finite(True, 5, 1.0, 1.0)
