"""Shared pieces of the ridge/min-norm figures: model constants, colours, seeded Monte Carlo.

One place for what must agree across figures: the same noise level gets the same colour
in every figure, and "solid = asymptotic formula, dashed = exact finite-size formula,
markers with +-2 SE bars = simulation" holds everywhere.
"""
from __future__ import annotations

import numpy as np

from claimcheck.paper_figures.style import PALETTE
from claimcheck.sims.ridgeless import fast_risk_samples

SIGNAL = 1.0
"""r^2 = ||beta||^2 in every ridge/min-norm figure."""

MAIN_NOISE = 0.5
"""sigma^2 of the single-noise panels (model-wise ridge panel, sample-wise figure)."""

NOISE_COLORS = {0.1: PALETTE["green"], 0.5: PALETTE["blue"], 1.0: PALETTE["orange"]}
"""Colour of the min-norm curves by noise level sigma^2."""

OPTIMAL_COLOR = PALETTE["vermillion"]
"""Colour of the optimally regularised ridge (lambda* = sigma^2 gamma / r^2)."""

THEORY_GREY = "0.35"
ERROR_Z = 2.0
"""Error bars are +-ERROR_Z standard errors."""

MIN_GAP_SIMULATED = 4
"""Simulate min-norm only at |p - n| >= 4: below that the Rao-Blackwellised variance term
(an inverse-Wishart trace) has infinite variance and its sample mean and SE are unreliable."""


def curve_rng(seed: int, k: int) -> np.random.Generator:
    """Independent, reproducible stream for curve ``k`` of a figure drawn with ``seed``."""
    return np.random.default_rng(np.random.SeedSequence([seed, k]))


def simulate(n_values, p_values, noise: float, lam_values, reps: int, rng: np.random.Generator):
    """(mean, se) arrays of the excess risk at each (n, p, lam), via ``fast_risk_samples``."""
    n_values, p_values, lam_values = np.broadcast_arrays(np.asarray(n_values), np.asarray(p_values), np.asarray(lam_values, float))
    mean = np.empty(n_values.shape)
    se = np.empty(n_values.shape)
    for i, (n, p, lam) in enumerate(zip(n_values.flat, p_values.flat, lam_values.flat)):
        x = fast_risk_samples(int(n), int(p), SIGNAL, noise, float(lam), reps, rng)
        mean.flat[i] = x.mean()
        se.flat[i] = x.std(ddof=1) / np.sqrt(reps)
    return mean, se


def errorbar(ax, x, mean, se, *, color, label=None, marker="o", zorder=3):
    """Simulation points with +-ERROR_Z SE bars, in the one style every figure uses."""
    return ax.errorbar(
        x, mean, yerr=ERROR_Z * se, fmt=marker, color=color, markerfacecolor="white",
        markeredgecolor=color, markersize=3.0, markeredgewidth=0.8, elinewidth=0.7,
        capsize=1.2, capthick=0.7, linestyle="none", label=label, zorder=zorder,
    )


def finite(y):
    """``y`` with inf replaced by NaN so a line breaks at a singularity instead of spiking."""
    y = np.array(y, dtype=float)
    y[~np.isfinite(y)] = np.nan
    return y


def log_gamma_axis(ax, lo: float, hi: float) -> None:
    """Log x axis for gamma = p/n with plain-number tick labels (0.1, 0.2, 0.5, 1, ...)."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    ticks = [t for t in (0.1, 0.2, 0.5, 1, 2, 5, 10) if lo <= t <= hi]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
