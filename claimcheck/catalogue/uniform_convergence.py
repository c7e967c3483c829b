"""Claims of the Nagarajan-Kolter construction: GD generalizes, uniform convergence is vacuous.

Model (theory.uniform_convergence): x = (y u, z) in R^{K+D}, ||u||^2 = ``signal``,
z ~ N(0, noise/D I_D); one GD step from 0 gives w = sum_i y_i x_i. S' = the training set
with its noise block negated (labels kept). Parameters: n, D, K (does not enter the
formulas; the direct simulator uses it), signal = ||u||^2, noise = s^2 = E||z||^2.
The paper's own values of ||u|| and s^2 (and Thm 3.1's D-vs-n condition) could not be read from
the stored copies; they are parameters, and DEFAULT is our choice (provenance: see the
docstring of theory.uniform_convergence).
"""
from __future__ import annotations

import math

import numpy as np

from claimcheck._lazy import lazy_module
from claimcheck.checks import AllOf, Band, Exact, Monotone
from claimcheck.claim import Claim, Mutant
from claimcheck.domain import Constraint, Domain, Expr, Int, Real, Seq
from claimcheck.estimate import Curve, Estimate
from claimcheck.registry import register
from claimcheck.sims.uniform_convergence import direct_error_samples, fast_error_samples
from claimcheck.theory import uniform_convergence as T

special = lazy_module("scipy.special")

NK = "Nagarajan & Kolter, NeurIPS 2019 (arXiv:1902.04742), Sec. 3, Thm 3.1"
FIGURE = "uniform_convergence"
QUAD_ABS_TOL = 1e-12  # absolute accuracy of the 1-D quadratures in theory.uniform_convergence

DEFAULT = {"n": 16, "D": 256, "K": 2, "signal": 1 / 64, "noise": 1.0}
"""rho = n signal / noise = 1/4, D/n = 16: test error ~0.16, S' error ~0.999."""


def _chi2_mix(g, D):
    """E g(Q), Q ~ chi^2_D (for the mutants: same quadrature as the correct formulas)."""
    return T.chi2_expectation(g, D)


# --------------------------------------------------------------------------- domains
NOISE = Real(0.25, 4.0)


def _rho_range(lo, hi, n="n"):
    """signal in [lo, hi] x noise / n: the signal-to-noise ratio rho = n ||u||^2 / s^2 in [lo, hi]."""
    return Real(Expr(f"{lo:g} noise / {n}", lambda q: lo * q["noise"] / _size(q, n)),
                Expr(f"{hi:g} noise / {n}", lambda q: hi * q["noise"] / _size(q, n)))


def _size(q, n):
    return max(q["ns"]) if n == "max(ns)" else q[n]


def _error_in(name, f, lo=0.02, hi=0.995):
    """Errors kept in [0.02, 0.995]: relative power is reachable and some replicates disagree."""
    return Constraint(f"{name} error in [{lo:g}, {hi:g}]", lambda q: lo <= f(q["n"], q["D"], q["signal"], q["noise"]) <= hi)


def _error_domain(n_range, D_low, D_high, rho, f, name):
    return Domain({"n": Int(*n_range), "noise": NOISE, "D": Int(D_low, D_high), "signal": _rho_range(*rho), "K": Int(1, 4)},
                  (_error_in(name, f),))


