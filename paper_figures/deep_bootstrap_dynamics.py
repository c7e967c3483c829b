"""Deep Bootstrap toy dynamics: SGD stability in the Ideal World, full-batch GD in the Real World.

Model and conventions of the Deep Bootstrap toy (Nakkiran, Neyshabur, Sedghi, ICLR 2021,
arXiv:2010.08127, Sec. 7 / Fig. 7; :mod:`theory.deep_bootstrap`): x ~ N(0, V), y = <beta*, x>
(identity link), ||beta*||_V = 1, SGD beta <- beta + (eta/B) sum_i x_i (y_i - <beta, x_i>) from 0.

(a) Ideal World (online SGD, fresh batches) for the claim deep_bootstrap.sgd_stability's default
    model, d = 10, V = diag(k^-1) / H_10, B = 1: expected test loss E L(beta_t) against the step t
    for several eta / eta_max. Lines: the exact second-moment recursion
    C_{t+1} = C_t - eta(VC_t + C_tV) + eta^2 (1 + 1/B) V C_t V + (eta^2/B) tr(V C_t) V,
    E L_t = tr(V C_t) (Gaussian fourth moments E[x x^T M x x^T] = 2VMV + tr(VM)V), continued past
    eta_max with :func:`theory.deep_bootstrap.ideal_world_loss` (``allow_unstable=True``; by default it
    refuses eta >= eta_max); E L_t tends to 0 for eta < eta_max, stays
    bounded at eta = eta_max (dashed) and grows geometrically for eta > eta_max (clipped at the top).
    Markers (+-2 SE): online SGD simulated (:func:`sims.deep_bootstrap.ideal_world_sgd_losses`) for
    eta <= eta_max / 2 only, the claim deep_bootstrap.ideal_world_recursion's domain: nearer eta_max
    the loss is so heavy-tailed (a product of random per-step factors) that a sample mean of
    hundreds of runs falls well below E L_t, and above eta_max it does so after a few steps.
(b) The stability threshold itself: spectral radius rho(eta) of the second-moment map
    C -> E[(I - eta S_B) C (I - eta S_B)] (:func:`theory.deep_bootstrap.second_moment_spectral_radius`,
    lines) against eta / eta_max, eta_max = claim.predict (the root of the secular equation
    (eta/B) sum_i lambda_i / (2 - eta lambda_i (1 + 1/B)) = 1; 2B / (v(d + B + 1)) for V = vI) for
    the claim's default model and its verify point (d = 20, V = I/20, B = 4). Markers (+-2 SE):
    the one-step ratio E[delta_1^T V delta_1] / tr(V C) with delta_0 ~ N(0, C) along the Perron
    direction C of the map (:func:`sims.deep_bootstrap.one_step_quadratic`); at eta = eta_max this
    is exactly the statistic the claim's check tests against 1. Dotted: 2B / ((B + 1) lambda_max),
    the limit that ignores the tr(VM)V term (a mutant the check rejects), for the default model.
(c) Real World full-batch GD on n fixed points, V = I/d, eta = 0.5 d / (1 + sqrt(d/n))^2 (claim
    deep_bootstrap.real_world_gd, default n = 20, d = 50 and verify point n = 40, d = 10): test loss
    against t. Lines: the Wishart-spectrum formula
    E L_t = E (1/d) (sum_{k <= min(n,d)} (1 - eta mu_k)^{2t} + (d - n)_+), mu_k the nonzero
    eigenvalues of S_n = X^T X / n, with the expectation over the spectrum taken as a
    Rao-Blackwellised average over ``SPECTRAL_REPS`` bidiagonal Dumitriu-Edelman spectra
    (:func:`sims.deep_bootstrap.gd_spectral_losses`, a fixed seed: it does not change with ``seed``;
    its +-2 SE is below 0.001, thinner than the line) -- the claim's own comparator, since no closed
    form at finite t is implemented. Markers (+-2 SE): direct GD on sampled data
    (:func:`sims.deep_bootstrap.gd_direct_losses`), at the claim's logged steps, including t = inf
    (the min-norm interpolator, drawn at the right edge) where it is random (n < d).
    Dashed: the t -> inf limit (1 - n/d)_+, the noiseless min-norm risk (Belkin, Hsu, Xu 2019, Thm 1;
    :func:`theory.deep_bootstrap.real_world_gd_limit`). Dotted: the Ideal World with a fresh batch
    of n points per step (:func:`theory.deep_bootstrap.ideal_world_loss`, B = n), which tends to 0.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from claimcheck.paper_figures import _common as C
from claimcheck.paper_figures import style

NAME = "deep_bootstrap_dynamics"
CLAIMS = ("deep_bootstrap.sgd_stability", "deep_bootstrap.real_world_gd")
REPS = 1000
"""Monte Carlo runs per simulated curve in (a) and (c); (b) uses ``ONE_STEP_FACTOR`` x REPS one-step draws per point."""
ONE_STEP_FACTOR = 10

LINK = "identity"
"""Panel (a): the stability threshold concerns the homogeneous part of the recursion; with the
identity link E L_t -> 0 below eta_max, so stable and unstable rates are read off a log axis."""
A_STEPS = 200
A_FRACS = (0.25, 0.5, 0.9, 1.0, 1.1, 1.5)
"""Panel (a): eta / eta_max of the plotted curves."""
A_SIM_FRACS = (0.25, 0.5)
"""Panel (a): curves simulated (eta <= eta_max / 2, the domain of deep_bootstrap.ideal_world_recursion)."""
A_SIM_STEPS = np.array([1, 2, 4, 7, 12, 20, 30, 45, 65, 90, 120, 160, 200])
A_YLIM = (1e-6, 1e2)

B_MODELS = (("default", {"d": 10, "exponent": 1.0, "batch": 1}), ("verify", {"d": 20, "exponent": 0.0, "batch": 4}))
"""Panel (b): the claim deep_bootstrap.sgd_stability's default parameters and its verify point."""
B_GRID = np.linspace(0.02, 2.2, 221)
B_SIM_FRACS = np.array([0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0])
B_YLIM = (0.7, 2.4)

