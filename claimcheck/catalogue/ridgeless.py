"""Claims of ridge / ridgeless regression: double descent and its cure by optimal ridge."""
from __future__ import annotations

import math

import numpy as np

from claimcheck._lazy import lazy_module
from claimcheck.checks import AllOf, Asymptotic, Exact, Monotone
from claimcheck.claim import Claim, Mutant
from claimcheck.domain import Constraint, Domain, Expr, Int, Real, Seq
from claimcheck.estimate import Curve, Estimate
from claimcheck.registry import register
from claimcheck.sims.anisotropic import anisotropic_risk_samples
from claimcheck.sims.ridgeless import fast_risk_samples, ridge_curve, spectral_ridge_curves
from claimcheck.theory import ridgeless as T

optimize = lazy_module("scipy.optimize")

HMRT = "Hastie, Montanari, Rosset, Tibshirani, Ann. Statist. 2022 (arXiv:1903.08560)"
BHX = "Belkin, Hsu, Xu 2019 (arXiv:1903.07571), Thm 1"

# Shared parameter ranges: the claims' domains use these.
SIGNAL = Real(0.25, 4.0)
NOISE = Real(0.1, 4.0)
LAM = Real(0.05, 4.0)
MIN_GAP = 4  # |n - p| >= 4: the min-norm variance term has finite variance (inverse-Wishart 2nd moments)


def _apart(a, b, gap):
    return Constraint(f"|{a} - {b}| >= {gap}", lambda q: abs(q[a] - q[b]) >= gap)


def _ladder(params, factors=(1, 2, 4, 8)):
    """Sizes n0 * f, p0 * f at fixed gamma = p0 / n0 (gamma is exact at every size)."""
    return [(params["n0"] * f, {**params, "n": params["n0"] * f, "p": params["p0"] * f}) for f in factors]


# --------------------------------------------------------------------------- finite exact
def _sim_minnorm(params, reps, rng):
    return Estimate.from_samples(fast_risk_samples(params["n"], params["p"], params["signal"], params["noise"], 0.0, reps, rng))


minnorm_finite = register(Claim(
    id="ridgeless.minnorm_finite",
    title="Exact finite-sample risk of min-norm least squares",
    statement=r"\mathbb E\|\hat\beta-\beta\|^2=\sigma^2\frac{p}{n-p-1}\ (p\le n-2);\ r^2(1-\tfrac np)+\sigma^2\frac{n}{p-n-1}\ (p\ge n+2)",
    source=BHX + "; " + HMRT + ", Sec. 2",
    check=Exact(rel_tol=0.05),
    predict=T.min_norm_risk_finite,
    domain=Domain({"n": Int(8, 120), "p": Int(2, 240), "signal": SIGNAL, "noise": NOISE}, (_apart("n", "p", MIN_GAP),)),
    default={"n": 100, "p": 50, "signal": 1.0, "noise": 1.0},
    verify_points=({"n": 50, "p": 100}, {"n": 60, "p": 66}),
    simulate=_sim_minnorm,
    reps=8000,
    mutants=(
        Mutant("variance_p_over_n_minus_p", "sigma^2 p/(n-p) instead of p/(n-p-1)",
               lambda n, p, signal, noise: noise * p / (n - p) if p < n else T.min_norm_risk_finite(n, p, signal, noise),
               {"n": 20, "p": 8}),
        Mutant("no_bias_term", "drops the bias r^2 (1 - n/p) for p > n",
               lambda n, p, signal, noise: noise * n / (p - n - 1) if p > n else T.min_norm_risk_finite(n, p, signal, noise),
               {"n": 20, "p": 40}),
        Mutant("overparam_variance_n_over_p_minus_n", "sigma^2 n/(p-n) instead of n/(p-n-1)",
               lambda n, p, signal, noise: signal * (1 - n / p) + noise * n / (p - n) if p > n else T.min_norm_risk_finite(n, p, signal, noise),
               {"n": 20, "p": 26, "signal": 0.25}),
    ),
    notes="Domain |n - p| >= 4: at |n - p| in {2, 3} the mean is finite but the variance is not.",
    figure="double_descent_modelwise",
))


# --------------------------------------------------------------------------- asymptotic
def _sim_ridge(params, reps, rng):
    lam = params.get("lam", 0.0)
    return Estimate.from_samples(fast_risk_samples(params["n"], params["p"], params["signal"], params["noise"], lam, reps, rng))