TEST_DOMAIN = _error_domain((2, 40), Expr("max(2, n / 2)", lambda q: max(2, q["n"] // 2)), Expr("16 n", lambda q: 16 * q["n"]),
                            (0.05, 1.2), T.linear_test_error, "test")
SPRIME_DOMAIN = _error_domain((2, 40), 2, Expr("16 n", lambda q: 16 * q["n"]), (0.05, 1.2), T.linear_sprime_error, "S'")
TRAIN_DOMAIN = _error_domain((8, 64), 2, Expr("1.5 n", lambda q: int(1.5 * q["n"])), (0.05, 1.2), T.linear_train_error, "train")
"""n >= 8: below it the per-point training error of a handful of points is too noisy for a 10% relative check
(at n = 2 about 27000 replicates would be needed)."""


def _samples(n, D, signal, noise, reps, rng, K):
    """Per-replicate errors, ||w||^2 and Rademacher term: the Bartlett Gram-matrix simulator where
    D >= n (O(n^2) draws per replicate; every statistic is a function of the Gram matrix, so the
    law is the direct simulator's, checked in tests/test_uniform_convergence_theory.py), the
    explicit-vector simulator otherwise (there n D < n^2 draws)."""
    if D >= n:
        return fast_error_samples(n, D, signal, noise, reps, rng)
    return direct_error_samples(n, D, signal, noise, reps, rng, K=K)


def _sim(key):
    def simulate(params, reps, rng):
        out = _samples(params["n"], params["D"], params["signal"], params["noise"], reps, rng, params["K"])
        return Estimate.from_samples(out[key])
    simulate.__doc__ = (f"Monte Carlo of the {key} error (Bartlett Gram matrix for D >= n, explicit vectors for D < n; "
                        "test error Rao-Blackwellised).")
    return simulate


def _ignore_k(f):
    return lambda n, D, K, signal, noise: f(n, D, signal, noise)


# --------------------------------------------------------------------------- exact claims
test_error = register(Claim(
    id="uniform_convergence.test_error",
    title="Test error of one-step GD on the Nagarajan-Kolter linear construction",
    statement=r"\Pr(y\langle w,x\rangle<0)=\mathbb E_{Q\sim\chi^2_D}\,\Phi\!\big(-\tfrac{n r^2 D/s^2}{\sqrt{nQ}}\big)\to0\ (D\to\infty)",
    source=NK,
    check=Exact(rel_tol=0.05),
    predict=_ignore_k(T.linear_test_error),
    domain=TEST_DOMAIN,
    default=DEFAULT,
    verify_points=({"n": 4, "D": 64, "signal": 1 / 16}, {"n": 32, "D": 128, "signal": 1 / 64, "noise": 2.0}),
    simulate=_sim("test"),
    reps=2000,
    mutants=(
        Mutant("variance_not_over_D", "noise variance s^2 per coordinate instead of s^2/D",
               lambda n, D, K, signal, noise: T.linear_test_error(n, D, signal, noise * D)),
        Mutant("forgets_n_in_noise_norm", "||Z||^2 = (s^2/D) chi^2_D, forgetting the factor n",
               lambda n, D, K, signal, noise: _chi2_mix(lambda q: special.ndtr(-n * signal * D / noise / math.sqrt(q)), D)),
        Mutant("chi2_replaced_by_mean", "Q replaced by its mean D: Phi(-rho sqrt(D/n)), no chi-square mixture",
               lambda n, D, K, signal, noise: float(special.ndtr(-n * signal / noise * math.sqrt(D / n))),
               {"n": 4, "D": 2, "signal": 0.3}),  # 32% apart: the chi-square mixture matters most at D = 2
    ),
    notes="Test error Rao-Blackwellised over the fresh point (exact Gaussian tail given w).",
    figure=FIGURE,
))

sprime_error = register(Claim(
    id="uniform_convergence.sprime_error",
    title="Error of the GD classifier on S' (its training set with the noise negated) -> 1",
    statement=r"\hat L_{S'}(h_S)=\mathbb E_{Q\sim\chi^2_D}\,\Phi\!\big(\tfrac{Q-n r^2 D/s^2}{\sqrt{(n-1)Q}}\big)\to1\ (D/n\to\infty,\ n r^2<s^2)",
    source=NK,
    check=Exact(rel_tol=0.05),
    predict=_ignore_k(T.linear_sprime_error),
    domain=SPRIME_DOMAIN,
    default={**DEFAULT, "D": 128},
    verify_points=({"n": 8, "D": 32, "signal": 1 / 16}, {"n": 32, "D": 64, "signal": 1 / 64}),
    simulate=_sim("sprime"),
    reps=1000,
    mutants=(
        Mutant("no_self_term", "forgets the -||z_i||^2 self term: Phi(-c / sqrt((n-1)Q))",
               lambda n, D, K, signal, noise: _chi2_mix(lambda q: special.ndtr(-n * signal * D / noise / math.sqrt((n - 1) * q)), D)),
        Mutant("sign_error_equals_test", "sign error: S' error = test error",
               lambda n, D, K, signal, noise: T.linear_test_error(n, D, signal, noise)),
        Mutant("variance_not_over_D", "noise variance s^2 per coordinate instead of s^2/D",
               lambda n, D, K, signal, noise: T.linear_sprime_error(n, D, signal, noise * D),
               {"n": 4, "D": 16, "signal": 0.25}),
    ),
    figure=FIGURE,
))

train_error = register(Claim(
    id="uniform_convergence.train_error",
    title="Training error of the GD classifier (self term +||z_i||^2 helps)",
    statement=r"\hat L_S(h_S)=\mathbb E_{Q\sim\chi^2_D}\,\Phi\!\big(-\tfrac{n r^2 D/s^2+Q}{\sqrt{(n-1)Q}}\big)",
    source=NK,
    check=Exact(rel_tol=0.1),
    predict=_ignore_k(T.linear_train_error),
    domain=TRAIN_DOMAIN,
    default={**DEFAULT, "n": 64, "D": 64, "signal": 1 / 256},
    verify_points=({"n": 16, "D": 8, "signal": 1 / 64},),
    simulate=_sim("train"),
    reps=3000,
    mutants=(
        Mutant("no_self_term", "forgets the +||z_i||^2 self term",
               lambda n, D, K, signal, noise: _chi2_mix(lambda q: special.ndtr(-n * signal * D / noise / math.sqrt((n - 1) * q)), D)),
        Mutant("cross_terms_n_not_n_minus_1", "n instead of n - 1 cross terms",
               lambda n, D, K, signal, noise: _chi2_mix(lambda q: special.ndtr(-(n * signal * D / noise + q) / math.sqrt(n * q)), D),
               {"n": 8, "D": 10, "signal": 0.08}),  # 34% apart; n vs n - 1 matters most at small n
    ),
    figure=FIGURE,
))


def _sim_weight_norm(params, reps, rng):
    out = _samples(params["n"], params["D"], params["signal"], params["noise"], reps, rng, params["K"])
    return Estimate.from_samples(out["weight_norm_sq"])


weight_norm = register(Claim(
    id="uniform_convergence.weight_norm",
    title="Distance from initialisation of the GD step grows with n: E||w||^2 = n^2 r^2 + n s^2",
    statement=r"\mathbb E\|w-w_0\|^2=\eta^2\,(n^2\|u\|^2+n s^2)",
    source=NK + "; Sec. 2 (distance from initialisation grows with n)",
    check=Exact(rel_tol=0.05),
    predict=lambda n, D, K, signal, noise: T.expected_weight_norm_sq(n, signal, noise),
    domain=Domain({"n": Int(2, 40), "noise": NOISE, "D": Int(Expr("4 n", lambda q: 4 * q["n"]), Expr("16 n", lambda q: 16 * q["n"])),
                   "signal": _rho_range(0.05, 2.0), "K": Int(1, 4)}),
    default=DEFAULT,
    verify_points=({"n": 4, "D": 32},),
    simulate=_sim_weight_norm,
    reps=2000,
    mutants=(
        Mutant("noise_over_D", "n s^2 / D for the noise part",
               lambda n, D, K, signal, noise: n**2 * signal + n * noise / D),
        Mutant("mean_loss_step", "w = (1/n) sum y_i x_i (mean loss): r^2 + s^2/n, shrinking with n",
               lambda n, D, K, signal, noise: signal + noise / n),
    ),
    figure=FIGURE,
))


# --------------------------------------------------------------------------- shape of the curves in n
def _vacuous_predict(n, D, signal, noise):
    """(test, train, S') errors of the linear construction."""
    return np.array([T.linear_test_error(n, D, signal, noise), T.linear_train_error(n, D, signal, noise),
                     T.linear_sprime_error(n, D, signal, noise)])


def _floor_se(est, p, points):
    p = min(max(p, 0.0), 1.0)
    return Estimate(est.mean, max(est.se, math.sqrt(p * (1 - p) / points)), est.n)


def _sim_vacuous(params, reps, rng):
    """Test, train and S' errors along n in ``ns`` at fixed (D, signal, noise) (Bartlett fast path,
    sims.uniform_convergence.fast_error_samples; independent runs per n). The uniform-convergence
    lower bound S' - test and the true gap test - train are reported."""
    D, signal, noise, ns = params["D"], params["signal"], params["noise"], list(params["ns"])
    sims = [fast_error_samples(n, D, signal, noise, reps, rng) for n in ns]
    est = {key: [Estimate.from_samples(s[key]) for s in sims] for key in ("test", "train", "sprime")}
    # S' errors within ~1e-10 of 1 give all-equal replicates (SE = 0): floor the SE at the
    # binomial SE of reps * n independent points at the formula's value (a scale, not the claim).
    levels = [float(T.linear_sprime_error(n, D, signal, noise)) for n in ns]
    est["sprime"] = [_floor_se(e, lv, reps * n) for e, lv, n in zip(est["sprime"], levels, ns)]
    # Test errors below ~1e-12 are at the quadrature's absolute accuracy: floor the SE there.
    est["test"] = [Estimate(e.mean, max(e.se, QUAD_ABS_TOL), e.n) for e in est["test"]]
    ucb = [est["sprime"][k].mean - est["test"][k].mean for k in range(len(ns))]
    gap = [est["test"][k].mean - est["train"][k].mean for k in range(len(ns))]
    info = {"ns": ns, "test": [e.mean for e in est["test"]], "sprime": [e.mean for e in est["sprime"]],
            "train": [e.mean for e in est["train"]], "uc_lower_bound": ucb, "generalization_gap": gap}
    return {"test": Curve.from_estimates(ns, est["test"]), "sprime": Curve.from_estimates(ns, est["sprime"]), "info": info}


def _vacuous_expect(predict, params):
    preds = [np.asarray(predict(n=n, D=params["D"], signal=params["signal"], noise=params["noise"]), dtype=float)
             for n in params["ns"]]
    return {"test": [float(p[0]) for p in preds], "sprime": [float(p[2]) for p in preds]}


VACUOUS_DEFAULT = {"D": 4096, "signal": 1 / 256, "noise": 1.0, "ns": (2, 8, 32, 128), "sprime_min": 0.95}

vacuous_bound = register(Claim(
    id="uniform_convergence.vacuous_bound",
    title="Test error falls with n while the S' error stays ~1: two-sided uniform convergence is vacuous",
    statement=r"L_D(h_S)\downarrow 0 \text{ in } n,\ \ \hat L_{S'}(h_S)\approx1\ \Rightarrow\ \epsilon_{\rm unif}\ge \hat L_{S'}(h_S)-L_D(h_S)\approx1",
    source=NK + " (and Fig. 2 left)",
    # (1) test and S' errors match the formulas at every n; (2) the test error falls at every step;
    # (3) the S' error is significantly above sprime_min at every n
    check=AllOf(parts=(("test", Exact(rel_tol=0.1)), ("sprime", Exact(rel_tol=0.1)),
                       ("test_falls", Monotone(direction=-1), "test"), ("sprime_high", Band(low="sprime_min"), "sprime"))),
    predict=_vacuous_predict,
    expect=_vacuous_expect,
    domain=Domain({"D": Int(3000, 6000), "noise": NOISE,
                   "ns": Seq(Int(2, 10**4), 2, 16, increasing=True, explore=((2, 8, 32, 128),)),
                   "signal": _rho_range(0.3, 0.6, "max(ns)"), "sprime_min": Real(0.5, 0.95)}),
    default=VACUOUS_DEFAULT,
    simulate=_sim_vacuous,
    reps=400,
    mutants=(
        Mutant("sign_error_sprime_equals_test", "S' error = test error (sign error)",
               lambda n, D, signal, noise: np.array([T.linear_test_error(n, D, signal, noise), T.linear_train_error(n, D, signal, noise),
                                                     T.linear_test_error(n, D, signal, noise)])),
        Mutant("variance_not_over_D", "noise variance s^2 per coordinate instead of s^2/D",
               lambda n, D, signal, noise: _vacuous_predict(n, D, signal, noise * D)),
        Mutant("no_self_term", "S' error without the self term",
               lambda n, D, signal, noise: np.array([T.linear_test_error(n, D, signal, noise), T.linear_train_error(n, D, signal, noise),
                                                     _chi2_mix(lambda q: special.ndtr(-n * signal * D / noise / math.sqrt((n - 1) * q)), D)])),
    ),
    notes="Fixed distribution (D, ||u||, s), n grows; needs n << D and n ||u||^2 < s^2 (at n ~ s^2/||u||^2 the S' error collapses).",
    figure=FIGURE,
))


# --------------------------------------------------------------------------- norm-based bound
def _sim_norm_bound(params, reps, rng):
    """Margin-normalised Rademacher term B(n) = ||w|| max_i ||x_i|| / (min_i y_i<w,x_i> sqrt(n)) along
    ``ns`` (Bartlett Gram matrix for D >= n, explicit vectors for D < n; independent runs per n)."""
    D, signal, noise, ns = params["D"], params["signal"], params["noise"], list(params["ns"])
    ests = []
    for n in ns:
        b = _samples(n, D, signal, noise, reps, rng, params["K"])["rademacher"]
        b = np.where(np.isfinite(b), b, 1e6)  # a non-positive training margin: the bound is infinite (vacuous)
        ests.append(Estimate.from_samples(b))
    info = {"ns": ns, "bound": [e.mean for e in ests], "bound_se": [e.se for e in ests],
            "typical_value_formula": [T.rademacher_margin_bound(n, signal, noise) for n in ns]}
    return {"bound": Curve.from_estimates(ns, ests), "info": info}


norm_bound = register(Claim(
    id="uniform_convergence.norm_bound_grows",
    title="The margin-normalised norm (Rademacher) bound of the GD classifier is vacuous and grows with n",
    statement=r"B(n)=\frac{\|w\|\max_i\|x_i\|}{\min_i y_i\langle w,x_i\rangle\sqrt n}>1\ \text{and increasing in } n",
    source=NK + "; Sec. 2 / Fig. 1 (bounds grow with n); Bartlett & Mendelson 2002 (linear-class Rademacher bound)",
    # B(n) moves in the predicted direction (+1: grows) at every step, and B(n) > 1 (vacuous) at every n
    check=AllOf(parts=(("grows", Monotone(direction=None), "bound"), ("vacuous", Band(low=1.0), "bound"))),
    predict=lambda n, D, signal, noise: 1.0,
    expect=lambda predict, p: {"bound": float(predict(n=p["ns"][0], D=p["D"], signal=p["signal"], noise=p["noise"]))},
    domain=Domain({"D": Int(512, 1024), "K": Int(2, 2), "noise": NOISE,
                   "ns": Seq(Int(2, 10**4), 2, 16, increasing=True, explore=((2, 8, 32),)),
                   "signal": _rho_range(0.1, 0.5, "max(ns)")}),
    default={"D": 1024, "K": 2, "signal": 1 / 128, "noise": 1.0, "ns": (2, 8, 32)},
    simulate=_sim_norm_bound,
    mutants=(
        Mutant("classical_shrinks_like_inv_sqrt_n", "the classical picture: the bound shrinks with n",
               lambda n, D, signal, noise: -1.0),
    ),
    notes="No closed form with the minimum margin: the claim is the sign of the growth (predict = +1). "
          "claimcheck.theory.uniform_convergence.rademacher_margin_bound (mean margin) is ~1 and flat.",
    figure=FIGURE,
))
