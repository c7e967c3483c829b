"""Benchmark: Deep Bootstrap toy, batched SGD over replicates vs loops of single runs.

Targets (issue 4): a full Figure-7 reproduction (Real + Ideal World, Settings A and B,
>= 200 replicates per world, T = 1000 SGD steps) runs in seconds on 2 cores; the batched
simulator (:mod:`sims.deep_bootstrap`, all replicates as one (reps, B, d) array computation
per step) is compared with two loops of single runs:

* **strong baseline**: a hand-written single-run SGD loop (:func:`handwritten_run`: per step one
  row gather, one dot product and one axpy on d-vectors, nothing else), the fastest unbatched
  numpy implementation we know;
* **naive baseline**: the library function itself with reps = 1 (its per-step bookkeeping is
  paid by a single run).

Target: speed-up >= 10x over the strong baseline, and all agree statistically (|z| <= 4.89 on
the mean final test loss).

Noise control: repeats alternate the order (batched first / loop first); times are medians
with [min, max]; the loop runs only ``loop_runs`` single runs, timed per run.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from benchmarks._common import RESULTS_DIR, fmt_sig, load_average, machine_info, spread, write_results

NAME = "deep_bootstrap"
TARGET_SPEEDUP = 10.0
TARGET_FIG7_S = 10.0
Z_CRIT = 4.89


def handwritten_run(V, b, link: str, n: int, batch: int, eta: float, steps: int, rng: np.random.Generator) -> float:
    """One Real World SGD run written plainly (the strong baseline): n samples drawn once, a fresh
    permutation each epoch, floor(n/B) batches (drop_last), beta <- beta + (eta/B) X_b^T (y_b - X_b beta);
    returns the exact test loss at the end (same algorithm and loss as ``real_world_sgd_losses``)."""
    from claimcheck.sims import deep_bootstrap as S
    from claimcheck.theory import deep_bootstrap as T

    lam, U = np.linalg.eigh(V)
    root = U * np.sqrt(np.clip(lam, 0, None))
    s = float(np.sqrt(b @ V @ b))
    bar = T.link_coefficient(link, s) * b / s
    X = rng.standard_normal((n, V.shape[0])) @ root.T
    Y = S.link_function(link)(X @ b)
    beta = np.zeros(V.shape[0])
    per_epoch, step_size = n // batch, eta / batch
    for step in range(steps):
        j = step % per_epoch
        if j == 0:
            perm = rng.permutation(n)
        if batch == 1:
            i = perm[j]
            x = X[i]
            beta += (step_size * (Y[i] - x @ beta)) * x
        else:
            idx = perm[j * batch:(j + 1) * batch]
            x = X[idx]
            beta += step_size * (x.T @ (Y[idx] - x @ beta))
    D = beta - bar
    return float(T.best_linear_risk(link) + D @ V @ D)


def _case(link, n, reps, loop_runs, repeats, seed):
    from claimcheck.catalogue.deep_bootstrap import FIG7, learning_rate, model
    from claimcheck.sims import deep_bootstrap as S

    p = FIG7
    V, b = model(p["d"], p["exponent"])
    eta = learning_rate(p["d"], p["exponent"], p["batch"], p["eta_frac"])
    steps = [p["t_max"]]
    ss = np.random.SeedSequence([seed, n])
    rb, rl, rh = (np.random.default_rng(s) for s in ss.spawn(3))
    batched_t, loop_t, hand_t, xb, xl, xh = [], [], [], [], [], []
    for r in range(repeats):
        def run_batched():
            t0 = time.perf_counter()
            xb.append(S.real_world_sgd_losses(V, b, link, n, p["batch"], eta, p["t_max"], steps, reps, rb)[:, 0])
            batched_t.append((time.perf_counter() - t0) / reps)

        def run_loop():
            for _ in range(loop_runs):
                t0 = time.perf_counter()
                xl.append(S.real_world_sgd_losses(V, b, link, n, p["batch"], eta, p["t_max"], steps, 1, rl)[0, 0])
                loop_t.append(time.perf_counter() - t0)

        def run_hand():
            for _ in range(2 * loop_runs):
                t0 = time.perf_counter()
                xh.append(handwritten_run(V, b, link, n, p["batch"], eta, p["t_max"], rh))
                hand_t.append(time.perf_counter() - t0)

        order = (run_batched, run_hand, run_loop)
        for i in range(3):
            order[(i + r) % 3]()
    a, c, h = np.concatenate(xb), np.asarray(xl), np.asarray(xh)

    def z(u, v):
        return float((u.mean() - v.mean()) / math.sqrt(u.var(ddof=1) / u.size + v.var(ddof=1) / v.size))

    return {
        "link": link, "n": n, "reps_batched": reps, "loop_runs": len(loop_t), "hand_runs": len(hand_t), "repeats": repeats,
        "batched_s_per_run": spread(batched_t), "loop_s_per_run": spread(loop_t), "hand_s_per_run": spread(hand_t),
        "speedup": float(np.median(loop_t) / np.median(batched_t)),
        "speedup_strong": float(np.median(hand_t) / np.median(batched_t)),
        "batched_mean_final_loss": float(a.mean()), "loop_mean_final_loss": float(c.mean()),
        "hand_mean_final_loss": float(h.mean()),
        "z_batched_minus_loop": z(a, c), "z_batched_minus_hand": z(a, h),
        "agree": bool(abs(z(a, c)) <= Z_CRIT and abs(z(a, h)) <= Z_CRIT),
    }


def _figure7_time(reps, seed):
    from claimcheck.paper_figures import deep_bootstrap as F

    t0 = time.perf_counter()
    F.data(seed, reps=reps)
    return time.perf_counter() - t0


def to_markdown(res: dict) -> str:
    m = res["machine"]
    lines = [
        f"# Deep Bootstrap toy: batched SGD vs loop of single runs ({res['mode']} run)",
        "",
        f"- date (UTC): {m['date_utc']}; git: {m['git_revision']}; {m['platform']}; cpu_count {m['cpu_count']}; "
        f"python {m['python']}; numpy {m['numpy']}",
        f"- load average at start / end: {m['load_average_at_start']} / {res['load_average_at_end']} (shared machine)",
        f"- total wall time {res['wall_seconds']:.1f} s; seed {res['seed']}",
        f"- targets: speed-up >= {TARGET_SPEEDUP:.0f}x over the strong baseline; full Figure-7 data (2 settings x 2 worlds x "
        f"{res['figure7']['reps']} runs x 1000 steps) <= {TARGET_FIG7_S:.0f} s",
        "",
        "Real World SGD, Figure-7 defaults (d = 50, V = diag(k^-2), B = 1, eta = eta_max/2, T = 1000 steps).",
        "Seconds per SGD run, median [min, max]. Strong baseline: `handwritten_run` (a plain single-run loop: "
        "per step one gather, one dot product, one axpy); naive: the library function with reps = 1. "
        "z compares the mean final test loss of the batched runs with each baseline's.",
        "",
        "| setting | batched s/run | strong: hand-written s/run | speed-up (strong) | naive: reps = 1 s/run | speed-up (naive) | means batched / hand / naive | z hand, z naive |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in res["cases"]:
        bt, lt, ht = c["batched_s_per_run"], c["loop_s_per_run"], c["hand_s_per_run"]
        lines.append(
            f"| {c['link']}, n={c['n']} | {fmt_sig(bt['median'])} [{fmt_sig(bt['min'])}, {fmt_sig(bt['max'])}] ({c['reps_batched']} x {c['repeats']}) "
            f"| {fmt_sig(ht['median'])} [{fmt_sig(ht['min'])}, {fmt_sig(ht['max'])}] ({c['hand_runs']}) | **{c['speedup_strong']:.3g}x** "
            f"| {fmt_sig(lt['median'])} [{fmt_sig(lt['min'])}, {fmt_sig(lt['max'])}] ({c['loop_runs']}) | {c['speedup']:.3g}x "
            f"| {c['batched_mean_final_loss']:.4f} / {c['hand_mean_final_loss']:.4f} / {c['loop_mean_final_loss']:.4f} "
            f"| {c['z_batched_minus_hand']:+.2f}, {c['z_batched_minus_loop']:+.2f} |")
    f7 = res["figure7"]
    lines += ["", f"Full Figure-7 data (`paper_figures.deep_bootstrap.data`, {f7['reps']} runs per world and setting): "
              f"**{f7['seconds']:.2f} s**; target met: {res['target']['met']}."]
    return "\n".join(lines) + "\n"


def run(quick: bool = False, seed: int = 0, out_dir: Path = RESULTS_DIR) -> dict:
    t0 = time.perf_counter()
    machine = machine_info()
    reps, loop_runs, repeats = (200, 10, 2) if quick else (400, 20, 3)
    cases = [_case("identity", 20, reps, loop_runs, repeats, seed), _case("sign", 100, reps, loop_runs, repeats, seed)]
    f7_reps = 200 if quick else 400
    f7 = {"reps": f7_reps, "seconds": _figure7_time(f7_reps, seed)}
    met = all(c["speedup_strong"] >= TARGET_SPEEDUP and c["agree"] for c in cases) and f7["seconds"] <= TARGET_FIG7_S
    res = {"name": NAME, "mode": "quick" if quick else "full", "seed": seed, "machine": machine, "cases": cases,
           "figure7": f7, "target": {"speedup": TARGET_SPEEDUP, "figure7_seconds": TARGET_FIG7_S, "met": bool(met)},
           "load_average_at_end": load_average(), "wall_seconds": time.perf_counter() - t0}
    write_results(out_dir, NAME, quick, res, to_markdown(res))
    res["summary"] = "\n".join(
        f"{c['link']:>9} n={c['n']}: batched {c['batched_s_per_run']['median']:.3g} s/run, hand-written "
        f"{c['hand_s_per_run']['median']:.3g} s/run (x{c['speedup_strong']:.3g}), reps=1 loop "
        f"{c['loop_s_per_run']['median']:.3g} s/run (x{c['speedup']:.3g}), z={c['z_batched_minus_hand']:+.2f}/{c['z_batched_minus_loop']:+.2f}"
        for c in cases) + f"\n   Figure-7 data ({f7_reps} runs/world): {f7['seconds']:.2f} s; target met: {met}"
    return res
