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
from hypothesis import strategies as st
from scipy import special

from claimcheck import stats
from claimcheck.claim import Claim, Mutant
from claimcheck.estimate import Estimate
from claimcheck.registry import register
from claimcheck.verdict import Status
from claimcheck.sims.uniform_convergence import direct_error_samples, fast_error_samples
from claimcheck.theory import uniform_convergence as T

NK = "Nagarajan & Kolter, NeurIPS 2019 (arXiv:1902.04742), Sec. 3, Thm 3.1"
FIGURE = "uniform_convergence"
QUAD_ABS_TOL = 1e-12  # absolute accuracy of the 1-D quadratures in theory.uniform_convergence

DEFAULT = {"n": 16, "D": 256, "K": 2, "signal": 1 / 64, "noise": 1.0}
"""rho = n signal / noise = 1/4, D/n = 16: test error ~0.16, S' error ~0.999."""


def _chi2_mix(g, D):
    """E g(Q), Q ~ chi^2_D (for the mutants: same quadrature as the correct formulas)."""
    return T._chi2_expect(g, D)


# --------------------------------------------------------------------------- domains
def _point(n, ratio, rho, noise, K=2):
    D = max(2, int(round(ratio * n)))
    return {"n": n, "D": D, "K": K, "signal": rho * noise / n, "noise": noise}


NOISE = st.floats(0.25, 4.0)


def _in_range(f, lo, hi):
    return lambda p: lo <= f(p["n"], p["D"], p["signal"], p["noise"]) <= hi


# Errors kept in [0.02, 0.995]: relative power is reachable and some replicates disagree.
TEST_DOMAIN = st.builds(_point, st.integers(2, 40), st.floats(0.5, 16.0), st.floats(0.05, 1.2), NOISE, st.integers(1, 4)
                        ).filter(_in_range(T.linear_test_error, 0.02, 0.995))
SPRIME_DOMAIN = st.builds(_point, st.integers(2, 40), st.floats(0.5, 16.0), st.floats(0.05, 1.2), NOISE, st.integers(1, 4)
                          ).filter(_in_range(T.linear_sprime_error, 0.02, 0.995))
TRAIN_DOMAIN = st.builds(_point, st.integers(8, 64), st.floats(0.1, 1.5), st.floats(0.05, 1.2), NOISE, st.integers(1, 4)
                         ).filter(_in_range(T.linear_train_error, 0.02, 0.995))


def _sim(key):
    def simulate(params, reps, rng):
        out = direct_error_samples(params["n"], params["D"], params["signal"], params["noise"], reps, rng, K=params["K"])
        return Estimate.from_samples(out[key])
    simulate.__doc__ = f"Direct Monte Carlo of the {key} error (explicit vectors, test error Rao-Blackwellised)."
    return simulate


def _ignore_k(f):
    return lambda n, D, K, signal, noise: f(n, D, signal, noise)


# --------------------------------------------------------------------------- exact claims
test_error = register(Claim(
    id="uniform_convergence.test_error",
    title="Test error of one-step GD on the Nagarajan-Kolter linear construction",
    statement=r"\Pr(y\langle w,x\rangle<0)=\mathbb E_{Q\sim\chi^2_D}\,\Phi\!\big(-\tfrac{n r^2 D/s^2}{\sqrt{nQ}}\big)\to0\ (D\to\infty)",
    source=NK,
    kind="exact",
    predict=_ignore_k(T.linear_test_error),
    domain=TEST_DOMAIN,
    default=DEFAULT,
    verify_points=({"n": 4, "D": 64, "signal": 1 / 16}, {"n": 32, "D": 128, "signal": 1 / 64, "noise": 2.0}),
    simulate=_sim("test"),
    reps=400,
    rel_tol=0.05,
    mutants=(
        Mutant("variance_not_over_D", "noise variance s^2 per coordinate instead of s^2/D",
               lambda n, D, K, signal, noise: T.linear_test_error(n, D, signal, noise * D)),
        Mutant("forgets_n_in_noise_norm", "||Z||^2 = (s^2/D) chi^2_D, forgetting the factor n",
               lambda n, D, K, signal, noise: _chi2_mix(lambda q: special.ndtr(-n * signal * D / noise / math.sqrt(q)), D)),
        Mutant("chi2_replaced_by_mean", "Q replaced by its mean D: Phi(-rho sqrt(D/n)), no chi-square mixture",
               lambda n, D, K, signal, noise: float(special.ndtr(-n * signal / noise * math.sqrt(D / n))),
               {"n": 16, "D": 2, "signal": 0.18}),
    ),
    notes="Test error Rao-Blackwellised over the fresh point (exact Gaussian tail given w).",
    figure=FIGURE,
))