minnorm_asymptotic = register(Claim(
    id="ridgeless.minnorm_asymptotic",
    title="Min-norm risk converges to the proportional-limit formula at rate 1/n",
    statement=r"\lim_{p/n\to\gamma}\mathbb E R=\sigma^2\frac{\gamma}{1-\gamma}\ (\gamma<1);\ r^2(1-\tfrac1\gamma)+\frac{\sigma^2}{\gamma-1}\ (\gamma>1)",
    source=HMRT + ", Thm 1",
    check=Asymptotic(sizes=_ladder, rate=1.0, rel_tol=0.05),
    predict=lambda n0, p0, signal, noise: T.min_norm_risk_asymptotic(p0 / n0, signal, noise),
    domain=Domain({"n0": Int(10, 40), "p0": Int(4, 80), "signal": SIGNAL, "noise": NOISE}, (_apart("n0", "p0", 8),)),
    default={"n0": 20, "p0": 10, "signal": 1.0, "noise": 1.0},
    verify_points=({"n0": 10, "p0": 20},),
    simulate=_sim_minnorm,
    reps=4000,
    mutants=(
        Mutant("variance_gamma_over_1_minus_gamma_squared", "sigma^2 gamma/(1-gamma)^2 for gamma < 1",
               lambda n0, p0, signal, noise: noise * (p0 / n0) / (1 - p0 / n0) ** 2 if p0 < n0 else T.min_norm_risk_asymptotic(p0 / n0, signal, noise)),
        Mutant("no_bias_term", "drops r^2 (1 - 1/gamma) for gamma > 1",
               lambda n0, p0, signal, noise: noise / (p0 / n0 - 1) if p0 > n0 else 0.0, {"n0": 10, "p0": 20}),
    ),
    figure="double_descent_modelwise",
))

ridge_asymptotic = register(Claim(
    id="ridgeless.ridge_asymptotic",
    title="Ridge risk at any lambda from the Marchenko-Pastur Stieltjes transform",
    statement=r"R(\gamma,\lambda)=r^2\lambda^2 m'(-\lambda)+\sigma^2\gamma\,(m(-\lambda)-\lambda m'(-\lambda))",
    source=HMRT + ", Thm 2 / Cor. 5",
    check=Asymptotic(sizes=_ladder, rate=1.0, rel_tol=0.02),
    predict=lambda n0, p0, lam, signal, noise: T.ridge_risk_asymptotic(p0 / n0, lam, signal, noise),
    domain=Domain({"n0": Int(10, 40), "p0": Int(4, 80), "lam": LAM, "signal": SIGNAL, "noise": NOISE}),
    default={"n0": 20, "p0": 40, "lam": 0.5, "signal": 1.0, "noise": 1.0},
    verify_points=({"n0": 20, "p0": 20, "lam": 0.1},),
    simulate=_sim_ridge,
    reps=2000,
    mutants=(
        Mutant("variance_without_lambda_mprime", "variance sigma^2 gamma m(-lam), dropping -lam m'(-lam)",
               lambda n0, p0, lam, signal, noise: signal * lam**2 * T.mp_stieltjes_derivative(-lam, p0 / n0) + noise * (p0 / n0) * T.mp_stieltjes(-lam, p0 / n0)),
        Mutant("bias_lambda_not_squared", "bias r^2 lam m'(-lam)",
               lambda n0, p0, lam, signal, noise: signal * lam * T.mp_stieltjes_derivative(-lam, p0 / n0)
               + noise * (p0 / n0) * (T.mp_stieltjes(-lam, p0 / n0) - lam * T.mp_stieltjes_derivative(-lam, p0 / n0))),
    ),
    figure="double_descent_modelwise",
))