C_SETTINGS = ((20, 50), (40, 10))
"""Panel (c): (n, d) of the claim deep_bootstrap.real_world_gd's default and verify point."""
C_ETA_FRAC = 0.5
C_T_MAX = 300
C_GRID = np.unique(np.concatenate([np.round(np.geomspace(1, C_T_MAX, 40)), [1, 2, 5, 10, 20, 50, 100, 300]]))
SPECTRAL_REPS = 4000
SPECTRAL_SEED = 20210
"""Fixed stream of the spectral reference line (a theory curve: it must not change with ``seed``)."""
INF_X = 1000.0
"""Panel (c): where t = inf is drawn on the log axis."""

A_COLORS = {0.25: style.PALETTE["sky_blue"], 0.5: style.PALETTE["blue"], 0.9: style.PALETTE["green"],
            1.0: style.PALETTE["black"], 1.1: style.PALETTE["orange"], 1.5: style.PALETTE["vermillion"]}
B_COLORS = {"default": style.PALETTE["blue"], "verify": style.PALETTE["purple"]}
C_COLORS = {(20, 50): style.PALETTE["vermillion"], (40, 10): style.PALETTE["green"]}


def _key(n: int, d: int) -> str:
    return f"c/n={n},d={d}"


def perron_direction(V, batch: int, eta: float) -> tuple[np.ndarray, float]:
    """(C, rho): the PSD top eigendirection C (tr(VC) = 1) of the second-moment map and its eigenvalue.

    In V's eigenbasis the map acts on diagonal C as D + (eta^2/B) l l^T with
    D_i = (1 - eta l_i)^2 + eta^2 l_i^2 / B (:func:`theory.deep_bootstrap.second_moment_spectral_radius`);
    its top eigenvector is positive (Perron-Frobenius). At eta_max it is
    :func:`theory.deep_bootstrap.stable_second_moment`.
    """
    lam, U = np.linalg.eigh(np.asarray(V, dtype=float))
    lam = np.clip(lam, 0.0, None)
    M = np.diag((1 - eta * lam) ** 2 + eta**2 * lam**2 / batch) + (eta**2 / batch) * np.outer(lam, lam)
    w, Q = np.linalg.eigh(M)
    c = np.abs(Q[:, -1])
    c = c / float(lam @ c)
    return (U * c) @ U.T, float(w[-1])


