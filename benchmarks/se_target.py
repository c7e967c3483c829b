"""Whole-process yardstick: estimate the ridgeless excess risk to a target standard error.

    python -m benchmarks.se_target --method direct --se 0.015
    python -m benchmarks.se_target --method fast   --se 0.015

Draws replicates (direct: one at a time; fast: vectorised batches) until the running SE is at
or below --se, then prints one JSON line (method, samples, mean, SE, seconds inside Python).
Timing the two commands from outside (e.g. `/usr/bin/time -v`, or any A/B process timer)
gives the end-to-end cost of the same precision, interpreter start-up and imports included.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from claimcheck.sims.ridgeless import direct_risk_samples, fast_risk_samples


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.se_target", description=__doc__.splitlines()[0])
    ap.add_argument("--method", choices=["direct", "fast"], required=True)
    ap.add_argument("--se", type=float, required=True, help="target standard error of the mean risk")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--p", type=int, default=2000)
    ap.add_argument("--lam", type=float, default=0.0)
    ap.add_argument("--signal", type=float, default=1.0)
    ap.add_argument("--noise", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-seconds", type=float, default=120.0, help="give up (and say so) after this long")
    args = ap.parse_args(argv)
    if not args.se > 0:
        ap.error(f"--se={args.se}, must be > 0")

    t0 = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    sim = direct_risk_samples if args.method == "direct" else fast_risk_samples
    batch, min_samples = (1, 5) if args.method == "direct" else (100, 100)
    chunks, total = [], 0
    se = float("inf")
    while True:
        chunks.append(sim(args.n, args.p, args.signal, args.noise, args.lam, batch, rng))
        total += batch
        if total >= min_samples:
            x = np.concatenate(chunks)
            se = float(x.std(ddof=1) / np.sqrt(x.size))
            if se <= args.se or time.perf_counter() - t0 > args.max_seconds:
                break
    x = np.concatenate(chunks)
    print(json.dumps({
        "method": args.method, "n": args.n, "p": args.p, "lam": args.lam, "target_se": args.se,
        "samples": int(x.size), "mean": float(x.mean()), "se": se, "reached": bool(se <= args.se),
        "seconds_in_python": round(time.perf_counter() - t0, 4),
    }))
    return 0 if se <= args.se else 1


if __name__ == "__main__":
    sys.exit(main())
