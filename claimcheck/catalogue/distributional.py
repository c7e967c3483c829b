"""Claims of distributional generalization / feature calibration (Nakkiran & Bansal 2020; seed 002)."""
from __future__ import annotations

import functools
import math

import numpy as np

from claimcheck.checks import Band, Bound, Exact
from claimcheck.claim import Claim, Mutant
from claimcheck.domain import AnyOf, Choice, Domain, Expr, Int, Real
from claimcheck.estimate import Curve, Estimate
from claimcheck.registry import register
from claimcheck.sims import distributional as S
from claimcheck.theory import distributional as T

NB = "Nakkiran & Bansal 2020, Distributional Generalization (arXiv:2009.08092)"
KYYBN = "Kulynych, Yang, Yu, Blasiok, Nakkiran 2022, What You See is What You Get (arXiv:2204.03230)"
K = 10  # classes, as in the seed's table


# Shared parameter ranges (the claims' domains use these).
N_TRAIN = Int(5, 200)
SPACING = Real(0.2, 2.0)  # overlapping (< 1), touching-with-gaps (< 2) or separated (2): the NN can be of another class
CLASS = Int(1, K - 1)  # p_0 = 0: a relative-precision check at class 0 is never powered
P_MAX = Real(0.05, 0.9)


@functools.lru_cache(maxsize=64)
def _nn_matrix(n: int, spacing: float) -> np.ndarray:
    return T.interval_mixture_nn_class_probs(n, *T.line_clusters(K, spacing))


def _q(n, spacing, p_max):
    return T.nn_feature_calibration(T.linear_rates(p_max, K), _nn_matrix(int(n), float(spacing)))


# --------------------------------------------------------------------------- 1-NN on a line (exact)
def nn_rate(n, spacing, c, p_max):
    """P(f(x) = 1 | class c) of 1-NN on K = 10 unit-width clusters spaced ``spacing`` apart."""
    return float(_q(n, spacing, p_max)[int(c)])


def _sim_nn_rate(params, reps, rng):
    """Rao-Blackwellised rate per training set; SE floored at p_max / reps: one replicate moves the
    mean by at most that much, so all-equal replicates (separated clusters, large n: the nearest
    neighbour is of class c whenever class c was sampled) do not make the estimate infinitely precise."""
    x = S.line_calibration_samples(params["n"], params["spacing"], T.linear_rates(params["p_max"], K), params["c"], reps, rng)
    e = Estimate.from_samples(x)
    return Estimate(e.mean, max(e.se, params["p_max"] / reps), e.n)


nn_calibration = register(Claim(
    id="distributional.nn_calibration",
    title="1-NN feature calibration: P(f=1 | class c) = sum_c' P(NN in c' | c) p_c' (exact, clusters on a line)",
    statement=r"P(f(x)=1\mid x\in c)=\sum_{c'}M_n[c,c']\,p_{c'},\quad M_n[c,c']=P(\mathrm{NN}_n(x)\in c'\mid x\in c)",
    source=NB + ", 1-NN feature-calibration theorem; M_n exact for uniform clusters on a line (derived here)",
    check=Exact(rel_tol=0.05),
    predict=nn_rate,
    domain=Domain({"n": N_TRAIN, "spacing": SPACING, "c": CLASS, "p_max": P_MAX}),
    default={"n": 50, "spacing": 0.5, "c": 4, "p_max": 0.09},
    verify_points=({"c": 9}, {"n": 10, "spacing": 2.0, "c": 5}, {"n": 200, "spacing": 0.3, "c": 1, "p_max": 0.45}),
    simulate=_sim_nn_rate,
    reps=4000,
    mutants=(
        Mutant("bayes_rate_zero", "the Bayes-optimal classifier's rate: 0 in every class (all p_c < 1/2)",
               lambda n, spacing, c, p_max: 0.0),
        Mutant("perfect_sampler_p_c", "q_c = p_c: ignores the cross-class neighbour terms",
               lambda n, spacing, c, p_max: float(T.linear_rates(p_max, K)[c]), {"n": 20, "spacing": 0.3, "c": 9, "p_max": 0.9}),
        Mutant("within_class_only", "q_c = M[c, c] p_c: drops the cross-class terms instead of adding them",
               lambda n, spacing, c, p_max: float(_nn_matrix(int(n), float(spacing))[c, c] * T.linear_rates(p_max, K)[c])),
        Mutant("separated_formula", "q_c = p_c (1 - (1 - pi_c)^n): the well-separated formula used with gaps",
               lambda n, spacing, c, p_max: float(T.linear_rates(p_max, K)[c] * (1 - 0.9**n)), {"n": 10, "spacing": 2.0, "c": 5}),
    ),
    notes="Clusters Unif[c s, c s + 1], equally likely, p_c = p_max c / 9 (the seed's table at p_max = 0.09). "
          "Rao-Blackwellised: a replicate averages p_{class of NN} over 20 class-c test points of one training set. "
          "spacing >= 2 with n = 10 is the well-separated case where class c can be absent from the training set.",
    figure="feature_calibration",
))


