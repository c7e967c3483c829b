"""Feature calibration: interpolating classifiers reproduce the training label rates per class.

Noisy-binary labels (Nakkiran & Bansal 2020, arXiv:2009.08092; seed 002): a point of class c is
labelled 1 with probability p_c = 0.00, 0.01, ..., 0.09 (the seed's table), once, in the
training set. The Bayes classifier predicts 0 everywhere; an interpolating classifier
predicts 1 on about a fraction p_c of the test points of class c.

(a) 1-NN on ten unit-width clusters on a line: exact P(f = 1 | c) = sum_c' M_n[c, c'] p_c'
    (lines, :func:`theory.distributional.interval_mixture_nn_class_probs`) for separated
    and overlapping clusters, Monte Carlo means +-2 SE (markers).
(b) scikit-learn digits (797 test points: too few for rates <= 0.09, so the table is scaled
    x5, p_c = 0.05 c), (c) the real MNIST test set at the seed's rates (seeded train/test
    split): per-class test predicted-1 rate against p_c for each model family; the diagonal is the perfect
    sampler, the x axis the Bayes classifier. Each model is fitted ``reps`` times (fresh
    training labels), fit r evaluated on its own disjoint block of test points, so the
    pooled counts are independent given the fits; error bars are exact Clopper-Pearson
    95% intervals. Legend: calibration slope (least squares of rate on p_c).
    Panel (b) also shows the deep network of the GPU suite, *read, not trained*: the committed
    ``feature_calibration --profile cpu`` run (``gpu_validation/evidence/feature_calibration/
    result.json``: MLP 784-512-512-2 trained to interpolation with Adam on 2,000 MNIST points,
    p_c = 0.4 c / 9, 3 seeds; legend "MLP, MNIST, t95"), per-class mean rate with a Student-t 95%
    interval over the seeds and the seed-mean slope +- its t 95% half-width. This figure trains no network (torch is not
    in the core install); the evidence arrays do not depend on ``seed``.
(d) the seed's table layout: fractions of class-c points with label 0/1 in the training
    set (top, the design) and with prediction 0/1 at test time (bottom) for 1-NN on MNIST.
"""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
from scipy import stats

from claimcheck.paper_figures import style
from claimcheck.sims import distributional as S
from claimcheck.theory import distributional as T

NAME = "feature_calibration"
CLAIMS = (
    "distributional.nn_calibration",
    "distributional.nn_dg_gap",
    "distributional.nn_calibration_real",
    "distributional.feature_calibration",
    "distributional.regularised_contrast",
)

P = np.asarray(T.SEED_RATES)
"""The seed's p_c (training label rates)."""
RATES = {"digits": T.linear_rates(0.45), "mnist": P}
"""p_c per data set of panels (b) and (c)."""
LINE_SETTINGS = ((10, 2.0), (50, 0.5), (50, 0.2))
"""(n, spacing) of panel (a): separated with absent classes, overlapping, strongly overlapping."""
SIZES = {"digits": (1000, 797), "mnist": (2000, 6000)}
"""(n_train, test pool) per data set; the test pool is split into one block per fit."""
MODELS = {
    "digits": ("knn1", "kernel", "tree", "kernel_wide", "kernel_ridge"),
    "mnist": ("knn1", "kernel", "tree", "kernel_ridge"),
}
LABELS = {"knn1": "1-NN", "kernel": r"kernel, $h=0.1$", "kernel_wide": r"kernel, $h=0.5$", "tree": "tree",
          "mlp": "MLP", "kernel_ridge": r"kernel ridge, $\lambda=10$", "logistic": "logistic"}
COLORS = {"knn1": style.PALETTE["blue"], "kernel": style.PALETTE["green"], "kernel_wide": style.PALETTE["sky_blue"],
          "tree": style.PALETTE["orange"], "mlp": style.PALETTE["purple"], "kernel_ridge": style.PALETTE["vermillion"]}