sprime_error = register(Claim(
    id="uniform_convergence.sprime_error",
    title="Error of the GD classifier on S' (its training set with the noise negated) -> 1",
    statement=r"\hat L_{S'}(h_S)=\mathbb E_{Q\sim\chi^2_D}\,\Phi\!\big(\tfrac{Q-n r^2 D/s^2}{\sqrt{(n-1)Q}}\big)\to1\ (D/n\to\infty,\ n r^2<s^2)",
    source=NK,
    kind="exact",
    predict=_ignore_k(T.linear_sprime_error),
    domain=SPRIME_DOMAIN,
    default={**DEFAULT, "D": 128},
    verify_points=({"n": 8, "D": 32, "signal": 1 / 16}, {"n": 32, "D": 64, "signal": 1 / 64}),
    simulate=_sim("sprime"),
    reps=1000,
    rel_tol=0.05,
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
    kind="exact",
    predict=_ignore_k(T.linear_train_error),
    domain=TRAIN_DOMAIN,
    default={**DEFAULT, "n": 64, "D": 64, "signal": 1 / 256},
    verify_points=({"n": 16, "D": 8, "signal": 1 / 64},),
    simulate=_sim("train"),
    reps=1000,
    rel_tol=0.1,
    mutants=(
        Mutant("no_self_term", "forgets the +||z_i||^2 self term",
               lambda n, D, K, signal, noise: _chi2_mix(lambda q: special.ndtr(-n * signal * D / noise / math.sqrt((n - 1) * q)), D)),
        Mutant("cross_terms_n_not_n_minus_1", "n instead of n - 1 cross terms",
               lambda n, D, K, signal, noise: _chi2_mix(lambda q: special.ndtr(-(n * signal * D / noise + q) / math.sqrt(n * q)), D),
               {"n": 2, "D": 2, "signal": 0.05}),
    ),
    figure=FIGURE,
))


def _sim_weight_norm(params, reps, rng):
    out = direct_error_samples(params["n"], params["D"], params["signal"], params["noise"], reps, rng, K=params["K"])
    return Estimate.from_samples(out["weight_norm_sq"])


weight_norm = register(Claim(
    id="uniform_convergence.weight_norm",
    title="Distance from initialisation of the GD step grows with n: E||w||^2 = n^2 r^2 + n s^2",
    statement=r"\mathbb E\|w-w_0\|^2=\eta^2\,(n^2\|u\|^2+n s^2)",
    source=NK + "; Sec. 2 (distance from initialisation grows with n)",
    kind="exact",
    predict=lambda n, D, K, signal, noise: T.expected_weight_norm_sq(n, signal, noise),
    domain=st.builds(_point, st.integers(2, 40), st.floats(4.0, 16.0), st.floats(0.05, 2.0), NOISE, st.integers(1, 4)),
    default=DEFAULT,
    verify_points=({"n": 4, "D": 32},),
    simulate=_sim_weight_norm,
    reps=2000,
    rel_tol=0.05,
    mutants=(
        Mutant("noise_over_D", "n s^2 / D for the noise part",
               lambda n, D, K, signal, noise: n**2 * signal + n * noise / D),
        Mutant("mean_loss_step", "w = (1/n) sum y_i x_i (mean loss): r^2 + s^2/n, shrinking with n",
               lambda n, D, K, signal, noise: signal + noise / n),
    ),
    figure=FIGURE,
))


# --------------------------------------------------------------------------- qualitative
def _vacuous_predict(n, D, signal, noise):
    """(test, train, S') errors of the linear construction."""
    return np.array([T.linear_test_error(n, D, signal, noise), T.linear_train_error(n, D, signal, noise),
                     T.linear_sprime_error(n, D, signal, noise)])


def _floor_se(est, p, points):
    p = min(max(p, 0.0), 1.0)
    return Estimate(est.mean, max(est.se, math.sqrt(p * (1 - p) / points)), est.n)


