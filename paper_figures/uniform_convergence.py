"""Uniform convergence is vacuous while the test error falls (after Nagarajan & Kolter 2019, Fig. 2 left).

(a) Linear construction [NK19, Sec. 3] at a fixed distribution (D = 4096, ||u||^2 = 1/256,
    s^2 = 1), one GD step w = sum_i y_i x_i: exact test, training and S' errors against n
    (lines, theory.uniform_convergence), the implied lower bound S' - test on any two-sided
    uniform-convergence bound (dotted), and Monte Carlo points (Bartlett fast simulator):
    test error +-2 SE (Rao-Blackwellised replicates), S' error +-2 Agresti-Coull SE of the
    pooled training points. The S' error stays ~1 until n ||u||^2 ~ s^2 (n ~ 256), where the
    learned signal finally outweighs each point's memorised noise.
(b) Hypersphere network: the committed CPU evidence run of the GPU suite's ``hypersphere`` job
    (``gpu_validation/evidence/hypersphere/result.json``, profile ``cpu``: d = 200, width 1000,
    radii 1 / 1.2, sigmoid loss, Xavier init, margin 8 on 99% of S, 3 seeds). Nothing is trained
    here (the figure needs no torch): test and S' errors against n, seed means, +-2 SE where SE is
    the larger of the seed-to-seed SE of the mean and the Agresti-Coull SE of the points pooled over
    seeds (the latter alone when every seed gives the same error, e.g. S' error 1.000). Panel (b)
    does not depend on ``seed``; rerun the job (``claimcheck gpu hypersphere --profile cpu``) and
    commit its result to change it.
"""
from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import numpy as np

from claimcheck.paper_figures import _common as C
from claimcheck.paper_figures import style
from claimcheck.sims.uniform_convergence import fast_error_samples
from claimcheck.theory import uniform_convergence as T

NAME = "uniform_convergence"
CLAIMS = (
    "uniform_convergence.test_error",
    "uniform_convergence.sprime_error",
    "uniform_convergence.train_error",
    "uniform_convergence.vacuous_bound",
    "uniform_convergence.weight_norm",
    "uniform_convergence.norm_bound_grows",
)

D, SIGNAL, NOISE = 4096, 1 / 256, 1.0
"""Linear construction: noise dimension, ||u||^2 and s^2 = E||z||^2 (rho = n/256)."""
N_THEORY = np.unique(np.round(np.geomspace(1, 1024, 60)).astype(int))
SIM_N = np.array([2, 4, 8, 16, 32, 64, 128, 256])
REPS = 200
"""Monte Carlo replicates (training sets) per simulated n in panel (a)."""
COLORS = {"test": style.PALETTE["blue"], "sprime": style.PALETTE["vermillion"], "train": style.PALETTE["green"]}


def _agresti_coull(k, m):
    """(p_hat, SE) of a binomial proportion, Agresti-Coull: p~ = (k + 2)/(m + 4), SE = sqrt(p~(1-p~)/(m+4)) > 0."""
    k, m = np.asarray(k, float), np.asarray(m, float)
    pt = (k + 2) / (m + 4)
    return k / m, np.sqrt(pt * (1 - pt) / (m + 4))


def _evidence_path() -> Path:
    import claimcheck.gpu_validation as gv   # the package's __init__ only: no torch

    return Path(gv.__file__).resolve().parent / "evidence" / "hypersphere" / "result.json"


@functools.lru_cache(maxsize=1)
def _hypersphere() -> dict:
    """The committed hypersphere evidence: n, test / S' errors (seeds x ns), test points, profile."""
    path = _evidence_path()
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the committed hypersphere evidence is missing (it ships with the package; "
                                f"regenerate it with 'claimcheck gpu hypersphere --profile cpu')")
    res = json.loads(path.read_text())
    m, cfg = res["measurements"], res["config"]
    return {"n": np.asarray(m["n"], float), "test": np.asarray(m["test_error"], float),
            "sprime": np.asarray(m["s_prime_error"], float), "test_points": int(cfg["test_points"]),
            "profile": res["profile"], "d": int(cfg["d"]), "width": int(cfg["width"]), "seeds": len(m["seeds"])}


