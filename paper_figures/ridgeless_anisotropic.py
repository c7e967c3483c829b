"""Ridge and min-norm risk with anisotropic features: the fixed-point formula, not the isotropic one.

Excess risk against gamma = p/n for x ~ N(0, Sigma), Sigma with three eigenvalue levels
(0.2, 1, 3) in equal proportions (the default of the claim ``ridgeless.anisotropic``),
beta in a uniformly random direction with r^2 = 1, sigma^2 = 1:

* solid lines: the deterministic equivalent [Bach23, Prop. 1 (eqs. 5-6); HMRT22, Thm 5]

      R = (kappa^2 (r^2/p) tr Sigma (Sigma + kappa)^-2 + sigma^2 df_2/n) / (1 - df_2/n),
      lam = kappa (1 - df_1(kappa)/n),

  (:func:`theory.ridgeless.ridge_risk_anisotropic`), the proportional limit n, p -> inf, at
  lam = 0.1, 1 and at lam -> 0+ (min-norm, theory only: the simulator needs lam > 0; its
  risk diverges at gamma = 1; for gamma < 1 it is sigma^2 gamma / (1 - gamma) whatever
  Sigma, so there the two black lines coincide);
* thin dashed lines: the isotropic formula [HMRT22, Thm 2] at the same gamma and lam
  (:func:`theory.ridgeless.ridge_risk_asymptotic`), which ignores the spectrum -- the
  claim's mutant ``isotropic_formula``;
* markers, +-2 SE: Monte Carlo of the claim's own simulator (Rao-Blackwellised over the
  noise and beta's direction, :func:`sims.anisotropic.anisotropic_risk_samples`) at
  n = 15 and n = 30 with the same gamma, combined into the Richardson extrapolation
  2 R(2n) - R(n) to n -> inf, which removes the O(1/n) finite-size bias (about 3% at
  n = 15: several SE) as the claim's own asymptotic check does. The raw finite-n means are
  in :func:`data` as ``sim_mean_n`` / ``sim_mean_2n``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from claimcheck.catalogue.ridgeless import anisotropic as CLAIM
from claimcheck.paper_figures import _common as C
from claimcheck.paper_figures import style
from claimcheck.theory.ridgeless import min_norm_risk_asymptotic, ridge_risk_anisotropic, ridge_risk_asymptotic

NAME = "ridgeless_anisotropic"
CLAIMS = ("ridgeless.anisotropic",)

LEVELS = tuple(CLAIM.default["levels"])
"""Sigma's eigenvalue levels, each a third of the spectrum (the claim's default: 0.2, 1, 3)."""
SIGNAL = C.SIGNAL
NOISE = float(CLAIM.default["noise"])
"""sigma^2 = 1 (the claim's default)."""
LAMBDAS = (0.1, 1.0)
"""Ridge penalties simulated (0.1 is the claim's default); lam = 0 is drawn as theory only."""
N = 15
"""Smaller simulated size; the Richardson partner is 2 N. p = gamma N is a multiple of len(LEVELS)."""
SIM_P = np.array([3, 6, 12, 15, 18, 24, 30, 60, 90])
"""Simulated p at n = N: gamma = 0.2, 0.4, 0.8, 1, 1.2, 1.6, 2, 4, 6."""
GAMMA_RANGE = (0.15, 8.0)
P_LINE = 600
"""p of the theory lines (n = round(P_LINE / gamma); the plotted gamma is the exact p / n)."""
Y_MAX = 3.0
REPS = 200
"""Monte Carlo replicates per simulated (gamma, n) point."""
COLORS = {0.0: "0.15", 0.1: style.PALETTE["blue"], 1.0: style.PALETTE["green"]}
MARKERS = {0.1: "o", 1.0: "s"}


def _spectrum(p: int) -> np.ndarray:
    return np.repeat(np.asarray(LEVELS, dtype=float), p // len(LEVELS))


def _theory(n: int, p: int, lam: float) -> float:
    return ridge_risk_anisotropic(n, _spectrum(p), lam, SIGNAL, NOISE)


def _isotropic(gamma, lam: float):
    if lam == 0.0:
        return np.asarray(min_norm_risk_asymptotic(gamma, SIGNAL, NOISE), dtype=float)
    return np.asarray(ridge_risk_asymptotic(gamma, lam, SIGNAL, NOISE), dtype=float)


def data(seed: int = 0, *, reps: int = REPS) -> dict[str, np.ndarray]:
    """Every plotted array, keyed ``what/lam=...``; the same seed gives the same arrays.

    ``aniso``/``iso``: theory on the line grid ``gamma`` and at the simulated ``sim_gamma``
    (``*_at_sim``). ``sim_mean``/``sim_se``: the extrapolated Monte Carlo points
    2 R(2N) - R(N); ``sim_mean_n``/``sim_mean_2n`` (and SEs): the raw means at n = N, 2N.
    Size k of curve j is drawn from ``SeedSequence([seed, j, k])``.
    """
    out: dict[str, np.ndarray] = {}
    n_line = np.unique(np.round(P_LINE / np.geomspace(*GAMMA_RANGE, 121)).astype(int))[::-1]
    gamma = P_LINE / n_line
    out["gamma"] = gamma
    out["sim_gamma"] = SIM_P / N
    for lam in (0.0, *LAMBDAS):
        out[f"aniso/lam={lam:g}"] = C.finite([_theory(int(n), P_LINE, lam) for n in n_line])
        out[f"iso/lam={lam:g}"] = C.finite(_isotropic(gamma, lam))
    for j, lam in enumerate(LAMBDAS):
        out[f"aniso_at_sim/lam={lam:g}"] = np.array([_theory(N, int(p), lam) for p in SIM_P])
        out[f"iso_at_sim/lam={lam:g}"] = _isotropic(SIM_P / N, lam)
        raw = {}
        for k, f in enumerate((1, 2)):
            rng = np.random.default_rng(np.random.SeedSequence([seed, j, k]))
            ests = [CLAIM.simulate({"n": N * f, "p": int(p) * f, "levels": LEVELS, "lam": lam, "signal": SIGNAL, "noise": NOISE},
                                   reps, rng) for p in SIM_P]
            raw[f] = (np.array([e.mean for e in ests]), np.array([e.se for e in ests]))
        out[f"sim_mean_n/lam={lam:g}"], out[f"sim_se_n/lam={lam:g}"] = raw[1]
        out[f"sim_mean_2n/lam={lam:g}"], out[f"sim_se_2n/lam={lam:g}"] = raw[2]
        out[f"sim_mean/lam={lam:g}"] = 2.0 * raw[2][0] - raw[1][0]
        out[f"sim_se/lam={lam:g}"] = np.hypot(2.0 * raw[2][1], raw[1][1])
    return out


def draw(d: dict[str, np.ndarray], venue: str):
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    fig = Figure(figsize=style.figsize(venue, column="half", height_to_width=1.0))
    ax = fig.add_subplot()
    gamma = d["gamma"]
    for lam in (0.0, *LAMBDAS):
        c = COLORS[lam]
        ax.plot(gamma, d[f"aniso/lam={lam:g}"], color=c, linewidth=1.1 if lam else 0.9, zorder=2)
        ax.plot(gamma, d[f"iso/lam={lam:g}"], color=c, linestyle=(0, (3, 1.5)), linewidth=0.6, zorder=1.5)
    for lam in LAMBDAS:
        C.errorbar(ax, d["sim_gamma"], d[f"sim_mean/lam={lam:g}"], d[f"sim_se/lam={lam:g}"], color=COLORS[lam], marker=MARKERS[lam])
    C.log_gamma_axis(ax, *GAMMA_RANGE)
    ax.set_ylim(0, Y_MAX)
    ax.axvline(1.0, color="0.6", linestyle=":", linewidth=0.7, zorder=1)
    ax.set_xlabel(r"$\gamma = p/n$")
    ax.set_ylabel(r"excess risk $\mathbb{E}\,\|\hat\beta - \beta\|_\Sigma^2$")
    ax.text(0.03, 0.97, r"$\mathrm{spec}\,\Sigma = \{0.2, 1, 3\}$" "\n" rf"$r^2 = {SIGNAL:g}$, $\sigma^2 = {NOISE:g}$",
            transform=ax.transAxes, ha="left", va="top", fontsize="small")
    lam_handles = [Line2D([], [], color=COLORS[0.0], linewidth=0.9, label=r"$\lambda \to 0^+$")]
    lam_handles += [Line2D([], [], color=COLORS[lam], marker=MARKERS[lam], markerfacecolor="white", markersize=3,
                           label=rf"$\lambda = {lam:g}$") for lam in LAMBDAS]
    ax.legend(handles=lam_handles, loc="upper right")
    style_handles = [
        Line2D([], [], color=C.THEORY_GREY, label=r"anisotropic fixed point"),
        Line2D([], [], color=C.THEORY_GREY, linestyle=(0, (3, 1.5)), linewidth=0.6, label=r"isotropic formula"),
        Line2D([], [], color=C.THEORY_GREY, marker="o", markerfacecolor="white", markersize=3, linestyle="none",
               label=rf"sim., $2R_{{{2 * N}}} - R_{{{N}}}$ ($\pm 2$ SE)"),
    ]
    fig.legend(handles=style_handles, loc="outside upper center", ncols=2)
    return fig


def make(out_dir, *, seed: int = 0, venue: str = "neurips", reps: int = REPS) -> list[Path]:
    """Draw the figure at ``venue``'s half width; write ``NAME``.pdf and ``NAME``.png to ``out_dir``."""
    return style.render(draw, data(seed, reps=reps), out_dir, NAME, venue=venue)
