"""Benchmark: ridgeless / ridge Monte Carlo, fast path vs the strongest direct baseline (and the naive one).

Three estimators of the same expected excess risk at (n, p, lam):

* **fast** (:func:`sims.ridgeless.fast_risk_samples`): Dumitriu-Edelman bidiagonal Wishart
  spectrum, Rao-Blackwellised over noise and beta's direction, O(m) per replicate (m = min(n, p)).
* **strong baseline** (:func:`sims.ridgeless.bartlett_risk_samples`): what a competent user
  writes in 20 lines: the m x m Wishart through its Bartlett Cholesky factor, the *same*
  Rao-Blackwellisation, tr W^{-1} = ||L^{-1}||_F^2 by one LAPACK ``dtrtri`` (lam > 0: ``dsyrk``,
  ``dpotrf``, ``dpotri``). It is the same random variable as the fast path; the run checks that
  first (two-sample z-tests of mean and variance, untimed) and reports no ratio if it fails.
* **naive baseline** (:func:`sims.ridgeless.direct_risk_samples`): sample X and the noise, fit by
  ``lstsq`` (lam = 0) or the ridge normal equations, measure the risk.

"Faster" is the **speed-up at equal standard error**

    S = (t_base * var_base) / (t_fast * var_fast)

(seconds per replicate t, per-replicate variance var): the ratio of the wall time each method
needs to reach the same SE. Against the strong baseline var_base / var_fast ~ 1 (same random
variable), so S is the time ratio; against the naive one S also carries the
Rao-Blackwellisation gain. The headline is S against the strong baseline (target >= 300x at
n = 1000, p = 2000). The fast path's own floor is reported too: its gamma draws alone (the
same ``_gamma_draws`` calls it makes), timed in the same repeats; fast / draws is the factor
above the floor (target <= ~1.2).

Noise control (the machine is shared): every case runs R repeats; in each repeat the blocks
of the four timings run back to back, in rotating order, so slow periods hit all of them;
timings are summarised by median and [min, max]; the per-repeat *paired* ratios are
reported too. var_base comes from a few dozen to a few hundred samples, so its 95% interval
(chi-square and bootstrap) is carried into a conservative range for S.
"""
from __future__ import annotations

import os
import time
import zlib
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from benchmarks._common import RESULTS_DIR, fmt_sig, load_average, machine_info, spread, write_results
from claimcheck.sims import ridgeless as sr
from claimcheck.theory.ridgeless import min_norm_risk_finite

NAME = "ridgeless"
TARGET_SPEEDUP_STRONG = 300.0
TARGET_FLOOR_RATIO = 1.2
Z_CRIT = float(stats.norm.isf(0.5e-6))  # two-sided alpha = 1e-6, as in the claim checks (~4.89)

METHODS = {"naive": sr.direct_risk_samples, "strong": sr.bartlett_risk_samples}
LABELS = {"naive": "direct lstsq loop", "strong": "Bartlett + dtrtri"}


@dataclass(frozen=True)
class Case:
    name: str
    n: int
    p: int
    lam: float
    repeats: int
    naive_budget_s: float  # wall seconds of naive replicates per case (split over repeats)
    strong_budget_s: float  # same for the strong baseline
    validate_reps: int  # untimed strong-baseline replicates for the same-random-variable check
    fast_reps: int  # fast replicates per repeat (one vectorised call)
    max_reps: int = 400  # at most this many baseline replicates per repeat (>= 1 always runs)
    signal: float = 1.0
    noise: float = 1.0
    headline: bool = False


def cases(quick: bool) -> list[Case]:
    """Baseline work is bounded by time budgets (one replicate at a time, so the overshoot is at
    most one replicate per repeat): a loaded machine gives fewer baseline samples and a wider SD
    interval, not a run that blows past its time limit."""
    if quick:
        return [
            Case("minnorm_n1000_p2000", 1000, 2000, 0.0, 3, 3.0, 2.0, 30, 4096, headline=True),
            Case("ridge0.5_n1000_p2000", 1000, 2000, 0.5, 3, 1.0, 1.5, 12, 4096),
            Case("minnorm_n200_p400", 200, 400, 0.0, 3, 0.5, 0.5, 100, 4096),
        ]
    return [
        Case("minnorm_n1000_p2000", 1000, 2000, 0.0, 5, 10.0, 8.0, 120, 4096, headline=True),
        Case("ridge0.5_n1000_p2000", 1000, 2000, 0.5, 5, 3.0, 5.0, 40, 4096),
        Case("minnorm_n200_p400", 200, 400, 0.0, 5, 1.5, 1.5, 400, 4096),
    ]