# --------------------------------------------------------------------------- optimal lambda
def _sim_optimal_lambda(params, reps, rng):
    """M-estimate of argmin_lam E R(lam) from fixed-beta risk curves (noise averaged).

    lam_hat solves mean_r R_r'(lam) = 0 (bracketed on [1e-6, 1e4]); its SE is the sandwich
    sd(R_r'(lam_hat)) / (sqrt(N) |mean_r R_r''(lam_hat)|).
    """
    n, p, noise = params["n"], params["p"], params["noise"]
    mu, c2, null = spectral_ridge_curves(n, p, params["signal"], noise, reps, rng)
    # mean_r R_r'(lam) = 2 / N sum_{r,i} mu_ri (lam c2_ri - sigma^2 / n) / (mu_ri + lam)^3: the
    # same sum as ridge_curve(derivative=1).mean() in one pass (brentq calls it ~20 times;
    # it differs from that form only by rounding). SE and curvature below use ridge_curve.
    mc2, mnoise = mu * c2, noise / n * mu

    def mean_grad(log_lam):
        lam = math.exp(log_lam)
        d = mu + lam
        return 2.0 * float(np.sum((lam * mc2 - mnoise) / (d * d * d))) / reps

    lo, hi = math.log(1e-6), math.log(1e4)
    if mean_grad(lo) >= 0:
        lam_hat = math.exp(lo)
    elif mean_grad(hi) <= 0:
        lam_hat = math.exp(hi)
    else:
        lam_hat = math.exp(optimize.brentq(mean_grad, lo, hi, xtol=1e-12))
    g = ridge_curve(lam_hat, mu, c2, null, n, noise, derivative=1)
    h = ridge_curve(lam_hat, mu, c2, null, n, noise, derivative=2).mean()
    se = g.std(ddof=1) / math.sqrt(reps) / abs(h)
    return Estimate(lam_hat, float(se), reps)


optimal_lambda = register(Claim(
    id="ridgeless.optimal_lambda",
    title="lambda* = sigma^2 gamma / r^2 minimises the finite-sample ridge risk",
    statement=r"\arg\min_\lambda \mathbb E\|\hat\beta_\lambda-\beta\|^2=\lambda^*=\sigma^2\gamma/r^2\quad(\text{every } n,p)",
    source=HMRT + ", Cor. 5; Nakkiran, Venkat, Kakade, Ma, ICLR 2021 (arXiv:2003.01897), Thm 1",
    check=Exact(rel_tol=0.25),
    predict=lambda n, p, signal, noise: T.optimal_ridge_lambda(p / n, signal, noise),
    domain=Domain({"n": Int(10, 60), "p": Int(5, 80), "signal": Real(0.5, 2.0), "noise": Real(0.25, 2.0)}),
    default={"n": 30, "p": 60, "signal": 1.0, "noise": 0.5},
    verify_points=({"n": 60, "p": 30},),
    simulate=_sim_optimal_lambda,
    reps=1500,
    mutants=(
        Mutant("lambda_sigma2_over_r2", "lambda* = sigma^2 / r^2 (forgets gamma)",
               lambda n, p, signal, noise: noise / signal, {"n": 20, "p": 60}),
        Mutant("lambda_sigma_over_r", "lambda* = sigma gamma / r (square roots)",
               lambda n, p, signal, noise: math.sqrt(noise / signal) * p / n, {"n": 30, "p": 60, "noise": 0.25}),
    ),
    notes="Estimand: the minimiser of the Monte Carlo mean risk curve (beta fixed, noise averaged); "
          "SE by the M-estimator sandwich. Averaging over beta's direction too would make every "
          "replicate's minimiser exactly lambda* (see sims.ridgeless), so the check keeps beta fixed.",
    figure="double_descent_modelwise",
))


# --------------------------------------------------------------------------- shape claims (curves in n)
def _risk_at(n, p, signal, noise, lam, reps, rng):
    return Estimate.from_samples(fast_risk_samples(n, p, signal, noise, lam, reps, rng))


def _grid(p, factors):
    return [max(1, int(round(p / f))) for f in factors]


def _ns(params, gap=0):
    """The grid n = p / gamma (distinct, increasing; with gap > 0 only |n - p| >= gap)."""
    ns = sorted(set(_grid(params["p"], params["gammas"])))
    return [n for n in ns if abs(n - params["p"]) >= gap] if gap else ns


def _sim_optimal_monotone(params, reps, rng, predict):
    """Risk at lambda = predict(n, p, signal, noise) at each n of the grid (independent runs)."""
    p, signal, noise = params["p"], params["signal"], params["noise"]
    ns = _ns(params)
    ests = [_risk_at(n, p, signal, noise, float(predict(n=n, p=p, signal=signal, noise=noise)), reps, rng) for n in ns]
    return Curve.from_estimates(ns, ests, {"n": ns, "lambda": [float(predict(n=n, p=p, signal=signal, noise=noise)) for n in ns]})


def _two_sizes(gap=0):
    return Constraint(f"the grid n = round(p / gamma) has >= 2 distinct sizes" + (f" with |n - p| >= {gap}" if gap else ""),
                      lambda q: len(_ns(q, gap)) >= 2)


