"""Claims of PAC-Bayes theory and Bayesian model selection (seed 003).

* ``pac_bayes.coverage``: McAllester / Maurer / Catoni bounds hold with frequency >= 1 - delta.
* ``pac_bayes.tuning_coverage``: best of k priors, charged ln k, still covers w.p. >= 1 - delta;
  not charging ln k breaks coverage as k grows (the mutants).
* ``pac_bayes.occam_coverage``: the Occam / compression bound (KL -> code length x ln 2) of the
  hypothesis selected by the bound holds w.p. >= 1 - delta (Elias-gamma-coded countable class;
  quantised linear classifiers coded by ``code_length_bits``).
* ``pac_bayes.gaussian_posterior_coverage``: McAllester / kl-inverse / Catoni bounds for
  Q = N(w, sigma^2 I), P = N(0, sigma0^2 I) over linear classifiers, w fit on the sample.
* ``pac_bayes.kl_bound_ordering``: the kl-inverse bound is never looser than McAllester's.
* ``pac_bayes.tuning_cost``: the McAllester cost of tuning in closed form (union bound
  delta -> delta/k), increasing and concave in ln k, below sqrt(ln k/(2n - 1)).
* ``pac_bayes.lml_chain_rule``, ``pac_bayes.lml_monte_carlo``: the closed-form log evidence
  of Bayesian linear regression equals the chain-rule sum and an importance-sampling estimate.
* ``pac_bayes.lml_clml_disagree``: LML and CLML rank a tight and a diffuse prior differently.

Coverage claims and mutants. The formula of a coverage claim is the *bound*: ``predict``
looks up the bound function named by the parameter ``bound`` (:func:`bound_by_name`; the Occam
claim's also returns how the code length is charged), the simulation uses it, and the exact
binomial check compares the simulated frequency with the promised level 1 - delta. The
registered wrong formulas live in :data:`WRONG_BOUNDS`; each mutant replaces the lookup by a
wrong formula (e.g. the kl-inverse bound without ln k), so the same test must reject it.
"""
from __future__ import annotations

import math

import numpy as np
from threadpoolctl import threadpool_limits

from claimcheck.checks import AllOf, Coverage, Deterministic, Exact, ThresholdCI
from claimcheck.claim import Claim, Mutant
from claimcheck.domain import AnyOf, Choice, Domain, Expr, Int, Real
from claimcheck.estimate import Curve, Estimate
from claimcheck.registry import register
from claimcheck.sims import pac_bayes as S
from claimcheck.theory import marginal_likelihood as ML
from claimcheck.theory import pac_bayes as T

MCA = "McAllester, COLT 1999, Thm 1 / COLT 2003, Thm 1"
MAU = "Maurer 2004 (arXiv:cs/0411099), Thm 5; Seeger, JMLR 2002, Thm 1"
CAT = "Catoni 2007, Thm 1.2.6"
SEED = "seed 003 (Goldblum): 'cost: log(k)'"
LIBGW = "Lotfi, Izmailov, Benton, Goldblum, Wilson, ICML 2022, eq. (1), Sec. 5"
BISHOP = "Bishop 2006, eq. (3.86)"

DELTAS = Real(0.05, 0.2)  # delta = 0.01 needs ~15k draws: beyond the quick budget
BOUND_NAMES = Choice(tuple(T.BOUNDS), callable_ok=True)  # a callable: your bound f(emp_risk, kl, n, delta, k=1)


# --------------------------------------------------------------------------- wrong formulas

def _coverage_estimate(holds) -> Estimate:
    """The fraction of draws in which the bound held (the coverage test reads mean and n)."""
    return Estimate(float(holds.mean()), float(holds.std() / math.sqrt(holds.size)), int(holds.size))

def _kl_sign_error(q, p):
    """kl with the sign of the second term flipped: q ln(q/p) - (1-q) ln((1-q)/(1-p)) (< 0 for p > q)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(q > 0, q * (np.log(q) - np.log(p)), 0.0)
        b = np.where(q < 1, (1 - q) * (np.log1p(-q) - np.log1p(-p)), 0.0)
    return np.nan_to_num(a - b, nan=-np.inf)


def _maurer_c(kl, n, delta, k):
    return (np.asarray(kl) + np.log(k) + math.log(2 * math.sqrt(n) / delta)) / n


def _maurer_c_without_1_over_n(kl, n, delta, k):
    return np.asarray(kl) + np.log(k) + math.log(2 * math.sqrt(n) / delta)


def maurer_kl_sign_error(emp_risk, kl, n, delta, k=1):
    """Maurer's bound computed with a sign error inside the kl inverse (returns 1)."""
    return T.kl_inverse_upper(emp_risk, _maurer_c(kl, n, delta, k), _kl_fn=_kl_sign_error)


def kl_inverse_without_1_over_n(emp_risk, kl, n, delta, k=1):
    """The kl inverse at c = KL + ln k + ln(2 sqrt n / delta), forgetting the division by n."""
    return T.kl_inverse_upper(emp_risk, _maurer_c_without_1_over_n(kl, n, delta, k))