# --------------------------------------------------------------------------- distributional generalization (1-NN)
def nn_dg_gap(n, spacing, p_max, test, c=0, group=(0, 1, 2, 3, 4)):
    """Train/test gap of one test for 1-NN on the line clusters: "class" (class c), "group", "loss"."""
    p, q = T.linear_rates(p_max, K), _q(n, spacing, p_max)
    w = np.full(K, 1.0 / K)
    if test == "class":
        return float(T.dg_gap_class(p, q)[int(c)])
    if test == "group":
        return T.dg_gap_group(p, q, w, group)
    if test == "loss":
        return T.dg_gap_loss(p, q, w)
    raise ValueError(f"test={test!r}, must be one of ['class', 'group', 'loss']")


def _dg_batch(n, spacing, p_max, reps, rng, m_test=50):
    """One batch of reps training sets (n points) and m_test mixture test points each.

    Returns, per test, (gap estimate, SE): class c gaps (ratio estimators, delta-method SE
    over replicates), the group {0..4} gap and the loss gap (test error - train error 0).
    """
    p = T.linear_rates(p_max, K)
    lefts, widths, weights = T.line_clusters(K, spacing)
    tc = rng.integers(0, K, size=(reps, m_test))
    cls, nn = S.line_nn_classes(n, lefts, widths, weights, tc, rng)
    y = rng.random(cls.shape) < p[cls]
    pn = p[nn]

    def ratio_gap(members):
        table = np.zeros(K, dtype=bool)
        table[members] = True
        in_t, in_s = table[tc], table[cls]  # membership by lookup: the booleans of np.isin, one gather each
        A, B = (pn * in_t).sum(1), in_t.sum(1)  # test: RB predicted-1 mass and count
        C, D = (y & in_s).sum(1), in_s.sum(1)  # train: f(x_i) = y_i (1-NN interpolates)
        qh, ph = A.sum() / B.sum(), C.sum() / D.sum()
        u = (A - qh * B) / B.mean() - (C - ph * D) / D.mean()
        return qh - ph, float(u.std(ddof=1) / math.sqrt(reps))

    out = {("class", c): ratio_gap(np.array([c])) for c in range(K)}
    out[("group", None)] = ratio_gap(np.arange(5))
    pc = p[tc]
    err = (pc + pn - 2 * pc * pn).mean(axis=1)
    out[("loss", None)] = (float(err.mean()), float(err.std(ddof=1) / math.sqrt(reps)))
    return out


DG_TESTS = [("class", c) for c in range(K)] + [("group", None), ("loss", None)]


def _dg_name(key):
    return f"{key[0]}{'' if key[1] is None else f' c={key[1]}'}"