optimal_ridge_monotone = register(Claim(
    id="ridgeless.optimal_ridge_monotone",
    title="Optimally regularised ridge has no double descent: risk decreases in n",
    statement=r"n\mapsto \mathbb E R(\hat\beta_{\lambda^*(n)})\ \text{is decreasing at fixed } p",
    source="Nakkiran, Venkat, Kakade, Ma, ICLR 2021 (arXiv:2003.01897), Thm 1; " + HMRT + ", Cor. 5",
    check=Monotone(direction=-1),
    predict=lambda n, p, signal, noise: T.optimal_ridge_lambda(p / n, signal, noise),
    domain=Domain({"p": Int(20, 80), "signal": Real(0.5, 4.0), "noise": Real(0.25, 2.0),
                   "gammas": Seq(Real(0.05, 20.0), 2, 20, explore=((4.0, 2.0, 1.25, 1.0, 0.8, 0.5, 0.25),))},
                  (_two_sizes(),)),
    default={"p": 40, "signal": 1.0, "noise": 1.0, "gammas": (4.0, 2.0, 1.25, 1.0, 0.8, 0.5, 0.25)},
    simulate=_sim_optimal_monotone,
    simulate_takes_predict=True,
    reps=2000,
    mutants=(
        Mutant("nearly_ridgeless", "lambda = lambda*/1000: under-regularised, the peak returns",
               lambda n, p, signal, noise: 1e-3 * T.optimal_ridge_lambda(p / n, signal, noise)),
    ),
    notes="predict gives the regulariser at which each grid point is simulated; the grid is n = p / gamma for the "
          "listed gammas; Holm over the steps.",
    figure="double_descent_samplewise",
))


def _rising_ns(params):
    """Grid points (|n - p| >= 4) inside (n*, p - 1), where the risk rises: n* = samplewise_rise_start."""
    n_star = T.samplewise_rise_start(params["p"], params["signal"], params["noise"])
    return [n for n in _ns(params, MIN_GAP) if n_star < n < params["p"]]


def _sim_samplewise(params, reps, rng):
    """Min-norm risk at each n = p / gamma with |n - p| >= 4 (independent runs); the part
    ``rise`` is the same curve at the points n* < n < p where the theory says it rises."""
    p, signal, noise = params["p"], params["signal"], params["noise"]
    ns = _ns(params, MIN_GAP)
    risk = Curve.from_estimates(ns, [_risk_at(n, p, signal, noise, 0.0, reps, rng) for n in ns])
    rising = set(_rising_ns(params))
    return {"risk": risk, "rise": risk.select([n in rising for n in ns])}


def _samplewise_expect(predict, params):
    p, signal, noise = params["p"], params["signal"], params["noise"]
    return {"risk": [float(predict(n=n, p=p, signal=signal, noise=noise)) for n in _ns(params, MIN_GAP)]}


samplewise_nonmonotone = register(Claim(
    id="ridgeless.samplewise_nonmonotone",
    title="Sample-wise double descent: more data can hurt min-norm regression",
    statement=r"n\mapsto r^2(1-\tfrac np)_+ + \sigma^2\frac{\min(n,p)}{|n-p|-1}\ \text{rises on } n^*<n<p-1,\ n^*=p-1-\tfrac{\sigma}{r}\sqrt{p(p-1)}\ (\text{every } n<p-1 \text{ if } r\le\sigma), \text{ peaks at } n=p",
    source="Nakkiran 2019 (arXiv:1912.07242), Sec. 2; " + BHX,
    check=AllOf(parts=(("risk", Exact(rel_tol=0.05)), ("rise", Monotone(direction=+1)))),
    predict=T.min_norm_risk_finite,
    expect=_samplewise_expect,
    domain=Domain({"p": Int(30, 100), "signal": Real(0.25, 2.0), "noise": Real(0.25, 2.0),
                   "gammas": Seq(Real(0.05, 20.0), 2, 20, explore=((4.0, 2.0, 1.25, 0.8, 0.5, 0.25),))},
                  (Constraint("the grid has >= 2 sizes n* < n < p - 3", lambda q: len(_rising_ns(q)) >= 2),)),
    default={"p": 40, "signal": 1.0, "noise": 1.0, "gammas": (4.0, 2.0, 1.25, 0.8, 0.5, 0.25)},
    simulate=_sim_samplewise,
    reps=8000,
    mutants=(
        Mutant("no_bias_term", "drops r^2 (1 - n/p) for n < p",
               lambda n, p, signal, noise: noise * n / (p - n - 1) if n < p else T.min_norm_risk_finite(n, p, signal, noise)),
        Mutant("classical_u_curve", "the classical picture: risk sigma^2 p/n, decreasing in n",
               lambda n, p, signal, noise: noise * p / n),
    ),
    notes="Two parts: the simulated risk matches the exact formula at every grid point (Holm), and it rises at every "
          "step between grid points inside (n*, p - 1). Corrected statement: the earlier 'rises for n < p' is false "
          "for r > sigma (the bias r^2 (1 - n/p) falls faster than the variance grows at small n; found by the "
          "domain's corner sweep at p = 30, r^2 = 2, sigma^2 = 0.5: the risk falls from n = 8 to 15, z = -68). "
          "The domain keeps points whose grid has >= 2 sizes in (n*, p - 3).",
    figure="double_descent_samplewise",
))