def _timed(fn):
    c0 = time.process_time()
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


def _var_interval(x: np.ndarray, rng: np.random.Generator, n_boot: int = 2000, level: float = 0.95):
    """95% intervals for the variance of x: normal-theory chi-square and bootstrap percentile."""
    n = x.size
    s2 = float(np.var(x, ddof=1))
    a = (1 - level) / 2
    chi = (float((n - 1) * s2 / stats.chi2.isf(a, n - 1)), float((n - 1) * s2 / stats.chi2.ppf(a, n - 1)))
    idx = rng.integers(0, n, size=(n_boot, n))
    bv = np.var(x[idx], axis=1, ddof=1)
    boot = (float(np.quantile(bv, a)), float(np.quantile(bv, 1 - a)))
    return s2, chi, boot


def _estimate(x: np.ndarray, rng: np.random.Generator) -> dict:
    var, chi, boot = _var_interval(x, rng)
    c = x - x.mean()
    return {
        "n_samples": int(x.size),
        "mean": float(x.mean()),
        "se": float(np.sqrt(var / x.size)),
        "sd": float(np.sqrt(var)),
        "var": var,
        "var_se": float(np.sqrt(max(np.mean(c**4) - np.mean(c * c) ** 2, 0.0) / x.size)),
        "var_ci95_chi2": list(chi),
        "var_ci95_bootstrap": list(boot),
        "skewness": float(stats.skew(x)),
    }


def same_random_variable(base: np.ndarray, fast: np.ndarray) -> dict:
    """Two-sample z-tests of equal mean and equal variance (large-sample SE of the variance,
    sqrt((m4 - s^4) / N)) at |z| <= Z_CRIT."""
    mb, mf = base.mean(), fast.mean()
    z_mean = (mb - mf) / np.hypot(base.std(ddof=1) / np.sqrt(base.size), fast.std(ddof=1) / np.sqrt(fast.size))

    def var_se(x):
        c = x - x.mean()
        v = np.mean(c * c)
        return v, np.sqrt(max(np.mean(c**4) - v * v, 0.0) / x.size)

    (vb, sb), (vf, sf) = var_se(base), var_se(fast)
    z_var = (vb - vf) / np.hypot(sb, sf)
    return {
        "n_base": int(base.size), "n_fast": int(fast.size),
        "z_mean": float(z_mean), "z_var": float(z_var), "var_ratio": float(vb / vf),
        "var_ratio_resolution": float(Z_CRIT * np.hypot(sb, sf) / vf),  # smallest relative variance gap detected
        "z_crit": Z_CRIT,
        "same": bool(abs(z_mean) <= Z_CRIT and abs(z_var) <= Z_CRIT),
    }


