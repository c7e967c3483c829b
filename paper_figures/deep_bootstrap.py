"""The Deep Bootstrap toy (Nakkiran, Neyshabur, Sedghi, ICLR 2021, Fig. 7): Real World vs Ideal World.

(a) Setting A: identity link, n = 20. (b) Setting B: sign link, n = 100. Test loss
E L(beta_t) against the SGD step t: the Ideal World's exact recursion (line), Ideal World
simulation (band, +-2 SE) and Real World simulation (n fixed points, random reshuffling;
band, +-2 SE). Dotted vertical line: end of the first epoch t = n/B (the worlds coincide
before it). Dash-dotted line in (b): the Real World's t -> inf limit for full-batch GD, the OLS
risk 1 - 2/pi + (1 - 2/pi) d/(n-d-1) + 4/(pi (n-1)(n-2)) (claim deep_bootstrap.sign_ols_limit;
constant-step SGD only fluctuates around that fit). (c) Relative bootstrap error
|E L_real - E L_ideal| / E L_ideal (+-2 SE) with the thresholds of the claim
deep_bootstrap.figure7 (large > 0.5 in A, small < 0.2 in B) and, as vertical dashed lines,
the stopping times T(n) (first logged step where the mean Real World train loss is <= 1% of
its start, capped at t_max = 1000) up to which the claim takes the maximum.

Model (claimcheck.catalogue.deep_bootstrap.FIG7): d = 50, V = diag(k^-2) with tr V = 1,
beta* with equal coordinates in V's eigenbasis and ||beta*||_V = 1, batch B = 1,
eta = eta_max(V, 1) / 2, t_max = 1000 steps.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from claimcheck.paper_figures import _common as C
from claimcheck.paper_figures import style

NAME = "deep_bootstrap"
CLAIMS = (
    "deep_bootstrap.figure7",
    "deep_bootstrap.ideal_world_recursion",
    "deep_bootstrap.early_agreement",
    "deep_bootstrap.sign_best_linear_risk",
    "deep_bootstrap.sign_ols_limit",
)
REPS = 400
"""SGD runs per world and setting (one batched array computation each)."""
LOG_POINTS = 40
SETTINGS = (("A", "identity", "n_a"), ("B", "sign", "n_b"))
COLORS = {"ideal": style.PALETTE["blue"], "real": style.PALETTE["vermillion"]}
SETTING_COLORS = {"A": style.PALETTE["vermillion"], "B": style.PALETTE["green"]}


def data(seed: int = 0, *, reps: int = REPS) -> dict[str, np.ndarray]:
    """Every plotted array; the same seed gives the same arrays (stream k from SeedSequence([seed, k]))."""
    from claimcheck.catalogue.deep_bootstrap import FIG7, fig7_steps, learning_rate, model, relative_bootstrap_error
    from claimcheck.sims import deep_bootstrap as S
    from claimcheck.theory import deep_bootstrap as T

    p = FIG7
    V, b = model(p["d"], p["exponent"])
    eta = learning_rate(p["d"], p["exponent"], p["batch"], p["eta_frac"])
    steps = fig7_steps(p["t_max"], LOG_POINTS)
    out: dict[str, np.ndarray] = {"steps": steps, "t": np.arange(1, p["t_max"] + 1), "eta": np.array(eta)}
    for k, (name, link, nkey) in enumerate(SETTINGS):
        n = p[nkey]
        ideal = T.ideal_world_loss(V, b, link, p["batch"], eta, p["t_max"])
        out[f"{name}/ideal_theory"] = ideal[1:]
        out[f"{name}/floor"] = np.array(T.best_linear_risk(link))
        out[f"{name}/n"] = np.array(n)
        I = S.ideal_world_sgd_losses(V, b, link, p["batch"], eta, p["t_max"], steps, reps, C.curve_rng(seed, 2 * k))
        log = np.concatenate([[0], steps])
        R, train = S.real_world_sgd_losses(V, b, link, n, p["batch"], eta, p["t_max"], log, reps, C.curve_rng(seed, 2 * k + 1),
                                           return_train=True)
        R = R[:, 1:]
        out[f"{name}/train/sim_mean"] = train.mean(axis=0)  # at t = 0 and ``steps``; T(n) is drawn from it
        if link == "sign":
            out[f"{name}/ols_limit"] = np.array(T.best_linear_risk(link) + T.sign_ols_excess_risk(n, p["d"]))
        for key, L in (("ideal", I), ("real", R)):
            out[f"{name}/{key}/sim_mean"] = L.mean(axis=0)
            out[f"{name}/{key}/sim_se"] = L.std(axis=0, ddof=1) / np.sqrt(reps)
        err, se = relative_bootstrap_error(R, ideal[steps])
        out[f"{name}/rel_error/sim_mean"], out[f"{name}/rel_error/sim_se"] = err, se
    return out


def _band(ax, x, mean, se, color, label):
    ax.fill_between(x, mean - C.ERROR_Z * se, mean + C.ERROR_Z * se, color=color, alpha=0.3, linewidth=0, label=label)


def draw(d, venue: str):
    from claimcheck.catalogue.deep_bootstrap import FIG7, stopping_time
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    fig = Figure(figsize=style.figsize(venue, column="full", ncols=3, height_to_width=0.95))
    axes = fig.subplots(1, 3)
    x = d["steps"]
    for ax, (name, link, nkey) in zip(axes[:2], SETTINGS):
        n = int(d[f"{name}/n"])
        _band(ax, x, d[f"{name}/ideal/sim_mean"], d[f"{name}/ideal/sim_se"], COLORS["ideal"], None)
        _band(ax, x, d[f"{name}/real/sim_mean"], d[f"{name}/real/sim_se"], COLORS["real"], None)
        ax.plot(d["t"], d[f"{name}/ideal_theory"], color=COLORS["ideal"], linewidth=1.0, zorder=3)
        ax.axvline(n / FIG7["batch"], color="0.55", linestyle=":", linewidth=0.8)
        floor = float(d[f"{name}/floor"])
        if floor > 0:
            ax.axhline(floor, color="0.35", linestyle="--", linewidth=0.7)
            ax.annotate(r"floor $1-2/\pi$", (1.3, floor), xytext=(0, 2), textcoords="offset points", fontsize=7, color="0.35")
        if f"{name}/ols_limit" in d:
            ols = float(d[f"{name}/ols_limit"])
            ax.axhline(ols, color=COLORS["real"], linestyle="-.", linewidth=0.7)
            ax.annotate(r"OLS ($t\to\infty$, GD)", (x[-1], ols), xytext=(-2, 2), textcoords="offset points", fontsize=7,
                        color=COLORS["real"], ha="right")
        ax.set_xscale("log")
        ax.set_xlim(1, x[-1])
        ax.set_xlabel("SGD step $t$")
        label = r"$\sigma(z)=z$" if link == "identity" else r"$\sigma=\mathrm{sgn}$"
        ax.set_title(f"({name.lower()}) Setting {name}: {label}, $n={n}$")
    axes[0].set_yscale("log")
    axes[0].set_ylabel(r"test loss $\mathbb{E}\,L(\beta_t)$")
    axes[1].set_ylim(0.3, 1.02)

    ax = axes[2]
    for name, _, _ in SETTINGS:
        c = SETTING_COLORS[name]
        m, se = d[f"{name}/rel_error/sim_mean"], d[f"{name}/rel_error/sim_se"]
        ax.fill_between(x, np.clip(m - C.ERROR_Z * se, 1e-4, None), m + C.ERROR_Z * se, color=c, alpha=0.3, linewidth=0)
        ax.plot(x, np.clip(m, 1e-4, None), color=c, linewidth=0.9, label=f"Setting {name}")
        T_n = stopping_time(np.concatenate([[0], x]), d[f"{name}/train/sim_mean"], FIG7["f"], FIG7["t_max"])
        ax.axvline(T_n, color=c, linestyle="--", linewidth=0.7, alpha=0.8)
        ax.annotate(f"$T_{name}$", (T_n, 30), xytext=(-2, 0), textcoords="offset points", fontsize=7, color=c, ha="right")
    ax.axhline(FIG7["large"], color=SETTING_COLORS["A"], linestyle="--", linewidth=0.7)
    ax.axhline(FIG7["small"], color=SETTING_COLORS["B"], linestyle="--", linewidth=0.7)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(1, x[-1])
    ax.set_ylim(1e-3, 100)
    ax.set_xlabel("SGD step $t$")
    ax.set_ylabel(r"$|L_{\mathrm{real}}-L_{\mathrm{ideal}}|\,/\,L_{\mathrm{ideal}}$")
    ax.set_title("(c) bootstrap error")
    ax.legend(loc="upper left", ncols=1, handlelength=1.2)

    handles = [
        Line2D([], [], color=COLORS["ideal"], label="Ideal World, exact recursion"),
        Patch(color=COLORS["ideal"], alpha=0.3, label=r"Ideal World, simulation ($\pm2$ SE)"),
        Patch(color=COLORS["real"], alpha=0.3, label=r"Real World, simulation ($\pm2$ SE)"),
        Line2D([], [], color="0.55", linestyle=":", label="end of epoch 1 ($t=n/B$)"),
    ]
    fig.legend(handles=handles, loc="outside upper center", ncols=2, fontsize=7)
    return fig


def make(out_dir, *, seed: int = 0, venue: str = "neurips", reps: int = REPS) -> list[Path]:
    """Draw the figure at ``venue``'s text width; write ``NAME``.pdf and ``NAME``.png to ``out_dir``."""
    return style.render(draw, data(seed, reps=reps), out_dir, NAME, venue=venue)