"""Differential privacy implies distributional generalization: E_train T <= e^eps E_test T.

For every test T(x, y_hat) in [0, 1] and every eps-DP learner S -> f_S [KYYBN22, "DP implies
DG"; :func:`theory.distributional.dp_dg_bound`]:

    E_S (1/n) sum_i T(x_i, f_S(x_i))  <=  e^eps E_{S,x} T(x, f_S(x))   (delta = 0).

Learner (the claim ``distributional.dp_implies_dg``): inputs uniform over ``cells`` cells,
labels y ~ Bernoulli(p) independent of x; f_S releases the majority label of each cell by
randomized response with budget eps/2 (eps-DP). Test T = 1{f(x) = y} (agreement). Two
settings in two colours: *memorising*, n = 100 points in 1000 cells, p = 1/2 (the claim's
default: most points sit alone in their cell, so f_S copies their labels and nothing
transfers to a fresh point) and *crowded*, n = 50 in 10 cells, p = 0.3 (the claim's
verification point: cell majorities carry over to test points).

(a) Agreement against eps: exact train agreement (solid) and test agreement (dashed) of
    :func:`theory.distributional.dp_majority_agreement` (derived in the project), the bound
    e^eps x test agreement (dotted, the claim's prediction; vacuous above 1), and Monte Carlo
    train agreement (markers, +-2 SE) from the claim's simulator
    (:func:`sims.distributional.dp_majority_train_agreement`). The dashed test agreement is the
    claim's mutant ``no_privacy_factor`` (E_train T <= E_test T): the train points exceed it.
(b) The same as the privacy loss of the test, ln(E_train T / E_test T) <= eps: one universal
    bound (the diagonal) for both settings; exact lines and Monte Carlo markers (+-2 SE by the
    delta method, SE_train / E_train; the test agreement is exact).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from claimcheck.catalogue.distributional import dp_dg as CLAIM
from claimcheck.paper_figures import _common as C
from claimcheck.paper_figures import style
from claimcheck.theory.distributional import dp_dg_bound, dp_majority_agreement

NAME = "dp_generalization"
CLAIMS = ("distributional.dp_implies_dg",)

SETTINGS = {
    "memorising": {k: CLAIM.default[k] for k in ("n", "cells", "p")},
    "crowded": {k: CLAIM.verify_points[0][k] for k in ("n", "cells", "p")},
}
"""(n, cells, p) per setting: the claim's default point and its verification point."""
EPS_RANGE = (0.0, 1.5)
"""eps range of the lines (the claim's domain is [0.1, 1.5]; eps = 0 is the trivial equality)."""
SIM_EPS = np.array([0.0, 0.1, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5])
EPS_LINE_POINTS = 151
"""Points of the exact lines, evenly spaced over ``EPS_RANGE``."""
REPS = int(CLAIM.reps)
"""Monte Carlo training sets per simulated eps (the claim's reps, 2000)."""
COLORS = {"memorising": style.PALETTE["vermillion"], "crowded": style.PALETTE["blue"]}
MARKERS = {"memorising": "o", "crowded": "s"}
LABELS = {"memorising": "memorising", "crowded": "crowded"}


def _label(name: str) -> str:
    s = SETTINGS[name]
    return rf"{LABELS[name]}: $n={s['n']}$, {s['cells']} cells, $p={s['p']:g}$"


def data(seed: int = 0, *, reps: int = REPS) -> dict[str, np.ndarray]:
    """Every plotted array, keyed ``panel/what/setting``; the same seed gives the same arrays.

    ``train``, ``test``, ``bound``: exact, on the line grid ``eps`` and at ``sim_eps``
    (``*_at_sim``). ``a/sim_*``: Monte Carlo train agreement; ``b/sim_*``: its log ratio to
    the exact test agreement. Setting k is drawn from ``SeedSequence([seed, k, j])`` at eps j.
    """
    eps = np.linspace(*EPS_RANGE, EPS_LINE_POINTS)
    out: dict[str, np.ndarray] = {"eps": eps, "sim_eps": SIM_EPS}
    for k, (name, s) in enumerate(SETTINGS.items()):
        for grid, suffix in ((eps, ""), (SIM_EPS, "_at_sim")):
            tt = np.array([dp_majority_agreement(s["n"], s["cells"], s["p"], float(e)) for e in grid])
            out[f"train{suffix}/{name}"], out[f"test{suffix}/{name}"] = tt[:, 0], tt[:, 1]
            out[f"bound{suffix}/{name}"] = np.array([dp_dg_bound(float(e), 0.0, t) for e, t in zip(grid, tt[:, 1])])
        mean, se = np.empty(SIM_EPS.size), np.empty(SIM_EPS.size)
        for j, e in enumerate(SIM_EPS):
            rng = np.random.default_rng(np.random.SeedSequence([seed, k, j]))
            est = CLAIM.simulate({**s, "epsilon": float(e)}, reps, rng)
            mean[j], se[j] = est.mean, est.se
        out[f"a/sim_mean/{name}"], out[f"a/sim_se/{name}"] = mean, se
        test = out[f"test_at_sim/{name}"]
        out[f"b/sim_mean/{name}"] = np.log(mean / test)
        out[f"b/sim_se/{name}"] = se / mean
    return out