def _draws_only(case: Case, reps: int, rng: np.random.Generator) -> None:
    """The fast path's random draws alone: the same ``_gamma_draws`` calls in the same layout."""
    m, dof = min(case.n, case.p), max(case.n, case.p)
    block = max(1, min(reps, sr._BLOCK_DRAWS // m))
    for start in range(0, reps, block):
        r = min(block, reps - start)
        chunks = sr._shifted_layout(m, r, case.n * case.lam) if case.lam > 0 else sr._layout(m, r, True)[1]
        sr._gamma_draws(dof, m, r, chunks, rng)


MIN_REPEATS = 3
TIME_LIMIT_S = {"quick": 20.0, "full": 75.0}  # whole-run wall budget


def bench_case(case: Case, seed: int, share_s: float = float("inf")) -> dict:
    """Validation, then interleaved timing + statistics for one (n, p, lam). share_s: wall seconds
    this case may use (from the run's deadline); past it no repeat beyond the MIN_REPEATS-th starts,
    and the baseline slices shrink so that the case fits."""
    ss = np.random.SeedSequence([seed, zlib.crc32(case.name.encode())])
    s_warm, s_naive, s_strong, s_fast, s_draw, s_boot, s_val = ss.spawn(7)
    rng = {"naive": np.random.default_rng(s_naive), "strong": np.random.default_rng(s_strong),
           "fast": np.random.default_rng(s_fast), "draws": np.random.default_rng(s_draw)}
    args = (case.n, case.p, case.signal, case.noise, case.lam)

    # Warm-up (BLAS, page faults, first-call overheads); not counted.
    rng_w = np.random.default_rng(s_warm)
    for fn in METHODS.values():
        fn(*args, 1, rng_w)
    sr.fast_risk_samples(*args, min(100, case.fast_reps), rng_w)

    # 1. Same random variable? Untimed strong-baseline replicates vs a large fast sample.
    t_case = time.perf_counter()
    rng_v = np.random.default_rng(s_val)
    val_base = sr.bartlett_risk_samples(*args, case.validate_reps, rng_v)
    val_fast = sr.fast_risk_samples(*args, 5 * case.fast_reps, rng_v)
    validation = same_random_variable(val_base, val_fast)

    # 2. Timing, interleaved.
    samples = {k: [] for k in ("naive", "strong", "fast")}
    rep_wall = {"naive": [], "strong": []}  # every baseline replicate, timed on its own
    block_wall = {k: [] for k in ("naive", "strong", "fast", "draws")}  # per repeat, per replicate
    block_cpu = {k: [] for k in ("naive", "strong", "fast", "draws")}
    paired = {"naive": [], "strong": [], "floor": []}
    budget_left = max(share_s - (time.perf_counter() - t_case), 0.0)
    slices = {k: min(getattr(case, f"{k}_budget_s"), 0.4 * budget_left) / case.repeats for k in METHODS}
    stopped_early = False

    def run_baseline(kind):
        walls, cpus = [], []
        while len(walls) < case.max_reps and (not walls or sum(walls) < slices[kind]):
            x, w, c = _timed(lambda: METHODS[kind](*args, 1, rng[kind]))
            samples[kind].append(x)
            walls.append(w)
            cpus.append(c)
        rep_wall[kind].extend(walls)
        block_wall[kind].append(float(np.mean(walls)))
        block_cpu[kind].append(float(np.mean(cpus)))

    def run_fast():
        x, w, c = _timed(lambda: sr.fast_risk_samples(*args, case.fast_reps, rng["fast"]))
        samples["fast"].append(x)
        block_wall["fast"].append(w / case.fast_reps)
        block_cpu["fast"].append(c / case.fast_reps)

    def run_draws():
        _, w, c = _timed(lambda: _draws_only(case, case.fast_reps, rng["draws"]))
        block_wall["draws"].append(w / case.fast_reps)
        block_cpu["draws"].append(c / case.fast_reps)

    steps = [lambda: run_baseline("naive"), lambda: run_baseline("strong"), run_fast, run_draws]
    for r in range(case.repeats):
        if r >= MIN_REPEATS and time.perf_counter() - t_case > share_s:
            stopped_early = True
            break
        for i in range(len(steps)):
            steps[(i + r) % len(steps)]()
        paired["naive"].append(block_wall["naive"][-1] / block_wall["fast"][-1])
        paired["strong"].append(block_wall["strong"][-1] / block_wall["fast"][-1])
        paired["floor"].append(block_wall["fast"][-1] / block_wall["draws"][-1])

    rng_b = np.random.default_rng(s_boot)
    x = {k: np.concatenate(v) for k, v in samples.items()}
    # The validation replicates are replicates of the same baseline: pooled into its variance.
    x_strong_all = np.concatenate([val_base, x["strong"]])
    est = {"naive": _estimate(x["naive"], rng_b), "strong": _estimate(x_strong_all, rng_b), "fast": _estimate(x["fast"], rng_b)}
    t_fast = float(np.median(block_wall["fast"]))
    out = {
        "case": asdict(case),
        "repeats_done": len(paired["strong"]),
        "stopped_early_for_time": stopped_early,
        "baseline_slice_s": slices,
        "validation": validation,
        "timing_s_per_replicate": {
            "naive_wall": spread(rep_wall["naive"]),
            "strong_wall": spread(rep_wall["strong"]),
            "fast_wall": spread(block_wall["fast"]),
            "draws_wall": spread(block_wall["draws"]),
            **{f"{k}_cpu_block_means": spread(v) for k, v in block_cpu.items()},
        },
        "fast_over_draws": {"median_of_medians": t_fast / float(np.median(block_wall["draws"])),
                            "paired_per_repeat": spread(paired["floor"])},
        "estimates": est,
        "fast_seconds_used": float(est["fast"]["n_samples"] * t_fast),
    }
    for kind in METHODS:
        e = est[kind]
        t_b = float(np.median(rep_wall[kind]))
        raw = t_b / t_fast
        var_ratio = e["var"] / est["fast"]["var"]
        lo_v = min(e["var_ci95_chi2"][0], e["var_ci95_bootstrap"][0])
        hi_v = max(e["var_ci95_chi2"][1], e["var_ci95_bootstrap"][1])
        vf_lo = min(est["fast"]["var_ci95_chi2"][0], est["fast"]["var_ci95_bootstrap"][0])
        vf_hi = max(est["fast"]["var_ci95_chi2"][1], est["fast"]["var_ci95_bootstrap"][1])
        z = (e["mean"] - est["fast"]["mean"]) / float(np.hypot(e["se"], est["fast"]["se"]))
        out[kind] = {
            "label": LABELS[kind],
            "raw_speed_ratio": raw,
            "paired_ratio": spread(paired[kind]),
            "best_case_min_over_min": float(min(rep_wall[kind]) / min(block_wall["fast"])),
            "cpu_ratio": float(np.median(block_cpu[kind]) / np.median(block_cpu["fast"])),
            "variance_ratio": var_ratio,
            "speedup_equal_se": raw * var_ratio,
            "speedup_equal_se_conservative_range": [min(paired[kind]) * lo_v / vf_hi, max(paired[kind]) * hi_v / vf_lo],
            "z_mean_vs_fast": float(z),
            "agree": bool(abs(z) <= Z_CRIT),
            "seconds_to_match_fast_se": float(est["fast"]["n_samples"] * var_ratio * t_b),
        }
    if not validation["same"]:  # not the same random variable: no ratio is quoted against it
        out["strong"]["speedup_equal_se"] = float("nan")
        out["strong"]["speedup_equal_se_conservative_range"] = [float("nan")] * 2
    if case.lam == 0.0 and abs(case.p - case.n) >= 2:
        pred = min_norm_risk_finite(case.n, case.p, case.signal, case.noise)
        out["theory"] = {"prediction": pred, **{f"z_{k}": (e["mean"] - pred) / e["se"] for k, e in est.items()}}
    return out


def bench_torch_batched(quick: bool, seed: int, n: int = 200, p: int = 400, share_s: float = float("inf")) -> dict:
    """Optional context: min-norm naive replicates batched through torch.linalg.lstsq (CPU)
    vs the numpy loop, same size, interleaved. Returns {'skipped': reason} without torch."""
    try:
        import torch
    except ImportError as exc:  # torch is optional for this benchmark
        return {"skipped": f"torch not importable: {exc}"}
    signal, noise = 1.0, 1.0
    repeats, batch = (3, 10) if quick else (4, 25)
    threads = os.environ.get("OMP_NUM_THREADS")
    if threads and threads.isdigit() and int(threads) > 0:
        torch.set_num_threads(int(threads))
    g = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7]))
    beta = torch.zeros(p, dtype=torch.float64)
    beta[0] = signal**0.5

    def torch_batch(B):
        X = torch.randn(B, n, p, generator=g, dtype=torch.float64)
        y = X @ beta + noise**0.5 * torch.randn(B, n, generator=g, dtype=torch.float64)
        bhat = torch.linalg.lstsq(X, y.unsqueeze(-1)).solution.squeeze(-1)  # gelsy: min-norm
        return ((bhat - beta) ** 2).sum(-1).numpy()

    torch_batch(2)
    sr.direct_risk_samples(n, p, signal, noise, 0.0, 2, rng)
    t_wall, n_wall, ts = [], [], []
    t_start = time.perf_counter()
    for r in range(repeats):
        if r >= 2 and time.perf_counter() - t_start > share_s:
            break

        def run_t():
            x, w, _ = _timed(lambda: torch_batch(batch))
            ts.append(x)
            t_wall.append(w / batch)

        def run_n():
            _, w, _ = _timed(lambda: sr.direct_risk_samples(n, p, signal, noise, 0.0, batch, rng))
            n_wall.append(w / batch)

        for step in ((run_t, run_n) if r % 2 == 0 else (run_n, run_t)):
            step()
    t_x = np.concatenate(ts)
    pred = min_norm_risk_finite(n, p, signal, noise)
    se_t = t_x.std(ddof=1) / np.sqrt(t_x.size)
    return {
        "n": n, "p": p, "lam": 0.0, "batch": batch, "repeats": len(t_wall),
        "torch_version": torch.__version__, "torch_threads": torch.get_num_threads(),
        "torch_batched_wall_s_per_replicate": spread(t_wall),
        "numpy_loop_wall_s_per_replicate": spread(n_wall),
        "speed_ratio_numpy_over_torch": float(np.median(n_wall) / np.median(t_wall)),
        "torch_mean": float(t_x.mean()), "torch_se": float(se_t),
        "z_torch_vs_theory": float((t_x.mean() - pred) / se_t),
        "theory": pred,
    }