def _sim_dg(params, reps, rng):
    """Every class-conditional gap, the coarsened group {0..4} gap and the classical loss gap
    (train side: 1-NN interpolates), from one batch of ``reps`` training sets."""
    n, spacing, p_max = params["n"], params["spacing"], params["p_max"]
    est = _dg_batch(n, spacing, p_max, reps, rng)
    means = [est[k][0] for k in DG_TESTS]
    # SE floor p_max / reps: one replicate can move a mean by at most that much, so a test whose
    # replicates happen to be all equal (e.g. class 0 with p_0 = 0) is not declared infinitely precise.
    ses = [max(est[k][1], p_max / reps) for k in DG_TESTS]
    names = [_dg_name(k) for k in DG_TESTS]
    return Curve(tuple(names), tuple(float(m) for m in means), tuple(float(v) for v in ses), (reps,) * len(names),
                 {"tests": names, "gap": means, "gap_se": ses})


def _dg_expect(predict, p):
    return [float(predict(n=p["n"], spacing=p["spacing"], p_max=p["p_max"], test=t, c=c if c is not None else 0)) for t, c in DG_TESTS]


nn_dg = register(Claim(
    id="distributional.nn_dg_gap",
    title="1-NN generalizes distributionally (class-conditional gaps ~ 0) but not classically (loss gap > 0)",
    statement=r"\mathbb E_{\rm test}T-\mathbb E_{\rm train}T:\ T_c\!: q_c-p_c;\ T_G\!: \tfrac{\sum_{G}\pi_c(q_c-p_c)}{\pi_G};\ "
              r"\mathbb 1\{\hat y\ne y\}\!: \sum_c\pi_c(p_c+q_c-2p_cq_c)",
    source=NB + ", T-distributional generalization; seed 002 (coarsened tests)",
    # each gap vs the formula (Holm over the 12 tests), powered for 15% of p_max
    check=Exact(rel_tol=0.15, abs_scale="p_max"),
    predict=nn_dg_gap,
    expect=_dg_expect,
    domain=Domain({"n": Int(50, 300), "spacing": Real(0.2, 1.5), "p_max": Real(0.09, 0.9)}),
    default={"n": 200, "spacing": 0.5, "p_max": 0.09},
    verify_points=({"n": 50, "spacing": 0.3, "p_max": 0.45},),
    simulate=_sim_dg,
    reps=1600,
    mutants=(
        Mutant("classical_generalization", "every gap 0, the classical loss gap included",
               lambda n, spacing, p_max, test, c=0, group=None: 0.0),
        Mutant("bayes_classifier", "gaps of the Bayes classifier (predicts 0): -p_c, and the loss gap sum pi_c p_c",
               lambda n, spacing, p_max, test, c=0, group=None: {
                   "class": -float(T.linear_rates(p_max, K)[c]), "group": -float(T.linear_rates(p_max, K)[:5].mean()),
                   "loss": float(T.linear_rates(p_max, K).mean())}[test]),
        Mutant("perfect_sampler", "q = p exactly: class and group gaps 0, loss gap 2 sum pi_c p_c (1 - p_c)",
               lambda n, spacing, p_max, test, c=0, group=None: nn_dg_gap_sampler(p_max, test),
               {"n": 50, "spacing": 0.3, "p_max": 0.9}),
    ),
    notes="Train side: 1-NN interpolates, f(x_i) = y_i; class/group rates are pooled ratio estimators with "
          "delta-method SEs over independent training sets (n points each, 50 mixture test points each).",
    figure="feature_calibration",
))


def nn_dg_gap_sampler(p_max, test):
    """Gaps of an ideal sampler (q = p): 0 for class/group tests, 2 sum pi p (1-p) for the loss."""
    p = T.linear_rates(p_max, K)
    return float(np.mean(2 * p * (1 - p))) if test == "loss" else 0.0