def _kl_inverse_groups(c_of, kl_fn=None):
    """For a formula ``kl_inverse_upper(emp_risk, c_of(kl, n, delta, k), _kl_fn=kl_fn)``: its values
    on a list of argument tuples with one kl inversion for all (the inverse works element by element,
    c is formed per tuple as the formula forms it): bit for bit the calls one by one."""
    def groups(batches):
        qs, cs, shapes = [], [], []
        for emp_risk, kl, n, delta, k in batches:
            q, c = np.broadcast_arrays(np.asarray(emp_risk, dtype=float), np.asarray(c_of(kl, n, delta, k), dtype=float))
            qs.append(q.ravel())
            cs.append(c.ravel())
            shapes.append(q.shape)
        flat = np.asarray(T.kl_inverse_upper(np.concatenate(qs), np.concatenate(cs), _kl_fn=kl_fn), dtype=float)
        ends = np.cumsum([math.prod(shape) for shape in shapes])
        return [part.reshape(shape) for part, shape in zip(np.split(flat, ends[:-1]), shapes)]
    return groups


def maurer_lower_root(emp_risk, kl, n, delta, k=1):
    """The kl inverse on the wrong side of q: inf{p <= q : kl(q||p) <= c} (sign of p - q flipped)."""
    q = np.asarray(emp_risk, float)
    c = (np.asarray(kl) + np.log(k) + math.log(2 * math.sqrt(n) / delta)) / n
    # kl(q||p) on [0, q] mirrors p -> 1 - p: kl(q||p) = kl(1-q||1-p), so use the upper inverse.
    return 1.0 - np.asarray(T.kl_inverse_upper(1.0 - q, c))


WRONG_BOUNDS = {
    "maurer[no_log_k]": lambda q, kl, n, delta, k=1: T.maurer_bound(q, kl, n, delta, 1),
    "mcallester[no_log_k]": lambda q, kl, n, delta, k=1: T.mcallester_bound(q, kl, n, delta, 1),
    "catoni[no_log_k]": lambda q, kl, n, delta, k=1: T.catoni_bound(q, kl, n, delta, 1),
    "maurer[lower_root]": maurer_lower_root,
    "mcallester[no_sqrt]": lambda q, kl, n, delta, k=1: np.asarray(q) + (np.asarray(kl) + np.log(k) + math.log(n / delta) + 2) / (2 * n - 1),
    "maurer[no_kl]": lambda q, kl, n, delta, k=1: T.maurer_bound(q, 0.0 * np.asarray(kl), n, delta, k),
    "catoni[no_kl]": lambda q, kl, n, delta, k=1: T.catoni_bound(q, 0.0 * np.asarray(kl), n, delta, k),
}
"""Deliberately wrong bound formulas, by name: the coverage claims' mutants."""


def bound_by_name(name):
    """A correct bound from :data:`theory.pac_bayes.BOUNDS` or a wrong one from :data:`WRONG_BOUNDS`,
    by name; or ``name`` itself when it is a function ``f(emp_risk, kl, n, delta, k=1)``, vectorised
    over numpy arrays of ``emp_risk`` like the named ones (so a
    coverage claim can check *your* bound: ``params={"bound": my_bound}``)."""
    if callable(name):
        return name
    table = {**T.BOUNDS, **WRONG_BOUNDS}
    if name not in table:
        raise ValueError(f"bound={name!r}, must be one of {', '.join(repr(b) for b in table)}")
    return table[name]


def _level(predict, params):
    """The promised coverage level 1 - delta (what the coverage check compares with)."""
    return 1.0 - params["delta"]


def _wrong(name):
    """A mutant's formula: the wrong bound ``name`` from :data:`WRONG_BOUNDS`, whatever bound is named."""
    fn = WRONG_BOUNDS[name]
    return lambda bound: fn


# --------------------------------------------------------------------------- coverage
def _sim_coverage(params, reps, rng, predict):
    d = S.threshold_gibbs_draws(params["n"], params["grid"], params["noise"], params["beta"], reps, rng)
    holds = S.bound_coverage_draws(d, params["n"], params["delta"], predict(params["bound"]))
    return _coverage_estimate(holds)


