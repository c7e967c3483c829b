"""The log k cost of tuning a PAC-Bayes prior, and what happens if it is not paid.

(a) Bound against the number k of priors the reported one was selected from, for several
    n (empirical risk 0.05, KL = 20 nats, delta = 0.05): McAllester [McA99] (solid) and the
    kl-inverse bound [Mau04] (dashed), both charged ln k (seed 003: "cost: log(k)"). The
    cost grows like sqrt(ln k) at most and shrinks with n.
(b) Coverage of the reported bound in the best-of-k experiment (k random classifiers on
    pure-noise labels, n = 100, true risk 1/2; :mod:`sims.pac_bayes`): exact coverage
    (lines) and Monte Carlo frequencies (markers, 95% Clopper-Pearson bars) with the ln k
    charge (stays above 1 - delta; the two charged curves overlap near 1) and without it
    (falls to 0 as k grows).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from claimcheck.paper_figures import style
from claimcheck.stats import clopper_pearson
from claimcheck.sims.pac_bayes import tuning_coverage_draws, tuning_coverage_exact
from claimcheck.theory.pac_bayes import maurer_bound, mcallester_bound

NAME = "pac_bayes_tuning"
CLAIMS = ("pac_bayes.tuning_coverage", "pac_bayes.tuning_cost", "pac_bayes.kl_bound_ordering", "pac_bayes.coverage")

EMP_RISK, KL, DELTA = 0.05, 20.0, 0.05
"""Panel (a): the empirical risk, KL(Q||P) in nats and delta of the plotted bounds."""
N_VALUES = (1_000, 10_000, 60_000)
"""Panel (a): sample sizes (60 000 = MNIST's training set)."""
COVERAGE_N = 100
"""Panel (b): sample size of the best-of-k experiment."""
K_SIM = np.array([1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000])
"""Panel (b): numbers of priors simulated."""
K_LINE_POINTS = 57
"""Panel (b): points of the exact coverage lines (geometric in k from 1 to ``K_SIM[-1]``, rounded to integers)."""
CURVES = ("maurer, ln k charged", "maurer, uncharged", "mcallester, ln k charged", "mcallester, uncharged")
REPS = 2000
"""Monte Carlo draws per simulated point of panel (b)."""
_BOUNDS = {"maurer": maurer_bound, "mcallester": mcallester_bound}
_COLORS = {"maurer": style.PALETTE["blue"], "mcallester": style.PALETTE["vermillion"]}
_N_COLORS = (style.PALETTE["green"], style.PALETTE["blue"], style.PALETTE["purple"])


def _curve(name):
    bound, charge = name.split(", ")
    return bound, charge.startswith("ln k")


def data(seed: int = 0, *, reps: int = REPS) -> dict[str, np.ndarray]:
    """Every plotted array; ``b/sim_mean`` and ``b/sim_se`` are Monte Carlo (rows = ``CURVES``),
    each point drawn from ``SeedSequence([seed, curve, point])``; the rest is exact theory.

    ``b/sim_se`` is the Agresti-Coull standard error sqrt(p~(1 - p~)/(N + 4)), p~ = (x + 2)/(N + 4)
    (positive even when every draw covers); the plotted bars are exact Clopper-Pearson 95%
    intervals recomputed from ``b/sim_mean`` and ``b/draws``.
    """
    out: dict[str, np.ndarray] = {}
    k = np.geomspace(1, 1e9, 181)
    out["a/k"] = k
    for n in N_VALUES:
        out[f"a/mcallester/n={n}"] = np.asarray(mcallester_bound(EMP_RISK, KL, n, DELTA, k))
        out[f"a/maurer/n={n}"] = np.asarray(maurer_bound(EMP_RISK, KL, n, DELTA, k))
    k_line = np.unique(np.round(np.geomspace(1, K_SIM[-1], K_LINE_POINTS)).astype(np.int64))
    out["b/k_line"] = k_line
    out["b/k_sim"] = K_SIM
    out["b/draws"] = np.array(reps)
    mean = np.empty((len(CURVES), K_SIM.size))
    se = np.empty_like(mean)
    for c, name in enumerate(CURVES):
        bound, charged = _curve(name)
        fn = _BOUNDS[bound]
        out[f"b/exact/{name}"] = np.array([tuning_coverage_exact(COVERAGE_N, int(kk), DELTA, fn, None if charged else 1) for kk in k_line])
        for j, kk in enumerate(K_SIM):
            rng = np.random.default_rng(np.random.SeedSequence([seed, c, j]))
            holds = tuning_coverage_draws(COVERAGE_N, int(kk), DELTA, fn, reps, rng, charge_k=None if charged else 1)
            x = int(holds.sum())
            mean[c, j] = x / reps
            pt = (x + 2) / (reps + 4)
            se[c, j] = np.sqrt(pt * (1 - pt) / (reps + 4))
    out["b/sim_mean"], out["b/sim_se"] = mean, se
    return out


def draw(d: dict[str, np.ndarray], venue: str):
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    fig = Figure(figsize=style.figsize(venue, column="full", ncols=2, height_to_width=0.78))
    ax_a, ax_b = fig.subplots(1, 2)

    k = d["a/k"]
    for n, color in zip(N_VALUES, _N_COLORS):
        ax_a.plot(k, d[f"a/mcallester/n={n}"], color=color, label=rf"$n = {n:,}$".replace(",", r"{,}"))
        ax_a.plot(k, d[f"a/maurer/n={n}"], color=color, linestyle=(0, (3, 1.5)))
    ax_a.axhline(EMP_RISK, color="0.6", linestyle=":", linewidth=0.7)
    ax_a.set_xscale("log")
    ax_a.set_xlim(1, k[-1])
    ax_a.set_xlabel(r"number of priors tried, $k$")
    ax_a.set_ylabel(r"bound on $\mathbb{E}_Q R$")
    ax_a.set_title(rf"(a) the $\ln k$ cost ($\hat R = {EMP_RISK:g}$, $\mathrm{{KL}} = {KL:g}$)")
    handles = ax_a.get_legend_handles_labels()[0]
    handles += [Line2D([], [], color="0.35", label="McAllester"),
                Line2D([], [], color="0.35", linestyle=(0, (3, 1.5)), label="kl-inverse")]
    ax_a.legend(handles=handles, loc="upper left", ncols=2, fontsize="small")
    ax_a.set_ylim(0.04, 0.3)

    draws = int(d["b/draws"])
    for c, name in enumerate(CURVES):
        bound, charged = _curve(name)
        color = _COLORS[bound]
        ls = "-" if charged else (0, (3, 1.5))
        ax_b.plot(d["b/k_line"], d[f"b/exact/{name}"], color=color, linestyle=ls, zorder=2.5 if bound == "maurer" else 2,
                  linewidth=0.8 if bound == "maurer" else 1.6)
        x = np.round(d["b/sim_mean"][c] * draws).astype(int)
        lo, hi = clopper_pearson(x, draws, 0.95)
        mean = d["b/sim_mean"][c]
        ax_b.errorbar(d["b/k_sim"], mean, yerr=[mean - lo, hi - mean], fmt="o" if charged else "s", color=color,
                      markerfacecolor="white", markersize=3.0, markeredgewidth=0.8, elinewidth=0.7, capsize=1.2,
                      linestyle="none", zorder=3)
    ax_b.axhline(1 - DELTA, color="0.3", linestyle=":", linewidth=0.8)
    ax_b.text(1.3, 1 - DELTA - 0.02, rf"$1-\delta = {1 - DELTA:g}$", va="top", fontsize="small", color="0.3")
    ax_b.set_xscale("log")
    ax_b.set_xlim(0.7, K_SIM[-1] * 1.5)
    ax_b.set_ylim(-0.03, 1.05)
    ax_b.set_xlabel(r"number of priors tried, $k$")
    ax_b.set_ylabel(r"coverage $\Pr[R \leq \mathrm{bound}]$")
    ax_b.set_title(rf"(b) best of $k$ on noise labels, $n = {COVERAGE_N}$")
    handles = [Line2D([], [], color=_COLORS["maurer"], label="kl-inverse"),
               Line2D([], [], color=_COLORS["mcallester"], label="McAllester"),
               Line2D([], [], color="0.35", label=r"$\ln k$ charged"),
               Line2D([], [], color="0.35", linestyle=(0, (3, 1.5)), label="not charged"),
               Line2D([], [], color="0.35", marker="o", markerfacecolor="white", linestyle="none",
                      label=f"simulation (95% CP, {draws} draws)")]
    ax_b.legend(handles=handles, loc="lower left", fontsize="small")
    return fig


def make(out_dir, *, seed: int = 0, venue: str = "neurips", reps: int = REPS) -> list[Path]:
    """Draw the figure at ``venue``'s text width; write ``NAME``.pdf and ``NAME``.png to ``out_dir``."""
    return style.render(draw, data(seed, reps=reps), out_dir, NAME, venue=venue)