def data(seed: int = 0, *, reps: int = REPS) -> dict[str, np.ndarray]:
    """Every plotted array; ``*sim_mean`` / ``*sim_se`` are Monte Carlo (stream k from
    SeedSequence([seed, k])), the rest is theory (independent of ``seed`` and ``reps``)."""
    from claimcheck.catalogue.deep_bootstrap import GD_STEPS, gd_eta, model, real_world_gd, sgd_stability
    from claimcheck.sims import deep_bootstrap as S
    from claimcheck.theory import deep_bootstrap as T

    out: dict[str, np.ndarray] = {}

    # (a) Ideal World loss across the stability threshold
    pa = dict(B_MODELS[0][1])
    V, b = model(pa["d"], pa["exponent"])
    eta_max = float(sgd_stability.predict(**pa))
    out["a/eta_max"] = np.array(eta_max)
    out["a/eta_frac"] = np.array(A_FRACS)
    out["a/t"] = np.arange(A_STEPS + 1)
    out["a/theory"] = np.stack([T.ideal_world_loss(V, b, LINK, pa["batch"], f * eta_max, A_STEPS, allow_unstable=True) for f in A_FRACS])
    out["a/sim_eta_frac"] = np.array(A_SIM_FRACS)
    out["a/sim_t"] = A_SIM_STEPS.astype(float)
    mean, se = np.empty((len(A_SIM_FRACS), A_SIM_STEPS.size)), np.empty((len(A_SIM_FRACS), A_SIM_STEPS.size))
    for k, f in enumerate(A_SIM_FRACS):
        L = S.ideal_world_sgd_losses(V, b, LINK, pa["batch"], f * eta_max, A_STEPS, A_SIM_STEPS, reps, C.curve_rng(seed, k))
        mean[k], se[k] = L.mean(axis=0), L.std(axis=0, ddof=1) / math.sqrt(reps)
    out["a/sim_mean"], out["a/sim_se"] = mean, se

    # (b) spectral radius of the second-moment map and the one-step check along its Perron direction
    out["b/eta_frac"] = B_GRID
    out["b/sim_eta_frac"] = B_SIM_FRACS
    for k, (name, p) in enumerate(B_MODELS):
        Vb, _ = model(p["d"], p["exponent"])
        em = float(sgd_stability.predict(**p))
        out[f"b/{name}/eta_max"] = np.array(em)
        out[f"b/{name}/rho"] = np.array([T.second_moment_spectral_radius(Vb, p["batch"], f * em) for f in B_GRID])
        lam_max = float(np.max(np.diag(Vb)))
        out[f"b/{name}/naive_frac"] = np.array(2 * p["batch"] / ((p["batch"] + 1) * lam_max) / em)
        rng = C.curve_rng(seed, 2 + k)
        m, s = np.empty(B_SIM_FRACS.size), np.empty(B_SIM_FRACS.size)
        for j, f in enumerate(B_SIM_FRACS):
            Cp, _ = perron_direction(Vb, p["batch"], f * em)
            q = S.one_step_quadratic(Vb, p["batch"], f * em, Cp, ONE_STEP_FACTOR * reps, rng)
            m[j], s[j] = q.mean(), q.std(ddof=1) / math.sqrt(q.size)
        out[f"b/{name}/sim_mean"], out[f"b/{name}/sim_se"] = m, s

    # (c) Real World full-batch GD
    out["c/t"] = C_GRID
    for k, (n, d) in enumerate(C_SETTINGS):
        key = _key(n, d)
        eta = gd_eta(n, d, C_ETA_FRAC)
        Vc = np.eye(d) / d
        ref = S.gd_spectral_losses(n, d, 1.0 / d, eta, C_GRID, SPECTRAL_REPS,
                                   np.random.default_rng(np.random.SeedSequence([SPECTRAL_SEED, k])))
        out[f"{key}/spectral"] = ref.mean(axis=0)
        out[f"{key}/spectral_se"] = ref.std(axis=0, ddof=1) / math.sqrt(SPECTRAL_REPS)
        out[f"{key}/limit"] = np.array(real_world_gd.predict(n=n, d=d, eta_frac=C_ETA_FRAC, log_steps=GD_STEPS))  # t -> inf
        out[f"{key}/ideal"] = T.ideal_world_loss(Vc, T.default_beta_star(Vc), "identity", n, eta, C_T_MAX)[C_GRID.astype(int)]
        steps = np.array(GD_STEPS)
        L = S.gd_direct_losses(n, d, 1.0 / d, eta, steps, reps, C.curve_rng(seed, 4 + k))
        keep = np.isfinite(steps) | (np.ptp(L, axis=0) > 0)  # t = inf is exactly 0 (no spread) when n >= d
        L = L[:, keep]
        out[f"{key}/sim_t"] = steps[keep]
        out[f"{key}/sim_mean"] = L.mean(axis=0)
        out[f"{key}/sim_se"] = L.std(axis=0, ddof=1) / math.sqrt(reps)
    return out


