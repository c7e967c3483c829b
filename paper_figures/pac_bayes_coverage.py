"""Coverage of the Occam (compression) bound and of Gaussian-posterior PAC-Bayes bounds, and its collapse
when the complexity charge is dropped (claims ``pac_bayes.occam_coverage`` and
``pac_bayes.gaussian_posterior_coverage``).

Both panels plot the coverage Pr_S[R <= bound] over independent training samples S against
the nominal level 1 - delta (dotted line, delta = 0.05: the claims' ``predict``). Markers:
Monte Carlo frequencies from the claims' simulators (the same :mod:`sims.pac_bayes` calls that
``_sim_occam`` / ``_sim_gaussian`` make, bit for bit; ``REPS`` samples per point, exact 95%
Clopper-Pearson bars; the stored ``sim_se`` is the Agresti-Coull SE, > 0 even when every draw
covers). Circles and solid lines: the theorem's bound; squares and dashed lines: a registered
mutant (wrong formula). Filled markers: the parameter points that ``claimcheck verify`` checks
(claim default, verify points and mutant points that fall on a drawn curve); at those points
the claims' exact binomial test (:func:`claimcheck.stats.coverage_test`) applied to the
plotted frequencies rejects every mutant and no theorem point.

(a) Occam bound [LFKGW22, eq. (2)-(4); Mau04, Thm 5]: R(h) <= kl^{-1}(R_hat(h), (L(h) ln 2 +
    ln(2 sqrt(n)/delta))/n) for a prefix code of L(h) bits (KL of a point mass under the prior
    2^{-L}). Hypotheses j = 1 .. 2^G - 1 on pure-noise labels (every true risk 1/2), coded by
    the Elias gamma code of j (L_j = 2 floor(log2 j) + 1 <= 2G - 1 bits), n = 100; the learner
    reports the hypothesis with the smallest bound (:func:`sims.pac_bayes.occam_index_draws`).
    Lines: exact coverage prod_g P(S >= s*_g)^(2^g) (:func:`sims.pac_bayes.occam_index_exact`)
    with the code length charged in full (the theorem), a quarter of it (mutant
    ``code_length_quartered``) and not at all (mutant ``drop_code_length``): coverage stays
    ~1 with the charge and collapses once the class is large enough to overfit.
(b) Gaussian posteriors over linear classifiers [McA99; Mau04; Cat07, Thm 1.2.6; LC01]:
    Q = N(w, sigma^2 I_d), P = N(0, sigma0^2 I_d), KL(Q||P) = (||w||^2/sigma0^2 + d(sigma^2/sigma0^2
    - 1 - ln(sigma^2/sigma0^2)))/2 (top axis, nats; :func:`theory.pac_bayes.gaussian_kl`), w of norm 1
    along the class-mean difference fit to pure-noise labels (d = 30, n = 60, sigma0 = 1: the
    claim's noise point), against the posterior scale sigma. kl-inverse [Mau04] and Catoni
    (C = 1) bounds with KL charged (the theorem) and with KL dropped (mutants ``drop_kl``,
    ``drop_kl_catoni``): small sigma makes the Gibbs classifier follow the overfit w, and only
    the KL charge pays for it. Thin lines join the simulated points (no closed form for this
    coverage); the theorem's prediction is the level line. The Catoni points are drawn at
    1.06 sigma so that they do not hide the kl-inverse ones (both cover in nearly every draw).

Not drawn: the claims' other points (quantised-weight learner of the Occam claim, the d = 2
signal points of the Gaussian claim and its ``kl_inverse_lower_root`` mutant), which
``claimcheck verify`` also checks.

Sources: [LFKGW22] Lotfi et al., NeurIPS 2022; [Mau04] Maurer 2004; [McA99] McAllester,
COLT 1999; [Cat07] Catoni 2007; [LC01] Langford & Caruana, NIPS 2001 / Dziugaite & Roy, UAI 2017.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from claimcheck.catalogue.pac_bayes import WRONG_BOUNDS, bound_by_name, gaussian_posterior_coverage, occam_coverage
from claimcheck.paper_figures import style
from claimcheck.stats import clopper_pearson
from claimcheck.sims import pac_bayes as S
from claimcheck.theory.pac_bayes import gaussian_kl

NAME = "pac_bayes_coverage"
CLAIMS = ("pac_bayes.occam_coverage", "pac_bayes.gaussian_posterior_coverage")
REPS = 2000
"""Monte Carlo training samples per simulated point (both panels)."""

OCCAM_BASE = {**occam_coverage.default, "charge": 1.0}
"""Panel (a): the Occam claim's default point (Elias-gamma class, n = 100, delta = 0.05, kl-inverse), and the
charge of the code length (1: the claim's formula; its mutants charge less)."""
OCCAM_CHARGES = (1.0, 0.25, 0.0)
"""Panel (a): fraction of the code length L ln 2 charged as KL (1: the theorem; the others: mutants)."""
G_LINE = np.arange(1, 31)
"""Panel (a): numbers of Elias-gamma groups G of the exact coverage lines (|H| = 2^G - 1)."""
G_SIM = np.array([1, 4, 8, 11, 14, 17, 20, 25, 30])
"""Panel (a): simulated G (20 and 30 are where the claim's default and mutants are checked)."""

GAUSS_BASE = {**gaussian_posterior_coverage.mutant("drop_kl")[1], "bound": "maurer"}
"""Panel (b): the Gaussian claim's noise point (n = 60, d = 30, snr = 0, ||w|| = 1, sigma0 = 1)."""
GAUSS_CURVES = ("maurer", "catoni", "maurer[no_kl]", "catoni[no_kl]")
"""Panel (b): bounds by the claim's names (``bound_by_name``); "[no_kl]" = the KL-dropping mutants."""
SIGMAS = np.array([0.04, 0.07, 0.1, 0.15, 0.2, 0.3, 0.5])
"""Panel (b): posterior scales sigma (0.1 is the claim's point)."""

CATONI_SHIFT = 1.06
"""Panel (b): the Catoni points are drawn at 1.06 sigma so they do not hide the kl-inverse ones."""
_CHARGE_COLORS = (style.PALETTE["blue"], style.PALETTE["orange"], style.PALETTE["vermillion"])
_BOUND_COLORS = {"maurer": style.PALETTE["blue"], "catoni": style.PALETTE["green"]}
_DASH = (0, (3, 1.5))


def _memoised(fn):
    """``fn`` with its results cached by argument values: panel (a) evaluates the same
    per-group bound tables for every G and every draw; caching changes no value."""
    cache: dict = {}

    def wrapped(emp_risk, kl, n, delta, k=1):
        e, q = np.asarray(emp_risk, float), np.asarray(kl, float)
        key = (e.shape, e.tobytes(), q.shape, q.tobytes(), int(n), float(delta), float(k))
        if key not in cache:
            cache[key] = np.asarray(fn(emp_risk, kl, n, delta, k), dtype=float)
        return cache[key]

    return wrapped


def occam_point(params: dict, reps: int, rng: np.random.Generator, bound_fn=None) -> np.ndarray:
    """Per-draw coverage indicators at one point of ``pac_bayes.occam_coverage`` (learner
    "elias_gamma"): the call the claim's simulator makes, with an optional (memoised) bound."""
    fn = bound_by_name(params["bound"]) if bound_fn is None else bound_fn
    return S.occam_index_draws(params["n"], params["groups"], params["delta"], fn, reps, rng, charge=params.get("charge", 1.0))


def gaussian_point(params: dict, bounds, reps: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per-draw coverage indicators of each bound in ``bounds`` at one point of
    ``pac_bayes.gaussian_posterior_coverage``: the claim simulator's two calls, with the
    training samples shared by all bounds (common random numbers)."""
    with threadpool_limits(1, "blas"):
        d = S.gaussian_posterior_draws(params["n"], params["d"], params["snr"], params["scale"], params["sigma"],
                                       params["sigma0"], reps, rng)
    return {b: S.bound_coverage_draws(d, params["n"], params["delta"], bound_by_name(b)) for b in bounds}


def _wrong_name(fn) -> str | None:
    return next((name for name, f in WRONG_BOUNDS.items() if f is fn), None)


def _checked_points(claim) -> list[dict]:
    """The points ``claimcheck verify`` checks (default, verify points, mutant points) in the figure's
    terms: the Occam claim's with the code-length ``charge`` of the formula checked there, the Gaussian
    claim's with a mutant's bound named as in :data:`WRONG_BOUNDS` (e.g. "maurer[no_kl]")."""
    occam = claim is occam_coverage
    out = [{**p, "charge": 1.0} if occam else dict(p) for p in claim.points()]
    for m in claim.mutants:
        p = claim.resolve(m.params)
        formula = m.predict(p["bound"])
        if occam:
            out.append({**p, "charge": float(formula[1])})
        else:
            out.append({**p, "bound": _wrong_name(formula) or p["bound"]})
    return out


def _frequency(holds: np.ndarray) -> tuple[float, float]:
    """(coverage frequency, Agresti-Coull SE sqrt(p~(1 - p~)/(N + 4)), p~ = (x + 2)/(N + 4))."""
    x, m = int(holds.sum()), holds.size
    pt = (x + 2) / (m + 4)
    return x / m, float(np.sqrt(pt * (1 - pt) / (m + 4)))


def occam_params(charge: float, groups: int) -> dict:
    """The Occam claim's parameters at a point of panel (a): default with ``charge`` and ``groups`` set."""
    return {**OCCAM_BASE, "charge": float(charge), "groups": int(groups)}


def gauss_params(bound: str, sigma: float) -> dict:
    """The Gaussian claim's parameters at a point of panel (b): the noise point with ``bound`` and ``sigma``."""
    return {**GAUSS_BASE, "bound": bound, "sigma": float(sigma)}


def data(seed: int = 0, *, reps: int = REPS) -> dict[str, np.ndarray]:
    """Every plotted array. ``a/sim_mean``, ``a/sim_se``: (len(OCCAM_CHARGES), len(G_SIM)), point
    (c, j) drawn from ``SeedSequence([seed, 0, c, j])``; ``b/sim_mean``, ``b/sim_se``:
    (len(GAUSS_CURVES), len(SIGMAS)), column j from ``SeedSequence([seed, 1, j])`` (shared by the
    bounds). ``*/checked``: True where ``claimcheck verify`` checks that point. The rest is exact
    theory and does not depend on ``seed``.
    """
    out: dict[str, np.ndarray] = {"draws": np.array(reps)}
    occam_point0 = {k: v for k, v in OCCAM_BASE.items() if k != "charge"}
    out["a/level"] = np.array(occam_coverage.prediction(occam_coverage.validate(occam_point0)))  # the claims' level 1 - delta
    out["b/level"] = np.array(gaussian_posterior_coverage.prediction(gaussian_posterior_coverage.validate(GAUSS_BASE)))
    fn = _memoised(bound_by_name(OCCAM_BASE["bound"]))
    n, delta = OCCAM_BASE["n"], OCCAM_BASE["delta"]
    out["a/g_line"], out["a/g_sim"] = G_LINE, G_SIM
    out["a/exact"] = np.array([[S.occam_index_exact(n, int(g), delta, fn, charge) for g in G_LINE] for charge in OCCAM_CHARGES])
    checked = _checked_points(occam_coverage)
    shape = (len(OCCAM_CHARGES), G_SIM.size)
    mean, se, out["a/checked"] = np.empty(shape), np.empty(shape), np.zeros(shape, bool)
    for c, charge in enumerate(OCCAM_CHARGES):
        for j, g in enumerate(G_SIM):
            p = occam_params(charge, g)
            rng = np.random.default_rng(np.random.SeedSequence([seed, 0, c, j]))
            mean[c, j], se[c, j] = _frequency(occam_point(p, reps, rng, fn))
            out["a/checked"][c, j] = p in checked
    out["a/sim_mean"], out["a/sim_se"] = mean, se

    out["b/sigma"] = SIGMAS
    out["b/kl"] = np.array([gaussian_kl(GAUSS_BASE["scale"] ** 2, GAUSS_BASE["d"], float(s), GAUSS_BASE["sigma0"]) for s in SIGMAS])
    checked = _checked_points(gaussian_posterior_coverage)
    shape = (len(GAUSS_CURVES), SIGMAS.size)
    mean, se, out["b/checked"] = np.empty(shape), np.empty(shape), np.zeros(shape, bool)
    for j, sigma in enumerate(SIGMAS):
        rng = np.random.default_rng(np.random.SeedSequence([seed, 1, j]))
        holds = gaussian_point(gauss_params("maurer", sigma), GAUSS_CURVES, reps, rng)
        for c, b in enumerate(GAUSS_CURVES):
            mean[c, j], se[c, j] = _frequency(holds[b])
            out["b/checked"][c, j] = gauss_params(b, sigma) in checked
    out["b/sim_mean"], out["b/sim_se"] = mean, se
    return out


def _points(ax, x, mean, draws, checked, color, marker):
    """Coverage frequencies with exact 95% Clopper-Pearson bars; filled where verify checks."""
    k = np.round(mean * draws).astype(int)
    lo, hi = clopper_pearson(k, draws, 0.95)
    ax.errorbar(x, mean, yerr=[mean - lo, hi - mean], fmt="none", ecolor=color, elinewidth=0.7, capsize=1.2,
                capthick=0.7, zorder=3)
    for filled in (False, True):
        m = checked == filled
        ax.plot(x[m], mean[m], marker, color=color, markerfacecolor=color if filled else "white",
                markersize=3.6 if filled else 3.0, markeredgewidth=0.8, linestyle="none", zorder=4)


def _level(ax, level, x_text):
    ax.axhline(level, color="0.3", linestyle=":", linewidth=0.8, zorder=1)
    ax.text(x_text, level - 0.025, rf"$1-\delta = {level:g}$", va="top", ha="left", fontsize="small", color="0.3")


def draw(d: dict[str, np.ndarray], venue: str):
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

    fig = Figure(figsize=style.figsize(venue, column="full", ncols=2, height_to_width=0.86))
    ax_a, ax_b = fig.subplots(1, 2, sharey=True)
    draws = int(d["draws"])
    sim_label = f"simulated, 95% Clopper-Pearson ($N = {draws}$)"

    # (a) Occam bound over the Elias-gamma class
    charge_labels = (r"$L\ln 2$ (theorem)", r"$\frac{1}{4}L\ln 2$ (mutant)", r"$0$ (mutant)")
    handles = []
    for c, (color, lab) in enumerate(zip(_CHARGE_COLORS, charge_labels)):
        valid = OCCAM_CHARGES[c] == 1.0
        ls = "-" if valid else _DASH
        ax_a.plot(d["a/g_line"], d["a/exact"][c], color=color, linestyle=ls, zorder=2)
        _points(ax_a, d["a/g_sim"], d["a/sim_mean"][c], draws, d["a/checked"][c], color, "o" if valid else "s")
        handles.append(Line2D([], [], color=color, linestyle=ls, label=f"KL $=$ {lab}"))
    _level(ax_a, float(d["a/level"]), 1.0)
    ax_a.set_xlim(0, 31)
    ax_a.xaxis.set_major_locator(FixedLocator([1, 5, 10, 15, 20, 25, 30]))
    ax_a.set_xlabel(r"$G = \log_2(|\mathcal{H}| + 1)$; code lengths $L \leq 2G - 1$ bits")
    ax_a.set_ylabel(r"coverage $\Pr_S[R \leq \mathrm{bound}]$")
    ax_a.set_title(rf"(a) Occam bound, $|\mathcal{{H}}| = 2^G - 1$, $n = {OCCAM_BASE['n']}$")
    ax_a.legend(handles=handles, loc="lower left", fontsize="small", title=r"kl$^{-1}$ Occam bound charged",
                title_fontsize="small", alignment="left", borderaxespad=0.1)
    ax_a.set_ylim(-0.03, 1.06)

    # (b) Gaussian posteriors over linear classifiers
    sig = d["b/sigma"]
    for c, name in enumerate(GAUSS_CURVES):
        bound = name.split("[")[0]
        valid = "[" not in name
        color = _BOUND_COLORS[bound]
        x = sig * (CATONI_SHIFT if bound == "catoni" else 1.0)
        ax_b.plot(x, d["b/sim_mean"][c], color=color, linestyle="-" if valid else _DASH, linewidth=0.6, alpha=0.6, zorder=2)
        _points(ax_b, x, d["b/sim_mean"][c], draws, d["b/checked"][c], color, "o" if valid else "s")
    _level(ax_b, float(d["b/level"]), sig[0] * 0.92)
    ax_b.set_xscale("log")
    ax_b.set_xlim(sig[0] * 0.85, sig[-1] * 1.2)
    ax_b.xaxis.set_major_locator(FixedLocator([0.04, 0.07, 0.1, 0.2, 0.5]))
    ax_b.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax_b.xaxis.set_minor_formatter(NullFormatter())
    ax_b.set_xlabel(r"posterior scale $\sigma$, $Q = \mathcal{N}(w, \sigma^2 I_d)$")
    top = ax_b.secondary_xaxis("top")
    top.xaxis.set_major_locator(FixedLocator(sig[::2]))
    kl_at = dict(zip(sig, d["b/kl"]))
    top.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{kl_at.get(v, np.nan):.0f}"))
    top.xaxis.set_minor_locator(NullLocator())
    top.set_xlabel(r"$\mathrm{KL}(Q\|P)$ [nats]", labelpad=1.5)
    ax_b.set_title(rf"(b) Gaussian posteriors, $d = {GAUSS_BASE['d']}$, $n = {GAUSS_BASE['n']}$")
    handles = [
        Line2D([], [], color=_BOUND_COLORS["maurer"], label=r"kl$^{-1}$ (Maurer)"),
        Line2D([], [], color=_BOUND_COLORS["catoni"], label=r"Catoni ($C = 1$)"),
        Line2D([], [], color="0.35", marker="o", markerfacecolor="white", label="KL charged (theorem)"),
        Line2D([], [], color="0.35", marker="s", markerfacecolor="white", linestyle=_DASH, label="KL dropped (mutant)"),
    ]
    ax_b.legend(handles=handles, loc="center left", bbox_to_anchor=(0.0, 0.6), fontsize="small")
    shared = [
        Line2D([], [], color="0.35", label="(a) exact coverage"),
        Line2D([], [], color="0.35", marker="o", markerfacecolor="white", linestyle="none", label=sim_label),
        Line2D([], [], color="0.35", marker="o", linestyle="none", markersize=3.6, label=r"filled: checked by $\mathtt{claimcheck\ verify}$"),
    ]
    fig.legend(handles=shared, loc="outside lower center", ncols=3, fontsize="small")
    return fig


def make(out_dir, *, seed: int = 0, venue: str = "neurips", reps: int = REPS) -> list[Path]:
    """Draw the figure at ``venue``'s text width; write ``NAME``.pdf and ``NAME``.png to ``out_dir``."""
    return style.render(draw, data(seed, reps=reps), out_dir, NAME, venue=venue)