# ----------------------------------------------------------------------------- reporting

def _span(s: dict) -> str:
    return f"{fmt_sig(s['median'])} [{fmt_sig(s['min'])}, {fmt_sig(s['max'])}]"


def _row_timing(c: dict) -> str:
    cs, tm = c["case"], c["timing_s_per_replicate"]
    fo = c["fast_over_draws"]
    return (
        f"| {cs['name']} | {cs['n']} | {cs['p']} | {cs['lam']:g} "
        f"| {_span(tm['naive_wall'])} ({tm['naive_wall']['n']}) | {_span(tm['strong_wall'])} ({tm['strong_wall']['n']}) "
        f"| {_span(tm['fast_wall'])} | {_span(tm['draws_wall'])} "
        f"| **{fo['median_of_medians']:.3f}** [{fo['paired_per_repeat']['min']:.3f}, {fo['paired_per_repeat']['max']:.3f}] |"
    )


def _row_stats(c: dict) -> str:
    cs, e, v = c["case"], c["estimates"], c["validation"]
    th = c.get("theory")
    th_s = f"{th['prediction']:.5g}" if th else "-"
    return (
        f"| {cs['name']} | {e['naive']['mean']:.4f} ± {e['naive']['se']:.4f} | {e['strong']['mean']:.5f} ± {e['strong']['se']:.5f} "
        f"| {e['fast']['mean']:.5f} ± {e['fast']['se']:.5f} | {th_s} "
        f"| {v['z_mean']:+.2f} / {v['z_var']:+.2f} ({v['n_base']} vs {v['n_fast']}; {'same' if v['same'] else 'DIFFERENT'}) "
        f"| {fmt_sig(e['naive']['sd'])} | {fmt_sig(e['strong']['sd'])} | {fmt_sig(e['fast']['sd'])} |"
    )