MARKERS = {"knn1": "o", "kernel": "s", "kernel_wide": "D", "tree": "^", "mlp": "v", "kernel_ridge": "x"}
REPS = 8
"""Fits per model (the MNIST tree at most 4: it is the slow one)."""
EVIDENCE = ("claimcheck.gpu_validation", "evidence/feature_calibration/result.json")
"""(package, path) of the committed GPU-suite run that panel (b) shows (package data)."""
LINE_REPS = 1500
"""Monte Carlo training sets per point of panel (a)."""


def _rng(seed: int, k: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, 8, k]))


def _model_rates(dataset: str, model: str, rates: np.ndarray, reps: int, rng: np.random.Generator) -> dict:
    n_train, pool = SIZES[dataset]
    run = S.feature_calibration_run(dataset, model, rates, n_train=n_train, n_test=pool, reps=reps, rng=rng)
    block = np.arange(pool) % reps  # fit r is read on test points j with j mod reps == r
    pred = run["test_pred"][np.arange(pool), block]
    return S.calibration_table(pred, run["y_test"], rates)


def evidence_arrays(result: dict | None = None) -> dict[str, np.ndarray]:
    """Panel (b)'s deep-network arrays from a ``feature_calibration`` result (default: the committed
    evidence): ``b/evidence/p`` (p_c), ``.../rate`` (seed mean per class), ``.../ci_low`` /
    ``.../ci_high`` (Student t 95% over seeds), ``.../slope`` ([seed-mean slope, t 95% half-width]),
    ``.../train_error`` (per seed), ``.../seeds`` (count). Needs >= 2 seeds (an interval).

    >>> r = {"measurements": {"p_c": [0.0, 0.2], "rate": [[0.0, 0.2], [0.1, 0.3]], "slope": [1.0, 1.0],
    ...      "train_error": [0.0, 0.0]}, "config": {"model": "mlp", "width": 8, "dataset": "mnist", "n_train": 10}}
    >>> evidence_arrays(r)["b/evidence/rate"].tolist()
    [0.05, 0.25]
    """
    if result is None:
        result = json.loads(resources.files(EVIDENCE[0]).joinpath(EVIDENCE[1]).read_text())
    m = result["measurements"]
    rate, slope = np.asarray(m["rate"], float), np.asarray(m["slope"], float)
    n = rate.shape[0]
    if n < 2:
        raise ValueError(f"the evidence has {n} seed(s), needs >= 2 for an interval over seeds")
    t = stats.t.ppf(0.975, n - 1)
    mean, half = rate.mean(0), t * rate.std(0, ddof=1) / np.sqrt(n)
    cfg = result["config"]
    return {"b/evidence/p": np.asarray(m["p_c"], float), "b/evidence/rate": mean,
            "b/evidence/ci_low": mean - half, "b/evidence/ci_high": mean + half,
            "b/evidence/slope": np.array([slope.mean(), t * slope.std(ddof=1) / np.sqrt(n)]),
            "b/evidence/train_error": np.asarray(m["train_error"], float), "b/evidence/seeds": np.array([n]),
            "b/evidence/width": np.array([cfg["width"]]), "b/evidence/n_train": np.array([cfg["n_train"]])}


def _key(panel: str, what: str, model: str) -> str:
    """Key of a model's array. Interpolating models' rates are simulated (``sim_mean*``, they
    change with the seed); the regularised contrasts predict 0 in every class whatever the
    labels (the claim distributional.regularised_contrast), so theirs are seed-independent."""
    if model in S.REGULARISED:
        return f"{panel}/bayes_like/{what}/{model}"
    return f"{panel}/sim_mean/{model}" if what == "rate" else f"{panel}/sim_mean_{what}/{model}"