# --------------------------------------------------------------------------- anisotropic
def _level_spectrum(p, levels):
    """Sigma's eigenvalues: each of ``levels`` repeated p / len(levels) times."""
    if p % len(levels):
        raise ValueError(f"p={p}, must be a multiple of len(levels)={len(levels)} (each level repeated p / len(levels) times)")
    return np.repeat(np.asarray(levels, dtype=float), p // len(levels))


def _sim_aniso(params, reps, rng):
    s = _level_spectrum(params["p"], params["levels"])
    return Estimate.from_samples(anisotropic_risk_samples(params["n"], s, params["lam"], params["signal"], params["noise"], reps, rng))


def _predict_aniso(n0, p0, levels, lam, signal, noise):
    """The fixed-point risk depends on (n, Sigma) only through gamma and Sigma's spectral
    distribution, so its value at the base size is the limit along the whole ladder."""
    return T.ridge_risk_anisotropic(n0, _level_spectrum(p0, levels), lam, signal, noise)


anisotropic = register(Claim(
    id="ridgeless.anisotropic",
    title="Anisotropic features: ridge risk from the fixed-point (deterministic-equivalent) equation",
    statement=r"R\to\frac{\kappa^2\,\tfrac{r^2}{p}\operatorname{tr}\Sigma(\Sigma+\kappa)^{-2}+\sigma^2 df_2/n}{1-df_2/n},\ \lambda=\kappa\big(1-\tfrac{df_1(\kappa)}{n}\big)",
    source="Bach 2023 (arXiv:2303.01372), Prop. 1; " + HMRT + ", Thm 5",
    # rep_factors: the extrapolation weighs the middle sizes most; they are cheap
    check=Asymptotic(sizes=_ladder, rate=1.0, rep_factors=(6.0, 6.0, 3.0, 1.0), rel_tol=0.05),
    predict=_predict_aniso,
    domain=Domain({"n0": Int(6, 14), "levels": Seq(Real(0.1, 10.0), 1, 3),
                   "p0": Int(Expr("2 len(levels)", lambda q: 2 * len(q["levels"])), Expr("8 len(levels)", lambda q: 8 * len(q["levels"]))),
                   "lam": Real(0.05, 2.0), "signal": SIGNAL, "noise": NOISE},
                  (Constraint("p0 is a multiple of len(levels)", lambda q: q["p0"] % len(q["levels"]) == 0),)),
    default={"n0": 8, "p0": 12, "levels": (0.2, 1.0, 3.0), "lam": 0.1, "signal": 1.0, "noise": 1.0},
    verify_points=({"n0": 12, "p0": 6, "levels": (0.5, 4.0)},),
    simulate=_sim_aniso,
    reps=200,
    mutants=(
        Mutant("isotropic_formula", "ignores the spectrum: the isotropic ridge formula at gamma, lam",
               lambda n0, p0, levels, lam, signal, noise: T.ridge_risk_asymptotic(p0 / n0, lam, signal, noise)),
        Mutant("variance_without_denominator", "variance sigma^2 df2/n without the 1/(1 - df2/n) factor",
               lambda n0, p0, levels, lam, signal, noise: _predict_aniso(n0, p0, levels, lam, signal, noise)
               - noise * _df2_over_n(n0, p0, levels, lam) * (1 / (1 - _df2_over_n(n0, p0, levels, lam)) - 1)),
    ),
    notes="Sigma has a few eigenvalue levels in equal proportions (exact at every size of the ladder); "
          "beta lies in a uniformly random direction. lam > 0.",
    figure="ridgeless_anisotropic",
))


def _df2_over_n(n0, p0, levels, lam):
    s = _level_spectrum(p0, levels)
    k = T.effective_regularization(n0, s, lam)
    return float(np.sum(s**2 / (s + k) ** 2) / n0)