def _row_speedup(c: dict, kind: str) -> str:
    k = c[kind]
    lo, hi = k["speedup_equal_se_conservative_range"]
    return (
        f"| {c['case']['name']} | {k['label']} | {k['raw_speed_ratio']:.3g} [{k['paired_ratio']['min']:.3g}, {k['paired_ratio']['max']:.3g}] "
        f"| {k['variance_ratio']:.3g} | **{k['speedup_equal_se']:.3g}** | [{lo:.3g}, {hi:.3g}] | {k['z_mean_vs_fast']:+.2f} "
        f"| {fmt_sig(c['fast_seconds_used'])} s vs {fmt_sig(k['seconds_to_match_fast_se'])} s |"
    )


def to_markdown(res: dict) -> str:
    m = res["machine"]
    lines = [
        f"# Ridgeless Monte Carlo: fast path vs the strongest direct baseline ({res['mode']} run)",
        "",
        f"- date (UTC): {m['date_utc']}; git: {m['git_revision']}; {m['platform']}; "
        f"cpu_count {m['cpu_count']} (affinity {m['cpu_affinity']}); python {m['python']}; "
        f"numpy {m['numpy']}; scipy {m['scipy']}; BLAS threads {m['thread_env'] or 'default'}",
        f"- load average at start / end: {m['load_average_at_start']} / {res['load_average_at_end']} "
        "(shared machine: other jobs were running, so absolute times are noisy; ratios are interleaved)",
        f"- total benchmark wall time: {res['wall_seconds']:.1f} s; seed {res['seed']}",
        f"- targets: speed-up at equal SE >= {TARGET_SPEEDUP_STRONG:.0f}x over the strong baseline at n=1000, p=2000; "
        f"fast path <= {TARGET_FLOOR_RATIO}x its own random draws; the baseline is the same random variable "
        f"(|z| <= {Z_CRIT:.2f} for mean and variance)",
        f"- summary: {res['target']['line']}",
        "",
        "Baselines: *strong* = `sims.ridgeless.bartlett_risk_samples` (Bartlett factor of the m x m "
        "Wishart, the same Rao-Blackwellisation, one `dtrtri`; lam > 0: `dsyrk` + `dpotrf` + `dpotri`); "
        "*naive* = `sims.ridgeless.direct_risk_samples` (sample X, `lstsq` / ridge normal equations).",
        "",
        "## Seconds per replicate",
        "",
        "Wall seconds, median [min, max]: baselines over individual replicates (count in brackets), fast "
        "over blocks (one vectorised call of `fast_reps` replicates), draws = the fast path's gamma draws "
        "alone (same calls, same layout). fast / draws: median of medians [paired min, max].",
        "",
        "| case | n | p | lam | naive | strong | fast | draws | fast / draws |",
        "|---|---|---|---|---|---|---|---|---|",
        *[_row_timing(c) for c in res["cases"]],
        "",
        "## Estimates, the same-random-variable check, per-replicate SD",
        "",
        "Mean ± SE of the excess risk. Check = two-sample z of mean / variance, strong baseline vs fast, "
        "on untimed validation replicates (counts in brackets), run before any timing. SD per replicate.",
        "",
        "| case | naive | strong | fast | theory | check z mean / var | SD naive | SD strong | SD fast |",
        "|---|---|---|---|---|---|---|---|---|",
        *[_row_stats(c) for c in res["cases"]],
        "",
        "## Speed-up at equal standard error",
        "",
        "S = (t_base var_base) / (t_fast var_fast) = raw ratio x variance ratio: how many times longer the "
        "baseline needs to reach the same SE. Raw ratio with its paired [min, max]; the range combines the "
        "smallest/largest paired time ratio with the 95% variance intervals. z: baseline mean vs fast mean. "
        "Last column: time the fast path used here vs the time the baseline would need for the same SE.",
        "",
        "| case | baseline | raw ratio | var ratio | S | S range | z | same SE: fast vs baseline |",
        "|---|---|---|---|---|---|---|---|",
        *[_row_speedup(c, k) for c in res["cases"] for k in ("strong", "naive")],
    ]
    tb = res.get("torch_batched")
    if tb:
        lines += ["", "## Optional: torch-batched naive lstsq (CPU), context only", ""]
        if "skipped" in tb:
            lines.append(f"skipped: {tb['skipped']}")
        else:
            tw, nw = tb["torch_batched_wall_s_per_replicate"], tb["numpy_loop_wall_s_per_replicate"]
            lines += [
                f"n={tb['n']}, p={tb['p']}, lam=0, batch {tb['batch']} x {tb['repeats']} repeats, "
                f"torch {tb['torch_version']} ({tb['torch_threads']} threads).",
                "",
                "| method | s/replicate median [min, max] |",
                "|---|---|",
                f"| numpy lstsq loop | {_span(nw)} |",
                f"| torch.linalg.lstsq batched | {_span(tw)} |",
                "",
                f"numpy/torch speed ratio {tb['speed_ratio_numpy_over_torch']:.2f}; torch mean "
                f"{tb['torch_mean']:.4f} ± {tb['torch_se']:.4f} vs theory {tb['theory']:.4f} "
                f"(z = {tb['z_torch_vs_theory']:+.2f}). Batching the naive method is a constant "
                "factor; it does not approach the Bartlett baseline, let alone the fast path.",
            ]
    return "\n".join(lines) + "\n"


