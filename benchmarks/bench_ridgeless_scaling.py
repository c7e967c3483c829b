"""Scaling of the ridgeless fast path, n = 1e3 ... 1e6 (p = 2n), beside where the direct methods stop.

    python -m benchmarks.run --only scaling          # ~3-5 min on 2 shared cores; not part of `make bench`

For each n and lam in {0, 0.5} the fast path (:func:`sims.ridgeless.fast_risk_samples`) is run
in a few repeats: seconds per replicate (median [min, max] over repeats), the per-replicate SD of
its Rao-Blackwellised risk, the replicates a fixed standard error needs ((SD / SE)^2, at least 2),
the time that takes, the peak memory of one call (``tracemalloc``, which sees numpy's buffers),
and the factor above its own random draws.

The direct methods are timed at small sizes only and extrapolated by their flop counts:

* strong baseline (:func:`sims.ridgeless.bartlett_risk_samples`): per replicate m^2 / 2 normals and
  one ``dtrtri`` (m^3 / 3 flops), memory ~2 x 8 m^2 bytes (the factor and LAPACK's copy);
* naive baseline (:func:`sims.ridgeless.direct_risk_samples`, ``lstsq``): O(n p m) flops, memory
  ~8 n p bytes for X plus ``gelsd``'s copies (~3 x 8 n p bytes measured by the peak here).

A direct method is called infeasible at the first n where its memory would exceed this
machine's RAM or one replicate would take more than an hour (extrapolated; the rows say which).
"""
from __future__ import annotations

import math
import os
import time
import tracemalloc

import numpy as np

from benchmarks._common import RESULTS_DIR, fmt_sig, load_average, machine_info, spread, write_results
from claimcheck.sims import ridgeless as sr

NAME = "ridgeless_scaling"
SE_TARGET = 1e-5  # absolute SE of the mean excess risk (risk ~ 1.5 at p = 2n, signal = noise = 1)
HOUR = 3600.0


def _ram_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return None