# --------------------------------------------------------------------------- 1-NN on real data (exact given the split)
def _real_nn_classes(dataset, n_train, n_test, split_seed):
    """Class of each test point's nearest training point (clean labels), and the test classes."""
    split = S.load_split(dataset, n_train, n_test, split_seed)
    return split.y_train[_real_nn_index(dataset, n_train, n_test, split_seed)], split.y_test


@functools.lru_cache(maxsize=64)  # n_test indices each; a 3000 x 3000 Gram matrix costs ~0.2 s to recompute
def _real_nn_index(dataset, n_train, n_test, split_seed):
    return S._nn_index(S.load_split(dataset, n_train, n_test, split_seed))  # exact nearest neighbours, no matrix kept


def real_nn_slope(dataset, n_train, n_test, split_seed, p_max):
    """Calibration slope of 1-NN predicted by sum_c' M^[c, c'] p_c' with M^ the empirical
    class-of-nearest-neighbour matrix of the test set (clean class labels)."""
    nn_cls, y_test = _real_nn_classes(dataset, int(n_train), int(n_test), int(split_seed))
    p = T.linear_rates(p_max, K)
    q = np.bincount(y_test, weights=p[nn_cls], minlength=K) / np.bincount(y_test, minlength=K)
    return T.calibration_slope(p, q)


def _sim_real_nn(params, reps, rng):
    y_test = _real_nn_classes(params["dataset"], params["n_train"], params["n_test"], params["split_seed"])[1]
    split = S.load_split(params["dataset"], params["n_train"], params["n_test"], params["split_seed"])
    p = T.linear_rates(params["p_max"], K)
    # the noisy training labels of each test point's nearest neighbour (the same draws as noisy_binary_labels)
    pred = S.nn_label_predictions(split.y_train, _real_nn_index(params["dataset"], params["n_train"], params["n_test"],
                                                                params["split_seed"]), p, reps, rng)
    rates = S.class_rates(pred, y_test, K)
    d = p - p.mean()
    return Estimate.from_samples(rates @ d / (d @ d))


real_nn = register(Claim(
    id="distributional.nn_calibration_real",
    title="1-NN on real digits: calibration slope = that of sum_c' M^[c,c'] p_c' (empirical NN-class matrix)",
    statement=r"\mathbb E_{\rm labels}\,\mathrm{slope}_c\big(\widehat{P}(f=1\mid c)\big)=\mathrm{slope}_c\Big(\sum_{c'}\hat M[c,c']p_{c'}\Big)",
    source=NB + ", 1-NN theorem applied to test set / scikit-learn digits",
    check=Exact(rel_tol=0.05),
    predict=real_nn_slope,
    domain=AnyOf((
        Domain({"dataset": Choice(("digits",)), "n_train": Int(200, 1000),
                "n_test": Int(200, Expr("1797 - n_train", lambda q: 1797 - q["n_train"])), "split_seed": Int(0, 20),
                "p_max": Real(0.09, 0.45)}),
        Domain({"dataset": Choice(("mnist",)), "n_train": Int(500, 5000),
                "n_test": Int(500, Expr("10000 - n_train", lambda q: 10000 - q["n_train"])), "split_seed": Int(0, 20),
                "p_max": Real(0.09, 0.45)}),
    ), note="scikit-learn digits (1797 images) or the MNIST test set (10000) split into disjoint train / test parts"),
    default={"dataset": "digits", "n_train": 1000, "n_test": 797, "split_seed": 0, "p_max": 0.09},
    verify_points=({"dataset": "mnist", "n_train": 3000, "n_test": 3000},),
    simulate=_sim_real_nn,
    reps=1600,
    mutants=(
        Mutant("perfect_sampler_slope_1", "slope 1 (q = p): ignores the cross-class neighbours of real digits",
               lambda dataset, n_train, n_test, split_seed, p_max: 1.0,
               {"dataset": "mnist", "n_train": 3000, "n_test": 3000}),
        Mutant("bayes_slope_0", "slope 0: the Bayes classifier predicts 0 for every class",
               lambda dataset, n_train, n_test, split_seed, p_max: 0.0),
    ),
    notes="Exact conditional on the split: given the test points' nearest training neighbours, the prediction is "
          "Bernoulli(p of the neighbour's class). Replicates are independent draws of the noisy training labels.",
    figure="feature_calibration",
))