def summary(res: dict) -> str:
    out = []
    for c in res["cases"]:
        tm, s, nv = c["timing_s_per_replicate"], c["strong"], c["naive"]
        out.append(
            f"{c['case']['name']:>22}: fast {tm['fast_wall']['median']:.3g} s/rep ({c['fast_over_draws']['median_of_medians']:.2f}x its draws), "
            f"strong {tm['strong_wall']['median']:.3g} s/rep -> x{s['speedup_equal_se']:.3g} at equal SE "
            f"[{s['speedup_equal_se_conservative_range'][0]:.3g}, {s['speedup_equal_se_conservative_range'][1]:.3g}]; "
            f"naive x{nv['speedup_equal_se']:.3g}; same RV: {c['validation']['same']} "
            f"(z {c['validation']['z_mean']:+.2f} / {c['validation']['z_var']:+.2f})"
        )
    tb = res.get("torch_batched")
    if tb and "skipped" not in tb:
        out.append(f"{'torch batched n200':>22}: numpy/torch x{tb['speed_ratio_numpy_over_torch']:.2f}, "
                   f"z vs theory {tb['z_torch_vs_theory']:+.2f}")
    out.append(res["target"]["line"])
    return "\n".join(out)


def run(quick: bool = False, seed: int = 0, out_dir=RESULTS_DIR, with_torch: bool | None = None) -> dict:
    """Run all cases, write <out_dir>/ridgeless[.quick].{json,md}, return the results dict.
    with_torch: the optional torch-batched comparison (default: full runs only)."""
    if with_torch is None:
        with_torch = not quick
    t0 = time.perf_counter()
    res = {"benchmark": NAME, "mode": "quick" if quick else "full", "seed": seed, "machine": machine_info(),
           "time_limit_s": TIME_LIMIT_S["quick" if quick else "full"]}
    limit = TIME_LIMIT_S["quick" if quick else "full"]
    plan = cases(quick)
    weights = [c.naive_budget_s + c.strong_budget_s + 1.0 for c in plan] + ([2.0] if with_torch else [])
    res["cases"] = []
    for i, c in enumerate(plan):
        remaining = limit - (time.perf_counter() - t0)
        res["cases"].append(bench_case(c, seed, max(remaining, 0.0) * weights[i] / sum(weights[i:])))
    if with_torch:
        res["torch_batched"] = bench_torch_batched(quick, seed, share_s=max(limit - (time.perf_counter() - t0), 0.0))
    h = next(c for c in res["cases"] if c["case"]["headline"])
    floors = {c["case"]["name"]: c["fast_over_draws"]["median_of_medians"] for c in res["cases"] if c["case"]["n"] == 1000}
    met_speed = bool(h["strong"]["speedup_equal_se"] >= TARGET_SPEEDUP_STRONG and h["validation"]["same"])
    met_floor = bool(all(f <= TARGET_FLOOR_RATIO for f in floors.values()))
    res["target"] = {
        "speedup_equal_se_strong_min": TARGET_SPEEDUP_STRONG,
        "fast_over_draws_max": TARGET_FLOOR_RATIO,
        "headline_case": h["case"]["name"],
        "speedup_equal_se_strong": h["strong"]["speedup_equal_se"],
        "speedup_equal_se_strong_conservative_low": h["strong"]["speedup_equal_se_conservative_range"][0],
        "speedup_equal_se_naive": h["naive"]["speedup_equal_se"],
        "fast_over_draws": floors,
        "same_random_variable": h["validation"]["same"],
        "met": met_speed and met_floor,
        "line": (f"n=1000, p=2000: x{h['strong']['speedup_equal_se']:.3g} over the strong baseline at equal SE "
                 f"(target >= {TARGET_SPEEDUP_STRONG:.0f}x: {'MET' if met_speed else 'NOT MET'}), "
                 f"x{h['naive']['speedup_equal_se']:.3g} over the naive one; fast / draws "
                 + ", ".join(f"{v:.2f}" for v in floors.values())
                 + f" (target <= {TARGET_FLOOR_RATIO}: {'MET' if met_floor else 'NOT MET'})"),
    }
    res["load_average_at_end"] = load_average()
    res["wall_seconds"] = time.perf_counter() - t0
    write_results(out_dir, NAME, quick, res, to_markdown(res))
    res["summary"] = summary(res)
    return res