def draw(d: dict[str, np.ndarray], venue: str):
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    fig = Figure(figsize=style.figsize(venue, column="full", ncols=2, height_to_width=0.78))
    ax_a, ax_b = fig.subplots(1, 2)
    eps, sim_eps = d["eps"], d["sim_eps"]
    for name in SETTINGS:
        c = COLORS[name]
        ax_a.plot(eps, d[f"train/{name}"], color=c, zorder=2)
        ax_a.plot(eps, d[f"test/{name}"], color=c, linestyle=(0, (3, 1.5)), linewidth=0.8, zorder=2)
        ax_a.plot(eps, d[f"bound/{name}"], color=c, linestyle=":", linewidth=1.1, zorder=2)
        C.errorbar(ax_a, sim_eps, d[f"a/sim_mean/{name}"], d[f"a/sim_se/{name}"], color=c, marker=MARKERS[name])
        ax_b.plot(eps, np.log(d[f"train/{name}"] / d[f"test/{name}"]), color=c, zorder=2)
        C.errorbar(ax_b, sim_eps, d[f"b/sim_mean/{name}"], d[f"b/sim_se/{name}"], color=c, marker=MARKERS[name])
    ax_b.plot(eps, eps, color="0.2", linestyle=":", linewidth=1.1, zorder=1.5)
    ax_b.text(0.8, 0.7, r"bound: $\ln\frac{\mathbb{E}_{\rm train}T}{\mathbb{E}_{\rm test}T} \leq \varepsilon$",
              ha="left", va="center", fontsize="small", color="0.2")

    ax_a.set_ylim(0.45, 1.0)
    ax_a.set_ylabel(r"agreement $\mathbb{E}\,\mathbf{1}\{f_S(x) = y\}$")
    ax_a.set_title(r"(a) train vs. $e^{\varepsilon}\times$ test agreement")
    ax_b.set_ylim(-0.02, 0.8)
    ax_b.set_ylabel(r"$\ln(\mathbb{E}_{\rm train}T\,/\,\mathbb{E}_{\rm test}T)$")
    ax_b.set_title(r"(b) privacy loss of the test $T = \mathbf{1}\{f(x) = y\}$")
    for ax in (ax_a, ax_b):
        ax.set_xlim(EPS_RANGE[0] - 0.03, EPS_RANGE[1] + 0.03)
        ax.set_xlabel(r"privacy budget $\varepsilon$")
    ax_b.legend(handles=[Line2D([], [], color=COLORS[n], marker=MARKERS[n], markerfacecolor="white", markersize=3,
                                label=_label(n)) for n in SETTINGS], loc="center right", fontsize="small")
    style_handles = [
        Line2D([], [], color=C.THEORY_GREY, label=r"train $\mathbb{E}_{\rm train}T$ (exact)"),
        Line2D([], [], color=C.THEORY_GREY, linestyle=(0, (3, 1.5)), linewidth=0.8, label=r"test $\mathbb{E}_{\rm test}T$ (exact)"),
        Line2D([], [], color=C.THEORY_GREY, linestyle=":", linewidth=1.1, label=r"DP $\Rightarrow$ DG bound $e^{\varepsilon}\,\mathbb{E}_{\rm test}T$"),
        Line2D([], [], color=C.THEORY_GREY, marker="o", markerfacecolor="white", markersize=3, linestyle="none",
               label=r"simulation, train ($\pm 2$ SE)"),
    ]
    fig.legend(handles=style_handles, loc="outside upper center", ncols=4)
    return fig


def make(out_dir, *, seed: int = 0, venue: str = "neurips", reps: int = REPS) -> list[Path]:
    """Draw the figure at ``venue``'s text width; write ``NAME``.pdf and ``NAME``.png to ``out_dir``."""
    return style.render(draw, data(seed, reps=reps), out_dir, NAME, venue=venue)