def _seed_mean_se(err: np.ndarray, points) -> tuple[np.ndarray, np.ndarray]:
    """Seed mean of ``err`` (seeds x ns) and its SE: max(seed-to-seed SE, Agresti-Coull SE of the
    ``points`` per seed pooled over seeds)."""
    s = err.shape[0]
    mean = err.mean(axis=0)
    between = err.std(axis=0, ddof=1) / math.sqrt(s) if s > 1 else np.zeros_like(mean)
    m = s * np.broadcast_to(np.asarray(points, float), mean.shape)
    _, pooled = _agresti_coull(np.round(err.sum(axis=0) * m / s), m)
    return mean, np.maximum(between, pooled)


def data(seed: int = 0, *, reps: int = REPS) -> dict[str, np.ndarray]:
    """Every plotted array; theory arrays do not depend on ``seed``, ``*sim_*`` arrays do.

    ``a/sim_mean``, ``a/sim_se``: shape (2, len(SIM_N)), rows (test, S'). ``b/evidence_mean``,
    ``b/evidence_se``: shape (2, len(ns)), rows (test, S'); ``b/n`` the hypersphere sizes (read from the
    committed evidence run, independent of ``seed``).
    """
    out: dict[str, np.ndarray] = {"a/n": N_THEORY.astype(float), "a/sim_n": SIM_N.astype(float)}
    out["a/test"] = np.array([T.linear_test_error(int(n), D, SIGNAL, NOISE) for n in N_THEORY])
    out["a/train"] = np.array([T.linear_train_error(int(n), D, SIGNAL, NOISE) for n in N_THEORY])
    out["a/sprime"] = np.array([T.linear_sprime_error(int(n), D, SIGNAL, NOISE) for n in N_THEORY])
    out["a/uc_lower_bound"] = out["a/sprime"] - out["a/test"]
    mean, se = np.empty((2, SIM_N.size)), np.empty((2, SIM_N.size))
    for k, n in enumerate(SIM_N):
        s = fast_error_samples(int(n), D, SIGNAL, NOISE, reps, C.curve_rng(seed, k))
        mean[0, k], se[0, k] = s["test"].mean(), s["test"].std(ddof=1) / math.sqrt(reps)
        mean[1, k], se[1, k] = _agresti_coull(round(s["sprime"].sum() * n), reps * n)
    out["a/sim_mean"], out["a/sim_se"] = mean, se
    hs = _hypersphere()
    ns = hs["n"]
    te, te_se = _seed_mean_se(hs["test"], hs["test_points"])
    sp, sp_se = _seed_mean_se(hs["sprime"], ns)
    out["b/n"] = ns
    out["b/setting"] = np.array([hs["d"], hs["width"], hs["seeds"]], float)   # d, width, seeds (for the title)
    out["b/evidence_mean"], out["b/evidence_se"] = np.stack([te, sp]), np.stack([te_se, sp_se])
    return out


def _errorbar(ax, x, mean, se, color, marker="o"):
    lo = np.clip(mean - C.ERROR_Z * se, 0, 1)
    hi = np.clip(mean + C.ERROR_Z * se, 0, 1)
    return ax.errorbar(x, mean, yerr=[mean - lo, hi - mean], fmt=marker, color=color, markerfacecolor="white",
                       markeredgecolor=color, markersize=3.0, markeredgewidth=0.8, elinewidth=0.7, capsize=1.2,
                       capthick=0.7, linestyle="none", zorder=3)