def _check_vacuous(claim, params, reps, rng):
    """Along n in ``ns`` at fixed (D, signal, noise), Bonferroni over all sub-tests:

    (1) simulated test and S' errors agree with claim.predict (two-sided, exact-test power rule);
    (2) the test error decreases significantly at every step of n;
    (3) the S' error is significantly above ``sprime_min`` at every n.
    The uniform-convergence lower bound S' - test and the true gap test - train are reported.
    Simulation: Bartlett fast path (sims.uniform_convergence.fast_error_samples).
    """
    D, signal, noise, ns = params["D"], params["signal"], params["noise"], list(params["ns"])
    K = len(ns)
    alpha_k = claim.alpha / (2 * K + (K - 1) + K)
    preds = [np.asarray(claim.predict(n=n, D=D, signal=signal, noise=noise), dtype=float) for n in ns]
    sims = [fast_error_samples(n, D, signal, noise, reps, rng) for n in ns]
    est = {key: [Estimate.from_samples(s[key]) for s in sims] for key in ("test", "train", "sprime")}
    # S' errors within ~1e-10 of 1 give all-equal replicates (SE = 0): floor the SE at the
    # binomial SE of reps * n independent points under the prediction.
    est["sprime"] = [_floor_se(e, float(p[2]), reps * n) for e, p, n in zip(est["sprime"], preds, ns)]
    # Test errors below ~1e-12 are at the quadrature's absolute accuracy: floor the SE there.
    est["test"] = [Estimate(e.mean, max(e.se, QUAD_ABS_TOL), e.n) for e in est["test"]]
    parts = []
    for k in range(K):
        parts.append(("test", ns[k], stats.exact_test(float(preds[k][0]), est["test"][k], alpha=alpha_k, rel_tol=claim.rel_tol)))
        parts.append(("S'", ns[k], stats.exact_test(float(preds[k][2]), est["sprime"][k], alpha=alpha_k, rel_tol=claim.rel_tol)))
    zc1 = stats.z_critical(alpha_k, two_sided=False)
    steps = [stats.difference(b, a) for a, b in zip(est["test"], est["test"][1:])]
    step_z = np.array([d.mean / d.se if d.se > 0 else math.copysign(math.inf, d.mean) for d in steps])
    smin = params["sprime_min"]
    above_z = np.array([(e.mean - smin) / e.se if e.se > 0 else math.copysign(math.inf, e.mean - smin) for e in est["sprime"]])
    ucb = [est["sprime"][k].mean - est["test"][k].mean for k in range(K)]
    gap = [est["test"][k].mean - est["train"][k].mean for k in range(K)]
    extra = {"ns": ns, "prediction": [p.tolist() for p in preds], "test": [e.mean for e in est["test"]],
             "sprime": [e.mean for e in est["sprime"]], "train": [e.mean for e in est["train"]],
             "uc_lower_bound": ucb, "generalization_gap": gap, "step_z": step_z.tolist(), "sprime_above_z": above_z.tolist()}
    failed = [(what, n, r) for what, n, r in parts if r.status is Status.FAILED]
    worst = max(parts, key=lambda t: abs(t[2].z))
    if failed:
        what, n, r = max(failed, key=lambda t: abs(t[2].z))
        status, detail = Status.FAILED, f"{what} error at n={n}: prediction vs simulation, {r.detail}"
        z, e = r.z, r.estimate
    elif np.any(step_z > zc1):
        i = int(np.argmax(step_z))
        status, detail = Status.FAILED, f"test error rises from n={ns[i]} to n={ns[i + 1]} (z = {step_z[i]:.1f})"
        z, e = float(step_z[i]), steps[i]
    elif np.any(above_z < -zc1):
        i = int(np.argmin(above_z))
        status, detail = Status.FAILED, f"S' error {est['sprime'][i].mean:.4f} significantly below {smin:g} at n={ns[i]}"
        z, e = float(above_z[i]), est["sprime"][i]
    elif any(r.status is Status.UNDERPOWERED for _, _, r in parts) or np.any(step_z > -zc1) or np.any(above_z < zc1):
        status, detail = Status.UNDERPOWERED, "some grid point or step not resolved"
        z, e = worst[2].z, worst[2].estimate
    else:
        status = Status.PASSED
        detail = (f"theory matches at n={ns} (max |z| = {max(abs(r.z) for _, _, r in parts):.1f}); test error falls "
                  f"{est['test'][0].mean:.3g} -> {est['test'][-1].mean:.3g} while S' error >= {min(x.mean for x in est['sprime']):.4f}; "
                  f"UC lower bound {ucb[-1]:.3f} vs true gap {gap[-1]:.3g} at n={ns[-1]}")
        e = stats.difference(est["sprime"][-1], est["test"][-1])
        z = (e.mean - float(preds[-1][2] - preds[-1][0])) / e.se
    prediction = float(preds[-1][2] - preds[-1][0])
    return prediction, stats.TestResult(status, float(z), e, detail, extra)


VACUOUS_DEFAULT = {"D": 4096, "signal": 1 / 256, "noise": 1.0, "ns": (2, 8, 32, 128), "sprime_min": 0.95}

