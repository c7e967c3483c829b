"""Model selection by the marginal likelihood (LML) versus the conditional marginal likelihood (CLML).

(a) Bayesian linear regression, d = 20, n = 100, w* ~ N(0, 0.3^2 I), sigma^2 = 1; prior
    w ~ N(0, s^2 I) swept over s^2. Per-point LML / n, CLML / m (m = 50: the last half given
    the first) and the held-out log predictive density, averaged over data sets (bands:
    +-2 SE). The LML pays the Occam factor of a diffuse prior on the first points and
    prefers the tight prior s^2 = 0.01 to the diffuse s^2 = 1000; the CLML, like the held-out
    density, prefers the diffuse one [LIBGW22]; seed 003: "marginal likelihood hates diffuse
    priors".
(b) One data set: the closed-form LML [Bis06, eq. 3.86] (line), the chain-rule sum of
    sequential predictive log densities (crosses, equal to rounding) and importance-sampling
    estimates (markers, +-2 SE) against s^2.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from claimcheck.paper_figures import style
from claimcheck.theory import marginal_likelihood as ML

NAME = "marginal_likelihood_selection"
CLAIMS = ("pac_bayes.lml_clml_disagree", "pac_bayes.lml_chain_rule", "pac_bayes.lml_monte_carlo")

N, D, M, W_SCALE, NOISE = 100, 20, 50, 0.3, 1.0
"""Panel (a): sample size, dimension, CLML conditioning split (last M points), scale of w*, sigma^2."""
TIGHT, DIFFUSE = 0.01, 1000.0
"""The two prior variances compared by ``pac_bayes.lml_clml_disagree``."""
PRIOR_VARS = np.geomspace(1e-3, 1e4, 36)
N_TEST = 400
REPS = 40
"""Data sets averaged in panel (a); panel (b) uses 50 * reps importance samples per point."""
B_N, B_D, B_SEED = 30, 4, 1
"""Panel (b): the single data set (n, d, data seed); noise sigma^2 = 0.5, w* ~ N(0, I)."""
B_PRIOR_VARS = np.geomspace(1e-2, 1e3, 7)
QUANTITIES = ("lml", "clml", "test")
_COLORS = {"lml": style.PALETTE["vermillion"], "clml": style.PALETTE["blue"], "test": "0.3"}
_LABELS = {"lml": r"LML$/n$", "clml": rf"CLML$/m$ ($m = {M}$)", "test": "held-out log density"}


def data(seed: int = 0, *, reps: int = REPS) -> dict[str, np.ndarray]:
    """Every plotted array; ``a/sim_*`` (rows = ``QUANTITIES``) average ``reps`` data sets drawn from
    ``SeedSequence([seed, 0])``; ``b/sim_*`` are importance-sampling estimates from ``SeedSequence([seed, 1])``."""
    out: dict[str, np.ndarray] = {"a/prior_vars": PRIOR_VARS}
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0]))
    vals = np.empty((reps, len(QUANTITIES), PRIOR_VARS.size))
    for r in range(reps):
        X = rng.standard_normal((N + N_TEST, D))
        w = W_SCALE * rng.standard_normal(D)
        y = X @ w + math.sqrt(NOISE) * rng.standard_normal(N + N_TEST)
        sw = ML.prior_scale_sweep(X[:N], y[:N], PRIOR_VARS, NOISE, M, X[N:], y[N:])
        vals[r] = [sw["lml_per_point"], sw["clml_per_point"], sw["test_lpd"]]
    out["a/sim_mean"] = vals.mean(axis=0)
    out["a/sim_se"] = vals.std(axis=0, ddof=1) / math.sqrt(reps)

    X, y, _ = ML.make_regression_data(B_N, B_D, w_scale=1.0, noise_var=0.5, seed=B_SEED)
    grid = np.geomspace(B_PRIOR_VARS[0] / 2, B_PRIOR_VARS[-1] * 2, 121)
    out["b/prior_vars"] = grid
    out["b/closed_form"] = np.array([ML.log_marginal_likelihood(X, y, s, 0.5) for s in grid])
    out["b/sim_prior_vars"] = B_PRIOR_VARS
    out["b/chain_rule"] = np.array([ML.sequential_log_predictive(X, y, s, 0.5).sum() for s in B_PRIOR_VARS])
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    est = [ML.log_marginal_likelihood_mc(X, y, s, 0.5, max(50 * reps, 100), rng) for s in B_PRIOR_VARS]
    out["b/sim_mean"] = np.array([e[0] for e in est])
    out["b/sim_se"] = np.array([e[1] for e in est])
    return out


def draw(d: dict[str, np.ndarray], venue: str):
    from matplotlib.figure import Figure

    fig = Figure(figsize=style.figsize(venue, column="full", ncols=2, height_to_width=0.78))
    ax_a, ax_b = fig.subplots(1, 2)

    s2 = d["a/prior_vars"]
    for i, q in enumerate(QUANTITIES):
        mean, se = d["a/sim_mean"][i], d["a/sim_se"][i]
        ax_a.plot(s2, mean, color=_COLORS[q], label=_LABELS[q], marker="o", markersize=1.8, linewidth=0.9)
        ax_a.fill_between(s2, mean - 2 * se, mean + 2 * se, color=_COLORS[q], alpha=0.25, linewidth=0)
        j = int(np.argmax(mean))
        ax_a.plot(s2[j], mean[j], marker="*", color=_COLORS[q], markersize=6, zorder=4)
    for v, txt in ((TIGHT, "tight"), (DIFFUSE, "diffuse")):
        ax_a.axvline(v, color="0.6", linestyle=":", linewidth=0.7)
        ax_a.text(v, 0.5, f" {txt}", transform=ax_a.get_xaxis_transform(), fontsize="small", color="0.4")
    ax_a.set_xscale("log")
    ax_a.set_xlabel(r"prior variance $s^2$")
    ax_a.set_ylabel("log density per point (nats)")
    ax_a.set_title(rf"(a) $d = {D}$, $n = {N}$: averages over data sets")
    lo = min(float(np.min(d["a/sim_mean"][:, -1])), float(np.min(d["a/sim_mean"][:, 0])))
    ax_a.set_ylim(max(lo, -3.5), None)
    ax_a.legend(loc="lower center", fontsize="small")

    ax_b.plot(d["b/prior_vars"], d["b/closed_form"], color=style.PALETTE["black"], label="closed form", zorder=2)
    ax_b.plot(d["b/sim_prior_vars"], d["b/chain_rule"], linestyle="none", marker="x", color=style.PALETTE["green"],
              markersize=5, label=r"chain rule $\Sigma_i \log p(y_i \mid y_{<i})$", zorder=3)
    ax_b.errorbar(d["b/sim_prior_vars"], d["b/sim_mean"], yerr=2 * d["b/sim_se"], fmt="o", color=style.PALETTE["blue"],
                  markerfacecolor="white", markersize=4.0, markeredgewidth=0.8, elinewidth=0.7, capsize=1.2,
                  linestyle="none", label=r"importance sampling ($\pm 2$ SE)", zorder=4)
    ax_b.set_xscale("log")
    ax_b.set_xlabel(r"prior variance $s^2$")
    ax_b.set_ylabel(r"$\log p(y)$")
    ax_b.set_title(rf"(b) one data set ($n = {B_N}$, $d = {B_D}$): three routes")
    ax_b.legend(loc="lower center", fontsize="small")
    return fig


def make(out_dir, *, seed: int = 0, venue: str = "neurips", reps: int = REPS) -> list[Path]:
    """Draw the figure at ``venue``'s text width; write ``NAME``.pdf and ``NAME``.png to ``out_dir``."""
    return style.render(draw, data(seed, reps=reps), out_dir, NAME, venue=venue)