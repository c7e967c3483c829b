"""Operating characteristics of the six GPU verdict rules (gpu_validation/rules.py).

For each rule: the false-pass rate under its nulls (results without the phenomenon, and the null's
edge: the statistic exactly at the claimed threshold) and the detection rate at the papers' effect
size, each measured through the rule's own statistic and check
(``operating_rates(rules.check(job), lambda rng: rules.statistic(job, cfg, rules.synthetic(...)))``)
at the seed counts the profiles use (3 and 5); binomial SEs. And the coverage of a 95% interval
for a mean over 3 (and 5) seeds with normal seed noise: Student t vs the percentile bootstrap the
jobs used before.

    python -m benchmarks.bench_gpu_verdicts [--quick]   # -> benchmarks/results/gpu_verdicts.{json,md}
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats as sps

if __package__ in (None, ""):  # pragma: no cover - run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import RESULTS_DIR, machine_info, write_results  # noqa: E402
from claimcheck.checks import operating_rates  # noqa: E402
from claimcheck.gpu_validation import rules  # noqa: E402

NAME = "gpu_verdicts"
SEED_COUNTS = (3, 5)

# (job, scenario, kind, phenomenon, effect, note). kind "null": the rule must not pass (false-pass
# rate <= its alpha); kind "effect": detection rate at the stated size.
SCENARIOS = [
    ("real_vs_ideal", "worlds part inside the window (gap 0.10)", "null", False, {"gap": 0.10}, ""),
    ("real_vs_ideal", "gap exactly at the tolerance (0.05)", "null", True, {"gap": 0.05}, "the null's edge"),
    ("real_vs_ideal", "Real World never overfits (gap 0.01)", "null", True, {"gap": 0.01, "overfits": False},
     "precondition: underpowered"),
    ("real_vs_ideal", "Real World never reaches its stopping time (gap 0.01)", "null", True, {"gap": 0.01, "stops": False},
     "precondition: underpowered"),
    ("real_vs_ideal", "gap 0.01 (paper: soft errors within ~1%)", "effect", True, {"gap": 0.01}, ""),
    ("real_vs_ideal", "gap 0.03", "effect", True, {"gap": 0.03}, ""),
    ("hypersphere", "S' error = test error", "null", False, {"sprime_excess": 0.0}, ""),
    ("hypersphere", "S' error - test error exactly 0.5", "null", False, {"sprime_excess": 0.5}, "the null's edge"),
    ("hypersphere", "S' error - test error 0.9 (paper: S' error ~1, test error < 0.1)", "effect", True,
     {"sprime_excess": 0.9}, ""),
    ("pac_bayes_mnist", "true risk of Q = the target 0.2", "null", False, {"risk": 0.2}, "bound's own delta + delta' = 0.035"),
    ("pac_bayes_mnist", "untrained prior (KL = 0) as good as the posterior", "null", False, {"risk": 0.08}, ""),
    ("pac_bayes_mnist", "risk 0.08, KL 100: certificate ~0.15 (Dziugaite & Roy: 0.16-0.22)", "effect", True, {}, ""),
    ("feature_calibration", "slope 0 (Bayes classifier)", "null", False, {"slope": 0.0}, ""),
    ("feature_calibration", "slope exactly 0.5", "null", False, {"slope": 0.5}, "the null's edge"),
    ("feature_calibration", "slope 1.0, seed SD 0.1 (paper: rates ~ p_c)", "effect", True, {"slope": 1.0}, ""),
    ("feature_calibration", "slope 0.8", "effect", True, {"slope": 0.8}, ""),
    ("norm_growth", "flat ||W - W0|| (slope 0)", "null", False, {"distance_slope": 0.0}, ""),
    ("norm_growth", "distance slope exactly 0.05 (the stated minimum)", "null", False, {"distance_slope": 0.05},
     "the null's edge"),
    ("norm_growth", "distance slope 0.3, test-error slope -0.3 (assumed size)", "effect", True, {"distance_slope": 0.3}, ""),
    ("deep_double_descent", "no peak, flat curve, seed SD 0.01", "null", False, {"height": 0.0, "shape": "flat"}, ""),
    ("deep_double_descent", "no peak, falling curve, seed SD 0.01", "null", False, {"height": 0.0, "shape": "decreasing"}, ""),
    ("deep_double_descent", "no peak, flat curve, seed SD 0.03 (3x the minimum height)", "null", False,
     {"height": 0.0, "shape": "flat", "noise": 0.03}, "valleys chosen on the test errors: the selection's worst case"),
    ("deep_double_descent", "peak 0.10 three widths before the interpolation threshold", "null", True,
     {"height": 0.10, "peak_at": 2}, "a bump, but not at the threshold"),
    ("deep_double_descent", "peak 0.02", "effect", True, {"height": 0.02}, ""),
    ("deep_double_descent", "peak 0.05", "effect", True, {"height": 0.05}, ""),
    ("deep_double_descent", "peak 0.10 (Nakkiran et al. 2020 Fig. 1, 20% noise)", "effect", True, {"height": 0.10}, ""),
]


def _draw(job, phenomenon, effect, n_seeds):
    cfg = dict(rules.DEFAULTS[job])
    kw = dict(effect) if job == "pac_bayes_mnist" else {**effect, "n_seeds": n_seeds}

    def draw(rng):
        return rules.statistic(job, cfg, rules.synthetic(job, cfg, rng, phenomenon=phenomenon, **kw))
    return draw


def rates(trials: int, pac_trials: int, seed: int) -> list[dict]:
    rows = []
    for k, (job, name, kind, phen, effect, note) in enumerate(SCENARIOS):
        counts = (1,) if job == "pac_bayes_mnist" else SEED_COUNTS
        for n in counts:
            t = pac_trials if job == "pac_bayes_mnist" else trials
            t0 = time.process_time()
            r = operating_rates(rules.check(job), _draw(job, phen, effect, n), trials=t, seed=seed + 1000 * k + n)
            rows.append({"job": job, "scenario": name, "kind": kind, "seeds": n if job != "pac_bayes_mnist" else "1 run",
                         "trials": t, "passed": r["passed"], "failed": r["failed"], "underpowered": r["underpowered"],
                         "se_passed": r["se"]["passed"], "note": note, "cpu_s": round(time.process_time() - t0, 2)})
    return rows


def coverage(trials: int, n_boot: int, seed: int) -> list[dict]:
    """Coverage of a 95% interval for the mean of n normal seeds: t vs percentile bootstrap."""
    rng = np.random.default_rng(seed)
    out = []
    for n in SEED_COUNTS:
        x = rng.normal(0.0, 1.0, (trials, n))
        m, s = x.mean(1), x.std(1, ddof=1) / math.sqrt(n)
        tc = sps.t.ppf(0.975, n - 1)
        t_cov = np.mean(np.abs(m) <= tc * s)
        hits = 0
        for lo in range(0, trials, 500):
            xb = x[lo:lo + 500]
            idx = rng.integers(0, n, (xb.shape[0], n_boot, n))
            bm = np.take_along_axis(xb[:, None, :].repeat(n_boot, 1), idx, 2).mean(2)
            q_lo, q_hi = np.quantile(bm, [0.025, 0.975], axis=1)
            hits += int(np.sum((q_lo <= 0) & (0 <= q_hi)))
        b_cov = hits / trials
        out.append({"seeds": n, "trials": trials, "n_boot": n_boot, "t": float(t_cov), "bootstrap": float(b_cov),
                    "se": math.sqrt(0.95 * 0.05 / trials)})
    return out


def _markdown(res: dict) -> str:
    a = rules.ALPHA
    lines = [f"# GPU verdict rules: false-pass and detection rates ({'quick' if res['quick'] else 'full'} run)", "",
             f"Generated by `python -m benchmarks.bench_gpu_verdicts` on {res['machine']['date_utc']} "
             f"(git {res['machine']['git_revision']}, load {res['machine']['load_average_at_start']}); "
             f"{res['cpu_s']:.0f} CPU s, {res['wall_s']:.0f} s wall.", "",
             "Each rate is measured through the rule's own statistic and check "
             "(`operating_rates(rules.check(job), lambda rng: rules.statistic(job, cfg, rules.synthetic(job, cfg, rng, ...)))`) "
             "on synthetic results with the keys and shapes of a real run (`rules.synthetic`: seed noise and curve shapes stated "
             "there). Stated alpha: false pass <= "
             f"{a:g} under every null (t intervals at level 1 - {a:g} over seeds, split over the parts of an AllOf; a "
             "statistic exactly at its threshold passes with probability <= alpha/2 per part). PAC-Bayes has one run and no "
             "seed axis: its certificate is compared exactly; under the null 'true risk = target' a pass needs the bound "
             "itself to fail, probability <= delta + delta' = 0.035. Binomial SE in brackets.", "",
             "| job | scenario | seeds | passed | failed | underpowered | trials | within alpha |",
             "|---|---|---|---|---|---|---|---|"]
    for r in res["rates"]:
        ok = "" if r["kind"] != "null" else ("yes" if r["passed"] <= (0.035 if r["job"] == "pac_bayes_mnist" else a) else "**NO**")
        tag = "null" if r["kind"] == "null" else "effect"
        note = f" ({r['note']})" if r["note"] else ""
        lines.append(f"| `{r['job']}` | {tag}: {r['scenario']}{note} | {r['seeds']} | {r['passed']:.3f} ({r['se_passed']:.3f}) | "
                     f"{r['failed']:.3f} | {r['underpowered']:.3f} | {r['trials']} | {ok} |")
    lines += ["", "## Coverage of a nominal 95% interval for a mean over seeds (normal seed noise)", "",
              "| seeds | Student t | percentile bootstrap | trials | SE |", "|---|---|---|---|---|"]
    for c in res["coverage"]:
        lines.append(f"| {c['seeds']} | {c['t']:.3f} | {c['bootstrap']:.3f} | {c['trials']} ({c['n_boot']} resamples) | {c['se']:.3f} |")
    lines += ["", "The rules use Student t over seeds (`claimcheck.checks.ThresholdCI`, `Band` on per-seed contrasts); the "
              "percentile bootstrap that decided the GPU verdicts before is gone.", ""]
    return "\n".join(lines)


def run(quick: bool = False, seed: int = 0, out_dir=RESULTS_DIR) -> dict:
    t0, c0 = time.perf_counter(), time.process_time()
    trials, pac_trials, cov_trials = (100, 40, 2000) if quick else (1000, 300, 20000)
    res = {"name": NAME, "quick": quick, "seed": seed, "machine": machine_info(), "alpha": rules.ALPHA,
           "rates": rates(trials, pac_trials, seed), "coverage": coverage(cov_trials, 2000 if not quick else 500, seed)}
    res["wall_s"], res["cpu_s"] = time.perf_counter() - t0, time.process_time() - c0
    bad = [r for r in res["rates"] if r["kind"] == "null" and r["passed"] > (0.035 if r["job"] == "pac_bayes_mnist" else rules.ALPHA)]
    res["target"] = {"met": not bad, "what": f"false-pass rate <= alpha ({rules.ALPHA}) under every null"}
    write_results(out_dir, NAME, quick, res, _markdown(res))
    det = {f"{r['job']}@{r['seeds']}": r["passed"] for r in res["rates"] if r["kind"] == "effect"}
    worst = max((r["passed"] for r in res["rates"] if r["kind"] == "null"), default=0.0)
    cov = ", ".join(f"{c['seeds']} seeds: t {c['t']:.3f} vs bootstrap {c['bootstrap']:.3f}" for c in res["coverage"])
    res["summary"] = (f"   worst false-pass rate over the nulls {worst:.3f} (alpha {rules.ALPHA}); {len(det)} detection rates; "
                      f"95% coverage {cov}; {res['cpu_s']:.0f} CPU s")
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = ap.parse_args(argv)
    print(run(args.quick, args.seed, args.out)["summary"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