coverage = register(Claim(
    id="pac_bayes.coverage",
    title="PAC-Bayes bounds hold with probability at least 1 - delta (Gibbs posteriors over thresholds)",
    statement=r"\Pr_S\big[\mathbb E_Q R \le B(\mathbb E_Q\hat R, \mathrm{KL}(Q\|P), n, \delta)\ \forall Q\big] \ge 1-\delta,\ B\in\{\text{McAllester, kl-inverse, Catoni}\}",
    source=f"{MCA}; {MAU}; {CAT}",
    check=Coverage(rel_tol=0.5),
    predict=bound_by_name,
    expect=_level,
    domain=Domain({"n": Int(20, 400), "grid": Int(2, 100), "noise": Real(0.0, 0.5), "beta": Real(0.0, 100.0), "delta": DELTAS,
                   "bound": BOUND_NAMES}),
    default={"n": 200, "grid": 20, "noise": 0.2, "beta": 1.0, "delta": 0.05, "bound": "maurer"},
    verify_points=({"bound": "mcallester"}, {"bound": "catoni", "n": 50, "grid": 100, "noise": 0.5, "beta": 100.0}),
    simulate=_sim_coverage,
    simulate_takes_predict=True,
    reps=4000,
    mutants=(
        Mutant("kl_inverse_lower_root", "kl inverse solved on the wrong side of q (p <= q): a sign error",
               _wrong("maurer[lower_root]")),
        Mutant("mcallester_without_sqrt", "complexity (KL + ln(n/delta) + 2)/(2n - 1) without the square root",
               _wrong("mcallester[no_sqrt]"), {"bound": "mcallester", "n": 50, "grid": 100, "noise": 0.5, "beta": 100.0}),
    ),
    notes="x ~ U[0,1], labels 1[x > 1/2] flipped w.p. noise; m + 1 thresholds j/m, uniform prior; Gibbs "
          "posterior Q_j ∝ exp(-beta errors_j) (beta = 100: essentially the ERM point mass). True risks exact; "
          "coverage counted over independent samples, exact binomial test (rel_tol 0.5: detects coverage 1 - 1.5 delta).",
    figure="pac_bayes_tuning",
))


def _sim_tuning(params, reps, rng, predict):
    holds = S.tuning_coverage_draws(params["n"], params["k"], params["delta"], predict(params["bound"]), reps, rng)
    return _coverage_estimate(holds)


tuning_coverage = register(Claim(
    id="pac_bayes.tuning_coverage",
    title="Tuning the prior over k choices keeps the bound valid at the price ln k",
    statement=r"\Pr\big[R(\hat h_{\hat j}) \le B(\hat R, 0, n, \delta, k)\big]\ge 1-\delta,\ \hat j=\arg\min_{j\le k} B_j\quad(\ln(n/\delta)\to\ln(kn/\delta))",
    source=f"{SEED}; {MCA} + union bound; {MAU}",
    check=Coverage(rel_tol=0.5),
    predict=bound_by_name,
    expect=_level,
    domain=Domain({"n": Int(10, 1000), "k": Int(1, 10**7), "delta": DELTAS, "bound": BOUND_NAMES}),
    default={"n": 100, "k": 1000, "delta": 0.05, "bound": "maurer"},
    verify_points=({"bound": "mcallester", "k": 10**6}, {"bound": "catoni", "k": 10**4}),
    simulate=_sim_tuning,
    simulate_takes_predict=True,
    reps=4000,
    mutants=(
        Mutant("drop_log_k", "kl-inverse bound of the best of k = 10^4 without the ln k charge",
               _wrong("maurer[no_log_k]"), {"bound": "maurer", "k": 10**4}),
        Mutant("drop_log_k_mcallester", "McAllester bound of the best of k = 10^6 without the ln k charge",
               _wrong("mcallester[no_log_k]"), {"bound": "mcallester", "k": 10**6}),
        Mutant("drop_log_k_catoni", "Catoni bound (C = 1) of the best of k = 10^4 without the ln k charge",
               _wrong("catoni[no_log_k]"), {"bound": "catoni", "k": 10**4}),
    ),
    notes="k random classifiers on pure-noise labels (true risk exactly 1/2), point-mass priors, KL = 0; "
          "the best is selected (it has the smallest bound). Min of k Binomial(n, 1/2) sampled exactly by inversion.",
    figure="pac_bayes_tuning",
))


# --------------------------------------------------------------------------- Occam / compression
def occam_formula(bound, charge: float = 1.0):
    """The Occam claim's formula: the bound function named ``bound`` and the charge of the code
    length (KL = charge x L ln 2; the theorem charges it in full)."""
    return bound_by_name(bound), charge


def _sim_occam(params, reps, rng, predict):
    fn, charge = predict(params["bound"])
    if params["learner"] == "elias_gamma":
        holds = S.occam_index_draws(params["n"], params["groups"], params["delta"], fn, reps, rng, charge=charge)
    elif params["learner"] == "quantized":
        with threadpool_limits(1, "blas"):
            holds = S.occam_quantized_draws(params["n"], params["d"], params["snr"], params["max_levels"], params["delta"],
                                            fn, reps, rng, charge=charge)
    else:
        raise ValueError(f"learner={params['learner']!r}, must be one of 'elias_gamma', 'quantized'")
    return _coverage_estimate(holds)


_OCCAM_BASE = {"n": 100, "groups": 20, "d": 5, "snr": 1.0, "max_levels": 8}