def _peak_bytes(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _fast_plan(quick: bool):
    """(n, lam, reps per call, repeats). Few replicates at large n: their SD is tiny."""
    sizes = [1_000, 10_000, 100_000] if quick else [1_000, 10_000, 100_000, 1_000_000]
    reps = {1_000: 4096, 10_000: 400, 100_000: 40, 1_000_000: 4}
    plan = []
    for n in sizes:
        for lam in (0.0, 0.5):
            r = reps[n] if lam == 0.0 or n <= 10_000 else max(4, reps[n] // 4)
            plan.append((n, lam, r, 2 if (quick or n >= 100_000) else 3))
    return plan


def _fast_row(n, lam, reps, repeats, seed):
    p = 2 * n
    m, dof = min(n, p), max(n, p)
    rng = np.random.default_rng(np.random.SeedSequence([seed, n, int(lam * 1000)]))
    sr.fast_risk_samples(n, p, 1.0, 1.0, lam, min(reps, 8), rng)  # warm-up
    walls, draws, xs = [], [], []
    for r in range(repeats):
        def fast():
            t0 = time.perf_counter()
            xs.append(sr.fast_risk_samples(n, p, 1.0, 1.0, lam, reps, rng))
            walls.append((time.perf_counter() - t0) / reps)

        def draw():
            t0 = time.perf_counter()
            block = max(1, min(reps, sr._BLOCK_DRAWS // m))
            for start in range(0, reps, block):
                b = min(block, reps - start)
                sr._gamma_draws(dof, m, b, sr._shifted_layout(m, b, n * lam) if lam > 0 else sr._layout(m, b, True)[1], rng)
            draws.append((time.perf_counter() - t0) / reps)

        for step in ((fast, draw) if r % 2 == 0 else (draw, fast)):
            step()
    x = np.concatenate(xs)
    sd = float(x.std(ddof=1))
    need = max(2, math.ceil((sd / SE_TARGET) ** 2))
    t = float(np.median(walls))
    peak = _peak_bytes(lambda: sr.fast_risk_samples(n, p, 1.0, 1.0, lam, reps, rng))
    return {
        "n": n, "p": p, "lam": lam, "reps_per_call": reps, "repeats": repeats,
        "s_per_replicate": spread(walls), "draws_s_per_replicate": spread(draws),
        "fast_over_draws": t / float(np.median(draws)),
        "mean": float(x.mean()), "se": float(sd / math.sqrt(x.size)), "sd": sd, "samples": int(x.size),
        "replicates_for_se": need, "seconds_for_se": need * t,
        "peak_bytes_one_call": int(peak), "peak_bytes_per_replicate": peak / reps,
    }


def _baseline_fits(quick: bool, seed: int):
    """Time (1-3 replicates each) the strong and naive baselines at small n, p = 2n, lam = 0;
    fit t = c * n^3 (both are cubic at p = 2n) through the largest measured size."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 99]))
    out = {}
    sizes = {"strong": [500, 1000, 2000] if quick else [500, 1000, 2000, 4000],
             "naive": [250, 500, 1000] if quick else [250, 500, 1000, 1500]}
    fns = {"strong": sr.bartlett_risk_samples, "naive": sr.direct_risk_samples}
    for kind, ns in sizes.items():
        rows = []
        fns[kind](ns[0], 2 * ns[0], 1.0, 1.0, 0.0, 1, rng)  # warm-up (BLAS, first-call costs)
        for n in ns:
            k = 3 if n <= 1000 else 1
            t0 = time.perf_counter()
            fns[kind](n, 2 * n, 1.0, 1.0, 0.0, k, rng)
            t = (time.perf_counter() - t0) / k
            peak = _peak_bytes(lambda: fns[kind](n, 2 * n, 1.0, 1.0, 0.0, 1, rng))
            rows.append({"n": n, "s_per_replicate": t, "peak_bytes": int(peak)})
        big = rows[-1]
        out[kind] = {"measured": rows, "c_time_n3": big["s_per_replicate"] / big["n"] ** 3,
                     "c_mem_n2": big["peak_bytes"] / big["n"] ** 2}
    return out


def _baseline_at(fit: dict, n: int, ram: int | None) -> dict:
    t = fit["c_time_n3"] * n**3
    mem = fit["c_mem_n2"] * n**2
    measured = next((r for r in fit["measured"] if r["n"] == n), None)
    if measured:
        t, mem = measured["s_per_replicate"], measured["peak_bytes"]
    reasons = []
    if ram and mem > ram:
        reasons.append(f"memory {mem / 2**30:.3g} GiB > RAM {ram / 2**30:.3g} GiB")
    if t > HOUR:
        reasons.append(f"{t / HOUR:.3g} h per replicate")
    return {"s_per_replicate": t, "bytes": mem, "measured": bool(measured), "infeasible": "; ".join(reasons) or None}


def to_markdown(res: dict) -> str:
    m = res["machine"]
    ram = res["ram_bytes"]
    lines = [
        f"# Ridgeless fast path: scaling n = 1e3 ... 1e6 (p = 2n) ({res['mode']} run)",
        "",
        f"- date (UTC): {m['date_utc']}; git: {m['git_revision']}; {m['platform']}; cpu_count {m['cpu_count']}; "
        f"RAM {ram / 2**30:.3g} GiB; python {m['python']}; numpy {m['numpy']}; scipy {m['scipy']}; "
        f"BLAS threads {m['thread_env'] or 'default'}",
        f"- load average at start / end: {m['load_average_at_start']} / {res['load_average_at_end']} (shared machine)",
        f"- total wall time {res['wall_seconds']:.1f} s; seed {res['seed']}; signal = noise = 1; "
        f"fixed SE target {SE_TARGET:g} (absolute, on a risk of ~1.5 (lam = 0) / ~0.9 (lam = 0.5))",
        "",
        "## Fast path",
        "",
        "s/replicate: median [min, max] over repeats of one call of `reps` replicates; fast / draws: the "
        "same call against its gamma draws alone; replicates for SE = (SD / SE)^2 (at least 2); peak = "
        "`tracemalloc` peak of one call.",
        "",
        "| n | lam | reps x repeats | s / replicate | fast / draws | SD / replicate | replicates for SE | time for SE | peak memory (one call) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in res["fast"]:
        s = r["s_per_replicate"]
        lines.append(
            f"| {r['n']:.0e} | {r['lam']:g} | {r['reps_per_call']} x {r['repeats']} | {fmt_sig(s['median'])} [{fmt_sig(s['min'])}, {fmt_sig(s['max'])}] "
            f"| {r['fast_over_draws']:.2f} | {fmt_sig(r['sd'])} | {r['replicates_for_se']} | {fmt_sig(r['seconds_for_se'])} s "
            f"| {r['peak_bytes_one_call'] / 2**20:.3g} MiB |")
    lines += [
        "",
        "## Direct methods (lam = 0): measured at small n, extrapolated by t ~ n^3, memory ~ n^2",
        "",
        "| baseline | measured (n: s / replicate, peak MiB) | fit |",
        "|---|---|---|",
    ]
    for kind, label in (("strong", "Bartlett + dtrtri"), ("naive", "lstsq loop")):
        f = res["baselines"][kind]
        meas = "; ".join(f"{r['n']}: {fmt_sig(r['s_per_replicate'])} s, {r['peak_bytes'] / 2**20:.3g} MiB" for r in f["measured"])
        lines.append(f"| {label} | {meas} | t = {f['c_time_n3']:.3g} n^3 s, memory = {f['c_mem_n2']:.3g} n^2 bytes |")
    lines += [
        "",
        "## Side by side, lam = 0: one replicate, and the fixed SE",
        "",
        "Same random variable for fast and strong (same SD, so the same replicate count for the SE target); "
        "the naive baseline's SD is larger (not Rao-Blackwellised), so its time for the SE is longer still "
        "and is not shown. (e) = extrapolated; infeasible = memory over this machine's RAM or > 1 h per replicate.",
        "",
        "| n | fast s / rep | strong s / rep | strong memory | naive s / rep | naive memory | time for SE: fast vs strong |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in (r for r in res["fast"] if r["lam"] == 0.0):
        st, nv = res["side_by_side"][str(r["n"])]["strong"], res["side_by_side"][str(r["n"])]["naive"]

        def cell(b):
            tag = "" if b["measured"] else " (e)"
            flag = f" — infeasible: {b['infeasible']}" if b["infeasible"] else ""
            return f"{fmt_sig(b['s_per_replicate'])}{tag}{flag}", f"{b['bytes'] / 2**30:.3g} GiB{tag}"

        s_t, s_m = cell(st)
        n_t, n_m = cell(nv)
        lines.append(
            f"| {r['n']:.0e} | {fmt_sig(r['s_per_replicate']['median'])} | {s_t} | {s_m} | {n_t} | {n_m} "
            f"| {fmt_sig(r['seconds_for_se'])} s vs {fmt_sig(r['replicates_for_se'] * st['s_per_replicate'])} s |")
    first = res["first_infeasible"]
    lines += ["", f"First infeasible n (p = 2n) on this machine: strong baseline {first['strong']}, "
              f"naive baseline {first['naive']}; the fast path runs at every n in the table."]
    return "\n".join(lines) + "\n"


def run(quick: bool = False, seed: int = 0, out_dir=RESULTS_DIR) -> dict:
    t0 = time.perf_counter()
    res = {"benchmark": NAME, "mode": "quick" if quick else "full", "seed": seed, "machine": machine_info(),
           "ram_bytes": _ram_bytes(), "se_target": SE_TARGET}
    res["fast"] = [_fast_row(n, lam, reps, repeats, seed) for n, lam, reps, repeats in _fast_plan(quick)]
    res["baselines"] = _baseline_fits(quick, seed)
    res["side_by_side"] = {}
    first = {"strong": None, "naive": None}
    for n in [1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000]:
        row = {k: _baseline_at(res["baselines"][k], n, res["ram_bytes"]) for k in ("strong", "naive")}
        res["side_by_side"][str(n)] = row
        for k in first:
            if first[k] is None and row[k]["infeasible"]:
                first[k] = f"n = {n:.0e} ({row[k]['infeasible']})"
    res["first_infeasible"] = first
    lam0 = {r["n"]: r for r in res["fast"] if r["lam"] == 0.0}
    res["target"] = {"met": True, "largest_n": max(lam0)}  # a measurement, no target of its own
    res["load_average_at_end"] = load_average()
    res["wall_seconds"] = time.perf_counter() - t0
    write_results(out_dir, NAME, quick, res, to_markdown(res))
    res["summary"] = "\n".join(
        f"n={r['n']:.0e} lam={r['lam']:g}: {r['s_per_replicate']['median']:.3g} s/rep ({r['fast_over_draws']:.2f}x draws), "
        f"SD {r['sd']:.3g}, {r['replicates_for_se']} reps for SE {SE_TARGET:g}, peak {r['peak_bytes_one_call'] / 2**20:.3g} MiB"
        for r in res["fast"]) + f"\nfirst infeasible: strong {first['strong']}; naive {first['naive']}"
    return res
