"""Benchmark: ridgeless / ridge Monte Carlo, direct lstsq loop vs Dumitriu-Edelman fast path.

Performance target (DESIGN.md, "Performance targets"): the fast path
(:func:`sims.ridgeless.fast_risk_samples`: bidiagonal Wishart spectrum + Rao-Blackwellised
risk, O(m) recursion) must be >= 100x faster than the direct lstsq loop
(:func:`sims.ridgeless.direct_risk_samples`) at n = 1000, p = 2000, and statistically
identical.

"Faster" is measured the way that matters for a Monte Carlo check: the **speed-up at equal
standard error**

    S = (t_direct * var_direct) / (t_fast * var_fast)

(seconds per replicate t, per-replicate variance var): the ratio of the wall time each
method needs to reach the same SE. It factors as (raw per-replicate speed ratio) x
(variance ratio from Rao-Blackwellisation).

Noise control (the machine is shared): every case runs R repeats; in each repeat the direct
block and the fast block are run back to back, in alternating order, so slow periods hit
both; timings are summarised by median and [min, max]; the per-repeat *paired* ratio is
reported too. var_direct comes from only a few dozen direct samples, so its 95% interval
(chi-square and bootstrap) is carried into a conservative lower bound on S.
"""
from __future__ import annotations

import os
import time
import zlib
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from benchmarks._common import RESULTS_DIR, fmt_sig, load_average, machine_info, spread, write_results
from claimcheck.sims.ridgeless import direct_risk_samples, fast_risk_samples
from claimcheck.theory.ridgeless import min_norm_risk_finite

NAME = "ridgeless"
TARGET_SPEEDUP = 100.0
Z_CRIT = float(stats.norm.isf(0.5e-6))  # two-sided alpha = 1e-6, as in the claim checks (~4.89)


@dataclass(frozen=True)
class Case:
    name: str
    n: int
    p: int
    lam: float
    repeats: int
    direct_budget_s: float  # wall seconds of direct replicates per case (split over repeats)
    direct_max_reps: int  # at most this many direct replicates per repeat (>= 1 always runs)
    fast_reps: int  # fast replicates per repeat (one vectorised call)
    signal: float = 1.0
    noise: float = 1.0
    headline: bool = False