# --------------------------------------------------------------------------- real data: interpolating vs regularised
BAND = 0.5
"""Half-width of the slope band: |slope - prediction| <= 1/2, the midpoint between the
sampler's slope 1 and the Bayes classifier's slope 0. A slope inside [1/2, 3/2] tracks p_c
more than it tracks the Bayes rule; the conjecture is approximate, so no exact slope is claimed."""


def _sim_slope(params, reps, rng):
    """Calibration slope of ``reps`` fits (one per label draw) and its SE given the fits
    (:func:`sims.distributional.ensemble_slope`)."""
    run = S.feature_calibration_run(params["dataset"], params["model"], T.linear_rates(params["p_max"], K),
                                    n_train=params["n_train"], n_test=params["n_test"], reps=reps, rng=rng,
                                    split_seed=params["split_seed"])
    info = {"rates": run["rates"].mean(axis=0).tolist(), "p": run["p"].tolist(), "train_error_max": float(run["train_error"].max()),
            "slope_per_fit": run["slope"].tolist()}
    return Curve(("slope",), (float(run["ensemble_slope"]),), (float(run["ensemble_slope_se"]),), (int(params["n_test"]),), info)


def _slope_domain(models, p_max, datasets=("digits",)):
    sizes = {"digits": (1000, 797), "mnist": (2000, 3000)}
    return Domain({"dataset": Choice(tuple(datasets)), "model": Choice(tuple(models)), "p_max": p_max,
                   "n_train": Choice(tuple(dict.fromkeys(sizes[d][0] for d in datasets))),
                   "n_test": Choice(tuple(dict.fromkeys(sizes[d][1] for d in datasets))),
                   "split_seed": Int(0, 20), "band": Real(0.5, 1.0)})


def _band_point(model, dataset="digits", p_max=0.09, split_seed=0):
    sizes = {"digits": (1000, 797), "mnist": (2000, 3000)}[dataset]
    return {"dataset": dataset, "model": model, "p_max": p_max, "n_train": sizes[0], "n_test": sizes[1],
            "split_seed": split_seed, "band": BAND}


feature_calibration = register(Claim(
    id="distributional.feature_calibration",
    title="Interpolating classifiers are feature-calibrated on real digits: per-class rate tracks p_c (slope ~ 1)",
    statement=r"\mathrm{slope}\big(P(f(x)=1\mid c)\ \text{on}\ p_c\big)\in[\tfrac12,\tfrac32]\ \text{(interpolating } f)",
    source=NB + ", Feature Calibration Conjecture (noisy-binary experiments); seed 002 table",
    # the slope lies significantly inside prediction +- band (a statistic inside a band)
    check=Band(half_width="band"),
    predict=lambda **params: 1.0,
    domain=AnyOf((_slope_domain(("kernel", "knn1"), Real(0.09, 0.45)), _slope_domain(("tree",), Real(0.3, 0.45)),
                  _slope_domain(("kernel",), Real(0.09, 0.45), ("mnist",)))),
    default=_band_point("kernel"),
    verify_points=(_band_point("kernel", "mnist"), _band_point("tree", p_max=0.45)),
    simulate=_sim_slope,
    reps=16,  # fits per point; at seeds 0-4 every point passes (z >= 4.97) and the mutant is rejected (z <= -5.9), as with 32
    mutants=(
        Mutant("bayes_slope_0", "the Bayes-optimal classifier's slope 0 (predicts 0 everywhere)", lambda **params: 0.0,
               _band_point("kernel", "mnist", p_max=0.09)),
    ),
    notes="Gaussian-kernel interpolation (ridge 1e-8, bandwidth 0.1 x median distance, one-hot argmax), 1-NN, and a "
          "decision tree grown to purity (sklearn; at p_max >= 0.3: at the seed's p_max = 0.09 its slope varies "
          "between 0.5 and 0.9 across label draws) reach zero training error. Not claimed (the figure shows them): a "
          "wide-bandwidth (0.5 x) kernel and a small MLP are under-calibrated at p_c <= 0.09 on these small data sets.",
    figure="feature_calibration",
))