def data(seed: int = 0, *, reps: int = REPS) -> dict[str, np.ndarray]:
    """Every plotted array, keyed ``panel/what[/setting]``; the same seed gives the same arrays.

    ``a/sim_*``: Monte Carlo of panel (a); ``b|c/sim_mean*/model``: rate, exact 95% CI and
    [slope, SE] of each interpolating model; ``b|c/bayes_like/*/model``: the same for the
    regularised contrasts; ``b|c/count/model``: test points per class; ``d/sim_mean_test_rate``.
    """
    # Panel (c) is MNIST at the seed's rates (the test set ships with claimcheck).
    second = "mnist"
    out: dict[str, np.ndarray] = {"p": P, "b/p": RATES["digits"], "c/p": RATES["mnist"], "c/is_mnist": np.array([second == "mnist"])}
    k = 0
    for n, spacing in LINE_SETTINGS:
        key = f"n={n},s={spacing:g}"
        out[f"a/theory/{key}"] = T.nn_feature_calibration(P, T.interval_mixture_nn_class_probs(n, *T.line_clusters(10, spacing)))
        mean, se = np.empty(10), np.empty(10)
        for c in range(10):
            x = S.line_calibration_samples(n, spacing, P, c, max(2, LINE_REPS * reps // REPS), _rng(seed, k))
            k += 1
            mean[c], se[c] = x.mean(), x.std(ddof=1) / np.sqrt(x.size)
        out[f"a/sim_mean/{key}"], out[f"a/sim_se/{key}"] = mean, se
    out.update(evidence_arrays())
    for panel, dataset, models in (("b", "digits", MODELS["digits"]), ("c", second, MODELS["mnist"])):
        for model in models:
            r = min(reps, 2 * REPS)  # refits dominate the cost: at most 16
            r = min(r, 4) if (dataset, model) == ("mnist", "tree") else r
            t = _model_rates(dataset, model, out[f"{panel}/p"], max(1, r), _rng(seed, 100 + k))
            k += 1
            for what in ("rate", "ci_low", "ci_high", "slope"):
                value = [t["slope"], t["slope_se"]] if what == "slope" else t[what]
                out[_key(panel, what, model)] = np.asarray(value, dtype=float)
            out[f"{panel}/count/{model}"] = np.asarray(t["count"], dtype=float)
            if panel == "c" and model == "knn1":
                out["d/sim_mean_test_rate"] = np.asarray(t["rate"], dtype=float)
    return out


def draw(d: dict[str, np.ndarray], venue: str):
    from matplotlib.figure import Figure

    fig = Figure(figsize=style.figsize(venue, column="full", nrows=2, ncols=2, height_to_width=0.8))
    (ax_a, ax_b), (ax_c, ax_d) = fig.subplots(2, 2)
    p = d["p"]

    for (n, spacing), col in zip(LINE_SETTINGS, ("0.1", style.PALETTE["blue"], style.PALETTE["vermillion"])):
        key = f"n={n},s={spacing:g}"
        label = rf"$n={n}$, spacing ${spacing:g}$" + (" (separated)" if spacing >= 2 else "")
        ax_a.plot(p, d[f"a/theory/{key}"], color=col, linewidth=0.9, label=label)
        ax_a.errorbar(p, d[f"a/sim_mean/{key}"], yerr=2 * d[f"a/sim_se/{key}"], fmt="o", color=col, markersize=2.6,
                      markerfacecolor="white", markeredgewidth=0.7, elinewidth=0.7, capsize=1.0)
    ax_a.set_title("(a) 1-NN, clusters on a line (exact: lines)")
    _axes(ax_a, 0.1, 0.13)

    name = "MNIST" if bool(d["c/is_mnist"][0]) else "digits"
    for ax, panel, title in ((ax_b, "b", r"(b) digits, $p_c = 0.05\,c$"), (ax_c, "c", f"(c) {name} test set, seed's $p_c$")):
        pp = d[f"{panel}/p"]
        models = [k.split("/")[-1] for k in d if k.startswith(f"{panel}/count/")]
        step = pp[1] - pp[0]
        for off, model in zip(np.linspace(-0.25, 0.25, len(models)) * step, models):
            rate, lo, hi, (slope, se) = (d[_key(panel, w, model)] for w in ("rate", "ci_low", "ci_high", "slope"))
            ax.errorbar(pp + off, rate, yerr=np.vstack([rate - lo, hi - rate]), fmt=MARKERS[model], color=COLORS[model],
                        markersize=2.4, markerfacecolor="white" if MARKERS[model] != "x" else COLORS[model],
                        markeredgewidth=0.7, elinewidth=0.55, capsize=0.8,
                        label=rf"{LABELS[model]}: ${slope:.2f}\pm{2 * se:.2f}$")
        if panel == "b":   # the GPU suite's deep network, read from its committed evidence run
            ep, er = d["b/evidence/p"], d["b/evidence/rate"]
            es, eh = d["b/evidence/slope"]
            ax.errorbar(ep, er, yerr=np.vstack([er - d["b/evidence/ci_low"], d["b/evidence/ci_high"] - er]), fmt="v",
                        color=COLORS["mlp"], markersize=2.4, markerfacecolor=COLORS["mlp"], markeredgewidth=0.7,
                        elinewidth=0.55, capsize=0.8,
                        label=rf"MLP, MNIST, t95: ${es:.2f}\pm{eh:.2f}$")
        ax.set_title(title)
        _axes(ax, pp[-1] + step, 1.45 * (pp[-1] + step))
        ax.legend(loc="upper left", fontsize=5.5, handlelength=1.0, labelspacing=0.2, borderaxespad=0.1, frameon=False,
                  title="slope ±2 SE (95% exact CIs)", title_fontsize=5.5, ncols=2 if len(models) > 4 else 1, columnspacing=0.6)
    ax_a.legend(loc="upper left", fontsize=5.8, handlelength=1.2, labelspacing=0.25, borderaxespad=0.1, frameon=False,
                title="exact (lines), MC ±2 SE", title_fontsize=5.8)

    # (d) the seed's table: train (design) and test (1-NN on MNIST) fractions per class.
    test = d["d/sim_mean_test_rate"]
    table = np.vstack([1 - p, p, 1 - test, test])
    shade = np.vstack([np.zeros(10), p, np.zeros(10), test])  # colour only the "1" rows
    ax_d.imshow(shade, cmap="Blues", vmin=0, vmax=0.15, aspect="auto")
    for i in range(4):
        for j in range(10):
            ax_d.text(j, i, f"{table[i, j]:.2f}", ha="center", va="center", fontsize=5.2)
    ax_d.set_yticks(range(4), [r"train $y=0$", r"train $y=1$", r"test $f=0$", r"test $f=1$"])
    ax_d.set_xticks(range(10), [str(c) for c in range(10)])
    ax_d.axhline(1.5, color="black", linewidth=0.8)
    ax_d.set_xlabel(f"class ({name} digit)")
    ax_d.set_title(f"(d) seed's table: 1-NN on {name}")
    for s in ("left", "bottom"):
        ax_d.spines[s].set_visible(False)
    ax_d.tick_params(length=0)
    return fig


def _axes(ax, xmax: float, ymax: float) -> None:
    lim = (-0.04 * xmax, xmax)
    ax.plot(lim, lim, color="0.6", linestyle=":", linewidth=0.8, zorder=0)
    ax.axhline(0, color="0.8", linewidth=0.5, zorder=0)
    ax.set_xlim(*lim)
    ax.set_ylim(-0.04 * xmax, ymax)
    ax.set_xlabel(r"training label rate $p_c$")
    ax.set_ylabel(r"test $P(f(x)=1\mid c)$")


def make(out_dir, *, seed: int = 0, venue: str = "neurips", reps: int = REPS) -> list[Path]:
    """Draw the figure at ``venue``'s text width; write ``NAME``.pdf and ``NAME``.png to ``out_dir``."""
    return style.render(draw, data(seed, reps=reps), out_dir, NAME, venue=venue)