def _pos_errorbar(ax, x, mean, se, color, marker="o"):
    """+-2 SE bars on a log axis: the lower end clipped at a positive value."""
    lo = np.maximum(mean - C.ERROR_Z * se, mean * 1e-3)
    return ax.errorbar(x, mean, yerr=[mean - lo, C.ERROR_Z * se], fmt=marker, color=color, markerfacecolor="white",
                       markeredgecolor=color, markersize=3.0, markeredgewidth=0.8, elinewidth=0.7, capsize=1.2,
                       capthick=0.7, linestyle="none", zorder=4)


def draw(d: dict[str, np.ndarray], venue: str):
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    fig = Figure(figsize=style.figsize(venue, column="full", ncols=3, height_to_width=0.95))
    ax_a, ax_b, ax_c = fig.subplots(1, 3)

    # (a)
    t = d["a/t"]
    for f, y in zip(d["a/eta_frac"], d["a/theory"]):
        f = float(f)
        ls = "--" if f == 1.0 else "-"
        y = np.where(y > A_YLIM[1] * 10, np.nan, y)
        ax_a.plot(t, y, color=A_COLORS[f], linestyle=ls, linewidth=1.0, zorder=2, label=rf"${f:g}$")
    for f, m, s in zip(d["a/sim_eta_frac"], d["a/sim_mean"], d["a/sim_se"]):
        _pos_errorbar(ax_a, d["a/sim_t"], m, s, A_COLORS[float(f)])
    ax_a.set_yscale("log")
    ax_a.set_ylim(*A_YLIM)
    ax_a.set_xlim(0, t[-1])
    ax_a.set_xlabel("SGD step $t$")
    ax_a.set_ylabel(r"test loss $\mathbb{E}\,L(\beta_t)$")
    ax_a.set_title(r"(a) Ideal World SGD, $d=10$")
    ax_a.legend(title=r"$\eta/\eta_{\max}$", loc="lower left", ncols=3, handlelength=1.2,
                columnspacing=0.8, fontsize=7, title_fontsize=7)

    # (b)
    x = d["b/eta_frac"]
    labels = {"default": r"$d=10$, $B=1$", "verify": r"$d=20$, $B=4$"}
    for name, _ in B_MODELS:
        c = B_COLORS[name]
        ax_b.plot(x, d[f"b/{name}/rho"], color=c, linewidth=1.0, zorder=2, label=labels[name])
        C.errorbar(ax_b, d["b/sim_eta_frac"], d[f"b/{name}/sim_mean"], d[f"b/{name}/sim_se"], color=c,
                   marker="o" if name == "default" else "s")
    ax_b.axhline(1.0, color="0.55", linewidth=0.6, zorder=1)
    ax_b.plot([1.0, 1.0], [B_YLIM[0], 1.6], color="0.2", linestyle="--", linewidth=0.7, zorder=1)
    ax_b.annotate(r"$\eta_{\max}$", (1.0, 1.6), xytext=(0, 1), textcoords="offset points", ha="center", va="bottom", fontsize=7)
    naive = float(d["b/default/naive_frac"])
    ax_b.axvline(naive, color=B_COLORS["default"], linestyle=":", linewidth=0.8, zorder=1)
    ax_b.annotate(r"$2B/((B{+}1)\lambda_{\max})$", (naive, 0.76), xytext=(-1.5, 0), textcoords="offset points",
                  ha="right", va="bottom", rotation=90, fontsize=6.5, color=B_COLORS["default"])
    ax_b.set_xlim(0, x[-1])
    ax_b.set_ylim(*B_YLIM)
    ax_b.set_xlabel(r"learning rate $\eta/\eta_{\max}$")
    ax_b.set_ylabel(r"second-moment growth $\rho(\eta)$")
    ax_b.set_title("(b) mean-square stability")
    ax_b.legend(loc="upper left", handlelength=1.2, fontsize=7)

    # (c)
    tc = d["c/t"]
    for n, dd in C_SETTINGS:
        key, c = _key(n, dd), C_COLORS[(n, dd)]
        ax_c.plot(tc, d[f"{key}/spectral"], color=c, linewidth=1.0, zorder=2, label=rf"$n={n}$, $d={dd}$")
        ax_c.plot(tc, d[f"{key}/ideal"], color=c, linestyle=":", linewidth=0.9, zorder=2)
        lim = float(d[f"{key}/limit"])
        ax_c.plot([tc[0], INF_X], [lim, lim], color=c, linestyle="--", linewidth=0.7, zorder=1)
        st = d[f"{key}/sim_t"]
        C.errorbar(ax_c, np.where(np.isinf(st), INF_X, st), d[f"{key}/sim_mean"], d[f"{key}/sim_se"], color=c,
                   marker="o" if n < dd else "s")
    ax_c.set_xscale("log")
    ax_c.set_xlim(0.8, INF_X * 1.5)
    ax_c.xaxis.set_major_locator(FixedLocator([1, 10, 100, INF_X]))
    ax_c.xaxis.set_major_formatter(FuncFormatter(lambda v, _: r"$\infty$" if v == INF_X else f"{v:g}"))
    ax_c.xaxis.set_minor_locator(FixedLocator([k * 10.0**e for e in range(3) for k in range(2, 10) if k * 10.0**e <= C_T_MAX]))
    ax_c.xaxis.set_minor_formatter(NullFormatter())
    ax_c.axvspan(C_T_MAX * 1.15, INF_X / 1.3, color="0.92", linewidth=0, zorder=0)
    ax_c.set_ylim(-0.03, 1.03)
    ax_c.set_xlabel("GD step $t$")
    ax_c.set_ylabel(r"test loss $\mathbb{E}\,L(\beta_t)$")
    ax_c.set_title("(c) Real World, full-batch GD", loc="right")
    ax_c.legend(loc="center right", bbox_to_anchor=(1.0, 0.33), handlelength=1.2, fontsize=7)

    handles = [
        Line2D([], [], color="0.3", label="theory"),
        Line2D([], [], color="0.3", marker="o", markerfacecolor="white", markersize=3, linestyle="none",
               label=r"simulation ($\pm2$ SE)"),
        Line2D([], [], color="0.3", linestyle="--", linewidth=0.7, label=r"(c) min-norm limit $(1-n/d)_+$"),
        Line2D([], [], color="0.3", linestyle=":", linewidth=0.9, label=r"(c) Ideal World, fresh batch of $n$"),
    ]
    fig.legend(handles=handles, loc="outside upper center", ncols=4, fontsize=7)
    return fig


def make(out_dir, *, seed: int = 0, venue: str = "neurips", reps: int = REPS) -> list[Path]:
    """Draw the figure at ``venue``'s text width; write ``NAME``.pdf and ``NAME``.png to ``out_dir``."""
    return style.render(draw, data(seed, reps=reps), out_dir, NAME, venue=venue)