regularised_contrast = register(Claim(
    id="distributional.regularised_contrast",
    title="Regularised (non-interpolating) classifiers are not feature-calibrated: slope ~ 0 (Bayes-like)",
    statement=r"\mathrm{slope}\big(P(f(x)=1\mid c)\ \text{on}\ p_c\big)\in[-\tfrac12,\tfrac12]\ \text{(kernel ridge }\lambda=10,\ \text{logistic } C=10^{-3})",
    source=NB + ", non-interpolating (regularised) classifiers; seed 002",
    check=Band(half_width="band"),
    predict=lambda **params: 0.0,
    domain=_slope_domain(("kernel_ridge", "logistic"), Real(0.09, 0.45)),
    default=_band_point("kernel_ridge"),
    verify_points=(_band_point("logistic", p_max=0.45),),
    simulate=_sim_slope,
    reps=8,
    mutants=(
        Mutant("sampler_slope_1", "feature calibration (slope 1) claimed for the regularised model", lambda **params: 1.0),
    ),
    notes="The negative control of distributional.feature_calibration: the same experiment and test, a model with "
          "training error > 0 that predicts the majority label 0 in every class.",
    figure="feature_calibration",
))


# --------------------------------------------------------------------------- privacy => DG
def dp_train_bound(n, cells, p, epsilon):
    """e^eps x (exact test agreement) of the eps-DP noisy cell-majority learner."""
    return T.dp_dg_bound(epsilon, 0.0, T.dp_majority_agreement(n, cells, p, epsilon)[1])


def _sim_dp(params, reps, rng):
    return Estimate.from_samples(S.dp_majority_train_agreement(params["n"], params["cells"], params["p"], params["epsilon"], reps, rng))


dp_dg = register(Claim(
    id="distributional.dp_implies_dg",
    title="Differential privacy implies distributional generalization: E_train T <= e^eps E_test T",
    statement=r"\mathbb E_S\tfrac1n\sum_i T(x_i,f_S(x_i))\le e^{\varepsilon}\,\mathbb E_{S,x}T(x,f_S(x))+\delta\quad(T\in[0,1])",
    source=KYYBN + ", DP implies DG; seed 002",
    check=Bound(rel_tol=0.05),
    predict=dp_train_bound,
    domain=Domain({"n": Int(10, 200), "cells": Int(5, 2000), "p": Real(0.1, 0.9), "epsilon": Real(0.1, 1.5)}),
    default={"n": 100, "cells": 1000, "p": 0.5, "epsilon": 0.5},
    verify_points=({"n": 50, "cells": 10, "p": 0.3, "epsilon": 1.0},),
    simulate=_sim_dp,
    reps=2000,
    mutants=(
        Mutant("no_privacy_factor", "E_train T <= E_test T (classical generalization of the agreement, no e^eps)",
               lambda n, cells, p, epsilon: T.dp_majority_agreement(n, cells, p, epsilon)[1]),
    ),
    notes="Learner: the majority label of each of `cells` input cells, released by randomized response with budget "
          "eps/2 (eps-DP: one replaced example changes at most two cells). Test T = 1{f(x) = y}. Test agreement exact "
          "(theory.distributional.dp_majority_agreement); train agreement simulated.",
    figure="dp_generalization",
))