def cases(quick: bool) -> list[Case]:
    """Direct work is bounded by a time budget (one replicate at a time, so the overshoot is
    at most one replicate per repeat): a loaded machine gives fewer direct samples and a
    wider SD interval, not a run that blows past its time limit."""
    if quick:
        return [
            Case("minnorm_n1000_p2000", 1000, 2000, 0.0, 3, 6.0, 6, 1000, headline=True),
            Case("ridge0.5_n1000_p2000", 1000, 2000, 0.5, 3, 1.5, 10, 1000),
            Case("minnorm_n200_p400", 200, 400, 0.0, 3, 1.0, 30, 1000),
        ]
    return [
        Case("minnorm_n1000_p2000", 1000, 2000, 0.0, 5, 18.0, 12, 2000, headline=True),
        Case("ridge0.5_n1000_p2000", 1000, 2000, 0.5, 5, 4.5, 20, 2000),
        Case("minnorm_n200_p400", 200, 400, 0.0, 5, 2.5, 60, 2000),
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
    return {
        "n_samples": int(x.size),
        "mean": float(x.mean()),
        "se": float(np.sqrt(var / x.size)),
        "sd": float(np.sqrt(var)),
        "var": var,
        "var_ci95_chi2": list(chi),
        "var_ci95_bootstrap": list(boot),
        "sd_rel_uncertainty_approx": float(1 / np.sqrt(2 * (x.size - 1))),  # normal theory, 1 sigma
        "skewness": float(stats.skew(x)),
    }


MIN_REPEATS = 3
TIME_LIMIT_S = {"quick": 15.0, "full": 50.0}  # whole-run wall budget (targets: < 20 s, < 60 s)


def bench_case(case: Case, seed: int, share_s: float = float("inf")) -> dict:
    """Interleaved timing + statistics for one (n, p, lam). share_s: wall seconds this case may
    use (from the run's deadline); past it no repeat beyond the MIN_REPEATS-th starts, and the
    direct slices shrink so that the case fits."""
    ss = np.random.SeedSequence([seed, zlib.crc32(case.name.encode())])
    s_warm, s_direct, s_fast, s_boot = ss.spawn(4)
    rng_d = np.random.default_rng(s_direct)
    rng_f = np.random.default_rng(s_fast)
    args = (case.n, case.p, case.signal, case.noise, case.lam)

    # Warm-up (BLAS thread pool, page faults, first-call overheads); not counted.
    rng_w = np.random.default_rng(s_warm)
    direct_risk_samples(*args, 1, rng_w)
    fast_risk_samples(*args, min(100, case.fast_reps), rng_w)

    d_samples, f_samples = [], []
    d_rep_wall, d_rep_cpu = [], []  # every direct replicate, timed on its own
    d_wall, f_wall, d_cpu, f_cpu, paired = [], [], [], [], []  # per repeat (block), per replicate
    slice_s = min(case.direct_budget_s, 0.75 * share_s) / case.repeats
    t_case = time.perf_counter()
    stopped_early = False
    for r in range(case.repeats):
        if r >= MIN_REPEATS and time.perf_counter() - t_case > share_s:
            stopped_early = True
            break
        def run_direct():
            walls, cpus = [], []
            while len(walls) < case.direct_max_reps and (not walls or sum(walls) < slice_s):
                x, w, c = _timed(lambda: direct_risk_samples(*args, 1, rng_d))
                d_samples.append(x)
                walls.append(w)
                cpus.append(c)
            d_rep_wall.extend(walls)
            d_rep_cpu.extend(cpus)
            d_wall.append(float(np.mean(walls)))
            d_cpu.append(float(np.mean(cpus)))

        def run_fast():
            x, w, c = _timed(lambda: fast_risk_samples(*args, case.fast_reps, rng_f))
            f_samples.append(x)
            f_wall.append(w / case.fast_reps)
            f_cpu.append(c / case.fast_reps)

        for step in ((run_direct, run_fast) if r % 2 == 0 else (run_fast, run_direct)):
            step()
        paired.append(d_wall[-1] / f_wall[-1])

    d = np.concatenate(d_samples)
    f = np.concatenate(f_samples)
    rng_b = np.random.default_rng(s_boot)
    est_d, est_f = _estimate(d, rng_b), _estimate(f, rng_b)

    # t_direct: median over individual direct replicates; t_fast: median over fast blocks.
    t_d, t_f = float(np.median(d_rep_wall)), float(np.median(f_wall))
    raw_ratio = t_d / t_f
    var_ratio = est_d["var"] / est_f["var"]
    speedup = raw_ratio * var_ratio
    # Conservative: the smallest paired time ratio and the lowest plausible direct variance
    # against the highest plausible fast variance (95% intervals, whichever method is lower).
    var_d_lo = min(est_d["var_ci95_chi2"][0], est_d["var_ci95_bootstrap"][0])
    var_d_hi = max(est_d["var_ci95_chi2"][1], est_d["var_ci95_bootstrap"][1])
    var_f_hi = max(est_f["var_ci95_chi2"][1], est_f["var_ci95_bootstrap"][1])
    var_f_lo = min(est_f["var_ci95_chi2"][0], est_f["var_ci95_bootstrap"][0])
    speedup_lo = min(paired) * var_d_lo / var_f_hi
    speedup_hi = max(paired) * var_d_hi / var_f_lo

    se_diff = float(np.hypot(est_d["se"], est_f["se"]))
    z = (est_d["mean"] - est_f["mean"]) / se_diff
    out = {
        "case": asdict(case),
        "repeats_done": len(paired),
        "stopped_early_for_time": stopped_early,
        "direct_slice_s": slice_s,
        "timing_s_per_replicate": {
            "direct_wall": spread(d_rep_wall),
            "direct_wall_block_means": spread(d_wall),
            "fast_wall": spread(f_wall),
            "direct_cpu": spread(d_rep_cpu),
            "fast_cpu": spread(f_cpu),
        },
        "raw_speed_ratio": {
            "median_of_medians": raw_ratio,
            "paired_per_repeat": spread(paired),
            "best_case_min_over_min": float(min(d_rep_wall) / min(f_wall)),
            "cpu_time_medians": float(np.median(d_rep_cpu) / np.median(f_cpu)),
        },
        "direct": est_d,
        "fast": est_f,
        "variance_ratio": var_ratio,
        "speedup_equal_se": speedup,
        "speedup_equal_se_conservative_range": [speedup_lo, speedup_hi],
        "agreement": {
            "z_direct_minus_fast": float(z),
            "p_value_two_sided": float(2 * stats.norm.sf(abs(z))),
            "z_crit": Z_CRIT,
            "agree": bool(abs(z) <= Z_CRIT),
        },
        # How long the direct loop would need to match the SE the fast run reached here.
        "direct_seconds_to_match_fast_se": float(est_f["n_samples"] * var_ratio * t_d),
        "fast_seconds_used": float(est_f["n_samples"] * t_f),
    }
    if case.lam == 0.0 and abs(case.p - case.n) >= 2:
        pred = min_norm_risk_finite(case.n, case.p, case.signal, case.noise)
        out["theory"] = {
            "prediction": pred,
            "z_direct": (est_d["mean"] - pred) / est_d["se"],
            "z_fast": (est_f["mean"] - pred) / est_f["se"],
        }
    return out


def bench_torch_batched(quick: bool, seed: int, n: int = 200, p: int = 400, share_s: float = float("inf")) -> dict:
    """Optional context: min-norm direct replicates batched through torch.linalg.lstsq (CPU)
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
    direct_risk_samples(n, p, signal, noise, 0.0, 2, rng)
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
            _, w, _ = _timed(lambda: direct_risk_samples(n, p, signal, noise, 0.0, batch, rng))
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

def _row_timing(c: dict) -> str:
    cs, tm = c["case"], c["timing_s_per_replicate"]
    dw, fw = tm["direct_wall"], tm["fast_wall"]
    pr = c["raw_speed_ratio"]["paired_per_repeat"]
    return (
        f"| {cs['name']} | {cs['n']} | {cs['p']} | {cs['lam']:g} "
        f"| {fmt_sig(dw['median'])} [{fmt_sig(dw['min'])}, {fmt_sig(dw['max'])}] ({dw['n']} reps, {cs['repeats']} blocks) "
        f"| {fmt_sig(fw['median'])} [{fmt_sig(fw['min'])}, {fmt_sig(fw['max'])}] ({cs['repeats']} x {cs['fast_reps']}) "
        f"| {c['raw_speed_ratio']['median_of_medians']:.0f} [{pr['min']:.0f}, {pr['max']:.0f}] "
        f"| {c['raw_speed_ratio']['best_case_min_over_min']:.0f} | {c['raw_speed_ratio']['cpu_time_medians']:.0f} |"
    )


def _row_stats(c: dict) -> str:
    cs, d, f = c["case"], c["direct"], c["fast"]
    lo = np.sqrt(min(d["var_ci95_chi2"][0], d["var_ci95_bootstrap"][0]))
    hi = np.sqrt(max(d["var_ci95_chi2"][1], d["var_ci95_bootstrap"][1]))
    ag = c["agreement"]
    th = c.get("theory")
    th_s = f"{th['prediction']:.5g}" if th else "-"
    return (
        f"| {cs['name']} | {d['mean']:.4f} ± {d['se']:.4f} | {f['mean']:.5f} ± {f['se']:.5f} | {th_s} "
        f"| {ag['z_direct_minus_fast']:+.2f} ({'agree' if ag['agree'] else 'DISAGREE'}) "
        f"| {fmt_sig(d['sd'])} [{fmt_sig(lo)}, {fmt_sig(hi)}] | {fmt_sig(f['sd'])} | {c['variance_ratio']:.3g} |"
    )


def _row_speedup(c: dict) -> str:
    lo, hi = c["speedup_equal_se_conservative_range"]
    ok = "yes" if lo >= TARGET_SPEEDUP else ("yes (point)" if c["speedup_equal_se"] >= TARGET_SPEEDUP else "NO")
    return (
        f"| {c['case']['name']} | {c['raw_speed_ratio']['median_of_medians']:.3g} | {c['variance_ratio']:.3g} "
        f"| **{c['speedup_equal_se']:.3g}** | [{lo:.3g}, {hi:.3g}] | {ok} "
        f"| {fmt_sig(c['fast_seconds_used'])} s vs {fmt_sig(c['direct_seconds_to_match_fast_se'])} s |"
    )


def to_markdown(res: dict) -> str:
    m = res["machine"]
    lines = [
        f"# Ridgeless Monte Carlo: direct lstsq loop vs fast path ({res['mode']} run)",
        "",
        f"- date (UTC): {m['date_utc']}; git: {m['git_revision']}; {m['platform']}; "
        f"cpu_count {m['cpu_count']} (affinity {m['cpu_affinity']}); python {m['python']}; "
        f"numpy {m['numpy']}; scipy {m['scipy']}",
        f"- load average at start / end: {m['load_average_at_start']} / {res['load_average_at_end']} "
        "(shared machine: other jobs were running, so absolute times are noisy; ratios are interleaved)",
        f"- total benchmark wall time: {res['wall_seconds']:.1f} s; seed {res['seed']}",
        f"- target (DESIGN.md): speed-up at equal SE >= {TARGET_SPEEDUP:.0f}x at n=1000, p=2000, "
        f"and statistical agreement (|z| <= {Z_CRIT:.2f}, two-sided alpha 1e-6)",
        "",
        "## Seconds per replicate",
        "",
        "Wall seconds, median [min, max]: direct over individual replicates, fast over blocks "
        "(one vectorised call of `fast_reps` replicates each). Raw ratio = median/median, with the "
        "min and max of the per-repeat paired ratio; best case = fastest direct replicate / fastest "
        "fast block; cpu = ratio of median process CPU times.",
        "",
        "| case | n | p | lam | direct | fast | raw ratio [paired min, max] | best case | cpu |",
        "|---|---|---|---|---|---|---|---|---|",
        *[_row_timing(c) for c in res["cases"]],
        "",
        "## Estimates and per-replicate spread",
        "",
        "Mean ± SE of the excess risk; z = (direct - fast) / sqrt(SE_d^2 + SE_f^2). "
        "SD = per-replicate standard deviation; the direct SD comes from few samples, "
        "so its 95% interval (widest of chi-square and bootstrap) is shown.",
        "",
        "| case | direct | fast | theory | z | SD direct [95%] | SD fast | var ratio |",
        "|---|---|---|---|---|---|---|---|",
        *[_row_stats(c) for c in res["cases"]],
        "",
        "## Speed-up at equal standard error",
        "",
        "S = (t_direct var_direct) / (t_fast var_fast) = raw ratio x variance ratio: how many times "
        "longer the direct loop needs to reach the same SE. The range combines the smallest/largest "
        "paired time ratio with the 95% variance intervals. Last column: time the fast path used here "
        "vs the time the direct loop would need for the same SE.",
        "",
        "| case | raw ratio | var ratio | S | S range | >= 100x | same SE: fast vs direct |",
        "|---|---|---|---|---|---|---|",
        *[_row_speedup(c) for c in res["cases"]],
    ]
    tb = res.get("torch_batched")
    if tb:
        lines += ["", "## Optional: torch-batched direct lstsq (CPU), context only", ""]
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
                f"| numpy lstsq loop | {fmt_sig(nw['median'])} [{fmt_sig(nw['min'])}, {fmt_sig(nw['max'])}] |",
                f"| torch.linalg.lstsq batched | {fmt_sig(tw['median'])} [{fmt_sig(tw['min'])}, {fmt_sig(tw['max'])}] |",
                "",
                f"numpy/torch speed ratio {tb['speed_ratio_numpy_over_torch']:.2f}; torch mean "
                f"{tb['torch_mean']:.4f} ± {tb['torch_se']:.4f} vs theory {tb['theory']:.4f} "
                f"(z = {tb['z_torch_vs_theory']:+.2f}). Batching the direct method is a constant "
                "factor; it does not approach the fast path.",
            ]
    return "\n".join(lines) + "\n"


def summary(res: dict) -> str:
    out = []
    for c in res["cases"]:
        lo, hi = c["speedup_equal_se_conservative_range"]
        tm = c["timing_s_per_replicate"]
        out.append(
            f"{c['case']['name']:>22}: direct {tm['direct_wall']['median']:.3g} s/rep, fast "
            f"{tm['fast_wall']['median']:.3g} s/rep, raw x{c['raw_speed_ratio']['median_of_medians']:.0f}, "
            f"var ratio {c['variance_ratio']:.3g}, equal-SE speed-up x{c['speedup_equal_se']:.3g} "
            f"[{lo:.3g}, {hi:.3g}], z={c['agreement']['z_direct_minus_fast']:+.2f}"
        )
    tb = res.get("torch_batched")
    if tb and "skipped" not in tb:
        out.append(f"{'torch batched n200':>22}: numpy/torch x{tb['speed_ratio_numpy_over_torch']:.2f}, "
                   f"z vs theory {tb['z_torch_vs_theory']:+.2f}")
    h = next(c for c in res["cases"] if c["case"]["headline"])
    verdict = "MET" if (h["speedup_equal_se"] >= TARGET_SPEEDUP and h["agreement"]["agree"]) else "NOT MET"
    out.append(f"target (>= {TARGET_SPEEDUP:.0f}x at equal SE, statistically identical) at n=1000, p=2000: {verdict}")
    return "\n".join(out)


def run(quick: bool = False, seed: int = 0, out_dir=RESULTS_DIR, with_torch: bool | None = None) -> dict:
    """Run all cases, write <out_dir>/ridgeless[.quick].{json,md}, return the results dict.
    with_torch: the optional torch-batched comparison (default: full runs only)."""
    if with_torch is None:
        with_torch = not quick
    t0 = time.perf_counter()
    res = {"benchmark": NAME, "mode": "quick" if quick else "full", "seed": seed, "machine": machine_info(),
           "time_limit_s": TIME_LIMIT_S["quick" if quick else "full"]}
    # Share the remaining wall budget among the remaining cases in proportion to their planned
    # direct work (a loaded machine shrinks the direct samples, not the time limit).
    limit = TIME_LIMIT_S["quick" if quick else "full"]
    plan = cases(quick)
    weights = [c.direct_budget_s + 0.5 for c in plan] + ([0.1 * sum(c.direct_budget_s for c in plan)] if with_torch else [])
    res["cases"] = []
    for i, c in enumerate(plan):
        remaining = limit - (time.perf_counter() - t0)
        share = max(remaining, 0.0) * weights[i] / sum(weights[i:])
        res["cases"].append(bench_case(c, seed, share))
    if with_torch:
        res["torch_batched"] = bench_torch_batched(quick, seed, share_s=max(limit - (time.perf_counter() - t0), 0.0))
    h = next(c for c in res["cases"] if c["case"]["headline"])
    res["target"] = {
        "speedup_equal_se_min": TARGET_SPEEDUP,
        "headline_case": h["case"]["name"],
        "speedup_equal_se": h["speedup_equal_se"],
        "speedup_equal_se_conservative_low": h["speedup_equal_se_conservative_range"][0],
        "agree": h["agreement"]["agree"],
        "met": bool(h["speedup_equal_se"] >= TARGET_SPEEDUP and h["agreement"]["agree"]),
    }
    res["load_average_at_end"] = load_average()
    res["wall_seconds"] = time.perf_counter() - t0
    write_results(out_dir, NAME, quick, res, to_markdown(res))
    res["summary"] = summary(res)
    return res
