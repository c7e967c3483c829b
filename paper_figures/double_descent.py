"""Model-wise double descent of min-norm least squares, and its removal by optimal ridge.

(a) Excess risk against gamma = p/n: the asymptotic min-norm risk [HMRT22, Thm 1] (solid)
    for three noise levels, the exact finite-sample risk at n = 50 [BHX19, Thm 1] (dashed,
    integer p with |p - n| >= 2) and Monte Carlo means with +-2 SE bars (n = 50,
    |p - n| >= 4, Rao-Blackwellised fast simulator). The risk diverges at gamma = 1.
(b) Asymptotic ridge risk [HMRT22, Thm 2] at fixed penalties lam and at the optimal
    lam* = sigma^2 gamma / r^2 [HMRT22, Cor. 5], which is the lower envelope of the fixed-lam
    curves and has no peak [NVKM20]; Monte Carlo at lam*, n = 50.

Model: x ~ N(0, I_p), r^2 = 1; excess risk E||beta_hat - beta||^2 (test noise excluded).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from claimcheck.paper_figures import _common as C
from claimcheck.paper_figures import style
from claimcheck.theory.ridgeless import (
    min_norm_risk_asymptotic,
    min_norm_risk_finite,
    optimal_ridge_lambda,
    ridge_risk_asymptotic,
)

NAME = "double_descent_modelwise"
CLAIMS = (
    "ridgeless.minnorm_finite",
    "ridgeless.minnorm_asymptotic",
    "ridgeless.ridge_asymptotic",
    "ridgeless.optimal_lambda",
)

N = 50
"""Sample size of the finite-n theory and of every simulated point."""
NOISES = (0.1, 0.5, 1.0)
"""sigma^2 of the min-norm curves in panel (a) (SNR r^2/sigma^2 = 10, 2, 1)."""
FIXED_LAMBDAS = (0.01, 0.1, 1.0)
"""Fixed ridge penalties of panel (b)."""
GAMMA_RANGE = (0.1, 10.0)
"""gamma range of the theory curves and simulated points."""
_X_LIMITS = (0.09, 11.0)  # a little wider than GAMMA_RANGE so edge markers are not clipped
Y_MAX = 3.0
REPS = 2000
"""Monte Carlo replicates per simulated point (Rao-Blackwellised: SE is small)."""

# Simulated p (n = 50): log-spaced over GAMMA_RANGE plus points closing in on the peak.
_SIM_P = np.unique(np.concatenate([np.round(N * np.geomspace(*GAMMA_RANGE, 15)), [35, 42, 46, 54, 58, 65]])).astype(int)


def data(seed: int = 0, *, reps: int = REPS) -> dict[str, np.ndarray]:
    """Every plotted array, keyed ``panel/what[/parameter]``; the same seed gives the same arrays.

    Theory arrays do not depend on ``seed``; the ``*/sim_*`` arrays are Monte Carlo means and
    standard errors, each curve drawn from ``SeedSequence([seed, k])``.
    """
    out: dict[str, np.ndarray] = {}
    gamma = np.geomspace(*GAMMA_RANGE, 401)
    out["gamma"] = gamma

    # (a) min-norm: asymptotic, exact at n = N, simulated at n = N.
    p_exact = np.arange(int(np.ceil(GAMMA_RANGE[0] * N)), int(GAMMA_RANGE[1] * N) + 1)
    p_exact = p_exact[np.abs(p_exact - N) >= 2]
    out["a/exact_p"] = p_exact
    p_sim = _SIM_P[np.abs(_SIM_P - N) >= C.MIN_GAP_SIMULATED]
    out["a/sim_p"] = p_sim
    for k, noise in enumerate(NOISES):
        out[f"a/asymptotic/noise={noise:g}"] = np.asarray(min_norm_risk_asymptotic(gamma, C.SIGNAL, noise))
        out[f"a/exact/noise={noise:g}"] = np.array([min_norm_risk_finite(N, int(p), C.SIGNAL, noise) for p in p_exact])
        mean, se = C.simulate(N, p_sim, noise, 0.0, reps, C.curve_rng(seed, k))
        out[f"a/sim_mean/noise={noise:g}"], out[f"a/sim_se/noise={noise:g}"] = mean, se

    # (b) ridge at MAIN_NOISE: fixed lam, lam = 0 (min-norm) and lam*; simulated at lam*.
    noise = C.MAIN_NOISE
    for lam in (0.0, *FIXED_LAMBDAS):
        out[f"b/asymptotic/lam={lam:g}"] = np.asarray(ridge_risk_asymptotic(gamma, lam, C.SIGNAL, noise))
    lam_star = np.asarray(optimal_ridge_lambda(gamma, C.SIGNAL, noise))
    out["b/asymptotic/lam=opt"] = np.asarray(ridge_risk_asymptotic(gamma, lam_star, C.SIGNAL, noise))
    p_opt = _SIM_P
    out["b/sim_p"] = p_opt
    mean, se = C.simulate(N, p_opt, noise, optimal_ridge_lambda(p_opt / N, C.SIGNAL, noise), reps, C.curve_rng(seed, len(NOISES)))
    out["b/sim_mean"], out["b/sim_se"] = mean, se
    return out


def draw(d: dict[str, np.ndarray], venue: str):
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    fig = Figure(figsize=style.figsize(venue, column="full", ncols=2, height_to_width=0.72))
    ax_a, ax_b = fig.subplots(1, 2, sharey=True)
    gamma = d["gamma"]

    # (a) min-norm, three noise levels.
    for noise in NOISES:
        c = C.NOISE_COLORS[noise]
        ax_a.plot(gamma, C.finite(d[f"a/asymptotic/noise={noise:g}"]), color=c, zorder=2)
        ax_a.plot(d["a/exact_p"] / N, C.finite(d[f"a/exact/noise={noise:g}"]), color=c, linestyle=(0, (3, 1.5)), linewidth=0.8, zorder=2)
        C.errorbar(ax_a, d["a/sim_p"] / N, d[f"a/sim_mean/noise={noise:g}"], d[f"a/sim_se/noise={noise:g}"], color=c)
    ax_a.set_title(r"(a) min-norm least squares ($\lambda \to 0^+$)")
    noise_handles = [Line2D([], [], color=C.NOISE_COLORS[s], label=rf"$\sigma^2 = {s:g}$") for s in NOISES]
    ax_a.legend(handles=noise_handles, loc="upper right", title=r"$r^2 = 1$")

    # (b) ridge at MAIN_NOISE.
    greys = ("0.75", "0.55", "0.3")
    ax_b.plot(gamma, C.finite(d["b/asymptotic/lam=0"]), color=C.NOISE_COLORS[C.MAIN_NOISE], label=r"$\lambda = 0$", zorder=2)
    for lam, g in zip(FIXED_LAMBDAS, greys):
        ax_b.plot(gamma, C.finite(d[f"b/asymptotic/lam={lam:g}"]), color=g, label=rf"$\lambda = {lam:g}$", zorder=2)
    ax_b.plot(gamma, d["b/asymptotic/lam=opt"], color=C.OPTIMAL_COLOR, linewidth=1.4, label=r"$\lambda^* = \sigma^2\gamma/r^2$", zorder=2.5)
    C.errorbar(ax_b, d["b/sim_p"] / N, d["b/sim_mean"], d["b/sim_se"], color=C.OPTIMAL_COLOR)
    ax_b.set_title(rf"(b) ridge, $\sigma^2 = {C.MAIN_NOISE:g}$, $r^2 = 1$")
    ax_b.legend(loc="upper right")

    for ax in (ax_a, ax_b):
        C.log_gamma_axis(ax, *_X_LIMITS)
        ax.set_ylim(0, Y_MAX)
        ax.axvline(1.0, color="0.6", linestyle=":", linewidth=0.7, zorder=1)
        ax.set_xlabel(r"$\gamma = p/n$")
    ax_a.set_ylabel(r"excess risk $\mathbb{E}\,\|\hat\beta - \beta\|^2$")
    style_handles = [
        Line2D([], [], color=C.THEORY_GREY, label=r"asymptotic ($n, p \to \infty$)"),
        Line2D([], [], color=C.THEORY_GREY, linestyle=(0, (3, 1.5)), linewidth=0.8, label=rf"exact, $n = {N}$"),
        Line2D([], [], color=C.THEORY_GREY, marker="o", markerfacecolor="white", markersize=3, linestyle="none",
               label=rf"simulation, $n = {N}$ ($\pm 2$ SE)"),
        Line2D([], [], color="0.6", linestyle=":", linewidth=0.7, label=r"peak ($\gamma = 1$)"),
    ]
    fig.legend(handles=style_handles, loc="outside upper center", ncols=4)
    return fig


def make(out_dir, *, seed: int = 0, venue: str = "neurips", reps: int = REPS) -> list[Path]:
    """Draw the figure at ``venue``'s text width; write ``NAME``.pdf and ``NAME``.png to ``out_dir``."""
    return style.render(draw, data(seed, reps=reps), out_dir, NAME, venue=venue)