occam_coverage = register(Claim(
    id="pac_bayes.occam_coverage",
    title="The Occam / compression bound (KL -> code length x ln 2) of the bound-minimising hypothesis holds w.p. >= 1 - delta",
    statement=r"\Pr_S\big[R(\hat h)\le B(\hat R(\hat h), L(\hat h)\ln 2, n,\delta)\big]\ge 1-\delta,\ \hat h=\arg\min_h B(\hat R(h), L(h)\ln 2),\ \textstyle\sum_h 2^{-L(h)}\le 1",
    source=f"{LIBGW.replace('Izmailov, Benton, Goldblum, Wilson, ICML 2022, eq. (1), Sec. 5', 'Finzi, Kapoor, Potapczynski, Goldblum, Wilson, NeurIPS 2022, eq. (2)-(4)')}; {MCA}; {MAU}",
    check=Coverage(rel_tol=0.5),
    predict=occam_formula,
    expect=_level,
    domain=AnyOf((
        Domain({"n": Int(10, 400), "groups": Int(1, 30), "d": Choice((5,)), "snr": Choice((1.0,)), "max_levels": Choice((8,)),
                "learner": Choice(("elias_gamma",)), "delta": DELTAS, "bound": BOUND_NAMES}),
        Domain({"n": Int(10, 500), "groups": Choice((20,)), "d": Int(1, 8), "snr": Real(0.0, 3.0), "max_levels": Int(1, 8),
                "learner": Choice(("quantized",)), "delta": DELTAS, "bound": BOUND_NAMES}),
    ), note="groups is the Elias-gamma class size (|H| = 2^groups - 1); d, snr, max_levels describe the quantised learner"),
    default={**_OCCAM_BASE, "learner": "elias_gamma", "delta": 0.05, "bound": "maurer"},
    verify_points=({"bound": "catoni", "groups": 30}, {"learner": "quantized", "n": 500}),
    simulate=_sim_occam,
    simulate_takes_predict=True,
    reps=4000,
    mutants=(
        Mutant("drop_code_length", "Occam bound of the best of 2^20 - 1 hypotheses with the code length dropped (KL = 0)",
               lambda bound: occam_formula(bound, 0.0)),
        Mutant("code_length_quartered", "code length charged as L ln 2 / 4 (e.g. a 4x too short code) over 2^30 - 1 hypotheses",
               lambda bound: occam_formula(bound, 0.25), {"groups": 30}),
    ),
    notes="learner='elias_gamma': pure-noise labels (every true risk 1/2), hypotheses j = 1..2^groups - 1 coded by the "
          "Elias gamma code of j; the hypothesis with the smallest bound is reported (the union over the code is what makes "
          "this valid); min of 2^g binomials sampled exactly. learner='quantized': x | y ~ N(y mu, I_d), class-mean difference "
          "rescaled to max |w_j| = 1 and quantised to K <= max_levels uniform levels of [-1, 1] (codebook fixed by K), "
          "L = code_length_bits(codebook_bits_per_level=0) (arithmetic code + counts + Elias gamma of K), best K reported (bound ~0.3 at n = 500 for risk ~0.17), R(v) = Phi(-<v, mu>/||v||) exact. The formula charges the code length in full; "
          "mutants scale it. Not registered because a coverage test cannot reject it: code length in bits "
          "used as nats (charge 1/ln 2 > 1) only loosens the bound.",
    figure="pac_bayes_coverage",
))


# --------------------------------------------------------------------------- Gaussian posteriors
def _sim_gaussian(params, reps, rng, predict):
    with threadpool_limits(1, "blas"):
        d = S.gaussian_posterior_draws(params["n"], params["d"], params["snr"], params["scale"], params["sigma"],
                                       params["sigma0"], reps, rng)
    holds = S.bound_coverage_draws(d, params["n"], params["delta"], predict(params["bound"]))
    return _coverage_estimate(holds)


_NOISE_POINT = {"n": 60, "d": 30, "snr": 0.0, "scale": 1.0, "sigma": 0.1, "sigma0": 1.0}