def draw(d: dict[str, np.ndarray], venue: str):
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    fig = Figure(figsize=style.figsize(venue, column="full", ncols=2, height_to_width=0.78))
    ax_a, ax_b = fig.subplots(1, 2, sharey=True)

    n = d["a/n"]
    ax_a.plot(n, d["a/test"], color=COLORS["test"], label="test error", zorder=2)
    ax_a.plot(n, d["a/sprime"], color=COLORS["sprime"], label=r"error on $S'$", zorder=2)
    ax_a.plot(n, d["a/train"], color=COLORS["train"], linestyle=(0, (3, 1.5)), linewidth=0.9, label="train error", zorder=2)
    ax_a.plot(n, d["a/uc_lower_bound"], color="0.2", linestyle=":", linewidth=1.0,
              label=r"$\epsilon_{\rm unif} \geq$ $S'$ err. $-$ test err.", zorder=2)
    _errorbar(ax_a, d["a/sim_n"], d["a/sim_mean"][0], d["a/sim_se"][0], COLORS["test"])
    _errorbar(ax_a, d["a/sim_n"], d["a/sim_mean"][1], d["a/sim_se"][1], COLORS["sprime"], marker="s")
    ax_a.axvline(NOISE / SIGNAL, color="0.6", linestyle=":", linewidth=0.7, zorder=1)
    ax_a.text(NOISE / SIGNAL * 0.88, 0.3, r"$n\|u\|^2 = s^2$", rotation=90, ha="right", va="center", fontsize="small", color="0.4")
    ax_a.set_title(rf"(a) linear, one GD step ($D = {D}$, $\|u\|^2 = 1/{round(1 / SIGNAL)}$)")
    ax_a.set_ylabel("error")

    ns = d["b/n"]
    _errorbar(ax_b, ns, d["b/evidence_mean"][0], d["b/evidence_se"][0], COLORS["test"])
    _errorbar(ax_b, ns, d["b/evidence_mean"][1], d["b/evidence_se"][1], COLORS["sprime"], marker="s")
    ax_b.plot(ns, d["b/evidence_mean"][0], color=COLORS["test"], linewidth=0.6, alpha=0.6, zorder=2)
    ax_b.plot(ns, d["b/evidence_mean"][1], color=COLORS["sprime"], linewidth=0.6, alpha=0.6, zorder=2)
    dim, width, _ = (int(v) for v in d["b/setting"])
    ax_b.set_title(f"(b) hypersphere net ($d = {dim}$, width {width})")
    for ax, lo, hi in ((ax_a, 1, 1024), (ax_b, ns[0] / 1.5, ns[-1] * 1.5)):
        ax.set_xscale("log", base=2)
        ax.set_xlim(lo, hi)
        ticks = [t for t in 2.0 ** np.arange(0, 21) if lo <= t <= hi][::2 if ax is ax_a else 1]
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("training samples $n$")
        ax.set_ylim(-0.03, 1.05)
    handles = [
        Line2D([], [], color=COLORS["test"], marker="o", markerfacecolor="white", markersize=3, label="test error"),
        Line2D([], [], color=COLORS["sprime"], marker="s", markerfacecolor="white", markersize=3, label=r"error on $S'$"),
        Line2D([], [], color=COLORS["train"], linestyle=(0, (3, 1.5)), linewidth=0.9, label="train error (theory)"),
        Line2D([], [], color="0.2", linestyle=":", linewidth=1.0, label=r"$\epsilon_{\rm unif} \geq$ $S'$ error $-$ test error"),
        Line2D([], [], color="0.35", label="(a) exact theory"),
        Line2D([], [], color="0.35", marker="o", markerfacecolor="white", markersize=3, linestyle="none", label=r"simulation ($\pm 2$ SE)"),
    ]
    fig.legend(handles=handles, loc="outside upper center", ncols=3)
    return fig


def make(out_dir, *, seed: int = 0, venue: str = "neurips", reps: int = REPS) -> list[Path]:
    """Draw the figure at ``venue``'s text width; write ``NAME``.pdf and ``NAME``.png to ``out_dir``."""
    return style.render(draw, data(seed, reps=reps), out_dir, NAME, venue=venue)