vacuous_bound = register(Claim(
    id="uniform_convergence.vacuous_bound",
    title="Test error falls with n while the S' error stays ~1: two-sided uniform convergence is vacuous",
    statement=r"L_D(h_S)\downarrow 0 \text{ in } n,\ \ \hat L_{S'}(h_S)\approx1\ \Rightarrow\ \epsilon_{\rm unif}\ge \hat L_{S'}(h_S)-L_D(h_S)\approx1",
    source=NK + " (and Fig. 2 left)",
    kind="qualitative",
    predict=_vacuous_predict,
    domain=st.builds(lambda D, rho, noise: {"D": D, "signal": rho * noise / 128, "noise": noise, "ns": (2, 8, 32, 128), "sprime_min": 0.9},
                     st.integers(3000, 6000), st.floats(0.3, 0.6), NOISE),
    default=VACUOUS_DEFAULT,
    check_fn=_check_vacuous,
    reps=400,
    rel_tol=0.1,
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
def _check_norm_bound(claim, params, reps, rng):
    """Margin-normalised Rademacher term B(n) = ||w|| max_i ||x_i|| / (min_i y_i<w,x_i> sqrt(n)).

    claim.predict gives the predicted direction of B in n (+1 grows, -1 shrinks). failed: a
    step significantly against the prediction, or B significantly below 1 (non-vacuous) at
    some n; passed: every step significantly in the predicted direction and B > 1 throughout.
    Bonferroni over the steps and points. Direct simulator (explicit vectors).
    """
    D, signal, noise, ns = params["D"], params["signal"], params["noise"], list(params["ns"])
    direction = float(np.sign(claim.predict(n=ns[0], D=D, signal=signal, noise=noise)))
    ests = []
    for n in ns:
        b = direct_error_samples(n, D, signal, noise, reps, rng, K=params["K"])["rademacher"]
        b = np.where(np.isfinite(b), b, 1e6)  # a non-positive training margin: the bound is infinite (vacuous)
        ests.append(Estimate.from_samples(b))
    steps = [stats.difference(b, a) for a, b in zip(ests, ests[1:])]
    sz = direction * np.array([d.mean / d.se for d in steps])
    vz = np.array([(e.mean - 1.0) / e.se for e in ests])
    zc = stats.z_critical(claim.alpha / (len(steps) + len(ests)), two_sided=False)
    extra = {"ns": ns, "bound": [e.mean for e in ests], "bound_se": [e.se for e in ests], "step_z": sz.tolist(),
             "typical_value_formula": [T.rademacher_margin_bound(n, signal, noise) for n in ns]}
    i = int(np.argmin(sz))
    if sz[i] < -zc:
        status, detail = Status.FAILED, f"B(n) moves against the predicted direction from n={ns[i]} to n={ns[i + 1]} (z = {sz[i]:.1f})"
    elif np.any(vz < -zc):
        status, detail = Status.FAILED, f"B(n) significantly below 1 at n={ns[int(np.argmin(vz))]}: non-vacuous"
    elif np.all(sz > zc) and np.all(vz > zc):
        status = Status.PASSED
        detail = f"B(n) = {', '.join(f'{e.mean:.3f}' for e in ests)} at n = {ns}: vacuous (> 1) and growing with n"
    else:
        status, detail = Status.UNDERPOWERED, "some step or point not resolved"
    return direction, stats.TestResult(status, float(sz[i]), steps[i], detail, extra)


norm_bound = register(Claim(
    id="uniform_convergence.norm_bound_grows",
    title="The margin-normalised norm (Rademacher) bound of the GD classifier is vacuous and grows with n",
    statement=r"B(n)=\frac{\|w\|\max_i\|x_i\|}{\min_i y_i\langle w,x_i\rangle\sqrt n}>1\ \text{and increasing in } n",
    source=NK + "; Sec. 2 / Fig. 1 (bounds grow with n); Bartlett & Mendelson 2002 (linear-class Rademacher bound)",
    kind="qualitative",
    predict=lambda n, D, signal, noise: 1.0,
    domain=st.builds(lambda D, rho, noise: {"D": D, "K": 2, "signal": rho * noise / 32, "noise": noise, "ns": (2, 8, 32)},
                     st.integers(512, 1024), st.floats(0.1, 0.5), NOISE),
    default={"D": 1024, "K": 2, "signal": 1 / 128, "noise": 1.0, "ns": (2, 8, 32)},
    check_fn=_check_norm_bound,
    reps=100,
    mutants=(
        Mutant("classical_shrinks_like_inv_sqrt_n", "the classical picture: the bound shrinks with n",
               lambda n, D, signal, noise: -1.0),
    ),
    notes="No closed form with the minimum margin: the claim is the sign of the growth (predict = +1). "
          "claimcheck.theory.uniform_convergence.rademacher_margin_bound (mean margin) is ~1 and flat.",
    figure=FIGURE,
))