gaussian_posterior_coverage = register(Claim(
    id="pac_bayes.gaussian_posterior_coverage",
    title="PAC-Bayes bounds for Gaussian posteriors over linear classifiers hold with probability >= 1 - delta",
    statement=r"\Pr_S\big[\mathbb E_{v\sim N(w,\sigma^2I)}R(v)\le B(\mathbb E_Q\hat R,\ \tfrac12(\|w\|^2/\sigma_0^2+d(\sigma^2/\sigma_0^2-1-\ln\sigma^2/\sigma_0^2)), n,\delta)\big]\ge1-\delta",
    source=f"{MCA}; {MAU}; {CAT}; Langford & Caruana, NIPS 2001; Dziugaite & Roy, UAI 2017",
    check=Coverage(rel_tol=0.5),
    predict=bound_by_name,
    expect=_level,
    domain=AnyOf((
        Domain({"n": Int(20, 500), "d": Choice((2,)), "snr": Real(0.2, 3.0), "scale": Real(0.5, 5.0), "sigma": Real(0.2, 2.0),
                "sigma0": Real(0.5, 5.0), "delta": DELTAS, "bound": BOUND_NAMES}),
        Domain({"n": Int(20, 100), "d": Int(2, 30), "snr": Choice((0.0,)), "scale": Real(0.5, 3.0), "sigma": Real(0.05, 1.0),
                "sigma0": Choice((1.0,)), "delta": DELTAS, "bound": BOUND_NAMES}),
    ), note="E_Q R is exact for d = 2 (projected-normal quadrature) or snr = 0 (any d)"),
    default={"n": 500, "d": 2, "snr": 2.0, "scale": 3.0, "sigma": 1.0, "sigma0": 3.0, "delta": 0.05, "bound": "maurer"},
    verify_points=({"bound": "mcallester", "n": 200, "snr": 1.0}, {**_NOISE_POINT, "bound": "catoni"}),
    simulate=_sim_gaussian,
    simulate_takes_predict=True,
    reps=4000,
    mutants=(
        Mutant("drop_kl", "kl-inverse bound with KL(Q||P) dropped, posterior mean fit to noise in d = 30 (n = 60)",
               _wrong("maurer[no_kl]"), {**_NOISE_POINT, "bound": "maurer"}),
        Mutant("drop_kl_catoni", "Catoni bound with KL(Q||P) dropped, same noise fit", _wrong("catoni[no_kl]"),
               {**_NOISE_POINT, "bound": "catoni"}),
        Mutant("kl_inverse_lower_root", "kl inverse solved on the wrong side of the empirical Gibbs risk (sign error)",
               _wrong("maurer[lower_root]")),
    ),
    notes="z = y x ~ N(mu, I_d), mu = snr e_1; w = scale x mean(z)/||mean(z)||, so KL is a constant but w (and E_Q R_hat) "
          "depend on the sample. E_Q R_hat exact per point (Phi(-<w, z_i>/(sigma ||z_i||))); E_Q R exact: 1/2 when snr = 0 "
          "(any d), projected-normal quadrature (error < 1e-10) when d = 2. Mutants that only loosen a bound cannot be "
          "rejected by a coverage test and are not registered: n instead of 2n - 1 in McAllester, bits/nats confusion "
          "that inflates KL, ln(n/delta) instead of ln(2 sqrt(n)/delta) for n >= 8 is looser too.",
    figure="pac_bayes_coverage",
))


