"""Sample-wise double descent: at fixed p, more data can hurt min-norm least squares.

Excess risk against the sample size n at p = 100 features:
* min-norm (lam -> 0+): the exact finite-sample risk [BHX19, Thm 1] (dashed; ``inf`` at
  n in {p-1, p, p+1} is skipped), which rises as n approaches p and peaks at n = p [Nak19],
  with Monte Carlo means +-2 SE (|p - n| >= 4);
* optimally regularised ridge, lam* = sigma^2 (p/n) / r^2: Monte Carlo means +-2 SE at
  the finite (n, p), and the asymptotic risk [HMRT22, Cor. 5] at gamma = p/n as a line
  (an approximation at finite n, labelled as such); it decreases monotonically in n [NVKM20, Thm 1].

Model: x ~ N(0, I_p), r^2 = 1, sigma^2 = 0.5; excess risk E||beta_hat - beta||^2.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from claimcheck.paper_figures import _common as C
from claimcheck.paper_figures import style
from claimcheck.theory.ridgeless import optimal_ridge_lambda, ridge_risk_asymptotic, samplewise_risk

NAME = "double_descent_samplewise"
CLAIMS = ("ridgeless.samplewise_nonmonotone", "ridgeless.optimal_ridge_monotone")

P = 100
"""Number of features (fixed)."""
N_RANGE = (10, 300)
NOISE = C.MAIN_NOISE
Y_MAX = 3.0
REPS = 2000
"""Monte Carlo replicates per simulated point."""

_SIM_N = np.array([10, 20, 30, 40, 50, 60, 70, 80, 88, 92, 96, 100, 104, 108, 112, 120, 135, 150, 175, 200, 225, 250, 275, 300])


def data(seed: int = 0, *, reps: int = REPS) -> dict[str, np.ndarray]:
    """Every plotted array, keyed by name; the same seed gives the same arrays.

    ``minnorm_*`` / ``optimal_*``: theory on the integer grid ``n`` (``minnorm_exact`` is NaN
    where the exact risk is infinite) and Monte Carlo ``*_sim_mean`` / ``*_sim_se`` at
    ``*_sim_n``; curve k is drawn from ``SeedSequence([seed, k])``.
    """
    n = np.arange(N_RANGE[0], N_RANGE[1] + 1)
    out: dict[str, np.ndarray] = {"n": n}
    out["minnorm_exact"] = C.finite(samplewise_risk(n, P, C.SIGNAL, NOISE))
    lam_star = np.asarray(optimal_ridge_lambda(P / n, C.SIGNAL, NOISE))
    out["optimal_lambda"] = lam_star
    out["optimal_asymptotic"] = np.asarray(ridge_risk_asymptotic(P / n, lam_star, C.SIGNAL, NOISE))

    n_mn = _SIM_N[np.abs(_SIM_N - P) >= C.MIN_GAP_SIMULATED]
    out["minnorm_sim_n"] = n_mn
    out["minnorm_sim_mean"], out["minnorm_sim_se"] = C.simulate(n_mn, P, NOISE, 0.0, reps, C.curve_rng(seed, 0))
    out["optimal_sim_n"] = _SIM_N
    lam_sim = optimal_ridge_lambda(P / _SIM_N, C.SIGNAL, NOISE)
    out["optimal_sim_mean"], out["optimal_sim_se"] = C.simulate(_SIM_N, P, NOISE, lam_sim, reps, C.curve_rng(seed, 1))
    return out


def draw(d: dict[str, np.ndarray], venue: str):
    from matplotlib.figure import Figure
    from matplotlib.legend_handler import HandlerTuple

    fig = Figure(figsize=style.figsize(venue, column="half", height_to_width=0.8))
    ax = fig.add_subplot()
    c_mn, c_opt = C.NOISE_COLORS[NOISE], C.OPTIMAL_COLOR
    ln_mn, = ax.plot(d["n"], d["minnorm_exact"], color=c_mn, linestyle=(0, (3, 1.5)), zorder=2)
    eb_mn = C.errorbar(ax, d["minnorm_sim_n"], d["minnorm_sim_mean"], d["minnorm_sim_se"], color=c_mn)
    ln_opt, = ax.plot(d["n"], d["optimal_asymptotic"], color=c_opt, zorder=2)
    eb_opt = C.errorbar(ax, d["optimal_sim_n"], d["optimal_sim_mean"], d["optimal_sim_se"], color=c_opt, marker="s")
    ax.axvline(P, color="0.6", linestyle=":", linewidth=0.7, zorder=1)
    ax.text(P - 3, 0.5 * Y_MAX, r"$n = p$", rotation=90, ha="right", va="center", fontsize="small", color="0.35")
    ax.set_xlim(0, N_RANGE[1] + 10)
    ax.set_ylim(0, Y_MAX)
    ax.set_xlabel(rf"number of samples $n$ ($p = {P}$)")
    ax.set_ylabel(r"excess risk $\mathbb{E}\,\|\hat\beta - \beta\|^2$")
    ax.text(0.98, 0.97, rf"$\sigma^2 = {NOISE:g}$, $r^2 = 1$", transform=ax.transAxes, ha="right", va="top")
    fig.legend(
        [(ln_mn, eb_mn), (ln_opt, eb_opt)],
        [r"min-norm: exact, simulation", r"ridge, $\lambda^*$: asymptotic, simulation"],
        handler_map={tuple: HandlerTuple(ndivide=None, pad=0.3)},
        handlelength=2.6, loc="outside upper center",
    )
    return fig


def make(out_dir, *, seed: int = 0, venue: str = "neurips", reps: int = REPS) -> list[Path]:
    """Draw the figure at ``venue``'s half width; write ``NAME``.pdf and ``NAME``.png to ``out_dir``."""
    return style.render(draw, data(seed, reps=reps), out_dir, NAME, venue=venue)