# --------------------------------------------------------------------------- ordering (deterministic)
def _random_inputs(rng, batches, per_batch):
    """Random valid (emp_risk, kl, n, delta, k) batches: n log-uniform in [1, 1e6], edges oversampled."""
    for _ in range(batches):
        n = int(np.exp(rng.uniform(0, math.log(1e6))))
        delta = float(np.exp(rng.uniform(math.log(1e-6), math.log(0.99))))
        q = rng.uniform(0, 1, per_batch)
        q[: per_batch // 10] = 0.0
        q[per_batch // 10: per_batch // 5] = 1.0
        kl = np.exp(rng.uniform(math.log(1e-3), math.log(1e4), per_batch))
        kl[::7] = 0.0
        k = np.floor(np.exp(rng.uniform(0, math.log(1e9), per_batch)))
        yield q, kl, n, delta, k


def _sim_ordering(params, reps, rng, predict):
    """Worst violation of McAllester - predict (the kl-inverse bound) >= 0 over random valid inputs,
    in units of KL_INVERSE_TOL (deterministic: a value > 1 is a counterexample beyond rounding)."""
    batches = list(_random_inputs(rng, max(4, reps // params["per_batch"]), params["per_batch"]))
    if predict in _ORDERING_GROUPS:  # the known kl-inverse formulas: every batch in one kl inversion, the same floats
        bounds = _ORDERING_GROUPS[predict](batches)
    else:
        bounds = [predict(q, kl, n, delta, k) for q, kl, n, delta, k in batches]
    worst, worst_at, count = math.inf, None, 0
    for (q, kl, n, delta, k), bound in zip(batches, bounds):
        gap = np.asarray(T.mcallester_bound(q, kl, n, delta, k)) - np.asarray(bound)
        count += gap.size
        i = int(np.argmin(gap))
        if gap[i] < worst:
            worst, worst_at = float(gap[i]), {"emp_risk": float(q[i]), "kl": float(kl[i]), "n": n, "delta": delta, "k": float(k[i])}
    return Curve.exact(["kl bound <= McAllester"], [-worst / T.KL_INVERSE_TOL], n=count,
                       info={"min_gap": worst, "at": worst_at, "tolerance": T.KL_INVERSE_TOL})


_ORDERING_GROUPS = {T.maurer_bound: T._maurer_bound_groups,
                    maurer_kl_sign_error: _kl_inverse_groups(_maurer_c, _kl_sign_error),
                    kl_inverse_without_1_over_n: _kl_inverse_groups(_maurer_c_without_1_over_n)}
"""The kl_bound_ordering formula and its mutants, each with its evaluator on a list of batches."""


kl_bound_ordering = register(Claim(
    id="pac_bayes.kl_bound_ordering",
    title="The kl-inverse (Maurer) bound is never looser than McAllester's",
    statement=r"\mathrm{kl}^{-1}\Big(\hat R, \tfrac{\mathrm{KL}+\ln k+\ln(2\sqrt n/\delta)}{n}\Big) \le \hat R + \sqrt{\tfrac{\mathrm{KL}+\ln k+\ln(n/\delta)+2}{2n-1}}",
    source=f"{MAU}; {MCA}; Pinsker's inequality",
    check=Deterministic(),
    predict=T.maurer_bound,
    domain=Domain({"per_batch": Int(20, 500)}),
    default={"per_batch": 200},
    simulate=_sim_ordering,
    simulate_takes_predict=True,
    reps=8000,
    mutants=(
        Mutant("kl_sign_error", "sign error in the kl inside the kl inverse (second term subtracted)", maurer_kl_sign_error),
        Mutant("kl_inverse_without_1_over_n", "kl inverse at c = KL + ln k + ln(2 sqrt n/delta), forgetting / n",
               kl_inverse_without_1_over_n),
    ),
    notes="Deterministic: random valid inputs (n in [1, 1e6], KL in {0} ∪ [1e-3, 1e4], k in [1, 1e9], emp risk with "
          "0 and 1 oversampled); tolerance = KL_INVERSE_TOL. Proof: Pinsker, and ln(2 sqrt n) < ln n + 2, 2n - 1 < 2n.",
    figure="pac_bayes_tuning",
))


# --------------------------------------------------------------------------- tuning cost (deterministic)
_ROUNDING = 1e-12  # float64 rounding of these O(10) operations is < 1e-14 relative


def _sim_tuning_cost(params, reps, rng, predict):
    """At random valid (kl, n, delta, k), the worst violation of each property of predict (the
    tuning cost), in units of its rounding tolerance tol = 1e-12 (1 + bound): equal to the
    union-bound definition mcallester(delta/k) - mcallester(delta); at most sqrt(ln k/(2n-1));
    increasing (steps >= -tol) and concave (second differences <= tol) in ln k on a grid."""
    batches = max(4, reps // params["per_batch"])
    worst = {"definition": (0.0, None), "below sqrt(ln k/(2n-1))": (0.0, None), "increasing in ln k": (0.0, None),
             "concave in ln k": (0.0, None)}
    count = 0

    def note(key, value, at):
        if value > worst[key][0]:
            worst[key] = (float(value), at)

    for q, kl, n, delta, k in _random_inputs(rng, batches, params["per_batch"]):
        k = np.maximum(k, 2.0)
        pred = np.asarray(predict(kl, n, delta, k), dtype=float)
        definition = np.asarray(T.mcallester_bound(q, kl, n, delta / k)) - np.asarray(T.mcallester_bound(q, kl, n, delta))
        scale = _ROUNDING * (1.0 + np.asarray(T.mcallester_bound(q, kl, n, delta / k)))
        err = np.abs(pred - definition) / scale
        count += err.size
        i = int(np.argmax(err))
        note("definition", err[i], {"kl": float(kl[i]), "n": n, "delta": delta, "k": float(k[i]),
                                    "predicted": float(pred[i]), "definition": float(definition[i])})
        above = (pred - np.sqrt(np.log(k) / (2 * n - 1))) / scale
        i = int(np.argmax(above))
        note("below sqrt(ln k/(2n-1))", above[i], {"n": n, "k": float(k[i])})
        grid = np.exp(np.linspace(0.0, 25.0, 51))
        c = np.asarray(predict(float(kl[0]), n, delta, grid), dtype=float)
        tol = _ROUNDING * (1 + c.max())
        note("increasing in ln k", float(np.max(-np.diff(c))) / tol, {"n": n, "kl": float(kl[0])})
        note("concave in ln k", float(np.max(np.diff(c, 2))) / tol, {"n": n, "kl": float(kl[0])})
    names = list(worst)
    return Curve.exact(names, [worst[k][0] for k in names], n=count, info={"at": {k: worst[k][1] for k in names}})


tuning_cost = register(Claim(
    id="pac_bayes.tuning_cost",
    title="The cost of tuning over k priors: closed form, concave in ln k, at most sqrt(ln k / (2n - 1))",
    statement=r"B_\delta(k)-B_\delta(1)=B_{\delta/k}(1)-B_\delta(1)=\sqrt{\tfrac{B_0+\ln k}{2n-1}}-\sqrt{\tfrac{B_0}{2n-1}}\le\sqrt{\tfrac{\ln k}{2n-1}},\ B_0=\mathrm{KL}+\ln\tfrac n\delta+2",
    source=f"{SEED}; {MCA} + union bound",
    check=Deterministic(),
    predict=lambda kl, n, delta, k: T.tuning_cost(kl, n, delta, k),
    domain=Domain({"per_batch": Int(20, 500)}),
    default={"per_batch": 200},
    simulate=_sim_tuning_cost,
    simulate_takes_predict=True,
    reps=4000,
    mutants=(
        Mutant("denominator_n", "n instead of 2n - 1 in the denominator",
               lambda kl, n, delta, k: np.sqrt((np.asarray(kl) + np.log(k) + math.log(n / delta) + 2) / n) - np.sqrt((np.asarray(kl) + math.log(n / delta) + 2) / n)),
        Mutant("drop_log_k", "no cost at all: tuning treated as free",
               lambda kl, n, delta, k: 0.0 * np.asarray(np.log(k)) * np.asarray(kl)),
        Mutant("log_k_outside_sqrt", "cost ln k / (2n - 1) (linear, not under the square root)",
               lambda kl, n, delta, k: np.log(k) / (2 * n - 1) + 0.0 * np.asarray(kl)),
    ),
    notes="Deterministic identity and shape checks at random valid inputs; tolerance 1e-12 x (1 + bound) for float rounding "
          "(increasing: no step below -tolerance; concave: no second difference above it).",
    figure="pac_bayes_tuning",
))


# --------------------------------------------------------------------------- marginal likelihood
def _random_regression(rng, n, d, s2, sig2):
    X = rng.standard_normal((n, d))
    w = math.sqrt(s2) * rng.standard_normal(d)
    return X, X @ w + math.sqrt(sig2) * rng.standard_normal(n)


def _sim_chain_rule(params, reps, rng, predict):
    """At random data sets (n, d, prior_var, noise_var): |predict(X, y, s2, sigma2) - sum of the
    sequential posterior-predictive log densities|, worst case, in units of 1e-10 (1 + |LML|)."""
    cases = max(5, reps // 100)
    worst, worst_at = 0.0, None
    with threadpool_limits(1, "blas"):
        for _ in range(cases):
            n, d = int(rng.integers(1, params["n_max"] + 1)), int(rng.integers(1, params["d_max"] + 1))
            s2, sig2 = float(np.exp(rng.uniform(-4, 4))), float(np.exp(rng.uniform(-3, 2)))
            X, y = _random_regression(rng, n, d, s2, sig2)
            chain = float(ML.sequential_log_predictive(X, y, s2, sig2).sum())
            err = abs(float(predict(X, y, s2, sig2)) - chain) / (1e-10 * (1 + abs(chain)))
            if not err <= worst:
                worst, worst_at = err, {"n": n, "d": d, "prior_var": s2, "noise_var": sig2, "chain_rule": chain}
    if not math.isfinite(worst):
        worst = 1e300  # a NaN or inf log evidence is a violation, reported as such
    return Curve.exact(["LML = chain-rule sum"], [worst], n=cases, info={"at": worst_at})


def _lml_missing_logdet(X, y, prior_var, noise_var):
    X, y = np.asarray(X, float), np.asarray(y, float)
    K = prior_var * X @ X.T + noise_var * np.eye(y.size)
    return float(-0.5 * y @ np.linalg.solve(K, y) - 0.5 * y.size * math.log(2 * math.pi))


lml_chain_rule = register(Claim(
    id="pac_bayes.lml_chain_rule",
    title="Log marginal likelihood = sum of sequential posterior-predictive log densities",
    statement=r"\log p(y)=-\tfrac12 y^\top K^{-1}y-\tfrac12\log\det K-\tfrac n2\log 2\pi=\sum_i\log p(y_i\mid y_{<i}),\ K=s^2XX^\top+\sigma^2I",
    source=f"{BISHOP}; {LIBGW}",
    check=Deterministic(),
    predict=ML.log_marginal_likelihood,
    domain=Domain({"n_max": Int(2, 60), "d_max": Int(1, 10)}),
    default={"n_max": 40, "d_max": 8},
    simulate=_sim_chain_rule,
    simulate_takes_predict=True,
    reps=3000,
    mutants=(
        Mutant("missing_logdet", "drops -1/2 log det K", _lml_missing_logdet),
        Mutant("logdet_without_noise_term", "Woodbury log det without n log sigma^2",
               lambda X, y, prior_var, noise_var: ML.log_marginal_likelihood(X, y, prior_var, noise_var) + 0.5 * np.shape(X)[0] * math.log(noise_var)),
    ),
    notes="Deterministic identity at random data sets; tolerance 1e-10 (1 + |LML|).",
    figure="marginal_likelihood_selection",
))


def _ml_data(n, d, prior_var, noise_var, data_seed):
    X, y, _ = ML.make_regression_data(n, d, w_scale=math.sqrt(prior_var), noise_var=noise_var, seed=data_seed)
    return X, y


def _ml_reference(X, y, prior_var, noise_var):
    """c = log p(y | mu) + log p(mu) at the posterior mean: a data-dependent scale, not the LML formula."""
    mu, _ = ML.posterior(X, y, prior_var, noise_var)
    d = mu.size
    return float(ML.log_likelihood(X, y, mu, noise_var)[0]) - 0.5 * (mu @ mu / prior_var + d * math.log(2 * math.pi * prior_var))


def _evidence_ratio(lml_fn):
    def predict(n, d, prior_var, noise_var, data_seed):
        X, y = _ml_data(n, d, prior_var, noise_var, data_seed)
        return math.exp(lml_fn(X, y, prior_var, noise_var) - _ml_reference(X, y, prior_var, noise_var))
    return predict


def _sim_lml(params, reps, rng):
    X, y = _ml_data(params["n"], params["d"], params["prior_var"], params["noise_var"], params["data_seed"])
    with threadpool_limits(1, "blas"):
        _, _, log_w = ML.log_marginal_likelihood_mc(X, y, params["prior_var"], params["noise_var"], reps, rng,
                                                    proposal="posterior", return_weights=True)
    return Estimate.from_samples(np.exp(log_w - _ml_reference(X, y, params["prior_var"], params["noise_var"])))


lml_monte_carlo = register(Claim(
    id="pac_bayes.lml_monte_carlo",
    title="Closed-form marginal likelihood of Bayesian linear regression = importance-sampling estimate",
    statement=r"p(y)=\mathbb E_{w\sim q}\Big[\tfrac{p(y\mid w)p(w)}{q(w)}\Big]=\mathcal N(y;0,s^2XX^\top+\sigma^2I)",
    source=f"{BISHOP}; MacKay 2003, Ch. 28-29",
    check=Exact(rel_tol=0.05),
    predict=_evidence_ratio(ML.log_marginal_likelihood),
    domain=Domain({"n": Int(2, 60), "d": Int(1, 4), "prior_var": Real(0.1, 10.0), "noise_var": Real(0.1, 4.0),
                   "data_seed": Int(0, 1000)}),
    default={"n": 30, "d": 4, "prior_var": 1.0, "noise_var": 0.5, "data_seed": 1},
    verify_points=({"n": 8, "d": 2, "prior_var": 10.0, "noise_var": 2.0},),
    simulate=_sim_lml,
    reps=20000,
    mutants=(
        Mutant("missing_logdet", "LML without -1/2 log det K", _evidence_ratio(_lml_missing_logdet)),
        Mutant("logdet_without_noise_term", "Woodbury log det K without n log sigma^2",
               _evidence_ratio(lambda X, y, s2, e: ML.log_marginal_likelihood(X, y, s2, e) + 0.5 * np.shape(X)[0] * math.log(e))),
    ),
    notes="Estimand: p(y) / [p(y|mu) p(mu)] (mu = posterior mean: a scale computed without the LML formula); "
          "proposal N(mu, 2 S), weight variance finite. Data set fixed by data_seed.",
    figure="marginal_likelihood_selection",
))


def _sim_disagree(params, reps, rng, predict):
    """Over ``reps`` data sets: per-point LML(tight) - LML(diffuse) and per-point
    CLML(tight) - CLML(diffuse) (CLML = predict), each with its mean and SE over the data sets."""
    n, d, m = params["n"], params["d"], params["m"]
    tight, diffuse, noise = params["tight"], params["diffuse"], params["noise_var"]
    dl, dc = np.empty(reps), np.empty(reps)
    with threadpool_limits(1, "blas"):
        for r in range(reps):
            X, y = _random_regression(rng, n, d, params["w_scale"] ** 2, noise)
            dl[r] = (ML.log_marginal_likelihood(X, y, tight, noise) - ML.log_marginal_likelihood(X, y, diffuse, noise)) / n
            dc[r] = (predict(X, y, tight, noise, m) - predict(X, y, diffuse, noise, m)) / m
    return {"lml": Estimate.from_samples(dl), "clml": Estimate.from_samples(dc)}


lml_clml_disagree = register(Claim(
    id="pac_bayes.lml_clml_disagree",
    title="Marginal likelihood and conditional marginal likelihood rank a tight and a diffuse prior differently",
    statement=r"\mathbb E[\mathrm{LML}(s^2_{\rm tight})-\mathrm{LML}(s^2_{\rm diffuse})]>0>\mathbb E[\mathrm{CLML}_m(s^2_{\rm tight})-\mathrm{CLML}_m(s^2_{\rm diffuse})]",
    source=f"{LIBGW}; {SEED.split(':')[0]} ('marginal likelihood hates diffuse priors')",
    # LML prefers the tight prior (difference > 0), the CLML the diffuse one (< 0): t intervals over data sets
    check=AllOf(parts=(("lml", ThresholdCI(threshold=0.0, side="above")), ("clml", ThresholdCI(threshold=0.0, side="below")))),
    predict=ML.conditional_log_marginal_likelihood,
    domain=Domain({"n": Int(80, 160), "d": Choice((20,)), "m": Int(Expr("n // 2", lambda q: q["n"] // 2), Expr("n // 2", lambda q: q["n"] // 2)),
                   "w_scale": Choice((0.3,)), "noise_var": Choice((1.0,)), "tight": Choice((0.01,)), "diffuse": Choice((1000.0,))},
                  note="the setting of Lotfi et al. (d = 20, w* ~ N(0, 0.3^2 I), m = n/2); only n varies"),
    default={"n": 100, "d": 20, "m": 50, "w_scale": 0.3, "noise_var": 1.0, "tight": 0.01, "diffuse": 1000.0},
    simulate=_sim_disagree,
    simulate_takes_predict=True,
    reps=60,
    mutants=(
        Mutant("clml_is_lml", "CLML replaced by the LML of the last m points alone (no conditioning)",
               lambda X, y, prior_var, noise_var, m: ML.log_marginal_likelihood(np.asarray(X)[-m:], np.asarray(y)[-m:], prior_var, noise_var)),
    ),
    notes="w* ~ N(0, 0.3^2 I_20), sigma^2 = 1, n = 100, m = 50: the diffuse prior (s^2 = 1000) predicts better "
          "after the first 50 points (as the held-out density does) but pays its Occam factor in the LML.",
    figure="marginal_likelihood_selection",
))
